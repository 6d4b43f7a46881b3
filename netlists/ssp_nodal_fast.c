/* ssp_nodal_fast.c — the fast exact read path of the nodal solver (see
 * nodal_fast.h for the method). It reads the element list and the element
 * equations of ssp_circuit.h, never a second description of the tile, and
 * it never prints. Everything is allocated in ssp_nodal_fast_create.
 *
 * Storage is column-major for the dense parts (BLAS/LAPACK):
 *   T   cols x (rows + 1): out = T[:, 0..rows−1]·v + T[:, rows]
 *   P   cols x rank_max:   P[:, k] = Sᵀ·w_k (output functionals of w_k)
 *   Q   (rows + 1) x rank_max: Q[:, k] = [Rᵀ·w_k ; r0ᵀ·w_k]
 *   G   rank_max x rank_max: G[k, l] = u_kᵀ·w_l (symmetric)
 * with w_k = A0⁻¹·u_k for the k-th changed cell of the set. */
#include "nodal_fast.h"

#include <cblas.h>
#include <cholmod.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK from the linked OpenBLAS (Debian ships no LAPACKE header for it). */
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a, const int *lda,
             const int *ipiv, double *b, const int *ldb, int *info);

/* Rank policy. Each newly changed cell costs one solve with the base
 * factorization; the dense update grows with the square of the rank. Once
 * the set holds SSP_NODAL_FAST_RANK_REBASE cells, the present state becomes
 * the new base: one numeric factorization, and T0 := T (the present transfer
 * matrix is already exact), so no solves. Every SSP_NODAL_FAST_FULL_EVERY
 * such rebases, and whenever more cells change at once than the set can
 * take (SSP_NODAL_FAST_RANK_MAX), T0 is recomputed from scratch by one
 * adjoint solve per output, so rounding never accumulates over a run. */
enum { SSP_NODAL_FAST_RANK_MAX = 256, SSP_NODAL_FAST_RANK_REBASE = 128 };
enum { SSP_NODAL_FAST_FULL_EVERY = 16 };
/* Right-hand sides per solve call. */
enum { SSP_NODAL_FAST_BLOCK = 32 };

/* Node classes of the reduction. */
enum { NODE_FREE = 0, NODE_FIXED = 1, NODE_INPUT = 2, NODE_DRIVEN = 3 };

struct ssp_nodal_fast {
    ssp_ctx *ctx;             /* borrowed */
    const ssp_circuit *c;     /* borrowed */
    size_t rows, cols, ncell; /* tile shape */
    int nf;                   /* free unknowns */
    /* reduced matrix A (CSC, full symmetric pattern), owned */
    int *Ap, *Ai, nnz;
    double *Ax;
    size_t n_fix;             /* stamps independent of the cells */
    int *fix_pos;             /* their positions in Ax (owned) */
    double *fix_val;          /* their values (owned) */
    int *cell_a, *cell_b;     /* per cell: free index of word / bit node (owned) */
    int *cell_pos;            /* per cell: Ax positions of aa, bb, ab, ba (owned) */
    double *r0;               /* nf: right-hand side from fixed sources (owned) */
    size_t n_rin;             /* input couplings: rhs[rin_f] += rin_v · v[rin_i] */
    int *rin_f, *rin_i;       /* (owned) */
    double *rin_v;            /* (owned) */
    int *os_p, *os_f;         /* outputs: out_j = oc_j + Σ os_v·x[os_f] over os_p[j].. (owned) */
    double *os_v, *oc;        /* (owned) */
    int *rail;                /* per column: output limited by the TIA rails (owned) */
    double rail_lo, rail_hi;  /* linear region of the rails (V) */
    /* CHOLMOD Cholesky of A (nested-dissection ordering) */
    cholmod_common cm;
    int cm_started;
    cholmod_sparse Am;        /* header over Ap/Ai/Ax (upper part used) */
    cholmod_factor *L;
    double *Y;                /* nf x SSP_NODAL_FAST_BLOCK, right-hand sides interleaved (owned) */
    /* base state and low-rank set */
    int have_base;
    int light_rebases;        /* rebases by T0 := T since the last full one */
    unsigned long version;    /* circuit version the transfer matrix holds */
    double *g_base;           /* per cell: conductance factored (S, owned) */
    int *slot;                /* per cell: index in the set or −1 (owned) */
    size_t rank, rank_max;
    int *set_cell;            /* set index -> cell (owned) */
    double *delta;            /* set index -> g − g_base (S, owned) */
    int *new_cell;            /* workspace: cells entering the set (owned) */
    double *T0, *T;           /* cols x (rows+1) base and present transfer (owned) */
    double *P, *Q, *G;        /* see the file comment (owned) */
    double *K, *X;            /* rank_max², (rows+1) x rank_max workspaces (owned) */
    int *ipiv;                /* rank_max (owned) */
    double *B;                /* nf x SSP_NODAL_FAST_BLOCK solve block (owned) */
    nodal_fast_counts counts;
};

