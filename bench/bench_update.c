/* bench_update.c — `make bench-update`: the Siamese sparse update against
 * the basic closed-loop update, at circuit level, on the same training steps.
 *
 * A short run (MLP 196-16-10 on the first 512 MNIST images downsampled to
 * 14x14, batch 32, seed 1, 64x32 tiles, vteam32 devices) trains with
 * program.mode = model: every update step's Siamese changes are programmed
 * open loop, tile by tile, through the pulse scheduler on the C device
 * model, energy priced by the per-pulse calibration the trainer fits on an
 * ngspice run of its first update. The closed loop runs on its own copy of
 * the hardware (the same devices, the same start states, the same twin):
 * after every step every device of every weight is a target (its level from
 * the twin), write-verified (read every line, pulse what is out of band,
 * read again, up to 8 rounds), priced by a calibration fitted on an ngspice
 * run of its first tile. Its devices stay verified from step to step, as a
 * closed-loop trained chip's would. A device already inside its band gets its reads but no pulse,
 * so this closed loop is the cheapest write-verify of every weight; the
 * reductions below are lower bounds against a controller that re-pulses
 * every weight.
 *
 * Calibration check: at the last step one tile of each update (the first
 * tile with targets) is executed in ngspice from the same start states and
 * its measured energy compared with the C model priced by the calibration
 * fitted earlier; cal_max_dev_pct is the larger relative difference (%) of
 * the tile's total energy. It includes the schedule differences a verify
 * loop makes when the wires' IR drop (in ngspice, not in the C model) moves
 * cells less per pulse (the pulse counts of both are printed).
 *
 * Last line:
 *   BENCH update steps=.. siamese_pulses=.. closed_loop_pulses=..
 *         energy_reduction_pct=.. latency_reduction_pct=.. cal_max_dev_pct=..
 * An optional argument is a config file loaded over these settings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_config.h"
#include "ssp_hwprog.h"
#include "ssp_train.h"
#include "ssp_twin.h"

/* The closed loop's noise stream, apart from the trainer's. */
static const unsigned long SEED_CLOSED_LOOP = 0x5005;

/* The parameter files: $SSP_BENCH_PARAMS (set by an installed `siamspice
 * bench`), else the source tree this benchmark was built from. */
static const char *params_dir(void)
{
    const char *d = getenv("SSP_BENCH_PARAMS");
    return d && *d ? d : SSP_SOURCE_DIR "/devicemodels/params";
}

static int fail(ssp_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_update: %s: %s\n", what, ssp_ctx_errmsg(ctx));
    return 1;
}


/* The first tile with a target, or ntiles. */
static size_t first_tile(const ssp_hwprog *hp, int *const *target)
{
    size_t k;
    for (k = 0; k < ssp_hwprog_ntiles(hp); k++)
        if (ssp_hwprog_tile_has_targets(hp, k, target[ssp_hwprog_tile_at(hp, k)->m])) break;
    return k;
}

/* Tile k from the states in dev: ngspice (measured) vs the C model priced
 * by hp's calibration as it stands (restored after the ngspice run, which
 * refits it). Returns the relative energy difference in *dev_rel. */
static int cal_check(ssp_ctx *ctx, ssp_hwprog *hp, size_t k, ssp_device *const *dev, int *const *target,
                     size_t nd, double *dev_rel, double *e_spice, double *e_model, size_t *p_spice, size_t *p_model)
{
    size_t m = ssp_hwprog_tile_at(hp, k)->m;
    ssp_pulse_cal saved = *ssp_hwprog_cal(hp);
    ssp_pulse_result rs, rm;
    ssp_spice *sp = NULL;
    ssp_device *copy = malloc(nd * sizeof *copy);
    int rc;
    if (!copy) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    memcpy(copy, dev[m], nd * sizeof *copy);
    rc = ssp_spice_create(&sp, ctx, NULL);
    if (!rc) rc = ssp_hwprog_program(hp, k, copy, target[m], sp, NULL, NULL, &rs, NULL);
    ssp_spice_destroy(&sp);
    *ssp_hwprog_cal(hp) = saved;
    memcpy(copy, dev[m], nd * sizeof *copy);
    if (!rc) rc = ssp_hwprog_program(hp, k, copy, target[m], NULL, NULL, NULL, &rm, NULL);
    free(copy);
    if (rc) return rc;
    *e_spice = rs.energy_j;
    *e_model = rm.energy_j;
    *p_spice = rs.pulses;
    *p_model = rm.pulses;
    *dev_rel = fabs(rm.energy_j - rs.energy_j) / rs.energy_j;
    return SSP_OK;
}

