/* test_oom.c — every out-of-memory path can run: a short training (set-up,
 * one step, a checkpoint), a netlist emission and a schedule export are run
 * again and again with the n-th allocation of the project's code failing
 * (the runner's allocator seam, tests/core/fault_shim.c), n = 1, 2, ... up
 * to the operation's last allocation (a long one: see walk_stride). Each
 * run must fail cleanly: status
 * SSP_ENOMEM with a message, no crash, the files it writes either absent,
 * as before or wholly new, and no temporary file left. Under `make asan`
 * LeakSanitizer checks at exit that none of the failed runs leaked. Writes
 * only under /tmp. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_writers.h"
#include "ssp_config.h"
#include "ssp_fault.h"
#include "ssp_file.h"
#include "ssp_pulse.h"
#include "ssp_spice_emit.h"
#include "ssp_test.h"
#include "ssp_train.h"

enum { MAX_FILES = 3 };

/* Writes its files into dir. */
typedef int (*op_fn)(void *arg, const char *dir);

static int read_or_null(const char *dir, const char *file, unsigned char **data, size_t *len)
{
    char p[512];
    ssp_ctx *ctx = ssp_test_ctx();
    snprintf(p, sizeof p, "%s/%s", dir, file);
    *data = NULL;
    *len = 0;
    if (access(p, F_OK) != 0) return 0;
    return ssp_file_read_all(ctx, p, data, len);
}

/* Does dir hold a temporary file ("*.tmp.*")? With remove, delete every file. */
static int scan_dir(const char *dir, int remove)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int tmp = 0;
    if (!d) return 0;
    while ((e = readdir(d))) {
        char p[600];
        if (e->d_name[0] == '.') continue;
        tmp |= strstr(e->d_name, ".tmp.") != NULL;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (remove) unlink(p);
    }
    closedir(d);
    return tmp;
}

/* Every allocation of an operation is failed in turn up to WALK_BUDGET of
 * them; a longer one has its first WALK_ALL_FIRST (the set-up) all failed
 * and then every stride-th, so that make test stays short. SSP_OOM_STRIDE=1
 * in the environment walks every allocation of every operation. */
enum { WALK_BUDGET = 400, WALK_ALL_FIRST = 200 };

static long walk_stride(long total)
{
    const char *env = getenv("SSP_OOM_STRIDE");
    if (env && atol(env) >= 1) return atol(env);
    return total <= WALK_BUDGET ? 1 : (total - WALK_ALL_FIRST + WALK_BUDGET - WALK_ALL_FIRST - 1) / (WALK_BUDGET - WALK_ALL_FIRST);
}

/* Runs op with each of its allocations failing in turn; returns the number
 * of allocations walked. The files op writes are compared with those of an
 * undisturbed run (the operations are deterministic). */
static long walk(const char *what, op_fn op, void *arg, const char *const *files, size_t nf)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char dir[] = "/tmp/ssp_oom_XXXXXX";
    unsigned char *ref[MAX_FILES];
    size_t ref_len[MAX_FILES];
    long total, bad = 0, stride;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    CU_ASSERT_FATAL(nf <= MAX_FILES);
    /* an undisturbed run: its allocations counted, its files the reference */
    ssp_fault_arm(SSP_FAULT_ALLOC, 0, 0);
    SSP_ASSERT_OK(ctx, op(arg, dir));
    total = ssp_fault_count();
    ssp_fault_disarm();
    for (size_t i = 0; i < nf; i++) {
        SSP_ASSERT_OK(ctx, read_or_null(dir, files[i], &ref[i], &ref_len[i]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref[i]);
    }
    CU_ASSERT(total > 0);
    if (getenv("SSP_OOM_SHOW")) fprintf(stderr, "\n  %s: %ld allocations", what, total);
    stride = walk_stride(total);
    for (long n = 1; n <= total; n += n < WALK_ALL_FIRST ? 1 : stride) {
        int rc, fired;
        scan_dir(dir, 1);
        ssp_fault_arm(SSP_FAULT_ALLOC, n, 0);
        rc = op(arg, dir);
        fired = ssp_fault_fired();
        ssp_fault_disarm();
        if (!fired) { /* an allocation skipped on this path: the run must be whole */
            CU_ASSERT_EQUAL(rc, SSP_OK);
            continue;
        }
        if (rc != SSP_ENOMEM || !ssp_ctx_errmsg(ctx)[0]) {
            if (bad++ < 10)
                fprintf(stderr, "\n  %s, allocation %ld of %ld: status %d (%s), message '%s'", what, n, total,
                        rc, ssp_strerror(rc), ssp_ctx_errmsg(ctx));
        }
        for (size_t i = 0; i < nf; i++) {
            unsigned char *now;
            size_t len;
            SSP_ASSERT_OK(ctx, read_or_null(dir, files[i], &now, &len));
            if (now && (len != ref_len[i] || memcmp(now, ref[i], len) != 0)) {
                if (bad++ < 10)
                    fprintf(stderr, "\n  %s, allocation %ld: %s half-written", what, n, files[i]);
            }
            free(now);
        }
        if (scan_dir(dir, 0) && bad++ < 10) fprintf(stderr, "\n  %s, allocation %ld: temporary file left", what, n);
        ssp_ctx_clear_error(ctx);
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (stride == 1)
        fprintf(stderr, " [%s: %ld allocations failed in turn] ", what, total);
    else
        fprintf(stderr, " [%s: %ld allocations, the first %d and every %ld-th failed in turn] ", what, total,
                WALK_ALL_FIRST, stride);
    for (size_t i = 0; i < nf; i++) free(ref[i]);
    scan_dir(dir, 1);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
    return total;
}

/* ---- the operations -------------------------------------------------------- */

enum { SMALL_TRAIN = 32, SMALL_TEST = 8 };

/* A data directory holding the first n images and labels of the MNIST files
 * (a whole IDX file each: the header's count says n), so that each of the
 * hundreds of trainings reads kilobytes, not 47 MB. */
static void small_mnist(char *root, size_t cap)
{
    ssp_ctx *ctx = ssp_test_ctx();
    static const struct { const char *name; size_t n, item; } f[] = {
        {"train-images-idx3-ubyte", SMALL_TRAIN, 784}, {"train-labels-idx1-ubyte", SMALL_TRAIN, 1},
        {"t10k-images-idx3-ubyte", SMALL_TEST, 784}, {"t10k-labels-idx1-ubyte", SMALL_TEST, 1}};
    char p[512], q[600];
    snprintf(root, cap, "/tmp/ssp_oom_data_XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(root) != NULL);
    snprintf(q, sizeof q, "%s/mnist", root);
    CU_ASSERT_FATAL(mkdir(q, 0755) == 0);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        unsigned char *buf;
        size_t len, header = f[i].item == 1 ? 8 : 16;
        snprintf(q, sizeof q, "data/mnist/%s", f[i].name);
        SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, ssp_test_path(p, sizeof p, q), &buf, &len));
        CU_ASSERT_FATAL(len >= header + f[i].n * f[i].item);
        buf[4] = buf[5] = buf[6] = 0; /* dimension 0, big-endian: the image count */
        buf[7] = (unsigned char)f[i].n;
        snprintf(q, sizeof q, "%s/mnist/%s", root, f[i].name);
        SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, q, buf, header + f[i].n * f[i].item));
        free(buf);
    }
}

