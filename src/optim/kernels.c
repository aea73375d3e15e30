/* kernels.c — one fused streaming pass per optimizer rule over x, g and the rule's state.
 *
 * Each rule has an always-inline body taking lrv (per-coordinate rate multipliers, or NULL); the exported
 * kernel calls it once with the literal NULL and once with lrv, so the compiler emits a scalar-rate loop with
 * no load of lrv and no extra multiply, and a separate per-coordinate loop. The rules themselves, with their
 * sources, are documented in optim.c, which picks a kernel per id. */
#include <math.h>
#include "kernels.h"

#define SO_ALWAYS_INLINE static inline __attribute__((always_inline))

/* c + a*b rounded the way torch's CPU kernels round `add(c, b, alpha=a)` (Vectorized fmadd: one rounding) when
 * the target has a fast fused multiply-add, so sgd, sgdm, adam and adamw follow torch.optim bit for bit there;
 * elsewhere two roundings (at most half an ulp apart per step). Written out, not left to the compiler, which
 * -ffp-contract=off keeps from fusing anything else. */
static inline float torch_fmadd(float a, float b, float c)
{
#ifdef FP_FAST_FMAF
    return fmaf(a, b, c);
#else
    return a * b + c;
#endif
}

/* ---- Reductions with a fixed summation order ---- */

/* Chunk length for a fixed SO_REDUCE_CHUNKS split of n, rounded up to a multiple of 8 lanes. */
static size_t reduce_chunk(size_t n)
{
    size_t c = (n + SO_REDUCE_CHUNKS - 1) / SO_REDUCE_CHUNKS;
    return (c + 7) & ~(size_t)7;
}

/* sum |v[i]| over [lo, hi): eight independent lanes (so the loop pipelines) combined in a fixed tree. */
static double abs_sum_range(const float *restrict v, size_t lo, size_t hi)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        for (int k = 0; k < 8; k++) lane[k] += fabsf(v[i + k]);
    double tail = 0.0;
    for (; i < hi; i++) tail += fabsf(v[i]);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

double so_kernel_abs_sum(const float *restrict v, size_t n)
{
    const size_t chunk = reduce_chunk(n);
    double part[SO_REDUCE_CHUNKS];
#pragma omp parallel for schedule(static) if (n >= SO_OMP_MIN)
    for (int c = 0; c < SO_REDUCE_CHUNKS; c++) {
        size_t lo = (size_t)c * chunk, hi = lo + chunk;
        if (lo > n) lo = n;
        if (hi > n) hi = n;
        part[c] = abs_sum_range(v, lo, hi);
    }
    double total = 0.0;
    for (int c = 0; c < SO_REDUCE_CHUNKS; c++) total += part[c];
    return total;
}

/* ---- sgd: x <- x (1 - lr wd) - lr g ---- */

SO_ALWAYS_INLINE void sgd_body(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n,
                               double lr, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float keep = lrv ? 1.0f - lri * wd0 : keep0;
        x[i] = torch_fmadd(-lri, g[i], x[i] * keep); /* torch: param.add_(g, alpha=-lr) */
    }
}

void so_kernel_sgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n, double lr,
                   double wd)
{
    if (lrv) sgd_body(x, g, lrv, n, lr, wd);
    else sgd_body(x, g, NULL, n, lr, wd);
}

/* ---- sgdm: torch.optim.SGD with momentum; g <- g + wd x; b <- mu b + g (b_1 = g_1);
 *      x <- x - lr b, or with Nesterov x <- x - lr (g + mu b) ---- */

SO_ALWAYS_INLINE void sgdm_body(float *restrict x, float *restrict b, const float *restrict g,
                                const float *restrict lrv, size_t n, double lr, double mu, double wd, int nesterov,
                                int first)
{
    const float lr0 = (float)lr, mu0 = (float)mu, wd0 = (float)wd;
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float gi = torch_fmadd(wd0, x[i], g[i]); /* g.add(param, alpha=wd) */
        const float bi = first ? gi : mu0 * b[i] + gi;  /* buf.mul_(mu).add_(g) */
        b[i] = bi;
        const float di = nesterov ? torch_fmadd(mu0, bi, gi) : bi; /* g.add(buf, alpha=mu) */
        x[i] = torch_fmadd(-lri, di, x[i]);              /* param.add_(d, alpha=-lr) */
    }
}

void so_kernel_sgdm(float *restrict x, float *restrict b, const float *restrict g, const float *restrict lrv,
                    size_t n, double lr, double mu, double wd, int nesterov, int first)
{
    if (lrv) sgdm_body(x, b, g, lrv, n, lr, mu, wd, nesterov, first);
    else sgdm_body(x, b, g, NULL, n, lr, mu, wd, nesterov, first);
}

