/* fuzz_device.c — libFuzzer harness of the device parameter files
 * (ssp_device_model_parse): any text; a model that loads is also sampled,
 * read and emitted as its SPICE subcircuit. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ssp_device.h"

enum { SUBCKT_CAP = 1 << 16 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssp_device_model *m = NULL;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (ssp_device_model_parse(&m, fuzz_ctx(), text, "fuzz.ini") == SSP_OK) {
        static char buf[SUBCKT_CAP];
        ssp_device dev;
        gsl_rng *rng = NULL;
        size_t len = 0;
        double g = 0;
        ssp_device_spice_subckt(m, fuzz_ctx(), buf, sizeof buf, &len);
        /* the sampler draws the device-to-device variation: it needs a generator */
        if (ssp_device_rng_alloc(&rng, fuzz_ctx(), 1) == SSP_OK && ssp_device_sample(&dev, fuzz_ctx(), m, rng) == SSP_OK)
            ssp_device_read(&dev, rng, &g);
        ssp_device_rng_free(&rng);
    }
    ssp_device_model_free(&m);
    free(text);
    return 0;
}
