/* cmd_plot.c — `siamspice plot RUN_DIR`: (re)draw a run's plots. */
#include <stdio.h>
#include <string.h>

#include "ssp_cmd_train.h"
#include "ssp_plot.h"

int ssp_cmd_plot(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    int status;
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: siamspice plot RUN_DIR\n\nDraw accuracy_loss, cumulative_cost and conductance_histogram\n"
             "(PNG and SVG) from the files of a run directory, with gnuplot.\n"
             "The script is left in RUN_DIR/plots.gp, gnuplot's messages in RUN_DIR/plots.log.");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fputs("usage: siamspice plot RUN_DIR\n", stderr);
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    status = ssp_plot_run(ctx, argv[1]) ? 1 : 0;
    if (status) fprintf(stderr, "siamspice plot: %s\n", ssp_ctx_errmsg(ctx));
    ssp_ctx_destroy(&ctx);
    return status;
}
