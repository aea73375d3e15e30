/* test_optim_state.c — optimizer state as bytes (a resumed run is bitwise the run that never stopped;
 * mismatched or damaged blocks are refused with SO_EFORMAT) and config checks (every bad value is refused
 * at create with NULL and a message). */
#include <stdlib.h>
#include "signopt/optim.h"
#include "test.h"

#define D 7

/* A gradient that depends on x and the step, so a wrong restored state shows up in later steps. */
static void gradient(const float *x, int step, float *g)
{
    for (int i = 0; i < D; i++) g[i] = (float)(i + 1) * x[i] + 0.3f * (float)((step * 7 + i * 3) % 5 - 2);
}

static void run(so_optim *o, float *x, int from, int steps)
{
    float g[D], y[D];
    for (int s = from; s < from + steps; s++) {
        const float *at = so_optim_grad_point(o, x, y) ? y : x;
        gradient(at, s, g);
        so_optim_step(o, x, g);
    }
}

static so_optim_config config(const char *algo)
{
    so_optim_config c;
    so_optim_config_default(&c);
    c.algo = algo;
    c.lr = 0.01;
    c.weight_decay = strcmp(algo, "scaled-signsgd") ? 0.01 : 0.0;
    /* a schedule makes the restored step counter matter for every id, not only for adam */
    so_schedule_parse(&c.schedule, "exp:0.9");
    return c;
}

static void test_save_load_round_trip_is_bitwise(void)
{
    for (const char *const *id = so_optim_algos(); *id; id++) {
        so_optim_config c = config(*id);
        so_optim *a = so_optim_create(&c, D, NULL, 0), *b = so_optim_create(&c, D, NULL, 0);
        CHECK(a && b, "%s: create: %s", *id, so_errmsg());
        if (!a || !b) continue;
        float xa[D], xb[D];
        for (int i = 0; i < D; i++) xa[i] = 1.0f - 0.25f * (float)i;
        run(a, xa, 0, 5);
        size_t size = so_optim_state_size(a);
        CHECK(size == 32 + so_optim_state_floats_per_param(*id) * D * sizeof(float), "%s: state size %zu", *id,
              size);
        unsigned char *blob = malloc(size);
        CHECK(so_optim_save(a, blob, size) == SO_OK, "%s: save: %s", *id, so_errmsg());
        memcpy(xb, xa, sizeof xa);
        run(a, xa, 5, 5);
        CHECK(so_optim_load(b, blob, size) == SO_OK, "%s: load: %s", *id, so_errmsg());
        CHECK(so_optim_step_count(b) == 5, "%s: step count restored", *id);
        run(b, xb, 5, 5);
        CHECK(memcmp(xa, xb, sizeof xa) == 0, "%s: resumed run differs from the uninterrupted one", *id);
        free(blob);
        so_optim_destroy(a);
        so_optim_destroy(b);
    }
}

static void test_load_refuses_mismatches(void)
{
    so_optim_config ca = config("adam"), cw = config("adamw");
    so_optim *adam = so_optim_create(&ca, D, NULL, 0), *adamw = so_optim_create(&cw, D, NULL, 0);
    so_optim *adam_big = so_optim_create(&ca, D + 1, NULL, 0);
    size_t size = so_optim_state_size(adam);
    unsigned char *blob = malloc(size);
    so_optim_save(adam, blob, size);
    CHECK(so_optim_load(adamw, blob, size) == SO_EFORMAT, "adam state into adamw must be refused");
    CHECK(strstr(so_errmsg(), "adam") != NULL, "message names the algorithms: %s", so_errmsg());
    CHECK(so_optim_load(adam_big, blob, size) == SO_EFORMAT, "d mismatch must be refused");
    CHECK(so_optim_load(adam, blob, size - 4) == SO_EFORMAT, "truncated block must be refused");
    CHECK(so_optim_load(adam, blob, 10) == SO_EFORMAT, "block shorter than the header must be refused");
    blob[0] ^= 0x5a;
    CHECK(so_optim_load(adam, blob, size) == SO_EFORMAT, "bad magic must be refused");
    blob[0] ^= 0x5a;
    CHECK(so_optim_load(adam, blob, size) == SO_OK, "the intact block loads: %s", so_errmsg());
    CHECK(so_optim_save(adam, blob, size - 1) == SO_EINVAL, "save into a short buffer must be refused");
    free(blob);
    so_optim_destroy(adam);
    so_optim_destroy(adamw);
    so_optim_destroy(adam_big);
}

