/* cmd_netlist.c — the `netlist` and `validate` commands: option parsing, a
 * random tile from a seed, and printing. The circuit, emission and engines
 * live in the library; this file only drives them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

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
    const char *out;
    size_t vectors;
    int quiet;           /* -q: no progress display */
    int help; /* --help given: nothing else parsed */
};

/* The synopsis (to stderr after a usage error: exit 2) or, for --help, the
 * synopsis and the options (to stdout: exit 0). */
static int usage(FILE *to, const char *cmd)
{
    int netlist = strcmp(cmd, "netlist") == 0;
    fprintf(to,
            "usage: siamspice %s --rows N --cols M [--cell 1r|1t1r] [--scheme diff|ref]\n"
            "         [--rwire OHM_PER_UM --pitch UM] [--ideal-tia] [--seed S]%s\n",
            cmd, netlist ? " [--out FILE]" : " [--vectors K] [-q]");
    if (netlist)
        fprintf(to, "       siamspice netlist --run RUN_DIR [--out DIR] [--set S.K=V]... (netlist --run --help)\n");
    else
        fprintf(to, "       siamspice validate (--run RUN_DIR | --config FILE) [--vectors K] [--set S.K=V]...\n"
                    "         (validate --run --help)\n");
    if (to == stderr) return 2;
    fprintf(to, "\n%s",
            netlist ? "Write one crossbar tile with random cell conductances (10..100 uS) and random\n"
                      "DC row inputs (0..0.2 V) from the seed as an ngspice netlist with a .control\n"
                      "block printing the TIA outputs (`ngspice -b FILE` runs it), to FILE or stdout.\n"
                    : "Solve one random tile (as netlist draws it) on the ideal, nodal and spice\n"
                      "engines with K input vectors and print the largest relative differences:\n"
                      "nodal_vs_spice_max_rel, ideal_vs_spice_max_rel, ideal_vs_nodal_max_rel.\n");
    fprintf(to, "  --rows N, --cols M    tile size: N word lines, M physical bit lines (even\n"
                "                        for diff: M/2 outputs; ref: M-1 outputs)\n"
                "  --cell 1r|1t1r        bare memristor, or with an access transistor (default 1r)\n"
                "  --scheme diff|ref     differential column pairs, or one shared reference\n"
                "                        column (default diff)\n"
                "  --rwire OHM_PER_UM    wire resistance per micrometre (default 5)\n"
                "  --pitch UM            cell pitch in micrometres (default 0.5: 2.5 ohm segments)\n"
                "  --ideal-tia           ideal TIAs instead of finite gain, offset and rails\n"
                "  --seed S              random seed of the conductances and inputs (default 1)\n");
    if (netlist)
        fprintf(to, "  --out FILE            write the netlist there (atomically) instead of stdout\n");
    else
        fprintf(to, "  --vectors K           input vectors (default %d)\n"
                    "  -q                    no progress display on stderr (a bar on a terminal,\n"
                    "                        else a line per 10 %%)\n", SSP_CMD_VECTORS_DEFAULT);
    fprintf(to, "Exit status: 0 done, 1 failed, 2 bad usage or input.\n");
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-' || !s[0]) return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return (errno || *end || !s[0]) ? -1 : 0;
}

static int parse(int argc, char **argv, struct opts *o, ssp_ctx *ctx)
{
    int i, rc;
    ssp_tile_params_default(&o->p);
    o->p.rows = 0;
    o->p.cols = 0;
    o->seed = 1;
    o->out = NULL;
    o->vectors = SSP_CMD_VECTORS_DEFAULT;
    o->help = 0;
    o->quiet = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t z;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return SSP_OK;
        }
        if (strcmp(a, "--ideal-tia") == 0) {
            o->p.tia.ideal = 1;
            continue;
        }
        if (strcmp(a, "-q") == 0) {
            o->quiet = 1;
            continue;
        }
        if (!v) return ssp_error(ctx, SSP_EINVAL, "option %s needs a value", a);
        i++;
        if (strcmp(a, "--rows") == 0 || strcmp(a, "--cols") == 0 || strcmp(a, "--seed") == 0 ||
            strcmp(a, "--vectors") == 0) {
            if (parse_size(v, &z)) return ssp_error(ctx, SSP_EINVAL, "%s: bad number '%s'", a, v);
            if (a[2] == 'r') o->p.rows = z;
            else if (a[2] == 'c') o->p.cols = z;
            else if (a[2] == 's') o->seed = (unsigned long)z;
            else o->vectors = z;
        } else if (strcmp(a, "--rwire") == 0) {
            if (parse_double(v, &o->p.r_wire_per_um))
                return ssp_error(ctx, SSP_EINVAL, "--rwire: bad number '%s'", v);
        } else if (strcmp(a, "--pitch") == 0) {
            if (parse_double(v, &o->p.pitch_um))
                return ssp_error(ctx, SSP_EINVAL, "--pitch: bad number '%s'", v);
        } else if (strcmp(a, "--cell") == 0) {
            rc = ssp_cell_type_parse(ctx, v, &o->p.cell);
            if (rc) return rc;
        } else if (strcmp(a, "--scheme") == 0) {
            rc = ssp_col_scheme_parse(ctx, v, &o->p.scheme);
            if (rc) return rc;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else {
            return ssp_error(ctx, SSP_EINVAL, "unknown option %s", a);
        }
    }
    if (o->vectors == 0) return ssp_error(ctx, SSP_EINVAL, "--vectors must be at least 1");
    return ssp_tile_params_check(ctx, &o->p);
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

    if (ssp_ctx_create(&ctx)) return 1;
    rc = parse(argc, argv, &o, ctx);
    if (!rc && !o.help && o.out && (status = ssp_cmd_out_file("netlist", o.out))) {
        ssp_ctx_destroy(&ctx);
        return status;
    }
    if (!rc && o.help) {
        ssp_ctx_destroy(&ctx);
        return usage(stdout, "netlist");
    }
    if (rc) {
        fprintf(stderr, "siamspice netlist: %s\n", ssp_ctx_errmsg(ctx));
        ssp_ctx_destroy(&ctx);
        return usage(stderr, "netlist");
    }
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

    if (ssp_ctx_create(&ctx)) return 1;
    rc = parse(argc, argv, &o, ctx);
    if (!rc && o.help) {
        ssp_ctx_destroy(&ctx);
        return usage(stdout, "validate");
    }
    if (rc) {
        fprintf(stderr, "siamspice validate: %s\n", ssp_ctx_errmsg(ctx));
        ssp_ctx_destroy(&ctx);
        return usage(stderr, "validate");
    }
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
