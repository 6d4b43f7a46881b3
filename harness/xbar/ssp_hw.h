/* ssp_hw.h — the simulated memristor hardware of a network: one differential
 * device pair per weight, programmed level by level, read back.
 *
 * Weight w of a matrix sits on a pair (G+, G-) of devices drawn from the
 * device model with its variation and stuck fractions. Signed level q maps to
 * device levels (q, 0) for q >= 0 and (0, -q) for q < 0 on a table of L
 * conductances evenly spread between the model's nominal Gmin and Gmax. The
 * weight the hardware actually holds is read back from the devices:
 *     w_hw = w_max[m] * (G+ - G-) / (Gmax - Gmin)
 * so write noise, variation and stuck devices reach the forward pass.
 *
 * Programming here uses the C device model (devicemodels/): open loop (pulse
 * count from the model inverse, then noisy pulses) or write-verify (pulse,
 * read, compare with the level's band, repeat). Energy and latency are the
 * per-pulse and per-read estimates documented at ssp_hw_stats; the circuit-
 * level figures come from the pulse scheduler. A device that cannot reach
 * its band is counted as unreachable, never silently skipped. */
#ifndef SSP_HW_H
#define SSP_HW_H

#include <stddef.h>
#include <stdio.h>

#include "ssp_device.h"
#include "ssp_error.h"

enum ssp_hw_mode {
    SSP_HW_OPEN_LOOP = 0, /* pulses from the model inverse, no verify */
    SSP_HW_VERIFY = 1     /* pulse, read, compare with the band, repeat */
};

/* Programming cost counters. Energy of a pulse = V^2 * G * width with G the
 * device's read conductance before the pulse; of a read = Vread^2 * G *
 * t_read. Latency adds pulse widths (+ two edges) and read times serially,
 * device after device: an upper bound the row-parallel scheduler improves.
 *
 * What each count is, and how they nest (tests/train/test_train.c checks
 * these relations on real runs of every method):
 *   a target is a device asked to reach a level (both devices of a weight
 *   written through ssp_hw_write; in the tile scheduler the devices whose
 *   level changes); plain SGD (ssp_hw_pulse) has no levels and no targets.
 *   device_writes        <= device_targets (level methods), <= pulses
 *   device_targets       <= 2 weight_writes
 *   out_of_band          <= device_targets
 *   out_of_band_pulsed   <= out_of_band, <= device_writes
 *   out_of_band_stuck    <= out_of_band */
typedef struct ssp_hw_stats {
    unsigned long long weight_writes; /* weights given a programming cycle (a target on one of
                                         their devices; SGD: a pulse on one of them) */
    unsigned long long device_writes; /* devices that received at least one pulse */
    unsigned long long pulses;        /* programming pulses */
    unsigned long long reads;         /* verify reads */
    unsigned long long out_of_band;   /* targets outside their level's band after the write
                                         (pulsed or not, stuck ones included) */
    double pulse_energy_j;            /* J spent in pulses */
    double read_energy_j;             /* J spent in verify reads */
    double pulse_latency_s;           /* s of pulses (widths + edges) */
    double read_latency_s;            /* s of verify reads */
    unsigned long long device_targets;     /* devices asked to reach a level */
    unsigned long long out_of_band_pulsed; /* of out_of_band, those pulsed in this write */
    unsigned long long out_of_band_stuck;  /* of out_of_band, those on a stuck device */
} ssp_hw_stats;

static inline double ssp_hw_stats_energy(const ssp_hw_stats *s) { return s->pulse_energy_j + s->read_energy_j; }
static inline double ssp_hw_stats_latency(const ssp_hw_stats *s) { return s->pulse_latency_s + s->read_latency_s; }

SSP_API void ssp_hw_stats_add(ssp_hw_stats *to, const ssp_hw_stats *from);

typedef struct ssp_hw ssp_hw;

