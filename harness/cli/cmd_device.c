/* cmd_device.c — `siamspice device`: a device model's pulse response curve.
 *
 *   siamspice device --params FILE [--pulses N] [--amplitude V] [--width s] [--spice]
 *
 * Without --amplitude: N SET pulses then N RESET pulses, the model's default
 * pulses (its LTP and LTD curves). With --amplitude: N pulses of that
 * amplitude; --width defaults to the model's SET or RESET width (by the sign
 * of the amplitude). Prints one line per pulse: index, amplitude, width,
 * conductance at the read voltage from the C model and, with --spice, from
 * an ngspice transient of the emitted subcircuit. The device is nominal and
 * noise-free. A thin driver: the work is in ssp_devcurve / ssp_device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_devcurve.h"
#include "ssp_device.h"
#include "ssp_spice.h"

/* Pulses per direction when --pulses is not given. */
#define DEFAULT_PULSES 20
/* Most pulses one command runs (per direction). */
#define MAX_PULSES 100000L

static const char SYNOPSIS[] =
    "usage: siamspice device --params FILE [--pulses N] [--amplitude V] [--width s] [--spice]\n";
static const char ABOUT[] =
    "Print a device model's pulse response: the read conductance after each of N\n"
    "SET pulses and then N RESET pulses (or N pulses of --amplitude), from the C\n"
    "model and, with --spice, from ngspice on the model's emitted subcircuit.\n";
static const char TAIL[] = "Exit status: 0 done, 1 failed, 2 bad usage or input.\n";

int ssp_cmd_device(int argc, char **argv)
{
    const char *params = NULL;
    char found[4096];
    long npulse = DEFAULT_PULSES;
    double amp_opt = 0, width_opt = 0;
    int have_amp = 0, have_width = 0, spice = 0, status = 1, rc;
    ssp_ctx *ctx = NULL;
    ssp_device_model *m = NULL;
    ssp_device_work *w = NULL;
    ssp_spice *s = NULL;
    ssp_device dev, dc;
    double *amp = NULL, *width = NULL, *gc = NULL, *gs = NULL, vr;
    size_t n, k;

    ssp_cmd_opt opts[] = {
        {.name = "--params", .kind = SSP_CMD_STRING, .target = &params, .arg = "FILE",
         .help = "device parameter file (devicemodels/params/*.ini)"},
        {.name = "--pulses", .kind = SSP_CMD_LONG, .target = &npulse, .arg = "N", .lo = 1, .hi = MAX_PULSES,
         .flags = SSP_CMD_RANGE, .help = "pulses per direction (default 20)"},
        {.name = "--amplitude", .kind = SSP_CMD_UNIT, .target = &amp_opt, .arg = "V", .unit = "V",
         .flags = SSP_CMD_NONZERO, .help = "one pulse amplitude instead of the model's SET then RESET pulses"},
        {.name = "--width", .kind = SSP_CMD_UNIT, .target = &width_opt, .arg = "s", .unit = "s", .lo = 0,
         .hi = INFINITY, .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN,
         .help = "pulse width in seconds (SI prefix allowed: 50n, 300u)"},
        {.name = "--spice", .kind = SSP_CMD_FLAG, .target = &spice,
         .help = "also simulate the pulses in ngspice and print its conductance"},
    };
    ssp_cmd_spec spec = {.cmd = "device", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};

    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    have_amp = ssp_cmd_opts_given(&spec, "--amplitude") > 0;
    have_width = ssp_cmd_opts_given(&spec, "--width") > 0;
    if (!params) return ssp_cmd_opts_usage(&spec, "--params is required");
    if (ssp_ctx_create(&ctx) != SSP_OK) {
        fputs("siamspice device: out of memory\n", stderr);
        return 1;
    }
    if ((rc = ssp_cmd_find(ctx, SSP_CMD_PARAMS, params, found, sizeof found)) ||
        (rc = ssp_device_model_load(&m, ctx, found))) {
        fprintf(stderr, "siamspice device: %s\n", ssp_ctx_errmsg(ctx));
        status = 2;
        goto done;
    }
    n = (size_t)npulse * (have_amp ? 1 : 2);
    amp = malloc(n * sizeof *amp);
    width = malloc(n * sizeof *width);
    gc = malloc(n * sizeof *gc);
    gs = malloc(n * sizeof *gs);
    if (!amp || !width || !gc || !gs) {
        fputs("siamspice device: out of memory\n", stderr);
        goto done;
    }
    for (k = 0; k < n; k++) {
        double sa, sw, ra, rw;
        ssp_device_model_pulse(m, SSP_DEVICE_SET, &sa, &sw);
        ssp_device_model_pulse(m, SSP_DEVICE_RESET, &ra, &rw);
        if (have_amp) {
            amp[k] = amp_opt;
            width[k] = have_width ? width_opt : (amp_opt * sa > 0 ? sw : rw);
        } else {
            int set = k < (size_t)npulse;
            amp[k] = set ? sa : ra;
            width[k] = have_width ? width_opt : (set ? sw : rw);
        }
    }
    ssp_device_init(&dev, m, ssp_device_model_x_init(m));
    dc = dev;
    if ((rc = ssp_device_work_alloc(&w, ctx)) ||
        (rc = ssp_devcurve_c(&dc, w, NULL, amp, width, n, gc, NULL)))
        goto failed;
    if (spice) {
        if ((rc = ssp_spice_create(&s, ctx, NULL)) ||
            (rc = ssp_devcurve_spice(s, &dev, ctx, amp, width, n, gs, NULL)))
            goto failed;
    }
    vr = ssp_device_model_read_voltage(m);
    printf("# siamspice device: %s, %s\n# from %s\n", ssp_device_model_name(m),
           ssp_device_model_title(m), ssp_device_model_origin(m));
    printf("# Gmin %.6g S, Gmax %.6g S at the read voltage %.6g V; nominal device, no noise\n",
           ssp_device_model_gmin(m), ssp_device_model_gmax(m), vr);
    printf("# pulse amplitude_V width_s g_c_S%s\n", spice ? " g_spice_S" : "");
    printf("%zu %g %g %.6e%s\n", (size_t)0, 0.0, 0.0, ssp_device_conductance(&dev, vr),
           spice ? " -" : "");
    for (k = 0; k < n; k++) {
        printf("%zu %g %g %.6e", k + 1, amp[k], width[k], gc[k]);
        if (spice) printf(" %.6e", gs[k]);
        putchar('\n');
    }
    status = 0;
    goto done;
failed:
    fprintf(stderr, "siamspice device: %s\n", ssp_ctx_errmsg(ctx));
    status = rc == SSP_EINVAL ? 2 : 1;
done:
    ssp_spice_destroy(&s);
    ssp_device_work_free(&w);
    ssp_device_model_free(&m);
    free(amp);
    free(width);
    free(gc);
    free(gs);
    ssp_ctx_destroy(&ctx);
    return status;
}
