/* bench_stream.c — K input vectors through one crossbar in ngspice: streamed
 * in one transient (external sources + sync callback) against `alter` + `op`
 * per vector, in the same run. 64x64 cells of 10-100 kOhm, 2.5 Ohm wire
 * segments, 10 Ohm drivers, 0 V sense sources, 200 random vectors.
 * Last line: BENCH stream solver=.. ngspice=.. ms_per_vec=.. alter_op_ms_per_vec=..
 * speedup=.. max_rel_diff=.. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/fixture_xbar.h"
#include "ssp_spice.h"

enum { N = 64, K = 200 };
/* Inputs drawn uniformly from [0, V_READ_MAX] (V). */
static const double V_READ_MAX = 0.2;
/* Column currents below this are compared absolutely (A). */
static const double I_FLOOR = 1e-15;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(ssp_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_stream: %s: %s\n", what, ssp_ctx_errmsg(ctx));
    return 1;
}

int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_spice *s = NULL;
    struct xbar x;
    struct lines l = {0};
    double *in = malloc(K * N * sizeof *in), *a = malloc(K * N * sizeof *a), *b = malloc(K * N * sizeof *b);
    char *src[N], *outn[N], cmd[128];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double t0, ta, tb, maxrel = 0;
    size_t i, j, k;
    int status = 1;

    if (ssp_ctx_create(&ctx) || !in || !a || !b) return 1;
    gsl_rng_set(r, 2024);
    for (i = 0; i < K * N; i++) in[i] = V_READ_MAX * gsl_rng_uniform(r);
    for (j = 0; j < N; j++) {
        src[j] = malloc(16);
        outn[j] = malloc(16);
        snprintf(src[j], 16, "vr%zu", j);
        snprintf(outn[j], 16, "i(vs%zu)", j);
    }
    xbar_random(&x, N, N, 99);
    if (ssp_spice_create(&s, ctx, NULL)) return fail(ctx, "ngspice");

    /* (a) streamed */
    xbar_netlist(&x, NULL, 1, &l);
    if (ssp_spice_load(s, (const char *const *)l.v, l.n)) return fail(ctx, "load");
    t0 = now_s();
    if (ssp_spice_stream(s, (const char *const *)src, N, in, K, (const char *const *)outn, N, a))
        return fail(ctx, "stream");
    ta = now_s() - t0;
    lines_free(&l);

    /* (b) alter + op per vector */
    xbar_netlist(&x, in, 0, &l);
    if (ssp_spice_load(s, (const char *const *)l.v, l.n)) return fail(ctx, "load");
    t0 = now_s();
    for (k = 0; k < K; k++) {
        for (i = 0; i < N; i++) {
            snprintf(cmd, sizeof cmd, "alter vr%zu dc = %.17g", i, in[k * N + i]);
            if (ssp_spice_command(s, cmd)) return fail(ctx, "alter");
        }
        if (ssp_spice_op(s)) return fail(ctx, "op");
        for (j = 0; j < N; j++)
            if (ssp_spice_vec_last(s, outn[j], &b[k * N + j])) return fail(ctx, "vector");
        ssp_spice_command(s, "destroy all");
    }
    tb = now_s() - t0;
    for (i = 0; i < K * N; i++) {
        double m = fmax(fmax(fabs(a[i]), fabs(b[i])), I_FLOOR);
        if (fabs(a[i] - b[i]) / m > maxrel) maxrel = fabs(a[i] - b[i]) / m;
    }
    printf("crossbar %dx%d, %d vectors: streamed %.3f s, alter+op %.3f s\n", N, N, K, ta, tb);
    printf("BENCH stream solver=%s ngspice=%d ms_per_vec=%.3f alter_op_ms_per_vec=%.3f speedup=%.2f max_rel_diff=%.3g\n",
           ssp_spice_solver(s), ssp_spice_version(s), 1e3 * ta / K, 1e3 * tb / K, tb / ta, maxrel);
    status = 0;
    ssp_spice_destroy(&s);
    lines_free(&l);
    for (j = 0; j < N; j++) {
        free(src[j]);
        free(outn[j]);
    }
    free(x.g);
    free(in);
    free(a);
    free(b);
    gsl_rng_free(r);
    ssp_ctx_destroy(&ctx);
    return status;
}
