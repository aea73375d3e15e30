/* gpt.c — the character-level GPT: parameter layout, initialization, forward and backward over a batch of
 * windows (GPT-2 block: pre-LayerNorm, causal multi-head attention, 4C GELU MLP, final LayerNorm, output
 * projection tied to the token embedding; karpathy/llm.c, train_gpt2.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lm.h"

/* Tensor order in the flat array: wte (V,C), wpe (T,C), then per block l the 12 tensors below, then lnf.w, lnf.b.
 * Each block's tensors are contiguous, so a per-tensor rule sees each weight matrix on its own. */
static const char *const layer_tensor_names[SO_LM_TENSORS_PER_LAYER] = {
    "ln1.w", "ln1.b", "attn.qkv.w", "attn.qkv.b", "attn.proj.w", "attn.proj.b",
    "ln2.w", "ln2.b", "mlp.fc.w", "mlp.fc.b", "mlp.proj.w", "mlp.proj.b",
};

static void layer_sizes(size_t sz[SO_LM_TENSORS_PER_LAYER], size_t C)
{
    size_t s[SO_LM_TENSORS_PER_LAYER] = { C, C, 3 * C * C, 3 * C, C * C, C, C, C, 4 * C * C, 4 * C, 4 * C * C, C };
    memcpy(sz, s, sizeof s);
}

int so__lm_model_init(so__lm_model *m, const so__lm_shape *s)
{
    memset(m, 0, sizeof *m);
    if (s->vocab < 2 || s->vocab > 256 || s->ctx < 1 || s->channels < 1 || s->heads < 1 ||
        s->channels % s->heads != 0 || s->layers < 1 || s->layers > SO_LM_MAX_LAYERS)
        return so_error(SO_EINVAL, "charlm: bad model shape V=%d T=%d C=%d NH=%d L=%d", s->vocab, s->ctx,
                        s->channels, s->heads, s->layers);
    m->s = *s;
    m->ntensors = 2 + (size_t)SO_LM_TENSORS_PER_LAYER * s->layers + 2;
    m->tensors = calloc(m->ntensors, sizeof *m->tensors);
    m->names = calloc(m->ntensors, 24);
    if (!m->tensors || !m->names) {
        so__lm_model_free(m);
        return so_error(SO_ENOMEM, "charlm: out of memory for the tensor list");
    }
    size_t C = (size_t)s->channels, k = 0, off = 0, sz[SO_LM_TENSORS_PER_LAYER];
    layer_sizes(sz, C);
#define ADD(size_, ...)                                                      \
    do {                                                                     \
        char *name_ = m->names + 24 * k;                                     \
        snprintf(name_, 24, __VA_ARGS__);                                    \
        m->tensors[k].name = name_;                                          \
        m->tensors[k].offset = off;                                          \
        m->tensors[k].size = (size_);                                        \
        off += (size_);                                                      \
        k++;                                                                 \
    } while (0)
    ADD((size_t)s->vocab * C, "wte");
    ADD((size_t)s->ctx * C, "wpe");
    for (int l = 0; l < s->layers; l++)
        for (int i = 0; i < SO_LM_TENSORS_PER_LAYER; i++) ADD(sz[i], "h%d.%s", l, layer_tensor_names[i]);
    ADD(C, "lnf.w");
    ADD(C, "lnf.b");
#undef ADD
    m->dim = off;
    return SO_OK;
}

void so__lm_model_free(so__lm_model *m)
{
    free(m->tensors);
    free(m->names);
    m->tensors = NULL;
    m->names = NULL;
}

