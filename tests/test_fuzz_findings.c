/* test_fuzz_findings.c — one regression test per fuzzing finding (tests/fuzz/, `make fuzz`; docs/robustness.md):
 * the input that broke a loader, rebuilt by hand, must now be refused with SO_EFORMAT and a message saying why,
 * and a valid input next to it must still load. Runs in the ordinary build, so the findings stay fixed without
 * clang. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "signopt.h"
#include "test.h"

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(b, 1, n, f);
    fclose(f);
}

/* fuzz_idx: a 16-byte images file whose header promised 2^16 x 2^12 x 2^12 pixels made so_idx_load allocate
 * 4 TiB before reading any pixel (ASan: allocation-size-too-big). Now the header is checked against what a file
 * of that size can hold (1032:1, deflate's limit) before anything is allocated. */
static void test_idx_header_larger_than_file(void)
{
    char img[64], lab[64];
    snprintf(img, sizeof img, "/tmp/signopt-ff-%ld-img", (long)getpid());
    snprintf(lab, sizeof lab, "/tmp/signopt-ff-%ld-lab", (long)getpid());
    unsigned char ih[16], lh[8];
    put_be32(ih, 0x803);
    put_be32(ih + 4, 1u << 16);
    put_be32(ih + 8, 1u << 12);
    put_be32(ih + 12, 1u << 12);
    put_be32(lh, 0x801);
    put_be32(lh + 4, 1u << 16);
    write_bytes(img, ih, sizeof ih);
    write_bytes(lab, lh, sizeof lh);
    so_dataset ds;
    int rc = so_idx_load(&ds, img, lab);
    CHECK(rc == SO_EFORMAT && strstr(so_errmsg(), "can hold"), "status %d: %s", rc, so_errmsg());
    CHECK(ds.x == NULL && ds.n == 0, "output left empty");

    /* The same layout with sizes that fit: 2 images of 2 x 2, pixels 0 and 255, labels 3 and 9. */
    unsigned char ok[16 + 8];
    memcpy(ok, ih, 16);
    put_be32(ok + 4, 2);
    put_be32(ok + 8, 2);
    put_be32(ok + 12, 2);
    for (int i = 0; i < 8; i++) ok[16 + i] = (unsigned char)(i < 4 ? 0 : 255);
    unsigned char okl[10];
    memcpy(okl, lh, 8);
    put_be32(okl + 4, 2);
    okl[8] = 3;
    okl[9] = 9;
    write_bytes(img, ok, sizeof ok);
    write_bytes(lab, okl, sizeof okl);
    rc = so_idx_load(&ds, img, lab);
    CHECK(rc == SO_OK, "valid file: %s", so_errmsg());
    if (rc == SO_OK) {
        CHECK(ds.n == 2 && ds.dim == 4 && ds.y[0] == 3 && ds.y[1] == 9, "n %zu dim %zu", ds.n, ds.dim);
        CHECK(ds.x[0] == 0.0f && ds.x[7] == 1.0f, "pixels %g %g", ds.x[0], ds.x[7]);
        so_dataset_free(&ds);
    }
    remove(img);
    remove(lab);
}

typedef struct cluster_fixture {
    so_problem *p;
    so_transport *t;
    so_cluster *c;
    unsigned char *state;
    size_t size;
} cluster_fixture;

/* 3 local workers on a 6-dimensional quadratic, two rounds run, state saved. */
static int fixture_open(cluster_fixture *f, const char *algo)
{
    memset(f, 0, sizeof *f);
    so_problem_config pc;
    so_problem_config_default(&pc);
    pc.id = "quadratic";
    pc.dim = 6;
    pc.workers = 3;
    so_noise_parse(&pc.noise, "gauss:1");
    f->p = so_problem_create(&pc);
    f->t = so_transport_local(3);
    so_cluster_config cc;
    so_cluster_config_default(&cc);
    cc.optim.algo = algo;
    cc.threads = 1;
    f->c = f->p && f->t ? so_cluster_create(&cc, f->p, f->t) : NULL;
    if (!f->c) return 0;
    float x[6] = {1, -2, 3, 0, 0.5f, -0.25f};
    so_cluster_round(f->c, x);
    so_cluster_round(f->c, x);
    f->size = so_cluster_state_size(f->c);
    f->state = malloc(f->size);
    return f->state && so_cluster_save(f->c, f->state, f->size) == SO_OK;
}

