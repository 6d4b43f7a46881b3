/* cmd_bench.c — `siamspice bench [NAME...]`: run the benchmark programs
 * that belong to this command (in the build tree build/bench/bench_NAME,
 * from make bench-NAME; installed, PREFIX/libexec/siamspice/bench, see
 * cmd_paths.c) and print their BENCH lines. The command hands its
 * parameter and configuration directories to the benchmarks
 * ($SSP_BENCH_PARAMS, $SSP_BENCH_CONFIGS); the data sets are theirs to find
 * ($SSP_BENCH_DATA, else the source tree's data/). Benchmarks report;
 * nothing here asserts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_opts.h"
#include "ssp_cmd.h"

enum { LINE_CAP = 4096, PATH_CAP = 4096 };

static int run_one(const char *dir, const char *name)
{
    char cmd[PATH_CAP], line[LINE_CAP], last[LINE_CAP] = "";
    FILE *p;
    int st;
    if (snprintf(cmd, sizeof cmd, "'%s/bench_%s' 2>&1", dir, name) >= (int)sizeof cmd) return 1;
    p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "siamspice bench: cannot run %s: %s\n", name, strerror(errno));
        return 1;
    }
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "BENCH ", 6) == 0) snprintf(last, sizeof last, "%s", line);
    st = pclose(p);
    if (st != 0 || !last[0]) {
        fprintf(stderr, "siamspice bench: %s failed (status %d)%s\n", name, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                last[0] ? "" : ", no BENCH line");
        return 1;
    }
    fputs(last, stdout);
    fflush(stdout);
    return 0;
}

int ssp_cmd_bench(int argc, char **argv)
{
    char dir[PATH_CAP], params[PATH_CAP], configs[PATH_CAP];
    char about[PATH_CAP + 512];
    int failed = 0, ran = 0, list = 0, status;
    ssp_cmd_list names = {.n = 0};
    ssp_cmd_opt opts[] = {
        {.name = "--list", .kind = SSP_CMD_FLAG, .target = &list, .help = "print the benchmarks' names and run none"},
        {.kind = SSP_CMD_LIST, .target = &names, .arg = "NAME"},
    };
    ssp_cmd_spec spec = {.cmd = "bench", .synopsis = "usage: siamspice bench [NAME...]\n       siamspice bench --list\n",
                         .about = about, .tail = "Exit status 0 done, 1 a benchmark failed or none was found, 2 bad usage.\n",
                         .opts = opts, .nopts = sizeof opts / sizeof opts[0]};
    if (ssp_cmd_dir(SSP_CMD_BENCH, dir, sizeof dir) || ssp_cmd_dir(SSP_CMD_PARAMS, params, sizeof params) ||
        ssp_cmd_dir(SSP_CMD_CONFIGS, configs, sizeof configs)) {
        fputs("siamspice bench: cannot tell where the benchmarks are (set SSP_BENCH_DIR)\n", stderr);
        return 1;
    }
    if ((!getenv("SSP_BENCH_PARAMS") && setenv("SSP_BENCH_PARAMS", params, 1)) ||
        (!getenv("SSP_BENCH_CONFIGS") && setenv("SSP_BENCH_CONFIGS", configs, 1))) {
        fprintf(stderr, "siamspice bench: setenv: %s\n", strerror(errno));
        return 1;
    }
    snprintf(about, sizeof about,
             "Run the benchmarks in %s (in a build tree,\n"
             "make bench-NAME builds and runs one; make install installs them all) and print\n"
             "each one's final BENCH line. Without NAME: all of them. The benchmarks that\n"
             "train read MNIST from $SSP_BENCH_DATA (a directory with mnist/), else from the\n"
             "source tree's data/.\n", dir);
    if (ssp_cmd_opts_parse(&spec, argc, argv, &status)) return status;
    if (list && names.n) return ssp_cmd_opts_usage(&spec, "--list runs nothing: give no NAME with it");
    for (int i = 0; i < names.n; i++) {
        failed += run_one(dir, names.v[i]);
        ran++;
    }
    if (!names.n) {
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!d) {
            fprintf(stderr, "siamspice bench: no benchmarks in %s (run make bench-NAME first)\n", dir);
            return 1;
        }
        while ((e = readdir(d)))
            if (strncmp(e->d_name, "bench_", 6) == 0 && !strchr(e->d_name, '.')) {
                if (list) puts(e->d_name + 6);
                else failed += run_one(dir, e->d_name + 6);
                ran++;
            }
        closedir(d);
    }
    if (!ran) fprintf(stderr, "siamspice bench: no benchmarks found in %s\n", dir);
    return failed || !ran ? 1 : 0;
}
