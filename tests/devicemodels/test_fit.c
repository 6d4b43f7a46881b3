/* test_fit.c — fitting compact models to pulse data (devicemodels/ssp_fit).
 *
 * Data are generated from known parameters of each model kind (with the
 * model's own cycle-to-cycle noise, fixed seeds) and fitted back; the
 * truths place thresholds and nominal pulse times where the fit fixes them
 * (half the amplitude; t = width + edge), so every fitted parameter has a
 * true value to meet. The CSV reader's every rejection is provoked and must
 * name the file and the line. Tolerances are named below. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_device.h"
#include "ssp_file.h"
#include "ssp_fit.h"
#include "ssp_test.h"

/* Relative tolerances of recovered parameters (0.5 % c2c noise, one device,
 * two cycles): conductances and resistances, rates and pulse counts, and the
 * Yakopcic model, whose window parameters trade off against its rates. */
static const double TOL_G = 0.02;
static const double TOL_RATE = 0.08;
static const double TOL_YAK = 0.25;
/* NeuroSim labels: absolute tolerance. */
static const double TOL_NL = 0.3;
/* Cycle-to-cycle sigma estimate, relative. */
static const double TOL_C2C = 0.15;
/* The Ag:a-Si curve of the refit against the file's: largest deviation as
 * a share of the range. */
static const double AGSI_CURVE_TOL = 0.02;
/* Device-to-device sigmas from 8 devices: a sample standard deviation of 8
 * draws has a relative standard error of 1/sqrt(14) = 27 %; accepted within
 * about two of them. */
static const double D2D_LO = 0.5, D2D_HI = 1.6;
/* Yakopcic: replay rms (% of range) allowed. */
static const double YAK_REPLAY_RMS = 3.0;

static const char pl_truth[] =
    "[device]\nmodel = pulselevel\n[parameters]\ng_min = 1 uS\ng_max = 10 uS\nn_ltp = 50\n"
    "n_ltd = 60\nnl_ltp = 2\nnl_ltd = -3\nv_ltp = 0.5 V\nv_ltd = -0.5 V\nt_ltp = 101 ns\n"
    "t_ltd = 101 ns\n[programming]\nread_voltage = 0.2 V\nread_width = 10 ns\nset_amplitude = 1 V\n"
    "set_width = 100 ns\nreset_amplitude = -1 V\nreset_width = 100 ns\npulse_edge = 1 ns\n"
    "[variation]\nc2c_range = 0.5 %\n";
static const char vt_truth[] =
    "[device]\nmodel = vteam\n[parameters]\nr_on = 10 kohm\nr_off = 100 kohm\niv = conductance\n"
    "v_on = -0.5 V\nv_off = 0.5 V\nk_on = -2 mm/s\nk_off = 2 mm/s\nalpha_on = 1\nalpha_off = 1\n"
    "w_on = 0 m\nw_off = 3 nm\na_on = 0 m\na_off = 3 nm\nw_c = 30 pm\n[programming]\n"
    "read_voltage = 0.2 V\nread_width = 10 ns\nset_amplitude = -1 V\nset_width = 50 ns\n"
    "reset_amplitude = 1 V\nreset_width = 50 ns\npulse_edge = 1 ns\n[variation]\nc2c_range = 0.5 %\n";
static const char bi_truth[] =
    "[device]\nmodel = biolek\n[parameters]\nr_on = 100 ohm\nr_off = 16 kohm\nd = 10 nm\n"
    "mu_v = 1e-10 m^2/(V*s)\np_win = 10\nv_th = 0.5 V\n[programming]\nread_voltage = 0.1 V\n"
    "read_width = 10 ns\nset_amplitude = 1 V\nset_width = 4 us\nreset_amplitude = -1 V\n"
    "reset_width = 4 us\npulse_edge = 1 ns\n[variation]\nc2c_range = 0.5 %\n";
static const char yk_truth[] =
    "[device]\nmodel = yakopcic\n[parameters]\nx_lo = 0.01\na1 = 0.17 A\na2 = 0.17 A\nb = 0.05 1/V\n"
    "vp = 0.75 V\nvn = 0.75 V\nap = 4000 1/s\nan = 4000 1/s\nxp = 0.3\nxn = 0.5\nalphap = 1\n"
    "alphan = 5\neta = 1\n[programming]\nread_voltage = 0.1 V\nread_width = 100 ns\n"
    "set_amplitude = 1.5 V\nset_width = 2 us\nreset_amplitude = -1.5 V\nreset_width = 2 us\n"
    "pulse_edge = 10 ns\nx_init = 0.01\n[variation]\nc2c_range = 0.5 %\n";

