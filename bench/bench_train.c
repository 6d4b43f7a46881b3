/* bench_train.c — the default training run measured: MLP 784-100-10 on
 * MNIST, Siamese method, 32-level VTEAM-derived device (3 % cycle-to-cycle
 * noise), for SSP_BENCH_EPOCHS epochs (default 5) of the full 60,000 images.
 *   bench_train [CONFIG]   (default configs/default.ini)
 * Last line: BENCH train model=.. engine=.. epoch_s=.. test_acc=..
 * updates_eliminated_pct=.. energy_ratio_vs_closed_loop=.. (epoch 1 for the
 * update figures, the last epoch for accuracy, mean wall time per epoch). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ssp_config.h"
#include "ssp_train.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "configs/default.ini", *env = getenv("SSP_BENCH_EPOCHS");
    ssp_ctx *ctx = NULL;
    ssp_config c;
    ssp_train *t = NULL;
    ssp_epoch_metrics m, first;
    double t_epochs = 0;
    long epochs;
    if (ssp_ctx_create(&ctx)) return 1;
    ssp_config_defaults(&c);
    if (ssp_config_load(&c, ctx, path) || ssp_train_create(&t, ctx, &c)) {
        fprintf(stderr, "bench_train: %s\n", ssp_ctx_errmsg(ctx));
        return 1;
    }
    epochs = env ? atol(env) : c.epochs;
    if (epochs < 1) epochs = 1;
    for (long e = 0; e < epochs; e++) {
        int done = 0;
        double t0 = now_s();
        while (!done)
            if (ssp_train_step(t, &done)) goto fail;
        if (ssp_train_epoch_end(t, &m)) goto fail;
        t_epochs += now_s() - t0;
        if (e == 0) first = m;
        printf("epoch %ld: %.1f s, test accuracy %.2f %%, eliminated %.2f %%, energy ratio %.4g\n", m.epoch,
               now_s() - t0, 100 * m.test_acc, m.updates_eliminated_pct, m.energy_ratio);
        fflush(stdout);
    }
    printf("BENCH train model=%s engine=%s epoch_s=%.2f test_acc=%.4f updates_eliminated_pct=%.3f "
           "energy_ratio_vs_closed_loop=%.5f\n",
           c.net == SSP_NET_MLP ? "mlp" : "cnn", c.engine == SSP_ENGINE_IDEAL ? "ideal" : c.engine == SSP_ENGINE_NODAL ? "nodal" : "spice",
           t_epochs / (double)epochs, m.test_acc, first.updates_eliminated_pct, first.energy_ratio);
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return 0;
fail:
    fprintf(stderr, "bench_train: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return 1;
}
