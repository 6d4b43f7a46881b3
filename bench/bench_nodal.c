/* bench_nodal.c — the nodal engine's two read paths on a training-like load.
 *
 * One 128x128 tile (defaults of ssp_tile_params_default: 1R cells, 2.5 ohm
 * wire segments, finite-gain TIAs), random conductances in [10, 100] uS and
 * fixed seeds. A "step" changes STEP_CELLS random cells to new random values
 * and then reads BATCH random input vectors in [0, 0.2] V, as one training
 * step does to one tile. Both solvers borrow the same circuit: the reference
 * path (MNA + KLU refactor + solves) and the automatic path (fast when it
 * applies). Every step's outputs are compared; times are the means over the
 * same STEPS steps, taken back to back in this run. OpenBLAS runs on one
 * thread: the fast path's dense calls are small (128 x 129 x rank), and
 * threads cost more than they give on them (measured here: 13.4 vs 9.0 ms per
 * step on the shared 2-core machine). Last line:
 *   BENCH nodal size=128 klu_ms_per_step=.. fast_ms_per_step=.. speedup=..
 *   max_rel_diff=.. */
#include <cblas.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ssp_nodal.h"

enum { SIZE = 128, STEPS = 40, STEP_CELLS = 20, BATCH = 32 };
static const double G_LO_S = 10e-6, G_HI_S = 100e-6; /* cell conductance range (S) */
static const double V_HI_V = 0.2;                    /* input range top (V) */
static const double FLOOR_V = 1e-12; /* outputs below this compared absolutely (V) */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *ref = NULL, *fast = NULL;
    ssp_nodal_stats sr, sf;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    size_t n = SIZE, i;
    double *g = malloc(n * n * sizeof *g), *v = malloc(BATCH * n * sizeof *v);
    double *o_ref = malloc(BATCH * n * sizeof *o_ref), *o_fast = malloc(BATCH * n * sizeof *o_fast);
    double t0, t_ref = 0, t_fast = 0, f_ref, f_fast, max_rel = 0;
    int rc, s;

    setvbuf(stdout, NULL, _IOLBF, 0);
    openblas_set_num_threads(1);
    if (ssp_ctx_create(&ctx)) return 1;
    ssp_tile_params_default(&p);
    p.rows = p.cols = n;
    gsl_rng_set(rng, 20261201);
    for (i = 0; i < n * n; i++) g[i] = G_LO_S + (G_HI_S - G_LO_S) * gsl_rng_uniform(rng);
    for (i = 0; i < BATCH * n; i++) v[i] = V_HI_V * gsl_rng_uniform(rng);
    rc = ssp_circuit_create(&c, ctx, &p);
    if (!rc) rc = ssp_circuit_set_conductances(c, ctx, g);
    if (!rc) rc = ssp_nodal_create(&ref, ctx, c, BATCH);
    if (!rc) rc = ssp_nodal_set_path(ref, SSP_NODAL_PATH_REFERENCE);
    if (!rc) rc = ssp_nodal_create(&fast, ctx, c, BATCH);
    if (!rc && !ssp_nodal_has_fast_path(fast)) {
        fprintf(stderr, "bench_nodal: the tile has no fast path\n");
        rc = 1;
    }
    /* first factorization of each path, timed on its own */
    t0 = now_ms();
    if (!rc) rc = ssp_nodal_factor(ref);
    f_ref = now_ms() - t0;
    t0 = now_ms();
    if (!rc) rc = ssp_nodal_factor(fast);
    f_fast = now_ms() - t0;
    for (s = 0; s < STEPS && !rc; s++) {
        for (i = 0; i < STEP_CELLS; i++)
            g[gsl_rng_uniform_int(rng, n * n)] = G_LO_S + (G_HI_S - G_LO_S) * gsl_rng_uniform(rng);
        for (i = 0; i < BATCH * n; i++) v[i] = V_HI_V * gsl_rng_uniform(rng);
        rc = ssp_circuit_set_conductances(c, ctx, g);
        t0 = now_ms();
        if (!rc) rc = ssp_nodal_solve(ref, v, BATCH, o_ref);
        t_ref += now_ms() - t0;
        t0 = now_ms();
        if (!rc) rc = ssp_nodal_solve(fast, v, BATCH, o_fast);
        t_fast += now_ms() - t0;
        for (i = 0; !rc && i < BATCH * n; i++) {
            double d = fabs(o_ref[i] - o_fast[i]) /
                       fmax(fmax(fabs(o_ref[i]), fabs(o_fast[i])), FLOOR_V);
            if (d > max_rel) max_rel = d;
        }
    }
    if (rc) {
        fprintf(stderr, "bench_nodal: %s\n", ssp_ctx_errmsg(ctx));
    } else {
        ssp_nodal_get_stats(ref, &sr);
        ssp_nodal_get_stats(fast, &sf);
        printf("reference: first factor %.1f ms, %lu factors + %lu refactors, %lu solves\n", f_ref,
               sr.factors, sr.refactors, sr.solves);
        printf("fast: first factor + transfer %.1f ms, %lu factors + %lu refactors of the reduced "
               "matrix, %lu low-rank updates, %lu cell solves, %lu fast reads, %lu fallbacks\n",
               f_fast, sf.factors, sf.refactors - sf.fast_updates, sf.fast_updates,
               sf.fast_cell_solves, sf.fast_reads, sf.fast_fallbacks);
        printf("BENCH nodal size=%zu klu_ms_per_step=%.2f fast_ms_per_step=%.2f speedup=%.1f "
               "max_rel_diff=%.2e\n",
               n, t_ref / STEPS, t_fast / STEPS, t_ref / t_fast, max_rel);
    }
    ssp_nodal_destroy(&fast);
    ssp_nodal_destroy(&ref);
    ssp_circuit_destroy(&c);
    gsl_rng_free(rng);
    free(g);
    free(v);
    free(o_ref);
    free(o_fast);
    ssp_ctx_destroy(&ctx);
    return rc ? 1 : 0;
}
