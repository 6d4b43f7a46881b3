/* test_spice.c — the ngspice session (plugin/ssp_spice.c).
 *
 * Ground truth here is independent of ngspice: the crossbar's nodal
 * equations are written out in this file and solved densely with GSL's LU.
 * Every failure class ngspice reports only as text is provoked and must come
 * back as its code, with the session usable afterwards. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_rng.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_xbar.h"
#include "ssp_file.h"
#include "ssp_spice.h"
#include "ssp_test.h"

/* Agreement required between ngspice and the dense solve (relative). */
static const double TOL_REL = 1e-9;
/* Currents below this are compared absolutely (A). */
static const double TOL_FLOOR_A = 1e-15;
/* Allowed resident-memory growth over the load/run/remove cycles (bytes). */
static const long RSS_GROWTH_MAX = 5L * 1024 * 1024;

static ssp_spice *g_spice; /* one session for the suite (one image per process) */

static int suite_init(void)
{
    gsl_set_error_handler_off();
    return ssp_spice_create(&g_spice, ssp_test_ctx(), NULL) == SSP_OK ? 0 : -1;
}

static int suite_clean(void)
{
    ssp_spice_destroy(&g_spice);
    return 0;
}

static void test_spice__reports_version_and_klu(void)
{
    CU_ASSERT(ssp_spice_version(g_spice) >= 42);
    CU_ASSERT_STRING_EQUAL(ssp_spice_solver(g_spice), "klu");
}

static void test_spice__op_resistor_divider(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"divider", "v1 in 0 dc 3", "r1 in out 1k", "r2 out 0 2k", ".end"};
    double v;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(v, 2.0, TOL_REL, 0));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_spice_output(g_spice), "Using KLU"));
    ssp_spice_unload(g_spice);
}

static void test_spice__op_crossbar_matches_dense_solve(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    struct xbar x;
    struct lines l = {0};
    double vin[16], ref[16], got;
    char name[32];
    size_t j;
    xbar_random(&x, 16, 16, 7);
    for (j = 0; j < 16; j++) vin[j] = 0.05 + 0.01 * (double)j;
    xbar_netlist(&x, vin, 0, &l);
    CU_ASSERT_EQUAL_FATAL(xbar_dense(&x, vin, ref), 0);
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, (const char *const *)l.v, l.n));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    for (j = 0; j < 16; j++) {
        snprintf(name, sizeof name, "i(vs%zu)", j);
        SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, name, &got));
        CU_ASSERT(ssp_close_rel(got, ref[j], TOL_REL, TOL_FLOOR_A));
    }
    ssp_spice_unload(g_spice);
    lines_free(&l);
    free(x.g);
}

static void test_spice__stream_equals_separate_ops(void)
{
    enum { K = 50, N = 16 };
    ssp_ctx *ctx = ssp_test_ctx();
    struct xbar x;
    struct lines l = {0};
    double *in = malloc(K * N * sizeof *in), *out = malloc(K * N * sizeof *out), v;
    char *src[N], *outn[N], cmd[128];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    size_t i, j, k;
    gsl_rng_set(r, 11);
    xbar_random(&x, N, N, 3);
    for (i = 0; i < K * N; i++) in[i] = 0.2 * gsl_rng_uniform(r);
    for (j = 0; j < N; j++) {
        src[j] = malloc(16);
        outn[j] = malloc(16);
        snprintf(src[j], 16, "vr%zu", j);
        snprintf(outn[j], 16, "i(vs%zu)", j);
    }
    xbar_netlist(&x, NULL, 1, &l);
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, (const char *const *)l.v, l.n));
    SSP_ASSERT_OK(ctx, ssp_spice_stream(g_spice, (const char *const *)src, N, in, K,
                                        (const char *const *)outn, N, out));
    lines_free(&l);
    /* the same vectors one op at a time, on a netlist with DC sources */
    xbar_netlist(&x, in, 0, &l);
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, (const char *const *)l.v, l.n));
    for (k = 0; k < K; k++) {
        for (i = 0; i < N; i++) {
            snprintf(cmd, sizeof cmd, "alter vr%zu dc = %.17g", i, in[k * N + i]);
            SSP_ASSERT_OK(ctx, ssp_spice_command(g_spice, cmd));
        }
        SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
        for (j = 0; j < N; j++) {
            SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, outn[j], &v));
            CU_ASSERT(ssp_close_rel(out[k * N + j], v, TOL_REL, TOL_FLOOR_A));
        }
        ssp_spice_command(g_spice, "destroy all");
    }
    ssp_spice_unload(g_spice);
    for (j = 0; j < N; j++) {
        free(src[j]);
        free(outn[j]);
    }
    lines_free(&l);
    gsl_rng_free(r);
    free(x.g);
    free(in);
    free(out);
}

