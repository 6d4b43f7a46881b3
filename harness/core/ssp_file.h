/* ssp_file.h — whole-file reads and atomic writes.
 *
 * Every file siamspice produces goes through ssp_file_atomic_open/commit:
 * data is written to "<path>.tmp.<pid>", flushed, fsync'ed and renamed over
 * the target, so a crash never leaves a half-written file and never destroys
 * the previous version. Reads of gzip-compressed files are transparent.
 *
 * A failed write at any point (open, any write of the stream, flush, fsync,
 * close, rename) leaves the previous file as it was, removes the temporary
 * file and reports the file and the system's reason ("No space left on
 * device"). The test runner proves it at each of those points through the
 * fault seam at the end of this header. */
#ifndef SSP_FILE_H
#define SSP_FILE_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "ssp_error.h"

/* An output file being written; opaque. */
typedef struct ssp_afile ssp_afile;

/* Open a temporary file next to path for writing. */
SSP_API int ssp_file_atomic_open(ssp_afile **out, ssp_ctx *ctx, const char *path);
/* The stdio stream to write to. */
SSP_API FILE *ssp_file_stream(ssp_afile *f);
/* Flush, fsync, close and rename into place; frees *f and sets it NULL.
 * On any write error the temporary file is removed and the target is left
 * untouched. */
SSP_API int ssp_file_atomic_commit(ssp_afile **f, ssp_ctx *ctx);
/* Abandon the write: remove the temporary file; NULL is a no-op. */
SSP_API void ssp_file_atomic_abort(ssp_afile **f);

/* Write a whole buffer atomically. */
SSP_API int ssp_file_write_all(ssp_ctx *ctx, const char *path, const void *data, size_t len);

/* Read a whole file (gunzipping it if it is gzip-compressed) into a malloc'ed
 * buffer with a terminating NUL byte not counted in *len. */
SSP_API int ssp_file_read_all(ssp_ctx *ctx, const char *path, unsigned char **data, size_t *len);

/* mkdir -p; the directory must then be one this process can write into
 * (a file of that name, or a directory without write permission, is an
 * error naming it). */
SSP_API int ssp_file_mkdirs(ssp_ctx *ctx, const char *path);

/* The lock of a run directory: an exclusive flock(2) on DIR/run.lock, held
 * as long as the descriptor in *fd stays open (the kernel drops it when the
 * process ends, kill -9 included, so a stale lock file never blocks). The
 * holder's pid is written into the file for the message of the next one.
 * Another process holding it: SSP_ESTATE naming the directory and that
 * pid. */
SSP_API int ssp_file_lock_dir(ssp_ctx *ctx, const char *dir, int *fd);
/* Release the lock (close *fd, set it to -1); *fd < 0 is a no-op. */
SSP_API void ssp_file_unlock_dir(int *fd);

/* Remove the temporary files of atomic writes ("<name>.tmp.<pid>") under
 * dir and its subdirectories whose writer no longer runs (or had this
 * process's pid: a process that has not written yet has none); each removal
 * is logged (warn event "stale_temp"). *removed (may be NULL) counts them.
 * Call it while holding the directory's lock. */
SSP_API int ssp_file_remove_stale_temps(ssp_ctx *ctx, const char *dir, size_t *removed);

/* CRC-32 of len bytes (zlib's crc32, the checksum of PNG and gzip). */
SSP_API uint32_t ssp_file_crc32(const void *data, size_t len);

/* ---- fault seam (tests only) ------------------------------------------
 * Every atomic write calls ssp_file_fault_hook before each of its system
 * calls: the open of the temporary file, every write(2) of its stream, the
 * fsync and the rename. The library's definition is weak and does nothing;
 * the test runner links a strong one (tests/core/fault_shim.c) that makes a
 * chosen call fail, SQLite-style. A nonzero return is the errno that call
 * fails with (ENOSPC, EIO). */
enum ssp_file_stage {
    SSP_FILE_STAGE_OPEN = 0,
    SSP_FILE_STAGE_WRITE = 1,
    SSP_FILE_STAGE_SYNC = 2,
    SSP_FILE_STAGE_RENAME = 3
};
int ssp_file_fault_hook(int stage, const char *path);

#endif
