/* plot_csv.c — metrics.csv and sweep.csv for `signopt plot`: strict readers (a wrong header, a short row or a
 * non-number is an error naming FILE:LINE) and the statistics over seeds that the curves and the tables show,
 * computed by cli/stats.c like train's and sweep's own, so the numbers agree. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "plot.h"
#include "stats.h"

/* Columns the plot reads from metrics.csv, found by name in the header. */
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

/* A number as train and sweep write them (%.9g; "inf" and "nan" for a diverged seed). */
static int parse_num(const char *s, double *v)
{
    if (!*s) return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno != ERANGE;
}

/* An integer >= 0 (a seed, a step) kept exactly in a double. */
static int parse_count(const char *s, double *v)
{
    return parse_num(s, v) && *v >= 0 && *v == floor(*v) && *v < 9e15;
}

/* Open a file that must be a regular one: a directory or a FIFO named like the CSV is refused, not read as empty
 * (or waited on forever). */
static FILE *open_regular(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "signopt plot: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "signopt plot: %s: not a regular file\n", path);
        fclose(f);
        return NULL;
    }
    return f;
}

/* The next line without its line ending; -1 at the end. Blank lines after the header are skipped. */
static long next_line(FILE *f, char **line, size_t *cap, long *lineno)
{
    for (;;) {
        if (getline(line, cap, f) == -1) return -1;
        ++*lineno;
        size_t len = strlen(*line);
        while (len && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r')) (*line)[--len] = '\0';
        if (*lineno > 1 && len == 0) continue;
        return (long)len;
    }
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
    FILE *f = open_regular(path);
    if (!f) return 1;
    char *line = NULL, *fld[MAX_FIELDS + 1];
    size_t cap = 0;
    long lineno = 0;
    int idx[NCOL], nhead = 0, code = 0;
    while (!code && next_line(f, &line, &cap, &lineno) >= 0) {
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
            int ok = c <= C_STEP ? parse_count(s, &v[c]) : parse_num(s, &v[c]);
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

/* Mean and std (n-1) of v[0..n) by stats7, the function train's table and summary.json use; returns how many
 * values were not NaN. finite_only drops ±inf first (the curves: a diverged seed's step has no value). */
static int mean_std(double *v, int n, int finite_only, double out[2])
{
    if (finite_only) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (isfinite(v[i])) v[m++] = v[i];
        n = m;
    }
    double st[7];
    int k = stats7(v, n, st);
    out[0] = st[0];
    out[1] = st[1];
    return k;
}

/* The recorded statistics rec (mean, std; over rec_n values) in place of st (over n), when they describe the same
 * values: as many, and the same mean to well within the CSV's 9 digits. The std is what differs: the recorded one
 * is from full-precision values. */
static void prefer_recorded(double st[2], int n, const double rec[2], int rec_n)
{
    if (n == 0 || rec_n != n || !isfinite(rec[0]) || !isfinite(rec[1]) || !isfinite(st[0])) return;
    if (fabs(rec[0] - st[0]) > 1e-7 * fmax(fabs(rec[0]), fabs(st[0])) + 1e-300) return;
    st[0] = rec[0];
    st[1] = rec[1];
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

static const plot_seed_info *info_of(const plot_run *r, long seed)
{
    for (int i = 0; i < r->ninfo; i++)
        if (r->info[i].seed == seed) return &r->info[i];
    return NULL;
}

int plot_aggregate(plot_run *r, int xaxis)
{
    size_t n = r->nrows;
    double *v = malloc(n * sizeof *v);
    plot_row *last = malloc(n * sizeof *last), *first = malloc(n * sizeof *first);
    int *state = malloc(n * sizeof *state); /* per seed: 0 finished, 1 diverged, 2 interrupted */
    r->curve = malloc(n * sizeof *r->curve);
    if (!v || !last || !first || !state || !r->curve) {
        free(v);
        free(last);
        free(first);
        free(state);
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    /* Each seed's first and last rows (qsort is not stable, so sort on (seed, step)). */
    qsort(r->rows, n, sizeof *r->rows, by_seed);
    int nl = 0;
    r->last_step = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || r->rows[i - 1].seed != r->rows[i].seed) first[nl] = r->rows[i];
        if (i + 1 == n || r->rows[i + 1].seed != r->rows[i].seed) {
            last[nl++] = r->rows[i];
            if (r->rows[i].step > r->last_step) r->last_step = r->rows[i].step;
        }
    }
    r->nseed = nl;
    /* Which seeds finished. summary.json says it per seed; without it, metrics.csv tells a diverged seed by its
     * last row (train writes the divergence as a row whose loss, or a gradient norm the seed measured before, is
     * not finite) and an interrupted one by its last step falling short of the other seeds' (a run stopped in
     * its only seed cannot be told from one that ran its full --steps). */
    long full = -1;
    for (int i = 0; i < nl; i++) {
        const plot_seed_info *in = info_of(r, last[i].seed);
        int div = in ? in->diverged
                     : !isfinite(last[i].v[PLOT_LOSS]) ||
                           (!isfinite(last[i].v[PLOT_GRAD_L1]) && isfinite(first[i].v[PLOT_GRAD_L1])) ||
                           (!isfinite(last[i].v[PLOT_GRAD_L2]) && isfinite(first[i].v[PLOT_GRAD_L2]));
        state[i] = div ? 1 : in && in->interrupted ? 2 : 0;
        if (!div && !in && last[i].step > full) full = last[i].step;
    }
    for (int i = 0; i < nl; i++)
        if (state[i] == 0 && !info_of(r, last[i].seed) && last[i].step < full) state[i] = 2;
    r->ndiverged = r->ninterrupted = 0;
    for (int i = 0; i < nl; i++) {
        r->ndiverged += state[i] == 1;
        r->ninterrupted += state[i] == 2;
    }
    /* The table: each finished seed's last row, as train's results table and "final_stats_finite" take them. */
    static const int table_metric[4] = {PLOT_LOSS, PLOT_TEST_ACC, PLOT_GRAD_L1, PLOT_GRAD_L2};
    for (int k = 0; k < 4; k++) {
        int m = 0;
        for (int i = 0; i < nl; i++)
            if (state[i] == 0) v[m++] = last[i].v[table_metric[k]];
        r->final_n[k] = mean_std(v, m, 0, r->final[k]);
        if (r->has_rec) prefer_recorded(r->final[k], r->final_n[k], r->rec_final[k], r->rec_n[k]);
    }
    double st[2];
    int m = 0;
    for (int i = 0; i < nl; i++)
        if (state[i] == 0) v[m++] = last[i].bits_up;
    mean_std(v, m, 0, st);
    r->final_bits = st[0];

    /* Curves: every evaluated step, over the seeds that reached it and have a finite value there. */
    qsort(r->rows, n, sizeof *r->rows, by_step);
    r->ncurve = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && r->rows[j].step == r->rows[i].step) j++;
        plot_point *p = &r->curve[r->ncurve++];
        int g = (int)(j - i);
        for (int mm = 0; mm < PLOT_NMETRIC; mm++) {
            double ms[2];
            for (int k = 0; k < g; k++) v[k] = r->rows[i + (size_t)k].v[mm];
            if (mean_std(v, g, 1, ms)) r->has[mm] = 1;
            p->mean[mm] = ms[0];
            p->std[mm] = ms[1];
        }
        for (int k = 0; k < g; k++)
            v[k] = xaxis == PLOT_X_BITS ? r->rows[i + (size_t)k].bits_up
                 : xaxis == PLOT_X_EPOCH ? r->rows[i + (size_t)k].epoch : (double)r->rows[i].step;
        mean_std(v, g, 1, st);
        p->x = st[0];
        i = j;
    }
    free(v);
    free(last);
    free(first);
    free(state);
    return 0;
}