static void small_mnist_remove(const char *root)
{
    char q[600];
    snprintf(q, sizeof q, "%s/mnist", root);
    scan_dir(q, 1);
    CU_ASSERT_EQUAL(rmdir(q), 0);
    CU_ASSERT_EQUAL(rmdir(root), 0);
}

static int short_training(void *arg, const char *dir)
{
    const ssp_config *c = arg;
    ssp_train *t = NULL;
    char p[512];
    int done = 0, rc;
    if ((rc = ssp_train_create(&t, ssp_test_ctx(), c))) return rc;
    rc = ssp_train_step(t, &done);
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    if (!rc) rc = ssp_train_checkpoint_save(t, p);
    ssp_train_destroy(&t);
    return rc;
}

static void test_oom__short_training_and_checkpoint(void)
{
    static const char *const files[] = {"checkpoint.bin"};
    ssp_config c;
    char p[512];
    ssp_config_defaults(&c);
    small_mnist(c.data_dir, sizeof c.data_dir);
    snprintf(c.device_params, sizeof c.device_params, "%s", ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"));
    c.train_limit = SMALL_TRAIN;
    c.test_limit = SMALL_TEST;
    c.downsample = 2;
    c.hidden[0] = 4;
    CU_ASSERT(walk("training", short_training, &c, files, 1) > 10);
    small_mnist_remove(c.data_dir);
}

static void test_oom__circuit_training(void)
{
    static const char *const files[] = {"checkpoint.bin"};
    ssp_config c;
    char p[512];
    ssp_config_defaults(&c);
    small_mnist(c.data_dir, sizeof c.data_dir);
    snprintf(c.device_params, sizeof c.device_params, "%s", ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"));
    c.train_limit = SMALL_TRAIN / 2;
    c.test_limit = SMALL_TEST / 2;
    c.downsample = 2;
    c.hidden[0] = 4;
    c.engine = SSP_ENGINE_NODAL; /* the tile circuits, their solver and the layer mapping */
    c.tile_rows = 32;
    c.tile_cols = 32;
    CU_ASSERT(walk("circuit training", short_training, &c, files, 1) > 10);
    small_mnist_remove(c.data_dir);
}

static int netlist(void *arg, const char *dir)
{
    (void)arg;
    return fixture_write_netlist(ssp_test_ctx(), dir, 0);
}

static void test_oom__netlist_emission(void)
{
    static const char *const files[] = {"tile.cir"};
    CU_ASSERT(walk("netlist", netlist, NULL, files, 1) > 2);
}

static int schedule(void *arg, const char *dir)
{
    (void)arg;
    return fixture_write_schedule(ssp_test_ctx(), dir, 40); /* enough events to grow the schedule */
}

static void test_oom__schedule_export(void)
{
    static const char *const files[] = {"schedule.csv", "schedule.json", "schedule.vcd"};
    CU_ASSERT(walk("schedules", schedule, NULL, files, 3) > 2);
}

SSP_TEST_SUITE(oom)
{
    SSP_ADD_SUITE("oom", NULL, NULL,
                  SSP_TEST(test_oom__netlist_emission),
                  SSP_TEST(test_oom__schedule_export),
                  SSP_TEST(test_oom__short_training_and_checkpoint),
                  SSP_TEST(test_oom__circuit_training));
}
