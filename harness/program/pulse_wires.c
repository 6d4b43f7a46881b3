/* pulse_wires.c — internal to the pulse scheduler: the C model's view of
 * a tile's wires. The cell voltages of a pulse with the IR drop of the
 * cells' own currents along the word and bit lines (pulse_cell_voltages),
 * solved at the states before it, and the bookkeeping that lets one tile's
 * solves reuse each other's conductances and line factors (which cells
 * moved since the last solve; each cell's dead band). Both executors use
 * it: the C model (ssp_pulse.c) to drive its cells, the ngspice executor
 * (ssp_pulse_spice.c) for the C model's energies of the pulses it ran,
 * which the calibration maps to the measured ones. It calls only the
 * device model. */
#include "pulse_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The C model's wire solve: stop when no cell voltage changes by more than
 * this fraction of the largest line drive, or fail after this many sweeps. */
static const double WIRE_SOLVE_REL_TOL = 1e-9;
/* The fast path's stop (cell_voltages_linear): 1e-6 of the largest drive,
 * a microvolt on a volt, three decades below the ngspice transients' own
 * accuracy. It saves about 2 of 6.3 sweeps per solve: 0.43 -> 0.31 s of CPU
 * per Siamese step on configs/default.ini in model mode (bench_train, 31
 * steps from one checkpoint). The same 31 steps end with every weight's
 * level equal and every device state within 3.8e-8 of the state range of
 * the 1e-9 run; test_pulses checks the fast path against the reference
 * (still 1e-9) within 1e-9 of the state range and 1e-6 in energy. */
static const double WIRE_SOLVE_FAST_REL_TOL = 1e-6;
static const int WIRE_SOLVE_MAX_SWEEPS = 200;

/* Secant conductance I(v)/v of a cell (at a small voltage when v is 0). */
static double secant_g(const ssp_device *d, double v, double vsmall)
{
    double u = fabs(v) > vsmall ? v : vsmall;
    return ssp_device_current(d, u) / u;
}

/* Solve one line of n nodes: driver at drv through one segment r before
 * node 0, segments r between nodes, node k tied through g[k] to the fixed
 * voltage other[k]. Tridiagonal (Thomas); cp, dp: n scratch each. */
static void solve_line(size_t n, double r, double drv, const double *g, const double *other, double *x,
                       double *cp, double *dp)
{
    double inv = 1.0 / r;
    for (size_t k = 0; k < n; k++) {
        double diag = (k + 1 < n ? 2 * inv : inv) + g[k], rhs = g[k] * other[k] + (k == 0 ? drv * inv : 0);
        double lower = k == 0 ? 0 : -inv, den = diag - lower * (k == 0 ? 0 : cp[k - 1]);
        cp[k] = k + 1 < n ? -inv / den : 0;
        dp[k] = (rhs - lower * (k == 0 ? 0 : dp[k - 1])) / den;
    }
    x[n - 1] = dp[n - 1];
    for (size_t k = n - 1; k-- > 0;) x[k] = dp[k] - cp[k] * x[k + 1];
}

/* The fast wire solve's lines, all in the tile's row-major layout (cell
 * (i, j) at i C + j): word line i is the nodes i C .. i C + C - 1, driven
 * from node j = 0's side; bit line j the nodes j, C + j, ..., driven from
 * node i = 0's side. Each line is solve_line's tridiagonal system (one
 * segment of conductance inv before its first node, node k tied through its
 * cell's g to the other line's node), eliminated with Thomas factors kept
 * as rd = 1 / the pivot (solve_line's upper multiplier is -(inv rd): the
 * same numbers). */

/* Word line i's factors (its nodes contiguous). */
static void factor_word_line(size_t C, size_t i, double inv, const double *g, double *rd)
{
    const double *gi = g + i * C;
    double *ri = rd + i * C;
    for (size_t k = 0; k < C; k++) {
        double dg = k + 1 < C ? 2 * inv : inv;
        ri[k] = 1.0 / (dg + gi[k] - (k ? inv * (inv * ri[k - 1]) : 0));
    }
}

/* Every bit line's factors at once (node i of all bit lines contiguous:
 * the inner loop runs over independent lines). */
