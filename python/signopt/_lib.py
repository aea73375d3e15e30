"""_lib.py — finding libsignopt.so and declaring what the package calls in it (ctypes).

The library is looked for, in order: the file named by $SIGNOPT_LIBRARY; libsignopt.so next to this package
(a copy placed there); the build folder of the checkout this package sits in (python/signopt -> build/); the lib
folder of the prefix it was installed into (PREFIX/lib/python3.X/dist-packages/signopt -> PREFIX/lib); the system's
library path. A library that is missing, or of another minor version, or whose structs differ in size from the
ones mirrored here, is refused with an ImportError that says which file and why.
"""
import ctypes
import ctypes.util
import os

#: The version of the library this package was written for (MAJOR.MINOR must match).
API_VERSION = "0.2"

SO_OK = 0
_CODES = {-1: "SO_EINVAL", -2: "SO_ENOMEM", -3: "SO_EIO", -4: "SO_EFORMAT", -5: "SO_ENUMERIC", -6: "SO_ECOMM",
          -7: "SO_EUNSUPPORTED"}


class SignoptError(RuntimeError):
    """A call into libsignopt failed; the message is the library's (so_errmsg), .code its so_status."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.code_name = _CODES.get(code, str(code))


def _candidates():
    env = os.environ.get("SIGNOPT_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    soname = "libsignopt.so." + API_VERSION
    yield os.path.join(here, soname)
    yield os.path.join(here, "libsignopt.so")
    yield os.path.normpath(os.path.join(here, "..", "..", "build", soname))
    yield os.path.normpath(os.path.join(here, "..", "..", "..", soname))
    found = ctypes.util.find_library("signopt")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            raise ImportError(f"signopt: cannot load {path}: {e}") from None
    raise ImportError("signopt: libsignopt.so not found (run `make` in the checkout, or set SIGNOPT_LIBRARY to the "
                      "library's path); looked at: " + ", ".join(tried))


lib, path = _load()


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


c_double, c_int, c_long, c_size_t, c_void_p, c_char_p = (ctypes.c_double, ctypes.c_int, ctypes.c_long,
                                                         ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p)
c_uint32, c_uint64 = ctypes.c_uint32, ctypes.c_uint64
P = ctypes.POINTER

# ---- the mirrored structs (signopt/optim.h, dist.h, problem.h) ----


class Schedule(ctypes.Structure):
    _fields_ = [("kind", c_int), ("factor", c_double), ("c", c_double), ("milestones", c_long * 16),
                ("n_milestones", c_int), ("warmup", c_long), ("then_cosine", c_int), ("total_steps", c_long)]


class OptimConfig(ctypes.Structure):
    _fields_ = [("algo", c_char_p), ("lr", c_double), ("beta", c_double), ("beta2", c_double), ("eps", c_double),
                ("weight_decay", c_double), ("nesterov", c_int), ("momentum_init", c_int), ("alpha", c_double),
                ("schedule", Schedule), ("lr_vec", P(ctypes.c_float))]


class ClusterConfig(ctypes.Structure):
    _fields_ = [("optim", OptimConfig), ("R", c_double), ("local_steps", c_int), ("local_lr", c_double),
                ("ties", c_int), ("byzantine", c_int), ("byzantine_random", c_int), ("dropout", c_double),
                ("pattern", c_int), ("threads", c_int), ("seed", c_uint64), ("fp32_allreduce", c_int),
                ("zero_vote", c_int)]


class GradRequest(ctypes.Structure):
    _fields_ = [("worker", c_int), ("step", c_long), ("sub", c_int), ("seed", c_uint64)]


class AlgoInfo(ctypes.Structure):
    _fields_ = [("id", c_char_p), ("kind", c_int), ("state_floats", c_int), ("uplink", c_int), ("downlink", c_int),
                ("norm_channel", c_int), ("momentum_init", c_int), ("source", c_char_p), ("description", c_char_p)]


# int (*op)(so_transport *t, ...) for so_transport_ops
GATHER = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_size_t, c_int)
SCATTER = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_size_t)
BCAST = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
SUM_ORDERED = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_int, c_size_t, c_int)
ALLREDUCE = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
DESTROY = ctypes.CFUNCTYPE(None, c_void_p)
ALLTOALL = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_size_t)


class TransportOps(ctypes.Structure):
    _fields_ = [("gather", GATHER), ("scatter", SCATTER), ("bcast", BCAST), ("sum_ordered", SUM_ORDERED),
                ("allreduce_sum", ALLREDUCE), ("destroy", DESTROY), ("alltoall", ALLTOALL)]


errmsg = _fn("so_errmsg", c_char_p)
errcode = _fn("so_errcode", c_int)
version = _fn("so_version", c_char_p)
sizeof = _fn("so_sizeof", c_size_t, c_char_p)
so_error = _fn("so_error", c_int, c_int, c_char_p, c_char_p)

_have = version().decode()
if ".".join(_have.split(".")[:2]) != API_VERSION:
    raise ImportError(f"signopt: {path} is libsignopt {_have}; this package needs {API_VERSION}.x "
                      "(rebuild with `make`, or point SIGNOPT_LIBRARY at the matching library)")
for _name, _cls in [("so_schedule", Schedule), ("so_optim_config", OptimConfig), ("so_cluster_config", ClusterConfig),
                    ("so_grad_request", GradRequest), ("so_transport_ops", TransportOps),
                    ("so_algo_info", AlgoInfo)]:
    if sizeof(_name.encode()) != ctypes.sizeof(_cls):
        raise ImportError(f"signopt: {path}: struct {_name} has {sizeof(_name.encode())} bytes, this package "
                          f"expects {ctypes.sizeof(_cls)} (library and package of different builds)")

optim_config_default = _fn("so_optim_config_default", None, P(OptimConfig))
cluster_config_default = _fn("so_cluster_config_default", None, P(ClusterConfig))
schedule_parse = _fn("so_schedule_parse", c_int, P(Schedule), c_char_p)
schedule_lr = _fn("so_schedule_lr", c_double, P(Schedule), c_double, c_long)
step_tensors = _fn("so_optim_step_tensors", c_int, P(OptimConfig), c_long, c_size_t, c_void_p, c_void_p, c_void_p,
                   c_void_p, c_void_p)
grad_point_tensors = _fn("so_optim_grad_point_tensors", c_int, P(OptimConfig), c_long, c_size_t, c_void_p, c_void_p,
                         c_void_p, c_void_p)
algo_count = _fn("so_algo_count", c_size_t)
algo_at = _fn("so_algo_at", P(AlgoInfo), c_size_t)
algo_find = _fn("so_algo_find", P(AlgoInfo), c_char_p)
transport_local = _fn("so_transport_local", c_void_p, c_int)
transport_create = _fn("so_transport_create", c_void_p, P(TransportOps), c_void_p, c_int, c_int, c_int, c_int)
transport_impl = _fn("so_transport_impl", c_void_p, c_void_p)
transport_destroy = _fn("so_transport_destroy", None, c_void_p)
dist_optim_create = _fn("so_dist_optim_create", c_void_p, P(ClusterConfig), c_size_t, c_void_p, c_size_t, c_void_p)
dist_optim_destroy = _fn("so_dist_optim_destroy", None, c_void_p)
dist_optim_step = _fn("so_dist_optim_step", c_int, c_void_p, c_void_p, c_void_p)
dist_optim_round = _fn("so_dist_optim_round", c_long, c_void_p)
dist_optim_bits = _fn("so_dist_optim_bits", None, c_void_p, P(c_uint64), P(c_uint64))
dist_optim_state_size = _fn("so_dist_optim_state_size", c_size_t, c_void_p)
dist_optim_save = _fn("so_dist_optim_save", c_int, c_void_p, c_void_p, c_size_t)
dist_optim_load = _fn("so_dist_optim_load", c_int, c_void_p, c_void_p, c_size_t)
blas_set_threads = _fn("so_blas_set_threads", c_int, c_int)


def check(rc):
    """Raise SignoptError with the library's message when rc is not SO_OK; return rc otherwise."""
    if rc < 0:
        raise SignoptError(rc, errmsg().decode(errors="replace"))
    return rc


def check_ptr(ptr):
    """A constructor's result: the pointer, or SignoptError with the library's message."""
    if not ptr:
        raise SignoptError(errcode(), errmsg().decode(errors="replace"))
    return ptr


def report(code, message):
    """From inside a callback: set the library's error message; returns code for the callback to return."""
    return so_error(code, b"%s", str(message).encode(errors="replace")[:480])
