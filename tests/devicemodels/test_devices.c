/* test_devices.c — the memristor compact models (devicemodels/) and their
 * agreement with ngspice (through plugin/ssp_spice and harness/ssp_devcurve).
 *
 * Every shipped parameter file is exercised. References are independent of
 * the code under test where possible: closed forms (the NeuroSim curve),
 * NeuroSim's published getParamA entries, the statistics of the sampled
 * parameters, and ngspice itself. Seeds are fixed; tolerances are named. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_devcurve.h"
#include "ssp_device.h"
#include "ssp_file.h"
#include "ssp_spice.h"
#include "ssp_test.h"

/* Every parameter file under devicemodels/params/. */
static const char *const all_files[] = {"vteam",       "vteam32",       "yakopcic", "biolek",
                                        "biolek_fast", "neurosim_agsi", "taox"};
#define NFILES (sizeof all_files / sizeof all_files[0])

/* C and SPICE conductances after every pulse: |dG| <= this * (Gmax - Gmin). */
static const double AGREE_FRACTION_OF_RANGE = 0.01;
/* The state may move by at most this fraction of its window over all reads. */
static const double DISTURB_FRACTION = 1e-6;
/* Number of reads in the disturb tests (fewer under valgrind, same bound). */
static const long DISTURB_READS = 10000;
static const long DISTURB_READS_VALGRIND = 200;
/* Pulse-level model against its closed form: |dG| <= this * (Gmax - Gmin). */
static const double CLOSED_FORM_FRACTION = 0.005;
/* NeuroSim getParamA(2.4) and getParamA(4.88) as printed in its table
 * (MLP+NeuroSim V3.0 formula.cpp), and the agreement we require. */
static const double NEUROSIM_A_2_4 = 0.499181;
static const double NEUROSIM_A_4_88 = 0.200303;
static const double NEUROSIM_A_TOL = 2e-6;
/* Sampled devices in the variation test (fewer under valgrind). */
static const size_t VARIATION_DEVICES = 10000;
static const size_t VARIATION_DEVICES_VALGRIND = 2000;
/* Statistical tolerances, in standard errors of the estimate. */
static const double STAT_SIGMAS = 4.0;
/* Samples per sine period and sine periods in the hysteresis test. */
static const int HYST_SAMPLES = 2000;
/* Frequencies of the hysteresis test, as multiples of the base frequency. */
static const double HYST_FREQ_STEP = 4.0;

static ssp_spice *g_spice; /* one ngspice session for the suite */

/* Under valgrind or AddressSanitizer every malloc inside libngspice is
 * intercepted and a 10,000-read transient takes minutes: the long loops run
 * shorter there, with the same bounds (the native run is the full check). */
static int under_valgrind(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#else
    return getenv("SSP_UNDER_VALGRIND") != NULL;
#endif
}

static int suite_init(void)
{
    gsl_set_error_handler_off();
    return ssp_spice_create(&g_spice, ssp_test_ctx(), NULL) == SSP_OK ? 0 : -1;
}

static int suite_clean(void)
{
    ssp_spice_destroy(&g_spice);
    return 0;
}

static ssp_device_model *load(const char *name)
{
    char rel[128], path[512];
    ssp_device_model *m = NULL;
    ssp_ctx *ctx = ssp_test_ctx();
    snprintf(rel, sizeof rel, "devicemodels/params/%s.ini", name);
    if (ssp_device_model_load(&m, ctx, ssp_test_path(path, sizeof path, rel)) != SSP_OK)
        fprintf(stderr, "\n  cannot load %s: %s\n", name, ssp_ctx_errmsg(ctx));
    return m;
}

static double range_of(const ssp_device_model *m)
{
    return ssp_device_model_gmax(m) - ssp_device_model_gmin(m);
}

/* ---- loading ---------------------------------------------------------------- */

static void test_devices__every_shipped_file_loads(void)
{
    static const char *const kinds[NFILES] = {"vteam",  "vteam",      "yakopcic",  "biolek",
                                              "biolek", "pulselevel", "pulselevel"};
    ssp_ctx *ctx = ssp_test_ctx();
    double v;
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_STRING_EQUAL(ssp_device_model_kind(m), kinds[i]);
        CU_ASSERT_STRING_EQUAL(ssp_device_model_name(m), all_files[i]);
        CU_ASSERT(ssp_device_model_gmin(m) > 0);
        CU_ASSERT(ssp_device_model_gmin(m) < ssp_device_model_gmax(m));
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_device_model_title(m), "20"));
        SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "read_voltage", &v));
        CU_ASSERT(v != 0);
        CU_ASSERT_EQUAL(ssp_device_model_param(m, ctx, "no_such_key", &v), SSP_EINVAL);
        ssp_device_model_free(&m);
        CU_ASSERT_PTR_NULL(m);
    }
    ssp_device_model_free(&(ssp_device_model *){NULL}); /* NULL is a no-op */
    ssp_device_model_free(NULL);
}

/* Every shipped model survives encode and decode (a pool job's form): the
 * same kind, name, bounds and conductance at every state; a wrong length,
 * an unknown kind and a non-finite parameter are refused. */
static void test_devices__models_encode_and_decode(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    size_t n = ssp_device_model_encoded_size();
    unsigned char *buf = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]), *d = NULL;
        ssp_device a, b;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        ssp_device_model_encode(m, buf);
        SSP_ASSERT_OK(ctx, ssp_device_model_decode(&d, ctx, buf, n));
        CU_ASSERT_STRING_EQUAL(ssp_device_model_kind(d), ssp_device_model_kind(m));
        CU_ASSERT_STRING_EQUAL(ssp_device_model_name(d), ssp_device_model_name(m));
        CU_ASSERT_STRING_EQUAL(ssp_device_model_origin(d), ssp_device_model_origin(m));
        CU_ASSERT(ssp_device_model_gmin(d) == ssp_device_model_gmin(m));
        CU_ASSERT(ssp_device_model_gmax(d) == ssp_device_model_gmax(m));
        for (int k = 0; k <= 10; k++) {
            ssp_device_init(&a, m, k / 10.0);
            ssp_device_init(&b, d, k / 10.0);
            CU_ASSERT(ssp_device_conductance(&a, 0.1) == ssp_device_conductance(&b, 0.1));
        }
        CU_ASSERT_EQUAL(ssp_device_model_decode(&(ssp_device_model *){NULL}, ctx, buf, n - 1), SSP_EINVAL);
        buf[0] = 'X';
        CU_ASSERT_EQUAL(ssp_device_model_decode(&(ssp_device_model *){NULL}, ctx, buf, n), SSP_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "unknown kind"));
        ssp_device_model_encode(m, buf);
        {
            /* Gmax (the last double) a NaN */
            double nan = NAN;
            memcpy(buf + n - sizeof nan, &nan, sizeof nan);
            CU_ASSERT_EQUAL(ssp_device_model_decode(&(ssp_device_model *){NULL}, ctx, buf, n), SSP_EINVAL);
            CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "not a valid model"));
        }
        ssp_device_model_free(&d);
        ssp_device_model_free(&m);
    }
    free(buf);
}

