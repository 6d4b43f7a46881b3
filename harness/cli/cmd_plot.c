/* cmd_plot.c — `siamspice plot RUN_DIR`: (re)draw a run's plots. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_plot.h"

static const char SYNOPSIS[] = "usage: siamspice plot RUN_DIR\n";
static const char ABOUT[] =
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
    "The script is left in RUN_DIR/plots.gp, gnuplot's messages in RUN_DIR/plots.log.\n";
static const char TAIL[] =
    "Exit status: 0 done, 1 gnuplot failed, 2 bad usage, no such directory, nothing\n"
    "to plot or a malformed input file.\n";

int ssp_cmd_plot(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    int status, rc;
    time_t start;
    ssp_cmd_list dirs = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.kind = SSP_CMD_LIST, .target = &dirs, .arg = "RUN_DIR"},
    };
    ssp_cmd_spec spec = {.cmd = "plot", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (dirs.n != 1) return ssp_cmd_opts_usage(&spec, "expected one RUN_DIR, got %d arguments", dirs.n);
    if (ssp_ctx_create(&ctx)) return 1;
    start = time(NULL);
    rc = ssp_plot_run(ctx, dirs.v[0]);
    status = rc == SSP_OK ? 0 : (rc == SSP_EINVAL || rc == SSP_EFORMAT) ? 2 : 1;
    if (!status) {
        /* say what was drawn: the plots whose PNG this run (re)wrote */
        static const char *const known[] = {"accuracy_loss", "cumulative_cost", "conductance_histogram", "waveform",
                                            "fit_curve", "read", "accuracy_tsample"};
        char p[4096];
        struct stat sb;
        int any = 0;
        printf("siamspice plot: wrote in %s:", dirs.v[0]);
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
            snprintf(p, sizeof p, "%s/%s.png", dirs.v[0], known[k]);
            if (stat(p, &sb) == 0 && sb.st_mtime >= start - 1) {
                printf(" %s.{png,svg}", known[k]);
                any = 1;
            }
        }
        for (int m = 0; m < 64; m++) {
            snprintf(p, sizeof p, "%s/irdrop_m%d.png", dirs.v[0], m);
            if (stat(p, &sb) == 0 && sb.st_mtime >= start - 1) {
                printf(" irdrop_m%d.{png,svg}", m);
                any = 1;
            }
        }
        printf("%s plots.gp (the gnuplot script)\n", any ? "," : "");
    }
    if (status) fprintf(stderr, "siamspice plot: %s\n", ssp_ctx_errmsg(ctx));
    ssp_ctx_destroy(&ctx);
    return status;
}
