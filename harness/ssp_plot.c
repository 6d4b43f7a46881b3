/* ssp_plot.c — data exports for the plots and the gnuplot driver. The
 * gnuplot script is written in full to plots.gp so a user can rerun or edit
 * it; this file only decides what to draw from the files present. */
#include "ssp_plot.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ssp_file.h"

extern char **environ;

/* Histogram bins per level spacing. */
enum { SSP_PLOT_BINS_PER_LEVEL = 4, SSP_PLOT_MAX_BASELINES = 8, SSP_PLOT_PATH = 4096 };

static int exists(const char *dir, const char *name)
{
    char p[SSP_PLOT_PATH];
    struct stat sb;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) return 0;
    return stat(p, &sb) == 0;
}

int ssp_plot_export_conductances(ssp_ctx *ctx, const char *dir, const ssp_hw *hw)
{
    const ssp_device_levels *lv = ssp_hw_levels(hw);
    double step = (lv->g[lv->n - 1] - lv->g[0]) / (double)(lv->n - 1), bin = step / SSP_PLOT_BINS_PER_LEVEL;
    double g0 = lv->g[0] - 2 * step;
    size_t nbins = (size_t)((lv->g[lv->n - 1] + 2 * step - g0) / bin) + 1;
    unsigned long *count = calloc(nbins, sizeof *count);
    char p[SSP_PLOT_PATH];
    ssp_afile *af;
    FILE *f;
    int rc;
    if (!count) return ssp_error(ctx, SSP_ENOMEM, "out of memory building histograms");
    snprintf(p, sizeof p, "%s/conductance_hist.csv", dir);
    rc = ssp_file_atomic_open(&af, ctx, p);
    if (rc) {
        free(count);
        return rc;
    }
    f = ssp_file_stream(af);
    fprintf(f, "layer,g_S,devices\n");
    for (size_t m = 0; m < ssp_hw_nmat(hw); m++) {
        const ssp_device *d = ssp_hw_devices((ssp_hw *)(uintptr_t)hw, m);
        size_t ndev = 2 * ssp_hw_weight_count(hw, m);
        memset(count, 0, nbins * sizeof *count);
        for (size_t i = 0; i < ndev; i++) {
            double g = ssp_device_conductance(&d[i], ssp_device_model_read_voltage(d[i].model));
            long b = (long)((g - g0) / bin);
            if (b < 0) b = 0;
            if ((size_t)b >= nbins) b = (long)nbins - 1;
            count[b]++;
        }
        for (size_t b = 0; b < nbins; b++) fprintf(f, "%zu,%.9g,%lu\n", m + 1, g0 + (b + 0.5) * bin, count[b]);
    }
    free(count);
    rc = ssp_file_atomic_commit(&af, ctx);
    if (rc) return rc;
    snprintf(p, sizeof p, "%s/levels.csv", dir);
    rc = ssp_file_atomic_open(&af, ctx, p);
    if (rc) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "level,g_S,lo_S,hi_S\n");
    for (size_t i = 0; i < lv->n; i++) fprintf(f, "%zu,%.9g,%.9g,%.9g\n", i, lv->g[i], lv->lo[i], lv->hi[i]);
    return ssp_file_atomic_commit(&af, ctx);
}

/* Names of baseline-* subdirectories holding a metrics.csv. */
static size_t find_baselines(const char *dir, char names[][64], size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    if (!d) return 0;
    while ((e = readdir(d)) && n < max) {
        char sub[SSP_PLOT_PATH];
        if (strncmp(e->d_name, "baseline-", 9) != 0 || strlen(e->d_name) >= 64) continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (!exists(sub, "metrics.csv")) continue;
        snprintf(names[n++], 64, "%s", e->d_name);
    }
    closedir(d);
    /* stable order */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char tmp[64];
            memcpy(tmp, names[j], 64);
            memcpy(names[j], names[j - 1], 64);
            memcpy(names[j - 1], tmp, 64);
        }
    return n;
}

