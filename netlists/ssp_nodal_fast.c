/* ssp_nodal_fast.c — the fast exact read path of the nodal solver (see
 * nodal_fast.h for the method). It reads the element list and the element
 * equations of ssp_circuit.h, never a second description of the tile, and
 * it never prints. Everything is allocated in ssp_nodal_fast_create.
 *
 * A0 is factored as Π·A0·Πᵀ = L·D·Lᵀ (CHOLMOD, simplicial, nested
 * dissection), so aᵀ·A0⁻¹·b = (L⁻¹Πa)ᵀ·D⁻¹·(L⁻¹Πb). For a sparse a, L⁻¹Πa is
 * nonzero only on the elimination-tree paths from a's nodes to the root: a
 * few hundred of the 33,000 unknowns of a 128x128 tile. So no full solve is
 * ever needed: the output functionals S, the input columns R and r0 are
 * forward-solved once per factorization onto the union U of their paths (F,
 * |U| x (cols + rows + 1)), and a changed cell costs one path-sparse forward
 * solve plus dot products with F and with the other changed cells' paths.
 *
 * Storage is column-major for the dense parts (BLAS/LAPACK):
 *   T   cols x (rows + 1): out = T[:, 0..rows−1]·v + T[:, rows]
 *   P   cols x rank_max:   P[:, k] = Sᵀ·A0⁻¹·u_k
 *   Q   (rows + 1) x rank_max: Q[:, k] = [Rᵀ·A0⁻¹·u_k ; r0ᵀ·A0⁻¹·u_k]
 *   G   rank_max x rank_max: G[k, l] = u_kᵀ·A0⁻¹·u_l (symmetric)
 * with u_k = e_word − e_bit of the k-th changed cell of the set; F is
 * row-major (one row per node of U). */
#include "nodal_fast.h"

#include <cblas.h>
#include <cholmod.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK from the linked OpenBLAS (Debian ships no LAPACKE header for it). */
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a, const int *lda,
             const int *ipiv, double *b, const int *ldb, int *info);

/* Rank policy. Each newly changed cell costs one path-sparse forward solve
 * and dot products that grow with the rank; the dense update grows with
 * the square of the rank. Once the set holds SSP_NODAL_FAST_RANK_REBASE
 * cells, the present state becomes the new base: one numeric factorization
 * and F recomputed, with T0 := T (T is already exact for the present cells).
 * Every SSP_NODAL_FAST_FULL_EVERY such rebases, and whenever more cells
 * change at once than the set can take (SSP_NODAL_FAST_RANK_MAX), T0 is
 * recomputed from F too (Fsᵀ·D⁻¹·Fr), so rounding never accumulates.
 * 512/256 measured against 256/128 and 512/384 on a 128x128 tile with 20
 * and 80 changed cells per step: 8.3 and 28 ms per step vs 10.5 and 38
 * (256/128) and 10.1 and 28 (512/384). */
enum { SSP_NODAL_FAST_RANK_MAX = 512, SSP_NODAL_FAST_RANK_REBASE = 256 };
enum { SSP_NODAL_FAST_FULL_EVERY = 16 };
/* Newton on the TIA rails: relative step tolerance on e = A·(V(+) − V(−))
 * (floored at the knee width) and the iteration limit; a read that does not
 * converge goes to the reference path. */
static const double SSP_NODAL_FAST_RAIL_RELTOL = 1e-11;
enum { SSP_NODAL_FAST_RAIL_MAXIT = 60 };
/* Conductance given to every cell for the structural factorization at
 * create (only the pattern of L is kept from it; any value > 0 works) (S). */
static const double SSP_NODAL_FAST_G_PATTERN_S = 1e-5;

/* Node classes of the reduction. */
enum { NODE_FREE = 0, NODE_FIXED = 1, NODE_INPUT = 2, NODE_DRIVEN = 3 };

