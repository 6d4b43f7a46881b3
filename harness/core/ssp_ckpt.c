/* ssp_ckpt.c — the checkpoint container (layout in ssp_ckpt.h): sections
 * gathered in memory streams and written atomically, a reader that checks
 * every CRC before it hands out a byte. The CRC is zlib's crc32. No
 * printing, no knowledge of what the sections hold. */
#include "ssp_ckpt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"

static const char CKPT_MAGIC[7] = {'S', 'S', 'P', 'C', 'K', 'P', 'T'};
/* Byte 7 of a format-1 file ("SSPCKPT1"). */
static const unsigned char CKPT_V1_MARK = '1';
/* Sections in one checkpoint: far above the five in use, far below what
 * a damaged count could make the reader allocate. */
enum { CKPT_MAX_SECTIONS = 64 };

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---- writing ---------------------------------------------------------- */

struct wsection {
    char tag[SSP_CKPT_TAG_MAX]; /* NUL-padded */
    char *data;                 /* payload (owned, from open_memstream) */
    size_t len;                 /* payload bytes */
};

struct ssp_ckpt_writer {
    ssp_ctx *ctx;          /* borrowed */
    struct wsection *sec;  /* finished sections (owned) */
    size_t nsec;
    FILE *cur;             /* memory stream of the section in progress (owned; NULL: none) */
    char cur_tag[SSP_CKPT_TAG_MAX];
    char *cur_data;        /* open_memstream's buffer of cur */
    size_t cur_len;
};

int ssp_ckpt_writer_create(ssp_ckpt_writer **out, ssp_ctx *ctx)
{
    ssp_ckpt_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w) return ssp_error(ctx, SSP_ENOMEM, "out of memory writing a checkpoint");
    w->ctx = ctx;
    *out = w;
    return SSP_OK;
}

static int finish_section(ssp_ckpt_writer *w)
{
    struct wsection *ns;
    int bad;
    if (!w->cur) return SSP_OK;
    bad = ferror(w->cur);
    if (fclose(w->cur) != 0) bad = 1;
    w->cur = NULL;
    if (bad) {
        free(w->cur_data);
        w->cur_data = NULL;
        return ssp_error(w->ctx, SSP_ENOMEM, "checkpoint section '%s': out of memory", w->cur_tag);
    }
    ns = realloc(w->sec, (w->nsec + 1) * sizeof *ns);
    if (!ns) {
        free(w->cur_data);
        w->cur_data = NULL;
        return ssp_error(w->ctx, SSP_ENOMEM, "checkpoint section '%s': out of memory", w->cur_tag);
    }
    w->sec = ns;
    memcpy(w->sec[w->nsec].tag, w->cur_tag, sizeof w->cur_tag);
    w->sec[w->nsec].data = w->cur_data;
    w->sec[w->nsec].len = w->cur_len;
    w->nsec++;
    w->cur_data = NULL;
    return SSP_OK;
}

int ssp_ckpt_writer_section(ssp_ckpt_writer *w, const char *tag, FILE **payload)
{
    int rc;
    *payload = NULL;
    if (strlen(tag) == 0 || strlen(tag) >= SSP_CKPT_TAG_MAX || w->nsec + 1 >= CKPT_MAX_SECTIONS)
        return ssp_error(w->ctx, SSP_EINVAL, "checkpoint section tag '%s': empty, too long or too many", tag);
    if ((rc = finish_section(w))) return rc;
    memset(w->cur_tag, 0, sizeof w->cur_tag);
    memcpy(w->cur_tag, tag, strlen(tag));
    w->cur_len = 0;
    w->cur = open_memstream(&w->cur_data, &w->cur_len);
    if (!w->cur) return ssp_error(w->ctx, SSP_ENOMEM, "checkpoint section '%s': out of memory", tag);
    *payload = w->cur;
    return SSP_OK;
}

int ssp_ckpt_writer_commit(ssp_ckpt_writer *w, const char *path)
{
    unsigned char h[SSP_CKPT_HEADER_SIZE];
    ssp_afile *af;
    FILE *f;
    int rc = finish_section(w);
    if (rc) return rc;
    memcpy(h, CKPT_MAGIC, sizeof CKPT_MAGIC);
    h[7] = 0;
    put32(h + 8, SSP_CKPT_FORMAT);
    put32(h + 12, (uint32_t)w->nsec);
    put32(h + 16, ssp_file_crc32(h, 16));
    if ((rc = ssp_file_atomic_open(&af, w->ctx, path))) return rc;
    f = ssp_file_stream(af);
    fwrite(h, 1, sizeof h, f);
    for (size_t i = 0; i < w->nsec; i++) {
        const struct wsection *s = &w->sec[i];
        unsigned char sh[SSP_CKPT_SECTION_SIZE];
        memcpy(sh, s->tag, SSP_CKPT_TAG_MAX);
        put64(sh + 16, (uint64_t)s->len);
        put32(sh + 24, ssp_file_crc32((const unsigned char *)s->data, s->len));
        put32(sh + 28, ssp_file_crc32(sh, 28));
        fwrite(sh, 1, sizeof sh, f);
        if (s->len) fwrite(s->data, 1, s->len, f);
    }
    return ssp_file_atomic_commit(&af, w->ctx);
}

