/* ssp_xbar.h — the network's weight matrices on crossbar tiles, read through
 * a circuit engine: the hardware forward pass of training and inference.
 *
 * Matrix m of the simulated hardware (ssp_hw, one device pair per weight) is
 * one ssp_layer: a grid of tiles described by the config's crossbar, DAC,
 * TIA and ADC. Before a forward pass ssp_xbar_sync() copies every device's
 * read-state I–V (its actual conductance: variation, write noise, stuck
 * cells) into the tiles; a tile whose cells did not change is not
 * refactored. The matmul callback (ssp_net_matmul_fn) turns the network's
 * normalised inputs U (in [0, 1], bias column of ones) into row voltages
 *     V = U · v_read          (v_read = the DAC's full scale, dac.v_read)
 * runs the tiles, adds the ADC codes of the tile rows digitally and scales
 * back to weight units, so Z ≈ U · W_hw including every circuit error.
 *
 * Spice checks (nodal engine): after ssp_xbar_request_check(), the next
 * product of every matrix also runs its first `vectors` inputs through one
 * tile (round robin over the grid) on the spice engine, from the same cells
 * and DAC voltages, and compares the TIA outputs; the deviation is
 * max |V_nodal − V_spice| / adc.v_fs. Beyond the tolerance the product
 * fails with SSP_EMISMATCH naming the matrix, tile and deviation.
 *
 * IR-drop report: ssp_xbar_irdrop() runs a batch through every tile on the
 * configured engine and on the ideal engine (same cells, same DAC inputs)
 * and gives, per tile output, the least-squares gain error
 *     err = Σ_q y_e·y_i / Σ_q y_i² − 1     (y = V+ − V− of the pair)
 * i.e. "engine output / ideal output − 1"; an output whose ideal signal
 * is almost nil (rms below 1 % of the tile's strongest output) has no
 * meaningful ratio and is reported as nan. */

/* harness/xbar/ — step 1 of a training step, the forward pass on the crossbar:
 * the tile engines ideal | nodal | spice (ssp_engine.h), the device states of
 * every tile (ssp_hw.h), a layer's split into tiles (ssp_layer.h), the
 * network on tiles with its converters, calibration and checks (this header)
 * and device curves (ssp_devcurve.h). Uses netlists/, devicemodels/, plugin/
 * and harness/core/; never harness/program/ (its sibling) or anything above. */
#ifndef SSP_XBAR_H
#define SSP_XBAR_H

#include <stddef.h>
#include <stdio.h>

#include "ssp_error.h"
#include "ssp_hw.h"
#include "ssp_layer.h"
#include "ssp_spice.h"

typedef struct ssp_xbar ssp_xbar;

/* Spice-check figures so far. */
typedef struct ssp_xbar_checks {
    long checks;              /* tile checks run */
    double max_dev;           /* largest deviation seen (fraction of adc.v_fs) */
    double last_dev;          /* deviation of the last check */
    unsigned long codes;      /* ADC codes compared */
    unsigned long code_diffs; /* of which differed (a TIA voltage on a code edge) */
    double spice_s;           /* wall time in the spice engine */
} ssp_xbar_checks;

/* Layers for every matrix of hw (borrowed, must outlive the xbar) on tiles
 * described by tile (rows, cols, periphery), at most max_tiles per matrix,
 * read by engine (SSP_ENGINE_NODAL or SSP_ENGINE_SPICE). spice: the ngspice
 * session for the spice engine and for checks (borrowed; may be NULL with
 * the nodal engine if no check is ever requested). */
SSP_API int ssp_xbar_create(ssp_xbar **out, ssp_ctx *ctx, ssp_hw *hw, const ssp_tile_params *tile,
                    size_t max_tiles, int engine, ssp_spice *spice);
SSP_API void ssp_xbar_destroy(ssp_xbar **x);
/* The nodal engine's path on every tile (enum ssp_nodal_path); a no-op on
 * the spice engine. */
SSP_API int ssp_xbar_set_nodal_path(ssp_xbar *x, int path);

/* Copy the devices' present read-state I–V into the tiles. The product and
 * the netlist export do it themselves whenever the hardware's version
 * (ssp_hw_version) differs from the one last copied. */
SSP_API int ssp_xbar_sync(ssp_xbar *x);
/* Z (n x cols) = the crossbar's product for matrix m on the devices as they
 * are now; payload is ssp_xbar. */
SSP_API int ssp_xbar_matmul(void *payload, size_t m, const double *u, size_t n, double *z);

/* Solve the spice tiles (the spice engine's layers, the checks', the
 * validation's) on the workers of pool (borrowed, must outlive x; NULL:
 * in the ngspice session): each tile keeps its circuit loaded on its
 * worker, the tiles of one layer run in parallel. */
SSP_API void ssp_xbar_set_pool(ssp_xbar *x, ssp_pool *pool);
/* Check the next product of every matrix against spice (see above). */
SSP_API void ssp_xbar_request_check(ssp_xbar *x, size_t vectors, double tol);
SSP_API const ssp_xbar_checks *ssp_xbar_check_stats(const ssp_xbar *x);
/* The tile (tr * grid columns + tc) the next check of matrix m picks. */
SSP_API size_t ssp_xbar_check_next(const ssp_xbar *x, size_t m);

