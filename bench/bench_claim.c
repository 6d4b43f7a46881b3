/* bench_claim.c — `make bench-claim`: the seed paper's headline claim (Tan et
 * al. 2024: > 98 % of conductance updates eliminated in one epoch, > 98 %
 * less update energy and latency than the basic closed loop) measured at
 * circuit level on the default network.
 *
 * configs/default.ini (MLP 784-100-10 on MNIST, vteam32 devices, 128x128
 * tiles, 2.5 ohm wire segments) trains with program.mode = model: every
 * update step's Siamese changes are programmed open loop, tile by tile,
 * through the pulse scheduler on the C device model. The basic closed loop
 * runs beside it on its own copy of the hardware (the same devices, the same
 * start states, the same twin): after every step every device of every
 * weight is a target, write-verified (every line read, out-of-band cells
 * pulsed, read again, up to program.verify_rounds rounds). Both on the same
 * tiles with the same bias, both priced by the same per-pulse calibration:
 * the one the trainer fits on an ngspice transient of its first update
 * (a 128x128 tile). A device already inside its band gets its reads but no
 * pulse, so this closed loop is the cheapest write-verify of every weight:
 * the reductions are lower bounds against one that re-pulses every weight.
 *
 * Energy, per method and epoch: selected cells, half-selected cells, wires
 * (calibrated), verify reads (Vr^2 G t), line drivers (C_line V^2 per line
 * per pulse or read, C_line = the config's crossbar.c_wire x pitch +
 * c_cell per cell crossed, as the read path prices its lines; the ngspice
 * programming tiles carry no capacitance). energy_reduction_pct counts all five;
 * energy_reduction_cells_pct leaves the drivers out. Latency: the schedules'
 * own time (row-parallel pulses, settling, verify reads), tiles one after
 * the other.
 *
 * Periodic ngspice check (check_every steps, and at the last step of the
 * first epoch): the smallest tile with targets, from the states before the
 * step, run in ngspice and on the C model priced by the calibration (each
 * method; the calibration is left as it was); the energy difference and the
 * largest state difference are printed, their maxima in the BENCH line.
 *
 * Arguments key=value (BENCH_ARGS): images=N (first N training images, 0:
 * all; default DEFAULT_IMAGES), test=N (test images, default 1000),
 * epochs=N (default 1), bias=v2|v3|both (default both), check_every=N
 * (default 0: only the first epoch's last step), config=FILE
 * (loaded over configs/default.ini), siamese=open|verify (the Siamese
 * update open loop, the default, or write-verified), threads=N (the closed
 * loop's programming threads, default the online CPUs). Under
 * `mpirun -np N` the closed loop's tiles are programmed on ranks 1..N-1
 * instead (ssp_hwprog_program_all_pool; the same figures to the bit), so it
 * scales past one machine. Wall and CPU time per
 * step of each method are printed (the machine may be shared: CPU time is
 * the one to compare). One line per epoch and bias:
 *   BENCH claim net=784-100-10 epoch=1 updates_eliminated_pct=..
 *         energy_reduction_pct=.. latency_reduction_pct=.. bias=v2 ...
 * the last epoch of v3 last. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ssp_config.h"
#include "ssp_hwprog.h"
#include "ssp_train.h"
#include "ssp_twin.h"

/* The default run: the first 320 training images (10 steps). The closed
 * loop costs ~4.3 s of CPU of C-model programming per step here (it pulses
 * ~25,000 devices a step, ~7,000 parallel pulses: vteam32's 3 % cycle-to-
 * cycle noise against a band of +-0.125 level), so a full epoch (1,875
 * steps) is ~2.2 h of CPU. */
#define DEFAULT_IMAGES 320

/* Training images of MNIST (images=0). */
#define SSP_MNIST_TRAIN 60000u

/* The closed loop's noise stream, apart from the trainer's. */
static const unsigned long SEED_CLOSED_LOOP = 0x5005;

typedef struct opts {
    long images, test, epochs, check_every, threads;
    int v2, v3, verify;
    const char *config;
} opts;

