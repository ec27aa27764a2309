"""Run a :class:`~benchmarks.networks.NetworkArrays` network in snnsim, like the peer runners.

:func:`run_snnsim` builds the identical network from the arrays that
:mod:`benchmarks.peers` gives Brian2 and NEST, and returns a dict with the same keys (see the
docstring of :mod:`benchmarks.peers`), plus ``synaptic_events`` (snnsim's own counter of
delivered events) and ``loadavg_1m``.

Mapping:

* one ``snn.LIF`` population of ``net.n`` neurons with ``net.scalar_params()`` (PyNN units are
  snnsim's units), ``initialize(v=net.v0)``;
* synapses through ``snn.FromList(pre, post, weight, delay)``, one ``connect`` per receptor
  (``weights >= 0`` on ``"exc"``, ``< 0`` on ``"inh"``);
* a constant ``i_offset`` stays a model parameter; a per-neuron ``i_offset`` becomes
  ``i_offset = 0`` plus one ``snn.StepCurrent(times=[0.0], amplitudes=[I])`` on the view of the
  neurons sharing each distinct value ``I`` (the current is seen from the first step on, like
  ``i_offset``);
* spikes of every neuron are recorded.

``build_s`` is the wall time of describing the network plus ``Network.build()`` minus the
compile (or cache load) time of the run loop, which is ``compile_s = Engine.compile_s``.
``run_s`` is ``RunStats.wall_s`` of one ``run(net.duration)``.

Run ``python -m benchmarks.snnsim_runner JOB.json`` to execute :func:`run_snnsim` in a fresh
process (what ``benchmarks.compare.run_in_subprocess("snnsim", ...)`` does; the job file has
the layout of :func:`benchmarks.peers.run_in_subprocess`'s).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

import numpy as np

from benchmarks.networks import NetworkArrays, network_from_spec

__all__ = ["run_snnsim"]


def _peak_rss_mb() -> float:
    """Peak RSS of this process (MiB); Linux reports ``ru_maxrss`` in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_snnsim_network(net: NetworkArrays, threads: int = 1) -> tuple[Any, Any]:
    """Describe ``net`` as an snnsim network (not built yet).

    Parameters
    ----------
    net : NetworkArrays
        Network to translate.
    threads : int
        ``Network(threads=...)``.

    Returns
    -------
    network : snnsim.Network
    recorder : snnsim.SpikeRecorder
        Records every neuron.
    """
    import snnsim as snn

    i_offset = net.i_offset_array()
    constant = bool(np.all(i_offset == i_offset[0]))
    params = net.scalar_params()
    params["i_offset"] = float(i_offset[0]) if constant else 0.0
    network = snn.Network(dt=net.dt, seed=1, threads=int(threads))
    pop = network.add_population(net.n, snn.LIF(**params), label="neurons")
    pop.initialize(v=np.asarray(net.v0, dtype=np.float64))
    exc = net.weights >= 0
    for receptor, mask in (("exc", exc), ("inh", ~exc)):
        if not np.any(mask):
            continue
        connector = snn.FromList(
            pre=net.sources[mask],
            post=net.targets[mask],
            weight=net.weights[mask],
            delay=net.delays[mask],
        )
        network.connect(pop, pop, connector, receptor=receptor, label=f"syn_{receptor}")
    if not constant:
        values, inverse = np.unique(i_offset, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(values.size + 1))
        for k, value in enumerate(values.tolist()):
            if value == 0.0:
                continue
            members = order[bounds[k] : bounds[k + 1]]
            network.add_input(pop[members], snn.StepCurrent(times=[0.0], amplitudes=[value]))
    recorder = network.record_spikes(pop)
    return network, recorder


def run_snnsim(
    net: NetworkArrays, threads: int = 1, *, return_spikes: bool = False
) -> dict[str, Any]:
    """Run ``net`` in snnsim with the same result keys as the runners of :mod:`benchmarks.peers`.

    Parameters
    ----------
    net : NetworkArrays
        Network to simulate for ``net.duration`` ms.
    threads : int
        Worker threads of the snnsim run loop (``Network(threads=...)``).
    return_spikes : bool
        Also return ``spike_times`` (ms; snnsim stamps a spike at the end of its step, like
        NEST) and ``spike_ids``.

    Returns
    -------
    dict
        ``simulator`` (``"snnsim"``), ``threads``, ``network``, ``n``, ``n_synapses``,
        ``duration_ms``, ``dt_ms``, ``loadavg_1m``, ``spikes``, ``run_s``, ``build_s``,
        ``compile_s``, ``peak_rss_mb``, ``synaptic_events``, ``neuron_updates``, ``snnsim``
        (version) and, with ``return_spikes``, ``spike_times`` and ``spike_ids``.
    """
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"run_snnsim(threads={threads}): threads must be >= 1")
    import snnsim as snn

    t0 = time.perf_counter()
    network, recorder = build_snnsim_network(net, threads)
    engine = network.build()
    build_wall = time.perf_counter() - t0
    compile_s = float(engine.compile_s)

    stats = network.run(net.duration)
    result: dict[str, Any] = {
        "simulator": "snnsim",
        "threads": threads,
        "network": net.name,
        "n": net.n,
        "n_synapses": net.n_synapses,
        "duration_ms": net.duration,
        "dt_ms": net.dt,
        "loadavg_1m": os.getloadavg()[0],
        "spikes": int(recorder.count),
        "run_s": float(stats.wall_s),
        "build_s": build_wall - compile_s,
        "compile_s": compile_s,
        "peak_rss_mb": _peak_rss_mb(),
        "synaptic_events": int(stats.synaptic_events),
        "neuron_updates": int(stats.neuron_updates),
        "snnsim": snn.__version__,
    }
    if return_spikes:
        result["spike_times"] = np.asarray(recorder.times, dtype=np.float64)
        result["spike_ids"] = np.asarray(recorder.ids, dtype=np.int64)
    return result


def _child_main(job_path: str) -> int:
    """Entry point of a child process: run the job in ``job_path`` and write its result."""
    with open(job_path) as f:
        job = json.load(f)
    t0 = time.perf_counter()
    net = network_from_spec(job["net_spec"])
    net_build_s = time.perf_counter() - t0
    result = run_snnsim(net, **job["opts"])
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
        sys.stderr.write("usage: python -m benchmarks.snnsim_runner JOB.json\n")
        sys.exit(2)
    sys.exit(_child_main(sys.argv[1]))
