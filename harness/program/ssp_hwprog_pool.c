/* ssp_hwprog_pool.c — a network's tiles programmed as pool jobs, on local
 * worker processes or on MPI ranks (see ssp_hwprog.h).
 *
 * A job is self-contained: the serving process needs no configuration, only
 * this handler. Its bytes, in this build's native layout (both ends run the
 * same build; the struct sizes are in the header and are checked):
 *   request  "SSPHWT1" NUL, sizes of ssp_device / ssp_pulse_params /
 *            ssp_pulse_cal / ssp_pulse_result (u32 each), the device model
 *            (ssp_device_model_encode), the level table (u64 n, then g, lo,
 *            hi, x), the pulse parameters, the calibration, the tile (u64 k,
 *            m, r0, c0, rows, cols), its cells' parameters (rows x cols x
 *            SSP_DEVICE_MAX_PARAMS doubles), states (doubles), stuck flags
 *            and targets (i32 each), and the noise stream (u64 bytes, 0:
 *            none; then the generator's name, 32 bytes, and its state);
 *   reply    "SSPHWR1" NUL, the figures (ssp_pulse_result), the cells'
 *            states and stuck flags, the noise stream's state after.
 * The handler programs the tile on the C model exactly as
 * ssp_hwprog_program does (ssp_pulse_program_tile, then the calibration's
 * price), so the reply's bits are those a thread of this process computes. */
#include "hwprog_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char REQ_MAGIC[8] = "SSPHWT1";
static const char REP_MAGIC[8] = "SSPHWR1";
enum {
    RNG_NAME = 32,       /* bytes of the generator's name */
    TILE_SIDE_MAX = 4096 /* word or bit lines of a tile a job may carry */
};

/* ---- bytes in, bytes out ------------------------------------------------ */