/* Digital gain calibration: the next product of every matrix first fits,
 * on its first `vectors` inputs, one gain per tile output (pair) that
 * makes the circuit's code difference match the ideal product G·V of the
 * same cells (wire IR drop, driver and sense resistance and TIA gain error
 * scale an output by a factor that depends on the tile's conductances),
 * and the product itself and every later one multiply each tile output by
 * its gain before the digital sum over tile rows. Vectors that clip at the
 * ADC full scale are left out of the fit; outputs without signal get 1. */
typedef struct ssp_xbar_calibration {
    long runs;                 /* matrix calibrations run */
    unsigned long fitted;      /* tile outputs fitted, over all runs */
    unsigned long unit;        /* tile outputs without signal (gain 1) */
    double gain_min, gain_max; /* range of the fitted gains */
} ssp_xbar_calibration;
SSP_API void ssp_xbar_request_calibration(ssp_xbar *x, size_t vectors);
SSP_API const ssp_xbar_calibration *ssp_xbar_calibration_stats(const ssp_xbar *x);
/* The crossbar's own state as a checkpoint section: per matrix the next
 * tile a spice check picks and the output gains (x may be NULL: an empty
 * section), and back. Reading accepts a stream without the section (an
 * older checkpoint) and reads past the state of another tiling or engine (x
 * NULL, or other grid sizes), leaving this xbar's as it was; a damaged
 * section is an SSP_EFORMAT error naming origin. */
SSP_API int ssp_xbar_write_state(ssp_xbar *x, FILE *f);
SSP_API int ssp_xbar_read_state(ssp_xbar *x, ssp_ctx *ctx, FILE *f, const char *origin);

/* Capture the IR-drop error of the next product of every matrix (its
 * first `vectors` inputs); ssp_xbar_write_irdrop() writes what was captured
 * as CSV: header "matrix,tile_row,tile_col,out,err". */
SSP_API void ssp_xbar_request_irdrop(ssp_xbar *x, size_t vectors);
SSP_API int ssp_xbar_write_irdrop(const ssp_xbar *x, FILE *f);
/* The first input vector of matrix m's last IR-drop capture (n_in row
 * voltages, V, before the DAC), or NULL before any capture. */
SSP_API const double *ssp_xbar_first_input(const ssp_xbar *x, size_t m);

/* Write every tile of every matrix as a standalone ngspice netlist into dir
 * (created): m<m>_t<tr>_<tc>.cir with the present cells, DC row inputs from
 * the first vector of the last IR-drop capture (else every row at v_read/2)
 * and a .control block printing the TIA outputs (`ngspice -b` runs it); and
 * the weight-to-tile mapping of each matrix, mapping_m<m>.txt. */
SSP_API int ssp_xbar_write_netlists(ssp_xbar *x, const char *dir);

/* Engine agreement on every tile: after ssp_xbar_request_validate(), the
 * next product of every matrix also runs its first `vectors` inputs (the
 * layer's actual DAC voltages) through every tile of the grid on the ideal,
 * nodal and spice engines, from the same cells. Figures per tile: */
typedef struct ssp_xbar_tile_check {
    size_t matrix, tile_row, tile_col, rows, cols, vectors;
    double nodal_vs_spice;     /* max |a−b| / max(|a|,|b|,1e-12 V) over the TIA outputs */
    double nodal_vs_spice_fs;  /* max |a−b| / adc.v_fs */
    double ideal_vs_spice_fs;  /* max |a−b| / adc.v_fs, ideal engine against spice */
    double spice_s, nodal_s;   /* wall time of the two engines on this tile */
} ssp_xbar_tile_check;
SSP_API int ssp_xbar_request_validate(ssp_xbar *x, size_t vectors);
/* The figures captured so far (n of them), in matrix, tile order. */
SSP_API const ssp_xbar_tile_check *ssp_xbar_validation(const ssp_xbar *x, size_t *n);

/* Array read energy from the circuit: while on, every product adds, per
 * tile and vector, the energy its row sources deliver in a read of t_read
 * seconds, v·(Y·v + i0)·t_read + Σ v_i²·C_row: Y and i0 the tile's settled
 * row admittance and offset currents (ssp_step_row_admittance, exact for
 * the linear tile: wires, IR drop, TIA gain and offsets; computed once per
 * cell state), C_row a word line's capacitance (segments and cells, the
 * charge the DAC puts on it). The settling transient itself is not in it
 * (see README: the read path). Available for linear 1R tiles; otherwise
 * ssp_xbar_array_energy reports it unavailable (logged once). */
SSP_API void ssp_xbar_count_array(ssp_xbar *x, int on, double t_read);
/* Energy counted since the last reset (J); returns 0 when unavailable. */
SSP_API int ssp_xbar_array_energy(const ssp_xbar *x, double *joules);
SSP_API void ssp_xbar_array_reset(ssp_xbar *x);

/* The layer of matrix m (for mapping reports and netlists). */
SSP_API ssp_layer *ssp_xbar_layer(ssp_xbar *x, size_t m);
SSP_API size_t ssp_xbar_nmat(const ssp_xbar *x);

#endif
