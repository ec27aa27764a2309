"""Checkpoint resume exactness for model and timing variants not covered by the unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn


def make_delta_net(seed: int) -> snn.Network:
    """LIFDelta network with long delays: min_delay = 10 steps, saved mid-chunk."""
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    pop = net.add_population(150, snn.LIFDelta(tau_refrac=1.0, i_offset=0.9), label="delta")
    src = net.add_population(30, snn.PoissonSource(rate=80.0), label="src")
    net.connect(
        pop,
        pop,
        snn.FixedTotalNumber(3000),
        weight=snn.Normal(0.2, 0.5),
        delay=snn.Uniform(1.0, 3.0),
        round_delays=True,
    )
    net.connect(src, pop[::2], snn.FixedInDegree(5), weight=1.5, delay=1.0)
    net.add_input(pop[10:40], snn.PoissonInput(5, 200.0, 0.8))
    net.add_input(pop, snn.StepCurrent([0.0, 12.3], [0.1, -0.2]))
    net.record_spikes(pop)
    net.record_state(pop[::10], "v", every=7)
    net.record_rates(src, 2.5)
    pop.initialize(v=snn.Normal(-60.0, 3.0))
    return net


def states(net: snn.Network) -> list[dict[str, np.ndarray]]:
    return [{k: np.asarray(v) for k, v in r.recorded().items()} for r in net.recorders]


@pytest.mark.parametrize("split_ms", [25.3, 0.1, 49.9])
def test_delta_network_resumes_mid_chunk(tmp_path: Path, seed: int, split_ms: float) -> None:
    total = 50.0
    full = make_delta_net(seed)
    full.run(total)
    assert full.recorders[0].count > 20
    part = make_delta_net(seed)
    part.run(split_ms)
    snn.save(part, tmp_path / "ckpt.h5")
    net2 = snn.load(tmp_path / "ckpt.h5")
    net2.run(round(total - split_ms, 10))
    assert net2.step == full.step
    for a, b in zip(states(full), states(net2), strict=True):
        for k in a:
            assert np.array_equal(a[k], b[k]), k
    assert np.array_equal(full.engine.fstate, net2.engine.fstate)
    assert np.array_equal(full.engine.ring, net2.engine.ring)


def test_checkpoint_chain(tmp_path: Path, seed: int) -> None:
    """Save/load three times in a row, running between: same as one run."""
    full = make_delta_net(seed)
    full.run(30.0)
    net = make_delta_net(seed)
    for i in range(3):
        net.run(10.0)
        snn.save(net, tmp_path / f"c{i}.h5")
        net = snn.load(tmp_path / f"c{i}.h5")
    for a, b in zip(states(full), states(net), strict=True):
        for k in a:
            assert np.array_equal(a[k], b[k]), k
