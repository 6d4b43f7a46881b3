/* ssp_pulse.h — programming-pulse schedules for a crossbar tile: planned from
 * level changes, executed in ngspice or in the C device model, exported for
 * tapeout.
 *
 * A tile is R x C devices (row-major; device (i, j) sits between word line i,
 * its + terminal, and bit line j). Given a level table and a target level per
 * cell (SSP_PULSE_KEEP: no change), ssp_pulse_program_tile() plans pulses
 * round by round and runs them:
 *   - per cell: polarity from the present read vs the target, pulse count from
 *     the nominal model inverse (the controller does not know a device's own
 *     variation); the fractional rest becomes one shorter pulse whose width is
 *     quantized to width / SSP_PULSE_WIDTH_STEPS;
 *   - per tile: row by row (or column by column, or whichever is shorter),
 *     the selected cells of a line pulsed in parallel (cells with the same
 *     pulse width share a pulse), SET and RESET phases separated, each round
 *     starting with the phase the previous one ended with;
 *   - open loop: one round, no verify; write-verify: after each round every
 *     line that was pulsed is read (t_verify per line) and the cells outside
 *     their band get another round, up to verify_max rounds (optional
 *     amplitude stepping per round).
 * Unselected lines are biased by the V/2 or V/3 scheme. Every round of a
 * write-verify is one ngspice transient (successive transients, each started
 * from the states the previous one ended in, read from the state nodes);
 * that is the verify loop of a controller with a digital read-out, and it
 * keeps every transient a plain PWL run.
 *
 * The schedule is the record of the pulses issued (for write-verify: the
 * ones the simulated controller decided on). Exports: CSV, JSON, per-driver
 * PWL files and a VCD (ssp_pulse_export_*), CSV and JSON read back exactly.
 *
 * This module never prints; errors are status codes with the message in the
 * ssp_ctx given at ssp_pulse_create. A cell that cannot reach its band is
 * reported in the result and in the per-cell status, never skipped silently. */

/* harness/program/ — step 4 of a training step, the sparse update as
 * programming pulses: the pulse scheduler with its C-model and ngspice
 * executors and its exports (this header), and a tile's programming on the
 * hardware state (ssp_hwprog.h). pulse_impl.h is internal to this folder.
 * Uses devicemodels/, plugin/ and harness/core/; never harness/xbar/ (its
 * sibling) or anything above. */
#ifndef SSP_PULSE_H
#define SSP_PULSE_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "ssp_device.h"
#include "ssp_error.h"
#include "ssp_spice.h"

/* Target value meaning "leave this cell alone". */
#define SSP_PULSE_KEEP (-1)
/* The fractional pulse of a plan is a multiple of width / this many. */
#define SSP_PULSE_WIDTH_STEPS 16

enum ssp_pulse_strategy { SSP_PULSE_OPEN = 0, SSP_PULSE_VERIFY = 1 };
/* Bias of unselected lines. FULL (unselected rows at the full amplitude,
 * unselected columns at 0 V) is a deliberately broken scheme for tests. */
enum ssp_pulse_bias { SSP_PULSE_V2 = 2, SSP_PULSE_V3 = 3, SSP_PULSE_FULL = 1 };
enum ssp_pulse_order { SSP_PULSE_BY_ROW = 0, SSP_PULSE_BY_COL = 1, SSP_PULSE_BY_AUTO = 2 };
/* Event phases. READ (written "VERIFY") marks a verify read of one line (col or row = -1). */
enum ssp_pulse_phase { SSP_PULSE_SET = 0, SSP_PULSE_RESET = 1, SSP_PULSE_READ = 2 };

/* Per-cell outcome. */
enum ssp_pulse_cell {
    SSP_PULSE_CELL_KEEP = 0,       /* not a target (may have been disturbed) */
    SSP_PULSE_CELL_IN_BAND = 1,    /* target reached: read inside its band */
    SSP_PULSE_CELL_MISSED = 2,     /* strategy finished outside the band */
    SSP_PULSE_CELL_UNREACHABLE = 3 /* band outside the device's range, or stuck */
};

