/* ssp_grid.h — the grid of a parameter sweep: configuration keys, each with
 * a list of values; every combination is one job.
 *
 *   ; a comment (';' or '#' at the start of a line or after a blank)
 *   crossbar.r_wire = 0, 1, 2.5, 5     a key and its values, comma-separated
 *   run.seed = 1..5                    an integer range, both ends included
 *   [train]                            a section: the keys below it without a
 *   lr = 0.05, 0.1                     dot are train.<key>
 *
 * The parser takes a buffer (not NUL-terminated, any bytes) so it can be
 * fuzzed; it checks the syntax, the limits and duplicate keys and names the
 * line of any error (SSP_EFORMAT). It does not know which keys exist or
 * which values are valid: the caller checks the keys (ssp_config_has_key)
 * and each job's values are checked when the job's configuration is built.
 *
 * Jobs are numbered in odometer order: the last key varies fastest. */
#ifndef SSP_GRID_H
#define SSP_GRID_H

#include <stddef.h>

#include "ssp_error.h"

enum {
    SSP_GRID_MAX_KEYS = 16,       /* keys in one grid */
    SSP_GRID_MAX_VALUES = 4096,   /* values of one key (ranges expanded) */
    SSP_GRID_MAX_JOBS = 100000,   /* combinations */
    SSP_GRID_TEXT_MAX = 256       /* longest key or value, bytes */
};

typedef struct ssp_grid ssp_grid;

/* Parse len bytes of buf; name (a file name) prefixes error messages. */
int ssp_grid_parse(ssp_grid **out, ssp_ctx *ctx, const char *buf, size_t len, const char *name);
/* Free; NULL is a no-op; sets *g = NULL. */
void ssp_grid_free(ssp_grid **g);

size_t ssp_grid_nkeys(const ssp_grid *g);
/* Key k as "section.key". */
const char *ssp_grid_key(const ssp_grid *g, size_t k);
size_t ssp_grid_nvalues(const ssp_grid *g, size_t k);
const char *ssp_grid_value(const ssp_grid *g, size_t k, size_t v);
/* The product of the value counts. */
size_t ssp_grid_njobs(const ssp_grid *g);
/* Which value of key k job j takes. */
size_t ssp_grid_job_value(const ssp_grid *g, size_t job, size_t k);

#endif
