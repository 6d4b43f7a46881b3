/* bench_program.c — `make bench-program`: a 32x32 tile of vteam32 devices
 * (device-to-device variation drawn with a fixed seed), 20 cells moved by
 * +-3 levels of 32, write-verify, V/2, executed as ngspice transients. The
 * same pulses are then replayed on the C device model and the largest state
 * deviation reported (% of the state range). A per-pulse energy model
 * calibrated on the transient prices two closed-loop references on the same
 * tile through the C model: every cell re-written by one level (the basic
 * closed loop updates every weight every step) and verify-first (every line
 * read, only the 20 cells pulsed). Prints figures, last line:
 *   BENCH program cells=20 pulses=.. in_band_pct=.. spice_ms_per_pulse=..
 *         energy_pj=.. latency_us=.. model_vs_spice_max_dev_pct=..
 * spice_ms_per_pulse = ngspice wall time / programming pulses on selected
 * cells. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_pulse.h"

enum { N = 32, LEVELS = 32, MOVES = 20, DELTA = 3 };
static const unsigned long SEED = 2024;
static const double TOL = 0.5; /* band: half a level spacing */

/* Level L's band lies inside this device's own range. */
static int fits(const ssp_device *d, const ssp_device_levels *lv, int L)
{
    return L >= 0 && L < (int)lv->n && lv->lo[L] >= ssp_device_gmin(d) && lv->hi[L] <= ssp_device_gmax(d);
}

/* The parameter files: $SSP_BENCH_PARAMS (set by an installed `siamspice
 * bench`), else the source tree this benchmark was built from. */
static const char *params_dir(void)
{
    const char *d = getenv("SSP_BENCH_PARAMS");
    return d && *d ? d : SSP_SOURCE_DIR "/devicemodels/params";
}

static int fail(ssp_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_program: %s: %s\n", what, ssp_ctx_errmsg(ctx));
    return 1;
}

