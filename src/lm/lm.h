/* lm.h — inside the `charlm` problem: a tiny GPT-style character-level language model (after karpathy/llm.c,
 * train_gpt2.c), its layer kernels, its corpus, and the hooks the tests use.
 *
 * Layers are pairs of plain functions, llm.c style: `*_forward(out, inp, weights..., sizes)` and
 * `*_backward(dinp, dweights..., dout, inp, weights..., sizes)`. Every backward ADDS into its gradient outputs
 * (dinp, dweight, dbias), so the caller zeroes them once; that lets the residual stream and the tied embedding
 * collect contributions from several places. N = B*T rows. */
#ifndef SO_LM_H
#define SO_LM_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/problem.h"

/* ---- Layer kernels (layers.c) ---- */
void so__lm_encoder_forward(float *restrict out, const int *restrict inp, const float *restrict wte,
                            const float *restrict wpe, int B, int T, int C);
void so__lm_encoder_backward(float *restrict dwte, float *restrict dwpe, const float *restrict dout,
                             const int *restrict inp, int B, int T, int C);
void so__lm_layernorm_forward(float *restrict out, float *restrict mean, float *restrict rstd,
                              const float *restrict inp, const float *restrict weight, const float *restrict bias,
                              int N, int C);
void so__lm_layernorm_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                               const float *restrict dout, const float *restrict inp, const float *restrict weight,
                               const float *restrict mean, const float *restrict rstd, int N, int C);
void so__lm_matmul_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                           const float *restrict bias, int N, int C, int OC);
void so__lm_matmul_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                            const float *restrict dout, const float *restrict inp, const float *restrict weight,
                            int N, int C, int OC);
void so__lm_attention_forward(float *restrict out, float *restrict preatt, float *restrict att,
                              const float *restrict inp, int B, int T, int C, int NH);
void so__lm_attention_backward(float *restrict dinp, float *restrict dpreatt, float *restrict datt,
                               const float *restrict dout, const float *restrict inp, const float *restrict att,
                               int B, int T, int C, int NH);
void so__lm_gelu_forward(float *restrict out, float *restrict th, const float *restrict inp, int N);
void so__lm_gelu_backward(float *restrict dinp, const float *restrict inp, const float *restrict th,
                          const float *restrict dout, int N);
void so__lm_residual_forward(float *restrict out, const float *restrict inp1, const float *restrict inp2, int N);
double so__lm_softmax_xent_forward(float *restrict probs, long *restrict correct, const float *restrict logits,
                                   const int *restrict targets, int N, int V);
void so__lm_softmax_xent_backward(float *restrict dlogits, const float *restrict probs,
                                  const int *restrict targets, int N, int V, float scale);

/* ---- The model (gpt.c) ---- */
#define SO_LM_MAX_LAYERS 8
#define SO_LM_TENSORS_PER_LAYER 12

typedef struct so__lm_shape {
    int vocab;    /* V: distinct characters of the corpus */
    int ctx;      /* T: context length */
    int channels; /* C: model width */
    int heads;    /* NH: attention heads, C % NH == 0 */
    int layers;   /* L: transformer blocks, 1..SO_LM_MAX_LAYERS */
} so__lm_shape;

/* Pointers of the named tensors into the one flat parameter (or gradient) array. */
typedef struct so__lm_layer_params {
    float *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb, *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb;
} so__lm_layer_params;

typedef struct so__lm_params {
    float *wte, *wpe;
    so__lm_layer_params layer[SO_LM_MAX_LAYERS];
    float *lnfw, *lnfb;
} so__lm_params;

typedef struct so__lm_model {
    so__lm_shape s;
    size_t dim;
    size_t ntensors;
    so_tensor *tensors;  /* names point into names[] */
    char *names;
} so__lm_model;

int so__lm_model_init(so__lm_model *m, const so__lm_shape *s);
void so__lm_model_free(so__lm_model *m);
/* Point every tensor of `out` into the flat array `flat` (parameters or their gradient). */
void so__lm_bind(so__lm_params *out, const so__lm_model *m, const float *flat);
/* GPT-2's initialization, seeded from (seed, 0, 0, SO_STREAM_INIT). */
void so__lm_init_params(float *x, const so__lm_model *m, uint64_t seed);

/* Activations and their gradients for up to `cap` windows. */
typedef struct so__lm_acts so__lm_acts;
so__lm_acts *so__lm_acts_new(const so__lm_model *m, int cap);
void so__lm_acts_free(so__lm_acts *a);
/* Load B windows of T+1 token ids each (window b starts at tokens + starts[b]): inputs are the first T, targets
 * the last T. */
void so__lm_acts_load(so__lm_acts *a, const so__lm_model *m, const uint8_t *tokens, const size_t *starts, int B);
/* Forward pass over the loaded windows; returns the SUM of the B*T next-character losses (nats) and adds the
 * number of positions whose argmax prediction is the target to *correct (may be NULL). */
double so__lm_forward(so__lm_acts *a, const so__lm_model *m, const float *x, int B, long *correct);
/* Backward pass after so__lm_forward: ADDS scale * d(sum of losses)/dx to g. */
void so__lm_backward(float *g, so__lm_acts *a, const so__lm_model *m, const float *x, int B, float scale);

/* ---- The corpus (corpus.c) ---- */
#define SO_LM_FORTUNES_DIR "/usr/share/games/fortunes"

typedef struct so__lm_corpus {
    uint8_t *tokens;       /* n token ids */
    size_t n;
    size_t n_train;        /* training text: tokens[0, n_train), after train_limit */
    size_t test_start;     /* held-out text: tokens[test_start, n), the last n/10 characters */
    int vocab;
    uint8_t byte_of[256];  /* token id -> byte */
} so__lm_corpus;

/* path NULL or "fortunes": every text file of SO_LM_FORTUNES_DIR (names sorted, .dat/.u8 skipped);
 * a directory: the same for that directory; otherwise one text file. */
int so__lm_corpus_load(so__lm_corpus *c, const char *path, size_t train_limit);
void so__lm_corpus_free(so__lm_corpus *c);

/* ---- Test hooks (charlm.c) ---- */
/* The charlm problem of cfg with a chosen model shape (vocab is taken from the corpus); NULL on error. */
so_problem *so__lm_create_shape(const so_problem_config *cfg, const so__lm_shape *shape);
/* The window starts worker j's minibatch (step, sub) uses: batch entries. */
int so__lm_batch_starts(const so_problem *p, size_t *starts, int worker, long step, int sub);
const so__lm_corpus *so__lm_corpus_of(const so_problem *p);
const so__lm_model *so__lm_model_of(const so_problem *p);

#endif
