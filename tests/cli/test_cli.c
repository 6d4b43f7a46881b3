/* test_cli.c — the siamspice command as a user meets it: help and bad usage
 * for each subcommand (exit 0 / 2 and a message), a tiny training run whose
 * every output file parses, SIGTERM during training then --resume, and
 * `make install` into a temporary prefix with a program built through
 * pkg-config calling the library. Runs the built binaries as child
 * processes; never edits the source tree. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_test.h"

extern char **environ;

enum { OUT_CAP = 1 << 16 };

/* Seconds to wait for a training child to reach its training loop. */
static const double START_WAIT_S = 60.0;

struct run {
    int status;       /* exit status, or 128 + signal */
    char out[OUT_CAP]; /* stdout and stderr, interleaved (run_cli) or stdout only (run_cli_split) */
    char err[OUT_CAP]; /* stderr (run_cli_split only) */
};

static const char *bin(char *buf, size_t n)
{
    snprintf(buf, n, "%s/siamspice", SSP_BUILD_DIR);
    return buf;
}

/* Spawn argv with stdout to outpath and stderr to errpath (NULL: to
 * outpath as well); don't wait. */
static pid_t spawn_split(char *const argv[], const char *outpath, const char *errpath)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (errpath)
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    else
        posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static pid_t spawn_to(char *const argv[], const char *outpath) { return spawn_split(argv, outpath, NULL); }

static int wait_status(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* Run the CLI with up to 16 arguments (NULL-terminated). */
static void run_cli(struct run *r, const char *a1, ...)
{
    char exe[512], outpath[] = "/tmp/ssp_cli_out_XXXXXX";
    char *argv[18];
    va_list ap;
    int n = 0, fd = mkstemp(outpath);
    pid_t pid;
    close(fd);
    argv[n++] = (char *)(uintptr_t)bin(exe, sizeof exe);
    va_start(ap, a1);
    for (const char *a = a1; a && n < 17; a = va_arg(ap, const char *)) argv[n++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[n] = NULL;
    pid = spawn_to(argv, outpath);
    CU_ASSERT_FATAL(pid > 0);
    r->status = wait_status(pid);
    slurp(outpath, r->out, sizeof r->out);
    remove(outpath);
}

/* Run the CLI with the arguments of the NULL-terminated array a, stdout
 * into r->out and stderr into r->err. */
static void run_cli_split(struct run *r, const char *const *a)
{
    char exe[512], outpath[] = "/tmp/ssp_cli_out_XXXXXX", errpath[] = "/tmp/ssp_cli_err_XXXXXX";
    char *argv[24];
    int n = 0, fo = mkstemp(outpath), fe = mkstemp(errpath);
    pid_t pid;
    close(fo);
    close(fe);
    argv[n++] = (char *)(uintptr_t)bin(exe, sizeof exe);
    for (; *a && n < 23; a++) argv[n++] = (char *)(uintptr_t)*a;
    argv[n] = NULL;
    pid = spawn_split(argv, outpath, errpath);
    CU_ASSERT_FATAL(pid > 0);
    r->status = wait_status(pid);
    slurp(outpath, r->out, sizeof r->out);
    slurp(errpath, r->err, sizeof r->err);
    remove(outpath);
    remove(errpath);
}

static struct run R; /* test-local scratch: output buffers are large */

static void test_cli__help_and_version(void)
{
    run_cli(&R, "--help", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "usage: siamspice"));
    run_cli(&R, "--version", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "ngspice 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "solver klu"));
    run_cli(&R, "train", "--help", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "--resume"));
    run_cli(&R, "plot", "--help", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "RUN_DIR"));
    run_cli(&R, "bench", "--help", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "BENCH"));
    run_cli(&R, "infer", "--help", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "checkpoint"));
}

static void test_cli__bad_usage_exits_2(void)
{
    run_cli(&R, NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    run_cli(&R, "frobnicate", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "unknown command 'frobnicate'"));
    run_cli(&R, "train", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "--config"));
    run_cli(&R, "train", "--config", "x.ini", "--bogus", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "--bogus"));
    run_cli(&R, "train", "--config", "/nonexistent/x.ini", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "/nonexistent/x.ini"));
    run_cli(&R, "train", "--config", "configs/default.ini", "--set", "train.speed=3", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "train.speed"));
    run_cli(&R, "plot", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    run_cli(&R, "bench", "--fast", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    run_cli(&R, "infer", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    run_cli(&R, "infer", "/nonexistent/run", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "/nonexistent/run/config.ini"));
    run_cli(&R, "plot", "/nonexistent/run", NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "/nonexistent/run"));
}

/* Every subcommand's --help: exit 0, its synopsis on stdout, nothing on
 * stderr. */
