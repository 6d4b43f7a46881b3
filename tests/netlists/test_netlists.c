/* test_netlists.c — circuit description, its checks, the SPICE emitter
 * (golden files), the periphery models and the nodal solver's physics.
 * Golden files are regenerated with SSP_UPDATE_GOLDEN=1 (then inspect the
 * diff and run them with `ngspice -b`). */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_circuit.h"
#include "ssp_file.h"
#include "ssp_nodal.h"
#include "ssp_spice_emit.h"
#include "ssp_test.h"

/* Finite-difference check of analytic derivatives (relative). */
static const double TOL_DERIV_REL = 1e-6;
/* Step for those finite differences (V). */
static const double FD_STEP_V = 1e-7;
/* Exactness of linear algebra identities (relative). */
static const double TOL_EXACT_REL = 1e-12;
/* Agreement of the nodal fast path with the reference MNA path (relative),
 * and the floor below which outputs are compared absolutely (V). */
static const double TOL_FAST_REL = 1e-10;
static const double TOL_FAST_FLOOR_V = 1e-12;

static void tile4(ssp_tile_params *p, int cell)
{
    ssp_tile_params_default(p);
    p->rows = 4;
    p->cols = 4;
    p->cell = cell;
}

static void random_g(double *g, size_t n, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++) g[i] = 10e-6 + 90e-6 * gsl_rng_uniform(r);
    gsl_rng_free(r);
}

static int has_element(const ssp_circuit *c, const char *name)
{
    const ssp_element *el = ssp_circuit_elements(c);
    for (size_t i = 0; i < ssp_circuit_n_elements(c); i++)
        if (strcmp(el[i].name, name) == 0) return 1;
    return 0;
}

/* ---- descriptions ----------------------------------------------------- */

static void test_netlists__defaults_pass_check(void)
{
    ssp_tile_params p;
    ssp_tile_params_default(&p);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_tile_params_check(ssp_test_ctx(), &p));
    CU_ASSERT_DOUBLE_EQUAL(ssp_tile_r_segment(&p), 2.5, 1e-15);
    CU_ASSERT_EQUAL(ssp_tile_outputs(&p), 32);
}

static void expect_config_error(ssp_tile_params *p, const char *needle)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_circuit *c = NULL;
    CU_ASSERT_EQUAL(ssp_circuit_create(&c, ctx, p), SSP_ECONFIG);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), needle));
}

static void test_netlists__rejects_zero_rows(void)
{
    ssp_tile_params p;
    ssp_tile_params_default(&p);
    p.rows = 0;
    expect_config_error(&p, "rows = 0");
    p.rows = SSP_TILE_MAX + 1;
    {
        char want[32];
        snprintf(want, sizeof want, "rows = %d", SSP_TILE_MAX + 1);
        expect_config_error(&p, want);
    }
}

static void test_netlists__rejects_negative_resistance(void)
{
    ssp_tile_params p;
    ssp_tile_params_default(&p);
    p.r_wire_per_um = -1;
    expect_config_error(&p, "r_wire_per_um = -1");
    ssp_tile_params_default(&p);
    p.r_sense = -0.5;
    expect_config_error(&p, "r_sense");
    ssp_tile_params_default(&p);
    p.tia.r_f = 0;
    expect_config_error(&p, "tia.r_f");
}

static void test_netlists__rejects_unknown_cell_type(void)
{
    ssp_tile_params p;
    ssp_ctx *ctx;
    int cell = -1;
    ssp_tile_params_default(&p);
    p.cell = 7;
    expect_config_error(&p, "unknown cell type 7");
    ctx = ssp_test_ctx();
    CU_ASSERT_EQUAL(ssp_cell_type_parse(ctx, "2t2r", &cell), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "'2t2r'"));
    SSP_ASSERT_OK(ctx, ssp_cell_type_parse(ctx, "1t1r", &cell));
    CU_ASSERT_EQUAL(cell, SSP_CELL_1T1R);
}

static void test_netlists__rejects_odd_columns_for_pairs(void)
{
    ssp_tile_params p;
    ssp_tile_params_default(&p);
    p.cols = 7;
    expect_config_error(&p, "must be even");
    p.scheme = SSP_COLS_REF; /* 6 weights + reference: fine */
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_tile_params_check(ssp_test_ctx(), &p));
}

static void test_netlists__rejects_rails_not_around_zero(void)
{
    ssp_tile_params p;
    ssp_tile_params_default(&p);
    p.tia.v_lo = 0.0;
    expect_config_error(&p, "straddle 0 V");
}

