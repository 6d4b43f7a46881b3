/* test_error.c — status table, context error state, logger and atomic files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_test.h"

static void test_error__strerror_covers_table(void)
{
    CU_ASSERT_STRING_EQUAL(ssp_strerror(SSP_OK), "success");
    CU_ASSERT_STRING_EQUAL(ssp_strerror(SSP_ESYNTAX), "netlist not parsed by ngspice");
    CU_ASSERT_STRING_EQUAL(ssp_strerror(12345), "unknown status");
}

static void test_error__message_and_prefix(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    int rc = ssp_error(ctx, SSP_EFORMAT, "bad magic %#x", 0x801u);
    CU_ASSERT_EQUAL(rc, SSP_EFORMAT);
    CU_ASSERT_EQUAL(ssp_ctx_errcode(ctx), SSP_EFORMAT);
    ssp_error_prefix(ctx, "%s: ", "x.idx");
    CU_ASSERT_STRING_EQUAL(ssp_ctx_errmsg(ctx), "x.idx: bad magic 0x801");
    ssp_ctx_clear_error(ctx);
    CU_ASSERT_STRING_EQUAL(ssp_ctx_errmsg(ctx), "");
    CU_ASSERT_EQUAL(ssp_error(NULL, SSP_EIO, "no context"), SSP_EIO);
}

struct log_capture {
    int n;
    char last[256];
};

static void capture(int level, const char *event, const char *kv, void *payload)
{
    struct log_capture *c = payload;
    c->n++;
    snprintf(c->last, sizeof c->last, "%d %s %s", level, event, kv);
}

static void test_error__logger_filters_levels(void)
{
    ssp_ctx *ctx = NULL;
    struct log_capture cap = {0};
    SSP_ASSERT_OK(NULL, ssp_ctx_create(&ctx));
    ssp_ctx_set_logger(ctx, capture, &cap);
    CU_ASSERT_EQUAL(ssp_ctx_log_level(ctx), SSP_LOG_WARN); /* the default */
    ssp_ctx_set_log_level(ctx, SSP_LOG_INFO);
    CU_ASSERT_EQUAL(ssp_ctx_log_level(ctx), SSP_LOG_INFO);
    CU_ASSERT_EQUAL(ssp_ctx_log_level(NULL), SSP_LOG_WARN);
    ssp_log(ctx, SSP_LOG_DEBUG, "hidden", "x = %d", 1);
    ssp_log(ctx, SSP_LOG_INFO, "shown", "x = %d", 2);
    CU_ASSERT_EQUAL(cap.n, 1);
    CU_ASSERT_STRING_EQUAL(cap.last, "2 shown x = 2");
    ssp_ctx_destroy(&ctx);
    CU_ASSERT_PTR_NULL(ctx);
    ssp_ctx_destroy(&ctx); /* NULL is a no-op */
}

static void test_error__atomic_write_keeps_old_file_on_abort(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char path[] = "/tmp/ssp_test_atomic_XXXXXX";
    int fd = mkstemp(path);
    ssp_afile *f = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, path, "first", 5));
    SSP_ASSERT_OK(ctx, ssp_file_atomic_open(&f, ctx, path));
    fputs("second, unfinished", ssp_file_stream(f));
    ssp_file_atomic_abort(&f);
    CU_ASSERT_PTR_NULL(f);
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, path, &data, &len));
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_STRING_EQUAL((char *)data, "first");
    free(data);
    remove(path);
}

static void test_error__write_into_missing_dir_fails_with_path(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    int rc = ssp_file_write_all(ctx, "/nonexistent-dir/x.txt", "x", 1);
    CU_ASSERT_EQUAL(rc, SSP_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "/nonexistent-dir/x.txt"));
}

SSP_TEST_SUITE(error)
{
    SSP_ADD_SUITE("error", NULL, NULL,
                  SSP_TEST(test_error__strerror_covers_table),
                  SSP_TEST(test_error__message_and_prefix),
                  SSP_TEST(test_error__logger_filters_levels),
                  SSP_TEST(test_error__atomic_write_keeps_old_file_on_abort),
                  SSP_TEST(test_error__write_into_missing_dir_fails_with_path));
}
