/* forward.c — a complete program on the siamspice C API: load a run
 * configuration, build the network on simulated memristor crossbars read by
 * the nodal circuit solver (wire resistance, TIA and ADC included), train it
 * in situ for one epoch on a few MNIST images, and print the accuracy of the
 * hardware forward pass on a few test images with what programming cost.
 *
 *   forward CONFIG [SECTION.KEY=VALUE]...
 *
 * CONFIG is a run configuration (configs/default.ini in the source tree,
 * PREFIX/share/siamspice/configs/default.ini installed); the overrides
 * follow, e.g. data.dir=/path/to/data device.params=/path/to/vteam32.ini.
 * The program sets engine.forward = nodal, one epoch, 256 training and 100
 * test images of 14x14 pixels and a 32-unit hidden layer before the
 * overrides (example_sets below), so it finishes in seconds.
 *
 * Build against an installed library:
 *   cc -o forward forward.c $(pkg-config --cflags --libs siamspice)
 *
 * It shows the life cycle of the handles (siamspice(3)): a context first
 * (errors and log lines), a configuration (plain struct), the trainer
 * (owns data, network, twin, hardware and crossbar), its set / iterate /
 * test loop, and the destructors in reverse order, each taking T ** and
 * accepting NULL. The program owns the loop and the printing; the library
 * prints nothing. Exit status: 0 done, 1 the run failed, 2 bad input. */
#include <stdio.h>

#include <siamspice.h>

/* Defaults of this example, applied before the command-line overrides:
 * small enough for a test (about 5 s of CPU on the nodal engine), enough
 * training to land well above chance (10 %). */
static const char *const example_sets[] = {
    "engine.forward=nodal", /* every forward pass solved on the crossbar circuit */
    "run.epochs=1",
    "data.train_limit=256", /* images: 32 batches of 8 */
    "train.batch=8",
    "data.test_limit=100",
    "data.downsample=2",    /* 14x14 inputs */
    "network.hidden=32",    /* 196-32-10: 4 + 1 tiles of 64x64 */
};

int main(int argc, char **argv)
{
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    ssp_config cfg;
    ssp_epoch_metrics m;
    const ssp_hw *hw;
    int rc, status = 2, done = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG [SECTION.KEY=VALUE]...\n", argv[0]);
        return 2;
    }
    if (ssp_ctx_create(&ctx)) {
        fputs("forward: out of memory\n", stderr);
        return 1;
    }
    ssp_ctx_set_log_level(ctx, SSP_LOG_WARN);

    /* The configuration: defaults, the file, this example's settings, the
     * overrides; relative paths made absolute; cross-field checks. */
    ssp_config_defaults(&cfg);
    rc = ssp_config_load(&cfg, ctx, argv[1]);
    for (size_t i = 0; !rc && i < sizeof example_sets / sizeof *example_sets; i++)
        rc = ssp_config_set(&cfg, ctx, example_sets[i]);
    for (int i = 2; !rc && i < argc; i++) rc = ssp_config_set(&cfg, ctx, argv[i]);
    if (!rc) rc = ssp_config_resolve_paths(&cfg, ctx);
    if (!rc) rc = ssp_config_check(&cfg, ctx);
    if (rc) goto fail;

    /* Set: data, device model, network, float twin, hardware, crossbar. */
    status = 1;
    if ((rc = ssp_train_create(&t, ctx, &cfg))) goto fail;
    hw = ssp_train_hw(t);
    printf("network: %zu weight matrices on %zu devices (%zu stuck), %s, engine %s\n", ssp_hw_nmat(hw),
           ssp_hw_device_count(hw), ssp_hw_stuck_count(hw), ssp_method_name(cfg.method),
           ssp_engine_kind_name(cfg.engine));

    /* Iterate: one epoch of batches; test: evaluate on the test images. */
    while (!done)
        if ((rc = ssp_train_step(t, &done))) goto fail;
    if ((rc = ssp_train_epoch_end(t, &m))) goto fail;
    printf("epoch %ld: %ld batches, train loss %.4f\n", m.epoch, m.steps, m.train_loss);
    printf("programming: %llu weight writes, %llu device writes, %llu pulses, %.3g J\n", m.hw.weight_writes,
           m.hw.device_writes, m.hw.pulses, m.hw.pulse_energy_j);
    printf("test accuracy on the nodal crossbar: %.2f %% of %zu images\n", 100 * m.test_acc,
           ssp_train_test_size(t));
    status = 0;
    goto done;

fail:
    fprintf(stderr, "forward: %s (%s)\n", ssp_ctx_errmsg(ctx), ssp_strerror(rc));
done:
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}
