/* ssp_spice.c — the ngspice shared-library session.
 *
 * Loads libngspice with dlopen, routes every callback to the owning handle
 * through ngspice's user-data pointer, captures printed lines per call and
 * turns ngspice's textual error reports into status codes. It must never
 * hide a failure: a missing vector, a singular matrix or a fatal exit is an
 * error, even when ngspice itself returned 0 and produced numbers.
 *
 * Facts this file is built on (measured with ngspice 46, see DESIGN.md):
 * - ngSpice_Command/ngSpice_Circ return 0 on failure; only printed lines tell.
 * - ngGet_Vec_Info returns one static struct: copy data out at once.
 * - A floating node or a voltage-source loop prints "singular matrix" and
 *   then may "succeed" through the transient-op fallback: still an error.
 * - An expression error in a netlist or `source` of a missing file calls
 *   ControlledExit; any further call into that image may crash, so the image
 *   is reloaded (dlclose + dlopen + init) before the next use.
 * - A GetSyncData callback that forces the step while ngspice retries a step
 *   loops forever: the step is only steered while streaming, and the number
 *   of steered steps is bounded.
 * - Once a sync callback is installed (it cannot be uninstalled: a second
 *   ngSpice_Init_Sync with NULL crashes), ngspice cuts any step that would
 *   pass the final time to (tstop - t - 1.1 delmin), so an ordinary transient
 *   never reaches tstop and dies with "timestep too small". The callback
 *   therefore lands the last step on tstop itself.
 * - A streamed transient stores the t = 0 operating point (solved with the
 *   sources' t = 0 values) and then one point per forced step, so slot k sits
 *   at t = k * slot. */
#include <ctype.h>
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ngspice/sharedspice.h>

#include "ssp_spice.h"

#ifndef SSP_NGSPICE_SO
#define SSP_NGSPICE_SO "libngspice.so.0"
#endif

enum {
    SSP_SPICE_OUTPUT_MAX = 1 << 20, /* bytes of captured output kept per call */
    SSP_SPICE_ERRMSG_MAX = 2048,    /* bytes of error message kept */
    SSP_SPICE_NAME_MAX = 256        /* longest vector name accepted */
};

/* Streamed-transient slot length (s). Any value works for a memoryless
 * circuit. 1 s makes every slot time and tstop an exact small integer: with
 * 1 us, k * 1e-6 accumulated by ngspice drifts by ulps from the parsed tstop,
 * and ngspice then adds a time point or fails with "timestep too small" at
 * the end (e.g. 9, 12, 17, 20, 25 or 32 vectors). */
static const double SSP_SPICE_SLOT_S = 1.0;
/* A slot time may differ from (k + 1) * slot by this fraction of a slot. */
static const double SSP_SPICE_SLOT_TOL = 1e-3;
/* The last step of a transient ends this many ulps before tstop (ngspice
 * accepts 100; its parse of tstop may differ from ours by a few). */
enum { SSP_SPICE_LAND_ULPS = 16 };
/* A step within this fraction of half the remaining time was halved
 * against tstop by ngspice's step equaliser. */
static const double SSP_SPICE_HALF_TOL = 1e-9;
/* Shorter retries of one failed step allowed before the stream gives up
 * its transient (see cb_sync). */
enum { SSP_SPICE_REDO_MAX = 3 };
/* Steered-step budget per streamed vector before giving up steering. */
static const int SSP_SPICE_SYNC_CALLS_PER_SLOT = 32;

/* ngspice entry points, resolved with dlsym */
typedef int (*ng_init_fn)(SendChar *, SendStat *, ControlledExit *, SendData *, SendInitData *,
                          BGThreadRunning *, void *);
typedef int (*ng_init_sync_fn)(GetVSRCData *, GetISRCData *, GetSyncData *, int *, void *);
typedef int (*ng_command_fn)(char *);
typedef int (*ng_circ_fn)(char **);
typedef pvector_info (*ng_vecinfo_fn)(char *);
typedef char *(*ng_curplot_fn)(void);

/* Error markers in ngspice output, most specific first. A lower rank wins
 * when several appear during one call. */
static const struct {
    const char *needle; /* substring looked for (case-sensitive) */
    int code;           /* status it maps to */
    int rank;           /* priority: lower wins */
    int load_only;      /* only meaningful while a netlist is being parsed */
} markers[] = {
    {"not parsed", SSP_ESYNTAX, 0, 0},
    {"Error on line", SSP_ESYNTAX, 0, 1},
    {"Error in netlist", SSP_ESYNTAX, 0, 1},
    {"is not a valid", SSP_ESYNTAX, 0, 1},
    {"ignored", SSP_ESYNTAX, 0, 1},
    {"can't find model", SSP_ESYNTAX, 0, 1},
    {"unknown subckt", SSP_ESYNTAX, 0, 1},
    {"Unknown", SSP_ESYNTAX, 0, 1},
    {"singular matrix", SSP_ESINGULAR, 1, 0},
    {"Timestep too small", SSP_ETIMESTEP, 2, 0},
    {"timestep too small", SSP_ETIMESTEP, 2, 0},
    {"aborted", SSP_EABORT, 3, 0},
    {"Error", SSP_ESPICE, 4, 0},
    {"error:", SSP_ESPICE, 4, 0},
};

