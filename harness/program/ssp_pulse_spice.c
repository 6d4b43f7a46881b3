/* ssp_pulse_spice.c — one round of a pulse plan as an ngspice transient on
 * the tile netlist: the devices' full dynamic subcircuits (x0 = present
 * states), a resistor on every word-/bit-line segment, a PWL source per line
 * driver whose corners include every threshold crossing of the selected and
 * half-selected cells (ssp_device_pulse_corners), `tran ... uic`; the final
 * states are read from the state nodes.
 *
 * Energy: every driver's ∫ V·I from its source current; every cell's ∫ V·I
 * from its terminal voltages and state node through the device's own I(V, x)
 * (the very equation of its subcircuit's B-source), split into selected and
 * half-selected by the pulse active at each instant; wires = sources - cells.
 * It prints nothing and keeps no state between calls. */
#include "pulse_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A transient whose last time point is this close to tstop (relative) has
 * covered the whole interval (see the ETIMESTEP note below). */
static const double END_TOLERANCE = 1e-9;
/* ngspice's default RELTOL and ABSTOL (A), which the tile netlist leaves
 * as they are: currents of the transient solution are converged to RELTOL
 * relative plus ABSTOL absolute (ngspice manual, ".options"), so energies
 * computed from them agree to that much (ssp_pulse_wire_energy). */
static const double SPICE_RELTOL = 1e-3;
static const double SPICE_ABSTOL_A = 1e-12;
/* Instance lines are shorter than this (bytes). */
enum { INST_CAP = 8192, SAVE_PER_LINE = 16 };

int pulse_tile_netlist(ssp_ctx *ctx, ssp_text *t, const ssp_device *dev, size_t rows, size_t cols,
                       double r_wire, const unsigned char *dyn)
{
    char *buf = NULL, p[64], n[64], x[64], inst[64];
    size_t len = 0;
    int rc;
    if ((rc = ssp_device_spice_subckt(dev[0].model, ctx, NULL, 0, &len)) != SSP_ERANGE && rc) return rc;
    ssp_ctx_clear_error(ctx); /* the sizing call reports ERANGE by design */
    if (!(buf = malloc(len + 1 > INST_CAP ? len + 1 : INST_CAP)))
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for the tile netlist");
    if ((rc = ssp_device_spice_subckt(dev[0].model, ctx, buf, len + 1, &len))) goto done;
    ssp_text_printf(t, "%s\n", buf);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            if (r_wire > 0) {
                snprintf(p, sizeof p, "r%zu_%zu", i, j);
                snprintf(n, sizeof n, "c%zu_%zu", i, j);
            } else {
                snprintf(p, sizeof p, "rd%zu", i);
                snprintf(n, sizeof n, "cd%zu", j);
            }
            snprintf(x, sizeof x, "s%zu_%zu", i, j);
            snprintf(inst, sizeof inst, "m%zu_%zu", i, j);
            if (dyn && !dyn[i * cols + j]) {
                ssp_cell_iv iv;
                ssp_device_cell_iv(&dev[i * cols + j], &iv);
                if (iv.kind == SSP_IV_LINEAR)
                    ssp_text_printf(t, "r%s %s %s %.17g\n", inst, p, n, 1.0 / iv.g);
                else
                    ssp_text_printf(t, "b%s %s %s i = v(%s,%s) >= 0 ? %.17g * sinh(%.17g * v(%s,%s)) : "
                                    "%.17g * sinh(%.17g * v(%s,%s))\n",
                                 inst, p, n, p, n, iv.gp, iv.b, p, n, iv.gn, iv.b, p, n);
                continue;
            }
            if ((rc = ssp_device_spice_instance(&dev[i * cols + j], ctx, inst, p, n, x, buf, INST_CAP, &len)))
                goto done;
            ssp_text_printf(t, "%s\n", buf);
        }
    if (r_wire > 0) {
        /* word line i driven at column 0's end, bit line j at row 0's end */
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++) {
                if (j == 0)
                    ssp_text_printf(t, "rwl%zu_%zu rd%zu r%zu_%zu %.17g\n", i, j, i, i, j, r_wire);
                else
                    ssp_text_printf(t, "rwl%zu_%zu r%zu_%zu r%zu_%zu %.17g\n", i, j, i, j - 1, i, j, r_wire);
            }
        for (size_t j = 0; j < cols; j++)
            for (size_t i = 0; i < rows; i++) {
                if (i == 0)
                    ssp_text_printf(t, "rbl%zu_%zu cd%zu c%zu_%zu %.17g\n", i, j, j, i, j, r_wire);
                else
                    ssp_text_printf(t, "rbl%zu_%zu c%zu_%zu c%zu_%zu %.17g\n", i, j, i - 1, j, i, j, r_wire);
            }
    }
    rc = ssp_text_check(t, ctx, "the tile netlist");
