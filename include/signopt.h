/* signopt.h — the public API of signopt, a library for sign-based stochastic optimization.
 *
 * One prefix (so_), one umbrella header; each concern has its own part under include/signopt/:
 *   core.h     errors, tensors, the counter-based random generator (Philox4x32-10)
 *   algos.h    the algorithm registry: every id, what it keeps and sends, its source
 *   optim.h    single-node optimizers (sgd ... lion), schedules, theory presets, optimizer state
 *   sign.h     sign operators: packing, stochastic sign S_R, the packed majority vote
 *   problem.h  gradient oracles: your own model as callbacks; the registered families (synthetic problems,
 *              noise models, logreg, mlp, cnn, charlm)
 *   data.h     data sets: IDX (Fashion-MNIST), LIBSVM, synthetic epsilon-like, worker splits
 *   dist.h     distributed algorithms over a transport (in-process workers, MPI ranks, yours): the cluster
 *              and the per-rank optimizer
 *   run.h      the training driver: a run, its evaluations and its metrics rows
 *
 * The MPI transport has its own header and library (signopt/mpi.h, libsignopt_mpi): nothing here needs MPI.
 *
 * Conventions (docs/api.md is the tutorial): functions return SO_OK (0) or a negative so_status code and leave a
 * one-line message readable with so_errmsg(); the library never prints and never exits. Objects with state
 * are opaque (create/destroy pairs); configs are plain structs with a _default() initializer.
 * Arrays are flat float arrays; sizes are size_t. */
#ifndef SIGNOPT_H
#define SIGNOPT_H

#include "signopt/core.h"
#include "signopt/optim.h"
#include "signopt/algos.h"
#include "signopt/sign.h"
#include "signopt/data.h"
#include "signopt/problem.h"
#include "signopt/dist.h"
#include "signopt/run.h"

#endif
