/* test_units.c — the number formats of harness/core/ssp_units: the shortest
 * form that reads back exactly (tapeout files) and engineering prefixes
 * (reports). Parsing is covered with the device parameters and the config. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_test.h"
#include "ssp_units.h"

/* Values a schedule holds: times in s, amplitudes in V, and the awkward
 * ones (a third, denormals, the extremes). */
static void test_units__exact_format_is_shortest_and_reads_back(void)
{
    static const double vals[] = {4e-08,   1e-9,         0.1 + 0.2, 1.0 / 3.0, -1.1, 0.5, 2.5e-6,
                                  1.2e-7,  -0.366666667, 0.0,       -0.0,      1e300, DBL_MIN,
                                  DBL_MAX, 5e-324,       1e21,      123456789012345678.0};
    char b[SSP_UNITS_FMT_CAP];
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char shorter[64];
        ssp_units_format_exact(b, sizeof b, vals[i]);
        CU_ASSERT_EQUAL(strtod(b, NULL), vals[i]);
        CU_ASSERT_EQUAL(signbit(strtod(b, NULL)), signbit(vals[i]));
        /* the first of %.15g, %.16g, %.17g that reads back */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(shorter, sizeof shorter, "%.*g", prec, vals[i]);
            if (strtod(shorter, NULL) == vals[i]) {
                CU_ASSERT_STRING_EQUAL(b, shorter);
                break;
            }
        }
    }
    CU_ASSERT_STRING_EQUAL(ssp_units_format_exact(b, sizeof b, 4e-08), "4e-08");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_exact(b, sizeof b, 0.1 + 0.2), "0.30000000000000004");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_exact(b, sizeof b, 1.0 / 3.0), "0.3333333333333333");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_exact(b, sizeof b, -1.1), "-1.1");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_exact(b, sizeof b, 8.05e-7), "8.05e-07");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_exact(b, sizeof b, 0.0), "0");
}

static void test_units__engineering_prefixes(void)
{
    char b[SSP_UNITS_FMT_CAP];
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, 9.162e-08, "J", 4), "91.62 nJ");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, 1.5e-3, "s", 4), "1.5 ms");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, 0, "J", 4), "0 J");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, 2.5, "V", 3), "2.5 V");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, 12500, "ohm", 3), "12.5 kohm");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, -3.3e-12, "J", 2), "-3.3 pJ");
    /* rounding that crosses a prefix boundary takes the next prefix */
    CU_ASSERT_STRING_EQUAL(ssp_units_format_eng(b, sizeof b, 999.96e-9, "J", 4), "1 uJ");
    /* beyond the table: the largest or smallest prefix, still the right value */
    ssp_units_format_eng(b, sizeof b, 1e-20, "J", 3);
    CU_ASSERT(fabs(strtod(b, NULL) * 1e-15 - 1e-20) < 1e-30);
    CU_ASSERT_PTR_NOT_NULL(strstr(b, " fJ"));
}

static void test_units__percent_never_rounds_to_its_bounds(void)
{
    char b[SSP_UNITS_FMT_CAP];
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 99.64), "99.64");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 100.0 * (1 - 6666.0 / 149081250.0)), "99.996");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 100), "100.00");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 0), "0.00");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 0.004), "0.004");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 100 - 1e-9), "> 99.999999");
    CU_ASSERT_STRING_EQUAL(ssp_units_format_pct(b, sizeof b, 1e-9), "< 0.000001");
}

SSP_TEST_SUITE(units)
{
    SSP_ADD_SUITE("units", NULL, NULL, SSP_TEST(test_units__exact_format_is_shortest_and_reads_back),
                  SSP_TEST(test_units__engineering_prefixes),
                  SSP_TEST(test_units__percent_never_rounds_to_its_bounds));
}
