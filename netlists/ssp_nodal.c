/* ssp_nodal.c — MNA assembly of a tile circuit and its KLU solution.
 *
 * Assembly walks the element list in a fixed order and emits a fixed
 * sequence of (row, column, value) stamps; the first walk records the
 * pattern, later walks add values at precomputed positions of the CSC
 * array, so reassembly is a linear pass with no search and no allocation. */
#include "ssp_nodal.h"

#include <klu.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nodal_fast.h"

/* Newton convergence: |Δx| <= RELTOL·max(|x|, |x_new|) + ABSTOL, with the
 * absolute part in volts for node voltages and amperes for branch currents. */
static const double SSP_NODAL_RELTOL = 1e-11;
static const double SSP_NODAL_VNTOL_V = 1e-13;
static const double SSP_NODAL_ABSTOL_A = 1e-16;
/* Newton iterations allowed per solve (direct, and per continuation step). */
static const int SSP_NODAL_NEWTON_MAXIT = 60;
/* Largest node-voltage change per Newton step before the step is scaled (V). */
static const double SSP_NODAL_DV_MAX_V = 0.5;
/* Source-stepping continuation: first step and smallest step of the source
 * scale factor (dimensionless). */
static const double SSP_NODAL_STEP_FIRST = 0.125;
static const double SSP_NODAL_STEP_MIN = 1e-6;
/* A klu_refactor whose reciprocal condition estimate falls below this
 * fraction of the last full factorization's is redone with klu_factor. */
static const double SSP_NODAL_REFACTOR_RCOND_RATIO = 1e-3;
/* Default block of right-hand sides per klu_solve call. */
enum { SSP_NODAL_BLOCK_DEFAULT = 32 };

enum { MODE_PATTERN = 0, MODE_VALUES = 1 };

struct ssp_nodal {
    ssp_ctx *ctx;             /* borrowed */
    const ssp_circuit *c;     /* borrowed */
    int n;                    /* matrix dimension */
    int nn;                   /* node unknowns (the first nn) */
    int *branch;              /* per element: its branch unknown, or −1 (owned) */
    int *src_row;             /* per circuit row: branch unknown of its input source (owned) */
    /* pattern */
    size_t n_stamp;           /* stamps per assembly */
    int *st_r, *st_c;         /* stamp coordinates during pattern recording (owned, freed after) */
    int *pos;                 /* stamp -> index into Ax (owned) */
    int *Ap, *Ai;             /* CSC pattern (owned) */
    int nnz;
    /* values */
    double *Ax_base;          /* base (linearised at x = 0) matrix values */
    double *Ax_work;          /* Newton Jacobian values */
    double *rhs_const;        /* fixed sources (n) */
    double *B;                /* n x block right-hand sides / solutions */
    size_t block;
    double *x, *xn, *rhs;     /* Newton iterate, new iterate, right-hand side (n each) */
    double *x_last;           /* solution of the last vector (n) */
    double *x_save;           /* last good point during continuation (n) */
    /* KLU */
    klu_common common;
    klu_symbolic *sym;
    klu_numeric *num_base;
    klu_numeric *num_work;
    double rcond_base, rcond_work; /* rcond after the last full factor of each */
    unsigned long version;    /* circuit version factored */
    int factored;
    /* assembly cursor */
    int mode;
    size_t cur;
    double *ax;               /* target of MODE_VALUES */
    ssp_nodal_stats stats;
    ssp_nodal_fast *fast;     /* fast read path, NULL when the structure has none (owned) */
    int path;                 /* enum ssp_nodal_path */
};

/* ---- assembly ----------------------------------------------------------- */

static void st(ssp_nodal *s, int r, int c, double v)
{
    if (r < 0 || c < 0) return; /* ground row or column */
    if (s->mode == MODE_PATTERN) {
        if (s->st_r) {
            s->st_r[s->cur] = r;
            s->st_c[s->cur] = c;
        }
    } else {
        s->ax[s->pos[s->cur]] += v;
    }
    s->cur++;
}

/* node number -> unknown index (−1 for ground) */
static int ux(int node) { return node - 1; }

