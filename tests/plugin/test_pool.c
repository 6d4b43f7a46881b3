/* test_pool.c — the worker pool (plugin/ssp_pool.c): results in job order,
 * a SIGKILLed worker replaced and its job retried, a job that keeps killing
 * its worker failed with a clear error, simulation errors passed through,
 * handler jobs (SSP_JOB_CALL) answered by the handlers the serving process
 * registered (the test runner itself serves as the worker), an unknown
 * handler and a failing one reported. Also defines those test handlers. */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_hwprog.h"
#include "ssp_pool.h"
#include "ssp_test.h"

static const double TOL_REL = 1e-12;

/* ---- the test handlers ---------------------------------------------- */

/* "reverse": reply the payload's bytes in reverse order; a payload that
 * starts with "fail" fails with SSP_ERANGE and a message naming it. */
static int reverse_handler(ssp_ctx *ctx, const unsigned char *in, size_t nin, unsigned char **out, size_t *nout,
                           void *payload)
{
    (void)payload;
    if (nin >= 4 && memcmp(in, "fail", 4) == 0)
        return ssp_error(ctx, SSP_ERANGE, "reverse: asked to fail (%zu bytes)", nin);
    *out = malloc(nin ? nin : 1);
    if (!*out) return ssp_error(ctx, SSP_ENOMEM, "reverse: out of memory");
    for (size_t i = 0; i < nin; i++) (*out)[i] = in[nin - 1 - i];
    *nout = nin;
    return SSP_OK;
}

/* "pid": reply the serving process's pid (tells which process ran it). */
static int pid_handler(ssp_ctx *ctx, const unsigned char *in, size_t nin, unsigned char **out, size_t *nout,
                       void *payload)
{
    pid_t me = getpid();
    (void)ctx, (void)in, (void)nin, (void)payload;
    *out = malloc(sizeof me);
    if (!*out) return ssp_error(ctx, SSP_ENOMEM, "pid: out of memory");
    memcpy(*out, &me, sizeof me);
    *nout = sizeof me;
    return SSP_OK;
}

static const ssp_pool_handler TEST_HANDLERS[] = {
    {"reverse", reverse_handler, NULL}, {"pid", pid_handler, NULL}, {SSP_HWPROG_HANDLER, ssp_hwprog_tile_handler, NULL}};

const ssp_pool_handler *ssp_test_pool_handlers(size_t *n)
{
    *n = sizeof TEST_HANDLERS / sizeof TEST_HANDLERS[0];
    return TEST_HANDLERS;
}

int ssp_test_runner_pool(ssp_pool **p, ssp_ctx *ctx, int n)
{
    static char self[PATH_MAX]; /* test-only: the runner's own path */
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ssp_pool_opts o = {SSP_POOL_LOCAL, n, self, "--pool-worker"};
    if (len <= 0) return SSP_EIO;
    self[len] = '\0';
    return ssp_pool_create_opts(p, ctx, &o);
}

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

static void count_result(size_t job, const ssp_job_result *r, void *payload)
{
    int *seen = payload;
    if (r->status == SSP_OK) seen[job]++;
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

static void test_pool__call_jobs_reach_registered_handlers(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    enum { N = 6 };
    char text[N][32];
    ssp_job jobs[N];
    ssp_job_result res[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "job %d payload", i);
        jobs[i].kind = SSP_JOB_CALL;
        jobs[i].handler = "reverse";
        jobs[i].payload = text[i];
        jobs[i].npayload = strlen(text[i]);
    }
    jobs[4].handler = "pid";
    SSP_ASSERT_OK(ctx, ssp_test_runner_pool(&p, ctx, 2));
    CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(p), "local");
    SSP_ASSERT_OK(ctx, ssp_pool_run(p, jobs, N, res));
    for (int i = 0; i < N; i++) {
        size_t n = strlen(text[i]);
        CU_ASSERT_EQUAL(res[i].status, SSP_OK);
        if (i == 4) {
            pid_t pid;
            CU_ASSERT_EQUAL_FATAL(res[i].ndata, sizeof pid);
            memcpy(&pid, res[i].data, sizeof pid);
            CU_ASSERT(pid == ssp_pool_worker_pid(p, 0) || pid == ssp_pool_worker_pid(p, 1));
            CU_ASSERT(pid != getpid());
            continue;
        }
        CU_ASSERT_EQUAL_FATAL(res[i].ndata, n);
        for (size_t k = 0; k < n; k++) CU_ASSERT_EQUAL(res[i].data[k], (unsigned char)text[i][n - 1 - k]);
    }
    for (int i = 0; i < N; i++) ssp_job_result_free(&res[i]);
    ssp_pool_destroy(&p);
}

static void test_pool__call_job_errors_reported(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    ssp_job jobs[3];
    ssp_job_result res[3];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 3; i++) jobs[i].kind = SSP_JOB_CALL;
    jobs[0].handler = "reverse";
    jobs[0].payload = "fail now";
    jobs[0].npayload = 8;
    jobs[1].handler = "no_such_handler";
    jobs[2].handler = "reverse";
    jobs[2].payload = "ok";
    jobs[2].npayload = 2;
    SSP_ASSERT_OK(ctx, ssp_test_runner_pool(&p, ctx, 1));
    CU_ASSERT_EQUAL(ssp_pool_run(p, jobs, 3, res), SSP_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "job 0"));
    CU_ASSERT_EQUAL(res[0].status, SSP_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(res[0].errmsg && strstr(res[0].errmsg, "asked to fail (8 bytes)"));
    CU_ASSERT_EQUAL(res[1].status, SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(res[1].errmsg && strstr(res[1].errmsg, "no handler 'no_such_handler'"));
    CU_ASSERT_EQUAL(res[2].status, SSP_OK);
    CU_ASSERT(res[2].ndata == 2 && res[2].data && memcmp(res[2].data, "ko", 2) == 0);
    for (int i = 0; i < 3; i++) ssp_job_result_free(&res[i]);
    ssp_pool_destroy(&p);
    /* siamspice-worker registers no handler at all */
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 1, NULL));
    CU_ASSERT_EQUAL(ssp_pool_run(p, &jobs[2], 1, res), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(res[0].errmsg && strstr(res[0].errmsg, "no handler 'reverse'"));
    ssp_job_result_free(&res[0]);
    ssp_pool_destroy(&p);
}

static void test_pool__result_hook_sees_every_job_once(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *p = NULL;
    struct jobset *s = malloc(sizeof *s);
    int seen[NJOBS] = {0};
    jobset_init(s);
    SSP_ASSERT_OK(ctx, ssp_pool_create(&p, ctx, 2, NULL));
    ssp_pool_set_result_hook(p, count_result, seen);
    SSP_ASSERT_OK(ctx, ssp_pool_run(p, s->jobs, NJOBS, s->res));
    for (int i = 0; i < NJOBS; i++) CU_ASSERT_EQUAL(seen[i], 1);
    jobset_free(s);
    free(s);
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
                  SSP_TEST(test_pool__bad_worker_path_fails),
                  SSP_TEST(test_pool__call_jobs_reach_registered_handlers),
                  SSP_TEST(test_pool__call_job_errors_reported),
                  SSP_TEST(test_pool__result_hook_sees_every_job_once));
}
