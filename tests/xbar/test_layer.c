/* test_layer.c — a weight layer on a grid of tiles (ssp_layer): actual cells
 * given per weight read as the weights they stand for and padding reads as
 * g_min; weights beyond w_max clip; the reference-column scheme computes the
 * same product as the differential one; the digital gains scale each tile
 * output's share; bad descriptions are refused naming the culprit. Every
 * layer runs on the ideal engine (G·V, no wires), so the analog outputs
 * must equal x·W to rounding (tests/xbar/test_engines.c checks the grid
 * split and the mapping report). */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

#include "ssp_layer.h"
#include "ssp_test.h"

enum { K = 3, N_IN = 7, N_OUT = 5 };
/* Rounding of a sum of 7 products in double: far above, still strict. */
static const double TOL_REL = 1e-12, TOL_ABS = 1e-15;

/* 7 inputs x 5 outputs on 4-row tiles of 3 pairs (6 columns): a 2 x 2
 * grid whose last tile row and column are part padding. */
static void params(ssp_layer_params *p, int scheme)
{
    ssp_layer_params_default(p);
    p->engine = SSP_ENGINE_IDEAL;
    p->n_in = N_IN;
    p->n_out = N_OUT;
    p->tile.rows = 4;
    p->tile.cols = 6;
    p->tile.scheme = scheme;
    p->tile.dac.bits = 0;
    p->w_max = 1.0;
}

static void draw(unsigned long seed, double *w, double *x)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (int i = 0; i < N_IN * N_OUT; i++) w[i] = 1.8 * gsl_rng_uniform(r) - 0.9;
    for (int i = 0; i < K * N_IN; i++) x[i] = 0.2 * gsl_rng_uniform(r);
    gsl_rng_free(r);
}

static double xw(const double *x, const double *w, int q, int j)
{
    double s = 0;
    for (int i = 0; i < N_IN; i++) s += x[q * N_IN + i] * w[i * N_OUT + j];
    return s;
}

/* Linear cells of the conductances the layer gives weight w. */
static void cells_of(const ssp_layer_params *p, const double *w, ssp_cell_iv *plus, ssp_cell_iv *minus)
{
    double scale = (p->g_max - p->g_min) / p->w_max;
    for (int i = 0; i < N_IN * N_OUT; i++) {
        memset(&plus[i], 0, sizeof plus[i]);
        memset(&minus[i], 0, sizeof minus[i]);
        plus[i].kind = minus[i].kind = SSP_IV_LINEAR;
        plus[i].g = p->g_min + (w[i] > 0 ? w[i] : 0) * scale;
        minus[i].g = p->g_min + (w[i] < 0 ? -w[i] : 0) * scale;
    }
}

static void test_layer__cells_read_as_their_weights(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *a = NULL, *b = NULL;
    double w[N_IN * N_OUT], x[K * N_IN], ya[K * N_OUT], aa[K * N_OUT], yb[K * N_OUT], ab[K * N_OUT];
    ssp_cell_iv plus[N_IN * N_OUT], minus[N_IN * N_OUT];
    draw(11, w, x);
    params(&p, SSP_COLS_DIFF);
    SSP_ASSERT_OK(ctx, ssp_layer_create(&a, ctx, &p, NULL));
    SSP_ASSERT_OK(ctx, ssp_layer_create(&b, ctx, &p, NULL));
    CU_ASSERT_EQUAL(ssp_layer_grid_rows(a), 2);
    CU_ASSERT_EQUAL(ssp_layer_grid_cols(a), 2);
    CU_ASSERT_EQUAL(ssp_layer_outputs_per_tile(a), 3);
    SSP_ASSERT_OK(ctx, ssp_layer_set_weights(a, w));
    cells_of(&p, w, plus, minus);
    SSP_ASSERT_OK(ctx, ssp_layer_set_cells(b, plus, minus));
    SSP_ASSERT_OK(ctx, ssp_layer_forward(a, x, K, ya, aa));
    SSP_ASSERT_OK(ctx, ssp_layer_forward(b, x, K, yb, ab));
    for (int q = 0; q < K; q++)
        for (int j = 0; j < N_OUT; j++) {
            /* padding reads g_min on both sides: no share in any output */
            CU_ASSERT(ssp_close_rel(ab[q * N_OUT + j], xw(x, w, q, j), TOL_REL, TOL_ABS));
            CU_ASSERT(ssp_close_rel(aa[q * N_OUT + j], ab[q * N_OUT + j], TOL_REL, TOL_ABS));
            CU_ASSERT_EQUAL(ya[q * N_OUT + j], yb[q * N_OUT + j]);
        }
    ssp_layer_destroy(&a);
    ssp_layer_destroy(&b);
    CU_ASSERT_PTR_NULL(a);
    ssp_layer_destroy(&a);
}

static void test_layer__weights_clip_at_w_max(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *l = NULL;
    double w[N_IN * N_OUT], clipped[N_IN * N_OUT], x[K * N_IN], y[K * N_OUT], a[K * N_OUT];
    draw(12, w, x);
    for (int i = 0; i < N_IN * N_OUT; i++) {
        w[i] *= 3; /* up to +-2.7 */
        clipped[i] = w[i] > 1 ? 1 : w[i] < -1 ? -1 : w[i];
    }
    params(&p, SSP_COLS_DIFF);
    SSP_ASSERT_OK(ctx, ssp_layer_create(&l, ctx, &p, NULL));
    SSP_ASSERT_OK(ctx, ssp_layer_set_weights(l, w));
    SSP_ASSERT_OK(ctx, ssp_layer_forward(l, x, K, y, a));
    for (int q = 0; q < K; q++)
        for (int j = 0; j < N_OUT; j++) CU_ASSERT(ssp_close_rel(a[q * N_OUT + j], xw(x, clipped, q, j), TOL_REL, TOL_ABS));
    ssp_layer_destroy(&l);
}