void ssp_nodal_fast_destroy(ssp_nodal_fast **fp)
{
    ssp_nodal_fast *f;
    if (!fp || !*fp) return;
    f = *fp;
    if (f->cm_started) {
        cholmod_free_factor(&f->L, &f->cm);
        cholmod_finish(&f->cm);
    }
    free(f->Ap);
    free(f->Ai);
    free(f->Ax);
    free(f->fix_pos);
    free(f->fix_val);
    free(f->cell_a);
    free(f->cell_b);
    free(f->cell_pos);
    free(f->r0);
    free(f->rin_f);
    free(f->rin_i);
    free(f->rin_v);
    free(f->os_p);
    free(f->os_f);
    free(f->os_v);
    free(f->oc);
    free(f->rail);
    free(f->g_base);
    free(f->slot);
    free(f->set_cell);
    free(f->delta);
    free(f->new_cell);
    free(f->T0);
    free(f->T);
    free(f->P);
    free(f->Q);
    free(f->G);
    free(f->K);
    free(f->X);
    free(f->ipiv);
    free(f->B);
    free(f->Y);
    free(f);
    *fp = NULL;
}

/* ---- reduction ---------------------------------------------------------- */

/* Stamps recorded while the reduction is built. */
struct stamps {
    int *r, *c;     /* coordinates (free indices) */
    double *v;      /* value (fixed stamps) */
    int *cell;      /* cell index, or −1 for a fixed stamp */
    size_t n;
};

static void stamp(struct stamps *s, int r, int c, double v, int cell)
{
    s->r[s->n] = r;
    s->c[s->n] = c;
    s->v[s->n] = v;
    s->cell[s->n] = cell;
    s->n++;
}

/* CSC pattern of the stamps; pos[s] = index into Ax of stamp s. */
static int pattern(ssp_nodal_fast *f, const struct stamps *s, int *pos)
{
    size_t m = s->n, i;
    int n = f->nf, j, rc = SSP_ENOMEM;
    int *cnt = calloc((size_t)n + 1, sizeof *cnt), *rcnt = calloc((size_t)n + 1, sizeof *rcnt);
    int *tmp = malloc((m ? m : 1) * sizeof *tmp), *order = malloc((m ? m : 1) * sizeof *order);
    if (!cnt || !rcnt || !tmp || !order) goto done;
    for (i = 0; i < m; i++) rcnt[s->r[i] + 1]++;
    for (j = 0; j < n; j++) rcnt[j + 1] += rcnt[j];
    for (i = 0; i < m; i++) tmp[rcnt[s->r[i]]++] = (int)i;
    for (i = 0; i < m; i++) cnt[s->c[tmp[i]] + 1]++;
    for (j = 0; j < n; j++) cnt[j + 1] += cnt[j];
    for (i = 0; i < m; i++) order[cnt[s->c[tmp[i]]]++] = tmp[i];
    f->Ap = calloc((size_t)n + 1, sizeof *f->Ap);
    f->Ai = malloc((m ? m : 1) * sizeof *f->Ai);
    if (!f->Ap || !f->Ai) goto done;
    f->nnz = 0;
    {
        int pc = -1, pr = -1;
        for (i = 0; i < m; i++) {
            int t = order[i];
            if (s->c[t] != pc || s->r[t] != pr) {
                f->Ai[f->nnz++] = s->r[t];
                f->Ap[s->c[t] + 1]++;
                pc = s->c[t];
                pr = s->r[t];
            }
            pos[t] = f->nnz - 1;
        }
    }
    for (j = 0; j < n; j++) f->Ap[j + 1] += f->Ap[j];
    rc = SSP_OK;
done:
    free(cnt);
    free(rcnt);
    free(tmp);
    free(order);
    return rc;
}

/* Classify nodes and build the reduced system. Returns SSP_OK with
 * *eligible = 0 when the circuit has no exact reduction. */
