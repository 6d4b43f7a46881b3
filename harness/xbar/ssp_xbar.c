/* ssp_xbar.c — hardware matrices on crossbar layers: device states into
 * tiles, the forward product through an engine, spice checks and the
 * IR-drop capture. */
#include "ssp_xbar.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssp_device.h"
#include "ssp_file.h"
#include "ssp_nodal.h"
#include "ssp_spice_emit.h"
#include "ssp_step.h"

/* Outputs whose ideal rms is below this fraction of the tile's strongest
 * output are reported as nan in the IR-drop map. */
static const double IRDROP_MIN_RMS = 0.01;

static const unsigned SSP_XBAR_STATE_MAGIC = 0x58425331u; /* "XBS1" */

struct irdrop {
    size_t gr, gc, outs; /* grid and outputs per tile */
    double *err;         /* gr x gc x outs, NULL until captured */
    double *v0;          /* n_in: first input vector of the capture (V), NULL until captured */
    double *si;          /* outs: one tile's ideal output energies (workspace, also the calibration's) */
};

struct ssp_xbar {
    ssp_ctx *ctx;            /* borrowed */
    ssp_hw *hw;              /* borrowed */
    ssp_spice *spice;        /* borrowed, may be NULL */
    ssp_pool *pool;          /* borrowed, may be NULL: spice tiles solved on its workers */
    size_t nmat;
    int engine;
    double v_read;           /* V: a normalised input of 1 */
    ssp_layer_params *lp;    /* nmat layer descriptions */
    ssp_layer **layer;       /* nmat layers on the configured engine (owned) */
    ssp_layer **checker;     /* nmat spice layers for checks, made on demand (owned) */
    ssp_layer **ideal;       /* nmat ideal layers for the IR-drop capture, made on demand (owned) */
    ssp_cell_iv *plus, *minus; /* largest matrix's cells (owned) */
    unsigned long hw_version; /* ssp_hw_version of the devices in the tiles */
    double *v, *y;           /* workspaces: inputs in V, outputs (owned) */
    size_t cap_v, cap_y;
    double *tv, *to, *ti;    /* one tile's inputs and two outputs (owned) */
    int *tcode;              /* one tile's ADC codes (owned) */
    size_t cap_t;
    /* pending requests, one flag per matrix */
    int *check_due, *irdrop_due, *cal_due;
    size_t check_vectors, irdrop_vectors, cal_vectors;
    ssp_xbar_calibration cal; /* figures of the calibrations so far */
    double check_tol;
    size_t *check_next;      /* round-robin tile per matrix */
    int *validate_due;       /* engine agreement on every tile, one flag per matrix */
    size_t validate_vectors;
    ssp_xbar_tile_check *val; /* captured figures (owned) */
    size_t nval, cap_val;
    ssp_xbar_checks st;
    struct irdrop *ir;       /* nmat (owned) */
    /* array energy from the circuit (ssp_xbar_count_array) */
    int arr_on;              /* count while on */
    int arr_unavailable;     /* a tile is not linear 1R: no circuit figure */
    double arr_t_read;       /* s */
    double arr_e;            /* J counted */
    double **arr_Y, **arr_i0;/* per matrix: per tile rows x rows and rows (owned, on demand) */
    unsigned long **arr_ver; /* per matrix: per tile the circuit version of Y (owned) */
    double *arr_w;           /* workspace k x rows (owned) */
    size_t cap_w;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void ssp_xbar_destroy(ssp_xbar **xp)
{
    ssp_xbar *x;
    if (!xp || !*xp) return;
    x = *xp;
    for (size_t m = 0; m < x->nmat; m++) {
        if (x->layer) ssp_layer_destroy(&x->layer[m]);
        if (x->checker) ssp_layer_destroy(&x->checker[m]);
        if (x->ideal) ssp_layer_destroy(&x->ideal[m]);
        if (x->ir) {
            free(x->ir[m].err);
            free(x->ir[m].v0);
            free(x->ir[m].si);
        }
    }
    free(x->lp);
    free(x->layer);
    free(x->checker);
    free(x->ideal);
    free(x->plus);
    free(x->minus);
    free(x->v);
    free(x->y);
    free(x->tv);
    free(x->to);
    free(x->ti);
    free(x->tcode);
    free(x->check_due);
    free(x->irdrop_due);
    free(x->cal_due);
    free(x->check_next);
    free(x->validate_due);
    free(x->val);
    free(x->ir);
    for (size_t m = 0; m < x->nmat; m++) {
        if (x->arr_Y) free(x->arr_Y[m]);
        if (x->arr_i0) free(x->arr_i0[m]);
        if (x->arr_ver) free(x->arr_ver[m]);
    }
    free(x->arr_Y);
    free(x->arr_i0);
    free(x->arr_ver);
    free(x->arr_w);
    free(x);
    *xp = NULL;
}

int ssp_xbar_create(ssp_xbar **out, ssp_ctx *ctx, ssp_hw *hw, const ssp_tile_params *tile,
                    size_t max_tiles, int engine, ssp_spice *spice)
{
    ssp_xbar *x;
    size_t m, nmat = ssp_hw_nmat(hw), most = 0;
    const ssp_device_levels *lv = ssp_hw_levels(hw);
    int rc;
    *out = NULL;
    if (engine != SSP_ENGINE_NODAL && engine != SSP_ENGINE_SPICE)
        return ssp_error(ctx, SSP_EINVAL, "crossbar forward: engine %s is not a circuit engine",
                         ssp_engine_kind_name(engine));
    if (tile->scheme != SSP_COLS_DIFF)
        return ssp_error(ctx, SSP_ECONFIG, "crossbar forward: device pairs need differential columns");
    x = calloc(1, sizeof *x);
    if (!x) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the crossbar layers");
    x->ctx = ctx;
    x->hw = hw;
    x->spice = spice;
    x->nmat = nmat;
    x->engine = engine;
    x->v_read = tile->dac.v_max;
    x->lp = calloc(nmat, sizeof *x->lp);
    x->layer = calloc(nmat, sizeof *x->layer);
    x->checker = calloc(nmat, sizeof *x->checker);
    x->ideal = calloc(nmat, sizeof *x->ideal);
    x->check_due = calloc(nmat, sizeof *x->check_due);
    x->irdrop_due = calloc(nmat, sizeof *x->irdrop_due);
    x->cal_due = calloc(nmat, sizeof *x->cal_due);
    x->check_next = calloc(nmat, sizeof *x->check_next);
    x->ir = calloc(nmat, sizeof *x->ir);
    for (m = 0; m < nmat; m++)
        if (ssp_hw_weight_count(hw, m) > most) most = ssp_hw_weight_count(hw, m);
    x->plus = malloc(most * sizeof *x->plus);
    x->minus = malloc(most * sizeof *x->minus);
    if (!x->lp || !x->layer || !x->checker || !x->ideal || !x->check_due || !x->irdrop_due || !x->cal_due ||
        !x->check_next || !x->ir || !x->plus || !x->minus) {
        ssp_xbar_destroy(&x);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the crossbar layers");
    }
    for (m = 0; m < nmat; m++) {
        ssp_layer_params *p = &x->lp[m];
        ssp_layer_params_default(p);
        p->n_in = ssp_hw_rows(hw, m);
        p->n_out = ssp_hw_cols(hw, m);
        p->tile = *tile;
        p->max_tiles = max_tiles;
        p->g_min = lv->g[0];
        p->g_max = lv->g[0] + ssp_hw_g_span(hw);
        p->w_max = ssp_hw_w_max(hw, m);
        p->engine = engine;
        rc = ssp_layer_create(&x->layer[m], ctx, p, spice);
        if (rc) {
            ssp_error_prefix(ctx, "matrix %zu (%zux%zu): ", m, p->n_in, p->n_out);
            ssp_xbar_destroy(&x);
            return rc;
        }
        x->ir[m].gr = ssp_layer_grid_rows(x->layer[m]);
        x->ir[m].gc = ssp_layer_grid_cols(x->layer[m]);
        x->ir[m].outs = ssp_layer_outputs_per_tile(x->layer[m]);
        if (!(x->ir[m].si = malloc(x->ir[m].outs * sizeof *x->ir[m].si))) {
            ssp_xbar_destroy(&x);
            return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the crossbar layers");
        }
    }
    rc = ssp_xbar_sync(x);
    if (rc) {
        ssp_xbar_destroy(&x);
        return rc;
    }
    *out = x;
    return SSP_OK;
}

/* The cells of matrix m from its devices. */
static void cells_of(ssp_xbar *x, size_t m)
{
    ssp_hw_cells(x->hw, m, x->plus, x->minus);
}

int ssp_xbar_sync(ssp_xbar *x)
{
    unsigned long v = ssp_hw_version(x->hw);
    for (size_t m = 0; m < x->nmat; m++) {
        int rc;
        cells_of(x, m);
        rc = ssp_layer_set_cells(x->layer[m], x->plus, x->minus);
        if (rc) return rc;
    }
    x->hw_version = v;
    return SSP_OK;
}

/* The tiles hold the devices as they are now (a change since the last copy
 * shows as a new ssp_hw_version). */
static int synced(ssp_xbar *x) { return x->hw_version == ssp_hw_version(x->hw) ? SSP_OK : ssp_xbar_sync(x); }

static int grow(ssp_xbar *x, double **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return SSP_OK;
    double *p = realloc(*buf, n * sizeof *p);
    if (!p) return ssp_error(x->ctx, SSP_ENOMEM, "out of memory for %zu values", n);
    *buf = p;
    *cap = n;
    return SSP_OK;
}

/* A second layer of matrix m on another engine, with the same cells. */
static int twin_layer(ssp_xbar *x, size_t m, ssp_layer **slot, int engine)
{
    int rc;
    if (!*slot) {
        ssp_layer_params p = x->lp[m];
        p.engine = engine;
        rc = ssp_layer_create(slot, x->ctx, &p, x->spice);
        if (rc) return rc;
        ssp_layer_set_pool(*slot, x->pool);
    }
    cells_of(x, m);
    return ssp_layer_set_cells(*slot, x->plus, x->minus);
}

/* One tile's row voltages for k vectors of the layer input v (k x n_in). */
static void tile_inputs(const ssp_layer_params *p, size_t tr, const double *v, size_t k, double *tv)
{
    size_t rows = p->tile.rows;
    for (size_t q = 0; q < k; q++)
        for (size_t r = 0; r < rows; r++) {
            size_t i = tr * rows + r;
            tv[q * rows + r] = i < p->n_in ? v[q * p->n_in + i] : 0.0;
        }
}

static int tile_work(ssp_xbar *x, const ssp_layer_params *p, size_t k)
{
    size_t need = k * (p->tile.rows > p->tile.cols ? p->tile.rows : p->tile.cols);
    double *a, *b, *c;
    int *d;
    if (need <= x->cap_t) return SSP_OK;
    a = realloc(x->tv, need * sizeof *a);
    if (a) x->tv = a;
    b = realloc(x->to, need * sizeof *b);
    if (b) x->to = b;
    c = realloc(x->ti, need * sizeof *c);
    if (c) x->ti = c;
    d = realloc(x->tcode, need * sizeof *d);
    if (d) x->tcode = d;
    if (!a || !b || !c || !d) return ssp_error(x->ctx, SSP_ENOMEM, "out of memory for %zu tile values", need);
    x->cap_t = need;
    return SSP_OK;
}

static int run_check(ssp_xbar *x, size_t m, const double *v, size_t n)
{
    const ssp_layer_params *p = &x->lp[m];
    size_t k = n < x->check_vectors ? n : x->check_vectors, ntiles, t, tr, tc, i;
    double vfs = p->tile.adc.v_fs, dev = 0, t0;
    int rc;
    if (x->engine != SSP_ENGINE_NODAL) return SSP_OK; /* spice is its own reference */
    if (!x->spice && !x->pool)
        return ssp_error(x->ctx, SSP_ESTATE, "spice check requested without an ngspice session");
    rc = twin_layer(x, m, &x->checker[m], SSP_ENGINE_SPICE);
    if (!rc) rc = tile_work(x, p, k);
    if (rc) return rc;
    ntiles = x->ir[m].gr * x->ir[m].gc;
    t = x->check_next[m]++ % ntiles;
    tr = t / x->ir[m].gc;
    tc = t % x->ir[m].gc;
    tile_inputs(p, tr, v, k, x->tv);
    rc = ssp_engine_run(ssp_layer_engine(x->layer[m], tr, tc), x->tv, k, x->to, NULL);
    if (rc) return rc;
    t0 = now_s();
    rc = ssp_engine_run(ssp_layer_engine(x->checker[m], tr, tc), x->tv, k, x->ti, NULL);
    x->st.spice_s += now_s() - t0;
    if (rc) {
        ssp_error_prefix(x->ctx, "spice check of matrix %zu tile (%zu,%zu): ", m, tr, tc);
        return rc;
    }
    for (i = 0; i < k * p->tile.cols; i++) {
        double d = fabs(x->to[i] - x->ti[i]) / vfs;
        if (d > dev) dev = d;
        x->st.codes++;
        if (ssp_adc_code(&p->tile.adc, x->to[i]) != ssp_adc_code(&p->tile.adc, x->ti[i])) x->st.code_diffs++;
    }
    x->st.checks++;
    x->st.last_dev = dev;
    if (dev > x->st.max_dev) x->st.max_dev = dev;
    ssp_log(x->ctx, SSP_LOG_INFO, "spice_check",
            "matrix=%zu tile=%zu,%zu vectors=%zu max_dev=%.3e of v_fs", m, tr, tc, k, dev);
    if (!(dev <= x->check_tol))
        return ssp_error(x->ctx, SSP_EMISMATCH,
                         "spice check: matrix %zu tile (%zu,%zu): nodal and spice TIA outputs differ by "
                         "%.3e of the ADC full scale over %zu vectors (tolerance engine.check_tol = %.3e)",
                         m, tr, tc, dev, k, x->check_tol);
    return SSP_OK;
}

/* Every tile of matrix m on the nodal, spice and ideal engines. The spice
 * tiles are solved together (in parallel on the pool's workers, if any):
 * each tile's spice_s is its share of that run's wall time. */
static int run_validate(ssp_xbar *x, size_t m, const double *v, size_t n)
{
    const ssp_layer_params *p = &x->lp[m];
    size_t k = n < x->validate_vectors ? n : x->validate_vectors, gr = x->ir[m].gr, gc = x->ir[m].gc;
    size_t cols = p->tile.cols, rows = p->tile.rows, nt = gr * gc, tr, tc, t, i;
    double *tv = NULL, *ys = NULL, spice_s = 0, t0;
    const double **vin = NULL;
    double **vout = NULL;
    ssp_engine **eng = NULL;
    int rc;
    if (!x->spice && !x->pool) return ssp_error(x->ctx, SSP_ESTATE, "engine validation needs an ngspice session");
    rc = twin_layer(x, m, &x->checker[m], SSP_ENGINE_SPICE);
    if (!rc) rc = twin_layer(x, m, &x->ideal[m], SSP_ENGINE_IDEAL);
    if (!rc) rc = tile_work(x, p, k);
    if (rc) return rc;
    if (x->nval + nt > x->cap_val) {
        size_t cap = x->nval + nt;
        ssp_xbar_tile_check *nv = realloc(x->val, cap * sizeof *nv);
        if (!nv) return ssp_error(x->ctx, SSP_ENOMEM, "out of memory for the validation table");
        x->val = nv;
        x->cap_val = cap;
    }
    tv = malloc(gr * k * rows * sizeof *tv);
    ys = malloc(nt * k * cols * sizeof *ys);
    vin = malloc(nt * sizeof *vin);
    vout = malloc(nt * sizeof *vout);
    eng = malloc(nt * sizeof *eng);
    if (!tv || !ys || !vin || !vout || !eng) {
        rc = ssp_error(x->ctx, SSP_ENOMEM, "out of memory for the validation table");
        goto done;
    }
    for (tr = 0; tr < gr; tr++) {
        tile_inputs(p, tr, v, k, tv + tr * k * rows);
        for (tc = 0; tc < gc; tc++) {
            t = tr * gc + tc;
            vin[t] = tv + tr * k * rows;
            vout[t] = ys + t * k * cols;
            eng[t] = ssp_layer_engine(x->checker[m], tr, tc);
        }
    }
    t0 = now_s();
    rc = ssp_engine_run_many(eng, nt, vin, k, vout, NULL);
    spice_s = now_s() - t0;
    if (rc) {
        ssp_error_prefix(x->ctx, "validating matrix %zu on the spice engine: ", m);
        goto done;
    }
    for (t = 0; t < nt && !rc; t++) {
        ssp_xbar_tile_check *c = &x->val[x->nval];
        const double *y = vout[t];
        double dfs = 0, dis = 0;
        tr = t / gc;
        tc = t % gc;
        t0 = now_s();
        rc = ssp_engine_run(ssp_layer_engine(x->layer[m], tr, tc), vin[t], k, x->to, NULL);
        c->nodal_s = now_s() - t0;
        c->spice_s = spice_s / (double)nt;
        if (!rc) rc = ssp_engine_run(ssp_layer_engine(x->ideal[m], tr, tc), vin[t], k, x->ti, NULL);
        if (rc) {
            ssp_error_prefix(x->ctx, "validating matrix %zu tile (%zu,%zu): ", m, tr, tc);
            break;
        }
        c->matrix = m;
        c->tile_row = tr;
        c->tile_col = tc;
        c->rows = rows;
        c->cols = cols;
        c->vectors = k;
        c->nodal_vs_spice = ssp_engine_max_rel(x->to, y, k * cols, SSP_ENGINE_REL_FLOOR_V);
        for (i = 0; i < k * cols; i++) {
            if (fabs(x->to[i] - y[i]) > dfs) dfs = fabs(x->to[i] - y[i]);
            if (fabs(x->ti[i] - y[i]) > dis) dis = fabs(x->ti[i] - y[i]);
        }
        c->nodal_vs_spice_fs = dfs / p->tile.adc.v_fs;
        c->ideal_vs_spice_fs = dis / p->tile.adc.v_fs;
        x->nval++;
    }
done:
    free(tv);
    free(ys);
    free(vin);
    free(vout);
    free(eng);
    return rc;
}

void ssp_xbar_set_pool(ssp_xbar *x, ssp_pool *pool)
{
    x->pool = pool;
    for (size_t m = 0; m < x->nmat; m++) {
        if (x->layer[m]) ssp_layer_set_pool(x->layer[m], pool);
        if (x->checker && x->checker[m]) ssp_layer_set_pool(x->checker[m], pool);
    }
}

/* Tile (tr, tc) of matrix m on its engine (TIA outputs into x->to, ADC
 * codes into codes if not NULL) and on the ideal engine (x->ti), both
 * from the tile inputs in x->tv (k vectors). */
static int tile_pair(ssp_xbar *x, size_t m, size_t tr, size_t tc, size_t k, int *codes)
{
    int rc = ssp_engine_run(ssp_layer_engine(x->layer[m], tr, tc), x->tv, k, x->to, codes);
    if (!rc) rc = ssp_engine_run(ssp_layer_engine(x->ideal[m], tr, tc), x->tv, k, x->ti, NULL);
    return rc;
}

/* Digital gain calibration of matrix m on k of the n input vectors v (V).
 * Each tile output's gain is fitted so that its code difference matches
 * the ideal product of the devices' read conductances: gain =
 * sum(di^2) / sum(de*di), with de the circuit's code difference (times the
 * LSB) and di the ideal engine's TIA difference. The fit regresses de on di,
 * so the ADC's rounding in de does not bias it. Vectors where a column's
 * code or ideal voltage is at the ADC's full scale are left out (clipping
 * is not a gain). An output with no usable signal (below 1 % of the tile's
 * strongest rms, or fewer than 2 vectors) gets gain 1. A pure function of
 * the cells and the vectors: the gains hold no history. */
static int run_calibrate(ssp_xbar *x, size_t m, const double *v, size_t n)
{
    const ssp_layer_params *p = &x->lp[m];
    const struct irdrop *ir = &x->ir[m];
    size_t k = n < x->cal_vectors ? n : x->cal_vectors, tr, tc, o, q, cols = p->tile.cols;
    double lsb = ssp_adc_lsb(&p->tile.adc), vfs = p->tile.adc.v_fs, *gain = ssp_layer_gains(x->layer[m]);
    double lo = INFINITY, hi = -INFINITY;
    int half = 1 << (p->tile.adc.bits - 1), rc = twin_layer(x, m, &x->ideal[m], SSP_ENGINE_IDEAL);
    size_t fitted = 0, unit = 0;
    if (!rc) rc = tile_work(x, p, k);
    if (rc) return rc;
    for (tr = 0; tr < ir->gr; tr++) {
        tile_inputs(p, tr, v, k, x->tv);
        for (tc = 0; tc < ir->gc; tc++) {
            double *g = gain + (tr * ir->gc + tc) * ir->outs, top = 0;
            rc = tile_pair(x, m, tr, tc, k, x->tcode);
            if (rc) return rc;
            for (o = 0; o < ir->outs; o++) {
                double sii = 0, sei = 0;
                size_t used = 0;
                ssp_weight_loc loc; /* output o's columns (the layer's scheme) */
                ssp_layer_locate(x->layer[m], 0, o, &loc);
                for (q = 0; q < k; q++) {
                    size_t a = q * cols + loc.col_plus, b = q * cols + loc.col_minus;
                    int ca = x->tcode[a], cb = x->tcode[b];
                    if (ca <= -half || ca >= half - 1 || cb <= -half || cb >= half - 1 || fabs(x->ti[a]) >= vfs ||
                        fabs(x->ti[b]) >= vfs)
                        continue;
                    double de = lsb * (double)(ca - cb), di = x->ti[a] - x->ti[b];
                    sii += di * di;
                    sei += de * di;
                    used++;
                }
                ir->si[o] = used >= 2 ? sii : 0;
                g[o] = used >= 2 && sei > 0 ? sii / sei : NAN;
                if (ir->si[o] > top) top = ir->si[o];
            }
            for (o = 0; o < ir->outs; o++) {
                if (tc * ir->outs + o >= p->n_out) {
                    g[o] = 1.0;
                    continue;
                }
                if (!(ir->si[o] > IRDROP_MIN_RMS * IRDROP_MIN_RMS * top) || !isfinite(g[o])) {
                    g[o] = 1.0;
                    unit++;
                    continue;
                }
                fitted++;
                if (g[o] < lo) lo = g[o];
                if (g[o] > hi) hi = g[o];
            }
        }
    }
    x->cal.runs++;
    x->cal.fitted += fitted;
    x->cal.unit += unit;
    if (fitted) {
        if (!(x->cal.gain_min <= lo)) x->cal.gain_min = lo;
        if (!(x->cal.gain_max >= hi)) x->cal.gain_max = hi;
    }
    ssp_log(x->ctx, SSP_LOG_DEBUG, "calibration", "matrix=%zu vectors=%zu outputs fitted=%zu unit=%zu gain %.4f..%.4f",
            m, k, fitted, unit, fitted ? lo : 1.0, fitted ? hi : 1.0);
    return SSP_OK;
}

static int run_irdrop(ssp_xbar *x, size_t m, const double *v, size_t n)
{
    const ssp_layer_params *p = &x->lp[m];
    struct irdrop *ir = &x->ir[m];
    size_t k = n < x->irdrop_vectors ? n : x->irdrop_vectors, tr, tc, o, q, cols = p->tile.cols;
    int rc = twin_layer(x, m, &x->ideal[m], SSP_ENGINE_IDEAL);
    if (!rc) rc = tile_work(x, p, k);
    if (rc) return rc;
    if (!ir->err) {
        ir->err = calloc(ir->gr * ir->gc * ir->outs, sizeof *ir->err);
        ir->v0 = malloc(p->n_in * sizeof *ir->v0);
        if (!ir->err || !ir->v0) return ssp_error(x->ctx, SSP_ENOMEM, "out of memory for the IR-drop map");
    }
    memcpy(ir->v0, v, p->n_in * sizeof *v);
    for (tr = 0; tr < ir->gr; tr++) {
        tile_inputs(p, tr, v, k, x->tv);
        for (tc = 0; tc < ir->gc; tc++) {
            rc = tile_pair(x, m, tr, tc, k, NULL);
            if (rc) return rc;
            double *err = ir->err + (tr * ir->gc + tc) * ir->outs, top = 0;
            for (o = 0; o < ir->outs; o++) {
                double se = 0, si = 0;
                ssp_weight_loc loc; /* output o's columns (the layer's scheme) */
                ssp_layer_locate(x->layer[m], 0, o, &loc);
                for (q = 0; q < k; q++) {
                    double ye = x->to[q * cols + loc.col_plus] - x->to[q * cols + loc.col_minus];
                    double yi = x->ti[q * cols + loc.col_plus] - x->ti[q * cols + loc.col_minus];
                    se += ye * yi;
                    si += yi * yi;
                }
                err[o] = si > 0 ? se / si - 1 : NAN;
                ir->si[o] = si;
                if (si > top) top = si;
            }
            /* an output with almost no signal (rms below 1 % of the tile's
             * strongest) has no meaningful ratio */
            for (o = 0; o < ir->outs; o++)
                if (!(ir->si[o] > IRDROP_MIN_RMS * IRDROP_MIN_RMS * top)) err[o] = NAN;
        }
    }
    return SSP_OK;
}

/* Tile (tr, tc) of matrix m: its row admittance for the present cells. */
static int tile_admittance(ssp_xbar *x, size_t m, size_t t, const ssp_circuit *c)
{
    const ssp_tile_params *p = &x->lp[m].tile;
    size_t rows = p->rows;
    ssp_step *st = NULL;
    int rc;
    if (x->arr_ver[m][t] == ssp_circuit_version(c)) return SSP_OK;
    rc = ssp_step_create(&st, x->ctx, c);
    if (!rc) rc = ssp_step_row_admittance(st, x->arr_Y[m] + t * rows * rows, x->arr_i0[m] + t * rows);
    ssp_step_destroy(&st);
    if (!rc) x->arr_ver[m][t] = ssp_circuit_version(c);
    return rc;
}

/* The rows' energy of n reads of matrix m (inputs v, V), added to arr_e. */
static int count_array(ssp_xbar *x, size_t m, const double *v, size_t n)
{
    const ssp_layer_params *p = &x->lp[m];
    size_t rows = p->tile.rows, gr = x->ir[m].gr, gc = x->ir[m].gc, tiles = gr * gc, tr, tc, q, i;
    double crow = (double)p->tile.cols * (ssp_tile_c_segment(&p->tile) + p->tile.c_cell), e = 0;
    int rc;
    if (!x->arr_Y) {
        x->arr_Y = calloc(x->nmat, sizeof *x->arr_Y);
        x->arr_i0 = calloc(x->nmat, sizeof *x->arr_i0);
        x->arr_ver = calloc(x->nmat, sizeof *x->arr_ver);
        if (!x->arr_Y || !x->arr_i0 || !x->arr_ver) return ssp_error(x->ctx, SSP_ENOMEM, "out of memory for the array energy");
    }
    if (!x->arr_Y[m]) {
        x->arr_Y[m] = malloc(tiles * rows * rows * sizeof **x->arr_Y);
        x->arr_i0[m] = malloc(tiles * rows * sizeof **x->arr_i0);
        x->arr_ver[m] = calloc(tiles, sizeof **x->arr_ver);
        if (!x->arr_Y[m] || !x->arr_i0[m] || !x->arr_ver[m])
            return ssp_error(x->ctx, SSP_ENOMEM, "out of memory for the array energy");
    }
    rc = tile_work(x, p, n);
    if (!rc) rc = grow(x, &x->arr_w, &x->cap_w, n * rows);
    if (rc) return rc;
    for (tr = 0; tr < gr; tr++) {
        tile_inputs(p, tr, v, n, x->tv);
        for (i = 0; i < n * rows; i++) x->tv[i] = ssp_dac_voltage(&p->tile.dac, x->tv[i]);
        for (tc = 0; tc < gc; tc++) {
            size_t t = tr * gc + tc;
            const double *Y = x->arr_Y[m] + t * rows * rows, *i0 = x->arr_i0[m] + t * rows;
            rc = tile_admittance(x, m, t, ssp_engine_circuit(ssp_layer_engine(x->layer[m], tr, tc)));
            if (rc) return rc;
            /* W = V·Yᵀ: W[q][i] = Σ_k Y[i][k] v[q][k] */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)rows, (int)rows, 1.0, x->tv, (int)rows, Y,
                        (int)rows, 0.0, x->arr_w, (int)rows);
            for (q = 0; q < n; q++)
                for (i = 0; i < rows; i++) {
                    double vi = x->tv[q * rows + i];
                    e += vi * (x->arr_w[q * rows + i] + i0[i]) * x->arr_t_read + vi * vi * crow;
                }
        }
    }
    x->arr_e += e;
    return SSP_OK;
}

