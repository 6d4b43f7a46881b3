/* test_twin.c — the Siamese twin: error compensation turns a stream of
 * sub-level updates into exactly one level change, sparse change counts are
 * exact, accumulation averages k batches, checkpoints round-trip. */
#include <stdlib.h>
#include <string.h>

#include "ssp_test.h"
#include "ssp_twin.h"

static ssp_twin *make(int compensate, double threshold)
{
    ssp_twin *t = NULL;
    size_t sizes[2] = {4, 6};
    const double w_max[2] = {1.0, 1.0};
    /* 11 levels: step = 1.0 / 10 */
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_twin_alloc(&t, ssp_test_ctx(), 2, sizes, 11, w_max, threshold, compensate));
    return t;
}

static void test_twin__sub_level_updates_cross_exactly_once(void)
{
    ssp_twin *t = make(1, 0.5);
    int changes = 0, i;
    double step = ssp_twin_step(t, 0);
    CU_ASSERT(fabs(step - 0.1) < 1e-15);
    for (i = 0; i < 4; i++) { /* 4 x 0.3 levels = 1.2 levels */
        ssp_twin_add(t, 1, 2, 0.3 * step);
        changes += (int)ssp_twin_quantize(t);
    }
    CU_ASSERT_EQUAL(changes, 1);
    CU_ASSERT_EQUAL(t->q[1][2], 1);
    CU_ASSERT(fabs(t->w[1][2] - 1.2 * step) < 1e-12); /* the residual is kept */
    ssp_twin_free(&t);
    CU_ASSERT_PTR_NULL(t);
}

static void test_twin__without_compensation_small_updates_are_lost(void)
{
    ssp_twin *t = make(0, 0.5);
    int changes = 0;
    for (int i = 0; i < 10; i++) {
        ssp_twin_add(t, 0, 0, 0.3 * ssp_twin_step(t, 0));
        changes += (int)ssp_twin_quantize(t);
    }
    CU_ASSERT_EQUAL(changes, 0);
    CU_ASSERT_EQUAL(t->q[0][0], 0);
    CU_ASSERT_EQUAL(t->w[0][0], 0.0);
    ssp_twin_free(&t);
}

static void test_twin__sparse_change_list_is_exact(void)
{
    ssp_twin *t = make(1, 0.5);

    double s = ssp_twin_step(t, 0);
    size_t n;
    t->w[0][0] = 0.49 * s;  /* stays 0 */
    t->w[0][3] = -0.51 * s; /* -> -1 */
    t->w[1][0] = 2.6 * s;   /* -> 3 */
    t->w[1][5] = 12 * s;    /* beyond range: clamps to 10 */
    n = ssp_twin_quantize(t);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(t->changes[0].m, 0);
    CU_ASSERT_EQUAL(t->changes[0].idx, 3);
    CU_ASSERT_EQUAL(t->changes[0].to, -1);
    CU_ASSERT_EQUAL(t->changes[1].to, 3);
    CU_ASSERT_EQUAL(t->changes[2].idx, 5);
    CU_ASSERT_EQUAL(t->changes[2].to, 10);
    CU_ASSERT_EQUAL(ssp_twin_quantize(t), 0); /* nothing moved since */
    CU_ASSERT_EQUAL(ssp_twin_quantize_all(t), 10); /* closed loop: every weight */
    ssp_twin_free(&t);
}

static void test_twin__threshold_suppresses_jitter(void)
{
    ssp_twin *t = make(1, 1.0);

    double s = ssp_twin_step(t, 0);
    t->w[0][1] = 0.8 * s; /* nearest level 1, but only 0.8 levels away */
    CU_ASSERT_EQUAL(ssp_twin_quantize(t), 0);
    t->w[0][1] = 1.0 * s;
    CU_ASSERT_EQUAL(ssp_twin_quantize(t), 1);
    t->w[0][1] = 0.4 * s; /* back near 0 but only 0.6 levels from the written 1 */
    CU_ASSERT_EQUAL(ssp_twin_quantize(t), 0);
    ssp_twin_free(&t);
}

static void test_twin__accumulation_averages_batches(void)
{
    ssp_twin *t = make(1, 0.5);
    for (int k = 1; k <= 4; k++) {
        t->grad[0][0] = (double)k; /* mean 2.5 */
        CU_ASSERT_EQUAL(ssp_twin_accumulate(t), k);
    }
    ssp_twin_apply(t, 0.1, 0.0);
    CU_ASSERT(fabs(t->w[0][0] + 0.25) < 1e-15);
    CU_ASSERT_EQUAL(t->pending, 0);
    CU_ASSERT_EQUAL(t->acc[0][0], 0.0);
    ssp_twin_free(&t);
}

static void test_twin__checkpoint_round_trip(void)
{
    ssp_twin *a = make(1, 0.5), *b = make(1, 0.5);
    FILE *f = tmpfile();

    for (size_t i = 0; i < 6; i++) a->w[1][i] = 0.07 * (double)i;
    a->vel[0][2] = 0.5;
    ssp_twin_quantize(a);
    SSP_ASSERT_OK(NULL, ssp_twin_write(a, f));
    rewind(f);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_twin_read(b, ssp_test_ctx(), f, "tmp"));
    CU_ASSERT_EQUAL(memcmp(a->w[1], b->w[1], 6 * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a->q[1], b->q[1], 6 * sizeof(int)), 0);
    CU_ASSERT_EQUAL(b->vel[0][2], 0.5);
    rewind(f);
    fputc(0, f); /* corrupt the magic */
    rewind(f);
    CU_ASSERT_EQUAL(ssp_twin_read(b, ssp_test_ctx(), f, "tmp"), SSP_EFORMAT);
    fclose(f);
    ssp_twin_free(&a);
    ssp_twin_free(&b);
}

SSP_TEST_SUITE(twin)
{
    SSP_ADD_SUITE("twin", NULL, NULL,
                  SSP_TEST(test_twin__sub_level_updates_cross_exactly_once),
                  SSP_TEST(test_twin__without_compensation_small_updates_are_lost),
                  SSP_TEST(test_twin__sparse_change_list_is_exact),
                  SSP_TEST(test_twin__threshold_suppresses_jitter),
                  SSP_TEST(test_twin__accumulation_averages_batches),
                  SSP_TEST(test_twin__checkpoint_round_trip));
}
