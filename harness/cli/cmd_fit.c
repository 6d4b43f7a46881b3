/* cmd_fit.c — `siamspice fit`: fit a compact model to measured pulse data.
 *
 *   siamspice fit --model vteam|yakopcic|biolek|pulselevel --data FILE.csv
 *                 [--out params.ini] [--plot DIR] [--spice] [--read-voltage V]
 *                 [--edge s] [--starts N] [--seed S]
 *   siamspice fit --generate PARAMS.ini [--devices N] [--cycles N] [--pulses N]
 *                 [--seed S] [--out data.csv]
 *
 * The first form fits (ssp_fit_run), prints the report (parameters with 95 %
 * intervals, variation, nonlinearity, rms error per cycle), writes the
 * parameter file, and with --spice replays every cycle in ngspice on the
 * emitted subcircuit (ssp_devcurve_spice) and reports its deviation next to
 * the C model's; with --plot it writes DIR/fit_curve.csv and draws measured
 * against fitted G per pulse (ssp_plot_run: fit_curve.png / .svg). The
 * second form writes synthetic data of a parameter file (ssp_fit_generate)
 * for trying the first. A thin driver: the work is in ssp_fit, ssp_devcurve
 * and ssp_plot. Exit 0 ok, 1 the fit or a simulation failed, 2 bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_devcurve.h"
#include "ssp_device.h"
#include "ssp_file.h"
#include "ssp_fit.h"
#include "ssp_plot.h"
#include "ssp_spice.h"

/* Defaults of the generator: devices, cycles, SET (and as many RESET)
 * pulses per cycle. */
#define GEN_DEVICES 3
#define GEN_CYCLES 3
#define GEN_PULSES 60
/* Largest counts the generator accepts. */
#define GEN_MAX 100000.0
/* Most random starts a fit may be asked for. */
#define MAX_STARTS 1000.0

static const char SYNOPSIS[] =
    "usage: siamspice fit --model vteam|yakopcic|biolek|pulselevel --data FILE.csv\n"
    "                     [--out params.ini] [--plot DIR] [--spice] [--read-voltage V]\n"
    "                     [--edge s] [--starts N] [--seed S] [-q]\n"
    "       siamspice fit --generate PARAMS.ini [--devices N] [--cycles N] [--pulses N]\n"
    "                     [--seed S] [--out data.csv]\n";

static int generate(const char *params, const char *out, long devices, long cycles, long pulses,
                    unsigned long seed)
{
    ssp_ctx *ctx = NULL;
    ssp_device_model *m = NULL;
    gsl_rng *rng = NULL;
    char *csv = NULL;
    ssp_fit_protocol pr = {0};
    int rc, status = 1;
    if (out && (status = ssp_cmd_out_file("fit", out))) return status;
    status = 1;
    if (ssp_ctx_create(&ctx) != SSP_OK) return 1;
    if ((rc = ssp_device_model_load(&m, ctx, params))) {
        status = 2;
        goto failed;
    }
    pr.devices = (size_t)devices;
    pr.cycles = (size_t)cycles;
    pr.up = pr.down = (size_t)pulses;
    if ((rc = ssp_device_rng_alloc(&rng, ctx, seed)) || (rc = ssp_fit_generate(&csv, ctx, m, rng, &pr))) {
        status = rc == SSP_EINVAL ? 2 : 1;
        goto failed;
    }
    if (out) {
        if ((rc = ssp_file_write_all(ctx, out, csv, strlen(csv)))) goto failed;
    } else
        fputs(csv, stdout);
    status = 0;
    goto done;
failed:
    fprintf(stderr, "siamspice fit: %s\n", ssp_ctx_errmsg(ctx));
done:
    free(csv);
    ssp_device_rng_free(&rng);
    ssp_device_model_free(&m);
    ssp_ctx_destroy(&ctx);
    return status;
}

/* Rows of cycle c that carry a pulse, in order (the start row excluded). */
static size_t cycle_rows(const ssp_fit_data *d, const ssp_fit_cycle *cy, size_t *rows)
{
    size_t n = 0, row = cy->first, k;
    long start = d->pulse[row] == 0 || d->prev[row] < 0 ? (long)row : d->prev[row];
    for (k = 0; k < cy->count; k++) {
        if ((long)row != start) rows[n++] = row;
        if (k + 1 == cy->count) break;
        for (size_t nx = row + 1; nx < d->n; nx++)
            if (d->prev[nx] == (long)row) {
                row = nx;
                break;
            }
    }
    return n;
}

static void print_value(double v, const char *unit)
{
    if (isfinite(v))
        printf("%12.5g", v);
    else
        printf("%12s", "-");
    (void)unit;
}

