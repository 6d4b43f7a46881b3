/* ssp_device.h — memristor compact models, in C and as ngspice subcircuits.
 *
 * A model (ssp_device_model) is one published parameter set, loaded from an
 * INI file under devicemodels/params/ that gives every value with its unit
 * and cites its paper. Four model kinds exist: "vteam" (Kvatinsky 2015),
 * "yakopcic" (Yakopcic 2011/2013), "biolek" (linear ion drift, Strukov 2008,
 * with the Biolek 2009 window) and "pulselevel" (the NeuroSim LTP/LTD curve).
 * Each kind's equations are written once; the C functions below and the
 * SPICE text of ssp_device_spice_subckt() are both expanded from that single
 * definition (see device_impl.h), and the tests check that they agree.
 *
 * The state x of every device is dimensionless, inside the model's window
 * [x_lo, x_hi] (normally [0, 1]); larger x means larger conductance. A device
 * (ssp_device) is a plain value: the model it follows, its own parameters after
 * device-to-device variation, its state and its stuck flag. Devices do not
 * own memory, so arrays of them are cheap.
 *
 * Randomness comes only from a gsl_rng the caller passes (create one with
 * ssp_device_rng_alloc(seed): mt19937). The same seed and the same sequence of
 * calls reproduce a run exactly. A NULL rng means "no noise".
 *
 * Process-wide note: ssp_device_rng_alloc() and ssp_device_work_alloc() call
 * gsl_set_error_handler_off(), which affects every GSL user in the process;
 * all GSL return codes are checked here instead.
 *
 * This module does not run ngspice and does not print: it returns status
 * codes (ssp_error.h) with the message in the ssp_ctx. */

/* devicemodels/ — memristor compact models: each model's equations written
 * once (device_impl.h, internal) and expanded into C and SPICE; parameter
 * files with units and citations (params/). Uses harness/core/ only. */
#ifndef SSP_DEVICE_H
#define SSP_DEVICE_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "ssp_cell_iv.h"
#include "ssp_error.h"

/* Room for one model's parameter vector (must match device_impl.h). */
#define SSP_DEVICE_MAX_PARAMS 24

typedef struct ssp_device_model ssp_device_model;

enum ssp_device_stuck {
    SSP_DEVICE_FREE = 0,      /* programs normally */
    SSP_DEVICE_STUCK_ON = 1,  /* frozen at x_hi (Gmax) */
    SSP_DEVICE_STUCK_OFF = 2  /* frozen at x_lo (Gmin) */
};

/* One device. Fill it with ssp_device_init() or ssp_device_sample(). */
typedef struct ssp_device {
    const ssp_device_model *model;   /* not owned; must outlive the device */
    double p[SSP_DEVICE_MAX_PARAMS]; /* this device's parameters (after d2d variation) */
    double x;                        /* state, inside [x_lo, x_hi] */
    int stuck;                       /* enum ssp_device_stuck */
} ssp_device;

/* Integrator workspace (GSL odeiv2 rkf45 with error control); one per thread. */
typedef struct ssp_device_work ssp_device_work;

/* A drive waveform: the voltage across the device at time t (s). */
typedef double (*ssp_device_wave_fn)(double t, void *payload);

/* Which default pulse of the model. */
enum ssp_device_pulse_kind { SSP_DEVICE_SET = 0, SSP_DEVICE_RESET = 1 };

/* ---- models ------------------------------------------------------------ */

/* Load and validate a parameter file. Errors (SSP_EIO, SSP_ECONFIG) name the
 * file, the key and the reason. */
SSP_API int ssp_device_model_load(ssp_device_model **out, ssp_ctx *ctx, const char *path);
/* The same from INI text in memory; origin names it in messages. */
SSP_API int ssp_device_model_parse(ssp_device_model **out, ssp_ctx *ctx, const char *text,
                           const char *origin);
/* Free *m and set it to NULL; NULL is a no-op. */
SSP_API void ssp_device_model_free(ssp_device_model **m);

/* A model as bytes, for another process of the same build (a pool job):
 * encode writes ssp_device_model_encoded_size() bytes; decode makes a new
 * model from them (free with ssp_device_model_free), SSP_EINVAL when they are
 * not one (wrong length, unknown kind, unterminated names). */
SSP_API size_t ssp_device_model_encoded_size(void);
SSP_API void ssp_device_model_encode(const ssp_device_model *m, unsigned char *buf);
SSP_API int ssp_device_model_decode(ssp_device_model **out, ssp_ctx *ctx, const unsigned char *buf, size_t n);