static int reduce(ssp_nodal_fast *f, int *eligible)
{
    const ssp_circuit *c = f->c;
    const ssp_tile_params *p = ssp_circuit_params(c);
    const ssp_element *el = ssp_circuit_elements(c);
    size_t ne = ssp_circuit_n_elements(c), nn = ssp_circuit_n_nodes(c) + 1, i;
    int *cls = calloc(nn, sizeof *cls), *fin = calloc(nn, sizeof *fin);
    int *fidx = malloc(nn * sizeof *fidx), *drv = malloc(nn * sizeof *drv);
    int *ntouch = calloc(nn, sizeof *ntouch);
    double *fval = calloc(nn, sizeof *fval), A = p->tia.gain;
    struct stamps s = {NULL, NULL, NULL, NULL, 0};
    int *pos = NULL, rc = SSP_ENOMEM, ok = 1;
    size_t cap = 4 * ne + 16, nfix = 0, nos = 0;

    *eligible = 0;
    if (!cls || !fin || !fidx || !drv || !fval || !ntouch) goto done;
    cls[0] = NODE_FIXED; /* ground at 0 V */
    for (i = 0; i < nn; i++) drv[i] = -1;
    /* sources fix their + node; op-amps and CCVSs drive their output */
    for (i = 0; i < ne && ok; i++) {
        const ssp_element *e = &el[i];
        switch (e->kind) {
        case SSP_EL_VSRC:
            if (e->b != 0 || e->a == 0 || cls[e->a] != NODE_FREE) ok = 0;
            else if (e->index >= 0) cls[e->a] = NODE_INPUT, fin[e->a] = e->index;
            else cls[e->a] = NODE_FIXED, fval[e->a] = e->value;
            break;
        case SSP_EL_OPAMP:
            if (e->c == 0 || cls[e->c] != NODE_FREE) ok = 0;
            else cls[e->c] = NODE_DRIVEN, drv[e->c] = (int)i;
            break;
        case SSP_EL_CCVS:
            if (e->b != 0 || e->a == 0 || cls[e->a] != NODE_FREE) ok = 0;
            else cls[e->a] = NODE_DRIVEN, drv[e->a] = (int)i;
            break;
        case SSP_EL_RES:
        case SSP_EL_CELL:
            break;
        default: /* access transistors: not a linear read */
            ok = 0;
            break;
        }
    }
    /* an op-amp's + input is a fixed source, its − input free; a driven node
     * touches one resistor (op-amp: the feedback resistor to its − input) */
    for (i = 0; i < ne && ok; i++) {
        const ssp_element *e = &el[i];
        if (e->kind == SSP_EL_RES || e->kind == SSP_EL_CELL) {
            ntouch[e->a]++;
            ntouch[e->b]++;
        }
        if (e->kind == SSP_EL_OPAMP && (cls[e->a] != NODE_FIXED || cls[e->b] != NODE_FREE)) ok = 0;
        if (e->kind == SSP_EL_CCVS && el[e->index].kind != SSP_EL_VSRC) ok = 0;
        if (e->kind == SSP_EL_CCVS && cls[el[e->index].a] != NODE_FIXED) ok = 0;
    }
    for (i = 1; i < nn && ok; i++)
        if (cls[i] == NODE_DRIVEN)
            ok = el[drv[i]].kind == SSP_EL_OPAMP ? ntouch[i] == 1 : ntouch[i] == 0;
    if (!ok) {
        rc = SSP_OK;
        goto done;
    }
    f->nf = 0;
    for (i = 0; i < nn; i++) fidx[i] = cls[i] == NODE_FREE ? f->nf++ : -1;

    s.r = malloc(cap * sizeof *s.r);
    s.c = malloc(cap * sizeof *s.c);
    s.v = malloc(cap * sizeof *s.v);
    s.cell = malloc(cap * sizeof *s.cell);
    f->r0 = calloc((size_t)f->nf, sizeof *f->r0);
    f->rin_f = malloc(ne * sizeof *f->rin_f);
    f->rin_i = malloc(ne * sizeof *f->rin_i);
    f->rin_v = malloc(ne * sizeof *f->rin_v);
    f->os_p = calloc(f->cols + 1, sizeof *f->os_p);
    f->os_f = malloc((ne + f->cols) * sizeof *f->os_f);
    f->os_v = malloc((ne + f->cols) * sizeof *f->os_v);
    f->oc = calloc(f->cols, sizeof *f->oc);
    f->rail = calloc(f->cols, sizeof *f->rail);
    f->cell_a = malloc(f->ncell * sizeof *f->cell_a);
    f->cell_b = malloc(f->ncell * sizeof *f->cell_b);
    if (!s.r || !s.c || !s.v || !s.cell || !f->r0 || !f->rin_f || !f->rin_i || !f->rin_v ||
        !f->os_p || !f->os_f || !f->os_v || !f->oc || !f->rail || !f->cell_a || !f->cell_b)
        goto done;
    f->n_rin = 0;
    for (i = 0; i < ne && ok; i++) {
        const ssp_element *e = &el[i];
        int a = e->a, b = e->b;
        if (e->kind == SSP_EL_CELL) {
            /* a cell on a fixed node would put its g into the right-hand side */
            if (cls[a] != NODE_FREE || cls[b] != NODE_FREE) {
                ok = 0;
                break;
            }
            stamp(&s, fidx[a], fidx[a], 1.0, e->index);
            stamp(&s, fidx[b], fidx[b], 1.0, e->index);
            stamp(&s, fidx[a], fidx[b], -1.0, e->index);
            stamp(&s, fidx[b], fidx[a], -1.0, e->index);
            f->cell_a[e->index] = fidx[a];
            f->cell_b[e->index] = fidx[b];
        } else if (e->kind == SSP_EL_RES) {
            double g = 1.0 / e->value;
            if (cls[a] != NODE_FREE) { int t = a; a = b; b = t; }
            if (cls[a] != NODE_FREE) continue; /* between two fixed nodes */
            switch (cls[b]) {
            case NODE_FREE:
                stamp(&s, fidx[a], fidx[a], g, -1);
                stamp(&s, fidx[b], fidx[b], g, -1);
                stamp(&s, fidx[a], fidx[b], -g, -1);
                stamp(&s, fidx[b], fidx[a], -g, -1);
                break;
            case NODE_FIXED:
                stamp(&s, fidx[a], fidx[a], g, -1);
                f->r0[fidx[a]] += g * fval[b];
                break;
            case NODE_INPUT:
                stamp(&s, fidx[a], fidx[a], g, -1);
                f->rin_f[f->n_rin] = fidx[a];
                f->rin_i[f->n_rin] = fin[b];
                f->rin_v[f->n_rin] = g;
                f->n_rin++;
                break;
            default: { /* feedback resistor: V(b) = A·(V(+) − V(a)) */
                const ssp_element *o = &el[drv[b]];
                if (el[drv[b]].kind != SSP_EL_OPAMP || o->b != a) {
                    ok = 0;
                    break;
                }
                stamp(&s, fidx[a], fidx[a], (1.0 + A) * g, -1);
                f->r0[fidx[a]] += A * g * fval[o->a];
                break;
            }
            }
        }
    }
    if (!ok) {
        rc = SSP_OK;
        goto done;
    }
    /* output functionals */
    for (i = 0; i < f->cols && ok; i++) {
        int o = ssp_circuit_out_node(c, i);
        const ssp_element *d = o > 0 && cls[o] == NODE_DRIVEN ? &el[drv[o]] : NULL;
        f->os_p[i] = (int)nos;
        if (!d) {
            ok = 0;
        } else if (d->kind == SSP_EL_OPAMP) {
            /* out = A·(V(+) − V(−)) inside the rails */
            f->oc[i] = A * fval[d->a];
            f->os_f[nos] = fidx[d->b];
            f->os_v[nos++] = -A;
            f->rail[i] = 1;
        } else {
            /* out = value · I(sense source), the current the resistors
             * at the source's node t deliver into it */
            int t = el[d->index].a;
            size_t q;
            for (q = 0; q < ne && ok; q++) {
                const ssp_element *e = &el[q];
                int other;
                double g;
                if (e->kind == SSP_EL_CELL && (e->a == t || e->b == t)) ok = 0;
                if (e->kind != SSP_EL_RES || (e->a != t && e->b != t) || e->a == e->b) continue;
                other = e->a == t ? e->b : e->a;
                g = 1.0 / e->value;
                f->oc[i] -= d->value * g * fval[t];
                if (cls[other] == NODE_FREE) {
                    if (nos == ne + f->cols) ok = 0;
                    else f->os_f[nos] = fidx[other], f->os_v[nos++] = d->value * g;
                } else if (cls[other] == NODE_FIXED) {
                    f->oc[i] += d->value * g * fval[other];
                } else {
                    ok = 0;
                }
            }
        }
    }
    f->os_p[f->cols] = (int)nos;
    if (!ok) {
        rc = SSP_OK;
        goto done;
    }
    /* pattern and stamp positions */
    pos = malloc((s.n ? s.n : 1) * sizeof *pos);
    if (!pos || pattern(f, &s, pos)) goto done;
    for (i = 0; i < s.n; i++) nfix += s.cell[i] < 0;
    f->n_fix = nfix;
    f->fix_pos = malloc((nfix ? nfix : 1) * sizeof *f->fix_pos);
    f->fix_val = malloc((nfix ? nfix : 1) * sizeof *f->fix_val);
    f->cell_pos = malloc(4 * f->ncell * sizeof *f->cell_pos);
    f->Ax = malloc((size_t)f->nnz * sizeof *f->Ax);
    if (!f->fix_pos || !f->fix_val || !f->cell_pos || !f->Ax) goto done;
    nfix = 0;
    for (i = 0; i < s.n; i++) {
        if (s.cell[i] < 0) {
            f->fix_pos[nfix] = pos[i];
            f->fix_val[nfix++] = s.v[i];
        }
    }
    /* cell stamps come in groups of four, in the order aa, bb, ab, ba */
    i = 0;
    while (i < s.n) {
        if (s.cell[i] < 0) {
            i++;
            continue;
        }
        memcpy(&f->cell_pos[4 * (size_t)s.cell[i]], &pos[i], 4 * sizeof *pos);
        i += 4;
    }
    f->rail_lo = p->tia.v_lo + p->tia.v_knee;
    f->rail_hi = p->tia.v_hi - p->tia.v_knee;
    *eligible = 1;
    rc = SSP_OK;
done:
    free(cls);
    free(fin);
    free(fidx);
    free(drv);
    free(ntouch);
    free(fval);
    free(s.r);
    free(s.c);
    free(s.v);
    free(s.cell);
    free(pos);
    return rc;
}