static void test_spice__stream_single_vector(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"one", "vin in 0 dc 0 external", "r1 in out 1k", "r2 out 0 1k",
                         ".save v(out)", ".end"};
    const char *src[] = {"vin"}, *outn[] = {"v(out)"};
    double in = 0.8, out = 0;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 6));
    SSP_ASSERT_OK(ctx, ssp_spice_stream(g_spice, src, 1, &in, 1, outn, 1, &out));
    CU_ASSERT(ssp_close_rel(out, 0.4, TOL_REL, 0));
    ssp_spice_unload(g_spice);
}

static void test_spice__tran_reaches_tstop(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"rc", "v1 in 0 dc 1", "r1 in out 1k", "c1 out 0 1n ic=0", ".end"};
    double t, v;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 1e-7, 5e-6, 1e-8, 1));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "time", &t));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(t, 5e-6, 1e-9, 0));
    /* RC = 1 us, 5 time constants; trapezoidal integration error < 1e-3 */
    CU_ASSERT(fabs(v - (1.0 - exp(-5.0))) < 1e-3);
    ssp_spice_unload(g_spice);
}

/* What a progress sink saw. */
struct seen {
    size_t calls, last, total;
    int monotone, label_ok;
    const char *want;
};

static void note_progress(const char *what, size_t done, size_t total, void *payload)
{
    struct seen *p = payload;
    if (p->calls && done < p->last) p->monotone = 0;
    if (strcmp(what, p->want) != 0) p->label_ok = 0;
    p->calls++;
    p->last = done;
    p->total = total;
}

/* ngspice's percentages of a long transient reach the context's progress
 * sink under the label given, rising, in permille; none once it is unset. */
static void test_spice__tran_reports_progress(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"rc", "v1 in 0 sin(0 1 1meg)", "r1 in out 1k", "c1 out 0 1n ic=0", ".end"};
    double tstop = ssp_test_instrumented() ? 2e-5 : 1e-3; /* about 1 s here */
    struct seen seen = {0, 0, 0, 1, 1, "tile 7 in ngspice, analysis 1"};
    size_t calls;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    ssp_ctx_set_progress(ctx, note_progress, &seen);
    ssp_spice_set_progress(g_spice, "tile 7 in ngspice");
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 1e-9, tstop, 1e-9, 1));
    CU_ASSERT(seen.calls >= 1);
    CU_ASSERT(seen.monotone);
    CU_ASSERT(seen.label_ok);
    CU_ASSERT_EQUAL(seen.total, 1000);
    CU_ASSERT(seen.last <= 1000);
    /* a second analysis counts from 0 again, under its number */
    seen.calls = 0;
    seen.want = "tile 7 in ngspice, analysis 2";
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 1e-9, tstop, 1e-9, 1));
    CU_ASSERT(seen.calls >= 1);
    CU_ASSERT(seen.monotone && seen.label_ok);
    /* unset: the same run reports nothing */
    calls = seen.calls;
    ssp_spice_set_progress(g_spice, NULL);
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 1e-9, tstop, 1e-9, 1));
    CU_ASSERT_EQUAL(seen.calls, calls);
    ssp_ctx_set_progress(ctx, NULL, NULL);
    ssp_spice_unload(g_spice);
}

/* A ramp of 1 V/us for an external source (ssp_spice_set_external). */
static int ramp_vsrc(double t, const char *name, double *value, void *payload)
{
    int *calls = payload;
    (*calls)++;
    *value = strcmp(name, "vext") == 0 ? t * 1e6 : 0.0;
    return 0;
}