typedef struct wbuf {
    unsigned char *p;
    size_t n;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void put_u64(wbuf *w, uint64_t v) { put(w, &v, sizeof v); }

typedef struct rbuf {
    const unsigned char *p;
    size_t n, at;
} rbuf;

/* 0 and nothing copied when fewer than n bytes are left */
static int get(rbuf *r, void *dst, size_t n)
{
    if (r->n - r->at < n) return 0;
    memcpy(dst, r->p + r->at, n);
    r->at += n;
    return 1;
}

static int get_u64(rbuf *r, uint64_t *v) { return get(r, v, sizeof *v); }

/* The four struct sizes both ends must share. */
static void sizes(uint32_t s[4])
{
    s[0] = (uint32_t)sizeof(ssp_device);
    s[1] = (uint32_t)sizeof(ssp_pulse_params);
    s[2] = (uint32_t)sizeof(ssp_pulse_cal);
    s[3] = (uint32_t)sizeof(ssp_pulse_result);
}

/* ---- the serving side --------------------------------------------------- */

/* What a request holds, decoded. */
typedef struct tile_job {
    ssp_device_model *model;
    ssp_device_levels lv;
    ssp_pulse_params pp;
    ssp_pulse_cal cal;
    uint64_t k, m, r0, c0, rows, cols;
    ssp_device *dev;
    int *target;
    gsl_rng *rng;
} tile_job;

static void tile_job_free(tile_job *j)
{
    ssp_device_model_free(&j->model);
    free(j->lv.g);
    free(j->lv.lo);
    free(j->lv.hi);
    free(j->lv.x);
    free(j->dev);
    free(j->target);
    ssp_device_rng_free(&j->rng);
}

static int bad_job(ssp_ctx *ctx, const char *what)
{
    return ssp_error(ctx, SSP_EINVAL, "a tile-programming job (%s) that is not one: %s", SSP_HWPROG_HANDLER, what);
}

/* 1 when all n doubles are finite. */
static int finite_all(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

static int decode_job(tile_job *j, ssp_ctx *ctx, const unsigned char *in, size_t nin)
{
    rbuf r = {in, nin, 0};
    char magic[8];
    uint32_t want[4], got[4];
    uint64_t n, nrng;
    size_t nm = ssp_device_model_encoded_size(), nc;
    int rc;
    memset(j, 0, sizeof *j);
    if (!get(&r, magic, sizeof magic) || memcmp(magic, REQ_MAGIC, sizeof magic)) return bad_job(ctx, "no header");
    sizes(want);
    if (!get(&r, got, sizeof got)) return bad_job(ctx, "truncated header");
    if (memcmp(want, got, sizeof want)) return bad_job(ctx, "made by another build (struct sizes differ)");
    if (!get_u64(&r, &n) || n != nm || r.n - r.at < nm) return bad_job(ctx, "device model truncated");
    if ((rc = ssp_device_model_decode(&j->model, ctx, in + r.at, nm))) return rc;
    r.at += nm;
    if (!get_u64(&r, &n) || n < 2 || n > (r.n - r.at) / (4 * sizeof(double))) return bad_job(ctx, "level table");
    j->lv.n = (size_t)n;
    j->lv.g = malloc(n * sizeof *j->lv.g);
    j->lv.lo = malloc(n * sizeof *j->lv.lo);
    j->lv.hi = malloc(n * sizeof *j->lv.hi);
    j->lv.x = malloc(n * sizeof *j->lv.x);
    if (!j->lv.g || !j->lv.lo || !j->lv.hi || !j->lv.x)
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for a level table of %zu levels", (size_t)n);
    get(&r, j->lv.g, n * sizeof(double));
    get(&r, j->lv.lo, n * sizeof(double));
    get(&r, j->lv.hi, n * sizeof(double));
    get(&r, j->lv.x, n * sizeof(double));
    if (!finite_all(j->lv.g, n) || !finite_all(j->lv.lo, n) || !finite_all(j->lv.hi, n) || !finite_all(j->lv.x, n))
        return bad_job(ctx, "a level that is not a number");
    for (size_t i = 1; i < n; i++)
        if (!(j->lv.g[i] > j->lv.g[i - 1])) return bad_job(ctx, "levels not ascending");
    if (!get(&r, &j->pp, sizeof j->pp) || !get(&r, &j->cal, sizeof j->cal)) return bad_job(ctx, "parameters truncated");
    if (!get_u64(&r, &j->k) || !get_u64(&r, &j->m) || !get_u64(&r, &j->r0) || !get_u64(&r, &j->c0) ||
        !get_u64(&r, &j->rows) || !get_u64(&r, &j->cols))
        return bad_job(ctx, "tile truncated");
    if (j->rows < 1 || j->cols < 1 || j->rows > TILE_SIDE_MAX || j->cols > TILE_SIDE_MAX)
        return bad_job(ctx, "tile size");
    nc = (size_t)(j->rows * j->cols);
    if ((r.n - r.at) / nc < SSP_DEVICE_MAX_PARAMS * sizeof(double) + sizeof(double) + 2 * sizeof(int32_t))
        return bad_job(ctx, "cells truncated");
    j->dev = malloc(nc * sizeof *j->dev);
    j->target = malloc(nc * sizeof *j->target);
    if (!j->dev || !j->target)
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for a tile of %zu cells", nc);
    for (size_t c = 0; c < nc; c++) {
        j->dev[c].model = j->model;
        get(&r, j->dev[c].p, sizeof j->dev[c].p);
    }
    for (size_t c = 0; c < nc; c++) get(&r, &j->dev[c].x, sizeof j->dev[c].x);
    for (size_t c = 0; c < nc; c++) {
        int32_t st = 0;
        get(&r, &st, sizeof st);
        if (!finite_all(j->dev[c].p, SSP_DEVICE_MAX_PARAMS) || !isfinite(j->dev[c].x))
            return bad_job(ctx, "a cell parameter or state that is not a number");
        if (st < SSP_DEVICE_FREE || st > SSP_DEVICE_STUCK_OFF) return bad_job(ctx, "a stuck flag");
        j->dev[c].stuck = st;
    }
    for (size_t c = 0; c < nc; c++) {
        int32_t g = 0;
        get(&r, &g, sizeof g);
        j->target[c] = g;
    }
    if (!get_u64(&r, &nrng)) return bad_job(ctx, "noise stream truncated");
    if (nrng) {
        char name[RNG_NAME];
        if (!get(&r, name, sizeof name) || !memchr(name, '\0', sizeof name)) return bad_job(ctx, "noise stream name");
        if ((rc = ssp_device_rng_alloc(&j->rng, ctx, 0))) return rc;
        if (strcmp(name, gsl_rng_name(j->rng)) || nrng != gsl_rng_size(j->rng))
            return ssp_error(ctx, SSP_EINVAL, "a tile-programming job's noise stream is %s of %zu bytes; this "
                             "process has %s of %zu", name, (size_t)nrng, gsl_rng_name(j->rng), gsl_rng_size(j->rng));
        if (!get(&r, gsl_rng_state(j->rng), (size_t)nrng)) return bad_job(ctx, "noise stream state truncated");
    }
    if (r.at != r.n) return bad_job(ctx, "bytes after the end");
    return SSP_OK;
}

int ssp_hwprog_tile_handler(ssp_ctx *ctx, const unsigned char *in, size_t nin, unsigned char **out, size_t *nout,
                            void *payload)
{
    tile_job j;
    ssp_pulse *pp = NULL;
    ssp_pulse_result res;
    size_t nc, nrng;
    wbuf w = {NULL, 0};
    int rc;
    (void)payload;
    *out = NULL;
    *nout = 0;
    if ((rc = decode_job(&j, ctx, in, nin))) goto done;
    nc = (size_t)(j.rows * j.cols);
    if ((rc = hwprog_need_cal(ctx, &j.cal, (size_t)j.k))) goto done;
    if ((rc = ssp_pulse_create(&pp, ctx, j.model, &j.lv, (size_t)j.rows, (size_t)j.cols, &j.pp))) goto done;
    if ((rc = ssp_pulse_program_tile(pp, NULL, j.rng, (int)j.k, j.dev, j.target, NULL, &res, NULL))) {
        /* the prefix ssp_hwprog_program gives */
        ssp_hwprog_tile t = {(size_t)j.m, (size_t)j.r0, (size_t)j.c0, (size_t)j.rows, (size_t)j.cols};
        hwprog_error_tile(ctx, (size_t)j.k, &t);
        goto done;
    }
    ssp_pulse_cal_price(&j.cal, &res);
    nrng = j.rng ? gsl_rng_size(j.rng) : 0;
    if (!(w.p = malloc(sizeof REP_MAGIC + sizeof res + nc * (sizeof(double) + sizeof(int32_t)) + nrng))) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory replying for a tile of %zu cells", nc);
        goto done;
    }
    put(&w, REP_MAGIC, sizeof REP_MAGIC);
    put(&w, &res, sizeof res);
    for (size_t c = 0; c < nc; c++) put(&w, &j.dev[c].x, sizeof j.dev[c].x);
    for (size_t c = 0; c < nc; c++) {
        int32_t s = j.dev[c].stuck;
        put(&w, &s, sizeof s);
    }
    if (nrng) put(&w, gsl_rng_state(j.rng), nrng);
    *out = w.p;
    *nout = w.n;
done:
    ssp_pulse_destroy(&pp);
    tile_job_free(&j);
    return rc;
}

/* ---- the calling side --------------------------------------------------- */

/* The bytes every job of one call shares: header, model, levels,
 * parameters, calibration. */
static int encode_common(const ssp_hwprog *hp, wbuf *w)
{
    const ssp_device_levels *lv = hp->lv;
    uint32_t s[4];
    size_t nm = ssp_device_model_encoded_size();
    size_t n = sizeof REQ_MAGIC + sizeof s + 8 + nm + 8 + 4 * lv->n * sizeof(double) + sizeof hp->pp +
               sizeof hp->cal;
    if (!(w->p = malloc(n))) return ssp_error(hp->ctx, SSP_ENOMEM, "out of memory encoding tile jobs");
    w->n = 0;
    sizes(s);
    put(w, REQ_MAGIC, sizeof REQ_MAGIC);
    put(w, s, sizeof s);
    put_u64(w, nm);
    ssp_device_model_encode(hp->m, w->p + w->n);
    w->n += nm;
    put_u64(w, lv->n);
    put(w, lv->g, lv->n * sizeof(double));
    put(w, lv->lo, lv->n * sizeof(double));
    put(w, lv->hi, lv->n * sizeof(double));
    put(w, lv->x, lv->n * sizeof(double));
    put(w, &hp->pp, sizeof hp->pp);
    put(w, &hp->cal, sizeof hp->cal);
    return SSP_OK;
}

/* Tile k's job: the common bytes, then the tile's own (gathered into hp's
 * tile-sized scratch, which no local programming uses meanwhile). */
static int encode_tile(ssp_hwprog *hp, const wbuf *common, size_t k, const ssp_device *devm, const int *targetm,
                       gsl_rng *rng, wbuf *w)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t nc = t->rows * t->cols, nrng = rng ? gsl_rng_size(rng) : 0;
    size_t n = common->n + 6 * 8 + nc * (SSP_DEVICE_MAX_PARAMS * sizeof(double) + sizeof(double) + 2 * sizeof(int32_t)) +
               8 + (nrng ? RNG_NAME + nrng : 0);
    if (!(w->p = malloc(n))) return ssp_error(hp->ctx, SSP_ENOMEM, "out of memory encoding tile %zu's job", k);
    ssp_hwprog_gather(hp, k, devm, hp->buf);
    hwprog_gather_targets(hp, k, targetm, hp->tbuf);
    w->n = 0;
    put(w, common->p, common->n);
    put_u64(w, k);
    put_u64(w, t->m);
    put_u64(w, t->r0);
    put_u64(w, t->c0);
    put_u64(w, t->rows);
    put_u64(w, t->cols);
    for (size_t c = 0; c < nc; c++) put(w, hp->buf[c].p, sizeof hp->buf[c].p);
    for (size_t c = 0; c < nc; c++) put(w, &hp->buf[c].x, sizeof hp->buf[c].x);
    for (size_t c = 0; c < nc; c++) {
        int32_t st = hp->buf[c].stuck;
        put(w, &st, sizeof st);
    }
    for (size_t c = 0; c < nc; c++) {
        int32_t g = hp->tbuf[c];
        put(w, &g, sizeof g);
    }
    put_u64(w, nrng);
    if (nrng) {
        char name[RNG_NAME] = {0};
        snprintf(name, sizeof name, "%s", gsl_rng_name(rng));
        put(w, name, sizeof name);
        put(w, gsl_rng_state(rng), nrng);
    }
    return SSP_OK;
}

