/* split.c — dealing a data set's rows to n workers: IID shards, or Dirichlet(alpha) label skew (Hsu, Qi, Brown
 * 2019, "Measuring the effects of non-identical data distribution for federated visual classification", in the
 * per-class form used by most federated-learning code: each class is divided among the workers in proportions
 * p ~ Dir(alpha, ..., alpha)). Small alpha gives each worker few classes; large alpha approaches IID.
 * All randomness comes from (seed, SO_STREAM_SPLIT): worker 0 = the IID shuffle, worker 1 step k = class k's
 * proportions and shuffle, worker 2 = the repair of empty shards. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/data.h"

int so_split_parse(so_split_config *s, const char *text)
{
    if (!s || !text) return so_error(SO_EINVAL, "so_split_parse: NULL argument");
    if (strcmp(text, "iid") == 0) {
        *s = (so_split_config){.dirichlet = 0, .alpha = 0.0};
        return SO_OK;
    }
    if (strncmp(text, "dirichlet:", 10) == 0) {
        const char *a = text + 10;
        char *end;
        errno = 0;
        double alpha = strtod(a, &end);
        if (end != a && *end == '\0' && errno == 0 && isfinite(alpha) && alpha > 0.0 && *a != ' ' && *a != '\t') {
            *s = (so_split_config){.dirichlet = 1, .alpha = alpha};
            return SO_OK;
        }
    }
    return so_error(SO_EINVAL, "split '%s': expected 'iid' or 'dirichlet:A' with A a finite number > 0", text);
}

void so_split_free(so_split *s)
{
    if (!s) return;
    free(s->off);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

/* Fisher-Yates: a uniformly random order of a[0..m). */
static void shuffle(uint32_t *a, size_t m, so_rng *r)
{
    for (size_t i = m; i > 1; i--) {
        size_t j = (size_t)so_rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* log of a Gamma(alpha, 1) draw. For alpha < 1 the draw itself can underflow to 0 (Gamma(a) = Gamma(a+1) U^(1/a)
 * with 1/a large), which would lose the proportions; in logs it cannot. */
static double log_gamma_draw(so_rng *r, double alpha)
{
    if (alpha >= 1.0) return log(so_rng_gamma(r, alpha));
    double u = so_rng_uniform(r);
    if (u <= 0.0) u = 0x1.0p-53;
    return log(so_rng_gamma(r, alpha + 1.0)) + log(u) / alpha;
}

/* owner[i] = the worker that receives row i, per class by Dirichlet proportions. members (N entries) is scratch:
 * the rows bucketed by class in ascending order, so the cost is O(N + classes * n). Returns 0, or -1 when out
 * of memory. */
static int dirichlet_owners(int *owner, const so_dataset *ds, int n, double alpha, uint64_t seed,
                            uint32_t *members, double *logp)
{
    size_t *start = calloc((size_t)ds->classes + 1, sizeof *start);
    if (!start) return -1;
    for (size_t i = 0; i < ds->n; i++) start[ds->y[i] + 1]++;
    for (int k = 0; k < ds->classes; k++) start[k + 1] += start[k];
    for (size_t i = 0; i < ds->n; i++) members[start[ds->y[i]]++] = (uint32_t)i;
    /* start[k] now holds the end of class k; class k is members[start[k] - nk .. start[k]). */
    for (int k = 0; k < ds->classes; k++) {
        size_t end = start[k], nk = end - (k ? start[k - 1] : 0);
        uint32_t *rows = members + (end - nk);
        if (!nk) continue;
        so_rng r;
        so_rng_init(&r, seed, 1, (uint32_t)k, SO_STREAM_SPLIT);
        double top = -INFINITY, sum = 0.0;
        for (int j = 0; j < n; j++) {
            logp[j] = log_gamma_draw(&r, alpha);
            if (logp[j] > top) top = logp[j];
        }
        for (int j = 0; j < n; j++) sum += logp[j] = exp(logp[j] - top);
        shuffle(rows, nk, &r);
        /* Cut the shuffled class at the rounded cumulative proportions, so the parts add up to nk exactly. */
        double cum = 0.0;
        size_t from = 0;
        for (int j = 0; j < n; j++) {
            cum += logp[j] / sum;
            size_t to = j == n - 1 ? nk : (size_t)floor(cum * (double)nk + 0.5);
            if (to > nk) to = nk;
            if (to < from) to = from;
            for (size_t m = from; m < to; m++) owner[rows[m]] = j;
            from = to;
        }
    }
    free(start);
    return 0;
}

/* Workers draw minibatches from their shard, so none may be empty. While one is, it takes a row chosen at random
 * from the largest shard (lowest worker id on ties). With N >= n rows the largest shard holds >= 2 rows whenever
 * some shard is empty (pigeonhole), so each move fills one empty shard and empties none: at most n - 1 moves,
 * each O(n + N). */
static void fill_empty_shards(int *owner, size_t *count, size_t rows, int n, uint64_t seed)
{
    so_rng r;
    so_rng_init(&r, seed, 2, 0, SO_STREAM_SPLIT);
    for (int j = 0; j < n; j++) {
        if (count[j]) continue;
        int donor = 0;
        for (int q = 1; q < n; q++)
            if (count[q] > count[donor]) donor = q;
        size_t pick = (size_t)so_rng_below(&r, count[donor]);
        for (size_t i = 0; i < rows; i++) {
            if (owner[i] != donor) continue;
            if (pick-- == 0) {
                owner[i] = j;
                break;
            }
        }
        count[donor]--;
        count[j]++;
    }
}

int so_split_make(so_split *out, const so_dataset *ds, int n, const so_split_config *cfg, uint64_t seed)
{
    if (!out || !ds) return so_error(SO_EINVAL, "so_split_make: NULL argument");
    memset(out, 0, sizeof *out);
    int dirichlet = cfg && cfg->dirichlet;
    if (n < 1 || ds->n < (size_t)n || ds->n > UINT32_MAX)
        return so_error(SO_EINVAL, "split of %zu rows over %d workers: expected 1 <= workers <= rows < 2^32", ds->n,
                        n);
    if (dirichlet && !(cfg->alpha > 0.0 && isfinite(cfg->alpha)))
        return so_error(SO_EINVAL, "dirichlet split: expected alpha > 0, found %g", cfg->alpha);
    if (dirichlet) {
        if (!ds->y || ds->classes < 1) return so_error(SO_EINVAL, "dirichlet split: the data set has no labels");
        for (size_t i = 0; i < ds->n; i++)
            if (ds->y[i] < 0 || ds->y[i] >= ds->classes)
                return so_error(SO_EINVAL, "dirichlet split: row %zu has label %d outside 0..%d", i, (int)ds->y[i],
                                ds->classes - 1);
    }
    so_split s = {.n = n};
    s.off = malloc(((size_t)n + 1) * sizeof *s.off);
    s.idx = malloc(ds->n * sizeof *s.idx);
    if (!s.off || !s.idx) {
        so_split_free(&s);
        return so_error(SO_ENOMEM, "split: out of memory for %zu rows", ds->n);
    }
    if (!dirichlet) {
        /* A seeded shuffle dealt into n consecutive shards whose sizes differ by at most one. */
        so_rng r;
        so_rng_init(&r, seed, 0, 0, SO_STREAM_SPLIT);
        for (size_t i = 0; i < ds->n; i++) s.idx[i] = (uint32_t)i;
        shuffle(s.idx, ds->n, &r);
        for (int j = 0; j <= n; j++) s.off[j] = (size_t)j * ds->n / (size_t)n;
        *out = s;
        return SO_OK;
    }
    int *owner = malloc(ds->n * sizeof *owner);
    size_t *count = calloc((size_t)n, sizeof *count);
    double *logp = malloc((size_t)n * sizeof *logp);
    if (!owner || !count || !logp) {
        free(owner);
        free(count);
        free(logp);
        so_split_free(&s);
        return so_error(SO_ENOMEM, "split: out of memory for %zu rows", ds->n);
    }
    /* s.idx doubles as the scratch list of one class's rows; it is overwritten below. */
    if (dirichlet_owners(owner, ds, n, cfg->alpha, seed, s.idx, logp)) {
        free(owner);
        free(count);
        free(logp);
        so_split_free(&s);
        return so_error(SO_ENOMEM, "split: out of memory for %d classes", ds->classes);
    }
    for (size_t i = 0; i < ds->n; i++) count[owner[i]]++;
    fill_empty_shards(owner, count, ds->n, n, seed);
    s.off[0] = 0;
    for (int j = 0; j < n; j++) s.off[j + 1] = s.off[j] + count[j];
    for (int j = 0; j < n; j++) count[j] = s.off[j];
    for (size_t i = 0; i < ds->n; i++) s.idx[count[owner[i]]++] = (uint32_t)i;
    free(owner);
    free(count);
    free(logp);
    *out = s;
    return SO_OK;
}
