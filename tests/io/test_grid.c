/* test_grid.c — the sweep grid parser (harness/io/ssp_grid.c): lists,
 * ranges, sections and comments; the odometer order of the jobs; every
 * syntax error named with its line; bytes past the given length ignored. */
#include <stdlib.h>
#include <string.h>

#include "ssp_grid.h"
#include "ssp_test.h"

static ssp_grid *parse_ok(const char *text)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_grid *g = NULL;
    int rc = ssp_grid_parse(&g, ctx, text, strlen(text), "g.ini");
    if (rc) fprintf(stderr, "\n  grid: %s\n", ssp_ctx_errmsg(ctx));
    CU_ASSERT_EQUAL(rc, SSP_OK);
    return g;
}

/* Parse text, expect SSP_EFORMAT with a message containing want. */
static void parse_bad(const char *text, const char *want)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_grid *g = NULL;
    CU_ASSERT_EQUAL(ssp_grid_parse(&g, ctx, text, strlen(text), "g.ini"), SSP_EFORMAT);
    CU_ASSERT_PTR_NULL(g);
    if (!strstr(ssp_ctx_errmsg(ctx), want)) {
        fprintf(stderr, "\n  for %s\n  got '%s', want '%s'\n", text, ssp_ctx_errmsg(ctx), want);
        CU_FAIL("message");
    }
}

static void test_grid__lists_ranges_sections_comments(void)
{
    ssp_grid *g = parse_ok("; a sweep\n"
                           "crossbar.r_wire = 0, 1 ,2.5,5   ; ohm/um\n"
                           "\n"
                           "run.seed = 1..3\n"
                           "# comment line\n"
                           "[train]\n"
                           "lr = 0.05, 1e-1\n"
                           "[device]\r\n"
                           "params = devicemodels/params/vteam32.ini\n");
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_EQUAL_FATAL(ssp_grid_nkeys(g), 4);
    CU_ASSERT_STRING_EQUAL(ssp_grid_key(g, 0), "crossbar.r_wire");
    CU_ASSERT_STRING_EQUAL(ssp_grid_key(g, 1), "run.seed");
    CU_ASSERT_STRING_EQUAL(ssp_grid_key(g, 2), "train.lr");
    CU_ASSERT_STRING_EQUAL(ssp_grid_key(g, 3), "device.params");
    CU_ASSERT_EQUAL(ssp_grid_nvalues(g, 0), 4);
    CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, 0, 1), "1");
    CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, 0, 2), "2.5");
    CU_ASSERT_EQUAL(ssp_grid_nvalues(g, 1), 3);
    CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, 1, 0), "1");
    CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, 1, 2), "3");
    CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, 2, 1), "1e-1");
    CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, 3, 0), "devicemodels/params/vteam32.ini");
    CU_ASSERT_EQUAL(ssp_grid_njobs(g), 4 * 3 * 2 * 1);
    ssp_grid_free(&g);
    CU_ASSERT_PTR_NULL(g);
    ssp_grid_free(&g); /* NULL is fine */
}

static void test_grid__jobs_in_odometer_order(void)
{
    ssp_grid *g = parse_ok("a.x = p, q\nb.y = -1..1\n");
    static const char *const want[6][2] = {{"p", "-1"}, {"p", "0"}, {"p", "1"}, {"q", "-1"}, {"q", "0"}, {"q", "1"}};
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_EQUAL_FATAL(ssp_grid_njobs(g), 6);
    for (size_t j = 0; j < 6; j++)
        for (size_t k = 0; k < 2; k++)
            CU_ASSERT_STRING_EQUAL(ssp_grid_value(g, k, ssp_grid_job_value(g, j, k)), want[j][k]);
    ssp_grid_free(&g);
}

static void test_grid__errors_name_the_line(void)
{
    parse_bad("", "names no key");
    parse_bad("; only a comment\n", "names no key");
    parse_bad("run.seed = 1\nnot an assignment\n", "g.ini:2: expected");
    parse_bad("run.seed =\n", "g.ini:1: run.seed has an empty value");
    parse_bad("run.seed = 1,,2\n", "empty value");
    parse_bad("= 1\n", "no key before '='");
    parse_bad("seed = 1\n", "must be section.key");
    parse_bad("[run]\nrun.seed = 1\n", "g.ini:2: key 'run.seed' must be section.key");
    parse_bad("a.b.c = 1\n", "must be section.key");
    parse_bad("a..b = 1\n", "is not section.key");
    parse_bad("a.b-c = 1\n", "holds '-'");
    parse_bad("run.seed = 1\nrun.seed = 2\n", "g.ini:2: key run.seed given twice (first on line 1)");
    parse_bad("train.lr = 0.1\nrun.seed = 1\n; a comment\n\nrun.seed = 2\n", "g.ini:5: key run.seed given twice (first on line 2)");
    parse_bad("run.seed = 1, 1\n", "lists the value '1' twice");
    parse_bad("run.seed = 1..3, 2\n", "lists the value '2' twice");
    parse_bad("run.seed = 5..1\n", "runs backwards");
    parse_bad("run.seed = 1..100000\n", "more than 4096 values");
    parse_bad("[run\n", "a section is '[name]'");
    parse_bad("[r-n]\n", "section name");
    parse_bad("run.seed = 1\x01\n", "non-printable byte 0x01");
}

static void test_grid__limits_and_buffer_bounds(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_grid *g = NULL;
    char big[4096];
    size_t n = 0;
    /* 5 keys of 10 values: 100000 combinations is the limit, 10^5 fits */
    for (int k = 0; k < 5; k++) n += (size_t)snprintf(big + n, sizeof big - n, "s.k%d = 0..9\n", k);
    SSP_ASSERT_OK(ctx, ssp_grid_parse(&g, ctx, big, n, "big"));
    CU_ASSERT_EQUAL(ssp_grid_njobs(g), 100000);
    ssp_grid_free(&g);
    n += (size_t)snprintf(big + n, sizeof big - n, "s.k9 = a, b\n");
    CU_ASSERT_EQUAL(ssp_grid_parse(&g, ctx, big, n, "big"), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "big:6: the grid has more than 100000 combinations"));
    /* only len bytes are read: what follows (here a bad line) is not */
    {
        const char text[] = "run.seed = 1, 2\nnot an assignment\n";
        SSP_ASSERT_OK(ctx, ssp_grid_parse(&g, ctx, text, 16, "cut"));
        CU_ASSERT_EQUAL(ssp_grid_njobs(g), 2);
        ssp_grid_free(&g);
        /* a NUL inside the length is an error, not the end */
        CU_ASSERT_EQUAL(ssp_grid_parse(&g, ctx, "run.seed = 1\0x\n", 15, "nul"), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "nul:1: a NUL byte"));
    }
}

SSP_TEST_SUITE(grid)
{
    SSP_ADD_SUITE("grid", NULL, NULL,
                  SSP_TEST(test_grid__lists_ranges_sections_comments),
                  SSP_TEST(test_grid__jobs_in_odometer_order),
                  SSP_TEST(test_grid__errors_name_the_line),
                  SSP_TEST(test_grid__limits_and_buffer_bounds));
}