/* What one method spent in one epoch. */
typedef struct cost {
    ssp_pulse_result r; /* figures added over its tile programmings */
    size_t weight_writes;
} cost;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this process, s (the pool's ngspice workers are not in it). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(ssp_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_claim: %s: %s\n", what, ssp_ctx_errmsg(ctx));
    return 1;
}

static double total_j(const ssp_pulse_result *r) { return r->energy_j + r->energy_driver_j; }
static double pct_less(double a, double b) { return b > 0 ? 100.0 * (1.0 - a / b) : 0; }

/* The smallest tile with a target (fewest cells), or ntiles. */
static size_t smallest_tile(const ssp_hwprog *hp, int *const *target)
{
    size_t best = ssp_hwprog_ntiles(hp), cells = (size_t)-1;
    for (size_t k = 0; k < ssp_hwprog_ntiles(hp); k++) {
        const ssp_hwprog_tile *t = ssp_hwprog_tile_at(hp, k);
        if (t->rows * t->cols < cells && ssp_hwprog_tile_has_targets(hp, k, target[t->m])) {
            best = k;
            cells = t->rows * t->cols;
        }
    }
    return best;
}

/* Cells of the calibration transient (tile 0), each moved one level. */
enum { CAL_CELLS = 8 };

/* The per-pulse calibration both methods are priced by: one ngspice
 * transient of tile 0 (a full 128x128 tile of the first layer, its wires
 * and its bias) from the trainer's start states, CAL_CELLS cells spread over
 * its rows and columns moved one level each, open loop as the Siamese
 * update programs. (The trainer would otherwise fit it on its first update,
 * some thousand pulses: a transient of many minutes at 128x128.) */
static int calibrate(ssp_ctx *ctx, ssp_hwprog *hp, const ssp_hw *hw, double *spice_s)
{
    const ssp_hwprog_tile *t = ssp_hwprog_tile_at(hp, 0);
    size_t m = t->m, nd = ssp_hw_device_count_of(hw, m), pc = ssp_hw_device_cols(hw, m);
    const ssp_device *devm = ssp_hw_devices_const(hw, m);
    const ssp_device_levels *lv = ssp_hw_levels(hw);
    int *target = malloc(nd * sizeof *target);
    ssp_spice *sp = NULL;
    double dev_frac;
    ssp_pulse_result r;
    int rc;
    if (!target) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    for (size_t i = 0; i < nd; i++) target[i] = SSP_PULSE_KEEP;
    for (size_t k = 0; k < CAL_CELLS; k++) {
        /* row and column steps that never repeat a line */
        size_t i = t->r0 + (k * t->rows) / CAL_CELLS + k % 3, j = t->c0 + (k * t->cols) / CAL_CELLS + (k * 7) % 5;
        size_t c = i * pc + j;
        int L;
        double g = ssp_device_conductance(&devm[c], ssp_device_model_read_voltage(devm[c].model));
        if (ssp_pulse_level_of(lv, ctx, g < lv->g[0] ? lv->g[0] : g > lv->g[lv->n - 1] ? lv->g[lv->n - 1] : g, &L)) {
            free(target);
            return ssp_ctx_errcode(ctx);
        }
        target[c] = L + 1 < (int)lv->n - 1 ? L + 1 : L - 1;
    }
    rc = ssp_spice_create(&sp, ctx, NULL);
    if (!rc) rc = ssp_hwprog_check(hp, 0, devm, target, sp, &dev_frac, &r);
    ssp_spice_destroy(&sp);
    free(target);
    if (!rc) {
        const ssp_pulse_cal *cal = ssp_hwprog_cal(hp);
        printf("  calibration: ngspice tile 0, %zu pulses, %.4g J (selected %.4g, half-selected %.4g, wires %.4g), "
               "%.1f s; selected x%.4f, half-selected x%.4f, wires x%.4f (measured / C model); C-model replay within %.4f %% "
               "of the state range\n", r.pulses, r.energy_j, r.energy_sel_j, r.energy_half_j, r.energy_wire_j,
               r.spice_s, cal->sel_ratio, cal->half_ratio, cal->wire_ratio, 100 * dev_frac);
        *spice_s = r.spice_s;
    }
    return rc;
}

