/* test_layers.c — every layer of src/models/layers.c against independent evidence: central finite differences
 * of a random linear functional of its output (L = sum_i R_i out_i, so dL/dout = R), naive loop reference
 * implementations written here, and hand-derived values. Finite differences are taken in float with the
 * actual perturbation (x+eps and x-eps rounded to float) and the objective summed in double. */
#include <stdint.h>
#include <stdlib.h>
#include "signopt.h"
#include "test.h"
#include "../src/models/layers.h"

static void fill_uniform(float *a, size_t n, uint32_t stream, float lo, float hi)
{
    so_rng r;
    so_rng_init(&r, 12345, 0, 0, SO_STREAM_USER + stream);
    for (size_t i = 0; i < n; i++) a[i] = lo + (hi - lo) * so_rng_uniformf(&r);
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* The layer under test, as a function of its parameters: returns L = sum R * out in double. */
typedef double (*objective_fn)(void);

/* Compare analytic[i] with the central difference of f in param[i], for every i. */
static void check_fd(const char *what, float *param, const float *analytic, size_t n, objective_fn f, float eps,
                     double rtol, double atol)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const float save = param[i];
        const float xp = save + eps, xm = save - eps;
        param[i] = xp;
        const double fp = f();
        param[i] = xm;
        const double fm = f();
        param[i] = save;
        const double fd = (fp - fm) / ((double)xp - xm);
        if (fabs(analytic[i] - fd) > atol + rtol * fabs(fd)) {
            if (bad++ < 3) CHECK_CLOSE(analytic[i], fd, rtol, atol, what);
        }
    }
    CHECK(bad == 0, "%s: %d of %zu coordinates off", what, bad, n);
}

/* ---- dense ---- */
enum { DB = 3, DC = 7, DOC = 5 };
static float d_inp[DB * DC], d_w[DOC * DC], d_b[DOC], d_out[DB * DOC], d_R[DB * DOC];

static double dense_objective(void)
{
    so__dense_forward(d_out, d_inp, d_w, d_b, DB, DC, DOC);
    return dot(d_out, d_R, DB * DOC);
}

static void test_dense_matches_naive_and_finite_differences(void)
{
    fill_uniform(d_inp, DB * DC, 1, -1, 1);
    fill_uniform(d_w, DOC * DC, 2, -1, 1);
    fill_uniform(d_b, DOC, 3, -1, 1);
    fill_uniform(d_R, DB * DOC, 4, -1, 1);
    dense_objective();
    for (int b = 0; b < DB; b++)
        for (int o = 0; o < DOC; o++) {
            double s = d_b[o];
            for (int c = 0; c < DC; c++) s += (double)d_inp[b * DC + c] * d_w[o * DC + c];
            CHECK_CLOSE(d_out[b * DOC + o], s, 1e-5, 1e-6, "dense forward vs naive");
        }
    float dinp[DB * DC], dw[DOC * DC], db[DOC];
    so__dense_backward(dinp, dw, db, d_R, d_inp, d_w, DB, DC, DOC);
    check_fd("dense dinp", d_inp, dinp, DB * DC, dense_objective, 1e-2f, 1e-3, 1e-4);
    check_fd("dense dweight", d_w, dw, DOC * DC, dense_objective, 1e-2f, 1e-3, 1e-4);
    check_fd("dense dbias", d_b, db, DOC, dense_objective, 1e-2f, 1e-3, 1e-4);
}

/* The blocked forms (fixed blocks of output units / input columns, for sharing a layer between threads) tile the
 * whole layer: assembled over blocks of 2, 2 and 1 units (and 3, 3, 1 input columns) they equal the full forward
 * and backward of the same data to rounding, and the naive sums above. */