void ssp_xbar_count_array(ssp_xbar *x, int on, double t_read)
{
    x->arr_on = on;
    x->arr_t_read = t_read;
}

int ssp_xbar_array_energy(const ssp_xbar *x, double *joules)
{
    *joules = x->arr_unavailable ? 0 : x->arr_e;
    return !x->arr_unavailable;
}

void ssp_xbar_array_reset(ssp_xbar *x) { x->arr_e = 0; }

int ssp_xbar_matmul(void *payload, size_t m, const double *u, size_t n, double *z)
{
    ssp_xbar *x = payload;
    const ssp_layer_params *p = &x->lp[m];
    size_t i, nv = n * p->n_in, ny = n * p->n_out;
    int rc = synced(x);
    if (!rc) rc = grow(x, &x->v, &x->cap_v, nv);
    if (!rc) rc = grow(x, &x->y, &x->cap_y, ny);
    if (rc) return rc;
    for (i = 0; i < nv; i++) x->v[i] = u[i] * x->v_read;
    if (x->cal_due[m]) {
        x->cal_due[m] = 0;
        rc = run_calibrate(x, m, x->v, n);
        if (rc) {
            ssp_error_prefix(x->ctx, "matrix %zu calibration: ", m);
            return rc;
        }
    }
    rc = ssp_layer_forward(x->layer[m], x->v, n, x->y, NULL);
    if (rc) {
        ssp_error_prefix(x->ctx, "matrix %zu: ", m);
        return rc;
    }
    for (i = 0; i < ny; i++) z[i] = x->y[i] / x->v_read;
    if (x->arr_on && !x->arr_unavailable) {
        rc = count_array(x, m, x->v, n);
        if (rc == SSP_EINVAL) {
            /* a nonlinear tile (1T1R, sinh cells): no row admittance */
            ssp_log(x->ctx, SSP_LOG_INFO, "array_energy", "matrix=%zu: %s; the array energy is the virtual-ground "
                    "estimate", m, ssp_ctx_errmsg(x->ctx));
            x->arr_unavailable = 1;
        } else if (rc) {
            return rc;
        }
    }
    if (x->check_due[m]) {
        x->check_due[m] = 0;
        rc = run_check(x, m, x->v, n);
        if (rc) return rc;
    }
    if (x->irdrop_due[m]) {
        x->irdrop_due[m] = 0;
        rc = run_irdrop(x, m, x->v, n);
        if (rc) return rc;
    }
    if (x->validate_due && x->validate_due[m]) {
        x->validate_due[m] = 0;
        rc = run_validate(x, m, x->v, n);
        if (rc) return rc;
    }
    return SSP_OK;
}