typedef struct ssp_pulse_params {
    int strategy;        /* enum ssp_pulse_strategy */
    int bias;            /* enum ssp_pulse_bias */
    int order;           /* enum ssp_pulse_order */
    long verify_max;     /* write-verify: most rounds */
    double amp_step;     /* write-verify: amplitude grows by this fraction per round (0: none) */
    double set_amp;      /* V, SET amplitude across the cell (model default) */
    double reset_amp;    /* V, RESET amplitude (model default) */
    double width;        /* s, flat width of a full pulse (model default) */
    double edge;         /* s, rise and fall time (model default) */
    double t_verify;     /* s, one verify read of a line (model's read width) */
    double t_settle;     /* s, line settling before every pulse */
    double r_wire;       /* ohm per word-/bit-line segment (0: ideal wires) */
    double tmax_frac;    /* largest ngspice step as a fraction of width */
    double c_line_cell;  /* F, line capacitance per cell it crosses (model
                          * default SSP_PULSE_C_LINE_CELL): prices the line
                          * drivers, energy_driver_j; not in the netlists */
    int dynamic_all;     /* 1: every cell a full dynamic subcircuit in every
                          * round; 0 (default): a cell is dynamic in a round
                          * when the C model says a voltage it sees then
                          * (x (1 + SSP_PULSE_FREEZE_MARGIN)) moves it, else
                          * its exact read-state I-V at its present state */
    int reference;       /* C-model executor: 1 the reference path (every
                          * driven cell integrated, the wire solve's cells at
                          * their secant conductance re-evaluated each sweep);
                          * 0 (default) the fast path: a cell whose voltage
                          * lies in its model's dead band is not integrated
                          * (ssp_device_pulse_inert: exactly the same state,
                          * no noise drawn), and a tile of linear-I-V cells is
                          * wire-solved with each cell's conductance and each
                          * line's tridiagonal factors computed once per solve,
                          * its sweeps stopped at 1e-6 of the largest drive
                          * (the reference: 1e-9). The same iteration:
                          * test_pulses checks equal schedules, states within
                          * 1e-9 of the state range, energies within 1e-6 */
} ssp_pulse_params;

/* Default line capacitance per cell, F: the ~10 fF per cell the default
 * settling time assumes (ssp_pulse.c). An assumption of this model, not a
 * measured figure; the ngspice tiles carry no capacitance. */
#define SSP_PULSE_C_LINE_CELL 10e-15

/* Voltage margin of the "this cell cannot move this round" probe. */
#define SSP_PULSE_FREEZE_MARGIN 0.1

/* Defaults from the model: its SET pulse, V/2, by row, write-verify with 8
 * rounds, t_settle 10 ns, ideal wires. */
SSP_API void ssp_pulse_params_default(ssp_pulse_params *p, const ssp_device_model *m);

/* One schedule event. For a pulse: every selected cell of a parallel pulse
 * has its own event with the same t. Cell voltage = v_row - v_col. */
typedef struct ssp_pulse_event {
    double t;           /* s, start of the rising edge (verify: of the read) */
    int tile;           /* tile index */
    int phase;          /* enum ssp_pulse_phase */
    int row, col;       /* selected cell (verify: the line read, other = -1) */
    double v_row;       /* V, selected word line */
    double v_col;       /* V, selected bit line */
    double v_row_unsel; /* V, unselected word lines */
    double v_col_unsel; /* V, unselected bit lines */
    double width;       /* s, flat width (verify: read time) */
    int level;          /* expected level after the pulse (verify: -1) */
} ssp_pulse_event;

/* A growing schedule; alloc/free. */
typedef struct ssp_pulse_schedule {
    ssp_pulse_event *ev; /* n events, time-ordered; owned */
    size_t n, cap;
    size_t rows, cols;   /* tile size */
    int bias;            /* enum ssp_pulse_bias */
    int order;           /* enum ssp_pulse_order actually used (row or col) */
    double edge;         /* s, pulse rise/fall time */
    double latency;      /* s, end of the last event */
} ssp_pulse_schedule;

