/* ssp_net.c — layers, forward and backward passes (OpenBLAS for products).
 * The matrix products of mapped layers in the forward pass go through the
 * caller's callback; backward products use the caller's weights directly. */
#include "ssp_net.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum layer_kind { L_DENSE, L_CONV, L_RELU, L_POOL };
enum { SSP_NET_MAX_LAYERS = 32 };

typedef struct layer {
    int kind;           /* enum layer_kind */
    size_t m;           /* mapped matrix index (dense, conv) */
    size_t in_dim;      /* per-sample input size */
    size_t out_dim;     /* per-sample output size */
    size_t c, h, w;     /* conv/pool: input channels and image size */
    size_t k, cout;     /* conv: kernel size and output channels */
    double clip;        /* relu: upper clip */
    double *out;        /* max_batch x out_dim outputs (owned) */
    double *dout;       /* max_batch x out_dim gradients (owned) */
    double *u;          /* dense: B x rows; conv: B*h*w x rows normalised inputs (owned) */
    double *z;          /* conv: B*h*w x cout product rows (owned) */
    size_t *argmax;     /* pool: index of the max in the input (owned) */
} layer;

struct ssp_net {
    size_t nlayers;
    layer l[SSP_NET_MAX_LAYERS];
    size_t nmat;
    ssp_net_matrix mat[SSP_NET_MAX_LAYERS];
    size_t in_dim;       /* network input size */
    size_t classes;      /* output size */
    size_t max_batch;    /* largest batch the workspaces hold */
    const double *x;     /* input of the last forward (borrowed) */
    size_t n;            /* batch size of the last forward */
    double *du;          /* scratch for backward products: largest B*h*w x rows (owned) */
    size_t du_size;
};

static int add_layer(ssp_net *net, ssp_ctx *ctx, layer *proto)
{
    layer *L;
    size_t B = net->max_batch;
    if (net->nlayers == SSP_NET_MAX_LAYERS) return ssp_error(ctx, SSP_EINVAL, "network has too many layers");
    L = &net->l[net->nlayers++];
    *L = *proto;
    L->out = calloc(B * L->out_dim, sizeof *L->out);
    L->dout = calloc(B * L->out_dim, sizeof *L->dout);
    if (!L->out || !L->dout) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating a layer");
    if (L->kind == L_DENSE || L->kind == L_CONV) {
        const ssp_net_matrix *M = &net->mat[L->m];
        size_t nrow = L->kind == L_DENSE ? B : B * L->h * L->w;
        L->u = malloc(nrow * M->rows * sizeof *L->u);
        if (!L->u) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating a layer");
        if (nrow * M->rows > net->du_size) net->du_size = nrow * M->rows;
        if (L->kind == L_CONV) {
            L->z = malloc(nrow * L->cout * sizeof *L->z);
            if (!L->z) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating a layer");
        }
    }
    if (L->kind == L_POOL) {
        L->argmax = malloc(B * L->out_dim * sizeof *L->argmax);
        if (!L->argmax) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating a layer");
    }
    return SSP_OK;
}

static size_t add_matrix(ssp_net *net, size_t in, size_t out, double scale, size_t fan_in)
{
    ssp_net_matrix *M = &net->mat[net->nmat];
    M->rows = in + 1;
    M->cols = out;
    M->in_scale = scale;
    M->fan_in = fan_in;
    return net->nmat++;
}

static int finish(ssp_net *net, ssp_ctx *ctx)
{
    net->du = malloc(net->du_size * sizeof *net->du);
    if (!net->du) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating network workspace");
    return SSP_OK;
}

static int net_new(ssp_net **out, ssp_ctx *ctx, size_t in, size_t max_batch)
{
    ssp_net *net = calloc(1, sizeof *net);
    *out = NULL;
    if (!net) return ssp_error(ctx, SSP_ENOMEM, "out of memory allocating a network");
    if (max_batch == 0 || in == 0) {
        free(net);
        return ssp_error(ctx, SSP_EINVAL, "network needs a positive input size and batch");
    }
    net->in_dim = in;
    net->max_batch = max_batch;
    *out = net;
    return SSP_OK;
}

