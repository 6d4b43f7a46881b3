/* plot_script.h — internal to harness/report: how a gnuplot script that
 * siamspice writes draws its plots, shared by the run's plots (ssp_plot.c)
 * and the sweep's (ssp_sweep.c). Every plot is drawn into
 * "<name>.<ext>.tmp.<pid>" and renamed into place once gnuplot has closed
 * it, so a plot on disk is the previous one or the whole new one. */
#ifndef SSP_PLOT_SCRIPT_H
#define SSP_PLOT_SCRIPT_H

#include <stdio.h>

#include "ssp_error.h"

/* The script's first lines: the pending-rename machinery (ssp_finish). */
void plot_script_header(FILE *f);
/* Finish the previous plot and open NAME.png (svg = 0) or NAME.svg of w x h
 * pixels under its temporary name. */
void plot_script_output(FILE *f, const char *name, int svg, int w, int h);
/* The script's last line: finish (rename) the last plot. */
void plot_script_end(FILE *f);
/* Run gnuplot on dir/script (ssp_plot_gnuplot), then remove this process's
 * temporary plots left in dir; SSP_EIO when gnuplot failed or a plot was
 * drawn but not renamed. */
int plot_script_run(ssp_ctx *ctx, const char *dir, const char *script, const char *log_name);

#endif
