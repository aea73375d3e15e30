/* vote.c — the majority vote on packed sign vectors (docs/algorithms.md, "The sign operators" and "Distributed
 * methods": mv-signsgd, Bernstein et al. 2018/2019; mvsm-v2's S_1 downlink, seed 000 Alg 2 v2).
 *
 * The votes are counted on the packed words, never unpacked: for each word position, the count of +1 votes
 * of its 64 coordinates is kept as P bit planes (plane k holds bit k of the 64 counts, P = bits of m), so one
 * 64-bit logic operation adds 64 coordinates at once. Rows are added 16 at a time: each 8 of them by a carry-save
 * adder tree (Harley and Seal's population count, as in Mula, Kurz and Lemire, "Faster population counts using
 * AVX2 instructions", 2018) into a 4-bit count, the two counts summed to 5 bits and that added into the planes,
 * the carry rippling up in registers; a last group of fewer than 16 rows is padded with rows of zeros. The sign is
 * then a bit-sliced comparison of the planes with m/2.
 *
 * Memory. Words are processed in tiles of ts words; every row streams through a tile once. How the rows are read
 * decides the speed once the votes do not fit in cache: measured on a 2-core EPYC (Zen 3), one core reading 32
 * rows of 2 MiB interleaved 4 words at a time, S rows at a time, C words of each row per visit, pulled
 * S = 16: 9-11 GB/s whatever C; S = 8: 13.5 (C = 256), 19.3 (1024), 21.5 (4096), 23.5 GB/s (16384); S = 4: 12-21;
 * against a STREAM triad of 18-22 GB/s in the same runs. So a group's rows are read in two passes of 8
 * (group_first8 writes the first 8 rows' counts to `part`, group_second8 adds the second 8 rows and part into the
 * planes), and votes larger than the cache use long tiles (TILE_DRAM words, 32 KiB of each row; the planes,
 * P * 32 KiB, then live in L2), cut shorter only to give every thread at least two tiles. Votes that fit in cache
 * use TILE_CACHE words, so that a tile's planes stay in L1, and rows whose words would fight over the same cache
 * sets are staged first (add_group). Tiles are independent: threads split them and the result depends neither on
 * the thread count nor on the tile size.
 * With long tiles the planes' traffic to L2, not the adders, is what keeps one core below the memory's bandwidth
 * (a timing-only variant with the planes in L1 reads the same rows at the bandwidth; BENCHMARKS.md has the
 * probes). Hence this shape: each plane is read and written once per 16 rows (it was once per 8-row pass, plus a
 * separate ripple pass over the planes above the fourth), the first pass's counts are written without being read,
 * and the planes are step-major (plane_at) so that one pointer serves all of them. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include "signopt/sign.h"
#include "vote_range.h"
#include "philox_lanes.h"

/* VW: the words the adders take at a time (one vecw, below). 8 (512 bits) where the compiler targets AVX-512
 * (-march=native on such a machine), 4 (256 bits: AVX2, or pairs of 128-bit or quads of 64-bit operations
 * elsewhere) otherwise; SO_VOTE_VW=4 or 8 forces one (the tests build the 4-word path on AVX-512 machines too).
 * The votes are the same bits whatever VW: only the grouping of the words into vectors changes. */
#if defined(SO_VOTE_VW)
#define VW SO_VOTE_VW
#elif defined(__AVX512F__)
#define VW 8
#else
#define VW 4
#endif
_Static_assert(VW == 4 || VW == 8, "SO_VOTE_VW is 4 or 8");
#define TILE_CACHE 256 /* words per tile when the votes fit in cache: 16384 coordinates, 2 KiB of each row */
#define TILE_DRAM 4096 /* words per tile otherwise (at most): 32 KiB of each row */
_Static_assert(TILE_CACHE % VW == 0 && TILE_DRAM % TILE_CACHE == 0, "the adders step VW words at a time");
#define STAGE (TILE_CACHE + 8) /* words between staged rows (add_group; staging is for TILE_CACHE tiles only) */
#define IN_CACHE_BYTES ((size_t)4 << 20) /* votes up to this size are taken as coming from cache (add_group) */

/* The adders work on VW words at a time: GCC vector types, which compile to AVX-512 (VW = 8) or AVX2 (VW = 4) with
 * -march=native and to pairs or quads of plain 64-bit operations elsewhere. Left to itself, GCC kept the 16-row
 * loop scalar (16 row pointers are more run-time alias checks than it will version a loop for). On a 2-core Xeon
 * (Emerald Rapids) the 512-bit adders count 1.1-1.5x faster than the 256-bit ones with the rows in cache
 * (BENCHMARKS.md). v4x64: the 256-bit broadcast that byte_counts spreads into bytes, whatever VW. */
typedef uint64_t vecw __attribute__((vector_size(8 * VW)));
typedef uint64_t v4x64 __attribute__((vector_size(32)));
#define VZERO ((vecw){0})

