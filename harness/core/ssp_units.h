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

#endif
