/* test_xbar.c — training through the circuit engines: with parasitics and
 * converters made negligible the nodal forward pass reproduces the ideal
 * one; spice checks agree with the nodal engine and trip loudly when the
 * tolerance cannot be met; the spice engine trains; nodal runs repeat bit for
 * bit and resume exactly; the run's IR-drop map and tile netlists exist. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_config.h"
#include "ssp_engine.h"
#include "ssp_hw.h"
#include "ssp_layer.h"
#include "ssp_nodal.h"
#include "ssp_test.h"
#include "ssp_train.h"
#include "ssp_xbar.h"

/* A tiny MLP 196-8-10 on 14x14 MNIST over 32x16 tiles (7 tiles for layer 1,
 * 1 for layer 2): seconds per run even through ngspice. */
static void tiny_config(ssp_config *c, int engine)
{
    char p[512];
    ssp_config_defaults(c);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", ssp_test_path(p, sizeof p, "data"));
    snprintf(c->device_params, sizeof c->device_params, "%s",
             ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"));
    c->train_limit = 96;
    c->test_limit = 40;
    c->downsample = 2;
    c->hidden[0] = 8;
    c->nhidden = 1;
    c->epochs = 1;
    c->engine = engine;
    c->tile_rows = 32;
    c->tile_cols = 16;
}

/* No wire, driver or sense resistance, an ideal TIA, no DAC rounding and a
 * 24-bit ADC: the circuit is G·V up to 2^-23 of full scale. */
static void no_parasitics(ssp_config *c)
{
    c->tile.r_wire_per_um = 0;
    c->tile.r_driver = 0;
    c->tile.r_sense = 0;
    c->tile.dac.r_out = 0;
    c->tile.tia.ideal = 1;
    c->dac_bits = 0;
    c->adc_bits = 24;
    c->tile.adc.v_fs = 2.0;
}

static int run_epoch(ssp_train *t, ssp_epoch_metrics *m)
{
    int done = 0, rc;
    while (!done)
        if ((rc = ssp_train_step(t, &done))) return rc;
    return ssp_train_epoch_end(t, m);
}

/* No wire, driver or sense resistance, an ideal TIA and 24-bit converters:
 * the circuit is G·V up to 2^-23 of full scale, so a whole training epoch
 * follows the ideal engine's to within that quantisation. */
/* The hardware counts its stuck devices over every matrix (both devices of
 * a weight): a fresh array from vteam32 (no stuck fraction) has none, and
 * each device frozen afterwards, on or off, counts once. */
/* Sticks both devices of matrix 0's first weight and the last device of
 * matrix 1 (2 x 5 weights: 20 devices). */
static int stick_three(void *payload, ssp_device *const *dev, gsl_rng *rng, unsigned char *const *touched)
{
    (void)payload;
    (void)rng;
    ssp_device_stick(&dev[0][0], SSP_DEVICE_STUCK_ON);
    ssp_device_stick(&dev[0][1], SSP_DEVICE_STUCK_OFF);
    ssp_device_stick(&dev[1][2 * 2 * 5 - 1], SSP_DEVICE_STUCK_ON);
    touched[0][0] = touched[1][1] = 1;
    return SSP_OK;
}

static void test_xbar__hw_counts_stuck_devices(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    ssp_hw *hw = NULL;
    char path[4096];
    const size_t rows[2] = {3, 2}, cols[2] = {4, 5};
    const double w_max[2] = {1, 1};
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&m, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    SSP_ASSERT_OK(ctx, ssp_hw_create(&hw, ctx, m, 2, rows, cols, 32, 0.25, w_max, 50, 7));
    CU_ASSERT_EQUAL(ssp_hw_device_count(hw), 2 * (3 * 4 + 2 * 5));
    CU_ASSERT_EQUAL(ssp_hw_stuck_count(hw), 0);
    SSP_ASSERT_OK(ctx, ssp_hw_program(hw, stick_three, NULL));
    CU_ASSERT_EQUAL(ssp_hw_stuck_count(hw), 3);
    ssp_hw_destroy(&hw);
    CU_ASSERT_PTR_NULL(hw);
    ssp_device_model_free(&m);
}

static void test_xbar__nodal_without_parasitics_matches_ideal(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    ssp_epoch_metrics ma, mb;
    tiny_config(&c, SSP_ENGINE_IDEAL);
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(a, &ma), SSP_OK);
    c.engine = SSP_ENGINE_NODAL;
    no_parasitics(&c);
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(b, &mb), SSP_OK);
    CU_ASSERT(fabs(ma.train_loss - mb.train_loss) < 1e-4 * ma.train_loss);
    CU_ASSERT(fabs(ma.test_loss - mb.test_loss) < 1e-4 * ma.test_loss);
    CU_ASSERT(fabs(ma.test_acc - mb.test_acc) <= 1.0 / 40 + 1e-12);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* The read figures of an evaluation: on the ideal engine the virtual-ground
 * estimate, on the nodal engine without parasitics the circuit's own
 * settled row power, which is then the same thing; MVMs and latency count
 * the two layers of the MLP. */
