/* cmd_program.c — `siamspice program`: read a present and a target state of
 * one tile (CSV files or random), plan and run the programming pulses in
 * ngspice or the C device model, write the schedule exports and the result,
 * print a summary. A thin driver over ssp_pulse.h; it owns the files and
 * the printing, nothing else.
 *
 * State files: one CSV line per row, one value per column. A value is a
 * level index ("12"), a conductance with its unit ("25.5uS", "2.55e-5 S";
 * nearest level for targets, the exact state for present) or, in a target
 * file only, "-" for "no change". Lines starting with '#' are comments. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_file.h"
#include "ssp_plot.h"
#include "ssp_pulse.h"
#include "ssp_units.h"

enum { PATH_CAP = 4096, MAX_TILE = 256, DEFAULT_DELTA = 3 };
/* Default cell pitch (um), the crossbar.pitch default that netlist and
 * validate use too: with --rwire in ohm/um, one segment is rwire x pitch. */
static const double DEFAULT_PITCH_UM = 0.5;
/* Default level tolerance: bands of half a level spacing. */
static const double DEFAULT_TOL = 0.5;

static const char SYNOPSIS[] =
    "usage: siamspice program --params DEVICE.ini --rows R --cols C\n"
    "         (--present FILE | --random-present SEED) (--target FILE | --random-moves N)\n"
    "         --levels L [--strategy open|verify] [--bias v2|v3]\n"
    "         [--rwire OHM_PER_UM [--pitch UM]] [--order row|col|auto] [--delta K] [--tol T]\n"
    "         [--out DIR] [--simulate spice|model]\n"
    "         [--waveform [--waveform-cell ROW,COL]] [--accept-unreachable] [-q]\n"
    "       siamspice program --present RUN_DIR|CKPT --target RUN_DIR|CKPT [OPTIONS]\n"
    "         (the checkpoint form; its options below)\n";
static const char ABOUT[] =
    "Plan the pulses that take an R x C tile of devices from a present to a target\n"
    "state, run them (ngspice transient or C device model) and write for tapeout:\n"
    "schedule.csv, schedule.json, schedule.vcd, pwl/ (one PWL file per line driver\n"
    "and tile.cir) and result.json into DIR (default program-out).\n";
/* the help goes on with the checkpoint form's, which ends with the exit status */
static const char TAIL[] = "\n";

int ssp_cmd_program_outcome(size_t targets, size_t in_band, size_t unreachable, int accept)
{
    const char *how = accept ? "accepted (--accept-unreachable)" : "a failed run (--accept-unreachable accepts it)";
    if (unreachable) {
        fprintf(stderr, "siamspice program: %zu of %zu targets unreachable (stuck or out of the device's range): %s\n",
                unreachable, targets, how);
        return accept ? 0 : 1;
    }
    if (targets && !in_band) {
        fprintf(stderr, "siamspice program: none of the %zu targets reached its band: %s\n", targets, how);
        return accept ? 0 : 1;
    }
    return 0;
}

/* Parse a state file into level[] (and, for present, exact conductances
 * g[] with NAN where a level was given). */
