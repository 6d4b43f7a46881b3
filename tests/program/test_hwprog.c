/* test_hwprog.c — training through the pulse scheduler (program.mode =
 * model | spice, harness/ssp_hwprog.h) and `siamspice program` on
 * checkpoints: a model-mode run repeats bit for bit and resumes exactly, a
 * program check beyond its tolerance stops the run naming step, tile and
 * deviation, spice mode lands every cell where the C model does (noise-free
 * devices), and program --present/--target on checkpoints writes exports
 * that read back.
 *
 * The network is tiny (8x8 crop at 14x14, 64-6-10, 16x8 tiles) so every
 * test takes seconds. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_cmd.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_hwprog.h"
#include "ssp_pulse.h"
#include "ssp_test.h"
#include "ssp_train.h"

/* ngspice vs C model per cell, fraction of the state range. */
static const double SPICE_MODEL_TOL = 0.01;

enum { PATH_CAP = 4096 };

/* Run a subcommand in this process on copies of the arguments. */
static int run_cmd(int (*cmd)(int, char **), const char *const *args, int n)
{
    char *v[40];
    int rc = -1, k;
    if (n > 40) return -1;
    for (k = 0; k < n; k++)
        if (!(v[k] = strdup(args[k]))) goto done;
    rc = cmd(n, v);
done:
    while (k-- > 0) free(v[k]);
    return rc;
}

static void tiny_config(ssp_config *c, int mode)
{
    char p[512];
    ssp_config_defaults(c);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", ssp_test_path(p, sizeof p, "data"));
    snprintf(c->device_params, sizeof c->device_params, "%s",
             ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"));
    c->seed = 3;
    c->train_limit = 96;
    c->test_limit = 50;
    c->downsample = 2;
    c->crop = 8;
    c->hidden[0] = 6;
    c->nhidden = 1;
    c->w_max = 2;
    c->batch = 16;
    c->epochs = 2;
    c->tile_rows = 16;
    c->tile_cols = 8;
    c->prog_mode = mode;
    c->prog_check_every = 2;
}

static int run_epochs(ssp_train *t, long epochs, ssp_epoch_metrics *last)
{
    while (ssp_train_epochs_done(t) < epochs) {
        int done = 0, rc;
        while (!done)
            if ((rc = ssp_train_step(t, &done))) return rc;
        if ((rc = ssp_train_epoch_end(t, last))) return rc;
    }
    return SSP_OK;
}

/* Every device state equal, bit for bit. */
static int same_devices(const ssp_train *a, const ssp_train *b)
{
    const ssp_hw *ha = ssp_train_hw(a), *hb = ssp_train_hw(b);
    for (size_t m = 0; m < ssp_hw_nmat(ha); m++) {
        const ssp_device *da = ssp_hw_devices_const(ha, m), *db = ssp_hw_devices_const(hb, m);
        for (size_t i = 0; i < 2 * ssp_hw_weight_count(ha, m); i++)
            if (da[i].x != db[i].x) return 0;
    }
    return 1;
}

static void assert_same_metrics(const ssp_epoch_metrics *a, const ssp_epoch_metrics *b)
{
    CU_ASSERT_EQUAL(a->train_loss, b->train_loss);
    CU_ASSERT_EQUAL(a->test_acc, b->test_acc);
    CU_ASSERT_EQUAL(a->hw.weight_writes, b->hw.weight_writes);
    CU_ASSERT_EQUAL(a->hw.device_writes, b->hw.device_writes);
    CU_ASSERT_EQUAL(a->hw.pulses, b->hw.pulses);
    CU_ASSERT_EQUAL(a->hw.pulse_energy_j, b->hw.pulse_energy_j);
    CU_ASSERT_EQUAL(a->hw.pulse_latency_s, b->hw.pulse_latency_s);
}

static void test_hwprog__model_mode_trains_and_repeats(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *a = NULL, *b = NULL, *d = NULL;
    ssp_epoch_metrics ma, mb, md;
    tiny_config(&c, SSP_PROG_MODEL);
    SSP_ASSERT_OK(ctx, ssp_train_create(&a, ctx, &c));
    SSP_ASSERT_OK(ctx, ssp_train_create(&b, ctx, &c));
    SSP_ASSERT_OK(ctx, run_epochs(a, 2, &ma));
    SSP_ASSERT_OK(ctx, run_epochs(b, 2, &mb));
    CU_ASSERT(ma.hw.pulses > 0);
    CU_ASSERT(ma.hw.device_writes > 0);
    CU_ASSERT(ma.hw.pulse_energy_j > 0);
    CU_ASSERT(ma.hw.pulse_latency_s > 0);
    CU_ASSERT_EQUAL(ma.hw.reads, 0); /* open loop: no verify reads */
    assert_same_metrics(&ma, &mb);
    CU_ASSERT(same_devices(a, b));
    /* the device path on the same seed is another run */
    c.prog_mode = SSP_PROG_DEVICE;
    SSP_ASSERT_OK(ctx, ssp_train_create(&d, ctx, &c));
    SSP_ASSERT_OK(ctx, run_epochs(d, 2, &md));
    CU_ASSERT(!same_devices(a, d));
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
    ssp_train_destroy(&d);
}

/* program.closed_loop = circuit: the closed-loop reference is programmed
 * through the scheduler on a copy of the hardware, every weight written and
 * verified each update step; the estimate (the default) has no such run. */
static void test_hwprog__closed_loop_circuit_reference(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *est = NULL, *cir = NULL;
    const ssp_pulse_result *r, *own;
    int done = 0;
    tiny_config(&c, SSP_PROG_MODEL);
    c.epochs = 1;
    SSP_ASSERT_OK(ctx, ssp_train_create(&est, ctx, &c));
    CU_ASSERT_PTR_NULL(ssp_train_epoch_closed_loop_prog(est));
    c.prog_closed_loop = 1;
    SSP_ASSERT_OK(ctx, ssp_config_check(&c, ctx));
    SSP_ASSERT_OK(ctx, ssp_train_create(&cir, ctx, &c));
    /* the epoch's figures, read before ssp_train_epoch_end resets them */
    while (!done) SSP_ASSERT_OK(ctx, ssp_train_step(cir, &done));
    r = ssp_train_epoch_closed_loop_prog(cir);
    own = ssp_train_epoch_prog(cir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(own);
    /* write-verify of every weight: more targets, pulses and reads than the
     * method's own open-loop changes, and energy spent */
    CU_ASSERT(r->targets > own->targets);
    CU_ASSERT(r->pulses > 0 && r->verify_reads > 0);
    CU_ASSERT(r->energy_j > 0 && r->latency_s > 0);
    ssp_train_destroy(&cir);
    ssp_train_destroy(&est);
}

static void test_hwprog__model_mode_resumes_exactly(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *full = NULL, *first = NULL, *second = NULL;
    ssp_epoch_metrics mf, ms;
    char path[] = "/tmp/ssp_hwprog_ckpt_XXXXXX";
    int fd = mkstemp(path), done = 0;
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    tiny_config(&c, SSP_PROG_MODEL);
    c.prog_check_every = 3; /* a check falls after the resume point */
    SSP_ASSERT_OK(ctx, ssp_train_create(&full, ctx, &c));
    SSP_ASSERT_OK(ctx, run_epochs(full, 2, &mf));
    SSP_ASSERT_OK(ctx, ssp_train_create(&first, ctx, &c));
    SSP_ASSERT_OK(ctx, run_epochs(first, 1, &ms));
    for (int s = 0; s < 2; s++) SSP_ASSERT_OK(ctx, ssp_train_step(first, &done));
    SSP_ASSERT_OK(ctx, ssp_train_checkpoint_save(first, path));
    ssp_train_destroy(&first);
    SSP_ASSERT_OK(ctx, ssp_train_create(&second, ctx, &c));
    SSP_ASSERT_OK(ctx, ssp_train_checkpoint_load(second, path));
    SSP_ASSERT_OK(ctx, run_epochs(second, 2, &ms));
    assert_same_metrics(&mf, &ms);
    CU_ASSERT(same_devices(full, second));
    /* a device-mode checkpoint has an empty calibration section: loading it
     * into a model-mode run and continuing recalibrates from ngspice */
    ssp_train_destroy(&full);
    ssp_train_destroy(&second);
    remove(path);
}

static void test_hwprog__check_beyond_tolerance_stops_the_run(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_epoch_metrics m;
    int rc;
    tiny_config(&c, SSP_PROG_MODEL);
    c.prog_check_tol = 0; /* no deviation at all allowed: the integrators differ */
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    rc = run_epochs(t, 1, &m);
    CU_ASSERT_EQUAL(rc, SSP_EMISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "program check at epoch 1 step 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "tile "));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "% of the state range"));
    if (rc != SSP_EMISMATCH) fprintf(stderr, "\n  message: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
}

/* The command line: exit status 1, the message on stderr, the check lines
 * in run.log. */
/* The tiny run as an INI file for the command: `epochs` epochs on the
 * device file params, with the [program] lines given. */
static void write_tiny_ini(const char *path, long epochs, const char *params, const char *program)
{
    char datadir[512];
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "[run]\nseed = 3\nepochs = %ld\n[data]\ndir = %s\ntrain_limit = 64\ntest_limit = 50\ndownsample = 2\n"
               "crop = 8\n[network]\nhidden = 6\nw_max = 2\n[train]\nbatch = 16\n[device]\nparams = %s\n"
               "[crossbar]\nrows = 16\ncols = 8\n[program]\n%s",
            epochs, ssp_test_path(datadir, sizeof datadir, "data"), params, program);
    fclose(f);
}

static void test_hwprog__check_failure_exit_status_and_log(void)
{
    char dir[] = "/tmp/ssp_hwprog_run_XXXXXX", cfg[PATH_CAP], p[PATH_CAP], params[512];
    unsigned char *log = NULL;
    size_t len = 0;
    int status;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(cfg, sizeof cfg, "%s/tiny.ini", dir);
    write_tiny_ini(cfg, 1, ssp_test_path(params, sizeof params, "devicemodels/params/vteam32.ini"),
                   "mode = model\ncheck_every = 1\ncheck_tol = 0\n");
    snprintf(p, sizeof p, "%s/run", dir);
    {
        const char *args[] = {"train", "--config", cfg, "--out", p, "-q"};
        status = run_cmd(ssp_cmd_train, args, 6);
    }
    CU_ASSERT_EQUAL(status, 1);
    snprintf(p, sizeof p, "%s/run/run.log", dir);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), p, &log, &len));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)log, "program_check: epoch = 1, step = 1, tile = "));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)log, "program check at epoch 1 step 1: tile "));
    free(log);
    {
        char cmd[PATH_CAP + 16];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

/* vteam32 without cycle-to-cycle and read noise, so the C model and ngspice
 * see the same pulses. */
static int noise_free_params(char *out, size_t n)
{
    char src[512];
    unsigned char *text = NULL;
    size_t len = 0;
    FILE *f;
    if (ssp_file_read_all(ssp_test_ctx(), ssp_test_path(src, sizeof src, "devicemodels/params/vteam32.ini"), &text, &len))
        return -1;
    snprintf(out, n, "/tmp/ssp_hwprog_vteam32_quiet.ini");
    f = fopen(out, "w");
    if (!f) {
        free(text);
        return -1;
    }
    for (char *line = strtok((char *)text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "c2c_range", 9) || !strncmp(line, "read_noise", 10)) continue;
        fprintf(f, "%s\n", line);
        if (!strcmp(line, "[variation]")) fputs("c2c_range = 0 %\nread_noise = 0 %\n", f);
    }
    free(text);
    return fclose(f);
}