static void test_xbar__read_energy_from_the_circuit(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    ssp_epoch_metrics ma, mb;
    tiny_config(&c, SSP_ENGINE_IDEAL);
    no_parasitics(&c);
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(a, &ma), SSP_OK);
    c.engine = SSP_ENGINE_NODAL;
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(b, &mb), SSP_OK);
    CU_ASSERT_FALSE(ma.read.array_from_circuit);
    CU_ASSERT_TRUE(mb.read.array_from_circuit);
    CU_ASSERT(ma.read.e_array > 0);
    /* the devices of the two runs agree to the 24-bit ADC's quantisation */
    CU_ASSERT(ssp_close_rel(ma.read.e_array, mb.read.e_array, 1e-3, 0));
    CU_ASSERT_DOUBLE_EQUAL(ma.read.mvms, 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(ma.read.latency, 2.0 * (c.cost.t_read + c.cost.t_conv), 1e-18);
    CU_ASSERT(ssp_close_rel(ma.read.energy, ma.read.e_array + ma.read.e_dac + ma.read.e_tia + ma.read.e_adc, 1e-12, 0));
    CU_ASSERT(ssp_close_rel(ma.read.energy_per_mvm * ma.read.mvms, ma.read.energy, 1e-12, 0));
    CU_ASSERT_DOUBLE_EQUAL(ma.read.e_tia, mb.read.e_tia, 1e-24);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* Default periphery and 2.5 ohm segments change what the network sees. */
static void test_xbar__wires_and_converters_change_the_forward_pass(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    ssp_epoch_metrics ma, mb;
    tiny_config(&c, SSP_ENGINE_IDEAL);
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(a, &ma), SSP_OK);
    c.engine = SSP_ENGINE_NODAL;
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(b, &mb), SSP_OK);
    CU_ASSERT(fabs(ma.train_loss - mb.train_loss) > 1e-6);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* Fast reads over every tile of a run. */
static unsigned long fast_reads(ssp_train *t)
{
    ssp_xbar *x = ssp_train_xbar(t);
    unsigned long n = 0;
    for (size_t m = 0; m < ssp_xbar_nmat(x); m++)
        for (size_t r = 0; r < ssp_layer_grid_rows(ssp_xbar_layer(x, m)); r++)
            for (size_t c = 0; c < ssp_layer_grid_cols(ssp_xbar_layer(x, m)); c++) {
                ssp_nodal_stats st;
                ssp_nodal_get_stats(ssp_engine_nodal(ssp_layer_engine(ssp_xbar_layer(x, m), r, c)), &st);
                n += st.fast_reads;
            }
    return n;
}

/* engine.nodal_path = reference trains through the MNA/KLU path only, and
 * to the same numbers as the automatic (fast) path. */