static int structure(struct ssp_nodal_fast *f);

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
    double *gf;               /* per rail column: feedback conductance 1/r_f (S, owned) */
    int all_rail;             /* every column is a finite-gain TIA with rails */
    /* rail Newton (a read with a TIA outside its linear region) */
    double *Zs0, *Zs;         /* cols x cols: Sᵀ·A⁻¹·S at the base and the present state (owned) */
    int zs0_valid;            /* Zs0 holds the present base */
    unsigned long zs_version; /* circuit version Zs holds, 0: none */
    double *J;                /* cols x cols Newton matrix (owned) */
    double *e, *elin, *dl, *dd, *res; /* cols each (owned) */
    int *ipiv_m;              /* cols (owned) */
    /* CHOLMOD LDLᵀ of A (simplicial, nested-dissection ordering) */
    cholmod_common cm;
    int cm_started;
    cholmod_sparse Am;        /* header over Ap/Ai/Ax (upper part used) */
    cholmod_factor *L;
    int *iperm;               /* node -> position in the factor's order (owned) */
    int *parent;              /* elimination tree, in factor order; −1 at a root (owned) */
    double *dinv;             /* 1 / D, in factor order (owned) */
    double *x;                /* nf, zero outside a forward solve (owned) */
    char *mark;               /* nf, zero outside a reach computation (owned) */
    int *list;                /* nf, the reach of a forward solve (owned) */
    int *start;               /* nf + 2: the starts of a reach, then scratch (owned) */
    size_t nu;                /* |U| */
    int *upos;                /* factor position -> row of F, or −1 (owned) */
    double *F;                /* nu x (cols + rows + 1), row-major (owned) */
    double *Fw;               /* nu x max(rows + 1, cols) workspace (owned) */
    double *acc;              /* cols + rows + 1 accumulator (owned) */
    size_t path_max;          /* longest reach of a cell's u */
    int *fu_i;                /* rank_max x path_max: set cell's L⁻¹Πu, positions (owned) */
    double *fu_v;             /* the same, values (owned) */
    int *fu_n;                /* entries per set cell (owned) */
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
    double *K, *X;            /* rank_max², max(rows+1, cols) x rank_max workspaces (owned) */
    int *ipiv;                /* rank_max (owned) */
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
    free(f->gf);
    free(f->Zs0);
    free(f->Zs);
    free(f->J);
    free(f->e);
    free(f->elin);
    free(f->dl);
    free(f->dd);
    free(f->res);
    free(f->ipiv_m);
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
    free(f->iperm);
    free(f->parent);
    free(f->dinv);
    free(f->x);
    free(f->mark);
    free(f->list);
    free(f->start);
    free(f->upos);
    free(f->F);
    free(f->Fw);
    free(f->acc);
    free(f->fu_i);
    free(f->fu_v);
    free(f->fu_n);
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
    double *gfb = calloc(nn, sizeof *gfb); /* per driven node: its feedback conductance */
    struct stamps s = {NULL, NULL, NULL, NULL, 0};
    int *pos = NULL, rc = SSP_ENOMEM, ok = 1;
    size_t cap = 4 * ne + 16, nfix = 0, nos = 0;

    *eligible = 0;
    if (!cls || !fin || !fidx || !drv || !fval || !ntouch || !gfb) goto done;
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
    f->gf = calloc(f->cols, sizeof *f->gf);
    f->cell_a = malloc(f->ncell * sizeof *f->cell_a);
    f->cell_b = malloc(f->ncell * sizeof *f->cell_b);
    if (!s.r || !s.c || !s.v || !s.cell || !f->r0 || !f->rin_f || !f->rin_i || !f->rin_v ||
        !f->os_p || !f->os_f || !f->os_v || !f->oc || !f->rail || !f->gf || !f->cell_a || !f->cell_b)
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
                gfb[b] = g;
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
            f->gf[i] = gfb[o];
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
    f->all_rail = 1;
    for (i = 0; i < f->cols; i++) f->all_rail &= f->rail[i];
    *eligible = 1;
    rc = SSP_OK;
