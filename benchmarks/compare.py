"""Side-by-side benchmark of snnsim against Brian2 and NEST on identical networks.

Every simulator gets the same arrays (:mod:`benchmarks.networks`), runs in its own fresh
process (so peak RSS is per simulator), and the repeats are interleaved round-robin across the
simulators (round ``r`` starts at simulator ``r mod k``), so slow drifts of a shared machine hit
all of them alike.

Cases:

``cuba``
    Brette et al. (2007) CUBA as in Brian2's example: N = 4000, p = 0.02, 1 s.
``scaled``
    CUBA with fixed expected in-degree 80 at each of ``--sizes`` (default 4000 16000 64000).
``event``
    Event-dominated network: N = 8000, in-degree 1000, 1 ms delay (synaptic events outnumber
    neuron updates).
``sparse``
    Sparse activity (< 1 Hz) with heterogeneous delays up to 20 ms: N = 256000, in-degree 80.

Simulators (``--with``): snnsim (1 thread and every ``--threads`` value) always; ``brian2``
adds Brian2 ``cpp_standalone`` (1 thread without OpenMP, OpenMP for more) and the runtime
``cython`` target (1 thread, N <= 64000); ``nest`` adds NEST (every ``--threads`` value;
N <= 64000 unless ``--allow-slow``). Brian2 standalone builds each project once per
(network, threads) in a kept directory: the first repeat is a cold build (``compile s`` in the
table), later repeats only re-run it.

Correctness: spike counts are printed side by side; a speed-up ratio is reported only for a
simulator whose spike count is within 1 % of snnsim's on the same network; otherwise the row
says "counts disagree".

Usage::

    python benchmarks/compare.py --case cuba --out /tmp/bench_cuba
    python benchmarks/compare.py --case scaled --sizes 4000 16000 64000 --repeats 3
    python benchmarks/compare.py --case cuba --with none          # snnsim alone
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks import peers
from benchmarks.networks import NetworkArrays

__all__ = ["CASES", "main", "run_in_subprocess"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
_EXTRA_HINT = "pip install snnsim[bench]"
#: Largest N at which the slow peers (Brian2 cython, NEST) are run by default.
SLOW_PEER_MAX_N = 64000
#: Relative spike-count difference above which no speed-up ratio is reported.
COUNT_TOLERANCE = 0.01
#: Busy cores (other processes) just before a run above which the run is marked noisy.
NOISY_BUSY_CORES = 0.3
#: Cases and their default sizes.
CASES: dict[str, list[int]] = {
    "cuba": [4000],
    "scaled": [4000, 16000, 64000],
    "event": [8000],
    "sparse": [256000],
}
_PEER_GROUPS: dict[str, list[str]] = {
    "brian2": ["brian2-standalone", "brian2-cython"],
    "nest": ["nest"],
}
_ALL_PEERS = ("brian2-standalone", "brian2-cython", "brian2-numpy", "nest")


# --------------------------------------------------------------------------- running one job
def run_in_subprocess(
    runner_name: str,
    net_spec: dict[str, Any] | NetworkArrays,
    *,
    timeout: float | None = None,
    **opts: Any,
) -> dict[str, Any]:
    """Run one runner (``"snnsim"`` or a key of ``peers.RUNNERS``) in a fresh Python process.

    Peer runners go through :func:`benchmarks.peers.run_in_subprocess`; ``"snnsim"`` uses the
    same job-file protocol with ``python -m benchmarks.snnsim_runner``. Peak RSS in the result is
    therefore always that of a process that ran one simulation only.

    Parameters
    ----------
    runner_name : str
        ``"snnsim"``, ``"brian2-standalone"``, ``"brian2-cython"``, ``"brian2-numpy"``,
        ``"brian2-runtime"`` or ``"nest"``.
    net_spec : dict or NetworkArrays
        Network spec (``{"builder": ..., "kwargs": {...}}``) or a network made by a builder.
    timeout : float, optional
        Seconds before the child is killed (``subprocess.TimeoutExpired``).
    **opts
        Keyword arguments of the runner (``threads``, ``return_spikes``, ...); JSON-serialisable.

    Returns
    -------
    dict
        The runner's result plus ``net_build_s``.

    Raises
    ------
    RuntimeError
        If the child fails; the message holds the end of its stderr.
    """
    if runner_name != "snnsim":
        return peers.run_in_subprocess(runner_name, net_spec, timeout=timeout, **opts)
    if isinstance(net_spec, NetworkArrays):
        if net_spec.spec is None:
            raise ValueError(f"run_in_subprocess: network {net_spec.name!r} has no spec")
        net_spec = net_spec.spec
    with tempfile.TemporaryDirectory(prefix="snnsim-bench-") as tmp:
        job: dict[str, Any] = {
            "runner": runner_name,
            "net_spec": net_spec,
            "opts": opts,
            "result_path": os.path.join(tmp, "result.json"),
            "spikes_path": os.path.join(tmp, "spikes.npz"),
        }
        job_path = os.path.join(tmp, "job.json")
        with open(job_path, "w") as f:
            json.dump(job, f)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.snnsim_runner", job_path],
            cwd=_REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not os.path.exists(job["result_path"]):
            raise RuntimeError(
                f"run_in_subprocess('snnsim', {net_spec}) failed with exit code "
                f"{proc.returncode}:\n{proc.stderr[-4000:]}"
            )
        with open(job["result_path"]) as f:
            result: dict[str, Any] = json.load(f)
        if os.path.exists(job["spikes_path"]):
            with np.load(job["spikes_path"]) as data:
                result["spike_times"] = data["spike_times"]
                result["spike_ids"] = data["spike_ids"]
    return result


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


def _pkg_version(*names: str) -> str | None:
    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def environment() -> dict[str, Any]:
    """Date, machine (cores, CPU model) and versions of the packages involved."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
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
    """One simulator configuration: runner name and thread count."""

    runner: str
    threads: int

    @property
    def label(self) -> str:
        """Display name, e.g. ``"snnsim 2T"``."""
        if self.runner == "brian2-standalone" and self.threads > 1:
            return f"brian2-standalone {self.threads}T OpenMP"
        return f"{self.runner} {self.threads}T"


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


