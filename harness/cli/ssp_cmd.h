/* ssp_cmd.h — the siamspice subcommands (harness/cli/): each a thin driver
 * over the library: parse its options, call the library, print, and return
 * the exit code (0 ok, 1 the run failed, 2 bad usage or input). argv[0] is
 * the subcommand's own name. main.c dispatches to these and holds nothing
 * else.
 *
 * The command line is the top room of the layout: it may include every
 * other room's public headers, and nothing but main.c and the tests
 * include this one. It is built into the siamspice binary and the test
 * runner, never into libsiamspice. */
#ifndef SSP_CMD_H
#define SSP_CMD_H

#include <stddef.h>

#include "ssp_config.h"
#include "ssp_error.h"
#include "ssp_pool.h"

/* The shipped files a command finds by name (cmd_paths.c): in the source
 * tree when the binary runs from its build tree, else next to the installed
 * binary (BIN/../share/siamspice/{configs,params},
 * BIN/../libexec/siamspice/bench); $SSP_DATADIR and $SSP_BENCH_DIR
 * override. */
enum { SSP_CMD_CONFIGS = 0, SSP_CMD_PARAMS = 1, SSP_CMD_BENCH = 2 };
/* The directory of one kind; -1 if it cannot be told or does not fit. */
int ssp_cmd_dir(int kind, char *out, size_t n);
/* name as given when it is readable, else its last component in the
 * kind's directory; SSP_EIO naming both places when neither is. */
int ssp_cmd_find(ssp_ctx *ctx, int kind, const char *name, char *out, size_t n);
/* ssp_config_load on the config found by ssp_cmd_find(SSP_CMD_CONFIGS). */
int ssp_cmd_config_load(ssp_config *cfg, ssp_ctx *ctx, const char *path);
/* Replace cfg->device_params by the file ssp_cmd_find(SSP_CMD_PARAMS)
 * finds for it (call after the --set options). */
int ssp_cmd_config_resolve(ssp_config *cfg, ssp_ctx *ctx);

/* The progress display every command shares (cmd_progress.c): on stderr,
 * a bar with n of N and an ETA on a terminal, a line per 10 % otherwise,
 * nothing when quiet (-q). A change of `what` starts a new stage. */
typedef struct ssp_cmd_progress {
    int quiet, tty;      /* -q given; stderr is a terminal */
    int open, started;   /* a bar line not yet ended; the stage has printed */
    char what[96];       /* the stage shown */
    double t0;           /* s, monotonic clock at the stage's start */
    size_t last_decile;  /* non-terminal: the last tenth printed */
    size_t last_done;
} ssp_cmd_progress;
void ssp_cmd_progress_init(ssp_cmd_progress *p, int quiet);
/* extra: text after n/N (e.g. "loss 0.21"), or NULL. */
void ssp_cmd_progress_show(ssp_cmd_progress *p, const char *what, size_t done, size_t total, const char *extra);
/* End the stage's line (a terminal bar) before other output. */
void ssp_cmd_progress_end(ssp_cmd_progress *p);
/* An ssp_progress_fn over an ssp_cmd_progress (the payload). */
void ssp_cmd_progress_hook(const char *what, size_t done, size_t total, void *payload);

/* siamspice device --params FILE [--pulses N] [--amplitude V] [--width s] [--spice]
 * Print a device model's pulse response: conductance after each pulse from
 * the C model (and, with --spice, from ngspice on the emitted subcircuit).
 * (cmd_device.c) */
int ssp_cmd_device(int argc, char **argv);

/* siamspice fit --model KIND --data FILE.csv [--out params.ini] [--plot DIR] [--spice] ...
 * siamspice fit --generate PARAMS.ini [--devices N] [--cycles N] [--pulses N] [--out data.csv]
 * Fit a compact model to measured pulse data (report, parameter file,
 * ngspice replay, plot), or write synthetic data to try it. (cmd_fit.c) */
