/* ssp_ini.c — libinih behind a line reader that counts lines, drops leading
 * whitespace and refuses a line libinih would split, and a handler that
 * refuses duplicate keys and passes each key with its line to the caller.
 * No printing; no global state (libinih's run-time switches are left as
 * they are). */
#include "ssp_ini.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SSP_INI_LINE_MAX + 2 <= INI_MAX_LINE, "SSP_INI_LINE_MAX must fit libinih's line buffer");

struct seen {
    char *name; /* "section\nkey" (owned) */
    int line;   /* where it was given */
};

struct ini_state {
    ssp_ctx *ctx;
    const char *path;
    const char *pos, *end; /* the text not yet handed to inih */
    int line;              /* the line inih has just been given */
    int rc;                /* first failure (SSP_OK: none) */
    int rc_line;           /* its line */
    ssp_ini_fn fn;
    void *payload;
    struct seen *seen;
    size_t nseen, cap;
};

static int fail(struct ini_state *st, int code)
{
    if (!st->rc) {
        st->rc = code;
        st->rc_line = st->line;
    }
    return code;
}

/* fgets-style: the next line, leading blanks dropped; NULL at the end or
 * after a failure (which stops inih). */
static char *reader(char *str, int num, void *stream)
{
    struct ini_state *st = stream;
    const char *nl, *p;
    size_t n, body;
    if (st->rc || st->pos >= st->end) return NULL;
    st->line++;
    nl = memchr(st->pos, '\n', (size_t)(st->end - st->pos));
    n = nl ? (size_t)(nl - st->pos) + 1 : (size_t)(st->end - st->pos);
    body = nl ? n - 1 : n;
    if (body > SSP_INI_LINE_MAX || num < 2 || n > (size_t)num - 1) {
        size_t limit = num >= 2 && (size_t)num - 2 < SSP_INI_LINE_MAX ? (size_t)num - 2 : SSP_INI_LINE_MAX;
        ssp_error(st->ctx, SSP_ECONFIG,
                  "%s:%d: line of %zu characters; lines of at most %zu are read (libinih's line buffer): "
                  "shorten it (split a long comment over several lines)",
                  st->path, st->line, body, limit);
        fail(st, SSP_ECONFIG);
        return NULL;
    }
    p = st->pos;
    st->pos += n;
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    memcpy(str, p, n);
    str[n] = '\0';
    return str;
}

static int remember(struct ini_state *st, const char *section, const char *key)
{
    size_t ls = strlen(section), lk = strlen(key);
    char *name;
    for (size_t i = 0; i < st->nseen; i++) {
        const char *s = st->seen[i].name;
        if (strncmp(s, section, ls) == 0 && s[ls] == '\n' && strcmp(s + ls + 1, key) == 0)
            return ssp_error(st->ctx, SSP_ECONFIG, "%s:%d: [%s] %s given twice (first on line %d)", st->path,
                             st->line, section, key, st->seen[i].line);
    }
    if (st->nseen == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 64;
        struct seen *s = realloc(st->seen, cap * sizeof *s);
        if (!s) return ssp_error(st->ctx, SSP_ENOMEM, "%s: out of memory while reading", st->path);
        st->seen = s;
        st->cap = cap;
    }
    name = malloc(ls + lk + 2);
    if (!name) return ssp_error(st->ctx, SSP_ENOMEM, "%s: out of memory while reading", st->path);
    memcpy(name, section, ls);
    name[ls] = '\n';
    memcpy(name + ls + 1, key, lk + 1);
    st->seen[st->nseen].name = name;
    st->seen[st->nseen].line = st->line;
    st->nseen++;
    return SSP_OK;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    struct ini_state *st = user;
    int rc;
    if (st->rc) return 1; /* the first failure is the one reported */
    rc = remember(st, section, key);
    if (rc) {
        fail(st, rc);
        return 0;
    }
    rc = st->fn(st->payload, st->line, section, key, value);
    if (rc) {
        ssp_error_prefix(st->ctx, "%s:%d: ", st->path, st->line);
        fail(st, rc);
        return 0;
    }
    return 1;
}

int ssp_ini_parse(ssp_ctx *ctx, const char *path, const char *text, size_t len, ssp_ini_fn fn, void *payload)
{
    struct ini_state st;
    const char *nul;
    int r;
    memset(&st, 0, sizeof st);
    st.ctx = ctx;
    st.path = path ? path : "(text)";
    st.pos = text;
    st.end = text + len;
    st.fn = fn;
    st.payload = payload;
    nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *q = text; q < nul; q++) line += *q == '\n';
        return ssp_error(ctx, SSP_ECONFIG, "%s:%d: contains a NUL byte; not an INI file", st.path, line);
    }
    r = ini_parse_stream(reader, &st, handler, &st);
    for (size_t i = 0; i < st.nseen; i++) free(st.seen[i].name);
    free(st.seen);
    if (r > 0 && (!st.rc || r < st.rc_line))
        return ssp_error(ctx, SSP_ECONFIG, "%s:%d: not valid INI syntax (a [section], a key = value or a ; comment)",
                         st.path, r);
    if (st.rc) return st.rc;
    if (r == -2) return ssp_error(ctx, SSP_ENOMEM, "%s: out of memory while reading", st.path);
    if (r != 0) return ssp_error(ctx, SSP_ECONFIG, "%s: not read (libinih status %d)", st.path, r);
    return SSP_OK;
}
