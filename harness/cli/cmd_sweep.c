/* cmd_sweep.c — `siamspice sweep`: every combination of a grid of
 * configuration values as one ordinary training run, on the worker pool.
 *
 * The sweep directory holds base.ini (the resolved base configuration),
 * grid.ini (the grid as given), one run directory per job (<job>/, what
 * `siamspice train --out <job>` writes, plus train.out with its console
 * output and sweep_status, written when the job ends: "ok" or "failed" and
 * the message), sweep.csv, sweep.json and the plots. A job is a pool job of
 * the generic kind (SSP_JOB_CALL, handler "train"): the payload is the job
 * directory and the `siamspice train` arguments, and the serving process —
 * a local worker started as `siamspice --pool-worker FD`, or an MPI rank —
 * runs ssp_cmd_train in itself. So the pool (plugin/) carries training runs
 * without knowing of them, and the layering holds.
 *
 * Each job's status file is written by the process that ran it as soon as
 * it ends: a killed worker, rank or sweep loses no finished result, and
 * --resume runs only the jobs without an "ok". The table is rebuilt from
 * the job directories in job order, so it is the same bytes however the
 * jobs ran. This file owns the printing and the progress display. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"
#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_grid.h"
#include "ssp_hwprog.h"
#include "ssp_pool.h"
#include "ssp_sweep.h"

enum {
    PATH_CAP = 4096,
    JOB_NAME_MAX = 200,     /* a job directory's name, bytes */
    JOB_ARGS_MAX = 64,      /* arguments of one job's `siamspice train` */
    DEFAULT_WORKERS = 2     /* local workers when --workers is not given */
};

static const char STATUS_FILE[] = "sweep_status";
static const char WORKER_ARG[] = "--pool-worker";

/* ---- the job handler (runs in the serving process) ------------------ */

/* dir/name (and /leaf when not NULL) into out; names were checked to fit
 * (the sweep directory leaves room for JOB_NAME_MAX and a file name), so a
 * cut is a bug and is reported as such. */
static void path_of(char *out, size_t n, const char *dir, const char *name, const char *leaf)
{
    int w = leaf ? snprintf(out, n, "%s/%s/%s", dir, name, leaf) : snprintf(out, n, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= n) fprintf(stderr, "siamspice sweep: path %.200s... cut\n", dir);
}


/* The last "siamspice train: " line of the job's console output that is
 * not the start line: the error message. */
static void last_error_line(const char *path, char *msg, size_t n)
{
    static const char PREFIX[] = "siamspice train: ";
    FILE *f = fopen(path, "r");
    char line[1024];
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (strncmp(line, PREFIX, sizeof PREFIX - 1) != 0 || strncmp(line + sizeof PREFIX - 1, "method ", 7) == 0)
            continue;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (snprintf(msg, n, "%s", line + sizeof PREFIX - 1) >= (int)n) msg[n - 1] = '\0';
    }
    fclose(f);
}

static int write_status(ssp_ctx *ctx, const char *jobdir, int ok, const char *msg)
{
    char p[PATH_CAP], text[SSP_SWEEP_MSG_MAX + 16];
    int n;
    path_of(p, sizeof p, jobdir, STATUS_FILE, NULL);
    n = snprintf(text, sizeof text, "%s\n%s\n", ok ? "ok" : "failed", ok ? "" : msg);
    if (n < 0 || (size_t)n >= sizeof text) n = (int)sizeof text - 1;
    return ssp_file_write_all(ctx, p, text, (size_t)n);
}

