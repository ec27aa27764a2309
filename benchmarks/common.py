"""Scaffolding shared by the benchmark runners: child processes, results, spike summaries.

Every simulation of the suite runs in a fresh Python process so that its peak RSS, imports and
thread pools are its own. The protocol, used by :mod:`benchmarks.snnsim_runner` and
:mod:`benchmarks.peers` alike:

1. the parent writes ``job.json``: ``runner`` (name), ``opts`` (keyword arguments of the
   runner), the network as ``net_path`` (a folder written by
   :meth:`~benchmarks.networks.NetworkArrays.save`; the child memory-maps it) or ``net_spec``
   (rebuilt with :func:`~benchmarks.networks.network_from_spec`), ``result_path`` and
   ``spikes_path``;
2. it runs ``python -m <module> job.json`` (:func:`run_child`); the module's ``__main__`` calls
   :func:`child_main` with its runner table;
3. the child writes the runner's result as JSON and, with ``return_spikes=True``, the spike
   arrays as ``.npz``; :func:`run_child` reads both back.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from benchmarks.networks import NetworkArrays

__all__ = [
    "EXTRA_HINT",
    "REPO_ROOT",
    "ChildError",
    "base_result",
    "child_main",
    "current_rss_mb",
    "peak_rss_mb",
    "run_child",
    "spike_summary",
]

#: What to install for the side-by-side comparison.
EXTRA_HINT = "pip install snnsim[bench]"
#: Root of the source checkout (the folder holding ``benchmarks/``).
REPO_ROOT = Path(__file__).resolve().parents[1]


class ChildError(RuntimeError):
    """A benchmark child process failed; ``reason`` is a one-line summary."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def peak_rss_mb() -> float:
    """Peak RSS of this process (MiB); Linux reports ``ru_maxrss`` in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Return the current RSS of this process (MiB) from ``/proc/self/statm`` (NaN if unknown)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def base_result(net: NetworkArrays, simulator: str, threads: int) -> dict[str, Any]:
    """Keys every runner's result starts with."""
    return {
        "simulator": simulator,
        "threads": int(threads),
        "network": net.name,
        "n": net.n,
        "n_synapses": net.n_synapses,
        "duration_ms": net.duration,
        "dt_ms": net.dt,
        "loadavg_1m": os.getloadavg()[0],
    }


def spike_summary(net: NetworkArrays, times_ms: np.ndarray, ids: np.ndarray) -> dict[str, Any]:
    """Per-population spike counts and a fingerprint of the spike train.

    Parameters
    ----------
    net : NetworkArrays
        The simulated network (its ``populations`` and ``transient_ms``).
    times_ms : numpy.ndarray
        Spike times (ms). A simulator that stamps a spike at the start of its step (Brian2)
        differs by one ``dt`` from one that stamps the end (NEST, snnsim); that shifts at most
        the spikes of one step across the ``transient_ms`` boundary.
    ids : numpy.ndarray
        Neuron indices ``0 .. n-1``.

    Returns
    -------
    dict
        ``pop_spikes`` (list of int: all spikes per population), ``pop_spikes_window`` (spikes
        at ``t >= transient_ms``), ``rate_window_ms`` (``[transient_ms, duration]``, or
        ``[0, duration]`` when the run is not longer than the transient) and
        ``spike_hash`` (hex digest of the spikes as (step, id) pairs sorted by step then id,
        steps counted from the end-of-step stamp: equal hashes mean identical spike trains).
    """
    times_ms = np.asarray(times_ms, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    starts = np.array([p.start for p in net.populations], dtype=np.int64)
    pop = np.searchsorted(starts, ids, side="right") - 1
    k = len(net.populations)
    t0 = float(net.transient_ms) if net.transient_ms < net.duration else 0.0
    window = times_ms >= t0 - 1e-9
    steps = np.rint(times_ms / net.dt).astype(np.int64)
    order = np.lexsort((ids, steps))
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(steps[order]).tobytes())
    digest.update(np.ascontiguousarray(ids[order]).tobytes())
    return {
        "pop_spikes": np.bincount(pop, minlength=k).tolist(),
        "pop_spikes_window": np.bincount(pop[window], minlength=k).tolist(),
        "rate_window_ms": [t0, float(net.duration)],
        "spike_hash": digest.hexdigest(),
    }


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


def _limit_memory(limit_bytes: int | None) -> Callable[[], None] | None:
    if not limit_bytes:
        return None

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (int(limit_bytes), int(limit_bytes)))

    return apply


def _failure_reason(returncode: int, stderr: str) -> str:
    if returncode < 0:
        sig = -returncode
        hint = " (killed: out of memory?)" if sig == 9 else ""
        return f"killed by signal {sig}{hint}"
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if "MemoryError" in line or "Cannot allocate memory" in line or "bad_alloc" in line:
            return f"out of memory: {line[:160]}"
    return lines[-1][:200] if lines else f"exit code {returncode}"


