/* fault_shim.c — the test runner's strong ssp_file_fault_hook (the
 * library's is a weak no-op): armed through ssp_fault.h, it fails a chosen
 * open, write(2), fsync or rename of an atomic write with a chosen errno,
 * so the tests can prove that every such failure leaves the previous file
 * intact and is reported. Test-only state lives here, in one file-level
 * struct; no root, no real disk filling. */
#include "ssp_fault.h"
#include "ssp_file.h"

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

const char *ssp_fault_kind_name(int kind)
{
    static const char *const names[] = {"none", "open", "write", "fsync", "rename"};
    return kind >= 0 && kind <= SSP_FAULT_RENAME ? names[kind] : "?";
}