static inline vecw loadv(const uint64_t *p)
{
    vecw v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void storev(uint64_t *p, vecw v)
{
    memcpy(p, &v, sizeof v);
}

/* Carry-save adder: hi:lo = a + b + c, bit by bit. */
#define CSA(hi, lo, a, b, c)                     \
    do {                                         \
        vecw u_ = (a) ^ (b), c_ = (c);            \
        (hi) = ((a) & (b)) | (u_ & c_);          \
        (lo) = u_ ^ c_;                          \
    } while (0)

static size_t present_rows(const uint64_t *const *rows, size_t n)
{
    size_t m = 0;
    for (size_t j = 0; j < n; j++) m += rows[j] != NULL;
    return m;
}

/* Bits needed to hold counts 0..m. */
static int count_planes(size_t m)
{
    int p = 0;
    while (p < 64 && (m >> p) != 0) p++;
    return p;
}

/* Planes are step-major: the tile's words go in steps of VW (one vecw), and step j holds its P plane vectors side by
 * side, so word w of plane k is planes[plane_at(P, k, w)]. One pointer then reaches all P planes of a step (the
 * adder below keeps none of them in a register across steps and needs no pointer per plane), and a step's planes
 * are P * 8 * VW contiguous bytes. */
static inline size_t plane_at(int P, int k, size_t w)
{
    return (w & ~(size_t)(VW - 1)) * (size_t)P + VW * (size_t)k + (w & (VW - 1));
}

/* The 8-row adder tree: ones, twos, fours (planes 0..2 of a running count) += the count of x[0..7]; returns the
 * eights it carries out. The tiled adders and small_planes build on it. */
static inline vecw tree8(vecw *ones, vecw *twos, vecw *fours, const vecw x[8])
{
    vecw twosA, twosB, foursA, foursB, eights;
    CSA(twosA, *ones, *ones, x[0], x[1]);
    CSA(twosB, *ones, *ones, x[2], x[3]);
    CSA(foursA, *twos, *twos, twosA, twosB);
    CSA(twosA, *ones, *ones, x[4], x[5]);
    CSA(twosB, *ones, *ones, x[6], x[7]);
    CSA(foursB, *twos, *twos, twosA, twosB);
    CSA(eights, *fours, *fours, foursA, foursB);
    return eights;
}

/* Words [w, w + VW) of the 8 rows r[] (each offset to the tile, nw words long); the last, partial step reads copies
 * of the rows' last words padded with zeros (a zero adds nothing), so no row is read past its end. */
static inline __attribute__((always_inline)) void rows8_at(vecw x[8], const uint64_t *const *r, size_t w, size_t nw)
{
    if (w + VW <= nw) {
        for (int i = 0; i < 8; i++) x[i] = loadv(r[i] + w);
    } else {
        for (int i = 0; i < 8; i++) {
            uint64_t pad[VW] = {0};
            memcpy(pad, r[i] + w, (nw - w) * sizeof(uint64_t));
            x[i] = loadv(pad);
        }
    }
}

/* The 4-bit count (planes 0..3) of the 8 rows r[] over words [w, w + VW). */
static inline __attribute__((always_inline)) void count8_at(vecw c[4], const uint64_t *const *r, size_t w, size_t nw)
{
    vecw x[8], ones = VZERO, twos = ones, fours = ones;
    rows8_at(x, r, w, nw);
    c[3] = tree8(&ones, &twos, &fours, x); /* from zero: at most 8, so no sixteens */
    c[0] = ones;
    c[1] = twos;
    c[2] = fours;
}

/* The first 8 rows of a 16-row group: their 4-bit counts, written (not added) to part, 4 vectors per step. */
static void group_first8(uint64_t *restrict part, const uint64_t *const *r, size_t nw)
{
    for (size_t w = 0; w < nw; w += VW) {
        vecw c[4];
        count8_at(c, r, w, nw);
        for (int k = 0; k < 4; k++) storev(part + 4 * w + VW * (size_t)k, c[k]);
    }
}

/* The second 8 rows: their count plus the first 8's (part) is a 5-bit number, added into the P planes with the carry
 * rippled through the planes above in registers. Each plane is read and written once per 16 rows. P >= 4 (the tiled
 * path has at least 9 rows); with P = 4 (9 to 15 rows) the sum's fifth bit is always 0. */
static inline __attribute__((always_inline)) void group_second8(uint64_t *restrict planes, const uint64_t *restrict part,
                                                                const uint64_t *const *r, size_t nw, const int P,
                                                                const int first)
{
    for (size_t w = 0; w < nw; w += VW) {
        vecw b[4], sum[5], c;
        count8_at(b, r, w, nw);
        const uint64_t *restrict a = part + 4 * w;
        c = loadv(a) & b[0];
        sum[0] = loadv(a) ^ b[0];
        for (int k = 1; k < 4; k++) {
            const vecw ak = loadv(a + VW * k), u = ak ^ b[k];
            sum[k] = u ^ c;
            c = (ak & b[k]) | (u & c);
        }
        sum[4] = c;
        uint64_t *restrict q = planes + (size_t)P * w; /* step w / 4's planes */
        c = VZERO;
        for (int k = 0; k < P; k++) {
            const vecw x = first ? VZERO : loadv(q + VW * k);
            if (k < 5) {
                const vecw u = x ^ sum[k];
                storev(q + VW * k, u ^ c);
                c = (x & sum[k]) | (u & c);
            } else {
                storev(q + VW * k, x ^ c);
                c = x & c;
            }
        }
    }
}

/* group_second8 with P a constant for the common plane counts (9 to 4095 rows), so its plane loop unrolls. */
typedef void (*second8_fn)(uint64_t *restrict, const uint64_t *restrict, const uint64_t *const *, size_t, int);
#define SECOND8_INSTANCE(P)                                                                                   \
    static void group_second8_##P(uint64_t *restrict planes, const uint64_t *restrict part,                   \
                                  const uint64_t *const *r, size_t nw, int first)                             \
    {                                                                                                         \
        if (first) group_second8(planes, part, r, nw, P, 1);                                                  \
        else group_second8(planes, part, r, nw, P, 0);                                                        \
    }
SECOND8_INSTANCE(4)
SECOND8_INSTANCE(5)
SECOND8_INSTANCE(6)
SECOND8_INSTANCE(7)
SECOND8_INSTANCE(8)
SECOND8_INSTANCE(9)
SECOND8_INSTANCE(10)
SECOND8_INSTANCE(11)
SECOND8_INSTANCE(12)
static const second8_fn second8_fixed[] = {group_second8_4, group_second8_5,  group_second8_6,
                                           group_second8_7, group_second8_8,  group_second8_9,
                                           group_second8_10, group_second8_11, group_second8_12};

/* Add 16 rows (each offset to the tile) into the P planes, in two passes of 8 rows: 8 rows read side by side stream
 * from memory twice as fast as 16 (see the top). */
static void add16(uint64_t *restrict planes, uint64_t *restrict part, const uint64_t *const *g, int P, size_t nw,
                  int first)
{
    group_first8(part, g, nw);
    if (P >= 4 && P <= 12) second8_fixed[P - 4](planes, part, g + 8, nw, first);
    else group_second8(planes, part, g + 8, nw, P, first);
}

