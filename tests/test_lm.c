/* test_lm.c — the `charlm` problem (src/lm/): every layer's backward pass and the whole model's gradient against
 * central finite differences of NAIVE DOUBLE-PRECISION reference implementations written here, the loss at
 * initialization against ln V, corpus loading errors, and reproducible minibatches.
 *
 * Finite differences are taken on the double references (step h = 1e-5, so truncation and rounding errors are
 * ~1e-10) and compared with the float analytic gradient with |analytic - fd| <= 1e-3 |fd| + 1e-4 max|analytic|
 * over the tensor: float32 sums of a few hundred terms carry relative errors ~1e-5 of the magnitudes summed,
 * so 1e-4 of the tensor's largest entry bounds them with a margin, while a wrong formula is off by O(1). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "../src/core/vexp.h"
#include "../src/lm/lm.h"

#define FD_H 1e-5
#define GRAD_RTOL 1e-3
#define GRAD_ATOL_REL 1e-4

static so_rng rng;

static void fill(float *f, double *d, size_t n, double mean, double std)
{
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)(mean + std * so_rng_normal(&rng));
        if (d) d[i] = f[i];
    }
}

/* ---- Naive double references (independent of src/lm) ---- */
static void ref_layernorm(double *out, const double *x, const double *w, const double *b, int N, int C)
{
    for (int n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (int i = 0; i < C; i++) m += x[n * C + i] / C;
        for (int i = 0; i < C; i++) v += (x[n * C + i] - m) * (x[n * C + i] - m) / C;
        for (int i = 0; i < C; i++) out[n * C + i] = (x[n * C + i] - m) / sqrt(v + 1e-5) * w[i] + b[i];
    }
}

static void ref_matmul(double *out, const double *x, const double *w, const double *b, int N, int C, int OC)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0;
            for (int i = 0; i < C; i++) s += x[n * C + i] * w[o * C + i];
            out[n * OC + o] = s;
        }
}

static void ref_attention(double *out, const double *qkv, int B, int T, int C, int NH)
{
    int hs = C / NH;
    double *s = malloc(T * sizeof *s);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const double *q = qkv + (b * T + t) * 3 * C + h * hs;
                double mx = -INFINITY, z = 0;
                for (int u = 0; u <= t; u++) {
                    const double *k = qkv + (b * T + u) * 3 * C + C + h * hs;
                    s[u] = 0;
                    for (int i = 0; i < hs; i++) s[u] += q[i] * k[i] / sqrt(hs);
                    if (s[u] > mx) mx = s[u];
                }
                for (int u = 0; u <= t; u++) z += exp(s[u] - mx);
                for (int i = 0; i < hs; i++) {
                    double o = 0;
                    for (int u = 0; u <= t; u++) o += exp(s[u] - mx) / z * qkv[(b * T + u) * 3 * C + 2 * C + h * hs + i];
                    out[(b * T + t) * C + h * hs + i] = o;
                }
            }
    free(s);
}

static double ref_gelu(double x) { return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x))); }

static double ref_xent_sum(const double *z, const int *tgt, int N, int V)
{
    double total = 0;
    for (int n = 0; n < N; n++) {
        double mx = z[n * V], s = 0;
        for (int v = 1; v < V; v++) mx = fmax(mx, z[n * V + v]);
        for (int v = 0; v < V; v++) s += exp(z[n * V + v] - mx);
        total += log(s) + mx - z[n * V + tgt[n]];
    }
    return total;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Compare analytic[i] with a central difference of f() in param[i] at `ncoords` random coordinates (all when the
 * array is that small). */
typedef double (*loss_fn)(void *ctx);
static void check_grad(const char *what, loss_fn f, void *ctx, double *param, size_t n, const float *analytic,
                       int ncoords)
{
    double gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(analytic[i]));
    for (int c = 0; c < ncoords && (size_t)c < n; c++) {
        size_t i = n <= (size_t)ncoords ? (size_t)c : (size_t)so_rng_below(&rng, n);
        double keep = param[i];
        param[i] = keep + FD_H;
        double up = f(ctx);
        param[i] = keep - FD_H;
        double down = f(ctx);
        param[i] = keep;
        char label[96];
        snprintf(label, sizeof label, "%s[%zu]", what, i);
        CHECK_CLOSE(analytic[i], (up - down) / (2 * FD_H), GRAD_RTOL, GRAD_ATOL_REL * gmax + 1e-12, label);
    }
}

/* ---- Layer tests: L = sum(out * R) for a random R, so dout = R ---- */
enum { B_ = 2, T_ = 5, C_ = 8, NH_ = 2, V_ = 7, N_ = B_ * T_ };

typedef struct layer_ctx {
    double *x, *w, *b, *wpe, *R, *tmp;
    int *ids;
} layer_ctx;

static double ln_loss(void *p)
{
    layer_ctx *c = p;
    ref_layernorm(c->tmp, c->x, c->w, c->b, N_, C_);
    return dot(c->tmp, c->R, N_ * C_);
}