/* Payload: the job directory, then the train arguments, each NUL-ended. */
static int train_handler(ssp_ctx *ctx, const unsigned char *in, size_t nin, unsigned char **out, size_t *nout,
                         void *payload)
{
    char *copy, *args[JOB_ARGS_MAX], p[PATH_CAP], msg[SSP_SWEEP_MSG_MAX] = "";
    int argc = 0, fd, save_out, save_err, status, rc;
    const char *jobdir;
    (void)payload;
    *out = NULL;
    *nout = 0;
    if (nin == 0 || in[nin - 1] != '\0') return ssp_error(ctx, SSP_EINVAL, "train job: payload not NUL-ended");
    copy = malloc(nin);
    if (!copy) return ssp_error(ctx, SSP_ENOMEM, "train job: out of memory");
    memcpy(copy, in, nin);
    jobdir = copy;
    for (size_t off = strlen(copy) + 1; off < nin; off += strlen(copy + off) + 1) {
        if (argc == JOB_ARGS_MAX - 1) {
            free(copy);
            return ssp_error(ctx, SSP_EINVAL, "train job: more than %d arguments", JOB_ARGS_MAX - 1);
        }
        args[argc++] = copy + off;
    }
    args[argc] = NULL;
    if (argc < 1 || strlen(jobdir) + 32 >= PATH_CAP) {
        free(copy);
        return ssp_error(ctx, SSP_EINVAL, "train job: no arguments or job directory name too long");
    }
    rc = ssp_file_mkdirs(ctx, jobdir);
    if (rc) {
        free(copy);
        return rc;
    }
    path_of(p, sizeof p, jobdir, STATUS_FILE, NULL);
    unlink(p);
    /* the run's console output goes to <job>/train.out, not to the sweep's
     * terminal: this process serves jobs and prints nothing of its own */
    path_of(p, sizeof p, jobdir, "train.out", NULL);
    fflush(stdout);
    fflush(stderr);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    save_out = dup(STDOUT_FILENO);
    save_err = dup(STDERR_FILENO);
    if (fd < 0 || save_out < 0 || save_err < 0) {
        rc = ssp_error(ctx, SSP_EIO, "train job: cannot redirect the output to %s: %s", p, strerror(errno));
        if (fd >= 0) close(fd);
        if (save_out >= 0) close(save_out);
        if (save_err >= 0) close(save_err);
        free(copy);
        return rc;
    }
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    status = ssp_cmd_train(argc, args);
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, STDOUT_FILENO);
    dup2(save_err, STDERR_FILENO);
    close(save_out);
    close(save_err);
    if (status != 0) {
        last_error_line(p, msg, sizeof msg);
        if (!msg[0]) snprintf(msg, sizeof msg, "siamspice train exited with status %d", status);
    }
    rc = write_status(ctx, jobdir, status == 0, msg);
    free(copy);
    if (rc) return rc;
    if (status != 0) return ssp_error(ctx, status == 2 ? SSP_ECONFIG : SSP_EIO, "%s", msg);
    return SSP_OK;
}

/* the sweep's training jobs, and tiles programmed as pool jobs
 * (ssp_hwprog_program_all_pool) */
static const ssp_pool_handler HANDLERS[] = {{"train", train_handler, NULL},
                                            {SSP_HWPROG_HANDLER, ssp_hwprog_tile_handler, NULL}};

const ssp_pool_handler *ssp_cmd_handlers(size_t *n)
{
    *n = sizeof HANDLERS / sizeof HANDLERS[0];
    return HANDLERS;
}

int ssp_cmd_pool_worker(int argc, char **argv)
{
    char *end = NULL;
    long fd;
    size_t nh;
    const ssp_pool_handler *h = ssp_cmd_handlers(&nh);
    if (argc != 2) {
        fputs("usage: siamspice --pool-worker FD (started by the siamspice worker pool)\n", stderr);
        return 2;
    }
    fd = strtol(argv[1], &end, 10);
    if (!end || *end || fd < 0 || fd > INT_MAX) {
        fprintf(stderr, "siamspice --pool-worker: bad descriptor '%s'\n", argv[1]);
        return 2;
    }
    return ssp_pool_worker_serve_handlers((int)fd, h, nh) == SSP_OK ? 0 : 1;
}

/* ---- the sweep (rank 0) ---------------------------------------------- */

static const char SYNOPSIS[] =
    "usage: siamspice sweep --config BASE.ini --grid GRID.ini [--out DIR] [--workers N] [-q]\n"
    "       siamspice sweep --resume DIR [--workers N] [-q]\n";
static const char ABOUT[] =
    "Run every combination of the grid's values as a training run of the base\n"
    "configuration, on local worker processes or, under mpirun, on the other ranks.\n";
static const char TAIL[] =
    "Writes DIR/<job>/ (a run directory per job), DIR/sweep.csv, DIR/sweep.json and\n"
    "DIR/sweep_<key>.png (each metric against each swept key, spread over run.seed).\n"
    "Exit status: 0 every job ok, 1 a job failed (recorded in the table), 2 bad usage\n"
    "or input.\n";

