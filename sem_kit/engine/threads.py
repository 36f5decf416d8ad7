"""BLAS limited to one thread: the one guard every fit and refit runs under.

The matrices of a survey model are small (tens to a few hundred rows) and the
work is many small products: waking a second OpenBLAS thread for each product
costs more than it saves, and far more when another process keeps the second
core busy (a FIML fit of the nine-factor model took 3.7 s with one thread and
75 s with two on a busy two-core machine; a bootstrap refit about five times
longer). Parallelism comes from the bootstrap's worker processes instead.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TypeVar

__all__ = ["one_blas_thread", "single_blas_thread"]

_CONTROLLER: list = []
_F = TypeVar("_F", bound=Callable)


def one_blas_thread() -> contextlib.AbstractContextManager:
    """A context manager under which BLAS uses one thread (a no-op without threadpoolctl)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    if _CONTROLLER[0] is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def single_blas_thread(func: _F) -> _F:
    """Decorator: run ``func`` under :func:`one_blas_thread`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
