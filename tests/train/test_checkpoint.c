/* test_checkpoint.c — a training checkpoint as a file a user keeps and
 * copies: every header byte and every 61st payload byte flipped is refused
 * with the file and the section named; truncated or extended files are
 * refused; a format-1 file (no checksums) is still read and continues the
 * same run; a newer format version is refused by number; values a section
 * reader would index with are checked even when the CRCs are right (the
 * file resealed after the change). Works on a checkpoint in memory; writes
 * only under /tmp. */
#include <gsl/gsl_rng.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_ckpt.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_test.h"
#include "ssp_train.h"
#include "ssp_twin.h"

/* Every FLIP_STRIDE-th payload byte is flipped (headers: every byte). */
enum { FLIP_STRIDE = 61, MAX_SECTIONS = 16 };

static const char *const ORIGIN = "/runs/x/checkpoint.bin";

struct layout {
    size_t nsec;
    size_t head[MAX_SECTIONS]; /* offset of each section header */
    size_t off[MAX_SECTIONS];  /* offset of each payload */
    size_t len[MAX_SECTIONS];  /* payload bytes */
    char tag[MAX_SECTIONS][SSP_CKPT_TAG_MAX + 1];
};

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The section table of a format-2 file (the layout of ssp_ckpt.h). */
static void read_layout(const unsigned char *b, size_t n, struct layout *L)
{
    size_t pos = SSP_CKPT_HEADER_SIZE;
    memset(L, 0, sizeof *L);
    L->nsec = get32(b + 12);
    CU_ASSERT_FATAL(L->nsec <= MAX_SECTIONS);
    for (size_t i = 0; i < L->nsec; i++) {
        L->head[i] = pos;
        memcpy(L->tag[i], b + pos, SSP_CKPT_TAG_MAX);
        L->len[i] = get32(b + pos + 16); /* payloads here are far below 4 GB */
        L->off[i] = pos + SSP_CKPT_SECTION_SIZE;
        pos = L->off[i] + L->len[i];
    }
    CU_ASSERT_EQUAL_FATAL(pos, n);
}

/* Recompute every CRC after a deliberate change. */
static void reseal(unsigned char *b, const struct layout *L)
{
    put32(b + 16, ssp_file_crc32(b, 16));
    for (size_t i = 0; i < L->nsec; i++) {
        put32(b + L->head[i] + 24, ssp_file_crc32(b + L->off[i], L->len[i]));
        put32(b + L->head[i] + 28, ssp_file_crc32(b + L->head[i], 28));
    }
}

static void tiny_config(ssp_config *c)
{
    char p[512];
    ssp_config_defaults(c);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", ssp_test_path(p, sizeof p, "data"));
    snprintf(c->device_params, sizeof c->device_params, "%s",
             ssp_test_path(p, sizeof p, "devicemodels/params/vteam32.ini"));
    c->train_limit = 96;
    c->test_limit = 32;
    c->downsample = 2;
    c->hidden[0] = 4;
    c->epochs = 2;
    /* the nodal engine, so the crossbar section holds its tiles' gains */
    c->engine = SSP_ENGINE_NODAL;
    c->tile_rows = 32;
    c->tile_cols = 16;
    c->calibrate_every = 2;
}

/* A trainer one epoch and two steps in, and its checkpoint's bytes. */
static ssp_train *trained(unsigned char **buf, size_t *len)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    ssp_epoch_metrics m;
    char path[] = "/tmp/ssp_ckpt_flip_XXXXXX";
    int fd = mkstemp(path), done = 0;
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    tiny_config(&c);
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    while (!done) SSP_ASSERT_OK(ctx, ssp_train_step(t, &done));
    SSP_ASSERT_OK(ctx, ssp_train_epoch_end(t, &m));
    SSP_ASSERT_OK(ctx, ssp_train_step(t, &done));
    SSP_ASSERT_OK(ctx, ssp_train_step(t, &done));
    SSP_ASSERT_OK(ctx, ssp_train_checkpoint_save(t, path));
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, path, buf, len));
    remove(path);
    return t;
}

static ssp_train *fresh(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_config c;
    ssp_train *t = NULL;
    tiny_config(&c);
    SSP_ASSERT_OK(ctx, ssp_train_create(&t, ctx, &c));
    return t;
}

/* Read buf into t; the status, with the message checked to name the file. */
static int read_named(ssp_train *t, const unsigned char *buf, size_t len)
{
    ssp_ctx *ctx = ssp_test_ctx();
    int rc = ssp_train_checkpoint_read(t, buf, len, ORIGIN);
    if (rc) CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), ORIGIN));
    return rc;
}

