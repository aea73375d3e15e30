#!/usr/bin/python3
"""Train a CNN on Fashion-MNIST with DistributedDataParallel over N processes (gloo, CPU), the gradients
exchanged as 1-bit majority votes by signopt's DDP communication hook instead of DDP's fp32 allreduce.

    PYTHONPATH=python /usr/bin/python3 examples/python/ddp_vote.py [--procs 4] [--algo mv-signum] [--steps N]

The two signopt lines are the hook's (state + register_comm_hook); the step after it is a plain SGD step of rate
lr with momentum 0, so the parameters move by lr * vote, as in seed 000 Alg 3 (mv-signum) / seed 003 Alg 1. Each
process reads its own minibatch (a disjoint slice of one shuffled order). Prints test accuracy and the bits each
worker sent, against the 32 bits per coordinate of an fp32 allreduce.
"""
import argparse
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

import fmnist
import signopt.ddp


def worker(rank, a, port):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=a.procs)
    torch.manual_seed(a.seed)                  # the same initial model on every rank
    xtr, ytr = fmnist.load("train", a.data)
    model = DDP(fmnist.cnn())
    state = signopt.ddp.VoteState(a.algo, params=model.parameters(), beta=a.beta, seed=a.seed)
    model.register_comm_hook(state, signopt.ddp.vote_hook)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    g = torch.Generator().manual_seed(a.seed)  # one shuffled order on every rank; each takes its own slice
    perm, pos, t0 = torch.randperm(len(ytr), generator=g), 0, time.time()
    span = a.batch * a.procs
    for step in range(1, a.steps + 1):
        if pos + span > len(ytr):
            perm, pos = torch.randperm(len(ytr), generator=g), 0
        idx = perm[pos + rank * a.batch:pos + (rank + 1) * a.batch]
        pos += span
        opt.zero_grad()
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        loss.backward()                        # the hook votes here
        opt.step()
        if rank == 0 and (step % max(1, a.steps // 5) == 0 or step == a.steps):
            print(f"step {step:6d}  loss (rank 0) {loss.item():.4f}  ({time.time() - t0:.1f} s)", flush=True)
    if rank == 0:
        xte, yte = fmnist.load("t10k", a.data)
        acc = fmnist.accuracy(model.module, xte, yte)
        up, down = state.bits()
        d, rounds = state.dim(), state.rounds()
        print(f"{a.algo} over {a.procs} processes: {d} parameters, {rounds} rounds, test accuracy {acc:.4f}")
        print(f"bits per worker: up {up} ({up / (d * rounds):.2f} per coordinate per round), down {down}; "
              f"an fp32 allreduce moves 32 per coordinate per round")
        print(f"bytes handed to torch.distributed by rank 0: {state.bytes_sent()}")
    state.close()                              # collective: before destroy_process_group
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--algo", default="mv-signum", choices=signopt.ddp.HOOK_ALGOS)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32, help="per process")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=0, help="rendezvous port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    if a.procs < 1 or a.steps < 1 or a.batch < 1 or not a.lr > 0:
        ap.error("--procs, --steps, --batch must be >= 1 and --lr > 0")
    port = a.port
    if port == 0:
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    mp.spawn(worker, args=(a, port), nprocs=a.procs, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
