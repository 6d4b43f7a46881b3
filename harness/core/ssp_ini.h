/* ssp_ini.h — INI text (run configs, --set, device parameter files, the
 * config a plot reads) through libinih, with the checks every INI-like
 * input of siamspice gets in one place, so no reader can differ:
 *
 * - a line longer than SSP_INI_LINE_MAX characters is refused with
 *   file:line. Debian's libinih (the one this project links) reads into a
 *   fixed 200-byte buffer and parses the tail of a longer line as a new
 *   line; its run-time ini_allow_realloc switch has no effect (measured on
 *   libinih 55-1), so lines of any length cannot be had from it;
 * - a key given twice in a section is refused naming both lines;
 * - a NUL byte is refused (inih would stop reading there);
 * - leading whitespace is dropped before inih sees a line, so an indented
 *   key is that key, never a continuation of the previous value (no input
 *   of siamspice has multi-line values);
 * - a syntax error names file:line.
 *
 * It knows nothing of what the keys mean: the caller's callback does. */
#ifndef SSP_INI_H
#define SSP_INI_H

#include <stddef.h>

#include "ssp_error.h"

/* Longest line read, in characters before its '\n' (a '\r' of a CRLF
 * line end counts): libinih's line buffer (INI_MAX_LINE = 200) less the
 * '\n' and the '\0'. Runs written before this check have lines of up to
 * 198 characters; they read as before. */
#define SSP_INI_LINE_MAX 198

/* Called for every key in file order: line is the key's line (1-based).
 * Return SSP_OK, or an error code with the message set in ctx; the parse
 * then stops and the message is prefixed with "path:line: ". */
typedef int (*ssp_ini_fn)(void *payload, int line, const char *section, const char *key, const char *value);

/* Parse len bytes of text (NUL-terminated at text[len]); path names the
 * input in messages. Every fault of the text itself is SSP_ECONFIG. */
SSP_API int ssp_ini_parse(ssp_ctx *ctx, const char *path, const char *text, size_t len, ssp_ini_fn fn, void *payload);

#endif