static void test_layernorm_backward_matches_finite_differences(void)
{
    float x[N_ * C_], w[C_], b[C_], R[N_ * C_], out[N_ * C_], mean[N_], rstd[N_];
    double xd[N_ * C_], wd[C_], bd[C_], Rd[N_ * C_], tmp[N_ * C_];
    fill(x, xd, N_ * C_, 0.3, 1.5);
    fill(w, wd, C_, 1.0, 0.3);
    fill(b, bd, C_, 0.0, 0.3);
    fill(R, Rd, N_ * C_, 0.0, 1.0);
    so__lm_layernorm_forward(out, mean, rstd, x, w, b, N_, C_);
    ref_layernorm(tmp, xd, wd, bd, N_, C_);
    for (int i = 0; i < N_ * C_; i++) CHECK_CLOSE(out[i], tmp[i], 1e-5, 1e-5, "layernorm forward");
    float dx[N_ * C_] = { 0 }, dw[C_] = { 0 }, db[C_] = { 0 };
    so__lm_layernorm_backward(dx, dw, db, R, x, w, mean, rstd, N_, C_);
    layer_ctx c = { .x = xd, .w = wd, .b = bd, .R = Rd, .tmp = tmp };
    check_grad("layernorm dinp", ln_loss, &c, xd, N_ * C_, dx, N_ * C_);
    check_grad("layernorm dweight", ln_loss, &c, wd, C_, dw, C_);
    check_grad("layernorm dbias", ln_loss, &c, bd, C_, db, C_);
}

enum { OC_ = 6 };
static double mm_loss(void *p)
{
    layer_ctx *c = p;
    ref_matmul(c->tmp, c->x, c->w, c->b, N_, C_, OC_);
    return dot(c->tmp, c->R, N_ * OC_);
}

static void test_matmul_backward_matches_finite_differences(void)
{
    float x[N_ * C_], w[OC_ * C_], b[OC_], R[N_ * OC_], out[N_ * OC_];
    double xd[N_ * C_], wd[OC_ * C_], bd[OC_], Rd[N_ * OC_], tmp[N_ * OC_];
    fill(x, xd, N_ * C_, 0.0, 1.0);
    fill(w, wd, OC_ * C_, 0.0, 0.5);
    fill(b, bd, OC_, 0.0, 0.5);
    fill(R, Rd, N_ * OC_, 0.0, 1.0);
    for (int with_bias = 0; with_bias <= 1; with_bias++) {
        so__lm_matmul_forward(out, x, w, with_bias ? b : NULL, N_, C_, OC_);
        ref_matmul(tmp, xd, wd, with_bias ? bd : NULL, N_, C_, OC_);
        for (int i = 0; i < N_ * OC_; i++) CHECK_CLOSE(out[i], tmp[i], 1e-5, 1e-5, "matmul forward");
        float dx[N_ * C_] = { 0 }, dw[OC_ * C_] = { 0 }, db[OC_] = { 0 };
        so__lm_matmul_backward(dx, dw, with_bias ? db : NULL, R, x, w, N_, C_, OC_);
        layer_ctx c = { .x = xd, .w = wd, .b = with_bias ? bd : NULL, .R = Rd, .tmp = tmp };
        check_grad("matmul dinp", mm_loss, &c, xd, N_ * C_, dx, N_ * C_);
        check_grad("matmul dweight", mm_loss, &c, wd, OC_ * C_, dw, OC_ * C_);
        if (with_bias) check_grad("matmul dbias", mm_loss, &c, bd, OC_, db, OC_);
    }
}

static double att_loss(void *p)
{
    layer_ctx *c = p;
    ref_attention(c->tmp, c->x, B_, T_, C_, NH_);
    return dot(c->tmp, c->R, N_ * C_);
}

static void test_attention_backward_matches_finite_differences(void)
{
    float qkv[N_ * 3 * C_], R[N_ * C_], out[N_ * C_], pre[B_ * NH_ * T_ * T_], att[B_ * NH_ * T_ * T_];
    double qd[N_ * 3 * C_], Rd[N_ * C_], tmp[N_ * C_];
    fill(qkv, qd, N_ * 3 * C_, 0.0, 1.0);
    fill(R, Rd, N_ * C_, 0.0, 1.0);
    so__lm_attention_forward(out, pre, att, qkv, B_, T_, C_, NH_);
    ref_attention(tmp, qd, B_, T_, C_, NH_);
    for (int i = 0; i < N_ * C_; i++) CHECK_CLOSE(out[i], tmp[i], 1e-5, 1e-5, "attention forward");
    float dq[N_ * 3 * C_] = { 0 }, dpre[B_ * NH_ * T_ * T_], datt[B_ * NH_ * T_ * T_];
    so__lm_attention_backward(dq, dpre, datt, R, qkv, att, B_, T_, C_, NH_);
    layer_ctx c = { .x = qd, .R = Rd, .tmp = tmp };
    check_grad("attention dinp", att_loss, &c, qd, N_ * 3 * C_, dq, N_ * 3 * C_);
}

