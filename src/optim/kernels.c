/* kernels.c — one fused streaming pass per optimizer rule over x, g and the rule's state.
 *
 * Each rule has an always-inline range body taking lrv (per-coordinate rate multipliers, or NULL). The exported
 * kernel runs it through PARALLEL_BLOCKS once with the literal NULL and once with lrv: each expansion is its own
 * OpenMP region, so the body is inlined into each outlined region with lrv known, and the compiler emits a
 * scalar-rate loop with no load of lrv and no extra multiply next to a separate per-coordinate loop. (A pragma
 * inside the shared body would be outlined once, before inlining, and lose the specialisation.) The rules,
 * with their sources, are documented in optim.c, which picks a kernel per id. */
#include <math.h>
#include <stdint.h>
#include <string.h>
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

/* Elements per block of the parallel loops. Blocks are the unit of work; results do not depend on them. */
#define SO_BLOCK ((size_t)4096)

/* Runs BODY with [lo, hi) set to each block of [0, n), over threads from SO_OMP_MIN elements on. Below that the
 * loop runs without entering OpenMP at all: an `if (0)` parallel region still builds a team of one, about a
 * microsecond, which was most of the time of a step over many small tensors (so_optim_step_tensors). */
#define PARALLEL_BLOCKS(n, lo, hi, BODY)                                                       \
    do {                                                                                       \
        const size_t n_ = (n), blocks_ = (n_ + SO_BLOCK - 1) / SO_BLOCK;                       \
        if (n_ < SO_OMP_MIN) {                                                                 \
            for (size_t b_ = 0; b_ < blocks_; b_++) {                                          \
                const size_t lo = b_ * SO_BLOCK, hi = lo + SO_BLOCK < n_ ? lo + SO_BLOCK : n_; \
                BODY;                                                                          \
            }                                                                                  \
        } else {                                                                               \
            _Pragma("omp parallel for schedule(static)")                                       \
            for (size_t b_ = 0; b_ < blocks_; b_++) {                                          \
                const size_t lo = b_ * SO_BLOCK, hi = lo + SO_BLOCK < n_ ? lo + SO_BLOCK : n_; \
                BODY;                                                                          \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* Runs part[c] = EXPR with [lo, hi) set to chunk c of the fixed SO_REDUCE_CHUNKS split of [0, n) (serially below
 * SO_OMP_MIN, as PARALLEL_BLOCKS; the chunks and their order are the same either way). */
#define PARALLEL_CHUNKS(n, part, lo, hi, EXPR)                                                 \
    do {                                                                                       \
        const size_t n_ = (n), chunk_ = reduce_chunk(n_);                                      \
        if (n_ < SO_OMP_MIN) {                                                                 \
            for (int c_ = 0; c_ < SO_REDUCE_CHUNKS; c_++) {                                    \
                const size_t lo_ = (size_t)c_ * chunk_, hi_ = lo_ + chunk_;                    \
                const size_t lo = lo_ < n_ ? lo_ : n_, hi = hi_ < n_ ? hi_ : n_;               \
                (part)[c_] = (EXPR);                                                           \
            }                                                                                  \
        } else {                                                                               \
            _Pragma("omp parallel for schedule(static)")                                       \
            for (int c_ = 0; c_ < SO_REDUCE_CHUNKS; c_++) {                                    \
                const size_t lo_ = (size_t)c_ * chunk_, hi_ = lo_ + chunk_;                    \
                const size_t lo = lo_ < n_ ? lo_ : n_, hi = hi_ < n_ ? hi_ : n_;               \
                (part)[c_] = (EXPR);                                                           \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* ---- Reductions with a fixed summation order ---- */

/* Chunk length for a fixed SO_REDUCE_CHUNKS split of n, rounded up to a multiple of 8 lanes. */
static size_t reduce_chunk(size_t n)
{
    size_t c = (n + SO_REDUCE_CHUNKS - 1) / SO_REDUCE_CHUNKS;
    return (c + 7) & ~(size_t)7;
}

/* Eight double lanes as two 4-lane vectors: lane k sums the elements i = lo + k (mod 8) in order, the lanes
 * combine in a fixed tree. Written with vector types because GCC 12 leaves the float-to-double lane sums of a
 * plain lane[8] loop scalar (one element per cycle, no faster than DRAM); the sums are the same either way. */
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));

static inline v8f load8f(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v8f abs8f(v8f v)
{
    return (v8f)((v8u)v & 0x7fffffffu);
}

/* acc_lo/acc_hi += (double)v[0..3] / (double)v[4..7], lane by lane. */
static inline void add8_to_lanes(v4d *acc_lo, v4d *acc_hi, v8f v)
{
    const v4f lo = {v[0], v[1], v[2], v[3]}, hi = {v[4], v[5], v[6], v[7]};
    *acc_lo += __builtin_convertvector(lo, v4d);
    *acc_hi += __builtin_convertvector(hi, v4d);
}

static inline double combine_lanes(v4d a, v4d b, double tail)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3])) + tail;
}

/* sum |v[i]| over [lo, hi): eight independent lanes (so the loop pipelines) combined in a fixed tree. */
static double abs_sum_range(const float *restrict v, size_t lo, size_t hi)
{
    v4d acc_lo = {0, 0, 0, 0}, acc_hi = {0, 0, 0, 0};
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) add8_to_lanes(&acc_lo, &acc_hi, abs8f(load8f(v + i)));
    double tail = 0.0;
    for (; i < hi; i++) tail += fabsf(v[i]);
    return combine_lanes(acc_lo, acc_hi, tail);
}