static void report(const ssp_fit_data *d, const ssp_fit_result *r, const double *rms_spice)
{
    double sum_c = 0, sum_s = 0, sum_step = 0;
    printf("# siamspice fit: %s to %s (%zu rows, %zu devices, %zu cycles, %zu pulse responses)\n",
           ssp_device_model_kind(r->model), d->origin, d->n, d->ndev, r->ncycles, r->nres);
    printf("# starts: %zu tried, %zu converged; kept the best%s%s (%zu iterations)\n",
           r->starts_tried, r->starts_converged, r->option[0] ? ", " : "", r->option, r->iterations);
    printf("# rms one-pulse error %.4g %% of the range (%.4g S)\n", r->rms, r->range);
    printf("%-10s %12s %12s %12s  %-6s %s\n", "parameter", "value", "ci95_lo", "ci95_hi", "unit",
           "note");
    for (size_t j = 0; j < r->nfree; j++) {
        printf("%-10s ", r->par[j].key);
        print_value(r->par[j].value, r->par[j].unit);
        putchar(' ');
        print_value(r->par[j].lo, r->par[j].unit);
        putchar(' ');
        print_value(r->par[j].hi, r->par[j].unit);
        printf("  %-6s %s%s\n", r->par[j].unit[0] ? r->par[j].unit : "1", r->par[j].note,
               isfinite(r->par[j].lo) ? "" : " (not identified by the data)");
    }
    printf("# variation: c2c_range %.3g %% of the window per pulse, read_noise %.3g %%, "
           "d2d_gmin %.3g %%, d2d_gmax %.3g %%, d2d_rate %.3g %%\n",
           100 * r->c2c_range, 100 * r->read_noise, 100 * r->d2d_gmin, 100 * r->d2d_gmax,
           100 * r->d2d_rate);
    if (d->ndev > 1)
        printf("# device-to-device: one device's factor is known to %.2g %% (Gmin), %.2g %% (Gmax), "
               "%.2g %% (rate); a spread below that is not resolved by these data\n",
               100 * r->d2d_se[0], 100 * r->d2d_se[1], 100 * r->d2d_se[2]);
    printf("# nonlinearity (NeuroSim label of the fitted curve, pulses to 99 %% of the range): "
           "LTP %+.3g over %.4g pulses, LTD %+.3g over %.4g pulses; asymmetry |LTP|-|LTD| %+.3g\n",
           r->nl_ltp, r->n_ltp, r->nl_ltd, r->n_ltd, fabs(r->nl_ltp) - fabs(r->nl_ltd));
    printf("%-10s %6s %7s %12s %14s%s\n", "device", "cycle", "pulses", "rms_step_%",
           "rms_replay_C_%", rms_spice ? "  rms_replay_spice_%" : "");
    for (size_t c = 0; c < r->ncycles; c++) {
        const ssp_fit_cycle *cy = &r->cycles[c];
        printf("%-10s %6ld %7zu %12.4g %14.4g", d->dev_name[cy->dev], cy->cycle, cy->count,
               cy->rms_step, cy->rms_replay);
        if (rms_spice) printf("  %18.4g", rms_spice[c]);
        putchar('\n');
        sum_step += cy->rms_step / (double)r->ncycles;
        sum_c += cy->rms_replay / (double)r->ncycles;
        if (rms_spice) sum_s += rms_spice[c] / (double)r->ncycles;
    }
    printf("%-10s %6s %7s %12.4g %14.4g", "mean", "", "", sum_step, sum_c);
    if (rms_spice) printf("  %18.4g", sum_s);
    putchar('\n');
}

/* Replay every cycle in ngspice: g_spice per row (NAN for start rows), rms
 * per cycle in % of the range; *dmax = largest |spice - C| in % of the range. */
static int spice_replay(ssp_ctx *ctx, const ssp_fit_data *d, const ssp_fit_result *r,
                        double *g_spice, double *rms, double *dmax)
{
    ssp_spice *s = NULL;
    size_t *rows = malloc(d->n * sizeof *rows);
    double *amp = malloc(d->n * sizeof *amp), *width = malloc(d->n * sizeof *width);
    double *g = malloc(d->n * sizeof *g);
    int rc = SSP_OK;
    *dmax = 0;
    if (!rows || !amp || !width || !g) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < d->n; i++) g_spice[i] = NAN;
    if ((rc = ssp_spice_create(&s, ctx, NULL))) goto done;
    for (size_t c = 0; c < r->ncycles; c++) {
        ssp_device dev;
        size_t n = cycle_rows(d, &r->cycles[c], rows), k;
        double se = 0;
        for (k = 0; k < n; k++) amp[k] = d->amp[rows[k]], width[k] = d->width[rows[k]];
        if ((rc = ssp_fit_device(&dev, ctx, r, r->cycles[c].dev, c))) goto done;
        if ((rc = ssp_devcurve_spice(s, &dev, ctx, amp, width, n, g, NULL))) {
            ssp_error_prefix(ctx, "ngspice replay of device %s cycle %ld: ",
                             d->dev_name[r->cycles[c].dev], r->cycles[c].cycle);
            goto done;
        }
        for (k = 0; k < n; k++) {
            size_t row = rows[k];
            g_spice[row] = g[k];
            se += pow((g[k] - d->g[row]) / r->range, 2);
            *dmax = fmax(*dmax, 100 * fabs(g[k] - r->g_fit[row]) / r->range);
        }
        rms[c] = n ? 100 * sqrt(se / (double)n) : 0;
    }