/* ---- sweep.csv: the grid's columns, then seed,final_loss,test_acc,grad_l1,diverged,interrupted ---- */

enum { W_SEED, W_LOSS, W_ACC, W_L1, W_DIV, W_INT, NWCOL };
static const char *const wcol_names[NWCOL] = {"seed", "final_loss", "test_acc", "grad_l1", "diverged",
                                              "interrupted"};

int plot_sweep_add(plot_sweep *s)
{
    if (s->ncell == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        plot_cell *q = realloc(s->cells, (size_t)cap * sizeof *q);
        if (!q) return -1;
        s->cells = q;
        s->cap = cap;
    }
    plot_cell *c = &s->cells[s->ncell];
    memset(c, 0, sizeof *c);
    c->status = PLOT_CELL_NOT_RUN;
    c->order = s->ncell;
    return s->ncell++;
}

static int push_sweep_row(plot_sweep *s, const plot_sweep_row *row)
{
    if (s->nrows == s->rcap) {
        size_t cap = s->rcap ? 2 * s->rcap : 256;
        plot_sweep_row *q = realloc(s->rows, cap * sizeof *q);
        if (!q) return -1;
        s->rows = q;
        s->rcap = cap;
    }
    s->rows[s->nrows++] = *row;
    return 0;
}