static void assert_same_state(ssp_train *a, ssp_train *b)
{
    const ssp_twin *ta = ssp_train_twin(a), *tb = ssp_train_twin(b);
    CU_ASSERT_EQUAL(ssp_train_epochs_done(a), ssp_train_epochs_done(b));
    CU_ASSERT_EQUAL(ssp_train_step_in_epoch(a), ssp_train_step_in_epoch(b));
    for (size_t m = 0; m < ta->nmat; m++) {
        CU_ASSERT_EQUAL(memcmp(ta->w[m], tb->w[m], ta->size[m] * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(ta->q[m], tb->q[m], ta->size[m] * sizeof(int)), 0);
        CU_ASSERT_EQUAL(memcmp(ssp_hw_weights(ssp_train_hw(a), m), ssp_hw_weights(ssp_train_hw(b), m),
                               ta->size[m] * sizeof(double)), 0);
    }
}

static void test_checkpoint__every_flipped_byte_detected(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL;
    size_t len = 0, tried = 0, refused = 0, named = 0;
    struct layout L;
    ssp_train *a = trained(&buf, &len), *b = fresh();
    read_layout(buf, len, &L);
    CU_ASSERT_EQUAL(L.nsec, 6);
    CU_ASSERT_STRING_EQUAL(L.tag[1], "twin");
    CU_ASSERT_STRING_EQUAL(L.tag[5], "counters");
    SSP_ASSERT_OK(ctx, read_named(b, buf, len));
    assert_same_state(a, b);
    for (size_t k = 0; k < len; k++) {
        size_t s = 0;
        int in_header = k < SSP_CKPT_HEADER_SIZE, rc;
        unsigned char keep = buf[k];
        for (size_t i = 0; i < L.nsec; i++) {
            if (k >= L.head[i] && k < L.off[i]) in_header = 1;
            if (k >= L.head[i]) s = i;
        }
        if (!in_header && (k - L.off[s]) % FLIP_STRIDE != 0) continue;
        /* whole bytes and single bits, alternately */
        buf[k] = (unsigned char)(keep ^ (tried % 2 ? 0xffu : 1u << (tried / 2 % 8)));
        tried++;
        rc = read_named(b, buf, len);
        refused += rc == SSP_EFORMAT;
        if (rc && !in_header && strstr(ssp_ctx_errmsg(ctx), L.tag[s])) named++;
        if (rc && !in_header) CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "damaged"));
        if (rc != SSP_EFORMAT) fprintf(stderr, "\n  byte %zu flipped: accepted\n", k);
        buf[k] = keep;
    }
    fprintf(stderr, " [%zu bytes, %zu flips, %zu refused] ", len, tried, refused);
    CU_ASSERT(tried > 1000);
    CU_ASSERT_EQUAL(refused, tried);
    CU_ASSERT(named > 0);
    /* the refused reads changed nothing: the intact file still reads */
    SSP_ASSERT_OK(ctx, read_named(b, buf, len));
    assert_same_state(a, b);
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

static void test_checkpoint__truncated_or_extended_refused(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL, *big;
    size_t len = 0;
    struct layout L;
    ssp_train *a = trained(&buf, &len), *b = fresh();
    read_layout(buf, len, &L);
    CU_ASSERT_EQUAL(read_named(b, buf, 0), SSP_EFORMAT);
    for (size_t cut = 1; cut < SSP_CKPT_HEADER_SIZE + 40; cut++) CU_ASSERT_EQUAL(read_named(b, buf, cut), SSP_EFORMAT);
    for (size_t i = 0; i < L.nsec; i++) {
        CU_ASSERT_EQUAL(read_named(b, buf, L.head[i]), SSP_EFORMAT);
        CU_ASSERT_EQUAL(read_named(b, buf, L.off[i] + L.len[i] / 2), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "truncated"));
    }
    CU_ASSERT_EQUAL(read_named(b, buf, len - 1), SSP_EFORMAT);
    big = malloc(len + 1);
    CU_ASSERT_FATAL(big != NULL);
    memcpy(big, buf, len);
    big[len] = 0;
    CU_ASSERT_EQUAL(read_named(b, big, len + 1), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "after the last"));
    free(big);
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* A format-2 checkpoint written before the counters section existed (the
 * first five sections only) reads, the added counters 0, the rest equal. */