static void test_cli__every_command_has_help(void)
{
    static const char *const cmds[][3] = {
        {"train", "--help", NULL},    {"infer", "--help", NULL},   {"netlist", "--help", NULL},
        {"netlist", "--run", "--help"}, {"validate", "--help", NULL}, {"program", "--help", NULL},
        {"plot", "--help", NULL},     {"bench", "--help", NULL},   {"device", "--help", NULL},
        {"read", "--help", NULL},
        {"fit", "--help", NULL},
        {"sweep", "--help", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *a[4] = {cmds[i][0], cmds[i][1], cmds[i][2], NULL};
        char want[64];
        run_cli_split(&R, a);
        snprintf(want, sizeof want, "usage: siamspice %s", cmds[i][0]);
        CU_ASSERT_EQUAL(R.status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(R.out, want));
        CU_ASSERT_STRING_EQUAL(R.err, "");
        if (R.status || !strstr(R.out, want))
            fprintf(stderr, "\n  %s %s: %d\n%s%s\n", a[0], a[1], R.status, R.out, R.err);
    }
    run_cli_split(&R, (const char *const[]){"netlist", "--run", "--help", NULL});
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "--run RUN_DIR"));
    run_cli_split(&R, (const char *const[]){"netlist", "--run", "/some/run", "-h", NULL});
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "--run RUN_DIR"));
    run_cli_split(&R, (const char *const[]){"validate", "--run", "--help", NULL});
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "usage: siamspice validate (--run RUN_DIR | --config FILE)"));
    run_cli_split(&R, (const char *const[]){"validate", "--config", "--help", NULL});
    CU_ASSERT_EQUAL(R.status, 0);
    run_cli_split(&R, (const char *const[]){"program", "--help", NULL});
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "--waveform"));
    run_cli_split(&R, (const char *const[]){"plot", "--help", NULL});
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "irdrop_m<M>"));
    run_cli_split(&R, (const char *const[]){"train", "--help", NULL});
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "\n  -v "));
    if (!strstr(R.out, "\n  -v ")) fprintf(stderr, "\n  train --help gave:\n%s\n", R.out);
}

/* Every subcommand refuses bad usage and bad input: exit 2, nothing on
 * stdout, a message on stderr naming the culprit. */
