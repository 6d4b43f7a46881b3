/* ssp_pulselevel.c — the pulse-level multi-level model (NeuroSim's LTP/LTD
 * curves), written once, with a continuous-time form for ngspice.
 *
 * NeuroSim (Chen, Peng, Yu, TCAD 2018; MLP+NeuroSim V3.0, formula.cpp
 * NonlinearWeight / InvNonlinearWeight, Cell.cpp RealDevice) gives the
 * conductance after p identical pulses as
 *   G(p) = B (1 - exp(-p/A)) + Gmin,   B = (Gmax - Gmin) / (1 - exp(-N/A))
 * for LTP (p counts up from 0 to N_ltp) and the same form with the LTD
 * constants for LTD (p counts down from N_ltd to 0; NeuroSim passes a negative
 * A for a negative nonlinearity label, which makes LTD steep near Gmax).
 * With x = (G - Gmin)/(Gmax - Gmin) the curve obeys dx/dp = (b - x)/A with
 * b = 1/(1 - exp(-N/A)); a pulse counts as dp = +-dt/t_nominal while
 * |V| is beyond its threshold. So the state equation is linear in x:
 *   dx/dt = (b_ltp - x) / (A_ltp t_ltp)    for V >= v_ltp
 *         = -(b_ltd - x) / (A_ltd t_ltd)   for V <= v_ltd
 *         = 0                              otherwise
 * and integrates back exactly to G(p) for any number of (even fractional)
 * pulses: the C integrator, ngspice and the closed form agree by construction.
 * Written as c0 - c1 x with c0 = b/A, c1 = 1/A; a linear device (NL = 0) has
 * c0 = 1/N, c1 = 0. The amplitude beyond the threshold does not matter.
 *
 * NeuroSim maps its nonlinearity label NL to A through the table getParamA:
 * A = sign(NL) a(|NL|) N. To the table's six printed digits, a(NL) is the
 * normalised constant for which the curve's largest distance from the
 * straight line, measured perpendicular to the diagonal of the unit square,
 * is 0.07 |NL| (vertically 0.07 sqrt(2) |NL|); e.g. a(2.4) = 0.499181 and
 * a(4.88) = 0.200303 as in the table. We solve that equation instead of
 * carrying the table; tests/test_devices.c checks both entries. */
#include <math.h>
#include <stdio.h>

#include "device_impl.h"

enum {
    K_g_min = SSP_DEVICE_NCOMMON, K_g_max, K_n_ltp, K_n_ltd, K_nl_ltp, K_nl_ltd, K_v_ltp,
    K_v_ltd, K_t_ltp, K_t_ltd, K_a_ltp, K_a_ltd, K_c0p, K_c1p, K_c0d, K_c1d, K_NPAR
};

#define REQ SSP_PARAM_REQUIRED
#define OLO SSP_PARAM_OPEN_LO
#define OHI SSP_PARAM_OPEN_HI
#define DER SSP_PARAM_DERIVED
static const ssp_param pl_par[K_NPAR] = {
    SSP_DEVICE_COMMON_PARAMS(0.0, SSP_PARAM_DERIVED),
    SSP_DEVICE_REAL("g_min", "S", 0, HUGE_VAL, REQ | OLO, 0, "minimum conductance"),
    SSP_DEVICE_REAL("g_max", "S", 0, HUGE_VAL, REQ | OLO, 0, "maximum conductance"),
    SSP_DEVICE_WHOLE("n_ltp", 1, 1e6, REQ, 0, "LTP pulses from Gmin to Gmax"),
    SSP_DEVICE_WHOLE("n_ltd", 1, 1e6, REQ, 0, "LTD pulses from Gmax to Gmin"),
    SSP_DEVICE_REAL("nl_ltp", "", -9, 9, REQ, 0, "NeuroSim LTP nonlinearity label"),
    SSP_DEVICE_REAL("nl_ltd", "", -9, 9, REQ, 0, "NeuroSim LTD nonlinearity label"),
    SSP_DEVICE_REAL("v_ltp", "V", 0, HUGE_VAL, REQ | OLO, 0, "LTP threshold voltage (> 0)"),
    SSP_DEVICE_REAL("v_ltd", "V", -HUGE_VAL, 0, REQ | OHI, 0, "LTD threshold voltage (< 0)"),
    SSP_DEVICE_REAL("t_ltp", "s", 0, HUGE_VAL, REQ | OLO, 0, "width of one nominal LTP pulse"),
    SSP_DEVICE_REAL("t_ltd", "s", 0, HUGE_VAL, REQ | OLO, 0, "width of one nominal LTD pulse"),
    SSP_DEVICE_REAL("a_ltp", "", -HUGE_VAL, HUGE_VAL, DER, 0, "LTP curve constant A, pulses (0: linear)"),
    SSP_DEVICE_REAL("a_ltd", "", -HUGE_VAL, HUGE_VAL, DER, 0, "LTD curve constant A, pulses (0: linear)"),
    SSP_DEVICE_REAL("c0p", "", -HUGE_VAL, HUGE_VAL, DER, 0, "LTP rate: b/A (1/N if linear)"),
    SSP_DEVICE_REAL("c1p", "", -HUGE_VAL, HUGE_VAL, DER, 0, "LTP rate: 1/A (0 if linear)"),
    SSP_DEVICE_REAL("c0d", "", -HUGE_VAL, HUGE_VAL, DER, 0, "LTD rate: b/A (1/N if linear)"),
    SSP_DEVICE_REAL("c1d", "", -HUGE_VAL, HUGE_VAL, DER, 0, "LTD rate: 1/A (0 if linear)"),
};
#undef REQ
#undef OLO
#undef OHI
#undef DER

