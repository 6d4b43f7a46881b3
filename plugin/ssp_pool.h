/* ssp_pool.h — a pool of worker processes, one ngspice each.
 *
 * ngspice keeps global state, so independent circuits (tiles) run in
 * parallel only in separate processes. Two transports carry the same jobs:
 *  local  each worker is the siamspice-worker program (fork + exec: a fresh
 *         process with its own ngspice image), fed jobs over a socket pair.
 *         A worker that dies is reported, replaced, and its job retried
 *         once; a second death fails that job with SSP_EWORKER. Workers
 *         die with the process that started them (Linux PDEATHSIG).
 *  mpi    under `mpirun -np N`, rank 0 runs the program and ranks 1..N-1
 *         serve jobs (ssp_pool_mpi_serve); the pool on rank 0 sends each
 *         job to an idle rank. MPI ends the whole job when a rank dies, so
 *         this transport never retries (plugin/ssp_pool_mpi.c).
 * Results come back in job order regardless of which worker ran them, and a
 * job's result is the same bytes whichever transport carried it.
 *
 * Loaded circuits are reused (a circuit handle per worker, on either
 * transport): a job with a nonzero `circuit` key leaves its circuit loaded
 * in the worker that ran it, at cell-state version `state`. A later job
 * with the same key runs on the same worker (`affinity` pins it) and, if
 * that worker holds the circuit at version `base`, applies `commands`
 * (ngspice commands, typically `alter` of the cells that changed) to it
 * instead of parsing `netlist` again; if it holds version `state` already
 * it runs the analysis as is. Any other worker (a replacement after a
 * death, a different circuit) parses `netlist`, which must therefore always
 * describe version `state` itself. A job with circuit 0 loads, runs and
 * unloads. A worker holds up to 8 circuits (the oldest is removed first),
 * so a layer with more tiles than workers still keeps every tile loaded on
 * small pools.
 *
 * Besides simulations, the pool carries opaque jobs (SSP_JOB_CALL): a
 * handler name and payload bytes, answered by a handler that a higher layer
 * registered in the serving process (ssp_pool_worker_serve_handlers,
 * ssp_pool_mpi_serve). This layer never looks inside the bytes. */
#ifndef SSP_POOL_H
#define SSP_POOL_H

#include <stddef.h>
#include <sys/types.h>

#include "ssp_error.h"

enum ssp_job_kind {
    SSP_JOB_OP = 0,     /* operating point; each output's value */
    SSP_JOB_TRAN = 1,   /* transient; every time point of each output */
    SSP_JOB_STREAM = 2, /* K input vectors streamed through one transient */
    SSP_JOB_OPS = 3,    /* K input vectors, each an operating point (sources altered) */
    SSP_JOB_CALL = 4    /* opaque payload for a registered handler */
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
    const char *handler;          /* call: the registered handler's name */
    const void *payload;          /* call: bytes handed to the handler */
    size_t npayload;              /* call: their length */
} ssp_job;

/* What a job produced. Free with ssp_job_result_free. */
typedef struct ssp_job_result {
    int status;     /* SSP_OK or the job's error code */
    char *errmsg;   /* message when status != SSP_OK (owned) */
    double *values; /* nrows x nout, row-major (owned) */
    size_t nrows;   /* 1 for op, time points for tran, k for stream */
    size_t nout;    /* outputs per row */
    unsigned char *data; /* call: the handler's reply bytes (owned, may be NULL) */
    size_t ndata;        /* call: their length */
} ssp_job_result;

SSP_API void ssp_job_result_free(ssp_job_result *r);

typedef struct ssp_pool ssp_pool;

/* Called after job `job` was sent to worker `worker` (process pid; 0 on
 * the mpi transport, whose worker w is rank w + 1). */
typedef void (*ssp_pool_hook_fn)(size_t job, int worker, pid_t pid, void *payload);
/* Called once a job's result is final (after any retry). */
typedef void (*ssp_pool_result_fn)(size_t job, const ssp_job_result *r, void *payload);

/* A handler for SSP_JOB_CALL jobs, run in the serving process: read the
 * payload, do the work, return a status (message in ctx) and optionally
 * reply bytes in *out (malloc'ed, freed by the pool). */
typedef int (*ssp_pool_handler_fn)(ssp_ctx *ctx, const unsigned char *in, size_t nin,
                                   unsigned char **out, size_t *nout, void *payload);
typedef struct ssp_pool_handler {
    const char *name;        /* what ssp_job.handler names */
    ssp_pool_handler_fn fn;  /* the work */
    void *payload;           /* passed to fn */
} ssp_pool_handler;

enum ssp_pool_transport {
    SSP_POOL_AUTO = 0,  /* mpi when this is rank 0 of an mpirun of N > 1 ranks
                         * whose ranks no other pool holds, else local */
    SSP_POOL_LOCAL = 1, /* worker processes on this machine */
    SSP_POOL_MPI = 2    /* the other MPI ranks (SSP_EWORKER when not under mpirun) */
};

typedef struct ssp_pool_opts {
    int transport;           /* enum ssp_pool_transport */
    int nworkers;            /* local: worker processes (1..256); mpi: ignored */
    const char *worker_path; /* local: the worker program; NULL: as ssp_pool_create */
    const char *worker_arg;  /* local: an argument put before the descriptor (NULL: none),
                              * e.g. a program that serves jobs as a subcommand */
} ssp_pool_opts;

/* Start nworkers workers (transport SSP_POOL_AUTO). worker_path NULL:
 * $SSP_WORKER, else the siamspice-worker of the build tree when the calling
 * code was loaded from it, else the one installed beside the code
 * (BIN_OR_LIB/../libexec/siamspice/siamspice-worker), else the configured
 * install path. */
SSP_API int ssp_pool_create(ssp_pool **out, ssp_ctx *ctx, int nworkers, const char *worker_path);
SSP_API int ssp_pool_create_opts(ssp_pool **out, ssp_ctx *ctx, const ssp_pool_opts *opts);
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
SSP_API void ssp_pool_set_result_hook(ssp_pool *p, ssp_pool_result_fn fn, void *payload);
/* "local" or "mpi". */
SSP_API const char *ssp_pool_transport_name(const ssp_pool *p);

/* The worker side: serve jobs from fd until EOF. Used by siamspice-worker. */
SSP_API int ssp_pool_worker_serve(int fd);
/* The same, also answering SSP_JOB_CALL jobs with the nh handlers h. */
SSP_API int ssp_pool_worker_serve_handlers(int fd, const ssp_pool_handler *h, size_t nh);

/* ---- MPI (plugin/ssp_pool_mpi.c) -------------------------------------
 * A program that can be started by mpirun calls ssp_pool_mpi_init first:
 * under mpirun it initialises MPI and gives the rank and size; otherwise
 * (and in a build without MPI) it does nothing and gives rank 0, size 1.
 * Ranks > 0 then call ssp_pool_mpi_serve, which answers jobs until rank 0
 * calls ssp_pool_mpi_finalize (which also ends MPI on rank 0). */
SSP_API int ssp_pool_mpi_init(ssp_ctx *ctx, int *argc, char ***argv, int *rank, int *size);
SSP_API int ssp_pool_mpi_serve(const ssp_pool_handler *h, size_t nh);
SSP_API void ssp_pool_mpi_finalize(void);
/* 1 when the build links MPI. */
SSP_API int ssp_pool_mpi_built(void);
/* The transports this build has, e.g. "local, mpi (Open MPI v4.1.4)". */
SSP_API const char *ssp_pool_transports(char *buf, size_t n);

#endif
