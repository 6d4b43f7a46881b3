/* ssp_hw.c — device pairs, level programming through the C device model,
 * read-back weights and the ideal-engine product. No printing.
 *
 * The one place that knows how the devices are laid out: matrix m is a
 * physical array of rows x 2 cols devices, weight idx = i cols + j on the
 * pair at index 2 idx (G+) and 2 idx + 1 (G-), i.e. physical columns 2j and
 * 2j + 1 of row i (the PAIR_* helpers below). Every other module reaches a
 * device through the functions of ssp_hw.h and must not repeat that
 * arithmetic. */
#include "ssp_hw.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_rng.h"

static const unsigned SSP_HW_MAGIC = 0x48574131u; /* "HWA1" */

/* The device-pair layout: two devices per weight, interleaved. */
enum { PAIR_DEVICES = 2, PAIR_PLUS = 0, PAIR_MINUS = 1 };
static size_t pair_index(size_t idx) { return PAIR_DEVICES * idx; }

struct ssp_hw {
    ssp_ctx *ctx;                     /* borrowed */
    const ssp_device_model *model;    /* borrowed */
    size_t nmat;
    size_t *rows, *cols;              /* shapes (owned) */
    ssp_device **dev;                 /* dev[m]: PAIR_DEVICES * rows * cols devices (owned) */
    unsigned char **touched;          /* per matrix, per row: changed by ssp_hw_program's fn (owned) */
    unsigned long version;            /* device changes so far (ssp_hw_version) */
    double **w;                       /* read-back weights (owned) */
    double **g;                       /* read conductance of every device (owned) */
    unsigned **stamp;                 /* per weight: write epoch of its last write (owned) */
    unsigned epoch;                   /* current write epoch (ssp_hw_mark) */
    size_t ndev;                      /* devices in all matrices */
    ssp_device_levels *levels;        /* nominal level table (owned) */
    ssp_device_work *work;            /* integrator workspace (owned) */
    gsl_rng *rng;                     /* variation and noise (owned) */
    double *w_max;                    /* per matrix: weight of a full-range pair (owned) */
    double g_span;                    /* nominal Gmax - Gmin (S) */
    long verify_max;                  /* most pulses per verified write */
    double set_v, set_w, reset_v, reset_w; /* default pulses (V, s) */
    double edge;                      /* pulse edge time (s) */
    double read_v, read_t;            /* read voltage (V) and time (s) */
    double ppl;                       /* nominal SET pulses per level step */
    long *nlut;                       /* L x L: nominal pulses from level a to b (owned) */
};

void ssp_hw_stats_add(ssp_hw_stats *to, const ssp_hw_stats *from)
{
    to->weight_writes += from->weight_writes;
    to->device_writes += from->device_writes;
    to->pulses += from->pulses;
    to->reads += from->reads;
    to->out_of_band += from->out_of_band;
    to->device_targets += from->device_targets;
    to->out_of_band_pulsed += from->out_of_band_pulsed;
    to->out_of_band_stuck += from->out_of_band_stuck;
    to->pulse_energy_j += from->pulse_energy_j;
    to->read_energy_j += from->read_energy_j;
    to->pulse_latency_s += from->pulse_latency_s;
    to->read_latency_s += from->read_latency_s;
}

void ssp_hw_destroy(ssp_hw **phw)
{
    ssp_hw *hw;
    if (!phw || !*phw) return;
    hw = *phw;
    for (size_t m = 0; m < hw->nmat; m++) {
        if (hw->dev) free(hw->dev[m]);
        if (hw->w) free(hw->w[m]);
        if (hw->g) free(hw->g[m]);
        if (hw->stamp) free(hw->stamp[m]);
        if (hw->touched) free(hw->touched[m]);
    }
    free(hw->touched);
    free(hw->g);
    free(hw->stamp);
    free(hw->dev);
    free(hw->w);
    free(hw->rows);
    free(hw->cols);
    free(hw->w_max);
    ssp_device_levels_free(&hw->levels);
    free(hw->nlut);
    ssp_device_work_free(&hw->work);
    ssp_device_rng_free(&hw->rng);
    free(hw);
    *phw = NULL;
}

static double read_g(const ssp_device *d) { return ssp_device_conductance(d, ssp_device_model_read_voltage(d->model)); }