SSP_API const char *ssp_device_model_kind(const ssp_device_model *m);   /* "vteam", ... */
SSP_API const char *ssp_device_model_name(const ssp_device_model *m);   /* subckt name */
SSP_API const char *ssp_device_model_origin(const ssp_device_model *m); /* file it came from */
SSP_API const char *ssp_device_model_title(const ssp_device_model *m);  /* model and paper */
/* Nominal conductance bounds at the read voltage (S). */
SSP_API double ssp_device_model_gmin(const ssp_device_model *m);
SSP_API double ssp_device_model_gmax(const ssp_device_model *m);
/* Read voltage (V) and the width of one read (s; a read is +V then -V, each
 * for half of it, so threshold-free models see no net drift). */
SSP_API double ssp_device_model_read_voltage(const ssp_device_model *m);
SSP_API double ssp_device_model_read_width(const ssp_device_model *m);
/* Default SET / RESET pulse: amplitude (V), flat width (s); edge time (s). */
SSP_API void ssp_device_model_pulse(const ssp_device_model *m, int kind, double *amplitude,
                            double *width);
SSP_API double ssp_device_model_edge(const ssp_device_model *m);
/* A parameter value in SI units, by file key ("r_on", "c2c_range", ...). */
SSP_API int ssp_device_model_param(const ssp_device_model *m, ssp_ctx *ctx, const char *key,
                           double *value);

/* ---- devices ----------------------------------------------------------- */

/* A nominal device (no variation, not stuck) at state x0 (clamped to the
 * window; use ssp_device_model_x_init for the file's initial state). */
SSP_API void ssp_device_init(ssp_device *dev, const ssp_device_model *m, double x0);
SSP_API double ssp_device_model_x_init(const ssp_device_model *m);
/* A device drawn from the model's variation: lognormal factors on Gmin, Gmax
 * and rate, then stuck-at-ON / stuck-at-OFF with the file's fractions. Starts
 * at the file's initial state (or its stuck bound). A NULL rng gives the
 * nominal device (ssp_device_init at the file's initial state). */
SSP_API int ssp_device_sample(ssp_device *dev, ssp_ctx *ctx, const ssp_device_model *m, gsl_rng *rng);

/* Freeze a device at x_hi (SSP_DEVICE_STUCK_ON) or x_lo (SSP_DEVICE_STUCK_OFF):
 * its rate factor becomes 0, so neither C nor SPICE pulses move it. */
SSP_API void ssp_device_stick(ssp_device *dev, int stuck);

/* This device's bounds (S) at the model's read voltage. */
SSP_API double ssp_device_gmin(const ssp_device *dev);
SSP_API double ssp_device_gmax(const ssp_device *dev);
/* The device's rate multiplier (1 nominal, 0 stuck). */
SSP_API double ssp_device_rate_factor(const ssp_device *dev);
/* Current (A) through the device at voltage v in its present state. */
SSP_API double ssp_device_current(const ssp_device *dev, double v);
/* Conductance I(v)/v at read voltage v != 0 (S), noise-free. */
SSP_API double ssp_device_conductance(const ssp_device *dev, double v);
/* A read at the model's read voltage, with the model's read noise drawn from
 * rng (NULL: none). Does not change the state. */
SSP_API int ssp_device_read(const ssp_device *dev, gsl_rng *rng, double *g);
/* The read-state element of the device in its present state. */
SSP_API void ssp_device_cell_iv(const ssp_device *dev, ssp_cell_iv *out);
/* Put the device in the state whose noise-free read conductance is g
 * (SSP_ERANGE outside [gmin, gmax]; stuck devices: SSP_ESTATE). */
SSP_API int ssp_device_set_conductance(ssp_device *dev, ssp_ctx *ctx, double g);

/* ---- programming ------------------------------------------------------- */

/* Allocate / free an integrator workspace (free accepts NULL; sets *w NULL). */
SSP_API int ssp_device_work_alloc(ssp_device_work **out, ssp_ctx *ctx);
SSP_API void ssp_device_work_free(ssp_device_work **w);

/* Integrate the state under an arbitrary drive from t0 to t1 (no noise). */
SSP_API int ssp_device_evolve(ssp_device *dev, ssp_device_work *w, ssp_device_wave_fn wave,
                      void *payload, double t0, double t1);
/* One trapezoidal programming pulse: 0 -> amplitude in the model's edge time,
 * flat for width, back to 0 in the edge time. The state change is then
 * perturbed by cycle-to-cycle noise drawn from rng (NULL: none) when the
 * pulse moved the state. Stuck devices do not move. */
SSP_API int ssp_device_pulse(ssp_device *dev, ssp_device_work *w, gsl_rng *rng, double amplitude,
                     double width);
/* 1 when a pulse of this amplitude (any width) provably leaves the device
 * where it is: it is stuck (rate factor 0), or every voltage between 0 and
 * the amplitude lies inside the model's dead band, where its state equation
 * is exactly 0. ssp_device_pulse() would then return the same state and draw
 * no noise, so a caller may skip it. 0: the pulse may move it. */
