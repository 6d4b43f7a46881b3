/* ssp_test.h — shared helpers for the CUnit suites.
 *
 * A suite file starts its registration function with SSP_TEST_SUITE(name) at
 * the start of a line; the Makefile collects these into the runner. Tests are
 * named test_<module>__<behaviour>. Helpers here never hide failures. */
#ifndef SSP_TEST_H
#define SSP_TEST_H

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>

#include "ssp_error.h"
#include "ssp_pool.h"

#define SSP_TEST_SUITE(name) \
    int ssp_suite_##name(void); \
    int ssp_suite_##name(void)

/* Add a suite with its tests; returns 0 or a CUnit error. */
#define SSP_ADD_SUITE(title, init, clean, ...)                                 \
    do {                                                                      \
        CU_pSuite s_ = CU_add_suite(title, init, clean);                      \
        const struct { const char *n; CU_TestFunc f; } t_[] = {__VA_ARGS__};  \
        if (!s_) return CU_get_error();                                       \
        for (size_t i_ = 0; i_ < sizeof t_ / sizeof t_[0]; i_++)              \
            if (!CU_add_test(s_, t_[i_].n, t_[i_].f)) return CU_get_error();  \
        return 0;                                                             \
    } while (0)

#define SSP_TEST(fn) {#fn, fn}

/* Assert a status is SSP_OK, printing the context's message if not. */
#define SSP_ASSERT_OK(ctx, expr)                                               \
    do {                                                                      \
        int rc_ = (expr);                                                     \
        if (rc_ != SSP_OK)                                                    \
            fprintf(stderr, "\n  %s:%d: %s -> %d (%s): %s\n", __FILE__,        \
                    __LINE__, #expr, rc_, ssp_strerror(rc_),                  \
                    ssp_ctx_errmsg(ctx));                                     \
        CU_ASSERT_EQUAL_FATAL(rc_, SSP_OK);                                   \
    } while (0)

/* |a - b| <= rel * max(|a|, |b|, floor) */
static inline int ssp_close_rel(double a, double b, double rel, double floor_abs)
{
    double m = fmax(fmax(fabs(a), fabs(b)), floor_abs);
    return fabs(a - b) <= rel * m;
}

/* A quiet context for tests (warnings and errors still reach stderr when
 * SSP_TEST_VERBOSE is set). */
ssp_ctx *ssp_test_ctx(void);
/* The pool job handlers the test runner serves, as a local worker
 * (run_tests --pool-worker FD) and on MPI ranks > 0 (tests/plugin/test_pool.c). */
const ssp_pool_handler *ssp_test_pool_handlers(size_t *n);
/* A local pool of n workers that are this test runner (--pool-worker),
 * serving ssp_test_pool_handlers (tests/plugin/test_pool.c). */
int ssp_test_runner_pool(ssp_pool **p, ssp_ctx *ctx, int n);
/* Tiles programmed through pool against threads, bit for bit
 * (tests/program/test_hwprog.c). */
void ssp_test_hwprog_pool_alike(ssp_pool *pool);
/* 1 when the runner is rank 0 of an mpirun of more than one rank. */
int ssp_test_under_mpi(void);
/* Path of a file in the source tree. */
const char *ssp_test_path(char *buf, size_t n, const char *rel);
/* got against the golden file rel (source-tree relative), byte for byte,
 * naming the file on a difference; SSP_UPDATE_GOLDEN=1 rewrites the file
 * from got first. */
void ssp_test_golden(const char *rel, const char *got);

/* 1 under an instrumented run: valgrind (make memcheck sets
 * SSP_UNDER_VALGRIND) or an AddressSanitizer build (make asan), where
 * every allocation ngspice makes is intercepted and unwound. Tests that
 * run ngspice for a long transient shorten it then. */
int ssp_test_instrumented(void);

#endif
