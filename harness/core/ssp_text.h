/* ssp_text.h — the one growing text buffer of siamspice.
 *
 * Netlists, PWL sources, schedules and generated parameter files are built
 * by appending printf-formatted pieces to an ssp_text and written or handed
 * on in one piece. Appends never fail on their own: the first failed
 * allocation (or an encoding error of vsnprintf) sets `oom`, later appends
 * are ignored, and the caller checks once at the end with ssp_text_check().
 * The text is always NUL-terminated once anything was appended.
 *
 * A value type: zero-initialise it (`ssp_text t = {0};`), free it with
 * ssp_text_free(). It keeps no other state and prints nothing. */
#ifndef SSP_TEXT_H
#define SSP_TEXT_H

#include <stddef.h>

#include "ssp_error.h"

typedef struct ssp_text {
    char *s;    /* the text (NULL while empty), owned */
    size_t len; /* bytes of text, without the NUL */
    size_t cap; /* bytes allocated */
    int oom;    /* set on the first failed append; sticky */
} ssp_text;

/* Append printf-formatted text. */
SSP_API void ssp_text_printf(ssp_text *t, const char *fmt, ...) SSP_PRINTF(2, 3);
/* SSP_OK, or SSP_ENOMEM with "out of memory for <what>" when an append failed. */
SSP_API int ssp_text_check(const ssp_text *t, ssp_ctx *ctx, const char *what);
/* Hand the text to the caller (free() it) and leave t empty; NULL if empty. */
SSP_API char *ssp_text_take(ssp_text *t);
/* Free the text and leave t empty (and usable again). */
SSP_API void ssp_text_free(ssp_text *t);

#endif