static const char *const pl_cite[] = {
    "P.-Y. Chen, X. Peng, S. Yu, \"NeuroSim: A Circuit-Level Macro Model for",
    "Benchmarking Neuro-Inspired Architectures in Online Learning\", IEEE TCAD",
    "37(12):3067-3080, 2018, doi:10.1109/TCAD.2018.2789723; MLP+NeuroSim V3.0",
    "(formula.cpp NonlinearWeight, getParamA; Cell.cpp RealDevice).",
    NULL};

/* ---- the model, once -------------------------------------------------- */

#define PL_G(X) (SX_P(g_min) + (SX_P(g_max) - SX_P(g_min)) * (X))
#define PL_CURRENT(V, X) ((V) * PL_G(X))
#define PL_RATE(V, X)                                                                    \
    ((V) >= SX_P(v_ltp) ? (SX_P(c0p) - SX_P(c1p) * (X)) / SX_P(t_ltp)                     \
                        : ((V) <= SX_P(v_ltd) ? -(SX_P(c0d) - SX_P(c1d) * (X)) / SX_P(t_ltd) \
                                              : 0.0))

/* ---- as C ------------------------------------------------------------------ */
#include "device_expr_c.h"

static double pl_current(const double *p, double v, double x) { return PL_CURRENT(v, x); }

static double pl_rate(const double *p, double v, double x) { return PL_RATE(v, x); }

static void pl_cell_iv(const double *p, double x, ssp_cell_iv *iv)
{
    iv->kind = SSP_IV_LINEAR;
    iv->g = PL_G(x);
}

/* NeuroSim's label scale: vertical largest deviation = NL * this. */
#define NL_DEVIATION_PER_LABEL (0.07 * 1.4142135623730951)
/* Below this label the curve is treated as a straight line (A infinite):
 * the deviation is then under 1e-7 of the range. */
#define NL_LINEAR_BELOW 1e-6
/* Bracket (normalised a) and bisection steps for solving a(NL). */
#define NL_A_MIN 1e-4
#define NL_A_MAX 1e7
#define NL_BISECT_STEPS 200

/* Largest vertical distance of y(u) = (1 - e^(-u/a))/(1 - e^(-1/a)) above
 * the line y = u on [0, 1]; y'(u*) = 1 at u* = -a ln(a (1 - e^(-1/a))). */
static double nl_deviation(double a)
{
    double den = -expm1(-1.0 / a);
    double u = -a * log(a * den);
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    return -expm1(-u / a) / den - u;
}

/* NeuroSim's getParamA(|NL|) as the root of nl_deviation(a) = NL * scale. */
static double nl_param_a(double nl)
{
    double target = fabs(nl) * NL_DEVIATION_PER_LABEL, lo = log(NL_A_MIN), hi = log(NL_A_MAX);
    for (int i = 0; i < NL_BISECT_STEPS; i++) {
        double mid = 0.5 * (lo + hi);
        if (nl_deviation(exp(mid)) > target)
            lo = mid; /* too curved: a must grow */
        else
            hi = mid;
    }
    return exp(0.5 * (lo + hi));
}

