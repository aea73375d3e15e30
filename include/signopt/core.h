/* signopt/core.h — errors, tensor views, and the counter-based random generator. */
#ifndef SIGNOPT_CORE_H
#define SIGNOPT_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of these headers. A program can compare it with so_version(), the library's own: the library is
 * built for one minor version (its SONAME is libsignopt.so.MAJOR.MINOR while MAJOR is 0), so a program built
 * against 0.2 headers runs against any 0.2.x library. */
#define SO_VERSION_MAJOR 0
#define SO_VERSION_MINOR 2
#define SO_VERSION_PATCH 0
#define SO_VERSION "0.2.0"

/* SO_API marks what the shared library exports: it is built with -fvisibility=hidden, so only the functions
 * declared in these headers are visible to programs, never the library's internals. */
#if defined(__GNUC__) || defined(__clang__)
#define SO_API __attribute__((visibility("default")))
#else
#define SO_API
#endif

/* C99's restrict, spelled so that C++ compilers (which lack the keyword) accept the headers. */
#if defined(__cplusplus)
#define SO_RESTRICT __restrict__
#else
#define SO_RESTRICT restrict
#endif

/* Status codes. Every fallible function returns SO_OK or one of these (negative); so_errmsg() then holds a
 * one-line message for the calling thread. */
typedef enum so_status {
    SO_OK = 0,
    SO_EINVAL = -1,       /* an argument or config value is out of range or unknown */
    SO_ENOMEM = -2,       /* allocation failed */
    SO_EIO = -3,          /* a file could not be opened, read or written */
    SO_EFORMAT = -4,      /* a file or message is malformed (bad magic, truncated, wrong sizes) */
    SO_ENUMERIC = -5,     /* NaN or Inf met where a finite value is required */
    SO_ECOMM = -6,        /* the transport failed or ranks disagree */
    SO_EUNSUPPORTED = -7  /* a valid request this build cannot serve (e.g. MPI not compiled in) */
} so_status;

/* The message of the last error set on this thread ("" if none). Valid until the next error on the thread. */
SO_API const char *so_errmsg(void);
/* The code of the last error set on this thread (SO_OK if none): what a constructor that returned NULL failed
 * with. */
SO_API int so_errcode(void);
/* Set the thread's error message (printf format) and return code; used by the library and by callbacks (your
 * gradient oracle, your transport) to report a failure that the library then passes on unchanged. */
SO_API int so_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The library's version, "MAJOR.MINOR.PATCH" (SO_VERSION of the headers it was built with). */
SO_API const char *so_version(void);

/* sizeof the public struct named type_name ("so_optim_config", "so_cluster_config", "so_schedule", ...), for
 * bindings that mirror the structs in another language; 0 for a name it does not know. */
SO_API size_t so_sizeof(const char *type_name);

/* The number of threads OpenBLAS uses for the models' matrix products (logreg, mlp, cnn, cnn64, charlm): a process-wide
 * setting the library never changes by itself. OpenBLAS's sgemm can give different last bits with 1 and with
 * several threads, so a program that wants one seed to give one result whatever its thread count sets 1 (the
 * signopt command does, for every data problem). Returns SO_OK, or SO_EINVAL for n < 1. */
SO_API int so_blas_set_threads(int n);

/* The name of the kernel set OpenBLAS chose when it loaded ("Haswell", "SkylakeX", "Prescott", ...: its
 * openblas_get_corename), which decides the last bits of the models' matrix products: runs compare bit for bit
 * only on the same kernel set. OPENBLAS_CORETYPE, read when OpenBLAS loads, overrides the choice. */
SO_API const char *so_blas_core(void);

/* A named view into a flat parameter array: coordinates [offset, offset + size). Rules that scale per tensor
 * (ef-signsgd's ||p||_1 / d) use these; a flat array with no tensor list is one tensor. */
typedef struct so_tensor {
    const char *name;
    size_t offset;
    size_t size;
} so_tensor;

/* ---- Counter-based random numbers (Philox4x32-10, Salmon et al. 2011) ----
 * Every draw is a pure function of (seed, worker, step, stream, index): any draw can be made without replaying
 * earlier ones, which makes results independent of thread count and equal between in-process workers and MPI
 * ranks. Key = seed (64 bits); counter = (index / 4, step, worker, stream) as four 32-bit words. */
typedef enum so_stream {
    SO_STREAM_INIT = 1,      /* model initialization */
    SO_STREAM_NOISE = 2,     /* synthetic gradient noise */
    SO_STREAM_BATCH = 3,     /* minibatch sampling / shard shuffles */
    SO_STREAM_SIGN = 4,      /* stochastic sign S_R on the uplink */
    SO_STREAM_DOWN = 5,      /* stochastic sign S_1 on the downlink (mvsm-v2) */
    SO_STREAM_TIES = 6,      /* random tie breaking in the vote */
    SO_STREAM_BYZANTINE = 7, /* random-sign Byzantine workers */
    SO_STREAM_DROPOUT = 8,   /* which workers miss a round */
    SO_STREAM_SPLIT = 9,     /* IID / Dirichlet data splits */
    SO_STREAM_TAU = 10,      /* the random iterate x_tau */
    SO_STREAM_DATA = 11,     /* synthetic data sets */
    SO_STREAM_ZERO_VOTE = 12, /* random votes for exact zeros (so_zero_vote) */
    SO_STREAM_USER = 64      /* first stream number free for users */
} so_stream;

/* The raw generator: out = Philox4x32-10(ctr, key). */
SO_API void so_philox4x32(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

/* A sequential reader over one (seed, worker, step, stream) sequence: draw i of the sequence is the same as
 * the random-access draw at index i. Plain struct; copy freely. */
typedef struct so_rng {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t buf[4];
    uint64_t index; /* next draw's index */
} so_rng;

SO_API void so_rng_init(so_rng *r, uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream);
/* Move to draw number `index` of the sequence. */
SO_API void so_rng_seek(so_rng *r, uint64_t index);
SO_API uint32_t so_rng_u32(so_rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
SO_API float so_rng_uniformf(so_rng *r);
/* Uniform in [0, 1) with 53 random bits (two draws). */
SO_API double so_rng_uniform(so_rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
SO_API uint64_t so_rng_below(so_rng *r, uint64_t n);
/* Standard normal (Box-Muller on two uniform doubles; uses four draws). */
SO_API double so_rng_normal(so_rng *r);
/* Gamma(shape, 1) (Marsaglia-Tsang), for Dirichlet splits. shape > 0. */
SO_API double so_rng_gamma(so_rng *r, double shape);

/* Random access: draw `index` of the sequence (seed, worker, step, stream), as uniform float in [0,1). */
SO_API float so_rand_uniformf_at(uint64_t seed, uint32_t worker, uint32_t step, uint32_t stream, uint64_t index);

#ifdef __cplusplus
}
#endif
#endif
