/* fuzz_config.c — libFuzzer target for `--config FILE` parsing and the validation of every value it sets
 * (cli_parse on "train --config FILE"). Exit codes 0, 1 and 2 are all fine; a crash or sanitizer report is not. */
#include <stdio.h>
#include "../../cli/args.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("config", data, size);
    char a0[] = "train", a1[] = "--config", a2[128];
    snprintf(a2, sizeof a2, "%s", path);
    char *argv[] = {a0, a1, a2, NULL};
    cli_options o;
    int rc = cli_parse(&o, "train", 3, argv);
    cli_options_free(&o);
    if (rc != 0 && rc != 1 && rc != 2 && rc != -1) abort();
    return 0;
}
