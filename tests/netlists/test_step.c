/* test_step.c — the linear state-space step response of a tile (ssp_step.h)
 * and the transient pieces of the circuit description (capacitors, TIA
 * time constant): settled values, an analytic single-pole case, the
 * settling figures and the error paths. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_circuit.h"
#include "ssp_nodal.h"
#include "ssp_spice_emit.h"
#include "ssp_step.h"
#include "ssp_test.h"

/* The step response's end against the DC solve (relative): the TIA modes
 * have decayed; the wire modes (picoseconds, far below the 1 ns step) are
 * damped by the backward-Euler start to ~(2τ/h)² of their start and then
 * carried, barely damped, by the trapezoidal rule: measured 0.5-1.6e-9. */
static const double TOL_SETTLED_REL = 1e-8;
/* Trapezoidal integration against the analytic exponential: global error
 * ~(h/τ)²/12 with h = τ/20 gives 2e-4; allowed 1e-3 of the step. */
static const double TOL_ANALYTIC = 1e-3;

static void random_g(double *g, size_t n, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++) g[i] = 10e-6 + 90e-6 * gsl_rng_uniform(r);
    gsl_rng_free(r);
}

static void tile(ssp_tile_params *p, size_t rows, size_t cols)
{
    ssp_tile_params_default(p);
    p->rows = rows;
    p->cols = cols;
}

static void test_step__caps_follow_segments_and_cells(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    size_t n;
    const ssp_element *cap;
    double sum = 0;
    tile(&p, 4, 6);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    cap = ssp_circuit_caps(c, &n);
    /* one per word-line segment, one per bit-line segment, one per cell */
    CU_ASSERT_EQUAL(n, 3u * 4 * 6);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(cap[i].kind, SSP_EL_CAP);
        sum += cap[i].value;
    }
    CU_ASSERT(ssp_close_rel(sum, 24 * (2 * p.c_wire_per_um * p.pitch_um + p.c_cell), 1e-12, 0));
    /* the DC element list has no capacitor */
    for (size_t i = 0; i < ssp_circuit_n_elements(c); i++) CU_ASSERT_NOT_EQUAL(ssp_circuit_elements(c)[i].kind, SSP_EL_CAP);
    ssp_circuit_destroy(&c);
    p.c_wire_per_um = 0;
    p.c_cell = 0;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    ssp_circuit_caps(c, &n);
    CU_ASSERT_EQUAL(n, 0u);
    ssp_circuit_destroy(&c);
    p.c_cell = -1e-15;
    CU_ASSERT_EQUAL(ssp_circuit_create(&c, ctx, &p), SSP_ECONFIG);
    CU_ASSERT_PTR_NULL(c);
}

static void test_step__settles_to_the_dc_read(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_step *s = NULL;
    ssp_nodal *nd = NULL;
    size_t rows = 8, cols = 8, nsteps = 400;
    double g[64], v[8], dc[8], nod[8], *out = malloc((nsteps + 1) * cols * sizeof *out), h;
    tile(&p, rows, cols);
    random_g(g, rows * cols, 5);
    for (size_t i = 0; i < rows; i++) v[i] = 0.01 * (double)(i + 1);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    SSP_ASSERT_OK(ctx, ssp_nodal_create(&nd, ctx, c, 0));
    SSP_ASSERT_OK(ctx, ssp_step_dc(s, v, dc, NULL));
    SSP_ASSERT_OK(ctx, ssp_nodal_solve(nd, v, 1, nod));
    for (size_t j = 0; j < cols; j++) CU_ASSERT(ssp_close_rel(dc[j], nod[j], 1e-10, 1e-12));
    /* 400 steps of 1 ns, ~170 closed-loop time constants (~2.3 ns here):
     * the transient is gone */
    h = 1e-9;
    SSP_ASSERT_OK(ctx, ssp_step_run(s, v, h, nsteps, out, NULL, 0, NULL, NULL));
    for (size_t j = 0; j < cols; j++) CU_ASSERT(ssp_close_rel(out[nsteps * cols + j], dc[j], TOL_SETTLED_REL, 1e-12));
    /* k = 0 is the state before the step: the TIAs' offsets alone */
    SSP_ASSERT_OK(ctx, ssp_step_dc(s, NULL, dc, NULL));
    for (size_t j = 0; j < cols; j++) CU_ASSERT(ssp_close_rel(out[j], dc[j], 1e-12, 1e-15));
    free(out);
    ssp_nodal_destroy(&nd);
    ssp_step_destroy(&s);
    ssp_circuit_destroy(&c);
}

