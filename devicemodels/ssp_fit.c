/* ssp_fit.c — nonlinear least-squares fit of a compact model to measured
 * pulse data (see ssp_fit.h for the method and its contract).
 *
 * What is fitted for each model kind, what stays fixed and where the start
 * comes from is in one table of setup functions below (setup_*); the rest
 * is model-independent: it reaches the equations through the model's
 * parameter table (device_impl.h) and the public device functions. It runs
 * no simulator, prints nothing and keeps no globals. */
#include "ssp_fit.h"

#include "ssp_text.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_impl.h"
#include "ssp_units.h"

/* Residuals the fit needs per free parameter. */
#define MIN_POINTS_PER_PARAM 5
/* Trust-region stopping tests (gsl_multifit_nlinear_driver): relative step
 * in the transformed parameters, gradient and cost. Looser than GSL's
 * examples because the model is an ODE integrated to ~1e-7 relative. */
#define FIT_XTOL 1e-7
#define FIT_GTOL 1e-7
#define FIT_FTOL 1e-10
#define FIT_DEFAULT_MAX_ITER 200
/* Forward-difference step in the transformed (log / logit) coordinates:
 * 1e-4 moves a parameter by 0.01 %, far above the integrator's noise. */
#define FD_STEP_U 1e-4
/* Residual (in units of the data's range) given to every pulse when a
 * trial point is not a valid model: the trust region rejects such a step. */
#define INVALID_RESIDUAL 10.0
/* Perturbation of the random starts, in transformed units (log: a factor
 * of e^0.7 = 2; logit: most of the interval). */
#define START_SIGMA_LOG 0.7
#define START_SIGMA_LOGIT 1.5
/* Share of the range below which a raising pulse's step counts for the
 * start's pulse count (the top is saturated). */
#define START_LOWER_SHARE 0.8
/* Pulse count of a curve: pulses from one end until this share of the range. */
#define NL_REACH 0.99
/* Most pulses the nonlinearity measurement applies. */
#define NL_MAX_PULSES 20000
/* NeuroSim's label scale: largest vertical deviation from the diagonal =
 * NL * 0.07 sqrt(2) (see ssp_pulselevel.c). */
#define NL_DEVIATION_PER_LABEL (0.07 * 1.4142135623730951)
/* Residuals within this share of the window of a bound are not used for
 * the cycle-to-cycle estimate (the state is clamped there), nor within
 * this many first-pass sigmas. */
#define C2C_MIN_BAND 0.01
#define C2C_BAND_SIGMAS 2.0
/* Standard errors by which the lag-1 covariance of the residuals must be
 * negative before it is read as read noise. */
#define READ_SIGNIFICANCE 3.0
/* Confidence level of the reported intervals. */
#define CI_LEVEL 0.95
/* Columns of J^T J dropped as linearly dependent (gsl_multifit_nlinear_covar). */
#define COVAR_EPSREL 1e-12
/* Share of the smallest amplitude used as the default read voltage, share
 * of the shortest width used as the default edge, amplitude share placed
 * at the switching thresholds. */
#define READ_SHARE_OF_AMPLITUDE 0.2
#define EDGE_SHARE_OF_WIDTH 0.02
#define THRESHOLD_SHARE 0.5
/* Relative difference under which two amplitudes are the same. */
#define SAME_AMPLITUDE 1e-6

/* ---- parameters and their transforms ------------------------------------- */

enum tr {
    TR_LOG,    /* theta = e^u (> 0) */
    TR_NEGLOG, /* theta = -e^u (< 0) */
    TR_LOGIT,  /* theta = lo + (hi - lo) / (1 + e^-u), in (lo, hi) */
    TR_LOGLOG, /* theta = exp(ln lo + (ln hi - ln lo) / (1 + e^-u)), in (lo, hi) > 0 */
    TR_RATIO   /* theta = theta_ref (1 + e^u) (> theta_ref) */
};

struct fpar {
    size_t slot;     /* index in the model's parameter vector */
    int tr;          /* enum tr */
    double lo, hi;   /* TR_LOGIT / TR_LOGLOG bounds */
    int ref;         /* TR_RATIO: index of the reference in the free list */
    char note[64];   /* shown in the report */
};

enum { PR_READ_V, PR_READ_W, PR_SET_V, PR_SET_W, PR_RESET_V, PR_RESET_W, PR_EDGE, PR_X_INIT, PR_N };
static const char *const prog_key[PR_N] = {"read_voltage", "read_width", "set_amplitude",
                                           "set_width", "reset_amplitude", "reset_width",
                                           "pulse_edge", "x_init"};

/* What the data say before any fit. */
struct summary {
    double glo, ghi, range, gmean;
    double a_up, w_up, a_down, w_down; /* median |amplitude| (V) and width (s) per direction */
    double n_up, n_down;               /* pulses across the range, estimated */
    double amin, wmin;                 /* smallest |amplitude| and width */
    size_t namp_up, namp_down;         /* distinct amplitudes per direction */
    double vr, edge;                   /* read voltage and edge chosen */
    int up_sign;                       /* sign of the amplitudes that raise G in the model */
};

/* One fit problem: a model kind with its free parameters and start. */
struct spec {
    const struct ssp_device_ops *ops;
    double p[SSP_DEVICE_NPARAM_MAX]; /* every parameter, start values */
    double prog[PR_N];               /* [programming] values */
    size_t nfree;
    struct fpar f[SSP_FIT_MAX_FREE];
    char option[48];                 /* the discrete option of this spec */
    char fixed[256];                 /* what was held fixed, for the file header */
    long a2_slot;                    /* yakopcic: a2 follows a1 (-1: none) */
    long a1_slot;
    long t_ltp_slot, t_ltd_slot;     /* pulselevel: scaled when n is rounded */
};

static size_t slot_of(const struct ssp_device_ops *ops, const char *key)
{
    for (size_t i = 0; i < ops->npar; i++)
        if (strcmp(ops->par[i].key, key) == 0) return i;
    return (size_t)-1; /* a setup names a key its own model lacks: a bug, caught by the tests */
}

static void add_free(struct spec *s, const char *key, int tr, double lo, double hi,
                     const char *ref, const char *note)
{
    struct fpar *f = &s->f[s->nfree];
    memset(f, 0, sizeof *f);
    f->slot = slot_of(s->ops, key);
    f->tr = tr;
    f->lo = lo;
    f->hi = hi;
    f->ref = -1;
    if (ref)
        for (size_t i = 0; i < s->nfree; i++)
            if (strcmp(s->ops->par[s->f[i].slot].key, ref) == 0) f->ref = (int)i;
    snprintf(f->note, sizeof f->note, "%s", note ? note : "");
    s->nfree++;
}

static double sigmoid(double u) { return 1.0 / (1.0 + exp(-u)); }

/* theta_j from u (the reference of a ratio must come earlier). */
static double to_theta(const struct spec *s, const double *u, const double *theta, size_t j)
{
    const struct fpar *f = &s->f[j];
    switch (f->tr) {
    case TR_LOG: return exp(u[j]);
    case TR_NEGLOG: return -exp(u[j]);
    case TR_LOGIT: return f->lo + (f->hi - f->lo) * sigmoid(u[j]);
    case TR_LOGLOG: return exp(log(f->lo) + (log(f->hi) - log(f->lo)) * sigmoid(u[j]));
    default: return theta[f->ref] * (1.0 + exp(u[j]));
    }
}

static void all_theta(const struct spec *s, const double *u, double *theta)
{
    for (size_t j = 0; j < s->nfree; j++) theta[j] = to_theta(s, u, theta, j);
}

