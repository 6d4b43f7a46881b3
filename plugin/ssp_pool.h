/* ssp_pool.h — a pool of worker processes, one ngspice each.
 *
 * ngspice keeps global state, so independent circuits (tiles) run in
 * parallel only in separate processes. Each worker is the siamspice-worker
 * program (fork + exec: a fresh process with its own ngspice image), fed jobs
 * over a socket pair. A worker that dies is reported, replaced, and its job
 * retried once; a second death fails that job with SSP_EWORKER. Results come
 * back in job order regardless of which worker ran them.
 *
 * Loaded circuits are reused (a circuit handle per worker): a job with a
 * nonzero `circuit` key leaves its circuit loaded in the worker that ran it,
 * at cell-state version `state`. A later job with the same key runs on the
 * same worker (`affinity` pins it) and, if that worker holds the circuit at
 * version `base`, applies `commands` (ngspice commands, typically `alter` of
 * the cells that changed) to it instead of parsing `netlist` again; if it
 * holds version `state` already it runs the analysis as is. Any other worker
 * (a replacement after a death, a different circuit) parses `netlist`, which
 * must therefore always describe version `state` itself. A job with circuit
 * 0 loads, runs and unloads, as before. A worker holds up to 8 circuits
 * (the oldest is removed first), so a layer with more tiles than workers
 * still keeps every tile loaded on small pools. */
#ifndef SSP_POOL_H
#define SSP_POOL_H

#include <stddef.h>
#include <sys/types.h>

#include "ssp_error.h"

enum ssp_job_kind {
    SSP_JOB_OP = 0,     /* operating point; each output's value */
    SSP_JOB_TRAN = 1,   /* transient; every time point of each output */
    SSP_JOB_STREAM = 2, /* K input vectors streamed through one transient */
    SSP_JOB_OPS = 3     /* K input vectors, each an operating point (sources altered) */
};

/* One simulation. All pointers are borrowed for the duration of the run. */
typedef struct ssp_job {
    int kind;                     /* enum ssp_job_kind */
    const char *netlist;          /* netlist text, newline-separated */
    double tstep, tstop, tmax;    /* tran: step, stop time, max step (s) */
    int uic;                      /* tran: use initial conditions */
    const char *const *src_names; /* stream: external source names */
    size_t nsrc;                  /* stream: number of sources */
    const double *inputs;         /* stream: k x nsrc inputs, row-major */
    size_t k;                     /* stream: number of vectors */
    const char *const *out_names; /* vectors to return ("v(x)", "i(vs)", "time") */
    size_t nout;                  /* number of vectors */
    unsigned long circuit;        /* reuse key (0: none; see above) */
    unsigned long base, state;    /* version commands apply to / version after them */
    const char *const *commands;  /* ngspice commands taking base to state (may be NULL) */
    size_t ncommands;             /* number of commands */
    unsigned long affinity;       /* 0: any worker; a >= 1: only worker (a - 1) % size */
} ssp_job;

/* What a job produced. Free with ssp_job_result_free. */
typedef struct ssp_job_result {
    int status;     /* SSP_OK or the job's error code */
    char *errmsg;   /* message when status != SSP_OK (owned) */
    double *values; /* nrows x nout, row-major (owned) */
    size_t nrows;   /* 1 for op, time points for tran, k for stream */
    size_t nout;    /* outputs per row */
} ssp_job_result;

SSP_API void ssp_job_result_free(ssp_job_result *r);

typedef struct ssp_pool ssp_pool;

/* Called after job `job` was sent to worker `worker` (process pid). */
typedef void (*ssp_pool_hook_fn)(size_t job, int worker, pid_t pid, void *payload);

/* Start nworkers workers. worker_path NULL: $SSP_WORKER, else the
 * siamspice-worker of the build tree when the calling code was loaded from
 * it, else the one installed beside the code (BIN_OR_LIB/../libexec/
 * siamspice/siamspice-worker), else the configured install path. */
SSP_API int ssp_pool_create(ssp_pool **out, ssp_ctx *ctx, int nworkers, const char *worker_path);
/* Stop the workers and free; NULL is a no-op; sets *p = NULL. */
SSP_API void ssp_pool_destroy(ssp_pool **p);

/* Run njobs jobs; results[i] receives job i's outcome. Returns SSP_OK when
 * every job succeeded, otherwise the first failing job's code with its
 * message in the context (all results are filled either way). */
SSP_API int ssp_pool_run(ssp_pool *p, const ssp_job *jobs, size_t njobs, ssp_job_result *results);

SSP_API int ssp_pool_size(const ssp_pool *p);
SSP_API pid_t ssp_pool_worker_pid(const ssp_pool *p, int worker);
/* Number of workers that died and were replaced so far. */
SSP_API int ssp_pool_restarts(const ssp_pool *p);
/* Jobs worker slot i has answered so far (replacements included). */
SSP_API unsigned long ssp_pool_worker_jobs(const ssp_pool *p, int i);
/* A circuit key no other caller of this pool has (1, 2, ...). */
SSP_API unsigned long ssp_pool_new_key(ssp_pool *p);
/* Jobs so far whose worker reused a loaded circuit / parsed the netlist. */
SSP_API unsigned long ssp_pool_reuses(const ssp_pool *p);
SSP_API unsigned long ssp_pool_loads(const ssp_pool *p);
SSP_API void ssp_pool_set_hook(ssp_pool *p, ssp_pool_hook_fn fn, void *payload);

/* The worker side: serve jobs from fd until EOF. Used by siamspice-worker. */
SSP_API int ssp_pool_worker_serve(int fd);

#endif
