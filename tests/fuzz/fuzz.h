/* fuzz.h — what every libFuzzer harness in tests/fuzz/ shares: the entry
 * point's prototype (libFuzzer provides main) and a quiet context. A
 * harness feeds its bytes to one parser's buffer entry point and must
 * never crash, leak or trip a sanitizer, whatever the bytes; a refusal
 * (any status code) is a pass. Harnesses are test code: the context is
 * the one process-wide object they keep. */
#ifndef SSP_FUZZ_H
#define SSP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "ssp_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A context that logs nothing (created on first use, kept). */
static inline ssp_ctx *fuzz_ctx(void)
{
    static ssp_ctx *ctx;
    if (!ctx && ssp_ctx_create(&ctx) == SSP_OK) ssp_ctx_set_log_level(ctx, -1);
    ssp_ctx_clear_error(ctx);
    return ctx;
}

#endif
