/* ssp_vteam.c — the VTEAM model (Kvatinsky et al. 2015), written once.
 *
 * The VTEAM_* macros below are the only statement of the model. They are
 * expanded as C (for the integrator) and, at the bottom of the file, as the
 * text of the ngspice B-sources; do not write either form by hand. The state
 * x is the normalised ON-ness: x = (w_off - w) / (w_off - w_on), so x = 1 is
 * R_on. In VTEAM's convention a voltage below v_on (< 0) switches ON and a
 * voltage above v_off (> 0) switches OFF.
 *
 * Equations (Kvatinsky 2015, eqs. 1-4, with the TEAM window of Kvatinsky 2013):
 *   dw/dt = k_off (V/v_off - 1)^alpha_off f_off(w)   for V >= v_off
 *         = k_on  (V/v_on  - 1)^alpha_on  f_on(w)    for V <= v_on
 *         = 0                                        otherwise
 *   f_off(w) = exp(-exp((w - a_off)/w_c)),  f_on(w) = exp(-exp(-(w - a_on)/w_c))
 *   I = V / (R_on + (R_off - R_on)(w - w_on)/(w_off - w_on))          (iv = linear)
 *   I = V / (R_on exp(lambda (w - w_on)/(w_off - w_on))), lambda = ln(R_off/R_on)
 *                                                                    (iv = exponential)
 *   I = V (1/R_off + (1/R_on - 1/R_off) x)  (iv = conductance: G linear in
 *       the state; a siamspice option for training-oriented devices, not in
 *       the paper). */
#include <math.h>
#include <stdio.h>

#include "device_impl.h"

enum {
    K_r_on = SSP_DEVICE_NCOMMON, K_r_off, K_iv, K_v_on, K_v_off, K_k_on, K_k_off,
    K_alpha_on, K_alpha_off, K_w_on, K_w_off, K_a_on, K_a_off, K_w_c, K_lam, K_NPAR
};

#define REQ SSP_PARAM_REQUIRED
#define OLO SSP_PARAM_OPEN_LO
#define OHI SSP_PARAM_OPEN_HI
static const ssp_param vteam_par[K_NPAR] = {
    SSP_DEVICE_COMMON_PARAMS(0.0, SSP_PARAM_DERIVED),
    SSP_DEVICE_REAL("r_on", "ohm", 0, HUGE_VAL, REQ | OLO, 0, "ON resistance"),
    SSP_DEVICE_REAL("r_off", "ohm", 0, HUGE_VAL, REQ | OLO, 0, "OFF resistance"),
    SSP_DEVICE_CHOICE("iv", "linear|exponential|conductance", REQ, 0, "I-V relation: 0 linear R(w), 1 exponential R(w), 2 G linear in x"),
    SSP_DEVICE_REAL("v_on", "V", -HUGE_VAL, 0, REQ | OHI, 0, "ON threshold voltage (< 0)"),
    SSP_DEVICE_REAL("v_off", "V", 0, HUGE_VAL, REQ | OLO, 0, "OFF threshold voltage (> 0)"),
    SSP_DEVICE_REAL("k_on", "m/s", -HUGE_VAL, 0, REQ | OHI, 0, "ON rate constant (< 0)"),
    SSP_DEVICE_REAL("k_off", "m/s", 0, HUGE_VAL, REQ | OLO, 0, "OFF rate constant (> 0)"),
    SSP_DEVICE_REAL("alpha_on", "", 0, 20, REQ | OLO, 0, "ON rate exponent"),
    SSP_DEVICE_REAL("alpha_off", "", 0, 20, REQ | OLO, 0, "OFF rate exponent"),
    SSP_DEVICE_REAL("w_on", "m", 0, HUGE_VAL, REQ, 0, "state variable w at R_on"),
    SSP_DEVICE_REAL("w_off", "m", 0, HUGE_VAL, REQ | OLO, 0, "state variable w at R_off"),
    SSP_DEVICE_REAL("a_on", "m", -HUGE_VAL, HUGE_VAL, REQ, 0, "ON window position"),
    SSP_DEVICE_REAL("a_off", "m", -HUGE_VAL, HUGE_VAL, REQ, 0, "OFF window position"),
    SSP_DEVICE_REAL("w_c", "m", 0, HUGE_VAL, REQ | OLO, 0, "window edge width"),
    SSP_DEVICE_REAL("lam", "", 0, HUGE_VAL, SSP_PARAM_DERIVED, 0, "lambda = ln(r_off/r_on)"),
};
#undef REQ
#undef OLO
#undef OHI

static const char *const vteam_cite[] = {
    "S. Kvatinsky, M. Ramadan, E. G. Friedman, A. Kolodny, \"VTEAM: A General Model",
    "for Voltage-Controlled Memristors\", IEEE TCAS-II 62(8):786-790, 2015,",
    "doi:10.1109/TCSII.2015.2433536. Window: S. Kvatinsky et al., \"TEAM: ThrEshold",
    "Adaptive Memristor Model\", IEEE TCAS-I 60(1):211-221, 2013.",
    NULL};

