/* test_pool.c — the worker pool (plugin/ssp_pool.c): results in job order,
 * a SIGKILLed worker replaced and its job retried, a job that keeps killing
 * its worker failed with a clear error, simulation errors passed through. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_pool.h"
#include "ssp_test.h"

static const double TOL_REL = 1e-12;

enum { NJOBS = 20 };

struct jobset {
    char netlist[NJOBS][256];
    ssp_job jobs[NJOBS];
    ssp_job_result res[NJOBS];
};

static const char *const OUT_V[] = {"v(out)"};

/* Job i: a divider whose output is (i + 1) / 2 volts. */
static void jobset_init(struct jobset *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < NJOBS; i++) {
        snprintf(s->netlist[i], sizeof s->netlist[i],
                 "divider %d\nv1 in 0 dc %d\nr1 in out 1k\nr2 out 0 1k\n.end\n", i, i + 1);
        s->jobs[i].kind = SSP_JOB_OP;
        s->jobs[i].netlist = s->netlist[i];
        s->jobs[i].out_names = OUT_V;
        s->jobs[i].nout = 1;
    }
}

/* Make job j a transient of the same divider long enough (~10^5 time
 * points) to be still running when the test's SIGKILL arrives. */
static void make_slow(struct jobset *s, size_t j)
{
    s->jobs[j].kind = SSP_JOB_TRAN;
    s->jobs[j].tstep = 1e-9;
    s->jobs[j].tstop = 1e-4;
    s->jobs[j].tmax = 1e-9;
}

/* The value job j reports for v(out): its last row. */
static double job_value(const struct jobset *s, size_t j)
{
    return s->res[j].values[s->res[j].nrows - 1];
}

static void jobset_free(struct jobset *s)
{
    for (int i = 0; i < NJOBS; i++) ssp_job_result_free(&s->res[i]);
}

struct killer {
    size_t at_job;   /* kill the worker that receives this job */
    int every_time;  /* kill on every dispatch of it, not only the first */
    int kills;       /* kills done */
};

static void kill_hook(size_t job, int worker, pid_t pid, void *payload)
{
    struct killer *k = payload;
    (void)worker;
    if (job == k->at_job && (k->every_time || k->kills == 0)) {
        kill(pid, SIGKILL);
        k->kills++;
    }
}

static void test_pool__runs_jobs_in_order(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    struct jobset *s = malloc(sizeof *s);
    jobset_init(s);
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 2, NULL));
    CU_ASSERT_EQUAL(ssp_pool_size(p), 2);
    /* two live worker processes, one pid each; no worker 2 */
    CU_ASSERT(ssp_pool_worker_pid(p, 0) > 0 && kill(ssp_pool_worker_pid(p, 0), 0) == 0);
    CU_ASSERT(ssp_pool_worker_pid(p, 1) > 0 && ssp_pool_worker_pid(p, 1) != ssp_pool_worker_pid(p, 0));
    CU_ASSERT_EQUAL(ssp_pool_worker_pid(p, 2), 0);
    CU_ASSERT_EQUAL(ssp_pool_worker_pid(p, -1), 0);
    SSP_ASSERT_OK(ctx, ssp_pool_run(p, s->jobs, NJOBS, s->res));
    for (int i = 0; i < NJOBS; i++) {
        CU_ASSERT_EQUAL(s->res[i].status, SSP_OK);
        CU_ASSERT_EQUAL(s->res[i].nrows, 1);
        CU_ASSERT(ssp_close_rel(s->res[i].values[0], (i + 1) / 2.0, TOL_REL, 0));
    }
    jobset_free(s);
    free(s);
    ssp_pool_destroy(&p);
    CU_ASSERT_PTR_NULL(p);
}

static void test_pool__survives_killed_worker(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    struct jobset *s = malloc(sizeof *s);
    struct killer k = {5, 0, 0};
    jobset_init(s);
    make_slow(s, 5);
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 2, NULL));
    ssp_pool_set_hook(p, kill_hook, &k);
    SSP_ASSERT_OK(ctx, ssp_pool_run(p, s->jobs, NJOBS, s->res));
    CU_ASSERT_EQUAL(k.kills, 1);
    CU_ASSERT_EQUAL(ssp_pool_restarts(p), 1);
    for (int i = 0; i < NJOBS; i++) {
        CU_ASSERT_EQUAL(s->res[i].status, SSP_OK);
        if (s->res[i].values) CU_ASSERT(ssp_close_rel(job_value(s, (size_t)i), (i + 1) / 2.0, TOL_REL, 0));
    }
    jobset_free(s);
    free(s);
    ssp_pool_destroy(&p);
}

