/* ssp_units.c — the number-with-unit parser. No state, no printing. */
#include "ssp_units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The unit set: symbol, SI prefixes allowed, what it measures. */
static const struct unitdef {
    const char *symbol;
    int prefixed;
    const char *kind;
} units[] = {
    {"V", 1, "a voltage (V)"},
    {"A", 1, "a current (A)"},
    {"s", 1, "a time (s)"},
    {"ohm", 1, "a resistance (ohm)"},
    {"S", 1, "a conductance (S)"},
    {"m", 1, "a length (m)"},
    {"m/s", 1, "a velocity (m/s)"},
    {"Hz", 1, "a frequency (Hz)"},
    {"F", 1, "a capacitance (F)"},
    {"J", 1, "an energy (J)"},
    {"m^2/(V*s)", 0, "a mobility (m^2/(V*s))"},
    {"1/s", 0, "a rate (1/s)"},
    {"1/V", 0, "an inverse voltage (1/V)"},
    {"%", 0, "a percentage (%)"},
};
enum { NUNITS = sizeof units / sizeof units[0] };

static const char *const DIMENSIONLESS = "dimensionless";

static double prefix_scale(const char *p, size_t n, int *ok)
{
    *ok = 1;
    if (n == 0) return 1.0;
    if (n == 2 && (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xB5) return 1e-6; /* µ */
    if (n != 1) {
        *ok = 0;
        return 0;
    }
    switch (p[0]) {
    case 'f': return 1e-15;
    case 'p': return 1e-12;
    case 'n': return 1e-9;
    case 'u': return 1e-6;
    case 'm': return 1e-3;
    case 'k': return 1e3;
    case 'M': return 1e6;
    case 'G': return 1e9;
    case 'T': return 1e12;
    default: *ok = 0; return 0;
    }
}

static const struct unitdef *unit_def(const char *unit)
{
    for (size_t i = 0; i < NUNITS; i++)
        if (strcmp(units[i].symbol, unit) == 0) return &units[i];
    return NULL;
}

const char *ssp_units_kind(const char *unit)
{
    const struct unitdef *u;
    if (!unit || !*unit || strcmp(unit, "1") == 0) return DIMENSIONLESS;
    u = unit_def(unit);
    return u ? u->kind : NULL;
}

int ssp_units_prefixed(const char *unit)
{
    const struct unitdef *u = unit ? unit_def(unit) : NULL;
    return u ? u->prefixed : 0;
}

/* Does suffix end with symbol ("ohm": in any case)? */
static int ends_with(const char *suffix, size_t n, const char *symbol)
{
    size_t ls = strlen(symbol);
    if (n < ls) return 0;
    return strcmp(symbol, "ohm") == 0 ? strncasecmp(suffix + n - ls, symbol, ls) == 0
                                      : strncmp(suffix + n - ls, symbol, ls) == 0;
}

/* The unit a suffix names and the factor of its prefix; NULL if none. An
 * exact symbol wins over a prefixed reading ("m" is the metre, "ms" m + s). */
static const struct unitdef *lookup(const char *suffix, size_t n, double *factor)
{
    for (size_t i = 0; i < NUNITS; i++)
        if (strlen(units[i].symbol) == n && ends_with(suffix, n, units[i].symbol)) {
            *factor = 1.0;
            return &units[i];
        }
    for (size_t i = 0; i < NUNITS; i++) {
        int ok;
        double f;
        if (!units[i].prefixed || !ends_with(suffix, n, units[i].symbol)) continue;
        f = prefix_scale(suffix, n - strlen(units[i].symbol), &ok);
        if (ok) {
            *factor = f;
            return &units[i];
        }
    }
    return NULL;
}

int ssp_units_read(const char *text, const char *unit, unsigned flags, double *value, char *why, unsigned why_len)
{
    char *end = NULL;
    const char *s = text, *want = ssp_units_kind(unit);
    char suffix[32];
    size_t n;
    double v, factor = 1.0;
    int plain = !unit || !*unit || strcmp(unit, "1") == 0;
    const struct unitdef *got;

    while (isspace((unsigned char)*s)) s++;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v)) {
        snprintf(why, why_len, "'%s' is not a finite number", text);
        return -1;
    }
    while (isspace((unsigned char)*end)) end++;
    n = strlen(end);
    while (n && isspace((unsigned char)end[n - 1])) n--;
    if (n >= sizeof suffix) {
        snprintf(why, why_len, "unknown unit '%.20s...'", end);
        return -1;
    }
    memcpy(suffix, end, n);
    suffix[n] = '\0';
    if (n == 0 || (plain && strcmp(suffix, "1") == 0)) {
        if (n == 0 && !plain && (flags & SSP_UNITS_REQUIRED)) {
            snprintf(why, why_len, "missing unit (expected %s)", want ? want : unit);
            return -1;
        }
        *value = v;
        return 0;
    }
    got = lookup(suffix, n, &factor);
    if (plain) {
        if (got)
            snprintf(why, why_len, "'%s' is %s, but this value is dimensionless (a plain number)", suffix, got->kind);
        else
            snprintf(why, why_len, "unknown unit '%s' (this value is dimensionless: a plain number)", suffix);
        return -1;
    }
    if (!got) {
        snprintf(why, why_len, "unknown unit '%s' (expected %s%s)", suffix, want ? want : unit,
                 ssp_units_prefixed(unit) ? " with an optional SI prefix" : "");
        return -1;
    }
    if (strcmp(got->symbol, unit) != 0) {
        snprintf(why, why_len, "'%s' is %s, expected %s", suffix, got->kind, want ? want : unit);
        return -1;
    }
    *value = v * factor;
    return 0;
}

