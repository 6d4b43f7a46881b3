/* ssp_sweep.h — the table and plots of a parameter sweep.
 *
 * A sweep (siamspice sweep) runs one training run directory per job; this
 * module reads each finished run's metrics.csv into a row and writes the
 * sweep's sweep.csv, sweep.json and plots (sweep_<key>.png: every metric
 * against each swept key, mean over run.seed with its min..max spread).
 * The table is in job order and holds no wall times, so the same grid gives
 * the same bytes however the jobs were scheduled. It runs nothing. */
#ifndef SSP_SWEEP_H
#define SSP_SWEEP_H

#include <stddef.h>

#include "ssp_error.h"

enum { SSP_SWEEP_MAX_EPOCHS = 256, SSP_SWEEP_MSG_MAX = 512 };

typedef struct ssp_sweep_row {
    const char *job;               /* job name, its run directory's (borrowed) */
    const char *const *values;     /* the job's grid values, one per key (borrowed) */
    int ok;                        /* 1 finished, 0 failed or missing */
    char message[SSP_SWEEP_MSG_MAX]; /* why it failed ("" when ok) */
    size_t epochs;                 /* epochs in metrics.csv */
    double acc[SSP_SWEEP_MAX_EPOCHS]; /* test accuracy (fraction) after each epoch */
    double eliminated_pct;         /* last epoch's updates eliminated against closed loop, % */
    double weight_writes;          /* weight writes, all epochs */
    double energy_j;               /* programming energy, all epochs, J */
    double latency_s;              /* programming latency, all epochs, s */
} ssp_sweep_row;

/* Fill row's figures from run directory dir's metrics.csv (row->ok and
 * message are left to the caller). SSP_EIO / SSP_EFORMAT naming the file. */
int ssp_sweep_read_run(ssp_ctx *ctx, const char *dir, ssp_sweep_row *row);

/* Write dir/sweep.csv and dir/sweep.json (atomically) for n rows over the
 * nkeys swept keys. */
int ssp_sweep_write_table(ssp_ctx *ctx, const char *dir, const char *const *keys, size_t nkeys,
                          const ssp_sweep_row *rows, size_t n);

/* Write the plot data (sweep_<key>.dat), dir/sweep.gp and run gnuplot on
 * it: one PNG per swept key other than run.seed whose values are all
 * numbers. *nplots receives how many were drawn (0: nothing to plot, not an
 * error). SSP_EIO when gnuplot is missing or fails. */
int ssp_sweep_plot(ssp_ctx *ctx, const char *dir, const char *const *keys, size_t nkeys,
                   const ssp_sweep_row *rows, size_t n, int *nplots);

#endif
