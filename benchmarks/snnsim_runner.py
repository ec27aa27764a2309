"""Run a :class:`~benchmarks.networks.NetworkArrays` network in snnsim, like the peer runners.

:func:`run_snnsim` builds the identical network from the arrays that
:mod:`benchmarks.peers` gives Brian2 and NEST, and returns a dict with the same keys (see the
docstring of :mod:`benchmarks.peers`), plus ``synaptic_events`` and ``neuron_updates``
(snnsim's own counters), ``precision`` and ``rss_after_run_mb``.

Mapping:

* one ``snn.LIF`` population of ``net.n`` neurons with ``net.scalar_params()`` (PyNN units are
  snnsim's units), ``initialize(v=net.v0)``;
* synapses through ``snn.FromList(pre, post, weight, delay)``, one ``connect`` per run of
  excitatory (``"exc"``) or inhibitory (``"inh"``) source neurons; sources are sorted, so each
  run is a slice of the arrays and FromList keeps them without copies (int32 indices, float32
  weights; float32 delays with ``round_delays=True``, which rounds ``steps * dt`` back to
  exactly ``steps``);
* a constant ``i_offset`` stays a model parameter; a per-neuron ``i_offset`` becomes
  ``i_offset = 0`` plus one ``snn.StepCurrent(times=[0.0], amplitudes=[I])`` on the view of the
  neurons sharing each distinct value ``I`` (seen from the first step on, like ``i_offset``);
* each :class:`~benchmarks.networks.PoissonDrive` becomes ``snn.PoissonInput(n_inputs, rate,
  weight, receptor="exc")`` on its block of neurons;
* spikes of every neuron are recorded;
* with ``net.plasticity`` (the ``stdp`` case, :mod:`benchmarks.stdp`) the exc -> exc synapses
  of each excitatory block are connected apart with ``plasticity=snn.STDP(**net.plasticity)``
  (copies of their slices), and the result gets ``weights``
  (:func:`benchmarks.stdp.weight_stats` of their weights after the run). The runner
  ``snnsim-static`` runs the same network with every synapse static (the cost of plasticity).

``build_s`` is the wall time of describing the network plus ``Network.build()`` minus the
compile (or cache load) time of the run loop, which is ``compile_s = Engine.compile_s``.
``run_s`` is ``RunStats.wall_s`` of one ``run(net.duration)``. The synapse arrays of ``net``
are released (:meth:`~benchmarks.networks.NetworkArrays.release_synapses`) before
``Network.build()``, so the peak RSS is snnsim's own.

Run ``python -m benchmarks.snnsim_runner JOB.json`` to execute :func:`run_snnsim` in a fresh
process (see :mod:`benchmarks.common`).
"""

from __future__ import annotations

import functools
import inspect
import sys
import time
from typing import Any

import numpy as np

from benchmarks.common import base_result, child_main, current_rss_mb, peak_rss_mb, spike_summary
from benchmarks.networks import NetworkArrays
from benchmarks.stdp import plastic_mask, weight_stats

__all__ = ["RUNNERS", "build_snnsim_network", "run_snnsim", "supported_precisions"]


def supported_precisions() -> list[str]:
    """Precisions this snnsim accepts: ``["double"]``, plus ``"single"`` with ``precision=``."""
    import snnsim as snn

    params = inspect.signature(snn.Network).parameters
    return ["double", "single"] if "precision" in params else ["double"]


