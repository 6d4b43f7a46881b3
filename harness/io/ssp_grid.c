/* ssp_grid.c — the sweep grid parser (format in ssp_grid.h).
 *
 * Reads only the bytes it is given, line by line; every string it keeps is
 * a copy. It knows nothing of configuration keys or of the jobs' runs. */
#include "ssp_grid.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gkey {
    char name[SSP_GRID_TEXT_MAX]; /* "section.key" */
    char **v;                     /* values (owned) */
    size_t nv;
    size_t line;                  /* line of the grid file that gives it */
};

struct ssp_grid {
    struct gkey k[SSP_GRID_MAX_KEYS];
    size_t nk;
    size_t njobs;
};

void ssp_grid_free(ssp_grid **pg)
{
    ssp_grid *g;
    if (!pg || !*pg) return;
    g = *pg;
    for (size_t i = 0; i < g->nk; i++) {
        for (size_t j = 0; j < g->k[i].nv; j++) free(g->k[i].v[j]);
        free(g->k[i].v);
    }
    free(g);
    *pg = NULL;
}

/* [s, e) without blanks at either end. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s)) (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1])) (*e)--;
}

static int is_name_char(int c) { return isalnum(c) || c == '_'; }

static int add_value(ssp_grid *g, ssp_ctx *ctx, const char *where, struct gkey *k, const char *s, size_t n)
{
    char **v;
    if (k->nv == SSP_GRID_MAX_VALUES)
        return ssp_error(ctx, SSP_EFORMAT, "%s: %s has more than %d values", where, k->name, SSP_GRID_MAX_VALUES);
    for (size_t i = 0; i < k->nv; i++)
        if (strlen(k->v[i]) == n && memcmp(k->v[i], s, n) == 0)
            return ssp_error(ctx, SSP_EFORMAT, "%s: %s lists the value '%.*s' twice", where, k->name, (int)n, s);
    v = realloc(k->v, (k->nv + 1) * sizeof *v);
    if (!v) return ssp_error(ctx, SSP_ENOMEM, "out of memory parsing a sweep grid");
    k->v = v;
    v[k->nv] = malloc(n + 1);
    if (!v[k->nv]) return ssp_error(ctx, SSP_ENOMEM, "out of memory parsing a sweep grid");
    memcpy(v[k->nv], s, n);
    v[k->nv][n] = '\0';
    k->nv++;
    (void)g;
    return SSP_OK;
}

/* "a..b" with integers a <= b: 1 and the ends; 0 when not a range. */
static int as_range(const char *s, size_t n, long *a, long *b)
{
    char tmp[SSP_GRID_TEXT_MAX];
    char *dots, *end;
    if (n >= sizeof tmp) return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    dots = strstr(tmp, "..");
    if (!dots || dots == tmp) return 0;
    *dots = '\0';
    errno = 0;
    *a = strtol(tmp, &end, 10);
    if (*end || errno) return 0;
    *b = strtol(dots + 2, &end, 10);
    if (end == dots + 2 || *end || errno) return 0;
    return 1;
}

/* One item of a value list, a literal or a range. */
static int add_item(ssp_grid *g, ssp_ctx *ctx, const char *where, struct gkey *k, const char *s, const char *e)
{
    long a, b;
    trim(&s, &e);
    if (s == e) return ssp_error(ctx, SSP_EFORMAT, "%s: %s has an empty value", where, k->name);
    if ((size_t)(e - s) >= SSP_GRID_TEXT_MAX)
        return ssp_error(ctx, SSP_EFORMAT, "%s: a value of %s is longer than %d bytes", where, k->name,
                         SSP_GRID_TEXT_MAX - 1);
    for (const char *c = s; c < e; c++)
        if (!isprint((unsigned char)*c))
            return ssp_error(ctx, SSP_EFORMAT, "%s: a value of %s holds the non-printable byte 0x%02x", where,
                             k->name, (unsigned char)*c);
    if (as_range(s, (size_t)(e - s), &a, &b)) {
        if (b < a)
            return ssp_error(ctx, SSP_EFORMAT, "%s: range %.*s of %s runs backwards", where, (int)(e - s), s, k->name);
        if (b - a >= SSP_GRID_MAX_VALUES)
            return ssp_error(ctx, SSP_EFORMAT, "%s: range %.*s of %s has more than %d values", where, (int)(e - s), s,
                             k->name, SSP_GRID_MAX_VALUES);
        for (long x = a; x <= b; x++) {
            char num[32];
            int n = snprintf(num, sizeof num, "%ld", x), rc = add_value(g, ctx, where, k, num, (size_t)n);
            if (rc) return rc;
        }
        return SSP_OK;
    }
    return add_value(g, ctx, where, k, s, (size_t)(e - s));
}