void ssp_xbar_request_check(ssp_xbar *x, size_t vectors, double tol)
{
    x->check_vectors = vectors ? vectors : 1;
    x->check_tol = tol;
    for (size_t m = 0; m < x->nmat; m++) x->check_due[m] = 1;
}

const ssp_xbar_checks *ssp_xbar_check_stats(const ssp_xbar *x) { return &x->st; }
size_t ssp_xbar_check_next(const ssp_xbar *x, size_t m) { return x->check_next[m] % (x->ir[m].gr * x->ir[m].gc); }

void ssp_xbar_request_calibration(ssp_xbar *x, size_t vectors)
{
    x->cal_vectors = vectors ? vectors : 1;
    for (size_t m = 0; m < x->nmat; m++) x->cal_due[m] = 1;
}

const ssp_xbar_calibration *ssp_xbar_calibration_stats(const ssp_xbar *x) { return &x->cal; }

/* Gains of matrix m: the layer's grid of tile outputs. */
static size_t gain_count(const ssp_xbar *x, size_t m) { return x->ir[m].gr * x->ir[m].gc * x->ir[m].outs; }

int ssp_xbar_write_state(ssp_xbar *x, FILE *f)
{
    size_t nmat = x ? x->nmat : 0;
    fwrite(&SSP_XBAR_STATE_MAGIC, sizeof SSP_XBAR_STATE_MAGIC, 1, f);
    fwrite(&nmat, sizeof nmat, 1, f);
    for (size_t m = 0; m < nmat; m++) {
        size_t n = gain_count(x, m);
        fwrite(&x->check_next[m], sizeof x->check_next[m], 1, f);
        fwrite(&n, sizeof n, 1, f);
        fwrite(ssp_layer_gains(x->layer[m]), sizeof(double), n, f);
    }
    return ferror(f) ? SSP_EIO : SSP_OK;
}

