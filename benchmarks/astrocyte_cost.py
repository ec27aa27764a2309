r"""The cost of one astrocyte modulating every neuron of CUBA-4000.

Runs :func:`benchmarks.networks.cuba` (N = 4000, 1 s, 1 thread, float64) as the harness
builds it, in four variants, each run ``--repeats`` times in one process (median run time,
compiled kernels warm):

* ``static``: the network alone;
* ``astrocyte``: plus one :class:`snnsim.Astrocyte` (NALSM's ``tau = 100`` ms, ``bias =
  0.15``) that every neuron drives (``AllToAll``, weight 0.015, 4000 more synapses), no
  effect;
* ``current``: the astrocyte adds ``w A`` to every neuron's ``i_offset`` (``w`` = 0.01 nA);
* ``threshold``: the astrocyte adds ``w A`` to every neuron's ``v_thresh`` (``w`` = 0.1 mV).

The effects are small on purpose, so the spike counts (printed) stay close and the time
difference is the cost of the machinery (the per-step modulation of 4000 coefficients and
the astrocyte's output history), not of a different activity::

    python benchmarks/astrocyte_cost.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import networks
from benchmarks.snnsim_runner import build_snnsim_network

VARIANTS = ("static", "astrocyte", "current", "threshold")


def build(variant: str, n: int, duration: float) -> tuple[object, object]:
    """Return ``(network, spike recorder)`` of one variant (not built)."""
    import snnsim as snn

    arrays = networks.cuba(n, duration=duration)
    net, rec = build_snnsim_network(arrays, 1, "double")
    if variant == "static":
        return net, rec
    neurons = net.populations[0]
    astro = net.add_population(1, snn.Astrocyte(tau=100.0, bias=0.15, a_init=0.15), label="astro")
    net.connect(neurons, astro, snn.AllToAll(), weight=0.015)
    if variant == "current":
        net.modulate(astro, neurons, effect="current", weight=0.01)
    elif variant == "threshold":
        net.modulate(astro, neurons, effect="threshold", weight=0.1)
    return net, rec


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=1000.0, help="ms")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    spikes: dict[str, int] = {}
    for v in VARIANTS:  # compile (or load) each variant's kernels before timing
        net, _ = build(v, args.n, 10.0)
        net.run(10.0)  # type: ignore[attr-defined]
    for _ in range(args.repeats):
        for v in VARIANTS:  # interleaved, so drifts of the machine hit every variant
            net, rec = build(v, args.n, args.duration)
            net.build()  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            net.run(args.duration)  # type: ignore[attr-defined]
            times[v].append(time.perf_counter() - t0)
            spikes[v] = int(rec.count)  # type: ignore[attr-defined]
    base = statistics.median(times["static"])
    print(f"CUBA-{args.n}, {args.duration:g} ms, 1 thread, median of {args.repeats}:")
    print("| variant | run s (min-max) | / static | spikes |")
    print("|---|---|---|---|")
    for v in VARIANTS:
        t = times[v]
        med = statistics.median(t)
        print(f"| {v} | {med:.3f} ({min(t):.3f}-{max(t):.3f}) | {med / base:.2f} | {spikes[v]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