SSP_API int ssp_pulse_schedule_alloc(ssp_pulse_schedule **out, ssp_ctx *ctx, size_t rows, size_t cols);
SSP_API void ssp_pulse_schedule_free(ssp_pulse_schedule **s);
/* Append one event (grows the array). */
SSP_API int ssp_pulse_schedule_add(ssp_pulse_schedule *s, ssp_ctx *ctx, const ssp_pulse_event *e);

/* The outcome of programming one tile. */
typedef struct ssp_pulse_result {
    size_t targets;          /* cells asked to change level */
    size_t in_band;          /* targets inside their band at the end */
    size_t missed;           /* targets outside their band */
    size_t unreachable;      /* targets the device cannot reach (stuck, out of range) */
    size_t pulsed;           /* targets that received at least one pulse */
    size_t out_pulsed;       /* targets outside their band (missed + unreachable) that were pulsed */
    size_t out_stuck;        /* targets outside their band on a stuck device */
    size_t pulses;           /* programming pulses on selected cells */
    size_t groups;           /* parallel pulses (line events) */
    size_t verify_reads;     /* line reads */
    size_t rounds;           /* planning rounds run */
    double energy_j;         /* J, total: pulses (sources; model path: analytic or priced) + reads */
    double energy_sel_j;     /* J, in selected cells */
    double energy_half_j;    /* J, in half-selected (and V/3-biased) cells */
    double energy_wire_j;    /* J, in wire resistance (sources - cells; never negative: a
                              * difference within energy_tol_j of zero is 0) */
    double energy_tol_j;     /* J, error bound of the transient's energies (ngspice path;
                              * see ssp_pulse_wire_energy), 0 on the model path */
    double energy_read_j;    /* J, verify reads (Vr^2 G t per cell of a read line) */
    double energy_driver_j;  /* J, line drivers charging the lines: per pulse and
                              * per verify read, C_line V^2 of every line driven
                              * away from 0 V (C_line = c_line_cell x its cells);
                              * NOT part of energy_j */
    double energy_analytic_j; /* J, the C model's cell energy: sum of V I(V, x) t over every
                               * biased cell, from states, V the cell's voltage from the
                               * model's wire solve at the states before each pulse (with
                               * ideal wires: the drive) */
    double energy_sel_analytic_j;  /* J, the selected part of it */
    double energy_half_analytic_j; /* J, the half-selected part of it */
    double energy_wire_analytic_j; /* J, the C model's wire energy: sum of (V_drive - V) I(V, x) t
                                    * over the same cells and pulses (0 with ideal wires) */
    double latency_s;        /* s, pulses + settling + verify reads */
    double disturb_max;      /* largest |dG| of a non-target cell, in level spacings */
    double disturb_mean;     /* mean |dG| over non-target cells, in level spacings */
    double spice_s;          /* s, wall time spent in ngspice transients */
} ssp_pulse_result;

/* A calibrated per-pulse energy model, fitted from transients: measured /
 * C-model energy per class (selected cells, half-selected cells, wires).
 * Both sides of each ratio see the tile's IR drop (the model through its
 * wire solve), so what the ratios carry is what the C model leaves out
 * (its integration of the device, the transient's edges), not the drop of
 * the tile the fit ran on: a fit on one tile prices tiles of other sizes
 * and states. (Until session 11 the model's energies were taken at the
 * drive voltage and the wire energy was a fixed fraction of the cells':
 * the ratios carried tile 0's IR drop, and checks on a smaller tile of a
 * 128x128 network were 11-15 % off.) */
typedef struct ssp_pulse_cal {
    double sel_ratio;   /* selected-cell energy: transient / the C model's (energy_sel_analytic_j) */
    double half_ratio;  /* half-selected energy: transient / the C model's */
    double wire_ratio;  /* wire energy: transient / the C model's (energy_wire_analytic_j);
                         * 1 where the model has none (ideal wires) */
    int fitted;         /* 0 until ssp_pulse_cal_fit */
} ssp_pulse_cal;