static void test_devices__units_and_prefixes_are_applied(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("neurosim_agsi");
    double v;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "g_min", &v));
    CU_ASSERT(ssp_close_rel(v, 3.0769e-9, 1e-12, 0)); /* "3.0769 nS" */
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "t_ltp", &v));
    CU_ASSERT(ssp_close_rel(v, 300e-6, 1e-12, 0)); /* "300 us" */
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "c2c_range", &v));
    CU_ASSERT(ssp_close_rel(v, 0.035, 1e-12, 0)); /* "3.5 %" */
    ssp_device_model_free(&m);
    m = load("vteam");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "r_off", &v));
    CU_ASSERT(ssp_close_rel(v, 1000, 1e-12, 0)); /* "1 kohm" */
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "k_off", &v));
    CU_ASSERT(ssp_close_rel(v, 5e-4, 1e-12, 0)); /* "0.5 mm/s" */
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "w_c", &v));
    CU_ASSERT(ssp_close_rel(v, 107e-12, 1e-12, 0)); /* "107 pm" */
    ssp_device_model_free(&m);
}

/* A valid pulse-level file to break one line at a time. */
static const char good_text[] =
    "[device]\nmodel = pulselevel\nname = t\n"
    "[parameters]\ng_min = 1 uS\ng_max = 10 uS\nn_ltp = 10\nn_ltd = 10\nnl_ltp = 1\n"
    "nl_ltd = -1\nv_ltp = 1 V\nv_ltd = -1 V\nt_ltp = 10 ns\nt_ltd = 10 ns\n"
    "[programming]\nread_voltage = 0.1 V\nread_width = 10 ns\nset_amplitude = 2 V\n"
    "set_width = 10 ns\nreset_amplitude = -2 V\nreset_width = 10 ns\npulse_edge = 1 ns\n";

/* good_text with the line starting "from" replaced by "to" ("" deletes it). */
static char *edit(const char *from, const char *to)
{
    const char *at = strstr(good_text, from), *eol;
    size_t n = strlen(good_text) + strlen(to) + 2;
    char *s = malloc(n);
    if (!s || !at) {
        free(s);
        return NULL;
    }
    eol = strchr(at, '\n');
    snprintf(s, n, "%.*s%s%s%s", (int)(at - good_text), good_text, to, *to ? "\n" : "", eol + 1);
    return s;
}

/* Expect text to be rejected with SSP_ECONFIG and a message containing
 * every one of the given fragments. */
static void expect_rejected(const char *text, const char *f1, const char *f2, const char *f3)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    int rc;
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    rc = ssp_device_model_parse(&m, ctx, text, "bad.ini");
    CU_ASSERT_EQUAL(rc, SSP_ECONFIG);
    CU_ASSERT_PTR_NULL(m);
    if (rc != SSP_ECONFIG) return;
    if (!strstr(ssp_ctx_errmsg(ctx), f1) || !strstr(ssp_ctx_errmsg(ctx), f2) ||
        !strstr(ssp_ctx_errmsg(ctx), f3))
        fprintf(stderr, "\n  message was: %s\n", ssp_ctx_errmsg(ctx));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "bad.ini"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), f1));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), f2));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), f3));
}

static void reject_edit(const char *from, const char *to, const char *f1, const char *f2,
                        const char *f3)
{
    char *s = edit(from, to);
    expect_rejected(s, f1, f2, f3);
    free(s);
}

static void test_devices__bad_files_are_rejected_with_reasons(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    /* the base text itself is fine */
    SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, good_text, "good.ini"));
    ssp_device_model_free(&m);

    /* the four the issue names */
    reject_edit("g_max", "", "g_max", "missing key", "[parameters]");
    reject_edit("read_width", "", "read_width", "missing key", "[programming]");
    reject_edit("g_min", "g_min = -1 uS", "g_min", "must be > 0", "-1e-06");
    reject_edit("g_max", "g_max = 1 uS", "g_max", "Gmin >= Gmax", "g_min");
    reject_edit("t_ltp", "t_ltp = 10 furlongs", "t_ltp", "unknown unit 'furlongs'", "a time");
    {
        /* a VTEAM file, r_on filled in */
        static const char vteam_fmt[] =
            "[device]\nmodel = vteam\n[parameters]\nr_on = %s\nr_off = 1 kohm\n"
            "iv = linear\nv_on = -0.2 V\nv_off = 0.02 V\nk_on = -10 m/s\nk_off = 1 mm/s\n"
            "alpha_on = 3\nalpha_off = 1\nw_on = 0 m\nw_off = 3 nm\na_on = 0 m\na_off = 3 nm\n"
            "w_c = 100 pm\n[programming]\nread_voltage = 10 mV\nread_width = 1 ns\n"
            "set_amplitude = -0.3 V\nset_width = 1 ns\nreset_amplitude = 0.3 V\n"
            "reset_width = 1 ns\npulse_edge = 1 ns\n";
        char text[sizeof vteam_fmt + 32];
        snprintf(text, sizeof text, vteam_fmt, "50 ohm");
        SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, text, "good.ini"));
        ssp_device_model_free(&m);
        snprintf(text, sizeof text, vteam_fmt, "-50 ohm"); /* negative resistance */
        expect_rejected(text, "r_on", "must be > 0", "ohm");
        snprintf(text, sizeof text, vteam_fmt, "5 kohm"); /* r_on > r_off: Gmin >= Gmax */
        expect_rejected(text, "r_off", "Gmin >= Gmax", "r_on");
        snprintf(text, sizeof text, vteam_fmt, "50 Pohm"); /* unknown prefix = unknown unit */
        expect_rejected(text, "r_on", "unknown unit 'Pohm'", "resistance");
    }
    /* and the rest of the validator */
    reject_edit("g_min", "g_min = 1 uV", "g_min", "'uV' is a voltage (V)", "expected a conductance");
    reject_edit("g_min", "g_min = 1", "g_min", "missing unit", "conductance");
    reject_edit("g_min", "g_min = lots", "g_min", "finite number", "lots");
    reject_edit("nl_ltp", "nl_ltp = 1 V", "nl_ltp", "dimensionless", "voltage");
    reject_edit("n_ltp", "n_ltp = 10.5", "n_ltp", "whole number", "10.5");
    reject_edit("nl_ltp", "nl_ltp = 12", "nl_ltp", "must be <= 9", "12");
    reject_edit("g_min", "g_min = 1 uS\nfoo = 3", "foo", "unknown key", "pulselevel");
    reject_edit("g_min", "g_min = 1 uS\ng_min = 2 uS", "[parameters] g_min given twice", "(first on line",
                "bad.ini:");
    {
        /* an over-long comment is refused at its own line, not read as a
         * second key (libinih splits lines past its buffer) */
        char line[260], *s;
        memset(line, 'x', sizeof line);
        memcpy(line, "; ", 2);
        memcpy(line + 240, "g_min = 2 uS", 13);
        s = edit("g_min", line);
        expect_rejected(s, "bad.ini:", "line of 252 characters", "at most 198");
        free(s);
    }
    reject_edit("model", "model = hp", "model = hp", "unknown model", "vteam");
    reject_edit("model", "", "model", "missing key", "[device]");
    reject_edit("name", "name = 9lives", "name", "not a SPICE name", "9lives");
    reject_edit("set_amplitude", "set_amplitude = -2 V", "set_amplitude", "does not raise", "-2");
    reject_edit("reset_amplitude", "reset_amplitude = 0.5 V", "reset_amplitude",
                "does not lower", "0.5");
    reject_edit("read_voltage", "read_voltage = 0 V", "read_voltage", "must not be 0", "0 V");
    reject_edit("pulse_edge", "pulse_edge = 1 ns\n[variation]\nstuck_on = 60 %\nstuck_off = 50 %",
                "stuck_on + stuck_off", "more than 100 %", "[variation]");
    reject_edit("pulse_edge", "pulse_edge = 1 ns\n[variation]\nd2d_gmin = 150 %", "d2d_gmin",
                "must be <= 100 %", "150");
    reject_edit("g_min", "this line is not ini", "bad.ini:", "not valid INI syntax", "");
    /* a missing file is an I/O error naming the path */
    CU_ASSERT_EQUAL(ssp_device_model_load(&m, ctx, "/nonexistent/dev.ini"), SSP_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "/nonexistent/dev.ini"));
    CU_ASSERT_PTR_NULL(m);
}