/* Update the read conductances and the read-back weight of one pair. */
static void refresh_weight(ssp_hw *hw, size_t m, size_t idx)
{
    const ssp_device *d = hw->dev[m] + pair_index(idx);
    double *g = hw->g[m] + pair_index(idx), gp = read_g(&d[PAIR_PLUS]), gm = read_g(&d[PAIR_MINUS]);
    g[PAIR_PLUS] = gp;
    g[PAIR_MINUS] = gm;
    hw->w[m][idx] = hw->w_max[m] * (gp - gm) / hw->g_span;
}

static int plus_level(int q) { return q > 0 ? q : 0; }
static int minus_level(int q) { return q < 0 ? -q : 0; }

/* The open-loop programmer's table: pulses that take the NOMINAL device from
 * level a's target to level b's (the model inverse, rounded). A real
 * open-loop controller knows only the nominal device; each device's
 * variation then shows up as a landing error. */
static int build_lut(ssp_hw *hw, const ssp_device *nominal, size_t L)
{
    hw->nlut = calloc(L * L, sizeof *hw->nlut);
    if (!hw->nlut) return ssp_error(hw->ctx, SSP_ENOMEM, "out of memory building the pulse table");
    for (size_t a = 0; a < L; a++)
        for (size_t b = 0; b < L; b++) {
            int set = b > a, rc;
            double n = 0;
            if (a == b) continue;
            rc = ssp_device_pulses_between(nominal, hw->work, hw->ctx, hw->levels->g[a], hw->levels->g[b],
                                           set ? hw->set_v : hw->reset_v, set ? hw->set_w : hw->reset_w, &n);
            if (rc) {
                ssp_error_prefix(hw->ctx, "device %s, level %zu to %zu: ", ssp_device_model_origin(hw->model), a, b);
                return rc;
            }
            hw->nlut[a * L + b] = lround(n) < 1 ? 1 : lround(n);
        }
    return SSP_OK;
}

