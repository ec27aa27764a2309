"""NIR files shared with snnTorch 1.0: export_to_nir -> snnsim, snnsim -> import_from_nir."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")
snntorch = pytest.importorskip("snntorch")
pytest.importorskip("nirtorch")
snntorch_utils = pytest.importorskip("snntorch.utils")

import snnsim as snn  # noqa: E402
from snnsim import hardware as hw  # noqa: E402
from snnsim import torch as snt  # noqa: E402


def _random_spikes(rng: np.random.Generator, steps: int, batch: int, n: int, p: float = 0.3):
    return torch.as_tensor((rng.random((steps, batch, n)) < p).astype(np.float32))


def _sequential(rng: np.random.Generator, sizes: list[int]) -> torch.nn.Sequential:
    """Linear + Leaky layers as snnTorch's importer builds them (per-neuron tensors)."""
    layers: list[torch.nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        lin = torch.nn.Linear(n_in, n_out, bias=False)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(rng.normal(0.15, 1.0 / np.sqrt(n_in), (n_out, n_in))))
        # decays 1 - 2**-k survive beta -> tau = dt/(1 - beta) -> 1 - dt/tau exactly
        beta = torch.as_tensor(1.0 - 2.0 ** -rng.integers(1, 5, n_out), dtype=torch.float32)
        thr = torch.as_tensor(rng.uniform(0.5, 1.5, n_out), dtype=torch.float32)
        layers += [lin, snntorch.Leaky(beta=beta, threshold=thr, reset_mechanism="zero",
                                       reset_delay=False, init_hidden=True)]  # fmt: skip
    return torch.nn.Sequential(*layers)


def _run(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    snntorch_utils.reset(model)
    with torch.no_grad():
        return torch.stack([model(x[t]) for t in range(x.shape[0])])


def test_snntorch_export_runs_in_snnsim_with_its_spikes(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    from snntorch.export_nir import export_to_nir

    sizes = [10, 16, 6]
    model = _sequential(rng, sizes)
    x = _random_spikes(rng, 80, 3, sizes[0])
    expected = _run(model, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # nirtorch's extract_nir_graph
        graph = export_to_nir(model, torch.zeros(1, sizes[0]), ignore_dims=[0])
    nir.write(tmp_path / "snntorch.nir", graph)
    net = hw.import_nir(tmp_path / "snntorch.nir", convention="snntorch")
    assert net.populations[0].label == "input"
    assert [type(p.model).__name__ for p in net.populations[1:]] == ["Leaky", "Leaky"]
    # one core step per NIR edge: the second Leaky answers torch step t at core step t + 3
    got = snt.simulate(net, x, latency=2)
    assert 20 < expected.sum() < 0.75 * expected.numel()  # active, not saturated
    assert int((got != expected).sum()) == 0


def test_snnsim_cubalif_export_runs_in_snntorch_with_its_spikes(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    from snntorch.import_nir import import_from_nir

    # dt = 0.1 ms: snnTorch's importer reads every file with dt = 1e-4 s
    net = snn.Network(dt=0.1, seed=3)
    n_in, n_h, n_out = 8, 12, 5
    inp = net.add_population(n_in, snn.SpikeSource([[] for _ in range(n_in)]), label="input")
    opts = {"reset": "zero", "reset_delay": False, "threshold": 1.0}
    hid = net.add_population(
        n_h, snn.CubaLIF(alpha=1 - 2.0 ** -rng.integers(1, 4, n_h),
                         beta=1 - 2.0 ** -rng.integers(1, 5, n_h), **opts), "hid",
    )  # fmt: skip
    out = net.add_population(n_out, snn.CubaLIF(alpha=0.5, beta=0.75, **opts), "out")
    net.connect(inp, hid, snn.AllToAll(), weight=rng.normal(0.05, 0.25, (n_in, n_h)))
    net.connect(hid, out, snn.AllToAll(), weight=rng.normal(0.05, 0.3, (n_h, n_out)))
    path = hw.export(net, "nir", tmp_path / "snnsim.nir")
    graph = nir.read(path)
    assert [k for k, v in graph.nodes.items() if type(v).__name__ == "Output"] == ["out.out"]
    model = import_from_nir(graph)
    x = _random_spikes(rng, 80, 1, n_in)
    expected = snt.simulate(net, x, output="out", latency=2)
    state = None
    outs = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            y, state = model(x[t], state)
            outs.append(y)
    got = torch.stack(outs)
    assert 20 < expected.sum() < 0.75 * expected.numel()  # active, not saturated
    assert int((got != expected).sum()) == 0