def build_snnsim_network(
    net: NetworkArrays, threads: int = 1, precision: str = "double", *, plastic: bool = True
) -> tuple[Any, Any]:
    """Describe ``net`` as an snnsim network (not built yet).

    Parameters
    ----------
    net : NetworkArrays
        Network to translate.
    threads : int
        ``Network(threads=...)``.
    precision : {"double", "single"}
        ``Network(precision=...)``; "double" is also what an snnsim without that parameter
        does.
    plastic : bool
        Make the exc -> exc synapses plastic where ``net.plasticity`` says so (False: the same
        network, static).

    Returns
    -------
    network : snnsim.Network
    recorder : snnsim.SpikeRecorder
        Records every neuron. Plastic projections are those whose ``plasticity`` is set.
    """
    import snnsim as snn

    if precision not in supported_precisions():
        raise ValueError(
            f"snnsim {snn.__version__}: Network has no precision={precision!r} "
            f"(supported: {', '.join(supported_precisions())})"
        )
    i_offset = net.i_offset_array()
    constant = bool(np.all(i_offset == i_offset[0]))
    params = net.scalar_params()
    params["i_offset"] = float(i_offset[0]) if constant else 0.0
    kwargs: dict[str, Any] = {"dt": net.dt, "seed": 1, "threads": int(threads)}
    if precision != "double":
        kwargs["precision"] = precision
    network = snn.Network(**kwargs)
    pop = network.add_population(net.n, snn.LIF(**params), label="neurons")
    pop.initialize(v=np.asarray(net.v0, dtype=np.float64))
    # Sources are sorted, so the synapses of each run of excitatory (or inhibitory) source
    # neurons are one contiguous block: connect each block from slices (views of the
    # memory-mapped arrays), so feeding snnsim costs no copies of the index arrays.
    rule = snn.STDP(**net.plasticity) if plastic and net.plasticity else None
    exc_neuron = net.excitatory_neurons()
    flips = np.flatnonzero(np.diff(exc_neuron.astype(np.int8))) + 1
    starts = np.concatenate(([0], flips)).astype(np.int64)
    ends = np.concatenate((flips, [net.n])).astype(np.int64)
    for k, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        s0, s1 = np.searchsorted(net.sources, [a, b])
        if s1 <= s0:
            continue
        receptor = "exc" if exc_neuron[a] else "inh"
        src, tgt = net.sources[s0:s1], net.targets[s0:s1]
        w, steps = net.weights[s0:s1], net.delay_steps[s0:s1]
        parts: list[tuple[Any, str]] = [(slice(None), "")]
        if rule is not None and exc_neuron[a]:
            mask = plastic_mask(src, tgt, net.n_exc)
            parts = [(mask, "_stdp"), (~mask, "")]
        for sel, tag in parts:
            connector = snn.FromList(
                pre=src[sel],
                post=tgt[sel],
                weight=w[sel],
                delay=steps[sel].astype(np.float32) * np.float32(net.dt),
            )
            # plasticity= only where there is a rule: snnsim before STDP (f6b446e, for
            # benchmarks/revisions.py) has no such parameter
            extra = {"plasticity": rule} if tag else {}
            network.connect(
                pop, pop, connector, receptor=receptor, round_delays=True,
                label=f"syn_{k}_{receptor}{tag}", **extra,
            )  # fmt: skip
    if not constant:
        values, inverse = np.unique(i_offset, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(values.size + 1))
        for k, value in enumerate(values.tolist()):
            if value == 0.0:
                continue
            members = order[bounds[k] : bounds[k + 1]]
            network.add_input(pop[members], snn.StepCurrent(times=[0.0], amplitudes=[value]))
    for drive in net.poisson:
        if drive.n_inputs == 0 or drive.stop == drive.start:
            continue
        network.add_input(
            pop[drive.start : drive.stop],
            snn.PoissonInput(drive.n_inputs, drive.rate_hz, drive.weight, receptor="exc"),
        )
    recorder = network.record_spikes(pop)
    return network, recorder


def run_snnsim(
    net: NetworkArrays,
    threads: int = 1,
    *,
    precision: str = "double",
    return_spikes: bool = False,
    plastic: bool = True,
) -> dict[str, Any]:
    """Run ``net`` in snnsim with the same result keys as the runners of :mod:`benchmarks.peers`.

    Parameters
    ----------
    net : NetworkArrays
        Network to simulate for ``net.duration`` ms. Its synapse arrays are released once
        snnsim holds its own copy.
    threads : int
        Worker threads of the snnsim run loop (``Network(threads=...)``).
    precision : {"double", "single"}
        ``Network(precision=...)``.
    return_spikes : bool
        Also return ``spike_times`` (ms; snnsim stamps a spike at the end of its step, like
        NEST) and ``spike_ids``.
    plastic : bool
        False: every synapse static, even where ``net.plasticity`` is set (``simulator`` is
        then ``"snnsim-static"``).

    Returns
    -------
    dict
        ``simulator`` (``"snnsim"``), ``threads``, ``precision``, ``network``, ``n``,
        ``n_synapses``, ``duration_ms``, ``dt_ms``, ``loadavg_1m``, ``spikes``, ``run_s``,
        ``build_s``, ``compile_s``, ``peak_rss_mb``, ``rss_after_run_mb``,
        ``synaptic_events``, ``neuron_updates``, ``snnsim`` (version), the keys of
        :func:`benchmarks.common.spike_summary` and, with ``return_spikes``, ``spike_times``
        and ``spike_ids``; ``weights`` (:func:`benchmarks.stdp.weight_stats`) on a network
        with plastic synapses.
    """
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"run_snnsim(threads={threads}): threads must be >= 1")
    import snnsim as snn

    static = not plastic and net.plasticity is not None
    plastic = plastic and net.plasticity is not None
    result = base_result(net, "snnsim-static" if static else "snnsim", threads)
    t0 = time.perf_counter()
    network, recorder = build_snnsim_network(net, threads, precision, plastic=plastic)
    net.release_synapses()
    engine = network.build()
    build_wall = time.perf_counter() - t0
    compile_s = float(engine.compile_s)

    stats = network.run(net.duration)
    times = np.asarray(recorder.times, dtype=np.float64)
    ids = np.asarray(recorder.ids, dtype=np.int64)
    result.update(
        precision=precision,
        spikes=int(recorder.count),
        run_s=float(stats.wall_s),
        build_s=build_wall - compile_s,
        compile_s=compile_s,
        peak_rss_mb=peak_rss_mb(),
        rss_after_run_mb=current_rss_mb(),
        synaptic_events=int(stats.synaptic_events),
        neuron_updates=int(stats.neuron_updates),
        snnsim=snn.__version__,
    )
    result.update(spike_summary(net, times, ids))
    if plastic:
        learned = [p.table().weight for p in network.projections if p.plasticity is not None]
        result["weights"] = weight_stats(np.concatenate(learned), net.plasticity or {})
    if return_spikes:
        result["spike_times"] = times
        result["spike_ids"] = ids
    return result


#: Runner functions by name, as accepted by :func:`benchmarks.common.child_main`.
RUNNERS = {
    "snnsim": run_snnsim,
    "snnsim-static": functools.partial(run_snnsim, plastic=False),
}


if __name__ == "__main__":
    sys.exit(child_main(sys.argv, RUNNERS))
