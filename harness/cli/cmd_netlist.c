/* cmd_netlist.c — the `netlist` and `validate` commands: option parsing, a
 * random tile from a seed, and printing. The circuit, emission and engines
 * live in the library; this file only drives them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_engine.h"
#include "ssp_spice_emit.h"

/* Random tile used by both commands: cell conductances uniform in
 * [G_LO, G_HI] (S) and row inputs uniform in [0, V_HI] (V). */
static const double SSP_CMD_G_LO_S = 10e-6;
static const double SSP_CMD_G_HI_S = 100e-6;
static const double SSP_CMD_V_HI_V = 0.2;
/* Default number of input vectors for `validate`. */
enum { SSP_CMD_VECTORS_DEFAULT = 8 };

struct opts {
    ssp_tile_params p;
    unsigned long seed;
    size_t seed_opt; /* --seed as parsed */
    const char *out;
    size_t vectors;
    int quiet; /* -q: no progress display */
};

static const char NETLIST_SYNOPSIS[] =
    "usage: siamspice netlist --rows N --cols M [--cell 1r|1t1r] [--scheme diff|ref]\n"
    "         [--rwire OHM_PER_UM --pitch UM] [--ideal-tia] [--seed S] [--out FILE]\n"
    "       siamspice netlist --run RUN_DIR [--out DIR] [--set S.K=V]... (netlist --run --help)\n";
static const char NETLIST_ABOUT[] =
    "Write one crossbar tile with random cell conductances (10..100 uS) and random\n"
    "DC row inputs (0..0.2 V) from the seed as an ngspice netlist with a .control\n"
    "block printing the TIA outputs (`ngspice -b FILE` runs it), to FILE or stdout.\n";
static const char VALIDATE_SYNOPSIS[] =
    "usage: siamspice validate --rows N --cols M [--cell 1r|1t1r] [--scheme diff|ref]\n"
    "         [--rwire OHM_PER_UM --pitch UM] [--ideal-tia] [--seed S] [--vectors K] [-q]\n"
    "       siamspice validate (--run RUN_DIR | --config FILE) [--vectors K] [--set S.K=V]...\n"
    "         (validate --run --help)\n";
static const char VALIDATE_ABOUT[] =
    "Solve one random tile (as netlist draws it) on the ideal, nodal and spice\n"
    "engines with K input vectors and print the largest relative differences:\n"
    "nodal_vs_spice_max_rel, ideal_vs_spice_max_rel, ideal_vs_nodal_max_rel.\n";
static const char TAIL[] = "Exit status: 0 done, 1 failed, 2 bad usage or input.\n";

/* Parse the tile options of netlist (validate: 0) or validate (1) into o.
 * Returns 0 to go on, else 1 with the exit status in *status (the help,
 * or a usage error said on stderr). */