/* State of one streamed transient. */
struct stream {
    const char *const *names; /* source names (borrowed) */
    size_t nsrc;              /* number of sources */
    const double *inputs;     /* K x nsrc values (borrowed) */
    size_t k;                 /* number of vectors */
    double slot;              /* slot length, s */
    size_t guess;             /* next source index expected in the callback */
    long sync_calls;          /* steered steps so far (redos not counted) */
    long sync_budget;         /* steered steps allowed */
    long redos;               /* steps ngspice redid with a shorter step */
    int redo_run;             /* redos in a row */
    int unknown_source;       /* a callback named a source not in names */
    int dc_only;              /* 1: operating points: sources carry their dc values, callbacks 0 */
};

struct ssp_spice {
    ssp_ctx *ctx;          /* error/log context (borrowed) */
    char *libpath;         /* path handed to dlopen (owned) */
    int from_env;          /* libpath came from SSP_NGSPICE */
    void *dl;              /* dlopen handle, NULL when unloaded */
    int ident;             /* ngspice's library id */
    ng_init_fn init;
    ng_init_sync_fn init_sync;
    ng_command_fn command;
    ng_circ_fn circ;
    ng_vecinfo_fn vecinfo;
    ng_curplot_fn curplot;
    int version;           /* ngspice major version */
    int has_klu;           /* library was compiled with KLU */
    int dead;              /* ControlledExit seen: image must be reloaded */
    int reloads;           /* number of reloads done */
    int circuit_loaded;    /* a circuit is in memory (the current one) */
    int ncircuits;         /* circuits in memory (ssp_spice_load_another keeps several) */
    unsigned long load_serial; /* identifies the loaded circuit; 0 when none */
    unsigned long loads;   /* circuits loaded so far (the next serial) */
    int loading;           /* a netlist is being parsed (syntax markers apply) */
    char *out;             /* captured output of the current call (owned) */
    size_t out_len;        /* bytes used in out */
    size_t out_cap;        /* bytes allocated for out: SSP_SPICE_OUTPUT_MAX */
    int scan_rank;         /* rank of the best marker seen this call, or -1 */
    int scan_code;         /* its status */
    char scan_line[SSP_SPICE_ERRMSG_MAX]; /* the line it was found in */
    char errmsg[SSP_SPICE_ERRMSG_MAX];    /* message of the last failure */
    ssp_spice_vsrc_fn user_vsrc;          /* caller's external sources */
    ssp_spice_sync_fn user_sync;
    void *user_payload;
    int isrc_called;       /* an external current source asked for a value */
    double tran_tstop;     /* final time of the running transient (s) */
    struct stream *stream; /* non-NULL while streaming */
    char progress[SSP_SPICE_PROGRESS_MAX]; /* label of ngspice's percentages; "" = not reported */
    size_t progress_last;  /* last permille reported */
    int progress_runs;     /* analyses started since the label was set */
};

/* ngspice's API takes char * for strings it does not modify. */
static char *unconst(const char *p)
{
    union {
        const char *c;
        char *m;
    } u;
    u.c = p;
    return u.m;
}

/* ---- capture and classification ------------------------------------- */

static void capture_reset(ssp_spice *s)
{
    s->out_len = 0;
    if (s->out) s->out[0] = '\0';
    s->scan_rank = -1;
    s->scan_code = SSP_OK;
    s->scan_line[0] = '\0';
    s->isrc_called = 0;
}

/* The capture buffer is allocated once with the session: nothing of ours is
 * allocated while ngspice is running (leak checkers can then tell ngspice's
 * own allocations apart, see ngspice_call_*). Output past the buffer is
 * dropped; errors are classified from every line regardless. */
static void capture_append(ssp_spice *s, const char *line)
{
    size_t n = strlen(line);
    if (s->out_len + n + 2 > s->out_cap) return;
    memcpy(s->out + s->out_len, line, n);
    s->out_len += n;
    s->out[s->out_len++] = '\n';
    s->out[s->out_len] = '\0';
}

static void classify(ssp_spice *s, const char *line)
{
    size_t i;
    /* Notes and warnings of successful convergence aids are not errors;
     * anything matching a marker is. */
    for (i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        if (markers[i].load_only && !s->loading) continue;
        if (!strstr(line, markers[i].needle)) continue;
        if (s->scan_rank < 0 || markers[i].rank < s->scan_rank) {
            s->scan_rank = markers[i].rank;
            s->scan_code = markers[i].code;
            snprintf(s->scan_line, sizeof s->scan_line, "%s", line);
        }
        return;
    }
}

static int cb_sendchar(char *text, int id, void *ud)
{
    ssp_spice *s = ud;
    const char *body = text;
    (void)id;
    capture_append(s, text);
    if (strncmp(text, "stdout ", 7) == 0 || strncmp(text, "stderr ", 7) == 0) body = text + 7;
    classify(s, body);
    return 0;
}

/* ngspice's status line of a running analysis, "tran: 12.3%" (also
 * "--ready--" and words without a percentage, which are ignored). */
static int cb_sendstat(char *text, int id, void *ud)
{
    ssp_spice *s = ud;
    const char *colon;
    char *end;
    double pct;
    size_t permille;
    (void)id;
    if (!s || !s->progress[0] || !text || !(colon = strchr(text, ':'))) return 0;
    pct = strtod(colon + 1, &end);
    if (end == colon + 1 || *end != '%' || !(pct >= 0)) return 0;
    permille = pct >= 100 ? 1000 : (size_t)(pct * 10);
    if (permille == s->progress_last) return 0;
    s->progress_last = permille;
    {
        char what[SSP_SPICE_PROGRESS_MAX + 32];
        snprintf(what, sizeof what, "%s, analysis %d", s->progress, s->progress_runs);
        ssp_progress(s->ctx, what, permille, 1000);
    }
    return 0;
}

