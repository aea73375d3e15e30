/* stats.c — the statistics across seeds that train, sweep and plot print: one implementation, so a run's mean and
 * standard deviation read the same in the table, in summary.json and in `signopt plot`. */
#include <math.h>
#include <stdlib.h>
#include "stats.h"

const char *const stat_names[7] = {"mean", "std", "min", "q10", "median", "q90", "max"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return sorted[n - 1];
    double frac = pos - i;
    /* Equal neighbours (two diverged seeds' +inf) would give inf - inf = NaN. */
    if (frac == 0.0 || sorted[i] == sorted[i + 1]) return sorted[i];
    return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

int stats7(const double *v, int n, double out[7])
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    int m = 0;
    for (int i = 0; s && i < n; i++)
        if (!isnan(v[i])) s[m++] = v[i];
    for (int k = 0; k < 7; k++) out[k] = NAN;
    if (!s || m == 0) {
        free(s);
        return 0;
    }
    qsort(s, (size_t)m, sizeof *s, cmp_double);
    double sum = 0;
    for (int i = 0; i < m; i++) sum += s[i];
    double mean = sum / m, ss = 0;
    for (int i = 0; i < m; i++) ss += (s[i] - mean) * (s[i] - mean);
    out[0] = mean;
    out[1] = m > 1 ? sqrt(ss / (m - 1)) : 0.0;
    out[2] = s[0];
    out[3] = quantile(s, m, 0.1);
    out[4] = quantile(s, m, 0.5);
    out[5] = quantile(s, m, 0.9);
    out[6] = s[m - 1];
    free(s);
    return m;
}

