#!/usr/bin/python3
"""bench_models_torch.py — the PyTorch side of docs/bench_models.md: one epoch of plain SGD on Fashion-MNIST for
the same MLP (784-64-64-10) and CNN (conv5x5-16 'same', ReLU, maxpool 2, conv5x5-32 'same', ReLU, maxpool 2,
dense 384, ReLU, dense 192, ReLU, dense 10) as signopt's mlp and cnn problems (src/models/nets.c, model.h), at the
same batch size, step count and thread count as bench/models.c. Only the training loop is timed (minibatches are
sliced from a tensor already in memory, in a shuffled order), best of --repeats epochs.

The charlm row: signopt's character GPT (2 blocks, width 64, 4 heads, context 64, output tied to the token
embedding; src/lm/gpt.c), 500 SGD steps by default.

Usage: tools/bench_models_torch.py [--threads 1] [--batch 32] [--steps N] [--model mlp|cnn|cnn64|charlm|both|all]
       [--repeats R] [--vocab V]
Prints one line per model: "torch MODEL threads T batch B steps S: SECONDS s/epoch (loss L)".
"""
import argparse
import gzip
import math
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


class Block(nn.Module):
    """GPT-2 block as signopt's src/lm/gpt.c (llm.c's train_gpt2.c): pre-LayerNorm, causal multi-head attention
    through one qkv projection, 4C MLP with tanh-GELU, residuals."""

    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.fcproj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (a.view(B, T, self.NH, C // self.NH).transpose(1, 2) for a in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.NH))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    """signopt's charlm model: token and position embeddings, L blocks, final LayerNorm, output tied to wte."""

    def __init__(self, V, T=64, C=64, NH=4, L=2):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block(C, NH) for _ in range(L))
        self.lnf = nn.LayerNorm(C)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        return self.lnf(x) @ self.wte.weight.t()


def lm_steps(model, V, T, batch, steps, lr, seed):
    """charlm: `steps` SGD steps on windows of T+1 tokens drawn from a fixed random text of V symbols (a step's
    time does not depend on the token values; signopt draws its windows from the fortunes corpus)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    text = torch.randint(0, V, (1 << 20,), generator=g)
    starts = torch.randint(0, text.shape[0] - T - 1, (steps, batch), generator=g)
    offs = torch.arange(T + 1)
    start = time.perf_counter()
    loss = None
    for t in range(steps):
        w = text[starts[t].unsqueeze(1) + offs]
        opt.zero_grad(set_to_none=True)
        logits = model(w[:, :T])
        loss = F.cross_entropy(logits.reshape(-1, V), w[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
    return time.perf_counter() - start, float(loss)


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
    ap.add_argument("--model", default="both", choices=["mlp", "cnn", "cnn64", "charlm", "both", "all"])
    ap.add_argument("--vocab", type=int, default=114, help="charlm: the alphabet (bench_models prints it)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x, y = load_idx(f"{DATA}/train-images-idx3-ubyte.gz", f"{DATA}/train-labels-idx1-ubyte.gz")
    names = {"both": ["mlp", "cnn"], "all": ["mlp", "cnn", "cnn64", "charlm"]}.get(args.model, [args.model])
    for name in names:
        best, last = float("inf"), float("nan")
        steps = args.steps or (500 if name == "charlm" else x.shape[0] // args.batch)
        for r in range(args.repeats):
            if name == "charlm":
                seconds, last = lm_steps(GPT(args.vocab), args.vocab, 64, args.batch, steps, args.lr, r)
            else:
                model = MLP() if name == "mlp" else CNN(64, 64) if name == "cnn64" else CNN()
                seconds, last = epoch(model, x, y, args.batch, steps, args.lr, r)
            best = min(best, seconds)
        print(f"torch {name} threads {args.threads} batch {args.batch} steps {steps}: {best:.3f} s/epoch "
              f"(loss {last:.4f})", flush=True)


if __name__ == "__main__":
    main()