void ssp_spice_set_progress(ssp_spice *s, const char *what)
{
    snprintf(s->progress, sizeof s->progress, "%s", what ? what : "");
    s->progress_last = (size_t)-1;
    s->progress_runs = 0;
}

static int cb_exit(int status, NG_BOOL immediate, NG_BOOL quit, int id, void *ud)
{
    ssp_spice *s = ud;
    char line[128];
    (void)immediate;
    (void)id;
    s->dead = 1;
    snprintf(line, sizeof line, "controlled exit (status %d, %s)", status,
             quit ? "quit" : "fatal error");
    capture_append(s, line);
    return 0;
}

static int cb_bgrunning(NG_BOOL running, int id, void *ud)
{
    (void)running;
    (void)id;
    (void)ud;
    return 0;
}

static size_t stream_find(struct stream *st, const char *name)
{
    size_t i;
    if (st->guess < st->nsrc && strcasecmp(st->names[st->guess], name) == 0) return st->guess;
    for (i = 0; i < st->nsrc; i++)
        if (strcasecmp(st->names[i], name) == 0) return i;
    return st->nsrc;
}

/* Value of streamed source j at time t: vector k at t = k slots; between
 * two slot times it ramps linearly from the previous vector to the next.
 * Only slot times are sampled; the ramp matters when ngspice cannot take a
 * whole slot in one step (Newton fails on a large input jump) and cuts the
 * step: a shorter step then sees a smaller change, i.e. source stepping. */
static double stream_value(const struct stream *st, size_t j, double t)
{
    double x = t / st->slot, lo, hi;
    long k = lround(x), a;
    if (fabs(x - (double)k) <= SSP_SPICE_SLOT_TOL || x <= 0) {
        if (k < 0) k = 0;
        if ((size_t)k >= st->k) k = (long)st->k - 1;
        return st->inputs[(size_t)k * st->nsrc + j];
    }
    a = (long)floor(x);
    if ((size_t)a + 1 >= st->k) return st->inputs[(st->k - 1) * st->nsrc + j];
    lo = st->inputs[(size_t)a * st->nsrc + j];
    hi = st->inputs[(size_t)(a + 1) * st->nsrc + j];
    return lo + (hi - lo) * (x - (double)a);
}

static int cb_vsrc(double *value, double t, char *name, int id, void *ud)
{
    ssp_spice *s = ud;
    (void)id;
    if (s->stream) {
        struct stream *st = s->stream;
        size_t j = stream_find(st, name);
        if (j == st->nsrc) {
            st->unknown_source = 1;
            *value = 0.0;
            return 0;
        }
        if (st->dc_only) {
            *value = 0.0;
            return 0;
        }
        st->guess = j + 1;
        *value = stream_value(st, j, t);
        return 0;
    }
    if (s->user_vsrc) return s->user_vsrc(t, name, value, s->user_payload);
    *value = 0.0;
    s->isrc_called = 1; /* reported as an error after the call */
    return 0;
}

static int cb_isrc(double *value, double t, char *name, int id, void *ud)
{
    ssp_spice *s = ud;
    (void)t;
    (void)name;
    (void)id;
    *value = 0.0;
    s->isrc_called = 1;
    return 0;
}

/* Make the last step of a transient end on tstop. In sync mode ngspice
 * (sharedsync) cuts any step that would pass the final time to
 * tstop - t - 1.1 delmin, and its breakpoint logic halves a step that would
 * land within 1.9 steps of the final breakpoint ("equalise the last two
 * steps"); together they approach tstop by halves until the step is below
 * delmin. So: at the end-of-step call (location 1) a step reaching past
 * tstop becomes exactly the remainder; at the call after the breakpoint
 * logic (location 0) a step halved against tstop, or one that rounding puts
 * past it, is restored to the remainder. Halvings against earlier
 * breakpoints (PWL corners) are left alone. ngspice ends a transient within
 * 100 ulps of its final time; it parses tstop from the command text with
 * its own reader, which can be a few ulps off our double, so the landing
 * point is SSP_SPICE_LAND_ULPS below tstop. */
static void land_on_tstop(double tstop, double t, double *delta, int location)
{
    double rem, target = tstop, slack;
    int land;
    if (!(tstop > 0)) return;
    for (int i = 0; i < SSP_SPICE_LAND_ULPS; i++) target = nextafter(target, 0.0);
    rem = target - t;
    /* how far ngspice's idea of the remaining time can be from ours */
    slack = SSP_SPICE_HALF_TOL * rem + 4.0 * (tstop - target);
    if (!(rem > 0)) return;
    if (location == 1)
        land = t + *delta > target;
    else
        land = t + *delta > target || fabs(*delta - 0.5 * rem) <= slack;
    if (!land) return;
    *delta = rem;
    while (*delta > 0 && t + *delta > target) *delta = nextafter(*delta, 0.0);
}