static void test_hwprog__spice_mode_matches_model_mode(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    char params[512];
    int done = 0;
    double worst = 0, *xs = NULL;
    size_t nd = 0, k = 0;
    ssp_epoch_metrics m;
    CU_ASSERT_FATAL(noise_free_params(params, sizeof params) == 0);
    tiny_config(&c, SSP_PROG_SPICE);
    c.epochs = 1;
    snprintf(c.device_params, sizeof c.device_params, "%s", params);
    /* ngspice allows one session per process: the spice run first, its
     * states kept, then the model run */
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    for (int s = 0; s < 3; s++) SSP_ASSERT_OK(ctx, ssp_train_step(t, &done));
    for (size_t mm = 0; mm < ssp_hw_nmat(ssp_train_hw(t)); mm++) nd += 2 * ssp_hw_weight_count(ssp_train_hw(t), mm);
    xs = malloc(nd * sizeof *xs);
    CU_ASSERT_FATAL(xs != NULL);
    for (size_t mm = 0; mm < ssp_hw_nmat(ssp_train_hw(t)); mm++) {
        const ssp_device *d = ssp_hw_devices_const(ssp_train_hw(t), mm);
        for (size_t i = 0; i < 2 * ssp_hw_weight_count(ssp_train_hw(t), mm); i++) xs[k++] = d[i].x;
    }
    ssp_train_destroy(&t);
    c.prog_mode = SSP_PROG_MODEL;
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    for (int s = 0; s < 3; s++) SSP_ASSERT_OK(ctx, ssp_train_step(t, &done));
    k = 0;
    for (size_t mm = 0; mm < ssp_hw_nmat(ssp_train_hw(t)); mm++) {
        const ssp_device *d = ssp_hw_devices_const(ssp_train_hw(t), mm);
        for (size_t i = 0; i < 2 * ssp_hw_weight_count(ssp_train_hw(t), mm); i++) {
            double dx = fabs(d[i].x - xs[k++]); /* vteam32: x in [0, 1] */
            if (dx > worst) worst = dx;
        }
    }
    /* the runs did program cells */
    while (!done) SSP_ASSERT_OK(ctx, ssp_train_step(t, &done));
    SSP_ASSERT_OK(ctx, ssp_train_epoch_end(t, &m));
    CU_ASSERT(m.hw.pulses > 0);
    fprintf(stderr, " [spice vs model max %.4g %% of range] ", 100 * worst);
    CU_ASSERT(worst <= SPICE_MODEL_TOL);
    CU_ASSERT(worst > 0); /* two integrators: never bit-equal */
    ssp_train_destroy(&t);
    free(xs);
    remove(params);
}

