/* ssp_layer.c — weight-to-tile mapping, conductance conversion and the
 * digital sum of tile partial results. Workspaces are allocated at create
 * and grown only when a larger batch arrives. */
#include "ssp_layer.h"

#include <stdlib.h>
#include <string.h>

struct ssp_layer {
    ssp_layer_params p;  /* copy */
    ssp_ctx *ctx;        /* borrowed */
    size_t gr, gc;       /* grid rows, columns */
    size_t outs;         /* outputs per tile */
    ssp_engine **eng;    /* gr x gc engines (owned) */
    double *g;           /* rows x cols conductances of one tile (owned) */
    ssp_cell_iv *iv;     /* rows x cols cells of one tile (owned) */
    double *xv, *vo;     /* one tile's inputs / outputs for a batch (owned) */
    int *codes;          /* every tile's ADC codes for a batch (owned) */
    const double **tin;  /* per tile: its inputs within xv (owned array) */
    double **tout;       /* per tile: its outputs within vo (owned array) */
    int **tcodes;        /* per tile: its codes within codes (owned array) */
    double *gain;        /* gr x gc x outs digital output gains, 1 until set (owned) */
    size_t cap_k;        /* batch the workspaces hold */
};

void ssp_layer_params_default(ssp_layer_params *p)
{
    memset(p, 0, sizeof *p);
    ssp_tile_params_default(&p->tile);
    p->n_in = 64;
    p->n_out = 32;
    p->max_tiles = 64;
    p->g_min = 10e-6;  /* S */
    p->g_max = 100e-6; /* S */
    p->w_max = 1.0;
    p->engine = SSP_ENGINE_NODAL;
}

static double scale(const ssp_layer_params *p)
{
    double s = (p->g_max - p->g_min) / p->w_max;
    return p->tile.scheme == SSP_COLS_DIFF ? s : s / 2;
}

/* Conductances for one weight (clipped to ±w_max): differential pair, or
 * (reference scheme) the column value in *gp and the reference in *gm. */
static void ssp_layer_weight_conductances(const ssp_layer_params *p, double w, double *gp, double *gm)
{
    if (w > p->w_max) w = p->w_max;
    if (w < -p->w_max) w = -p->w_max;
    if (p->tile.scheme == SSP_COLS_DIFF) {
        *gp = p->g_min + (w > 0 ? w : 0) * scale(p);
        *gm = p->g_min + (w < 0 ? -w : 0) * scale(p);
    } else {
        double gref = 0.5 * (p->g_min + p->g_max);
        *gp = gref + w * scale(p);
        *gm = gref;
    }
}

void ssp_layer_locate(const ssp_layer *l, size_t i, size_t j, ssp_weight_loc *loc)
{
    const ssp_tile_params *t = &l->p.tile;
    loc->tile_row = i / t->rows;
    loc->tile_col = j / l->outs;
    loc->row = i % t->rows;
    loc->out = j % l->outs;
    if (t->scheme == SSP_COLS_DIFF) {
        loc->col_plus = 2 * loc->out;
        loc->col_minus = 2 * loc->out + 1;
    } else {
        loc->col_plus = loc->out;
        loc->col_minus = t->cols - 1;
    }
}

void ssp_layer_destroy(ssp_layer **lp)
{
    ssp_layer *l;
    if (!lp || !*lp) return;
    l = *lp;
    if (l->eng)
        for (size_t t = 0; t < l->gr * l->gc; t++) ssp_engine_destroy(&l->eng[t]);
    free(l->eng);
    free(l->g);
    free(l->iv);
    free(l->xv);
    free(l->vo);
    free(l->codes);
    free(l->tin);
    free(l->tout);
    free(l->tcodes);
    free(l->gain);
    free(l);
    *lp = NULL;
}