def run_child(
    module: str,
    runner: str,
    net: str | os.PathLike[str] | Mapping[str, Any],
    opts: Mapping[str, Any],
    *,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    memory_limit_bytes: int | None = None,
    python: str | None = None,
) -> dict[str, Any]:
    """Run ``runner`` of ``module`` on a network in a fresh Python process.

    Parameters
    ----------
    module : str
        Module run with ``python -m`` (``"benchmarks.snnsim_runner"`` or ``"benchmarks.peers"``).
    runner : str
        Runner name understood by the module's :func:`child_main` table.
    net : path-like or mapping
        A saved network folder (:meth:`NetworkArrays.save`) or a network spec dict.
    opts : mapping
        Keyword arguments of the runner; JSON-serialisable.
    timeout : float, optional
        Seconds before the child is killed (``subprocess.TimeoutExpired`` is raised).
    env : mapping, optional
        Extra environment variables of the child (e.g. ``NUMBA_CACHE_DIR``).
    memory_limit_bytes : int, optional
        Address-space limit of the child (``RLIMIT_AS``): an allocation beyond it raises
        ``MemoryError`` in the child instead of waking the kernel's OOM killer.
    python : str, optional
        Interpreter of the child; default ``sys.executable``.

    Returns
    -------
    dict
        The runner's result, plus ``net_load_s`` (seconds to load or rebuild the network in the
        child) and, with ``return_spikes=True``, ``spike_times`` and ``spike_ids`` arrays.

    Raises
    ------
    ChildError
        If the child fails; ``reason`` summarises why (out of memory, a signal, the last line
        of its stderr) and the message holds the end of its stderr.
    """
    with tempfile.TemporaryDirectory(prefix="snnsim-bench-job-") as tmp:
        job: dict[str, Any] = {
            "runner": runner,
            "opts": dict(opts),
            "result_path": os.path.join(tmp, "result.json"),
            "spikes_path": os.path.join(tmp, "spikes.npz"),
        }
        if isinstance(net, Mapping):
            job["net_spec"] = dict(net)
        else:
            job["net_path"] = str(net)
        job_path = os.path.join(tmp, "job.json")
        with open(job_path, "w") as f:
            json.dump(job, f)
        child_env = dict(os.environ)
        child_env.update(env or {})
        child_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")])
        )
        child_env.setdefault("PYNEST_QUIET", "1")
        proc = subprocess.run(
            [python or sys.executable, "-m", module, job_path],
            cwd=REPO_ROOT,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_limit_memory(memory_limit_bytes),
            check=False,
        )
        if proc.returncode != 0 or not os.path.exists(job["result_path"]):
            reason = _failure_reason(proc.returncode, proc.stderr)
            raise ChildError(
                f"{module} {runner} failed ({reason}); end of its stderr:\n{proc.stderr[-4000:]}",
                reason,
            )
        with open(job["result_path"]) as f:
            result: dict[str, Any] = json.load(f)
        if os.path.exists(job["spikes_path"]):
            with np.load(job["spikes_path"]) as data:
                result["spike_times"] = data["spike_times"]
                result["spike_ids"] = data["spike_ids"]
    return result


def child_main(argv: list[str], runners: Mapping[str, Callable[..., dict[str, Any]]]) -> int:
    """Entry point of a child process: run the job file ``argv[1]`` (see module docstring).

    A runner may call :meth:`NetworkArrays.release_synapses` once the simulator holds its own
    copy of the synapses, so that the child's peak RSS is the simulator's alone.
    """
    from benchmarks.networks import NetworkArrays, network_from_spec

    if len(argv) != 2:
        sys.stderr.write(f"usage: python -m {argv[0] if argv else 'MODULE'} JOB.json\n")
        return 2
    with open(argv[1]) as f:
        job = json.load(f)
    runner = runners.get(job["runner"])
    if runner is None:
        sys.stderr.write(f"unknown runner {job['runner']!r}; expected one of {sorted(runners)}\n")
        return 2
    t0 = time.perf_counter()
    if "net_path" in job:
        loaded = NetworkArrays.load(job["net_path"])
    else:
        loaded = network_from_spec(job["net_spec"])
    net_load_s = time.perf_counter() - t0
    result = runner(loaded, **job["opts"])
    result["net_load_s"] = net_load_s
    times = result.pop("spike_times", None)
    ids = result.pop("spike_ids", None)
    if times is not None:
        np.savez(job["spikes_path"], spike_times=times, spike_ids=ids)
    with open(job["result_path"], "w") as f:
        json.dump(_jsonable(result), f)
    return 0
