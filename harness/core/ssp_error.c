/* ssp_error.c — status strings, context object and logger.
 * Holds no global mutable state: everything lives in the ssp_ctx. */
#include "ssp_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SSP_ERRMSG_MAX = 2048, SSP_LOGLINE_MAX = 2048 };

struct ssp_ctx {
    int errcode;                  /* last status set by ssp_error */
    char errmsg[SSP_ERRMSG_MAX];  /* its message */
    ssp_log_fn log_fn;            /* sink; NULL means stderr */
    void *log_payload;            /* passed to log_fn, owned by the caller */
    int log_level;                /* most verbose level emitted */
    ssp_progress_fn progress_fn;  /* progress sink; NULL: none */
    void *progress_payload;       /* passed to progress_fn, owned by the caller */
};

const char *ssp_strerror(int code)
{
    switch (code) {
#define SSP_X_STR(name, value, text) \
    case value: return text;
        SSP_ERROR_TABLE(SSP_X_STR)
#undef SSP_X_STR
    default: return "unknown status";
    }
}

int ssp_ctx_create(ssp_ctx **out)
{
    ssp_ctx *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c) return SSP_ENOMEM;
    c->log_level = SSP_LOG_WARN;
    *out = c;
    return SSP_OK;
}

void ssp_ctx_destroy(ssp_ctx **ctx)
{
    if (!ctx || !*ctx) return;
    free(*ctx);
    *ctx = NULL;
}

void ssp_ctx_set_logger(ssp_ctx *ctx, ssp_log_fn fn, void *payload)
{
    ctx->log_fn = fn;
    ctx->log_payload = payload;
}

void ssp_ctx_set_progress(ssp_ctx *ctx, ssp_progress_fn fn, void *payload)
{
    ctx->progress_fn = fn;
    ctx->progress_payload = payload;
}

void ssp_progress(ssp_ctx *ctx, const char *what, size_t done, size_t total)
{
    if (ctx && ctx->progress_fn) ctx->progress_fn(what, done, total, ctx->progress_payload);
}

void ssp_ctx_set_log_level(ssp_ctx *ctx, int level) { ctx->log_level = level; }
int ssp_ctx_log_level(const ssp_ctx *ctx) { return ctx ? ctx->log_level : SSP_LOG_WARN; }

int ssp_verror(ssp_ctx *ctx, int code, const char *fmt, va_list ap)
{
    if (!ctx) return code;
    ctx->errcode = code;
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    return code;
}

int ssp_error(ssp_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ssp_verror(ctx, code, fmt, ap);
    va_end(ap);
    return code;
}

void ssp_error_prefix(ssp_ctx *ctx, const char *fmt, ...)
{
    char pre[SSP_ERRMSG_MAX], old[SSP_ERRMSG_MAX];
    va_list ap;
    if (!ctx) return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, ctx->errmsg, sizeof old);
    /* the message is cut at SSP_ERRMSG_MAX on purpose */
    if (snprintf(ctx->errmsg, sizeof ctx->errmsg, "%s%s", pre, old) >= (int)sizeof ctx->errmsg)
        ctx->errmsg[sizeof ctx->errmsg - 1] = '\0';
}

const char *ssp_ctx_errmsg(const ssp_ctx *ctx) { return ctx ? ctx->errmsg : ""; }
int ssp_ctx_errcode(const ssp_ctx *ctx) { return ctx ? ctx->errcode : SSP_OK; }

void ssp_ctx_clear_error(ssp_ctx *ctx)
{
    if (!ctx) return;
    ctx->errcode = SSP_OK;
    ctx->errmsg[0] = '\0';
}

static const char *level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return (level >= 0 && level <= SSP_LOG_DEBUG) ? names[level] : "log";
}

void ssp_log(ssp_ctx *ctx, int level, const char *event, const char *fmt, ...)
{
    char kv[SSP_LOGLINE_MAX];
    va_list ap;
    if (!ctx || level > ctx->log_level) return;
    va_start(ap, fmt);
    vsnprintf(kv, sizeof kv, fmt, ap);
    va_end(ap);
    if (ctx->log_fn)
        ctx->log_fn(level, event, kv, ctx->log_payload);
    else
        fprintf(stderr, "siamspice %s %s: %s\n", level_name(level), event, kv);
}
