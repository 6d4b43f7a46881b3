/* ssp_step.c — the linear state-space step response of a tile (ssp_step.h):
 * G and C assembled on one sparsity pattern from the element list and the
 * capacitor list, KLU factorizations of G (the DC states) and of
 * G + (2/h)·C (the steps), backward-Euler start and trapezoidal steps.
 * It does not simulate anything nonlinear and never prints. */
#include "ssp_step.h"

#include <klu.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double SSP_STEP_TWO_PI = 6.28318530717958647692;
/* An output whose settled change is below this (V) counts as not moving:
 * its settled fraction is 1. */
static const double SSP_STEP_FLAT_V = 1e-15;

typedef struct trip {
    int r, c;     /* row, column */
    double g, cv; /* G and C contributions */
} trip;

struct ssp_step {
    ssp_ctx *ctx;           /* borrowed */
    const ssp_circuit *c;   /* borrowed */
    int n, nn;              /* unknowns; node unknowns */
    int *branch;            /* per element: branch unknown or −1 (owned) */
    int *src_row;           /* per row: branch unknown of its source (owned) */
    int *Ap, *Ai;           /* CSC pattern (owned) */
    double *Gx, *Cx, *Mx;   /* values of G, C, G + (2/h)C (owned) */
    int nnz;
    double *bc;             /* constant sources (n, owned) */
    double *x, *y, *w;      /* work vectors (n each, owned) */
    double *vr;             /* rows: row voltages of the run (owned) */
    klu_common common;
    klu_symbolic *sym;
    klu_numeric *numG, *numM;
    unsigned long g_version; /* circuit version G was assembled for */
    int g_ok;
    double h_m;             /* step numM was factored for (0: none) */
    unsigned long m_version;
};

static int ux(int node) { return node - 1; }

static int cmp_trip(const void *a, const void *b)
{
    const trip *x = a, *y = b;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return (x->r > y->r) - (x->r < y->r);
}

