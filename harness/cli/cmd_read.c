/* cmd_read.c — `siamspice read`: the transient read of a tile (one random
 * tile, or every tile of a run's checkpoint) on the nodal step response
 * and, with --spice, in ngspice: settling time to half an ADC LSB, the
 * error of a read sampled at adc.t_sample, slew and rail flags, the rows'
 * energy, and the waveforms (read.csv, read.png/.svg). A thin driver over
 * ssp_read.h; it prints and maps status codes to exit codes. */
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_plot.h"
#include "ssp_read.h"
#include "ssp_readcost.h"
#include "ssp_train.h"
#include "ssp_xbar.h"

enum { READ_PATH_CAP = 4096 };

/* The random tile's cells (S) and its row inputs as a fraction of v_read:
 * the conductance range of the other commands' random tiles (10..100 uS). */
static const double READ_G_LO_S = 10e-6, READ_G_HI_S = 100e-6;

static const char SYNOPSIS[] =
    "usage: siamspice read --rows N --cols M [--seed S] [--input F] [--spice]\n"
    "                      [--set SECTION.KEY=VALUE]... [--out DIR]\n"
    "       siamspice read --run RUN_DIR [--spice] [--set SECTION.KEY=VALUE]... [--out DIR]\n";
static const char ABOUT[] =
    "The transient read of a crossbar tile: every word line steps from 0 V to its\n"
    "DAC voltage at t = 0, the lines charge through their wire RC, the TIAs settle\n"
    "with their gain-bandwidth pole, the ADC samples at adc.t_sample. Solved as the\n"
    "nodal engine's linear state-space step response and, with --spice, as an\n"
    "ngspice transient of the same circuit (with the TIA's slew limit and rails).\n"
    "Prints the settling time to 1/2 ADC LSB, the error of a read sampled at\n"
    "adc.t_sample, whether the read would slew or reach the rails, the energy\n"
    "the rows deliver, and (with --spice) the largest nodal-vs-ngspice difference\n"
    "as a fraction of each output's settled change.\n";
static const char TAIL[] = "Exit status: 0 done, 1 a simulation failed, 2 bad usage or input.\n";

static void print_result(const char *what, const ssp_tile_params *p, const ssp_read_result *r)
{
    double lsb = ssp_adc_lsb(&p->adc);
    printf("%s: %zux%zu tile, closed-loop TIA time constants %.4g..%.4g ns, step %.4g ns\n", what, p->rows, p->cols,
           1e9 * r->st.tau_min_s, 1e9 * r->st.tau_max_s, 1e9 * r->st.h_s);
    printf("  settled to 1/2 LSB (%.4g mV) after %.4g ns (column %zu)\n", 0.5e3 * lsb, 1e9 * r->st.t_settle_s,
           r->st.worst_col);
    if (p->adc.t_sample > 0)
        printf("  sampled at adc.t_sample = %.4g ns: largest output error %.4g mV = %.3g LSB\n", 1e9 * p->adc.t_sample,
               1e3 * r->st.err_sample_v, r->st.err_sample_v / lsb);
    else
        printf("  adc.t_sample = 0: reads are taken settled\n");
    printf("  largest output slope %.4g V/us (tia.slew %.4g V/us): %s; rails: %s\n", 1e-6 * r->st.slope_max,
           1e-6 * p->tia.slew, r->st.slews ? "WOULD SLEW (the linear response is optimistic)" : "no slewing",
           r->st.rails ? "AN OUTPUT LEAVES THE LINEAR REGION (the linear model does not hold)" : "inside");
    printf("  rows deliver %.4g pJ until %.4g ns (settled power %.4g uW); nodal %.3f s\n", 1e12 * r->e_nodal_j,
           1e9 * r->t_read_s, 1e6 * r->st.p_rows_w, r->nodal_s);
    if (r->have_spice)
        printf("  ngspice: %zu time points, %.3f s; rows deliver %.4g pJ; nodal vs ngspice max %.4g of the settled "
               "change\n", r->spice_points, r->spice_s, 1e12 * r->e_spice_j, r->spice_vs_nodal);
}