/* ---- adam / adamw: torch.optim.Adam (coupled decay) and AdamW (decoupled), in torch's operation order:
 *      x <- x (1 - lr wd_dec); g <- g + wd_cpl x; m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g g;
 *      x <- x - (step_size m) / (sqrt(v) / bc2_sqrt + eps) ---- */

SO_ALWAYS_INLINE void adam_body(float *restrict x, float *restrict m, float *restrict v, const float *restrict g,
                                const float *restrict lrv, size_t n, double lr, double step_size, double beta1,
                                double beta2, double eps, double bc2_sqrt, double wd_coupled, double wd_decoupled)
{
    const float lr0 = (float)lr, ss0 = (float)step_size, b1 = (float)beta1, c1 = (float)(1.0 - beta1);
    const float b2 = (float)beta2, c2 = (float)(1.0 - beta2), eps0 = (float)eps, bc2 = (float)bc2_sqrt;
    const float wdc = (float)wd_coupled, wdd = (float)wd_decoupled, keep0 = (float)(1.0 - lr * wd_decoupled);
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float keep = lrv ? 1.0f - lr0 * lrv[i] * wdd : keep0;
        const float ssi = lrv ? ss0 * lrv[i] : ss0;
        const float gi = torch_fmadd(wdc, x[i], g[i]); /* grad.add(param, alpha=wd) */
        const float mi = torch_fmadd(c1, gi, b1 * m[i]); /* exp_avg.mul_(b1).add_(grad, alpha=1-b1) */
        const float vi = torch_fmadd(c2 * gi, gi, b2 * v[i]); /* exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1-b2) */
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2 + eps0;
        x[i] = x[i] * keep - (ssi * mi) / denom; /* torch addcdiv: self + (value * t1) / t2 */
    }
}

void so_kernel_adam(float *restrict x, float *restrict m, float *restrict v, const float *restrict g,
                    const float *restrict lrv, size_t n, double lr, double step_size, double beta1, double beta2,
                    double eps, double bc2_sqrt, double wd_coupled, double wd_decoupled)
{
    if (lrv) adam_body(x, m, v, g, lrv, n, lr, step_size, beta1, beta2, eps, bc2_sqrt, wd_coupled, wd_decoupled);
    else adam_body(x, m, v, g, NULL, n, lr, step_size, beta1, beta2, eps, bc2_sqrt, wd_coupled, wd_decoupled);
}

/* ---- signsgd: x <- x (1 - lr wd) - lr sign(g) ---- */

SO_ALWAYS_INLINE void signsgd_body(float *restrict x, const float *restrict g, const float *restrict lrv,
                                   size_t n, double lr, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float keep = lrv ? 1.0f - lri * wd0 : keep0;
        x[i] = x[i] * keep - lri * so_signf(g[i]);
    }
}

void so_kernel_signsgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n, double lr,
                       double wd)
{
    if (lrv) signsgd_body(x, g, lrv, n, lr, wd);
    else signsgd_body(x, g, NULL, n, lr, wd);
}

/* ---- signum: m <- beta m + (1-beta) g (or m <- g on a first-grad start); x <- x (1 - lr wd) - lr sign(m).
 *      signum-nesterov is the same step after saving x into x_prev. ---- */

SO_ALWAYS_INLINE void signum_body(float *restrict x, float *restrict x_prev, float *restrict m,
                                  const float *restrict g, const float *restrict lrv, size_t n, double lr,
                                  double beta, double wd, int first)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    const float b = (float)beta, c = (float)(1.0 - beta);
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float keep = lrv ? 1.0f - lri * wd0 : keep0;
        const float mi = first ? g[i] : b * m[i] + c * g[i];
        m[i] = mi;
        if (x_prev) x_prev[i] = x[i];
        x[i] = x[i] * keep - lri * so_signf(mi);
    }
}

void so_kernel_signum(float *restrict x, float *restrict m, const float *restrict g, const float *restrict lrv,
                      size_t n, double lr, double beta, double wd, int first)
{
    if (lrv) signum_body(x, NULL, m, g, lrv, n, lr, beta, wd, first);
    else signum_body(x, NULL, m, g, NULL, n, lr, beta, wd, first);
}

void so_kernel_signum_nesterov(float *restrict x, float *restrict x_prev, float *restrict m,
                               const float *restrict g, const float *restrict lrv, size_t n, double lr,
                               double beta, double wd, int first)
{
    if (lrv) signum_body(x, x_prev, m, g, lrv, n, lr, beta, wd, first);
    else signum_body(x, x_prev, m, g, NULL, n, lr, beta, wd, first);
}