static const char good_csv[] = "# a comment\n"
                               "device,cycle,pulse,amplitude_V,width_s,g_S\n"
                               "a,1,0,0,0,1e-6\n"
                               "a,1,1,1,1e-7,2e-6\n"
                               "a,1,2,-1,1e-7,1.5e-6\n"
                               "\n"
                               "b,1,1,1,1e-7,2e-6\r\n"
                               "a,2,1,1,1e-7,2.5e-6\n"
                               "b,1,2,-1,1e-7,1e-6\n"
                               "a,2,2,-1,1e-7,2e-6\n";

/* Generate data from truth text, fit it with kind; *r owned by the caller. */
static void fit_truth(const char *truth, const char *kind, size_t devices, size_t pulses,
                      double vr, double edge, ssp_fit_result **r, ssp_fit_data **dout)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    gsl_rng *rng = NULL;
    ssp_fit_data *d = NULL;
    ssp_fit_protocol pr = {devices, 2, pulses, pulses, 0, 0, 0, 0};
    ssp_fit_options o = {kind, vr, edge, 0, 0, 1};
    char *csv = NULL;
    *r = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, truth, "truth"));
    SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng, ctx, 7));
    SSP_ASSERT_OK(ctx, ssp_fit_generate(&csv, ctx, m, rng, &pr));
    SSP_ASSERT_OK(ctx, ssp_fit_data_parse(&d, ctx, csv, strlen(csv), "generated.csv"));
    SSP_ASSERT_OK(ctx, ssp_fit_run(r, ctx, d, &o));
    free(csv);
    ssp_device_rng_free(&rng);
    ssp_device_model_free(&m);
    if (dout)
        *dout = d;
    else
        ssp_fit_data_free(&d);
}

static const ssp_fit_param *par(const ssp_fit_result *r, const char *key)
{
    for (size_t j = 0; j < r->nfree; j++)
        if (strcmp(r->par[j].key, key) == 0) return &r->par[j];
    CU_FAIL_FATAL("fitted parameter missing");
    return NULL;
}

/* value within rel of want, and want inside a (slightly widened) interval */
static void check_par(const ssp_fit_result *r, const char *key, double want, double rel)
{
    const ssp_fit_param *p = par(r, key);
    int ok = ssp_close_rel(p->value, want, rel, 0);
    CU_ASSERT(ok);
    CU_ASSERT(isfinite(p->lo) && isfinite(p->hi) && p->lo <= p->value && p->value <= p->hi);
    if (!ok) fprintf(stderr, "\n  %s = %g, want %g (rel %g)\n", key, p->value, want, rel);
}

static void check_loadable(const ssp_fit_result *r)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, r->ini, "fitted.ini"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->ini, "generated.csv"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->ini, "Fit quality: rms one-pulse error"));
    ssp_device_model_free(&m);
}

static void test_fit__csv_reads_rows_devices_and_predecessors(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_fit_data *d = NULL;
    SSP_ASSERT_OK(ctx, ssp_fit_data_parse(&d, ctx, good_csv, strlen(good_csv), "good.csv"));
    CU_ASSERT_EQUAL(d->n, 7);
    CU_ASSERT_EQUAL(d->ndev, 2);
    CU_ASSERT_STRING_EQUAL(d->dev_name[1], "b");
    CU_ASSERT_EQUAL(d->prev[0], -1);
    CU_ASSERT_EQUAL(d->prev[1], 0);
    CU_ASSERT_EQUAL(d->prev[3], -1);    /* b's first row: only a starting point */
    CU_ASSERT_EQUAL(d->prev[4], 2);     /* a's cycle 2 starts from a's last row */
    CU_ASSERT_EQUAL(d->line[3], 7);
    CU_ASSERT_DOUBLE_EQUAL(d->width[1], 1e-7, 1e-20);
    ssp_fit_data_free(&d);
    ssp_fit_data_free(&d); /* NULL: no-op */
}

