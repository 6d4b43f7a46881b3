/* ssp_text.c — the growing text buffer (see ssp_text.h). Capacity doubles
 * from TEXT_MIN_CAP, so n appends cost O(total length) amortised. It keeps
 * no state of its own and prints nothing. */
#include "ssp_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* First allocation, bytes: most texts (a tile's PWL file, a parameter file)
 * fit; netlists grow from here. */
#define TEXT_MIN_CAP 4096

void ssp_text_printf(ssp_text *t, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (t->oom) return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        k = vsnprintf(t->s ? t->s + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = 1;
            return;
        }
        if ((size_t)k < room) {
            t->len += (size_t)k;
            return;
        }
        {
            size_t cap = t->cap ? 2 * t->cap : TEXT_MIN_CAP;
            char *s;
            while (cap - t->len <= (size_t)k) cap *= 2;
            if (!(s = realloc(t->s, cap))) {
                t->oom = 1;
                return;
            }
            t->s = s;
            t->cap = cap;
        }
    }
}

int ssp_text_check(const ssp_text *t, ssp_ctx *ctx, const char *what)
{
    if (!t->oom) return SSP_OK;
    return ssp_error(ctx, SSP_ENOMEM, "out of memory for %s", what);
}

char *ssp_text_take(ssp_text *t)
{
    char *s = t->s;
    t->s = NULL;
    t->len = t->cap = 0;
    t->oom = 0;
    return s;
}

void ssp_text_free(ssp_text *t)
{
    free(ssp_text_take(t));
}
