/* ssp_hwprog.c — a network's device arrays programmed tile by tile through
 * the pulse scheduler (see ssp_hwprog.h). Holds one pulse programmer per
 * distinct tile shape; no global state, no printing. */
#include "hwprog_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"

static void record_free(ssp_hwprog *hp)
{
    for (size_t k = 0; hp->rec && k < hp->ntiles; k++) {
        ssp_pulse_schedule_free(&hp->rec[k].sched);
        free(hp->rec[k].start);
    }
    free(hp->rec);
    hp->rec = NULL;
}

void ssp_hwprog_destroy(ssp_hwprog **php)
{
    ssp_hwprog *hp;
    if (!php || !*php) return;
    hp = *php;
    record_free(hp);
    for (size_t i = 0; i < hp->nshapes; i++) ssp_pulse_destroy(&hp->shapes[i].pp);
    free(hp->shapes);
    free(hp->tiles);
    free(hp->pcols);
    free(hp->buf);
    free(hp->buf2);
    free(hp->buf3);
    free(hp->tbuf);
    free(hp);
    *php = NULL;
}

/* The programmer of an R x C tile (created on first use). */
static int shape_of(ssp_hwprog *hp, size_t R, size_t C, ssp_pulse **out)
{
    for (size_t i = 0; i < hp->nshapes; i++)
        if (hp->shapes[i].rows == R && hp->shapes[i].cols == C) {
            *out = hp->shapes[i].pp;
            return SSP_OK;
        }
    {
        shape *s = realloc(hp->shapes, (hp->nshapes + 1) * sizeof *s);
        int rc;
        if (!s) return ssp_error(hp->ctx, SSP_ENOMEM, "out of memory for a tile programmer");
        hp->shapes = s;
        s[hp->nshapes].rows = R;
        s[hp->nshapes].cols = C;
        rc = ssp_pulse_create(&s[hp->nshapes].pp, hp->ctx, hp->m, hp->lv, R, C, &hp->pp);
        if (rc) return rc;
        *out = s[hp->nshapes++].pp;
    }
    return SSP_OK;
}

int ssp_hwprog_create(ssp_hwprog **out, ssp_ctx *ctx, const ssp_device_model *m,
                      const ssp_device_levels *lv, size_t nmat, const size_t *rows,
                      const size_t *dcols, const ssp_hwprog_params *p)
{
    ssp_hwprog *hp;
    ssp_device nom;
    size_t nt = 0, k = 0;
    int rc;
    *out = NULL;
    if (p->tile_rows == 0 || p->tile_cols < 2 || p->tile_cols % 2)
        return ssp_error(ctx, SSP_EINVAL, "programming tiles of %zu x %zu cells: need rows >= 1 and an even number of columns",
                         p->tile_rows, p->tile_cols);
    if (!(p->r_wire >= 0)) return ssp_error(ctx, SSP_EINVAL, "wire resistance %g ohm per segment must be >= 0", p->r_wire);
    if (!(p->c_line_cell >= 0) || !isfinite(p->c_line_cell))
        return ssp_error(ctx, SSP_EINVAL, "line capacitance %g F per cell must be >= 0", p->c_line_cell);
    if (p->verify_rounds < 1) return ssp_error(ctx, SSP_EINVAL, "verify rounds %ld must be >= 1", p->verify_rounds);
    if (!(hp = calloc(1, sizeof *hp))) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a tile programmer");
    hp->ctx = ctx;
    hp->m = m;
    hp->lv = lv;
    hp->nmat = nmat;
    ssp_pulse_params_default(&hp->pp, m);
    hp->pp.strategy = p->strategy;
    hp->pp.bias = p->bias;
    hp->pp.verify_max = p->verify_rounds;
    hp->pp.order = SSP_PULSE_BY_ROW;
    hp->pp.r_wire = p->r_wire;
    hp->pp.c_line_cell = p->c_line_cell;
    for (size_t i = 0; i < nmat; i++)
        nt += ((rows[i] + p->tile_rows - 1) / p->tile_rows) * ((dcols[i] + p->tile_cols - 1) / p->tile_cols);
    hp->pcols = malloc(nmat * sizeof *hp->pcols);
    hp->tiles = malloc(nt * sizeof *hp->tiles);
    hp->buf = malloc(p->tile_rows * p->tile_cols * sizeof *hp->buf);
    hp->buf2 = malloc(p->tile_rows * p->tile_cols * sizeof *hp->buf2);
    hp->buf3 = malloc(p->tile_rows * p->tile_cols * sizeof *hp->buf3);
    hp->tbuf = malloc(p->tile_rows * p->tile_cols * sizeof *hp->tbuf);
    if (!hp->pcols || !hp->tiles || !hp->buf || !hp->buf2 || !hp->buf3 || !hp->tbuf) {
        ssp_hwprog_destroy(&hp);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory creating a tile programmer");
    }
    for (size_t i = 0; i < nmat; i++) {
        size_t pc = dcols[i];
        hp->pcols[i] = pc;
        for (size_t r0 = 0; r0 < rows[i]; r0 += p->tile_rows)
            for (size_t c0 = 0; c0 < pc; c0 += p->tile_cols) {
                ssp_hwprog_tile *t = &hp->tiles[k++];
                t->m = i;
                t->r0 = r0;
                t->c0 = c0;
                t->rows = rows[i] - r0 < p->tile_rows ? rows[i] - r0 : p->tile_rows;
                t->cols = pc - c0 < p->tile_cols ? pc - c0 : p->tile_cols;
            }
    }
    hp->ntiles = nt;
    /* the state range from the nominal device's conductance bounds */
    ssp_device_init(&nom, m, ssp_device_model_x_init(m));
    {
        double xlo, xhi;
        rc = ssp_device_set_conductance(&nom, ctx, ssp_device_gmin(&nom));
        xlo = nom.x;
        if (!rc) rc = ssp_device_set_conductance(&nom, ctx, ssp_device_gmax(&nom));
        xhi = nom.x;
        if (rc) {
            ssp_hwprog_destroy(&hp);
            return rc;
        }
        hp->x_range = xhi - xlo > 0 ? xhi - xlo : 1.0;
    }
    /* every shape's programmer up front: parameter errors surface here */
    for (size_t i = 0; i < nt; i++) {
        ssp_pulse *pp;
        if ((rc = shape_of(hp, hp->tiles[i].rows, hp->tiles[i].cols, &pp))) {
            ssp_hwprog_destroy(&hp);
            return rc;
        }
    }
    *out = hp;
    return SSP_OK;
}

