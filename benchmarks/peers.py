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
``pop_spikes``, ``pop_spikes_window``, ``rate_window_ms``, ``spike_hash``
    Per-population spike counts and a fingerprint of the spike train
    (:func:`benchmarks.common.spike_summary`).
``spike_times`` (float64 array, ms), ``spike_ids`` (int64 array)
    Only with ``return_spikes=True``. Brian2 stamps a spike with the start of the step in which
    the threshold is crossed, NEST with its end (one ``dt`` later).

Model (identical everywhere; NEST's ``iaf_psc_exp`` semantics): exact integration,
``V >= V_th`` threshold, ``V`` clamped to ``V_reset`` for ``t_ref``, synaptic current jumps of
``w`` (nA) into the excitatory current (synapses from excitatory populations, ``w >= 0``) or
the inhibitory one (``w <= 0``) after ``delay``. Weights are the arrays' float32 values,
delays ``delay_steps * dt``. A :class:`~benchmarks.networks.PoissonDrive` becomes Brian2's
``PoissonInput`` on the block of neurons, or one NEST ``poisson_generator`` of rate
``n_inputs * rate`` connected to every neuron of the block (delay ``dt``).

Brian2 counts refractoriness from the start of the step in which the threshold was crossed,
NEST (and snnsim) from its end: NEST clamps ``V`` during the ``t_ref / dt`` steps *after* the
spike step, Brian2 with ``refractory=t_ref`` during ``t_ref / dt - 1`` of them. The Brian2
runners therefore pass ``refractory = t_ref + dt``; with it Brian2 reproduces NEST's spikes
exactly on the deterministic networks (checked spike for spike: CUBA, N = 4000, 300 ms, 7062
spikes), where ``refractory=t_ref`` gives about 1.5 % more spikes.

Run ``python -m benchmarks.peers JOB.json`` to execute one runner described by a job file (see
:mod:`benchmarks.common`; :func:`run_in_subprocess` does it).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    EXTRA_HINT,
    base_result,
    child_main,
    current_rss_mb,
    peak_rss_mb,
    run_child,
    spike_summary,
)
from benchmarks.networks import NetworkArrays
from benchmarks.stdp import brian2_plastic_synapses, nest_plastic_spec, plastic_mask, weight_stats

__all__ = [
    "RUNNERS",
    "run_brian2_runtime",
    "run_brian2_standalone",
    "run_in_subprocess",
    "run_nest",
]

_EXTRA_HINT = EXTRA_HINT
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