static void test_netlists__rejects_bad_cells(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    double g[16];
    ssp_cell_iv iv[16];
    tile4(&p, SSP_CELL_1R);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    random_g(g, 16, 1);
    g[5] = 0;
    CU_ASSERT_EQUAL(ssp_circuit_set_conductances(c, ctx, g), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "cell (1, 1)"));
    for (int i = 0; i < 16; i++) iv[i] = (ssp_cell_iv){SSP_IV_SINH, 0, 1e-6, 1e-6, 2.0};
    iv[3].kind = 9;
    CU_ASSERT_EQUAL(ssp_circuit_set_cells(c, ctx, iv), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "unknown I-V kind 9"));
    iv[3].kind = SSP_IV_SINH;
    iv[3].b = -1;
    CU_ASSERT_EQUAL(ssp_circuit_set_cells(c, ctx, iv), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_circuit_version(c), 0);
    ssp_circuit_destroy(&c);
    ssp_circuit_destroy(&c); /* NULL is fine */
}

static void test_netlists__names_follow_rows_and_pairs(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_tile_params_default(&p);
    p.rows = 16;
    p.cols = 16;
    p.cell = SSP_CELL_1T1R;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    CU_ASSERT(has_element(c, "r12_c7p"));
    CU_ASSERT(has_element(c, "bt12_c7n"));
    CU_ASSERT(has_element(c, "rw12_c7p"));
    CU_ASSERT(has_element(c, "bo_c7n"));
    CU_ASSERT(!has_element(c, "r12_c8p"));
    ssp_circuit_destroy(&c);
    p.scheme = SSP_COLS_REF;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    CU_ASSERT(has_element(c, "r3_c14"));
    CU_ASSERT(has_element(c, "r3_cref"));
    ssp_circuit_destroy(&c);
}

static void test_netlists__zero_resistance_merges_nodes(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    tile4(&p, SSP_CELL_1R);
    p.r_wire_per_um = 0;
    p.r_driver = 0;
    p.dac.r_out = 0;
    p.r_sense = 0;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    /* one node per word line and per bit line, plus per column p_ and out_ */
    CU_ASSERT_EQUAL(ssp_circuit_n_nodes(c), 4 + 4 + 2 * 4);
    for (size_t i = 0; i < ssp_circuit_n_elements(c); i++)
        CU_ASSERT(ssp_circuit_elements(c)[i].kind != SSP_EL_RES ||
                  ssp_circuit_elements(c)[i].name[1] == 'f');
    ssp_circuit_destroy(&c);
}

/* ---- emission ------------------------------------------------------------ */

/* The 4x4 golden tiles: conductances from seed 4, inputs fixed. */
static char *emit_golden_tile(int cell)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_emit_opts o;
    double g[16], vin[4] = {0.05, 0.1, 0.15, 0.2};
    char *text = NULL;
    tile4(&p, cell);
    random_g(g, 16, 4);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    memset(&o, 0, sizeof o);
    o.v_in = vin;
    o.control = 1;
    SSP_ASSERT_OK(ctx, ssp_spice_emit_text(&text, ctx, c, &o));
    ssp_circuit_destroy(&c);
    return text;
}

static void check_golden(int cell, const char *rel)
{
    char *text = emit_golden_tile(cell);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    ssp_test_golden(rel, text);
    free(text);
}

static void test_netlists__golden_4x4_1r(void) { check_golden(SSP_CELL_1R, "tests/golden/tile4x4_1r.cir"); }

static void test_netlists__golden_4x4_1t1r(void)
{
    check_golden(SSP_CELL_1T1R, "tests/golden/tile4x4_1t1r.cir");
}