static void test_spice__external_source_follows_callback(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"ext", "vext in 0 dc 0 external", "r1 in out 1k", "r2 out 0 1k", ".end"};
    double t, v;
    int calls = 0;
    /* no provider: the run is refused, naming the missing provider */
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    CU_ASSERT_EQUAL(ssp_spice_tran(g_spice, 1e-8, 1e-6, 1e-8, 0), SSP_ESPICE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "ssp_spice_set_external"));
    ssp_spice_unload(g_spice);
    /* with one: the divider halves the ramp, 1 V at 1 us */
    ssp_spice_set_external(g_spice, ramp_vsrc, NULL, &calls);
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 1e-8, 1e-6, 1e-8, 0));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "time", &t));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(calls > 0);
    CU_ASSERT(ssp_close_rel(t, 1e-6, 1e-9, 0));
    CU_ASSERT(ssp_close_rel(v, 0.5 * t * 1e6, 1e-6, 1e-9));
    ssp_spice_set_external(g_spice, NULL, NULL, NULL);
    ssp_spice_unload(g_spice);
}

static void test_spice__several_circuits_in_memory(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    double v;
    CU_ASSERT_EQUAL(ssp_spice_circuits(g_spice), 0);
    SSP_ASSERT_OK(ctx, ssp_spice_load_another(g_spice, "a\nv1 in 0 dc 1\nr1 in out 1k\nr2 out 0 1k\n.end\n"));
    SSP_ASSERT_OK(ctx, ssp_spice_load_another(g_spice, "b\nv1 in 0 dc 1\nr1 in out 3k\nr2 out 0 1k\n.end\n"));
    CU_ASSERT_EQUAL(ssp_spice_circuits(g_spice), 2);
    /* 1 = the newest (b: 0.25 V), 2 = the one before (a: 0.5 V) */
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(v, 0.25, TOL_REL, 0));
    SSP_ASSERT_OK(ctx, ssp_spice_select(g_spice, 2));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(v, 0.5, TOL_REL, 0));
    ssp_spice_unload(g_spice);
    CU_ASSERT_EQUAL(ssp_spice_circuits(g_spice), 1);
    ssp_spice_unload(g_spice);
    CU_ASSERT_EQUAL(ssp_spice_circuits(g_spice), 0);
}

static void test_spice__tran_with_coarse_steps_reaches_tstop(void)
{
    /* the sync-mode end-of-run defect: ngspice halves the last steps towards
     * tstop until they fall below delmin unless the session lands them */
    ssp_ctx *ctx = ssp_test_ctx();
    const char *rc_net[] = {"rc", "v1 in 0 dc 1", "r1 in out 1k", "c1 out 0 1m ic=0", ".end"};
    const char *pwl_net[] = {"pwl", "v1 in 0 pwl(0 0 0.5 1 0.999 1 0.9995 0)", "r1 in out 1k",
                             "c1 out 0 1u ic=0", ".end"};
    double t, v;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, rc_net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 0.01, 1, 0.01, 1));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "time", &t));
    CU_ASSERT(ssp_close_rel(t, 1.0, 1e-12, 0));
    /* a PWL corner 1 ms before tstop must still be stepped onto */
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, pwl_net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 0.01, 1, 0.01, 1));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "time", &t));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(in)", &v));
    CU_ASSERT(ssp_close_rel(t, 1.0, 1e-12, 0));
    CU_ASSERT(fabs(v) < 1e-9); /* the source is back at 0 V after its last corner */
    {
        double *tv = NULL, *vv = NULL;
        size_t nt = 0, nv = 0, hit = 0;
        SSP_ASSERT_OK(ctx, ssp_spice_vec(g_spice, "time", &tv, &nt));
        SSP_ASSERT_OK(ctx, ssp_spice_vec(g_spice, "v(in)", &vv, &nv));
        for (size_t i = 0; i < nt; i++) hit += fabs(tv[i] - 0.999) < 1e-12 && fabs(vv[i] - 1) < 1e-12;
        CU_ASSERT_EQUAL(hit, 1);
        free(tv);
        free(vv);
    }
    ssp_spice_unload(g_spice);
}

