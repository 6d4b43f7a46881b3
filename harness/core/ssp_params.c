/* ssp_params.c — reading, checking, overriding and writing the fields of
 * parameter tables (ssp_params.h). The INI text goes through ssp_ini, the
 * numbers through ssp_units; this file adds the table lookup, the kinds,
 * the ranges and the one message form. No printing but to the stream
 * ssp_params_write is handed, no state between calls. */
#include "ssp_params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssp_ini.h"
#include "ssp_units.h"

enum {
    WHY_MAX = 256,    /* bytes of a reason */
    NAME_MAX_ = 64,   /* bytes of a section or key in an override */
    DOC_LINE = 100    /* characters of a written description line ("; " included) */
};

/* Largest magnitude a WHOLE value may have: every integer up to it is a
 * double and a long (2^53). */
#define WHOLE_MAX 9007199254740992.0

static void *field_of(const ssp_param_table *t, size_t i)
{
    return (char *)t->base + (t->stride ? i * t->stride : t->param[i].offset);
}

const ssp_param *ssp_params_find(const ssp_param_table *tables, size_t ntables, const char *section,
                                 const char *key, size_t *table, size_t *index)
{
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < tables[t].n; i++) {
            const ssp_param *p = &tables[t].param[i];
            if (strcmp(p->section, section) == 0 && strcmp(p->key, key) == 0) {
                if (table) *table = t;
                if (index) *index = i;
                return p;
            }
        }
    return NULL;
}

static int section_known(const ssp_param_table *tables, size_t ntables, const char *section)
{
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < tables[t].n; i++)
            if (strcmp(tables[t].param[i].section, section) == 0) return 1;
    return 0;
}

void ssp_params_defaults(const ssp_param_table *tables, size_t ntables)
{
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < tables[t].n; i++) {
            const ssp_param *p = &tables[t].param[i];
            void *f = field_of(&tables[t], i);
            int dbl = p->kind == SSP_PARAM_REAL || (p->flags & SSP_PARAM_IN_DOUBLE);
            if (p->kind != SSP_PARAM_REAL && p->kind != SSP_PARAM_WHOLE && p->kind != SSP_PARAM_CHOICE) continue;
            if (dbl)
                *(double *)f = p->def;
            else if (p->kind == SSP_PARAM_WHOLE)
                *(long *)f = (long)p->def;
            else
                *(int *)f = (int)p->def;
        }
}

const char *ssp_params_choice(const ssp_param *p, int idx, size_t *len)
{
    const char *s = p->choices;
    for (int k = 0; s && k < idx; k++) {
        s = strchr(s, '|');
        if (s) s++;
    }
    if (!s || idx < 0) {
        if (len) *len = 1;
        return "?";
    }
    if (len) *len = strchr(s, '|') ? (size_t)(strchr(s, '|') - s) : strlen(s);
    return s;
}

size_t ssp_params_text_room(const ssp_param *p)
{
    size_t room = SSP_INI_LINE_MAX - strlen(p->key) - 3;
    return p->cap && room > p->cap - 1 ? p->cap - 1 : room;
}

/* The field's value as written in the entry's unit. */
static double shown(const ssp_param *p, double v) { return p->scale != 0 ? v / p->scale : v; }

/* Range check of a field value; 0, or -1 with a reason. */
static int check_range(const ssp_param *p, double v, char *why, size_t n)
{
    const char *u = p->kind == SSP_PARAM_REAL ? p->unit : "";
    const char *sp = *u ? " " : "";
    int lo_bad = (p->flags & SSP_PARAM_OPEN_LO) ? !(v > p->lo) : !(v >= p->lo);
    int hi_bad = (p->flags & SSP_PARAM_OPEN_HI) ? !(v < p->hi) : !(v <= p->hi);
    char range[96] = "";
    if (isfinite(p->lo) && isfinite(p->hi))
        snprintf(range, sizeof range, " (range %g..%g%s%s)", shown(p, p->lo), shown(p, p->hi), sp, u);
    if (lo_bad || hi_bad) {
        const char *op = lo_bad ? ((p->flags & SSP_PARAM_OPEN_LO) ? ">" : ">=")
                                : ((p->flags & SSP_PARAM_OPEN_HI) ? "<" : "<=");
        snprintf(why, n, "must be %s %g%s%s%s, got %g%s%s", op, shown(p, lo_bad ? p->lo : p->hi), sp, u, range,
                 shown(p, v), sp, u);
        return -1;
    }
    if ((p->flags & SSP_PARAM_NONZERO) && v == 0) {
        snprintf(why, n, "must not be 0, got 0%s%s", sp, u);
        return -1;
    }
    return 0;
}

