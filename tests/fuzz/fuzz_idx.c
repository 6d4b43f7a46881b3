/* fuzz_idx.c — libFuzzer harness of the IDX reader (ssp_idx_parse): any
 * bytes, with and without a required number of dimensions. */
#include <string.h>

#include "fuzz.h"
#include "ssp_idx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int ndims[] = {0, 1, 3};
    for (size_t k = 0; k < sizeof ndims / sizeof ndims[0]; k++) {
        ssp_idx *x = NULL;
        if (ssp_idx_parse(&x, fuzz_ctx(), data, size, "fuzz.idx", ndims[k]) == SSP_OK) {
            /* what the parser promises: count items of item_size bytes */
            size_t sum = 0;
            for (size_t i = 0; i < x->count * x->item_size; i++) sum += x->data[i];
            (void)sum;
        }
        ssp_idx_free(&x);
    }
    return 0;
}
