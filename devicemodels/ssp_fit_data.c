/* ssp_fit_data.c — the measured pulse table of ssp_fit.h: the CSV reader
 * (from a buffer, so it can be fuzzed) and the synthetic-data generator.
 *
 * The reader checks everything a fit relies on and names the file and the
 * line of the first offence; it never guesses a unit or repairs a row. It
 * keeps no state between calls and prints nothing. */
#include "ssp_fit.h"

#include "ssp_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"

/* Longest line the reader accepts (bytes, newline excluded). */
#define LINE_MAX_BYTES 1024
/* Longest device name (bytes, NUL excluded). */
#define DEVICE_NAME_MAX 63
/* Times a stuck device is redrawn before the generator gives up. */
#define GENERATE_MAX_REDRAWS 64

enum { COL_DEVICE, COL_CYCLE, COL_PULSE, COL_AMP, COL_WIDTH, COL_G, NCOL };

static const char *const col_name[NCOL] = {"device", "cycle", "pulse", "amplitude_V", "width_s",
                                           "g_S"};
/* What a column with the right quantity but another unit is told. */
static const struct {
    const char *prefix, *what;
} col_unit[] = {
    {"amplitude_", "the amplitude must be given in V as 'amplitude_V'"},
    {"width_", "the width must be given in s as 'width_s'"},
    {"g_", "the conductance must be given in S as 'g_S'"},
};
static const char col_list[] = "device,cycle,pulse,amplitude_V,width_s,g_S";

/* A growing table under construction. */
struct table {
    ssp_fit_data *d;
    size_t cap, devcap;
    long *last_row;     /* per device: its last row, -1 none */
    long *pulse_rows;   /* per device: pulse rows (pulse > 0) in its current cycle */
    long *cycle_line;   /* per device: line of its current cycle's first row */
};

void ssp_fit_data_free(ssp_fit_data **dp)
{
    ssp_fit_data *d;
    if (!dp || !*dp) return;
    d = *dp;
    for (size_t i = 0; i < d->ndev; i++) free(d->dev_name[i]);
    free(d->dev_name);
    free(d->origin);
    free(d->dev);
    free(d->cycle);
    free(d->pulse);
    free(d->amp);
    free(d->width);
    free(d->g);
    free(d->line);
    free(d->prev);
    free(d);
    *dp = NULL;
}

static int grow_rows(struct table *t)
{
    ssp_fit_data *d = t->d;
    size_t cap = t->cap ? 2 * t->cap : 256;
#define GROW(f)                                                                          \
    do {                                                                                 \
        void *q_ = realloc(d->f, cap * sizeof *d->f);                                    \
        if (!q_) return -1;                                                              \
        d->f = q_;                                                                       \
    } while (0)
    GROW(dev);
    GROW(cycle);
    GROW(pulse);
    GROW(amp);
    GROW(width);
    GROW(g);
    GROW(line);
    GROW(prev);
#undef GROW
    t->cap = cap;
    return 0;
}

/* Index of device name s, adding it if new; -1 out of memory. */
static long device_index(struct table *t, const char *s)
{
    ssp_fit_data *d = t->d;
    size_t i;
    for (i = 0; i < d->ndev; i++)
        if (strcmp(d->dev_name[i], s) == 0) return (long)i;
    if (d->ndev == t->devcap) {
        size_t cap = t->devcap ? 2 * t->devcap : 8;
        char **n = realloc(d->dev_name, cap * sizeof *n);
        long *a, *b, *c;
        if (!n) return -1;
        d->dev_name = n;
        a = realloc(t->last_row, cap * sizeof *a);
        if (!a) return -1;
        t->last_row = a;
        b = realloc(t->pulse_rows, cap * sizeof *b);
        if (!b) return -1;
        t->pulse_rows = b;
        c = realloc(t->cycle_line, cap * sizeof *c);
        if (!c) return -1;
        t->cycle_line = c;
        t->devcap = cap;
    }
    if (!(d->dev_name[d->ndev] = strdup(s))) return -1;
    t->last_row[d->ndev] = -1;
    t->pulse_rows[d->ndev] = 0;
    t->cycle_line[d->ndev] = 0;
    return (long)d->ndev++;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
    return s;
}

