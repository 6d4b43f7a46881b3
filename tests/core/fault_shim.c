/* fault_shim.c — the test runner's strong ssp_file_fault_hook (the
 * library's is a weak no-op): armed through ssp_fault.h, it fails a chosen
 * open, write(2), fsync or rename of an atomic write with a chosen errno,
 * so the tests can prove that every such failure leaves the previous file
 * intact and is reported. It also holds the runner's allocator seam: the
 * runner is linked with -Wl,--wrap=malloc (and calloc, realloc, strdup,
 * gsl_rng_alloc, gsl_matrix_alloc), so every such call of the project's
 * objects comes here and the n-th can be made to fail, the way Lua and
 * SQLite test their out-of-memory paths. Test-only state lives here, in one
 * file-level struct; no root, no real disk filling, no real memory
 * exhaustion. */
#include "ssp_fault.h"
#include "ssp_file.h"

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>

static struct {
    int kind;   /* enum ssp_fault_kind armed */
    long n;     /* which event fails (from 1) */
    int err;    /* errno it fails with */
    long count; /* events of that kind seen since arming */
    int fired;  /* the fault has happened */
} g_fault;

int ssp_file_fault_hook(int stage, const char *path)
{
    static const int kind_of[] = {SSP_FAULT_OPEN, SSP_FAULT_WRITE, SSP_FAULT_SYNC, SSP_FAULT_RENAME};
    (void)path;
    if (g_fault.kind == SSP_FAULT_NONE || g_fault.fired || stage < 0 || stage > SSP_FILE_STAGE_RENAME ||
        kind_of[stage] != g_fault.kind)
        return 0;
    if (++g_fault.count != g_fault.n) return 0;
    g_fault.fired = 1;
    return g_fault.err;
}

void ssp_fault_arm(int kind, long n, int err)
{
    g_fault.kind = kind;
    g_fault.n = n;
    g_fault.err = err;
    g_fault.count = 0;
    g_fault.fired = 0;
}

void ssp_fault_disarm(void) { g_fault.kind = SSP_FAULT_NONE; }
int ssp_fault_fired(void) { return g_fault.fired; }
long ssp_fault_count(void) { return g_fault.count; }

const char *ssp_fault_kind_name(int kind)
{
    static const char *const names[] = {"none", "open", "write", "fsync", "rename", "allocation"};
    return kind >= 0 && kind <= SSP_FAULT_ALLOC ? names[kind] : "?";
}

/* ---- the allocator seam ------------------------------------------------------ */

/* Should this allocation fail? Counts it when the allocator is armed. The
 * runner's own threads (none allocate through the project's code while a
 * fault is armed) are not a concern: the count is not atomic. */
static int alloc_fails(void)
{
    if (g_fault.kind != SSP_FAULT_ALLOC || g_fault.fired) return 0;
    if (++g_fault.count != g_fault.n) return 0;
    g_fault.fired = 1;
    return 1;
}

/* The real functions (the linker's names for them under --wrap) and their
 * wrappers; declared here because no header does. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
gsl_rng *__real_gsl_rng_alloc(const gsl_rng_type *t);
gsl_matrix *__real_gsl_matrix_alloc(size_t n1, size_t n2);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
gsl_rng *__wrap_gsl_rng_alloc(const gsl_rng_type *t);
gsl_matrix *__wrap_gsl_matrix_alloc(size_t n1, size_t n2);

void *__wrap_malloc(size_t n) { return alloc_fails() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return alloc_fails() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return alloc_fails() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return alloc_fails() ? NULL : __real_strdup(s); }
gsl_rng *__wrap_gsl_rng_alloc(const gsl_rng_type *t) { return alloc_fails() ? NULL : __real_gsl_rng_alloc(t); }
gsl_matrix *__wrap_gsl_matrix_alloc(size_t n1, size_t n2)
{
    return alloc_fails() ? NULL : __real_gsl_matrix_alloc(n1, n2);
}
