"""The vote hook against signopt's in-process cluster: 2 and 4 gloo processes on loopback train a small network
with DistributedDataParallel, the hook and torch.optim.SGD; the parent feeds each round's per-worker gradients (as
the hook voted them, checked against the model's own first gradient) to the C library's in-process cluster
(InProcessCluster), which moves x by its own update. The parameters must be equal bit for bit on every rank, for
each hook algorithm; the bits each worker sent must be the cluster's count. DDP's buckets
are made small so the gradient spans several of them."""
import faulthandler
import os
import socket
import tempfile
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

import signopt.ddp as sd

LR, ROUNDS = 0.05, 6
CONFIG = {"seed": 5, "R": 0.5, "beta": 0.8}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                               torch.nn.Linear(16, 3))


def flat(params):
    return torch.cat([p.detach().reshape(-1) for p in params])


def worker(rank, n, algo, ties, pattern, port, out):
    faulthandler.dump_traceback_later(90, exit=True)  # a hung rank says where, and ends
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=n)
    model = make_model()
    x0 = flat(model.parameters()).clone()
    gen = torch.Generator().manual_seed(100 + rank)
    X, y = torch.randn(64, 20, generator=gen), torch.randint(0, 3, (64,), generator=gen)
    # this rank's first gradient without DDP, flattened in parameter order: what the hook must vote on in round 0
    plain = make_model()
    torch.nn.functional.cross_entropy(plain(X[:8]), y[:8]).backward()
    g0 = flat(p.grad for p in plain.parameters())
    ddp = DDP(model, bucket_cap_mb=0.0005)  # ~130 floats a bucket: the gradient spans several
    state = sd.VoteState(algo, params=model.parameters(), ties=ties, pattern=pattern, record=True, **CONFIG)
    ddp.register_comm_hook(state, sd.vote_hook)
    opt = torch.optim.SGD(ddp.parameters(), lr=LR)
    for t in range(ROUNDS):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ddp(X[8 * t:8 * t + 8]), y[8 * t:8 * t + 8]).backward()
        opt.step()
    torch.save({"g0": g0, "x0": x0, "x": flat(model.parameters()), "grads": state.recorded, "bits": state.bits(),
                "bytes": state.bytes_sent()}, os.path.join(out, f"r{rank}.pt"))
    state.close()
    dist.destroy_process_group()


def run(n, algo, ties="zero", pattern="ps", deadline_s=120):
    # spawn, not fork: a forked child of a process whose OpenMP runtime has started threads can hang in its
    # first parallel region (libgomp is not fork-safe), and this process has run the C library.
    with tempfile.TemporaryDirectory() as out:
        ctx = mp.start_processes(worker, args=(n, algo, ties, pattern, free_port(), out), nprocs=n, join=False,
                                 start_method="spawn")
        end = time.monotonic() + deadline_s
        while not ctx.join(timeout=1):
            if time.monotonic() > end:
                for p in ctx.processes:
                    p.kill()
                pytest.fail(f"{algo} on {n} processes did not finish in {deadline_s} s")
        return [torch.load(os.path.join(out, f"r{r}.pt")) for r in range(n)]


CASES = [(2, "mv-signum", "zero", "ps"), (4, "mv-signsgd", "zero", "allgather"), (4, "mv-signum", "random", "ps"),
         (4, "sto-signsgd", "zero", "allgather"), (2, "mv-sto-signsgd-sim", "positive", "ps"),
         (4, "mvsm-v1", "zero", "ps"), (4, "mvsm-v2", "zero", "allgather"), (4, "mv-signum", "random", "sharded")]


@pytest.mark.parametrize("n,algo,ties,pattern", CASES)
def test_hook_equals_in_process_cluster_bitwise(n, algo, ties, pattern):
    res = run(n, algo, ties, pattern)
    for r, rr in enumerate(res):
        assert torch.equal(rr["grads"][0], rr["g0"]), f"rank {r}: round 0's voted gradient is not the model's"
    d = res[0]["x0"].numel()
    sim = sd.InProcessCluster(n, d, algo, lr=LR, ties=ties, **CONFIG)
    xs = res[0]["x0"].numpy().copy()
    for t in range(ROUNDS):
        sim.round(xs, torch.stack([r["grads"][t] for r in res]).numpy())  # the C cluster's own step of x
    x = torch.from_numpy(xs)
    for r, rr in enumerate(res):
        assert torch.equal(rr["x"], x), f"rank {r}: {int((rr['x'] != x).sum())} of {d} coordinates differ"
        assert rr["bits"] == sim.bits(), f"rank {r}: bits {rr['bits']} vs the cluster's {sim.bits()}"
    assert not torch.equal(x, res[0]["x0"])
    sim.close()


def test_scaled_vote_within_one_rounding():
    """mv-scaled-signsgd's hook returns M_t * vote; SGD then forms lr * M_t in float where the C cluster's own step
    forms it in double and rounds once (docs/python.md): equal to within that rounding, per step."""
    n, algo = 2, "mv-scaled-signsgd"
    res = run(n, algo)
    d = res[0]["x0"].numel()
    sim = sd.InProcessCluster(n, d, algo, lr=LR, **CONFIG)
    xs = res[0]["x0"].numpy().copy()
    for t in range(ROUNDS):
        sim.round(xs, torch.stack([r["grads"][t] for r in res]).numpy())
    x = torch.from_numpy(xs)
    moved = (x - res[0]["x0"]).abs().max().item()
    for rr in res:
        assert (rr["x"] - x).abs().max().item() <= 1e-6 * max(1.0, moved), "more than a rounding apart"
    assert moved > 1e-3


def test_bad_configuration_raises():
    with pytest.raises(ValueError, match="algo must be one of"):
        sd.VoteState("dist-sgd")
    with pytest.raises(ValueError, match="ties"):
        sd.VoteState("mv-signum", ties="coin")
