/* bench_engines.c — the three forward engines on the same tiles and inputs,
 * 64x64 to 1024x1024, and what one ngspice operating point of each tile
 * costs against the same tile's bare resistor network.
 *
 * Tiles of n x n (rows x physical columns), 2.5 ohm wire segments,
 * finite-gain TIAs (the defaults of ssp_tile_params_default), random cell
 * conductances in [10, 100] uS and random inputs in [0, 0.2] V, fixed
 * seeds. Every figure is measured in this run, one line per size:
 *   ideal_ms, nodal_ms, spice_ms   per vector (wall), spice streamed through
 *                                  the engine on its loaded circuit (the
 *                                  first batch parses it: spice_load_ms)
 *   check4_ms                      a fresh spice engine's first batch of 4
 *                                  vectors, parse included (user CPU): a check
 *                                  (0 where fewer vectors are streamed)
 *   nodal_factor_ms                the nodal engine's factorization (wall)
 *   spice_load_ms                  parsing the tile netlist (user CPU)
 *   spice_op_ms                    one `op` of the tile as emitted (user CPU)
 *   rnet_op_ms                     one `op` of the same tile with each bit
 *                                  line sensed by its resistor to ground, no
 *                                  TIA (user CPU), the reference
 *   old_op_ms                      the same op in the formulation emitted
 *                                  before (offset and gate supplies as
 *                                  voltage sources), up to 128x128; 0 above
 *   rss_mb                         peak resident memory of this process so
 *                                  far (ngspice runs in it)
 *   klu_lnz, klu_lu_units          AMD's nnz(L) estimate and the LU storage
 *                                  (8-byte units) ngspice's KLU asks for up
 *                                  front (ssp_spice_klu_estimate); beyond
 *                                  INT_MAX units (klu_fits=0) ngspice cannot
 *                                  factor the tile, so its spice figures are
 *                                  "na" and spice_max_tile (last line) is the
 *                                  largest square tile that fits
 *   nodal_vs_spice_max_rel         over every spice output of the size
 * The spice stream runs at 64..512 (fewer vectors as tiles grow); 1024 is
 * beyond ngspice's KLU (see klu_fits), so there only ideal and nodal run. Last line:
 *   BENCH engines size=128 ... (the 128 figures) and size<n>_... for all. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ssp_engine.h"
#include "ssp_nodal.h"
#include "ssp_spice_emit.h"

enum { VECTORS = 200, NSIZES = 5, CHECK_VECTORS = 4 };
static const size_t SIZES[NSIZES] = {64, 128, 256, 512, 1024};
/* Vectors streamed through ngspice per size (0: operating point only):
 * a refactorization costs ~0.15 s of user CPU at 128x128 and grows about
 * as n^3, so fewer vectors keep the bench near ten minutes. */
static const size_t SPICE_VECTORS[NSIZES] = {50, 8, 4, 1, 0};
/* Largest size whose old-formulation op is timed (256x256 took 294.6 s). */
static const size_t OLD_OP_MAX = 128;
static const double G_LO_S = 10e-6, G_HI_S = 100e-6; /* cell conductance range (S) */
static const double V_HI_V = 0.2;                    /* input range top (V) */
static const double FLOOR_V = 1e-12; /* outputs below this compared absolutely (V) */
/* Resolution of the largest square tile ngspice's KLU takes (rows). */
enum { TILE_STEP = 16 };

struct result {
    double ideal_ms, nodal_ms, spice_ms, check_ms, factor_ms, load_ms, op_ms, rnet_op_ms, old_op_ms, rss_mb,
        max_rel;
    size_t spice_vectors;
    ssp_spice_klu_need klu; /* what ngspice's KLU asks for to factor the tile */
    int fits;               /* klu.lu_units within ngspice's limit: spice runs */
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

static double user_ms(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return 1e3 * (double)u.ru_utime.tv_sec + 1e-3 * (double)u.ru_utime.tv_usec;
}

static double peak_rss_mb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0; /* kB on Linux */
}

static int starts(const char *line, const char *prefix) { return strncmp(line, prefix, strlen(prefix)) == 0; }

/* The bare resistor network of an emitted tile: the TIA stage (offset,
 * op-amp) removed and each feedback resistor rf_<c> turned into a resistor
 * from the TIA input to ground; the saved vectors become the inputs. */
