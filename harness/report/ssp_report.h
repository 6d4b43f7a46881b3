/* ssp_report.h — metrics files and the run report.
 *
 * metrics.csv: one row per epoch, a header naming every column with its
 * unit. metrics.json: the same rows as an array of objects plus the run's
 * identity (method, device file, seed). report.txt: the report for a circuit
 * designer (ssp_report_text).
 * All written atomically; a reader never sees half a file. */

/* harness/report/ — what a run writes for people: report.txt (this header)
 * and the gnuplot plots (ssp_plot.h). Reads the results of harness/train/. */
#ifndef SSP_REPORT_H
#define SSP_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "ssp_config.h"
#include "ssp_error.h"
#include "ssp_train.h"

SSP_API int ssp_report_metrics_csv(ssp_ctx *ctx, const char *path, const ssp_epoch_metrics *m, size_t n);
SSP_API int ssp_report_metrics_json(ssp_ctx *ctx, const char *path, const ssp_config *cfg, const ssp_epoch_metrics *m,
                            size_t n);
/* The read energy and latency lines of report.txt (also printed by infer). */
SSP_API void ssp_report_read_figures(FILE *f, const ssp_read_figures *r);
/* A baseline trained with the run (run.baselines): its method and its last
 * epoch's metrics. */
enum { SSP_REPORT_MAX_BASELINES = 8 };
typedef struct ssp_report_baseline {
    const char *method;
    ssp_epoch_metrics last;
} ssp_report_baseline;

/* report.txt for a designer: the settings, a table per epoch with
 * engineering prefixes and reductions as percentages, the last epoch's
 * out-of-band and stuck counts, and with nb baselines a side-by-side
 * comparison saying which wins. */
SSP_API int ssp_report_text(ssp_ctx *ctx, const char *path, const ssp_config *cfg, const ssp_epoch_metrics *m, size_t n,
                    const ssp_report_baseline *b, size_t nb);

#endif