/* Position of (r, c) in the pattern (binary search within column c). */
static int where(const ssp_step *s, int r, int c)
{
    int lo = s->Ap[c], hi = s->Ap[c + 1] - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (s->Ai[mid] == r) return mid;
        if (s->Ai[mid] < r) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* One walk over the elements and capacitors: with t, record the
 * coordinates and values; with add, add the values into Gx/Cx at their
 * pattern positions; with neither, only count. */
static size_t walk(ssp_step *s, trip *t, int add)
{
    const ssp_circuit *c = s->c;
    const ssp_tile_params *p = ssp_circuit_params(c);
    const ssp_element *el = ssp_circuit_elements(c), *cap;
    const ssp_cell_iv *iv = ssp_circuit_cells(c);
    size_t i, ne = ssp_circuit_n_elements(c), ncap, k = 0;
    double tau = ssp_tia_tau(&p->tia);
#define ST(rr, cc, gg, ccv)                                                  \
    do {                                                                     \
        int r_ = (rr), c_ = (cc);                                            \
        if (r_ >= 0 && c_ >= 0) {                                            \
            if (t) t[k] = (trip){r_, c_, (gg), (ccv)};                       \
            if (add) {                                                       \
                int q_ = where(s, r_, c_);                                   \
                s->Gx[q_] += (gg);                                           \
                s->Cx[q_] += (ccv);                                          \
            }                                                                \
            k++;                                                             \
        }                                                                    \
    } while (0)
    for (i = 0; i < ne; i++) {
        const ssp_element *e = &el[i];
        int a = ux(e->a), b = ux(e->b), br = s->branch[i];
        double g;
        switch (e->kind) {
        case SSP_EL_RES:
        case SSP_EL_CELL:
            g = e->kind == SSP_EL_RES ? 1.0 / e->value : iv[e->index].g;
            ST(a, a, g, 0);
            ST(b, b, g, 0);
            ST(a, b, -g, 0);
            ST(b, a, -g, 0);
            break;
        case SSP_EL_VSRC:
            ST(a, br, 1, 0);
            ST(b, br, -1, 0);
            ST(br, a, 1, 0);
            ST(br, b, -1, 0);
            break;
        case SSP_EL_OPAMP: {
            /* τ·dV(o)/dt + V(o) − A·(V(+) − V(−)) = 0 */
            int o = ux(e->c);
            ST(o, br, 1, 0);
            ST(br, o, 1, tau);
            ST(br, a, -p->tia.gain, 0);
            ST(br, b, p->tia.gain, 0);
            break;
        }
        case SSP_EL_CCVS:
            ST(a, br, 1, 0);
            ST(b, br, -1, 0);
            ST(br, a, 1, 0);
            ST(br, b, -1, 0);
            ST(br, s->branch[e->index], -e->value, 0);
            break;
        default:
            break;
        }
    }
    cap = ssp_circuit_caps(c, &ncap);
    for (i = 0; i < ncap; i++) {
        int a = ux(cap[i].a), b = ux(cap[i].b);
        double f = cap[i].value;
        ST(a, a, 0, f);
        ST(b, b, 0, f);
        ST(a, b, 0, -f);
        ST(b, a, 0, -f);
    }
#undef ST
    return k;
}

/* Which circuits this model holds: linear 1R cells. */
static int check_linear(ssp_step *s)
{
    const ssp_circuit *c = s->c;
    const ssp_tile_params *p = ssp_circuit_params(c);
    const ssp_cell_iv *iv = ssp_circuit_cells(c);
    size_t i, n = p->rows * p->cols;
    if (p->cell != SSP_CELL_1R)
        return ssp_error(s->ctx, SSP_EINVAL, "step response: 1T1R cells are nonlinear; the linear state-space "
                         "read needs 1R cells (use the ngspice transient read)");
    for (i = 0; i < n; i++)
        if (iv[i].kind != SSP_IV_LINEAR)
            return ssp_error(s->ctx, SSP_EINVAL, "step response: cell (%zu, %zu) has a nonlinear (sinh) I-V; the "
                             "linear state-space read needs linear cells (use the ngspice transient read)",
                             i / p->cols, i % p->cols);
    return SSP_OK;
}

void ssp_step_destroy(ssp_step **sp)
{
    ssp_step *s;
    if (!sp || !*sp) return;
    s = *sp;
    if (s->numG) klu_free_numeric(&s->numG, &s->common);
    if (s->numM) klu_free_numeric(&s->numM, &s->common);
    if (s->sym) klu_free_symbolic(&s->sym, &s->common);
    free(s->branch);
    free(s->src_row);
    free(s->Ap);
    free(s->Ai);
    free(s->Gx);
    free(s->Cx);
    free(s->Mx);
    free(s->bc);
    free(s->x);
    free(s->y);
    free(s->w);
    free(s->vr);
    free(s);
    *sp = NULL;
}

/* The pattern, from one sorted pass over the stamps (values assembled
 * later by assemble()). */
static int build_pattern(ssp_step *s)
{
    size_t m = walk(s, NULL, 0), i;
    trip *t = malloc((m ? m : 1) * sizeof *t);
    if (!t) return SSP_ENOMEM;
    walk(s, t, 0);
    qsort(t, m, sizeof *t, cmp_trip);
    s->Ap = calloc((size_t)s->n + 1, sizeof *s->Ap);
    s->Ai = malloc((m ? m : 1) * sizeof *s->Ai);
    if (!s->Ap || !s->Ai) {
        free(t);
        return SSP_ENOMEM;
    }
    s->nnz = 0;
    for (i = 0; i < m; i++) {
        if (i && t[i].c == t[i - 1].c && t[i].r == t[i - 1].r) continue;
        s->Ai[s->nnz++] = t[i].r;
        s->Ap[t[i].c + 1]++;
    }
    for (int j = 0; j < s->n; j++) s->Ap[j + 1] += s->Ap[j];
    free(t);
    return SSP_OK;
}

int ssp_step_create(ssp_step **out, ssp_ctx *ctx, const ssp_circuit *c)
{
    const ssp_element *el = ssp_circuit_elements(c);
    const ssp_tile_params *p = ssp_circuit_params(c);
    size_t i, ne = ssp_circuit_n_elements(c), n;
    ssp_step *s;
    int nb = 0;
    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the step-response solver");
    s->ctx = ctx;
    s->c = c;
    s->nn = (int)ssp_circuit_n_nodes(c);
    s->branch = malloc((ne ? ne : 1) * sizeof *s->branch);
    s->src_row = malloc(p->rows * sizeof *s->src_row);
    if (!s->branch || !s->src_row) goto oom;
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
    if (build_pattern(s)) goto oom;
    s->Gx = malloc((size_t)s->nnz * sizeof *s->Gx);
    s->Cx = malloc((size_t)s->nnz * sizeof *s->Cx);
    s->Mx = malloc((size_t)s->nnz * sizeof *s->Mx);
    s->bc = calloc(n, sizeof *s->bc);
    s->x = malloc(n * sizeof *s->x);
    s->y = malloc(n * sizeof *s->y);
    s->w = malloc(n * sizeof *s->w);
    s->vr = malloc(p->rows * sizeof *s->vr);
    if (!s->Gx || !s->Cx || !s->Mx || !s->bc || !s->x || !s->y || !s->w || !s->vr) goto oom;
    for (i = 0; i < ne; i++)
        if (el[i].kind == SSP_EL_VSRC && el[i].index < 0) s->bc[s->branch[i]] = el[i].value;
    klu_defaults(&s->common);
    s->sym = klu_analyze(s->n, s->Ap, s->Ai, &s->common);
    if (!s->sym) {
        ssp_step_destroy(&s);
        return ssp_error(ctx, SSP_ENOMEM, "klu_analyze failed on the %zu-unknown transient tile matrix", n);
    }
    *out = s;
    return SSP_OK;
oom:
    ssp_step_destroy(&s);
    return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the step-response solver");
}


/* Assemble G and C for the circuit's present cells. */
static void assemble(ssp_step *s)
{
    memset(s->Gx, 0, (size_t)s->nnz * sizeof *s->Gx);
    memset(s->Cx, 0, (size_t)s->nnz * sizeof *s->Cx);
    walk(s, NULL, 1);
}

static int klu_fail(ssp_step *s, const char *what)
{
    if (s->common.status == KLU_OUT_OF_MEMORY) return ssp_error(s->ctx, SSP_ENOMEM, "out of memory in %s", what);
    return ssp_error(s->ctx, SSP_ESINGULAR, "%s: the transient tile matrix is singular (KLU status %d)", what,
                     s->common.status);
}

/* G for the present cells, factored. */
static int prepare_g(ssp_step *s)
{
    int rc;
    unsigned long v = ssp_circuit_version(s->c);
    if (s->g_ok && s->g_version == v) return SSP_OK;
    if (v == 0) return ssp_error(s->ctx, SSP_ESTATE, "step response: the cell state was never set");
    rc = check_linear(s);
    if (rc) return rc;
    assemble(s);
    if (s->numG) klu_free_numeric(&s->numG, &s->common);
    s->numG = klu_factor(s->Ap, s->Ai, s->Gx, s->sym, &s->common);
    if (!s->numG || s->common.status != KLU_OK) return klu_fail(s, "klu_factor(G)");
    s->g_ok = 1;
    s->g_version = v;
    s->h_m = 0;
    return SSP_OK;
}

/* G + (2/h)·C factored for step h. */
static int prepare_m(ssp_step *s, double h)
{
    int rc = prepare_g(s);
    if (rc) return rc;
    if (s->numM && s->h_m == h && s->m_version == s->g_version) return SSP_OK;
    for (int q = 0; q < s->nnz; q++) s->Mx[q] = s->Gx[q] + (2.0 / h) * s->Cx[q];
    if (s->numM) klu_free_numeric(&s->numM, &s->common);
    s->numM = klu_factor(s->Ap, s->Ai, s->Mx, s->sym, &s->common);
    if (!s->numM || s->common.status != KLU_OK) return klu_fail(s, "klu_factor(G + 2C/h)");
    s->h_m = h;
    s->m_version = s->g_version;
    return SSP_OK;
}

/* y = A·x for CSC values ax (y cleared first). */
static void matvec(const ssp_step *s, const double *ax, const double *x, double *y)
{
    memset(y, 0, (size_t)s->n * sizeof *y);
    for (int j = 0; j < s->n; j++) {
        double xj = x[j];
        if (xj == 0) continue;
        for (int q = s->Ap[j]; q < s->Ap[j + 1]; q++) y[s->Ai[q]] += ax[q] * xj;
    }
}

/* b = b_const + rows (v_rows NULL: 0) into y, scaled by f. */
static void rhs_b(const ssp_step *s, const double *v_rows, double f, double *y)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    for (int i = 0; i < s->n; i++) y[i] = f * s->bc[i];
    if (v_rows)
        for (size_t r = 0; r < p->rows; r++) y[s->src_row[r]] += f * v_rows[r];
}