static char *bare_network(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    const char *line = text;
    if (!out) return NULL;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        char buf[256];
        if (starts(line, "ivos_") || starts(line, "rvos_") || starts(line, "bo_")) {
            /* dropped */
        } else if (starts(line, "rf_") && len < sizeof buf) {
            char name[64], a[64], b[64], r[64];
            memcpy(buf, line, len);
            buf[len] = '\0';
            if (sscanf(buf, "%63s %63s %63s %63s", name, a, b, r) == 4)
                o += sprintf(o, "%s %s 0 %s\n", name, b, r);
        } else if (starts(line, ".save v(out_")) {
            o += sprintf(o, ".save v(tin_");
            memcpy(o, line + 12, len - 12);
            o += len - 12;
        } else {
            memcpy(o, line, len);
            o += len;
        }
        line += len;
    }
    *o = '\0';
    return out;
}

/* The same tile in the formulation emitted before: each reference source
 * (TIA offset, 1T1R gate supply) as a voltage source, whose node's row has
 * a structurally zero diagonal. The Norton pair "i<n> 0 <node> dc <v*G>" +
 * "r<n> <node> 0 <1/G>" becomes "<n> <node> 0 dc <v>". */
static char *old_formulation(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    const char *line = text;
    double cur = 0;
    if (!out) return NULL;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        char buf[256], name[64], a[64], b[64], dc[8];
        if ((starts(line, "ivos_") || starts(line, "ivg")) && len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            sscanf(buf, "%63s %63s %63s %7s %lf", name, a, b, dc, &cur); /* the current, i = v*G */
        } else if ((starts(line, "rvos_") || starts(line, "rvg")) && len < sizeof buf) {
            double r = 0;
            memcpy(buf, line, len);
            buf[len] = '\0';
            if (sscanf(buf, "%63s %63s %63s %lf", name, a, b, &r) == 4)
                o += sprintf(o, "%s %s 0 dc %.17g\n", name + 1, a, cur * r);
        } else {
            memcpy(o, line, len);
            o += len;
        }
        line += len;
    }
    *o = '\0';
    return out;
}

/* User CPU of parsing text (*load_ms, may be NULL) and of one op on it. */
static int time_op(ssp_spice *spice, const char *text, double *load_ms, double *op_ms)
{
    double u0 = user_ms(), u1;
    int rc = ssp_spice_load_text(spice, text);
    u1 = user_ms();
    if (load_ms) *load_ms = u1 - u0;
    if (!rc) rc = ssp_spice_op(spice);
    *op_ms = user_ms() - u1;
    return rc;
}

