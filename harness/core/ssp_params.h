/* ssp_params.h — parameter tables: the one layer that turns "key = value"
 * text into typed, range-checked fields and writes the fields back, for the
 * run configuration (harness/io/ssp_config.c) and the device parameter files
 * (devicemodels/) alike.
 *
 * A table is a static array of ssp_param: section, key, kind, unit, range,
 * where the value lands, a one-line description. Values are read with the
 * one unit set of ssp_units.h, from an INI text (ssp_ini.h: long lines,
 * duplicate keys, NUL bytes refused) or one "section.key=value" override.
 * Every fault is SSP_ECONFIG with the message in the ssp_ctx, in one form:
 *   path:line: section.key: reason            (a value that does not read)
 *   path:line: unknown key 'k' in [section]   (unknown section: [s])
 *   path: missing key k in [section] (description)
 *   override section.key: reason
 * It knows nothing of what a parameter means; cross-field checks belong to
 * the caller. No printing except to the stream ssp_params_write is given. */
#ifndef SSP_PARAMS_H
#define SSP_PARAMS_H

#include <stddef.h>
#include <stdio.h>

#include "ssp_error.h"

/* What a value reads as, and the field it lands in. */
enum ssp_param_kind {
    SSP_PARAM_REAL = 0, /* a number in `unit` (ssp_units) -> double */
    SSP_PARAM_WHOLE,    /* a whole number, no unit -> long (double with SSP_PARAM_IN_DOUBLE) */
    SSP_PARAM_BOOL,     /* yes/no, true/false, on/off, 1/0 -> int */
    SSP_PARAM_CHOICE,   /* one word of `choices` -> its index, int (double with SSP_PARAM_IN_DOUBLE) */
    SSP_PARAM_TEXT,     /* a string -> char[cap] */
    SSP_PARAM_LIST      /* comma-separated whole numbers -> long[cap], their count a long at count_offset */
};

/* Entry flags. */
enum {
    SSP_PARAM_REQUIRED = 1u << 0,      /* a file must give it */
    SSP_PARAM_DERIVED = 1u << 1,       /* computed by the caller, never read: a file giving it is refused */
    SSP_PARAM_OPEN_LO = 1u << 2,       /* value must be > lo (otherwise >= lo) */
    SSP_PARAM_OPEN_HI = 1u << 3,       /* value must be < hi (otherwise <= hi) */
    SSP_PARAM_NONZERO = 1u << 4,       /* value must not be 0 */
    SSP_PARAM_UNIT_REQUIRED = 1u << 5, /* REAL: a bare number is refused, the unit must be written */
    SSP_PARAM_IN_DOUBLE = 1u << 6      /* WHOLE, CHOICE: the field is a double (a table over a vector) */
};

/* One parameter. */
typedef struct ssp_param {
    const char *section; /* INI section */
    const char *key;     /* INI key */
    int kind;            /* enum ssp_param_kind */
    const char *unit;    /* REAL: unit symbol of ssp_units ("V", "ohm", "%", ...; "" a plain number) */
    double lo, hi;       /* accepted range of the field (REAL, WHOLE, LIST items); flags say open or closed */
    unsigned flags;      /* SSP_PARAM_* */
    size_t offset;       /* the field, from the table's base (ignored by tables with a stride) */
    size_t cap;          /* TEXT: bytes of the field; LIST: entries of the field */
    size_t count_offset; /* LIST: the long holding the count */
    const char *choices; /* CHOICE: the words, "a|b|c" */
    double scale;        /* REAL: field = value in `unit` x scale (0 means 1; 0.01: a % kept as a fraction) */
    double def;          /* REAL, WHOLE, CHOICE: the value ssp_params_defaults stores */
    const char *doc;     /* one-line description (messages, written configs, SPICE headers) */
} ssp_param;

/* A table bound to the memory it fills: entry i's field is at
 * base + param[i].offset, or at base + i * stride when stride != 0 (a table
 * whose fields are the elements of one vector). */
typedef struct ssp_param_table {
    const ssp_param *param;
    size_t n;
    void *base;
    size_t stride;
} ssp_param_table;

/* Read flags. */
enum {
    SSP_PARAMS_SKIP_UNKNOWN = 1u << 0 /* keys of no table are skipped, not refused */
};

/* The entry of section.key in the tables (DERIVED ones included), with its
 * table and index; NULL when none. */
SSP_API const ssp_param *ssp_params_find(const ssp_param_table *tables, size_t ntables, const char *section,
                                         const char *key, size_t *table, size_t *index);
/* Store every entry's def (REAL, WHOLE, CHOICE). */
SSP_API void ssp_params_defaults(const ssp_param_table *tables, size_t ntables);
/* Read one value of entry p into field; SSP_ECONFIG with the reason alone
 * as the message (the callers above add where and which key). */
SSP_API int ssp_params_set(const ssp_param *p, void *field, ssp_ctx *ctx, const char *value);
/* Read len bytes of INI text (NUL-terminated at text[len]) into the tables,
 * in file order; path names it in messages, owner (or NULL) is appended to
 * an unknown-key message (" for model vteam"). Then every REQUIRED entry not
 * given is refused. */
SSP_API int ssp_params_read(ssp_ctx *ctx, const char *path, const char *text, size_t len,
                            const ssp_param_table *tables, size_t ntables, const char *owner, unsigned flags);
/* Apply one "section.key=value" override. */
SSP_API int ssp_params_override(ssp_ctx *ctx, const ssp_param_table *tables, size_t ntables,
                                const char *assignment);
/* The word of choice index idx of entry p ("?" out of range). */
SSP_API const char *ssp_params_choice(const ssp_param *p, int idx, size_t *len);
/* The longest TEXT value of p that its written line "key = value" holds. */
SSP_API size_t ssp_params_text_room(const ssp_param *p);
/* Split buf (edited in place) at commas into at most max elements, the
 * blanks around each trimmed. Returns the count (0 for an all-blank buf),
 * -1 - i when element i (0-based) is empty ("16,,16"), or -1 - max when
 * there are more than max. */
SSP_API int ssp_params_split(char *buf, char **toks, int max);
/* Write the tables as INI: a [section] line where the section changes, each
 * entry's description as "; " comment lines, then "key = value" (doubles
 * exactly, %.17g, with the unit). DERIVED entries are left out. */
SSP_API int ssp_params_write(const ssp_param_table *tables, size_t ntables, FILE *out);

#endif