static void test_pool__job_killing_worker_twice_fails(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    struct jobset *s = malloc(sizeof *s);
    struct killer k = {3, 1, 0};
    jobset_init(s);
    make_slow(s, 3);
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 2, NULL));
    ssp_pool_set_hook(p, kill_hook, &k);
    CU_ASSERT_EQUAL(ssp_pool_run(p, s->jobs, NJOBS, s->res), SSP_EWORKER);
    CU_ASSERT_EQUAL(k.kills, 2);
    CU_ASSERT_EQUAL(s->res[3].status, SSP_EWORKER);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "job 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "signal 9"));
    for (int i = 0; i < NJOBS; i++)
        if (i != 3) CU_ASSERT_EQUAL(s->res[i].status, SSP_OK);
    jobset_free(s);
    free(s);
    ssp_pool_destroy(&p);
}

static void test_pool__simulation_error_passed_through(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    ssp_job jobs[2] = {{0}, {0}};
    ssp_job_result res[2];
    jobs[0].kind = SSP_JOB_OP;
    jobs[0].netlist = "good\nv1 in 0 dc 2\nr1 in out 1k\nr2 out 0 1k\n";
    jobs[0].out_names = OUT_V;
    jobs[0].nout = 1;
    jobs[1] = jobs[0];
    jobs[1].netlist = "floating\nv1 in 0 dc 2\nr1 in out 1k\nr2 a b 1k\n";
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 1, NULL));
    CU_ASSERT_EQUAL(ssp_pool_run(p, jobs, 2, res), SSP_ESINGULAR);
    CU_ASSERT_EQUAL(res[0].status, SSP_OK);
    CU_ASSERT_EQUAL(res[1].status, SSP_ESINGULAR);
    CU_ASSERT_PTR_NOT_NULL(res[1].errmsg && strstr(res[1].errmsg, "singular"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "job 1"));
    ssp_job_result_free(&res[0]);
    ssp_job_result_free(&res[1]);
    ssp_pool_destroy(&p);
}

static void test_pool__stream_and_tran_jobs(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    const char *src[] = {"vin"}, *outs[] = {"time", "v(out)"};
    const double in[4] = {0.1, 0.2, 0.4, 0.8};
    ssp_job jobs[2] = {{0}, {0}};
    ssp_job_result res[2];
    jobs[0].kind = SSP_JOB_STREAM;
    jobs[0].netlist = "stream\nvin in 0 dc 0 external\nr1 in out 1k\nr2 out 0 3k\n";
    jobs[0].src_names = src;
    jobs[0].nsrc = 1;
    jobs[0].inputs = in;
    jobs[0].k = 4;
    jobs[0].out_names = OUT_V;
    jobs[0].nout = 1;
    jobs[1].kind = SSP_JOB_TRAN;
    jobs[1].netlist = "rc\nv1 in 0 dc 1\nr1 in out 1k\nc1 out 0 1n ic=0\n";
    jobs[1].tstep = 1e-7;
    jobs[1].tstop = 5e-6;
    jobs[1].tmax = 1e-8;
    jobs[1].uic = 1;
    jobs[1].out_names = outs;
    jobs[1].nout = 2;
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 2, NULL));
    SSP_ASSERT_OK(ctx, ssp_pool_run(p, jobs, 2, res));
    CU_ASSERT_EQUAL_FATAL(res[0].nrows, 4);
    for (int i = 0; i < 4; i++) CU_ASSERT(ssp_close_rel(res[0].values[i], 0.75 * in[i], TOL_REL, 0));
    CU_ASSERT_FATAL(res[1].nrows > 10);
    {
        size_t last = res[1].nrows - 1;
        double t = res[1].values[last * 2], v = res[1].values[last * 2 + 1];
        CU_ASSERT(ssp_close_rel(t, 5e-6, 1e-9, 0));
        /* RC = 1 us: after 5 tau the capacitor is within 1 % of the source */
        CU_ASSERT(fabs(v - (1 - exp(-5.0))) < 1e-3);
    }
    ssp_job_result_free(&res[0]);
    ssp_job_result_free(&res[1]);
    ssp_pool_destroy(&p);
}

static void test_pool__bad_worker_path_fails(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    CU_ASSERT_EQUAL(ssp_pool_create(&p, ctx, 2, "/nonexistent/siamspice-worker"), SSP_EWORKER);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(ssp_pool_create(&p, ctx, 0, NULL), SSP_EINVAL);
    ssp_pool_destroy(&p);
}

SSP_TEST_SUITE(pool)
{
    SSP_ADD_SUITE("pool", NULL, NULL,
                  SSP_TEST(test_pool__runs_jobs_in_order),
                  SSP_TEST(test_pool__survives_killed_worker),
                  SSP_TEST(test_pool__job_killing_worker_twice_fails),
                  SSP_TEST(test_pool__simulation_error_passed_through),
                  SSP_TEST(test_pool__stream_and_tran_jobs),
                  SSP_TEST(test_pool__bad_worker_path_fails));
}