double so_kernel_abs_sum(const float *restrict v, size_t n)
{
    double part[SO_REDUCE_CHUNKS];
    PARALLEL_CHUNKS(n, part, lo, hi, abs_sum_range(v, lo, hi));
    double total = 0.0;
    for (int c = 0; c < SO_REDUCE_CHUNKS; c++) total += part[c];
    return total;
}

/* ---- sgd: x <- x (1 - lr wd) - lr g ---- */

SO_ALWAYS_INLINE void sgd_range(float *restrict x, const float *restrict g, const float *restrict lrv, size_t lo,
                                size_t hi, double lr, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    for (size_t i = lo; i < hi; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float keep = lrv ? 1.0f - lri * wd0 : keep0;
        x[i] = torch_fmadd(-lri, g[i], x[i] * keep); /* torch: param.add_(g, alpha=-lr) */
    }
}

void so_kernel_sgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n, double lr,
                   double wd)
{
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, sgd_range(x, g, lrv, lo, hi, lr, wd));
    else PARALLEL_BLOCKS(n, lo, hi, sgd_range(x, g, NULL, lo, hi, lr, wd));
}

/* ---- sgdm: torch.optim.SGD with momentum; g <- g + wd x; b <- mu b + g (b_1 = g_1);
 *      x <- x - lr b, or with Nesterov x <- x - lr (g + mu b) ---- */

SO_ALWAYS_INLINE void sgdm_range(float *restrict x, float *restrict b, const float *restrict g,
                                 const float *restrict lrv, size_t lo, size_t hi, double lr, double mu, double wd,
                                 int nesterov, int first)
{
    const float lr0 = (float)lr, mu0 = (float)mu, wd0 = (float)wd;
    for (size_t i = lo; i < hi; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float gi = torch_fmadd(wd0, x[i], g[i]);             /* g.add(param, alpha=wd) */
        const float bi = first ? gi : mu0 * b[i] + gi;              /* buf.mul_(mu).add_(g) */
        b[i] = bi;
        const float di = nesterov ? torch_fmadd(mu0, bi, gi) : bi; /* g.add(buf, alpha=mu) */
        x[i] = torch_fmadd(-lri, di, x[i]);                         /* param.add_(d, alpha=-lr) */
    }
}

void so_kernel_sgdm(float *restrict x, float *restrict b, const float *restrict g, const float *restrict lrv,
                    size_t n, double lr, double mu, double wd, int nesterov, int first)
{
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, sgdm_range(x, b, g, lrv, lo, hi, lr, mu, wd, nesterov, first));
    else PARALLEL_BLOCKS(n, lo, hi, sgdm_range(x, b, g, NULL, lo, hi, lr, mu, wd, nesterov, first));
}

/* ---- adam / adamw: torch.optim.Adam (coupled decay) and AdamW (decoupled), in torch's operation order:
 *      x <- x (1 - lr wd_dec); g <- g + wd_cpl x; m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g g;
 *      x <- x - (step_size m) / (sqrt(v) / bc2_sqrt + eps)
 * Under the default -fmath-errno GCC keeps sqrtf's errno path, so this loop stays scalar (the others vectorize). */

typedef struct adam_scalars {
    double lr, step_size, beta1, beta2, eps, bc2_sqrt, wd_coupled, wd_decoupled;
} adam_scalars;

