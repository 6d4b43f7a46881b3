/* cmd_opts.c — the option parser and help generator of the siamspice
 * commands (cmd_opts.h). It converts and range-checks values and writes
 * the targets; it must not know any command's options nor decide which go
 * together. Numbers with units go through ssp_units_parse, the unit parser
 * of the configuration files, so a value means the same on the command
 * line and in a file. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opts.h"
#include "ssp_units.h"

/* Room for a value with its unit appended (50n -> 50ns) and for the
 * generated help's option label. */
enum { UNIT_TEXT_CAP = 128, LABEL_CAP = 96 };
/* Column of the help text in the option list, and the widest label that
 * still shares its line with the text. */
enum { HELP_MIN_COL = 16, HELP_MAX_COL = 28 };

static int is_positional(const ssp_cmd_opt *o) { return !o->name && !o->short_name; }

/* The entry for argument a ("--name" of length n, or "-x"); NULL if none. */
static ssp_cmd_opt *find(ssp_cmd_spec *s, const char *a, size_t n)
{
    for (size_t k = 0; k < s->nopts; k++) {
        ssp_cmd_opt *o = &s->opts[k];
        if (o->name && strlen(o->name) == n && strncmp(o->name, a, n) == 0) return o;
        if (o->short_name && n == 2 && a[0] == '-' && a[1] == o->short_name) return o;
    }
    return NULL;
}

static int bad(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return SSP_CMD_OPTS_BAD;
}

/* 1 when v satisfies the entry's range flags. */
static int in_range(const ssp_cmd_opt *o, double v)
{
    if ((o->flags & SSP_CMD_NONZERO) && v == 0) return 0;
    if (!(o->flags & SSP_CMD_RANGE)) return 1;
    if ((o->flags & SSP_CMD_LO_OPEN) ? !(v > o->lo) : !(v >= o->lo)) return 0;
    return v <= o->hi;
}

/* What the range asks for, as "a whole number in 1..100", "a value > 0". */
static void describe_range(const ssp_cmd_opt *o, char *buf, size_t cap)
{
    int whole = o->kind == SSP_CMD_LONG || o->kind == SSP_CMD_SIZE;
    const char *what = whole ? "a whole number" : "a value";
    const char *nz = (o->flags & SSP_CMD_NONZERO) ? "non-zero " : "";
    const char *unit = o->kind == SSP_CMD_UNIT && o->unit && o->unit[0] ? o->unit : NULL;
    char u[32] = "";
    if (unit) snprintf(u, sizeof u, " (in %s)", unit);
    if (!(o->flags & SSP_CMD_RANGE))
        snprintf(buf, cap, "want a %s%s%s", nz, what + 2, u);
    else if (isinf(o->hi))
        snprintf(buf, cap, "want %s%s %s %.10g%s", nz[0] ? "a non-zero " : "", nz[0] ? what + 2 : what,
                 (o->flags & SSP_CMD_LO_OPEN) ? ">" : ">=", o->lo, u);
    else if (whole)
        snprintf(buf, cap, "want %s in %.10g..%.10g%s", what, o->lo, o->hi, u);
    else
        snprintf(buf, cap, "want %s%s in %s%.10g, %.10g]%s", nz[0] ? "a non-zero " : "", nz[0] ? what + 2 : what,
                 (o->flags & SSP_CMD_LO_OPEN) ? "(" : "[", o->lo, o->hi, u);
}

/* 1 when word is one of the '|'-separated choices. */
static int is_choice(const char *choices, const char *word)
{
    size_t n = strlen(word);
    for (const char *c = choices; c && *c;) {
        size_t len = strcspn(c, "|");
        if (len == n && n > 0 && strncmp(c, word, n) == 0) return 1;
        c += len + (c[len] == '|');
    }
    return 0;
}

/* The choices as "a, b or c". */
static void describe_choices(const char *choices, char *buf, size_t cap)
{
    size_t used = 0, total = 0, k = 0;
    for (const char *c = choices; *c; c++) total += *c == '|';
    buf[0] = '\0';
    for (const char *c = choices; *c && used < cap; k++) {
        size_t len = strcspn(c, "|");
        int w = snprintf(buf + used, cap - used, "%s%.*s", k == 0 ? "" : k == total ? " or " : ", ", (int)len, c);
        if (w < 0) break;
        used += (size_t)w;
        c += len + (c[len] == '|');
    }
}

