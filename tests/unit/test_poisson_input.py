"""Aggregated Poisson input (issue 3 fast path): counts equal the exact binomial inversion."""

from __future__ import annotations

import numpy as np
from snnsim.kernels.random_streams import binomial_count, stream_key, uniform

import snnsim as snn
from snnsim.streams import STREAM_INPUT, stream_id


def test_poisson_input_counts_are_binomial_inversions(seed: int) -> None:
    """Recover each step's input count from i_exc and compare with binomial_count."""
    n, n_in, rate, w, steps = 20, 1800, 8.0, 0.5, 400
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    pop = net.add_population(n, snn.LIF(v_thresh=1e9, tau_syn_exc=5.0))
    net.add_input(pop, snn.PoissonInput(n_in, rate, w))
    rec = net.record_state(pop, "i_exc")
    net.run(steps * 0.1)
    i_exc = rec.data.reshape(steps, n)
    decay = np.exp(-0.1 / 5.0)
    prev = np.vstack([np.zeros((1, n)), i_exc[:-1]])
    counts = np.rint((i_exc - prev * decay) / w).astype(np.int64)
    key = np.uint64(stream_key(np.uint64(net.seed), np.uint64(stream_id(STREAM_INPUT, 0))))
    p = rate * 0.1 * 1e-3
    want = np.array(
        [
            [binomial_count(uniform(key, g, s, 0), n_in, p) for g in range(n)]
            for s in range(1, steps + 1)
        ]
    )
    np.testing.assert_array_equal(counts, want)
    assert 0.5 < counts.mean() / (n_in * p) < 1.5
