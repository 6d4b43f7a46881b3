/* ssp_read.h — one transient read of a tile, on the nodal step response and
 * (optionally) in ngspice, from the same circuit description.
 *
 * The DAC steps every word line from 0 V to its row voltage at t = 0; the
 * word and bit lines charge through their wire RC (ssp_circuit_caps), the
 * TIAs settle with their gain-bandwidth pole, and the ADC samples at
 * adc.t_sample. The nodal side is ssp_step.h (linear: no slew limit, no
 * rails, reported instead); the ngspice side is the transient read netlist
 * of ssp_spice_emit.h (pole, slew limit and rails in the circuit), whose
 * outputs are interpolated linearly onto the nodal time grid.
 *
 * Figures: the settling time to tol (half an ADC LSB by default) and the
 * output error at t_sample; the largest nodal-vs-ngspice difference of any
 * TIA output at any grid time, as a fraction of that output's settled
 * change |V(∞) − V(0)| (outputs whose change is below one ADC LSB are
 * compared against one LSB); the energy the row sources delivered until the
 * read ends (t_sample, or the settling time when reads are settled) from
 * both solvers. It allocates the traces; ssp_read_result_free frees them. */
#ifndef SSP_READ_H
#define SSP_READ_H

#include <stdio.h>

#include "ssp_circuit.h"
#include "ssp_spice.h"
#include "ssp_step.h"

typedef struct ssp_read_opts {
    double tol_v;      /* settling band (V); 0: half an ADC LSB */
    double t_stop;     /* end of the traces (s); 0: 1.5 x max(settling time, t_sample) */
    size_t probe_row;  /* word line traced (its far end, the last column's cell node) */
    size_t probe_col;  /* physical column traced (bit line at its sense node, TIA output) */
    double reltol;     /* ngspice's reltol for the transient (0: SSP_READ_SPICE_RELTOL) */
} ssp_read_opts;

/* ngspice's relative tolerance for transient reads (its local truncation
 * error control): 1e-6 keeps its time steps short enough against the
 * 1 % bound without the 1e-9 of the DC read netlists (measured). */
#define SSP_READ_SPICE_RELTOL 1e-6

typedef struct ssp_read_result {
    ssp_step_settling st;      /* nodal settling figures */
    size_t n_t;                /* grid points */
    double *t;                 /* n_t times (s) */
    double *wl, *bl, *out;     /* nodal traces (V): word line far end, sense node, TIA output of probe_col */
    double *out_all;           /* n_t x cols nodal TIA outputs (V) */
    double *e_nodal;           /* n_t energy delivered by the rows (J) */
    int have_spice;
    double *wl_sp, *bl_sp, *out_sp; /* ngspice traces on the same grid (V), NULL without spice */
    double spice_vs_nodal;     /* largest difference, fraction of the settled change (see above) */
    double e_nodal_j, e_spice_j; /* energy delivered by the rows until the read ends (J) */
    double t_read_s;           /* where the read ends: t_sample, or the settling time */
    double nodal_s, spice_s;   /* wall time of the two solvers */
    size_t spice_points;       /* ngspice time points */
} ssp_read_result;

/* Read the tile circuit c (cells set) with row voltages v_rows (rows, V, the
 * DAC outputs). spice NULL: nodal only. */
SSP_API int ssp_read_run(ssp_ctx *ctx, const ssp_circuit *c, const double *v_rows, ssp_spice *spice,
                 const ssp_read_opts *opts, ssp_read_result *r);
SSP_API void ssp_read_result_free(ssp_read_result *r);
/* The traces as CSV: time_s,v_wl_V,v_bl_V,v_out_V[,v_wl_spice_V,v_bl_spice_V,v_out_spice_V],e_rows_J
 * with a comment line naming t_sample and t_settle. */
SSP_API int ssp_read_write_csv(ssp_ctx *ctx, const ssp_read_result *r, const char *path);

#endif