/* The tile programmer itself: tiling of a 5 x 3 weight matrix (5 x 6
 * devices) on 4 x 4 tiles, the C model refusing to price without a
 * calibration, and the disturb of a broken bias reaching the matrix's
 * untargeted devices through the tile copy. */
static void test_hwprog__tiles_calibration_and_disturb(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_hwprog *hp = NULL;
    ssp_hwprog_params p = {SSP_PULSE_OPEN, SSP_PULSE_V2, 8, 4, 4, 0, 0};
    size_t rows[1] = {5}, cols[1] = {6}; /* devices: 3 pairs a row */
    ssp_device dev[30], start[30], nom, *devs[1] = {dev};
    int target[30], *targets[1] = {target};
    ssp_hwprog_totals tot;
    ssp_pulse_result r;
    char path[512];
    size_t changed = 0;
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&nom, model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &nom, 32, 0.25));
    p.tile_cols = 3;
    CU_ASSERT_EQUAL(ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p), SSP_EINVAL);
    CU_ASSERT_PTR_NULL(hp);
    p.tile_cols = 4;
    SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p));
    /* 5 x 6 devices on 4 x 4 tiles: 2 x 2 tiles, the last row and column short */
    CU_ASSERT_EQUAL_FATAL(ssp_hwprog_ntiles(hp), 4);
    CU_ASSERT_EQUAL(ssp_hwprog_tile_at(hp, 1)->c0, 4);
    CU_ASSERT_EQUAL(ssp_hwprog_tile_at(hp, 1)->cols, 2);
    CU_ASSERT_EQUAL(ssp_hwprog_tile_at(hp, 3)->r0, 4);
    CU_ASSERT_EQUAL(ssp_hwprog_tile_at(hp, 3)->rows, 1);
    for (size_t i = 0; i < 30; i++) {
        ssp_device_init(&dev[i], model, 0);
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&dev[i], ctx, lv->g[10]));
        target[i] = SSP_PULSE_KEEP;
    }
    target[1 * 6 + 5] = 20; /* device (1, 5): tile 1 */
    CU_ASSERT(!ssp_hwprog_tile_has_targets(hp, 0, target));
    CU_ASSERT(ssp_hwprog_tile_has_targets(hp, 1, target));
    CU_ASSERT_EQUAL(ssp_hwprog_program(hp, 1, dev, target, NULL, NULL, NULL, &r, NULL), SSP_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "calibration"));
    ssp_hwprog_destroy(&hp);
    /* the broken bias: unselected rows at the full amplitude */
    p.bias = SSP_PULSE_FULL;
    SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p));
    ssp_hwprog_cal(hp)->fitted = 1;
    ssp_hwprog_cal(hp)->sel_ratio = ssp_hwprog_cal(hp)->half_ratio = 1;
    memcpy(start, dev, sizeof dev);
    memset(&tot, 0, sizeof tot);
    SSP_ASSERT_OK(ctx, ssp_hwprog_program_all(hp, devs, (const int *const *)targets, NULL, NULL, &tot));
    CU_ASSERT_EQUAL(tot.tiles, 1);
    CU_ASSERT_EQUAL(tot.sum.targets, 1);
    CU_ASSERT(tot.sum.pulses > 0);
    CU_ASSERT(tot.sum.disturb_max > 0.1);
    for (size_t i = 0; i < 30; i++) {
        size_t row = i / 6, col = i % 6;
        int in_tile1 = row < 4 && col >= 4;
        if (i == 1 * 6 + 5) continue;
        if (dev[i].x != start[i].x) {
            changed++;
            CU_ASSERT(in_tile1); /* nothing outside the programmed tile moves */
        }
    }
    CU_ASSERT(changed > 0); /* the disturb reached the matrix's devices */
    CU_ASSERT(dev[1 * 6 + 5].x > start[1 * 6 + 5].x);
    ssp_hwprog_destroy(&hp);
    CU_ASSERT_PTR_NULL(hp);
    ssp_hwprog_destroy(&hp); /* NULL is a no-op */
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* Programming every tile on threads (ssp_hwprog_program_all_threads):
 * 24 x 24 devices on 8 x 8 tiles (9 tiles), write-verify under V/2 with
 * 2.5 ohm segments and the device's read and write noise, one noise stream
 * per tile. On 1 and on 3 threads every device ends in the same state and
 * every figure is the same, to the bit; a bad target in tile 7 fails with
 * that tile's message on the first programmer's context, whichever thread
 * ran it; programmers of another tiling are refused. */