int ssp_units_parse(const char *text, const char *unit, double *value, char *why, unsigned why_len)
{
    return ssp_units_read(text, unit, 0, value, why, why_len);
}

char *ssp_units_format_exact(char *buf, unsigned cap, double v)
{
    if (!cap) return buf;
    if (!isfinite(v)) {
        snprintf(buf, cap, "%g", v);
        return buf;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break; /* %.17g always reads back exactly */
    }
    return buf;
}

char *ssp_units_format_eng(char *buf, unsigned cap, double v, const char *unit, int digits)
{
    static const char *const prefix[] = {"f", "p", "n", "u", "m", "", "k", "M", "G", "T"};
    enum { UNITY = 5, NPREFIX = sizeof prefix / sizeof prefix[0] };
    double a = fabs(v), scaled = v;
    int k = UNITY;
    if (!cap) return buf;
    if (digits < 1) digits = 1;
    if (isfinite(v) && a > 0) {
        /* the exponent after rounding to `digits`, so 999.96 n becomes 1 u */
        char tmp[64];
        double r;
        int e;
        snprintf(tmp, sizeof tmp, "%.*e", digits - 1, a);
        r = strtod(tmp, NULL);
        e = (int)floor(log10(r) / 3.0);
        k = UNITY + e;
        if (k < 0) k = 0;
        if (k >= (int)NPREFIX) k = NPREFIX - 1;
        scaled = v / pow(1000.0, (double)(k - UNITY));
    }
    snprintf(buf, cap, "%.*g %s%s", digits, scaled, prefix[k], unit ? unit : "");
    return buf;
}

char *ssp_units_format_pct(char *buf, unsigned cap, double pct)
{
    enum { MIN_DECIMALS = 2, MAX_DECIMALS = 6 };
    if (!cap) return buf;
    for (int d = MIN_DECIMALS; d <= MAX_DECIMALS; d++) {
        double r;
        snprintf(buf, cap, "%.*f", d, pct);
        r = strtod(buf, NULL);
        if (!isfinite(pct) || ((r != 100 || pct == 100) && (r != 0 || pct == 0) && (r != -100 || pct == -100)))
            return buf;
    }
    if (fabs(pct) < 50)
        snprintf(buf, cap, "%s 0.000001", pct > 0 ? "<" : "> -");
    else
        snprintf(buf, cap, "%s 99.999999", pct > 0 ? ">" : "< -");
    return buf;
}
