/* test_hw.c — the simulated hardware (ssp_hw): its devices start at level 0,
 * write-verify reaches each signed level within the band, open-loop and
 * plain pulses move weights the right way, preset costs nothing, state
 * round-trips through a checkpoint section bit for bit and a damaged or
 * foreign one is refused, stuck fractions are drawn as the file says. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"
#include "ssp_hw.h"
#include "ssp_test.h"

enum { LEVELS = 16, ROWS = 6, COLS = 5 };
static const double W_MAX = 1.0, TOL = 0.25;
static const long VERIFY_MAX = 200;

/* vteam32.ini with its [variation] section replaced (a model text the test
 * makes: spread and stuck fractions as given). */
static ssp_device_model *model_with(const char *variation)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    unsigned char *buf;
    size_t len;
    char p[512], *text, *cut;
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"), &buf, &len));
    text = malloc(len + strlen(variation) + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    memcpy(text, buf, len);
    text[len] = '\0';
    free(buf);
    cut = strstr(text, "[variation]");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    sprintf(cut, "[variation]\n%s", variation);
    SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, text, "vteam32 (test variation)"));
    free(text);
    return m;
}

static ssp_device_model *nominal_model(void)
{
    return model_with("d2d_gmin = 0 %\nd2d_gmax = 0 %\nd2d_rate = 0 %\nc2c_range = 0 %\nread_noise = 0 %\n"
                      "stuck_on = 0 %\nstuck_off = 0 %\n");
}

static ssp_hw *make_hw(const ssp_device_model *m, unsigned long seed)
{
    static const size_t rows[2] = {ROWS, 3}, cols[2] = {COLS, 2};
    const double wmax[2] = {W_MAX, 0.5 * W_MAX};
    ssp_hw *hw = NULL;
    SSP_ASSERT_OK(ssp_test_ctx(),
                  ssp_hw_create(&hw, ssp_test_ctx(), m, 2, rows, cols, LEVELS, TOL, wmax, VERIFY_MAX, seed));
    return hw;
}

static void test_hw__starts_at_level_zero(void)
{
    ssp_device_model *m = nominal_model();
    ssp_hw *hw = make_hw(m, 1);
    CU_ASSERT_EQUAL(ssp_hw_nmat(hw), 2);
    CU_ASSERT_EQUAL(ssp_hw_weight_count(hw, 0), ROWS * COLS);
    CU_ASSERT_EQUAL(ssp_hw_weight_count(hw, 1), 6);
    CU_ASSERT_EQUAL(ssp_hw_device_count(hw), 2 * (ROWS * COLS + 6));
    CU_ASSERT_EQUAL(ssp_hw_rows(hw, 0), ROWS);
    CU_ASSERT_EQUAL(ssp_hw_cols(hw, 1), 2);
    CU_ASSERT_EQUAL(ssp_hw_stuck_count(hw), 0);
    for (size_t i = 0; i < ROWS * COLS; i++) CU_ASSERT(fabs(ssp_hw_weights(hw, 0)[i]) < 1e-12);
    /* every device at the bottom of the table: the sum of conductances is 2 n Gmin */
    CU_ASSERT(fabs(ssp_hw_g_sum(hw) - (double)ssp_hw_device_count(hw) * ssp_hw_levels(hw)->g[0]) <=
              1e-9 * ssp_hw_g_sum(hw));
    ssp_hw_destroy(&hw);
    CU_ASSERT_PTR_NULL(hw);
    ssp_hw_destroy(&hw);
    ssp_device_model_free(&m);
}