static void test_hwprog__threads_program_alike(void)
{
    enum { N = 24, NT = 9, THREADS = 3 };
    ssp_ctx *ctx = ssp_test_ctx(), *tctx[THREADS] = {ctx, NULL, NULL};
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_hwprog *hp[THREADS] = {NULL, NULL, NULL}, *other = NULL;
    ssp_hwprog_params p = {SSP_PULSE_VERIFY, SSP_PULSE_V2, 8, 8, 8, 2.5, 0.45e-15};
    size_t rows[1] = {N}, cols[1] = {N}, small[1] = {N / 2};
    static ssp_device start[N * N], dev[2][N * N];
    int target[N * N], *targets[1] = {target};
    gsl_rng *rng[NT];
    ssp_hwprog_totals tot[2];
    char path[512];
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&start[0], model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &start[0], 32, 0.25));
    for (size_t i = 0; i < N * N; i++) {
        int L = (int)((i * 7) % 28) + 2;
        ssp_device_init(&start[i], model, 0);
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&start[i], ctx, lv->g[L]));
        target[i] = i % 3 == 0 ? (L + 2 * (int)(i % 5) - 4 + 32) % 32 : SSP_PULSE_KEEP;
    }
    for (int k = 1; k < THREADS; k++) CU_ASSERT_EQUAL_FATAL(ssp_ctx_create(&tctx[k]), SSP_OK);
    for (int k = 0; k < THREADS; k++) {
        SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp[k], tctx[k], model, lv, 1, rows, cols, &p));
        ssp_hwprog_cal(hp[k])->fitted = 1;
        ssp_hwprog_cal(hp[k])->sel_ratio = ssp_hwprog_cal(hp[k])->half_ratio = ssp_hwprog_cal(hp[k])->wire_ratio = 1;
    }
    CU_ASSERT_EQUAL_FATAL(ssp_hwprog_ntiles(hp[0]), NT);
    for (int run = 0; run < 2; run++) {
        ssp_device *devs[1] = {dev[run]};
        size_t nthreads = run == 0 ? 1 : THREADS;
        memcpy(dev[run], start, sizeof start);
        memset(&tot[run], 0, sizeof tot[run]);
        for (size_t k = 0; k < NT; k++) SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng[k], ctx, 100 + k));
        SSP_ASSERT_OK(ctx, ssp_hwprog_program_all_threads(hp, nthreads, devs, (const int *const *)targets, rng,
                                                          &tot[run]));
        for (size_t k = 0; k < NT; k++) ssp_device_rng_free(&rng[k]);
    }
    CU_ASSERT_EQUAL(tot[0].tiles, NT);
    CU_ASSERT(tot[0].sum.pulses > 100);
    CU_ASSERT(tot[0].sum.verify_reads > 0);
    CU_ASSERT(tot[0].sum.in_band > 0);
    CU_ASSERT_EQUAL(tot[1].tiles, tot[0].tiles);
    CU_ASSERT_EQUAL(tot[1].sum.pulses, tot[0].sum.pulses);
    CU_ASSERT_EQUAL(tot[1].sum.in_band, tot[0].sum.in_band);
    CU_ASSERT(tot[1].sum.energy_j == tot[0].sum.energy_j);
    CU_ASSERT(tot[1].sum.latency_s == tot[0].sum.latency_s);
    {
        size_t same = 0, moved = 0;
        for (size_t i = 0; i < N * N; i++) {
            same += dev[1][i].x == dev[0][i].x;
            moved += dev[0][i].x != start[i].x;
        }
        CU_ASSERT_EQUAL(same, (size_t)N * N);
        CU_ASSERT(moved > N * N / 4);
    }
    /* a target no level has, in tile 7 (rows 16.., columns 8..) */
    {
        ssp_device *devs[1] = {dev[1]};
        target[17 * N + 9] = 99;
        for (size_t k = 0; k < NT; k++) SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng[k], ctx, 100 + k));
        CU_ASSERT_EQUAL(ssp_hwprog_program_all_threads(hp, THREADS, devs, (const int *const *)targets, rng, &tot[1]),
                        SSP_ERANGE);
        for (size_t k = 0; k < NT; k++) ssp_device_rng_free(&rng[k]);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "tile 7"));
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "target level 99"));
    }
    SSP_ASSERT_OK(ctx, ssp_hwprog_create(&other, tctx[1], model, lv, 1, small, small, &p));
    {
        ssp_hwprog *mixed[2] = {hp[0], other};
        ssp_device *devs[1] = {dev[1]};
        CU_ASSERT_EQUAL(ssp_hwprog_program_all_threads(mixed, 2, devs, (const int *const *)targets, rng, &tot[1]),
                        SSP_EINVAL);
    }
    ssp_hwprog_destroy(&other);
    for (int k = 0; k < THREADS; k++) ssp_hwprog_destroy(&hp[k]);
    for (int k = 1; k < THREADS; k++) ssp_ctx_destroy(&tctx[k]);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* program_all_pool against program_all_threads on one thread, through
 * pool (its workers serve SSP_HWPROG_HANDLER): the same 24x24 devices on 9
 * tiles, write-verify under V/2, noise on. States, figures and the noise
 * streams after are the same bits; a bad target in tile 7 fails with that
 * tile's message and changes no device and no stream; an uncalibrated
 * programmer is refused before any job runs. Also used by the pool_mpi
 * suite with MPI ranks as the workers. */
void ssp_test_hwprog_pool_alike(ssp_pool *pool)
{
    enum { N = 24, NT = 9 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_hwprog *hp = NULL;
    ssp_hwprog_params p = {SSP_PULSE_VERIFY, SSP_PULSE_V2, 8, 8, 8, 2.5, 0.45e-15};
    size_t rows[1] = {N}, cols[1] = {N};
    static ssp_device start[N * N], dev[2][N * N], before[N * N];
    int target[N * N], *targets[1] = {target};
    gsl_rng *rng[2][NT];
    ssp_hwprog_totals tot[2];
    char path[512];
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&start[0], model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &start[0], 32, 0.25));
    for (size_t i = 0; i < N * N; i++) {
        int L = (int)((i * 7) % 28) + 2;
        SSP_ASSERT_OK(ctx, ssp_device_sample(&start[i], ctx, model, NULL));
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&start[i], ctx, lv->g[L]));
        target[i] = i % 3 == 0 ? (L + 2 * (int)(i % 5) - 4 + 32) % 32 : SSP_PULSE_KEEP;
    }
    ssp_device_stick(&start[5 * N + 3], SSP_DEVICE_STUCK_ON);
    SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p));
    CU_ASSERT_EQUAL_FATAL(ssp_hwprog_ntiles(hp), NT);
    {
        ssp_device *devs[1] = {dev[0]};
        memcpy(dev[0], start, sizeof start);
        memset(&tot[0], 0, sizeof tot[0]);
        CU_ASSERT_EQUAL(ssp_hwprog_program_all_pool(hp, pool, devs, (const int *const *)targets, NULL, &tot[0]),
                        SSP_ESTATE);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "calibration"));
        CU_ASSERT_EQUAL(memcmp(dev[0], start, sizeof start), 0);
    }
    ssp_hwprog_cal(hp)->fitted = 1;
    ssp_hwprog_cal(hp)->sel_ratio = 0.9, ssp_hwprog_cal(hp)->half_ratio = 1.1, ssp_hwprog_cal(hp)->wire_ratio = 1.05;
    for (int run = 0; run < 2; run++) {
        ssp_device *devs[1] = {dev[run]};
        memcpy(dev[run], start, sizeof start);
        memset(&tot[run], 0, sizeof tot[run]);
        for (size_t k = 0; k < NT; k++) SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng[run][k], ctx, 100 + k));
        if (run == 0)
            SSP_ASSERT_OK(ctx, ssp_hwprog_program_all_threads(&hp, 1, devs, (const int *const *)targets, rng[run],
                                                              &tot[run]));
        else
            SSP_ASSERT_OK(ctx, ssp_hwprog_program_all_pool(hp, pool, devs, (const int *const *)targets, rng[run],
                                                           &tot[run]));
    }
    CU_ASSERT_EQUAL(tot[0].tiles, NT);
    CU_ASSERT(tot[0].sum.pulses > 100);
    CU_ASSERT(tot[0].sum.unreachable >= 1); /* the stuck device, if it had a target */
    CU_ASSERT_EQUAL(memcmp(&tot[1], &tot[0], sizeof tot[0]), 0);
    {
        size_t same = 0, moved = 0;
        for (size_t i = 0; i < N * N; i++) {
            same += memcmp(&dev[1][i], &dev[0][i], sizeof dev[0][i]) == 0;
            moved += dev[0][i].x != start[i].x;
        }
        CU_ASSERT_EQUAL(same, (size_t)N * N);
        CU_ASSERT(moved > N * N / 4);
    }
    /* the streams went on alike */
    for (size_t k = 0; k < NT; k++) CU_ASSERT_EQUAL(gsl_rng_get(rng[1][k]), gsl_rng_get(rng[0][k]));
    /* a target no level has, in tile 7 (rows 16.., columns 8..): the
     * message of that tile, nothing changed */
    {
        ssp_device *devs[1] = {dev[1]};
        unsigned long next = gsl_rng_get(rng[0][2]);
        target[17 * N + 9] = 99;
        memcpy(before, dev[1], sizeof before);
        CU_ASSERT_EQUAL(ssp_hwprog_program_all_pool(hp, pool, devs, (const int *const *)targets, rng[1], &tot[1]),
                        SSP_ERANGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "tile 7 (matrix 0, rows 16.., columns 8..)"));
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "target level 99"));
        CU_ASSERT_EQUAL(memcmp(before, dev[1], sizeof before), 0);
        CU_ASSERT_EQUAL(gsl_rng_get(rng[1][2]), next);
    }
    for (int run = 0; run < 2; run++)
        for (size_t k = 0; k < NT; k++) ssp_device_rng_free(&rng[run][k]);
    ssp_hwprog_destroy(&hp);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* Tiles as pool jobs on two local workers (the runner itself serves them). */