void so__lm_bind(so__lm_params *out, const so__lm_model *m, const float *flat)
{
    float *base = (float *)flat;
    const so_tensor *t = m->tensors;
    out->wte = base + t[0].offset;
    out->wpe = base + t[1].offset;
    for (int l = 0; l < m->s.layers; l++) {
        const so_tensor *lt = t + 2 + (size_t)SO_LM_TENSORS_PER_LAYER * l;
        so__lm_layer_params *p = &out->layer[l];
        float **slot[SO_LM_TENSORS_PER_LAYER] = { &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb, &p->attprojw,
                                                  &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw, &p->fcb,
                                                  &p->fcprojw, &p->fcprojb };
        for (int i = 0; i < SO_LM_TENSORS_PER_LAYER; i++) *slot[i] = base + lt[i].offset;
    }
    out->lnfw = base + t[m->ntensors - 2].offset;
    out->lnfb = base + t[m->ntensors - 1].offset;
}

void so__lm_init_params(float *x, const so__lm_model *m, uint64_t seed)
{
    /* GPT-2 / nanoGPT initialization: every weight matrix and embedding ~ N(0, 0.02^2), the two projections that
     * write into the residual stream (attn.proj.w, mlp.proj.w) ~ N(0, (0.02/sqrt(2L))^2) so the stream's variance
     * does not grow with depth, biases 0, LayerNorm gains 1 and shifts 0. The normals are drawn in flat-array
     * order from the one sequence (seed, worker 0, step 0, SO_STREAM_INIT), four draws per normal. With these
     * scales the logits start near 0, so the initial loss is close to ln V. */
    so_rng r;
    so_rng_init(&r, seed, 0, 0, SO_STREAM_INIT);
    double proj_std = 0.02 / sqrt(2.0 * m->s.layers);
    for (size_t k = 0; k < m->ntensors; k++) {
        const so_tensor *t = &m->tensors[k];
        const char *name = t->name;
        size_t len = strlen(name);
        float *v = x + t->offset;
        int is_bias = len >= 2 && strcmp(name + len - 2, ".b") == 0;
        int is_ln = strstr(name, "ln") != NULL;
        if (is_bias) {
            memset(v, 0, t->size * sizeof *v);
        } else if (is_ln) {
            for (size_t i = 0; i < t->size; i++) v[i] = 1.0f;
        } else {
            double std = strstr(name, ".proj.w") ? proj_std : 0.02;
            for (size_t i = 0; i < t->size; i++) v[i] = (float)(std * so_rng_normal(&r));
        }
    }
}

/* Per-block activations kept for the backward pass. */
typedef struct block_acts {
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *preatt, *att, *attproj, *res2;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_tanh, *fch_gelu, *fcproj, *res3;
} block_acts;

struct so__lm_acts {
    int cap;
    int *inputs, *targets; /* (cap, T) */
    float *encoded, *lnf, *lnf_mean, *lnf_rstd, *logits, *probs;
    block_acts block[SO_LM_MAX_LAYERS];
    /* backward scratch, reused by every block */
    float *dres, *dln, *dqkv, *datty, *dpreatt, *datt, *dfch, *dfch_gelu, *dlnf, *dlogits;
    float *mem;
};

