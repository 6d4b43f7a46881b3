/* test_read.c — the transient read (ssp_read.h) against ngspice, the
 * nodal engine's unsettled reads against full step responses, the read
 * energy and latency model (ssp_readcost.h) and the configuration checks
 * of adc.t_sample. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_config.h"
#include "ssp_engine.h"
#include "ssp_read.h"
#include "ssp_readcost.h"
#include "ssp_step.h"
#include "ssp_test.h"

/* The bound: nodal vs ngspice within 1 % of each output's settled
 * change at every sample time (measured here: ~1e-3). */
static const double TOL_SPICE_FRAC = 0.01;
/* The rows' energy from both solvers (relative; measured ~3e-5). */
static const double TOL_ENERGY_REL = 1e-3;
/* Unsettled reads by the per-output fraction against a full step response
 * per vector, in ADC LSBs (measured 0.034 LSB on this 32x32 tile sampled
 * 1.9 LSB before settling). */
static const double TOL_FRACTION_LSB = 0.1;

static void random_tile(ssp_tile_params *p, size_t rows, size_t cols, double *g, double *v, double input,
                        unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    ssp_tile_params_default(p);
    p->rows = rows;
    p->cols = cols;
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < rows * cols; i++) g[i] = 10e-6 + 90e-6 * gsl_rng_uniform(r);
    if (v)
        for (size_t i = 0; i < rows; i++) v[i] = ssp_dac_voltage(&p->dac, input * p->dac.v_max * gsl_rng_uniform(r));
    gsl_rng_free(r);
}

static void test_read__nodal_matches_ngspice(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    ssp_spice *sp = NULL;
    ssp_read_result r;
    double g[16 * 16], v[16];
    random_tile(&p, 16, 16, g, v, 0.8, 11);
    p.adc.t_sample = 5e-9;
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_spice_create(&sp, ctx, NULL));
    SSP_ASSERT_OK(ctx, ssp_read_run(ctx, c, v, sp, NULL, &r));
    CU_ASSERT_TRUE(r.have_spice);
    CU_ASSERT(r.spice_points > 10);
    CU_ASSERT(r.spice_vs_nodal <= TOL_SPICE_FRAC);
    CU_ASSERT(ssp_close_rel(r.e_nodal_j, r.e_spice_j, TOL_ENERGY_REL, 0));
    CU_ASSERT(r.e_nodal_j > 0);
    CU_ASSERT_FALSE(r.st.rails);
    CU_ASSERT(r.st.t_settle_s > 0);
    CU_ASSERT(r.st.err_sample_v > 0); /* 5 ns is before settling */
    CU_ASSERT_DOUBLE_EQUAL(r.t_read_s, 5e-9, 1e-18);
    /* the traces start at the pre-step state: the word line near 0 V (the
     * TIAs' 1 mV offset reaches it through 16 cells, ~0.9 mS, against a
     * 10 ohm driver: ~10 uV) */
    CU_ASSERT(fabs(r.wl[0]) < 1e-4);
    CU_ASSERT(fabs(r.wl_sp[0] - r.wl[0]) < 1e-7);
    ssp_read_result_free(&r);
    ssp_read_result_free(&r); /* twice is harmless */
    /* a probe outside the tile is refused */
    {
        ssp_read_opts o = {0};
        o.probe_col = 99;
        CU_ASSERT_EQUAL(ssp_read_run(ctx, c, v, NULL, &o, &r), SSP_EINVAL);
    }
    ssp_spice_destroy(&sp);
    ssp_circuit_destroy(&c);
}

