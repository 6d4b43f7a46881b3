/* ssp_fault.h — I/O fault injection for the test runner: the strong
 * ssp_file_fault_hook of tests/core/fault_shim.c, armed and read here.
 *
 * Armed, it makes the n-th event of one kind fail with err (ENOSPC, EIO):
 * the n-th open of an atomic write's temporary file, its n-th write(2)
 * (the stream's buffer flushes: every system call that can meet a full
 * disk), the n-th fsync, the n-th rename.
 * SSP_FAULT_ALLOC makes the n-th allocation of the project's own code fail
 * (malloc, calloc, realloc, strdup, gsl_rng_alloc, gsl_matrix_alloc, as
 * called from the library's and the tests' objects: the runner is linked
 * with -Wl,--wrap for each, see the Makefile); allocations inside shared
 * libraries (ngspice, GSL, jansson, CUnit) are not counted. err is unused.
 * Disarmed (the default), everything runs exactly as in production. */
#ifndef SSP_FAULT_H
#define SSP_FAULT_H

enum ssp_fault_kind {
    SSP_FAULT_NONE = 0,
    SSP_FAULT_OPEN,
    SSP_FAULT_WRITE,
    SSP_FAULT_SYNC,
    SSP_FAULT_RENAME,
    SSP_FAULT_ALLOC /* the n-th malloc/calloc/realloc/strdup of the project's code returns NULL */
};

/* Fail the n-th (from 1) event of kind with errno err; counters restart. */
void ssp_fault_arm(int kind, long n, int err);
/* Back to production behaviour. */
void ssp_fault_disarm(void);
/* Has the armed fault fired since ssp_fault_arm? */
int ssp_fault_fired(void);
/* Events of the armed kind seen since ssp_fault_arm (the allocations made,
 * when armed with SSP_FAULT_ALLOC and n = 0, which never fails). */
long ssp_fault_count(void);
/* Name of a kind, for messages. */
const char *ssp_fault_kind_name(int kind);

#endif