done:
    ssp_spice_destroy(&s);
    free(rows);
    free(amp);
    free(width);
    free(g);
    return rc;
}

static int write_curve(ssp_ctx *ctx, const char *dir, const ssp_fit_data *d,
                       const ssp_fit_result *r, const double *g_spice)
{
    char path[4096];
    ssp_afile *af = NULL;
    FILE *f;
    int rc;
    if ((rc = ssp_file_mkdirs(ctx, dir))) return rc;
    if (snprintf(path, sizeof path, "%s/fit_curve.csv", dir) >= (int)sizeof path)
        return ssp_error(ctx, SSP_EINVAL, "plot directory name too long");
    if ((rc = ssp_file_atomic_open(&af, ctx, path))) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "# siamspice fit: %s fitted to %s\n", ssp_device_model_kind(r->model), d->origin);
    fprintf(f, "index,device,cycle,pulse,amplitude_V,g_meas_S,g_fit_S,g_spice_S\n");
    /* devices one after another, each in measurement order */
    {
        size_t idx = 0;
        for (size_t k = 0; k < d->ndev; k++)
            for (size_t i = 0; i < d->n; i++) {
                if (d->dev[i] != k) continue;
                fprintf(f, "%zu,%zu,%ld,%ld,%.9g,%.9e,%.9e,", idx++, k + 1, d->cycle[i], d->pulse[i],
                        d->amp[i], d->g[i], r->g_fit[i]);
                if (g_spice && isfinite(g_spice[i]))
                    fprintf(f, "%.9e\n", g_spice[i]);
                else
                    fprintf(f, "nan\n");
            }
    }
    return ssp_file_atomic_commit(&af, ctx);
}

