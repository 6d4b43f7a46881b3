/* test_net.c — backprop gradients of the MLP and the CNN against central
 * finite differences (double precision), and loss/accuracy bookkeeping. */
#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>

#include "ssp_net.h"
#include "ssp_test.h"

/* Relative agreement required between backprop and finite differences. */
static const double GRAD_TOL_REL = 1e-5;
/* Gradients smaller than this are compared absolutely (tolerance
 * GRAD_TOL_REL * GRAD_FLOOR = 1e-9): the central difference of a loss of
 * order 1 with step 1e-6 carries round-off of order eps / step ~ 1e-10. */
static const double GRAD_FLOOR = 1e-4;
/* Central-difference step. */
static const double FD_STEP = 1e-6;

static double **alloc_weights(const ssp_net *net, gsl_rng *r, double scale)
{
    size_t nm = ssp_net_nmatrices(net);
    double **w = calloc(nm, sizeof *w);
    for (size_t m = 0; m < nm; m++) {
        const ssp_net_matrix *M = ssp_net_matrix_shape(net, m);
        w[m] = malloc(M->rows * M->cols * sizeof **w);
        for (size_t i = 0; i < M->rows * M->cols; i++) w[m][i] = scale * (2 * gsl_rng_uniform(r) - 1);
    }
    return w;
}

static void free_weights(double **w, size_t nm)
{
    for (size_t m = 0; m < nm; m++) free(w[m]);
    free(w);
}

static double loss_at(ssp_net *net, double **w, const double *x, const unsigned char *y, size_t n)
{
    ssp_net_float f = {net, w};
    CU_ASSERT_EQUAL(ssp_net_forward(net, ssp_test_ctx(), x, n, ssp_net_matmul_float, &f), SSP_OK);
    double loss = NAN;
    CU_ASSERT_EQUAL(ssp_net_loss(net, ssp_test_ctx(), y, &loss, NULL, 0), SSP_OK);
    return loss;
}

/* Check every gradient entry of every matrix (or a stride of them). */
static void check_gradients(ssp_net *net, size_t n, size_t stride, unsigned long seed, double wscale)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    size_t nm = ssp_net_nmatrices(net), dim = ssp_net_input_dim(net), checked = 0, bad = 0;
    double *x = malloc(n * dim * sizeof *x);
    unsigned char *y = malloc(n);
    double **w, **g;
    gsl_rng_set(r, seed);
    w = alloc_weights(net, r, wscale);
    g = alloc_weights(net, r, 0);
    for (size_t i = 0; i < n * dim; i++) x[i] = gsl_rng_uniform(r);
    for (size_t b = 0; b < n; b++) y[b] = (unsigned char)gsl_rng_uniform_int(r, ssp_net_classes(net));
    {
        ssp_net_float f = {net, w};
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_forward(net, ssp_test_ctx(), x, n, ssp_net_matmul_float, &f));
        double l;
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_loss(net, ssp_test_ctx(), y, &l, NULL, 1));
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_backward(net, ssp_test_ctx(), (const double *const *)w, g));
    }
    for (size_t m = 0; m < nm; m++) {
        const ssp_net_matrix *M = ssp_net_matrix_shape(net, m);
        for (size_t i = 0; i < M->rows * M->cols; i += stride) {
            double keep = w[m][i], lp, lm, fd;
            w[m][i] = keep + FD_STEP;
            lp = loss_at(net, w, x, y, n);
            w[m][i] = keep - FD_STEP;
            lm = loss_at(net, w, x, y, n);
            w[m][i] = keep;
            fd = (lp - lm) / (2 * FD_STEP);
            checked++;
            if (!ssp_close_rel(g[m][i], fd, GRAD_TOL_REL, GRAD_FLOOR)) {
                if (bad++ < 5) fprintf(stderr, "\n  matrix %zu entry %zu: backprop %.10g, fd %.10g", m, i, g[m][i], fd);
            }
        }
    }
    CU_ASSERT(checked > 0);
    CU_ASSERT_EQUAL(bad, 0);
    free_weights(w, nm);
    free_weights(g, nm);
    free(x);
    free(y);
    gsl_rng_free(r);
}

static void test_net__mlp_gradients_match_finite_differences(void)
{
    ssp_net *net = NULL;
    const long hidden[2] = {7, 5};
    /* activation clip high enough that no unit sits on a kink */
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_mlp_alloc(&net, ssp_test_ctx(), 12, hidden, 2, 4, 50.0, 8));
    CU_ASSERT_EQUAL(ssp_net_nmatrices(net), 3);
    CU_ASSERT_EQUAL(ssp_net_matrix_shape(net, 0)->rows, 13);
    check_gradients(net, 6, 1, 5, 0.5);
    ssp_net_free(&net);
    CU_ASSERT_PTR_NULL(net);
}

static void test_net__mlp_gradients_with_clipping(void)
{
    ssp_net *net = NULL;
    const long hidden[1] = {9};
    /* a low clip: some activations saturate, their gradient must be zero */
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_mlp_alloc(&net, ssp_test_ctx(), 10, hidden, 1, 3, 0.7, 8));
    check_gradients(net, 5, 1, 9, 1.0);
    ssp_net_free(&net);
}