static void test_hwprog__pool_programs_alike(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *pool = NULL;
    SSP_ASSERT_OK(ctx, ssp_test_runner_pool(&pool, ctx, 2));
    ssp_test_hwprog_pool_alike(pool);
    ssp_pool_destroy(&pool);
}

/* The handler refuses what is not a request, without a crash or a leak:
 * a real request cut at every 97th byte, with one header byte flipped, with
 * a byte added; the whole request is answered. */
static void test_hwprog__tile_handler_refuses_bad_requests(void)
{
    enum { N = 8 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_hwprog *hp = NULL;
    ssp_hwprog_params p = {SSP_PULSE_OPEN, SSP_PULSE_V2, 8, N, N, 2.5, 0.45e-15};
    size_t rows[1] = {N}, cols[1] = {N};
    ssp_device dev[N * N];
    int target[N * N], *targets[1] = {target};
    ssp_device *devs[1] = {dev};
    char path[512];
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&dev[0], model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &dev[0], 32, 0.25));
    for (size_t i = 0; i < N * N; i++) {
        ssp_device_init(&dev[i], model, 0);
        target[i] = (int)(i % 32);
    }
    SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p));
    ssp_hwprog_cal(hp)->fitted = 1;
    ssp_hwprog_cal(hp)->sel_ratio = ssp_hwprog_cal(hp)->half_ratio = ssp_hwprog_cal(hp)->wire_ratio = 1;
    {
        /* the request bytes, as the caller makes them */
        unsigned char *req = NULL, *out = NULL;
        size_t nreq = 0, nout = 0;
        SSP_ASSERT_OK(ctx, ssp_hwprog_tile_request(hp, 0, devs, (const int *const *)targets, NULL, &req, &nreq));
        CU_ASSERT_FATAL(nreq > 1000);
        SSP_ASSERT_OK(ctx, ssp_hwprog_tile_handler(ctx, req, nreq, &out, &nout, NULL));
        CU_ASSERT(nout > 0);
        free(out);
        for (size_t cut = 0; cut < nreq; cut += 97) {
            out = NULL;
            CU_ASSERT_EQUAL(ssp_hwprog_tile_handler(ctx, req, cut, &out, &nout, NULL), SSP_EINVAL);
            CU_ASSERT_PTR_NULL(out);
        }
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "not one"));
        req[0] ^= 1;
        CU_ASSERT_EQUAL(ssp_hwprog_tile_handler(ctx, req, nreq, &out, &nout, NULL), SSP_EINVAL);
        req[0] ^= 1;
        {
            unsigned char *longer = malloc(nreq + 1);
            CU_ASSERT_FATAL(longer != NULL);
            memcpy(longer, req, nreq);
            longer[nreq] = 0;
            CU_ASSERT_EQUAL(ssp_hwprog_tile_handler(ctx, longer, nreq + 1, &out, &nout, NULL), SSP_EINVAL);
            CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "bytes after the end"));
            free(longer);
        }
        free(req);
    }
    ssp_hwprog_destroy(&hp);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* The line drivers' energy follows the line capacitance given
 * (ssp_hwprog_params.c_line_cell, the config's c_wire x pitch + c_cell):
 * twice the capacitance, twice the driver energy, the programming itself
 * unchanged; a negative one is refused. */
static void test_hwprog__driver_energy_follows_the_line_capacitance(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_hwprog *hp = NULL;
    ssp_hwprog_params p = {SSP_PULSE_OPEN, SSP_PULSE_V2, 8, 4, 4, 2.5, -1e-15};
    size_t rows[1] = {4}, cols[1] = {4}; /* devices: 2 pairs a row */
    ssp_device dev[16], start[16];
    int target[16];
    ssp_pulse_result r[2];
    ssp_config c;
    char path[512];
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&start[0], model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &start[0], 32, 0.25));
    CU_ASSERT_EQUAL(ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "line capacitance"));
    for (size_t i = 0; i < 16; i++) {
        ssp_device_init(&start[i], model, 0);
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&start[i], ctx, lv->g[10]));
        target[i] = i % 5 == 0 ? 12 : SSP_PULSE_KEEP;
    }
    for (int k = 0; k < 2; k++) {
        p.c_line_cell = (k + 1) * 0.45e-15;
        SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p));
        ssp_hwprog_cal(hp)->fitted = 1;
        ssp_hwprog_cal(hp)->sel_ratio = ssp_hwprog_cal(hp)->half_ratio = 1;
        memcpy(dev, start, sizeof dev);
        SSP_ASSERT_OK(ctx, ssp_hwprog_program(hp, 0, dev, target, NULL, NULL, NULL, &r[k], NULL));
        ssp_hwprog_destroy(&hp);
    }
    CU_ASSERT(r[0].pulses > 0);
    CU_ASSERT_EQUAL(r[1].pulses, r[0].pulses);
    CU_ASSERT_DOUBLE_EQUAL(r[1].energy_j, r[0].energy_j, 1e-12 * r[0].energy_j);
    CU_ASSERT(r[0].energy_driver_j > 0);
    CU_ASSERT_DOUBLE_EQUAL(r[1].energy_driver_j, 2 * r[0].energy_driver_j, 1e-12 * r[0].energy_driver_j);
    /* the config's figure: one segment's wire and one cell */
    ssp_config_defaults(&c);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "crossbar.c_wire=2e-16"));
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "crossbar.pitch=0.5"));
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "crossbar.c_cell=3.5e-16"));
    CU_ASSERT_DOUBLE_EQUAL(ssp_config_c_line_cell(&c), 0.45e-15, 1e-30);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* The C model's wire solve: on a 16 x 16 tile with 50 ohm segments, the
 * pulses ngspice ran replayed on the C model land within 1 % of the range
 * with the IR drop solved, and measurably farther without it. */