static void test_netlists__emit_streaming_form(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    double g[16];
    char *text = NULL;
    size_t saves = 0;
    const char *q;
    tile4(&p, SSP_CELL_1R);
    random_g(g, 16, 2);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_spice_emit_text(&text, ctx, c, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n.options klu\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nvr3 in3 0 dc 0 external\n"));
    CU_ASSERT_PTR_NULL(strstr(text, ".control"));
    CU_ASSERT_PTR_NULL(strstr(text, "\ncp_")); /* no capacitor in a read netlist */
    for (q = text; (q = strstr(q, "\n.save ")) != NULL; q++) saves++;
    CU_ASSERT_EQUAL(saves, 4);
    free(text);
    ssp_circuit_destroy(&c);
}

static void test_netlists__emit_pole_and_dynamic_cells(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_emit_opts o;
    double g[16];
    char *text = NULL;
    tile4(&p, SSP_CELL_1R);
    random_g(g, 16, 3);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    memset(&o, 0, sizeof o);
    o.tia_pole = 1;
    o.include = "devices.lib";
    o.cell_subckt = "memristor";
    SSP_ASSERT_OK(ctx, ssp_spice_emit_text(&text, ctx, c, &o));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n.include devices.lib\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nxr2_c1p w2_c1p b2_c1p memristor\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ncp_out_c0p op_out_c0p 0 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\neo_out_c0p out_c0p 0 op_out_c0p 0 1\n"));
    free(text);
    ssp_circuit_destroy(&c);
}

static void test_netlists__emit_file_into_missing_dir_fails(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    double g[16];
    tile4(&p, SSP_CELL_1R);
    random_g(g, 16, 3);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    CU_ASSERT_EQUAL(ssp_spice_emit_file("/nonexistent-dir/t.cir", ctx, c, NULL), SSP_EIO);
    ssp_circuit_destroy(&c);
}

/* ---- periphery and element equations -------------------------------------- */

static void test_netlists__dac_quantises_and_clips(void)
{
    ssp_dac_params d = {8, -0.2, 0.2, 0.0};
    double step = 0.4 / 256;
    CU_ASSERT_DOUBLE_EQUAL(ssp_dac_voltage(&d, 0.0), 0.0, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(ssp_dac_voltage(&d, 0.3 * step), 0.0, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(ssp_dac_voltage(&d, 0.7 * step), step, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ssp_dac_voltage(&d, 5.0), 0.2 - step, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ssp_dac_voltage(&d, -5.0), -0.2, 1e-15);
    d.bits = 0;
    CU_ASSERT_DOUBLE_EQUAL(ssp_dac_voltage(&d, 0.123456789), 0.123456789, 1e-18);
}

static void test_netlists__adc_codes_clip(void)
{
    ssp_adc_params a = {8, 1.0, 0.0};
    double lsb = ssp_adc_lsb(&a);
    CU_ASSERT_DOUBLE_EQUAL(lsb, 1.0 / 128, 1e-18);
    CU_ASSERT_EQUAL(ssp_adc_code(&a, 0.0), 0);
    CU_ASSERT_EQUAL(ssp_adc_code(&a, 3.4 * lsb), 3);
    CU_ASSERT_EQUAL(ssp_adc_code(&a, -3.6 * lsb), -4);
    CU_ASSERT_EQUAL(ssp_adc_code(&a, 9.0), 127);
    CU_ASSERT_EQUAL(ssp_adc_code(&a, -9.0), -128);
}

static void test_netlists__rail_linear_inside_saturates_outside(void)
{
    ssp_tile_params p;
    double d;
    ssp_tile_params_default(&p);
    CU_ASSERT_EQUAL(ssp_tia_rail(&p.tia, 0.7, &d), 0.7);
    CU_ASSERT_EQUAL(d, 1.0);
    CU_ASSERT(ssp_tia_rail(&p.tia, 100.0, &d) <= p.tia.v_hi);
    CU_ASSERT(ssp_tia_rail(&p.tia, 100.0, NULL) > p.tia.v_hi - 1e-9);
    CU_ASSERT(ssp_tia_rail(&p.tia, -100.0, NULL) >= p.tia.v_lo);
    /* C1 at the knee */
    {
        double e = p.tia.v_hi - p.tia.v_knee, dl, dr;
        ssp_tia_rail(&p.tia, e - 1e-9, &dl);
        ssp_tia_rail(&p.tia, e + 1e-9, &dr);
        CU_ASSERT_DOUBLE_EQUAL(dl, dr, 1e-6);
    }
}

static void test_netlists__nmos_derivatives_match_differences(void)
{
    ssp_tile_params p;
    const double pts[][3] = {{0.3, 1.2, 0.05}, {0.05, 1.2, 0.3}, {0.1, 0.3, 0.0}, {0.9, 1.2, 0.0}};
    ssp_tile_params_default(&p);
    for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
        double vd = pts[k][0], vg = pts[k][1], vs = pts[k][2], gd, gg, gs, h = FD_STEP_V;
        double i0 = ssp_nmos_current(&p.nmos, vd, vg, vs, &gd, &gg, &gs);
        double fd = (ssp_nmos_current(&p.nmos, vd + h, vg, vs, NULL, NULL, NULL) -
                     ssp_nmos_current(&p.nmos, vd - h, vg, vs, NULL, NULL, NULL)) / (2 * h);
        double fg = (ssp_nmos_current(&p.nmos, vd, vg + h, vs, NULL, NULL, NULL) -
                     ssp_nmos_current(&p.nmos, vd, vg - h, vs, NULL, NULL, NULL)) / (2 * h);
        double fs = (ssp_nmos_current(&p.nmos, vd, vg, vs + h, NULL, NULL, NULL) -
                     ssp_nmos_current(&p.nmos, vd, vg, vs - h, NULL, NULL, NULL)) / (2 * h);
        CU_ASSERT(ssp_close_rel(gd, fd, TOL_DERIV_REL, 1e-12));
        CU_ASSERT(ssp_close_rel(gg, fg, TOL_DERIV_REL, 1e-12));
        CU_ASSERT(ssp_close_rel(gs, fs, TOL_DERIV_REL, 1e-12));
        /* antisymmetric in drain/source */
        CU_ASSERT(ssp_close_rel(ssp_nmos_current(&p.nmos, vs, vg, vd, NULL, NULL, NULL), -i0,
                                TOL_EXACT_REL, 1e-18));
    }
    CU_ASSERT_EQUAL(ssp_nmos_current(&p.nmos, 0.2, 0.1, 0.0, NULL, NULL, NULL), 0.0); /* off */
}

/* ---- nodal solver ------------------------------------------------------------ */

static void test_netlists__nodal_factors_once_per_state(void)
{
    enum { K = 40 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *n = NULL;
    ssp_nodal_stats st;
    double g[16 * 16], v[K * 16], out[K * 16], out1[16];
    ssp_tile_params_default(&p);
    p.rows = p.cols = 16;
    random_g(g, 256, 5);
    random_g(v, K * 16, 6); /* 10..100 uV-scale numbers: any inputs do */
    for (int i = 0; i < K * 16; i++) v[i] *= 2000.0;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 16));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, K, out));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g)); /* unchanged */
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, K, out));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.factors, 1);
    CU_ASSERT_EQUAL(st.refactors, 0);
    CU_ASSERT_EQUAL(st.solves, 2 * K);
    CU_ASSERT_EQUAL(st.newton_vectors, 0);
    /* a single vector gives the same numbers as inside the block */
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v + 7 * 16, 1, out1));
    for (int j = 0; j < 16; j++) CU_ASSERT(ssp_close_rel(out1[j], out[7 * 16 + j], TOL_EXACT_REL, 0));
    g[17] *= 1.5;
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out1));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.factors + st.refactors, 2);
    ssp_nodal_destroy(&n);
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
}