/* u_j from theta (start values); theta must lie inside the transform's range. */
static double to_u(const struct spec *s, const double *theta, size_t j)
{
    const struct fpar *f = &s->f[j];
    double t = theta[j], q;
    switch (f->tr) {
    case TR_LOG: return log(t);
    case TR_NEGLOG: return log(-t);
    case TR_LOGIT:
        q = (t - f->lo) / (f->hi - f->lo);
        return log(q / (1.0 - q));
    case TR_LOGLOG:
        q = (log(t) - log(f->lo)) / (log(f->hi) - log(f->lo));
        return log(q / (1.0 - q));
    default: return log(t / theta[f->ref] - 1.0);
    }
}

/* Keep a start value strictly inside its transform's range. */
static double inside(double v, double lo, double hi)
{
    double m = 1e-3 * (hi - lo);
    return fmin(fmax(v, lo + m), hi - m);
}

/* ---- the data summary ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static size_t distinct(double *v, size_t n)
{
    size_t k = n ? 1 : 0;
    qsort(v, n, sizeof *v, cmp_double);
    for (size_t i = 1; i < n; i++)
        if (v[i] - v[i - 1] > SAME_AMPLITUDE * fabs(v[i])) k++;
    return k;
}

static int is_pulse(const ssp_fit_data *d, size_t i) { return d->pulse[i] > 0 && d->prev[i] >= 0; }

static int summarize(struct summary *sm, ssp_ctx *ctx, const ssp_fit_data *d,
                     const ssp_fit_options *o, int up_sign)
{
    double *a = malloc(4 * d->n * sizeof *a), *wu, *ad, *wd, sum_up = 0, sum_down = 0;
    double mean_up[2] = {0, 0}, mean_down[2] = {0, 0};
    size_t nu = 0, nd = 0, nsu = 0, nsd = 0, i;
    int rc = SSP_OK;

    memset(sm, 0, sizeof *sm);
    if (!a) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    wu = a + d->n;
    ad = wu + d->n;
    wd = ad + d->n;
    sm->up_sign = up_sign;
    sm->glo = HUGE_VAL;
    sm->ghi = -HUGE_VAL;
    sm->amin = HUGE_VAL;
    sm->wmin = HUGE_VAL;
    for (i = 0; i < d->n; i++) {
        sm->glo = fmin(sm->glo, d->g[i]);
        sm->ghi = fmax(sm->ghi, d->g[i]);
        sm->gmean += d->g[i] / (double)d->n;
    }
    sm->range = sm->ghi - sm->glo;
    for (i = 0; i < d->n; i++) {
        double dg, low;
        if (d->pulse[i] == 0) continue;
        sm->amin = fmin(sm->amin, fabs(d->amp[i]));
        sm->wmin = fmin(sm->wmin, d->width[i]);
        if (d->amp[i] == 0) continue;
        dg = d->prev[i] >= 0 ? d->g[i] - d->g[d->prev[i]] : 0;
        low = d->prev[i] >= 0 ? d->g[d->prev[i]] : d->g[i];
        if (d->amp[i] * up_sign > 0) {
            a[nu] = fabs(d->amp[i]);
            wu[nu++] = d->width[i];
            if (d->prev[i] >= 0) mean_up[0] += dg, mean_up[1] += 1;
            if (d->prev[i] >= 0 && low < sm->glo + START_LOWER_SHARE * sm->range) sum_up += dg, nsu++;
        } else {
            ad[nd] = fabs(d->amp[i]);
            wd[nd++] = d->width[i];
            if (d->prev[i] >= 0) mean_down[0] += dg, mean_down[1] += 1;
            if (d->prev[i] >= 0 && low > sm->ghi - START_LOWER_SHARE * sm->range) sum_down += dg, nsd++;
        }
    }
    if (!(sm->range > 0)) {
        rc = ssp_error(ctx, SSP_EINVAL, "%s: every conductance is %g S: nothing to fit", d->origin,
                       sm->glo);
        goto done;
    }
    if (nu == 0 || nd == 0) {
        rc = ssp_error(ctx, SSP_EINVAL,
                       "%s: the data have no %s pulses (amplitude %s 0 raises G in this model): "
                       "a fit needs both directions",
                       d->origin, nu == 0 ? "potentiating" : "depressing",
                       (nu == 0) == (up_sign > 0) ? ">" : "<");
        goto done;
    }
    if (!(mean_up[0] > 0) || !(mean_down[0] < 0)) {
        rc = ssp_error(ctx, SSP_EINVAL,
                       "%s: pulses with amplitude %s 0 %s the conductance on average, but in "
                       "model %s they %s it: flip the sign of amplitude_V (or pick another model)",
                       d->origin, up_sign > 0 ? ">" : "<", mean_up[0] > 0 ? "raise" : "lower",
                       o->kind, "raise");
        goto done;
    }
    sm->n_up = nsu && sum_up > 0 ? sm->range / (sum_up / (double)nsu) : 10.0;
    sm->n_down = nsd && sum_down < 0 ? sm->range / (-sum_down / (double)nsd) : 10.0;
    sm->n_up = fmin(fmax(sm->n_up, 1.0), 1e6);
    sm->n_down = fmin(fmax(sm->n_down, 1.0), 1e6);
    sm->a_up = median(a, nu);
    sm->w_up = median(wu, nu);
    sm->a_down = median(ad, nd);
    sm->w_down = median(wd, nd);
    sm->namp_up = distinct(a, nu);
    sm->namp_down = distinct(ad, nd);
    sm->vr = o->read_voltage != 0 ? o->read_voltage : READ_SHARE_OF_AMPLITUDE * sm->amin;
    sm->edge = o->edge > 0 ? o->edge : EDGE_SHARE_OF_WIDTH * sm->wmin;
done:
    free(a);
    return rc;
}

/* ---- the models: what is free, what is fixed, where the start is ---------- */

static void prog_defaults(struct spec *s, const struct summary *sm)
{
    s->prog[PR_READ_V] = sm->vr;
    s->prog[PR_READ_W] = sm->wmin;
    s->prog[PR_SET_V] = sm->up_sign * sm->a_up;
    s->prog[PR_SET_W] = sm->w_up;
    s->prog[PR_RESET_V] = -sm->up_sign * sm->a_down;
    s->prog[PR_RESET_W] = sm->w_down;
    s->prog[PR_EDGE] = sm->edge;
    s->prog[PR_X_INIT] = 0;
}

#define P(key) s->p[slot_of(s->ops, key)]

/* pulselevel: g_min, g_max, the pulse counts and the two NeuroSim labels.
 * t_ltp / t_ltd are the time a median pulse spends beyond its threshold
 * (thresholds at half the median amplitudes), so n counts median pulses. */
static void setup_pulselevel(struct spec *s, const struct summary *sm, int opt)
{
    (void)opt;
    s->ops = &ssp_device_ops_pulselevel;
    P("g_min") = sm->glo;
    P("g_max") = sm->ghi;
    P("n_ltp") = sm->n_up;
    P("n_ltd") = sm->n_down;
    P("nl_ltp") = 1.0;
    P("nl_ltd") = -1.0;
    P("v_ltp") = THRESHOLD_SHARE * sm->a_up;
    P("v_ltd") = -THRESHOLD_SHARE * sm->a_down;
    P("t_ltp") = sm->w_up + 2.0 * sm->edge * (1.0 - THRESHOLD_SHARE);
    P("t_ltd") = sm->w_down + 2.0 * sm->edge * (1.0 - THRESHOLD_SHARE);
    add_free(s, "g_min", TR_LOG, 0, 0, NULL, "");
    add_free(s, "g_max", TR_RATIO, 0, 0, "g_min", "");
    add_free(s, "n_ltp", TR_LOG, 0, 0, NULL, "pulses of t_ltp (real; file: rounded, t scaled)");
    add_free(s, "n_ltd", TR_LOG, 0, 0, NULL, "pulses of t_ltd (real; file: rounded, t scaled)");
    add_free(s, "nl_ltp", TR_LOGIT, -9, 9, NULL, "");
    add_free(s, "nl_ltd", TR_LOGIT, -9, 9, NULL, "");
    s->t_ltp_slot = (long)slot_of(s->ops, "t_ltp");
    s->t_ltd_slot = (long)slot_of(s->ops, "t_ltd");
    snprintf(s->fixed, sizeof s->fixed,
             "v_ltp, v_ltd (half the median amplitudes), t_ltp, t_ltd (time a median pulse "
             "spends beyond them)");
}