int ssp_xbar_read_state(ssp_xbar *x, ssp_ctx *ctx, FILE *f, const char *origin)
{
    unsigned magic = 0;
    size_t nmat = 0, m, n, i, next;
    double g;
    if (fread(&magic, sizeof magic, 1, f) != 1) return SSP_OK; /* written before the section existed */
    if (magic != SSP_XBAR_STATE_MAGIC || fread(&nmat, sizeof nmat, 1, f) != 1 || nmat > 64)
        return ssp_error(ctx, SSP_EFORMAT, "%s: crossbar section damaged", origin);
    for (m = 0; m < nmat; m++) {
        /* a section for another tiling (or engine) than this run's is read
         * past: it describes other hardware */
        int keep = x && nmat == x->nmat;
        if (fread(&next, sizeof next, 1, f) != 1 || fread(&n, sizeof n, 1, f) != 1 || n > ((size_t)1 << 30))
            return ssp_error(ctx, SSP_EFORMAT, "%s: crossbar section truncated", origin);
        keep = keep && n == gain_count(x, m);
        if (keep) x->check_next[m] = next;
        for (i = 0; i < n; i++) {
            if (fread(&g, sizeof g, 1, f) != 1)
                return ssp_error(ctx, SSP_EFORMAT, "%s: crossbar section truncated", origin);
            if (!isfinite(g))
                return ssp_error(ctx, SSP_EFORMAT, "%s: crossbar section: gain %zu of matrix %zu not finite", origin, i, m);
            if (keep) ssp_layer_gains(x->layer[m])[i] = g;
        }
    }
    return SSP_OK;
}

