/* test_plot.c — the plots of a run directory (ssp_plot_run) and the
 * programming waveform they draw (ssp_pulse_wave): which files a directory
 * of given inputs yields, the IR-drop heat map's colour range, tile
 * boundaries and blank nan entries, malformed and missing inputs, and a
 * recorded transient that is the one the programmer ran. Needs gnuplot;
 * every directory is a fresh mkdtemp one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_plot.h"
#include "ssp_pulse.h"
#include "ssp_test.h"

enum { PATH_CAP = 1024 };

static const unsigned char PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static void put(const char *dir, const char *name, const char *text)
{
    char p[PATH_CAP];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_file_write_all(ssp_test_ctx(), p, text, strlen(text)));
}

static int starts_with(const char *dir, const char *name, const void *magic, size_t n)
{
    char p[PATH_CAP], buf[64] = {0};
    FILE *f;
    size_t got;
    CU_ASSERT_FATAL(n <= sizeof buf);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (!(f = fopen(p, "rb"))) return 0;
    got = fread(buf, 1, n, f);
    fclose(f);
    return got == n && memcmp(buf, magic, n) == 0;
}

static int present(const char *dir, const char *name)
{
    char p[PATH_CAP];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* The whole of dir/name (malloc'ed, NUL-terminated) or NULL. */
static char *slurp(const char *dir, const char *name)
{
    char p[PATH_CAP];
    unsigned char *data = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (ssp_file_read_all(ssp_test_ctx(), p, &data, &len)) return NULL;
    return (char *)data;
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_CAP + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Matrix 0: 2 tile rows x 2 tile columns of 3 outputs, the second tile
 * column holding 2 (5 outputs), one nan; errors from -5 % to +2 %.
 * Matrix 1: all nan (no map). Matrix 2: one tile, one value. */
static const char IRDROP[] = "matrix,tile_row,tile_col,out,err\n"
                             "0,0,0,0,-0.01\n0,0,0,1,-0.02\n0,0,0,2,0.02\n0,0,1,0,-0.03\n0,0,1,1,nan\n"
                             "0,1,0,0,-0.04\n0,1,0,1,-0.05\n0,1,0,2,-0.01\n0,1,1,0,-0.02\n0,1,1,1,-0.03\n"
                             "1,0,0,0,nan\n1,0,0,1,nan\n"
                             "2,0,0,0,-0.25\n";

static void test_plot__irdrop_heat_map_per_matrix_with_finite_values(void)
{
    char dir[] = "/tmp/ssp_plot_ir_XXXXXX", *gp;
    ssp_ctx *ctx = ssp_test_ctx();
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    put(dir, "irdrop.csv", IRDROP);
    put(dir, "config.ini", "[run]\nname = x\n[engine]\nforward = spice\n");
    SSP_ASSERT_OK(ctx, ssp_plot_run(ctx, dir));
    CU_ASSERT(starts_with(dir, "irdrop_m0.png", PNG_MAGIC, 8));
    CU_ASSERT(starts_with(dir, "irdrop_m0.svg", "<?xml", 5));
    CU_ASSERT(starts_with(dir, "irdrop_m2.png", PNG_MAGIC, 8));
    CU_ASSERT(starts_with(dir, "irdrop_m2.svg", "<?xml", 5));
    CU_ASSERT_FALSE(present(dir, "irdrop_m1.png")); /* nothing finite to draw */
    CU_ASSERT_FALSE(present(dir, "accuracy_loss.png")); /* no metrics.csv */
    gp = slurp(dir, "plots.gp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "matrix 0, spice engine"));
    /* colour range = the finite values in %, not gnuplot's autoscale */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set cbrange [-5:2]"));
    /* a single value gets a small range around it */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set cbrange [-25.25:-24.75]"));
    /* 3 outputs per tile column: one boundary between output 2 and 3 */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set arrow from 2.5, graph 0 to 2.5, graph 1"));
    /* 5 output columns and 2 tile rows, row 0 on top */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xrange [-0.5:4.5]\nset yrange [1.5:-0.5]"));
    free(gp);
    /* the engine's name reaches the title as a name, never as script */
    put(dir, "config.ini", "[engine]\nforward = no\"dal\\\n");
    SSP_ASSERT_OK(ctx, ssp_plot_run(ctx, dir));
    gp = slurp(dir, "plots.gp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "matrix 0, nodal engine"));
    free(gp);
    rm_rf(dir);
}

static void test_plot__malformed_irdrop_names_file_and_line(void)
{
    char dir[] = "/tmp/ssp_plot_bad_XXXXXX";
    ssp_ctx *ctx = ssp_test_ctx();
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    put(dir, "irdrop.csv", "matrix,tile_row,tile_col,out,err\n0,0,0,0,-0.01\n0,0,x,1,-0.02\n");
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, dir), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "irdrop.csv:3:"));
    put(dir, "irdrop.csv", "matrix,tile_row,tile_col,out,err\n0,0,0,0,-0.01 V\n");
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, dir), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "irdrop.csv:2:"));
    put(dir, "irdrop.csv", "m,tr,tc,o,e\n0,0,0,0,0\n");
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, dir), SSP_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "irdrop.csv:1: header"));
    put(dir, "irdrop.csv", "matrix,tile_row,tile_col,out,err\n0,0,-1,0,0.1\n");
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, dir), SSP_EFORMAT);
    CU_ASSERT_FALSE(present(dir, "plots.gp"));
    rm_rf(dir);
}