static void test_cli__every_command_rejects_bad_usage(void)
{
    static const struct {
        const char *args[20];
        const char *culprit;
    } cases[] = {
        {{"train", "--config", "configs/default.ini", "--bogus", NULL}, "--bogus"},
        {{"train", "--config", "configs/default.ini", "--set", "crossbar.rows=0", NULL}, "crossbar.rows"},
        {{"infer", NULL}, "usage: siamspice infer"},
        {{"infer", "/nonexistent/run", "--bogus", NULL}, "--bogus"},
        {{"netlist", NULL}, "usage: siamspice netlist"},
        {{"netlist", "--rows", "4", "--cols", "4", "--bogus", "1", NULL}, "--bogus"},
        {{"netlist", "--rows", "4", "--cols", "4", "--cell", "3r", NULL}, "'3r'"},
        {{"netlist", "--rows", "4", "--cols", "3", NULL}, "cols = 3"},
        {{"netlist", "--run", NULL}, "'--run'"},
        {{"netlist", "--run", "/nonexistent/run", NULL}, "/nonexistent/run/config.ini"},
        {{"validate", "--rows", "x", "--cols", "4", NULL}, "'x'"},
        {{"validate", "--rows", "4", "--cols", "4", "--vectors", "0", NULL}, "--vectors"},
        {{"validate", "--run", "/nonexistent/run", NULL}, "/nonexistent/run/config.ini"},
        {{"validate", "--config", "configs/default.ini", "--vectors", "0", NULL}, "--vectors"},
        {{"read", NULL}, "give --rows and --cols"},
        {{"read", "--rows", "4", "--cols", "3", NULL}, "cols = 3"},
        {{"read", "--rows", "4", "--cols", "4", "--input", "2", NULL}, "--input"},
        {{"read", "--run", "/nonexistent/run", NULL}, "/nonexistent/run/config.ini"},
        {{"infer", "/nonexistent/run", "--sweep-t-sample", "10ns", NULL}, "/nonexistent/run/config.ini"},
        {{"program", NULL}, "need --params"},
        {{"program", "--params", "devicemodels/params/vteam32.ini", "--rows", "4", "--cols", "4", "--levels", "32",
          "--random-present", "1", "--random-moves", "2", "--bias", "v5", NULL}, "--bias"},
        {{"program", "--params", "devicemodels/params/vteam32.ini", "--rows", "4", "--cols", "4", "--levels", "32",
          "--random-present", "1", "--random-moves", "2", "--simulate", "model", "--waveform", NULL}, "--simulate spice"},
        {{"program", "--params", "devicemodels/params/vteam32.ini", "--rows", "4", "--cols", "4", "--levels", "32",
          "--random-present", "1", "--random-moves", "2", "--waveform", "--waveform-cell", "9,1", NULL}, "9,1"},
        {{"program", "--params", "/nonexistent/dev.ini", "--rows", "4", "--cols", "4", "--levels", "32",
          "--random-present", "1", "--random-moves", "2", "--out", "/tmp/ssp_cli_never", NULL}, "/nonexistent/dev.ini"},
        {{"plot", NULL}, "RUN_DIR"},
        {{"plot", "a", "b", NULL}, "got 2 arguments"},
        {{"plot", "--bogus", NULL}, "'--bogus'"},
        {{"plot", "/nonexistent/run", NULL}, "/nonexistent/run"},
        {{"bench", "--fast", NULL}, "'--fast'"},
        {{"sweep", NULL}, "--config FILE and --grid FILE"},
        {{"sweep", "--config", "configs/sweep-short.ini", "--grid", "/nonexistent/g.ini", NULL}, "/nonexistent/g.ini"},
        {{"sweep", "--config", "configs/sweep-short.ini", "--grid", "configs/sweep-rwire.ini", "--workers", "0", NULL},
         "--workers '0'"},
        {{"sweep", "--resume", "/nonexistent/sweep", NULL}, "/nonexistent/sweep holds no sweep"},
        {{"sweep", "--resume", "/nonexistent/sweep", "--grid", "g.ini", NULL}, "--resume DIR alone"},
        {{"device", NULL}, "--params is required"},
        {{"device", "--params", "/nonexistent/dev.ini", NULL}, "/nonexistent/dev.ini"},
        {{"device", "--params", "devicemodels/params/vteam32.ini", "--pulses", "x", NULL}, "--pulses 'x'"},
        {{"fit", NULL}, "--model is required"},
        {{"fit", "--model", "pulselevel", "--data", "/nonexistent/d.csv", NULL}, "/nonexistent/d.csv"},
        {{"fit", "--model", "pulselevel", "--data", "devicemodels/params/vteam32.ini", NULL},
         "devicemodels/params/vteam32.ini:1: unknown column"},
        {{"fit", "--model", "pulselevel", "--data", "x.csv", "--starts", "-1", NULL}, "--starts '-1'"},
        {{"fit", "--generate", "devicemodels/params/vteam32.ini", "--model", "vteam", NULL}, "takes no --model"},
        {{"fit", "--generate", "/nonexistent/dev.ini", NULL}, "/nonexistent/dev.ini"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_cli_split(&R, cases[i].args);
        CU_ASSERT_EQUAL(R.status, 2);
        CU_ASSERT_STRING_EQUAL(R.out, "");
        CU_ASSERT_PTR_NOT_NULL(strstr(R.err, cases[i].culprit));
        if (R.status != 2 || !strstr(R.err, cases[i].culprit))
            fprintf(stderr, "\n  case %zu (%s %s): status %d, stderr:\n%s\n", i, cases[i].args[0],
                    cases[i].args[1] ? cases[i].args[1] : "", R.status, R.err);
    }
}

static int file_starts_with(const char *dir, const char *name, const void *magic, size_t n);

/* siamspice fit end to end: generated data of the Ag:a-Si device fitted
 * back with the ngspice replay and the plot; the parameter file it writes
 * loads in `siamspice device`; a malformed data row is exit 2 naming it. */
static void test_cli__fit_generates_fits_replays_and_writes_a_loadable_file(void)
{
    char dir[] = "/tmp/ssp_cli_fit_XXXXXX", csv[256], ini[256], plot[256], bad[256];
    FILE *f;
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(csv, sizeof csv, "%s/agsi.csv", dir);
    snprintf(ini, sizeof ini, "%s/fitted.ini", dir);
    snprintf(plot, sizeof plot, "%s/plot", dir);
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    run_cli(&R, "fit", "--generate", "devicemodels/params/neurosim_agsi.ini", "--devices", "1", "--cycles", "1",
            "--pulses", "100", "--out", csv, NULL);
    CU_ASSERT_EQUAL_FATAL(R.status, 0);
    run_cli(&R, "fit", "--model", "pulselevel", "--data", csv, "--read-voltage", "0.5", "--edge", "10n", "--spice",
            "--plot", plot, "--out", ini, NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "rms_replay_spice_%"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "nl_ltp"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "# parameter file: "));
    if (R.status) fprintf(stderr, "\n  fit: %s\n", R.out);
    CU_ASSERT(file_starts_with(plot, "fit_curve.png", "\x89PNG", 4));
    run_cli(&R, "device", "--params", ini, "--pulses", "3", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    f = fopen(bad, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("device,cycle,pulse,amplitude_V,width_s,g_S\nd1,1,1,3.2,3e-4,1e-9\nd1,1,3,3.2,3e-4,2e-9\n", f);
    fclose(f);
    run_cli(&R, "fit", "--model", "pulselevel", "--data", bad, NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "bad.csv:3: pulse 3 follows pulse 1"));
    {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

static int file_starts_with(const char *dir, const char *name, const void *magic, size_t n)
{
    char p[1024], buf[64] = {0};
    FILE *f;
    size_t got;
    CU_ASSERT_FATAL(n <= sizeof buf);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "rb");
    if (!f) return 0;
    got = fread(buf, 1, n, f);
    fclose(f);
    return got == n && memcmp(buf, magic, n) == 0;
}

/* Count the data rows of a CSV and check every field of them is a number. */
static long csv_rows_numeric(const char *path, long *cols)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    long rows = -1;
    *cols = 0;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        long c = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), c++) {
            char *end;
            if (rows >= 0) {
                strtod(tok, &end);
                if (end == tok) {
                    fclose(f);
                    return -2;
                }
            }
        }
        if (rows < 0) *cols = c;
        else if (c != *cols) {
            fclose(f);
            return -3;
        }
        rows++;
    }
    fclose(f);
    return rows;
}