static int parse(int argc, char **argv, struct opts *o, int validate, int *status)
{
    const char *cell = "1r", *scheme = "diff";
    ssp_cmd_opt opts[] = {
        {.name = "--rows", .kind = SSP_CMD_SIZE, .target = &o->p.rows, .arg = "N",
         .help = "tile size: N word lines"},
        {.name = "--cols", .kind = SSP_CMD_SIZE, .target = &o->p.cols, .arg = "M",
         .help = "M physical bit lines (even for diff: M/2 outputs;\nref: M-1 outputs)"},
        {.name = "--cell", .kind = SSP_CMD_STRING, .target = &cell, .arg = "1r|1t1r",
         .help = "bare memristor, or with an access transistor (default 1r)"},
        {.name = "--scheme", .kind = SSP_CMD_STRING, .target = &scheme, .arg = "diff|ref",
         .help = "differential column pairs, or one shared reference\ncolumn (default diff)"},
        {.name = "--rwire", .kind = SSP_CMD_DOUBLE, .target = &o->p.r_wire_per_um, .arg = "OHM_PER_UM",
         .help = "wire resistance per micrometre (default 5)"},
        {.name = "--pitch", .kind = SSP_CMD_DOUBLE, .target = &o->p.pitch_um, .arg = "UM",
         .help = "cell pitch in micrometres (default 0.5: 2.5 ohm segments)"},
        {.name = "--ideal-tia", .kind = SSP_CMD_FLAG, .target = &o->p.tia.ideal,
         .help = "ideal TIAs instead of finite gain, offset and rails"},
        {.name = "--seed", .kind = SSP_CMD_SIZE, .target = &o->seed_opt, .arg = "S",
         .help = "random seed of the conductances and inputs (default 1)"},
        /* netlist only */
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &o->out, .arg = "FILE",
         .help = "write the netlist there (atomically) instead of stdout"},
        /* validate only */
        {.name = "--vectors", .kind = SSP_CMD_SIZE, .target = &o->vectors, .arg = "K", .lo = 1, .hi = INFINITY,
         .flags = SSP_CMD_RANGE, .help = "input vectors (default 8)"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &o->quiet,
         .help = "no progress display on stderr (a bar on a terminal,\nelse a line per 10 %)"},
    };
    enum { NETLIST_OPTS = 9, VALIDATE_FIRST = 9 };
    ssp_cmd_spec spec = {.cmd = validate ? "validate" : "netlist",
                         .synopsis = validate ? VALIDATE_SYNOPSIS : NETLIST_SYNOPSIS,
                         .about = validate ? VALIDATE_ABOUT : NETLIST_ABOUT, .tail = TAIL, .opts = opts,
                         .nopts = sizeof opts / sizeof opts[0]};
    ssp_ctx *ctx = NULL;
    int rc;
    ssp_tile_params_default(&o->p);
    o->p.rows = 0;
    o->p.cols = 0;
    o->seed_opt = 1;
    o->out = NULL;
    o->vectors = SSP_CMD_VECTORS_DEFAULT;
    o->quiet = 0;
    if (validate) {
        /* validate has no --out: drop it from its table */
        memmove(&opts[NETLIST_OPTS - 1], &opts[VALIDATE_FIRST], sizeof opts - VALIDATE_FIRST * sizeof opts[0]);
        spec.nopts--;
    } else {
        spec.nopts = NETLIST_OPTS;
    }
    if (ssp_cmd_opts_parse(&spec, argc, argv, status)) return 1;
    o->seed = (unsigned long)o->seed_opt;
    if (ssp_ctx_create(&ctx)) {
        *status = 1;
        return 1;
    }
    rc = ssp_cell_type_parse(ctx, cell, &o->p.cell);
    if (!rc) rc = ssp_col_scheme_parse(ctx, scheme, &o->p.scheme);
    if (!rc) rc = ssp_tile_params_check(ctx, &o->p);
    if (rc) *status = ssp_cmd_opts_usage(&spec, "%s", ssp_ctx_errmsg(ctx));
    ssp_ctx_destroy(&ctx);
    return rc != 0;
}

/* Random conductances (rows x cols) and inputs (k x rows) from the seed. */
static int random_tile(const struct opts *o, size_t k, double **g, double **vin)
{
    size_t i, ng = o->p.rows * o->p.cols;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    *g = malloc(ng * sizeof **g);
    *vin = malloc(k * o->p.rows * sizeof **vin);
    if (!r || !*g || !*vin) {
        gsl_rng_free(r);
        return SSP_ENOMEM;
    }
    gsl_rng_set(r, o->seed);
    for (i = 0; i < ng; i++) (*g)[i] = SSP_CMD_G_LO_S + (SSP_CMD_G_HI_S - SSP_CMD_G_LO_S) * gsl_rng_uniform(r);
    for (i = 0; i < k * o->p.rows; i++)
        (*vin)[i] = ssp_dac_voltage(&o->p.dac, SSP_CMD_V_HI_V * gsl_rng_uniform(r));
    gsl_rng_free(r);
    return SSP_OK;
}

static int fail(ssp_ctx *ctx, const char *cmd, int rc)
{
    fprintf(stderr, "siamspice %s: %s\n", cmd,
            ssp_ctx_errmsg(ctx)[0] ? ssp_ctx_errmsg(ctx) : ssp_strerror(rc));
    return (rc == SSP_EINVAL || rc == SSP_ECONFIG) ? 2 : 1;
}