/* One "key = values" line, [s, e) trimmed, with the current section. */
static int parse_assignment(ssp_grid *g, ssp_ctx *ctx, const char *where, size_t line, const char *section,
                            const char *s, const char *e)
{
    const char *eq = memchr(s, '=', (size_t)(e - s)), *ks = s, *ke, *item;
    struct gkey *k;
    size_t dots = 0, i;
    int n, rc;
    if (!eq) return ssp_error(ctx, SSP_EFORMAT, "%s: expected 'section.key = values' or '[section]'", where);
    ke = eq;
    trim(&ks, &ke);
    if (ks == ke) return ssp_error(ctx, SSP_EFORMAT, "%s: no key before '='", where);
    for (const char *c = ks; c < ke; c++) {
        if (*c == '.') {
            dots++;
            if (c == ks || c + 1 == ke || c[1] == '.')
                return ssp_error(ctx, SSP_EFORMAT, "%s: key '%.*s' is not section.key", where, (int)(ke - ks), ks);
        } else if (!is_name_char((unsigned char)*c)) {
            return ssp_error(ctx, SSP_EFORMAT, "%s: key '%.*s' holds '%c' (letters, digits, '_' and one '.')", where,
                             (int)(ke - ks), ks, isprint((unsigned char)*c) ? *c : '?');
        }
    }
    if (dots > 1 || (dots == 1 && section[0]) || (dots == 0 && !section[0]))
        return ssp_error(ctx, SSP_EFORMAT, "%s: key '%.*s' must be section.key (or a plain key under [section])",
                         where, (int)(ke - ks), ks);
    if (g->nk == SSP_GRID_MAX_KEYS)
        return ssp_error(ctx, SSP_EFORMAT, "%s: more than %d keys", where, SSP_GRID_MAX_KEYS);
    k = &g->k[g->nk];
    memset(k, 0, sizeof *k);
    n = dots ? snprintf(k->name, sizeof k->name, "%.*s", (int)(ke - ks), ks)
             : snprintf(k->name, sizeof k->name, "%s.%.*s", section, (int)(ke - ks), ks);
    if (n < 0 || (size_t)n >= sizeof k->name)
        return ssp_error(ctx, SSP_EFORMAT, "%s: key longer than %d bytes", where, SSP_GRID_TEXT_MAX - 1);
    for (i = 0; i < g->nk; i++)
        if (strcmp(g->k[i].name, k->name) == 0)
            return ssp_error(ctx, SSP_EFORMAT, "%s: key %s given twice (first on line %zu)", where, k->name,
                             g->k[i].line);
    k->line = line;
    g->nk++; /* from here on the grid owns k's values */
    item = eq + 1;
    for (const char *c = eq + 1;; c++) {
        if (c == e || *c == ',') {
            rc = add_item(g, ctx, where, k, item, c);
            if (rc) return rc;
            if (c == e) break;
            item = c + 1;
        }
    }
    if (g->njobs > SSP_GRID_MAX_JOBS / k->nv)
        return ssp_error(ctx, SSP_EFORMAT, "%s: the grid has more than %d combinations", where, SSP_GRID_MAX_JOBS);
    g->njobs *= k->nv;
    return SSP_OK;
}

/* Where a comment starts in [s, e): ';' or '#' at the start or after a blank. */
static const char *comment_start(const char *s, const char *e)
{
    for (const char *c = s; c < e; c++)
        if ((*c == ';' || *c == '#') && (c == s || isspace((unsigned char)c[-1]))) return c;
    return e;
}

int ssp_grid_parse(ssp_grid **out, ssp_ctx *ctx, const char *buf, size_t len, const char *name)
{
    ssp_grid *g;
    char section[SSP_GRID_TEXT_MAX] = "", where[SSP_GRID_TEXT_MAX + 32];
    size_t line = 0, off = 0;
    int rc = SSP_OK;
    *out = NULL;
    if (!name) name = "grid";
    g = calloc(1, sizeof *g);
    if (!g) return ssp_error(ctx, SSP_ENOMEM, "out of memory parsing a sweep grid");
    g->njobs = 1;
    while (off < len && !rc) {
        const char *s = buf + off, *nl = memchr(s, '\n', len - off), *e = nl ? nl : buf + len;
        off = (size_t)(e - buf) + (nl ? 1 : 0);
        line++;
        snprintf(where, sizeof where, "%.*s:%zu", SSP_GRID_TEXT_MAX, name, line);
        if (memchr(s, '\0', (size_t)(e - s))) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: a NUL byte", where);
            break;
        }
        e = comment_start(s, e);
        trim(&s, &e);
        if (s == e) continue;
        if (*s == '[') {
            const char *c;
            if (e[-1] != ']' || e - s < 3) {
                rc = ssp_error(ctx, SSP_EFORMAT, "%s: a section is '[name]'", where);
                break;
            }
            for (c = s + 1; c < e - 1 && is_name_char((unsigned char)*c); c++) {
            }
            if (c != e - 1 || (size_t)(e - s - 2) >= sizeof section) {
                rc = ssp_error(ctx, SSP_EFORMAT, "%s: section name '%.*s' (letters, digits, '_')", where,
                               (int)(e - s), s);
                break;
            }
            snprintf(section, sizeof section, "%.*s", (int)(e - s - 2), s + 1);
            continue;
        }
        rc = parse_assignment(g, ctx, where, line, section, s, e);
    }
    if (!rc && g->nk == 0) rc = ssp_error(ctx, SSP_EFORMAT, "%s: the grid names no key", name);
    if (rc) {
        ssp_grid_free(&g);
        return rc;
    }
    *out = g;
    return SSP_OK;
}

size_t ssp_grid_nkeys(const ssp_grid *g) { return g->nk; }
const char *ssp_grid_key(const ssp_grid *g, size_t k) { return g->k[k].name; }
size_t ssp_grid_nvalues(const ssp_grid *g, size_t k) { return g->k[k].nv; }
const char *ssp_grid_value(const ssp_grid *g, size_t k, size_t v) { return g->k[k].v[v]; }
size_t ssp_grid_njobs(const ssp_grid *g) { return g->njobs; }

size_t ssp_grid_job_value(const ssp_grid *g, size_t job, size_t k)
{
    for (size_t i = g->nk; i-- > k + 1;) job /= g->k[i].nv;
    return job % g->k[k].nv;
}