/* ---- the state equation ------------------------------------------------------ */

struct sine {
    double amp, freq;
};

static double sine_wave(double t, void *payload)
{
    const struct sine *s = payload;
    return s->amp * sin(2.0 * M_PI * s->freq * t);
}

/* Area of the I-V loop over the second period of a sine drive, checking on
 * the way that the loop is pinched: I = 0 at V = 0 and |I| <= Gmax' |V|. */
static double loop_area(const ssp_device_model *m, ssp_device_work *w, double amp, double f,
                        int *pinched)
{
    struct sine s = {amp, f};
    ssp_device d;
    double period = 1.0 / f, dt = period / HYST_SAMPLES, area = 0, v_prev = 0, i_prev = 0;
    double gbound;
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_init(&d, m, 0.5);
    /* the largest chord conductance I/V over the drive range, at the ON end */
    {
        ssp_device on;
        ssp_device_init(&on, m, 1.0);
        gbound = fmax(ssp_device_conductance(&on, amp), ssp_device_conductance(&on, -amp));
        gbound = fmax(gbound, ssp_device_model_gmax(m)) * (1 + 1e-9);
    }
    for (int k = 0; k <= 2 * HYST_SAMPLES; k++) {
        double t = k * dt, v = sine_wave(t, &s), i;
        if (k > 0) SSP_ASSERT_OK(ctx, ssp_device_evolve(&d, w, sine_wave, &s, t - dt, t));
        i = ssp_device_current(&d, v);
        if (ssp_device_current(&d, 0.0) != 0.0) *pinched = 0;
        if (fabs(i) > gbound * fabs(v)) *pinched = 0;
        if (k > HYST_SAMPLES) area += 0.5 * (i + i_prev) * (v - v_prev);
        v_prev = v;
        i_prev = i;
    }
    return fabs(area);
}

static void test_devices__pinched_hysteresis_shrinks_with_frequency(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_work *w = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        double sa, sw, ra, rw, amp, f0, a[3];
        int pinched = 1;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        ssp_device_model_pulse(m, SSP_DEVICE_SET, &sa, &sw);
        ssp_device_model_pulse(m, SSP_DEVICE_RESET, &ra, &rw);
        /* the milder of the two default pulses, so neither polarity saturates
         * the state within a half period of 5 default pulse widths */
        amp = fmin(fabs(sa), fabs(ra));
        f0 = 1.0 / (10.0 * fmax(sw, rw));
        for (int k = 0; k < 3; k++) a[k] = loop_area(m, w, amp, f0 * pow(HYST_FREQ_STEP, k), &pinched);
        if (!(a[0] > a[1] && a[1] > a[2] && a[2] > 0))
            fprintf(stderr, "\n  %s: loop areas %g %g %g\n", all_files[i], a[0], a[1], a[2]);
        CU_ASSERT(pinched);
        CU_ASSERT(a[0] > a[1]);
        CU_ASSERT(a[1] > a[2]);
        CU_ASSERT(a[2] > 0);
        ssp_device_model_free(&m);
    }
    ssp_device_work_free(&w);
}

static void test_devices__reads_do_not_disturb_in_c(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_work *w = NULL;
    long n = under_valgrind() ? DISTURB_READS_VALGRIND : DISTURB_READS;
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        ssp_device d;
        double x0, lo, hi;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        ssp_device_init(&d, m, 0.5);
        lo = d.p[0], hi = d.p[1]; /* x_lo, x_hi: the first two parameters */
        x0 = d.x;
        SSP_ASSERT_OK(ctx, ssp_device_read_disturb(&d, w, n));
        if (!(fabs(d.x - x0) < DISTURB_FRACTION * (hi - lo)))
            fprintf(stderr, "\n  %s: state moved by %g\n", all_files[i], d.x - x0);
        CU_ASSERT(fabs(d.x - x0) < DISTURB_FRACTION * (hi - lo));
        ssp_device_model_free(&m);
    }
    ssp_device_work_free(&w);
}

