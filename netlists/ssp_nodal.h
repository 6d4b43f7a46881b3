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
 * allocates after ssp_nodal_create.
 *
 * Two paths give the same numbers. The reference path is the MNA/KLU solve
 * above. The fast path (chosen automatically for linear cells whose TIAs stay
 * inside their rails) reduces the same element list to an SPD system over the
 * free nodes, keeps the outputs as an exact affine map of the row voltages
 * (out = T·v + t) and follows a change of a few cells by a low-rank
 * (Sherman–Morrison–Woodbury) update of T instead of a refactorization; a
 * read is then one matrix product. A read that puts a TIA outside its linear
 * region is finished by Newton's method on the TIA equations alone (the rest
 * of the tile is linear); if that does not converge, the whole call is
 * redone on the reference path. The environment
 * variable SSP_NODAL_PATH=reference (read at create) or ssp_nodal_set_path
 * forces the reference path. */
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
    /* The counters above cover both paths: on the fast path "factors" are
     * full factorizations of the reduced matrix, "refactors" numeric
     * refactorizations and low-rank state updates, "solves" vectors read. */
    unsigned long fast_reads;        /* vectors answered by the fast path */
    unsigned long fast_updates;      /* states reached by a low-rank update */
    unsigned long fast_cell_solves;  /* reduced solves for newly changed cells */
    unsigned long fast_rail_newtons; /* fast reads with a TIA on its rail (Newton on the TIAs) */
    unsigned long fast_fallbacks;    /* vectors redone on the reference path */
} ssp_nodal_stats;

/* Which path ssp_nodal_solve takes. */
enum ssp_nodal_path {
    SSP_NODAL_PATH_AUTO = 0,     /* fast when the circuit allows it, else reference */
    SSP_NODAL_PATH_REFERENCE = 1 /* always the MNA/KLU path */
};

/* Analyse the structure of c (borrowed; must outlive the solver) and
 * allocate the workspace for blocks of up to `block` vectors (0: a default). */
SSP_API int ssp_nodal_create(ssp_nodal **out, ssp_ctx *ctx, const ssp_circuit *c, size_t block);
/* Free; NULL or *n == NULL is a no-op. Sets *n = NULL. */
SSP_API void ssp_nodal_destroy(ssp_nodal **n);

/* Factor for the circuit's present cells; a no-op when they have not changed
 * since the last factorization (ssp_circuit_version). */
SSP_API int ssp_nodal_factor(ssp_nodal *n);
/* Solve k reads: v_rows is k x rows (V, the DAC outputs), v_out receives
 * k x cols TIA output voltages (V). Factors first if needed. */
SSP_API int ssp_nodal_solve(ssp_nodal *n, const double *v_rows, size_t k, double *v_out);
/* Full solution of the last vector solved on the reference path (length
 * ssp_nodal_dim; node k's voltage at index k − 1), for physics tests; the
 * fast path does not form node voltages (force the reference path to get
 * them). */
SSP_API const double *ssp_nodal_last_solution(const ssp_nodal *n);
SSP_API size_t ssp_nodal_dim(const ssp_nodal *n);
SSP_API void ssp_nodal_get_stats(const ssp_nodal *n, ssp_nodal_stats *s);
/* Choose the path (enum ssp_nodal_path); SSP_EINVAL for an unknown value. */
SSP_API int ssp_nodal_set_path(ssp_nodal *n, int path);
/* Whether the tile's structure has the fast path (linear cells still needed
 * at solve time). */
SSP_API int ssp_nodal_has_fast_path(const ssp_nodal *n);

#endif