static double gelu_loss(void *p)
{
    layer_ctx *c = p;
    double s = 0;
    for (int i = 0; i < N_ * C_; i++) s += ref_gelu(c->x[i]) * c->R[i];
    return s;
}

static void test_gelu_backward_matches_finite_differences(void)
{
    float x[N_ * C_], R[N_ * C_], out[N_ * C_], th[N_ * C_], dx[N_ * C_] = { 0 };
    double xd[N_ * C_], Rd[N_ * C_];
    fill(x, xd, N_ * C_, 0.0, 2.0);
    fill(R, Rd, N_ * C_, 0.0, 1.0);
    so__lm_gelu_forward(out, th, x, N_ * C_);
    for (int i = 0; i < N_ * C_; i++) CHECK_CLOSE(out[i], ref_gelu(xd[i]), 1e-5, 1e-6, "gelu forward");
    so__lm_gelu_backward(dx, x, th, R, N_ * C_);
    layer_ctx c = { .x = xd, .R = Rd };
    check_grad("gelu dinp", gelu_loss, &c, xd, N_ * C_, dx, N_ * C_);
}

static double enc_loss(void *p)
{
    layer_ctx *c = p;
    double s = 0;
    for (int b = 0; b < B_; b++)
        for (int t = 0; t < T_; t++)
            for (int i = 0; i < C_; i++)
                s += (c->w[c->ids[b * T_ + t] * C_ + i] + c->wpe[t * C_ + i]) * c->R[(b * T_ + t) * C_ + i];
    return s;
}

static void test_encoder_backward_matches_finite_differences(void)
{
    float wte[V_ * C_], wpe[T_ * C_], R[N_ * C_], out[N_ * C_], dwte[V_ * C_] = { 0 }, dwpe[T_ * C_] = { 0 };
    double wted[V_ * C_], wped[T_ * C_], Rd[N_ * C_];
    int ids[N_];
    fill(wte, wted, V_ * C_, 0.0, 1.0);
    fill(wpe, wped, T_ * C_, 0.0, 1.0);
    fill(R, Rd, N_ * C_, 0.0, 1.0);
    for (int i = 0; i < N_; i++) ids[i] = (int)so_rng_below(&rng, V_ - 1); /* token V-1 unused: its grad is 0 */
    so__lm_encoder_forward(out, ids, wte, wpe, B_, T_, C_);
    for (int i = 0; i < N_ * C_; i++)
        CHECK_CLOSE(out[i], wted[ids[i / C_] * C_ + i % C_] + wped[(i / C_ % T_) * C_ + i % C_], 1e-6, 1e-6,
                    "encoder forward");
    so__lm_encoder_backward(dwte, dwpe, R, ids, B_, T_, C_);
    layer_ctx c = { .w = wted, .wpe = wped, .R = Rd, .ids = ids };
    check_grad("encoder dwte", enc_loss, &c, wted, V_ * C_, dwte, V_ * C_);
    check_grad("encoder dwpe", enc_loss, &c, wped, T_ * C_, dwpe, T_ * C_);
}

static double xent_loss(void *p)
{
    layer_ctx *c = p;
    return ref_xent_sum(c->x, c->ids, N_, V_) / N_;
}

static void test_softmax_xent_matches_reference_and_finite_differences(void)
{
    float z[N_ * V_], probs[N_ * V_], dz[N_ * V_] = { 0 };
    double zd[N_ * V_];
    int tgt[N_];
    fill(z, zd, N_ * V_, 0.0, 3.0);
    for (int i = 0; i < N_; i++) tgt[i] = (int)so_rng_below(&rng, V_);
    long correct = 0, want = 0;
    double sum = so__lm_softmax_xent_forward(probs, &correct, z, tgt, N_, V_);
    CHECK_CLOSE(sum, ref_xent_sum(zd, tgt, N_, V_), 1e-6, 1e-6, "cross-entropy sum");
    for (int n = 0; n < N_; n++) {
        int arg = 0;
        for (int v = 1; v < V_; v++)
            if (zd[n * V_ + v] > zd[n * V_ + arg]) arg = v;
        want += arg == tgt[n];
    }
    CHECK(correct == want, "argmax hits %ld, want %ld", correct, want);
    so__lm_softmax_xent_backward(dz, probs, tgt, N_, V_, 1.0f / N_);
    layer_ctx c = { .x = zd, .ids = tgt };
    check_grad("softmax-xent dlogits", xent_loss, &c, zd, N_ * V_, dz, N_ * V_);
}

/* ---- Test corpora ---- */
static char tmpdir[64];

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    fwrite(text, 1, n, f);
    fclose(f);
}

/* n characters of word salad over a small alphabet (deterministic): enough structure for a model, many
 * distinct characters for ln V to be a clear target */