static void test_dense_blocks_tile_the_layer(void)
{
    fill_uniform(d_inp, DB * DC, 1, -1, 1);
    fill_uniform(d_w, DOC * DC, 2, -1, 1);
    fill_uniform(d_b, DOC, 3, -1, 1);
    fill_uniform(d_R, DB * DOC, 4, -1, 1);
    float out[DB * DOC], outb[DB * DOC], dinp[DB * DC], dinpb[DB * DC], dw[DOC * DC], dwb[DOC * DC], db[DOC], dbb[DOC];
    so__dense_forward(out, d_inp, d_w, d_b, DB, DC, DOC);
    so__dense_backward(dinp, dw, db, d_R, d_inp, d_w, DB, DC, DOC);
    const int ob[4] = { 0, 2, 4, DOC }, cb[4] = { 0, 3, 6, DC };
    memset(outb, 0xff, sizeof outb);
    memset(dinpb, 0xff, sizeof dinpb);
    memset(dwb, 0xff, sizeof dwb);
    memset(dbb, 0xff, sizeof dbb);
    for (int k = 0; k < 3; k++) {
        so__dense_forward_cols(outb, d_inp, d_w, d_b, DB, DC, DOC, ob[k], ob[k + 1]);
        so__dense_backward_rows(dwb, dbb, d_R, d_inp, DB, DC, DOC, ob[k], ob[k + 1]);
        so__dense_backward_input_cols(dinpb, d_R, d_w, DB, DC, DOC, cb[k], cb[k + 1]);
    }
    for (int i = 0; i < DB * DOC; i++) CHECK_CLOSE(outb[i], out[i], 1e-6, 1e-7, "dense forward, blocks");
    for (int i = 0; i < DOC * DC; i++) CHECK_CLOSE(dwb[i], dw[i], 1e-6, 1e-7, "dense dweight, blocks");
    for (int i = 0; i < DOC; i++) CHECK_CLOSE(dbb[i], db[i], 1e-6, 1e-7, "dense dbias, blocks");
    for (int i = 0; i < DB * DC; i++) CHECK_CLOSE(dinpb[i], dinp[i], 1e-6, 1e-7, "dense dinp, blocks");
}

/* ---- relu ---- */
enum { RN = 40 };
static float r_x[RN], r_y[RN], r_R[RN];

static double relu_objective(void)
{
    memcpy(r_y, r_x, sizeof r_x);
    so__relu_forward(r_y, RN);
    return dot(r_y, r_R, RN);
}

static void test_relu_finite_differences_away_from_the_kink(void)
{
    fill_uniform(r_x, RN, 5, -1, 1);
    fill_uniform(r_R, RN, 6, -1, 1);
    /* keep every input at least 0.05 away from 0, so a perturbation of 1e-2 never crosses the kink */
    for (int i = 0; i < RN; i++) r_x[i] += r_x[i] >= 0 ? 0.05f : -0.05f;
    relu_objective();
    for (int i = 0; i < RN; i++) CHECK(r_y[i] == (r_x[i] > 0 ? r_x[i] : 0.0f), "relu forward at %d", i);
    float dx[RN];
    memcpy(dx, r_R, sizeof dx);
    so__relu_backward(dx, r_y, RN);
    check_fd("relu dx", r_x, dx, RN, relu_objective, 1e-2f, 1e-3, 1e-5);
}

/* ---- convolution ---- */
enum { CB = 2, CH = 6, CW = 5, CC = 3, COC = 4, CK = 5 };
#define CKKC (CK * CK * CC)
static float c_inp[CB * CH * CW * CC], c_w[COC * CKKC], c_b[COC], c_out[CB * CH * CW * COC],
    c_col[CB * CH * CW * CKKC], c_R[CB * CH * CW * COC];

static double conv_objective(void)
{
    so__conv2d_forward(c_out, c_col, c_inp, c_w, c_b, CB, CH, CW, CC, COC, CK);
    return dot(c_out, c_R, CB * CH * CW * COC);
}

/* The textbook convolution (cross-correlation) with zero 'same' padding, six nested loops, in double. */
static double naive_conv_at(const float *inp, const float *w, const float *bias, int b, int h, int x, int o, int H,
                            int W, int C, int K)
{
    const int P = (K - 1) / 2;
    double s = bias[o];
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++)
            for (int c = 0; c < C; c++) {
                const int ih = h + kh - P, iw = x + kw - P;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += (double)inp[((b * H + ih) * W + iw) * C + c] * w[((o * K + kh) * K + kw) * C + c];
            }
    return s;
}

static void test_conv_im2col_matches_naive_loops(void)
{
    fill_uniform(c_inp, sizeof c_inp / sizeof *c_inp, 7, -1, 1);
    fill_uniform(c_w, sizeof c_w / sizeof *c_w, 8, -1, 1);
    fill_uniform(c_b, COC, 9, -1, 1);
    conv_objective();
    double worst = 0.0;
    for (int b = 0; b < CB; b++)
        for (int h = 0; h < CH; h++)
            for (int x = 0; x < CW; x++)
                for (int o = 0; o < COC; o++) {
                    const double want = naive_conv_at(c_inp, c_w, c_b, b, h, x, o, CH, CW, CC, CK);
                    const double err = fabs(c_out[((b * CH + h) * CW + x) * COC + o] - want);
                    if (err > worst) worst = err;
                }
    CHECK(worst <= 1e-5, "im2col conv differs from the naive loops by %g (tolerance 1e-5)", worst);
    /* 3x3 kernel on a 1-channel image too (the first layer of the CNN has C = 1) */
    float inp1[1 * 4 * 4 * 1], w1[2 * 3 * 3 * 1], b1[2] = { 0.5f, -0.25f }, out1[4 * 4 * 2], col1[16 * 9];
    fill_uniform(inp1, 16, 10, -1, 1);
    fill_uniform(w1, 18, 11, -1, 1);
    so__conv2d_forward(out1, col1, inp1, w1, b1, 1, 4, 4, 1, 2, 3);
    for (int h = 0; h < 4; h++)
        for (int x = 0; x < 4; x++)
            for (int o = 0; o < 2; o++)
                CHECK_CLOSE(out1[(h * 4 + x) * 2 + o], naive_conv_at(inp1, w1, b1, 0, h, x, o, 4, 4, 1, 3), 1e-5,
                            1e-6, "3x3 conv vs naive");
}

