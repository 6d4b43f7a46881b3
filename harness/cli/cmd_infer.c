/* cmd_infer.c — commands that open a finished run's checkpoint:
 * `siamspice infer RUN_DIR` evaluates it on its test set with the hardware
 * forward pass, optionally with parameters changed (--set), to study
 * non-idealities without retraining; `siamspice netlist --run RUN_DIR`
 * writes the netlists of its tiles. */
#include <stdio.h>
#include <string.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_pool.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_plot.h"
#include "ssp_report.h"
#include "ssp_train.h"
#include "ssp_xbar.h"

enum { MAX_SETS = SSP_CMD_LIST_MAX, PATH_CAP = 4096 };
/* Training images validate reads at least (the network's set-up wants a
 * training set; the tile comparison does not use it). */
enum { VALIDATE_TRAIN_IMAGES = 64 };

static const char INFER_SYNOPSIS[] =
    "usage: siamspice infer RUN_DIR [-q] [--set SECTION.KEY=VALUE]... [--out DIR]\n"
    "       siamspice infer RUN_DIR --sweep-t-sample T1,T2,... [--set ...]... [--out DIR]\n";
static const char INFER_ABOUT[] =
    "Evaluate RUN_DIR/checkpoint.bin on the test set of RUN_DIR/config.ini with\n"
    "the hardware forward pass. --set changes parameters for this evaluation only\n"
    "(e.g. --set data.test_limit=1000 or --set engine.forward=ideal); parameters\n"
    "that change the network or its devices make the checkpoint unusable and are\n"
    "refused by the checkpoint check. Prints accuracy and loss.\n";
static const char INFER_TAIL[] =
    "Prints the read energy per inference (array, DAC, TIA, ADC) and latency.\n"
    "Exit status: 0 done, 1 failed, 2 bad usage or input.\n";

/* How open_run sets the engines up. */
enum {
    OPEN_AS_RUN = 0,   /* the run's own engine */
    OPEN_NODAL = 1,    /* the nodal engine where the run used the ideal one (netlists need tiles) */
    OPEN_VALIDATE = 2  /* the nodal engine, with an ngspice session for the comparison */
};

/* What a reading command honours of the --set overrides. */
typedef struct honour {
    const char *cmd;           /* "infer", "validate --run", "netlist --run" */
    unsigned classes;          /* mask of 1 << enum ssp_key_class */
    const char *const *keys;   /* further keys honoured (NULL-terminated, may be NULL) */
    const char *const *own;    /* keys the command sets itself, from an option (NULL-terminated pairs key, option) */
} honour;

#define CLS(c) (1u << (c))

static const char *const INFER_OWN[] = {NULL};
static const honour INFER = {"infer", CLS(SSP_KEY_DATA) | CLS(SSP_KEY_ENGINE) | CLS(SSP_KEY_CIRCUIT) |
                                          CLS(SSP_KEY_CONVERTER), NULL, INFER_OWN};
static const char *const VALIDATE_KEYS[] = {"engine.check_tol", "engine.nodal_path", NULL};
static const char *const VALIDATE_OWN[] = {"data.test_limit", "--vectors", NULL};
static const honour VALIDATE = {"validate --run", CLS(SSP_KEY_DATA) | CLS(SSP_KEY_CIRCUIT) | CLS(SSP_KEY_CONVERTER),
                                VALIDATE_KEYS, VALIDATE_OWN};
static const char *const NETLIST_OWN[] = {"data.test_limit", "the first test image", NULL};
static const honour NETLIST = {"netlist --run", CLS(SSP_KEY_DATA) | CLS(SSP_KEY_CIRCUIT) | CLS(SSP_KEY_CONVERTER),
                               NULL, NETLIST_OWN};

static int key_is(const char *set, const char *key)
{
    size_t n = strlen(key);
    return strncmp(set, key, n) == 0 && set[n] == '=';
}

/* Refuse, naming the key, every override the command cannot honour on a
 * checkpoint: one that changes what the checkpoint's state means (the
 * identity keys), one the command does not use, one it sets itself, and a
 * circuit or converter key where the forward engine stays ideal (it has no
 * circuit). engine_after: the engine the command will read through. */