static void test_plot__nothing_to_plot_is_einval(void)
{
    char dir[] = "/tmp/ssp_plot_none_XXXXXX";
    ssp_ctx *ctx = ssp_test_ctx();
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, dir), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "nothing to plot"));
    /* an IR-drop map without a single finite value is nothing either */
    put(dir, "irdrop.csv", "matrix,tile_row,tile_col,out,err\n0,0,0,0,nan\n");
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, dir), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_plot_run(ctx, "/nonexistent/ssp_run"), SSP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "/nonexistent/ssp_run"));
    rm_rf(dir);
}

static void test_plot__waveform_csv_draws_png_and_svg(void)
{
    char dir[] = "/tmp/ssp_plot_wave_XXXXXX", *gp;
    ssp_ctx *ctx = ssp_test_ctx();
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    put(dir, "waveform.csv", "# siamspice programming waveform: cell (1, 2), transient 1 of 2\n"
                             "time_s,v_wl_V,v_bl_V,v_cell_V,state_x,i_cell_A,g_read_S\n"
                             "0,0,0,0,0.5,0,5e-05\n1e-08,1,0,1,0.5,5e-05,5e-05\n"
                             "6e-08,1,0,1,0.6,6e-05,6e-05\n7e-08,0,0,0,0.6,0,6e-05\n");
    SSP_ASSERT_OK(ctx, ssp_plot_run(ctx, dir));
    CU_ASSERT(starts_with(dir, "waveform.png", PNG_MAGIC, 8));
    CU_ASSERT(starts_with(dir, "waveform.svg", "<?xml", 5));
    gp = slurp(dir, "plots.gp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "cell (1, 2), transient 1 of 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "time (µs)"));
    free(gp);
    rm_rf(dir);
}

/* The recorder keeps the transient the programmer ran: open loop is one
 * transient, so the last recorded state is the state the cell is left in;
 * with ideal wires the cell sees word line minus bit line; the current has
 * the voltage's sign. */
