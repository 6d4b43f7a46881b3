/* ssp_pool_mpi.c — the pool's MPI transport: jobs to ranks 1..N-1.
 *
 * Under `mpirun -np N siamspice ...` every rank runs the same program; rank
 * 0 runs the command and the others serve jobs (ssp_pool_mpi_serve in
 * ssp_pool.c reads them through pool_mpi_next_job). A frame is one MPI
 * message of bytes: TAG_JOB from rank 0, TAG_RESULT back, TAG_STOP (empty)
 * to end a serving rank. Both sides poll with MPI_Iprobe and sleep between
 * probes, so a rank waiting for work does not spin on a core that another
 * rank computes on (mpirun --oversubscribe on a small machine).
 *
 * MPI aborts the whole job when a rank dies, so this transport has no
 * retry: finished results survive only when the caller keeps them (the
 * sweep writes each job's run directory as it finishes). It moves bytes
 * only; it must not interpret a job, and it calls nothing in ssp_pool.c.
 * Without MPI at build time (no SSP_HAVE_MPI) it reports that the build has
 * only the local transport. */
#include "ssp_pool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool_impl.h"

#ifdef SSP_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_JOB = 1, TAG_RESULT = 2, TAG_STOP = 3 };
/* Sleep between two probes for a message: 0.2 ms, short against a tile
 * solve (>= 1 ms) or a training run, long enough to leave the core idle. */
static const long SSP_POOL_MPI_POLL_NS = 200000;

/* Environment variables mpirun sets in the ranks it starts (Open MPI, PMIx,
 * MPICH's PMI). */
static const char *const MPIRUN_ENV[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"};

static int launched_by_mpirun(void)
{
    for (size_t i = 0; i < sizeof MPIRUN_ENV / sizeof MPIRUN_ENV[0]; i++)
        if (getenv(MPIRUN_ENV[i])) return 1;
    return 0;
}

int ssp_pool_mpi_built(void)
{
#ifdef SSP_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

const char *ssp_pool_transports(char *buf, size_t n)
{
#ifdef SSP_HAVE_MPI
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    size_t cut;
    MPI_Get_library_version(v, &len);
    cut = strcspn(v, ",\n");
    snprintf(buf, n, "local, mpi (%.*s)", (int)cut, v);
#else
    snprintf(buf, n, "local (built without MPI)");
#endif
    return buf;
}

static void nap(void)
{
    struct timespec ts = {0, SSP_POOL_MPI_POLL_NS};
    nanosleep(&ts, NULL);
}

#ifdef SSP_HAVE_MPI

/* MPI itself is process-wide (one MPI_Init per process); this flag, the one
 * piece of process-wide state here, says that a pool on rank 0 holds the
 * ranks, so a second pool created meanwhile uses local workers. */
static int g_ranks_claimed;

struct mpi_link {
    ssp_ctx *ctx; /* borrowed */
    int n;        /* serving ranks: worker w is rank w + 1 */
};

static int mpi_running(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}

int ssp_pool_mpi_init(ssp_ctx *ctx, int *argc, char ***argv, int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    if (!launched_by_mpirun() || mpi_running()) return SSP_OK;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return ssp_error(ctx, SSP_EWORKER, "MPI_Init failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return SSP_OK;
}

void ssp_pool_mpi_finalize(void)
{
    int rank = 0, size = 1;
    if (!mpi_running()) return;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0)
        for (int r = 1; r < size; r++) MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
    MPI_Finalize();
}

/* Why rank 0 cannot have the ranks now, or NULL when it can. */
static const char *unavailable(void)
{
    int rank = 0, size = 1;
    if (!mpi_running()) return "not started by mpirun";
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank != 0) return "only rank 0 sends jobs";
    if (size < 2) return "mpirun started a single rank";
    if (g_ranks_claimed) return "another pool holds the ranks";
    return NULL;
}

int pool_mpi_available(void) { return unavailable() == NULL; }

int pool_mpi_open(void **out, ssp_ctx *ctx, int *nworkers)
{
    const char *why = unavailable();
    struct mpi_link *l;
    int size = 1;
    *out = NULL;
    if (why) return ssp_error(ctx, SSP_EWORKER, "no MPI ranks to serve jobs: %s", why);
    l = calloc(1, sizeof *l);
    if (!l) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating an MPI pool");
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    l->ctx = ctx;
    l->n = size - 1;
    g_ranks_claimed = 1;
    *nworkers = l->n;
    *out = l;
    return SSP_OK;
}

static int mpi_send(void *link, int w, const unsigned char *buf, size_t n)
{
    struct mpi_link *l = link;
    if (n > INT_MAX) return ssp_error(l->ctx, SSP_EINVAL, "job of %zu bytes exceeds one MPI message", n);
    if (MPI_Send(buf, (int)n, MPI_BYTE, w + 1, TAG_JOB, MPI_COMM_WORLD) != MPI_SUCCESS)
        return ssp_error(l->ctx, SSP_EWORKER, "MPI_Send of a job to rank %d failed", w + 1);
    return SSP_OK;
}

/* Receive the message st announced into a new buffer. */
static int recv_probed(MPI_Status *st, unsigned char **buf, size_t *len)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    *buf = malloc(count > 0 ? (size_t)count : 1);
    if (!*buf) return -1;
    if (MPI_Recv(*buf, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    *len = (size_t)count;
    return 0;
}

static int mpi_wait(void *link, const int *busy, int *w, unsigned char **buf, size_t *len, char *how, size_t nhow)
{
    struct mpi_link *l = link;
    (void)how;
    (void)nhow;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
            return ssp_error(l->ctx, SSP_EWORKER, "MPI_Iprobe failed");
        if (!flag) {
            nap();
            continue;
        }
        if (st.MPI_SOURCE < 1 || st.MPI_SOURCE > l->n || !busy[st.MPI_SOURCE - 1])
            return ssp_error(l->ctx, SSP_EWORKER, "rank %d sent a result it was not asked for", st.MPI_SOURCE);
        *w = st.MPI_SOURCE - 1;
        if (recv_probed(&st, buf, len))
            return ssp_error(l->ctx, SSP_EWORKER, "receiving a result from rank %d failed", st.MPI_SOURCE);
        return POOL_WAIT_FRAME;
    }
}

static int mpi_restart(void *link, int w, int kill_first)
{
    struct mpi_link *l = link;
    (void)kill_first;
    return ssp_error(l->ctx, SSP_EWORKER, "rank %d sent a malformed reply, and an MPI rank cannot be replaced",
                     w + 1);
}

static pid_t mpi_pid(const void *link, int w)
{
    (void)link;
    (void)w;
    return 0;
}

static void mpi_destroy(void *link)
{
    if (!link) return;
    g_ranks_claimed = 0;
    free(link);
}

int pool_mpi_next_job(unsigned char **buf, size_t *len)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS) return -1;
        if (!flag) {
            nap();
            continue;
        }
        if (st.MPI_TAG == TAG_STOP) {
            MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            return 1;
        }
        return recv_probed(&st, buf, len);
    }
}

