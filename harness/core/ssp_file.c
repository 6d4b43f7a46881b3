/* ssp_file.c — atomic writes (temp file + fsync + rename) and whole-file
 * reads through zlib, which reads plain files as they are. No printing.
 * An output file is a cookie stream over the temporary file's descriptor,
 * so the first failed write's errno is kept for the report. The fault seam
 * (ssp_file_fault_hook) is a weak no-op here: production builds never fail
 * a write on purpose. */
#define _GNU_SOURCE /* fopencookie */
#include "ssp_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct ssp_afile {
    FILE *fp;     /* stream on the temporary file: a cookie stream over fd */
    int fd;       /* the temporary file (-1: not open) */
    int err;      /* errno of the first failed write (0: none) */
    char *path;   /* final path (owned) */
    char *tmp;    /* temporary path (owned) */
};

/* The stream's writes: straight to the descriptor, keeping the first
 * failure's errno (a writer that ignores fprintf's result still gets the
 * reason, "No space left on device", reported at commit). A failure
 * returns 0, never -1: fopencookie(3) says the write function "must not
 * return a negative value", and glibc 2.36 indeed runs off its buffer when
 * it does during an fwrite larger than the buffer (measured: a SEGV in
 * memmove, found by tests/core/test_file.c under make asan). */
static ssize_t afile_write(void *cookie, const char *buf, size_t size)
{
    ssp_afile *f = cookie;
    size_t done = 0;
    int e = ssp_file_fault_hook(SSP_FILE_STAGE_WRITE, f->path);
    if (e) {
        if (!f->err) f->err = e;
        errno = e;
        return 0;
    }
    while (done < size) {
        ssize_t w = write(f->fd, buf + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (!f->err) f->err = w < 0 ? errno : ENOSPC;
            errno = f->err;
            return 0;
        }
        done += (size_t)w;
    }
    return (ssize_t)size;
}

static int afile_close(void *cookie)
{
    (void)cookie; /* the descriptor is closed by commit or abort, after fsync */
    return 0;
}

/* A stage that failed: its errno, or EIO when the system gave none. */
static int failed(int e) { return e ? e : EIO; }

int ssp_file_atomic_open(ssp_afile **out, ssp_ctx *ctx, const char *path)
{
    static const cookie_io_functions_t io = {NULL, afile_write, NULL, afile_close};
    ssp_afile *f;
    size_t n = strlen(path) + 32;
    int e;
    *out = NULL;
    f = calloc(1, sizeof *f);
    if (!f) return ssp_error(ctx, SSP_ENOMEM, "out of memory opening %s", path);
    f->fd = -1;
    f->path = strdup(path);
    f->tmp = malloc(n);
    if (!f->path || !f->tmp) {
        ssp_file_atomic_abort(&f);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory opening %s", path);
    }
    snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    e = ssp_file_fault_hook(SSP_FILE_STAGE_OPEN, path);
    if (!e) {
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (f->fd < 0) e = failed(errno);
    }
    if (!e && !(f->fp = fopencookie(f, "w", io))) e = failed(errno);
    if (e) {
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
    if ((*f)->fd >= 0) {
        close((*f)->fd);
        remove((*f)->tmp);
    }
    afile_free(*f);
    *f = NULL;
}

__attribute__((weak)) int ssp_file_fault_hook(int stage, const char *path)
{
    (void)stage;
    (void)path;
    return 0;
}

int ssp_file_atomic_commit(ssp_afile **fp, ssp_ctx *ctx)
{
    ssp_afile *f = *fp;
    int e = 0;
    if (ferror(f->fp) || fflush(f->fp) != 0) e = failed(f->err);
    if (!e && (e = ssp_file_fault_hook(SSP_FILE_STAGE_SYNC, f->path)) == 0 && fsync(f->fd) != 0) e = failed(errno);
    fclose(f->fp); /* flushed above; its close does nothing more */
    f->fp = NULL;
    if (close(f->fd) != 0 && !e) e = failed(errno);
    f->fd = -1;
    if (!e && (e = ssp_file_fault_hook(SSP_FILE_STAGE_RENAME, f->path)) == 0 && rename(f->tmp, f->path) != 0)
        e = failed(errno);
    if (e) {
        int rc = ssp_error(ctx, SSP_EIO, "cannot write %s: %s", f->path, strerror(e));
        remove(f->tmp);
        afile_free(f);
        *fp = NULL;
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
    int rc = SSP_OK, fd;
    struct stat st;
    gzFile gz;

    memset(&st, 0, sizeof st);
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO is refused below, not waited on */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return ssp_error(ctx, SSP_EIO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        const char *what = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a pipe"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISSOCK(st.st_mode) ? "a socket"
                           : "not a regular file";
        close(fd);
        if (e && !st.st_mode) return ssp_error(ctx, SSP_EIO, "cannot open %s: %s", path, strerror(e));
        return ssp_error(ctx, SSP_EIO, "cannot read %s: %s, not a file", path, what);
    }
    gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", path);
    }
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
    {
        struct stat st;
        if (stat(path, &st) != 0)
            return ssp_error(ctx, SSP_EIO, "cannot create directory %s: %s", path, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return ssp_error(ctx, SSP_EIO, "cannot create directory %s: a file of that name is there", path);
        if (access(path, W_OK | X_OK) != 0)
            return ssp_error(ctx, SSP_EIO, "cannot write into directory %s: %s", path, strerror(errno));
    }
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

int ssp_file_lock_dir(ssp_ctx *ctx, const char *dir, int *fd)
{
    char *p, buf[32];
    size_t n = strlen(dir) + sizeof "/run.lock";
    int f, e;
    ssize_t got;
    *fd = -1;
    p = malloc(n);
    if (!p) return ssp_error(ctx, SSP_ENOMEM, "out of memory locking %s", dir);
    snprintf(p, n, "%s/run.lock", dir);
    f = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f < 0) {
        e = errno;
        free(p);
        return ssp_error(ctx, SSP_EIO, "cannot lock run directory %s: %s", dir, strerror(e));
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        long holder = 0;
        e = errno;
        got = pread(f, buf, sizeof buf - 1, 0);
        buf[got > 0 ? got : 0] = '\0';
        holder = strtol(buf, NULL, 10);
        close(f);
        if (e == EWOULDBLOCK) {
            int rc = holder > 0 ? ssp_error(ctx, SSP_ESTATE, "run directory %s is in use by another siamspice "
                                            "(pid %ld holds %s); wait for it to end or write elsewhere (--out DIR)",
                                            dir, holder, p)
                                : ssp_error(ctx, SSP_ESTATE, "run directory %s is in use by another siamspice (it "
                                            "holds %s); wait for it to end or write elsewhere (--out DIR)", dir, p);
            free(p);
            return rc;
        }
        free(p);
        return ssp_error(ctx, SSP_EIO, "cannot lock run directory %s: %s", dir, strerror(e));
    }
    free(p);
    n = (size_t)snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, buf, n, 0) != (ssize_t)n) {
        /* the lock holds; only the pid in the next one's message is missing */
    }
    *fd = f;
    return SSP_OK;
}