/* Split line at commas into at most max fields; returns the count (max + 1
 * when there are more). */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *s = line;
    for (;;) {
        char *c = strchr(s, ',');
        if (c) *c = '\0';
        if (n < max) f[n] = trim(s);
        n++;
        if (!c || n > max) break;
        s = c + 1;
    }
    return n;
}

static int bad(ssp_ctx *ctx, const char *origin, long line, const char *fmt, ...) SSP_PRINTF(4, 5);
static int bad(ssp_ctx *ctx, const char *origin, long line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) return ssp_error(ctx, SSP_EFORMAT, "%s:%ld: %s", origin, line, msg);
    return ssp_error(ctx, SSP_EFORMAT, "%s: %s", origin, msg);
}

static int parse_header(ssp_ctx *ctx, const char *origin, long line, char *text, int *colof)
{
    char *f[NCOL + 1];
    int seen[NCOL] = {0};
    size_t n = split(text, f, NCOL + 1), i, k;
    if (n > NCOL + 1) n = NCOL + 1;
    for (i = 0; i < n; i++) {
        for (k = 0; k < NCOL && strcmp(f[i], col_name[k]) != 0; k++) {
        }
        if (k < NCOL) {
            if (seen[k]) return bad(ctx, origin, line, "column '%s' appears twice", f[i]);
            seen[k] = 1;
            colof[i] = (int)k;
            continue;
        }
        for (k = 0; k < sizeof col_unit / sizeof col_unit[0]; k++)
            if (strncmp(f[i], col_unit[k].prefix, strlen(col_unit[k].prefix)) == 0)
                return bad(ctx, origin, line, "column '%s': %s (the header is %s)", f[i],
                           col_unit[k].what, col_list);
        return bad(ctx, origin, line, "unknown column '%s' (the columns are %s, no others)",
                   f[i], col_list);
    }
    for (k = 0; k < NCOL; k++)
        if (!seen[k])
            return bad(ctx, origin, line, "missing column '%s' (the header is %s)", col_name[k],
                       col_list);
    return SSP_OK;
}

static int parse_long(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return end == s || *end || errno || *v < 0 ? -1 : 0;
}

/* A finite number; returns 1 for NaN/infinity, -1 for no number. */
static int parse_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end) return -1;
    if (!isfinite(*v)) return 1;
    return errno == ERANGE && *v != 0 ? 1 : 0;
}

