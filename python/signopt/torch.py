"""signopt.torch — signopt's optimizers as torch.optim.Optimizer classes, stepped in place by the C kernels.

    import signopt.torch as so
    opt = so.Signum(model.parameters(), lr=1e-3, beta=0.9)       # in place of torch.optim.AdamW(...)

Every parameter group is stepped by one C call (so_optim_step_tensors) over all its parameters: one fused pass per
tensor over the parameter, its gradient and its state, no temporaries, no copies. The state lives in
self.state[p] as tensors (torch's names where torch has the class: momentum_buffer, exp_avg, exp_avg_sq), so
state_dict()/load_state_dict(), torch.save and torch.optim.lr_scheduler work as with torch's own classes.

Parameters and gradients must be dense, contiguous, float32 tensors on the CPU: anything else raises TypeError or
ValueError before any step (no silent copies; for GPU training use torch's optimizers). Conventions (docs/python.md):
`beta` is the weight of the OLD momentum value everywhere (Adam's beta1); SGD's `momentum` is torch's (the buffer
b <- momentum b + g) and maps to signopt's sgdm rule.
"""
import ctypes

import torch

from . import _config, _lib

_VP = ctypes.c_void_p
_SZ = ctypes.c_size_t

#: The state buffers of each rule (so_optim_step_tensors' buf0, buf1), named as torch names them.
BUFFERS = {
    "sgd": (), "sgdm": ("momentum_buffer",), "adam": ("exp_avg", "exp_avg_sq"), "adamw": ("exp_avg", "exp_avg_sq"),
    "signsgd": (), "signum": ("exp_avg",), "signum-nesterov": ("exp_avg", "x_prev"), "ef-signsgd": ("error",),
    "scaled-signsgd": (), "lion": ("exp_avg",),
}
_NUMERIC = ("lr", "beta", "beta2", "eps", "weight_decay")
_STRUCTURAL = ("schedule", "total_steps", "nesterov", "momentum_init", "alpha")


def _check_tensor(t, what):
    if t.dtype is not torch.float32:
        raise TypeError(f"signopt: {what} must be float32, got {t.dtype} (use torch.optim for other dtypes)")
    if t.device.type != "cpu":
        raise TypeError(f"signopt: {what} is on {t.device}; signopt steps CPU tensors (use torch.optim on GPUs)")
    if t.is_sparse:
        raise TypeError(f"signopt: {what} is sparse; signopt steps dense tensors")
    if not t.is_contiguous():
        raise ValueError(f"signopt: {what} is not contiguous; signopt steps tensors in place and makes no copies")