static void test_net__cnn_gradients_match_finite_differences(void)
{
    ssp_net *net = NULL;
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_cnn_alloc(&net, ssp_test_ctx(), 1, 8, 8, 2, 3, 3, 5, 4, 50.0, 4));
    CU_ASSERT_EQUAL(ssp_net_nmatrices(net), 4);
    CU_ASSERT_EQUAL(ssp_net_matrix_shape(net, 0)->rows, 10);
    CU_ASSERT_EQUAL(ssp_net_matrix_shape(net, 2)->rows, 3 * 2 * 2 + 1);
    check_gradients(net, 3, 1, 21, 0.3);
    ssp_net_free(&net);
}

static void test_net__loss_counts_correct_predictions(void)
{
    ssp_net *net = NULL;
    const long hidden[1] = {2};
    double w0[3 * 2] = {1, 0, 0, 1, 0, 0}, w1[3 * 2] = {1, 0, 0, 1, 0, 0};
    double *w[2] = {w0, w1};
    double x[2 * 2] = {0.9, 0.1, 0.2, 0.8};
    unsigned char y[2] = {0, 0};
    size_t correct = 0;
    ssp_net_float f;
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_mlp_alloc(&net, ssp_test_ctx(), 2, hidden, 1, 2, 10.0, 2));
    f.net = net;
    f.w = w;
    SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_forward(net, ssp_test_ctx(), x, 2, ssp_net_matmul_float, &f));
    {
        /* identity weights below the clip: the logits (2 images x 2 classes,
         * row-major) are the inputs */
        const double *z = ssp_net_logits(net);
        for (size_t i = 0; i < 4; i++) CU_ASSERT(fabs(z[i] - x[i]) < 1e-12);
    }
    {
        double loss = NAN;
        SSP_ASSERT_OK(ssp_test_ctx(), ssp_net_loss(net, ssp_test_ctx(), y, &loss, &correct, 0));
        /* logits are the inputs scaled by the act clip of layer 1 (identity weights) */
        double l0 = -(0.9 - 0.9 - log(1 + exp(0.1 - 0.9)));
        double l1 = -(0.2 - 0.8 - log(1 + exp(0.2 - 0.8)));
        CU_ASSERT_EQUAL(correct, 1);
        CU_ASSERT(fabs(loss - 0.5 * (l0 + l1)) < 1e-12);
    }
    CU_ASSERT_EQUAL(ssp_net_forward(net, ssp_test_ctx(), x, 3, ssp_net_matmul_float, &f), SSP_EINVAL);
    ssp_net_free(&net);
}

/* A label outside the network's classes is refused before it indexes the
 * logits or the gradient (y = 255 on a 2-class output), and the gradient
 * buffer is left as it was. */
static void test_net__loss_refuses_label_out_of_range(void)
{
    ssp_net *net = NULL;
    ssp_ctx *ctx = ssp_test_ctx();
    const long hidden[1] = {2};
    double w0[3 * 2] = {1, 0, 0, 1, 0, 0}, w1[3 * 2] = {1, 0, 0, 1, 0, 0}, g0[3 * 2] = {0}, g1[3 * 2] = {0};
    double *w[2] = {w0, w1}, *g[2] = {g0, g1};
    double x[2 * 2] = {0.9, 0.1, 0.2, 0.8}, loss = -1;
    unsigned char y[2] = {1, 255};
    ssp_net_float f;
    SSP_ASSERT_OK(ctx, ssp_net_mlp_alloc(&net, ctx, 2, hidden, 1, 2, 10.0, 2));
    f.net = net;
    f.w = w;
    SSP_ASSERT_OK(ctx, ssp_net_forward(net, ctx, x, 2, ssp_net_matmul_float, &f));
    CU_ASSERT_EQUAL(ssp_net_loss(net, ctx, y, &loss, NULL, 1), SSP_ERANGE);
    CU_ASSERT_EQUAL(loss, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "label 255 of batch sample 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ssp_ctx_errmsg(ctx), "2 classes"));
    y[1] = 2;
    CU_ASSERT_EQUAL(ssp_net_loss(net, ctx, y, &loss, NULL, 0), SSP_ERANGE);
    y[1] = 0;
    SSP_ASSERT_OK(ctx, ssp_net_loss(net, ctx, y, &loss, NULL, 1));
    CU_ASSERT(loss > 0);
    SSP_ASSERT_OK(ctx, ssp_net_backward(net, ctx, (const double *const *)w, g));
    ssp_net_free(&net);
}

static void test_net__cnn_rejects_bad_shapes(void)
{
    ssp_net *net = NULL;
    CU_ASSERT_EQUAL(ssp_net_cnn_alloc(&net, ssp_test_ctx(), 1, 10, 10, 2, 2, 3, 4, 10, 4, 4), SSP_EINVAL);
    CU_ASSERT_EQUAL(ssp_net_cnn_alloc(&net, ssp_test_ctx(), 1, 8, 8, 2, 2, 4, 4, 10, 4, 4), SSP_EINVAL);
    CU_ASSERT_PTR_NULL(net);
}

SSP_TEST_SUITE(net)
{
    SSP_ADD_SUITE("net", NULL, NULL,
                  SSP_TEST(test_net__mlp_gradients_match_finite_differences),
                  SSP_TEST(test_net__mlp_gradients_with_clipping),
                  SSP_TEST(test_net__cnn_gradients_match_finite_differences),
                  SSP_TEST(test_net__loss_counts_correct_predictions),
                  SSP_TEST(test_net__loss_refuses_label_out_of_range), SSP_TEST(test_net__cnn_rejects_bad_shapes));
}