def variants_for(peer_names: Sequence[str], threads: Sequence[int]) -> list[Variant]:
    """All simulator configurations for the chosen peers and thread counts."""
    out = [Variant("snnsim", t) for t in threads]
    for name in peer_names:
        if name in ("brian2-cython", "brian2-numpy"):
            out.append(Variant(name, 1))
        else:
            out.extend(Variant(name, t) for t in threads)
    return out


def skip_reason(v: Variant, n: int, allow_slow: bool) -> str | None:
    """Why ``v`` is not run at size ``n`` (None: it is run)."""
    if v.runner in ("brian2-cython", "brian2-numpy") and n > SLOW_PEER_MAX_N:
        return f"skipped: N > {SLOW_PEER_MAX_N}"
    if v.runner == "nest" and n > SLOW_PEER_MAX_N and not allow_slow:
        return f"skipped: N > {SLOW_PEER_MAX_N} (use --allow-slow)"
    return None


def network_spec(case: str, n: int, duration: float, args: argparse.Namespace) -> dict[str, Any]:
    """Spec of the network of ``case`` at size ``n`` (see :mod:`benchmarks.networks`)."""
    if case == "cuba":
        return {"builder": "cuba", "kwargs": {"n": n, "duration": duration}}
    if case == "scaled":
        return {"builder": "cuba_scaled", "kwargs": {"n": n, "duration": duration}}
    if case == "event":
        k = min(float(args.event_in_degree), float(n))
        return {
            "builder": "event_dominated",
            "kwargs": {"n": n, "in_degree": k, "duration": duration},
        }
    if case == "sparse":
        return {"builder": "sparse_activity", "kwargs": {"n": n, "duration": duration}}
    raise ValueError(f"unknown case {case!r}")


# --------------------------------------------------------------------------- measurement
@dataclass
class Cell:
    """All repeats of one variant on one network."""

    variant: Variant
    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None


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


