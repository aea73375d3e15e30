/* checkpoint.h — the training driver's checkpoint file: what a run needs to continue exactly where it stopped.
 *
 * Layout (native byte order; a checkpoint is read back on the machine family that wrote it):
 *   "SIGNOPTC" u32 version u32 0 | char algo[32] u64 d i64 step u64 seed          (header)
 *   f64 g_linf f64 wall_s i64 tau_step i64 skipped u64 nrows                          (driver state)
 *   u64 meta_len, meta bytes (version 3: the caller's configuration text) | f64 eval_s (version 4)
 *   rows (13 x 8 bytes; 12 before version 4, without train_s)
 *   f32 x[d] | f32 x_tau[d] if tau_step > 0 | u64 state_size, state bytes         (iterates, optimizer)
 *   u32 CRC-32 (zlib) of every byte before it.
 * Written atomically: a temporary file in the same directory, fflush, fsync, rename, fsync of the directory.
 * Version 2 added `skipped` (steps dropped by --on-nan skip); version 3 the configuration text (so_run_config's
 * checkpoint_meta), so a run can be resumed from its checkpoint alone; version 4 the training-only clock (eval_s and
 * each row's train_s); version 5 the papers' range for the random iterate (tau_step = tau, x_tau drawn from the
 * start and the iterates after steps 1 .. T-1; before, the number of steps before it, from the iterates after
 * steps 1 .. T). Versions 2 to 4 are still read (no text in 2; train_s NaN, eval_s 0; tau converted);
 * version 1 files are refused with a message. */
#ifndef SO_RUN_CHECKPOINT_H
#define SO_RUN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "signopt/run.h"

#define SO_CKPT_VERSION 5u

typedef struct so_ckpt {
    char algo[32];
    uint64_t d;
    long step;
    uint64_t seed;
    double g_linf;
    double wall_s;
    double eval_s;            /* seconds of evaluations and checkpoints so far (version 4; 0 before) */
    long tau_step;            /* the papers' tau of x_tau (x_1 the start, so the iterate after tau - 1 steps); 0: none
                               * (version 5; before, the number of steps before it, converted on reading) */
    long skipped;             /* steps whose update was dropped for a non-finite gradient (--on-nan skip) */
    char *meta;               /* configuration text (NUL-terminated), owned; NULL in version 2 files */
    size_t meta_len;
    so_metrics_row *rows;     /* nrows rows, owned */
    size_t nrows;
    float *x;                 /* d floats, owned */
    float *x_tau;             /* d floats when tau_step > 0, owned */
    unsigned char *state;     /* optimizer or cluster state, owned */
    size_t state_size;
} so_ckpt;

/* Write c to path atomically. The pointers in c are borrowed. */
int so__ckpt_write(const char *path, const so_ckpt *c);
/* Read and verify path (magic, version, sizes, CRC); on success c owns its buffers (so__ckpt_free). */
int so__ckpt_read(const char *path, so_ckpt *c);
void so__ckpt_free(so_ckpt *c);

/* Write size bytes to path atomically (temp file in the same directory, fflush, fsync, rename). */
int so__write_atomic(const char *path, const void *data, size_t size);

#endif
