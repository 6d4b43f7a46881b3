/* main.c — the siamspice command: parse options, call the library, map
 * status codes to exit codes (0 ok, 1 run failed, 2 bad usage or input).
 * Under mpirun, rank 0 runs the command and every other rank serves the
 * pool's jobs until rank 0 is done. Nothing else lives here. */
#include <stdio.h>
#include <string.h>

#ifndef SSP_VERSION
#define SSP_VERSION "unknown" /* set by the Makefile */
#endif

#include "ssp_error.h"
#include "ssp_cmd.h"
#include "ssp_pool.h"
#include "ssp_spice.h"

static int print_version(ssp_ctx *ctx)
{
    ssp_spice *s = NULL;
    if (ssp_spice_create(&s, ctx, NULL) != SSP_OK) {
        fprintf(stderr, "siamspice: %s\n", ssp_ctx_errmsg(ctx));
        return 1;
    }
    char tr[160];
    printf("siamspice %s\nngspice %d (solver %s)\npool transports: %s\n", SSP_VERSION, ssp_spice_version(s),
           ssp_spice_solver(s), ssp_pool_transports(tr, sizeof tr));
    ssp_spice_destroy(&s);
    return 0;
}

static int has_option(int argc, char **argv, const char *opt)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], opt) == 0) return 1;
    return 0;
}

static int usage(FILE *to)
{
    fputs("usage: siamspice <command> [options]\n"
          "commands:\n"
          "  train       train a crossbar network in situ (siamspice train --help)\n"
          "  device      print a device model's pulse response, C and ngspice (siamspice device --help)\n"
          "  fit         fit a compact model to measured pulse data (siamspice fit --help)\n"
          "  infer       evaluate a run's checkpoint on the test set (siamspice infer --help)\n"
          "  netlist     write a crossbar tile (or with --run, a run's tiles) as ngspice netlists\n"
          "  validate    compare the ideal, nodal and spice engines on a tile, print a table\n"
          "  read        the transient read of a tile (or of a run's tiles): settling, energy, waveforms\n"
          "  program     plan, simulate and export a programming-pulse schedule\n"
          "  plot        draw a run directory's plots (siamspice plot --help)\n"
          "  sweep       run a grid of training runs, tabulate and plot them (siamspice sweep --help)\n"
          "  bench       run the built benchmarks, print their BENCH lines\n"
          "  --version   print the siamspice, ngspice and solver versions and the pool transports\n"
          "Under mpirun -np N, rank 0 runs the command and ranks 1..N-1 serve its pool jobs.\n",
          to);
    return to == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    int status, rank = 0, size = 1;
    /* a local pool worker: never an MPI process, even when started by one */
    if (argc >= 2 && strcmp(argv[1], "--pool-worker") == 0) return ssp_cmd_pool_worker(argc - 1, argv + 1);
    if (ssp_ctx_create(&ctx) != SSP_OK) {
        fputs("siamspice: out of memory\n", stderr);
        return 1;
    }
    if (ssp_pool_mpi_init(ctx, &argc, &argv, &rank, &size) != SSP_OK) {
        fprintf(stderr, "siamspice: %s\n", ssp_ctx_errmsg(ctx));
        ssp_ctx_destroy(&ctx);
        return 1;
    }
    if (rank > 0) {
        size_t nh;
        const ssp_pool_handler *h = ssp_cmd_handlers(&nh);
        status = ssp_pool_mpi_serve(h, nh) == SSP_OK ? 0 : 1;
        ssp_pool_mpi_finalize();
        ssp_ctx_destroy(&ctx);
        return status;
    }
    if (argc < 2)
        status = usage(stderr);
    else if (strcmp(argv[1], "train") == 0)
        status = ssp_cmd_train(argc - 1, argv + 1);
    else if (strcmp(argv[1], "plot") == 0)
        status = ssp_cmd_plot(argc - 1, argv + 1);
    else if (strcmp(argv[1], "device") == 0)
        status = ssp_cmd_device(argc - 1, argv + 1);
    else if (strcmp(argv[1], "fit") == 0)
        status = ssp_cmd_fit(argc - 1, argv + 1);
    else if (strcmp(argv[1], "infer") == 0)
        status = ssp_cmd_infer(argc - 1, argv + 1);
    else if (strcmp(argv[1], "netlist") == 0)
        status = has_option(argc, argv, "--run") ? ssp_cmd_netlist_run(argc - 1, argv + 1)
                                                 : ssp_cmd_netlist(argc - 1, argv + 1);
    else if (strcmp(argv[1], "validate") == 0)
        status = has_option(argc, argv, "--run") || has_option(argc, argv, "--config")
                     ? ssp_cmd_validate_run(argc - 1, argv + 1)
                     : ssp_cmd_validate(argc - 1, argv + 1);
    else if (strcmp(argv[1], "read") == 0)
        status = ssp_cmd_read(argc - 1, argv + 1);
    else if (strcmp(argv[1], "program") == 0)
        status = ssp_cmd_program(argc - 1, argv + 1);
    else if (strcmp(argv[1], "sweep") == 0)
        status = ssp_cmd_sweep(argc - 1, argv + 1);
    else if (strcmp(argv[1], "bench") == 0)
        status = ssp_cmd_bench(argc - 1, argv + 1);
    else if (strcmp(argv[1], "--version") == 0)
        status = print_version(ctx);
    else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        status = usage(stdout);
    else {
        fprintf(stderr, "siamspice: unknown command '%s'\n", argv[1]);
        status = usage(stderr);
    }
    ssp_pool_mpi_finalize();
    ssp_ctx_destroy(&ctx);
    return status;
}
