/* nobench.c — `signopt bench` in a build made without the benchmark suite (make BENCH=0). */
#include <stdio.h>
#include "commands.h"

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "signopt bench: this signopt was built without the benchmarks (make BENCH=1)\n");
    return 2;
}
