/* cmd_train.c — `siamspice train`: the driver of the training loop.
 *
 * Owns what the library must not: the run directory, printing and the
 * progress display, checkpoints after every epoch, and SIGINT/SIGTERM (the
 * current step finishes, a checkpoint is written, the run stops cleanly and
 * can be continued with --resume). The signal flag is the one piece of
 * process-wide state, as a signal handler requires. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_hwprog.h"
#include "ssp_plot.h"
#include "ssp_report.h"
#include "ssp_train.h"
#include "ssp_units.h"
#include "ssp_xbar.h"

enum { PATH_CAP = 4096, NAME_ROOM = 64 };

static volatile sig_atomic_t g_stop; /* set by SIGINT / SIGTERM */

/* dir/name into p (PATH_CAP); dir is checked to leave NAME_ROOM. */
static void in_dir(char *p, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    memcpy(p, dir, n);
    p[n] = '/';
    memcpy(p + n + 1, name, strlen(name) + 1);
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const char SYNOPSIS[] =
    "usage: siamspice train --config FILE [--set SECTION.KEY=VALUE]... [--out DIR] [-q|-v]\n"
    "       siamspice train --resume RUN_DIR [-q|-v]\n";
static const char ABOUT[] = "Train a crossbar network in situ on the simulated hardware.\n";
static const char TAIL[] =
    "Writes config.ini, metrics.csv, metrics.json, checkpoint.bin, report.txt,\n"
    "run.log, conductance_hist.csv, levels.csv and the plots (PNG and SVG) into the\n"
    "run directory; with engine.forward nodal or spice also irdrop.csv and\n"
    "netlists/. Baselines (run.baselines) go to baseline-<method>/.\n"
    "Exit status: 0 done, 1 failed or interrupted, 2 bad usage or input.\n";

struct log_sink {
    FILE *file; /* run.log, may be NULL */
    int level;  /* most verbose level shown on stderr */
};

static void log_to_both(int level, const char *event, const char *kv, void *payload)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    struct log_sink *s = payload;
    const char *name = (level >= 0 && level <= 3) ? names[level] : "log";
    if (s->file) fprintf(s->file, "%s %s: %s\n", name, event, kv);
    if (level <= s->level) fprintf(stderr, "siamspice %s %s: %s\n", name, event, kv);
}

/* The epoch's progress through the shared display (cmd_progress.c). */
static void progress(const ssp_train *t, long epochs, ssp_cmd_progress *pg)
{
    char what[64], extra[32];
    snprintf(what, sizeof what, "epoch %ld/%ld", ssp_train_epochs_done(t) + 1, epochs);
    snprintf(extra, sizeof extra, "loss %.4f", ssp_train_running_loss(t));
    ssp_cmd_progress_show(pg, what, ssp_train_step_in_epoch(t), ssp_train_steps_per_epoch(t), extra);
}

/* metrics.csv, metrics.json and report.txt: all three from the epoch
 * history, which the checkpoint carries. */
static int write_reports(ssp_ctx *ctx, const char *dir, const ssp_config *cfg, const ssp_train *t)
{
    char p[PATH_CAP];
    size_t n;
    const ssp_epoch_metrics *h = ssp_train_history(t, &n);
    int rc;
    in_dir(p, dir, "metrics.csv");
    rc = ssp_report_metrics_csv(ctx, p, h, n);
    in_dir(p, dir, "metrics.json");
    if (!rc) rc = ssp_report_metrics_json(ctx, p, cfg, h, n);
    in_dir(p, dir, "report.txt");
    if (!rc) rc = ssp_report_text(ctx, p, cfg, h, n, NULL, 0);
    return rc;
}

/* An epoch's files, the checkpoint first: a process killed after it and
 * before the rest leaves a run that resumes (the resume rewrites the
 * reports from the checkpoint's history); one killed before it leaves the
 * previous epoch's files, all of them. The other order left, in that
 * window, a metrics.json with no checkpoint: a run that refused to resume
 * (test_badinput's lock test, killing a run at a random moment, hit it). */