done:
    free(buf);
    return rc;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ssp_pulse_wire_energy(ssp_ctx *ctx, double e_sources, double e_cells, double tol, double *e_wire)
{
    double d = e_sources - e_cells;
    *e_wire = 0;
    if (!(tol >= 0) || !isfinite(d))
        return ssp_error(ctx, SSP_EINVAL, "wire energy: sources %g J, cells %g J, bound %g J", e_sources, e_cells,
                         tol);
    if (d < -tol)
        return ssp_error(ctx, SSP_EMISMATCH,
                         "the cells took %.6g J but the drivers delivered only %.6g J: a negative wire energy of "
                         "%.3g J, beyond the transient's accuracy (%.3g J)",
                         e_cells, e_sources, d, tol);
    *e_wire = d > 0 ? d : 0;
    return SSP_OK;
}

int pulse_run_spice(ssp_pulse *pp, ssp_spice *s, ssp_device *dev, ssp_pulse_result *res)
{
    size_t R = pp->rows, C = pp->cols, nc = R * C, ncorner = 0, nt = 0, nv, k, c;
    const ssp_device *ref = NULL;
    corner *cor = NULL;
    double *lineV = NULL, *time = NULL;
    double **vrow = NULL, **vcol = NULL, **irow = NULL, **icol = NULL, **xs = NULL, **vp = NULL,
           **vn = NULL;
    unsigned char *member = NULL, *dyn = NULL;
    size_t ndyn = 0;
    long *gat = NULL;
    ssp_device *ds = NULL; /* the states at a pulse's start, for the C model's sums */
    ssp_text tx = {0};
    double tstop, tmax, t_start;
    char name[64];
    int rc = SSP_OK;

    for (c = 0; c < nc && !ref; c++)
        if (dev[c].stuck == SSP_DEVICE_FREE) ref = &dev[c];
    if (!ref) ref = &dev[0];
    if (pp->ngrp == 0) return SSP_OK;
    /* line voltages per group and cell membership per group */
    lineV = malloc(pp->ngrp * (R + C) * sizeof *lineV);
    member = calloc(pp->ngrp * nc, 1);
    vrow = calloc(R, sizeof *vrow);
    irow = calloc(R, sizeof *irow);
    vcol = calloc(C, sizeof *vcol);
    icol = calloc(C, sizeof *icol);
    xs = calloc(nc, sizeof *xs);
    vp = calloc(nc, sizeof *vp);
    vn = calloc(nc, sizeof *vn);
    dyn = calloc(nc, 1);
    if (!dyn || !lineV || !member || !vrow || !irow || !vcol || !icol || !xs || !vp || !vn) {
        rc = ssp_error(pp->ctx, SSP_ENOMEM, "out of memory for a tile transient");
        goto done;
    }
    for (size_t g = 0; g < pp->ngrp; g++) {
        pulse_line_voltages(pp, &pp->grp[g], lineV + g * (R + C), lineV + g * (R + C) + R);
        for (k = 0; k < pp->grp[g].n; k++) member[g * nc + pp->gcell[pp->grp[g].first + k]] = 1;
    }
    if ((rc = pulse_corners(pp->ctx, ref, pp->p.bias, pp->p.edge, pp->grp, pp->ngrp, &cor, &ncorner)))
        goto done;

    /* the netlist */
    ssp_text_printf(&tx, "* siamspice tile programming round: %zu x %zu, %zu pulses\n", R, C, pp->ngrp);
    /* which cells can move this round */
    for (c = 0; c < nc; c++) {
        dyn[c] = dev[c].stuck == SSP_DEVICE_FREE && pp->p.dynamic_all;
        for (size_t g = 0; g < pp->ngrp && !dyn[c] && dev[c].stuck == SSP_DEVICE_FREE; g++) {
            const double *lv = lineV + g * (R + C);
            double v = (lv[c / C] - lv[R + c % C]) * (1.0 + SSP_PULSE_FREEZE_MARGIN);
            ssp_device d = dev[c];
            if (v == 0) continue;
            if ((rc = ssp_device_pulse(&d, pp->work, NULL, v, pp->grp[g].width))) goto done;
            if (d.x != dev[c].x) dyn[c] = 1;
        }
        ndyn += dyn[c];
    }
    if ((rc = pulse_tile_netlist(pp->ctx, &tx, dev, R, C, pp->p.r_wire, dyn))) goto done;
    for (size_t l = 0; l < R + C; l++) {
        if (l < R)
            ssp_text_printf(&tx, "vr%zu rd%zu 0 pwl(\n", l, l);
        else
            ssp_text_printf(&tx, "vc%zu cd%zu 0 pwl(\n", l - R, l - R);
        for (k = 0; k < ncorner; k++) {
            double v = cor[k].g >= 0 ? lineV[(size_t)cor[k].g * (R + C) + l] * cor[k].shape : 0;
            ssp_text_printf(&tx, "+ %.17g %.17g\n", cor[k].t, v);
        }
        ssp_text_printf(&tx, "+ )\n");
    }
    for (size_t l = 0; l < R + C; l++) {
        if (l % SAVE_PER_LINE == 0) ssp_text_printf(&tx, "%s.save", l ? "\n" : "");
        if (l < R)
            ssp_text_printf(&tx, " v(rd%zu) i(vr%zu)", l, l);
        else
            ssp_text_printf(&tx, " v(cd%zu) i(vc%zu)", l - R, l - R);
    }
    for (c = 0; c < nc; c++) {
        if (c % SAVE_PER_LINE == 0) ssp_text_printf(&tx, "\n.save");
        if (dyn[c]) ssp_text_printf(&tx, " v(s%zu_%zu)", c / C, c % C);
        if (pp->p.r_wire > 0) ssp_text_printf(&tx, " v(r%zu_%zu) v(c%zu_%zu)", c / C, c % C, c / C, c % C);
    }
    ssp_text_printf(&tx, "\n.end\n");
    if ((rc = ssp_text_check(&tx, pp->ctx, "the tile netlist"))) goto done;

    tstop = cor[ncorner - 1].t + pp->p.edge;
    tmax = pp->p.tmax_frac * pp->p.width;
    t_start = wall_s();
    if ((rc = ssp_spice_load_text(s, tx.s))) goto done;
    rc = ssp_spice_tran(s, tmax, tstop, tmax, 1);
    res->spice_s += wall_s() - t_start;
    if (rc == SSP_ETIMESTEP) {
        /* ngspice with a sync callback installed can die within picoseconds
         * of tstop (see ssp_devcurve in devicemodels and plugin/ssp_spice.c);
         * only that case passes: the whole interval up to END_TOLERANCE,
         * long after the last pulse ended. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ssp_ctx_errmsg(pp->ctx));
        if ((rc = ssp_spice_vec(s, "time", &time, &nt))) goto done;
        if (!(nt > 0 && tstop - time[nt - 1] <= END_TOLERANCE * tstop)) {
            rc = ssp_error(pp->ctx, SSP_ETIMESTEP, "%s", msg);
            goto done;
        }
        ssp_ctx_clear_error(pp->ctx);
    } else if (rc)
        goto done;
    else if ((rc = ssp_spice_vec(s, "time", &time, &nt)))
        goto done;
    ssp_log(pp->ctx, SSP_LOG_DEBUG, "pulse_transient",
            "rows = %zu, cols = %zu, dynamic_cells = %zu, pulses = %zu, corners = %zu, time_points = %zu, tstop = %g s, wall = %g s",
            R, C, ndyn, pp->ngrp, ncorner, nt, tstop, wall_s() - t_start);

#define GETVEC(dst, ...)                                                                   \
    do {                                                                                   \
        snprintf(name, sizeof name, __VA_ARGS__);                                          \
        if ((rc = ssp_spice_vec(s, name, &(dst), &nv))) goto done;                         \
        if (nv != nt) {                                                                    \
            rc = ssp_error(pp->ctx, SSP_ENOVEC, "vector %s has %zu points, time %zu", name, \
                           nv, nt);                                                        \
            goto done;                                                                     \
        }                                                                                  \
    } while (0)
    for (size_t i = 0; i < R; i++) {
        GETVEC(vrow[i], "v(rd%zu)", i);
        GETVEC(irow[i], "i(vr%zu)", i);
    }
    for (size_t j = 0; j < C; j++) {
        GETVEC(vcol[j], "v(cd%zu)", j);
        GETVEC(icol[j], "i(vc%zu)", j);
    }
    for (c = 0; c < nc; c++) {
        if (dyn[c]) {
            GETVEC(xs[c], "v(s%zu_%zu)", c / C, c % C);
        } else {
            if (!(xs[c] = malloc(nt * sizeof *xs[c]))) {
                rc = ssp_error(pp->ctx, SSP_ENOMEM, "out of memory");
                goto done;
            }
            for (k = 0; k < nt; k++) xs[c][k] = dev[c].x;
        }
        if (pp->p.r_wire > 0) {
            GETVEC(vp[c], "v(r%zu_%zu)", c / C, c % C);
            GETVEC(vn[c], "v(c%zu_%zu)", c / C, c % C);
        }
    }
#undef GETVEC
    if (pp->wave && (rc = pulse_wave_record(pp, dev, time, nt, vrow, vcol, vp, vn, xs, member))) goto done;

    /* the pulse active in each interval [time[k], time[k+1]] */
    if (!(gat = malloc((nt ? nt : 1) * sizeof *gat))) {
        rc = ssp_error(pp->ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    {
        size_t g = 0;
        for (k = 0; k + 1 < nt; k++) {
            double mid = 0.5 * (time[k] + time[k + 1]);
            while (g < pp->ngrp && pp->grp[g].t0 + 2 * pp->p.edge + pp->grp[g].width < mid) g++;
            gat[k] = (g < pp->ngrp && pp->grp[g].t0 <= mid) ? (long)g : -1;
        }
    }
    /* sources */
    {
        double esrc = 0, esel = 0, ehalf = 0, vdt = 0, ewire, tol;
        for (size_t l = 0; l < R + C; l++) {
            const double *v = l < R ? vrow[l] : vcol[l - R], *i = l < R ? irow[l] : icol[l - R];
            for (k = 0; k + 1 < nt; k++) {
                esrc -= 0.5 * (v[k] * i[k] + v[k + 1] * i[k + 1]) * (time[k + 1] - time[k]);
                vdt += 0.5 * (fabs(v[k]) + fabs(v[k + 1])) * (time[k + 1] - time[k]);
            }
        }
        for (c = 0; c < nc; c++) {
            ssp_device d = dev[c];
            const double *a = pp->p.r_wire > 0 ? vp[c] : vrow[c / C];
            const double *b = pp->p.r_wire > 0 ? vn[c] : vcol[c % C];
            double pprev, pk;
            d.x = xs[c][0];
            pprev = (a[0] - b[0]) * ssp_device_current(&d, a[0] - b[0]);
            for (k = 0; k + 1 < nt; k++) {
                double v = a[k + 1] - b[k + 1], e;
                d.x = xs[c][k + 1];
                pk = v * ssp_device_current(&d, v);
                e = 0.5 * (pprev + pk) * (time[k + 1] - time[k]);
                pprev = pk;
                if (gat[k] >= 0 && member[(size_t)gat[k] * nc + c])
                    esel += e;
                else
                    ehalf += e;
            }
        }
        tol = SPICE_RELTOL * (fabs(esrc) + fabs(esel) + fabs(ehalf)) + SPICE_ABSTOL_A * vdt;
        if ((rc = ssp_pulse_wire_energy(pp->ctx, esrc, esel + ehalf, tol, &ewire))) goto done;
        res->energy_sel_j += esel;
        res->energy_half_j += ehalf;
        res->energy_wire_j += ewire;
        res->energy_tol_j += tol;
    }
    /* the C model's sums for the same pulses (what the calibration maps to
     * the measured energies): the states at each pulse's start and end, the
     * cell voltages from the model's wire solve at the start states */
    if (!(ds = malloc(nc * sizeof *ds))) {
        rc = ssp_error(pp->ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(ds, dev, nc * sizeof *ds);
    pulse_cells_begin(pp, ds);
    for (size_t g = 0; g < pp->ngrp; g++) {
        const pgroup *gr = &pp->grp[g];
        const double *lv = lineV + g * (R + C);
        size_t k0 = ssp_spice_time_before(time, nt, gr->t0);
        size_t k1 = ssp_spice_time_before(time, nt, gr->t0 + 2 * pp->p.edge + gr->width);
        for (c = 0; c < nc; c++)
            if (ds[c].x != xs[c][k0]) {
                ds[c].x = xs[c][k0];
                pulse_cell_moved(pp, c);
            }
        if ((rc = pulse_cell_voltages(pp, ds, lv, lv + R))) goto done;
        for (c = 0; c < nc; c++) {
            double d = lv[c / C] - lv[R + c % C], e, ew;
            if (d == 0) continue;
            e = pulse_energy_analytic(&dev[c], pp->vcell[c], d, gr->width, pp->p.edge, xs[c][k0], xs[c][k1], &ew);
            if (member[g * nc + c])
                res->energy_sel_analytic_j += e;
            else
                res->energy_half_analytic_j += e;
            res->energy_wire_analytic_j += ew;
        }
    }
    /* the states reached, disturb included */
    for (c = 0; c < nc; c++)
        if (dev[c].stuck == SSP_DEVICE_FREE) dev[c].x = xs[c][nt - 1];

done:
    ssp_spice_unload(s);
    for (size_t i = 0; i < R; i++) {
        if (vrow) free(vrow[i]);
        if (irow) free(irow[i]);
    }
    for (size_t j = 0; j < C; j++) {
        if (vcol) free(vcol[j]);
        if (icol) free(icol[j]);
    }
    for (c = 0; c < nc; c++) {
        if (xs) free(xs[c]);
        if (vp) free(vp[c]);
        if (vn) free(vn[c]);
    }
    free(vrow);
    free(irow);
    free(vcol);
    free(icol);
    free(xs);
    free(vp);
    free(vn);
    free(lineV);
    free(member);
    free(dyn);
    free(cor);
    free(time);
    free(gat);
    free(ds);
    ssp_text_free(&tx);
    return rc;
}
