"""signopt.ddp — 1-bit majority vote as a DistributedDataParallel communication hook (the shape of torch's
PowerSGD hook: a state object and a hook function).

    import signopt.ddp
    state = signopt.ddp.VoteState("mv-signum", params=model.parameters(), beta=0.9)
    ddp_model.register_comm_hook(state, signopt.ddp.vote_hook)
    opt = torch.optim.SGD(ddp_model.parameters(), lr=1e-3)       # x <- x - lr * vote

Each rank's gradient goes to the C library's per-rank optimizer (so_dist_optim): the worker's momentum update, the
1-bit (or stochastic 1-bit) packing, the exchange of packed words over torch.distributed (gloo, CPU; any number of
processes and hosts), the vote with the tie rule, and mvsm-v2's stochastic downlink. The hook returns the vote
(-1, 0 or +1 per coordinate; mv-scaled-signsgd: M_t times it) in place of the averaged gradient, so a plain SGD step
of rate lr after it moves the parameters exactly as signopt's cluster moves x: bit for bit the same as its
in-process cluster fed the same per-worker gradients (InProcessCluster below; tests/python/test_ddp.py).

The hook waits for the last bucket of the backward pass and votes once over the whole gradient, laid out in the
order of `params` (the model's parameters; without them, the order of the first backward pass's buckets): the
vote, the random draws and the worker's state are then those of one d-vector whatever DDP's bucketing, and
mv-scaled-signsgd's ||g||_1 is over the whole gradient as seed 004 Alg 3 has it. Ids: mv-signsgd, mv-signum,
sto-signsgd, mv-sto-signsgd-sim (alpha = 0: the extrapolated point would need the gradient at y, which DDP does not
take), mvsm-v1, mvsm-v2, mv-scaled-signsgd.
"""
import collections
import ctypes

import numpy as np
import torch
import torch.distributed as dist

from . import _config, _lib

HOOK_ALGOS = ("mv-signsgd", "mv-signum", "sto-signsgd", "mv-sto-signsgd-sim", "mvsm-v1", "mvsm-v2",
              "mv-scaled-signsgd")
_TIES = {"zero": 0, "positive": 1, "random": 2}
_PATTERNS = {"ps": 0, "allgather": 1, "sharded": 2}
_ZERO_VOTES = {"plus": 0, "abstain": 1, "random": 2}
_ECOMM = -6


def _cluster_config(algo, beta, R, ties, pattern, momentum_init, seed, byzantine, byzantine_random, dropout,
                    zero_vote="plus"):
    if algo not in HOOK_ALGOS:
        raise ValueError(f"signopt.ddp: algo must be one of {', '.join(HOOK_ALGOS)}, got {algo!r}")
    if ties not in _TIES:
        raise ValueError(f"signopt.ddp: ties must be one of {', '.join(_TIES)}, got {ties!r}")
    if pattern not in _PATTERNS:
        raise ValueError(f"signopt.ddp: pattern must be one of {', '.join(_PATTERNS)}, got {pattern!r}")
    if zero_vote not in _ZERO_VOTES:
        raise ValueError(f"signopt.ddp: zero_vote must be one of {', '.join(_ZERO_VOTES)}, got {zero_vote!r}")
    cc = _lib.ClusterConfig()
    _lib.cluster_config_default(ctypes.byref(cc))
    keep = algo.encode()
    cc.optim.algo = keep
    # x moves by lr * vote with lr = 1 from x = 0: x is then exactly minus the vote (docs/python.md).
    _config.set_values(cc.optim, {"lr": 1.0, "beta": beta, "momentum_init": momentum_init, "alpha": 0.0})
    cc.R = float(R)
    cc.ties = _TIES[ties]
    cc.pattern = _PATTERNS[pattern]
    cc.zero_vote = _ZERO_VOTES[zero_vote]
    cc.seed = int(seed)
    cc.byzantine = int(byzantine)
    cc.byzantine_random = 1 if byzantine_random else 0
    cc.dropout = float(dropout)
    cc.threads = 1
    return cc, keep


def _view(ptr, nbytes, dtype=torch.uint8):
    """A tensor over C memory, no copy."""
    if nbytes == 0:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer((ctypes.c_uint8 * nbytes).from_address(ptr), dtype=dtype)