/* ---- the model, once -------------------------------------------------- */

/* w from the normalised state */
#define VTEAM_W(X) (SX_P(w_on) + (1.0 - (X)) * (SX_P(w_off) - SX_P(w_on)))
#define VTEAM_R_LIN(X) (SX_P(r_on) + (SX_P(r_off) - SX_P(r_on)) * (1.0 - (X)))
#define VTEAM_R_EXP(X) (SX_P(r_on) * exp(SX_P(lam) * (1.0 - (X))))
#define VTEAM_G_LIN(X) (1.0 / SX_P(r_off) + (1.0 / SX_P(r_on) - 1.0 / SX_P(r_off)) * (X))
/* Resistances are never below r_on for X in [0, 1]; the max() only keeps a
 * wild state from dividing by zero. */
#define VTEAM_CURRENT(V, X)                                                              \
    (SX_P(iv) < 0.5 ? (V) / SX_MAX(VTEAM_R_LIN(X), SX_P(r_on))                            \
                    : (SX_P(iv) < 1.5 ? (V) / SX_MAX(VTEAM_R_EXP(X), SX_P(r_on))          \
                                      : (V) * VTEAM_G_LIN(X)))
#define VTEAM_F_OFF(W) exp(-exp(((W) - SX_P(a_off)) / SX_P(w_c)))
#define VTEAM_F_ON(W) exp(-exp(-((W) - SX_P(a_on)) / SX_P(w_c)))
#define VTEAM_DWDT(V, W)                                                                 \
    ((V) >= SX_P(v_off)                                                                  \
         ? SX_P(k_off) * pow(SX_MAX((V) / SX_P(v_off) - 1.0, 0.0), SX_P(alpha_off)) *      \
               VTEAM_F_OFF(W)                                                            \
         : ((V) <= SX_P(v_on)                                                            \
                ? SX_P(k_on) * pow(SX_MAX((V) / SX_P(v_on) - 1.0, 0.0), SX_P(alpha_on)) *  \
                      VTEAM_F_ON(W)                                                      \
                : 0.0))
#define VTEAM_RATE(V, X) (-VTEAM_DWDT(V, VTEAM_W(X)) / (SX_P(w_off) - SX_P(w_on)))

/* ---- as C ------------------------------------------------------------------ */
#include "device_expr_c.h"

static double vteam_current(const double *p, double v, double x) { return VTEAM_CURRENT(v, x); }

static double vteam_rate(const double *p, double v, double x) { return VTEAM_RATE(v, x); }

static void vteam_cell_iv(const double *p, double x, ssp_cell_iv *iv)
{
    iv->kind = SSP_IV_LINEAR;
    iv->g = VTEAM_CURRENT(1.0, x); /* every VTEAM I-V is linear in V at fixed state */
}

static int vteam_check(const double *p, const char **key, char *why, size_t n)
{
    if (!(SX_P(r_off) > SX_P(r_on))) {
        *key = "r_off";
        snprintf(why, n, "Gmin >= Gmax: r_off (%g ohm) must exceed r_on (%g ohm)", SX_P(r_off),
                 SX_P(r_on));
        return 1;
    }
    if (!(SX_P(w_off) > SX_P(w_on))) {
        *key = "w_off";
        snprintf(why, n, "must exceed w_on (%g m)", SX_P(w_on));
        return 1;
    }
    return 0;
}

static void vteam_derive(double *p) { p[K_lam] = log(p[K_r_off] / p[K_r_on]); }

static void vteam_vary(double *p, double s_gmin, double s_gmax)
{
    p[K_r_on] /= s_gmax;
    p[K_r_off] /= s_gmin;
}

static size_t vteam_thresholds(const double *p, double *v)
{
    v[0] = SX_P(v_on);
    v[1] = SX_P(v_off);
    return 2;
}

/* VTEAM_DWDT is 0 for v_on < V < v_off (and at the thresholds themselves,
 * where the power's base is 0). */
static void vteam_dead_band(const double *p, double *lo, double *hi)
{
    *lo = SX_P(v_on);
    *hi = SX_P(v_off);
}

/* ---- as SPICE -------------------------------------------------------------- */
#include "device_expr_spice.h"

const struct ssp_device_ops ssp_device_ops_vteam = {
    .kind = "vteam",
    .title = "VTEAM voltage-controlled memristor (Kvatinsky et al. 2015)",
    .cite = vteam_cite,
    .par = vteam_par,
    .npar = K_NPAR,
    .check = vteam_check,
    .derive = vteam_derive,
    .vary = vteam_vary,
    .current = vteam_current,
    .rate = vteam_rate,
    .cell_iv = vteam_cell_iv,
    .pulses = NULL,
    .thresholds = vteam_thresholds,
    .dead_band = vteam_dead_band,
    .spice_current = SX_STR(VTEAM_CURRENT(v(p, n), SX_LIMIT(v(x)))),
    .spice_rate = SX_STR(VTEAM_RATE(v(p, n), SX_LIMIT(v(x)))),
};
