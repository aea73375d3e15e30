/* stats.h — statistics across seeds, shared by train, sweep and plot. */
#ifndef SIGNOPT_CLI_STATS_H
#define SIGNOPT_CLI_STATS_H

/* Sample statistics of v[0..n) (NaNs skipped, +-inf kept): mean, std (n-1 denominator; 0 for one value), min, q10,
 * median, q90, max (linear interpolation between order statistics). Returns how many values were not NaN. */
int stats7(const double *v, int n, double out[7]);
extern const char *const stat_names[7];

#endif