static const char *const vteam_iv[] = {"linear", "exponential", "conductance"};

/* vteam: r_on, r_off, k_on, k_off, the window width w_c, and alpha_on /
 * alpha_off when the data hold two or more amplitudes of that polarity. The
 * I-V relation is a discrete option: each is fitted and the best kept. */
static void setup_vteam(struct spec *s, const struct summary *sm, int opt)
{
    double span = 3e-9, tu = sm->w_up + sm->edge, td = sm->w_down + sm->edge;
    s->ops = &ssp_device_ops_vteam;
    P("r_on") = 1.0 / sm->ghi;
    P("r_off") = 1.0 / sm->glo;
    P("iv") = opt;
    P("v_on") = -THRESHOLD_SHARE * sm->a_up;
    P("v_off") = THRESHOLD_SHARE * sm->a_down;
    P("alpha_on") = 1;
    P("alpha_off") = 1;
    /* (V/v - 1)^alpha = 1 at V = 2 v: the rate that crosses the window in n pulses */
    P("k_on") = -span / (sm->n_up * tu);
    P("k_off") = span / (sm->n_down * td);
    P("w_on") = 0;
    P("w_off") = span;
    P("a_on") = 0;
    P("a_off") = span;
    P("w_c") = 0.01 * span;
    add_free(s, "r_on", TR_LOG, 0, 0, NULL, "");
    add_free(s, "r_off", TR_RATIO, 0, 0, "r_on", "");
    add_free(s, "k_on", TR_NEGLOG, 0, 0, NULL, "");
    add_free(s, "k_off", TR_LOG, 0, 0, NULL, "");
    add_free(s, "w_c", TR_LOGLOG, 1e-4 * span, span, NULL, "");
    if (sm->namp_up > 1) add_free(s, "alpha_on", TR_LOGLOG, 0.05, 20, NULL, "");
    if (sm->namp_down > 1) add_free(s, "alpha_off", TR_LOGLOG, 0.05, 20, NULL, "");
    snprintf(s->option, sizeof s->option, "iv = %s", vteam_iv[opt]);
    snprintf(s->fixed, sizeof s->fixed,
             "v_on, v_off (half the median amplitudes), w_on = a_on = 0, w_off = a_off = 3 nm%s",
             sm->namp_up > 1 && sm->namp_down > 1 ? ""
                                                  : ", alpha = 1 where one amplitude (degenerate with k)");
}

/* yakopcic: a1 (a2 follows: reads at V > 0 never see it), x_lo, ap, an,
 * the window starts xp, xn and decays alphap, alphan; b fixed at the Oblea
 * fit's 0.05 1/V (with one read voltage it is degenerate with a1). */
static void setup_yakopcic(struct spec *s, const struct summary *sm, int opt)
{
    double b = 0.05, xlo = inside(sm->glo / sm->ghi, 0, 1), tu = sm->w_up + sm->edge,
           td = sm->w_down + sm->edge;
    (void)opt;
    s->ops = &ssp_device_ops_yakopcic;
    P("x_lo") = xlo;
    P("a1") = sm->ghi / sinh(b * sm->vr) * sm->vr;
    P("a2") = P("a1");
    P("b") = b;
    P("vp") = THRESHOLD_SHARE * sm->a_up;
    P("vn") = THRESHOLD_SHARE * sm->a_down;
    P("ap") = (1 - xlo) / (sm->n_up * tu * (exp(sm->a_up) - exp(P("vp"))));
    P("an") = (1 - xlo) / (sm->n_down * td * (exp(sm->a_down) - exp(P("vn"))));
    P("xp") = 0.3;
    P("xn") = 0.5;
    P("alphap") = 1;
    P("alphan") = 5;
    P("eta") = 1;
    add_free(s, "a1", TR_LOG, 0, 0, NULL, "a2 = a1");
    add_free(s, "x_lo", TR_LOGIT, 0, 1, NULL, "");
    add_free(s, "ap", TR_LOG, 0, 0, NULL, "");
    add_free(s, "an", TR_LOG, 0, 0, NULL, "");
    add_free(s, "xp", TR_LOGIT, 0, 1, NULL, "");
    add_free(s, "xn", TR_LOGIT, 0, 1, NULL, "");
    add_free(s, "alphap", TR_LOGLOG, 1e-3, 50, NULL, "");
    add_free(s, "alphan", TR_LOGLOG, 1e-3, 50, NULL, "");
    s->a1_slot = (long)slot_of(s->ops, "a1");
    s->a2_slot = (long)slot_of(s->ops, "a2");
    snprintf(s->fixed, sizeof s->fixed,
             "b = 0.05 1/V, vp, vn (half the median amplitudes), eta = 1, a2 = a1");
}

static const long biolek_pwin[] = {1, 2, 4, 10};

/* biolek: r_on, r_off, mu_v; the window exponent p is a discrete option;
 * D fixed at 10 nm (only mu_v / D^2 matters), v_th at half the smallest
 * amplitude (a siamspice threshold: reads do not program). */
static void setup_biolek(struct spec *s, const struct summary *sm, int opt)
{
    double d = 10e-9, rmid, k;
    s->ops = &ssp_device_ops_biolek;
    P("r_on") = 1.0 / sm->ghi;
    P("r_off") = 1.0 / sm->glo;
    P("d") = d;
    P("p_win") = (double)biolek_pwin[opt];
    P("v_th") = THRESHOLD_SHARE * sm->amin;
    rmid = 0.5 * (P("r_on") + P("r_off"));
    k = rmid / (sm->a_up * sm->n_up * (sm->w_up + sm->edge));
    P("mu_v") = k * d * d / P("r_on");
    add_free(s, "r_on", TR_LOG, 0, 0, NULL, "");
    add_free(s, "r_off", TR_RATIO, 0, 0, "r_on", "");
    add_free(s, "mu_v", TR_LOG, 0, 0, NULL, "");
    snprintf(s->option, sizeof s->option, "p_win = %ld", biolek_pwin[opt]);
    snprintf(s->fixed, sizeof s->fixed,
             "d = 10 nm (only mu_v/d^2 matters), v_th = half the smallest amplitude "
             "(siamspice threshold)");
}
#undef P

static const struct kind {
    const char *name;
    const struct ssp_device_ops *ops;
    int up_sign;                 /* amplitude sign that raises G */
    int noptions;                /* discrete options */
    size_t starts;               /* default random starts per option */
    void (*setup)(struct spec *, const struct summary *, int);
} kinds[] = {
    {"vteam", &ssp_device_ops_vteam, -1, 3, 1, setup_vteam},
    {"yakopcic", &ssp_device_ops_yakopcic, 1, 1, 5, setup_yakopcic},
    {"biolek", &ssp_device_ops_biolek, 1, 4, 1, setup_biolek},
    {"pulselevel", &ssp_device_ops_pulselevel, 1, 1, 3, setup_pulselevel},
};

