/* progress.h — progress on stderr: a one-line bar on a terminal, a plain line every ~10% otherwise, nothing
 * with --quiet. Ctrl-C asks the run to stop at the next step (it then evaluates and writes what it has). */
#ifndef SIGNOPT_CLI_PROGRESS_H
#define SIGNOPT_CLI_PROGRESS_H

typedef struct progress {
    int enabled, tty;
    double t0, last_draw;
    int last_decile;
    char label[96];
} progress;

void progress_start(progress *p, int enabled, const char *label);
/* so_progress_fn: returns nonzero after SIGINT or SIGTERM. */
int progress_step(long step, long total, double loss, void *user);
void progress_end(progress *p);
/* Route SIGINT and SIGTERM to a stop request (a second signal ends the process as usual). */
void progress_catch_interrupt(void);
/* The signal that asked to stop (SIGINT, SIGTERM), 0 if none; the command then exits 128 + it. */
int progress_interrupted(void);
/* Record a stop that another rank's signal asked for (the ranks agree on it every step), as if it came here. */
void progress_set_interrupted(int sig);

#endif