/* `siamspice plot` on a directory holding an IR-drop map (as nodal and
 * spice runs write it) draws one heat map per matrix, PNG and SVG; a
 * malformed map is bad input naming the line. */
static void test_cli__plot_draws_the_irdrop_heat_map(void)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const char map[] = "matrix,tile_row,tile_col,out,err\n"
                              "0,0,0,0,-0.031\n0,0,0,1,nan\n0,0,1,0,-0.012\n0,1,0,0,-0.044\n0,1,0,1,-0.05\n"
                              "0,1,1,0,-0.02\n1,0,0,0,0.004\n1,0,0,1,-0.007\n";
    static const char cfg[] = "[engine]\nforward = nodal\n";
    char dir[] = "/tmp/ssp_cli_ir_XXXXXX", p[1100];
    ssp_ctx *ctx = ssp_test_ctx();
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/irdrop.csv", dir);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, map, strlen(map)));
    snprintf(p, sizeof p, "%s/config.ini", dir);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, cfg, strlen(cfg)));
    run_cli(&R, "plot", dir, NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) fprintf(stderr, "\n%s\n", R.out);
    CU_ASSERT(file_starts_with(dir, "irdrop_m0.png", png, 8));
    CU_ASSERT(file_starts_with(dir, "irdrop_m0.svg", "<?xml", 5));
    CU_ASSERT(file_starts_with(dir, "irdrop_m1.png", png, 8));
    CU_ASSERT(file_starts_with(dir, "irdrop_m1.svg", "<?xml", 5));
    CU_ASSERT(file_starts_with(dir, "plots.gp", "# plots.gp", 10));
    snprintf(p, sizeof p, "%s/irdrop.csv", dir);
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, "matrix,tile_row,tile_col,out,err\n0,0,0,zero,0.1\n", 45));
    run_cli(&R, "plot", dir, NULL);
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "irdrop.csv:2:"));
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(p), 0);
}

/* `siamspice program --waveform` on a tile in ngspice: waveform.csv with a
 * header with units and finite numbers in every field, and its PNG/SVG. */
static void test_cli__program_waveform_writes_csv_and_png(void)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    char dir[] = "/tmp/ssp_cli_wave_XXXXXX", p[1100], line[1024];
    FILE *f;
    long rows = 0, bad = 0;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    run_cli_split(&R, (const char *const[]){"program", "--params", "devicemodels/params/vteam32.ini", "--rows", "3",
                                            "--cols", "3", "--levels", "32", "--random-present", "5", "--random-moves",
                                            "2", "--rwire", "5", "--waveform", "--out", dir, NULL});
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) fprintf(stderr, "\n%s%s\n", R.out, R.err);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "waveform of cell ("));
    snprintf(p, sizeof p, "%s/waveform.csv", dir);
    f = fopen(p, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(fgets(line, sizeof line, f) && strncmp(line, "# siamspice programming waveform: cell (", 40) == 0);
    CU_ASSERT(fgets(line, sizeof line, f) &&
              strcmp(line, "time_s,v_wl_V,v_bl_V,v_cell_V,state_x,i_cell_A,g_read_S\n") == 0);
    while (fgets(line, sizeof line, f)) {
        char *q = line, *end;
        int fields = 0;
        for (;; q = end + 1) {
            double v = strtod(q, &end);
            if (end == q || !isfinite(v)) bad++;
            fields++;
            if (*end != ',') break;
        }
        if (fields != 7 || *end != '\n') bad++;
        rows++;
    }
    fclose(f);
    CU_ASSERT(rows > 10);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(file_starts_with(dir, "waveform.png", png, 8));
    CU_ASSERT(file_starts_with(dir, "waveform.svg", "<?xml", 5));
    CU_ASSERT(file_starts_with(dir, "schedule.csv", "time_s,", 7));
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(p), 0);
}

/* The man page renders without a groff warning and documents every
 * command, every config section and the run directory's plot inputs. */