/* Output of column j for uniform cells and equal inputs, ideal TIA (so the
 * output is exactly −Rf times the column current). */
static void uniform_outputs(size_t rows, size_t cols, double rwire, double *out)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *n = NULL;
    double *g = malloc(rows * cols * sizeof *g), *v = malloc(rows * sizeof *v);
    ssp_tile_params_default(&p);
    p.rows = rows;
    p.cols = cols;
    p.r_wire_per_um = rwire;
    p.r_driver = p.dac.r_out = p.r_sense = 0; /* only the wires drop voltage */
    p.tia.ideal = 1;
    p.dac.bits = 0;
    for (size_t i = 0; i < rows * cols; i++) g[i] = 100e-6;
    for (size_t i = 0; i < rows; i++) v[i] = 0.1;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 0));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out));
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
    free(g);
    free(v);
}

static void test_netlists__ir_drop_falls_with_distance(void)
{
    double out[32];
    uniform_outputs(32, 32, 5.0, out);
    for (int j = 1; j < 32; j++) CU_ASSERT(fabs(out[j]) < fabs(out[j - 1]));
}

static void test_netlists__ir_drop_grows_with_n_m_r_g(void)
{
    /* relative error of the far column vs the ideal 32·0.1 V·100 uS·Rf */
    const double rw[3] = {1.0, 2.0, 4.0};
    const size_t sz[3] = {8, 16, 32};
    double out[32], err_r[3], err_n[3];
    for (int k = 0; k < 3; k++) {
        uniform_outputs(16, 16, rw[k], out);
        err_r[k] = 1.0 - fabs(out[15]) / (16 * 0.1 * 100e-6 * 1e3);
        uniform_outputs(sz[k], sz[k], 2.0, out);
        err_n[k] = 1.0 - fabs(out[sz[k] - 1]) / ((double)sz[k] * 0.1 * 100e-6 * 1e3);
    }
    for (int k = 1; k < 3; k++) {
        /* small-drop regime: error ∝ R_wire, and grows faster than N·M */
        CU_ASSERT(err_r[k] > err_r[k - 1]);
        CU_ASSERT(fabs(err_r[k] / err_r[k - 1] - 2.0) < 0.2);
        CU_ASSERT(err_n[k] > 2.0 * err_n[k - 1]);
    }
    CU_ASSERT(err_r[0] > 0);
}