static double xv(const double *x, int node) { return node ? x[node - 1] : 0.0; }

/* Stamp the Jacobian at x (x NULL: x = 0) and, if rhs is non-NULL, add the
 * companion-model right-hand side of the nonlinear elements. lambda scales
 * every independent source (1 for a normal solve). Input sources take
 * v_rows (NULL: 0). */
static void assemble(ssp_nodal *s, const double *x, double *rhs, const double *v_rows,
                     double lambda)
{
    const ssp_circuit *c = s->c;
    const ssp_tile_params *p = ssp_circuit_params(c);
    const ssp_element *el = ssp_circuit_elements(c);
    const ssp_cell_iv *iv = ssp_circuit_cells(c);
    size_t i, ne = ssp_circuit_n_elements(c);
    s->cur = 0;
    for (i = 0; i < ne; i++) {
        const ssp_element *e = &el[i];
        int a = ux(e->a), b = ux(e->b), k = s->branch[i];
        switch (e->kind) {
        case SSP_EL_RES: {
            double g = 1.0 / e->value;
            st(s, a, a, g);
            st(s, b, b, g);
            st(s, a, b, -g);
            st(s, b, a, -g);
            break;
        }
        case SSP_EL_VSRC:
            st(s, a, k, 1.0);
            st(s, b, k, -1.0);
            st(s, k, a, 1.0);
            st(s, k, b, -1.0);
            if (rhs)
                rhs[k] += lambda * (e->index >= 0 ? (v_rows ? v_rows[e->index] : 0.0) : e->value);
            break;
        case SSP_EL_CELL: {
            double v = x ? xv(x, e->a) - xv(x, e->b) : 0.0, g, cur;
            cur = ssp_cell_iv_current(&iv[e->index], v, &g);
            st(s, a, a, g);
            st(s, b, b, g);
            st(s, a, b, -g);
            st(s, b, a, -g);
            if (rhs) {
                double ieq = cur - g * v;
                if (a >= 0) rhs[a] -= ieq;
                if (b >= 0) rhs[b] += ieq;
            }
            break;
        }
        case SSP_EL_NMOS: {
            double vd = x ? xv(x, e->a) : 0, vs = x ? xv(x, e->b) : 0, vg = x ? xv(x, e->c) : 0;
            double gd, gg, gs, cur = ssp_nmos_current(&p->nmos, vd, vg, vs, &gd, &gg, &gs);
            int g = ux(e->c);
            st(s, a, a, gd);
            st(s, a, g, gg);
            st(s, a, b, gs);
            st(s, b, a, -gd);
            st(s, b, g, -gg);
            st(s, b, b, -gs);
            if (rhs) {
                double ieq = cur - gd * vd - gg * vg - gs * vs;
                if (a >= 0) rhs[a] -= ieq;
                if (b >= 0) rhs[b] += ieq;
            }
            break;
        }
        case SSP_EL_OPAMP: {
            int o = ux(e->c);
            double u = x ? xv(x, e->a) - xv(x, e->b) : 0.0, e0 = p->tia.gain * u, d, f;
            f = ssp_tia_rail(&p->tia, e0, &d);
            st(s, o, k, 1.0);
            st(s, k, o, 1.0);
            st(s, k, a, -d * p->tia.gain);
            st(s, k, b, d * p->tia.gain);
            if (rhs) rhs[k] += f - d * e0;
            break;
        }
        case SSP_EL_CCVS:
            st(s, a, k, 1.0);
            st(s, b, k, -1.0);
            st(s, k, a, 1.0);
            st(s, k, b, -1.0);
            st(s, k, s->branch[e->index], -e->value);
            break;
        default:
            break;
        }
    }
}

static void assemble_values(ssp_nodal *s, double *ax, const double *x, double *rhs,
                            const double *v_rows, double lambda)
{
    memset(ax, 0, (size_t)s->nnz * sizeof *ax);
    s->mode = MODE_VALUES;
    s->ax = ax;
    assemble(s, x, rhs, v_rows, lambda);
}

/* ---- pattern ------------------------------------------------------------ */