static void test_cli__man_page_renders_and_covers_every_command(void)
{
    static const char *const must[] = {".SS train", ".SS infer", ".SS netlist", "netlist \\-\\-run", ".SS validate", "validate \\-\\-run",
                                       ".SS program", ".SS plot", ".SS bench", ".SS device", ".SS fit", ".SS sweep", "mpirun", "sweep.csv", ".SS \\-\\-version",
                                       "\\-\\-waveform", "irdrop.csv", ".SS [engine]", ".SS [crossbar]", ".SS [dac]",
                                       ".SS [tia]", ".SS [adc]", ".SS [run]", ".SS [data]", ".SS [network]",
                                       ".SS [train]", ".SS [device]", ".SH EXIT STATUS"};
    char cmd[2200], log[] = "/tmp/ssp_cli_man_XXXXXX", page[1100];
    unsigned char *text = NULL;
    size_t len;
    int fd = mkstemp(log);
    close(fd);
    snprintf(cmd, sizeof cmd, "groff -man -ww -z %s/harness/cli/siamspice.1 > %s 2>&1", SSP_SOURCE_DIR, log);
    CU_ASSERT_EQUAL(system(cmd), 0);
    slurp(log, R.out, sizeof R.out);
    CU_ASSERT_STRING_EQUAL(R.out, "");
    remove(log);
    snprintf(page, sizeof page, "%s/harness/cli/siamspice.1", SSP_SOURCE_DIR);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), page, &text, &len));
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr((char *)text, must[i]));
        if (!strstr((char *)text, must[i])) fprintf(stderr, "\n  man page lacks '%s'\n", must[i]);
    }
    /* every configuration key, as the parameter table writes it, has its entry */
    {
        ssp_config cfg;
        char *buf = NULL, *line, *save = NULL, want[160];
        size_t blen = 0;
        FILE *ms = open_memstream(&buf, &blen);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
        ssp_config_defaults(&cfg);
        ssp_config_write(&cfg, ms);
        fclose(ms);
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *eq = strstr(line, " = ");
            if (line[0] == ';' || line[0] == '[' || !eq) continue;
            snprintf(want, sizeof want, ".BR %.*s \" = ", (int)(eq - line), line);
            CU_ASSERT_PTR_NOT_NULL(strstr((char *)text, want));
            if (!strstr((char *)text, want)) fprintf(stderr, "\n  man page lacks the key '%s'\n", want);
        }
        free(buf);
    }
    free(text);
}

static const char *tiny_sets[] = {"--set", "data.train_limit=256", "--set", "data.test_limit=200",
                                  "--set", "run.epochs=2",          "--set", "run.baselines=exsitu"};

