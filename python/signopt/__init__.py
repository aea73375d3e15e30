"""signopt — sign-based stochastic optimization (signSGD, Signum, Lion, scaled signSGD, error feedback, and 1-bit
majority vote for many workers) with the work done by libsignopt, the C library.

    import signopt                       # NumPy level: signopt.Optimizer over float32 arrays
    import signopt.torch                 # torch.optim classes: Signum, Lion, SignSGD, ..., SGD, Adam, AdamW
    import signopt.ddp                   # 1-bit majority vote as a DistributedDataParallel communication hook

docs/python.md in the repository is the guide.
"""
from . import _lib
from ._config import algos
from ._lib import SignoptError
from .optim import Optimizer

__version__ = _lib.API_VERSION + ".0"
#: The libsignopt this package loaded, and its version.
library_path = _lib.path
library_version = _lib.version().decode()


def set_blas_threads(n):
    """OpenBLAS's thread count for the library's built-in models (a process-wide setting the library never
    changes by itself; 1 gives the same bits whatever the thread count)."""
    _lib.check(_lib.blas_set_threads(int(n)))


__all__ = ["Optimizer", "SignoptError", "algos", "set_blas_threads", "library_path", "library_version"]