/* Power the row sources deliver in state x (W). */
static double p_rows(const ssp_step *s, const double *v_rows, const double *x)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    double pw = 0;
    if (!v_rows) return 0;
    for (size_t r = 0; r < p->rows; r++) pw -= v_rows[r] * x[s->src_row[r]];
    return pw;
}

static void outputs(const ssp_step *s, const double *x, double *out)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    for (size_t j = 0; j < p->cols; j++) out[j] = x[ux(ssp_circuit_out_node(s->c, j))];
}

int ssp_step_dc(ssp_step *s, const double *v_rows, double *out, double *p_rows_w)
{
    int rc = prepare_g(s);
    if (rc) return rc;
    rhs_b(s, v_rows, 1.0, s->w);
    if (!klu_solve(s->sym, s->numG, s->n, 1, s->w, &s->common)) return klu_fail(s, "klu_solve(G)");
    if (out) outputs(s, s->w, out);
    if (p_rows_w) *p_rows_w = p_rows(s, v_rows, s->w);
    return SSP_OK;
}

/* The stepper: state in s->x at time k·h (after begin: k = 1). */
typedef struct stepper {
    ssp_step *s;
    const double *v;
    double h;
    double e;  /* energy delivered so far (J) */
    double pw; /* power in the present state (W) */
} stepper;