static void test_netlists__nodal_sinh_cells_need_newton(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *n = NULL;
    ssp_nodal_stats st;
    ssp_cell_iv iv[16];
    double v[4] = {0.1, 0.2, 0.15, 0.05}, out[4];
    tile4(&p, SSP_CELL_1R);
    p.r_wire_per_um = 0;
    p.r_driver = p.dac.r_out = p.r_sense = 0;
    p.tia.ideal = 1;
    for (int i = 0; i < 16; i++) iv[i] = (ssp_cell_iv){SSP_IV_SINH, 0, 2e-5 + 1e-6 * i, 1e-5, 3.0};
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_cells(c, ctx, iv));
    CU_ASSERT(ssp_circuit_is_nonlinear(c));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 0));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.newton_vectors, 1);
    CU_ASSERT(st.newton_iterations >= 2);
    CU_ASSERT_PTR_NOT_NULL(ssp_nodal_last_solution(n));
    {
        /* node voltages (ground left out) then branch currents, all finite */
        const double *x = ssp_nodal_last_solution(n);
        size_t dim = ssp_nodal_dim(n);
        CU_ASSERT(dim >= ssp_circuit_n_nodes(c) - 1);
        for (size_t k = 0; k < dim; k++) CU_ASSERT(isfinite(x[k]));
    }
    /* ideal wires and TIA: out_j = −Rf Σ_i gp sinh(b v_i) exactly */
    for (int j = 0; j < 4; j++) {
        double want = 0;
        for (int i = 0; i < 4; i++) want += iv[i * 4 + j].gp * sinh(3.0 * v[i]);
        CU_ASSERT(ssp_close_rel(out[j], -1e3 * want, 1e-10, 0));
    }
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
}

/* ---- nodal fast path -------------------------------------------------------- */

/* Reference and automatic solvers on one circuit. */
struct fast_pair {
    ssp_circuit *c;
    ssp_nodal *ref, *fast;
};

static void fast_pair_create(struct fast_pair *fp, const ssp_tile_params *p, const double *g)
{
    ssp_ctx *ctx = ssp_test_ctx();
    memset(fp, 0, sizeof *fp);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&fp->c, ctx, p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(fp->c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&fp->ref, ctx, fp->c, 0));
    SSP_ASSERT_OK(ctx, ssp_nodal_set_path(fp->ref, SSP_NODAL_PATH_REFERENCE));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&fp->fast, ctx, fp->c, 0));
}

static void fast_pair_destroy(struct fast_pair *fp)
{
    ssp_nodal_destroy(&fp->fast);
    ssp_nodal_destroy(&fp->ref);
    ssp_circuit_destroy(&fp->c);
}

/* Max relative difference of the two paths on k vectors v. */
static double fast_pair_diff(struct fast_pair *fp, const double *v, size_t k)
{
    const ssp_tile_params *p = ssp_circuit_params(fp->c);
    double *a = malloc(k * p->cols * sizeof *a), *b = malloc(k * p->cols * sizeof *b), m = 0;
    ssp_ctx *ctx = ssp_test_ctx();
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(fp->ref, v, k, a));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(fp->fast, v, k, b));
    for (size_t i = 0; i < k * p->cols; i++) {
        double d = fabs(a[i] - b[i]) / fmax(fmax(fabs(a[i]), fabs(b[i])), TOL_FAST_FLOOR_V);
        if (d > m) m = d;
    }
    free(a);
    free(b);
    return m;
}

/* Random inputs in [0, vmax] V. */
static double *random_inputs(size_t n, double vmax, unsigned long seed)
{
    double *v = malloc(n * sizeof *v);
    random_g(v, n, seed);
    for (size_t i = 0; i < n; i++) v[i] = vmax * (v[i] - 10e-6) / 90e-6;
    return v;
}

static void test_netlists__nodal_fast_equals_reference(void)
{
    enum { K = 8 };
    const size_t sizes[5] = {8, 16, 32, 64, 128};
    for (int k = 0; k < 5; k++) {
        size_t n = sizes[k];
        if (n > 64 && getenv("SSP_UNDER_VALGRIND")) continue;
        for (int variant = 0; variant < 4; variant++) {
            ssp_tile_params p;
            struct fast_pair fp;
            ssp_nodal_stats sf, sr;
            double *g = malloc(n * n * sizeof *g), *v = random_inputs(K * n, 0.1, 100 + n);
            double m;
            ssp_tile_params_default(&p);
            p.rows = p.cols = n;
            if (variant & 1) p.r_wire_per_um = 0; /* ideal wires */
            if (variant & 2) p.tia.vos = 0;        /* no offset */
            random_g(g, n * n, 10 * n + (unsigned long)variant);
            fast_pair_create(&fp, &p, g);
            CU_ASSERT(ssp_nodal_has_fast_path(fp.fast));
            m = fast_pair_diff(&fp, v, K);
            CU_ASSERT(m <= TOL_FAST_REL);
            if (m > TOL_FAST_REL) fprintf(stderr, "\n  %zux%zu variant %d: %.3e\n", n, n, variant, m);
            ssp_nodal_get_stats(fp.fast, &sf);
            ssp_nodal_get_stats(fp.ref, &sr);
            CU_ASSERT_EQUAL(sf.fast_reads, K);
            CU_ASSERT_EQUAL(sf.fast_fallbacks, 0);
            CU_ASSERT_EQUAL(sr.fast_reads, 0);
            fast_pair_destroy(&fp);
            free(g);
            free(v);
        }
    }
}

