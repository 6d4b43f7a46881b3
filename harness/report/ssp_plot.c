/* ssp_plot.c — data exports for the plots and the gnuplot driver. The
 * gnuplot script is written in full to plots.gp so a user can rerun or edit
 * it; this file only decides what to draw from the files present. */
#include "ssp_plot.h"
#include "plot_script.h"

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
#include <math.h>

#include "ssp_file.h"
#include "ssp_ini.h"

extern char **environ;

/* Histogram bins per level spacing. */
enum { SSP_PLOT_BINS_PER_LEVEL = 4, SSP_PLOT_MAX_BASELINES = 8, SSP_PLOT_PATH = 4096, SSP_PLOT_MAX_MATRICES = 64 };
/* Heat-map image height: fixed part plus this much per tile row, in
 * pixels, capped. */
enum { HEAT_BASE_PX = 330, HEAT_ROW_PX = 45, HEAT_MAX_PX = 1000 };

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
        const ssp_device *d = ssp_hw_devices_const(hw, m);
        size_t ndev = ssp_hw_device_count_of(hw, m);
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
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1); /* < 64: checked above */
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

/* Every plot is drawn into "<name>.<ext>.tmp.<pid>" and renamed into place
 * by the script once gnuplot has closed it (ssp_finish, defined at the top
 * of plots.gp and run before the next plot and at the end), so a plot is
 * either the previous one or the whole new one, as every file siamspice
 * writes; a killed gnuplot leaves a temporary file the next run in the
 * directory removes (ssp_file_remove_stale_temps). */
void plot_script_output(FILE *f, const char *name, int svg, int w, int h)
{
    fprintf(f, "eval ssp_finish\nssp_pending = '%s.%s'\n", name, svg ? "svg" : "png");
    if (svg)
        fprintf(f, "set terminal svg size %d,%d dynamic font 'Sans,12'\n", w, h);
    else
        fprintf(f, "set terminal pngcairo size %d,%d font 'Sans,11'\n", w, h);
    fprintf(f, "set output ssp_pending.'.tmp.%ld'\n", (long)getpid());
}

void plot_script_header(FILE *f)
{
    fprintf(f, "# each plot is drawn into NAME.tmp.%ld and renamed into place when it is complete\n"
               "ssp_pending = ''\n"
               "ssp_finish = \"unset output; if (strlen(ssp_pending) > 0) { system sprintf(\\\"mv -f '%%s.tmp.%ld' "
               "'%%s'\\\", ssp_pending, ssp_pending) }; ssp_pending = ''\"\n",
            (long)getpid(), (long)getpid());
}

/* Remove the plots this process left as temporary files in dir (gnuplot
 * failed, or a rename did not happen); returns how many there were. */
static size_t remove_plot_temps(const char *dir)
{
    char suffix[40], p[SSP_PLOT_PATH];
    size_t n = 0, ls;
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d) return 0;
    ls = (size_t)snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)getpid());
    while ((de = readdir(d))) {
        size_t ln = strlen(de->d_name);
        if (ln <= ls || strcmp(de->d_name + ln - ls, suffix) != 0) continue;
        if ((ln > ls + 4 && (!strncmp(de->d_name + ln - ls - 4, ".png", 4) || !strncmp(de->d_name + ln - ls - 4, ".svg", 4))) &&
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p && remove(p) == 0)
            n++;
    }
    closedir(d);
    return n;
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

/* ---- the IR-drop map ---------------------------------------------------- */

/* One matrix of irdrop.csv. */
typedef struct irmat {
    long m;        /* matrix index as written */
    size_t gr, gc; /* tile grid: rows and columns (largest index + 1) */
    size_t outs;   /* outputs per tile column (largest out + 1) */
    size_t nout;   /* output columns of the map (largest tc * outs + out + 1) */
    size_t finite; /* finite entries */
    double lo, hi; /* smallest and largest finite err */
} irmat;

/* One data line of irdrop.csv. */
typedef struct irrow {
    long m, tr, tc, o;
    double err;
} irrow;