static void test_cli__train_writes_a_parseable_run_directory(void)
{
    char dir[] = "/tmp/ssp_cli_run_XXXXXX", p[1024];
    long cols, rows;
    json_error_t err;
    json_t *j;
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    run_cli(&R, "train", "--config", "configs/default.ini", tiny_sets[0], tiny_sets[1], tiny_sets[2], tiny_sets[3],
            tiny_sets[4], tiny_sets[5], tiny_sets[6], tiny_sets[7], "--out", dir, "-q", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    if (R.status) fprintf(stderr, "\n%s\n", R.out);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "siamese epoch 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "exsitu epoch 2"));
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    rows = csv_rows_numeric(p, &cols);
    CU_ASSERT_EQUAL(rows, 2);
    CU_ASSERT(cols > 20);
    snprintf(p, sizeof p, "%s/baseline-exsitu/metrics.csv", dir);
    CU_ASSERT_EQUAL(csv_rows_numeric(p, &cols), 2);
    snprintf(p, sizeof p, "%s/metrics.json", dir);
    j = json_load_file(p, 0, &err);
    CU_ASSERT_PTR_NOT_NULL(j);
    if (j) {
        CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "epochs")), 2);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "method")), "siamese");
        json_decref(j);
    }
    snprintf(p, sizeof p, "%s/conductance_hist.csv", dir);
    CU_ASSERT(csv_rows_numeric(p, &cols) > 10);
    snprintf(p, sizeof p, "%s/levels.csv", dir);
    CU_ASSERT_EQUAL(csv_rows_numeric(p, &cols), 32);
    CU_ASSERT(file_starts_with(dir, "accuracy_loss.png", png, 8));
    CU_ASSERT(file_starts_with(dir, "cumulative_cost.png", png, 8));
    CU_ASSERT(file_starts_with(dir, "conductance_histogram.png", png, 8));
    CU_ASSERT(file_starts_with(dir, "accuracy_loss.svg", "<?xml", 5));
    CU_ASSERT(file_starts_with(dir, "checkpoint.bin", "SSPCKPT", 7));
    CU_ASSERT(file_starts_with(dir, "config.ini", "; resolved", 10));
    CU_ASSERT(file_starts_with(dir, "report.txt", "siamspice run report", 20));
    {
        unsigned char *rep = NULL;
        size_t rlen;
        snprintf(p, sizeof p, "%s/report.txt", dir);
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), p, &rep, &rlen));
        /* 256 images in batches of 32 (the default) */
        CU_ASSERT_PTR_NOT_NULL(strstr((char *)rep, "  data        mnist, the first 256 training images (8 steps of 32 "
                                                   "per epoch), the first 200 test images\n"));
        free(rep);
    }
    /* the resolved config reloads: a resume of a finished run is a no-op */
    run_cli(&R, "train", "--resume", dir, "-q", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    /* plots from a relative run directory (gnuplot runs inside it) */
    {
        char rel[1100], cmd[2300];
        snprintf(rel, sizeof rel, "build/test_rel_run");
        snprintf(cmd, sizeof cmd, "rm -rf %s/%s && cp -r %s %s/%s", SSP_SOURCE_DIR, rel, dir, SSP_SOURCE_DIR, rel);
        CU_ASSERT_EQUAL(system(cmd), 0);
        run_cli(&R, "plot", rel, NULL);
        CU_ASSERT_EQUAL(R.status, 0);
        if (R.status) fprintf(stderr, "\n%s\n", R.out);
        snprintf(cmd, sizeof cmd, "rm -rf %s/%s", SSP_SOURCE_DIR, rel);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
    /* and the checkpoint evaluates to the last epoch's accuracy */
    run_cli(&R, "infer", dir, NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "epoch 2, test accuracy"));
    /* the same checkpoint read through the nodal engine: the IR-drop map
     * of the evaluation and its heat maps */
    {
        char inf[1100], cmd[1200];
        snprintf(inf, sizeof inf, "%s/infer-nodal", dir);
        run_cli(&R, "infer", dir, "--set", "engine.forward=nodal", "--set", "data.test_limit=16", "--out", inf, NULL);
        CU_ASSERT_EQUAL(R.status, 0);
        if (R.status) fprintf(stderr, "\n%s\n", R.out);
        snprintf(p, sizeof p, "%.900s/irdrop.csv", inf);
        CU_ASSERT(csv_rows_numeric(p, &cols) > 10);
        CU_ASSERT_EQUAL(cols, 5);
        CU_ASSERT(file_starts_with(inf, "irdrop_m0.png", png, 8));
        CU_ASSERT(file_starts_with(inf, "irdrop_m1.svg", "<?xml", 5));
        CU_ASSERT(file_starts_with(inf, "config.ini", "; resolved configuration of this evaluation", 43));
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

static int wait_for_text(const char *path, const char *text, double seconds)
{
    char buf[OUT_CAP];
    struct timespec nap = {0, 50 * 1000 * 1000};
    for (double t = 0; t < seconds; t += 0.05) {
        slurp(path, buf, sizeof buf);
        if (strstr(buf, text)) return 1;
        nanosleep(&nap, NULL);
    }
    return 0;
}

static void test_cli__sigterm_leaves_a_resumable_checkpoint(void)
{
    char dir[] = "/tmp/ssp_cli_term_XXXXXX", exe[512], outpath[1100], p[1100];
    /* under valgrind (make memcheck follows the command) a tenth of the
     * images: the resumed run trains both epochs again */
    const char *args[] = {NULL, "train", "--config", "configs/default.ini", "--set",
                          getenv("SSP_UNDER_VALGRIND") ? "data.train_limit=2000" : "data.train_limit=20000",
                          "--set", "data.test_limit=200", "--set", "run.epochs=2", "--set", "train.batch=8",
                          "--out", NULL, NULL};
    char *argv[sizeof args / sizeof args[0]];
    long cols;
    pid_t pid;
    int st;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    args[0] = bin(exe, sizeof exe);
    args[13] = dir;
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) argv[i] = (char *)(uintptr_t)args[i];
    snprintf(outpath, sizeof outpath, "%s.out", dir);
    pid = spawn_to(argv, outpath);
    CU_ASSERT_FATAL(pid > 0);
    /* the progress lines show it is inside the training loop */
    CU_ASSERT(wait_for_text(outpath, "epoch 1/2:", getenv("SSP_UNDER_VALGRIND") ? 10 * START_WAIT_S : START_WAIT_S));
    kill(pid, SIGTERM);
    st = wait_status(pid);
    slurp(outpath, R.out, sizeof R.out);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "interrupted; checkpoint written"));
    CU_ASSERT(file_starts_with(dir, "checkpoint.bin", "SSPCKPT", 7));
    run_cli(&R, "train", "--resume", dir, "-q", NULL);
    CU_ASSERT_EQUAL(R.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "resumed after epoch 0"));
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    CU_ASSERT_EQUAL(csv_rows_numeric(p, &cols), 2);
    remove(outpath);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(p), 0);
}

