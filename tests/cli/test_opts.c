/* test_opts.c — the commands' option parser (harness/cli/cmd_opts.c): every
 * kind stores what it reads, defaults stay where an option is not given,
 * each refusal (unknown option, missing value, bad number, out of range,
 * bad choice, duplicate, flag with a value, stray or surplus positional,
 * too many repeats) names the option and the value, --help wins anywhere,
 * and the help lists every entry of the table. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opts.h"
#include "ssp_test.h"

/* The targets of the test table, reset before each parse. */
struct vals {
    int quiet, spice;
    long pulses, seed;
    size_t rows;
    double input, width, amp, rwire;
    const char *out, *bias, *dir;
    ssp_cmd_list sets;
};

enum { MSG_CAP = 512, ARGS_MAX = 32 };

/* argv holds mutable strings; these tests hand it literals */
#define ARG(s) ((char *)(uintptr_t)(s))

static struct vals V;
static char MSG[MSG_CAP];
static ssp_cmd_opt OPTS[13];
static ssp_cmd_spec SPEC;

/* A table with one entry of every kind, as a command writes it. */
static void table(int with_positional)
{
    const ssp_cmd_opt opts[] = {
        {.short_name = 'q', .kind = SSP_CMD_FLAG, .target = &V.quiet, .help = "no progress display"},
        {.name = "--spice", .kind = SSP_CMD_FLAG, .target = &V.spice, .help = "also in ngspice"},
        {.name = "--pulses", .kind = SSP_CMD_LONG, .target = &V.pulses, .arg = "N", .help = "pulses (default 20)",
         .lo = 1, .hi = 100000, .flags = SSP_CMD_RANGE},
        {.name = "--seed", .kind = SSP_CMD_LONG, .target = &V.seed, .arg = "S", .help = "seed"},
        {.name = "--rows", .kind = SSP_CMD_SIZE, .target = &V.rows, .arg = "N", .help = "word lines",
         .lo = 1, .hi = 256, .flags = SSP_CMD_RANGE},
        {.name = "--input", .kind = SSP_CMD_DOUBLE, .target = &V.input, .arg = "F", .help = "a fraction",
         .lo = 0, .hi = 1, .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN},
        {.name = "--width", .kind = SSP_CMD_UNIT, .target = &V.width, .arg = "s", .unit = "s",
         .help = "pulse width\n(SI prefix allowed: 50n, 300u)", .lo = 0, .hi = INFINITY,
         .flags = SSP_CMD_RANGE | SSP_CMD_LO_OPEN},
        {.name = "--amplitude", .kind = SSP_CMD_UNIT, .target = &V.amp, .arg = "V", .unit = "V",
         .help = "amplitude", .flags = SSP_CMD_NONZERO},
        {.name = "--rwire", .kind = SSP_CMD_UNIT, .target = &V.rwire, .arg = "OHM_PER_MICROMETRE", .unit = "",
         .help = "wire resistance"},
        {.name = "--out", .short_name = 'o', .kind = SSP_CMD_STRING, .target = &V.out, .arg = "DIR",
         .help = "output directory"},
        {.name = "--bias", .kind = SSP_CMD_CHOICE, .target = &V.bias, .choices = "v2|v3|v4", .help = "bias scheme"},
        {.name = "--set", .kind = SSP_CMD_LIST, .target = &V.sets, .arg = "S.K=V", .help = "override"},
        {.kind = SSP_CMD_STRING, .target = &V.dir, .arg = "RUN_DIR"},
    };
    memcpy(OPTS, opts, sizeof opts);
    memset(&V, 0, sizeof V);
    V.pulses = 20;
    V.seed = 1;
    V.input = 0.1;
    V.out = "default-out";
    V.bias = "v2";
    SPEC = (ssp_cmd_spec){.cmd = "test", .synopsis = "usage: siamspice test [options] RUN_DIR\n",
                          .about = "A table of every kind.\n", .tail = "Exit status: 0 done.\n",
                          .hint = "(see the manual)", .opts = OPTS,
                          .nopts = sizeof opts / sizeof opts[0] - (with_positional ? 0 : 1)};
}

/* Scan the NULL-terminated arguments (argv[0] is the command). */
static int scan(const char *const *a)
{
    char *argv[ARGS_MAX];
    int argc = 0;
    argv[argc++] = ARG("test");
    for (; *a && argc < ARGS_MAX; a++) argv[argc++] = ARG(*a);
    return ssp_cmd_opts_scan(&SPEC, argc, argv, MSG, sizeof MSG);
}