size_t ssp_hwprog_ntiles(const ssp_hwprog *hp) { return hp->ntiles; }
const ssp_hwprog_tile *ssp_hwprog_tile_at(const ssp_hwprog *hp, size_t k) { return &hp->tiles[k]; }
ssp_pulse_cal *ssp_hwprog_cal(ssp_hwprog *hp) { return &hp->cal; }
const ssp_pulse_params *ssp_hwprog_pulse_params(const ssp_hwprog *hp) { return &hp->pp; }
double ssp_hwprog_state_range(const ssp_hwprog *hp) { return hp->x_range; }

int ssp_hwprog_tile_has_targets(const ssp_hwprog *hp, size_t k, const int *targetm)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t pc = hp->pcols[t->m];
    for (size_t i = 0; i < t->rows; i++)
        for (size_t j = 0; j < t->cols; j++)
            if (targetm[(t->r0 + i) * pc + t->c0 + j] != SSP_PULSE_KEEP) return 1;
    return 0;
}

size_t ssp_hwprog_tile_targets(const ssp_hwprog *hp, size_t k, const int *targetm)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t pc = hp->pcols[t->m], n = 0;
    for (size_t i = 0; i < t->rows; i++)
        for (size_t j = 0; j < t->cols; j++) n += targetm[(t->r0 + i) * pc + t->c0 + j] != SSP_PULSE_KEEP;
    return n;
}

void ssp_hwprog_gather(const ssp_hwprog *hp, size_t k, const ssp_device *devm, ssp_device *buf)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t pc = hp->pcols[t->m];
    for (size_t i = 0; i < t->rows; i++)
        memcpy(buf + i * t->cols, devm + (t->r0 + i) * pc + t->c0, t->cols * sizeof *buf);
}

void hwprog_scatter(const ssp_hwprog *hp, size_t k, const ssp_device *buf, ssp_device *devm)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t pc = hp->pcols[t->m];
    for (size_t i = 0; i < t->rows; i++)
        memcpy(devm + (t->r0 + i) * pc + t->c0, buf + i * t->cols, t->cols * sizeof *buf);
}