/* The cell of a row's grid values (fld[0..ndim)), added when new; -1 out of memory. */
static int cell_of(plot_sweep *s, char **fld)
{
    for (int c = s->ncell - 1; c >= 0; c--) { /* rows of a cell are adjacent: look at the newest first */
        int k = 0;
        while (k < s->ndim && strcmp(s->cells[c].val[k], fld[k]) == 0) k++;
        if (k == s->ndim) return c;
    }
    int c = plot_sweep_add(s);
    if (c < 0) return -1;
    for (int k = 0; k < s->ndim; k++) snprintf(s->cells[c].val[k], PLOT_VAL_LEN, "%s", fld[k]);
    s->cells[c].status = -1;
    return c;
}

int plot_read_sweep(plot_sweep *s, const char *path)
{
    FILE *f = open_regular(path);
    if (!f) return 1;
    char *line = NULL, *fld[MAX_FIELDS + 1];
    size_t cap = 0;
    long lineno = 0;
    int idx[NWCOL], nhead = 0, code = 0;
    while (!code && next_line(f, &line, &cap, &lineno) >= 0) {
        int n = split(line, fld);
        if (lineno == 1) {
            nhead = n;
            for (int c = 0; c < NWCOL && !code; c++) {
                idx[c] = -1;
                for (int k = 0; k < n && k < MAX_FIELDS; k++)
                    if (strcmp(fld[k], wcol_names[c]) == 0) idx[c] = k;
                if (idx[c] < 0) {
                    fprintf(stderr, "signopt plot: %s:1: the header lacks column '%s' (expected the sweep.csv "
                                    "header GRID...,seed,final_loss,test_acc,grad_l1,diverged,interrupted)\n",
                            path, wcol_names[c]);
                    code = 1;
                }
            }
            /* The grid's dimensions are the columns before "seed", as sweep writes them. */
            s->ndim = code ? 0 : idx[W_SEED];
            if (!code && (s->ndim < 1 || s->ndim > PLOT_MAX_DIMS)) {
                fprintf(stderr, "signopt plot: %s:1: expected 1 to %d grid columns before 'seed', got %d\n", path,
                        PLOT_MAX_DIMS, s->ndim);
                code = 1;
            }
            for (int k = 0; !code && k < s->ndim; k++) {
                if (!*fld[k] || strlen(fld[k]) >= PLOT_VAL_LEN) {
                    fprintf(stderr, "signopt plot: %s:1: grid column %d: expected a flag name of 1 to %d "
                                    "characters, got '%s'\n", path, k + 1, PLOT_VAL_LEN - 1, fld[k]);
                    code = 1;
                }
                snprintf(s->dim[k], PLOT_VAL_LEN, "%s", fld[k]);
            }
            continue;
        }
        if (n != nhead) {
            fprintf(stderr, "signopt plot: %s:%ld: expected %d fields as in the header, got %d\n", path, lineno,
                    nhead, n);
            code = 1;
            break;
        }
        for (int k = 0; k < s->ndim && !code; k++)
            if (!*fld[k] || strlen(fld[k]) >= PLOT_VAL_LEN) {
                fprintf(stderr, "signopt plot: %s:%ld: column '%s': expected a value of 1 to %d characters, "
                                "got '%s'\n", path, lineno, s->dim[k], PLOT_VAL_LEN - 1, fld[k]);
                code = 1;
            }
        double v[NWCOL];
        for (int c = 0; c < NWCOL && !code; c++) {
            const char *t = fld[idx[c]];
            if (c == W_ACC && !*t) {
                v[c] = NAN; /* a problem without test accuracy */
                continue;
            }
            int ok = c == W_SEED ? parse_count(t, &v[c])
                   : c == W_DIV || c == W_INT ? strcmp(t, "0") == 0 || strcmp(t, "1") == 0
                   : parse_num(t, &v[c]);
            if (c == W_DIV || c == W_INT) v[c] = t[0] == '1';
            if (!ok) {
                fprintf(stderr, "signopt plot: %s:%ld: column '%s': expected %s, got '%s'\n", path, lineno,
                        wcol_names[c], c == W_SEED ? "an integer >= 0" : c >= W_DIV ? "0 or 1" : "a number", t);
                code = 1;
            }
        }
        if (code) break;
        plot_sweep_row row = {cell_of(s, fld), v[W_LOSS], v[W_ACC], (int)v[W_DIV], (int)v[W_INT]};
        if (row.cell < 0 || push_sweep_row(s, &row)) {
            fprintf(stderr, "signopt plot: out of memory\n");
            code = 1;
        }
    }
    if (!code && lineno == 0) {
        fprintf(stderr, "signopt plot: %s:1: empty file, expected the sweep.csv header\n", path);
        code = 1;
    }
    /* A sweep interrupted before its first seed finished has a header and no rows: its cells are all "not run"
     * (summary.json lists them). */
    free(line);
    fclose(f);
    return code;
}

