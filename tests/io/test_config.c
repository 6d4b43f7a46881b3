/* test_config.c — the run configuration as read and written: lines longer
 * than libinih's buffer, duplicate keys, empty list elements, values that
 * would not fit on a line of the config.ini a run writes, a written
 * config.ini read back whole, and a config path that is not a file. Every
 * input is made by the test (in memory or under /tmp). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssp_config.h"
#include "ssp_file.h"
#include "ssp_ini.h"
#include "ssp_test.h"

/* The runner's context, held: ssp_test_ctx() clears its error. */
static ssp_ctx *CTX;

static int setup(void)
{
    CTX = ssp_test_ctx();
    return 0;
}

static int parse(ssp_config *c, const char *text)
{
    ssp_config_defaults(c);
    return ssp_config_parse(c, CTX, text, strlen(text), "t.ini");
}

static int has(const char *what)
{
    if (strstr(ssp_ctx_errmsg(CTX), what)) return 1;
    fprintf(stderr, "\n  '%s' not in: %s\n", what, ssp_ctx_errmsg(CTX));
    return 0;
}

/* "; xxx...batch = 7": a comment whose tail past libinih's buffer is a
 * key. The comment is refused at its line; batch keeps its default. A line
 * of exactly SSP_INI_LINE_MAX characters is read. */
static void test_config__overlong_line_refused_with_its_line(void)
{
    char text[600];
    ssp_config c;
    int n = snprintf(text, sizeof text, "[train]\nlr = 0.1\n; ");
    memset(text + n, 'x', 197);
    snprintf(text + n + 197, sizeof text - (size_t)n - 197, "batch = 7\n");
    CU_ASSERT_EQUAL(parse(&c, text), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:3: line of 208 characters"));
    CU_ASSERT(has("at most 198"));
    CU_ASSERT_EQUAL(c.batch, 32);
    /* the longest line read: SSP_INI_LINE_MAX characters before the '\n'
     * (a CRLF line's '\r' among them) */
    n = snprintf(text, sizeof text, "[run]\n; ");
    memset(text + n, 'y', SSP_INI_LINE_MAX - 2);
    snprintf(text + n + SSP_INI_LINE_MAX - 2, sizeof text - (size_t)n - SSP_INI_LINE_MAX + 2, "\nseed = 5\r\n");
    SSP_ASSERT_OK(CTX, parse(&c, text));
    CU_ASSERT_EQUAL(c.seed, 5);
    snprintf(text + n + SSP_INI_LINE_MAX - 3, sizeof text - (size_t)n - SSP_INI_LINE_MAX + 3, "\r\nseed = 6\r\n");
    SSP_ASSERT_OK(CTX, parse(&c, text));
    CU_ASSERT_EQUAL(c.seed, 6);
    snprintf(text + n + SSP_INI_LINE_MAX - 2, sizeof text - (size_t)n - SSP_INI_LINE_MAX + 2, "\r\nseed = 7\r\n");
    CU_ASSERT_EQUAL(parse(&c, text), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:2: line of 199 characters"));
    /* one more character is refused, also on the last line without a newline */
    n = snprintf(text, sizeof text, "[run]\nname = ");
    memset(text + n, 'z', SSP_INI_LINE_MAX + 1 - 7);
    text[n + SSP_INI_LINE_MAX + 1 - 7] = '\0';
    CU_ASSERT_EQUAL(parse(&c, text), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:2: line of 199 characters"));
}

/* A key given twice is refused naming both lines, in a config as in a
 * device file (one rule); the same key in two sections is two keys. */
static void test_config__duplicate_key_names_both_lines(void)
{
    ssp_config c;
    CU_ASSERT_EQUAL(parse(&c, "[train]\nbatch = 8\nlr = 0.1\n\nbatch = 9\n"), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:5: [train] batch given twice (first on line 2)"));
    CU_ASSERT_EQUAL(parse(&c, "[train]\nbatch = 8\n[run]\nseed = 2\n[train]\nbatch = 9\n"), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:6: [train] batch given twice (first on line 2)"));
    SSP_ASSERT_OK(CTX, parse(&c, "[engine]\ncheck_every = 3\n[program]\ncheck_every = 4\n"));
    CU_ASSERT_EQUAL(c.check_every, 3);
    CU_ASSERT_EQUAL(c.prog_check_every, 4);
}

/* An indented key is that key (libinih would read it as the previous
 * value's continuation); a NUL byte and bad syntax name their line. */
static void test_config__indented_keys_nul_and_syntax(void)
{
    ssp_config c;
    SSP_ASSERT_OK(CTX, parse(&c, "[train]\nlr = 0.1\n   batch = 12\n"));
    CU_ASSERT_EQUAL(c.batch, 12);
    {
        const char text[] = "[train]\nlr = 0.1\nbatch\0 = 3\n";
        ssp_config_defaults(&c);
        CU_ASSERT_EQUAL(ssp_config_parse(&c, CTX, text, sizeof text - 1, "t.ini"), SSP_ECONFIG);
        CU_ASSERT(has("t.ini:3: contains a NUL byte"));
    }
    CU_ASSERT_EQUAL(parse(&c, "[train]\nlr = 0.1\n[run\n"), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:3: not valid INI syntax"));
    CU_ASSERT_EQUAL(parse(&c, "[train]\nlr = 0.1\nbatch = x\n"), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:3: train.batch"));
}

/* "16,,16", "16," and ",16" are errors naming the key, in a file and in an
 * override; "16, 32" is two widths; baselines follow the same rule. */
static void test_config__empty_list_element_refused(void)
{
    ssp_config c;
    ssp_ctx *ctx = CTX;
    CU_ASSERT_EQUAL(parse(&c, "[network]\nhidden = 16,,16\n"), SSP_ECONFIG);
    CU_ASSERT(has("t.ini:2: network.hidden: element 2 of '16,,16' is empty"));
    CU_ASSERT_EQUAL(parse(&c, "[network]\nhidden = 16,\n"), SSP_ECONFIG);
    CU_ASSERT(has("network.hidden: element 2"));
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "network.hidden=,16"), SSP_ECONFIG);
    CU_ASSERT(has("network.hidden: element 1 of ',16' is empty"));
    SSP_ASSERT_OK(ctx, parse(&c, "[network]\nhidden = 16, 32\n"));
    CU_ASSERT_EQUAL(c.nhidden, 2);
    CU_ASSERT_EQUAL(c.hidden[1], 32);
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, "network.hidden="), SSP_ECONFIG);
    {
        int methods[4];
        SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "run.baselines=sgd,,exsitu"));
        CU_ASSERT_EQUAL(ssp_config_baselines(&c, ctx, methods, 4), SSP_ECONFIG);
        CU_ASSERT(has("run.baselines: element 2 of 'sgd,,exsitu' is empty"));
        SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "run.baselines= "));
        CU_ASSERT_EQUAL(ssp_config_baselines(&c, ctx, methods, 4), 0);
    }
}

