/* pulse_impl.h — INTERNAL to the pulse scheduler (harness/program/ssp_pulse*.c,
 * pulse_common.c): the programmer's state, one round's plan, the tile
 * netlist writer and a growing text buffer. Never included by a public
 * header nor by a file outside harness/program/; not installed.
 *
 * Files of the module, one way: ssp_pulse.c (controller, C-model executor)
 * -> ssp_pulse_spice.c (ngspice executor) -> ssp_pulse_wave.c,
 * pulse_wires.c (the C model's wire solve, which both executors use) and
 * pulse_common.c; ssp_pulse_export.c -> ssp_pulse_spice.c, pulse_common.c. */
#ifndef PULSE_IMPL_H
#define PULSE_IMPL_H

#include <stddef.h>

#include "ssp_pulse.h"
#include "ssp_text.h"


/* One parallel pulse of a round: the cells cell[first .. first+n) of the
 * programmer's gcell array, all on line `line` (a row when by row). */
typedef struct pgroup {
    double t0;    /* s, start of the rising edge, in transient (local) time */
    double amp;   /* V across a selected cell */
    double width; /* s, flat width */
    int phase;    /* SSP_PULSE_SET / RESET */
    size_t line;  /* selected row (by row) or column (by column) */
    size_t first, n;
} pgroup;

struct ssp_pulse {
    ssp_ctx *ctx;
    const ssp_device_model *m;   /* not owned */
    const ssp_device_levels *lv; /* not owned */
    size_t rows, cols;
    ssp_pulse_params p;
    ssp_device nominal;          /* the controller's idea of a device */
    ssp_device_work *work;
    /* one round's plan */
    pgroup *grp;
    size_t ngrp, capgrp;
    size_t *gcell;               /* cell indices of the groups */
    size_t ngcell, capgcell;
    int order;                   /* order of the current plan (row or col) */
    double plan_len;             /* s, length of the current plan */
    /* per cell, rows * cols */
    int *dir;                    /* -1: nothing this round, else the phase */
    long *nfull;                 /* full pulses this round */
    double *wfrac;               /* s, width of the extra short pulse (0: none) */
    unsigned char *rsel, *csel;  /* scratch marks of selected lines */
    ssp_pulse_wave *wave;        /* armed waveform recorder or NULL (not owned) */
    double *vcell;               /* per cell: voltage across it from the wire solve (scratch) */
    double *vprev, *icell;       /* per cell: its word-line and bit-line node voltages (scratch) */
    double *vline;               /* 5 max(rows, cols): one line's solve (scratch) */
    /* fast wire solve of a linear-I-V tile, per cell (rows * cols, row-major,
     * scratch): its conductance, and the Thomas factors (1 / pivot) of its
     * word line (rdr) and of its bit line (rdc) */
    double *gfix, *rdr, *rdc;
    double *dpf;                /* line-solve scratch */
    unsigned char *rchg, *cchg; /* lines whose conductances changed since the last solve (scratch) */
    int fix_valid;              /* gfix and the factors hold the last solve's tile */
    int warm;                   /* vprev, icell, vcell hold the last fast solve, at the drives in wdrv */
    double *wdrv;               /* that solve's word-line drives (rows), then bit-line drives (cols) */
    int lin_now;                /* the last pulse_cell_voltages took the linear path (gfix: its g) */
    /* the fast path's view of the tile being programmed, set by
     * pulse_cells_begin (per cell, rows * cols): the dead band of
     * ssp_device_inert_band (kind, lo, hi), and the cells whose state may
     * have moved since the last wire solve (dirty marks and their list) */
    unsigned char *bkind;
    double *blo, *bhi;
    unsigned char *dirty;
    size_t *dlist, ndirty;
    /* the cells a pulse ran on since pulse_cells_begin (marks and list),
     * and the bias columns of the group being run (scratch, cols) */
    unsigned char *touched;
    size_t *tlist, ntouched;
    size_t *scol;
};

/* pulse_wires.c: */
/* Start programming (or replaying on) the tile dev: forget the last solve's
 * conductances, take every cell's dead band. */