class _TorchTransport:
    """A so_transport whose five collectives are torch.distributed's, on a process group (one worker per rank)."""

    def __init__(self, group=None):
        self.group = group
        self.n = dist.get_world_size(group)
        self.rank = dist.get_rank(group)
        self.root = 0 if group is None else dist.distributed_c10d._get_global_rank(group, 0)
        self.bytes_sent = 0
        # The tensors handed to torch.distributed are kept here for a while: gloo's worker thread drops its
        # reference to a finished operation's tensors after we return, and a tensor made in Python that dies on
        # that thread needs the GIL, which the main thread may hold while it waits for that thread (destroying
        # the process group): a deadlock seen here. Python dropping the last reference avoids it.
        self._hold = collections.deque(maxlen=64)
        self._ops = _lib.TransportOps(_lib.GATHER(self._guard(self._gather)), _lib.SCATTER(self._guard(self._scatter)),
                                      _lib.BCAST(self._guard(self._bcast)),
                                      _lib.SUM_ORDERED(self._guard(self._sum_ordered)),
                                      _lib.ALLREDUCE(self._guard(self._allreduce)), _lib.DESTROY(0),
                                      _lib.ALLTOALL(self._guard(self._alltoall)))
        self.ptr = _lib.check_ptr(_lib.transport_create(ctypes.byref(self._ops), None, self.n, self.rank, self.rank,
                                                        1))

    def close(self):
        if self.ptr:
            _lib.transport_destroy(self.ptr)
            self.ptr = None
        # Each of gloo's worker threads keeps the last operation it ran until it runs another or the process group
        # is destroyed; if that operation's tensors were made in Python, destroying them needs the GIL, which the
        # destroying thread holds: a deadlock (seen here). Barriers (tensors made in C++) cycle every worker
        # thread: issued together, so that each thread takes one (one at a time, one thread could take them all
        # and leave another holding our tensors - a hang seen once in ~100 runs). What this object holds is
        # dropped with it, not here, so a thread that still held an operation would not hold the last reference.
        if dist.is_initialized():
            works = [dist.barrier(group=self.group, async_op=True) for _ in range(16)]
            for w in works:
                w.wait()

    @staticmethod
    def _guard(fn):
        def call(*args):
            try:
                fn(*args[1:])
                return 0
            except Exception as e:  # a failed exchange fails the round, with torch's message
                return _lib.report(_ECOMM, f"torch.distributed: {type(e).__name__}: {e}")
        return call

    def _gather(self, all_ptr, mine, per, to_all):
        blocks = None
        if to_all or self.rank == 0:
            all_t = _view(all_ptr, self.n * per)
            blocks = list(all_t.split(per)) if per else [all_t] * self.n
        src = _view(mine, per).clone()  # mine may lie inside all
        self._hold.append((src, blocks))
        if to_all:
            dist.all_gather(blocks, src, group=self.group)
            self.bytes_sent += per * (self.n - 1)
        else:
            dist.gather(src, gather_list=blocks, dst=self.root, group=self.group)
            self.bytes_sent += per if self.rank != 0 else 0

    def _alltoall(self, recv, send, block):
        """The sharded pattern's exchange: block j of send to rank j, rank j's block for us into recv slot j
        (gloo's all_to_all_single; its list form is not supported by gloo)."""
        src = _view(send, self.n * block).clone()
        dst = _view(recv, self.n * block)
        self._hold.append((src, dst))
        dist.all_to_all_single(dst, src, group=self.group)
        self.bytes_sent += block * (self.n - 1)

    def _scatter(self, mine, all_ptr, per):
        blocks = list(_view(all_ptr, self.n * per).clone().split(per)) if self.rank == 0 else None
        dst = _view(mine, per)
        self._hold.append((dst, blocks))
        dist.scatter(dst, scatter_list=blocks, src=self.root, group=self.group)

    def _bcast(self, buf, size):
        t = _view(buf, size)
        self._hold.append(t)
        dist.broadcast(t, src=self.root, group=self.group)
        self.bytes_sent += size * (self.n - 1) if self.rank == 0 else 0

    def _sum_ordered(self, acc, vecs, count, length, to_all):
        if count != 1:
            raise ValueError(f"one worker per rank, got {count}")
        vp = ctypes.cast(vecs, ctypes.POINTER(ctypes.c_void_p))[0]
        acc_t = _view(acc, 4 * length, torch.float32)
        present = torch.tensor([1 if vp else 0], dtype=torch.int32)
        flags = [torch.zeros(1, dtype=torch.int32) for _ in range(self.n)]
        dist.all_gather(flags, present, group=self.group)
        mine = _view(vp, 4 * length, torch.float32).clone() if vp else torch.zeros(length, dtype=torch.float32)
        all_v = [torch.empty(length, dtype=torch.float32) for _ in range(self.n)]
        self._hold.append((present, flags, mine, all_v))
        dist.all_gather(all_v, mine, group=self.group)
        self.bytes_sent += 4 * length * (self.n - 1)
        for j in range(self.n):  # in worker order, one vector at a time: the C transports' sum, bit for bit
            if flags[j].item():
                acc_t.add_(all_v[j])

    def _allreduce(self, buf, length):
        t = _view(buf, 4 * length, torch.float32)
        self._hold.append(t)
        dist.all_reduce(t, group=self.group)


