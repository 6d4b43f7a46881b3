/* test_pool_mpi.c — the pool's MPI transport (plugin/ssp_pool_mpi.c).
 *
 * Under `mpirun -np 3 run_tests pool_mpi` (make test-mpi): the same
 * simulation jobs (operating points, streams, a transient, a singular
 * circuit) and handler jobs run on MPI ranks and on local workers, and the
 * results agree bit for bit, errors and messages included; the handler jobs
 * ran in other processes than rank 0; while the MPI pool lives, another
 * pool gets local workers. Without mpirun (make test): asking for the MPI
 * transport fails with a message that says why, and the automatic choice is
 * local. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_pool.h"
#include "ssp_test.h"

enum { NOP = 12, NSTREAM = 4, NJOBS = NOP + NSTREAM + 4, K = 5 };

static const char *const OUT_V[] = {"v(out)"};
static const char *const OUT_TV[] = {"time", "v(out)"};
static const char *const SRC[] = {"vin"};

struct jobs {
    char net[NJOBS][256];
    double in[NSTREAM][K];
    ssp_job j[NJOBS];
};

/* Dividers and streams with irrational-looking ratios, so that the bits of
 * the results carry information; one transient, one singular circuit and
 * two handler jobs. */
static void make_jobs(struct jobs *s)
{
    int n = 0;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < NOP; i++, n++) {
        snprintf(s->net[n], sizeof s->net[n], "div %d\nv1 in 0 dc %.17g\nr1 in out %.17gk\nr2 out 0 3.3k\n.end\n", i,
                 0.1 + i / 7.0, 1.0 + i / 3.0);
        s->j[n].kind = SSP_JOB_OP;
        s->j[n].netlist = s->net[n];
        s->j[n].out_names = OUT_V;
        s->j[n].nout = 1;
    }
    for (int i = 0; i < NSTREAM; i++, n++) {
        snprintf(s->net[n], sizeof s->net[n], "stream %d\nvin in 0 dc 0 external\nr1 in out %.17gk\nr2 out 0 1.7k\n", i,
                 0.5 + i / 9.0);
        for (int k = 0; k < K; k++) s->in[i][k] = 0.05 * (k + 1) + i / 11.0;
        s->j[n].kind = SSP_JOB_STREAM;
        s->j[n].netlist = s->net[n];
        s->j[n].src_names = SRC;
        s->j[n].nsrc = 1;
        s->j[n].inputs = s->in[i];
        s->j[n].k = K;
        s->j[n].out_names = OUT_V;
        s->j[n].nout = 1;
    }
    snprintf(s->net[n], sizeof s->net[n], "rc\nv1 in 0 dc 1\nr1 in out 1k\nc1 out 0 1n ic=0\n");
    s->j[n].kind = SSP_JOB_TRAN;
    s->j[n].netlist = s->net[n];
    s->j[n].tstep = 1e-7;
    s->j[n].tstop = 3e-6;
    s->j[n].tmax = 1e-8;
    s->j[n].uic = 1;
    s->j[n].out_names = OUT_TV;
    s->j[n].nout = 2;
    n++;
    snprintf(s->net[n], sizeof s->net[n], "floating\nv1 in 0 dc 2\nr1 in out 1k\nr2 a b 1k\n");
    s->j[n].kind = SSP_JOB_OP;
    s->j[n].netlist = s->net[n];
    s->j[n].out_names = OUT_V;
    s->j[n].nout = 1;
    n++;
    s->j[n].kind = SSP_JOB_CALL;
    s->j[n].handler = "reverse";
    s->j[n].payload = "bytes over the pool";
    s->j[n].npayload = strlen("bytes over the pool");
    n++;
    s->j[n].kind = SSP_JOB_CALL;
    s->j[n].handler = "reverse";
    s->j[n].payload = "fail on purpose";
    s->j[n].npayload = strlen("fail on purpose");
}

static void free_results(ssp_job_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++) ssp_job_result_free(&r[i]);
}

static int run_on(ssp_pool *p, const struct jobs *s, ssp_job_result *res)
{
    return ssp_pool_run(p, s->j, NJOBS, res);
}

