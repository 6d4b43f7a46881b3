/* ssp_pool.c — worker processes that each own one ngspice image.
 *
 * Parent and worker talk over an AF_UNIX stream socket pair with a small
 * length-prefixed binary protocol (both ends are the same build on the same
 * machine, so native byte order). send() uses MSG_NOSIGNAL, so a dead worker
 * shows up as an error or EOF, never as SIGPIPE. The parent never simulates;
 * the worker never decides policy (retry, replacement) — it answers jobs.
 * The same frames travel over MPI (ssp_pool_mpi.c) behind the transport
 * table of pool_impl.h; the scheduling below does not know which. */
#define _GNU_SOURCE /* dladdr1: where the code of this file was loaded from */
#include "ssp_pool.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool_impl.h"
#include "ssp_spice.h"

#ifndef SSP_WORKER_BUILD_PATH
#define SSP_WORKER_BUILD_PATH "siamspice-worker"
#endif
#ifndef SSP_WORKER_INSTALL_PATH
#define SSP_WORKER_INSTALL_PATH "/usr/local/libexec/siamspice/siamspice-worker"
#endif

static const uint32_t SSP_POOL_MAGIC = 0x53535031u; /* "SSP1" */
enum {
    SSP_POOL_MAX_WORKERS = 256,
    SSP_POOL_TRIES = 2,           /* a job runs at most this many times */
    SSP_POOL_NAME_MAX = 4096,     /* longest string accepted on the wire */
    SSP_POOL_MSG_MAX = 1 << 16,   /* longest error message accepted */
    /* Circuits one worker keeps loaded (the oldest goes first): a layer's
     * tiles beyond the worker count share workers; ~80 MB each at 128x128. */
    SSP_POOL_HELD_MAX = 8
};
/* An internal job kind, after the public ones: drop every held circuit.
 * A pool over MPI sends it to each rank when it opens, since ranks outlive
 * pools and a new pool hands out circuit keys from 1 again. */
enum { POOL_JOB_FORGET = 100 };
/* Largest array accepted on the wire (doubles): guards against garbage. */
static const uint64_t SSP_POOL_ARRAY_MAX = (uint64_t)1 << 32;

/* ---- wire buffer ---------------------------------------------------- */

struct wbuf {
    unsigned char *p;
    size_t n, cap;
    int oom;
};

