"""Side-by-side benchmark of snnsim against Brian2 and NEST on identical networks.

The harness builds every network once (:mod:`benchmarks.networks`: compact arrays of sources,
targets, weights, delays, initial potentials, drive), writes it to a folder, and every
simulator runs in its own fresh process that memory-maps those same files (so the network is
identical and peak RSS is per simulator). Repeats are interleaved round-robin across the
simulators (round ``r`` starts at simulator ``r mod k``), so slow drifts of a shared machine hit
all of them alike.

Cases (``all`` runs every one, in this order):

``cuba``
    Brette et al. (2007) CUBA as in Brian2's example: N = 4000, p = 0.02, 1 s.
``scaled``
    CUBA with fixed expected in-degree 80 at each of ``--sizes`` (default 4000 16000 64000
    256000; 1000000 can be selected).
``event``
    Event-dominated network: N = 8000, in-degree 1000, 1 ms delay, ~15 Hz (synaptic events
    outnumber neuron updates). Its synaptic events/s are also given as a fraction of the
    scatter-add ceiling measured in the same run on a ring buffer of its shape.
``sparse``
    Sparse activity (< 1 Hz) with heterogeneous delays up to 20 ms: N = 256000, in-degree 80.
``stdp``
    CUBA with STDP on the exc -> exc synapses (:mod:`benchmarks.stdp`) at N = 4000 and
    64000 (in-degree 80): NEST ``stdp_synapse``, Brian2 standalone in the form of its STDP
    example, and snnsim on the same network with every synapse static (``snnsim-static``,
    the cost of plasticity). Spike counts (10 %) and the plastic weights' mean (2 %) and sd
    (50 %) are checked against snnsim float64 1T, not per synapse (the rule's delay and pairing
    details differ between the peers, see :mod:`benchmarks.stdp`).
``microcircuit``
    Potjans & Diesmann (2014) at each of ``--scales`` (default 0.1 and 1.0; full scale is run
    by snnsim only: NEST 3.10 cannot build it on 2 threads, Brian2 would need about 24 GiB).
    Poisson background: spike counts agree statistically, not exactly.
``machine``
    Machine limits (:mod:`benchmarks.machine`): streaming bandwidth and scatter-add throughput.

Simulators (``--with``): snnsim (every ``--threads`` value, float64 and, where
``snnsim.Network`` has ``precision=``, float32) always; ``brian2`` adds Brian2
``cpp_standalone`` (1 thread without OpenMP, OpenMP for more threads) and the runtime
``cython`` target; ``nest`` adds NEST ``iaf_psc_exp`` (every ``--threads`` value). A peer is
skipped where it cannot run (NEST 3.10's limit of 134217726 connections per virtual process,
an estimated memory need above the limit), and runs ``--slow-repeats`` (1) repeats only above
N = 64000 for NEST and Brian2 cython, and for every simulator above 10^8 synapses (the
full-scale microcircuit), unless ``--allow-slow``. Every simulation process runs under an
address-space limit (``--memory-limit-gb``, default 90 % of RAM), so running out of memory
is reported as such instead of waking the kernel's OOM killer.

Cold and warm start: the first repeat of every simulator on every network starts cold
(snnsim: an empty ``NUMBA_CACHE_DIR``; Brian2 standalone: a new project folder; Brian2 cython:
an empty Cython cache); later repeats reuse that cache (warm). ``--no-cold`` runs snnsim and
cython with their usual caches.

Correctness: spike counts are printed side by side; a speed-up ratio is reported only where
both spike counts are within ``--count-tolerance`` (1 %) of the reference (snnsim float64,
1 thread); otherwise the row says "counts disagree". On the microcircuit, whose Poisson
background differs between simulators, the rule applies to the total count (tolerance
``--statistical-tolerance``, default the same 1 %) and per-population rates are printed next to
the published ones. Brian2 gets ``refractory = t_ref + dt`` so that it counts refractory steps
as NEST does (see :mod:`benchmarks.peers`): snnsim, NEST and Brian2 then give the same spikes
on the deterministic networks. Ratios are medians over rounds of the per-round run-time ratio
against Brian2 standalone and NEST at the same thread count; the issue's targets are
evaluated and printed (met / not met).

Usage::

    python benchmarks/compare.py all --out bench_out --readme README.md    # the whole suite
    python benchmarks/compare.py all --quick --out /tmp/bench_quick         # minutes
    python benchmarks/compare.py cuba --with none                           # snnsim alone
    snnsim bench scaled --sizes 4000 16000 --with brian2,nest
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.common import EXTRA_HINT, ChildError
from benchmarks.networks import NetworkArrays, network_from_spec
from benchmarks.peers import run_network_in_child
from benchmarks.stdp import COUNT_TOLERANCE as STDP_COUNT_TOLERANCE
from benchmarks.stdp import check_weights, weights_table

__all__ = ["CASES", "main", "run_in_subprocess"]

#: Largest N at which NEST and Brian2 cython run every repeat (above: ``--slow-repeats``).
SLOW_PEER_MAX_N = 64000
#: Networks with more synapses run ``--slow-repeats`` repeats for every simulator.
HUGE_SYNAPSES = 100_000_000
#: Largest N for the Brian2 runtime targets (cython; numpy: ``SLOW_PEER_MAX_N``).
CYTHON_MAX_N = 256000
#: NEST 3.10: "at most 134217726 connections supported per virtual process and synapse model".
NEST_MAX_CONNECTIONS_PER_VP = 134217726
#: Default relative spike-count difference above which no speed-up ratio is reported.
COUNT_TOLERANCE = 0.01
#: Busy cores (other processes) just before a run above which the run is marked noisy.
NOISY_BUSY_CORES = 0.3
#: README markers of the generated benchmark block.
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
_EXTRA_HINT = EXTRA_HINT


@dataclass(frozen=True)
class CaseDef:
    """A benchmark case: network builder and default sizes (N, or scale for the microcircuit)."""

    builder: str
    sizes: tuple[float, ...]
    quick_sizes: tuple[float, ...]
    size_key: str = "n"


#: Cases and their default sizes (``machine`` has none).
CASES: dict[str, CaseDef] = {
    "cuba": CaseDef("cuba", (4000,), (4000,)),
    "scaled": CaseDef("cuba_scaled", (4000, 16000, 64000, 256000), (4000, 16000)),
    "event": CaseDef("event_dominated", (8000,), (2000,)),
    "sparse": CaseDef("sparse_activity", (256000,), (32000,)),
    "stdp": CaseDef("cuba_stdp", (4000, 64000), (4000,)),
    "microcircuit": CaseDef("microcircuit", (0.1, 1.0), (0.02,), size_key="scale"),
}
CASE_NAMES = (*CASES, "machine")
_PEER_GROUPS: dict[str, list[str]] = {
    "brian2": ["brian2-standalone", "brian2-cython"],
    "nest": ["nest"],
}
_ALL_PEERS = ("brian2-standalone", "brian2-cython", "brian2-numpy", "nest")
_MODULES = {"snnsim": "benchmarks.snnsim_runner", "snnsim-static": "benchmarks.snnsim_runner"}


# --------------------------------------------------------------------------- running one job
def run_in_subprocess(
    runner_name: str,
    net: NetworkArrays | Mapping[str, Any] | str | os.PathLike[str],
    *,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    memory_limit_bytes: int | None = None,
    **opts: Any,
) -> dict[str, Any]:
    """Run one runner (``"snnsim"`` or a key of ``peers.RUNNERS``) in a fresh Python process.

    Parameters
    ----------
    runner_name : str
        ``"snnsim"``, ``"brian2-standalone"``, ``"brian2-cython"``, ``"brian2-numpy"``,
        ``"brian2-runtime"`` or ``"nest"``.
    net : NetworkArrays, dict or path-like
        A network, a saved network folder, or a network spec (see
        :func:`benchmarks.peers.run_in_subprocess`).
    timeout : float, optional
        Seconds before the child is killed (``subprocess.TimeoutExpired``).
    env : mapping, optional
        Extra environment variables of the child.
    memory_limit_bytes : int, optional
        Address-space limit of the child.
    **opts
        Keyword arguments of the runner (``threads``, ``return_spikes``, ...); JSON-serialisable.

    Returns
    -------
    dict
        The runner's result plus ``net_load_s``.

    Raises
    ------
    benchmarks.common.ChildError
        If the child fails.
    """
    module = _MODULES.get(runner_name, "benchmarks.peers")
    return run_network_in_child(
        module,
        runner_name,
        net,
        opts,
        timeout=timeout,
        env=env,
        memory_limit_bytes=memory_limit_bytes,
    )


# --------------------------------------------------------------------------- machine state
def _cpu_times() -> tuple[float, float]:
    with open("/proc/stat") as f:
        parts = [float(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0.0)
    return sum(parts), idle


def busy_cores(interval: float = 0.25) -> float:
    """Cores busy (all processes) over ``interval`` s, from ``/proc/stat``; NaN if unavailable.

    Called while the harness itself sleeps, so it measures the other processes.
    """
    try:
        t0, i0 = _cpu_times()
        time.sleep(interval)
        t1, i1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = t1 - t0
    if total <= 0:
        return 0.0
    return (1.0 - (i1 - i0) / total) * (os.cpu_count() or 1)


def cpu_model() -> str:
    """CPU model name from ``/proc/cpuinfo`` (or :func:`platform.processor`)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo(key: str) -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _pkg_version(*names: str) -> str | None:
    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def environment() -> dict[str, Any]:
    """Date, machine (cores, CPU model, memory) and versions of the packages involved."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": (_meminfo("MemTotal") or 0) / 2**30,
        "platform": platform.platform(),
        "versions": {
            "python": platform.python_version(),
            "numpy": _pkg_version("numpy"),
            "numba": _pkg_version("numba"),
            "brian2": _pkg_version("brian2", "Brian2"),
            "nest": _pkg_version("nest-simulator"),
            "snnsim": _pkg_version("snnsim"),
        },
        "loadavg_start": os.getloadavg(),
    }


# --------------------------------------------------------------------------- variants
@dataclass(frozen=True)
class Variant:
    """One simulator configuration: runner name, thread count and (snnsim) precision."""

    runner: str
    threads: int
    precision: str = "double"

    @property
    def label(self) -> str:
        """Display name, e.g. ``"snnsim 2T"``, ``"snnsim f32 1T"``."""
        if self.runner == "snnsim" and self.precision == "single":
            return f"snnsim f32 {self.threads}T"
        if self.runner == "brian2-standalone" and self.threads > 1:
            return f"brian2-standalone {self.threads}T OpenMP"
        return f"{self.runner} {self.threads}T"

    @property
    def is_reference(self) -> bool:
        """Whether this is snnsim float64 (the reference of spike counts and ratios)."""
        return self.runner == "snnsim" and self.precision == "double"


def available_peers() -> list[str]:
    """Peer groups (``"brian2"``, ``"nest"``) whose package is importable."""
    return [name for name in ("brian2", "nest") if importlib.util.find_spec(name) is not None]


def _parse_with(text: str | None) -> list[str]:
    """Expand ``--with`` into peer runner names (default: whatever is importable)."""
    groups = available_peers() if text is None else [t.strip() for t in text.split(",")]
    out: list[str] = []
    for g in groups:
        if g in ("", "none"):
            continue
        names = _PEER_GROUPS.get(g, [g] if g in _ALL_PEERS else None)
        if names is None:
            raise SystemExit(
                f"--with {g!r}: expected a comma-separated list of brian2, nest, "
                f"{', '.join(_ALL_PEERS)} or none"
            )
        for name in names:
            if name not in out:
                out.append(name)
    return out


def snnsim_precisions(requested: Sequence[str], log: Callable[[str], None]) -> list[str]:
    """Return the requested precisions this snnsim supports (logging the others)."""
    from benchmarks.snnsim_runner import supported_precisions

    supported = supported_precisions()
    out = []
    for p in requested:
        if p in supported:
            out.append(p)
        else:
            log(
                f"snnsim float32 variant skipped: snnsim.Network of this version has no "
                f"precision={p!r} parameter (supported: {', '.join(supported)})"
            )
    return out or ["double"]


def variants_for(
    peer_names: Sequence[str], threads: Sequence[int], precisions: Sequence[str] = ("double",)
) -> list[Variant]:
    """All simulator configurations for the chosen peers, thread counts and precisions."""
    out = [Variant("snnsim", t, p) for p in precisions for t in threads]
    for name in peer_names:
        if name in ("brian2-cython", "brian2-numpy"):
            out.append(Variant(name, 1))
        else:
            out.extend(Variant(name, t) for t in threads)
    return out


def estimated_peer_bytes(runner: str, n: int, n_synapses: int) -> float:
    """Rough peak memory of a peer on a network (from measurements on the project machine).

    NEST 3.10: about 30 kB per neuron with a spike recorder on every neuron plus about 50 B per
    synapse (256k CUBA: 10.3 GB; full-scale microcircuit: 14.4 GB). Brian2: about 80 B per
    synapse in the Python process that builds the network (arrays and their copies).
    """
    if runner == "nest":
        return 0.3e9 + 30e3 * n + 50.0 * n_synapses
    if runner.startswith("brian2"):
        return 0.3e9 + 80.0 * n_synapses + 200.0 * n
    return 0.0


def skip_reason(
    v: Variant, n: int, allow_slow: bool, n_synapses: int = 0, memory_limit: float = math.inf
) -> str | None:
    """Why ``v`` is not run on a network of ``n`` neurons (None: it is run)."""
    if v.runner == "brian2-numpy" and n > SLOW_PEER_MAX_N:
        return f"skipped: N > {SLOW_PEER_MAX_N}"
    if v.runner == "brian2-cython" and n > CYTHON_MAX_N:
        return f"skipped: N > {CYTHON_MAX_N}"
    if v.runner == "nest" and n_synapses / v.threads > NEST_MAX_CONNECTIONS_PER_VP:
        return (
            f"skipped: NEST 3.10 allows at most {NEST_MAX_CONNECTIONS_PER_VP} connections per "
            f"virtual process ({n_synapses} / {v.threads} threads)"
        )
    if v.runner != "snnsim":
        need = estimated_peer_bytes(v.runner, n, n_synapses)
        if need > memory_limit:
            return (
                f"skipped: needs about {need / 2**30:.0f} GiB (limit {memory_limit / 2**30:.0f} "
                "GiB)"
            )
    del allow_slow
    return None


def repeats_for(
    v: Variant, n: int, repeats: int, slow_repeats: int, allow_slow: bool, n_synapses: int = 0
) -> int:
    """Return the repeats of ``v`` on a network.

    ``slow_repeats`` for slow peers above 64000 neurons and for every simulator above
    :data:`HUGE_SYNAPSES` synapses (the full-scale microcircuit), unless ``allow_slow``.
    """
    slow = v.runner in ("nest", "brian2-cython", "brian2-numpy") and n > SLOW_PEER_MAX_N
    slow = slow or n_synapses > HUGE_SYNAPSES
    return min(repeats, slow_repeats) if slow and not allow_slow else repeats


def network_spec(case: str, size: float, duration: float, args: Any) -> dict[str, Any]:
    """Spec of the network of ``case`` at ``size`` (N, or scale for the microcircuit)."""
    if case == "cuba":
        return {"builder": "cuba", "kwargs": {"n": int(size), "duration": duration}}
    if case == "scaled":
        return {"builder": "cuba_scaled", "kwargs": {"n": int(size), "duration": duration}}
    if case == "event":
        k = min(float(getattr(args, "event_in_degree", 1000.0)), float(size))
        return {
            "builder": "event_dominated",
            "kwargs": {"n": int(size), "in_degree": k, "duration": duration},
        }
    if case == "sparse":
        return {"builder": "sparse_activity", "kwargs": {"n": int(size), "duration": duration}}
    if case == "stdp":
        return {"builder": "cuba_stdp", "kwargs": {"n": int(size), "duration": duration}}
    if case == "microcircuit":
        return {"builder": "microcircuit", "kwargs": {"scale": float(size), "duration": duration}}
    raise ValueError(f"unknown case {case!r}")


# --------------------------------------------------------------------------- measurement
@dataclass
class Cell:
    """All repeats of one variant on one network."""

    variant: Variant
    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    repeats: int = 0


def wait_idle(max_wait: float, threshold: float = 0.3) -> tuple[float, float]:
    """Wait up to ``max_wait`` s until fewer than ``threshold`` cores are busy.

    Returns
    -------
    busy : float
        Busy cores in the last sample (other processes; the harness is asleep).
    waited : float
        Seconds waited.
    """
    t0 = time.perf_counter()
    busy = busy_cores()
    while busy > threshold and time.perf_counter() - t0 < max_wait:
        busy = busy_cores(0.5)
    return busy, time.perf_counter() - t0


@dataclass
class RunContext:
    """Where one network's runs keep their caches and build folders, and their limits."""

    net_dir: Path
    work: Path
    timeout: float | None
    cold: bool
    max_wait: float = 0.0
    memory_limit: int | None = None


