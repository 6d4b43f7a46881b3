/* device_impl.h — internal interface between the device module (ssp_device_*.c)
 * and the model files.
 *
 * A model file (ssp_vteam.c, ssp_yakopcic.c, ssp_biolek.c, ssp_pulselevel.c)
 * writes its equations once, as macros over a tiny vocabulary (SX_P, SX_MIN,
 * SX_MAX, SX_ABS, the C operators, exp, pow, sinh). The file expands them
 * twice: first with device_expr_c.h included, which makes them C that the
 * integrator calls; then with device_expr_spice.h included, where they are
 * stringified into the B-source expressions of the emitted subcircuit. The
 * C model and the SPICE model are therefore the same token sequence.
 *
 * Not a public header: nothing outside devicemodels/ includes it, and it must
 * not grow anything a caller needs (that belongs in ssp_device.h). */
#ifndef SSP_DEVICE_IMPL_H
#define SSP_DEVICE_IMPL_H

#include <stddef.h>

#include "ssp_cell_iv.h"
#include "ssp_params.h"

/* Largest number of physical parameters a model may declare (the three
 * common slots included); ssp_device.h's SSP_DEVICE_MAX_PARAMS must match. */
#define SSP_DEVICE_NPARAM_MAX 24

/* The first three slots of every model's parameter vector; the names are the
 * file keys and the .subckt parameter names. */
enum {
    K_x_lo = 0, /* lower bound of the state window (OFF end) */
    K_x_hi = 1, /* upper bound of the state window (ON end) */
    K_kr = 2    /* rate multiplier: d2d rate spread, 0 for a stuck device */
};
#define SSP_DEVICE_NCOMMON 3

/* Most threshold voltages a model reports. */
#define SSP_DEVICE_NTHRESH 4

/* A model's [parameters] table is an ssp_param table (ssp_params.h) over
 * its parameter vector: entry i is slot i, a double. A physical value must
 * be written with its unit (ssp_units.h: "10 kohm", "3 nm", "0.5 mm/s");
 * a dimensionless one bare (or with "1"). */
#define SSP_DEVICE_REAL(key, unit, lo, hi, flags, def, what) \
    {"parameters", key, SSP_PARAM_REAL, unit, lo, hi, (flags) | SSP_PARAM_UNIT_REQUIRED, 0, 0, 0, NULL, 0, def, what}
/* A whole number (a pulse count, a window exponent) kept in its double slot. */
#define SSP_DEVICE_WHOLE(key, lo, hi, flags, def, what) \
    {"parameters", key, SSP_PARAM_WHOLE, "", lo, hi, (flags) | SSP_PARAM_IN_DOUBLE, 0, 0, 0, NULL, 0, def, what}
/* One word of words ("a|b|c"), its index kept in the double slot. */
#define SSP_DEVICE_CHOICE(key, words, flags, def, what) \
    {"parameters", key, SSP_PARAM_CHOICE, "", 0, 0, (flags) | SSP_PARAM_IN_DOUBLE, 0, 0, 0, words, 0, def, what}

/* A model: its parameter table, its equations in C, the same equations as
 * SPICE text, and the hooks the shared machinery needs. Instances are const
 * statics in the model files. */
