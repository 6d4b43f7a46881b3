/* hwprog_impl.h — the tile programmer's state, shared by ssp_hwprog.c (the
 * tiling, programming in this process and on threads) and
 * ssp_hwprog_pool.c (tiles as pool jobs). Internal: not installed. */
#ifndef SSP_HWPROG_IMPL_H
#define SSP_HWPROG_IMPL_H

#include "ssp_hwprog.h"

typedef struct shape {
    size_t rows, cols;
    ssp_pulse *pp; /* owned */
} shape;

struct ssp_hwprog {
    ssp_ctx *ctx;                /* borrowed */
    const ssp_device_model *m;   /* borrowed */
    const ssp_device_levels *lv; /* borrowed */
    size_t nmat;
    size_t *pcols;               /* physical columns (2 cols) per matrix (owned) */
    ssp_hwprog_tile *tiles;      /* owned */
    size_t ntiles;
    shape *shapes;               /* owned, nshapes used */
    size_t nshapes;
    ssp_pulse_params pp;         /* every tile's pulse parameters */
    ssp_pulse_cal cal;           /* calibration fitted from ngspice runs */
    double x_range;              /* nominal x_hi - x_lo */
    ssp_device *buf, *buf2, *buf3; /* tile-sized scratch (owned) */
    int *tbuf;                   /* tile-sized targets (owned) */
    /* ssp_hwprog_record: each tile's latest programming by program_all */
    int recording;
    long stamp;                  /* given to the next program_all */
    struct record {
        ssp_pulse_schedule *sched; /* NULL: none since the last clear (owned) */
        ssp_device *start;         /* the tile's states before it (owned) */
        ssp_pulse_result res;
        long stamp;
        int valid;
    } *rec;                      /* ntiles when recording (owned) */
};

/* Tile k's cells' targets out of the matrix's targets targetm. */
void hwprog_gather_targets(const ssp_hwprog *hp, size_t k, const int *targetm, int *buf);
/* Copy tile k's cells (buf) back into the matrix's device array devm. */
void hwprog_scatter(const ssp_hwprog *hp, size_t k, const ssp_device *buf, ssp_device *devm);
/* SSP_ESTATE naming tile k unless cal is fitted (the C model prices by it). */
int hwprog_need_cal(ssp_ctx *ctx, const ssp_pulse_cal *cal, size_t k);
/* Prefix ctx's message with tile t (number k): its matrix, first row and column. */
void hwprog_error_tile(ssp_ctx *ctx, size_t k, const ssp_hwprog_tile *t);

#endif