def _run_one(v: Variant, ctx: RunContext, round_index: int) -> dict[str, Any]:
    opts: dict[str, Any] = {"threads": v.threads}
    env: dict[str, str] = {}
    cold = round_index == 0
    tag = v.label.replace(" ", "_")
    if v.runner in ("snnsim", "snnsim-static"):
        opts["precision"] = v.precision
        if ctx.cold:
            env["NUMBA_CACHE_DIR"] = str(ctx.work / f"numba_cache_{tag}")
        else:
            cold = False
    elif v.runner == "brian2-standalone":
        opts["build_dir"] = str(ctx.work / f"brian2_project_{v.threads}T")
    elif v.runner in ("brian2-cython", "brian2-runtime"):
        if ctx.cold:
            opts["cython_cache_dir"] = str(ctx.work / "cython_cache")
        else:
            cold = False
    else:
        cold = False
    before, waited = wait_idle(ctx.max_wait)
    t0 = time.perf_counter()
    result = run_in_subprocess(
        v.runner,
        ctx.net_dir,
        timeout=ctx.timeout,
        env=env,
        memory_limit_bytes=ctx.memory_limit,
        **opts,
    )
    result["process_wall_s"] = time.perf_counter() - t0
    result["busy_cores_before"] = before
    result["waited_idle_s"] = waited
    result["loadavg_after"] = os.getloadavg()[0]
    result["cold"] = cold
    return result