static int valid_name(const char *s)
{
    size_t i;
    if (!*s) return 0;
    for (i = 0; s[i]; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.')) return 0;
    return i <= DEVICE_NAME_MAX;
}

/* Close device k's current cycle: it must hold at least two pulses. */
static int close_cycle(struct table *t, ssp_ctx *ctx, size_t k)
{
    ssp_fit_data *d = t->d;
    long r = t->last_row[k];
    if (r < 0) return SSP_OK;
    if (t->pulse_rows[k] < 2)
        return bad(ctx, d->origin, t->cycle_line[k],
                   "cycle %ld of device %s has %s pulse: a pulse response needs at least two",
                   d->cycle[r], d->dev_name[k], t->pulse_rows[k] ? "a single" : "no");
    return SSP_OK;
}

static int parse_row(struct table *t, ssp_ctx *ctx, long line, char *text, const int *colof)
{
    ssp_fit_data *d = t->d;
    const char *origin = d->origin;
    char *f[NCOL + 1];
    const char *v[NCOL];
    size_t n = split(text, f, NCOL + 1), i;
    long cyc, pul, k, r, last;
    double amp, width, g;
    int e;

    if (n != NCOL)
        return bad(ctx, origin, line, "%zu fields, the header has %d", n, NCOL);
    for (i = 0; i < NCOL; i++) v[colof[i]] = f[i];
    if (!valid_name(v[COL_DEVICE]))
        return bad(ctx, origin, line,
                   "device '%.40s': want a name of letters, digits, '_', '-', '.' (at most %d)",
                   v[COL_DEVICE], DEVICE_NAME_MAX);
    if (parse_long(v[COL_CYCLE], &cyc))
        return bad(ctx, origin, line, "cycle '%.40s' is not a whole number >= 0", v[COL_CYCLE]);
    if (parse_long(v[COL_PULSE], &pul))
        return bad(ctx, origin, line, "pulse '%.40s' is not a whole number >= 0", v[COL_PULSE]);
    if ((e = parse_num(v[COL_AMP], &amp)))
        return bad(ctx, origin, line, "amplitude_V '%.40s' is %s", v[COL_AMP],
                   e > 0 ? "NaN or infinite" : "not a number");
    if ((e = parse_num(v[COL_WIDTH], &width)))
        return bad(ctx, origin, line, "width_s '%.40s' is %s", v[COL_WIDTH],
                   e > 0 ? "NaN or infinite" : "not a number");
    if ((e = parse_num(v[COL_G], &g)))
        return bad(ctx, origin, line, "g_S '%.40s' is %s", v[COL_G],
                   e > 0 ? "NaN or infinite" : "not a number");
    if (!(g > 0))
        return bad(ctx, origin, line, "conductance g_S = %g S is not > 0", g);
    if (pul == 0 && (amp != 0 || width != 0))
        return bad(ctx, origin, line,
                   "pulse 0 is the read before the cycle's first pulse: amplitude_V and width_s "
                   "must be 0 (got %g V, %g s)",
                   amp, width);
    if (pul > 0 && !(width > 0)) return bad(ctx, origin, line, "width_s = %g s is not > 0", width);

    if ((k = device_index(t, v[COL_DEVICE])) < 0) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    last = t->last_row[k];
    if (last >= 0 && cyc == d->cycle[last]) {
        if (pul != d->pulse[last] + 1)
            return bad(ctx, origin, line,
                       "pulse %ld follows pulse %ld in cycle %ld of device %s (line %ld): pulse "
                       "numbers must increase by one",
                       pul, d->pulse[last], cyc, v[COL_DEVICE], d->line[last]);
    } else {
        if (last >= 0 && cyc < d->cycle[last])
            return bad(ctx, origin, line,
                       "cycle %ld comes after cycle %ld of device %s (line %ld): cycles must "
                       "increase",
                       cyc, d->cycle[last], v[COL_DEVICE], d->line[last]);
        if (pul > 1)
            return bad(ctx, origin, line,
                       "cycle %ld of device %s starts at pulse %ld: pulses are numbered from 1 "
                       "(0 for the read before them)",
                       cyc, v[COL_DEVICE], pul);
        if ((e = close_cycle(t, ctx, (size_t)k))) return e;
        t->pulse_rows[k] = 0;
        t->cycle_line[k] = line;
    }
    if (d->n == t->cap && grow_rows(t)) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    r = (long)d->n++;
    d->dev[r] = (size_t)k;
    d->cycle[r] = cyc;
    d->pulse[r] = pul;
    d->amp[r] = amp;
    d->width[r] = width;
    d->g[r] = g;
    d->line[r] = line;
    d->prev[r] = last;
    t->last_row[k] = r;
    if (pul > 0) t->pulse_rows[k]++;
    return SSP_OK;
}

int ssp_fit_data_parse(ssp_fit_data **out, ssp_ctx *ctx, const char *buf, size_t len,
                       const char *origin)
{
    struct table t = {0};
    char text[LINE_MAX_BYTES + 1];
    int colof[NCOL + 1];
    size_t pos = 0, k;
    long line = 0;
    int rc = SSP_OK, have_header = 0;

    *out = NULL;
    if (!origin) origin = "(data)";
    if (!(t.d = calloc(1, sizeof *t.d)) || !(t.d->origin = strdup(origin))) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", origin);
        goto done;
    }
    while (pos < len) {
        size_t end = pos, l;
        while (end < len && buf[end] != '\n') end++;
        line++;
        l = end - pos;
        if (l > 0 && buf[pos + l - 1] == '\r') l--;
        if (l > LINE_MAX_BYTES) {
            rc = bad(ctx, origin, line, "line longer than %d bytes", LINE_MAX_BYTES);
            goto done;
        }
        memcpy(text, buf + pos, l);
        text[l] = '\0';
        pos = end + 1;
        if (memchr(text, '\0', l)) {
            rc = bad(ctx, origin, line, "contains a NUL byte: not a CSV text file");
            goto done;
        }
        {
            char *s = trim(text);
            if (*s == '\0' || *s == '#') continue;
            if (!have_header) {
                if ((rc = parse_header(ctx, origin, line, s, colof))) goto done;
                have_header = 1;
                continue;
            }
            if ((rc = parse_row(&t, ctx, line, s, colof))) goto done;
        }
    }
    if (!have_header) {
        rc = bad(ctx, origin, 0, "empty: no header line (%s)", col_list);
        goto done;
    }
    if (t.d->n == 0) {
        rc = bad(ctx, origin, 0, "no data rows after the header");
        goto done;
    }
    for (k = 0; k < t.d->ndev; k++)
        if ((rc = close_cycle(&t, ctx, k))) goto done;
    *out = t.d;
    t.d = NULL;
done:
    if (t.d) {
        /* names beyond ndev were never set */
        ssp_fit_data_free(&t.d);
    }
    free(t.last_row);
    free(t.pulse_rows);
    free(t.cycle_line);
    return rc;
}

