/* ssp_devcurve.h — a device's pulse response, from the C model and from
 * ngspice, for comparing the two.
 *
 * A pulse sequence (amplitude and width per pulse) is applied to one device;
 * after every pulse the device is read once. ssp_devcurve_c() integrates it
 * with the C model; ssp_devcurve_spice() emits the device's subcircuit, one
 * PWL source carrying every pulse and read (with the model's threshold
 * corners, see ssp_device_pulse_corners), runs one ngspice transient with
 * `uic` and takes the conductance ngspice computes at the middle of each
 * read, I/V, and the state node at the same instant. Nothing here prints;
 * the CLI (`siamspice device`), the tests and the benchmark share it. */
#ifndef SSP_DEVCURVE_H
#define SSP_DEVCURVE_H

#include <stddef.h>

#include "ssp_device.h"
#include "ssp_error.h"
#include "ssp_spice.h"

/* C model: apply pulse k (amp[k], width[k]) to *dev (noise from rng, NULL:
 * none) and store the read conductance (S, noise-free) in g[k] and the state
 * in x[k] (either may be NULL). *dev is left in its final state. */
SSP_API int ssp_devcurve_c(ssp_device *dev, ssp_device_work *w, gsl_rng *rng, const double *amp,
                   const double *width, size_t n, double *g, double *x);

/* The ngspice netlist of the same experiment (malloc'ed text, freed by the
 * caller), the transient's stop time and maximum step (s), and the time of
 * the middle of read k (t_read, n values, caller storage). */
SSP_API int ssp_devcurve_netlist(const ssp_device *dev, ssp_ctx *ctx, const double *amp,
                         const double *width, size_t n, char **text, double *tstop,
                         double *tmax, double *t_read);

/* ssp_spice_tran(s, tmax, tstop, tmax, uic) for a circuit loaded in s: the
 * pulse-response transient, every failure returned. */
SSP_API int ssp_devcurve_tran(ssp_spice *s, ssp_ctx *ctx, double tmax, double tstop);

/* Run it in session s: g[k] = I/V of the device at read k (S), x[k] = the
 * state node there (either may be NULL). *dev is not changed. */
SSP_API int ssp_devcurve_spice(ssp_spice *s, const ssp_device *dev, ssp_ctx *ctx, const double *amp,
                       const double *width, size_t n, double *g, double *x);

#endif