def measure_network(
    ctx: RunContext,
    variants: Sequence[Variant],
    repeats: Mapping[Variant, int],
    skips: Mapping[Variant, str | None],
    log: Callable[[str], None],
) -> list[Cell]:
    """Run every variant ``repeats[v]`` times on one network, interleaved round-robin."""
    cells = [Cell(v, skipped=skips.get(v), repeats=repeats.get(v, 1)) for v in variants]
    for cell in cells:
        if cell.skipped:
            log(f"  {cell.variant.label:<30} {cell.skipped}")
    active = [c for c in cells if c.skipped is None]
    rounds = max((c.repeats for c in active), default=0)
    for r in range(rounds):
        k = len(active)
        order = [active[(r + i) % k] for i in range(k)]
        for cell in order:
            if cell.error is not None or r >= cell.repeats:
                continue
            try:
                res = _run_one(cell.variant, ctx, r)
            except ChildError as exc:
                cell.error = exc.reason
                log(f"  round {r + 1}: {cell.variant.label:<30} FAILED: {cell.error}")
                continue
            except subprocess.TimeoutExpired:
                cell.error = f"timed out after {ctx.timeout:g} s"
                log(f"  round {r + 1}: {cell.variant.label:<30} FAILED: {cell.error}")
                continue
            res["round"] = r
            cell.runs.append(res)
            log(
                f"  round {r + 1}: {cell.variant.label:<30} run {res['run_s']:8.3f} s  "
                f"spikes {res['spikes']:>9}  build {res['build_s']:6.2f} s  "
                f"compile {res['compile_s']:6.2f} s{' (cold)' if res['cold'] else ''}  "
                f"RSS {res['peak_rss_mb']:7.0f} MiB  busy {res['busy_cores_before']:.2f}"
            )
    return cells


def _per_round_ratio(cell: Cell, ref: Cell | None) -> float | None:
    """Median over common rounds of ``cell`` run time / ``ref`` run time."""
    if ref is None or not ref.runs or not cell.runs:
        return None
    ref_by_round = {r["round"]: r["run_s"] for r in ref.runs}
    ratios = [
        r["run_s"] / ref_by_round[r["round"]]
        for r in cell.runs
        if ref_by_round.get(r["round"], 0) > 0
    ]
    return statistics.median(ratios) if ratios else None


def stdp_checks(rows: list[dict[str, Any]], cells: Sequence[Cell]) -> None:
    """STDP case: weight check, static rows out of the count rule, cost over static."""
    for cell, row in zip(cells, rows, strict=True):
        if cell.runs and cell.runs[0].get("weights"):
            row["weights"] = cell.runs[0]["weights"]
    check_weights(rows)
    cell_of = {c.variant: c for c in cells}
    for cell, row in zip(cells, rows, strict=True):
        v = cell.variant
        if v.runner == "snnsim-static":
            row.pop("counts_agree", None)
            row.pop("spike_diff_vs_ref", None)
            row["ratio_vs_snnsim"] = None
            row["ratio_vs_snnsim_note"] = "static network"
        elif v.runner == "snnsim" and cell.runs:
            static = cell_of.get(Variant("snnsim-static", v.threads))
            if v.precision == "double" and static is not None:
                row["cost_vs_static"] = _per_round_ratio(cell, static)


def _median(values: Sequence[float]) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return statistics.median(vals) if vals else None


def _pop_rates(
    runs: Sequence[dict[str, Any]], populations: Sequence[dict[str, Any]]
) -> list[float] | None:
    """Mean over runs of each population's rate (Hz) in the rate window."""
    if not runs or "pop_spikes_window" not in runs[0] or not populations:
        return None
    sizes = np.array([p["stop"] - p["start"] for p in populations], dtype=np.float64)
    rates = []
    for r in runs:
        t0, t1 = r["rate_window_ms"]
        span = max(t1 - t0, 1e-9) * 1e-3
        rates.append(np.asarray(r["pop_spikes_window"], dtype=np.float64) / sizes / span)
    return [float(x) for x in np.mean(rates, axis=0)]