int main(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    ssp_config c;
    ssp_train *t = NULL;
    ssp_hwprog *cl = NULL;
    ssp_device **dev = NULL, **snap = NULL, **ssnap = NULL;
    int **target = NULL, **qprev = NULL, rc = 1, done = 0;
    size_t nm = 0, steps = 0;
    unsigned long long s_pulses = 0, c_pulses = 0;
    double s_energy = 0, s_lat = 0, c_energy = 0, c_lat = 0, cal_max = 0;
    ssp_hw_stats before;
    gsl_rng *rng = NULL; /* the closed loop's write and read noise */

    if (ssp_ctx_create(&ctx)) return 1;
    ssp_ctx_set_log_level(ctx, SSP_LOG_WARN);
    ssp_config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", getenv("SSP_BENCH_DATA") ? getenv("SSP_BENCH_DATA") : SSP_SOURCE_DIR "/data");
    snprintf(c.device_params, sizeof c.device_params, "%s/vteam32.ini", params_dir());
    c.seed = 1;
    c.epochs = 1;
    c.train_limit = 512;
    c.test_limit = 100;
    c.downsample = 2;
    c.hidden[0] = 16;
    c.nhidden = 1;
    c.w_max = 2;
    c.batch = 32;
    c.tile_rows = 64;
    c.tile_cols = 32;
    c.prog_mode = SSP_PROG_MODEL;
    c.prog_strategy = 0; /* open loop */
    c.prog_check_every = 0;
    if (argc > 1 && ssp_config_load(&c, ctx, argv[1])) return fail(ctx, "config");
    if (c.prog_mode != SSP_PROG_MODEL || c.method != SSP_METHOD_SIAMESE) {
        fprintf(stderr, "bench_update: needs train.method = siamese and program.mode = model\n");
        return 2;
    }
    if (ssp_train_create(&t, ctx, &c)) { rc = fail(ctx, "trainer"); goto done; }
    if (ssp_device_rng_alloc(&rng, ctx, (unsigned long)c.seed ^ SEED_CLOSED_LOOP)) { rc = fail(ctx, "rng"); goto done; }
    nm = ssp_hw_nmat(ssp_train_hw(t));
    dev = calloc(nm, sizeof *dev);
    snap = calloc(nm, sizeof *snap);
    target = calloc(nm, sizeof *target);
    qprev = calloc(nm, sizeof *qprev);
    ssnap = calloc(nm, sizeof *ssnap);
    if (!dev || !snap || !target || !qprev || !ssnap) { fprintf(stderr, "bench_update: out of memory\n"); goto done; }
    {
        size_t *rows = malloc(nm * sizeof *rows), *cols = malloc(nm * sizeof *cols);
        ssp_hwprog_params p;
        const ssp_hw *hw = ssp_train_hw(t);
        int bad = !rows || !cols;
        for (size_t m = 0; m < nm && !bad; m++) {
            size_t nd = ssp_hw_device_count_of(hw, m);
            rows[m] = ssp_hw_rows(hw, m);
            cols[m] = ssp_hw_device_cols(hw, m); /* the programmer sees devices */
            dev[m] = malloc(nd * sizeof **dev);
            snap[m] = malloc(nd * sizeof **snap);
            ssnap[m] = malloc(nd * sizeof **ssnap);
            target[m] = malloc(nd * sizeof **target);
            qprev[m] = malloc(ssp_hw_weight_count(hw, m) * sizeof **qprev);
            bad = !dev[m] || !snap[m] || !ssnap[m] || !target[m] || !qprev[m];
        }
        p.strategy = SSP_PULSE_VERIFY;
        p.bias = ssp_config_pulse_bias(&c);
        p.verify_rounds = c.prog_verify_rounds;
        p.tile_rows = (size_t)c.tile_rows;
        p.tile_cols = (size_t)c.tile_cols;
        p.r_wire = c.tile.r_wire_per_um * c.tile.pitch_um;
        p.c_line_cell = ssp_config_c_line_cell(&c);
        if (!bad && ssp_hwprog_create(&cl, ctx, ssp_hw_devices_const(hw, 0)[0].model, ssp_hw_levels(hw), nm, rows,
                                      cols, &p)) {
            free(rows);
            free(cols);
            rc = fail(ctx, "closed-loop programmer");
            goto done;
        }
        free(rows);
        free(cols);
        if (bad) { fprintf(stderr, "bench_update: out of memory\n"); goto done; }
    }
    printf("step  siamese: pulses   energy_pJ  latency_us | closed loop: pulses  reads   energy_pJ  latency_us\n");
    while (!done) {
        const ssp_hw *hw = ssp_train_hw(t);
        const ssp_twin *tw = ssp_train_twin(t);
        ssp_hwprog_totals tot;
        const ssp_hw_stats *after;
        unsigned long long sp;
        double se, sl;
        int last;
        for (size_t m = 0; m < nm; m++) {
            size_t nw = ssp_hw_weight_count(hw, m);
            if (steps == 0) memcpy(dev[m], ssp_hw_devices_const(hw, m), ssp_hw_device_count_of(hw, m) * sizeof **dev);
            memcpy(snap[m], dev[m], ssp_hw_device_count_of(hw, m) * sizeof **snap); /* closed loop, before this step */
            memcpy(ssnap[m], ssp_hw_devices_const(hw, m), ssp_hw_device_count_of(hw, m) * sizeof **ssnap); /* siamese */
            memcpy(qprev[m], tw->q[m], nw * sizeof **qprev);
        }
        before = *ssp_train_epoch_hw(t);
        if (ssp_train_step(t, &done)) { rc = fail(ctx, "training step"); goto done; }
        after = ssp_train_epoch_hw(t);
        sp = after->pulses - before.pulses;
        se = ssp_hw_stats_energy(after) - ssp_hw_stats_energy(&before);
        sl = ssp_hw_stats_latency(after) - ssp_hw_stats_latency(&before);
        /* the closed-loop update of the same step on its own devices */
        for (size_t m = 0; m < nm; m++) ssp_hw_target_all(hw, m, tw->q[m], target[m]);
        if (!ssp_hwprog_cal(cl)->fitted) {
            size_t k = first_tile(cl, target);
            double d;
            ssp_spice *s = NULL;
            if (ssp_spice_create(&s, ctx, NULL) ||
                ssp_hwprog_check(cl, k, dev[ssp_hwprog_tile_at(cl, k)->m], target[ssp_hwprog_tile_at(cl, k)->m], s,
                                 &d, NULL)) {
                ssp_spice_destroy(&s);
                rc = fail(ctx, "closed-loop calibration");
                goto done;
            }
            ssp_spice_destroy(&s);
        }
        memset(&tot, 0, sizeof tot);
        if (ssp_hwprog_program_all(cl, dev, (const int *const *)target, NULL, rng, &tot)) {
            rc = fail(ctx, "closed-loop update");
            goto done;
        }
        steps++;
        s_pulses += sp;
        s_energy += se;
        s_lat += sl;
        c_pulses += tot.sum.pulses;
        c_energy += tot.sum.energy_j;
        c_lat += tot.sum.latency_s;
        printf("%4zu  %15llu %11.4g %11.4g | %19zu %6zu %11.4g %11.4g\n", steps, sp, se * 1e12, sl * 1e6,
               tot.sum.pulses, tot.sum.verify_reads, tot.sum.energy_j * 1e12, tot.sum.latency_s * 1e6);
        fflush(stdout);
        last = done;
        if (last) {
            /* calibration check: one tile of each update in ngspice, from
             * the states before the step */
            size_t k;
            double d, es, em;
            size_t ps = 0, pm = 0;
            k = first_tile(cl, target);
            if (k < ssp_hwprog_ntiles(cl)) {
                if (cal_check(ctx, cl, k, snap, target, ssp_hw_device_count_of(hw, ssp_hwprog_tile_at(cl, k)->m), &d, &es, &em, &ps, &pm)) { rc = fail(ctx, "closed-loop check"); goto done; }
                printf("calibration check, closed loop tile %zu: ngspice %zu pulses %.4g pJ, calibrated C model %zu pulses "
                       "%.4g pJ (%.3f %%)\n", k, ps, es * 1e12, pm, em * 1e12, 100 * d);
                if (d > cal_max) cal_max = d;
            }
            /* the Siamese update of this step: devices whose level changed */
            for (size_t m = 0; m < nm; m++) {
                for (size_t dv = 0; dv < ssp_hw_device_count_of(hw, m); dv++) target[m][dv] = SSP_PULSE_KEEP;
                for (size_t i = 0; i < ssp_hw_weight_count(hw, m); i++)
                    ssp_hw_target_weight(hw, i, tw->q[m][i], qprev[m][i], 1, target[m]);
            }
            k = first_tile(cl, target);
            if (k < ssp_hwprog_ntiles(cl)) {
                /* priced by the trainer's calibration, open loop */
                ssp_hwprog *op = NULL;
                ssp_hwprog_params p;
                size_t *rows = malloc(nm * sizeof *rows), *cols = malloc(nm * sizeof *cols);
                int bad = !rows || !cols;
                for (size_t m = 0; m < nm && !bad; m++) {
                    rows[m] = ssp_hw_rows(hw, m);
                    cols[m] = ssp_hw_device_cols(hw, m); /* the programmer sees devices */
                }
                p.strategy = SSP_PULSE_OPEN;
                p.bias = ssp_config_pulse_bias(&c);
                p.verify_rounds = c.prog_verify_rounds;
                p.tile_rows = (size_t)c.tile_rows;
                p.tile_cols = (size_t)c.tile_cols;
                p.r_wire = c.tile.r_wire_per_um * c.tile.pitch_um;
                p.c_line_cell = ssp_config_c_line_cell(&c);
                if (bad || ssp_hwprog_create(&op, ctx, ssp_hw_devices_const(hw, 0)[0].model, ssp_hw_levels(hw), nm,
                                             rows, cols, &p)) {
                    free(rows);
                    free(cols);
                    rc = fail(ctx, "siamese programmer");
                    goto done;
                }
                free(rows);
                free(cols);
                /* the calibration the trainer priced with: refit from a
                 * first ngspice run of the same kind (open loop) */
                {
                    size_t k0 = k;
                    ssp_spice *s = NULL;
                    double dd;
                    /* fit on another tile when there is one, else on this */
                    for (size_t q = k + 1; q < ssp_hwprog_ntiles(op); q++)
                        if (ssp_hwprog_tile_has_targets(op, q, target[ssp_hwprog_tile_at(op, q)->m])) {
                            k0 = q;
                            break;
                        }
                    if (ssp_spice_create(&s, ctx, NULL) ||
                        ssp_hwprog_check(op, k0, ssnap[ssp_hwprog_tile_at(op, k0)->m],
                                         target[ssp_hwprog_tile_at(op, k0)->m], s, &dd, NULL)) {
                        ssp_spice_destroy(&s);
                        ssp_hwprog_destroy(&op);
                        rc = fail(ctx, "siamese calibration");
                        goto done;
                    }
                    ssp_spice_destroy(&s);
                    if (cal_check(ctx, op, k, ssnap, target, ssp_hw_device_count_of(hw, ssp_hwprog_tile_at(op, k)->m), &d, &es, &em, &ps, &pm)) {
                        ssp_hwprog_destroy(&op);
                        rc = fail(ctx, "siamese check");
                        goto done;
                    }
                    printf("calibration check, siamese tile %zu (fitted on tile %zu): ngspice %zu pulses %.4g pJ, "
                           "calibrated C model %zu pulses %.4g pJ (%.3f %%)\n", k, k0, ps,
                           es * 1e12, pm, em * 1e12, 100 * d);
                }
                ssp_hwprog_destroy(&op);
                if (d > cal_max) cal_max = d;
            }
        }
    }
    printf("%zu steps: siamese %llu pulses, %.4g pJ, %.4g us; closed loop %llu pulses, %.4g pJ, %.4g us\n", steps,
           s_pulses, s_energy * 1e12, s_lat * 1e6, c_pulses, c_energy * 1e12, c_lat * 1e6);
    printf("BENCH update steps=%zu siamese_pulses=%llu closed_loop_pulses=%llu energy_reduction_pct=%.2f "
           "latency_reduction_pct=%.2f cal_max_dev_pct=%.3f\n",
           steps, s_pulses, c_pulses, c_energy > 0 ? 100 * (1 - s_energy / c_energy) : 0,
           c_lat > 0 ? 100 * (1 - s_lat / c_lat) : 0, 100 * cal_max);
    rc = 0;
done:
    for (size_t m = 0; m < nm; m++) {
        if (dev) free(dev[m]);
        if (snap) free(snap[m]);
        if (ssnap) free(ssnap[m]);
        if (target) free(target[m]);
        if (qprev) free(qprev[m]);
    }
    free(dev);
    free(snap);
    free(ssnap);
    free(target);
    free(qprev);
    ssp_hwprog_destroy(&cl);
    ssp_device_rng_free(&rng);
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return rc;
}