static char *read_netlist(const ssp_device *d, long reads, double *tstop, double *tmax)
{
    ssp_ctx *ctx = ssp_test_ctx();
    const ssp_device_model *m = d->model;
    double e = ssp_device_model_edge(m), vr = ssp_device_model_read_voltage(m);
    double half = 0.5 * ssp_device_model_read_width(m), period = 2 * (3 * e + half);
    size_t need = 0;
    char *sub, *inst, *text;
    size_t nsub, ninst, n;
    ssp_device_spice_subckt(m, ctx, NULL, 0, &nsub);
    ssp_device_spice_instance(d, ctx, "dut", "a", "0", "s1", NULL, 0, &ninst);
    sub = malloc(nsub + 1);
    inst = malloc(ninst + 1);
    n = nsub + ninst + 1024;
    text = malloc(n);
    if (!sub || !inst || !text) goto fail;
    if (ssp_device_spice_subckt(m, ctx, sub, nsub + 1, &need) ||
        ssp_device_spice_instance(d, ctx, "dut", "a", "0", "s1", inst, ninst + 1, &need))
        goto fail;
    /* a read = +vr for half the read width, then -vr: two pulse trains in series */
    snprintf(text, n,
             "* read disturb\n%s"
             "vpos a b pulse(0 %.17g %.17g %.17g %.17g %.17g %.17g)\n"
             "vneg b 0 pulse(0 %.17g %.17g %.17g %.17g %.17g %.17g)\n"
             "%s.save v(s1)\n.end\n",
             sub, vr, 0.0, e, e, half, period, -vr, 0.5 * period, e, e, half, period, inst);
    *tstop = (double)reads * period;
    *tmax = 0.5 * period;
    free(sub);
    free(inst);
    return text;
fail:
    free(sub);
    free(inst);
    free(text);
    return NULL;
}

static void test_devices__reads_do_not_disturb_in_ngspice(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    long n = under_valgrind() ? DISTURB_READS_VALGRIND : DISTURB_READS;
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        ssp_device d;
        double tstop = 0, tmax = 0, x_end = -1, lo, hi, *xs = NULL;
        size_t nx = 0;
        char *text;
        int rc;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        ssp_device_init(&d, m, 0.5);
        lo = d.p[0], hi = d.p[1];
        text = read_netlist(&d, n, &tstop, &tmax);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        SSP_ASSERT_OK(ctx, ssp_spice_load_text(g_spice, text));
        rc = ssp_devcurve_tran(g_spice, ctx, tmax, tstop);
        SSP_ASSERT_OK(ctx, rc);
        SSP_ASSERT_OK(ctx, ssp_spice_vec(g_spice, "v(s1)", &xs, &nx));
        x_end = xs[nx - 1];
        if (!(fabs(x_end - d.x) < DISTURB_FRACTION * (hi - lo)))
            fprintf(stderr, "\n  %s: ngspice state moved by %g over %ld reads\n", all_files[i],
                    x_end - d.x, n);
        CU_ASSERT(fabs(x_end - d.x) < DISTURB_FRACTION * (hi - lo));
        ssp_spice_unload(g_spice);
        free(xs);
        free(text);
        ssp_device_model_free(&m);
    }
}

static void test_devices__c_and_ngspice_agree_on_20_set_20_reset(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_work *w = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        ssp_device d, dc;
        double amp[40], width[40], gc[40], gs[40], worst = 0, moved;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        for (int k = 0; k < 40; k++)
            ssp_device_model_pulse(m, k < 20 ? SSP_DEVICE_SET : SSP_DEVICE_RESET, &amp[k],
                                   &width[k]);
        ssp_device_init(&d, m, ssp_device_model_x_init(m));
        dc = d;
        SSP_ASSERT_OK(ctx, ssp_devcurve_c(&dc, w, NULL, amp, width, 40, gc, NULL));
        SSP_ASSERT_OK(ctx, ssp_devcurve_spice(g_spice, &d, ctx, amp, width, 40, gs, NULL));
        for (int k = 0; k < 40; k++) worst = fmax(worst, fabs(gc[k] - gs[k]));
        /* the experiment must actually program the device */
        moved = (gc[19] - ssp_device_model_gmin(m)) / range_of(m);
        if (!(worst <= AGREE_FRACTION_OF_RANGE * range_of(m)))
            fprintf(stderr, "\n  %s: C and ngspice differ by %.3g %% of the range\n",
                    all_files[i], 100 * worst / range_of(m));
        CU_ASSERT(worst <= AGREE_FRACTION_OF_RANGE * range_of(m));
        CU_ASSERT(moved > 0.05);
        CU_ASSERT(gc[39] < gc[19]);
        ssp_device_model_free(&m);
    }
    ssp_device_work_free(&w);
}

/* ---- the pulse-level model ---------------------------------------------------- */

static void test_devices__neurosim_nonlinearity_maps_to_getparama(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("neurosim_agsi");
    double a, n;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "a_ltp", &a));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "n_ltp", &n));
    CU_ASSERT(fabs(a / n - NEUROSIM_A_2_4) < NEUROSIM_A_TOL);
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "a_ltd", &a));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "n_ltd", &n));
    CU_ASSERT(fabs(a / n + NEUROSIM_A_4_88) < NEUROSIM_A_TOL); /* negative label: negative A */
    ssp_device_model_free(&m);
}

/* NeuroSim's closed form, G(p) = B (1 - exp(-p/A)) + Gmin. */
static double neurosim_g(double p, double A, double n, double gmin, double gmax)
{
    double B = (gmax - gmin) / (1 - exp(-n / A));
    return B * (1 - exp(-p / A)) + gmin;
}

static void test_devices__pulselevel_agsi_follows_its_closed_form(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("neurosim_agsi");
    ssp_device_work *w = NULL;
    ssp_device d;
    double a_ltp, a_ltd, gmin, gmax, amp, width, vr, worst = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "a_ltp", &a_ltp));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "a_ltd", &a_ltd));
    gmin = ssp_device_model_gmin(m);
    gmax = ssp_device_model_gmax(m);
    vr = ssp_device_model_read_voltage(m);
    /* LTP: 97 pulses from Gmin */
    ssp_device_init(&d, m, 0.0);
    ssp_device_model_pulse(m, SSP_DEVICE_SET, &amp, &width);
    for (int p = 1; p <= 97; p++) {
        SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, NULL, amp, width));
        worst = fmax(worst, fabs(ssp_device_conductance(&d, vr) - neurosim_g(p, a_ltp, 97, gmin, gmax)));
    }
    CU_ASSERT(worst <= CLOSED_FORM_FRACTION * (gmax - gmin));
    CU_ASSERT(fabs(ssp_device_conductance(&d, vr) - gmax) <= CLOSED_FORM_FRACTION * (gmax - gmin));
    /* LTD: 100 pulses from Gmax; NeuroSim counts p down from 100 */
    worst = 0;
    ssp_device_init(&d, m, 1.0);
    ssp_device_model_pulse(m, SSP_DEVICE_RESET, &amp, &width);
    for (int q = 1; q <= 100; q++) {
        SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, NULL, amp, width));
        worst = fmax(worst, fabs(ssp_device_conductance(&d, vr) -
                                 neurosim_g(100 - q, a_ltd, 100, gmin, gmax)));
    }
    CU_ASSERT(worst <= CLOSED_FORM_FRACTION * (gmax - gmin));
    CU_ASSERT(fabs(ssp_device_conductance(&d, vr) - gmin) <= CLOSED_FORM_FRACTION * (gmax - gmin));
    ssp_device_work_free(&w);
    ssp_device_model_free(&m);
}

