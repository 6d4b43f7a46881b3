/* fixture_writers.h — two small writers the fault tests run again and again
 * (tests/report/test_faults.c under I/O faults, tests/report/test_oom.c
 * under failed allocations): a 4x4 pulse schedule exported as CSV, JSON and
 * VCD, and a 4x4 tile netlist. Header-only (static functions); include from
 * one translation unit each. */
#ifndef SSP_FIXTURE_WRITERS_H
#define SSP_FIXTURE_WRITERS_H

#include <stdio.h>
#include <string.h>

#include "ssp_circuit.h"
#include "ssp_pulse.h"
#include "ssp_spice_emit.h"

/* nevents alternating SET/RESET events on a 4x4 tile, exported into dir as
 * schedule.csv, schedule.json and schedule.vcd. */
static inline int fixture_write_schedule(ssp_ctx *ctx, const char *dir, int nevents)
{
    ssp_pulse_schedule *s = NULL;
    char p[512];
    int rc = ssp_pulse_schedule_alloc(&s, ctx, 4, 4);
    for (int k = 0; !rc && k < nevents; k++) {
        ssp_pulse_event e = {4e-8 * k, 0, k % 2 ? SSP_PULSE_RESET : SSP_PULSE_SET, k % 4, (k + 1) % 4,
                             k % 2 ? 0 : -1, k % 2 ? 1 : 0, -0.5, -0.5, 5e-8, k};
        rc = ssp_pulse_schedule_add(s, ctx, &e);
    }
    snprintf(p, sizeof p, "%s/schedule.csv", dir);
    if (!rc) rc = ssp_pulse_export_csv(s, ctx, p);
    snprintf(p, sizeof p, "%s/schedule.json", dir);
    if (!rc) rc = ssp_pulse_export_json(s, ctx, p);
    snprintf(p, sizeof p, "%s/schedule.vcd", dir);
    if (!rc) rc = ssp_pulse_export_vcd(s, ctx, p);
    ssp_pulse_schedule_free(&s);
    return rc;
}

/* A 4x4 tile with conductances 1e-5 * (1 + i + shift) S written into dir
 * as tile.cir (with its control block). */
static inline int fixture_write_netlist(ssp_ctx *ctx, const char *dir, int shift)
{
    ssp_tile_params tp;
    ssp_circuit *c = NULL;
    ssp_emit_opts o;
    double g[16];
    char p[512];
    int rc;
    ssp_tile_params_default(&tp);
    tp.rows = 4;
    tp.cols = 4;
    for (int i = 0; i < 16; i++) g[i] = 1e-5 * (1 + i + shift);
    memset(&o, 0, sizeof o);
    o.control = 1;
    rc = ssp_circuit_create(&c, ctx, &tp);
    if (!rc) rc = ssp_circuit_set_conductances(c, ctx, g);
    snprintf(p, sizeof p, "%s/tile.cir", dir);
    if (!rc) rc = ssp_spice_emit_file(p, ctx, c, &o);
    ssp_circuit_destroy(&c);
    return rc;
}

#endif
