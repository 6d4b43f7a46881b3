/* test_report.c — ssp_report (harness/report): metrics.csv has one header
 * and one row per epoch with the values given (integers as integers),
 * metrics.json the same rows plus the run's identity, report.txt the
 * settings, the epoch table and, with baselines, the comparison naming the
 * winner of each figure; a write that fails (a missing directory, a full
 * disk) names the file and leaves the previous report whole. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_fault.h"
#include "ssp_file.h"
#include "ssp_report.h"
#include "ssp_test.h"

enum { PATH_LEN = 512 };

static char DIR_[] = "/tmp/ssp_test_report_XXXXXX";
static ssp_config CFG;
static ssp_epoch_metrics M[2];

static int setup(void)
{
    if (!mkdtemp(DIR_)) return 1;
    ssp_config_defaults(&CFG);
    CFG.seed = 7;
    memset(M, 0, sizeof M);
    for (int i = 0; i < 2; i++) {
        M[i].epoch = i + 1;
        M[i].lr = 0.01;
        M[i].train_loss = 0.5 / (i + 1);
        M[i].test_acc = 0.90 + 0.05 * i;
        M[i].steps = 100;
        M[i].hw.weight_writes = 1000ULL / (unsigned)(i + 1);
        M[i].hw.pulse_energy_j = 2e-9 / (i + 1);
        M[i].hw.pulse_latency_s = 1e-3;
        M[i].closed_loop.weight_writes = 100000;
        M[i].closed_loop.pulse_energy_j = 1e-6;
        M[i].closed_loop.pulse_latency_s = 1.0;
        M[i].updates_eliminated_pct = 100.0 * (1 - (double)M[i].hw.weight_writes / 100000.0);
    }
    return 0;
}

static int cleanup(void)
{
    char cmd[PATH_LEN];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    return system(cmd) == 0 ? 0 : 1;
}

static void in_dir(char *p, const char *name) { snprintf(p, PATH_LEN, "%s/%s", DIR_, name); }

static char *slurp(const char *path)
{
    unsigned char *d = NULL;
    size_t n;
    ssp_ctx *ctx = ssp_test_ctx();
    return ssp_file_read_all(ctx, path, &d, &n) == SSP_OK ? (char *)d : NULL;
}

/* Column k (0-based) of a CSV line, as text into buf. */
static const char *field(const char *line, size_t k, char *buf, size_t cap)
{
    for (size_t i = 0; i < k && line; i++) line = strchr(line, ',') ? strchr(line, ',') + 1 : NULL;
    if (!line) return "";
    snprintf(buf, cap, "%.*s", (int)strcspn(line, ",\n"), line);
    return buf;
}

/* Index of name in the header line, or -1. */
static long column(const char *header, const char *name)
{
    char buf[64];
    for (size_t k = 0; k < 200; k++) {
        const char *f = field(header, k, buf, sizeof buf);
        if (!f[0]) return -1;
        if (!strcmp(f, name)) return (long)k;
    }
    return -1;
}

