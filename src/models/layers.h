/* layers.h — the layers of the data problems, as llm.c-style pairs of plain functions on flat float arrays:
 * outputs first, then inputs, then sizes. Activations are row-major with the batch first; images are NHWC
 * (batch, height, width, channels), so one im2col + sgemm covers the whole batch. Backward functions overwrite
 * their outputs (they do not accumulate). Every gradient here is checked by finite differences in
 * tests/test_layers.c. */
#ifndef SO_MODELS_LAYERS_H
#define SO_MODELS_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* out (B,OC) = inp (B,C) weight(OC,C)^T + bias(OC). weight is laid out like PyTorch's nn.Linear. */
void so__dense_forward(float *out, const float *inp, const float *weight, const float *bias, int B, int C, int OC);
/* dout (B,OC) -> dinp (B,C) (NULL: not wanted), dweight (OC,C), dbias (OC) (sums over the batch). */
void so__dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, int B, int C, int OC);

/* The same products restricted to a block, for splitting one layer over threads in a fixed way (each block one
 * sgemm, so the bits depend on the blocks, not on which thread runs them):
 * columns o0 .. o1-1 of out (B,OC) in so__dense_forward; */
void so__dense_forward_cols(float *out, const float *inp, const float *weight, const float *bias, int B, int C,
                            int OC, int o0, int o1);
/* rows o0 .. o1-1 of dweight (OC,C) and entries o0 .. o1-1 of dbias (OC); */
void so__dense_backward_rows(float *dweight, float *dbias, const float *dout, const float *inp, int B, int C, int OC,
                             int o0, int o1);
/* columns c0 .. c1-1 of dinp (B,C). */
void so__dense_backward_input_cols(float *dinp, const float *dout, const float *weight, int B, int C, int OC, int c0,
                                   int c1);

/* x (n): x <- max(x, 0) in place. */
void so__relu_forward(float *x, size_t n);
/* dx (n), y (n) the ReLU's output: dx <- dx * [y > 0] in place. */
void so__relu_backward(float *dx, const float *y, size_t n);

/* Convolutions: stride 1, 'same' zero padding (K-1)/2 (K odd), as in the TensorFlow CIFAR-10 tutorial CNN that
 * seed 001 §4.2 trains. The weight is (OC, K, K, C): one row per output channel, ordered like an im2col row. */
/* col (B*H*W, K*K*C) <- the K x K patches of inp (B,H,W,C), zeros outside the image. */
void so__im2col(float *col, const float *inp, int B, int H, int W, int C, int K);
/* dinp (B,H,W,C) <- the sum over patches of dcol (B*H*W, K*K*C): the adjoint of so__im2col. */
void so__col2im(float *dinp, const float *dcol, int B, int H, int W, int C, int K);
/* out (B,H,W,OC) = conv(inp (B,H,W,C), weight (OC,K,K,C)) + bias (OC); col (B*H*W, K*K*C) is scratch that
 * keeps the patches for the backward pass. */
void so__conv2d_forward(float *out, float *col, const float *inp, const float *weight, const float *bias, int B,
                        int H, int W, int C, int OC, int K);
/* dout (B,H,W,OC), col from the forward pass -> dweight (OC,K,K,C), dbias (OC), and dinp (B,H,W,C) through the
 * scratch dcol (B*H*W, K*K*C) (dinp NULL: the layer sees the data, no input gradient; dcol unused). dcol may be
 * col itself: col is read only before dcol is written, which saves the largest buffer of the CNN. */
void so__conv2d_backward(float *dinp, float *dweight, float *dbias, float *dcol, const float *dout,
                         const float *col, const float *weight, int B, int H, int W, int C, int OC, int K);

/* 2x2 max-pooling, stride 2 (H, W even): out (B,H/2,W/2,C); idx (same shape) gets the flat index into inp of
 * each maximum (the first one on ties, in row-major window order). */
void so__maxpool_forward(float *out, int32_t *idx, const float *inp, int B, int H, int W, int C);
/* dinp (B,H,W,C) <- dout (B,H/2,W/2,C) routed to the saved maxima, zero elsewhere. */
void so__maxpool_backward(float *dinp, const float *dout, const int32_t *idx, int B, int H, int W, int C);

/* Softmax cross-entropy. probs (B,V) <- softmax(logits (B,V)) through a stable log-sum-exp; losses (B) (may be
 * NULL) <- -log p[y_b]; returns the sum of the losses in double, and adds the number of rows whose first argmax
 * equals y to *correct (correct may be NULL). */
double so__softmax_xent_forward(float *probs, float *losses, int *correct, const float *logits, const int32_t *y,
                                int B, int V);
/* dlogits (B,V) = scale * (probs - onehot(y)); scale = 1/B gives the gradient of the batch mean. */
void so__softmax_xent_backward(float *dlogits, const float *probs, const int32_t *y, int B, int V, float scale);

/* Logistic loss on margins: z (n) the scores a_i^T x, b (n) labels in {-1,+1}. Returns sum_i log(1+exp(-b_i z_i))
 * in double (stable for any sign of the margin); dz (n) (may be NULL) <- scale * d/dz_i = -scale b_i s(-b_i z_i)
 * with s the logistic function; adds to *correct the rows with sign agreement (z > 0 predicts +1). */
double so__logistic_loss(float *dz, int *correct, const float *z, const float *b, size_t n, float scale);

#endif
