/* ssp_pulse.c — the pulse scheduler: plans rounds of parallel pulses for a
 * tile, runs them on the C device model (or hands them to ssp_pulse_spice.c;
 * what both share is pulse_common.c),
 * verifies, and records the schedule and its cost. See ssp_pulse.h. It holds
 * no global state and prints nothing. */
#include "pulse_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default line settling time before every pulse (s): a few RC constants of
 * a 32-cell line with 1 kohm drivers and ~10 fF per cell. */
static const double DEFAULT_SETTLE_S = 10e-9;
/* Default most write-verify rounds. */
static const long DEFAULT_VERIFY_MAX = 8;
/* Default largest ngspice step, as a fraction of the full pulse width. */
static const double DEFAULT_TMAX_FRAC = 0.1;
/* A pulsed cell whose read conductance moved by less than this fraction of a
 * level spacing over a whole round is taken as stuck (unreachable). */
static const double STUCK_MOVE_LEVELS = 1e-6;
/* A band at the nominal range's end is aimed at this fraction of its width
 * inside the range. */
static const double AIM_MARGIN_BAND = 0.25;
/* Largest amplitude step factor allowed (amplitude grows at most x3). */
static const double AMP_STEP_MAX = 2.0;

/* ---- names ------------------------------------------------------------------------ */

const char *ssp_pulse_phase_name(int phase)
{
    return phase == SSP_PULSE_SET ? "SET" : phase == SSP_PULSE_RESET ? "RESET" : "VERIFY";
}

const char *ssp_pulse_bias_name(int bias)
{
    return bias == SSP_PULSE_V2 ? "v2" : bias == SSP_PULSE_V3 ? "v3" : "full";
}

void ssp_pulse_params_default(ssp_pulse_params *p, const ssp_device_model *m)
{
    memset(p, 0, sizeof *p);
    p->strategy = SSP_PULSE_VERIFY;
    p->bias = SSP_PULSE_V2;
    p->order = SSP_PULSE_BY_ROW;
    p->verify_max = DEFAULT_VERIFY_MAX;
    ssp_device_model_pulse(m, SSP_DEVICE_SET, &p->set_amp, &p->width);
    ssp_device_model_pulse(m, SSP_DEVICE_RESET, &p->reset_amp, &p->width);
    p->edge = ssp_device_model_edge(m);
    p->t_verify = ssp_device_model_read_width(m);
    p->t_settle = DEFAULT_SETTLE_S;
    p->tmax_frac = DEFAULT_TMAX_FRAC;
    p->c_line_cell = SSP_PULSE_C_LINE_CELL;
}

/* ---- schedules -------------------------------------------------------------- */

int ssp_pulse_schedule_alloc(ssp_pulse_schedule **out, ssp_ctx *ctx, size_t rows, size_t cols)
{
    ssp_pulse_schedule *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s) return ssp_error(ctx, SSP_ENOMEM, "out of memory for a schedule");
    s->rows = rows;
    s->cols = cols;
    s->bias = SSP_PULSE_V2;
    *out = s;
    return SSP_OK;
}

void ssp_pulse_schedule_free(ssp_pulse_schedule **s)
{
    if (!s || !*s) return;
    free((*s)->ev);
    free(*s);
    *s = NULL;
}

int ssp_pulse_schedule_add(ssp_pulse_schedule *s, ssp_ctx *ctx, const ssp_pulse_event *e)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        ssp_pulse_event *ev = realloc(s->ev, cap * sizeof *ev);
        if (!ev) return ssp_error(ctx, SSP_ENOMEM, "out of memory for %zu schedule events", cap);
        s->ev = ev;
        s->cap = cap;
    }
    s->ev[s->n++] = *e;
    return SSP_OK;
}

/* ---- the programmer ----------------------------------------------------------- */

