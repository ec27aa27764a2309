"""Regression: building an LIF network with tau_syn << tau_m at dt = 1 ms overflowed.

The event-driven propagator tables cover gaps of up to 1024 steps; ``psc_exp_propagator``
evaluated ``expm1(h / beta)`` there, which overflows for ``h (1/tau_s - 1/tau_m) > 709``
(``tau_syn_exc=0.5, tau_m=5`` at ``dt = 1`` ms raised ``OverflowError`` in ``build``), and
gave 0 where ``exp(-h / tau_s)`` underflows first.
"""

from __future__ import annotations

import math

import numpy as np

import snnsim as snn
from snnsim.models.lif import psc_exp_propagator


def test_propagator_for_long_gaps_is_finite_and_continuous() -> None:
    tau_s, tau_m, cm = 0.5, 5.0, 0.25
    for h in (1.0, 10.0, 100.0, 1024.0):
        p = psc_exp_propagator(tau_s, tau_m, cm, h)
        beta = tau_s * tau_m / (tau_m - tau_s)
        closed = beta / cm * (math.exp(-h / tau_m) - math.exp(-h / tau_s))
        assert math.isfinite(p)
        assert p == closed or abs(p - closed) <= 1e-12 * abs(closed)
    # on both sides of the switch to the difference form (h / tau_s = 700)
    for h in (700.0 * tau_s - 1e-9, 700.0 * tau_s + 1e-9):
        p = psc_exp_propagator(tau_s, tau_m, cm, h)
        closed = beta / cm * (math.exp(-h / tau_m) - math.exp(-h / tau_s))
        assert p > 0 and abs(p - closed) <= 1e-12 * closed


def test_short_tau_syn_network_builds_and_runs(seed: int) -> None:
    net = snn.Network(dt=1.0, seed=seed)
    src = net.add_population(5, snn.SpikeSource([[2.0, 40.0]] * 5), label="src")
    pop = net.add_population(10, snn.LIF(tau_syn_exc=0.5, tau_m=5.0), label="pop")
    net.connect(src, pop, snn.AllToAll(), weight=2.0, delay=1.0)
    rec = net.record_state(pop, ["v"], every=1)
    net.run(60.0)
    assert np.all(np.isfinite(rec["v"]))
    assert rec["v"].max() > rec["v"][0].max()