int ssp_hw_create(ssp_hw **out, ssp_ctx *ctx, const ssp_device_model *model, size_t nmat,
                  const size_t *rows, const size_t *cols, int levels, double tolerance,
                  const double *w_max, long verify_max, unsigned long seed)
{
    ssp_hw *hw;
    ssp_device nominal;
    double n_full = 0;
    int rc;
    *out = NULL;
    hw = calloc(1, sizeof *hw);
    if (!hw) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the hardware model");
    hw->ctx = ctx;
    hw->model = model;
    hw->nmat = nmat;
    hw->verify_max = verify_max;
    hw->g_span = ssp_device_model_gmax(model) - ssp_device_model_gmin(model);
    hw->epoch = 1;
    ssp_device_model_pulse(model, SSP_DEVICE_SET, &hw->set_v, &hw->set_w);
    ssp_device_model_pulse(model, SSP_DEVICE_RESET, &hw->reset_v, &hw->reset_w);
    hw->edge = ssp_device_model_edge(model);
    hw->read_v = ssp_device_model_read_voltage(model);
    hw->read_t = ssp_device_model_read_width(model);
    hw->rows = malloc(nmat * sizeof *hw->rows);
    hw->cols = malloc(nmat * sizeof *hw->cols);
    hw->dev = calloc(nmat, sizeof *hw->dev);
    hw->w = calloc(nmat, sizeof *hw->w);
    hw->g = calloc(nmat, sizeof *hw->g);
    hw->stamp = calloc(nmat, sizeof *hw->stamp);
    hw->touched = calloc(nmat, sizeof *hw->touched);
    hw->w_max = malloc(nmat * sizeof *hw->w_max);
    if (hw->w_max) memcpy(hw->w_max, w_max, nmat * sizeof *w_max);
    if (!hw->rows || !hw->cols || !hw->dev || !hw->w || !hw->g || !hw->stamp || !hw->touched || !hw->w_max) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory creating the hardware model");
        goto fail;
    }
    rc = ssp_device_rng_alloc(&hw->rng, ctx, seed);
    if (!rc) rc = ssp_device_work_alloc(&hw->work, ctx);
    if (rc) goto fail;
    ssp_device_init(&nominal, model, 0.0);
    rc = ssp_device_levels_alloc(&hw->levels, ctx, &nominal, (size_t)levels, tolerance);
    if (rc) goto fail;
    rc = ssp_device_pulses_between(&nominal, hw->work, ctx, hw->levels->g[0], hw->levels->g[levels - 1],
                                   hw->set_v, hw->set_w, &n_full);
    if (rc) {
        ssp_error_prefix(ctx, "device %s: the default SET pulse cannot span the level table: ",
                         ssp_device_model_origin(model));
        goto fail;
    }
    hw->ppl = n_full / (levels - 1);
    rc = build_lut(hw, &nominal, (size_t)levels);
    if (rc) goto fail;
    for (size_t m = 0; m < nmat; m++) {
        size_t n = rows[m] * cols[m];
        hw->rows[m] = rows[m];
        hw->cols[m] = cols[m];
        hw->dev[m] = malloc(PAIR_DEVICES * n * sizeof **hw->dev);
        hw->w[m] = malloc(n * sizeof **hw->w);
        hw->g[m] = calloc(PAIR_DEVICES * n, sizeof **hw->g);
        hw->stamp[m] = calloc(n, sizeof **hw->stamp);
        hw->touched[m] = calloc(rows[m] ? rows[m] : 1, sizeof **hw->touched);
        hw->ndev += PAIR_DEVICES * n;
        if (!hw->dev[m] || !hw->w[m] || !hw->g[m] || !hw->stamp[m] || !hw->touched[m]) {
            rc = ssp_error(ctx, SSP_ENOMEM, "out of memory allocating %zu devices", PAIR_DEVICES * n);
            goto fail;
        }
        for (size_t i = 0; i < PAIR_DEVICES * n; i++) {
            ssp_device *d = &hw->dev[m][i];
            rc = ssp_device_sample(d, ctx, model, hw->rng);
            if (rc) goto fail;
            if (d->stuck == SSP_DEVICE_FREE) {
                /* start at the bottom level: G+ = G- = Gmin (weight 0) */
                rc = ssp_device_set_conductance(d, ctx, fmax(hw->levels->g[0], ssp_device_gmin(d)));
                if (rc) goto fail;
            }
        }
        for (size_t i = 0; i < n; i++) refresh_weight(hw, m, i);
    }
    *out = hw;
    return SSP_OK;
fail:
    hw->nmat = nmat;
    ssp_hw_destroy(&hw);
    return rc;
}

/* Energy and latency of one pulse / read on device d. */
static void cost_pulse(ssp_hw *hw, const ssp_device *d, double v, double width, ssp_hw_stats *st)
{
    st->pulses++;
    st->pulse_energy_j += v * v * read_g(d) * width;
    st->pulse_latency_s += width + 2 * hw->edge;
}

static void cost_read(ssp_hw *hw, const ssp_device *d, ssp_hw_stats *st)
{
    st->reads++;
    st->read_energy_j += hw->read_v * hw->read_v * read_g(d) * hw->read_t;
    st->read_latency_s += hw->read_t;
}

static int pulse_once(ssp_hw *hw, ssp_device *d, int set, ssp_hw_stats *st)
{
    double v = set ? hw->set_v : hw->reset_v, wd = set ? hw->set_w : hw->reset_w;
    cost_pulse(hw, d, v, wd, st);
    return ssp_device_pulse(d, hw->work, hw->rng, v, wd);
}

/* Where to aim device d for level L: the level's target, or, when device-to-
 * device variation puts the band outside the device's own range, a point
 * just inside the nearer bound (*reachable = 0: the band cannot be met). */
static double aim(const ssp_hw *hw, const ssp_device *d, int L, int *reachable)
{
    const ssp_device_levels *lv = hw->levels;
    double lo = ssp_device_gmin(d), hi = ssp_device_gmax(d), margin = 0.25 * (lv->hi[L] - lv->lo[L]);
    *reachable = lv->hi[L] >= lo && lv->lo[L] <= hi;
    if (lv->g[L] < lo + margin) return lo + margin;
    if (lv->g[L] > hi - margin) return hi - margin;
    return lv->g[L];
}