static void test_pool_mpi__same_bits_as_local_workers(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *mpi = NULL, *local = NULL;
    struct jobs *s = malloc(sizeof *s);
    ssp_job_result *a = calloc(NJOBS, sizeof *a), *b = calloc(NJOBS, sizeof *b);
    ssp_pool_opts om = {SSP_POOL_MPI, 0, NULL, NULL};
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ssp_pool_opts ol = {SSP_POOL_LOCAL, 2, self, "--pool-worker"};
    CU_ASSERT_FATAL(s && a && b && len > 0);
    self[len] = '\0';
    make_jobs(s);
    if (!ssp_test_under_mpi()) {
        /* make test: no ranks; the message says why, AUTO picks local */
        int rc = ssp_pool_create_opts(&mpi, ctx, &om);
        CU_ASSERT_EQUAL(rc, SSP_EWORKER);
        CU_ASSERT_PTR_NULL(mpi);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), ssp_pool_mpi_built() ? "not started by mpirun"
                                                                                  : "this build has no MPI"));
        SSP_ASSERT_OK(ctx, ssp_pool_create(&local, ctx, 1, NULL));
        CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(local), "local");
        ssp_pool_destroy(&local);
        free(s), free(a), free(b);
        return;
    }
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&mpi, ctx, &om));
    CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(mpi), "mpi");
    CU_ASSERT(ssp_pool_size(mpi) >= 1);
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&local, ctx, &ol));
    CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(local), "local");
    /* both runs fail on the same two jobs: the singular circuit first */
    CU_ASSERT_EQUAL(run_on(mpi, s, a), SSP_ESINGULAR);
    CU_ASSERT_EQUAL(run_on(local, s, b), SSP_ESINGULAR);
    for (int i = 0; i < NJOBS; i++) {
        CU_ASSERT_EQUAL(a[i].status, b[i].status);
        CU_ASSERT_EQUAL(a[i].nrows, b[i].nrows);
        CU_ASSERT_EQUAL(a[i].nout, b[i].nout);
        CU_ASSERT_EQUAL(a[i].ndata, b[i].ndata);
        if (a[i].status == SSP_OK && a[i].nrows == b[i].nrows && a[i].nout == b[i].nout && a[i].values)
            CU_ASSERT(memcmp(a[i].values, b[i].values, a[i].nrows * a[i].nout * sizeof(double)) == 0);
        if (a[i].ndata && a[i].ndata == b[i].ndata) CU_ASSERT(memcmp(a[i].data, b[i].data, a[i].ndata) == 0);
        CU_ASSERT_STRING_EQUAL(a[i].errmsg ? a[i].errmsg : "", b[i].errmsg ? b[i].errmsg : "");
    }
    CU_ASSERT_EQUAL(a[NOP].nrows, K);
    CU_ASSERT(a[NOP + NSTREAM].nrows > 10);
    CU_ASSERT_EQUAL(a[NJOBS - 3].status, SSP_ESINGULAR);
    CU_ASSERT_EQUAL(a[NJOBS - 1].status, SSP_ERANGE);
    CU_ASSERT(a[NJOBS - 2].ndata == 19 && a[NJOBS - 2].data && memcmp(a[NJOBS - 2].data, "loop eht revo setyb", 19) == 0);
    free_results(a, NJOBS);
    free_results(b, NJOBS);
    ssp_pool_destroy(&local);
    ssp_pool_destroy(&mpi);
    free(s), free(a), free(b);
}

static void test_pool_mpi__jobs_run_on_other_ranks(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *mpi = NULL, *second = NULL;
    ssp_pool_opts om = {SSP_POOL_MPI, 0, NULL, NULL};
    enum { N = 8 };
    ssp_job jobs[N];
    ssp_job_result res[N];
    pid_t me = getpid();
    if (!ssp_test_under_mpi()) {
        /* make test: with no ranks to hold, AUTO twice gives local twice */
        SSP_ASSERT_OK(ctx, ssp_pool_create(&mpi, ctx, 1, NULL));
        SSP_ASSERT_OK(ctx, ssp_pool_create(&second, ctx, 1, NULL));
        CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(second), "local");
        ssp_pool_destroy(&second);
        ssp_pool_destroy(&mpi);
        return;
    }
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].kind = SSP_JOB_CALL;
        jobs[i].handler = "pid";
    }
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&mpi, ctx, &om));
    /* the ranks are taken: an automatic pool now gets local workers, and an
     * explicit MPI one is refused */
    SSP_ASSERT_OK(ctx, ssp_pool_create(&second, ctx, 1, NULL));
    CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(second), "local");
    ssp_pool_destroy(&second);
    CU_ASSERT_EQUAL(ssp_pool_create_opts(&second, ctx, &om), SSP_EWORKER);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "another pool holds the ranks"));
    SSP_ASSERT_OK(ctx, ssp_pool_run(mpi, jobs, N, res));
    for (int i = 0; i < N; i++) {
        pid_t pid = 0;
        CU_ASSERT_EQUAL_FATAL(res[i].ndata, sizeof pid);
        memcpy(&pid, res[i].data, sizeof pid);
        CU_ASSERT(pid != me && pid > 0);
        ssp_job_result_free(&res[i]);
    }
    ssp_pool_destroy(&mpi);
    /* released: the next automatic pool is MPI again */
    SSP_ASSERT_OK(ctx, ssp_pool_create(&mpi, ctx, 1, NULL));
    CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(mpi), "mpi");
    ssp_pool_destroy(&mpi);
}

SSP_TEST_SUITE(pool_mpi)
{
    SSP_ADD_SUITE("pool_mpi", NULL, NULL,
                  SSP_TEST(test_pool_mpi__same_bits_as_local_workers),
                  SSP_TEST(test_pool_mpi__jobs_run_on_other_ranks));
}
