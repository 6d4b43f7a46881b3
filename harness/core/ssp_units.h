/* ssp_units.h — numbers with SI prefixes and units, as written in siamspice
 * configuration and parameter files ("0.2 V", "10 kohm", "300 us", "2.5").
 *
 * One parser for every file format the project reads, so a unit means the
 * same everywhere. It never guesses: a value whose unit is not the one the
 * key expects is an error. */
#ifndef SSP_UNITS_H
#define SSP_UNITS_H

#include "ssp_export.h"

/* Parse text into *value (in base SI units). unit is the expected unit
 * symbol ("V", "A", "s", "ohm", "S", "m", "Hz", "F", "J") or "" for a
 * plain number. The text is a number, optionally followed (with or without
 * spaces) by an SI prefix (f p n u µ m k M G T) and the unit symbol; for a
 * unit, a bare number is accepted as already in base units.
 * Returns 0 on success, -1 with a reason in why[why_len] otherwise. */
SSP_API int ssp_units_parse(const char *text, const char *unit, double *value, char *why, unsigned why_len);

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
