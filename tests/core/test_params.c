/* test_params.c — the parameter-table layer of harness/core/ssp_params and
 * the one unit set of ssp_units it reads numbers with: every kind, the
 * units and prefixes both a config and a device file accept, ranges and
 * their messages, required, derived and unknown keys, overrides, a table
 * bound to a vector, and a written table that reads back to the same
 * fields. Tables and texts are made here; nothing touches the disk. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_params.h"
#include "ssp_test.h"
#include "ssp_units.h"

struct target {
    double v_read;    /* V */
    double r;         /* ohm, unit required */
    double frac;      /* written in %, kept as a fraction */
    double pct;       /* written in %, kept in % */
    long n;           /* whole */
    double n_dbl;     /* whole, in a double */
    int on;           /* bool */
    int mode;         /* choice */
    char name[16];    /* text */
    long list[4];     /* list */
    long nlist;
    double derived;   /* never read */
};

#define OFF(f) offsetof(struct target, f)
static const ssp_param table[] = {
    {"a", "v_read", SSP_PARAM_REAL, "V", -5, 5, SSP_PARAM_NONZERO, OFF(v_read), 0, 0, NULL, 0, 0.2, "read voltage"},
    {"a", "r", SSP_PARAM_REAL, "ohm", 0, HUGE_VAL, SSP_PARAM_OPEN_LO | SSP_PARAM_UNIT_REQUIRED | SSP_PARAM_REQUIRED,
     OFF(r), 0, 0, NULL, 0, 0, "a resistance"},
    {"a", "frac", SSP_PARAM_REAL, "%", 0, 1, SSP_PARAM_UNIT_REQUIRED, OFF(frac), 0, 0, NULL, 0.01, 0, "a fraction"},
    {"a", "pct", SSP_PARAM_REAL, "%", 0, 100, 0, OFF(pct), 0, 0, NULL, 0, 0, "a percentage"},
    {"b", "n", SSP_PARAM_WHOLE, "", 1, 1000, 0, OFF(n), 0, 0, NULL, 0, 7, "a count"},
    {"b", "n_dbl", SSP_PARAM_WHOLE, "", 1, 100, SSP_PARAM_IN_DOUBLE, OFF(n_dbl), 0, 0, NULL, 0, 3, "a count"},
    {"b", "on", SSP_PARAM_BOOL, "", 0, 1, 0, OFF(on), 0, 0, NULL, 0, 0, "a switch"},
    {"b", "mode", SSP_PARAM_CHOICE, "", 0, 0, 0, OFF(mode), 0, 0, "fast|slow|exact", 0, 0, "a mode"},
    {"b", "name", SSP_PARAM_TEXT, "", 0, 0, 0, OFF(name), sizeof(((struct target *)0)->name), 0, NULL, 0, 0, "a name"},
    {"b", "list", SSP_PARAM_LIST, "", 1, 64, 0, OFF(list), 4, OFF(nlist), NULL, 0, 0, "widths"},
    {"b", "derived", SSP_PARAM_REAL, "", 0, 1, SSP_PARAM_DERIVED, OFF(derived), 0, 0, NULL, 0, 0.5, "computed"},
};
#undef OFF
enum { N = sizeof table / sizeof table[0] };

static ssp_ctx *CTX;

static int setup(void)
{
    CTX = ssp_test_ctx();
    return 0;
}

static int has(const char *what)
{
    if (strstr(ssp_ctx_errmsg(CTX), what)) return 1;
    fprintf(stderr, "\n  '%s' not in: %s\n", what, ssp_ctx_errmsg(CTX));
    return 0;
}

static int read_text(struct target *t, const char *text)
{
    ssp_param_table b = {table, N, t, 0};
    memset(t, 0, sizeof *t);
    ssp_params_defaults(&b, 1);
    return ssp_params_read(CTX, "t.ini", text, strlen(text), &b, 1, NULL, 0);
}

