/* ssp_fit.h — fit a compact model to measured pulse data.
 *
 * A device engineer measures the conductance after every programming pulse:
 * potentiation and depression cycles, several cycles per device, several
 * devices. ssp_fit_data_parse() reads that table (CSV, one row per pulse):
 *
 *   device,cycle,pulse,amplitude_V,width_s,g_S
 *
 * device: a name (letters, digits, '_', '-', '.'); cycle, pulse: integers
 * >= 0; amplitude_V: the pulse amplitude (V); width_s: its flat width (s,
 * > 0); g_S: the conductance read after the pulse (S, > 0). Units are part
 * of the column names; the columns may come in any order, no others are
 * accepted. Lines starting with '#' and blank lines are skipped. Within a
 * device, rows come in measurement order: cycles ascending, pulses of a
 * cycle consecutive (k, k+1, ...). A row with pulse 0, amplitude_V 0 and
 * width_s 0 is the read before the cycle's first pulse. Every pulse starts
 * from the conductance of the row before it in the same device; the first
 * row of a device without a pulse-0 row only gives the starting point.
 *
 * ssp_fit_run() fits a model kind (vteam, yakopcic, biolek, pulselevel) by
 * nonlinear least squares (GSL gsl_multifit_nlinear, trust region with
 * Levenberg-Marquardt steps) on the pulse-by-pulse response: each measured
 * pulse is replayed on the C model from the measured conductance before
 * it, and the residual is the predicted minus the measured conductance
 * after it, in units of the data's conductance range. That is the exact
 * likelihood of the models' own noise (a cycle-to-cycle random step per
 * pulse), so the residuals estimate it. Bounds are transforms, not clamps:
 * positive parameters are fitted as their logarithm, negative ones as the
 * logarithm of their magnitude, bounded ones through a logistic map, and
 * g_max / r_off as a log ratio over g_min / r_on, so every trial point is a
 * valid model. Several starts (a data-driven one plus seeded perturbations,
 * and each discrete option a model has) are tried and the best kept.
 * Then each device is fitted alone with three factors (Gmin, Gmax, rate:
 * the model's own device-to-device variation) and the spread of their
 * logarithms is the device-to-device sigma; the residuals of those fits give
 * the cycle-to-cycle sigma (and the read noise, from their lag-1
 * correlation). The result carries a parameter file in the format of
 * devicemodels/params/ (the .ini files), confidence intervals from the Jacobian, rms
 * errors per cycle and the replayed curve.
 *
 * This module runs no simulator and prints nothing: messages go to the
 * ssp_ctx. It calls gsl_set_error_handler_off() (process-wide) and checks
 * every GSL return. */
#ifndef SSP_FIT_H
#define SSP_FIT_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "ssp_device.h"
#include "ssp_error.h"

/* ---- measured data ------------------------------------------------------- */

typedef struct ssp_fit_data {
    char *origin;      /* file name used in messages, owned */
    size_t n;          /* rows (pulses, pulse-0 reads included) */
    size_t ndev;       /* devices */
    char **dev_name;   /* ndev names, owned */
    size_t *dev;       /* n: device index of each row */
    long *cycle;       /* n: cycle number */
    long *pulse;       /* n: pulse number within the cycle */
    double *amp;       /* n: amplitude (V); 0 on a pulse-0 read */
    double *width;     /* n: flat width (s); 0 on a pulse-0 read */
    double *g;         /* n: conductance read after the pulse (S) */
    long *line;        /* n: line of the row in the file */
    long *prev;        /* n: row whose conductance the pulse starts from, -1: none */
} ssp_fit_data;

/* Parse CSV text (len bytes, need not be NUL-terminated). Errors
 * (SSP_EFORMAT) name origin and the line: an unknown, missing or repeated
 * column (a column with the wrong unit is named as such), a field that is not
 * a number, NaN or infinity, a conductance <= 0, a width <= 0, a pulse index
 * that does not follow the previous one, a cycle that goes back, a cycle with
 * a single row, no data. */
SSP_API int ssp_fit_data_parse(ssp_fit_data **out, ssp_ctx *ctx, const char *buf, size_t len,
                       const char *origin);
/* The same from a file (SSP_EIO if it cannot be read). */
SSP_API int ssp_fit_data_load(ssp_fit_data **out, ssp_ctx *ctx, const char *path);
/* Free *d and set it to NULL; NULL is a no-op. */
SSP_API void ssp_fit_data_free(ssp_fit_data **d);

/* ---- synthetic data ------------------------------------------------------ */

/* A measurement protocol for ssp_fit_generate. */
typedef struct ssp_fit_protocol {
    size_t devices;    /* devices, each drawn from the model's variation */
    size_t cycles;     /* cycles per device */
    size_t up, down;   /* SET pulses then RESET pulses per cycle */
    double set_amp, set_width;     /* V, s; 0: the model's default SET pulse */
    double reset_amp, reset_width; /* V, s; 0: the model's default RESET pulse */
} ssp_fit_protocol;

