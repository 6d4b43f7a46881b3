/* test_ckpt.c — the checkpoint container on its own (ssp_ckpt.h): a file
 * written section by section reads back through ssp_ckpt_load, sections
 * are found by tag, and a missing or damaged file is an error naming it.
 * The training checkpoint built on it is tested in tests/train/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_ckpt.h"
#include "ssp_file.h"
#include "ssp_test.h"

/* Writes sections "alpha" ("one") and "beta" ("two, longer") to a temp file. */
static void write_two_sections(ssp_ctx *ctx, char *path)
{
    ssp_ckpt_writer *w = NULL;
    FILE *f = NULL;
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    SSP_ASSERT_OK(ctx, ssp_ckpt_writer_create(&w, ctx));
    SSP_ASSERT_OK(ctx, ssp_ckpt_writer_section(w, "alpha", &f));
    fputs("one", f);
    SSP_ASSERT_OK(ctx, ssp_ckpt_writer_section(w, "beta", &f));
    fputs("two, longer", f);
    SSP_ASSERT_OK(ctx, ssp_ckpt_writer_commit(w, path));
    ssp_ckpt_writer_destroy(&w);
    CU_ASSERT_PTR_NULL(w);
}

static void test_ckpt__load_finds_sections_by_tag(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char path[] = "/tmp/ssp_test_ckpt_XXXXXX", buf[32] = "";
    ssp_ckpt *c = NULL;
    FILE *f = NULL;
    write_two_sections(ctx, path);
    SSP_ASSERT_OK(ctx, ssp_ckpt_load(&c, ctx, path));
    CU_ASSERT_EQUAL(ssp_ckpt_format(c), SSP_CKPT_FORMAT);
    CU_ASSERT_STRING_EQUAL(ssp_ckpt_origin(c), path);
    CU_ASSERT_EQUAL(ssp_ckpt_has(c, "alpha"), 1);
    CU_ASSERT_EQUAL(ssp_ckpt_has(c, "beta"), 1);
    CU_ASSERT_EQUAL(ssp_ckpt_has(c, "gamma"), 0);
    /* out of order: sections are found by tag, not by position */
    SSP_ASSERT_OK(ctx, ssp_ckpt_open(c, ctx, "beta", &f));
    CU_ASSERT_EQUAL(fread(buf, 1, sizeof buf - 1, f), strlen("two, longer"));
    CU_ASSERT_STRING_EQUAL(buf, "two, longer");
    SSP_ASSERT_OK(ctx, ssp_ckpt_close(c, ctx, &f));
    CU_ASSERT_EQUAL(ssp_ckpt_open(c, ctx, "gamma", &f), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "gamma"));
    ssp_ckpt_free(&c);
    CU_ASSERT_PTR_NULL(c);
    ssp_ckpt_free(&c); /* NULL is a no-op */
    remove(path);
}

static void test_ckpt__load_errors_name_the_file(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char path[] = "/tmp/ssp_test_ckpt_XXXXXX";
    ssp_ckpt *c = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(ssp_ckpt_load(&c, ctx, "/nonexistent-dir/x.bin"), SSP_EIO);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "/nonexistent-dir/x.bin"));
    /* one payload byte flipped: the section CRC fails */
    write_two_sections(ctx, path);
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, path, &data, &len));
    CU_ASSERT_FATAL(len > 3);
    data[len - 3] ^= 0x20;
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, path, data, len));
    CU_ASSERT_EQUAL(ssp_ckpt_load(&c, ctx, path), SSP_EFORMAT);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), path));
    free(data);
    remove(path);
}

SSP_TEST_SUITE(ckpt)
{
    SSP_ADD_SUITE("ckpt", NULL, NULL,
                  SSP_TEST(test_ckpt__load_finds_sections_by_tag),
                  SSP_TEST(test_ckpt__load_errors_name_the_file));
}