/* Every unit and prefix of the one set, and what each refusal says. */
static void test_params__one_unit_set_for_every_reader(void)
{
    static const struct {
        const char *text, *unit;
        double want;
    } ok[] = {{"0.2 V", "V", 0.2},       {"200mV", "V", 0.2},      {"10 kohm", "ohm", 1e4},  {"10 kOhm", "ohm", 1e4},
              {"2 MOHM", "ohm", 2e6},    {"1 Tohm", "ohm", 1e12},  {"3.0769 nS", "S", 3.0769e-9},
              {"300 us", "s", 300e-6},   {"300 \xc2\xb5s", "s", 300e-6}, {"3 nm", "m", 3e-9},
              {"0.5 mm/s", "m/s", 5e-4}, {"2 GHz", "Hz", 2e9},     {"0.2 fF", "F", 0.2e-15}, {"1 pJ", "J", 1e-12},
              {"1e-14 m^2/(V*s)", "m^2/(V*s)", 1e-14}, {"5 1/s", "1/s", 5}, {"3 %", "%", 3}, {"2.5", "", 2.5},
              {"2.5 1", "", 2.5}, {"7", "ohm", 7}};
    char why[256];
    double v;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CU_ASSERT_EQUAL(ssp_units_read(ok[i].text, ok[i].unit, 0, &v, why, sizeof why), 0);
        CU_ASSERT(ssp_close_rel(v, ok[i].want, 1e-15, 0));
    }
    CU_ASSERT_EQUAL(ssp_units_read("7", "ohm", SSP_UNITS_REQUIRED, &v, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "missing unit (expected a resistance (ohm))"));
    CU_ASSERT_EQUAL(ssp_units_read("1 uV", "S", 0, &v, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "'uV' is a voltage (V), expected a conductance (S)"));
    CU_ASSERT_EQUAL(ssp_units_read("1 Pohm", "ohm", 0, &v, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "unknown unit 'Pohm'"));
    CU_ASSERT_EQUAL(ssp_units_read("1 m%", "%", 0, &v, why, sizeof why), -1); /* % takes no prefix */
    CU_ASSERT_EQUAL(ssp_units_read("1 V", "", 0, &v, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "dimensionless"));
    CU_ASSERT_EQUAL(ssp_units_read("lots", "V", 0, &v, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "'lots' is not a finite number"));
    CU_ASSERT_EQUAL(ssp_units_read("1e999 V", "V", 0, &v, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(ssp_units_kind("m/s"), "a velocity (m/s)");
    CU_ASSERT_PTR_NULL(ssp_units_kind("furlong"));
    CU_ASSERT(ssp_units_prefixed("ohm") && !ssp_units_prefixed("%"));
}

/* Each kind reads into its field; defaults fill what the text leaves out. */
static void test_params__kinds_land_in_their_fields(void)
{
    struct target t;
    SSP_ASSERT_OK(CTX, read_text(&t, "[a]\nr = 1 kohm\nfrac = 3.5 %\npct = 2\n[b]\nn = 12\nn_dbl = 4\non = yes\n"
                                     "mode = exact\nname = xy\nlist = 8, 16,4\n"));
    CU_ASSERT_EQUAL(t.v_read, 0.2); /* default */
    CU_ASSERT_EQUAL(t.r, 1000);
    CU_ASSERT_EQUAL(t.frac, 3.5 * 0.01);
    CU_ASSERT_EQUAL(t.pct, 2);
    CU_ASSERT_EQUAL(t.n, 12);
    CU_ASSERT_EQUAL(t.n_dbl, 4.0);
    CU_ASSERT_EQUAL(t.on, 1);
    CU_ASSERT_EQUAL(t.mode, 2);
    CU_ASSERT_STRING_EQUAL(t.name, "xy");
    CU_ASSERT_EQUAL(t.nlist, 3);
    CU_ASSERT_EQUAL(t.list[2], 4);
    CU_ASSERT_EQUAL(t.derived, 0.5);
}

/* Every refusal names file:line and section.key, or the missing key. */
static void test_params__errors_name_file_line_and_key(void)
{
    struct target t;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[a]\nr = 1 kohm\nv_read = 0 V\n", "t.ini:3: a.v_read: must not be 0, got 0 V"},
        {"[a]\nr = 1 kohm\nv_read = 6 V\n", "t.ini:3: a.v_read: must be <= 5 V (range -5..5 V), got 6 V"},
        {"[a]\nr = -1 ohm\n", "t.ini:2: a.r: must be > 0 ohm, got -1 ohm"},
        {"[a]\nr = 5\n", "t.ini:2: a.r: missing unit (expected a resistance (ohm))"},
        {"[a]\nr = 1 kohm\nfrac = 150 %\n", "t.ini:3: a.frac: must be <= 100 % (range 0..100 %), got 150 %"},
        {"[a]\nr = 1 kohm\n[b]\nn = 10.5\n", "t.ini:4: b.n: '10.5' is not a whole number"},
        {"[a]\nr = 1 kohm\n[b]\nn = 5000\n", "t.ini:4: b.n: must be <= 1000 (range 1..1000), got 5000"},
        {"[a]\nr = 1 kohm\n[b]\non = maybe\n", "t.ini:4: b.on: 'maybe' is not a boolean (yes/no)"},
        {"[a]\nr = 1 kohm\n[b]\nmode = quick\n", "t.ini:4: b.mode: 'quick' is not one of fast|slow|exact"},
        {"[a]\nr = 1 kohm\n[b]\nname = 0123456789abcdef\n", "t.ini:4: b.name: 16 characters; at most 15 fit"},
        {"[a]\nr = 1 kohm\n[b]\nlist = 8,,8\n", "t.ini:4: b.list: element 2 of '8,,8' is empty"},
        {"[a]\nr = 1 kohm\n[b]\nlist = 1,2,3,4,5\n", "t.ini:4: b.list: more than 4 entries"},
        {"[a]\nr = 1 kohm\n[b]\nderived = 1\n", "t.ini:4: unknown key 'derived' in [b]"},
        {"[a]\nr = 1 kohm\n[c]\nx = 1\n", "t.ini:4: unknown section [c]"},
        {"[a]\nv_read = 1 V\n", "t.ini: missing key r in [a] (a resistance)"},
        {"[a]\nr = 1 kohm\nr = 2 kohm\n", "t.ini:3: [a] r given twice (first on line 2)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(read_text(&t, bad[i].text), SSP_ECONFIG);
        CU_ASSERT(has(bad[i].msg));
    }
    {
        /* a caller's owner names what the keys belong to; SKIP_UNKNOWN passes them by */
        ssp_param_table b = {table, N, &t, 0};
        static const char text[] = "[a]\nr = 1 kohm\n[z]\nq = 1\n";
        CU_ASSERT_EQUAL(ssp_params_read(CTX, "t.ini", text, strlen(text), &b, 1, "model m", 0), SSP_ECONFIG);
        CU_ASSERT(has("unknown section [z] for model m"));
        SSP_ASSERT_OK(CTX, ssp_params_read(CTX, "t.ini", text, strlen(text), &b, 1, NULL, SSP_PARAMS_SKIP_UNKNOWN));
    }
}

/* An override goes through the same reading; a derived key is not one. */
static void test_params__override_reads_like_a_file(void)
{
    struct target t;
    ssp_param_table b = {table, N, &t, 0};
    memset(&t, 0, sizeof t);
    SSP_ASSERT_OK(CTX, ssp_params_override(CTX, &b, 1, "a.r=2.2 Mohm"));
    CU_ASSERT_EQUAL(t.r, 2.2e6);
    CU_ASSERT_EQUAL(ssp_params_override(CTX, &b, 1, "a.r=-1 ohm"), SSP_ECONFIG);
    CU_ASSERT(has("override a.r: must be > 0 ohm, got -1 ohm"));
    CU_ASSERT_EQUAL(ssp_params_override(CTX, &b, 1, "b.derived=1"), SSP_ECONFIG);
    CU_ASSERT(has("unknown key b.derived"));
    CU_ASSERT_EQUAL(ssp_params_override(CTX, &b, 1, "no_dot=1"), SSP_ECONFIG);
    CU_ASSERT(has("is not section.key=value"));
}

/* A table over a vector (stride) reads like one over a struct. */
static void test_params__table_over_a_vector(void)
{
    static const ssp_param vec[] = {
        {"v", "x", SSP_PARAM_REAL, "s", 0, 1, SSP_PARAM_UNIT_REQUIRED, 0, 0, 0, NULL, 0, 1e-9, "a time"},
    };
    static const ssp_param vec2[] = {
        {"v", "k", SSP_PARAM_CHOICE, "", 0, 0, SSP_PARAM_IN_DOUBLE, 0, 0, 0, "lo|hi", 0, 0, "a word"},
    };
    double p[2] = {-1, -1};
    ssp_param_table b = {vec2, 1, p + 1, sizeof(double)};
    ssp_param_table a = {vec, 1, p, sizeof(double)};
    ssp_param_table both[2];
    static const char text[] = "[v]\nk = hi\nx = 10 ns\n";
    both[0] = a;
    both[1] = b;
    ssp_params_defaults(both, 2);
    CU_ASSERT_EQUAL(p[0], 1e-9);
    SSP_ASSERT_OK(CTX, ssp_params_read(CTX, "v.ini", text, strlen(text), both, 2, NULL, 0));
    CU_ASSERT_EQUAL(p[0], 10e-9);
    CU_ASSERT_EQUAL(p[1], 1.0);
}

/* What ssp_params_write writes reads back to the same fields, bit for bit. */
static void test_params__written_table_reads_back(void)
{
    struct target t, back;
    ssp_param_table b = {table, N, &t, 0}, bb = {table, N, &back, 0};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    SSP_ASSERT_OK(CTX, read_text(&t, "[a]\nr = 3.3 kohm\nfrac = 0.7 %\npct = 0.1\n[b]\nmode = slow\nlist = 3,5\n"));
    t.v_read = 0.1 + 0.2;
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(ssp_params_write(&b, 1, f), SSP_OK);
    fclose(f);
    CU_ASSERT_PTR_NULL(strstr(buf, "derived"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "; a resistance\nr = 3300 ohm\n"));
    memset(&back, 0, sizeof back);
    ssp_params_defaults(&bb, 1);
    SSP_ASSERT_OK(CTX, ssp_params_read(CTX, "w.ini", buf, len, &bb, 1, NULL, 0));
    CU_ASSERT_EQUAL(back.v_read, t.v_read);
    CU_ASSERT_EQUAL(back.r, t.r);
    CU_ASSERT(ssp_close_rel(back.frac, t.frac, 1e-15, 0));
    CU_ASSERT_EQUAL(back.pct, t.pct);
    CU_ASSERT_EQUAL(back.mode, 1);
    CU_ASSERT_EQUAL(back.nlist, 2);
    CU_ASSERT_EQUAL(back.list[1], 5);
    free(buf);
}

SSP_TEST_SUITE(params)
{
    SSP_ADD_SUITE("params", setup, NULL, SSP_TEST(test_params__one_unit_set_for_every_reader),
                  SSP_TEST(test_params__kinds_land_in_their_fields),
                  SSP_TEST(test_params__errors_name_file_line_and_key),
                  SSP_TEST(test_params__override_reads_like_a_file),
                  SSP_TEST(test_params__table_over_a_vector),
                  SSP_TEST(test_params__written_table_reads_back));
}
