/* test_pool_mpi.c — the pool's MPI transport (plugin/ssp_pool_mpi.c).
 *
 * Under `mpirun -np 3 run_tests pool_mpi` (make test-mpi): the same
 * simulation jobs (operating points, streams, a transient, a singular
 * circuit) and handler jobs run on MPI ranks and on local workers, and the
 * results agree bit for bit, errors and messages included; the handler jobs
 * ran in other processes than rank 0; while the MPI pool lives, another
 * pool gets local workers. Held circuits (circuit keys, alter commands,
 * affinity, SSP_JOB_STREAM and SSP_JOB_OPS) give the same bits on ranks as
 * on local workers and are reused as often, and a new MPI pool never reuses
 * a circuit an earlier pool left on a rank. Without mpirun (make test):
 * asking for the MPI transport fails with a message that says why, and the
 * automatic choice is local. */
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

/* ---- held circuits ------------------------------------------------- */

enum { NCIRC = 4, HK = 3 };
static const char *const SRC_IN[] = {"vin"};

struct held_jobs {
    char net[NCIRC][256];
    char cmd[NCIRC][64];
    const char *cmds[NCIRC][1];
    double in[NCIRC][HK];
    ssp_job j[NCIRC];
};

/* Circuit t at version `state`: a divider r1 = 1k + t * 0.37k + (state - 1)
 * * 0.51k over r2 = 2.2k, its source streamed (even t) or altered per
 * vector as operating points (odd t). From version base = state - 1 the
 * command alters r1 to the same value. */
static double r1_of(int t, unsigned long state) { return 1e3 + t * 370.0 + (double)(state - 1) * 510.0; }

static void held_batch(struct held_jobs *h, const unsigned long *key, unsigned long base, unsigned long state)
{
    memset(h->j, 0, sizeof h->j);
    for (int t = 0; t < NCIRC; t++) {
        snprintf(h->net[t], sizeof h->net[t], "held %d\nvin in 0 dc 0 external\nr1 in out %.17g\nr2 out 0 2.2k\n", t,
                 r1_of(t, state));
        snprintf(h->cmd[t], sizeof h->cmd[t], "alter r1 = %.17g", r1_of(t, state));
        h->cmds[t][0] = h->cmd[t];
        for (int k = 0; k < HK; k++) h->in[t][k] = 0.1 + 0.2 * k + t / 13.0;
        h->j[t].kind = t % 2 ? SSP_JOB_OPS : SSP_JOB_STREAM;
        h->j[t].netlist = h->net[t];
        h->j[t].src_names = SRC_IN;
        h->j[t].nsrc = 1;
        h->j[t].inputs = h->in[t];
        h->j[t].k = HK;
        h->j[t].out_names = OUT_V;
        h->j[t].nout = 1;
        h->j[t].circuit = key[t];
        h->j[t].base = base;
        h->j[t].state = state;
        h->j[t].commands = h->cmds[t];
        h->j[t].ncommands = base ? 1 : 0;
        h->j[t].affinity = 1 + (unsigned long)t;
    }
}

/* Tiles programmed as pool jobs on the MPI ranks: the same bits as on
 * threads in this process, errors included (ssp_test_hwprog_pool_alike).
 * Under make test the hwprog suite runs the same on local workers. */
static void test_pool_mpi__tiles_programmed_on_ranks(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *mpi = NULL;
    ssp_pool_opts om = {SSP_POOL_MPI, 0, NULL, NULL};
    if (!ssp_test_under_mpi()) return; /* test_hwprog__pool_programs_alike covers local workers */
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&mpi, ctx, &om));
    CU_ASSERT_STRING_EQUAL(ssp_pool_transport_name(mpi), "mpi");
    ssp_test_hwprog_pool_alike(mpi);
    ssp_pool_destroy(&mpi);
}

/* Run one batch; every output is the divider of its version (1e-9 V). */
static void run_held(ssp_pool *p, struct held_jobs *h, unsigned long state, double out[NCIRC][HK])
{
    ssp_job_result r[NCIRC];
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_pool_run(p, h->j, NCIRC, r));
    for (int t = 0; t < NCIRC; t++) {
        CU_ASSERT_EQUAL_FATAL(r[t].nrows, HK);
        for (int k = 0; k < HK; k++) {
            out[t][k] = r[t].values[k];
            CU_ASSERT_DOUBLE_EQUAL(out[t][k], h->in[t][k] * 2.2e3 / (2.2e3 + r1_of(t, state)), 1e-9);
        }
        ssp_job_result_free(&r[t]);
    }
}

