/* cmd_program_ckpt.c — `siamspice program --present CKPT --target CKPT`:
 * the pulses that take a whole network's crossbar tiles from the device
 * states of one checkpoint to the levels of another (two checkpoints of the
 * same run, e.g. after epoch 1 and after the last epoch).
 *
 * Each checkpoint is a run directory (its checkpoint.bin and config.ini) or
 * a checkpoint file (config.ini next to it). The present checkpoint gives
 * the devices (their states, variation and stuck flags) and the tile size
 * (crossbar.rows x crossbar.cols); the target gives the signed level of
 * every weight: the levels its twin wrote (--target-weights levels) or its
 * float weights quantized (--target-weights float). A device is a target
 * when the level nearest to its read conductance is not its target level
 * (a device whose own range keeps it off a band's centre is not re-pulsed
 * for ever).
 * Every tile with targets is planned and simulated (C model, priced by a
 * calibration fitted on an ngspice run of the first such tile, or every
 * tile in ngspice) and exported into DIR/tile_<k>/ like the single-tile
 * command; DIR/summary.json and DIR/summary.csv hold the figures.
 *
 * A driver: files and printing only; the work is ssp_hwprog.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_hwprog.h"
#include "ssp_train.h"
#include "ssp_twin.h"
#include "ssp_units.h"

enum { PATH_CAP = 4096 };

/* Targets of the first tile the ngspice calibration runs by default: a
 * full-size tile's wires and half-selected cells at a bounded cost (all of
 * a 64x32 tile's 324 targets took about 13 minutes of ngspice here). */
enum { DEFAULT_CAL_TARGETS = 64 };

/* Every checkpoint format starts with these 7 bytes (ssp_ckpt.h). */
static const char CKPT_MAGIC[7] = {'S', 'S', 'P', 'C', 'K', 'P', 'T'};

/* The checkpoint file and config of a run directory or checkpoint path. */
static int locate(const char *arg, char *ckpt, char *cfg, size_t cap)
{
    struct stat st;
    if (stat(arg, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) {
        if (snprintf(ckpt, cap, "%s/checkpoint.bin", arg) >= (int)cap) return -1;
        if (snprintf(cfg, cap, "%s/config.ini", arg) >= (int)cap) return -1;
        return 0;
    }
    {
        const char *slash = strrchr(arg, '/');
        int dl = slash ? (int)(slash - arg) : 1;
        if (snprintf(ckpt, cap, "%s", arg) >= (int)cap) return -1;
        if (snprintf(cfg, cap, "%.*s/config.ini", dl, slash ? arg : ".") >= (int)cap) return -1;
    }
    return 0;
}

int ssp_cmd_program_is_checkpoint(const char *arg)
{
    char ckpt[PATH_CAP], cfg[PATH_CAP], magic[sizeof CKPT_MAGIC];
    FILE *f;
    int ok;
    if (locate(arg, ckpt, cfg, sizeof ckpt)) return 0;
    if (!(f = fopen(ckpt, "rb"))) return 0;
    ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, CKPT_MAGIC, sizeof magic) == 0;
    fclose(f);
    return ok;
}

/* A trainer holding the checkpoint's state. Circuit engines and the tile
 * programmer are switched off: only the state is needed, and ngspice allows
 * one session per process. */
static int open_checkpoint(ssp_ctx *ctx, const char *arg, ssp_train **t, ssp_config *cfg)
{
    char ckpt[PATH_CAP], cpath[PATH_CAP];
    int rc;
    if (locate(arg, ckpt, cpath, sizeof ckpt))
        return ssp_error(ctx, SSP_EIO, "%s: no such run directory or checkpoint", arg);
    ssp_config_defaults(cfg);
    if ((rc = ssp_config_load(cfg, ctx, cpath)) || (rc = ssp_cmd_config_resolve(cfg, ctx))) return rc;
    cfg->engine = SSP_ENGINE_IDEAL;
    cfg->check_every = 0;
    cfg->prog_mode = SSP_PROG_DEVICE;
    if ((rc = ssp_train_create(t, ctx, cfg))) {
        ssp_error_prefix(ctx, "%s: ", cpath);
        return rc;
    }
    return ssp_train_checkpoint_load_to_read(*t, ckpt);
}

