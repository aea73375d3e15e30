/* plot_csv.c — metrics.csv for `signopt plot`: a strict reader (a wrong header, a short row or a non-number is
 * an error naming FILE:LINE) and the statistics over seeds that the curves and the table show. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plot.h"

/* Columns the plot reads, found by name in the header. */
enum { C_SEED, C_STEP, C_EPOCH, C_BITS, C_LOSS, C_TEST, C_TRAIN, C_L1, C_L2, NCOL };
static const char *const col_names[NCOL] = {"seed", "step", "epoch", "bits_up", "loss",
                                            "test_acc", "train_acc", "grad_l1", "grad_l2"};
/* The metric slot of a column (the accuracies may be empty: problems without them). */
static const int col_metric[NCOL] = {-1, -1, -1, -1, PLOT_LOSS, PLOT_TEST_ACC, PLOT_TRAIN_ACC, PLOT_GRAD_L1,
                                     PLOT_GRAD_L2};

#define MAX_FIELDS 64

/* Split line in place at commas; returns the field count (MAX_FIELDS + 1 when there are too many). */
static int split(char *line, char **f)
{
    int n = 0;
    for (char *s = line;; n++) {
        if (n == MAX_FIELDS) return MAX_FIELDS + 1;
        f[n] = s;
        char *c = strchr(s, ',');
        if (!c) return n + 1;
        *c = '\0';
        s = c + 1;
    }
}

static int parse_num(const char *s, double *v)
{
    if (!*s) return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno != ERANGE;
}

static int push(plot_run *r, const plot_row *row)
{
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        plot_row *q = realloc(r->rows, cap * sizeof *q);
        if (!q) return -1;
        r->rows = q;
        r->cap = cap;
    }
    r->rows[r->nrows++] = *row;
    return 0;
}

int plot_read_csv(plot_run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "signopt plot: %s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    char *line = NULL, *fld[MAX_FIELDS + 1];
    size_t cap = 0;
    long lineno = 0;
    int idx[NCOL], nhead = 0, code = 0;
    while (!code && getline(&line, &cap, f) != -1) {
        lineno++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (lineno > 1 && len == 0) continue;
        int n = split(line, fld);
        if (lineno == 1) {
            nhead = n;
            for (int c = 0; c < NCOL && !code; c++) {
                idx[c] = -1;
                for (int k = 0; k < n && k < MAX_FIELDS; k++)
                    if (strcmp(fld[k], col_names[c]) == 0) idx[c] = k;
                if (idx[c] < 0) {
                    fprintf(stderr, "signopt plot: %s:1: the header lacks column '%s' (expected the metrics.csv "
                                    "header seed,step,epoch,loss,...)\n", path, col_names[c]);
                    code = 1;
                }
            }
            continue;
        }
        if (n != nhead) {
            fprintf(stderr, "signopt plot: %s:%ld: expected %d fields as in the header, got %d\n", path, lineno,
                    nhead, n);
            code = 1;
            break;
        }
        plot_row row;
        double v[NCOL];
        for (int c = 0; c < NCOL; c++) {
            const char *s = fld[idx[c]];
            int m = col_metric[c];
            if (!*s && (m == PLOT_TEST_ACC || m == PLOT_TRAIN_ACC)) {
                v[c] = NAN;
                continue;
            }
            int ok = parse_num(s, &v[c]);
            if (ok && c <= C_STEP) ok = v[c] >= 0 && v[c] == floor(v[c]) && v[c] < 9e15;
            if (!ok) {
                fprintf(stderr, "signopt plot: %s:%ld: column '%s': expected %s, got '%s'\n", path, lineno,
                        col_names[c], c <= C_STEP ? "an integer >= 0" : "a number", s);
                code = 1;
                break;
            }
        }
        if (code) break;
        row.seed = (long)v[C_SEED];
        row.step = (long)v[C_STEP];
        row.epoch = v[C_EPOCH];
        row.bits_up = v[C_BITS];
        for (int c = C_LOSS; c < NCOL; c++) row.v[col_metric[c]] = v[c];
        if (push(r, &row)) {
            fprintf(stderr, "signopt plot: out of memory\n");
            code = 1;
        }
    }
    if (!code && lineno == 0) {
        fprintf(stderr, "signopt plot: %s:1: empty file, expected the metrics.csv header\n", path);
        code = 1;
    } else if (!code && r->nrows == 0) {
        fprintf(stderr, "signopt plot: %s:%ld: no data rows after the header\n", path, lineno + 1);
        code = 1;
    }
    free(line);
    fclose(f);
    return code;
}

/* Mean and sample std (n-1; 0 for one value) of the finite values; returns how many there were. */
static int mean_std(const double *v, int n, double *mean, double *std)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) { s += v[i]; k++; }
    *mean = k ? s / k : NAN;
    double q = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) q += (v[i] - *mean) * (v[i] - *mean);
    *std = k > 1 ? sqrt(q / (k - 1)) : k ? 0 : NAN;
    return k;
}

static int by_step(const void *a, const void *b)
{
    const plot_row *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    return (x->seed > y->seed) - (x->seed < y->seed);
}

static int by_seed(const void *a, const void *b)
{
    const plot_row *x = a, *y = b;
    if (x->seed != y->seed) return x->seed < y->seed ? -1 : 1;
    return (x->step > y->step) - (x->step < y->step);
}

int plot_aggregate(plot_run *r, int xaxis)
{
    size_t n = r->nrows;
    double *v = malloc(n * sizeof *v);
    plot_row *last = malloc(n * sizeof *last);
    r->curve = malloc(n * sizeof *r->curve);
    if (!v || !last || !r->curve) {
        free(v);
        free(last);
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    /* Final rows: each seed's largest step (mergesort-free: qsort is not stable, so sort on (seed, step)). */
    qsort(r->rows, n, sizeof *r->rows, by_seed);
    int nl = 0;
    r->last_step = 0;
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || r->rows[i + 1].seed != r->rows[i].seed) {
            last[nl++] = r->rows[i];
            if (r->rows[i].step > r->last_step) r->last_step = r->rows[i].step;
        }
    r->nseed = nl;
    static const int table_metric[4] = {PLOT_LOSS, PLOT_TEST_ACC, PLOT_GRAD_L1, PLOT_GRAD_L2};
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < nl; i++) v[i] = last[i].v[table_metric[k]];
        r->final_n[k] = mean_std(v, nl, &r->final[k][0], &r->final[k][1]);
    }
    double sd;
    for (int i = 0; i < nl; i++) v[i] = last[i].bits_up;
    mean_std(v, nl, &r->final_bits, &sd);

    /* Curves: every evaluated step, over the seeds that reached it. */
    qsort(r->rows, n, sizeof *r->rows, by_step);
    r->ncurve = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && r->rows[j].step == r->rows[i].step) j++;
        plot_point *p = &r->curve[r->ncurve++];
        int g = (int)(j - i);
        for (int m = 0; m < PLOT_NMETRIC; m++) {
            for (int k = 0; k < g; k++) v[k] = r->rows[i + (size_t)k].v[m];
            if (mean_std(v, g, &p->mean[m], &p->std[m])) r->has[m] = 1;
        }
        for (int k = 0; k < g; k++)
            v[k] = xaxis == PLOT_X_BITS ? r->rows[i + (size_t)k].bits_up
                 : xaxis == PLOT_X_EPOCH ? r->rows[i + (size_t)k].epoch : (double)r->rows[i].step;
        mean_std(v, g, &p->x, &sd);
        i = j;
    }
    free(v);
    free(last);
    return 0;
}
