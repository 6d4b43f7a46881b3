/* ssp_circuit.h — the circuit description of one crossbar tile for reads.
 *
 * One description is the single source of truth for a tile: an element list
 * (resistors, voltage sources, cells, access transistors, TIA op-amps) over
 * named nodes. The SPICE emitter (ssp_spice_emit.h) and the nodal assembler
 * (ssp_nodal.h) both walk this list and evaluate the element equations
 * defined here, so the two can never describe different circuits. This
 * module only builds and checks; it never simulates.
 *
 * The tile (0-based indices everywhere):
 *
 *     vr<i> ─ rd<i> (driver + DAC output R) ─ rw<i>_<c> word-line segments ─┐
 *                                         cell (i, c): word node → bit node │
 *     bit line of column c: rb<i>_<c> segments down the rows, the last one   │
 *     to the sense node sn_<c>, then rs_<c> (sense R) into the TIA input     │
 *     tin_<c>; TIA: op-amp bo_<c> with feedback rf_<c> and offset vos_<c>.   ┘
 *
 * Columns are physical; their labels are "<p>p"/"<p>n" for the plus/minus
 * column of pair p (differential scheme, the default) or "<p>" and "ref"
 * (reference-column scheme). Cell names follow the labels: the memristor of
 * row 12 in the plus column of pair 7 is "r12_c7p" (emitted as rr12_c7p for a
 * linear read element, br12_c7p for a sinh element, xr12_c7p for a dynamic
 * subcircuit), its access transistor "bt12_c7p".
 *
 * A resistance of exactly 0 Ω is not an element: its two nodes are merged
 * (ideal wires, ideal driver, no sense resistor).
 *
 * Element equations (both consumers evaluate exactly these):
 * - cell: I(v) from ssp_cell_iv.h, v = V(word side) − V(bit side).
 * - access NMOS (1T1R): a symmetric square law, the level-1 equations in all
 *   regions without body effect, written so it is C1-continuous:
 *       I_ds = (KP·W/L)/2 · [max(Vgs−VTO,0)² − max(Vgd−VTO,0)²] · (1 + LAMBDA·|Vds|)
 *   It is emitted as a B-source, not as ngspice's built-in level-1 MOSFET,
 *   whose internal voltage limiting and junction GMIN cannot be reproduced
 *   exactly in C; with this form ngspice and the nodal solver evaluate the
 *   same function.
 * - TIA op-amp: V(out) = rail(A·(V(+) − V(−))), V(+) = the offset source;
 *   rail(e) = e_c + δ·tanh((e − e_c)/δ), e_c = min(max(e, lo+δ), hi−δ),
 *   δ = the knee width. rail is exactly linear between lo+δ and hi−δ (a read
 *   inside the rails is a linear circuit) and saturates smoothly at lo and
 *   hi. The gain-bandwidth pole only matters for transients and is not part
 *   of the DC read circuit: the transient consumers (ssp_step.h, the
 *   transient read netlist of ssp_spice_emit.h) add it as a state of time
 *   constant ssp_tia_tau, together with the capacitors of ssp_circuit_caps.
 * - the offset vos_<c> and the 1T1R gate supplies vg<i> are constant
 *   voltage sources whose node only feeds sensing inputs (no current); the
 *   SPICE emitter writes such reference sources in the exactly equivalent
 *   Norton form (ssp_spice_emit.h), the nodal solver eliminates them.
 * - ideal TIA (tia.ideal): a 0 V sense source vs_<c> at the input and a CCVS
 *   ho_<c> with V(out) = −Rf · I(vs_<c>): virtual ground, no offset, no rails. */

/* netlists/ — the tile as a circuit: one description (this header) from which
 * the SPICE text (ssp_spice_emit.h), the nodal matrix (ssp_nodal.h) and the
 * transient step response (ssp_step.h) are all made. Uses devicemodels/ (a
 * cell's I-V) and harness/core/. */
#ifndef SSP_CIRCUIT_H
#define SSP_CIRCUIT_H

#include <stddef.h>

#include "ssp_cell_iv.h"
#include "ssp_error.h"

/* Largest tile side supported (rows, physical columns). */
#define SSP_TILE_MAX 1024
/* Longest node or element name, including the NUL. */
#define SSP_NAME_MAX 24

enum ssp_cell_type {
    SSP_CELL_1R = 0,  /* memristor only */
    SSP_CELL_1T1R = 1 /* memristor in series with an NMOS access transistor */
};

enum ssp_col_scheme {
    SSP_COLS_DIFF = 0, /* pairs of columns, weight ∝ G+ − G− */
    SSP_COLS_REF = 1   /* one column per weight plus one shared reference column */
};

