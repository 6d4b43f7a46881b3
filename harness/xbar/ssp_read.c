/* ssp_read.c — a transient read of one tile on the nodal step response and
 * in ngspice (ssp_read.h): the same circuit, the same step, the traces on
 * one time grid and the figures that compare them. It never decides
 * anything about the circuit and never falls back from a failed ngspice run. */
#include "ssp_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssp_file.h"
#include "ssp_spice_emit.h"

/* The traces end this factor past max(settling time, t_sample). */
static const double SSP_READ_TAIL = 1.5;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void ssp_read_result_free(ssp_read_result *r)
{
    if (!r) return;
    free(r->t);
    free(r->wl);
    free(r->bl);
    free(r->out);
    free(r->out_all);
    free(r->e_nodal);
    free(r->wl_sp);
    free(r->bl_sp);
    free(r->out_sp);
    memset(r, 0, sizeof *r);
}

/* Node of cell (row, col)'s word side (side 0) or bit side (side 1). */
static int cell_node(const ssp_circuit *c, size_t row, size_t col, int side)
{
    const ssp_tile_params *p = ssp_circuit_params(c);
    const ssp_element *el = ssp_circuit_elements(c);
    size_t n = ssp_circuit_n_elements(c), idx = row * p->cols + col;
    for (size_t i = 0; i < n; i++) {
        if (el[i].kind == SSP_EL_CELL && (size_t)el[i].index == idx) {
            if (side == 0) return el[i].a;
            /* 1T1R: the bit side is the transistor's source */
            if (p->cell == SSP_CELL_1T1R && i + 1 < n && el[i + 1].kind == SSP_EL_NMOS) return el[i + 1].b;
            return el[i].b;
        }
    }
    return 0;
}

/* y(t) at times tq from samples (ts, ys) of n points, linear. */
static void interp(const double *ts, const double *ys, size_t n, const double *tq, size_t nq, double *out)
{
    size_t k = 0;
    for (size_t q = 0; q < nq; q++) {
        double t = tq[q];
        while (k + 2 < n && ts[k + 1] < t) k++;
        if (n == 1 || t <= ts[0]) out[q] = ys[0];
        else if (t >= ts[n - 1]) out[q] = ys[n - 1];
        else {
            double w = (t - ts[k]) / (ts[k + 1] - ts[k]);
            out[q] = ys[k] + w * (ys[k + 1] - ys[k]);
        }
    }
}

/* The ngspice transient of the same read: traces onto r's grid, the
 * difference of every TIA output, and the rows' energy until t_read. */