/* Load and run a netlist that must fail with `code`, then check the session
 * still solves a divider. */
static void expect_failure(const char *const *net, size_t n, int run_op, int code, const char *needle)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *ok[] = {"after", "v1 in 0 dc 1", "r1 in out 1k", "r2 out 0 1k", ".end"};
    double v = 0;
    int rc = ssp_spice_load(g_spice, net, n);
    if (rc == SSP_OK && run_op) rc = ssp_spice_op(g_spice);
    CU_ASSERT_EQUAL(rc, code);
    if (rc != code) fprintf(stderr, "\n  got %d (%s): %s\n", rc, ssp_strerror(rc), ssp_spice_errmsg(g_spice));
    if (needle) CU_ASSERT_PTR_NOT_NULL(strstr(ssp_spice_errmsg(g_spice), needle));
    CU_ASSERT_STRING_EQUAL(ssp_ctx_errmsg(ctx), ssp_spice_errmsg(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, ok, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(v, 0.5, TOL_REL, 0));
    ssp_spice_unload(g_spice);
}

static void test_spice__syntax_error_is_reported(void)
{
    const char *net[] = {"bad", "v1 in 0 dc 1", "r1 in out", "r2 out 0 1k", ".end"};
    expect_failure(net, 5, 1, SSP_ESYNTAX, "r1 in out");
}

static void test_spice__floating_node_is_singular(void)
{
    const char *net[] = {"floating", "v1 in 0 dc 1", "r1 in 0 1k", "r2 a b 1k", ".end"};
    expect_failure(net, 5, 1, SSP_ESINGULAR, "singular matrix");
}

static void test_spice__voltage_source_loop_is_singular(void)
{
    const char *net[] = {"vloop", "v1 in 0 dc 1", "v2 in 0 dc 2", "r1 in 0 1k", ".end"};
    expect_failure(net, 5, 1, SSP_ESINGULAR, "singular matrix");
}

static void test_spice__missing_vector_is_reported(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"divider", "v1 in 0 dc 1", "r1 in out 1k", "r2 out 0 1k", ".end"};
    double v;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    CU_ASSERT_EQUAL(ssp_spice_vec_last(g_spice, "v(nowhere)", &v), SSP_ENOVEC);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_spice_errmsg(g_spice), "v(nowhere)"));
    ssp_spice_unload(g_spice);
}

static void test_spice__division_by_zero_is_overflow(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"div0", "v1 in 0 dc 0", "b1 out 0 v = 1 / v(in)", "r1 out 0 1k", ".end"};
    double v;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    CU_ASSERT_EQUAL(ssp_spice_vec_last(g_spice, "v(out)", &v), SSP_EOVERFLOW);
    ssp_spice_unload(g_spice);
}

static void test_spice__fatal_error_reloads_library(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *ok[] = {"after", "v1 in 0 dc 1", "r1 in out 1k", "r2 out 0 1k", ".end"};
    int before = ssp_spice_reloads(g_spice);
    double v;
    CU_ASSERT_EQUAL(ssp_spice_command(g_spice, "source /nonexistent/siamspice.cir"), SSP_EFATAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_spice_errmsg(g_spice), "fatal"));
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, ok, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(v, 0.5, TOL_REL, 0));
    CU_ASSERT_EQUAL(ssp_spice_reloads(g_spice), before + 1);
    ssp_spice_unload(g_spice);
}

static void test_spice__expression_error_is_fatal_then_recovers(void)
{
    const char *net[] = {"expr", "v1 in 0 dc 1", "r1 in 0 {1k*}", ".end"};
    expect_failure(net, 4, 1, SSP_EFATAL, NULL);
}

static void test_spice__quit_reloads_library(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *ok[] = {"after", "v1 in 0 dc 1", "r1 in out 1k", "r2 out 0 1k", ".end"};
    double v;
    CU_ASSERT_EQUAL(ssp_spice_command(g_spice, "quit"), SSP_EFATAL);
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, ok, 5));
    SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
    SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
    CU_ASSERT(ssp_close_rel(v, 0.5, TOL_REL, 0));
    ssp_spice_unload(g_spice);
}

