"""CUBA benchmark: 4000 current-based LIF neurons firing without external input.

Benchmark 2 of Brette R. et al. (2007), "Simulation of networks of spiking neurons: a review
of tools and strategies", J. Comput. Neurosci. 23:349-398, written as in Brian2's example
``examples/CUBA.py`` (https://brian2.readthedocs.io/en/stable/examples/CUBA.html).

3200 excitatory and 800 inhibitory neurons, each pair of neurons connected with probability
0.02. The resting potential (-49 mV) lies above the threshold (-50 mV), so every neuron fires
on its own; recurrent inhibition keeps the rates low and irregular.

Brian2 writes the synapses as jumps of a voltage-like variable, ``dv/dt = (ge + gi - (v -
El)) / taum`` with ``ge += 1.62 mV`` and ``gi -= 9 mV``. That is an exponential current
``I = ge * cm / taum``, so the same network with current synapses (``snn.LIF`` = PyNN
``IF_curr_exp``) has weights ``1.62 mV * 1 nF / 20 ms = 0.081 nA`` and ``-0.45 nA``.

Run ``python examples/cuba.py --duration 1000 --out .``; ``snnsim demo`` runs the same
network (see ``snnsim.demo``).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import snnsim as snn


def main(duration: float = 1000.0, out_dir: str = ".", seed: int = 1) -> dict[str, Any]:
    """Build and run the CUBA network, print its numbers and write ``cuba_raster.png``."""
    t0 = time.perf_counter()
    net = snn.Network(dt=0.1, seed=seed)
    lif = snn.LIF(
        tau_m=20.0,  # ms
        cm=1.0,  # nF
        v_rest=-49.0,  # mV, above threshold: neurons fire without input
        v_reset=-60.0,
        v_thresh=-50.0,
        tau_syn_exc=5.0,  # ms
        tau_syn_inh=10.0,
        tau_refrac=5.0,
    )
    exc = net.add_population(3200, lif, label="exc")
    inh = net.add_population(800, lif, label="inh")
    for pop in (exc, inh):
        pop.initialize(v=snn.Uniform(-60.0, -50.0))  # mV

    w_exc = 60 * 0.27 / 10 * 1.0 / 20.0  # Brian2's we (mV) * cm / tau_m = 0.081 nA
    w_inh = -20 * 4.5 / 10 * 1.0 / 20.0  # Brian2's wi (mV) * cm / tau_m = -0.45 nA
    for post in (exc, inh):
        net.connect(exc, post, snn.FixedProbability(0.02), weight=w_exc, delay=0.1, receptor="exc")
        net.connect(inh, post, snn.FixedProbability(0.02), weight=w_inh, delay=0.1, receptor="inh")
    spikes_exc = net.record_spikes(exc)
    spikes_inh = net.record_spikes(inh)
    rate = net.record_rates(exc, bin_size=1.0)

    engine = net.build(progress=True)  # says so before compiling kernels (a cold cache)
    build_s = time.perf_counter() - t0 - engine.compile_s
    stats = net.run(duration)
    rate_hz = stats.spikes / (net.size * duration * 1e-3) if duration > 0 else 0.0
    print(f"CUBA: {net.size} neurons, {engine.n_synapses} synapses")
    print(
        f"  build {build_s:.2f} s, compile {engine.compile_s:.2f} s, run {stats.wall_s:.3f} s "
        f"for {duration:g} ms "
        f"(real-time factor {stats.real_time_factor:.3g})"
    )
    print(
        f"  {stats.spikes} spikes, mean rate {rate_hz:.2f} Hz, "
        f"{stats.events_per_s:.3g} synaptic events/s"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_r, ax_p) = plt.subplots(
        2, 1, figsize=(9, 6), sharex=True, height_ratios=(3, 1), layout="constrained"
    )
    snn.plot.raster(spikes_exc, ax=ax_r, color="C0", s=2.0)
    snn.plot.raster(
        (spikes_inh.times, spikes_inh.ids + exc.size), ax=ax_r, color="C3", s=2.0, label="inh"
    )
    ax_r.set_title("CUBA network (Brette et al. 2007)")
    ax_r.legend(loc="upper right", markerscale=6)
    snn.plot.rates(rate, ax=ax_p, color="C0", lw=0.8)
    ax_p.set_xlim(0.0, max(duration, 0.1))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "cuba_raster.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
    return {"spikes": stats.spikes, "mean_rate_hz": rate_hz, "raster": path}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1000.0, help="ms (default 1000)")
    parser.add_argument("--out", default=".", help="output folder (default .)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    main(duration=args.duration, out_dir=args.out, seed=args.seed)