/* Fit the model from an ngspice result (energy split and analytic sums);
 * accumulates over calls. Price a C-model result in place: energy_sel_j,
 * energy_half_j, energy_wire_j, energy_j from its analytic sums. */
SSP_API int ssp_pulse_cal_fit(ssp_pulse_cal *cal, ssp_ctx *ctx, const ssp_pulse_result *spice_res);
SSP_API void ssp_pulse_cal_price(const ssp_pulse_cal *cal, ssp_pulse_result *res);

/* Energy lost in the wires of a transient: the drivers' energy e_sources
 * minus the cells' e_cells, both integrated from the same samples, which
 * agree only to the accuracy tol of the solution (ssp_pulse_spice.c: RELTOL
 * of both, plus ABSTOL times each driver's integral of |V|). A difference in
 * [-tol, 0) is round-off and gives 0; below -tol the energies are
 * inconsistent: SSP_EMISMATCH naming the figures. */
SSP_API int ssp_pulse_wire_energy(ssp_ctx *ctx, double e_sources, double e_cells, double tol, double *e_wire);

typedef struct ssp_pulse ssp_pulse;

/* A programmer for rows x cols tiles of devices following model m with the
 * level table lv (both not owned, must outlive it). Checks the parameters
 * (widths > 0, amplitudes of the right sign, ...). */
SSP_API int ssp_pulse_create(ssp_pulse **out, ssp_ctx *ctx, const ssp_device_model *m,
                     const ssp_device_levels *lv, size_t rows, size_t cols,
                     const ssp_pulse_params *p);
SSP_API void ssp_pulse_destroy(ssp_pulse **pp);

/* Program one tile: dev (rows x cols, row-major) from its present states to
 * target[k] (a level index, or SSP_PULSE_KEEP). spice NULL: the C device
 * model runs every pulse (rng: its cycle-to-cycle and read noise, NULL none);
 * otherwise every round is an ngspice transient in that session and the
 * states read from the state nodes (rng unused). On return dev holds the
 * achieved states (half-select disturb included), res the figures, status
 * (rows x cols, may be NULL) each cell's enum ssp_pulse_cell, and the
 * events are appended to sched (may be NULL) with times continuing from its
 * latency. A target level outside the table is SSP_ERANGE. */
SSP_API int ssp_pulse_program_tile(ssp_pulse *pp, ssp_spice *spice, gsl_rng *rng, int tile,
                           ssp_device *dev, const int *target, ssp_pulse_schedule *sched,
                           ssp_pulse_result *res, int *status);

/* Execute a recorded schedule's pulses (events of tile `tile`) on the C
 * device model: every cell gets the voltage its word and bit lines carry in
 * each pulse (selected: the amplitude; others: the bias scheme's V/2 or V/3
 * as their own pulses), less the IR drop of the cells' currents along the
 * wires when r_wire > 0 (solved at the states before each pulse; the same
 * holds for the C-model path of ssp_pulse_program_tile). Verify events are skipped (reads do not program).
 * rng: c2c noise (NULL: none). Used to compare C and ngspice on the same
 * pulses. */
SSP_API int ssp_pulse_replay(ssp_pulse *pp, gsl_rng *rng, int tile, ssp_device *dev,
                     const ssp_pulse_schedule *sched);

/* The level a conductance belongs to for a target given in siemens:
 * nearest level; SSP_ERANGE outside [Gmin, Gmax] of the table's range. */
SSP_API int ssp_pulse_level_of(const ssp_device_levels *lv, ssp_ctx *ctx, double g, int *level);

/* ---- the waveform of one programming transient ------------------------- */

/* One cell's signals over one ngspice programming transient (a round of
 * ssp_pulse_program_tile with a spice session): the first transient in which
 * that cell is selected by a pulse. Arrays of n points, malloc'ed by the
 * recording, freed by ssp_pulse_wave_clear. */