static const struct kind *find_kind(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (name && strcmp(name, kinds[i].name) == 0) return &kinds[i];
    return NULL;
}

/* ---- parameter files ---------------------------------------------------------- */

/* "3.0769 nS": value v in unit u, with an SI prefix where the unit takes one. */
static void fmt_value(char *buf, size_t n, double v, const char *unit)
{
    static const char *const pre[] = {"f", "p", "n", "u", "m", "", "k", "M", "G"};
    if (ssp_units_prefixed(unit) && v != 0) {
        int e = (int)floor(log10(fabs(v)) / 3.0);
        if (e < -5) e = -5;
        if (e > 3) e = 3;
        snprintf(buf, n, "%.6g %s%s", v / pow(10.0, 3.0 * e), pre[e + 5], unit);
    } else if (*unit)
        snprintf(buf, n, "%.6g %s", v, unit);
    else
        snprintf(buf, n, "%.6g", v);
}

/* The [parameters] value of slot i of p as the file writes it. */
static void fmt_param(char *buf, size_t n, const ssp_param *d, double v)
{
    size_t len;
    if (d->kind == SSP_PARAM_CHOICE) {
        const char *w = ssp_params_choice(d, (int)v, &len);
        snprintf(buf, n, "%.*s", (int)len, w);
    } else if (d->kind == SSP_PARAM_WHOLE)
        snprintf(buf, n, "%.0f", v);
    else
        fmt_value(buf, n, v, d->unit);
}

/* Variation written into the file (fractions). */
struct variation {
    double d2d_gmin, d2d_gmax, d2d_rate, c2c_range, read_noise;
};

/* The parameter file of spec s with parameters p (file-ready: counts whole). */
static void write_ini(ssp_text *t, const struct spec *s, const double *p,
                      const struct variation *var, const char *name, const char *header)
{
    const struct ssp_device_ops *ops = s->ops;
    char v[64];
    size_t i;
    if (header) ssp_text_printf(t, "%s", header);
    ssp_text_printf(t, "\n[device]\nmodel = %s\nname = %s\n\n[parameters]\n", ops->kind, name);
    for (i = 0; i < ops->npar; i++) {
        if (ops->par[i].flags & SSP_PARAM_DERIVED) continue;
        fmt_param(v, sizeof v, &ops->par[i], p[i]);
        ssp_text_printf(t, "%s = %s\n", ops->par[i].key, v);
    }
    ssp_text_printf(t, "\n[programming]\n");
    for (i = 0; i < PR_N; i++) {
        fmt_value(v, sizeof v, s->prog[i], i == PR_X_INIT ? ""
                                           : (i == PR_READ_V || i == PR_SET_V || i == PR_RESET_V)
                                               ? "V"
                                               : "s");
        ssp_text_printf(t, "%s = %s\n", prog_key[i], v);
    }
    ssp_text_printf(t, "\n[variation]\n");
    if (var) {
        ssp_text_printf(t, "d2d_gmin = %.3g %%\nd2d_gmax = %.3g %%\nd2d_rate = %.3g %%\n"
                     "c2c_range = %.3g %%\nread_noise = %.3g %%\nstuck_on = 0 %%\nstuck_off = 0 %%\n",
                  100 * fmin(var->d2d_gmin, 1), 100 * fmin(var->d2d_gmax, 1),
                  100 * fmin(var->d2d_rate, 1), 100 * fmin(var->c2c_range, 1),
                  100 * fmin(var->read_noise, 1));
    }
}

/* Build the model of spec s with parameters p (a parameter file in memory). */
static int spec_model(ssp_device_model **m, ssp_ctx *ctx, const struct spec *s, const double *p,
                      const char *origin)
{
    ssp_text t = {0};
    int rc;
    write_ini(&t, s, p, NULL, s->ops->kind, NULL);
    if ((rc = ssp_text_check(&t, ctx, "a parameter file")) == SSP_OK)
        rc = ssp_device_model_parse(m, ctx, t.s, origin);
    ssp_text_free(&t);
    return rc;
}

/* ---- the residuals -------------------------------------------------------- */

struct problem {
    const ssp_fit_data *d;
    const struct spec *s;
    const ssp_device_model *base; /* programming values and the model's frame */
    ssp_device_work *w;
    ssp_ctx *ctx;
    double vr, range;
    size_t nres;
    size_t *rows;          /* rows with a residual */
    /* per-device mode: three factors on the nominal parameters */
    int per_device;
    double pnom[SSP_DEVICE_NPARAM_MAX];
    size_t nu;             /* free coordinates */
    size_t invalid;        /* trial points that were not a model */
};

/* The device for u; 0 if it is a valid model. */
static int make_device(const struct problem *pb, const double *u, ssp_device *dev)
{
    const struct spec *s = pb->s;
    const struct ssp_device_ops *ops = s->ops;
    double theta[SSP_FIT_MAX_FREE], gmin, gmax;
    const char *key;
    char why[128];
    ssp_device_init(dev, pb->base, 0);
    if (pb->per_device) {
        memcpy(dev->p, pb->pnom, sizeof dev->p);
        ops->vary(dev->p, exp(u[0]), exp(u[1]));
        dev->p[K_kr] = exp(u[2]);
    } else {
        all_theta(s, u, theta);
        for (size_t j = 0; j < s->nfree; j++) dev->p[s->f[j].slot] = theta[j];
        if (s->a2_slot >= 0) dev->p[s->a2_slot] = dev->p[s->a1_slot];
        if (ops->check && ops->check(dev->p, &key, why, sizeof why)) return -1;
    }
    if (ops->derive) ops->derive(dev->p);
    for (size_t i = 0; i < ops->npar; i++)
        if (!isfinite(dev->p[i])) return -1;
    gmin = ssp_device_gmin(dev);
    gmax = ssp_device_gmax(dev);
    if (!(dev->p[K_x_lo] < dev->p[K_x_hi]) || !(gmin > 0) || !(gmin < gmax) || !isfinite(gmax))
        return -1;
    return 0;
}

/* Put dev in the state whose conductance is g (clamped to its bounds). */
static void set_state(ssp_device *dev, double g)
{
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev);
    g = fmin(fmax(g, gmin), gmax);
    ssp_device_set_conductance(dev, NULL, g);
}

/* Predicted conductance after row i's pulse, starting from row prev's. */
static int predict(const struct problem *pb, ssp_device *dev, size_t i, double *g)
{
    const ssp_fit_data *d = pb->d;
    set_state(dev, d->g[d->prev[i]]);
    if (ssp_device_pulse(dev, pb->w, NULL, d->amp[i], d->width[i])) return -1;
    *g = ssp_device_conductance(dev, pb->vr);
    return isfinite(*g) ? 0 : -1;
}

static int residuals(const struct problem *pb, const double *u, double *r)
{
    ssp_device dev;
    size_t k;
    if (make_device(pb, u, &dev)) goto invalid;
    for (k = 0; k < pb->nres; k++) {
        double g;
        if (predict(pb, &dev, pb->rows[k], &g)) goto invalid;
        r[k] = (g - pb->d->g[pb->rows[k]]) / pb->range;
    }
    return 0;
invalid:
    for (k = 0; k < pb->nres; k++) r[k] = INVALID_RESIDUAL;
    return 1;
}

static int gsl_f(const gsl_vector *x, void *params, gsl_vector *f)
{
    struct problem *pb = params;
    if (residuals(pb, x->data, f->data)) pb->invalid++;
    return GSL_SUCCESS;
}