static int parse_index(const char **p, long *v)
{
    char *end;
    long x = strtol(*p, &end, 10);
    if (end == *p || x < 0 || *end != ',') return -1;
    *v = x;
    *p = end + 1;
    return 0;
}

/* Read irdrop.csv (header "matrix,tile_row,tile_col,out,err", err a number
 * or nan) into per-matrix summaries; a malformed line is SSP_EFORMAT naming
 * the file and line. */
static int scan_irdrop(ssp_ctx *ctx, const char *path, irmat *mat, size_t cap, size_t *nmat)
{
    static const char header[] = "matrix,tile_row,tile_col,out,err";
    unsigned char *data = NULL;
    size_t len, lineno = 0, nrow = 0, caprow = 0, k, j;
    irrow *row = NULL;
    char *line, *nl;
    int rc;
    *nmat = 0;
    if ((rc = ssp_file_read_all(ctx, path, &data, &len))) return rc;
    for (line = (char *)data; line && *line; line = nl ? nl + 1 : NULL) {
        const char *q = line;
        char *end;
        irrow r;
        nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (nl && nl > line && nl[-1] == '\r') nl[-1] = '\0';
        lineno++;
        if (lineno == 1) {
            if (strcmp(line, header) != 0) {
                rc = ssp_error(ctx, SSP_EFORMAT, "%s:1: header is not '%s'", path, header);
                goto done;
            }
            continue;
        }
        if (*line == '\0') continue;
        if (parse_index(&q, &r.m) || parse_index(&q, &r.tr) || parse_index(&q, &r.tc) || parse_index(&q, &r.o)) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s:%zu: expected four non-negative integers and an error: '%.80s'",
                           path, lineno, line);
            goto done;
        }
        r.err = strtod(q, &end);
        if (end == q || *end) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s:%zu: error value '%.40s' is not a number (or nan)", path, lineno, q);
            goto done;
        }
        if (nrow == caprow) {
            irrow *g = realloc(row, (caprow = caprow ? 2 * caprow : 256) * sizeof *row);
            if (!g) {
                rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", path);
                goto done;
            }
            row = g;
        }
        row[nrow++] = r;
    }
    for (k = 0; k < nrow; k++) {
        for (j = 0; j < *nmat && mat[j].m != row[k].m; j++) {
        }
        if (j == *nmat) {
            if (j == cap) {
                rc = ssp_error(ctx, SSP_EFORMAT, "%s: more than %zu matrices", path, cap);
                goto done;
            }
            mat[j] = (irmat){row[k].m, 0, 0, 0, 0, 0, INFINITY, -INFINITY};
            (*nmat)++;
        }
        if ((size_t)row[k].tr + 1 > mat[j].gr) mat[j].gr = (size_t)row[k].tr + 1;
        if ((size_t)row[k].tc + 1 > mat[j].gc) mat[j].gc = (size_t)row[k].tc + 1;
        if ((size_t)row[k].o + 1 > mat[j].outs) mat[j].outs = (size_t)row[k].o + 1;
        if (isfinite(row[k].err)) {
            mat[j].finite++;
            if (row[k].err < mat[j].lo) mat[j].lo = row[k].err;
            if (row[k].err > mat[j].hi) mat[j].hi = row[k].err;
        }
    }
    for (k = 0; k < nrow; k++) {
        for (j = 0; mat[j].m != row[k].m; j++) {
        }
        size_t x = (size_t)row[k].tc * mat[j].outs + (size_t)row[k].o + 1;
        if (x > mat[j].nout) mat[j].nout = x;
    }
done:
    free(row);
    free(data);
    return rc;
}

struct ini_engine {
    char name[32]; /* [engine] forward, "" when absent */
};

