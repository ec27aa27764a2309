"""Issue 11: an RLeaky network exported to NIR ran differently in snnTorch's importer.

Before the fix, ``hw.export(net, "nir", path)`` wrote a recurrent population flat, as the cycle
``hid -> Linear -> hid`` next to its input ``Linear -> hid``. snnTorch 1.0's
``import_from_nir`` moves such a two-node cycle into a sub-graph wired ``input -> Linear(w_rec)
-> LIF``, so the feed-forward input went through the recurrent weights (nirtorch 2.6 runs that
sub-graph as written): 0 spikes against snnsim's 93 in the case that found it, 230 against 378
in the first case below. Now recurrent populations are written as a sub-graph in snnTorch's own
export layout (``input -> lif <-> w_rec``, ``lif -> output``), which snnTorch and nirtorch run
as ``RLeaky`` does, and snnsim's importer flattens it again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")
pytest.importorskip("nirtorch")

import snnsim as snn  # noqa: E402
from snnsim import hardware as hw  # noqa: E402
from snnsim import torch as snt  # noqa: E402


def _network(rng: np.random.Generator, readout: bool) -> snn.Network:
    """Input -> RLeaky (all-to-all recurrent weights) [-> Leaky], dt = 0.1 ms (snnTorch's)."""
    net = snn.Network(dt=0.1, seed=3)
    opts = {"reset": "zero", "reset_delay": False, "threshold": 1.0}
    inp = net.add_population(8, snn.SpikeSource([[] for _ in range(8)]), label="input")
    hid = net.add_population(12, snn.RLeaky(beta=1 - 2.0 ** -rng.integers(1, 4, 12), **opts), "hid")
    net.connect(inp, hid, snn.AllToAll(), weight=rng.normal(0.3, 0.3, (8, 12)))
    net.connect(hid, hid, snn.AllToAll(), weight=rng.normal(0.0, 0.3, (12, 12)))
    if readout:
        out = net.add_population(5, snn.Leaky(beta=0.75, **opts), "out")
        net.connect(hid, out, snn.AllToAll(), weight=rng.normal(0.2, 0.4, (12, 5)))
    return net


@pytest.mark.parametrize("readout", [False, True])
def test_rleaky_round_trip_through_snntorch_is_spike_identical(
    tmp_path: Path, rng: np.random.Generator, readout: bool
) -> None:
    from snntorch.import_nir import import_from_nir

    net = _network(rng, readout)
    graph = nir.read(hw.export(net, "nir", tmp_path / "rleaky.nir"))
    hid = graph.nodes["hid"]
    assert type(hid).__name__ == "NIRGraph"  # the recurrent population is a sub-graph
    assert set(hid.nodes) == {"input", "lif", "w_rec", "output"}
    np.testing.assert_array_equal(
        hid.nodes["w_rec"].weight, net.projections[1].get("weight", format="array").T
    )
    model = import_from_nir(graph)
    x = torch.as_tensor((rng.random((80, 1, 8)) < 0.3).astype(np.float32))
    expected = snt.simulate(net, x, output="out" if readout else "hid", latency=2 if readout else 1)
    state, got = None, []
    with torch.no_grad():
        for t in range(x.shape[0]):
            y, state = model(x[t], state)
            got.append(y)
    assert 20 < expected.sum() < 0.75 * expected.numel()  # active, not saturated
    assert int((torch.stack(got) != expected).sum()) == 0


def test_snnsim_reads_its_recurrent_sub_graph_back(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    net = _network(rng, readout=True)
    back = hw.import_nir(hw.export(net, "nir", tmp_path / "rleaky.nir"))
    assert [p.label for p in back.populations] == ["input", "hid", "out"]
    assert type(back.populations[1].model).__name__ == "RLeaky"
    rec = [p for p in back.projections if p.pre is p.post or p.pre.population is p.post.population]
    assert len(rec) == 1
    np.testing.assert_array_equal(
        rec[0].get("weight", format="array"), net.projections[1].get("weight", format="array")
    )
    x = torch.as_tensor((rng.random((60, 1, 8)) < 0.3).astype(np.float32))
    assert torch.equal(
        snt.simulate(back, x, output="out", latency=2),
        snt.simulate(net, x, output="out", latency=2),
    )
