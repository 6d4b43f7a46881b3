/* ssp_error.h — status codes, the context object, and the levelled logger.
 *
 * Every siamspice function that can fail returns int: SSP_OK (0) or a
 * negative SSP_E* code. The message describing the failure is set where the
 * failure happens, into the ssp_ctx the caller passed, and the code is passed
 * up unchanged. One X-macro table generates the enum and ssp_strerror().
 * There is no global state: a context carries the logger and the last error.
 * A context is not shared between threads; give each thread its own. */

/* harness/core/ — the room every other room stands on: status codes and the
 * context that carries the last error and the logger (this header), atomic
 * file writes (ssp_file.h) and numbers with SI units (ssp_units.h). It
 * includes nothing of siamspice's other rooms. */
#ifndef SSP_ERROR_H
#define SSP_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "ssp_export.h"

#if defined(__GNUC__)
#define SSP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SSP_PRINTF(f, a)
#endif

/* X(name, value, description) */
#define SSP_ERROR_TABLE(X)                                                    \
    X(SSP_OK, 0, "success")                                                   \
    X(SSP_ENOMEM, -1, "out of memory")                                        \
    X(SSP_EINVAL, -2, "invalid argument")                                     \
    X(SSP_EIO, -3, "input/output error")                                      \
    X(SSP_EFORMAT, -4, "malformed file")                                      \
    X(SSP_ECONFIG, -5, "bad configuration")                                   \
    X(SSP_ELIBRARY, -6, "cannot load the ngspice shared library")             \
    X(SSP_ESYNTAX, -7, "netlist not parsed by ngspice")                       \
    X(SSP_ESINGULAR, -8, "singular circuit matrix")                           \
    X(SSP_ETIMESTEP, -9, "transient timestep too small")                      \
    X(SSP_EABORT, -10, "ngspice analysis aborted")                            \
    X(SSP_ENOVEC, -11, "result vector missing or empty")                      \
    X(SSP_EOVERFLOW, -12, "result value out of range (|v| >= 1e30)")          \
    X(SSP_EFATAL, -13, "ngspice fatal error (library reloaded)")              \
    X(SSP_ETOOLONG, -14, "ngspice command longer than 1023 characters")       \
    X(SSP_ESPICE, -15, "ngspice reported an error")                           \
    X(SSP_EWORKER, -16, "simulation worker failed")                           \
    X(SSP_ECONVERGE, -17, "iteration did not converge")                       \
    X(SSP_ERANGE, -18, "value out of range")                                  \
    X(SSP_ESTATE, -19, "object in the wrong state for this call")             \
    X(SSP_EUNREACHABLE, -20, "target cannot be reached")                      \
    X(SSP_EMISMATCH, -21, "results disagree beyond tolerance")                \
    X(SSP_EINTERRUPT, -22, "interrupted")

enum ssp_status {
#define SSP_X_ENUM(name, value, text) name = value,
    SSP_ERROR_TABLE(SSP_X_ENUM)
#undef SSP_X_ENUM
};

/* Human-readable description of a status code ("unknown status" if none). */
SSP_API const char *ssp_strerror(int code);

/* Log levels, most severe first. */
enum ssp_log_level {
    SSP_LOG_ERROR = 0,
    SSP_LOG_WARN = 1,
    SSP_LOG_INFO = 2,
    SSP_LOG_DEBUG = 3
};

/* A log sink receives one finished line: the level, the event name and a
 * "key = value, ..." payload. payload is the pointer given to
 * ssp_ctx_set_logger. */
typedef void (*ssp_log_fn)(int level, const char *event, const char *kv, void *payload);

typedef struct ssp_ctx ssp_ctx;

/* Create a context; it logs warnings and errors to stderr by default. */
SSP_API int ssp_ctx_create(ssp_ctx **out);
/* Free *ctx and set it to NULL; NULL or *ctx == NULL is a no-op. */
SSP_API void ssp_ctx_destroy(ssp_ctx **ctx);

/* Replace the log sink (fn NULL restores stderr) and the maximum level shown. */
SSP_API void ssp_ctx_set_logger(ssp_ctx *ctx, ssp_log_fn fn, void *payload);
SSP_API void ssp_ctx_set_log_level(ssp_ctx *ctx, int level);
SSP_API int ssp_ctx_log_level(const ssp_ctx *ctx);

/* Progress of a long operation: what it is doing ("evaluating the test
 * set"), done of total units. Library loops that can take more than a few
 * seconds report through ssp_progress; the caller (the CLI) decides how to
 * show it. payload is the pointer given to ssp_ctx_set_progress. */
typedef void (*ssp_progress_fn)(const char *what, size_t done, size_t total, void *payload);
/* Install a progress sink (fn NULL: none, the default). */
SSP_API void ssp_ctx_set_progress(ssp_ctx *ctx, ssp_progress_fn fn, void *payload);
/* Report progress; a no-op without a sink or with ctx NULL. */
SSP_API void ssp_progress(ssp_ctx *ctx, const char *what, size_t done, size_t total);

/* Record an error: the message is formatted into the context, and code is
 * returned so callers can write `return ssp_error(ctx, SSP_EIO, "...")`.
 * This is the one function a debugger breaks on. ctx may be NULL. */
SSP_API int ssp_error(ssp_ctx *ctx, int code, const char *fmt, ...) SSP_PRINTF(3, 4);
SSP_API int ssp_verror(ssp_ctx *ctx, int code, const char *fmt, va_list ap);
/* Prefix the current message with context ("loading x.ini: " + message). */
SSP_API void ssp_error_prefix(ssp_ctx *ctx, const char *fmt, ...) SSP_PRINTF(2, 3);
/* The last error message and code ("" and SSP_OK when none). */
SSP_API const char *ssp_ctx_errmsg(const ssp_ctx *ctx);
SSP_API int ssp_ctx_errcode(const ssp_ctx *ctx);
SSP_API void ssp_ctx_clear_error(ssp_ctx *ctx);

/* Log one event with a printf-formatted "key = value" payload. */
SSP_API void ssp_log(ssp_ctx *ctx, int level, const char *event, const char *fmt, ...) SSP_PRINTF(4, 5);

#endif
