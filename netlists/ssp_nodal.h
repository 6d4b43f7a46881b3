/* ssp_nodal.h — fast DC read solver for one tile: modified nodal analysis
 * assembled from the element list of ssp_circuit.h and solved with
 * SuiteSparse KLU.
 *
 * Unknowns: every node voltage (ground excluded), then one branch current
 * per voltage source, op-amp output and CCVS. The sparsity pattern depends
 * only on the structure, so it is analysed (klu_analyze) once. A conductance
 * state is factored once (klu_factor the first time, klu_refactor after a
 * value change, with a full factor again if the refactored pivots degrade)
 * and the factorization is reused for every input vector: a block of
 * right-hand sides per klu_solve call.
 *
 * A read whose TIA outputs stay inside the rails' linear region, with linear
 * cells, is one exact linear solve. Otherwise (sinh cells, access
 * transistors, a TIA driven into its rails) the same element equations are
 * solved by Newton's method per vector, starting from the linear solve, with
 * source-stepping continuation if direct Newton does not converge; failure
 * is SSP_ECONVERGE, never a silent approximation. It never prints and never
 * allocates after ssp_nodal_create. */
#ifndef SSP_NODAL_H
#define SSP_NODAL_H

#include <stddef.h>

#include "ssp_circuit.h"

typedef struct ssp_nodal ssp_nodal;

/* Counters for tests and benchmarks. */
typedef struct ssp_nodal_stats {
    unsigned long factors;    /* full klu_factor calls (base state) */
    unsigned long refactors;  /* klu_refactor calls (base state) */
    unsigned long solves;     /* right-hand sides solved with the base factorization */
    unsigned long newton_vectors;    /* vectors that needed Newton */
    unsigned long newton_iterations; /* Newton iterations in total */
    unsigned long continuations;     /* vectors that needed source stepping */
} ssp_nodal_stats;

/* Analyse the structure of c (borrowed; must outlive the solver) and
 * allocate the workspace for blocks of up to `block` vectors (0: a default). */
int ssp_nodal_create(ssp_nodal **out, ssp_ctx *ctx, const ssp_circuit *c, size_t block);
/* Free; NULL or *n == NULL is a no-op. Sets *n = NULL. */
void ssp_nodal_destroy(ssp_nodal **n);

/* Factor for the circuit's present cells; a no-op when they have not changed
 * since the last factorization (ssp_circuit_version). */
int ssp_nodal_factor(ssp_nodal *n);
/* Solve k reads: v_rows is k x rows (V, the DAC outputs), v_out receives
 * k x cols TIA output voltages (V). Factors first if needed. */
int ssp_nodal_solve(ssp_nodal *n, const double *v_rows, size_t k, double *v_out);
/* Full solution of the last vector solved (length ssp_nodal_dim; node k's
 * voltage at index k − 1), for physics tests. */
const double *ssp_nodal_last_solution(const ssp_nodal *n);
size_t ssp_nodal_dim(const ssp_nodal *n);
void ssp_nodal_get_stats(const ssp_nodal *n, ssp_nodal_stats *s);

#endif