/* A value that would not fit on its line of the run's config.ini is
 * refused, from --set as from a file; so is a path that grows too long
 * when made absolute. */
static void test_config__value_longer_than_a_line_refused(void)
{
    ssp_config c;
    ssp_ctx *ctx = CTX;
    char set[400];
    int n = snprintf(set, sizeof set, "run.name=");
    memset(set + n, 'n', 200);
    set[n + 200] = '\0';
    ssp_config_defaults(&c);
    CU_ASSERT_EQUAL(ssp_config_set(&c, ctx, set), SSP_ECONFIG);
    CU_ASSERT(has("run.name: 200 characters; at most 191 fit"));
    set[n + 191] = '\0';
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, set));
    {
        char rel[200];
        memset(rel, 'd', 190);
        rel[190] = '\0';
        snprintf(c.data_dir, sizeof c.data_dir, "%s", rel); /* relative: the working directory is prefixed */
        CU_ASSERT_EQUAL(ssp_config_resolve_paths(&c, ctx), SSP_ECONFIG);
        CU_ASSERT(has("data.dir: '"));
        CU_ASSERT(has("fit on the line"));
    }
}

/* What ssp_config_write writes (longest descriptions, longest values,
 * the four data CRCs of a Fashion-MNIST run) reads back: every line within
 * the limit, every value the same. */
