/* layers.c — dense, ReLU, convolution (im2col + sgemm), max-pooling, softmax cross-entropy and logistic loss.
 * The matrix products go to OpenBLAS, which brings its own threads; the loops around them stay serial: OpenMP
 * teams here spin between regions and took a core from the sgemms (measured: a third of the CNN's time), and the
 * callers share out whole chunks of a minibatch instead (nets.c), each on one thread. Every reduction runs in a
 * fixed order, so results do not depend on the number of threads. */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "layers.h"

/* Sum over rows of a (M, N) matrix, in row order. */
static void column_sums(float *restrict out, const float *restrict a, size_t M, int N)
{
    memset(out, 0, (size_t)N * sizeof *out);
    for (size_t r = 0; r < M; r++) {
        const float *row = a + r * (size_t)N;
        for (int n = 0; n < N; n++) out[n] += row[n];
    }
}

/* Fill every row of out (M, N) with bias (N), so one sgemm with beta = 1 adds the product on top. */
static void broadcast_rows(float *restrict out, const float *restrict bias, size_t M, int N)
{
    for (size_t r = 0; r < M; r++) memcpy(out + r * (size_t)N, bias, (size_t)N * sizeof *out);
}

void so__dense_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                       const float *restrict bias, int B, int C, int OC)
{
    /* out (B,OC), inp (B,C), weight (OC,C), bias (OC) */
    broadcast_rows(out, bias, (size_t)B, OC);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, weight, C, 1.0f, out, OC);
}

void so__dense_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                        const float *restrict dout, const float *restrict inp, const float *restrict weight, int B,
                        int C, int OC)
{
    /* dinp (B,C), dweight (OC,C), dbias (OC), dout (B,OC), inp (B,C), weight (OC,C) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C, 0.0f, dweight, C);
    column_sums(dbias, dout, (size_t)B, OC);
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, weight, C, 0.0f, dinp, C);
}

void so__dense_forward_cols(float *restrict out, const float *restrict inp, const float *restrict weight,
                            const float *restrict bias, int B, int C, int OC, int o0, int o1)
{
    /* out (B,OC), inp (B,C), weight (OC,C), bias (OC); columns o0..o1-1 of out from rows o0..o1-1 of weight */
    const int n = o1 - o0;
    for (int b = 0; b < B; b++) memcpy(out + (size_t)b * OC + o0, bias + o0, (size_t)n * sizeof *out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n, C, 1.0f, inp, C, weight + (size_t)o0 * C, C, 1.0f,
                out + o0, OC);
}

void so__dense_backward_rows(float *restrict dweight, float *restrict dbias, const float *restrict dout,
                             const float *restrict inp, int B, int C, int OC, int o0, int o1)
{
    /* dweight (OC,C), dbias (OC), dout (B,OC), inp (B,C) */
    const int n = o1 - o0;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, C, B, 1.0f, dout + o0, OC, inp, C, 0.0f,
                dweight + (size_t)o0 * C, C);
    for (int o = o0; o < o1; o++) dbias[o] = 0.0f;
    for (int b = 0; b < B; b++)
        for (int o = o0; o < o1; o++) dbias[o] += dout[(size_t)b * OC + o];
}

