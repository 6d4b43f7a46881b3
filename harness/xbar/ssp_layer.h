/* ssp_layer.h — a weight layer mapped onto a grid of crossbar tiles.
 *
 * Weight w[i][j] (input i, output j; n_in x n_out, row-major) sits on tile
 * (i / rows, j / outputs_per_tile), row i % rows, output column j % outputs
 * of that tile: a differential pair G+ − G− (default) or a column against
 * the tile's shared reference column. Each tile is read by its own engine;
 * the partial sums of the tile rows are added digitally after the ADCs.
 * It only maps and sums; circuits and engines live in ssp_engine.h. */
#ifndef SSP_LAYER_H
#define SSP_LAYER_H

#include <stdio.h>

#include "ssp_engine.h"

typedef struct ssp_layer_params {
    size_t n_in, n_out;   /* layer size */
    ssp_tile_params tile; /* every tile of the grid */
    size_t max_tiles;     /* largest grid allowed (tiles) */
    double g_min, g_max;  /* S, programmable conductance range */
    double w_max;         /* |w| that maps to the full range */
    int engine;           /* enum ssp_engine_kind */
} ssp_layer_params;

/* Where one weight lives. */
typedef struct ssp_weight_loc {
    size_t tile_row, tile_col; /* grid position */
    size_t row;                /* word line in the tile */
    size_t out;                /* output (pair or column) in the tile */
    size_t col_plus, col_minus;/* physical columns (minus: the pair's or the reference) */
} ssp_weight_loc;

typedef struct ssp_layer ssp_layer;

/* Defaults: 64x64 differential 1R tiles, at most 64 tiles, 10..100 uS, w_max 1, nodal. */
SSP_API void ssp_layer_params_default(ssp_layer_params *p);

SSP_API int ssp_layer_create(ssp_layer **out, ssp_ctx *ctx, const ssp_layer_params *p, ssp_spice *spice);
SSP_API void ssp_layer_destroy(ssp_layer **l);
SSP_API int ssp_layer_set_weights(ssp_layer *l, const double *w);
/* Set the actual cells of every weight: plus[i*n_out+j] and minus[...] are
 * the read-state I–V of the devices on G+ and G− (differential scheme only;
 * the reference scheme has no per-weight minus device). Cells the layer
 * leaves unused (padding rows and columns) read as g_min. */
SSP_API int ssp_layer_set_cells(ssp_layer *l, const ssp_cell_iv *plus, const ssp_cell_iv *minus);
/* Engine of tile (tr, tc). */
SSP_API ssp_engine *ssp_layer_engine(ssp_layer *l, size_t tr, size_t tc);
/* Outputs (pairs) per tile. */
SSP_API size_t ssp_layer_outputs_per_tile(const ssp_layer *l);
SSP_API const ssp_layer_params *ssp_layer_params_of(const ssp_layer *l);
/* The digital gain each tile output's code difference is multiplied by
 * before the sum over tile rows: gr x gc x outs, [(tr*gc + tc)*outs + o],
 * all 1 at create (set by a calibration, ssp_xbar). */
SSP_API double *ssp_layer_gains(ssp_layer *l);
/* Solve the tiles' spice engines on pool workers (borrowed; NULL: in the
 * session), tile t pinned to worker t % size; the forward pass then runs
 * every tile of the grid at once. */
SSP_API void ssp_layer_set_pool(ssp_layer *l, ssp_pool *pool);
/* y (k x n_out) ≈ x·W from the ADC codes (digital sum over tile rows);
 * y_analog (may be NULL) the same from the TIA voltages before the ADCs. */
SSP_API int ssp_layer_forward(ssp_layer *l, const double *x, size_t k, double *y, double *y_analog);
SSP_API void ssp_layer_locate(const ssp_layer *l, size_t i, size_t j, ssp_weight_loc *loc);
/* The mapping report: one line per weight "i j tile_row tile_col row out col+ col-". */
SSP_API int ssp_layer_write_mapping(const ssp_layer *l, FILE *f);
SSP_API size_t ssp_layer_grid_rows(const ssp_layer *l);
SSP_API size_t ssp_layer_grid_cols(const ssp_layer *l);

#endif
