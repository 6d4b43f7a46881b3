/* ssp_net.h — feed-forward networks whose weight matrices live on crossbars.
 *
 * A network is a list of layers: dense and convolution layers ("mapped"
 * layers, each one weight matrix that a crossbar holds), clipped ReLU and
 * 2x2 max pooling, ending in softmax cross-entropy. Every mapped layer is a
 * matrix product Z = s * (U W) where U holds the layer's inputs divided by
 * the input scale s (so U is in [0, 1]: the normalised read voltages) with a
 * last column of ones carrying the bias row, and W is (inputs + 1) x outputs.
 * The product itself is delegated to a callback, so one network runs on the
 * simulated hardware (the Siamese forward pass) or on float weights.
 *
 * Backward passes compute exact gradients of the loss with respect to the
 * weights, given the values the forward pass produced (hardware activations)
 * and a weight set used to propagate errors (the float twin). No printing;
 * workspaces are allocated once, for a maximum batch. */
#ifndef SSP_NET_H
#define SSP_NET_H

#include <stddef.h>

#include "ssp_error.h"

/* Shape of one mapped layer's weight matrix. */
typedef struct ssp_net_matrix {
    size_t rows;     /* inputs + 1 (bias row last) */
    size_t cols;     /* outputs */
    double in_scale; /* s: inputs are divided by it before the product */
    size_t fan_in;   /* for initialisation */
} ssp_net_matrix;

/* Z (n x cols) = U (n x rows) * W_m, computed by the caller's engine. */
typedef int (*ssp_net_matmul_fn)(void *payload, size_t m, const double *u, size_t n, double *z);

typedef struct ssp_net ssp_net;

/* Multilayer perceptron: in -> hidden[0] -> ... -> classes. */
SSP_API int ssp_net_mlp_alloc(ssp_net **out, ssp_ctx *ctx, size_t in, const long *hidden, size_t nhidden,
                      size_t classes, double act_clip, size_t max_batch);
/* CNN on c x h x w images: conv(k, c1) relu pool, conv(k, c2) relu pool,
 * dense(fc) relu, dense(classes); 'same' padding, stride 1. h and w must be
 * divisible by 4. */
SSP_API int ssp_net_cnn_alloc(ssp_net **out, ssp_ctx *ctx, size_t c, size_t h, size_t w, size_t c1, size_t c2,
                      size_t k, size_t fc, size_t classes, double act_clip, size_t max_batch);
SSP_API void ssp_net_free(ssp_net **net);

SSP_API size_t ssp_net_nmatrices(const ssp_net *net);
SSP_API const ssp_net_matrix *ssp_net_matrix_shape(const ssp_net *net, size_t m);
SSP_API size_t ssp_net_input_dim(const ssp_net *net);
SSP_API size_t ssp_net_classes(const ssp_net *net);

/* Forward a batch x (n x input_dim): the logits stay in the network's
 * workspace; losses (mean cross-entropy) and predictions are optional. */
SSP_API int ssp_net_forward(ssp_net *net, ssp_ctx *ctx, const double *x, size_t n, ssp_net_matmul_fn mm,
                    void *payload);
/* Mean cross-entropy of the last forward pass against labels y into *loss,
 * the number of correct predictions (correct may be NULL), and (keep_grad)
 * dL/dlogits stored for the backward pass. A label outside 0..classes-1 is
 * refused (SSP_ERANGE) before anything is indexed with it. */
SSP_API int ssp_net_loss(ssp_net *net, ssp_ctx *ctx, const unsigned char *y, double *loss, size_t *correct, int keep_grad);
/* Backward pass of the last forward: grads[m] (rows x cols each) receives
 * dL/dW_m; weights[m] are the matrices used to propagate errors. */
SSP_API int ssp_net_backward(ssp_net *net, ssp_ctx *ctx, const double *const *weights, double *const *grads);
/* Logits of the last forward pass (n x classes). */
SSP_API const double *ssp_net_logits(const ssp_net *net);

/* Payload of the float matmul: the network and one matrix per mapped layer. */
typedef struct ssp_net_float {
    const ssp_net *net;  /* shapes */
    double *const *w;    /* w[m]: rows x cols, row-major (borrowed) */
} ssp_net_float;

/* Z = U W_m with float weights; payload is an ssp_net_float. */
SSP_API int ssp_net_matmul_float(void *payload, size_t m, const double *u, size_t n, double *z);

#endif
