/* test_cli_run.c — every command that reads a run directory, on run
 * directories a real `siamspice train` wrote with the shipped configs' own
 * settings (smaller data limits to keep it short): infer, validate --run,
 * netlist --run, program --present/--target, plot and train --resume; the
 * --set overrides these commands honour take effect and the others are
 * refused naming the key; a checkpoint of another network is refused.
 * Runs the built binary as a child process; the run directories live in a
 * temporary directory made by the suite's set-up and removed by its
 * clean-up; never edits the source tree. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_test.h"

extern char **environ;

enum { OUT_CAP = 1 << 16, PATH_LEN = 1200 };

/* Tolerance of an accuracy printed with two decimals (percent) against
 * metrics.csv's full-precision figure. */
static const double PRINTED_PCT_TOL = 0.006;

struct run {
    int status;        /* exit status, or 128 + signal */
    char out[OUT_CAP]; /* stdout */
    char err[OUT_CAP]; /* stderr */
};

static struct run R;
static char TOP[] = "/tmp/ssp_cli_run_XXXXXX";
/* The run directories (under TOP): SMALL configs/spice-small.ini on the
 * nodal engine with output-gain calibration (1 epoch); SMALL2 a copy of it
 * resumed for a second epoch; DEF configs/default.ini (1 epoch). */
static char SMALL[PATH_LEN], SMALL2[PATH_LEN], DEF[PATH_LEN];

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* Run the CLI with the NULL-terminated arguments a: stdout into r->out,
 * stderr into r->err. Returns the exit status (-1: could not spawn). */
static int cli(struct run *r, const char *const *a)
{
    char exe[512], outpath[] = "/tmp/ssp_clirun_out_XXXXXX", errpath[] = "/tmp/ssp_clirun_err_XXXXXX";
    char *argv[40];
    int n = 0, fo = mkstemp(outpath), fe = mkstemp(errpath), st = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    close(fo);
    close(fe);
    snprintf(exe, sizeof exe, "%s/siamspice", SSP_BUILD_DIR);
    argv[n++] = exe;
    for (; *a && n < 39; a++) argv[n++] = (char *)(uintptr_t)*a;
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, outpath, O_WRONLY | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errpath, O_WRONLY | O_TRUNC, 0644);
    if (posix_spawn(&pid, exe, &fa, NULL, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid > 0) {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    } else {
        r->status = -1;
    }
    slurp(outpath, r->out, sizeof r->out);
    slurp(errpath, r->err, sizeof r->err);
    remove(outpath);
    remove(errpath);
    return r->status;
}

#define CLI(...) cli(&R, (const char *const[]){__VA_ARGS__, NULL})

static void show(const char *what)
{
    fprintf(stderr, "\n  %s: status %d\n  stdout: %s\n  stderr: %s\n", what, R.status, R.out, R.err);
}

/* The last data row's value of column `col` of a run's metrics.csv. */
static double last_metric(const char *dir, const char *col)
{
    char p[PATH_LEN + 32], line[8192], head[8192] = "";
    double v = -1;
    int idx = -1;
    FILE *f;
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    if (!(f = fopen(p, "r"))) return -1;
    if (fgets(head, sizeof head, f)) {
        int k = 0;
        char *save = NULL;
        for (char *tok = strtok_r(head, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), k++)
            if (!strcmp(tok, col)) idx = k;
    }
    while (idx >= 0 && fgets(line, sizeof line, f)) {
        int k = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), k++)
            if (k == idx) v = strtod(tok, NULL);
    }
    fclose(f);
    return v;
}

/* The accuracy in percent that `infer` printed, or -1. */
static double printed_accuracy(const char *out)
{
    const char *s = strstr(out, "test accuracy ");
    return s ? strtod(s + strlen("test accuracy "), NULL) : -1;
}

static double printed_loss(const char *out)
{
    const char *s = strstr(out, "test loss ");
    return s ? strtod(s + strlen("test loss "), NULL) : -1;
}

/* Shell commands on the suite's paths: copy a directory, copy a file,
 * remove a tree, or edit the epochs of a run's config. */