struct ssp_device_ops {
    const char *kind;                    /* value of [device] model = ... */
    const char *title;                   /* one line: model and its paper */
    const char *const *cite;             /* NULL-terminated citation lines */
    const ssp_param *par;                /* [parameters] table; first 3 entries: x_lo, x_hi, kr */
    size_t npar;                         /* entries in par */
    /* Cross-parameter checks after loading (ranges are already checked).
     * Returns 0, or 1 with *key and why set. */
    int (*check)(const double *p, const char **key, char *why, size_t n);
    /* Fill the SSP_PF_DERIVED slots from the others (NULL: none). */
    void (*derive)(double *p);
    /* Apply device-to-device factors: Gmin and Gmax multiplied by s_gmin and
     * s_gmax (the rate spread is applied by the caller through kr). */
    void (*vary)(double *p, double s_gmin, double s_gmax);
    /* I(V, x) in A; x is already inside [x_lo, x_hi]. */
    double (*current)(const double *p, double v, double x);
    /* dx/dt in 1/s before the window-bound gate and kr. */
    double (*rate)(const double *p, double v, double x);
    /* Read-state element at state x (ssp_cell_iv.h). */
    void (*cell_iv)(const double *p, double x, ssp_cell_iv *iv);
    /* Optional closed-form pulse count from xa to xb under a pulse of
     * amplitude amp and flat width w with edges e (NULL: use stepping).
     * Returns 0, or 1 if the pulse cannot move the state that way. */
    int (*pulses)(const double *p, double xa, double xb, double amp, double w, double e,
                  double *n);
    /* The voltages where the state equation switches on (signed), at most
     * SSP_DEVICE_NTHRESH; returns how many. Pulse waveforms get a corner at
     * each crossing so both integrators step exactly onto the kink. */
    size_t (*thresholds)(const double *p, double *v);
    /* Optional (NULL: none): the closed voltage interval [*lo, *hi] around
     * 0 V on which rate() is exactly 0 for every state (a threshold model's
     * dead band). Lets ssp_device_pulse_inert() skip an integration that
     * cannot change the state. */
    void (*dead_band)(const double *p, double *lo, double *hi);
    const char *spice_current; /* I(V, x): V = v(p,n), x = limited v(x) */
    const char *spice_rate;    /* dx/dt, same convention */
};

extern const struct ssp_device_ops ssp_device_ops_vteam;
extern const struct ssp_device_ops ssp_device_ops_yakopcic;
extern const struct ssp_device_ops ssp_device_ops_biolek;
extern const struct ssp_device_ops ssp_device_ops_pulselevel;

/* The three common table entries every model starts with. */
#define SSP_DEVICE_COMMON_PARAMS(xlo_def, xlo_flags)                                     \
    SSP_DEVICE_REAL("x_lo", "", 0.0, 1.0, (xlo_flags), (xlo_def),                        \
                    "lower bound of the state window (OFF end)"),                        \
    SSP_DEVICE_REAL("x_hi", "", 0.0, 1.0, SSP_PARAM_DERIVED, 1.0,                        \
                    "upper bound of the state window (ON end)"),                         \
    SSP_DEVICE_REAL("kr", "", 0.0, 1e3, SSP_PARAM_DERIVED, 1.0,                          \
                    "rate multiplier (device-to-device spread; 0 = stuck)")

/* Width of the band at each end of the state window over which the rate
 * fades linearly to zero (state units). Keeps the state inside the window
 * without a discontinuity that would upset ngspice's Newton iteration. */
#define SSP_DEVICE_BOUND_BAND 1e-3

/* Shared equation pieces, written in the vocabulary of device_expr_c.h /
 * device_expr_spice.h (macros expand where they are used, so these read as C
 * or as SPICE depending on which of the two was included last). */

/* The state limited to the window [x_lo, x_hi]. */
#define SX_LIMIT(X) SX_MIN(SX_MAX((X), SX_P(x_lo)), SX_P(x_hi))
/* A raw rate R gated at the window bounds and scaled by kr: a positive rate
 * fades to 0 over the last SSP_DEVICE_BOUND_BAND below x_hi, a negative one
 * over the band above x_lo. */
#define SX_GATE(R, X)                                                                     \
    (SX_P(kr) * (SX_MAX((R), 0.0) *                                                       \
                     SX_MIN(SX_MAX((SX_P(x_hi) - (X)) / SSP_DEVICE_BOUND_BAND, 0.0), 1.0) + \
                 SX_MIN((R), 0.0) *                                                       \
                     SX_MIN(SX_MAX(((X) - SX_P(x_lo)) / SSP_DEVICE_BOUND_BAND, 0.0), 1.0)))

#endif