/* Within the band of L, or as close as the device can get (at its aim). */
static int settled(const ssp_hw *hw, int L, double g, double target, int reachable)
{
    const ssp_device_levels *lv = hw->levels;
    if (reachable) return g >= lv->lo[L] && g <= lv->hi[L];
    return fabs(g - target) <= 0.5 * (lv->hi[L] - lv->lo[L]);
}

/* Write-verify one device into band L; returns 1 if it got there, *pulsed
 * 1 if it received a pulse. */
static int verify_device(ssp_hw *hw, ssp_device *d, int L, ssp_hw_stats *st, int *pulsed, int *rc)
{
    int reachable;
    double target = aim(hw, d, L, &reachable);
    *rc = SSP_OK;
    for (long k = 0; k <= hw->verify_max; k++) {
        double g;
        cost_read(hw, d, st);
        *rc = ssp_device_read(d, hw->rng, &g);
        if (*rc) return 0;
        if (settled(hw, L, g, target, reachable)) return reachable;
        if (k == hw->verify_max || d->stuck != SSP_DEVICE_FREE) break;
        *rc = pulse_once(hw, d, g < target, st);
        if (*rc) return 0;
        *pulsed = 1;
    }
    return 0;
}

/* Nearest level of conductance g on the nominal table. */
static size_t nearest_level(const ssp_hw *hw, double g)
{
    const ssp_device_levels *lv = hw->levels;
    double step = (lv->g[lv->n - 1] - lv->g[0]) / (double)(lv->n - 1);
    long a = lround((g - lv->g[0]) / step);
    return a < 0 ? 0 : ((size_t)a >= lv->n ? lv->n - 1 : (size_t)a);
}

/* Open loop: the pulse count from the nominal model inverse (from the level
 * the device reads nearest to, to L); no verify reads. */
static int open_loop_device(ssp_hw *hw, ssp_device *d, int L, ssp_hw_stats *st, int *pulsed, int *rc)
{
    const ssp_device_levels *lv = hw->levels;
    int reachable;
    double g = read_g(d), target = aim(hw, d, L, &reachable);
    size_t a = nearest_level(hw, g);
    int set = g < target;
    long k, np;
    *rc = SSP_OK;
    if (settled(hw, L, g, target, reachable)) return reachable;
    if (d->stuck != SSP_DEVICE_FREE) return 0;
    /* nearest level already L but outside the band: one corrective pulse */
    np = a == (size_t)L ? 1 : hw->nlut[a * lv->n + (size_t)L];
    if ((a < (size_t)L) != set && a != (size_t)L) np = 1; /* table and reading disagree on direction */
    if (np > hw->verify_max) np = hw->verify_max;
    for (k = 0; k < np && !*rc; k++) *rc = pulse_once(hw, d, set, st);
    *pulsed = k > 0;
    g = read_g(d);
    return reachable && g >= lv->lo[L] && g <= lv->hi[L];
}

int ssp_hw_write(ssp_hw *hw, size_t m, size_t idx, int q, int mode, ssp_hw_stats *st)
{
    ssp_device *d = hw->dev[m] + pair_index(idx);
    int target[PAIR_DEVICES] = {plus_level(q), minus_level(q)}, rc = SSP_OK;
    if (abs(q) >= (int)hw->levels->n)
        return ssp_error(hw->ctx, SSP_ERANGE, "level %d outside +-%zu", q, hw->levels->n - 1);
    hw->version++;
    for (int s = 0; s < PAIR_DEVICES && !rc; s++) {
        int pulsed = 0;
        int ok = mode == SSP_HW_VERIFY ? verify_device(hw, &d[s], target[s], st, &pulsed, &rc)
                                       : open_loop_device(hw, &d[s], target[s], st, &pulsed, &rc);
        st->device_targets++;
        st->device_writes += (unsigned long long)pulsed;
        if (!rc && !ok) {
            st->out_of_band++;
            st->out_of_band_pulsed += (unsigned long long)pulsed;
            st->out_of_band_stuck += d[s].stuck != SSP_DEVICE_FREE;
        }
    }
    if (rc) return rc;
    st->weight_writes++;
    hw->stamp[m][idx] = hw->epoch;
    refresh_weight(hw, m, idx);
    return SSP_OK;
}