static char *word_salad(size_t n)
{
    static const char *words[] = { "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "a ", "lazy ", "dog",
                                    ". ", "\n", "Why? ", "42, ", "Zebra-like ", "XYZ; " };
    char *s = malloc(n + 16);
    size_t k = 0;
    while (k < n) {
        const char *w = words[so_rng_below(&rng, sizeof words / sizeof *words)];
        size_t len = strlen(w);
        memcpy(s + k, w, len);
        k += len;
    }
    s[n] = 0;
    return s;
}

/* The charlm problem of a chosen shape (so__lm_create_shape); *rc gets the failure's code. */
static so_problem *lm_problem(const char *data, int workers, int batch, uint64_t seed, size_t train_limit,
                              const so__lm_shape *shape, int *rc)
{
    so_problem_config cfg;
    so_problem_config_default(&cfg);
    cfg.id = "charlm";
    cfg.data = data;
    cfg.workers = workers;
    cfg.batch = batch;
    cfg.seed = seed;
    cfg.train_limit = train_limit;
    so_problem *p = so__lm_create_shape(&cfg, shape);
    *rc = p ? SO_OK : so_errcode();
    return p;
}

/* ---- Whole model against a double reference wired from the tensor names ---- */
typedef struct model_ctx {
    so_problem *p;
    double *x;
    int *inp, *tgt, B;
} model_ctx;

static size_t tensor(const so_problem *p, const char *name, size_t want_size)
{
    size_t nt;
    const so_tensor *ts = so_problem_tensors(p, &nt);
    for (size_t k = 0; k < nt; k++)
        if (strcmp(ts[k].name, name) == 0) {
            CHECK(ts[k].size == want_size, "tensor %s has %zu entries, want %zu", name, ts[k].size, want_size);
            return ts[k].offset;
        }
    CHECK(0, "no tensor named %s", name);
    return 0;
}

static double ref_model_loss(void *vctx)
{
    model_ctx *c = vctx;
    const so__lm_shape *s = &so__lm_model_of(c->p)->s;
    int B = c->B, T = s->ctx, C = s->channels, V = s->vocab, N = B * T;
    const double *x = c->x;
    double *res = malloc(sizeof(double) * N * C), *ln = malloc(sizeof(double) * N * C);
    double *qkv = malloc(sizeof(double) * N * 3 * C), *att = malloc(sizeof(double) * N * C);
    double *tmp = malloc(sizeof(double) * N * C), *fc = malloc(sizeof(double) * N * 4 * C);
    double *logits = malloc(sizeof(double) * N * V);
    size_t wte = tensor(c->p, "wte", (size_t)V * C), wpe = tensor(c->p, "wpe", (size_t)T * C);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++) res[n * C + i] = x[wte + c->inp[n] * C + i] + x[wpe + (n % T) * C + i];
    for (int l = 0; l < s->layers; l++) {
        char nm[32];
#define T_OF(suffix, size) (snprintf(nm, sizeof nm, "h%d.%s", l, suffix), x + tensor(c->p, nm, (size)))
        ref_layernorm(ln, res, T_OF("ln1.w", C), T_OF("ln1.b", C), N, C);
        ref_matmul(qkv, ln, T_OF("attn.qkv.w", 3 * C * C), T_OF("attn.qkv.b", 3 * C), N, C, 3 * C);
        ref_attention(att, qkv, B, T, C, s->heads);
        ref_matmul(tmp, att, T_OF("attn.proj.w", C * C), T_OF("attn.proj.b", C), N, C, C);
        for (int i = 0; i < N * C; i++) res[i] += tmp[i];
        ref_layernorm(ln, res, T_OF("ln2.w", C), T_OF("ln2.b", C), N, C);
        ref_matmul(fc, ln, T_OF("mlp.fc.w", 4 * C * C), T_OF("mlp.fc.b", 4 * C), N, C, 4 * C);
        for (int i = 0; i < N * 4 * C; i++) fc[i] = ref_gelu(fc[i]);
        ref_matmul(tmp, fc, T_OF("mlp.proj.w", 4 * C * C), T_OF("mlp.proj.b", C), N, 4 * C, C);
        for (int i = 0; i < N * C; i++) res[i] += tmp[i];
#undef T_OF
    }
    ref_layernorm(ln, res, x + tensor(c->p, "lnf.w", C), x + tensor(c->p, "lnf.b", C), N, C);
    ref_matmul(logits, ln, x + wte, NULL, N, C, V);
    double loss = ref_xent_sum(logits, c->tgt, N, V) / N;
    free(res); free(ln); free(qkv); free(att); free(tmp); free(fc); free(logits);
    return loss;
}

