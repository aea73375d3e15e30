"""optim.py — signopt's single-node optimizers over NumPy float32 arrays, stepped in place by the C kernels.

    import numpy as np, signopt
    w = np.zeros((784, 10), np.float32); b = np.zeros(10, np.float32)
    opt = signopt.Optimizer([w, b], "signum", lr=1e-3, beta=0.9)
    opt.step([gw, gb])                      # w, b updated in place: one fused C pass per array, no copies

The arrays are the caller's and stay so (the optimizer keeps pointers to them: keep them alive and do not resize
them). The state (momentum, second moment, error, x_prev) is NumPy arrays the optimizer owns, one set per array,
exactly the buffers so_optim keeps; state_dict()/load_state_dict() round-trip them.
"""
import ctypes

import numpy as np

from . import _config, _lib

_VP = ctypes.c_void_p


def _check_array(a, what):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"signopt: {what} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype != np.float32:
        raise TypeError(f"signopt: {what} must be float32, got {a.dtype}")
    if not a.flags.c_contiguous:
        raise ValueError(f"signopt: {what} must be C-contiguous (np.ascontiguousarray makes a copy)")
    return a


def _ptrs(arrays):
    return (_VP * len(arrays))(*[a.ctypes.data for a in arrays])


class Optimizer:
    """A single-node optimizer (any id of signopt.algos() of kind 'single') over float32 arrays.

    Hyperparameters by their C names (signopt/optim.h): lr, beta (the weight of the OLD momentum value), beta2,
    eps, weight_decay, nesterov (sgdm), momentum_init ('auto', 'zero', 'first-grad'), alpha (signum-nesterov's
    extrapolation; None: beta / (1 - beta)), schedule (a schedule text: 'const', 'cosine', 'warmup:W[,cosine]',
    'step:E1,E2:F', 'exp:F', 'inv:C') and total_steps (T for cosine). Bad values raise ValueError with the
    library's message; unknown names TypeError.
    """

    def __init__(self, params, algo="signum", **hyper):
        if isinstance(params, np.ndarray):
            params = [params]
        self.params = [_check_array(p, f"params[{i}]") for i, p in enumerate(params)]
        for i, p in enumerate(self.params):
            if not p.flags.writeable:
                raise ValueError(f"signopt: params[{i}] is read-only")
        self.algo = algo
        self._info = _config.algo_info(algo)
        self._cfg, self._algo_bytes = _config.make_config(algo, hyper)
        self.hyper = dict(hyper)
        nbuf = self._info.state_floats
        self.state = [[np.zeros_like(p) for _ in range(nbuf)] for p in self.params]
        n = len(self.params)
        self._n = n
        self._sizes = (ctypes.c_size_t * n)(*[p.size for p in self.params])
        self._x = _ptrs(self.params)
        self._b0 = _ptrs([s[0] for s in self.state]) if nbuf > 0 else None
        self._b1 = _ptrs([s[1] for s in self.state]) if nbuf > 1 else None
        self.step_count = 0

    @property
    def lr(self):
        """The base learning rate (settable: a schedule of your own sets it before each step)."""
        return self._cfg.lr

    @lr.setter
    def lr(self, value):
        _config.set_values(self._cfg, {"lr": value})

    def current_lr(self):
        """The rate the next step uses: the base rate through the configured schedule at this step."""
        return _lib.schedule_lr(ctypes.byref(self._cfg.schedule), self._cfg.lr, self.step_count)

    def step(self, grads):
        """One step: every array moves by the rule with its gradient (same shapes, float32, C-contiguous)."""
        if isinstance(grads, np.ndarray):
            grads = [grads]
        if len(grads) != self._n:
            raise ValueError(f"signopt: {len(grads)} gradients for {self._n} arrays")
        for i, (g, p) in enumerate(zip(grads, self.params)):
            _check_array(g, f"grads[{i}]")
            if g.shape != p.shape:
                raise ValueError(f"signopt: grads[{i}] has shape {g.shape}, params[{i}] {p.shape}")
        _lib.check(_lib.step_tensors(ctypes.byref(self._cfg), self.step_count, self._n, self._sizes, self._x,
                                     _ptrs(grads), self._b0, self._b1))
        self.step_count += 1

    def grad_point(self):
        """Where the next gradient must be taken: a list of new arrays y (signum-nesterov after its first step:
        y = x + alpha (x - x_prev)), or None when it is the parameters themselves."""
        if self._info.state_floats < 2 or self.algo != "signum-nesterov":
            return None
        ys = [np.empty_like(p) for p in self.params]
        moved = _lib.check(_lib.grad_point_tensors(ctypes.byref(self._cfg), self.step_count, self._n, self._sizes,
                                                   self._x, self._b1, _ptrs(ys)))
        return ys if moved else None

    def state_dict(self):
        """A dict of copies: algo, hyperparameters, step count and the state arrays."""
        return {"algo": self.algo, "hyper": dict(self.hyper), "lr": self.lr, "step": self.step_count,
                "state": [[b.copy() for b in s] for s in self.state]}

    def load_state_dict(self, d):
        """Restore a state_dict of the same algorithm and array shapes (the arrays are copied into place)."""
        if d.get("algo") != self.algo:
            raise ValueError(f"signopt: state is for {d.get('algo')!r}, this optimizer runs {self.algo!r}")
        state = d["state"]
        if len(state) != self._n or any(len(s) != len(t) for s, t in zip(state, self.state)):
            raise ValueError("signopt: state has another number of arrays or buffers")
        for i, (s, t) in enumerate(zip(state, self.state)):
            for b, (src, dst) in enumerate(zip(s, t)):
                if np.shape(src) != dst.shape:
                    raise ValueError(f"signopt: state[{i}][{b}] has shape {np.shape(src)}, expected {dst.shape}")
        for s, t in zip(state, self.state):
            for src, dst in zip(s, t):
                np.copyto(dst, src, casting="same_kind")
        step = int(d["step"])
        if step < 0:
            raise ValueError(f"signopt: step {step} < 0")
        self.step_count = step
        self.lr = d.get("lr", self.lr)
