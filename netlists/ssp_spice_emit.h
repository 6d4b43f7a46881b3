/* ssp_spice_emit.h — ngspice netlists from a tile circuit description.
 *
 * Walks the element list of ssp_circuit.h and writes one plain ngspice
 * netlist: `.options klu`, a `.save` line per TIA output only, readable
 * instance names (rr12_c7p: row 12, column pair 7, plus device), numbers
 * with 17 significant digits so the netlist is the exact double-precision
 * circuit. It never runs ngspice and never decides anything about the
 * circuit: what is in the element list is what is written.
 *
 * Row inputs are either `external` sources (streamed reads through
 * ssp_spice_stream: one time point per input vector) or DC values (a
 * standalone file; with `control` a .control block runs `op` and prints
 * the outputs, so `ngspice -b file.cir` shows them).
 *
 * Read netlists carry no capacitor: a streamed transient has one time point
 * per vector, so a reactive element would carry state from one vector into
 * the next. The TIA's gain-bandwidth pole is therefore only written when
 * `tia_pole` is set (transient studies): a unity-DC-gain RC stage and a
 * buffer after the rail function, which leaves the DC solution identical.
 *
 * Read netlists with nonlinear elements (sinh cells, access transistors)
 * tighten ngspice's Newton tolerances (SSP_EMIT_RELTOL etc. in the .c file)
 * so its converged solution matches the nodal solver's to ~1e-9 and better;
 * linear reads are one exact solve either way. All read netlists raise
 * ngspice's pivot threshold (pivrel) so its KLU solve is as accurate as the
 * nodal one (measured: 1e-5 relative error at 64x64 with the default).
 *
 * A transient read netlist (v_step set; the circuit ssp_step.h solves
 * linearly) adds to the DC netlist, element by element:
 * - each row source as a step, `pwl(0 0 SSP_EMIT_STEP_EDGE_S V)`;
 * - the capacitors of ssp_circuit_caps (wire segments, cells);
 * - each finite-gain TIA as gain → pole → rails: a linear B-source
 *   oa = A·(V(+) − V(−)), a current into the pole capacitor limited to
 *   ±slew·C (so dV/dt <= tia.slew), and the output out = rail(V(pole));
 *   its DC solution is the DC netlist's, rail(A·(V(+) − V(−)));
 * - a 1 Tohm resistor from each TIA's offset node to ground (redundant
 *   since the offset is written in Norton form, below; it changes no
 *   voltage);
 * - with control, `.tran t_max t_stop 0 t_max` and the saved vectors.
 *
 * Reference sources (a constant voltage source from a node to ground whose
 * node feeds only sensing inputs: the TIA offset vos_<c> at the op-amp's +
 * input, the 1T1R gate supply vg<i>) are written in Norton form, `i<name>`
 * (value·G into the node) and `r<name>` (1/G to ground), G = 2^20 S: the
 * same element equation V = value, exactly, since the node carries no other
 * current. A voltage source there leaves the node's matrix row with only its
 * branch current (a structurally zero diagonal), and ngspice's KLU ordering
 * of that matrix costs 6x the fill and 12x the time of the bare crossbar at
 * 128x128 (README, "ngspice at macro scale"). */
#ifndef SSP_SPICE_EMIT_H
#define SSP_SPICE_EMIT_H

#include <stdio.h>

#include "ssp_circuit.h"

/* Writes the instance parameters of dynamic cell (row, col) into buf, e.g.
 * "params: x0=0.35"; returns 0 or a status. */
typedef int (*ssp_emit_cell_fn)(size_t row, size_t col, char *buf, size_t n, void *payload);