static void test_netlists__nodal_fast_ideal_tia_equals_reference(void)
{
    enum { N = 16, K = 4 };
    ssp_tile_params p;
    struct fast_pair fp;
    ssp_nodal_stats sf;
    double g[N * N], *v = random_inputs(K * N, 0.2, 7);
    ssp_tile_params_default(&p);
    p.rows = p.cols = N;
    p.tia.ideal = 1;
    random_g(g, N * N, 8);
    fast_pair_create(&fp, &p, g);
    CU_ASSERT(fast_pair_diff(&fp, v, K) <= TOL_FAST_REL);
    ssp_nodal_get_stats(fp.fast, &sf);
    CU_ASSERT_EQUAL(sf.fast_reads, K);
    fast_pair_destroy(&fp);
    free(v);
}

/* Other shapes and element layouts the reduction must follow: a tall and a
 * wide tile, the reference-column scheme, no sense resistor (sense node
 * merged into the TIA input), no driver resistance with wires (the first
 * word-line segment hangs on the source node). */
static void test_netlists__nodal_fast_other_layouts_equal_reference(void)
{
    enum { K = 3 };
    for (int variant = 0; variant < 4; variant++) {
        ssp_tile_params p;
        struct fast_pair fp;
        ssp_nodal_stats sf;
        double *g, *v, m;
        ssp_tile_params_default(&p);
        p.rows = variant == 0 ? 24 : 12;
        p.cols = variant == 1 ? 30 : 10;
        if (variant == 1) p.scheme = SSP_COLS_REF;
        if (variant == 2) p.r_sense = 0;
        if (variant == 3) p.r_driver = p.dac.r_out = 0;
        g = malloc(p.rows * p.cols * sizeof *g);
        v = random_inputs(K * p.rows, 0.2, 40 + (unsigned long)variant);
        random_g(g, p.rows * p.cols, 50 + (unsigned long)variant);
        fast_pair_create(&fp, &p, g);
        CU_ASSERT(ssp_nodal_has_fast_path(fp.fast));
        m = fast_pair_diff(&fp, v, K);
        CU_ASSERT(m <= TOL_FAST_REL);
        if (m > TOL_FAST_REL) fprintf(stderr, "\n  layout %d: %.3e\n", variant, m);
        ssp_nodal_get_stats(fp.fast, &sf);
        CU_ASSERT_EQUAL(sf.fast_reads, K);
        fast_pair_destroy(&fp);
        free(g);
        free(v);
    }
}

/* A cell on a source-fixed node (ideal wires and ideal driver: the word line
 * is the source node) has no exact reduction: reference path only, same
 * numbers as before. */
static void test_netlists__nodal_fast_refuses_cells_on_sources(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *n = NULL;
    ssp_nodal_stats st;
    double g[16], v[4] = {0.1, 0.2, 0.15, 0.05}, out[4];
    tile4(&p, SSP_CELL_1R);
    p.r_wire_per_um = 0;
    p.r_driver = p.dac.r_out = 0;
    random_g(g, 16, 16);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 0));
    CU_ASSERT_FALSE(ssp_nodal_has_fast_path(n));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.fast_reads, 0);
    CU_ASSERT_EQUAL(st.solves, 1);
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
}

/* Few cells per step (low-rank updates), enough steps to pass the rebase
 * threshold, then a change of every cell (a full rebase). */
static void test_netlists__nodal_fast_follows_cell_changes(void)
{
    enum { N = 32, K = 4, STEPS = 30, CELLS = 12 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    struct fast_pair fp;
    ssp_nodal_stats sf;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double g[N * N], *v = random_inputs(K * N, 0.2, 9), m = 0, g5;
    ssp_tile_params_default(&p);
    p.rows = p.cols = N;
    random_g(g, N * N, 10);
    g5 = g[5];
    gsl_rng_set(r, 11);
    fast_pair_create(&fp, &p, g);
    for (int s = 0; s <= STEPS; s++) {
        if (s == STEPS) random_g(g, N * N, 12);
        else
            for (int i = 0; i < CELLS; i++)
                g[gsl_rng_uniform_int(r, N * N)] = 10e-6 + 90e-6 * gsl_rng_uniform(r);
        if (s == 1) g[5] = 2 * g5;
        if (s == 2) g[5] = g5; /* back to its factored value: a zero update */
        SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(fp.c, ctx, g));
        m = fmax(m, fast_pair_diff(&fp, v, K));
    }
    CU_ASSERT(m <= TOL_FAST_REL);
    ssp_nodal_get_stats(fp.fast, &sf);
    CU_ASSERT(sf.fast_updates >= STEPS - 4);
    CU_ASSERT(sf.fast_cell_solves >= (unsigned long)(STEPS * CELLS / 2));
    CU_ASSERT(sf.factors + sf.refactors - sf.fast_updates >= 3); /* rebases happened */
    CU_ASSERT_EQUAL(sf.fast_reads, (STEPS + 1) * K);
    fast_pair_destroy(&fp);
    gsl_rng_free(r);
    free(v);
}

