/* ssp_train.h — in-situ training of a crossbar network: set / iterate / test.
 *
 * ssp_train_create sets everything up from a configuration (data, device
 * model, network, float twin, simulated hardware); ssp_train_step runs one
 * batch; ssp_train_epoch_end evaluates on the test set and closes the
 * epoch's metrics. The caller (the CLI) owns the loop, the printing, the
 * checkpoints and the signal handling. Same configuration and seed give the
 * same results bit for bit, including across a checkpoint and resume.
 *
 * Methods (config train.method):
 *  siamese      forward on the hardware, gradients in software, float twin
 *               updated (with gradient accumulation), quantized with error
 *               compensation, only changed weights programmed (open loop
 *               through the device model inverse), read back.
 *  closed_loop  the same twin, but every weight's devices write-verified to
 *               their level at every update step (the paper's baseline).
 *  sgd          plain in-situ SGD: the weight change becomes a pulse count on
 *               the devices directly (no twin, no quantization step).
 *  exsitu       float training; at the end of each epoch every weight is
 *               programmed with write-verify and the hardware is evaluated.
 *
 * On a circuit engine (engine.forward nodal | spice) with
 * engine.calibrate_every = N > 0, the step whose in-epoch index is a
 * multiple of N, and every evaluation (on the first calibrate_vectors
 * training images), first refit the digital gain of every tile output
 * (ssp_xbar_request_calibration); the gains are part of the checkpoint.
 *
 * How update steps program the devices (config program.mode):
 *  device  per device through the C model inverse (ssp_hw_write); energy
 *          V^2 G t per pulse.
 *  model   the changes become per-device targets (siamese: the devices whose
 *          level changes; closed_loop: both devices of every weight) and are
 *          programmed tile by tile through the pulse scheduler on the C model
 *          (ssp_hwprog.h), noise drawn from the hardware's generator, half-
 *          select disturb carried into the untargeted cells; energy priced by
 *          the ngspice-fitted per-pulse calibration, latency from the
 *          schedule. The first update and every program.check_every-th one
 *          also run one tile in ngspice (it refits the calibration); a state
 *          deviation beyond program.check_tol % is SSP_EMISMATCH.
 *  spice   every tile update is an ngspice transient; energy measured.
 * In model and spice modes, the closed-loop and verify-first references
 * below still price the weights the method did not touch with the device-
 * level V^2 G t estimate; bench/bench_update.c is the circuit-level
 * comparison of both updates.
 *
 * For every method, two closed-loop updates of the same update steps are
 * priced alongside, at the hardware's actual conductances (the closed_loop
 * method is its own reference; ex-situ training, which programs only at the
 * end of the epoch, is priced against the same per-step references, so
 * "eliminated" and the ratios mean the same for every method):
 *  closed_loop   write-verify every weight every step (the paper's basic
 *                closed-loop update): each weight gets a programming cycle,
 *                at least one pulse on the device carrying it (the pulses the
 *                method needed where it changed, one SET pulse elsewhere) and
 *                a verify read of both devices plus one after every pulse.
 *  verify_first  a gentler reference: every device read once per step, only
 *                devices out of band pulsed (the same pulses as the method),
 *                each pulse followed by a verify read. */

/* harness/train/ — steps 2 and 3 of a training step and the loop that holds
 * the steps together: the network and its backprop (ssp_net.h), the float
 * twin with gradient accumulation and quantization (ssp_twin.h), and the
 * training run with its checkpoints (this header), which calls
 * harness/xbar/ for the forward pass and harness/program/ for the update. */
#ifndef SSP_TRAIN_H
#define SSP_TRAIN_H

#include <stddef.h>

#include "ssp_config.h"
#include "ssp_error.h"
#include "ssp_hw.h"

/* Energy and latency of an evaluation's forward passes on the crossbar
 * (ssp_readcost.h): per inference (one test image) and per MVM. */
typedef struct ssp_read_figures {
    double e_array, e_dac, e_tia, e_adc; /* J per inference */
    double energy;                        /* J per inference, the sum */
    double latency;                       /* s per inference (its MVMs in series) */
    double mvms;                          /* MVMs per inference */
    double energy_per_mvm, latency_per_mvm; /* J, s */
    double t_read;                        /* s, the read window (adc.t_sample or adc.t_read) */
    int array_from_circuit;               /* 1: e_array from the tiles' settled row admittance
                                             (nodal/spice engine, linear 1R tiles); 0: the
                                             virtual-ground estimate (ideal engine, nonlinear tiles) */
} ssp_read_figures;