static int write_outputs(ssp_ctx *ctx, const char *out, const ssp_read_result *r)
{
    char p[READ_PATH_CAP];
    int rc = ssp_file_mkdirs(ctx, out);
    if (rc) return rc;
    snprintf(p, sizeof p, "%s/read.csv", out);
    rc = ssp_read_write_csv(ctx, r, p);
    return rc ? rc : ssp_plot_run(ctx, out);
}

/* One random tile. */
static int read_random(ssp_ctx *ctx, const ssp_tile_params *p, unsigned long seed, double input, int spice_on,
                       const char *out)
{
    ssp_circuit *c = NULL;
    ssp_spice *sp = NULL;
    ssp_read_result r;
    ssp_read_opts o = {0};
    double *g = NULL, *v = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = ssp_circuit_create(&c, ctx, p);
    memset(&r, 0, sizeof r);
    g = malloc(p->rows * p->cols * sizeof *g);
    v = malloc(p->rows * sizeof *v);
    if (!rc && (!g || !v || !rng)) rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
    if (rc) goto done;
    gsl_rng_set(rng, seed);
    for (size_t i = 0; i < p->rows * p->cols; i++) g[i] = READ_G_LO_S + (READ_G_HI_S - READ_G_LO_S) * gsl_rng_uniform(rng);
    for (size_t i = 0; i < p->rows; i++) v[i] = ssp_dac_voltage(&p->dac, input * p->dac.v_max * gsl_rng_uniform(rng));
    rc = ssp_circuit_set_conductances(c, ctx, g);
    if (!rc && spice_on) rc = ssp_spice_create(&sp, ctx, NULL);
    if (!rc) rc = ssp_read_run(ctx, c, v, sp, &o, &r);
    if (rc) goto done;
    print_result("random tile", p, &r);
    if (out) {
        rc = write_outputs(ctx, out, &r);
        if (!rc) printf("wrote %s/read.csv and read.png/.svg\n", out);
    }
done:
    ssp_read_result_free(&r);
    ssp_spice_destroy(&sp);
    ssp_circuit_destroy(&c);
    gsl_rng_free(rng);
    free(g);
    free(v);
    return rc;
}

