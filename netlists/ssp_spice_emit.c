/* ssp_spice_emit.c — writes a tile circuit as an ngspice netlist.
 * Only formats the element list; the equations are those of ssp_circuit.h. */
#include "ssp_spice_emit.h"

#include <klu.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"

/* Newton tolerances written into read netlists with a B-source (finite-gain
 * TIA, sinh cells, access transistors): relative (-), absolute current (A),
 * absolute voltage (V). ngspice's defaults (1e-3, 1e-12 A, 1e-6 V) stop
 * iterating while the solution still differs from the exact one by up to
 * ~1e-6 relative; these give ~1e-13 on 8x8..64x64 tiles (measured). */
static const double SSP_EMIT_RELTOL = 1e-9;
static const double SSP_EMIT_ABSTOL_A = 1e-15;
static const double SSP_EMIT_VNTOL_V = 1e-12;
/* ngspice's relative pivot threshold. With its default (1e-3) KLU picks
 * pivots that lose ~1e-8 (op) to ~1e-5 (streamed transient) relative on a
 * 64x64 tile with finite-gain TIAs (gain 1e4 entries next to 10 uS ones);
 * 1e-2 brings it back to ~1e-13 (measured, ngspice 46). */
static const double SSP_EMIT_PIVREL = 1e-2;
/* Resistance of the unity-gain pole stage (Ω); C follows from the pole. */
static const double SSP_EMIT_POLE_R_OHM = 1e3;
static const double SSP_EMIT_PI = 3.14159265358979323846;
/* Rise time of a transient read's row step (s): against the TIA's
 * closed-loop time constants (tens of ns) an ideal step to 1e-4 of them. */
static const double SSP_EMIT_STEP_EDGE_S = 1e-12;
/* The offset node's resistor to ground in transient netlists (Ω): large
 * enough to draw nothing measurable from the offset source. */
static const double SSP_EMIT_OFFSET_R_OHM = 1e12;
/* Norton conductance of a reference source (S): a constant voltage source
 * whose node only feeds sensing inputs (an op-amp's + input, a transistor
 * gate) is written as a current source value·G into the node and 1/G from
 * it to ground. The node draws no current, so V = (value·G)/G = value
 * exactly (G is a power of two: the scaling is exact). G is far above the
 * op-amp gain entries (1e4 V/V) in the same matrix column, so KLU keeps it
 * as the pivot. Why not the voltage source: its node's matrix row holds only
 * the source's branch current, a structurally zero diagonal; KLU's ordering
 * of that matrix fills 10.9 M entries at 128x128 against 1.77 M for the
 * Norton form (ngspice 46 `rusage all`, measured; README "ngspice at macro
 * scale"). */
static const double SSP_EMIT_NORTON_S = 1048576.0; /* 2^20 S */

enum { SSP_EMIT_EXPR_MAX = 512 };

/* ngspice 46's bundled KLU (src/maths/KLU/klu_defaults.c): the first LU
 * array of a block is initmem_amd times AMD's nnz(L) estimate plus the
 * block order, for L and for U alike; its size in 8-byte units must stay
 * below INT_MAX (klu.c, KLU_kernel_factor). */
static const double SSP_NGSPICE_KLU_INITMEM_AMD = 10.0;
const double SSP_SPICE_KLU_MAX_UNITS = (double)INT_MAX;

void ssp_spice_row_source(size_t i, char *buf, size_t n) { snprintf(buf, n, "vr%zu", i); }

void ssp_spice_out_vector(const ssp_circuit *c, size_t col, char *buf, size_t n)
{
    snprintf(buf, n, "v(%s)", ssp_circuit_node_name(c, ssp_circuit_out_node(c, col)));
}

/* "v(a,b)", "v(a)" or "-v(b)" for a node pair. */
static void vdiff(const ssp_circuit *c, int a, int b, char *buf, size_t n)
{
    const char *na = ssp_circuit_node_name(c, a), *nb = ssp_circuit_node_name(c, b);
    if (b == 0) snprintf(buf, n, "v(%s)", na);
    else if (a == 0) snprintf(buf, n, "(-v(%s))", nb);
    else snprintf(buf, n, "v(%s,%s)", na, nb);
}