/* SSP_OK when jr is a whole reply for tile k. */
static int check_reply(ssp_hwprog *hp, size_t k, const ssp_job_result *jr, const gsl_rng *rng)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t nc = t->rows * t->cols, nrng = rng ? gsl_rng_size(rng) : 0;
    size_t want = sizeof REP_MAGIC + sizeof(ssp_pulse_result) + nc * (sizeof(double) + sizeof(int32_t)) + nrng;
    if (!jr->data || jr->ndata != want || memcmp(jr->data, REP_MAGIC, sizeof REP_MAGIC))
        return ssp_error(hp->ctx, SSP_EWORKER, "tile %zu: the pool's reply is %zu bytes, not a reply of %zu", k,
                         jr->ndata, want);
    return SSP_OK;
}

/* Tile k's checked reply into the devices, the stream and *res. */
static void apply_reply(ssp_hwprog *hp, size_t k, const ssp_job_result *jr, ssp_device *devm, gsl_rng *rng,
                        ssp_pulse_result *res)
{
    const ssp_hwprog_tile *t = &hp->tiles[k];
    size_t nc = t->rows * t->cols, nrng = rng ? gsl_rng_size(rng) : 0;
    rbuf r = {jr->data, jr->ndata, sizeof REP_MAGIC};
    get(&r, res, sizeof *res);
    ssp_hwprog_gather(hp, k, devm, hp->buf);
    for (size_t c = 0; c < nc; c++) get(&r, &hp->buf[c].x, sizeof hp->buf[c].x);
    for (size_t c = 0; c < nc; c++) {
        int32_t st = 0;
        get(&r, &st, sizeof st);
        hp->buf[c].stuck = st;
    }
    hwprog_scatter(hp, k, hp->buf, devm);
    if (nrng) get(&r, gsl_rng_state(rng), nrng);
}

