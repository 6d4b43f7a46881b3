/* worker_main.c — siamspice-worker: one ngspice image serving simulation
 * jobs from the pool over the socket given as argv[1] (a file descriptor).
 * Started only by ssp_pool; it never prints results, only answers jobs. */
#include <stdio.h>
#include <stdlib.h>

#include "ssp_pool.h"

int main(int argc, char **argv)
{
    char *end = NULL;
    long fd;
    if (argc != 2) {
        fputs("usage: siamspice-worker FD (started by the siamspice worker pool)\n", stderr);
        return 2;
    }
    fd = strtol(argv[1], &end, 10);
    if (!end || *end || fd < 0) {
        fprintf(stderr, "siamspice-worker: bad descriptor '%s'\n", argv[1]);
        return 2;
    }
    return ssp_pool_worker_serve((int)fd) == 0 ? 0 : 1;
}