/* Tile k from the states in dev: ngspice (measured) against the C model
 * priced by hp's calibration (restored after the ngspice run, which refits
 * it), no noise. *e_dev: relative energy difference (cells, wires, reads);
 * *x_dev: largest state difference over the tile / the state range. */
static int spice_check(ssp_ctx *ctx, ssp_hwprog *hp, size_t k, ssp_device *const *dev, int *const *target,
                       size_t nd, double *e_dev, double *x_dev, ssp_pulse_result *rs, ssp_pulse_result *rm)
{
    const ssp_hwprog_tile *t = ssp_hwprog_tile_at(hp, k);
    size_t m = t->m, nc = t->rows * t->cols;
    ssp_pulse_cal saved = *ssp_hwprog_cal(hp);
    ssp_spice *sp = NULL;
    ssp_device *cs = malloc(nd * sizeof *cs), *cm = malloc(nd * sizeof *cm);
    ssp_device *ts = malloc(nc * sizeof *ts), *tm = malloc(nc * sizeof *tm);
    int rc;
    if (!cs || !cm || !ts || !tm) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(cs, dev[m], nd * sizeof *cs);
    memcpy(cm, dev[m], nd * sizeof *cm);
    rc = ssp_spice_create(&sp, ctx, NULL);
    if (!rc) rc = ssp_hwprog_program(hp, k, cs, target[m], sp, NULL, NULL, rs, NULL);
    ssp_spice_destroy(&sp);
    *ssp_hwprog_cal(hp) = saved;
    if (!rc) rc = ssp_hwprog_program(hp, k, cm, target[m], NULL, NULL, NULL, rm, NULL);
    if (rc) goto done;
    ssp_hwprog_gather(hp, k, cs, ts);
    ssp_hwprog_gather(hp, k, cm, tm);
    *x_dev = 0;
    for (size_t c = 0; c < nc; c++) {
        double d = fabs(ts[c].x - tm[c].x) / ssp_hwprog_state_range(hp);
        if (d > *x_dev) *x_dev = d;
    }
    *e_dev = rs->energy_j > 0 ? fabs(rm->energy_j - rs->energy_j) / rs->energy_j : 0;
done:
    free(cs);
    free(cm);
    free(ts);
    free(tm);
    return rc;
}

static void print_cost(const char *name, const cost *c)
{
    const ssp_pulse_result *r = &c->r;
    printf("  %-11s %9zu weight writes %9zu pulses %9zu reads  energy %.4g J = selected %.4g + half-selected %.4g"
           " + wires %.4g + reads %.4g + drivers %.4g  latency %.4g s\n",
           name, c->weight_writes, r->pulses, r->verify_reads, total_j(r), r->energy_sel_j, r->energy_half_j,
           r->energy_wire_j, r->energy_read_j, r->energy_driver_j, r->latency_s);
}

