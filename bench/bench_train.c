/* bench_train.c — the default training run measured: MLP 784-100-10 on
 * MNIST, Siamese method, 32-level VTEAM-derived device (3 % cycle-to-cycle
 * noise), for SSP_BENCH_EPOCHS epochs (default 5) of the full 60,000 images.
 *   bench_train [CONFIG]   (default configs/default.ini)
 * Last line: BENCH train model=.. engine=.. epoch_s=.. test_acc=..
 * updates_eliminated_pct=.. energy_ratio_vs_closed_loop=.. (epoch 1 for the
 * update figures, the last epoch for accuracy, mean wall time per epoch).
 *
 * Short setting: SSP_BENCH_STEPS=S runs only the first S training steps of
 * epoch 1 (no test evaluation) and ends with
 *   BENCH train_steps model=.. engine=.. steps=S first_step_s=..
 *   s_per_step=.. cpu_s_per_step=.. steps_per_epoch=.. projected_epoch_s=.. nodal_fast_reads=..
 *   nodal_fallbacks=..
 * where s_per_step is the mean over steps 2..S (step 1 programs and factors
 * every tile from scratch; cpu_s_per_step: the same in CPU time, user +
 * system, from getrusage) and projected_epoch_s = s_per_step x steps per
 * epoch, without the epoch's test evaluation. SSP_NODAL_PATH=reference runs
 * the same on the reference nodal path for comparison. SSP_BENCH_LOAD=CKPT
 * starts the short setting from a checkpoint (say one saved after step 1,
 * whose programming calibration then needs no ngspice run), and
 * SSP_BENCH_SAVE=CKPT saves one after the last step (two runs' device
 * states, twin and counters compared by comparing the files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ssp_config.h"
#include "ssp_engine.h"
#include "ssp_layer.h"
#include "ssp_nodal.h"
#include "ssp_train.h"
#include "ssp_xbar.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this process (user + system), s. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Sum of the nodal counters over every tile of the training network. */
static void nodal_totals(ssp_train *t, ssp_nodal_stats *sum)
{
    struct ssp_xbar *x = ssp_train_xbar(t);
    size_t m, r, c;
    memset(sum, 0, sizeof *sum);
    for (m = 0; x && m < ssp_xbar_nmat(x); m++) {
        ssp_layer *l = ssp_xbar_layer(x, m);
        for (r = 0; l && r < ssp_layer_grid_rows(l); r++)
            for (c = 0; c < ssp_layer_grid_cols(l); c++) {
                ssp_nodal *n = ssp_engine_nodal(ssp_layer_engine(l, r, c));
                ssp_nodal_stats s;
                if (!n) continue;
                ssp_nodal_get_stats(n, &s);
                sum->fast_reads += s.fast_reads;
                sum->fast_fallbacks += s.fast_fallbacks;
                sum->solves += s.solves;
                sum->factors += s.factors;
                sum->refactors += s.refactors;
                sum->fast_updates += s.fast_updates;
                sum->fast_cell_solves += s.fast_cell_solves;
            }
    }
}

/* The short setting: the first `steps` steps of epoch 1. */
static int run_steps(ssp_train *t, const ssp_config *c, long steps)
{
    double first = 0, rest = 0, cpu_rest = 0;
    ssp_nodal_stats ns;
    long s;
    int done = 0;
    long nrest;
    if (steps < 1) steps = 1;
    for (s = 0; s < steps && !done; s++) {
        double t0 = now_s(), c0 = cpu_s(), dt, dc;
        if (ssp_train_step(t, &done)) return 1;
        dt = now_s() - t0;
        dc = cpu_s() - c0;
        if (s == 0) first = dt;
        else {
            rest += dt;
            cpu_rest += dc;
        }
        printf("step %ld: %.3f s, %.3f s CPU\n", s + 1, dt, dc);
        fflush(stdout);
    }
    nodal_totals(t, &ns);
    nrest = s > 1 ? s - 1 : 1;
    printf("nodal, all tiles: %lu factors, %lu refactors, %lu low-rank updates, %lu cell solves, "
           "%lu fast reads, %lu reads redone on the reference path\n", ns.factors, ns.refactors,
           ns.fast_updates, ns.fast_cell_solves, ns.fast_reads, ns.fast_fallbacks);
    printf("BENCH train_steps model=%s engine=%s steps=%ld first_step_s=%.3f s_per_step=%.3f cpu_s_per_step=%.3f "
           "steps_per_epoch=%zu projected_epoch_s=%.1f nodal_fast_reads=%lu nodal_fallbacks=%lu\n",
           c->net == SSP_NET_MLP ? "mlp" : "cnn",
           c->engine == SSP_ENGINE_IDEAL ? "ideal" : c->engine == SSP_ENGINE_NODAL ? "nodal" : "spice",
           s, first, rest / (double)nrest, cpu_rest / (double)nrest, ssp_train_steps_per_epoch(t),
           rest / (double)nrest * (double)ssp_train_steps_per_epoch(t), ns.fast_reads,
           ns.fast_fallbacks);
    return 0;
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
    if (getenv("SSP_BENCH_STEPS")) {
        const char *load = getenv("SSP_BENCH_LOAD"), *save = getenv("SSP_BENCH_SAVE");
        int rc = load && *load ? ssp_train_checkpoint_load(t, load) : 0;
        if (!rc) rc = run_steps(t, &c, atol(getenv("SSP_BENCH_STEPS")));
        if (!rc && save && *save) rc = ssp_train_checkpoint_save(t, save);
        if (rc) fprintf(stderr, "bench_train: %s\n", ssp_ctx_errmsg(ctx));
        ssp_train_destroy(&t);
        ssp_ctx_destroy(&ctx);
        return rc;
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