int ssp_net_mlp_alloc(ssp_net **out, ssp_ctx *ctx, size_t in, const long *hidden, size_t nhidden,
                      size_t classes, double act_clip, size_t max_batch)
{
    ssp_net *net;
    size_t prev = in, i;
    double scale = 1.0; /* the network input (pixels) is already in [0, 1] */
    int rc = net_new(&net, ctx, in, max_batch);
    if (rc) return rc;
    for (i = 0; i <= nhidden; i++) {
        size_t width = i < nhidden ? (size_t)hidden[i] : classes;
        layer d = {0}, r = {0};
        d.kind = L_DENSE;
        d.in_dim = prev;
        d.out_dim = width;
        d.m = add_matrix(net, prev, width, scale, prev);
        rc = add_layer(net, ctx, &d);
        if (!rc && i < nhidden) {
            r.kind = L_RELU;
            r.in_dim = r.out_dim = width;
            r.clip = act_clip;
            rc = add_layer(net, ctx, &r);
        }
        if (rc) {
            ssp_net_free(&net);
            return rc;
        }
        prev = width;
        scale = act_clip;
    }
    net->classes = classes;
    rc = finish(net, ctx);
    if (rc) ssp_net_free(&net);
    *out = net;
    return rc;
}

int ssp_net_cnn_alloc(ssp_net **out, ssp_ctx *ctx, size_t c, size_t h, size_t w, size_t c1, size_t c2,
                      size_t k, size_t fc, size_t classes, double act_clip, size_t max_batch)
{
    ssp_net *net;
    size_t chan[3] = {c, c1, c2}, i;
    double scale = 1.0;
    int rc;
    if (h % 4 || w % 4 || k % 2 == 0)
        return ssp_error(ctx, SSP_EINVAL, "CNN needs an image size divisible by 4 and an odd kernel (got %zux%zu, k=%zu)",
                         h, w, k);
    rc = net_new(&net, ctx, c * h * w, max_batch);
    if (rc) return rc;
    for (i = 0; i < 2 && !rc; i++) {
        layer cv = {0}, r = {0}, p = {0};
        size_t cin = chan[i], co = chan[i + 1];
        cv.kind = L_CONV;
        cv.c = cin;
        cv.h = h;
        cv.w = w;
        cv.k = k;
        cv.cout = co;
        cv.in_dim = cin * h * w;
        cv.out_dim = co * h * w;
        cv.m = add_matrix(net, cin * k * k, co, scale, cin * k * k);
        rc = add_layer(net, ctx, &cv);
        r.kind = L_RELU;
        r.in_dim = r.out_dim = co * h * w;
        r.clip = act_clip;
        if (!rc) rc = add_layer(net, ctx, &r);
        p.kind = L_POOL;
        p.c = co;
        p.h = h;
        p.w = w;
        p.in_dim = co * h * w;
        p.out_dim = co * (h / 2) * (w / 2);
        if (!rc) rc = add_layer(net, ctx, &p);
        h /= 2;
        w /= 2;
        scale = act_clip;
    }
    if (!rc) {
        size_t flat = c2 * h * w;
        layer d1 = {0}, r = {0}, d2 = {0};
        d1.kind = L_DENSE;
        d1.in_dim = flat;
        d1.out_dim = fc;
        d1.m = add_matrix(net, flat, fc, act_clip, flat);
        rc = add_layer(net, ctx, &d1);
        r.kind = L_RELU;
        r.in_dim = r.out_dim = fc;
        r.clip = act_clip;
        if (!rc) rc = add_layer(net, ctx, &r);
        d2.kind = L_DENSE;
        d2.in_dim = fc;
        d2.out_dim = classes;
        d2.m = add_matrix(net, fc, classes, act_clip, fc);
        if (!rc) rc = add_layer(net, ctx, &d2);
    }
    net->classes = classes;
    if (!rc) rc = finish(net, ctx);
    if (rc) ssp_net_free(&net);
    *out = net;
    return rc;
}

void ssp_net_free(ssp_net **pnet)
{
    ssp_net *net;
    if (!pnet || !*pnet) return;
    net = *pnet;
    for (size_t i = 0; i < net->nlayers; i++) {
        free(net->l[i].out);
        free(net->l[i].dout);
        free(net->l[i].u);
        free(net->l[i].z);
        free(net->l[i].argmax);
    }
    free(net->du);
    free(net);
    *pnet = NULL;
}

size_t ssp_net_nmatrices(const ssp_net *net) { return net->nmat; }
const ssp_net_matrix *ssp_net_matrix_shape(const ssp_net *net, size_t m) { return &net->mat[m]; }
size_t ssp_net_input_dim(const ssp_net *net) { return net->in_dim; }
size_t ssp_net_classes(const ssp_net *net) { return net->classes; }
const double *ssp_net_logits(const ssp_net *net) { return net->l[net->nlayers - 1].out; }