/* create must return NULL and leave a message. */
static void expect_refused(const so_optim_config *c, size_t d, const so_tensor *t, size_t nt, const char *what)
{
    so_error(SO_OK, "%s", "");
    so_optim *o = so_optim_create(c, d, t, nt);
    CHECK(o == NULL, "%s: must be refused", what);
    CHECK(so_errmsg()[0] != '\0', "%s: no message", what);
    so_optim_destroy(o);
}

static void test_bad_configs_are_refused(void)
{
    so_optim_config c;
    so_optim_config_default(&c);
    c.algo = "signsdg";
    expect_refused(&c, 3, NULL, 0, "unknown algo");
    CHECK(strstr(so_errmsg(), "signsdg") != NULL, "message names the bad id: %s", so_errmsg());
    c.algo = NULL;
    expect_refused(&c, 3, NULL, 0, "NULL algo");
    c = config("signum");
    c.lr = -0.1;
    expect_refused(&c, 3, NULL, 0, "negative lr");
    c.lr = NAN;
    expect_refused(&c, 3, NULL, 0, "NaN lr");
    c = config("signum");
    c.beta = 1.0;
    expect_refused(&c, 3, NULL, 0, "beta = 1");
    c.beta = -0.1;
    expect_refused(&c, 3, NULL, 0, "beta < 0");
    c = config("adam");
    c.beta2 = 1.5;
    expect_refused(&c, 3, NULL, 0, "beta2 > 1");
    c = config("adamw");
    c.eps = -1e-8;
    expect_refused(&c, 3, NULL, 0, "negative eps");
    c = config("sgd");
    c.weight_decay = -0.1;
    expect_refused(&c, 3, NULL, 0, "negative weight decay");
    c = config("scaled-signsgd");
    c.weight_decay = 0.1;
    expect_refused(&c, 3, NULL, 0, "weight decay on scaled-signsgd");
    c = config("lion");
    c.momentum_init = SO_INIT_FIRST_GRAD;
    expect_refused(&c, 3, NULL, 0, "lion with first-grad init");
    c = config("signum");
    c.nesterov = 1;
    expect_refused(&c, 3, NULL, 0, "nesterov flag on signum");
    c = config("sgd");
    expect_refused(&c, 0, NULL, 0, "d = 0");
    const float neg[3] = {1.0f, -0.5f, 1.0f};
    c.lr_vec = neg;
    expect_refused(&c, 3, NULL, 0, "negative per-coordinate rate");
    c = config("ef-signsgd");
    const so_tensor gap[2] = {{"a", 0, 2}, {"b", 3, 1}}, short_[1] = {{"a", 0, 2}};
    expect_refused(&c, 4, gap, 2, "tensors with a gap");
    expect_refused(&c, 4, short_, 1, "tensors not covering d");
    so_schedule_parse(&c.schedule, "cosine");
    expect_refused(&c, 4, NULL, 0, "cosine without total_steps");
    c.schedule.total_steps = 100;
    so_optim *o = so_optim_create(&c, 4, NULL, 0);
    CHECK(o != NULL, "cosine with total_steps is fine: %s", so_errmsg());
    so_optim_destroy(o);
}

static void test_ids_and_state_sizes(void)
{
    const char *want[] = {"sgd", "sgdm", "adam", "adamw", "signsgd", "signum", "signum-nesterov", "ef-signsgd",
                          "scaled-signsgd", "lion"};
    const size_t floats[] = {0, 1, 2, 2, 0, 1, 2, 1, 0, 1};
    const char *const *ids = so_optim_algos();
    size_t n = 0;
    for (; ids[n]; n++) {
        CHECK(n < 10 && !strcmp(ids[n], want[n]), "id %zu is %s", n, ids[n]);
        CHECK(so_optim_is_algo(ids[n]), "%s is an id", ids[n]);
        CHECK(n < 10 && so_optim_state_floats_per_param(ids[n]) == floats[n], "%s state floats", ids[n]);
    }
    CHECK(n == 10, "10 ids, got %zu", n);
    CHECK(!so_optim_is_algo("mv-signsgd") && !so_optim_is_algo(NULL), "distributed ids are not single-node");
    so_optim_config c = config("signum-nesterov");
    so_optim *o = so_optim_create(&c, 5, NULL, 0);
    CHECK(!strcmp(so_optim_algo(o), "signum-nesterov") && so_optim_dim(o) == 5, "accessors");
    so_optim_destroy(o);
}

int main(void)
{
    RUN(test_save_load_round_trip_is_bitwise);
    RUN(test_load_refuses_mismatches);
    RUN(test_bad_configs_are_refused);
    RUN(test_ids_and_state_sizes);
    return test_report("optim_state");
}