/* Under AddressSanitizer (make asan) the installed library is instrumented:
 * the program linked against it must be too. Its leak check is off: the
 * test is about installing, and ngspice's own allocations outlive the
 * unloaded library image unsymbolised, past any suppression. */
#if defined(__SANITIZE_ADDRESS__)
static const char PROG_CC_FLAGS[] = "-fsanitize=address,undefined";
static const char PROG_RUN_ENV[] = "ASAN_OPTIONS=detect_leaks=0";
/* what install still builds (the benchmarks) links against the
 * instrumented library too */
static const char INSTALL_FLAGS[] = "OPT=-O1 CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer'";
#else
static const char INSTALL_FLAGS[] = "";
static const char PROG_CC_FLAGS[] = "";
static const char PROG_RUN_ENV[] = "";
#endif

static void test_cli__install_and_pkg_config(void)
{
    char prefix[] = "/tmp/ssp_inst_XXXXXX", cmd[4096];
    const char *prog = "#include <ssp_error.h>\n#include <ssp_spice.h>\n#include <stdio.h>\n"
                       "int main(void) { ssp_ctx *c = NULL; ssp_spice *s = NULL;\n"
                       "  if (ssp_ctx_create(&c) || ssp_spice_create(&s, c, NULL)) return 1;\n"
                       "  printf(\"%s %d\\n\", ssp_strerror(SSP_ESYNTAX), ssp_spice_version(s));\n"
                       "  ssp_spice_destroy(&s); ssp_ctx_destroy(&c); return 0; }\n";
    char src[1100];
    CU_ASSERT_FATAL(mkdtemp(prefix) != NULL);
    snprintf(src, sizeof src, "%s/prog.c", prefix);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_write_all(ssp_test_ctx(), src, prog, strlen(prog)));
    snprintf(cmd, sizeof cmd,
             "make -s -C %s BUILD=%s %s PREFIX=%s install >%s/install.log 2>&1 && "
             "test -x %s/bin/siamspice && test -f %s/share/man/man1/siamspice.1 && "
             "test -f %s/share/siamspice/params/vteam32.ini && "
             "cc %s -o %s/prog %s $(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags --libs siamspice) "
             ">>%s/install.log 2>&1 && %s LD_LIBRARY_PATH=%s/lib %s/prog > %s/prog.out",
             SSP_SOURCE_DIR, SSP_BUILD_DIR, INSTALL_FLAGS, prefix, prefix, prefix, prefix, prefix, PROG_CC_FLAGS, prefix,
             src, prefix,
             prefix, PROG_RUN_ENV, prefix, prefix, prefix);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(src, sizeof src, "%s/prog.out", prefix);
    slurp(src, R.out, sizeof R.out);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "netlist not parsed by ngspice 4"));
    /* the installed man page renders without warnings */
    snprintf(cmd, sizeof cmd, "test -z \"$(groff -man -ww -z %s/share/man/man1/siamspice.1 2>&1)\"", prefix);
    CU_ASSERT_EQUAL(system(cmd), 0);
    /* uninstall leaves no installed file behind (only the test's own) */
    snprintf(cmd, sizeof cmd, "make -s -C %s BUILD=%s PREFIX=%s uninstall >/dev/null 2>&1 && "
                              "test ! -e %s/bin/siamspice && "
                              "test -z \"$(find %s -type f ! -name 'prog*' ! -name install.log)\" && rm -rf %s",
             SSP_SOURCE_DIR, SSP_BUILD_DIR, prefix, prefix, prefix, prefix);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Count the lines of text that contain needle. */
static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *e = strchr(l, '\n');
        const char *hit = strstr(l, needle);
        if (hit && (!e || hit < e)) n++;
    }
    return n;
}

/* A sweep on 2 local workers: a job that cannot run (a device file that
 * does not exist) is recorded with its message and the others finish;
 * exit 1; --resume reruns only what is missing or failed and rebuilds the
 * same table; an unknown key and a second sweep into the same directory
 * are refused. */
