/* test_faults.c — I/O faults while a run writes its files: for a
 * checkpoint, the metrics (metrics.csv, metrics.json, report.txt), a pulse
 * schedule (schedule.csv, .json, .vcd) and a tile netlist, every open,
 * every write call, the fsync and the rename is made to fail in turn with
 * ENOSPC or EIO (tests/core/fault_shim.c). Each failure must be reported
 * (the file and the system's reason), leave every file as it was before or
 * wholly the new version, and leave no temporary file behind. Writes only
 * under /tmp. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_writers.h"
#include "ssp_config.h"
#include "ssp_fault.h"
#include "ssp_file.h"
#include "ssp_pulse.h"
#include "ssp_report.h"
#include "ssp_spice_emit.h"
#include "ssp_test.h"
#include "ssp_train.h"

enum { MAX_FILES = 4, MAX_POINTS = 100000 };

/* Writes version v (0 or 1; the two differ) of its files into dir. */
typedef int (*writer_fn)(void *arg, const char *dir, int v);

struct snap {
    unsigned char *data[MAX_FILES]; /* NULL: the file is absent */
    size_t len[MAX_FILES];
};

static void take(struct snap *s, const char *dir, const char *const *files, size_t nf)
{
    ssp_ctx *ctx = ssp_test_ctx();
    for (size_t i = 0; i < nf; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        s->data[i] = NULL;
        s->len[i] = 0;
        if (access(p, F_OK) == 0) SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, p, &s->data[i], &s->len[i]));
    }
    ssp_ctx_clear_error(ctx);
}

static void drop(struct snap *s, size_t nf)
{
    for (size_t i = 0; i < nf; i++) free(s->data[i]);
}

static int same(const struct snap *a, size_t i, const struct snap *b)
{
    if (!a->data[i] || !b->data[i]) return a->data[i] == b->data[i];
    return a->len[i] == b->len[i] && memcmp(a->data[i], b->data[i], a->len[i]) == 0;
}

static int leftovers(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find %s -name '*.tmp.*' | grep -q .", dir);
    return system(cmd) == 0;
}

/* Every fault point of w, each kind in turn; the number of points tried. */
static long every_point(const char *what, writer_fn w, void *arg, const char *const *files, size_t nf)
{
    static const int kinds[] = {SSP_FAULT_OPEN, SSP_FAULT_WRITE, SSP_FAULT_SYNC, SSP_FAULT_RENAME};
    ssp_ctx *ctx = ssp_test_ctx();
    char dir[] = "/tmp/ssp_faults_XXXXXX", cmd[600];
    struct snap old, nu;
    long points = 0;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    SSP_ASSERT_OK(ctx, w(arg, dir, 1));
    take(&nu, dir, files, nf);
    SSP_ASSERT_OK(ctx, w(arg, dir, 0));
    take(&old, dir, files, nf);
    for (size_t i = 0; i < nf; i++) {
        CU_ASSERT_PTR_NOT_NULL(old.data[i]);
        CU_ASSERT(!same(&old, i, &nu));
    }
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (long n = 1; n < MAX_POINTS; n++) {
            int err = n % 2 ? ENOSPC : EIO, rc, fired;
            struct snap now;
            ssp_fault_arm(kinds[k], n, err);
            rc = w(arg, dir, 1);
            fired = ssp_fault_fired();
            ssp_fault_disarm();
            if (!fired) {
                CU_ASSERT_EQUAL(rc, SSP_OK);
                SSP_ASSERT_OK(ctx, w(arg, dir, 0));
                break;
            }
            points++;
            CU_ASSERT_NOT_EQUAL(rc, SSP_OK);
            if (!strstr(ssp_ctx_errmsg(ctx), strerror(err)) || !strstr(ssp_ctx_errmsg(ctx), dir)) {
                fprintf(stderr, "\n  %s, %s %ld: message '%s'\n", what, ssp_fault_kind_name(kinds[k]), n,
                        ssp_ctx_errmsg(ctx));
                CU_FAIL("the error does not name the file and the reason");
            }
            take(&now, dir, files, nf);
            for (size_t i = 0; i < nf; i++) {
                int ok = same(&now, i, &old) || (nf > 1 && same(&now, i, &nu));
                if (!ok) fprintf(stderr, "\n  %s, %s %ld: %s damaged\n", what, ssp_fault_kind_name(kinds[k]), n, files[i]);
                CU_ASSERT(ok);
            }
            drop(&now, nf);
            CU_ASSERT(!leftovers(dir));
            SSP_ASSERT_OK(ctx, w(arg, dir, 0));
        }
    fprintf(stderr, " [%s: %ld fault points] ", what, points);
    drop(&old, nf);
    drop(&nu, nf);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    return points;
}

