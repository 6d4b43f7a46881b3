/* test_sweep.c — a sweep's table and plots (harness/report/ssp_sweep.c):
 * a run's metrics.csv read into a row (sums over epochs, the last epoch's
 * eliminated share), malformed files named, sweep.csv and sweep.json in row
 * order with failed rows and quoted messages, one plot per numeric key but
 * run.seed with mean and min..max over seeds. Every directory is a fresh
 * mkdtemp one. */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_sweep.h"
#include "ssp_test.h"

static const double TOL = 1e-12;

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(ssp_file_write_all(ssp_test_ctx(), p, text, strlen(text)), SSP_OK);
}

static char *slurp(const char *dir, const char *name)
{
    char p[512];
    unsigned char *d = NULL;
    size_t n = 0;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (ssp_file_read_all(ssp_test_ctx(), p, &d, &n)) return NULL;
    return (char *)d;
}

/* Two epochs, columns in another order than the reader's and extra ones. */
static const char METRICS[] = "epoch,weight_writes,test_acc,energy_J,x,latency_s,updates_eliminated_pct\n"
                              "1,100,0.5,1e-9,7,2e-6,90.5\n"
                              "2,40,0.625,5e-10,7,1e-6,96.25\n";

static void test_sweep__reads_a_runs_metrics(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char dir[] = "/tmp/ssp_sweep_rd_XXXXXX";
    ssp_sweep_row r;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(ssp_sweep_read_run(ctx, dir, &r), SSP_EIO); /* no metrics.csv */
    put(dir, "metrics.csv", METRICS);
    SSP_ASSERT_OK(ctx, ssp_sweep_read_run(ctx, dir, &r));
    CU_ASSERT_EQUAL(r.epochs, 2);
    CU_ASSERT_DOUBLE_EQUAL(r.acc[0], 0.5, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.acc[1], 0.625, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.weight_writes, 140, TOL);
    CU_ASSERT(ssp_close_rel(r.energy_j, 1.5e-9, TOL, 0));
    CU_ASSERT(ssp_close_rel(r.latency_s, 3e-6, TOL, 0));
    CU_ASSERT_DOUBLE_EQUAL(r.eliminated_pct, 96.25, TOL);
    put(dir, "metrics.csv", "epoch,test_acc\n1,0.5\n");
    CU_ASSERT_EQUAL(ssp_sweep_read_run(ctx, dir, &r), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "no column updates_eliminated_pct"));
    put(dir, "metrics.csv", "test_acc,updates_eliminated_pct,weight_writes,energy_J,latency_s\n0.5,1,2,x,4\n");
    CU_ASSERT_EQUAL(ssp_sweep_read_run(ctx, dir, &r), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "metrics.csv:2: column energy_J is not a number"));
    put(dir, "metrics.csv", "test_acc,updates_eliminated_pct,weight_writes,energy_J,latency_s\n");
    CU_ASSERT_EQUAL(ssp_sweep_read_run(ctx, dir, &r), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "no epoch finished"));
}

/* Four rows: r_wire 0 / 2.5 x seeds 1, 2; the last failed. */
static void rows4(ssp_sweep_row *rows, const char *vals[4][2])
{
    static const char *const jobs[4] = {"000_a", "001_b", "002_c", "003_d"};
    memset(rows, 0, 4 * sizeof *rows);
    for (int i = 0; i < 4; i++) {
        rows[i].job = jobs[i];
        rows[i].values = vals[i];
        rows[i].ok = i < 3;
        rows[i].epochs = 2;
        rows[i].acc[0] = 0.25 * (i + 1) - 0.125;
        rows[i].acc[1] = 0.25 * (i + 1) - 0.0625;
        rows[i].eliminated_pct = 90 + i;
        rows[i].weight_writes = 1000 * (i + 1);
        rows[i].energy_j = 1e-9 * (i + 1);
        rows[i].latency_s = 1e-6 * (i + 1);
    }
    snprintf(rows[3].message, sizeof rows[3].message, "device.params: cannot open \"x, y\"");
}