void hwprog_gather_targets(const ssp_hwprog *hp, size_t k, const int *targetm, int *buf)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t pc = hp->pcols[t->m];
    for (size_t i = 0; i < t->rows; i++)
        memcpy(buf + i * t->cols, targetm + (t->r0 + i) * pc + t->c0, t->cols * sizeof *buf);
}

int hwprog_need_cal(ssp_ctx *ctx, const ssp_pulse_cal *cal, size_t k)
{
    if (cal->fitted) return SSP_OK;
    return ssp_error(ctx, SSP_ESTATE, "tile %zu: the C-model path needs an energy calibration from an ngspice run first", k);
}

void hwprog_error_tile(ssp_ctx *ctx, size_t k, const ssp_hwprog_tile *t)
{
    ssp_error_prefix(ctx, "tile %zu (matrix %zu, rows %zu.., columns %zu..): ", k, t->m, t->r0, t->c0);
}

void ssp_hwprog_totals_add(ssp_hwprog_totals *tot, const ssp_pulse_result *r)
{
    ssp_pulse_result *s = &tot->sum;
    tot->tiles++;
    s->targets += r->targets;
    s->in_band += r->in_band;
    s->missed += r->missed;
    s->unreachable += r->unreachable;
    s->pulsed += r->pulsed;
    s->out_pulsed += r->out_pulsed;
    s->out_stuck += r->out_stuck;
    s->pulses += r->pulses;
    s->groups += r->groups;
    s->verify_reads += r->verify_reads;
    s->rounds += r->rounds;
    s->energy_j += r->energy_j;
    s->energy_sel_j += r->energy_sel_j;
    s->energy_half_j += r->energy_half_j;
    s->energy_wire_j += r->energy_wire_j;
    s->energy_tol_j += r->energy_tol_j;
    s->energy_read_j += r->energy_read_j;
    s->energy_driver_j += r->energy_driver_j;
    s->energy_analytic_j += r->energy_analytic_j;
    s->energy_sel_analytic_j += r->energy_sel_analytic_j;
    s->energy_half_analytic_j += r->energy_half_analytic_j;
    s->energy_wire_analytic_j += r->energy_wire_analytic_j;
    s->latency_s += r->latency_s;
    s->spice_s += r->spice_s;
    if (r->disturb_max > s->disturb_max) s->disturb_max = r->disturb_max;
}

/* Tile k's programmer. */
static int programmer(ssp_hwprog *hp, size_t k, ssp_pulse **pp)
{
    return shape_of(hp, hp->tiles[k].rows, hp->tiles[k].cols, pp);
}

int ssp_hwprog_program(ssp_hwprog *hp, size_t k, ssp_device *devm, const int *targetm,
                       ssp_spice *spice, gsl_rng *rng, ssp_pulse_schedule *sched,
                       ssp_pulse_result *res, int *status)
{
    ssp_pulse *pp;
    int rc;
    if (k >= hp->ntiles) return ssp_error(hp->ctx, SSP_EINVAL, "tile %zu of %zu", k, hp->ntiles);
    if (!spice && (rc = hwprog_need_cal(hp->ctx, &hp->cal, k))) return rc;
    if ((rc = programmer(hp, k, &pp))) return rc;
    ssp_hwprog_gather(hp, k, devm, hp->buf);
    hwprog_gather_targets(hp, k, targetm, hp->tbuf);
    rc = ssp_pulse_program_tile(pp, spice, rng, (int)k, hp->buf, hp->tbuf, sched, res, status);
    if (rc) {
        const ssp_hwprog_tile *t = &hp->tiles[k];
        hwprog_error_tile(hp->ctx, k, t);
        return rc;
    }
    if (spice) {
        if (res->pulses && (rc = ssp_pulse_cal_fit(&hp->cal, hp->ctx, res))) return rc;
    } else
        ssp_pulse_cal_price(&hp->cal, res);
    hwprog_scatter(hp, k, hp->buf, devm);
    return SSP_OK;
}

/* Tile k's record, made ready for a new programming: an empty schedule and
 * the tile's present states. */
static int record_begin(ssp_hwprog *hp, size_t k, const ssp_device *devm, ssp_pulse_schedule **sched)
{
    struct record *r = &hp->rec[k];
    const ssp_hwprog_tile *t = &hp->tiles[k];
    if (!r->start && !(r->start = malloc(t->rows * t->cols * sizeof *r->start)))
        return ssp_error(hp->ctx, SSP_ENOMEM, "out of memory recording tile %zu", k);
    if (!r->sched) {
        int rc = ssp_pulse_schedule_alloc(&r->sched, hp->ctx, t->rows, t->cols);
        if (rc) return rc;
    }
    r->sched->n = 0;
    r->sched->latency = 0;
    r->valid = 0;
    ssp_hwprog_gather(hp, k, devm, r->start);
    *sched = r->sched;
    return SSP_OK;
}

