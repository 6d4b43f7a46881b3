/* ssp_rng.c — checked read of an MT19937 state (see ssp_rng.h). It reads
 * and checks; it never draws a number nor prints. */
#include "ssp_rng.h"

#include <string.h>

/* GSL's MT19937 state (gsl-2.7 rng/mt.c: N = 624). */
enum { MT_N = 624 };
typedef struct {
    unsigned long mt[MT_N];
    int mti;
} mt_state;

static const unsigned long MT_WORD_MAX = 0xffffffffUL; /* MT19937 words are 32 bits */

/* The checks of one state; what names it in the message. */
static int check_state(ssp_ctx *ctx, const mt_state *s, const char *what)
{
    if (s->mti < 0 || s->mti > MT_N)
        return ssp_error(ctx, SSP_EFORMAT, "%s: random generator position %d is outside 0..%d", what, s->mti, MT_N);
    for (int i = 0; i < MT_N; i++)
        if (s->mt[i] > MT_WORD_MAX)
            return ssp_error(ctx, SSP_EFORMAT, "%s: random generator word %d is %#lx, wider than 32 bits", what, i,
                             s->mt[i]);
    return SSP_OK;
}

static int is_mt(ssp_ctx *ctx, const gsl_rng *r, const char *what)
{
    if (r->type != gsl_rng_mt19937 || gsl_rng_size(r) != sizeof(mt_state))
        return ssp_error(ctx, SSP_EINVAL, "%s: generator %s is not the MT19937 siamspice stores", what,
                         gsl_rng_name(r));
    return SSP_OK;
}

int ssp_rng_check(ssp_ctx *ctx, const gsl_rng *r, const char *what)
{
    int rc = is_mt(ctx, r, what);
    return rc ? rc : check_state(ctx, (const mt_state *)gsl_rng_state(r), what);
}

/* gsl_rng_fread is fread(state, size, 1) behind GSL's error handler; the
 * bytes are read into a copy here and reach r only once checked. */
int ssp_rng_read(ssp_ctx *ctx, FILE *f, gsl_rng *r, const char *what)
{
    mt_state s;
    int rc = is_mt(ctx, r, what);
    if (rc) return rc;
    if (fread(&s, sizeof s, 1, f) != 1)
        return ssp_error(ctx, SSP_EFORMAT, "%s: random generator state truncated", what);
    rc = check_state(ctx, &s, what);
    if (!rc) memcpy(gsl_rng_state(r), &s, sizeof s);
    return rc;
}
