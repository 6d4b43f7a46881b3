/* bench_devices.c — every shipped device model, one nominal device each:
 * the C model's time per programming pulse (odeiv2 through the pulse's
 * pieces), ngspice's time per simulated pulse (one transient of 20 SET and
 * 20 RESET pulses, each followed by a read, on the emitted subcircuit,
 * load and vector copy included) and the largest C-vs-ngspice conductance
 * difference after any pulse, in % of Gmax - Gmin.
 * Last line: BENCH devices models=.. c_ns_per_pulse_max=.. spice_ms_per_pulse_max=..
 * max_dev_pct=.. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ssp_devcurve.h"
#include "ssp_device.h"
#include "ssp_spice.h"

static const char *const files[] = {"vteam",       "vteam32",       "yakopcic", "biolek",
                                    "biolek_fast", "neurosim_agsi", "taox"};
#define NFILES (sizeof files / sizeof files[0])

/* The parameter files: $SSP_BENCH_PARAMS (set by an installed `siamspice
 * bench`), else the source tree this benchmark was built from. */
static const char *params_dir(void)
{
    const char *d = getenv("SSP_BENCH_PARAMS");
    return d && *d ? d : SSP_SOURCE_DIR "/devicemodels/params";
}
enum {
    NPULSE = 40,        /* 20 SET then 20 RESET, as in the agreement test */
    C_ROUNDS = 50,      /* C model: rounds of NPULSE pulses timed */
    SPICE_ROUNDS = 3    /* ngspice: transients timed (the fastest is reported) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_spice *s = NULL;
    ssp_device_work *w = NULL;
    double c_max = 0, sp_max = 0, dev_max = 0;
    int status = 1;
    size_t i;

    if (ssp_ctx_create(&ctx) || ssp_spice_create(&s, ctx, NULL) || ssp_device_work_alloc(&w, ctx)) {
        fprintf(stderr, "bench_devices: %s\n", ssp_ctx_errmsg(ctx));
        goto done;
    }
    printf("%-14s %-11s %14s %18s %12s\n", "file", "model", "c_ns_per_pulse", "spice_ms_per_pulse",
           "max_dev_pct");
    for (i = 0; i < NFILES; i++) {
        char path[512];
        ssp_device_model *m = NULL;
        ssp_device d, dc;
        double amp[NPULSE], width[NPULSE], gc[NPULSE], gs[NPULSE], t0, c_ns, sp_ms = HUGE_VAL;
        double dev = 0, range;
        int k, r;
        snprintf(path, sizeof path, "%s/%s.ini", params_dir(), files[i]);
        if (ssp_device_model_load(&m, ctx, path)) {
            fprintf(stderr, "bench_devices: %s\n", ssp_ctx_errmsg(ctx));
            goto done;
        }
        for (k = 0; k < NPULSE; k++)
            ssp_device_model_pulse(m, k < NPULSE / 2 ? SSP_DEVICE_SET : SSP_DEVICE_RESET, &amp[k],
                                   &width[k]);
        ssp_device_init(&d, m, ssp_device_model_x_init(m));
        /* C model */
        t0 = now_s();
        for (r = 0; r < C_ROUNDS; r++) {
            dc = d;
            if (ssp_devcurve_c(&dc, w, NULL, amp, width, NPULSE, gc, NULL)) {
                fprintf(stderr, "bench_devices: %s\n", ssp_ctx_errmsg(ctx));
                ssp_device_model_free(&m);
                goto done;
            }
        }
        c_ns = 1e9 * (now_s() - t0) / (C_ROUNDS * NPULSE);
        /* ngspice */
        for (r = 0; r < SPICE_ROUNDS; r++) {
            t0 = now_s();
            if (ssp_devcurve_spice(s, &d, ctx, amp, width, NPULSE, gs, NULL)) {
                fprintf(stderr, "bench_devices: %s\n", ssp_ctx_errmsg(ctx));
                ssp_device_model_free(&m);
                goto done;
            }
            sp_ms = fmin(sp_ms, 1e3 * (now_s() - t0) / NPULSE);
        }
        range = ssp_device_model_gmax(m) - ssp_device_model_gmin(m);
        for (k = 0; k < NPULSE; k++) dev = fmax(dev, 100 * fabs(gc[k] - gs[k]) / range);
        printf("%-14s %-11s %14.0f %18.3f %12.4f\n", files[i], ssp_device_model_kind(m), c_ns,
               sp_ms, dev);
        c_max = fmax(c_max, c_ns);
        sp_max = fmax(sp_max, sp_ms);
        dev_max = fmax(dev_max, dev);
        ssp_device_model_free(&m);
    }
    printf("BENCH devices models=%zu c_ns_per_pulse_max=%.0f spice_ms_per_pulse_max=%.3f "
           "max_dev_pct=%.4f\n",
           NFILES, c_max, sp_max, dev_max);
    status = 0;
done:
    ssp_device_work_free(&w);
    ssp_spice_destroy(&s);
    ssp_ctx_destroy(&ctx);
    return status;
}