static void factor_bit_lines(size_t R, size_t C, double inv, const double *g, double *rd)
{
    for (size_t k = 0; k < R; k++) {
        double dg = k + 1 < R ? 2 * inv : inv;
        const double *gk = g + k * C, *rp = k ? rd + (k - 1) * C : NULL;
        double *rk = rd + k * C;
        for (size_t l = 0; l < C; l++) rk[l] = 1.0 / (dg + gk[l] - (k ? inv * (inv * rp[l]) : 0));
    }
}

/* Bit line j alone (the same arithmetic as factor_bit_lines). */
static void factor_bit_line(size_t R, size_t C, size_t j, double inv, const double *g, double *rd)
{
    for (size_t k = 0; k < R; k++) {
        double dg = k + 1 < R ? 2 * inv : inv;
        rd[k * C + j] = 1.0 / (dg + g[k * C + j] - (k ? inv * (inv * rd[(k - 1) * C + j]) : 0));
    }
}

/* Word lines solved side by side this many at a time: independent
 * recurrences for the processor to overlap, each walking its own row. */
enum { WORD_LINE_BLOCK = 8 };

/* Every word line with the bit-line nodes w held: u (node voltages); dp:
 * R C scratch. */
static void solve_word_lines(size_t R, size_t C, double inv, const double *vr, const double *g, const double *rd,
                             const double *w, double *u, double *dp)
{
    for (size_t i0 = 0; i0 < R; i0 += WORD_LINE_BLOCK) {
        size_t i1 = i0 + WORD_LINE_BLOCK < R ? i0 + WORD_LINE_BLOCK : R;
        for (size_t i = i0; i < i1; i++) dp[i * C] = (g[i * C] * w[i * C] + vr[i] * inv) * rd[i * C];
        for (size_t k = 1; k < C; k++)
            for (size_t i = i0; i < i1; i++) {
                size_t c = i * C + k;
                dp[c] = (g[c] * w[c] + inv * dp[c - 1]) * rd[c];
            }
        for (size_t i = i0; i < i1; i++) u[i * C + C - 1] = dp[i * C + C - 1];
        for (size_t k = C - 1; k-- > 0;)
            for (size_t i = i0; i < i1; i++) {
                size_t c = i * C + k;
                u[c] = dp[c] + (inv * rd[c]) * u[c + 1];
            }
    }
}

/* Every bit line with the word-line nodes u held: w; and the cell voltages
 * v = u - w, returning the largest change of v. dp: R C scratch. */
static double solve_bit_lines(size_t R, size_t C, double inv, const double *vc, const double *g, const double *rd,
                              const double *u, double *w, double *v, double *dp)
{
    double change = 0;
    for (size_t l = 0; l < C; l++) dp[l] = (g[l] * u[l] + vc[l] * inv) * rd[l];
    for (size_t k = 1; k < R; k++) {
        const double *gk = g + k * C, *ok = u + k * C, *rk = rd + k * C, *pk = dp + (k - 1) * C;
        double *dk = dp + k * C;
        for (size_t l = 0; l < C; l++) dk[l] = (gk[l] * ok[l] + inv * pk[l]) * rk[l];
    }
    for (size_t k = R; k-- > 0;) {
        const double *dk = dp + k * C, *rk = rd + k * C, *uk = u + k * C, *xn = w + (k + 1) * C;
        double *xk = w + k * C, *vk = v + k * C;
        for (size_t l = 0; l < C; l++) {
            double x = k + 1 < R ? dk[l] + (inv * rk[l]) * xn[l] : dk[l], nv = uk[l] - x, d = fabs(nv - vk[l]);
            xk[l] = x;
            if (d > change) change = d;
            vk[l] = nv;
        }
    }
    return change;
}

void pulse_cells_begin(ssp_pulse *pp, const ssp_device *dev)
{
    size_t nc = pp->rows * pp->cols;
    for (size_t c = 0; c < nc; c++) pp->bkind[c] = (unsigned char)ssp_device_inert_band(&dev[c], &pp->blo[c], &pp->bhi[c]);
    for (size_t k = 0; k < pp->ndirty; k++) pp->dirty[pp->dlist[k]] = 0;
    pp->ndirty = 0;
    for (size_t k = 0; k < pp->ntouched; k++) pp->touched[pp->tlist[k]] = 0;
    pp->ntouched = 0;
    pp->fix_valid = 0;
    pp->warm = 0;
}

void pulse_cell_moved(ssp_pulse *pp, size_t c)
{
    if (!pp->touched[c]) {
        pp->touched[c] = 1;
        pp->tlist[pp->ntouched++] = c;
    }
    if (pp->dirty[c]) return;
    pp->dirty[c] = 1;
    pp->dlist[pp->ndirty++] = c;
}