so__lm_acts *so__lm_acts_new(const so__lm_model *m, int cap)
{
    size_t N = (size_t)cap * m->s.ctx, C = m->s.channels, V = m->s.vocab, NH = m->s.heads, T = m->s.ctx;
    size_t att = (size_t)cap * NH * T * T;
    size_t per_block = N * C * 7 + N * 4 + N * 3 * C + 2 * att + N * 4 * C * 3;
    size_t total = N * C * 2 + N * 2 + 2 * N * V                       /* encoded, lnf, lnf stats, logits, probs */
                   + per_block * m->s.layers                             /* blocks */
                   + N * C * 4 + N * 3 * C + 2 * att + 2 * N * 4 * C + N * V; /* scratch */
    so__lm_acts *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cap = cap;
    a->inputs = malloc(N * sizeof *a->inputs);
    a->targets = malloc(N * sizeof *a->targets);
    a->mem = calloc(total, sizeof *a->mem);
    if (!a->inputs || !a->targets || !a->mem) {
        so__lm_acts_free(a);
        return NULL;
    }
    float *p = a->mem;
#define TAKE(ptr, n) do { (ptr) = p; p += (n); } while (0)
    TAKE(a->encoded, N * C);
    TAKE(a->lnf, N * C);
    TAKE(a->lnf_mean, N);
    TAKE(a->lnf_rstd, N);
    TAKE(a->logits, N * V);
    TAKE(a->probs, N * V);
    for (int l = 0; l < m->s.layers; l++) {
        block_acts *b = &a->block[l];
        TAKE(b->ln1, N * C);
        TAKE(b->ln1_mean, N);
        TAKE(b->ln1_rstd, N);
        TAKE(b->qkv, N * 3 * C);
        TAKE(b->atty, N * C);
        TAKE(b->preatt, att);
        TAKE(b->att, att);
        TAKE(b->attproj, N * C);
        TAKE(b->res2, N * C);
        TAKE(b->ln2, N * C);
        TAKE(b->ln2_mean, N);
        TAKE(b->ln2_rstd, N);
        TAKE(b->fch, N * 4 * C);
        TAKE(b->fch_tanh, N * 4 * C);
        TAKE(b->fch_gelu, N * 4 * C);
        TAKE(b->fcproj, N * C);
        TAKE(b->res3, N * C);
    }
    TAKE(a->dres, N * C);
    TAKE(a->dln, N * C);
    TAKE(a->datty, N * C);
    TAKE(a->dlnf, N * C);
    TAKE(a->dqkv, N * 3 * C);
    TAKE(a->dpreatt, att);
    TAKE(a->datt, att);
    TAKE(a->dfch, N * 4 * C);
    TAKE(a->dfch_gelu, N * 4 * C);
    TAKE(a->dlogits, N * V);
#undef TAKE
    return a;
}

void so__lm_acts_free(so__lm_acts *a)
{
    if (!a) return;
    free(a->inputs);
    free(a->targets);
    free(a->mem);
    free(a);
}

void so__lm_acts_load(so__lm_acts *a, const so__lm_model *m, const uint8_t *tokens, const size_t *starts, int B)
{
    int T = m->s.ctx;
    for (int b = 0; b < B; b++) {
        const uint8_t *w = tokens + starts[b];
        for (int t = 0; t < T; t++) {
            a->inputs[b * T + t] = w[t];
            a->targets[b * T + t] = w[t + 1];
        }
    }
}

double so__lm_forward(so__lm_acts *a, const so__lm_model *m, const float *x, int B, long *correct)
{
    int T = m->s.ctx, C = m->s.channels, NH = m->s.heads, V = m->s.vocab, N = B * T;
    so__lm_params w;
    so__lm_bind(&w, m, x);
    so__lm_encoder_forward(a->encoded, a->inputs, w.wte, w.wpe, B, T, C);
    const float *res = a->encoded;
    for (int l = 0; l < m->s.layers; l++) {
        block_acts *b = &a->block[l];
        const so__lm_layer_params *p = &w.layer[l];
        so__lm_layernorm_forward(b->ln1, b->ln1_mean, b->ln1_rstd, res, p->ln1w, p->ln1b, N, C);
        so__lm_matmul_forward(b->qkv, b->ln1, p->qkvw, p->qkvb, N, C, 3 * C);
        so__lm_attention_forward(b->atty, b->preatt, b->att, b->qkv, B, T, C, NH);
        so__lm_matmul_forward(b->attproj, b->atty, p->attprojw, p->attprojb, N, C, C);
        so__lm_residual_forward(b->res2, res, b->attproj, N * C);
        so__lm_layernorm_forward(b->ln2, b->ln2_mean, b->ln2_rstd, b->res2, p->ln2w, p->ln2b, N, C);
        so__lm_matmul_forward(b->fch, b->ln2, p->fcw, p->fcb, N, C, 4 * C);
        so__lm_gelu_forward(b->fch_gelu, b->fch_tanh, b->fch, N * 4 * C);
        so__lm_matmul_forward(b->fcproj, b->fch_gelu, p->fcprojw, p->fcprojb, N, 4 * C, C);
        so__lm_residual_forward(b->res3, b->res2, b->fcproj, N * C);
        res = b->res3;
    }
    so__lm_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, res, w.lnfw, w.lnfb, N, C);
    so__lm_matmul_forward(a->logits, a->lnf, w.wte, NULL, N, C, V); /* output layer tied to wte */
    return so__lm_softmax_xent_forward(a->probs, correct, a->logits, a->targets, N, V);
}