/* TIAs driven into their rails: the fast path leaves its linear answer and
 * solves the TIA equations by Newton, to the reference path's numbers. */
static void test_netlists__nodal_fast_clamped_tile_leaves_linear_path(void)
{
    enum { N = 16, K = 3 };
    const double rf[2] = {2e4, 4e4};
    for (int c = 0; c < 2; c++) {
        ssp_ctx *ctx = ssp_test_ctx();
        ssp_tile_params p;
        struct fast_pair fp;
        ssp_nodal_stats sf;
        double g[N * N], v[K * N], m;
        ssp_tile_params_default(&p);
        p.rows = p.cols = N;
        p.tia.r_f = rf[c]; /* 16 rows x 55 uS x 0.2 V x 20 kohm = 3.5 V: beyond the rails */
        random_g(g, N * N, 13);
        for (int i = 0; i < K * N; i++) v[i] = i < N ? 1e-3 : 0.2 * (i % 3 + 1) / 3.0;
        fast_pair_create(&fp, &p, g);
        m = fast_pair_diff(&fp, v, K);
        CU_ASSERT(m <= TOL_FAST_REL);
        if (m > TOL_FAST_REL) fprintf(stderr, "\n  rails, r_f %g: %.3e\n", rf[c], m);
        ssp_nodal_get_stats(fp.fast, &sf);
        CU_ASSERT_EQUAL(sf.fast_rail_newtons, K - 1);
        CU_ASSERT_EQUAL(sf.fast_reads, K);
        CU_ASSERT_EQUAL(sf.fast_fallbacks, 0);
        CU_ASSERT_EQUAL(sf.newton_vectors, 0);
        /* after a few cells change (a low-rank state), still the same numbers */
        g[3] *= 1.7;
        g[N + 5] *= 0.6;
        SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(fp.c, ctx, g));
        CU_ASSERT(fast_pair_diff(&fp, v, K) <= TOL_FAST_REL);
        ssp_nodal_get_stats(fp.fast, &sf);
        CU_ASSERT_EQUAL(sf.fast_updates, 1);
        CU_ASSERT_EQUAL(sf.fast_rail_newtons, 2 * (K - 1));
        fast_pair_destroy(&fp);
    }
}

static void test_netlists__nodal_fast_not_for_nonlinear_cells(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *n = NULL;
    ssp_nodal_stats st;
    ssp_cell_iv iv[16];
    double g[16], v[4] = {0.1, 0.2, 0.15, 0.05}, out[4];
    tile4(&p, SSP_CELL_1T1R);
    random_g(g, 16, 14);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 0));
    CU_ASSERT_FALSE(ssp_nodal_has_fast_path(n));
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
    /* 1R structure, sinh cells: the fast path exists but does not apply */
    tile4(&p, SSP_CELL_1R);
    for (int i = 0; i < 16; i++) iv[i] = (ssp_cell_iv){SSP_IV_SINH, 0, 2e-5, 1e-5, 3.0};
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_cells(c, ctx, iv));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 0));
    CU_ASSERT(ssp_nodal_has_fast_path(n));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.fast_reads, 0);
    CU_ASSERT_EQUAL(st.newton_vectors, 1);
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
}

static void test_netlists__nodal_path_switches(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_nodal *n = NULL;
    ssp_nodal_stats st;
    double g[16], v[4] = {0.1, 0.2, 0.15, 0.05}, out[4];
    tile4(&p, SSP_CELL_1R);
    random_g(g, 16, 15);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    setenv("SSP_NODAL_PATH", "reference", 1);
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&n, ctx, c, 0));
    unsetenv("SSP_NODAL_PATH");
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.fast_reads, 0);
    SSP_ASSERT_OK(ctx, ssp_nodal_set_path(n, SSP_NODAL_PATH_AUTO));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(n, v, 1, out));
    ssp_nodal_get_stats(n, &st);
    CU_ASSERT_EQUAL(st.fast_reads, 1);
    CU_ASSERT_EQUAL(ssp_nodal_set_path(n, 7), SSP_EINVAL);
    ssp_nodal_destroy(&n);
    ssp_circuit_destroy(&c);
}

/* ---- what ngspice's KLU needs ------------------------------------------ */

static void klu_tile(ssp_tile_params *p, size_t n, int cell)
{
    ssp_tile_params_default(p);
    p->rows = p->cols = n;
    p->cell = cell;
}

