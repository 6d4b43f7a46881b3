/* test_engines.c — the ideal, nodal and spice engines on the same tiles.
 *
 * ngspice is the ground truth: nodal must agree with it to 1e-9 relative on
 * linear cells and 1e-6 with nonlinear cells; ideal must equal it when the
 * circuit has no parasitics and an ideal TIA. Random tiles use fixed seeds.
 * Under valgrind (SSP_UNDER_VALGRIND) the largest tiles are left out. */
#include <gsl/gsl_rng.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_engine.h"
#include "ssp_layer.h"
#include "ssp_nodal.h"
#include "ssp_test.h"

/* Agreement bounds from the issue (relative). */
static const double TOL_LINEAR_REL = 1e-9;
static const double TOL_NONLINEAR_REL = 1e-6;
/* Outputs below this are compared absolutely (V). */
static const double TOL_FLOOR_V = 1e-12;
/* Input vectors per agreement case. */
enum { VECS = 4 };

static ssp_spice *g_spice; /* one ngspice session for the suite */

static int suite_init(void)
{
    return ssp_spice_create(&g_spice, ssp_test_ctx(), NULL) == SSP_OK ? 0 : -1;
}

static int suite_clean(void)
{
    ssp_spice_destroy(&g_spice);
    return 0;
}

static int under_valgrind(void) { return getenv("SSP_UNDER_VALGRIND") != NULL; }

/* Random state: linear g in [10, 100] uS, or sinh cells; inputs in [0, 0.2] V. */
static void random_cells(ssp_cell_iv *iv, size_t n, int sinh_cells, gsl_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        double u = gsl_rng_uniform(r);
        if (sinh_cells)
            iv[i] = (ssp_cell_iv){SSP_IV_SINH, 0, (10e-6 + 90e-6 * u) / 2.5, 0.8 * (10e-6 + 90e-6 * u) / 2.5, 2.5};
        else
            iv[i] = (ssp_cell_iv){SSP_IV_LINEAR, 10e-6 + 90e-6 * u, 0, 0, 0};
    }
}

/* Run engines a and b on one random tile; return the max relative difference. */
static double compare(const ssp_tile_params *p, int a, int b, int sinh_cells, unsigned long seed)
{
    ssp_ctx *ctx = ssp_test_ctx();
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    size_t n = p->rows * p->cols, i;
    ssp_cell_iv *iv = malloc(n * sizeof *iv);
    double *v = malloc(VECS * p->rows * sizeof *v);
    double *oa = malloc(VECS * p->cols * sizeof *oa), *ob = malloc(VECS * p->cols * sizeof *ob);
    int *ca = malloc(VECS * p->cols * sizeof *ca);
    ssp_engine *ea = NULL, *eb = NULL;
    double m = INFINITY;
    gsl_rng_set(r, seed);
    random_cells(iv, n, sinh_cells, r);
    for (i = 0; i < VECS * p->rows; i++) v[i] = 0.2 * gsl_rng_uniform(r);
    SSP_ASSERT_OK(ctx, ssp_engine_create(&ea, ctx, a, p, g_spice));
    SSP_ASSERT_OK(ctx, ssp_engine_create(&eb, ctx, b, p, g_spice));
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(ea, iv));
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(eb, iv));
    SSP_ASSERT_OK(ctx, ssp_engine_run(ea, v, VECS, oa, ca));
    SSP_ASSERT_OK(ctx, ssp_engine_run(eb, v, VECS, ob, NULL));
    m = 0;
    for (i = 0; i < VECS * p->cols; i++) {
        double d = fabs(oa[i] - ob[i]) / fmax(fmax(fabs(oa[i]), fabs(ob[i])), TOL_FLOOR_V);
        if (d > m) m = d;
        CU_ASSERT_EQUAL(ca[i], ssp_adc_code(&p->adc, oa[i]));
    }
    ssp_engine_destroy(&ea);
    ssp_engine_destroy(&eb);
    free(iv);
    free(v);
    free(oa);
    free(ob);
    free(ca);
    gsl_rng_free(r);
    return m;
}

static void tile(ssp_tile_params *p, size_t n, int cell)
{
    ssp_tile_params_default(p);
    p->rows = p->cols = n;
    p->cell = cell;
}

