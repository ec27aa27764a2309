"""Binary search on sorted index arrays, shared by the run loop and its helpers."""

from __future__ import annotations

from numba import njit
from snnsim.kernels.jit_options import JIT

__all__ = ["search_sorted"]


@njit(**JIT)
def search_sorted(a, value, lo, hi):
    """First index ``i`` in ``[lo, hi)`` with ``a[i] >= value`` (``a`` sorted ascending)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo
