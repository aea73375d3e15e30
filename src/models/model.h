/* model.h — the inside of the data problems (logreg, mlp, cnn): data, shards, the flat parameter layout, and the
 * per-family batch function that both the stochastic gradient and the full objective are built on. */
#ifndef SO_MODELS_MODEL_H
#define SO_MODELS_MODEL_H

#include <pthread.h>
#include "signopt/data.h"
#include "signopt/problem.h"

typedef enum model_kind { MODEL_LOGREG = 0, MODEL_MLP, MODEL_CNN } model_kind;

/* Channel counts of the CNN. Seed 001 §4.2 trains the TensorFlow CIFAR-10 tutorial net (conv5x5-64, pool,
 * conv5x5-64, pool, dense 384, dense 192, softmax); on 2 cores we keep its shape, kernels and dense widths and
 * reduce the convolutions to 16 and 32 channels: on 28x28 images 64/64 takes 22.7M multiply-adds per image
 * forward, 16/32 takes 3.5M (6.5x fewer), and an epoch at batch 32 drops from minutes to ~40 s here
 * (docs/bench_models.md). */
enum { CNN_C1 = 16, CNN_C2 = 32, CNN_K = 5, CNN_F1 = 384, CNN_F2 = 192, MLP_H = 64 };
/* The `cnn64` problem keeps the seed's channel counts, for measuring the full-size net (docs/bench_models.md). */
enum { CNN64_C1 = 64, CNN64_C2 = 64 };

/* Rows per chunk of a cnn minibatch (so__cnn_grad): the unit of work of one thread in the convolution stage.
 * Fixed, never derived from the thread count, so the gradient's bits are the same on any number of threads. */
enum { CNN_CHUNK = 4 };

#define MODEL_MAX_TENSORS 10
/* Permutation caches per worker: minibatch streams sub and sub + MODEL_STREAM_SLOTS share one slot. */
#define MODEL_STREAM_SLOTS 8

/* The current epoch's order of one worker's shard for one minibatch stream. */
typedef struct shard_order {
    uint32_t *perm;  /* row ids, a permutation of the shard; NULL until first used */
    long epoch;      /* -1: none yet */
    int sub;
} shard_order;

typedef struct model_ws model_ws;

typedef struct so_model {
    model_kind kind;
    char id[16];
    size_t dim;
    size_t eval_limit;  /* evaluations over the first eval_limit training rows (0: all) */
    so_dataset train, test;
    int has_test;
    int classes;
    /* logreg: labels b in {-1,+1} (class 0 -> -1, class 1 -> +1) and lambda */
    float *train_b, *test_b;
    double lambda;
    /* image nets: input shape */
    int height, width, channels;
    size_t in_dim;
    /* cnn: the two convolutions' channel counts (cnn: CNN_C1, CNN_C2; cnn64: the seed's 64, 64) */
    int c1, c2;
    so_tensor tensors[MODEL_MAX_TENSORS];
    size_t ntensors;
    /* worker shards and their epoch orders (workers x MODEL_STREAM_SLOTS) */
    so_split split;
    shard_order *orders;
    int batch_cap;      /* largest effective minibatch over workers: min(B, largest shard) */
    int chunk_rows;     /* rows per chunk of a cnn minibatch (so__cnn_grad); batch_cap for the others */
    int chunks;         /* ceil(batch_cap / chunk_rows) */
    int eval_block;     /* rows per block in full() and accuracy() */
    /* full() and accuracy() share their workspaces (one per thread, eval_slots of them) and are serialized by
     * this lock */
    pthread_mutex_t eval_lock;
    model_ws **eval_ws;
    int eval_slots;
    double *acc;        /* dim doubles: the full gradient's running sum */
    /* train accuracy found by the last full(): reused by accuracy() at the same x (compared bitwise) */
    float *eval_x;
    long eval_train_correct;
    int eval_x_valid;
} so_model;

/* Per-thread buffers for a batch of up to cap rows (the oracle's workspace). */
struct model_ws {
    const so_model *m;
    int cap;
    uint32_t *rows;   /* the minibatch's row ids */
    int32_t *labels;  /* the batch's class ids, gathered */
    float *g;         /* dim floats: one block's gradient inside full() */
    float *arena;     /* the family's activations, carved by the family */
    int32_t *iarena;  /* max-pool indices (cnn) */
    size_t arena_floats, iarena_ints;
};

/* The oracle's workspace: the minibatch's row ids and the model's buffers for a whole minibatch (whole); the cnn
 * adds a convolution stage per chunk (part) and the chunks' convolution gradients (bufs; chunk 0 writes g). */
typedef struct model_grad_ws {
    const struct so_model *m;
    uint32_t *rows;
    model_ws *whole;
    model_ws **part;
    float *bufs;
} model_grad_ws;

/* Loss and gradient over a batch of n <= ws->cap training or test rows of ds: rows[i] (rows NULL: the rows
 * first .. first+n-1). Returns in *loss_sum the SUM of the per-row losses (no regularizer), adds to *correct the
 * rows predicted right, and when g is non-NULL overwrites g (dim floats) with scale * sum of per-row gradients. */
typedef int (*model_batch_fn)(const so_model *m, model_ws *ws, const float *x, float *g, const so_dataset *ds,
                              const float *b_pm, const uint32_t *rows, size_t first, int n, float scale,
                              double *loss_sum, long *correct);

/* The families (logreg.c, nets.c): layout of the parameters, arena sizes for cap rows, init, batch. */
int so__logreg_setup(so_model *m, size_t *dim);
void so__logreg_arena(const so_model *m, int cap, size_t *floats, size_t *ints);
int so__logreg_batch(const so_model *m, model_ws *ws, const float *x, float *g, const so_dataset *ds,
                     const float *b_pm, const uint32_t *rows, size_t first, int n, float scale, double *loss_sum,
                     long *correct);

int so__net_setup(so_model *m, size_t *dim);
/* Arena sizes for cap rows of the parts asked for (the cnn's convolution and dense stages; the mlp has one). */
enum { NET_CONV = 1, NET_DENSE = 2, NET_ALL = 3 };
void so__net_arena(const so_model *m, int cap, int parts, size_t *floats, size_t *ints);
/* The cnn's chunked minibatch gradient (nets.c): the convolution stage of chunk k (rows k*R .. , R = chunk_rows)
 * in part[k], the dense stage of all B rows in dense (its scale: 1/B), on a team of `team` threads; chunk k's
 * convolution gradients go to g (k = 0) or to bufs + (k-1) * so__cnn_conv_dim(m), then are added in chunk order.
 * Every bit is the same for any team. */
size_t so__cnn_conv_dim(const so_model *m);
int so__cnn_grad(const so_model *m, model_ws *const *part, model_ws *dense, float *bufs, const float *x, float *g,
                 const uint32_t *rows, int B, float scale, double *loss_sum, long *correct, int team);
/* so__fold_buffers (src/core/team.h) adds the chunks' buffers in chunk order. */
int so__net_init(const so_model *m, float *x, uint64_t seed);
int so__net_batch(const so_model *m, model_ws *ws, const float *x, float *g, const so_dataset *ds,
                  const float *b_pm, const uint32_t *rows, size_t first, int n, float scale, double *loss_sum,
                  long *correct);

#endif