/* Devices for nmat matrices of rows[m] x cols[m] weights, sampled from the
 * model with the rng seeded by seed, all starting at level 0 (Gmin). */
SSP_API int ssp_hw_create(ssp_hw **out, ssp_ctx *ctx, const ssp_device_model *model, size_t nmat,
                  const size_t *rows, const size_t *cols, int levels, double tolerance,
                  const double *w_max, long verify_max, unsigned long seed);
SSP_API void ssp_hw_destroy(ssp_hw **hw);

/* Nominal pulses (default SET pulse) per level step, from the model inverse
 * over the whole range: converts a weight change into a pulse count. */
SSP_API double ssp_hw_pulses_per_level(const ssp_hw *hw);
/* Program weight (m, idx) to signed level q. */
SSP_API int ssp_hw_write(ssp_hw *hw, size_t m, size_t idx, int q, int mode, ssp_hw_stats *st);
/* Plain in-situ update (NeuroSim-style): |npulses| identical pulses, open
 * loop, no verify, applied to the device that carries the weight's sign
 * (G+ when G+ >= G-, else G-): SET to move the weight away from zero,
 * RESET towards it. npulses > 0 raises the weight, < 0 lowers it. Pulses
 * that would move a device past its bound stop there. */
SSP_API int ssp_hw_pulse(ssp_hw *hw, size_t m, size_t idx, long npulses, ssp_hw_stats *st);
/* Put every device of matrix m into the state of its level's target
 * conductance without pulses (initial state of an experiment). */
SSP_API int ssp_hw_preset(ssp_hw *hw, size_t m, const int *q);

/* Read-back weight matrix (rows x cols). */
SSP_API const double *ssp_hw_weights(const ssp_hw *hw, size_t m);
/* Z = U W_hw (the ideal engine: G V with no parasitics); payload is ssp_hw. */
SSP_API int ssp_hw_matmul_ideal(void *payload, size_t m, const double *u, size_t n, double *z);
SSP_API size_t ssp_hw_nmat(const ssp_hw *hw);
/* Weights (pairs) in matrix m. */
SSP_API size_t ssp_hw_weight_count(const ssp_hw *hw, size_t m);
/* The devices of matrix m, read only, as the physical array they form:
 * ssp_hw_rows(hw, m) rows of ssp_hw_device_cols(hw, m) devices, row-major
 * (ssp_hw_device_count_of devices in all). Only ssp_hw.c knows which device
 * of the array carries which weight; the others ask through the functions
 * below. Devices change only through ssp_hw_write, ssp_hw_pulse,
 * ssp_hw_preset, ssp_hw_program and ssp_hw_read_state. */
SSP_API const ssp_device *ssp_hw_devices_const(const ssp_hw *hw, size_t m);
SSP_API size_t ssp_hw_device_cols(const ssp_hw *hw, size_t m);
SSP_API size_t ssp_hw_device_count_of(const ssp_hw *hw, size_t m);
/* The read-state I-V of the device pair of every weight of matrix m:
 * plus[idx] of its G+ device, minus[idx] of its G- device. */
SSP_API void ssp_hw_cells(const ssp_hw *hw, size_t m, ssp_cell_iv *plus, ssp_cell_iv *minus);
/* Device d (0 .. ssp_hw_device_count_of - 1) of matrix m: its weight
 * (*idx) and side (*minus: 0 G+, 1 G-), and the level it holds for signed
 * weight level q. */
SSP_API void ssp_hw_device_weight(const ssp_hw *hw, size_t m, size_t d, size_t *idx, int *minus);
SSP_API int ssp_hw_device_level(int q, int minus);
/* Targets for programming weight idx of a matrix to signed level q in a
 * per-device target array of the matrix (targetm, ssp_hw_device_count_of
 * entries, one level index per device): both devices of the pair, or with
 * changed_only only those whose level differs from the one for level
 * `from`. Returns the number of targets set. */