int ssp_pulse_create(ssp_pulse **out, ssp_ctx *ctx, const ssp_device_model *m,
                     const ssp_device_levels *lv, size_t rows, size_t cols,
                     const ssp_pulse_params *p)
{
    ssp_pulse *pp;
    size_t nc = rows * cols;
    int rc;
    *out = NULL;
    if (!m || !lv || !p) return ssp_error(ctx, SSP_EINVAL, "pulse programmer: missing model, levels or parameters");
    if (rows == 0 || cols == 0) return ssp_error(ctx, SSP_EINVAL, "pulse programmer: empty tile %zu x %zu", rows, cols);
    if (!(p->width > 0) || !isfinite(p->width))
        return ssp_error(ctx, SSP_EINVAL, "pulse width %g s is not > 0", p->width);
    if (!(p->edge > 0) || !isfinite(p->edge))
        return ssp_error(ctx, SSP_EINVAL, "pulse edge %g s is not > 0", p->edge);
    if (!(p->t_verify >= 0) || !(p->t_settle >= 0))
        return ssp_error(ctx, SSP_EINVAL, "verify time %g s and settling time %g s must be >= 0",
                         p->t_verify, p->t_settle);
    if (!(p->r_wire >= 0) || !isfinite(p->r_wire))
        return ssp_error(ctx, SSP_EINVAL, "wire resistance %g ohm per segment must be >= 0", p->r_wire);
    if (!(p->c_line_cell >= 0) || !isfinite(p->c_line_cell))
        return ssp_error(ctx, SSP_EINVAL, "line capacitance %g F per cell must be >= 0", p->c_line_cell);
    if (!(p->tmax_frac > 0 && p->tmax_frac <= 1))
        return ssp_error(ctx, SSP_EINVAL, "tmax_frac %g must be in (0, 1]", p->tmax_frac);
    if (!(p->amp_step >= 0 && p->amp_step * (double)p->verify_max <= AMP_STEP_MAX))
        return ssp_error(ctx, SSP_EINVAL, "amplitude step %g per round (x %ld rounds) outside [0, %g]",
                         p->amp_step, p->verify_max, AMP_STEP_MAX);
    if (p->verify_max < 1) return ssp_error(ctx, SSP_EINVAL, "verify_max %ld must be >= 1", p->verify_max);
    if (!(p->set_amp != 0) || !(p->reset_amp != 0) || (p->set_amp > 0) == (p->reset_amp > 0))
        return ssp_error(ctx, SSP_EINVAL, "SET (%g V) and RESET (%g V) amplitudes must be non-zero and of opposite sign",
                         p->set_amp, p->reset_amp);
    if (p->bias != SSP_PULSE_V2 && p->bias != SSP_PULSE_V3 && p->bias != SSP_PULSE_FULL)
        return ssp_error(ctx, SSP_EINVAL, "unknown bias scheme %d", p->bias);
    if (p->strategy != SSP_PULSE_OPEN && p->strategy != SSP_PULSE_VERIFY)
        return ssp_error(ctx, SSP_EINVAL, "unknown strategy %d", p->strategy);
    if (p->order != SSP_PULSE_BY_ROW && p->order != SSP_PULSE_BY_COL && p->order != SSP_PULSE_BY_AUTO)
        return ssp_error(ctx, SSP_EINVAL, "unknown line order %d", p->order);
    if (!(pp = calloc(1, sizeof *pp))) return ssp_error(ctx, SSP_ENOMEM, "out of memory");
    pp->ctx = ctx;
    pp->m = m;
    pp->lv = lv;
    pp->rows = rows;
    pp->cols = cols;
    pp->p = *p;
    ssp_device_init(&pp->nominal, m, ssp_device_model_x_init(m));
    pp->dir = malloc(nc * sizeof *pp->dir);
    pp->nfull = malloc(nc * sizeof *pp->nfull);
    pp->wfrac = malloc(nc * sizeof *pp->wfrac);
    pp->rsel = malloc(rows);
    pp->csel = malloc(cols);
    pp->vcell = malloc(nc * sizeof *pp->vcell);
    pp->icell = malloc(nc * sizeof *pp->icell);
    pp->vline = malloc(5 * (rows > cols ? rows : cols) * sizeof *pp->vline);
    pp->vprev = malloc(nc * sizeof *pp->vprev);
    pp->wdrv = malloc((rows + cols) * sizeof *pp->wdrv);
    pp->gfix = malloc(nc * sizeof *pp->gfix);
    pp->rdr = malloc(nc * sizeof *pp->rdr);
    pp->rdc = malloc(nc * sizeof *pp->rdc);
    pp->dpf = malloc(nc * sizeof *pp->dpf);
    pp->rchg = malloc(rows);
    pp->cchg = malloc(cols);
    pp->bkind = malloc(nc);
    pp->blo = malloc(nc * sizeof *pp->blo);
    pp->bhi = malloc(nc * sizeof *pp->bhi);
    pp->dirty = calloc(nc, 1);
    pp->dlist = malloc(nc * sizeof *pp->dlist);
    pp->touched = calloc(nc, 1);
    pp->tlist = malloc(nc * sizeof *pp->tlist);
    pp->scol = malloc(cols * sizeof *pp->scol);
    if (!pp->dir || !pp->nfull || !pp->wfrac || !pp->rsel || !pp->csel || !pp->vcell || !pp->icell || !pp->vline ||
        !pp->vprev || !pp->wdrv || !pp->gfix || !pp->rdr || !pp->rdc || !pp->dpf || !pp->rchg || !pp->cchg || !pp->bkind || !pp->blo ||
        !pp->bhi || !pp->dirty || !pp->dlist || !pp->touched || !pp->tlist || !pp->scol) {
        ssp_pulse_destroy(&pp);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for a %zu x %zu programmer", rows, cols);
    }
    if ((rc = ssp_device_work_alloc(&pp->work, ctx))) {
        ssp_pulse_destroy(&pp);
        return rc;
    }
    *out = pp;
    return SSP_OK;
}

