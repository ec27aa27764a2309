"""NIR for Leaky/RLeaky/CubaLIF in the snnTorch convention: fields, reset rule, round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import snnsim as snn
from snnsim import hardware as hw
from snnsim.errors import FileFormatError, HardwareConstraintError

nir = pytest.importorskip("nir")


def build(
    rng: np.random.Generator, dt: float = 1.0, reset: str = "zero", reset_delay: bool = False
) -> snn.Network:
    """Input -> CubaLIF (recurrent) -> Leaky, and input -> RLeaky (recurrent)."""
    net = snn.Network(dt=dt, seed=5)
    times = [np.unique(rng.integers(1, 60, 12)) * dt for _ in range(12)]
    src = net.add_population(12, snn.SpikeSource(times), label="stim")
    opts = {"reset": reset, "reset_delay": reset_delay}
    hid = net.add_population(
        10, snn.CubaLIF(alpha=rng.uniform(0.2, 0.9, 10), beta=rng.uniform(0.5, 0.95, 10),
                        threshold=rng.uniform(0.6, 1.2, 10), **opts), "hid",
    )  # fmt: skip
    out = net.add_population(6, snn.Leaky(beta=0.875, threshold=rng.uniform(0.5, 1, 6), **opts))
    rec = net.add_population(7, snn.RLeaky(beta=rng.uniform(0.3, 1.0, 7), **opts), "rec")
    net.connect(src, hid, snn.AllToAll(), weight=rng.normal(0.25, 0.3, (12, 10)))
    net.connect(hid, hid, snn.FixedProbability(0.3), weight=-0.2)
    net.connect(hid, out, snn.AllToAll(), weight=rng.normal(0.4, 0.4, (10, 6)))
    net.connect(src, rec, snn.AllToAll(), weight=rng.normal(0.2, 0.3, (12, 7)))
    net.connect(rec, rec, snn.AllToAll(), weight=rng.normal(0.0, 0.3, (7, 7)))
    return net


def _neuron(graph: Any, name: str) -> Any:
    """The neuron node ``name``; recurrent populations are sub-graphs (neuron node ``lif``)."""
    node = graph.nodes[name]
    return node.nodes["lif"] if type(node).__name__ == "NIRGraph" else node


def spikes(net: snn.Network, ms: float) -> list[tuple[np.ndarray, np.ndarray]]:
    recs = [net.record_spikes(p) for p in net.populations]
    net.run(ms)
    return [(r.times.copy(), r.ids.copy()) for r in recs]


def test_fields_follow_the_snntorch_convention(tmp_path: Path, rng: np.random.Generator) -> None:
    net = build(rng, dt=0.5)
    path = hw.export(net, "nir", tmp_path / "net.nir")
    graph = nir.read(path)  # type checking on
    assert graph.metadata["dt"] == pytest.approx(5e-4)  # dt=None: the network's, in s
    dt = float(graph.metadata["dt"])
    # recurrent populations (hid, rec) are sub-graphs with the neuron node and w_rec
    assert {type(graph.nodes[k]).__name__ for k in ("hid", "rec")} == {"NIRGraph"}
    hid, out, rec = (_neuron(graph, k) for k in ("hid", net.populations[2].label, "rec"))
    assert type(hid).__name__ == "CubaLIF" and type(out).__name__ == "LIF"
    beta, alpha = net.populations[1].get("beta"), net.populations[1].get("alpha")
    np.testing.assert_allclose(hid.tau_mem, dt / (1 - beta), rtol=1e-15)
    np.testing.assert_allclose(hid.tau_syn, dt / (1 - alpha), rtol=1e-15)
    np.testing.assert_allclose(hid.r, hid.tau_mem / dt, rtol=1e-15)
    np.testing.assert_allclose(hid.w_in, hid.tau_syn / dt, rtol=1e-15)
    np.testing.assert_array_equal(hid.v_threshold, net.populations[1].get("threshold"))
    for node, size in ((hid, 10), (out, 6), (rec, 7)):
        assert np.asarray(node.v_leak).shape == (size,) and not np.any(node.v_leak)
        assert np.asarray(node.v_reset).shape == (size,) and not np.any(node.v_reset)
    np.testing.assert_allclose(out.tau, np.full(6, dt * 8), rtol=1e-15)
    assert rec.metadata["snnsim_model"] == "RLeaky"
    # beta = 1 has no leak: tau = inf
    assert np.any(np.isinf(rec.tau)) == bool(np.any(net.populations[3].get("beta") == 1))
    # an explicit dt rescales every time constant (snnTorch reads 1e-4 s)
    graph = nir.read(hw.export(net, "nir", tmp_path / "n2.nir", dt=1e-4))
    assert graph.metadata["dt"] == 1e-4
    np.testing.assert_allclose(_neuron(graph, "hid").tau_mem, 1e-4 / (1 - beta), rtol=1e-15)


@pytest.mark.parametrize("reset", ["subtract", "none", "zero"])
def test_reset_rule_refuses_what_nir_cannot_express(
    tmp_path: Path, rng: np.random.Generator, reset: str
) -> None:
    net = build(rng, reset=reset, reset_delay=True)
    report = hw.check(net, "nir")
    assert not report.ok
    assert {v.rule for v in report.errors} == {"nir_reset"}
    with pytest.raises(HardwareConstraintError, match="nir_reset"):
        hw.export(net, "nir", tmp_path / "x.nir")
    assert hw.check(build(rng, reset="zero", reset_delay=False), "nir").ok
    # opt-in: written with NIR's reset, the true mode recorded in the metadata
    path = hw.export(net, "nir", tmp_path / "x.nir", drop=["nir_reset"])
    graph = nir.read(path)
    dropped = json.loads(graph.metadata["dropped"])
    assert {d["rule"] for d in dropped} == {"nir_reset"} and len(dropped) == 3
    assert _neuron(graph, "hid").metadata["reset"] == reset
    assert int(_neuron(graph, "hid").metadata["reset_delay"]) == 1


@pytest.mark.parametrize(("reset", "reset_delay"), [("zero", False), ("subtract", True)])
def test_round_trip_gives_the_same_spikes(
    tmp_path: Path, rng: np.random.Generator, reset: str, reset_delay: bool
) -> None:
    net = build(rng, reset=reset, reset_delay=reset_delay)
    drop = [] if reset == "zero" and not reset_delay else ["nir_reset"]
    back = hw.import_nir(hw.export(net, "nir", tmp_path / "net.nir", drop=drop))
    assert [type(p.model).__name__ for p in back.populations] == [
        "SpikeSource", "CubaLIF", "Leaky", "RLeaky",
    ]  # fmt: skip
    for old, new in zip(net.populations[1:], back.populations[1:], strict=True):
        assert new.model.reset == reset and new.model.reset_delay == reset_delay
        for name in old.model.defaults:
            np.testing.assert_array_equal(old.get(name), new.get(name), err_msg=name)
    s1, s2 = spikes(net, 80.0), spikes(back, 80.0)
    for (t1, i1), (t2, i2) in zip(s1, s2, strict=True):
        assert t1.size > 5
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(i1, i2)


def test_snntorch_convention_option_and_refusals(tmp_path: Path) -> None:
    n, dt = 3, 1e-4
    ones = np.ones(n)
    lif = nir.LIF(tau=dt * 4 * ones, r=4 * ones, v_leak=0 * ones, v_threshold=ones,
                  v_reset=0 * ones)  # fmt: skip
    nodes = {"x": nir.Input(input_type={"input": np.array([2])}),
             "w": nir.Linear(weight=np.array([[0.5, 0.0], [0.0, -0.5], [1.0, 1.0]])),
             "lif": lif, "y": nir.Output(output_type={"output": np.array([n])})}  # fmt: skip
    edges = [("x", "w"), ("w", "lif"), ("lif", "y")]
    graph = nir.NIRGraph(nodes, edges, metadata={})  # as snnTorch writes it: no dt
    net = hw.import_nir(graph, convention="snntorch")
    model = net.population("lif").model
    assert isinstance(model, snn.Leaky) and not isinstance(model, snn.RLeaky)
    assert (model.beta, model.reset, model.reset_delay) == (0.75, "zero", False)
    assert net.dt == pytest.approx(0.1)
    assert isinstance(hw.import_nir(graph, dt=dt).population("lif").model, snn.LIFDelta)
    leak = nir.LIF(tau=lif.tau, r=lif.r, v_leak=ones, v_threshold=ones, v_reset=0 * ones)
    with pytest.raises(FileFormatError, match="v_leak"):
        hw.import_nir(nir.NIRGraph({**nodes, "lif": leak}, edges, metadata={}),
                      convention="snntorch")  # fmt: skip
    with pytest.raises(FileFormatError, match="tau >= dt"):
        hw.import_nir(graph, convention="snntorch", dt=1e-3)
