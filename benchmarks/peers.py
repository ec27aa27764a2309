"""Run a :class:`~benchmarks.networks.NetworkArrays` network in Brian2 and NEST.

Every runner builds the identical network from the arrays, simulates ``net.duration`` ms while
recording spikes from all neurons, and returns a dict with at least:

``simulator`` (str)
    ``"brian2-standalone"``, ``"brian2-cython"``, ``"brian2-numpy"`` or ``"nest"``.
``threads`` (int)
    Threads used by the simulation.
``spikes`` (int)
    Total number of spikes.
``run_s`` (float)
    Wall time (s) of the simulation run alone (no construction, code generation or compilation).
``build_s`` (float)
    Network construction time (s).
``compile_s`` (float)
    Code generation plus compilation time (s); 0 where nothing is compiled.
``peak_rss_mb`` (float)
    Peak resident set size (MiB) of the process that ran the simulation. In-process this is the
    peak of the whole Python process so far; use :func:`run_in_subprocess` for a clean figure.
``spike_times`` (float64 array, ms), ``spike_ids`` (int64 array)
    Only with ``return_spikes=True``. Brian2 stamps a spike with the start of the step in which
    the threshold is crossed, NEST with its end (one ``dt`` later).

Model (identical everywhere; NEST's ``iaf_psc_exp`` semantics): exact integration,
``V >= V_th`` threshold, ``V`` clamped to ``V_reset`` for ``t_ref``, synaptic current jumps of
``w`` (nA) into the excitatory (``w >= 0``) or inhibitory (``w <= 0``) current after ``delay``.

Run ``python -m benchmarks.peers SPEC.json`` to execute one runner described by a JSON file (what
:func:`run_in_subprocess` does).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.networks import NetworkArrays, network_from_spec

__all__ = [
    "RUNNERS",
    "run_brian2_runtime",
    "run_brian2_standalone",
    "run_in_subprocess",
    "run_nest",
]

_EXTRA_HINT = "pip install snnsim[bench]"
_STANDALONE_PREFS = (
    "devices.cpp_standalone.openmp_threads",
    "devices.cpp_standalone.run_cmd_unix",
)

# Runs the standalone binary as a child and writes that child's own peak RSS (KiB) to a file, so
# the binary's memory is not mixed up with the compiler's or Python's.
_RSS_WRAPPER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "with open(os.environ['SNNSIM_BENCH_RSS_FILE'], 'w') as f:\n"
    "    f.write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _peak_rss_mb() -> float:
    """Peak RSS of this process (MiB); Linux reports ``ru_maxrss`` in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _import_brian2() -> Any:
    try:
        import brian2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"Brian2 is needed for the Brian2 benchmark runners: {_EXTRA_HINT}"
        ) from exc
    return brian2


def _import_nest() -> Any:
    os.environ.setdefault("PYNEST_QUIET", "1")  # no banner on import
    try:
        import nest
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"NEST (nest-simulator) is needed for the NEST benchmark runner: {_EXTRA_HINT}"
        ) from exc
    return nest


def _check_threads(fn: str, threads: int) -> int:
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"{fn}(threads={threads}): threads must be >= 1")
    return threads


def _base_result(net: NetworkArrays, simulator: str, threads: int) -> dict[str, Any]:
    return {
        "simulator": simulator,
        "threads": threads,
        "network": net.name,
        "n": net.n,
        "n_synapses": net.n_synapses,
        "duration_ms": net.duration,
        "dt_ms": net.dt,
        "loadavg_1m": os.getloadavg()[0],
    }