/* Convert v for option o (spelt as typed: spelt) into its target. */
static int store(ssp_cmd_opt *o, const char *spelt, const char *v, char *msg, size_t cap)
{
    char *end = NULL, why[160];
    double d = 0;
    switch (o->kind) {
    case SSP_CMD_STRING:
        *(const char **)o->target = v;
        return SSP_CMD_OPTS_OK;
    case SSP_CMD_CHOICE:
        if (!is_choice(o->choices, v)) {
            describe_choices(o->choices, why, sizeof why);
            return bad(msg, cap, "%s '%s': want %s", spelt, v, why);
        }
        *(const char **)o->target = v;
        return SSP_CMD_OPTS_OK;
    case SSP_CMD_LIST: {
        ssp_cmd_list *l = o->target;
        if (l->n == SSP_CMD_LIST_MAX) return bad(msg, cap, "more than %d %s options", SSP_CMD_LIST_MAX, spelt);
        l->v[l->n++] = v;
        return SSP_CMD_OPTS_OK;
    }
    case SSP_CMD_LONG: {
        long x;
        errno = 0;
        x = v[0] && !isspace((unsigned char)v[0]) ? strtol(v, &end, 10) : 0;
        if (!end || *end || errno) return bad(msg, cap, "%s '%s': not a whole number", spelt, v);
        d = (double)x;
        if (!in_range(o, d)) break;
        *(long *)o->target = x;
        return SSP_CMD_OPTS_OK;
    }
    case SSP_CMD_SIZE: {
        unsigned long long x;
        errno = 0;
        x = isdigit((unsigned char)v[0]) ? strtoull(v, &end, 10) : 0;
        if (!end || *end || errno || x > (unsigned long long)(size_t)-1)
            return bad(msg, cap, "%s '%s': not a whole number >= 0", spelt, v);
        d = (double)x;
        if (!in_range(o, d)) break;
        *(size_t *)o->target = (size_t)x;
        return SSP_CMD_OPTS_OK;
    }
    case SSP_CMD_DOUBLE:
        errno = 0;
        d = v[0] && !isspace((unsigned char)v[0]) ? strtod(v, &end) : 0;
        if (!end || *end || errno == ERANGE || !isfinite(d)) return bad(msg, cap, "%s '%s': not a number", spelt, v);
        if (!in_range(o, d)) break;
        *(double *)o->target = d;
        return SSP_CMD_OPTS_OK;
    case SSP_CMD_UNIT: {
        const char *unit = o->unit ? o->unit : "";
        if (ssp_units_parse(v, unit, &d, why, sizeof why)) {
            /* after an SI prefix the unit may be left out: 50n is 50 ns */
            char with[UNIT_TEXT_CAP], ignored[8];
            if (!unit[0] || snprintf(with, sizeof with, "%s%s", v, unit) >= (int)sizeof with ||
                ssp_units_parse(with, unit, &d, ignored, sizeof ignored))
                return bad(msg, cap, "%s '%s': %s", spelt, v, why);
        }
        if (!in_range(o, d)) break;
        *(double *)o->target = d;
        return SSP_CMD_OPTS_OK;
    }
    default:
        return bad(msg, cap, "%s: option of unknown kind %d (a defect of the command's table)", spelt, o->kind);
    }
    describe_range(o, why, sizeof why);
    return bad(msg, cap, "%s '%s': %s", spelt, v, why);
}

int ssp_cmd_opts_scan(ssp_cmd_spec *s, int argc, char **argv, char *msg, size_t cap)
{
    ssp_cmd_opt *pos = NULL;
    msg[0] = '\0';
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return SSP_CMD_OPTS_HELP;
    for (size_t k = 0; k < s->nopts; k++) {
        s->opts[k].given = 0;
        if (s->opts[k].kind == SSP_CMD_LIST) ((ssp_cmd_list *)s->opts[k].target)->n = 0;
        if (is_positional(&s->opts[k])) pos = &s->opts[k];
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = NULL, *v;
        char spelt[LABEL_CAP];
        size_t n;
        ssp_cmd_opt *o;
        int rc;
        if (a[0] != '-' || a[1] == '\0') {
            /* a positional argument ("-" alone is one too) */
            if (!pos) return bad(msg, cap, "unexpected argument '%s'", a);
            if (pos->kind == SSP_CMD_STRING && pos->given)
                return bad(msg, cap, "unexpected argument '%s' (after '%s')", a, *(const char **)pos->target);
            pos->given++;
            if ((rc = store(pos, pos->arg ? pos->arg : "argument", a, msg, cap))) return rc;
            continue;
        }
        if (a[1] == '-' && (eq = strchr(a, '=')) != NULL) n = (size_t)(eq - a);
        else n = strlen(a);
        o = find(s, a, n);
        snprintf(spelt, sizeof spelt, "%.*s", (int)n, a);
        if (!o)
            return bad(msg, cap, "unknown option '%s'%s%s", spelt, s->hint ? " " : "", s->hint ? s->hint : "");
        if (o->kind == SSP_CMD_FLAG) {
            if (eq) return bad(msg, cap, "%s takes no value (given '%s')", spelt, eq + 1);
            if (o->given++) return bad(msg, cap, "%s given twice", spelt);
            *(int *)o->target = 1;
            continue;
        }
        if (eq)
            v = eq + 1;
        else if (i + 1 < argc)
            v = argv[++i];
        else
            return bad(msg, cap, "option '%s' needs a value (%s)", spelt,
                       o->arg ? o->arg : o->kind == SSP_CMD_CHOICE ? o->choices : "a value");
        if (o->given++ && o->kind != SSP_CMD_LIST) {
            if (o->kind == SSP_CMD_STRING || o->kind == SSP_CMD_CHOICE)
                return bad(msg, cap, "%s given twice ('%s', then '%s')", spelt, *(const char **)o->target, v);
            return bad(msg, cap, "%s given twice (the second time '%s')", spelt, v);
        }
        if ((rc = store(o, spelt, v, msg, cap))) return rc;
    }
    return SSP_CMD_OPTS_OK;
}

