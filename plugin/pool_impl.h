/* pool_impl.h — the pool's transport interface, internal to plugin/.
 *
 * ssp_pool.c owns the job protocol (how a job and its result become bytes),
 * the scheduling (queue, retries, job order) and the serving side; a
 * transport only moves one frame of bytes to a worker and one back, and
 * says when a worker died. The local transport (worker processes over
 * socket pairs) lives in ssp_pool.c, the MPI one in ssp_pool_mpi.c. The MPI
 * file calls nothing in ssp_pool.c, so the two objects call each other one
 * way only (scripts/check_layout.sh). */
#ifndef POOL_IMPL_H
#define POOL_IMPL_H

#include <stddef.h>
#include <sys/types.h>

#include "ssp_error.h"

/* What pool_link_ops.wait found. */
enum pool_wait { POOL_WAIT_FRAME = 0, POOL_WAIT_DIED = 1 };
/* What pool_link_ops.send returns for a dead worker (not an error code). */
enum { POOL_SEND_GONE = 1 };

struct pool_link_ops {
    const char *name; /* "local" or "mpi" */
    /* Send frame buf[0..n) to worker w. POOL_SEND_GONE when the worker is
     * gone (the next wait reports it), an SSP_E* code on any other failure. */
    int (*send)(void *link, int w, const unsigned char *buf, size_t n);
    /* Block until one of the workers with busy[w] != 0 answers or dies;
     * *w is which. POOL_WAIT_FRAME: *buf (malloc'ed) holds *len bytes.
     * POOL_WAIT_DIED: how[] says how it ended. <0: an SSP_E* code, set. */
    int (*wait)(void *link, const int *busy, int *w, unsigned char **buf, size_t *len, char *how,
                size_t nhow);
    /* Replace worker w after it died (or after a malformed reply: kill it
     * first). An SSP_E* code when the transport cannot. */
    int (*restart)(void *link, int w, int kill_first);
    pid_t (*pid)(const void *link, int w); /* 0 when unknown */
    void (*destroy)(void *link);           /* release the workers; NULL ok */
};

/* The MPI transport (ssp_pool_mpi.c). pool_mpi_open claims ranks 1..N-1
 * for one pool (SSP_EWORKER when MPI is not running, this is not rank 0,
 * there is no other rank, or another pool holds them); *nworkers = N - 1. */
extern const struct pool_link_ops pool_mpi_ops;
int pool_mpi_open(void **link, ssp_ctx *ctx, int *nworkers);
/* 1 when pool_mpi_open would succeed now. */
int pool_mpi_available(void);
/* Serving rank: wait for the next job from rank 0. 0: *buf (malloc'ed)
 * holds *len bytes; 1: rank 0 said stop; <0: an MPI failure. */
int pool_mpi_next_job(unsigned char **buf, size_t *len);
/* Serving rank: send a reply frame to rank 0. 0 or -1. */
int pool_mpi_reply(const unsigned char *buf, size_t len);

#endif