static void test_hw__verify_reaches_every_signed_level(void)
{
    ssp_device_model *m = nominal_model();
    ssp_hw *hw = make_hw(m, 2);
    ssp_hw_stats st;
    double step = W_MAX / (LEVELS - 1);
    memset(&st, 0, sizeof st);
    for (int q = -(LEVELS - 1); q <= LEVELS - 1; q++) {
        size_t idx = (size_t)(q + LEVELS - 1) % (ROWS * COLS);
        double w;
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_write(hw, 0, idx, q, SSP_HW_VERIFY, &st));
        w = ssp_hw_weights(hw, 0)[idx];
        /* each device of the pair within its band: the weight within two bands */
        if (fabs(w - q * step) > 2 * TOL * step) fprintf(stderr, "\n  level %d: weight %g, want %g", q, w, q * step);
        CU_ASSERT(fabs(w - q * step) <= 2 * TOL * step);
    }
    CU_ASSERT_EQUAL(st.weight_writes, 2 * (LEVELS - 1) + 1);
    CU_ASSERT(st.device_writes <= 2 * st.weight_writes);
    CU_ASSERT(st.pulses >= st.device_writes);
    CU_ASSERT(st.reads >= st.pulses); /* a verify read after every pulse */
    CU_ASSERT(st.pulse_energy_j > 0 && st.read_energy_j > 0);
    CU_ASSERT(st.pulse_latency_s > 0 && st.read_latency_s > 0);
    CU_ASSERT_DOUBLE_EQUAL(ssp_hw_stats_energy(&st), st.pulse_energy_j + st.read_energy_j, 0);
    ssp_hw_destroy(&hw);
    ssp_device_model_free(&m);
}

static void test_hw__open_loop_and_plain_pulses_move_the_right_way(void)
{
    ssp_device_model *m = nominal_model();
    ssp_hw *hw = make_hw(m, 3);
    ssp_hw_stats st;
    double w0, w1, w2;
    memset(&st, 0, sizeof st);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_write(hw, 0, 7, 5, SSP_HW_OPEN_LOOP, &st));
    CU_ASSERT_EQUAL(st.reads, 0); /* open loop reads nothing */
    CU_ASSERT(st.pulses > 0);
    w0 = ssp_hw_weights(hw, 0)[7];
    CU_ASSERT(w0 > 0);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_pulse(hw, 0, 7, 3, &st));
    w1 = ssp_hw_weights(hw, 0)[7];
    CU_ASSERT(w1 > w0);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_pulse(hw, 0, 7, -6, &st));
    w2 = ssp_hw_weights(hw, 0)[7];
    CU_ASSERT(w2 < w1);
    /* a negative weight is carried by G-: pulses raise |w| the other way */
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_write(hw, 0, 8, -4, SSP_HW_OPEN_LOOP, &st));
    CU_ASSERT(ssp_hw_weights(hw, 0)[8] < 0);
    CU_ASSERT(ssp_hw_devices_const(hw, 0)[2 * 8 + 1].x > ssp_hw_devices_const(hw, 0)[2 * 8].x);
    ssp_hw_destroy(&hw);
    ssp_device_model_free(&m);
}

static void test_hw__preset_costs_nothing_and_hits_the_levels(void)
{
    ssp_device_model *m = nominal_model();
    ssp_hw *hw = make_hw(m, 4);
    int q[ROWS * COLS];
    double step = W_MAX / (LEVELS - 1);
    for (int i = 0; i < ROWS * COLS; i++) q[i] = (i % (2 * LEVELS - 1)) - (LEVELS - 1);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_preset(hw, 0, q));
    for (int i = 0; i < ROWS * COLS; i++) CU_ASSERT(fabs(ssp_hw_weights(hw, 0)[i] - q[i] * step) <= 1e-6 * W_MAX);
    ssp_hw_destroy(&hw);
    ssp_device_model_free(&m);
}