static void test_sweep__table_in_row_order(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char dir[] = "/tmp/ssp_sweep_tb_XXXXXX", *csv;
    const char *keys[2] = {"crossbar.r_wire", "run.seed"};
    const char *vals[4][2] = {{"0", "1"}, {"0", "2"}, {"2.5", "1"}, {"2.5", "2"}};
    ssp_sweep_row rows[4];
    json_t *root, *jobs;
    json_error_t jerr;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    rows4(rows, vals);
    SSP_ASSERT_OK(ctx, ssp_sweep_write_table(ctx, dir, keys, 2, rows, 4));
    csv = slurp(dir, "sweep.csv");
    CU_ASSERT_FATAL(csv != NULL);
    CU_ASSERT_STRING_EQUAL(csv,
                           "job,crossbar.r_wire,run.seed,status,final_test_acc,test_acc_per_epoch,"
                           "updates_eliminated_pct,weight_writes,energy_J,latency_s,message\n"
                           "000_a,0,1,ok,0.1875,0.125;0.1875,90,1000,1e-09,1e-06,\n"
                           "001_b,0,2,ok,0.4375,0.375;0.4375,91,2000,2e-09,2e-06,\n"
                           "002_c,2.5,1,ok,0.6875,0.625;0.6875,92,3000,3e-09,3e-06,\n"
                           "003_d,2.5,2,failed,,,,,,,\"device.params: cannot open \"\"x, y\"\"\"\n");
    free(csv);
    {
        char p[512];
        snprintf(p, sizeof p, "%s/sweep.json", dir);
        root = json_load_file(p, 0, &jerr);
    }
    CU_ASSERT_FATAL(root != NULL);
    jobs = json_object_get(root, "jobs");
    CU_ASSERT_EQUAL_FATAL(json_array_size(jobs), 4);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(jobs, 2), "job")), "002_c");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(json_array_get(jobs, 2), "values"), "crossbar.r_wire")), "2.5");
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(json_array_get(jobs, 0), "final_test_acc")), 0.1875, TOL);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(json_array_get(jobs, 1), "test_acc_per_epoch")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(jobs, 3), "status")), "failed");
    CU_ASSERT_PTR_NULL(json_object_get(json_array_get(jobs, 3), "final_test_acc"));
    json_decref(root);
}

static void test_sweep__plots_mean_and_spread_over_seeds(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char dir[] = "/tmp/ssp_sweep_pl_XXXXXX", *dat, p[512];
    const char *keys[2] = {"crossbar.r_wire", "run.seed"};
    const char *vals[4][2] = {{"0", "1"}, {"0", "2"}, {"2.5", "1"}, {"2.5", "2"}};
    ssp_sweep_row rows[4];
    struct stat sb;
    int nplots = -1;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    rows4(rows, vals);
    rows[3].ok = 1;
    SSP_ASSERT_OK(ctx, ssp_sweep_plot(ctx, dir, keys, 2, rows, 4, &nplots));
    CU_ASSERT_EQUAL(nplots, 1); /* r_wire only: run.seed is the spread */
    snprintf(p, sizeof p, "%s/sweep_crossbar_r_wire.png", dir);
    CU_ASSERT(stat(p, &sb) == 0 && sb.st_size > 1000);
    snprintf(p, sizeof p, "%s/sweep_run_seed.png", dir);
    CU_ASSERT(stat(p, &sb) != 0);
    /* drawn under a temporary name and renamed: none is left */
    {
        char *gp = slurp(dir, "sweep.gp");
        DIR *d = opendir(dir);
        struct dirent *de;
        CU_ASSERT_FATAL(gp != NULL && d != NULL);
        CU_ASSERT_PTR_NOT_NULL(strstr(gp, "sweep_crossbar_r_wire.png'\nset terminal"));
        CU_ASSERT_PTR_NOT_NULL(strstr(gp, ".tmp."));
        while ((de = readdir(d))) CU_ASSERT_PTR_NULL(strstr(de->d_name, ".tmp."));
        closedir(d);
        free(gp);
    }
    dat = slurp(dir, "sweep_crossbar_r_wire.dat");
    CU_ASSERT_FATAL(dat != NULL);
    /* r_wire 0: acc (x100) 18.75 and 43.75 -> mean 31.25, min, max; then
     * eliminated 90, 91; writes 1000, 2000; ... 2 runs */
    CU_ASSERT_PTR_NOT_NULL(strstr(dat, "\n0 31.25 18.75 43.75 90.5 90 91 1500 1000 2000 1.5e-09 1e-09 2e-09 "
                                       "1.5e-06 1e-06 2e-06 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dat, "\n2.5 81.25 68.75 93.75 92.5 92 93 3500 3000 4000 "));
    free(dat);
    /* a key with a non-numeric value, or only run.seed swept: no plot */
    {
        const char *k1[1] = {"run.seed"};
        const char *v1[4][2] = {{"1", ""}, {"2", ""}, {"3", ""}, {"4", ""}};
        ssp_sweep_row r1[4];
        rows4(r1, v1);
        SSP_ASSERT_OK(ctx, ssp_sweep_plot(ctx, dir, k1, 1, r1, 4, &nplots));
        CU_ASSERT_EQUAL(nplots, 0);
    }
}

SSP_TEST_SUITE(sweep)
{
    SSP_ADD_SUITE("sweep", NULL, NULL,
                  SSP_TEST(test_sweep__reads_a_runs_metrics),
                  SSP_TEST(test_sweep__table_in_row_order),
                  SSP_TEST(test_sweep__plots_mean_and_spread_over_seeds));
}