/* Rows of zeros standing in for the missing rows of a last group of fewer than 16 (a zero adds nothing): one
 * block, as long as the longest tile, that all of them point to. */
static const uint64_t zero_row[TILE_DRAM];

/* Whether g rows, read side by side, would evict each other from L1: the same word of rows a multiple of 4 KiB
 * apart (common: the n messages of one allocation, d a multiple of 2^15) falls in one set of the 64 sets of
 * 64-byte lines that current x86 and ARM L1 caches have, and more rows than the set has ways (8 or 12) then
 * thrash: each line is evicted before its second half is read. More than 4 rows on one set counts as a clash. */
static int rows_clash(const uint64_t *const *g, int count)
{
    unsigned char on_set[64] = {0};
    for (int i = 0; i < count; i++)
        if (++on_set[((uintptr_t)g[i] >> 6) & 63] > 4) return 1;
    return 0;
}

/* Add g <= 16 rows (offset to the tile). With `stage_clashes`, clashing rows are first copied, one row chunk at a
 * time, into a staging block whose rows are STAGE words apart, an odd number of lines, so the staged rows spread
 * over the sets; other rows are read in place. Staging pays only while the votes come from cache (measured
 * on a 2-core EPYC, 64 rows a power of two apart: 1.7x faster at 512 KiB in all, 1.1x at 4 MiB, 0.8x at 8 MiB);
 * from DRAM, 16 rows read side by side keep more misses in flight than one copy at a time, and in-place reading
 * was 10-30% faster (16 and 1000 rows 2 MiB apart). */
static void add_group(uint64_t *restrict planes, uint64_t *restrict part, uint64_t *restrict stage,
                      const uint64_t **group, int g, int P, size_t nw, int stage_clashes, int first)
{
    if (stage_clashes && rows_clash(group, g)) {
        for (int i = 0; i < g; i++) {
            memcpy(stage + (size_t)i * STAGE, group[i], nw * sizeof(uint64_t));
            group[i] = stage + (size_t)i * STAGE;
        }
    }
    for (int i = g; i < 16; i++) group[i] = zero_row;
    add16(planes, part, group, P, nw, first);
}

/* planes <- bit-sliced counts of +1 votes of the present rows over words [w0, w0 + nw). */
static void count_tile(uint64_t *restrict planes, uint64_t *restrict part, uint64_t *restrict stage, int P,
                       const uint64_t *const *rows, size_t n, size_t w0, size_t nw, int stage_clashes)
{
    const uint64_t *group[16];
    int g = 0, first = 1; /* the first group writes every plane word of the tile's steps: no clearing needed */
    for (size_t j = 0; j < n; j++) {
        if (!rows[j]) continue;
        group[g++] = rows[j] + w0;
        if (g == 16) {
            add_group(planes, part, stage, group, g, P, nw, stage_clashes, first);
            g = first = 0;
        }
    }
    if (g) add_group(planes, part, stage, group, g, P, nw, stage_clashes, first);
}

/* Random tie words for [w0, w0 + nw), w0 even: word w is u32 draws 2w (low half) and 2w + 1 (high half) of
 * (seed, 0, step, SO_STREAM_TIES), i.e. Philox block w / 2, outputs 0,1 (w even) or 2,3 (w odd). */
static void tie_words(uint64_t *restrict rnd, const so_philox_key *key, size_t w0, size_t nw)
{
    uint32_t out[4][SO_LANES];
    for (size_t b = 0; 2 * b < nw; b += SO_LANES) {
        so_philox_lanes(out, key, (uint32_t)(w0 / 2 + b));
        for (size_t j = 0; j < SO_LANES && 2 * (b + j) < nw; j++) {
            rnd[2 * (b + j)] = (uint64_t)out[0][j] | (uint64_t)out[1][j] << 32;
            if (2 * (b + j) + 1 < nw) rnd[2 * (b + j) + 1] = (uint64_t)out[2][j] | (uint64_t)out[3][j] << 32;
        }
    }
}

static inline uint64_t last_word_mask(size_t d)
{
    return d % 64 ? ((uint64_t)1 << (d % 64)) - 1 : ~(uint64_t)0;
}

/* Tiles run in parallel only when there is enough work to pay for waking the threads. */
#define PARALLEL_WORK ((size_t)1 << 20) /* row-words */

/* How a vote is cut into tiles, and where each thread's buffers live: P planes (P * ts words), part (4 * ts; the
 * majority's random tie words after the count) and the staging block (votes that fit in cache: 16 * STAGE). */
typedef struct vote_plan {
    size_t ts, ntiles, per_thread; /* words per tile, tiles, buffer words per thread */
    int P, in_cache, parallel;
    uint64_t *heap; /* per_thread words for each thread; NULL: each thread's buffers on its stack (ts = TILE_CACHE) */
} vote_plan;

static size_t buffer_words(int P, size_t ts, int in_cache)
{
    return (size_t)P * ts + 4 * ts + (in_cache ? 16 * (size_t)STAGE : 0);
}

static void plan_make(vote_plan *pl, size_t m, size_t nwords)
{
    int threads = 1;
    pl->P = count_planes(m);
    pl->in_cache = m * nwords * sizeof(uint64_t) <= IN_CACHE_BYTES;
    pl->parallel = m * nwords >= PARALLEL_WORK;
#ifdef _OPENMP
    if (pl->parallel) threads = omp_get_max_threads();
#endif
    size_t ts = TILE_CACHE;
    if (!pl->in_cache)
        for (ts = TILE_DRAM; ts > TILE_CACHE && nwords < 2 * (size_t)threads * ts; ts /= 2) {
        }
    pl->heap = NULL;
    if (ts > TILE_CACHE) {
        pl->heap = malloc((size_t)threads * buffer_words(pl->P, ts, pl->in_cache) * sizeof(uint64_t));
        if (!pl->heap) ts = TILE_CACHE; /* no memory for long tiles: short ones on the stack, the same result */
    }
    pl->ts = ts;
    pl->ntiles = (nwords + ts - 1) / ts;
    pl->per_thread = buffer_words(pl->P, ts, pl->in_cache);
    pl->parallel = pl->parallel && pl->ntiles > 1;
}