int ssp_cmd_fit(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *plot = NULL, *gen = NULL;
    long devices = GEN_DEVICES, cycles = GEN_CYCLES, pulses = GEN_PULSES, starts = 0, seed = 1;
    int spice = 0, status = 1, rc, have_gen_opt = 0, quiet = 0;
    ssp_cmd_progress pg;
    ssp_fit_options o = {0};
    ssp_ctx *ctx = NULL;
    ssp_fit_data *d = NULL;
    ssp_fit_result *r = NULL;
    double *g_spice = NULL, *rms_spice = NULL, dmax = 0;

    ssp_cmd_opt opts[] = {
        {.name = "--model", .kind = SSP_CMD_STRING, .target = &model, .arg = "M", .help = "model kind to fit"},
        {.name = "--data", .kind = SSP_CMD_STRING, .target = &data, .arg = "FILE.csv",
         .help = "measured pulses, header device,cycle,pulse,amplitude_V,width_s,g_S"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "FILE",
         .help = "write the fitted parameter file (or the generated CSV) there;\n"
                 "without it the text is printed after the report"},
        {.name = "--plot", .kind = SSP_CMD_STRING, .target = &plot, .arg = "DIR",
         .help = "write DIR/fit_curve.csv and draw DIR/fit_curve.png and .svg"},
        {.name = "--spice", .kind = SSP_CMD_FLAG, .target = &spice,
         .help = "replay every cycle in ngspice on the emitted subcircuit"},
        {.name = "--read-voltage", .kind = SSP_CMD_UNIT, .target = &o.read_voltage, .arg = "V", .unit = "V",
         .flags = SSP_CMD_NONZERO, .help = "voltage g_S was read at (default 0.2 x the smallest |amplitude|)"},
        {.name = "--edge", .kind = SSP_CMD_UNIT, .target = &o.edge, .arg = "s", .unit = "s", .lo = 0, .hi = INFINITY,
         .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN, .help = "pulse rise/fall time (default 2 % of the shortest width)"},
        {.name = "--starts", .kind = SSP_CMD_LONG, .target = &starts, .arg = "N", .lo = 0, .hi = MAX_STARTS,
         .flags = SSP_CMD_RANGE, .help = "random starts besides the data-driven one (default per model)"},
        {.name = "--seed", .kind = SSP_CMD_LONG, .target = &seed, .arg = "S", .lo = 0, .hi = 2147483647.0,
         .flags = SSP_CMD_RANGE, .help = "seed of the random starts, or of the generated data (default 1)"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display on stderr (a bar on a terminal, else a\nline per 10 %)"},
        {.name = "--generate", .kind = SSP_CMD_STRING, .target = &gen, .arg = "FILE",
         .help = "write synthetic data of parameter file FILE instead of fitting"},
        {.name = "--devices", .kind = SSP_CMD_LONG, .target = &devices, .arg = "N", .lo = 1, .hi = GEN_MAX,
         .flags = SSP_CMD_RANGE, .help = "--generate: devices (default 3)"},
        {.name = "--cycles", .kind = SSP_CMD_LONG, .target = &cycles, .arg = "N", .lo = 1, .hi = GEN_MAX,
         .flags = SSP_CMD_RANGE, .help = "--generate: cycles per device (default 3)"},
        {.name = "--pulses", .kind = SSP_CMD_LONG, .target = &pulses, .arg = "N", .lo = 1, .hi = GEN_MAX,
         .flags = SSP_CMD_RANGE, .help = "--generate: N SET then N RESET pulses per cycle (default 60)"},
    };
    ssp_cmd_spec spec = {.cmd = "fit", .synopsis = SYNOPSIS, .opts = opts, .nopts = sizeof opts / sizeof opts[0]};

    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    have_gen_opt = ssp_cmd_opts_given(&spec, "--devices") || ssp_cmd_opts_given(&spec, "--cycles") ||
                   ssp_cmd_opts_given(&spec, "--pulses");
    if (gen) {
        if (model || data || plot || spice) {
            fputs("siamspice fit: --generate writes data; it takes no --model, --data, --plot or --spice\n", stderr);
            return 2;
        }
        return generate(gen, out, devices, cycles, pulses, (unsigned long)seed);
    }
    if (have_gen_opt) {
        fputs("siamspice fit: --devices, --cycles and --pulses go with --generate\n", stderr);
        return 2;
    }
    if (!model || !data) return ssp_cmd_opts_usage(&spec, "%s is required", !model ? "--model" : "--data");
    if (out && ssp_cmd_out_file("fit", out)) return 2;
    if (ssp_ctx_create(&ctx) != SSP_OK) {
        fputs("siamspice fit: out of memory\n", stderr);
        return 1;
    }
    if (plot && ssp_cmd_out_dir(ctx, "fit", plot)) {
        ssp_ctx_destroy(&ctx);
        return 2;
    }
    o.kind = model;
    o.starts = (size_t)starts;
    o.seed = (unsigned long)seed;
    if ((rc = ssp_fit_data_load(&d, ctx, data))) {
        status = rc == SSP_ENOMEM ? 1 : 2;
        goto failed;
    }
    ssp_cmd_progress_init(&pg, quiet);
    ssp_ctx_set_progress(ctx, ssp_cmd_progress_hook, &pg);
    rc = ssp_fit_run(&r, ctx, d, &o);
    ssp_ctx_set_progress(ctx, NULL, NULL);
    ssp_cmd_progress_end(&pg);
    if (rc) {
        status = rc == SSP_EINVAL ? 2 : 1;
        goto failed;
    }
    if (spice) {
        g_spice = malloc(d->n * sizeof *g_spice);
        rms_spice = malloc(r->ncycles * sizeof *rms_spice);
        if (!g_spice || !rms_spice) {
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
            goto failed;
        }
        if ((rc = spice_replay(ctx, d, r, g_spice, rms_spice, &dmax))) goto failed;
    }
    report(d, r, rms_spice);
    if (spice)
        printf("# ngspice replay of the emitted subcircuit: largest |G_spice - G_C| %.3g %% of "
               "the range\n",
               dmax);
    if (plot) {
        if ((rc = write_curve(ctx, plot, d, r, g_spice)) || (rc = ssp_plot_run(ctx, plot))) goto failed;
        printf("# plot: %s/fit_curve.png, %s/fit_curve.svg (data: %s/fit_curve.csv)\n", plot, plot, plot);
    }
    if (out) {
        if ((rc = ssp_file_write_all(ctx, out, r->ini, strlen(r->ini)))) goto failed;
        printf("# parameter file: %s\n", out);
    } else
        printf("# parameter file (--out FILE writes it):\n%s", r->ini);
    status = 0;
    goto done;
failed:
    fprintf(stderr, "siamspice fit: %s\n", ssp_ctx_errmsg(ctx));
done:
    free(g_spice);
    free(rms_spice);
    ssp_fit_result_free(&r);
    ssp_fit_data_free(&d);
    ssp_ctx_destroy(&ctx);
    return status;
}
