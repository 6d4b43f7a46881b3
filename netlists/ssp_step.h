/* ssp_step.h — the transient read of one tile as a linear state-space step
 * response, from the same circuit description as every other consumer.
 *
 * The DC nodal (MNA) matrix G of ssp_circuit.h's element list plus a
 * capacitance matrix C: the capacitors of ssp_circuit_caps (wire segments,
 * cells) and, for each finite-gain TIA, its single gain-bandwidth pole as a
 * state, τ·dV(out)/dt = A·(V(+) − V(−)) − V(out) with τ = A / (2π·GBW)
 * (ssp_tia_tau). A read is the response of
 *
 *     C·dx/dt + G·x = b_const + b_rows·H(t)
 *
 * from the DC state with every row at 0 V (x0 = G⁻¹·b_const) to a step of
 * the row (DAC) voltages at t = 0. Integrated with a fixed step h: two
 * backward-Euler half steps, then trapezoidal steps, all with the one matrix
 * G + (2/h)·C, factored once per step size with KLU (as ngspice restarts
 * after a breakpoint). Backward Euler damps the modes much faster than h
 * (the wire RC, picoseconds) and brings the algebraic unknowns onto their
 * constraint; the trapezoidal rule then follows the TIA modes with a
 * global relative error of about (h/τ)²/12 (h = τ_min/SSP_STEP_PER_TAU in
 * ssp_step_settle: ~2e-4).
 *
 * What it is not: the TIA's slew-rate limit and its output rails are
 * nonlinear and not in this model. Every run reports the largest output
 * slope (a read whose slope exceeds tia.slew would slew in the real
 * circuit, and in ngspice's transient netlist, which has both) and whether
 * an output left the rails' linear region. Only linear cells and the 1R cell
 * are accepted (SSP_EINVAL otherwise): a nonlinear read needs ngspice.
 * It never prints and allocates only in create. */
#ifndef SSP_STEP_H
#define SSP_STEP_H

#include <stddef.h>

#include "ssp_circuit.h"

/* Steps per smallest closed-loop time constant in ssp_step_settle. */
#define SSP_STEP_PER_TAU 20
/* Largest number of steps one run may take (a circuit that never settles). */
#define SSP_STEP_MAX_STEPS 400000

typedef struct ssp_step ssp_step;

/* Analyse the circuit's structure (borrowed, must outlive the solver). */
SSP_API int ssp_step_create(ssp_step **out, ssp_ctx *ctx, const ssp_circuit *c);
SSP_API void ssp_step_destroy(ssp_step **s);

/* The settled read: TIA outputs (cols) for row voltages v_rows (rows; NULL:
 * all 0, the state before the step) and the power the row sources deliver
 * (W, may be NULL). Linear: rails are not applied. */
SSP_API int ssp_step_dc(ssp_step *s, const double *v_rows, double *out, double *p_rows_w);

/* The response to a step of the rows from 0 V to v_rows at t = 0 with step
 * h, nsteps steps: out ((nsteps+1) x cols) the TIA outputs at t_k = k·h
 * (k = 0: the state before the step), probe_v ((nsteps+1) x nprobe, may be
 * NULL) node voltages of the nodes probe[] (1..n_nodes), e_rows (nsteps+1,
 * may be NULL) the energy the row sources delivered from 0 to t_k (J). */
SSP_API int ssp_step_run(ssp_step *s, const double *v_rows, double h, size_t nsteps, double *out, const int *probe,
                 size_t nprobe, double *probe_v, double *e_rows);

/* Settling of one read (see ssp_step_settle). */
typedef struct ssp_step_settling {
    double tau_min_s;    /* smallest closed-loop TIA time-constant estimate (1 + Rf·ΣG)/(2π·GBW) */
    double tau_max_s;    /* largest */
    double h_s;          /* integration step used */
    double t_settle_s;   /* last time any TIA output was farther than tol_v from its settled value */
    size_t worst_col;    /* the physical column that settled last */
    double slope_max;    /* V/s, largest |dV(out)/dt| of the linear response */
    int slews;           /* slope_max > tia.slew: the real TIA would slew */
    int rails;           /* an output left the rails' linear region: the linear model does not hold */
    double t_sample_s;   /* the sample time asked for (0: none) */
    double err_sample_v; /* largest |V(out)(t_sample) − V(out)(∞)| over the outputs (V) */
    double e_rows_j;     /* energy the row sources delivered until t_sample (t_sample 0: until t_settle), J */
    double p_rows_w;     /* settled power of the row sources (W) */
    size_t steps;        /* steps taken */
} ssp_step_settling;

/* Step the rows to v_rows and integrate until every TIA output has stayed
 * within tol_v (e.g. half an ADC LSB) of its settled value for
 * SSP_STEP_PER_TAU steps past the last excursion and t >= t_sample; h is
 * chosen from the smallest closed-loop time-constant estimate, shortened so
 * t_sample (if > 0) lands on a step. frac (cols, may be NULL) receives each
 * output's settled fraction at t_sample, (V(t_s) − V(0)) / (V(∞) − V(0))
 * (1 where the output does not move). SSP_ECONVERGE if not settled within
 * SSP_STEP_MAX_STEPS. */
SSP_API int ssp_step_settle(ssp_step *s, const double *v_rows, double tol_v, double t_sample, ssp_step_settling *r,
                    double *frac);

/* Only the sample: step the rows to v_rows and integrate to t_sample (> 0)
 * with the step ssp_step_settle would take; frac (cols) as there, out0
 * (cols, may be NULL) the outputs before the step (the TIAs' offsets),
 * *steps (may be NULL) the steps taken. */
SSP_API int ssp_step_sample(ssp_step *s, const double *v_rows, double t_sample, double *frac, double *out0, size_t *steps);

/* The settled row currents as an affine map of the row voltages: the
 * current each row source delivers is I = Y·v + i0 (A), Y rows x rows
 * row-major (S), i0 rows (the TIAs' offsets through the array). One solve
 * of G per row plus one: exact for the linear circuit; the rows' settled
 * power is then v·(Y·v + i0). */
SSP_API int ssp_step_row_admittance(ssp_step *s, double *Y, double *i0);

#endif