/* x0 (the state before the step) into s->x. */
static int begin(stepper *st)
{
    ssp_step *s = st->s;
    int rc = prepare_m(s, st->h);
    if (rc) return rc;
    rhs_b(s, NULL, 1.0, s->x);
    if (!klu_solve(s->sym, s->numG, s->n, 1, s->x, &s->common)) return klu_fail(s, "klu_solve(G)");
    st->e = 0;
    st->pw = 0;
    return SSP_OK;
}

/* One backward-Euler step of h/2: (G + 2C/h)·x1 = (2/h)·C·x0 + b. Its
 * energy is the end-point rule, the quadrature consistent with the method
 * (it conserves the charge the step puts on the capacitors). */
static int be_half(stepper *st)
{
    ssp_step *s = st->s;
    matvec(s, s->Cx, s->x, s->y);
    rhs_b(s, st->v, 1.0, s->w);
    for (int i = 0; i < s->n; i++) s->w[i] += (2.0 / st->h) * s->y[i];
    if (!klu_solve(s->sym, s->numM, s->n, 1, s->w, &s->common)) return klu_fail(s, "klu_solve(G + 2C/h)");
    memcpy(s->x, s->w, (size_t)s->n * sizeof *s->x);
    st->pw = p_rows(s, st->v, s->x);
    st->e += st->pw * 0.5 * st->h;
    return SSP_OK;
}

/* One trapezoidal step of h: (G + 2C/h)·x1 = (2C/h − G)·x0 + 2b. */
static int tr_step(stepper *st)
{
    ssp_step *s = st->s;
    double p0 = st->pw;
    matvec(s, s->Cx, s->x, s->y);
    matvec(s, s->Gx, s->x, s->w);
    for (int i = 0; i < s->n; i++) s->y[i] = (2.0 / st->h) * s->y[i] - s->w[i];
    rhs_b(s, st->v, 2.0, s->w);
    for (int i = 0; i < s->n; i++) s->w[i] += s->y[i];
    if (!klu_solve(s->sym, s->numM, s->n, 1, s->w, &s->common)) return klu_fail(s, "klu_solve(G + 2C/h)");
    memcpy(s->x, s->w, (size_t)s->n * sizeof *s->x);
    st->pw = p_rows(s, st->v, s->x);
    st->e += 0.5 * (p0 + st->pw) * st->h;
    return SSP_OK;
}

