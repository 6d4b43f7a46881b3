/* ssp_devcurve.c — one device's pulse response from the C model and from
 * ngspice (see ssp_devcurve.h). It builds text and reads vectors; it holds
 * no state and prints nothing. */
#include "ssp_devcurve.h"

#include "ssp_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The transient's largest step, as a fraction of the shortest pulse. The
 * threshold corners of the PWL source carry the accuracy; this only keeps
 * the flat tops from being crossed in one step. */
#define TMAX_FRACTION_OF_PULSE 0.1
/* Quiet time between a pulse and the next read, in pulse edge times. */
#define GAP_EDGES 2.0

int ssp_devcurve_c(ssp_device *dev, ssp_device_work *w, gsl_rng *rng, const double *amp,
                   const double *width, size_t n, double *g, double *x)
{
    double vr = ssp_device_model_read_voltage(dev->model);
    int rc;
    for (size_t k = 0; k < n; k++) {
        if ((rc = ssp_device_pulse(dev, w, rng, amp[k], width[k]))) return rc;
        if (g) g[k] = ssp_device_conductance(dev, vr);
        if (x) x[k] = dev->x;
    }
    return SSP_OK;
}

/* Append PWL corners, skipping a corner that repeats the previous time. */
static void add_corners(ssp_text *t, double *last_t, const double *ct, const double *cv,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ct[i] <= *last_t) continue;
        ssp_text_printf(t, "+ %.17g %.17g\n", ct[i], cv[i]);
        *last_t = ct[i];
    }
}

int ssp_devcurve_netlist(const ssp_device *dev, ssp_ctx *ctx, const double *amp,
                         const double *width, size_t n, char **text, double *tstop,
                         double *tmax, double *t_read)
{
    const ssp_device_model *m = dev->model;
    double e = ssp_device_model_edge(m), vr = ssp_device_model_read_voltage(m);
    double wr = ssp_device_model_read_width(m), gap = GAP_EDGES * e;
    double ct[SSP_DEVICE_PULSE_CORNERS], cv[SSP_DEVICE_PULSE_CORNERS];
    double t = 0, last_t = -1, wmin = HUGE_VAL;
    ssp_text tx = {0};
    size_t len = 0, nc, k;
    char *sub = NULL, *inst = NULL;
    int rc;

    *text = NULL;
    if (n == 0) return ssp_error(ctx, SSP_EINVAL, "a pulse response needs at least one pulse");
    /* the subcircuit and the instance, sized first */
    if ((rc = ssp_device_spice_subckt(m, ctx, NULL, 0, &len)) != SSP_ERANGE && rc) return rc;
    if (!(sub = malloc(len + 1))) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    if ((rc = ssp_device_spice_subckt(m, ctx, sub, len + 1, &len))) goto done;
    if ((rc = ssp_device_spice_instance(dev, ctx, "dut", "a", "0", "s1", NULL, 0, &len)) !=
            SSP_ERANGE &&
        rc)
        goto done;
    if (!(inst = malloc(len + 1))) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = ssp_device_spice_instance(dev, ctx, "dut", "a", "0", "s1", inst, len + 1, &len)))
        goto done;

    ssp_text_printf(&tx, "* siamspice device pulse response: %s\n", ssp_device_model_name(m));
    ssp_text_printf(&tx, "%s", sub);
    ssp_text_printf(&tx, "vp a 0 pwl(\n");
    for (k = 0; k < n; k++) {
        if (!(width[k] > 0)) {
            rc = ssp_error(ctx, SSP_EINVAL, "pulse %zu: width %g s is not > 0", k, width[k]);
            goto done;
        }
        if (width[k] < wmin) wmin = width[k];
        ssp_device_pulse_corners(dev, t, amp[k], width[k], ct, cv, &nc);
        add_corners(&tx, &last_t, ct, cv, nc);
        t = ct[nc - 1] + gap;
        /* the read: 0 -> vr in one edge, flat for the read width, back */
        ct[0] = t, cv[0] = 0;
        ct[1] = t + e, cv[1] = vr;
        ct[2] = t + e + wr, cv[2] = vr;
        ct[3] = t + 2 * e + wr, cv[3] = 0;
        add_corners(&tx, &last_t, ct, cv, 4);
        t_read[k] = t + e + 0.5 * wr;
        t = ct[3] + gap;
    }
    ssp_text_printf(&tx, "+ )\n%s.end\n", inst);
    if ((rc = ssp_text_check(&tx, ctx, "the pulse-response netlist"))) goto done;
    *tstop = t;
    *tmax = TMAX_FRACTION_OF_PULSE * wmin;
    *text = ssp_text_take(&tx);
done:
    ssp_text_free(&tx);
    free(sub);
    free(inst);
    return rc;
}

int ssp_devcurve_tran(ssp_spice *s, ssp_ctx *ctx, double tmax, double tstop)
{
    (void)ctx; /* the session sets the message in its own context */
    return ssp_spice_tran(s, tmax, tstop, tmax, 1);
}

int ssp_devcurve_spice(ssp_spice *s, const ssp_device *dev, ssp_ctx *ctx, const double *amp,
                       const double *width, size_t n, double *g, double *x)
{
    double tstop, tmax, *t_read = NULL, *time = NULL, *va = NULL, *ia = NULL, *xs = NULL;
    double half = 0.5 * ssp_device_model_read_width(dev->model);
    size_t nt = 0, nv, k;
    char *text = NULL;
    int rc;

    if (!(t_read = malloc(n * sizeof *t_read)))
        return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    if ((rc = ssp_devcurve_netlist(dev, ctx, amp, width, n, &text, &tstop, &tmax, t_read)))
        goto done;
    if ((rc = ssp_spice_load_text(s, text))) goto done;
    if ((rc = ssp_devcurve_tran(s, ctx, tmax, tstop))) goto done;
    if ((rc = ssp_spice_vec(s, "time", &time, &nt))) goto done;
    if ((rc = ssp_spice_vec(s, "v(a)", &va, &nv)) || nv != nt) goto vec_done;
    if ((rc = ssp_spice_vec(s, "i(vp)", &ia, &nv)) || nv != nt) goto vec_done;
    if ((rc = ssp_spice_vec(s, "v(s1)", &xs, &nv)) || nv != nt) goto vec_done;
    for (k = 0; k < n; k++) {
        size_t i = ssp_spice_time_nearest(time, nt, t_read[k]);
        if (fabs(time[i] - t_read[k]) > half) {
            rc = ssp_error(ctx, SSP_ENOVEC, "no ngspice time point inside read %zu (t = %g s)",
                           k, t_read[k]);
            goto done;
        }
        if (g) g[k] = -ia[i] / va[i]; /* ngspice's source current flows into its + node */
        if (x) x[k] = xs[i];
    }
vec_done:
    if (rc == SSP_OK && nv != nt)
        rc = ssp_error(ctx, SSP_ENOVEC, "ngspice vectors of different lengths (%zu, %zu)", nv, nt);
done:
    ssp_spice_unload(s);
    free(t_read);
    free(text);
    free(time);
    free(va);
    free(ia);
    free(xs);
    return rc;
}
