/* fuzz_schedule.c — libFuzzer harness of the pulse-schedule JSON reader
 * (ssp_pulse_parse_json): any bytes. */
#include "fuzz.h"
#include "ssp_pulse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssp_pulse_schedule *s = NULL;
    ssp_pulse_parse_json(&s, fuzz_ctx(), (const char *)data, size, "fuzz.json");
    ssp_pulse_schedule_free(&s);
    return 0;
}