static void test_model_gradient_matches_finite_differences(void)
{
    char path[96];
    snprintf(path, sizeof path, "%s/salad.txt", tmpdir);
    char *text = word_salad(3000);
    write_file(path, text, 3000);
    so__lm_shape shape = { .ctx = 8, .channels = 16, .heads = 2, .layers = 2 };
    int rc;
    /* batch 6: two chunks (4 and 2 windows) whose gradients the oracle adds */
    so_problem *p = lm_problem(path, 2, 6, 7, 0, &shape, &rc);
    CHECK(rc == SO_OK, "create: %s", so_errmsg());
    if (rc != SO_OK) { free(text); so_problem_destroy(p); return; }
    /* the test's own alphabet: distinct bytes in byte order */
    int id_of[256], present[256] = { 0 }, V = 0;
    for (int i = 0; i < 3000; i++) present[(uint8_t)text[i]] = 1;
    for (int v = 0; v < 256; v++) id_of[v] = present[v] ? V++ : -1;
    CHECK(so__lm_model_of(p)->s.vocab == V, "vocab %d, want %d", so__lm_model_of(p)->s.vocab, V);
    /* Random parameters well away from the init, so attention is far from uniform and every path carries
     * gradient: gains near 1, everything else N(0, 0.3^2). */
    size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    double *xd = malloc(d * sizeof *xd);
    size_t nt;
    const so_tensor *ts = so_problem_tensors(p, &nt);
    for (size_t k = 0; k < nt; k++) {
        int gain = strstr(ts[k].name, "ln") && strstr(ts[k].name, ".w");
        fill(x + ts[k].offset, xd + ts[k].offset, ts[k].size, gain ? 1.0 : 0.0, 0.3);
    }
    so_workspace *w = so_problem_workspace_new(p);
    double loss;
    int worker = 1, B = 6, T = 8;
    long step = 5;
    rc = so_problem_grad_sub(p, w, x, g, worker, step, 0, &loss);
    CHECK(rc == SO_OK, "grad: %s", so_errmsg());
    size_t starts[6];
    so__lm_batch_starts(p, starts, worker, step, 0);
    int inp[6 * 8], tgt[6 * 8];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            inp[b * T + t] = id_of[(uint8_t)text[starts[b] + t]];
            tgt[b * T + t] = id_of[(uint8_t)text[starts[b] + t + 1]];
        }
    model_ctx c = { .p = p, .x = xd, .inp = inp, .tgt = tgt, .B = B };
    CHECK_CLOSE(loss, ref_model_loss(&c), 1e-5, 1e-6, "minibatch loss vs double reference");
    for (size_t k = 0; k < nt; k++) {
        const so_tensor *t = &ts[k];
        check_grad(t->name, ref_model_loss, &c, xd + t->offset, t->size, g + t->offset, 4);
    }
    so_workspace_free(w);
    free(x); free(g); free(xd); free(text);
    so_problem_destroy(p);
}

static void test_initial_loss_is_near_ln_vocab(void)
{
    /* GPT-2 init (weights ~ N(0, 0.02^2)) makes the logits ~ N(0, (0.02 sqrt(C))^2 = 0.16^2): the expected
     * loss exceeds ln V by about half their variance, 0.013; tolerance 0.05. */
    char path[96];
    snprintf(path, sizeof path, "%s/init.txt", tmpdir);
    char *text = word_salad(20000);
    write_file(path, text, 20000);
    free(text);
    so_problem_config cfg;
    so_problem_config_default(&cfg);
    cfg.id = "charlm";
    cfg.data = path;
    cfg.batch = 8;
    so_problem *p = so_problem_create(&cfg);
    CHECK(p != NULL, "create: %s", so_errmsg());
    if (!p) return;
    float *x = malloc(so_problem_dim(p) * sizeof *x), *g = malloc(so_problem_dim(p) * sizeof *g);
    so_problem_init(p, x);
    double lnV = log(so__lm_model_of(p)->s.vocab);
    so_eval ev;
    CHECK(so_problem_eval(p, x, &ev) == SO_OK, "eval: %s", so_errmsg());
    CHECK_CLOSE(ev.loss, lnV, 0, 0.05, "full loss at init vs ln V");
    CHECK(ev.train_acc >= 0 && ev.train_acc <= 1 && ev.test_acc >= 0 && ev.test_acc <= 1, "accuracy %g %g",
          ev.train_acc, ev.test_acc);
    so_workspace *w = so_problem_workspace_new(p);
    double loss;
    CHECK(so_problem_grad(p, w, x, g, 0, 0, &loss) == SO_OK, "grad: %s", so_errmsg());
    CHECK_CLOSE(loss, lnV, 0, 0.05, "minibatch loss at init vs ln V");
    /* the objective without a gradient is the same number */
    double f2;
    CHECK(so_problem_objective(p, x, &f2, NULL) == SO_OK && f2 == ev.loss, "full(grad NULL) %g vs %g", f2, ev.loss);
    so_workspace_free(w);
    free(x); free(g);
    so_problem_destroy(p);
}

