/* ssp_pulse_wave.c — the waveform of one programming transient: one cell's
 * word- and bit-line driver voltages, the voltage across it, its state and
 * current, copied out of the first ngspice transient of a programming run
 * in which that cell is selected, and its CSV export.
 *
 * It only copies what pulse_run_spice already read from ngspice (the one
 * hook there is a call to pulse_wave_record); it runs no simulation, plans
 * nothing and prints nothing. The current is the device's own I(V, x), the
 * equation of its subcircuit's B-source, at the recorded voltage and state. */
#include "pulse_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"

void ssp_pulse_wave_clear(ssp_pulse_wave *w)
{
    if (!w) return;
    free(w->t);
    free(w->v_wl);
    free(w->v_bl);
    free(w->v_cell);
    free(w->x);
    free(w->i);
    free(w->g_read);
    w->t = w->v_wl = w->v_bl = w->v_cell = w->x = w->i = w->g_read = NULL;
    w->n = 0;
    w->round = -1;
    w->transients = 0;
}

int ssp_pulse_wave_arm(ssp_pulse *pp, ssp_pulse_wave *w, size_t row, size_t col)
{
    if (!w) {
        pp->wave = NULL;
        return SSP_OK;
    }
    if (row >= pp->rows || col >= pp->cols)
        return ssp_error(pp->ctx, SSP_ERANGE, "waveform cell (%zu, %zu) is outside the %zu x %zu tile", row, col,
                         pp->rows, pp->cols);
    ssp_pulse_wave_clear(w);
    w->row = row;
    w->col = col;
    pp->wave = w;
    return SSP_OK;
}

int pulse_wave_record(ssp_pulse *pp, const ssp_device *dev, const double *time, size_t nt,
                      double *const *vrow, double *const *vcol, double *const *vp, double *const *vn,
                      double *const *xs, const unsigned char *member)
{
    ssp_pulse_wave *w = pp->wave;
    size_t R = pp->rows, C = pp->cols, c = w->row * C + w->col, g;
    double v_read = ssp_device_model_read_voltage(dev[c].model);
    int selected = 0;
    w->transients++;
    if (w->round >= 0 || nt == 0) return SSP_OK;
    for (g = 0; g < pp->ngrp && !selected; g++) selected = member[g * R * C + c] != 0;
    if (!selected) return SSP_OK;
    w->t = malloc(nt * sizeof *w->t);
    w->v_wl = malloc(nt * sizeof *w->v_wl);
    w->v_bl = malloc(nt * sizeof *w->v_bl);
    w->v_cell = malloc(nt * sizeof *w->v_cell);
    w->x = malloc(nt * sizeof *w->x);
    w->i = malloc(nt * sizeof *w->i);
    w->g_read = malloc(nt * sizeof *w->g_read);
    if (!w->t || !w->v_wl || !w->v_bl || !w->v_cell || !w->x || !w->i || !w->g_read) {
        ssp_pulse_wave_clear(w);
        return ssp_error(pp->ctx, SSP_ENOMEM, "out of memory for a %zu-point waveform", nt);
    }
    for (size_t k = 0; k < nt; k++) {
        ssp_device d = dev[c];
        double a = vp[c] ? vp[c][k] : vrow[w->row][k], b = vn[c] ? vn[c][k] : vcol[w->col][k];
        d.x = xs[c][k];
        w->t[k] = time[k];
        w->v_wl[k] = vrow[w->row][k];
        w->v_bl[k] = vcol[w->col][k];
        w->v_cell[k] = a - b;
        w->x[k] = d.x;
        w->i[k] = ssp_device_current(&d, a - b);
        w->g_read[k] = ssp_device_conductance(&d, v_read);
    }
    w->n = nt;
    w->round = w->transients - 1;
    return SSP_OK;
}

int ssp_pulse_wave_export_csv(const ssp_pulse_wave *w, ssp_ctx *ctx, const char *path)
{
    ssp_afile *af;
    FILE *f;
    int rc;
    if (w->n == 0)
        return ssp_error(ctx, SSP_ESTATE, "no waveform recorded: cell (%zu, %zu) was not selected by a pulse in "
                         "any of %ld ngspice transients", w->row, w->col, w->transients);
    if ((rc = ssp_file_atomic_open(&af, ctx, path))) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "# siamspice programming waveform: cell (%zu, %zu), transient %ld of %ld\n", w->row, w->col,
            w->round + 1, w->transients);
    fprintf(f, "time_s,v_wl_V,v_bl_V,v_cell_V,state_x,i_cell_A,g_read_S\n");
    for (size_t k = 0; k < w->n; k++)
        fprintf(f, "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", w->t[k], w->v_wl[k], w->v_bl[k], w->v_cell[k],
                w->x[k], w->i[k], w->g_read[k]);
    return ssp_file_atomic_commit(&af, ctx);
}
