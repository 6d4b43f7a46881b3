/* nodal_fast.h — internal to ssp_nodal: the fast exact read path for tiles
 * whose read is a linear circuit (linear cells, TIAs inside their rails).
 *
 * The same element list as the MNA path (ssp_circuit.h) is reduced to a
 * symmetric positive-definite system over the free node voltages: voltage
 * sources fix their nodes, a finite-gain op-amp with its feedback resistor
 * becomes a conductance (1 + A)/r_f from its inverting input to a source
 * A·V(+)/(1 + A), an ideal TIA (0 V sense source + CCVS) a grounded node
 * whose output is a linear functional of its neighbours. The outputs are then
 * an affine function of the row voltages, out = T·v + t (cols x rows plus a
 * column), computed once per base conductance state (factorization A0 = LDLᵀ
 * plus forward solves that are sparse along the elimination tree). A later
 * state that differs from the base in R cells is A = A0 + U·Δ·Uᵀ (U: one
 * column e_word − e_bit per changed cell), and T is updated exactly by the
 * Sherman–Morrison–Woodbury formula: one path-sparse forward solve per newly
 * changed cell plus dense R x R algebra. Past a rank limit the base is
 * refactored. A read is then one small matrix product.
 *
 * It refuses (at create) circuits it cannot reduce exactly — nonlinear
 * elements, a cell touching a source-fixed node, a source between two
 * non-ground nodes. A TIA driven outside its linear region is the only
 * nonlinearity it handles (see ssp_nodal_fast_read). It never prints; it
 * allocates only at create (and CHOLMOD inside its factorization). */
#ifndef NODAL_FAST_H
#define NODAL_FAST_H

#include <stddef.h>

#include "ssp_circuit.h"

typedef struct ssp_nodal_fast ssp_nodal_fast;

/* Counters, added into ssp_nodal_stats by the caller. */
typedef struct nodal_fast_counts {
    unsigned long factors;     /* full factorizations of the reduced matrix */
    unsigned long refactors;   /* numeric refactorizations (same pivots) */
    unsigned long updates;     /* low-rank (Woodbury) state updates */
    unsigned long cell_solves; /* path-sparse solves for newly changed cells */
    unsigned long rail_newtons;/* reads solved by Newton on the TIA rails */
} nodal_fast_counts;

/* Build the reduced system for c (borrowed). *out is NULL (and SSP_OK is
 * returned) when the circuit has no exact reduction. */
int ssp_nodal_fast_create(ssp_nodal_fast **out, ssp_ctx *ctx, const ssp_circuit *c);
void ssp_nodal_fast_destroy(ssp_nodal_fast **f);

/* Whether the circuit's present cells allow the fast path (all linear). */
int ssp_nodal_fast_applies(const ssp_nodal_fast *f);
/* Bring the transfer matrix up to the circuit's present cells. */
int ssp_nodal_fast_update(ssp_nodal_fast *f);
/* k reads (v_rows k x rows, V) into v_out (k x cols, V). A read whose
 * linear solution puts a TIA outside its linear region is solved exactly by
 * Newton's method on the TIA equations alone (the rest of the tile is
 * linear: its response is the matrix Sᵀ·A⁻¹·S). *answered = 0 when that
 * Newton did not converge or the tile mixes column kinds: v_out is then not
 * valid and the caller takes the reference path. */
int ssp_nodal_fast_read(ssp_nodal_fast *f, const double *v_rows, size_t k, double *v_out,
                        int *answered);
const nodal_fast_counts *ssp_nodal_fast_counts(const ssp_nodal_fast *f);

#endif
