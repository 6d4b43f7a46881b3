/* test_idx.c — IDX reader: the real data sets load with the right counts and
 * first-image checksums; truncated, wrong-magic, wrong-count and trailing-
 * garbage files are each rejected with an error naming the file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ssp_file.h"
#include "ssp_idx.h"
#include "ssp_test.h"

static unsigned long pixel_sum(const ssp_idx *x, size_t item)
{
    unsigned long s = 0;
    for (size_t i = 0; i < x->item_size; i++) s += x->data[item * x->item_size + i];
    return s;
}

static void test_idx__mnist_loads_with_counts_and_checksum(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[512];
    ssp_idx *x = NULL;
    SSP_ASSERT_OK(ctx, ssp_idx_load(&x, ctx, ssp_test_path(p, sizeof p, "data/mnist/train-images-idx3-ubyte"), 3));
    CU_ASSERT_EQUAL(x->count, 60000);
    CU_ASSERT_EQUAL(x->dims[1], 28);
    CU_ASSERT_EQUAL(x->dims[2], 28);
    CU_ASSERT_EQUAL(pixel_sum(x, 0), 27525); /* sum of the first image's bytes */
    ssp_idx_free(&x);
    SSP_ASSERT_OK(ctx, ssp_idx_load(&x, ctx, ssp_test_path(p, sizeof p, "data/mnist/t10k-images-idx3-ubyte"), 3));
    CU_ASSERT_EQUAL(x->count, 10000);
    CU_ASSERT_EQUAL(pixel_sum(x, 0), 18454);
    ssp_idx_free(&x);
    CU_ASSERT_PTR_NULL(x);
}

static void test_idx__fashion_gz_dataset_loads(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char pi[512], pl[512];
    ssp_dataset *d = NULL;
    SSP_ASSERT_OK(ctx, ssp_dataset_load(&d, ctx,
                                        ssp_test_path(pi, sizeof pi, "data/fashion-mnist/train-images-idx3-ubyte.gz"),
                                        ssp_test_path(pl, sizeof pl, "data/fashion-mnist/train-labels-idx1-ubyte.gz"), 0, 10));
    CU_ASSERT_EQUAL(d->n, 60000);
    CU_ASSERT_EQUAL(d->dim, 784);
    CU_ASSERT_EQUAL(d->nclasses, 10);
    CU_ASSERT_EQUAL(d->y[0], 9);
    CU_ASSERT_EQUAL(d->y[3], 3);
    {
        double s = 0;
        for (size_t i = 0; i < d->dim; i++) s += d->x[i];
        CU_ASSERT(fabs(s - 76247 / 255.0) < 1e-9);
    }
    ssp_dataset_free(&d);
}

static void test_idx__mnist_labels_match(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char pi[512], pl[512];
    ssp_dataset *d = NULL;
    const unsigned char first[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
    SSP_ASSERT_OK(ctx, ssp_dataset_load(&d, ctx, ssp_test_path(pi, sizeof pi, "data/mnist/train-images-idx3-ubyte"),
                                        ssp_test_path(pl, sizeof pl, "data/mnist/train-labels-idx1-ubyte"), 12, 10));
    CU_ASSERT_EQUAL(d->n, 12);
    CU_ASSERT_EQUAL(memcmp(d->y, first, 10), 0);
    ssp_dataset_free(&d);
}

/* Write an IDX image file with a header claiming `count` images of 2x2 and
 * `actual` images of data; gz selects gzip. */
static void write_images(const char *path, const unsigned char magic[4], uint32_t count, uint32_t actual, int gz)
{
    unsigned char buf[4 + 12 + 64 * 4];
    size_t n = 0;
    memcpy(buf, magic, 4);
    n = 4;
    uint32_t d[3] = {count, 2, 2};
    for (int i = 0; i < 3; i++) {
        buf[n++] = (unsigned char)(d[i] >> 24);
        buf[n++] = (unsigned char)(d[i] >> 16);
        buf[n++] = (unsigned char)(d[i] >> 8);
        buf[n++] = (unsigned char)d[i];
    }
    for (uint32_t i = 0; i < actual * 4; i++) buf[n++] = (unsigned char)i;
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, buf, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
    }
}

static const unsigned char MAGIC3[4] = {0, 0, 8, 3};

static void expect_bad(const char *path, const char *needle)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_idx *x = NULL;
    CU_ASSERT_EQUAL(ssp_idx_load(&x, ctx, path, 3), SSP_EFORMAT);
    CU_ASSERT_PTR_NULL(x);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), path));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), needle));
    if (!strstr(ssp_ctx_errmsg(ctx), needle)) fprintf(stderr, "\n  message: %s\n", ssp_ctx_errmsg(ctx));
}

static void test_idx__small_valid_file_loads(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *path = "/tmp/ssp_idx_ok.idx.gz";
    ssp_idx *x = NULL;
    write_images(path, MAGIC3, 5, 5, 1);
    SSP_ASSERT_OK(ctx, ssp_idx_load(&x, ctx, path, 3));
    CU_ASSERT_EQUAL(x->count, 5);
    CU_ASSERT_EQUAL(x->item_size, 4);
    CU_ASSERT_EQUAL(x->data[19], 19);
    ssp_idx_free(&x);
    remove(path);
}