static void test_spice__long_command_refused(void)
{
    char cmd[1100];
    memset(cmd, 'x', sizeof cmd - 1);
    memcpy(cmd, "echo ", 5);
    cmd[sizeof cmd - 1] = '\0';
    CU_ASSERT_EQUAL(ssp_spice_command(g_spice, cmd), SSP_ETOOLONG);
    cmd[SSP_SPICE_CMD_MAX] = '\0';
    CU_ASSERT_EQUAL(ssp_spice_command(g_spice, cmd), SSP_OK);
}

static void test_spice__run_without_circuit_is_state_error(void)
{
    ssp_spice_unload(g_spice);
    CU_ASSERT_EQUAL(ssp_spice_op(g_spice), SSP_ESTATE);
}

static void test_spice__second_session_in_process_refused(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_spice *other = NULL;
    CU_ASSERT_EQUAL(ssp_spice_create(&other, ctx, NULL), SSP_ESTATE);
    CU_ASSERT_PTR_NULL(other);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "one session per process"));
}

static void test_spice__bad_library_path_fails(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_spice *s = NULL;
    CU_ASSERT_EQUAL(ssp_spice_create(&s, ctx, "/nonexistent/libngspice.so"), SSP_ELIBRARY);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "/nonexistent/libngspice.so"));
    ssp_spice_destroy(&s);
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void test_spice__memory_flat_over_500_cycles(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *net[] = {"cycle", "v1 in 0 dc 1", "r1 in out 1k", "r2 out 0 1k", "r3 out 0 3k", ".end"};
    int cycles = ssp_test_instrumented() ? 40 : 500, i;
    long before = 0, after;
    double v;
    for (i = 0; i < cycles; i++) {
        if (i == 20) before = rss_bytes(); /* after warm-up allocations */
        SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, 6));
        SSP_ASSERT_OK(ctx, ssp_spice_op(g_spice));
        SSP_ASSERT_OK(ctx, ssp_spice_vec_last(g_spice, "v(out)", &v));
        SSP_ASSERT_OK(ctx, ssp_spice_unload(g_spice));
    }
    after = rss_bytes();
    CU_ASSERT(before > 0);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's quarantine keeps freed blocks resident: RSS says nothing about
     * leaks here, LeakSanitizer does. The cycles above still run. */
    (void)after;
    return;
#endif
    CU_ASSERT(after - before <= RSS_GROWTH_MAX);
    if (after - before > RSS_GROWTH_MAX) fprintf(stderr, "\n  RSS grew by %ld bytes\n", after - before);
}

/* The output rail of the amplifier below: linear inside +-1.4 V, a tanh knee
 * of 0.1 V to +-1.5 V. */
static double amp_rail(double e)
{
    double c = e < -1.4 ? -1.4 : e > 1.4 ? 1.4 : e;
    return c + 0.1 * tanh((e - c) / 0.1);
}

/* A streamed read through a saturating high-gain amplifier with large input
 * jumps: Newton cannot take some jumps in one step, ngspice cuts the step
 * and the ramped sources give it source stepping; every slot still yields
 * the DC solution, computed here independently (regression: the
 * stream used to die with "timestep too small" on such a jump). */
