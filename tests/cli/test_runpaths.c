/* test_runpaths.c — a run directory as a user keeps it: trained from the
 * source tree with relative paths, moved, then read from `/` by infer,
 * netlist --run and train --resume; its config.ini holds absolute paths and
 * the CRC-32 of every file it read; data that moved away or changed is an
 * exit status 2 naming the file and the --set that points at it. Runs the
 * built binary as a child process in a chosen working directory; writes
 * only under /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_test.h"

enum { OUT_CAP = 1 << 15 };

struct run {
    int status;        /* exit status, or 128 + signal */
    char out[OUT_CAP]; /* stdout and stderr */
};

/* Run the CLI in directory cwd with up to 15 arguments (NULL-terminated). */
static void run_in(struct run *r, const char *cwd, const char *a1, ...)
{
    char exe[512], outpath[] = "/tmp/ssp_paths_out_XXXXXX";
    char *argv[17];
    va_list ap;
    int n = 0, fd = mkstemp(outpath), st = 0;
    pid_t pid;
    CU_ASSERT_FATAL(fd >= 0);
    snprintf(exe, sizeof exe, "%s/siamspice", SSP_BUILD_DIR);
    argv[n++] = exe;
    va_start(ap, a1);
    for (const char *a = a1; a && n < 16; a = va_arg(ap, const char *)) argv[n++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[n] = NULL;
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (chdir(cwd) != 0) _exit(126);
        execv(exe, argv);
        _exit(127);
    }
    close(fd);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    {
        FILE *f = fopen(outpath, "rb");
        size_t got = f ? fread(r->out, 1, sizeof r->out - 1, f) : 0;
        r->out[got] = '\0';
        if (f) fclose(f);
    }
    remove(outpath);
    if (getenv("SSP_TEST_VERBOSE")) fprintf(stderr, "\n[%d] %s\n", r->status, r->out);
}

static int sh(const char *fmt, ...) SSP_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void test_runpaths__moved_run_read_from_root(void)
{
    char tmp[] = "/tmp/ssp_paths_XXXXXX", a[256], b[256], p[512], data[256], nl[256];
    unsigned char *cfg = NULL;
    size_t len = 0;
    struct run *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
    snprintf(a, sizeof a, "%s/run", tmp);
    snprintf(b, sizeof b, "%s/moved/run", tmp);
    /* trained from the source tree, every path in the config relative */
    run_in(r, SSP_SOURCE_DIR, "train", "--config", "configs/default.ini", "--set", "data.train_limit=200", "--set",
           "data.test_limit=100", "--set", "run.epochs=1", "--set", "run.baselines=", "--set", "network.hidden=8",
           "--out", a, "-q", NULL);
    CU_ASSERT_EQUAL_FATAL(r->status, 0);
    snprintf(p, sizeof p, "%s/config.ini", a);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_read_all(ssp_test_ctx(), p, &cfg, &len));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)cfg, "\ndir = /"));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)cfg, "\nparams = /"));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)cfg, "crc32 = train-images="));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)cfg, ",t10k-labels="));
    free(cfg);
    /* a run written before the short names recorded the file names: still
     * looked up (a changed byte would be refused below under either name) */
    CU_ASSERT_EQUAL(sh("sed -i -e 's/^crc32 = train-images=/crc32 = mnist\\/train-images-idx3-ubyte=/' "
                       "-e 's/,t10k-labels=/,mnist\\/t10k-labels-idx1-ubyte=/' %s", p), 0);
    run_in(r, "/", "infer", a, NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    /* moved, then read from / */
    CU_ASSERT_EQUAL_FATAL(sh("mkdir -p %s/moved && mv %s %s", tmp, a, b), 0);
    run_in(r, "/", "infer", b, NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "test accuracy"));
    snprintf(nl, sizeof nl, "%s/netlists", tmp);
    run_in(r, "/", "netlist", "--run", b, "--out", nl, NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    run_in(r, "/", "train", "--resume", b, "-q", NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    /* the data moved away: the file and the --set that points at it */
    run_in(r, "/", "infer", b, "--set", "data.dir=/nonexistent/data", NULL);
    CU_ASSERT_EQUAL(r->status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "/nonexistent/data/mnist/train-images-idx3-ubyte"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "--set data.dir="));
    /* the data changed: one label of the test set differs */
    snprintf(data, sizeof data, "%s/data", tmp);
    CU_ASSERT_EQUAL_FATAL(sh("mkdir -p %s/mnist && for f in train-images-idx3-ubyte train-labels-idx1-ubyte "
                             "t10k-images-idx3-ubyte; do ln -s %s/data/mnist/$f %s/mnist/$f; done && "
                             "cp %s/data/mnist/t10k-labels-idx1-ubyte %s/mnist/ && "
                             "printf '\\001' | dd of=%s/mnist/t10k-labels-idx1-ubyte bs=1 seek=5000 conv=notrunc "
                             "status=none",
                             data, SSP_SOURCE_DIR, data, SSP_SOURCE_DIR, data, data), 0);
    snprintf(p, sizeof p, "data.dir=%s", data);
    run_in(r, "/", "infer", b, "--set", p, NULL);
    CU_ASSERT_EQUAL(r->status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "t10k-labels-idx1-ubyte: CRC-32"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "for t10k-labels (data.crc32)"));
    /* accepted when asked to */
    run_in(r, "/", "infer", b, "--set", p, "--set", "data.crc32=", NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    /* the device file: another one is refused (a reading command takes no
     * device change, naming the key; train --resume checks device.crc32) */
    snprintf(p, sizeof p, "device.params=%s/devicemodels/params/vteam.ini", SSP_SOURCE_DIR);
    run_in(r, "/", "infer", b, "--set", p, NULL);
    CU_ASSERT_EQUAL(r->status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "device.params"));
    sh("rm -rf %s", tmp);
    free(r);
}

SSP_TEST_SUITE(runpaths)
{
    SSP_ADD_SUITE("runpaths", NULL, NULL, SSP_TEST(test_runpaths__moved_run_read_from_root));
}