static void test_plot__pulse_wave_records_the_programmed_cell(void)
{
    enum { R = 3, C = 3, L = 32 };
    ssp_ctx *ctx = ssp_test_ctx();
    ssp_device_model *m = NULL;
    ssp_device_levels *lv = NULL;
    ssp_device dev[R * C], nom;
    int target[R * C];
    ssp_pulse_params p;
    ssp_pulse *pp = NULL;
    ssp_spice *s = NULL;
    ssp_pulse_result res;
    ssp_pulse_wave w = {0};
    char path[PATH_CAP];
    size_t cell = 1 * C + 2, k;
    double vmax = 0;
    SSP_ASSERT_OK(ctx, ssp_device_model_load(&m, ctx, ssp_test_path(path, sizeof path, "devicemodels/params/vteam32.ini")));
    ssp_device_init(&nom, m, 0);
    SSP_ASSERT_OK(ctx, ssp_device_levels_alloc(&lv, ctx, &nom, L, 0.5));
    for (k = 0; k < R * C; k++) {
        ssp_device_init(&dev[k], m, lv->x[10]);
        target[k] = SSP_PULSE_KEEP;
    }
    target[cell] = 14;
    ssp_pulse_params_default(&p, m);
    p.strategy = SSP_PULSE_OPEN;
    SSP_ASSERT_OK(ctx, ssp_pulse_create(&pp, ctx, m, lv, R, C, &p));
    CU_ASSERT_EQUAL(ssp_pulse_wave_arm(pp, &w, R, 0), SSP_ERANGE);
    SSP_ASSERT_OK(ctx, ssp_pulse_wave_arm(pp, &w, 1, 2));
    SSP_ASSERT_OK(ctx, ssp_spice_create(&s, ctx, NULL));
    SSP_ASSERT_OK(ctx, ssp_pulse_program_tile(pp, s, NULL, 0, dev, target, NULL, &res, NULL));
    CU_ASSERT_EQUAL(w.transients, 1);
    CU_ASSERT_EQUAL(w.round, 0);
    CU_ASSERT_FATAL(w.n > 10);
    CU_ASSERT_EQUAL(w.x[w.n - 1], dev[cell].x);
    CU_ASSERT_EQUAL(w.x[0], lv->x[10]);
    for (k = 0; k < w.n; k++) {
        CU_ASSERT(isfinite(w.t[k]) && isfinite(w.i[k]) && isfinite(w.g_read[k]));
        if (k) CU_ASSERT(w.t[k] > w.t[k - 1]);
        CU_ASSERT(ssp_close_rel(w.v_cell[k], w.v_wl[k] - w.v_bl[k], 1e-12, 1e-15));
        CU_ASSERT(w.v_cell[k] * w.i[k] >= 0);
        if (fabs(w.v_cell[k]) > vmax) vmax = fabs(w.v_cell[k]);
    }
    /* the full pulse amplitude reached the selected cell */
    CU_ASSERT(ssp_close_rel(vmax, fabs(p.set_amp), 1e-9, 0));
    /* write the CSV, then arming anew clears the record */
    {
        char dir[] = "/tmp/ssp_plot_rec_XXXXXX", p2[PATH_CAP];
        CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
        snprintf(p2, sizeof p2, "%s/waveform.csv", dir);
        SSP_ASSERT_OK(ctx, ssp_pulse_wave_export_csv(&w, ctx, p2));
        CU_ASSERT(starts_with(dir, "waveform.csv", "# siamspice programming waveform: cell (1, 2)", 45));
        rm_rf(dir);
    }
    SSP_ASSERT_OK(ctx, ssp_pulse_wave_arm(pp, &w, 0, 0));
    CU_ASSERT_EQUAL(w.n, 0);
    CU_ASSERT_EQUAL(ssp_pulse_wave_export_csv(&w, ctx, "/tmp/ssp_never_written.csv"), SSP_ESTATE);
    ssp_pulse_wave_clear(&w);
    ssp_pulse_wave_clear(NULL);
    ssp_spice_destroy(&s);
    ssp_pulse_destroy(&pp);
    ssp_device_levels_free(&lv);
    ssp_device_model_free(&m);
}

SSP_TEST_SUITE(plot)
{
    SSP_ADD_SUITE("plot", NULL, NULL,
                  SSP_TEST(test_plot__irdrop_heat_map_per_matrix_with_finite_values),
                  SSP_TEST(test_plot__malformed_irdrop_names_file_and_line),
                  SSP_TEST(test_plot__nothing_to_plot_is_einval),
                  SSP_TEST(test_plot__waveform_csv_draws_png_and_svg),
                  SSP_TEST(test_plot__pulse_wave_records_the_programmed_cell));
}