/* NMOS access-transistor model card (see the equation above). */
typedef struct ssp_nmos_card {
    double vto;    /* V, threshold voltage */
    double kp;     /* A/V², transconductance parameter (µn·Cox) */
    double w_um;   /* µm, channel width */
    double l_um;   /* µm, channel length */
    double lambda; /* 1/V, channel-length modulation */
    double vgate;  /* V, word-select (gate) voltage during a read */
} ssp_nmos_card;

/* Row driver: a DAC. */
typedef struct ssp_dac_params {
    int bits;     /* resolution; 0 means continuous (no quantisation) */
    double v_min; /* V, lowest output */
    double v_max; /* V, highest output */
    double r_out; /* Ω, DAC output resistance (in series with the driver's) */
} ssp_dac_params;

/* Column read-out: transimpedance amplifier. */
typedef struct ssp_tia_params {
    int ideal;     /* 1: ideal TIA (virtual ground, no offset, no rails) */
    double gain;   /* V/V, open-loop DC gain A */
    double gbw_hz; /* Hz, gain-bandwidth product (transient netlists only) */
    double vos;    /* V, input offset voltage */
    double v_lo;   /* V, negative output rail */
    double v_hi;   /* V, positive output rail */
    double v_knee; /* V, width δ of the smooth approach to each rail */
    double r_f;    /* Ω, feedback resistor */
    double slew;   /* V/s, output slew-rate limit (transient netlists; the
                      nodal step response is linear and reports a read that
                      would exceed it) */
} ssp_tia_params;

/* ADC after each TIA (modelled in C, identical for every engine). */
typedef struct ssp_adc_params {
    int bits;    /* resolution; codes are signed, −2^(bits−1) .. 2^(bits−1)−1 */
    double v_fs; /* V, full scale: inputs in [−v_fs, v_fs) map to the code range */
    double t_sample; /* s after the DAC step at which the ADC samples the TIA
                        output; 0: the settled (DC) output */
} ssp_adc_params;

/* Everything that defines a tile circuit except the per-cell I–V. */
typedef struct ssp_tile_params {
    size_t rows;          /* N word lines, 1..SSP_TILE_MAX */
    size_t cols;          /* M physical bit lines, 1..SSP_TILE_MAX (even for SSP_COLS_DIFF) */
    int scheme;           /* enum ssp_col_scheme */
    int cell;             /* enum ssp_cell_type */
    ssp_nmos_card nmos;   /* access transistor (SSP_CELL_1T1R) */
    double r_wire_per_um; /* Ω/µm, word- and bit-line wire resistance */
    double pitch_um;      /* µm, cell pitch (one wire segment) */
    double r_driver;      /* Ω, row driver output resistance */
    double r_sense;       /* Ω, sense-node resistance between bit line and TIA */
    double c_wire_per_um; /* F/µm, word- and bit-line wire capacitance to ground
                             (transient reads only; see ssp_circuit_caps) */
    double c_cell;        /* F, capacitance across each cell (transient reads only) */
    ssp_dac_params dac;
    ssp_tia_params tia;
    ssp_adc_params adc;
} ssp_tile_params;

/* Defaults (values and units in ssp_circuit.c): 1R differential 64x64 tile,
 * 2.5 Ω segments, 8-bit DAC over ±0.2 V, finite-gain TIA, 8-bit ADC. */
SSP_API void ssp_tile_params_default(ssp_tile_params *p);
/* Reject an invalid description with a message naming the bad field. */
SSP_API int ssp_tile_params_check(ssp_ctx *ctx, const ssp_tile_params *p);
/* Wire segment resistance r_wire_per_um · pitch_um (Ω). */
SSP_API double ssp_tile_r_segment(const ssp_tile_params *p);
/* Wire segment capacitance c_wire_per_um · pitch_um (F). */
SSP_API double ssp_tile_c_segment(const ssp_tile_params *p);
/* Logical output columns: cols/2 (differential) or cols−1 (reference). */
SSP_API size_t ssp_tile_outputs(const ssp_tile_params *p);
/* Parse "1r" / "1t1r" and "diff" / "ref". */
SSP_API int ssp_cell_type_parse(ssp_ctx *ctx, const char *s, int *out);
SSP_API int ssp_col_scheme_parse(ssp_ctx *ctx, const char *s, int *out);

/* ---- the element list ------------------------------------------------ */

enum ssp_el_kind {
    SSP_EL_RES = 0,  /* a, b: resistor of value Ω */
    SSP_EL_VSRC = 1, /* a(+), b(−): V(a) − V(b) = input[index] (index >= 0) or value (V) */
    SSP_EL_CELL = 2, /* a (word side), b (bit side): I = cell_iv[index](V(a) − V(b)) */
    SSP_EL_NMOS = 3, /* a drain, b source, c gate: the square law above */
    SSP_EL_OPAMP = 4,/* a (+), b (−), c out: V(c) = rail(A·(V(a) − V(b))) */
    SSP_EL_CCVS = 5, /* a out, b = 0: V(a) = value · I(element index), value in Ω */
    SSP_EL_CAP = 6   /* a, b: capacitor of value F (only in ssp_circuit_caps) */
};