static int on_ini(void *user, int line, const char *section, const char *key, const char *value)
{
    struct ini_engine *e = user;
    size_t k = 0;
    (void)line;
    if (strcmp(section, "engine") != 0 || strcmp(key, "forward") != 0) return SSP_OK;
    /* a name, nothing gnuplot could read as syntax inside the title */
    for (; *value && k + 1 < sizeof e->name; value++)
        if ((*value >= 'a' && *value <= 'z') || (*value >= 'A' && *value <= 'Z') || (*value >= '0' && *value <= '9') ||
            *value == '_' || *value == '-')
            e->name[k++] = *value;
    e->name[k] = '\0';
    return SSP_OK;
}

/* The forward engine named in the run's config.ini ("" when unknown: the
 * title then names none; a config that does not read is the reading
 * commands' to report, not the plots'). */
static void run_engine(const char *dir, char *buf, size_t n)
{
    char p[SSP_PLOT_PATH];
    struct ini_engine e = {""};
    unsigned char *text = NULL;
    size_t len = 0;
    if (snprintf(p, sizeof p, "%s/config.ini", dir) < (int)sizeof p && ssp_file_read_all(NULL, p, &text, &len) == 0 &&
        ssp_ini_parse(NULL, p, (const char *)text, len, on_ini, &e) != SSP_OK)
        e.name[0] = '\0';
    free(text);
    snprintf(buf, n, "%s", e.name);
}

/* A map whose errors are all equal gets a colour range of this fraction of
 * its value (at least this many percent) on either side. */
static const double HEAT_FLAT_PAD = 0.01;

/* Perceptually uniform (viridis-like) palette: no white in it, so a blank
 * (nan) cell cannot be mistaken for a value. */
static const char HEAT_PALETTE[] =
    "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n";

static void script_common(FILE *f)
{
    fprintf(f, "reset\nset encoding utf8\nset datafile separator ','\nset key autotitle columnhead\nset grid\n");
}

static void script_heatmap(FILE *f, const irmat *im, const char *engine, int svg)
{
    char name[64];
    int h = HEAT_BASE_PX + HEAT_ROW_PX * (int)im->gr;
    if (h > HEAT_MAX_PX) h = HEAT_MAX_PX;
    snprintf(name, sizeof name, "irdrop_m%ld", im->m);
    script_common(f);
    plot_script_output(f, name, svg, 1100, h);
    fprintf(f, "set title \"IR-drop gain error per tile output: matrix %ld, %s%s\\n"
               "{/*0.85 engine output / ideal output - 1 over the captured batch; blank: output without signal (nan)}\"\n",
            im->m, engine[0] ? engine : "circuit", " engine");
    fprintf(f, "set xlabel 'output column (tile column x %zu + output in tile%s)'\n", im->outs,
            im->gc > 1 ? "; dashed: tile boundaries" : "");
    fprintf(f, "set ylabel 'tile row'\nset cblabel 'gain error (%%)' offset 1.5,0\nset key off\nunset grid\n%s", HEAT_PALETTE);
    fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset ytics 1\nset mytics 1\n", im->nout - 1, im->gr - 1);
    /* the colour range from the data: gnuplot's autoscale would leave out
     * the boxes that reach past the plot's edges */
    {
        double lo = 100 * im->lo, hi = 100 * im->hi, pad = HEAT_FLAT_PAD * (fabs(lo) > 1 ? fabs(lo) : 1);
        if (!(hi > lo)) {
            lo -= pad;
            hi += pad;
        }
        fprintf(f, "set cbrange [%.6g:%.6g]\n", lo, hi);
    }
    fprintf(f, "set style fill solid 1.0 noborder\nset colorbox\n");
    for (size_t tc = 1; tc < im->gc; tc++)
        fprintf(f, "set arrow from %zu.5, graph 0 to %zu.5, graph 1 nohead dt 2 lw 2 lc rgb 'black' front\n",
                tc * im->outs - 1, tc * im->outs - 1);
    /* e - e == 0 holds for finite e only: nan and inf stay blank */
    fprintf(f, "plot 'irdrop.csv' using (e = column('err'), column('matrix') == %ld && e - e == 0 ? "
               "column('tile_col') * %zu + column('out') : 1/0):'tile_row':(0.51):(0.51):(100 * e) "
               "with boxxyerror fc palette notitle\n",
            im->m, im->outs);
}