void ssp_pulse_destroy(ssp_pulse **pp)
{
    if (!pp || !*pp) return;
    ssp_device_work_free(&(*pp)->work);
    free((*pp)->grp);
    free((*pp)->gcell);
    free((*pp)->dir);
    free((*pp)->nfull);
    free((*pp)->wfrac);
    free((*pp)->rsel);
    free((*pp)->csel);
    free((*pp)->vcell);
    free((*pp)->icell);
    free((*pp)->vline);
    free((*pp)->vprev);
    free((*pp)->wdrv);
    free((*pp)->gfix);
    free((*pp)->rdr);
    free((*pp)->rdc);
    free((*pp)->dpf);
    free((*pp)->rchg);
    free((*pp)->cchg);
    free((*pp)->bkind);
    free((*pp)->blo);
    free((*pp)->bhi);
    free((*pp)->dirty);
    free((*pp)->dlist);
    free((*pp)->touched);
    free((*pp)->tlist);
    free((*pp)->scol);
    free(*pp);
    *pp = NULL;
}

int ssp_pulse_level_of(const ssp_device_levels *lv, ssp_ctx *ctx, double g, int *level)
{
    double step = (lv->g[lv->n - 1] - lv->g[0]) / (double)(lv->n - 1);
    long a;
    if (!(g >= lv->g[0] && g <= lv->g[lv->n - 1]))
        return ssp_error(ctx, SSP_ERANGE, "conductance %g S outside the level range [%g, %g] S", g,
                         lv->g[0], lv->g[lv->n - 1]);
    a = lround((g - lv->g[0]) / step);
    *level = (int)(a < 0 ? 0 : (size_t)a >= lv->n ? (long)lv->n - 1 : a);
    return SSP_OK;
}

/* ---- planning --------------------------------------------------------------------- */

static int add_group(ssp_pulse *pp, const pgroup *g)
{
    if (pp->ngrp == pp->capgrp) {
        size_t cap = pp->capgrp ? 2 * pp->capgrp : 64;
        pgroup *n = realloc(pp->grp, cap * sizeof *n);
        if (!n) return ssp_error(pp->ctx, SSP_ENOMEM, "out of memory for pulse groups");
        pp->grp = n;
        pp->capgrp = cap;
    }
    pp->grp[pp->ngrp++] = *g;
    return SSP_OK;
}

static int add_gcell(ssp_pulse *pp, size_t c)
{
    if (pp->ngcell == pp->capgcell) {
        size_t cap = pp->capgcell ? 2 * pp->capgcell : 256;
        size_t *n = realloc(pp->gcell, cap * sizeof *n);
        if (!n) return ssp_error(pp->ctx, SSP_ENOMEM, "out of memory for pulse groups");
        pp->gcell = n;
        pp->capgcell = cap;
    }
    pp->gcell[pp->ngcell++] = c;
    return SSP_OK;
}

/* Width of pulse k of cell c this round (0: none). */
static double cell_width(const ssp_pulse *pp, size_t c, long k)
{
    if (k < pp->nfull[c]) return pp->p.width;
    if (k == pp->nfull[c] && pp->wfrac[c] > 0) return pp->wfrac[c];
    return 0;
}

/* Plan the round for the given order and phase sequence; times start at
 * settle and are local to the round. Pulse k of every cell of a line goes
 * out together; cells whose pulse k differs in width get one pulse per
 * width, longest first. */
static int plan(ssp_pulse *pp, int order, int first_phase, double amp_scale)
{
    size_t nlines = order == SSP_PULSE_BY_ROW ? pp->rows : pp->cols;
    size_t nper = order == SSP_PULSE_BY_ROW ? pp->cols : pp->rows;
    double t = 0, e = pp->p.edge;
    int rc;
    pp->ngrp = pp->ngcell = 0;
    pp->order = order;
    for (int ph = 0; ph < 2; ph++) {
        int phase = ph == 0 ? first_phase : 1 - first_phase;
        double amp = (phase == SSP_PULSE_SET ? pp->p.set_amp : pp->p.reset_amp) * amp_scale;
        for (size_t L = 0; L < nlines; L++) {
            for (long k = 0;; k++) {
                double wcur = HUGE_VAL;
                int any = 0;
                for (;;) {
                    double w = 0;
                    pgroup g;
                    for (size_t q = 0; q < nper; q++) {
                        size_t c = order == SSP_PULSE_BY_ROW ? L * pp->cols + q : q * pp->cols + L;
                        double wc;
                        if (pp->dir[c] != phase) continue;
                        wc = cell_width(pp, c, k);
                        if (wc < wcur && wc > w) w = wc;
                    }
                    if (w == 0) break;
                    any = 1;
                    g.t0 = t + pp->p.t_settle;
                    g.amp = amp;
                    g.width = w;
                    g.phase = phase;
                    g.line = L;
                    g.first = pp->ngcell;
                    g.n = 0;
                    for (size_t q = 0; q < nper; q++) {
                        size_t c = order == SSP_PULSE_BY_ROW ? L * pp->cols + q : q * pp->cols + L;
                        if (pp->dir[c] != phase || cell_width(pp, c, k) != w) continue;
                        if ((rc = add_gcell(pp, c))) return rc;
                        g.n++;
                    }
                    if ((rc = add_group(pp, &g))) return rc;
                    t = g.t0 + 2 * e + w;
                    wcur = w;
                }
                if (!any) break;
            }
        }
    }
    pp->plan_len = t;
    return SSP_OK;
}