def _brian2_network(b2: Any, net: NetworkArrays) -> tuple[list[Any], Any]:
    """Create Brian2 objects for ``net``; return (objects, spike monitor)."""
    ms, mV, nA, nF = b2.ms, b2.mV, b2.nA, b2.nF
    p = net.params
    namespace = {
        "tau_m": p["tau_m"] * ms,
        "c_m": p["cm"] * nF,
        "v_rest": p["v_rest"] * mV,
        "v_reset": p["v_reset"] * mV,
        "v_thresh": p["v_thresh"] * mV,
        "tau_syn_exc": p["tau_syn_exc"] * ms,
        "tau_syn_inh": p["tau_syn_inh"] * ms,
    }
    eqs = """
    dv/dt = (v_rest - v)/tau_m + (ie + ii + i_offset)/c_m : volt (unless refractory)
    die/dt = -ie/tau_syn_exc : amp
    dii/dt = -ii/tau_syn_inh : amp
    """
    i_offset = np.asarray(p["i_offset"], dtype=np.float64)
    if i_offset.ndim == 0:
        namespace["i_offset"] = float(i_offset) * nA
    else:
        eqs += "i_offset : amp (constant)\n"
    group = b2.NeuronGroup(
        net.n,
        eqs,
        threshold="v >= v_thresh",
        reset="v = v_reset",
        refractory=p["tau_refrac"] * ms,
        method="exact",
        namespace=namespace,
        name="neurons",
    )
    group.v = net.v0 * mV
    if i_offset.ndim != 0:
        group.i_offset = i_offset * nA
    objects: list[Any] = [group]
    exc = net.sources < net.n_exc
    for label, mask, target_var in (("exc", exc, "ie"), ("inh", ~exc, "ii")):
        if not np.any(mask):
            continue
        delays = net.delays[mask]
        uniform_delay = bool(np.all(delays == delays[0]))
        syn = b2.Synapses(
            group,
            group,
            "w : amp (constant)",
            on_pre=f"{target_var}_post += w",
            delay=float(delays[0]) * ms if uniform_delay else None,
            name=f"syn_{label}",
        )
        syn.connect(i=net.sources[mask], j=net.targets[mask])
        syn.w = net.weights[mask] * nA
        if not uniform_delay:
            syn.delay = delays * ms
        objects.append(syn)
    monitor = b2.SpikeMonitor(group, name="spikes")
    objects.append(monitor)
    return objects, monitor


def run_brian2_standalone(
    net: NetworkArrays,
    threads: int = 1,
    *,
    return_spikes: bool = False,
    build_dir: str | os.PathLike[str] | None = None,
    keep_build_dir: bool = False,
) -> dict[str, Any]:
    """Run ``net`` with Brian2's ``cpp_standalone`` device.

    Parameters
    ----------
    net : NetworkArrays
        Network to simulate for ``net.duration`` ms.
    threads : int
        1 builds without OpenMP (``openmp_threads = 0``); ``threads > 1`` sets
        ``prefs.devices.cpp_standalone.openmp_threads = threads``.
    return_spikes : bool
        Also return ``spike_times`` (ms) and ``spike_ids``.
    build_dir : path-like, optional
        Project directory; default: a fresh temporary directory, so every call is a cold build
        (code generation and a full g++ compile).
    keep_build_dir : bool
        Keep a temporary ``build_dir`` instead of deleting it.

    Returns
    -------
    dict
        The common keys (see module docstring) plus ``codegen_s`` (the part of ``compile_s``
        spent in ``Network.run``, which generates the code objects; the rest is writing the
        project and g++), ``binary_wall_s`` (wall time of the whole binary, including loading
        its arrays and writing results), ``python_peak_rss_mb`` and ``build_dir`` (kept
        project directory or None).
        ``run_s`` is the binary's own timer around the network run: wall time with OpenMP, CPU
        time (``std::clock``) without, which equals wall time on one busy thread.
        ``peak_rss_mb`` is the peak RSS of the compiled binary alone.
    """
    threads = _check_threads("run_brian2_standalone", threads)
    b2 = _import_brian2()
    tmp = build_dir is None
    directory = Path(tempfile.mkdtemp(prefix="snnsim-b2sa-") if tmp else build_dir).resolve()
    rss_file = directory / "binary_maxrss_kib.txt"
    saved_prefs: dict[str, Any] = {}
    try:
        b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
        b2.device.reinit()
        b2.device.activate(directory=str(directory), build_on_run=False)
        saved_prefs = {key: b2.prefs[key] for key in _STANDALONE_PREFS}
        b2.prefs["devices.cpp_standalone.openmp_threads"] = threads if threads > 1 else 0
        b2.prefs["devices.cpp_standalone.run_cmd_unix"] = [
            sys.executable, "-c", _RSS_WRAPPER, "./main",
        ]  # fmt: skip
        b2.defaultclock.dt = net.dt * b2.ms

        t0 = time.perf_counter()
        objects, monitor = _brian2_network(b2, net)
        network = b2.Network(*objects)
        build_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        network.run(net.duration * b2.ms)  # code generation of the code objects
        codegen_s = time.perf_counter() - t0
        b2.device.build(directory=str(directory), compile=True, run=False, with_output=False)
        compile_s = time.perf_counter() - t0

        old = os.environ.get("SNNSIM_BENCH_RSS_FILE")
        os.environ["SNNSIM_BENCH_RSS_FILE"] = str(rss_file)
        try:
            t0 = time.perf_counter()
            b2.device.run(directory=str(directory), with_output=False)
            binary_wall_s = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("SNNSIM_BENCH_RSS_FILE", None)
            else:
                os.environ["SNNSIM_BENCH_RSS_FILE"] = old
        binary_rss_mb = float(rss_file.read_text()) / 1024.0

        result = _base_result(net, "brian2-standalone", threads)
        result.update(
            spikes=int(monitor.num_spikes),
            run_s=float(b2.device._last_run_time),
            build_s=build_s,
            compile_s=compile_s,
            codegen_s=codegen_s,
            binary_wall_s=binary_wall_s,
            peak_rss_mb=binary_rss_mb,
            python_peak_rss_mb=_peak_rss_mb(),
            build_dir=str(directory) if (keep_build_dir or not tmp) else None,
        )
        if return_spikes:
            result["spike_times"] = np.asarray(monitor.t_[:], dtype=np.float64) * 1e3
            result["spike_ids"] = np.asarray(monitor.i[:], dtype=np.int64)
        return result
    finally:
        for key, value in saved_prefs.items():
            b2.prefs[key] = value
        b2.device.reinit()
        b2.set_device("runtime")
        if tmp and not keep_build_dir:
            shutil.rmtree(directory, ignore_errors=True)