static int run_spice(ssp_ctx *ctx, const ssp_circuit *c, const double *v_rows, ssp_spice *spice,
                     const ssp_read_opts *o, ssp_read_result *r, const int *probe)
{
    const ssp_tile_params *p = ssp_circuit_params(c);
    size_t rows = p->rows, cols = p->cols, i, j, q, nt = 0, n;
    char **save = NULL, *text = NULL, name[2 * SSP_NAME_MAX + 16];
    double *ts = NULL, *v = NULL, *tr = NULL;
    double lsb = ssp_adc_lsb(&p->adc), t0 = now_s(), h = r->t[1] - r->t[0], e = 0;
    ssp_emit_opts eo = {0};
    int rc = SSP_OK;
    save = calloc(rows + 2, sizeof *save);
    tr = malloc(r->n_t * sizeof *tr);
    r->wl_sp = malloc(r->n_t * sizeof *r->wl_sp);
    r->bl_sp = malloc(r->n_t * sizeof *r->bl_sp);
    r->out_sp = malloc(r->n_t * sizeof *r->out_sp);
    if (!save || !tr || !r->wl_sp || !r->bl_sp || !r->out_sp) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory for the ngspice read");
        goto done;
    }
    for (i = 0; i < rows && !rc; i++) {
        snprintf(name, sizeof name, "i(vr%zu)", i);
        if (!(save[i] = strdup(name))) rc = SSP_ENOMEM;
    }
    for (i = 0; i < 2 && !rc; i++) {
        snprintf(name, sizeof name, "v(%s)", ssp_circuit_node_name(c, probe[i]));
        if (!(save[rows + i] = strdup(name))) rc = SSP_ENOMEM;
    }
    if (rc) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory for the ngspice read");
        goto done;
    }
    eo.title = "siamspice transient read";
    eo.v_step = v_rows;
    eo.save = (const char *const *)save;
    eo.n_save = rows + 2;
    eo.reltol = o->reltol > 0 ? o->reltol : SSP_READ_SPICE_RELTOL;
    rc = ssp_spice_emit_text(&text, ctx, c, &eo);
    if (!rc) rc = ssp_spice_load_text(spice, text);
    /* tmax = the nodal step: ngspice resolves at least the nodal grid */
    if (!rc) rc = ssp_spice_tran(spice, h, r->t[r->n_t - 1], h, 0);
    if (!rc) rc = ssp_spice_vec(spice, "time", &ts, &nt);
    if (rc) {
        ssp_error_prefix(ctx, "ngspice transient read: ");
        goto done;
    }
    r->spice_points = nt;
    /* the probes */
    for (i = 0; i < 2 && !rc; i++) {
        rc = ssp_spice_vec(spice, save[rows + i], &v, &n);
        if (!rc && n != nt) rc = ssp_error(ctx, SSP_EFORMAT, "ngspice vector %s has %zu points, time %zu", save[rows + i], n, nt);
        if (!rc) interp(ts, v, nt, r->t, r->n_t, i == 0 ? r->wl_sp : r->bl_sp);
        free(v);
        v = NULL;
    }
    /* every TIA output against the nodal grid */
    for (j = 0; j < cols && !rc; j++) {
        double span;
        ssp_spice_out_vector(c, j, name, sizeof name);
        rc = ssp_spice_vec(spice, name, &v, &n);
        if (!rc && n != nt) rc = ssp_error(ctx, SSP_EFORMAT, "ngspice vector %s has %zu points, time %zu", name, n, nt);
        if (rc) break;
        interp(ts, v, nt, r->t, r->n_t, tr);
        if (j == o->probe_col) memcpy(r->out_sp, tr, r->n_t * sizeof *tr);
        span = fabs(r->out_all[(r->n_t - 1) * cols + j] - r->out_all[j]);
        if (span < lsb) span = lsb;
        for (q = 0; q < r->n_t; q++) {
            double d = fabs(tr[q] - r->out_all[q * cols + j]) / span;
            if (d > r->spice_vs_nodal) r->spice_vs_nodal = d;
        }
        free(v);
        v = NULL;
    }
    /* the rows' energy: -V·i integrated (trapezoid) over ngspice's own points until t_read */
    for (i = 0; i < rows && !rc; i++) {
        rc = ssp_spice_vec(spice, save[i], &v, &n);
        if (!rc && n != nt) rc = ssp_error(ctx, SSP_EFORMAT, "ngspice vector %s has %zu points", save[i], n);
        if (rc) break;
        for (q = 1; q < nt && ts[q - 1] < r->t_read_s; q++) {
            double t1 = ts[q] < r->t_read_s ? ts[q] : r->t_read_s, dt = t1 - ts[q - 1];
            /* the source holds v_rows[i] after its 1 ps edge */
            e += -v_rows[i] * 0.5 * (v[q - 1] + v[q]) * dt;
        }
        free(v);
        v = NULL;
    }
    r->e_spice_j = e;
    r->have_spice = !rc;
done:
    r->spice_s = now_s() - t0;
    if (save)
        for (i = 0; i < rows + 2; i++) free(save[i]);
    free(save);
    free(text);
    free(ts);
    free(v);
    free(tr);
    if (spice) ssp_spice_unload(spice);
    return rc;
}