static int emit_cell(FILE *f, ssp_ctx *ctx, const ssp_circuit *c, const ssp_element *e,
                     const ssp_emit_opts *o)
{
    const ssp_cell_iv *v = &ssp_circuit_cells(c)[e->index];
    const char *na = ssp_circuit_node_name(c, e->a), *nb = ssp_circuit_node_name(c, e->b);
    char vd[2 * SSP_NAME_MAX + 8];
    if (o->cell_subckt) {
        char params[SSP_EMIT_EXPR_MAX] = "";
        size_t cols = ssp_circuit_params(c)->cols;
        if (o->cell_params) {
            int rc = o->cell_params((size_t)e->index / cols, (size_t)e->index % cols, params,
                                    sizeof params, o->payload);
            if (rc) return ssp_error(ctx, rc, "cell %s: no instance parameters", e->name);
        }
        fprintf(f, "x%s %s %s %s%s%s\n", e->name, na, nb, o->cell_subckt, params[0] ? " " : "",
                params);
        return SSP_OK;
    }
    if (v->kind == SSP_IV_LINEAR) {
        fprintf(f, "r%s %s %s %.17g\n", e->name, na, nb, 1.0 / v->g);
        return SSP_OK;
    }
    vdiff(c, e->a, e->b, vd, sizeof vd);
    /* a ternary, not max/min: its derivative at v = 0 is gp·b, as in C, so
     * a cell in series with a transistor that is still off at the first
     * iteration does not leave its inner node floating */
    fprintf(f, "b%s %s %s i = (%s >= 0) ? %.17g*sinh(%.17g*%s) : %.17g*sinh(%.17g*%s)\n",
            e->name, na, nb, vd, v->gp, v->b, vd, v->gn, v->b, vd);
    return SSP_OK;
}

static void emit_nmos(FILE *f, const ssp_circuit *c, const ssp_element *e)
{
    const char *nd = ssp_circuit_node_name(c, e->a), *ns = ssp_circuit_node_name(c, e->b);
    char vgs[2 * SSP_NAME_MAX + 8], vgd[2 * SSP_NAME_MAX + 8], vds[2 * SSP_NAME_MAX + 8];
    vdiff(c, e->c, e->b, vgs, sizeof vgs);
    vdiff(c, e->c, e->a, vgd, sizeof vgd);
    vdiff(c, e->a, e->b, vds, sizeof vds);
    fprintf(f,
            "%s %s %s i = 0.5*nmos_k*(max(%s-nmos_vto,0)*max(%s-nmos_vto,0)"
            " - max(%s-nmos_vto,0)*max(%s-nmos_vto,0))*(1+nmos_lambda*abs(%s))\n",
            e->name, nd, ns, vgs, vgs, vgd, vgd, vds);
}