static int write_outputs(ssp_ctx *ctx, const char *dir, const ssp_config *cfg, ssp_train *t)
{
    char p[PATH_CAP];
    int rc;
    in_dir(p, dir, "checkpoint.bin");
    rc = ssp_train_checkpoint_save(t, p);
    if (!rc) rc = write_reports(ctx, dir, cfg, t);
    if (!rc && ssp_train_xbar(t)) {
        /* circuit engines: the IR-drop map of the last evaluation, and at
         * the end the tile netlists the run finished with */
        ssp_afile *af;
        in_dir(p, dir, "irdrop.csv");
        rc = ssp_file_atomic_open(&af, ctx, p);
        if (!rc) {
            rc = ssp_xbar_write_irdrop(ssp_train_xbar(t), ssp_file_stream(af));
            if (rc)
                ssp_file_atomic_abort(&af);
            else
                rc = ssp_file_atomic_commit(&af, ctx);
        }
        if (!rc && ssp_train_epochs_done(t) >= cfg->epochs) {
            in_dir(p, dir, "netlists");
            rc = ssp_xbar_write_netlists(ssp_train_xbar(t), p);
        }
    }
    if (!rc && ssp_train_prog(t) && cfg->prog_export != SSP_PROG_EXPORT_NONE) {
        /* the schedules the epoch used: each tile's last programming */
        char sub[64];
        snprintf(sub, sizeof sub, "schedules/epoch_%ld", ssp_train_epochs_done(t));
        in_dir(p, dir, sub);
        rc = ssp_hwprog_export_recorded(ssp_train_prog(t), ctx, p, cfg->prog_export == SSP_PROG_EXPORT_DECKS, NULL);
    }
    return rc;
}

/* 1 when dir holds nothing but what a run writes before its first
 * checkpoint (config.ini, run.log, run.lock, temporary files), or is not
 * there (a baseline not yet begun); *other gets the first other entry. */
static int only_start_files(const char *dir, char *other, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int only = 1;
    other[0] = '\0';
    if (!d) return errno == ENOENT;
    while (only && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, "config.ini") || !strcmp(nm, "run.log") ||
            !strcmp(nm, "run.lock") || strstr(nm, ".tmp."))
            continue;
        snprintf(other, n, "%s", nm);
        only = 0;
    }
    closedir(d);
    return only;
}

/* Train one method into dir; resume from dir/checkpoint.bin when asked (a
 * finished run resumes to nothing; a run stopped before its first
 * checkpoint starts over, saying so; a directory with a run's outputs but
 * no checkpoint is refused, not overwritten). Returns the exit status. */
/* *hist (when not NULL) receives a copy of the run's epoch metrics (the
 * caller frees it), *nhist their number. */