int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_device_model *m = NULL;
    char mpath[4096];
    ssp_device_levels *lv = NULL;
    ssp_device dev[N * N], start[N * N], model[N * N], nom;
    int present[N * N], target[N * N], cl_target[N * N];
    gsl_rng *rng = NULL;
    ssp_spice *s = NULL;
    ssp_pulse *pp = NULL;
    ssp_pulse_params p;
    ssp_pulse_schedule *sched = NULL;
    ssp_pulse_result r, rcl, rvf;
    ssp_pulse_cal cal = {0};
    double dev_max = 0;
    int rc = 1;

    if (ssp_ctx_create(&ctx)) return 1;
    ssp_ctx_set_log_level(ctx, SSP_LOG_WARN);
    snprintf(mpath, sizeof mpath, "%s/vteam32.ini", params_dir());
    if (ssp_device_model_load(&m, ctx, mpath)) { rc = fail(ctx, "model"); goto done; }
    ssp_device_init(&nom, m, 0);
    if (ssp_device_levels_alloc(&lv, ctx, &nom, LEVELS, TOL)) { rc = fail(ctx, "levels"); goto done; }
    if (ssp_device_rng_alloc(&rng, ctx, SEED)) { rc = fail(ctx, "rng"); goto done; }
    for (size_t c = 0; c < N * N; c++) {
        if (ssp_device_sample(&dev[c], ctx, m, rng)) { rc = fail(ctx, "sample"); goto done; }
        /* present level, inside this device's own range */
        do
            present[c] = 1 + (int)gsl_rng_uniform_int(rng, LEVELS - 2);
        while (!fits(&dev[c], lv, present[c]));
        if (ssp_device_set_conductance(&dev[c], ctx, lv->g[present[c]])) { rc = fail(ctx, "preset"); goto done; }
        target[c] = SSP_PULSE_KEEP;
    }
    for (int k = 0; k < MOVES;) {
        size_t c = gsl_rng_uniform_int(rng, N * N);
        int up = present[c] + DELTA, dn = present[c] - DELTA;
        int t;
        if (target[c] != SSP_PULSE_KEEP) continue;
        t = (up < LEVELS - 1 && (dn < 1 || gsl_rng_uniform(rng) < 0.5)) ? up : dn;
        if (!fits(&dev[c], lv, t)) continue; /* keep the benchmark's targets reachable */
        target[c] = t;
        k++;
    }
    memcpy(start, dev, sizeof dev);

    ssp_pulse_params_default(&p, m);
    p.strategy = SSP_PULSE_VERIFY;
    p.bias = SSP_PULSE_V2;
    if (ssp_pulse_create(&pp, ctx, m, lv, N, N, &p)) { rc = fail(ctx, "programmer"); goto done; }
    if (ssp_pulse_schedule_alloc(&sched, ctx, N, N)) { rc = fail(ctx, "schedule"); goto done; }
    if (ssp_spice_create(&s, ctx, NULL)) { rc = fail(ctx, "ngspice"); goto done; }
    if (ssp_pulse_program_tile(pp, s, NULL, 0, dev, target, sched, &r, NULL)) { rc = fail(ctx, "program (ngspice)"); goto done; }

    /* the same pulses on the C model */
    memcpy(model, start, sizeof start);
    if (ssp_pulse_replay(pp, NULL, 0, model, sched)) { rc = fail(ctx, "replay"); goto done; }
    for (size_t c = 0; c < N * N; c++) {
        double d = fabs(model[c].x - dev[c].x); /* state range [0, 1] */
        if (d > dev_max) dev_max = d;
    }

    /* closed-loop references, priced by the calibrated model */
    if (ssp_pulse_cal_fit(&cal, ctx, &r)) { rc = fail(ctx, "calibration"); goto done; }
    for (size_t c = 0; c < N * N; c++)
        cl_target[c] = target[c] != SSP_PULSE_KEEP ? target[c]
                       : present[c] + (present[c] + 1 < LEVELS - 1 ? 1 : -1);
    memcpy(model, start, sizeof start);
    if (ssp_pulse_program_tile(pp, NULL, NULL, 0, model, cl_target, NULL, &rcl, NULL)) { rc = fail(ctx, "closed loop"); goto done; }
    ssp_pulse_cal_price(&cal, &rcl);
    for (size_t c = 0; c < N * N; c++) cl_target[c] = target[c] != SSP_PULSE_KEEP ? target[c] : present[c];
    memcpy(model, start, sizeof start);
    if (ssp_pulse_program_tile(pp, NULL, NULL, 0, model, cl_target, NULL, &rvf, NULL)) { rc = fail(ctx, "verify first"); goto done; }
    ssp_pulse_cal_price(&cal, &rvf);
    /* every cell is a target there, so the planner's first read covers every line */

    printf("tile %dx%d vteam32, %d cells +-%d levels of %d, write-verify, V/2\n", N, N, MOVES, DELTA, LEVELS);
    printf("ngspice: %zu pulses (%zu parallel), %zu rounds, %zu verify reads, %.3f s in transients\n",
           r.pulses, r.groups, r.rounds, r.verify_reads, r.spice_s);
    printf("energy %.4g pJ: selected %.4g, half-selected %.4g, wires %.4g, reads %.4g; analytic V I t %.4g pJ\n",
           r.energy_j * 1e12, r.energy_sel_j * 1e12, r.energy_half_j * 1e12, r.energy_wire_j * 1e12,
           r.energy_read_j * 1e12, r.energy_analytic_j * 1e12);
    printf("latency %.4g us; disturb max %.3g levels; C model vs ngspice max %.4f %% of range\n",
           r.latency_s * 1e6, r.disturb_max, 100 * dev_max);
    printf("calibration: selected x%.5f, half-selected x%.5f, wires x%.5f (measured / C model)\n",
           cal.sel_ratio, cal.half_ratio, cal.wire_ratio);
    printf("closed loop (every cell re-written by one level, write-verify): %zu pulses, %.4g pJ, %.4g us\n",
           rcl.pulses, rcl.energy_j * 1e12, rcl.latency_s * 1e6);
    printf("  siamese/closed-loop: energy %.2f %%, latency %.2f %% (saving %.1f %% / %.1f %%)\n",
           100 * r.energy_j / rcl.energy_j, 100 * r.latency_s / rcl.latency_s,
           100 * (1 - r.energy_j / rcl.energy_j), 100 * (1 - r.latency_s / rcl.latency_s));
    printf("verify-first (every line read, changed cells pulsed): %.4g pJ, %.4g us; siamese/verify-first energy %.2f %%, latency %.2f %%\n",
           rvf.energy_j * 1e12, rvf.latency_s * 1e6, 100 * r.energy_j / rvf.energy_j,
           100 * r.latency_s / rvf.latency_s);
    printf("BENCH program cells=%d pulses=%zu in_band_pct=%.1f spice_ms_per_pulse=%.2f energy_pj=%.2f "
           "latency_us=%.3f model_vs_spice_max_dev_pct=%.4f\n",
           MOVES, r.pulses, r.targets ? 100.0 * (double)r.in_band / (double)r.targets : 0,
           r.pulses ? 1e3 * r.spice_s / (double)r.pulses : 0, r.energy_j * 1e12, r.latency_s * 1e6,
           100 * dev_max);
    rc = 0;
done:
    ssp_spice_destroy(&s);
    ssp_pulse_schedule_free(&sched);
    ssp_pulse_destroy(&pp);
    ssp_device_rng_free(&rng);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&m);
    ssp_ctx_destroy(&ctx);
    return rc;
}