/* Choose the order (and the plan) for this round. */
static int plan_round(ssp_pulse *pp, int first_phase, double amp_scale)
{
    int rc;
    if (pp->p.order != SSP_PULSE_BY_AUTO) return plan(pp, pp->p.order, first_phase, amp_scale);
    if ((rc = plan(pp, SSP_PULSE_BY_COL, first_phase, amp_scale))) return rc;
    {
        double tcol = pp->plan_len;
        size_t lines_col = 0;
        /* verify reads count too: one per distinct line */
        for (size_t g = 0; g < pp->ngrp; g++)
            if (g == 0 || pp->grp[g].line != pp->grp[g - 1].line) lines_col++;
        if ((rc = plan(pp, SSP_PULSE_BY_ROW, first_phase, amp_scale))) return rc;
        {
            size_t lines_row = 0;
            for (size_t g = 0; g < pp->ngrp; g++)
                if (g == 0 || pp->grp[g].line != pp->grp[g - 1].line) lines_row++;
            if (tcol + (double)lines_col * pp->p.t_verify <
                pp->plan_len + (double)lines_row * pp->p.t_verify)
                return plan(pp, SSP_PULSE_BY_COL, first_phase, amp_scale);
        }
    }
    return SSP_OK;
}

/* ---- running a plan on the C model ----------------------------------------------- */

/* The cells of a group that see a drive, in cell order: every cell of a
 * row whose drive differs from the unselected columns' level uc; of the
 * other rows (drive exactly uc: their cells on unselected columns see 0
 * and stay idle) only the cells on the columns not at uc. The callers
 * still skip a cell whose drive is 0, so this visits, in the same order,
 * every cell a loop over the whole tile would act on. */
static size_t bias_columns(ssp_pulse *pp, const double *vc, double uc)
{
    size_t n = 0;
    for (size_t j = 0; j < pp->cols; j++)
        if (vc[j] != uc) pp->scol[n++] = j;
    return n;
}

static int run_model(ssp_pulse *pp, ssp_device *dev, gsl_rng *rng, ssp_pulse_result *res,
                     double *vr, double *vc, unsigned char *selmark)
{
    size_t C = pp->cols;
    int rc;
    for (size_t gi = 0; gi < pp->ngrp; gi++) {
        const pgroup *g = &pp->grp[gi];
        double ur, uc;
        size_t nsc;
        pulse_bias(pp->p.bias, g->amp, &ur, &uc);
        pulse_line_voltages(pp, g, vr, vc);
        for (size_t k = 0; k < g->n; k++) selmark[pp->gcell[g->first + k]] = 1;
        if ((rc = pulse_cell_voltages(pp, dev, vr, vc))) return rc;
        nsc = bias_columns(pp, vc, uc);
        for (size_t i = 0; i < pp->rows; i++) {
          int all = vr[i] - uc != 0;
          size_t nq = all ? C : nsc;
          for (size_t q = 0; q < nq; q++) {
            size_t c = i * C + (all ? q : pp->scol[q]);
            double drive = vr[i] - vc[c % C], v = pp->vcell[c], x0 = dev[c].x, e, ew;
            /* a cell between two lines at the same drive stays idle */
            if (drive == 0) continue;
            if (!pp->p.reference && pulse_cell_inert(pp, c, v)) {
                /* exactly what the integration would give: no move, no noise;
                 * a linear cell's V I t in closed form (Simpson is exact on
                 * the edges' V^2 g: g V^2 e / 3 each) */
                if (pp->lin_now) {
                    double tw = g->width + 2.0 * pp->p.edge / 3.0;
                    e = pp->gfix[c] * v * v * tw;
                    ew = pp->gfix[c] * v * (drive - v) * tw;
                } else
                    e = pulse_energy_fixed(&dev[c], v, drive, g->width, pp->p.edge, &ew);
                if (selmark[c])
                    res->energy_sel_analytic_j += e;
                else
                    res->energy_half_analytic_j += e;
                res->energy_wire_analytic_j += ew;
                continue;
            }
            if ((rc = ssp_device_pulse(&dev[c], pp->work, rng, v, g->width))) return rc;
            pulse_cell_moved(pp, c);
            /* at the cell's own voltage (the wire solve's), the IR drop
             * its current causes priced as the wires' energy; the same sums
             * on the ngspice path are what the calibration is fitted on */
            e = pulse_energy_analytic(&dev[c], v, drive, g->width, pp->p.edge, x0, dev[c].x, &ew);
            if (selmark[c])
                res->energy_sel_analytic_j += e;
            else
                res->energy_half_analytic_j += e;
            res->energy_wire_analytic_j += ew;
          }
        }
        for (size_t k = 0; k < g->n; k++) selmark[pp->gcell[g->first + k]] = 0;
    }
    return SSP_OK;
}

/* ---- the round loop ------------------------------------------------------------- */

static double read_g(const ssp_device *d)
{
    return ssp_device_conductance(d, ssp_device_model_read_voltage(d->model));
}

static int in_band(const ssp_device_levels *lv, int L, double g)
{
    return g >= lv->lo[L] && g <= lv->hi[L];
}