class Optimizer(torch.optim.Optimizer):
    """Any single-node id of signopt.algos() with hyperparameters by their C names: lr, beta, beta2, eps,
    weight_decay, nesterov, momentum_init ('auto' | 'zero' | 'first-grad'), alpha, schedule, total_steps."""

    def __init__(self, params, algo="signum", **hyper):
        self.algo = algo
        self._info = _config.algo_info(algo)
        self._buffers = BUFFERS[algo]
        _config.make_config(algo, hyper)  # every value checked now, as the library checks it
        self._plans = {}
        super().__init__(params, dict(hyper))

    def _config_of(self, group, plan):
        """The group's so_optim_config: made again when a structural hyperparameter changed, its numbers refreshed
        from the group at every step (lr_scheduler changes them)."""
        struct = tuple(group.get(k) for k in _STRUCTURAL)
        if plan.cfg is None or plan.struct != struct:
            hyper = {k: group[k] for k in group if k in _config.HYPER}
            plan.cfg, plan.keep = _config.make_config(self.algo, hyper)
            plan.struct = struct
        cfg = plan.cfg
        for name in _NUMERIC:
            v = group.get(name)
            if v is not None:
                setattr(cfg, name, v)
        return cfg

    def _init_state(self, p, st):
        _check_tensor(p, "a parameter")
        st["step"] = 0
        for name in self._buffers:
            st[name] = torch.zeros_like(p, memory_format=torch.contiguous_format)

    def _x_of(self, p, st):
        return p

    def _after(self, cfg, t, params, states):
        pass

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._plans = {}  # the state tensors are new: every pointer must be taken again

    def step(self, closure=None):
        """One step of every group (closure: re-evaluates the model and returns the loss, as torch.optim)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    # torch.optim wraps an optimizer's step in a profiler region (several microseconds a call); signopt's step runs
    # no torch operation to profile, so it opts out of the wrapper.
    step.hooked = True

    def _plan_of(self, group):
        """The group's cached pointers: parameters (or the iterates), state buffers and sizes, made when the group
        is stepped with every gradient present and every parameter at the same step, and checked (the parameters'
        addresses) at every step; None when the steps differ."""
        plans = self.__dict__.setdefault("_plans", {})
        plan = plans.get(id(group))
        params = group["params"]
        if plan is not None and plan.params is params and len(plan.xptr) == len(params):
            return plan
        plan = _Plan(params)
        state = self.state
        for p in params:
            st = state[p]
            if not st:
                self._init_state(p, st)
            _check_tensor(p, "a parameter")
        plan.states = [state[p] for p in params]
        if any(st["step"] != plan.states[0]["step"] for st in plan.states):
            return None  # parameters at different steps: the general path groups them
        xs = [self._x_of(p, st) for p, st in zip(params, plan.states)]
        n = len(params)
        plan.sizes = (_SZ * n)(*[p.numel() for p in params])
        plan.pptr = [p.data_ptr() for p in params]
        plan.xptr = (_VP * n)(*[x.data_ptr() for x in xs])
        nbuf = len(self._buffers)
        plan.b0 = (_VP * n)(*[st[self._buffers[0]].data_ptr() for st in plan.states]) if nbuf > 0 else None
        plan.b1 = (_VP * n)(*[st[self._buffers[1]].data_ptr() for st in plan.states]) if nbuf > 1 else None
        plan.gptr = (_VP * n)()
        plans[id(group)] = plan
        return plan

    def _step_group(self, group):
        params = group["params"]
        if not params:
            return
        grads = [p.grad for p in params]
        if any(g is None for g in grads):
            self.__dict__["_plans"].pop(id(group), None)  # steps may part: the plan is made again afterwards
            return self._step_some(group)
        plan = self._plan_of(group)
        if plan is not None and [p.data_ptr() for p in params] != plan.pptr:
            self.__dict__["_plans"].pop(id(group), None)  # a parameter was given new memory: take it again
            plan = self._plan_of(group)
        if plan is None:
            return self._step_some(group)
        old = plan.grads
        if old is None or any(a is not b for a, b in zip(grads, old)):  # new gradient tensors: check them once
            for g in grads:
                _check_tensor(g, "a gradient")
            plan.grads = grads
        plan.gptr[:] = [g.data_ptr() for g in grads]
        cfg = self._config_of(group, plan)
        t = plan.states[0]["step"]
        _lib.check(_lib.step_tensors(ctypes.byref(cfg), t, len(params), plan.sizes, plan.xptr, plan.gptr, plan.b0,
                                     plan.b1))
        t1 = t + 1
        for st in plan.states:
            st["step"] = t1
        self._after(cfg, t1, params, plan.states)

    def _step_some(self, group):
        """The general path: only the parameters with a gradient, grouped by their step count (a parameter that
        had no gradient for a while is behind the others)."""
        state, nbuf = self.state, len(self._buffers)
        ps, sts = [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            st = state[p]
            if not st:
                self._init_state(p, st)
            _check_tensor(p, "a parameter")
            _check_tensor(p.grad, "a gradient")
            ps.append(p)
            sts.append(st)
        if not ps:
            return
        plan = self.__dict__.setdefault("_some", {}).setdefault(id(group), _Plan(None))
        cfg = self._config_of(group, plan)
        for t in sorted({st["step"] for st in sts}):
            idx = [i for i, st in enumerate(sts) if st["step"] == t]
            gp, gs = [ps[i] for i in idx], [sts[i] for i in idx]
            n = len(gp)
            sizes = (_SZ * n)(*[p.numel() for p in gp])
            x = (_VP * n)(*[self._x_of(p, st).data_ptr() for p, st in zip(gp, gs)])
            g = (_VP * n)(*[p.grad.data_ptr() for p in gp])
            b0 = (_VP * n)(*[st[self._buffers[0]].data_ptr() for st in gs]) if nbuf > 0 else None
            b1 = (_VP * n)(*[st[self._buffers[1]].data_ptr() for st in gs]) if nbuf > 1 else None
            _lib.check(_lib.step_tensors(ctypes.byref(cfg), t, n, sizes, x, g, b0, b1))
            for st in gs:
                st["step"] = t + 1
            self._after(cfg, t + 1, gp, gs)


class _Plan:
    __slots__ = ("params", "states", "sizes", "pptr", "xptr", "b0", "b1", "gptr", "grads", "cfg", "keep",
                 "struct")

    def __init__(self, params):
        self.params = params
        self.grads = None
        self.cfg = None
        self.keep = None
        self.struct = None


def _merge_betas(betas, beta, beta2, default):
    if betas is not None:
        if beta is not None or beta2 is not None:
            raise TypeError("signopt: give betas=(b1, b2) or beta=/beta2=, not both")
        beta, beta2 = betas
    return (default[0] if beta is None else beta), (default[1] if beta2 is None else beta2)


class SGD(Optimizer):
    """torch.optim.SGD: momentum = 0 is signopt's sgd (coupled weight decay, as torch), momentum > 0 its sgdm
    (b <- momentum b + g, b_1 = g_1; nesterov as torch). dampening must be 0."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        if dampening != 0 or maximize:
            raise ValueError("signopt: SGD supports dampening = 0 and maximize = False only")
        if momentum < 0:
            raise ValueError(f"signopt: momentum must be >= 0, got {momentum}")
        # torch's SGD without momentum couples its weight decay (g + wd x); signopt's sgd decouples it, its sgdm
        # couples it: with a decay, momentum 0 runs as sgdm with beta 0 (b = g + wd x), torch's rule exactly.
        algo = "sgdm" if momentum > 0 or nesterov or weight_decay != 0 else "sgd"
        super().__init__(params, algo, lr=lr, beta=momentum, weight_decay=weight_decay, nesterov=nesterov)