static int run_size(ssp_ctx *ctx, ssp_spice *spice, size_t si, struct result *r)
{
    size_t n = SIZES[si], ks = SPICE_VECTORS[si], kn = n >= 1024 ? 4 : VECTORS, i;
    ssp_tile_params p;
    ssp_engine *e[3] = {NULL, NULL, NULL};
    double *g, *v, *out[3], *vop = NULL, t0;
    char *text = NULL, *bare = NULL, name[64];
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    ssp_emit_opts o;
    int k, rc = SSP_OK;

    memset(r, 0, sizeof *r);
    ssp_tile_params_default(&p);
    p.rows = p.cols = n;
    g = malloc(n * n * sizeof *g);
    v = malloc(VECTORS * n * sizeof *v);
    vop = malloc(n * sizeof *vop);
    for (k = 0; k < 3; k++) out[k] = malloc(VECTORS * n * sizeof *out[k]);
    gsl_rng_set(rng, 20261128 + n);
    for (i = 0; i < n * n; i++) g[i] = G_LO_S + (G_HI_S - G_LO_S) * gsl_rng_uniform(rng);
    for (i = 0; i < VECTORS * n; i++) v[i] = V_HI_V * gsl_rng_uniform(rng);
    for (k = 0; k < 2 && !rc; k++) {
        rc = ssp_engine_create(&e[k], ctx, k, &p, spice);
        if (!rc) rc = ssp_engine_set_conductances(e[k], g);
    }
    /* ngspice's KLU cannot factor a tile beyond its LU limit (it reports a
     * singular matrix): such a size gets the nodal and ideal figures and
     * the estimate, no spice run */
    if (!rc) rc = ssp_spice_klu_estimate(&r->klu, ctx, ssp_engine_circuit(e[1]));
    r->fits = !rc && r->klu.lu_units <= SSP_SPICE_KLU_MAX_UNITS;
    if (!rc && r->fits) {
        rc = ssp_engine_create(&e[2], ctx, SSP_ENGINE_SPICE, &p, spice);
        if (!rc) rc = ssp_engine_set_conductances(e[2], g);
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_engine_run(e[0], v, kn, out[0], NULL);
        r->ideal_ms = (now_ms() - t0) / (double)kn;
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_nodal_factor(ssp_engine_nodal(e[1]));
        r->factor_ms = now_ms() - t0;
    }
    if (!rc) {
        t0 = now_ms();
        rc = ssp_engine_run(e[1], v, kn, out[1], NULL);
        r->nodal_ms = (now_ms() - t0) / (double)kn;
    }
    /* one operating point of the tile as emitted, and of its bare network,
     * at the DAC outputs of the first vector */
    for (i = 0; i < n; i++) vop[i] = ssp_dac_voltage(&p.dac, v[i]);
    memset(&o, 0, sizeof o);
    o.v_in = vop;
    if (!rc && r->fits) rc = ssp_spice_emit_text(&text, ctx, ssp_engine_circuit(e[1]), &o);
    if (!rc && r->fits && !(bare = bare_network(text))) rc = SSP_ENOMEM;
    if (!rc && r->fits) rc = time_op(spice, bare, NULL, &r->rnet_op_ms);
    if (!rc && r->fits && n <= OLD_OP_MAX) {
        char *old = old_formulation(text);
        rc = old ? time_op(spice, old, NULL, &r->old_op_ms) : SSP_ENOMEM;
        free(old);
    }
    if (!rc && r->fits) rc = time_op(spice, text, &r->load_ms, &r->op_ms);
    for (i = 0; !rc && r->fits && i < n; i++) {
        double y;
        ssp_spice_out_vector(ssp_engine_circuit(e[1]), i, name, sizeof name);
        rc = ssp_spice_vec_last(spice, name, &y);
        if (!rc) {
            double d = fabs(out[1][i] - y) / fmax(fmax(fabs(out[1][i]), fabs(y)), FLOOR_V);
            if (d > r->max_rel) r->max_rel = d;
        }
    }
    if (!rc && r->fits) rc = ssp_spice_unload(spice);
    free(text);
    free(bare);
    if (!rc && r->fits && ks) {
        /* the engine: the first batch (a check of CHECK_VECTORS vectors)
         * parses the circuit, the second reuses it (sources only) */
        size_t k1 = ks < CHECK_VECTORS ? ks : CHECK_VECTORS;
        t0 = user_ms();
        rc = ssp_engine_run(e[2], v, k1, out[2], NULL);
        r->check_ms = k1 == CHECK_VECTORS ? user_ms() - t0 : 0;
        t0 = now_ms();
        if (!rc) rc = ssp_engine_run(e[2], v, ks, out[2], NULL);
        r->spice_ms = (now_ms() - t0) / (double)ks;
        r->spice_vectors = ks;
        for (i = 0; !rc && i < ks * n; i++) {
            double d = fabs(out[1][i] - out[2][i]) / fmax(fmax(fabs(out[1][i]), fabs(out[2][i])), FLOOR_V);
            if (d > r->max_rel) r->max_rel = d;
        }
    }
    r->rss_mb = peak_rss_mb();
    for (k = 0; k < 3; k++) {
        ssp_engine_destroy(&e[k]);
        free(out[k]);
    }
    ssp_spice_unload(spice);
    free(g);
    free(v);
    free(vop);
    gsl_rng_free(rng);
    return rc;
}

/* v with `digits` decimals (digits < 0: %.2e), or "na" where the figure
 * was not measured (the tile is beyond ngspice's KLU). */
static void num(char *buf, size_t n, int digits, double v, int measured)
{
    if (!measured) snprintf(buf, n, "na");
    else if (digits < 0) snprintf(buf, n, "%.2e", v);
    else snprintf(buf, n, "%.*f", digits, v);
}

/* The largest square tile between lo (fits) and hi (does not), in steps of
 * TILE_STEP, whose netlist ngspice's KLU can factor (the estimate only). */
static int largest_fitting(ssp_ctx *ctx, size_t lo, size_t hi, size_t *best)
{
    int rc = SSP_OK;
    while (!rc && hi - lo > TILE_STEP) {
        size_t mid = (lo + hi) / 2 / TILE_STEP * TILE_STEP;
        ssp_tile_params p;
        ssp_circuit *c = NULL;
        ssp_spice_klu_need need;
        ssp_tile_params_default(&p);
        p.rows = p.cols = mid;
        rc = ssp_circuit_create(&c, ctx, &p);
        if (!rc) rc = ssp_spice_klu_estimate(&need, ctx, c);
        ssp_circuit_destroy(&c);
        if (!rc && need.lu_units <= SSP_SPICE_KLU_MAX_UNITS) lo = mid;
        else if (!rc) hi = mid;
    }
    *best = lo;
    return rc;
}

