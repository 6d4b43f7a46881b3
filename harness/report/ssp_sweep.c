/* ssp_sweep.c — a sweep's table (sweep.csv, sweep.json) and plots.
 *
 * Reads the metrics.csv each job's training run wrote; writes files only
 * through ssp_file (atomic). Rows are written in the order given (job
 * order) and carry no wall times. It does not run jobs or decide which
 * jobs exist. */
#include "ssp_sweep.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"
#include "ssp_plot.h"
#include "plot_script.h"

enum { SWEEP_PATH = 4096, SWEEP_LINE = 8192, SWEEP_LABEL = 1024 };

/* The metrics drawn against each key: the row's field, its axis label and
 * the factor that takes it to the axis's unit. */
enum { NMETRICS = 5 };
static const struct {
    const char *label;
    double scale;
} METRICS[NMETRICS] = {
    {"final test accuracy (%)", 100.0},
    {"updates eliminated vs closed loop (%)", 1.0},
    {"weight writes", 1.0},
    {"programming energy (J)", 1.0},
    {"programming latency (s)", 1.0},
};

static double metric(const ssp_sweep_row *r, int m)
{
    switch (m) {
    case 0: return r->epochs ? r->acc[r->epochs - 1] : NAN;
    case 1: return r->eliminated_pct;
    case 2: return r->weight_writes;
    case 3: return r->energy_j;
    default: return r->latency_s;
    }
}

static const char SEED_KEY[] = "run.seed";

/* ---- reading a run's metrics.csv ------------------------------------- */

/* Index of column name in the comma-separated header, or -1. */
static int column(const char *header, const char *name)
{
    size_t n = strlen(name);
    int i = 0;
    for (const char *c = header;; i++) {
        const char *e = strchr(c, ',');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == n && memcmp(c, name, n) == 0) return i;
        if (!e) return -1;
        c = e + 1;
    }
}

/* Field i of a comma-separated line, as a number. */
static int field(const char *line, int i, double *v)
{
    const char *c = line;
    char *end;
    for (int k = 0; k < i; k++) {
        c = strchr(c, ',');
        if (!c) return -1;
        c++;
    }
    *v = strtod(c, &end);
    return (end == c || (*end && *end != ',')) ? -1 : 0;
}

int ssp_sweep_read_run(ssp_ctx *ctx, const char *dir, ssp_sweep_row *row)
{
    static const char *const NAMES[] = {"test_acc", "updates_eliminated_pct", "weight_writes", "energy_J",
                                        "latency_s"};
    char p[SWEEP_PATH];
    unsigned char *text = NULL;
    size_t len = 0, line = 0;
    int col[5], rc;
    char *s, *save = NULL;
    if (snprintf(p, sizeof p, "%s/metrics.csv", dir) >= (int)sizeof p)
        return ssp_error(ctx, SSP_EINVAL, "run directory name too long: %.200s", dir);
    rc = ssp_file_read_all(ctx, p, &text, &len);
    if (rc) return rc;
    row->epochs = 0;
    row->eliminated_pct = row->weight_writes = row->energy_j = row->latency_s = 0;
    s = strtok_r((char *)text, "\n", &save);
    if (!s) {
        free(text);
        return ssp_error(ctx, SSP_EFORMAT, "%s: empty", p);
    }
    for (int i = 0; i < 5; i++) {
        col[i] = column(s, NAMES[i]);
        if (col[i] < 0) {
            free(text);
            return ssp_error(ctx, SSP_EFORMAT, "%s: no column %s", p, NAMES[i]);
        }
    }
    while ((s = strtok_r(NULL, "\n", &save)) != NULL) {
        double v[5];
        line++;
        for (int i = 0; i < 5; i++)
            if (field(s, col[i], &v[i])) {
                free(text);
                return ssp_error(ctx, SSP_EFORMAT, "%s:%zu: column %s is not a number", p, line + 1, NAMES[i]);
            }
        if (row->epochs == SSP_SWEEP_MAX_EPOCHS) {
            free(text);
            return ssp_error(ctx, SSP_EFORMAT, "%s: more than %d epochs", p, SSP_SWEEP_MAX_EPOCHS);
        }
        row->acc[row->epochs++] = v[0];
        row->eliminated_pct = v[1];
        row->weight_writes += v[2];
        row->energy_j += v[3];
        row->latency_s += v[4];
    }
    free(text);
    if (row->epochs == 0) return ssp_error(ctx, SSP_EFORMAT, "%s: no epoch finished", p);
    return SSP_OK;
}

