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