def summarize(
    spec: dict[str, Any],
    cells: Sequence[Cell],
    *,
    info: Mapping[str, Any] | None = None,
    tolerance: float = COUNT_TOLERANCE,
    statistical_tolerance: float | None = None,
) -> list[dict[str, Any]]:
    """One summary row per variant (see the module docstring and :func:`markdown_table`).

    ``statistical_tolerance`` (default: ``tolerance``) replaces ``tolerance`` on networks with
    a Poisson drive, whose counts can only agree statistically.
    """
    info = dict(info or {})
    statistical = bool(info.get("statistical", False))
    if statistical and statistical_tolerance is not None:
        tolerance = statistical_tolerance
    ref_cells = [c for c in cells if c.variant.is_reference and c.runs]
    ref_cell = next((c for c in ref_cells if c.variant.threads == 1), None)
    ref_cell = ref_cell or (ref_cells[0] if ref_cells else None)
    ref_spikes = ref_cell.runs[0]["spikes"] if ref_cell else None
    size_key = "scale" if "scale" in spec["kwargs"] else "n"
    rows: list[dict[str, Any]] = []
    by_variant: dict[Variant, dict[str, Any]] = {}
    for cell in cells:
        v = cell.variant
        row: dict[str, Any] = {
            "network": spec["builder"],
            "spec": spec,
            "n": int(info.get("n", spec["kwargs"].get("n", 0))),
            "size": spec["kwargs"][size_key],
            "simulator": v.runner,
            "threads": v.threads,
            "precision": v.precision if v.runner == "snnsim" else None,
            "label": v.label,
            "status": cell.skipped or (f"error: {cell.error}" if cell.error else "ok"),
            "statistical_counts": statistical,
            "count_tolerance": tolerance,
        }
        rows.append(row)
        by_variant[v] = row
        if not cell.runs:
            continue
        first = cell.runs[0]
        walls = [r["run_s"] for r in cell.runs]
        med = statistics.median(walls)
        n, n_syn = int(first["n"]), int(first["n_synapses"])
        duration = float(first["duration_ms"])
        steps = int(first.get("run_steps", round(duration / float(first["dt_ms"]))))
        spikes = int(first["spikes"])
        if "synaptic_events" in first:
            events = float(statistics.median(r["synaptic_events"] for r in cell.runs))
        else:
            events = spikes * n_syn / max(n, 1)
        rss = max(r["peak_rss_mb"] for r in cell.runs)
        cold_runs = [r for r in cell.runs if r.get("cold")]
        warm_runs = [r for r in cell.runs if not r.get("cold")]

        def startup(r: dict[str, Any]) -> float:
            return float(r["build_s"]) + float(r["compile_s"])

        cold = cold_runs[0] if cold_runs else None
        row.update(
            n_synapses=n_syn,
            repeats=len(walls),
            spikes=spikes,
            spikes_all=[int(r["spikes"]) for r in cell.runs],
            spike_hash=first.get("spike_hash"),
            spike_hashes_equal=len({r.get("spike_hash") for r in cell.runs}) == 1,
            rate_hz=spikes / n / (duration * 1e-3) if duration > 0 else math.nan,
            run_s_median=med,
            run_s_min=min(walls),
            run_s_max=max(walls),
            run_s_all=walls,
            build_s=_median([r["build_s"] for r in cell.runs]),
            compile_s=float(first["compile_s"]),
            compile_s_cold=float(cold["compile_s"]) if cold else None,
            compile_s_warm=_median([r["compile_s"] for r in warm_runs]),
            startup_s_cold=startup(cold) if cold else None,
            startup_s_warm=_median([startup(r) for r in warm_runs]),
            first_result_s_cold=(
                float(cold["process_wall_s"]) if cold and "process_wall_s" in cold else None
            ),
            synaptic_events_per_s=events / med if med > 0 else math.nan,
            neuron_updates_per_s=n * steps / med if med > 0 else math.nan,
            real_time_factor=med / (duration * 1e-3) if duration > 0 else math.nan,
            peak_rss_mb=rss,
            bytes_per_synapse=rss * 2**20 / n_syn if n_syn else math.nan,
            rss_after_run_mb=_median([r.get("rss_after_run_mb", math.nan) for r in cell.runs]),
            pop_rates_hz=_pop_rates(cell.runs, info.get("populations", [])),
            loadavg_1m_max=max(float(r.get("loadavg_1m", math.nan)) for r in cell.runs),
            busy_cores_max=max(float(r["busy_cores_before"]) for r in cell.runs),
            noisy_runs=sum(float(r["busy_cores_before"]) > NOISY_BUSY_CORES for r in cell.runs),
        )
        if ref_spikes is not None:
            diff = (spikes - ref_spikes) / ref_spikes if ref_spikes else math.inf
            row["spike_diff_vs_ref"] = diff if spikes != ref_spikes else 0.0
            row["counts_agree"] = abs(row["spike_diff_vs_ref"]) <= tolerance

    def agree(v: Variant) -> bool:
        return bool(by_variant.get(v, {}).get("counts_agree", False))

    refused = "counts disagree" if ref_spikes is not None else "no snnsim float64 count to check"
    cell_of = {c.variant: c for c in cells}
    for cell in cells:
        v = cell.variant
        row = by_variant[v]
        if not cell.runs:
            continue
        if v.runner == "snnsim":
            for key, peer in (
                ("brian2_standalone", Variant("brian2-standalone", v.threads)),
                ("nest", Variant("nest", v.threads)),
            ):
                other = cell_of.get(peer)
                if other is None or not other.runs:
                    continue
                ok = agree(v) and agree(peer)
                row[f"ratio_vs_{key}"] = _per_round_ratio(cell, other) if ok else None
                row[f"ratio_vs_{key}_note"] = "" if ok else refused
        else:
            ref = cell_of.get(Variant("snnsim", v.threads))
            if ref is not None and ref.runs:
                ok = agree(v) and agree(ref.variant)
                row["ratio_vs_snnsim"] = _per_round_ratio(cell, ref) if ok else None
                row["ratio_vs_snnsim_note"] = "" if ok else refused
    return rows


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """One performance target of issue 3, evaluated on the report's rows."""

    key: str
    text: str
    goal: str


TARGETS: tuple[Target, ...] = (
    Target(
        "vs_b2",
        "run time <= 0.5x Brian2 cpp_standalone, same threads (CUBA, scaled, event)",
        "<= 0.5",
    ),
    Target("vs_nest_256k", "run time <= 0.05x NEST at 256k (scaled)", "<= 0.05"),
    Target(
        "first_result",
        "time to first result, cold cache, <= 0.1x Brian2 standalone (CUBA-4k)",
        "<= 0.1",
    ),
    Target("warm_startup", "warm-cache start-up (build + compile) under 1 s (CUBA-4k)", "< 1 s"),
    Target("bytes_per_syn", "peak RSS / synapses <= 12 B at 256k (scaled)", "<= 12 B"),
    Target("sparse_vs_b2", "sparse case >= 5x faster than Brian2 standalone", "<= 0.2"),
    Target("threads", "2 threads >= 1.6x 1 thread at 256k, bit-identical spikes", ">= 1.6"),
    Target("mc_vs_nest", "microcircuit 0.1: >= 3x faster than NEST, same threads", "<= 0.333"),
    Target("mc_full", "microcircuit full scale runs (RTF, memory, rates reported)", "runs"),
    Target(
        "event_ceiling", "event case: synaptic events/s >= 50% of the scatter ceiling", ">= 0.5"
    ),
    Target("stdp_vs_b2", "STDP: run time <= 0.5x Brian2 standalone, same threads", "<= 0.5"),
    Target("stdp_vs_nest", "STDP: run time <= 0.1x NEST stdp_synapse, same threads", "<= 0.1"),
)


