/* ssp_readcost.c — energy and latency of the forward pass's MVMs on the
 * crossbar tiles (ssp_readcost.h). Counts only; it never changes a product
 * and never prints. */
#include "ssp_readcost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_device.h"

struct ssp_readcost {
    ssp_ctx *ctx;               /* borrowed */
    const ssp_hw *hw;           /* borrowed */
    ssp_tile_params tile;       /* copy */
    ssp_readcost_params p;      /* copy */
    size_t nmat;
    double **g_row;             /* per matrix, per input row: Σ G of its cells (S), owned */
    double c_row;               /* F, one word line of one tile: segments and cells */
    size_t *gr, *gc;            /* tile grid per matrix (owned) */
    ssp_readcost_totals tot;
    ssp_readcost_matmul_fn fn;  /* wrapped product */
    void *payload;
};

void ssp_readcost_params_default(ssp_readcost_params *p)
{
    memset(p, 0, sizeof *p);
    p->t_read = 1e-6; /* s: a read window that settles the default 128-row tiles (siamspice read) */
    /* 100 ns: an 8-bit SAR ADC at 10 MS/s, the speed class of the
     * column ADCs in crossbar macros (Murmann's survey, 8-bit SAR entries). */
    p->t_conv = 100e-9;
    p->adc_model = SSP_ADC_WALDEN;
    /* 10 fJ per conversion step: a good SAR ADC of the last decade in
     * Murmann's survey (the best are near 1 fJ, the median above 100 fJ). */
    p->adc_fom_walden = 10e-15;
    /* 170 dB: a good Nyquist ADC by the Schreier figure (the survey's
     * frontier is about 185 dB at low speed). */
    p->adc_fom_schreier = 170;
    /* 1 fJ per conversion step of a row DAC: an assumption (a capacitive
     * DAC of 1 fF units switched from a 1 V reference spends about C·V² per
     * unit; Saberi et al., IEEE TCAS-I 58(8), 2011). */
    p->dac_fom = 1e-15;
    /* 40 µA: the bias of a single-stage op-amp that reaches the default
     * 100 MHz GBW into ~1 pF at gm/Id = 15 S/A (gm = 2π·GBW·C_L = 0.63 mS;
     * Jespers & Murmann, Systematic Design of Analog CMOS Circuits, 2017). */
    p->tia_i_bias = 40e-6;
    p->tia_v_supply = 3.0; /* V: the default rails' span, -1.5..1.5 V */
}

double ssp_readcost_adc_energy(const ssp_readcost_params *p, int bits)
{
    if (p->adc_model == SSP_ADC_SCHREIER) {
        double sndr = 6.02 * bits + 1.76;
        return 1.0 / (2.0 * pow(10.0, (p->adc_fom_schreier - sndr) / 10.0));
    }
    return p->adc_fom_walden * ldexp(1.0, bits);
}

double ssp_readcost_dac_energy(const ssp_readcost_params *p, int bits)
{
    return p->dac_fom * ldexp(1.0, bits);
}

double ssp_readcost_t_read(const ssp_readcost_params *p, const ssp_tile_params *t)
{
    return t->adc.t_sample > 0 ? t->adc.t_sample : p->t_read;
}

void ssp_readcost_destroy(ssp_readcost **rp)
{
    ssp_readcost *r;
    if (!rp || !*rp) return;
    r = *rp;
    if (r->g_row)
        for (size_t m = 0; m < r->nmat; m++) free(r->g_row[m]);
    free(r->g_row);
    free(r->gr);
    free(r->gc);
    free(r);
    *rp = NULL;
}