def run_brian2_runtime(
    net: NetworkArrays,
    threads: int = 1,
    *,
    target: str = "cython",
    return_spikes: bool = False,
) -> dict[str, Any]:
    """Run ``net`` with Brian2's runtime device (``cython`` or ``numpy`` code generation target).

    ``compile_s`` is the time of a warm-up ``run(0*ms)`` (code generation, and Cython compilation
    unless Brian's Cython cache already holds the modules); ``run_s`` is the following
    ``net.run(duration)``, including Brian's per-run overhead.

    Parameters
    ----------
    net : NetworkArrays
        Network to simulate for ``net.duration`` ms.
    threads : int
        Must be 1 (the runtime targets are single-threaded).
    target : {"cython", "numpy"}
        Brian2 code generation target.
    return_spikes : bool
        Also return ``spike_times`` (ms) and ``spike_ids``.

    Returns
    -------
    dict
        The common keys (see module docstring); ``simulator`` is ``"brian2-<target>"``.
    """
    threads = _check_threads("run_brian2_runtime", threads)
    if threads != 1:
        raise ValueError(f"run_brian2_runtime(threads={threads}): the runtime device uses 1 thread")
    if target not in ("cython", "numpy"):
        raise ValueError(f"run_brian2_runtime(target={target!r}): expected 'cython' or 'numpy'")
    b2 = _import_brian2()
    b2.set_device("runtime")
    b2.device.reinit()
    saved_target = b2.prefs["codegen.target"]
    b2.prefs["codegen.target"] = target
    try:
        b2.defaultclock.dt = net.dt * b2.ms

        t0 = time.perf_counter()
        objects, monitor = _brian2_network(b2, net)
        network = b2.Network(*objects)
        build_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        network.run(0 * b2.ms)
        compile_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        network.run(net.duration * b2.ms)
        run_s = time.perf_counter() - t0
    finally:
        b2.prefs["codegen.target"] = saved_target

    result = _base_result(net, f"brian2-{target}", threads)
    result.update(
        spikes=int(monitor.num_spikes),
        run_s=run_s,
        build_s=build_s,
        compile_s=compile_s,
        peak_rss_mb=_peak_rss_mb(),
    )
    if return_spikes:
        result["spike_times"] = np.asarray(monitor.t_[:], dtype=np.float64) * 1e3
        result["spike_ids"] = np.asarray(monitor.i[:], dtype=np.int64)
    return result