static int cb_sync(double t, double *delta, double olddelta, int redo, int id, int location,
                   void *ud)
{
    ssp_spice *s = ud;
    (void)olddelta;
    (void)id;
    if (s->stream) {
        /* Step to the next slot time. A redo (Newton failed, ngspice cut
         * the step) keeps ngspice's shorter step, so the ramped sources move
         * less (source stepping); off a slot time the step then grows as
         * ngspice proposes (doubling), capped at the next slot time. */
        struct stream *st = s->stream;
        double x = t / st->slot, k = floor(x + SSP_SPICE_SLOT_TOL), next = (k + 1.0) * st->slot;
        int on_slot = fabs(x - k) <= SSP_SPICE_SLOT_TOL;
        if (redo) {
            /* Newton failed: ngspice retries with an eighth of the step, so
             * the ramped sources move less (source stepping), which takes
             * most jumps. But each retry starts from the failed iterate,
             * and from one with a TIA deep in its rail (zero derivative)
             * every retry fails, each costing up to itl4 factorizations
             * (minutes on a 128x128 tile). After SSP_SPICE_REDO_MAX
             * retries in a row ask for a step below delmin: ngspice tries
             * delmin once, then stops with "timestep too small", and the
             * vectors are solved as operating points (ssp_spice_stream). */
            st->redos++;
            if (++st->redo_run > SSP_SPICE_REDO_MAX)
                *delta = 0.0;
            else if (*delta > next - t)
                *delta = next - t;
        } else {
            st->redo_run = 0;
            if (st->sync_calls++ < st->sync_budget && (on_slot || *delta > next - t)) *delta = next - t;
        }
        return 0;
    }
    if (s->user_sync) {
        int rc = s->user_sync(t, delta, s->user_payload);
        if (rc) return rc;
    }
    land_on_tstop(s->tran_tstop, t, delta, location);
    return 0;
}

/* ---- every call into ngspice goes through these -------------------- */
/* ngspice keeps allocations for the life of its image, and they cannot be
 * symbolized once the image is unloaded. Funnelling every call through
 * these named, never-inlined functions lets the leak checkers' suppression
 * files (tests/lsan.supp, tests/valgrind.supp) name exactly "allocated
 * while ngspice was running" — and nothing of ours is allocated then. */
#define SSP_NOINLINE __attribute__((noinline))
/* Keeps the caller's frame on the stack (no tail call into ngspice). */
#define SSP_KEEP_FRAME() __asm__ volatile("" ::: "memory")

SSP_NOINLINE static void ngspice_call_init(ssp_spice *s);
SSP_NOINLINE static void ngspice_call_command(ssp_spice *s, const char *cmd);
SSP_NOINLINE static void ngspice_call_circ(ssp_spice *s, char **lines);
SSP_NOINLINE static pvector_info ngspice_call_vecinfo(ssp_spice *s, char *name);
SSP_NOINLINE static const char *ngspice_call_curplot(ssp_spice *s);

/* ---- loading the library -------------------------------------------- */

static int set_failure(ssp_spice *s, int code, const char *fmt, ...) SSP_PRINTF(3, 4);
static void library_close(ssp_spice *s);

static int set_failure(ssp_spice *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return ssp_error(s->ctx, code, "%s", s->errmsg);
}

static void parse_version(ssp_spice *s)
{
    const char *p = s->out ? strstr(s->out, "ngspice-") : NULL;
    s->version = p ? atoi(p + 8) : 0;
    s->has_klu = s->out && strstr(s->out, "KLU") != NULL;
}

/* How the library path was chosen, for messages: "SSP_NGSPICE=" when it
 * came from the environment, else "". */
static const char *libpath_origin(const ssp_spice *s) { return s->from_env ? "SSP_NGSPICE=" : ""; }

/* The entry points a session needs, in the order they are resolved. */
static const char *const NG_SYMBOLS[] = {"ngSpice_Init", "ngSpice_Init_Sync", "ngSpice_Command",
                                         "ngSpice_Circ", "ngGet_Vec_Info", "ngSpice_CurPlot"};
enum { NG_NSYMBOLS = sizeof NG_SYMBOLS / sizeof NG_SYMBOLS[0] };

/* The first entry point dl lacks, or NULL when it has them all. */
static const char *missing_symbol(void *dl, void *sym[NG_NSYMBOLS])
{
    for (size_t i = 0; i < NG_NSYMBOLS; i++) {
        void *p = dlsym(dl, NG_SYMBOLS[i]);
        if (sym) sym[i] = p;
        if (!p) return NG_SYMBOLS[i];
    }
    return NULL;
}

/* Open the library and resolve every entry point before anything is
 * called; on any failure the session is left unloaded (s->dl NULL, no entry
 * point set), which every clean-up path accepts. */
static int library_open(ssp_spice *s)
{
    void *probe, *sym[NG_NSYMBOLS];
    const char *missing;
    /* One image per process: a second session would share ngspice's globals. */
    probe = dlopen(s->libpath, RTLD_NOW | RTLD_NOLOAD);
    if (probe) {
        missing = missing_symbol(probe, NULL);
        dlclose(probe);
        if (missing)
            return set_failure(s, SSP_ELIBRARY, "%s%s: not an ngspice shared library (missing %s)",
                               libpath_origin(s), s->libpath, missing);
        return set_failure(s, SSP_ESTATE,
                           "%s is already loaded in this process; ngspice keeps global state, "
                           "so use one session per process (see ssp_pool.h)",
                           s->libpath);
    }
    s->dl = dlopen(s->libpath, RTLD_NOW | RTLD_LOCAL);
    if (!s->dl) return set_failure(s, SSP_ELIBRARY, "%scannot load %s: %s", s->from_env ? "SSP_NGSPICE: " : "",
                                   s->libpath, dlerror());
    missing = missing_symbol(s->dl, sym);
    if (missing) {
        library_close(s);
        return set_failure(s, SSP_ELIBRARY, "%s%s: not an ngspice shared library (missing %s)", libpath_origin(s),
                           s->libpath, missing);
    }
    *(void **)(&s->init) = sym[0];
    *(void **)(&s->init_sync) = sym[1];
    *(void **)(&s->command) = sym[2];
    *(void **)(&s->circ) = sym[3];
    *(void **)(&s->vecinfo) = sym[4];
    *(void **)(&s->curplot) = sym[5];
    capture_reset(s);
    s->dead = 0;
    s->circuit_loaded = 0;
    s->ncircuits = 0;
    ngspice_call_init(s);
    if (s->dead) return set_failure(s, SSP_ELIBRARY, "ngspice exited during initialisation");
    capture_reset(s);
    ngspice_call_command(s, "version");
    parse_version(s);
    if (s->version <= 0)
        return set_failure(s, SSP_ELIBRARY, "cannot read the ngspice version from %s", s->libpath);
    return SSP_OK;
}

