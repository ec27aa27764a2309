"""Machine-limit microbenchmarks: streaming bandwidth and scatter-add throughput (Numba).

These give the ceilings a simulator core is measured against on the machine at hand:

* :func:`stream_bandwidth`: STREAM-like copy (``b = a``, 16 B per element), triad
  (``a = b + s c``, 24 B) and read (``sum(a)``, 8 B) on large float64 arrays, on 1 thread and on
  all threads (``numba.prange``). Best of ``repeats``; GB/s = 10^9 B/s, counting only the bytes
  the kernel names (no write-allocate traffic).
* :func:`scatter_add`: ``buf[slot, target] += w`` into a float64 ring buffer of
  ``n_slots x n_targets`` (the shape of a delay ring), for random-uniform events and for
  CSR-like rows (``row_length`` sorted targets per presynaptic spike, one slot per spike), on 1
  thread and on ``threads`` threads with target-partitioned work: thread ``q`` only ever writes
  targets in its own contiguous range, so no atomics are needed.
* :func:`machine_limits`: both, at the default sizes (a few seconds in all).

All kernels are ``@numba.njit(cache=True)``; the first call of a session compiles them (timed
apart and never counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numba
import numpy as np

__all__ = ["machine_limits", "scatter_add", "stream_bandwidth"]


# --------------------------------------------------------------------------- streaming kernels
@numba.njit(cache=True)
def _copy_1t(a: np.ndarray, b: np.ndarray) -> None:
    for i in range(a.shape[0]):
        b[i] = a[i]


@numba.njit(cache=True, parallel=True)
def _copy_mt(a: np.ndarray, b: np.ndarray) -> None:
    for i in numba.prange(a.shape[0]):
        b[i] = a[i]


@numba.njit(cache=True)
def _triad_1t(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float) -> None:
    for i in range(a.shape[0]):
        a[i] = b[i] + s * c[i]


@numba.njit(cache=True, parallel=True)
def _triad_mt(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float) -> None:
    for i in numba.prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@numba.njit(cache=True)
def _read_1t(a: np.ndarray) -> float:
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i]
    return acc


@numba.njit(cache=True, parallel=True)
def _read_mt(a: np.ndarray) -> float:
    acc = 0.0
    for i in numba.prange(a.shape[0]):
        acc += a[i]
    return acc


# --------------------------------------------------------------------------- scatter kernels
@numba.njit(cache=True)
def _scatter_uniform_1t(buf: np.ndarray, flat_idx: np.ndarray) -> None:
    for e in range(flat_idx.shape[0]):
        buf[flat_idx[e]] += 1.0


@numba.njit(cache=True, parallel=True)
def _scatter_uniform_mt(buf: np.ndarray, flat_idx: np.ndarray, part_ptr: np.ndarray) -> None:
    # flat_idx is grouped by target partition: part q owns flat_idx[part_ptr[q]:part_ptr[q+1]].
    for q in numba.prange(part_ptr.shape[0] - 1):
        for e in range(part_ptr[q], part_ptr[q + 1]):
            buf[flat_idx[e]] += 1.0


@numba.njit(cache=True)
def _scatter_csr_1t(
    buf: np.ndarray,
    indptr: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    spikes: np.ndarray,
    n_targets: int,
    n_slots: int,
) -> None:
    for k in range(spikes.shape[0]):
        row = spikes[k]
        base = (k % n_slots) * n_targets
        for p in range(indptr[row], indptr[row + 1]):
            buf[base + targets[p]] += weights[p]


@numba.njit(cache=True, parallel=True)
def _scatter_csr_mt(
    buf: np.ndarray,
    indptr: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    spikes: np.ndarray,
    n_targets: int,
    n_slots: int,
    bounds: np.ndarray,
) -> None:
    # Part q writes only targets in [bounds[q], bounds[q+1]); rows are sorted, so its share of a
    # row is one contiguous run found by binary search.
    for q in numba.prange(bounds.shape[0] - 1):
        lo = bounds[q]
        hi = bounds[q + 1]
        for k in range(spikes.shape[0]):
            row = spikes[k]
            base = (k % n_slots) * n_targets
            start = indptr[row]
            stop = indptr[row + 1]
            row_targets = targets[start:stop]
            p0 = start + np.searchsorted(row_targets, lo)
            p1 = start + np.searchsorted(row_targets, hi)
            for p in range(p0, p1):
                buf[base + targets[p]] += weights[p]


# --------------------------------------------------------------------------- helpers
def _best_time(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up: compiles on first use, faults pages in
    best = np.inf
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def _start_threads() -> None:
    """Start Numba's pool as snnsim does (``workqueue`` if NEST's libgomp is already loaded)."""
    try:
        from snnsim.kernels.jit_options import start_threads
    except ImportError:  # pragma: no cover - snnsim not importable
        return
    start_threads()


def _resolve_threads(threads: int | None) -> int:
    _start_threads()
    limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    n = limit if threads is None else int(threads)
    if not 1 <= n <= limit:
        raise ValueError(
            f"threads={threads}: must be in [1, {limit}] (numba.config.NUMBA_NUM_THREADS)"
        )
    return n


def stream_bandwidth(
    size_mib: float = 256.0, *, threads: int | None = None, repeats: int = 3
) -> dict[str, float]:
    """Measure streaming memory bandwidth with STREAM-like kernels.

    Parameters
    ----------
    size_mib : float
        Size of each float64 array (MiB); three arrays are allocated. Use well above the last
        level cache (the default 256 MiB) to measure DRAM bandwidth.
    threads : int, optional
        Threads for the parallel variants (default: all Numba threads).
    repeats : int
        Timed repetitions per kernel after one warm-up; the best is reported.

    Returns
    -------
    dict
        ``copy_gbs_1t``, ``triad_gbs_1t``, ``read_gbs_1t``, ``copy_gbs_mt``, ``triad_gbs_mt``,
        ``read_gbs_mt`` (GB/s, 10^9 B/s), ``threads`` and ``size_mib``.
    """
    if size_mib <= 0:
        raise ValueError(f"stream_bandwidth(size_mib={size_mib}): must be > 0")
    nt = _resolve_threads(threads)
    n = max(1, int(size_mib * 2**20) // 8)
    a = np.full(n, 1.0)
    b = np.full(n, 2.0)
    c = np.full(n, 3.0)
    nbytes = 8.0 * n
    out: dict[str, float] = {"threads": float(nt), "size_mib": float(size_mib)}
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(nt)
        cases: list[tuple[str, Callable[[], Any], Callable[[], Any], float]] = [
            ("copy", lambda: _copy_1t(a, b), lambda: _copy_mt(a, b), 2 * nbytes),
            ("triad", lambda: _triad_1t(a, b, c, 3.0), lambda: _triad_mt(a, b, c, 3.0), 3 * nbytes),
            ("read", lambda: _read_1t(a), lambda: _read_mt(a), nbytes),
        ]
        for name, one, many, moved in cases:
            out[f"{name}_gbs_1t"] = moved / _best_time(one, repeats) / 1e9
            out[f"{name}_gbs_mt"] = moved / _best_time(many, repeats) / 1e9
    finally:
        numba.set_num_threads(previous)
    return out


def scatter_add(
    n_targets: int,
    n_slots: int = 16,
    *,
    n_events: int = 1 << 23,
    row_length: int = 80,
    n_rows: int | None = None,
    threads: int | None = None,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, float]:
    """Measure scatter-add throughput into a float64 ring buffer of ``n_slots x n_targets``.

    Parameters
    ----------
    n_targets : int
        Number of targets (buffer columns).
    n_slots : int
        Number of delay slots (buffer rows).
    n_events : int
        Events per timed pass (uniform case; the CSR case uses ``n_events // row_length``
        spikes).
    row_length : int
        Targets per CSR row (drawn uniformly with replacement, then sorted).
    n_rows : int, optional
        Number of CSR rows (presynaptic neurons); default ``min(n_targets, 65536)``.
    threads : int, optional
        Threads (= target partitions) for the parallel variants; default all Numba threads.
    repeats : int
        Timed repetitions after one warm-up; the best is reported.
    seed : int
        Seed of the random events.

    Returns
    -------
    dict
        ``uniform_events_per_s_1t``, ``csr_events_per_s_1t``, ``uniform_events_per_s_mt``,
        ``csr_events_per_s_mt`` (events/s), ``buffer_mib``, ``n_targets``, ``n_slots`` and
        ``threads``.
    """
    if n_targets < 1 or n_slots < 1 or n_events < 1:
        raise ValueError(
            f"scatter_add(n_targets={n_targets}, n_slots={n_slots}, n_events={n_events}): "
            "all must be >= 1"
        )
    if not 1 <= row_length <= n_targets:
        raise ValueError(f"scatter_add(row_length={row_length}): must be in [1, {n_targets}]")
    nt = _resolve_threads(threads)
    rng = np.random.default_rng(seed)
    buf = np.zeros(n_slots * n_targets)

    # Uniform: random (slot, target) per event; for the parallel run grouped by target part.
    flat = rng.integers(0, n_slots * n_targets, size=n_events, dtype=np.int64)
    bounds = np.linspace(0, n_targets, nt + 1).round().astype(np.int64)
    part = np.searchsorted(bounds, flat % n_targets, side="right") - 1
    order = np.argsort(part, kind="stable")
    flat_by_part = flat[order]
    part_ptr = np.searchsorted(part[order], np.arange(nt + 1)).astype(np.int64)

    # CSR: rows of row_length sorted random targets, one weight each.
    rows = min(n_targets, 65536) if n_rows is None else int(n_rows)
    tgt = rng.integers(0, n_targets, size=(rows, row_length)).astype(np.int32)
    tgt.sort(axis=1)
    targets = tgt.ravel()
    weights = rng.random(targets.shape[0])
    indptr = np.arange(0, rows * row_length + 1, row_length, dtype=np.int64)
    spikes = rng.integers(0, rows, size=max(1, n_events // row_length), dtype=np.int64)
    csr_events = float(spikes.shape[0] * row_length)

    out: dict[str, float] = {
        "n_targets": float(n_targets),
        "n_slots": float(n_slots),
        "buffer_mib": buf.nbytes / 2**20,
        "threads": float(nt),
    }
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(nt)
        t = _best_time(lambda: _scatter_uniform_1t(buf, flat), repeats)
        out["uniform_events_per_s_1t"] = n_events / t
        t = _best_time(lambda: _scatter_uniform_mt(buf, flat_by_part, part_ptr), repeats)
        out["uniform_events_per_s_mt"] = n_events / t
        args = (buf, indptr, targets, weights, spikes, n_targets, n_slots)
        t = _best_time(lambda: _scatter_csr_1t(*args), repeats)
        out["csr_events_per_s_1t"] = csr_events / t
        t = _best_time(lambda: _scatter_csr_mt(*args, bounds), repeats)
        out["csr_events_per_s_mt"] = csr_events / t
    finally:
        numba.set_num_threads(previous)
    return out


def machine_limits(
    n_targets: Sequence[int] = (4000, 256000),
    n_slots: int = 16,
    *,
    size_mib: float = 256.0,
    threads: int | None = None,
    repeats: int = 3,
    n_events: int = 1 << 23,
) -> dict[str, Any]:
    """Run :func:`stream_bandwidth` and :func:`scatter_add` for each buffer size.

    Parameters
    ----------
    n_targets : sequence of int
        Buffer widths for :func:`scatter_add`.
    n_slots : int
        Delay slots of the ring buffer.
    size_mib : float
        Array size for :func:`stream_bandwidth` (MiB).
    threads : int, optional
        Threads for the parallel variants; default all Numba threads.
    repeats : int
        Timed repetitions per kernel.
    n_events : int
        Events per timed scatter pass.

    Returns
    -------
    dict
        ``{"stream": {...}, "scatter": [{...}, ...], "elapsed_s": float}``.
    """
    t0 = time.perf_counter()
    stream = stream_bandwidth(size_mib, threads=threads, repeats=repeats)
    scatter = [
        scatter_add(int(n), n_slots, threads=threads, repeats=repeats, n_events=n_events)
        for n in n_targets
    ]
    return {"stream": stream, "scatter": scatter, "elapsed_s": time.perf_counter() - t0}
