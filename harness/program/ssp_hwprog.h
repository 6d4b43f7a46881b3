/* ssp_hwprog.h — programming a network's device pairs tile by tile through
 * the pulse scheduler (ssp_pulse.h), on the C device model or in ngspice.
 *
 * Matrix m is a physical array of rows x dcols devices, row-major: the
 * device array of ssp_hw (ssp_hw_devices_const, ssp_hw_device_cols), whose
 * pairs sit side by side on a row in the column order of the crossbar tiles
 * (ssp_layer); which device carries which weight is ssp_hw's business, this
 * module sees devices and per-device targets only. That array is cut into tiles of at most tile_rows x tile_cols devices
 * (the config's crossbar size), numbered matrix by matrix, row of tiles by
 * row of tiles. A tile is programmed as one unit: every cell with a target
 * level (SSP_PULSE_KEEP: none) gets its pulses, the others on its lines see
 * the V/2 or V/3 bias and carry the half-select disturb back into their
 * states.
 *
 * Energy: an ngspice run is measured (transient source energy) and also fits
 * the per-pulse calibration (ssp_pulse_cal); a C-model run is priced by that
 * calibration. Latency is the schedule's own (pulses, settling, verify
 * reads), the same for both. The C model drives every cell with its line
 * voltages as if the wires were ideal; ngspice includes the wire segments,
 * so their IR drop is part of what a check measures. Checks run one tile's update in ngspice from
 * given start states, replay the same pulses on the noise-free C model from
 * the same start states and give the largest state deviation as a fraction
 * of the state range.
 *
 * No printing; errors go to the ssp_ctx given at create. */
#ifndef SSP_HWPROG_H
#define SSP_HWPROG_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdio.h>

#include "ssp_device.h"
#include "ssp_error.h"
#include "ssp_pulse.h"
#include "ssp_pool.h"
#include "ssp_spice.h"

typedef struct ssp_hwprog_params {
    int strategy;        /* enum ssp_pulse_strategy */
    int bias;            /* enum ssp_pulse_bias */
    long verify_rounds;  /* write-verify: most rounds per tile */
    size_t tile_rows;    /* word lines per tile */
    size_t tile_cols;    /* physical bit lines per tile (even: whole pairs) */
    double r_wire;       /* ohm per word-/bit-line segment in the ngspice tiles (0: ideal) */
    double c_line_cell;  /* F, line capacitance per cell a line crosses: prices the
                          * line drivers (ssp_pulse_params.c_line_cell); from a
                          * config, ssp_config_c_line_cell */
} ssp_hwprog_params;

/* One tile: matrix m, physical rows [r0, r0 + rows), columns [c0, c0 + cols). */
typedef struct ssp_hwprog_tile {
    size_t m, r0, c0, rows, cols;
} ssp_hwprog_tile;

/* Totals over tiles. */
typedef struct ssp_hwprog_totals {
    size_t tiles;            /* tiles programmed */
    ssp_pulse_result sum;    /* figures added over the tiles (disturb_max: the
                              * largest; disturb_mean: not meaningful) */
} ssp_hwprog_totals;

typedef struct ssp_hwprog ssp_hwprog;

/* A programmer for nmat matrices of rows[m] x dcols[m] devices (from an
 * ssp_hw: ssp_hw_rows, ssp_hw_device_cols) following model m with level
 * table lv (both borrowed, must outlive it). */
SSP_API int ssp_hwprog_create(ssp_hwprog **out, ssp_ctx *ctx, const ssp_device_model *m,
                      const ssp_device_levels *lv, size_t nmat, const size_t *rows,
                      const size_t *dcols, const ssp_hwprog_params *p);
SSP_API void ssp_hwprog_destroy(ssp_hwprog **hp);