typedef struct ssp_emit_opts {
    const char *title;       /* first line; NULL: "siamspice tile NxM <cell> <scheme>" */
    const double *v_in;      /* rows DC row voltages (V); NULL: `external` row sources */
    int control;             /* 1: append .control { op; print outputs } (standalone runs) */
    int tia_pole;            /* 1: add the TIA's GBW pole (transient netlists only) */
    const char *include;     /* device library to .include, or NULL */
    const char *cell_subckt; /* dynamic cell subcircuit: cells become x instances of it */
    ssp_emit_cell_fn cell_params; /* instance parameters of dynamic cells (may be NULL) */
    void *payload;           /* passed to cell_params */
    double reltol;           /* Newton tolerances written into nonlinear read netlists: */
    double abstol_a;         /* relative (-), current (A), voltage (V); */
    double vntol_v;          /* 0 selects SSP_EMIT_* defaults, < 0 writes none */
    /* Transient read (see below): */
    const double *v_step;    /* rows: each row source steps from 0 V to v_step[i] at t = 0; NULL: DC netlist */
    double t_stop;           /* s, with v_step and control: the .tran's end */
    double t_max;            /* s, with v_step and control: ngspice's largest time step */
    const char *const *save; /* extra vectors to .save (e.g. "v(w0_c3n)", "i(vr0)"), n_save of them */
    size_t n_save;
} ssp_emit_opts;

/* Write the netlist of c to f. opts NULL: external sources, read netlist. */
SSP_API int ssp_spice_emit(FILE *f, ssp_ctx *ctx, const ssp_circuit *c, const ssp_emit_opts *opts);
/* The same into a malloc'ed NUL-terminated string (freed by the caller). */
SSP_API int ssp_spice_emit_text(char **text, ssp_ctx *ctx, const ssp_circuit *c,
                        const ssp_emit_opts *opts);
/* The same atomically into a file. */
SSP_API int ssp_spice_emit_file(const char *path, ssp_ctx *ctx, const ssp_circuit *c,
                        const ssp_emit_opts *opts);

/* What ngspice's KLU asks for to factor the DC read netlist of c.
 *
 * ngspice 46 factors with the KLU it bundles: int indices, and a first LU
 * array of initmem_amd = 10 times AMD's estimate of nnz(L) per block
 * (src/maths/KLU/klu_defaults.c; SuiteSparse's own default is 1.2). KLU
 * refuses before allocating anything when that array exceeds INT_MAX
 * 8-byte units (klu.c: INT_OVERFLOW(dunits) -> KLU_OUT_OF_MEMORY), and
 * ngspice reports any failed factorization as "singular matrix: check node
 * 0" (singular_col is still EMPTY). The crossbar's own fill reaches that at
 * about 720x720 (1024x1024: estimate 1.64e8, array 4.9e9 units, measured
 * under gdb); no rewording of the netlist removes it, since the bare
 * resistor network fills the same (README, "ngspice at macro scale").
 *
 * ssp_spice_klu_estimate builds the matrix pattern ngspice stamps from the
 * emitted netlist (nodes in order of first appearance, one branch current
 * per voltage source, B-source v= and H source), runs KLU's own analysis
 * (BTF + AMD, as ngspice) on it, and reports the block that needs most. */
typedef struct ssp_spice_klu_need {
    size_t n;        /* matrix order: nodes + branch currents */
    size_t block;    /* order of the block below */
    double lnz;      /* AMD's estimate of nnz(L) of that block, diagonal excluded */
    double lu_units; /* 8-byte units ngspice's klu_factor asks for it */
} ssp_spice_klu_need;
/* ngspice's limit on lu_units (INT_MAX: int-indexed LU). */
extern const double SSP_SPICE_KLU_MAX_UNITS;
SSP_API int ssp_spice_klu_estimate(ssp_spice_klu_need *need, ssp_ctx *ctx, const ssp_circuit *c);
/* SSP_ERANGE with a message naming the tile and the figures when the
 * netlist of c needs more than max_units (<= 0: SSP_SPICE_KLU_MAX_UNITS):
 * ngspice would fail on it with a misleading "singular matrix". */
SSP_API int ssp_spice_klu_check(ssp_ctx *ctx, const ssp_circuit *c, double max_units);

/* Names the emitted netlist uses: the row source of row i ("vr3") and the
 * vector of the TIA output of physical column c ("v(out_c1n)"). */
SSP_API void ssp_spice_row_source(size_t i, char *buf, size_t n);
SSP_API void ssp_spice_out_vector(const ssp_circuit *c, size_t col, char *buf, size_t n);

#endif
