/* test_badinput.c — the siamspice command against hostile input, as the
 * "bad input" issues tried it: labels past the network's classes, config
 * files that are directories, FIFOs, over-long lines, duplicate keys and
 * empty list elements (exit 2, nothing created), --out naming a file, two
 * writers of one run directory and a writer killed with SIGKILL, stale
 * temporary files, --resume without a checkpoint, programming targets that
 * are never reached, and plots replaced whole. The data (small IDX files of
 * random images) and every config are made by the suite under a temporary
 * directory it removes; runs the built binary as a child process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_test.h"

extern char **environ;

enum { OUT_CAP = 1 << 16, PATH_LEN = 1200, N_TRAIN = 256, N_TEST = 32, SIDE = 28 };

/* Seconds a child train may take to take its run directory's lock. */
static const double LOCK_WAIT_S = 60.0;

struct run {
    int status;        /* exit status, or 128 + signal */
    char out[OUT_CAP]; /* stdout */
    char err[OUT_CAP]; /* stderr */
};

static struct run R;
static char TOP[] = "/tmp/ssp_badinput_XXXXXX";
static char DATA[PATH_LEN], CFG[PATH_LEN]; /* the suite's data directory and a good config */

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

static pid_t spawn(const char *const *a, const char *outpath, const char *errpath)
{
    char exe[512], *argv[48];
    int n = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    snprintf(exe, sizeof exe, "%s/siamspice", SSP_BUILD_DIR);
    argv[n++] = exe;
    for (; *a && n < 47; a++) argv[n++] = (char *)(uintptr_t)*a;
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid, exe, &fa, NULL, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Run the CLI with the NULL-terminated arguments a; returns the status. */
static int cli(struct run *r, const char *const *a)
{
    char outpath[] = "/tmp/ssp_bad_out_XXXXXX", errpath[] = "/tmp/ssp_bad_err_XXXXXX";
    int fo = mkstemp(outpath), fe = mkstemp(errpath), st = 0;
    pid_t pid;
    close(fo);
    close(fe);
    pid = spawn(a, outpath, errpath);
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

/* The stderr of the last run holds what; says what it holds if not. */
static int said(const char *what)
{
    if (strstr(R.err, what)) return 1;
    fprintf(stderr, "\n  status %d; '%s' not in stderr:\n%s\n  stdout:\n%s\n", R.status, what, R.err, R.out);
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void path_in(char *p, const char *dir, const char *name)
{
    int n = snprintf(p, PATH_LEN, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_LEN) abort(); /* the suite's own paths are short */
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* An IDX file: magic 0x0000080<nd>, big-endian dimensions, bytes. */
static int write_idx(const char *path, int nd, const unsigned *dims, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    unsigned char head[4 + 12];
    size_t h = 4;
    if (!f) return -1;
    head[0] = head[1] = 0;
    head[2] = 8;
    head[3] = (unsigned char)nd;
    for (int i = 0; i < nd; i++, h += 4) {
        head[h] = (unsigned char)(dims[i] >> 24);
        head[h + 1] = (unsigned char)(dims[i] >> 16);
        head[h + 2] = (unsigned char)(dims[i] >> 8);
        head[h + 3] = (unsigned char)dims[i];
    }
    fwrite(head, 1, h, f);
    fwrite(data, 1, len, f);
    return fclose(f);
}

/* DATA/mnist/: N_TRAIN and N_TEST random 28 x 28 images, labels i % 10
 * (seeded: the same files every run); bad_label >= 0 puts 255 there in
 * the training labels. */
static int write_data(const char *dir, long bad_label)
{
    char p[PATH_LEN];
    unsigned long s = 12345;
    for (int test = 0; test < 2; test++) {
        unsigned n = test ? N_TEST : N_TRAIN, dims[3] = {n, SIDE, SIDE};
        unsigned char *img = malloc((size_t)n * SIDE * SIDE), *lab = malloc(n);
        int rc;
        if (!img || !lab) return -1;
        for (size_t i = 0; i < (size_t)n * SIDE * SIDE; i++) {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            img[i] = (unsigned char)(s >> 56);
        }
        for (unsigned i = 0; i < n; i++) lab[i] = (unsigned char)(i % 10);
        if (!test && bad_label >= 0) lab[bad_label] = 255;
        snprintf(p, sizeof p, "%s/mnist", dir);
        mkdir(dir, 0755);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/mnist/%s-images-idx3-ubyte", dir, test ? "t10k" : "train");
        rc = write_idx(p, 3, dims, img, (size_t)n * SIDE * SIDE);
        snprintf(p, sizeof p, "%s/mnist/%s-labels-idx1-ubyte", dir, test ? "t10k" : "train");
        if (!rc) rc = write_idx(p, 1, dims, lab, n);
        free(img);
        free(lab);
        if (rc) return -1;
    }
    return 0;
}

static int setup(void)
{
    char text[PATH_LEN + 512];
    if (!mkdtemp(TOP)) return 1;
    path_in(DATA, TOP, "data");
    path_in(CFG, TOP, "good.ini");
    if (write_data(DATA, -1)) return 1;
    snprintf(text, sizeof text,
             "[run]\nepochs = 1\nbaselines =\n[data]\ndir = %s\n[network]\nhidden = 16\n[device]\nparams = "
             "%s/devicemodels/params/vteam32.ini\n",
             DATA, SSP_SOURCE_DIR);
    {
        FILE *f = fopen(CFG, "w");
        if (!f) return 1;
        fputs(text, f);
        fclose(f);
    }
    return 0;
}

static int cleanup(void)
{
    char cmd[PATH_LEN + 16];
    if (TOP[strlen(TOP) - 1] != 'X') {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", TOP);
        if (system(cmd) != 0) return 1;
    }
    return 0;
}

/* Labels 255 in the training labels: refused naming the file, the
 * label's index and its value, exit 2; nothing is trained. */
static void test_badinput__label_past_the_classes_exits_2(void)
{
    char bad[PATH_LEN], out[PATH_LEN], lab[PATH_LEN + 16];
    path_in(bad, TOP, "baddata");
    path_in(out, TOP, "run_badlabel");
    CU_ASSERT_EQUAL_FATAL(write_data(bad, 77), 0);
    snprintf(lab, sizeof lab, "data.dir=%s", bad);
    CLI("train", "--config", CFG, "--set", lab, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("baddata/mnist/train-labels-idx1-ubyte: label 77 (0-based) is 255"));
    CU_ASSERT(said("10 classes"));
    path_in(lab, out, "metrics.csv");
    CU_ASSERT(!exists(lab));
}

/* A config that is a directory, a FIFO, has an over-long line, a key
 * given twice or an empty list element: exit 2 naming file (and line),
 * and the run directory is never created. */
static void test_badinput__bad_config_exits_2_and_creates_nothing(void)
{
    char p[PATH_LEN], out[PATH_LEN], text[1024];
    int n;
    path_in(out, TOP, "run_badconfig");
    CLI("train", "--config", TOP, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("a directory, not a file"));
    CU_ASSERT(!exists(out));
    path_in(p, TOP, "fifo.ini");
    CU_ASSERT_EQUAL_FATAL(mkfifo(p, 0600), 0);
    CLI("train", "--config", p, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("a pipe, not a file"));
    CU_ASSERT(!exists(out));
    unlink(p);
    /* "; xxx...batch = 7": the tail of a long comment is not a key */
    path_in(p, TOP, "long.ini");
    n = snprintf(text, sizeof text, "[train]\n; ");
    memset(text + n, 'x', 197);
    snprintf(text + n + 197, sizeof text - (size_t)n - 197, "batch = 7\n");
    put(p, text);
    CLI("train", "--config", p, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("long.ini:2: line of 208 characters"));
    CU_ASSERT(!exists(out));
    path_in(p, TOP, "dup.ini");
    put(p, "[train]\nbatch = 8\nlr = 0.1\nbatch = 9\n");
    CLI("train", "--config", p, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("dup.ini:4: [train] batch given twice (first on line 2)"));
    CU_ASSERT(!exists(out));
    path_in(p, TOP, "list.ini");
    put(p, "[network]\nhidden = 16,,16\n");
    CLI("train", "--config", p, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("list.ini:2: network.hidden: element 2 of '16,,16' is empty"));
    CU_ASSERT(!exists(out));
    CLI("train", "--config", CFG, "--set", "network.hidden=16,", "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("network.hidden: element 2 of '16,' is empty"));
    CU_ASSERT(!exists(out));
    /* a device file with an over-long comment: its own line */
    path_in(p, TOP, "dev.ini");
    {
        char dev[PATH_LEN], *text2 = NULL, set[PATH_LEN + 32];
        size_t len = 0;
        snprintf(dev, sizeof dev, "%s/devicemodels/params/vteam32.ini", SSP_SOURCE_DIR);
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), dev, (unsigned char **)&text2, &len));
        n = snprintf(text, sizeof text, "; ");
        memset(text + n, 'c', 300);
        text[n + 300] = '\0';
        {
            FILE *f = fopen(p, "w");
            CU_ASSERT_PTR_NOT_NULL_FATAL(f);
            fprintf(f, "%s\n%s", text, text2);
            fclose(f);
        }
        free(text2);
        snprintf(set, sizeof set, "device.params=%s", p);
        CLI("train", "--config", CFG, "--set", set, "--out", out, "-q");
        CU_ASSERT_EQUAL(R.status, 2);
        CU_ASSERT(said("dev.ini:1: line of 302 characters"));
    }
}

/* --out naming a file where a directory goes, or a directory where a file
 * goes: exit 2 for every command that writes one. */
static void test_badinput__out_naming_a_file_exits_2(void)
{
    char f[PATH_LEN], sub[PATH_LEN], dev[PATH_LEN];
    path_in(f, TOP, "a_file");
    put(f, "x\n");
    path_in(sub, f, "sub");
    snprintf(dev, sizeof dev, "%s/devicemodels/params/vteam32.ini", SSP_SOURCE_DIR);
    CLI("train", "--config", CFG, "--out", f, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("a file of that name is there"));
    CLI("train", "--config", CFG, "--out", sub, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CLI("read", "--rows", "4", "--cols", "4", "--out", f);
    CU_ASSERT_EQUAL(R.status, 2);
    CLI("program", "--params", dev, "--rows", "2", "--cols", "4", "--levels", "32", "--random-present", "1",
        "--random-moves", "2", "--simulate", "model", "--out", f);
    CU_ASSERT_EQUAL(R.status, 2);
    CLI("netlist", "--rows", "4", "--cols", "4", "--out", TOP);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("a directory; give a file name"));
    CLI("netlist", "--rows", "4", "--cols", "4", "--out", sub);
    CU_ASSERT_EQUAL(R.status, 2);
    CLI("fit", "--generate", dev, "--out", TOP);
    CU_ASSERT_EQUAL(R.status, 2);
}

/* Wait until dir/run.lock names a process and dir/config.ini is written;
 * the pid, or -1. */
static long wait_for_lock(const char *dir)
{
    char p[PATH_LEN], c[PATH_LEN], buf[64];
    struct timespec nap = {0, 20 * 1000 * 1000};
    path_in(p, dir, "run.lock");
    path_in(c, dir, "config.ini");
    for (double t = 0; t < LOCK_WAIT_S; t += 0.02) {
        slurp(p, buf, sizeof buf);
        if (atol(buf) > 0 && exists(c)) return atol(buf);
        nanosleep(&nap, NULL);
    }
    return -1;
}

/* A second writer of a run directory is refused (exit 2) while the first
 * holds it; a writer killed with SIGKILL leaves a lock file that does not
 * block the resume, and stale temporary files of dead writers are removed
 * and named in run.log. */
static void test_badinput__run_directory_lock_and_stale_temps(void)
{
    char out[PATH_LEN], p[PATH_LEN], log[OUT_CAP], cfg_set[64], tmp1[PATH_LEN + 48], tmp2[PATH_LEN + 48];
    const char *args[] = {"train", "--config", CFG, "--set", "run.epochs=1000", "--out", NULL, "-q", NULL};
    pid_t first, dead;
    int st;
    path_in(out, TOP, "run_lock");
    args[6] = out;
    path_in(p, TOP, "first.out");
    path_in(tmp1, TOP, "first.err");
    first = spawn(args, p, tmp1);
    CU_ASSERT_FATAL(first > 0);
    CU_ASSERT_EQUAL(wait_for_lock(out), (long)first);
    CLI("train", "--config", CFG, "--out", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    snprintf(cfg_set, sizeof cfg_set, "(pid %ld holds", (long)first);
    CU_ASSERT(said("is in use by another siamspice"));
    CU_ASSERT(said(cfg_set));
    /* the first one killed as hard as it gets, mid-run */
    kill(first, SIGKILL);
    while (waitpid(first, &st, 0) < 0 && errno == EINTR) {
    }
    CU_ASSERT(WIFSIGNALED(st));
    path_in(p, out, "run.lock");
    CU_ASSERT(exists(p));
    /* temporary files a killed writer left: one of a process that is gone,
     * one of this (running) process, which is left alone */
    dead = fork();
    if (dead == 0) _exit(0);
    while (waitpid(dead, &st, 0) < 0 && errno == EINTR) {
    }
    snprintf(tmp1, sizeof tmp1, "%s/checkpoint.bin.tmp.%ld", out, (long)dead);
    put(tmp1, "half a checkpoint");
    snprintf(tmp2, sizeof tmp2, "%s/metrics.csv.tmp.%ld", out, (long)getpid());
    put(tmp2, "a live writer's");
    /* the run had no checkpoint yet, or one: either way the resume runs */
    path_in(p, out, "config.ini");
    if (!exists(p)) {
        fprintf(stderr, "\n  killed before config.ini: nothing to resume\n");
        CU_FAIL("the first train was killed before it wrote config.ini");
        return;
    }
    path_in(p, out, "config.ini");
    {
        /* one epoch is enough for the resumed run */
        char cmd[3 * PATH_LEN];
        snprintf(cmd, sizeof cmd, "sed -i 's/^epochs = 1000$/epochs = 1/' '%s'", p);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
    CLI("train", "--resume", out, "-q");
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) fprintf(stderr, "\n  resume: status %d, stderr:\n%s\n  stdout:\n%s\n", R.status, R.err, R.out);
    CU_ASSERT(!exists(tmp1));
    CU_ASSERT(exists(tmp2));
    path_in(p, out, "run.log");
    slurp(p, log, sizeof log);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "stale_temp"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, tmp1));
    CU_ASSERT(said("stale_temp"));
    remove(tmp2);
}

/* --resume without checkpoint.bin: a directory holding only config.ini and
 * run.log (stopped before its first checkpoint) starts over, saying so on
 * the console and in run.log; one with a run's outputs is refused (exit 2)
 * and left as it was. */
static void test_badinput__resume_without_checkpoint(void)
{
    char out[PATH_LEN], p[PATH_LEN], before[OUT_CAP], after[OUT_CAP], msg[3 * PATH_LEN];
    path_in(out, TOP, "run_nockpt");
    CLI("train", "--config", CFG, "--out", out, "-q");
    CU_ASSERT_EQUAL_FATAL(R.status, 0);
    path_in(p, out, "checkpoint.bin");
    CU_ASSERT_EQUAL(remove(p), 0);
    path_in(p, out, "metrics.csv");
    slurp(p, before, sizeof before);
    CLI("train", "--resume", out, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    snprintf(msg, sizeof msg, "no checkpoint in %s; start a new run with --config %s/config.ini", out, out);
    CU_ASSERT(said(msg));
    slurp(p, after, sizeof after);
    CU_ASSERT_STRING_EQUAL(before, after);
    /* only what a run writes before its first checkpoint */
    {
        char cmd[3 * PATH_LEN];
        snprintf(cmd, sizeof cmd, "cd '%s' && find . -mindepth 1 ! -name config.ini ! -name run.log -delete", out);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
    CLI("train", "--resume", out, "-q");
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT(said("stopped before its first checkpoint; it starts over from epoch 1"));
    path_in(p, out, "run.log");
    slurp(p, after, sizeof after);
    CU_ASSERT_PTR_NOT_NULL(strstr(after, "it starts over from epoch 1"));
    path_in(p, out, "checkpoint.bin");
    CU_ASSERT(exists(p));
    /* not a run directory at all */
    path_in(p, TOP, "empty_dir");
    mkdir(p, 0755);
    CLI("train", "--resume", p, "-q");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("no config.ini"));
}

/* Targets no pulse reaches are a failed run (exit 1) unless accepted. */
static void test_badinput__program_unreached_targets_exit_1(void)
{
    char dev[PATH_LEN], pre[PATH_LEN], tgt[PATH_LEN], out[PATH_LEN];
    snprintf(dev, sizeof dev, "%s/devicemodels/params/vteam32.ini", SSP_SOURCE_DIR);
    path_in(pre, TOP, "present.csv");
    path_in(tgt, TOP, "target.csv");
    path_in(out, TOP, "prog");
    put(pre, "0,0,0,0\n0,0,0,0\n");
    put(tgt, "31,31,31,31\n31,31,31,31\n");
    CLI("program", "--params", dev, "--rows", "2", "--cols", "4", "--levels", "32", "--present", pre, "--target", tgt,
        "--simulate", "model", "--out", out);
    CU_ASSERT_EQUAL(R.status, 0);
    /* 100 kohm wire segments (200 kohm/um at the default 0.5 um pitch): the
     * cells see too little voltage to move */
    CLI("program", "--params", dev, "--rows", "2", "--cols", "4", "--levels", "32", "--present", pre, "--target", tgt,
        "--simulate", "model", "--rwire", "200e3", "--out", out);
    CU_ASSERT_EQUAL(R.status, 1);
    CU_ASSERT(said("8 of 8 targets unreachable"));
    CLI("program", "--params", dev, "--rows", "2", "--cols", "4", "--levels", "32", "--present", pre, "--target", tgt,
        "--simulate", "model", "--rwire", "200e3", "--out", out, "--accept-unreachable");
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT(said("accepted (--accept-unreachable)"));
    /* 1 kohm segments: they move, but none reaches its band */
    CLI("program", "--params", dev, "--rows", "2", "--cols", "4", "--levels", "32", "--present", pre, "--target", tgt,
        "--simulate", "model", "--rwire", "2e3", "--out", out);
    CU_ASSERT_EQUAL(R.status, 1);
    CU_ASSERT(said("none of the 8 targets reached its band"));
}

/* Plots are replaced whole (a new file renamed over the old: a new inode),
 * and no temporary file is left; an empty element of --sweep-t-sample is
 * refused. */
static void test_badinput__plots_replaced_by_rename(void)
{
    char out[PATH_LEN], p[PATH_LEN], cmd[3 * PATH_LEN];
    struct stat a, b;
    path_in(out, TOP, "run_plots");
    CLI("train", "--config", CFG, "--out", out, "-q");
    CU_ASSERT_EQUAL_FATAL(R.status, 0);
    path_in(p, out, "accuracy_loss.png");
    CU_ASSERT_EQUAL_FATAL(stat(p, &a), 0);
    CLI("plot", out);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_EQUAL_FATAL(stat(p, &b), 0);
    CU_ASSERT(a.st_ino != b.st_ino);
    CU_ASSERT(b.st_size > 0);
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '*.tmp.*')\"", out);
    CU_ASSERT_EQUAL(system(cmd), 0);
    /* a list option's empty element too */
    CLI("infer", out, "--sweep-t-sample", "1ns,,2ns");
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT(said("--sweep-t-sample: element 2 of '1ns,,2ns' is empty"));
}

SSP_TEST_SUITE(badinput)
{
    SSP_ADD_SUITE("badinput", setup, cleanup, SSP_TEST(test_badinput__label_past_the_classes_exits_2),
                  SSP_TEST(test_badinput__bad_config_exits_2_and_creates_nothing),
                  SSP_TEST(test_badinput__out_naming_a_file_exits_2),
                  SSP_TEST(test_badinput__run_directory_lock_and_stale_temps),
                  SSP_TEST(test_badinput__resume_without_checkpoint),
                  SSP_TEST(test_badinput__program_unreached_targets_exit_1),
                  SSP_TEST(test_badinput__plots_replaced_by_rename));
}
