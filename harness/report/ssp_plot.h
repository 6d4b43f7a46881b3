/* ssp_plot.h — the run's pictures, drawn by gnuplot (PNG and SVG).
 *
 * ssp_plot_run reads the files a run directory (or a `siamspice program`
 * output directory) holds and draws what they allow: accuracy and loss
 * per epoch against the baselines (metrics.csv, baseline-<method>/
 * metrics.csv), cumulative writes/energy/latency against closed loop
 * (metrics.csv), the conductance histogram per layer (conductance_hist.csv,
 * levels.csv), one IR-drop heat map per matrix (irdrop.csv, the matrices
 * with finite values; the engine named in config.ini) and the programming
 * waveform of one cell (waveform.csv) and a fitted device's measured against
 * fitted pulse response (fit_curve.csv, from `siamspice fit --plot`). It writes plots.gp there and runs
 * gnuplot on it, its messages into plots.log. Errors: SSP_EINVAL when dir is
 * not a directory or holds nothing to plot, SSP_EFORMAT for a malformed
 * irdrop.csv (file and line named), SSP_EIO when gnuplot is missing or
 * fails (with gnuplot's own message). */
#ifndef SSP_PLOT_H
#define SSP_PLOT_H

#include "ssp_error.h"
#include "ssp_hw.h"

/* Write conductance_hist.csv (layer, g_S, devices) and levels.csv (level,
 * g_S, lo_S, hi_S) of the hardware's present state into dir. */
SSP_API int ssp_plot_export_conductances(ssp_ctx *ctx, const char *dir, const ssp_hw *hw);

/* Draw every plot the run directory has data for. */
SSP_API int ssp_plot_run(ssp_ctx *ctx, const char *dir);

/* Run gnuplot on dir/script inside dir, its output into dir/log_name;
 * SSP_EIO with gnuplot's message when it is missing or fails. */
SSP_API int ssp_plot_gnuplot(ssp_ctx *ctx, const char *dir, const char *script, const char *log_name);

#endif
