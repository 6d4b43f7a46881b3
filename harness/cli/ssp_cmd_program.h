/* ssp_cmd_program.h — `siamspice program`: plan, simulate and export the
 * programming pulses that take a tile from a present to a target state.
 * The driver only: parsing, files and printing; the work is ssp_pulse.h. */
#ifndef SSP_CMD_PROGRAM_H
#define SSP_CMD_PROGRAM_H

/* argv[0] is "program". Exit status: 0 done, 1 failed, 2 bad usage or input. */
int ssp_cmd_program(int argc, char **argv);
/* The checkpoint form (--present and --target name run directories or
 * checkpoint files; harness/cmd_program_ckpt.c). Called by ssp_cmd_program
 * when --present names a checkpoint. */
int ssp_cmd_program_checkpoints(int argc, char **argv);
/* 1 when arg is a run directory holding a checkpoint, or a checkpoint file. */
int ssp_cmd_program_is_checkpoint(const char *arg);

#endif
