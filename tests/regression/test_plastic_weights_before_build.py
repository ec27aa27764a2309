"""Regression: a plastic projection's weights read before the build were rounded to float32.

Plastic weights live in float64 mutable blocks, so ``proj.get("weight")`` must return the
same values before the build as right after it (it returned the float32-rounded values
before and the float64 ones after).
"""

from __future__ import annotations

import numpy as np

import snnsim as snn


def test_plastic_weights_same_before_and_after_build(seed: int) -> None:
    net = snn.Network(dt=0.1, seed=seed)
    pre = net.add_population(20, snn.LIF(), label="pre")
    post = net.add_population(10, snn.LIF(), label="post")
    stdp = snn.STDP(tau_plus=20.0, tau_minus=20.0, a_plus=0.01, a_minus=0.012, w_min=0.0, w_max=1.0)
    proj = net.connect(pre, post, snn.AllToAll(), weight=snn.Uniform(0.1, 0.9), delay=1.0,
                       receptor="exc", plasticity=stdp)  # fmt: skip
    before = np.array(proj.get("weight", format="list"))
    # a float32 round trip would change most of these values
    assert np.any(before != before.astype(np.float32).astype(np.float64))
    net.build()
    after = np.array(proj.get("weight", format="list"))
    np.testing.assert_array_equal(before, after)
