/* ssp_biolek.c — linear ion drift (Strukov 2008) with the Biolek window
 * (Biolek 2009), written once.
 *
 * The BIO_* macros are the only statement of the model; they are expanded as
 * C for the integrator and stringified into the ngspice B-sources at the
 * bottom of the file. Never write either form by hand.
 *
 * Equations, x = w/D (x = 1: fully doped, R_on):
 *   R(x) = R_on x + R_off (1 - x),  I = V / R(x)
 *   dx/dt = (mu_v R_on / D^2) I f(x, I)                  (Strukov 2008, eq. 3)
 *   f(x, I) = 1 - (x - stp(-I))^(2p)                    (Biolek 2009, eq. 7)
 * Optional threshold v_th (0 in the published model): no motion while
 * |V| < v_th, as in the "linear ion drift with threshold" of Kvatinsky's
 * memristor models. A non-zero v_th is a siamspice extension, not Strukov's. */
#include <math.h>
#include <stdio.h>

#include "device_impl.h"

enum { K_r_on = SSP_DEVICE_NCOMMON, K_r_off, K_d, K_mu_v, K_p_win, K_v_th, K_k_drift, K_NPAR };

#define REQ SSP_PARAM_REQUIRED
#define OLO SSP_PARAM_OPEN_LO
static const ssp_param bio_par[K_NPAR] = {
    SSP_DEVICE_COMMON_PARAMS(0.0, SSP_PARAM_DERIVED),
    SSP_DEVICE_REAL("r_on", "ohm", 0, HUGE_VAL, REQ | OLO, 0, "resistance when fully doped"),
    SSP_DEVICE_REAL("r_off", "ohm", 0, HUGE_VAL, REQ | OLO, 0, "resistance when undoped"),
    SSP_DEVICE_REAL("d", "m", 0, HUGE_VAL, REQ | OLO, 0, "film thickness D"),
    SSP_DEVICE_REAL("mu_v", "m^2/(V*s)", 0, HUGE_VAL, REQ | OLO, 0, "dopant mobility"),
    SSP_DEVICE_WHOLE("p_win", 1, 100, REQ, 0, "Biolek window exponent p"),
    SSP_DEVICE_REAL("v_th", "V", 0, HUGE_VAL, 0, 0, "no motion below |V| = v_th (0: none)"),
    SSP_DEVICE_REAL("k_drift", "", 0, HUGE_VAL, SSP_PARAM_DERIVED, 0, "mu_v r_on / d^2, 1/(A*s)"),
};
#undef REQ
#undef OLO

static const char *const bio_cite[] = {
    "D. B. Strukov, G. S. Snider, D. R. Stewart, R. S. Williams, \"The missing",
    "memristor found\", Nature 453:80-83, 2008, doi:10.1038/nature06932;",
    "Z. Biolek, D. Biolek, V. Biolkova, \"SPICE Model of Memristor with Nonlinear",
    "Dopant Drift\", Radioengineering 18(2):210-214, 2009.",
    NULL};

/* ---- the model, once -------------------------------------------------- */

#define BIO_R(X) (SX_P(r_on) * (X) + SX_P(r_off) * (1.0 - (X)))
/* R(x) >= r_on on [0, 1]; the max() only guards a wild state. */
#define BIO_CURRENT(V, X) ((V) / SX_MAX(BIO_R(X), SX_P(r_on)))
#define BIO_WINDOW(V, X) (1.0 - pow(SX_ABS((X) - ((V) < 0.0 ? 1.0 : 0.0)), 2.0 * SX_P(p_win)))
#define BIO_RATE(V, X)                                                                   \
    (SX_ABS(V) >= SX_P(v_th) ? SX_P(k_drift) * BIO_CURRENT(V, X) * BIO_WINDOW(V, X) : 0.0)

/* ---- as C ------------------------------------------------------------------ */
#include "device_expr_c.h"

static double bio_current(const double *p, double v, double x) { return BIO_CURRENT(v, x); }

static double bio_rate(const double *p, double v, double x) { return BIO_RATE(v, x); }

static void bio_cell_iv(const double *p, double x, ssp_cell_iv *iv)
{
    iv->kind = SSP_IV_LINEAR;
    iv->g = BIO_CURRENT(1.0, x);
}

static int bio_check(const double *p, const char **key, char *why, size_t n)
{
    if (!(SX_P(r_off) > SX_P(r_on))) {
        *key = "r_off";
        snprintf(why, n, "Gmin >= Gmax: r_off (%g ohm) must exceed r_on (%g ohm)", SX_P(r_off),
                 SX_P(r_on));
        return 1;
    }
    return 0;
}

static void bio_derive(double *p) { p[K_k_drift] = p[K_mu_v] * p[K_r_on] / (p[K_d] * p[K_d]); }

static void bio_vary(double *p, double s_gmin, double s_gmax)
{
    p[K_r_on] /= s_gmax;
    p[K_r_off] /= s_gmin;
}

static size_t bio_thresholds(const double *p, double *v)
{
    if (SX_P(v_th) == 0) return 0;
    v[0] = SX_P(v_th);
    v[1] = -SX_P(v_th);
    return 2;
}

/* ---- as SPICE -------------------------------------------------------------- */
#include "device_expr_spice.h"

const struct ssp_device_ops ssp_device_ops_biolek = {
    .kind = "biolek",
    .title = "linear ion drift with the Biolek window (Strukov 2008, Biolek 2009)",
    .cite = bio_cite,
    .par = bio_par,
    .npar = K_NPAR,
    .check = bio_check,
    .derive = bio_derive,
    .vary = bio_vary,
    .current = bio_current,
    .rate = bio_rate,
    .cell_iv = bio_cell_iv,
    .pulses = NULL,
    .thresholds = bio_thresholds,
    .spice_current = SX_STR(BIO_CURRENT(v(p, n), SX_LIMIT(v(x)))),
    .spice_rate = SX_STR(BIO_RATE(v(p, n), SX_LIMIT(v(x)))),
};