/* ---- the programming waveform ------------------------------------------- */

static void script_waveform(FILE *f, const char *what, int svg)
{
    script_common(f);
    plot_script_output(f, "waveform", svg, 1100, 1050);
    /* fixed margins: the three panels share one time axis */
    fprintf(f, "set key outside right\nset lmargin at screen 0.09\nset rmargin at screen 0.76\n"
               "set xlabel 'time (µs)'\nus(c) = column(c) * 1e6\n");
    fprintf(f, "set multiplot layout 3,1 title \"Programming transient in ngspice: %s\\n"
               "{/*0.85 the pulses of this round; the verify reads after each round are priced, not simulated, "
               "so the program latency runs past this axis}\"\n", what);
    /* the bit line drawn first and wide, the word line narrow on top: both
     * stay visible where they coincide (half-select at V/2) */
    fprintf(f, "set ylabel 'voltage (V)'\n"
               "plot 'waveform.csv' using (us('time_s')):'v_bl_V' with lines lw 6 lc rgb '#ffbb78' title 'bit line (driver)', \\\n"
               "  '' using (us('time_s')):'v_wl_V' with lines lw 2 lc rgb '#1f77b4' title 'word line (driver)', \\\n"
               "  '' using (us('time_s')):'v_cell_V' with lines lw 2 dt 2 lc rgb '#2ca02c' title 'across the cell'\n");
    fprintf(f, "set ylabel 'cell current (µA)'\n"
               "plot 'waveform.csv' using (us('time_s')):(1e6 * column('i_cell_A')) with lines lw 2 title 'I(V, x)'\n");
    fprintf(f, "set ylabel 'state x'\nset y2label 'read conductance (µS)'\nset y2tics\nset ytics nomirror\n"
               "plot 'waveform.csv' using (us('time_s')):'state_x' with lines lw 2 title 'state x', \\\n"
               "  '' using (us('time_s')):(1e6 * column('g_read_S')) axes x1y2 with lines lw 2 dt 2 title 'G at read voltage'\n");
    fprintf(f, "unset multiplot\n");
}

/* What follows ": " on the first line of a CSV file (its # line naming
 * the cell and the transient). */
static void first_line_title(const char *dir, const char *file, const char *dflt, char *buf, size_t n)
{
    char p[SSP_PLOT_PATH], line[256] = "";
    FILE *in;
    snprintf(buf, n, "%s", dflt);
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p || !(in = fopen(p, "r"))) return;
    if (fgets(line, sizeof line, in) && line[0] == '#') {
        const char *s = line + 1 + strspn(line + 1, " ");
        size_t k = 0;
        for (; *s && *s != '\n' && k + 1 < n; s++)
            if (*s != '"' && *s != '\\') buf[k++] = *s;
        buf[k] = '\0';
        {
            const char *c = strstr(buf, ": ");
            if (c) memmove(buf, c + 2, strlen(c + 2) + 1);
        }
    }
    fclose(in);
}

/* ---- the read transient and the sample-time sweep ---------------------- */

/* read.csv (ssp_read.h): word line, bit line and TIA output against time
 * in ns, ngspice's traces dashed when present, the ADC sample instant (and
 * the settling time) as vertical lines from its '#' line. */
