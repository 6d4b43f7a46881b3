/* ssp_units.c — the number-with-unit parser. No state, no printing. */
#include "ssp_units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int ssp_units_parse(const char *text, const char *unit, double *value, char *why, unsigned why_len)
{
    char *end = NULL;
    const char *s = text;
    char suffix[32];
    size_t n, ul = strlen(unit);
    double v, scale;
    int ok;

    while (isspace((unsigned char)*s)) s++;
    errno = 0;
    v = strtod(s, &end);
    if (end == s) {
        snprintf(why, why_len, "'%s' is not a number", text);
        return -1;
    }
    if (errno == ERANGE || !isfinite(v)) {
        snprintf(why, why_len, "'%s' is out of range", text);
        return -1;
    }
    while (isspace((unsigned char)*end)) end++;
    n = strlen(end);
    while (n && isspace((unsigned char)end[n - 1])) n--;
    if (n >= sizeof suffix) {
        snprintf(why, why_len, "unknown unit '%s'", end);
        return -1;
    }
    memcpy(suffix, end, n);
    suffix[n] = '\0';
    if (n == 0) {
        *value = v;
        return 0;
    }
    if (ul == 0) {
        snprintf(why, why_len, "'%s' must be a plain number (found unit '%s')", text, suffix);
        return -1;
    }
    /* case-insensitive match for "ohm", exact for the others */
    if (n < ul || (strcmp(unit, "ohm") == 0 ? strncasecmp(suffix + n - ul, unit, ul) != 0
                                            : strcmp(suffix + n - ul, unit) != 0)) {
        snprintf(why, why_len, "unknown unit '%s' (expected %s)", suffix, unit);
        return -1;
    }
    scale = prefix_scale(suffix, n - ul, &ok);
    if (!ok) {
        snprintf(why, why_len, "unknown unit '%s' (expected %s with an optional SI prefix)", suffix, unit);
        return -1;
    }
    *value = v * scale;
    return 0;
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
