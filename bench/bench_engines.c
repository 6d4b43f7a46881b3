/* bench_engines.c — the three forward engines on the same tiles and inputs.
 *
 * 64x64 and 128x128 tiles (rows x physical columns), 2.5 ohm wire segments,
 * finite-gain TIAs (the defaults of ssp_tile_params_default), random cell
 * conductances in [10, 100] uS and 200 random input vectors in [0, 0.2] V,
 * fixed seeds. Every figure is measured in this run; the speedup is a ratio
 * of two timings taken back to back. The spice time includes loading the
 * netlist once per batch, as the engine does. Last line:
 *   BENCH engines size=128 ... nodal_speedup=<spice/nodal> size64_...=... */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ssp_engine.h"
#include "ssp_nodal.h"

enum { VECTORS = 200 };
/* Vectors pushed through ngspice per size: all 200 at 64x64; at 128x128 the
 * streamed transient with the TIAs' rail B-sources costs seconds per vector
 * (measured), so a subset keeps the bench near a minute; per-vector times
 * and the agreement are computed over the vectors each engine ran. */
static const size_t SPICE_VECTORS_64 = 200, SPICE_VECTORS_128 = 20;
static const double G_LO_S = 10e-6, G_HI_S = 100e-6; /* cell conductance range (S) */
static const double V_HI_V = 0.2;                    /* input range top (V) */
static const double FLOOR_V = 1e-12; /* outputs below this compared absolutely (V) */

struct result {
    double ideal_ms, nodal_ms, spice_ms, factor_ms, max_rel;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

static int run_size(ssp_ctx *ctx, ssp_spice *spice, size_t n, struct result *r)
{
    ssp_tile_params p;
    ssp_engine *e[3] = {NULL, NULL, NULL};
    double *g, *v, *out[3], t0;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    size_t i, ks = n <= 64 ? SPICE_VECTORS_64 : SPICE_VECTORS_128;
    int k, rc = SSP_OK;

    ssp_tile_params_default(&p);
    p.rows = p.cols = n;
    g = malloc(n * n * sizeof *g);
    v = malloc(VECTORS * n * sizeof *v);
    for (k = 0; k < 3; k++) out[k] = malloc(VECTORS * n * sizeof *out[k]);
    gsl_rng_set(rng, 20261128 + n);
    for (i = 0; i < n * n; i++) g[i] = G_LO_S + (G_HI_S - G_LO_S) * gsl_rng_uniform(rng);
    for (i = 0; i < VECTORS * n; i++) v[i] = V_HI_V * gsl_rng_uniform(rng);
    for (k = 0; k < 3 && !rc; k++) {
        rc = ssp_engine_create(&e[k], ctx, k, &p, spice);
        if (!rc) rc = ssp_engine_set_conductances(e[k], g);
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_engine_run(e[0], v, VECTORS, out[0], NULL);
        r->ideal_ms = (now_ms() - t0) / VECTORS;
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_nodal_factor(ssp_engine_nodal(e[1]));
        r->factor_ms = now_ms() - t0;
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_engine_run(e[1], v, VECTORS, out[1], NULL);
        r->nodal_ms = (now_ms() - t0) / VECTORS;
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_engine_run(e[2], v, ks, out[2], NULL);
        r->spice_ms = (now_ms() - t0) / (double)ks;
    }
    r->max_rel = 0;
    for (i = 0; !rc && i < ks * n; i++) {
        double d = fabs(out[1][i] - out[2][i]) /
                   fmax(fmax(fabs(out[1][i]), fabs(out[2][i])), FLOOR_V);
        if (d > r->max_rel) r->max_rel = d;
    }
    for (k = 0; k < 3; k++) {
        ssp_engine_destroy(&e[k]);
        free(out[k]);
    }
    free(g);
    free(v);
    gsl_rng_free(rng);
    return rc;
}

int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_spice *spice = NULL;
    struct result r[2];
    const size_t sizes[2] = {64, 128};
    int rc, s;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (ssp_ctx_create(&ctx)) return 1;
    rc = ssp_spice_create(&spice, ctx, NULL);
    for (s = 0; s < 2 && !rc; s++) {
        rc = run_size(ctx, spice, sizes[s], &r[s]);
        if (!rc)
            printf("size %zu: ideal %.4f ms/vec, nodal %.4f ms/vec (factor %.1f ms), spice %.3f "
                   "ms/vec (%zu vectors), nodal vs spice max rel %.3e, nodal speedup %.1fx\n",
                   sizes[s], r[s].ideal_ms, r[s].nodal_ms, r[s].factor_ms, r[s].spice_ms,
                   sizes[s] <= 64 ? SPICE_VECTORS_64 : SPICE_VECTORS_128, r[s].max_rel, r[s].spice_ms / r[s].nodal_ms);
    }
    if (rc) {
        fprintf(stderr, "bench_engines: %s\n", ssp_ctx_errmsg(ctx));
        ssp_spice_destroy(&spice);
        ssp_ctx_destroy(&ctx);
        return 1;
    }
    printf("BENCH engines size=128 ideal_ms_per_vec=%.4f nodal_ms_per_vec=%.4f "
           "spice_ms_per_vec=%.3f nodal_factor_ms=%.1f nodal_vs_spice_max_rel=%.2e "
           "nodal_speedup=%.1f size64_ideal_ms_per_vec=%.4f size64_nodal_ms_per_vec=%.4f "
           "size64_spice_ms_per_vec=%.3f size64_nodal_factor_ms=%.1f "
           "size64_nodal_vs_spice_max_rel=%.2e size64_nodal_speedup=%.1f\n",
           r[1].ideal_ms, r[1].nodal_ms, r[1].spice_ms, r[1].factor_ms, r[1].max_rel,
           r[1].spice_ms / r[1].nodal_ms, r[0].ideal_ms, r[0].nodal_ms, r[0].spice_ms,
           r[0].factor_ms, r[0].max_rel, r[0].spice_ms / r[0].nodal_ms);
    ssp_spice_destroy(&spice);
    ssp_ctx_destroy(&ctx);
    return 0;
}
