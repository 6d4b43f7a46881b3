/* ssp_file.c — atomic writes (temp file + fsync + rename) and whole-file
 * reads through zlib, which reads plain files as they are. No printing.
 * The fault seam (ssp_file_fault_hook) is a weak no-op here: production
 * builds never fail a write on purpose. */
#include "ssp_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct ssp_afile {
    FILE *fp;     /* stream on the temporary file (the fault seam's, in tests) */
    int fd;       /* its descriptor, for fsync */
    char *path;   /* final path (owned) */
    char *tmp;    /* temporary path (owned) */
};

int ssp_file_atomic_open(ssp_afile **out, ssp_ctx *ctx, const char *path)
{
    ssp_afile *f;
    size_t n = strlen(path) + 32;
    *out = NULL;
    f = calloc(1, sizeof *f);
    if (!f) return ssp_error(ctx, SSP_ENOMEM, "out of memory opening %s", path);
    f->path = strdup(path);
    f->tmp = malloc(n);
    if (!f->path || !f->tmp) {
        ssp_file_atomic_abort(&f);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory opening %s", path);
    }
    snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp, "wb");
    if (f->fp) {
        int e;
        f->fd = fileno(f->fp);
        if ((e = ssp_file_fault_hook(SSP_FILE_STAGE_OPEN, path, &f->fp)) != 0) {
            errno = e;
            fclose(f->fp);
            f->fp = NULL;
        }
    }
    if (!f->fp) {
        int e = errno;
        ssp_file_atomic_abort(&f);
        return ssp_error(ctx, SSP_EIO, "cannot write %s: %s", path, strerror(e));
    }
    *out = f;
    return SSP_OK;
}

FILE *ssp_file_stream(ssp_afile *f) { return f->fp; }

static void afile_free(ssp_afile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

void ssp_file_atomic_abort(ssp_afile **f)
{
    if (!f || !*f) return;
    if ((*f)->fp) fclose((*f)->fp);
    if ((*f)->tmp) remove((*f)->tmp);
    afile_free(*f);
    *f = NULL;
}

__attribute__((weak)) int ssp_file_fault_hook(int stage, const char *path, FILE **fp)
{
    (void)stage;
    (void)path;
    (void)fp;
    return 0;
}

/* A stage that failed: its errno, or EIO when the system gave none. */
static int failed(int e) { return e ? e : EIO; }

int ssp_file_atomic_commit(ssp_afile **fp, ssp_ctx *ctx)
{
    ssp_afile *f = *fp;
    int e = 0;
    if (ferror(f->fp)) {
        /* an earlier write failed and its errno is long gone: clear the
         * flag and flush what is buffered again to learn the reason */
        clearerr(f->fp);
        errno = 0;
        e = fflush(f->fp) != 0 ? failed(errno) : EIO;
    }
    if (!e && fflush(f->fp) != 0) e = failed(errno);
    if (!e && (e = ssp_file_fault_hook(SSP_FILE_STAGE_SYNC, f->path, NULL)) == 0 && fsync(f->fd) != 0)
        e = failed(errno);
    errno = 0;
    if (fclose(f->fp) != 0 && !e) e = failed(errno);
    f->fp = NULL;
    if (!e && (e = ssp_file_fault_hook(SSP_FILE_STAGE_RENAME, f->path, NULL)) == 0 && rename(f->tmp, f->path) != 0)
        e = failed(errno);
    if (e) {
        int rc = ssp_error(ctx, SSP_EIO, "cannot write %s: %s", f->path, strerror(e));
        ssp_file_atomic_abort(fp);
        return rc;
    }
    afile_free(f);
    *fp = NULL;
    return SSP_OK;
}

int ssp_file_write_all(ssp_ctx *ctx, const char *path, const void *data, size_t len)
{
    ssp_afile *f;
    int rc = ssp_file_atomic_open(&f, ctx, path);
    if (rc) return rc;
    if (len) fwrite(data, 1, len, f->fp); /* a short write sets the error flag: commit reports it */
    return ssp_file_atomic_commit(&f, ctx);
}

int ssp_file_read_all(ssp_ctx *ctx, const char *path, unsigned char **data, size_t *len)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = SSP_OK;
    gzFile gz;

    *data = NULL;
    *len = 0;
    gz = gzopen(path, "rb");
    if (!gz) return ssp_error(ctx, SSP_EIO, "cannot open %s: %s", path, strerror(errno ? errno : ENOENT));
    for (;;) {
        int got;
        if (cap - n < CHUNK + 1) {
            size_t ncap = cap ? 2 * cap : 4 * (size_t)CHUNK;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        got = gzread(gz, buf + n, CHUNK);
        if (got < 0) {
            int zerr;
            const char *m = gzerror(gz, &zerr);
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: corrupt or truncated compressed data (%s)", path, m);
            goto done;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    buf[n] = '\0';
done:
    gzclose(gz);
    if (rc) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return SSP_OK;
}

int ssp_file_mkdirs(ssp_ctx *ctx, const char *path)
{
    char *p = strdup(path);
    size_t i;
    if (!p) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    for (i = 1; ; i++) {
        char c = p[i];
        if (c == '/' || c == '\0') {
            p[i] = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                free(p);
                return ssp_error(ctx, SSP_EIO, "cannot create directory %s: %s", path, strerror(e));
            }
            p[i] = c;
            if (c == '\0') break;
        }
    }
    free(p);
    return SSP_OK;
}

uint32_t ssp_file_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len) { /* zlib's length is a uInt */
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}
