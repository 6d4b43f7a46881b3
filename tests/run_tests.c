/* run_tests.c — the CUnit runner for every suite.
 *
 *   run_tests [SUITE...]   run all suites, or only those named
 *   mpirun -np N run_tests SUITE...   rank 0 runs the suites, the other
 *                          ranks serve pool jobs (make test-mpi)
 *   run_tests --pool-worker FD        a local pool worker with the test
 *                          handlers (started by the pool suites)
 *
 * Exit status = number of failed tests (capped at 255), or 255 on a CUnit
 * framework error. CU_basic_run_tests() reports framework errors only, so the
 * count comes from CU_get_number_of_tests_failed(). */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"
#include "ssp_test.h"

#define SSP_SUITE_ENTRY(name) int ssp_suite_##name(void);
#include "suites.h"
#undef SSP_SUITE_ENTRY

static const struct {
    const char *name;
    int (*reg)(void);
} suites[] = {
#define SSP_SUITE_ENTRY(name) {#name, ssp_suite_##name},
#include "suites.h"
#undef SSP_SUITE_ENTRY
};

static ssp_ctx *g_test_ctx; /* owned by main; the only file-level state, test-only */
static int g_mpi_size = 1;  /* ranks of the mpirun that started us (test-only) */

int ssp_test_under_mpi(void) { return g_mpi_size > 1; }

ssp_ctx *ssp_test_ctx(void)
{
    ssp_ctx_clear_error(g_test_ctx);
    return g_test_ctx;
}

const char *ssp_test_path(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", SSP_SOURCE_DIR, rel);
    return buf;
}

int ssp_test_instrumented(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#else
    return getenv("SSP_UNDER_VALGRIND") != NULL;
#endif
}

void ssp_test_golden(const char *rel, const char *got)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char path[1024];
    unsigned char *want = NULL;
    size_t len = 0;
    ssp_test_path(path, sizeof path, rel);
    if (getenv("SSP_UPDATE_GOLDEN")) SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, path, got, strlen(got)));
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, path, &want, &len));
    if (len != strlen(got) || memcmp(want, got, len) != 0)
        fprintf(stderr, "\n  %s differs from what the test made (SSP_UPDATE_GOLDEN=1 rewrites)\n", rel);
    CU_ASSERT_EQUAL(len, strlen(got));
    CU_ASSERT_STRING_EQUAL((const char *)want, got);
    free(want);
}

static int wanted(int argc, char **argv, const char *name)
{
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned failed;
    size_t i;
    int matched = 0;

    int rank = 0;
    if (argc == 3 && strcmp(argv[1], "--pool-worker") == 0) {
        size_t nh;
        const ssp_pool_handler *h = ssp_test_pool_handlers(&nh);
        return ssp_pool_worker_serve_handlers(atoi(argv[2]), h, nh) == SSP_OK ? 0 : 1;
    }
    if (ssp_ctx_create(&g_test_ctx) != SSP_OK) return 255;
    if (ssp_pool_mpi_init(g_test_ctx, &argc, &argv, &rank, &g_mpi_size) != SSP_OK) {
        fprintf(stderr, "run_tests: %s\n", ssp_ctx_errmsg(g_test_ctx));
        return 255;
    }
    if (rank > 0) {
        size_t nh;
        const ssp_pool_handler *h = ssp_test_pool_handlers(&nh);
        int rc = ssp_pool_mpi_serve(h, nh);
        ssp_pool_mpi_finalize();
        ssp_ctx_destroy(&g_test_ctx);
        return rc == SSP_OK ? 0 : 255;
    }
    ssp_ctx_set_log_level(g_test_ctx, getenv("SSP_TEST_VERBOSE") ? SSP_LOG_DEBUG : -1);
    if (CU_initialize_registry() != CUE_SUCCESS) return 255;
    for (i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (!wanted(argc, argv, suites[i].name)) continue;
        matched++;
        if (suites[i].reg() != 0) {
            fprintf(stderr, "run_tests: cannot register suite %s: %s\n", suites[i].name, CU_get_error_msg());
            CU_cleanup_registry();
            return 255;
        }
    }
    if (!matched) {
        fprintf(stderr, "run_tests: no suite matches\n");
        CU_cleanup_registry();
        return 255;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        fprintf(stderr, "run_tests: CUnit error: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 255;
    }
    failed = CU_get_number_of_tests_failed();
    printf("\n%u passed, %u failed\n", CU_get_number_of_tests_run() - failed, failed);
    CU_cleanup_registry();
    ssp_pool_mpi_finalize();
    ssp_ctx_destroy(&g_test_ctx);
    return failed > 254 ? 254 : (int)failed;
}
