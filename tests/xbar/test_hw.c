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

/* The device of matrix m carrying side `minus` of weight idx, found through
 * ssp_hw_device_weight (the test does not repeat the layout). */
static size_t device_of(const ssp_hw *hw, size_t m, size_t idx, int minus)
{
    for (size_t d = 0; d < ssp_hw_device_count_of(hw, m); d++) {
        size_t i;
        int s;
        ssp_hw_device_weight(hw, m, d, &i, &s);
        if (i == idx && s == minus) return d;
    }
    CU_FAIL("no device carries the weight");
    return 0;
}

struct set_job {
    size_t d;   /* device of matrix 0 to set */
    double g;   /* S */
    size_t row; /* row to mark touched (ROWS: none) */
    int rc;     /* status to return */
};

static int set_one(void *payload, ssp_device *const *dev, gsl_rng *rng, unsigned char *const *touched)
{
    struct set_job *j = payload;
    CU_ASSERT_PTR_NOT_NULL(rng);
    for (size_t r = 0; r < ROWS; r++) CU_ASSERT_EQUAL(touched[0][r], 0);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_device_set_conductance(&dev[0][j->d], ssp_test_ctx(), j->g));
    if (j->row < ROWS) touched[0][j->row] = 1;
    return j->rc;
}

/* ssp_hw_program: the callback's changes reach the read-back weights of the
 * rows it marks, every call moves the version (also a failing one, whose
 * status comes back), and write, pulse and preset move it too. */
static void test_hw__program_refreshes_marked_rows_and_counts_versions(void)
{
    ssp_device_model *m = nominal_model();
    ssp_hw *hw = make_hw(m, 3);
    const ssp_device_levels *lv = ssp_hw_levels(hw);
    size_t idx = 1 * COLS + 2;
    struct set_job j = {device_of(hw, 0, idx, 0), lv->g[5], 1, SSP_OK};
    unsigned long v0 = ssp_hw_version(hw), v1, v2;
    double want = W_MAX * (lv->g[5] - lv->g[0]) / ssp_hw_g_span(hw);
    ssp_hw_stats st = {0};
    int q[ROWS * COLS] = {0};
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_program(hw, set_one, &j));
    v1 = ssp_hw_version(hw);
    CU_ASSERT(v1 > v0);
    CU_ASSERT_DOUBLE_EQUAL(ssp_hw_weights(hw, 0)[idx], want, 1e-6 * want);
    /* G- of the same weight to the same level: weight back to 0; the
     * callback fails, the row is still read back */
    j.d = device_of(hw, 0, idx, 1);
    j.rc = SSP_EIO;
    CU_ASSERT_EQUAL(ssp_hw_program(hw, set_one, &j), SSP_EIO);
    v2 = ssp_hw_version(hw);
    CU_ASSERT(v2 > v1);
    CU_ASSERT(fabs(ssp_hw_weights(hw, 0)[idx]) < 1e-9 * want);
    /* an unmarked row is not read back (the contract: mark what you change) */
    j.d = device_of(hw, 0, 0, 0);
    j.row = ROWS;
    j.rc = SSP_OK;
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_program(hw, set_one, &j));
    CU_ASSERT(fabs(ssp_hw_weights(hw, 0)[0]) < 1e-12);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_write(hw, 0, 3, 2, SSP_HW_VERIFY, &st));
    CU_ASSERT(ssp_hw_version(hw) > v2);
    v2 = ssp_hw_version(hw);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_pulse(hw, 0, 3, 1, &st));
    CU_ASSERT(ssp_hw_version(hw) > v2);
    v2 = ssp_hw_version(hw);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_pulse(hw, 0, 3, 0, &st)); /* no pulse, no change */
    CU_ASSERT_EQUAL(ssp_hw_version(hw), v2);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_preset(hw, 0, q));
    CU_ASSERT(ssp_hw_version(hw) > v2);
    ssp_hw_destroy(&hw);
    ssp_device_model_free(&m);
}