void ssp_xbar_request_irdrop(ssp_xbar *x, size_t vectors)
{
    x->irdrop_vectors = vectors ? vectors : 1;
    for (size_t m = 0; m < x->nmat; m++) x->irdrop_due[m] = 1;
}

int ssp_xbar_request_validate(ssp_xbar *x, size_t vectors)
{
    if (x->engine != SSP_ENGINE_NODAL)
        return ssp_error(x->ctx, SSP_ECONFIG, "engine validation compares the nodal engine with spice: "
                         "the crossbar reads through %s", ssp_engine_kind_name(x->engine));
    if (!x->validate_due && !(x->validate_due = calloc(x->nmat, sizeof *x->validate_due)))
        return ssp_error(x->ctx, SSP_ENOMEM, "out of memory");
    x->validate_vectors = vectors ? vectors : 1;
    for (size_t m = 0; m < x->nmat; m++) x->validate_due[m] = 1;
    return SSP_OK;
}

const ssp_xbar_tile_check *ssp_xbar_validation(const ssp_xbar *x, size_t *n)
{
    *n = x->nval;
    return x->val;
}

const double *ssp_xbar_first_input(const ssp_xbar *x, size_t m) { return m < x->nmat ? x->ir[m].v0 : NULL; }

int ssp_xbar_write_irdrop(const ssp_xbar *x, FILE *f)
{
    fprintf(f, "matrix,tile_row,tile_col,out,err\n");
    for (size_t m = 0; m < x->nmat; m++) {
        const struct irdrop *ir = &x->ir[m];
        if (!ir->err) continue;
        for (size_t tr = 0; tr < ir->gr; tr++)
            for (size_t tc = 0; tc < ir->gc; tc++)
                for (size_t o = 0; o < ir->outs; o++) {
                    size_t j = tc * ir->outs + o;
                    if (j >= x->lp[m].n_out) break;
                    double e = ir->err[(tr * ir->gc + tc) * ir->outs + o];
                    if (isnan(e))
                        fprintf(f, "%zu,%zu,%zu,%zu,nan\n", m, tr, tc, o);
                    else
                        fprintf(f, "%zu,%zu,%zu,%zu,%.9g\n", m, tr, tc, o, e);
                }
    }
    return ferror(f) ? ssp_error(x->ctx, SSP_EIO, "writing the IR-drop map failed") : SSP_OK;
}