/* A whole number (strtod syntax, no fraction, no unit); 0 or -1. */
static int read_whole(const char *text, double *out)
{
    char *end = NULL;
    double v;
    errno = 0;
    v = strtod(text, &end);
    if (end == text || errno == ERANGE || !isfinite(v)) return -1;
    while (*end == ' ' || *end == '\t') end++;
    if (*end || v != floor(v) || fabs(v) > WHOLE_MAX) return -1;
    *out = v;
    return 0;
}

int ssp_params_split(char *buf, char **toks, int max)
{
    int n = 0;
    char *p = buf;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0') return 0;
    for (;;) {
        char *comma = strchr(p, ','), *e;
        if (comma) *comma = '\0';
        while (*p == ' ' || *p == '\t') p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (*p == '\0') return -1 - n;
        if (n == max) return -1 - max;
        toks[n++] = p;
        if (!comma) return n;
        p = comma + 1;
    }
}

/* Read value into the field; 0, or -1 with a reason. */
static int set_value(const ssp_param *p, void *field, const char *value, char *why, size_t wl)
{
    switch (p->kind) {
    case SSP_PARAM_TEXT:
        if (strlen(value) > ssp_params_text_room(p)) {
            snprintf(why, wl, "%zu characters; at most %zu fit (in its field, and on its line 'key = value' when "
                     "written back: libinih reads lines of at most %d characters)", strlen(value),
                     ssp_params_text_room(p), SSP_INI_LINE_MAX);
            return -1;
        }
        snprintf(field, p->cap, "%s", value);
        return 0;
    case SSP_PARAM_REAL: {
        double v;
        unsigned uf = (p->flags & SSP_PARAM_UNIT_REQUIRED) ? SSP_UNITS_REQUIRED : 0;
        if (ssp_units_read(value, p->unit, uf, &v, why, (unsigned)wl)) return -1;
        if (p->scale != 0) v *= p->scale;
        if (check_range(p, v, why, wl)) return -1;
        *(double *)field = v;
        return 0;
    }
    case SSP_PARAM_WHOLE: {
        double v;
        if (read_whole(value, &v)) {
            snprintf(why, wl, "'%s' is not a whole number", value);
            return -1;
        }
        if (check_range(p, v, why, wl)) return -1;
        if (p->flags & SSP_PARAM_IN_DOUBLE)
            *(double *)field = v;
        else
            *(long *)field = (long)v;
        return 0;
    }
    case SSP_PARAM_BOOL:
        if (!strcasecmp(value, "1") || !strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcasecmp(value, "on"))
            *(int *)field = 1;
        else if (!strcasecmp(value, "0") || !strcasecmp(value, "no") || !strcasecmp(value, "false") ||
                 !strcasecmp(value, "off"))
            *(int *)field = 0;
        else {
            snprintf(why, wl, "'%s' is not a boolean (yes/no)", value);
            return -1;
        }
        return 0;
    case SSP_PARAM_CHOICE: {
        const char *w = p->choices;
        size_t n = strlen(value);
        for (int idx = 0; w && *w; idx++) {
            const char *bar = strchr(w, '|');
            size_t len = bar ? (size_t)(bar - w) : strlen(w);
            if (len == n && strncmp(w, value, n) == 0) {
                if (p->flags & SSP_PARAM_IN_DOUBLE)
                    *(double *)field = idx;
                else
                    *(int *)field = idx;
                return 0;
            }
            w = bar ? bar + 1 : NULL;
        }
        snprintf(why, wl, "'%s' is not one of %s", value, p->choices);
        return -1;
    }
    case SSP_PARAM_LIST: {
        enum { LIST_MAX = 64 };
        char buf[512], *toks[LIST_MAX];
        long vals[LIST_MAX];
        int max = p->cap < LIST_MAX ? (int)p->cap : LIST_MAX, nt;
        if (strlen(value) >= sizeof buf) {
            snprintf(why, wl, "a list of %zu characters", strlen(value));
            return -1;
        }
        snprintf(buf, sizeof buf, "%s", value);
        nt = ssp_params_split(buf, toks, max);
        if (nt == -1 - max) {
            snprintf(why, wl, "more than %d entries", max);
            return -1;
        }
        if (nt < 0) {
            snprintf(why, wl, "element %d of '%s' is empty", -nt, value);
            return -1;
        }
        if (nt == 0) {
            snprintf(why, wl, "empty list");
            return -1;
        }
        for (int k = 0; k < nt; k++) {
            double v;
            if (read_whole(toks[k], &v) || v < p->lo || v > p->hi) {
                snprintf(why, wl, "'%s' is not a whole number in %g..%g", toks[k], p->lo, p->hi);
                return -1;
            }
            vals[k] = (long)v;
        }
        memcpy(field, vals, (size_t)nt * sizeof vals[0]);
        *(long *)(void *)((char *)field - p->offset + p->count_offset) = nt;
        return 0;
    }
    }
    snprintf(why, wl, "internal: unknown parameter kind %d", p->kind);
    return -1;
}

