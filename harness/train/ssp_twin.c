/* ssp_twin.c — float twin, gradient accumulation, quantization with error
 * compensation, sparse change lists. Pure arithmetic; no I/O but the
 * checkpoint (de)serialisers. */
#include "ssp_twin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const unsigned SSP_TWIN_MAGIC = 0x54574e31u; /* "TWN1" */

void ssp_twin_free(ssp_twin **pt)
{
    ssp_twin *t;
    if (!pt || !*pt) return;
    t = *pt;
    for (size_t m = 0; m < t->nmat; m++) {
        if (t->w) free(t->w[m]);
        if (t->grad) free(t->grad[m]);
        if (t->acc) free(t->acc[m]);
        if (t->vel) free(t->vel[m]);
        if (t->q) free(t->q[m]);
    }
    free(t->w);
    free(t->grad);
    free(t->acc);
    free(t->vel);
    free(t->q);
    free(t->size);
    free(t->w_max);
    free(t->changes);
    free(t);
    *pt = NULL;
}

int ssp_twin_alloc(ssp_twin **out, ssp_ctx *ctx, size_t nmat, const size_t *sizes, int levels,
                   const double *w_max, double threshold, int compensate)
{
    ssp_twin *t;
    *out = NULL;
    if (levels < 2 || threshold < 0.5)
        return ssp_error(ctx, SSP_EINVAL, "twin: need levels >= 2 (got %d) and threshold >= 0.5", levels);
    for (size_t m = 0; m < nmat; m++)
        if (!(w_max[m] > 0)) return ssp_error(ctx, SSP_EINVAL, "twin: w_max of matrix %zu must be positive", m);
    t = calloc(1, sizeof *t);
    if (!t) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating the twin");
    t->nmat = nmat;
    t->levels = levels;
    t->threshold = threshold;
    t->compensate = compensate;
    t->size = malloc(nmat * sizeof *t->size);
    t->w_max = malloc(nmat * sizeof *t->w_max);
    if (t->w_max) memcpy(t->w_max, w_max, nmat * sizeof *w_max);
    t->w = calloc(nmat, sizeof *t->w);
    t->grad = calloc(nmat, sizeof *t->grad);
    t->acc = calloc(nmat, sizeof *t->acc);
    t->vel = calloc(nmat, sizeof *t->vel);
    t->q = calloc(nmat, sizeof *t->q);
    if (!t->size || !t->w_max || !t->w || !t->grad || !t->acc || !t->vel || !t->q) goto oom;
    for (size_t m = 0; m < nmat; m++) {
        t->size[m] = sizes[m];
        t->w[m] = calloc(sizes[m], sizeof **t->w);
        t->grad[m] = calloc(sizes[m], sizeof **t->grad);
        t->acc[m] = calloc(sizes[m], sizeof **t->acc);
        t->vel[m] = calloc(sizes[m], sizeof **t->vel);
        t->q[m] = calloc(sizes[m], sizeof **t->q);
        if (!t->w[m] || !t->grad[m] || !t->acc[m] || !t->vel[m] || !t->q[m]) goto oom;
        t->cap += sizes[m];
    }
    t->changes = malloc((t->cap ? t->cap : 1) * sizeof *t->changes);
    if (!t->changes) goto oom;
    *out = t;
    return SSP_OK;
oom:
    ssp_twin_free(&t);
    return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating the twin");
}

double ssp_twin_step(const ssp_twin *t, size_t m) { return t->w_max[m] / (t->levels - 1); }

int ssp_twin_level_of(const ssp_twin *t, size_t m, double w)
{
    long q = lround(w / ssp_twin_step(t, m));
    long top = t->levels - 1;
    return (int)(q > top ? top : (q < -top ? -top : q));
}

long ssp_twin_accumulate(ssp_twin *t)
{
    for (size_t m = 0; m < t->nmat; m++) {
        double *a = t->acc[m];
        const double *g = t->grad[m];
        for (size_t i = 0; i < t->size[m]; i++) a[i] += g[i];
    }
    return ++t->pending;
}