static int read_state(ssp_ctx *ctx, const char *path, size_t R, size_t C, const ssp_device_levels *lv,
                      int is_target, int *level, double *g)
{
    unsigned char *data = NULL;
    size_t len, row = 0, lineno = 0;
    char *p, *nl;
    int rc;
    if ((rc = ssp_file_read_all(ctx, path, &data, &len))) return rc;
    for (p = (char *)data; p && *p; p = nl ? nl + 1 : NULL) {
        size_t col = 0;
        char *tok, *save = NULL;
        lineno++;
        nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (*p == '#' || strspn(p, " \t\r") == strlen(p)) continue;
        if (row >= R) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu: more than %zu rows", path, lineno, R);
            goto done;
        }
        for (tok = strtok_r(p, ",", &save); tok; tok = strtok_r(NULL, ",", &save), col++) {
            size_t c = row * C + col;
            char *end, why[128];
            long l;
            double v;
            while (*tok == ' ' || *tok == '\t') tok++;
            {
                size_t n = strlen(tok);
                while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t' || tok[n - 1] == '\r')) tok[--n] = 0;
            }
            if (col >= C) break;
            g[c] = -1;
            if (strcmp(tok, "-") == 0) {
                if (!is_target) {
                    rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu: '-' only in target files", path, lineno);
                    goto done;
                }
                level[c] = SSP_PULSE_KEEP;
                continue;
            }
            l = strtol(tok, &end, 10);
            if (*end == 0 && end != tok) {
                if (l < 0 || (size_t)l >= lv->n) {
                    rc = ssp_error(ctx, SSP_ERANGE, "%s: line %zu, column %zu: level %ld outside 0..%zu",
                                   path, lineno, col + 1, l, lv->n - 1);
                    goto done;
                }
                level[c] = (int)l;
                continue;
            }
            if (ssp_units_parse(tok, "S", &v, why, sizeof why)) {
                rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu, column %zu: '%s': %s", path, lineno,
                               col + 1, tok, why);
                goto done;
            }
            if ((rc = ssp_pulse_level_of(lv, ctx, v, &level[c]))) {
                ssp_error_prefix(ctx, "%s: line %zu, column %zu: ", path, lineno, col + 1);
                goto done;
            }
            g[c] = v;
        }
        if (col != C) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu: %zu values, expected %zu", path, lineno, col, C);
            goto done;
        }
        row++;
    }
    if (row != R) rc = ssp_error(ctx, SSP_EFORMAT, "%s: %zu rows, expected %zu", path, row, R);
done:
    free(data);
    return rc;
}

static int write_result(ssp_ctx *ctx, const char *path, const ssp_pulse_result *r, const char *sim,
                        const char *bias, const char *strategy)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
                          "simulate", sim, "bias", bias, "strategy", strategy, "targets",
                          (json_int_t)r->targets, "in_band", (json_int_t)r->in_band, "missed",
                          (json_int_t)r->missed, "unreachable", (json_int_t)r->unreachable, "pulses",
                          (json_int_t)r->pulses, "parallel_pulses", (json_int_t)r->groups,
                          "verify_reads", (json_int_t)r->verify_reads, "energy_j", r->energy_j,
                          "energy_selected_j", r->energy_sel_j, "energy_half_selected_j",
                          r->energy_half_j, "energy_wire_j", r->energy_wire_j, "energy_error_bound_j",
                          r->energy_tol_j, "energy_read_j",
                          r->energy_read_j, "latency_s", r->latency_s, "disturb_max_levels",
                          r->disturb_max, "disturb_mean_levels", r->disturb_mean);
    char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
    int rc = text ? ssp_file_write_all(ctx, path, text, strlen(text))
                  : ssp_error(ctx, SSP_ENOMEM, "out of memory");
    free(text);
    json_decref(o);
    return rc;
}