static int parse(opts *o, int argc, char **argv)
{
    o->images = DEFAULT_IMAGES;
    o->test = 1000;
    o->epochs = 1;
    o->check_every = 0;
    o->threads = 0;
    o->v2 = o->v3 = 1;
    o->verify = 0;
    o->config = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = strchr(a, '=');
        char *end;
        long n;
        if (!v) goto bad;
        v++;
        if (!strncmp(a, "config=", 7)) {
            o->config = v;
            continue;
        }
        if (!strncmp(a, "siamese=", 8)) {
            o->verify = !strcmp(v, "verify");
            if (!o->verify && strcmp(v, "open")) goto bad;
            continue;
        }
        if (!strncmp(a, "bias=", 5)) {
            o->v2 = !strcmp(v, "v2") || !strcmp(v, "both");
            o->v3 = !strcmp(v, "v3") || !strcmp(v, "both");
            if (!o->v2 && !o->v3) goto bad;
            continue;
        }
        n = strtol(v, &end, 10);
        if (*end || end == v || n < 0) goto bad;
        if (!strncmp(a, "images=", 7))
            o->images = n;
        else if (!strncmp(a, "test=", 5))
            o->test = n;
        else if (!strncmp(a, "epochs=", 7) && n >= 1)
            o->epochs = n;
        else if (!strncmp(a, "check_every=", 12))
            o->check_every = n;
        else if (!strncmp(a, "threads=", 8))
            o->threads = n;
        else
            goto bad;
        continue;
    bad:
        fprintf(stderr, "bench_claim: bad argument '%s' (images=N test=N epochs=N bias=v2|v3|both check_every=N "
                        "threads=N config=FILE siamese=open|verify)\n", a);
        return 2;
    }
    return 0;
}

