/* ssp_twin.h — the float "Siamese" twin of a crossbar network and its
 * quantizer (Tan et al., Cognitive Neurodynamics 2024).
 *
 * The twin holds one float weight per crossbar weight. Gradients computed in
 * software from the hardware forward pass are accumulated over k batches
 * (gradient accumulation), then applied to the float weights (SGD with
 * optional momentum). The float weights are then quantized onto the
 * differential pair's levels, q in -(L-1)..(L-1), w = q * w_max[m] / (L-1).
 * A weight is rewritten only when its float value has moved at least
 * `threshold` levels away from the level currently written (0.5 = plain
 * rounding); only those weights go to the devices (sparse update).
 *
 * Quantization-error compensation: the float weight keeps the difference
 * between itself and its written level, so sub-level updates add up until
 * they cross a level instead of being lost. With compensation off the float
 * weight is snapped back to its written level after every update (the
 * ablation). Nothing here touches devices or prints. */
#ifndef SSP_TWIN_H
#define SSP_TWIN_H

#include <stddef.h>
#include <stdio.h>

#include "ssp_error.h"

/* One weight whose written level must change. */
typedef struct ssp_twin_change {
    unsigned m;   /* matrix */
    unsigned idx; /* row-major index in the matrix */
    int from;     /* level written now */
    int to;       /* level to write */
} ssp_twin_change;

typedef struct ssp_twin {
    size_t nmat;        /* number of matrices */
    size_t *size;       /* entries per matrix (owned) */
    double **w;         /* float weights (owned) */
    double **grad;      /* gradient of the last batch, filled by the backward pass (owned) */
    double **acc;       /* accumulated gradient (owned) */
    double **vel;       /* momentum buffer (owned) */
    int **q;            /* level written on the devices, signed (owned) */
    long pending;       /* batches accumulated since the last update */
    int levels;         /* L: levels per device */
    double *w_max;      /* per matrix: weight of a full-range pair (owned) */
    double threshold;   /* levels of movement that trigger a rewrite */
    int compensate;     /* keep the quantization error (1) or snap (0) */
    ssp_twin_change *changes; /* changes of the last quantization (owned) */
    size_t nchanges;    /* entries used in changes */
    size_t cap;         /* entries allocated in changes */
} ssp_twin;

/* sizes[m] = rows * cols of matrix m. Weights start at 0, levels at 0. */
SSP_API int ssp_twin_alloc(ssp_twin **out, ssp_ctx *ctx, size_t nmat, const size_t *sizes, int levels,
                   const double *w_max, double threshold, int compensate);
SSP_API void ssp_twin_free(ssp_twin **t);

/* Level spacing of matrix m in weight units: w_max[m] / (L - 1). */
SSP_API double ssp_twin_step(const ssp_twin *t, size_t m);
/* The level of matrix m nearest to w, clamped to -(L-1)..(L-1). */
SSP_API int ssp_twin_level_of(const ssp_twin *t, size_t m, double w);

/* acc += grad; returns the number of batches now pending. */
SSP_API long ssp_twin_accumulate(ssp_twin *t);
/* w -= lr * (momentum-filtered) mean of the accumulated gradients; clears
 * the accumulator. Weights are clipped to +-w_max[m]. */
SSP_API void ssp_twin_apply(ssp_twin *t, double lr, double momentum);
/* Add delta to one weight directly (tests, external updates). */
SSP_API void ssp_twin_add(ssp_twin *t, size_t m, size_t idx, double delta);
/* Collect the weights whose level must change (t->changes) and record the
 * new levels as written. Returns the number of changes. */
SSP_API size_t ssp_twin_quantize(ssp_twin *t);
/* Every weight's target level, whether or not it changed (closed-loop). */
SSP_API size_t ssp_twin_quantize_all(ssp_twin *t);

/* Binary state (weights, optimizer, accumulator, levels) for checkpoints. */
SSP_API int ssp_twin_write(const ssp_twin *t, FILE *f);
SSP_API int ssp_twin_read(ssp_twin *t, ssp_ctx *ctx, FILE *f, const char *origin);

#endif