/* ---- the table ------------------------------------------------------- */

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
    fputc('"', f);
}

static int write_csv(ssp_ctx *ctx, const char *dir, const char *const *keys, size_t nkeys, const ssp_sweep_row *rows,
                     size_t n)
{
    char p[SWEEP_PATH];
    ssp_afile *af;
    FILE *f;
    int rc;
    snprintf(p, sizeof p, "%s/sweep.csv", dir);
    rc = ssp_file_atomic_open(&af, ctx, p);
    if (rc) return rc;
    f = ssp_file_stream(af);
    fputs("job", f);
    for (size_t k = 0; k < nkeys; k++) {
        fputc(',', f);
        csv_field(f, keys[k]);
    }
    fputs(",status,final_test_acc,test_acc_per_epoch,updates_eliminated_pct,weight_writes,energy_J,latency_s,"
          "message\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const ssp_sweep_row *r = &rows[i];
        csv_field(f, r->job);
        for (size_t k = 0; k < nkeys; k++) {
            fputc(',', f);
            csv_field(f, r->values[k]);
        }
        fprintf(f, ",%s,", r->ok ? "ok" : "failed");
        if (r->ok) {
            fprintf(f, "%.9g,", r->acc[r->epochs - 1]);
            for (size_t e = 0; e < r->epochs; e++) fprintf(f, "%s%.9g", e ? ";" : "", r->acc[e]);
            fprintf(f, ",%.9g,%.9g,%.9g,%.9g,", r->eliminated_pct, r->weight_writes, r->energy_j, r->latency_s);
        } else {
            fputs(",,,,,,", f);
        }
        csv_field(f, r->message);
        fputc('\n', f);
    }
    return ssp_file_atomic_commit(&af, ctx);
}