static void test_spice__stream_survives_newton_failures_on_jumps(void)
{
    enum { K = 10 };
    static const char *const net[] = {
        "* saturating inverting amplifier, streamed",
        ".func rail(e) {min(max(e,-1.4),1.4) + 0.1*tanh((e - min(max(e,-1.4),1.4))/0.1)}",
        "vin in 0 dc 0 external", "r1 in a 1k", "bamp out 0 v = rail(10000*(0.001 - v(a)))",
        "rf a out 8k", ".end"};
    static const double in[K] = {0, 5, -5, 0.3, 5, -0.001, 1.4, -1.4, 2, 0.1};
    const char *src[] = {"vin"}, *outn[] = {"v(out)"};
    ssp_ctx *ctx = ssp_test_ctx();
    double out[K], v;
    size_t k;
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, net, sizeof net / sizeof net[0]));
    SSP_ASSERT_OK(ctx, ssp_spice_stream(g_spice, src, 1, in, K, outn, 1, out));
    /* the DC solution in C: KCL at node a is monotone in V(a), bisect it
     * (ngspice's own op gives up on several of these inputs) */
    for (k = 0; k < K; k++) {
        double lo = -10, hi = 10;
        for (int it = 0; it < 200; it++) {
            double va = 0.5 * (lo + hi);
            double f = (in[k] - va) / 1e3 + (amp_rail(1e4 * (0.001 - va)) - va) / 8e3;
            if (f > 0) lo = va; else hi = va;
        }
        v = amp_rail(1e4 * (0.001 - 0.5 * (lo + hi)));
        CU_ASSERT(ssp_close_rel(out[k], v, 1e-7, 1e-9));
    }
    CU_ASSERT(out[1] < -1.45 && out[2] > 1.45); /* driven into the rails */
    ssp_spice_unload(g_spice);
}

/* Sixteen inputs summed by a saturating TIA, jumping between nothing and
 * deep saturation: a slot-long step on which Newton fails leaves ngspice
 * iterating from a railed iterate with zero derivative, so every shorter
 * retry failed too ("timestep too small" at the first step, seen training
 * spice-small; or approaching the final time by halves). The stream then
 * solves each vector as an operating point; every slot is still the DC
 * solution, computed here by bisection. */
static void test_spice__stream_recovers_from_a_railed_first_step(void)
{
    enum { K = 8, R = 16 };
    static const double level[K] = {0, 0.2, 0, 0.1, 0.2, 0, 0.2, 0.05};
    char *net[2 * R + 8];
    const char *src[R], *outn[] = {"v(out)"};
    double in[K * R], out[K];
    ssp_ctx *ctx = ssp_test_ctx();
    size_t n = 0, i, k;
    net[n++] = strdup("* sixteen rows summed by a railed TIA, streamed");
    net[n++] = strdup(".func rail(e) {min(max(e,-1.4),1.4) + 0.1*tanh((e - min(max(e,-1.4),1.4))/0.1)}");
    for (i = 0; i < R; i++) {
        char b[96];
        snprintf(b, sizeof b, "vr%zu in%zu 0 dc 0 external", i, i);
        net[n++] = strdup(b);
        snprintf(b, sizeof b, "rc%zu in%zu b 10k", i, i);
        net[n++] = strdup(b);
    }
    net[n++] = strdup("vos p 0 dc 0.001");
    net[n++] = strdup("rf out b 8k");
    net[n++] = strdup("bo out 0 v = rail(10000*v(p,b))");
    net[n++] = strdup(".end");
    for (i = 0; i < R; i++) {
        static char names[R][8];
        snprintf(names[i], sizeof names[i], "vr%zu", i);
        src[i] = names[i];
    }
    for (k = 0; k < K; k++)
        for (i = 0; i < R; i++) in[k * R + i] = level[k];
    SSP_ASSERT_OK(ctx, ssp_spice_load(g_spice, (const char *const *)net, n));
    SSP_ASSERT_OK(ctx, ssp_spice_stream(g_spice, src, R, in, K, outn, 1, out));
    for (k = 0; k < K; k++) {
        double lo = -10, hi = 10, vb, v;
        for (int it = 0; it < 200; it++) {
            double f;
            vb = 0.5 * (lo + hi);
            f = R * (level[k] - vb) / 1e4 + (amp_rail(1e4 * (0.001 - vb)) - vb) / 8e3;
            if (f > 0) lo = vb; else hi = vb;
        }
        v = amp_rail(1e4 * (0.001 - 0.5 * (lo + hi)));
        CU_ASSERT(ssp_close_rel(out[k], v, 1e-7, 1e-9));
    }
    CU_ASSERT(out[1] < -1.45); /* deep in the rail */
    ssp_spice_unload(g_spice);
    for (i = 0; i < n; i++) free(net[i]);
}

