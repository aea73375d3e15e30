"""Fashion-MNIST from Debian's dataset-fashion-mnist (IDX files, gzip) and the small CNN both examples train.

Only the standard library, NumPy and torch. The directory can be changed with $SIGNOPT_FMNIST or --data.
"""
import gzip
import os
import struct

import numpy as np
import torch
import torch.nn as nn

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8 or struct.unpack(">I", raw[:4])[0] != magic:
        raise SystemExit(f"{path}: not an IDX file (magic 0x{magic:08x} expected)")
    n = struct.unpack(">I", raw[4:8])[0]
    if magic == 0x803:
        rows, cols = struct.unpack(">II", raw[8:16])
        data = np.frombuffer(raw, np.uint8, n * rows * cols, 16)
        return data.reshape(n, 1, rows, cols)
    return np.frombuffer(raw, np.uint8, n, 8)


def load(split, data_dir=None):
    """(images float32 N x 1 x 28 x 28 scaled to [0, 1], labels int64 N) of split 'train' or 't10k'."""
    d = data_dir or os.environ.get("SIGNOPT_FMNIST", DEFAULT_DIR)
    try:
        x = _idx(os.path.join(d, f"{split}-images-idx3-ubyte.gz"), 0x803)
        y = _idx(os.path.join(d, f"{split}-labels-idx1-ubyte.gz"), 0x801)
    except FileNotFoundError as e:
        raise SystemExit(f"{e.filename}: missing (apt-get install dataset-fashion-mnist, or --data DIR)")
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


def cnn():
    """Two 5x5 convolutions with max-pooling and a linear classifier (28,938 parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    model.eval()
    right = 0
    for i in range(0, len(y), batch):
        right += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return right / len(y)