/* ---- the model inverse and level tables ----------------------------------------- */

static void test_devices__pulse_count_inverse_matches_stepping(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_work *w = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        ssp_device d;
        double amp, width, gmin, gmax, ga, gb, n, g_prev, g, vr;
        int k;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        ssp_device_init(&d, m, 0.0);
        gmin = ssp_device_gmin(&d);
        gmax = ssp_device_gmax(&d);
        vr = ssp_device_model_read_voltage(m);
        ssp_device_model_pulse(m, SSP_DEVICE_SET, &amp, &width);
        ga = gmin + 0.02 * (gmax - gmin);
        gb = gmin + 0.10 * (gmax - gmin);
        SSP_ASSERT_OK(ctx, ssp_device_pulses_between(&d, w, ctx, ga, gb, amp, width, &n));
        /* step the same pulses on a copy: the target is crossed in pulse ceil(n) */
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&d, ctx, ga));
        g_prev = ga;
        for (k = 1; k < 100000; k++) {
            SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, NULL, amp, width));
            g = ssp_device_conductance(&d, vr);
            if (g >= gb) break;
            g_prev = g;
        }
        if (!(n > k - 1 - 1e-6 && n <= k + 1e-6))
            fprintf(stderr, "\n  %s: inverse %g pulses, stepping crossed in pulse %d\n",
                    all_files[i], n, k);
        CU_ASSERT(n > k - 1 - 1e-6 && n <= k + 1e-6);
        CU_ASSERT(g >= gb && g_prev < gb);
        /* the wrong polarity cannot get there; nor can a target out of range */
        ssp_device_init(&d, m, 0.0);
        ssp_device_model_pulse(m, SSP_DEVICE_RESET, &amp, &width);
        CU_ASSERT_EQUAL(ssp_device_pulses_between(&d, w, ctx, ga, gb, amp, width, &n),
                        SSP_EUNREACHABLE);
        CU_ASSERT_EQUAL(ssp_device_pulses_between(&d, w, ctx, ga, 2 * gmax, amp, width, &n),
                        SSP_ERANGE);
        SSP_ASSERT_OK(ctx, ssp_device_pulses_between(&d, w, ctx, ga, ga, amp, width, &n));
        CU_ASSERT_EQUAL(n, 0.0);
        ssp_device_model_free(&m);
    }
    ssp_device_work_free(&w);
}

static void test_devices__neurosim_inverse_is_97_pulses_full_range(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("neurosim_agsi");
    ssp_device_work *w = NULL;
    ssp_device d;
    double amp, width, n;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    ssp_device_init(&d, m, 0.0);
    ssp_device_model_pulse(m, SSP_DEVICE_SET, &amp, &width);
    SSP_ASSERT_OK(ctx, ssp_device_pulses_between(&d, w, ctx, ssp_device_gmin(&d),
                                                 ssp_device_gmax(&d), amp, width, &n));
    CU_ASSERT(fabs(n - 97) < 0.01); /* edges add 0.0025 % of a pulse each */
    ssp_device_model_pulse(m, SSP_DEVICE_RESET, &amp, &width);
    SSP_ASSERT_OK(ctx, ssp_device_pulses_between(&d, w, ctx, ssp_device_gmax(&d),
                                                 ssp_device_gmin(&d), amp, width, &n));
    CU_ASSERT(fabs(n - 100) < 0.01);
    /* a stuck device cannot be programmed */
    ssp_device_stick(&d, SSP_DEVICE_STUCK_OFF);
    CU_ASSERT_EQUAL(ssp_device_pulses_between(&d, w, ctx, ssp_device_gmax(&d),
                                              ssp_device_gmin(&d), amp, width, &n),
                    SSP_EUNREACHABLE);
    ssp_device_work_free(&w);
    ssp_device_model_free(&m);
}

static void test_devices__level_table_spans_range_with_disjoint_bands(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("vteam32");
    ssp_device_levels *lv = NULL;
    ssp_device d;
    double vr;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    vr = ssp_device_model_read_voltage(m);
    ssp_device_init(&d, m, 0.0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &d, 32, 0.5));
    CU_ASSERT_EQUAL(lv->n, 32);
    CU_ASSERT_EQUAL(lv->g[0], ssp_device_gmin(&d));
    CU_ASSERT_EQUAL(lv->g[31], ssp_device_gmax(&d));
    for (size_t i = 0; i < 32; i++) {
        ssp_device t = d;
        t.x = lv->x[i];
        CU_ASSERT(ssp_close_rel(ssp_device_conductance(&t, vr), lv->g[i], 1e-9, 0));
        CU_ASSERT(lv->lo[i] < lv->g[i] && lv->g[i] < lv->hi[i]);
        if (i > 0) CU_ASSERT(lv->hi[i - 1] < lv->lo[i]);
        CU_ASSERT_EQUAL(ssp_device_levels_find(lv, lv->g[i]), (long)i);
    }
    CU_ASSERT_EQUAL(ssp_device_levels_find(lv, 0.5 * (lv->g[3] + lv->g[4])), -1);
    ssp_device_levels_free(&lv);
    CU_ASSERT_PTR_NULL(lv);
    ssp_device_levels_free(&lv); /* NULL is a no-op */
    CU_ASSERT_EQUAL(ssp_device_levels_alloc(&lv, ctx, &d, 1, 0.5), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_device_levels_alloc(&lv, ctx, &d, 32, 0.0), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_device_levels_alloc(&lv, ctx, &d, 32, 1.5), SSP_EINVAL);
    CU_ASSERT_PTR_NULL(lv);
    ssp_device_model_free(&m);
}

static void test_devices__set_conductance_round_trips(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        ssp_device d;
        double g, vr;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        vr = ssp_device_model_read_voltage(m);
        ssp_device_init(&d, m, 0.0);
        g = ssp_device_gmin(&d) + 0.37 * (ssp_device_gmax(&d) - ssp_device_gmin(&d));
        SSP_ASSERT_OK(ctx, ssp_device_set_conductance(&d, ctx, g));
        CU_ASSERT(ssp_close_rel(ssp_device_conductance(&d, vr), g, 1e-9, 0));
        CU_ASSERT_EQUAL(ssp_device_set_conductance(&d, ctx, 0.5 * ssp_device_gmin(&d)), SSP_ERANGE);
        d.stuck = SSP_DEVICE_STUCK_ON;
        CU_ASSERT_EQUAL(ssp_device_set_conductance(&d, ctx, g), SSP_ESTATE);
        ssp_device_model_free(&m);
    }
}