/* The estimate follows ngspice's KLU sizing (10 x AMD's nnz(L) + block
 * order, indices and values, L and U) and grows with the tile; both
 * cell kinds fit ngspice at small sizes. */
static void test_netlists__klu_estimate_follows_ngspice_sizing(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_spice_klu_need small, big;
    for (int cell = SSP_CELL_1R; cell <= SSP_CELL_1T1R; cell++) {
        klu_tile(&p, 16, cell);
        SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
        SSP_ASSERT_OK(ctx, ssp_spice_klu_estimate(&small, ctx, c));
        ssp_circuit_destroy(&c);
        klu_tile(&p, 32, cell);
        SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
        SSP_ASSERT_OK(ctx, ssp_spice_klu_estimate(&big, ctx, c));
        SSP_ASSERT_OK(ctx, ssp_spice_klu_check(ctx, c, 0));
        ssp_circuit_destroy(&c);
        CU_ASSERT(big.n > ssp_tile_outputs(&p) && big.block <= big.n && big.block > big.n / 2);
        CU_ASSERT(big.lnz > 2.0 * small.lnz);
        {
            double l = 10.0 * big.lnz + (double)big.block;
            CU_ASSERT_DOUBLE_EQUAL(big.lu_units, 2.0 * (ceil(l / 2.0) + l), 0.5);
        }
        CU_ASSERT(big.lu_units < SSP_SPICE_KLU_MAX_UNITS);
    }
}

/* Beyond the limit the check fails by name, with the figures; at the
 * limit it passes. */
static void test_netlists__klu_check_names_oversized_tile(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_spice_klu_need need;
    klu_tile(&p, 32, SSP_CELL_1R);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_spice_klu_estimate(&need, ctx, c));
    SSP_ASSERT_OK(ctx, ssp_spice_klu_check(ctx, c, need.lu_units));
    CU_ASSERT_EQUAL(ssp_spice_klu_check(ctx, c, need.lu_units - 1.0), SSP_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "tile 32x32 is too large for ngspice's KLU"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "singular matrix"));
    ssp_circuit_destroy(&c);
}

int ssp_suite_netlists(void); /* registered by the runner */
SSP_TEST_SUITE(netlists)
{
    SSP_ADD_SUITE("netlists", NULL, NULL,
                  SSP_TEST(test_netlists__defaults_pass_check),
                  SSP_TEST(test_netlists__rejects_zero_rows),
                  SSP_TEST(test_netlists__rejects_negative_resistance),
                  SSP_TEST(test_netlists__rejects_unknown_cell_type),
                  SSP_TEST(test_netlists__rejects_odd_columns_for_pairs),
                  SSP_TEST(test_netlists__rejects_rails_not_around_zero),
                  SSP_TEST(test_netlists__rejects_bad_cells),
                  SSP_TEST(test_netlists__names_follow_rows_and_pairs),
                  SSP_TEST(test_netlists__zero_resistance_merges_nodes),
                  SSP_TEST(test_netlists__klu_estimate_follows_ngspice_sizing),
                  SSP_TEST(test_netlists__klu_check_names_oversized_tile),
                  SSP_TEST(test_netlists__golden_4x4_1r),
                  SSP_TEST(test_netlists__golden_4x4_1t1r),
                  SSP_TEST(test_netlists__emit_streaming_form),
                  SSP_TEST(test_netlists__emit_pole_and_dynamic_cells),
                  SSP_TEST(test_netlists__emit_file_into_missing_dir_fails),
                  SSP_TEST(test_netlists__dac_quantises_and_clips),
                  SSP_TEST(test_netlists__adc_codes_clip),
                  SSP_TEST(test_netlists__rail_linear_inside_saturates_outside),
                  SSP_TEST(test_netlists__nmos_derivatives_match_differences),
                  SSP_TEST(test_netlists__nodal_factors_once_per_state),
                  SSP_TEST(test_netlists__ir_drop_falls_with_distance),
                  SSP_TEST(test_netlists__ir_drop_grows_with_n_m_r_g),
                  SSP_TEST(test_netlists__nodal_sinh_cells_need_newton),
                  SSP_TEST(test_netlists__nodal_fast_equals_reference),
                  SSP_TEST(test_netlists__nodal_fast_ideal_tia_equals_reference),
                  SSP_TEST(test_netlists__nodal_fast_other_layouts_equal_reference),
                  SSP_TEST(test_netlists__nodal_fast_refuses_cells_on_sources),
                  SSP_TEST(test_netlists__nodal_fast_follows_cell_changes),
                  SSP_TEST(test_netlists__nodal_fast_clamped_tile_leaves_linear_path),
                  SSP_TEST(test_netlists__nodal_fast_not_for_nonlinear_cells),
                  SSP_TEST(test_netlists__nodal_path_switches));
}
