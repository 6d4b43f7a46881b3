/* ssp_circuit.c — tile parameters, their checks, the element-list builder
 * and the element equations shared by the SPICE emitter and the nodal
 * solver. Nothing here simulates or prints. */
#include "ssp_circuit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest DAC/ADC resolution accepted (bits). */
enum { SSP_CONVERTER_BITS_MAX = 24 };

struct ssp_circuit {
    ssp_tile_params p;     /* copy of the description */
    ssp_element *el;       /* element list (owned) */
    size_t n_el;           /* number of elements */
    char (*names)[SSP_NAME_MAX]; /* node names, index 1..n_nodes (owned) */
    size_t n_nodes;        /* distinct nodes, ground excluded */
    int *out_node;         /* TIA output node per physical column (owned) */
    ssp_cell_iv *iv;       /* rows x cols cell I–V (owned) */
    unsigned long version; /* bumped on every change of iv */
    int nonlinear;         /* a sinh cell or an NMOS is present */
    ssp_element *cap;      /* transient-only capacitors (owned, may be NULL) */
    size_t n_cap;          /* number of capacitors */
};

void ssp_tile_params_default(ssp_tile_params *p)
{
    memset(p, 0, sizeof *p);
    p->rows = 64;
    p->cols = 64;
    p->scheme = SSP_COLS_DIFF;
    p->cell = SSP_CELL_1R;
    /* A generic thin-oxide access NMOS: k = KP·W/L = 1 mA/V², on-resistance
     * ≈ 1.25 kΩ at Vgs = 1.2 V, far below the cells' 10–100 kΩ. */
    p->nmos.vto = 0.4;      /* V */
    p->nmos.kp = 200e-6;    /* A/V² */
    p->nmos.w_um = 0.5;     /* µm */
    p->nmos.l_um = 0.1;     /* µm */
    p->nmos.lambda = 0.05;  /* 1/V */
    p->nmos.vgate = 1.2;    /* V */
    /* 5 Ω/µm × 0.5 µm = 2.5 Ω per segment, the reference case. */
    p->r_wire_per_um = 5.0; /* Ω/µm */
    p->pitch_um = 0.5;      /* µm */
    p->r_driver = 5.0;      /* Ω */
    p->r_sense = 1.0;       /* Ω */
    /* 0.2 fF/µm: the order of a minimum-width local copper wire's capacitance
     * to its neighbours and the substrate at 22-65 nm, as the ITRS
     * interconnect tables give it and NVSim's / NeuroSim's Wire model
     * computes it (Dong et al., "NVSim", IEEE TCAD 31(7), 2012). A process
     * parameter: set it from your metal stack. */
    p->c_wire_per_um = 0.2e-15; /* F/µm */
    /* 0.35 fF: a parallel-plate estimate of a 100 nm x 100 nm HfO2 cell,
     * ε_r ≈ 20, 5 nm thick (ε0·ε_r·A/d); an assumption, not a measurement. */
    p->c_cell = 0.35e-15;   /* F */
    p->dac.bits = 8;
    p->dac.v_min = -0.2;    /* V */
    p->dac.v_max = 0.2;     /* V */
    p->dac.r_out = 5.0;     /* Ω */
    p->tia.ideal = 0;
    p->tia.gain = 1e4;      /* V/V (80 dB) */
    p->tia.gbw_hz = 100e6;  /* Hz */
    p->tia.vos = 1e-3;      /* V */
    p->tia.v_lo = -1.5;     /* V */
    p->tia.v_hi = 1.5;      /* V */
    p->tia.v_knee = 0.1;    /* V */
    p->tia.r_f = 1e3;       /* Ω */
    /* 50 V/µs: a fast on-chip op-amp stage (a two-stage Miller op-amp's slew
     * is I_tail / C_c: 40 µA into 0.8 pF). */
    p->tia.slew = 50e6;     /* V/s */
    p->adc.bits = 8;
    p->adc.v_fs = 1.5;      /* V */
    p->adc.t_sample = 0.0;  /* s: settled reads */
}

static int bad(ssp_ctx *ctx, const char *field, const char *why, double v)
{
    return ssp_error(ctx, SSP_ECONFIG, "tile description: %s = %g %s", field, v, why);
}