/* A thread's buffers, carved out of buf (plan->per_thread words). */
typedef struct vote_bufs {
    uint64_t *planes, *part, *stage;
} vote_bufs;

static vote_bufs bufs_at(const vote_plan *pl, uint64_t *buf)
{
    vote_bufs b;
    b.planes = buf;
    b.part = b.planes + (size_t)pl->P * pl->ts;
    b.stage = b.part + 4 * pl->ts;
    return b;
}

static int thread_index(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* The buffers of the calling thread: its slice of the heap block, or `local` (the stack) when there is none. */
#define THREAD_BUFS(pl, local) \
    bufs_at(&(pl), (pl).heap ? (pl).heap + (size_t)thread_index() * (pl).per_thread : (local))
#define LOCAL_WORDS(pl) ((pl).heap ? 1 : (pl).per_thread)

/* What a vote does with a counted tile: its P planes (b->planes, step-major: plane_at) for words [w0, w0 + nw). */
typedef void (*tile_fn)(void *ctx, const vote_bufs *b, int P, size_t w0, size_t nw);

/* Counts the m present rows of rows[0..n) tile by tile, threads splitting the tiles, and hands each to fn. */
static void for_each_tile(const uint64_t *const *rows, size_t n, size_t m, size_t nwords, tile_fn fn, void *ctx)
{
    vote_plan pl;
    plan_make(&pl, m, nwords);
#pragma omp parallel if (pl.parallel)
    {
        uint64_t local[LOCAL_WORDS(pl)];
        const vote_bufs b = THREAD_BUFS(pl, local);
#pragma omp for schedule(static)
        for (size_t t = 0; t < pl.ntiles; t++) {
            const size_t w0 = t * pl.ts, nw = nwords - w0 < pl.ts ? nwords - w0 : pl.ts;
            count_tile(b.planes, b.part, b.stage, pl.P, rows, n, w0, nw, pl.in_cache);
            fn(ctx, &b, pl.P, w0, nw);
        }
    }
    free(pl.heap);
}

/* ---- votes of at most 8 present rows: one pass, no planes in memory ----
 * With m <= 8 the whole count fits in 4 bit planes that the 8-row adder tree builds in registers from zero, so
 * the rows are read once, side by side, and the results written straight out: no plane is stored, rippled,
 * cleared or re-read (for n = 8 that plane traffic, in L2 with long tiles or against short row runs with short
 * ones, held the general path at ~0.6 of the bandwidth). Chunks of SMALL_CHUNK words are independent.
 * Each m (1..8) and tie rule has its own instance of the chunk loop (small_chunks, small_counts), m and the rule
 * compile-time constants, so the loop has no branch and the results go out as whole vector stores: with m and
 * the rule run-time values the loop was branches and byte copies, 14 GB/s with 8 rows in L2 on a 2-core EPYC
 * (Zen 3); the instances run at 50-80 GB/s there, and from DRAM at the speed of reading the 8 rows alone. */
#define SMALL_ROWS 8
#define SMALL_CHUNK 1024 /* words; even, a multiple of 8 (tie_words, the VW-word steps) */

/* The 4 bit planes of the counts of the g <= 8 rows r[] over words [w, w + VW); rows past g count as zero. */
static inline __attribute__((always_inline)) void small_planes(vecw pl[4], const uint64_t *const *r, int g,
                                                              size_t w)
{
    vecw x[SMALL_ROWS];
    for (int i = 0; i < SMALL_ROWS; i++) x[i] = i < g ? loadv(r[i] + w) : VZERO;
    vecw ones = VZERO, twos = ones, fours = ones;
    vecw eights = tree8(&ones, &twos, &fours, x); /* from zero planes: at most 8, so no sixteens */
    pl[0] = ones;
    pl[1] = twos;
    pl[2] = fours;
    pl[3] = eights;
}

/* small_planes for the last, partial step [w, nw) of a chunk: copies of the rows' last words padded with zeros (a
 * zero adds nothing), so that no row is read past its end. */
static inline __attribute__((always_inline)) void small_planes_padded(vecw pl[4], const uint64_t *const *r, int g,
                                                                     size_t w, size_t nw)
{
    uint64_t pad[SMALL_ROWS][VW];
    const uint64_t *padded[SMALL_ROWS];
    for (int i = 0; i < g; i++) {
        memset(pad[i], 0, sizeof pad[i]);
        memcpy(pad[i], r[i] + w, (nw - w) * sizeof(uint64_t));
        padded[i] = pad[i];
    }
    small_planes(pl, padded, g, 0);
}

static int small_rows(const uint64_t **g, const uint64_t *const *rows, size_t n)
{
    int m = 0;
    for (size_t j = 0; j < n; j++)
        if (rows[j]) g[m++] = rows[j];
    return m;
}

/* gt, eq of the counts (planes pl[0..3]) against the constant h, bit-sliced from the top plane down. */
static inline __attribute__((always_inline)) void compare_h(vecw *gt, vecw *eq, const vecw pl[4], const unsigned h)
{
    vecw g = VZERO, e = ~g;
    for (int k = 3; k >= 0; k--) {
        if ((h >> k) & 1) e &= pl[k];
        else {
            g |= e & pl[k];
            e &= ~pl[k];
        }
    }
    *gt = g;
    *eq = e;
}

/* One chunk of nw words of a vote of M rows r[] (M, T compile-time constants: every instance below is one
 * straight loop with no branch in it): sign bits into s, and for T = SO_TIES_ZERO the tie bits into z (if z). */
static inline __attribute__((always_inline)) void small_majority_chunk(uint64_t *restrict s, uint64_t *restrict z,
                                                                        const uint64_t *const *r, size_t nw,
                                                                        const uint64_t *tie, const int M,
                                                                        const int T)
{
    const int may_tie = M % 2 == 0;
    size_t w = 0;
    vecw pl[4], gt, eq, out;
#define SMALL_OUT()                                                                                \
    do {                                                                                           \
        compare_h(&gt, &eq, pl, (unsigned)M / 2);                                                  \
        if (!may_tie) eq = VZERO;                                                      \
        out = gt;                                                                                  \
        if (T == SO_TIES_RANDOM && may_tie) out |= eq & loadv(tie + w);                            \
        else if (T == SO_TIES_POSITIVE) out |= eq;                                                 \
    } while (0)
    for (; w + VW <= nw; w += VW) {
        small_planes(pl, r, M, w);
        SMALL_OUT();
        storev(s + w, out);
        if (T == SO_TIES_ZERO && z) storev(z + w, eq);
    }
    if (w < nw) {
        uint64_t o[VW], e[VW];
        small_planes_padded(pl, r, M, w, nw);
        SMALL_OUT();
        storev(o, out);
        storev(e, eq);
        memcpy(s + w, o, (nw - w) * sizeof(uint64_t));
        if (T == SO_TIES_ZERO && z) memcpy(z + w, e, (nw - w) * sizeof(uint64_t));
    }
#undef SMALL_OUT
}

typedef void (*small_chunk_fn)(uint64_t *restrict, uint64_t *restrict, const uint64_t *const *, size_t,
                               const uint64_t *);
#define SMALL_INSTANCE(M, T)                                                                                  \
    static void small_chunk_##M##_##T(uint64_t *restrict s, uint64_t *restrict z, const uint64_t *const *r,   \
                                      size_t nw, const uint64_t *tie)                                         \
    {                                                                                                         \
        small_majority_chunk(s, z, r, nw, tie, M, T);                                                         \
    }