void so__dense_backward_input_cols(float *restrict dinp, const float *restrict dout, const float *restrict weight,
                                   int B, int C, int OC, int c0, int c1)
{
    /* dinp (B,C), dout (B,OC), weight (OC,C) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, c1 - c0, OC, 1.0f, dout, OC, weight + c0, C, 0.0f,
                dinp + c0, C);
}

void so__relu_forward(float *restrict x, size_t n)
{
    /* x (n) */
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void so__relu_backward(float *restrict dx, const float *restrict y, size_t n)
{
    /* dx (n), y (n) */
    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dx[i] : 0.0f;
}

void so__im2col(float *restrict col, const float *restrict inp, int B, int H, int W, int C, int K)
{
    /* col (B*H*W, K*K*C), inp (B,H,W,C) */
    const int P = (K - 1) / 2;
    const size_t row_len = (size_t)K * K * C;
    for (long bh = 0; bh < (long)B * H; bh++) {
        const int b = (int)(bh / H), h = (int)(bh % H);
        const float *image = inp + (size_t)b * H * W * C;
        for (int w = 0; w < W; w++) {
            float *row = col + ((size_t)bh * W + w) * row_len;
            for (int kh = 0; kh < K; kh++) {
                const int ih = h + kh - P;
                float *dst = row + (size_t)kh * K * C;
                if (ih < 0 || ih >= H) { memset(dst, 0, (size_t)K * C * sizeof *dst); continue; }
                /* The columns iw = w-P .. w+P of one image row are contiguous in NHWC: copy the part inside. */
                const int lo = w - P < 0 ? P - w : 0;
                const int hi = w + P >= W ? P + W - w : K;
                if (lo > 0) memset(dst, 0, (size_t)lo * C * sizeof *dst);
                memcpy(dst + (size_t)lo * C, image + ((size_t)ih * W + (w - P + lo)) * C,
                       (size_t)(hi - lo) * C * sizeof *dst);
                if (hi < K) memset(dst + (size_t)hi * C, 0, (size_t)(K - hi) * C * sizeof *dst);
            }
        }
    }
}

void so__col2im(float *restrict dinp, const float *restrict dcol, int B, int H, int W, int C, int K)
{
    /* dinp (B,H,W,C), dcol (B*H*W, K*K*C) */
    const int P = (K - 1) / 2;
    const size_t row_len = (size_t)K * K * C;
    for (int b = 0; b < B; b++) {
        float *image = dinp + (size_t)b * H * W * C;
        memset(image, 0, (size_t)H * W * C * sizeof *image);
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) {
                const float *row = dcol + (((size_t)b * H + h) * W + w) * row_len;
                for (int kh = 0; kh < K; kh++) {
                    const int ih = h + kh - P;
                    if (ih < 0 || ih >= H) continue;
                    const int lo = w - P < 0 ? P - w : 0;
                    const int hi = w + P >= W ? P + W - w : K;
                    float *dst = image + ((size_t)ih * W + (w - P + lo)) * C;
                    const float *src = row + ((size_t)kh * K + lo) * C;
                    const size_t len = (size_t)(hi - lo) * C;
                    for (size_t i = 0; i < len; i++) dst[i] += src[i];
                }
            }
    }
}

void so__conv2d_forward(float *restrict out, float *restrict col, const float *restrict inp,
                        const float *restrict weight, const float *restrict bias, int B, int H, int W, int C, int OC,
                        int K)
{
    /* out (B,H,W,OC), col (B*H*W, K*K*C), inp (B,H,W,C), weight (OC,K,K,C), bias (OC) */
    const int M = B * H * W, KKC = K * K * C;
    so__im2col(col, inp, B, H, W, C, K);
    broadcast_rows(out, bias, (size_t)M, OC);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, OC, KKC, 1.0f, col, KKC, weight, KKC, 1.0f, out, OC);
}

void so__conv2d_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias, float *dcol,
                         const float *restrict dout, const float *col,
                         const float *restrict weight, int B, int H, int W, int C, int OC, int K)
{
    /* dinp (B,H,W,C), dweight (OC,K,K,C), dbias (OC), dcol (B*H*W, K*K*C), dout (B,H,W,OC), col like dcol.
     * No restrict on dcol and col: they may be one buffer (dweight reads col before dcol is written). */
    const int M = B * H * W, KKC = K * K * C;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, KKC, M, 1.0f, dout, OC, col, KKC, 0.0f, dweight, KKC);
    column_sums(dbias, dout, (size_t)M, OC);
    if (!dinp) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, KKC, OC, 1.0f, dout, OC, weight, KKC, 0.0f, dcol, KKC);
    so__col2im(dinp, dcol, B, H, W, C, K);
}