int ssp_readcost_create(ssp_readcost **out, ssp_ctx *ctx, const ssp_hw *hw, const ssp_tile_params *tile,
                        const ssp_readcost_params *p)
{
    ssp_readcost *r = calloc(1, sizeof *r);
    size_t outs = tile->cols / 2;
    *out = NULL;
    if (!r) return ssp_error(ctx, SSP_ENOMEM, "out of memory for the read-energy counter");
    r->ctx = ctx;
    r->hw = hw;
    r->tile = *tile;
    r->p = *p;
    r->nmat = ssp_hw_nmat(hw);
    r->g_row = calloc(r->nmat, sizeof *r->g_row);
    r->gr = calloc(r->nmat, sizeof *r->gr);
    r->gc = calloc(r->nmat, sizeof *r->gc);
    if (!r->g_row || !r->gr || !r->gc || outs == 0 || tile->rows == 0) goto oom;
    for (size_t m = 0; m < r->nmat; m++) {
        r->g_row[m] = calloc(ssp_hw_rows(hw, m), sizeof **r->g_row);
        if (!r->g_row[m]) goto oom;
        r->gr[m] = (ssp_hw_rows(hw, m) + tile->rows - 1) / tile->rows;
        r->gc[m] = (ssp_hw_cols(hw, m) + outs - 1) / outs;
    }
    r->c_row = (double)tile->cols * (ssp_tile_c_segment(tile) + tile->c_cell);
    ssp_readcost_sync(r);
    *out = r;
    return SSP_OK;
oom:
    ssp_readcost_destroy(&r);
    return ssp_error(ctx, SSP_ENOMEM, "out of memory for the read-energy counter");
}

void ssp_readcost_sync(ssp_readcost *r)
{
    const ssp_device_levels *lv = ssp_hw_levels(r->hw);
    for (size_t m = 0; m < r->nmat; m++) {
        const ssp_device *d = ssp_hw_devices_const(r->hw, m);
        size_t rows = ssp_hw_rows(r->hw, m), dcols = ssp_hw_device_cols(r->hw, m);
        /* padding columns of the last tile column read at g_min */
        double pad = (double)(r->gc[m] * r->tile.cols - dcols) * lv->g[0];
        for (size_t i = 0; i < rows; i++) {
            double g = pad;
            for (size_t j = 0; j < dcols; j++) {
                ssp_cell_iv iv;
                ssp_device_cell_iv(&d[i * dcols + j], &iv);
                g += iv.kind == SSP_IV_SINH ? iv.gp * iv.b : iv.g;
            }
            r->g_row[m][i] = g;
        }
    }
}

/* Count n MVMs of matrix m with normalised inputs u (n x rows of m, in
 * [0, 1]; V = u · dac.v_read through the DAC model). */
static void ssp_readcost_add(ssp_readcost *r, size_t m, const double *u, size_t n)
{
    const ssp_tile_params *t = &r->tile;
    size_t rows = ssp_hw_rows(r->hw, m), tiles = r->gr[m] * r->gc[m];
    double tr = ssp_readcost_t_read(&r->p, t), v2 = 0;
    for (size_t q = 0; q < n; q++)
        for (size_t i = 0; i < rows; i++) {
            double v = ssp_dac_voltage(&t->dac, u[q * rows + i] * t->dac.v_max);
            v2 += v * v * (r->g_row[m][i] * tr + (double)r->gc[m] * r->c_row);
        }
    r->tot.mvms += (double)n;
    r->tot.e_array += v2;
    r->tot.e_dac += (double)n * (double)(r->gc[m] * r->gr[m] * t->rows) * ssp_readcost_dac_energy(&r->p, t->dac.bits);
    r->tot.e_tia += (double)n * (double)(tiles * t->cols) * r->p.tia_i_bias * r->p.tia_v_supply * tr;
    r->tot.e_adc += (double)n * (double)(tiles * t->cols) * ssp_readcost_adc_energy(&r->p, t->adc.bits);
    r->tot.latency += (double)n * (tr + r->p.t_conv);
}

void ssp_readcost_wrap(ssp_readcost *r, ssp_readcost_matmul_fn fn, void *payload)
{
    r->fn = fn;
    r->payload = payload;
}

int ssp_readcost_matmul(void *payload, size_t m, const double *u, size_t n, double *z)
{
    ssp_readcost *r = payload;
    ssp_readcost_add(r, m, u, n);
    return r->fn(r->payload, m, u, n, z);
}

const ssp_readcost_totals *ssp_readcost_get(const ssp_readcost *r) { return &r->tot; }
void ssp_readcost_reset(ssp_readcost *r) { memset(&r->tot, 0, sizeof r->tot); }
