/* fixture_xbar.h — a resistive crossbar written out by hand, for the plugin
 * tests and the stream benchmark: its SPICE netlist and an independent dense
 * nodal solve (GSL LU). Deliberately separate from netlists/, so the session
 * layer is checked against code that shares nothing with the product path.
 * Header-only (static functions); include from one translation unit each. */
#ifndef SSP_FIXTURE_XBAR_H
#define SSP_FIXTURE_XBAR_H

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_rng.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_error.h"

/* ---- a tiny line list for building netlists in tests ---- */
struct lines {
    char **v;
    size_t n, cap;
};

static inline void add(struct lines *l, const char *fmt, ...) SSP_PRINTF(2, 3);

static inline void add(struct lines *l, const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(buf);
}

static inline void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* A crossbar: N row drivers (source through r_drv into the word line), N*M
 * cells of conductance g[i*m+j] from word line node w_i_j to bit line node
 * b_i_j, r_seg on every word- and bit-line segment (including the last bit
 * line segment to the sense node), a 0 V sense source vs<j> per column. */
struct xbar {
    size_t n, m;
    double r_seg, r_drv;
    double *g;
};

static inline void xbar_netlist(const struct xbar *x, const double *vin, int external, struct lines *l)
{
    size_t i, j;
    add(l, "crossbar %zux%zu test", x->n, x->m);
    for (i = 0; i < x->n; i++) {
        if (external)
            add(l, "vr%zu d%zu 0 dc 0 external", i, i);
        else
            add(l, "vr%zu d%zu 0 dc %.17g", i, i, vin[i]);
        add(l, "rd%zu d%zu w%zu_0 %.17g", i, i, i, x->r_drv);
        for (j = 0; j + 1 < x->m; j++) add(l, "rw%zu_%zu w%zu_%zu w%zu_%zu %.17g", i, j, i, j, i, j + 1, x->r_seg);
        for (j = 0; j < x->m; j++) add(l, "rc%zu_%zu w%zu_%zu b%zu_%zu %.17g", i, j, i, j, i, j, 1.0 / x->g[i * x->m + j]);
    }
    for (j = 0; j < x->m; j++) {
        for (i = 0; i + 1 < x->n; i++) add(l, "rb%zu_%zu b%zu_%zu b%zu_%zu %.17g", i, j, i, j, i + 1, j, x->r_seg);
        add(l, "rs%zu b%zu_%zu s%zu %.17g", j, x->n - 1, j, j, x->r_seg);
        add(l, "vs%zu s%zu 0 dc 0", j, j);
        add(l, ".save i(vs%zu)", j);
    }
    add(l, ".end");
}

/* Dense nodal solve of the same crossbar: unknowns w_i_j then b_i_j. Column
 * currents (into each sense source) go to iout[m]. */
static inline int xbar_dense(const struct xbar *x, const double *vin, double *iout)
{
    size_t n = x->n, m = x->m, nn = 2 * n * m, i, j;
    gsl_matrix *a = gsl_matrix_calloc(nn, nn);
    gsl_vector *rhs = gsl_vector_calloc(nn), *v = gsl_vector_alloc(nn);
    gsl_permutation *p = gsl_permutation_alloc(nn);
    double gs = 1.0 / x->r_seg, gd = 1.0 / x->r_drv;
    int sign, rc;
#define W(i, j) ((i) * m + (j))
#define B(i, j) (n * m + (i) * m + (j))
#define STAMP(p_, q_, g_)                                                        \
    do {                                                                         \
        *gsl_matrix_ptr(a, p_, p_) += g_; *gsl_matrix_ptr(a, q_, q_) += g_;      \
        *gsl_matrix_ptr(a, p_, q_) -= g_; *gsl_matrix_ptr(a, q_, p_) -= g_;      \
    } while (0)
    for (i = 0; i < n; i++) {
        *gsl_matrix_ptr(a, W(i, 0), W(i, 0)) += gd;
        *gsl_vector_ptr(rhs, W(i, 0)) += gd * vin[i];
        for (j = 0; j + 1 < m; j++) STAMP(W(i, j), W(i, j + 1), gs);
        for (j = 0; j < m; j++) STAMP(W(i, j), B(i, j), x->g[i * m + j]);
    }
    for (j = 0; j < m; j++) {
        for (i = 0; i + 1 < n; i++) STAMP(B(i, j), B(i + 1, j), gs);
        *gsl_matrix_ptr(a, B(n - 1, j), B(n - 1, j)) += gs;
    }
    rc = gsl_linalg_LU_decomp(a, p, &sign);
    if (!rc) rc = gsl_linalg_LU_solve(a, p, rhs, v);
    for (j = 0; !rc && j < m; j++) iout[j] = gsl_vector_get(v, B(n - 1, j)) * gs;
#undef W
#undef B
#undef STAMP
    gsl_matrix_free(a);
    gsl_vector_free(rhs);
    gsl_vector_free(v);
    gsl_permutation_free(p);
    return rc;
}

static inline void xbar_random(struct xbar *x, size_t n, size_t m, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    x->n = n;
    x->m = m;
    x->r_seg = 2.5;
    x->r_drv = 10.0;
    x->g = malloc(n * m * sizeof *x->g);
    for (size_t i = 0; i < n * m; i++) x->g[i] = 1.0 / (10e3 + 90e3 * gsl_rng_uniform(r));
    gsl_rng_free(r);
}

#endif