static int by_order(const void *a, const void *b)
{
    const plot_cell *x = a, *y = b;
    return (x->order > y->order) - (x->order < y->order);
}

int plot_sweep_aggregate(plot_sweep *s)
{
    double *loss = malloc((s->nrows ? s->nrows : 1) * sizeof *loss);
    double *acc = malloc((s->nrows ? s->nrows : 1) * sizeof *acc);
    if (!loss || !acc) {
        free(loss);
        free(acc);
        fprintf(stderr, "signopt plot: out of memory\n");
        return 1;
    }
    int most = 0;
    for (int c = 0; c < s->ncell; c++) {
        plot_cell *cell = &s->cells[c];
        int m = 0;
        cell->nrows = cell->ndiverged = cell->ninterrupted = 0;
        for (size_t i = 0; i < s->nrows; i++) {
            const plot_sweep_row *r = &s->rows[i];
            if (r->cell != c) continue;
            cell->nrows++;
            cell->ndiverged += r->diverged;
            cell->ninterrupted += r->interrupted;
            /* Finished seeds only: sweep's own loss_mean counts a diverged seed as +inf; this is its
             * loss_mean_finite, with the std beside it. */
            if (r->diverged || r->interrupted) continue;
            loss[m] = r->loss;
            acc[m++] = r->acc;
        }
        cell->loss_n = mean_std(loss, m, 0, cell->loss_st);
        cell->acc_n = mean_std(acc, m, 0, cell->acc_st);
        /* sweep's loss_std is over all seeds (a diverged one as +inf): the same values only when all finished. */
        if (cell->has_rec && cell->loss_n == cell->nrows)
            prefer_recorded(cell->loss_st, cell->loss_n, cell->rec_loss, cell->loss_n);
        if (cell->nrows > most) most = cell->nrows;
    }
    int seeds = s->seeds > 0 ? s->seeds : most;
    for (int c = 0; c < s->ncell; c++) {
        plot_cell *cell = &s->cells[c];
        if (cell->status >= 0) continue;
        cell->status = cell->ninterrupted > 0 || cell->nrows < seeds ? PLOT_CELL_INTERRUPTED : PLOT_CELL_DONE;
    }
    free(loss);
    free(acc);
    /* Rows name cells by index: sorting invalidates them, and they are not needed after this. */
    free(s->rows);
    s->rows = NULL;
    s->nrows = s->rcap = 0;
    qsort(s->cells, (size_t)s->ncell, sizeof *s->cells, by_order);
    return 0;
}

void plot_sweep_free(plot_sweep *s)
{
    free(s->cells);
    free(s->rows);
    memset(s, 0, sizeof *s);
}
