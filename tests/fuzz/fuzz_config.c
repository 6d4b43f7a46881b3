/* fuzz_config.c — libFuzzer harness of the run configuration: the bytes as
 * an INI file (ssp_config_parse), then each of their lines as a --set
 * override (ssp_config_set), the cross-field check, the baselines list and
 * the resolved-config writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ssp_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssp_config c;
    char *text = malloc(size + 1), *line, *save = NULL, *out = NULL;
    size_t olen = 0;
    int methods[4];
    FILE *ms;
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ssp_config_defaults(&c);
    ssp_config_parse(&c, fuzz_ctx(), text, size, "fuzz.ini");
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        ssp_config_set(&c, fuzz_ctx(), line);
    ssp_config_check(&c, fuzz_ctx());
    ssp_config_baselines(&c, fuzz_ctx(), methods, 4);
    ms = open_memstream(&out, &olen);
    if (ms) {
        ssp_config_write(&c, ms);
        fclose(ms);
    }
    free(out);
    free(text);
    return 0;
}