int ssp_hwprog_program_all(ssp_hwprog *hp, ssp_device *const *dev, const int *const *target,
                           ssp_spice *spice, gsl_rng *rng, ssp_hwprog_totals *tot)
{
    for (size_t k = 0; k < hp->ntiles; k++) {
        size_t m = hp->tiles[k].m;
        ssp_pulse_schedule *sched = NULL;
        ssp_pulse_result r;
        int rc;
        if (!ssp_hwprog_tile_has_targets(hp, k, target[m])) continue;
        if (hp->recording && (rc = record_begin(hp, k, dev[m], &sched))) return rc;
        if ((rc = ssp_hwprog_program(hp, k, dev[m], target[m], spice, rng, sched, &r, NULL))) return rc;
        if (sched) {
            hp->rec[k].res = r;
            hp->rec[k].stamp = hp->stamp;
            hp->rec[k].valid = 1;
        }
        ssp_hwprog_totals_add(tot, &r);
    }
    return SSP_OK;
}

/* ---- every tile on several threads ------------------------------------- */

/* What the threads share: the next tile to take (under lock), and per tile
 * its result, whether it ran, and which programmer's context holds its
 * error. */
typedef struct par_run {
    ssp_hwprog *const *hps;
    ssp_device *const *dev;
    const int *const *target;
    gsl_rng *const *rngs;
    size_t ntiles, next;
    pthread_mutex_t lock;
    ssp_pulse_result *res;
    unsigned char *ran;
    int *rc;                     /* per tile */
    size_t *by;                  /* per tile: the programmer that ran it */
} par_run;

typedef struct par_arg {
    par_run *run;
    size_t t;                    /* this thread's programmer */
} par_arg;

static void *par_worker(void *arg)
{
    par_run *pr = ((par_arg *)arg)->run;
    size_t t = ((par_arg *)arg)->t;
    ssp_hwprog *hp = pr->hps[t];
    for (;;) {
        size_t k, m;
        pthread_mutex_lock(&pr->lock);
        k = pr->next < pr->ntiles ? pr->next++ : pr->ntiles;
        pthread_mutex_unlock(&pr->lock);
        if (k == pr->ntiles) break;
        m = hp->tiles[k].m;
        if (!ssp_hwprog_tile_has_targets(hp, k, pr->target[m])) continue;
        pr->by[k] = t;
        pr->rc[k] = ssp_hwprog_program(hp, k, pr->dev[m], pr->target[m], NULL, pr->rngs[k], NULL, &pr->res[k], NULL);
        pr->ran[k] = 1;
        if (pr->rc[k]) {
            /* the others stop taking tiles */
            pthread_mutex_lock(&pr->lock);
            pr->next = pr->ntiles;
            pthread_mutex_unlock(&pr->lock);
            break;
        }
    }
    return NULL;
}