#define SCAN(...) scan((const char *const[]){__VA_ARGS__, NULL})

/* The last scan refused with a message holding what. */
static int refused(int rc, const char *what)
{
    if (rc == SSP_CMD_OPTS_BAD && strstr(MSG, what)) return 1;
    fprintf(stderr, "\n  scan returned %d, message '%s', wanted '%s'\n", rc, MSG, what);
    return 0;
}

static void test_opts__every_kind_stores_its_value(void)
{
    int rc;
    table(1);
    rc = SCAN("-q", "--spice", "--pulses", "7", "--seed", "-3", "--rows", "128", "--input", "0.25", "--width",
              "300us", "--amplitude", "-1.2", "--rwire", "2.5", "-o", "dir/out", "--bias", "v3", "--set", "a.b=1",
              "--set", "c.d=2", "runs/x");
    CU_ASSERT_EQUAL_FATAL(rc, SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(V.quiet, 1);
    CU_ASSERT_EQUAL(V.spice, 1);
    CU_ASSERT_EQUAL(V.pulses, 7);
    CU_ASSERT_EQUAL(V.seed, -3);
    CU_ASSERT_EQUAL(V.rows, 128);
    CU_ASSERT_DOUBLE_EQUAL(V.input, 0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(V.width, 300e-6, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(V.amp, -1.2, 0);
    CU_ASSERT_DOUBLE_EQUAL(V.rwire, 2.5, 0);
    CU_ASSERT_STRING_EQUAL(V.out, "dir/out");
    CU_ASSERT_STRING_EQUAL(V.bias, "v3");
    CU_ASSERT_EQUAL_FATAL(V.sets.n, 2);
    CU_ASSERT_STRING_EQUAL(V.sets.v[0], "a.b=1");
    CU_ASSERT_STRING_EQUAL(V.sets.v[1], "c.d=2");
    CU_ASSERT_STRING_EQUAL(V.dir, "runs/x");
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "--set"), 2);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "-q"), 1);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "-o"), 1);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "--out"), 1);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "--nothing"), 0);
}

static void test_opts__defaults_stay_and_given_counts_reset(void)
{
    table(1);
    CU_ASSERT_EQUAL_FATAL(SCAN("--pulses", "3", "--set", "x.y=1"), SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "--pulses"), 1);
    /* a second parse of the same table starts its counts afresh */
    CU_ASSERT_EQUAL_FATAL(SCAN("--seed", "9"), SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "--pulses"), 0);
    CU_ASSERT_EQUAL(ssp_cmd_opts_given(&SPEC, "--seed"), 1);
    table(1);
    CU_ASSERT_EQUAL_FATAL(scan((const char *const[]){NULL}), SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(V.pulses, 20);
    CU_ASSERT_EQUAL(V.seed, 1);
    CU_ASSERT_DOUBLE_EQUAL(V.input, 0.1, 0);
    CU_ASSERT_STRING_EQUAL(V.out, "default-out");
    CU_ASSERT_STRING_EQUAL(V.bias, "v2");
    CU_ASSERT_EQUAL(V.sets.n, 0);
    CU_ASSERT_PTR_NULL(V.dir);
    CU_ASSERT_EQUAL(V.quiet, 0);
}

static void test_opts__values_may_start_with_a_dash_or_follow_an_equals_sign(void)
{
    table(1);
    CU_ASSERT_EQUAL_FATAL(SCAN("--amplitude", "-1.5V", "--out=-", "--set=a.b=c=d", "--width=50n", "--rows=4"),
                          SSP_CMD_OPTS_OK);
    CU_ASSERT_DOUBLE_EQUAL(V.amp, -1.5, 0);
    CU_ASSERT_STRING_EQUAL(V.out, "-");
    CU_ASSERT_STRING_EQUAL(V.sets.v[0], "a.b=c=d");
    CU_ASSERT_DOUBLE_EQUAL(V.width, 50e-9, 1e-21);
    CU_ASSERT_EQUAL(V.rows, 4);
}

/* The unit kind reads what the configuration files read, and a prefix
 * without its unit letter as the device and fit help say (50n, 300u). */