int ssp_hw_pulse(ssp_hw *hw, size_t m, size_t idx, long npulses, ssp_hw_stats *st)
{
    ssp_device *d = hw->dev[m] + pair_index(idx);
    int rc = SSP_OK;
    long n = labs(npulses);
    int hit[PAIR_DEVICES] = {0, 0};
    if (n == 0) return SSP_OK;
    hw->version++;
    for (long k = 0; k < n && !rc; k++) {
        int use_plus = read_g(&d[PAIR_PLUS]) >= read_g(&d[PAIR_MINUS]);
        ssp_device *t = use_plus ? &d[PAIR_PLUS] : &d[PAIR_MINUS];
        /* raising the weight: SET on G+, or RESET on G- */
        int set = (npulses > 0) == use_plus;
        rc = pulse_once(hw, t, set, st);
        hit[!use_plus] = 1;
    }
    st->device_writes += (unsigned long long)(hit[0] + hit[1]);
    st->weight_writes++;
    hw->stamp[m][idx] = hw->epoch;
    refresh_weight(hw, m, idx);
    return rc;
}

int ssp_hw_preset(ssp_hw *hw, size_t m, const int *q)
{
    size_t n = hw->rows[m] * hw->cols[m];
    hw->version++;
    for (size_t i = 0; i < n; i++) {
        int lv[PAIR_DEVICES] = {plus_level(q[i]), minus_level(q[i])};
        for (int s = 0; s < PAIR_DEVICES; s++) {
            ssp_device *d = &hw->dev[m][pair_index(i) + (size_t)s];
            double g = hw->levels->g[lv[s]];
            int rc;
            if (d->stuck != SSP_DEVICE_FREE) continue;
            g = fmin(fmax(g, ssp_device_gmin(d)), ssp_device_gmax(d));
            rc = ssp_device_set_conductance(d, hw->ctx, g);
            if (rc) return rc;
        }
        refresh_weight(hw, m, i);
    }
    return SSP_OK;
}

double ssp_hw_pulses_per_level(const ssp_hw *hw) { return hw->ppl; }
void ssp_hw_mark(ssp_hw *hw) { hw->epoch++; }

double ssp_hw_untouched_carrier_g(const ssp_hw *hw)
{
    double s = 0;
    for (size_t m = 0; m < hw->nmat; m++) {
        const double *g = hw->g[m];
        const unsigned *st = hw->stamp[m];
        for (size_t i = 0; i < hw->rows[m] * hw->cols[m]; i++)
            if (st[i] != hw->epoch) {
                double gp = g[pair_index(i) + PAIR_PLUS], gm = g[pair_index(i) + PAIR_MINUS];
                s += gp > gm ? gp : gm;
            }
    }
    return s;
}

void ssp_hw_set_pulse(const ssp_hw *hw, double *v, double *width, double *edge)
{
    *v = hw->set_v;
    *width = hw->set_w;
    *edge = hw->edge;
}

double ssp_hw_g_sum(const ssp_hw *hw)
{
    /* summed in a fixed order every time, so a resumed run matches bit for bit */
    double s = 0;
    for (size_t m = 0; m < hw->nmat; m++)
        for (size_t i = 0; i < ssp_hw_device_count_of(hw, m); i++) s += hw->g[m][i];
    return s;
}
size_t ssp_hw_device_count(const ssp_hw *hw) { return hw->ndev; }
double ssp_hw_read_voltage(const ssp_hw *hw) { return hw->read_v; }
double ssp_hw_read_time(const ssp_hw *hw) { return hw->read_t; }
const double *ssp_hw_weights(const ssp_hw *hw, size_t m) { return hw->w[m]; }
size_t ssp_hw_nmat(const ssp_hw *hw) { return hw->nmat; }
size_t ssp_hw_weight_count(const ssp_hw *hw, size_t m) { return hw->rows[m] * hw->cols[m]; }
const ssp_device *ssp_hw_devices_const(const ssp_hw *hw, size_t m) { return hw->dev[m]; }
size_t ssp_hw_device_cols(const ssp_hw *hw, size_t m) { return PAIR_DEVICES * hw->cols[m]; }
size_t ssp_hw_device_count_of(const ssp_hw *hw, size_t m) { return PAIR_DEVICES * hw->rows[m] * hw->cols[m]; }
unsigned long ssp_hw_version(const ssp_hw *hw) { return hw->version; }