/* Plan cell c's pulses towards level L from its read g (dir, nfull, wfrac);
 * amp_scale: amplitude factor this round. */
static int plan_cell(ssp_pulse *pp, size_t c, int L, double g, double amp_scale)
{
    const ssp_device_levels *lv = pp->lv;
    double gmin = ssp_device_gmin(&pp->nominal), gmax = ssp_device_gmax(&pp->nominal);
    double from = g < gmin ? gmin : g > gmax ? gmax : g, to = lv->g[L], n, amp;
    double q = pp->p.width / SSP_PULSE_WIDTH_STEPS;
    int set = g < lv->g[L], rc;
    amp = (set ? pp->p.set_amp : pp->p.reset_amp) * amp_scale;
    /* aim inside the nominal range: the window makes the bounds themselves
     * asymptotic, so a band centred on Gmin or Gmax is aimed at from inside */
    {
        double margin = AIM_MARGIN_BAND * (lv->hi[L] - lv->lo[L]);
        if (to < gmin + margin) to = gmin + margin;
        if (to > gmax - margin) to = gmax - margin;
    }
    pp->dir[c] = set ? SSP_PULSE_SET : SSP_PULSE_RESET;
    if (from == to) {
        n = 1.0 / SSP_PULSE_WIDTH_STEPS; /* at the nominal bound: one short nudge */
    } else if ((rc = ssp_device_pulses_between(&pp->nominal, pp->work, pp->ctx, from, to, amp,
                                               pp->p.width, &n))) {
        if (rc != SSP_EUNREACHABLE) return rc;
        ssp_ctx_clear_error(pp->ctx);
        n = 1; /* the nominal model cannot say: one full pulse, verify decides */
    }
    pp->nfull[c] = (long)floor(n);
    pp->wfrac[c] = q * (double)lround((n - floor(n)) * SSP_PULSE_WIDTH_STEPS);
    if (pp->wfrac[c] >= pp->p.width) {
        pp->nfull[c]++;
        pp->wfrac[c] = 0;
    }
    if (pp->nfull[c] == 0 && pp->wfrac[c] == 0) pp->wfrac[c] = q;
    return SSP_OK;
}

/* The line drivers' energy of the round's pulses: every line charged from
 * 0 V to its level once per pulse, C_line V^2 drawn from its supply. */
static void driver_energy(const ssp_pulse *pp, double *vr, double *vc, ssp_pulse_result *res)
{
    double crow = pp->p.c_line_cell * (double)pp->cols, ccol = pp->p.c_line_cell * (double)pp->rows;
    for (size_t gi = 0; gi < pp->ngrp; gi++) {
        double e = 0;
        pulse_line_voltages(pp, &pp->grp[gi], vr, vc);
        for (size_t i = 0; i < pp->rows; i++) e += crow * vr[i] * vr[i];
        for (size_t j = 0; j < pp->cols; j++) e += ccol * vc[j] * vc[j];
        res->energy_driver_j += e;
    }
}

/* Record the round's events into sched at absolute time t_abs. */
static int record(ssp_pulse *pp, ssp_pulse_schedule *sched, int tile, const int *target,
                  double t_abs)
{
    int rc;
    for (size_t gi = 0; gi < pp->ngrp; gi++) {
        const pgroup *g = &pp->grp[gi];
        double ur, uc;
        pulse_bias(pp->p.bias, g->amp, &ur, &uc);
        for (size_t k = 0; k < g->n; k++) {
            size_t c = pp->gcell[g->first + k];
            ssp_pulse_event e;
            e.t = t_abs + g->t0;
            e.tile = tile;
            e.phase = g->phase;
            e.row = (int)(c / pp->cols);
            e.col = (int)(c % pp->cols);
            e.v_row = g->amp;
            e.v_col = 0;
            e.v_row_unsel = ur;
            e.v_col_unsel = uc;
            e.width = g->width;
            e.level = target[c];
            if ((rc = ssp_pulse_schedule_add(sched, pp->ctx, &e))) return rc;
        }
    }
    return SSP_OK;
}

/* Verify reads of the marked lines (rows when by row): one event each,
 * t_verify of latency, Vr^2 G t_verify of energy per cell of the line. */