def _brian2_network(b2: Any, net: NetworkArrays) -> tuple[list[Any], Any]:
    """Create Brian2 objects for ``net``; return (objects, spike monitor)."""
    ms, mV, nA, nF, Hz = b2.ms, b2.mV, b2.nA, b2.nF, b2.Hz
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
        refractory=(p["tau_refrac"] + net.dt) * ms,  # NEST's count (module docstring)
        method="exact",
        namespace=namespace,
        name="neurons",
    )
    group.v = np.asarray(net.v0, dtype=np.float64) * mV
    if i_offset.ndim != 0:
        group.i_offset = i_offset * nA
    objects: list[Any] = [group]
    exc = exc_src = net.excitatory_neurons()[net.sources]
    if net.plasticity:
        plastic = plastic_mask(net.sources, net.targets, net.n_exc)
        steps = net.delay_steps[plastic]
        if steps.size and np.any(steps != steps[0]):
            raise ValueError("the Brian2 STDP synapses take one uniform delay")
        if steps.size:
            objects.append(
                brian2_plastic_synapses(
                    b2, group, net.sources[plastic], net.targets[plastic],
                    net.weights[plastic], float(steps[0]) * net.dt, net.plasticity,
                )
            )  # fmt: skip
        exc = exc & ~plastic
    for label, mask, target_var in (("exc", exc, "ie"), ("inh", ~exc_src, "ii")):
        if not np.any(mask):
            continue
        steps = net.delay_steps[mask]
        uniform_delay = bool(np.all(steps == steps[0]))
        syn = b2.Synapses(
            group,
            group,
            "w : amp (constant)",
            on_pre=f"{target_var}_post += w",
            delay=float(steps[0]) * net.dt * ms if uniform_delay else None,
            name=f"syn_{label}",
        )
        syn.connect(i=net.sources[mask], j=net.targets[mask])
        syn.w = net.weights[mask].astype(np.float64) * nA
        if not uniform_delay:
            syn.delay = steps.astype(np.float64) * net.dt * ms
        objects.append(syn)
    for drive in net.poisson:
        if drive.n_inputs == 0 or drive.stop == drive.start:
            continue
        objects.append(
            b2.PoissonInput(
                group[drive.start : drive.stop],
                "ie",
                N=int(drive.n_inputs),
                rate=drive.rate_hz * Hz,
                weight=drive.weight * nA,
            )
        )
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
        Project directory. A new (empty) one means a cold build: code generation and a full
        g++ compile; reusing a directory of an earlier build of the same network is a warm
        build (Brian2 rewrites only changed files and ``make`` recompiles nothing). Default:
        a fresh temporary directory.
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
    directory = Path(
        tempfile.mkdtemp(prefix="snnsim-b2sa-") if build_dir is None else build_dir
    ).resolve()
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

        result = base_result(net, "brian2-standalone", threads)
        times = np.asarray(monitor.t_[:], dtype=np.float64) * 1e3
        ids = np.asarray(monitor.i[:], dtype=np.int64)
        result.update(
            spikes=int(ids.size),
            run_s=float(b2.device._last_run_time),
            build_s=build_s,
            compile_s=compile_s,
            codegen_s=codegen_s,
            binary_wall_s=binary_wall_s,
            peak_rss_mb=binary_rss_mb,
            python_peak_rss_mb=peak_rss_mb(),
            build_dir=str(directory) if (keep_build_dir or not tmp) else None,
            brian2=b2.__version__,
        )
        result.update(spike_summary(net, times, ids))
        result.update(_brian2_weights(net, objects))
        if return_spikes:
            result["spike_times"] = times
            result["spike_ids"] = ids
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
    cython_cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Run ``net`` with Brian2's runtime device (``cython`` or ``numpy`` code generation target).

    ``compile_s`` is the time of a warm-up ``run(0*ms)`` (code generation, and Cython compilation
    unless the Cython cache already holds the modules); ``run_s`` is the following
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
    cython_cache_dir : path-like, optional
        ``prefs.codegen.runtime.cython.cache_dir``: an empty folder gives a cold compile, one
        filled by an earlier run of the same network a warm one. Default: Brian2's own cache.

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
    saved = {key: b2.prefs[key] for key in ("codegen.target", "codegen.runtime.cython.cache_dir")}
    b2.prefs["codegen.target"] = target
    if cython_cache_dir is not None:
        b2.prefs["codegen.runtime.cython.cache_dir"] = str(cython_cache_dir)
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
        for key, value in saved.items():
            b2.prefs[key] = value

    result = base_result(net, f"brian2-{target}", threads)
    times = np.asarray(monitor.t_[:], dtype=np.float64) * 1e3
    ids = np.asarray(monitor.i[:], dtype=np.int64)
    result.update(
        spikes=int(ids.size),
        run_s=run_s,
        build_s=build_s,
        compile_s=compile_s,
        peak_rss_mb=peak_rss_mb(),
        rss_after_run_mb=current_rss_mb(),
        brian2=b2.__version__,
    )
    result.update(spike_summary(net, times, ids))
    result.update(_brian2_weights(net, objects))
    if return_spikes:
        result["spike_times"] = times
        result["spike_ids"] = ids
    return result


