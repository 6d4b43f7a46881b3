/* ssp_ckpt.h — the checkpoint container: a format version and named
 * sections, each with its length and a CRC-32 (zlib's crc32) over its bytes.
 *
 * It knows nothing of what a section holds: the training loop, the twin, the
 * devices, the tile programmer and the crossbar each write and read their
 * own payload through a stdio stream. The container's job is that nothing
 * read is trusted unchecked: every byte of the file is covered by a CRC, so
 * any single changed byte (any burst of up to 32 bits) is found before a
 * section reader sees it, and the message names the file and the section.
 * It never prints.
 *
 * Layout of format 2 (integers of the container little-endian; payloads in
 * the writer's native byte order, as format 1 had them):
 *
 *   offset  size  field
 *   0       7     "SSPCKPT"
 *   7       1     0 (format 1 had '1' here and nothing of what follows)
 *   8       4     format version (2)
 *   12      4     number of sections
 *   16      4     CRC-32 of bytes 0..15
 *   20            the sections, back to back; the file ends after the last:
 *     0     16    tag, ASCII, NUL-padded ("train", "twin", ...)
 *     16    8     payload length in bytes
 *     24    4     CRC-32 of the payload
 *     28    4     CRC-32 of section-header bytes 0..27
 *     32          payload
 *
 * Format 1 ("SSPCKPT1" and the payloads back to back, no lengths, no
 * checksums) is still read: ssp_ckpt_open then hands out one stream over the
 * rest of the file, and the section readers consume it in order, as the old
 * reader did. ssp_ckpt_format tells the caller, so it can say the contents
 * were not verified. */
#ifndef SSP_CKPT_H
#define SSP_CKPT_H

#include <stddef.h>
#include <stdio.h>

#include "ssp_error.h"

enum {
    SSP_CKPT_FORMAT = 2,       /* the format this version writes */
    SSP_CKPT_TAG_MAX = 16,     /* bytes of a section tag, NUL padding included */
    SSP_CKPT_HEADER_SIZE = 20, /* file header */
    SSP_CKPT_SECTION_SIZE = 32 /* section header */
};

/* ---- writing ---------------------------------------------------------- */

/* A checkpoint being written: its sections are kept in memory and the file
 * is written atomically (ssp_file) on commit. Opaque. */
typedef struct ssp_ckpt_writer ssp_ckpt_writer;

SSP_API int ssp_ckpt_writer_create(ssp_ckpt_writer **out, ssp_ctx *ctx);
/* Start the section tag (at most SSP_CKPT_TAG_MAX - 1 characters; the
 * previous section, if any, is finished) and return the stream its payload
 * is written to. The stream belongs to the writer. */
SSP_API int ssp_ckpt_writer_section(ssp_ckpt_writer *w, const char *tag, FILE **payload);
/* Finish the last section and write the file to path atomically. */
SSP_API int ssp_ckpt_writer_commit(ssp_ckpt_writer *w, const char *path);
/* Free *w (and any section in progress) and set it NULL; NULL is a no-op. */
SSP_API void ssp_ckpt_writer_destroy(ssp_ckpt_writer **w);

/* ---- reading ---------------------------------------------------------- */

/* A checkpoint read and verified; opaque. */
typedef struct ssp_ckpt ssp_ckpt;

/* Read the file at path and verify it (ssp_ckpt_parse). Errors: SSP_EIO
 * (cannot read it), SSP_EFORMAT (not a checkpoint, damaged, truncated, an
 * unknown format version), each naming the file and the section. */
SSP_API int ssp_ckpt_load(ssp_ckpt **out, ssp_ctx *ctx, const char *path);
/* The same over len bytes in memory (copied); origin names them in
 * messages. Every header and payload CRC is checked here, before anything
 * is handed out. */
SSP_API int ssp_ckpt_parse(ssp_ckpt **out, ssp_ctx *ctx, const unsigned char *data, size_t len, const char *origin);
SSP_API void ssp_ckpt_free(ssp_ckpt **c);

/* 1 or 2. */
SSP_API int ssp_ckpt_format(const ssp_ckpt *c);
/* The name given to ssp_ckpt_load or ssp_ckpt_parse. */
SSP_API const char *ssp_ckpt_origin(const ssp_ckpt *c);
/* Is there a section tag? (Format 1: always 1.) */
SSP_API int ssp_ckpt_has(const ssp_ckpt *c, const char *tag);

/* A read stream over the payload of section tag (format 1: the one stream
 * over the rest of the file, where the previous reader stopped). A missing
 * section is SSP_EFORMAT naming the file and the tag. The stream belongs to
 * the checkpoint: give it back with ssp_ckpt_close. */
SSP_API int ssp_ckpt_open(ssp_ckpt *c, ssp_ctx *ctx, const char *tag, FILE **payload);
/* Give the stream back; in format 2 a section its reader did not consume to
 * the last byte is SSP_EFORMAT (its layout is not what the reader thinks). */
SSP_API int ssp_ckpt_close(ssp_ckpt *c, ssp_ctx *ctx, FILE **payload);

#endif
