/* ssp_device_integrate.c — a device under a drive: the odeiv2 state
 * integrator, trapezoidal pulses integrated corner to corner, cycle-to-cycle
 * noise, read disturb, the dead-band test and the model inverse (pulses
 * between two conductances). No printing, no globals: errors go to the
 * caller's ssp_ctx (or the workspace's). */
#include "ssp_device.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "device_model.h"

#include "device_expr_c.h"

/* Integrator tolerances (state units; the state spans about 1). */
#define ODE_EPS_ABS 1e-9
#define ODE_EPS_REL 1e-7
/* Initial step as a fraction of the segment being integrated. */
#define ODE_FIRST_STEP_FRACTION 0.125
/* Steps allowed per integrated segment before giving up. */
#define ODE_MAX_STEPS 200000L
/* The model inverse by stepping gives up after this many pulses, or when one
 * pulse moves the state by less than this fraction of the window. */
#define INVERSE_MAX_PULSES 100000L
#define INVERSE_STALL 1e-12

struct ssp_device_work {
    gsl_odeiv2_step *step;        /* rkf45 stepper */
    gsl_odeiv2_control *control;  /* y_new(ODE_EPS_ABS, ODE_EPS_REL) */
    gsl_odeiv2_evolve *evolve;
    ssp_ctx *ctx;                 /* where integration errors are reported; not owned */
};

int ssp_device_work_alloc(ssp_device_work **out, ssp_ctx *ctx)
{
    ssp_device_work *w = calloc(1, sizeof *w);
    *out = NULL;
    gsl_set_error_handler_off(); /* process-wide: GSL returns codes instead of aborting */
    if (!w) return ssp_error(ctx, SSP_ENOMEM, "out of memory for the device integrator");
    w->ctx = ctx;
    w->step = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rkf45, 1);
    w->control = gsl_odeiv2_control_y_new(ODE_EPS_ABS, ODE_EPS_REL);
    w->evolve = gsl_odeiv2_evolve_alloc(1);
    if (!w->step || !w->control || !w->evolve) {
        ssp_device_work_free(&w);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for the device integrator");
    }
    *out = w;
    return SSP_OK;
}

void ssp_device_work_free(ssp_device_work **w)
{
    if (!w || !*w) return;
    if ((*w)->evolve) gsl_odeiv2_evolve_free((*w)->evolve);
    if ((*w)->control) gsl_odeiv2_control_free((*w)->control);
    if ((*w)->step) gsl_odeiv2_step_free((*w)->step);
    free(*w);
    *w = NULL;
}

struct ode_arg {
    const ssp_device *dev;
    ssp_device_wave_fn wave;
    void *payload;
};