static void test_engines__nodal_matches_spice_linear(void)
{
    const size_t sizes[] = {8, 16, 32, 64};
    size_t ns = under_valgrind() ? 2 : 4;
    for (size_t k = 0; k < ns; k++) {
        ssp_tile_params p;
        double m;
        tile(&p, sizes[k], SSP_CELL_1R); /* 2.5 ohm segments, finite-gain TIA with offset */
        m = compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 0, 100 + k);
        CU_ASSERT(m <= TOL_LINEAR_REL);
        if (m > TOL_LINEAR_REL) fprintf(stderr, "\n  %zux%zu: max rel %.3e\n", sizes[k], sizes[k], m);
    }
}

static void test_engines__nodal_matches_spice_ideal_wires(void)
{
    ssp_tile_params p;
    tile(&p, 16, SSP_CELL_1R);
    p.r_wire_per_um = 0;
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 0, 7) <= TOL_LINEAR_REL);
    p.scheme = SSP_COLS_REF;
    p.cols = 15;
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 0, 8) <= TOL_LINEAR_REL);
}

static void test_engines__nodal_matches_spice_1t1r(void)
{
    ssp_tile_params p;
    tile(&p, 8, SSP_CELL_1T1R);
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 0, 11) <= TOL_NONLINEAR_REL);
    if (under_valgrind()) return;
    tile(&p, 32, SSP_CELL_1T1R);
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 0, 12) <= TOL_NONLINEAR_REL);
}

static void test_engines__nodal_matches_spice_sinh_cells(void)
{
    ssp_tile_params p;
    tile(&p, 8, SSP_CELL_1R);
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 1, 21) <= TOL_NONLINEAR_REL);
    tile(&p, 8, SSP_CELL_1T1R);
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 1, 22) <= TOL_NONLINEAR_REL);
}

static void test_engines__ideal_matches_spice_without_parasitics(void)
{
    ssp_tile_params p;
    tile(&p, 16, SSP_CELL_1R);
    p.r_wire_per_um = 0;
    p.r_driver = p.dac.r_out = p.r_sense = 0;
    p.tia.ideal = 1;
    CU_ASSERT(compare(&p, SSP_ENGINE_IDEAL, SSP_ENGINE_SPICE, 0, 31) <= TOL_LINEAR_REL);
    CU_ASSERT(compare(&p, SSP_ENGINE_IDEAL, SSP_ENGINE_NODAL, 0, 32) <= TOL_LINEAR_REL);
}

static void test_engines__saturated_tia_agrees(void)
{
    /* Rf 1 Mohm drives every TIA into its rails. */
    ssp_tile_params p;
    tile(&p, 8, SSP_CELL_1R);
    p.tia.r_f = 1e6;
    CU_ASSERT(compare(&p, SSP_ENGINE_NODAL, SSP_ENGINE_SPICE, 0, 41) <= TOL_NONLINEAR_REL);
}