def _run_one(
    v: Variant,
    spec: dict[str, Any],
    build_root: Path,
    timeout: float | None,
    max_wait: float = 0.0,
) -> dict[str, Any]:
    opts: dict[str, Any] = {"threads": v.threads}
    if v.runner == "brian2-standalone":
        name = spec["builder"] + "_" + "_".join(f"{k}{val}" for k, val in spec["kwargs"].items())
        opts["build_dir"] = str(build_root / f"{name}_t{v.threads}")
    before, waited = wait_idle(max_wait)
    t0 = time.perf_counter()
    result = run_in_subprocess(v.runner, spec, timeout=timeout, **opts)
    result["process_wall_s"] = time.perf_counter() - t0
    result["busy_cores_before"] = before
    result["waited_idle_s"] = waited
    result["loadavg_after"] = os.getloadavg()[0]
    return result


def measure_network(
    spec: dict[str, Any],
    variants: Sequence[Variant],
    repeats: int,
    allow_slow: bool,
    build_root: Path,
    timeout: float | None,
    log: Callable[[str], None],
    max_wait: float = 0.0,
) -> list[Cell]:
    """Run every variant ``repeats`` times on one network, interleaved round-robin."""
    n = int(spec["kwargs"]["n"])
    cells = [Cell(v, skipped=skip_reason(v, n, allow_slow)) for v in variants]
    active = [c for c in cells if c.skipped is None]
    for r in range(repeats):
        k = len(active)
        order = [active[(r + i) % k] for i in range(k)] if k else []
        for cell in order:
            if cell.error is not None:
                continue
            try:
                res = _run_one(cell.variant, spec, build_root, timeout, max_wait)
            except (RuntimeError, subprocess.TimeoutExpired, ImportError) as exc:
                cell.error = str(exc).strip().splitlines()[-1][:200] if str(exc) else repr(exc)
                log(f"  round {r + 1}: {cell.variant.label:<30} FAILED: {cell.error}")
                continue
            res["round"] = r
            cell.runs.append(res)
            log(
                f"  round {r + 1}: {cell.variant.label:<30} run {res['run_s']:8.3f} s  "
                f"spikes {res['spikes']:>9}  build {res['build_s']:6.2f} s  "
                f"compile {res['compile_s']:6.2f} s  RSS {res['peak_rss_mb']:7.0f} MiB  "
                f"busy {res['busy_cores_before']:.2f}"
            )
    return cells


def _ratio_per_round(cell: Cell, ref: Cell | None) -> float | None:
    if ref is None or not ref.runs or not cell.runs:
        return None
    ref_by_round = {r["round"]: r["run_s"] for r in ref.runs}
    ratios = [
        r["run_s"] / ref_by_round[r["round"]]
        for r in cell.runs
        if ref_by_round.get(r["round"], 0) > 0
    ]
    return statistics.median(ratios) if ratios else None


