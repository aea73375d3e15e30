#!/usr/bin/python3
"""gen_torch_fixtures.py — write the PyTorch reference trajectories that tests/test_optim_torch.c replays.

Run from the repository root with the system Python (python3-torch):  /usr/bin/python3 tools/gen_torch_fixtures.py
Writes tests/fixtures/torch_<case>.txt. `make test` only reads these files; it never needs PyTorch.

Each case runs a torch.optim optimizer (single-tensor code path, float32, one thread) for STEPS steps on
d = 37 parameters. The gradient at step t is g_t = L * x_t + noise_t (the quadratic of docs/algorithms.md with
L_i = 1 + 9 i / (d - 1), plus Gaussian noise drawn from numpy with a fixed seed), computed in float32 from
torch's own x_t and stored, so the C side replays exactly the gradients torch saw.

File format (text, one record per line, floats as %.9g so every float32 round-trips exactly):
    # comment lines
    key value            (algo, lr, beta, beta2, eps, weight_decay, nesterov, d, steps, torch)
    x0 v_1 ... v_d
    g v_1 ... v_d        then x v_1 ... v_d, once per step
"""
import os
import sys

import numpy as np
import torch

D = 37
STEPS = 100
SEED = 20240607
OUT = os.path.join("tests", "fixtures")

# name, signopt id, torch constructor, signopt settings (beta = weight of the old momentum value)
CASES = [
    ("sgd", "sgd", lambda p: torch.optim.SGD(p, lr=0.05, foreach=False),
     dict(lr=0.05, beta=0.0, beta2=0.0, eps=0.0, weight_decay=0.0, nesterov=0)),
    ("sgd_momentum", "sgdm", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, foreach=False),
     dict(lr=0.02, beta=0.9, beta2=0.0, eps=0.0, weight_decay=0.0, nesterov=0)),
    ("sgd_nesterov", "sgdm", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True, foreach=False),
     dict(lr=0.02, beta=0.9, beta2=0.0, eps=0.0, weight_decay=0.0, nesterov=1)),
    # torch SGD's weight decay is coupled (g + wd x), which is signopt's sgdm; momentum 0 makes b = g.
    ("sgd_weight_decay", "sgdm", lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1, foreach=False),
     dict(lr=0.05, beta=0.0, beta2=0.0, eps=0.0, weight_decay=0.1, nesterov=0)),
    ("sgd_momentum_weight_decay", "sgdm",
     lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, weight_decay=0.05, foreach=False),
     dict(lr=0.02, beta=0.9, beta2=0.0, eps=0.0, weight_decay=0.05, nesterov=0)),
    ("adam", "adam",
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, foreach=False),
     dict(lr=0.01, beta=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, nesterov=0)),
    ("adamw", "adamw",
     lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, foreach=False),
     dict(lr=0.01, beta=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, nesterov=0)),
]


def fmt(v):
    return " ".join("%.9g" % float(a) for a in v)


def run_case(name, algo, make, settings):
    rng = np.random.default_rng(SEED)
    curv = torch.tensor([1.0 + 9.0 * i / (D - 1) for i in range(D)], dtype=torch.float32)
    x0 = rng.standard_normal(D).astype(np.float32)
    x = torch.tensor(x0, dtype=torch.float32, requires_grad=True)
    opt = make([x])
    lines = ["# torch.optim reference trajectory, written by tools/gen_torch_fixtures.py",
             "algo %s" % algo]
    lines += ["%s %.17g" % (k, v) for k, v in settings.items()]
    lines += ["d %d" % D, "steps %d" % STEPS, "torch %s" % torch.__version__, "x0 " + fmt(x0)]
    for _ in range(STEPS):
        noise = torch.from_numpy(rng.standard_normal(D).astype(np.float32))
        with torch.no_grad():
            g = curv * x.detach() + noise
        x.grad = g.clone()
        opt.step()
        lines.append("g " + fmt(g.numpy()))
        lines.append("x " + fmt(x.detach().numpy()))
    path = os.path.join(OUT, "torch_%s.txt" % name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        print(run_case(*case))
    return 0


if __name__ == "__main__":
    sys.exit(main())
