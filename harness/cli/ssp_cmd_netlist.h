/* ssp_cmd_netlist.h — the `siamspice netlist` and `siamspice validate`
 * commands. argv[0] is the command name, options follow; the return value
 * is the process exit code (0 ok, 1 run failed, 2 bad usage or input).
 *
 *   siamspice netlist --rows N --cols M [--cell 1r|1t1r] [--scheme diff|ref]
 *                     [--rwire OHM_PER_UM --pitch UM] [--ideal-tia]
 *                     [--seed S] [--out FILE]
 *       writes a standalone tile netlist with random conductances and DC
 *       inputs; `ngspice -b FILE` runs it and prints the TIA outputs.
 *   siamspice validate (same tile options) [--vectors K]
 *       runs the ideal, nodal and spice engines on the same random tile and
 *       inputs and prints their maximum relative differences. */
#ifndef SSP_CMD_NETLIST_H
#define SSP_CMD_NETLIST_H

int ssp_cmd_netlist(int argc, char **argv);
int ssp_cmd_validate(int argc, char **argv);

#endif