static void library_close(ssp_spice *s)
{
    if (s->dl) dlclose(s->dl);
    s->dl = NULL;
    s->init = NULL;
    s->init_sync = NULL;
    s->command = NULL;
    s->circ = NULL;
    s->vecinfo = NULL;
    s->curplot = NULL;
}

/* Reload a dead image before the next call. */
static int ensure_alive(ssp_spice *s)
{
    void *probe;
    int rc;
    if (s->dl && !s->dead) return SSP_OK;
    library_close(s);
    probe = dlopen(s->libpath, RTLD_NOW | RTLD_NOLOAD);
    if (probe) {
        dlclose(probe);
        return set_failure(s, SSP_ELIBRARY, "%s stayed mapped after dlclose; cannot reload it",
                           s->libpath);
    }
    rc = library_open(s);
    if (rc) return rc;
    s->reloads++;
    ssp_log(s->ctx, SSP_LOG_WARN, "ngspice_reloaded", "reloads = %d", s->reloads);
    return SSP_OK;
}

int ssp_spice_create(ssp_spice **out, ssp_ctx *ctx, const char *library)
{
    ssp_spice *s;
    const char *env = getenv("SSP_NGSPICE");
    int rc;
    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating an ngspice session");
    s->ctx = ctx;
    s->from_env = !library && env && *env;
    s->libpath = strdup(library ? library : (env && *env ? env : SSP_NGSPICE_SO));
    s->out = malloc(SSP_SPICE_OUTPUT_MAX);
    s->out_cap = SSP_SPICE_OUTPUT_MAX;
    if (!s->libpath || !s->out) {
        free(s->out);
        free(s->libpath);
        free(s);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory creating an ngspice session");
    }
    rc = library_open(s);
    if (rc) {
        ssp_spice_destroy(&s);
        return rc;
    }
    ssp_log(ctx, SSP_LOG_DEBUG, "ngspice_loaded", "library = %s, version = %d, solver = %s",
            s->libpath, s->version, ssp_spice_solver(s));
    *out = s;
    return SSP_OK;
}

void ssp_spice_destroy(ssp_spice **sp)
{
    ssp_spice *s;
    if (!sp || !*sp) return;
    s = *sp;
    if (s->dl && !s->dead && s->command) ssp_spice_unload(s);
    library_close(s);
    free(s->libpath);
    free(s->out);
    free(s);
    *sp = NULL;
}

int ssp_spice_version(const ssp_spice *s) { return s->version; }
const char *ssp_spice_solver(const ssp_spice *s) { return s->has_klu ? "klu" : "sparse"; }
const char *ssp_spice_output(const ssp_spice *s) { return s->out ? s->out : ""; }
const char *ssp_spice_errmsg(const ssp_spice *s) { return s->errmsg; }
int ssp_spice_reloads(const ssp_spice *s) { return s->reloads; }

/* ---- commands ------------------------------------------------------- */

/* Turn what the last library call printed into a status. */
static int check_call(ssp_spice *s, const char *what)
{
    if (s->dead) {
        s->circuit_loaded = 0;
        s->ncircuits = 0;
        return set_failure(s, SSP_EFATAL, "%s: ngspice fatal error%s%s; the library will be reloaded",
                           what, s->scan_line[0] ? ": " : "", s->scan_line);
    }
    if (s->scan_code != SSP_OK)
        return set_failure(s, s->scan_code, "%s: ngspice: %s", what, s->scan_line);
    if (s->isrc_called)
        return set_failure(s, SSP_ESPICE, "%s: the circuit has an external source with no value "
                                          "provider (set one with ssp_spice_set_external)", what);
    return SSP_OK;
}

static void ngspice_call_init(ssp_spice *s)
{
    s->init(cb_sendchar, cb_sendstat, cb_exit, NULL, NULL, cb_bgrunning, s);
    s->ident = 0;
    s->init_sync(cb_vsrc, cb_isrc, cb_sync, &s->ident, s);
    SSP_KEEP_FRAME();
}

static void ngspice_call_command(ssp_spice *s, const char *cmd)
{
    s->command(unconst(cmd));
    SSP_KEEP_FRAME();
}

static void ngspice_call_circ(ssp_spice *s, char **lines)
{
    s->circ(lines);
    SSP_KEEP_FRAME();
}

static pvector_info ngspice_call_vecinfo(ssp_spice *s, char *name)
{
    pvector_info v = s->vecinfo(name);
    SSP_KEEP_FRAME();
    return v;
}

static const char *ngspice_call_curplot(ssp_spice *s)
{
    const char *p = s->curplot();
    SSP_KEEP_FRAME();
    return p;
}

/* Run one command without resetting the capture (internal). */
static void raw_command(ssp_spice *s, const char *cmd)
{
    ngspice_call_command(s, cmd);
}