static void test_hwprog__c_model_wire_drop_follows_spice(void)
{
    enum { N = 16 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_pulse *pw = NULL, *p0 = NULL;
    ssp_pulse_params p;
    ssp_pulse_schedule *sched = NULL;
    ssp_pulse_result r;
    ssp_spice *sp = NULL;
    ssp_device start[N * N], sdev[N * N], mw[N * N], m0[N * N], nom;
    int target[N * N];
    double dev_w = 0, dev_0 = 0;
    char path[512];
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&nom, model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &nom, 32, 0.25));
    for (size_t c = 0; c < N * N; c++) {
        ssp_device_init(&start[c], model, 0);
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&start[c], ctx, lv->g[(c * 7) % 24 + 4]));
        target[c] = SSP_PULSE_KEEP;
    }
    /* moves in the far corner, where the drop is largest */
    target[15 * N + 15] = 28;
    target[14 * N + 13] = 26;
    target[12 * N + 15] = 2;
    ssp_pulse_params_default(&p, model);
    p.strategy = SSP_PULSE_OPEN;
    p.r_wire = 50;
    SSP_ASSERT_OK(ctx, ssp_pulse_create(&pw, ctx, model, lv, N, N, &p));
    p.r_wire = 0;
    SSP_ASSERT_OK(ctx, ssp_pulse_create(&p0, ctx, model, lv, N, N, &p));
    SSP_ASSERT_OK(ctx, ssp_pulse_schedule_alloc(&sched, ctx, N, N));
    SSP_ASSERT_OK(ctx, ssp_spice_create(&sp, ctx, NULL));
    memcpy(sdev, start, sizeof start);
    SSP_ASSERT_OK(ctx, ssp_pulse_program_tile(pw, sp, NULL, 0, sdev, target, sched, &r, NULL));
    CU_ASSERT(r.pulses > 0);
    memcpy(mw, start, sizeof start);
    memcpy(m0, start, sizeof start);
    SSP_ASSERT_OK(ctx, ssp_pulse_replay(pw, NULL, 0, mw, sched));
    SSP_ASSERT_OK(ctx, ssp_pulse_replay(p0, NULL, 0, m0, sched));
    for (size_t c = 0; c < N * N; c++) {
        dev_w = fmax(dev_w, fabs(mw[c].x - sdev[c].x));
        dev_0 = fmax(dev_0, fabs(m0[c].x - sdev[c].x));
    }
    fprintf(stderr, " [C vs ngspice: %.4g %% with the wire solve, %.4g %% without] ", 100 * dev_w, 100 * dev_0);
    CU_ASSERT(dev_w <= SPICE_MODEL_TOL);
    CU_ASSERT(dev_0 > 5 * dev_w);
    ssp_spice_destroy(&sp);
    ssp_pulse_schedule_free(&sched);
    ssp_pulse_destroy(&pw);
    ssp_pulse_destroy(&p0);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* A check on a sample of a tile's targets runs that many of them in
 * ngspice, spread over the tile, and leaves the others where they were;
 * 0 or a sample larger than the targets runs them all. */
static void test_hwprog__check_on_a_sample_of_targets(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *model = NULL;
    ssp_device_levels *lv = NULL;
    ssp_hwprog *hp = NULL;
    ssp_hwprog_params p = {SSP_PULSE_OPEN, SSP_PULSE_V2, 8, 4, 4, 0, 0};
    size_t rows[1] = {4}, cols[1] = {4}; /* 4 x 4 devices: one tile */
    ssp_device dev[16], nom;
    int target[16];
    ssp_spice *sp = NULL;
    ssp_pulse_result r;
    double dev_frac = 1;
    size_t n = 0, way[3] = {2, 0, 10}, want[3] = {2, 6, 6};
    char path[512];
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&nom, model, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &nom, 32, 0.25));
    SSP_ASSERT_OK(ctx, ssp_hwprog_create(&hp, ctx, model, lv, 1, rows, cols, &p));
    for (size_t i = 0; i < 16; i++) {
        ssp_device_init(&dev[i], model, 0);
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&dev[i], ctx, lv->g[10]));
        target[i] = i % 3 == 0 ? 20 : SSP_PULSE_KEEP; /* cells 0 3 6 9 12 15 */
    }
    CU_ASSERT_EQUAL(ssp_hwprog_tile_targets(hp, 0, target), 6);
    SSP_ASSERT_OK(ctx, ssp_spice_create(&sp, ctx, NULL));
    for (size_t k = 0; k < 3; k++) {
        SSP_ASSERT_OK(ctx, ssp_hwprog_check_sample(hp, 0, dev, target, way[k], sp, &dev_frac, &r, &n));
        CU_ASSERT_EQUAL(n, want[k]);
        CU_ASSERT_EQUAL(r.targets, want[k]);
        CU_ASSERT(r.pulses >= want[k]); /* every sampled target pulsed, from level 10 to 20 */
        CU_ASSERT(dev_frac < 0.01);     /* C model replay against ngspice */
        CU_ASSERT(ssp_hwprog_cal(hp)->fitted);
    }
    ssp_spice_destroy(&sp);
    ssp_hwprog_destroy(&hp);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&model);
}

/* A run directory with config.ini and the checkpoint after `epochs`. */
static void save_run(const ssp_config *c, ssp_train *t, const char *dir)
{
    char p[PATH_CAP];
    FILE *f;
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_mkdirs(ssp_test_ctx(), dir));
    snprintf(p, sizeof p, "%s/config.ini", dir);
    f = fopen(p, "w");
    CU_ASSERT_FATAL(f != NULL);
    ssp_config_write(c, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_train_checkpoint_save(t, p));
}