SO_ALWAYS_INLINE void adam_range(float *restrict x, float *restrict m, float *restrict v, const float *restrict g,
                                 const float *restrict lrv, size_t lo, size_t hi, const adam_scalars *a)
{
    const float lr0 = (float)a->lr, ss0 = (float)a->step_size, eps0 = (float)a->eps, bc2 = (float)a->bc2_sqrt;
    const float b1 = (float)a->beta1, c1 = (float)(1.0 - a->beta1), b2 = (float)a->beta2, c2 = (float)(1.0 - a->beta2);
    const float wdc = (float)a->wd_coupled, wdd = (float)a->wd_decoupled;
    const float keep0 = (float)(1.0 - a->lr * a->wd_decoupled);
    for (size_t i = lo; i < hi; i++) {
        const float keep = lrv ? 1.0f - lr0 * lrv[i] * wdd : keep0;
        const float ssi = lrv ? ss0 * lrv[i] : ss0;
        const float gi = torch_fmadd(wdc, x[i], g[i]);        /* grad.add(param, alpha=wd) */
        const float mi = torch_fmadd(c1, gi, b1 * m[i]);      /* exp_avg.mul_(b1).add_(grad, alpha=1-b1) */
        const float vi = torch_fmadd(c2 * gi, gi, b2 * v[i]); /* exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2) */
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2 + eps0;
        x[i] = x[i] * keep - (ssi * mi) / denom; /* param.addcdiv_(m, denom, value=-step_size) */
    }
}

void so_kernel_adam(float *restrict x, float *restrict m, float *restrict v, const float *restrict g,
                    const float *restrict lrv, size_t n, double lr, double step_size, double beta1, double beta2,
                    double eps, double bc2_sqrt, double wd_coupled, double wd_decoupled)
{
    const adam_scalars a = {lr, step_size, beta1, beta2, eps, bc2_sqrt, wd_coupled, wd_decoupled};
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, adam_range(x, m, v, g, lrv, lo, hi, &a));
    else PARALLEL_BLOCKS(n, lo, hi, adam_range(x, m, v, g, NULL, lo, hi, &a));
}

/* ---- signsgd: x <- x (1 - lr wd) - lr sign(g) ---- */

SO_ALWAYS_INLINE void signsgd_range(float *restrict x, const float *restrict g, const float *restrict lrv,
                                    size_t lo, size_t hi, double lr, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    for (size_t i = lo; i < hi; i++) {
        const float lri = lrv ? lr0 * lrv[i] : lr0;
        const float keep = lrv ? 1.0f - lri * wd0 : keep0;
        x[i] = x[i] * keep - lri * so_signf(g[i]);
    }
}

void so_kernel_signsgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n, double lr,
                       double wd)
{
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, signsgd_range(x, g, lrv, lo, hi, lr, wd));
    else PARALLEL_BLOCKS(n, lo, hi, signsgd_range(x, g, NULL, lo, hi, lr, wd));
}

/* ---- signum: m <- beta m + (1-beta) g (or m <- g on a first-grad start); x <- x (1 - lr wd) - lr sign(m).
 *      signum-nesterov is the same step after saving x into x_prev. ---- */

SO_ALWAYS_INLINE void signum_range(float *restrict x, float *restrict x_prev, float *restrict m,
                                   const float *restrict g, const float *restrict lrv, size_t lo, size_t hi,
                                   double lr, double beta, double wd, int first)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    const float b = (float)beta, c = (float)(1.0 - beta);
    for (size_t i = lo; i < hi; i++) {
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
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, signum_range(x, NULL, m, g, lrv, lo, hi, lr, beta, wd, first));
    else PARALLEL_BLOCKS(n, lo, hi, signum_range(x, NULL, m, g, NULL, lo, hi, lr, beta, wd, first));
}

void so_kernel_signum_nesterov(float *restrict x, float *restrict x_prev, float *restrict m,
                               const float *restrict g, const float *restrict lrv, size_t n, double lr,
                               double beta, double wd, int first)
{
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, signum_range(x, x_prev, m, g, lrv, lo, hi, lr, beta, wd, first));
    else PARALLEL_BLOCKS(n, lo, hi, signum_range(x, x_prev, m, g, NULL, lo, hi, lr, beta, wd, first));
}

void so_kernel_extrapolate(float *restrict y, const float *restrict x, const float *restrict x_prev, size_t n,
                           double alpha)
{
    const float a = (float)alpha;
    PARALLEL_BLOCKS(n, lo, hi, for (size_t i = lo; i < hi; i++) y[i] = x[i] + a * (x[i] - x_prev[i]));
}

/* ---- ef-signsgd: p = lr (g + wd x) + e; delta = (||p||_1 / n) sign(p); x <- x - delta; e <- p - delta.
 * Weight decay is coupled: lr scales the gradient inside p and is not a step length (the step is ||p||_1 / n),
 * so the decay enters as the gradient of (wd/2)||x||^2 and goes through the compressor and the error memory
 * like the rest of g (docs/algorithms.md, "EF-signSGD and weight decay").
 * The scale needs ||p||_1 of the whole tensor before any coordinate can move, so this rule takes two passes:
 * the first forms p in place of e while summing |p| (fixed chunks, as so_kernel_abs_sum), the second steps. */