static void test_engines__grid_2x2_equals_unsplit_ideal(void)
{
    /* an 8x8 tile and its four 4x4 quarters: the row halves' column outputs
     * add up (digitally) to the unsplit tile's under the ideal engine */
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params pw, pq;
    ssp_engine *whole = NULL, *q = NULL;
    double g[64], gq[16], v[8], vq[4], ow[8], oq[4], sum[8] = {0};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 51);
    for (int i = 0; i < 64; i++) g[i] = 10e-6 + 90e-6 * gsl_rng_uniform(r);
    for (int i = 0; i < 8; i++) v[i] = 0.2 * gsl_rng_uniform(r);
    tile(&pw, 8, SSP_CELL_1R);
    tile(&pq, 4, SSP_CELL_1R);
    SSP_ASSERT_OK(ctx, ssp_engine_create(&whole, ctx, SSP_ENGINE_IDEAL, &pw, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_create(&q, ctx, SSP_ENGINE_IDEAL, &pq, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_set_conductances(whole, g));
    SSP_ASSERT_OK(ctx, ssp_engine_run(whole, v, 1, ow, NULL));
    for (int ti = 0; ti < 2; ti++)
        for (int tj = 0; tj < 2; tj++) {
            for (int i = 0; i < 4; i++) {
                vq[i] = v[ti * 4 + i];
                for (int j = 0; j < 4; j++) gq[i * 4 + j] = g[(ti * 4 + i) * 8 + tj * 4 + j];
            }
            SSP_ASSERT_OK(ctx, ssp_engine_set_conductances(q, gq));
            SSP_ASSERT_OK(ctx, ssp_engine_run(q, vq, 1, oq, NULL));
            for (int j = 0; j < 4; j++) sum[tj * 4 + j] += oq[j];
        }
    for (int j = 0; j < 8; j++) CU_ASSERT(ssp_close_rel(sum[j], ow[j], 1e-12, 0));
    ssp_engine_destroy(&whole);
    ssp_engine_destroy(&q);
    gsl_rng_free(r);
}

static void test_engines__bad_requests_are_rejected(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_engine *e = NULL;
    double v[4] = {0}, out[4];
    int kind = -1;
    tile(&p, 4, SSP_CELL_1R);
    CU_ASSERT_EQUAL(ssp_engine_create(&e, ctx, SSP_ENGINE_SPICE, &p, NULL), SSP_EINVAL);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(ssp_engine_create(&e, ctx, 9, &p, NULL), SSP_ECONFIG);
    CU_ASSERT_EQUAL(ssp_engine_kind_parse(ctx, "analog", &kind), SSP_ECONFIG);
    SSP_ASSERT_OK(ctx, ssp_engine_kind_parse(ctx, "nodal", &kind));
    CU_ASSERT_EQUAL(kind, SSP_ENGINE_NODAL);
    p.rows = 0;
    CU_ASSERT_EQUAL(ssp_engine_create(&e, ctx, SSP_ENGINE_NODAL, &p, NULL), SSP_ECONFIG);
    p.rows = 4;
    SSP_ASSERT_OK(ctx, ssp_engine_create(&e, ctx, SSP_ENGINE_NODAL, &p, NULL));
    CU_ASSERT_EQUAL(ssp_engine_run(e, v, 1, out, NULL), SSP_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "never set"));
    CU_ASSERT_EQUAL(ssp_engine_run(e, v, 0, out, NULL), SSP_EINVAL);
    ssp_engine_destroy(&e);
    ssp_engine_destroy(&e);
}

/* An 8x4 layer on one 8x8 tile and on a 2x2 grid of 4x4 tiles. */
static void test_engines__layer_split_2x2_equals_unsplit(void)
{
    enum { K = 3 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *one = NULL, *grid = NULL;
    double w[32], x[K * 8], y1[K * 4], a1[K * 4], y4[K * 4], a4[K * 4], want;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 61);
    for (int i = 0; i < 32; i++) w[i] = 2 * gsl_rng_uniform(r) - 1;
    for (int i = 0; i < K * 8; i++) x[i] = 0.2 * gsl_rng_uniform(r);
    ssp_layer_params_default(&p);
    p.engine = SSP_ENGINE_IDEAL;
    p.n_in = 8;
    p.n_out = 4;
    p.tile.dac.bits = 0;
    p.tile.rows = p.tile.cols = 8;
    SSP_ASSERT_OK(ctx, ssp_layer_create(&one, ctx, &p, NULL));
    p.tile.rows = p.tile.cols = 4;
    SSP_ASSERT_OK(ctx, ssp_layer_create(&grid, ctx, &p, NULL));
    CU_ASSERT_EQUAL(ssp_layer_grid_rows(grid), 2);
    CU_ASSERT_EQUAL(ssp_layer_grid_cols(grid), 2);
    SSP_ASSERT_OK(ctx, ssp_layer_set_weights(one, w));
    SSP_ASSERT_OK(ctx, ssp_layer_set_weights(grid, w));
    SSP_ASSERT_OK(ctx, ssp_layer_forward(one, x, K, y1, a1));
    SSP_ASSERT_OK(ctx, ssp_layer_forward(grid, x, K, y4, a4));
    for (int q = 0; q < K; q++)
        for (int j = 0; j < 4; j++) {
            double lsb_w = ssp_adc_lsb(&p.tile.adc) / (p.tile.tia.r_f * (p.g_max - p.g_min));
            want = 0;
            for (int i = 0; i < 8; i++) want += x[q * 8 + i] * w[i * 4 + j];
            CU_ASSERT(ssp_close_rel(a4[q * 4 + j], a1[q * 4 + j], 1e-12, 1e-15));
            CU_ASSERT(ssp_close_rel(a1[q * 4 + j], want, 1e-12, 1e-15));
            /* after the ADCs: each partial sum rounds by at most half an LSB per column */
            CU_ASSERT(fabs(y4[q * 4 + j] - want) <= 2 * 2 * lsb_w);
            CU_ASSERT(fabs(y1[q * 4 + j] - want) <= 2 * lsb_w);
        }
    ssp_layer_destroy(&one);
    ssp_layer_destroy(&grid);
    gsl_rng_free(r);
}