typedef struct ssp_epoch_metrics {
    long epoch;              /* 1-based */
    double lr;               /* learning rate used */
    double train_loss;       /* mean cross-entropy over the epoch's batches */
    double train_acc;        /* fraction correct during training (hardware forward) */
    double test_acc;         /* test accuracy, hardware forward */
    double test_loss;        /* test cross-entropy, hardware forward */
    long steps;              /* batches */
    long updates;            /* update steps (weights updated: every `accumulate` batches) */
    unsigned long long weights;   /* weights in the network */
    ssp_hw_stats hw;         /* programming actually done */
    ssp_hw_stats closed_loop;/* write-verify every weight on the same steps */
    ssp_hw_stats verify_first;/* read everything, pulse what is out of band, same steps */
    double updates_eliminated_pct; /* 100 (1 - hw.weight_writes / closed_loop.weight_writes) */
    double energy_ratio;     /* programming energy / closed-loop energy */
    double latency_ratio;    /* programming latency / closed-loop latency */
    double energy_ratio_vf;  /* programming energy / verify-first energy */
    double latency_ratio_vf; /* programming latency / verify-first latency */
    double t_forward, t_backward, t_quantize, t_program, t_eval; /* s of wall time per phase */
    ssp_read_figures read;   /* energy and latency of the test evaluation's reads */
} ssp_epoch_metrics;

typedef struct ssp_train ssp_train;

SSP_API int ssp_train_create(ssp_train **out, ssp_ctx *ctx, const ssp_config *cfg);
SSP_API void ssp_train_destroy(ssp_train **t);

/* Batches per epoch, epochs finished, position in the current epoch. */
SSP_API size_t ssp_train_steps_per_epoch(const ssp_train *t);
SSP_API long ssp_train_epochs_done(const ssp_train *t);
SSP_API size_t ssp_train_step_in_epoch(const ssp_train *t);
/* Running mean training loss of the current epoch. */
SSP_API double ssp_train_running_loss(const ssp_train *t);

/* One batch; *epoch_done is set when the epoch's batches are exhausted. */
SSP_API int ssp_train_step(ssp_train *t, int *epoch_done);
/* Evaluate the test set, fill m, start the next epoch. */
SSP_API int ssp_train_epoch_end(ssp_train *t, ssp_epoch_metrics *m);
/* All finished epochs' metrics. */
SSP_API const ssp_epoch_metrics *ssp_train_history(const ssp_train *t, size_t *n);

/* Accuracy and loss of the hardware forward on the test set, and the
 * number of test images it reads. */
SSP_API size_t ssp_train_test_size(const ssp_train *t);
SSP_API int ssp_train_evaluate(ssp_train *t, double *acc, double *loss);
/* The read energy and latency of the last evaluation. */
SSP_API void ssp_train_read_figures(const ssp_train *t, ssp_read_figures *f);

/* Save / restore everything needed to continue bit for bit (atomic write).
 * The file is an ssp_ckpt container (ssp_ckpt.h): format version 2, one
 * section per part (train, twin, devices, program, crossbar), each with its
 * CRC-32; loading refuses any damaged, truncated or extended file with
 * SSP_EFORMAT naming the file and the section, and reads format 1 (no
 * checksums) with a warning. */
SSP_API int ssp_train_checkpoint_save(ssp_train *t, const char *path);
SSP_API int ssp_train_checkpoint_load(ssp_train *t, const char *path);
/* The same from len bytes in memory; origin names them in messages. */
SSP_API int ssp_train_checkpoint_read(ssp_train *t, const unsigned char *data, size_t len, const char *origin);
/* Load a checkpoint to evaluate or export it, not to train on: the same
 * identity check (seed, network shape, device model and parameters, levels,
 * tile grid) except the training set, which the reading commands may read
 * differently (its permutation is skipped). */
SSP_API int ssp_train_checkpoint_load_to_read(ssp_train *t, const char *path);

/* The parts, for reports and exports. */
SSP_API const ssp_hw *ssp_train_hw(const ssp_train *t);
/* The float twin: its weights w and the levels q written on the devices. */
SSP_API const struct ssp_twin *ssp_train_twin(const ssp_train *t);
/* Programming counters of the epoch in progress (what ssp_epoch_metrics.hw
 * will hold at its end). */
SSP_API const ssp_hw_stats *ssp_train_epoch_hw(const ssp_train *t);
/* The circuit-engine layers (NULL with the ideal engine), e.g. for the
 * IR-drop map captured at the last evaluation and for tile netlists. */
SSP_API struct ssp_xbar *ssp_train_xbar(ssp_train *t);
/* The ngspice worker pool the spice tiles run on (NULL without a circuit
 * engine that needs ngspice); engine.workers workers. */
SSP_API struct ssp_pool *ssp_train_pool(ssp_train *t);
/* The tile programmer (NULL with program.mode = device); with
 * program.export other than none it holds each tile's last programming of
 * the epoch in progress or just ended (ssp_hwprog_recorded). */
SSP_API struct ssp_hwprog *ssp_train_prog(ssp_train *t);
/* program.mode = model | spice: the figures of every tile programming of
 * the epoch in progress, added (energy split, pulses, reads, latency; the
 * C model's priced by the calibration). Reset at each epoch's end; not in
 * checkpoints, so after a mid-epoch --resume it covers the steps since. */
SSP_API const struct ssp_pulse_result *ssp_train_epoch_prog(const ssp_train *t);
/* program.closed_loop = circuit: the same for the basic closed loop run on
 * the copy of the hardware (NULL otherwise). */
SSP_API const struct ssp_pulse_result *ssp_train_epoch_closed_loop_prog(const ssp_train *t);
/* The resolved configuration the run uses. */
SSP_API const ssp_config *ssp_train_config(const ssp_train *t);

#endif