int ssp_cmd_program(int argc, char **argv)
{
    const char *params = NULL, *present = NULL, *target_f = NULL, *out = "program-out";
    const char *strategy = "verify", *bias = "v2", *sim = "spice", *order = "row";
    size_t R = 0, C = 0, L = 0, moves = 0, delta = DEFAULT_DELTA, nc;
    long seed = -1;
    double rwire = 0, pitch = DEFAULT_PITCH_UM, tol = DEFAULT_TOL;
    int have_moves = 0, status = 2, rc, waveform = 0, quiet = 0;
    ssp_cmd_progress pg;
    long wrow = -1, wcol = -1;
    int accept = 0;
    ssp_pulse_wave wave = {0};
    ssp_ctx *ctx = NULL;
    ssp_device_model *m = NULL;
    ssp_device_levels *lv = NULL;
    ssp_device *dev = NULL, *dev0 = NULL;
    int *present_l = NULL, *target = NULL, *st = NULL;
    double *g = NULL;
    ssp_pulse *pp = NULL;
    ssp_spice *sp = NULL;
    ssp_pulse_schedule *sched = NULL;
    ssp_pulse_params pr;
    ssp_pulse_result res;
    char path[PATH_CAP];

    const char *wcell = NULL;
    size_t rseed = 0;
    ssp_cmd_opt opts[] = {
        {.name = "--params", .kind = SSP_CMD_STRING, .target = &params, .arg = "DEVICE.ini",
         .help = "device parameter file (devicemodels/params/*.ini)"},
        {.name = "--rows", .kind = SSP_CMD_SIZE, .target = &R, .arg = "R", .lo = 1, .hi = MAX_TILE,
         .flags = SSP_CMD_RANGE, .help = "word lines of the tile"},
        {.name = "--cols", .kind = SSP_CMD_SIZE, .target = &C, .arg = "C", .lo = 1, .hi = MAX_TILE,
         .flags = SSP_CMD_RANGE, .help = "bit lines of the tile"},
        {.name = "--present", .kind = SSP_CMD_STRING, .target = &present, .arg = "FILE",
         .help = "CSV, one line per row: level index, conductance\n"
                 "with unit (25uS) or, in targets, '-' (no change)"},
        {.name = "--target", .kind = SSP_CMD_STRING, .target = &target_f, .arg = "FILE",
         .help = "the target state, as --present"},
        {.name = "--random-present", .kind = SSP_CMD_SIZE, .target = &rseed, .arg = "SEED", .lo = 0,
         .hi = 2147483647.0, .flags = SSP_CMD_RANGE, .help = "random levels (devices nominal)"},
        {.name = "--random-moves", .kind = SSP_CMD_SIZE, .target = &moves, .arg = "N", .lo = 0,
         .hi = MAX_TILE * MAX_TILE, .flags = SSP_CMD_RANGE,
         .help = "N random cells moved by +-K levels (--delta, default 3)"},
        {.name = "--levels", .kind = SSP_CMD_SIZE, .target = &L, .arg = "L", .lo = 2, .hi = 4096,
         .flags = SSP_CMD_RANGE, .help = "conductance levels per device (the nominal range split\nevenly)"},
        {.name = "--delta", .kind = SSP_CMD_SIZE, .target = &delta, .arg = "K", .lo = 1, .hi = 4096,
         .flags = SSP_CMD_RANGE, .help = "levels a random move changes (default 3)"},
        {.name = "--tol", .kind = SSP_CMD_UNIT, .target = &tol, .arg = "T", .unit = "", .lo = 0, .hi = 1,
         .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN,
         .help = "half-width of a level's band, as a fraction of the\nlevel spacing (default 0.5)"},
        {.name = "--strategy", .kind = SSP_CMD_CHOICE, .target = &strategy, .choices = "open|verify",
         .help = "open-loop pulses, or write-verify (default verify)"},
        {.name = "--bias", .kind = SSP_CMD_CHOICE, .target = &bias, .choices = "v2|v3",
         .help = "half-select bias scheme (default v2)"},
        {.name = "--order", .kind = SSP_CMD_CHOICE, .target = &order, .choices = "row|col|auto",
         .help = "the order the cells are programmed in (default row)"},
        {.name = "--rwire", .kind = SSP_CMD_UNIT, .target = &rwire, .arg = "OHM_PER_UM", .unit = "", .lo = 0,
         .hi = INFINITY, .flags = SSP_CMD_RANGE,
         .help = "wire resistance per micrometre of line, as in netlist\nand validate (default 0, ideal wires)"},
        {.name = "--pitch", .kind = SSP_CMD_UNIT, .target = &pitch, .arg = "UM", .unit = "", .lo = 0,
         .hi = INFINITY, .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN,
         .help = "cell pitch in micrometres, one wire segment (default\n0.5: --rwire 5 gives 2.5 ohm segments)"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "output directory (default program-out)"},
        {.name = "--simulate", .kind = SSP_CMD_CHOICE, .target = &sim, .choices = "spice|model",
         .help = "ngspice transients or the C device model (default spice)"},
        {.name = "--waveform", .kind = SSP_CMD_FLAG, .target = &waveform,
         .help = "(spice) record one cell over the first transient that\n"
                 "pulses it: DIR/waveform.csv, waveform.png and .svg"},
        {.name = "--waveform-cell", .kind = SSP_CMD_STRING, .target = &wcell, .arg = "ROW,COL",
         .help = "the cell to record (0-based; default: the first cell,\n"
                 "row by row, whose target differs from its present level)"},
        {.name = "--accept-unreachable", .kind = SSP_CMD_FLAG, .target = &accept,
         .help = "exit 0 although targets were unreachable (stuck or out\n"
                 "of range) or none reached its band (default: exit 1)"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display on stderr (a bar on a terminal, else\na line per 10 %)"},
    };
    ssp_cmd_spec spec = {.cmd = "program", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};

    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--present") == 0 && ssp_cmd_program_is_checkpoint(argv[i + 1]))
            return ssp_cmd_program_checkpoints(argc, argv);
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) {
        /* the help goes on with the checkpoint form's options */
        if (status == 0) ssp_cmd_program_checkpoints(2, (char *[]){argv[0], (char *)(uintptr_t) "--help", NULL});
        return status;
    }
    have_moves = ssp_cmd_opts_given(&spec, "--random-moves") > 0;
    if (ssp_cmd_opts_given(&spec, "--random-present")) seed = (long)rseed;
    if (wcell) {
        char *end;
        const char *cs;
        wrow = strtol(wcell, &end, 10);
        if (end == wcell || *end != ',' || wrow < 0) return ssp_cmd_opts_usage(&spec, "--waveform-cell '%s': want ROW,COL", wcell);
        cs = end + 1;
        wcol = strtol(cs, &end, 10);
        if (end == cs || *end || wcol < 0) return ssp_cmd_opts_usage(&spec, "--waveform-cell '%s': want ROW,COL", wcell);
    }
    if (!params || !R || !C || !L || (!present) == (seed < 0) || (!target_f) == !have_moves)
        return ssp_cmd_opts_usage(&spec, "need --params, --rows, --cols, --levels, one of --present/--random-present "
                                  "and one of --target/--random-moves");
    if (wrow >= 0 && !waveform) {
        fprintf(stderr, "siamspice program: --waveform-cell needs --waveform\n");
        return 2;
    }
    if (waveform && strcmp(sim, "spice") != 0) {
        fprintf(stderr, "siamspice program: --waveform records an ngspice transient: it needs --simulate spice\n");
        return 2;
    }
    if (wrow >= 0 && ((size_t)wrow >= R || (size_t)wcol >= C)) {
        fprintf(stderr, "siamspice program: --waveform-cell %ld,%ld is outside the %zu x %zu tile\n", wrow, wcol, R, C);
        return 2;
    }
    if (strlen(out) > PATH_CAP - 64) {
        fprintf(stderr, "siamspice program: --out too long\n");
        return 2;
    }
    if (ssp_ctx_create(&ctx)) {
        fputs("siamspice program: out of memory\n", stderr);
        return 1;
    }
    if ((status = ssp_cmd_out_dir(ctx, "program", out))) goto done;
    status = 2;
    nc = R * C;
    if ((rc = ssp_cmd_find(ctx, SSP_CMD_PARAMS, params, path, sizeof path)) ||
        (rc = ssp_device_model_load(&m, ctx, path)))
        goto fail_input;
    {
        ssp_device nom;
        ssp_device_init(&nom, m, ssp_device_model_x_init(m));
        if ((rc = ssp_device_levels_alloc(&lv, ctx, &nom, L, tol))) goto fail_input;
    }
    dev = malloc(nc * sizeof *dev);
    dev0 = malloc(nc * sizeof *dev0);
    present_l = malloc(nc * sizeof *present_l);
    target = malloc(nc * sizeof *target);
    st = malloc(nc * sizeof *st);
    g = malloc(nc * sizeof *g);
    if (!dev || !dev0 || !present_l || !target || !st || !g) {
        fputs("siamspice program: out of memory\n", stderr);
        status = 1;
        goto done;
    }
    if (present) {
        if ((rc = read_state(ctx, present, R, C, lv, 0, present_l, g))) goto fail_input;
    } else {
        gsl_rng *rng = NULL;
        if ((rc = ssp_device_rng_alloc(&rng, ctx, (unsigned long)seed))) goto fail;
        for (size_t c = 0; c < nc; c++) {
            present_l[c] = (int)gsl_rng_uniform_int(rng, L);
            g[c] = -1;
        }
        ssp_device_rng_free(&rng);
    }
    for (size_t c = 0; c < nc; c++) {
        ssp_device_init(&dev[c], m, lv->x[present_l[c]]);
        if (g[c] > 0 && (rc = ssp_device_set_conductance(&dev[c], ctx, g[c]))) goto fail_input;
    }
    if (target_f) {
        if ((rc = read_state(ctx, target_f, R, C, lv, 1, target, g))) goto fail_input;
    } else {
        gsl_rng *rng = NULL;
        if (moves > nc) {
            fprintf(stderr, "siamspice program: %zu moves on %zu cells\n", moves, nc);
            goto done;
        }
        if ((rc = ssp_device_rng_alloc(&rng, ctx, (unsigned long)(seed < 0 ? 1 : seed) + 1))) goto fail;
        for (size_t c = 0; c < nc; c++) target[c] = SSP_PULSE_KEEP;
        for (size_t k = 0; k < moves;) {
            size_t c = gsl_rng_uniform_int(rng, nc);
            long up = present_l[c] + (long)delta, dn = present_l[c] - (long)delta;
            if (target[c] != SSP_PULSE_KEEP) continue;
            if (up < (long)L && (dn < 0 || gsl_rng_uniform(rng) < 0.5))
                target[c] = (int)up;
            else if (dn >= 0)
                target[c] = (int)dn;
            else
                target[c] = present_l[c];
            k++;
        }
        ssp_device_rng_free(&rng);
    }
    memcpy(dev0, dev, nc * sizeof *dev);

    ssp_pulse_params_default(&pr, m);
    pr.strategy = strcmp(strategy, "open") == 0 ? SSP_PULSE_OPEN : SSP_PULSE_VERIFY;
    pr.bias = strcmp(bias, "v3") == 0 ? SSP_PULSE_V3 : SSP_PULSE_V2;
    pr.order = strcmp(order, "col") == 0 ? SSP_PULSE_BY_COL : strcmp(order, "auto") == 0 ? SSP_PULSE_BY_AUTO : SSP_PULSE_BY_ROW;
    pr.r_wire = rwire * pitch; /* ohm per segment */
    if ((rc = ssp_pulse_create(&pp, ctx, m, lv, R, C, &pr))) goto fail_input;
    if ((rc = ssp_pulse_schedule_alloc(&sched, ctx, R, C))) goto fail;
    if (strcmp(sim, "spice") == 0 && (rc = ssp_spice_create(&sp, ctx, NULL))) goto fail;
    if (waveform) {
        size_t wc = 0;
        if (wrow >= 0) {
            wc = (size_t)wrow * C + (size_t)wcol;
            if (target[wc] == SSP_PULSE_KEEP) {
                fprintf(stderr, "siamspice program: --waveform-cell %ld,%ld has no target ('-' or not moved): it is never pulsed\n",
                        wrow, wcol);
                goto done;
            }
        } else {
            while (wc < nc && (target[wc] == SSP_PULSE_KEEP || target[wc] == present_l[wc])) wc++;
            if (wc == nc) {
                fprintf(stderr, "siamspice program: --waveform: no cell changes level, nothing is pulsed\n");
                goto done;
            }
        }
        if ((rc = ssp_pulse_wave_arm(pp, &wave, wc / C, wc % C))) goto fail;
    }
    ssp_cmd_progress_init(&pg, quiet);
    ssp_cmd_progress_show(&pg, sp ? "programming the tile in ngspice" : "programming the tile (C model)", 0, 1, NULL);
    rc = ssp_pulse_program_tile(pp, sp, NULL, 0, dev, target, sched, &res, st);
    if (!rc) ssp_cmd_progress_show(&pg, sp ? "programming the tile in ngspice" : "programming the tile (C model)", 1, 1, NULL);
    ssp_cmd_progress_end(&pg);
    if (rc) goto fail;

    if ((rc = ssp_pulse_export_dir(sched, ctx, out, dev0, &pr))) goto fail;
    snprintf(path, sizeof path, "%s/result.json", out);
    if ((rc = write_result(ctx, path, &res, sim, bias, strategy))) goto fail;
    if (waveform) {
        snprintf(path, sizeof path, "%s/waveform.csv", out);
        if ((rc = ssp_pulse_wave_export_csv(&wave, ctx, path))) goto fail;
        if ((rc = ssp_plot_run(ctx, out))) goto fail;
    }

    printf("program %zux%zu %s, %s, bias %s, simulated in %s\n", R, C, ssp_device_model_name(m),
           strategy, bias, sim);
    printf("  targets %zu: in band %zu, missed %zu, unreachable %zu\n", res.targets, res.in_band,
           res.missed, res.unreachable);
    printf("  pulses %zu in %zu parallel pulses, %zu rounds, %zu verify reads\n", res.pulses,
           res.groups, res.rounds, res.verify_reads);
    printf("  energy %.4g pJ (selected %.4g, half-selected %.4g, wires %.4g, reads %.4g)", res.energy_j * 1e12,
           res.energy_sel_j * 1e12, res.energy_half_j * 1e12, res.energy_wire_j * 1e12, res.energy_read_j * 1e12);
    if (res.energy_tol_j > 0) printf(", each within +-%.2g pJ (transient accuracy)", res.energy_tol_j * 1e12);
    putchar('\n');
    printf("  latency %.4g us; disturb of unselected cells max %.3g, mean %.3g levels\n",
           res.latency_s * 1e6, res.disturb_max, res.disturb_mean);
    for (size_t c = 0; c < nc; c++)
        if (st[c] == SSP_PULSE_CELL_MISSED || st[c] == SSP_PULSE_CELL_UNREACHABLE)
            printf("  cell (%zu, %zu): %s (target level %d)\n", c / C, c % C,
                   st[c] == SSP_PULSE_CELL_MISSED ? "missed" : "unreachable", target[c]);
    printf("  wrote %s/{schedule.csv,schedule.json,schedule.vcd,pwl/,result.json}\n", out);
    if (waveform)
        printf("  waveform of cell (%zu, %zu), transient %ld of %ld (%zu points): %s/waveform.{csv,png,svg}\n",
               wave.row, wave.col, wave.round + 1, wave.transients, wave.n, out);
    status = ssp_cmd_program_outcome(res.targets, res.in_band, res.unreachable, accept);
    goto done;
fail_input:
    fprintf(stderr, "siamspice program: %s\n", ssp_ctx_errmsg(ctx));
    status = 2;
    goto done;
fail:
    fprintf(stderr, "siamspice program: %s\n", ssp_ctx_errmsg(ctx));
    status = 1;
done:
    ssp_pulse_wave_clear(&wave);
    ssp_spice_destroy(&sp);
    ssp_pulse_schedule_free(&sched);
    ssp_pulse_destroy(&pp);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&m);
    free(dev);
    free(dev0);
    free(present_l);
    free(target);
    free(st);
    free(g);
    ssp_ctx_destroy(&ctx);
    return status;
}