#define SSP_NONNEG(field)                                                          \
    do {                                                                           \
        if (!isfinite(p->field) || p->field < 0)                                   \
            return bad(ctx, #field, "must be a finite resistance >= 0", p->field); \
    } while (0)
#define SSP_POS(field)                                                             \
    do {                                                                           \
        if (!isfinite(p->field) || !(p->field > 0))                                \
            return bad(ctx, #field, "must be finite and > 0", p->field);            \
    } while (0)

int ssp_tile_params_check(ssp_ctx *ctx, const ssp_tile_params *p)
{
    if (p->rows < 1 || p->rows > SSP_TILE_MAX)
        return ssp_error(ctx, SSP_ECONFIG, "tile description: rows = %zu, must be 1..%d", p->rows,
                         SSP_TILE_MAX);
    if (p->cols < 1 || p->cols > SSP_TILE_MAX)
        return ssp_error(ctx, SSP_ECONFIG, "tile description: cols = %zu, must be 1..%d", p->cols,
                         SSP_TILE_MAX);
    if (p->scheme == SSP_COLS_DIFF) {
        if (p->cols % 2)
            return ssp_error(ctx, SSP_ECONFIG,
                             "tile description: cols = %zu must be even for differential pairs",
                             p->cols);
    } else if (p->scheme == SSP_COLS_REF) {
        if (p->cols < 2)
            return ssp_error(ctx, SSP_ECONFIG,
                             "tile description: cols = %zu, the reference scheme needs >= 2",
                             p->cols);
    } else {
        return ssp_error(ctx, SSP_ECONFIG, "tile description: unknown column scheme %d", p->scheme);
    }
    if (p->cell != SSP_CELL_1R && p->cell != SSP_CELL_1T1R)
        return ssp_error(ctx, SSP_ECONFIG, "tile description: unknown cell type %d (1r or 1t1r)",
                         p->cell);
    SSP_NONNEG(r_wire_per_um);
    SSP_NONNEG(pitch_um);
    SSP_NONNEG(r_driver);
    SSP_NONNEG(r_sense);
    SSP_NONNEG(dac.r_out);
    if (!isfinite(p->c_wire_per_um) || p->c_wire_per_um < 0)
        return bad(ctx, "c_wire_per_um", "must be a finite capacitance >= 0", p->c_wire_per_um);
    if (!isfinite(p->c_cell) || p->c_cell < 0)
        return bad(ctx, "c_cell", "must be a finite capacitance >= 0", p->c_cell);
    if (!isfinite(p->adc.t_sample) || p->adc.t_sample < 0)
        return bad(ctx, "adc.t_sample", "must be a finite time >= 0 (0: settled)", p->adc.t_sample);
    if (!p->tia.ideal && !(isfinite(p->tia.slew) && p->tia.slew > 0))
        return bad(ctx, "tia.slew", "must be finite and > 0", p->tia.slew);
    if (p->cell == SSP_CELL_1T1R) {
        SSP_POS(nmos.kp);
        SSP_POS(nmos.w_um);
        SSP_POS(nmos.l_um);
        if (!isfinite(p->nmos.vto)) return bad(ctx, "nmos.vto", "must be finite", p->nmos.vto);
        if (!isfinite(p->nmos.vgate)) return bad(ctx, "nmos.vgate", "must be finite", p->nmos.vgate);
        if (!isfinite(p->nmos.lambda) || p->nmos.lambda < 0)
            return bad(ctx, "nmos.lambda", "must be finite and >= 0", p->nmos.lambda);
    }
    if (p->dac.bits < 0 || p->dac.bits > SSP_CONVERTER_BITS_MAX)
        return bad(ctx, "dac.bits", "must be 0..24", p->dac.bits);
    if (!isfinite(p->dac.v_min) || !isfinite(p->dac.v_max) || !(p->dac.v_min < p->dac.v_max))
        return bad(ctx, "dac.v_max", "must be finite and above dac.v_min", p->dac.v_max);
    SSP_POS(tia.r_f);
    if (!p->tia.ideal) {
        SSP_POS(tia.gain);
        SSP_POS(tia.gbw_hz);
        SSP_POS(tia.v_knee);
        if (!isfinite(p->tia.vos)) return bad(ctx, "tia.vos", "must be finite", p->tia.vos);
        if (!isfinite(p->tia.v_lo) || !isfinite(p->tia.v_hi) ||
            !(p->tia.v_hi - p->tia.v_lo > 2 * p->tia.v_knee))
            return bad(ctx, "tia.v_hi", "must exceed tia.v_lo by more than 2 tia.v_knee",
                       p->tia.v_hi);
        if (!(p->tia.v_lo + p->tia.v_knee < 0 && p->tia.v_hi - p->tia.v_knee > 0))
            return bad(ctx, "tia.v_lo", "and tia.v_hi must straddle 0 V by more than tia.v_knee",
                       p->tia.v_lo);
    }
    if (p->adc.bits < 1 || p->adc.bits > SSP_CONVERTER_BITS_MAX)
        return bad(ctx, "adc.bits", "must be 1..24", p->adc.bits);
    SSP_POS(adc.v_fs);
    return SSP_OK;
}
#undef SSP_NONNEG
#undef SSP_POS

double ssp_tile_r_segment(const ssp_tile_params *p) { return p->r_wire_per_um * p->pitch_um; }
double ssp_tile_c_segment(const ssp_tile_params *p) { return p->c_wire_per_um * p->pitch_um; }

static const double SSP_CIRCUIT_TWO_PI = 6.28318530717958647692;

double ssp_tia_tau(const ssp_tia_params *t)
{
    return t->ideal ? 0.0 : t->gain / (SSP_CIRCUIT_TWO_PI * t->gbw_hz);
}

size_t ssp_tile_outputs(const ssp_tile_params *p)
{
    return p->scheme == SSP_COLS_DIFF ? p->cols / 2 : p->cols - 1;
}

/* Label of physical column c ("7p", "7n", "3", "ref") into buf. */
static void ssp_tile_col_label(const ssp_tile_params *p, size_t c, char *buf, size_t n)
{
    if (p->scheme == SSP_COLS_DIFF)
        snprintf(buf, n, "c%zu%c", c / 2, c % 2 ? 'n' : 'p');
    else if (c + 1 == p->cols)
        snprintf(buf, n, "cref");
    else
        snprintf(buf, n, "c%zu", c);
}

int ssp_cell_type_parse(ssp_ctx *ctx, const char *s, int *out)
{
    if (strcmp(s, "1r") == 0 || strcmp(s, "1R") == 0) *out = SSP_CELL_1R;
    else if (strcmp(s, "1t1r") == 0 || strcmp(s, "1T1R") == 0) *out = SSP_CELL_1T1R;
    else return ssp_error(ctx, SSP_ECONFIG, "unknown cell type '%s' (expected 1r or 1t1r)", s);
    return SSP_OK;
}

int ssp_col_scheme_parse(ssp_ctx *ctx, const char *s, int *out)
{
    if (strcmp(s, "diff") == 0) *out = SSP_COLS_DIFF;
    else if (strcmp(s, "ref") == 0) *out = SSP_COLS_REF;
    else return ssp_error(ctx, SSP_ECONFIG, "unknown column scheme '%s' (expected diff or ref)", s);
    return SSP_OK;
}

/* ---- builder ---------------------------------------------------------- */

struct builder {
    ssp_circuit *c;
    int *parent;    /* union-find over provisional nodes (index 0 = ground) */
    char (*pname)[SSP_NAME_MAX]; /* provisional names */
    size_t n, cap;  /* provisional nodes used / allocated */
    size_t el_cap;  /* element slots allocated */
    size_t cap_cap; /* capacitor slots allocated */
    int oom;        /* an allocation failed */
};

static int uf_find(int *parent, int x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static int node(struct builder *b, const char *fmt, ...) SSP_PRINTF(2, 3);
static int node(struct builder *b, const char *fmt, ...)
{
    va_list ap;
    if (b->oom) return 0;
    if (b->n == b->cap) {
        size_t nc = b->cap * 2;
        int *np = realloc(b->parent, nc * sizeof *np);
        char (*nn)[SSP_NAME_MAX];
        if (!np) { b->oom = 1; return 0; }
        b->parent = np;
        nn = realloc(b->pname, nc * sizeof *nn);
        if (!nn) { b->oom = 1; return 0; }
        b->pname = nn;
        b->cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(b->pname[b->n], SSP_NAME_MAX, fmt, ap);
    va_end(ap);
    b->parent[b->n] = (int)b->n;
    return (int)b->n++;
}

static ssp_element *element(struct builder *b, int kind, int na, int nb, int nc, int index,
                            double value, const char *fmt, ...) SSP_PRINTF(8, 9);
static ssp_element *element(struct builder *b, int kind, int na, int nb, int nc, int index,
                            double value, const char *fmt, ...)
{
    ssp_circuit *c = b->c;
    ssp_element *e;
    va_list ap;
    if (b->oom) return NULL;
    if (c->n_el == b->el_cap) {
        size_t nc2 = b->el_cap ? 2 * b->el_cap : 1024;
        ssp_element *ne = realloc(c->el, nc2 * sizeof *ne);
        if (!ne) { b->oom = 1; return NULL; }
        c->el = ne;
        b->el_cap = nc2;
    }
    e = &c->el[c->n_el++];
    e->kind = kind;
    e->a = na;
    e->b = nb;
    e->c = nc;
    e->index = index;
    e->value = value;
    va_start(ap, fmt);
    vsnprintf(e->name, sizeof e->name, fmt, ap);
    va_end(ap);
    return e;
}

/* A transient-only capacitor (left out when f is 0). */
static void capacitor(struct builder *b, int na, int nb, double f, const char *fmt, ...) SSP_PRINTF(5, 6);
static void capacitor(struct builder *b, int na, int nb, double f, const char *fmt, ...)
{
    ssp_circuit *c = b->c;
    ssp_element *e;
    va_list ap;
    if (b->oom || f == 0) return;
    if (c->n_cap == b->cap_cap) {
        size_t nc2 = b->cap_cap ? 2 * b->cap_cap : 1024;
        ssp_element *ne = realloc(c->cap, nc2 * sizeof *ne);
        if (!ne) { b->oom = 1; return; }
        c->cap = ne;
        b->cap_cap = nc2;
    }
    e = &c->cap[c->n_cap++];
    e->kind = SSP_EL_CAP;
    e->a = na;
    e->b = nb;
    e->c = 0;
    e->index = -1;
    e->value = f;
    va_start(ap, fmt);
    vsnprintf(e->name, sizeof e->name, fmt, ap);
    va_end(ap);
}

/* A resistor, or a merge of its nodes when r is exactly 0 Ω. */
static void resistor(struct builder *b, int na, int nb, double r, const char *name)
{
    if (b->oom) return;
    if (r == 0) {
        int ra = uf_find(b->parent, na), rb = uf_find(b->parent, nb);
        /* the smaller (earlier-created) node keeps its name */
        if (ra < rb) b->parent[rb] = ra;
        else b->parent[ra] = rb;
        return;
    }
    element(b, SSP_EL_RES, na, nb, 0, -1, r, "%s", name);
}

/* Renumber merged nodes 1..n and rewrite element node numbers. */
static int finalize(struct builder *b)
{
    ssp_circuit *c = b->c;
    int *map = malloc(b->n * sizeof *map);
    size_t i, k = 0;
    if (!map) return SSP_ENOMEM;
    for (i = 0; i < b->n; i++) map[i] = -1;
    map[0] = 0;
    c->names = malloc((b->n + 1) * sizeof *c->names);
    if (!c->names) {
        free(map);
        return SSP_ENOMEM;
    }
    snprintf(c->names[0], SSP_NAME_MAX, "0");
    for (i = 1; i < b->n; i++) {
        int r = uf_find(b->parent, (int)i);
        if (map[r] < 0) {
            map[r] = (int)++k;
            memcpy(c->names[k], b->pname[r], SSP_NAME_MAX);
        }
    }
    c->n_nodes = k;
    for (i = 0; i < c->n_el; i++) {
        ssp_element *e = &c->el[i];
        e->a = map[uf_find(b->parent, e->a)];
        e->b = map[uf_find(b->parent, e->b)];
        e->c = map[uf_find(b->parent, e->c)];
    }
    for (i = 0; i < c->n_cap; i++) {
        ssp_element *e = &c->cap[i];
        e->a = map[uf_find(b->parent, e->a)];
        e->b = map[uf_find(b->parent, e->b)];
    }
    for (i = 0; i < c->p.cols; i++) c->out_node[i] = map[uf_find(b->parent, c->out_node[i])];
    free(map);
    return SSP_OK;
}

static int build(struct builder *b)
{
    ssp_circuit *c = b->c;
    const ssp_tile_params *p = &c->p;
    size_t n = p->rows, m = p->cols, i, j;
    double rseg = ssp_tile_r_segment(p), cseg = ssp_tile_c_segment(p);
    char lab[24], nm[64];
    int *w = malloc(n * m * sizeof *w), *bl = malloc(n * m * sizeof *bl);
    int rc = SSP_OK;

    if (!w || !bl) {
        rc = SSP_ENOMEM;
        goto done;
    }
    node(b, "0"); /* ground is provisional node 0 */
    /* Cell nodes first, so merged lines keep the names of their cells. */
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            ssp_tile_col_label(p, j, lab, sizeof lab);
            w[i * m + j] = node(b, "w%zu_%s", i, lab);
        }
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++) {
            ssp_tile_col_label(p, j, lab, sizeof lab);
            bl[i * m + j] = node(b, "b%zu_%s", i, lab);
        }
    /* Rows: input source, driver + DAC output resistance, word-line segments
     * (the first one from the driver to column 0). */
    for (i = 0; i < n; i++) {
        int in = node(b, "in%zu", i), d = node(b, "d%zu", i);
        element(b, SSP_EL_VSRC, in, 0, 0, (int)i, 0.0, "vr%zu", i);
        snprintf(nm, sizeof nm, "rd%zu", i);
        resistor(b, in, d, p->r_driver + p->dac.r_out, nm);
        for (j = 0; j < m; j++) {
            ssp_tile_col_label(p, j, lab, sizeof lab);
            snprintf(nm, sizeof nm, "rw%zu_%s", i, lab);
            resistor(b, j ? w[i * m + j - 1] : d, w[i * m + j], rseg, nm);
            capacitor(b, w[i * m + j], 0, cseg, "cw%zu_%s", i, lab);
        }
    }
    /* Cells. */
    for (i = 0; i < n; i++) {
        int g = 0;
        if (p->cell == SSP_CELL_1T1R) {
            g = node(b, "g%zu", i);
            element(b, SSP_EL_VSRC, g, 0, 0, -1, p->nmos.vgate, "vg%zu", i);
        }
        for (j = 0; j < m; j++) {
            int idx = (int)(i * m + j);
            ssp_tile_col_label(p, j, lab, sizeof lab);
            if (p->cell == SSP_CELL_1T1R) {
                int mid = node(b, "m%zu_%s", i, lab);
                element(b, SSP_EL_CELL, w[idx], mid, 0, idx, 0.0, "r%zu_%s", i, lab);
                element(b, SSP_EL_NMOS, mid, bl[idx], g, idx, 0.0, "bt%zu_%s", i, lab);
                capacitor(b, w[idx], mid, p->c_cell, "cc%zu_%s", i, lab);
            } else {
                element(b, SSP_EL_CELL, w[idx], bl[idx], 0, idx, 0.0, "r%zu_%s", i, lab);
                capacitor(b, w[idx], bl[idx], p->c_cell, "cc%zu_%s", i, lab);
            }
        }
    }
    /* Columns: bit-line segments down to the sense node, sense resistor, TIA. */
    for (j = 0; j < m; j++) {
        int sn, tin, out;
        ssp_tile_col_label(p, j, lab, sizeof lab);
        sn = node(b, "sn_%s", lab);
        tin = node(b, "tin_%s", lab);
        out = node(b, "out_%s", lab);
        for (i = 0; i < n; i++) {
            snprintf(nm, sizeof nm, "rb%zu_%s", i, lab);
            resistor(b, bl[i * m + j], i + 1 < n ? bl[(i + 1) * m + j] : sn, rseg, nm);
            capacitor(b, bl[i * m + j], 0, cseg, "cb%zu_%s", i, lab);
        }
        snprintf(nm, sizeof nm, "rs_%s", lab);
        resistor(b, sn, tin, p->r_sense, nm);
        if (p->tia.ideal) {
            int vs = (int)c->n_el;
            element(b, SSP_EL_VSRC, tin, 0, 0, -1, 0.0, "vs_%s", lab);
            element(b, SSP_EL_CCVS, out, 0, 0, vs, -p->tia.r_f, "ho_%s", lab);
        } else {
            int pin = node(b, "p_%s", lab);
            element(b, SSP_EL_VSRC, pin, 0, 0, -1, p->tia.vos, "vos_%s", lab);
            element(b, SSP_EL_RES, out, tin, 0, -1, p->tia.r_f, "rf_%s", lab);
            element(b, SSP_EL_OPAMP, pin, tin, out, -1, 0.0, "bo_%s", lab);
        }
        c->out_node[j] = out;
    }
    if (b->oom) {
        rc = SSP_ENOMEM;
        goto done;
    }
    rc = finalize(b);
done:
    free(w);
    free(bl);
    return rc;
}

int ssp_circuit_create(ssp_circuit **out, ssp_ctx *ctx, const ssp_tile_params *p)
{
    ssp_circuit *c;
    struct builder b;
    size_t ncell;
    int rc;

    *out = NULL;
    rc = ssp_tile_params_check(ctx, p);
    if (rc) return rc;
    c = calloc(1, sizeof *c);
    if (!c) return ssp_error(ctx, SSP_ENOMEM, "out of memory building a tile circuit");
    c->p = *p;
    ncell = p->rows * p->cols;
    c->iv = calloc(ncell, sizeof *c->iv);
    c->out_node = calloc(p->cols, sizeof *c->out_node);
    memset(&b, 0, sizeof b);
    b.c = c;
    b.cap = 4 * ncell + 8 * (p->rows + p->cols) + 16;
    b.parent = malloc(b.cap * sizeof *b.parent);
    b.pname = malloc(b.cap * sizeof *b.pname);
    if (!c->iv || !c->out_node || !b.parent || !b.pname) rc = SSP_ENOMEM;
    else rc = build(&b);
    free(b.parent);
    free(b.pname);
    if (rc) {
        ssp_circuit_destroy(&c);
        return ssp_error(ctx, rc, "out of memory building a %zux%zu tile circuit", p->rows, p->cols);
    }
    c->nonlinear = p->cell == SSP_CELL_1T1R;
    *out = c;
    return SSP_OK;
}

void ssp_circuit_destroy(ssp_circuit **cp)
{
    ssp_circuit *c;
    if (!cp || !*cp) return;
    c = *cp;
    free(c->el);
    free(c->cap);
    free(c->names);
    free(c->out_node);
    free(c->iv);
    free(c);
    *cp = NULL;
}

const ssp_tile_params *ssp_circuit_params(const ssp_circuit *c) { return &c->p; }
size_t ssp_circuit_n_elements(const ssp_circuit *c) { return c->n_el; }
const ssp_element *ssp_circuit_elements(const ssp_circuit *c) { return c->el; }
size_t ssp_circuit_n_nodes(const ssp_circuit *c) { return c->n_nodes; }
const char *ssp_circuit_node_name(const ssp_circuit *c, int k) { return c->names[k]; }
int ssp_circuit_out_node(const ssp_circuit *c, size_t col) { return c->out_node[col]; }
int ssp_circuit_is_nonlinear(const ssp_circuit *c) { return c->nonlinear; }
const ssp_element *ssp_circuit_caps(const ssp_circuit *c, size_t *n)
{
    *n = c->n_cap;
    return c->cap;
}
const ssp_cell_iv *ssp_circuit_cells(const ssp_circuit *c) { return c->iv; }
unsigned long ssp_circuit_version(const ssp_circuit *c) { return c->version; }

static int cell_check(ssp_ctx *ctx, const ssp_cell_iv *v, size_t i, size_t j)
{
    if (v->kind == SSP_IV_LINEAR) {
        if (!isfinite(v->g) || !(v->g > 0))
            return ssp_error(ctx, SSP_EINVAL, "cell (%zu, %zu): conductance g = %g S must be > 0",
                             i, j, v->g);
    } else if (v->kind == SSP_IV_SINH) {
        if (!isfinite(v->gp) || !(v->gp > 0) || !isfinite(v->gn) || !(v->gn > 0) ||
            !isfinite(v->b) || !(v->b > 0))
            return ssp_error(ctx, SSP_EINVAL,
                             "cell (%zu, %zu): sinh parameters gp = %g A, gn = %g A, b = %g 1/V "
                             "must all be > 0", i, j, v->gp, v->gn, v->b);
    } else {
        return ssp_error(ctx, SSP_EINVAL, "cell (%zu, %zu): unknown I-V kind %d", i, j, v->kind);
    }
    return SSP_OK;
}

static int cell_same(const ssp_cell_iv *x, const ssp_cell_iv *y)
{
    if (x->kind != y->kind) return 0;
    if (x->kind == SSP_IV_LINEAR) return x->g == y->g;
    return x->gp == y->gp && x->gn == y->gn && x->b == y->b;
}

int ssp_circuit_set_cells(ssp_circuit *c, ssp_ctx *ctx, const ssp_cell_iv *iv)
{
    size_t i, n = c->p.rows * c->p.cols;
    int changed = 0, nonlinear = c->p.cell == SSP_CELL_1T1R, rc;
    for (i = 0; i < n; i++) {
        rc = cell_check(ctx, &iv[i], i / c->p.cols, i % c->p.cols);
        if (rc) return rc;
    }
    for (i = 0; i < n; i++) {
        if (!cell_same(&c->iv[i], &iv[i])) {
            changed = 1;
            c->iv[i] = iv[i];
        }
        if (iv[i].kind == SSP_IV_SINH) nonlinear = 1;
    }
    c->nonlinear = nonlinear;
    if (changed) c->version++;
    return SSP_OK;
}

int ssp_circuit_set_conductances(ssp_circuit *c, ssp_ctx *ctx, const double *g)
{
    size_t i, n = c->p.rows * c->p.cols;
    int changed = 0;
    for (i = 0; i < n; i++) {
        ssp_cell_iv v = {SSP_IV_LINEAR, g[i], 0, 0, 0};
        int rc = cell_check(ctx, &v, i / c->p.cols, i % c->p.cols);
        if (rc) return rc;
    }
    for (i = 0; i < n; i++) {
        ssp_cell_iv v = {SSP_IV_LINEAR, g[i], 0, 0, 0};
        if (!cell_same(&c->iv[i], &v)) {
            changed = 1;
            c->iv[i] = v;
        }
    }
    c->nonlinear = c->p.cell == SSP_CELL_1T1R;
    if (changed) c->version++;
    return SSP_OK;
}

/* ---- element equations ----------------------------------------------- */

double ssp_tia_rail(const ssp_tia_params *t, double e, double *dfde)
{
    double lo = t->v_lo + t->v_knee, hi = t->v_hi - t->v_knee;
    double ec = e < lo ? lo : (e > hi ? hi : e);
    double th = tanh((e - ec) / t->v_knee);
    if (dfde) *dfde = (e < lo || e > hi) ? 1.0 - th * th : 1.0;
    return ec + t->v_knee * th;
}

double ssp_nmos_current(const ssp_nmos_card *m, double vd, double vg, double vs, double *gd,
                        double *gg, double *gs)
{
    double k = m->kp * m->w_um / m->l_um;
    double os = vg - vs - m->vto, od = vg - vd - m->vto;
    double ps = os > 0 ? os : 0, pd = od > 0 ? od : 0;
    double vds = vd - vs, avds = fabs(vds), sgn = vds >= 0 ? 1.0 : -1.0;
    double core = 0.5 * k * (ps * ps - pd * pd), clm = 1.0 + m->lambda * avds;
    /* d core: dps/dvg = dps/d(-vs) = [os > 0]; dpd/dvg = dpd/d(-vd) = [od > 0] */
    double dcore_dvd = k * pd, dcore_dvs = -k * ps, dcore_dvg = k * (ps - pd);
    double dclm = m->lambda * sgn; /* d clm / d vds */
    if (gd) *gd = dcore_dvd * clm + core * dclm;
    if (gs) *gs = dcore_dvs * clm - core * dclm;
    if (gg) *gg = dcore_dvg * clm;
    return core * clm;
}

/* ---- periphery -------------------------------------------------------- */

double ssp_dac_voltage(const ssp_dac_params *d, double v)
{
    double step, k, levels;
    if (!(v > d->v_min)) v = d->v_min; /* also maps NaN to the lowest level */
    if (v > d->v_max) v = d->v_max;
    if (d->bits == 0) return v;
    levels = ldexp(1.0, d->bits);
    step = (d->v_max - d->v_min) / levels;
    k = nearbyint((v - d->v_min) / step);
    if (k > levels - 1) k = levels - 1;
    return d->v_min + k * step;
}

double ssp_adc_lsb(const ssp_adc_params *a) { return a->v_fs / ldexp(1.0, a->bits - 1); }

int ssp_adc_code(const ssp_adc_params *a, double v)
{
    double half = ldexp(1.0, a->bits - 1), k;
    if (isnan(v)) return (int)-half;
    k = nearbyint(v / ssp_adc_lsb(a));
    if (k < -half) k = -half;
    if (k > half - 1) k = half - 1;
    return (int)k;
}