int ssp_params_set(const ssp_param *p, void *field, ssp_ctx *ctx, const char *value)
{
    char why[WHY_MAX];
    if (set_value(p, field, value, why, sizeof why)) return ssp_error(ctx, SSP_ECONFIG, "%s", why);
    return SSP_OK;
}

struct read_state {
    ssp_ctx *ctx;
    const ssp_param_table *tables;
    size_t ntables;
    const char *owner;
    unsigned flags;
    unsigned char **given; /* per table, per entry (NULL: nothing required) */
};

static int on_key(void *payload, int line, const char *section, const char *key, const char *value)
{
    struct read_state *st = payload;
    const char *ow = st->owner ? " for " : "", *owner = st->owner ? st->owner : "";
    size_t t, i;
    const ssp_param *p = ssp_params_find(st->tables, st->ntables, section, key, &t, &i);
    (void)line;
    if (!p || (p->flags & SSP_PARAM_DERIVED)) {
        if (st->flags & SSP_PARAMS_SKIP_UNKNOWN) return SSP_OK;
        if (!section_known(st->tables, st->ntables, section))
            return ssp_error(st->ctx, SSP_ECONFIG, "unknown section [%s]%s%s", section, ow, owner);
        return ssp_error(st->ctx, SSP_ECONFIG, "unknown key '%s' in [%s]%s%s", key, section, ow, owner);
    }
    if (ssp_params_set(p, field_of(&st->tables[t], i), st->ctx, value)) {
        ssp_error_prefix(st->ctx, "%s.%s: ", section, key);
        return SSP_ECONFIG;
    }
    if (st->given) st->given[t][i] = 1;
    return SSP_OK;
}

int ssp_params_read(ssp_ctx *ctx, const char *path, const char *text, size_t len,
                    const ssp_param_table *tables, size_t ntables, const char *owner, unsigned flags)
{
    struct read_state st = {ctx, tables, ntables, owner, flags, NULL};
    size_t total = 0, t, i;
    int required = 0, rc;
    if (!path) path = "(text)";
    for (t = 0; t < ntables; t++) {
        total += tables[t].n;
        for (i = 0; i < tables[t].n; i++) required |= (tables[t].param[i].flags & SSP_PARAM_REQUIRED) != 0;
    }
    if (required) {
        /* one block: the row pointers, then the flags */
        unsigned char *block = calloc(1, ntables * sizeof *st.given + total);
        if (!block) return ssp_error(ctx, SSP_ENOMEM, "%s: out of memory while reading", path);
        st.given = (unsigned char **)(void *)block;
        block += ntables * sizeof *st.given;
        for (t = 0; t < ntables; t++, block += tables[t - 1].n) st.given[t] = block;
    }
    rc = ssp_ini_parse(ctx, path, text, len, on_key, &st);
    for (t = 0; !rc && required && t < ntables; t++)
        for (i = 0; !rc && i < tables[t].n; i++) {
            const ssp_param *p = &tables[t].param[i];
            if ((p->flags & SSP_PARAM_REQUIRED) && !st.given[t][i])
                rc = ssp_error(ctx, SSP_ECONFIG, "%s: missing key %s in [%s] (%s)", path, p->key, p->section,
                               p->doc);
        }
    free(st.given);
    return rc;
}