struct job {
    char name[JOB_NAME_MAX + 1];   /* directory name under the sweep directory */
    const char *values[SSP_GRID_MAX_KEYS]; /* borrowed from the grid */
    int done;                      /* "ok" already on disk before this run */
    unsigned char *payload;        /* train job payload (owned) */
    size_t npayload;
    int sent;                      /* dispatched at least once (progress) */
};

struct progress {
    struct job *jobs;
    size_t total;     /* jobs in the grid */
    size_t finished;  /* ok on disk or ended in this run */
    size_t running;   /* dispatched, not ended */
    size_t failed;    /* ended in this run with an error */
    const size_t *map;/* pool job index -> grid job index */
    int tty, quiet;
};

static void show(const struct progress *pr)
{
    if (pr->quiet) return;
    if (pr->tty)
        fprintf(stderr, "\rsweep: %zu/%zu done, %zu running, %zu failed ", pr->finished, pr->total, pr->running,
                pr->failed);
}

static void on_dispatch(size_t job, int worker, pid_t pid, void *payload)
{
    struct progress *pr = payload;
    struct job *j = &pr->jobs[pr->map[job]];
    (void)worker;
    (void)pid;
    if (!j->sent) {
        j->sent = 1;
        pr->running++;
    }
    show(pr);
}

static void on_result(size_t job, const ssp_job_result *r, void *payload)
{
    struct progress *pr = payload;
    struct job *j = &pr->jobs[pr->map[job]];
    if (pr->running) pr->running--;
    pr->finished++;
    if (r->status != SSP_OK) pr->failed++;
    if (pr->quiet) return;
    if (pr->tty)
        show(pr);
    else
        fprintf(stderr, "sweep: %zu/%zu %s %s%s%s\n", pr->finished, pr->total, j->name,
                r->status == SSP_OK ? "ok" : "failed", r->status == SSP_OK ? "" : ": ",
                r->status == SSP_OK ? "" : (r->errmsg ? r->errmsg : ssp_strerror(r->status)));
}

/* A job directory's name: its index, then key=value per key, anything but
 * letters, digits and ".=_-" shown as '-'. */
static void job_name(char *out, size_t n, size_t index, int width, const ssp_grid *g, const char *const *values)
{
    size_t used = (size_t)snprintf(out, n, "%0*zu", width, index);
    for (size_t k = 0; k < ssp_grid_nkeys(g) && used + 1 < n; k++) {
        int w = snprintf(out + used, n - used, "_%s=%s", ssp_grid_key(g, k), values[k]);
        if (w < 0 || (size_t)w >= n - used) {
            out[n - 1] = '\0';
            used = n - 1;
            break;
        }
        used += (size_t)w;
    }
    for (char *c = out; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '=' || *c == '_' || *c == '-'))
            *c = '-';
}

/* The job's payload: directory, then `train --config BASE --set k=v ... --out DIR -q`. */
static int job_payload(struct job *j, const char *dir, const ssp_grid *g)
{
    size_t cap = 0, len = 0;
    const char *parts[JOB_ARGS_MAX];
    char sets[SSP_GRID_MAX_KEYS][2 * SSP_GRID_TEXT_MAX + 2], jobdir[PATH_CAP], base[PATH_CAP];
    int np = 0;
    path_of(jobdir, sizeof jobdir, dir, j->name, NULL);
    path_of(base, sizeof base, dir, "base.ini", NULL);
    parts[np++] = jobdir;
    parts[np++] = "train";
    parts[np++] = "--config";
    parts[np++] = base;
    for (size_t k = 0; k < ssp_grid_nkeys(g); k++) {
        snprintf(sets[k], sizeof sets[k], "%s=%s", ssp_grid_key(g, k), j->values[k]);
        parts[np++] = "--set";
        parts[np++] = sets[k];
    }
    parts[np++] = "--out";
    parts[np++] = jobdir;
    parts[np++] = "-q";
    for (int i = 0; i < np; i++) cap += strlen(parts[i]) + 1;
    j->payload = malloc(cap);
    if (!j->payload) return -1;
    for (int i = 0; i < np; i++) {
        size_t l = strlen(parts[i]) + 1;
        memcpy(j->payload + len, parts[i], l);
        len += l;
    }
    j->npayload = len;
    return 0;
}