done:
    free(cls);
    free(fin);
    free(fidx);
    free(drv);
    free(ntouch);
    free(fval);
    free(gfb);
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
    f->X = malloc((n1 > f->cols ? n1 : f->cols) * rm * sizeof *f->X);
    f->Zs0 = malloc(f->cols * f->cols * sizeof *f->Zs0);
    f->Zs = malloc(f->cols * f->cols * sizeof *f->Zs);
    f->J = malloc(f->cols * f->cols * sizeof *f->J);
    f->e = malloc(f->cols * sizeof *f->e);
    f->elin = malloc(f->cols * sizeof *f->elin);
    f->dl = malloc(f->cols * sizeof *f->dl);
    f->dd = malloc(f->cols * sizeof *f->dd);
    f->res = malloc(f->cols * sizeof *f->res);
    f->ipiv_m = malloc(f->cols * sizeof *f->ipiv_m);
    f->ipiv = malloc(rm * sizeof *f->ipiv);
    f->iperm = malloc((size_t)f->nf * sizeof *f->iperm);
    f->parent = malloc((size_t)f->nf * sizeof *f->parent);
    f->dinv = malloc((size_t)f->nf * sizeof *f->dinv);
    f->x = calloc((size_t)f->nf, sizeof *f->x);
    f->mark = calloc((size_t)f->nf, sizeof *f->mark);
    f->list = malloc((size_t)f->nf * sizeof *f->list);
    f->start = malloc(((size_t)f->nf + 2) * sizeof *f->start);
    f->upos = malloc((size_t)f->nf * sizeof *f->upos);
    f->acc = malloc((f->cols + n1) * sizeof *f->acc);
    f->fu_n = malloc(rm * sizeof *f->fu_n);
    rc = SSP_ENOMEM;
    if (!f->g_base || !f->slot || !f->set_cell || !f->delta || !f->new_cell || !f->T0 || !f->T ||
        !f->P || !f->Q || !f->G || !f->K || !f->X || !f->ipiv || !f->iperm || !f->parent ||
        !f->dinv || !f->x || !f->mark || !f->list || !f->start || !f->upos || !f->acc || !f->fu_n || !f->Zs0 || !f->Zs || !f->J || !f->e ||
        !f->elin || !f->dl || !f->dd || !f->res || !f->ipiv_m)
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
    rc = structure(f);
    if (rc) {
        ssp_nodal_fast_destroy(&f);
        return rc;
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

/* ---- factorization and path-sparse forward solves -------------------------- */

/* Assemble A for the cells' conductances g (NULL: the pattern value) and
 * factor it into f->L; refresh D⁻¹. */
static int factor_values(ssp_nodal_fast *f, const ssp_cell_iv *iv)
{
    const cholmod_factor *L;
    size_t i;
    memset(f->Ax, 0, (size_t)f->nnz * sizeof *f->Ax);
    for (i = 0; i < f->n_fix; i++) f->Ax[f->fix_pos[i]] += f->fix_val[i];
    for (i = 0; i < f->ncell; i++) {
        const int *q = &f->cell_pos[4 * i];
        double g = iv ? iv[i].g : SSP_NODAL_FAST_G_PATTERN_S;
        f->Ax[q[0]] += g;
        f->Ax[q[1]] += g;
        f->Ax[q[2]] -= g;
        f->Ax[q[3]] -= g;
        if (iv) f->g_base[i] = g;
    }
    if (!cholmod_factorize(&f->Am, f->L, &f->cm) || f->cm.status != CHOLMOD_OK) {
        if (f->cm.status == CHOLMOD_OUT_OF_MEMORY)
            return ssp_error(f->ctx, SSP_ENOMEM, "out of memory in cholmod_factorize");
        return ssp_error(f->ctx, SSP_ESINGULAR,
                         "cholmod_factorize: the reduced tile matrix is not positive definite "
                         "(CHOLMOD status %d)", f->cm.status);
    }
    L = f->L;
    if (L->is_super || L->is_ll)
        return ssp_error(f->ctx, SSP_EINVAL, "cholmod_factorize did not give a simplicial LDL' factor");
    for (i = 0; i < (size_t)f->nf; i++) f->dinv[i] = 1.0 / ((const double *)L->x)[((const int *)L->p)[i]];
    return SSP_OK;
}

static int factor(ssp_nodal_fast *f)
{
    int rc = factor_values(f, ssp_circuit_cells(f->c));
    if (rc) return rc;
    if (f->counts.factors) f->counts.refactors++;
    else f->counts.factors++;
    return SSP_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Union of the elimination-tree paths from factor positions start[0..ns),
 * ascending, into f->list; returns its length. f->mark is left zero. A
 * path is ascending (a parent follows its children), so one start needs no
 * sort and two need one merge; more are sorted. */
static size_t reach(ssp_nodal_fast *f, const int *start, size_t ns)
{
    size_t n = 0, i;
    if (ns == 2) {
        /* path of start[0] at the front, the part of start[1]'s path below
         * their meeting point after it; then merge the two runs */
        size_t na, nb, ia = 0, ib, o = 0;
        int *tmp = f->start + 2; /* scratch after the two starts (nf entries) */
        for (int j = start[0]; j >= 0; j = f->parent[j]) f->mark[j] = 1, f->list[n++] = j;
        na = n;
        for (int j = start[1]; j >= 0 && !f->mark[j]; j = f->parent[j]) f->list[n++] = j;
        nb = n - na;
        for (i = 0; i < na; i++) f->mark[f->list[i]] = 0;
        memcpy(tmp, f->list, n * sizeof *tmp);
        ib = na;
        while (ia < na && ib < na + nb) f->list[o++] = tmp[ia] < tmp[ib] ? tmp[ia++] : tmp[ib++];
        while (ia < na) f->list[o++] = tmp[ia++];
        while (ib < na + nb) f->list[o++] = tmp[ib++];
        return n;
    }
    for (i = 0; i < ns; i++)
        for (int j = start[i]; j >= 0 && !f->mark[j]; j = f->parent[j]) {
            f->mark[j] = 1;
            f->list[n++] = j;
        }
    for (i = 0; i < n; i++) f->mark[f->list[i]] = 0;
    if (ns > 1) qsort(f->list, n, sizeof *f->list, cmp_int);
    return n;
}

/* x := L⁻¹·x over the reach list[0..n) (x zero outside it on entry). */
static void forward(ssp_nodal_fast *f, size_t n)
{
    const cholmod_factor *L = f->L;
    const int *Lp = L->p, *Li = L->i, *Lnz = L->nz;
    const double *Lx = L->x;
    double *x = f->x;
    for (size_t t = 0; t < n; t++) {
        int j = f->list[t], p1 = Lp[j] + Lnz[j];
        double xj = x[j];
        if (xj == 0.0) continue;
        for (int p = Lp[j] + 1; p < p1; p++) x[Li[p]] -= Lx[p] * xj;
    }
}

/* The elimination tree, U (the union of the paths of every output
 * functional, input column and r0 entry) and the longest path of a cell,
 * from a structural factorization. Allocates F and the path pool. */
static int structure(ssp_nodal_fast *f)
{
    const cholmod_factor *L;
    const int *Lp, *Li, *Lnz, *perm;
    size_t n = (size_t)f->nf, i, C = f->cols + f->rows + 1, rm = f->rank_max;
    int rc = factor_values(f, NULL), st[2];
    if (rc) return rc;
    L = f->L;
    Lp = L->p;
    Li = L->i;
    Lnz = L->nz;
    perm = L->Perm;
    for (i = 0; i < n; i++) {
        int par = -1;
        f->iperm[perm[i]] = (int)i;
        for (int p = Lp[i] + 1; p < Lp[i] + Lnz[i]; p++)
            if (par < 0 || Li[p] < par) par = Li[p];
        f->parent[i] = par;
    }
    for (i = 0; i < n; i++) f->upos[i] = -1;
    f->nu = 0;
#define SSP_MARK_PATH(node)                                                       \
    for (int j_ = f->iperm[node]; j_ >= 0 && f->upos[j_] < 0; j_ = f->parent[j_]) \
        f->upos[j_] = 0, f->nu++;
    for (i = 0; i < (size_t)f->os_p[f->cols]; i++) SSP_MARK_PATH(f->os_f[i]);
    for (i = 0; i < f->n_rin; i++) SSP_MARK_PATH(f->rin_f[i]);
    for (i = 0; i < n; i++)
        if (f->r0[i] != 0.0) SSP_MARK_PATH(i);
#undef SSP_MARK_PATH
    f->nu = 0;
    for (i = 0; i < n; i++)
        if (f->upos[i] == 0) f->upos[i] = (int)f->nu++;
    f->path_max = 1;
    for (i = 0; i < f->ncell; i++) {
        size_t m;
        st[0] = f->iperm[f->cell_a[i]];
        st[1] = f->iperm[f->cell_b[i]];
        m = reach(f, st, 2);
        if (m > f->path_max) f->path_max = m;
    }
    f->F = malloc((f->nu ? f->nu : 1) * C * sizeof *f->F);
    f->Fw = malloc((f->nu ? f->nu : 1) * (f->rows + 1 > f->cols ? f->rows + 1 : f->cols) *
                   sizeof *f->Fw);
    f->fu_i = malloc(rm * f->path_max * sizeof *f->fu_i);
    f->fu_v = malloc(rm * f->path_max * sizeof *f->fu_v);
    if (!f->F || !f->Fw || !f->fu_i || !f->fu_v)
        return ssp_error(f->ctx, SSP_ENOMEM, "out of memory creating the fast nodal path");
    return SSP_OK;
}

/* Finish a sparse forward solve into column c of F: the caller has added
 * the right-hand side into f->x at factor positions start[0..ns). */
static void forward_into_F(ssp_nodal_fast *f, size_t ns, size_t c)
{
    size_t C = f->cols + f->rows + 1, m = reach(f, f->start, ns), t;
    forward(f, m);
    for (t = 0; t < m; t++) {
        int j = f->list[t];
        f->F[(size_t)f->upos[j] * C + c] = f->x[j];
        f->x[j] = 0.0;
    }
}

/* Recompute F for the present factor: S, the columns of R, then r0. */
static void compute_F(ssp_nodal_fast *f)
{
    size_t M = f->cols, N = f->rows, C = M + N + 1, i, j, e, ns;
    memset(f->F, 0, f->nu * C * sizeof *f->F);
    for (j = 0; j < M; j++) {
        ns = 0;
        for (int q = f->os_p[j]; q < f->os_p[j + 1]; q++) {
            int k = f->iperm[f->os_f[q]];
            f->start[ns++] = k;
            f->x[k] += f->os_v[q];
        }
        forward_into_F(f, ns, j);
    }
    for (i = 0; i < N; i++) {
        ns = 0;
        for (e = 0; e < f->n_rin; e++) {
            if ((size_t)f->rin_i[e] != i) continue;
            f->start[ns++] = f->iperm[f->rin_f[e]];
            f->x[f->iperm[f->rin_f[e]]] += f->rin_v[e];
        }
        forward_into_F(f, ns, M + i);
    }
    ns = 0;
    for (i = 0; i < (size_t)f->nf; i++) {
        if (f->r0[i] == 0.0) continue;
        f->start[ns++] = f->iperm[i];
        f->x[f->iperm[i]] = f->r0[i];
    }
    forward_into_F(f, ns, C - 1);
}

/* Factor the present cells, recompute F and, when full, T0 = Sᵀ·A0⁻¹·[R r0]
 * (+ the outputs' constants) as Fsᵀ·D⁻¹·Fr; otherwise T0 := T (exact for
 * the present cells). Empties the set. */
static int rebase_to(ssp_nodal_fast *f, int full)
{
    size_t M = f->cols, N = f->rows, C = M + N + 1, nu = f->nu, i, u;
    int rc = factor(f);
    if (rc) return rc;
    compute_F(f);
    f->zs0_valid = 0;
    for (i = 0; i < f->rank; i++) f->slot[f->set_cell[i]] = -1;
    f->rank = 0;
    if (!full) {
        memcpy(f->T0, f->T, M * (N + 1) * sizeof *f->T0);
        f->light_rebases++;
        return SSP_OK;
    }
    for (u = 0; u < (size_t)f->nf; u++) {
        if (f->upos[u] < 0) continue;
        const double *fr = f->F + (size_t)f->upos[u] * C + M;
        double *w = f->Fw + (size_t)f->upos[u] * (N + 1), d = f->dinv[u];
        for (i = 0; i <= N; i++) w[i] = d * fr[i];
    }
    /* T0ᵀ ((N+1) x M, row-major) = Fwᵀ · Fs; column-major T0 is the same array */
    if (nu)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(N + 1), (int)M, (int)nu, 1.0,
                    f->Fw, (int)(N + 1), f->F, (int)C, 0.0, f->T0, (int)M);
    else
        memset(f->T0, 0, M * (N + 1) * sizeof *f->T0);
    for (i = 0; i < M; i++) f->T0[N * M + i] += f->oc[i];
    memcpy(f->T, f->T0, M * (N + 1) * sizeof *f->T);
    f->have_base = 1;
    f->light_rebases = 0;
    return SSP_OK;
}

static int rebase(ssp_nodal_fast *f) { return rebase_to(f, 1); }

/* Make the present state (whose T is exact) the base. */
static int rebase_light(ssp_nodal_fast *f)
{
    return rebase_to(f, f->light_rebases + 1 >= SSP_NODAL_FAST_FULL_EVERY);
}

/* Add cells new_cell[0..nnew) to the set: a path-sparse forward solve each,
 * then their columns of P, Q and G. */
static void extend(ssp_nodal_fast *f, size_t nnew)
{
    size_t M = f->cols, N = f->rows, C = M + N + 1, rm = f->rank_max, t, q, l;
    for (q = 0; q < nnew; q++) {
        size_t k = f->rank, m;
        int cell = f->new_cell[q], *fi = f->fu_i + k * f->path_max;
        double *fv = f->fu_v + k * f->path_max, *pk = f->P + k * M, *qk = f->Q + k * (N + 1);
        f->start[0] = f->iperm[f->cell_a[cell]];
        f->start[1] = f->iperm[f->cell_b[cell]];
        m = reach(f, f->start, 2);
        f->x[f->start[0]] = 1.0;
        f->x[f->start[1]] = -1.0;
        forward(f, m);
        /* keep z = L⁻¹Πu; x becomes D⁻¹z; acc = Fᵀ·D⁻¹z over the path ∩ U */
        memset(f->acc, 0, C * sizeof *f->acc);
        for (t = 0; t < m; t++) {
            int j = f->list[t];
            fi[t] = j;
            fv[t] = f->x[j];
            f->x[j] *= f->dinv[j];
            if (f->upos[j] >= 0)
                cblas_daxpy((int)C, f->x[j], f->F + (size_t)f->upos[j] * C, 1, f->acc, 1);
        }
        f->fu_n[k] = (int)m;
        memcpy(pk, f->acc, M * sizeof *pk);
        memcpy(qk, f->acc + M, (N + 1) * sizeof *qk);
        f->set_cell[k] = cell;
        f->slot[cell] = (int)k;
        f->rank++;
        for (l = 0; l <= k; l++) {
            const int *li = f->fu_i + l * f->path_max;
            const double *lv = f->fu_v + l * f->path_max;
            double v = 0;
            for (int e = 0; e < f->fu_n[l]; e++) v += lv[e] * f->x[li[e]];
            f->G[k * rm + l] = v;
            f->G[l * rm + k] = v;
        }
        for (t = 0; t < m; t++) f->x[f->list[t]] = 0.0;
        f->counts.cell_solves++;
    }
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
    size_t i = 0, nnew = 0;
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
        extend(f, nnew);
        rc = SSP_OK;
        for (i = 0; i < f->rank; i++)
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

/* ---- reads with a TIA on its rail -------------------------------------------- */

/* Zs = Sᵀ·A⁻¹·S for the present state: Fsᵀ·D⁻¹·Fs at the base, minus the
 * low-rank part P·K⁻¹·Δ·Pᵀ (K as factored by the last woodbury()). */
static void ensure_zs(ssp_nodal_fast *f)
{
    size_t M = f->cols, C = f->cols + f->rows + 1, R = f->rank, u, j, k;
    int m = (int)M, r = (int)R, info = 0;
    if (f->zs_version == f->version && f->zs_version) return;
    if (!f->zs0_valid) {
        for (u = 0; u < (size_t)f->nf; u++) {
            if (f->upos[u] < 0) continue;
            const double *fs = f->F + (size_t)f->upos[u] * C;
            double *w = f->Fw + (size_t)f->upos[u] * M, d = f->dinv[u];
            for (j = 0; j < M; j++) w[j] = d * fs[j];
        }
        if (f->nu)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, (int)f->nu, 1.0, f->Fw, m,
                        f->F, (int)C, 0.0, f->Zs0, m);
        else
            memset(f->Zs0, 0, M * M * sizeof *f->Zs0);
        f->zs0_valid = 1;
    }
    memcpy(f->Zs, f->Zs0, M * M * sizeof *f->Zs);
    if (R) {
        for (j = 0; j < M; j++)
            for (k = 0; k < R; k++) f->X[j * R + k] = f->delta[k] * f->P[k * M + j];
        dgetrs_("N", &r, &m, f->K, &r, f->ipiv, f->X, &r, &info);
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, m, r, -1.0, f->P, m, f->X, r,
                    1.0, f->Zs, m);
    }
    f->zs_version = f->version;
}