/* One row, one pair, ideal wires and no capacitors: each TIA is a single
 * pole closed by Rf, τ_cl = τ/(1 + A·β), β = (1/Rf)/(g + 1/Rf). */
static void test_step__single_pole_matches_analytic(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_step *s = NULL;
    ssp_step_settling st;
    double g[2] = {40e-6, 80e-6}, v = 0.2, dc0[2], dcinf[2], frac[2];
    tile(&p, 1, 2);
    p.r_wire_per_um = 0;
    p.r_driver = 0;
    p.dac.r_out = 0;
    p.r_sense = 0;
    p.c_wire_per_um = 0;
    p.c_cell = 0;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    SSP_ASSERT_OK(ctx, ssp_step_dc(s, NULL, dc0, NULL));
    SSP_ASSERT_OK(ctx, ssp_step_dc(s, &v, dcinf, NULL));
    for (int j = 0; j < 2; j++) {
        double beta = (1.0 / p.tia.r_f) / (g[j] + 1.0 / p.tia.r_f);
        double tcl = ssp_tia_tau(&p.tia) / (1.0 + p.tia.gain * beta);
        /* sample one closed-loop time constant after the step */
        SSP_ASSERT_OK(ctx, ssp_step_settle(s, &v, 1e-4, tcl, &st, frac));
        CU_ASSERT(fabs(frac[j] - (1.0 - exp(-1.0))) <= TOL_ANALYTIC);
        SSP_ASSERT_OK(ctx, ssp_step_sample(s, &v, tcl, frac, NULL, NULL));
        CU_ASSERT(fabs(frac[j] - (1.0 - exp(-1.0))) <= TOL_ANALYTIC);
    }
    /* settling to tol: exp(-t/τ)·|ΔV| = tol for the slower column */
    {
        double tol = 1e-3, worst = 0;
        SSP_ASSERT_OK(ctx, ssp_step_settle(s, &v, tol, 0, &st, NULL));
        for (int j = 0; j < 2; j++) {
            double beta = (1.0 / p.tia.r_f) / (g[j] + 1.0 / p.tia.r_f);
            double tcl = ssp_tia_tau(&p.tia) / (1.0 + p.tia.gain * beta);
            double t = tcl * log(fabs(dcinf[j] - dc0[j]) / tol);
            if (t > worst) worst = t;
        }
        /* within one step of the analytic crossing */
        CU_ASSERT(fabs(st.t_settle_s - worst) <= 1.01 * st.h_s + TOL_ANALYTIC * worst);
        CU_ASSERT_EQUAL(st.worst_col, 1u);
        CU_ASSERT_FALSE(st.rails);
    }
    ssp_step_destroy(&s);
    ssp_circuit_destroy(&c);
}

static void test_step__flags_slew_and_rails(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_step *s = NULL;
    ssp_step_settling st;
    double g[16], v[4] = {0.2, 0.2, 0.2, 0.2};
    tile(&p, 4, 4);
    p.tia.slew = 1e3; /* 1 mV/us: any read slews */
    random_g(g, 16, 2);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    SSP_ASSERT_OK(ctx, ssp_step_settle(s, v, 1e-3, 0, &st, NULL));
    CU_ASSERT_TRUE(st.slews);
    CU_ASSERT_FALSE(st.rails);
    CU_ASSERT(st.t_settle_s > 0);
    ssp_step_destroy(&s);
    ssp_circuit_destroy(&c);
    /* Rf 1 Mohm drives every output far past the 1.5 V rails */
    p.tia.r_f = 1e6;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    SSP_ASSERT_OK(ctx, ssp_step_settle(s, v, 1e-3, 0, &st, NULL));
    CU_ASSERT_TRUE(st.rails);
    ssp_step_destroy(&s);
    ssp_circuit_destroy(&c);
}