void pulse_cells_begin(ssp_pulse *pp, const ssp_device *dev);
/* Cell c's state may have moved (a pulse ran on it). */
void pulse_cell_moved(ssp_pulse *pp, size_t c);
/* 1 when a pulse of this amplitude leaves cell c where it is: the same
 * answer as ssp_device_pulse_inert(&dev[c], v), from pulse_cells_begin's
 * bands. */
int pulse_cell_inert(const ssp_pulse *pp, size_t c, double v);

/* The voltage across every cell of dev when word line i is driven at vr[i]
 * (from column 0's side) and bit line j at vc[j] (from row 0's side): with
 * ideal wires vr[i] - vc[j]; with r_wire per segment, the IR drop of the
 * cells' own currents along both lines (driven from column 0 / row 0, one
 * segment before the first cell, as in the netlists), solved line by line
 * (Gauss-Seidel, cells at their secant conductance) at the present states
 * into pp->vcell. SSP_ECONVERGE if it does not settle. */
int pulse_cell_voltages(ssp_pulse *pp, const ssp_device *dev, const double *vr, const double *vc);

/* The same energies for a device whose state did not change (x0 = x1 =
 * dev->x): each I(V, x) evaluated once. Equal to pulse_energy_analytic to
 * rounding. */
double pulse_energy_fixed(const ssp_device *dev, double v, double d, double w, double e, double *ewire);

/* A PWL time point: time, the group it belongs to (-1: lines idle) and the
 * trapezoid's shape value 0..1 there. */
typedef struct corner {
    double t;
    long g;
    double shape;
} corner;

/* Every corner of the groups (edges, flat tops, and the threshold crossings
 * of the selected and half-selected voltages on device ref), sorted, unique,
 * starting with (0, idle); *out malloc'ed. */
int pulse_corners(ssp_ctx *ctx, const ssp_device *ref, int bias, double edge, const pgroup *grp,
                  size_t ngrp, corner **out, size_t *nout);

/* pulse_common.c: */
/* Line voltages of group g: vr[rows], vc[cols]. */
void pulse_line_voltages(const ssp_pulse *pp, const pgroup *g, double *vr, double *vc);
/* Unselected-line voltages for amplitude a under the programmer's bias. */
void pulse_bias(int bias, double a, double *ur, double *uc);
/* Energy (J) of one trapezoidal pulse of width w, edge e, on a device
 * whose state goes from x0 to x1, with v across the cell at the flat top
 * while its lines' drivers differ by d (v = d with ideal wires; v from
 * pulse_cell_voltages with the IR drop): V I(V, x) t, edges by Simpson
 * with the cell voltage following the drive in proportion (exact for a
 * linear cell, whose wire network is linear). *ewire (may be NULL) gets
 * the wire energy the cell's current dissipates on its way, (d - V) I(V, x)
 * t over the same pulse: summed over the tile's cells this is the drivers'
 * energy less the cells' (each driver's current is the sum of its line's
 * cell currents), the wires' dissipation. */
double pulse_energy_analytic(const ssp_device *dev, double v, double d, double w, double e, double x0,
                             double x1, double *ewire);

/* Run the current plan in ngspice on dev (states updated); res gets energy
 * figures and spice time added. */
int pulse_run_spice(ssp_pulse *pp, ssp_spice *s, ssp_device *dev, ssp_pulse_result *res);

/* The armed waveform recorder's hook, called by pulse_run_spice once per
 * transient with its vectors (nt points; vp/vn NULL with ideal wires, xs
 * per cell, member[g * cells + c] marks the selected cells of group g). */
int pulse_wave_record(ssp_pulse *pp, const ssp_device *dev, const double *time, size_t nt,
                      double *const *vrow, double *const *vcol, double *const *vp, double *const *vn,
                      double *const *xs, const unsigned char *member);

/* Write the tile netlist (subckt, instances, wires; no sources) to t: row
 * driver node rd<i>, column driver node cd<j>, state nodes s<i>_<j> of the
 * dynamic cells (dyn[c] != 0, or all when dyn is NULL); the others are
 * their read-state element at the present state. */
int pulse_tile_netlist(ssp_ctx *ctx, ssp_text *t, const ssp_device *dev, size_t rows, size_t cols,
                       double r_wire, const unsigned char *dyn);

#endif