void ssp_hw_cells(const ssp_hw *hw, size_t m, ssp_cell_iv *plus, ssp_cell_iv *minus)
{
    const ssp_device *d = hw->dev[m];
    for (size_t i = 0; i < hw->rows[m] * hw->cols[m]; i++) {
        ssp_device_cell_iv(&d[pair_index(i) + PAIR_PLUS], &plus[i]);
        ssp_device_cell_iv(&d[pair_index(i) + PAIR_MINUS], &minus[i]);
    }
}

void ssp_hw_device_weight(const ssp_hw *hw, size_t m, size_t d, size_t *idx, int *minus)
{
    (void)hw;
    (void)m;
    *idx = d / PAIR_DEVICES;
    *minus = d % PAIR_DEVICES == PAIR_MINUS;
}

int ssp_hw_device_level(int q, int minus) { return minus ? minus_level(q) : plus_level(q); }

size_t ssp_hw_target_weight(const ssp_hw *hw, size_t idx, int q, int from, int changed_only, int *targetm)
{
    int to[PAIR_DEVICES] = {plus_level(q), minus_level(q)}, was[PAIR_DEVICES] = {plus_level(from), minus_level(from)};
    size_t n = 0;
    (void)hw;
    for (int s = 0; s < PAIR_DEVICES; s++)
        if (!changed_only || to[s] != was[s]) {
            targetm[pair_index(idx) + (size_t)s] = to[s];
            n++;
        }
    return n;
}

void ssp_hw_target_all(const ssp_hw *hw, size_t m, const int *q, int *targetm)
{
    for (size_t i = 0; i < hw->rows[m] * hw->cols[m]; i++) ssp_hw_target_weight(hw, i, q[i], 0, 0, targetm);
}

int ssp_hw_program(ssp_hw *hw, ssp_hw_program_fn fn, void *payload)
{
    int rc = fn(payload, hw->dev, hw->rng, hw->touched);
    for (size_t m = 0; m < hw->nmat; m++)
        for (size_t r = 0; r < hw->rows[m]; r++) {
            if (!hw->touched[m][r]) continue;
            for (size_t i = r * hw->cols[m]; i < (r + 1) * hw->cols[m]; i++) refresh_weight(hw, m, i);
            hw->touched[m][r] = 0;
        }
    hw->version++;
    return rc;
}
const ssp_device_levels *ssp_hw_levels(const ssp_hw *hw) { return hw->levels; }

size_t ssp_hw_stuck_count(const ssp_hw *hw)
{
    size_t n = 0;
    for (size_t m = 0; m < hw->nmat; m++)
        for (size_t i = 0; i < ssp_hw_device_count_of(hw, m); i++) n += hw->dev[m][i].stuck != SSP_DEVICE_FREE;
    return n;
}

int ssp_hw_matmul_ideal(void *payload, size_t m, const double *u, size_t n, double *z)
{
    const ssp_hw *hw = payload;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)hw->cols[m], (int)hw->rows[m], 1.0, u,
                (int)hw->rows[m], hw->w[m], (int)hw->cols[m], 0.0, z, (int)hw->cols[m]);
    return SSP_OK;
}

int ssp_hw_write_state(const ssp_hw *hw, FILE *f)
{
    unsigned magic = SSP_HW_MAGIC;
    fwrite(&magic, sizeof magic, 1, f);
    fwrite(&hw->nmat, sizeof hw->nmat, 1, f);
    for (size_t m = 0; m < hw->nmat; m++) {
        size_t n = ssp_hw_device_count_of(hw, m);
        fwrite(&n, sizeof n, 1, f);
        for (size_t i = 0; i < n; i++) {
            const ssp_device *d = &hw->dev[m][i];
            fwrite(d->p, sizeof d->p, 1, f);
            fwrite(&d->x, sizeof d->x, 1, f);
            fwrite(&d->stuck, sizeof d->stuck, 1, f);
        }
    }
    if (gsl_rng_fwrite(f, hw->rng) != 0) return SSP_EIO;
    return ferror(f) ? SSP_EIO : SSP_OK;
}

/* A device read from a checkpoint: finite state and parameters, a known
 * stuck kind. */
