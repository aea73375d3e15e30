/* kernels.h — the fused update kernels of the single-node optimizers, one per rule (internal; also timed by
 * `signopt bench`). Every kernel is a plain function on flat float arrays of length n: outputs (x and the
 * rule's state) first, then inputs (g, the optional per-coordinate multipliers lrv), then n and the scalars.
 *
 * lrv: NULL for a scalar rate, else lrv[i] multiplies the rate of coordinate i (001 sec. 2.2, A = Diag(a)).
 * wd: decoupled weight decay lambda, applied as x <- x * (1 - lr_i*wd) before the rule's step (the form of
 * torch AdamW's param.mul_(1 - lr*wd); equal to x - lr*wd*x up to rounding). 0 disables it exactly, since
 * x * 1.0f == x.
 * first: nonzero on the step that starts a momentum buffer with the gradient itself (init first-grad, or
 * torch SGD's b_1 = g_1); otherwise the buffer is updated from its current value (0 on a fresh optimizer). */
#ifndef SO_OPTIM_KERNELS_H
#define SO_OPTIM_KERNELS_H

#include <stddef.h>

/* Element-wise loops go parallel from this many coordinates on; below it a thread team costs more than it
 * saves. Results never depend on it: element-wise updates are independent, reductions use fixed chunks. */
#define SO_OMP_MIN ((size_t)1 << 15)
/* Reductions split [0, n) into this many chunks whatever the thread count, sum each chunk in a fixed order
 * and add the chunk sums in order, so ||v||_1 is bitwise the same for 1 or 64 threads. */
#define SO_REDUCE_CHUNKS 64

/* sign(v) with sign(0) = 0 (docs/algorithms.md, "Notation"). */
static inline float so_signf(float v) { return (float)((v > 0.0f) - (v < 0.0f)); }

/* ||v||_1 accumulated in double. v is (n,). */
double so_kernel_abs_sum(const float *restrict v, size_t n);

/* Scalars arrive as double and are rounded to float once per call; complements such as 1 - beta are formed
 * in double first, as torch.optim does with its Python floats (1 - 0.999 rounded once is 1e-3 to float
 * precision; 1.0f - 0.999f is off by 1.3e-5 relative). */

/* x, g: (n,). Plain SGD, x <- x - lr g. */
void so_kernel_sgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n, double lr,
                   double wd);
/* x, b, g: (n,). b is the momentum buffer; wd is coupled (g <- g + wd x), as torch SGD. */
void so_kernel_sgdm(float *restrict x, float *restrict b, const float *restrict g, const float *restrict lrv,
                    size_t n, double lr, double mu, double wd, int nesterov, int first);
/* x, m, v, g: (n,). step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t); wd_coupled for adam,
 * wd_decoupled for adamw. */
void so_kernel_adam(float *restrict x, float *restrict m, float *restrict v, const float *restrict g,
                    const float *restrict lrv, size_t n, double lr, double step_size, double beta1, double beta2,
                    double eps, double bc2_sqrt, double wd_coupled, double wd_decoupled);
/* x, g: (n,). */
void so_kernel_signsgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n, double lr,
                       double wd);
/* x, m, g: (n,). */
void so_kernel_signum(float *restrict x, float *restrict m, const float *restrict g, const float *restrict lrv,
                      size_t n, double lr, double beta, double wd, int first);
/* x, x_prev, m, g: (n,). x_prev receives x before the step. */
void so_kernel_signum_nesterov(float *restrict x, float *restrict x_prev, float *restrict m,
                               const float *restrict g, const float *restrict lrv, size_t n, double lr,
                               double beta, double wd, int first);
/* y, x, x_prev: (n,). y = x + alpha (x - x_prev). */
void so_kernel_extrapolate(float *restrict y, const float *restrict x, const float *restrict x_prev, size_t n,
                           double alpha);
/* x, e, g: (n,), one tensor: the ||p||_1 / n scaling uses this n. */
void so_kernel_ef_signsgd(float *restrict x, float *restrict e, const float *restrict g, const float *restrict lrv,
                          size_t n, double lr, double wd);
/* x, g: (n,). */
void so_kernel_scaled_signsgd(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n,
                              double alpha);
/* x, g: (n,). The step alpha ||g||_1 given (the norm of a whole parameter vector split over several calls). */
void so_kernel_scaled_signsgd_step(float *restrict x, const float *restrict g, const float *restrict lrv, size_t n,
                                   float step);
/* x, m, g: (n,). */
void so_kernel_lion(float *restrict x, float *restrict m, const float *restrict g, const float *restrict lrv,
                    size_t n, double lr, double beta1, double beta2, double wd);

#endif
