/* ssp_device_ops.c — what a device does between pulses: nominal and
 * sampled devices (device-to-device variation, stuck devices), reads and
 * conductances, the state for a conductance, level tables and the random
 * generator. Pulses and the integrator live in ssp_device_integrate.c.
 * No printing, no globals: errors go to the caller's ssp_ctx. */
#include "ssp_device.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device_model.h"

#include "device_expr_c.h"

/* Bisection on the state stops when the bracket is this narrow. */
#define X_BISECT_TOL 1e-14
#define X_BISECT_MAX_ITER 200
/* Device-to-device sampling redraws a device whose Gmin >= Gmax at most this
 * many times before reporting the spread as too large. */
#define SAMPLE_MAX_REDRAWS 64

void ssp_device_init(ssp_device *dev, const ssp_device_model *m, double x0)
{
    const double *p = m->p;
    memset(dev, 0, sizeof *dev);
    dev->model = m;
    memcpy(dev->p, m->p, sizeof dev->p);
    dev->x = SX_LIMIT(x0);
    dev->stuck = SSP_DEVICE_FREE;
}

int ssp_device_sample(ssp_device *dev, ssp_ctx *ctx, const ssp_device_model *m, gsl_rng *rng)
{
    const double *c = m->c;
    double u, s_gmin, s_gmax, gmin, gmax;
    int tries;

    if (!rng) {
        /* "NULL rng means no noise" (ssp_device.h): the nominal device, never stuck */
        ssp_device_init(dev, m, c[C_X_INIT]);
        return SSP_OK;
    }
    for (tries = 0; tries < SAMPLE_MAX_REDRAWS; tries++) {
        ssp_device_init(dev, m, c[C_X_INIT]);
        s_gmin = exp(c[C_D2D_GMIN] * gsl_ran_gaussian_ziggurat(rng, 1.0));
        s_gmax = exp(c[C_D2D_GMAX] * gsl_ran_gaussian_ziggurat(rng, 1.0));
        dev->p[K_kr] = exp(c[C_D2D_RATE] * gsl_ran_gaussian_ziggurat(rng, 1.0));
        m->ops->vary(dev->p, s_gmin, s_gmax);
        if (m->ops->derive) m->ops->derive(dev->p);
        gmin = ssp_device_gmin(dev);
        gmax = ssp_device_gmax(dev);
        if (dev->p[K_x_lo] < dev->p[K_x_hi] && gmin > 0 && gmin < gmax) break;
    }
    if (tries == SAMPLE_MAX_REDRAWS)
        return ssp_error(ctx, SSP_ERANGE,
                         "%s: device-to-device spread too large: %d draws in a row gave "
                         "Gmin >= Gmax",
                         m->origin, SAMPLE_MAX_REDRAWS);
    {
        const double *p = dev->p;
        dev->x = SX_LIMIT(c[C_X_INIT]);
    }
    u = gsl_rng_uniform(rng);
    if (u < c[C_STUCK_ON])
        ssp_device_stick(dev, SSP_DEVICE_STUCK_ON);
    else if (u < c[C_STUCK_ON] + c[C_STUCK_OFF])
        ssp_device_stick(dev, SSP_DEVICE_STUCK_OFF);
    return SSP_OK;
}

void ssp_device_stick(ssp_device *dev, int stuck)
{
    if (stuck != SSP_DEVICE_STUCK_ON && stuck != SSP_DEVICE_STUCK_OFF) return;
    dev->stuck = stuck;
    dev->x = stuck == SSP_DEVICE_STUCK_ON ? dev->p[K_x_hi] : dev->p[K_x_lo];
    dev->p[K_kr] = 0;
}

double ssp_device_current(const ssp_device *dev, double v)
{
    const double *p = dev->p;
    return dev->model->ops->current(p, v, SX_LIMIT(dev->x));
}

double ssp_device_conductance(const ssp_device *dev, double v)
{
    return device_conductance_at(dev->model->ops, dev->p, v, dev->x);
}

double ssp_device_gmin(const ssp_device *dev)
{
    return device_conductance_at(dev->model->ops, dev->p, dev->model->c[C_READ_V], dev->p[K_x_lo]);
}

double ssp_device_gmax(const ssp_device *dev)
{
    return device_conductance_at(dev->model->ops, dev->p, dev->model->c[C_READ_V], dev->p[K_x_hi]);
}

double ssp_device_rate_factor(const ssp_device *dev) { return dev->p[K_kr]; }