int ssp_params_override(ssp_ctx *ctx, const ssp_param_table *tables, size_t ntables, const char *assignment)
{
    char sec[NAME_MAX_], key[NAME_MAX_];
    const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
    const ssp_param *p;
    size_t t, i;
    if (!dot || !eq || dot > eq || (size_t)(dot - assignment) >= sizeof sec || (size_t)(eq - dot - 1) >= sizeof key)
        return ssp_error(ctx, SSP_ECONFIG, "override '%s' is not section.key=value", assignment);
    memcpy(sec, assignment, (size_t)(dot - assignment));
    sec[dot - assignment] = '\0';
    memcpy(key, dot + 1, (size_t)(eq - dot - 1));
    key[eq - dot - 1] = '\0';
    p = ssp_params_find(tables, ntables, sec, key, &t, &i);
    if (!p || (p->flags & SSP_PARAM_DERIVED))
        return ssp_error(ctx, SSP_ECONFIG, "override '%s': unknown key %s.%s", assignment, sec, key);
    if (ssp_params_set(p, field_of(&tables[t], i), ctx, eq + 1)) {
        ssp_error_prefix(ctx, "override %s.%s: ", sec, key);
        return SSP_ECONFIG;
    }
    return SSP_OK;
}

/* A description as "; " comment lines of at most DOC_LINE characters,
 * broken at spaces (a written file is read back by libinih, whose lines
 * are at most SSP_INI_LINE_MAX long). */
static void write_doc(FILE *out, const char *doc)
{
    while (doc && *doc) {
        size_t n = strlen(doc), cut = n;
        if (n > DOC_LINE - 2) {
            cut = DOC_LINE - 2;
            while (cut > 0 && doc[cut] != ' ') cut--;
            if (cut == 0) cut = DOC_LINE - 2;
        }
        fprintf(out, "; %.*s\n", (int)cut, doc);
        doc += cut;
        while (*doc == ' ') doc++;
    }
}

int ssp_params_write(const ssp_param_table *tables, size_t ntables, FILE *out)
{
    const char *section = "";
    int first = 1;
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < tables[t].n; i++) {
            const ssp_param *p = &tables[t].param[i];
            const void *f = field_of(&tables[t], i);
            int dbl = p->flags & SSP_PARAM_IN_DOUBLE;
            if (p->flags & SSP_PARAM_DERIVED) continue;
            if (strcmp(section, p->section) != 0) {
                fprintf(out, "%s[%s]\n", first ? "" : "\n", p->section);
                section = p->section;
            }
            first = 0;
            write_doc(out, p->doc);
            fprintf(out, "%s = ", p->key);
            switch (p->kind) {
            case SSP_PARAM_TEXT: fprintf(out, "%s", (const char *)f); break;
            case SSP_PARAM_WHOLE:
                if (dbl)
                    fprintf(out, "%.17g", *(const double *)f);
                else
                    fprintf(out, "%ld", *(const long *)f);
                break;
            case SSP_PARAM_REAL:
                fprintf(out, "%.17g%s%s", shown(p, *(const double *)f), p->unit[0] ? " " : "", p->unit);
                break;
            case SSP_PARAM_BOOL: fprintf(out, "%s", *(const int *)f ? "yes" : "no"); break;
            case SSP_PARAM_CHOICE: {
                size_t len;
                const char *w = ssp_params_choice(p, dbl ? (int)*(const double *)f : *(const int *)f, &len);
                fprintf(out, "%.*s", (int)len, w);
                break;
            }
            case SSP_PARAM_LIST: {
                long n = *(const long *)(const void *)((const char *)f - p->offset + p->count_offset);
                for (long k = 0; k < n; k++) fprintf(out, "%s%ld", k ? "," : "", ((const long *)f)[k]);
                break;
            }
            }
            fputc('\n', out);
        }
    return ferror(out) ? SSP_EIO : SSP_OK;
}