int ssp_nodal_fast_create(ssp_nodal_fast **out, ssp_ctx *ctx, const ssp_circuit *c)
{
    const ssp_tile_params *p = ssp_circuit_params(c);
    ssp_nodal_fast *f;
    size_t rm, n1, i;
    int eligible = 0, rc;

    *out = NULL;
    f = calloc(1, sizeof *f);
    if (!f) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the fast nodal path");
    f->ctx = ctx;
    f->c = c;
    f->rows = p->rows;
    f->cols = p->cols;
    f->ncell = p->rows * p->cols;
    rc = reduce(f, &eligible);
    if (rc || !eligible) goto fail;
    rm = f->rank_max = SSP_NODAL_FAST_RANK_MAX < f->ncell ? SSP_NODAL_FAST_RANK_MAX : f->ncell;
    n1 = f->rows + 1;
    f->g_base = malloc(f->ncell * sizeof *f->g_base);
    f->slot = malloc(f->ncell * sizeof *f->slot);
    f->set_cell = malloc(rm * sizeof *f->set_cell);
    f->delta = malloc(rm * sizeof *f->delta);
    f->new_cell = malloc(rm * sizeof *f->new_cell);
    f->T0 = malloc(f->cols * n1 * sizeof *f->T0);
    f->T = malloc(f->cols * n1 * sizeof *f->T);
    f->P = malloc(f->cols * rm * sizeof *f->P);
    f->Q = malloc(n1 * rm * sizeof *f->Q);
    f->G = malloc(rm * rm * sizeof *f->G);
    f->K = malloc(rm * rm * sizeof *f->K);
    f->X = malloc(n1 * rm * sizeof *f->X);
    f->ipiv = malloc(rm * sizeof *f->ipiv);
    f->B = malloc((size_t)f->nf * SSP_NODAL_FAST_BLOCK * sizeof *f->B);
    f->Y = malloc((size_t)f->nf * SSP_NODAL_FAST_BLOCK * sizeof *f->Y);
    rc = SSP_ENOMEM;
    if (!f->g_base || !f->slot || !f->set_cell || !f->delta || !f->new_cell || !f->T0 || !f->T ||
        !f->P || !f->Q || !f->G || !f->K || !f->X || !f->ipiv || !f->B || !f->Y)
        goto fail;
    for (i = 0; i < f->ncell; i++) f->slot[i] = -1;
    cholmod_start(&f->cm);
    f->cm_started = 1;
    f->cm.print = 0;
    /* simplicial: the tile's supernodes are small, and per-supernode BLAS
     * calls cost more than they save (measured: bench-nodal) */
    f->cm.supernodal = CHOLMOD_SIMPLICIAL;
    f->cm.nmethods = 1;
    f->cm.method[0].ordering = CHOLMOD_NESDIS;
    f->Am.nrow = f->Am.ncol = (size_t)f->nf;
    f->Am.nzmax = (size_t)f->nnz;
    f->Am.p = f->Ap;
    f->Am.i = f->Ai;
    f->Am.x = f->Ax;
    f->Am.stype = 1;
    f->Am.itype = CHOLMOD_INT;
    f->Am.xtype = CHOLMOD_REAL;
    f->Am.dtype = CHOLMOD_DOUBLE;
    f->Am.sorted = 1;
    f->Am.packed = 1;
    memset(f->Ax, 0, (size_t)f->nnz * sizeof *f->Ax);
    f->L = cholmod_analyze(&f->Am, &f->cm);
    if (!f->L) {
        rc = f->cm.status == CHOLMOD_OUT_OF_MEMORY ? SSP_ENOMEM : SSP_EINVAL;
        ssp_nodal_fast_destroy(&f);
        return ssp_error(ctx, rc, "cholmod_analyze failed on the reduced tile matrix (status %d)",
                         rc);
    }
    *out = f;
    return SSP_OK;
fail:
    ssp_nodal_fast_destroy(&f);
    if (rc) return ssp_error(ctx, rc, "out of memory creating the fast nodal path");
    return SSP_OK;
}

