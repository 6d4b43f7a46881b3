/* ssp_units.h — numbers with SI prefixes and units, as written in siamspice
 * configuration and parameter files ("0.2 V", "10 kohm", "300 us", "2.5").
 *
 * One parser for every file format the project reads, so a unit means the
 * same everywhere. It never guesses: a value whose unit is not the one the
 * key expects is an error. */
#ifndef SSP_UNITS_H
#define SSP_UNITS_H

#include "ssp_export.h"

/* The one unit set of siamspice, for run configs, device parameter files
 * and command options alike. Each symbol is its own quantity:
 *   V A s ohm S m m/s Hz F J   (SI prefixes f p n u µ m k M G T; "ohm" in
 *                               any case: kohm, kOhm, MOhm)
 *   m^2/(V*s) 1/s 1/V %        (no prefix)
 *   "" (or "1")                a plain number
 * Parse text into *value, in units of `unit` (a prefix applied: "10 kohm"
 * is 10000 for unit "ohm", "3 %" is 3 for unit "%"). The text is a number,
 * optionally followed (with or without spaces) by the unit, prefixed where
 * it takes one. A bare number is the value in `unit` unless flags has
 * SSP_UNITS_REQUIRED. A unit of another quantity is an error naming both.
 * Returns 0 on success, -1 with a reason in why[why_len] otherwise. */
enum { SSP_UNITS_REQUIRED = 1 };
SSP_API int ssp_units_read(const char *text, const char *unit, unsigned flags, double *value, char *why,
                           unsigned why_len);
/* ssp_units_read with flags 0 (a bare number is in `unit`). */
SSP_API int ssp_units_parse(const char *text, const char *unit, double *value, char *why, unsigned why_len);
/* What a unit measures, for messages: "a resistance (ohm)"; "" and "1":
 * "dimensionless"; an unknown symbol: NULL. */
SSP_API const char *ssp_units_kind(const char *unit);
/* 1 when the unit takes an SI prefix (V, ohm, ...), 0 when not (%, 1/s). */
SSP_API int ssp_units_prefixed(const char *unit);

/* Room for any number ssp_units_format_* writes (with a unit of up to 8
 * characters). */
enum { SSP_UNITS_FMT_CAP = 40 };

/* The shortest of %.15g, %.16g and %.17g that strtod reads back as exactly
 * v (4e-08, not 4.0000000000000001e-08): the form every tapeout file uses
 * for times and voltages. Non-finite values are written as printf does.
 * Returns buf. */
SSP_API char *ssp_units_format_exact(char *buf, unsigned cap, double v);

/* v with an engineering prefix (p n u m k M G, powers of 1000) and unit, to
 * `digits` significant digits: "91.62 nJ", "1.5 ms", "0 J". Returns buf. */
SSP_API char *ssp_units_format_eng(char *buf, unsigned cap, double v, const char *unit, int digits);

/* A percentage with two decimals, or as many more (up to six) as it takes
 * not to print 100.00 or 0.00 for a value that is not exactly that:
 * 99.9972 -> "99.9972", 100 -> "100.00", 1e-9 -> "< 0.000001". Returns buf. */
SSP_API char *ssp_units_format_pct(char *buf, unsigned cap, double pct);

#endif