/* ---- the writers -------------------------------------------------------- */

static int write_checkpoint(void *arg, const char *dir, int v)
{
    ssp_train **t = arg;
    char p[512];
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    return ssp_train_checkpoint_save(t[v], p);
}

static void test_faults__checkpoint_write(void)
{
    static const char *const files[] = {"checkpoint.bin"};
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t[2] = {NULL, NULL};
    char p[512];
    int done = 0;
    ssp_config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", ssp_test_path(p, sizeof p, "data"));
    snprintf(c.device_params, sizeof c.device_params, "%s", ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"));
    c.train_limit = 64;
    c.test_limit = 16;
    c.downsample = 2;
    c.hidden[0] = 4;
    SSP_ASSERT_OK(ctx, ssp_train_create(&t[0], ctx, &c));
    SSP_ASSERT_OK(ctx, ssp_train_create(&t[1], ctx, &c));
    SSP_ASSERT_OK(ctx, ssp_train_step(t[1], &done));
    CU_ASSERT(every_point("checkpoint", write_checkpoint, t, files, 1) >= 4);
    ssp_train_destroy(&t[0]);
    ssp_train_destroy(&t[1]);
}

static int write_metrics(void *arg, const char *dir, int v)
{
    const ssp_config *cfg = arg;
    ssp_epoch_metrics m[2];
    char p[512];
    int rc;
    memset(m, 0, sizeof m);
    for (int e = 0; e < 2; e++) {
        m[e].epoch = e + 1;
        m[e].test_acc = 0.5 + 0.1 * e;
        m[e].train_loss = 1.0 / (e + 1);
    }
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    rc = ssp_report_metrics_csv(ssp_test_ctx(), p, m, (size_t)v + 1);
    snprintf(p, sizeof p, "%s/metrics.json", dir);
    if (!rc) rc = ssp_report_metrics_json(ssp_test_ctx(), p, cfg, m, (size_t)v + 1);
    snprintf(p, sizeof p, "%s/report.txt", dir);
    if (!rc) rc = ssp_report_text(ssp_test_ctx(), p, cfg, m, (size_t)v + 1, NULL, 0);
    return rc;
}

static void test_faults__metrics_write(void)
{
    static const char *const files[] = {"metrics.csv", "metrics.json", "report.txt"};
    ssp_config c;
    ssp_config_defaults(&c);
    CU_ASSERT(every_point("metrics", write_metrics, &c, files, 3) >= 12);
}

static int write_schedule(void *arg, const char *dir, int v)
{
    (void)arg;
    return fixture_write_schedule(ssp_test_ctx(), dir, 3 + v);
}

static void test_faults__schedule_write(void)
{
    static const char *const files[] = {"schedule.csv", "schedule.json", "schedule.vcd"};
    CU_ASSERT(every_point("schedules", write_schedule, NULL, files, 3) >= 12);
}

static int write_netlist(void *arg, const char *dir, int v)
{
    (void)arg;
    return fixture_write_netlist(ssp_test_ctx(), dir, v);
}

static void test_faults__netlist_write(void)
{
    static const char *const files[] = {"tile.cir"};
    CU_ASSERT(every_point("netlist", write_netlist, NULL, files, 1) >= 4);
}

SSP_TEST_SUITE(faults)
{
    SSP_ADD_SUITE("faults", NULL, NULL,
                  SSP_TEST(test_faults__checkpoint_write),
                  SSP_TEST(test_faults__metrics_write),
                  SSP_TEST(test_faults__schedule_write),
                  SSP_TEST(test_faults__netlist_write));
}