/* Outputs o (cols, V) of one read whose linear solution put a TIA outside
 * its linear region. With e_j = A·(V(+) − V(−)) of column j, the op-amp
 * output rail(e_j) differs from the linear model's e_j, which adds the
 * current δ_j = (rail(e_j) − e_j)/r_f at the inverting input. So
 *   e = e_lin − Zs·δ(e)/A,
 * M equations in M unknowns, solved by Newton's method (the Jacobian is
 * I + Zs·diag(δ')/A). Returns SSP_ECONVERGE when Newton stalls. */
static int rails(ssp_nodal_fast *f, double *o)
{
    const ssp_tia_params *t = &ssp_circuit_params(f->c)->tia;
    size_t M = f->cols, i, j;
    int m = (int)M, one = 1, info = 0, it;
    double ia = 1.0 / t->gain;
    memcpy(f->elin, o, M * sizeof *o);
    memcpy(f->e, o, M * sizeof *o);
    for (it = 0; it < SSP_NODAL_FAST_RAIL_MAXIT; it++) {
        int conv = 1;
        for (j = 0; j < M; j++) {
            double d, r = ssp_tia_rail(t, f->e[j], &d);
            f->dl[j] = (r - f->e[j]) * f->gf[j];
            f->dd[j] = (d - 1.0) * f->gf[j];
            f->res[j] = -(f->e[j] - f->elin[j]);
        }
        /* res = −(e − e_lin + Zs·δ/A); J = I + Zs·diag(δ')/A */
        cblas_dgemv(CblasColMajor, CblasNoTrans, m, m, -ia, f->Zs, m, f->dl, 1, 1.0, f->res, 1);
        for (j = 0; j < M; j++)
            for (i = 0; i < M; i++) f->J[j * M + i] = ia * f->Zs[j * M + i] * f->dd[j] + (i == j);
        dgetrf_(&m, &m, f->J, &m, f->ipiv_m, &info);
        if (info != 0) return SSP_ECONVERGE;
        dgetrs_("N", &m, &one, f->J, &m, f->ipiv_m, f->res, &m, &info);
        for (j = 0; j < M; j++) {
            double en = f->e[j] + f->res[j];
            if (!(fabs(f->res[j]) <= SSP_NODAL_FAST_RAIL_RELTOL * fmax(fmax(fabs(en), fabs(f->e[j])), t->v_knee)))
                conv = 0;
            f->e[j] = en;
        }
        if (conv) {
            for (j = 0; j < M; j++) o[j] = ssp_tia_rail(t, f->e[j], NULL);
            f->counts.rail_newtons++;
            return SSP_OK;
        }
    }
    return SSP_ECONVERGE;
}

int ssp_nodal_fast_read(ssp_nodal_fast *f, const double *v_rows, size_t k, double *v_out,
                        int *answered)
{
    size_t M = f->cols, N = f->rows, q, j;
    const double *t = f->T + N * M;
    int rc = ssp_nodal_fast_update(f);
    *answered = 0;
    if (rc) return rc;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)k, (int)N, 1.0, f->T,
                (int)M, v_rows, (int)N, 0.0, v_out, (int)M);
    for (q = 0; q < k; q++) {
        double *o = v_out + q * M;
        int linear = 1;
        for (j = 0; j < M; j++) {
            o[j] += t[j];
            if (f->rail[j] && !(o[j] >= f->rail_lo && o[j] <= f->rail_hi)) linear = 0;
        }
        if (linear) continue;
        if (!f->all_rail) return SSP_OK; /* the caller takes the reference path */
        ensure_zs(f);
        if (rails(f, o) != SSP_OK) return SSP_OK;
    }
    *answered = 1;
    return SSP_OK;
}