def _brian2_weights(net: NetworkArrays, objects: list[Any]) -> dict[str, Any]:
    """``{"weights": stats}`` of the plastic synapses after a run (empty without plasticity)."""
    plastic = [o for o in objects if getattr(o, "name", "") == "syn_exc_exc_stdp"]
    if not net.plasticity or not plastic:
        return {}
    w = np.asarray(plastic[0].w_[:], dtype=np.float64) * 1e9  # A -> nA
    return {"weights": weight_stats(w, net.plasticity)}


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
    neurons.set(V_m=np.asarray(net.v0, dtype=np.float64))
    i_offset = np.asarray(p["i_offset"], dtype=np.float64)
    if i_offset.ndim == 0:
        neurons.set(I_e=float(i_offset) * 1e3)
    else:
        neurons.set(I_e=i_offset * 1e3)
    first_id = int(neurons[0].global_id)
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    static: dict[str, Any] = {"synapse_model": "static_synapse"}
    stdp = nest_plastic_spec(net.plasticity) if net.plasticity else None
    if net.plasticity:
        neurons.set(tau_minus=float(net.plasticity["tau_minus"]))
    for a in range(0, net.n_synapses, batch_size):
        b = min(a + batch_size, net.n_synapses)
        src, tgt = net.sources[a:b].astype(np.int64), net.targets[a:b].astype(np.int64)
        weight, delay = net.weights[a:b].astype(np.float64) * 1e3, net.delays_ms(a, b)
        parts = [(np.ones(b - a, dtype=bool), static)]
        if stdp is not None:
            mask = plastic_mask(src, tgt, net.n_exc)
            parts = [(mask, stdp), (~mask, static)]
        for sel, spec in parts:
            if not sel.any():
                continue
            nest.Connect(
                src[sel] + first_id, tgt[sel] + first_id, "one_to_one",
                {**spec, "weight": weight[sel], "delay": delay[sel]},
            )  # fmt: skip
    for drive in net.poisson:
        if drive.n_inputs == 0 or drive.stop == drive.start:
            continue
        rate = drive.n_inputs * drive.rate_hz
        generator = nest.Create("poisson_generator", params={"rate": rate})
        nest.Connect(
            generator,
            neurons[drive.start : drive.stop],
            "all_to_all",
            {"synapse_model": "static_synapse", "weight": drive.weight * 1e3, "delay": net.dt},
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
    learned: dict[str, Any] = {}
    if net.plasticity:
        w = nest.GetConnections(synapse_model="stdp_synapse").get("weight")
        w = np.asarray(w, dtype=np.float64).ravel() * 1e-3  # pA -> nA
        learned = {"weights": weight_stats(w, net.plasticity)}

    events = recorder.get("events")
    times = np.asarray(events["times"], dtype=np.float64)
    ids = np.asarray(events["senders"], dtype=np.int64) - first_id
    result = base_result(net, "nest", threads)
    result.update(
        spikes=int(recorder.n_events),
        run_s=run_s,
        build_s=build_s,
        compile_s=0.0,
        peak_rss_mb=peak_rss_mb(),
        rss_after_run_mb=current_rss_mb(),
        min_delay_ms=float(nest.min_delay),
        run_steps=steps,
        nest=str(nest.__version__),
    )
    result.update(spike_summary(net, times, ids))
    result.update(learned)
    if return_spikes:
        result["spike_times"] = times
        result["spike_ids"] = ids
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
    net: NetworkArrays | Mapping[str, Any] | str | os.PathLike[str],
    *,
    timeout: float | None = None,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    memory_limit_bytes: int | None = None,
    **opts: Any,
) -> dict[str, Any]:
    """Run one runner in a fresh Python process, so that peak RSS and imports are its own.

    Parameters
    ----------
    runner_name : str
        A key of :data:`RUNNERS`.
    net : NetworkArrays, dict or path-like
        A network (written to a temporary folder that the child memory-maps), a saved network
        folder (:meth:`~benchmarks.networks.NetworkArrays.save`), or a spec
        ``{"builder": name, "kwargs": {...}}`` that the child rebuilds.
    timeout : float, optional
        Seconds before the child is killed (``subprocess.TimeoutExpired`` is raised).
    python : str, optional
        Interpreter for the child; default ``sys.executable``.
    env : mapping, optional
        Extra environment variables of the child.
    memory_limit_bytes : int, optional
        Address-space limit of the child (see :func:`benchmarks.common.run_child`).
    **opts
        Keyword arguments for the runner (``threads``, ``return_spikes``, ``target``, ...).
        Must be JSON-serialisable.

    Returns
    -------
    dict
        The runner's result plus ``net_load_s`` (time to load or rebuild the network in the
        child, s).

    Raises
    ------
    benchmarks.common.ChildError
        If the child fails (a ``RuntimeError``); ``reason`` says why in one line.
    """
    if runner_name not in RUNNERS:
        raise ValueError(f"run_in_subprocess({runner_name!r}): expected one of {sorted(RUNNERS)}")
    return run_network_in_child(
        "benchmarks.peers",
        runner_name,
        net,
        opts,
        timeout=timeout,
        python=python,
        env=env,
        memory_limit_bytes=memory_limit_bytes,
    )


def run_network_in_child(
    module: str,
    runner_name: str,
    net: NetworkArrays | Mapping[str, Any] | str | os.PathLike[str],
    opts: Mapping[str, Any],
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`benchmarks.common.run_child`, writing an in-memory network to a temporary folder."""
    if not isinstance(net, NetworkArrays):
        return run_child(module, runner_name, net, opts, **kwargs)
    with tempfile.TemporaryDirectory(prefix="snnsim-bench-net-") as tmp:
        net.save(tmp)
        return run_child(module, runner_name, tmp, opts, **kwargs)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv, RUNNERS))