/* One bias: train, program both methods, print per epoch. */
static int run(const opts *o, int v3, ssp_pool *pool)
{
    ssp_ctx *ctx = NULL;
    ssp_config c;
    ssp_train *t = NULL;
    ssp_hwprog *cl = NULL, *sp, **cls = NULL; /* cls: the closed loop's programmers, one per thread (cls[0] = cl) */
    ssp_ctx **tctx = NULL;                      /* their contexts (tctx[0] = ctx) */
    gsl_rng **rngs = NULL;                      /* the closed loop's write and read noise, one stream per tile */
    size_t nthr = 1, ntl = 0;
    ssp_device **dev = NULL, **snap = NULL, **ssnap = NULL;
    int **target = NULL, **qprev = NULL, rc = 1;
    size_t nm = 0;
    const char *bias = v3 ? "v3" : "v2";
    char net[64];
    double e_dev_max = 0, x_dev_max = 0, t_s = 0, t_c = 0, t_check = 0, u_s = 0, u_c = 0, u0;
    long checks = 0;
    size_t nw_all = 0, n_train;

    if (ssp_ctx_create(&ctx)) return 1;
    ssp_ctx_set_log_level(ctx, SSP_LOG_WARN);
    ssp_config_defaults(&c);
    {
        /* configs, params, data: where an installed `siamspice bench` says
         * ($SSP_BENCH_CONFIGS, _PARAMS, _DATA), else the source tree */
        const char *cd = getenv("SSP_BENCH_CONFIGS"), *pd = getenv("SSP_BENCH_PARAMS"), *dd = getenv("SSP_BENCH_DATA");
        char path[4096];
        snprintf(path, sizeof path, "%s/default.ini", cd && *cd ? cd : SSP_SOURCE_DIR "/configs");
        if (ssp_config_load(&c, ctx, path)) return fail(ctx, path);
        if (o->config && ssp_config_load(&c, ctx, o->config)) return fail(ctx, "config");
        snprintf(c.data_dir, sizeof c.data_dir, "%s", dd && *dd ? dd : SSP_SOURCE_DIR "/data");
        snprintf(c.device_params, sizeof c.device_params, "%s/vteam32.ini",
                 pd && *pd ? pd : SSP_SOURCE_DIR "/devicemodels/params");
    }
    c.baselines[0] = 0;
    c.epochs = o->epochs;
    c.train_limit = o->images;
    c.test_limit = o->test;
    c.prog_mode = SSP_PROG_MODEL;
    c.prog_strategy = o->verify; /* open loop unless siamese=verify */
    c.prog_bias = v3;
    c.prog_check_every = 0; /* the trainer calibrates on its first update; checks are ours */
    c.prog_export = SSP_PROG_EXPORT_NONE;
    if (c.method != SSP_METHOD_SIAMESE) {
        fprintf(stderr, "bench_claim: needs train.method = siamese\n");
        return 2;
    }
    if (ssp_train_create(&t, ctx, &c)) { rc = fail(ctx, "trainer"); goto done; }
    sp = ssp_train_prog(t);
    n_train = o->images ? (size_t)o->images : SSP_MNIST_TRAIN;
    nm = ssp_hw_nmat(ssp_train_hw(t));
    dev = calloc(nm, sizeof *dev);
    snap = calloc(nm, sizeof *snap);
    ssnap = calloc(nm, sizeof *ssnap);
    target = calloc(nm, sizeof *target);
    qprev = calloc(nm, sizeof *qprev);
    if (!dev || !snap || !target || !qprev || !ssnap) { fprintf(stderr, "bench_claim: out of memory\n"); goto done; }
    {
        size_t *rows = malloc(nm * sizeof *rows), *cols = malloc(nm * sizeof *cols), len = 0;
        ssp_hwprog_params p;
        const ssp_hw *hw = ssp_train_hw(t);
        int bad = !rows || !cols;
        for (size_t m = 0; m < nm && !bad; m++) {
            size_t nd = ssp_hw_device_count_of(hw, m);
            rows[m] = ssp_hw_rows(hw, m);
            cols[m] = ssp_hw_device_cols(hw, m); /* the programmer sees devices */
            nw_all += ssp_hw_weight_count(hw, m);
            dev[m] = malloc(nd * sizeof **dev);
            snap[m] = malloc(nd * sizeof **snap);
            ssnap[m] = malloc(nd * sizeof **ssnap);
            target[m] = malloc(nd * sizeof **target);
            qprev[m] = malloc(ssp_hw_weight_count(hw, m) * sizeof **qprev);
            bad = !dev[m] || !snap[m] || !ssnap[m] || !target[m] || !qprev[m];
            if (!bad) {
                /* layer sizes: a matrix's rows less its bias row */
                len += (size_t)snprintf(net + len, sizeof net - len, "%s%zu", m ? "-" : "", rows[m] - 1);
                if (m + 1 == nm) snprintf(net + len, sizeof net - len, "-%zu", ssp_hw_cols(hw, m));
            }
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
        if (!bad) {
            /* the threads: one programmer each, on its own context */
            long on = pool ? 1 : o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
            ntl = ssp_hwprog_ntiles(cl);
            nthr = on < 1 ? 1 : (size_t)on > ntl ? (ntl ? ntl : 1) : (size_t)on;
            cls = calloc(nthr, sizeof *cls);
            tctx = calloc(nthr, sizeof *tctx);
            rngs = calloc(ntl ? ntl : 1, sizeof *rngs);
            bad = !cls || !tctx || !rngs;
            if (!bad) {
                cls[0] = cl;
                tctx[0] = ctx;
            }
            for (size_t k = 1; k < nthr && !bad; k++) {
                if (ssp_ctx_create(&tctx[k])) { bad = 1; break; }
                ssp_ctx_set_log_level(tctx[k], SSP_LOG_WARN);
                if (ssp_hwprog_create(&cls[k], tctx[k], ssp_hw_devices_const(hw, 0)[0].model, ssp_hw_levels(hw), nm,
                                      rows, cols, &p)) {
                    free(rows);
                    free(cols);
                    rc = fail(tctx[k], "closed-loop programmer");
                    goto done;
                }
            }
            /* tile k's stream: the same whatever the number of threads */
            for (size_t k = 0; k < ntl && !bad; k++)
                if (ssp_device_rng_alloc(&rngs[k], ctx, ((unsigned long)c.seed ^ SEED_CLOSED_LOOP) + 7919ul * k)) {
                    free(rows);
                    free(cols);
                    rc = fail(ctx, "rng");
                    goto done;
                }
        }
        free(rows);
        free(cols);
        if (bad) { fprintf(stderr, "bench_claim: out of memory\n"); goto done; }
    }
    printf("bias %s: net %s, %zu tiles of %ldx%ld, %zu weights, r_wire %g ohm per segment, line capacitance %.3g F "
           "per cell, siamese update %s, %ld epoch(s) on %s training images\n", bias, net, ssp_hwprog_ntiles(cl),
           c.tile_rows, c.tile_cols, nw_all, c.tile.r_wire_per_um * c.tile.pitch_um, ssp_config_c_line_cell(&c),
           o->verify ? "write-verified" : "open loop", o->epochs, o->images ? "the first" : "all");
    if (pool)
        printf("  closed loop programmed on %d MPI rank(s) beside rank 0, one noise stream per tile\n",
               ssp_pool_size(pool));
    else
        printf("  closed loop programmed on %zu thread(s), one noise stream per tile\n", nthr);
    if (o->images) printf("  (first %ld images)\n", o->images);
    fflush(stdout);
    {
        double s_cal = 0;
        if (calibrate(ctx, sp, ssp_train_hw(t), &s_cal)) { rc = fail(ctx, "calibration"); goto done; }
        fflush(stdout);
    }
    for (long ep = 1; ep <= o->epochs; ep++) {
        cost cs = {0}, cc = {0};
        ssp_epoch_metrics em;
        long step = 0;
        int done = 0;
        while (!done) {
            const ssp_hw *hw = ssp_train_hw(t);
            const ssp_twin *tw = ssp_train_twin(t);
            ssp_hwprog_totals tot;
            double t0;
            int check;
            for (size_t m = 0; m < nm; m++) {
                size_t nw = ssp_hw_weight_count(hw, m);
                if (ep == 1 && step == 0) memcpy(dev[m], ssp_hw_devices_const(hw, m), ssp_hw_device_count_of(hw, m) * sizeof **dev);
                memcpy(qprev[m], tw->q[m], nw * sizeof **qprev);
            }
            /* a check at every check_every-th step and at the first epoch's
             * last step */
            check = (o->check_every > 0 && step > 0 && step % o->check_every == 0) ||
                    (ep == 1 && (size_t)(step + 1) * (size_t)c.batch >= n_train);
            if (check)
                for (size_t m = 0; m < nm; m++) {
                    memcpy(snap[m], dev[m], ssp_hw_device_count_of(hw, m) * sizeof **snap);
                    memcpy(ssnap[m], ssp_hw_devices_const(hw, m), ssp_hw_device_count_of(hw, m) * sizeof **ssnap);
                }
            t0 = now_s();
            u0 = cpu_s();
            if (ssp_train_step(t, &done)) { rc = fail(ctx, "training step"); goto done; }
            t_s += now_s() - t0;
            u_s += cpu_s() - u0;
            step++;
            /* the closed-loop update of the same step on its own devices,
             * priced by the trainer's calibration */
            for (size_t k = 0; k < nthr; k++) *ssp_hwprog_cal(cls[k]) = *ssp_hwprog_cal(sp);
            for (size_t m = 0; m < nm; m++) ssp_hw_target_all(hw, m, tw->q[m], target[m]);
            memset(&tot, 0, sizeof tot);
            t0 = now_s();
            u0 = cpu_s();
            if (pool ? ssp_hwprog_program_all_pool(cl, pool, dev, (const int *const *)target, rngs, &tot)
                     : ssp_hwprog_program_all_threads(cls, nthr, dev, (const int *const *)target, rngs, &tot)) {
                rc = fail(ctx, "closed-loop update");
                goto done;
            }
            t_c += now_s() - t0;
            u_c += cpu_s() - u0;
            {
                ssp_hwprog_totals acc = {0, cc.r};
                ssp_hwprog_totals_add(&acc, &tot.sum);
                cc.r = acc.sum;
                cc.weight_writes += nw_all;
            }
            if (check) {
                ssp_pulse_result rs, rm;
                double ed, xd;
                size_t k;
                t0 = now_s();
                k = smallest_tile(cl, target);
                if (k < ssp_hwprog_ntiles(cl)) {
                    size_t m = ssp_hwprog_tile_at(cl, k)->m;
                    if (spice_check(ctx, cl, k, snap, target, ssp_hw_device_count_of(hw, m), &ed, &xd, &rs, &rm)) {
                        rc = fail(ctx, "closed-loop ngspice check");
                        goto done;
                    }
                    printf("  check step %ld closed loop tile %zu: ngspice %zu pulses %.4g J, C model %zu pulses %.4g J "
                           "(%.3f %%), states within %.4f %% of the range\n", step, k, rs.pulses, rs.energy_j,
                           rm.pulses, rm.energy_j, 100 * ed, 100 * xd);
                    e_dev_max = fmax(e_dev_max, ed);
                    x_dev_max = fmax(x_dev_max, xd);
                    checks++;
                }
                /* the Siamese update of this step: devices whose level changed */
                for (size_t m = 0; m < nm; m++) {
                    for (size_t dv = 0; dv < ssp_hw_device_count_of(hw, m); dv++) target[m][dv] = SSP_PULSE_KEEP;
                    for (size_t i = 0; i < ssp_hw_weight_count(hw, m); i++)
                        ssp_hw_target_weight(hw, i, tw->q[m][i], qprev[m][i], 1, target[m]);
                }
                k = smallest_tile(sp, target);
                if (k < ssp_hwprog_ntiles(sp)) {
                    size_t m = ssp_hwprog_tile_at(sp, k)->m;
                    if (spice_check(ctx, sp, k, ssnap, target, ssp_hw_device_count_of(hw, m), &ed, &xd, &rs, &rm)) {
                        rc = fail(ctx, "siamese ngspice check");
                        goto done;
                    }
                    printf("  check step %ld siamese tile %zu: ngspice %zu pulses %.4g J, C model %zu pulses %.4g J "
                           "(%.3f %%), states within %.4f %% of the range\n", step, k, rs.pulses, rs.energy_j,
                           rm.pulses, rm.energy_j, 100 * ed, 100 * xd);
                    e_dev_max = fmax(e_dev_max, ed);
                    x_dev_max = fmax(x_dev_max, xd);
                    checks++;
                }
                t_check += now_s() - t0;
                fflush(stdout);
            }
            if (step % 100 == 0) {
                fprintf(stderr, "bench_claim %s: epoch %ld step %ld: siamese %.3f s/step, closed loop %.3f s/step\n",
                        bias, ep, step, t_s / (double)step, t_c / (double)step);
            }
        }
        cs.r = *ssp_train_epoch_prog(t);
        cs.weight_writes = ssp_train_epoch_hw(t)->weight_writes;
        if (ssp_train_epoch_end(t, &em)) { rc = fail(ctx, "epoch end"); goto done; }
        printf("epoch %ld, bias %s: %ld steps, test accuracy %.2f %%\n", ep, bias, step, 100 * em.test_acc);
        print_cost("siamese", &cs);
        print_cost("closed loop", &cc);
        printf("  energy share of the closed loop: selected %.1f %%, half-selected %.1f %%, wires %.1f %%, reads %.1f %%, "
               "drivers %.1f %%; of the siamese update: selected %.1f %%, half-selected %.1f %%, wires %.1f %%, "
               "drivers %.1f %%\n",
               100 * cc.r.energy_sel_j / total_j(&cc.r), 100 * cc.r.energy_half_j / total_j(&cc.r),
               100 * cc.r.energy_wire_j / total_j(&cc.r), 100 * cc.r.energy_read_j / total_j(&cc.r),
               100 * cc.r.energy_driver_j / total_j(&cc.r), 100 * cs.r.energy_sel_j / total_j(&cs.r),
               100 * cs.r.energy_half_j / total_j(&cs.r), 100 * cs.r.energy_wire_j / total_j(&cs.r),
               100 * cs.r.energy_driver_j / total_j(&cs.r));
        printf("  wall time: siamese steps %.1f s (%.3f s per step, training included), closed loop %.1f s (%.3f s "
               "per step), ngspice checks %.1f s; CPU time per step: siamese %.3f s, closed loop %.3f s\n", t_s,
               t_s / (double)step, t_c, t_c / (double)step, t_check, u_s / (double)step, u_c / (double)step);
        printf("BENCH claim net=%s epoch=%ld updates_eliminated_pct=%.2f energy_reduction_pct=%.2f "
               "latency_reduction_pct=%.2f bias=%s energy_reduction_cells_pct=%.2f pulses_reduction_pct=%.2f "
               "siamese_energy_j=%.4g closed_loop_energy_j=%.4g siamese_latency_s=%.4g closed_loop_latency_s=%.4g "
               "steps=%ld images=%ld checks=%ld check_energy_dev_max_pct=%.3f check_state_dev_max_pct=%.4f "
               "s_per_step_siamese=%.3f s_per_step_closed_loop=%.3f cpu_s_per_step_siamese=%.3f "
               "cpu_s_per_step_closed_loop=%.3f siamese_update=%s tile=%ldx%ld c_line_cell_f=%.3g "
               "closed_loop_on=%s closed_loop_workers=%d\n",
               net, ep, pct_less((double)cs.weight_writes, (double)cc.weight_writes),
               pct_less(total_j(&cs.r), total_j(&cc.r)), pct_less(cs.r.latency_s, cc.r.latency_s), bias,
               pct_less(cs.r.energy_j, cc.r.energy_j), pct_less((double)cs.r.pulses, (double)cc.r.pulses),
               total_j(&cs.r), total_j(&cc.r), cs.r.latency_s, cc.r.latency_s, step,
               (long)n_train, checks, 100 * e_dev_max, 100 * x_dev_max, t_s / (double)step,
               t_c / (double)step, u_s / (double)step, u_c / (double)step, o->verify ? "verify" : "open", c.tile_rows,
               c.tile_cols, ssp_config_c_line_cell(&c), pool ? "mpi" : "threads",
               pool ? ssp_pool_size(pool) : (int)nthr);
        fflush(stdout);
        t_s = t_c = t_check = u_s = u_c = 0;
    }
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
    for (size_t k = 1; cls && k < nthr; k++) {
        ssp_hwprog_destroy(&cls[k]);
        if (tctx) ssp_ctx_destroy(&tctx[k]);
    }
    free(cls);
    free(tctx);
    for (size_t k = 0; rngs && k < ntl; k++) ssp_device_rng_free(&rngs[k]);
    free(rngs);
    ssp_hwprog_destroy(&cl);
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return rc;
}

/* Under `mpirun -np N` (N > 1) rank 0 runs the benchmark and ranks
 * 1..N-1 program the closed loop's tiles (pool jobs, SSP_HWPROG_HANDLER):
 * the same figures as on threads, to the bit. */
int main(int argc, char **argv)
{
    static const ssp_pool_handler serve[] = {{SSP_HWPROG_HANDLER, ssp_hwprog_tile_handler, NULL}};
    ssp_ctx *ctx = NULL;
    ssp_pool *pool = NULL;
    ssp_pool_opts po = {SSP_POOL_MPI, 0, NULL, NULL};
    opts o;
    int rc, rank = 0, size = 1;
    if (ssp_ctx_create(&ctx)) return 1;
    if (ssp_pool_mpi_init(ctx, &argc, &argv, &rank, &size)) {
        fprintf(stderr, "bench_claim: %s\n", ssp_ctx_errmsg(ctx));
        ssp_ctx_destroy(&ctx);
        return 1;
    }
    if (rank > 0) {
        rc = ssp_pool_mpi_serve(serve, 1) == SSP_OK ? 0 : 1;
        ssp_pool_mpi_finalize();
        ssp_ctx_destroy(&ctx);
        return rc;
    }
    rc = parse(&o, argc, argv);
    if (!rc && size > 1 && ssp_pool_create_opts(&pool, ctx, &po)) rc = fail(ctx, "MPI pool");
    if (!rc && o.v2) rc = run(&o, 0, pool);
    if (!rc && o.v3) rc = run(&o, 1, pool);
    ssp_pool_destroy(&pool);
    ssp_pool_mpi_finalize();
    ssp_ctx_destroy(&ctx);
    return rc;
}