/* Sort stamps by (column, row) with a counting sort on columns, then rows. */
static int build_pattern(ssp_nodal *s)
{
    size_t m = s->n_stamp, i;
    int n = s->n, j;
    int *cnt = calloc((size_t)n + 1, sizeof *cnt);
    int *order = malloc((m ? m : 1) * sizeof *order);
    int *tmp = malloc((m ? m : 1) * sizeof *tmp);
    int *rcnt = calloc((size_t)n + 1, sizeof *rcnt);
    int rc = SSP_ENOMEM;
    if (!cnt || !order || !tmp || !rcnt) goto done;
    /* radix sort: first by row (stable), then by column */
    for (i = 0; i < m; i++) rcnt[s->st_r[i] + 1]++;
    for (j = 0; j < n; j++) rcnt[j + 1] += rcnt[j];
    for (i = 0; i < m; i++) tmp[rcnt[s->st_r[i]]++] = (int)i;
    for (i = 0; i < m; i++) cnt[s->st_c[tmp[i]] + 1]++;
    for (j = 0; j < n; j++) cnt[j + 1] += cnt[j];
    for (i = 0; i < m; i++) order[cnt[s->st_c[tmp[i]]]++] = tmp[i];
    /* unique (col,row) pairs */
    s->Ap = calloc((size_t)n + 1, sizeof *s->Ap);
    s->Ai = malloc((m ? m : 1) * sizeof *s->Ai);
    s->pos = malloc((m ? m : 1) * sizeof *s->pos);
    if (!s->Ap || !s->Ai || !s->pos) goto done;
    s->nnz = 0;
    {
        int pc = -1, pr = -1;
        for (i = 0; i < m; i++) {
            int t = order[i], r = s->st_r[t], c = s->st_c[t];
            if (c != pc || r != pr) {
                s->Ai[s->nnz] = r;
                s->Ap[c + 1]++;
                s->nnz++;
                pc = c;
                pr = r;
            }
            s->pos[t] = s->nnz - 1;
        }
    }
    for (j = 0; j < n; j++) s->Ap[j + 1] += s->Ap[j];
    rc = SSP_OK;
done:
    free(cnt);
    free(order);
    free(tmp);
    free(rcnt);
    return rc;
}

int ssp_nodal_create(ssp_nodal **out, ssp_ctx *ctx, const ssp_circuit *c, size_t block)
{
    ssp_nodal *s;
    const ssp_element *el = ssp_circuit_elements(c);
    const ssp_tile_params *p = ssp_circuit_params(c);
    size_t i, ne = ssp_circuit_n_elements(c), n;
    int nb = 0, rc = SSP_ENOMEM;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the nodal solver");
    s->ctx = ctx;
    s->c = c;
    s->block = block ? block : SSP_NODAL_BLOCK_DEFAULT;
    s->nn = (int)ssp_circuit_n_nodes(c);
    s->branch = malloc((ne ? ne : 1) * sizeof *s->branch);
    s->src_row = malloc(p->rows * sizeof *s->src_row);
    if (!s->branch || !s->src_row) goto fail;
    for (i = 0; i < ne; i++) {
        int k = el[i].kind;
        s->branch[i] = -1;
        if (k == SSP_EL_VSRC || k == SSP_EL_OPAMP || k == SSP_EL_CCVS) {
            s->branch[i] = s->nn + nb++;
            if (k == SSP_EL_VSRC && el[i].index >= 0) s->src_row[el[i].index] = s->branch[i];
        }
    }
    s->n = s->nn + nb;
    n = (size_t)s->n;
    /* count stamps, then record them */
    s->mode = MODE_PATTERN;
    assemble(s, NULL, NULL, NULL, 1.0);
    s->n_stamp = s->cur;
    s->st_r = malloc((s->n_stamp ? s->n_stamp : 1) * sizeof *s->st_r);
    s->st_c = malloc((s->n_stamp ? s->n_stamp : 1) * sizeof *s->st_c);
    if (!s->st_r || !s->st_c) goto fail;
    assemble(s, NULL, NULL, NULL, 1.0);
    if (build_pattern(s)) goto fail;
    free(s->st_r);
    free(s->st_c);
    s->st_r = s->st_c = NULL;
    s->Ax_base = malloc((size_t)s->nnz * sizeof *s->Ax_base);
    s->Ax_work = malloc((size_t)s->nnz * sizeof *s->Ax_work);
    s->rhs_const = calloc(n, sizeof *s->rhs_const);
    s->B = malloc(n * s->block * sizeof *s->B);
    s->x = malloc(n * sizeof *s->x);
    s->xn = malloc(n * sizeof *s->xn);
    s->rhs = malloc(n * sizeof *s->rhs);
    s->x_last = calloc(n, sizeof *s->x_last);
    s->x_save = malloc(n * sizeof *s->x_save);
    if (!s->Ax_base || !s->Ax_work || !s->rhs_const || !s->B || !s->x || !s->xn || !s->rhs ||
        !s->x_last || !s->x_save)
        goto fail;
    klu_defaults(&s->common);
    s->sym = klu_analyze(s->n, s->Ap, s->Ai, &s->common);
    if (!s->sym) {
        rc = s->common.status == KLU_OUT_OF_MEMORY ? SSP_ENOMEM : SSP_EINVAL;
        ssp_nodal_destroy(&s);
        return ssp_error(ctx, rc, "klu_analyze failed (status %d) on the %zu-unknown tile matrix",
                         rc, n);
    }
    {
        const char *env = getenv("SSP_NODAL_PATH");
        s->path = env && strcmp(env, "reference") == 0 ? SSP_NODAL_PATH_REFERENCE
                                                       : SSP_NODAL_PATH_AUTO;
    }
    rc = ssp_nodal_fast_create(&s->fast, ctx, c);
    if (rc) {
        ssp_nodal_destroy(&s);
        return rc;
    }
    *out = s;
    return SSP_OK;
fail:
    ssp_nodal_destroy(&s);
    return ssp_error(ctx, rc, "out of memory creating the nodal solver");
}