static void test_checkpoint__without_counters_section_read(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL, *old = NULL;
    size_t len = 0, olen = 0, nh = 0, nb = 0;
    char path[] = "/tmp/ssp_ckpt_oldXXXXXX";
    struct layout L;
    ssp_ckpt_writer *w = NULL;
    ssp_train *a = trained(&buf, &len), *b = fresh();
    const ssp_epoch_metrics *ha, *hb;
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    read_layout(buf, len, &L);
    CU_ASSERT_EQUAL_FATAL(L.nsec, 6);
    SSP_ASSERT_OK(ctx, ssp_ckpt_writer_create(&w, ctx));
    for (size_t i = 0; i < 5; i++) {
        FILE *f;
        SSP_ASSERT_OK(ctx, ssp_ckpt_writer_section(w, L.tag[i], &f));
        CU_ASSERT_EQUAL(fwrite(buf + L.off[i], 1, L.len[i], f), L.len[i]);
    }
    SSP_ASSERT_OK(ctx, ssp_ckpt_writer_commit(w, path));
    ssp_ckpt_writer_destroy(&w);
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, path, &old, &olen));
    remove(path);
    SSP_ASSERT_OK(ctx, read_named(b, old, olen));
    assert_same_state(a, b);
    ha = ssp_train_history(a, &nh);
    hb = ssp_train_history(b, &nb);
    CU_ASSERT_EQUAL_FATAL(nh, nb);
    CU_ASSERT(nh > 0 && ha[0].hw.device_targets > 0);
    CU_ASSERT_EQUAL(hb[0].hw.device_targets, 0);
    CU_ASSERT_EQUAL(hb[0].hw.weight_writes, ha[0].hw.weight_writes);
    CU_ASSERT_EQUAL(hb[0].hw.out_of_band, ha[0].hw.out_of_band);
    /* and the full checkpoint carries them */
    SSP_ASSERT_OK(ctx, read_named(b, buf, len));
    hb = ssp_train_history(b, &nb);
    CU_ASSERT_EQUAL(hb[0].hw.device_targets, ha[0].hw.device_targets);
    CU_ASSERT_EQUAL(hb[0].hw.out_of_band_pulsed, ha[0].hw.out_of_band_pulsed);
    free(old);
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* Format 1 was the five payloads back to back after "SSPCKPT1". */
static void test_checkpoint__format1_still_read(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL, *v1;
    size_t len = 0, n = 8;
    struct layout L;
    ssp_train *a = trained(&buf, &len), *b = fresh();
    read_layout(buf, len, &L);
    v1 = malloc(len);
    CU_ASSERT_FATAL(v1 != NULL);
    memcpy(v1, "SSPCKPT1", 8);
    for (size_t i = 0; i < L.nsec && i < 5; i++) { /* format 1 had no counters section */
        /* format 1 had no read figures: format 2 keeps them at the end of
         * the train section (the first), one per finished epoch */
        size_t nh = 0, drop = 0;
        if (i == 0) {
            ssp_train_history(a, &nh);
            drop = nh * sizeof(ssp_read_figures);
        }
        memcpy(v1 + n, buf + L.off[i], L.len[i] - drop);
        n += L.len[i] - drop;
    }
    SSP_ASSERT_OK(ctx, read_named(b, v1, n));
    assert_same_state(a, b);
    /* and a format-1 file cut short is still refused */
    CU_ASSERT_EQUAL(read_named(b, v1, n - 3), SSP_EFORMAT);
    CU_ASSERT_EQUAL(read_named(b, v1, L.len[0]), SSP_EFORMAT);
    free(v1);
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

static void test_checkpoint__newer_format_refused_by_number(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL;
    size_t len = 0;
    struct layout L;
    ssp_train *a = trained(&buf, &len), *b = fresh();
    read_layout(buf, len, &L);
    put32(buf + 8, 3);
    reseal(buf, &L);
    CU_ASSERT_EQUAL(read_named(b, buf, len), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "format version 3"));
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

/* Resealed after the change, so only the section reader can object. */
static void test_checkpoint__values_checked_past_the_crc(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL, *bad;
    size_t len = 0;
    struct layout L;
    ssp_train *a = trained(&buf, &len), *b = fresh();
    const ssp_twin *tw = ssp_train_twin(a);
    int level = 1000;
    size_t ntrain, huge = (size_t)1 << 40;
    double nan = NAN;
    read_layout(buf, len, &L);
    bad = malloc(len);
    CU_ASSERT_FATAL(bad != NULL);
    /* twin: magic, nmat, sizes, pending, then w, acc, vel, q of matrix 0 */
    {
        size_t q0 = L.off[1] + sizeof(unsigned) + sizeof(size_t) * (1 + tw->nmat) + sizeof(long) +
                    3 * tw->size[0] * sizeof(double);
        memcpy(bad, buf, len);
        memcpy(bad + q0, &level, sizeof level);
        reseal(bad, &L);
        CU_ASSERT_EQUAL(read_named(b, bad, len), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "level 1000"));
        memcpy(bad, buf, len);
        memcpy(bad + q0 - sizeof(double), &nan, sizeof nan);
        reseal(bad, &L);
        CU_ASSERT_EQUAL(read_named(b, bad, len), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "not finite"));
    }
    /* train: seed, ntrain, nweights, epochs_done, pos */
    memcpy(&ntrain, buf + L.off[0] + sizeof(long), sizeof ntrain);
    memcpy(bad, buf, len);
    memcpy(bad + L.off[0] + sizeof(long) + 2 * sizeof(size_t) + sizeof(long), &huge, sizeof huge);
    reseal(bad, &L);
    CU_ASSERT_EQUAL(read_named(b, bad, len), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "out of range"));
    /* a device's state */
    memcpy(bad, buf, len);
    memcpy(bad + L.off[2] + sizeof(unsigned) + 2 * sizeof(size_t) + sizeof(((ssp_device *)0)->p), &nan, sizeof nan);
    reseal(bad, &L);
    CU_ASSERT_EQUAL(read_named(b, bad, len), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "device section"));
    /* the device section's random generator: its last bytes are GSL's
     * MT19937 state (624 words, then the position), which GSL would trust */
    {
        gsl_rng *mt = gsl_rng_alloc(gsl_rng_mt19937);
        size_t at = L.off[2] + L.len[2] - gsl_rng_size(mt) + 624 * sizeof(unsigned long);
        int pos, wild = -7;
        gsl_rng_free(mt);
        memcpy(&pos, buf + at, sizeof pos);
        CU_ASSERT(pos >= 0 && pos <= 624);
        memcpy(bad, buf, len);
        memcpy(bad + at, &wild, sizeof wild);
        reseal(bad, &L);
        CU_ASSERT_EQUAL(read_named(b, bad, len), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "device section: random generator position -7 is outside"));
    }
    /* a section with a byte more than its reader takes */
    {
        unsigned char *ext = malloc(len + 1);
        struct layout E;
        size_t end = L.off[3] + L.len[3];
        CU_ASSERT_FATAL(ext != NULL);
        memcpy(ext, buf, end);
        ext[end] = 0;
        memcpy(ext + end + 1, buf + end, len - end);
        ext[L.head[3] + 16] = (unsigned char)(L.len[3] + 1); /* the program section is short: one length byte */
        read_layout(ext, len + 1, &E);
        reseal(ext, &E);
        CU_ASSERT_EQUAL(read_named(b, ext, len + 1), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "section 'program'"));
        free(ext);
    }
    CU_ASSERT(ntrain == 96);
    free(bad);
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