static void script_terminal(FILE *f, const char *name, int svg, int w, int h)
{
    if (svg)
        fprintf(f, "set terminal svg size %d,%d dynamic font 'Sans,12'\nset output '%s.svg'\n", w, h, name);
    else
        fprintf(f, "set terminal pngcairo size %d,%d font 'Sans,11'\nset output '%s.png'\n", w, h, name);
}

/* A baseline's legend title: its method, '_' shown as '-' (gnuplot would
 * read '_' as a subscript). */
static const char *title_of(const char *dirname, char *buf, size_t n)
{
    snprintf(buf, n, "%s", dirname + 9);
    for (char *c = buf; *c; c++)
        if (*c == '_') *c = '-';
    return buf;
}

/* The main method's name from metrics.json, '_' as '-'. */
static void main_title(const char *dir, char *buf, size_t n)
{
    char p[SSP_PLOT_PATH];
    json_t *j;
    const char *m = NULL;
    snprintf(buf, n, "this run");
    if (snprintf(p, sizeof p, "%s/metrics.json", dir) >= (int)sizeof p) return;
    j = json_load_file(p, 0, NULL);
    if (j) m = json_string_value(json_object_get(j, "method"));
    if (m) snprintf(buf, n, "%s (this run)", m);
    for (char *c = buf; *c; c++)
        if (*c == '_') *c = '-';
    json_decref(j);
}

static void write_script(FILE *f, const char *dir, char names[][64], size_t nb, int have_hist)
{
    char tb[64], mt[80];
    main_title(dir, mt, sizeof mt);
    fprintf(f, "# plots.gp — written by siamspice; run with: cd %s && gnuplot plots.gp\n", dir);
    fprintf(f, "set datafile separator ','\nset key autotitle columnhead\nset grid\nset key outside right\n"
               "set xtics 1\nset mxtics 1\n");
    for (int svg = 0; svg < 2; svg++) {
        /* accuracy and loss per epoch, method against baselines */
        script_terminal(f, "accuracy_loss", svg, 1100, 800);
        fprintf(f, "set multiplot layout 2,1 title 'Test accuracy and training loss per epoch'\n");
        fprintf(f, "set xlabel 'epoch'\nset ylabel 'test accuracy (%%)'\nset format y '%%g'\nunset logscale y\n");
        fprintf(f, "plot 'metrics.csv' using 'epoch':(100*column('test_acc')) with linespoints lw 2 title '%s'", mt);
        for (size_t i = 0; i < nb; i++)
            fprintf(f, ", \\\n  '%s/metrics.csv' using 'epoch':(100*column('test_acc')) with linespoints lw 2 title '%s'",
                    names[i], title_of(names[i], tb, sizeof tb));
        fprintf(f, "\nset ylabel 'training loss (cross-entropy)'\n");
        fprintf(f, "plot 'metrics.csv' using 'epoch':'train_loss' with linespoints lw 2 title '%s'", mt);
        for (size_t i = 0; i < nb; i++)
            fprintf(f, ", \\\n  '%s/metrics.csv' using 'epoch':'train_loss' with linespoints lw 2 title '%s'", names[i],
                    title_of(names[i], tb, sizeof tb));
        fprintf(f, "\nunset multiplot\n");
        /* cumulative writes, energy and latency: method against closed loop */
        script_terminal(f, "cumulative_cost", svg, 1100, 1100);
        fprintf(f, "set multiplot layout 3,1 title 'Cumulative programming cost: this run against write-verify of every weight (same steps)'\n");
        fprintf(f, "set logscale y\nset format y '10^{%%L}'\nset xlabel 'epoch'\n");
        static const struct { const char *col, *cl, *vf, *label; } panels[] = {
            {"weight_writes", "closed_loop_weight_writes", NULL, "weight writes"},
            {"energy_J", "closed_loop_energy_J", "verify_first_energy_J", "energy (J)"},
            {"latency_s", "closed_loop_latency_s", "verify_first_latency_s", "latency, serial (s)"},
        };
        for (int p = 0; p < 3; p++) {
            fprintf(f, "a=0; b=0; c=0\nset ylabel '%s'\n", panels[p].label);
            fprintf(f, "plot 'metrics.csv' using 'epoch':(a=a+column('%s')) with linespoints lw 2 title '%s', \\\n"
                       "  '' using 'epoch':(b=b+column('%s')) with linespoints lw 2 title 'closed loop (write-verify all)'",
                    panels[p].col, mt, panels[p].cl);
            if (panels[p].vf)
                fprintf(f, ", \\\n  '' using 'epoch':(c=c+column('%s')) with linespoints lw 2 dt 2 title 'verify-first'",
                        panels[p].vf);
            fputc('\n', f);
        }
        fprintf(f, "unset multiplot\nunset logscale y\nset format y '%%g'\n");
        if (have_hist) {
            script_terminal(f, "conductance_histogram", svg, 1100, 900);
            fprintf(f, "stats 'conductance_hist.csv' using 'layer' nooutput\nnl = int(STATS_max)\n"
                       "stats 'conductance_hist.csv' using 'devices' nooutput\ntop = 2 * STATS_max\n");
            fprintf(f, "set multiplot layout nl,1 title 'Device conductances per layer (grey lines: level targets)'\n");
            fprintf(f, "set xtics autofreq\nset mxtics default\nset logscale y\nset xlabel 'read conductance (uS)'\nset ylabel 'devices'\nset style fill solid 0.6\n");
            fprintf(f, "do for [L=1:nl] {\n"
                       "  plot 'levels.csv' using (column('g_S')*1e6):(1):(0):(top) with vectors nohead lc rgb '#bbbbbb' notitle, \\\n"
                       "       'conductance_hist.csv' using (column('layer')==L ? column('g_S')*1e6 : 1/0):(column('devices')>0 ? column('devices') : 1/0) "
                       "with impulses lw 3 title sprintf('layer %%d', L)\n}\n");
            fprintf(f, "unset multiplot\nunset logscale y\nset xtics 1\n");
        }
    }
}

