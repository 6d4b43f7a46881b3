/* test_rng.c — the checked read of a random generator's state from a
 * checkpoint (ssp_rng): states MT19937 can be in read back and draw the
 * same numbers; a position outside 0..624, a word wider than 32 bits, a
 * truncated state and another generator type are refused by name, and a
 * refused generator keeps the state it had. */
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <string.h>

#include "ssp_rng.h"
#include "ssp_test.h"

/* GSL's MT19937 layout, as ssp_rng.c reads it. */
typedef struct {
    unsigned long mt[624];
    int mti;
} mt_state;

/* Write r's state into a fresh temporary file, rewound. */
static FILE *state_file(const gsl_rng *r, size_t cut)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (cut == 0) {
        CU_ASSERT_EQUAL(gsl_rng_fwrite(f, r), 0);
    } else {
        CU_ASSERT_EQUAL(fwrite(gsl_rng_state(r), 1, cut, f), cut);
    }
    rewind(f);
    return f;
}

/* Read a state with mti and word 17 set as given; the status. */
static int read_with(int mti, unsigned long word, char *msg, size_t n)
{
    gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
    mt_state *s;
    FILE *f;
    int rc;
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_EQUAL_FATAL(gsl_rng_size(a), sizeof(mt_state));
    gsl_rng_set(a, 7);
    s = gsl_rng_state(a);
    s->mti = mti;
    s->mt[17] = word;
    f = state_file(a, 0);
    ssp_ctx *ctx = ssp_test_ctx(); /* (each call clears the message) */
    rc = ssp_rng_read(ctx, f, b, "ck.bin: training state");
    snprintf(msg, n, "%s", ssp_ctx_errmsg(ctx));
    /* whatever was read, b draws inside its range */
    for (int i = 0; i < 2000; i++) CU_ASSERT(gsl_rng_get(b) <= gsl_rng_max(b));
    fclose(f);
    gsl_rng_free(a);
    gsl_rng_free(b);
    return rc;
}

static void test_rng__a_saved_state_draws_the_same_numbers(void)
{
    gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
    FILE *f;
    CU_ASSERT_FATAL(a && b);
    gsl_rng_set(a, 12345);
    for (int i = 0; i < 1000; i++) gsl_rng_get(a); /* mid-block: 0 < mti < 624 */
    f = state_file(a, 0);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_rng_read(ssp_test_ctx(), f, b, "ck.bin"));
    for (int i = 0; i < 5000; i++) CU_ASSERT_EQUAL(gsl_rng_get(a), gsl_rng_get(b));
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_rng_check(ssp_test_ctx(), b, "b"));
    fclose(f);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

static void test_rng__every_position_the_generator_can_hold_is_accepted(void)
{
    char msg[512];
    CU_ASSERT_EQUAL(read_with(0, 5, msg, sizeof msg), SSP_OK);
    CU_ASSERT_EQUAL(read_with(623, 5, msg, sizeof msg), SSP_OK);
    CU_ASSERT_EQUAL(read_with(624, 0xffffffffUL, msg, sizeof msg), SSP_OK); /* refill at the next draw */
}

static void test_rng__impossible_states_are_refused_by_name(void)
{
    char msg[512];
    CU_ASSERT_EQUAL(read_with(-5, 5, msg, sizeof msg), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "ck.bin: training state: random generator position -5 is outside 0..624"));
    CU_ASSERT_EQUAL(read_with(625, 5, msg, sizeof msg), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "position 625"));
    CU_ASSERT_EQUAL(read_with(-2147483647 - 1, 5, msg, sizeof msg), SSP_EFORMAT);
    CU_ASSERT_EQUAL(read_with(3, 0x100000000UL, msg, sizeof msg), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "random generator word 17 is 0x100000000, wider than 32 bits"));
}

static void test_rng__a_truncated_state_or_another_type_is_refused(void)
{
    gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *t = gsl_rng_alloc(gsl_rng_taus2);
    ssp_ctx *ctx = ssp_test_ctx();
    FILE *f;
    CU_ASSERT_FATAL(a && t);
    f = state_file(a, 100);
    CU_ASSERT_EQUAL(ssp_rng_read(ctx, f, a, "ck.bin"), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "ck.bin: random generator state truncated"));
    CU_ASSERT(gsl_rng_get(a) <= gsl_rng_max(a));
    fclose(f);
    f = state_file(t, 0);
    CU_ASSERT_EQUAL(ssp_rng_read(ctx, f, t, "ck.bin"), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "generator taus2 is not the MT19937"));
    fclose(f);
    gsl_rng_free(a);
    gsl_rng_free(t);
}

SSP_TEST_SUITE(rng)
{
    SSP_ADD_SUITE("rng", NULL, NULL,
                  SSP_TEST(test_rng__a_saved_state_draws_the_same_numbers),
                  SSP_TEST(test_rng__every_position_the_generator_can_hold_is_accepted),
                  SSP_TEST(test_rng__impossible_states_are_refused_by_name),
                  SSP_TEST(test_rng__a_truncated_state_or_another_type_is_refused));
}