static void test_engines__layer_mapping_report(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *l = NULL;
    ssp_weight_loc loc;
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ssp_layer_params_default(&p);
    p.n_in = 10;
    p.n_out = 5;
    p.tile.rows = 4;
    p.tile.cols = 4;
    p.engine = SSP_ENGINE_IDEAL;
    SSP_ASSERT_OK(ctx, ssp_layer_create(&l, ctx, &p, NULL));
    ssp_layer_locate(l, 9, 3, &loc);
    CU_ASSERT_EQUAL(loc.tile_row, 2);
    CU_ASSERT_EQUAL(loc.tile_col, 1);
    CU_ASSERT_EQUAL(loc.row, 1);
    CU_ASSERT_EQUAL(loc.out, 1);
    CU_ASSERT_EQUAL(loc.col_plus, 2);
    CU_ASSERT_EQUAL(loc.col_minus, 3);
    SSP_ASSERT_OK(ctx, ssp_layer_write_mapping(l, f));
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n9 3 2 1 1 1 2 3\n"));
    ssp_layer_destroy(&l);
}

/* A random 16x16 tile for the reuse and pool tests. */
static void reuse_tile(ssp_tile_params *p)
{
    ssp_tile_params_default(p);
    p->rows = 16;
    p->cols = 16;
}

static void random_inputs(double *v, size_t n, gsl_rng *r)
{
    for (size_t i = 0; i < n; i++) v[i] = 0.2 * gsl_rng_uniform(r);
}

/* Batches on a spice engine reuse the loaded circuit: new inputs change
 * the sources only, a state change alters the changed cells; the outputs
 * equal a freshly loaded circuit's bit for bit and the nodal engine's. */
static void test_engines__spice_reuses_loaded_circuit(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_engine *sp = NULL, *fresh = NULL, *nod = NULL;
    ssp_engine_spice_stats st;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    ssp_cell_iv iv[256];
    double v[VECS * 16], o1[VECS * 16], o2[VECS * 16], on[VECS * 16];
    reuse_tile(&p);
    gsl_rng_set(r, 14);
    random_cells(iv, 256, 0, r);
    SSP_ASSERT_OK(ctx, ssp_engine_create(&sp, ctx, SSP_ENGINE_SPICE, &p, g_spice));
    SSP_ASSERT_OK(ctx, ssp_engine_create(&nod, ctx, SSP_ENGINE_NODAL, &p, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(sp, iv));
    random_inputs(v, VECS * 16, r);
    SSP_ASSERT_OK(ctx, ssp_engine_run(sp, v, VECS, o1, NULL));
    random_inputs(v, VECS * 16, r); /* new inputs: sources only */
    SSP_ASSERT_OK(ctx, ssp_engine_run(sp, v, VECS, o1, NULL));
    for (size_t i = 0; i < 256; i += 37) iv[i].g = 10e-6 + 90e-6 * gsl_rng_uniform(r);
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(sp, iv)); /* 7 cells changed: alters */
    SSP_ASSERT_OK(ctx, ssp_engine_run(sp, v, VECS, o1, NULL));
    ssp_engine_get_spice_stats(sp, &st);
    CU_ASSERT_EQUAL(st.loads, 1);
    CU_ASSERT_EQUAL(st.reuses, 2);
    CU_ASSERT_EQUAL(st.alters, 7);
    /* a fresh engine parses the netlist of the same state */
    SSP_ASSERT_OK(ctx, ssp_engine_create(&fresh, ctx, SSP_ENGINE_SPICE, &p, g_spice));
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(fresh, iv));
    SSP_ASSERT_OK(ctx, ssp_engine_run(fresh, v, VECS, o2, NULL));
    CU_ASSERT_EQUAL(memcmp(o1, o2, sizeof o1), 0);
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(nod, iv));
    SSP_ASSERT_OK(ctx, ssp_engine_run(nod, v, VECS, on, NULL));
    CU_ASSERT(ssp_engine_max_rel(on, o1, VECS * 16, TOL_FLOOR_V) <= TOL_LINEAR_REL);
    /* the fresh engine's load replaced sp's circuit in the shared session:
     * sp notices and parses again */
    SSP_ASSERT_OK(ctx, ssp_engine_run(sp, v, VECS, o2, NULL));
    ssp_engine_get_spice_stats(sp, &st);
    CU_ASSERT_EQUAL(st.loads, 2);
    CU_ASSERT_EQUAL(memcmp(o1, o2, sizeof o1), 0);
    ssp_engine_destroy(&sp);
    ssp_engine_destroy(&fresh);
    ssp_engine_destroy(&nod);
    gsl_rng_free(r);
}