static int read_lines(ssp_pulse *pp, int tile, int order, const unsigned char *mark,
                      const ssp_device *dev, ssp_pulse_schedule *sched, double *t_abs,
                      ssp_pulse_result *res)
{
    size_t nlines = order == SSP_PULSE_BY_ROW ? pp->rows : pp->cols;
    size_t nper = order == SSP_PULSE_BY_ROW ? pp->cols : pp->rows; /* cells along a read line */
    double vread = ssp_device_model_read_voltage(pp->m);
    int rc;
    for (size_t L = 0; L < nlines; L++) {
        ssp_pulse_event e;
        if (!mark[L]) continue;
        e.t = *t_abs;
        e.tile = tile;
        e.phase = SSP_PULSE_READ;
        e.row = order == SSP_PULSE_BY_ROW ? (int)L : -1;
        e.col = order == SSP_PULSE_BY_ROW ? -1 : (int)L;
        e.v_row = order == SSP_PULSE_BY_ROW ? vread : 0;
        e.v_col = order == SSP_PULSE_BY_ROW ? 0 : -vread;
        e.v_row_unsel = e.v_col_unsel = 0;
        e.width = pp->p.t_verify;
        e.level = -1;
        if (sched && (rc = ssp_pulse_schedule_add(sched, pp->ctx, &e))) return rc;
        *t_abs += pp->p.t_verify;
        res->latency_s += pp->p.t_verify;
        res->verify_reads++;
        res->energy_driver_j += pp->p.c_line_cell * (double)nper * vread * vread;
    }
    for (size_t c = 0; c < pp->rows * pp->cols; c++) {
        size_t L = order == SSP_PULSE_BY_ROW ? c / pp->cols : c % pp->cols;
        if (mark[L]) res->energy_read_j += vread * vread * read_g(&dev[c]) * pp->p.t_verify;
    }
    return SSP_OK;
}