class Adam(Optimizer):
    """torch.optim.Adam (coupled weight decay); betas=(beta1, beta2) or beta=, beta2=."""

    _algo, _torch_name = "adam", "Adam"

    def __init__(self, params, lr=1e-3, betas=None, eps=1e-8, weight_decay=0.0, amsgrad=False, *, beta=None,
                 beta2=None):
        if amsgrad:
            raise ValueError(f"signopt: amsgrad is not offered (use torch.optim.{self._torch_name})")
        beta, beta2 = _merge_betas(betas, beta, beta2, (0.9, 0.999))
        super().__init__(params, self._algo, lr=lr, beta=beta, beta2=beta2, eps=eps, weight_decay=weight_decay)


class AdamW(Adam):
    """torch.optim.AdamW (decoupled weight decay, torch's default 1e-2); betas=(beta1, beta2) or beta=, beta2=."""

    _algo, _torch_name = "adamw", "AdamW"

    def __init__(self, params, lr=1e-3, betas=None, eps=1e-8, weight_decay=1e-2, amsgrad=False, *, beta=None,
                 beta2=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, beta=beta, beta2=beta2)


class SignSGD(Optimizer):
    """signSGD (Bernstein et al. 2018; seed 003 Alg 1): x <- x - lr sign(g), decoupled weight decay."""

    def __init__(self, params, lr=1e-3, weight_decay=0.0):
        super().__init__(params, "signsgd", lr=lr, weight_decay=weight_decay)