int ssp_cmd_fit(int argc, char **argv);

/* siamspice netlist --rows N --cols M [--cell 1r|1t1r] [--scheme diff|ref]
 *                   [--rwire OHM_PER_UM --pitch UM] [--ideal-tia]
 *                   [--seed S] [--out FILE]
 *     writes a standalone tile netlist with random conductances and DC
 *     inputs; `ngspice -b FILE` runs it and prints the TIA outputs.
 * siamspice validate (same tile options) [--vectors K]
 *     runs the ideal, nodal and spice engines on the same random tile and
 *     inputs and prints their maximum relative differences. (cmd_netlist.c) */
int ssp_cmd_netlist(int argc, char **argv);
int ssp_cmd_validate(int argc, char **argv);

/* Create the output directory dir of command cmd before any work: 0, or 2
 * (bad input: a file of that name, no write permission) after saying why
 * on stderr. */
int ssp_cmd_out_dir(ssp_ctx *ctx, const char *cmd, const char *dir);
/* The same for an output file: 0, or 2 after saying why (a directory of
 * that name, a directory to hold it that is missing or not writable). */
int ssp_cmd_out_file(const char *cmd, const char *path);
/* The directory a run or sweep writes into (dir, cap bytes): the resumed
 * one, else --out, else runs/<prefix>-<YYYYmmdd-HHMMSS> of now. */
void ssp_cmd_run_dir(char *dir, size_t cap, const char *resume, const char *out, const char *prefix);

/* siamspice program: plan, simulate and export the programming pulses that
 * take a tile from a present to a target state (cmd_program.c). */
int ssp_cmd_program(int argc, char **argv);
/* The checkpoint form (--present and --target name run directories or
 * checkpoint files; cmd_program_ckpt.c). Called by ssp_cmd_program when
 * --present names a checkpoint. */
int ssp_cmd_program_checkpoints(int argc, char **argv);
/* The exit status of a programming whose files are written: 1 (a failed
 * run, said on stderr) when any target is unreachable or no target reached
 * its band, unless accept (--accept-unreachable) is set; else 0. */
int ssp_cmd_program_outcome(size_t targets, size_t in_band, size_t unreachable, int accept);
/* 1 when arg is a run directory holding a checkpoint, or a checkpoint file. */
int ssp_cmd_program_is_checkpoint(const char *arg);

/* siamspice read --rows N --cols M | --run RUN_DIR [--spice] [--out DIR]:
 * the transient read of a tile on the nodal step response and in ngspice
 * (cmd_read.c). */
int ssp_cmd_read(int argc, char **argv);

/* siamspice train (cmd_train.c). */
int ssp_cmd_train(int argc, char **argv);
/* siamspice plot RUN_DIR (cmd_plot.c). */
int ssp_cmd_plot(int argc, char **argv);
/* siamspice sweep --config BASE --grid GRID [--out DIR] | --resume DIR
 * (cmd_sweep.c). */
int ssp_cmd_sweep(int argc, char **argv);
/* The pool job handlers the command line serves ("train": one sweep job),
 * for a local worker (siamspice --pool-worker FD) and for MPI ranks > 0. */
const ssp_pool_handler *ssp_cmd_handlers(size_t *n);
/* siamspice --pool-worker FD: serve pool jobs with those handlers. */
int ssp_cmd_pool_worker(int argc, char **argv);

/* siamspice bench [NAME...] (cmd_bench.c). */
int ssp_cmd_bench(int argc, char **argv);
/* siamspice infer RUN_DIR (cmd_infer.c). */
int ssp_cmd_infer(int argc, char **argv);
/* siamspice netlist --run RUN_DIR: a run's tiles as netlists (cmd_infer.c). */
int ssp_cmd_netlist_run(int argc, char **argv);
/* siamspice validate --run RUN_DIR | --config FILE: engine agreement on a
 * network's tiles (cmd_infer.c). */
int ssp_cmd_validate_run(int argc, char **argv);

#endif
