/* ssp_pulse_export.c — a schedule as files for tapeout teams: CSV and JSON
 * (both read back exactly: every time and voltage in the shortest form that
 * strtod reads back as the same double, ssp_units_format_exact, the same in
 * CSV, JSON and PWL), one SPICE PWL
 * source file per line driver plus a tile deck that includes them, and a VCD
 * of the select, phase, pulse and verify signals. Every file is written
 * through ssp_file's atomic writes. Nothing here prints or simulates. */
#include "pulse_impl.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"
#include "ssp_units.h"

enum { PATH_CAP = 4096, LINE_CAP = 1024, NFIELDS = 11 };
/* VCD timescale: 1 ps (times are rounded to it). */
static const double VCD_TICK_S = 1e-12;

static const char CSV_HEADER[] =
    "time_s,tile,phase,row,col,v_row_v,v_col_v,v_row_unsel_v,v_col_unsel_v,width_s,level";

static int phase_of(const char *s, int *phase)
{
    if (strcmp(s, "SET") == 0) *phase = SSP_PULSE_SET;
    else if (strcmp(s, "RESET") == 0) *phase = SSP_PULSE_RESET;
    else if (strcmp(s, "VERIFY") == 0) *phase = SSP_PULSE_READ;
    else return -1;
    return 0;
}

/* ---- CSV -------------------------------------------------------------------- */

/* The shortest exact form of v (ssp_units_format_exact) in one of a
 * line's buffers. */
#define EXACT(i, v) ssp_units_format_exact(num[i], sizeof num[i], (v))

int ssp_pulse_export_csv(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *path)
{
    ssp_afile *f = NULL;
    FILE *o;
    int rc;
    char num[6][SSP_UNITS_FMT_CAP];
    if ((rc = ssp_file_atomic_open(&f, ctx, path))) return rc;
    o = ssp_file_stream(f);
    fprintf(o, "%s\n", CSV_HEADER);
    for (size_t k = 0; k < s->n; k++) {
        const ssp_pulse_event *e = &s->ev[k];
        fprintf(o, "%s,%d,%s,%d,%d,%s,%s,%s,%s,%s,%d\n", EXACT(0, e->t), e->tile, ssp_pulse_phase_name(e->phase),
                e->row, e->col, EXACT(1, e->v_row), EXACT(2, e->v_col), EXACT(3, e->v_row_unsel),
                EXACT(4, e->v_col_unsel), EXACT(5, e->width), e->level);
    }
    return ssp_file_atomic_commit(&f, ctx);
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return (end == s || *end || errno || !isfinite(*v)) ? -1 : 0;
}

static int parse_int(const char *s, int *v)
{
    char *end;
    long x;
    errno = 0;
    x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < -1 || x > 1000000000L) return -1;
    *v = (int)x;
    return 0;
}

/* Fill e from the NFIELDS fields; -1 and the field index in *bad on error. */
static int event_from_fields(char **fld, ssp_pulse_event *e, int *bad)
{
    int ok = 0;
    ok |= (*bad = 0, parse_double(fld[0], &e->t));
    if (!ok) ok |= (*bad = 1, parse_int(fld[1], &e->tile));
    if (!ok) ok |= (*bad = 2, phase_of(fld[2], &e->phase));
    if (!ok) ok |= (*bad = 3, parse_int(fld[3], &e->row));
    if (!ok) ok |= (*bad = 4, parse_int(fld[4], &e->col));
    if (!ok) ok |= (*bad = 5, parse_double(fld[5], &e->v_row));
    if (!ok) ok |= (*bad = 6, parse_double(fld[6], &e->v_col));
    if (!ok) ok |= (*bad = 7, parse_double(fld[7], &e->v_row_unsel));
    if (!ok) ok |= (*bad = 8, parse_double(fld[8], &e->v_col_unsel));
    if (!ok) ok |= (*bad = 9, parse_double(fld[9], &e->width));
    if (!ok) ok |= (*bad = 10, parse_int(fld[10], &e->level));
    return ok ? -1 : 0;
}

static void grow_dims(ssp_pulse_schedule *s, const ssp_pulse_event *e)
{
    if (e->row >= 0 && (size_t)e->row + 1 > s->rows) s->rows = (size_t)e->row + 1;
    if (e->col >= 0 && (size_t)e->col + 1 > s->cols) s->cols = (size_t)e->col + 1;
    if (e->phase != SSP_PULSE_READ && e->t + e->width > s->latency) s->latency = e->t + e->width;
}