static int check_sets(ssp_ctx *ctx, const honour *h, const char *const *sets, int nsets, int engine_after)
{
    for (int i = 0; i < nsets; i++) {
        int cls = ssp_config_key_class(sets[i]), ok;
        size_t kl = strcspn(sets[i], "=");
        if (cls < 0) continue; /* unknown keys: ssp_config_set names them */
        for (const char *const *o = h->own; o && *o; o += 2)
            if (key_is(sets[i], o[0]))
                return ssp_error(ctx, SSP_ECONFIG, "--set %s: %s sets %s itself (from %s)", sets[i], h->cmd, o[0],
                                 o[1]);
        if (cls == SSP_KEY_IDENTITY)
            return ssp_error(ctx, SSP_ECONFIG, "--set %s: %.*s describes the trained network, its devices or its "
                             "tiles; a checkpoint cannot be read under another value (train a new run with it)",
                             sets[i], (int)kl, sets[i]);
        ok = (h->classes & CLS(cls)) != 0;
        for (const char *const *k = h->keys; !ok && k && *k; k++) ok = key_is(sets[i], *k);
        if (!ok)
            return ssp_error(ctx, SSP_ECONFIG, "--set %s: %s does not use %.*s (a %s key): it would have no effect",
                             sets[i], h->cmd, (int)kl, sets[i], ssp_config_key_class_name(cls));
        if ((cls == SSP_KEY_CIRCUIT || cls == SSP_KEY_CONVERTER) && engine_after == SSP_ENGINE_IDEAL)
            return ssp_error(ctx, SSP_ECONFIG, "--set %s: the ideal engine has no circuit, so %.*s would have no "
                             "effect; add --set engine.forward=nodal", sets[i], (int)kl, sets[i]);
    }
    return SSP_OK;
}

/* Open a run's config (with the --set changes) and, with ckpt_dir, its
 * checkpoint; config_path: a config file instead (the network's initial
 * state). h: what the command honours of sets on a checkpoint. cfg_out (may
 * be NULL): the configuration used. Returns the exit status (0 ok); the
 * message is in ctx. */
static int open_state(ssp_ctx *ctx, const char *ckpt_dir, const char *config_path, const char *const *sets,
                      int nsets, int how, const honour *h, long test_limit, ssp_train **t, ssp_config *cfg_out)
{
    char p[PATH_CAP];
    ssp_config cfg;
    int rc;
    if (strlen(ckpt_dir ? ckpt_dir : config_path) + 32 >= PATH_CAP) {
        ssp_error(ctx, SSP_EINVAL, "path too long");
        return 2;
    }
    ssp_config_defaults(&cfg);
    if (ckpt_dir) snprintf(p, sizeof p, "%s/config.ini", ckpt_dir);
    rc = ckpt_dir ? ssp_config_load(&cfg, ctx, p) : ssp_cmd_config_load(&cfg, ctx, config_path);
    for (int i = 0; !rc && i < nsets; i++) rc = ssp_config_set(&cfg, ctx, sets[i]);
    if (!rc) rc = ssp_cmd_config_resolve(&cfg, ctx);
    if (!rc && how != OPEN_AS_RUN) {
        /* validate reads through nodal and compares with spice on the same tiles */
        if (cfg.engine == SSP_ENGINE_IDEAL || how == OPEN_VALIDATE) cfg.engine = SSP_ENGINE_NODAL;
        /* no periodic checks; validate keeps a session open for its own */
        cfg.check_every = how == OPEN_VALIDATE ? 1000000 : 0;
    }
    if (!rc && ckpt_dir) rc = check_sets(ctx, h, sets, nsets, cfg.engine);
    if (!rc && test_limit > 0) cfg.test_limit = test_limit;
    if (!rc && how == OPEN_VALIDATE) {
        /* the training set is read by the network's set-up; an evaluation
         * on a calibrated circuit engine fits its gains on the first
         * calibrate_vectors images, so those are kept */
        long keep = cfg.calibrate_vectors > VALIDATE_TRAIN_IMAGES ? cfg.calibrate_vectors : VALIDATE_TRAIN_IMAGES;
        if (cfg.train_limit == 0 || cfg.train_limit > keep) cfg.train_limit = keep;
    }
    if (!rc) rc = ssp_train_create(t, ctx, &cfg);
    if (!rc && ckpt_dir) {
        snprintf(p, sizeof p, "%s/checkpoint.bin", ckpt_dir);
        rc = ssp_train_checkpoint_load_to_read(*t, p);
    }
    if (cfg_out) *cfg_out = cfg;
    return rc ? (rc == SSP_ENOMEM ? 1 : 2) : 0;
}