SO_ALWAYS_INLINE double ef_form_p_range(float *restrict e, const float *restrict g, const float *restrict x,
                                        const float *restrict lrv, size_t lo, size_t hi, double lr, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd;
    const v8f wdv = {wd0, wd0, wd0, wd0, wd0, wd0, wd0, wd0};
    v4d acc_lo = {0, 0, 0, 0}, acc_hi = {0, 0, 0, 0};
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {
        const v8f lri = lrv ? lr0 * load8f(lrv + i) : (v8f){lr0, lr0, lr0, lr0, lr0, lr0, lr0, lr0};
        const v8f gi = wd0 != 0.0f ? load8f(g + i) + wdv * load8f(x + i) : load8f(g + i);
        const v8f p = lri * gi + load8f(e + i);
        memcpy(e + i, &p, sizeof p);
        add8_to_lanes(&acc_lo, &acc_hi, abs8f(p));
    }
    double tail = 0.0;
    for (; i < hi; i++) {
        const float gi = wd0 != 0.0f ? g[i] + wd0 * x[i] : g[i];
        const float p = (lrv ? lr0 * lrv[i] : lr0) * gi + e[i];
        e[i] = p;
        tail += fabsf(p);
    }
    return combine_lanes(acc_lo, acc_hi, tail);
}

SO_ALWAYS_INLINE void ef_step_range(float *restrict x, float *restrict e, size_t lo, size_t hi, float scale)
{
    for (size_t i = lo; i < hi; i++) {
        const float delta = scale * so_signf(e[i]);
        x[i] = x[i] - delta;
        e[i] = e[i] - delta;
    }
}

static float chunk_sum(const double *part)
{
    double total = 0.0;
    for (int c = 0; c < SO_REDUCE_CHUNKS; c++) total += part[c];
    return (float)total;
}

void so_kernel_ef_signsgd(float *restrict x, float *restrict e, const float *restrict g, const float *restrict lrv,
                          size_t n, double lr, double wd)
{
    if (n == 0) return;
    double part[SO_REDUCE_CHUNKS];
    if (lrv) PARALLEL_CHUNKS(n, part, lo, hi, ef_form_p_range(e, g, x, lrv, lo, hi, lr, wd));
    else PARALLEL_CHUNKS(n, part, lo, hi, ef_form_p_range(e, g, x, NULL, lo, hi, lr, wd));
    const float scale = (float)((double)chunk_sum(part) / (double)n);
    PARALLEL_BLOCKS(n, lo, hi, ef_step_range(x, e, lo, hi, scale));
}

/* ---- scaled-signsgd: x <- x - alpha ||g||_1 sign(g). The step length needs ||g||_1 first: one reduction
 * pass over g, then one update pass. ---- */

SO_ALWAYS_INLINE void scaled_signsgd_range(float *restrict x, const float *restrict g, const float *restrict lrv,
                                           size_t lo, size_t hi, float step)
{
    for (size_t i = lo; i < hi; i++) {
        const float si = lrv ? step * lrv[i] : step;
        x[i] = x[i] - si * so_signf(g[i]);
    }
}

void so_kernel_scaled_signsgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n,
                              double alpha)
{
    so_kernel_scaled_signsgd_step(x, g, lrv, n, (float)(alpha * so_kernel_abs_sum(g, n)));
}

void so_kernel_scaled_signsgd_step(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n,
                                   float step)
{
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, scaled_signsgd_range(x, g, lrv, lo, hi, step));
    else PARALLEL_BLOCKS(n, lo, hi, scaled_signsgd_range(x, g, NULL, lo, hi, step));
}

/* ---- lion: c = b1 m + (1-b1) g; x <- x (1 - lr wd) - lr sign(c); m <- b2 m + (1-b2) g ---- */

SO_ALWAYS_INLINE void lion_range(float *restrict x, float *restrict m, const float *restrict g,
                                 const float *restrict lrv, size_t lo, size_t hi, double lr, double beta1,
                                 double beta2, double wd)
{
    const float lr0 = (float)lr, wd0 = (float)wd, keep0 = (float)(1.0 - lr * wd);
    const float b1 = (float)beta1, c1 = (float)(1.0 - beta1), b2 = (float)beta2, c2 = (float)(1.0 - beta2);
    for (size_t i = lo; i < hi; i++) {
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
    if (lrv) PARALLEL_BLOCKS(n, lo, hi, lion_range(x, m, g, lrv, lo, hi, lr, beta1, beta2, wd));
    else PARALLEL_BLOCKS(n, lo, hi, lion_range(x, m, g, NULL, lo, hi, lr, beta1, beta2, wd));
}