def summarize(spec: dict[str, Any], cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """One summary row per variant (see the module docstring for the columns)."""
    ref_cells = [c for c in cells if c.variant.runner == "snnsim" and c.runs]
    ref_spikes = ref_cells[0].runs[0]["spikes"] if ref_cells else None
    rows: list[dict[str, Any]] = []
    for cell in cells:
        v = cell.variant
        row: dict[str, Any] = {
            "network": spec["builder"],
            "spec": spec,
            "n": int(spec["kwargs"]["n"]),
            "simulator": v.runner,
            "threads": v.threads,
            "label": v.label,
            "status": cell.skipped or (f"error: {cell.error}" if cell.error else "ok"),
        }
        rows.append(row)
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
        row.update(
            n_synapses=n_syn,
            repeats=len(walls),
            spikes=spikes,
            spikes_all=[int(r["spikes"]) for r in cell.runs],
            rate_hz=spikes / n / (duration * 1e-3) if duration > 0 else math.nan,
            run_s_median=med,
            run_s_min=min(walls),
            run_s_max=max(walls),
            run_s_all=walls,
            build_s=float(first["build_s"]),
            compile_s=float(first["compile_s"]),
            compile_s_later=[float(r["compile_s"]) for r in cell.runs[1:]],
            synaptic_events_per_s=events / med if med > 0 else math.nan,
            neuron_updates_per_s=n * steps / med if med > 0 else math.nan,
            real_time_factor=med / (duration * 1e-3) if duration > 0 else math.nan,
            peak_rss_mb=rss,
            bytes_per_synapse=rss * 2**20 / n_syn if n_syn else math.nan,
            loadavg_1m_max=max(float(r.get("loadavg_1m", math.nan)) for r in cell.runs),
            busy_cores_max=max(float(r["busy_cores_before"]) for r in cell.runs),
            noisy_runs=sum(float(r["busy_cores_before"]) > NOISY_BUSY_CORES for r in cell.runs),
        )
        if ref_spikes is not None:
            diff = (spikes - ref_spikes) / ref_spikes if ref_spikes else math.inf
            row["spike_diff_vs_snnsim"] = diff if spikes != ref_spikes else 0.0
            agree = abs(row["spike_diff_vs_snnsim"]) <= COUNT_TOLERANCE
            row["counts_agree"] = agree
            same = next((c for c in ref_cells if c.variant.threads == v.threads), None)
            ratio = _ratio_per_round(cell, same) if agree else None
            row["ratio_vs_snnsim"] = ratio
            row["ratio_vs_snnsim_note"] = (
                "counts disagree"
                if not agree
                else ("no snnsim run with these threads" if ratio is None else "")
            )
    return rows


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


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of summary rows of one network."""
    head = (
        "| simulator | spikes (Hz) | run s median (min-max) | build s | compile s | "
        "syn ev/s | neuron upd/s | RTF | peak RSS MiB | B/syn | run time / snnsim |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        if "run_s_median" not in r:
            lines.append(f"| {r['label']} | {r['status']} |" + " |" * 9)
            continue
        if r.get("simulator") == "snnsim":
            ratio = "1 (ref)" if r.get("ratio_vs_snnsim") is not None else "-"
        elif r.get("ratio_vs_snnsim") is not None:
            ratio = f"{r['ratio_vs_snnsim']:.2f}"
        else:
            ratio = r.get("ratio_vs_snnsim_note") or "-"
        diff = r.get("spike_diff_vs_snnsim")
        diff_s = "" if diff in (None, 0.0) else f", {diff:+.2%}"
        noisy = f" [{r['noisy_runs']} noisy]" if r.get("noisy_runs") else ""
        lines.append(
            f"| {r['label']} | {r['spikes']} ({r['rate_hz']:.2f}{diff_s}) | "
            f"{r['run_s_median']:.3f} ({r['run_s_min']:.3f}-{r['run_s_max']:.3f}){noisy} | "
            f"{r['build_s']:.2f} | {r['compile_s']:.2f} | {_si(r['synaptic_events_per_s'])} | "
            f"{_si(r['neuron_updates_per_s'])} | {_fmt(r['real_time_factor'])} | "
            f"{r['peak_rss_mb']:.0f} | {_fmt(r['bytes_per_synapse'], '.0f')} | {ratio} |"
        )
    return "\n".join(lines)


def spike_table(rows: Sequence[dict[str, Any]]) -> str:
    """Spike counts side by side per network size (correctness check)."""
    labels: list[str] = []
    for r in rows:
        if r["label"] not in labels:
            labels.append(r["label"])
    sizes = sorted({r["n"] for r in rows})
    lines = ["| N | " + " | ".join(labels) + " |", "|" + "---|" * (len(labels) + 1)]
    for n in sizes:
        cells = []
        for lab in labels:
            found = [x for x in rows if x["n"] == n and x["label"] == lab]
            r = found[0] if found else {}
            if "spikes" not in r:
                cells.append("-")
                continue
            diff = r.get("spike_diff_vs_snnsim")
            mark = ""
            if diff not in (None, 0.0):
                mark = f" ({diff:+.2%}{', counts disagree' if not r['counts_agree'] else ''})"
            cells.append(f"{r['spikes']}{mark}")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    """Render the whole report as markdown."""
    env = report["environment"]
    ver = env["versions"]
    out = [
        "# snnsim side-by-side benchmark",
        "",
        f"- date: {env['date']}",
        f"- machine: {env['cores']} cores, {env['cpu']} ({env['platform']})",
        "- versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in ver.items()),
        f"- command: `{report['command']}`",
        f"- repeats: {report['repeats']} (interleaved round-robin), duration "
        f"{report['duration_ms']:g} ms, threads {report['threads']}",
        f"- 1-min load average at start: {env['loadavg_start'][0]:.2f}; highest seen in a run: "
        f"{_fmt(report.get('loadavg_max'), '.2f')}; most busy cores just before a run: "
        f"{_fmt(report.get('busy_cores_max'), '.2f')}",
        f"- total wall time: {report.get('elapsed_s', math.nan):.0f} s",
    ]
    if report.get("hint"):
        out.append(f"- {report['hint']}")
    out += [
        "",
        "Columns: run wall time is the median (min-max) over repeats; build and compile are "
        "from the first repeat (Brian2 standalone: cold code generation + g++; snnsim: Numba "
        "cache load or JIT; Brian2 cython: warm-up run incl. Cython cache). syn ev/s = "
        "snnsim's delivered-event counter, for the others spikes x mean out-degree, over the "
        "median run time. RTF = run time / simulated time. Peak RSS is the process that ran "
        "the simulation (Brian2 standalone: its binary alone); B/syn = peak RSS / synapses. "
        "run time / snnsim = median over rounds of (run time / snnsim run time with the same "
        "threads in the same round); refused where the spike count differs from snnsim's by "
        f"more than {COUNT_TOLERANCE:.0%}. [k noisy]: k repeats started while other processes "
        f"kept more than {NOISY_BUSY_CORES} cores busy (they still count in median/min/max).",
    ]
    for case in report["cases"]:
        out += ["", f"## Case `{case['case']}`"]
        for net in case["networks"]:
            n_syn = next((r["n_synapses"] for r in net["rows"] if "n_synapses" in r), None)
            out += [
                "",
                f"### {net['spec']['builder']} N = {net['n']} ({_fmt(n_syn, 'd')} synapses)",
                "",
                markdown_table(net["rows"]),
            ]
        all_rows = [r for net in case["networks"] for r in net["rows"]]
        out += ["", "Spike counts (difference vs snnsim):", "", spike_table(all_rows)]
        for png in case.get("plots", []):
            out += ["", f"![{png}]({png})"]
    if report.get("machine_limits"):
        ml = report["machine_limits"]
        out += ["", "## Machine limits (benchmarks/machine.py)", ""]
        st = ml["stream"]
        out.append(
            f"- stream GB/s 1T copy/triad/read {st['copy_gbs_1t']:.1f}/{st['triad_gbs_1t']:.1f}/"
            f"{st['read_gbs_1t']:.1f}; {int(st['threads'])}T {st['copy_gbs_mt']:.1f}/"
            f"{st['triad_gbs_mt']:.1f}/{st['read_gbs_mt']:.1f}"
        )
        for sc in ml["scatter"]:
            out.append(
                f"- scatter N={int(sc['n_targets'])} ({sc['buffer_mib']:.1f} MiB): 1T uniform "
                f"{_si(sc['uniform_events_per_s_1t'])}/s, CSR {_si(sc['csr_events_per_s_1t'])}/s; "
                f"{int(sc['threads'])}T uniform {_si(sc['uniform_events_per_s_mt'])}/s, CSR "
                f"{_si(sc['csr_events_per_s_mt'])}/s"
            )
    return "\n".join(out) + "\n"


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
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """Command-line parser of the harness."""
    ncores = os.cpu_count() or 1
    ap = argparse.ArgumentParser(
        prog="compare.py",
        description="Side-by-side benchmark of snnsim against Brian2 and NEST.",
    )
    ap.add_argument(
        "case", nargs="?", default=None, choices=[*CASES, "all"], help=argparse.SUPPRESS
    )
    ap.add_argument("--case", dest="case_opt", choices=[*CASES, "all"], default=None,
                    help="benchmark case (default: cuba)")  # fmt: skip
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=None,
        help="network sizes N (default per case: cuba 4000, scaled 4000 16000 64000 "
        "(256000 allowed), event 8000, sparse 256000)",
    )  # fmt: skip
    ap.add_argument(
        "--with", dest="with_", default=None,
        help="comma-separated peers: brian2, nest (or brian2-standalone, brian2-cython, "
        "brian2-numpy), or none; default: whichever is importable",
    )  # fmt: skip
    ap.add_argument("--repeats", type=int, default=3, help="repeats per simulator (default 3)")
    ap.add_argument(
        "--threads", type=int, nargs="+", default=sorted({1, ncores}),
        help=f"thread counts (default: 1 and all cores = {ncores})",
    )  # fmt: skip
    ap.add_argument("--duration", type=float, default=1000.0, help="biological time, ms")
    ap.add_argument("--event-in-degree", type=float, default=1000.0,
                    help="in-degree of the event case (capped at N)")  # fmt: skip
    ap.add_argument("--allow-slow", action="store_true", help=f"run NEST above N={SLOW_PEER_MAX_N}")
    ap.add_argument("--machine", action="store_true",
                    help="also run benchmarks/machine.py's machine_limits()")  # fmt: skip
    ap.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="S",
        help="before each run wait up to S seconds for other processes to use < 0.3 cores",
    )  # fmt: skip
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per simulation process")
    ap.add_argument("--out", default=None, help="write results.json, results.md and PNGs here")
    return ap


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
    args = build_parser().parse_args(None if argv is None else list(argv))
    case_arg = args.case_opt or args.case or "cuba"
    if args.repeats < 1:
        raise SystemExit("--repeats must be >= 1")
    if any(t < 1 for t in args.threads):
        raise SystemExit("--threads must be >= 1")
    threads = sorted(set(args.threads))
    peer_names = _parse_with(args.with_)
    hint = None
    if args.with_ is None and not peer_names:
        hint = (
            "Neither Brian2 nor NEST is installed: benchmarking snnsim alone. "
            f"For the side-by-side comparison: {_EXTRA_HINT}"
        )
        print(hint)
    variants = variants_for(peer_names, threads)
    cases = list(CASES) if case_arg == "all" else [case_arg]
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    env = environment()
    t_start = time.perf_counter()
    log(
        f"machine: {env['cores']} cores, {env['cpu']}; load average {env['loadavg_start'][0]:.2f}"
        f"; simulators: {', '.join(v.label for v in variants)}"
    )
    if env["loadavg_start"][0] > 0.5:
        log("warning: the machine is not idle (1-min load average > 0.5); timings are noisy")
    report: dict[str, Any] = {
        "command": " ".join(["benchmarks/compare.py", *(sys.argv[1:] if argv is None else argv)]),
        "environment": env,
        "repeats": args.repeats,
        "duration_ms": args.duration,
        "threads": threads,
        "simulators": [v.label for v in variants],
        "hint": hint,
        "cases": [],
    }
    if args.machine:
        from benchmarks.machine import machine_limits

        log("machine limits ...")
        report["machine_limits"] = machine_limits()
    failed = False
    build_root = Path(tempfile.mkdtemp(prefix="snnsim-compare-"))
    try:
        for case in cases:
            sizes = args.sizes if args.sizes else CASES[case]
            case_report: dict[str, Any] = {"case": case, "networks": []}
            for n in sizes:
                spec = network_spec(case, int(n), args.duration, args)
                log(f"\n== case {case}: {spec['builder']} N={n} ==")
                cells = measure_network(
                    spec,
                    variants,
                    args.repeats,
                    args.allow_slow,
                    build_root,
                    args.timeout,
                    log,
                    args.wait_idle,
                )
                failed |= any(c.error is not None for c in cells)
                rows = summarize(spec, cells)
                case_report["networks"].append(
                    {"spec": spec, "n": int(n), "rows": rows,
                     "runs": [{"label": c.variant.label, "runs": c.runs} for c in cells]}
                )  # fmt: skip
                log("")
                log(markdown_table(rows))
            all_rows = [r for net in case_report["networks"] for r in net["rows"]]
            log("\nspike counts:\n" + spike_table(all_rows))
            if out_dir is not None and case == "scaled":
                case_report["plots"] = make_plots(all_rows, out_dir)
            report["cases"].append(case_report)
    finally:
        shutil.rmtree(build_root, ignore_errors=True)
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
    if out_dir is not None:
        (out_dir / "results.json").write_text(json.dumps(_jsonable(report), indent=1))
        (out_dir / "results.md").write_text(render_markdown(report))
        log(f"\nwrote {out_dir / 'results.json'}, {out_dir / 'results.md'}")
    log(f"total {report['elapsed_s']:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