int ssp_nodal_fast_applies(const ssp_nodal_fast *f)
{
    return f && !ssp_circuit_is_nonlinear(f->c);
}

const nodal_fast_counts *ssp_nodal_fast_counts(const ssp_nodal_fast *f) { return &f->counts; }

/* ---- base state ----------------------------------------------------------- */

static int factor(ssp_nodal_fast *f)
{
    const ssp_cell_iv *iv = ssp_circuit_cells(f->c);
    size_t i;
    memset(f->Ax, 0, (size_t)f->nnz * sizeof *f->Ax);
    for (i = 0; i < f->n_fix; i++) f->Ax[f->fix_pos[i]] += f->fix_val[i];
    for (i = 0; i < f->ncell; i++) {
        const int *q = &f->cell_pos[4 * i];
        double g = iv[i].g;
        f->Ax[q[0]] += g;
        f->Ax[q[1]] += g;
        f->Ax[q[2]] -= g;
        f->Ax[q[3]] -= g;
        f->g_base[i] = g;
    }
    if (!cholmod_factorize(&f->Am, f->L, &f->cm) || f->cm.status != CHOLMOD_OK) {
        if (f->cm.status == CHOLMOD_OUT_OF_MEMORY)
            return ssp_error(f->ctx, SSP_ENOMEM, "out of memory in cholmod_factorize");
        return ssp_error(f->ctx, SSP_ESINGULAR,
                         "cholmod_factorize: the reduced tile matrix is not positive definite "
                         "(CHOLMOD status %d)", f->cm.status);
    }
    if (f->counts.factors) f->counts.refactors++;
    else f->counts.factors++;
    return SSP_OK;
}