/* Normalised input rows of a convolution: one row per output pixel. */
static void im2col(const layer *L, const double *in, size_t n, double inv_s, double *u)
{
    size_t rows = L->c * L->k * L->k + 1, pad = L->k / 2;
    for (size_t b = 0; b < n; b++) {
        const double *img = in + b * L->in_dim;
        for (size_t y = 0; y < L->h; y++)
            for (size_t x = 0; x < L->w; x++) {
                double *row = u + ((b * L->h + y) * L->w + x) * rows;
                size_t col = 0;
                for (size_t ch = 0; ch < L->c; ch++)
                    for (size_t dy = 0; dy < L->k; dy++)
                        for (size_t dx = 0; dx < L->k; dx++) {
                            long yy = (long)y + (long)dy - (long)pad, xx = (long)x + (long)dx - (long)pad;
                            row[col++] = (yy < 0 || xx < 0 || yy >= (long)L->h || xx >= (long)L->w)
                                             ? 0.0
                                             : img[(ch * L->h + (size_t)yy) * L->w + (size_t)xx] * inv_s;
                        }
                row[col] = 1.0;
            }
    }
}

static void col2im_add(const layer *L, const double *du, size_t n, double *din)
{
    size_t rows = L->c * L->k * L->k + 1, pad = L->k / 2;
    for (size_t b = 0; b < n; b++) {
        double *img = din + b * L->in_dim;
        for (size_t y = 0; y < L->h; y++)
            for (size_t x = 0; x < L->w; x++) {
                const double *row = du + ((b * L->h + y) * L->w + x) * rows;
                size_t col = 0;
                for (size_t ch = 0; ch < L->c; ch++)
                    for (size_t dy = 0; dy < L->k; dy++)
                        for (size_t dx = 0; dx < L->k; dx++, col++) {
                            long yy = (long)y + (long)dy - (long)pad, xx = (long)x + (long)dx - (long)pad;
                            if (yy < 0 || xx < 0 || yy >= (long)L->h || xx >= (long)L->w) continue;
                            img[(ch * L->h + (size_t)yy) * L->w + (size_t)xx] += row[col];
                        }
            }
    }
}

int ssp_net_forward(ssp_net *net, ssp_ctx *ctx, const double *x, size_t n, ssp_net_matmul_fn mm, void *payload)
{
    const double *in = x;
    int rc;
    if (n == 0 || n > net->max_batch)
        return ssp_error(ctx, SSP_EINVAL, "batch of %zu outside 1..%zu", n, net->max_batch);
    net->x = x;
    net->n = n;
    for (size_t i = 0; i < net->nlayers; i++) {
        layer *L = &net->l[i];
        switch (L->kind) {
        case L_DENSE: {
            const ssp_net_matrix *M = &net->mat[L->m];
            double inv = 1.0 / M->in_scale;
            for (size_t b = 0; b < n; b++) {
                double *row = L->u + b * M->rows;
                for (size_t j = 0; j < L->in_dim; j++) row[j] = in[b * L->in_dim + j] * inv;
                row[L->in_dim] = 1.0;
            }
            rc = mm(payload, L->m, L->u, n, L->out);
            if (rc) return rc;
            for (size_t j = 0; j < n * L->out_dim; j++) L->out[j] *= M->in_scale;
            break;
        }
        case L_CONV: {
            const ssp_net_matrix *M = &net->mat[L->m];
            size_t npix = L->h * L->w;
            im2col(L, in, n, 1.0 / M->in_scale, L->u);
            rc = mm(payload, L->m, L->u, n * npix, L->z);
            if (rc) return rc;
            for (size_t b = 0; b < n; b++)
                for (size_t p = 0; p < npix; p++)
                    for (size_t co = 0; co < L->cout; co++)
                        L->out[b * L->out_dim + co * npix + p] = M->in_scale * L->z[(b * npix + p) * L->cout + co];
            break;
        }
        case L_RELU:
            for (size_t j = 0; j < n * L->out_dim; j++) {
                double v = in[j];
                L->out[j] = v <= 0 ? 0 : (v >= L->clip ? L->clip : v);
            }
            break;
        case L_POOL: {
            size_t oh = L->h / 2, ow = L->w / 2;
            for (size_t b = 0; b < n; b++)
                for (size_t ch = 0; ch < L->c; ch++)
                    for (size_t y = 0; y < oh; y++)
                        for (size_t x2 = 0; x2 < ow; x2++) {
                            size_t base = b * L->in_dim + (ch * L->h + 2 * y) * L->w + 2 * x2;
                            size_t cand[4] = {base, base + 1, base + L->w, base + L->w + 1}, best = cand[0];
                            for (int q = 1; q < 4; q++)
                                if (in[cand[q]] > in[best]) best = cand[q];
                            size_t o = b * L->out_dim + (ch * oh + y) * ow + x2;
                            L->out[o] = in[best];
                            L->argmax[o] = best - b * L->in_dim;
                        }
            break;
        }
        }
        in = L->out;
    }
    return SSP_OK;
}