#define SMALL_INSTANCES(M) SMALL_INSTANCE(M, 0) SMALL_INSTANCE(M, 1) SMALL_INSTANCE(M, 2)
SMALL_INSTANCES(1)
SMALL_INSTANCES(2)
SMALL_INSTANCES(3)
SMALL_INSTANCES(4)
SMALL_INSTANCES(5)
SMALL_INSTANCES(6)
SMALL_INSTANCES(7)
SMALL_INSTANCES(8)
#define SMALL_ROW(M) {small_chunk_##M##_0, small_chunk_##M##_1, small_chunk_##M##_2}
static const small_chunk_fn small_chunks[SMALL_ROWS][3] = {SMALL_ROW(1), SMALL_ROW(2), SMALL_ROW(3), SMALL_ROW(4),
                                                           SMALL_ROW(5), SMALL_ROW(6), SMALL_ROW(7), SMALL_ROW(8)};
_Static_assert(SO_TIES_ZERO == 0 && SO_TIES_POSITIVE == 1 && SO_TIES_RANDOM == 2, "small_chunks is indexed by ties");

static void small_majority(uint64_t *restrict sign_bits, uint64_t *restrict zero_bits, const uint64_t *const *rows,
                           size_t n, size_t nwords, so_ties ties, const so_philox_key *key, size_t base)
{
    const uint64_t *all[SMALL_ROWS];
    const int m = small_rows(all, rows, n);
    const small_chunk_fn chunk = small_chunks[m - 1][ties];
    const int random_ties = ties == SO_TIES_RANDOM && m % 2 == 0;
    const size_t nchunks = (nwords + SMALL_CHUNK - 1) / SMALL_CHUNK;
    if (zero_bits && ties != SO_TIES_ZERO) memset(zero_bits, 0, nwords * sizeof(uint64_t));
#pragma omp parallel for schedule(static) if ((size_t)m * nwords >= PARALLEL_WORK && nchunks > 1)
    for (size_t c = 0; c < nchunks; c++) {
        const size_t w0 = c * SMALL_CHUNK, nw = nwords - w0 < SMALL_CHUNK ? nwords - w0 : SMALL_CHUNK;
        const uint64_t *r[SMALL_ROWS];
        for (int i = 0; i < m; i++) r[i] = all[i] + w0;
        uint64_t tie[SMALL_CHUNK + VW];
        if (random_ties) {
            tie_words(tie, key, base + w0, nw);
            memset(tie + nw, 0, VW * sizeof(uint64_t)); /* read by the last, partial step; its bits are not kept */
        }
        chunk(sign_bits + w0, zero_bits && ties == SO_TIES_ZERO ? zero_bits + w0 : NULL, r, nw, tie);
    }
}

typedef struct majority_ctx {
    uint64_t *sign_bits, *zero_bits;
    so_ties ties;
    const so_philox_key *key;
    uint64_t h;
    int may_tie;
    size_t base; /* global index of word 0 (a shard's first word): the random draws are the global word's */
} majority_ctx;

/* The sign (and zero) bits of a tile's words [0, nw) from its P step-major planes, VW words at a time: the counts
 * compared with h bit-sliced from the top plane down (gt: c > h, eq: c == h), the tie rule applied, the words
 * written straight out (the last, partial step through a copy, so nothing past nw is written). rnd: the tile's
 * random tie words, with room for the last step. */
static inline __attribute__((always_inline)) void majority_steps(const majority_ctx *c, const uint64_t *restrict planes,
                                                                 const uint64_t *restrict rnd, const int P, size_t w0,
                                                                 size_t nw)
{
    uint64_t *restrict s = c->sign_bits + w0, *restrict z = c->zero_bits ? c->zero_bits + w0 : NULL;
    const int random = c->ties == SO_TIES_RANDOM && c->may_tie, positive = c->ties == SO_TIES_POSITIVE;
    const int keep_zero = c->ties == SO_TIES_ZERO && c->may_tie;
    for (size_t w = 0; w < nw; w += VW) {
        const uint64_t *restrict q = planes + (size_t)P * w;
        vecw gt = VZERO, eq = ~gt;
        for (int k = P - 1; k >= 0; k--) {
            const vecw pk = loadv(q + VW * k);
            if ((c->h >> k) & 1) {
                eq &= pk;
            } else {
                gt |= eq & pk;
                eq &= ~pk;
            }
        }
        if (!c->may_tie) eq = VZERO;
        vecw out = gt;
        if (random) out |= eq & loadv(rnd + w);
        else if (positive) out |= eq;
        const vecw zero = keep_zero ? eq : VZERO;
        if (w + VW <= nw) {
            storev(s + w, out);
            if (z) storev(z + w, zero);
        } else {
            uint64_t o[VW], e[VW];
            storev(o, out);
            storev(e, zero);
            memcpy(s + w, o, (nw - w) * sizeof(uint64_t));
            if (z) memcpy(z + w, e, (nw - w) * sizeof(uint64_t));
        }
    }
}