void ssp_nodal_destroy(ssp_nodal **sp)
{
    ssp_nodal *s;
    if (!sp || !*sp) return;
    s = *sp;
    ssp_nodal_fast_destroy(&s->fast);
    if (s->num_base) klu_free_numeric(&s->num_base, &s->common);
    if (s->num_work) klu_free_numeric(&s->num_work, &s->common);
    if (s->sym) klu_free_symbolic(&s->sym, &s->common);
    free(s->branch);
    free(s->src_row);
    free(s->st_r);
    free(s->st_c);
    free(s->pos);
    free(s->Ap);
    free(s->Ai);
    free(s->Ax_base);
    free(s->Ax_work);
    free(s->rhs_const);
    free(s->B);
    free(s->x);
    free(s->xn);
    free(s->rhs);
    free(s->x_last);
    free(s->x_save);
    free(s);
    *sp = NULL;
}

size_t ssp_nodal_dim(const ssp_nodal *s) { return (size_t)s->n; }
const double *ssp_nodal_last_solution(const ssp_nodal *s) { return s->x_last; }
void ssp_nodal_get_stats(const ssp_nodal *s, ssp_nodal_stats *out)
{
    *out = s->stats;
    if (s->fast) {
        const nodal_fast_counts *fc = ssp_nodal_fast_counts(s->fast);
        out->factors += fc->factors;
        out->refactors += fc->refactors + fc->updates;
        out->fast_updates = fc->updates;
        out->fast_cell_solves = fc->cell_solves;
        out->fast_rail_newtons = fc->rail_newtons;
    }
}

int ssp_nodal_set_path(ssp_nodal *s, int path)
{
    if (path != SSP_NODAL_PATH_AUTO && path != SSP_NODAL_PATH_REFERENCE)
        return ssp_error(s->ctx, SSP_EINVAL, "unknown nodal path %d", path);
    s->path = path;
    return SSP_OK;
}

int ssp_nodal_has_fast_path(const ssp_nodal *s) { return s->fast != NULL; }

/* Whether this solve goes to the fast path. */
static int use_fast(const ssp_nodal *s)
{
    return s->path == SSP_NODAL_PATH_AUTO && ssp_nodal_fast_applies(s->fast);
}