def run_nest(
    net: NetworkArrays,
    threads: int = 1,
    *,
    return_spikes: bool = False,
    batch_size: int = 4_000_000,
) -> dict[str, Any]:
    """Run ``net`` in NEST with ``iaf_psc_exp`` neurons and ``static_synapse`` connections.

    Units are converted to NEST's (pA = 1000 nA, pF = 1000 nF). Synapses are created with
    ``Connect(src_ids, tgt_ids, "one_to_one", {"weight": pA, "delay": ms})`` in batches. After
    ``Prepare()``, a first ``Run(dt)`` builds the connection infrastructure and is counted in
    ``build_s``; ``run_s`` is the wall time of ``Run(duration - dt)``.

    Parameters
    ----------
    net : NetworkArrays
        Network to simulate for ``net.duration`` ms.
    threads : int
        ``nest.local_num_threads``.
    return_spikes : bool
        Also return ``spike_times`` (ms; NEST stamps the end of the step) and ``spike_ids``.
    batch_size : int
        Synapses per ``Connect`` call (bounds the temporary memory of the conversion).

    Returns
    -------
    dict
        The common keys (see module docstring) plus ``min_delay_ms`` and ``run_steps`` (number
        of steps timed in ``run_s``: one fewer than the whole run).
    """
    threads = _check_threads("run_nest", threads)
    if batch_size < 1:
        raise ValueError(f"run_nest(batch_size={batch_size}): batch_size must be >= 1")
    nest = _import_nest()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"resolution": net.dt, "local_num_threads": threads})

    p = net.params
    t0 = time.perf_counter()
    neurons = nest.Create(
        "iaf_psc_exp",
        net.n,
        params={
            "C_m": p["cm"] * 1e3,
            "tau_m": p["tau_m"],
            "E_L": p["v_rest"],
            "V_reset": p["v_reset"],
            "V_th": p["v_thresh"],
            "t_ref": p["tau_refrac"],
            "tau_syn_ex": p["tau_syn_exc"],
            "tau_syn_in": p["tau_syn_inh"],
            "I_e": 0.0,
        },
    )
    neurons.set(V_m=net.v0)
    i_offset = np.asarray(p["i_offset"], dtype=np.float64)
    if i_offset.ndim == 0:
        neurons.set(I_e=float(i_offset) * 1e3)
    else:
        neurons.set(I_e=i_offset * 1e3)
    first_id = int(neurons[0].global_id)
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    for a in range(0, net.n_synapses, batch_size):
        b = min(a + batch_size, net.n_synapses)
        nest.Connect(
            net.sources[a:b] + first_id,
            net.targets[a:b] + first_id,
            "one_to_one",
            {
                "synapse_model": "static_synapse",
                "weight": net.weights[a:b] * 1e3,
                "delay": np.asarray(net.delays[a:b], dtype=np.float64),
            },
        )
    nest.Prepare()
    nest.Run(net.dt)
    build_s = time.perf_counter() - t0

    steps = net.n_steps - 1
    t0 = time.perf_counter()
    if steps > 0:
        nest.Run(steps * net.dt)
    run_s = time.perf_counter() - t0
    nest.Cleanup()

    result = _base_result(net, "nest", threads)
    result.update(
        spikes=int(recorder.n_events),
        run_s=run_s,
        build_s=build_s,
        compile_s=0.0,
        peak_rss_mb=_peak_rss_mb(),
        min_delay_ms=float(nest.min_delay),
        run_steps=steps,
    )
    if return_spikes:
        events = recorder.get("events")
        result["spike_times"] = np.asarray(events["times"], dtype=np.float64)
        result["spike_ids"] = np.asarray(events["senders"], dtype=np.int64) - first_id
    return result


def _brian2_cython(net: NetworkArrays, threads: int = 1, **opts: Any) -> dict[str, Any]:
    return run_brian2_runtime(net, threads, target="cython", **opts)