int ssp_spice_command(ssp_spice *s, const char *cmd)
{
    int rc;
    size_t n = strlen(cmd);
    s->errmsg[0] = '\0';
    if (n > SSP_SPICE_CMD_MAX)
        return set_failure(s, SSP_ETOOLONG,
                           "command of %zu characters refused (ngspice truncates past %d): %.60s...",
                           n, SSP_SPICE_CMD_MAX, cmd);
    rc = ensure_alive(s);
    if (rc) return rc;
    capture_reset(s);
    raw_command(s, cmd);
    return check_call(s, cmd);
}

int ssp_spice_unload(ssp_spice *s)
{
    if (!s->dl || s->dead || !s->command) return SSP_OK;
    capture_reset(s);
    raw_command(s, "destroy all");
    if (s->circuit_loaded) {
        raw_command(s, "remcirc");
        s->ncircuits--;
    }
    /* ngspice makes another circuit current, if there is one */
    s->circuit_loaded = s->ncircuits > 0;
    s->load_serial = 0;
    return SSP_OK;
}

static int has_klu_option(const char *line)
{
    char low[64];
    size_t i;
    while (isspace((unsigned char)*line)) line++;
    for (i = 0; i + 1 < sizeof low && line[i]; i++) low[i] = (char)tolower((unsigned char)line[i]);
    low[i] = '\0';
    return strncmp(low, ".option", 7) == 0 && strstr(low, "klu") != NULL;
}

static int is_end_line(const char *line)
{
    while (isspace((unsigned char)*line)) line++;
    return strncasecmp(line, ".end", 4) == 0 && (line[4] == '\0' || isspace((unsigned char)line[4]));
}

static int load_lines(ssp_spice *s, const char *const *lines, size_t n, int keep)
{
    char **arr;
    size_t i, m = 0;
    int need_klu, need_end = 1, rc;

    s->errmsg[0] = '\0';
    if (n == 0) return set_failure(s, SSP_EINVAL, "empty netlist");
    rc = ensure_alive(s);
    if (rc) return rc;
    if (!keep) ssp_spice_unload(s);
    need_klu = s->has_klu;
    for (i = 0; i < n; i++) {
        if (has_klu_option(lines[i])) need_klu = 0;
        if (i > 0 && is_end_line(lines[i]) && strncasecmp(lines[i], ".ends", 5) != 0) need_end = 0;
    }
    arr = calloc(n + 3, sizeof *arr);
    if (!arr) return set_failure(s, SSP_ENOMEM, "out of memory loading a netlist");
    for (i = 0; i < n; i++) {
        arr[m++] = unconst(lines[i]);
        if (i == 0 && need_klu) arr[m++] = unconst(".options klu");
    }
    if (need_end) arr[m++] = unconst(".end");
    arr[m] = NULL;
    capture_reset(s);
    s->loading = 1;
    ngspice_call_circ(s, arr);
    s->loading = 0;
    free(arr);
    if (!s->dead) {
        s->circuit_loaded = 1;
        s->ncircuits++;
    }
    rc = check_call(s, "loading netlist");
    if (rc) {
        char msg[SSP_SPICE_ERRMSG_MAX];
        memcpy(msg, s->errmsg, sizeof msg);
        ssp_spice_unload(s);
        memcpy(s->errmsg, msg, sizeof msg);
        return ssp_error(s->ctx, rc, "%s", s->errmsg);
    }
    s->load_serial = ++s->loads;
    return SSP_OK;
}

int ssp_spice_load(ssp_spice *s, const char *const *lines, size_t n) { return load_lines(s, lines, n, 0); }

int ssp_spice_circuits(const ssp_spice *s) { return s->dl && !s->dead ? s->ncircuits : 0; }

int ssp_spice_select(ssp_spice *s, int index)
{
    char cmd[32];
    int rc;
    if (index < 1 || index > ssp_spice_circuits(s))
        return set_failure(s, SSP_EINVAL, "setcirc %d: %d circuits loaded", index, ssp_spice_circuits(s));
    snprintf(cmd, sizeof cmd, "setcirc %d", index);
    rc = ssp_spice_command(s, cmd);
    s->load_serial = 0; /* the caller knows which circuit this is */
    if (!rc) s->circuit_loaded = 1;
    return rc;
}

unsigned long ssp_spice_load_serial(const ssp_spice *s)
{
    return s->dl && !s->dead && s->circuit_loaded ? s->load_serial : 0;
}

static int load_text(ssp_spice *s, const char *text, int keep)
{
    char *copy = strdup(text), *p, *save = NULL;
    const char **lines = NULL;
    size_t n = 0, cap = 0;
    int rc;
    if (!copy) return set_failure(s, SSP_ENOMEM, "out of memory loading a netlist");
    for (p = strtok_r(copy, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[len - 1] = '\0';
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            const char **nl = realloc(lines, nc * sizeof *nl);
            if (!nl) {
                free(lines);
                free(copy);
                return set_failure(s, SSP_ENOMEM, "out of memory loading a netlist");
            }
            lines = nl;
            cap = nc;
        }
        lines[n++] = p;
    }
    rc = load_lines(s, lines, n, keep);
    free(lines);
    free(copy);
    return rc;
}

int ssp_spice_load_text(ssp_spice *s, const char *text) { return load_text(s, text, 0); }
int ssp_spice_load_another(ssp_spice *s, const char *text) { return load_text(s, text, 1); }

static int need_circuit(ssp_spice *s, const char *what)
{
    if (s->dl && !s->dead && s->circuit_loaded) return SSP_OK;
    return set_failure(s, SSP_ESTATE, "%s: no circuit loaded", what);
}