static void test_devices__cell_iv_matches_the_device_current(void)
{
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        static const double volts[] = {-0.3, -0.05, 0.0, 0.02, 0.1, 0.25};
        ssp_device d;
        ssp_cell_iv iv;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        ssp_device_init(&d, m, 0.63);
        ssp_device_cell_iv(&d, &iv);
        for (size_t k = 0; k < sizeof volts / sizeof volts[0]; k++)
            CU_ASSERT(ssp_close_rel(ssp_cell_iv_current(&iv, volts[k], NULL),
                                    ssp_device_current(&d, volts[k]), 1e-12, 1e-30));
        ssp_device_model_free(&m);
    }
}

/* ---- variation ------------------------------------------------------------------ */

/* Sample devices from one file and compare the observed spreads and stuck
 * fractions with the file's parameters (zero spreads must come out zero). */
static void check_variation(const char *file)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load(file);
    size_t n = under_valgrind() ? VARIATION_DEVICES_VALGRIND : VARIATION_DEVICES, i, k = 0;
    ssp_device *dev = calloc(n, sizeof *dev), *again = calloc(n, sizeof *again);
    double *lgmin = malloc(n * sizeof *lgmin), *lgmax = malloc(n * sizeof *lgmax);
    double *lrate = malloc(n * sizeof *lrate);
    double s_gmin, s_gmax, s_rate, p_on, p_off, sd, f_on, f_off;
    size_t n_on = 0, n_off = 0;
    gsl_rng *rng = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_FATAL(dev && again && lgmin && lgmax && lrate);
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "d2d_gmin", &s_gmin));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "d2d_gmax", &s_gmax));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "d2d_rate", &s_rate));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "stuck_on", &p_on));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "stuck_off", &p_off));
    SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng, ctx, 20240611UL));
    for (i = 0; i < n; i++) {
        SSP_ASSERT_OK(ctx, ssp_device_sample(&dev[i], ctx, m, rng));
        lgmin[i] = log(ssp_device_gmin(&dev[i]) / ssp_device_model_gmin(m));
        lgmax[i] = log(ssp_device_gmax(&dev[i]) / ssp_device_model_gmax(m));
        if (dev[i].stuck == SSP_DEVICE_STUCK_ON) {
            n_on++;
            CU_ASSERT_EQUAL(ssp_device_conductance(&dev[i], ssp_device_model_read_voltage(m)),
                            ssp_device_gmax(&dev[i]));
        } else if (dev[i].stuck == SSP_DEVICE_STUCK_OFF) {
            n_off++;
            CU_ASSERT_EQUAL(ssp_device_conductance(&dev[i], ssp_device_model_read_voltage(m)),
                            ssp_device_gmin(&dev[i]));
        } else
            lrate[k++] = log(ssp_device_rate_factor(&dev[i]));
    }
    /* lognormal: log factors have mean 0 and the file's sigma; the standard
     * error of a sample sd is about sigma / sqrt(2 n) */
    sd = gsl_stats_sd(lgmin, 1, n);
    CU_ASSERT(fabs(sd - s_gmin) <= STAT_SIGMAS * s_gmin / sqrt(2.0 * (double)n));
    CU_ASSERT(fabs(gsl_stats_mean(lgmin, 1, n)) <= STAT_SIGMAS * s_gmin / sqrt((double)n));
    sd = gsl_stats_sd(lgmax, 1, n);
    CU_ASSERT(fabs(sd - s_gmax) <= STAT_SIGMAS * s_gmax / sqrt(2.0 * (double)n));
    CU_ASSERT(fabs(gsl_stats_mean(lgmax, 1, n)) <= STAT_SIGMAS * s_gmax / sqrt((double)n));
    sd = gsl_stats_sd(lrate, 1, k);
    CU_ASSERT(fabs(sd - s_rate) <= STAT_SIGMAS * s_rate / sqrt(2.0 * (double)k));
    /* stuck fractions: binomial standard error */
    f_on = (double)n_on / (double)n;
    f_off = (double)n_off / (double)n;
    CU_ASSERT(fabs(f_on - p_on) <= STAT_SIGMAS * sqrt(p_on * (1 - p_on) / (double)n));
    CU_ASSERT(fabs(f_off - p_off) <= STAT_SIGMAS * sqrt(p_off * (1 - p_off) / (double)n));
    CU_ASSERT(p_on == 0 ? n_on == 0 : n_on > 0);
    CU_ASSERT(p_off == 0 ? n_off == 0 : n_off > 0);
    /* the same seed gives the same devices; another seed does not */
    gsl_rng_set(rng, 20240611UL);
    for (i = 0; i < n; i++) SSP_ASSERT_OK(ctx, ssp_device_sample(&again[i], ctx, m, rng));
    CU_ASSERT_EQUAL(memcmp(dev, again, n * sizeof *dev), 0);
    gsl_rng_set(rng, 20240612UL);
    SSP_ASSERT_OK(ctx, ssp_device_sample(&again[0], ctx, m, rng));
    if (s_gmin > 0 || s_gmax > 0 || s_rate > 0) /* files without spread give equal devices */
        CU_ASSERT_NOT_EQUAL(memcmp(&dev[0], &again[0], sizeof *dev), 0);
    /* a NULL rng ("no noise") gives the nominal device, even with spread in the file */
    {
        ssp_device nominal;
        ssp_device_init(&nominal, m, ssp_device_model_x_init(m));
        SSP_ASSERT_OK(ctx, ssp_device_sample(&again[0], ctx, m, NULL));
        CU_ASSERT_EQUAL(memcmp(&nominal, &again[0], sizeof nominal), 0);
        CU_ASSERT_EQUAL(again[0].stuck, SSP_DEVICE_FREE);
    }
    ssp_device_rng_free(&rng);
    CU_ASSERT_PTR_NULL(rng);
    ssp_device_rng_free(&rng);
    free(dev);
    free(again);
    free(lgmin);
    free(lgmax);
    free(lrate);
    ssp_device_model_free(&m);
}

static void test_devices__variation_and_stuck_fractions_match_parameters(void)
{
    for (size_t i = 0; i < NFILES; i++) check_variation(all_files[i]);
}

/* Devices that differ from the nominal one (d2d-varied, stuck) must behave
 * the same in ngspice, through their instance lines, as in C. */