static void test_xbar__nodal_paths_train_alike(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    ssp_epoch_metrics ma, mb;
    tiny_config(&c, SSP_ENGINE_NODAL);
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(a, &ma), SSP_OK);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "engine.nodal_path=reference"));
    CU_ASSERT_EQUAL(c.nodal_path, SSP_NODAL_PATH_REFERENCE);
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(b, &mb), SSP_OK);
    CU_ASSERT(fast_reads(a) > 0);
    CU_ASSERT_EQUAL(fast_reads(b), 0);
    CU_ASSERT(fabs(ma.train_loss - mb.train_loss) <= 1e-9 * ma.train_loss);
    CU_ASSERT(fabs(ma.test_loss - mb.test_loss) <= 1e-9 * ma.test_loss);
    CU_ASSERT_EQUAL(ma.test_acc, mb.test_acc);
    CU_ASSERT_EQUAL(ma.hw.pulses, mb.hw.pulses);
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "engine.nodal_path=fastest"), SSP_ECONFIG);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* Every step's forward pass is checked on one tile per matrix against
 * ngspice: the nodal engine agrees far inside the default tolerance. */
static void test_xbar__spice_checks_agree_with_nodal(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_epoch_metrics m;
    const ssp_xbar_checks *st;
    tiny_config(&c, SSP_ENGINE_NODAL);
    c.train_limit = 64;
    c.check_every = 1;
    c.check_vectors = 3;
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(t, &m), SSP_OK);
    st = ssp_xbar_check_stats(ssp_train_xbar(t));
    CU_ASSERT_EQUAL(st->checks, 2 * 2); /* 2 steps x 2 matrices */
    CU_ASSERT(st->max_dev < 1e-9);
    CU_ASSERT(st->codes == (unsigned long)(4 * 3 * 16));
    ssp_train_destroy(&t);
}

/* A tolerance no simulator meets stops the run with a message naming the
 * check, the matrix, the tile and the deviation. */
static void test_xbar__spice_check_beyond_tolerance_stops_the_run(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    int done = 0;
    tiny_config(&c, SSP_ENGINE_NODAL);
    c.check_every = 1;
    c.check_vectors = 2;
    c.check_tol = 0;
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    CU_ASSERT_EQUAL(ssp_train_step(t, &done), SSP_EMISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "spice check"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "matrix 0 tile (0,0)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "step 1"));
    ssp_train_destroy(&t);
}

/* Circuit in the loop: every forward pass through ngspice trains, and ends
 * where the nodal engine ends (the two solve the same circuit; an ADC code
 * may flip where a voltage sits on a code edge, so losses agree closely
 * rather than bit for bit). */
static void test_xbar__spice_engine_trains_like_nodal(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    ssp_epoch_metrics ma, mb;
    tiny_config(&c, SSP_ENGINE_SPICE);
    c.train_limit = 64;
    c.test_limit = 20;
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(a, &ma), SSP_OK);
    c.engine = SSP_ENGINE_NODAL;
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(b, &mb), SSP_OK);
    CU_ASSERT(ma.hw.weight_writes > 0);
    CU_ASSERT(fabs(ma.train_loss - mb.train_loss) < 1e-3 * mb.train_loss);
    CU_ASSERT(fabs(ma.test_loss - mb.test_loss) < 1e-2 * mb.test_loss);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* Same seed, same nodal run; a checkpoint taken mid-epoch resumes to the
 * same end (the tiles are reloaded from the restored devices; with gain
 * calibration every 2 steps the checkpoint, taken after step 1, must carry
 * the gains fitted at step 0, since step 1 does not calibrate). */
static void resumes_exactly(long calibrate_every)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    ssp_epoch_metrics ma, mb;
    char path[] = "/tmp/ssp_xbar_ckpt_XXXXXX";
    int fd = mkstemp(path), done = 0;
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    tiny_config(&c, SSP_ENGINE_NODAL);
    c.calibrate_every = calibrate_every;
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(a, &ma), SSP_OK);
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(ssp_train_step(b, &done), SSP_OK);
    CU_ASSERT_EQUAL_FATAL(ssp_train_checkpoint_save(b, path), SSP_OK);
    ssp_train_destroy(&b);
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(ssp_train_checkpoint_load(b, path), SSP_OK);
    CU_ASSERT_EQUAL_FATAL(run_epoch(b, &mb), SSP_OK);
    CU_ASSERT_EQUAL(ma.train_loss, mb.train_loss);
    CU_ASSERT_EQUAL(ma.test_loss, mb.test_loss);
    CU_ASSERT_EQUAL(ma.hw.weight_writes, mb.hw.weight_writes);
    unlink(path);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