void ssp_ckpt_writer_destroy(ssp_ckpt_writer **pw)
{
    ssp_ckpt_writer *w;
    if (!pw || !*pw) return;
    w = *pw;
    if (w->cur) fclose(w->cur);
    free(w->cur_data);
    for (size_t i = 0; i < w->nsec; i++) free(w->sec[i].data);
    free(w->sec);
    free(w);
    *pw = NULL;
}

/* ---- reading ---------------------------------------------------------- */

struct rsection {
    char tag[SSP_CKPT_TAG_MAX + 1]; /* NUL-terminated */
    size_t off, len;                /* payload position in buf */
};

struct ssp_ckpt {
    char *origin;           /* file name for messages (owned) */
    unsigned char *buf;     /* the whole file (owned) */
    size_t len;
    int format;             /* 1 or 2 */
    struct rsection *sec;   /* format 2: the sections (owned) */
    size_t nsec;
    FILE *v1;               /* format 1: the one stream over buf + 8 (owned) */
    FILE *open;             /* the stream handed out (NULL: none) */
    size_t open_len;        /* its payload length (format 2) */
    const char *open_tag;   /* its tag */
};

static int header_crc_ok(const unsigned char *b) { return ssp_file_crc32(b, 16) == get32(b + 16); }

/* Format 2: the section table, every CRC checked. */
static int parse_v2(ssp_ckpt *c, ssp_ctx *ctx)
{
    const unsigned char *b = c->buf;
    const char *o = c->origin;
    uint32_t version = get32(b + 8), nsec = get32(b + 12);
    size_t pos = SSP_CKPT_HEADER_SIZE;
    if (!header_crc_ok(b))
        return ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint header damaged (CRC-32 0x%08x stored, 0x%08x computed)", o,
                         get32(b + 16), ssp_file_crc32(b, 16));
    if (version != SSP_CKPT_FORMAT)
        return ssp_error(ctx, SSP_EFORMAT,
                         "%s: checkpoint format version %u; this siamspice reads formats 1 and %d "
                         "(a newer siamspice wrote it?)",
                         o, version, SSP_CKPT_FORMAT);
    if (nsec == 0 || nsec > CKPT_MAX_SECTIONS)
        return ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint header declares %u sections (1..%d)", o, nsec,
                         CKPT_MAX_SECTIONS);
    c->sec = calloc(nsec, sizeof *c->sec);
    if (!c->sec) return ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", o);
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *sh = b + pos;
        struct rsection *s = &c->sec[i];
        uint64_t plen;
        if (c->len - pos < SSP_CKPT_SECTION_SIZE)
            return ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint truncated: section %u of %u missing (file ends at byte %zu)",
                             o, i + 1, nsec, c->len);
        if (ssp_file_crc32(sh, 28) != get32(sh + 28))
            return ssp_error(ctx, SSP_EFORMAT, "%s: header of checkpoint section %u (byte %zu) damaged", o, i + 1, pos);
        memcpy(s->tag, sh, SSP_CKPT_TAG_MAX);
        s->tag[SSP_CKPT_TAG_MAX] = '\0';
        plen = get64(sh + 16);
        pos += SSP_CKPT_SECTION_SIZE;
        if (plen > c->len - pos)
            return ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint truncated in section '%s' (%llu bytes declared, %zu left)",
                             o, s->tag, (unsigned long long)plen, c->len - pos);
        s->off = pos;
        s->len = (size_t)plen;
        if (ssp_file_crc32(b + pos, s->len) != get32(sh + 24))
            return ssp_error(ctx, SSP_EFORMAT,
                             "%s: checkpoint section '%s' damaged (bytes %zu..%zu: CRC-32 0x%08x stored, 0x%08x computed)",
                             o, s->tag, pos, pos + s->len, get32(sh + 24), ssp_file_crc32(b + pos, s->len));
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(c->sec[k].tag, s->tag) == 0)
                return ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint section '%s' appears twice", o, s->tag);
        pos += s->len;
        c->nsec++;
    }
    if (pos != c->len)
        return ssp_error(ctx, SSP_EFORMAT, "%s: %zu bytes after the last checkpoint section", o, c->len - pos);
    return SSP_OK;
}