class _Vote:
    """A so_dist_optim of d coordinates over a transport; vote(g) returns the vote for this process's gradients."""

    def __init__(self, d, transport_ptr, cc):
        self.d = d
        self._cc = cc
        self.ptr = _lib.check_ptr(_lib.dist_optim_create(ctypes.byref(cc), d, None, 0, transport_ptr))
        self._x = np.zeros(d, np.float32)

    def vote(self, g):
        """g: count * d float32 (contiguous numpy); returns -x after one step from x = 0 (a fresh array)."""
        self._x[:] = 0
        _lib.check(_lib.dist_optim_step(self.ptr, self._x.ctypes.data, g.ctypes.data))
        return np.negative(self._x)

    def bits(self):
        up, down = ctypes.c_uint64(), ctypes.c_uint64()
        _lib.dist_optim_bits(self.ptr, ctypes.byref(up), ctypes.byref(down))
        return up.value, down.value

    def rounds(self):
        return _lib.dist_optim_round(self.ptr)

    def save(self):
        n = _lib.dist_optim_state_size(self.ptr)
        buf = (ctypes.c_uint8 * n)()
        _lib.check(_lib.dist_optim_save(self.ptr, buf, n))
        return bytes(buf)

    def load(self, data):
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        _lib.check(_lib.dist_optim_load(self.ptr, buf, len(data)))

    def close(self):
        if self.ptr:
            _lib.dist_optim_destroy(self.ptr)
            self.ptr = None


class VoteState:
    """What persists between rounds of the vote hook: the configuration, the worker's state in C (momentum), the
    layout of the gradient, and the counters. One per process, created after dist.init_process_group.

    algo: one of HOOK_ALGOS. beta: the weight of the old momentum value. R: the stochastic-sign bound (sto-signsgd,
    mv-sto-signsgd-sim; mvsm's G). ties: 'zero' | 'positive' | 'random'. pattern: 'ps' (gather to rank 0, vote,
    broadcast) | 'allgather' (every rank votes) | 'sharded' (all-to-all of shards, every rank votes its own; traffic
    per rank flat in n). zero_vote: what a worker sends for an exact zero on the deterministic sign uplink, 'plus'
    (default) | 'abstain' (a second uplink bit; not with 'sharded') | 'random'. momentum_init: 'auto' | 'zero' |
    'first-grad'. seed: keys every
    random draw (with the rank and the round). byzantine, byzantine_random, dropout: the fault models of the C
    cluster. params: the model's parameters, fixing the layout of the voted vector (recommended). record: keep each
    round's gradient (as voted) in .recorded, for tests.
    """

    def __init__(self, algo="mv-signum", *, params=None, process_group=None, beta=0.9, R=1e-3, ties="zero",
                 pattern="ps", momentum_init="auto", seed=1, byzantine=0, byzantine_random=False, dropout=0.0,
                 record=False, zero_vote="plus"):
        self.algo = algo
        self._cc, self._keep = _cluster_config(algo, beta, R, ties, pattern, momentum_init, seed, byzantine,
                                               byzantine_random, dropout, zero_vote)
        self.process_group = process_group
        self._params = [p for p in params if p.requires_grad] if params is not None else None
        self._pending = []
        self._layout = None      # data_ptr -> (global offset, numel)
        self._vote = None
        self._transport = None
        self._g = None
        self.record = record
        self.recorded = []

    # ---- what a user reads ----
    def bits(self):
        """Cumulative bits sent per worker since the first round, (up, down), as the C cluster counts them."""
        return self._vote.bits() if self._vote else (0, 0)

    def bytes_sent(self):
        """Bytes this process handed to torch.distributed (payload, excluding gloo's own framing)."""
        return self._transport.bytes_sent if self._transport else 0

    def rounds(self):
        return self._vote.rounds() if self._vote else 0

    def dim(self):
        """d, the length of the voted vector (0 before the first backward pass)."""
        return self._vote.d if self._vote else 0

    def flatten(self, tensors):
        """Concatenate per-parameter tensors (in the order of `params`) into the voted vector's layout."""
        return torch.cat([t.reshape(-1) for t in tensors])

    def state_dict(self):
        """This rank's state: the C per-rank optimizer's bytes (momentum, round, counters); load on the same rank."""
        return {"algo": self.algo, "c_state": self._vote.save() if self._vote else None}

    def load_state_dict(self, d):
        if d.get("algo") != self.algo:
            raise ValueError(f"signopt.ddp: state is for {d.get('algo')!r}, not {self.algo!r}")
        self._saved = d["c_state"]  # applied when the first backward pass creates the optimizer

    def close(self):
        """Free the C optimizer and the transport. Collective: call it on every rank before
        dist.destroy_process_group (it lets gloo's threads finish what they hold, see _TorchTransport.close)."""
        if self._vote:
            self._vote.close()
        if self._transport:
            self._transport.close()

    # ---- the round ----
    def _segments(self):
        segs = []
        for index, buf, params, _ in self._pending:
            off = 0
            for p in params:
                n = p.numel()
                segs.append((buf, off, p, n))
                off += n
            if off != buf.numel():
                raise RuntimeError(f"signopt.ddp: bucket {index} holds {buf.numel()} values, its parameters "
                                   f"{off}: an unexpected bucket layout")
        return segs

    def _make_layout(self, segs):
        order = self._params if self._params is not None else [p for _, _, p, _ in segs]
        layout, off = {}, 0
        for p in order:
            layout[p.data_ptr()] = (off, p.numel())
            off += p.numel()
        for _, _, p, n in segs:
            if p.data_ptr() not in layout:
                raise RuntimeError("signopt.ddp: a parameter of the model is missing from VoteState's params")
        self._layout = layout
        self._transport = _TorchTransport(self.process_group)
        self._vote = _Vote(off, self._transport.ptr, self._cc)
        self._g = np.zeros(off, np.float32)
        saved = getattr(self, "_saved", None)
        if saved is not None:
            self._vote.load(saved)
            self._saved = None

    def run(self):
        segs = self._segments()
        if self._layout is None:
            self._make_layout(segs)
        g = torch.from_numpy(self._g)
        g.zero_()  # parameters without a gradient this round vote 0 (their buffer slots are zeros too)
        for buf, off, p, n in segs:
            goff, gn = self._layout[p.data_ptr()]
            g[goff:goff + gn] = buf[off:off + n]
        if self.record:
            self.recorded.append(g.clone())
        vote = torch.from_numpy(self._vote.vote(self._g))
        for buf, off, p, n in segs:
            goff, _ = self._layout[p.data_ptr()]
            buf[off:off + n] = vote[goff:goff + n]