static void test_xbar__nodal_repeats_and_resumes_exactly(void)
{
    resumes_exactly(0);
    resumes_exactly(2);
}

/* The round robin of spice checks goes on across a checkpoint: checks every
 * step, a checkpoint after step 1 of 3; the resumed run's next checked tile
 * of layer 1 (7 tiles) is the uninterrupted run's, not the first again. */
static void test_xbar__spice_checks_continue_after_resume(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL;
    char path[] = "/tmp/ssp_xbar_ckpt_XXXXXX";
    int fd = mkstemp(path), done = 0;
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    tiny_config(&c, SSP_ENGINE_NODAL);
    c.check_every = 1;
    c.check_vectors = 2;
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(ssp_train_step(a, &done), SSP_OK);
    CU_ASSERT_EQUAL(ssp_xbar_check_next(ssp_train_xbar(a), 0), 1);
    CU_ASSERT_EQUAL_FATAL(ssp_train_checkpoint_save(a, path), SSP_OK);
    CU_ASSERT_EQUAL_FATAL(ssp_train_step(a, &done), SSP_OK);
    CU_ASSERT_EQUAL(ssp_xbar_check_next(ssp_train_xbar(a), 0), 2);
    ssp_train_destroy(&a); /* one ngspice session per process */
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(ssp_train_checkpoint_load(b, path), SSP_OK);
    CU_ASSERT_EQUAL(ssp_xbar_check_next(ssp_train_xbar(b), 0), 1);
    CU_ASSERT_EQUAL_FATAL(ssp_train_step(b, &done), SSP_OK);
    CU_ASSERT_EQUAL(ssp_xbar_check_next(ssp_train_xbar(b), 0), 2);
    CU_ASSERT_EQUAL(ssp_xbar_check_stats(ssp_train_xbar(b))->checks, 2); /* one per matrix */
    unlink(path);
    ssp_train_destroy(&b);
}

/* Root-mean-square of a - b over n values. */
static double rms_diff(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s / (double)n);
}

/* n x dim inputs in [0, 1) from a fixed LCG. */
static void lcg_inputs(double *u, size_t n, unsigned long *state)
{
    for (size_t i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ul + 1442695040888963407ul;
        u[i] = (double)(*state >> 11) / 9007199254740992.0;
    }
}

/* Gain calibration against the wires: with 20 ohm segments the layer-1
 * product of the tiles loses a large share of its signal to IR drop. Gains
 * fitted on 32 vectors bring the product of those and of 32 others much
 * closer to G·V of the same devices; they are all above 1 (wires only lose
 * signal), a second calibration on the same vectors gives the same gains
 * bit for bit (no history), and without parasitics (ideal TIA, 24-bit
 * converters) every gain is 1 to within 1e-4. */