int ssp_spice_op(ssp_spice *s)
{
    int rc = need_circuit(s, "op");
    s->progress_runs++;
    s->progress_last = (size_t)-1;
    if (rc) return rc;
    return ssp_spice_command(s, "op");
}

int ssp_spice_tran(ssp_spice *s, double tstep, double tstop, double tmax, int uic)
{
    char cmd[256];
    int rc = need_circuit(s, "tran");
    s->progress_runs++; /* each analysis is reported from 0 % again */
    s->progress_last = (size_t)-1;
    if (rc) return rc;
    if (!(tstep > 0) || !(tstop > 0) || !isfinite(tstep) || !isfinite(tstop))
        return set_failure(s, SSP_EINVAL, "tran: tstep (%g s) and tstop (%g s) must be positive",
                           tstep, tstop);
    if (tmax > 0)
        snprintf(cmd, sizeof cmd, "tran %.17g %.17g 0 %.17g%s", tstep, tstop, tmax, uic ? " uic" : "");
    else
        snprintf(cmd, sizeof cmd, "tran %.17g %.17g%s", tstep, tstop, uic ? " uic" : "");
    s->tran_tstop = tstop;
    rc = ssp_spice_command(s, cmd);
    s->tran_tstop = 0;
    return rc;
}

/* Look a vector up and check it; *vi points into ngspice's static struct. */
static int vec_lookup(ssp_spice *s, const char *name, pvector_info *vi)
{
    char buf[SSP_SPICE_NAME_MAX];
    const char *plot;
    int rc = need_circuit(s, "vector");
    if (rc) return rc;
    if (strlen(name) >= sizeof buf) return set_failure(s, SSP_EINVAL, "vector name too long: %.40s...", name);
    memcpy(buf, name, strlen(name) + 1);
    *vi = ngspice_call_vecinfo(s, buf);
    plot = ngspice_call_curplot(s);
    if (!*vi)
        return set_failure(s, SSP_ENOVEC, "vector '%s' not found in plot '%s'", name, plot ? plot : "?");
    if ((*vi)->v_length <= 0 || !(*vi)->v_realdata)
        return set_failure(s, SSP_ENOVEC, "vector '%s' in plot '%s' is empty or not real", name,
                           plot ? plot : "?");
    return SSP_OK;
}

static int copy_checked(ssp_spice *s, const char *name, const double *src, size_t n, double *dst)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (!(fabs(src[i]) < SSP_SPICE_HUGE))
            return set_failure(s, SSP_EOVERFLOW, "vector '%s'[%zu] = %g (|v| >= %g: blown-up value)",
                               name, i, src[i], SSP_SPICE_HUGE);
        dst[i] = src[i];
    }
    return SSP_OK;
}

int ssp_spice_vec(ssp_spice *s, const char *name, double **out, size_t *n)
{
    pvector_info vi;
    double *buf;
    size_t len;
    int rc;
    *out = NULL;
    *n = 0;
    rc = vec_lookup(s, name, &vi);
    if (rc) return rc;
    len = (size_t)vi->v_length;
    buf = malloc(len * sizeof *buf);
    if (!buf) return set_failure(s, SSP_ENOMEM, "out of memory copying vector '%s'", name);
    rc = copy_checked(s, name, vi->v_realdata, len, buf);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *n = len;
    return SSP_OK;
}

/* Copy into caller storage of exactly n values (fails if the length differs). */
static int ssp_spice_vec_into(ssp_spice *s, const char *name, double *out, size_t n)
{
    pvector_info vi;
    int rc = vec_lookup(s, name, &vi);
    if (rc) return rc;
    if ((size_t)vi->v_length != n)
        return set_failure(s, SSP_ENOVEC, "vector '%s' has %d values, expected %zu", name,
                           vi->v_length, n);
    return copy_checked(s, name, vi->v_realdata, n, out);
}

int ssp_spice_vec_last(ssp_spice *s, const char *name, double *value)
{
    pvector_info vi;
    int rc = vec_lookup(s, name, &vi);
    if (rc) return rc;
    return copy_checked(s, name, vi->v_realdata + vi->v_length - 1, 1, value);
}

void ssp_spice_set_external(ssp_spice *s, ssp_spice_vsrc_fn vsrc, ssp_spice_sync_fn sync,
                            void *payload)
{
    s->user_vsrc = vsrc;
    s->user_sync = sync;
    s->user_payload = payload;
}

/* ---- streaming ------------------------------------------------------ */

/* Check a stream's arguments and set st up for them (what names the caller
 * in messages). */
static int stream_setup(ssp_spice *s, struct stream *st, const char *what, const char *const *src_names,
                        size_t nsrc, const double *inputs, size_t k, size_t nout)
{
    int rc;
    if (nsrc == 0 || k == 0 || nout == 0)
        return set_failure(s, SSP_EINVAL, "%s: need at least one source, vector and output", what);
    rc = need_circuit(s, what);
    if (rc) return rc;
    memset(st, 0, sizeof *st);
    st->names = src_names;
    st->nsrc = nsrc;
    st->inputs = inputs;
    st->k = k;
    return SSP_OK;
}

/* Each of the stream's vectors as an operating point: the sources' dc
 * values altered to the vector (their callbacks give 0), `op`, the outputs
 * read; the plots freed after each, the sources back at dc 0 at the end. */