SSP_API size_t ssp_hw_target_weight(const ssp_hw *hw, size_t idx, int q, int from, int changed_only, int *targetm);
/* The same for every weight of matrix m, to the signed levels q[idx]. */
SSP_API void ssp_hw_target_all(const ssp_hw *hw, size_t m, const int *q, int *targetm);

/* Incremented by every change of any device (ssp_hw_write, ssp_hw_pulse,
 * ssp_hw_preset, ssp_hw_program, ssp_hw_read_state): a consumer that holds
 * a copy of device states (the circuit tiles, ssp_xbar) compares it with
 * the version it copied. */
SSP_API unsigned long ssp_hw_version(const ssp_hw *hw);

/* Tile programming through another module (ssp_hwprog, which must not see
 * ssp_hw): fn gets the devices of every matrix (dev[m], the physical array
 * of ssp_hw_devices_const), the hardware's rng (see ssp_hw_rng) and a
 * per-matrix, per-row flag array touched (all 0); it changes devices and
 * sets touched[m][r] for every row r of matrix m it may have changed. After
 * fn returns, with any status, the read-back weights of those rows are
 * recomputed and the version incremented; fn's status is returned. */
typedef int (*ssp_hw_program_fn)(void *payload, ssp_device *const *dev, gsl_rng *rng,
                                 unsigned char *const *touched);
SSP_API int ssp_hw_program(ssp_hw *hw, ssp_hw_program_fn fn, void *payload);

SSP_API const ssp_device_levels *ssp_hw_levels(const ssp_hw *hw);
/* Sum over the weights NOT written since ssp_hw_mark() of the read
 * conductance of the device carrying each weight (the larger of the pair),
 * in S: what pricing a one-pulse rewrite of every untouched weight needs. */
SSP_API double ssp_hw_untouched_carrier_g(const ssp_hw *hw);
/* Start a new write epoch for ssp_hw_untouched_carrier_g. */
SSP_API void ssp_hw_mark(ssp_hw *hw);
/* Default SET pulse amplitude (V) and width (s). */
SSP_API void ssp_hw_set_pulse(const ssp_hw *hw, double *v, double *width, double *edge);
/* Sum of the read conductances of every device (S). */
SSP_API double ssp_hw_g_sum(const ssp_hw *hw);
/* Total devices, read voltage (V) and read time (s): for pricing reads. */
SSP_API size_t ssp_hw_device_count(const ssp_hw *hw);
SSP_API double ssp_hw_read_voltage(const ssp_hw *hw);
SSP_API double ssp_hw_read_time(const ssp_hw *hw);
/* Nominal Gmax − Gmin of the level table (S): the span w_max maps onto. */
SSP_API double ssp_hw_g_span(const ssp_hw *hw);
/* Weight of a full-range pair in matrix m. */
SSP_API double ssp_hw_w_max(const ssp_hw *hw, size_t m);
/* Rows and columns (weights) of matrix m. */
SSP_API size_t ssp_hw_rows(const ssp_hw *hw, size_t m);
SSP_API size_t ssp_hw_cols(const ssp_hw *hw, size_t m);
/* Number of stuck devices in all matrices. */
SSP_API size_t ssp_hw_stuck_count(const ssp_hw *hw);

/* Count weight (m, idx) as written in the present write epoch. */
SSP_API void ssp_hw_stamp(ssp_hw *hw, size_t m, size_t idx);
/* The generator of variation and write noise (its state is checkpointed
 * with the devices): programming through other modules draws from it. */
SSP_API gsl_rng *ssp_hw_rng(ssp_hw *hw);

/* Device states, rng state and level tables for checkpoints. */
SSP_API int ssp_hw_write_state(const ssp_hw *hw, FILE *f);
SSP_API int ssp_hw_read_state(ssp_hw *hw, ssp_ctx *ctx, FILE *f, const char *origin);

#endif