static int run_method(ssp_ctx *ctx, const ssp_config *cfg, const char *dir, int resume, int quiet,
                      struct log_sink *sink, ssp_epoch_metrics **hist, size_t *nhist)
{
    char p[PATH_CAP];
    ssp_train *t = NULL;
    int rc, status = 1;
    in_dir(p, dir, "checkpoint.bin");
    if (resume && access(p, F_OK) != 0) {
        char other[256];
        if (!only_start_files(dir, other, sizeof other)) {
            rc = ssp_error(ctx, SSP_ECONFIG, "no checkpoint in %s; start a new run with --config %s/config.ini (it "
                           "holds %s, an output of a run past its first checkpoint: resuming would overwrite it)",
                           dir, dir, other);
            status = 2;
            goto fail;
        }
        fprintf(stderr, "siamspice train: no checkpoint in %s: the run was stopped before its first checkpoint; it "
                        "starts over from epoch 1\n", dir);
        if (sink->file)
            fprintf(sink->file, "warn resume: no checkpoint in %s: the run was stopped before its first checkpoint; "
                                "it starts over from epoch 1\n", dir);
        resume = 0;
    }
    rc = ssp_file_mkdirs(ctx, dir);
    if (rc) {
        status = 2;
        goto fail;
    }
    fprintf(stderr, "siamspice train: method %s, %s, device %s, run directory %s\n", ssp_method_name(cfg->method),
            cfg->dataset, cfg->device_params, dir);
    if (sink->file) fprintf(sink->file, "info run: method = %s, dir = %s\n", ssp_method_name(cfg->method), dir);
    rc = ssp_train_create(&t, ctx, cfg);
    if (rc) {
        status = (rc == SSP_ECONFIG || rc == SSP_EIO || rc == SSP_EFORMAT) ? 2 : 1;
        goto fail;
    }
    if (!resume) {
        /* the trainer's config: absolute paths, and the CRC-32 of every
         * file it read (data.crc32, device.crc32), checked on every later
         * read of the run */
        ssp_afile *af;
        in_dir(p, dir, "config.ini");
        rc = ssp_file_atomic_open(&af, ctx, p);
        if (!rc) {
            fprintf(ssp_file_stream(af), "; resolved configuration of this run (every parameter)\n");
            ssp_config_write(ssp_train_config(t), ssp_file_stream(af));
            rc = ssp_file_atomic_commit(&af, ctx);
        }
        if (rc) goto fail;
    }
    in_dir(p, dir, "checkpoint.bin");
    if (resume) {
        rc = ssp_train_checkpoint_load(t, p);
        if (rc) {
            status = 2;
            goto fail;
        }
        fprintf(stderr, "siamspice train: resumed after epoch %ld, step %zu\n", ssp_train_epochs_done(t),
                ssp_train_step_in_epoch(t));
        if (sink->file)
            fprintf(sink->file, "info resume: resumed after epoch %ld, step %zu\n", ssp_train_epochs_done(t),
                    ssp_train_step_in_epoch(t));
        /* the reports as of the checkpoint (a run killed between its
         * checkpoint and its reports left them an epoch behind) */
        if (ssp_train_epochs_done(t) > 0 && (rc = write_reports(ctx, dir, cfg, t))) goto fail;
    }
    while (ssp_train_epochs_done(t) < cfg->epochs) {
        int done = 0;
        ssp_cmd_progress pg;
        ssp_epoch_metrics m;
        ssp_cmd_progress_init(&pg, quiet);
        while (!done) {
            rc = ssp_train_step(t, &done);
            if (rc) goto fail;
            progress(t, cfg->epochs, &pg);
            if (g_stop) {
                in_dir(p, dir, "checkpoint.bin");
                rc = ssp_train_checkpoint_save(t, p);
                ssp_cmd_progress_end(&pg);
                if (rc) goto fail;
                fprintf(stderr, "siamspice train: interrupted; checkpoint written. Continue with:\n"
                                "  siamspice train --resume %s\n", dir);
                status = 1;
                goto done;
            }
        }
        ssp_ctx_set_progress(ctx, ssp_cmd_progress_hook, &pg); /* the test evaluation */
        rc = ssp_train_epoch_end(t, &m);
        ssp_ctx_set_progress(ctx, NULL, NULL);
        ssp_cmd_progress_end(&pg);
        if (rc) goto fail;
        {
            char pct[SSP_UNITS_FMT_CAP], line[1024];
            snprintf(line, sizeof line,
                     "%s epoch %ld: train loss %.4f, test accuracy %.2f %%, weight writes %llu of %llu closed-loop "
                     "(%s %% eliminated%s), energy ratio %.4g, latency ratio %.4g (verify-first: %.4g, %.4g)",
                     ssp_method_name(cfg->method), m.epoch, m.train_loss, 100 * m.test_acc, m.hw.weight_writes,
                     m.closed_loop.weight_writes, ssp_units_format_pct(pct, sizeof pct, m.updates_eliminated_pct),
                     cfg->method == SSP_METHOD_EXSITU ? "; ex-situ programs every weight once, at the epoch's end"
                     : cfg->method == SSP_METHOD_CLOSED_LOOP ? "; closed_loop is the reference" : "",
                     m.energy_ratio, m.latency_ratio, m.energy_ratio_vf, m.latency_ratio_vf);
            printf("%s\n", line);
            if (sink->file) fprintf(sink->file, "info epoch: %s\n", line);
        }
        fflush(stdout);
        rc = write_outputs(ctx, dir, cfg, t);
        if (rc) goto fail;
    }
    rc = ssp_plot_export_conductances(ctx, dir, ssp_train_hw(t));
    if (rc) goto fail;
    if (hist) {
        size_t n;
        const ssp_epoch_metrics *h = ssp_train_history(t, &n);
        *hist = n ? malloc(n * sizeof **hist) : NULL;
        if (n && !*hist) {
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory keeping the metrics");
            goto fail;
        }
        if (n) memcpy(*hist, h, n * sizeof **hist);
        *nhist = n;
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "siamspice train: %s\n", ssp_ctx_errmsg(ctx));
    if (sink->file) fprintf(sink->file, "error: %s\n", ssp_ctx_errmsg(ctx));
done:
    ssp_train_destroy(&t);
    return status;
}

