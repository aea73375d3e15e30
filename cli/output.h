/* output.h — what `signopt train` writes: metrics.csv rows, summary.json, statistics across seeds, and the
 * file plumbing (directories, atomic writes). */
#ifndef SIGNOPT_CLI_OUTPUT_H
#define SIGNOPT_CLI_OUTPUT_H

#include <stddef.h>
#include "args.h"
#include "json.h"
#include "stats.h"

/* A growing text buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;
void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sb_free(sbuf *b);

/* A growing list of metrics rows. */
typedef struct row_list {
    so_metrics_row *rows;
    size_t n, cap;
} row_list;
void rows_push(const so_metrics_row *r, void *user); /* so_row_fn over a row_list */
void rows_free(row_list *l);

/* One seed's outcome. */
typedef struct seed_result {
    uint64_t seed;
    so_run_result res;
    double lr, beta; /* as used (theory presets resolve them per seed) */
    long steps;
    int status; /* so_run's return */
    int diverged;       /* so_run stopped on a non-finite loss or gradient (SO_ENUMERIC) */
    long diverged_step; /* where; res.final is then the row written at that step */
    int interrupted;    /* a signal stopped it before its last step; res.final is the row at the stop */
} seed_result;

/* mkdir -p; returns 0 or prints one line and returns 1. */
int make_dirs(const char *cmd, const char *dir);
/* Claim --out DIR for this run before any work: create it, lock it against a second concurrent signopt writer
 * (exit 1 with a clear message), refuse an existing DIR/file without force (2), check that files can be created
 * there (1), and with force remove the old run's files. Held until out_release() or the process ends. */
int out_claim(const char *cmd, const char *dir, const char *file, int force);
void out_release(void);
/* Write a whole file atomically (temp file in the same directory, fflush, fsync, rename); 0 or 1 + message. */
int write_file_atomic(const char *cmd, const char *path, const char *data, size_t len);

extern const char metrics_header[];
void metrics_row(sbuf *b, const so_metrics_row *r);
/* summary.json for a train run. Per seed "diverged" and "diverged_step"; "final_stats" over all seeds with a
 * diverged seed's loss and gradient norms as +inf (written null where a statistic is not finite), and
 * "final_stats_finite" over the seeds that finished. */
cJSON *summary_json(const cli_options *o, const seed_result *res, int nres, int workers, size_t dim, size_t samples,
                    const char *error, int signal);
/* "SIGINT", "SIGTERM" or "signal N". */
const char *signal_name(int sig);

/* The metrics row at a divergence: loss and grad_l1 as a failed evaluation measured them (parsed from so_run's
 * message msg), NaN where nothing was measured; bits as of the last row (NULL: 0). */
void divergence_row(so_metrics_row *r, const so_metrics_row *last, uint64_t seed, long step, double epoch,
                    double wall_s, const char *msg);
/* An accuracy for a table: "-" for NaN. */
void fmt_acc(char *buf, size_t n, double v);
/* train's results table on stdout: one line per seed (a diverged one shows loss inf and its step), the mean and
 * std over the seeds that finished, and how many diverged. */
void print_results(const seed_result *res, int nres, int ndiv);

#endif