static void test_opts__units_take_prefixes_with_or_without_the_unit(void)
{
    static const struct {
        const char *text;
        double want;
    } cases[] = {{"50n", 50e-9}, {"50ns", 50e-9}, {"50 ns", 50e-9}, {"300u", 300e-6}, {"1e-6", 1e-6},
                 {"2m", 2e-3},   {"0.5 s", 0.5}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        table(1);
        CU_ASSERT_EQUAL(SCAN("--width", cases[i].text), SSP_CMD_OPTS_OK);
        CU_ASSERT(ssp_close_rel(V.width, cases[i].want, 1e-12, 0));
    }
    table(1);
    CU_ASSERT_EQUAL(SCAN("--amplitude", "1.2V"), SSP_CMD_OPTS_OK);
    CU_ASSERT_DOUBLE_EQUAL(V.amp, 1.2, 0);
    CU_ASSERT_EQUAL(SCAN("--amplitude", "800m"), SSP_CMD_OPTS_OK);
    CU_ASSERT(ssp_close_rel(V.amp, 0.8, 1e-12, 0));
}

static void test_opts__help_anywhere_wins_and_writes_nothing(void)
{
    table(1);
    CU_ASSERT_EQUAL(SCAN("--help"), SSP_CMD_OPTS_HELP);
    CU_ASSERT_EQUAL(SCAN("--pulses", "3", "-h"), SSP_CMD_OPTS_HELP);
    CU_ASSERT_EQUAL(V.pulses, 20);
    /* even where a value was due, and after an error would have come */
    CU_ASSERT_EQUAL(SCAN("--out", "--help"), SSP_CMD_OPTS_HELP);
    CU_ASSERT_EQUAL(SCAN("--bogus", "-h"), SSP_CMD_OPTS_HELP);
    CU_ASSERT_STRING_EQUAL(V.out, "default-out");
}

static void test_opts__unknown_options_are_named(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--bogus"), "unknown option '--bogus' (see the manual)"));
    CU_ASSERT(refused(SCAN("-x"), "unknown option '-x'"));
    CU_ASSERT(refused(SCAN("-qv"), "unknown option '-qv'"));
    CU_ASSERT(refused(SCAN("--bogus=3"), "unknown option '--bogus'"));
    CU_ASSERT(refused(SCAN("--"), "unknown option '--'"));
    /* a long option's prefix is not the option */
    CU_ASSERT(refused(SCAN("--pul", "3"), "unknown option '--pul'"));
}

static void test_opts__a_missing_value_names_the_option(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--out"), "option '--out' needs a value (DIR)"));
    CU_ASSERT(refused(SCAN("-q", "--pulses"), "option '--pulses' needs a value (N)"));
    CU_ASSERT(refused(SCAN("--bias"), "option '--bias' needs a value (v2|v3|v4)"));
    CU_ASSERT(refused(SCAN("--set"), "option '--set' needs a value"));
}

static void test_opts__bad_numbers_name_the_option_and_the_value(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--pulses", "x"), "--pulses 'x': not a whole number"));
    CU_ASSERT(refused(SCAN("--pulses", "3.5"), "--pulses '3.5': not a whole number"));
    CU_ASSERT(refused(SCAN("--pulses", ""), "--pulses '': not a whole number"));
    CU_ASSERT(refused(SCAN("--seed", "99999999999999999999999"), "--seed '99999999999999999999999'"));
    CU_ASSERT(refused(SCAN("--rows", "-1"), "--rows '-1': not a whole number >= 0"));
    CU_ASSERT(refused(SCAN("--rows", "4x"), "--rows '4x'"));
    CU_ASSERT(refused(SCAN("--input", "half"), "--input 'half': not a number"));
    CU_ASSERT(refused(SCAN("--input", "inf"), "--input 'inf': not a number"));
    CU_ASSERT(refused(SCAN("--input", "1e999"), "--input '1e999': not a number"));
    CU_ASSERT(refused(SCAN("--width", "50x"), "--width '50x': unknown unit"));
    CU_ASSERT(refused(SCAN("--width", "fast"), "--width 'fast'"));
    CU_ASSERT(refused(SCAN("--amplitude", "1.2s"), "--amplitude '1.2s': 's' is a time (s), expected a voltage (V)"));
    /* a plain number takes no prefix */
    CU_ASSERT(refused(SCAN("--rwire", "2k"), "--rwire '2k': unknown unit 'k' (this value is dimensionless: a plain number)"));
}

