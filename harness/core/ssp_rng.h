/* ssp_rng.h — reading a random generator's state back from a checkpoint.
 *
 * siamspice draws every random number from GSL's MT19937 (gsl_rng_mt19937)
 * and stores a generator in a checkpoint as gsl_rng_fwrite writes it: the
 * raw bytes of GSL's state. gsl_rng_fread takes any bytes back, and GSL
 * trusts its state: an MT19937 position index out of range makes the next
 * draw read outside the state (found by the checkpoint fuzzer: a crash in
 * gsl_ran_gaussian_ziggurat), and a word wider than 32 bits makes
 * gsl_rng_get return more than gsl_rng_max, which callers such as
 * gsl_rng_uniform_int rely on. So a state read from a file is checked
 * before use. The layout is GSL's (rng/mt.c, unchanged since GSL 1.0):
 * `struct { unsigned long mt[624]; int mti; }`; mti = 624 means "refill
 * at the next draw", and gsl_rng_set leaves mti = 624 too.
 *
 * This module knows only MT19937; any other generator type is refused. */
#ifndef SSP_RNG_H
#define SSP_RNG_H

#include <gsl/gsl_rng.h>
#include <stdio.h>

#include "ssp_error.h"

/* Read r's state from f (gsl_rng_fread) and check it. SSP_OK; SSP_EFORMAT
 * when f ends early or the state is not one MT19937 can be in (the message,
 * set on ctx, names `what` and the field); SSP_EINVAL when r is not an
 * MT19937. On an error r keeps the state it had: a caller that goes on by
 * mistake still draws from a valid generator. */
SSP_API int ssp_rng_read(ssp_ctx *ctx, FILE *f, gsl_rng *r, const char *what);
/* Check r's present state the same way (SSP_OK or SSP_EFORMAT). */
SSP_API int ssp_rng_check(ssp_ctx *ctx, const gsl_rng *r, const char *what);

#endif