static void test_corpus_errors_name_the_file(void)
{
    const char *missing = "/nonexistent-signopt/corpus.txt";
    int rc;
    so_problem *p = lm_problem(missing, 1, 1, 1, 0, &(so__lm_shape){ .ctx = 8, .channels = 8, .heads = 2, .layers = 1 }, &rc);
    CHECK(rc == SO_EIO, "missing file: rc %d, want SO_EIO", rc);
    CHECK(strstr(so_errmsg(), missing) != NULL, "message '%s' does not name the file", so_errmsg());
    so_problem_destroy(p);

    char path[96];
    snprintf(path, sizeof path, "%s/empty.txt", tmpdir);
    write_file(path, "", 0);
    p = lm_problem(path, 1, 1, 1, 0, &(so__lm_shape){ .ctx = 8, .channels = 8, .heads = 2, .layers = 1 }, &rc);
    CHECK(rc == SO_EFORMAT && strstr(so_errmsg(), path), "empty file: rc %d '%s'", rc, so_errmsg());
    so_problem_destroy(p);

    /* 50 characters: the held-out 5 cannot hold a window of T+1 = 9 */
    snprintf(path, sizeof path, "%s/short.txt", tmpdir);
    write_file(path, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij", 50);
    p = lm_problem(path, 1, 1, 1, 0, &(so__lm_shape){ .ctx = 8, .channels = 8, .heads = 2, .layers = 1 }, &rc);
    CHECK(rc == SO_EFORMAT && strstr(so_errmsg(), path), "short file: rc %d '%s'", rc, so_errmsg());
    so_problem_destroy(p);

    /* 3000 characters over 400 workers: shards of 6 < 9 */
    char *text = word_salad(3000);
    snprintf(path, sizeof path, "%s/shards.txt", tmpdir);
    write_file(path, text, 3000);
    free(text);
    p = lm_problem(path, 400, 1, 1, 0, &(so__lm_shape){ .ctx = 8, .channels = 8, .heads = 2, .layers = 1 }, &rc);
    CHECK(rc == SO_EINVAL, "too many workers: rc %d, want SO_EINVAL", rc);
    so_problem_destroy(p);
}

static void test_directory_corpus_skips_indexes_in_name_order(void)
{
    char dir[96], path[128];
    snprintf(dir, sizeof dir, "%s/fortunes", tmpdir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/b", dir);
    write_file(path, "BBBB", 4);
    snprintf(path, sizeof path, "%s/a", dir);
    write_file(path, "aa", 2);
    snprintf(path, sizeof path, "%s/a.dat", dir);
    write_file(path, "#####", 5);
    char link[128];
    snprintf(link, sizeof link, "%s/a.u8", dir);
    CHECK(symlink("a", link) == 0, "symlink");
    so__lm_corpus c;
    int rc = so__lm_corpus_load(&c, dir, 0);
    CHECK(rc == SO_OK, "load dir: %s", so_errmsg());
    if (rc != SO_OK) return;
    /* "aaBBBB": alphabet {B, a} in byte order -> B = 0, a = 1 */
    const uint8_t want[6] = { 1, 1, 0, 0, 0, 0 };
    CHECK(c.n == 6 && c.vocab == 2 && memcmp(c.tokens, want, 6) == 0, "n %zu vocab %d", c.n, c.vocab);
    CHECK(c.byte_of[0] == 'B' && c.byte_of[1] == 'a', "byte_of");
    CHECK(c.test_start == 6, "held-out start %zu, want 6 (6/10 = 0 held out)", c.test_start);
    so__lm_corpus_free(&c);
    rc = so__lm_corpus_load(&c, SO_LM_FORTUNES_DIR, 1000);
    if (rc == SO_OK) {
        CHECK(c.test_start == c.n - c.n / 10 && c.n_train == 1000, "fortunes split %zu %zu %zu", c.n,
              c.test_start, c.n_train);
        so__lm_corpus_free(&c);
    } else {
        fprintf(stderr, "  note: %s absent (%s); default corpus not checked\n", SO_LM_FORTUNES_DIR, so_errmsg());
    }
}

static void test_minibatches_are_reproducible_and_in_shard(void)
{
    char path[96];
    snprintf(path, sizeof path, "%s/repro.txt", tmpdir);
    char *text = word_salad(5000);
    write_file(path, text, 5000);
    free(text);
    so__lm_shape shape = { .ctx = 8, .channels = 8, .heads = 2, .layers = 1 };
    int workers = 3, B = 6;
    int rc1, rc2, rc3;
    so_problem *p = lm_problem(path, workers, B, 11, 0, &shape, &rc1), *q = lm_problem(path, workers, B, 11, 0, &shape, &rc2);
    so_problem *other = lm_problem(path, workers, B, 12, 0, &shape, &rc3);
    CHECK(p && q && other, "create: %s", so_errmsg());
    if (!p || !q || !other) { so_problem_destroy(p); so_problem_destroy(q); so_problem_destroy(other); return; }
    size_t n_train = 5000 - 500;
    size_t s1[6], s2[6], s3[6];
    for (int j = 0; j < workers; j++) {
        size_t lo = n_train * j / workers, hi = n_train * (j + 1) / workers;
        so__lm_batch_starts(p, s1, j, 3, 0);
        so__lm_batch_starts(q, s2, j, 3, 0);
        CHECK(memcmp(s1, s2, sizeof s1) == 0, "same seed, worker %d: different minibatch", j);
        for (int b = 0; b < B; b++)
            CHECK(s1[b] >= lo && s1[b] + 8 + 1 <= hi, "worker %d window %zu outside [%zu, %zu)", j, s1[b], lo, hi);
        so__lm_batch_starts(p, s2, j, 4, 0);
        so__lm_batch_starts(p, s3, j, 3, 1);
        CHECK(memcmp(s1, s2, sizeof s1) != 0, "steps 3 and 4 drew the same minibatch");
        CHECK(memcmp(s1, s3, sizeof s1) != 0, "sub 0 and 1 drew the same minibatch");
        so__lm_batch_starts(other, s2, j, 3, 0);
        CHECK(memcmp(s1, s2, sizeof s1) != 0, "seeds 11 and 12 drew the same minibatch");
    }
    CHECK(so__lm_batch_starts(p, s1, 0, 0, 1024) == SO_EINVAL, "sub 1024 accepted");
    size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *g1 = malloc(d * sizeof *g1), *g2 = malloc(d * sizeof *g2);
    so_problem_init(p, x);
    so_workspace *w1 = so_problem_workspace_new(p), *w2 = so_problem_workspace_new(q);
    double l1, l2;
    so_problem_grad_sub(p, w1, x, g1, 2, 9, 0, &l1);
    so_problem_grad_sub(q, w2, x, g2, 2, 9, 0, &l2);
    CHECK(l1 == l2 && memcmp(g1, g2, d * sizeof *g1) == 0, "same seed: different gradient");
    /* the same call again on a reused workspace: no state leaks between calls */
    so_problem_grad_sub(p, w1, x, g2, 2, 9, 0, &l2);
    CHECK(l1 == l2 && memcmp(g1, g2, d * sizeof *g1) == 0, "repeated call: different gradient");
    CHECK(so_problem_samples(p) == n_train / 8, "samples %zu, want %zu", so_problem_samples(p), n_train / 8);
    so_workspace_free(w1);
    so_workspace_free(w2);
    free(x); free(g1); free(g2);
    so_problem_destroy(p);
    so_problem_destroy(q);
    so_problem_destroy(other);
}

static void test_train_limit_shortens_training_text(void)
{
    char path[96];
    snprintf(path, sizeof path, "%s/repro.txt", tmpdir);
    int rc;
    so_problem *p = lm_problem(path, 2, 1, 1, 1000, &(so__lm_shape){ .ctx = 8, .channels = 8, .heads = 2, .layers = 1 },
                               &rc);
    CHECK(rc == SO_OK, "create: %s", so_errmsg());
    if (!p) return;
    /* epoch(t) = t * batch / min_shard: one step of batch 1 is 1/62 epoch with shards of 500 / 8 = 62 windows */
    CHECK(so__lm_corpus_of(p)->n_train == 1000 && so_problem_samples(p) == 1000 / 8 &&
          so_problem_epoch(p, 1) == 1.0 / (500 / 8), "n_train %zu samples %zu epoch(1) %g",
          so__lm_corpus_of(p)->n_train, so_problem_samples(p), so_problem_epoch(p, 1));
    size_t s[1];
    for (long t = 0; t < 50; t++) {
        so__lm_batch_starts(p, s, 1, t, 0);
        CHECK(s[0] >= 500 && s[0] + 9 <= 1000, "worker 1 window %zu outside [500, 1000)", s[0]);
    }
    so_problem_destroy(p);
}

static void test_parallel_workers_match_serial(void)
{
    /* grad is thread-safe for distinct (worker, workspace) pairs: four workers' gradients computed at once by
     * OpenMP threads equal, bit for bit, the ones computed one after another */
    char path[96];
    snprintf(path, sizeof path, "%s/repro.txt", tmpdir);
    int rc;
    so_problem *p = lm_problem(path, 4, 4, 5, 0, &(so__lm_shape){ .ctx = 16, .channels = 16, .heads = 2, .layers = 2 }, &rc);
    CHECK(rc == SO_OK, "create: %s", so_errmsg());
    if (rc != SO_OK) { so_problem_destroy(p); return; }
    size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *serial = malloc(4 * d * sizeof *x), *parallel = malloc(4 * d * sizeof *x);
    so_problem_init(p, x);
    so_workspace *w[4];
    for (int j = 0; j < 4; j++) w[j] = so_problem_workspace_new(p);
    double ls[4], lp[4];
    for (int j = 0; j < 4; j++) so_problem_grad_sub(p, w[0], x, serial + j * d, j, 2, 0, &ls[j]);
#pragma omp parallel for num_threads(4) schedule(static, 1)
    for (int j = 0; j < 4; j++) so_problem_grad_sub(p, w[j], x, parallel + j * d, j, 2, 0, &lp[j]);
    for (int j = 0; j < 4; j++)
        CHECK(ls[j] == lp[j] && memcmp(serial + j * d, parallel + j * d, d * sizeof *x) == 0,
              "worker %d: parallel gradient differs from serial", j);
    for (int j = 0; j < 4; j++) so_workspace_free(w[j]);
    free(x); free(serial); free(parallel);
    so_problem_destroy(p);
}

/* One seed, one result on any number of threads: a minibatch of 10 windows runs as chunks of 4, 4 and 2 on the
 * team and full() as blocks of 32 windows; gradient, loss, objective and accuracies are bitwise the same with 1, 2
 * and 3 OpenMP threads. */
static void test_bits_independent_of_thread_count(void)
{
    char path[96];
    snprintf(path, sizeof path, "%s/threads.txt", tmpdir);
    char *text = word_salad(6000);
    write_file(path, text, 6000);
    free(text);
    int rc;
    so_problem *p = lm_problem(path, 1, 10, 5, 0, &(so__lm_shape){ .ctx = 16, .channels = 16, .heads = 2, .layers = 2 }, &rc);
    CHECK(rc == SO_OK, "create: %s", so_errmsg());
    if (rc != SO_OK) { so_problem_destroy(p); return; }
    size_t d = so_problem_dim(p);
    float *x = malloc(d * sizeof *x), *g = malloc(3 * d * sizeof *g), *full = malloc(3 * d * sizeof *full);
    so_problem_init(p, x);
    double loss[3], f[3], tr[3], te[3];
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(t + 1);
        so_workspace *w = so_problem_workspace_new(p);
        CHECK(so_problem_grad(p, w, x, g + t * d, 0, 3, &loss[t]) == SO_OK, "%s", so_errmsg());
        so_workspace_free(w);
        CHECK(so_problem_objective(p, x, &f[t], full + t * d) == SO_OK, "%s", so_errmsg());
        so_eval e;
        CHECK(so_problem_eval(p, x, &e) == SO_OK, "%s", so_errmsg());
        tr[t] = e.train_acc;
        te[t] = e.test_acc;
    }
    omp_set_num_threads(1);
    for (int t = 1; t < 3; t++) {
        CHECK(loss[t] == loss[0] && memcmp(g, g + t * d, d * sizeof *g) == 0, "gradient with %d threads differs", t + 1);
        CHECK(f[t] == f[0] && memcmp(full, full + t * d, d * sizeof *full) == 0, "objective with %d threads differs",
              t + 1);
        CHECK(tr[t] == tr[0] && te[t] == te[0], "accuracies with %d threads differ", t + 1);
    }
    free(x); free(g); free(full);
    so_problem_destroy(p);
}

/* so__vexpf (src/core/vexp.h), the exponential of the GELU and the softmaxes, against exp() in double on a fine grid
 * over [-87, 88]: relative error at most 2e-7; e^0 = 1 exactly; clamped, finite and positive far outside. */
static void test_vexpf_matches_exp(void)
{
    double worst = 0.0;
    for (double x = -87.0; x < 88.0; x += 0.000731) {
        const float xf = (float)x;
        const double e = exp((double)xf), rel = fabs(so__vexpf(xf) - e) / e;
        worst = rel > worst ? rel : worst;
    }
    CHECK(worst <= 2e-7, "so__vexpf: worst relative error %g over [-87, 88]", worst);
    CHECK(so__vexpf(0.0f) == 1.0f, "e^0 = %.9g", so__vexpf(0.0f));
    CHECK(so__vexpf(-1000.0f) > 0.0f && so__vexpf(-1000.0f) < 2e-38f, "e^-1000 = %g", so__vexpf(-1000.0f));
    CHECK(isfinite(so__vexpf(1000.0f)) && so__vexpf(1000.0f) > 1e38f, "e^1000 = %g", so__vexpf(1000.0f));
}

int main(void)
{
    so_rng_init(&rng, 2024, 0, 0, SO_STREAM_USER);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/signopt-test-lm-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }
    RUN(test_layernorm_backward_matches_finite_differences);
    RUN(test_matmul_backward_matches_finite_differences);
    RUN(test_attention_backward_matches_finite_differences);
    RUN(test_gelu_backward_matches_finite_differences);
    RUN(test_encoder_backward_matches_finite_differences);
    RUN(test_softmax_xent_matches_reference_and_finite_differences);
    RUN(test_model_gradient_matches_finite_differences);
    RUN(test_initial_loss_is_near_ln_vocab);
    RUN(test_corpus_errors_name_the_file);
    RUN(test_directory_corpus_skips_indexes_in_name_order);
    RUN(test_minibatches_are_reproducible_and_in_shard);
    RUN(test_train_limit_shortens_training_text);
    RUN(test_parallel_workers_match_serial);
    RUN(test_bits_independent_of_thread_count);
    RUN(test_vexpf_matches_exp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "  note: could not remove %s\n", tmpdir);
    return test_report("lm");
}
