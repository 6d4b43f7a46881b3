/* fuzz_fitcsv.c — libFuzzer harness of the device-measurement CSV that
 * `siamspice fit --data` reads (ssp_fit_data_parse): the bytes as a CSV
 * file; on acceptance every row is read back and the documented invariants
 * are checked (conductance > 0 and finite, a pulse row's width > 0, each
 * row's `prev` an earlier row of the same device, its line inside the
 * file), so a table the parser accepts is one the fit can use. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "ssp_fit.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssp_fit_data *d = NULL;
    size_t i;
    if (ssp_fit_data_parse(&d, fuzz_ctx(), (const char *)data, size, "fuzz.csv") != SSP_OK) {
        ssp_fit_data_free(&d);
        return 0;
    }
    for (i = 0; i < d->n; i++) {
        if (!(d->g[i] > 0.0) || !isfinite(d->g[i])) __builtin_trap();
        if (!isfinite(d->amp[i]) || !isfinite(d->width[i])) __builtin_trap();
        if (d->pulse[i] > 0 && !(d->width[i] > 0.0)) __builtin_trap();
        if (d->prev[i] >= (long)i || d->prev[i] < -1) __builtin_trap();
        if (d->prev[i] >= 0 && d->dev[d->prev[i]] != d->dev[i]) __builtin_trap();
        if (d->dev[i] >= d->ndev || d->line[i] < 1) __builtin_trap();
    }
    ssp_fit_data_free(&d);
    return 0;
}