/* Advance to the next grid point: the first is two BE half steps. */
static int advance(stepper *st, size_t k)
{
    int rc;
    if (k == 1) {
        rc = be_half(st);
        return rc ? rc : be_half(st);
    }
    return tr_step(st);
}

static void record(const ssp_step *s, const int *probe, size_t nprobe, size_t k, double *out, double *probe_v)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    if (out) outputs(s, s->x, out + k * p->cols);
    if (probe_v)
        for (size_t i = 0; i < nprobe; i++) probe_v[k * nprobe + i] = probe[i] > 0 ? s->x[probe[i] - 1] : 0.0;
}

int ssp_step_run(ssp_step *s, const double *v_rows, double h, size_t nsteps, double *out, const int *probe,
                 size_t nprobe, double *probe_v, double *e_rows)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    stepper st = {s, s->vr, h, 0, 0};
    int rc;
    if (!(h > 0) || !isfinite(h)) return ssp_error(s->ctx, SSP_EINVAL, "step response: step h = %g s must be > 0", h);
    for (size_t i = 0; i < nprobe; i++)
        if (probe[i] < 0 || (size_t)probe[i] > ssp_circuit_n_nodes(s->c))
            return ssp_error(s->ctx, SSP_EINVAL, "step response: probe node %d is not a node of the tile", probe[i]);
    memcpy(s->vr, v_rows, p->rows * sizeof *s->vr);
    rc = begin(&st);
    if (rc) return rc;
    record(s, probe, nprobe, 0, out, probe_v);
    if (e_rows) e_rows[0] = 0;
    for (size_t k = 1; k <= nsteps; k++) {
        rc = advance(&st, k);
        if (rc) return rc;
        record(s, probe, nprobe, k, out, probe_v);
        if (e_rows) e_rows[k] = st.e;
    }
    return SSP_OK;
}

/* Closed-loop time-constant estimates of the TIAs: (1 + Rf·ΣG_col)/(2π·GBW),
 * ΣG_col the column's cell conductances (the loop's feedback factor is
 * 1/(1 + Rf·G_in)); for an ideal TIA (or no TIA pole) the wire's Elmore
 * delay of the longest path instead. */
static void tau_range(const ssp_step *s, double *tmin, double *tmax)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    const ssp_cell_iv *iv = ssp_circuit_cells(s->c);
    *tmin = INFINITY;
    *tmax = 0;
    if (!p->tia.ideal) {
        for (size_t j = 0; j < p->cols; j++) {
            double g = 0, t;
            for (size_t i = 0; i < p->rows; i++) g += iv[i * p->cols + j].g;
            t = (1.0 + p->tia.r_f * g) / (SSP_STEP_TWO_PI * p->tia.gbw_hz);
            if (t < *tmin) *tmin = t;
            if (t > *tmax) *tmax = t;
        }
    } else {
        double cn = ssp_tile_c_segment(p) + p->c_cell, rs = ssp_tile_r_segment(p);
        double rl = p->r_driver + p->dac.r_out + (double)p->cols * rs + (double)p->rows * rs + p->r_sense;
        double t = rl * cn * (double)(p->rows + p->cols);
        *tmin = *tmax = t;
    }
}