static void test_devices__varied_and_stuck_instances_agree_in_ngspice(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_work *w = NULL;
    gsl_rng *rng = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng, ctx, 99UL));
    for (size_t i = 0; i < NFILES; i++) {
        ssp_device_model *m = load(all_files[i]);
        ssp_device d, dc;
        double amp[8], width[8], gc[8], gs[8], worst = 0;
        int k;
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        for (k = 0; k < 8; k++)
            ssp_device_model_pulse(m, k < 4 ? SSP_DEVICE_SET : SSP_DEVICE_RESET, &amp[k], &width[k]);
        do
            SSP_ASSERT_OK(ctx, ssp_device_sample(&d, ctx, m, rng));
        while (d.stuck != SSP_DEVICE_FREE);
        dc = d;
        SSP_ASSERT_OK(ctx, ssp_devcurve_c(&dc, w, NULL, amp, width, 8, gc, NULL));
        SSP_ASSERT_OK(ctx, ssp_devcurve_spice(g_spice, &d, ctx, amp, width, 8, gs, NULL));
        for (k = 0; k < 8; k++) worst = fmax(worst, fabs(gc[k] - gs[k]));
        CU_ASSERT(worst <= AGREE_FRACTION_OF_RANGE * range_of(m));
        CU_ASSERT(gc[3] > ssp_device_gmin(&d)); /* it did program */
        /* stuck ON: no pulse moves it, in either simulator */
        ssp_device_stick(&d, SSP_DEVICE_STUCK_ON);
        dc = d;
        SSP_ASSERT_OK(ctx, ssp_devcurve_c(&dc, w, NULL, amp, width, 8, gc, NULL));
        SSP_ASSERT_OK(ctx, ssp_devcurve_spice(g_spice, &d, ctx, amp, width, 8, gs, NULL));
        for (k = 0; k < 8; k++) {
            CU_ASSERT_EQUAL(gc[k], ssp_device_gmax(&d));
            CU_ASSERT(fabs(gs[k] - gc[k]) <= 1e-6 * range_of(m));
        }
        ssp_device_model_free(&m);
    }
    ssp_device_rng_free(&rng);
    ssp_device_work_free(&w);
}

static void test_devices__cycle_to_cycle_and_read_noise_match_parameters(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("vteam32");
    ssp_device_work *w = NULL;
    gsl_rng *rng = NULL;
    size_t n = under_valgrind() ? 500 : 4000, i;
    double *dx = malloc(n * sizeof *dx), *gr = malloc(n * sizeof *gr);
    double sigma, amp, width, x_nominal, read_sigma, g0;
    ssp_device d;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_FATAL(dx && gr);
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng, ctx, 7UL));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "c2c_range", &sigma));
    SSP_ASSERT_OK(ctx, ssp_device_model_param(m, ctx, "read_noise", &read_sigma));
    ssp_device_model_pulse(m, SSP_DEVICE_SET, &amp, &width);
    ssp_device_init(&d, m, 0.5);
    SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, NULL, amp, width));
    x_nominal = d.x;
    for (i = 0; i < n; i++) {
        ssp_device_init(&d, m, 0.5);
        SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, rng, amp, width));
        dx[i] = d.x - x_nominal; /* the window is [0, 1]: sigma is in state units */
    }
    CU_ASSERT(fabs(gsl_stats_sd(dx, 1, n) - sigma) <= STAT_SIGMAS * sigma / sqrt(2.0 * (double)n));
    CU_ASSERT(fabs(gsl_stats_mean(dx, 1, n)) <= STAT_SIGMAS * sigma / sqrt((double)n));
    /* a pulse below threshold programs nothing and draws no noise */
    ssp_device_init(&d, m, 0.5);
    SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, rng, 0.5 * amp, width));
    CU_ASSERT_EQUAL(d.x, 0.5);
    /* reads */
    g0 = ssp_device_conductance(&d, ssp_device_model_read_voltage(m));
    for (i = 0; i < n; i++) SSP_ASSERT_OK(ctx, ssp_device_read(&d, rng, &gr[i]));
    CU_ASSERT(fabs(gsl_stats_sd(gr, 1, n) / g0 - read_sigma) <=
              STAT_SIGMAS * read_sigma / sqrt(2.0 * (double)n));
    SSP_ASSERT_OK(ctx, ssp_device_read(&d, NULL, &gr[0]));
    CU_ASSERT_EQUAL(gr[0], g0);
    CU_ASSERT_EQUAL(d.x, 0.5);
    free(dx);
    free(gr);
    ssp_device_rng_free(&rng);
    ssp_device_work_free(&w);
    ssp_device_work_free(&w); /* NULL is a no-op */
    ssp_device_model_free(&m);
}

static void test_devices__stuck_devices_do_not_move(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("vteam32");
    ssp_device_work *w = NULL;
    ssp_device d;
    double amp, width;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    ssp_device_init(&d, m, 0.5);
    ssp_device_stick(&d, SSP_DEVICE_STUCK_OFF);
    CU_ASSERT_EQUAL(d.x, 0.0);
    CU_ASSERT_EQUAL(ssp_device_rate_factor(&d), 0.0);
    ssp_device_model_pulse(m, SSP_DEVICE_SET, &amp, &width);
    for (int k = 0; k < 10; k++) SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, NULL, amp, width));
    CU_ASSERT_EQUAL(d.x, 0.0);
    ssp_device_stick(&d, SSP_DEVICE_STUCK_ON);
    CU_ASSERT_EQUAL(d.x, 1.0);
    for (int k = 0; k < 10; k++) SSP_ASSERT_OK(ctx, ssp_device_pulse(&d, w, NULL, -amp, width));
    CU_ASSERT_EQUAL(d.x, 1.0);
    CU_ASSERT_EQUAL(ssp_device_pulse(&d, w, NULL, amp, 0.0), SSP_EINVAL);
    ssp_device_work_free(&w);
    ssp_device_model_free(&m);
}

static double nan_wave(double t, void *payload)
{
    (void)t;
    (void)payload;
    return NAN;
}

static void test_devices__integration_and_argument_errors_are_reported(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = load("vteam32");
    ssp_device_work *w = NULL;
    ssp_device d;
    double amp[1] = {-1}, width[1] = {0}, g[1];
    char *text = NULL;
    double tstop, tmax, tr[1];
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    ssp_device_init(&d, m, 0.5);
    /* a drive the state equation cannot digest */
    CU_ASSERT_EQUAL(ssp_device_evolve(&d, w, nan_wave, NULL, 0, 1e-9), SSP_ECONVERGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "state integration failed"));
    CU_ASSERT_EQUAL(d.x, 0.5);
    CU_ASSERT_EQUAL(ssp_device_evolve(&d, w, nan_wave, NULL, 1e-9, 0), SSP_EINVAL);
    SSP_ASSERT_OK(ctx, ssp_device_evolve(&d, w, nan_wave, NULL, 1e-9, 1e-9));
    /* pulse responses need pulses of positive width */
    CU_ASSERT_EQUAL(ssp_devcurve_netlist(&d, ctx, amp, width, 1, &text, &tstop, &tmax, tr),
                    SSP_EINVAL);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(ssp_devcurve_netlist(&d, ctx, amp, width, 0, &text, &tstop, &tmax, tr),
                    SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_devcurve_spice(g_spice, &d, ctx, amp, width, 1, g, NULL), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_devcurve_c(&d, w, NULL, amp, width, 1, g, NULL), SSP_EINVAL);
    ssp_device_work_free(&w);
    ssp_device_model_free(&m);
}

