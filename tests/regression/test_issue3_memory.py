"""Issue 3: building the synapses must not need many times their final size in memory.

Before the fix, ``build_synapses`` concatenated int64/float64 per-projection arrays and sorted
them (~80 B per synapse of temporaries for a 10 B/synapse result). Now each projection is
written in place into the final CSR, so the peak is the compact result itself: 6 B per
synapse for constant weights and one delay (int32 code, uint8 weight index, uint8 delay).

tracemalloc sees every NumPy allocation (the result and any NumPy temporary); arrays that
compiled kernels allocate internally are per neuron or per row, not per synapse.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

import snnsim as snn
from snnsim.synapses import build_synapses


def _cuba(n: int, seed: int, weight: object) -> snn.Network:
    """Scaled CUBA: 80 % exc, in-degree 80, one delay (about 80 n synapses)."""
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    n_exc = round(0.8 * n)
    exc = net.add_population(n_exc, snn.LIF(), label="exc")
    inh = net.add_population(n - n_exc, snn.LIF(), label="inh")
    for pre, w, rec in ((exc, weight, "exc"), (inh, -0.45, "inh")):
        for post in (exc, inh):
            net.connect(
                pre, post, snn.FixedProbability(80.0 / n), weight=w, delay=0.1, receptor=rec
            )
    return net


def _peak_bytes_per_synapse(n: int, seed: int, weight: object) -> tuple[float, float, int]:
    """Traced peak and stored bytes per synapse of build_synapses on ``_cuba(n)``."""
    net = _cuba(n, seed, weight)
    build_synapses(net, np.uint64(net.seed), n)  # compile / load every kernel outside the trace
    tracemalloc.start()
    try:
        syn = build_synapses(net, np.uint64(net.seed), n)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    s = syn.code.size
    return peak / s, syn.nbytes() / s, s


# Besides the result, the build holds O(neurons x projections) int64 arrays (ids, row
# pointers, cursors): about 80 B per neuron here, i.e. ~1 B per synapse at in-degree 80.


def test_constant_weights_build_at_final_size(seed: int) -> None:
    """~1.6 M synapses, constant weights: stored 6 B/synapse and the peak barely above it."""
    per_syn, stored, s = _peak_bytes_per_synapse(20_000, seed % 1000, 0.08)
    assert s > 1_500_000
    assert stored < 6.2
    assert per_syn < 7.5, f"peak {per_syn:.2f} B/synapse"


def test_distributed_weights_build_at_final_size(seed: int) -> None:
    """Normal weights (float32 storage, 9 B/synapse): no per-synapse temporaries either."""
    weight = snn.Normal(0.08, 0.008, low=0.0)
    per_syn, stored, s = _peak_bytes_per_synapse(20_000, seed % 1000, weight)
    assert s > 1_500_000
    assert stored < 9.2
    assert per_syn < 11.0, f"peak {per_syn:.2f} B/synapse"