/* Curve constants for one direction: A (pulses, signed; 0 if linear), c0, c1. */
static void curve(double nl, double n, double *a, double *c0, double *c1)
{
    double A, b;
    if (fabs(nl) < NL_LINEAR_BELOW) {
        *a = 0;
        *c0 = 1.0 / n;
        *c1 = 0;
        return;
    }
    A = (nl > 0 ? 1.0 : -1.0) * nl_param_a(nl) * n;
    b = 1.0 / -expm1(-n / A);
    *a = A;
    *c0 = b / A;
    *c1 = 1.0 / A;
}

static void pl_derive(double *p)
{
    curve(p[K_nl_ltp], p[K_n_ltp], &p[K_a_ltp], &p[K_c0p], &p[K_c1p]);
    curve(p[K_nl_ltd], p[K_n_ltd], &p[K_a_ltd], &p[K_c0d], &p[K_c1d]);
}

static int pl_check(const double *p, const char **key, char *why, size_t n)
{
    if (!(SX_P(g_max) > SX_P(g_min))) {
        *key = "g_max";
        snprintf(why, n, "Gmin >= Gmax: g_max (%g S) must exceed g_min (%g S)", SX_P(g_max),
                 SX_P(g_min));
        return 1;
    }
    return 0;
}

static void pl_vary(double *p, double s_gmin, double s_gmax)
{
    p[K_g_min] *= s_gmin;
    p[K_g_max] *= s_gmax;
}

/* Pulse position on a curve for normalised state x: the inverse of
 * x(p) = (1 - e^(-p/A)) / (1 - e^(-N/A)) (NeuroSim's InvNonlinearWeight). */
static double curve_position(double A, double n, double x)
{
    double b;
    if (A == 0) return n * x;
    b = 1.0 / -expm1(-n / A);
    return -A * log1p(-x / b);
}

/* Time a trapezoid (edges e, flat w, amplitude amp) spends beyond vth. */
static double time_beyond(double amp, double vth, double w, double e)
{
    if (fabs(amp) < fabs(vth) || amp * vth <= 0) return 0;
    return w + 2.0 * e * (1.0 - vth / amp);
}

static int pl_pulses(const double *p, double xa, double xb, double amp, double w, double e,
                     double *n)
{
    double t;
    if (xb > xa) {
        t = time_beyond(amp, SX_P(v_ltp), w, e);
        if (t <= 0) return 1;
        *n = (curve_position(SX_P(a_ltp), SX_P(n_ltp), xb) -
              curve_position(SX_P(a_ltp), SX_P(n_ltp), xa)) /
             (t / SX_P(t_ltp));
        return 0;
    }
    t = time_beyond(amp, SX_P(v_ltd), w, e);
    if (t <= 0) return 1;
    *n = (curve_position(SX_P(a_ltd), SX_P(n_ltd), xa) -
          curve_position(SX_P(a_ltd), SX_P(n_ltd), xb)) /
         (t / SX_P(t_ltd));
    return 0;
}

static size_t pl_thresholds(const double *p, double *v)
{
    v[0] = SX_P(v_ltp);
    v[1] = SX_P(v_ltd);
    return 2;
}

/* ---- as SPICE -------------------------------------------------------------- */
#include "device_expr_spice.h"

const struct ssp_device_ops ssp_device_ops_pulselevel = {
    .kind = "pulselevel",
    .title = "pulse-level LTP/LTD multi-level model (NeuroSim, Chen/Peng/Yu 2018)",
    .cite = pl_cite,
    .par = pl_par,
    .npar = K_NPAR,
    .check = pl_check,
    .derive = pl_derive,
    .vary = pl_vary,
    .current = pl_current,
    .rate = pl_rate,
    .cell_iv = pl_cell_iv,
    .pulses = pl_pulses,
    .thresholds = pl_thresholds,
    .spice_current = SX_STR(PL_CURRENT(v(p, n), SX_LIMIT(v(x)))),
    .spice_rate = SX_STR(PL_RATE(v(p, n), SX_LIMIT(v(x)))),
};