static void test_col2im_is_the_adjoint_of_im2col(void)
{
    /* <im2col(x), y> = <x, col2im(y)> for random x, y: col2im must be the exact transpose of the gather. */
    static float x[CB * CH * CW * CC], y[CB * CH * CW * CKKC], col[CB * CH * CW * CKKC], back[CB * CH * CW * CC];
    fill_uniform(x, sizeof x / sizeof *x, 12, -1, 1);
    fill_uniform(y, sizeof y / sizeof *y, 13, -1, 1);
    so__im2col(col, x, CB, CH, CW, CC, CK);
    so__col2im(back, y, CB, CH, CW, CC, CK);
    const double lhs = dot(col, y, sizeof y / sizeof *y), rhs = dot(x, back, sizeof x / sizeof *x);
    CHECK_CLOSE(lhs, rhs, 1e-5, 1e-5, "adjoint identity");
}

static void test_conv_finite_differences(void)
{
    fill_uniform(c_inp, sizeof c_inp / sizeof *c_inp, 14, -1, 1);
    fill_uniform(c_w, sizeof c_w / sizeof *c_w, 15, -1, 1);
    fill_uniform(c_b, COC, 16, -1, 1);
    fill_uniform(c_R, sizeof c_R / sizeof *c_R, 17, -1, 1);
    conv_objective();
    static float dinp[sizeof c_inp / sizeof *c_inp], dw[COC * CKKC], db[COC], dcol[sizeof c_col / sizeof *c_col];
    so__conv2d_backward(dinp, dw, db, dcol, c_R, c_col, c_w, CB, CH, CW, CC, COC, CK);
    check_fd("conv dinp", c_inp, dinp, sizeof c_inp / sizeof *c_inp, conv_objective, 1e-2f, 1e-3, 2e-4);
    check_fd("conv dweight", c_w, dw, COC * CKKC, conv_objective, 1e-2f, 1e-3, 2e-4);
    check_fd("conv dbias", c_b, db, COC, conv_objective, 1e-2f, 1e-3, 2e-4);
    /* dinp NULL: only the parameter gradients, the same values */
    float dw2[COC * CKKC], db2[COC];
    so__conv2d_backward(NULL, dw2, db2, NULL, c_R, c_col, c_w, CB, CH, CW, CC, COC, CK);
    CHECK(memcmp(dw, dw2, sizeof dw2) == 0 && memcmp(db, db2, sizeof db2) == 0, "dinp NULL changes dweight");
}

/* ---- max-pooling ---- */
enum { PB = 2, PH = 4, PW = 6, PC = 3 };
#define PN (PB * PH * PW * PC)
static float p_inp[PN], p_out[PN / 4], p_R[PN / 4];
static int32_t p_idx[PN / 4];

static double pool_objective(void)
{
    so__maxpool_forward(p_out, p_idx, p_inp, PB, PH, PW, PC);
    return dot(p_out, p_R, PN / 4);
}