static void test_idx__truncated_file_rejected(void)
{
    const char *path = "/tmp/ssp_idx_trunc.idx";
    write_images(path, MAGIC3, 5, 4, 0);
    expect_bad(path, "truncated");
    write_images(path, MAGIC3, 5, 4, 1); /* the same inside gzip */
    expect_bad(path, "truncated");
    remove(path);
}

static void test_idx__truncated_gzip_stream_rejected(void)
{
    const char *path = "/tmp/ssp_idx_cut.idx.gz";
    unsigned char *data = NULL;
    size_t len = 0;
    write_images(path, MAGIC3, 60, 60, 1);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), path, &data, &len));
    free(data);
    {
        FILE *f = fopen(path, "rb");
        unsigned char raw[4096];
        size_t n = fread(raw, 1, sizeof raw, f);
        fclose(f);
        f = fopen(path, "wb");
        fwrite(raw, 1, n / 2, f); /* cut the compressed stream in half */
        fclose(f);
    }
    {
        ssp_ctx *ctx = ssp_test_ctx();
        ssp_idx *x = NULL;
        int rc = ssp_idx_load(&x, ctx, path, 3);
        CU_ASSERT_EQUAL(rc, SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), path));
    }
    remove(path);
}

static void test_idx__wrong_magic_rejected(void)
{
    const char *path = "/tmp/ssp_idx_magic.idx";
    const unsigned char bad[4] = {1, 0, 8, 3};
    const unsigned char badtype[4] = {0, 0, 0x0d, 3};
    write_images(path, bad, 5, 5, 0);
    expect_bad(path, "magic");
    write_images(path, badtype, 5, 5, 0);
    expect_bad(path, "type 0x0d");
    remove(path);
}

static void test_idx__trailing_bytes_rejected(void)
{
    const char *path = "/tmp/ssp_idx_long.idx";
    write_images(path, MAGIC3, 4, 5, 0);
    expect_bad(path, "beyond");
    remove(path);
}

static void test_idx__wrong_count_between_files_rejected(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *pi = "/tmp/ssp_idx_img.idx", *pl = "/tmp/ssp_idx_lab.idx";
    const unsigned char lab[] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    ssp_dataset *d = NULL;
    write_images(pi, MAGIC3, 5, 5, 0);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, pl, lab, sizeof lab));
    CU_ASSERT_EQUAL(ssp_dataset_load(&d, ctx, pi, pl, 0, 10), SSP_EFORMAT);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "5 images"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "4 labels"));
    remove(pi);
    remove(pl);
}

/* A label at or past the network's classes (200 and 255 on a 10-class
 * network) is refused naming the file, the label's index and its value;
 * labels 0..9 load. */
static void test_idx__label_out_of_range_rejected(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const char *pi = "/tmp/ssp_idx_rimg.idx", *pl = "/tmp/ssp_idx_rlab.idx";
    unsigned char lab[] = {0, 0, 8, 1, 0, 0, 0, 5, 1, 9, 0, 7, 3};
    ssp_dataset *d = NULL;
    write_images(pi, MAGIC3, 5, 5, 0);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, pl, lab, sizeof lab));
    SSP_ASSERT_OK(ctx, ssp_dataset_load(&d, ctx, pi, pl, 0, 10));
    CU_ASSERT_EQUAL(d->nclasses, 10);
    ssp_dataset_free(&d);
    lab[8 + 3] = 200;
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, pl, lab, sizeof lab));
    CU_ASSERT_EQUAL(ssp_dataset_load(&d, ctx, pi, pl, 0, 10), SSP_EFORMAT);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), pl));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "label 3 (0-based) is 200"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "10 classes"));
    /* past the kept examples too: the file is wrong, whatever is kept */
    lab[8 + 3] = 3;
    lab[8 + 4] = 255;
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, pl, lab, sizeof lab));
    CU_ASSERT_EQUAL(ssp_dataset_load(&d, ctx, pi, pl, 2, 10), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "label 4 (0-based) is 255"));
    /* a label equal to the class count is one too many */
    lab[8 + 4] = 10;
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, pl, lab, sizeof lab));
    CU_ASSERT_EQUAL(ssp_dataset_load(&d, ctx, pi, pl, 0, 10), SSP_EFORMAT);
    SSP_ASSERT_OK(ctx, ssp_dataset_load(&d, ctx, pi, pl, 0, 11));
    ssp_dataset_free(&d);
    remove(pi);
    remove(pl);
}

static void test_idx__missing_file_names_path(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_idx *x = NULL;
    CU_ASSERT_EQUAL(ssp_idx_load(&x, ctx, "/nonexistent/train-images", 3), SSP_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "/nonexistent/train-images"));
}

SSP_TEST_SUITE(idx)
{
    SSP_ADD_SUITE("idx", NULL, NULL,
                  SSP_TEST(test_idx__mnist_loads_with_counts_and_checksum),
                  SSP_TEST(test_idx__fashion_gz_dataset_loads),
                  SSP_TEST(test_idx__mnist_labels_match),
                  SSP_TEST(test_idx__small_valid_file_loads),
                  SSP_TEST(test_idx__truncated_file_rejected),
                  SSP_TEST(test_idx__truncated_gzip_stream_rejected),
                  SSP_TEST(test_idx__wrong_magic_rejected),
                  SSP_TEST(test_idx__trailing_bytes_rejected),
                  SSP_TEST(test_idx__wrong_count_between_files_rejected),
                  SSP_TEST(test_idx__label_out_of_range_rejected), SSP_TEST(test_idx__missing_file_names_path));
}