int ssp_step_settle(ssp_step *s, const double *v_rows, double tol_v, double t_sample, ssp_step_settling *r,
                    double *frac)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    size_t cols = p->cols, j, k, last = 0, k_sample = 0;
    int moved = 0; /* some grid point, the first included, was out of the band */
    double *o0 = NULL, *oinf = NULL, *prev = NULL, *cur = NULL, *osam = NULL, h, lo, hi;
    double e_settle = 0, e_sample = 0;
    stepper st;
    int rc;
    memset(r, 0, sizeof *r);
    r->t_sample_s = t_sample;
    if (!(tol_v > 0)) return ssp_error(s->ctx, SSP_EINVAL, "step response: settling tolerance %g V must be > 0", tol_v);
    if (!(t_sample >= 0) || !isfinite(t_sample))
        return ssp_error(s->ctx, SSP_EINVAL, "step response: sample time %g s must be >= 0", t_sample);
    rc = prepare_g(s);
    if (rc) return rc;
    tau_range(s, &r->tau_min_s, &r->tau_max_s);
    o0 = malloc(cols * sizeof *o0);
    oinf = malloc(cols * sizeof *oinf);
    prev = malloc(cols * sizeof *prev);
    cur = malloc(cols * sizeof *cur);
    osam = malloc(cols * sizeof *osam);
    if (!o0 || !oinf || !prev || !cur || !osam) {
        rc = ssp_error(s->ctx, SSP_ENOMEM, "out of memory in the step response");
        goto done;
    }
    rc = ssp_step_dc(s, NULL, o0, NULL);
    if (!rc) rc = ssp_step_dc(s, v_rows, oinf, &r->p_rows_w);
    if (rc) goto done;
    if (!(r->tau_min_s > 0) || !isfinite(r->tau_min_s)) {
        /* no reactive element: the read is settled at once */
        memcpy(osam, oinf, cols * sizeof *osam);
        r->h_s = 0;
        goto finish;
    }
    h = r->tau_min_s / SSP_STEP_PER_TAU;
    if (t_sample > 0) h = t_sample / ceil(t_sample / h);
    r->h_s = h;
    memcpy(s->vr, v_rows, p->rows * sizeof *s->vr);
    st = (stepper){s, s->vr, h, 0, 0};
    rc = begin(&st);
    if (rc) goto done;
    outputs(s, s->x, prev);
    lo = p->tia.v_lo + p->tia.v_knee;
    hi = p->tia.v_hi - p->tia.v_knee;
    for (j = 0; j < cols; j++) {
        if (fabs(prev[j] - oinf[j]) > tol_v) {
            moved = 1;
            r->worst_col = j;
        }
        if (!p->tia.ideal && (prev[j] < lo || prev[j] > hi)) r->rails = 1;
    }
    k_sample = t_sample > 0 ? (size_t)llround(t_sample / h) : 0;
    if (k_sample == 0) memcpy(osam, oinf, cols * sizeof *osam);
    for (k = 1;; k++) {
        int out_of_band = 0;
        if (k > SSP_STEP_MAX_STEPS) {
            rc = ssp_error(s->ctx, SSP_ECONVERGE, "step response: not settled to %.3g V within %d steps of %.3g s "
                           "(%.3g s)", tol_v, SSP_STEP_MAX_STEPS, h, h * SSP_STEP_MAX_STEPS);
            goto done;
        }
        rc = advance(&st, k);
        if (rc) goto done;
        outputs(s, s->x, cur);
        for (j = 0; j < cols; j++) {
            /* the first interval holds the unresolved start (BE) */
            double slope = fabs(cur[j] - prev[j]) / h;
            if (k > 1 && slope > r->slope_max) r->slope_max = slope;
            if (fabs(cur[j] - oinf[j]) > tol_v) {
                out_of_band = 1;
                if (last != k) r->worst_col = j;
            }
            if (!p->tia.ideal && (cur[j] < lo || cur[j] > hi)) r->rails = 1;
        }
        if (out_of_band) {
            last = k;
            moved = 1;
        }
        if (k == last + 1) e_settle = st.e;
        if (k == k_sample) {
            memcpy(osam, cur, cols * sizeof *osam);
            e_sample = st.e;
        }
        memcpy(prev, cur, cols * sizeof *prev);
        if (k >= k_sample && k >= last + SSP_STEP_PER_TAU) break;
    }
    r->steps = k;
    /* the settling instant between the last out-of-band point and the next */
    r->t_settle_s = moved ? (double)(last + 1) * h : 0;
    r->e_rows_j = k_sample ? e_sample : e_settle;