void so__lm_backward(float *g, so__lm_acts *a, const so__lm_model *m, const float *x, int B, float scale)
{
    int T = m->s.ctx, C = m->s.channels, NH = m->s.heads, V = m->s.vocab, N = B * T, L = m->s.layers;
    size_t NC = (size_t)N * C;
    so__lm_params w, d;
    so__lm_bind(&w, m, x);
    so__lm_bind(&d, m, g);
    memset(a->dlogits, 0, (size_t)N * V * sizeof(float));
    so__lm_softmax_xent_backward(a->dlogits, a->probs, a->targets, N, V, scale);
    memset(a->dlnf, 0, NC * sizeof(float));
    so__lm_matmul_backward(a->dlnf, d.wte, NULL, a->dlogits, a->lnf, w.wte, N, C, V);
    /* dres is the gradient of the residual stream, carried down through the blocks */
    memset(a->dres, 0, NC * sizeof(float));
    const float *top = a->block[L - 1].res3;
    so__lm_layernorm_backward(a->dres, d.lnfw, d.lnfb, a->dlnf, top, w.lnfw, a->lnf_mean, a->lnf_rstd, N, C);
    for (int l = L - 1; l >= 0; l--) {
        block_acts *b = &a->block[l];
        const so__lm_layer_params *p = &w.layer[l];
        so__lm_layer_params *dp = &d.layer[l];
        const float *res = l == 0 ? a->encoded : a->block[l - 1].res3;
        /* res3 = res2 + fcproj: dres flows to both unchanged */
        memset(a->dfch_gelu, 0, NC * 4 * sizeof(float));
        so__lm_matmul_backward(a->dfch_gelu, dp->fcprojw, dp->fcprojb, a->dres, b->fch_gelu, p->fcprojw, N, 4 * C, C);
        memset(a->dfch, 0, NC * 4 * sizeof(float));
        so__lm_gelu_backward(a->dfch, b->fch, b->fch_tanh, a->dfch_gelu, N * 4 * C);
        memset(a->dln, 0, NC * sizeof(float));
        so__lm_matmul_backward(a->dln, dp->fcw, dp->fcb, a->dfch, b->ln2, p->fcw, N, C, 4 * C);
        so__lm_layernorm_backward(a->dres, dp->ln2w, dp->ln2b, a->dln, b->res2, p->ln2w, b->ln2_mean, b->ln2_rstd,
                                  N, C);
        /* res2 = res + attproj */
        memset(a->datty, 0, NC * sizeof(float));
        so__lm_matmul_backward(a->datty, dp->attprojw, dp->attprojb, a->dres, b->atty, p->attprojw, N, C, C);
        memset(a->dqkv, 0, NC * 3 * sizeof(float));
        so__lm_attention_backward(a->dqkv, a->dpreatt, a->datt, a->datty, b->qkv, b->att, B, T, C, NH);
        memset(a->dln, 0, NC * sizeof(float));
        so__lm_matmul_backward(a->dln, dp->qkvw, dp->qkvb, a->dqkv, b->ln1, p->qkvw, N, C, 3 * C);
        so__lm_layernorm_backward(a->dres, dp->ln1w, dp->ln1b, a->dln, res, p->ln1w, b->ln1_mean, b->ln1_rstd, N, C);
    }
    so__lm_encoder_backward(d.wte, d.wpe, a->dres, a->inputs, B, T, C);
}