/* Solve A·X = B for the first nrhs columns of B (column-major, nf rows), in
 * place, with the simplicial factor P·A·Pᵀ = L·D·Lᵀ (or L·Lᵀ). The
 * right-hand sides are interleaved in Y so that the inner loops run over
 * them contiguously; nothing is allocated. */
static void solve_block(ssp_nodal_fast *f, int nrhs)
{
    const cholmod_factor *L = f->L;
    const int *Lp = L->p, *Li = L->i, *Lnz = L->nz, *perm = L->Perm;
    const double *Lx = L->x;
    size_t n = (size_t)f->nf, nb = (size_t)nrhs, j, q;
    int ll = L->is_ll;
    double *Y = f->Y;
    for (j = 0; j < n; j++)
        for (q = 0; q < nb; q++) Y[j * nb + q] = f->B[q * n + (size_t)perm[j]];
    for (j = 0; j < n; j++) { /* L·z = P·b (and D scaling) */
        double *yj = Y + j * nb;
        int p0 = Lp[j], p1 = Lp[j] + Lnz[j], p;
        if (ll)
            for (q = 0; q < nb; q++) yj[q] /= Lx[p0];
        for (p = p0 + 1; p < p1; p++) {
            double *yi = Y + (size_t)Li[p] * nb, l = Lx[p];
            for (q = 0; q < nb; q++) yi[q] -= l * yj[q];
        }
    }
    if (!ll)
        for (j = 0; j < n; j++) {
            double d = Lx[Lp[j]], *yj = Y + j * nb;
            for (q = 0; q < nb; q++) yj[q] /= d;
        }
    for (j = n; j-- > 0;) { /* Lᵀ·y = z */
        double *yj = Y + j * nb;
        int p0 = Lp[j], p1 = Lp[j] + Lnz[j], p;
        for (p = p0 + 1; p < p1; p++) {
            const double *yi = Y + (size_t)Li[p] * nb;
            double l = Lx[p];
            for (q = 0; q < nb; q++) yj[q] -= l * yi[q];
        }
        if (ll)
            for (q = 0; q < nb; q++) yj[q] /= Lx[p0];
    }
    for (j = 0; j < n; j++)
        for (q = 0; q < nb; q++) f->B[q * n + (size_t)perm[j]] = Y[j * nb + q];
}