/* P a constant for 9 to 255 rows (P = 4..8), so that the plane loop unrolls. */
static void majority_tile(void *ctx, const vote_bufs *b, int P, size_t w0, size_t nw)
{
    const majority_ctx *c = ctx;
    uint64_t *restrict rnd = b->part; /* free again */
    if (c->ties == SO_TIES_RANDOM && c->may_tie) {
        tie_words(rnd, c->key, c->base + w0, nw);
        memset(rnd + nw, 0, VW * sizeof(uint64_t)); /* read by the last, partial step; its bits are not kept */
    }
    switch (P) {
    case 4: majority_steps(c, b->planes, rnd, 4, w0, nw); break;
    case 5: majority_steps(c, b->planes, rnd, 5, w0, nw); break;
    case 6: majority_steps(c, b->planes, rnd, 6, w0, nw); break;
    case 7: majority_steps(c, b->planes, rnd, 7, w0, nw); break;
    case 8: majority_steps(c, b->planes, rnd, 8, w0, nw); break;
    default: majority_steps(c, b->planes, rnd, P, w0, nw); break;
    }
}

size_t so__vote_majority_range(uint64_t *restrict sign_bits, uint64_t *restrict zero_bits,
                               const uint64_t *const *rows, size_t n, size_t d, size_t base, size_t nwords,
                               so_ties ties, uint64_t seed, uint32_t step)
{
    size_t m = present_rows(rows, n);
    if (m == 0) {
        memset(sign_bits, 0, nwords * sizeof(uint64_t));
        if (zero_bits) memset(zero_bits, 0, nwords * sizeof(uint64_t));
        return 0;
    }
    if (ties != SO_TIES_POSITIVE && ties != SO_TIES_RANDOM) ties = SO_TIES_ZERO; /* small_chunks is indexed by it */
    so_philox_key key = so_philox_key_make(seed, 0, step, SO_STREAM_TIES);
    if (nwords == 0) return m;
    if (m <= SMALL_ROWS) {
        small_majority(sign_bits, zero_bits, rows, n, nwords, ties, &key, base);
    } else {
        majority_ctx c = {sign_bits, zero_bits, ties, &key, m / 2, m % 2 == 0, base};
        for_each_tile(rows, n, m, nwords, majority_tile, &c);
    }
    if (base + nwords == so_packed_words(d)) { /* the shard holding the last word: nothing past d */
        sign_bits[nwords - 1] &= last_word_mask(d);
        if (zero_bits) zero_bits[nwords - 1] &= last_word_mask(d);
    }
    return m;
}

const char *so__vote_path(void)
{
#if VW == 8 && defined(__AVX512F__)
    return "avx512";
#elif VW == 8
    return "w8-generic";
#elif defined(__AVX2__)
    return "avx2";
#else
    return "generic";
#endif
}

/* sign_bits, zero_bits are (ceil(d/64),); rows[j] is (ceil(d/64),) or NULL */
size_t so_vote_majority(uint64_t *restrict sign_bits, uint64_t *restrict zero_bits,
                        const uint64_t *const *rows, size_t n, size_t d,
                        so_ties ties, uint64_t seed, uint32_t step)
{
    return so__vote_majority_range(sign_bits, zero_bits, rows, n, d, 0, so_packed_words(d), ties, seed, step);
}

typedef uint8_t v32b __attribute__((vector_size(32)));

/* Byte b of SPREAD(word, o) is byte o + b / 8 of the broadcast word, taken within 128-bit lanes: coordinates
 * 0..15 read the first copy of the word, 16..31 the second, which starts at byte 16. __builtin_shufflevector
 * (GCC 12 and clang) with constant indices. */
#define SPREAD(v, o)                                                                                           \
    __builtin_shufflevector(v, v, o, o, o, o, o, o, o, o, o + 1, o + 1, o + 1, o + 1, o + 1, o + 1, o + 1,     \
                            o + 1, o + 18, o + 18, o + 18, o + 18, o + 18, o + 18, o + 18, o + 18, o + 19,    \
                            o + 19, o + 19, o + 19, o + 19, o + 19, o + 19, o + 19)

/* Bit-sliced counts back to integers, 32 coordinates a vector. byte_counts: byte b of lo (hi) is the count of
 * coordinate b (32 + b) over the plane words x[0], x[xs], ..., x[(P-1) xs] (P <= 8): each plane word is spread so
 * that byte b holds the byte of the word that has bit b (a shuffle within 128-bit lanes, vpshufb on AVX2), bit b
 * is tested with a mask and the result sets bit k of byte b. About a dozen vector operations per plane for 64 coordinates, where
 * shifting bit b out of the word for each coordinate took 64. */
static inline __attribute__((always_inline)) void byte_counts(v32b *lo, v32b *hi, const uint64_t *x, const size_t xs,
                                                              const int P)
{
    const v32b bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
                      1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    v32b l = {0}, h = {0};
    for (int k = 0; k < P; k++) {
        const v4x64 xx = {x[xs * k], x[xs * k], x[xs * k], x[xs * k]};
        const v32b word = (v32b)xx, kbit = (v32b){0} + (uint8_t)(1u << k);
        l |= (v32b)((SPREAD(word, 0) & bit) != 0) & kbit;
        h |= (v32b)((SPREAD(word, 4) & bit) != 0) & kbit;
    }
    *lo = l;
    *hi = h;
}

/* Counts of a large vote are written with non-temporal stores (AVX2): they bypass the cache, so the lines are not
 * first read from memory (write-allocate), which for 4 bytes written per coordinate is most of the traffic.
 * Measured on a 2-core EPYC (Zen 3), 8 rows of d = 16M, one core: 0.70 of the STREAM triad with plain stores,
 * 0.89-0.93 with streaming ones. Only where the counts cannot stay in cache anyway (NT_BYTES) and are 32-byte
 * aligned; each thread fences its own streaming stores before the vote returns. */
