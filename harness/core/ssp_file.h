/* ssp_file.h — whole-file reads and atomic writes.
 *
 * Every file siamspice produces goes through ssp_file_atomic_open/commit:
 * data is written to "<path>.tmp.<pid>", flushed, fsync'ed and renamed over
 * the target, so a crash never leaves a half-written file and never destroys
 * the previous version. Reads of gzip-compressed files are transparent. */
#ifndef SSP_FILE_H
#define SSP_FILE_H

#include <stdio.h>
#include <stddef.h>

#include "ssp_error.h"

/* An output file being written; opaque. */
typedef struct ssp_afile ssp_afile;

/* Open a temporary file next to path for writing. */
int ssp_file_atomic_open(ssp_afile **out, ssp_ctx *ctx, const char *path);
/* The stdio stream to write to. */
FILE *ssp_file_stream(ssp_afile *f);
/* Flush, fsync, close and rename into place; frees *f and sets it NULL.
 * On any write error the temporary file is removed and the target is left
 * untouched. */
int ssp_file_atomic_commit(ssp_afile **f, ssp_ctx *ctx);
/* Abandon the write: remove the temporary file; NULL is a no-op. */
void ssp_file_atomic_abort(ssp_afile **f);

/* Write a whole buffer atomically. */
int ssp_file_write_all(ssp_ctx *ctx, const char *path, const void *data, size_t len);

/* Read a whole file (gunzipping it if it is gzip-compressed) into a malloc'ed
 * buffer with a terminating NUL byte not counted in *len. */
int ssp_file_read_all(ssp_ctx *ctx, const char *path, unsigned char **data, size_t *len);

/* mkdir -p */
int ssp_file_mkdirs(ssp_ctx *ctx, const char *path);

#endif