static void test_opts__values_outside_their_range_are_refused(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--pulses", "0"), "--pulses '0': want a whole number in 1..100000"));
    CU_ASSERT(refused(SCAN("--pulses", "100001"), "--pulses '100001': want a whole number in 1..100000"));
    CU_ASSERT_EQUAL(SCAN("--pulses", "100000"), SSP_CMD_OPTS_OK);
    CU_ASSERT(refused(SCAN("--rows", "0"), "--rows '0': want a whole number in 1..256"));
    CU_ASSERT(refused(SCAN("--input", "0"), "--input '0': want a value in (0, 1]"));
    CU_ASSERT(refused(SCAN("--input", "2"), "--input '2': want a value in (0, 1]"));
    CU_ASSERT_EQUAL(SCAN("--input", "1"), SSP_CMD_OPTS_OK);
    CU_ASSERT(refused(SCAN("--width", "0"), "--width '0': want a value > 0 (in s)"));
    CU_ASSERT(refused(SCAN("--width", "-5n"), "--width '-5n': want a value > 0 (in s)"));
    CU_ASSERT(refused(SCAN("--amplitude", "0V"), "--amplitude '0V': want a non-zero value (in V)"));
    /* nothing of a refused value is stored */
    CU_ASSERT_EQUAL(V.pulses, 100000);
    CU_ASSERT_DOUBLE_EQUAL(V.input, 1, 0);
}

static void test_opts__choices_list_what_they_accept(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--bias", "v5"), "--bias 'v5': want v2, v3 or v4"));
    CU_ASSERT(refused(SCAN("--bias", "v"), "--bias 'v'"));
    CU_ASSERT(refused(SCAN("--bias", ""), "--bias ''"));
    CU_ASSERT(refused(SCAN("--bias", "v2|v3"), "--bias 'v2|v3'"));
    CU_ASSERT_EQUAL(SCAN("--bias", "v4"), SSP_CMD_OPTS_OK);
    CU_ASSERT_STRING_EQUAL(V.bias, "v4");
}