/* Whether dir/<job>/sweep_status says ok; the message of a failure. */
static int job_status(const char *dir, const char *name, char *msg, size_t n)
{
    char p[PATH_CAP], line[SSP_SWEEP_MSG_MAX + 16];
    FILE *f;
    int ok = 0;
    path_of(p, sizeof p, dir, name, STATUS_FILE);
    if (msg) snprintf(msg, n, "not run");
    f = fopen(p, "r");
    if (!f) return 0;
    if (fgets(line, sizeof line, f)) ok = strcmp(line, "ok\n") == 0;
    if (!ok && msg && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        while (len && line[len - 1] == '\n') line[--len] = '\0';
        snprintf(msg, n, "%s", line);
    }
    fclose(f);
    return ok;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

int ssp_cmd_sweep(int argc, char **argv)
{
    const char *config = NULL, *gridpath = NULL, *out = NULL, *resume = NULL;
    char dir[PATH_CAP], p[PATH_CAP], self[PATH_CAP], transport[64] = "";
    int workers = DEFAULT_WORKERS, quiet = 0, status = 1, rc, width, lock = -1;
    unsigned char *gtext = NULL;
    size_t glen = 0, njobs = 0, npend = 0, nfailed = 0;
    ssp_ctx *ctx = NULL;
    ssp_grid *g = NULL;
    ssp_config cfg;
    struct job *jobs = NULL;
    ssp_job *pj = NULL;
    ssp_job_result *res = NULL;
    size_t *map = NULL;
    ssp_sweep_row *rows = NULL;
    ssp_pool *pool = NULL;

    long nworkers = DEFAULT_WORKERS;
    ssp_cmd_opt opts[] = {
        {.name = "--config", .kind = SSP_CMD_STRING, .target = &config, .arg = "FILE",
         .help = "the base configuration (as for siamspice train)"},
        {.name = "--grid", .kind = SSP_CMD_STRING, .target = &gridpath, .arg = "FILE",
         .help = "keys and values, e.g.  crossbar.r_wire = 0, 1, 2.5\n"
                 "                      run.seed = 1..5"},
        {.name = "--out", .kind = SSP_CMD_STRING, .target = &out, .arg = "DIR",
         .help = "sweep directory (default runs/sweep-<timestamp>)"},
        {.name = "--resume", .kind = SSP_CMD_STRING, .target = &resume, .arg = "DIR",
         .help = "run only the jobs of DIR that are missing or failed"},
        {.name = "--workers", .kind = SSP_CMD_LONG, .target = &nworkers, .arg = "N", .lo = 1, .hi = 256,
         .flags = SSP_CMD_RANGE,
         .help = "local worker processes (default 2; under mpirun every rank\nbut 0 serves jobs and N is ignored)"},
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &quiet, .help = "no progress display"},
    };
    ssp_cmd_spec spec = {.cmd = "sweep", .synopsis = SYNOPSIS, .about = ABOUT, .tail = TAIL,
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};

    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    workers = (int)nworkers;
    if (resume ? (config || gridpath || out) : (!config || !gridpath))
        return ssp_cmd_opts_usage(&spec, "give --config FILE and --grid FILE, or --resume DIR alone");
    if (strlen(resume ? resume : out ? out : "runs/sweep-YYYYmmdd-HHMMSS") + JOB_NAME_MAX + 64 >= PATH_CAP) {
        fprintf(stderr, "siamspice sweep: sweep directory name too long\n");
        return 2;
    }
    ssp_cmd_run_dir(dir, sizeof dir, resume, out, "sweep");
    if (ssp_ctx_create(&ctx)) return 1;
    ssp_ctx_set_log_level(ctx, SSP_LOG_WARN);

    /* the grid and the base configuration, checked before anything runs */
    if (resume) {
        path_of(p, sizeof p, dir, "grid.ini", NULL);
        if (!exists(p)) {
            fprintf(stderr, "siamspice sweep: %s holds no sweep (no grid.ini)\n", dir);
            status = 2;
            goto done;
        }
        gridpath = p;
    } else {
        path_of(p, sizeof p, dir, "grid.ini", NULL);
        if (exists(p)) {
            fprintf(stderr, "siamspice sweep: %s already holds a sweep; continue it with --resume %s\n", dir, dir);
            status = 2;
            goto done;
        }
        gridpath = gridpath ? gridpath : p;
    }
    rc = ssp_file_read_all(ctx, gridpath, &gtext, &glen);
    if (!rc) rc = ssp_grid_parse(&g, ctx, (const char *)gtext, glen, gridpath);
    for (size_t k = 0; !rc && k < ssp_grid_nkeys(g); k++)
        if (!ssp_config_has_key(ssp_grid_key(g, k)))
            rc = ssp_error(ctx, SSP_ECONFIG, "%s: unknown configuration key %s", gridpath, ssp_grid_key(g, k));
    if (!rc) {
        char base[PATH_CAP];
        path_of(base, sizeof base, dir, "base.ini", NULL);
        ssp_config_defaults(&cfg);
        rc = ssp_config_load(&cfg, ctx, resume ? base : config);
        if (!rc) rc = ssp_config_check(&cfg, ctx);
    }
    if (rc) {
        fprintf(stderr, "siamspice sweep: %s\n", ssp_ctx_errmsg(ctx));
        status = 2;
        goto done;
    }
    if (!resume) {
        ssp_afile *af;
        rc = ssp_file_mkdirs(ctx, dir);
        path_of(p, sizeof p, dir, "base.ini", NULL);
        if (!rc) rc = ssp_file_atomic_open(&af, ctx, p);
        if (!rc) {
            fprintf(ssp_file_stream(af), "; the base configuration of this sweep, resolved (every parameter)\n");
            ssp_config_write(&cfg, ssp_file_stream(af));
            rc = ssp_file_atomic_commit(&af, ctx);
        }
        path_of(p, sizeof p, dir, "grid.ini", NULL);
        if (!rc) rc = ssp_file_write_all(ctx, p, gtext, glen);
        if (rc) {
            fprintf(stderr, "siamspice sweep: %s\n", ssp_ctx_errmsg(ctx));
            status = 2;
            goto done;
        }
    }
    /* one sweep writes a directory at a time; then what a killed one left
     * (its plots' and tables' temporary files) goes */
    rc = ssp_file_lock_dir(ctx, dir, &lock);
    if (!rc && resume) rc = ssp_file_remove_stale_temps(ctx, dir, NULL);
    if (rc) {
        fprintf(stderr, "siamspice sweep: %s\n", ssp_ctx_errmsg(ctx));
        status = 2;
        goto done;
    }

    /* the jobs, in odometer order; those already ok are not run again */
    njobs = ssp_grid_njobs(g);
    jobs = calloc(njobs, sizeof *jobs);
    pj = calloc(njobs, sizeof *pj);
    res = calloc(njobs, sizeof *res);
    map = calloc(njobs, sizeof *map);
    rows = calloc(njobs, sizeof *rows);
    if (!jobs || !pj || !res || !map || !rows) {
        fprintf(stderr, "siamspice sweep: out of memory for %zu jobs\n", njobs);
        goto done;
    }
    width = snprintf(NULL, 0, "%zu", njobs - 1);
    if (width < 3) width = 3;
    for (size_t j = 0; j < njobs; j++) {
        for (size_t k = 0; k < ssp_grid_nkeys(g); k++)
            jobs[j].values[k] = ssp_grid_value(g, k, ssp_grid_job_value(g, j, k));
        job_name(jobs[j].name, sizeof jobs[j].name, j, width, g, jobs[j].values);
        jobs[j].done = job_status(dir, jobs[j].name, NULL, 0);
        if (jobs[j].done) continue;
        if (job_payload(&jobs[j], dir, g)) {
            fprintf(stderr, "siamspice sweep: out of memory\n");
            goto done;
        }
        pj[npend].kind = SSP_JOB_CALL;
        pj[npend].handler = "train";
        pj[npend].payload = jobs[j].payload;
        pj[npend].npayload = jobs[j].npayload;
        map[npend++] = j;
    }

    if (npend) {
        struct progress pr = {jobs, njobs, njobs - npend, 0, 0, map, isatty(STDERR_FILENO), quiet};
        ssp_pool_opts o = {SSP_POOL_AUTO, workers, NULL, WORKER_ARG};
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "siamspice sweep: cannot find the siamspice program: %s\n", strerror(errno));
            goto done;
        }
        self[n] = '\0';
        o.worker_path = self;
        if ((size_t)workers > npend) o.nworkers = (int)npend;
        rc = ssp_pool_create_opts(&pool, ctx, &o);
        if (rc) {
            fprintf(stderr, "siamspice sweep: %s\n", ssp_ctx_errmsg(ctx));
            goto done;
        }
        snprintf(transport, sizeof transport, "%s", ssp_pool_transport_name(pool));
        fprintf(stderr, "siamspice sweep: %zu jobs (%zu to run), %s transport with %d worker%s, directory %s\n",
                njobs, npend, transport, ssp_pool_size(pool), ssp_pool_size(pool) == 1 ? "" : "s", dir);
        ssp_pool_set_hook(pool, on_dispatch, &pr);
        ssp_pool_set_result_hook(pool, on_result, &pr);
        rc = ssp_pool_run(pool, pj, npend, res);
        if (pr.tty && !quiet) fputc('\n', stderr);
        /* a job whose worker died twice wrote no status: record it here */
        for (size_t i = 0; i < npend; i++) {
            struct job *j = &jobs[map[i]];
            path_of(p, sizeof p, dir, j->name, STATUS_FILE);
            if (res[i].status != SSP_OK && !exists(p)) {
                char jd[PATH_CAP];
                path_of(jd, sizeof jd, dir, j->name, NULL);
                if (ssp_file_mkdirs(ctx, jd) == SSP_OK)
                    write_status(ctx, jd, 0, res[i].errmsg ? res[i].errmsg : ssp_strerror(res[i].status));
            }
        }
        ssp_pool_destroy(&pool);
    } else {
        fprintf(stderr, "siamspice sweep: all %zu jobs of %s are done already\n", njobs, dir);
    }

    /* the table, from the job directories in job order */
    for (size_t j = 0; j < njobs; j++) {
        char jd[PATH_CAP];
        ssp_sweep_row *r = &rows[j];
        r->job = jobs[j].name;
        r->values = jobs[j].values;
        r->ok = job_status(dir, jobs[j].name, r->message, sizeof r->message);
        if (r->ok) {
            r->message[0] = '\0';
            path_of(jd, sizeof jd, dir, jobs[j].name, NULL);
            if (ssp_sweep_read_run(ctx, jd, r) != SSP_OK) {
                r->ok = 0;
                snprintf(r->message, sizeof r->message, "%s", ssp_ctx_errmsg(ctx));
            }
        }
        nfailed += !r->ok;
    }
    {
        const char *keys[SSP_GRID_MAX_KEYS];
        int nplots = 0;
        for (size_t k = 0; k < ssp_grid_nkeys(g); k++) keys[k] = ssp_grid_key(g, k);
        rc = ssp_sweep_write_table(ctx, dir, keys, ssp_grid_nkeys(g), rows, njobs);
        if (!rc) rc = ssp_sweep_plot(ctx, dir, keys, ssp_grid_nkeys(g), rows, njobs, &nplots);
        if (rc) {
            fprintf(stderr, "siamspice sweep: %s\n", ssp_ctx_errmsg(ctx));
            goto done;
        }
        printf("%-*s  %-6s  %s\n", JOB_NAME_MAX > 40 ? 40 : JOB_NAME_MAX, "job", "status", "final test accuracy");
        for (size_t j = 0; j < njobs; j++) {
            if (rows[j].ok)
                printf("%-40s  ok      %.2f %%\n", rows[j].job, 100 * rows[j].acc[rows[j].epochs - 1]);
            else
                printf("%-40s  failed  %s\n", rows[j].job, rows[j].message);
        }
        printf("done: %s/sweep.csv, %s/sweep.json, %d plot%s\n", dir, dir, nplots, nplots == 1 ? "" : "s");
    }
    if (nfailed) {
        fprintf(stderr, "siamspice sweep: %zu of %zu jobs failed (see sweep.csv); rerun them with: siamspice sweep "
                        "--resume %s\n",
                nfailed, njobs, dir);
        status = 1;
    } else {
        status = 0;
    }
done:
    ssp_pool_destroy(&pool);
    if (res)
        for (size_t i = 0; i < npend; i++) ssp_job_result_free(&res[i]);
    if (jobs)
        for (size_t j = 0; j < njobs; j++) free(jobs[j].payload);
    free(jobs);
    free(pj);
    free(res);
    free(map);
    free(rows);
    free(gtext);
    ssp_grid_free(&g);
    ssp_file_unlock_dir(&lock);
    ssp_ctx_destroy(&ctx);
    return status;
}
