/* test_text.c — the growing text buffer (ssp_text)
 * (the time-vector search ssp_spice_time_* is tested in tests/plugin). */
#include <stdlib.h>
#include <string.h>

#include "ssp_test.h"
#include "ssp_text.h"

#define DIGITS40 "0123456789012345678901234567890123456789"

static void test_text__appends_grow_past_every_capacity(void)
{
    ssp_text t = {0};
    size_t want = 0;
    char piece[64];
    /* pieces of varying length across several doublings of the capacity */
    for (int i = 0; i < 5000; i++) {
        int k = snprintf(piece, sizeof piece, "line %d %.*s\n", i, i % 40, DIGITS40);
        ssp_text_printf(&t, "line %d %.*s\n", i, i % 40, DIGITS40);
        want += (size_t)k;
    }
    CU_ASSERT_FALSE(t.oom);
    CU_ASSERT_EQUAL(t.len, want);
    CU_ASSERT_EQUAL(strlen(t.s), want);
    CU_ASSERT(t.cap > t.len);
    CU_ASSERT_EQUAL(strncmp(t.s, "line 0 \nline 1 0\nline 2 01\n", 27), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(t.s, "line 4999 012345678901234567890123456789012345678\n"));
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_text_check(&t, ssp_test_ctx(), "a test text"));
    ssp_text_free(&t);
    CU_ASSERT_PTR_NULL(t.s);
    CU_ASSERT_EQUAL(t.len, 0);
    ssp_text_free(&t); /* twice is harmless */
}

static void test_text__one_piece_larger_than_the_first_block(void)
{
    ssp_text t = {0};
    size_t n = 100000;
    char *big = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'x', n);
    big[n] = '\0';
    ssp_text_printf(&t, "<%s>", big);
    CU_ASSERT_EQUAL(t.len, n + 2);
    CU_ASSERT_EQUAL(t.s[0], '<');
    CU_ASSERT_EQUAL(t.s[n + 1], '>');
    CU_ASSERT_EQUAL(t.s[n + 2], '\0');
    free(big);
    ssp_text_free(&t);
}

static void test_text__take_hands_over_and_empties(void)
{
    ssp_text t = {0};
    char *s;
    CU_ASSERT_PTR_NULL(ssp_text_take(&t)); /* empty: nothing to hand over */
    ssp_text_printf(&t, "%s=%g", "r_on", 1e4);
    s = ssp_text_take(&t);
    CU_ASSERT_STRING_EQUAL(s, "r_on=10000");
    CU_ASSERT_PTR_NULL(t.s);
    CU_ASSERT_EQUAL(t.len + t.cap, 0);
    ssp_text_printf(&t, "again"); /* usable after take */
    CU_ASSERT_STRING_EQUAL(t.s, "again");
    free(s);
    ssp_text_free(&t);
}

static void test_text__failed_append_is_sticky_and_reported(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_text t = {0};
    ssp_text_printf(&t, "kept");
    t.oom = 1; /* as after a failed realloc */
    ssp_text_printf(&t, " dropped");
    CU_ASSERT_STRING_EQUAL(t.s, "kept");
    CU_ASSERT_EQUAL(ssp_text_check(&t, ctx, "the tile deck"), SSP_ENOMEM);
    CU_ASSERT_STRING_EQUAL(ssp_ctx_errmsg(ctx), "out of memory for the tile deck");
    ssp_ctx_clear_error(ctx);
    ssp_text_free(&t);
    CU_ASSERT_FALSE(t.oom);
}

SSP_TEST_SUITE(text)
{
    SSP_ADD_SUITE("text", NULL, NULL,
                  SSP_TEST(test_text__appends_grow_past_every_capacity),
                  SSP_TEST(test_text__one_piece_larger_than_the_first_block),
                  SSP_TEST(test_text__take_hands_over_and_empties),
                  SSP_TEST(test_text__failed_append_is_sticky_and_reported));
}
