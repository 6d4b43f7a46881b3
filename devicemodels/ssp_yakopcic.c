/* ssp_yakopcic.c — the Yakopcic model (2011 EDL / 2013 TCAD), written once.
 *
 * The YAK_* macros are the only statement of the model; they are expanded as
 * C for the integrator and stringified into the ngspice B-sources at the
 * bottom of the file. Never write either form by hand.
 *
 * Equations (Yakopcic 2013, eqs. 1-8; the 2011 letter has the same form):
 *   I = a1 x sinh(b V)  for V >= 0,   a2 x sinh(b V)  for V < 0
 *   g(V) = Ap (e^V - e^Vp)     for V > Vp
 *        = -An (e^-V - e^Vn)   for V < -Vn
 *        = 0                   otherwise          (V in volts)
 *   f(x) = e^(-alphap (x - xp)) wp(x)   if eta V >= 0 and x >= xp
 *        = e^(alphan (x + xn - 1)) wn(x) if eta V < 0 and x <= 1 - xn
 *        = 1                             otherwise
 *   wp(x) = (xp - x)/(1 - xp) + 1,  wn(x) = x/(1 - xn)
 *   dx/dt = eta g(V) f(x)
 * I vanishes at x = 0, so a file must give x_lo > 0 (the lowest state a
 * device is allowed to reach); that bound is a siamspice choice, not the
 * paper's. */
#include <math.h>
#include <stdio.h>

#include "device_impl.h"

enum {
    K_a1 = SSP_DEVICE_NCOMMON, K_a2, K_b, K_vp, K_vn, K_ap, K_an, K_xp, K_xn, K_alphap,
    K_alphan, K_eta, K_NPAR
};

#define REQ SSP_PARAM_REQUIRED
#define OLO SSP_PARAM_OPEN_LO
#define OHI SSP_PARAM_OPEN_HI
static const ssp_param yak_par[K_NPAR] = {
    SSP_DEVICE_COMMON_PARAMS(0.0, REQ | OLO),
    SSP_DEVICE_REAL("a1", "A", 0, HUGE_VAL, REQ | OLO, 0, "I-V amplitude for V >= 0"),
    SSP_DEVICE_REAL("a2", "A", 0, HUGE_VAL, REQ | OLO, 0, "I-V amplitude for V < 0"),
    SSP_DEVICE_REAL("b", "1/V", 0, HUGE_VAL, REQ | OLO, 0, "I-V sinh steepness"),
    SSP_DEVICE_REAL("vp", "V", 0, HUGE_VAL, REQ, 0, "positive threshold"),
    SSP_DEVICE_REAL("vn", "V", 0, HUGE_VAL, REQ, 0, "negative threshold (magnitude)"),
    SSP_DEVICE_REAL("ap", "1/s", 0, HUGE_VAL, REQ | OLO, 0, "positive switching rate"),
    SSP_DEVICE_REAL("an", "1/s", 0, HUGE_VAL, REQ | OLO, 0, "negative switching rate"),
    SSP_DEVICE_REAL("xp", "", 0, 1, REQ | OHI, 0, "state where the positive window starts"),
    SSP_DEVICE_REAL("xn", "", 0, 1, REQ | OHI, 0, "1 - state where the negative window starts"),
    SSP_DEVICE_REAL("alphap", "", 0, HUGE_VAL, REQ, 0, "positive window decay"),
    SSP_DEVICE_REAL("alphan", "", 0, HUGE_VAL, REQ, 0, "negative window decay"),
    SSP_DEVICE_REAL("eta", "", -1, 1, REQ | SSP_PARAM_NONZERO, 0, "direction of motion (+1 or -1)"),
};
#undef REQ
#undef OLO
#undef OHI

static const char *const yak_cite[] = {
    "C. Yakopcic, T. M. Taha, G. Subramanyam, R. E. Pino, S. Rogers, \"A Memristor",
    "Device Model\", IEEE EDL 32(10):1436-1438, 2011, doi:10.1109/LED.2011.2163292;",
    "C. Yakopcic, T. M. Taha, G. Subramanyam, R. E. Pino, \"Generalized Memristive",
    "Device SPICE Model and its Application in Circuit Design\", IEEE TCAD",
    "32(8):1201-1214, 2013, doi:10.1109/TCAD.2013.2252057.",
    NULL};