#define NT_BYTES ((size_t)32 << 20)

#ifdef __AVX2__
/* The 32 bytes of b widened to uint32, 8 to a vector. */
static inline void widen(__m256i q[4], v32b b)
{
    const __m256i v = (__m256i)b;
    const __m128i l = _mm256_castsi256_si128(v), h = _mm256_extracti128_si256(v, 1);
    q[0] = _mm256_cvtepu8_epi32(l);
    q[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(l, 8));
    q[2] = _mm256_cvtepu8_epi32(h);
    q[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(h, 8));
}
#endif

/* Counts of 32 coordinates to c from the bytes b[g] (bits 8g..8g+7 of each count, 1 <= G <= 4 groups). */
static inline __attribute__((always_inline)) void put32(uint32_t *c, const v32b *b, const int G, const int nt)
{
#ifdef __AVX2__
    __m256i q[4], w[4];
    widen(q, b[0]);
    for (int g = 1; g < G; g++) {
        widen(w, b[g]);
        for (int i = 0; i < 4; i++) q[i] = _mm256_or_si256(q[i], _mm256_slli_epi32(w[i], 8 * g));
    }
    for (int i = 0; i < 4; i++) {
        if (nt) _mm256_stream_si256((__m256i *)(c + 8 * i), q[i]);
        else _mm256_storeu_si256((__m256i *)(c + 8 * i), q[i]);
    }
#else
    (void)nt;
    uint8_t byte[4][32];
    for (int g = 0; g < G; g++) memcpy(byte[g], &b[g], 32);
    for (int i = 0; i < 32; i++) {
        uint32_t v = 0;
        for (int g = 0; g < G; g++) v |= (uint32_t)byte[g][i] << (8 * g);
        c[i] = v;
    }
#endif
}

static inline void stream_fence(int nt)
{
#ifdef __AVX2__
    if (nt) _mm_sfence();
#else
    (void)nt;
#endif
}

/* The 64 counts of one word position from its plane words x[0], x[xs], ..., x[(P-1) xs] (P <= 32: counts are
 * uint32_t) into c[0..len), len <= 64; nt: c is 32-byte aligned, len = 64, stream the stores. */
static inline __attribute__((always_inline)) void word_counts(uint32_t *c, const uint64_t *x, const size_t xs,
                                                              const int P, size_t len, const int nt)
{
    v32b lo[4], hi[4];
    const int G = (P + 7) / 8;
    for (int g = 0; g < G; g++) byte_counts(&lo[g], &hi[g], x + 8 * xs * (size_t)g, xs, P - 8 * g < 8 ? P - 8 * g : 8);
    if (len == 64) {
        put32(c, lo, G, nt);
        put32(c + 32, hi, G, nt);
    } else {
        uint32_t t[64];
        put32(t, lo, G, 0);
        put32(t + 32, hi, G, 0);
        memcpy(c, t, len * sizeof(uint32_t));
    }
}

/* so_vote_count for M <= 8 present rows r[] (M constant), one chunk of nw words whose first coordinate is i0: the
 * planes of VW words at a time from small_planes, turned into counts and written straight into place. */
static inline __attribute__((always_inline)) void small_count_chunk(uint32_t *restrict counts,
                                                                     const uint64_t *const *r, size_t nw, size_t i0,
                                                                     size_t d, int nt, const int M)
{
    const int P = count_planes((size_t)M);
    vecw pl[4];
    for (size_t w = 0; w < nw; w += VW) {
        if (w + VW <= nw) small_planes(pl, r, M, w);
        else small_planes_padded(pl, r, M, w, nw);
        for (int j = 0; j < VW && w + j < nw; j++) {
            uint64_t x[4];
            for (int k = 0; k < P; k++) x[k] = pl[k][j];
            const size_t c0 = i0 + 64 * (w + j), len = d - c0 < 64 ? d - c0 : 64;
            word_counts(counts + c0, x, 1, P, len, nt);
        }
    }
    stream_fence(nt);
}

typedef void (*small_count_fn)(uint32_t *restrict, const uint64_t *const *, size_t, size_t, size_t, int);
#define COUNT_INSTANCE(M)                                                                                     \
    static void small_count_##M(uint32_t *restrict counts, const uint64_t *const *r, size_t nw, size_t i0,    \
                                size_t d, int nt)                                                             \
    {                                                                                                         \
        small_count_chunk(counts, r, nw, i0, d, nt, M);                                                       \
    }
COUNT_INSTANCE(1)
COUNT_INSTANCE(2)
COUNT_INSTANCE(3)
COUNT_INSTANCE(4)
COUNT_INSTANCE(5)
COUNT_INSTANCE(6)
COUNT_INSTANCE(7)
COUNT_INSTANCE(8)
static const small_count_fn small_counts[SMALL_ROWS] = {small_count_1, small_count_2, small_count_3, small_count_4,
                                                        small_count_5, small_count_6, small_count_7, small_count_8};

static void small_count(uint32_t *restrict counts, const uint64_t *const *rows, size_t n, size_t d, int nt)
{
    const uint64_t *all[SMALL_ROWS];
    const int m = small_rows(all, rows, n);
    const small_count_fn chunk = small_counts[m - 1];
    const size_t nwords = so_packed_words(d), nchunks = (nwords + SMALL_CHUNK - 1) / SMALL_CHUNK;
#pragma omp parallel for schedule(static) if ((size_t)m * nwords >= PARALLEL_WORK && nchunks > 1)
    for (size_t c = 0; c < nchunks; c++) {
        const size_t w0 = c * SMALL_CHUNK, nw = nwords - w0 < SMALL_CHUNK ? nwords - w0 : SMALL_CHUNK;
        const uint64_t *r[SMALL_ROWS];
        for (int i = 0; i < m; i++) r[i] = all[i] + w0;
        chunk(counts, r, nw, 64 * w0, d, nt);
    }
}

typedef struct count_ctx {
    uint32_t *counts;
    size_t d;
    int nt;
} count_ctx;

