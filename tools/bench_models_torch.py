#!/usr/bin/python3
"""bench_models_torch.py — the PyTorch side of docs/bench_models.md: one epoch of plain SGD on Fashion-MNIST for
the same MLP (784-64-64-10) and CNN (conv5x5-16 'same', ReLU, maxpool 2, conv5x5-32 'same', ReLU, maxpool 2,
dense 384, ReLU, dense 192, ReLU, dense 10) as signopt's mlp and cnn problems (src/models/nets.c, model.h), at the
same batch size, step count and thread count as bench/models.c. Only the training loop is timed (minibatches are
sliced from a tensor already in memory, in a shuffled order), best of --repeats epochs.

Usage: tools/bench_models_torch.py [--threads 1] [--batch 32] [--steps N] [--model mlp|cnn|both] [--repeats R]
Prints one line per model: "torch MODEL threads T batch B steps S: SECONDS s/epoch (loss L)".
"""
import argparse
import gzip
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(images, labels):
    with gzip.open(images, "rb") as f:
        magic, n, h, w = struct.unpack(">IIII", f.read(16))
        assert magic == 2051
        x = np.frombuffer(f.read(n * h * w), dtype=np.uint8).reshape(n, 1, h, w)
    with gzip.open(labels, "rb") as f:
        magic, m = struct.unpack(">II", f.read(8))
        assert magic == 2049 and m == n
        y = np.frombuffer(f.read(n), dtype=np.uint8)
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self, c1=16, c2=32):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.fc1, self.fc2, self.fc3 = nn.Linear(c2 * 7 * 7, 384), nn.Linear(384, 192), nn.Linear(192, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def epoch(model, x, y, batch, steps, lr, seed):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(x.shape[0], generator=g)
    start = time.perf_counter()
    loss = None
    for t in range(steps):
        k = (t * batch) % x.shape[0]
        idx = order[k:k + batch]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    return time.perf_counter() - start, float(loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=0, help="0: one epoch, 60000 / batch")
    ap.add_argument("--model", default="both", choices=["mlp", "cnn", "both"])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x, y = load_idx(f"{DATA}/train-images-idx3-ubyte.gz", f"{DATA}/train-labels-idx1-ubyte.gz")
    steps = args.steps or x.shape[0] // args.batch
    for name in (["mlp", "cnn"] if args.model == "both" else [args.model]):
        best, last = float("inf"), float("nan")
        for r in range(args.repeats):
            model = MLP() if name == "mlp" else CNN()
            seconds, last = epoch(model, x, y, args.batch, steps, args.lr, r)
            best = min(best, seconds)
        print(f"torch {name} threads {args.threads} batch {args.batch} steps {steps}: {best:.3f} s/epoch "
              f"(loss {last:.4f})", flush=True)


if __name__ == "__main__":
    main()