/* Factor (or refactor) ax into *num; counts into the stats when base. */
static int factor_into(ssp_nodal *s, double *ax, klu_numeric **num, double *rcond_full,
                       int base)
{
    if (*num) {
        if (klu_refactor(s->Ap, s->Ai, ax, s->sym, *num, &s->common) &&
            s->common.status == KLU_OK && klu_rcond(s->sym, *num, &s->common) &&
            s->common.rcond >= SSP_NODAL_REFACTOR_RCOND_RATIO * *rcond_full) {
            if (base) s->stats.refactors++;
            return SSP_OK;
        }
        klu_free_numeric(num, &s->common);
    }
    *num = klu_factor(s->Ap, s->Ai, ax, s->sym, &s->common);
    if (!*num || s->common.status != KLU_OK) {
        if (*num) klu_free_numeric(num, &s->common);
        if (s->common.status == KLU_OUT_OF_MEMORY)
            return ssp_error(s->ctx, SSP_ENOMEM, "out of memory in klu_factor");
        return ssp_error(s->ctx, SSP_ESINGULAR,
                         "klu_factor: the tile matrix is singular (KLU status %d); a floating node "
                         "or a source loop", s->common.status);
    }
    klu_rcond(s->sym, *num, &s->common);
    *rcond_full = s->common.rcond;
    if (base) s->stats.factors++;
    return SSP_OK;
}

/* The reference path's factorization. */
static int factor_reference(ssp_nodal *s)
{
    int rc;
    size_t i;
    if (s->factored && s->version == ssp_circuit_version(s->c)) return SSP_OK;
    for (i = 0; i < (size_t)s->n; i++) s->rhs_const[i] = 0.0;
    assemble_values(s, s->Ax_base, NULL, s->rhs_const, NULL, 1.0);
    rc = factor_into(s, s->Ax_base, &s->num_base, &s->rcond_base, 1);
    if (rc) {
        s->factored = 0;
        return rc;
    }
    s->factored = 1;
    s->version = ssp_circuit_version(s->c);
    return SSP_OK;
}

int ssp_nodal_factor(ssp_nodal *s)
{
    return use_fast(s) ? ssp_nodal_fast_update(s->fast) : factor_reference(s);
}

/* Whether every op-amp of solution x sits in the linear region of its rail. */
static int opamps_linear(const ssp_nodal *s, const double *x)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    const ssp_element *el = ssp_circuit_elements(s->c);
    size_t i, ne = ssp_circuit_n_elements(s->c);
    double lo = p->tia.v_lo + p->tia.v_knee, hi = p->tia.v_hi - p->tia.v_knee;
    for (i = 0; i < ne; i++) {
        if (el[i].kind != SSP_EL_OPAMP) continue;
        double e = p->tia.gain * (xv(x, el[i].a) - xv(x, el[i].b));
        if (!(e >= lo && e <= hi)) return 0;
    }
    return 1;
}

/* Newton from s->x for sources scaled by lambda; 0 on convergence. */
static int newton(ssp_nodal *s, const double *v_rows, double lambda, int maxit)
{
    int it, i, n = s->n;
    for (it = 0; it < maxit; it++) {
        double dmax = 0, scale = 1.0;
        int conv = 1, rc;
        for (i = 0; i < n; i++) s->rhs[i] = 0.0;
        assemble_values(s, s->Ax_work, s->x, s->rhs, v_rows, lambda);
        rc = factor_into(s, s->Ax_work, &s->num_work, &s->rcond_work, 0);
        if (rc) return rc;
        memcpy(s->xn, s->rhs, (size_t)n * sizeof *s->xn);
        if (!klu_solve(s->sym, s->num_work, n, 1, s->xn, &s->common))
            return ssp_error(s->ctx, SSP_ESINGULAR, "klu_solve failed (KLU status %d)",
                             s->common.status);
        s->stats.newton_iterations++;
        for (i = 0; i < s->nn; i++) {
            double d = fabs(s->xn[i] - s->x[i]);
            if (d > dmax) dmax = d;
        }
        if (dmax > SSP_NODAL_DV_MAX_V) scale = SSP_NODAL_DV_MAX_V / dmax;
        for (i = 0; i < n; i++) {
            double d = s->xn[i] - s->x[i];
            double tol = SSP_NODAL_RELTOL * fmax(fabs(s->x[i]), fabs(s->xn[i])) +
                         (i < s->nn ? SSP_NODAL_VNTOL_V : SSP_NODAL_ABSTOL_A);
            if (!(fabs(d) <= tol)) conv = 0;
            s->x[i] += scale * d;
        }
        if (conv && scale == 1.0) return SSP_OK;
    }
    return SSP_ECONVERGE;
}

