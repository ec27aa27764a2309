"""The snnTorch bridge: torch equations = snnTorch, and the event core = the torch forward pass."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snntorch = pytest.importorskip("snntorch")
snntorch_utils = pytest.importorskip("snntorch.utils")

import snnsim as snn  # noqa: E402
from snnsim import torch as snt  # noqa: E402
from snnsim.errors import ParameterError  # noqa: E402


def _spike_grad(u: torch.Tensor) -> torch.Tensor:
    # snnTorch's own surrogates return float32; this one keeps float64 (same forward)
    return snt.spike(u)


def _run_snntorch(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    snntorch_utils.reset(model)
    return torch.stack([model(x[t]) for t in range(x.shape[0])])


def _random_spikes(rng: np.random.Generator, steps: int, batch: int, n: int, p: float = 0.2):
    return torch.as_tensor((rng.random((steps, batch, n)) < p).astype(np.float64))


# ------------------------------------------------------------------ torch equations
@pytest.mark.parametrize("cls", ["Leaky", "Synaptic", "RLeaky", "RSynaptic"])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("reset_delay", [True, False])
def test_neuron_step_is_snntorch(cls: str, reset: str, reset_delay: bool, seed: int) -> None:
    if cls == "RSynaptic" and not reset_delay:
        pytest.skip("snnTorch 1.0 RSynaptic(reset_delay=False) raises with init_hidden=True")
    gen = torch.Generator().manual_seed(seed)
    n, steps = 12, 40
    beta = torch.rand(n, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    alpha = torch.rand(n, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    thr = torch.rand(n, generator=gen, dtype=torch.float64) + 0.5
    kw = {"threshold": thr, "reset_mechanism": reset, "reset_delay": reset_delay,
          "spike_grad": _spike_grad, "init_hidden": True}  # fmt: skip
    if cls == "Leaky":
        mod = snntorch.Leaky(beta=beta, **kw)
    elif cls == "Synaptic":
        mod = snntorch.Synaptic(alpha=alpha, beta=beta, **kw)
    elif cls == "RLeaky":
        mod = snntorch.RLeaky(beta=beta, linear_features=n, **kw)
    else:
        mod = snntorch.RSynaptic(alpha=alpha, beta=beta, linear_features=n, **kw)
    mod = mod.double()
    x = torch.randn(steps, 1, n, generator=gen, dtype=torch.float64) * 0.8
    expected = _run_snntorch(mod, x)
    rec = getattr(mod, "recurrent", None)
    mode = reset if (reset != "zero" or cls == "Leaky") else "zero_all"
    mem = torch.zeros(1, n, dtype=torch.float64)
    syn = torch.zeros(1, n, dtype=torch.float64) if "Synaptic" in cls else None
    s = torch.zeros(1, n, dtype=torch.float64)
    got = []
    for t in range(steps):
        xin = x[t] if rec is None else x[t] + rec(s)
        s, mem, syn = snt.neuron_step(xin, mem, syn, beta, alpha if syn is not None else None,
                                      thr, mode, reset_delay)  # fmt: skip
        got.append(s)
    assert torch.equal(torch.stack(got), expected)


def test_delayed_linear_rounded_taps_shift_the_input(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    layer = snt.DelayedLinear(3, 2, max_delay=4, dtype=torch.float64)
    with torch.no_grad():
        layer.delay.copy_(torch.tensor([[0.2, 1.7, 4.0], [3.4, 2.5, 0.0]], dtype=torch.float64))
    layer.round()
    x = torch.randn(10, 2, 3, generator=gen, dtype=torch.float64)
    y = layer(x)
    d = layer.integer_delays()
    assert d.tolist() == [[0, 2, 4], [3, 2, 0]]
    w = layer.weight.detach()
    for t in range(10):
        for i in range(2):
            ref = sum(w[i, j] * x[t - d[i, j], :, j] for j in range(3) if t - d[i, j] >= 0)
            assert torch.allclose(
                y[t, :, i], torch.as_tensor(ref, dtype=torch.float64) + 0 * y[t, :, i]
            )


def test_delayed_linear_learns_delay_positions(seed: int) -> None:
    torch.manual_seed(seed)
    layer = snt.DelayedLinear(4, 3, max_delay=6, sigma=2.0, dtype=torch.float64)
    x = torch.randn(12, 2, 4, dtype=torch.float64)
    layer(x).square().sum().backward()
    assert layer.delay.grad is not None and torch.any(layer.delay.grad != 0)
    layer.round()
    assert not layer.delay.requires_grad


# ------------------------------------------------------------- the event core agrees
def _sequential(
    rng: np.random.Generator, sizes: list[int], kinds: list[str]
) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for i, kind in enumerate(kinds):
        n_in, n_out = sizes[i], sizes[i + 1]
        lin = torch.nn.Linear(n_in, n_out, bias=bool(i % 2 == 0)).double()
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(rng.normal(0.0, 1.2 / np.sqrt(n_in), (n_out, n_in))))
        beta = torch.as_tensor(rng.uniform(0.3, 0.95, n_out))
        alpha = torch.as_tensor(rng.uniform(0.2, 0.9, n_out))
        thr = torch.as_tensor(rng.uniform(0.5, 1.5, n_out))
        kw = {"threshold": thr, "spike_grad": _spike_grad, "init_hidden": True,
              "reset_mechanism": ["subtract", "zero", "subtract"][i % 3]}  # fmt: skip
        if kind == "Leaky":
            neuron = snntorch.Leaky(beta=beta, **kw)
        elif kind == "Synaptic":
            neuron = snntorch.Synaptic(alpha=alpha, beta=beta, **kw)
        elif kind == "RLeaky":
            neuron = snntorch.RLeaky(beta=beta, linear_features=n_out, **kw)
        else:
            neuron = snntorch.RSynaptic(alpha=alpha, beta=beta, linear_features=n_out, **kw)
        layers += [lin, neuron.double()]
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize(
    "kinds",
    [["Leaky", "Leaky"], ["Synaptic", "Leaky", "Synaptic"], ["RLeaky", "RSynaptic"]],
)
def test_from_torch_runs_with_snntorch_spikes(kinds: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = [10] + [int(rng.integers(8, 20)) for _ in kinds]
    model = _sequential(rng, sizes, kinds)
    x = _random_spikes(rng, 60, 4, sizes[0])
    expected = _run_snntorch(model, x)
    net = snt.from_torch(model, dt=1.0)
    assert net.populations[0].label == "input"
    got = snt.simulate(net, x)
    assert got.shape == expected.shape
    assert expected.sum() > 0
    assert int((got != expected).sum()) == 0


def _core_network(rng: np.random.Generator) -> snn.Network:
    net = snn.Network(dt=1.0, seed=2)
    inp = net.add_population(6, snn.SpikeSource(times=[[] for _ in range(6)]), label="in")
    hid = net.add_population(
        9, snn.CubaLIF(alpha=rng.uniform(0.2, 0.9, 9), beta=rng.uniform(0.4, 0.95, 9),
                       threshold=rng.uniform(0.6, 1.2, 9)), label="hid",
    )  # fmt: skip
    out = net.add_population(4, snn.Leaky(beta=0.8, threshold=1.0, reset="zero"), label="out")
    net.connect(inp, hid, snn.FixedProbability(0.7), weight=snn.Normal(0.6, 0.4),
                delay=snn.Uniform(1.0, 5.0), round_delays=True)  # fmt: skip
    net.connect(hid, hid, snn.FixedProbability(0.3), weight=snn.Normal(-0.1, 0.3), delay=2.0)
    net.connect(hid, out, snn.AllToAll(), weight=snn.Normal(0.5, 0.5), delay=1.0)
    net.connect(inp, out, snn.FixedProbability(0.5), weight=0.3, delay=3.0)  # skip connection
    net.add_input(hid[0:3], snn.StepCurrent(times=[0.0], amplitudes=[0.05]))
    return net


def test_to_torch_forward_equals_the_event_core(seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = _core_network(rng)
    model = snt.to_torch(net, dtype=torch.float64)
    x = _random_spikes(rng, 80, 3, 6, p=0.3)
    spikes, mem = model(x)
    assert spikes.shape == (80, 3, 4) and mem.shape == (80, 3, 4)
    core = snt.simulate(net, x)
    assert spikes.sum() > 0
    assert int((core != spikes).sum()) == 0
    hid = snt.simulate(net, x, output="hid")
    assert int((hid != model.recorded["hid"]).sum()) == 0


def test_update_network_writes_trained_values_back(seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = _core_network(rng)
    model = snt.to_torch(net, dtype=torch.float64, learn=("beta",))
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.mul_(1.5)
        model.param(2, "beta").fill_(0.7)
    snt.update_network(net, model)
    x = _random_spikes(rng, 50, 2, 6, p=0.3)
    spikes, _ = model(x)
    assert int((snt.simulate(net, x) != spikes).sum()) == 0
    np.testing.assert_array_equal(net.populations[2].get("beta"), np.full(4, 0.7))


def test_update_network_writes_trained_biases_back(seed: int) -> None:
    """Biases set or trained on the model become step currents (regression: they were lost,
    and the core ran without them)."""
    rng = np.random.default_rng(seed)
    net = _core_network(rng)
    model = snt.to_torch(net, dtype=torch.float64, learn=("bias",))
    with torch.no_grad():
        model.param(1, "bias").copy_(torch.as_tensor(rng.uniform(-0.2, 0.4, 9)))
        model.param(2, "bias").fill_(0.15)
    snt.update_network(net, model)
    x = _random_spikes(rng, 50, 2, 6, p=0.3)
    spikes, _ = model(x)
    assert spikes.sum() > 0
    assert int((snt.simulate(net, x) != spikes).sum()) == 0
    again = snt.to_torch(net, dtype=torch.float64)  # reads the biases back
    for p in (1, 2):
        np.testing.assert_array_equal(
            again.param(p, "bias").detach().numpy(), model.param(p, "bias").detach().numpy()
        )
    snt.update_network(net, model)  # unchanged: the step currents stay as they are
    n_inputs = len(net.inputs)
    snt.update_network(net, model)
    assert len(net.inputs) == n_inputs


def test_trained_float64_weights_reach_the_core_unrounded(seed: int) -> None:
    """Regression: the static block stored float32, so float64-trained weights were rounded
    (a membrane within ~1e-7 of threshold then flipped a spike)."""
    rng = np.random.default_rng(seed)
    net = _core_network(rng)
    model = snt.to_torch(net, dtype=torch.float64)
    with torch.no_grad():
        for layer in model.layers:  # values float32 cannot hold
            layer.weight.mul_(1.0 + 1e-9)
    snt.update_network(net, model)
    net2 = snt.from_torch(model, dt=1.0)
    for network in (net, net2):
        network.build()
        for proj, layer in zip(network.projections, model.delay_layers(), strict=True):
            table = proj.table()
            want = layer.weight.detach().numpy()[_post_local(proj, table), _pre_local(proj, table)]
            np.testing.assert_array_equal(table.weight, want)  # bit for bit, float64
            assert proj.exact_weights


def _pre_local(proj: snn.Projection, table: Any) -> np.ndarray:
    return np.asarray(proj.pre.indices)[table.pre]


def _post_local(proj: snn.Projection, table: Any) -> np.ndarray:
    return np.asarray(proj.post.indices)[table.post]


def test_simulate_reuses_its_network_and_sees_changes(seed: int) -> None:
    """Repeated calls (the cached batched copy, reset) equal the torch model; a change to
    the network (update_network, set) makes a new copy."""
    rng = np.random.default_rng(seed)
    net = _core_network(rng)
    model = snt.to_torch(net, dtype=torch.float64)
    for batch in (2, 2, 1, 2):
        x = _random_spikes(rng, 40, batch, 6, p=0.3)
        spikes, _ = model(x)
        assert int((snt.simulate(net, x) != spikes).sum()) == 0
        assert int((snt.simulate(net, x, output="hid") != model.recorded["hid"]).sum()) == 0
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.mul_(1.3)
    snt.update_network(net, model)
    x = _random_spikes(rng, 40, 2, 6, p=0.3)
    spikes, _ = model(x)
    assert int((snt.simulate(net, x) != spikes).sum()) == 0
    net.populations[2].set(threshold=0.5)
    with torch.no_grad():
        model.param(2, "threshold").fill_(0.5)
    spikes, _ = model(x)
    assert int((snt.simulate(net, x) != spikes).sum()) == 0


def test_to_torch_refuses_other_models() -> None:
    net = snn.Network()
    net.add_population(3, snn.LIF())
    with pytest.raises(ParameterError, match="LIF is not supported"):
        snt.to_torch(net)


def test_from_torch_names_unsupported_modules() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    with pytest.raises(ParameterError, match="ReLU"):
        snt.from_torch(model)


def test_import_without_torch_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "try:\n    import snnsim.torch\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "torch==2.13.0" in out.stdout and "snnsim[torch]" in out.stdout