def _brian2_numpy(net: NetworkArrays, threads: int = 1, **opts: Any) -> dict[str, Any]:
    return run_brian2_runtime(net, threads, target="numpy", **opts)


#: Runner functions by name, as accepted by :func:`run_in_subprocess`.
RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "brian2-standalone": run_brian2_standalone,
    "brian2-runtime": run_brian2_runtime,
    "brian2-cython": _brian2_cython,
    "brian2-numpy": _brian2_numpy,
    "nest": run_nest,
}


def run_in_subprocess(
    runner_name: str,
    net_spec: dict[str, Any] | NetworkArrays,
    *,
    timeout: float | None = None,
    python: str | None = None,
    **opts: Any,
) -> dict[str, Any]:
    """Run one runner in a fresh Python process, so that peak RSS and imports are its own.

    The child rebuilds the network from its spec (builders are deterministic), calls
    ``RUNNERS[runner_name](net, **opts)`` and hands the result back as JSON (spike arrays
    through a temporary ``.npz`` when ``return_spikes=True``).

    Parameters
    ----------
    runner_name : str
        A key of :data:`RUNNERS`.
    net_spec : dict or NetworkArrays
        ``{"builder": name, "kwargs": {...}, "seed": int (optional)}`` as accepted by
        :func:`~benchmarks.networks.network_from_spec`, or a network made by a builder (its
        ``spec`` is used).
    timeout : float, optional
        Seconds before the child is killed (``subprocess.TimeoutExpired`` is raised).
    python : str, optional
        Interpreter for the child; default ``sys.executable``.
    **opts
        Keyword arguments for the runner (``threads``, ``return_spikes``, ``target``, ...).
        Must be JSON-serialisable.

    Returns
    -------
    dict
        The runner's result plus ``net_build_s`` (time to rebuild the arrays in the child, s).

    Raises
    ------
    RuntimeError
        If the child fails; the message holds the end of its stderr.
    """
    if runner_name not in RUNNERS:
        raise ValueError(f"run_in_subprocess({runner_name!r}): expected one of {sorted(RUNNERS)}")
    if isinstance(net_spec, NetworkArrays):
        if net_spec.spec is None:
            raise ValueError(
                f"run_in_subprocess: network {net_spec.name!r} has no spec; build it with a "
                "builder from benchmarks.networks or pass the spec dict"
            )
        net_spec = net_spec.spec
    repo_root = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory(prefix="snnsim-bench-") as tmp:
        job = {
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
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, env.get("PYTHONPATH")]))
        env.setdefault("PYNEST_QUIET", "1")
        proc = subprocess.run(
            [python or sys.executable, "-m", "benchmarks.peers", job_path],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not os.path.exists(job["result_path"]):
            raise RuntimeError(
                f"run_in_subprocess({runner_name!r}, {net_spec}) failed with exit code "
                f"{proc.returncode}:\n{proc.stderr[-4000:]}"
            )
        with open(job["result_path"]) as f:
            result: dict[str, Any] = json.load(f)
        if os.path.exists(job["spikes_path"]):
            with np.load(job["spikes_path"]) as data:
                result["spike_times"] = data["spike_times"]
                result["spike_ids"] = data["spike_ids"]
    return result


def _child_main(job_path: str) -> int:
    """Entry point of the child process started by :func:`run_in_subprocess`."""
    with open(job_path) as f:
        job = json.load(f)
    t0 = time.perf_counter()
    net = network_from_spec(job["net_spec"])
    net_build_s = time.perf_counter() - t0
    result = RUNNERS[job["runner"]](net, **job["opts"])
    result["net_build_s"] = net_build_s
    times = result.pop("spike_times", None)
    ids = result.pop("spike_ids", None)
    if times is not None:
        np.savez(job["spikes_path"], spike_times=times, spike_ids=ids)
    clean = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.items()}
    with open(job["result_path"], "w") as f:
        json.dump(clean, f)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m benchmarks.peers JOB.json\n")
        sys.exit(2)
    sys.exit(_child_main(sys.argv[1]))