static void emit_header(FILE *f, const ssp_circuit *c, const ssp_emit_opts *o)
{
    const ssp_tile_params *p = ssp_circuit_params(c);
    if (o->title)
        fprintf(f, "%s\n", o->title);
    else
        fprintf(f, "siamspice tile %zux%zu %s %s\n", p->rows, p->cols,
                p->cell == SSP_CELL_1T1R ? "1t1r" : "1r", p->scheme == SSP_COLS_DIFF ? "diff" : "ref");
    fprintf(f, "* generated by siamspice from one circuit description (netlists/ssp_circuit.h)\n");
    fprintf(f, "* rows %zu, physical columns %zu (%s), cell %s\n", p->rows, p->cols,
            p->scheme == SSP_COLS_DIFF ? "differential pairs cNp/cNn" : "columns cN + reference cref",
            p->cell == SSP_CELL_1T1R ? "1T1R" : "1R");
    fprintf(f, "* wire %g ohm/um x pitch %g um = %g ohm per segment; driver %g ohm, "
               "DAC output %g ohm, sense %g ohm\n",
            p->r_wire_per_um, p->pitch_um, ssp_tile_r_segment(p), p->r_driver, p->dac.r_out,
            p->r_sense);
    if (p->tia.ideal)
        fprintf(f, "* TIA ideal: V(out) = -%g ohm * I(in)\n", p->tia.r_f);
    else
        fprintf(f, "* TIA: gain %g, GBW %g Hz (%s), offset %g V, rails %g..%g V "
                   "(knee %g V), Rf %g ohm\n",
                p->tia.gain, p->tia.gbw_hz,
                o->v_step ? "transient read: pole, slew and rails" : o->tia_pole ? "pole included" : "pole omitted: DC read",
                p->tia.vos, p->tia.v_lo, p->tia.v_hi, p->tia.v_knee, p->tia.r_f);
    fprintf(f, ".options klu\n");
    fprintf(f, ".options pivrel=%g\n", SSP_EMIT_PIVREL);
    if ((ssp_circuit_is_nonlinear(c) || !p->tia.ideal) && !o->cell_subckt && o->reltol >= 0)
        fprintf(f, ".options reltol=%g abstol=%g vntol=%g\n",
                o->reltol > 0 ? o->reltol : SSP_EMIT_RELTOL,
                o->abstol_a > 0 ? o->abstol_a : SSP_EMIT_ABSTOL_A,
                o->vntol_v > 0 ? o->vntol_v : SSP_EMIT_VNTOL_V);
    if (o->include) fprintf(f, ".include %s\n", o->include);
    if (p->cell == SSP_CELL_1T1R)
        fprintf(f, ".param nmos_k=%.17g nmos_vto=%.17g nmos_lambda=%.17g\n",
                p->nmos.kp * p->nmos.w_um / p->nmos.l_um, p->nmos.vto, p->nmos.lambda);
    if (!p->tia.ideal) {
        double lo = p->tia.v_lo + p->tia.v_knee, hi = p->tia.v_hi - p->tia.v_knee;
        fprintf(f, ".func ssp_rail(e) {min(max(e,%.17g),%.17g) + %.17g*tanh((e - "
                   "min(max(e,%.17g),%.17g))/%.17g)}\n",
                lo, hi, p->tia.v_knee, lo, hi, p->tia.v_knee);
    }
}

/* A finite-gain TIA of a transient read: gain, slew-limited pole, rails. */
static void emit_opamp_transient(FILE *f, const ssp_circuit *c, const ssp_element *e)
{
    const ssp_tile_params *p = ssp_circuit_params(c);
    const char *nout = ssp_circuit_node_name(c, e->c);
    char vin[2 * SSP_NAME_MAX + 8];
    double cp = ssp_tia_tau(&p->tia) / SSP_EMIT_POLE_R_OHM, imax = p->tia.slew * cp;
    vdiff(c, e->a, e->b, vin, sizeof vin);
    fprintf(f, "%s oa_%s 0 v = %.17g*%s\n", e->name, nout, p->tia.gain, vin);
    fprintf(f, "bp_%s 0 op_%s i = max(min((v(oa_%s)-v(op_%s))/%.17g, %.17g), %.17g)\n", nout, nout, nout, nout,
            SSP_EMIT_POLE_R_OHM, imax, -imax);
    fprintf(f, "cp_%s op_%s 0 %.17g\n", nout, nout, cp);
    fprintf(f, "bq_%s %s 0 v = ssp_rail(v(op_%s))\n", nout, nout, nout);
    if (e->a) fprintf(f, "rg_%s %s 0 %.17g\n", nout, ssp_circuit_node_name(c, e->a), SSP_EMIT_OFFSET_R_OHM);
}

/* The transient-only part of a read netlist: capacitors, saves, .tran. */
static void emit_transient_tail(FILE *f, const ssp_circuit *c, const ssp_emit_opts *o)
{
    size_t i, ncap;
    const ssp_element *cap = ssp_circuit_caps(c, &ncap);
    for (i = 0; i < ncap; i++)
        fprintf(f, "%s %s %s %.17g\n", cap[i].name, ssp_circuit_node_name(c, cap[i].a),
                ssp_circuit_node_name(c, cap[i].b), cap[i].value);
    for (i = 0; i < o->n_save; i++) fprintf(f, ".save %s\n", o->save[i]);
}