int ssp_pulse_read_csv(ssp_pulse_schedule **out, ssp_ctx *ctx, const char *path)
{
    unsigned char *data = NULL;
    size_t len, lineno = 1;
    ssp_pulse_schedule *s = NULL;
    char *p, *nl;
    int rc;
    *out = NULL;
    if ((rc = ssp_file_read_all(ctx, path, &data, &len))) return rc;
    p = (char *)data;
    nl = strchr(p, '\n');
    if (!nl || (size_t)(nl - p) != strlen(CSV_HEADER) || strncmp(p, CSV_HEADER, strlen(CSV_HEADER))) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: line 1: not a siamspice schedule header", path);
        goto done;
    }
    if ((rc = ssp_pulse_schedule_alloc(&s, ctx, 0, 0))) goto done;
    for (p = nl + 1; *p; p = nl + 1) {
        char *fld[NFIELDS], *q = p;
        ssp_pulse_event e;
        int nf = 0, bad;
        lineno++;
        nl = strchr(p, '\n');
        if (!nl) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu: no final newline", path, lineno);
            goto done;
        }
        *nl = 0;
        while (nf < NFIELDS) {
            char *comma = strchr(q, ',');
            fld[nf++] = q;
            if (!comma) break;
            *comma = 0;
            q = comma + 1;
        }
        if (nf != NFIELDS || strchr(q, ',')) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu: expected %d fields", path, lineno, NFIELDS);
            goto done;
        }
        if (event_from_fields(fld, &e, &bad)) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %zu: bad field %d ('%s')", path, lineno,
                           bad + 1, fld[bad]);
            goto done;
        }
        if ((rc = ssp_pulse_schedule_add(s, ctx, &e))) goto done;
        grow_dims(s, &e);
    }
    *out = s;
    s = NULL;
done:
    ssp_pulse_schedule_free(&s);
    free(data);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------- */

/* A JSON real: the exact shortest form, kept a real (".0") when it reads
 * like an integer, as jansson writes reals. */
static const char *json_num(char *buf, double v)
{
    ssp_units_format_exact(buf, SSP_UNITS_FMT_CAP - 2, v);
    if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
    return buf;
}

/* Written by hand rather than through jansson, whose reals are %.17g (it
 * has no shortest form); the layout is the one json_dumps(JSON_INDENT(1))
 * gave, and ssp_pulse_parse_json (jansson) reads it. */
int ssp_pulse_export_json(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *path)
{
    ssp_afile *f = NULL;
    FILE *o;
    int rc;
    char num[6][SSP_UNITS_FMT_CAP];
    if ((rc = ssp_file_atomic_open(&f, ctx, path))) return rc;
    o = ssp_file_stream(f);
    fprintf(o,
            "{\n \"format\": \"siamspice-schedule\",\n \"version\": 1,\n \"rows\": %zu,\n \"cols\": %zu,\n"
            " \"bias\": \"%s\",\n \"order\": \"%s\",\n \"edge_s\": %s,\n \"latency_s\": %s,\n \"events\": [",
            s->rows, s->cols, ssp_pulse_bias_name(s->bias), s->order == SSP_PULSE_BY_COL ? "col" : "row",
            json_num(num[0], s->edge), json_num(num[1], s->latency));
    for (size_t k = 0; k < s->n; k++) {
        const ssp_pulse_event *e = &s->ev[k];
        fprintf(o,
                "%s\n  {\n   \"time_s\": %s,\n   \"tile\": %d,\n   \"phase\": \"%s\",\n   \"row\": %d,\n"
                "   \"col\": %d,\n   \"v_row_v\": %s,\n   \"v_col_v\": %s,\n   \"v_row_unsel_v\": %s,\n"
                "   \"v_col_unsel_v\": %s,\n   \"width_s\": %s,\n   \"level\": %d\n  }",
                k ? "," : "", json_num(num[0], e->t), e->tile, ssp_pulse_phase_name(e->phase), e->row, e->col,
                json_num(num[1], e->v_row), json_num(num[2], e->v_col), json_num(num[3], e->v_row_unsel),
                json_num(num[4], e->v_col_unsel), json_num(num[5], e->width), e->level);
    }
    fprintf(o, "%s]\n}", s->n ? "\n " : "");
    return ssp_file_atomic_commit(&f, ctx);
}

