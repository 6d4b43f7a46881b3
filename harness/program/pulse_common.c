/* pulse_common.c — internal to the pulse scheduler: what both executors of
 * a plan (the C model in ssp_pulse.c, ngspice in ssp_pulse_spice.c) and the
 * exporter share: the bias voltages of unselected
 * lines, the line voltages of a group, a pulse's analytic energy and the
 * PWL corners of a plan. It calls nothing else of the module, so the files
 * of the module depend one way: ssp_pulse.c -> ssp_pulse_spice.c ->
 * ssp_pulse_wave.c / pulse_wires.c / pulse_common.c. It keeps no state and
 * prints nothing. */
#include "pulse_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- voltages and energy ---------------------------------------------------------- */

void pulse_bias(int bias, double a, double *ur, double *uc)
{
    switch (bias) {
    case SSP_PULSE_V3: /* cells off the selected lines see -a/3, half-selected a/3 */
        *ur = a / 3.0;
        *uc = 2.0 * a / 3.0;
        break;
    case SSP_PULSE_FULL: /* broken on purpose: every unselected row at a, columns at 0 */
        *ur = a;
        *uc = 0;
        break;
    default: /* V/2 */
        *ur = a / 2.0;
        *uc = a / 2.0;
    }
}

void pulse_line_voltages(const ssp_pulse *pp, const pgroup *g, double *vr, double *vc)
{
    double ur, uc;
    size_t i, k;
    pulse_bias(pp->p.bias, g->amp, &ur, &uc);
    for (i = 0; i < pp->rows; i++) vr[i] = ur;
    for (i = 0; i < pp->cols; i++) vc[i] = uc;
    for (k = 0; k < g->n; k++) {
        size_t c = pp->gcell[g->first + k];
        vr[c / pp->cols] = g->amp;
        vc[c % pp->cols] = 0;
    }
}

/* Simpson weights over the edge (5 points). */
static const double SIMPSON5[5] = {1.0 / 12, 4.0 / 12, 2.0 / 12, 4.0 / 12, 1.0 / 12};

double pulse_energy_analytic(const ssp_device *dev, double v, double d, double w, double e, double x0,
                             double x1, double *ewire)
{
    ssp_device s = *dev;
    double i0, i1, flat, ramp = 0, wramp = 0;
    s.x = x0;
    i0 = ssp_device_current(&s, v);
    s.x = x1;
    i1 = ssp_device_current(&s, v);
    flat = 0.5 * (v * i0 + v * i1) * w;
    /* rising edge at x0, falling edge at x1 */
    for (int k = 0; k < 5; k++) {
        double u = v * (double)k / 4.0, ud = d * (double)k / 4.0, ia, ib;
        s.x = x0;
        ia = ssp_device_current(&s, u);
        s.x = x1;
        ib = ssp_device_current(&s, u);
        ramp += SIMPSON5[k] * u * ia;
        ramp += SIMPSON5[k] * u * ib;
        wramp += SIMPSON5[k] * (ud - u) * (ia + ib);
    }
    if (ewire) *ewire = v == d ? 0 : 0.5 * (d - v) * (i0 + i1) * w + wramp * e;
    return flat + ramp * e;
}

double pulse_energy_fixed(const ssp_device *dev, double v, double d, double w, double e, double *ewire)
{
    double i = ssp_device_current(dev, v), flat = v * i * w, ramp = 0, wramp = 0;
    for (int k = 0; k < 5; k++) {
        double u = v * (double)k / 4.0, ud = d * (double)k / 4.0, ik = ssp_device_current(dev, u);
        ramp += SIMPSON5[k] * u * ik;
        wramp += SIMPSON5[k] * (ud - u) * ik;
    }
    if (ewire) *ewire = v == d ? 0 : (d - v) * i * w + 2 * wramp * e;
    return flat + 2 * ramp * e;
}

/* ---- PWL corners ------------------------------------------------------------------ */

static int cmp_corner(const void *a, const void *b)
{
    double x = ((const corner *)a)->t, y = ((const corner *)b)->t;
    return x < y ? -1 : x > y;
}

static double trapezoid(double t, double t0, double e, double w)
{
    if (t <= t0 || t >= t0 + 2 * e + w) return 0;
    if (t < t0 + e) return (t - t0) / e;
    if (t <= t0 + e + w) return 1;
    return (t0 + 2 * e + w - t) / e;
}

/* The half-select fractions whose threshold crossings get corners. */
static size_t bias_fractions(int bias, double *f)
{
    f[0] = 1;
    if (bias == SSP_PULSE_V2) {
        f[1] = 0.5;
        return 2;
    }
    if (bias == SSP_PULSE_V3) {
        f[1] = 1.0 / 3.0;
        f[2] = -1.0 / 3.0;
        return 3;
    }
    return 1;
}

int pulse_corners(ssp_ctx *ctx, const ssp_device *ref, int bias, double edge, const pgroup *grp,
                  size_t ngrp, corner **out, size_t *nout)
{
    double ct[SSP_DEVICE_PULSE_CORNERS], cv[SSP_DEVICE_PULSE_CORNERS], f[3];
    size_t nf = bias_fractions(bias, f), cap = 1 + ngrp * nf * SSP_DEVICE_PULSE_CORNERS;
    size_t n = 0, m, k;
    corner *c = malloc(cap * sizeof *c);
    int rc;
    if (!c) return ssp_error(ctx, SSP_ENOMEM, "out of memory for PWL corners");
    c[n++] = (corner){0, -1, 0};
    for (size_t g = 0; g < ngrp; g++) {
        const pgroup *gr = &grp[g];
        for (size_t q = 0; q < nf; q++) {
            if ((rc = ssp_device_pulse_corners(ref, gr->t0, gr->amp * f[q], gr->width, ct, cv, &m))) {
                free(c);
                return rc;
            }
            for (k = 0; k < m; k++) {
                double s = trapezoid(ct[k], gr->t0, edge, gr->width);
                c[n++] = (corner){ct[k], s > 0 ? (long)g : -1, s};
            }
        }
    }
    qsort(c, n, sizeof *c, cmp_corner);
    for (m = 0, k = 0; k < n; k++) {
        if (m > 0 && c[k].t <= c[m - 1].t) {
            if (c[k].g >= 0) c[m - 1] = c[k];
            continue;
        }
        c[m++] = c[k];
    }
    *out = c;
    *nout = m;
    return SSP_OK;
}