static void script_read(FILE *f, const char *dir, int svg)
{
    char p[SSP_PLOT_PATH], line[256] = "";
    double ts = 0, tset = 0, tread = 0;
    int spice = 0;
    FILE *in;
    if (snprintf(p, sizeof p, "%s/read.csv", dir) < (int)sizeof p && (in = fopen(p, "r"))) {
        if (fgets(line, sizeof line, in)) sscanf(line, "# t_sample_s=%lf t_settle_s=%lf t_read_s=%lf", &ts, &tset, &tread);
        if (fgets(line, sizeof line, in)) spice = strstr(line, "spice") != NULL;
        fclose(in);
    }
    script_common(f);
    plot_script_output(f, "read", svg, 1100, 1050);
    fprintf(f, "set key outside right\nset lmargin at screen 0.09\nset rmargin at screen 0.74\n"
               "set xlabel 'time after the DAC step (ns)'\nns(c) = column(c) * 1e9\n");
    if (ts > 0) fprintf(f, "set arrow 1 from %.9g, graph 0 to %.9g, graph 1 nohead lw 2 lc rgb '#cc0000'\n", 1e9 * ts, 1e9 * ts);
    if (tset > 0) fprintf(f, "set arrow 2 from %.9g, graph 0 to %.9g, graph 1 nohead dt 3 lc rgb '#555555'\n", 1e9 * tset, 1e9 * tset);
    fprintf(f, "set multiplot layout 3,1 title \"Transient read of a tile (red: ADC sample at %.4g ns; dotted: settled to 1/2 LSB at %.4g ns)\"\n",
            1e9 * ts, 1e9 * tset);
    static const struct { const char *col, *sp, *label; } panels[] = {
        {"v_wl_V", "v_wl_spice_V", "word line, far end (V)"},
        {"v_bl_V", "v_bl_spice_V", "bit line at the TIA (V)"},
        {"v_out_V", "v_out_spice_V", "TIA output (V)"},
    };
    for (int k = 0; k < 3; k++) {
        fprintf(f, "set ylabel '%s'\nplot 'read.csv' using (ns('time_s')):'%s' with lines lw 2 title 'nodal step response'",
                panels[k].label, panels[k].col);
        if (spice) fprintf(f, ", \\\n  '' using (ns('time_s')):'%s' with lines lw 2 dt 2 title 'ngspice'", panels[k].sp);
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\nunset arrow\nset datafile separator whitespace\n");
}

/* tsample_sweep.csv (siamspice infer --sweep-t-sample): accuracy against
 * the ADC's sample time. */
static void script_sweep(FILE *f, int svg)
{
    script_common(f);
    plot_script_output(f, "accuracy_tsample", svg, 1000, 600);
    fprintf(f, "set datafile separator ','\nset key bottom right\nset logscale x\n"
               "set xlabel 'ADC sample time after the DAC step, adc.t\\_sample (ns)'\nset ylabel 'test accuracy (%%)'\n"
               "set title 'Accuracy against read time (unsettled reads, nodal engine)'\n"
               "plot 'tsample_sweep.csv' using (column('t_sample_s')*1e9):(100*column('test_acc')) with linespoints lw 2 pt 7 title 'test accuracy'\n"
               "unset logscale x\nset datafile separator whitespace\n");
}

/* ---- a fitted device model (siamspice fit) ----------------------------------- */

/* Measured against fitted conductance per pulse (fit_curve.csv: index,
 * device, cycle, pulse, amplitude_V, g_meas_S, g_fit_S, g_spice_S; nan where
 * ngspice did not replay the row). */
static void script_fit(FILE *f, const char *title, int svg)
{
    char what[160];
    /* '_' would be a subscript in gnuplot's enhanced text */
    snprintf(what, sizeof what, "%s", title);
    for (char *c = what; *c; c++)
        if (*c == '_') *c = '-';
    script_common(f);
    plot_script_output(f, "fit_curve", svg, 1100, 600);
    fprintf(f, "set key outside right\nset xlabel 'pulse number (devices one after another)'\n"
               "set ylabel 'conductance at the read voltage (S)'\nset format y '%%.1s %%cS'\n");
    fprintf(f, "set title \"Measured and fitted pulse response: %s\\n"
               "{/*0.85 fitted: each cycle replayed noise-free from the measured conductance before it}\"\n",
            what);
    fprintf(f, "plot 'fit_curve.csv' using 'index':'g_meas_S' with points pt 7 ps 0.4 lc rgb '#888888' title 'measured', \\\n"
               "  '' using 'index':'g_fit_S' with lines lw 2 lc rgb '#1f77b4' title 'fitted (C model)', \\\n"
               "  '' using 'index':(s = column('g_spice_S'), s - s == 0 ? s : 1/0) with lines lw 1 dt 2 lc rgb '#d62728' "
               "title 'fitted (ngspice replay)'\n");
}

/* ---- the script ------------------------------------------------------------ */

/* What a run directory has to draw. */
typedef struct plot_inputs {
    int metrics;                          /* metrics.csv */
    size_t nb;                            /* baselines with a metrics.csv */
    int hist;                             /* conductance_hist.csv and levels.csv */
    size_t nmat;                          /* matrices of irdrop.csv */
    irmat mat[SSP_PLOT_MAX_MATRICES];     /* their summaries */
    char engine[32];                      /* the run's forward engine */
    int wave;                             /* waveform.csv */
    char wave_title[160];                 /* its first line */
    int read;                             /* read.csv */
    int sweep;                            /* tsample_sweep.csv */
    int fit;                              /* fit_curve.csv */
    char fit_title[160];                  /* its first line */
} plot_inputs;

static void write_script(FILE *f, const char *dir, char names[][64], const plot_inputs *in)
{
    char tb[64], mt[80];
    size_t nb = in->nb;
    main_title(dir, mt, sizeof mt);
    fprintf(f, "# plots.gp — written by siamspice; run with: cd %s && gnuplot plots.gp\n", dir);
    plot_script_header(f);
    for (int svg = 0; svg < 2; svg++) {
        if (in->metrics) {
            script_common(f);
            fprintf(f, "set key outside right\nset xtics 1\nset mxtics 1\n");
            /* accuracy and loss per epoch, method against baselines */
            plot_script_output(f, "accuracy_loss", svg, 1100, 800);
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
            plot_script_output(f, "cumulative_cost", svg, 1100, 1100);
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
            fprintf(f, "unset multiplot\n");
        }
        if (in->hist) {
            script_common(f);
            fprintf(f, "set key outside right\n");
            plot_script_output(f, "conductance_histogram", svg, 1100, 900);
            fprintf(f, "stats 'conductance_hist.csv' using 'layer' nooutput\nnl = int(STATS_max)\n");
            fprintf(f, "set multiplot layout nl,1 title 'Device conductances per layer (grey lines: level targets)'\n");
            /* one decade format for every tick; each layer on its own scale */
            fprintf(f, "set logscale y\nset format y '10^{%%L}'\nset xlabel 'read conductance (uS)'\n"
                       "set ylabel 'devices'\nset style fill solid 0.6\n");
            fprintf(f, "do for [L=1:nl] {\n"
                       "  stats 'conductance_hist.csv' using (column('layer')==L && column('devices')>0 ? "
                       "column('devices') : 1/0) nooutput\n"
                       "  top = 2 * STATS_max\n  set yrange [0.8:top]\n"
                       "  plot 'levels.csv' using (column('g_S')*1e6):(1):(0):(top) with vectors nohead lc rgb '#bbbbbb' notitle, \\\n"
                       "       'conductance_hist.csv' using (column('layer')==L ? column('g_S')*1e6 : 1/0):(column('devices')>0 ? column('devices') : 1/0) "
                       "with impulses lw 3 title sprintf('layer %%d', L)\n}\n");
            fprintf(f, "unset multiplot\nset autoscale y\n");
        }
        for (size_t m = 0; m < in->nmat; m++)
            if (in->mat[m].finite > 0) script_heatmap(f, &in->mat[m], in->engine, svg);
        if (in->wave) script_waveform(f, in->wave_title, svg);
        if (in->read) script_read(f, dir, svg);
        if (in->sweep) script_sweep(f, svg);
        if (in->fit) script_fit(f, in->fit_title, svg);
    }
    plot_script_end(f);
}

int ssp_plot_gnuplot(ssp_ctx *ctx, const char *dir, const char *script, const char *log_name)
{
    posix_spawn_file_actions_t fa;
    char *argv[3], p[SSP_PLOT_PATH];
    pid_t pid = 0;
    int rc = SSP_OK, spawn_rc, st = 0;
    /* gnuplot runs in dir (the script's paths are relative to it); its
     * messages go to log_name there */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    argv[0] = (char *)(uintptr_t) "gnuplot";
    argv[1] = (char *)(uintptr_t)script;
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
        size_t len = 0;
        snprintf(p, sizeof p, "%s/%s", dir, log_name);
        ssp_file_read_all(ctx, p, &log, &len);
        rc = ssp_error(ctx, SSP_EIO, "gnuplot failed on %s/%s: %.400s", dir, script, log ? (char *)log : "");
        free(log);
    }
    return rc;
}