void so_kernel_extrapolate(float *restrict y, const float *restrict x, const float *restrict x_prev, size_t n,
                           double alpha)
{
    const float a = (float)alpha;
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) y[i] = x[i] + a * (x[i] - x_prev[i]);
}

/* ---- ef-signsgd: p = lr g + e; delta = (||p||_1 / n) sign(p); x <- x (1 - lr wd) - delta; e <- p - delta.
 * The scale needs ||p||_1 of the whole tensor before any coordinate can move, so this rule takes two passes:
 * the first forms p in place of e while summing |p| (fixed chunks, as so_kernel_abs_sum), the second steps. */

SO_ALWAYS_INLINE double ef_form_p_range(float *restrict e, const float *restrict g, const float *restrict lrv,
                                        size_t lo, size_t hi, float lr0)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        for (int k = 0; k < 8; k++) {
            const float p = (lrv ? lr0 * lrv[i + k] : lr0) * g[i + k] + e[i + k];
            e[i + k] = p;
            lane[k] += fabsf(p);
        }
    double tail = 0.0;
    for (; i < hi; i++) {
        const float p = (lrv ? lr0 * lrv[i] : lr0) * g[i] + e[i];
        e[i] = p;
        tail += fabsf(p);
    }
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

SO_ALWAYS_INLINE void ef_signsgd_body(float *restrict x, float *restrict e, const float *restrict g,
                                      const float *restrict lrv, size_t n, double lr, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    const size_t chunk = reduce_chunk(n);
    double part[SO_REDUCE_CHUNKS];
#pragma omp parallel for schedule(static) if (n >= SO_OMP_MIN)
    for (int c = 0; c < SO_REDUCE_CHUNKS; c++) {
        size_t lo = (size_t)c * chunk, hi = lo + chunk;
        if (lo > n) lo = n;
        if (hi > n) hi = n;
        part[c] = ef_form_p_range(e, g, lrv, lo, hi, lr0);
    }
    double norm1 = 0.0;
    for (int c = 0; c < SO_REDUCE_CHUNKS; c++) norm1 += part[c];
    const float scale = (float)(norm1 / (double)n);
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float keep = lrv ? 1.0f - lr0 * lrv[i] * wd0 : keep0;
        const float delta = scale * so_signf(e[i]);
        x[i] = x[i] * keep - delta;
        e[i] = e[i] - delta;
    }
}

void so_kernel_ef_signsgd(float *restrict x, float *restrict e, const float *restrict g, const float *restrict lrv,
                          size_t n, double lr, double wd)
{
    if (n == 0) return;
    if (lrv) ef_signsgd_body(x, e, g, lrv, n, lr, wd);
    else ef_signsgd_body(x, e, g, NULL, n, lr, wd);
}

/* ---- scaled-signsgd: x <- x - alpha ||g||_1 sign(g). The step length needs ||g||_1 first: one reduction
 * pass over g, then one update pass. ---- */

SO_ALWAYS_INLINE void scaled_signsgd_body(float *restrict x, const float *restrict g, const float *restrict lrv,
                                          size_t n, double alpha)
{
    const float step = (float)(alpha * so_kernel_abs_sum(g, n));
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float si = lrv ? step * lrv[i] : step;
        x[i] = x[i] - si * so_signf(g[i]);
    }
}

void so_kernel_scaled_signsgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n,
                              double alpha)
{
    if (lrv) scaled_signsgd_body(x, g, lrv, n, alpha);
    else scaled_signsgd_body(x, g, NULL, n, alpha);
}

/* ---- lion: c = b1 m + (1-b1) g; x <- x (1 - lr wd) - lr sign(c); m <- b2 m + (1-b2) g ---- */

SO_ALWAYS_INLINE void lion_body(float *restrict x, float *restrict m, const float *restrict g,
                                const float *restrict lrv, size_t n, double lr, double beta1, double beta2,
                                double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    const float b1 = (float)beta1, c1 = (float)(1.0 - beta1), b2 = (float)beta2, c2 = (float)(1.0 - beta2);
#pragma omp parallel for simd if (parallel : n >= SO_OMP_MIN)
    for (size_t i = 0; i < n; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float keep = lrv ? 1.0f - lri * wd0 : keep0;
        const float ci = b1 * m[i] + c1 * g[i];
        x[i] = x[i] * keep - lri * so_signf(ci);
        m[i] = b2 * m[i] + c2 * g[i];
    }
}

void so_kernel_lion(float *restrict x, float *restrict m, const float *restrict g, const float *restrict lrv,
                    size_t n, double lr, double beta1, double beta2, double wd)
{
    if (lrv) lion_body(x, m, g, lrv, n, lr, beta1, beta2, wd);
    else lion_body(x, m, g, NULL, n, lr, beta1, beta2, wd);
}