int ssp_net_loss(ssp_net *net, ssp_ctx *ctx, const unsigned char *y, double *loss_out, size_t *correct, int keep_grad)
{
    layer *L = &net->l[net->nlayers - 1];
    size_t C = net->classes, n = net->n, ok = 0;
    double loss = 0;
    for (size_t b = 0; b < n; b++)
        if (y[b] >= C)
            return ssp_error(ctx, SSP_ERANGE, "label %d of batch sample %zu: the network has %zu classes", y[b], b, C);
    for (size_t b = 0; b < n; b++) {
        const double *z = L->out + b * C;
        double *g = L->dout + b * C, mx = z[0], sum = 0;
        size_t arg = 0;
        for (size_t j = 1; j < C; j++)
            if (z[j] > mx) {
                mx = z[j];
                arg = j;
            }
        for (size_t j = 0; j < C; j++) sum += exp(z[j] - mx);
        loss += -(z[y[b]] - mx - log(sum));
        ok += arg == y[b];
        if (keep_grad) {
            for (size_t j = 0; j < C; j++) g[j] = exp(z[j] - mx) / sum / (double)n;
            g[y[b]] -= 1.0 / (double)n;
        }
    }
    if (correct) *correct = ok;
    *loss_out = loss / (double)n;
    return SSP_OK;
}

int ssp_net_backward(ssp_net *net, ssp_ctx *ctx, const double *const *weights, double *const *grads)
{
    size_t n = net->n;
    if (n == 0) return ssp_error(ctx, SSP_ESTATE, "backward pass without a forward pass");
    for (size_t i = net->nlayers; i-- > 0;) {
        layer *L = &net->l[i];
        const double *in = i ? net->l[i - 1].out : net->x;
        double *din = i ? net->l[i - 1].dout : NULL;
        switch (L->kind) {
        case L_DENSE: {
            const ssp_net_matrix *M = &net->mat[L->m];
            /* dW = s U^T dZ */
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M->rows, (int)M->cols, (int)n,
                        M->in_scale, L->u, (int)M->rows, L->dout, (int)M->cols, 0.0, grads[L->m], (int)M->cols);
            if (din) {
                /* dU' = dZ W^T (n x rows), drop the bias column */
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)M->rows, (int)M->cols, 1.0,
                            L->dout, (int)M->cols, weights[L->m], (int)M->cols, 0.0, net->du, (int)M->rows);
                for (size_t b = 0; b < n; b++)
                    memcpy(din + b * L->in_dim, net->du + b * M->rows, L->in_dim * sizeof *din);
            }
            break;
        }
        case L_CONV: {
            const ssp_net_matrix *M = &net->mat[L->m];
            size_t npix = L->h * L->w, nr = n * npix;
            for (size_t b = 0; b < n; b++)
                for (size_t p = 0; p < npix; p++)
                    for (size_t co = 0; co < L->cout; co++)
                        L->z[(b * npix + p) * L->cout + co] = L->dout[b * L->out_dim + co * npix + p];
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M->rows, (int)M->cols, (int)nr,
                        M->in_scale, L->u, (int)M->rows, L->z, (int)M->cols, 0.0, grads[L->m], (int)M->cols);
            if (din) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)M->rows, (int)M->cols, 1.0,
                            L->z, (int)M->cols, weights[L->m], (int)M->cols, 0.0, net->du, (int)M->rows);
                memset(din, 0, n * L->in_dim * sizeof *din);
                col2im_add(L, net->du, n, din);
            }
            break;
        }
        case L_RELU:
            if (din)
                for (size_t j = 0; j < n * L->out_dim; j++)
                    din[j] = (in[j] > 0 && in[j] < L->clip) ? L->dout[j] : 0.0;
            break;
        case L_POOL:
            if (din) {
                memset(din, 0, n * L->in_dim * sizeof *din);
                for (size_t b = 0; b < n; b++)
                    for (size_t o = 0; o < L->out_dim; o++)
                        din[b * L->in_dim + L->argmax[b * L->out_dim + o]] += L->dout[b * L->out_dim + o];
            }
            break;
        }
    }
    return SSP_OK;
}

int ssp_net_matmul_float(void *payload, size_t m, const double *u, size_t n, double *z)
{
    const ssp_net_float *p = payload;
    const ssp_net_matrix *M = &p->net->mat[m];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)M->cols, (int)M->rows, 1.0, u,
                (int)M->rows, p->w[m], (int)M->cols, 0.0, z, (int)M->cols);
    return SSP_OK;
}