static void test_maxpool_matches_naive_and_finite_differences(void)
{
    /* a random permutation of 0..PN-1, scaled by 0.1: all values distinct, 0.1 apart, so a perturbation of
     * 1e-2 never changes which element is the maximum */
    so_rng r;
    so_rng_init(&r, 7, 0, 0, SO_STREAM_USER + 20);
    for (int i = 0; i < PN; i++) p_inp[i] = (float)i;
    for (int i = PN - 1; i > 0; i--) {
        const int j = (int)so_rng_below(&r, (uint64_t)i + 1);
        const float t = p_inp[i];
        p_inp[i] = p_inp[j];
        p_inp[j] = t;
    }
    for (int i = 0; i < PN; i++) p_inp[i] *= 0.1f;
    fill_uniform(p_R, PN / 4, 21, -1, 1);
    pool_objective();
    for (int b = 0; b < PB; b++)
        for (int i = 0; i < PH / 2; i++)
            for (int j = 0; j < PW / 2; j++)
                for (int c = 0; c < PC; c++) {
                    float m = -INFINITY;
                    for (int di = 0; di < 2; di++)
                        for (int dj = 0; dj < 2; dj++) {
                            const float v = p_inp[((b * PH + 2 * i + di) * PW + 2 * j + dj) * PC + c];
                            m = v > m ? v : m;
                        }
                    CHECK(p_out[((b * (PH / 2) + i) * (PW / 2) + j) * PC + c] == m, "maxpool forward (%d,%d,%d,%d)",
                          b, i, j, c);
                }
    float dinp[PN];
    so__maxpool_backward(dinp, p_R, p_idx, PB, PH, PW, PC);
    check_fd("maxpool dinp", p_inp, dinp, PN, pool_objective, 1e-2f, 1e-3, 1e-5);
}

/* ---- softmax cross-entropy ---- */
enum { SB = 4, SV = 6 };
static float s_logits[SB * SV], s_probs[SB * SV];
static const int32_t s_y[SB] = { 0, 5, 2, 2 };

static double xent_objective(void)
{
    return so__softmax_xent_forward(s_probs, NULL, NULL, s_logits, s_y, SB, SV) / SB;
}

static void test_softmax_xent_values_and_finite_differences(void)
{
    /* hand values: equal logits give log V; logits (1000, 0) are stable and give 0 and 1000 */
    float z[2 * 3] = { 3, 3, 3, 1000, 0, 0 }, p[6], losses[2];
    int32_t y[2] = { 1, 2 };
    int correct = 0;
    const double total = so__softmax_xent_forward(p, losses, &correct, z, y, 2, 3);
    CHECK_CLOSE(losses[0], log(3.0), 1e-6, 0, "uniform logits");
    CHECK_CLOSE(losses[1], 1000.0, 1e-6, 0, "large logit");
    CHECK_CLOSE(total, log(3.0) + 1000.0, 1e-9, 0, "sum of losses");
    CHECK(isfinite(p[3]) && p[3] == 1.0f, "softmax of a large logit: p = %g", p[3]);
    CHECK(correct == 0, "argmax of (3,3,3) is the first, of (1000,0,0) is 0; neither matches: got %d", correct);

    fill_uniform(s_logits, SB * SV, 22, -3, 3);
    xent_objective();
    float d[SB * SV];
    so__softmax_xent_backward(d, s_probs, s_y, SB, SV, 1.0f / SB);
    check_fd("softmax xent dlogits", s_logits, d, SB * SV, xent_objective, 1e-2f, 1e-3, 1e-5);
}

/* ---- logistic loss ---- */
enum { LN = 8 };
static float l_z[LN], l_b[LN] = { 1, -1, 1, 1, -1, -1, 1, -1 };

static double logistic_objective(void) { return so__logistic_loss(NULL, NULL, l_z, l_b, LN, 1.0f) / LN; }

static void test_logistic_loss_values_and_finite_differences(void)
{
    float z[3] = { 0, 800, -800 }, b[3] = { 1, 1, 1 }, dz[3];
    int correct = 0;
    const double total = so__logistic_loss(dz, &correct, z, b, 3, 1.0f);
    CHECK_CLOSE(total, log(2.0) + 0.0 + 800.0, 1e-12, 0, "log 2 + log(1+e^-800) + log(1+e^800)");
    CHECK_CLOSE(dz[0], -0.5, 1e-7, 0, "derivative at 0");
    CHECK_CLOSE(dz[2], -1.0, 1e-7, 0, "derivative at a large negative margin");
    CHECK(correct == 1, "only z = 800 predicts +1 correctly: got %d", correct);

    fill_uniform(l_z, LN, 23, -4, 4);
    float d[LN];
    so__logistic_loss(d, NULL, l_z, l_b, LN, 1.0f / LN);
    check_fd("logistic dz", l_z, d, LN, logistic_objective, 1e-2f, 1e-3, 1e-6);
}

int main(void)
{
    RUN(test_dense_matches_naive_and_finite_differences);
    RUN(test_dense_blocks_tile_the_layer);
    RUN(test_relu_finite_differences_away_from_the_kink);
    RUN(test_conv_im2col_matches_naive_loops);
    RUN(test_col2im_is_the_adjoint_of_im2col);
    RUN(test_conv_finite_differences);
    RUN(test_maxpool_matches_naive_and_finite_differences);
    RUN(test_softmax_xent_values_and_finite_differences);
    RUN(test_logistic_loss_values_and_finite_differences);
    return test_report("layers");
}