int ssp_pulse_read_json(ssp_pulse_schedule **out, ssp_ctx *ctx, const char *path)
{
    unsigned char *data = NULL;
    size_t len;
    int rc;
    *out = NULL;
    if ((rc = ssp_file_read_all(ctx, path, &data, &len))) return rc;
    rc = ssp_pulse_parse_json(out, ctx, (const char *)data, len, path);
    free(data);
    return rc;
}

int ssp_pulse_parse_json(ssp_pulse_schedule **out, ssp_ctx *ctx, const char *data, size_t len, const char *path)
{
    json_error_t err;
    json_t *root = NULL, *evs, *v;
    ssp_pulse_schedule *s = NULL;
    const char *fmt = NULL, *bias = NULL, *order = NULL;
    json_int_t rows = 0, cols = 0, version = 0;
    double edge = 0, latency = 0;
    int rc;
    *out = NULL;
    if (!(root = json_loadb(data, len, 0, &err))) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: line %d: %s", path, err.line, err.text);
        goto done;
    }
    if (json_unpack_ex(root, &err, 0, "{s:s,s:I,s:I,s:I,s:s,s:s,s:F,s:F,s:o}", "format", &fmt,
                       "version", &version, "rows", &rows, "cols", &cols, "bias", &bias, "order",
                       &order, "edge_s", &edge, "latency_s", &latency, "events", &evs) ||
        strcmp(fmt, "siamspice-schedule") != 0 || version != 1 || !json_is_array(evs) || rows < 0 ||
        cols < 0) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: not a version-1 siamspice schedule (%s)", path, err.text);
        goto done;
    }
    if ((rc = ssp_pulse_schedule_alloc(&s, ctx, (size_t)rows, (size_t)cols))) goto done;
    s->bias = strcmp(bias, "v2") == 0 ? SSP_PULSE_V2 : strcmp(bias, "v3") == 0 ? SSP_PULSE_V3 :
              strcmp(bias, "full") == 0 ? SSP_PULSE_FULL : -1;
    s->order = strcmp(order, "col") == 0 ? SSP_PULSE_BY_COL : SSP_PULSE_BY_ROW;
    if (s->bias < 0) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: unknown bias scheme '%s'", path, bias);
        goto done;
    }
    s->edge = edge;
    s->latency = latency;
    for (size_t k = 0; k < json_array_size(evs); k++) {
        ssp_pulse_event e;
        const char *ph;
        v = json_array_get(evs, k);
        if (json_unpack_ex(v, &err, JSON_STRICT, "{s:F,s:i,s:s,s:i,s:i,s:F,s:F,s:F,s:F,s:F,s:i}",
                           "time_s", &e.t, "tile", &e.tile, "phase", &ph, "row", &e.row, "col",
                           &e.col, "v_row_v", &e.v_row, "v_col_v", &e.v_col, "v_row_unsel_v",
                           &e.v_row_unsel, "v_col_unsel_v", &e.v_col_unsel, "width_s", &e.width,
                           "level", &e.level) ||
            phase_of(ph, &e.phase)) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: event %zu: %s", path, k, err.text);
            goto done;
        }
        if ((rc = ssp_pulse_schedule_add(s, ctx, &e))) goto done;
    }
    *out = s;
    s = NULL;
done:
    ssp_pulse_schedule_free(&s);
    json_decref(root);
    return rc;
}

/* ---- pulse groups of a schedule ---------------------------------------------- */

/* The schedule's pulses as groups (consecutive events with the same time
 * and phase), with the cells' indices in *cells; line voltages from the
 * events. */
typedef struct xgroup {
    pgroup g;
    double ur, uc; /* unselected line voltages */
} xgroup;