static void test_pool_mpi__held_circuits_same_as_local(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_pool *pool[2] = {NULL, NULL};
    ssp_pool_opts om = {SSP_POOL_MPI, 0, NULL, NULL}, ol = {SSP_POOL_LOCAL, 2, NULL, NULL};
    struct held_jobs *h = malloc(sizeof *h);
    static double out[2][3][NCIRC][HK];
    unsigned long key[2][NCIRC];
    CU_ASSERT_FATAL(h != NULL);
    if (!ssp_test_under_mpi()) {
        free(h);
        return; /* test_pool__* covers local workers; this compares transports */
    }
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&pool[0], ctx, &om));
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&pool[1], ctx, &ol));
    for (int m = 0; m < 2; m++) {
        for (int t = 0; t < NCIRC; t++) key[m][t] = ssp_pool_new_key(pool[m]);
        held_batch(h, key[m], 0, 1); /* load */
        run_held(pool[m], h, 1, out[m][0]);
        held_batch(h, key[m], 1, 2); /* alter */
        run_held(pool[m], h, 2, out[m][1]);
        held_batch(h, key[m], 2, 2); /* as held */
        run_held(pool[m], h, 2, out[m][2]);
        CU_ASSERT_EQUAL(ssp_pool_loads(pool[m]), NCIRC);
        CU_ASSERT_EQUAL(ssp_pool_reuses(pool[m]), 2 * NCIRC);
        /* affinity: each worker answered its own tiles only */
        for (int w = 0; w < ssp_pool_size(pool[m]); w++) {
            unsigned long mine = 0;
            for (int t = 0; t < NCIRC; t++) mine += (unsigned long)(t % ssp_pool_size(pool[m]) == w);
            CU_ASSERT_EQUAL(ssp_pool_worker_jobs(pool[m], w), 3 * mine);
        }
    }
    CU_ASSERT_EQUAL(memcmp(out[0], out[1], sizeof out[0]), 0);
    /* the ranks still hold keys 1..4 at version 2; a new MPI pool hands out
     * key 1 again for another circuit at "version 2": it must be parsed */
    ssp_pool_destroy(&pool[0]);
    SSP_ASSERT_OK(ctx, ssp_pool_create_opts(&pool[0], ctx, &om));
    for (int t = 0; t < NCIRC; t++) key[0][t] = ssp_pool_new_key(pool[0]);
    CU_ASSERT_EQUAL(key[0][0], 1);
    held_batch(h, key[0], 0, 3);
    for (int t = 0; t < NCIRC; t++) h->j[t].state = 2; /* netlists of version 3, labelled 2 */
    {
        ssp_job_result r[NCIRC];
        SSP_ASSERT_OK(ctx, ssp_pool_run(pool[0], h->j, NCIRC, r));
        for (int t = 0; t < NCIRC; t++) {
            CU_ASSERT_DOUBLE_EQUAL(r[t].values[0], h->in[t][0] * 2.2e3 / (2.2e3 + r1_of(t, 3)), 1e-9);
            ssp_job_result_free(&r[t]);
        }
    }
    CU_ASSERT_EQUAL(ssp_pool_reuses(pool[0]), 0);
    CU_ASSERT_EQUAL(ssp_pool_loads(pool[0]), NCIRC);
    ssp_pool_destroy(&pool[1]);
    ssp_pool_destroy(&pool[0]);
    free(h);
}

SSP_TEST_SUITE(pool_mpi)
{
    SSP_ADD_SUITE("pool_mpi", NULL, NULL,
                  SSP_TEST(test_pool_mpi__same_bits_as_local_workers),
                  SSP_TEST(test_pool_mpi__jobs_run_on_other_ranks),
                  SSP_TEST(test_pool_mpi__held_circuits_same_as_local),
                  SSP_TEST(test_pool_mpi__tiles_programmed_on_ranks));
}