static int ode_rhs(double t, const double y[], double dydt[], void *params)
{
    const struct ode_arg *a = params;
    const double *p = a->dev->p;
    double v = a->wave(t, a->payload), r;
    if (!isfinite(v) || !isfinite(y[0])) return GSL_EBADFUNC; /* a broken drive */
    r = a->dev->model->ops->rate(p, v, SX_LIMIT(y[0]));
    dydt[0] = SX_GATE(r, y[0]);
    return isfinite(dydt[0]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

int ssp_device_evolve(ssp_device *dev, ssp_device_work *w, ssp_device_wave_fn wave,
                      void *payload, double t0, double t1)
{
    struct ode_arg a = {dev, wave, payload};
    gsl_odeiv2_system sys = {ode_rhs, NULL, 1, &a};
    const double *p = dev->p;
    double t = t0, h = (t1 - t0) * ODE_FIRST_STEP_FRACTION, y = dev->x;
    long steps = 0;
    int rc;

    if (!(t1 > t0)) return t1 == t0 ? SSP_OK : ssp_error(w->ctx, SSP_EINVAL, "evolve: t1 < t0");
    if (dev->p[K_kr] == 0) return SSP_OK; /* stuck or frozen: nothing moves */
    gsl_odeiv2_evolve_reset(w->evolve);
    gsl_odeiv2_step_reset(w->step);
    while (t < t1) {
        if (++steps > ODE_MAX_STEPS)
            return ssp_error(w->ctx, SSP_ECONVERGE,
                             "%s: state integration needed more than %ld steps (t = %g s of "
                             "[%g, %g])",
                             dev->model->origin, ODE_MAX_STEPS, t, t0, t1);
        rc = gsl_odeiv2_evolve_apply(w->evolve, w->control, w->step, &sys, &t, t1, &h, &y);
        if (rc != GSL_SUCCESS)
            return ssp_error(w->ctx, SSP_ECONVERGE, "%s: state integration failed at t = %g s: %s",
                             dev->model->origin, t, gsl_strerror(rc));
    }
    dev->x = SX_LIMIT(y);
    return SSP_OK;
}

int ssp_device_pulse_corners(const ssp_device *dev, double t0, double amplitude, double width,
                             double *t, double *v, size_t *n)
{
    double th[SSP_DEVICE_NTHRESH], f[SSP_DEVICE_NTHRESH], e = dev->model->c[C_EDGE];
    size_t nth = dev->model->ops->thresholds(dev->p, th), nf = 0, i, j, k = 0;

    /* crossing fractions along an edge, ascending and distinct */
    for (i = 0; i < nth; i++) {
        double fi = th[i] / amplitude;
        if (!(fi > 0 && fi < 1)) continue;
        for (j = nf; j > 0 && f[j - 1] > fi; j--) f[j] = f[j - 1];
        f[j] = fi;
        nf++;
        if (j > 0 && f[j - 1] == fi) { /* duplicate: undo */
            for (; j + 1 < nf; j++) f[j] = f[j + 1];
            nf--;
        }
    }
    t[k] = t0, v[k++] = 0;
    for (i = 0; i < nf; i++) t[k] = t0 + f[i] * e, v[k++] = f[i] * amplitude;
    t[k] = t0 + e, v[k++] = amplitude;
    t[k] = t0 + e + width, v[k++] = amplitude;
    for (i = nf; i-- > 0;) t[k] = t0 + e + width + (1.0 - f[i]) * e, v[k++] = f[i] * amplitude;
    t[k] = t0 + 2 * e + width, v[k++] = 0;
    *n = k;
    return SSP_OK;
}

/* A piecewise-linear waveform (the corners of one pulse). */
struct pwl {
    const double *t, *v;
    size_t n;
};

static double pwl_wave(double t, void *payload)
{
    const struct pwl *w = payload;
    size_t i;
    if (t <= w->t[0]) return w->v[0];
    for (i = 1; i < w->n; i++)
        if (t <= w->t[i]) {
            double dt = w->t[i] - w->t[i - 1];
            return dt > 0 ? w->v[i - 1] + (w->v[i] - w->v[i - 1]) * (t - w->t[i - 1]) / dt
                          : w->v[i];
        }
    return w->v[w->n - 1];
}

/* Integrate one trapezoidal pulse piece by piece between its corners, so
 * the integrator never steps across a kink of the waveform or a threshold. */
static int run_trapezoid(ssp_device *dev, ssp_device_work *w, double amp, double width)
{
    double t[SSP_DEVICE_PULSE_CORNERS], v[SSP_DEVICE_PULSE_CORNERS];
    struct pwl z = {t, v, 0};
    size_t i;
    int rc;
    ssp_device_pulse_corners(dev, 0.0, amp, width, t, v, &z.n);
    for (i = 1; i < z.n; i++)
        if ((rc = ssp_device_evolve(dev, w, pwl_wave, &z, t[i - 1], t[i]))) return rc;
    return SSP_OK;
}

int ssp_device_pulse(ssp_device *dev, ssp_device_work *w, gsl_rng *rng, double amplitude,
                     double width)
{
    const ssp_device_model *m = dev->model;
    const double *p = dev->p;
    double x0 = dev->x, dx;
    int rc;
    if (!(width > 0)) return ssp_error(w->ctx, SSP_EINVAL, "pulse width %g s is not > 0", width);
    if (dev->stuck != SSP_DEVICE_FREE) return SSP_OK;
    if ((rc = run_trapezoid(dev, w, amplitude, width))) return rc;
    dx = dev->x - x0;
    if (rng && dx != 0) {
        if (m->c[C_C2C_STEP] > 0) dx *= 1.0 + m->c[C_C2C_STEP] * gsl_ran_gaussian_ziggurat(rng, 1.0);
        if (m->c[C_C2C_RANGE] > 0)
            dx += m->c[C_C2C_RANGE] * (p[K_x_hi] - p[K_x_lo]) * gsl_ran_gaussian_ziggurat(rng, 1.0);
        dev->x = SX_LIMIT(x0 + dx);
    }
    return SSP_OK;
}

int ssp_device_inert_band(const ssp_device *dev, double *lo, double *hi)
{
    *lo = *hi = 0;
    if (dev->stuck != SSP_DEVICE_FREE || dev->p[K_kr] == 0) return SSP_DEVICE_INERT_ALWAYS;
    if (!dev->model->ops->dead_band) return SSP_DEVICE_INERT_NEVER;
    dev->model->ops->dead_band(dev->p, lo, hi);
    /* the trapezoid's voltages run from 0 to the amplitude: inside the band
     * when 0 and the amplitude are */
    return *lo <= 0 && *hi >= 0 ? SSP_DEVICE_INERT_BAND : SSP_DEVICE_INERT_NEVER;
}

int ssp_device_pulse_inert(const ssp_device *dev, double amplitude)
{
    double lo, hi;
    int kind = ssp_device_inert_band(dev, &lo, &hi);
    if (kind == SSP_DEVICE_INERT_ALWAYS) return 1;
    return kind == SSP_DEVICE_INERT_BAND && isfinite(amplitude) && amplitude >= lo && amplitude <= hi;
}

int ssp_device_read_disturb(ssp_device *dev, ssp_device_work *w, long n)
{
    const ssp_device_model *m = dev->model;
    double half = 0.5 * m->c[C_READ_W];
    int rc;
    for (long i = 0; i < n; i++) {
        if ((rc = run_trapezoid(dev, w, m->c[C_READ_V], half))) return rc;
        if ((rc = run_trapezoid(dev, w, -m->c[C_READ_V], half))) return rc;
    }
    return SSP_OK;
}

/* ---- the model inverse ---------------------------------------------------- */

int ssp_device_pulses_between(const ssp_device *dev, ssp_device_work *w, ssp_ctx *ctx,
                              double g_from, double g_to, double amplitude, double width,
                              double *n)
{
    const ssp_device_model *m = dev->model;
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev), vr = m->c[C_READ_V];
    double g_prev, g, x_prev;
    ssp_device d = *dev;
    long k;
    int rc, up = g_to > g_from;

    *n = 0;
    if (!(g_from >= gmin && g_from <= gmax && g_to >= gmin && g_to <= gmax))
        return ssp_error(ctx, SSP_ERANGE,
                         "pulses from %g S to %g S: outside the device's [%g, %g] S", g_from, g_to,
                         gmin, gmax);
    if (g_from == g_to) return SSP_OK;
    if (dev->p[K_kr] == 0 || dev->stuck != SSP_DEVICE_FREE)
        return ssp_error(ctx, SSP_EUNREACHABLE, "the device is stuck or does not switch");
    d.x = device_state_for_conductance(&d, vr, g_from);
    if (m->ops->pulses) {
        double xb = device_state_for_conductance(&d, vr, g_to);
        if (m->ops->pulses(d.p, d.x, xb, amplitude, width, m->c[C_EDGE], n) || !(*n > 0))
            return ssp_error(ctx, SSP_EUNREACHABLE,
                             "a %g V x %g s pulse does not move the device from %g S to %g S",
                             amplitude, width, g_from, g_to);
        *n /= d.p[K_kr];
        return SSP_OK;
    }
    g_prev = g_from;
    for (k = 1; k <= INVERSE_MAX_PULSES; k++) {
        x_prev = d.x;
        if ((rc = run_trapezoid(&d, w, amplitude, width))) {
            if (ctx && ctx != w->ctx) ssp_error(ctx, rc, "%s", ssp_ctx_errmsg(w->ctx));
            return rc;
        }
        g = ssp_device_conductance(&d, vr);
        if ((up && g >= g_to) || (!up && g <= g_to)) {
            *n = (double)(k - 1) + (g_to - g_prev) / (g - g_prev);
            return SSP_OK;
        }
        if ((up && !(g > g_prev)) || (!up && !(g < g_prev)) ||
            fabs(d.x - x_prev) < INVERSE_STALL * (d.p[K_x_hi] - d.p[K_x_lo]))
            return ssp_error(ctx, SSP_EUNREACHABLE,
                             "a %g V x %g s pulse stops moving the device at %g S after %ld "
                             "pulses (target %g S)",
                             amplitude, width, g, k, g_to);
        g_prev = g;
    }
    return ssp_error(ctx, SSP_EUNREACHABLE, "more than %ld pulses from %g S to %g S",
                     INVERSE_MAX_PULSES, g_from, g_to);
}
