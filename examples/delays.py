"""Synaptic delays: one spike fanned out with delays 0.1, 1, 5, 20 and 50 ms.

A ``snn.SpikeSource`` emits one spike at 10 ms. ``snn.FromList`` connects it to five
``snn.LIFDelta`` neurons (PyNN ``IF_curr_delta``, NEST ``iaf_psc_delta``), one per delay,
with a weight of 20 mV, more than the 15 mV from rest to threshold. Each target therefore
fires in the step its input arrives: exactly at ``t + delay`` (all times are on the
``dt = 0.1 ms`` grid, so the check is exact up to float rounding).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

import snnsim as snn

T_SPIKE = 10.0  # ms
DELAYS = [0.1, 1.0, 5.0, 20.0, 50.0]  # ms
WEIGHT = 20.0  # mV: v_rest -65 + 20 > v_thresh -50


def main(duration: float = 80.0, out_dir: str = ".") -> dict[str, Any]:
    """Run the fan-out, check every arrival time, and write ``delays_raster.png``."""
    net = snn.Network(dt=0.1, seed=1)
    source = net.add_population(1, snn.SpikeSource(times=[[T_SPIKE]]), label="source")
    targets = net.add_population(len(DELAYS), snn.LIFDelta(tau_refrac=2.0), label="targets")
    n = len(DELAYS)
    net.connect(
        source,
        targets,
        snn.FromList(
            pre=np.zeros(n, dtype=np.int64), post=np.arange(n), weight=[WEIGHT] * n, delay=DELAYS
        ),
    )
    src_spikes = net.record_spikes(source)
    spikes = net.record_spikes(targets)
    # LIFDelta, SpikeSource and per-synapse delays need their own kernels: with
    # progress=True the first run in an installation says that it compiles them (and how
    # long it took) instead of going silent for half a minute
    net.run(duration, progress=True)

    arrivals: dict[float, float | None] = {}
    for i, d in enumerate(DELAYS):
        got = spikes.times[spikes.ids == i]
        expected = T_SPIKE + d
        if expected > duration:
            print(f"delay {d:5.1f} ms: arrives at {expected:.1f} ms, after the end of the run")
            arrivals[d] = None
            continue
        if got.size != 1 or abs(got[0] - expected) > 1e-9:
            raise AssertionError(
                f"delay {d} ms: target spiked at {got.tolist()}, expected {expected}"
            )
        print(f"delay {d:5.1f} ms: sent {T_SPIKE:.1f} ms, arrived {got[0]:.1f} ms = t + delay")
        arrivals[d] = float(got[0])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    snn.plot.raster(
        (src_spikes.times, np.full(src_spikes.count, -1)),
        ax=ax,
        color="k",
        marker="|",
        s=200,
        linewidths=1.5,
        label="source spike",
    )
    snn.plot.raster(spikes, ax=ax, color="C3", marker="|", s=200, linewidths=1.5)
    for i, d in enumerate(DELAYS):
        ax.annotate(
            f"{d:g} ms",
            (T_SPIKE + d, i),
            textcoords="offset points",
            xytext=(6, -3),
            fontsize="small",
        )
    ax.set_yticks(range(-1, n), ["source"] + [f"target {i}" for i in range(n)])
    ax.set_xlim(0.0, max(duration, T_SPIKE + 1.0))
    ax.set_ylim(-1.7, n - 0.3)
    ax.set_title("one spike at 10 ms through delays 0.1, 1, 5, 20, 50 ms")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "delays_raster.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
    return {"arrivals": arrivals, "plot": path}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=80.0, help="ms (default 80)")
    parser.add_argument("--out", default=".", help="output folder (default .)")
    args = parser.parse_args()
    main(duration=args.duration, out_dir=args.out)