/* Forward differences in u with a fixed step (a backward one where the
 * forward point is not a model). */
static int gsl_df(const gsl_vector *x, void *params, gsl_matrix *J)
{
    struct problem *pb = params;
    double u[SSP_FIT_MAX_FREE], *f0 = NULL, *f1 = NULL;
    size_t n = pb->nres, j, k;
    int rc = GSL_SUCCESS;
    if (!(f0 = malloc(2 * n * sizeof *f0))) return GSL_ENOMEM;
    f1 = f0 + n;
    memcpy(u, x->data, pb->nu * sizeof *u);
    residuals(pb, u, f0);
    for (j = 0; j < pb->nu; j++) {
        double h = FD_STEP_U;
        u[j] = x->data[j] + h;
        if (residuals(pb, u, f1)) {
            h = -FD_STEP_U;
            u[j] = x->data[j] + h;
            residuals(pb, u, f1);
        }
        u[j] = x->data[j];
        for (k = 0; k < n; k++) gsl_matrix_set(J, k, j, (f1[k] - f0[k]) / h);
    }
    free(f0);
    return rc;
}

/* One trust-region run from u0; returns the GSL status, u and cost set. */
static int lm_run(struct problem *pb, const double *u0, size_t max_iter, double *u, double *cost,
                  size_t *iters, gsl_matrix **jac)
{
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_fdf fdf;
    gsl_multifit_nlinear_workspace *w;
    gsl_vector_const_view x0 = gsl_vector_const_view_array(u0, pb->nu);
    int status, info = 0;
    double chisq = HUGE_VAL;

    par.trs = gsl_multifit_nlinear_trs_lm;
    fdf.f = gsl_f;
    fdf.df = gsl_df;
    fdf.fvv = NULL;
    fdf.n = pb->nres;
    fdf.p = pb->nu;
    fdf.params = pb;
    w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, pb->nres, pb->nu);
    if (!w) return GSL_ENOMEM;
    status = gsl_multifit_nlinear_init(&x0.vector, &fdf, w);
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(max_iter, FIT_XTOL, FIT_GTOL, FIT_FTOL, NULL, NULL,
                                             &info, w);
    memcpy(u, gsl_multifit_nlinear_position(w)->data, pb->nu * sizeof *u);
    gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &chisq);
    *cost = chisq;
    *iters = gsl_multifit_nlinear_niter(w);
    if (jac) {
        *jac = gsl_matrix_alloc(pb->nres, pb->nu);
        if (*jac) gsl_df(gsl_multifit_nlinear_position(w), pb, *jac);
    }
    gsl_multifit_nlinear_free(w);
    /* GSL_ENOPROG: the trust region cannot lower the cost any further from
     * here (the minimum within the integrator's noise): converged. */
    return status == GSL_ENOPROG ? GSL_SUCCESS : status;
}

/* ---- the result ------------------------------------------------------------- */

void ssp_fit_result_free(ssp_fit_result **rp)
{
    ssp_fit_result *r;
    if (!rp || !*rp) return;
    r = *rp;
    ssp_device_model_free(&r->model);
    free(r->ini);
    free(r->dev_factor);
    free(r->cycles);
    free(r->g_fit);
    free(r->x_start);
    free(r);
    *rp = NULL;
}

/* 95 % intervals: u_j +- t sigma_j mapped through the transform (inside the
 * bounds by construction); for a ratio, ln theta's sigma from its gradient. */
static void intervals(const struct spec *s, const double *u, const gsl_matrix *cov, double tq,
                      ssp_fit_param *out)
{
    double theta[SSP_FIT_MAX_FREE], ul[SSP_FIT_MAX_FREE], uh[SSP_FIT_MAX_FREE];
    all_theta(s, u, theta);
    for (size_t j = 0; j < s->nfree; j++) {
        double var = gsl_matrix_get(cov, j, j), sd;
        out[j].value = theta[j];
        if (!(var > 0) || !isfinite(var)) {
            out[j].lo = out[j].hi = NAN; /* not identified by the data */
            continue;
        }
        if (s->f[j].tr == TR_RATIO) {
            int r = s->f[j].ref;
            double e = exp(u[j]) / (1.0 + exp(u[j]));
            /* ln theta = ln theta_ref + ln(1 + e^u); the reference is TR_LOG */
            double v = gsl_matrix_get(cov, (size_t)r, (size_t)r) + 2 * e * gsl_matrix_get(cov, (size_t)r, j) +
                       e * e * var;
            sd = sqrt(fmax(v, 0));
            out[j].lo = theta[j] * exp(-tq * sd);
            out[j].hi = theta[j] * exp(tq * sd);
            continue;
        }
        sd = sqrt(var);
        memcpy(ul, u, s->nfree * sizeof *u);
        memcpy(uh, u, s->nfree * sizeof *u);
        ul[j] -= tq * sd;
        uh[j] += tq * sd;
        {
            double a = to_theta(s, ul, theta, j), b = to_theta(s, uh, theta, j);
            out[j].lo = fmin(a, b);
            out[j].hi = fmax(a, b);
        }
    }
}

/* The NeuroSim label of one direction of the fitted device: pulses of
 * (amp, width) from one end until NL_REACH of the range; the signed largest
 * distance of the normalised curve from the diagonal over 0.07 sqrt(2). */
static int curve_label(const ssp_device *nominal, ssp_device_work *w, double vr, int up,
                       double amp, double width, double *label, double *npulses)
{
    ssp_device dev = *nominal;
    double gmin = ssp_device_gmin(&dev), gmax = ssp_device_gmax(&dev), *y = NULL, best = 0;
    double prev_y = 0, target = NL_REACH, nfrac;
    size_t k, n = 0;
    *label = NAN;
    *npulses = NAN;
    if (!(y = malloc((NL_MAX_PULSES + 1) * sizeof *y))) return SSP_ENOMEM;
    dev.x = up ? dev.p[K_x_lo] : dev.p[K_x_hi];
    y[0] = 0;
    for (k = 1; k <= NL_MAX_PULSES; k++) {
        double g;
        if (ssp_device_pulse(&dev, w, NULL, amp, width)) break;
        g = ssp_device_conductance(&dev, vr);
        y[k] = up ? (g - gmin) / (gmax - gmin) : (gmax - g) / (gmax - gmin);
        if (y[k] >= target) {
            n = k;
            break;
        }
    }
    if (n == 0) {
        free(y);
        return SSP_OK;
    }
    prev_y = y[n - 1];
    nfrac = (double)(n - 1) + (target - prev_y) / (y[n] - prev_y);
    for (k = 1; k < n; k++) {
        /* LTP: y above the diagonal is concave (positive label); LTD in its
         * count-down coordinate u = 1 - k/N, the same curve is mirrored */
        double yy = y[k] / target, uu = (double)k / nfrac, dev_ = yy - uu;
        if (fabs(dev_) > fabs(best)) best = dev_;
    }
    *label = (up ? 1.0 : -1.0) * best / NL_DEVIATION_PER_LABEL;
    *npulses = nfrac;
    free(y);
    return SSP_OK;
}

int ssp_fit_device(ssp_device *dev, ssp_ctx *ctx, const ssp_fit_result *r, size_t k, size_t c)
{
    const struct kind *kd = find_kind(ssp_device_model_kind(r->model));
    const double *fac = r->dev_factor + 3 * k;
    if (!kd || c >= r->ncycles)
        return ssp_error(ctx, SSP_EINVAL, "no device %zu / cycle %zu in the fit", k, c);
    ssp_device_init(dev, r->model, 0);
    kd->ops->vary(dev->p, fac[0], fac[1]);
    dev->p[K_kr] = fac[2];
    if (kd->ops->derive) kd->ops->derive(dev->p);
    dev->x = r->x_start[c];
    return SSP_OK;
}