static const char SYNOPSIS[] =
    "usage: siamspice program --present RUN_DIR|CKPT --target RUN_DIR|CKPT\n"
    "         [--target-weights levels|float] [--strategy open|verify] [--bias v2|v3]\n"
    "         [--verify-rounds N] [--simulate model|spice] [--seed S] [--out DIR]\n"
    "         [--accept-unreachable] [-q]\n";
static const char ABOUT[] =
    "With checkpoints (a run directory, or a checkpoint.bin with config.ini beside it):\n"
    "every crossbar tile of the network (crossbar.rows x crossbar.cols of the present\n"
    "run's config) is programmed from the present checkpoint's device states to the\n"
    "target checkpoint's levels; cells whose nearest level is already the target are\n"
    "left alone. Writes DIR/tile_<k>/{schedule.csv,schedule.json,schedule.vcd,pwl/}\n"
    "per programmed tile and DIR/summary.{json,csv} (cells moved, pulses, in-band %,\n"
    "energy, latency, disturb).\n";
static const char TAIL[] =
    "Exit status: 0 done, 1 failed (also: a target unreachable, or none reached,\n"
    "without --accept-unreachable; the files are written), 2 bad usage or input.\n";

typedef struct tile_row {
    size_t k, m, r0, c0, rows, cols;
    ssp_pulse_result r;
} tile_row;

static int write_summary(ssp_ctx *ctx, const char *out, const ssp_hwprog_totals *tot, const tile_row *rows,
                         size_t n, const char *sim, const char *strategy, const char *bias, double cal_dev,
                         size_t moved_cells, size_t ncells)
{
    char path[PATH_CAP];
    json_t *o, *arr = json_array();
    ssp_afile *af;
    char *text;
    int rc;
    const ssp_pulse_result *s = &tot->sum;
    for (size_t i = 0; i < n && arr; i++) {
        const ssp_pulse_result *r = &rows[i].r;
        json_array_append_new(arr, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "tile",
                                             (json_int_t)rows[i].k, "matrix", (json_int_t)rows[i].m, "row0",
                                             (json_int_t)rows[i].r0, "col0", (json_int_t)rows[i].c0, "targets",
                                             (json_int_t)r->targets, "in_band", (json_int_t)r->in_band, "pulses",
                                             (json_int_t)r->pulses, "verify_reads", (json_int_t)r->verify_reads,
                                             "rounds", (json_int_t)r->rounds, "energy_j", r->energy_j, "latency_s",
                                             r->latency_s, "disturb_max_levels", r->disturb_max));
    }
    o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:o}", "format",
                  "siamspice-program-summary", "simulate", sim, "strategy", strategy, "bias", bias, "cells",
                  (json_int_t)ncells, "cells_moved", (json_int_t)moved_cells, "tiles_programmed",
                  (json_int_t)tot->tiles, "in_band", (json_int_t)s->in_band, "missed", (json_int_t)s->missed,
                  "unreachable", (json_int_t)s->unreachable, "pulses", (json_int_t)s->pulses, "verify_reads",
                  (json_int_t)s->verify_reads, "in_band_pct",
                  s->targets ? 100.0 * (double)s->in_band / (double)s->targets : 100.0, "energy_j", s->energy_j,
                  "latency_s", s->latency_s, "disturb_max_levels", s->disturb_max, "calibration_check_dev_pct",
                  100 * cal_dev, "spice_s", s->spice_s, "tiles", arr ? arr : json_null());
    text = o ? json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    snprintf(path, sizeof path, "%s/summary.json", out);
    rc = text ? ssp_file_write_all(ctx, path, text, strlen(text)) : ssp_error(ctx, SSP_ENOMEM, "out of memory");
    free(text);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/summary.csv", out);
    if ((rc = ssp_file_atomic_open(&af, ctx, path))) return rc;
    {
        FILE *f = ssp_file_stream(af);
        fprintf(f, "tile,matrix,row0,col0,rows,cols,targets,in_band,missed,unreachable,pulses,verify_reads,rounds,"
                   "energy_j,latency_s,disturb_max_levels\n");
        for (size_t i = 0; i < n; i++) {
            const ssp_pulse_result *r = &rows[i].r;
            fprintf(f, "%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%.17g,%.17g,%.17g\n", rows[i].k,
                    rows[i].m, rows[i].r0, rows[i].c0, rows[i].rows, rows[i].cols, r->targets, r->in_band,
                    r->missed, r->unreachable, r->pulses, r->verify_reads, r->rounds, r->energy_j, r->latency_s,
                    r->disturb_max);
        }
    }
    return ssp_file_atomic_commit(&af, ctx);
}