static int device_sane(const ssp_device *d)
{
    if (!isfinite(d->x) || d->stuck < SSP_DEVICE_FREE || d->stuck > SSP_DEVICE_STUCK_OFF) return 0;
    for (size_t k = 0; k < sizeof d->p / sizeof d->p[0]; k++)
        if (!isfinite(d->p[k])) return 0;
    return 1;
}

/* A stored device parameter equals the one the current model and seed
 * draw up to this relative difference: the same binary reproduces them bit
 * for bit, another build's libm (exp, log of the lognormal variation) may
 * differ by a few ulps; a changed parameter file or seed differs by far
 * more. */
static const double HW_PARAM_RTOL = 1e-9;

static int same_param(double a, double b)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return a == b || fabs(a - b) <= HW_PARAM_RTOL * m;
}

/* The devices' parameters in a checkpoint were drawn when its run created
 * them (model, parameter file, variation, seed); hw was just created from
 * the current configuration the same way, so they must agree: a checkpoint
 * whose devices came from another model or seed is refused here rather
 * than read under parameters it was not trained with. */
int ssp_hw_read_state(ssp_hw *hw, ssp_ctx *ctx, FILE *f, const char *origin)
{
    unsigned magic = 0;
    size_t nmat = 0;
    int ok;
    hw->version++;
    ok = fread(&magic, sizeof magic, 1, f) == 1 && magic == SSP_HW_MAGIC && fread(&nmat, sizeof nmat, 1, f) == 1 &&
             nmat == hw->nmat;
    for (size_t m = 0; ok && m < nmat; m++) {
        size_t n = 0;
        ok = fread(&n, sizeof n, 1, f) == 1 && n == ssp_hw_device_count_of(hw, m);
        for (size_t i = 0; ok && i < n; i++) {
            ssp_device *d = &hw->dev[m][i];
            double p[SSP_DEVICE_MAX_PARAMS];
            ok = fread(p, sizeof p, 1, f) == 1 && fread(&d->x, sizeof d->x, 1, f) == 1 &&
                 fread(&d->stuck, sizeof d->stuck, 1, f) == 1;
            for (size_t k = 0; ok && k < SSP_DEVICE_MAX_PARAMS; k++)
                if (!same_param(p[k], d->p[k]))
                    return ssp_error(ctx, SSP_EFORMAT,
                                     "%s: matrix %zu device %zu has parameter %zu = %.9g, the configuration's device "
                                     "model %s and run.seed give %.9g: the checkpoint was trained with another device "
                                     "parameter file, model or seed", origin, m, i, k, p[k],
                                     ssp_device_model_origin(hw->model), d->p[k]);
            if (ok) memcpy(d->p, p, sizeof p);
            d->model = hw->model;
            if (ok && !device_sane(d))
                return ssp_error(ctx, SSP_EFORMAT, "%s: device section: matrix %zu device %zu holds values out of range "
                                 "(state %g, stuck %d)", origin, m, i, d->x, d->stuck);
        }
        for (size_t i = 0; ok && i < n / PAIR_DEVICES; i++) refresh_weight(hw, m, i);
    }
    if (!ok) return ssp_error(ctx, SSP_EFORMAT, "%s: device section truncated or from another network", origin);
    { /* a state GSL would trust blindly (ssp_rng.h) */
        char what[512];
        snprintf(what, sizeof what, "%s: device section", origin);
        if (ssp_rng_read(ctx, f, hw->rng, what) != SSP_OK) return ssp_ctx_errcode(ctx);
    }
    return SSP_OK;
}

double ssp_hw_g_span(const ssp_hw *hw) { return hw->g_span; }
double ssp_hw_w_max(const ssp_hw *hw, size_t m) { return hw->w_max[m]; }
size_t ssp_hw_rows(const ssp_hw *hw, size_t m) { return hw->rows[m]; }
size_t ssp_hw_cols(const ssp_hw *hw, size_t m) { return hw->cols[m]; }

void ssp_hw_stamp(ssp_hw *hw, size_t m, size_t idx) { hw->stamp[m][idx] = hw->epoch; }
gsl_rng *ssp_hw_rng(ssp_hw *hw) { return hw->rng; }