static int schedule_groups(const ssp_pulse_schedule *s, ssp_ctx *ctx, xgroup **out, size_t *nout,
                           size_t **cells)
{
    xgroup *g = malloc((s->n ? s->n : 1) * sizeof *g);
    size_t *c = malloc((s->n ? s->n : 1) * sizeof *c), n = 0, nc = 0;
    *out = NULL;
    *cells = NULL;
    if (!g || !c) {
        free(g);
        free(c);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < s->n; k++) {
        const ssp_pulse_event *e = &s->ev[k];
        if (e->phase == SSP_PULSE_READ) continue;
        if (e->row < 0 || e->col < 0 || (size_t)e->row >= s->rows || (size_t)e->col >= s->cols) {
            free(g);
            free(c);
            return ssp_error(ctx, SSP_EFORMAT, "event %zu: cell (%d, %d) outside the %zu x %zu tile",
                             k, e->row, e->col, s->rows, s->cols);
        }
        if (!(n > 0 && g[n - 1].g.t0 == e->t && g[n - 1].g.phase == e->phase)) {
            g[n].g.t0 = e->t;
            g[n].g.amp = e->v_row - e->v_col;
            g[n].g.width = e->width;
            g[n].g.phase = e->phase;
            g[n].g.line = (size_t)e->row;
            g[n].g.first = nc;
            g[n].g.n = 0;
            g[n].ur = e->v_row_unsel;
            g[n].uc = e->v_col_unsel;
            n++;
        }
        c[nc++] = (size_t)e->row * s->cols + (size_t)e->col;
        g[n - 1].g.n++;
    }
    *out = g;
    *nout = n;
    *cells = c;
    return SSP_OK;
}

/* ---- PWL ------------------------------------------------------------------ */

int ssp_pulse_export_pwl(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *dir,
                         const ssp_device *dev, const ssp_pulse_params *p)
{
    size_t R = s->rows, C = s->cols, ng = 0, ncor = 0, *cells = NULL;
    xgroup *xg = NULL;
    pgroup *pg = NULL;
    corner *cor = NULL;
    double *lineV = NULL, tstop;
    ssp_text tx = {0};
    char path[PATH_CAP];
    int rc;

    if (strlen(dir) > PATH_CAP - 64) return ssp_error(ctx, SSP_EINVAL, "directory name too long: %s", dir);
    if ((rc = ssp_file_mkdirs(ctx, dir))) return rc;
    if ((rc = schedule_groups(s, ctx, &xg, &ng, &cells))) return rc;
    pg = malloc((ng ? ng : 1) * sizeof *pg);
    lineV = malloc((ng ? ng : 1) * (R + C) * sizeof *lineV);
    if (!pg || !lineV) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t g = 0; g < ng; g++) {
        double *v = lineV + g * (R + C);
        pg[g] = xg[g].g;
        for (size_t i = 0; i < R; i++) v[i] = xg[g].ur;
        for (size_t j = 0; j < C; j++) v[R + j] = xg[g].uc;
        for (size_t k = 0; k < xg[g].g.n; k++) {
            size_t c = cells[xg[g].g.first + k];
            v[c / C] = xg[g].g.amp; /* selected row at the amplitude, column at 0 V */
            v[R + c % C] = 0;
        }
    }
    if ((rc = pulse_corners(ctx, &dev[0], s->bias, s->edge, pg, ng, &cor, &ncor))) goto done;
    for (size_t l = 0; l < R + C; l++) {
        ssp_text_free(&tx);
        if (l < R)
            ssp_text_printf(&tx, "* word-line driver %zu of a siamspice schedule (t s, V)\nVwl%zu rd%zu 0 PWL(\n", l, l, l);
        else
            ssp_text_printf(&tx, "* bit-line driver %zu of a siamspice schedule (t s, V)\nVbl%zu cd%zu 0 PWL(\n", l - R, l - R, l - R);
        for (size_t k = 0; k < ncor; k++) {
            double v = cor[k].g >= 0 ? lineV[(size_t)cor[k].g * (R + C) + l] * cor[k].shape : 0;
            char nt[SSP_UNITS_FMT_CAP], nv[SSP_UNITS_FMT_CAP];
            ssp_text_printf(&tx, "+ %s %s\n", ssp_units_format_exact(nt, sizeof nt, cor[k].t),
                            ssp_units_format_exact(nv, sizeof nv, v));
        }
        ssp_text_printf(&tx, "+ )\n");
        if ((rc = ssp_text_check(&tx, ctx, "a PWL source"))) goto done;
        snprintf(path, sizeof path, "%s/%s%zu.pwl", dir, l < R ? "wl" : "bl", l < R ? l : l - R);
        if ((rc = ssp_file_write_all(ctx, path, tx.s, tx.len))) goto done;
    }
    /* the deck */
    ssp_text_free(&tx);
    tstop = (ncor ? cor[ncor - 1].t : 0) + s->edge;
    if (s->latency > tstop) tstop = s->latency;
    ssp_text_printf(&tx, "* siamspice tile programming deck: %zu x %zu, bias %s, %zu pulses\n"
                      "* the devices start in the present states; the state of cell (i, j) is v(s<i>_<j>)\n",
                 R, C, ssp_pulse_bias_name(s->bias), ng);
    if ((rc = pulse_tile_netlist(ctx, &tx, dev, R, C, p->r_wire, NULL))) goto done;
    for (size_t i = 0; i < R; i++) ssp_text_printf(&tx, ".include wl%zu.pwl\n", i);
    for (size_t j = 0; j < C; j++) ssp_text_printf(&tx, ".include bl%zu.pwl\n", j);
    {
        char n1[SSP_UNITS_FMT_CAP], n2[SSP_UNITS_FMT_CAP];
        ssp_units_format_exact(n1, sizeof n1, p->tmax_frac * p->width);
        ssp_units_format_exact(n2, sizeof n2, tstop);
        ssp_text_printf(&tx, ".options klu\n.tran %s %s 0 %s uic\n", n1, n2, n1);
    }
    /* `ngspice -b tile.cir` prints each pulsed cell's final state as x_<i>_<j> */
    ssp_text_printf(&tx, "* final state of every pulsed cell, printed by ngspice -b\n");
    for (size_t k = 0; k < s->n; k++) {
        const ssp_pulse_event *e = &s->ev[k];
        size_t q;
        if (e->phase == SSP_PULSE_READ || e->row < 0 || e->col < 0) continue;
        for (q = 0; q < k; q++) /* first pulse of this cell only */
            if (s->ev[q].phase != SSP_PULSE_READ && s->ev[q].row == e->row && s->ev[q].col == e->col) break;
        if (q < k) continue;
        {
            char nt[SSP_UNITS_FMT_CAP];
            ssp_text_printf(&tx, ".meas tran x_%d_%d find v(s%d_%d) at=%s\n", e->row, e->col, e->row, e->col,
                            ssp_units_format_exact(nt, sizeof nt, tstop));
        }
    }
    ssp_text_printf(&tx, ".end\n");
    if ((rc = ssp_text_check(&tx, ctx, "the tile deck"))) goto done;
    snprintf(path, sizeof path, "%s/tile.cir", dir);
    rc = ssp_file_write_all(ctx, path, tx.s, tx.len);
