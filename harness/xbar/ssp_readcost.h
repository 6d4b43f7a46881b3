/* ssp_readcost.h — energy and latency of the hardware forward pass: every
 * matrix-vector product (MVM) of the network on its crossbar tiles, split
 * into array, DAC, TIA and ADC.
 *
 * Per MVM of a matrix mapped on a grid of gr x gc tiles of rows x cols
 * (every tile with a DAC per row and a TIA and an ADC per physical column),
 * read for t_read = adc.t_sample (or adc.t_read when reads are settled):
 *   array  Σ_i V_i² · (ΣG_i·t_read + C_i): row i's DC power into its cells
 *          through virtual grounds (ΣG_i over every cell of the row, padding
 *          cells at g_min included) for t_read, plus the charge C_i·V_i the
 *          DAC puts on the word line and its cells (wire segments and cells,
 *          ssp_circuit_caps). It neglects the IR drop (which lowers the
 *          current by a few %): ssp_read.h integrates the same read from
 *          the circuit, on the nodal step response and in ngspice, and the
 *          two are compared there (README).
 *   DAC    gr·gc·rows conversions, each FoM_DAC · 2^bits (a Walden-form
 *          energy per conversion step; a capacitive DAC's switching energy
 *          scales with 2^N: Saberi et al., IEEE TCAS-I 58(8), 2011).
 *   TIA    gr·gc·cols amplifiers, each I_bias · V_supply · t_read.
 *   ADC    gr·gc·cols conversions, each by the named model:
 *          walden    FoM_W · 2^ENOB           (Walden, IEEE JSAC 17(4), 1999)
 *          schreier  1 / (2·10^((FoM_S − SNDR)/10)) with SNDR = 6.02·N + 1.76 dB
 *                    (FoM_S = SNDR + 10·log10(BW/P), BW = f_s/2; Schreier &
 *                    Temes 2005, as tabulated in B. Murmann, "ADC Performance
 *                    Survey 1997-2024", github.com/bmurmann/ADC-survey)
 *          with ENOB = the ADC's bits (an ideal quantizer).
 * Latency per MVM: t_read + adc.t_conv (the tiles of a matrix in parallel,
 * the network's MVMs one after another). */
#ifndef SSP_READCOST_H
#define SSP_READCOST_H

#include <stddef.h>

#include "ssp_circuit.h"
#include "ssp_hw.h"

enum ssp_adc_energy_model { SSP_ADC_WALDEN = 0, SSP_ADC_SCHREIER = 1 };

typedef struct ssp_readcost_params {
    double t_read;          /* s, read window when adc.t_sample = 0 (settled reads) */
    double t_conv;          /* s, ADC conversion time */
    int adc_model;          /* enum ssp_adc_energy_model */
    double adc_fom_walden;  /* J per conversion step */
    double adc_fom_schreier;/* dB */
    double dac_fom;         /* J per conversion step */
    double tia_i_bias;      /* A, bias current of one TIA */
    double tia_v_supply;    /* V, its supply */
} ssp_readcost_params;

/* The defaults (values and sources in ssp_readcost.c). */
SSP_API void ssp_readcost_params_default(ssp_readcost_params *p);

/* Energy of one conversion (J). */
SSP_API double ssp_readcost_adc_energy(const ssp_readcost_params *p, int bits);
SSP_API double ssp_readcost_dac_energy(const ssp_readcost_params *p, int bits);
/* The read window of a tile: adc.t_sample, or t_read when 0. */
SSP_API double ssp_readcost_t_read(const ssp_readcost_params *p, const ssp_tile_params *t);

/* Totals over the MVMs counted so far. */
typedef struct ssp_readcost_totals {
    double mvms;                          /* MVMs (one input vector through one matrix) */
    double e_array, e_dac, e_tia, e_adc;  /* J */
    double latency;                       /* s, the MVMs in series */
} ssp_readcost_totals;

typedef int (*ssp_readcost_matmul_fn)(void *payload, size_t m, const double *u, size_t n, double *z);

typedef struct ssp_readcost ssp_readcost;

/* A counter for the matrices of hw (borrowed) on tiles described by tile. */
SSP_API int ssp_readcost_create(ssp_readcost **out, ssp_ctx *ctx, const ssp_hw *hw, const ssp_tile_params *tile,
                        const ssp_readcost_params *p);
SSP_API void ssp_readcost_destroy(ssp_readcost **r);
/* Take the row conductances from the devices as they are now. */
SSP_API void ssp_readcost_sync(ssp_readcost *r);
/* A matmul that counts and then calls fn(payload, ...). */
SSP_API void ssp_readcost_wrap(ssp_readcost *r, ssp_readcost_matmul_fn fn, void *payload);
SSP_API int ssp_readcost_matmul(void *payload, size_t m, const double *u, size_t n, double *z);
SSP_API const ssp_readcost_totals *ssp_readcost_get(const ssp_readcost *r);
SSP_API void ssp_readcost_reset(ssp_readcost *r);

#endif