int pulse_cell_inert(const ssp_pulse *pp, size_t c, double v)
{
    if (pp->bkind[c] == SSP_DEVICE_INERT_ALWAYS) return 1;
    return pp->bkind[c] == SSP_DEVICE_INERT_BAND && isfinite(v) && v >= pp->blo[c] && v <= pp->bhi[c];
}

/* Cell c's conductance into the solve's copies; its lines marked changed
 * when it differs. 0 when the cell is not linear. */
static int take_cell(ssp_pulse *pp, const ssp_device *dev, size_t c, size_t *nr, size_t *ncl)
{
    size_t C = pp->cols;
    ssp_cell_iv iv;
    ssp_device_cell_iv(&dev[c], &iv);
    if (iv.kind != SSP_IV_LINEAR) return 0;
    if (!pp->fix_valid || iv.g != pp->gfix[c]) {
        pp->gfix[c] = iv.g;
        *nr += !pp->rchg[c / C];
        *ncl += !pp->cchg[c % C];
        pp->rchg[c / C] = pp->cchg[c % C] = 1;
    }
    return 1;
}

/* The fast wire solve of a tile whose cells are all linear (I = g V at their
 * present state): the same line-by-line Gauss-Seidel as the reference (every
 * word line with the bit lines held, then every bit line), with every
 * cell's g and every line's factors computed once per solve, kept between
 * the solves of one tile for the lines whose cells kept their conductance
 * (only the cells a pulse ran on are looked at again: pulse_cell_moved),
 * and the lines of a sweep solved side by side.
 * Returns 1 (done, *rc set) or 0 when a cell is not linear (the reference
 * path takes over). */
static int cell_voltages_linear(ssp_pulse *pp, const ssp_device *dev, const double *vr, const double *vc,
                                double vmax, int warm, int *rc)
{
    size_t R = pp->rows, C = pp->cols, nc = R * C;
    double inv = 1.0 / pp->p.r_wire, *v = pp->vcell, *u = pp->vprev, *w = pp->icell;
    double *g = pp->gfix, *dp = pp->dpf;
    size_t nr = 0, ncl = 0;
    memset(pp->rchg, 0, R);
    memset(pp->cchg, 0, C);
    if (!pp->fix_valid) {
        for (size_t c = 0; c < nc; c++)
            if (!take_cell(pp, dev, c, &nr, &ncl)) return 0;
    } else
        for (size_t k = 0; k < pp->ndirty; k++)
            if (!take_cell(pp, dev, pp->dlist[k], &nr, &ncl)) {
                pp->fix_valid = 0;
                return 0;
            }
    for (size_t k = 0; k < pp->ndirty; k++) pp->dirty[pp->dlist[k]] = 0;
    pp->ndirty = 0;
    for (size_t i = 0; i < R; i++)
        if (!pp->fix_valid || pp->rchg[i]) factor_word_line(C, i, inv, g, pp->rdr);
    if (!pp->fix_valid || 2 * ncl > C)
        factor_bit_lines(R, C, inv, g, pp->rdc);
    else
        for (size_t j = 0; j < C; j++)
            if (pp->cchg[j]) factor_bit_line(R, C, j, inv, g, pp->rdc);
    if (warm && pp->fix_valid) {
        /* warm start: the last solve's nodes, each line moved by its drive's
         * change; when only bit-line drives changed (the groups of one word
         * line), the bit lines are solved first, from the word lines that
         * are still nearly right */
        const double *pr = pp->wdrv, *pc = pp->wdrv + R;
        int rows_moved = 0;
        for (size_t i = 0; i < R; i++)
            if (vr[i] != pr[i]) {
                double d = vr[i] - pr[i];
                rows_moved = 1;
                for (size_t j = 0; j < C; j++) u[i * C + j] += d;
            }
        for (size_t j = 0; j < C; j++)
            if (vc[j] != pc[j]) {
                double d = vc[j] - pc[j];
                for (size_t k = 0; k < R; k++) w[k * C + j] += d;
            }
        if (rows_moved)
            for (size_t c = 0; c < nc; c++) v[c] = u[c] - w[c]; /* the first sweep's change is measured from it */
        else
            (void)solve_bit_lines(R, C, inv, vc, g, pp->rdc, u, w, v, dp); /* writes every v */
    } else
        for (size_t c = 0; c < nc; c++) {
            v[c] = vr[c / C] - vc[c % C];
            w[c] = vc[c % C]; /* the iteration starts with the bit lines at their drives */
        }
    pp->fix_valid = 1;
    pp->lin_now = 1;
    for (int sweep = 0; sweep < WIRE_SOLVE_MAX_SWEEPS; sweep++) {
        solve_word_lines(R, C, inv, vr, g, pp->rdr, w, u, dp);
        if (solve_bit_lines(R, C, inv, vc, g, pp->rdc, u, w, v, dp) <= WIRE_SOLVE_FAST_REL_TOL * vmax) {
            memcpy(pp->wdrv, vr, R * sizeof *vr);
            memcpy(pp->wdrv + R, vc, C * sizeof *vc);
            pp->warm = 1;
            *rc = SSP_OK;
            return 1;
        }
    }
    *rc = ssp_error(pp->ctx, SSP_ECONVERGE, "wire IR-drop solve of a %zu x %zu tile did not settle in %d sweeps "
                    "(r_wire %g ohm per segment)", R, C, WIRE_SOLVE_MAX_SWEEPS, pp->p.r_wire);
    return 1;
}