static int sh_cp_r(const char *from, const char *to)
{
    char cmd[4 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", from, to);
    return system(cmd);
}

static int sh_cp_ckpt(const char *from, const char *to)
{
    char cmd[4 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "cp '%s/checkpoint.bin' '%s/checkpoint.bin'", from, to);
    return system(cmd);
}

static int sh_rm(const char *dir)
{
    char cmd[4 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static int sh_epochs2(const char *cfg)
{
    char cmd[4 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "sed -i 's/^epochs = 1$/epochs = 2/' '%s'", cfg);
    return system(cmd);
}

/* The suite's run directories, trained once. */
static int make_runs(void)
{
    char cfg[PATH_LEN + 32];
    FILE *f;
    if (!mkdtemp(TOP)) return 1;
    snprintf(SMALL, sizeof SMALL, "%s/small", TOP);
    snprintf(SMALL2, sizeof SMALL2, "%s/small2", TOP);
    snprintf(DEF, sizeof DEF, "%s/default", TOP);
    if (CLI("train", "--config", "configs/spice-small.ini", "--set", "engine.forward=nodal", "--set",
            "engine.calibrate_every=4", "--set", "data.train_limit=256", "--set", "data.test_limit=40", "--set",
            "run.epochs=1", "--out", SMALL, "-q")) {
        show("train spice-small");
        return 1;
    }
    if (CLI("train", "--config", "configs/default.ini", "--set", "data.train_limit=256", "--set",
            "data.test_limit=100", "--set", "run.epochs=1", "--set", "run.baselines=", "--out", DEF, "-q")) {
        show("train default");
        return 1;
    }
    /* the second run continues the first for one more epoch, as a user who
     * wants more epochs edits the run's config and resumes it */
    if (sh_cp_r(SMALL, SMALL2)) return 1;
    snprintf(cfg, sizeof cfg, "%s/config.ini", SMALL2);
    if (sh_epochs2(cfg)) return 1;
    if (CLI("train", "--resume", SMALL2, "-q")) {
        show("train --resume");
        return 1;
    }
    f = fopen(cfg, "r");
    if (!f) return 1;
    fclose(f);
    return 0;
}

static int remove_runs(void)
{
    if (TOP[strlen(TOP) - 1] != 'X') sh_rm(TOP);
    return 0;
}

/* train --resume on the copied run went on from epoch 1 to epoch 2. */
static void test_cli_run__resume_continues_a_finished_run(void)
{
    char p[PATH_LEN + 32];
    long rows = 0;
    char buf[OUT_CAP];
    snprintf(p, sizeof p, "%s/metrics.csv", SMALL2);
    slurp(p, buf, sizeof buf);
    for (char *s = buf; (s = strchr(s, '\n')); s++) rows++;
    CU_ASSERT_EQUAL(rows, 3); /* header and two epochs */
    snprintf(p, sizeof p, "%s/run.log", SMALL2);
    slurp(p, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "resumed"));
    CU_ASSERT(last_metric(SMALL2, "epoch") == 2);
}

/* infer prints the last epoch's test accuracy of each run, on the run's
 * own engine and test set. */
static void test_cli_run__infer_reads_every_run(void)
{
    const char *dirs[] = {SMALL, SMALL2, DEF};
    for (size_t i = 0; i < 3; i++) {
        double want = 100 * last_metric(dirs[i], "test_acc");
        CLI("infer", dirs[i]);
        CU_ASSERT_EQUAL(R.status, 0);
        CU_ASSERT(want >= 0 && fabs(printed_accuracy(R.out) - want) <= PRINTED_PCT_TOL);
        if (R.status || fabs(printed_accuracy(R.out) - want) > PRINTED_PCT_TOL) show(dirs[i]);
    }
    CLI("infer", SMALL);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "nodal engine, 40 test images"));
}

/* Each class of override infer honours takes effect: data (test_limit),
 * engine (forward), circuit (wire resistance), converter (ADC bits). */
static void test_cli_run__infer_overrides_take_effect(void)
{
    double base_loss, loss;
    CLI("infer", SMALL);
    base_loss = printed_loss(R.out);
    CU_ASSERT(base_loss > 0);
    CLI("infer", SMALL, "--set", "data.test_limit=8");
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "8 test images"));
    CLI("infer", SMALL, "--set", "engine.forward=ideal");
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "ideal engine"));
    CU_ASSERT(printed_loss(R.out) != base_loss);
    CLI("infer", SMALL, "--set", "crossbar.r_wire=200");
    CU_ASSERT_EQUAL(R.status, 0);
    loss = printed_loss(R.out);
    CU_ASSERT(loss > 0 && loss != base_loss);
    if (R.status || loss == base_loss) show("crossbar.r_wire=200");
    CLI("infer", SMALL, "--set", "adc.bits=2");
    CU_ASSERT_EQUAL(R.status, 0);
    loss = printed_loss(R.out);
    CU_ASSERT(loss > 0 && loss != base_loss);
    if (R.status || loss == base_loss) show("adc.bits=2");
    CLI("infer", DEF, "--set", "engine.forward=nodal", "--set", "tia.r_f=1kohm", "--set", "data.test_limit=20");
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "nodal engine, 20 test images"));
}