SSP_API size_t ssp_hwprog_ntiles(const ssp_hwprog *hp);
SSP_API const ssp_hwprog_tile *ssp_hwprog_tile_at(const ssp_hwprog *hp, size_t k);
/* 1 when some cell of tile k has a target in targetm (matrix's targets). */
SSP_API int ssp_hwprog_tile_has_targets(const ssp_hwprog *hp, size_t k, const int *targetm);
/* The number of cells of tile k with a target in targetm. */
SSP_API size_t ssp_hwprog_tile_targets(const ssp_hwprog *hp, size_t k, const int *targetm);
/* Copy tile k's cells out of a matrix's device array (devm: the matrix's
 * rows x dcols devices; buf: rows x cols of the tile). */
SSP_API void ssp_hwprog_gather(const ssp_hwprog *hp, size_t k, const ssp_device *devm, ssp_device *buf);

/* Program tile k of the matrix whose devices are devm towards targetm
 * (one level index per device, SSP_PULSE_KEEP: none). spice NULL: C model
 * with noise from rng (NULL: none), energy priced by the calibration (an
 * unfitted calibration is SSP_ESTATE); else an ngspice transient per round,
 * energy measured and the calibration refitted. sched (may be NULL) gets
 * the events, res the figures, status (tile-sized, may be NULL) per cell. */
SSP_API int ssp_hwprog_program(ssp_hwprog *hp, size_t k, ssp_device *devm, const int *targetm,
                       ssp_spice *spice, gsl_rng *rng, ssp_pulse_schedule *sched,
                       ssp_pulse_result *res, int *status);
/* Program every tile that has a target; totals added to tot. While
 * recording, each programmed tile's schedule, states before it and figures
 * are kept (replacing the tile's previous record). */
SSP_API int ssp_hwprog_program_all(ssp_hwprog *hp, ssp_device *const *dev, const int *const *target,
                           ssp_spice *spice, gsl_rng *rng, ssp_hwprog_totals *tot);

/* program_all on nthreads threads, C model only: thread t programs through
 * hps[t] (nthreads programmers created alike, each on its own context, each
 * with the calibration to price by; hps[0]'s context gets any error), and
 * tile k draws its noise from rngs[k] (ntiles streams, NULL entries: no
 * noise), so the states and figures do not depend on the number of threads
 * or on which thread took a tile; totals added to tot in tile order. Tiles
 * are disjoint sets of devices: the threads never write the same device.
 * Not while recording. */
SSP_API int ssp_hwprog_program_all_threads(ssp_hwprog *const *hps, size_t nthreads, ssp_device *const *dev,
                                           const int *const *target, gsl_rng *const *rngs, ssp_hwprog_totals *tot);

/* ---- every tile as a pool job (local worker processes or MPI ranks) ----
 * program_all_threads' contract on the workers of a pool: each tile with a
 * target is one SSP_JOB_CALL job for the handler SSP_HWPROG_HANDLER, which
 * the serving processes register (ssp_hwprog_tile_handler; the siamspice
 * command's pool workers and MPI ranks do). A job carries all its tile's
 * programming needs (the device model, level table, pulse parameters and
 * calibration, the tile's devices and targets, its noise stream's state),
 * so a server needs no configuration; both ends must be the same build.
 * States, figures and the streams (rngs[k], NULL entries: no noise) come out
 * bit for bit as on threads, whatever the pool's size or transport; totals
 * are added in tile order. C model only, priced by hp's calibration, not
 * while recording. On an error (the first failed tile's, with its message,
 * in hp's context) no device or stream is changed. */
#define SSP_HWPROG_HANDLER "hwprog.tile"
SSP_API int ssp_hwprog_program_all_pool(ssp_hwprog *hp, ssp_pool *pool, ssp_device *const *dev,
                                        const int *const *target, gsl_rng *const *rngs, ssp_hwprog_totals *tot);
/* Tile k's request, as program_all_pool sends it (malloc'ed into *out). */
SSP_API int ssp_hwprog_tile_request(ssp_hwprog *hp, size_t k, ssp_device *const *dev, const int *const *target,
                                    gsl_rng *rng, unsigned char **out, size_t *nout);
