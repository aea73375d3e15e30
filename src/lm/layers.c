/* layers.c — the layer kernels of the character-level GPT (karpathy/llm.c, train_gpt2.c, rewritten with
 * matrix products through cblas_sgemm). Backward kernels ADD into their gradient outputs (see lm.h). */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "../core/vexp.h"
#include "lm.h"

void so__lm_encoder_forward(float *restrict out, const int *restrict inp, const float *restrict wte,
                            const float *restrict wpe, int B, int T, int C)
{
    /* out (B,T,C), inp (B,T) token ids, wte (V,C), wpe (T,C) */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *e = wte + (size_t)inp[b * T + t] * C, *p = wpe + (size_t)t * C;
            for (int i = 0; i < C; i++) o[i] = e[i] + p[i];
        }
}

void so__lm_encoder_backward(float *restrict dwte, float *restrict dwpe, const float *restrict dout,
                             const int *restrict inp, int B, int T, int C)
{
    /* dwte (V,C), dwpe (T,C), dout (B,T,C), inp (B,T) */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *de = dwte + (size_t)inp[b * T + t] * C, *dp = dwpe + (size_t)t * C;
            for (int i = 0; i < C; i++) {
                de[i] += d[i];
                dp[i] += d[i];
            }
        }
}

#define LN_EPS 1e-5f

void so__lm_layernorm_forward(float *restrict out, float *restrict mean, float *restrict rstd,
                              const float *restrict inp, const float *restrict weight, const float *restrict bias,
                              int N, int C)
{
    /* out, inp (N,C); mean, rstd (N) saved for the backward pass; weight, bias (C) */
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float m = 0.0f;
        for (int i = 0; i < C; i++) m += x[i];
        m /= C;
        float v = 0.0f;
        for (int i = 0; i < C; i++) v += (x[i] - m) * (x[i] - m);
        v /= C; /* biased variance, as torch.nn.LayerNorm */
        float s = 1.0f / sqrtf(v + LN_EPS);
        float *o = out + (size_t)n * C;
        for (int i = 0; i < C; i++) o[i] = (x[i] - m) * s * weight[i] + bias[i];
        mean[n] = m;
        rstd[n] = s;
    }
}

void so__lm_layernorm_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                               const float *restrict dout, const float *restrict inp, const float *restrict weight,
                               const float *restrict mean, const float *restrict rstd, int N, int C)
{
    /* dinp, dout, inp (N,C); dweight, dbias, weight (C); mean, rstd (N) */
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float m = mean[n], s = rstd[n];
        /* the normalization couples the row, so its gradient subtracts the mean of dnorm and of dnorm*norm */
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - m) * s, dnorm = weight[i] * d[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= C;
        dnorm_norm_mean /= C;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - m) * s, dnorm = weight[i] * d[i];
            dbias[i] += d[i];
            dweight[i] += norm * d[i];
            dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

void so__lm_matmul_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                           const float *restrict bias, int N, int C, int OC)
{
    /* out (N,OC) = inp (N,C) @ weight (OC,C)^T + bias (OC); bias may be NULL */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, 0.0f, out, OC);
    if (!bias) return;
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * OC;
        for (int j = 0; j < OC; j++) o[j] += bias[j];
    }
}

void so__lm_matmul_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                            const float *restrict dout, const float *restrict inp, const float *restrict weight,
                            int N, int C, int OC)
{
    /* dinp, inp (N,C); dweight, weight (OC,C); dbias (OC) or NULL; dout (N,OC) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    if (!dbias) return;
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * OC;
        for (int j = 0; j < OC; j++) dbias[j] += d[j];
    }
}

void so__lm_attention_forward(float *restrict out, float *restrict preatt, float *restrict att,
                              const float *restrict inp, int B, int T, int C, int NH)
{
    /* out (B,T,C); preatt, att (B,NH,T,T); inp (B,T,3C) holding query, key, value; causal: position t attends
     * to t2 <= t, and preatt, att are 0 above the diagonal. Per (batch, head) pair two small sgemms: the
     * scalar loops they replace could not vectorize their dot products under strict float ordering. */
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = inp + (size_t)b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
            float *pre = preatt + ((size_t)b * NH + h) * T * T, *a = att + ((size_t)b * NH + h) * T * T;
            /* pre = scale * Q K^T, the full square; the part above the diagonal is then discarded */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, scale, q, C3, k, C3, 0.0f, pre, T);
            for (int t = 0; t < T; t++) {
                float *pr = pre + (size_t)t * T, *ar = a + (size_t)t * T;
                float maxval = -INFINITY;
                for (int t2 = 0; t2 <= t; t2++)
                    if (pr[t2] > maxval) maxval = pr[t2];
                /* the exponentials in one vectorized pass, then the sum in order */
                for (int t2 = 0; t2 <= t; t2++) ar[t2] = so__vexpf(pr[t2] - maxval);
                float sum = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) sum += ar[t2];
                float inv = 1.0f / sum;
                for (int t2 = 0; t2 <= t; t2++) ar[t2] *= inv;
                for (int t2 = t + 1; t2 < T; t2++) pr[t2] = ar[t2] = 0.0f;
            }
            /* out = att V, with att zero above the diagonal */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, v, C3, 0.0f,
                        out + (size_t)b * T * C + h * hs, C);
        }
}