/* An override a reading command cannot honour is refused (exit 2, nothing
 * on stdout) naming the key: the device, network and tile geometry the
 * checkpoint was trained with; training-only keys; circuit keys on the
 * ideal engine; keys the command sets itself. */
static void test_cli_run__unhonourable_overrides_are_refused(void)
{
    static const struct {
        const char *cmd, *opt, *set, *culprit;
    } cases[] = {
        {"infer", NULL, "device.levels=16", "device.levels"},
        {"infer", NULL, "device.params=devicemodels/params/vteam.ini", "device.params"},
        {"infer", NULL, "device.level_tolerance=0.1", "device.level_tolerance"},
        {"infer", NULL, "network.hidden=32", "network.hidden"},
        {"infer", NULL, "crossbar.rows=32", "crossbar.rows"},
        {"infer", NULL, "run.seed=7", "run.seed"},
        {"infer", NULL, "train.lr=0.5", "train.lr"},
        {"infer", NULL, "data.train_limit=64", "data.train_limit"},
        {"infer", NULL, "engine.check_every=1", "engine.check_every"},
        {"validate", "--run", "device.levels=16", "device.levels"},
        {"validate", "--run", "data.test_limit=3", "--vectors"},
        {"validate", "--run", "engine.forward=ideal", "engine.forward"},
        {"netlist", "--run", "device.levels=64", "device.levels"},
        {"netlist", "--run", "engine.calibrate_every=1", "engine.calibrate_every"},
        {"program", "--present", "device.levels=16", "--set"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!strcmp(cases[i].cmd, "infer"))
            CLI("infer", SMALL, "--set", cases[i].set);
        else if (!strcmp(cases[i].cmd, "program"))
            CLI("program", "--present", SMALL, "--target", SMALL2, "--set", cases[i].set);
        else
            CLI(cases[i].cmd, cases[i].opt, SMALL, "--set", cases[i].set);
        CU_ASSERT_EQUAL(R.status, 2);
        CU_ASSERT_STRING_EQUAL(R.out, "");
        CU_ASSERT_PTR_NOT_NULL(strstr(R.err, cases[i].culprit));
        if (R.status != 2 || !strstr(R.err, cases[i].culprit)) show(cases[i].set);
    }
    CLI("infer", DEF, "--set", "tia.r_f=1kohm");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "engine.forward=nodal"));
}

/* validate --run on a run trained with another training-set size than the
 * command reads, on the fresh and on the resumed run: the engine table,
 * exit 0. */
static void test_cli_run__validate_reads_trained_and_resumed_runs(void)
{
    const char *dirs[] = {SMALL, SMALL2};
    for (size_t i = 0; i < 2; i++) {
        CLI("validate", "--run", dirs[i], "--vectors", "2");
        CU_ASSERT_EQUAL(R.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "(checkpoint): 5 tiles, the layer inputs of 2 test images"));
        CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "nodal_vs_spice_max_rel = "));
        if (R.status) show(dirs[i]);
    }
    /* a circuit override takes effect there too: the tiles' ideal-vs-spice
     * error grows with the wire resistance */
    {
        char a[64], b[64];
        const char *s;
        CLI("validate", "--run", SMALL, "--vectors", "1");
        s = strstr(R.out, "ideal_vs_spice = ");
        snprintf(a, sizeof a, "%.20s", s ? s : "");
        CLI("validate", "--run", SMALL, "--vectors", "1", "--set", "crossbar.r_wire=50");
        CU_ASSERT_EQUAL(R.status, 0);
        s = strstr(R.out, "ideal_vs_spice = ");
        snprintf(b, sizeof b, "%.20s", s ? s : "");
        CU_ASSERT(a[0] && b[0] && strcmp(a, b) != 0);
    }
}

/* A checkpoint of another network in a run directory is refused with the
 * different-run message, by every reading command and by --resume. */
static void test_cli_run__checkpoint_of_another_network_is_refused(void)
{
    char mixed[PATH_LEN + 16];
    snprintf(mixed, sizeof mixed, "%s/mixed", TOP);
    CU_ASSERT_EQUAL(sh_cp_r(SMALL, mixed), 0);
    CU_ASSERT_EQUAL(sh_cp_ckpt(DEF, mixed), 0);
    CLI("validate", "--run", mixed, "--vectors", "1");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "was written by a different run"));
    CLI("infer", mixed);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "was written by a different run"));
    CLI("netlist", "--run", mixed);
    CU_ASSERT_EQUAL(R.status, 2);
    CLI("train", "--resume", mixed, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "was written by a different run"));
    CLI("program", "--present", SMALL, "--target", mixed);
    CU_ASSERT_EQUAL(R.status, 2);
    sh_rm(mixed);
}