SSP_API int ssp_device_pulse_inert(const ssp_device *dev, double amplitude);
/* The same test in two parts, for callers that ask it of many voltages:
 * SSP_DEVICE_INERT_ALWAYS (stuck, or no rate at all: inert at any
 * amplitude), SSP_DEVICE_INERT_NEVER (no dead band), or
 * SSP_DEVICE_INERT_BAND: inert exactly when lo <= amplitude <= hi (a finite
 * amplitude; the band holds 0). ssp_device_pulse_inert is this test. */
enum { SSP_DEVICE_INERT_NEVER = 0, SSP_DEVICE_INERT_BAND = 1, SSP_DEVICE_INERT_ALWAYS = 2 };
SSP_API int ssp_device_inert_band(const ssp_device *dev, double *lo, double *hi);
/* The corners of one pulse starting at t0 as a piecewise-linear waveform:
 * 0 V, up to amplitude in the model's edge time, flat for width, down again,
 * with an extra corner wherever an edge crosses one of the model's switching
 * thresholds. Feed them to a SPICE PWL source and the simulator steps onto
 * every kink the C integrator also respects (that is what makes the two
 * agree to a small fraction of a pulse). t, v: room for
 * SSP_DEVICE_PULSE_CORNERS values; *n gets the count. */
#define SSP_DEVICE_PULSE_CORNERS 12
SSP_API int ssp_device_pulse_corners(const ssp_device *dev, double t0, double amplitude, double width,
                             double *t, double *v, size_t *n);
/* n reads at the model's read voltage, integrated (the disturb they cause). */
SSP_API int ssp_device_read_disturb(ssp_device *dev, ssp_device_work *w, long n);
/* Number of identical pulses (amplitude, width) that take the noise-free
 * device from conductance g_from to g_to, as a real number (fractional part
 * interpolated). Closed form for pulse-level models, pulse stepping for the
 * others. SSP_EUNREACHABLE if the pulse moves the other way, does not move
 * the device or saturates before g_to. */
SSP_API int ssp_device_pulses_between(const ssp_device *dev, ssp_device_work *w, ssp_ctx *ctx,
                              double g_from, double g_to, double amplitude, double width,
                              double *n);

/* ---- level tables ------------------------------------------------------ */

/* N target conductances spread evenly between a device's Gmin and Gmax, each
 * with its tolerance band [lo, hi] = g -/+ tol * spacing / 2 (0 < tol <= 1,
 * so bands never overlap) and the state that reads as g. */
typedef struct ssp_device_levels {
    size_t n;  /* number of levels */
    double *g; /* S, targets, ascending */
    double *lo; /* S, lower edge of each band */
    double *hi; /* S, upper edge of each band */
    double *x; /* state reading as g[i] */
} ssp_device_levels;

SSP_API int ssp_device_levels_alloc(ssp_device_levels **out, ssp_ctx *ctx, const ssp_device *dev,
                            size_t n, double tol);
SSP_API void ssp_device_levels_free(ssp_device_levels **lv);
/* Index of the level whose band holds g, or -1 if none. */
SSP_API long ssp_device_levels_find(const ssp_device_levels *lv, double g);

/* ---- randomness -------------------------------------------------------- */

/* A gsl_rng (mt19937) seeded with seed; free with ssp_device_rng_free. */
SSP_API int ssp_device_rng_alloc(gsl_rng **out, ssp_ctx *ctx, unsigned long seed);
SSP_API void ssp_device_rng_free(gsl_rng **rng);

/* ---- SPICE ------------------------------------------------------------- */

/* The ngspice subcircuit of a model:
 *   .subckt NAME p n x params: <every parameter>=<nominal value> x0=<init>
 * with a header citing the paper, I(p,n) = f(V, x) as a B-source and the state
 * on node x (a 1 F capacitor charged by a B-source, ic = x0). Run transients
 * with `uic`. The text (NUL-terminated) goes into buf of cap bytes; *len gets
 * the length it needs without the NUL (call with cap 0 to size it).
 * SSP_ERANGE if it does not fit. */
SSP_API int ssp_device_spice_subckt(const ssp_device_model *m, ssp_ctx *ctx, char *buf, size_t cap,
                            size_t *len);
/* An instance line "X<inst> <p> <n> <xnode> NAME k=v ..." carrying this
 * device's own parameters and its present state as x0; v(<xnode>) is the
 * state during a simulation. Same buffer convention. */
SSP_API int ssp_device_spice_instance(const ssp_device *dev, ssp_ctx *ctx, const char *inst,
                              const char *p, const char *n, const char *xnode, char *buf,
                              size_t cap, size_t *len);

#endif