/* Every tile of a run: the first test image's layer inputs. */
static int read_run(ssp_ctx *ctx, const char *dir, const char *const *sets, int nsets, int spice_on, const char *out,
                    int *bad_input)
{
    char p[READ_PATH_CAP];
    ssp_config cfg;
    ssp_train *t = NULL;
    ssp_spice *sp = NULL;
    ssp_afile *af = NULL;
    FILE *tab = NULL;
    double acc, loss, worst = 0;
    int rc, wrote = 0;
    ssp_config_defaults(&cfg);
    snprintf(p, sizeof p, "%s/config.ini", dir);
    rc = ssp_config_load(&cfg, ctx, p);
    for (int i = 0; !rc && i < nsets; i++) rc = ssp_config_set(&cfg, ctx, sets[i]);
    if (rc) {
        *bad_input = 1;
        return rc;
    }
    /* the tiles are the nodal engine's; settled reads for the network's own inputs */
    cfg.engine = SSP_ENGINE_NODAL;
    cfg.check_every = 0;
    cfg.test_limit = 1;
    {
        /* the sample time is the read's figure here; the forward pass that
         * finds the inputs reads settled */
        double ts = cfg.tile.adc.t_sample;
        cfg.tile.adc.t_sample = 0;
        rc = ssp_train_create(&t, ctx, &cfg);
        cfg.tile.adc.t_sample = ts;
    }
    if (!rc) {
        snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
        rc = ssp_train_checkpoint_load(t, p);
    }
    if (!rc) rc = ssp_train_evaluate(t, &acc, &loss);
    if (!rc && spice_on) rc = ssp_spice_create(&sp, ctx, NULL);
    if (!rc && out) rc = ssp_file_mkdirs(ctx, out);
    if (!rc && out) {
        snprintf(p, sizeof p, "%s/read_tiles.csv", out);
        rc = ssp_file_atomic_open(&af, ctx, p);
        if (!rc) {
            tab = ssp_file_stream(af);
            fprintf(tab, "matrix,tile_row,tile_col,t_settle_s,worst_col,err_sample_V,slope_max_V_per_s,slews,rails,"
                         "e_rows_J,spice_vs_nodal\n");
        }
    }
    if (rc) goto done;
    printf("run %s: transient read of every tile, the first test image's inputs, adc.t_sample = %.4g ns\n", dir,
           1e9 * cfg.tile.adc.t_sample);
    printf("matrix tile     settle_ns  err_at_sample_LSB  slope_V/us  slews rails  e_rows_pJ%s\n",
           spice_on ? "  spice_vs_nodal" : "");
    for (size_t m = 0; m < ssp_xbar_nmat(ssp_train_xbar(t)) && !rc; m++) {
        ssp_layer *l = ssp_xbar_layer(ssp_train_xbar(t), m);
        const double *v0 = ssp_xbar_first_input(ssp_train_xbar(t), m);
        const ssp_layer_params *lp = ssp_layer_params_of(l);
        ssp_tile_params tp = lp->tile;
        double *v = malloc(tp.rows * sizeof *v);
        if (!v || !v0) {
            free(v);
            rc = ssp_error(ctx, v ? SSP_ESTATE : SSP_ENOMEM, "matrix %zu: no input captured", m);
            break;
        }
        for (size_t tr = 0; tr < ssp_layer_grid_rows(l) && !rc; tr++) {
            for (size_t r = 0; r < tp.rows; r++) {
                size_t i = tr * tp.rows + r;
                v[r] = ssp_dac_voltage(&tp.dac, i < lp->n_in ? v0[i] : 0.0);
            }
            for (size_t tc = 0; tc < ssp_layer_grid_cols(l) && !rc; tc++) {
                /* the tile's circuit, with this read's sample time */
                const ssp_circuit *src = ssp_engine_circuit(ssp_layer_engine(l, tr, tc));
                ssp_circuit *c = NULL;
                ssp_read_result r;
                ssp_read_opts o = {0};
                char where[48];
                tp.adc.t_sample = cfg.tile.adc.t_sample;
                rc = ssp_circuit_create(&c, ctx, &tp);
                if (!rc) rc = ssp_circuit_set_cells(c, ctx, ssp_circuit_cells(src));
                if (!rc) rc = ssp_read_run(ctx, c, v, sp, &o, &r);
                ssp_circuit_destroy(&c);
                if (rc) {
                    ssp_error_prefix(ctx, "matrix %zu tile (%zu,%zu): ", m, tr, tc);
                    break;
                }
                snprintf(where, sizeof where, "%zu,%zu", tr, tc);
                printf("%6zu %-8s %9.2f %18.3f %11.3f %5s %5s %10.4g", m, where, 1e9 * r.st.t_settle_s,
                       r.st.err_sample_v / ssp_adc_lsb(&tp.adc), 1e-6 * r.st.slope_max, r.st.slews ? "yes" : "no",
                       r.st.rails ? "yes" : "no", 1e12 * r.e_nodal_j);
                if (spice_on) printf("  %14.4g", r.spice_vs_nodal);
                putchar('\n');
                if (r.st.t_settle_s > worst) worst = r.st.t_settle_s;
                if (tab)
                    fprintf(tab, "%zu,%zu,%zu,%.9g,%zu,%.9g,%.9g,%d,%d,%.9g,%.9g\n", m, tr, tc, r.st.t_settle_s,
                            r.st.worst_col, r.st.err_sample_v, r.st.slope_max, r.st.slews, r.st.rails, r.e_nodal_j,
                            r.have_spice ? r.spice_vs_nodal : -1.0);
                if (out && !wrote) {
                    snprintf(p, sizeof p, "%s/read.csv", out);
                    rc = ssp_read_write_csv(ctx, &r, p);
                    wrote = 1;
                }
                ssp_read_result_free(&r);
            }
        }
        free(v);
    }
    if (!rc) printf("slowest tile settles to 1/2 LSB after %.4g ns\n", 1e9 * worst);
    if (!rc && af) {
        rc = ssp_file_atomic_commit(&af, ctx);
        if (!rc) rc = ssp_plot_run(ctx, out);
        if (!rc) printf("wrote %s/read_tiles.csv, read.csv and read.png/.svg\n", out);
    }
done:
    ssp_file_atomic_abort(&af);
    ssp_spice_destroy(&sp);
    ssp_train_destroy(&t);
    return rc;
}