/* "  -q", "  --rows N", "  -o, --out DIR": the label of an option's help. */
static size_t label(const ssp_cmd_opt *o, char *buf, size_t cap)
{
    const char *arg = o->kind == SSP_CMD_FLAG ? NULL : o->arg ? o->arg : o->kind == SSP_CMD_CHOICE ? o->choices : "X";
    int w;
    if (is_positional(o))
        w = snprintf(buf, cap, "  %s", o->arg ? o->arg : "ARG");
    else if (o->name && o->short_name)
        w = snprintf(buf, cap, "  -%c, %s%s%s", o->short_name, o->name, arg ? " " : "", arg ? arg : "");
    else if (o->name)
        w = snprintf(buf, cap, "  %s%s%s", o->name, arg ? " " : "", arg ? arg : "");
    else
        w = snprintf(buf, cap, "  -%c%s%s", o->short_name, arg ? " " : "", arg ? arg : "");
    return w < 0 ? 0 : (size_t)w >= cap ? cap - 1 : (size_t)w;
}

static void help_line(FILE *to, const char *lab, size_t len, size_t col, const char *help)
{
    fputs(lab, to);
    if (len + 2 > col) {
        fputc('\n', to);
        len = 0;
    }
    for (const char *h = help; *h;) {
        size_t n = strcspn(h, "\n");
        fprintf(to, "%*s%.*s\n", (int)(col - len), "", (int)n, h);
        len = 0;
        h += n + (h[n] == '\n');
    }
}

void ssp_cmd_opts_help(const ssp_cmd_spec *s, FILE *to)
{
    char lab[LABEL_CAP];
    size_t col = HELP_MIN_COL;
    if (s->synopsis) fputs(s->synopsis, to);
    if (s->about) fprintf(to, "\n%s", s->about);
    for (size_t k = 0; k < s->nopts; k++) {
        size_t n = label(&s->opts[k], lab, sizeof lab);
        if ((s->opts[k].help || !is_positional(&s->opts[k])) && n + 2 > col && n + 2 <= HELP_MAX_COL) col = n + 2;
    }
    if (!s->about) fputc('\n', to);
    for (size_t k = 0; k < s->nopts; k++) {
        const ssp_cmd_opt *o = &s->opts[k];
        if (is_positional(o) && !o->help) continue;
        help_line(to, lab, label(o, lab, sizeof lab), col, o->help ? o->help : "");
    }
    help_line(to, "  -h, --help", strlen("  -h, --help"), col, "print this help and exit");
    if (s->tail) fputs(s->tail, to);
}

int ssp_cmd_opts_parse(ssp_cmd_spec *s, int argc, char **argv, int *status)
{
    char msg[512];
    int rc = ssp_cmd_opts_scan(s, argc, argv, msg, sizeof msg);
    if (rc == SSP_CMD_OPTS_OK) return 0;
    if (rc == SSP_CMD_OPTS_HELP) {
        ssp_cmd_opts_help(s, stdout);
        *status = 0;
        return 1;
    }
    *status = ssp_cmd_opts_usage(s, "%s", msg);
    return 1;
}

int ssp_cmd_opts_usage(const ssp_cmd_spec *s, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "siamspice %s: ", s->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (s->synopsis) fputs(s->synopsis, stderr);
    return 2;
}

unsigned ssp_cmd_opts_given(const ssp_cmd_spec *s, const char *name)
{
    for (size_t k = 0; k < s->nopts; k++) {
        const ssp_cmd_opt *o = &s->opts[k];
        if ((o->name && !strcmp(o->name, name)) ||
            (o->short_name && name[0] == '-' && name[1] == o->short_name && !name[2]))
            return o->given;
    }
    return 0;
}