/* netlist --run writes one netlist per tile and the mappings; ngspice runs
 * one of them. */
static void test_cli_run__netlist_run_writes_every_tile(void)
{
    char out[PATH_LEN + 16], p[2 * PATH_LEN + 128];
    struct stat st;
    snprintf(out, sizeof out, "%s/nl", TOP);
    CLI("netlist", "--run", SMALL, "--out", out);
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) show("netlist --run");
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "epoch 1 written to"));
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/m0_t%d_0.cir", out, k);
        CU_ASSERT(stat(p, &st) == 0 && st.st_size > 1000);
    }
    snprintf(p, sizeof p, "%s/m1_t0_0.cir", out);
    CU_ASSERT(stat(p, &st) == 0 && st.st_size > 1000);
    snprintf(p, sizeof p, "%s/mapping_m1.txt", out);
    CU_ASSERT(stat(p, &st) == 0 && st.st_size > 0);
    snprintf(p, sizeof p, "cd '%s' && ngspice -b m1_t0_0.cir > ng.log 2>&1 && grep -q 'v(out_c0p) = ' ng.log", out);
    CU_ASSERT_EQUAL(system(p), 0);
    /* the default run's 15 tiles of 128x128 */
    snprintf(out, sizeof out, "%s/nl-default", TOP);
    CLI("netlist", "--run", DEF, "--out", out);
    CU_ASSERT_EQUAL(R.status, 0);
    snprintf(p, sizeof p, "%s/m0_t6_1.cir", out);
    CU_ASSERT(stat(p, &st) == 0);
}

/* program --present (epoch 1) --target (the resumed run's epoch 2): every
 * tile planned and simulated, the summary parses and adds up. */
static void test_cli_run__program_between_two_checkpoints(void)
{
    char out[PATH_LEN + 16], p[PATH_LEN + 64];
    json_error_t e;
    json_t *j;
    snprintf(out, sizeof out, "%s/prog", TOP);
    /* devices with 5 % device-to-device spread cannot all reach the top and
     * bottom levels (measured: 74 of 1497 targets unreachable), which is a
     * failed run (exit 1, suite badinput) unless accepted */
    /* the ngspice calibration on 16 of tile 0's targets (all 324 of them
     * took about 13 minutes here) */
    CLI("program", "--present", SMALL, "--target", SMALL2, "--out", out, "--accept-unreachable",
        "--calibrate-targets", "16");
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) show("program --present --target");
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "cells to move"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "calibration: ngspice run of 16 of the "));
    if (strstr(R.out, "unreachable 0\n") == NULL)
        CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "accepted (--accept-unreachable)"));
    snprintf(p, sizeof p, "%s/summary.json", out);
    j = json_load_file(p, 0, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT(json_integer_value(json_object_get(j, "cells_moved")) > 0);
    CU_ASSERT(json_integer_value(json_object_get(j, "tiles_programmed")) >= 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "cells")), 2 * (197 * 16 + 17 * 10));
    json_decref(j);
}

/* plot redraws a run's plots, IR-drop heat maps included on the nodal run. */
static void test_cli_run__plot_redraws_a_run(void)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const char *names[] = {"accuracy_loss.png", "cumulative_cost.png", "conductance_histogram.png", "irdrop_m0.png"};
    char p[PATH_LEN + 64], head[8];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", SMALL2, names[i]);
        remove(p);
    }
    CLI("plot", SMALL2);
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) show("plot");
    for (size_t i = 0; i < 4; i++) {
        FILE *f;
        snprintf(p, sizeof p, "%s/%s", SMALL2, names[i]);
        f = fopen(p, "rb");
        CU_ASSERT(f && fread(head, 1, 8, f) == 8 && memcmp(head, png, 8) == 0);
        if (f) fclose(f);
    }
    CLI("plot", DEF);
    CU_ASSERT_EQUAL(R.status, 0);
}

SSP_TEST_SUITE(cli_run)
{
    SSP_ADD_SUITE("cli_run", make_runs, remove_runs,
                  SSP_TEST(test_cli_run__resume_continues_a_finished_run),
                  SSP_TEST(test_cli_run__infer_reads_every_run),
                  SSP_TEST(test_cli_run__infer_overrides_take_effect),
                  SSP_TEST(test_cli_run__unhonourable_overrides_are_refused),
                  SSP_TEST(test_cli_run__validate_reads_trained_and_resumed_runs),
                  SSP_TEST(test_cli_run__checkpoint_of_another_network_is_refused),
                  SSP_TEST(test_cli_run__netlist_run_writes_every_tile),
                  SSP_TEST(test_cli_run__program_between_two_checkpoints),
                  SSP_TEST(test_cli_run__plot_redraws_a_run));
}