finish:
    r->slews = !p->tia.ideal && r->slope_max > p->tia.slew;
    for (j = 0; j < cols; j++) {
        double d = fabs(osam[j] - oinf[j]), span = oinf[j] - o0[j];
        if (d > r->err_sample_v) r->err_sample_v = d;
        if (frac) frac[j] = fabs(span) > SSP_STEP_FLAT_V ? (osam[j] - o0[j]) / span : 1.0;
    }
done:
    free(o0);
    free(oinf);
    free(prev);
    free(cur);
    free(osam);
    return rc;
}

int ssp_step_sample(ssp_step *s, const double *v_rows, double t_sample, double *frac, double *out0, size_t *steps)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    size_t cols = p->cols, j, k, ns;
    double *o0 = NULL, *oinf = NULL, *cur = NULL, tmin, tmax, h;
    stepper st;
    int rc;
    if (!(t_sample > 0) || !isfinite(t_sample))
        return ssp_error(s->ctx, SSP_EINVAL, "step response: sample time %g s must be > 0", t_sample);
    rc = prepare_g(s);
    if (rc) return rc;
    tau_range(s, &tmin, &tmax);
    o0 = malloc(cols * sizeof *o0);
    oinf = malloc(cols * sizeof *oinf);
    cur = malloc(cols * sizeof *cur);
    if (!o0 || !oinf || !cur) {
        rc = ssp_error(s->ctx, SSP_ENOMEM, "out of memory in the step response");
        goto done;
    }
    rc = ssp_step_dc(s, NULL, o0, NULL);
    if (!rc) rc = ssp_step_dc(s, v_rows, oinf, NULL);
    if (rc) goto done;
    if (!(tmin > 0) || !isfinite(tmin)) {
        memcpy(cur, oinf, cols * sizeof *cur);
        ns = 0;
    } else {
        ns = (size_t)ceil(t_sample / (tmin / SSP_STEP_PER_TAU));
        if (ns > SSP_STEP_MAX_STEPS) {
            rc = ssp_error(s->ctx, SSP_ECONVERGE, "step response: t_sample = %g s needs %zu steps of the smallest time "
                           "constant %g s / %d (more than %d)", t_sample, ns, tmin, SSP_STEP_PER_TAU, SSP_STEP_MAX_STEPS);
            goto done;
        }
        h = t_sample / (double)ns;
        memcpy(s->vr, v_rows, p->rows * sizeof *s->vr);
        st = (stepper){s, s->vr, h, 0, 0};
        rc = begin(&st);
        for (k = 1; k <= ns && !rc; k++) rc = advance(&st, k);
        if (rc) goto done;
        outputs(s, s->x, cur);
    }
    for (j = 0; j < cols; j++) {
        double span = oinf[j] - o0[j];
        frac[j] = fabs(span) > SSP_STEP_FLAT_V ? (cur[j] - o0[j]) / span : 1.0;
    }
    if (out0) memcpy(out0, o0, cols * sizeof *out0);
    if (steps) *steps = ns;
done:
    free(o0);
    free(oinf);
    free(cur);
    return rc;
}

int ssp_step_row_admittance(ssp_step *s, double *Y, double *i0)
{
    const ssp_tile_params *p = ssp_circuit_params(s->c);
    size_t rows = p->rows, i, k;
    int rc = prepare_g(s);
    if (rc) return rc;
    /* i0: all rows at 0 V */
    rhs_b(s, NULL, 1.0, s->w);
    if (!klu_solve(s->sym, s->numG, s->n, 1, s->w, &s->common)) return klu_fail(s, "klu_solve(G)");
    for (i = 0; i < rows; i++) i0[i] = -s->w[s->src_row[i]];
    /* column k of Y: row k at 1 V, the constant sources off (linearity) */
    for (k = 0; k < rows; k++) {
        memset(s->w, 0, (size_t)s->n * sizeof *s->w);
        s->w[s->src_row[k]] = 1.0;
        if (!klu_solve(s->sym, s->numG, s->n, 1, s->w, &s->common)) return klu_fail(s, "klu_solve(G)");
        for (i = 0; i < rows; i++) Y[i * rows + k] = -s->w[s->src_row[i]];
    }
    return SSP_OK;
}