static void test_hw__state_round_trips_and_foreign_state_is_refused(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = model_with("d2d_gmin = 5 %\nd2d_gmax = 5 %\nd2d_rate = 5 %\nc2c_range = 3 %\n"
                                     "read_noise = 0.5 %\nstuck_on = 0 %\nstuck_off = 0 %\n");
    ssp_hw *a = make_hw(m, 5), *b = make_hw(m, 5), *c = make_hw(m, 6);
    ssp_hw_stats st;
    FILE *f = tmpfile();
    long size;
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < ROWS * COLS; i += 3) SSP_ASSERT_OK(ctx, ssp_hw_write(a, 0, i, (int)i % 7 - 3, SSP_HW_VERIFY, &st));
    SSP_ASSERT_OK(ctx, ssp_hw_write_state(a, f));
    size = ftell(f);
    rewind(f);
    SSP_ASSERT_OK(ctx, ssp_hw_read_state(b, ctx, f, "state.bin"));
    CU_ASSERT_EQUAL(memcmp(ssp_hw_weights(a, 0), ssp_hw_weights(b, 0), ROWS * COLS * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(ssp_hw_weights(a, 1), ssp_hw_weights(b, 1), 6 * sizeof(double)), 0);
    /* the same draws follow: the rng state travelled with the devices */
    CU_ASSERT_EQUAL(gsl_rng_get(ssp_hw_rng(a)), gsl_rng_get(ssp_hw_rng(b)));
    /* devices drawn with another seed: refused, naming the origin */
    rewind(f);
    CU_ASSERT_EQUAL(ssp_hw_read_state(c, ctx, f, "state.bin"), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "state.bin"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "seed"));
    ssp_ctx_clear_error(ctx);
    /* truncated */
    {
        FILE *g = tmpfile();
        unsigned char *buf = malloc((size_t)size);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        rewind(f);
        CU_ASSERT_EQUAL(fread(buf, 1, (size_t)size, f), (size_t)size);
        CU_ASSERT_EQUAL(fwrite(buf, 1, (size_t)size / 2, g), (size_t)size / 2);
        rewind(g);
        CU_ASSERT_EQUAL(ssp_hw_read_state(b, ctx, g, "half.bin"), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "half.bin"));
        ssp_ctx_clear_error(ctx);
        free(buf);
        fclose(g);
    }
    fclose(f);
    ssp_hw_destroy(&a);
    ssp_hw_destroy(&b);
    ssp_hw_destroy(&c);
    ssp_device_model_free(&m);
}

static void test_hw__stuck_fractions_are_drawn(void)
{
    ssp_device_model *m = model_with("d2d_gmin = 0 %\nd2d_gmax = 0 %\nd2d_rate = 0 %\nc2c_range = 0 %\nread_noise = 0 %\n"
                                     "stuck_on = 10 %\nstuck_off = 10 %\n");
    static const size_t rows[1] = {100}, cols[1] = {50};
    const double wmax[1] = {W_MAX};
    ssp_hw *hw = NULL;
    size_t n, stuck;
    double frac;
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_create(&hw, ssp_test_ctx(), m, 1, rows, cols, LEVELS, TOL, wmax, VERIFY_MAX, 7));
    n = ssp_hw_device_count(hw);
    stuck = ssp_hw_stuck_count(hw);
    frac = (double)stuck / (double)n;
    /* binomial: 0.2 +- 5 standard errors */
    CU_ASSERT(fabs(frac - 0.2) <= 5 * sqrt(0.2 * 0.8 / (double)n));
    ssp_hw_destroy(&hw);
    ssp_device_model_free(&m);
}

SSP_TEST_SUITE(hw)
{
    SSP_ADD_SUITE("hw", NULL, NULL,
                  SSP_TEST(test_hw__starts_at_level_zero),
                  SSP_TEST(test_hw__verify_reaches_every_signed_level),
                  SSP_TEST(test_hw__open_loop_and_plain_pulses_move_the_right_way),
                  SSP_TEST(test_hw__preset_costs_nothing_and_hits_the_levels),
                  SSP_TEST(test_hw__state_round_trips_and_foreign_state_is_refused),
                  SSP_TEST(test_hw__stuck_fractions_are_drawn));
}