typedef struct ssp_pulse_wave {
    size_t row, col;   /* the cell recorded */
    long transients;   /* transients seen since ssp_pulse_wave_arm */
    long round;        /* 0-based transient recorded; -1: none yet */
    size_t n;          /* time points */
    double *t;         /* s, from the transient's start */
    double *v_wl;      /* V, word-line driver of the cell's row */
    double *v_bl;      /* V, bit-line driver of the cell's column */
    double *v_cell;    /* V, across the cell (its + minus its - terminal, after the wires) */
    double *x;         /* the model's state variable (its state node) */
    double *i;         /* A, through the cell from + to -: the device's I(V, x) */
    double *g_read;    /* S, read conductance at that state */
} ssp_pulse_wave;

/* Record cell (row, col) in the next ngspice transients of pp into w (w is
 * cleared first; borrowed: must outlive the programming or be disarmed with
 * ssp_pulse_wave_arm(pp, NULL, 0, 0)). SSP_ERANGE for a cell off the tile. */
SSP_API int ssp_pulse_wave_arm(ssp_pulse *pp, ssp_pulse_wave *w, size_t row, size_t col);
/* Free the arrays; w itself is the caller's. NULL is a no-op. */
SSP_API void ssp_pulse_wave_clear(ssp_pulse_wave *w);
/* CSV with units in the header:
 *   time_s,v_wl_V,v_bl_V,v_cell_V,state_x,i_cell_A,g_read_S
 * after one '#' line naming the cell and the transient; 17 digits. */
SSP_API int ssp_pulse_wave_export_csv(const ssp_pulse_wave *w, ssp_ctx *ctx, const char *path);

/* ---- exports (every file written atomically) --------------------------- */

/* CSV: header
 *   time_s,tile,phase,row,col,v_row_v,v_col_v,v_row_unsel_v,v_col_unsel_v,width_s,level
 * one line per event, phase SET/RESET/VERIFY, numbers with 17 digits. */
SSP_API int ssp_pulse_export_csv(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *path);
/* JSON: {"format":"siamspice-schedule","version":1,"rows","cols","bias",
 * "order","edge_s","latency_s","events":[{...same fields...}]}. */
SSP_API int ssp_pulse_export_json(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *path);
/* Read them back into a new schedule (CSV carries no bias/edge: those are
 * left 0 except rows/cols taken from the largest indices + 1). */
SSP_API int ssp_pulse_read_csv(ssp_pulse_schedule **out, ssp_ctx *ctx, const char *path);
SSP_API int ssp_pulse_read_json(ssp_pulse_schedule **out, ssp_ctx *ctx, const char *path);
/* The same from len bytes of JSON in memory; origin names them in messages. */
SSP_API int ssp_pulse_parse_json(ssp_pulse_schedule **out, ssp_ctx *ctx, const char *data, size_t len, const char *origin);
/* One file per line driver in dir: wl<i>.pwl and bl<j>.pwl, each a SPICE
 * source line "Vwl<i> wl<i> 0 PWL(...)" (any SPICE .includes it), plus
 * tile.cir: the tile with the devices' subcircuit and present states
 * (dev, before programming), the wires, the .include of every driver file
 * and a `tran ... uic` over the whole schedule. The device states after the
 * run are the state nodes s<i>_<j>. */
SSP_API int ssp_pulse_export_pwl(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *dir,
                         const ssp_device *dev, const ssp_pulse_params *p);
/* A schedule's files in dir (created): schedule.csv, schedule.json,
 * schedule.vcd and, with the states before it (start; may be NULL), the
 * ngspice deck pwl/ (ssp_pulse_export_pwl). */
SSP_API int ssp_pulse_export_dir(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *dir, const ssp_device *start,
                         const ssp_pulse_params *p);
/* VCD (timescale 1 ps): wires row_sel[i], col_sel[j], phase (0 SET, 1
 * RESET), pulse (1 while a pulse is on), verify (1 while a line is read). */
SSP_API int ssp_pulse_export_vcd(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *path);

/* Name of a phase / bias ("SET", "v2", ...). */
SSP_API const char *ssp_pulse_phase_name(int phase);
SSP_API const char *ssp_pulse_bias_name(int bias);

#endif