int ssp_device_read(const ssp_device *dev, gsl_rng *rng, double *g)
{
    const ssp_device_model *m = dev->model;
    *g = ssp_device_conductance(dev, m->c[C_READ_V]);
    if (rng && m->c[C_READ_NOISE] > 0)
        *g *= 1.0 + m->c[C_READ_NOISE] * gsl_ran_gaussian_ziggurat(rng, 1.0);
    return SSP_OK;
}

void ssp_device_cell_iv(const ssp_device *dev, ssp_cell_iv *out)
{
    const double *p = dev->p;
    memset(out, 0, sizeof *out);
    dev->model->ops->cell_iv(p, SX_LIMIT(dev->x), out);
}

double device_state_for_conductance(const ssp_device *dev, double v, double g)
{
    const struct ssp_device_ops *ops = dev->model->ops;
    double lo = dev->p[K_x_lo], hi = dev->p[K_x_hi];
    int it;
    for (it = 0; it < X_BISECT_MAX_ITER && hi - lo > X_BISECT_TOL; it++) {
        double mid = 0.5 * (lo + hi);
        if (device_conductance_at(ops, dev->p, v, mid) < g)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int ssp_device_set_conductance(ssp_device *dev, ssp_ctx *ctx, double g)
{
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev);
    if (dev->stuck != SSP_DEVICE_FREE)
        return ssp_error(ctx, SSP_ESTATE, "device is stuck at %s", dev->stuck == SSP_DEVICE_STUCK_ON ? "ON" : "OFF");
    if (!(g >= gmin && g <= gmax))
        return ssp_error(ctx, SSP_ERANGE, "conductance %g S outside the device's [%g, %g] S", g,
                         gmin, gmax);
    dev->x = device_state_for_conductance(dev, dev->model->c[C_READ_V], g);
    return SSP_OK;
}

/* ---- level tables ---------------------------------------------------------- */

int ssp_device_levels_alloc(ssp_device_levels **out, ssp_ctx *ctx, const ssp_device *dev,
                            size_t n, double tol)
{
    ssp_device_levels *lv;
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev), step, vr;
    size_t i;
    *out = NULL;
    if (n < 2) return ssp_error(ctx, SSP_EINVAL, "a level table needs at least 2 levels, got %zu", n);
    if (!(tol > 0 && tol <= 1))
        return ssp_error(ctx, SSP_EINVAL, "level tolerance %g must be in (0, 1]", tol);
    lv = calloc(1, sizeof *lv);
    if (!lv) return ssp_error(ctx, SSP_ENOMEM, "out of memory for a level table");
    lv->n = n;
    lv->g = malloc(n * sizeof *lv->g);
    lv->lo = malloc(n * sizeof *lv->lo);
    lv->hi = malloc(n * sizeof *lv->hi);
    lv->x = malloc(n * sizeof *lv->x);
    if (!lv->g || !lv->lo || !lv->hi || !lv->x) {
        ssp_device_levels_free(&lv);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for a level table");
    }
    step = (gmax - gmin) / (double)(n - 1);
    vr = dev->model->c[C_READ_V];
    for (i = 0; i < n; i++) {
        lv->g[i] = i + 1 == n ? gmax : gmin + step * (double)i;
        lv->lo[i] = lv->g[i] - 0.5 * tol * step;
        lv->hi[i] = lv->g[i] + 0.5 * tol * step;
        lv->x[i] = device_state_for_conductance(dev, vr, lv->g[i]);
    }
    *out = lv;
    return SSP_OK;
}

void ssp_device_levels_free(ssp_device_levels **lv)
{
    if (!lv || !*lv) return;
    free((*lv)->g);
    free((*lv)->lo);
    free((*lv)->hi);
    free((*lv)->x);
    free(*lv);
    *lv = NULL;
}

long ssp_device_levels_find(const ssp_device_levels *lv, double g)
{
    for (size_t i = 0; i < lv->n; i++)
        if (g >= lv->lo[i] && g <= lv->hi[i]) return (long)i;
    return -1;
}

/* ---- randomness ------------------------------------------------------------ */

int ssp_device_rng_alloc(gsl_rng **out, ssp_ctx *ctx, unsigned long seed)
{
    gsl_set_error_handler_off(); /* process-wide, see ssp_device.h */
    *out = gsl_rng_alloc(gsl_rng_mt19937);
    if (!*out) return ssp_error(ctx, SSP_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(*out, seed);
    return SSP_OK;
}

void ssp_device_rng_free(gsl_rng **rng)
{
    if (!rng || !*rng) return;
    gsl_rng_free(*rng);
    *rng = NULL;
}