void ssp_twin_apply(ssp_twin *t, double lr, double momentum)
{
    double inv = t->pending > 0 ? 1.0 / (double)t->pending : 1.0;
    for (size_t m = 0; m < t->nmat; m++) {
        double *w = t->w[m], *a = t->acc[m], *v = t->vel[m], wm = t->w_max[m];
        for (size_t i = 0; i < t->size[m]; i++) {
            double g = a[i] * inv, nw;
            v[i] = momentum * v[i] + g;
            nw = w[i] - lr * v[i];
            w[i] = nw > wm ? wm : (nw < -wm ? -wm : nw);
            a[i] = 0;
        }
    }
    t->pending = 0;
}

void ssp_twin_add(ssp_twin *t, size_t m, size_t idx, double delta)
{
    double nw = t->w[m][idx] + delta, wm = t->w_max[m];
    t->w[m][idx] = nw > wm ? wm : (nw < -wm ? -wm : nw);
}

static size_t quantize(ssp_twin *t, int all)
{
    size_t n = 0;
    for (size_t m = 0; m < t->nmat; m++) {
        double step = ssp_twin_step(t, m), *w = t->w[m];
        int *q = t->q[m];
        for (size_t i = 0; i < t->size[m]; i++) {
            double dist = fabs(w[i] / step - q[i]);
            int target = q[i];
            if (all || dist >= t->threshold) target = ssp_twin_level_of(t, m, w[i]);
            if (target != q[i] || all) {
                ssp_twin_change *c = &t->changes[n++];
                c->m = (unsigned)m;
                c->idx = (unsigned)i;
                c->from = q[i];
                c->to = target;
                q[i] = target;
            }
            if (!t->compensate) w[i] = q[i] * step;
        }
    }
    t->nchanges = n;
    return n;
}

size_t ssp_twin_quantize(ssp_twin *t) { return quantize(t, 0); }
size_t ssp_twin_quantize_all(ssp_twin *t) { return quantize(t, 1); }

int ssp_twin_write(const ssp_twin *t, FILE *f)
{
    unsigned magic = SSP_TWIN_MAGIC;
    fwrite(&magic, sizeof magic, 1, f);
    fwrite(&t->nmat, sizeof t->nmat, 1, f);
    fwrite(t->size, sizeof *t->size, t->nmat, f);
    fwrite(&t->pending, sizeof t->pending, 1, f);
    for (size_t m = 0; m < t->nmat; m++) {
        fwrite(t->w[m], sizeof **t->w, t->size[m], f);
        fwrite(t->acc[m], sizeof **t->acc, t->size[m], f);
        fwrite(t->vel[m], sizeof **t->vel, t->size[m], f);
        fwrite(t->q[m], sizeof **t->q, t->size[m], f);
    }
    return ferror(f) ? SSP_EIO : SSP_OK;
}

int ssp_twin_read(ssp_twin *t, ssp_ctx *ctx, FILE *f, const char *origin)
{
    unsigned magic = 0;
    size_t nmat = 0;
    int ok = fread(&magic, sizeof magic, 1, f) == 1 && magic == SSP_TWIN_MAGIC &&
             fread(&nmat, sizeof nmat, 1, f) == 1 && nmat == t->nmat;
    for (size_t m = 0; ok && m < nmat; m++) {
        size_t s = 0;
        ok = fread(&s, sizeof s, 1, f) == 1 && s == t->size[m];
    }
    ok = ok && fread(&t->pending, sizeof t->pending, 1, f) == 1;
    for (size_t m = 0; ok && m < nmat; m++)
        ok = fread(t->w[m], sizeof **t->w, t->size[m], f) == t->size[m] &&
             fread(t->acc[m], sizeof **t->acc, t->size[m], f) == t->size[m] &&
             fread(t->vel[m], sizeof **t->vel, t->size[m], f) == t->size[m] &&
             fread(t->q[m], sizeof **t->q, t->size[m], f) == t->size[m];
    if (!ok) return ssp_error(ctx, SSP_EFORMAT, "%s: twin section truncated or from another network", origin);
    /* every written level must exist on this configuration's devices */
    for (size_t m = 0; m < nmat; m++)
        for (size_t i = 0; i < t->size[m]; i++)
            if (t->q[m][i] <= -t->levels || t->q[m][i] >= t->levels)
                return ssp_error(ctx, SSP_EFORMAT, "%s: matrix %zu weight %zu sits on level %d, outside the %d "
                                 "levels of device.levels: the checkpoint was trained with more levels", origin, m,
                                 i, t->q[m][i], t->levels);
    return SSP_OK;
}