int pool_mpi_reply(const unsigned char *buf, size_t len)
{
    if (len > INT_MAX) return -1;
    return MPI_Send(buf, (int)len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

#else /* no MPI in this build */

int ssp_pool_mpi_init(ssp_ctx *ctx, int *argc, char ***argv, int *rank, int *size)
{
    (void)argc;
    (void)argv;
    *rank = 0;
    *size = 1;
    if (launched_by_mpirun())
        return ssp_error(ctx, SSP_EWORKER, "started by mpirun, but this build has no MPI "
                                           "(install libopenmpi-dev, rerun scripts/configure.sh, rebuild)");
    return SSP_OK;
}

void ssp_pool_mpi_finalize(void) {}

int pool_mpi_available(void) { return 0; }

int pool_mpi_open(void **out, ssp_ctx *ctx, int *nworkers)
{
    *out = NULL;
    *nworkers = 0;
    return ssp_error(ctx, SSP_EWORKER, "no MPI ranks to serve jobs: this build has no MPI");
}

static int mpi_send(void *link, int w, const unsigned char *buf, size_t n)
{
    (void)link, (void)w, (void)buf, (void)n;
    return SSP_EWORKER;
}

static int mpi_wait(void *link, const int *busy, int *w, unsigned char **buf, size_t *len, char *how, size_t nhow)
{
    (void)link, (void)busy, (void)w, (void)buf, (void)len, (void)how, (void)nhow;
    return SSP_EWORKER;
}

static int mpi_restart(void *link, int w, int kill_first)
{
    (void)link, (void)w, (void)kill_first;
    return SSP_EWORKER;
}

static pid_t mpi_pid(const void *link, int w)
{
    (void)link, (void)w;
    return 0;
}

static void mpi_destroy(void *link) { free(link); }

int pool_mpi_next_job(unsigned char **buf, size_t *len)
{
    (void)buf, (void)len;
    (void)nap;
    return -1;
}

int pool_mpi_reply(const unsigned char *buf, size_t len)
{
    (void)buf, (void)len;
    return -1;
}

#endif

const struct pool_link_ops pool_mpi_ops = {"mpi", mpi_send, mpi_wait, mpi_restart, mpi_pid, mpi_destroy};