int ssp_pulse_program_tile(ssp_pulse *pp, ssp_spice *spice, gsl_rng *rng, int tile,
                           ssp_device *dev, const int *target, ssp_pulse_schedule *sched,
                           ssp_pulse_result *res, int *status)
{
    const ssp_device_levels *lv = pp->lv;
    size_t nc = pp->rows * pp->cols, c, keep = 0;
    double spacing = (lv->g[lv->n - 1] - lv->g[0]) / (double)(lv->n - 1);
    double *x0s = NULL, *gprev = NULL, *vr = NULL, *vc = NULL, t_abs;
    unsigned char *active = NULL, *selmark = NULL, *hit = NULL; /* hit: the target received a pulse */
    int *st = NULL, rc = SSP_OK, phase_last = SSP_PULSE_SET;
    long rounds = pp->p.strategy == SSP_PULSE_VERIFY ? pp->p.verify_max : 1;

    memset(res, 0, sizeof *res);
    for (c = 0; c < nc; c++)
        if (target[c] != SSP_PULSE_KEEP && (target[c] < 0 || (size_t)target[c] >= lv->n))
            return ssp_error(pp->ctx, SSP_ERANGE, "cell (%zu, %zu): target level %d outside 0..%zu",
                             c / pp->cols, c % pp->cols, target[c], lv->n - 1);
    for (c = 0; c < nc; c++)
        if (dev[c].model != pp->m)
            return ssp_error(pp->ctx, SSP_EINVAL, "cell (%zu, %zu) follows another device model",
                             c / pp->cols, c % pp->cols);
    x0s = malloc(nc * sizeof *x0s);
    gprev = malloc(nc * sizeof *gprev);
    vr = malloc(pp->rows * sizeof *vr);
    vc = malloc(pp->cols * sizeof *vc);
    active = malloc(nc);
    selmark = calloc(nc, 1);
    st = malloc(nc * sizeof *st);
    hit = calloc(nc, 1);
    if (!x0s || !gprev || !vr || !vc || !active || !selmark || !st || !hit) {
        rc = ssp_error(pp->ctx, SSP_ENOMEM, "out of memory programming a %zu x %zu tile", pp->rows, pp->cols);
        goto done;
    }
    if (sched) {
        sched->rows = pp->rows;
        sched->cols = pp->cols;
        sched->bias = pp->p.bias;
        sched->edge = pp->p.edge;
    }
    t_abs = sched ? sched->latency : 0;
    pulse_cells_begin(pp, dev);

    /* which cells are targets; unreachable bands are reported at once */
    for (c = 0; c < nc; c++) {
        x0s[c] = dev[c].x; /* the start state; its read conductance is taken when needed */
        active[c] = 0;
        st[c] = SSP_PULSE_CELL_KEEP;
        if (target[c] == SSP_PULSE_KEEP) {
            keep++;
            continue;
        }
        res->targets++;
        if (lv->hi[target[c]] < ssp_device_gmin(&dev[c]) || lv->lo[target[c]] > ssp_device_gmax(&dev[c])) {
            st[c] = SSP_PULSE_CELL_UNREACHABLE;
            ssp_log(pp->ctx, SSP_LOG_INFO, "pulse_unreachable",
                    "tile = %d, row = %zu, col = %zu, level = %d, reason = band outside the device range [%g, %g] S",
                    tile, c / pp->cols, c % pp->cols, target[c], ssp_device_gmin(&dev[c]), ssp_device_gmax(&dev[c]));
            continue;
        }
        active[c] = 1;
    }

    /* write-verify starts by reading the lines that hold targets */
    if (pp->p.strategy == SSP_PULSE_VERIFY) {
        int order = pp->p.order == SSP_PULSE_BY_COL ? SSP_PULSE_BY_COL : SSP_PULSE_BY_ROW;
        unsigned char *mark = order == SSP_PULSE_BY_ROW ? pp->rsel : pp->csel;
        memset(mark, 0, order == SSP_PULSE_BY_ROW ? pp->rows : pp->cols);
        for (c = 0; c < nc; c++)
            if (active[c]) mark[order == SSP_PULSE_BY_ROW ? c / pp->cols : c % pp->cols] = 1;
        if (sched) sched->order = order;
        if ((rc = read_lines(pp, tile, order, mark, dev, sched, &t_abs, res))) goto done;
    }

    for (long r = 0; r < rounds; r++) {
        double amp_scale = 1.0 + pp->p.amp_step * (double)r, len;
        size_t npl = 0;
        /* read (the first read of a verify is the present state) and plan */
        for (c = 0; c < nc; c++) {
            double g;
            pp->dir[c] = -1;
            if (!active[c]) continue;
            if (pp->p.strategy == SSP_PULSE_VERIFY) {
                if ((rc = ssp_device_read(&dev[c], rng, &g))) goto done;
            } else
                g = read_g(&dev[c]);
            if (r > 0 && fabs(read_g(&dev[c]) - gprev[c]) < STUCK_MOVE_LEVELS * spacing) {
                active[c] = 0; /* pulsed a whole round without moving */
                st[c] = SSP_PULSE_CELL_UNREACHABLE;
                ssp_log(pp->ctx, SSP_LOG_INFO, "pulse_unreachable",
                        "tile = %d, row = %zu, col = %zu, level = %d, reason = does not move (stuck)",
                        tile, c / pp->cols, c % pp->cols, target[c]);
                continue;
            }
            if (in_band(lv, target[c], g) && (r > 0 || pp->p.strategy == SSP_PULSE_VERIFY)) {
                active[c] = 0;
                continue;
            }
            gprev[c] = read_g(&dev[c]);
            if ((rc = plan_cell(pp, c, target[c], g, amp_scale))) goto done;
            hit[c] = 1; /* every planned cell is in one of the round's groups */
            npl++;
        }
        if (!npl) break;
        if ((rc = plan_round(pp, phase_last, amp_scale))) goto done;
        res->rounds++;
        res->groups += pp->ngrp;
        driver_energy(pp, vr, vc, res);
        for (size_t gi = 0; gi < pp->ngrp; gi++) res->pulses += pp->grp[gi].n;
        if (pp->ngrp) phase_last = pp->grp[pp->ngrp - 1].phase;
        if (sched) {
            sched->order = pp->order;
            if ((rc = record(pp, sched, tile, target, t_abs))) goto done;
        }
        if (spice) {
            if ((rc = pulse_run_spice(pp, spice, dev, res))) goto done;
        } else if ((rc = run_model(pp, dev, rng, res, vr, vc, selmark)))
            goto done;
        len = pp->plan_len + pp->p.edge;
        t_abs += len;
        res->latency_s += len;
        /* verify: every line that was pulsed is read once */
        if (pp->p.strategy == SSP_PULSE_VERIFY) {
            size_t nlines = pp->order == SSP_PULSE_BY_ROW ? pp->rows : pp->cols;
            unsigned char *mark = pp->order == SSP_PULSE_BY_ROW ? pp->rsel : pp->csel;
            memset(mark, 0, nlines);
            for (size_t gi = 0; gi < pp->ngrp; gi++) mark[pp->grp[gi].line] = 1;
            if ((rc = read_lines(pp, tile, pp->order, mark, dev, sched, &t_abs, res))) goto done;
        }
        /* a cell pulsed all round without moving is judged at the next read */
        if (pp->p.strategy == SSP_PULSE_OPEN) {
            for (c = 0; c < nc; c++)
                if (active[c] && pp->dir[c] >= 0 && fabs(read_g(&dev[c]) - gprev[c]) < STUCK_MOVE_LEVELS * spacing) {
                    st[c] = SSP_PULSE_CELL_UNREACHABLE;
                    active[c] = 0;
                }
        }
    }

    /* outcome */
    {
        double dsum = 0;
        for (c = 0; c < nc; c++) {
            double g;
            /* on the C model a cell no pulse ran on is where it started:
             * no disturbance (0 added, the same sums) */
            if (target[c] == SSP_PULSE_KEEP && !spice && !pp->touched[c]) continue;
            g = read_g(&dev[c]);
            if (target[c] == SSP_PULSE_KEEP) {
                ssp_device d0 = dev[c];
                double d;
                d0.x = x0s[c];
                d = fabs(g - read_g(&d0)) / spacing;
                dsum += d;
                if (d > res->disturb_max) res->disturb_max = d;
                continue;
            }
            res->pulsed += hit[c];
            if (!in_band(lv, target[c], g)) {
                res->out_pulsed += hit[c];
                res->out_stuck += dev[c].stuck != SSP_DEVICE_FREE;
            }
            if (st[c] == SSP_PULSE_CELL_UNREACHABLE && !in_band(lv, target[c], g)) {
                res->unreachable++;
                continue;
            }
            st[c] = in_band(lv, target[c], g) ? SSP_PULSE_CELL_IN_BAND : SSP_PULSE_CELL_MISSED;
            if (st[c] == SSP_PULSE_CELL_IN_BAND)
                res->in_band++;
            else
                res->missed++;
        }
        res->disturb_mean = keep ? dsum / (double)keep : 0;
    }
    if (!spice) {
        /* model path: the analytic sums are the energy (until priced) */
        res->energy_sel_j = res->energy_sel_analytic_j;
        res->energy_half_j = res->energy_half_analytic_j;
        res->energy_wire_j = res->energy_wire_analytic_j;
        res->energy_j = res->energy_sel_j + res->energy_half_j + res->energy_wire_j + res->energy_read_j;
    } else
        res->energy_j = res->energy_sel_j + res->energy_half_j + res->energy_wire_j + res->energy_read_j;
    res->energy_analytic_j = res->energy_sel_analytic_j + res->energy_half_analytic_j;
    if (sched) sched->latency = t_abs;
    if (status) memcpy(status, st, nc * sizeof *st);
done:
    free(x0s);
    free(gprev);
    free(vr);
    free(vc);
    free(active);
    free(selmark);
    free(hit);
    free(st);
    return rc;
}

