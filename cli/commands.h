/* commands.h — the subcommands of the signopt command; each returns the process exit code
 * (0 success, 1 data/IO/numeric failure, 2 bad flag or value). */
#ifndef SIGNOPT_CLI_COMMANDS_H
#define SIGNOPT_CLI_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);
/* `signopt bench` (bench/bench_main.c; cli/nobench.c in a build without the benchmarks, BENCH=0). */
int cmd_bench(int argc, char **argv);

#endif
