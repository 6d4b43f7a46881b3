/* test_file.c — ssp_file (harness/core): an atomic write replaces the file
 * whole through a temporary "<path>.tmp.<pid>" and a rename; a failure at
 * the open, a write, the fsync or the rename (ENOSPC, EIO through the
 * runner's fault seam) leaves the previous file as it was, no temporary
 * behind and a message naming the file and the reason; an abandoned write
 * changes nothing; read_all returns the bytes with a NUL after them and
 * names a missing file; mkdirs refuses a file in the way; the stale
 * temporaries of a dead writer are removed and a live one's are kept. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssp_fault.h"
#include "ssp_file.h"
#include "ssp_test.h"

enum { PATH_LEN = 512 };

static char DIR_[] = "/tmp/ssp_test_file_XXXXXX";

static int setup(void) { return mkdtemp(DIR_) ? 0 : 1; }

static int cleanup(void)
{
    char cmd[PATH_LEN];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    return system(cmd) == 0 ? 0 : 1;
}

static void in_dir(char *p, const char *name) { snprintf(p, PATH_LEN, "%s/%s", DIR_, name); }

/* Entries of the test directory whose name contains ".tmp.". */
static int temporaries(void)
{
    DIR *d = opendir(DIR_);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

/* The file's text, or "" when it cannot be read. */
static const char *text_of(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
    return buf;
}

static void test_file__atomic_write_replaces_the_file_through_a_temporary(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_afile *af = NULL;
    char p[PATH_LEN], tmp[PATH_LEN + 32], buf[256];
    struct stat st;
    in_dir(p, "atomic.txt");
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, "old\n", 4));
    SSP_ASSERT_OK(ctx, ssp_file_atomic_open(&af, ctx, p));
    fprintf(ssp_file_stream(af), "new %d\n", 42);
    fflush(ssp_file_stream(af));
    /* while it is written, the target still holds the old text and the
     * new one is in <path>.tmp.<pid> */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
    CU_ASSERT_EQUAL(stat(tmp, &st), 0);
    CU_ASSERT_STRING_EQUAL(text_of(p, buf, sizeof buf), "old\n");
    CU_ASSERT_STRING_EQUAL(text_of(tmp, buf, sizeof buf), "new 42\n");
    SSP_ASSERT_OK(ctx, ssp_file_atomic_commit(&af, ctx));
    CU_ASSERT_PTR_NULL(af);
    CU_ASSERT_STRING_EQUAL(text_of(p, buf, sizeof buf), "new 42\n");
    CU_ASSERT_NOT_EQUAL(stat(tmp, &st), 0);
    CU_ASSERT_EQUAL(temporaries(), 0);
}

static void test_file__abort_leaves_the_previous_file(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_afile *af = NULL;
    char p[PATH_LEN], buf[64];
    in_dir(p, "abort.txt");
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, "kept", 4));
    SSP_ASSERT_OK(ctx, ssp_file_atomic_open(&af, ctx, p));
    fputs("discarded", ssp_file_stream(af));
    ssp_file_atomic_abort(&af);
    CU_ASSERT_PTR_NULL(af);
    ssp_file_atomic_abort(&af); /* NULL: a no-op */
    CU_ASSERT_STRING_EQUAL(text_of(p, buf, sizeof buf), "kept");
    CU_ASSERT_EQUAL(temporaries(), 0);
}

/* A fault at each stage of the write: the old file stays, no temporary is
 * left, the message names the file and the system's reason. */
static void test_file__a_failed_write_at_any_stage_keeps_the_old_file(void)
{
    static const struct {
        int kind, err;
        const char *reason;
    } cases[] = {{SSP_FAULT_OPEN, EACCES, "Permission denied"},
                 {SSP_FAULT_WRITE, ENOSPC, "No space left on device"},
                 {SSP_FAULT_SYNC, EIO, "Input/output error"},
                 {SSP_FAULT_RENAME, ENOSPC, "No space left on device"}};
    char p[PATH_LEN], buf[64], big[8192];
    memset(big, 'x', sizeof big);
    in_dir(p, "faulty.txt");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ssp_ctx *ctx = ssp_test_ctx();
        int rc;
        SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, "before", 6));
        ssp_fault_arm(cases[i].kind, 1, cases[i].err);
        rc = ssp_file_write_all(ctx, p, big, sizeof big);
        CU_ASSERT(ssp_fault_fired());
        ssp_fault_disarm();
        CU_ASSERT_EQUAL(rc, SSP_EIO);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "faulty.txt"));
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), cases[i].reason));
        if (!strstr(ssp_ctx_errmsg(ctx), cases[i].reason))
            fprintf(stderr, "\n  %s: '%s'\n", ssp_fault_kind_name(cases[i].kind), ssp_ctx_errmsg(ctx));
        CU_ASSERT_STRING_EQUAL(text_of(p, buf, sizeof buf), "before");
        CU_ASSERT_EQUAL(temporaries(), 0);
    }
}