int ssp_cmd_read(int argc, char **argv)
{
    const char *run = NULL, *out = NULL;
    long rows = 0, cols = 0, seed_opt = 1;
    unsigned long seed;
    double input = 0.1;
    int spice_on = 0, rc, bad_input = 0, status;
    ssp_ctx *ctx = NULL;
    ssp_cmd_list sets = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.name = "--rows", .kind = SSP_CMD_LONG, .target = &rows, .arg = "N", .lo = 1, .hi = SSP_TILE_MAX,
         .flags = SSP_CMD_RANGE, .help = "word lines of one random tile (cells 10..100 uS)"},
        {.name = "--cols", .kind = SSP_CMD_LONG, .target = &cols, .arg = "M", .lo = 1, .hi = SSP_TILE_MAX,
         .flags = SSP_CMD_RANGE, .help = "bit lines of the random tile, of the default circuit\n"
                                         "([crossbar], [dac], [tia], [adc]; --set)"},
        {.name = "--seed", .kind = SSP_CMD_LONG, .target = &seed_opt, .arg = "S", .lo = 0, .hi = INFINITY,
         .flags = SSP_CMD_RANGE, .help = "seed of the random tile (default 1)"},
        {.name = "--input", .kind = SSP_CMD_DOUBLE, .target = &input, .arg = "F", .lo = 0, .hi = 1,
         .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN, .help = "the random tile's rows at F x dac.v_read times a uniform\ndraw (default 0.1)"},
        {.name = "--run", .kind = SSP_CMD_STRING, .target = &run, .arg = "RUN_DIR",
         .help = "every tile of the checkpoint's network, each layer's DAC\n"
                 "inputs of the first test image (a table; --spice on\n"
                 "128x128 tiles takes minutes per tile)"},
        {.name = "--spice", .kind = SSP_CMD_FLAG, .target = &spice_on,
         .help = "also the ngspice transient of the same circuit"},
        {.name = "--set", .kind = SSP_CMD_LIST, .target = &sets, .arg = "S.K=V",
         .help = "change a parameter of the circuit"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "write DIR/read.csv (the random tile's, or the run's first\n"
                 "tile's waveforms) and DIR/read.png/.svg; with --run also\n"
                 "DIR/read_tiles.csv"},
    };
    ssp_cmd_spec spec = {.cmd = "read", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    seed = (unsigned long)seed_opt;
    if (!run == !(rows && cols))
        return ssp_cmd_opts_usage(&spec, "give --rows and --cols (a random tile) or --run RUN_DIR");
    if ((out && strlen(out) + 32 >= READ_PATH_CAP) || (run && strlen(run) + 32 >= READ_PATH_CAP)) {
        fprintf(stderr, "siamspice read: path too long\n");
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    if (out && ssp_cmd_out_dir(ctx, "read", out)) {
        ssp_ctx_destroy(&ctx);
        return 2;
    }
    if (run) {
        rc = read_run(ctx, run, sets.v, sets.n, spice_on, out, &bad_input);
    } else {
        ssp_config cfg;
        ssp_tile_params p;
        ssp_config_defaults(&cfg);
        rc = SSP_OK;
        for (int i = 0; !rc && i < sets.n; i++) rc = ssp_config_set(&cfg, ctx, sets.v[i]);
        cfg.tile_rows = rows;
        cfg.tile_cols = cols;
        ssp_config_tile(&cfg, &p);
        if (!rc) rc = read_random(ctx, &p, seed, input, spice_on, out);
    }
    if (rc) fprintf(stderr, "siamspice read: %s\n", ssp_ctx_errmsg(ctx));
    ssp_ctx_destroy(&ctx);
    return !rc ? 0 : (bad_input || rc == SSP_ECONFIG || rc == SSP_EINVAL) ? 2 : 1;
}