int ssp_pulse_replay(ssp_pulse *pp, gsl_rng *rng, int tile, ssp_device *dev,
                     const ssp_pulse_schedule *sched)
{
    size_t R = pp->rows, C = pp->cols, k = 0;
    double *vr = malloc(R * sizeof *vr), *vc = malloc(C * sizeof *vc);
    int rc = SSP_OK;
    if (!vr || !vc) {
        rc = ssp_error(pp->ctx, SSP_ENOMEM, "out of memory");
        goto done;
    }
    if (sched->rows != R || sched->cols != C) {
        rc = ssp_error(pp->ctx, SSP_EINVAL, "schedule for a %zu x %zu tile, programmer for %zu x %zu",
                       sched->rows, sched->cols, R, C);
        goto done;
    }
    pulse_cells_begin(pp, dev);
    while (k < sched->n) {
        const ssp_pulse_event *e = &sched->ev[k];
        size_t end = k;
        if (e->tile != tile || e->phase == SSP_PULSE_READ) {
            k++;
            continue;
        }
        for (size_t i = 0; i < R; i++) vr[i] = e->v_row_unsel;
        for (size_t j = 0; j < C; j++) vc[j] = e->v_col_unsel;
        while (end < sched->n && sched->ev[end].t == e->t && sched->ev[end].phase == e->phase &&
               sched->ev[end].tile == tile) {
            const ssp_pulse_event *q = &sched->ev[end++];
            if (q->row < 0 || q->col < 0 || (size_t)q->row >= R || (size_t)q->col >= C) {
                rc = ssp_error(pp->ctx, SSP_EINVAL, "event at %g s: cell (%d, %d) outside the tile",
                               q->t, q->row, q->col);
                goto done;
            }
            vr[q->row] = q->v_row;
            vc[q->col] = q->v_col;
        }
        if ((rc = pulse_cell_voltages(pp, dev, vr, vc))) goto done;
        for (size_t c = 0; c < R * C; c++) {
            if (vr[c / C] - vc[c % C] == 0) continue;
            if (!pp->p.reference && pulse_cell_inert(pp, c, pp->vcell[c])) continue;
            if ((rc = ssp_device_pulse(&dev[c], pp->work, rng, pp->vcell[c], e->width))) goto done;
            pulse_cell_moved(pp, c);
        }
        k = end;
    }
done:
    free(vr);
    free(vc);
    return rc;
}

/* ---- calibration -------------------------------------------------------------------- */

int ssp_pulse_cal_fit(ssp_pulse_cal *cal, ssp_ctx *ctx, const ssp_pulse_result *r)
{
    double cells = r->energy_sel_j + r->energy_half_j;
    if (!(r->energy_sel_analytic_j > 0) || !(cells > 0))
        return ssp_error(ctx, SSP_EINVAL, "calibration needs an ngspice result with pulses");
    /* running mean over fits, weighted equally */
    {
        double n = cal->fitted, sr = r->energy_sel_j / r->energy_sel_analytic_j;
        double hr = r->energy_half_analytic_j > 0 ? r->energy_half_j / r->energy_half_analytic_j : 1.0;
        double wr = r->energy_wire_analytic_j > 0 ? r->energy_wire_j / r->energy_wire_analytic_j : 1.0;
        cal->sel_ratio = (cal->sel_ratio * n + sr) / (n + 1);
        cal->half_ratio = (cal->half_ratio * n + hr) / (n + 1);
        cal->wire_ratio = (cal->wire_ratio * n + wr) / (n + 1);
        cal->fitted++;
    }
    return SSP_OK;
}

void ssp_pulse_cal_price(const ssp_pulse_cal *cal, ssp_pulse_result *r)
{
    double sr = cal->fitted ? cal->sel_ratio : 1, hr = cal->fitted ? cal->half_ratio : 1;
    double wr = cal->fitted ? cal->wire_ratio : 1;
    r->energy_sel_j = sr * r->energy_sel_analytic_j;
    r->energy_half_j = hr * r->energy_half_analytic_j;
    r->energy_wire_j = wr * r->energy_wire_analytic_j;
    r->energy_j = r->energy_sel_j + r->energy_half_j + r->energy_wire_j + r->energy_read_j;
}