static void test_read__unsettled_engine_follows_step_response(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    enum { R = 32, C = 32, K = 4 };
    ssp_tile_params p;
    ssp_engine *e = NULL, *es = NULL;
    ssp_circuit *c = NULL;
    ssp_step *st = NULL;
    double g[R * C], vin[K * R], out[K * C], settled[K * C], ts = 8e-9, worst = 0, moved = 0;
    const double *frac;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    random_tile(&p, R, C, g, NULL, 0, 21);
    gsl_rng_set(rng, 22);
    /* inputs with many zeros, as activations are */
    for (size_t i = 0; i < K * R; i++) vin[i] = gsl_rng_uniform(rng) < 0.5 ? 0.0 : p.dac.v_max * gsl_rng_uniform(rng);
    gsl_rng_free(rng);
    SSP_ASSERT_OK(ctx, ssp_engine_create(&es, ctx, SSP_ENGINE_NODAL, &p, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_set_conductances(es, g));
    SSP_ASSERT_OK(ctx, ssp_engine_run(es, vin, K, settled, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_settled_fractions(es, &frac));
    CU_ASSERT_PTR_NULL(frac);
    p.adc.t_sample = ts;
    SSP_ASSERT_OK(ctx, ssp_engine_create(&e, ctx, SSP_ENGINE_NODAL, &p, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_set_conductances(e, g));
    SSP_ASSERT_OK(ctx, ssp_engine_run(e, vin, K, out, NULL));
    SSP_ASSERT_OK(ctx, ssp_engine_settled_fractions(e, &frac));
    CU_ASSERT_PTR_NOT_NULL_FATAL(frac);
    for (size_t j = 0; j < C; j++) CU_ASSERT(frac[j] > 0 && frac[j] < 1);
    /* each vector's own step response, sampled at ts */
    SSP_ASSERT_OK(ctx, ssp_circuit_create(&c, ctx, &p));
    SSP_ASSERT_OK(ctx, ssp_circuit_set_conductances(c, ctx, g));
    SSP_ASSERT_OK(ctx, ssp_step_create(&st, ctx, c));
    for (size_t q = 0; q < K; q++) {
        double fr[C], o0[C], dq[R];
        /* the DAC voltages the engine used */
        for (size_t i = 0; i < R; i++) dq[i] = ssp_dac_voltage(&p.dac, vin[q * R + i]);
        SSP_ASSERT_OK(ctx, ssp_step_sample(st, dq, ts, fr, o0, NULL));
        for (size_t j = 0; j < C; j++) {
            double truth = o0[j] + fr[j] * (settled[q * C + j] - o0[j]);
            double d = fabs(out[q * C + j] - truth) / ssp_adc_lsb(&p.adc);
            if (d > worst) worst = d;
            moved = fmax(moved, fabs(out[q * C + j] - settled[q * C + j]) / ssp_adc_lsb(&p.adc));
        }
    }
    if (getenv("SSP_TEST_VERBOSE"))
        fprintf(stderr, "\n  fraction model vs per-vector step response: %.4g LSB (unsettled by up to %.4g LSB)\n", worst,
                moved);
    CU_ASSERT(worst <= TOL_FRACTION_LSB);
    CU_ASSERT(moved > 1.0); /* the sample time matters */
    ssp_step_destroy(&st);
    ssp_circuit_destroy(&c);
    ssp_engine_destroy(&e);
    ssp_engine_destroy(&es);
}

static void test_read__spice_engine_refuses_t_sample(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_tile_params p;
    ssp_engine *e = NULL;
    ssp_spice *sp = NULL;
    ssp_tile_params_default(&p);
    p.rows = p.cols = 4;
    p.adc.t_sample = 1e-8;
    SSP_ASSERT_OK(ctx, ssp_spice_create(&sp, ctx, NULL));
    CU_ASSERT_EQUAL(ssp_engine_create(&e, ctx, SSP_ENGINE_SPICE, &p, sp), SSP_ECONFIG);
    CU_ASSERT_PTR_NULL(e);
    ssp_spice_destroy(&sp);
}

static void test_readcost__converter_models(void)
{
    ssp_readcost_params c;
    ssp_tile_params t;
    ssp_readcost_params_default(&c);
    ssp_tile_params_default(&t);
    /* Walden: 10 fJ per step x 2^8 */
    CU_ASSERT_DOUBLE_EQUAL(ssp_readcost_adc_energy(&c, 8), 2.56e-12, 1e-24);
    /* Schreier 170 dB at 8 bits: SNDR 49.92 dB, E = 1/(2·10^12.008) */
    c.adc_model = SSP_ADC_SCHREIER;
    CU_ASSERT(ssp_close_rel(ssp_readcost_adc_energy(&c, 8), 1.0 / (2.0 * pow(10.0, (170 - 49.92) / 10.0)), 1e-12, 0));
    /* one more bit: ~4x the energy (6.02 dB of SNDR) */
    CU_ASSERT(ssp_close_rel(ssp_readcost_adc_energy(&c, 9) / ssp_readcost_adc_energy(&c, 8), pow(10, 0.602), 1e-9, 0));
    CU_ASSERT_DOUBLE_EQUAL(ssp_readcost_dac_energy(&c, 8), 256e-15, 1e-27);
    /* read window: t_sample, else t_read */
    CU_ASSERT_DOUBLE_EQUAL(ssp_readcost_t_read(&c, &t), c.t_read, 0);
    t.adc.t_sample = 2e-7;
    CU_ASSERT_DOUBLE_EQUAL(ssp_readcost_t_read(&c, &t), 2e-7, 0);
}

static void test_readcost__config_keys_and_checks(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_config_defaults(&c);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "adc.t_sample=100ns"));
    CU_ASSERT_DOUBLE_EQUAL(c.tile.adc.t_sample, 1e-7, 1e-20);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "adc.fom_walden=5fJ"));
    CU_ASSERT_DOUBLE_EQUAL(c.cost.adc_fom_walden, 5e-15, 1e-27);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "adc.energy_model=schreier"));
    CU_ASSERT_EQUAL(c.cost.adc_model, SSP_ADC_SCHREIER);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "crossbar.c_wire=0.3fF"));
    CU_ASSERT_DOUBLE_EQUAL(c.tile.c_wire_per_um, 0.3e-15, 1e-27);
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "adc.t_sample=-1ns"), SSP_ECONFIG);
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "adc.energy_model=flash"), SSP_ECONFIG);
    /* unsettled reads need the nodal engine, and no spice checks */
    CU_ASSERT_EQUAL(ssp_config_check(&c, ctx), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "engine.forward = nodal"));
    c.engine = SSP_ENGINE_NODAL;
    SSP_ASSERT_OK(ctx, ssp_config_check(&c, ctx));
    c.check_every = 10;
    CU_ASSERT_EQUAL(ssp_config_check(&c, ctx), SSP_ECONFIG);
}

SSP_TEST_SUITE(read)
{
    SSP_ADD_SUITE("read", NULL, NULL, SSP_TEST(test_read__nodal_matches_ngspice),
                  SSP_TEST(test_read__unsettled_engine_follows_step_response),
                  SSP_TEST(test_read__spice_engine_refuses_t_sample), SSP_TEST(test_readcost__converter_models),
                  SSP_TEST(test_readcost__config_keys_and_checks));
}