/* Factor the present cells and compute T0 by one adjoint solve per output. */
static int rebase(ssp_nodal_fast *f)
{
    size_t M = f->cols, N = f->rows, nf = (size_t)f->nf, j0, i;
    int rc = factor(f);
    if (rc) return rc;
    for (j0 = 0; j0 < M; j0 += SSP_NODAL_FAST_BLOCK) {
        size_t nb = M - j0 < SSP_NODAL_FAST_BLOCK ? M - j0 : SSP_NODAL_FAST_BLOCK, q;
        memset(f->B, 0, nb * nf * sizeof *f->B);
        for (q = 0; q < nb; q++)
            for (int e = f->os_p[j0 + q]; e < f->os_p[j0 + q + 1]; e++)
                f->B[q * nf + (size_t)f->os_f[e]] += f->os_v[e];
        solve_block(f, (int)nb);
        for (q = 0; q < nb; q++) {
            const double *z = f->B + q * nf;
            size_t j = j0 + q;
            for (i = 0; i < N; i++) f->T0[i * M + j] = 0.0;
            for (i = 0; i < f->n_rin; i++)
                f->T0[(size_t)f->rin_i[i] * M + j] += f->rin_v[i] * z[f->rin_f[i]];
            f->T0[N * M + j] = f->oc[j] + cblas_ddot(f->nf, z, 1, f->r0, 1);
        }
    }
    for (i = 0; i < f->rank; i++) f->slot[f->set_cell[i]] = -1;
    f->rank = 0;
    memcpy(f->T, f->T0, M * (N + 1) * sizeof *f->T);
    f->have_base = 1;
    f->light_rebases = 0;
    return SSP_OK;
}

/* Make the present state (whose T is exact) the base: factor it, T0 := T. */
static int rebase_light(ssp_nodal_fast *f)
{
    size_t i;
    int rc;
    if (f->light_rebases + 1 >= SSP_NODAL_FAST_FULL_EVERY) return rebase(f);
    rc = factor(f);
    if (rc) return rc;
    for (i = 0; i < f->rank; i++) f->slot[f->set_cell[i]] = -1;
    f->rank = 0;
    memcpy(f->T0, f->T, f->cols * (f->rows + 1) * sizeof *f->T0);
    f->light_rebases++;
    return SSP_OK;
}

/* Add cells new_cell[0..nnew) to the set: one solve each, then their
 * columns of P, Q and G. */
static int extend(ssp_nodal_fast *f, size_t nnew)
{
    size_t M = f->cols, N = f->rows, nf = (size_t)f->nf, rm = f->rank_max, k0, i;
    for (k0 = 0; k0 < nnew; k0 += SSP_NODAL_FAST_BLOCK) {
        size_t nb = nnew - k0 < SSP_NODAL_FAST_BLOCK ? nnew - k0 : SSP_NODAL_FAST_BLOCK, q;
        memset(f->B, 0, nb * nf * sizeof *f->B);
        for (q = 0; q < nb; q++) {
            int cell = f->new_cell[k0 + q];
            f->B[q * nf + (size_t)f->cell_a[cell]] = 1.0;
            f->B[q * nf + (size_t)f->cell_b[cell]] = -1.0;
        }
        solve_block(f, (int)nb);
        f->counts.cell_solves += nb;
        for (q = 0; q < nb; q++) {
            const double *w = f->B + q * nf;
            size_t k = f->rank, j, l;
            int cell = f->new_cell[k0 + q];
            double *pk = f->P + k * M, *qk = f->Q + k * (N + 1);
            for (j = 0; j < M; j++) {
                double s = 0;
                for (int e = f->os_p[j]; e < f->os_p[j + 1]; e++) s += f->os_v[e] * w[f->os_f[e]];
                pk[j] = s;
            }
            for (i = 0; i <= N; i++) qk[i] = 0.0;
            for (i = 0; i < f->n_rin; i++) qk[f->rin_i[i]] += f->rin_v[i] * w[f->rin_f[i]];
            qk[N] = cblas_ddot(f->nf, w, 1, f->r0, 1);
            f->set_cell[k] = cell;
            f->slot[cell] = (int)k;
            f->rank++;
            for (l = 0; l <= k; l++) {
                int cl = f->set_cell[l];
                double v = w[f->cell_a[cl]] - w[f->cell_b[cl]];
                f->G[k * rm + l] = v;
                f->G[l * rm + k] = v;
            }
        }
    }
    return SSP_OK;
}

