/* cmd_infer.c — commands that open a finished run's checkpoint:
 * `siamspice infer RUN_DIR` evaluates it on its test set with the hardware
 * forward pass, optionally with parameters changed (--set), to study
 * non-idealities without retraining; `siamspice netlist --run RUN_DIR`
 * writes the netlists of its tiles. */
#include <stdio.h>
#include <string.h>

#include "ssp_cmd_train.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_plot.h"
#include "ssp_train.h"
#include "ssp_xbar.h"

enum { MAX_SETS = 64, PATH_CAP = 4096 };

static int usage(FILE *to)
{
    fputs("usage: siamspice infer RUN_DIR [--set SECTION.KEY=VALUE]... [--out DIR]\n"
          "\n"
          "Evaluate RUN_DIR/checkpoint.bin on the test set of RUN_DIR/config.ini with\n"
          "the hardware forward pass. --set changes parameters for this evaluation only\n"
          "(e.g. --set data.test_limit=1000 or --set engine.forward=ideal); parameters\n"
          "that change the network or its devices make the checkpoint unusable and are\n"
          "refused by the checkpoint check. Prints accuracy and loss.\n"
          "  --out DIR   also write DIR/config.ini (this evaluation's parameters) and,\n"
          "              with engine.forward nodal or spice, DIR/irdrop.csv of the first\n"
          "              test batch and its heat maps DIR/irdrop_m<M>.png and .svg\n"
          "Exit status: 0 done, 1 failed, 2 bad usage or input.\n",
          to);
    return to == stderr ? 2 : 0;
}

/* Open dir's config (with the --set changes) and checkpoint. circuit: use
 * the nodal engine when the run used the ideal one (netlists need tiles).
 * Returns the exit status (0 ok); the message is in ctx. */
static int open_run(ssp_ctx *ctx, const char *dir, const char *const *sets, int nsets, int circuit,
                    ssp_train **t, ssp_config *cfg_out)
{
    char p[PATH_CAP];
    ssp_config cfg;
    int rc;
    if (strlen(dir) + 32 >= PATH_CAP) {
        ssp_error(ctx, SSP_EINVAL, "run directory name too long");
        return 2;
    }
    ssp_config_defaults(&cfg);
    snprintf(p, sizeof p, "%s/config.ini", dir);
    rc = ssp_config_load(&cfg, ctx, p);
    for (int i = 0; !rc && i < nsets; i++) rc = ssp_config_set(&cfg, ctx, sets[i]);
    if (!rc && circuit && cfg.engine == SSP_ENGINE_IDEAL) cfg.engine = SSP_ENGINE_NODAL;
    if (!rc && circuit) cfg.check_every = 0;
    if (!rc) rc = ssp_train_create(t, ctx, &cfg);
    if (!rc) {
        snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
        rc = ssp_train_checkpoint_load(*t, p);
    }
    if (cfg_out) *cfg_out = cfg;
    return rc ? (rc == SSP_ENOMEM ? 1 : 2) : 0;
}

/* infer --out: the evaluation's config and, on a circuit engine, its
 * IR-drop map and heat maps. */
static int write_infer_outputs(ssp_ctx *ctx, const char *out, const ssp_config *cfg, ssp_train *t)
{
    char p[PATH_CAP];
    ssp_afile *af;
    int rc = ssp_file_mkdirs(ctx, out);
    if (rc) return rc;
    snprintf(p, sizeof p, "%s/config.ini", out);
    if ((rc = ssp_file_atomic_open(&af, ctx, p))) return rc;
    fprintf(ssp_file_stream(af), "; resolved configuration of this evaluation (siamspice infer)\n");
    ssp_config_write(cfg, ssp_file_stream(af));
    if ((rc = ssp_file_atomic_commit(&af, ctx))) return rc;
    if (!ssp_train_xbar(t)) return SSP_OK;
    snprintf(p, sizeof p, "%s/irdrop.csv", out);
    if ((rc = ssp_file_atomic_open(&af, ctx, p))) return rc;
    if ((rc = ssp_xbar_write_irdrop(ssp_train_xbar(t), ssp_file_stream(af)))) {
        ssp_file_atomic_abort(&af);
        return rc;
    }
    if ((rc = ssp_file_atomic_commit(&af, ctx))) return rc;
    return ssp_plot_run(ctx, out);
}

