/* bench_read.c — the transient read of a tile on the nodal step response and
 * in ngspice, and the read energy of one MVM.
 *
 * Tiles of 64x64 and 128x128 cells with the default run's circuit
 * (ssp_config_defaults: 2.5 ohm and 0.1 fF wire segments, 0.35 fF cells,
 * TIA gain 1e4, GBW 100 MHz, Rf 8 kohm, 8-bit ADC), cells uniform in
 * [10, 100] uS and row inputs uniform in [0, 0.1 x v_read] (fixed seed: the
 * outputs stay inside the rails, where the linear model holds), ADC sample
 * at 200 ns. Figures, all measured in this run: the nodal settling time to
 * 1/2 LSB, the largest nodal-vs-ngspice difference of any TIA output at any
 * sample time as a fraction of that output's settled change, the rows'
 * energy integrated by both solvers until the sample (against the two
 * estimates the run metrics use: the settled row power x t_read + line
 * charge of the circuit engines, and the ideal engine's virtual-ground
 * estimate), and the energy of one MVM on the tile: the array from the
 * circuit (nodal) plus the DAC, TIA and ADC models of ssp_readcost.h.
 * Last line:
 *   BENCH read size=128 settle_ns=.. spice_vs_nodal_max_err=.. energy_pj_per_mvm=.. ... */
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>

#include "ssp_config.h"
#include "ssp_read.h"
#include "ssp_readcost.h"

static const double G_LO_S = 10e-6, G_HI_S = 100e-6; /* cell conductance range (S) */
static const double INPUT_FRACTION = 0.1;            /* rows at most this x v_read */
static const double T_SAMPLE_S = 200e-9;             /* ADC sample instant */
static const unsigned long SEED = 17;

struct figures {
    ssp_read_result r;
    double e_mvm_j;     /* array (circuit) + DAC + TIA + ADC */
    double e_array_formula_j; /* the ideal engine's virtual-ground estimate for the same read */
    double e_array_settled_j; /* the circuit engines' metrics: settled row power x t_read + line charge */
};

static int run_size(ssp_ctx *ctx, ssp_spice *spice, size_t n, struct figures *f)
{
    ssp_config cfg;
    ssp_tile_params p;
    ssp_circuit *c = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *g = malloc(n * n * sizeof *g), *v = malloc(n * sizeof *v), rowg, tr;
    int rc;
    ssp_config_defaults(&cfg);
    cfg.tile_rows = cfg.tile_cols = (long)n;
    cfg.tile.adc.t_sample = T_SAMPLE_S;
    ssp_config_tile(&cfg, &p);
    if (!g || !v || !rng) return SSP_ENOMEM;
    gsl_rng_set(rng, SEED);
    for (size_t i = 0; i < n * n; i++) g[i] = G_LO_S + (G_HI_S - G_LO_S) * gsl_rng_uniform(rng);
    for (size_t i = 0; i < n; i++) v[i] = ssp_dac_voltage(&p.dac, INPUT_FRACTION * p.dac.v_max * gsl_rng_uniform(rng));
    rc = ssp_circuit_create(&c, ctx, &p);
    if (!rc) rc = ssp_circuit_set_conductances(c, ctx, g);
    if (!rc) rc = ssp_read_run(ctx, c, v, spice, NULL, &f->r);
    if (!rc) {
        tr = ssp_readcost_t_read(&cfg.cost, &p);
        f->e_mvm_j = f->r.e_nodal_j + (double)n * ssp_readcost_dac_energy(&cfg.cost, p.dac.bits) +
                     (double)n * cfg.cost.tia_i_bias * cfg.cost.tia_v_supply * tr +
                     (double)n * ssp_readcost_adc_energy(&cfg.cost, p.adc.bits);
        f->e_array_formula_j = 0;
        f->e_array_settled_j = f->r.st.p_rows_w * tr;
        for (size_t i = 0; i < n; i++) {
            double crow = (double)n * (ssp_tile_c_segment(&p) + p.c_cell);
            rowg = 0;
            for (size_t j = 0; j < n; j++) rowg += g[i * n + j];
            f->e_array_formula_j += v[i] * v[i] * (rowg * tr + crow);
            f->e_array_settled_j += v[i] * v[i] * crow;
        }
        printf("%zux%zu: settle %.2f ns (tau %.2f..%.2f ns, step %.3f ns), error at %.0f ns %.3f LSB, slope %.3g V/us "
               "(slews %d, rails %d); nodal %.2f s, ngspice %.2f s (%zu points); spice_vs_nodal %.3e; rows' energy "
               "nodal %.4g pJ, ngspice %.4g pJ, settled-admittance metrics %.4g pJ, virtual-ground estimate %.4g pJ; "
               "MVM %.4g pJ\n",
               n, n, 1e9 * f->r.st.t_settle_s, 1e9 * f->r.st.tau_min_s, 1e9 * f->r.st.tau_max_s, 1e9 * f->r.st.h_s,
               1e9 * T_SAMPLE_S, f->r.st.err_sample_v / ssp_adc_lsb(&p.adc), 1e-6 * f->r.st.slope_max, f->r.st.slews,
               f->r.st.rails, f->r.nodal_s, f->r.spice_s, f->r.spice_points, f->r.spice_vs_nodal,
               1e12 * f->r.e_nodal_j, 1e12 * f->r.e_spice_j, 1e12 * f->e_array_settled_j, 1e12 * f->e_array_formula_j,
               1e12 * f->e_mvm_j);
        fflush(stdout);
    }
    ssp_circuit_destroy(&c);
    gsl_rng_free(rng);
    free(g);
    free(v);
    return rc;
}

int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_spice *spice = NULL;
    struct figures f64, f128;
    int rc;
    if (ssp_ctx_create(&ctx)) return 1;
    rc = ssp_spice_create(&spice, ctx, NULL);
    if (!rc) rc = run_size(ctx, spice, 64, &f64);
    if (!rc) rc = run_size(ctx, spice, 128, &f128);
    if (rc) {
        fprintf(stderr, "bench_read: %s\n", ssp_ctx_errmsg(ctx));
        return 1;
    }
    printf("BENCH read size=128 settle_ns=%.2f spice_vs_nodal_max_err=%.3e energy_pj_per_mvm=%.2f "
           "array_pj_nodal=%.4g array_pj_spice=%.4g array_pj_settled=%.4g array_pj_virtual_ground=%.4g nodal_s=%.2f spice_s=%.2f "
           "size64_settle_ns=%.2f size64_spice_vs_nodal_max_err=%.3e\n",
           1e9 * f128.r.st.t_settle_s, f128.r.spice_vs_nodal, 1e12 * f128.e_mvm_j, 1e12 * f128.r.e_nodal_j,
           1e12 * f128.r.e_spice_j, 1e12 * f128.e_array_settled_j, 1e12 * f128.e_array_formula_j, f128.r.nodal_s,
           f128.r.spice_s,
           1e9 * f64.r.st.t_settle_s, f64.r.spice_vs_nodal);
    ssp_read_result_free(&f64.r);
    ssp_read_result_free(&f128.r);
    ssp_spice_destroy(&spice);
    ssp_ctx_destroy(&ctx);
    return 0;
}