static void test_hwprog__program_command_on_checkpoints(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_epoch_metrics m;
    char dir[] = "/tmp/ssp_hwprog_cli_XXXXXX", a[PATH_CAP], b[PATH_CAP], bc[PATH_CAP + 32], out[PATH_CAP],
         other[PATH_CAP], p[PATH_CAP + 64];
    json_t *sum;
    json_error_t jerr;
    size_t ntiles = 0, tiles_seen = 0;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(a, sizeof a, "%s/epoch1", dir);
    snprintf(b, sizeof b, "%s/epoch2", dir);
    snprintf(bc, sizeof bc, "%s/checkpoint.bin", b);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    tiny_config(&c, SSP_PROG_DEVICE);
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    SSP_ASSERT_OK(ctx, run_epochs(t, 1, &m));
    save_run(&c, t, a);
    SSP_ASSERT_OK(ctx, run_epochs(t, 2, &m));
    save_run(&c, t, b);
    ssp_train_destroy(&t);
    /* another network: one more hidden unit */
    c.hidden[0] = 7;
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    save_run(&c, t, other);
    ssp_train_destroy(&t);
    {
        const char *run[] = {"program", "--present", a, "--target", bc, "--out", out, "--simulate", "model",
                             "--strategy", "verify", "--bias", "v3", "--accept-unreachable"};
        const char *mismatch[] = {"program", "--present", a, "--target", other, "--out", out};
        const char *extra[] = {"program", "--present", a, "--target", b, "--rows", "4"};
        const char *badw[] = {"program", "--present", a, "--target", b, "--target-weights", "quantum"};
        CU_ASSERT_EQUAL(run_cmd(ssp_cmd_program, mismatch, 7), 2);
        CU_ASSERT_EQUAL(run_cmd(ssp_cmd_program, extra, 7), 2);
        CU_ASSERT_EQUAL(run_cmd(ssp_cmd_program, badw, 7), 2);
        /* devices with spread leave some targets unreachable: accepted here */
        CU_ASSERT_EQUAL_FATAL(run_cmd(ssp_cmd_program, run, 14), 0);
    }
    snprintf(p, sizeof p, "%s/summary.json", out);
    sum = json_load_file(p, 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sum);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(sum, "format")), "siamspice-program-summary");
    ntiles = (size_t)json_integer_value(json_object_get(sum, "tiles_programmed"));
    CU_ASSERT(ntiles > 0);
    CU_ASSERT(json_integer_value(json_object_get(sum, "cells_moved")) > 0);
    CU_ASSERT(json_integer_value(json_object_get(sum, "pulses")) > 0);
    CU_ASSERT(json_real_value(json_object_get(sum, "energy_j")) > 0);
    CU_ASSERT(json_real_value(json_object_get(sum, "latency_s")) > 0);
    {
        json_t *arr = json_object_get(sum, "tiles"), *e;
        size_t i;
        CU_ASSERT_EQUAL(json_array_size(arr), ntiles);
        json_array_foreach(arr, i, e) {
            ssp_pulse_schedule *sj = NULL, *sc = NULL;
            long k = (long)json_integer_value(json_object_get(e, "tile"));
            size_t pulses = 0;
            snprintf(p, sizeof p, "%s/tile_%ld/schedule.json", out, k);
            SSP_ASSERT_OK(ctx, ssp_pulse_read_json(&sj, ctx, p));
            snprintf(p, sizeof p, "%s/tile_%ld/schedule.csv", out, k);
            SSP_ASSERT_OK(ctx, ssp_pulse_read_csv(&sc, ctx, p));
            CU_ASSERT_EQUAL(sj->n, sc->n);
            for (size_t q = 0; q < sj->n; q++) pulses += sj->ev[q].phase != SSP_PULSE_READ;
            CU_ASSERT_EQUAL(pulses, (size_t)json_integer_value(json_object_get(e, "pulses")));
            CU_ASSERT_EQUAL(sj->bias, SSP_PULSE_V3);
            snprintf(p, sizeof p, "%s/tile_%ld/schedule.vcd", out, k);
            CU_ASSERT_EQUAL(access(p, R_OK), 0);
            snprintf(p, sizeof p, "%s/tile_%ld/pwl/tile.cir", out, k);
            CU_ASSERT_EQUAL(access(p, R_OK), 0);
            ssp_pulse_schedule_free(&sj);
            ssp_pulse_schedule_free(&sc);
            tiles_seen++;
        }
    }
    CU_ASSERT_EQUAL(tiles_seen, ntiles);
    snprintf(p, sizeof p, "%s/summary.csv", out);
    CU_ASSERT_EQUAL(access(p, R_OK), 0);
    json_decref(sum);
    {
        char cmd[PATH_CAP + 16];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

/* Training in model mode records, per epoch, each tile's last programming:
 * replayed on the noise-free C model from its recorded start states the
 * schedule lands exactly where training left the tile; its ngspice deck,
 * run by `ngspice -b`, lands there too (within SPICE_MODEL_TOL); and
 * `siamspice train` writes schedules/epoch_<e>/ with every file readable. */
static void test_hwprog__training_writes_the_schedules_it_used(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_hwprog *hp;
    ssp_pulse *pp = NULL;
    ssp_device_model *model = NULL;
    ssp_epoch_metrics m;
    char dir[] = "/tmp/ssp_hwprog_sched_XXXXXX", quiet[512], p[PATH_CAP + 64], line[512];
    size_t recorded = 0, written = 0, checked_cells = 0;
    double range;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    CU_ASSERT_EQUAL_FATAL(noise_free_params(quiet, sizeof quiet), 0);
    tiny_config(&c, SSP_PROG_MODEL);
    snprintf(c.device_params, sizeof c.device_params, "%s", quiet);
    c.epochs = 1;
    c.prog_check_every = 0;
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&model, ctx, quiet));
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    SSP_ASSERT_OK(ctx, run_epochs(t, 1, &m));
    hp = ssp_train_prog(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hp);
    range = ssp_hwprog_state_range(hp);
    for (size_t k = 0; k < ssp_hwprog_ntiles(hp); k++) {
        const ssp_hwprog_tile *tl = ssp_hwprog_tile_at(hp, k);
        const ssp_device *start;
        ssp_pulse_result r;
        long step;
        const ssp_pulse_schedule *s = ssp_hwprog_recorded(hp, k, &start, &r, &step);
        ssp_device *replay, *now;
        size_t pulses = 0, nd = tl->rows * tl->cols;
        double worst = 0;
        if (!s) continue;
        recorded++;
        CU_ASSERT(step >= 1 && step <= (long)m.steps);
        for (size_t q = 0; q < s->n; q++) pulses += s->ev[q].phase != SSP_PULSE_READ;
        CU_ASSERT_EQUAL(pulses, r.pulses);
        replay = malloc(nd * sizeof *replay);
        now = malloc(nd * sizeof *now);
        CU_ASSERT_FATAL(replay && now);
        memcpy(replay, start, nd * sizeof *replay);
        SSP_ASSERT_OK(ctx, ssp_pulse_create(&pp, ctx, model, ssp_hw_levels(ssp_train_hw(t)),
                                            tl->rows, tl->cols, ssp_hwprog_pulse_params(hp)));
        SSP_ASSERT_OK(ctx, ssp_pulse_replay(pp, NULL, (int)k, replay, s));
        ssp_pulse_destroy(&pp);
        ssp_hwprog_gather(hp, k, ssp_hw_devices_const(ssp_train_hw(t), tl->m), now);
        for (size_t i = 0; i < nd; i++)
            if (fabs(replay[i].x - now[i].x) > worst) worst = fabs(replay[i].x - now[i].x);
        CU_ASSERT(worst <= 1e-9 * range);
        if (recorded == 1) {
            /* the first recorded tile's deck in ngspice */
            FILE *f;
            SSP_ASSERT_OK(ctx, ssp_hwprog_export_recorded(hp, ctx, dir, 1, &written));
            snprintf(p, sizeof p, "cd %s/tile_%zu/pwl && ngspice -b tile.cir 2>&1", dir, k);
            f = popen(p, "r");
            CU_ASSERT_FATAL(f != NULL);
            while (fgets(line, sizeof line, f)) {
                int i, j;
                double x;
                if (sscanf(line, "x_%d_%d = %lf", &i, &j, &x) != 3) continue;
                CU_ASSERT_FATAL(i >= 0 && (size_t)i < tl->rows && j >= 0 && (size_t)j < tl->cols);
                CU_ASSERT(fabs(x - now[(size_t)i * tl->cols + (size_t)j].x) <= SPICE_MODEL_TOL * range);
                checked_cells++;
            }
            CU_ASSERT_EQUAL(pclose(f), 0);
        }
        free(replay);
        free(now);
    }
    CU_ASSERT(recorded > 0);
    CU_ASSERT_EQUAL(written, recorded);
    CU_ASSERT(checked_cells > 0);
    ssp_train_destroy(&t);
    ssp_device_model_free(&model);
    /* the command: schedules/epoch_<e>/ of a two-epoch run, no decks by default */
    {
        char cfg[PATH_CAP], run[PATH_CAP];
        FILE *f;
        snprintf(cfg, sizeof cfg, "%s/tiny.ini", dir);
        snprintf(run, sizeof run, "%s/run", dir);
        write_tiny_ini(cfg, 2, quiet, "mode = model\n");
        {
            const char *args[] = {"train", "--config", cfg, "--out", run, "-q"};
            CU_ASSERT_EQUAL_FATAL(run_cmd(ssp_cmd_train, args, 6), 0);
        }
        for (int e = 1; e <= 2; e++) {
            size_t rows = 0;
            snprintf(p, sizeof p, "%s/schedules/epoch_%d/summary.csv", run, e);
            f = fopen(p, "r");
            CU_ASSERT_FATAL(f != NULL);
            CU_ASSERT(fgets(line, sizeof line, f) && !strncmp(line, "tile,matrix,row0,col0,rows,cols,step,", 37));
            while (fgets(line, sizeof line, f)) {
                ssp_pulse_schedule *sj = NULL, *sc = NULL;
                size_t k, mm, r0, c0, R, C, tg, ib, mi, un, pulses = 0, want = 0;
                long step;
                CU_ASSERT_FATAL(sscanf(line, "%zu,%zu,%zu,%zu,%zu,%zu,%ld,%zu,%zu,%zu,%zu,%zu", &k, &mm, &r0, &c0, &R,
                                       &C, &step, &tg, &ib, &mi, &un, &want) == 12);
                CU_ASSERT(step >= 1 && tg > 0 && tg == ib + mi + un);
                snprintf(p, sizeof p, "%s/schedules/epoch_%d/tile_%zu/schedule.json", run, e, k);
                SSP_ASSERT_OK(ctx, ssp_pulse_read_json(&sj, ctx, p));
                snprintf(p, sizeof p, "%s/schedules/epoch_%d/tile_%zu/schedule.csv", run, e, k);
                SSP_ASSERT_OK(ctx, ssp_pulse_read_csv(&sc, ctx, p));
                CU_ASSERT_EQUAL(sj->n, sc->n);
                CU_ASSERT(sj->rows == R && sj->cols == C);
                for (size_t q = 0; q < sj->n; q++) pulses += sj->ev[q].phase != SSP_PULSE_READ;
                CU_ASSERT_EQUAL(pulses, want);
                snprintf(p, sizeof p, "%s/schedules/epoch_%d/tile_%zu/schedule.vcd", run, e, k);
                CU_ASSERT_EQUAL(access(p, R_OK), 0);
                snprintf(p, sizeof p, "%s/schedules/epoch_%d/tile_%zu/pwl", run, e, k);
                CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
                ssp_pulse_schedule_free(&sj);
                ssp_pulse_schedule_free(&sc);
                rows++;
            }
            fclose(f);
            CU_ASSERT(rows > 0);
        }
    }
    {
        char cmd[PATH_CAP + 16];
        snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, quiet);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