int ssp_ckpt_parse(ssp_ckpt **out, ssp_ctx *ctx, const unsigned char *data, size_t len, const char *origin)
{
    ssp_ckpt *c;
    int rc = SSP_OK;
    *out = NULL;
    if (!origin) origin = "(checkpoint)";
    if (len < 8 || memcmp(data, CKPT_MAGIC, sizeof CKPT_MAGIC) != 0 || (data[7] != 0 && data[7] != CKPT_V1_MARK))
        return ssp_error(ctx, SSP_EFORMAT, "%s is not a siamspice checkpoint", origin);
    c = calloc(1, sizeof *c);
    if (!c) return ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", origin);
    c->origin = strdup(origin);
    c->buf = malloc(len ? len : 1);
    if (!c->origin || !c->buf) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", origin);
        goto done;
    }
    memcpy(c->buf, data, len);
    c->len = len;
    if (data[7] == CKPT_V1_MARK) {
        /* a format-2 header with its byte 7 changed to '1' must not pass
         * for an unverified format-1 file */
        if (len >= SSP_CKPT_HEADER_SIZE) {
            unsigned char h[SSP_CKPT_HEADER_SIZE];
            memcpy(h, data, sizeof h);
            h[7] = 0;
            if (header_crc_ok(h)) {
                rc = ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint header damaged (byte 7)", origin);
                goto done;
            }
        }
        c->format = 1;
        c->v1 = fmemopen(c->buf + 8, len - 8, "rb");
        if (!c->v1) rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", origin);
        goto done;
    }
    if (len < SSP_CKPT_HEADER_SIZE) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint truncated in its header (%zu bytes)", origin, len);
        goto done;
    }
    c->format = 2;
    rc = parse_v2(c, ctx);
done:
    if (rc) {
        ssp_ckpt_free(&c);
        return rc;
    }
    *out = c;
    return SSP_OK;
}

int ssp_ckpt_load(ssp_ckpt **out, ssp_ctx *ctx, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    rc = ssp_file_read_all(ctx, path, &data, &len);
    if (rc) {
        ssp_error_prefix(ctx, "checkpoint: ");
        return rc;
    }
    rc = ssp_ckpt_parse(out, ctx, data, len, path);
    free(data);
    return rc;
}

void ssp_ckpt_free(ssp_ckpt **pc)
{
    ssp_ckpt *c;
    if (!pc || !*pc) return;
    c = *pc;
    if (c->open && c->open != c->v1) fclose(c->open);
    if (c->v1) fclose(c->v1);
    free(c->sec);
    free(c->buf);
    free(c->origin);
    free(c);
    *pc = NULL;
}

int ssp_ckpt_format(const ssp_ckpt *c) { return c->format; }
const char *ssp_ckpt_origin(const ssp_ckpt *c) { return c->origin; }

static const struct rsection *find(const ssp_ckpt *c, const char *tag)
{
    for (size_t i = 0; i < c->nsec; i++)
        if (strcmp(c->sec[i].tag, tag) == 0) return &c->sec[i];
    return NULL;
}

int ssp_ckpt_has(const ssp_ckpt *c, const char *tag) { return c->format == 1 || find(c, tag) != NULL; }

int ssp_ckpt_open(ssp_ckpt *c, ssp_ctx *ctx, const char *tag, FILE **payload)
{
    const struct rsection *s;
    *payload = NULL;
    if (c->open)
        return ssp_error(ctx, SSP_ESTATE, "%s: section '%s' opened while '%s' is open", c->origin, tag, c->open_tag);
    if (c->format == 1) {
        c->open = c->v1;
        c->open_tag = tag;
        *payload = c->v1;
        return SSP_OK;
    }
    s = find(c, tag);
    if (!s) return ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint has no section '%s'", c->origin, tag);
    c->open = fmemopen(c->buf + s->off, s->len, "rb"); /* glibc >= 2.22 takes size 0 */
    if (!c->open) return ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", c->origin);
    c->open_len = s->len;
    c->open_tag = s->tag;
    *payload = c->open;
    return SSP_OK;
}

int ssp_ckpt_close(ssp_ckpt *c, ssp_ctx *ctx, FILE **payload)
{
    int rc = SSP_OK;
    if (!payload || !*payload) return SSP_OK;
    if (*payload != c->open) return ssp_error(ctx, SSP_EINVAL, "%s: stream is not the open section", c->origin);
    if (c->format == 2) {
        long at = ftell(c->open);
        if (at < 0 || (size_t)at != c->open_len)
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: checkpoint section '%s': %zu of its %zu bytes read; its layout is "
                           "not the one this siamspice reads", c->origin, c->open_tag, at < 0 ? (size_t)0 : (size_t)at,
                           c->open_len);
        fclose(c->open);
    }
    c->open = NULL;
    c->open_tag = NULL;
    *payload = NULL;
    return rc;
}