void ssp_file_unlock_dir(int *fd)
{
    if (!fd || *fd < 0) return;
    close(*fd); /* drops the flock */
    *fd = -1;
}

/* The pid of a temporary file's name ("x.tmp.<digits>"), or 0. */
static long temp_pid(const char *name)
{
    const char *t = strstr(name, ".tmp."), *next;
    char *end;
    long pid;
    if (!t) return 0;
    while ((next = strstr(t + 1, ".tmp."))) t = next;
    t += 5;
    if (*t < '0' || *t > '9') return 0;
    pid = strtol(t, &end, 10);
    return *end == '\0' && pid > 0 ? pid : 0;
}

enum { STALE_DEPTH = 8 }; /* schedules/epoch_<e>/tile_<k>/pwl/ is the deepest a run writes */

static int stale_in(ssp_ctx *ctx, const char *dir, int depth, size_t *removed)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = SSP_OK;
    if (!d) return errno == ENOENT ? SSP_OK : ssp_error(ctx, SSP_EIO, "cannot list %s: %s", dir, strerror(errno));
    while (rc == SSP_OK && (de = readdir(d))) {
        size_t n;
        char *p;
        struct stat st;
        long pid;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        n = strlen(dir) + strlen(de->d_name) + 2;
        if (!(p = malloc(n))) {
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory listing %s", dir);
            break;
        }
        snprintf(p, n, "%s/%s", dir, de->d_name);
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < STALE_DEPTH) {
                rc = stale_in(ctx, p, depth + 1, removed);
            } else if (S_ISREG(st.st_mode) && (pid = temp_pid(de->d_name)) > 0 &&
                       (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))) {
                if (remove(p) == 0) {
                    ssp_log(ctx, SSP_LOG_WARN, "stale_temp", "removed = %s, writer = process %ld (no longer running)",
                            p, pid);
                    if (removed) (*removed)++;
                } else {
                    rc = ssp_error(ctx, SSP_EIO, "cannot remove the stale temporary file %s: %s", p, strerror(errno));
                }
            }
        }
        free(p);
    }
    closedir(d);
    return rc;
}

int ssp_file_remove_stale_temps(ssp_ctx *ctx, const char *dir, size_t *removed)
{
    if (removed) *removed = 0;
    return stale_in(ctx, dir, 0, removed);
}