static void test_hwprog__config_errors_name_the_key(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    tiny_config(&c, SSP_PROG_MODEL);
    c.method = SSP_METHOD_SGD;
    CU_ASSERT_EQUAL(ssp_config_check(&c, ctx), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "program.mode = model"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "sgd"));
    tiny_config(&c, SSP_PROG_MODEL);
    snprintf(c.baselines, sizeof c.baselines, "exsitu");
    CU_ASSERT_EQUAL(ssp_config_check(&c, ctx), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "exsitu"));
    ssp_config_defaults(&c);
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "program.mode=spicy"), SSP_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "program.mode"));
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "program.check_tol=101"), SSP_ECONFIG);
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "program.bias=v3"));
    CU_ASSERT_EQUAL(ssp_config_pulse_bias(&c), SSP_PULSE_V3);
}

SSP_TEST_SUITE(hwprog)
{
    SSP_ADD_SUITE("hwprog", NULL, NULL,
                  SSP_TEST(test_hwprog__tiles_calibration_and_disturb),
                  SSP_TEST(test_hwprog__threads_program_alike),
                  SSP_TEST(test_hwprog__pool_programs_alike),
                  SSP_TEST(test_hwprog__tile_handler_refuses_bad_requests),
                  SSP_TEST(test_hwprog__c_model_wire_drop_follows_spice),
                  SSP_TEST(test_hwprog__check_on_a_sample_of_targets),
                  SSP_TEST(test_hwprog__driver_energy_follows_the_line_capacitance),
                  SSP_TEST(test_hwprog__model_mode_trains_and_repeats),
                  SSP_TEST(test_hwprog__closed_loop_circuit_reference),
                  SSP_TEST(test_hwprog__model_mode_resumes_exactly),
                  SSP_TEST(test_hwprog__check_beyond_tolerance_stops_the_run),
                  SSP_TEST(test_hwprog__check_failure_exit_status_and_log),
                  SSP_TEST(test_hwprog__spice_mode_matches_model_mode),
                  SSP_TEST(test_hwprog__program_command_on_checkpoints),
                  SSP_TEST(test_hwprog__training_writes_the_schedules_it_used),
                  SSP_TEST(test_hwprog__config_errors_name_the_key));
}