int ssp_cmd_train(int argc, char **argv)
{
    const char *config = NULL, *out = NULL, *resume = NULL;
    int quiet = 0, verbose = 0, status = 1, rc, methods[4], nb, lock = -1;
    char dir[PATH_CAP], p[PATH_CAP];
    ssp_config cfg;
    ssp_ctx *ctx = NULL;
    struct log_sink sink = {NULL, SSP_LOG_WARN};
    struct sigaction sa;
    ssp_epoch_metrics *hist = NULL;
    size_t nhist = 0, nbl = 0;
    ssp_report_baseline bl[SSP_REPORT_MAX_BASELINES];
    ssp_cmd_list sets = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.name = "--config", .kind = SSP_CMD_STRING, .target = &config, .arg = "FILE",
         .help = "INI configuration (see configs/default.ini)"},
        {.name = "--set", .kind = SSP_CMD_LIST, .target = &sets, .arg = "S.K=V",
         .help = "override one parameter, e.g. --set train.lr=0.02"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "run directory (default runs/<name>-<timestamp>)"},
        {.name = "--resume", .kind = SSP_CMD_STRING, .target = &resume, .arg = "DIR",
         .help = "continue an interrupted run from DIR/checkpoint.bin"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet,
         .help = "no progress display (a bar on a terminal, else a line per 10 %)"},
        {.short_name = 'v', .kind = SSP_CMD_FLAG, .target = &verbose,
         .help = "also show the library's info log lines on stderr"},
    };
    ssp_cmd_spec spec = {.cmd = "train", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};

    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (verbose) sink.level = SSP_LOG_INFO;
    if (!!config == !!resume) return ssp_cmd_opts_usage(&spec, "give exactly one of --config FILE or --resume DIR");
    if (resume && (sets.n || out))
        return ssp_cmd_opts_usage(&spec, "--resume takes the run's own config; no --set or --out");
    if (strlen(resume ? resume : out ? out : "runs/") + NAME_ROOM + SSP_CONFIG_STR_MAX >= PATH_CAP) {
        fprintf(stderr, "siamspice train: run directory name too long\n");
        return 2;
    }
    if (ssp_ctx_create(&ctx)) return 1;
    ssp_ctx_set_logger(ctx, log_to_both, &sink);
    ssp_ctx_set_log_level(ctx, SSP_LOG_DEBUG);
    ssp_config_defaults(&cfg);
    if (resume) {
        struct stat st;
        in_dir(p, resume, "config.ini");
        if (stat(resume, &st) != 0 || !S_ISDIR(st.st_mode) || access(p, F_OK) != 0) {
            fprintf(stderr, "siamspice train: --resume %s: %s; start a new run with --config FILE --out %s\n", resume,
                    stat(resume, &st) != 0 ? strerror(errno)
                    : !S_ISDIR(st.st_mode) ? "not a directory"
                                           : "no config.ini: not a run directory, or a run stopped before it wrote "
                                             "its config", resume);
            ssp_ctx_destroy(&ctx);
            return 2;
        }
    }
    rc = resume ? ssp_config_load(&cfg, ctx, p) : ssp_cmd_config_load(&cfg, ctx, config);
    for (int i = 0; !rc && i < sets.n; i++) rc = ssp_config_set(&cfg, ctx, sets.v[i]);
    if (!rc) rc = ssp_cmd_config_resolve(&cfg, ctx);
    if (!rc) rc = ssp_config_check(&cfg, ctx);
    if (!rc) rc = ssp_config_resolve_paths(&cfg, ctx);
    nb = rc ? 0 : ssp_config_baselines(&cfg, ctx, methods, 4);
    if (rc || nb < 0) {
        fprintf(stderr, "siamspice train: %s\n", ssp_ctx_errmsg(ctx));
        ssp_ctx_destroy(&ctx);
        return 2;
    }
    ssp_cmd_run_dir(dir, sizeof dir, resume, out, cfg.name);
    /* the run directory, for this process alone: a second writer is
     * refused before it writes anything */
    rc = ssp_file_mkdirs(ctx, dir);
    if (!rc) rc = ssp_file_lock_dir(ctx, dir, &lock);
    if (rc) {
        fprintf(stderr, "siamspice train: %s\n", ssp_ctx_errmsg(ctx));
        ssp_ctx_destroy(&ctx);
        return 2;
    }
    in_dir(p, dir, "run.log");
    sink.file = fopen(p, "a");
    if (!sink.file) {
        fprintf(stderr, "siamspice train: cannot write %s: %s\n", p, strerror(errno));
        ssp_file_unlock_dir(&lock);
        ssp_ctx_destroy(&ctx);
        return 2;
    }
    setvbuf(sink.file, NULL, _IOLBF, 0); /* readable while the run goes on */
    /* what a process killed while writing left behind (checkpoint.bin.tmp.<pid>) */
    rc = ssp_file_remove_stale_temps(ctx, dir, NULL);
    if (rc) {
        fprintf(stderr, "siamspice train: %s\n", ssp_ctx_errmsg(ctx));
        fclose(sink.file);
        ssp_file_unlock_dir(&lock);
        ssp_ctx_destroy(&ctx);
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    status = run_method(ctx, &cfg, dir, resume != NULL, quiet, &sink, &hist, &nhist);
    /* the baselines: same config, data, seed and devices, another method */
    for (int b = 0; b < nb && status == 0; b++) {
        ssp_epoch_metrics *bh = NULL;
        size_t bn = 0;
        ssp_config cb = cfg;
        char sub[PATH_CAP];
        cb.method = methods[b];
        cb.baselines[0] = '\0';
        if (snprintf(sub, sizeof sub, "%s/baseline-%s", dir, ssp_method_name(methods[b])) >= (int)sizeof sub) {
            fprintf(stderr, "siamspice train: run directory name too long\n");
            status = 2;
            break;
        }
        status = run_method(ctx, &cb, sub, resume != NULL, quiet, &sink, &bh, &bn);
        if (status == 0 && bn && nbl < SSP_REPORT_MAX_BASELINES) {
            bl[nbl].method = ssp_method_name(methods[b]);
            bl[nbl++].last = bh[bn - 1];
        }
        free(bh);
    }
    if (status == 0 && nbl && nhist) {
        /* the run's report again, now beside the baselines it trained */
        in_dir(p, dir, "report.txt");
        if (ssp_report_text(ctx, p, &cfg, hist, nhist, bl, nbl)) {
            fprintf(stderr, "siamspice train: %s\n", ssp_ctx_errmsg(ctx));
            status = 1;
        }
    }
    free(hist);
    if (status == 0) {
        rc = ssp_plot_run(ctx, dir);
        if (rc) {
            fprintf(stderr, "siamspice train: plots: %s\n", ssp_ctx_errmsg(ctx));
            status = 1;
        } else {
            printf("done: %s/report.txt, plots %s/*.png\n", dir, dir);
        }
    }
    if (sink.file) fclose(sink.file);
    ssp_file_unlock_dir(&lock);
    ssp_ctx_destroy(&ctx);
    return status;
}