int main(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    ssp_spice *spice = NULL;
    struct result r[NSIZES];
    size_t nsizes = NSIZES, max_tile = 0;
    int rc = SSP_OK, s;

    /* an optional argument: the largest size to run (default all) */
    if (argc > 1) {
        long top = strtol(argv[1], NULL, 10);
        for (nsizes = 0; nsizes < NSIZES && (long)SIZES[nsizes] <= top; nsizes++) {
        }
        if (nsizes < 2) {
            fprintf(stderr, "bench_engines: the largest size must be at least 128, not '%s'\n", argv[1]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (ssp_ctx_create(&ctx)) return 1;
    rc = ssp_spice_create(&spice, ctx, NULL);
    for (s = 0; s < (int)nsizes && !rc; s++) {
        char op[32], rnet[32], ratio[32], rel[32];
        rc = run_size(ctx, spice, (size_t)s, &r[s]);
        if (rc) break;
        num(op, sizeof op, 0, r[s].op_ms, r[s].fits);
        num(rnet, sizeof rnet, 0, r[s].rnet_op_ms, r[s].fits);
        num(ratio, sizeof ratio, 2, r[s].op_ms / r[s].rnet_op_ms, r[s].fits);
        num(rel, sizeof rel, -1, r[s].max_rel, r[s].fits);
        printf("size=%zu ideal_ms=%.4f nodal_ms=%.4f spice_ms=%.1f spice_vectors=%zu check4_ms=%.0f spice_load_ms=%.0f "
               "spice_op_ms=%s rnet_op_ms=%s op_over_rnet=%s old_op_ms=%.0f nodal_factor_ms=%.1f "
               "rss_mb=%.0f klu_lnz=%.4g klu_lu_units=%.4g klu_fits=%d nodal_vs_spice_max_rel=%s\n",
               SIZES[s], r[s].ideal_ms, r[s].nodal_ms, r[s].spice_ms, r[s].spice_vectors, r[s].check_ms, r[s].load_ms,
               op, rnet, ratio, r[s].old_op_ms, r[s].factor_ms, r[s].rss_mb, r[s].klu.lnz, r[s].klu.lu_units,
               r[s].fits, rel);
    }
    if (!rc) {
        /* the largest square tile ngspice's KLU takes, from the estimate */
        for (s = 0; s < (int)nsizes && r[s].fits; s++) {
        }
        if (s < (int)nsizes) rc = largest_fitting(ctx, SIZES[s - 1], SIZES[s], &max_tile);
        else max_tile = SIZES[nsizes - 1];
    }
    if (rc) {
        fprintf(stderr, "bench_engines: %s\n", ssp_ctx_errmsg(ctx));
        ssp_spice_destroy(&spice);
        ssp_ctx_destroy(&ctx);
        return 1;
    }
    printf("BENCH engines size=128 ideal_ms_per_vec=%.4f nodal_ms_per_vec=%.4f spice_ms_per_vec=%.1f "
           "check4_ms=%.0f spice_op_ms=%.0f rnet_op_ms=%.0f old_op_ms=%.0f nodal_factor_ms=%.1f peak_rss_mb=%.0f "
           "nodal_vs_spice_max_rel=%.2e spice_max_tile=%zu",
           r[1].ideal_ms, r[1].nodal_ms, r[1].spice_ms, r[1].check_ms, r[1].op_ms, r[1].rnet_op_ms, r[1].old_op_ms, r[1].factor_ms,
           r[1].rss_mb, r[1].max_rel, max_tile);
    for (s = 0; s < (int)nsizes; s++) {
        char sp[32], op[32], rnet[32], rel[32];
        num(sp, sizeof sp, 1, r[s].spice_ms, r[s].fits && r[s].spice_vectors);
        num(op, sizeof op, 0, r[s].op_ms, r[s].fits);
        num(rnet, sizeof rnet, 0, r[s].rnet_op_ms, r[s].fits);
        num(rel, sizeof rel, -1, r[s].max_rel, r[s].fits);
        printf(" size%zu_ideal_ms_per_vec=%.4f size%zu_nodal_ms_per_vec=%.4f size%zu_spice_ms_per_vec=%s "
               "size%zu_spice_op_ms=%s size%zu_rnet_op_ms=%s size%zu_nodal_factor_ms=%.1f size%zu_rss_mb=%.0f "
               "size%zu_klu_lu_units=%.4g size%zu_nodal_vs_spice_max_rel=%s",
               SIZES[s], r[s].ideal_ms, SIZES[s], r[s].nodal_ms, SIZES[s], sp, SIZES[s], op, SIZES[s], rnet, SIZES[s],
               r[s].factor_ms, SIZES[s], r[s].rss_mb, SIZES[s], r[s].klu.lu_units, SIZES[s], rel);
    }
    printf("\n");
    ssp_spice_destroy(&spice);
    ssp_ctx_destroy(&ctx);
    return 0;
}