done:
    ssp_text_free(&tx);
    free(xg);
    free(pg);
    free(cells);
    free(cor);
    free(lineV);
    return rc;
}

/* ---- VCD ------------------------------------------------------------------- */

typedef struct vchange {
    long long tick;
    int order; /* 0: falling (applied first at equal times), 1: rising */
    size_t sig;
    int value;
} vchange;

static int cmp_change(const void *a, const void *b)
{
    const vchange *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    if (x->order != y->order) return x->order - y->order;
    return x->sig < y->sig ? -1 : x->sig > y->sig;
}

/* VCD identifier of signal k: base-94 printable characters. */
static void vcd_id(size_t k, char *id)
{
    int n = 0;
    do {
        id[n++] = (char)(33 + k % 94);
        k /= 94;
    } while (k);
    id[n] = 0;
}

int ssp_pulse_export_vcd(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *path)
{
    size_t R = s->rows, C = s->cols, nsig = R + C + 3, n = 0;
    size_t SIG_PHASE = R + C, SIG_PULSE = R + C + 1, SIG_VERIFY = R + C + 2;
    vchange *ch = malloc((4 * s->n + 2) * sizeof *ch);
    ssp_afile *f = NULL;
    FILE *o;
    char id[8];
    int rc;
    if (!ch) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    for (size_t k = 0; k < s->n; k++) {
        const ssp_pulse_event *e = &s->ev[k];
        long long t0 = llround(e->t / VCD_TICK_S);
        long long t1 = llround((e->t + e->width + (e->phase == SSP_PULSE_READ ? 0 : 2 * s->edge)) / VCD_TICK_S);
        int first = k == 0 || s->ev[k - 1].t != e->t || s->ev[k - 1].phase != e->phase;
        if (e->phase == SSP_PULSE_READ) {
            size_t sig = e->row >= 0 ? (size_t)e->row : R + (size_t)e->col;
            ch[n++] = (vchange){t0, 1, sig, 1};
            ch[n++] = (vchange){t1, 0, sig, 0};
            ch[n++] = (vchange){t0, 1, SIG_VERIFY, 1};
            ch[n++] = (vchange){t1, 0, SIG_VERIFY, 0};
            continue;
        }
        ch[n++] = (vchange){t0, 1, (size_t)e->row, 1};
        ch[n++] = (vchange){t1, 0, (size_t)e->row, 0};
        ch[n++] = (vchange){t0, 1, R + (size_t)e->col, 1};
        ch[n++] = (vchange){t1, 0, R + (size_t)e->col, 0};
        if (first) {
            vchange *tmp = realloc(ch, (n + 3 + 4 * (s->n - k)) * sizeof *ch);
            if (!tmp) {
                free(ch);
                return ssp_error(ctx, SSP_ENOMEM, "out of memory");
            }
            ch = tmp;
            ch[n++] = (vchange){t0, 1, SIG_PHASE, e->phase == SSP_PULSE_RESET};
            ch[n++] = (vchange){t0, 1, SIG_PULSE, 1};
            ch[n++] = (vchange){t1, 0, SIG_PULSE, 0};
        }
    }
    qsort(ch, n, sizeof *ch, cmp_change);
    if ((rc = ssp_file_atomic_open(&f, ctx, path))) {
        free(ch);
        return rc;
    }
    o = ssp_file_stream(f);
    fprintf(o, "$date siamspice programming schedule $end\n$version siamspice $end\n"
               "$timescale 1ps $end\n$scope module tile $end\n");
    for (size_t k = 0; k < nsig; k++) {
        vcd_id(k, id);
        if (k < R)
            fprintf(o, "$var wire 1 %s row_sel_%zu $end\n", id, k);
        else if (k < R + C)
            fprintf(o, "$var wire 1 %s col_sel_%zu $end\n", id, k - R);
        else
            fprintf(o, "$var wire 1 %s %s $end\n", id,
                    k == SIG_PHASE ? "phase" : k == SIG_PULSE ? "pulse" : "verify");
    }
    fprintf(o, "$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n");
    for (size_t k = 0; k < nsig; k++) {
        vcd_id(k, id);
        fprintf(o, "0%s\n", id);
    }
    fprintf(o, "$end\n");
    {
        long long last = -1;
        for (size_t k = 0; k < n; k++) {
            if (ch[k].tick != last) {
                if (ch[k].tick > 0 || last >= 0) fprintf(o, "#%lld\n", ch[k].tick);
                last = ch[k].tick;
            }
            vcd_id(ch[k].sig, id);
            fprintf(o, "%d%s\n", ch[k].value, id);
        }
    }
    free(ch);
    return ssp_file_atomic_commit(&f, ctx);
}

int ssp_pulse_export_dir(const ssp_pulse_schedule *s, ssp_ctx *ctx, const char *dir, const ssp_device *start,
                         const ssp_pulse_params *p)
{
    char path[4096 + 32];
    int rc;
    if (strlen(dir) >= 4096) return ssp_error(ctx, SSP_EINVAL, "directory name too long: %.60s...", dir);
    if ((rc = ssp_file_mkdirs(ctx, dir))) return rc;
    snprintf(path, sizeof path, "%s/schedule.csv", dir);
    if ((rc = ssp_pulse_export_csv(s, ctx, path))) return rc;
    snprintf(path, sizeof path, "%s/schedule.json", dir);
    if ((rc = ssp_pulse_export_json(s, ctx, path))) return rc;
    snprintf(path, sizeof path, "%s/schedule.vcd", dir);
    if ((rc = ssp_pulse_export_vcd(s, ctx, path))) return rc;
    if (!start) return SSP_OK;
    snprintf(path, sizeof path, "%s/pwl", dir);
    return ssp_pulse_export_pwl(s, ctx, path, start, p);
}
