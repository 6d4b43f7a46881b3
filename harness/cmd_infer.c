/* cmd_infer.c — `siamspice infer RUN_DIR`: evaluate a run's checkpoint on
 * its test set with the hardware forward pass, optionally with parameters
 * changed (--set), to study non-idealities without retraining. */
#include <stdio.h>
#include <string.h>

#include "ssp_cmd_train.h"
#include "ssp_config.h"
#include "ssp_train.h"

enum { MAX_SETS = 64, PATH_CAP = 4096 };

static int usage(FILE *to)
{
    fputs("usage: siamspice infer RUN_DIR [--set SECTION.KEY=VALUE]...\n"
          "\n"
          "Evaluate RUN_DIR/checkpoint.bin on the test set of RUN_DIR/config.ini with\n"
          "the hardware forward pass. --set changes parameters for this evaluation only\n"
          "(e.g. --set data.test_limit=1000 or --set engine.forward=ideal); parameters\n"
          "that change the network or its devices make the checkpoint unusable and are\n"
          "refused by the checkpoint check. Prints accuracy and loss; exit 0/1/2.\n",
          to);
    return to == stderr ? 2 : 0;
}

int ssp_cmd_infer(int argc, char **argv)
{
    const char *dir = NULL, *sets[MAX_SETS];
    char p[PATH_CAP];
    int nsets = 0, rc, status = 1;
    ssp_config cfg;
    ssp_ctx *ctx = NULL;
    ssp_train *t = NULL;
    double acc = 0, loss = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout);
        if (i + 1 < argc && !strcmp(argv[i], "--set") && nsets < MAX_SETS)
            sets[nsets++] = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr, "siamspice infer: unexpected argument '%s'\n", argv[i]);
            return usage(stderr);
        }
    }
    if (!dir) return usage(stderr);
    if (strlen(dir) + 32 >= PATH_CAP) return 2;
    if (ssp_ctx_create(&ctx)) return 1;
    ssp_config_defaults(&cfg);
    snprintf(p, sizeof p, "%s/config.ini", dir);
    rc = ssp_config_load(&cfg, ctx, p);
    for (int i = 0; !rc && i < nsets; i++) rc = ssp_config_set(&cfg, ctx, sets[i]);
    if (!rc) rc = ssp_train_create(&t, ctx, &cfg);
    if (rc) {
        status = 2;
        goto out;
    }
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    rc = ssp_train_checkpoint_load(t, p);
    if (rc) {
        status = 2;
        goto out;
    }
    rc = ssp_train_evaluate(t, &acc, &loss);
    if (rc) goto out;
    printf("%s: epoch %ld, test accuracy %.2f %%, test loss %.4f (hardware forward)\n", dir, ssp_train_epochs_done(t),
           100 * acc, loss);
    status = 0;
out:
    if (status) fprintf(stderr, "siamspice infer: %s\n", ssp_ctx_errmsg(ctx));
    ssp_train_destroy(&t);
    ssp_ctx_destroy(&ctx);
    return status;
}