int pulse_cell_voltages(ssp_pulse *pp, const ssp_device *dev, const double *vr, const double *vc)
{
    size_t R = pp->rows, C = pp->cols, nc = R * C, L = R > C ? R : C;
    double r = pp->p.r_wire, *v = pp->vcell, *u = pp->vprev, *w = pp->icell, vmax = 0, vsmall;
    double *g = pp->vline, *oth = pp->vline + L, *x = pp->vline + 2 * L, *cp = pp->vline + 3 * L,
           *dp = pp->vline + 4 * L;
    int warm = pp->warm;
    pp->lin_now = 0;
    pp->warm = 0; /* until a fast solve succeeds */
    for (size_t i = 0; i < R; i++) vmax = fmax(vmax, fabs(vr[i]));
    for (size_t j = 0; j < C; j++) vmax = fmax(vmax, fabs(vc[j]));
    if (r > 0 && vmax > 0 && !pp->p.reference) {
        int rc;
        if (cell_voltages_linear(pp, dev, vr, vc, vmax, warm, &rc)) return rc;
    }
    for (size_t c = 0; c < nc; c++) v[c] = vr[c / C] - vc[c % C];
    if (r == 0 || vmax == 0) return SSP_OK;
    vsmall = WIRE_SOLVE_REL_TOL * vmax;
    for (size_t c = 0; c < nc; c++) {
        u[c] = vr[c / C]; /* word-line node of the cell */
        w[c] = vc[c % C]; /* bit-line node of the cell */
    }
    /* line-by-line Gauss-Seidel: every word line solved exactly with the bit
     * lines held, then every bit line with the word lines held; the cells
     * enter through their secant conductance at the present voltage */
    for (int sweep = 0; sweep < WIRE_SOLVE_MAX_SWEEPS; sweep++) {
        double change = 0;
        for (size_t i = 0; i < R; i++) {
            for (size_t j = 0; j < C; j++) {
                g[j] = secant_g(&dev[i * C + j], u[i * C + j] - w[i * C + j], vsmall);
                oth[j] = w[i * C + j];
            }
            solve_line(C, r, vr[i], g, oth, x, cp, dp);
            for (size_t j = 0; j < C; j++) u[i * C + j] = x[j];
        }
        for (size_t j = 0; j < C; j++) {
            for (size_t i = 0; i < R; i++) {
                g[i] = secant_g(&dev[i * C + j], u[i * C + j] - w[i * C + j], vsmall);
                oth[i] = u[i * C + j];
            }
            solve_line(R, r, vc[j], g, oth, x, cp, dp);
            for (size_t i = 0; i < R; i++) w[i * C + j] = x[i];
        }
        for (size_t c = 0; c < nc; c++) {
            double nv = u[c] - w[c];
            change = fmax(change, fabs(nv - v[c]));
            v[c] = nv;
        }
        if (change <= WIRE_SOLVE_REL_TOL * vmax) return SSP_OK;
    }
    return ssp_error(pp->ctx, SSP_ECONVERGE, "wire IR-drop solve of a %zu x %zu tile did not settle in %d sweeps "
                     "(r_wire %g ohm per segment)", R, C, WIRE_SOLVE_MAX_SWEEPS, r);
}