/* For every node, how many current-carrying terminals touch it (sensing
 * inputs excluded: op-amp inputs, transistor gates, CCVS control); the
 * caller frees. */
static int *carrier_counts(const ssp_circuit *c)
{
    const ssp_element *el = ssp_circuit_elements(c);
    size_t i, n = ssp_circuit_n_elements(c);
    int *cnt = calloc(ssp_circuit_n_nodes(c) + 1, sizeof *cnt);
    if (!cnt) return NULL;
    for (i = 0; i < n; i++) {
        const ssp_element *e = &el[i];
        switch (e->kind) {
        case SSP_EL_OPAMP: cnt[e->c]++; break;
        case SSP_EL_CCVS: cnt[e->a]++; cnt[e->b]++; break;
        default: cnt[e->a]++; cnt[e->b]++; break; /* RES, VSRC, CELL, NMOS drain/source */
        }
    }
    return cnt;
}

/* A constant source from a node to ground that nothing else draws current
 * from (and that is no output): written in Norton form. */
static int is_reference_source(const ssp_element *e, const int *carriers)
{
    return e->kind == SSP_EL_VSRC && e->index < 0 && e->b == 0 && e->a != 0 && carriers[e->a] == 1;
}

int ssp_spice_emit(FILE *f, ssp_ctx *ctx, const ssp_circuit *c, const ssp_emit_opts *opts)
{
    static const ssp_emit_opts none = {0};
    const ssp_emit_opts *o = opts ? opts : &none;
    const ssp_tile_params *p = ssp_circuit_params(c);
    const ssp_element *el = ssp_circuit_elements(c);
    size_t i, n = ssp_circuit_n_elements(c);
    char name[2 * SSP_NAME_MAX + 8];
    int rc = SSP_OK, *carriers = carrier_counts(c);

    if (!carriers) return ssp_error(ctx, SSP_ENOMEM, "out of memory emitting a netlist");
    emit_header(f, c, o);
    for (i = 0; i < n && !rc; i++) {
        const ssp_element *e = &el[i];
        const char *na = ssp_circuit_node_name(c, e->a), *nb = ssp_circuit_node_name(c, e->b);
        switch (e->kind) {
        case SSP_EL_RES:
            fprintf(f, "%s %s %s %.17g\n", e->name, na, nb, e->value);
            break;
        case SSP_EL_VSRC:
            if (o->v_step && e->index >= 0) {
                fprintf(f, "%s %s %s pwl(0 0 %.17g %.17g)\n", e->name, na, nb, SSP_EMIT_STEP_EDGE_S,
                        o->v_step[e->index]);
                break;
            }
            if (is_reference_source(e, carriers))
                fprintf(f, "i%s 0 %s dc %.17g\nr%s %s 0 %.17g\n", e->name, na,
                        e->value * SSP_EMIT_NORTON_S, e->name, na, 1.0 / SSP_EMIT_NORTON_S);
            else if (e->index < 0)
                fprintf(f, "%s %s %s dc %.17g\n", e->name, na, nb, e->value);
            else if (o->v_in)
                fprintf(f, "%s %s %s dc %.17g\n", e->name, na, nb, o->v_in[e->index]);
            else
                fprintf(f, "%s %s %s dc 0 external\n", e->name, na, nb);
            break;
        case SSP_EL_CELL:
            rc = emit_cell(f, ctx, c, e, o);
            break;
        case SSP_EL_NMOS:
            emit_nmos(f, c, e);
            break;
        case SSP_EL_OPAMP: {
            if (o->v_step) {
                emit_opamp_transient(f, c, e);
                break;
            }
            const char *nout = ssp_circuit_node_name(c, e->c);
            char vin[2 * SSP_NAME_MAX + 8];
            vdiff(c, e->a, e->b, vin, sizeof vin);
            if (o->tia_pole) {
                /* rail → RC pole at GBW/A (DC gain 1) → unity buffer */
                double fp = p->tia.gbw_hz / p->tia.gain;
                double cp = 1.0 / (2.0 * SSP_EMIT_PI * fp * SSP_EMIT_POLE_R_OHM);
                fprintf(f, "%s oa_%s 0 v = ssp_rail(%.17g*%s)\n", e->name, nout, p->tia.gain, vin);
                fprintf(f, "rp_%s oa_%s op_%s %.17g\n", nout, nout, nout, SSP_EMIT_POLE_R_OHM);
                fprintf(f, "cp_%s op_%s 0 %.17g\n", nout, nout, cp);
                fprintf(f, "eo_%s %s 0 op_%s 0 1\n", nout, nout, nout);
            } else {
                fprintf(f, "%s %s 0 v = ssp_rail(%.17g*%s)\n", e->name, nout, p->tia.gain, vin);
            }
            break;
        }
        case SSP_EL_CCVS:
            fprintf(f, "%s %s %s %s %.17g\n", e->name, na, nb, el[e->index].name, e->value);
            break;
        default:
            rc = ssp_error(ctx, SSP_EINVAL, "element %s: unknown kind %d", e->name, e->kind);
        }
    }
    free(carriers);
    if (rc) return rc;
    if (o->v_step) emit_transient_tail(f, c, o);
    for (i = 0; i < p->cols; i++) {
        ssp_spice_out_vector(c, i, name, sizeof name);
        fprintf(f, ".save %s\n", name);
    }
    if (o->control && o->v_step) {
        fprintf(f, ".control\nset numdgt=12\ntran %.17g %.17g 0 %.17g\n.endc\n", o->t_max, o->t_stop, o->t_max);
    } else if (o->control) {
        fprintf(f, ".control\nset numdgt=12\nop\n");
        for (i = 0; i < p->cols; i++) {
            ssp_spice_out_vector(c, i, name, sizeof name);
            fprintf(f, "print %s\n", name);
        }
        fprintf(f, ".endc\n");
    }
    fprintf(f, ".end\n");
    if (ferror(f)) return ssp_error(ctx, SSP_EIO, "writing the netlist failed");
    return SSP_OK;
}