int ssp_hwprog_tile_request(ssp_hwprog *hp, size_t k, ssp_device *const *dev, const int *const *target,
                            gsl_rng *rng, unsigned char **out, size_t *nout)
{
    wbuf common = {NULL, 0}, w = {NULL, 0};
    int rc;
    *out = NULL;
    *nout = 0;
    if (k >= hp->ntiles) return ssp_error(hp->ctx, SSP_EINVAL, "tile %zu of %zu", k, hp->ntiles);
    if ((rc = encode_common(hp, &common))) return rc;
    rc = encode_tile(hp, &common, k, dev[hp->tiles[k].m], target[hp->tiles[k].m], rng, &w);
    free(common.p);
    if (rc) return rc;
    *out = w.p;
    *nout = w.n;
    return SSP_OK;
}

int ssp_hwprog_program_all_pool(ssp_hwprog *hp, ssp_pool *pool, ssp_device *const *dev, const int *const *target,
                                gsl_rng *const *rngs, ssp_hwprog_totals *tot)
{
    wbuf common = {NULL, 0}, *w = NULL;
    ssp_job *jobs = NULL;
    ssp_job_result *res = NULL;
    size_t *tile = NULL, nj = 0;
    ssp_pulse_result *pr = NULL;
    int rc = SSP_OK;
    if (hp->recording) return ssp_error(hp->ctx, SSP_EINVAL, "programming on a pool does not record schedules");
    for (size_t k = 0; k < hp->ntiles; k++)
        if (ssp_hwprog_tile_has_targets(hp, k, target[hp->tiles[k].m])) {
            if ((rc = hwprog_need_cal(hp->ctx, &hp->cal, k))) return rc;
            nj++;
        }
    if (!nj) return SSP_OK;
    tile = malloc(nj * sizeof *tile);
    w = calloc(nj, sizeof *w);
    jobs = calloc(nj, sizeof *jobs);
    res = calloc(nj, sizeof *res);
    pr = calloc(nj, sizeof *pr);
    if (!tile || !w || !jobs || !res || !pr) {
        rc = ssp_error(hp->ctx, SSP_ENOMEM, "out of memory for %zu tile jobs", nj);
        goto done;
    }
    if ((rc = encode_common(hp, &common))) goto done;
    nj = 0;
    for (size_t k = 0; k < hp->ntiles; k++) {
        size_t m = hp->tiles[k].m;
        if (!ssp_hwprog_tile_has_targets(hp, k, target[m])) continue;
        if ((rc = encode_tile(hp, &common, k, dev[m], target[m], rngs ? rngs[k] : NULL, &w[nj]))) goto done;
        tile[nj] = k;
        jobs[nj].kind = SSP_JOB_CALL;
        jobs[nj].handler = SSP_HWPROG_HANDLER;
        jobs[nj].payload = w[nj].p;
        jobs[nj].npayload = w[nj].n;
        nj++;
    }
    ssp_pool_run(pool, jobs, nj, res);
    /* the first failed tile's error, as program_all_threads gives it;
     * nothing changes unless every tile succeeded */
    for (size_t i = 0; i < nj; i++)
        if (res[i].status) {
            rc = ssp_error(hp->ctx, res[i].status, "%s", res[i].errmsg ? res[i].errmsg : "tile job failed");
            goto done;
        }
    for (size_t i = 0; i < nj && !rc; i++) rc = check_reply(hp, tile[i], &res[i], rngs ? rngs[tile[i]] : NULL);
    for (size_t i = 0; i < nj && !rc; i++) {
        size_t k = tile[i];
        apply_reply(hp, k, &res[i], dev[hp->tiles[k].m], rngs ? rngs[k] : NULL, &pr[i]);
    }
    /* in tile order, as on threads */
    for (size_t i = 0; i < nj && !rc; i++) ssp_hwprog_totals_add(tot, &pr[i]);
done:
    for (size_t i = 0; w && i < nj; i++) free(w[i].p);
    for (size_t i = 0; res && i < nj; i++) ssp_job_result_free(&res[i]);
    free(common.p);
    free(w);
    free(jobs);
    free(res);
    free(pr);
    free(tile);
    return rc;
}