static int stream_ops(ssp_spice *s, struct stream *st, const char *const *out_names, size_t nout, double *out)
{
    char cmd[SSP_SPICE_NAME_MAX + 64];
    int rc = SSP_OK, rc2 = SSP_OK;
    st->dc_only = 1;
    s->stream = st;
    for (size_t q = 0; q < st->k && !rc; q++) {
        for (size_t j = 0; j < st->nsrc && !rc; j++) {
            snprintf(cmd, sizeof cmd, "alter %s dc = %.17g", st->names[j], st->inputs[q * st->nsrc + j]);
            rc = ssp_spice_command(s, cmd);
        }
        if (!rc) rc = ssp_spice_op(s);
        for (size_t i = 0; i < nout && !rc; i++) rc = ssp_spice_vec_last(s, out_names[i], &out[q * nout + i]);
        if (!rc) rc = ssp_spice_command(s, "destroy all");
    }
    s->stream = NULL;
    for (size_t j = 0; j < st->nsrc && !rc2; j++) {
        snprintf(cmd, sizeof cmd, "alter %s dc = 0", st->names[j]);
        rc2 = ssp_spice_command(s, cmd);
    }
    if (!rc) rc = rc2;
    if (!rc && st->unknown_source)
        rc = set_failure(s, SSP_EINVAL, "operating points: the circuit has an external source not named in the "
                                        "source list");
    return rc;
}

int ssp_spice_stream_ops(ssp_spice *s, const char *const *src_names, size_t nsrc, const double *inputs,
                         size_t k, const char *const *out_names, size_t nout, double *out)
{
    struct stream st;
    int rc = stream_setup(s, &st, "operating points", src_names, nsrc, inputs, k, nout);
    return rc ? rc : stream_ops(s, &st, out_names, nout, out);
}

int ssp_spice_stream(ssp_spice *s, const char *const *src_names, size_t nsrc,
                     const double *inputs, size_t k, const char *const *out_names, size_t nout,
                     double *out)
{
    struct stream st;
    double *t = NULL, *col = NULL;
    size_t nt = 0, i, j, npts = k < 2 ? 2 : k, *idx = NULL; /* one vector still needs a step */
    int rc;

    rc = stream_setup(s, &st, "stream", src_names, nsrc, inputs, k, nout);
    if (rc) return rc;
    st.slot = SSP_SPICE_SLOT_S;
    st.sync_budget = (long)(SSP_SPICE_SYNC_CALLS_PER_SLOT * (k + 4));
    s->stream = &st;
    rc = ssp_spice_tran(s, st.slot, st.slot * (double)(npts - 1), st.slot, 0);
    if (rc == SSP_ETIMESTEP && st.redos > 0) {
        /* Newton failed on a slot step (a TIA driven deep into its rail
         * has a zero derivative at the failed iterate). The circuit is
         * memoryless, so each vector's outputs are its operating point:
         * solve those instead, with ngspice's own DC homotopies (gmin and
         * source stepping). A transient with ngspice's step control tracks
         * too, but on a railed 128x128 tile it took hundreds of time
         * points (more than 10 minutes) where the operating points took
         * 3 Newton iterations each. */
        char first[SSP_SPICE_ERRMSG_MAX];
        snprintf(first, sizeof first, "%s", s->errmsg);
        ssp_log(s->ctx, SSP_LOG_INFO, "stream", "vectors=%zu: slot steps failed (%s); each vector as an "
                "operating point", k, first);
        s->stream = NULL;
        rc = stream_ops(s, &st, out_names, nout, out);
        if (rc) {
            char second[SSP_SPICE_ERRMSG_MAX];
            snprintf(second, sizeof second, "%s", s->errmsg);
            rc = set_failure(s, rc, "%s (and as operating points: %s)", first, second);
        }
        return rc;
    }
    s->stream = NULL;
    if (rc) return rc;
    if (st.unknown_source)
        return set_failure(s, SSP_EINVAL, "stream: the circuit has an external source not named "
                                          "in the source list");
    rc = ssp_spice_vec(s, "time", &t, &nt);
    if (rc) return rc;
    /* one stored point per slot time, plus any intermediate points of
     * steps ngspice had to cut: find each slot's point */
    idx = malloc(npts * sizeof *idx);
    col = malloc(nt * sizeof *col);
    if (!idx || !col) {
        rc = set_failure(s, SSP_ENOMEM, "out of memory in stream");
        goto done;
    }
    for (i = 0, j = 0; i < npts; i++) {
        while (j < nt && t[j] < st.slot * (double)i - SSP_SPICE_SLOT_TOL * st.slot) j++;
        if (j == nt || fabs(t[j] - st.slot * (double)i) > SSP_SPICE_SLOT_TOL * st.slot) {
            rc = set_failure(s, SSP_ESPICE,
                             "stream: no time point at slot %zu (%g s) among %zu points for %zu "
                             "vectors (is the circuit memoryless?)", i, st.slot * (double)i, nt, npts);
            goto done;
        }
        idx[i] = j;
    }
    if (st.redos)
        ssp_log(s->ctx, SSP_LOG_DEBUG, "stream", "vectors=%zu points=%zu redone_steps=%ld", k, nt, st.redos);
    for (j = 0; j < nout; j++) {
        rc = ssp_spice_vec_into(s, out_names[j], col, nt);
        if (rc) goto done;
        for (i = 0; i < k; i++) out[i * nout + j] = col[idx[i]];
    }
done:
    free(t);
    free(col);
    free(idx);
    return rc;
}

/* ---- transient time vectors -------------------------------------------------- */

size_t ssp_spice_time_before(const double *time, size_t n, double t)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (time[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

size_t ssp_spice_time_nearest(const double *time, size_t n, double t)
{
    size_t k = ssp_spice_time_before(time, n, t);
    return k + 1 < n && fabs(time[k + 1] - t) < fabs(time[k] - t) ? k + 1 : k;
}