int ssp_read_run(ssp_ctx *ctx, const ssp_circuit *c, const double *v_rows, ssp_spice *spice,
                 const ssp_read_opts *opts, ssp_read_result *r)
{
    static const ssp_read_opts none = {0};
    const ssp_read_opts *o = opts ? opts : &none;
    const ssp_tile_params *p = ssp_circuit_params(c);
    ssp_step *st = NULL;
    size_t nsteps, k, cols = p->cols;
    double tol = o->tol_v > 0 ? o->tol_v : 0.5 * ssp_adc_lsb(&p->adc), t_end, h, t0 = now_s();
    double *pv = NULL;
    int probe[2], rc;
    memset(r, 0, sizeof *r);
    if (o->probe_row >= p->rows || o->probe_col >= p->cols)
        return ssp_error(ctx, SSP_EINVAL, "read: probe row %zu / column %zu outside the %zux%zu tile", o->probe_row,
                         o->probe_col, p->rows, p->cols);
    rc = ssp_step_create(&st, ctx, c);
    if (!rc) rc = ssp_step_settle(st, v_rows, tol, p->adc.t_sample, &r->st, NULL);
    if (rc) goto done;
    r->t_read_s = p->adc.t_sample > 0 ? p->adc.t_sample : r->st.t_settle_s;
    t_end = o->t_stop > 0 ? o->t_stop : SSP_READ_TAIL * fmax(r->st.t_settle_s, p->adc.t_sample);
    h = r->st.h_s;
    if (!(h > 0)) {
        rc = ssp_error(ctx, SSP_EINVAL, "read: the tile has no reactive element (no capacitance, ideal TIA): "
                       "nothing to integrate");
        goto done;
    }
    nsteps = (size_t)ceil(t_end / h);
    if (nsteps < 2) nsteps = 2;
    r->n_t = nsteps + 1;
    r->t = malloc(r->n_t * sizeof *r->t);
    r->wl = malloc(r->n_t * sizeof *r->wl);
    r->bl = malloc(r->n_t * sizeof *r->bl);
    r->out = malloc(r->n_t * sizeof *r->out);
    r->out_all = malloc(r->n_t * cols * sizeof *r->out_all);
    r->e_nodal = malloc(r->n_t * sizeof *r->e_nodal);
    pv = malloc(2 * r->n_t * sizeof *pv);
    if (!r->t || !r->wl || !r->bl || !r->out || !r->out_all || !r->e_nodal || !pv) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory for a %zu-point read", r->n_t);
        goto done;
    }
    probe[0] = cell_node(c, o->probe_row, cols - 1, 0);
    probe[1] = cell_node(c, p->rows - 1, o->probe_col, 1);
    rc = ssp_step_run(st, v_rows, h, nsteps, r->out_all, probe, 2, pv, r->e_nodal);
    if (rc) goto done;
    for (k = 0; k < r->n_t; k++) {
        r->t[k] = (double)k * h;
        r->wl[k] = pv[2 * k];
        r->bl[k] = pv[2 * k + 1];
        r->out[k] = r->out_all[k * cols + o->probe_col];
    }
    {
        double kr = r->t_read_s / h;
        size_t k0 = (size_t)floor(kr);
        if (k0 + 1 >= r->n_t) r->e_nodal_j = r->e_nodal[r->n_t - 1];
        else r->e_nodal_j = r->e_nodal[k0] + (kr - (double)k0) * (r->e_nodal[k0 + 1] - r->e_nodal[k0]);
    }
    r->nodal_s = now_s() - t0;
    if (spice) rc = run_spice(ctx, c, v_rows, spice, o, r, probe);
done:
    free(pv);
    ssp_step_destroy(&st);
    if (rc) ssp_read_result_free(r);
    return rc;
}

int ssp_read_write_csv(ssp_ctx *ctx, const ssp_read_result *r, const char *path)
{
    ssp_afile *af;
    FILE *f;
    int rc = ssp_file_atomic_open(&af, ctx, path);
    if (rc) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "# t_sample_s=%.9g t_settle_s=%.9g t_read_s=%.9g\n", r->st.t_sample_s, r->st.t_settle_s, r->t_read_s);
    fprintf(f, "time_s,v_wl_V,v_bl_V,v_out_V%s,e_rows_J\n", r->have_spice ? ",v_wl_spice_V,v_bl_spice_V,v_out_spice_V" : "");
    for (size_t k = 0; k < r->n_t; k++) {
        fprintf(f, "%.9g,%.9g,%.9g,%.9g", r->t[k], r->wl[k], r->bl[k], r->out[k]);
        if (r->have_spice) fprintf(f, ",%.9g,%.9g,%.9g", r->wl_sp[k], r->bl_sp[k], r->out_sp[k]);
        fprintf(f, ",%.9g\n", r->e_nodal[k]);
    }
    if (ferror(f)) {
        ssp_file_atomic_abort(&af);
        return ssp_error(ctx, SSP_EIO, "writing %s failed", path);
    }
    return ssp_file_atomic_commit(&af, ctx);
}