static void test_xbar__calibration_undoes_the_output_gain_error(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_xbar *x;
    const size_t n = 64, k = 32, dim = 197, outs = 8; /* 14x14 pixels and the bias */
    double *u = malloc(n * dim * sizeof *u), *zi = malloc(n * outs * sizeof *zi), *z0 = malloc(n * outs * sizeof *z0);
    double *z1 = malloc(n * outs * sizeof *z1), *g1 = NULL, *g;
    unsigned long seed = 7;
    size_t ng, i;
    CU_ASSERT_FATAL(u && zi && z0 && z1);
    lcg_inputs(u, n * dim, &seed);
    for (i = 0; i < n * dim; i++) u[i] *= 0.25;
    for (int pass = 0; pass < 2; pass++) {
        tiny_config(&c, SSP_ENGINE_NODAL);
        if (pass == 0) {
            c.tile.r_wire_per_um = 40; /* 20 ohm segments */
            c.adc_bits = 14;           /* the untrained weights' outputs span few 8-bit codes */
        } else {
            no_parasitics(&c);
        }
        SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
        x = ssp_train_xbar(t);
        CU_ASSERT_EQUAL_FATAL(ssp_hw_rows(ssp_train_hw(t), 0), dim);
        ng = ssp_layer_grid_rows(ssp_xbar_layer(x, 0)) * ssp_layer_grid_cols(ssp_xbar_layer(x, 0)) *
             ssp_layer_outputs_per_tile(ssp_xbar_layer(x, 0));
        CU_ASSERT_EQUAL_FATAL(ng, 7 * outs);
        {
            const double *w = ssp_hw_weights(ssp_train_hw(t), 0); /* dim x outs */
            for (i = 0; i < n * outs; i++) {
                double acc = 0;
                for (size_t r = 0; r < dim; r++) acc += u[(i / outs) * dim + r] * w[r * outs + i % outs];
                zi[i] = acc;
            }
        }
        CU_ASSERT_EQUAL_FATAL(ssp_xbar_matmul(x, 0, u, n, z0), SSP_OK);
        ssp_xbar_request_calibration(x, k);
        CU_ASSERT_EQUAL_FATAL(ssp_xbar_matmul(x, 0, u, n, z1), SSP_OK);
        g = ssp_layer_gains(ssp_xbar_layer(x, 0));
        CU_ASSERT_EQUAL(ssp_xbar_calibration_stats(x)->runs, 1);
        if (pass == 0) {
            double e0 = rms_diff(z0, zi, n * outs), e1 = rms_diff(z1, zi, k * outs),
                   e2 = rms_diff(z1 + k * outs, zi + k * outs, (n - k) * outs);
            double ri = 0;
            for (i = 0; i < n * outs; i++) ri += zi[i] * zi[i];
            ri = sqrt(ri / (double)(n * outs));
            CU_ASSERT(e0 > 0.05 * ri); /* the wires cost more than 5 % of the signal */
            CU_ASSERT(e1 < 0.4 * e0); /* measured 0.33 */
            CU_ASSERT(e2 < 0.4 * e0);
            CU_ASSERT(ssp_xbar_calibration_stats(x)->fitted > ng / 2);
            for (i = 0; i < ng; i++) CU_ASSERT(g[i] >= 1.0);
            CU_ASSERT(ssp_xbar_calibration_stats(x)->gain_max > 1.1);
            g1 = malloc(ng * sizeof *g1);
            CU_ASSERT_FATAL(g1 != NULL);
            memcpy(g1, g, ng * sizeof *g1);
            ssp_xbar_request_calibration(x, k);
            CU_ASSERT_EQUAL_FATAL(ssp_xbar_matmul(x, 0, u, n, z1), SSP_OK);
            CU_ASSERT_EQUAL(memcmp(g1, g, ng * sizeof *g1), 0);
        } else {
            for (i = 0; i < ng; i++) CU_ASSERT(fabs(g[i] - 1.0) < 1e-4);
        }
        ssp_train_destroy(&t);
    }
    free(g1);
    free(u);
    free(zi);
    free(z0);
    free(z1);
}

/* The IR-drop capture of the evaluation: one line per tile output, errors
 * mostly negative (wires lose signal) and bounded; the netlists run
 * standalone. */