int ssp_xbar_write_netlists(ssp_xbar *x, const char *dir)
{
    char path[4096], title[160];
    int rc = synced(x);
    if (!rc) rc = ssp_file_mkdirs(x->ctx, dir);
    double *vin = NULL;
    size_t most = 0, m, tr, tc, r;
    if (rc) return rc;
    for (m = 0; m < x->nmat; m++)
        if (x->lp[m].tile.rows > most) most = x->lp[m].tile.rows;
    size_t ntiles = 0, written = 0;
    vin = malloc(most * sizeof *vin);
    if (!vin) return ssp_error(x->ctx, SSP_ENOMEM, "out of memory writing netlists");
    for (m = 0; m < x->nmat; m++) ntiles += x->ir[m].gr * x->ir[m].gc;
    for (m = 0; m < x->nmat && !rc; m++) {
        const ssp_layer_params *p = &x->lp[m];
        const struct irdrop *ir = &x->ir[m];
        ssp_afile *af;
        for (tr = 0; tr < ir->gr && !rc; tr++) {
            for (r = 0; r < p->tile.rows; r++) {
                size_t i = tr * p->tile.rows + r;
                vin[r] = i >= p->n_in ? 0.0 : ir->v0 ? ir->v0[i] : 0.5 * x->v_read;
            }
            for (tc = 0; tc < ir->gc && !rc; tc++) {
                ssp_emit_opts o = {0};
                snprintf(title, sizeof title, "siamspice matrix %zu tile (%zu,%zu): %zux%zu, rows %zu.., outputs %zu..",
                         m, tr, tc, p->tile.rows, p->tile.cols, tr * p->tile.rows, tc * ir->outs);
                o.title = title;
                o.v_in = vin;
                o.control = 1;
                snprintf(path, sizeof path, "%s/m%zu_t%zu_%zu.cir", dir, m, tr, tc);
                ssp_progress(x->ctx, "writing tile netlists", written, ntiles);
                rc = ssp_spice_emit_file(path, x->ctx, ssp_engine_circuit(ssp_layer_engine(x->layer[m], tr, tc)), &o);
                written++;
            }
        }
        if (rc) break;
        snprintf(path, sizeof path, "%s/mapping_m%zu.txt", dir, m);
        rc = ssp_file_atomic_open(&af, x->ctx, path);
        if (rc) break;
        rc = ssp_layer_write_mapping(x->layer[m], ssp_file_stream(af));
        if (rc) {
            ssp_file_atomic_abort(&af);
            break;
        }
        rc = ssp_file_atomic_commit(&af, x->ctx);
    }
    if (!rc) ssp_progress(x->ctx, "writing tile netlists", ntiles, ntiles);
    free(vin);
    return rc;
}

ssp_layer *ssp_xbar_layer(ssp_xbar *x, size_t m) { return x->layer[m]; }

int ssp_xbar_set_nodal_path(ssp_xbar *x, int path)
{
    for (size_t m = 0; m < x->nmat; m++)
        for (size_t r = 0; r < ssp_layer_grid_rows(x->layer[m]); r++)
            for (size_t c = 0; c < ssp_layer_grid_cols(x->layer[m]); c++) {
                struct ssp_nodal *n = ssp_engine_nodal(ssp_layer_engine(x->layer[m], r, c));
                int rc = n ? ssp_nodal_set_path(n, path) : SSP_OK;
                if (rc) return rc;
            }
    return SSP_OK;
}
size_t ssp_xbar_nmat(const ssp_xbar *x) { return x->nmat; }