/* ---- SPICE text ----------------------------------------------------------------- */

static void test_devices__spice_text_matches_golden_files(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    for (size_t i = 0; i < NFILES; i++) {
        char rel[128], path[512], label[128], *text = NULL;
        unsigned char *file = NULL;
        size_t flen, glen, len, ilen;
        ssp_device_model *m = NULL;
        ssp_device d;
        snprintf(label, sizeof label, "devicemodels/params/%s.ini", all_files[i]);
        SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, ssp_test_path(path, sizeof path, label), &file, &flen));
        SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, (const char *)file, label));
        CU_ASSERT_EQUAL(ssp_device_spice_subckt(m, ctx, NULL, 0, &len), SSP_ERANGE);
        ssp_device_init(&d, m, 0.25);
        CU_ASSERT_EQUAL(ssp_device_spice_instance(&d, ctx, "1", "a", "b", "s", NULL, 0, &ilen),
                        SSP_ERANGE);
        text = malloc(len + ilen + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        SSP_ASSERT_OK(ctx, ssp_device_spice_subckt(m, ctx, text, len + 1, &len));
        SSP_ASSERT_OK(ctx, ssp_device_spice_instance(&d, ctx, "1", "a", "b", "s", text + len,
                                                     ilen + 1, &ilen));
        snprintf(rel, sizeof rel, "tests/golden/devices/%s.sp", all_files[i]);
        ssp_test_golden(rel, text);
        /* a buffer one byte short is refused, with the size it needs */
        CU_ASSERT_EQUAL(ssp_device_spice_subckt(m, ctx, text, len, &glen), SSP_ERANGE);
        CU_ASSERT_EQUAL(glen, len);
        CU_ASSERT_EQUAL(text[len - 1], '\0');
        free(text);
        free(file);
        ssp_device_model_free(&m);
    }
}

/* ---- every shipped file reads to the values it always read to ------------------ */

/* The file's every value, bit for bit (%a): the programming and variation
 * keys, each .subckt parameter (the model's table, derived slots included)
 * and the bounds. tests/golden/params/<file>.dump was written by the reader
 * before it moved onto the shared parameter layer (ssp_params). */
static char *value_dump(const ssp_device_model *m)
{
    static const char *const common[] = {"read_voltage", "read_width", "set_amplitude", "set_width",
                                         "reset_amplitude", "reset_width", "pulse_edge", "x_init",
                                         "d2d_gmin", "d2d_gmax", "d2d_rate", "c2c_step", "c2c_range",
                                         "read_noise", "stuck_on", "stuck_off"};
    ssp_ctx *ctx = ssp_test_ctx();
    char *sub = NULL, *out = NULL, *p;
    size_t len = 0, olen = 0;
    FILE *f = open_memstream(&out, &olen);
    double v;
    if (!f) return NULL;
    fprintf(f, "kind = %s\nname = %s\ngmin = %a\ngmax = %a\n", ssp_device_model_kind(m), ssp_device_model_name(m),
            ssp_device_model_gmin(m), ssp_device_model_gmax(m));
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (ssp_device_model_param(m, ctx, common[i], &v) == SSP_OK) fprintf(f, "%s = %a\n", common[i], v);
    ssp_device_spice_subckt(m, ctx, NULL, 0, &len);
    sub = malloc(len + 1);
    if (sub && ssp_device_spice_subckt(m, ctx, sub, len + 1, &len) == SSP_OK && (p = strstr(sub, "params:"))) {
        /* "k=v" pairs up to the end of the .subckt line's continuations */
        for (p += 7; *p && !(p[0] == '\n' && p[1] != '+');) {
            char key[64];
            int n = 0;
            while (*p == ' ' || *p == '\n' || *p == '+') p++;
            if (sscanf(p, "%63[a-z_0-9]=%*s%n", key, &n) != 1 || n == 0) break;
            if (strcmp(key, "x0") != 0 && ssp_device_model_param(m, ctx, key, &v) == SSP_OK)
                fprintf(f, "%s = %a\n", key, v);
            p += n;
        }
    }
    free(sub);
    fclose(f);
    return out;
}

static void test_devices__shipped_files_read_to_recorded_values(void)
{
    for (size_t i = 0; i < NFILES; i++) {
        char rel[128], *got;
        ssp_device_model *m = load(all_files[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        got = value_dump(m);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_PTR_NOT_NULL(strstr(got, "\nstuck_off = "));
        CU_ASSERT_PTR_NOT_NULL(strstr(got, "\nkr = "));
        snprintf(rel, sizeof rel, "tests/golden/params/%s.dump", all_files[i]);
        ssp_test_golden(rel, got);
        free(got);
        ssp_device_model_free(&m);
    }
}

SSP_TEST_SUITE(devices)
{
    SSP_ADD_SUITE("devices", suite_init, suite_clean,
                  SSP_TEST(test_devices__every_shipped_file_loads),
                  SSP_TEST(test_devices__models_encode_and_decode),
                  SSP_TEST(test_devices__units_and_prefixes_are_applied),
                  SSP_TEST(test_devices__bad_files_are_rejected_with_reasons),
                  SSP_TEST(test_devices__pinched_hysteresis_shrinks_with_frequency),
                  SSP_TEST(test_devices__reads_do_not_disturb_in_c),
                  SSP_TEST(test_devices__reads_do_not_disturb_in_ngspice),
                  SSP_TEST(test_devices__c_and_ngspice_agree_on_20_set_20_reset),
                  SSP_TEST(test_devices__neurosim_nonlinearity_maps_to_getparama),
                  SSP_TEST(test_devices__pulselevel_agsi_follows_its_closed_form),
                  SSP_TEST(test_devices__pulse_count_inverse_matches_stepping),
                  SSP_TEST(test_devices__neurosim_inverse_is_97_pulses_full_range),
                  SSP_TEST(test_devices__level_table_spans_range_with_disjoint_bands),
                  SSP_TEST(test_devices__set_conductance_round_trips),
                  SSP_TEST(test_devices__cell_iv_matches_the_device_current),
                  SSP_TEST(test_devices__variation_and_stuck_fractions_match_parameters),
                  SSP_TEST(test_devices__varied_and_stuck_instances_agree_in_ngspice),
                  SSP_TEST(test_devices__cycle_to_cycle_and_read_noise_match_parameters),
                  SSP_TEST(test_devices__stuck_devices_do_not_move),
                  SSP_TEST(test_devices__integration_and_argument_errors_are_reported),
                  SSP_TEST(test_devices__spice_text_matches_golden_files),
                  SSP_TEST(test_devices__shipped_files_read_to_recorded_values));
}