static void test_xbar__irdrop_map_and_netlists(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_epoch_metrics m;
    char *buf = NULL, dir[] = "/tmp/ssp_xbar_nl_XXXXXX", cmd[600];
    size_t len = 0;
    FILE *f;
    long lines = 0, negative = 0, nans = 0, outside = 0;
    double e;
    unsigned a, b, cc, o;
    tiny_config(&c, SSP_ENGINE_NODAL);
    c.tile.r_wire_per_um = 40; /* 20 ohm segments: a clear drop */
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    CU_ASSERT_EQUAL_FATAL(run_epoch(t, &m), SSP_OK);
    f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL_FATAL(ssp_xbar_write_irdrop(ssp_train_xbar(t), f), SSP_OK);
    fclose(f);
    f = fmemopen(buf, len, "r");
    CU_ASSERT_EQUAL(fscanf(f, "matrix,tile_row,tile_col,out,err\n"), 0);
    while (fscanf(f, "%u,%u,%u,%u,", &a, &b, &cc, &o) == 4) {
        char word[32];
        lines++;
        CU_ASSERT_EQUAL_FATAL(fscanf(f, "%31s\n", word), 1);
        if (strcmp(word, "nan") == 0) {
            nans++;
            continue;
        }
        e = strtod(word, NULL);
        negative += e < 0;
        outside += !(e > -0.5 && e < 0.05);
    }
    fclose(f);
    free(buf);
    CU_ASSERT_EQUAL(lines, 7 * 8 + 10); /* layer 1: 7 tile rows x 8 outputs; layer 2: 10 */
    CU_ASSERT(negative > lines / 2);
    /* a few weak outputs (the last tile row holds 4 corner pixels and the
     * bias) are dominated by the TIA offset, not by the wires */
    CU_ASSERT(outside < lines / 10);
    CU_ASSERT(nans < lines / 4); /* only outputs with almost no signal */
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    CU_ASSERT_EQUAL_FATAL(ssp_xbar_write_netlists(ssp_train_xbar(t), dir), SSP_OK);
    snprintf(cmd, sizeof cmd, "cd %s && ngspice -b m1_t0_0.cir 2>&1 | grep -c '^v(out_c' > count.txt", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/count.txt", dir);
    f = fopen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fscanf(f, "%ld", &lines), 1);
    fclose(f);
    CU_ASSERT_EQUAL(lines, 16); /* every TIA output printed */
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    ssp_train_destroy(&t);
}

/* validate: every tile of every matrix on the three engines, from the same
 * cells and the layers' actual inputs; nodal and spice agree to 1e-9. */
static void test_xbar__validation_covers_every_tile(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_xbar *x;
    const ssp_xbar_tile_check *v;
    size_t n, want = 0, m;
    double acc, loss;
    tiny_config(&c, SSP_ENGINE_NODAL);
    c.test_limit = 3;
    c.check_every = 1000000; /* an ngspice session, no periodic checks */
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    x = ssp_train_xbar(t);
    CU_ASSERT_EQUAL_FATAL(ssp_xbar_request_validate(x, 3), SSP_OK);
    CU_ASSERT_EQUAL_FATAL(ssp_train_evaluate(t, &acc, &loss), SSP_OK);
    v = ssp_xbar_validation(x, &n);
    for (m = 0; m < ssp_xbar_nmat(x); m++)
        want += ssp_layer_grid_rows(ssp_xbar_layer(x, m)) * ssp_layer_grid_cols(ssp_xbar_layer(x, m));
    CU_ASSERT_EQUAL(n, want);
    CU_ASSERT(n >= 3);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(v[i].vectors, 3);
        CU_ASSERT(v[i].nodal_vs_spice <= 1e-9);
        CU_ASSERT(v[i].nodal_vs_spice_fs <= 1e-9);
        /* the ideal engine misses the wires and the TIA's finite gain and offset */
        CU_ASSERT(v[i].ideal_vs_spice_fs > 1e-6);
    }
    CU_ASSERT_EQUAL(v[n - 1].matrix, ssp_xbar_nmat(x) - 1);
    ssp_train_destroy(&t);
}

SSP_TEST_SUITE(xbar)
{
    SSP_ADD_SUITE("xbar", NULL, NULL,
                  SSP_TEST(test_xbar__hw_counts_stuck_devices),
                  SSP_TEST(test_xbar__nodal_without_parasitics_matches_ideal),
                  SSP_TEST(test_xbar__wires_and_converters_change_the_forward_pass),
                  SSP_TEST(test_xbar__nodal_paths_train_alike),
                  SSP_TEST(test_xbar__spice_checks_agree_with_nodal),
                  SSP_TEST(test_xbar__spice_check_beyond_tolerance_stops_the_run),
                  SSP_TEST(test_xbar__spice_engine_trains_like_nodal),
                  SSP_TEST(test_xbar__nodal_repeats_and_resumes_exactly),
                  SSP_TEST(test_xbar__spice_checks_continue_after_resume),
                  SSP_TEST(test_xbar__calibration_undoes_the_output_gain_error),
                  SSP_TEST(test_xbar__irdrop_map_and_netlists),
                  SSP_TEST(test_xbar__validation_covers_every_tile),
                  SSP_TEST(test_xbar__read_energy_from_the_circuit));
}