static void test_report__metrics_csv_has_a_row_per_epoch_with_the_values(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[PATH_LEN], buf[64], *text, *row1, *row2;
    long ce, ca, cw, cl;
    in_dir(p, "metrics.csv");
    SSP_ASSERT_OK(ctx, ssp_report_metrics_csv(ctx, p, M, 2));
    text = slurp(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    ce = column(text, "epoch");
    ca = column(text, "test_acc");
    cw = column(text, "weight_writes");
    cl = column(text, "lr");
    CU_ASSERT(ce >= 0 && ca >= 0 && cw >= 0 && cl >= 0);
    row1 = strchr(text, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(row1);
    row1++;
    row2 = strchr(row1, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(row2);
    row2++;
    CU_ASSERT_STRING_EQUAL(field(row1, (size_t)ce, buf, sizeof buf), "1");
    CU_ASSERT_STRING_EQUAL(field(row2, (size_t)ce, buf, sizeof buf), "2");
    CU_ASSERT_STRING_EQUAL(field(row1, (size_t)cw, buf, sizeof buf), "1000");
    CU_ASSERT_STRING_EQUAL(field(row2, (size_t)cw, buf, sizeof buf), "500");
    CU_ASSERT_DOUBLE_EQUAL(strtod(field(row2, (size_t)ca, buf, sizeof buf), NULL), 0.95, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(strtod(field(row1, (size_t)cl, buf, sizeof buf), NULL), 0.01, 1e-12);
    /* exactly a header and two rows */
    CU_ASSERT_PTR_NOT_NULL(strchr(row2, '\n'));
    CU_ASSERT_EQUAL(strchr(row2, '\n')[1], '\0');
    free(text);
}

static void test_report__metrics_json_holds_the_identity_and_the_rows(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[PATH_LEN];
    json_error_t err;
    json_t *j, *rows;
    in_dir(p, "metrics.json");
    SSP_ASSERT_OK(ctx, ssp_report_metrics_json(ctx, p, &CFG, M, 2));
    j = json_load_file(p, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "method")), ssp_method_name(CFG.method));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "seed")), 7);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "levels")), CFG.levels);
    rows = json_object_get(j, "epochs");
    CU_ASSERT_EQUAL_FATAL(json_array_size(rows), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(rows, 1), "epoch")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(rows, 0), "weight_writes")), 1000);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(json_array_get(rows, 1), "test_acc")), 0.95, 1e-9);
    json_decref(j);
}

static void test_report__text_names_settings_epochs_and_the_winning_baseline(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[PATH_LEN], *text;
    ssp_report_baseline b = {"sgd", M[0]};
    b.last.test_acc = 0.80;              /* worse accuracy than the run's 95 % */
    b.last.hw.weight_writes = 10;        /* but the fewest writes */
    in_dir(p, "report.txt");
    SSP_ASSERT_OK(ctx, ssp_report_text(ctx, p, &CFG, M, 2, &b, 1));
    text = slurp(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT(strncmp(text, "siamspice run report: ", 22) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ", 2 epochs, seed 7\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Settings\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Comparison with the baselines"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  sgd   "));
    {
        char want[128];
        snprintf(want, sizeof want, "best test accuracy: %s (95.00 %%); fewest weight writes: sgd;",
                 ssp_method_name(CFG.method));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
        if (!strstr(text, want)) fprintf(stderr, "\n  report.txt:\n%s\n", text);
    }
    free(text);
    /* without baselines, no comparison */
    SSP_ASSERT_OK(ctx, ssp_report_text(ctx, p, &CFG, M, 2, NULL, 0));
    text = slurp(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NULL(strstr(text, "Comparison with the baselines"));
    free(text);
}

static void test_report__a_failed_write_names_the_file_and_keeps_the_old_one(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[PATH_LEN], *before, *after;
    in_dir(p, "no/such/dir/metrics.csv");
    CU_ASSERT_NOT_EQUAL(ssp_report_metrics_csv(ctx, p, M, 2), SSP_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "no/such/dir/metrics.csv"));
    in_dir(p, "kept.txt");
    SSP_ASSERT_OK(ctx, ssp_report_text(ctx, p, &CFG, M, 1, NULL, 0));
    before = slurp(p);
    ctx = ssp_test_ctx();
    ssp_fault_arm(SSP_FAULT_WRITE, 1, ENOSPC);
    CU_ASSERT_EQUAL(ssp_report_text(ctx, p, &CFG, M, 2, NULL, 0), SSP_EIO);
    CU_ASSERT(ssp_fault_fired());
    ssp_fault_disarm();
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "No space left on device"));
    after = slurp(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_STRING_EQUAL(before, after);
    CU_ASSERT_PTR_NOT_NULL(strstr(after, ", 1 epoch, seed 7\n"));
    free(before);
    free(after);
}

SSP_TEST_SUITE(report)
{
    SSP_ADD_SUITE("report", setup, cleanup, SSP_TEST(test_report__metrics_csv_has_a_row_per_epoch_with_the_values),
                  SSP_TEST(test_report__metrics_json_holds_the_identity_and_the_rows),
                  SSP_TEST(test_report__text_names_settings_epochs_and_the_winning_baseline),
                  SSP_TEST(test_report__a_failed_write_names_the_file_and_keeps_the_old_one));
}