static void test_opts__duplicates_are_refused_unless_repeatable(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--out", "a", "--out", "b"), "--out given twice ('a', then 'b')"));
    CU_ASSERT(refused(SCAN("--out", "a", "-o", "b"), "-o given twice ('a', then 'b')"));
    CU_ASSERT(refused(SCAN("--pulses", "3", "--pulses", "4"), "--pulses given twice (the second time '4')"));
    CU_ASSERT(refused(SCAN("-q", "-q"), "-q given twice"));
    CU_ASSERT(refused(SCAN("--bias", "v2", "--bias=v3"), "--bias given twice ('v2', then 'v3')"));
    CU_ASSERT_EQUAL(SCAN("--set", "a=1", "--set", "a=2", "--set", "a=3"), SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(V.sets.n, 3);
}

static void test_opts__flags_take_no_value(void)
{
    table(1);
    CU_ASSERT(refused(SCAN("--spice=1"), "--spice takes no value (given '1')"));
    CU_ASSERT_EQUAL(V.spice, 0);
}

static void test_opts__positional_arguments_where_the_table_has_none_or_one(void)
{
    table(0);
    CU_ASSERT(refused(SCAN("runs/x"), "unexpected argument 'runs/x'"));
    CU_ASSERT(refused(SCAN("-"), "unexpected argument '-'"));
    table(1);
    CU_ASSERT(refused(SCAN("runs/x", "runs/y"), "unexpected argument 'runs/y' (after 'runs/x')"));
    /* the value of an option is not a positional argument */
    CU_ASSERT_EQUAL(SCAN("--out", "o", "runs/x"), SSP_CMD_OPTS_OK);
    CU_ASSERT_STRING_EQUAL(V.dir, "runs/x");
}

static void test_opts__a_positional_list_keeps_every_argument(void)
{
    ssp_cmd_list names = {.n = 0};
    int list = 0;
    ssp_cmd_opt opts[] = {
        {.name = "--list", .kind = SSP_CMD_FLAG, .target = &list, .help = "names only"},
        {.kind = SSP_CMD_LIST, .target = &names, .arg = "NAME", .help = "a benchmark"},
    };
    char *argv[] = {ARG("bench"), ARG("devices"), ARG("--list"), ARG("engines"), ARG("train"), NULL};
    ssp_cmd_spec s = {.cmd = "bench", .opts = opts, .nopts = 2};
    CU_ASSERT_EQUAL_FATAL(ssp_cmd_opts_scan(&s, 5, argv, MSG, sizeof MSG), SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(list, 1);
    CU_ASSERT_EQUAL_FATAL(names.n, 3);
    CU_ASSERT_STRING_EQUAL(names.v[0], "devices");
    CU_ASSERT_STRING_EQUAL(names.v[2], "train");
}

static void test_opts__a_repeatable_option_has_a_limit(void)
{
    char *argv[2 * SSP_CMD_LIST_MAX + 3];
    int argc = 0;
    table(1);
    argv[argc++] = ARG("test");
    for (int k = 0; k <= SSP_CMD_LIST_MAX; k++) {
        argv[argc++] = ARG("--set");
        argv[argc++] = ARG("a.b=1");
    }
    CU_ASSERT(refused(ssp_cmd_opts_scan(&SPEC, argc, argv, MSG, sizeof MSG), "more than 64 --set options"));
    CU_ASSERT_EQUAL(V.sets.n, SSP_CMD_LIST_MAX);
    /* a new parse starts the list afresh: 64 are taken */
    CU_ASSERT_EQUAL(ssp_cmd_opts_scan(&SPEC, argc - 2, argv, MSG, sizeof MSG), SSP_CMD_OPTS_OK);
    CU_ASSERT_EQUAL(V.sets.n, SSP_CMD_LIST_MAX);
}

/* The help is the table: every option with its value name and text, the
 * continuation lines aligned, -h last, the command's own text around. */
static void test_opts__help_lists_every_option_of_the_table(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    table(1);
    ssp_cmd_opts_help(&SPEC, f);
    fclose(f);
    CU_ASSERT(strncmp(text, "usage: siamspice test [options] RUN_DIR\n\nA table of every kind.\n", 62) == 0);
    for (size_t k = 0; k < SPEC.nopts; k++) {
        if (OPTS[k].name) CU_ASSERT_PTR_NOT_NULL(strstr(text, OPTS[k].name));
        if (OPTS[k].help) {
            char first[64];
            snprintf(first, sizeof first, "%.*s\n", (int)strcspn(OPTS[k].help, "\n"), OPTS[k].help);
            CU_ASSERT_PTR_NOT_NULL(strstr(text, first));
        }
    }
    /* the column: the widest label that fits (--bias v2|v3|v4) and two spaces */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  -q               no progress display\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  --pulses N       pulses (default 20)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  --width s        pulse width\n"
                                        "                   (SI prefix allowed: 50n, 300u)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  -o, --out DIR    output directory\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  --bias v2|v3|v4  bias scheme\n"));
    /* a label wider than the widest column puts its text on the next line */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  --rwire OHM_PER_MICROMETRE\n                   wire resistance\n"));
    /* a positional entry without help text is in the synopsis only */
    CU_ASSERT_PTR_NULL(strstr(text, "\n  RUN_DIR"));
    {
        const char *h = strstr(text, "\n  -h, --help       print this help and exit\n");
        CU_ASSERT_PTR_NOT_NULL(h);
        if (h) CU_ASSERT_STRING_EQUAL(h + strlen("\n  -h, --help       print this help and exit\n"),
                                      "Exit status: 0 done.\n");
    }
    free(text);
}

SSP_TEST_SUITE(opts)
{
    SSP_ADD_SUITE("opts", NULL, NULL, SSP_TEST(test_opts__every_kind_stores_its_value),
                  SSP_TEST(test_opts__defaults_stay_and_given_counts_reset),
                  SSP_TEST(test_opts__values_may_start_with_a_dash_or_follow_an_equals_sign),
                  SSP_TEST(test_opts__units_take_prefixes_with_or_without_the_unit),
                  SSP_TEST(test_opts__help_anywhere_wins_and_writes_nothing),
                  SSP_TEST(test_opts__unknown_options_are_named),
                  SSP_TEST(test_opts__a_missing_value_names_the_option),
                  SSP_TEST(test_opts__bad_numbers_name_the_option_and_the_value),
                  SSP_TEST(test_opts__values_outside_their_range_are_refused),
                  SSP_TEST(test_opts__choices_list_what_they_accept),
                  SSP_TEST(test_opts__duplicates_are_refused_unless_repeatable),
                  SSP_TEST(test_opts__flags_take_no_value),
                  SSP_TEST(test_opts__positional_arguments_where_the_table_has_none_or_one),
                  SSP_TEST(test_opts__a_positional_list_keeps_every_argument),
                  SSP_TEST(test_opts__a_repeatable_option_has_a_limit),
                  SSP_TEST(test_opts__help_lists_every_option_of_the_table));
}