int ssp_plot_run(ssp_ctx *ctx, const char *dir)
{
    char names[SSP_PLOT_MAX_BASELINES][64], p[SSP_PLOT_PATH];
    plot_inputs *in;
    ssp_afile *af;
    int rc, heat = 0;
    struct stat sb;
    if (strlen(dir) + 64 >= sizeof p) return ssp_error(ctx, SSP_EINVAL, "run directory name too long: %.200s...", dir);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ssp_error(ctx, SSP_EINVAL, "%s is not a directory: %s", dir, stat(dir, &sb) ? strerror(errno) : "a file");
    if (!(in = calloc(1, sizeof *in))) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    in->metrics = exists(dir, "metrics.csv");
    in->nb = in->metrics ? find_baselines(dir, names, SSP_PLOT_MAX_BASELINES) : 0;
    in->hist = exists(dir, "conductance_hist.csv") && exists(dir, "levels.csv");
    in->wave = exists(dir, "waveform.csv");
    in->read = exists(dir, "read.csv");
    in->sweep = exists(dir, "tsample_sweep.csv");
    if (in->wave) first_line_title(dir, "waveform.csv", "one cell", in->wave_title, sizeof in->wave_title);
    in->fit = exists(dir, "fit_curve.csv");
    if (in->fit) first_line_title(dir, "fit_curve.csv", "a device", in->fit_title, sizeof in->fit_title);
    if (exists(dir, "irdrop.csv")) {
        snprintf(p, sizeof p, "%s/irdrop.csv", dir);
        if ((rc = scan_irdrop(ctx, p, in->mat, SSP_PLOT_MAX_MATRICES, &in->nmat))) goto done;
        run_engine(dir, in->engine, sizeof in->engine);
        for (size_t m = 0; m < in->nmat; m++) heat += in->mat[m].finite > 0;
    }
    if (!in->metrics && !in->hist && !heat && !in->wave && !in->read && !in->sweep && !in->fit) {
        rc = ssp_error(ctx, SSP_EINVAL, "%s has nothing to plot: no metrics.csv, conductance_hist.csv with levels.csv, "
                                     "irdrop.csv with finite values, waveform.csv, read.csv, tsample_sweep.csv or fit_curve.csv", dir);
        goto done;
    }
    snprintf(p, sizeof p, "%s/plots.gp", dir);
    rc = ssp_file_atomic_open(&af, ctx, p);
    if (rc) goto done;
    write_script(ssp_file_stream(af), dir, names, in);
    rc = ssp_file_atomic_commit(&af, ctx);
    if (rc) goto done;
    rc = plot_script_run(ctx, dir, "plots.gp", "plots.log");
done:
    free(in);
    return rc;
}

void plot_script_end(FILE *f) { fputs("eval ssp_finish\n", f); }

int plot_script_run(ssp_ctx *ctx, const char *dir, const char *script, const char *log_name)
{
    int rc = ssp_plot_gnuplot(ctx, dir, script, log_name);
    if (rc) {
        remove_plot_temps(dir); /* the previous plots stay as they were */
    } else {
        size_t left = remove_plot_temps(dir);
        if (left)
            rc = ssp_error(ctx, SSP_EIO, "%s: %zu plot(s) drawn but not renamed into place (see %s/%s)", dir, left,
                           dir, log_name);
    }
    return rc;
}
