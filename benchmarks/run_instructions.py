r"""Time (or count instructions of) one ``net.run`` of a harness network, nothing else.

For before/after comparisons on a shared or noisy machine, where wall-clock ratios are not
reliable: under callgrind, collection is switched on only around the run, so the count is
the run loop's work and does not depend on the machine's load::

    CG=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \
        python benchmarks/run_instructions.py cuba4k 1 double

(``Collected : N`` in valgrind's summary is the count). Without ``CG`` it prints the wall
time of the run. Callgrind runs threads one after another, so 2-thread counts mostly
measure spin-waiting: compare thread counts > 1 by wall clock on a quiet machine.
Cases: ``cuba4k`` (1000 ms), ``scaled16k`` (300 ms), ``event8k`` (in-degree 250, 200 ms),
``sparse32k`` (500 ms), ``scaled64k`` (200 ms), ``scaled256k`` (100 ms, 20 M synapses:
memory-bound, so count cache misses too with ``--cache-sim=yes``); ``stdp4k`` (the ``stdp``
case's network, 200 ms) and ``stdp4k_static`` (the same network, static), and both with
every delay 5 steps instead of 1
(``stdp4k_d5``, ``stdp4k_static_d5``: chunks of 5 steps, so the per-chunk work of plasticity
runs 5 times less often), and ``stdp64k`` (64000 neurons, 200 ms); the networks of
:mod:`benchmarks.networks`, built as
:mod:`benchmarks.snnsim_runner` builds them.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks import networks
from benchmarks.snnsim_runner import build_snnsim_network

CASES = {
    "cuba4k": lambda: networks.cuba(4000, duration=1000.0),
    "scaled16k": lambda: networks.cuba_scaled(16000, duration=300.0),
    "event8k": lambda: networks.event_dominated(8000, in_degree=250.0, duration=200.0),
    "sparse32k": lambda: networks.sparse_activity(32000, duration=500.0),
    "scaled64k": lambda: networks.cuba_scaled(64000, duration=200.0),
    "scaled256k": lambda: networks.cuba_scaled(256000, duration=101.0),
    "stdp4k": lambda: networks.cuba_stdp(4000, duration=200.0),
    "stdp4k_static": lambda: networks.cuba_scaled(4000, duration=200.0),
    "stdp64k": lambda: networks.cuba_stdp(64000, duration=200.0),
    "stdp4k_d5": lambda: _delays(networks.cuba_stdp(4000, duration=200.0), 5),
    "stdp4k_static_d5": lambda: _delays(networks.cuba_scaled(4000, duration=200.0), 5),
}


def _delays(net: networks.NetworkArrays, steps: int) -> networks.NetworkArrays:
    """``net`` with every delay ``steps`` steps."""
    return dataclasses.replace(net, delay_steps=np.full(net.n_synapses, steps, dtype=np.uint8))


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in CASES:
        print(f"usage: run_instructions.py {{{','.join(CASES)}}} THREADS double|single")
        return 2
    case, threads, precision = argv[0], int(argv[1]), argv[2]
    arrays = CASES[case]()
    net, _ = build_snnsim_network(arrays, threads=threads, precision=precision)
    net.build()
    net.run(1.0)  # everything loaded and compiled before the measured run
    pid = str(os.getpid())
    if os.environ.get("CG"):
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    stats = net.run(arrays.duration - 1.0)
    if os.environ.get("CG"):
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    print(f"{case} threads={threads} {precision}: spikes {stats.spikes}, "
          f"events {stats.synaptic_events}, run {stats.wall_s:.4f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