static int open_run(ssp_ctx *ctx, const char *dir, const char *const *sets, int nsets, int how, const honour *h,
                    long test_limit, ssp_train **t, ssp_config *cfg_out)
{
    return open_state(ctx, dir, NULL, sets, nsets, how, h, test_limit, t, cfg_out);
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

/* infer --sweep-t-sample: one evaluation per sample time. */
static int sweep_t_sample(ssp_ctx *ctx, const char *dir, const char *list, const char **sets, int nsets,
                          const char *out)
{
    char buf[1024], assign[96], p[PATH_CAP], *tok, *save = NULL;
    ssp_afile *af = NULL;
    FILE *csv = NULL;
    int status = 0;
    if (strlen(list) >= sizeof buf || nsets + 2 > MAX_SETS) {
        ssp_error(ctx, SSP_EINVAL, "--sweep-t-sample: list too long");
        return 2;
    }
    snprintf(buf, sizeof buf, "%s", list);
    {
        /* every element given: "1ns,,2ns" is a typo, not two times */
        const char *q = list;
        for (int k = 1;; k++) {
            const char *comma = strchr(q, ',');
            size_t len = comma ? (size_t)(comma - q) : strlen(q);
            if (strspn(q, " \t") >= len) {
                ssp_error(ctx, SSP_EINVAL, "--sweep-t-sample: element %d of '%s' is empty", k, list);
                return 2;
            }
            if (!comma) break;
            q = comma + 1;
        }
    }
    if (out) {
        int rc = ssp_file_mkdirs(ctx, out);
        snprintf(p, sizeof p, "%s/tsample_sweep.csv", out);
        if (!rc) rc = ssp_file_atomic_open(&af, ctx, p);
        if (rc) return 1;
        csv = ssp_file_stream(af);
        fprintf(csv, "t_sample_s,test_acc,test_loss,read_energy_per_inference_J,read_latency_per_inference_s\n");
    }
    sets[nsets] = "engine.forward=nodal";
    sets[nsets + 1] = assign;
    for (tok = strtok_r(buf, ",", &save); tok && !status; tok = strtok_r(NULL, ",", &save)) {
        ssp_train *t = NULL;
        ssp_config cfg;
        ssp_read_figures rf;
        double acc, loss;
        snprintf(assign, sizeof assign, "adc.t_sample=%s", tok);
        status = open_run(ctx, dir, sets, nsets + 2, OPEN_AS_RUN, &INFER, 0, &t, &cfg);
        if (!status && ssp_train_evaluate(t, &acc, &loss)) status = 1;
        if (!status) {
            ssp_train_read_figures(t, &rf);
            printf("adc.t_sample %10.4g ns: test accuracy %.2f %%, loss %.4f, read energy %.4g J and latency %.4g s "
                   "per inference\n", 1e9 * cfg.tile.adc.t_sample, 100 * acc, loss, rf.energy, rf.latency);
            fflush(stdout);
            if (csv) fprintf(csv, "%.9g,%.6f,%.6f,%.9g,%.9g\n", cfg.tile.adc.t_sample, acc, loss, rf.energy, rf.latency);
        }
        ssp_train_destroy(&t);
    }
    if (af && !status) {
        if (ssp_file_atomic_commit(&af, ctx) || ssp_plot_run(ctx, out)) status = 1;
        else printf("wrote %s/tsample_sweep.csv and accuracy_tsample.png/.svg\n", out);
    }
    ssp_file_atomic_abort(&af);
    return status;
}

int ssp_cmd_infer(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *sweep = NULL;
    ssp_config cfg;
    int rc, status = 1, quiet = 0;
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    ssp_cmd_progress pg;
    double acc = 0, loss = 0;
    ssp_cmd_list sets = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.kind = SSP_CMD_STRING, .target = &dir, .arg = "RUN_DIR"},
        {.name = "--set", .kind = SSP_CMD_LIST, .target = &sets, .arg = "S.K=V",
         .help = "change a parameter for this evaluation only"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "also write DIR/config.ini (this evaluation's parameters) and,\n"
                 "with engine.forward nodal or spice, DIR/irdrop.csv of the first\n"
                 "test batch and its heat maps DIR/irdrop_m<M>.png and .svg"},
        {.name = "--sweep-t-sample", .kind = SSP_CMD_STRING, .target = &sweep, .arg = "T1,T2,...",
         .help = "evaluate once per ADC sample time (adc.t_sample,\n"
                 "e.g. 20ns,50ns,100ns; 0 = settled) on the nodal engine and print\n"
                 "accuracy, read energy and latency per inference for each; with\n"
                 "--out also DIR/tsample_sweep.csv and DIR/accuracy_tsample.png/.svg"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display on stderr (a bar on a terminal, else a line\nper 10 %)"},
    };
    ssp_cmd_spec spec = {.cmd = "infer", .synopsis = INFER_SYNOPSIS, .about = INFER_ABOUT, .tail = INFER_TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (!dir) return ssp_cmd_opts_usage(&spec, "give the run directory RUN_DIR");
    if (out && strlen(out) + 32 >= PATH_CAP) {
        fprintf(stderr, "siamspice infer: --out directory name too long\n");
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    if (out && (status = ssp_cmd_out_dir(ctx, "infer", out))) {
        ssp_ctx_destroy(&ctx);
        return status;
    }
    ssp_cmd_progress_init(&pg, quiet);
    ssp_ctx_set_progress(ctx, ssp_cmd_progress_hook, &pg);
    if (sweep) {
        status = sweep_t_sample(ctx, dir, sweep, sets.v, sets.n, out);
        goto out;
    }
    status = open_run(ctx, dir, sets.v, sets.n, OPEN_AS_RUN, &INFER, 0, &t, &cfg);
    if (status) goto out;
    status = 1;
    rc = ssp_train_evaluate(t, &acc, &loss);
    ssp_cmd_progress_end(&pg);
    if (rc) goto out;
    printf("%s: epoch %ld, test accuracy %.2f %%, test loss %.4f (hardware forward, %s engine, %zu test images)\n",
           dir, ssp_train_epochs_done(t), 100 * acc, loss, cfg.engine == SSP_ENGINE_IDEAL ? "ideal"
           : cfg.engine == SSP_ENGINE_NODAL ? "nodal" : "spice", ssp_train_test_size(t));
    {
        ssp_read_figures rf;
        ssp_train_read_figures(t, &rf);
        ssp_report_read_figures(stdout, &rf);
    }
    if (out) {
        rc = write_infer_outputs(ctx, out, &cfg, t);
        if (rc) goto out;
        printf("wrote %s/config.ini%s\n", out, ssp_train_xbar(t) ? ", irdrop.csv and irdrop_m*.png/.svg" : "");
    }
    status = 0;
out:
    if (ctx) ssp_cmd_progress_end(&pg);
    if (status) fprintf(stderr, "siamspice infer: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}

static const char NETLIST_RUN_SYNOPSIS[] =
    "usage: siamspice netlist --run RUN_DIR [-q] [--out DIR] [--set SECTION.KEY=VALUE]...\n";
static const char NETLIST_RUN_ABOUT[] =
    "Write every crossbar tile of RUN_DIR's checkpoint as a standalone ngspice\n"
    "netlist (DIR/m<matrix>_t<tile row>_<tile col>.cir: the devices' present read\n"
    "states, DC row inputs from the first test image, .control printing the TIA\n"
    "outputs; `ngspice -b FILE` runs one) and each matrix's weight-to-tile mapping\n"
    "(DIR/mapping_m<matrix>.txt). The tiles are those of RUN_DIR/config.ini\n"
    "([crossbar], [dac], [tia], [adc]; --set changes them).\n";
static const char RUN_TAIL[] = "Exit status: 0 done, 1 failed, 2 bad usage or input.\n";

int ssp_cmd_netlist_run(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    char p[PATH_CAP];
    int rc, status, quiet = 0;
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    ssp_cmd_progress pg;
    double acc, loss;
    ssp_cmd_list sets = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.name = "--run", .kind = SSP_CMD_STRING, .target = &dir, .arg = "RUN_DIR",
         .help = "the run whose checkpoint's tiles are written"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "the netlists' directory (default RUN_DIR/netlists)"},
        {.name = "--set", .kind = SSP_CMD_LIST, .target = &sets, .arg = "S.K=V",
         .help = "change a circuit parameter of the tiles"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display on stderr (a bar on a terminal, else a\nline per 10 %)"},
    };
    ssp_cmd_spec spec = {.cmd = "netlist", .synopsis = NETLIST_RUN_SYNOPSIS, .about = NETLIST_RUN_ABOUT,
                         .tail = RUN_TAIL, .opts = opts, .nopts = sizeof opts / sizeof opts[0]};
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (!dir) return ssp_cmd_opts_usage(&spec, "--run RUN_DIR is required");
    if (!out) {
        snprintf(p, sizeof p, "%s/netlists", dir);
        out = p;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    if ((status = ssp_cmd_out_dir(ctx, "netlist", out))) {
        ssp_ctx_destroy(&ctx);
        return status;
    }
    ssp_cmd_progress_init(&pg, quiet);
    ssp_ctx_set_progress(ctx, ssp_cmd_progress_hook, &pg);
    /* one test image gives the netlists their DC inputs */
    status = open_run(ctx, dir, sets.v, sets.n, OPEN_NODAL, &NETLIST, 1, &t, NULL);
    if (status) goto done;
    status = 1;
    rc = ssp_train_evaluate(t, &acc, &loss);
    if (!rc) rc = ssp_xbar_write_netlists(ssp_train_xbar(t), out);
    ssp_cmd_progress_end(&pg);
    if (rc) goto done;
    printf("%s: tile netlists and mappings of epoch %ld written to %s\n", dir, ssp_train_epochs_done(t), out);
    status = 0;
done:
    if (status) fprintf(stderr, "siamspice netlist: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}

static const char VALIDATE_RUN_SYNOPSIS[] =
    "usage: siamspice validate (--run RUN_DIR | --config FILE) [--vectors K] [-q]\n"
    "                          [--set SECTION.KEY=VALUE]...\n";
static const char VALIDATE_RUN_ABOUT[] =
    "Run every crossbar tile of a network on the ideal, nodal and spice engines\n"
    "from the same cells and the same inputs, and print a table of their largest\n"
    "differences per tile. The inputs are each layer's actual DAC voltages for the\n"
    "first K test images.\n";
static const char VALIDATE_RUN_TAIL[] =
    "Exit status: 0 all tiles agree within engine.check_tol (of the ADC full\n"
    "scale), 1 a tile does not or a simulation failed, 2 bad usage or input.\n"
    "(Without --run/--config: one random tile, see siamspice validate --rows.)\n";

int ssp_cmd_validate_run(int argc, char **argv)
{
    const char *dir = NULL, *config = NULL;
    int rc, status, quiet = 0;
    long vectors = 4;
    ssp_cmd_progress pg;
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    ssp_xbar *x;
    const ssp_xbar_tile_check *tc;
    size_t n, worst = 0;
    double acc, loss, tol, max_ns = 0, max_fs = 0, max_is = 0, spice_s = 0, nodal_s = 0;
    ssp_cmd_list sets = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.name = "--run", .kind = SSP_CMD_STRING, .target = &dir, .arg = "RUN_DIR",
         .help = "the devices of RUN_DIR's checkpoint and its config"},
        {.name = "--config", .kind = SSP_CMD_STRING, .target = &config, .arg = "FILE",
         .help = "the initial devices of a config's network"},
        {.name = "--vectors", .kind = SSP_CMD_LONG, .target = &vectors, .arg = "K", .lo = 1, .hi = 1000,
         .flags = SSP_CMD_RANGE, .help = "test images whose layer inputs are compared (default 4)"},
        {.name = "--set", .kind = SSP_CMD_LIST, .target = &sets, .arg = "S.K=V",
         .help = "change a circuit, converter or data parameter"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display on stderr (a bar on a terminal, else a\nline per 10 %)"},
    };
    ssp_cmd_spec spec = {.cmd = "validate", .synopsis = VALIDATE_RUN_SYNOPSIS, .about = VALIDATE_RUN_ABOUT,
                         .tail = VALIDATE_RUN_TAIL, .opts = opts, .nopts = sizeof opts / sizeof opts[0]};
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (!dir == !config) return ssp_cmd_opts_usage(&spec, "give one of --run RUN_DIR or --config FILE");
    if (ssp_ctx_create(&ctx)) return 1;
    ssp_cmd_progress_init(&pg, quiet);
    ssp_ctx_set_progress(ctx, ssp_cmd_progress_hook, &pg);
    status = open_state(ctx, dir, config, sets.v, sets.n, OPEN_VALIDATE, &VALIDATE, vectors, &t, NULL);
    if (status) goto done;
    status = 1;
    x = ssp_train_xbar(t);
    rc = ssp_xbar_request_validate(x, (size_t)vectors);
    if (!rc) rc = ssp_train_evaluate(t, &acc, &loss);
    ssp_cmd_progress_end(&pg);
    if (rc) goto done;
    tol = ssp_train_config(t)->check_tol;
    tc = ssp_xbar_validation(x, &n);
    printf("%s %s (%s): %zu tiles, the layer inputs of %ld test image%s\n", dir ? "run" : "config",
           dir ? dir : config, dir ? "checkpoint" : "initial devices", n, vectors, vectors == 1 ? "" : "s");
    printf("                          nodal vs spice           ideal vs spice\n"
           "matrix tile     size       max rel    of v_fs         of v_fs   nodal_us  spice_ms\n");
    for (size_t i = 0; i < n; i++) {
        char where[32], size[32];
        snprintf(where, sizeof where, "%zu,%zu", tc[i].tile_row, tc[i].tile_col);
        snprintf(size, sizeof size, "%zux%zu", tc[i].rows, tc[i].cols);
        printf("%6zu %-8s %-8s %10.3e %10.3e %15.3e %10.1f %9.1f\n", tc[i].matrix, where, size, tc[i].nodal_vs_spice,
               tc[i].nodal_vs_spice_fs, tc[i].ideal_vs_spice_fs, 1e6 * tc[i].nodal_s, 1e3 * tc[i].spice_s);
        if (tc[i].nodal_vs_spice > max_ns) max_ns = tc[i].nodal_vs_spice;
        if (tc[i].nodal_vs_spice_fs > max_fs) {
            max_fs = tc[i].nodal_vs_spice_fs;
            worst = i;
        }
        if (tc[i].ideal_vs_spice_fs > max_is) max_is = tc[i].ideal_vs_spice_fs;
        spice_s += tc[i].spice_s;
        nodal_s += tc[i].nodal_s;
    }
    printf("nodal_vs_spice_max_rel = %.3e (%.3e of v_fs; tolerance engine.check_tol = %.3e)\n"
           "ideal_vs_spice = %.3e of v_fs (wires, TIA gain and offset: what the nodal engine models)\n"
           "nodal %.4g s, spice %.4g s in all\n",
           max_ns, max_fs, tol, max_is, nodal_s, spice_s);
    if (ssp_train_pool(t)) {
        ssp_pool *pool = ssp_train_pool(t);
        printf("spice tiles on %d ngspice workers (engine.workers), jobs per worker:", ssp_pool_size(pool));
        for (int w = 0; w < ssp_pool_size(pool); w++) printf(" %lu", ssp_pool_worker_jobs(pool, w));
        printf("; worker restarts %d\n", ssp_pool_restarts(pool));
    }
    if (n == 0) {
        ssp_error(ctx, SSP_ESTATE, "no tile was validated");
        goto done;
    }
    if (!(max_fs <= tol)) {
        ssp_error(ctx, SSP_EMISMATCH, "matrix %zu tile (%zu,%zu): nodal and spice differ by %.3e of the ADC full "
                  "scale, beyond engine.check_tol = %.3e", tc[worst].matrix, tc[worst].tile_row,
                  tc[worst].tile_col, max_fs, tol);
        goto done;
    }
    status = 0;
done:
    if (status) fprintf(stderr, "siamspice validate: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}
