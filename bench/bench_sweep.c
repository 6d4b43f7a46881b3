/* bench_sweep.c — the wall time of one sweep of 8 short training runs
 * (configs/sweep-short.ini; crossbar.r_wire = 0, 1, 2.5, 5 x run.seed =
 * 1..2) through the siamspice command: on 1 local worker (serial), on 2
 * local workers and, when mpirun is on the PATH and the build has MPI,
 * under `mpirun --oversubscribe -np 3` (2 serving ranks), in the same run.
 * The three sweep.csv tables must be equal byte for byte, or the bench
 * fails. It runs the built siamspice next to it (build/siamspice) in a
 * temporary directory it removes, and starts only the processes it waits
 * for. Last line:
 *   BENCH sweep jobs=8 serial_s=.. pool_s=.. speedup=.. mpi_s=.. mpi_vs_pool=..
 * (mpi_s=na when there is no MPI). */
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { JOBS = 8 };
static const char GRID[] = "; bench_sweep: 4 wire resistances x 2 seeds\n"
                           "crossbar.r_wire = 0, 1, 2.5, 5\n"
                           "run.seed = 1..2\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run argv (NULL-terminated, at most 31 words), wait for it; its exit
 * status, or -1 when it could not run. */
static int run(const char *const *argv)
{
    char *copy[32];
    pid_t pid;
    int st = 0, n, rc = -1;
    for (n = 0; argv[n] && n < 31; n++)
        if (!(copy[n] = strdup(argv[n]))) goto out;
    copy[n] = NULL;
    if (posix_spawnp(&pid, copy[0], NULL, NULL, copy, environ) == 0) {
        while (waitpid(pid, &st, 0) < 0) {
        }
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
out:
    while (n-- > 0) free(copy[n]);
    return rc;
}

/* Whole file into a new string (NULL when unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (s = malloc((size_t)n + 1)) != NULL) {
        s[fread(s, 1, (size_t)n, f)] = '\0';
    }
    fclose(f);
    return s;
}

/* One sweep into dir/name with `workers`, under mpirun when mpi != 0:
 * its wall time, or -1 when it failed. */
static double sweep(const char *bin, const char *dir, const char *name, const char *workers, int mpi)
{
    char grid[PATH_MAX], out[PATH_MAX];
    const char *argv[24];
    int a = 0;
    double t0;
    snprintf(grid, sizeof grid, "%s/grid.ini", dir);
    snprintf(out, sizeof out, "%s/%s", dir, name);
    if (mpi) {
        argv[a++] = "mpirun";
        argv[a++] = "--oversubscribe";
        argv[a++] = "-np";
        argv[a++] = "3";
    }
    argv[a++] = bin;
    argv[a++] = "sweep";
    argv[a++] = "--config";
    argv[a++] = "configs/sweep-short.ini";
    argv[a++] = "--grid";
    argv[a++] = grid;
    argv[a++] = "--out";
    argv[a++] = out;
    argv[a++] = "--workers";
    argv[a++] = workers;
    argv[a++] = "-q";
    argv[a] = NULL;
    t0 = now_s();
    if (run(argv) != 0) {
        fprintf(stderr, "bench_sweep: the %s sweep failed\n", name);
        return -1;
    }
    return now_s() - t0;
}

static int same_table(const char *dir, const char *a, const char *b)
{
    char pa[PATH_MAX], pb[PATH_MAX];
    char *sa, *sb;
    int same;
    snprintf(pa, sizeof pa, "%s/%s/sweep.csv", dir, a);
    snprintf(pb, sizeof pb, "%s/%s/sweep.csv", dir, b);
    sa = slurp(pa);
    sb = slurp(pb);
    same = sa && sb && strcmp(sa, sb) == 0;
    if (!same) fprintf(stderr, "bench_sweep: %s and %s differ\n", pa, pb);
    free(sa);
    free(sb);
    return same;
}

/* build/siamspice, next to this program's directory build/bench/. */
static int find_cli(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    char *slash;
    if (len <= 0) return -1;
    buf[len] = '\0';
    for (int up = 0; up < 2; up++) {
        slash = strrchr(buf, '/');
        if (!slash) return -1;
        *slash = '\0';
    }
    if (strlen(buf) + sizeof "/siamspice" > n) return -1;
    strcat(buf, "/siamspice");
    return access(buf, X_OK);
}

int main(void)
{
    char bin[PATH_MAX], dir[] = "/tmp/siamspice-bench-sweep.XXXXXX", path[PATH_MAX + 16], mpis[32] = "na",
         ratio[32] = "na";
    const char *rm[] = {"rm", "-rf", dir, NULL};
    const char *probe[] = {"sh", "-c", "command -v mpirun >/dev/null && \"$0\" --version | grep -q 'mpi ('", bin, NULL};
    double ts, tp, tm = 0;
    FILE *f;
    int status = 1;

    if (find_cli(bin, sizeof bin) != 0) {
        fprintf(stderr, "bench_sweep: build/siamspice not found next to this program (make first)\n");
        return 1;
    }
    if (!mkdtemp(dir)) {
        perror("bench_sweep: mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/grid.ini", dir);
    f = fopen(path, "w");
    if (!f || fputs(GRID, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "bench_sweep: cannot write %s\n", path);
        goto out;
    }
    /* 3 processes share the cores: one BLAS thread each */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    ts = sweep(bin, dir, "serial", "1", 0);
    tp = ts < 0 ? -1 : sweep(bin, dir, "pool", "2", 0);
    if (tp < 0 || !same_table(dir, "serial", "pool")) goto out;
    if (run(probe) == 0) {
        tm = sweep(bin, dir, "mpi", "2", 1);
        if (tm < 0 || !same_table(dir, "serial", "mpi")) goto out;
        snprintf(mpis, sizeof mpis, "%.1f", tm);
        snprintf(ratio, sizeof ratio, "%.2f", tp / tm);
    } else {
        fprintf(stderr, "bench_sweep: no mpirun or a build without MPI: the MPI sweep is left out\n");
    }
    printf("sweep of %d jobs: serial %.1f s, 2 local workers %.1f s, mpirun -np 3 %s s; tables equal\n", JOBS, ts,
           tp, mpis);
    printf("BENCH sweep jobs=%d serial_s=%.1f pool_s=%.1f speedup=%.2f mpi_s=%s mpi_vs_pool=%s\n", JOBS, ts, tp,
           ts / tp, mpis, ratio);
    status = 0;
out:
    run(rm);
    return status;
}