/* T = T0 − P·K⁻¹·Δ·Q with K = I + Δ·G. Returns SSP_ESINGULAR when K is. */
static int woodbury(ssp_nodal_fast *f)
{
    size_t M = f->cols, N = f->rows, R = f->rank, rm = f->rank_max, k, l, i;
    int r = (int)R, n1 = (int)N + 1, info = 0;
    memcpy(f->T, f->T0, M * (N + 1) * sizeof *f->T);
    if (R == 0) return SSP_OK;
    /* column-major R x R: K[l*R + k] = δ_kl + Δ_k G_kl */
    for (l = 0; l < R; l++)
        for (k = 0; k < R; k++) f->K[l * R + k] = (k == l) + f->delta[k] * f->G[k * rm + l];
    /* column-major R x (N+1): X[i*R + k] = Δ_k Q[i, k] */
    for (k = 0; k < R; k++)
        for (i = 0; i <= N; i++) f->X[i * R + k] = f->delta[k] * f->Q[k * (N + 1) + i];
    dgetrf_(&r, &r, f->K, &r, f->ipiv, &info);
    if (info != 0) return SSP_ESINGULAR;
    dgetrs_("N", &r, &n1, f->K, &r, f->ipiv, f->X, &r, &info);
    if (info != 0) return SSP_ESINGULAR;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)M, n1, r, -1.0, f->P, (int)M,
                f->X, r, 1.0, f->T, (int)M);
    return SSP_OK;
}

int ssp_nodal_fast_update(ssp_nodal_fast *f)
{
    const ssp_cell_iv *iv = ssp_circuit_cells(f->c);
    size_t i, nnew = 0;
    int rc;
    if (f->have_base && f->version == ssp_circuit_version(f->c)) return SSP_OK;
    if (f->have_base) {
        for (i = 0; i < f->ncell; i++) {
            if (iv[i].g == f->g_base[i] || f->slot[i] >= 0) continue;
            if (f->rank + nnew == f->rank_max) break;
            f->new_cell[nnew++] = (int)i;
        }
    }
    if (!f->have_base || i < f->ncell) {
        rc = rebase(f);
    } else {
        rc = extend(f, nnew);
        for (i = 0; !rc && i < f->rank; i++)
            f->delta[i] = iv[f->set_cell[i]].g - f->g_base[f->set_cell[i]];
        if (!rc) rc = woodbury(f);
        if (rc == SSP_ESINGULAR) rc = rebase(f); /* the update lost its footing */
        else if (!rc) f->counts.updates++;
        if (!rc && f->rank >= SSP_NODAL_FAST_RANK_REBASE) rc = rebase_light(f);
    }
    if (rc) {
        f->have_base = 0;
        return rc;
    }
    f->version = ssp_circuit_version(f->c);
    return SSP_OK;
}

int ssp_nodal_fast_read(ssp_nodal_fast *f, const double *v_rows, size_t k, double *v_out,
                        int *linear)
{
    size_t M = f->cols, N = f->rows, q, j;
    const double *t = f->T + N * M;
    int rc = ssp_nodal_fast_update(f);
    *linear = 0;
    if (rc) return rc;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)k, (int)N, 1.0, f->T,
                (int)M, v_rows, (int)N, 0.0, v_out, (int)M);
    *linear = 1;
    for (q = 0; q < k; q++) {
        double *o = v_out + q * M;
        for (j = 0; j < M; j++) {
            o[j] += t[j];
            if (f->rail[j] && !(o[j] >= f->rail_lo && o[j] <= f->rail_hi)) *linear = 0;
        }
    }
    return SSP_OK;
}
