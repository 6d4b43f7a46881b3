/* cmd_paths.c — where the command finds its shipped files: configurations,
 * device parameter files and benchmark programs, given by name
 * (`train --config default.ini`, `device --params vteam32.ini`).
 *
 * A binary running from the build tree (its own file lies under the build
 * directory it was built in) uses the source tree: configs/,
 * devicemodels/params/, build/bench/. Any other binary is an installed one
 * and uses the tree it sits in, found from its own path, so an install is
 * relocatable and DESTDIR staging works: BIN/../share/siamspice/{configs,
 * params} and BIN/../libexec/siamspice/bench. An installed binary never
 * looks into the tree it was built in. $SSP_DATADIR (a directory with
 * configs/ and params/) and $SSP_BENCH_DIR override. This file must not
 * read or interpret the files it finds. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_cmd.h"

enum { DIR_CAP = 4096 };

/* Directory of the running executable; "" if /proc/self/exe is unreadable. */
static void exe_dir(char *out, size_t n)
{
    char buf[DIR_CAP];
    ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
    char *slash;
    out[0] = '\0';
    if (len <= 0) return;
    buf[len] = '\0';
    slash = strrchr(buf, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(out, n, "%s", buf[0] ? buf : "/");
}

/* 1 when the running executable lies under the build directory. */
static int in_build_tree(const char *dir)
{
    char build[PATH_MAX];
    size_t n;
    if (!realpath(SSP_BUILD_DIR, build)) return 0;
    n = strlen(build);
    return strncmp(dir, build, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

int ssp_cmd_dir(int kind, char *out, size_t n)
{
    static const char *const tree_sub[] = {"configs", "devicemodels/params"};
    static const char *const share_sub[] = {"configs", "params"};
    const char *env = getenv(kind == SSP_CMD_BENCH ? "SSP_BENCH_DIR" : "SSP_DATADIR");
    char dir[DIR_CAP];
    int w;
    if (kind < 0 || kind > SSP_CMD_BENCH) return -1;
    exe_dir(dir, sizeof dir);
    if (env && *env)
        w = kind == SSP_CMD_BENCH ? snprintf(out, n, "%s", env) : snprintf(out, n, "%s/%s", env, share_sub[kind]);
    else if (in_build_tree(dir))
        w = kind == SSP_CMD_BENCH ? snprintf(out, n, "%s/bench", SSP_BUILD_DIR)
                                  : snprintf(out, n, "%s/%s", SSP_SOURCE_DIR, tree_sub[kind]);
    else if (dir[0])
        w = kind == SSP_CMD_BENCH ? snprintf(out, n, "%s/../libexec/siamspice/bench", dir)
                                  : snprintf(out, n, "%s/../share/siamspice/%s", dir, share_sub[kind]);
    else
        return -1;
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

int ssp_cmd_find(ssp_ctx *ctx, int kind, const char *name, char *out, size_t n)
{
    char dir[DIR_CAP];
    const char *base = strrchr(name, '/');
    int w;
    if (access(name, R_OK) == 0) {
        w = snprintf(out, n, "%s", name);
        return w < 0 || (size_t)w >= n ? ssp_error(ctx, SSP_EINVAL, "%s: path too long", name) : SSP_OK;
    }
    if (ssp_cmd_dir(kind, dir, sizeof dir))
        return ssp_error(ctx, SSP_EIO, "cannot open %s (and no data directory is known)", name);
    base = base ? base + 1 : name;
    w = snprintf(out, n, "%s/%s", dir, base);
    if (w < 0 || (size_t)w >= n) return ssp_error(ctx, SSP_EINVAL, "%s: path too long", name);
    if (access(out, R_OK) == 0) return SSP_OK;
    return ssp_error(ctx, SSP_EIO, "cannot open %s (not here, nor as %s)", name, out);
}

int ssp_cmd_config_load(ssp_config *cfg, ssp_ctx *ctx, const char *path)
{
    char found[DIR_CAP];
    int rc = ssp_cmd_find(ctx, SSP_CMD_CONFIGS, path, found, sizeof found);
    return rc ? rc : ssp_config_load(cfg, ctx, found);
}

int ssp_cmd_config_resolve(ssp_config *cfg, ssp_ctx *ctx)
{
    char found[DIR_CAP];
    int rc = ssp_cmd_find(ctx, SSP_CMD_PARAMS, cfg->device_params, found, sizeof found);
    if (rc) {
        ssp_error_prefix(ctx, "device.params: ");
        return rc;
    }
    if (strlen(found) >= sizeof cfg->device_params)
        return ssp_error(ctx, SSP_EINVAL, "device.params: %s: path too long", found);
    memcpy(cfg->device_params, found, strlen(found) + 1); /* fits: checked above */
    return SSP_OK;
}