int ssp_layer_create(ssp_layer **out, ssp_ctx *ctx, const ssp_layer_params *p, ssp_spice *spice)
{
    ssp_layer *l;
    int rc;
    size_t t;
    *out = NULL;
    rc = ssp_tile_params_check(ctx, &p->tile);
    if (rc) return rc;
    if (p->n_in == 0 || p->n_out == 0)
        return ssp_error(ctx, SSP_ECONFIG, "layer: n_in = %zu, n_out = %zu must be >= 1", p->n_in,
                         p->n_out);
    if (!(p->g_min > 0) || !(p->g_max > p->g_min) || !(p->w_max > 0))
        return ssp_error(ctx, SSP_ECONFIG,
                         "layer: need 0 < g_min (%g S) < g_max (%g S) and w_max (%g) > 0", p->g_min,
                         p->g_max, p->w_max);
    l = calloc(1, sizeof *l);
    if (!l) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a layer");
    l->p = *p;
    l->ctx = ctx;
    l->outs = ssp_tile_outputs(&p->tile);
    l->gr = (p->n_in + p->tile.rows - 1) / p->tile.rows;
    l->gc = (p->n_out + l->outs - 1) / l->outs;
    if (l->gr * l->gc > p->max_tiles) {
        rc = ssp_error(ctx, SSP_ECONFIG,
                       "layer %zux%zu needs a %zux%zu grid of %zux%zu tiles (%zu tiles), more than "
                       "the %zu allowed", p->n_in, p->n_out, l->gr, l->gc, p->tile.rows,
                       p->tile.cols, l->gr * l->gc, p->max_tiles);
        ssp_layer_destroy(&l);
        return rc;
    }
    l->eng = calloc(l->gr * l->gc, sizeof *l->eng);
    l->g = malloc(p->tile.rows * p->tile.cols * sizeof *l->g);
    l->iv = malloc(p->tile.rows * p->tile.cols * sizeof *l->iv);
    l->gain = malloc(l->gr * l->gc * l->outs * sizeof *l->gain);
    if (!l->eng || !l->g || !l->iv || !l->gain) {
        ssp_layer_destroy(&l);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a layer");
    }
    for (t = 0; t < l->gr * l->gc * l->outs; t++) l->gain[t] = 1.0;
    for (t = 0; t < l->gr * l->gc; t++) {
        rc = ssp_engine_create(&l->eng[t], ctx, p->engine, &p->tile, spice);
        if (rc) {
            ssp_layer_destroy(&l);
            return rc;
        }
    }
    *out = l;
    return SSP_OK;
}

size_t ssp_layer_grid_rows(const ssp_layer *l) { return l->gr; }
size_t ssp_layer_grid_cols(const ssp_layer *l) { return l->gc; }

int ssp_layer_set_weights(ssp_layer *l, const double *w)
{
    const ssp_tile_params *t = &l->p.tile;
    size_t tr, tc, r, o;
    int rc;
    for (tr = 0; tr < l->gr; tr++)
        for (tc = 0; tc < l->gc; tc++) {
            for (r = 0; r < t->rows; r++)
                for (o = 0; o < l->outs; o++) {
                    size_t i = tr * t->rows + r, j = tc * l->outs + o;
                    double wv = (i < l->p.n_in && j < l->p.n_out) ? w[i * l->p.n_out + j] : 0.0;
                    double gp, gm;
                    ssp_layer_weight_conductances(&l->p, wv, &gp, &gm);
                    if (t->scheme == SSP_COLS_DIFF) {
                        l->g[r * t->cols + 2 * o] = gp;
                        l->g[r * t->cols + 2 * o + 1] = gm;
                    } else {
                        l->g[r * t->cols + o] = gp;
                        l->g[r * t->cols + t->cols - 1] = gm;
                    }
                }
            /* unchanged tiles cost nothing: the engine compares states */
            rc = ssp_engine_set_conductances(l->eng[tr * l->gc + tc], l->g);
            if (rc) return rc;
        }
    return SSP_OK;
}

int ssp_layer_set_cells(ssp_layer *l, const ssp_cell_iv *plus, const ssp_cell_iv *minus)
{
    const ssp_tile_params *t = &l->p.tile;
    const ssp_cell_iv pad = {SSP_IV_LINEAR, l->p.g_min, 0, 0, 0};
    size_t tr, tc, r, o;
    int rc;
    if (t->scheme != SSP_COLS_DIFF)
        return ssp_error(l->ctx, SSP_ECONFIG, "layer: device pairs need the differential column scheme");
    for (tr = 0; tr < l->gr; tr++)
        for (tc = 0; tc < l->gc; tc++) {
            for (r = 0; r < t->rows; r++)
                for (o = 0; o < l->outs; o++) {
                    size_t i = tr * t->rows + r, j = tc * l->outs + o;
                    int used = i < l->p.n_in && j < l->p.n_out;
                    l->iv[r * t->cols + 2 * o] = used ? plus[i * l->p.n_out + j] : pad;
                    l->iv[r * t->cols + 2 * o + 1] = used ? minus[i * l->p.n_out + j] : pad;
                }
            rc = ssp_engine_set_cells(l->eng[tr * l->gc + tc], l->iv);
            if (rc) return rc;
        }
    return SSP_OK;
}

ssp_engine *ssp_layer_engine(ssp_layer *l, size_t tr, size_t tc) { return l->eng[tr * l->gc + tc]; }
size_t ssp_layer_outputs_per_tile(const ssp_layer *l) { return l->outs; }
double *ssp_layer_gains(ssp_layer *l) { return l->gain; }
const ssp_layer_params *ssp_layer_params_of(const ssp_layer *l) { return &l->p; }