static void test_step__rejects_nonlinear_and_bad_arguments(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_step *s = NULL;
    ssp_step_settling st;
    double g[16], v[4] = {0.1, 0.1, 0.1, 0.1}, out[4];
    tile(&p, 4, 4);
    random_g(g, 16, 3);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    /* cells never set */
    CU_ASSERT_EQUAL(ssp_step_dc(s, v, out, NULL), SSP_ESTATE);
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    CU_ASSERT_EQUAL(ssp_step_settle(s, v, 0, 0, &st, NULL), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_step_settle(s, v, 1e-3, -1, &st, NULL), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_step_sample(s, v, 0, out, NULL, NULL), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_step_run(s, v, 0, 3, NULL, NULL, 0, NULL, NULL), SSP_EINVAL);
    {
        int bad = 9999;
        CU_ASSERT_EQUAL(ssp_step_run(s, v, 1e-9, 3, NULL, &bad, 1, out, NULL), SSP_EINVAL);
    }
    ssp_step_destroy(&s);
    ssp_circuit_destroy(&c);
    p.cell = SSP_CELL_1T1R;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    CU_ASSERT_EQUAL(ssp_step_dc(s, v, out, NULL), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "1T1R"));
    ssp_step_destroy(&s);
    ssp_step_destroy(&s); /* NULL is a no-op */
    ssp_circuit_destroy(&c);
}

static void test_step__transient_netlist_adds_to_the_dc_netlist(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    char *dc = NULL, *tr = NULL;
    double g[16], v[4] = {0.1, 0.05, 0.0, 0.2};
    ssp_emit_opts o = {0};
    tile(&p, 4, 4);
    random_g(g, 16, 4);
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    o.v_in = v;
    SSP_ASSERT_OK(ctx, ssp_spice_emit_text(&dc, ctx, c, &o));
    o.v_in = NULL;
    o.v_step = v;
    o.control = 1;
    o.t_stop = 1e-7;
    o.t_max = 1e-9;
    SSP_ASSERT_OK(ctx, ssp_spice_emit_text(&tr, ctx, c, &o));
    CU_ASSERT_PTR_NULL(strstr(dc, "pwl("));
    CU_ASSERT_PTR_NULL(strstr(dc, "\ncw0_c0p "));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "vr3 in3 0 pwl(0 0 9.9999999999999998e-13 0.20000000000000001)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "\ncw0_c0p w0_c0p 0 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "\ncc0_c0p w0_c0p b0_c0p "));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "\nbp_out_c0p 0 op_out_c0p i = max(min("));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "\nbq_out_c0p out_c0p 0 v = ssp_rail(v(op_out_c0p))"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "\nrg_out_c0p p_c0p 0 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(tr, "\ntran 1.0000000000000001e-09 9.9999999999999995e-08 0 1.0000000000000001e-09\n"));
    free(dc);
    free(tr);
    ssp_circuit_destroy(&c);
}

/* The row admittance is the settled read's affine map of the row currents:
 * v·(Y·v + i0) is the rows' power of the DC solve, for any v. */
static void test_step__row_admittance_gives_the_settled_power(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    enum { R = 8, C = 6 };
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_step *s = NULL;
    double g[R * C], Y[R * R], i0[R], v[R], pw, pa = 0;
    tile(&p, R, C);
    random_g(g, R * C, 8);
    for (size_t i = 0; i < R; i++) v[i] = 0.02 * (double)(i % 3) + 0.01;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&s, ctx, c));
    SSP_ASSERT_OK(ctx, ssp_step_row_admittance(s, Y, i0));
    SSP_ASSERT_OK(ctx, ssp_step_dc(s, v, NULL, &pw));
    for (size_t i = 0; i < R; i++) {
        double ii = i0[i];
        for (size_t k = 0; k < R; k++) ii += Y[i * R + k] * v[k];
        pa += v[i] * ii;
        /* a row's self-admittance is at most its cells' sum (wires and driver in series) */
        {
            double gs = 0;
            for (size_t j = 0; j < C; j++) gs += g[i * C + j];
            CU_ASSERT(Y[i * R + i] > 0 && Y[i * R + i] <= gs * (1 + 1e-9));
        }
    }
    CU_ASSERT(ssp_close_rel(pa, pw, 1e-9, 1e-18));
    CU_ASSERT(pw > 0);
    ssp_step_destroy(&s);
    ssp_circuit_destroy(&c);
}

SSP_TEST_SUITE(step)
{
    SSP_ADD_SUITE("step", NULL, NULL, SSP_TEST(test_step__caps_follow_segments_and_cells),
                  SSP_TEST(test_step__settles_to_the_dc_read), SSP_TEST(test_step__single_pole_matches_analytic),
                  SSP_TEST(test_step__flags_slew_and_rails), SSP_TEST(test_step__rejects_nonlinear_and_bad_arguments),
                  SSP_TEST(test_step__transient_netlist_adds_to_the_dc_netlist),
                  SSP_TEST(test_step__row_admittance_gives_the_settled_power));
}
