/* layers.c — the layer kernels of the character-level GPT (karpathy/llm.c, train_gpt2.c, rewritten with
 * matrix products through cblas_sgemm). Backward kernels ADD into their gradient outputs (see lm.h). */
#include <math.h>
#include <string.h>
#include <cblas.h>
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
     * to t2 <= t, and att is 0 above the diagonal */
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    /* (b, h) pairs write disjoint slices, so the result does not depend on the thread count */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                float *pre = preatt + (((size_t)b * NH + h) * T + t) * T;
                float *a = att + (((size_t)b * NH + h) * T + t) * T;
                float maxval = -INFINITY;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((size_t)b * T + t2) * C3 + C + h * hs;
                    float dot = 0.0f;
                    for (int i = 0; i < hs; i++) dot += q[i] * k[i];
                    dot *= scale;
                    pre[t2] = dot;
                    if (dot > maxval) maxval = dot;
                }
                float sum = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    a[t2] = expf(pre[t2] - maxval);
                    sum += a[t2];
                }
                float inv = 1.0f / sum;
                for (int t2 = 0; t2 < T; t2++) {
                    if (t2 <= t) a[t2] *= inv;
                    else pre[t2] = a[t2] = 0.0f;
                }
                float *o = out + ((size_t)b * T + t) * C + h * hs;
                for (int i = 0; i < hs; i++) o[i] = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((size_t)b * T + t2) * C3 + 2 * C + h * hs;
                    for (int i = 0; i < hs; i++) o[i] += a[t2] * v[i];
                }
            }
}

void so__lm_attention_backward(float *restrict dinp, float *restrict dpreatt, float *restrict datt,
                               const float *restrict dout, const float *restrict inp, const float *restrict att,
                               int B, int T, int C, int NH)
{
    /* dinp, inp (B,T,3C); dpreatt, datt (B,NH,T,T) scratch, overwritten; dout (B,T,C); att (B,NH,T,T) */
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    /* keys and values of (b, h) receive gradient from every t of the same (b, h) only: disjoint across pairs */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *a = att + (((size_t)b * NH + h) * T + t) * T;
                float *da = datt + (((size_t)b * NH + h) * T + t) * T;
                float *dpre = dpreatt + (((size_t)b * NH + h) * T + t) * T;
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                float *dq = dinp + ((size_t)b * T + t) * C3 + h * hs;
                const float *d = dout + ((size_t)b * T + t) * C + h * hs;
                /* out = sum_t2 att[t2] v[t2] */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((size_t)b * T + t2) * C3 + 2 * C + h * hs;
                    float *dv = dinp + ((size_t)b * T + t2) * C3 + 2 * C + h * hs;
                    float s = 0.0f;
                    for (int i = 0; i < hs; i++) {
                        s += v[i] * d[i];
                        dv[i] += a[t2] * d[i];
                    }
                    da[t2] = s;
                }
                /* softmax: dpre = att * (datt - <att, datt>) */
                float dot = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) dot += a[t2] * da[t2];
                for (int t2 = 0; t2 <= t; t2++) dpre[t2] = a[t2] * (da[t2] - dot);
                for (int t2 = t + 1; t2 < T; t2++) da[t2] = dpre[t2] = 0.0f;
                /* pre = scale * q . k[t2] */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((size_t)b * T + t2) * C3 + C + h * hs;
                    float *dk = dinp + ((size_t)b * T + t2) * C3 + C + h * hs;
                    float g = dpre[t2] * scale;
                    for (int i = 0; i < hs; i++) {
                        dq[i] += k[i] * g;
                        dk[i] += q[i] * g;
                    }
                }
            }
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi): GPT-2's tanh approximation of GELU */

void so__lm_gelu_forward(float *restrict out, const float *restrict inp, int N)
{
    /* out, inp (N) */
    for (int i = 0; i < N; i++) {
        float x = inp[i], cube = 0.044715f * x * x * x;
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + cube)));
    }
}

void so__lm_gelu_backward(float *restrict dinp, const float *restrict inp, const float *restrict dout, int N)
{
    /* dinp, inp, dout (N) */
    for (int i = 0; i < N; i++) {
        float x = inp[i], cube = 0.044715f * x * x * x;
        float arg = GELU_SCALE * (x + cube), th = tanhf(arg), ch = coshf(arg);
        float sech2 = 1.0f / (ch * ch);
        float local = 0.5f * (1.0f + th) + x * 0.5f * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
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
        double sum = 0.0;
        for (int v = 0; v < V; v++) {
            p[v] = expf(z[v] - maxval);
            sum += p[v];
        }
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