int ssp_cmd_netlist(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    struct opts o;
    ssp_circuit *c = NULL;
    ssp_emit_opts eo;
    double *g = NULL, *vin = NULL;
    char title[128];
    int rc, status = 0;

    if (parse(argc, argv, &o, 0, &status)) return status;
    if (o.out && (status = ssp_cmd_out_file("netlist", o.out))) return status;
    if (ssp_ctx_create(&ctx)) return 1;
    rc = random_tile(&o, 1, &g, &vin);
    if (rc) ssp_error(ctx, rc, "out of memory");
    if (!rc) rc = ssp_circuit_create(&c, ctx, &o.p);
    if (!rc) rc = ssp_circuit_set_conductances(c, ctx, g);
    if (!rc) {
        memset(&eo, 0, sizeof eo);
        snprintf(title, sizeof title, "siamspice tile %zux%zu %s %s seed %lu", o.p.rows, o.p.cols,
                 o.p.cell == SSP_CELL_1T1R ? "1t1r" : "1r",
                 o.p.scheme == SSP_COLS_DIFF ? "diff" : "ref", o.seed);
        eo.title = title;
        eo.v_in = vin;
        eo.control = 1;
        if (o.out) {
            rc = ssp_spice_emit_file(o.out, ctx, c, &eo);
            if (!rc)
                fprintf(stderr, "siamspice netlist: wrote %s (%zux%zu tile; run it with: ngspice -b %s)\n", o.out,
                        o.p.rows, o.p.cols, o.out);
        } else
            rc = ssp_spice_emit(stdout, ctx, c, &eo);
    }
    if (rc) status = fail(ctx, "netlist", rc);
    ssp_circuit_destroy(&c);
    free(g);
    free(vin);
    ssp_ctx_destroy(&ctx);
    return status;
}

int ssp_cmd_validate(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    struct opts o;
    ssp_spice *spice = NULL;
    ssp_engine *eng[3] = {NULL, NULL, NULL};
    double *g = NULL, *vin = NULL, *out[3] = {NULL, NULL, NULL};
    size_t n;
    int rc, status = 0, k;
    ssp_cmd_progress pg;

    if (parse(argc, argv, &o, 1, &status)) return status;
    if (ssp_ctx_create(&ctx)) return 1;
    n = o.vectors * o.p.cols;
    rc = random_tile(&o, o.vectors, &g, &vin);
    if (rc) ssp_error(ctx, rc, "out of memory");
    ssp_cmd_progress_init(&pg, o.quiet);
    if (!rc) rc = ssp_spice_create(&spice, ctx, NULL);
    for (k = 0; !rc && k < 3; k++) {
        ssp_cmd_progress_show(&pg, "running the ideal, nodal and spice engines", (size_t)k, 3, NULL);
        rc = ssp_engine_create(&eng[k], ctx, k, &o.p, spice);
        if (!rc) rc = ssp_engine_set_conductances(eng[k], g);
        if (!rc && !(out[k] = malloc(n * sizeof *out[k]))) rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        if (!rc) rc = ssp_engine_run(eng[k], vin, o.vectors, out[k], NULL);
    }
    if (!rc) ssp_cmd_progress_show(&pg, "running the ideal, nodal and spice engines", 3, 3, NULL);
    ssp_cmd_progress_end(&pg);
    if (rc) {
        status = fail(ctx, "validate", rc);
    } else {
        printf("tile %zux%zu %s %s, %zu vectors, segment %g ohm, TIA %s\n", o.p.rows, o.p.cols,
               o.p.cell == SSP_CELL_1T1R ? "1t1r" : "1r", o.p.scheme == SSP_COLS_DIFF ? "diff" : "ref",
               o.vectors, ssp_tile_r_segment(&o.p), o.p.tia.ideal ? "ideal" : "finite-gain");
        printf("nodal_vs_spice_max_rel = %.3e\n", ssp_engine_max_rel(out[1], out[2], n, SSP_ENGINE_REL_FLOOR_V));
        printf("ideal_vs_spice_max_rel = %.3e\n", ssp_engine_max_rel(out[0], out[2], n, SSP_ENGINE_REL_FLOOR_V));
        printf("ideal_vs_nodal_max_rel = %.3e\n", ssp_engine_max_rel(out[0], out[1], n, SSP_ENGINE_REL_FLOOR_V));
    }
    for (k = 0; k < 3; k++) {
        ssp_engine_destroy(&eng[k]);
        free(out[k]);
    }
    ssp_spice_destroy(&spice);
    free(g);
    free(vin);
    ssp_ctx_destroy(&ctx);
    return status;
}
