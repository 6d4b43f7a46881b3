/* ssp_cmd_train.h — the `siamspice train` subcommand (harness/cmd_train.c). */
#ifndef SSP_CMD_TRAIN_H
#define SSP_CMD_TRAIN_H

/* argv[0] is "train". Returns the process exit status (0, 1 or 2). */
int ssp_cmd_train(int argc, char **argv);

#endif