enum { POOL_TILES = 3 };

struct kill_once {
    int armed; /* kill the worker of the next job dispatched */
    size_t job;
};

static void kill_hook(size_t job, int worker, pid_t pid, void *payload)
{
    struct kill_once *k = payload;
    (void)worker;
    if (k->armed && job == k->job) {
        k->armed = 0;
        kill(pid, SIGKILL);
    }
}

/* Tiles solved on pools of 1 and 2 workers (and the session) give the same
 * outputs bit for bit, over batches with state changes; a killed worker's
 * tile is retried on its replacement. */
static void test_engines__spice_pool_equals_one_worker(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_pool *pool[2] = {NULL, NULL};
    ssp_engine *e[3][POOL_TILES];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    ssp_cell_iv iv[POOL_TILES][256];
    double v[POOL_TILES][VECS * 16], o[3][POOL_TILES][VECS * 16];
    const double *vin[POOL_TILES];
    double *vout[POOL_TILES];
    struct kill_once ko = {0, 0};
    size_t t, m, b;
    reuse_tile(&p);
    gsl_rng_set(r, 15);
    SSP_ASSERT_OK(ctx, ssp_pool_create(&pool[0], ctx, 1, NULL));
    SSP_ASSERT_OK(ctx, ssp_pool_create(&pool[1], ctx, 2, NULL));
    ssp_pool_set_hook(pool[1], kill_hook, &ko);
    for (t = 0; t < POOL_TILES; t++) random_cells(iv[t], 256, 0, r);
    for (m = 0; m < 3; m++)
        for (t = 0; t < POOL_TILES; t++) {
            SSP_ASSERT_OK(ctx, ssp_engine_create(&e[m][t], ctx, SSP_ENGINE_SPICE, &p, g_spice));
            if (m < 2) ssp_engine_set_pool(e[m][t], pool[m], 1 + t);
        }
    for (b = 0; b < 3; b++) {
        for (t = 0; t < POOL_TILES; t++) {
            random_inputs(v[t], VECS * 16, r);
            if (b > 0) iv[t][(b * 31 + t) % 256].g = 10e-6 + 90e-6 * gsl_rng_uniform(r);
            vin[t] = v[t];
        }
        if (b == 2) ko = (struct kill_once){1, 1};
        for (m = 0; m < 3; m++) {
            for (t = 0; t < POOL_TILES; t++) {
                SSP_ASSERT_OK(ctx, ssp_engine_set_cells(e[m][t], iv[t]));
                vout[t] = o[m][t];
            }
            SSP_ASSERT_OK(ctx, ssp_engine_run_many(e[m], POOL_TILES, vin, VECS, vout, NULL));
        }
        CU_ASSERT_EQUAL(memcmp(o[0], o[1], sizeof o[0]), 0);
        CU_ASSERT_EQUAL(memcmp(o[0], o[2], sizeof o[0]), 0);
    }
    CU_ASSERT_EQUAL(ssp_pool_restarts(pool[1]), 1);
    /* each worker holds all its tiles' circuits: batches 2 and 3 reuse
     * them, except the killed job's tile in batch 3 */
    CU_ASSERT_EQUAL(ssp_pool_reuses(pool[0]), 2 * POOL_TILES);
    CU_ASSERT_EQUAL(ssp_pool_reuses(pool[1]), 2 * POOL_TILES - 1);
    CU_ASSERT_EQUAL(ssp_pool_loads(pool[1]), POOL_TILES + 1);
    for (m = 0; m < 3; m++)
        for (t = 0; t < POOL_TILES; t++) ssp_engine_destroy(&e[m][t]);
    ssp_pool_destroy(&pool[0]);
    ssp_pool_destroy(&pool[1]);
    gsl_rng_free(r);
}