static void test_file__write_into_a_missing_directory_names_the_path(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[PATH_LEN];
    in_dir(p, "no/such/dir/f.txt");
    CU_ASSERT_EQUAL(ssp_file_write_all(ctx, p, "x", 1), SSP_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "no/such/dir/f.txt"));
}

static void test_file__read_all_returns_the_bytes_and_a_nul(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    static const unsigned char bytes[] = {'a', 0, 'b', 0xff, '\n'};
    unsigned char *data = NULL;
    size_t len = 0;
    char p[PATH_LEN];
    in_dir(p, "bytes.bin");
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, p, bytes, sizeof bytes));
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, p, &data, &len));
    CU_ASSERT_EQUAL_FATAL(len, sizeof bytes);
    CU_ASSERT_EQUAL(memcmp(data, bytes, len), 0);
    CU_ASSERT_EQUAL(data[len], 0);
    free(data);
    data = NULL;
    in_dir(p, "missing.txt");
    CU_ASSERT_NOT_EQUAL(ssp_file_read_all(ctx, p, &data, &len), SSP_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "missing.txt"));
    CU_ASSERT_PTR_NULL(data);
}

static void test_file__mkdirs_makes_the_path_and_refuses_a_file_in_the_way(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char p[PATH_LEN], f[PATH_LEN];
    struct stat st;
    in_dir(p, "a/b/c");
    SSP_ASSERT_OK(ctx, ssp_file_mkdirs(ctx, p));
    CU_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    SSP_ASSERT_OK(ctx, ssp_file_mkdirs(ctx, p)); /* already there: fine */
    in_dir(f, "plain");
    SSP_ASSERT_OK(ctx, ssp_file_write_all(ctx, f, "x", 1));
    in_dir(p, "plain/sub");
    CU_ASSERT_NOT_EQUAL(ssp_file_mkdirs(ctx, p), SSP_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "plain"));
    CU_ASSERT_NOT_EQUAL(ssp_file_mkdirs(ctx, f), SSP_OK);
}

/* A temporary of a writer that no longer runs is removed; one of a running
 * process (the parent of this one) is kept. */
static void test_file__stale_temporaries_of_dead_writers_are_removed(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    char sub[PATH_LEN], dead[PATH_LEN + 64], live[PATH_LEN + 64];
    size_t removed = 99;
    struct stat st;
    FILE *f;
    in_dir(sub, "stale");
    SSP_ASSERT_OK(ctx, ssp_file_mkdirs(ctx, sub));
    /* pid_max on Linux is at most 4194304: this pid cannot be running */
    snprintf(dead, sizeof dead, "%s/checkpoint.bin.tmp.%ld", sub, 4194305L);
    snprintf(live, sizeof live, "%s/report.txt.tmp.%ld", sub, (long)getppid());
    CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(dead, "w"));
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(live, "w"));
    fclose(f);
    SSP_ASSERT_OK(ctx, ssp_file_remove_stale_temps(ctx, sub, &removed));
    CU_ASSERT_EQUAL(removed, 1);
    CU_ASSERT_NOT_EQUAL(stat(dead, &st), 0);
    CU_ASSERT_EQUAL(stat(live, &st), 0);
    remove(live);
}

static void test_file__crc32_is_zlibs(void)
{
    /* the check value of CRC-32/ISO-HDLC */
    CU_ASSERT_EQUAL(ssp_file_crc32("123456789", 9), 0xCBF43926u);
    CU_ASSERT_EQUAL(ssp_file_crc32("", 0), 0u);
}

SSP_TEST_SUITE(file)
{
    SSP_ADD_SUITE("file", setup, cleanup, SSP_TEST(test_file__atomic_write_replaces_the_file_through_a_temporary),
                  SSP_TEST(test_file__abort_leaves_the_previous_file),
                  SSP_TEST(test_file__a_failed_write_at_any_stage_keeps_the_old_file),
                  SSP_TEST(test_file__write_into_a_missing_directory_names_the_path),
                  SSP_TEST(test_file__read_all_returns_the_bytes_and_a_nul),
                  SSP_TEST(test_file__mkdirs_makes_the_path_and_refuses_a_file_in_the_way),
                  SSP_TEST(test_file__stale_temporaries_of_dead_writers_are_removed),
                  SSP_TEST(test_file__crc32_is_zlibs));
}