typedef struct ssp_element {
    int kind;                 /* enum ssp_el_kind */
    int a, b, c;              /* node numbers, 0 = ground, 1..n_nodes */
    int index;                /* see the kinds; −1 when unused */
    double value;             /* see the kinds */
    char name[SSP_NAME_MAX];  /* SPICE instance name, e.g. "rw3_c1n" */
} ssp_element;

/* A built tile circuit; owns its element list and the per-cell I–V. */
typedef struct ssp_circuit ssp_circuit;

/* Check p and build the element list; every cell starts as SSP_IV_LINEAR
 * with g = 0 (set the cells before use). */
SSP_API int ssp_circuit_create(ssp_circuit **out, ssp_ctx *ctx, const ssp_tile_params *p);
/* Free; NULL or *c == NULL is a no-op. Sets *c = NULL. */
SSP_API void ssp_circuit_destroy(ssp_circuit **c);

SSP_API const ssp_tile_params *ssp_circuit_params(const ssp_circuit *c);
SSP_API size_t ssp_circuit_n_elements(const ssp_circuit *c);
SSP_API const ssp_element *ssp_circuit_elements(const ssp_circuit *c);
/* Number of distinct nodes, excluding ground. */
SSP_API size_t ssp_circuit_n_nodes(const ssp_circuit *c);
/* Name of node k (1..n_nodes; 0 is "0"). */
SSP_API const char *ssp_circuit_node_name(const ssp_circuit *c, int k);
/* Node of TIA output of physical column col. */
SSP_API int ssp_circuit_out_node(const ssp_circuit *c, size_t col);
/* The capacitors of the tile, for transient reads only (a separate list, so
 * every DC consumer of the element list stays as it is): each word- and
 * bit-line segment's capacitance c_wire_per_um · pitch_um to ground at the
 * segment's cell-side node (an L section per segment: segment k of a line
 * ends at cell k), and c_cell across each memristor (word side to bit side,
 * or to the access transistor's drain in 1T1R). Zero values are left out,
 * so *n may be 0. Names: "cw3_c1n", "cb3_c1n", "cc3_c1n". */
SSP_API const ssp_element *ssp_circuit_caps(const ssp_circuit *c, size_t *n);
/* The TIA's open-loop pole time constant A / (2π·GBW) (s), the state the
 * transient consumers add to each op-amp: τ·dV(out)/dt = A·(V(+) − V(−)) −
 * V(out), followed by the output rails (0 for the ideal TIA). */
SSP_API double ssp_tia_tau(const ssp_tia_params *t);
/* Whether any element is nonlinear inside the rails (sinh cell, NMOS). */
SSP_API int ssp_circuit_is_nonlinear(const ssp_circuit *c);

/* Per-cell read-state I–V, rows x cols row-major (cell (i, c) at i*cols + c).
 * Linear cells need g > 0 (S); sinh cells gp, gn, b > 0. A set that equals
 * the present one leaves the change counter alone. */
SSP_API int ssp_circuit_set_cells(ssp_circuit *c, ssp_ctx *ctx, const ssp_cell_iv *iv);
/* The same with linear conductances g (S), rows x cols. */
SSP_API int ssp_circuit_set_conductances(ssp_circuit *c, ssp_ctx *ctx, const double *g);
SSP_API const ssp_cell_iv *ssp_circuit_cells(const ssp_circuit *c);
/* Incremented whenever the cell values change (consumers refactor on change). */
SSP_API unsigned long ssp_circuit_version(const ssp_circuit *c);

/* ---- element equations, shared by every consumer ---------------------- */

/* TIA output rail function and its derivative. */
SSP_API double ssp_tia_rail(const ssp_tia_params *t, double e, double *dfde);
/* NMOS drain-to-source current and its partial derivatives (S). */
SSP_API double ssp_nmos_current(const ssp_nmos_card *m, double vd, double vg, double vs, double *gd,
                        double *gg, double *gs);

/* ---- periphery modelled in C ------------------------------------------ */

/* The DAC output for a requested row voltage (clipped, quantised). */
SSP_API double ssp_dac_voltage(const ssp_dac_params *d, double v);
/* The ADC code for a TIA output voltage (clipped). */
SSP_API int ssp_adc_code(const ssp_adc_params *a, double v);
/* The voltage of one ADC code step (V). */
SSP_API double ssp_adc_lsb(const ssp_adc_params *a);

#endif