/* A tile whose worker dies on both tries fails with SSP_EWORKER, named. */
static void kill_always(size_t job, int worker, pid_t pid, void *payload)
{
    (void)job;
    (void)worker;
    (void)payload;
    kill(pid, SIGKILL);
}

static void test_engines__spice_pool_worker_dying_twice_fails(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_pool *pool = NULL;
    ssp_engine *e = NULL;
    ssp_cell_iv iv[256];
    double v[16], o[16];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    reuse_tile(&p);
    gsl_rng_set(r, 16);
    random_cells(iv, 256, 0, r);
    random_inputs(v, 16, r);
    SSP_ASSERT_OK(ctx, ssp_pool_create(&pool, ctx, 1, NULL));
    ssp_pool_set_hook(pool, kill_always, NULL);
    SSP_ASSERT_OK(ctx, ssp_engine_create(&e, ctx, SSP_ENGINE_SPICE, &p, g_spice));
    ssp_engine_set_pool(e, pool, 1);
    SSP_ASSERT_OK(ctx, ssp_engine_set_cells(e, iv));
    CU_ASSERT_EQUAL(ssp_engine_run(e, v, 1, o, NULL), SSP_EWORKER);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "died 2 times"));
    ssp_engine_destroy(&e);
    ssp_pool_destroy(&pool);
    gsl_rng_free(r);
}

/* A tile whose matrix ngspice's KLU cannot factor (736x736: 7.6e7 entries
 * of L estimated, 2.3e9 units of LU storage asked for, above INT_MAX) is
 * refused when the spice engine is made, by name, before ngspice would
 * report it as a singular matrix (it did at 1024x1024). */
static void test_engines__spice_refuses_tile_beyond_klu(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_engine *e = NULL;
    ssp_tile_params_default(&p);
    p.rows = p.cols = 736;
    CU_ASSERT_EQUAL(ssp_engine_create(&e, ctx, SSP_ENGINE_SPICE, &p, g_spice), SSP_ERANGE);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "tile 736x736 is too large for ngspice's KLU"));
}

static void test_engines__layer_too_large_is_rejected(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *l = NULL;
    ssp_layer_params_default(&p);
    p.n_in = 784;
    p.n_out = 200;
    p.max_tiles = 16;
    p.engine = SSP_ENGINE_IDEAL;
    CU_ASSERT_EQUAL(ssp_layer_create(&l, ctx, &p, NULL), SSP_ECONFIG);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "more than the 16 allowed"));
}

int ssp_suite_engines(void); /* registered by the runner */
SSP_TEST_SUITE(engines)
{
    SSP_ADD_SUITE("engines", suite_init, suite_clean,
                  SSP_TEST(test_engines__nodal_matches_spice_linear),
                  SSP_TEST(test_engines__spice_refuses_tile_beyond_klu),
                  SSP_TEST(test_engines__nodal_matches_spice_ideal_wires),
                  SSP_TEST(test_engines__nodal_matches_spice_1t1r),
                  SSP_TEST(test_engines__nodal_matches_spice_sinh_cells),
                  SSP_TEST(test_engines__ideal_matches_spice_without_parasitics),
                  SSP_TEST(test_engines__saturated_tia_agrees),
                  SSP_TEST(test_engines__grid_2x2_equals_unsplit_ideal),
                  SSP_TEST(test_engines__bad_requests_are_rejected),
                  SSP_TEST(test_engines__layer_split_2x2_equals_unsplit),
                  SSP_TEST(test_engines__layer_mapping_report),
                  SSP_TEST(test_engines__layer_too_large_is_rejected),
                  SSP_TEST(test_engines__spice_reuses_loaded_circuit),
                  SSP_TEST(test_engines__spice_pool_equals_one_worker),
                  SSP_TEST(test_engines__spice_pool_worker_dying_twice_fails));
}