/* Generate the CSV text of a measurement on model m (malloc'ed, NUL-
 * terminated, freed by the caller): devices drawn with ssp_device_sample
 * (a stuck device is redrawn: it has no pulse response), starting at the
 * model's initial state, one pulse-0 read per device's first cycle, then
 * every pulse with the model's cycle-to-cycle noise and a noisy read. */
SSP_API int ssp_fit_generate(char **csv, ssp_ctx *ctx, const ssp_device_model *m, gsl_rng *rng,
                     const ssp_fit_protocol *proto);

/* ---- fitting --------------------------------------------------------------- */

typedef struct ssp_fit_options {
    const char *kind;    /* "vteam", "yakopcic", "biolek" or "pulselevel" */
    double read_voltage; /* V at which g_S was read; 0: 0.2 x the smallest |amplitude| */
    double edge;         /* pulse rise/fall time (s); 0: 2 % of the shortest width */
    size_t starts;       /* random starts besides the data-driven one; 0: per model */
    size_t max_iter;     /* trust-region iterations per start; 0: 200 */
    unsigned long seed;  /* seed of the start perturbations */
} ssp_fit_options;

/* Most parameters a fit reports. */
#define SSP_FIT_MAX_FREE 12

/* One fitted parameter. */
typedef struct ssp_fit_param {
    char key[32];       /* parameter-file key */
    char unit[16];      /* its SI unit as written in the file ("" dimensionless) */
    double value;       /* fitted value (SI) */
    double lo, hi;      /* 95 % confidence interval (SI), from the Jacobian */
    char note[64];      /* what the value means when it is not the file's key */
} ssp_fit_param;

/* One cycle's agreement. */
typedef struct ssp_fit_cycle {
    size_t dev;          /* device index */
    long cycle;          /* cycle number */
    size_t first, count; /* rows of the cycle: first row index and number of rows */
    double rms_step;     /* rms one-pulse prediction error, % of the data's range */
    double rms_replay;   /* rms error of the free-running replay, % of the range */
} ssp_fit_cycle;

typedef struct ssp_fit_result {
    ssp_device_model *model;   /* the fitted nominal model, owned */
    char *ini;                 /* its parameter file text, owned */
    size_t nfree;              /* fitted parameters */
    ssp_fit_param par[SSP_FIT_MAX_FREE];
    size_t nres;               /* residuals (pulses with a predecessor) */
    double range;              /* S, the data's conductance range (max - min) */
    double rms;                /* rms one-pulse error of the nominal fit, % of range */
    size_t starts_tried;       /* starts run */
    size_t starts_converged;   /* of which converged */
    size_t iterations;         /* iterations of the kept start */
    char option[48];           /* the discrete option kept ("iv = linear", ""), */
    /* variation estimated from the data (fractions, as the file writes them in %) */
    double c2c_range;          /* cycle-to-cycle sigma per pulse, fraction of the window */
    double read_noise;         /* relative sigma of a read */
    double d2d_gmin, d2d_gmax, d2d_rate; /* lognormal sigmas; 0 with one device */
    double d2d_se[3];          /* rms standard error of one device's log factor (Gmin,
                                * Gmax, rate): a spread below it is not resolved */
    double *dev_factor;        /* ndev x 3: s_gmin, s_gmax, rate factor of each device */
    double nl_ltp, nl_ltd;     /* NeuroSim nonlinearity labels of the fitted curves */
    double n_ltp, n_ltd;       /* pulses of the SET / RESET pulse across 99 % of the range */
    size_t ncycles;
    ssp_fit_cycle *cycles;     /* ncycles, owned */
    double *g_fit;             /* n rows: the replayed conductance (S; per device, per cycle) */
    double *x_start;           /* ncycles: the state each cycle's replay starts from */
} ssp_fit_result;

/* Fit d with o. SSP_EINVAL (bad input: unknown kind, too few pulses per
 * parameter, data the model cannot describe, e.g. pulses raising G with the
 * polarity the model uses to lower it) or SSP_ECONVERGE (no start
 * converged; the message lists what was tried), messages naming d->origin. */
SSP_API int ssp_fit_run(ssp_fit_result **out, ssp_ctx *ctx, const ssp_fit_data *d,
                const ssp_fit_options *o);
SSP_API void ssp_fit_result_free(ssp_fit_result **r);

/* Device k of the fit: the nominal model with device k's fitted factors,
 * in the state cycle c's replay starts from (c indexes r->cycles). */
SSP_API int ssp_fit_device(ssp_device *dev, ssp_ctx *ctx, const ssp_fit_result *r, size_t k, size_t c);

#endif