/* The counts of a tile's words [0, nw) (first coordinate i0) from its P step-major planes: word w's plane words are
 * planes[plane_at(P, 0, w)] and every VW-th word after it. */
static inline __attribute__((always_inline)) void tile_counts(uint32_t *restrict counts, const uint64_t *restrict planes,
                                                              const int P, size_t i0, size_t nw, size_t d, int nt)
{
    for (size_t w = 0; w < nw; w++) {
        const size_t c0 = i0 + 64 * w;
        word_counts(counts + c0, planes + plane_at(P, 0, w), VW, P, d - c0 < 64 ? d - c0 : 64, nt);
    }
}

/* P a constant for 9 to 255 rows (P = 4..8), so that the plane loops unroll and the bytes stay in registers. */
static void count_out_tile(void *ctx, const vote_bufs *b, int P, size_t w0, size_t nw)
{
    const count_ctx *c = ctx;
    const size_t i0 = 64 * w0;
    switch (P) {
    case 4: tile_counts(c->counts, b->planes, 4, i0, nw, c->d, c->nt); break;
    case 5: tile_counts(c->counts, b->planes, 5, i0, nw, c->d, c->nt); break;
    case 6: tile_counts(c->counts, b->planes, 6, i0, nw, c->d, c->nt); break;
    case 7: tile_counts(c->counts, b->planes, 7, i0, nw, c->d, c->nt); break;
    case 8: tile_counts(c->counts, b->planes, 8, i0, nw, c->d, c->nt); break;
    default: tile_counts(c->counts, b->planes, P, i0, nw, c->d, c->nt); break;
    }
    stream_fence(c->nt);
}

/* counts is (d,); rows[j] is (ceil(d/64),) or NULL */
void so_vote_count(uint32_t *restrict counts, const uint64_t *const *rows, size_t n, size_t d)
{
    size_t nwords = so_packed_words(d), m = present_rows(rows, n);
    if (m == 0) {
        memset(counts, 0, d * sizeof(uint32_t));
        return;
    }
    const int nt = d * sizeof(uint32_t) >= NT_BYTES && (uintptr_t)counts % 32 == 0;
    if (m <= SMALL_ROWS) {
        small_count(counts, rows, n, d, nt);
        return;
    }
    count_ctx c = {counts, d, nt};
    for_each_tile(rows, n, m, nwords, count_out_tile, &c);
}

/* sign_bits is (ceil(d/64),); rows[j] is (ceil(d/64),) or NULL.
 * bit_i = (u_i * m < c_i), u_i = (draw_i >> 8) 2^-24 the float so_rand_uniformf_at gives, compared exactly in
 * integers as (draw_i >> 8) * m < c_i * 2^24: P(bit_i = 1) = ceil(c_i 2^24 / m) / 2^24, within 2^-24 of c_i/m. */
typedef struct stochastic_ctx {
    uint64_t *sign_bits;
    const so_philox_key *key;
    size_t m;
    size_t base; /* global index of word 0 */
} stochastic_ctx;

static void stochastic_tile(void *ctx, const vote_bufs *b, int P, size_t w0, size_t nw)
{
    const stochastic_ctx *c = ctx;
    for (size_t w = 0; w < nw; w++) {
        uint32_t cw[64], draws[64];
        word_counts(cw, b->planes + plane_at(P, 0, w), VW, P, 64, 0);
        so_philox_word_draws(draws, c->key, c->base + w0 + w);
        uint64_t word = 0;
        for (int k = 0; k < 64; k++)
            word |= (uint64_t)((uint64_t)(draws[k] >> 8) * c->m < (uint64_t)cw[k] << 24) << k;
        c->sign_bits[w0 + w] = word;
    }
}

size_t so__vote_stochastic_range(uint64_t *restrict sign_bits, const uint64_t *const *rows, size_t n, size_t d,
                                 size_t base, size_t nwords, uint64_t seed, uint32_t step)
{
    size_t m = present_rows(rows, n);
    if (m == 0) {
        memset(sign_bits, 0, nwords * sizeof(uint64_t));
        return 0;
    }
    if (nwords == 0) return m;
    so_philox_key key = so_philox_key_make(seed, 0, step, SO_STREAM_DOWN);
    stochastic_ctx c = {sign_bits, &key, m, base};
    for_each_tile(rows, n, m, nwords, stochastic_tile, &c);
    if (base + nwords == so_packed_words(d)) sign_bits[nwords - 1] &= last_word_mask(d);
    return m;
}

size_t so_vote_stochastic(uint64_t *restrict sign_bits, const uint64_t *const *rows, size_t n, size_t d,
                          uint64_t seed, uint32_t step)
{
    return so__vote_stochastic_range(sign_bits, rows, n, d, 0, so_packed_words(d), seed, step);
}

/* x is (d,); sign_bits, zero_bits are (ceil(d/64),); zero_bits may be NULL. x_i -= scale * s_i. */
void so_vote_apply(float *restrict x, const uint64_t *restrict sign_bits, const uint64_t *restrict zero_bits,
                   size_t d, float scale)
{
    size_t nwords = so_packed_words(d);
#pragma omp parallel for schedule(static) if (nwords >= 65536)
    for (size_t w = 0; w < nwords; w++) {
        float *restrict xw = x + 64 * w;
        int len = d - 64 * w < 64 ? (int)(d - 64 * w) : 64;
        uint64_t sw = sign_bits[w], zw = zero_bits ? zero_bits[w] : 0;
        for (int half = 0; half < 2; half++) {
            uint32_t s = (uint32_t)(sw >> (32 * half)), z = (uint32_t)(zw >> (32 * half));
            int end = len - 32 * half < 32 ? len - 32 * half : 32;
            float *restrict xh = xw + 32 * half;
            /* s_i in {-1, 0, +1} made in integers (so a zero is +0.0, never -0.0), then the same
             * x - scale * s a float reference computes. */
            for (int b = 0; b < end; b++) {
                int sign = 2 * (int)((s >> b) & 1u) - 1, keep = 1 - (int)((z >> b) & 1u);
                xh[b] -= scale * (float)(sign * keep);
            }
        }
    }
}
