/* cmd_out.c — the --out checks every writing command makes before any
 * work, so a path that cannot take the output is bad input (exit 2), not a
 * run that failed half-way (exit 1). Prints only the one-line refusal. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ssp_cmd.h"
#include "ssp_file.h"

int ssp_cmd_out_dir(ssp_ctx *ctx, const char *cmd, const char *dir)
{
    if (ssp_file_mkdirs(ctx, dir) == SSP_OK) return 0;
    fprintf(stderr, "siamspice %s: --out: %s\n", cmd, ssp_ctx_errmsg(ctx));
    return 2;
}

int ssp_cmd_out_file(const char *cmd, const char *path)
{
    struct stat st;
    char parent[4096];
    const char *slash = strrchr(path, '/');
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "siamspice %s: --out %s: a directory; give a file name\n", cmd, path);
        return 2;
    }
    if (!slash) snprintf(parent, sizeof parent, ".");
    else snprintf(parent, sizeof parent, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK) != 0) {
        fprintf(stderr, "siamspice %s: --out %s: cannot write into %s: %s\n", cmd, path, parent,
                stat(parent, &st) != 0 ? strerror(errno) : !S_ISDIR(st.st_mode) ? "not a directory" : strerror(errno));
        return 2;
    }
    return 0;
}


void ssp_cmd_run_dir(char *dir, size_t cap, const char *resume, const char *out, const char *prefix)
{
    char stamp[32];
    time_t now;
    if (resume || out) {
        snprintf(dir, cap, "%s", resume ? resume : out);
        return;
    }
    now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(dir, cap, "runs/%s-%s", prefix, stamp);
}
