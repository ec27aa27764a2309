"""CUBA benchmark of snnsim alone: run time, compile time, throughput, memory.

The Brette et al. (2007) CUBA network as in Brian2's example (4000 LIF neurons, 80 % exc,
p = 0.02, dt = 0.1 ms), or the scaled variant with fixed expected in-degree 80 for other
sizes. Reports, per size: build time, compile time (warm cache; ``--cold`` adds a run in a
fresh process with an empty Numba cache), median/min/max run wall time over ``--repeats``
runs of ``--duration`` ms, synaptic events/s, neuron updates/s, real-time factor, peak RSS
and bytes per synapse. The side-by-side comparison with Brian2 and NEST is
``benchmarks/compare.py``.

Usage::

    python benchmarks/cuba.py                      # N = 4000, 1 s, 3 repeats
    python benchmarks/cuba.py --sizes 4000 64000 --threads 1 --cold --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import snnsim as snn


def build_cuba(n: int, seed: int, threads: int | None) -> snn.Network:
    """CUBA network of ``n`` neurons (p = 0.02 at n = 4000, in-degree 80 otherwise)."""
    p = 0.02 if n == 4000 else 80.0 / n
    n_exc = round(0.8 * n)
    params = {
        "tau_m": 20.0,
        "cm": 1.0,
        "v_rest": -49.0,
        "v_reset": -60.0,
        "v_thresh": -50.0,
        "tau_syn_exc": 5.0,
        "tau_syn_inh": 10.0,
        "tau_refrac": 5.0,
    }
    net = snn.Network(dt=0.1, seed=seed, threads=threads)
    exc = net.add_population(n_exc, snn.LIF(**params), label="exc")
    inh = net.add_population(n - n_exc, snn.LIF(**params), label="inh")
    # Brian2's we = 60*0.27/10 mV and wi = -20*4.5/10 mV as currents: w * cm / tau_m.
    for pre, w, receptor in ((exc, 1.62 / 20.0, "exc"), (inh, -9.0 / 20.0, "inh")):
        for post in (exc, inh):
            net.connect(pre, post, snn.FixedProbability(p), weight=w, delay=0.1, receptor=receptor)
    for pop in (exc, inh):
        pop.initialize(v=snn.Uniform(-60.0, -50.0))
    return net


def measure(
    n: int, duration: float, repeats: int, threads: int | None, seed: int
) -> dict[str, Any]:
    """Build once, then time ``repeats`` fresh runs of ``duration`` ms (same network)."""
    walls, spikes = [], []
    build_s = compile_s = 0.0
    n_syn = 0
    for r in range(repeats):
        net = build_cuba(n, seed, threads)
        t0 = time.perf_counter()
        eng = net.build()
        if r == 0:
            build_s = time.perf_counter() - t0 - eng.compile_s
            compile_s = eng.compile_s
            n_syn = eng.n_synapses
        stats = net.run(duration)
        walls.append(stats.wall_s)
        spikes.append(stats.spikes)
        events = stats.synaptic_events
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    med = statistics.median(walls)
    return {
        "n": n,
        "synapses": n_syn,
        "threads": threads or os.cpu_count(),
        "duration_ms": duration,
        "spikes": spikes[0],
        "rate_hz": spikes[0] / n / (duration * 1e-3),
        "build_s": build_s,
        "compile_s_warm": compile_s,
        "run_s_median": med,
        "run_s_min": min(walls),
        "run_s_max": max(walls),
        "synaptic_events_per_s": events / med,
        "neuron_updates_per_s": n * round(duration / 0.1) / med,
        "real_time_factor": med / (duration * 1e-3),
        "peak_rss_mb": rss / 2**20,
        "bytes_per_synapse": rss / max(n_syn, 1),
    }


def cold_compile_seconds() -> float:
    """Compile time of the run loop in a fresh process with an empty Numba cache."""
    code = (
        "import time, snnsim as snn\n"
        "net = snn.Network(dt=0.1, seed=1)\n"
        "p = net.add_population(10, snn.LIF())\n"
        "net.connect(p, p, snn.AllToAll(), weight=0.01)\n"
        "print(net.build().compile_s)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000])
    ap.add_argument("--duration", type=float, default=1000.0, help="ms of biological time")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cold", action="store_true", help="also measure cold-cache compile time")
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    args = ap.parse_args(argv)
    rows = [measure(n, args.duration, args.repeats, args.threads, args.seed) for n in args.sizes]
    cold = cold_compile_seconds() if args.cold else None
    hdr = (
        "N",
        "synapses",
        "spikes",
        "rate Hz",
        "build s",
        "compile s",
        "run s (min-max)",
        "syn ev/s",
        "upd/s",
        "RTF",
        "peak RSS MB",
        "B/syn",
    )
    print(" | ".join(hdr))
    for r in rows:
        print(
            f"{r['n']} | {r['synapses']} | {r['spikes']} | {r['rate_hz']:.2f} | "
            f"{r['build_s']:.2f} | "
            f"{r['compile_s_warm']:.2f} | {r['run_s_median']:.3f} ({r['run_s_min']:.3f}-"
            f"{r['run_s_max']:.3f}) | {r['synaptic_events_per_s']:.3g} | "
            f"{r['neuron_updates_per_s']:.3g} | {r['real_time_factor']:.3f} | "
            f"{r['peak_rss_mb']:.0f} | {r['bytes_per_synapse']:.1f}"
        )
    if cold is not None:
        print(f"cold-cache compile: {cold:.2f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"rows": rows, "cold_compile_s": cold, "snnsim": snn.__version__}, f, indent=2
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