class Signum(Optimizer):
    """Signum (seed 000 Alg 1; 001 Alg 1): m <- beta m + (1 - beta) g, x <- x - lr sign(m). momentum= is accepted
    for beta (the same meaning: the weight of the old value)."""

    def __init__(self, params, lr=1e-3, beta=None, weight_decay=0.0, momentum_init="auto", *, momentum=None):
        if beta is not None and momentum is not None:
            raise TypeError("signopt: give beta= or momentum=, not both")
        beta = 0.9 if beta is None and momentum is None else (beta if beta is not None else momentum)
        super().__init__(params, "signum", lr=lr, beta=beta, weight_decay=weight_decay, momentum_init=momentum_init)


class SignumNesterov(Optimizer):
    """seed 001 eq. (4): the gradient is taken at y = x + alpha (x - x_prev) (alpha None: beta / (1 - beta)). The
    model's parameters hold y between steps, the iterate x lives in state['x']: so the ordinary loop (forward,
    backward, step) takes each gradient where the method asks. finalize() puts x back into the parameters."""

    def __init__(self, params, lr=1e-3, beta=0.9, alpha=None, weight_decay=0.0, momentum_init="auto", *,
                 momentum=None):
        if momentum is not None:
            beta = momentum
        super().__init__(params, "signum-nesterov", lr=lr, beta=beta, alpha=alpha, weight_decay=weight_decay,
                         momentum_init=momentum_init)

    def _init_state(self, p, st):
        super()._init_state(p, st)
        st["x"] = p.detach().clone(memory_format=torch.contiguous_format)

    def _x_of(self, p, st):
        return st["x"]

    def _after(self, cfg, t, params, states):
        n = len(params)
        sizes = (_SZ * n)(*[p.numel() for p in params])
        x = (_VP * n)(*[st["x"].data_ptr() for st in states])
        prev = (_VP * n)(*[st["x_prev"].data_ptr() for st in states])
        y = (_VP * n)(*[p.data_ptr() for p in params])
        if not _lib.check(_lib.grad_point_tensors(ctypes.byref(cfg), t, n, sizes, x, prev, y)):
            with torch.no_grad():
                for p, st in zip(params, states):
                    p.copy_(st["x"])

    @torch.no_grad()
    def finalize(self):
        """Copy the iterate x into the parameters (for evaluation or saving the model)."""
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                if "x" in st:
                    p.copy_(st["x"])


class EFSignSGD(Optimizer):
    """Error-feedback signSGD (Karimireddy et al. 2019; seed 004 eq. 12), scaled by ||p||_1 / size per tensor."""

    def __init__(self, params, lr=1e-3, weight_decay=0.0):
        super().__init__(params, "ef-signsgd", lr=lr, weight_decay=weight_decay)


class ScaledSignSGD(Optimizer):
    """Scaled signSGD (seed 004 Alg 1/2): x <- x - lr ||g||_1 sign(g), the norm over all tensors of the group."""

    def __init__(self, params, lr=1e-3):
        super().__init__(params, "scaled-signsgd", lr=lr)


class Lion(Optimizer):
    """Lion (Chen et al. 2023): c = beta m + (1 - beta) g, x <- x - lr (sign(c) + weight_decay x),
    m <- beta2 m + (1 - beta2) g; betas=(beta, beta2) as lion-pytorch (default (0.9, 0.99))."""

    def __init__(self, params, lr=1e-4, betas=None, weight_decay=0.0, *, beta=None, beta2=None):
        beta, beta2 = _merge_betas(betas, beta, beta2, (0.9, 0.99))
        super().__init__(params, "lion", lr=lr, beta=beta, beta2=beta2, weight_decay=weight_decay)
