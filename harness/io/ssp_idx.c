/* ssp_idx.c — strict IDX reader. Reads through ssp_file_read_all (zlib), so
 * gzip and plain files take the same path; never prints. */
#include "ssp_idx.h"

#include <stdlib.h>
#include <string.h>

#include "ssp_file.h"

static const unsigned char SSP_IDX_TYPE_UBYTE = 0x08;
/* Bound on one dimension: far above any image set, far below overflow. */
static const uint32_t SSP_IDX_DIM_MAX = 100000000u;

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int ssp_idx_load(ssp_idx **out, ssp_ctx *ctx, const char *path, int expect_ndim)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    rc = ssp_file_read_all(ctx, path, &buf, &len);
    if (rc) return rc;
    rc = ssp_idx_parse(out, ctx, buf, len, path, expect_ndim);
    free(buf);
    return rc;
}

int ssp_idx_parse(ssp_idx **out, ssp_ctx *ctx, const unsigned char *buf, size_t len, const char *path,
                  int expect_ndim)
{
    size_t header, need, i;
    ssp_idx *x = NULL;
    int ndim, rc;

    *out = NULL;
    if (len < 4) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: truncated IDX file (%zu bytes, no header)", path, len);
        goto fail;
    }
    if (buf[0] != 0 || buf[1] != 0) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: bad IDX magic number 0x%02x%02x%02x%02x (must start with two zero bytes)",
                       path, buf[0], buf[1], buf[2], buf[3]);
        goto fail;
    }
    if (buf[2] != SSP_IDX_TYPE_UBYTE) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: IDX element type 0x%02x not supported (only unsigned byte, 0x08)",
                       path, buf[2]);
        goto fail;
    }
    ndim = buf[3];
    if (ndim < 1 || ndim > SSP_IDX_MAX_DIMS) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: IDX header declares %d dimensions (1..%d allowed)", path,
                       ndim, SSP_IDX_MAX_DIMS);
        goto fail;
    }
    if (expect_ndim > 0 && ndim != expect_ndim) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: %d dimensions, expected %d", path, ndim, expect_ndim);
        goto fail;
    }
    header = 4 + 4 * (size_t)ndim;
    if (len < header) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: truncated IDX header (%zu of %zu bytes)", path, len, header);
        goto fail;
    }
    x = calloc(1, sizeof *x);
    if (!x) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", path);
        goto fail;
    }
    x->ndim = ndim;
    x->item_size = 1;
    for (i = 0; i < (size_t)ndim; i++) {
        x->dims[i] = be32(buf + 4 + 4 * i);
        if (x->dims[i] == 0 || x->dims[i] > SSP_IDX_DIM_MAX) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: dimension %zu is %u (must be 1..%u)", path, i,
                           x->dims[i], SSP_IDX_DIM_MAX);
            goto fail;
        }
        if (i > 0) x->item_size *= x->dims[i];
    }
    x->count = x->dims[0];
    if (x->item_size > SIZE_MAX / x->count) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: dimensions too large", path);
        goto fail;
    }
    need = header + x->count * x->item_size;
    if (len < need) {
        rc = ssp_error(ctx, SSP_EFORMAT,
                       "%s: truncated: header promises %zu items (%zu bytes), file has %zu bytes", path,
                       x->count, need, len);
        goto fail;
    }
    if (len > need) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s: %zu bytes beyond the %zu items its header declares", path,
                       len - need, x->count);
        goto fail;
    }
    x->data = malloc(x->count * x->item_size);
    if (!x->data) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory reading %s", path);
        goto fail;
    }
    memcpy(x->data, buf + header, x->count * x->item_size);
    x->crc32 = ssp_file_crc32(buf, len);
    *out = x;
    return SSP_OK;
fail:
    ssp_idx_free(&x);
    return rc;
}

void ssp_idx_free(ssp_idx **x)
{
    if (!x || !*x) return;
    free((*x)->data);
    free(*x);
    *x = NULL;
}