/* The matrix pattern ngspice stamps from the emitted netlist, as (row,
 * column) pairs of 0-based matrix indices. */
struct pattern {
    int *ri, *ci;     /* entries */
    size_t n, cap;    /* entries used, allocated */
    int *index;       /* circuit node -> matrix index, -1 before it appears */
    int order;        /* next matrix index */
};

static void pattern_node(struct pattern *pt, int node)
{
    if (node > 0 && pt->index[node] < 0) pt->index[node] = pt->order++;
}

static int pattern_add(struct pattern *pt, int r, int c)
{
    if (r < 0 || c < 0) return SSP_OK; /* ground */
    if (pt->n == pt->cap) {
        size_t cap = pt->cap ? 2 * pt->cap : 1024;
        int *ri = realloc(pt->ri, cap * sizeof *ri), *ci;
        if (!ri) return SSP_ENOMEM;
        pt->ri = ri;
        if (!(ci = realloc(pt->ci, cap * sizeof *ci))) return SSP_ENOMEM;
        pt->ci = ci;
        pt->cap = cap;
    }
    pt->ri[pt->n] = r;
    pt->ci[pt->n++] = c;
    return SSP_OK;
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* Matrix index of a circuit node (-1: ground). */
static int at(const struct pattern *pt, int node) { return node > 0 ? pt->index[node] : -1; }

/* The pattern of ssp_spice_emit's DC read netlist of c. */
static int build_pattern(struct pattern *pt, const ssp_circuit *c)
{
    const ssp_element *el = ssp_circuit_elements(c);
    size_t i, n = ssp_circuit_n_elements(c), nodes = ssp_circuit_n_nodes(c);
    int *carriers = carrier_counts(c), *branch = malloc((n + 1) * sizeof *branch), rc = SSP_OK;
    memset(pt, 0, sizeof *pt);
    pt->index = malloc((nodes + 1) * sizeof *pt->index);
    if (!carriers || !branch || !pt->index) {
        rc = SSP_ENOMEM;
        goto done;
    }
    for (i = 0; i <= nodes; i++) pt->index[i] = -1;
    /* nodes in order of first appearance on the emitted lines */
    for (i = 0; i < n; i++) {
        const ssp_element *e = &el[i];
        pattern_node(pt, e->kind == SSP_EL_OPAMP ? e->c : e->a);
        pattern_node(pt, e->kind == SSP_EL_OPAMP ? e->a : e->b);
        pattern_node(pt, e->kind == SSP_EL_OPAMP ? e->b : e->c);
    }
    /* branch currents after the nodes, one per voltage-defined element */
    for (i = 0; i < n; i++) {
        const ssp_element *e = &el[i];
        int volt = (e->kind == SSP_EL_VSRC && !is_reference_source(e, carriers)) || e->kind == SSP_EL_OPAMP ||
                   e->kind == SSP_EL_CCVS;
        branch[i] = volt ? pt->order++ : -1;
    }
    for (i = 0; i < n && !rc; i++) {
        const ssp_element *e = &el[i];
        int a = at(pt, e->a), b = at(pt, e->b), g = at(pt, e->c), k = branch[i];
        switch (e->kind) {
        case SSP_EL_RES:
        case SSP_EL_CELL:
            rc = pattern_add(pt, a, a) || pattern_add(pt, a, b) || pattern_add(pt, b, a) || pattern_add(pt, b, b);
            break;
        case SSP_EL_NMOS: /* drain and source rows, controlled by all three */
            rc = pattern_add(pt, a, a) || pattern_add(pt, a, b) || pattern_add(pt, a, g) || pattern_add(pt, b, a) ||
                 pattern_add(pt, b, b) || pattern_add(pt, b, g);
            break;
        case SSP_EL_VSRC:
            if (k < 0) rc = pattern_add(pt, a, a); /* Norton form: its resistor */
            else rc = pattern_add(pt, a, k) || pattern_add(pt, k, a) || pattern_add(pt, b, k) || pattern_add(pt, k, b);
            break;
        case SSP_EL_OPAMP: /* out = f(v(+), v(-)) to ground */
            rc = pattern_add(pt, g, k) || pattern_add(pt, k, g) || pattern_add(pt, k, a) || pattern_add(pt, k, b);
            break;
        case SSP_EL_CCVS:
            rc = pattern_add(pt, a, k) || pattern_add(pt, k, a) || pattern_add(pt, b, k) || pattern_add(pt, k, b) ||
                 pattern_add(pt, k, e->index >= 0 ? branch[e->index] : -1);
            break;
        default:
            break;
        }
    }
    if (rc) rc = SSP_ENOMEM;
done:
    free(carriers);
    free(branch);
    return rc;
}

int ssp_spice_klu_estimate(ssp_spice_klu_need *need, ssp_ctx *ctx, const ssp_circuit *c)
{
    struct pattern pt;
    int *ap = NULL, *ai = NULL, *mark = NULL, rc, b;
    size_t i, nz = 0;
    klu_common common;
    klu_symbolic *sym = NULL;

    memset(need, 0, sizeof *need);
    rc = build_pattern(&pt, c);
    if (!rc) {
        ap = calloc((size_t)pt.order + 1, sizeof *ap);
        ai = malloc((pt.n ? pt.n : 1) * sizeof *ai);
        mark = malloc(((size_t)pt.order + 1) * sizeof *mark);
        if (!ap || !ai || !mark) rc = SSP_ENOMEM;
    }
    if (rc) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory estimating ngspice's KLU factor");
        goto done;
    }
    /* compressed columns, duplicates merged (counting sort by column) */
    for (i = 0; i < pt.n; i++) ap[pt.ci[i] + 1]++;
    for (b = 0; b < pt.order; b++) ap[b + 1] += ap[b];
    {
        int *next = malloc(((size_t)pt.order + 1) * sizeof *next);
        if (!next) {
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory estimating ngspice's KLU factor");
            goto done;
        }
        memcpy(next, ap, ((size_t)pt.order + 1) * sizeof *next);
        for (i = 0; i < pt.n; i++) ai[next[pt.ci[i]]++] = pt.ri[i];
        free(next);
    }
    for (b = 0; b < pt.order; b++) mark[b] = -1;
    for (b = 0; b < pt.order; b++) {
        int p, end = ap[b + 1];
        for (p = ap[b], ap[b] = (int)nz; p < end; p++)
            if (mark[ai[p]] != b) {
                mark[ai[p]] = b;
                ai[nz++] = ai[p];
            }
    }
    ap[pt.order] = (int)nz;
    /* row indices ascending within each column, as ngspice hands its matrix
     * to KLU (klusmp.c sorts its COO list): BTF's matching, and so AMD's
     * ordering of the block, follow that order */
    for (b = 0; b < pt.order; b++) qsort(ai + ap[b], (size_t)(ap[b + 1] - ap[b]), sizeof *ai, cmp_int);
    klu_defaults(&common); /* BTF and AMD, as ngspice */
    sym = klu_analyze(pt.order, ap, ai, &common);
    if (!sym) {
        rc = ssp_error(ctx, common.status == KLU_OUT_OF_MEMORY ? SSP_ENOMEM : SSP_EINVAL,
                       "KLU could not analyse the tile's matrix (status %d)", common.status);
        goto done;
    }
    need->n = (size_t)pt.order;
    for (b = 0; b < sym->nblocks; b++) {
        double nk = sym->R[b + 1] - sym->R[b], l, units;
        if (nk < 2) continue; /* a singleton needs no LU array */
        l = SSP_NGSPICE_KLU_INITMEM_AMD * sym->Lnz[b] + nk;
        units = 2.0 * (ceil(l * sizeof(int) / sizeof(double)) + l); /* indices and values of L and of U */
        if (units > need->lu_units) {
            need->lu_units = units;
            need->lnz = sym->Lnz[b];
            need->block = (size_t)nk;
        }
    }
done:
    if (sym) klu_free_symbolic(&sym, &common);
    free(ap);
    free(ai);
    free(mark);
    free(pt.ri);
    free(pt.ci);
    free(pt.index);
    return rc;
}