/* Targets: a signed level lands on G+ (q > 0) or G- (q < 0), the other
 * device at level 0; changed_only sets only the devices whose level moves.
 * The cells of a preset matrix read the levels' conductances on the side
 * each weight's sign says. */
static void test_hw__targets_and_cells_follow_the_signed_levels(void)
{
    ssp_device_model *m = nominal_model();
    ssp_hw *hw = make_hw(m, 5);
    const ssp_device_levels *lv = ssp_hw_levels(hw);
    size_t nd = ssp_hw_device_count_of(hw, 0), n = ROWS * COLS;
    int *tg = malloc(nd * sizeof *tg), q[ROWS * COLS];
    ssp_cell_iv plus[ROWS * COLS], minus[ROWS * COLS];
    CU_ASSERT_PTR_NOT_NULL_FATAL(tg);
    CU_ASSERT_EQUAL(nd, ssp_hw_rows(hw, 0) * ssp_hw_device_cols(hw, 0));
    for (size_t d = 0; d < nd; d++) tg[d] = -99;
    CU_ASSERT_EQUAL(ssp_hw_target_weight(hw, 4, 3, 0, 1, tg), 1); /* (0,0) -> (3,0): G+ only */
    CU_ASSERT_EQUAL(tg[device_of(hw, 0, 4, 0)], 3);
    CU_ASSERT_EQUAL(tg[device_of(hw, 0, 4, 1)], -99);
    CU_ASSERT_EQUAL(ssp_hw_target_weight(hw, 4, -2, 3, 1, tg), 2); /* (3,0) -> (0,2): both */
    CU_ASSERT_EQUAL(tg[device_of(hw, 0, 4, 0)], 0);
    CU_ASSERT_EQUAL(tg[device_of(hw, 0, 4, 1)], 2);
    CU_ASSERT_EQUAL(ssp_hw_target_weight(hw, 4, -2, -2, 1, tg), 0);
    CU_ASSERT_EQUAL(ssp_hw_target_weight(hw, 4, -2, -2, 0, tg), 2);
    for (size_t i = 0; i < n; i++) q[i] = (int)(i % 7) - 3;
    ssp_hw_target_all(hw, 0, q, tg);
    for (size_t d = 0; d < nd; d++) {
        size_t i;
        int s;
        ssp_hw_device_weight(hw, 0, d, &i, &s);
        CU_ASSERT_EQUAL(tg[d], ssp_hw_device_level(q[i], s));
        CU_ASSERT_EQUAL(tg[d], s ? (q[i] < 0 ? -q[i] : 0) : (q[i] > 0 ? q[i] : 0));
    }
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_hw_preset(hw, 0, q));
    ssp_hw_cells(hw, 0, plus, minus);
    for (size_t i = 0; i < n; i++) {
        ssp_cell_iv want_p, want_m;
        ssp_device_cell_iv(&ssp_hw_devices_const(hw, 0)[device_of(hw, 0, i, 0)], &want_p);
        ssp_device_cell_iv(&ssp_hw_devices_const(hw, 0)[device_of(hw, 0, i, 1)], &want_m);
        CU_ASSERT_EQUAL(memcmp(&plus[i], &want_p, sizeof want_p), 0);
        CU_ASSERT_EQUAL(memcmp(&minus[i], &want_m, sizeof want_m), 0);
        /* the weight's sign is the pair's: w > 0 iff G+ > G- */
        if (q[i]) CU_ASSERT((ssp_hw_weights(hw, 0)[i] > 0) == (q[i] > 0));
    }
    (void)lv;
    free(tg);
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
                  SSP_TEST(test_hw__stuck_fractions_are_drawn),
                  SSP_TEST(test_hw__program_refreshes_marked_rows_and_counts_versions),
                  SSP_TEST(test_hw__targets_and_cells_follow_the_signed_levels));
}