/* A 64x32 tile of spice-small whose stream failed in training twice over
 * (slot steps, then ngspice's step control growing its steps across slot
 * times: "timestep too small" at t = 5). Written by the spice engine's
 * failure dump: row sources as PWL. Streamed here through `external`
 * sources it must give, at every slot, what ngspice's own PWL transient of
 * the same deck gives (both are the DC solutions). */
static void test_spice__stream_of_a_railed_training_tile(void)
{
    enum { K = 8, MAXS = 64, MAXO = 32 };
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *gz = NULL;
    size_t len, nsrc = 0, nout = 0, i, k, nt = 0;
    char path[512], *deck, *pwl_deck, *ext, *line, *o, *save = NULL;
    static char src[MAXS][16], outn[MAXO][32];
    const char *srcp[MAXS], *outp[MAXO];
    double in[K * MAXS], out[K * MAXO], *t = NULL, *col = NULL;
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, ssp_test_path(path, sizeof path, "tests/golden/stream_railed_64x32.cir.gz"),
                                         &gz, &len));
    deck = malloc(len + 1);
    ext = malloc(len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deck);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ext);
    memcpy(deck, gz, len);
    deck[len] = 0;
    free(gz);
    pwl_deck = strdup(deck); /* kept whole for the reference run below */
    CU_ASSERT_PTR_NOT_NULL_FATAL(pwl_deck);
    /* the external-source form, the vectors and the outputs */
    o = ext;
    for (line = strtok_r(deck, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *pwl = strstr(line, " pwl(");
        if (line[0] == 'v' && pwl && nsrc < MAXS) {
            char *q = pwl + 5;
            *pwl = 0;
            sscanf(line, "%15s", src[nsrc]);
            o += sprintf(o, "%s dc 0 external\n", line);
            for (k = 0; k < K; k++) {
                (void)strtod(q, &q);
                in[k * MAXS + nsrc] = strtod(q, &q);
            }
            *pwl = ' ';
            nsrc++;
        } else if (strncmp(line, "print ", 6) == 0 && nout < MAXO) {
            snprintf(outn[nout++], sizeof outn[0], "%s", line + 6);
        } else if (line[0] != '.' || strncmp(line, ".end", 4) == 0 || strncmp(line, ".options", 8) == 0 ||
                   strncmp(line, ".func", 5) == 0 || strncmp(line, ".save", 5) == 0) {
            if (strncmp(line, ".endc", 5) && strcmp(line, "run") && strncmp(line, "set ", 4))
                o += sprintf(o, "%s\n", line);
        }
    }
    *o = 0;
    CU_ASSERT_EQUAL_FATAL(nsrc, 64);
    CU_ASSERT_EQUAL_FATAL(nout, 32);
    for (i = 0; i < nsrc; i++) srcp[i] = src[i];
    for (i = 0; i < nout; i++) outp[i] = outn[i];
    {
        double packed[K * MAXS];
        for (k = 0; k < K; k++)
            for (i = 0; i < nsrc; i++) packed[k * nsrc + i] = in[k * MAXS + i];
        SSP_ASSERT_OK(ctx, ssp_spice_load_text(g_spice, ext));
        SSP_ASSERT_OK(ctx, ssp_spice_stream(g_spice, srcp, nsrc, packed, K, outp, nout, out));
    }
    /* the reference: ngspice's PWL transient of the dumped deck, at the slots */
    o = strstr(pwl_deck, ".tran ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    strcpy(o, ".end\n"); /* drop the .tran and .control: the session runs it */
    SSP_ASSERT_OK(ctx, ssp_spice_load_text(g_spice, pwl_deck));
    SSP_ASSERT_OK(ctx, ssp_spice_tran(g_spice, 1, K - 1, 1, 0));
    SSP_ASSERT_OK(ctx, ssp_spice_vec(g_spice, "time", &t, &nt));
    for (i = 0; i < nout; i++) {
        size_t n2 = 0, j = 0;
        SSP_ASSERT_OK(ctx, ssp_spice_vec(g_spice, outp[i], &col, &n2));
        for (k = 0; k < K; k++) {
            while (j < nt && t[j] < (double)k - 1e-6) j++;
            CU_ASSERT_FATAL(j < nt && fabs(t[j] - (double)k) < 1e-6);
            CU_ASSERT(ssp_close_rel(out[k * nout + i], col[j], 1e-7, 1e-9));
        }
        free(col);
        col = NULL;
    }
    free(t);
    free(deck);
    free(pwl_deck);
    free(ext);
    ssp_spice_unload(g_spice);
}

static void test_spice__time_vector_search(void)
{
    const double time[] = {0.0, 1e-9, 2e-9, 2e-9, 5e-9, 8e-9};
    const size_t n = sizeof time / sizeof time[0];
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, -1.0), 0);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 0.0), 0);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 0.5e-9), 0);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 1e-9), 1);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 2e-9), 3); /* the last of equal points */
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 4.9e-9), 3);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 8e-9), 5);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, n, 1.0), 5);
    CU_ASSERT_EQUAL(ssp_spice_time_before(time, 1, 3.0), 0);
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, 0.4e-9), 0);
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, 0.5e-9), 0); /* tie: the earlier */
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, 0.6e-9), 1);
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, 4e-9), 4);
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, 7e-9), 5);
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, 9e-9), 5);
    CU_ASSERT_EQUAL(ssp_spice_time_nearest(time, n, -1.0), 0);
    /* against a linear scan on a long irregular vector */
    {
        double v[997];
        int bad = 0;
        v[0] = 0;
        for (size_t i = 1; i < 997; i++) v[i] = v[i - 1] + 1e-12 * (double)(1 + (i * 7919) % 13);
        for (double t = -1e-12; t < v[996] + 2e-12; t += 0.37e-12) {
            size_t b = 0, c = 0;
            for (size_t i = 0; i < 997; i++) {
                if (v[i] <= t) b = i;
                if (fabs(v[i] - t) < fabs(v[c] - t)) c = i;
            }
            bad += ssp_spice_time_before(v, 997, t) != b || ssp_spice_time_nearest(v, 997, t) != c;
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
}

SSP_TEST_SUITE(spice)
{
    SSP_ADD_SUITE("spice", suite_init, suite_clean,
                  SSP_TEST(test_spice__reports_version_and_klu),
                  SSP_TEST(test_spice__time_vector_search),
                  SSP_TEST(test_spice__op_resistor_divider),
                  SSP_TEST(test_spice__op_crossbar_matches_dense_solve),
                  SSP_TEST(test_spice__stream_equals_separate_ops),
                  SSP_TEST(test_spice__stream_single_vector),
                  SSP_TEST(test_spice__stream_survives_newton_failures_on_jumps),
                  SSP_TEST(test_spice__stream_recovers_from_a_railed_first_step),
                  SSP_TEST(test_spice__stream_of_a_railed_training_tile),
                  SSP_TEST(test_spice__tran_reaches_tstop),
                  SSP_TEST(test_spice__tran_reports_progress),
                  SSP_TEST(test_spice__external_source_follows_callback),
                  SSP_TEST(test_spice__several_circuits_in_memory),
                  SSP_TEST(test_spice__tran_with_coarse_steps_reaches_tstop),
                  SSP_TEST(test_spice__syntax_error_is_reported),
                  SSP_TEST(test_spice__floating_node_is_singular),
                  SSP_TEST(test_spice__voltage_source_loop_is_singular),
                  SSP_TEST(test_spice__missing_vector_is_reported),
                  SSP_TEST(test_spice__division_by_zero_is_overflow),
                  SSP_TEST(test_spice__fatal_error_reloads_library),
                  SSP_TEST(test_spice__expression_error_is_fatal_then_recovers),
                  SSP_TEST(test_spice__quit_reloads_library),
                  SSP_TEST(test_spice__long_command_refused),
                  SSP_TEST(test_spice__run_without_circuit_is_state_error),
                  SSP_TEST(test_spice__second_session_in_process_refused),
                  SSP_TEST(test_spice__bad_library_path_fails),
                  SSP_TEST(test_spice__memory_flat_over_500_cycles));
}