int ssp_cmd_program_checkpoints(int argc, char **argv)
{
    const char *present = NULL, *target_a = NULL, *out = "program-out", *sim = "model", *strategy = "verify";
    const char *bias = "v2", *tw = "levels";
    long rounds = 8, seed = 1, cal_targets = DEFAULT_CAL_TARGETS;
    ssp_ctx *ctx = NULL;
    ssp_train *tp = NULL, *tt = NULL;
    ssp_config cp, ct;
    ssp_hwprog *hp = NULL;
    ssp_spice *sp = NULL;
    gsl_rng *rng = NULL;
    ssp_device **dev = NULL;
    int **target = NULL, status = 2, rc, accept = 0;
    size_t nm = 0, ncells = 0, moved = 0, nrows = 0;
    tile_row *rows = NULL;
    ssp_device *dev0 = NULL;
    ssp_pulse_schedule *sched = NULL;
    ssp_hwprog_totals tot;
    double cal_dev = 0;
    int quiet = 0;
    size_t nwith = 0, done_tiles = 0, cal_tile = 0, cal_run = 0, cal_of = 0;
    ssp_cmd_progress pg;

    memset(&tot, 0, sizeof tot);
    memset(&pg, 0, sizeof pg);
    ssp_cmd_opt opts[] = {
        {.name = "--present", .kind = SSP_CMD_STRING, .target = &present, .arg = "RUN_DIR|CKPT",
         .help = "the devices: their states, variation and stuck flags"},
        {.name = "--target", .kind = SSP_CMD_STRING, .target = &target_a, .arg = "RUN_DIR|CKPT",
         .help = "the levels to program"},
        {.name = "--target-weights", .kind = SSP_CMD_CHOICE, .target = &tw, .choices = "levels|float",
         .help = "the levels the target's twin wrote, or its float\nweights quantized (default levels)"},
        {.name = "--strategy", .kind = SSP_CMD_CHOICE, .target = &strategy, .choices = "open|verify",
         .help = "open-loop pulses, or write-verify (default verify)"},
        {.name = "--bias", .kind = SSP_CMD_CHOICE, .target = &bias, .choices = "v2|v3",
         .help = "half-select bias scheme (default v2)"},
        {.name = "--verify-rounds", .kind = SSP_CMD_LONG, .target = &rounds, .arg = "N", .lo = 1, .hi = 1000,
         .flags = SSP_CMD_RANGE, .help = "write-verify rounds per tile (default 8)"},
        {.name = "--simulate", .kind = SSP_CMD_CHOICE, .target = &sim, .choices = "model|spice",
         .help = "the C device model (noise from --seed; energy priced by\n"
                 "a calibration fitted on an ngspice run of the first tile),\n"
                 "or every tile in ngspice (default model)"},
        {.name = "--seed", .kind = SSP_CMD_LONG, .target = &seed, .arg = "S", .lo = 0, .hi = INFINITY,
         .flags = SSP_CMD_RANGE, .help = "seed of the model's programming noise (default 1)"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "output directory (default program-out)"},
        {.name = "--accept-unreachable", .kind = SSP_CMD_FLAG, .target = &accept,
         .help = "exit 0 although targets were unreachable or none\nreached its band (default: exit 1)"},
        {.name = "--calibrate-targets", .kind = SSP_CMD_LONG, .target = &cal_targets, .arg = "N", .lo = 0,
         .hi = INFINITY, .flags = SSP_CMD_RANGE,
         .help = "the ngspice calibration (--simulate model) runs N of the\n"
                 "first tile's targets, spread over the tile, the others\n"
                 "left where they are; 0: all of them (default 64)"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display on stderr (the calibration in ngspice,\n"
                 "then the tiles programmed: a bar with its ETA on a terminal,\n"
                 "else a line per 10 %)"},
    };
    ssp_cmd_spec spec = {.cmd = "program", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .hint = "(with checkpoints the tile size, device and levels come from the run's config)",
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};

    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (!present || !target_a) return ssp_cmd_opts_usage(&spec, "checkpoints need both --present and --target");
    if (!ssp_cmd_program_is_checkpoint(target_a)) {
        fprintf(stderr, "siamspice program: --target %s is not a run directory or checkpoint (the present one is)\n",
                target_a);
        return 2;
    }
    if (strlen(out) > PATH_CAP - 128) {
        fprintf(stderr, "siamspice program: --out too long\n");
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    if ((status = ssp_cmd_out_dir(ctx, "program", out))) goto done;
    status = 2;
    if ((rc = open_checkpoint(ctx, present, &tp, &cp))) {
        ssp_error_prefix(ctx, "--present: ");
        goto fail_input;
    }
    if ((rc = open_checkpoint(ctx, target_a, &tt, &ct))) {
        ssp_error_prefix(ctx, "--target: ");
        goto fail_input;
    }
    {
        const ssp_hw *hp_ = ssp_train_hw(tp), *ht = ssp_train_hw(tt);
        nm = ssp_hw_nmat(hp_);
        if (ssp_hw_nmat(ht) != nm) {
            rc = ssp_error(ctx, SSP_EFORMAT, "--target %s holds %zu matrices, --present %s %zu: not the same network",
                           target_a, ssp_hw_nmat(ht), present, nm);
            goto fail_input;
        }
        for (size_t m = 0; m < nm; m++)
            if (ssp_hw_rows(ht, m) != ssp_hw_rows(hp_, m) || ssp_hw_cols(ht, m) != ssp_hw_cols(hp_, m) ||
                ssp_hw_levels(ht)->n != ssp_hw_levels(hp_)->n) {
                rc = ssp_error(ctx, SSP_EFORMAT, "--target %s: matrix %zu is %zu x %zu with %zu levels, --present "
                               "%s: %zu x %zu with %zu: not the same network", target_a, m, ssp_hw_rows(ht, m),
                               ssp_hw_cols(ht, m), ssp_hw_levels(ht)->n, present, ssp_hw_rows(hp_, m),
                               ssp_hw_cols(hp_, m), ssp_hw_levels(hp_)->n);
                goto fail_input;
            }
    }
    status = 1;
    dev = calloc(nm, sizeof *dev);
    target = calloc(nm, sizeof *target);
    if (!dev || !target) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto fail;
    }
    {
        const ssp_hw *hw = ssp_train_hw(tp);
        const ssp_twin *tw_t = ssp_train_twin(tt);
        const ssp_device_levels *lv = ssp_hw_levels(hw);
        size_t *r = malloc(nm * sizeof *r), *c = malloc(nm * sizeof *c);
        ssp_hwprog_params p;
        if (!r || !c) {
            free(r);
            free(c);
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t m = 0; m < nm; m++) {
            size_t nd = ssp_hw_device_count_of(hw, m);
            r[m] = ssp_hw_rows(hw, m);
            c[m] = ssp_hw_device_cols(hw, m);
            dev[m] = malloc(nd * sizeof **dev);
            target[m] = malloc(nd * sizeof **target);
            if (!dev[m] || !target[m]) {
                free(r);
                free(c);
                rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
                goto fail;
            }
            memcpy(dev[m], ssp_hw_devices_const(hw, m), nd * sizeof **dev);
            for (size_t k = 0; k < nd; k++) {
                size_t i;
                int minus;
                ssp_hw_device_weight(hw, m, k, &i, &minus);
                int q = strcmp(tw, "float") ? tw_t->q[m][i] : ssp_twin_level_of(tw_t, m, tw_t->w[m][i]);
                int lvl = ssp_hw_device_level(q, minus);
                const ssp_device *d = &dev[m][k];
                double g = ssp_device_conductance(d, ssp_device_model_read_voltage(d->model));
                double step = (lv->g[lv->n - 1] - lv->g[0]) / (double)(lv->n - 1);
                long now = lround((g - lv->g[0]) / step);
                int same = (now < 0 ? 0 : now >= (long)lv->n ? (long)lv->n - 1 : now) == lvl;
                target[m][k] = same ? SSP_PULSE_KEEP : lvl;
                moved += !same;
            }
            ncells += nd;
        }
        p.strategy = strcmp(strategy, "open") ? SSP_PULSE_VERIFY : SSP_PULSE_OPEN;
        p.bias = strcmp(bias, "v3") ? SSP_PULSE_V2 : SSP_PULSE_V3;
        p.verify_rounds = rounds;
        p.tile_rows = (size_t)cp.tile_rows;
        p.tile_cols = (size_t)cp.tile_cols;
        p.r_wire = cp.tile.r_wire_per_um * cp.tile.pitch_um;
        p.c_line_cell = ssp_config_c_line_cell(&cp);
        rc = ssp_hwprog_create(&hp, ctx, dev[0][0].model, lv, nm, r, c, &p);
        free(r);
        free(c);
        if (rc) goto fail;
    }
    rows = calloc(ssp_hwprog_ntiles(hp), sizeof *rows);
    dev0 = malloc((size_t)cp.tile_rows * (size_t)cp.tile_cols * sizeof *dev0);
    if (!rows || !dev0) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = ssp_spice_create(&sp, ctx, NULL))) goto fail;
    if ((rc = ssp_device_rng_alloc(&rng, ctx, (unsigned long)seed))) goto fail;
    if ((rc = ssp_file_mkdirs(ctx, out))) goto fail;
    ssp_cmd_progress_init(&pg, quiet);
    for (size_t k = 0; k < ssp_hwprog_ntiles(hp); k++)
        nwith += (size_t)ssp_hwprog_tile_has_targets(hp, k, target[ssp_hwprog_tile_at(hp, k)->m]);
    for (size_t k = 0; k < ssp_hwprog_ntiles(hp); k++) {
        const ssp_hwprog_tile *t = ssp_hwprog_tile_at(hp, k);
        int use_spice = !strcmp(sim, "spice");
        if (!ssp_hwprog_tile_has_targets(hp, k, target[t->m])) continue;
        /* model: the first tile with targets also runs in ngspice; its fit
         * prices the C-model energy and its deviation is reported */
        if (!use_spice && !ssp_hwprog_cal(hp)->fitted) {
            char what[96];
            snprintf(what, sizeof what, "calibrating the energy model: tile %zu in ngspice", k);
            /* in permille: ngspice's own percentage of the transient shows
             * through (ssp_spice_set_progress) */
            ssp_cmd_progress_show(&pg, what, 0, 1000, NULL);
            ssp_ctx_set_progress(ctx, ssp_cmd_progress_hook, &pg);
            ssp_spice_set_progress(sp, what);
            rc = ssp_hwprog_check_sample(hp, k, dev[t->m], target[t->m], (size_t)cal_targets, sp, &cal_dev, NULL,
                                         &cal_run);
            cal_tile = k;
            cal_of = ssp_hwprog_tile_targets(hp, k, target[t->m]);
            ssp_spice_set_progress(sp, NULL);
            ssp_ctx_set_progress(ctx, NULL, NULL);
            if (!rc) ssp_cmd_progress_show(&pg, what, 1000, 1000, NULL);
            if (rc) goto fail;
        }
        ssp_cmd_progress_show(&pg, use_spice ? "programming tiles in ngspice" : "programming tiles (C model)",
                              done_tiles, nwith, NULL);
        ssp_hwprog_gather(hp, k, dev[t->m], dev0);
        if ((rc = ssp_pulse_schedule_alloc(&sched, ctx, t->rows, t->cols))) goto fail;
        rows[nrows].k = k;
        rows[nrows].m = t->m;
        rows[nrows].r0 = t->r0;
        rows[nrows].c0 = t->c0;
        rows[nrows].rows = t->rows;
        rows[nrows].cols = t->cols;
        rc = ssp_hwprog_program(hp, k, dev[t->m], target[t->m], use_spice ? sp : NULL, use_spice ? NULL : rng, sched,
                                &rows[nrows].r, NULL);
        if (!rc) rc = ssp_hwprog_export_tile(hp, ctx, out, k, sched, dev0);
        ssp_pulse_schedule_free(&sched);
        if (rc) goto fail;
        ssp_hwprog_totals_add(&tot, &rows[nrows].r);
        nrows++;
        done_tiles++;
        ssp_cmd_progress_show(&pg, use_spice ? "programming tiles in ngspice" : "programming tiles (C model)",
                              done_tiles, nwith, NULL);
    }
    ssp_cmd_progress_end(&pg);
    if ((rc = write_summary(ctx, out, &tot, rows, nrows, sim, strategy, bias, cal_dev, moved, ncells))) goto fail;
    printf("program %s -> %s: %zu of %zu cells to move, %zu tiles programmed (%s, %s, bias %s, simulated in %s)\n",
           present, target_a, moved, ncells, tot.tiles, strategy, tw, bias, sim);
    printf("  pulses %zu, verify reads %zu; in band %zu of %zu (%.2f %%), missed %zu, unreachable %zu\n",
           tot.sum.pulses, tot.sum.verify_reads, tot.sum.in_band, tot.sum.targets,
           tot.sum.targets ? 100.0 * (double)tot.sum.in_band / (double)tot.sum.targets : 100.0, tot.sum.missed,
           tot.sum.unreachable);
    {
        char e[SSP_UNITS_FMT_CAP], l[SSP_UNITS_FMT_CAP];
        printf("  energy %s, latency %s (tiles one after another), disturb max %.3g levels\n",
               ssp_units_format_eng(e, sizeof e, tot.sum.energy_j, "J", 6),
               ssp_units_format_eng(l, sizeof l, tot.sum.latency_s, "s", 6), tot.sum.disturb_max);
    }
    if (strcmp(sim, "spice") && cal_of)
        printf("  calibration: ngspice run of %zu of the %zu targets of tile %zu, C model deviates %.4g %% of the "
               "state range\n", cal_run, cal_of, cal_tile, 100 * cal_dev);
    printf("  wrote %s/summary.{json,csv} and %s/tile_<k>/{schedule.csv,schedule.json,schedule.vcd,pwl/}\n", out,
           out);
    status = ssp_cmd_program_outcome(tot.sum.targets, tot.sum.in_band, tot.sum.unreachable, accept);
    goto done;
fail_input:
    fprintf(stderr, "siamspice program: %s\n", ssp_ctx_errmsg(ctx));
    status = 2;
    goto done;
fail:
    ssp_cmd_progress_end(&pg);
    fprintf(stderr, "siamspice program: %s\n", ssp_ctx_errmsg(ctx));
    status = 1;
done:
    ssp_pulse_schedule_free(&sched);
    for (size_t m = 0; m < nm; m++) {
        if (dev) free(dev[m]);
        if (target) free(target[m]);
    }
    free(dev);
    free(target);
    free(rows);
    free(dev0);
    ssp_device_rng_free(&rng);
    ssp_spice_destroy(&sp);
    ssp_hwprog_destroy(&hp);
    ssp_train_destroy(&tp);
    ssp_train_destroy(&tt);
    ssp_ctx_destroy(&ctx);
    return status;
}