/* ---- the model, once -------------------------------------------------- */

#define YAK_CURRENT(V, X)                                                                \
    ((V) >= 0.0 ? SX_P(a1) * (X) * sinh(SX_P(b) * (V)) : SX_P(a2) * (X) * sinh(SX_P(b) * (V)))
#define YAK_G(V)                                                                         \
    ((V) > SX_P(vp) ? SX_P(ap) * (exp(V) - exp(SX_P(vp)))                                 \
                    : ((V) < -SX_P(vn) ? -SX_P(an) * (exp(-(V)) - exp(SX_P(vn))) : 0.0))
#define YAK_WP(X) ((SX_P(xp) - (X)) / (1.0 - SX_P(xp)) + 1.0)
#define YAK_WN(X) ((X) / (1.0 - SX_P(xn)))
#define YAK_F(V, X)                                                                      \
    (SX_P(eta) * (V) >= 0.0                                                              \
         ? ((X) >= SX_P(xp) ? exp(-SX_P(alphap) * ((X) - SX_P(xp))) * YAK_WP(X) : 1.0)     \
         : ((X) <= 1.0 - SX_P(xn) ? exp(SX_P(alphan) * ((X) + SX_P(xn) - 1.0)) * YAK_WN(X)  \
                                  : 1.0))
#define YAK_RATE(V, X) (SX_P(eta) * YAK_G(V) * YAK_F(V, X))

/* ---- as C ------------------------------------------------------------------ */
#include "device_expr_c.h"

static double yak_current(const double *p, double v, double x) { return YAK_CURRENT(v, x); }

static double yak_rate(const double *p, double v, double x) { return YAK_RATE(v, x); }

static void yak_cell_iv(const double *p, double x, ssp_cell_iv *iv)
{
    iv->kind = SSP_IV_SINH;
    iv->gp = SX_P(a1) * x;
    iv->gn = SX_P(a2) * x;
    iv->b = SX_P(b);
}

static int yak_check(const double *p, const char **key, char *why, size_t n)
{
    if (fabs(SX_P(eta)) != 1.0) {
        *key = "eta";
        snprintf(why, n, "must be 1 or -1, got %g", SX_P(eta));
        return 1;
    }
    return 0;
}

static void yak_vary(double *p, double s_gmin, double s_gmax)
{
    /* Gmax = a1 x_hi sinh(b Vr): scale a1, a2; Gmin = a1 x_lo sinh(b Vr). */
    p[K_a1] *= s_gmax;
    p[K_a2] *= s_gmax;
    p[K_x_lo] *= s_gmin / s_gmax;
}

static size_t yak_thresholds(const double *p, double *v)
{
    v[0] = SX_P(vp);
    v[1] = -SX_P(vn);
    return 2;
}

/* YAK_G is 0 for -vn <= V <= vp, so the rate is too. */
static void yak_dead_band(const double *p, double *lo, double *hi)
{
    *lo = -SX_P(vn);
    *hi = SX_P(vp);
}

/* ---- as SPICE -------------------------------------------------------------- */
#include "device_expr_spice.h"

const struct ssp_device_ops ssp_device_ops_yakopcic = {
    .kind = "yakopcic",
    .title = "Yakopcic generalized memristor model (Yakopcic et al. 2011, 2013)",
    .cite = yak_cite,
    .par = yak_par,
    .npar = K_NPAR,
    .check = yak_check,
    .derive = NULL,
    .vary = yak_vary,
    .current = yak_current,
    .rate = yak_rate,
    .cell_iv = yak_cell_iv,
    .pulses = NULL,
    .thresholds = yak_thresholds,
    .dead_band = yak_dead_band,
    .spice_current = SX_STR(YAK_CURRENT(v(p, n), SX_LIMIT(v(x)))),
    .spice_rate = SX_STR(YAK_RATE(v(p, n), SX_LIMIT(v(x)))),
};