int ssp_fit_data_load(ssp_fit_data **out, ssp_ctx *ctx, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    if ((rc = ssp_file_read_all(ctx, path, &data, &len))) return rc;
    rc = ssp_fit_data_parse(out, ctx, (const char *)data, len, path);
    free(data);
    return rc;
}

/* ---- the generator --------------------------------------------------------- */

int ssp_fit_generate(char **csv, ssp_ctx *ctx, const ssp_device_model *m, gsl_rng *rng,
                     const ssp_fit_protocol *pr)
{
    ssp_text t = {0};
    ssp_device_work *w = NULL;
    ssp_device dev;
    double sa, sw, ra, rw, g;
    int rc = SSP_OK, tries;

    *csv = NULL;
    if (pr->devices < 1 || pr->cycles < 1 || pr->up + pr->down < 2)
        return ssp_error(ctx, SSP_EINVAL,
                         "a measurement needs at least one device, one cycle and two pulses");
    ssp_device_model_pulse(m, SSP_DEVICE_SET, &sa, &sw);
    ssp_device_model_pulse(m, SSP_DEVICE_RESET, &ra, &rw);
    if (pr->set_amp != 0) sa = pr->set_amp;
    if (pr->set_width > 0) sw = pr->set_width;
    if (pr->reset_amp != 0) ra = pr->reset_amp;
    if (pr->reset_width > 0) rw = pr->reset_width;
    if ((rc = ssp_device_work_alloc(&w, ctx))) return rc;
    ssp_text_printf(&t, "# generated by siamspice from %s (%s): %zu devices x %zu cycles x (%zu SET "
                  "%g V x %g s, %zu RESET %g V x %g s)\n",
              ssp_device_model_origin(m), ssp_device_model_kind(m), pr->devices, pr->cycles,
              pr->up, sa, sw, pr->down, ra, rw);
    ssp_text_printf(&t, "device,cycle,pulse,amplitude_V,width_s,g_S\n");
    for (size_t k = 0; k < pr->devices; k++) {
        for (tries = 0; tries < GENERATE_MAX_REDRAWS; tries++) {
            if ((rc = ssp_device_sample(&dev, ctx, m, rng))) goto done;
            if (dev.stuck == SSP_DEVICE_FREE) break;
        }
        if (tries == GENERATE_MAX_REDRAWS) {
            rc = ssp_error(ctx, SSP_ERANGE, "%s: %d stuck devices in a row",
                           ssp_device_model_origin(m), GENERATE_MAX_REDRAWS);
            goto done;
        }
        ssp_device_read(&dev, rng, &g);
        ssp_text_printf(&t, "d%zu,1,0,0,0,%.9e\n", k + 1, g);
        for (size_t c = 0; c < pr->cycles; c++)
            for (size_t p = 0; p < pr->up + pr->down; p++) {
                int up = p < pr->up;
                double a = up ? sa : ra, wd = up ? sw : rw;
                if ((rc = ssp_device_pulse(&dev, w, rng, a, wd))) goto done;
                ssp_device_read(&dev, rng, &g);
                ssp_text_printf(&t, "d%zu,%zu,%zu,%.9g,%.9g,%.9e\n", k + 1, c + 1, p + 1, a, wd, g);
            }
    }
    if ((rc = ssp_text_check(&t, ctx, "the generated measurement"))) goto done;
    *csv = ssp_text_take(&t);
done:
    ssp_text_free(&t);
    ssp_device_work_free(&w);
    return rc;
}
