/* ssp_plot.h — the run's pictures, drawn by gnuplot (PNG and SVG).
 *
 * ssp_plot_run reads the files a run directory holds (metrics.csv, the
 * baselines' baseline-<method>/metrics.csv, conductance_hist.csv,
 * levels.csv), writes plots.gp there and runs gnuplot on it. A missing
 * gnuplot or a gnuplot error is reported with gnuplot's own message. */
#ifndef SSP_PLOT_H
#define SSP_PLOT_H

#include "ssp_error.h"
#include "ssp_hw.h"

/* Write conductance_hist.csv (layer, g_S, devices) and levels.csv (level,
 * g_S, lo_S, hi_S) of the hardware's present state into dir. */
int ssp_plot_export_conductances(ssp_ctx *ctx, const char *dir, const ssp_hw *hw);

/* Draw every plot the run directory has data for. */
int ssp_plot_run(ssp_ctx *ctx, const char *dir);

#endif
