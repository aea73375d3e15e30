#!/usr/bin/python3
"""Train a CNN on Fashion-MNIST with signopt.torch.Signum in one process: the one-line swap for torch.optim.

    PYTHONPATH=python /usr/bin/python3 examples/python/train_signum.py [--steps N] [--lr 1e-3] [--threads T]

The only signopt line is the optimizer's: Signum (seed 000 Alg 1), m <- beta m + (1 - beta) g, x <- x - lr sign(m),
stepped in place by the C library's fused kernel over every parameter of the model.
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F

import fmnist
import signopt.torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--steps", type=int, default=1000, help="minibatch steps (default 1000, about one epoch / 2)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=None, help="directory of the IDX files (default Debian's)")
    a = ap.parse_args()
    if a.steps < 1 or a.batch < 1 or a.threads < 1 or not a.lr > 0:
        ap.error("--steps, --batch, --threads must be >= 1 and --lr > 0")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = fmnist.load("train", a.data)
    xte, yte = fmnist.load("t10k", a.data)
    model = fmnist.cnn()
    opt = signopt.torch.Signum(model.parameters(), lr=a.lr, beta=a.beta)   # was: torch.optim.AdamW(...)
    g = torch.Generator().manual_seed(a.seed)
    perm, pos, t0 = torch.randperm(len(ytr), generator=g), 0, time.time()
    for step in range(1, a.steps + 1):
        if pos + a.batch > len(ytr):
            perm, pos = torch.randperm(len(ytr), generator=g), 0
        idx = perm[pos:pos + a.batch]
        pos += a.batch
        opt.zero_grad()
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        if step % max(1, a.steps // 5) == 0 or step == a.steps:
            print(f"step {step:6d}  loss {loss.item():.4f}  test accuracy {fmnist.accuracy(model, xte, yte):.4f}"
                  f"  ({time.time() - t0:.1f} s)", flush=True)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"signum: {nparams} parameters, {a.steps} steps of batch {a.batch}, "
          f"final test accuracy {fmnist.accuracy(model, xte, yte):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