static void test_layer__reference_scheme_computes_the_same_product(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *l = NULL;
    ssp_weight_loc loc;
    double w[N_IN * N_OUT], x[K * N_IN], y[K * N_OUT], a[K * N_OUT];
    ssp_cell_iv plus[N_IN * N_OUT], minus[N_IN * N_OUT];
    draw(13, w, x);
    params(&p, SSP_COLS_REF);
    SSP_ASSERT_OK(ctx, ssp_layer_create(&l, ctx, &p, NULL));
    /* 6 columns: 5 outputs and the reference: one tile column */
    CU_ASSERT_EQUAL(ssp_layer_outputs_per_tile(l), 5);
    CU_ASSERT_EQUAL(ssp_layer_grid_cols(l), 1);
    ssp_layer_locate(l, 6, 4, &loc);
    CU_ASSERT_EQUAL(loc.tile_row, 1);
    CU_ASSERT_EQUAL(loc.row, 2);
    CU_ASSERT_EQUAL(loc.col_plus, 4);
    CU_ASSERT_EQUAL(loc.col_minus, 5);
    SSP_ASSERT_OK(ctx, ssp_layer_set_weights(l, w));
    SSP_ASSERT_OK(ctx, ssp_layer_forward(l, x, K, y, a));
    for (int q = 0; q < K; q++)
        for (int j = 0; j < N_OUT; j++) CU_ASSERT(ssp_close_rel(a[q * N_OUT + j], xw(x, w, q, j), TOL_REL, TOL_ABS));
    /* per-weight minus devices have no place in this scheme */
    cells_of(&p, w, plus, minus);
    CU_ASSERT_EQUAL(ssp_layer_set_cells(l, plus, minus), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "differential"));
    ssp_layer_destroy(&l);
}

static void test_layer__gains_scale_one_tile_output(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *l = NULL;
    double w[N_IN * N_OUT], x[K * N_IN], y0[K * N_OUT], a0[K * N_OUT], y1[K * N_OUT], a1[K * N_OUT];
    double *gain, part;
    draw(14, w, x);
    params(&p, SSP_COLS_DIFF);
    SSP_ASSERT_OK(ctx, ssp_layer_create(&l, ctx, &p, NULL));
    SSP_ASSERT_OK(ctx, ssp_layer_set_weights(l, w));
    gain = ssp_layer_gains(l);
    for (size_t i = 0; i < 2 * 2 * 3; i++) CU_ASSERT_EQUAL(gain[i], 1.0);
    SSP_ASSERT_OK(ctx, ssp_layer_forward(l, x, K, y0, a0));
    /* tile (1, 0) output 1 = weight column 1, input rows 4..6: doubled */
    gain[(1 * 2 + 0) * 3 + 1] = 2.0;
    SSP_ASSERT_OK(ctx, ssp_layer_forward(l, x, K, y1, a1));
    for (int q = 0; q < K; q++)
        for (int j = 0; j < N_OUT; j++) {
            part = 0;
            if (j == 1)
                for (int i = 4; i < N_IN; i++) part += x[q * N_IN + i] * w[i * N_OUT + j];
            CU_ASSERT(ssp_close_rel(a1[q * N_OUT + j], a0[q * N_OUT + j] + part, TOL_REL, TOL_ABS));
            if (j != 1) CU_ASSERT_EQUAL(y1[q * N_OUT + j], y0[q * N_OUT + j]);
        }
    ssp_layer_destroy(&l);
}

static void test_layer__bad_descriptions_are_refused(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_layer_params p;
    ssp_layer *l = NULL;
    params(&p, SSP_COLS_DIFF);
    p.max_tiles = 3; /* the grid needs 4 */
    CU_ASSERT_EQUAL(ssp_layer_create(&l, ctx, &p, NULL), SSP_ECONFIG);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "4 tiles"));
    params(&p, SSP_COLS_DIFF);
    p.n_out = 0;
    CU_ASSERT_EQUAL(ssp_layer_create(&l, ctx, &p, NULL), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "n_out = 0"));
    params(&p, SSP_COLS_DIFF);
    p.g_max = p.g_min;
    CU_ASSERT_EQUAL(ssp_layer_create(&l, ctx, &p, NULL), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "g_min"));
    params(&p, SSP_COLS_DIFF);
    p.tile.rows = 0; /* the tile check names the field */
    CU_ASSERT_NOT_EQUAL(ssp_layer_create(&l, ctx, &p, NULL), SSP_OK);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "rows"));
}

SSP_TEST_SUITE(layer)
{
    SSP_ADD_SUITE("layer", NULL, NULL,
                  SSP_TEST(test_layer__cells_read_as_their_weights),
                  SSP_TEST(test_layer__weights_clip_at_w_max),
                  SSP_TEST(test_layer__reference_scheme_computes_the_same_product),
                  SSP_TEST(test_layer__gains_scale_one_tile_output),
                  SSP_TEST(test_layer__bad_descriptions_are_refused));
}