int ssp_dataset_load(ssp_dataset **out, ssp_ctx *ctx, const char *images, const char *labels, size_t limit,
                     int classes)
{
    ssp_idx *im = NULL, *lb = NULL;
    ssp_dataset *d = NULL;
    size_t i;
    int rc;

    *out = NULL;
    rc = ssp_idx_load(&im, ctx, images, 3);
    if (rc) return rc;
    rc = ssp_idx_load(&lb, ctx, labels, 1);
    if (rc) goto done;
    if (im->count != lb->count) {
        rc = ssp_error(ctx, SSP_EFORMAT, "%s has %zu images but %s has %zu labels", images, im->count,
                       labels, lb->count);
        goto done;
    }
    if (classes < 1 || classes > 256) {
        rc = ssp_error(ctx, SSP_EINVAL, "%s: %d classes asked for (1..256)", labels, classes);
        goto done;
    }
    for (i = 0; i < lb->count; i++)
        if (lb->data[i] >= classes) {
            rc = ssp_error(ctx, SSP_EFORMAT, "%s: label %zu (0-based) is %d; the network has %d classes (labels "
                           "0..%d)", labels, i, lb->data[i], classes, classes - 1);
            goto done;
        }
    d = calloc(1, sizeof *d);
    if (!d) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory loading %s", images);
        goto done;
    }
    d->n = limit && limit < im->count ? limit : im->count;
    d->images_crc32 = im->crc32;
    d->labels_crc32 = lb->crc32;
    d->rows = im->dims[1];
    d->cols = im->dims[2];
    d->dim = im->item_size;
    d->x = malloc(d->n * d->dim * sizeof *d->x);
    if (!d->x) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory loading %s", images);
        goto done;
    }
    for (i = 0; i < d->n * d->dim; i++) d->x[i] = im->data[i] / 255.0;
    d->y = lb->data; /* take ownership */
    lb->data = NULL;
    for (i = 0; i < d->n; i++)
        if (d->y[i] + 1 > d->nclasses) d->nclasses = d->y[i] + 1;
    *out = d;
    d = NULL;
done:
    ssp_dataset_free(&d);
    ssp_idx_free(&im);
    ssp_idx_free(&lb);
    return rc;
}

void ssp_dataset_free(ssp_dataset **d)
{
    if (!d || !*d) return;
    free((*d)->x);
    free((*d)->y);
    free(*d);
    *d = NULL;
}

int ssp_dataset_prepare(ssp_dataset *d, ssp_ctx *ctx, size_t limit, int downsample, size_t crop,
                        double binarize)
{
    size_t rows = d->rows, cols = d->cols, r2, c2, off_r, off_c, i;
    double *nx;
    if (limit && limit < d->n) d->n = limit;
    if (downsample != 1 && downsample != 2)
        return ssp_error(ctx, SSP_EINVAL, "downsample factor %d not 1 or 2", downsample);
    if (downsample == 2 && (rows % 2 || cols % 2))
        return ssp_error(ctx, SSP_EINVAL, "cannot halve a %zux%zu image", rows, cols);
    r2 = rows / (size_t)downsample;
    c2 = cols / (size_t)downsample;
    if (crop > r2 || crop > c2)
        return ssp_error(ctx, SSP_EINVAL, "crop %zu larger than the %zux%zu image", crop, r2, c2);
    if (!crop) crop = r2 < c2 ? r2 : c2;
    off_r = (r2 - crop) / 2;
    off_c = (c2 - crop) / 2;
    nx = malloc(d->n * crop * crop * sizeof *nx);
    if (!nx) return ssp_error(ctx, SSP_ENOMEM, "out of memory preparing the data set");
    for (i = 0; i < d->n; i++) {
        const double *img = d->x + i * d->dim;
        double *o = nx + i * crop * crop;
        for (size_t y = 0; y < crop; y++)
            for (size_t x = 0; x < crop; x++) {
                size_t yy = (y + off_r) * (size_t)downsample, xx = (x + off_c) * (size_t)downsample;
                double v = img[yy * cols + xx];
                if (downsample == 2)
                    v = 0.25 * (v + img[yy * cols + xx + 1] + img[(yy + 1) * cols + xx] + img[(yy + 1) * cols + xx + 1]);
                if (binarize > 0) v = v >= binarize ? 1.0 : 0.0;
                o[y * crop + x] = v;
            }
    }
    free(d->x);
    d->x = nx;
    d->rows = d->cols = crop;
    d->dim = crop * crop;
    return SSP_OK;
}