void so__lm_attention_backward(float *restrict dinp, float *restrict dpreatt, float *restrict datt,
                               const float *restrict dout, const float *restrict inp, const float *restrict att,
                               int B, int T, int C, int NH)
{
    /* dinp, inp (B,T,3C); dpreatt, datt (B,NH,T,T) scratch, overwritten; dout (B,T,C); att (B,NH,T,T) */
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = inp + (size_t)b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
            float *dq = dinp + (size_t)b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;
            const float *a = att + ((size_t)b * NH + h) * T * T, *d = dout + (size_t)b * T * C + h * hs;
            float *da = datt + ((size_t)b * NH + h) * T * T, *dpre = dpreatt + ((size_t)b * NH + h) * T * T;
            /* out = att V: datt = dout V^T, dV += att^T dout */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, 1.0f, d, C, v, C3, 0.0f, da, T);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, d, C, 1.0f, dv, C3);
            /* softmax: dpre = att * (datt - <att, datt>), row by row; 0 above the diagonal */
            for (int t = 0; t < T; t++) {
                const float *ar = a + (size_t)t * T, *dar = da + (size_t)t * T;
                float *dp = dpre + (size_t)t * T, dot = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) dot += ar[t2] * dar[t2];
                for (int t2 = 0; t2 <= t; t2++) dp[t2] = ar[t2] * (dar[t2] - dot);
                for (int t2 = t + 1; t2 < T; t2++) dp[t2] = 0.0f;
            }
            /* pre = scale * Q K^T: dQ += scale * dpre K, dK += scale * dpre^T Q */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, scale, dpre, T, k, C3, 1.0f, dq, C3);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, scale, dpre, T, q, C3, 1.0f, dk, C3);
        }
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi): GPT-2's tanh approximation of GELU */

/* tanh(a) = 1 - 2 / (1 + e^(2a)). glibc's tanhf goes through expm1f and took a quarter of a training step;
 * an exponential is several times faster, and so__vexpf (src/core/vexp.h) lets the loop vectorize. The formula loses relative (not absolute, ~1e-7) accuracy near a = 0, which
 * is harmless here because GELU only uses 1 + tanh and 1 - tanh^2. Saturates correctly: e^(2a) = inf gives 1. */
static inline float fast_tanhf(float a) { return 1.0f - 2.0f / (1.0f + so__vexpf(2.0f * a)); }

void so__lm_gelu_forward(float *restrict out, float *restrict th, const float *restrict inp, int N)
{
    /* out, th, inp (N); th keeps the tanh for the backward pass, which then needs no exponential */
    for (int i = 0; i < N; i++) {
        float x = inp[i], cube = 0.044715f * x * x * x;
        th[i] = fast_tanhf(GELU_SCALE * (x + cube));
        out[i] = 0.5f * x * (1.0f + th[i]);
    }
}

void so__lm_gelu_backward(float *restrict dinp, const float *restrict inp, const float *restrict th,
                          const float *restrict dout, int N)
{
    /* dinp, inp, th (from the forward pass), dout (N) */
    for (int i = 0; i < N; i++) {
        float x = inp[i], sech2 = 1.0f - th[i] * th[i]; /* 1 / cosh^2 */
        float local = 0.5f * (1.0f + th[i]) + x * 0.5f * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += local * dout[i];
    }
}

void so__lm_residual_forward(float *restrict out, const float *restrict inp1, const float *restrict inp2, int N)
{
    /* out, inp1, inp2 (N) */
    for (int i = 0; i < N; i++) out[i] = inp1[i] + inp2[i];
}

double so__lm_softmax_xent_forward(float *restrict probs, long *restrict correct, const float *restrict logits,
                                   const int *restrict targets, int N, int V)
{
    /* probs, logits (N,V); targets (N); returns sum_n -log probs[n][targets[n]] in nats, computed as
     * logsumexp - logit so that a near-zero probability does not lose precision; *correct += argmax hits */
    double total = 0.0;
    long hits = 0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * V;
        float *p = probs + (size_t)n * V;
        int arg = 0;
        for (int v = 1; v < V; v++)
            if (z[v] > z[arg]) arg = v;
        float maxval = z[arg];
        for (int v = 0; v < V; v++) p[v] = so__vexpf(z[v] - maxval);
        double sum = 0.0;
        for (int v = 0; v < V; v++) sum += p[v];
        float inv = (float)(1.0 / sum);
        for (int v = 0; v < V; v++) p[v] *= inv;
        total += log(sum) + maxval - z[targets[n]];
        hits += arg == targets[n];
    }
    if (correct) *correct += hits;
    return total;
}

void so__lm_softmax_xent_backward(float *restrict dlogits, const float *restrict probs,
                                  const int *restrict targets, int N, int V, float scale)
{
    /* dlogits, probs (N,V); targets (N); dlogits += scale * (probs - onehot(target)) */
    for (int n = 0; n < N; n++) {
        float *d = dlogits + (size_t)n * V;
        const float *p = probs + (size_t)n * V;
        for (int v = 0; v < V; v++) d[v] += scale * (p[v] - (v == targets[n] ? 1.0f : 0.0f));
    }
}