/* ---- the fit ------------------------------------------------------------------- */

struct best {
    struct spec s;
    double u[SSP_FIT_MAX_FREE];
    double cost;
    size_t iters;
    int found;
};

static int fit_nominal(struct best *bst, ssp_ctx *ctx, const ssp_fit_data *d,
                       const ssp_fit_options *o, const struct kind *kd, const struct summary *sm,
                       size_t *rows, size_t nres, size_t *tried, size_t *conv, ssp_device_work *w,
                       char *log_, size_t nlog)
{
    gsl_rng *rng = NULL;
    size_t nstart = o->starts ? o->starts : kd->starts, maxit = o->max_iter ? o->max_iter : FIT_DEFAULT_MAX_ITER;
    int rc = SSP_OK, last = GSL_SUCCESS;
    size_t used = 0;

    if ((rc = ssp_device_rng_alloc(&rng, ctx, o->seed))) return rc;
    bst->found = 0;
    bst->cost = HUGE_VAL;
    for (int opt = 0; opt < kd->noptions; opt++) {
        struct spec s;
        ssp_device_model *base = NULL;
        double theta[SSP_FIT_MAX_FREE], u0[SSP_FIT_MAX_FREE], u[SSP_FIT_MAX_FREE];
        struct problem pb;
        memset(&s, 0, sizeof s);
        s.a1_slot = s.a2_slot = s.t_ltp_slot = s.t_ltd_slot = -1;
        kd->setup(&s, sm, opt);
        prog_defaults(&s, sm);
        if (nres < MIN_POINTS_PER_PARAM * s.nfree) {
            rc = ssp_error(ctx, SSP_EINVAL,
                           "%s: %zu pulse responses for %zu free parameters of %s: the fit needs "
                           "at least %d per parameter (%zu)",
                           d->origin, nres, s.nfree, kd->name, MIN_POINTS_PER_PARAM,
                           (size_t)MIN_POINTS_PER_PARAM * s.nfree);
            goto done;
        }
        if ((rc = spec_model(&base, ctx, &s, s.p, d->origin))) {
            ssp_error_prefix(ctx, "the start of the %s fit (%s) is not a valid model: ", kd->name,
                             s.option);
            rc = SSP_EINVAL;
            goto done;
        }
        for (size_t j = 0; j < s.nfree; j++) {
            double v = s.p[s.f[j].slot];
            if (s.f[j].tr == TR_LOGIT || s.f[j].tr == TR_LOGLOG) v = inside(v, s.f[j].lo, s.f[j].hi);
            if (s.f[j].tr == TR_RATIO && !(v > theta[s.f[j].ref])) v = 2 * theta[s.f[j].ref];
            theta[j] = v;
            u0[j] = to_u(&s, theta, j);
        }
        memset(&pb, 0, sizeof pb);
        pb.d = d;
        pb.s = &s;
        pb.base = base;
        pb.w = w;
        pb.ctx = ctx;
        pb.vr = sm->vr;
        pb.range = sm->range;
        pb.nres = nres;
        pb.rows = rows;
        pb.nu = s.nfree;
        for (size_t st = 0; st <= nstart; st++) {
            double ust[SSP_FIT_MAX_FREE], cost;
            size_t it = 0;
            int status;
            for (size_t j = 0; j < s.nfree; j++) {
                double sig = (s.f[j].tr == TR_LOGIT || s.f[j].tr == TR_LOGLOG) ? START_SIGMA_LOGIT
                                                                               : START_SIGMA_LOG;
                ust[j] = u0[j] + (st ? gsl_ran_gaussian(rng, sig) : 0.0);
            }
            ssp_progress(ctx, "fitting from start points", st, nstart + 1);
            status = lm_run(&pb, ust, maxit, u, &cost, &it, NULL);
            (*tried)++;
            last = status;
            if (status == GSL_SUCCESS && isfinite(cost) && pb.invalid < 1000000) {
                (*conv)++;
                if (cost < bst->cost) {
                    bst->s = s;
                    memcpy(bst->u, u, sizeof u);
                    bst->cost = cost;
                    bst->iters = it;
                    bst->found = 1;
                }
            }
            if (used < nlog)
                used += (size_t)snprintf(log_ + used, nlog - used, "%s%s%sstart %zu: %s, cost %.3g",
                                         used ? "; " : "", s.option, s.option[0] ? " " : "", st,
                                         status == GSL_SUCCESS ? "converged" : gsl_strerror(status),
                                         cost);
            if (used >= nlog) used = nlog - 1;
        }
        ssp_progress(ctx, "fitting from start points", nstart + 1, nstart + 1);
        ssp_device_model_free(&base);
    }
    if (!bst->found)
        rc = ssp_error(ctx, SSP_ECONVERGE,
                       "%s: the %s fit did not converge: %zu starts of at most %zu iterations "
                       "(%s); last status: %s",
                       d->origin, kd->name, *tried, maxit, log_, gsl_strerror(last));
done:
    ssp_device_rng_free(&rng);
    return rc;
}

/* The nominal parameters for the file: counts rounded (pulselevel's t
 * scaled so the curve is unchanged). */
static void file_params(const struct spec *s, const double *u, double *p)
{
    double theta[SSP_FIT_MAX_FREE];
    memcpy(p, s->p, sizeof s->p);
    all_theta(s, u, theta);
    for (size_t j = 0; j < s->nfree; j++) p[s->f[j].slot] = theta[j];
    if (s->a2_slot >= 0) p[s->a2_slot] = p[s->a1_slot];
    if (s->t_ltp_slot >= 0) {
        size_t nl = slot_of(s->ops, "n_ltp"), nd = slot_of(s->ops, "n_ltd");
        double rp = fmax(1.0, round(p[nl])), rd = fmax(1.0, round(p[nd]));
        p[s->t_ltp_slot] *= p[nl] / rp;
        p[s->t_ltd_slot] *= p[nd] / rd;
        p[nl] = rp;
        p[nd] = rd;
    }
}