int ssp_hwprog_program_all_threads(ssp_hwprog *const *hps, size_t nthreads, ssp_device *const *dev,
                                   const int *const *target, gsl_rng *const *rngs, ssp_hwprog_totals *tot)
{
    ssp_hwprog *hp0 = hps[0];
    size_t nt = hp0->ntiles, started = 0;
    par_run pr;
    par_arg *args = NULL;
    pthread_t *th = NULL;
    int rc = SSP_OK;
    for (size_t t = 1; t < nthreads; t++)
        if (hps[t]->ntiles != nt || hps[t]->nmat != hp0->nmat || hps[t]->recording)
            return ssp_error(hp0->ctx, SSP_EINVAL, "programmer %zu of %zu: another tiling, or recording", t, nthreads);
    if (hp0->recording)
        return ssp_error(hp0->ctx, SSP_EINVAL, "programming on threads does not record schedules");
    if (nthreads < 1) nthreads = 1;
    memset(&pr, 0, sizeof pr);
    pr.hps = hps;
    pr.dev = dev;
    pr.target = target;
    pr.rngs = rngs;
    pr.ntiles = nt;
    pr.res = calloc(nt ? nt : 1, sizeof *pr.res);
    pr.ran = calloc(nt ? nt : 1, 1);
    pr.rc = calloc(nt ? nt : 1, sizeof *pr.rc);
    pr.by = calloc(nt ? nt : 1, sizeof *pr.by);
    args = calloc(nthreads, sizeof *args);
    th = calloc(nthreads, sizeof *th);
    if (!pr.res || !pr.ran || !pr.rc || !pr.by || !args || !th) {
        rc = ssp_error(hp0->ctx, SSP_ENOMEM, "out of memory programming %zu tiles on %zu threads", nt, nthreads);
        goto done;
    }
    if (pthread_mutex_init(&pr.lock, NULL)) {
        rc = ssp_error(hp0->ctx, SSP_ENOMEM, "cannot create a lock for the programming threads");
        goto done;
    }
    for (size_t t = 0; t < nthreads; t++) {
        args[t].run = &pr;
        args[t].t = t;
    }
    /* thread 0 is the caller */
    for (size_t t = 1; t < nthreads; t++, started++)
        if (pthread_create(&th[t], NULL, par_worker, &args[t])) break;
    par_worker(&args[0]);
    for (size_t t = 1; t <= started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&pr.lock);
    /* the first failed tile's error, on the caller's context */
    for (size_t k = 0; k < nt && !rc; k++)
        if (pr.ran[k] && pr.rc[k]) {
            rc = pr.rc[k];
            if (pr.by[k] != 0) ssp_error(hp0->ctx, rc, "%s", ssp_ctx_errmsg(hps[pr.by[k]]->ctx));
        }
    /* in tile order: the sums do not depend on the threads */
    if (!rc)
        for (size_t k = 0; k < nt; k++)
            if (pr.ran[k]) ssp_hwprog_totals_add(tot, &pr.res[k]);
done:
    free(pr.res);
    free(pr.ran);
    free(pr.rc);
    free(pr.by);
    free(args);
    free(th);
    return rc;
}

int ssp_hwprog_record(ssp_hwprog *hp, int on)
{
    if (!on) {
        record_free(hp);
        hp->recording = 0;
        return SSP_OK;
    }
    if (!hp->rec && !(hp->rec = calloc(hp->ntiles, sizeof *hp->rec)))
        return ssp_error(hp->ctx, SSP_ENOMEM, "out of memory recording %zu tiles", hp->ntiles);
    hp->recording = 1;
    return SSP_OK;
}

void ssp_hwprog_record_stamp(ssp_hwprog *hp, long stamp) { hp->stamp = stamp; }

void ssp_hwprog_record_clear(ssp_hwprog *hp)
{
    for (size_t k = 0; hp->rec && k < hp->ntiles; k++) hp->rec[k].valid = 0;
}

const ssp_pulse_schedule *ssp_hwprog_recorded(const ssp_hwprog *hp, size_t k, const ssp_device **start,
                                              ssp_pulse_result *res, long *stamp)
{
    const struct record *r;
    if (!hp->rec || k >= hp->ntiles || !hp->rec[k].valid) return NULL;
    r = &hp->rec[k];
    if (start) *start = r->start;
    if (res) *res = r->res;
    if (stamp) *stamp = r->stamp;
    return r->sched;
}

int ssp_hwprog_export_tile(const ssp_hwprog *hp, ssp_ctx *ctx, const char *dir, size_t k,
                           const ssp_pulse_schedule *sched, const ssp_device *start)
{
    char tdir[4096];
    if ((size_t)snprintf(tdir, sizeof tdir, "%s/tile_%zu", dir, k) >= sizeof tdir)
        return ssp_error(ctx, SSP_EINVAL, "directory name too long: %s", dir);
    return ssp_pulse_export_dir(sched, ctx, tdir, start, &hp->pp);
}

