/* fuzz_grid.c — libFuzzer harness of the sweep grid (ssp_grid_parse): the
 * bytes as a grid file, then every accessor over what it accepted (keys,
 * values, job count, each job's value index), so a grid the parser takes is
 * also one its readers can walk. Jobs are walked up to a bound: the parser
 * allows up to SSP_GRID_MAX_JOBS and the harness must stay fast. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "ssp_grid.h"

enum { JOBS_WALKED = 4096 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssp_grid *g = NULL;
    size_t k, v, j, nk, njobs, sum = 0;
    if (ssp_grid_parse(&g, fuzz_ctx(), (const char *)data, size, "fuzz.grid") != SSP_OK) {
        ssp_grid_free(&g);
        return 0;
    }
    nk = ssp_grid_nkeys(g);
    for (k = 0; k < nk; k++) {
        sum += strlen(ssp_grid_key(g, k));
        for (v = 0; v < ssp_grid_nvalues(g, k); v++) sum += strlen(ssp_grid_value(g, k, v));
    }
    njobs = ssp_grid_njobs(g);
    for (j = 0; j < njobs && j < JOBS_WALKED; j++)
        for (k = 0; k < nk; k++)
            if (ssp_grid_job_value(g, j, k) >= ssp_grid_nvalues(g, k)) __builtin_trap();
    (void)sum;
    ssp_grid_free(&g);
    if (g) __builtin_trap();
    return 0;
}