static void test_cli__sweep_records_failures_and_resumes(void)
{
    char dir[] = "/tmp/ssp_cli_sweep_XXXXXX", base[1100], grid[1100], out[1100], p[1200], *csv1, *csv2;
    unsigned char *t = NULL;
    size_t len;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(base, sizeof base, "%s/base.ini", dir);
    snprintf(grid, sizeof grid, "%s/grid.ini", dir);
    snprintf(out, sizeof out, "%s/sweep", dir);
    {
        static const char b[] = "[run]\nepochs = 1\n[data]\ndir = data\ntrain_limit = 128\ntest_limit = 50\n"
                                "[network]\nhidden = 8\n[device]\nparams = devicemodels/params/vteam32.ini\n";
        static const char g[] = "device.params = devicemodels/params/vteam32.ini, /nonexistent/params.ini\n"
                                "run.seed = 1..2\n";
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_write_all(ssp_test_ctx(), base, b, sizeof b - 1));
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_write_all(ssp_test_ctx(), grid, g, sizeof g - 1));
    }
    run_cli_split(&R, (const char *const[]){"sweep", "--config", base, "--grid", grid, "--out", out, "--workers", "2",
                                            NULL});
    CU_ASSERT_EQUAL(R.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "4 jobs (4 to run), local transport with 2 workers"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "2 of 4 jobs failed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(R.out, "done: "));
    snprintf(p, sizeof p, "%s/sweep.csv", out);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), p, &t, &len));
    csv1 = (char *)t;
    CU_ASSERT_EQUAL(count_lines_with(csv1, ",ok,"), 2);
    CU_ASSERT_EQUAL(count_lines_with(csv1, ",failed,"), 2);
    CU_ASSERT_EQUAL(count_lines_with(csv1, ",/nonexistent/params.ini,"), 2);
    /* the message is the last field (quoted when it holds a comma) */
    CU_ASSERT_EQUAL(count_lines_with(csv1, ",failed,,,,,,,"), 2);
    CU_ASSERT_EQUAL(count_lines_with(csv1, "device.params: cannot open /nonexistent/params.ini"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv1, "\n000_device.params=devicemodels-params-vteam32.ini_run.seed=1,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv1, "\n003_device.params=-nonexistent-params.ini_run.seed=2,"));
    /* the same directory again without --resume */
    run_cli_split(&R, (const char *const[]){"sweep", "--config", base, "--grid", grid, "--out", out, NULL});
    CU_ASSERT_EQUAL(R.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "already holds a sweep"));
    /* a sweep holding the directory: a second one is refused */
    {
        int fd = -1;
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_lock_dir(ssp_test_ctx(), out, &fd));
        run_cli_split(&R, (const char *const[]){"sweep", "--resume", out, "-q", NULL});
        CU_ASSERT_EQUAL(R.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "in use"));
        ssp_file_unlock_dir(&fd);
    }
    /* lose one finished job: resume runs it and the two failed ones; a
     * plot a killed sweep left half drawn goes */
    snprintf(p, sizeof p, "%s/001_device.params=devicemodels-params-vteam32.ini_run.seed=2/sweep_status", out);
    CU_ASSERT_EQUAL(remove(p), 0);
    {
        int st;
        pid_t dead = fork();
        if (dead == 0) _exit(0);
        while (waitpid(dead, &st, 0) < 0 && errno == EINTR) {
        }
        snprintf(p, sizeof p, "%s/sweep_run_seed.png.tmp.%ld", out, (long)dead);
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_write_all(ssp_test_ctx(), p, "half", 4));
    }
    run_cli_split(&R, (const char *const[]){"sweep", "--resume", out, "--workers", "2", "-q", NULL});
    CU_ASSERT_EQUAL(R.status, 1);
    CU_ASSERT(access(p, F_OK) != 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "4 jobs (3 to run)"));
    if (!strstr(R.err, "4 jobs (3 to run)")) fprintf(stderr, "\n  resume said:\n%s\n", R.err);
    snprintf(p, sizeof p, "%s/sweep.csv", out);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), p, &t, &len));
    csv2 = (char *)t;
    CU_ASSERT_STRING_EQUAL(csv1, csv2);
    free(csv1);
    free(csv2);
    /* a key the configuration does not have */
    {
        static const char g[] = "crossbar.r_wire = 0, 1\ntrain.speed = 3\n";
        snprintf(out, sizeof out, "%s/other", dir);
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_write_all(ssp_test_ctx(), grid, g, sizeof g - 1));
        run_cli_split(&R, (const char *const[]){"sweep", "--config", base, "--grid", grid, "--out", out, NULL});
        CU_ASSERT_EQUAL(R.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(R.err, "unknown configuration key train.speed"));
    }
}

SSP_TEST_SUITE(cli)
{
    SSP_ADD_SUITE("cli", NULL, NULL,
                  SSP_TEST(test_cli__help_and_version),
                  SSP_TEST(test_cli__bad_usage_exits_2),
                  SSP_TEST(test_cli__every_command_has_help),
                  SSP_TEST(test_cli__every_command_rejects_bad_usage),
                  SSP_TEST(test_cli__fit_generates_fits_replays_and_writes_a_loadable_file),
                  SSP_TEST(test_cli__plot_draws_the_irdrop_heat_map),
                  SSP_TEST(test_cli__program_waveform_writes_csv_and_png),
                  SSP_TEST(test_cli__man_page_renders_and_covers_every_command),
                  SSP_TEST(test_cli__train_writes_a_parseable_run_directory),
                  SSP_TEST(test_cli__sigterm_leaves_a_resumable_checkpoint),
                  SSP_TEST(test_cli__sweep_records_failures_and_resumes),
                  SSP_TEST(test_cli__install_and_pkg_config));
}
