/* fuzz_checkpoint.c — libFuzzer harness of the checkpoint reader
 * (ssp_train_checkpoint_read) on the trainer of tests/fuzz/checkpoint.ini.
 * Each input is read twice: as it is (the container must refuse it unless
 * every CRC holds), and resealed (every CRC the layout of ssp_ckpt.h has
 * recomputed over the mutated bytes), so the section readers behind the
 * CRCs see mutated payloads too. A checkpoint that reads is then evaluated
 * and trained one step on, so values the readers let through are used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ssp_ckpt.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_train.h"

static ssp_train *g_train; /* built once from checkpoint.ini (harness state) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ssp_config c;
    (void)argc;
    (void)argv;
    ssp_config_defaults(&c);
    if (ssp_config_load(&c, fuzz_ctx(), SSP_SOURCE_DIR "/tests/fuzz/checkpoint.ini") ||
        snprintf(c.data_dir, sizeof c.data_dir, "%s/data", SSP_SOURCE_DIR) < 0 ||
        snprintf(c.device_params, sizeof c.device_params, "%s/devicemodels/params/vteam32.ini", SSP_SOURCE_DIR) < 0 ||
        ssp_train_create(&g_train, fuzz_ctx(), &c)) {
        fprintf(stderr, "fuzz_checkpoint: cannot build the trainer: %s\n", ssp_ctx_errmsg(fuzz_ctx()));
        abort();
    }
    return 0;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute the header's and every complete section's CRCs in place. */
static void reseal(uint8_t *b, size_t n)
{
    size_t pos = SSP_CKPT_HEADER_SIZE;
    if (n < SSP_CKPT_HEADER_SIZE) return;
    put32(b + 16, ssp_file_crc32(b, 16));
    while (n - pos >= SSP_CKPT_SECTION_SIZE) {
        uint8_t *sh = b + pos;
        uint64_t len = get32(sh + 16) | (uint64_t)get32(sh + 20) << 32;
        pos += SSP_CKPT_SECTION_SIZE;
        if (len > n - pos) len = n - pos;
        put32(sh + 24, ssp_file_crc32(b + pos, (size_t)len));
        put32(sh + 28, ssp_file_crc32(sh, 28));
        pos += (size_t)len;
    }
}

static void read_and_use(const uint8_t *data, size_t size)
{
    double acc, loss;
    int done;
    if (ssp_train_checkpoint_read(g_train, data, size, "fuzz.ckpt") != SSP_OK) return;
    ssp_train_evaluate(g_train, &acc, &loss);
    ssp_train_step(g_train, &done);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    read_and_use(data, size);
    copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    reseal(copy, size);
    read_and_use(copy, size);
    free(copy);
    return 0;
}
