/* theory.c — step size and momentum chosen by a theorem from T, d, n, L (docs/algorithms.md, "Theory presets", and
 * the mvsm presets of 000 Thm 3/4/5). beta is always the weight of the OLD momentum value, so 000's beta
 * (the weight of the NEW gradient) becomes 1 - beta here. Where a theorem only says "eta proportional to",
 * in->c is the constant; where it gives eta exactly, c multiplies it too (c = 1: the paper's value). */
#include <math.h>
#include <string.h>
#include "signopt/optim.h"

static const char *const theory_names[] = {"001-thm1", "001-thm2", "000-thm1", "000-thm2", "000-thm3",
                                           "000-thm4", "000-thm5", "003-thm1", NULL};

const char *const *so_theory_names(void) { return theory_names; }

static int need_positive(const char *name, const char *what, double v)
{
    if (!(v > 0.0) || !isfinite(v)) return so_error(SO_EINVAL, "theory preset %s: %s must be > 0", name, what);
    return SO_OK;
}

int so_theory_preset(const char *name, const so_theory_input *in, double *lr, double *beta)
{
    if (!name || !in || !lr || !beta) return so_error(SO_EINVAL, "theory preset: NULL argument");
    if (in->T < 1) return so_error(SO_EINVAL, "theory preset %s: T must be >= 1 (got %ld)", name, in->T);
    if (need_positive(name, "c", in->c) != SO_OK) return SO_EINVAL;
    const double T = (double)in->T, d = (double)in->d, c = in->c;
    double eta, b;
    if (strcmp(name, "001-thm1") == 0) {
        /* 001 Thm 1 (signSGD-SIM): gamma = 1 / (L T^{3/4}), theta = 1 - 1/sqrt(T). */
        if (need_positive(name, "L", in->L) != SO_OK) return SO_EINVAL;
        eta = c / (in->L * pow(T, 0.75));
        b = 1.0 - 1.0 / sqrt(T);
    } else if (strcmp(name, "001-thm2") == 0) {
        /* 001 Thm 2 (scheme (4), signum-nesterov): theta = 1 - T^{-4/7}, gamma = 1 / (max(sqrt(rho), L) T^{5/7}). */
        if (!(in->rho >= 0.0)) return so_error(SO_EINVAL, "theory preset %s: rho must be >= 0", name);
        double scale = fmax(sqrt(in->rho), in->L);
        if (need_positive(name, "max(sqrt(rho), L)", scale) != SO_OK) return SO_EINVAL;
        eta = c / (scale * pow(T, 5.0 / 7.0));
        b = 1.0 - pow(T, -4.0 / 7.0);
    } else if (strcmp(name, "000-thm1") == 0) {
        /* 000 Thm 1 (Signum): 1 - beta = T^{-1/2}, eta = c T^{-3/4}. */
        eta = c * pow(T, -0.75);
        b = 1.0 - 1.0 / sqrt(T);
    } else if (strcmp(name, "000-thm2") == 0) {
        /* 000 Thm 2 (Signum, l2 assumptions: one L, total variance sigma^2): 1 - beta = T^{-1/2}, eta = c d^{-1/2} T^{-3/4}. */
        if (need_positive(name, "d", d) != SO_OK) return SO_EINVAL;
        eta = c / sqrt(d) * pow(T, -0.75);
        b = 1.0 - 1.0 / sqrt(T);
    } else if (strcmp(name, "000-thm3") == 0) {
        /* 000 Thm 3 (MVSM v1): 000's beta = 1/2, so beta = 1/2; eta = c / sqrt(T d). */
        if (need_positive(name, "d", d) != SO_OK) return SO_EINVAL;
        eta = c / sqrt(T * d);
        b = 0.5;
    } else if (strcmp(name, "000-thm4") == 0) {
        /* 000 Thm 4 (MVSM v1): beta = 1/2, eta = c n^{-1/2}. */
        if (need_positive(name, "n", (double)in->n) != SO_OK) return SO_EINVAL;
        eta = c / sqrt((double)in->n);
        b = 0.5;
    } else if (strcmp(name, "000-thm5") == 0) {
        /* 000 Thm 5 (MVSM v2): eta = c min(T^{-1/2} d^{-1/2}, T^{-3/5} d^{-1/5}); 000's beta = eta^{2/3} d^{1/3},
         * so beta = 1 - eta^{2/3} d^{1/3}. With c = 1 that weight is at most T^{-1/3} <= 1. */
        if (need_positive(name, "d", d) != SO_OK) return SO_EINVAL;
        eta = c * fmin(pow(T, -0.5) * pow(d, -0.5), pow(T, -0.6) * pow(d, -0.2));
        b = 1.0 - pow(eta, 2.0 / 3.0) * cbrt(d);
    } else if (strcmp(name, "003-thm1") == 0) {
        /* 003 Thm 1, arbitrary tuning (M-SignSGD): gamma = gamma_0 T^{-3/4} (gamma_0 = c), beta = 1 - 1/sqrt(T). */
        eta = c * pow(T, -0.75);
        b = 1.0 - 1.0 / sqrt(T);
    } else {
        return so_error(SO_EINVAL, "unknown theory preset '%s': expected 001-thm1, 001-thm2, 000-thm1, 000-thm2, "
                                   "000-thm3, 000-thm4, 000-thm5 or 003-thm1", name);
    }
    if (!(b >= 0.0 && b < 1.0))
        return so_error(SO_EINVAL, "theory preset %s: momentum beta = %g falls outside [0, 1) for these inputs",
                        name, b);
    *lr = eta;
    *beta = b;
    return SO_OK;
}