int ssp_plot_run(ssp_ctx *ctx, const char *dir)
{
    char names[SSP_PLOT_MAX_BASELINES][64], p[SSP_PLOT_PATH], *argv[3];
    size_t nb;
    ssp_afile *af;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    int rc, st = 0, spawn_rc;
    if (!exists(dir, "metrics.csv")) return ssp_error(ctx, SSP_EIO, "%s has no metrics.csv to plot", dir);
    nb = find_baselines(dir, names, SSP_PLOT_MAX_BASELINES);
    snprintf(p, sizeof p, "%s/plots.gp", dir);
    rc = ssp_file_atomic_open(&af, ctx, p);
    if (rc) return rc;
    write_script(ssp_file_stream(af), dir, names, nb, exists(dir, "conductance_hist.csv") && exists(dir, "levels.csv"));
    rc = ssp_file_atomic_commit(&af, ctx);
    if (rc) return rc;
    /* gnuplot runs in the run directory (paths below are relative to it);
     * its messages go to plots.log */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "plots.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    argv[0] = (char *)(uintptr_t) "gnuplot";
    argv[1] = (char *)(uintptr_t) "plots.gp";
    argv[2] = NULL;
    {
        char cwd[SSP_PLOT_PATH];
        if (!getcwd(cwd, sizeof cwd) || chdir(dir) != 0) {
            posix_spawn_file_actions_destroy(&fa);
            return ssp_error(ctx, SSP_EIO, "cannot enter %s: %s", dir, strerror(errno));
        }
        spawn_rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
        if (chdir(cwd) != 0) rc = ssp_error(ctx, SSP_EIO, "cannot return to %s", cwd);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (spawn_rc != 0) return ssp_error(ctx, SSP_EIO, "cannot run gnuplot: %s (install gnuplot-nox)", strerror(spawn_rc));
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (rc) return rc;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        unsigned char *log = NULL;
        snprintf(p, sizeof p, "%s/plots.log", dir);
        size_t len = 0;
        ssp_file_read_all(ctx, p, &log, &len);
        rc = ssp_error(ctx, SSP_EIO, "gnuplot failed on %s/plots.gp: %.400s", dir, log ? (char *)log : "");
        free(log);
        return rc;
    }
    return SSP_OK;
}