/* The handler (an ssp_pool_handler_fn; payload unused): decodes a job,
 * programs its tile, replies. A request that is not one is SSP_EINVAL. */
SSP_API int ssp_hwprog_tile_handler(ssp_ctx *ctx, const unsigned char *in, size_t nin, unsigned char **out,
                                    size_t *nout, void *payload);
/* Recording of program_all: on (1) keeps every tile's latest programming,
 * off (0) frees the records. The stamp (e.g. the training step) is stored
 * with each record made until the next call; clear forgets the records but
 * keeps their memory. */
SSP_API int ssp_hwprog_record(ssp_hwprog *hp, int on);
SSP_API void ssp_hwprog_record_stamp(ssp_hwprog *hp, long stamp);
SSP_API void ssp_hwprog_record_clear(ssp_hwprog *hp);
/* Tile k's record: the schedule (NULL: none), and when not NULL the states
 * before it (rows x cols), the figures and the stamp. */
SSP_API const ssp_pulse_schedule *ssp_hwprog_recorded(const ssp_hwprog *hp, size_t k, const ssp_device **start,
                                              ssp_pulse_result *res, long *stamp);
/* Write one tile's schedule into dir/tile_<k>/: schedule.csv, .json, .vcd
 * and, with start states (before the schedule; may be NULL), the ngspice
 * deck pwl/ (ssp_pulse_export_pwl). */
SSP_API int ssp_hwprog_export_tile(const ssp_hwprog *hp, ssp_ctx *ctx, const char *dir, size_t k,
                           const ssp_pulse_schedule *sched, const ssp_device *start);
/* Every record into dir (created): tile_<k>/ as above (pwl/ when pwl) and
 * summary.csv, one row per recorded tile: tile, matrix, row0, col0, rows,
 * cols, step (the stamp), targets, in_band, missed, unreachable, pulses,
 * verify_reads, rounds, energy_j, latency_s, disturb_max_levels. *ntiles
 * (may be NULL): tiles written. */
SSP_API int ssp_hwprog_export_recorded(const ssp_hwprog *hp, ssp_ctx *ctx, const char *dir, int pwl, size_t *ntiles);

/* Check tile k: from the start states devm (not changed) run the update in
 * ngspice, refit the calibration, replay the same pulses on the C model
 * (no noise) from the same states; *dev_frac = largest |x_model - x_spice|
 * over the tile's cells / the state range. res (may be NULL): the ngspice
 * figures. */
SSP_API int ssp_hwprog_check(ssp_hwprog *hp, size_t k, const ssp_device *devm, const int *targetm,
                     ssp_spice *spice, double *dev_frac, ssp_pulse_result *res);
/* The same on a sample of tile k's targets: at most max_targets of them
 * (0: all), spread evenly over the tile in cell order, the others left
 * where they are; *nsampled (may be NULL) the targets run. The calibration
 * of a large tile costs in ngspice about in proportion to its pulses, so a
 * sample bounds it while keeping the tile's wires and half-selected cells. */
SSP_API int ssp_hwprog_check_sample(ssp_hwprog *hp, size_t k, const ssp_device *devm, const int *targetm,
                                    size_t max_targets, ssp_spice *spice, double *dev_frac, ssp_pulse_result *res,
                                    size_t *nsampled);

/* The per-pulse energy calibration (fitted by ngspice runs and checks). */
SSP_API ssp_pulse_cal *ssp_hwprog_cal(ssp_hwprog *hp);
/* Pulse parameters of every tile (for PWL exports). */
SSP_API const ssp_pulse_params *ssp_hwprog_pulse_params(const ssp_hwprog *hp);
/* State range x_hi - x_lo of the nominal device. */
SSP_API double ssp_hwprog_state_range(const ssp_hwprog *hp);

/* Add one tile's result into totals. */
SSP_API void ssp_hwprog_totals_add(ssp_hwprog_totals *tot, const ssp_pulse_result *r);

#endif