def vote_hook(state, bucket):
    """The communication hook: register with ddp_model.register_comm_hook(state, vote_hook)."""
    fut = torch.futures.Future()
    # The bucket object is DDP's for the length of this call only: keep its buffer and parameters, not it.
    state._pending.append((bucket.index(), bucket.buffer(), bucket.parameters(), fut))
    if not bucket.is_last():
        return fut
    try:
        state.run()
    except Exception as e:
        for *_, f in state._pending:
            f.set_exception(e)
    else:
        for _, buf, _, f in state._pending:
            f.set_result(buf)
    finally:
        state._pending = []
    return fut


class InProcessCluster:
    """signopt's in-process cluster of n workers fed the gradients you give, moving x by its own update (the C
    library's so_vote_apply with rate lr): the reference the hook is tested against, with the same configuration
    arguments as VoteState. round(x, g) takes x (d float32, updated in place) and the workers' gradients (n, d)."""

    def __init__(self, n, d, algo="mv-signum", *, lr, beta=0.9, R=1e-3, ties="zero", pattern="ps",
                 momentum_init="auto", seed=1, byzantine=0, byzantine_random=False, dropout=0.0, zero_vote="plus"):
        self._cc, self._keep = _cluster_config(algo, beta, R, ties, pattern, momentum_init, seed, byzantine,
                                               byzantine_random, dropout, zero_vote)
        _config.set_values(self._cc.optim, {"lr": lr})
        self._t = _lib.check_ptr(_lib.transport_local(int(n)))
        self._opt = _lib.check_ptr(_lib.dist_optim_create(ctypes.byref(self._cc), int(d), None, 0, self._t))
        self.n, self.d = int(n), int(d)

    def round(self, x, g):
        if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (self.d,) and
                x.flags.c_contiguous):
            raise ValueError(f"signopt.ddp: x must be a contiguous float32 array of {self.d}")
        g = np.ascontiguousarray(g, dtype=np.float32)
        if g.shape != (self.n, self.d):
            raise ValueError(f"signopt.ddp: gradients of shape {g.shape}, expected {(self.n, self.d)}")
        _lib.check(_lib.dist_optim_step(self._opt, x.ctypes.data, g.ctypes.data))

    def bits(self):
        up, down = ctypes.c_uint64(), ctypes.c_uint64()
        _lib.dist_optim_bits(self._opt, ctypes.byref(up), ctypes.byref(down))
        return up.value, down.value

    def close(self):
        _lib.dist_optim_destroy(self._opt)
        _lib.transport_destroy(self._t)