int ssp_spice_klu_check(ssp_ctx *ctx, const ssp_circuit *c, double max_units)
{
    const ssp_tile_params *p = ssp_circuit_params(c);
    ssp_spice_klu_need need;
    int rc = ssp_spice_klu_estimate(&need, ctx, c);
    if (max_units <= 0) max_units = SSP_SPICE_KLU_MAX_UNITS;
    if (rc) return rc;
    if (need.lu_units > max_units)
        return ssp_error(ctx, SSP_ERANGE,
                         "tile %zux%zu is too large for ngspice's KLU: its matrix (order %zu) fills an estimated "
                         "%.3g entries of L, and KLU asks for %.3g units of LU storage up front, above its limit "
                         "%.3g (int indices); ngspice would report a singular matrix. Use smaller tiles "
                         "(crossbar.rows/cols) or the nodal engine",
                         p->rows, p->cols, need.n, need.lnz, need.lu_units, max_units);
    return SSP_OK;
}

int ssp_spice_emit_text(char **text, ssp_ctx *ctx, const ssp_circuit *c,
                        const ssp_emit_opts *opts)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc;
    *text = NULL;
    if (!f) return ssp_error(ctx, SSP_ENOMEM, "out of memory emitting a netlist");
    rc = ssp_spice_emit(f, ctx, c, opts);
    if (fclose(f) != 0 && !rc) rc = ssp_error(ctx, SSP_ENOMEM, "out of memory emitting a netlist");
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    return SSP_OK;
}

int ssp_spice_emit_file(const char *path, ssp_ctx *ctx, const ssp_circuit *c,
                        const ssp_emit_opts *opts)
{
    ssp_afile *f = NULL;
    int rc = ssp_file_atomic_open(&f, ctx, path);
    if (rc) return rc;
    rc = ssp_spice_emit(ssp_file_stream(f), ctx, c, opts);
    if (rc) {
        ssp_file_atomic_abort(&f);
        ssp_error_prefix(ctx, "%s: ", path);
        return rc;
    }
    return ssp_file_atomic_commit(&f, ctx);
}
