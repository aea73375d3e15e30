/* plot.h — `signopt plot`: one run's metrics.csv read and checked, and its mean and std over seeds (per
 * evaluated step for the curves, of each seed's last row for the table). */
#ifndef SIGNOPT_CLI_PLOT_H
#define SIGNOPT_CLI_PLOT_H

#include <stddef.h>

/* Metric columns, in the order of the plot panels. */
enum { PLOT_LOSS, PLOT_TEST_ACC, PLOT_TRAIN_ACC, PLOT_GRAD_L1, PLOT_GRAD_L2, PLOT_NMETRIC };
/* x axes. */
enum { PLOT_X_STEP, PLOT_X_BITS, PLOT_X_EPOCH };

typedef struct plot_row {
    long seed, step;
    double epoch, bits_up;
    double v[PLOT_NMETRIC]; /* NaN where the CSV field is empty */
} plot_row;

/* One evaluated step: x (mean over the seeds that reached it) and each metric's mean and std over seeds. */
typedef struct plot_point {
    double x;
    double mean[PLOT_NMETRIC], std[PLOT_NMETRIC];
} plot_point;

typedef struct plot_run {
    char label[256];
    plot_row *rows;
    size_t nrows, cap;
    plot_point *curve;
    size_t ncurve;
    int nseed;
    long last_step;        /* the largest final step over seeds */
    double final[4][2];    /* loss, test_acc, grad_l1, grad_l2 of each seed's last row: mean, std (n-1) */
    int final_n[4];        /* seeds with a finite value */
    double final_bits;     /* mean bits_up of the last rows */
    int has[PLOT_NMETRIC]; /* some row holds a finite value */
} plot_run;

/* Read path into r->rows. Returns 0, or prints "signopt plot: FILE:LINE: ..." and returns 1. */
int plot_read_csv(plot_run *r, const char *path);
/* Fill curve, final and has from rows; x from the given axis. Returns 0 or 1 (message printed). */
int plot_aggregate(plot_run *r, int xaxis);

#endif
