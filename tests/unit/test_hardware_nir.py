"""NIR export/import: file schema, nir.read type check, round-trip spikes, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim import hardware as hw
from snnsim.errors import FileFormatError, HardwareConstraintError

nir = pytest.importorskip("nir")
h5py = pytest.importorskip("h5py")


def build(rng: np.random.Generator, dt: float = 0.1) -> snn.Network:
    """Few LIF populations, random weights, given input times, recurrence, delays."""
    net = snn.Network(dt=dt, seed=3)
    times = [np.unique(rng.integers(10, 1000, 8)) * dt for _ in range(20)]
    src = net.add_population(20, snn.SpikeSource(times), label="stim")
    a = net.add_population(30, snn.LIF(tau_m=rng.uniform(10, 30, 30), tau_refrac=5 * dt), "a")
    b = net.add_population(10, snn.LIF(tau_m=15.0, v_thresh=-55.0, i_offset=0.2), "b")
    c = net.add_population(8, snn.LIFDelta(tau_m=12.0, i_offset=0.5, tau_refrac=0.0), "c")
    n = 150
    net.connect(
        src, a,
        snn.FromList(rng.integers(0, 20, n), rng.integers(0, 30, n), rng.uniform(0.5, 3.0, n),
                     rng.integers(1, 4, n) * dt),
    )  # fmt: skip
    net.connect(a, b, snn.AllToAll(), weight=rng.uniform(0, 0.8, (30, 10)))
    net.connect(a, a, snn.FixedProbability(0.2), weight=-0.3, receptor="inh", delay=3 * dt)
    net.connect(b, a, snn.AllToAll(), weight=rng.uniform(0, 0.3, (10, 30)), delay=2 * dt)
    net.connect(b, c, snn.AllToAll(), weight=rng.uniform(-2, 6, (10, 8)))
    return net


def spikes(net: snn.Network, ms: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    recs = {p.label: net.record_spikes(p) for p in net.populations}
    net.run(ms)
    return {k: (r.times.copy(), r.ids.copy()) for k, r in recs.items()}


def test_round_trip_gives_the_same_spikes(tmp_path: Path, rng: np.random.Generator) -> None:
    net = build(rng)
    path = hw.export(net, "nir", tmp_path / "net.nir")
    back = hw.import_nir(path)
    assert [p.label for p in back.populations] == ["input", "a", "b", "c"]
    assert [type(p.model).__name__ for p in back.populations] == [
        "SpikeSource", "LIF", "LIF", "LIFDelta",
    ]  # fmt: skip
    assert back.population("a").model.tau_refrac == 0.5
    assert back.population("b").model.i_offset == 0.2
    s1, s2 = spikes(net, 120.0), spikes(back, 120.0)
    for old, new in (("stim", "input"), ("a", "a"), ("b", "b"), ("c", "c")):
        assert s1[old][0].size > 5, old  # every population is active
        np.testing.assert_array_equal(s1[old][0], s2[new][0])
        np.testing.assert_array_equal(s1[old][1], s2[new][1])


def test_file_schema_and_nir_type_check(tmp_path: Path, rng: np.random.Generator) -> None:
    net = build(rng)
    path = hw.export(net, "nir", tmp_path / "net.nir")
    with h5py.File(path, "r") as f:
        assert f["version"][()].decode().startswith("1.0")
        assert f["node/type"][()] == b"NIRGraph"
        nodes = f["node/nodes"]
        kinds = {name: nodes[name]["type"][()].decode() for name in nodes}
        assert kinds["stim"] == "Input" and kinds["a"] == "CubaLIF" and kinds["c"] == "LIF"
        assert kinds["c.out"] == "Output" and "a.out" not in kinds  # leaves only
        a = nodes["a"]
        for field in ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"):
            assert a[field].shape == (30,) and a[field].dtype == np.float64
        np.testing.assert_allclose(a["tau_mem"][()], net.population("a").get("tau_m") * 1e-3)
        np.testing.assert_allclose(a["w_in"][()], 5.0 / 0.1)  # tau_syn / dt
        np.testing.assert_allclose(a["r"][()], net.population("a").get("tau_m") / 1.0)
        np.testing.assert_allclose(nodes["b"]["v_leak"][()], -65.0 + 15.0 * 0.2)
        np.testing.assert_allclose(nodes["a"]["metadata/tau_refrac"][()], 0.5e-3)
        assert nodes["a->b#1/weight"].shape == (10, 30)  # [post, pre]
        assert kinds["a->a#2.delay"] == "Delay"
        np.testing.assert_allclose(nodes["a->a#2.delay/delay"][()], 2 * 0.1e-3)  # d - 1 steps
        assert {"stim->a#0.d1", "stim->a#0.d2", "stim->a#0.d3"} <= set(kinds)
        edges = {tuple(e.decode() for e in row) for row in f["node/edges"][()]}
        assert ("a->a#2", "a->a#2.delay") in edges and ("a->a#2.delay", "a") in edges
        assert ("stim->a#0.d1", "a") in edges  # one-step delay: the edge itself
        assert f["node/metadata/dt"][()] == pytest.approx(1e-4)
    graph = nir.read(path, type_check=True)
    w = graph.nodes["a->b#1"].weight
    table = net.projections[1].table()
    assert w[table.post[0], table.pre[0]] == table.weight[0]
    lossy = json.loads(graph.metadata["lossy"])
    assert {x["rule"] for x in lossy} == {"nir_refractory", "nir_delays"}


def test_dt_option_rescales_the_time_axis(tmp_path: Path, rng: np.random.Generator) -> None:
    net = build(rng, dt=1.0)
    path = hw.export(net, "nir", tmp_path / "net.nir", dt=1e-4)  # snnTorch's grid
    graph = nir.read(path)
    np.testing.assert_allclose(graph.nodes["b"].tau_mem, 15.0 * 1e-4)  # 15 steps of 0.1 ms
    np.testing.assert_allclose(graph.nodes["b"].w_in, 5.0)  # tau_syn / dt in steps
    back = hw.import_nir(path)
    assert back.dt == pytest.approx(0.1)
    s1, s2 = spikes(net, 100.0), spikes(back, 10.0)
    for old, new in (("stim", "input"), ("a", "a"), ("b", "b"), ("c", "c")):
        np.testing.assert_array_equal(np.rint(s1[old][0]), np.rint(s2[new][0] * 10))
        np.testing.assert_array_equal(s1[old][1], s2[new][1])


def test_refusals_name_the_rule(tmp_path: Path, rng: np.random.Generator) -> None:
    net = build(rng)
    with pytest.raises(HardwareConstraintError, match=r"\[nir_delays\] projection 'stim->a#0'"):
        hw.export(net, "nir", tmp_path / "x.nir", delays="error")
    net = snn.Network(dt=0.1, seed=1)
    src = net.add_population(3, snn.PoissonSource(rate=50.0), label="noise")
    pop = net.add_population(2, snn.LIF(tau_syn_inh=2.0), label="p")
    net.connect(src, pop, snn.AllToAll(), weight=1.0)
    net.connect(pop, pop, snn.AllToAll(), weight=-1.0, receptor="inh")
    with pytest.raises(HardwareConstraintError, match="neuron_models") as err:
        hw.export(net, "nir", tmp_path / "x.nir")
    assert "nir_synapse_time_constants" in str(err.value)
    pop.set(tau_syn_inh=5.0)
    path = hw.export(net, "nir", tmp_path / "x.nir", drop=["neuron_models"])
    graph = nir.read(path)
    assert "noise" not in graph.nodes and "p" in graph.nodes
    assert [p.label for p in hw.import_nir(path).populations] == ["p"]  # placeholder input
    (dropped,) = json.loads(graph.metadata["dropped"])
    assert dropped["rule"] == "neuron_models" and "PoissonSource" in dropped["message"]


def test_import_of_a_foreign_graph_and_its_refusals(tmp_path: Path) -> None:
    # snnTorch's convention: dt = 1e-4 s, r = tau_mem/dt, w_in = tau_syn/dt, v_leak = 0
    dt, n = 1e-4, 3
    ones = np.ones(n)
    cuba = nir.CubaLIF(
        tau_syn=5e-4 * ones, tau_mem=1e-3 * ones, r=10.0 * ones, v_leak=0 * ones,
        v_threshold=ones, v_reset=0 * ones, w_in=5.0 * ones,
    )  # fmt: skip
    nodes = {
        "x": nir.Input(input_type={"input": np.array([2])}),
        "w": nir.Linear(weight=np.array([[0.5, 0.0], [0.0, -0.5], [1.0, 1.0]])),
        "lif": cuba,
        "y": nir.Output(output_type={"output": np.array([n])}),
    }
    graph = nir.NIRGraph(nodes, [("x", "w"), ("w", "lif"), ("lif", "y")], metadata={"dt": dt})
    nir.write(tmp_path / "g.nir", graph)
    net = hw.import_nir(tmp_path / "g.nir", inputs={"input": [[0.2, 0.5], [0.3]]})
    lif = net.population("lif").model
    assert isinstance(lif, snn.LIF)
    assert lif.tau_m == 1.0 and lif.tau_syn_exc == 0.5 and lif.cm == pytest.approx(0.1)
    assert [(p.label, len(p)) for p in net.projections] == [("w:exc", 3), ("w:inh", 1)]
    net.run(2.0)
    with pytest.raises(FileFormatError, match="no 'dt'"):
        nir.write(tmp_path / "nodt.nir", nir.NIRGraph(nodes, graph.edges, metadata={}))
        hw.import_nir(tmp_path / "nodt.nir")
    nodes["w"] = nir.Affine(weight=nodes["w"].weight, bias=np.ones(n))
    graph = nir.NIRGraph(nodes, [("x", "w"), ("w", "lif"), ("lif", "y")], metadata={"dt": dt})
    with pytest.raises(FileFormatError, match="nonzero bias"):
        hw.import_nir(graph)