static void fixture_close(cluster_fixture *f)
{
    free(f->state);
    so_cluster_destroy(f->c);
    so_transport_destroy(f->t);
    so_problem_destroy(f->p);
}

/* Byte offsets in the cluster state header (cluster_state.c): magic 8, algo 32, then u64 fields. */
#define OFF_HAVE_PREV 64
#define OFF_OPTIM_SIZE 88
#define HEADER_BYTES 112

/* fuzz_cluster_load: a state whose worker start flags held 0x43 and whose padding after them was not zero was
 * accepted, and saved back differently (the loader took what the saver never writes). The optimizer-bytes field
 * was not checked either: a larger value made the load copy past the end of the caller's buffer. */
static void test_cluster_state_fields_checked(void)
{
    cluster_fixture f;
    CHECK(fixture_open(&f, "mv-signum"), "mv-signum fixture: %s", so_errmsg());
    if (f.state) {
        CHECK(so_cluster_load(f.c, f.state, f.size) == SO_OK, "valid state: %s", so_errmsg());
        unsigned char *bad = malloc(f.size);
        memcpy(bad, f.state, f.size);
        bad[HEADER_BYTES] = 0x43; /* worker 0's start flag */
        CHECK(so_cluster_load(f.c, bad, f.size) == SO_EFORMAT && strstr(so_errmsg(), "start flags"), "flag: %s",
              so_errmsg());
        memcpy(bad, f.state, f.size);
        bad[HEADER_BYTES + 5] = 1; /* padding after 3 flags */
        CHECK(so_cluster_load(f.c, bad, f.size) == SO_EFORMAT, "padding: %s", so_errmsg());
        memcpy(bad, f.state, f.size);
        bad[OFF_HAVE_PREV] = 2;
        CHECK(so_cluster_load(f.c, bad, f.size) == SO_EFORMAT, "have_prev 2: %s", so_errmsg());
        /* Second run: a byte after the id's terminating zero ("mv-signum\0...\xc1") was accepted. */
        memcpy(bad, f.state, f.size);
        bad[8 + 31] = 0xc1;
        CHECK(so_cluster_load(f.c, bad, f.size) == SO_EFORMAT, "junk after the algorithm id: %s", so_errmsg());
        free(bad);
    }
    fixture_close(&f);

    CHECK(fixture_open(&f, "dist-adamw"), "dist-adamw fixture: %s", so_errmsg());
    if (f.state) {
        unsigned char *bad = malloc(f.size);
        memcpy(bad, f.state, f.size);
        uint64_t big = (uint64_t)f.size * 4;
        memcpy(bad + OFF_OPTIM_SIZE, &big, 8);
        CHECK(so_cluster_load(f.c, bad, f.size) == SO_EFORMAT && strstr(so_errmsg(), "optimizer bytes"),
              "optim_size: %s", so_errmsg());
        free(bad);
        CHECK(so_cluster_load(f.c, f.state, f.size) == SO_OK, "valid state: %s", so_errmsg());
    }
    fixture_close(&f);
}

/* fuzz_optim_load (second run): a state with step = INT64_MAX was accepted and the next step overflowed the
 * signed counter (UBSan: signed integer overflow in so_optim_step). */
static void test_optim_step_counter_bounded(void)
{
    so_optim_config oc;
    so_optim_config_default(&oc);
    oc.algo = "signum";
    so_optim *o = so_optim_create(&oc, 7, NULL, 0);
    CHECK(o != NULL, "%s", so_errmsg());
    if (!o) return;
    size_t n = so_optim_state_size(o);
    unsigned char *b = malloc(n);
    so_optim_save(o, b, n);
    CHECK(so_optim_load(o, b, n) == SO_OK, "valid state: %s", so_errmsg());
    int64_t big = INT64_MAX;
    memcpy(b + 24, &big, 8); /* header: magic 8, algo 4, floats_per_param 4, d 8, then step */
    CHECK(so_optim_load(o, b, n) == SO_EFORMAT, "step INT64_MAX: %s", so_errmsg());
    big = 1000;
    memcpy(b + 24, &big, 8);
    CHECK(so_optim_load(o, b, n) == SO_OK && so_optim_step_count(o) == 1000, "step 1000: %s", so_errmsg());
    free(b);
    so_optim_destroy(o);
}

int main(void)
{
    RUN(test_idx_header_larger_than_file);
    RUN(test_cluster_state_fields_checked);
    RUN(test_optim_step_counter_bounded);
    return test_report("fuzz_findings");
}