void so__maxpool_forward(float *restrict out, int32_t *restrict idx, const float *restrict inp, int B, int H,
                         int W, int C)
{
    /* out (B,H/2,W/2,C), idx like out, inp (B,H,W,C) */
    const int OH = H / 2, OW = W / 2;
    for (long bi = 0; bi < (long)B * OH; bi++) {
        const long b = bi / OH, i = bi % OH;
        for (int j = 0; j < OW; j++) {
            const size_t o = ((size_t)bi * OW + j) * C;
            const size_t top = (((size_t)b * H + 2 * i) * W + 2 * j) * C;
            const size_t corner[4] = { top, top + C, top + (size_t)W * C, top + (size_t)W * C + C };
            for (int c = 0; c < C; c++) {
                size_t best = corner[0] + c;
                for (int k = 1; k < 4; k++)
                    if (inp[corner[k] + c] > inp[best]) best = corner[k] + c;
                out[o + c] = inp[best];
                idx[o + c] = (int32_t)best;
            }
        }
    }
}

void so__maxpool_backward(float *restrict dinp, const float *restrict dout, const int32_t *restrict idx, int B,
                          int H, int W, int C)
{
    /* dinp (B,H,W,C), dout and idx (B,H/2,W/2,C). Windows do not overlap: each input gets at most one value. */
    const size_t n_in = (size_t)B * H * W * C, n_out = n_in / 4;
    memset(dinp, 0, n_in * sizeof *dinp);
    for (size_t o = 0; o < n_out; o++) dinp[idx[o]] = dout[o];
}

double so__softmax_xent_forward(float *restrict probs, float *restrict losses, int *restrict correct,
                                const float *restrict logits, const int32_t *restrict y, int B, int V)
{
    /* probs (B,V), losses (B), logits (B,V), y (B) */
    double total = 0.0;
    int right = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * V;
        float *p = probs + (size_t)b * V;
        int arg = 0;
        for (int v = 1; v < V; v++)
            if (z[v] > z[arg]) arg = v;
        const float zmax = z[arg];
        double sum = 0.0;
        for (int v = 0; v < V; v++) {
            p[v] = expf(z[v] - zmax);
            sum += p[v];
        }
        const float inv = (float)(1.0 / sum);
        for (int v = 0; v < V; v++) p[v] *= inv;
        /* -log softmax(z)_y = log sum_v exp(z_v - zmax) - (z_y - zmax) */
        const double loss = log(sum) - ((double)z[y[b]] - zmax);
        if (losses) losses[b] = (float)loss;
        total += loss;
        right += arg == y[b];
    }
    if (correct) *correct += right;
    return total;
}

void so__softmax_xent_backward(float *restrict dlogits, const float *restrict probs, const int32_t *restrict y,
                               int B, int V, float scale)
{
    /* dlogits (B,V), probs (B,V), y (B) */
    for (int b = 0; b < B; b++) {
        float *d = dlogits + (size_t)b * V;
        const float *p = probs + (size_t)b * V;
        for (int v = 0; v < V; v++) d[v] = scale * (p[v] - (v == y[b] ? 1.0f : 0.0f));
    }
}

double so__logistic_loss(float *restrict dz, int *restrict correct, const float *restrict z,
                         const float *restrict b, size_t n, float scale)
{
    /* dz (n), z (n), b (n) */
    double total = 0.0;
    int right = 0;
    for (size_t i = 0; i < n; i++) {
        const double m = (double)b[i] * z[i];
        /* log(1 + e^{-m}) and s(-m) = 1/(1 + e^{m}), each written so that exp never overflows. */
        const double e = exp(-fabs(m));
        total += m > 0 ? log1p(e) : -m + log1p(e);
        if (dz) {
            const double s = m > 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
            dz[i] = (float)(-(double)scale * b[i] * s);
        }
        right += (z[i] > 0.0f) == (b[i] > 0.0f);
    }
    if (correct) *correct += right;
    return total;
}
