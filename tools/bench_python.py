#!/usr/bin/python3
"""bench_python.py — the Python package's speed, measured (never asserted by a test):

  steps     per-step seconds of signopt.torch.X against torch.optim.X and against PyTorch written the way users
            write signum and lion (lion-pytorch's update), at 1M/16M/64M parameters in 1 and in 100 tensors, with
            1 and 2 threads; the implementations take turns (interleaved rounds) and each keeps its best round,
            because this machine's bandwidth moves between minutes.
  overhead  the Python side of one step(): 1 and 100 tensors of 4 floats, signopt.torch.Signum against
            torch.optim.SGD(momentum).
  hook      the DDP vote hook against DDP's default fp32 allreduce, 4 gloo processes on loopback: seconds and
            bytes per round for d parameters (one linear layer).

    PYTHONPATH=python /usr/bin/python3 tools/bench_python.py steps --out py-steps.json
    PYTHONPATH=python /usr/bin/python3 tools/bench_python.py overhead
    PYTHONPATH=python /usr/bin/python3 tools/bench_python.py hook --dims 1000000,4000000
Each prints a markdown table (and --out FILE writes the rows as JSON)."""
import argparse
import json
import os
import socket
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import signopt.torch as so  # noqa: E402


class TorchSignum(torch.optim.Optimizer):
    """Signum as a PyTorch user writes it: an EMA buffer, then the sign of it."""

    def __init__(self, params, lr=1e-3, beta=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, beta=beta, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, beta, wd = group["lr"], group["beta"], group["weight_decay"]
            for p in group["params"]:
                st = self.state[p]
                if "m" not in st:
                    st["m"] = torch.zeros_like(p)
                m = st["m"]
                m.mul_(beta).add_(p.grad, alpha=1 - beta)
                if wd:
                    p.mul_(1 - lr * wd)
                p.add_(m.sign(), alpha=-lr)


class TorchLion(torch.optim.Optimizer):
    """Lion as lion-pytorch's update_fn writes it."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                st = self.state[p]
                if "exp_avg" not in st:
                    st["exp_avg"] = torch.zeros_like(p)
                exp_avg, grad = st["exp_avg"], p.grad
                p.data.mul_(1 - lr * wd)
                update = exp_avg.clone().mul_(beta1).add(grad, alpha=1 - beta1).sign_()
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)


# (rule, [(implementation name, factory)])
IMPLS = {
    "signum": [("signopt", lambda p: so.Signum(p, lr=1e-4)), ("pytorch-idiomatic", lambda p: TorchSignum(p, lr=1e-4))],
    "lion": [("signopt", lambda p: so.Lion(p, lr=1e-4, weight_decay=0.1)),
             ("lion-pytorch-style", lambda p: TorchLion(p, lr=1e-4, weight_decay=0.1))],
    "adamw": [("signopt", lambda p: so.AdamW(p, lr=1e-4)), ("torch.optim", lambda p: torch.optim.AdamW(p, lr=1e-4)),
              ("torch.optim-foreach", lambda p: torch.optim.AdamW(p, lr=1e-4, foreach=True))],
    "sgdm": [("signopt", lambda p: so.SGD(p, lr=1e-4, momentum=0.9)),
             ("torch.optim", lambda p: torch.optim.SGD(p, lr=1e-4, momentum=0.9))],
}


def make_params(d, ntensors):
    sizes = [d // ntensors] * ntensors
    sizes[-1] += d - sum(sizes)
    ps = [torch.nn.Parameter(torch.rand(s) - 0.5) for s in sizes]
    for p in ps:
        p.grad = torch.rand_like(p) - 0.5
    return ps


def time_steps(opt, min_s=0.25):
    opt.step()
    n, t0 = 0, time.perf_counter()
    while True:
        opt.step()
        n += 1
        el = time.perf_counter() - t0
        if el >= min_s and n >= 3:
            return el / n


def cmd_steps(a):
    rows = []
    for threads in a.threads:
        torch.set_num_threads(threads)
        for d in a.sizes:
            for nt in (1, 100):
                ps = make_params(d, nt)
                for rule in a.rules:
                    opts = [(name, f(ps)) for name, f in IMPLS[rule]]
                    best = {name: float("inf") for name, _ in opts}
                    for _ in range(a.rounds):
                        for name, opt in opts:
                            best[name] = min(best[name], time_steps(opt))
                    ours = best["signopt"]
                    for name, _ in opts:
                        rows.append({"rule": rule, "impl": name, "d": d, "tensors": nt, "threads": threads,
                                     "seconds": best[name], "speedup_of_signopt": best[name] / ours})
                    del opts
                    print(f"threads {threads} d {d} tensors {nt} {rule}: " + ", ".join(
                        f"{n} {best[n] * 1e3:.2f} ms" for n in best), file=sys.stderr)
                del ps
    print("| rule | params | tensors | threads | signopt ms | baseline | baseline ms | signopt speedup |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if r["impl"] == "signopt":
            continue
        ours = r["seconds"] / r["speedup_of_signopt"]
        print(f"| {r['rule']} | {r['d'] / 1e6:g}M | {r['tensors']} | {r['threads']} | {ours * 1e3:.2f} | {r['impl']} | "
              f"{r['seconds'] * 1e3:.2f} | {r['speedup_of_signopt']:.2f}x |")
    return rows


def cmd_overhead(a):
    torch.set_num_threads(1)
    rows = []
    for nt in (1, 10, 100):
        ps = [torch.nn.Parameter(torch.zeros(4)) for _ in range(nt)]
        for p in ps:
            p.grad = torch.ones_like(p)
        for name, opt in [("signopt.torch.Signum", so.Signum(ps, lr=1e-3)),
                          ("torch.optim.SGD(momentum=0.9)", torch.optim.SGD(ps, lr=1e-3, momentum=0.9))]:
            best = min(time_steps(opt, 0.2) for _ in range(5))
            rows.append({"impl": name, "tensors": nt, "us_per_step": best * 1e6})
    print("| implementation | tensors of 4 floats | microseconds per step() |")
    print("| --- | --- | --- |")
    for r in rows:
        print(f"| {r['impl']} | {r['tensors']} | {r['us_per_step']:.1f} |")
    return rows


def _hook_worker(rank, n, d, use_vote, rounds, port, out):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    import signopt.ddp as sd
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=n)
    torch.manual_seed(0)
    model = torch.nn.Linear(d // 8, 8, bias=False)
    ddp = DDP(model)
    state = None
    if use_vote:
        state = sd.VoteState("mv-signum", params=model.parameters())
        ddp.register_comm_hook(state, sd.vote_hook)
    x = torch.randn(4, d // 8)
    times = []
    for _ in range(rounds):
        ddp.zero_grad()
        dist.barrier()
        t0 = time.perf_counter()
        ddp(x).sum().backward()
        times.append(time.perf_counter() - t0)
    sent = state.bytes_sent() / rounds if state else 4 * d * 2 * (n - 1) / n  # ring allreduce, per rank
    if state:
        state.close()
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"seconds": sorted(times)[len(times) // 2], "bytes": sent}, f)
    dist.destroy_process_group()


def cmd_hook(a):
    import torch.multiprocessing as mp
    rows = []
    for d in a.dims:
        for use_vote in (False, True):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            with tempfile.NamedTemporaryFile(suffix=".json") as f:
                mp.start_processes(_hook_worker, args=(4, d, use_vote, a.rounds, port, f.name), nprocs=4,
                                   join=True, start_method="spawn")
                r = json.load(open(f.name))
            rows.append({"d": d, "hook": "signopt vote (mv-signum)" if use_vote else "DDP default (fp32 allreduce)",
                         **r})
    print("(fp32 rows: the ring-allreduce formula 2(n-1)/n * 4d; vote rows: the payload measured by the hook)")
    print("| d | hook | seconds per backward + exchange (median) | bytes sent per rank per round |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['d']} | {r['hook']} | {r['seconds']:.4f} | {r['bytes']:.0f} |")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("steps")
    s.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[1 << 20, 1 << 24, 1 << 26])
    s.add_argument("--threads", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2])
    s.add_argument("--rules", type=lambda v: v.split(","), default=list(IMPLS))
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--out")
    o = sub.add_parser("overhead")
    o.add_argument("--out")
    h = sub.add_parser("hook")
    h.add_argument("--dims", type=lambda v: [int(x) for x in v.split(",")], default=[1 << 20, 1 << 22])
    h.add_argument("--rounds", type=int, default=10)
    h.add_argument("--out")
    a = ap.parse_args()
    rows = {"steps": cmd_steps, "overhead": cmd_overhead, "hook": cmd_hook}[a.cmd](a)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
