/* ssp_cmd.h — the siamspice subcommands, each a thin driver over the
 * library: parse its options, call the library, print, and return the exit
 * code (0 ok, 1 the run failed, 2 bad usage or input). argv[0] is the
 * subcommand's own name. main.c dispatches to these and holds nothing else. */
#ifndef SSP_CMD_H
#define SSP_CMD_H

/* siamspice device --params FILE [--pulses N] [--amplitude V] [--width s] [--spice]
 * Print a device model's pulse response: conductance after each pulse from
 * the C model (and, with --spice, from ngspice on the emitted subcircuit). */
int ssp_cmd_device(int argc, char **argv);

#endif
