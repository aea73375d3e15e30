/* plot.h — `signopt plot`: a run's metrics.csv or a sweep's sweep.csv read and checked, and their statistics over
 * seeds, all through cli/stats.h (the one implementation train and sweep print with). */
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
    double v[PLOT_NMETRIC]; /* NaN where the CSV field is empty or "nan" (a diverged seed's last row) */
} plot_row;

/* One evaluated step: x (mean over the seeds that reached it) and each metric's mean and std over seeds. */
typedef struct plot_point {
    double x;
    double mean[PLOT_NMETRIC], std[PLOT_NMETRIC];
} plot_point;

/* What summary.json says of one seed (train writes it beside metrics.csv). */
typedef struct plot_seed_info {
    long seed;
    int diverged, interrupted;
} plot_seed_info;

typedef struct plot_run {
    char label[256];
    plot_row *rows;
    size_t nrows, cap;
    plot_point *curve;
    size_t ncurve;
    /* Per-seed flags from summary.json (NULL when there is none, or it cannot be read: then metrics.csv alone
     * decides, see plot_aggregate). */
    plot_seed_info *info;
    int ninfo;
    int nseed;             /* seeds with rows in metrics.csv */
    int ndiverged;         /* of those, diverged */
    int ninterrupted;      /* of those, stopped by a signal before their last step */
    long last_step;        /* the largest final step over seeds */
    double final[4][2];    /* loss, test_acc, grad_l1, grad_l2 of each finished seed's last row: mean, std (n-1) */
    int final_n[4];        /* finished seeds with a value */
    double final_bits;     /* mean bits_up of the finished seeds' last rows (NaN when none finished) */
    int has[PLOT_NMETRIC]; /* some row holds a finite value */
    /* summary.json "final_stats_finite" (loss, test_acc, grad_l1, grad_l2: mean, std, n), which
     * train computed by the same stats7 from full-precision values; has_rec 0 when there is none. */
    double rec_final[4][2];
    int rec_n[4], has_rec;
} plot_run;

/* Read path into r->rows. Returns 0, or prints "signopt plot: FILE:LINE: ..." and returns 1. */
int plot_read_csv(plot_run *r, const char *path);
/* Fill curve, final and has from rows; x from the given axis. The final statistics are over the seeds that
 * finished, as train's results table and summary.json "final_stats_finite" count them: a diverged or an
 * interrupted seed is left out. They are stats7 of metrics.csv's values, except that where the recorded
 * statistics (rec_*) are over as many seeds and have the same mean to 7 digits, those are shown: metrics.csv
 * keeps 9 significant digits, which leaves a std much smaller than the mean with fewer than the 6 printed.
 * Returns 0 or 1 (message printed). */
int plot_aggregate(plot_run *r, int xaxis);

/* ---- sweeps: DIR/sweep.csv (and DIR/summary.json for the cells' status) ---- */

#define PLOT_MAX_DIMS 8
#define PLOT_VAL_LEN 64

enum { PLOT_CELL_DONE, PLOT_CELL_INTERRUPTED, PLOT_CELL_NOT_RUN };

typedef struct plot_cell {
    char val[PLOT_MAX_DIMS][PLOT_VAL_LEN]; /* each grid dimension's value, as sweep.csv spells it */
    int status;                            /* PLOT_CELL_*, or -1: not known yet (plot_sweep_aggregate decides) */
    int order;                             /* position in grid order (summary.json's "cells") */
    int nrows, ndiverged, ninterrupted;    /* seeds in sweep.csv; of them diverged, interrupted */
    double loss_st[2], acc_st[2];          /* final loss, test acc: mean, std (n-1) over the finished seeds */
    int loss_n, acc_n;                     /* how many values each is over */
    double rec_loss[2];                    /* summary.json's loss_mean, loss_std (over all seeds; full precision) */
    int has_rec;
} plot_cell;

/* One sweep.csv row. */
typedef struct plot_sweep_row {
    int cell;
    double loss, acc;
    int diverged, interrupted;
} plot_sweep_row;

typedef struct plot_sweep {
    char label[256];
    int ndim;
    char dim[PLOT_MAX_DIMS][PLOT_VAL_LEN]; /* the grid's flag names: sweep.csv's columns before "seed" */
    plot_cell *cells;
    int ncell, cap;
    plot_sweep_row *rows;
    size_t nrows, rcap;
    int seeds; /* seeds per cell: summary.json's "seeds", else (0) the most any cell has */
} plot_sweep;

/* Read path (sweep.csv) into s: one cell per distinct combination of grid values, in order of first appearance
 * (order = that position, status -1). Returns 0, or prints "signopt plot: FILE:LINE: ..." and returns 1. */
int plot_read_sweep(plot_sweep *s, const char *path);
/* Append a cell (zeroed, status not run); its index, or -1 out of memory. */
int plot_sweep_add(plot_sweep *s);
/* Each cell's statistics over its finished seeds (neither diverged nor interrupted), through cli/stats.h (or the
 * recorded loss_mean and loss_std of a cell where every seed finished, when they agree, as for runs). A cell
 * whose status is still -1 (summary.json did not say) is interrupted when a row says so or it has fewer seeds
 * than s->seeds, else done. Then the cells are sorted by order. Returns 0 or 1 (message printed). */
int plot_sweep_aggregate(plot_sweep *s);
void plot_sweep_free(plot_sweep *s);

#endif
