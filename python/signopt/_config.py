"""_config.py — hyperparameters (by their C names) into a so_optim_config, checked the way the library checks them."""
import ctypes
import math

from . import _lib

#: so_momentum_init by name.
MOMENTUM_INIT = {"auto": -1, "zero": 0, "first-grad": 1}
#: The hyperparameters of so_optim_config, by their C names, and what the package accepts for each.
HYPER = ("lr", "beta", "beta2", "eps", "weight_decay", "nesterov", "momentum_init", "alpha", "schedule",
         "total_steps")


def algo_info(algo):
    """The registry's row of a single-node id (signopt/algos.h), or ValueError naming the ids."""
    row = _lib.algo_find(algo.encode()) if isinstance(algo, str) else None
    if not row or row.contents.kind != 0:
        singles = [i for i in algos() if i["kind"] == "single"]
        raise ValueError(f"signopt: unknown single-node algorithm {algo!r}; expected one of "
                         + ", ".join(i["id"] for i in singles))
    return row.contents


def algos():
    """Every id of the registry: dicts with id, kind ('single' or 'dist'), state_floats, source, description."""
    out = []
    for i in range(_lib.algo_count()):
        a = _lib.algo_at(i).contents
        out.append({"id": a.id.decode(), "kind": "single" if a.kind == 0 else "dist",
                    "state_floats": a.state_floats, "source": a.source.decode(),
                    "description": a.description.decode()})
    return out


def make_config(algo, hyper):
    """A so_optim_config for algo with the given hyperparameters (C names); unknown names raise TypeError, values
    the library would refuse raise ValueError with its message (checked by a zero-tensor step)."""
    for name in hyper:
        if name not in HYPER:
            raise TypeError(f"signopt: {algo}: unknown hyperparameter {name!r} (expected {', '.join(HYPER)})")
    cfg = _lib.OptimConfig()
    _lib.optim_config_default(ctypes.byref(cfg))
    keep = algo.encode()
    cfg.algo = keep
    set_values(cfg, hyper)
    rc = _lib.step_tensors(ctypes.byref(cfg), 0, 0, None, None, None, None, None)
    if rc < 0:
        raise ValueError(_lib.errmsg().decode())
    return cfg, keep


def set_values(cfg, hyper):
    """Write hyperparameters (C names) into cfg; types and finiteness checked here, ranges by the library."""
    for name in ("lr", "beta", "beta2", "eps", "weight_decay"):
        if name in hyper and hyper[name] is not None:
            v = hyper[name]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise ValueError(f"signopt: {name} must be a finite number, got {v!r}")
            setattr(cfg, name, float(v))
    if "nesterov" in hyper:
        cfg.nesterov = 1 if hyper["nesterov"] else 0
    if "momentum_init" in hyper and hyper["momentum_init"] is not None:
        v = hyper["momentum_init"]
        if v not in MOMENTUM_INIT:
            raise ValueError(f"signopt: momentum_init must be one of {', '.join(MOMENTUM_INIT)}, got {v!r}")
        cfg.momentum_init = MOMENTUM_INIT[v]
    if "alpha" in hyper:
        v = hyper["alpha"]
        cfg.alpha = -1.0 if v is None else float(v)
    if "schedule" in hyper and hyper["schedule"] is not None:
        text = str(hyper["schedule"])
        if _lib.schedule_parse(ctypes.byref(cfg.schedule), text.encode()) < 0:
            raise ValueError(f"signopt: schedule: {_lib.errmsg().decode()}")
    if "total_steps" in hyper and hyper["total_steps"] is not None:
        cfg.schedule.total_steps = int(hyper["total_steps"])