void ssp_layer_set_pool(ssp_layer *l, ssp_pool *pool)
{
    for (size_t t = 0; t < l->gr * l->gc; t++) ssp_engine_set_pool(l->eng[t], pool, pool ? 1 + t : 0);
}

int ssp_layer_forward(ssp_layer *l, const double *x, size_t k, double *y, double *y_analog)
{
    const ssp_tile_params *t = &l->p.tile;
    double lsb = ssp_adc_lsb(&t->adc), unit = -1.0 / (t->tia.r_f * scale(&l->p));
    size_t tr, tc, q, r, o, nt = l->gr * l->gc;
    int rc;
    if (k > l->cap_k) {
        /* every tile's inputs and outputs at once: the tiles run together */
        double *nx = realloc(l->xv, l->gr * k * t->rows * sizeof *nx);
        if (nx) l->xv = nx;
        double *nv = realloc(l->vo, nt * k * t->cols * sizeof *nv);
        if (nv) l->vo = nv;
        int *nc = realloc(l->codes, nt * k * t->cols * sizeof *nc);
        if (nc) l->codes = nc;
        const double **ni = realloc(l->tin, nt * sizeof *ni);
        if (ni) l->tin = ni;
        double **no = realloc(l->tout, nt * sizeof *no);
        if (no) l->tout = no;
        int **ncd = realloc(l->tcodes, nt * sizeof *ncd);
        if (ncd) l->tcodes = ncd;
        if (!nx || !nv || !nc || !ni || !no || !ncd)
            return ssp_error(l->ctx, SSP_ENOMEM, "out of memory for %zu vectors", k);
        l->cap_k = k;
    }
    memset(y, 0, k * l->p.n_out * sizeof *y);
    if (y_analog) memset(y_analog, 0, k * l->p.n_out * sizeof *y_analog);
    for (tr = 0; tr < l->gr; tr++) {
        double *xv = l->xv + tr * k * t->rows;
        for (q = 0; q < k; q++)
            for (r = 0; r < t->rows; r++) {
                size_t i = tr * t->rows + r;
                xv[q * t->rows + r] = i < l->p.n_in ? x[q * l->p.n_in + i] : 0.0;
            }
        for (tc = 0; tc < l->gc; tc++) {
            size_t ti = tr * l->gc + tc;
            l->tin[ti] = xv;
            l->tout[ti] = l->vo + ti * k * t->cols;
            l->tcodes[ti] = l->codes + ti * k * t->cols;
        }
    }
    rc = ssp_engine_run_many(l->eng, nt, l->tin, k, l->tout, l->tcodes);
    if (rc) return rc;
    for (tr = 0; tr < l->gr; tr++) {
        for (tc = 0; tc < l->gc; tc++) {
            size_t ti = tr * l->gc + tc;
            const double *gain = l->gain + ti * l->outs, *vo = l->tout[ti];
            const int *codes = l->tcodes[ti];
            for (q = 0; q < k; q++)
                for (o = 0; o < l->outs; o++) {
                    size_t j = tc * l->outs + o, cp, cm;
                    if (j >= l->p.n_out) break;
                    cp = t->scheme == SSP_COLS_DIFF ? 2 * o : o;
                    cm = t->scheme == SSP_COLS_DIFF ? 2 * o + 1 : t->cols - 1;
                    y[q * l->p.n_out + j] +=
                        gain[o] * unit * lsb * (double)(codes[q * t->cols + cp] - codes[q * t->cols + cm]);
                    if (y_analog)
                        y_analog[q * l->p.n_out + j] +=
                            gain[o] * unit * (vo[q * t->cols + cp] - vo[q * t->cols + cm]);
                }
        }
    }
    return SSP_OK;
}

int ssp_layer_write_mapping(const ssp_layer *l, FILE *f)
{
    size_t i, j;
    fprintf(f, "# weight (i j) -> tile (row col), word line, output, physical columns +/-\n");
    for (i = 0; i < l->p.n_in; i++)
        for (j = 0; j < l->p.n_out; j++) {
            ssp_weight_loc loc;
            ssp_layer_locate(l, i, j, &loc);
            fprintf(f, "%zu %zu %zu %zu %zu %zu %zu %zu\n", i, j, loc.tile_row, loc.tile_col,
                    loc.row, loc.out, loc.col_plus, loc.col_minus);
        }
    return ferror(f) ? ssp_error(l->ctx, SSP_EIO, "writing the mapping report failed") : SSP_OK;
}
