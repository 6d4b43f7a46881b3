/* cmd_plot.c — `siamspice plot RUN_DIR`: (re)draw a run's plots. */
#include <stdio.h>
#include <string.h>

#include "ssp_cmd.h"
#include "ssp_plot.h"

int ssp_cmd_plot(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    int status, rc;
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: siamspice plot RUN_DIR\n\n"
             "Draw, with gnuplot, every plot RUN_DIR has data for, each as PNG and SVG:\n"
             "  accuracy_loss          test accuracy and training loss per epoch, this run\n"
             "                         against its baselines (metrics.csv, baseline-*/)\n"
             "  cumulative_cost        cumulative weight writes, energy and latency against\n"
             "                         closed-loop write-verify, log scale (metrics.csv)\n"
             "  conductance_histogram  device conductances per layer, level targets marked\n"
             "                         (conductance_hist.csv, levels.csv)\n"
             "  irdrop_m<M>            per-tile heat map of the IR-drop gain error of matrix\n"
             "                         M in %, nan blank (irdrop.csv: nodal or spice runs)\n"
             "  waveform               one cell's programming transient: line voltages,\n"
             "                         current, state (waveform.csv: program --waveform)\n"
             "  fit_curve              measured and fitted conductance per pulse\n"
             "                         (fit_curve.csv: fit --plot)\n"
             "The script is left in RUN_DIR/plots.gp, gnuplot's messages in RUN_DIR/plots.log.\n"
             "Exit status: 0 done, 1 gnuplot failed, 2 bad usage, no such directory, nothing\n"
             "to plot or a malformed input file.");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        if (argc > 1 && argv[1][0] == '-')
            fprintf(stderr, "siamspice plot: unknown option '%s'\n", argv[1]);
        else
            fprintf(stderr, "siamspice plot: expected one RUN_DIR, got %d arguments\n", argc - 1);
        fputs("usage: siamspice plot RUN_DIR (siamspice plot --help)\n", stderr);
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    rc = ssp_plot_run(ctx, argv[1]);
    status = rc == SSP_OK ? 0 : (rc == SSP_EINVAL || rc == SSP_EFORMAT) ? 2 : 1;
    if (status) fprintf(stderr, "siamspice plot: %s\n", ssp_ctx_errmsg(ctx));
    ssp_ctx_destroy(&ctx);
    return status;
}