static void test_fit__csv_rejects_bad_data_naming_file_and_line(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"device,cycle,pulse,amplitude_V,width_s,g_S,temp_K\n", "bad.csv:1: unknown column 'temp_K'"},
        {"device,cycle,pulse,amplitude_V,width_s,g_uS\n", "bad.csv:1: column 'g_uS': the conductance must be given in S"},
        {"device,cycle,pulse,amplitude_V,g_S\n", "bad.csv:1: missing column 'width_s'"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S,g_S\n", "appears twice"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7,1e-6\na,1,3,1,1e-7,1e-6\n",
         "bad.csv:3: pulse 3 follows pulse 1"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7,1e-6\na,1,2,1,1e-7,1e-6\n"
         "a,1,1,1,1e-7,1e-6\n", "bad.csv:4: pulse 1 follows pulse 2"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,2,1,1,1e-7,1e-6\na,2,2,1,1e-7,1e-6\n"
         "a,1,1,1,1e-7,1e-6\n", "bad.csv:4: cycle 1 comes after cycle 2"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7,-1e-6\n", "bad.csv:2: conductance g_S = -1e-06 S is not > 0"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7,0\n", "bad.csv:2: conductance g_S = 0 S"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7,nan\n", "bad.csv:2: g_S 'nan' is NaN or infinite"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,NaN,1e-7,1e-6\n", "bad.csv:2: amplitude_V 'NaN'"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7,1e-6\na,1,2,1,1e-7,1e-6\n"
         "a,2,1,1,1e-7,1e-6\n", "bad.csv:4: cycle 2 of device a has a single pulse"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,0,1e-6\n", "bad.csv:2: width_s = 0 s"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,0,1,1e-7,1e-6\n", "bad.csv:2: pulse 0 is the read"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,1,1,1e-7\n", "bad.csv:2: 5 fields"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,x,1,1,1e-7,1e-6\n", "bad.csv:2: cycle 'x'"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\na,1,4,1,1e-7,1e-6\n", "starts at pulse 4"},
        {"device,cycle,pulse,amplitude_V,width_s,g_S\n", "bad.csv: no data rows"},
        {"# only a comment\n", "bad.csv: empty: no header line"},
    };
    ssp_ctx *ctx = ssp_test_ctx();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ssp_fit_data *d = NULL;
        int rc = ssp_fit_data_parse(&d, ctx, cases[i].text, strlen(cases[i].text), "bad.csv");
        CU_ASSERT_EQUAL(rc, SSP_EFORMAT);
        CU_ASSERT_PTR_NULL(d);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), cases[i].want));
        if (!strstr(ssp_ctx_errmsg(ctx), cases[i].want))
            fprintf(stderr, "\n  case %zu: got '%s', want '%s'\n", i, ssp_ctx_errmsg(ctx), cases[i].want);
    }
    /* the buffer need not end in NUL: only len bytes are read */
    {
        ssp_fit_data *d = NULL;
        CU_ASSERT_EQUAL(ssp_fit_data_parse(&d, ctx, good_csv, (size_t)(strstr(good_csv, "a,1,0") - good_csv), "cut.csv"), SSP_EFORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "no data rows"));
    }
}

static void test_fit__bad_fits_are_refused(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_fit_data *d = NULL;
    ssp_fit_result *r = NULL;
    ssp_fit_options o = {"pulselevel", 0.2, 1e-9, 0, 0, 1};
    SSP_ASSERT_OK(ctx, ssp_fit_data_parse(&d, ctx, good_csv, strlen(good_csv), "small.csv"));
    /* too few points per parameter */
    CU_ASSERT_EQUAL(ssp_fit_run(&r, ctx, d, &o), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "small.csv: 5 pulse responses for 6 free parameters"));
    /* the polarity the model uses the other way */
    o.kind = "vteam";
    CU_ASSERT_EQUAL(ssp_fit_run(&r, ctx, d, &o), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "flip the sign of amplitude_V"));
    o.kind = "memristor9";
    CU_ASSERT_EQUAL(ssp_fit_run(&r, ctx, d, &o), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "unknown model 'memristor9'"));
    CU_ASSERT_PTR_NULL(r);
    ssp_fit_data_free(&d);
}

static void test_fit__a_fit_that_does_not_converge_says_what_was_tried(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    gsl_rng *rng = NULL;
    ssp_fit_data *d = NULL;
    ssp_fit_result *r = NULL;
    ssp_fit_protocol pr = {1, 2, 40, 40, 0, 0, 0, 0};
    ssp_fit_options o = {"pulselevel", 0.2, 1e-9, 1, 1, 1}; /* one iteration per start */
    char *csv = NULL;
    SSP_ASSERT_OK(ctx, ssp_device_model_parse(&m, ctx, pl_truth, "truth"));
    SSP_ASSERT_OK(ctx, ssp_device_rng_alloc(&rng, ctx, 3));
    SSP_ASSERT_OK(ctx, ssp_fit_generate(&csv, ctx, m, rng, &pr));
    SSP_ASSERT_OK(ctx, ssp_fit_data_parse(&d, ctx, csv, strlen(csv), "gen.csv"));
    CU_ASSERT_EQUAL(ssp_fit_run(&r, ctx, d, &o), SSP_ECONVERGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "gen.csv: the pulselevel fit did not converge: 2 starts of at most 1 iterations"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "start 1:"));
    CU_ASSERT_PTR_NULL(r);
    free(csv);
    ssp_fit_data_free(&d);
    ssp_device_rng_free(&rng);
    ssp_device_model_free(&m);
}