int ssp_cmd_infer(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *sets[MAX_SETS];
    ssp_config cfg;
    int nsets = 0, rc, status = 1;
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    double acc = 0, loss = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout);
        if (i + 1 < argc && !strcmp(argv[i], "--set") && nsets < MAX_SETS)
            sets[nsets++] = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--out"))
            out = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr, "siamspice infer: unexpected argument '%s'\n", argv[i]);
            return usage(stderr);
        }
    }
    if (!dir) return usage(stderr);
    if (out && strlen(out) + 32 >= PATH_CAP) {
        fprintf(stderr, "siamspice infer: --out directory name too long\n");
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    status = open_run(ctx, dir, sets, nsets, 0, &t, &cfg);
    if (status) goto out;
    status = 1;
    rc = ssp_train_evaluate(t, &acc, &loss);
    if (rc) goto out;
    printf("%s: epoch %ld, test accuracy %.2f %%, test loss %.4f (hardware forward)\n", dir, ssp_train_epochs_done(t),
           100 * acc, loss);
    if (out) {
        rc = write_infer_outputs(ctx, out, &cfg, t);
        if (rc) goto out;
        printf("wrote %s/config.ini%s\n", out, ssp_train_xbar(t) ? ", irdrop.csv and irdrop_m*.png/.svg" : "");
    }
    status = 0;
out:
    if (status) fprintf(stderr, "siamspice infer: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}

static int usage_run(FILE *to)
{
    fputs("usage: siamspice netlist --run RUN_DIR [--out DIR] [--set SECTION.KEY=VALUE]...\n"
          "\n"
          "Write every crossbar tile of RUN_DIR's checkpoint as a standalone ngspice\n"
          "netlist (DIR/m<matrix>_t<tile row>_<tile col>.cir: the devices' present read\n"
          "states, DC row inputs from the first test image, .control printing the TIA\n"
          "outputs; `ngspice -b FILE` runs one) and each matrix's weight-to-tile mapping\n"
          "(DIR/mapping_m<matrix>.txt). The tiles are those of RUN_DIR/config.ini\n"
          "([crossbar], [dac], [tia], [adc]; --set changes them). Default DIR:\n"
          "RUN_DIR/netlists. Exit status: 0 done, 1 failed, 2 bad usage or input.\n",
          to);
    return to == stderr ? 2 : 0;
}

int ssp_cmd_netlist_run(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *sets[MAX_SETS];
    char p[PATH_CAP];
    int nsets = 0, rc, status;
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    double acc, loss;
    for (int i = 1; i < argc; i++) /* --help anywhere, even where a value was due */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage_run(stdout);
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--set") && nsets < MAX_SETS)
            sets[nsets++] = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--run"))
            dir = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--out"))
            out = argv[++i];
        else {
            fprintf(stderr, "siamspice netlist: unexpected argument '%s'\n", argv[i]);
            return usage_run(stderr);
        }
    }
    if (!dir) return usage_run(stderr);
    if (!out) {
        snprintf(p, sizeof p, "%s/netlists", dir);
        out = p;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    /* one test image gives the netlists their DC inputs */
    sets[nsets < MAX_SETS ? nsets++ : MAX_SETS - 1] = "data.test_limit=1";
    status = open_run(ctx, dir, sets, nsets, 1, &t, NULL);
    if (status) goto done;
    status = 1;
    rc = ssp_train_evaluate(t, &acc, &loss);
    if (!rc) rc = ssp_xbar_write_netlists(ssp_train_xbar(t), out);
    if (rc) goto done;
    printf("%s: tile netlists and mappings of epoch %ld written to %s\n", dir, ssp_train_epochs_done(t), out);
    status = 0;
done:
    if (status) fprintf(stderr, "siamspice netlist: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}