/* Solve one vector by Newton, s->x holding the start; continuation if needed. */
static int solve_nonlinear(ssp_nodal *s, const double *v_rows, size_t vec)
{
    double lam = 0, step = SSP_NODAL_STEP_FIRST;
    int rc;
    s->stats.newton_vectors++;
    rc = newton(s, v_rows, 1.0, SSP_NODAL_NEWTON_MAXIT);
    if (rc != SSP_ECONVERGE) return rc;
    /* source stepping from the all-zero solution of the unpowered circuit */
    s->stats.continuations++;
    memset(s->x, 0, (size_t)s->n * sizeof *s->x);
    while (lam < 1.0) {
        double next = fmin(1.0, lam + step);
        double *save = s->x_save;
        memcpy(save, s->x, (size_t)s->n * sizeof *save);
        rc = newton(s, v_rows, next, SSP_NODAL_NEWTON_MAXIT);
        if (rc == SSP_OK) {
            lam = next;
            step *= 2;
        } else if (rc == SSP_ECONVERGE) {
            memcpy(s->x, save, (size_t)s->n * sizeof *save);
            step /= 2;
            if (step < SSP_NODAL_STEP_MIN)
                return ssp_error(s->ctx, SSP_ECONVERGE,
                                 "nodal Newton did not converge for input vector %zu (source "
                                 "stepping stalled at %.6g of the inputs; tolerance rel %g)",
                                 vec, lam, SSP_NODAL_RELTOL);
        } else {
            return rc;
        }
    }
    return SSP_OK;
}

int ssp_nodal_solve(ssp_nodal *s, const double *v_rows, size_t k, double *v_out)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    size_t rows = p->rows, cols = p->cols, n = (size_t)s->n, v0, j, i;
    int nonlinear = ssp_circuit_is_nonlinear(s->c), rc;

    if (use_fast(s)) {
        int answered;
        rc = ssp_nodal_fast_read(s->fast, v_rows, k, v_out, &answered);
        if (rc) return rc;
        if (answered) {
            s->stats.solves += k;
            s->stats.fast_reads += k;
            return SSP_OK;
        }
        s->stats.fast_fallbacks += k;
    }
    rc = factor_reference(s);
    if (rc) return rc;
    for (v0 = 0; v0 < k; v0 += s->block) {
        size_t kb = k - v0 < s->block ? k - v0 : s->block, q;
        for (q = 0; q < kb; q++) {
            double *b = s->B + q * n;
            memcpy(b, s->rhs_const, n * sizeof *b);
            for (i = 0; i < rows; i++) b[s->src_row[i]] += v_rows[(v0 + q) * rows + i];
        }
        if (!klu_solve(s->sym, s->num_base, s->n, (int)kb, s->B, &s->common))
            return ssp_error(s->ctx, SSP_ESINGULAR, "klu_solve failed (KLU status %d)",
                             s->common.status);
        s->stats.solves += kb;
        for (q = 0; q < kb; q++) {
            const double *x = s->B + q * n;
            if (nonlinear || !opamps_linear(s, x)) {
                memcpy(s->x, x, n * sizeof *s->x);
                rc = solve_nonlinear(s, v_rows + (v0 + q) * rows, v0 + q);
                if (rc) return rc;
                x = s->x;
            }
            for (j = 0; j < cols; j++) v_out[(v0 + q) * cols + j] = xv(x, ssp_circuit_out_node(s->c, j));
            if (v0 + q + 1 == k) memcpy(s->x_last, x, n * sizeof *s->x_last);
        }
    }
    return SSP_OK;
}