int ssp_hwprog_export_recorded(const ssp_hwprog *hp, ssp_ctx *ctx, const char *dir, int pwl, size_t *ntiles)
{
    char path[4096 + 32];
    ssp_afile *af;
    FILE *f;
    size_t n = 0;
    int rc;
    if ((rc = ssp_file_mkdirs(ctx, dir))) return rc;
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    if ((rc = ssp_file_atomic_open(&af, ctx, path))) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "tile,matrix,row0,col0,rows,cols,step,targets,in_band,missed,unreachable,pulses,verify_reads,"
               "rounds,energy_j,latency_s,disturb_max_levels\n");
    for (size_t k = 0; k < hp->ntiles; k++) {
        const ssp_hwprog_tile *t = &hp->tiles[k];
        const ssp_device *start;
        ssp_pulse_result r;
        long stamp;
        const ssp_pulse_schedule *s = ssp_hwprog_recorded(hp, k, &start, &r, &stamp);
        if (!s) continue;
        if ((rc = ssp_hwprog_export_tile(hp, ctx, dir, k, s, pwl ? start : NULL))) {
            ssp_file_atomic_abort(&af);
            return rc;
        }
        fprintf(f, "%zu,%zu,%zu,%zu,%zu,%zu,%ld,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%.17g,%.17g,%.17g\n", k, t->m, t->r0,
                t->c0, t->rows, t->cols, stamp, r.targets, r.in_band, r.missed, r.unreachable, r.pulses,
                r.verify_reads, r.rounds, r.energy_j, r.latency_s, r.disturb_max);
        n++;
    }
    if ((rc = ssp_file_atomic_commit(&af, ctx))) return rc;
    if (ntiles) *ntiles = n;
    return SSP_OK;
}

int ssp_hwprog_check(ssp_hwprog *hp, size_t k, const ssp_device *devm, const int *targetm,
                     ssp_spice *spice, double *dev_frac, ssp_pulse_result *res)
{
    return ssp_hwprog_check_sample(hp, k, devm, targetm, 0, spice, dev_frac, res, NULL);
}

/* Keep max of the n targets in buf (nc cells), evenly spread in cell order:
 * target q stays when floor(q max / n) steps up at it. */
static void sample_targets(int *buf, size_t nc, size_t max)
{
    size_t n = 0, q = 0;
    for (size_t c = 0; c < nc; c++) n += buf[c] != SSP_PULSE_KEEP;
    if (max == 0 || n <= max) return;
    for (size_t c = 0; c < nc; c++) {
        if (buf[c] == SSP_PULSE_KEEP) continue;
        if ((q * max) / n == ((q + 1) * max) / n) buf[c] = SSP_PULSE_KEEP;
        q++;
    }
}

int ssp_hwprog_check_sample(ssp_hwprog *hp, size_t k, const ssp_device *devm, const int *targetm,
                            size_t max_targets, ssp_spice *spice, double *dev_frac, ssp_pulse_result *res,
                            size_t *nsampled)
{
    const ssp_hwprog_tile *t;
    ssp_pulse_schedule *sched = NULL;
    ssp_pulse_result r;
    ssp_pulse *pp;
    size_t nc;
    double worst = 0;
    int rc;
    if (k >= hp->ntiles) return ssp_error(hp->ctx, SSP_EINVAL, "tile %zu of %zu", k, hp->ntiles);
    if (!spice) return ssp_error(hp->ctx, SSP_EINVAL, "a program check needs an ngspice session");
    t = &hp->tiles[k];
    nc = t->rows * t->cols;
    if ((rc = programmer(hp, k, &pp))) return rc;
    if ((rc = ssp_pulse_schedule_alloc(&sched, hp->ctx, t->rows, t->cols))) return rc;
    ssp_hwprog_gather(hp, k, devm, hp->buf2);
    memcpy(hp->buf3, hp->buf2, nc * sizeof *hp->buf3);
    hwprog_gather_targets(hp, k, targetm, hp->tbuf);
    sample_targets(hp->tbuf, nc, max_targets);
    if (nsampled) {
        *nsampled = 0;
        for (size_t c = 0; c < nc; c++) *nsampled += hp->tbuf[c] != SSP_PULSE_KEEP;
    }
    rc = ssp_pulse_program_tile(pp, spice, NULL, (int)k, hp->buf2, hp->tbuf, sched, &r, NULL);
    if (!rc && r.pulses) rc = ssp_pulse_cal_fit(&hp->cal, hp->ctx, &r);
    if (!rc) rc = ssp_pulse_replay(pp, NULL, (int)k, hp->buf3, sched);
    ssp_pulse_schedule_free(&sched);
    if (rc) {
        ssp_error_prefix(hp->ctx, "program check of tile %zu (matrix %zu, rows %zu.., columns %zu..): ", k, t->m,
                         t->r0, t->c0);
        return rc;
    }
    for (size_t c = 0; c < nc; c++) {
        double d = fabs(hp->buf2[c].x - hp->buf3[c].x) / hp->x_range;
        if (d > worst) worst = d;
    }
    *dev_frac = worst;
    if (res) *res = r;
    return SSP_OK;
}