static int write_json(ssp_ctx *ctx, const char *dir, const char *const *keys, size_t nkeys, const ssp_sweep_row *rows,
                      size_t n)
{
    char p[SWEEP_PATH];
    json_t *root = json_object(), *jk = json_array(), *jobs = json_array();
    char *text = NULL;
    int rc = SSP_OK;
    if (!root || !jk || !jobs) {
        json_decref(root);
        json_decref(jk);
        json_decref(jobs);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory writing sweep.json");
    }
    json_object_set_new(root, "keys", jk);
    json_object_set_new(root, "jobs", jobs);
    for (size_t k = 0; k < nkeys; k++) json_array_append_new(jk, json_string(keys[k]));
    for (size_t i = 0; i < n; i++) {
        const ssp_sweep_row *r = &rows[i];
        json_t *j = json_object(), *vals = json_object(), *acc = json_array();
        json_object_set_new(j, "job", json_string(r->job));
        for (size_t k = 0; k < nkeys; k++) json_object_set_new(vals, keys[k], json_string(r->values[k]));
        json_object_set_new(j, "values", vals);
        json_object_set_new(j, "status", json_string(r->ok ? "ok" : "failed"));
        if (r->ok) {
            for (size_t e = 0; e < r->epochs; e++) json_array_append_new(acc, json_real(r->acc[e]));
            json_object_set_new(j, "final_test_acc", json_real(r->acc[r->epochs - 1]));
            json_object_set_new(j, "test_acc_per_epoch", acc);
            json_object_set_new(j, "updates_eliminated_pct", json_real(r->eliminated_pct));
            json_object_set_new(j, "weight_writes", json_real(r->weight_writes));
            json_object_set_new(j, "energy_J", json_real(r->energy_j));
            json_object_set_new(j, "latency_s", json_real(r->latency_s));
        } else {
            json_decref(acc);
        }
        json_object_set_new(j, "message", json_string(r->message));
        json_array_append_new(jobs, j);
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(root);
    if (!text) return ssp_error(ctx, SSP_ENOMEM, "out of memory writing sweep.json");
    snprintf(p, sizeof p, "%s/sweep.json", dir);
    {
        size_t len = strlen(text);
        text[len] = '\0';
        rc = ssp_file_write_all(ctx, p, text, len);
    }
    free(text);
    return rc;
}

int ssp_sweep_write_table(ssp_ctx *ctx, const char *dir, const char *const *keys, size_t nkeys,
                          const ssp_sweep_row *rows, size_t n)
{
    int rc = write_csv(ctx, dir, keys, nkeys, rows, n);
    return rc ? rc : write_json(ctx, dir, keys, nkeys, rows, n);
}

/* ---- the plots ------------------------------------------------------- */

static int is_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

/* A file-name form of a key: '.' and anything odd become '_'. */
static void key_file(char *out, size_t n, const char *key)
{
    size_t i;
    for (i = 0; key[i] && i + 1 < n; i++) {
        char c = key[i];
        out[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    out[i] = '\0';
}

/* The series a row belongs to when plotting against key kx: the values of
 * the other keys except run.seed ("" when there are none). */
static void series_label(char *out, size_t n, const char *const *keys, size_t nkeys, size_t kx, const ssp_sweep_row *r)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; k < nkeys && used < n; k++) {
        int w;
        if (k == kx || strcmp(keys[k], SEED_KEY) == 0) continue;
        w = snprintf(out + used, n - used, "%s%s=%s", used ? " " : "", keys[k], r->values[k]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Write sweep_<key>.dat: one gnuplot data block per series; each line the
 * x value, then mean, min and max of each metric, then the rows averaged.
 * The series' labels go to labels[] (caller frees). */
static int write_key_data(ssp_ctx *ctx, const char *dir, const char *kfile, const char *const *keys, size_t nkeys,
                          size_t kx, const ssp_sweep_row *rows, size_t n, char (**labels)[SWEEP_LABEL],
                          size_t *nseries)
{
    char p[SWEEP_PATH], lab[SWEEP_LABEL];
    char (*ls)[SWEEP_LABEL] = calloc(n ? n : 1, sizeof *ls);
    double *xs = malloc((n ? n : 1) * sizeof *xs);
    size_t ns = 0;
    ssp_afile *af = NULL;
    FILE *f;
    int rc;
    if (!ls || !xs) {
        free(ls);
        free(xs);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory plotting a sweep");
    }
    for (size_t i = 0; i < n; i++) {
        size_t s;
        if (!rows[i].ok) continue;
        series_label(lab, sizeof lab, keys, nkeys, kx, &rows[i]);
        for (s = 0; s < ns && strcmp(ls[s], lab) != 0; s++) {
        }
        if (s == ns) snprintf(ls[ns++], SWEEP_LABEL, "%s", lab);
    }
    snprintf(p, sizeof p, "%s/sweep_%s.dat", dir, kfile);
    rc = ssp_file_atomic_open(&af, ctx, p);
    if (rc) goto done;
    f = ssp_file_stream(af);
    fprintf(f, "# x, then mean min max of: final test accuracy, updates eliminated %%, weight writes, energy J, "
               "latency s; then runs averaged (over %s)\n",
            SEED_KEY);
    for (size_t s = 0; s < ns; s++) {
        size_t nx = 0;
        fprintf(f, "# series %zu: %s\n", s, ls[s][0] ? ls[s] : "all");
        for (size_t i = 0; i < n; i++) {
            double x;
            int seen = 0;
            if (!rows[i].ok) continue;
            series_label(lab, sizeof lab, keys, nkeys, kx, &rows[i]);
            if (strcmp(lab, ls[s]) != 0 || !is_number(rows[i].values[kx], &x)) continue;
            for (size_t q = 0; q < nx; q++) seen |= xs[q] == x;
            if (!seen) xs[nx++] = x;
        }
        qsort(xs, nx, sizeof *xs, cmp_double);
        for (size_t q = 0; q < nx; q++) {
            double sum[NMETRICS] = {0}, lo[NMETRICS], hi[NMETRICS];
            size_t cnt = 0;
            for (int m = 0; m < NMETRICS; m++) lo[m] = INFINITY, hi[m] = -INFINITY;
            for (size_t i = 0; i < n; i++) {
                double x;
                if (!rows[i].ok) continue;
                series_label(lab, sizeof lab, keys, nkeys, kx, &rows[i]);
                if (strcmp(lab, ls[s]) != 0 || !is_number(rows[i].values[kx], &x) || x != xs[q]) continue;
                cnt++;
                for (int m = 0; m < NMETRICS; m++) {
                    double v = metric(&rows[i], m) * METRICS[m].scale;
                    sum[m] += v;
                    lo[m] = fmin(lo[m], v);
                    hi[m] = fmax(hi[m], v);
                }
            }
            fprintf(f, "%.9g", xs[q]);
            for (int m = 0; m < NMETRICS; m++) fprintf(f, " %.9g %.9g %.9g", sum[m] / (double)cnt, lo[m], hi[m]);
            fprintf(f, " %zu\n", cnt);
        }
        fputs("\n\n", f);
    }
    rc = ssp_file_atomic_commit(&af, ctx);
done:
    free(xs);
    if (rc) {
        free(ls);
        ls = NULL;
        ns = 0;
    }
    *labels = ls;
    *nseries = ns;
    return rc;
}

/* Quotes and backslashes would end a gnuplot string: show them as '_'. */
static void gp_text(char *out, size_t n, const char *s)
{
    size_t i;
    for (i = 0; s[i] && i + 1 < n; i++) out[i] = (s[i] == '\'' || s[i] == '"' || s[i] == '\\') ? '_' : s[i];
    out[i] = '\0';
}

int ssp_sweep_plot(ssp_ctx *ctx, const char *dir, const char *const *keys, size_t nkeys, const ssp_sweep_row *rows,
                   size_t n, int *nplots)
{
    char p[SWEEP_PATH], kfile[256], ktext[256];
    ssp_afile *af = NULL;
    FILE *f = NULL;
    int rc = SSP_OK, drawn = 0;
    size_t nok = 0;
    *nplots = 0;
    for (size_t i = 0; i < n; i++) nok += rows[i].ok;
    if (nok == 0) return SSP_OK;
    for (size_t k = 0; k < nkeys && !rc; k++) {
        char(*labels)[SWEEP_LABEL] = NULL;
        size_t ns = 0, distinct = 0;
        int numeric = 1;
        double first = 0, x;
        if (strcmp(keys[k], SEED_KEY) == 0) continue;
        for (size_t i = 0; i < n; i++) {
            if (!is_number(rows[i].values[k], &x)) numeric = 0;
            else if (i == 0) first = x, distinct = 1;
            else if (x != first) distinct = 2;
        }
        if (!numeric || distinct < 2) continue;
        key_file(kfile, sizeof kfile, keys[k]);
        gp_text(ktext, sizeof ktext, keys[k]);
        rc = write_key_data(ctx, dir, kfile, keys, nkeys, k, rows, n, &labels, &ns);
        if (rc) break;
        if (!f) {
            snprintf(p, sizeof p, "%s/sweep.gp", dir);
            rc = ssp_file_atomic_open(&af, ctx, p);
            if (rc) {
                free(labels);
                break;
            }
            f = ssp_file_stream(af);
            fprintf(f, "# sweep.gp — written by siamspice sweep; run with: cd %s && gnuplot sweep.gp\n", dir);
            plot_script_header(f);
        }
        {
            char name[sizeof kfile + 8];
            snprintf(name, sizeof name, "sweep_%s", kfile);
            fputc('\n', f);
            plot_script_output(f, name, 0, 1500, 900);
            fputs("set termoption noenhanced\n", f);
        }
        fprintf(f, "set multiplot layout 2,3 title 'against %s: mean over %s, bars min..max'\n", ktext, SEED_KEY);
        fprintf(f, "set grid\nset format y '%%.4g'\nset key bottom right font ',9'\nset xlabel '%s'\nset offsets graph 0.05, graph 0.05, "
                   "graph 0.05, graph 0.05\n",
                ktext);
        for (int m = 0; m < NMETRICS; m++) {
            int c = 2 + 3 * m;
            fprintf(f, "set ylabel '%s'\nplot", METRICS[m].label);
            for (size_t s = 0; s < ns; s++) {
                char lt[SWEEP_LABEL];
                gp_text(lt, sizeof lt, labels[s][0] ? labels[s] : "all runs");
                fprintf(f, "%s 'sweep_%s.dat' index %zu using 1:%d:%d:%d with yerrorlines lw 2 pt 7 title '%s'",
                        s ? ", \\\n    " : " ", kfile, s, c, c + 1, c + 2, lt);
            }
            fputc('\n', f);
        }
        fputs("unset multiplot\n", f);
        free(labels);
        drawn++;
    }
    if (rc) {
        ssp_file_atomic_abort(&af);
        return rc;
    }
    if (!f) return SSP_OK;
    plot_script_end(f);
    rc = ssp_file_atomic_commit(&af, ctx);
    if (!rc) rc = plot_script_run(ctx, dir, "sweep.gp", "sweep_plots.log");
    if (!rc) *nplots = drawn;
    return rc;
}
