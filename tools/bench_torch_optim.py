#!/usr/bin/python3
"""bench_torch_optim.py -- PyTorch beside `signopt bench`: the same optimizer steps, and the same whole run.

Run with Debian's python3-torch (/usr/bin/python3). Three modes:

  steps  time one optimizer step at each size and thread count, the way torch users write it: torch.optim.SGD
         (sgd, and sgdm with momentum 0.9), torch.optim.Adam, torch.optim.AdamW (weight decay 0.01), and signsgd,
         signum and lion as small torch.optim.Optimizer subclasses built from in-place tensor ops (Bernstein's
         Signum and lucidrains' lion-pytorch are written this way). Median of --reps repetitions after a
         warm-up call; a repetition times enough calls to last 20 ms and is followed by one triad call
         (torch.add(b, c, alpha=3, out=a), 16M floats), whose bandwidth gives roofline_fraction the way
         `signopt bench` does. Writes a JSON array, one object a line, with the names `signopt bench` uses,
         for `signopt bench --peer FILE`.
  run    one whole training process: a d-parameter deterministic quadratic f(x) = sum_i L_i x_i^2 / 2,
         L_i = 1 + (L_max - 1) i / (d - 1), x_0 = 1 (signopt's `quadratic`, noise none), T steps of ALGO, f(x)
         evaluated at the start and at the end (as `signopt train --eval-every T` does).
  whole  time `run` as a fresh /usr/bin/python3 process (interpreter start and `import torch` included) against
         `signopt train --problem quadratic ...` as a fresh process, for each algo, the two sides alternating;
         median of --reps runs each, of the wall time and of the CPU time (user + system, from getrusage of
         the children: on a shared machine it is the figure the other tenants disturb least).

Examples:
  /usr/bin/python3 tools/bench_torch_optim.py steps --threads 1,2 --out build/bench_torch.json
  /usr/bin/python3 tools/bench_torch_optim.py whole --signopt build/signopt --threads 1 --algos signum,adamw,sgdm
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

# Bytes per parameter each step moves, each array read or written once (as bench/bench_kernels.c counts them).
STEP_BYTES = {"sgd": 12, "sgdm": 20, "adam": 28, "adamw": 28, "signsgd": 12, "signum": 20, "lion": 20}
LR, BETA, BETA2_ADAM, BETA2_LION = 1e-4, 0.9, 0.999, 0.99


def optimizer_classes():
    import torch

    class SignSGD(torch.optim.Optimizer):
        """x <- x - lr sign(g)."""

        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(torch.sign(p.grad), alpha=-group["lr"])

    class Signum(torch.optim.Optimizer):
        """m <- beta m + (1 - beta) g; x <- x - lr sign(m) (Bernstein et al.; zero-initialised momentum)."""

        def __init__(self, params, lr, beta):
            super().__init__(params, dict(lr=lr, beta=beta))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    buf = state["momentum_buffer"]
                    buf.mul_(group["beta"]).add_(p.grad, alpha=1 - group["beta"])
                    p.add_(torch.sign(buf), alpha=-group["lr"])

    class Lion(torch.optim.Optimizer):
        """c = b1 m + (1 - b1) g; x <- x - lr sign(c); m <- b2 m + (1 - b2) g (Chen et al. 2023, lion-pytorch)."""

        def __init__(self, params, lr, betas):
            super().__init__(params, dict(lr=lr, betas=betas))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if "exp_avg" not in state:
                        state["exp_avg"] = torch.zeros_like(p)
                    exp_avg = state["exp_avg"]
                    update = exp_avg.clone().mul_(b1).add(p.grad, alpha=1 - b1).sign_()
                    p.add_(update, alpha=-group["lr"])
                    exp_avg.mul_(b2).add_(p.grad, alpha=1 - b2)

    return SignSGD, Signum, Lion


def make_optimizer(algo, params, lr):
    import torch

    SignSGD, Signum, Lion = optimizer_classes()
    if algo == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if algo == "sgdm":
        return torch.optim.SGD(params, lr=lr, momentum=BETA)
    if algo == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(BETA, BETA2_ADAM))
    if algo == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(BETA, BETA2_ADAM), weight_decay=0.01)
    if algo == "signsgd":
        return SignSGD(params, lr=lr)
    if algo == "signum":
        return Signum(params, lr=lr, beta=BETA)
    if algo == "lion":
        return Lion(params, lr=lr, betas=(BETA, BETA2_LION))
    raise SystemExit(f"bench_torch_optim.py: unknown algo '{algo}'")


class Triad:
    """The paired reference, as in `signopt bench`: a = b + 3 c on 16M floats in one torch kernel
    (torch.add(..., out=a)), 12 bytes per element counted (each array once)."""

    def __init__(self, n=1 << 24):
        import torch

        self.a, self.b, self.c = torch.empty(n), torch.rand(n), torch.rand(n)
        self.bytes = 12.0 * n

    def __call__(self):
        import torch

        torch.add(self.b, self.c, alpha=3.0, out=self.a)


def time_step(opt, reps, ref, rep_s=0.02):
    """Median seconds per opt.step() and the median over repetitions of (ref seconds / step seconds): one
    warm-up call sizes a repetition, and every repetition is followed by one reference call, as in
    `signopt bench`, so the two are measured under the same load."""
    t0 = time.perf_counter()
    opt.step()
    first = time.perf_counter() - t0
    calls = max(1, int(rep_s / first + 0.999)) if first > 0 else 1000
    per_call, ratio, ref_bw = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            opt.step()
        per_call.append((time.perf_counter() - t0) / calls)
        t0 = time.perf_counter()
        ref()
        ref_s = time.perf_counter() - t0
        ratio.append(ref_s / per_call[-1])
        ref_bw.append(ref.bytes / ref_s)
    return statistics.median(per_call), statistics.median(ratio), statistics.median(ref_bw)


def cmd_steps(args):
    import torch

    rows = []
    ref = Triad()
    for threads in args.threads:
        torch.set_num_threads(threads)
        for d in args.sizes:
            gen = torch.Generator().manual_seed(12345)
            for algo in args.algos:
                x = torch.nn.Parameter(torch.rand(d, generator=gen) * 2 - 1)
                x.grad = torch.rand(d, generator=gen) * 2 - 1
                opt = make_optimizer(algo, [x], LR)
                s, ratio, ref_bw = time_step(opt, args.reps, ref)
                rows.append(dict(name=f"step/{algo}", d=d, threads=threads, seconds=s, params_per_s=d / s,
                                 bytes_per_s=STEP_BYTES[algo] * d / s,
                                 roofline_fraction=STEP_BYTES[algo] * d / ref.bytes * ratio,
                                 stream_bytes_per_s=ref_bw, peer_name="torch", torch=torch.__version__))
                print(f"step/{algo:8s} d={d:>9d} threads={threads} {s:.4g} s  {d / s / 1e6:9.1f} Mparam/s  "
                      f"{STEP_BYTES[algo] * d / s / 1e9:6.2f} GB/s", file=sys.stderr)
                del opt, x
    text = "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


def quadratic_loss(x, L):
    """f(x) = sum_i L_i x_i^2 / 2, summed in double."""
    import torch

    return 0.5 * float(torch.dot(L.double(), x.double() * x.double()))


def cmd_run(args):
    import torch

    torch.set_num_threads(args.threads)
    d = args.dim
    L = 1.0 + (args.L_max - 1.0) * torch.arange(d, dtype=torch.float64) / (d - 1)
    L = L.float()
    x = torch.nn.Parameter(torch.ones(d))
    opt = make_optimizer(args.algo, [x], args.lr)
    f0 = quadratic_loss(x.detach(), L)
    for _ in range(args.steps):
        with torch.no_grad():
            x.grad = L * x          # the exact gradient of sum_i L_i x_i^2 / 2
        opt.step()
    f1 = quadratic_loss(x.detach(), L)
    print(json.dumps(dict(algo=args.algo, d=d, steps=args.steps, f0=f0, f_final=f1)))


def cmd_whole(args):
    here = os.path.abspath(__file__)
    results = []
    for algo in args.algos:
        lr = args.lr
        torch_cmd = ["/usr/bin/python3", here, "run", "--algo", algo, "--dim", str(args.dim), "--steps",
                     str(args.steps), "--threads", str(args.threads), "--lr", str(lr)]
        times = {"torch": [], "signopt": []}
        cpu = {"torch": [], "signopt": []}
        finals = {}
        for rep in range(args.reps):
            with tempfile.TemporaryDirectory() as out:
                so_cmd = [args.signopt, "train", "--problem", "quadratic", "--dim", str(args.dim), "--noise", "none",
                          "--steps", str(args.steps), "--algo", algo, "--lr", str(lr), "--threads",
                          str(args.threads), "--eval-every", str(args.steps), "--out", os.path.join(out, "r")]
                if algo in ("sgdm", "signum", "lion", "adam", "adamw"):
                    so_cmd += ["--beta", str(BETA)]
                if algo in ("adam", "adamw"):
                    so_cmd += ["--beta2", str(BETA2_ADAM)]
                if algo == "adamw":
                    so_cmd += ["--weight-decay", "0.01"]
                if algo == "lion":
                    so_cmd += ["--beta2", str(BETA2_LION)]
                for side, cmd in (("torch", torch_cmd), ("signopt", so_cmd)):
                    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    times[side].append(time.perf_counter() - t0)
                    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu[side].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
                    if p.returncode != 0:
                        raise SystemExit(f"bench_torch_optim.py: {' '.join(cmd)} failed:\n{p.stderr}")
                    if side == "torch":
                        finals["torch"] = json.loads(p.stdout.strip().splitlines()[-1])["f_final"]
                    else:
                        with open(os.path.join(out, "r", "summary.json")) as f:
                            finals["signopt"] = summary_final_loss(json.load(f))
        t_torch, t_so = statistics.median(times["torch"]), statistics.median(times["signopt"])
        c_torch, c_so = statistics.median(cpu["torch"]), statistics.median(cpu["signopt"])
        row = dict(name=f"whole/{algo}", d=args.dim, steps=args.steps, threads=args.threads, torch_s=t_torch,
                   signopt_s=t_so, ratio=t_torch / t_so, torch_cpu_s=c_torch, signopt_cpu_s=c_so,
                   cpu_ratio=c_torch / c_so, torch_f_final=finals.get("torch"),
                   signopt_f_final=finals.get("signopt"), torch_runs=times["torch"], signopt_runs=times["signopt"],
                   torch_cpu_runs=cpu["torch"], signopt_cpu_runs=cpu["signopt"], loadavg=os.getloadavg())
        results.append(row)
        print(f"whole/{algo:7s} d={args.dim} T={args.steps} threads={args.threads}: wall torch {t_torch:.3f} s, "
              f"signopt {t_so:.3f} s, ratio {t_torch / t_so:.2f}x; cpu torch {c_torch:.3f} s, signopt {c_so:.3f} s, "
              f"ratio {c_torch / c_so:.2f}x  (f_final torch {finals.get('torch')}, signopt {finals.get('signopt')})",
              file=sys.stderr)
    print(json.dumps(results, indent=1))


def summary_final_loss(summary):
    """The final loss in signopt's summary.json, wherever the layout keeps it (first 'loss' under 'final')."""
    def find(node, inside_final):
        if isinstance(node, dict):
            for k, v in node.items():
                if inside_final and k == "loss" and isinstance(v, (int, float)):
                    return v
                r = find(v, inside_final or k.startswith("final"))
                if r is not None:
                    return r
        elif isinstance(node, list):
            for v in node:
                r = find(v, inside_final)
                if r is not None:
                    return r
        return None
    return find(summary, False)


def int_list(text):
    return [int(v) for v in text.split(",") if v]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("steps")
    s.add_argument("--sizes", type=int_list, default=[4096, 262144, 4194304, 16777216, 67108864])
    s.add_argument("--threads", type=int_list, default=[1, 2])
    s.add_argument("--algos", type=lambda t: t.split(","), default=list(STEP_BYTES))
    s.add_argument("--reps", type=int, default=5)
    s.add_argument("--out")
    r = sub.add_parser("run")
    r.add_argument("--algo", required=True)
    r.add_argument("--dim", type=int, default=20_000_000)
    r.add_argument("--steps", type=int, default=20)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--L-max", dest="L_max", type=float, default=10.0)
    w = sub.add_parser("whole")
    w.add_argument("--signopt", default="build/signopt")
    w.add_argument("--algos", type=lambda t: t.split(","), default=["signum", "adamw", "sgdm"])
    w.add_argument("--dim", type=int, default=20_000_000)
    w.add_argument("--steps", type=int, default=20)
    w.add_argument("--threads", type=int, default=1)
    w.add_argument("--lr", type=float, default=1e-3)
    w.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    {"steps": cmd_steps, "run": cmd_run, "whole": cmd_whole}[args.mode](args)


if __name__ == "__main__":
    main()