static void test_config__written_config_reads_back(void)
{
    ssp_config c, back;
    ssp_ctx *ctx = CTX;
    char *buf = NULL, *line, *save = NULL;
    size_t len = 0, longest = 0;
    FILE *f = open_memstream(&buf, &len);
    ssp_config_defaults(&c);
    snprintf(c.data_crc32, sizeof c.data_crc32, "%s",
             "train-images=1a2b3c4d,train-labels=5e6f7a8b,t10k-images=9c0d1e2f,t10k-labels=3a4b5c6d");
    memset(c.name, 'n', 190);
    c.name[190] = '\0';
    SSP_ASSERT_OK(ctx, ssp_config_set(&c, ctx, "network.hidden=64,32,16"));
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(ssp_config_write(&c, f), SSP_OK);
    fclose(f);
    ssp_config_defaults(&back);
    SSP_ASSERT_OK(ctx, ssp_config_parse(&back, ctx, buf, len, "written.ini"));
    CU_ASSERT_STRING_EQUAL(back.data_crc32, c.data_crc32);
    CU_ASSERT_STRING_EQUAL(back.name, c.name);
    CU_ASSERT_EQUAL(back.nhidden, 3);
    CU_ASSERT_STRING_EQUAL(back.device_params, c.device_params);
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strlen(line) > longest) longest = strlen(line);
    CU_ASSERT(longest <= SSP_INI_LINE_MAX);
    free(buf);
}

/* A directory or a FIFO given as the config is refused as not a file (no
 * run on the defaults); a missing one names the path. */
static void test_config__config_that_is_not_a_file_refused(void)
{
    ssp_config c;
    ssp_ctx *ctx = CTX;
    char dir[] = "/tmp/ssp_cfg_dir_XXXXXX", fifo[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    ssp_config_defaults(&c);
    CU_ASSERT_EQUAL(ssp_config_load(&c, ctx, dir), SSP_EIO);
    CU_ASSERT(has("a directory, not a file"));
    CU_ASSERT(has(dir));
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL(ssp_config_load(&c, ctx, fifo), SSP_EIO); /* returns: a FIFO is not waited on */
    CU_ASSERT(has("a pipe, not a file"));
    unlink(fifo);
    rmdir(dir);
    CU_ASSERT_EQUAL(ssp_config_load(&c, ctx, "/nonexistent/run.ini"), SSP_EIO);
    CU_ASSERT(has("/nonexistent/run.ini"));
}

/* Every shipped configuration reads to the values it always read to: the
 * resolved config.ini written from it (every key, doubles as %.17g) equals
 * tests/golden/params/config_<name>.ini, written by the reader before it
 * moved onto the shared parameter layer (ssp_params). */
static void test_config__shipped_configs_read_to_recorded_values(void)
{
    static const char *const names[] = {"cnn", "default", "fashion", "neurosim", "nodal", "spice-small",
                                        "sweep-short"};
    ssp_ctx *ctx = CTX;
    for (size_t i = 0; i < sizeof names / sizeof names[0] + 1; i++) {
        char rel[128], path[512], *got = NULL;
        size_t len = 0;
        ssp_config c;
        FILE *f;
        if (i < sizeof names / sizeof names[0])
            snprintf(rel, sizeof rel, "configs/%s.ini", names[i]);
        else
            snprintf(rel, sizeof rel, "tests/fuzz/checkpoint.ini");
        ssp_config_defaults(&c);
        SSP_ASSERT_OK(ctx, ssp_config_load(&c, ctx, ssp_test_path(path, sizeof path, rel)));
        f = open_memstream(&got, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(ssp_config_write(&c, f), SSP_OK);
        fclose(f);
        snprintf(rel, sizeof rel, "tests/golden/params/config_%s.ini",
                 i < sizeof names / sizeof names[0] ? names[i] : "fuzz-checkpoint");
        ssp_test_golden(rel, got);
        free(got);
    }
}

SSP_TEST_SUITE(config)
{
    SSP_ADD_SUITE("config", setup, NULL, SSP_TEST(test_config__overlong_line_refused_with_its_line),
                  SSP_TEST(test_config__duplicate_key_names_both_lines),
                  SSP_TEST(test_config__indented_keys_nul_and_syntax),
                  SSP_TEST(test_config__empty_list_element_refused),
                  SSP_TEST(test_config__value_longer_than_a_line_refused),
                  SSP_TEST(test_config__written_config_reads_back),
                  SSP_TEST(test_config__config_that_is_not_a_file_refused),
                  SSP_TEST(test_config__shipped_configs_read_to_recorded_values));
}