static void test_checkpoint__damage_on_disk_named(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *buf = NULL;
    size_t len = 0;
    char path[] = "/tmp/ssp_ckpt_disk_XXXXXX";
    int fd = mkstemp(path);
    ssp_train *a = trained(&buf, &len), *b = fresh();
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    /* 4 bytes overwritten in the middle, as dd ... conv=notrunc does */
    memset(buf + len / 2, 0x5a, 4);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, path, buf, len));
    CU_ASSERT_EQUAL(ssp_train_checkpoint_load(b, path), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), path));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "section '"));
    remove(path);
    free(buf);
    ssp_train_destroy(&a);
    ssp_train_destroy(&b);
}

SSP_TEST_SUITE(checkpoint)
{
    SSP_ADD_SUITE("checkpoint", NULL, NULL,
                  SSP_TEST(test_checkpoint__every_flipped_byte_detected),
                  SSP_TEST(test_checkpoint__truncated_or_extended_refused),
                  SSP_TEST(test_checkpoint__format1_still_read),
                  SSP_TEST(test_checkpoint__without_counters_section_read),
                  SSP_TEST(test_checkpoint__newer_format_refused_by_number),
                  SSP_TEST(test_checkpoint__values_checked_past_the_crc),
                  SSP_TEST(test_checkpoint__damage_on_disk_named));
}