static void wb_put(struct wbuf *b, const void *data, size_t len)
{
    /* an empty payload may come as NULL: memcpy must not see it */
    if (b->oom || len == 0) return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        unsigned char *q;
        while (cap < b->n + len) cap *= 2;
        q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void wb_u64(struct wbuf *b, uint64_t v) { wb_put(b, &v, sizeof v); }
static void wb_f64(struct wbuf *b, double v) { wb_put(b, &v, sizeof v); }

static void wb_str(struct wbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    wb_u64(b, n);
    wb_put(b, s, n);
}

static int send_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Send one framed message: u64 length, then the payload. */
static int send_frame(int fd, const struct wbuf *b)
{
    uint64_t n = b->n;
    if (b->oom) return -1;
    if (send_all(fd, &n, sizeof n)) return -1;
    return send_all(fd, b->p, b->n);
}

/* Read exactly len bytes; 0 ok, -1 error or EOF. */
static int recv_all(int fd, void *data, size_t len)
{
    unsigned char *p = data;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* A received frame, read sequentially. */
struct rbuf {
    unsigned char *p;
    size_t n, off;
    int bad;
};

static int recv_frame(int fd, struct rbuf *b)
{
    uint64_t n;
    memset(b, 0, sizeof *b);
    if (recv_all(fd, &n, sizeof n)) return -1;
    if (n > SSP_POOL_ARRAY_MAX) return -1;
    b->p = malloc(n ? (size_t)n : 1);
    if (!b->p) return -1;
    b->n = (size_t)n;
    if (recv_all(fd, b->p, b->n)) {
        free(b->p);
        b->p = NULL;
        return -1;
    }
    return 0;
}

static void rb_get(struct rbuf *b, void *out, size_t len)
{
    if (b->bad || b->off + len > b->n) {
        b->bad = 1;
        memset(out, 0, len);
        return;
    }
    memcpy(out, b->p + b->off, len);
    b->off += len;
}

static uint64_t rb_u64(struct rbuf *b)
{
    uint64_t v;
    rb_get(b, &v, sizeof v);
    return v;
}

static double rb_f64(struct rbuf *b)
{
    double v;
    rb_get(b, &v, sizeof v);
    return v;
}

/* A string borrowed from the frame is copied into a new allocation. */
static char *rb_str(struct rbuf *b)
{
    uint64_t n = rb_u64(b);
    char *s;
    if (b->bad || n > b->n - b->off) {
        b->bad = 1;
        return NULL;
    }
    s = malloc((size_t)n + 1);
    if (!s) {
        b->bad = 1;
        return NULL;
    }
    memcpy(s, b->p + b->off, (size_t)n);
    s[n] = '\0';
    b->off += (size_t)n;
    return s;
}

static double *rb_f64s(struct rbuf *b, uint64_t count)
{
    double *v;
    if (b->bad || count > SSP_POOL_ARRAY_MAX || count * sizeof(double) > b->n - b->off) {
        b->bad = 1;
        return NULL;
    }
    v = malloc(count ? (size_t)count * sizeof *v : sizeof *v);
    if (!v) {
        b->bad = 1;
        return NULL;
    }
    rb_get(b, v, (size_t)count * sizeof *v);
    return v;
}

/* ---- jobs on the wire ----------------------------------------------- */

static int is_stream(int kind) { return kind == SSP_JOB_STREAM || kind == SSP_JOB_OPS; }

/* send_netlist 0: the worker holds the circuit; its text is left off (this
 * transport always sends it: a worker's held circuits are its own affair). */
static void encode_job(struct wbuf *b, const ssp_job *j, int send_netlist)
{
    size_t i;
    wb_u64(b, SSP_POOL_MAGIC);
    wb_u64(b, (uint64_t)j->kind);
    if (j->kind == POOL_JOB_FORGET) return;
    if (j->kind == SSP_JOB_CALL) {
        wb_str(b, j->handler);
        wb_u64(b, j->npayload);
        wb_put(b, j->payload, j->npayload);
        return;
    }
    wb_str(b, send_netlist ? j->netlist : NULL);
    wb_f64(b, j->tstep);
    wb_f64(b, j->tstop);
    wb_f64(b, j->tmax);
    wb_u64(b, (uint64_t)j->uic);
    wb_u64(b, is_stream(j->kind) ? j->nsrc : 0);
    if (is_stream(j->kind)) {
        for (i = 0; i < j->nsrc; i++) wb_str(b, j->src_names[i]);
        wb_u64(b, j->k);
        wb_put(b, j->inputs, j->k * j->nsrc * sizeof(double));
    }
    wb_u64(b, j->nout);
    for (i = 0; i < j->nout; i++) wb_str(b, j->out_names[i]);
    wb_u64(b, j->circuit);
    wb_u64(b, j->base);
    wb_u64(b, j->state);
    wb_u64(b, j->commands ? j->ncommands : 0);
    for (i = 0; j->commands && i < j->ncommands; i++) wb_str(b, j->commands[i]);
}

static void free_names(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* The circuits a worker keeps loaded between jobs, newest first, as
 * ngspice numbers them (entry i is `setcirc i + 1`). */
struct held {
    uint64_t circuit[SSP_POOL_HELD_MAX], state[SSP_POOL_HELD_MAX];
    int n;   /* entries used */
    int cur; /* entry ngspice has current, -1 unknown */
};

static int held_find(const struct held *h, uint64_t circuit)
{
    for (int i = 0; circuit && i < h->n; i++)
        if (h->circuit[i] == circuit) return i;
    return -1;
}

static int held_select(ssp_spice *s, struct held *h, int i)
{
    int rc = h->cur == i ? SSP_OK : ssp_spice_select(s, i + 1);
    h->cur = rc ? -1 : i;
    return rc;
}

/* Remove entry i from ngspice and the list. */
static void held_drop(ssp_spice *s, struct held *h, int i)
{
    if (i < 0 || i >= h->n) return;
    if (held_select(s, h, i) == SSP_OK) ssp_spice_unload(s);
    memmove(&h->circuit[i], &h->circuit[i + 1], (size_t)(h->n - i - 1) * sizeof h->circuit[0]);
    memmove(&h->state[i], &h->state[i + 1], (size_t)(h->n - i - 1) * sizeof h->state[0]);
    h->n--;
    h->cur = -1;
}

/* Parse netlist as the newest circuit, evicting the oldest beyond the
 * limit. */
static int held_load(ssp_spice *s, struct held *h, const char *netlist, uint64_t circuit, uint64_t state)
{
    int rc;
    while (h->n >= SSP_POOL_HELD_MAX) held_drop(s, h, h->n - 1);
    rc = ssp_spice_load_another(s, netlist);
    h->cur = -1;
    if (rc) return rc; /* a circuit that did not parse is removed again */
    memmove(&h->circuit[1], &h->circuit[0], (size_t)h->n * sizeof h->circuit[0]);
    memmove(&h->state[1], &h->state[0], (size_t)h->n * sizeof h->state[0]);
    h->circuit[0] = circuit;
    h->state[0] = state;
    h->n++;
    h->cur = 0;
    return SSP_OK;
}

/* Worker side: decode, run, encode the result. */
static void run_job(ssp_spice *s, ssp_ctx *ctx, struct held *h, struct rbuf *in, struct wbuf *out)
{
    uint64_t kind, nsrc, k = 0, nout, i, circuit = 0, base = 0, state = 0, ncmd = 0;
    int out_reused = 0, pos = -1;
    char *netlist = NULL, **src = NULL, **outn = NULL, **cmd = NULL;
    double tstep, tstop, tmax, *inputs = NULL, *values = NULL;
    size_t nrows = 0;
    int uic, rc = SSP_OK;

    ssp_ctx_clear_error(ctx);
    if (rb_u64(in) != SSP_POOL_MAGIC) in->bad = 1;
    kind = rb_u64(in);
    netlist = rb_str(in);
    tstep = rb_f64(in);
    tstop = rb_f64(in);
    tmax = rb_f64(in);
    uic = (int)rb_u64(in);
    nsrc = rb_u64(in);
    if (!in->bad && nsrc > SSP_POOL_NAME_MAX) in->bad = 1;
    if (!in->bad && nsrc) {
        src = calloc((size_t)nsrc, sizeof *src);
        if (!src) in->bad = 1;
        for (i = 0; !in->bad && i < nsrc; i++) src[i] = rb_str(in);
        k = rb_u64(in);
        if (!in->bad && (k == 0 || k > SSP_POOL_ARRAY_MAX / nsrc)) in->bad = 1;
        if (!in->bad) inputs = rb_f64s(in, k * nsrc);
    }
    nout = rb_u64(in);
    if (!in->bad && (nout == 0 || nout > SSP_POOL_NAME_MAX)) in->bad = 1;
    if (!in->bad) {
        outn = calloc((size_t)nout, sizeof *outn);
        if (!outn) in->bad = 1;
        for (i = 0; !in->bad && i < nout; i++) outn[i] = rb_str(in);
    }
    circuit = rb_u64(in);
    base = rb_u64(in);
    state = rb_u64(in);
    ncmd = rb_u64(in);
    if (!in->bad && ncmd > SSP_POOL_ARRAY_MAX / sizeof *cmd) in->bad = 1;
    if (!in->bad && ncmd) {
        cmd = calloc((size_t)ncmd, sizeof *cmd);
        if (!cmd) in->bad = 1;
        for (i = 0; !in->bad && i < ncmd; i++) cmd[i] = rb_str(in);
    }
    if (in->bad) {
        rc = ssp_error(ctx, SSP_EWORKER, "worker received a malformed job");
        goto reply;
    }
    pos = held_find(h, circuit);
    if (pos >= 0 && (h->state[pos] == state || h->state[pos] == base)) {
        rc = held_select(s, h, pos);
        for (i = 0; !rc && h->state[pos] != state && i < ncmd; i++) rc = ssp_spice_command(s, cmd[i]);
        h->state[pos] = state;
        out_reused = 1;
    } else if (!netlist[0]) {
        rc = ssp_error(ctx, SSP_ESTATE, "worker does not hold circuit %llu and got no netlist",
                       (unsigned long long)circuit);
    } else {
        if (pos >= 0) held_drop(s, h, pos); /* an older state of it */
        rc = held_load(s, h, netlist, circuit, state);
        pos = 0;
    }
    if (rc) {
        if (pos >= 0 && pos < h->n && h->circuit[pos] == circuit) held_drop(s, h, pos);
        goto reply;
    }
    if (kind == SSP_JOB_OP) {
        rc = ssp_spice_op(s);
        nrows = 1;
        values = malloc((size_t)nout * sizeof *values);
        if (!rc && !values) rc = ssp_error(ctx, SSP_ENOMEM, "worker out of memory");
        for (i = 0; !rc && i < nout; i++) rc = ssp_spice_vec_last(s, outn[i], &values[i]);
    } else if (kind == SSP_JOB_TRAN) {
        rc = ssp_spice_tran(s, tstep, tstop, tmax, uic);
        for (i = 0; !rc && i < nout; i++) {
            double *v = NULL;
            size_t n = 0, r;
            rc = ssp_spice_vec(s, outn[i], &v, &n);
            if (rc) break;
            if (i == 0) {
                nrows = n;
                values = malloc(nrows * (size_t)nout * sizeof *values);
                if (!values) rc = ssp_error(ctx, SSP_ENOMEM, "worker out of memory");
            } else if (n != nrows) {
                rc = ssp_error(ctx, SSP_ENOVEC, "vector '%s' has %zu points, '%s' has %zu",
                               outn[i], n, outn[0], nrows);
            }
            for (r = 0; !rc && r < nrows; r++) values[r * nout + i] = v[r];
            free(v);
        }
    } else if (is_stream((int)kind) && nsrc) {
        nrows = (size_t)k;
        values = malloc(nrows * (size_t)nout * sizeof *values);
        if (!values) rc = ssp_error(ctx, SSP_ENOMEM, "worker out of memory");
        else if (kind == SSP_JOB_STREAM)
            rc = ssp_spice_stream(s, (const char *const *)src, (size_t)nsrc, inputs, (size_t)k,
                                  (const char *const *)outn, (size_t)nout, values);
        else
            rc = ssp_spice_stream_ops(s, (const char *const *)src, (size_t)nsrc, inputs, (size_t)k,
                                      (const char *const *)outn, (size_t)nout, values);
    } else {
        rc = ssp_error(ctx, SSP_EINVAL, "unknown job kind %llu (or a stream without sources)",
                       (unsigned long long)kind);
    }
    if (rc || !circuit) {
        held_drop(s, h, pos); /* a failed or one-off circuit goes */
    } else {
        rc = ssp_spice_command(s, "destroy all"); /* the plots; the circuit stays */
        if (rc) held_drop(s, h, pos);
    }
reply:
    wb_u64(out, (uint64_t)(int64_t)rc);
    wb_str(out, rc ? ssp_ctx_errmsg(ctx) : "");
    wb_u64(out, rc ? 0 : nrows);
    wb_u64(out, rc ? 0 : nout);
    if (!rc) wb_put(out, values, nrows * (size_t)nout * sizeof *values);
    wb_u64(out, (uint64_t)out_reused);
    free(netlist);
    free_names(cmd, (size_t)ncmd);
    free_names(src, (size_t)nsrc);
    free_names(outn, (size_t)nout);
    free(inputs);
    free(values);
}

/* The serving side, whichever transport brings the frames. ngspice is
 * loaded at the first simulation job: a process serving only handler jobs
 * (a whole training run, which may load its own ngspice) never holds a
 * second image. */
struct server {
    ssp_ctx *ctx;               /* owned */
    ssp_spice *spice;           /* owned, NULL until the first simulation */
    int spice_rc;               /* why loading ngspice failed, or SSP_OK */
    char spice_msg[512];        /* its message */
    struct held held;           /* the circuits ngspice keeps loaded */
    const ssp_pool_handler *h;  /* borrowed handlers */
    size_t nh;
};

/* A reply without values: status, message, no rows, no circuit reused
 * (the reply bytes follow, as after run_job's part). */
static void reply_error(struct wbuf *out, int rc, const char *msg)
{
    wb_u64(out, (uint64_t)(int64_t)rc);
    wb_str(out, msg);
    wb_u64(out, 0);
    wb_u64(out, 0);
    wb_u64(out, 0);
}

/* A handler job: magic and kind already read. */
static void run_call(struct server *sv, struct rbuf *in, struct wbuf *out)
{
    char *name = rb_str(in);
    uint64_t n = rb_u64(in);
    unsigned char *reply = NULL;
    size_t nreply = 0, i;
    int rc;
    if (in->bad || n > in->n - in->off) {
        reply_error(out, SSP_EWORKER, "worker received a malformed call job");
        wb_u64(out, 0);
        free(name);
        return;
    }
    for (i = 0; i < sv->nh && strcmp(sv->h[i].name, name) != 0; i++) {
    }
    if (i == sv->nh)
        rc = ssp_error(sv->ctx, SSP_EINVAL, "this worker has no handler '%s'", name);
    else
        rc = sv->h[i].fn(sv->ctx, in->p + in->off, (size_t)n, &reply, &nreply, sv->h[i].payload);
    reply_error(out, rc, rc ? ssp_ctx_errmsg(sv->ctx) : "");
    wb_u64(out, reply ? nreply : 0);
    if (reply) wb_put(out, reply, nreply);
    free(reply);
    free(name);
}

/* Answer one job frame into out. */
static void server_answer(struct server *sv, struct rbuf *in, struct wbuf *out)
{
    uint64_t magic, kind;
    ssp_ctx_clear_error(sv->ctx);
    magic = rb_u64(in);
    kind = rb_u64(in);
    if (!in->bad && magic == SSP_POOL_MAGIC && kind == SSP_JOB_CALL) {
        run_call(sv, in, out);
        return;
    }
    if (!in->bad && magic == SSP_POOL_MAGIC && kind == POOL_JOB_FORGET) {
        while (sv->spice && sv->held.n > 0) held_drop(sv->spice, &sv->held, sv->held.n - 1);
        reply_error(out, SSP_OK, "");
        wb_u64(out, 0);
        return;
    }
    in->off = 0;
    if (!sv->spice && sv->spice_rc == SSP_OK) {
        sv->spice_rc = ssp_spice_create(&sv->spice, sv->ctx, NULL);
        if (sv->spice_rc) snprintf(sv->spice_msg, sizeof sv->spice_msg, "%s", ssp_ctx_errmsg(sv->ctx));
    }
    if (sv->spice)
        run_job(sv->spice, sv->ctx, &sv->held, in, out);
    else /* report the load failure for every job */
        reply_error(out, sv->spice_rc, sv->spice_msg);
    wb_u64(out, 0); /* no reply bytes */
}

static int server_open(struct server *sv, const ssp_pool_handler *h, size_t nh)
{
    memset(sv, 0, sizeof *sv);
    sv->held.cur = -1;
    sv->h = h;
    sv->nh = nh;
    return ssp_ctx_create(&sv->ctx);
}

static void server_close(struct server *sv)
{
    ssp_spice_destroy(&sv->spice);
    ssp_ctx_destroy(&sv->ctx);
}

int ssp_pool_worker_serve_handlers(int fd, const ssp_pool_handler *h, size_t nh)
{
    struct server sv;
    int rc = server_open(&sv, h, nh);
    if (rc) return rc;
    for (;;) {
        struct rbuf in;
        struct wbuf out = {0};
        if (recv_frame(fd, &in)) break; /* EOF: the parent is done */
        server_answer(&sv, &in, &out);
        free(in.p);
        if (send_frame(fd, &out)) {
            free(out.p);
            break;
        }
        free(out.p);
    }
    server_close(&sv);
    return SSP_OK;
}

int ssp_pool_worker_serve(int fd) { return ssp_pool_worker_serve_handlers(fd, NULL, 0); }

int ssp_pool_mpi_serve(const ssp_pool_handler *h, size_t nh)
{
    struct server sv;
    int rc = server_open(&sv, h, nh);
    if (rc) return rc;
    for (;;) {
        struct rbuf in = {0};
        struct wbuf out = {0};
        int got = pool_mpi_next_job(&in.p, &in.n);
        if (got != 0) {
            rc = got == 1 ? SSP_OK : SSP_EWORKER;
            break;
        }
        server_answer(&sv, &in, &out);
        free(in.p);
        if (out.oom || pool_mpi_reply(out.p, out.n)) {
            free(out.p);
            rc = SSP_EWORKER;
            break;
        }
        free(out.p);
    }
    server_close(&sv);
    return rc;
}

/* ---- the local transport: worker processes -------------------------- */

struct worker {
    pid_t pid;     /* process id, 0 when not running */
    int fd;        /* parent's end of the socket pair, -1 when closed */
};

struct local_link {
    ssp_ctx *ctx;             /* borrowed */
    char *path;               /* worker program (owned) */
    char *arg;                /* argument before the descriptor (owned, may be NULL) */
    int n;                    /* number of workers */
    struct worker *w;         /* n workers (owned) */
    struct pollfd *pfd;       /* n poll slots (owned) */
};

static int worker_start(struct local_link *l, int i)
{
    int sv[2];
    pid_t pid, parent;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return ssp_error(l->ctx, SSP_EWORKER, "socketpair: %s", strerror(errno));
    parent = getpid();
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return ssp_error(l->ctx, SSP_EWORKER, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        /* child: the worker's end becomes fd 3, then exec. It dies with
         * the parent: a job left running by a killed sweep would race the
         * --resume that reruns it in the same run directory. */
        char *argv[4];
        char fdarg[16];
        int a = 0;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
        if (dup2(sv[1], 3) < 0) _exit(127);
        snprintf(fdarg, sizeof fdarg, "%d", 3);
        argv[a++] = l->path;
        if (l->arg) argv[a++] = l->arg;
        argv[a++] = fdarg;
        argv[a] = NULL;
        execv(l->path, argv);
        _exit(127);
    }
    close(sv[1]);
    l->w[i].pid = pid;
    l->w[i].fd = sv[0];
    return SSP_OK;
}

static void worker_stop(struct worker *w, int kill_it)
{
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    if (w->pid > 0) {
        if (kill_it) kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    w->pid = 0;
}

/* The directory of the file this code was loaded from: the shared library
 * (libsiamspice.so) or, linked statically, the program. "" if unknown. */
static void own_dir(char *out, size_t n)
{
    Dl_info info;
    struct link_map *lm = NULL;
    char real[PATH_MAX];
    const char *file = "/proc/self/exe"; /* the main program's l_name is "" */
    char *slash;
    out[0] = '\0';
    if (dladdr1((void *)own_dir, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm && lm->l_name && lm->l_name[0])
        file = lm->l_name;
    if (!realpath(file, real) || !(slash = strrchr(real, '/'))) return;
    *slash = '\0';
    snprintf(out, n, "%s", real);
}

/* The worker program: $SSP_WORKER; else, for code loaded from under the
 * build directory (the command, the tests, the build tree's .so), the one
 * built there; else the one installed beside the code that runs,
 * DIR/../libexec/siamspice/siamspice-worker (DIR: lib/ or bin/ of the
 * install, so a relocated or DESTDIR-staged tree finds its own and never a
 * build tree's); else the configured install path. */
static const char *find_worker(char *buf, size_t n)
{
    const char *env = getenv("SSP_WORKER");
    char dir[PATH_MAX], build[PATH_MAX];
    size_t len;
    if (env && *env) return env;
    own_dir(dir, sizeof dir);
    if (dir[0] && realpath(SSP_BUILD_DIR, build)) {
        len = strlen(build);
        if (strncmp(dir, build, len) == 0 && (dir[len] == '\0' || dir[len] == '/')) return SSP_WORKER_BUILD_PATH;
    }
    if (dir[0] && (size_t)snprintf(buf, n, "%s/../libexec/siamspice/siamspice-worker", dir) < n &&
        access(buf, X_OK) == 0)
        return buf;
    snprintf(buf, n, "%s", SSP_WORKER_INSTALL_PATH);
    return buf;
}

/* Describe how a worker ended, for the error message. */
static void describe_exit(pid_t pid, char *buf, size_t n)
{
    int st = 0;
    pid_t w;
    do {
        w = waitpid(pid, &st, 0);
    } while (w < 0 && errno == EINTR);
    if (w == pid && WIFSIGNALED(st))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
    else if (w == pid && WIFEXITED(st))
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
    else
        snprintf(buf, n, "vanished");
}

static void local_destroy(void *link)
{
    struct local_link *l = link;
    if (!l) return;
    if (l->w) {
        /* closing the socket is the worker's signal to exit */
        for (int i = 0; i < l->n; i++) worker_stop(&l->w[i], 0);
    }
    free(l->w);
    free(l->pfd);
    free(l->path);
    free(l->arg);
    free(l);
}

static int local_send(void *link, int w, const unsigned char *buf, size_t n)
{
    struct local_link *l = link;
    uint64_t len = n;
    if (send_all(l->w[w].fd, &len, sizeof len) || send_all(l->w[w].fd, buf, n)) return POOL_SEND_GONE;
    return SSP_OK;
}

static int local_wait(void *link, const int *busy, int *wout, unsigned char **buf, size_t *len, char *how,
                      size_t nhow)
{
    struct local_link *l = link;
    int w;
    for (;;) {
        for (w = 0; w < l->n; w++) {
            l->pfd[w].fd = busy[w] ? l->w[w].fd : -1;
            l->pfd[w].events = POLLIN;
            l->pfd[w].revents = 0;
        }
        if (poll(l->pfd, (nfds_t)l->n, -1) < 0) {
            if (errno == EINTR) continue;
            return ssp_error(l->ctx, SSP_EWORKER, "poll: %s", strerror(errno));
        }
        for (w = 0; w < l->n; w++) {
            struct rbuf b;
            pid_t pid;
            if (l->pfd[w].fd < 0 || !(l->pfd[w].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            *wout = w;
            if (recv_frame(l->w[w].fd, &b) == 0) {
                *buf = b.p;
                *len = b.n;
                return POOL_WAIT_FRAME;
            }
            pid = l->w[w].pid;
            close(l->w[w].fd);
            l->w[w].fd = -1;
            describe_exit(pid, how, nhow);
            l->w[w].pid = 0;
            return POOL_WAIT_DIED;
        }
    }
}

static int local_restart(void *link, int w, int kill_first)
{
    struct local_link *l = link;
    if (kill_first) worker_stop(&l->w[w], 1);
    return worker_start(l, w);
}

static pid_t local_pid(const void *link, int w)
{
    const struct local_link *l = link;
    return l->w[w].pid;
}

static const struct pool_link_ops local_ops = {"local", local_send, local_wait, local_restart, local_pid,
                                               local_destroy};

static int local_open(void **out, ssp_ctx *ctx, const ssp_pool_opts *o)
{
    struct local_link *l;
    char buf[PATH_MAX];
    const char *path = o->worker_path;
    int i, rc;
    *out = NULL;
    if (o->nworkers < 1 || o->nworkers > SSP_POOL_MAX_WORKERS)
        return ssp_error(ctx, SSP_EINVAL, "worker pool size %d outside 1..%d", o->nworkers,
                         SSP_POOL_MAX_WORKERS);
    if (!path) path = find_worker(buf, sizeof buf);
    if (access(path, X_OK) != 0)
        return ssp_error(ctx, SSP_EWORKER, "worker program %s not executable: %s", path, strerror(errno));
    l = calloc(1, sizeof *l);
    if (!l) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a worker pool");
    l->ctx = ctx;
    l->n = o->nworkers;
    l->path = strdup(path);
    l->arg = o->worker_arg ? strdup(o->worker_arg) : NULL;
    l->w = calloc((size_t)l->n, sizeof *l->w);
    l->pfd = calloc((size_t)l->n, sizeof *l->pfd);
    if (!l->path || !l->w || !l->pfd || (o->worker_arg && !l->arg)) {
        local_destroy(l);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a worker pool");
    }
    for (i = 0; i < l->n; i++) l->w[i].fd = -1;
    for (i = 0; i < l->n; i++) {
        rc = worker_start(l, i);
        if (rc) {
            local_destroy(l);
            return rc;
        }
    }
    *out = l;
    return SSP_OK;
}

/* ---- the parent side ------------------------------------------------ */

struct ssp_pool {
    ssp_ctx *ctx;                     /* borrowed */
    const struct pool_link_ops *ops;  /* the transport */
    void *link;                       /* its state (owned) */
    int n;                            /* number of workers */
    long *job;                        /* n: job each worker runs, -1 idle (owned) */
    int *busy;                        /* n: job[w] >= 0, for the transport (owned) */
    pid_t *pid;                       /* n: worker's pid when its job was sent (owned) */
    unsigned long *jobs;              /* n: jobs each worker slot answered (owned) */
    int restarts;                     /* workers replaced so far */
    unsigned long reuses, loads;      /* jobs that reused a held circuit / parsed their netlist */
    unsigned long keys;               /* circuit keys handed out */
    ssp_pool_hook_fn hook;            /* dispatch hook (tests) */
    void *hook_payload;
    ssp_pool_result_fn result_hook;   /* result hook (progress) */
    void *result_payload;
};

void ssp_job_result_free(ssp_job_result *r)
{
    if (!r) return;
    free(r->errmsg);
    free(r->values);
    free(r->data);
    memset(r, 0, sizeof *r);
}

/* Have every worker drop the circuits an earlier pool left loaded. */
static int forget_held(ssp_pool *p)
{
    ssp_job *jobs = calloc((size_t)p->n, sizeof *jobs);
    ssp_job_result *res = calloc((size_t)p->n, sizeof *res);
    int rc, w;
    if (!jobs || !res) {
        free(jobs);
        free(res);
        return ssp_error(p->ctx, SSP_ENOMEM, "out of memory creating a worker pool");
    }
    for (w = 0; w < p->n; w++) {
        jobs[w].kind = POOL_JOB_FORGET;
        jobs[w].affinity = (unsigned long)w + 1;
    }
    rc = ssp_pool_run(p, jobs, (size_t)p->n, res);
    for (w = 0; w < p->n; w++) {
        ssp_job_result_free(&res[w]);
        p->jobs[w] = 0;
    }
    p->loads = p->reuses = 0;
    free(jobs);
    free(res);
    return rc;
}

int ssp_pool_create_opts(ssp_pool **out, ssp_ctx *ctx, const ssp_pool_opts *o)
{
    ssp_pool *p;
    int rc, n = o->nworkers, use_mpi;
    *out = NULL;
    use_mpi = o->transport == SSP_POOL_MPI || (o->transport == SSP_POOL_AUTO && pool_mpi_available());
    if (o->transport != SSP_POOL_AUTO && o->transport != SSP_POOL_LOCAL && o->transport != SSP_POOL_MPI)
        return ssp_error(ctx, SSP_EINVAL, "unknown pool transport %d", o->transport);
    p = calloc(1, sizeof *p);
    if (!p) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a worker pool");
    p->ctx = ctx;
    if (use_mpi) {
        p->ops = &pool_mpi_ops;
        rc = pool_mpi_open(&p->link, ctx, &n);
    } else {
        p->ops = &local_ops;
        rc = local_open(&p->link, ctx, o);
    }
    if (rc) {
        free(p);
        return rc;
    }
    p->n = n;
    p->job = malloc((size_t)n * sizeof *p->job);
    p->busy = calloc((size_t)n, sizeof *p->busy);
    p->pid = calloc((size_t)n, sizeof *p->pid);
    p->jobs = calloc((size_t)n, sizeof *p->jobs);
    if (!p->job || !p->busy || !p->pid || !p->jobs) {
        ssp_pool_destroy(&p);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a worker pool");
    }
    for (int i = 0; i < n; i++) p->job[i] = -1;
    if (use_mpi) {
        rc = forget_held(p);
        if (rc) {
            ssp_pool_destroy(&p);
            return rc;
        }
    }
    ssp_log(ctx, SSP_LOG_INFO, "pool", "transport = %s, workers = %d", p->ops->name, n);
    *out = p;
    return SSP_OK;
}

int ssp_pool_create(ssp_pool **out, ssp_ctx *ctx, int nworkers, const char *worker_path)
{
    ssp_pool_opts o = {SSP_POOL_AUTO, nworkers, worker_path, NULL};
    return ssp_pool_create_opts(out, ctx, &o);
}

void ssp_pool_destroy(ssp_pool **pp)
{
    ssp_pool *p;
    if (!pp || !*pp) return;
    p = *pp;
    if (p->ops) p->ops->destroy(p->link);
    free(p->job);
    free(p->busy);
    free(p->pid);
    free(p->jobs);
    free(p);
    *pp = NULL;
}

int ssp_pool_size(const ssp_pool *p) { return p->n; }
pid_t ssp_pool_worker_pid(const ssp_pool *p, int i) { return (i >= 0 && i < p->n) ? p->ops->pid(p->link, i) : 0; }
int ssp_pool_restarts(const ssp_pool *p) { return p->restarts; }
const char *ssp_pool_transport_name(const ssp_pool *p) { return p->ops->name; }
unsigned long ssp_pool_reuses(const ssp_pool *p) { return p->reuses; }
unsigned long ssp_pool_new_key(ssp_pool *p) { return ++p->keys; }
unsigned long ssp_pool_worker_jobs(const ssp_pool *p, int i) { return (i >= 0 && i < p->n) ? p->jobs[i] : 0; }
unsigned long ssp_pool_loads(const ssp_pool *p) { return p->loads; }

void ssp_pool_set_hook(ssp_pool *p, ssp_pool_hook_fn fn, void *payload)
{
    p->hook = fn;
    p->hook_payload = payload;
}

void ssp_pool_set_result_hook(ssp_pool *p, ssp_pool_result_fn fn, void *payload)
{
    p->result_hook = fn;
    p->result_payload = payload;
}

static int decode_result(struct rbuf *b, ssp_job_result *r, int *reused)
{
    uint64_t count, nd;
    r->status = (int)(int64_t)rb_u64(b);
    r->errmsg = rb_str(b);
    r->nrows = (size_t)rb_u64(b);
    r->nout = (size_t)rb_u64(b);
    if (b->bad || (r->nout && r->nrows > SSP_POOL_ARRAY_MAX / r->nout)) return -1;
    count = (uint64_t)r->nrows * r->nout;
    if (r->status == SSP_OK) {
        r->values = rb_f64s(b, count);
        if (!r->values) return -1;
    }
    *reused = (int)rb_u64(b);
    nd = rb_u64(b);
    if (b->bad || nd > b->n - b->off) return -1;
    if (nd) {
        r->data = malloc((size_t)nd);
        if (!r->data) return -1;
        rb_get(b, r->data, (size_t)nd);
        r->ndata = (size_t)nd;
    }
    return b->bad ? -1 : 0;
}

/* Whether worker w may run job j (its affinity). */
static int may_run(const ssp_pool *p, const ssp_job *j, int w)
{
    return j->affinity == 0 || (int)((j->affinity - 1) % (unsigned long)p->n) == w;
}

static void job_final(ssp_pool *p, size_t j, const ssp_job_result *r)
{
    if (p->result_hook) p->result_hook(j, r, p->result_payload);
}

int ssp_pool_run(ssp_pool *p, const ssp_job *jobs, size_t njobs, ssp_job_result *results)
{
    size_t done = 0, i;
    int *tries = NULL, rc = SSP_OK;
    unsigned char *pending = NULL; /* job i waits for a worker */

    for (i = 0; i < njobs; i++) memset(&results[i], 0, sizeof results[i]);
    if (njobs == 0) return SSP_OK;
    pending = malloc(njobs);
    tries = calloc(njobs, sizeof *tries);
    if (!pending || !tries) {
        rc = ssp_error(p->ctx, SSP_ENOMEM, "out of memory running %zu jobs", njobs);
        goto out;
    }
    memset(pending, 1, njobs);

    while (done < njobs) {
        int w, npoll = 0, got, reused = 0;
        unsigned char *frame = NULL;
        size_t len = 0, j;
        char how[64] = "";
        /* dispatch to idle workers: the first waiting job each may run */
        for (w = 0; w < p->n; w++) {
            struct wbuf b = {0};
            if (p->job[w] >= 0) continue;
            for (j = 0; j < njobs && !(pending[j] && may_run(p, &jobs[j], w)); j++) {
            }
            if (j == njobs) continue;
            pending[j] = 0;
            tries[j]++;
            encode_job(&b, &jobs[j], 1);
            if (b.oom) {
                free(b.p);
                rc = ssp_error(p->ctx, SSP_ENOMEM, "out of memory encoding job %zu", j);
                goto out;
            }
            p->job[w] = (long)j;
            p->busy[w] = 1;
            got = p->ops->send(p->link, w, b.p, b.n);
            free(b.p);
            /* POOL_SEND_GONE: the worker died, the wait below sees it */
            if (got < 0) {
                rc = got;
                goto out;
            }
            p->pid[w] = p->ops->pid(p->link, w);
            if (p->hook) p->hook(j, w, p->pid[w], p->hook_payload);
        }
        for (w = 0; w < p->n; w++) npoll += p->busy[w];
        if (npoll == 0) break; /* nothing running and nothing queued */
        got = p->ops->wait(p->link, p->busy, &w, &frame, &len, how, sizeof how);
        if (got < 0) {
            rc = got;
            goto out;
        }
        j = (size_t)p->job[w];
        if (got == POOL_WAIT_FRAME) {
            struct rbuf b = {frame, len, 0, 0};
            int ok = decode_result(&b, &results[j], &reused) == 0;
            free(frame);
            p->job[w] = -1;
            p->busy[w] = 0;
            if (ok) {
                p->jobs[w]++;
                if (reused) p->reuses++;
                else if (jobs[j].kind != SSP_JOB_CALL) p->loads++;
                done++;
                job_final(p, j, &results[j]);
                continue;
            }
            snprintf(how, sizeof how, "sent a malformed reply");
        }
        ssp_job_result_free(&results[j]);
        {
            pid_t pid = p->pid[w];
            p->job[w] = -1;
            p->busy[w] = 0;
            p->restarts++;
            ssp_log(p->ctx, SSP_LOG_WARN, "worker_died", "worker = %d, pid = %ld, how = %s, job = %zu, try = %d", w,
                    (long)pid, how, j, tries[j]);
            if (tries[j] < SSP_POOL_TRIES) {
                pending[j] = 1;
            } else {
                char msg[256];
                snprintf(msg, sizeof msg, "job %zu failed: its worker died %d times (last: pid %ld %s)", j, tries[j],
                         (long)pid, how);
                results[j].status = SSP_EWORKER;
                results[j].errmsg = strdup(msg);
                done++;
                job_final(p, j, &results[j]);
            }
            rc = p->ops->restart(p->link, w, got == POOL_WAIT_FRAME);
            if (rc) goto out;
        }
    }
    for (i = 0; i < njobs; i++) {
        if (results[i].status != SSP_OK) {
            rc = ssp_error(p->ctx, results[i].status, "job %zu: %s", i,
                           results[i].errmsg ? results[i].errmsg : ssp_strerror(results[i].status));
            break;
        }
    }
out:
    free(pending);
    free(tries);
    return rc;
}