def evaluate_targets(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Evaluate :data:`TARGETS` on a report; one line per (target, network, snnsim variant).

    A line has ``target``, ``goal``, ``network``, ``simulator``, ``value`` (number or None),
    ``status`` (``"met"``, ``"not met"`` or ``"not measured: <why>"``).
    """
    rows = [
        (case["case"], row)
        for case in report.get("cases", [])
        for net in case["networks"]
        for row in net["rows"]
    ]
    by_key = {t.key: t for t in TARGETS}
    out: list[dict[str, Any]] = []

    def add(
        key: str, where: str, sim: str, value: float | None, met: bool | None, why: str = ""
    ) -> None:
        t = by_key[key]
        if value is None or met is None:
            status = f"not measured{': ' + why if why else ''}"
        else:
            status = "met" if met else "not met"
        out.append(
            {"target": t.text, "goal": t.goal, "network": where, "simulator": sim,
             "value": value, "status": status}
        )  # fmt: skip

    def snn_rows(case: str, size: float | None = None) -> list[dict[str, Any]]:
        return [
            r for c, r in rows
            if c == case and r["simulator"] == "snnsim" and (size is None or r["size"] == size)
        ]  # fmt: skip

    def where(r: dict[str, Any]) -> str:
        return f"{r['network']} {r['size']:g}"

    def ratio(r: dict[str, Any], key: str) -> tuple[float | None, str]:
        value = r.get(f"ratio_vs_{key}")
        if value is not None:
            return float(value), ""
        note = r.get(f"ratio_vs_{key}_note") or f"no {key.replace('_', ' ')} run"
        return None, note if r.get("status") == "ok" else r.get("status", "")

    for case in ("cuba", "scaled", "event"):
        for r in snn_rows(case):
            value, why = ratio(r, "brian2_standalone")
            add("vs_b2", where(r), r["label"], value, None if value is None else value <= 0.5, why)
    for r in snn_rows("scaled", 256000):
        value, why = ratio(r, "nest")
        add("vs_nest_256k", where(r), r["label"], value, None if value is None else value <= 0.05,
            why)  # fmt: skip
    cuba_rows = [r for c, r in rows if c == "cuba" and r["size"] == 4000]
    b2 = next((r for r in cuba_rows if r["label"] == "brian2-standalone 1T"), None)
    for r in snn_rows("cuba", 4000):
        if r["threads"] != 1:
            continue
        a = r.get("first_result_s_cold")
        b = b2.get("first_result_s_cold") if b2 else None
        value = a / b if a is not None and b else None
        add("first_result", where(r), r["label"], value, None if value is None else value <= 0.1,
            "needs a cold snnsim run and Brian2 standalone 1T")  # fmt: skip
        w = r.get("startup_s_warm")
        add("warm_startup", where(r), r["label"], w, None if w is None else w < 1.0,
            "needs >= 2 repeats")  # fmt: skip
    for r in snn_rows("scaled", 256000):
        bps = r.get("bytes_per_synapse")
        if bps is None or not math.isfinite(bps):
            add("bytes_per_syn", where(r), r["label"], None, None, r.get("status", ""))
        else:
            add("bytes_per_syn", where(r), r["label"], bps, bps <= 12)
    for r in snn_rows("sparse"):
        value, why = ratio(r, "brian2_standalone")
        add("sparse_vs_b2", where(r), r["label"], value, None if value is None else value <= 0.2,
            why)  # fmt: skip
    scaled_256 = snn_rows("scaled", 256000)
    for prec in ("double", "single"):
        one = next((r for r in scaled_256 if r["threads"] == 1 and r["precision"] == prec), None)
        many = [r for r in scaled_256 if r["threads"] > 1 and r["precision"] == prec]
        for r in many:
            if one is None or "run_s_median" not in one or "run_s_median" not in r:
                add("threads", where(r), r["label"], None, None, "needs 1T and 2T runs")
                continue
            speedup = one["run_s_median"] / r["run_s_median"]
            same = one.get("spike_hash") == r.get("spike_hash")
            add("threads", where(r), f"{r['label']} vs 1T (spikes identical: {same})", speedup,
                speedup >= 1.6 and same)  # fmt: skip
    for r in snn_rows("microcircuit", 0.1):
        value, why = ratio(r, "nest")
        add("mc_vs_nest", where(r), r["label"], value,
            None if value is None else value <= 1 / 3, why)  # fmt: skip
    for r in snn_rows("microcircuit", 1.0):
        rtf = r.get("real_time_factor")
        add("mc_full", where(r), r["label"], rtf, r.get("status") == "ok" if rtf else None,
            r.get("status", ""))  # fmt: skip
    for r in snn_rows("event"):
        frac = r.get("ceiling_fraction")
        add("event_ceiling", where(r), r["label"], frac, None if frac is None else frac >= 0.5,
            "no ceiling measured")  # fmt: skip
    for r in snn_rows("stdp"):
        for key, peer, goal in (
            ("stdp_vs_b2", "brian2_standalone", 0.5),
            ("stdp_vs_nest", "nest", 0.1),
        ):
            value, why = ratio(r, peer)
            add(key, where(r), r["label"], value, None if value is None else value <= goal, why)
    measured = {line["target"] for line in out}
    for t in TARGETS:
        if t.text not in measured:
            add(t.key, "-", "-", None, None, "its case or size was not run")
    order = {t.text: i for i, t in enumerate(TARGETS)}
    out.sort(key=lambda line: order[line["target"]])
    return out


# --------------------------------------------------------------------------- reporting
def _fmt(x: Any, spec: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def _si(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    for div, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def _ratio_cell(r: Mapping[str, Any], key: str) -> str:
    value = r.get(f"ratio_vs_{key}")
    if value is not None:
        return f"{value:.3g}"
    return str(r.get(f"ratio_vs_{key}_note") or "-")


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of the summary rows of one network."""
    ceiling = any("ceiling_fraction" in r for r in rows)
    head = (
        "| simulator | spikes (Hz, diff) | run s median (min-max) | build s | compile s cold / "
        "warm | first result s (cold) | syn ev/s | neuron upd/s | RTF | peak RSS MiB | B/syn | "
        "snnsim / B2-SA | snnsim / NEST | run / snnsim |"
    )
    ncol = 14
    if ceiling:
        head += " % scatter ceiling |"
        ncol += 1
    lines = [head, "|" + "---|" * ncol]
    for r in rows:
        if "run_s_median" not in r:
            lines.append(f"| {r['label']} | {r['status']} |" + " |" * (ncol - 2))
            continue
        diff = r.get("spike_diff_vs_ref")
        diff_s = "" if diff in (None, 0.0) else f", {diff:+.2%}"
        if diff is not None and not r.get("counts_agree", True):
            diff_s += " disagree"
        noisy = f" [{r['noisy_runs']} noisy]" if r.get("noisy_runs") else ""
        if r["simulator"] == "snnsim":
            vs_b2, vs_nest = _ratio_cell(r, "brian2_standalone"), _ratio_cell(r, "nest")
            vs_snn = "-"
        else:
            vs_b2 = vs_nest = "-"
            vs_snn = _ratio_cell(r, "snnsim")
        line = (
            f"| {r['label']} | {r['spikes']} ({r['rate_hz']:.2f}{diff_s}) | "
            f"{r['run_s_median']:.3f} ({r['run_s_min']:.3f}-{r['run_s_max']:.3f}){noisy} | "
            f"{_fmt(r['build_s'], '.2f')} | {_fmt(r['compile_s_cold'], '.2f')} / "
            f"{_fmt(r['compile_s_warm'], '.2f')} | {_fmt(r['first_result_s_cold'], '.2f')} | "
            f"{_si(r['synaptic_events_per_s'])} | {_si(r['neuron_updates_per_s'])} | "
            f"{_fmt(r['real_time_factor'])} | {r['peak_rss_mb']:.0f} | "
            f"{_fmt(r['bytes_per_synapse'], '.1f')} | {vs_b2} | {vs_nest} | {vs_snn} |"
        )
        if ceiling:
            frac = r.get("ceiling_fraction")
            line += f" {_fmt(None if frac is None else 100 * frac, '.0f')} |"
        lines.append(line)
    return "\n".join(lines)


def spike_table(rows: Sequence[dict[str, Any]]) -> str:
    """Spike counts side by side per network size (correctness check)."""
    labels: list[str] = []
    for r in rows:
        if r["label"] not in labels:
            labels.append(r["label"])
    sizes: list[Any] = []
    for r in rows:
        if r["size"] not in sizes:
            sizes.append(r["size"])
    lines = ["| size | " + " | ".join(labels) + " |", "|" + "---|" * (len(labels) + 1)]
    for size in sizes:
        cells = []
        for lab in labels:
            found = [x for x in rows if x["size"] == size and x["label"] == lab]
            r = found[0] if found else {}
            if "spikes" not in r:
                cells.append("-")
                continue
            diff = r.get("spike_diff_vs_ref")
            mark = ""
            if diff not in (None, 0.0):
                mark = f" ({diff:+.2%}{', counts disagree' if not r['counts_agree'] else ''})"
            cells.append(f"{r['spikes']}{mark}")
        lines.append(f"| {size:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rates_table(net: Mapping[str, Any]) -> str:
    """Per-population rates (Hz) of every simulator next to the published ones."""
    pops = net.get("populations") or []
    refs = net.get("reference_rates_hz")
    rows = [r for r in net["rows"] if r.get("pop_rates_hz")]
    if not pops or not rows:
        return ""
    head = "| population | reference Hz | " + " | ".join(r["label"] for r in rows) + " |"
    lines = [head, "|" + "---|" * (len(rows) + 2)]
    for i, p in enumerate(pops):
        ref = _fmt(refs[i], ".3f") if refs else "-"
        vals = " | ".join(f"{r['pop_rates_hz'][i]:.3f}" for r in rows)
        lines.append(f"| {p['label']} | {ref} | {vals} |")
    return "\n".join(lines)


def condensed_targets(targets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One line per target: range of the measured values, and met / not met over all lines."""
    out: list[dict[str, Any]] = []
    for t in TARGETS:
        lines = [x for x in targets if x["target"] == t.text]
        measured = [x for x in lines if x["value"] is not None]
        met = sum(x["status"] == "met" for x in measured)
        if not measured:
            reasons = sorted({x["status"] for x in lines}) or ["not measured"]
            status, value = reasons[0] if len(reasons) == 1 else "not measured", "-"
        else:
            if met == len(lines):
                status = "met"
            elif met == len(measured):
                status = f"met where measured ({met} of {len(lines)})"
            else:
                status = f"not met ({met} of {len(lines)} met)"
            lo = min(float(x["value"]) for x in measured)
            hi = max(float(x["value"]) for x in measured)
            value = f"{lo:.3g}" if lo == hi else f"{lo:.3g} to {hi:.3g}"
        out.append({"target": t.text, "goal": t.goal, "value": value, "status": status})
    return out


def targets_table(targets: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table of evaluated targets."""
    lines = [
        "| target | network | simulator | value | goal | status |",
        "|---|---|---|---|---|---|",
    ]
    for t in targets:
        lines.append(
            f"| {t['target']} | {t['network']} | {t['simulator']} | {_fmt(t['value'])} | "
            f"{t['goal']} | {t['status']} |"
        )
    return "\n".join(lines)


def _machine_lines(ml: Mapping[str, Any]) -> list[str]:
    out = []
    st = ml.get("stream")
    if st:
        out.append(
            f"- stream GB/s 1T copy/triad/read {st['copy_gbs_1t']:.1f}/{st['triad_gbs_1t']:.1f}/"
            f"{st['read_gbs_1t']:.1f}; {int(st['threads'])}T {st['copy_gbs_mt']:.1f}/"
            f"{st['triad_gbs_mt']:.1f}/{st['read_gbs_mt']:.1f}"
        )
    for sc in ml.get("scatter", []):
        out.append(
            f"- scatter-add into {int(sc['n_slots'])} x {int(sc['n_targets'])} float64 "
            f"({sc['buffer_mib']:.1f} MiB): 1T uniform {_si(sc['uniform_events_per_s_1t'])}/s, "
            f"CSR {_si(sc['csr_events_per_s_1t'])}/s; {int(sc['threads'])}T uniform "
            f"{_si(sc['uniform_events_per_s_mt'])}/s, CSR {_si(sc['csr_events_per_s_mt'])}/s"
        )
    return out


def render_markdown(report: Mapping[str, Any]) -> str:
    """Render the whole report as markdown."""
    env = report["environment"]
    ver = env["versions"]
    out = [
        "# snnsim side-by-side benchmark",
        "",
        f"- date: {env['date']}",
        f"- machine: {env['cores']} cores, {env['cpu']}, {env['memory_gib']:.0f} GiB "
        f"({env['platform']})",
        "- versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in ver.items()),
        f"- command: `{report['command']}`",
        f"- repeats: {report['repeats']} (interleaved round-robin; slow peers above N = "
        f"{SLOW_PEER_MAX_N}: {report.get('slow_repeats')}), duration {report['duration_ms']:g} "
        f"ms, threads {report['threads']}, cold start on the first repeat: {report['cold']}",
        f"- 1-min load average at start: {env['loadavg_start'][0]:.2f}; highest seen in a run: "
        f"{_fmt(report.get('loadavg_max'), '.2f')}; most busy cores just before a run: "
        f"{_fmt(report.get('busy_cores_max'), '.2f')}",
        f"- total wall time: {report.get('elapsed_s', math.nan):.0f} s",
    ]
    for note in report.get("notes", []):
        out.append(f"- {note}")
    out += [
        "",
        "Columns: run wall time is the median (min-max) over repeats. build s: median network "
        "construction (snnsim: description + Network.build without the compile; NEST: Create + "
        "Connect + Prepare + first step). compile s: the cold first repeat (empty Numba cache / "
        "new Brian2 project / empty Cython cache) and the median of the warm ones. first "
        "result s: wall time of the whole cold-start process (Python start-up, imports, "
        "build, compile, run, results), what a user waits for. syn ev/s: snnsim's "
        "delivered-event counter, for the others spikes x mean out-degree, over the median "
        "run time. RTF: run time / simulated time. Peak RSS of the process that ran the "
        "simulation (Brian2 standalone: its binary alone); B/syn = "
        "peak RSS / synapses. snnsim / B2-SA and snnsim / NEST: median over rounds of the "
        "run-time ratio at the same thread count (below 1: snnsim is faster); run / snnsim: "
        "the same for a peer against snnsim float64. A ratio is refused ('counts disagree') "
        f"where a spike count differs from the reference (snnsim float64 1T) by more than "
        f"{report['count_tolerance']:.0%}. [k noisy]: k repeats started while other processes "
        f"kept more than {NOISY_BUSY_CORES} cores busy.",
    ]
    if report.get("targets"):
        out += ["", "## Targets (issue 3)", "", targets_table(report["targets"])]
    for case in report["cases"]:
        out += ["", f"## Case `{case['case']}`"]
        for net in case["networks"]:
            out += [
                "",
                f"### {net['name']}: {net['n']} neurons, {net['n_synapses']} synapses "
                f"(arrays built once in {net['build_s']:.1f} s, {net['bytes'] / 2**20:.0f} MiB, "
                f"fingerprint {net['fingerprint'][:12]})",
                "",
            ]
            if net.get("statistical"):
                tol = report.get("statistical_tolerance", report["count_tolerance"])
                out += [
                    "Independent Poisson background per simulator: spike counts agree "
                    f"statistically, not exactly; the {tol:.0%} rule applies to the total count "
                    "(per-population rates below).",
                    "",
                ]
            out.append(markdown_table(net["rows"]))
            if case["case"] == "stdp":
                out += ["", "Plastic weights (exc -> exc) after the run:", ""]
                out.append(weights_table(net["rows"]))
            if net.get("ceiling"):
                ce = net["ceiling"]
                out += [
                    "",
                    f"Scatter-add ceiling on this network's ring buffer shape "
                    f"({int(ce['n_slots'])} slots x {int(ce['n_targets'])} columns float64, rows "
                    f"of {int(ce['row_length'])} targets): "
                    + ", ".join(f"{t}T {_si(x)} events/s" for t, x in ce["by_threads"].items()),
                ]
            rt = rates_table(net)
            if rt:
                out += ["", "Per-population rates (Hz) after the transient:", "", rt]
        all_rows = [r for net in case["networks"] for r in net["rows"]]
        out += ["", "Spike counts (difference vs reference):", "", spike_table(all_rows)]
        for png in case.get("plots", []):
            out += ["", f"![{png}]({png})"]
    if report.get("machine_limits"):
        out += ["", "## Machine limits (benchmarks/machine.py)", ""]
        out += _machine_lines(report["machine_limits"])
    return "\n".join(out) + "\n"


def summary_table(report: Mapping[str, Any]) -> str:
    """Compact table for the README: median run time (s) per network and simulator."""
    labels: list[str] = []
    nets = [net for case in report["cases"] for net in case["networks"]]
    for net in nets:
        for r in net["rows"]:
            if r["label"] not in labels:
                labels.append(r["label"])
    lines = [
        "| network | neurons | synapses | " + " | ".join(labels) + " |",
        "|" + "---|" * (len(labels) + 3),
    ]
    for net in nets:
        cells = []
        for lab in labels:
            r = next((x for x in net["rows"] if x["label"] == lab), None)
            if r is None or "run_s_median" not in r:
                cells.append("-")
                continue
            mark = "" if r.get("counts_agree", True) else " (counts disagree)"
            cells.append(f"{r['run_s_median']:.3g}{mark}")
        lines.append(f"| {net['name']} | {net['n']} | {net['n_synapses']} | " + " | ".join(cells))
        lines[-1] += " |"
    return "\n".join(lines)


def readme_block(report: Mapping[str, Any]) -> str:
    """Return the README block (between :data:`README_START` and :data:`README_END`)."""
    env = report["environment"]
    ver = ", ".join(f"{k} {v or 'not installed'}" for k, v in env["versions"].items())
    lines = [
        README_START,
        "## Benchmarks",
        "",
        "Side by side with Brian2 and NEST on identical networks (every simulator loads the "
        "same arrays; spike counts are checked). Median run time in seconds of "
        f"{report['duration_ms']:g} ms of biological time over {report['repeats']} interleaved "
        "repeats; lower is better.",
        "",
        f"Measured {env['date'][:10]} on {env['cores']} cores ({env['cpu']}), "
        f"{env['memory_gib']:.0f} GiB; {ver}. Command: `{report['command']}`.",
        "",
        summary_table(report),
    ]
    if report.get("targets"):
        lines += ["", "| target | values | goal | status |", "|---|---|---|---|"]
        lines += [
            f"| {t['target']} | {t['value']} | {t['goal']} | {t['status']} |"
            for t in condensed_targets(report["targets"])
        ]
    lines += [
        "",
        "All columns (build and compile times, events/s, memory, per-population rates of the "
        "microcircuit), plots and JSON: `snnsim bench all --out DIR`.",
        README_END,
    ]
    return "\n".join(lines)


def write_readme(path: str | os.PathLike[str], report: Mapping[str, Any]) -> None:
    """Replace the block between the bench markers of ``path`` (appended when missing)."""
    p = Path(path)
    text = p.read_text() if p.exists() else ""
    block = readme_block(report)
    if README_START in text and README_END in text:
        a = text.index(README_START)
        b = text.index(README_END, a) + len(README_END)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, p)


def make_plots(rows: Sequence[dict[str, Any]], out_dir: Path) -> list[str]:
    """Throughput and peak RSS vs N, one line per simulator; returns the PNG file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels: list[str] = []
    for r in rows:
        if r["label"] not in labels and "run_s_median" in r:
            labels.append(r["label"])
    if not labels:
        return []

    def series(label: str, key: str) -> tuple[list[int], list[float]]:
        pts = sorted((r["n"], r[key]) for r in rows if r["label"] == label and key in r)
        return [p[0] for p in pts], [p[1] for p in pts]

    files = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, title in (
        (axes[0], "synaptic_events_per_s", "synaptic events / s"),
        (axes[1], "neuron_updates_per_s", "neuron updates / s"),
    ):
        for lab in labels:
            xs, ys = series(lab, key)
            ax.plot(xs, ys, marker="o", label=lab)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (neurons)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "throughput_vs_n.png", dpi=110)
    plt.close(fig)
    files.append("throughput_vs_n.png")

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for lab in labels:
        xs, ys = series(lab, "peak_rss_mb")
        ax.plot(xs, ys, marker="o", label=lab)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (neurons)")
    ax.set_ylabel("peak RSS (MiB)")
    ax.set_title("peak RSS per simulation process")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "rss_vs_n.png", dpi=110)
    plt.close(fig)
    files.append("rss_vs_n.png")
    return files


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --------------------------------------------------------------------------- machine ceilings
def event_ceiling(
    info: Mapping[str, Any], threads: Sequence[int], quick: bool = False
) -> dict[str, Any]:
    """Scatter-add ceiling (events/s) on the ring-buffer shape of a network, per thread count.

    The buffer is ``D x 2N`` float64 (``D`` = next power of two above the longest delay, one
    column per neuron and receptor, as snnsim's ring); CSR rows hold the network's mean
    out-degree of sorted random targets; one slot per spike. 1 thread: the serial kernel;
    ``T`` threads: target-partitioned (no atomics).
    """
    from benchmarks.machine import scatter_add

    n = int(info["n"])
    slots = 1
    while slots < int(info["max_delay_steps"]) + 1:
        slots *= 2
    row = max(1, min(2 * n, round(info["n_synapses"] / max(n, 1))))
    events = int(min(1 << 23, max(1 << 18, 50 * int(info["n_synapses"]))))
    kw: dict[str, Any] = {
        "row_length": row,
        "n_rows": min(n, 65536),
        "repeats": 1 if quick else 3,
        "n_events": min(events, 1 << 20) if quick else events,
    }
    by_threads: dict[str, float] = {}
    for t in sorted(set(threads)):
        res = scatter_add(2 * n, slots, threads=min(t, _numba_threads()), **kw)
        if t == 1:
            by_threads["1"] = res["csr_events_per_s_1t"]
        else:
            by_threads[str(t)] = res["csr_events_per_s_mt"]
    return {"n_slots": slots, "n_targets": 2 * n, "row_length": row, "by_threads": by_threads}


def _numba_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """Command-line parser of the harness."""
    ncores = os.cpu_count() or 1
    ap = argparse.ArgumentParser(
        prog="compare.py",
        description="Side-by-side benchmark of snnsim against Brian2 and NEST (see the module "
        "docstring of benchmarks/compare.py).",
    )
    ap.add_argument(
        "cases", nargs="*", metavar="case",
        help=f"cases to run: {', '.join(CASE_NAMES)} or all (default: cuba)",
    )  # fmt: skip
    ap.add_argument("--case", dest="case_opt", choices=[*CASE_NAMES, "all"], default=None,
                    help="a case (same as the positional argument)")  # fmt: skip
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=None,
        help="network sizes N (default per case: cuba 4000; scaled 4000 16000 64000 256000, "
        "1000000 selectable; event 8000; sparse 256000)",
    )  # fmt: skip
    ap.add_argument("--scales", type=float, nargs="+", default=None,
                    help="microcircuit scales (default 0.1 1.0)")  # fmt: skip
    ap.add_argument(
        "--with", dest="with_", default=None,
        help="comma-separated peers: brian2, nest (or brian2-standalone, brian2-cython, "
        "brian2-numpy), or none; default: whichever is importable",
    )  # fmt: skip
    ap.add_argument("--repeats", type=int, default=3, help="repeats per simulator (default 3)")
    ap.add_argument(
        "--slow-repeats", type=int, default=1,
        help=f"repeats of NEST and Brian2 cython above N = {SLOW_PEER_MAX_N} (default 1)",
    )  # fmt: skip
    ap.add_argument("--allow-slow", action="store_true",
                    help="run every repeat of the slow peers at every size")  # fmt: skip
    ap.add_argument(
        "--threads", type=int, nargs="+", default=sorted({1, ncores}),
        help=f"thread counts (default: 1 and all cores = {ncores})",
    )  # fmt: skip
    ap.add_argument("--precision", default="double,single",
                    help="snnsim precisions (default double,single where supported)")  # fmt: skip
    ap.add_argument("--duration", type=float, default=None, help="biological time, ms (1000)")
    ap.add_argument("--event-in-degree", type=float, default=1000.0,
                    help="in-degree of the event case (capped at N)")  # fmt: skip
    ap.add_argument("--no-cold", dest="cold", action="store_false",
                    help="no cold-cache first repeat for snnsim and Brian2 cython")  # fmt: skip
    ap.add_argument(
        "--machine",
        action="store_true",
        help="also run the machine-limit microbenchmark (included in 'all')",
    )
    ap.add_argument(
        "--quick", action="store_true",
        help="a few minutes: small sizes, 100 ms, 1 repeat, no cold start, small microbench",
    )  # fmt: skip
    ap.add_argument(
        "--count-tolerance",
        type=float,
        default=COUNT_TOLERANCE,
        help="largest relative spike-count difference for a ratio (0.01)",
    )
    ap.add_argument(
        "--statistical-tolerance", type=float, default=None,
        help="the same for networks with Poisson drive (microcircuit), whose counts are "
        "independent realisations (default: --count-tolerance)",
    )  # fmt: skip
    ap.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="S",
        help="before each run wait up to S seconds for other processes to use < 0.3 cores",
    )  # fmt: skip
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per simulation process")
    ap.add_argument(
        "--memory-limit-gb", type=float, default=None,
        help="address-space limit of every simulation process (default 90%% of RAM)",
    )  # fmt: skip
    ap.add_argument(
        "--work-dir",
        default=None,
        help="folder for the network files and build caches (default: a temp dir)",
    )
    ap.add_argument("--out", default=None, help="write results.json, results.md and PNGs here")
    ap.add_argument("--readme", default=None, metavar="README.md",
                    help="write the summary table into this file's benchmark block")  # fmt: skip
    return ap


def _cases(args: argparse.Namespace) -> list[str]:
    names = list(args.cases or [])
    if args.case_opt:
        names.append(args.case_opt)
    if not names:
        names = ["cuba"]
    out: list[str] = []
    for name in names:
        if name not in (*CASE_NAMES, "all"):
            raise SystemExit(f"unknown case {name!r}: expected {', '.join(CASE_NAMES)} or all")
        for c in CASE_NAMES if name == "all" else (name,):
            if c not in out:
                out.append(c)
    if args.machine and "machine" not in out:
        out.append("machine")
    return out


def _sizes(case: str, args: argparse.Namespace) -> list[float]:
    d = CASES[case]
    if case == "microcircuit":
        if args.scales:
            return list(args.scales)
    elif args.sizes:
        return [int(s) for s in args.sizes]
    return list(d.quick_sizes if args.quick else d.sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison; see the module docstring.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 if any simulator failed.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    cases = _cases(args)
    if args.quick:
        args.repeats = 1 if "--repeats" not in argv else args.repeats
        args.cold = False
        if args.duration is None:
            args.duration = 100.0
    duration = 1000.0 if args.duration is None else float(args.duration)
    if args.repeats < 1 or args.slow_repeats < 1:
        raise SystemExit("--repeats and --slow-repeats must be >= 1")
    if any(t < 1 for t in args.threads):
        raise SystemExit("--threads must be >= 1")
    threads = sorted(set(args.threads))

    def log(msg: str) -> None:
        print(msg, flush=True)

    peer_names = _parse_with(args.with_)
    notes: list[str] = []
    if args.with_ is None and not peer_names:
        hint = (
            "Neither Brian2 nor NEST is installed: benchmarking snnsim alone. "
            f"For the side-by-side comparison: {_EXTRA_HINT}"
        )
        log(hint)
        notes.append(hint)
    precisions = snnsim_precisions([p.strip() for p in args.precision.split(",") if p.strip()], log)
    if "single" in [p.strip() for p in args.precision.split(",")] and "single" not in precisions:
        notes.append("snnsim float32 not measured: this snnsim.Network has no precision=")
    variants = variants_for(peer_names, threads, precisions)
    mem_total = _meminfo("MemTotal") or 16 * 2**30
    memory_limit = (
        int(args.memory_limit_gb * 2**30) if args.memory_limit_gb else int(0.9 * mem_total)
    )
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    env = environment()
    t_start = time.perf_counter()
    log(
        f"machine: {env['cores']} cores, {env['cpu']}; load average {env['loadavg_start'][0]:.2f}"
        f"; simulators: {', '.join(v.label for v in variants)}; cases: {', '.join(cases)}"
    )
    if env["loadavg_start"][0] > 0.5:
        log("warning: the machine is not idle (1-min load average > 0.5); timings are noisy")
    report: dict[str, Any] = {
        "command": " ".join(["snnsim bench", *argv]),
        "environment": env,
        "repeats": args.repeats,
        "slow_repeats": args.repeats if args.allow_slow else min(args.repeats, args.slow_repeats),
        "duration_ms": duration,
        "threads": threads,
        "cold": bool(args.cold),
        "count_tolerance": args.count_tolerance,
        "statistical_tolerance": (
            args.count_tolerance
            if args.statistical_tolerance is None
            else args.statistical_tolerance
        ),
        "memory_limit_gib": memory_limit / 2**30,
        "simulators": [v.label for v in variants],
        "notes": notes,
        "cases": [],
    }
    if "machine" in cases:
        from benchmarks.machine import machine_limits

        log("\n== machine limits ==")
        kw: dict[str, Any] = {}
        if args.quick:
            kw = {"size_mib": 16.0, "repeats": 1, "n_events": 1 << 18}
        report["machine_limits"] = machine_limits(**kw)
        for line in _machine_lines(report["machine_limits"]):
            log(line)
    failed = False
    if args.work_dir is not None:
        Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    work_root = Path(tempfile.mkdtemp(prefix="snnsim-compare-", dir=args.work_dir))
    try:
        for case in cases:
            if case == "machine":
                continue
            case_report: dict[str, Any] = {"case": case, "networks": []}
            for size in _sizes(case, args):
                spec = network_spec(case, size, duration, args)
                log(f"\n== case {case}: {spec['builder']} {spec['kwargs']} ==")
                t0 = time.perf_counter()
                try:
                    net = network_from_spec(spec)
                except MemoryError as exc:
                    log(f"  network not built: {exc}")
                    failed = True
                    continue
                build_s = time.perf_counter() - t0
                work = work_root / net.name
                net_dir = net.save(work / "network")
                info: dict[str, Any] = {
                    "name": net.name,
                    "n": net.n,
                    "n_synapses": net.n_synapses,
                    "bytes": net.bytes(),
                    "build_s": build_s,
                    "fingerprint": net.fingerprint(),
                    "max_delay_steps": net.max_delay_steps,
                    "statistical": bool(net.poisson),
                    "populations": [
                        {"label": p.label, "start": p.start, "stop": p.stop}
                        for p in net.populations
                    ],
                    "reference_rates_hz": net.reference_rates_hz,
                }
                del net  # the children memory-map the saved files
                log(
                    f"  {info['n']} neurons, {info['n_synapses']} synapses; arrays built in "
                    f"{build_s:.1f} s ({info['bytes'] / 2**20:.0f} MiB), fingerprint "
                    f"{info['fingerprint'][:12]}"
                )
                ctx = RunContext(
                    net_dir, work, args.timeout, bool(args.cold), args.wait_idle, memory_limit
                )
                n = int(info["n"])
                net_variants = list(variants)
                if case == "stdp":  # the same network, static: the cost of plasticity
                    net_variants += [Variant("snnsim-static", t) for t in threads]
                skips = {
                    v: skip_reason(v, n, args.allow_slow, int(info["n_synapses"]), memory_limit)
                    for v in net_variants
                }
                reps = {
                    v: repeats_for(
                        v,
                        n,
                        args.repeats,
                        args.slow_repeats,
                        args.allow_slow,
                        int(info["n_synapses"]),
                    )
                    for v in net_variants
                }
                cells = measure_network(ctx, net_variants, reps, skips, log)
                failed |= any(c.error is not None for c in cells)
                rows = summarize(
                    spec,
                    cells,
                    info=info,
                    tolerance=max(args.count_tolerance, STDP_COUNT_TOLERANCE)
                    if case == "stdp"
                    else args.count_tolerance,
                    statistical_tolerance=args.statistical_tolerance,
                )
                if case == "stdp":
                    stdp_checks(rows, cells)
                entry: dict[str, Any] = {
                    "spec": spec,
                    **{k: v for k, v in info.items() if k != "populations"},
                    "populations": info["populations"],
                    "rows": rows,
                    "runs": [{"label": c.variant.label, "runs": c.runs} for c in cells],
                }
                if case == "event":
                    log("  scatter-add ceiling on this ring-buffer shape ...")
                    ce = event_ceiling(info, threads, quick=args.quick)
                    entry["ceiling"] = ce
                    for r in rows:
                        cap = ce["by_threads"].get(str(r["threads"]))
                        if cap and "synaptic_events_per_s" in r:
                            r["ceiling_fraction"] = r["synaptic_events_per_s"] / cap
                case_report["networks"].append(entry)
                shutil.rmtree(work, ignore_errors=True)
                log("")
                if info["statistical"]:
                    tol = report["statistical_tolerance"]
                    log(
                        "(Poisson background: counts agree statistically; "
                        f"{tol:.0%} rule on the total)"
                    )
                log(markdown_table(rows))
                if case == "stdp":
                    log("\nplastic weights (exc -> exc) after the run:\n" + weights_table(rows))
                rt = rates_table(entry)
                if rt:
                    log("\nper-population rates (Hz) after the transient:\n" + rt)
            all_rows = [r for net in case_report["networks"] for r in net["rows"]]
            if all_rows:
                log("\nspike counts:\n" + spike_table(all_rows))
            if out_dir is not None and case == "scaled" and all_rows:
                case_report["plots"] = make_plots(all_rows, out_dir)
            report["cases"].append(case_report)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    all_runs = [
        run
        for case in report["cases"]
        for net in case["networks"]
        for cell in net["runs"]
        for run in cell["runs"]
    ]
    report["elapsed_s"] = time.perf_counter() - t_start
    if all_runs:
        report["loadavg_max"] = max(float(r.get("loadavg_1m", 0.0)) for r in all_runs)
        report["busy_cores_max"] = max(float(r["busy_cores_before"]) for r in all_runs)
    report["targets"] = evaluate_targets(report)
    log("\ntargets:\n" + targets_table(report["targets"]))
    if out_dir is not None:
        (out_dir / "results.json").write_text(json.dumps(_jsonable(report), indent=1))
        (out_dir / "results.md").write_text(render_markdown(report))
        log(f"\nwrote {out_dir / 'results.json'}, {out_dir / 'results.md'}")
    if args.readme:
        write_readme(args.readme, report)
        log(f"wrote the benchmark block of {args.readme}")
    log(f"total {report['elapsed_s']:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