static void test_fit__pulselevel_recovers_its_parameters(void)
{
    ssp_fit_result *r = NULL;
    fit_truth(pl_truth, "pulselevel", 1, 80, 0.2, 1e-9, &r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    check_par(r, "g_min", 1e-6, TOL_G);
    check_par(r, "g_max", 10e-6, TOL_G);
    check_par(r, "n_ltp", 50, TOL_RATE);
    check_par(r, "n_ltd", 60, TOL_RATE);
    CU_ASSERT_DOUBLE_EQUAL(par(r, "nl_ltp")->value, 2.0, TOL_NL);
    CU_ASSERT_DOUBLE_EQUAL(par(r, "nl_ltd")->value, -3.0, TOL_NL);
    CU_ASSERT(ssp_close_rel(r->c2c_range, 0.005, TOL_C2C, 0));
    CU_ASSERT_EQUAL(r->d2d_gmin, 0); /* one device */
    check_loadable(r);
    ssp_fit_result_free(&r);
    ssp_fit_result_free(&r);
}

static void test_fit__vteam_recovers_its_parameters(void)
{
    ssp_fit_result *r = NULL;
    fit_truth(vt_truth, "vteam", 1, 60, 0.2, 1e-9, &r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->option, "iv = conductance");
    check_par(r, "r_on", 10e3, TOL_G);
    check_par(r, "r_off", 100e3, TOL_G);
    check_par(r, "k_on", -2e-3, TOL_RATE);
    check_par(r, "k_off", 2e-3, TOL_RATE);
    CU_ASSERT(ssp_close_rel(r->c2c_range, 0.005, TOL_C2C, 0));
    if (!ssp_close_rel(r->c2c_range, 0.005, TOL_C2C, 0)) fprintf(stderr, "\n  vteam c2c %g\n", r->c2c_range);
    check_loadable(r);
    ssp_fit_result_free(&r);
}

static void test_fit__biolek_recovers_its_parameters(void)
{
    ssp_fit_result *r = NULL;
    fit_truth(bi_truth, "biolek", 1, 80, 0.1, 1e-9, &r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->option, "p_win = 10");
    check_par(r, "r_on", 100, TOL_G);
    check_par(r, "r_off", 16e3, TOL_G);
    check_par(r, "mu_v", 1e-10, TOL_RATE);
    check_loadable(r);
    ssp_fit_result_free(&r);
}

static void test_fit__yakopcic_recovers_its_rates_and_curve(void)
{
    ssp_fit_result *r = NULL;
    double mean = 0;
    fit_truth(yk_truth, "yakopcic", 1, 80, 0.1, 10e-9, &r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    check_par(r, "a1", 0.17, TOL_YAK);
    check_par(r, "ap", 4000, TOL_YAK);
    check_par(r, "an", 4000, TOL_YAK);
    for (size_t c = 0; c < r->ncycles; c++) mean += r->cycles[c].rms_replay / (double)r->ncycles;
    CU_ASSERT(mean < YAK_REPLAY_RMS);
    check_loadable(r);
    ssp_fit_result_free(&r);
}

static void test_fit__device_to_device_spread_is_estimated(void)
{
    ssp_fit_result *r = NULL;
    char truth[2048];
    snprintf(truth, sizeof truth, "%sd2d_gmin = 10 %%\nd2d_gmax = 10 %%\nd2d_rate = 10 %%\n", pl_truth);
    fit_truth(truth, "pulselevel", 8, 80, 0.2, 1e-9, &r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(r->d2d_gmin > D2D_LO * 0.1 && r->d2d_gmin < D2D_HI * 0.1);
    CU_ASSERT(r->d2d_gmax > D2D_LO * 0.1 && r->d2d_gmax < D2D_HI * 0.1);
    CU_ASSERT(r->d2d_rate > D2D_LO * 0.1 && r->d2d_rate < D2D_HI * 0.1);
    CU_ASSERT(r->d2d_se[1] < 0.05); /* Gmax of one device is well pinned */
    if (!(r->d2d_rate > D2D_LO * 0.1 && r->d2d_rate < D2D_HI * 0.1 && r->d2d_gmin > D2D_LO * 0.1 &&
          r->d2d_gmin < D2D_HI * 0.1 && r->d2d_gmax > D2D_LO * 0.1 && r->d2d_gmax < D2D_HI * 0.1))
        fprintf(stderr, "\n  d2d %g %g %g\n", r->d2d_gmin, r->d2d_gmax, r->d2d_rate);
    /* every device has its own factors; the nominal file carries the sigmas */
    CU_ASSERT_PTR_NOT_NULL(strstr(r->ini, "d2d_gmax = "));
    ssp_fit_result_free(&r);
}

/* Data from neurosim_agsi.ini (its 3.5 % noise lowered to 0.5 % so that
 * 120 pulses per direction pin the curve), two devices: the refit's curve
 * from Gmin (97 SET, then 100 RESET pulses) follows the file's. */
static void test_fit__agsi_refit_reproduces_its_curve(void)
{
    ssp_ctx *ctx = ssp_test_ctx();
    unsigned char *text = NULL;
    size_t len;
    char path[1024], *t2, *c;
    ssp_device_model *truth = NULL;
    ssp_device_work *w = NULL;
    ssp_fit_result *r = NULL;
    ssp_device a, b;
    double worst = 0, range;
    SSP_ASSERT_OK(ctx, ssp_file_read_all(ctx, ssp_test_path(path, sizeof path, "devicemodels/params/neurosim_agsi.ini"), &text, &len));
    t2 = (char *)text;
    c = strstr(t2, "c2c_range = 3.5 %");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    memcpy(c, "c2c_range = 0.5 %", 17);
    SSP_ASSERT_OK(ctx, ssp_device_model_parse(&truth, ctx, t2, "neurosim_agsi"));
    fit_truth(t2, "pulselevel", 2, 120, 0.5, 10e-9, &r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    SSP_ASSERT_OK(ctx, ssp_device_work_alloc(&w, ctx));
    ssp_device_init(&a, truth, 0);
    ssp_device_init(&b, r->model, 0);
    range = ssp_device_model_gmax(truth) - ssp_device_model_gmin(truth);
    for (int k = 0; k < 197; k++) {
        double amp = k < 97 ? 3.2 : -2.8;
        SSP_ASSERT_OK(ctx, ssp_device_pulse(&a, w, NULL, amp, 300e-6));
        SSP_ASSERT_OK(ctx, ssp_device_pulse(&b, w, NULL, amp, 300e-6));
        worst = fmax(worst, fabs(ssp_device_conductance(&a, 0.5) - ssp_device_conductance(&b, 0.5)) / range);
    }
    CU_ASSERT(worst < AGSI_CURVE_TOL);
    if (!(worst < AGSI_CURVE_TOL)) fprintf(stderr, "\n  agsi refit: worst %g of the range\n", worst);
    CU_ASSERT_DOUBLE_EQUAL(par(r, "nl_ltp")->value, 2.4, 2 * TOL_NL);
    CU_ASSERT_DOUBLE_EQUAL(par(r, "nl_ltd")->value, -4.88, 4 * TOL_NL);
    check_loadable(r);
    ssp_device_work_free(&w);
    ssp_device_model_free(&truth);
    ssp_fit_result_free(&r);
    free(text);
}

SSP_TEST_SUITE(fit)
{
    SSP_ADD_SUITE("fit", NULL, NULL, SSP_TEST(test_fit__csv_reads_rows_devices_and_predecessors),
                  SSP_TEST(test_fit__csv_rejects_bad_data_naming_file_and_line),
                  SSP_TEST(test_fit__bad_fits_are_refused),
                  SSP_TEST(test_fit__a_fit_that_does_not_converge_says_what_was_tried),
                  SSP_TEST(test_fit__pulselevel_recovers_its_parameters),
                  SSP_TEST(test_fit__vteam_recovers_its_parameters),
                  SSP_TEST(test_fit__biolek_recovers_its_parameters),
                  SSP_TEST(test_fit__yakopcic_recovers_its_rates_and_curve),
                  SSP_TEST(test_fit__device_to_device_spread_is_estimated),
                  SSP_TEST(test_fit__agsi_refit_reproduces_its_curve));
}
