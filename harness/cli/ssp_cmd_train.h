/* ssp_cmd_train.h — the `siamspice train` subcommand (harness/cmd_train.c). */
#ifndef SSP_CMD_TRAIN_H
#define SSP_CMD_TRAIN_H

/* argv[0] is "train". Returns the process exit status (0, 1 or 2). */
int ssp_cmd_train(int argc, char **argv);
/* `siamspice plot RUN_DIR` (harness/cmd_plot.c). */
int ssp_cmd_plot(int argc, char **argv);
/* `siamspice bench [NAME...]` (harness/cmd_bench.c). */
int ssp_cmd_bench(int argc, char **argv);
/* `siamspice infer RUN_DIR` (harness/cmd_infer.c). */
int ssp_cmd_infer(int argc, char **argv);
/* `siamspice netlist --run RUN_DIR`: a run's tiles as netlists (harness/cmd_infer.c). */
int ssp_cmd_netlist_run(int argc, char **argv);
/* `siamspice validate --run RUN_DIR | --config FILE`: engine agreement on a
 * network's tiles (harness/cmd_infer.c). */
int ssp_cmd_validate_run(int argc, char **argv);

#endif