int ssp_fit_run(ssp_fit_result **out, ssp_ctx *ctx, const ssp_fit_data *d,
                const ssp_fit_options *o)
{
    const struct kind *kd = find_kind(o->kind);
    struct summary sm;
    struct best *bst = NULL;
    struct variation var = {0};
    ssp_fit_result *r = NULL;
    ssp_device_work *w = NULL;
    ssp_device_model *model = NULL;
    size_t *rows = NULL, nres = 0, i, k;
    double pfile[SSP_DEVICE_NPARAM_MAX], *resx = NULL, tq;
    gsl_matrix *jac = NULL, *cov = NULL;
    char log_[1024] = "";
    int rc;

    *out = NULL;
    gsl_set_error_handler_off();
    if (!kd)
        return ssp_error(ctx, SSP_EINVAL, "unknown model '%s' (vteam, yakopcic, biolek, pulselevel)",
                         o->kind ? o->kind : "");
    if ((rc = summarize(&sm, ctx, d, o, kd->up_sign))) return rc;
    if (!(rows = malloc(d->n * sizeof *rows)) || !(bst = calloc(1, sizeof *bst)) ||
        !(r = calloc(1, sizeof *r)) || !(resx = malloc(2 * d->n * sizeof *resx))) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < d->n; i++)
        if (is_pulse(d, i)) rows[nres++] = i;
    if ((rc = ssp_device_work_alloc(&w, ctx))) goto done;
    if ((rc = fit_nominal(bst, ctx, d, o, kd, &sm, rows, nres, &r->starts_tried,
                          &r->starts_converged, w, log_, sizeof log_)))
        goto done;
    r->nres = nres;
    r->range = sm.range;
    r->rms = 100 * sqrt(bst->cost / (double)nres);
    r->iterations = bst->iters;
    snprintf(r->option, sizeof r->option, "%s", bst->s.option);
    r->nfree = bst->s.nfree;

    /* the nominal model and the intervals */
    {
        ssp_device_model *base = NULL;
        struct problem pb;
        if ((rc = spec_model(&base, ctx, &bst->s, bst->s.p, d->origin))) goto done;
        memset(&pb, 0, sizeof pb);
        pb.d = d, pb.s = &bst->s, pb.base = base, pb.w = w, pb.ctx = ctx, pb.vr = sm.vr;
        pb.range = sm.range, pb.nres = nres, pb.rows = rows, pb.nu = bst->s.nfree;
        jac = gsl_matrix_alloc(nres, pb.nu);
        cov = gsl_matrix_alloc(pb.nu, pb.nu);
        if (!jac || !cov) {
            ssp_device_model_free(&base);
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
            goto done;
        }
        {
            gsl_vector_view x = gsl_vector_view_array(bst->u, pb.nu);
            gsl_df(&x.vector, &pb, jac);
        }
        ssp_device_model_free(&base);
        if (gsl_multifit_nlinear_covar(jac, COVAR_EPSREL, cov)) {
            rc = ssp_error(ctx, SSP_ECONVERGE, "%s: the Jacobian of the fit has no covariance",
                           d->origin);
            goto done;
        }
        gsl_matrix_scale(cov, bst->cost / (double)(nres > pb.nu ? nres - pb.nu : 1));
        tq = gsl_cdf_tdist_Pinv(0.5 + 0.5 * CI_LEVEL, (double)(nres - pb.nu));
        intervals(&bst->s, bst->u, cov, tq, r->par);
        for (size_t j = 0; j < bst->s.nfree; j++) {
            const ssp_param *pd = &bst->s.ops->par[bst->s.f[j].slot];
            snprintf(r->par[j].key, sizeof r->par[j].key, "%s", pd->key);
            snprintf(r->par[j].unit, sizeof r->par[j].unit, "%s", pd->unit);
            snprintf(r->par[j].note, sizeof r->par[j].note, "%s", bst->s.f[j].note);
        }
    }
    file_params(&bst->s, bst->u, pfile);
    if ((rc = spec_model(&model, ctx, &bst->s, pfile, d->origin))) goto done;

    /* per-device factors and the residuals in state units */
    if (!(r->dev_factor = malloc(3 * d->ndev * sizeof *r->dev_factor))) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    {
        struct problem pb;
        ssp_device nom;
        double range_x, wvar[3] = {0, 0, 0};
        size_t ndfit = 0;
        ssp_device_init(&nom, model, 0);
        range_x = nom.p[K_x_hi] - nom.p[K_x_lo];
        memset(&pb, 0, sizeof pb);
        pb.d = d, pb.s = &bst->s, pb.base = model, pb.w = w, pb.ctx = ctx, pb.vr = sm.vr;
        pb.range = sm.range, pb.per_device = 1, pb.nu = 3;
        memcpy(pb.pnom, nom.p, sizeof pb.pnom);
        for (k = 0; k < d->ndev; k++) {
            double u0[3] = {0, 0, 0}, u[3] = {0, 0, 0}, cost;
            gsl_matrix *jk = NULL;
            size_t it;
            if (d->ndev > 1) {
                size_t *rk = malloc(nres * sizeof *rk), m = 0;
                if (!rk) {
                    rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
                    goto done;
                }
                for (i = 0; i < nres; i++)
                    if (d->dev[rows[i]] == k) rk[m++] = rows[i];
                pb.rows = rk;
                pb.nres = m;
                if (m >= MIN_POINTS_PER_PARAM * 3 &&
                    lm_run(&pb, u0, o->max_iter ? o->max_iter : FIT_DEFAULT_MAX_ITER, u, &cost, &it,
                           &jk) == GSL_SUCCESS && jk) {
                    gsl_matrix *ck = gsl_matrix_alloc(3, 3);
                    ndfit++;
                    if (ck && gsl_multifit_nlinear_covar(jk, COVAR_EPSREL, ck) == GSL_SUCCESS)
                        for (int q = 0; q < 3; q++)
                            wvar[q] += gsl_matrix_get(ck, (size_t)q, (size_t)q) * cost / (double)(m - 3);
                    gsl_matrix_free(ck);
                } else {
                    u[0] = u[1] = u[2] = 0;
                    ssp_log(ctx, SSP_LOG_WARN, "fit_device", "device = %s, pulses = %zu, "
                            "result = kept nominal (too few pulses or no convergence)",
                            d->dev_name[k], m);
                }
                free(rk);
                gsl_matrix_free(jk);
            }
            for (int q = 0; q < 3; q++) r->dev_factor[3 * k + q] = exp(u[q]);
        }
        /* d2d sigmas: sample standard deviation of the log factors */
        if (ndfit > 1) {
            double *v = malloc(d->ndev * sizeof *v);
            if (!v) {
                rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
                goto done;
            }
            for (int q = 0; q < 3; q++) {
                double sd;
                for (k = 0; k < d->ndev; k++) v[k] = log(r->dev_factor[3 * k + q]);
                /* between-device variance less the mean estimation variance
                 * of one device's factor (a random-effects estimate) */
                sd = gsl_stats_sd(v, 1, d->ndev);
                r->d2d_se[q] = sqrt(wvar[q] / (double)ndfit);
                sd = sqrt(fmax(sd * sd - wvar[q] / (double)ndfit, 0));
                (q == 0 ? &var.d2d_gmin : q == 1 ? &var.d2d_gmax : &var.d2d_rate)[0] = sd;
            }
            free(v);
        }
        /* residuals in state units on each device's own fit: x predicted
         * (resx[i]) and x measured (resx[n + i]), both in window units */
        for (i = 0; i < nres; i++) {
            size_t row = rows[i];
            ssp_device dv;
            double g;
            ssp_device_init(&dv, model, 0);
            {
                const double *fac = r->dev_factor + 3 * d->dev[row];
                bst->s.ops->vary(dv.p, fac[0], fac[1]);
                dv.p[K_kr] = fac[2];
                if (bst->s.ops->derive) bst->s.ops->derive(dv.p);
            }
            pb.per_device = 0;
            if (predict(&pb, &dv, row, &g)) {
                resx[i] = resx[d->n + i] = NAN;
                continue;
            }
            resx[i] = (dv.x - dv.p[K_x_lo]) / range_x;
            set_state(&dv, d->g[row]);
            resx[d->n + i] = (dv.x - dv.p[K_x_lo]) / range_x;
        }
        /* the model clamps the state at the window: residuals whose
         * prediction lies near a bound are truncated, so they are left out
         * (selected on the prediction, which holds none of the pulse's own
         * noise); two passes, the second with a band of C2C_BAND_SIGMAS of
         * the first estimate */
        {
            double band = C2C_MIN_BAND, v = 0, vread = 0;
            for (int pass = 0; pass < 2; pass++) {
                double sxx = 0, c1 = 0, cov1;
                size_t nx = 0, n1 = 0, dof;
                for (i = 0; i < nres; i++) {
                    double xp = resx[i], e = xp - resx[d->n + i];
                    size_t row = rows[i];
                    if (!isfinite(e) || xp < band || xp > 1 - band) continue;
                    sxx += e * e;
                    nx++;
                    if (i > 0 && rows[i - 1] == (size_t)d->prev[row]) {
                        double e0 = resx[i - 1] - resx[d->n + i - 1];
                        double a0 = resx[i - 1];
                        if (isfinite(e0) && a0 >= band && a0 <= 1 - band)
                            c1 += e * e0, n1++;
                    }
                }
                if (nx < 2) break;
                dof = nx > bst->s.nfree ? nx - bst->s.nfree : 1;
                v = sxx / (double)dof;
                cov1 = n1 ? c1 / (double)n1 : 0;
                /* read noise only when the lag-1 covariance is negative
                 * beyond READ_SIGNIFICANCE of its standard error v/sqrt(n1) */
                vread = n1 && -cov1 > READ_SIGNIFICANCE * v / sqrt((double)n1) ? -cov1 : 0;
                band = fmax(C2C_MIN_BAND, C2C_BAND_SIGMAS * sqrt(v));
            }
            var.c2c_range = sqrt(fmax(v - 2 * vread, 0));
            var.read_noise = sqrt(vread) * (ssp_device_gmax(&nom) - ssp_device_gmin(&nom)) / sm.gmean;
        }
    }
    r->c2c_range = var.c2c_range;
    r->read_noise = var.read_noise;
    r->d2d_gmin = var.d2d_gmin;
    r->d2d_gmax = var.d2d_gmax;
    r->d2d_rate = var.d2d_rate;

    /* nonlinearity of the fitted nominal curves */
    {
        ssp_device nom;
        double sa, sw, ra, rw;
        ssp_device_init(&nom, model, 0);
        ssp_device_model_pulse(model, SSP_DEVICE_SET, &sa, &sw);
        ssp_device_model_pulse(model, SSP_DEVICE_RESET, &ra, &rw);
        if ((rc = curve_label(&nom, w, sm.vr, 1, sa, sw, &r->nl_ltp, &r->n_ltp)) ||
            (rc = curve_label(&nom, w, sm.vr, 0, ra, rw, &r->nl_ltd, &r->n_ltd)))
            goto done;
    }

    /* per-cycle replay and errors */
    {
        size_t nc = 0, c;
        long *next = (long *)resx; /* reuse: 2 n doubles hold n longs */
        for (i = 0; i < d->n; i++) next[i] = -1;
        for (i = 0; i < d->n; i++) {
            if (d->prev[i] >= 0) next[d->prev[i]] = (long)i;
            if (d->prev[i] < 0 || d->cycle[d->prev[i]] != d->cycle[i]) nc++;
        }
        /* rows of one cycle need not be adjacent when devices interleave */
        r->cycles = calloc(nc, sizeof *r->cycles);
        r->x_start = calloc(nc, sizeof *r->x_start);
        r->g_fit = calloc(d->n, sizeof *r->g_fit);
        if (!r->cycles || !r->x_start || !r->g_fit) {
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
            goto done;
        }
        r->model = model;
        model = NULL;
        c = 0;
        for (i = 0; i < d->n; i++) {
            long p = d->prev[i];
            if (p >= 0 && d->cycle[p] == d->cycle[i]) continue; /* not a cycle's first row */
            r->cycles[c].dev = d->dev[i];
            r->cycles[c].cycle = d->cycle[i];
            r->cycles[c].first = i;
            c++;
        }
        r->ncycles = c;
        for (c = 0; c < r->ncycles; c++) {
            ssp_fit_cycle *cy = &r->cycles[c];
            ssp_device dv, pd;
            struct problem pb;
            double se = 0, ss = 0;
            size_t ne = 0, row = cy->first;
            long start = d->pulse[row] == 0 || d->prev[row] < 0 ? (long)row : d->prev[row];
            if ((rc = ssp_fit_device(&dv, ctx, r, cy->dev, c))) goto done;
            set_state(&dv, d->g[start]);
            r->x_start[c] = dv.x;
            pd = dv;
            memset(&pb, 0, sizeof pb);
            pb.d = d, pb.w = w, pb.vr = sm.vr;
            for (;;) {
                cy->count++;
                if ((long)row == start) {
                    r->g_fit[row] = d->g[row];
                } else {
                    double g1;
                    if ((rc = ssp_device_pulse(&dv, w, NULL, d->amp[row], d->width[row]))) goto done;
                    r->g_fit[row] = ssp_device_conductance(&dv, sm.vr);
                    se += pow((r->g_fit[row] - d->g[row]) / sm.range, 2);
                    {
                        ssp_device q = pd;
                        if (predict(&pb, &q, row, &g1) == 0) ss += pow((g1 - d->g[row]) / sm.range, 2);
                    }
                    ne++;
                }
                /* the next row of this device, if it is in the same cycle */
                if (next[row] < 0 || d->cycle[next[row]] != cy->cycle) break;
                row = (size_t)next[row];
            }
            cy->rms_replay = ne ? 100 * sqrt(se / (double)ne) : 0;
            cy->rms_step = ne ? 100 * sqrt(ss / (double)ne) : 0;
        }
    }

    /* the parameter file */
    {
        ssp_text t = {0};
        char head[2048], fit_q[256];
        double mean_replay = 0;
        const char *base = strrchr(d->origin, '/');
        for (size_t c = 0; c < r->ncycles; c++) mean_replay += r->cycles[c].rms_replay / (double)r->ncycles;
        snprintf(fit_q, sizeof fit_q,
                 "rms one-pulse error %.3g %% of the range (%.4g S), replay %.3g %% "
                 "(mean over %zu cycles)",
                 r->rms, sm.range, mean_replay, r->ncycles);
        snprintf(head, sizeof head,
                 "; %s fitted by siamspice fit to %s.\n"
                 ";\n"
                 "; Data: %s: %zu rows, %zu devices, %zu cycles, %zu pulse responses.\n"
                 "; Fit quality: %s; %zu of %zu starts converged%s%s.\n"
                 "; Fitted: nonlinear least squares on the pulse-by-pulse response (GSL\n"
                 "; multifit_nlinear); 95 %% intervals in the report of `siamspice fit`.\n"
                 "; Fixed, not fitted: %s.\n"
                 "; Variation estimated from the data: c2c_range from the residuals of the\n"
                 "; per-device fits, read_noise from their lag-1 correlation, d2d_* from the\n"
                 "; spread of the per-device factors (0 with one device); stuck fractions\n"
                 "; not estimated (0). [programming]: the data's median pulses; read_voltage\n"
                 "; and pulse_edge as given to the fit (or its defaults).\n",
                 kd->name, base ? base + 1 : d->origin, d->origin, d->n, d->ndev, r->ncycles,
                 nres, fit_q, r->starts_converged, r->starts_tried, r->option[0] ? "; kept " : "",
                 r->option, bst->s.fixed);
        write_ini(&t, &bst->s, pfile, &var, "fitted", head);
        if ((rc = ssp_text_check(&t, ctx, "the fitted parameter file"))) {
            ssp_text_free(&t);
            goto done;
        }
        r->ini = ssp_text_take(&t);
        /* what the file says is what the model is: re-read it */
        ssp_device_model_free(&r->model);
        if ((rc = ssp_device_model_parse(&r->model, ctx, r->ini, "the fitted parameter file"))) {
            ssp_error_prefix(ctx, "internal: ");
            goto done;
        }
    }
    *out = r;
    r = NULL;
done:
    gsl_matrix_free(jac);
    gsl_matrix_free(cov);
    ssp_device_model_free(&model);
    ssp_device_work_free(&w);
    ssp_fit_result_free(&r);
    free(rows);
    free(bst);
    free(resx);
    return rc;
}
