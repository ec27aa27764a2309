"""Discrete-time neurons (Leaky, RLeaky, CubaLIF): kernels, engine, files and snnTorch.

The kernels are compared bit for bit with the NumPy transcription of snnTorch's forward
pass (``tests/naive.py``), in float32 and float64, for every reset mode, both values of
``reset_delay`` and per-neuron parameters. Whole networks are compared with snnTorch 1.0
itself (skipped without torch/snntorch) under the time mapping documented below.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from snnsim.kernels.discrete import (
    RESET_NONE,
    RESET_SUBTRACT,
    RESET_ZERO,
    RESET_ZERO_NEW,
    cuba_lif_dense,
    leaky_dense,
)

import snnsim as snn
from snnsim.errors import ConnectivityError, ParameterError
from tests.naive import discrete_lif_ref

RESETS = ("subtract", "zero", "none")
CODES = {"subtract": RESET_SUBTRACT, "zero": RESET_ZERO, "none": RESET_NONE}
CASES = list(itertools.product(RESETS, (True, False)))
DTYPES = (np.float64, np.float32)


def _coeff_block(rows: list[np.ndarray], het: bool) -> tuple[np.ndarray, int, int]:
    """Coefficients as the engine passes them: one row (cn=1, cs=0) or per neuron."""
    if het:
        return np.concatenate([np.asarray(r, dtype=np.float64) for r in rows]), rows[0].size, 1
    return np.array([float(r[0]) for r in rows]), 1, 0


# ---------------------------------------------------------------------- kernels vs NumPy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("reset", "delay"), CASES)
@pytest.mark.parametrize("model", ["leaky", "rleaky", "cuba"])
@pytest.mark.parametrize("het", [False, True])
def test_kernel_matches_reference(
    rng: np.random.Generator, dtype: Any, reset: str, delay: bool, model: str, het: bool
) -> None:
    """Spikes, mem and syn equal the transcription of snnTorch bit for bit (T=60, n=37)."""
    n, T, gid0, n_all = 37, 60, 5, 50
    ones = np.ones(n)
    beta = rng.uniform(0.5, 1.0, n) if het else 0.9 * ones
    thr = rng.uniform(0.5, 1.5, n) if het else 1.0 * ones
    alpha = rng.uniform(0.3, 0.95, n) if het else 0.7 * ones
    code = CODES[reset]
    if reset == "zero" and model != "leaky":
        code = RESET_ZERO_NEW
    x = rng.normal(0.3, 0.8, (T, n)).astype(dtype)
    iext = rng.normal(0.0, 0.2, n_all).astype(dtype)
    # some membranes start above threshold: the guarded reset (S - R = -1) is exercised
    mem0 = rng.uniform(-1.0, 3.0, n).astype(dtype)
    syn0 = rng.normal(0.0, 0.5, n).astype(dtype)
    drive = x + iext[gid0 : gid0 + n]
    spk_ref, mem_ref, syn_ref = discrete_lif_ref(
        drive, beta.astype(dtype), thr.astype(dtype), reset, delay,
        alpha=alpha.astype(dtype) if model == "cuba" else None,
        zero_new=model == "rleaky", mem0=mem0, syn0=syn0,
    )  # fmt: skip
    flags = [ones * code, ones * float(delay)]
    rows = [alpha, beta, thr, *flags] if model == "cuba" else [beta, thr, *flags]
    C, cn, cs = _coeff_block(rows, het)
    u, syn = mem0.copy(), syn0.copy()
    ring = np.zeros(2 * n_all, dtype=dtype)
    spikes = np.zeros(n, dtype=np.int64)
    for t in range(T):
        ring[gid0 : gid0 + n] = x[t]
        ring[n_all + gid0 : n_all + gid0 + n] = 7.0  # plane 1 is not read
        if model == "cuba":
            k = cuba_lif_dense(u, syn, iext, ring, 0, n, gid0, C, cn, cs, True, spikes, 0)
            assert np.array_equal(syn, syn_ref[t])
        else:
            k = leaky_dense(u, iext, ring, 0, n, gid0, C, cn, cs, True, spikes, 0)
        assert np.array_equal(u, mem_ref[t]), t
        assert spikes[:k].tolist() == (gid0 + np.flatnonzero(spk_ref[t])).tolist(), t
        assert not ring[:n_all].any()  # input read and spike flags cleared
    assert u.dtype == dtype
    assert 0 < spk_ref.sum() < spk_ref.size


@pytest.mark.parametrize(("reset", "delay"), CASES)
def test_kernel_sub_range(rng: np.random.Generator, reset: str, delay: bool) -> None:
    """Updating [lo, hi) touches only those neurons, with per-neuron coefficients."""
    n = 20
    beta, thr = rng.uniform(0.5, 1, n), rng.uniform(0.5, 1.5, n)
    C, cn, cs = _coeff_block([beta, thr, np.full(n, CODES[reset]), np.full(n, delay)], True)
    u = rng.uniform(0, 2, n)
    u0 = u.copy()
    ring = np.zeros(2 * n)
    ring[:n] = rng.normal(0.5, 1, n)
    x = ring[:n].copy()
    spikes = np.zeros(n, dtype=np.int64)
    k = leaky_dense(u, np.zeros(n), ring, 4, 13, 0, C, cn, cs, False, spikes, 0)
    _, mem, _ = discrete_lif_ref(x[None, 4:13], beta[4:13], thr[4:13], reset, delay, mem0=u0[4:13])
    assert np.array_equal(u[4:13], mem[0])
    assert np.array_equal(u[:4], u0[:4]) and np.array_equal(u[13:], u0[13:])
    assert np.array_equal(ring[:4], x[:4]) and np.array_equal(ring[13:n], x[13:])
    assert all(4 <= s < 13 for s in spikes[:k])


def test_reset_delay_sequence() -> None:
    """The documented example: beta=1, input 0.6 per step (snnTorch's own docs' sequence)."""
    x = np.full((4, 1), 0.6)
    C = np.array([1.0, 1.0, RESET_SUBTRACT, 1.0])
    seq = []
    for delay in (1.0, 0.0):
        C[3] = delay
        u = np.zeros(1)
        for t in range(4):
            ring = np.zeros(2)
            ring[0] = x[t, 0]
            spikes = np.zeros(1, dtype=np.int64)
            k = leaky_dense(u, np.zeros(1), ring, 0, 1, 0, C, 1, 0, False, spikes, 0)
            seq.append((round(float(u[0]), 12), k))
    assert seq[:4] == [(0.6, 0), (1.2, 1), (0.8, 0), (1.4, 1)]
    assert seq[4:] == [(0.6, 0), (0.2, 1), (0.8, 0), (0.4, 1)]


# ------------------------------------------------------------------- engine and models
def _input_net(
    model: snn.NeuronModel, in_spk: np.ndarray, W: np.ndarray, precision: str = "double",
    recurrent: np.ndarray | None = None,
) -> tuple[snn.Network, Any, Any, Any]:  # fmt: skip
    """Network: SpikeSource ``in_spk[T, n_in]`` -> population through weights ``W[n, n_in]``.

    Time mapping (that of the snnTorch bridge): torch step ``t`` (from 0) is the input
    spike stamped ``(t + 1) * dt``; through the one-step projection it arrives in core step
    ``t + 2``, which is the population's torch step ``t``. A recurrent projection
    (``recurrent[j, i]`` from ``i`` to ``j``) has a delay of one step, as snnTorch's
    ``V(S[t-1])``. Records of core step ``s`` carry time ``s * dt``: ``t = s - 2``.
    """
    T, n_in = in_spk.shape
    n = W.shape[0]
    net = snn.Network(dt=1.0, seed=1, precision=precision)
    times = [(np.flatnonzero(in_spk[:, i]) + 1.0).tolist() for i in range(n_in)]
    src = net.add_population(n_in, snn.SpikeSource(times=times), label="input")
    pop = net.add_population(n, model, label="layer")
    post, pre = np.nonzero(W)
    net.connect(src, pop, snn.FromList(pre, post, weight=W[post, pre], delay=np.ones(pre.size)))
    if recurrent is not None:
        post, pre = np.nonzero(recurrent)
        weights = recurrent[post, pre]
        net.connect(pop, pop, snn.FromList(pre, post, weight=weights, delay=np.ones(pre.size)))
    sp = net.record_spikes(pop)
    st = net.record_state(pop, list(model.float_vars))
    net.run(float(T + 1))
    return net, pop, sp, st


def _core_result(sp: Any, st: Any, T: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Spikes ``[T, n]`` and state ``[T, n_vars, n]`` in torch time (see :func:`_input_net`)."""
    spk = np.zeros((T, n))
    steps = np.rint(np.asarray(sp.times)).astype(np.int64) - 2
    assert steps.min(initial=0) >= 0  # nothing in the silent first step
    spk[steps, np.asarray(sp.ids)] = 1.0
    data = np.asarray(st.data, dtype=np.float64)
    times = np.rint(np.asarray(st.times)).astype(np.int64)
    assert times.tolist() == list(range(1, T + 2))
    return spk, data[1:].reshape(T, -1, n)


def _random_problem(
    rng: np.random.Generator, T: int, n_in: int, n: int, p: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Input spikes ``[T, n_in]`` and weights ``W[n, n_in]``, two inputs per neuron.

    Weights are float32 numbers (the core stores per-synapse weights as float32), so the sum
    of the (at most two) inputs of a step is exact in float64 and correctly rounded in
    float32, whatever the order of delivery: the reference sees the very same input.
    """
    in_spk = (rng.random((T, n_in)) < p).astype(np.float64)
    W = np.zeros((n, n_in))
    for j in range(n):
        pre = rng.choice(n_in, 2, replace=False)
        W[j, pre] = rng.normal(0.0, 1.0, 2).astype(np.float32)
    return in_spk, W


@pytest.mark.parametrize("precision", ["double", "single"])
@pytest.mark.parametrize(("reset", "delay"), CASES)
def test_network_matches_reference(
    rng: np.random.Generator, precision: str, reset: str, delay: bool
) -> None:
    """A CubaLIF population in a network with per-neuron parameters equals the reference."""
    T, n_in, n = 120, 10, 16
    in_spk, W = _random_problem(rng, T, n_in, n)
    alpha, beta = rng.uniform(0.3, 0.9, n), rng.uniform(0.6, 1.0, n)
    thr = rng.uniform(0.5, 1.5, n)
    model = snn.CubaLIF(alpha=alpha, beta=beta, threshold=thr, reset=reset, reset_delay=delay)
    _, _, sp, st = _input_net(model, in_spk, W, precision)
    spk, state = _core_result(sp, st, T, n)
    dtype = np.float64 if precision == "double" else np.float32
    x = (in_spk @ W.T).astype(dtype)  # exact (see _random_problem)
    spk_ref, mem_ref, syn_ref = discrete_lif_ref(
        x, beta.astype(dtype), thr.astype(dtype), reset, delay, alpha=alpha.astype(dtype)
    )
    assert np.array_equal(spk, spk_ref)
    assert np.array_equal(state[:, 0], mem_ref)
    assert np.array_equal(state[:, 1], syn_ref)
    assert spk.sum() > 10


def test_distribution_and_get(rng: np.random.Generator) -> None:
    """Per-neuron parameters from a distribution; pop.get returns them."""
    net = snn.Network(dt=0.5, seed=3)
    pop = net.add_population(50, snn.Leaky(beta=snn.Uniform(0.5, 0.9), threshold=0.8))
    beta = pop.get("beta")
    assert beta.shape == (50,) and beta.min() >= 0.5 and beta.max() <= 0.9
    assert np.all(pop.get("threshold") == 0.8)
    src = net.add_population(1, snn.SpikeSource(times=[[0.5, 1.0]]))
    net.connect(src, pop, snn.AllToAll(), weight=-0.5, delay=0.5)
    st = net.record_state(pop, ["mem"])
    net.run(2.0)
    mem = np.asarray(st.data)
    assert np.allclose(mem[1], -0.5) and np.allclose(mem[2], beta * -0.5 - 0.5)


def test_step_current_is_a_bias() -> None:
    """A StepCurrent adds its amplitude to the input of every step (a bias)."""
    net = snn.Network(dt=1.0, seed=1)
    pop = net.add_population(1, snn.Leaky(beta=0.5, threshold=10.0))
    net.add_input(pop, snn.StepCurrent(times=[0.0], amplitudes=[1.0]))
    st = net.record_state(pop, ["mem"])
    net.run(3.0)
    assert np.allclose(np.asarray(st.data)[:, 0], [1.0, 1.5, 1.75])


def test_model_errors() -> None:
    with pytest.raises(ParameterError, match="reset must be one of"):
        snn.Leaky(beta=0.9, reset="reset-to-zero")
    with pytest.raises(ParameterError, match="True or False"):
        snn.CubaLIF(reset_delay="yes")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"beta.*\[0, 1\]"):
        snn.Leaky(beta=1.2)
    with pytest.raises(ParameterError, match=r"alpha.*\[0, 1\]"):
        snn.CubaLIF(alpha=[0.5, -0.1], beta=0.9)
    with pytest.raises(ParameterError, match="unknown parameter"):
        snn.Leaky(beta=0.9, alpha=0.5)
    net = snn.Network(dt=1.0)
    src = net.add_population(2, snn.SpikeSource(times=[[1.0], [2.0]]))
    pop = net.add_population(2, snn.Leaky(beta=0.9))
    with pytest.raises(ConnectivityError, match="omit receptor"):
        net.connect(src, pop, snn.AllToAll(), weight=1.0, receptor="exc")
    net.connect(src, pop, snn.FromList([0, 1], [0, 1], weight=[-1.0, 2.0]))  # either sign


def test_model_equality_and_repr() -> None:
    a = snn.Leaky(beta=0.9, reset="zero")
    assert a == snn.Leaky(beta=0.9, reset="zero")
    assert a != snn.Leaky(beta=0.9) and a != snn.RLeaky(beta=0.9, reset="zero")
    assert a != snn.Leaky(beta=0.9, reset="zero", reset_delay=False)
    assert "reset='zero'" in repr(a) and "reset_delay=True" in repr(a)
    assert a.with_values(beta=0.5).reset == "zero"
    assert snn.RLeaky(0.9, reset="zero").coefficients(1.0)[2] == RESET_ZERO_NEW
    assert snn.CubaLIF(0.5, 0.9, reset="zero").coefficients(1.0)[3] == RESET_ZERO_NEW
    assert snn.Leaky(0.9, reset="zero").coefficients(1.0)[2] == RESET_ZERO


def test_save_load_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    """A checkpoint in the middle of a run resumes bit for bit, reset settings included."""
    T, n_in, n = 40, 8, 12

    def build() -> snn.Network:
        net = snn.Network(dt=1.0, seed=5)
        local = np.random.default_rng(11)
        in_spk, W = _random_problem(local, T, n_in, n)
        times = [(np.flatnonzero(in_spk[:, i]) + 1.0).tolist() for i in range(n_in)]
        src = net.add_population(n_in, snn.SpikeSource(times=times), label="input")
        leaky = snn.Leaky(beta=local.uniform(0.5, 1, n), reset="zero", reset_delay=False)
        a = net.add_population(n, leaky, label="a")
        b = net.add_population(n, snn.CubaLIF(0.6, 0.8, threshold=0.7, reset="none"), label="b")
        c = net.add_population(n, snn.RLeaky(0.9, reset="zero"), label="c")
        post, pre = np.nonzero(W)
        for pop in (a, b, c):
            net.connect(src, pop, snn.FromList(pre, post, weight=W[post, pre]), delay=1.0)
        net.connect(a, c, snn.AllToAll(), weight=0.3, delay=2.0)
        for pop in (a, b, c):
            net.record_spikes(pop)
        net.record_state(b, ["mem", "syn"])
        return net

    full = build()
    full.run(float(T))
    half = build()
    half.run(T / 2)
    snn.save(half, tmp_path / "half.h5")
    net2 = snn.load(tmp_path / "half.h5")
    for p1, p2 in zip(half.populations, net2.populations, strict=True):
        assert p1.model == p2.model, p1.label
    assert net2.populations[1].model.reset == "zero"
    assert net2.populations[1].model.reset_delay is False
    net2.run(T / 2)
    for k in range(3):
        r1, r2 = full.recorders[k], net2.recorders[k]
        assert isinstance(r1, snn.SpikeRecorder) and isinstance(r2, snn.SpikeRecorder)
        assert np.array_equal(r1.times, r2.times) and np.array_equal(r1.ids, r2.ids)
        assert r1.count > 5
    s1, s2 = full.recorders[3], net2.recorders[3]
    assert isinstance(s1, snn.StateRecorder) and isinstance(s2, snn.StateRecorder)
    assert np.array_equal(s1.data, s2.data)
    assert np.array_equal(net2.engine.fstate, full.engine.fstate)


# ------------------------------------------------------------------- against snnTorch 1.0
def _torch_forward(
    cls_name: str, x: np.ndarray, beta: np.ndarray, thr: np.ndarray, reset: str, delay: bool,
    alpha: np.ndarray | None = None, V: np.ndarray | None = None, dtype: str = "float64",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run snnTorch's ``cls_name`` over ``x[T, n]`` (explicit state); ``(spk, mem, syn)``.

    Parameters are passed as tensors of ``dtype`` (a Python float would become a float32
    tensor in snnTorch). The recurrent classes get a full ``V`` (``all_to_all=True``,
    ``linear_features=n``, bias zero) and a Heaviside surrogate that keeps the membrane's
    dtype (snnTorch's surrogates return float32 spikes, which a float64 ``nn.Linear``
    refuses); the feed-forward classes use snnTorch's default surrogate.
    """
    torch = pytest.importorskip("torch")
    snntorch = pytest.importorskip("snntorch")
    tdt = getattr(torch, dtype)

    class Step(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, u: Any) -> Any:
            return (u > 0).to(u.dtype)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g

    def t(a: np.ndarray) -> Any:
        return torch.tensor(np.asarray(a), dtype=tdt)

    T, n = x.shape
    common: dict[str, Any] = {
        "beta": t(beta), "threshold": t(thr), "reset_mechanism": reset, "reset_delay": delay
    }  # fmt: skip
    if alpha is not None:
        common["alpha"] = t(alpha)
    if V is not None:
        common.update(all_to_all=True, linear_features=n, spike_grad=Step.apply)
    neuron = getattr(snntorch, cls_name)(**common).to(tdt)
    if V is not None:
        with torch.no_grad():
            neuron.recurrent.weight.copy_(t(V))
            neuron.recurrent.bias.zero_()
    spk, mem, syn = (torch.zeros(n, dtype=tdt) for _ in range(3))
    out = np.zeros((3, T, n))
    with torch.no_grad():
        for k in range(T):
            xt = t(x[k])
            if cls_name == "Leaky":
                spk, mem = neuron(xt, mem)
            elif cls_name == "Synaptic":
                spk, syn, mem = neuron(xt, syn, mem)
            elif cls_name == "RLeaky":
                spk, mem = neuron(xt, spk, mem)
            else:
                spk, syn, mem = neuron(xt, spk, syn, mem)
            assert mem.dtype == tdt
            out[:, k] = spk.double().numpy(), mem.double().numpy(), syn.double().numpy()
    return out[0], out[1], out[2]


def _compare(
    core: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray, np.ndarray],
    cuba: bool,
) -> tuple[int, float]:  # fmt: skip
    """Differing spikes and the largest state difference (mem, and syn for CubaLIF)."""
    spk, state = core
    n_diff = int(np.sum(spk != ref[0]))
    err = float(np.max(np.abs(state[:, 0] - ref[1])))
    if cuba:
        err = max(err, float(np.max(np.abs(state[:, 1] - ref[2]))))
    return n_diff, err


@pytest.mark.parametrize(("reset", "delay"), CASES)
@pytest.mark.parametrize("cls_name", ["Leaky", "Synaptic"])
def test_feed_forward_matches_snntorch(
    rng: np.random.Generator, cls_name: str, reset: str, delay: bool
) -> None:
    """SpikeSource -> Leaky / CubaLIF equals snn.Leaky / snn.Synaptic in float64.

    50 neurons x 300 steps (1.5e4 neuron-steps) per case, per-neuron beta, alpha and
    threshold; torch's input at step ``t`` is what arrives in core step ``t + 2``.
    """
    pytest.importorskip("snntorch")
    T, n_in, n = 300, 20, 50
    in_spk, W = _random_problem(rng, T, n_in, n)
    beta, thr = rng.uniform(0.6, 1.0, n), rng.uniform(0.5, 1.5, n)
    alpha = rng.uniform(0.3, 0.9, n) if cls_name == "Synaptic" else None
    if alpha is None:
        model: snn.NeuronModel = snn.Leaky(beta, thr, reset=reset, reset_delay=delay)
    else:
        model = snn.CubaLIF(alpha, beta, thr, reset=reset, reset_delay=delay)
    _, _, sp, st = _input_net(model, in_spk, W)
    core = _core_result(sp, st, T, n)
    ref = _torch_forward(cls_name, in_spk @ W.T, beta, thr, reset, delay, alpha)
    n_diff, err = _compare(core, ref, alpha is not None)
    print(f"float64 {cls_name} {reset} delay={delay}: {n_diff} spikes differ, max |diff| {err:.3g}")
    assert n_diff == 0 and err <= 1e-12, (n_diff, err)
    assert 200 < core[0].sum() < 0.5 * T * n


@pytest.mark.parametrize(("reset", "delay"), CASES)
@pytest.mark.parametrize("cls_name", ["RLeaky", "RSynaptic"])
def test_recurrent_matches_snntorch(
    rng: np.random.Generator, cls_name: str, reset: str, delay: bool
) -> None:
    """RLeaky / RSynaptic with a full V equal RLeaky / CubaLIF plus a one-step projection.

    Time mapping: torch step ``t`` is core step ``t + 2``; ``V(S[t-1])`` is the recurrent
    projection (``V[j, i]`` from ``i`` to ``j``, delay one step) delivering the spikes of
    core step ``t + 1``. snnTorch 1.0's ``RSynaptic(reset_delay=False)`` with explicit state
    acts as ``reset_delay=True`` (its reset writes a local variable), so it is compared with
    ``CubaLIF(reset_delay=True)``. float64; 40 neurons x 300 steps per case.
    """
    pytest.importorskip("snntorch")
    T, n_in, n = 300, 20, 40
    in_spk, W = _random_problem(rng, T, n_in, n)
    V = rng.normal(0.0, 0.3, (n, n)).astype(np.float32).astype(np.float64)
    beta, thr = rng.uniform(0.6, 1.0, n), rng.uniform(0.5, 1.5, n)
    alpha = rng.uniform(0.3, 0.9, n) if cls_name == "RSynaptic" else None
    if alpha is None:
        model: snn.NeuronModel = snn.RLeaky(beta, thr, reset=reset, reset_delay=delay)
    else:
        model = snn.CubaLIF(alpha, beta, thr, reset=reset, reset_delay=True)
    _, _, sp, st = _input_net(model, in_spk, W, recurrent=V)
    core = _core_result(sp, st, T, n)
    ref = _torch_forward(cls_name, in_spk @ W.T, beta, thr, reset, delay, alpha, V=V)
    n_diff, err = _compare(core, ref, alpha is not None)
    print(f"float64 {cls_name} {reset} delay={delay}: {n_diff} spikes differ, max |diff| {err:.3g}")
    # the ring sums input and recurrent weights in delivery order, torch in its own order
    assert n_diff == 0 and err <= 1e-12, (n_diff, err)
    assert 200 < core[0].sum() < 0.6 * T * n


def test_leaky_zero_reset_is_not_rleaky(rng: np.random.Generator) -> None:
    """Leaky's zero reset differs from RLeaky's (snnTorch itself), and each class matches."""
    T, n_in, n = 200, 20, 30
    in_spk, W = _random_problem(rng, T, n_in, n)
    beta, thr = np.full(n, 0.9), np.full(n, 0.8)
    x = in_spk @ W.T
    zero_V = np.zeros((n, n))
    ref_leaky = _torch_forward("Leaky", x, beta, thr, "zero", True)
    ref_rleaky = _torch_forward("RLeaky", x, beta, thr, "zero", True, V=zero_V)
    assert not np.array_equal(ref_leaky[1], ref_rleaky[1])
    for model, ref in ((snn.Leaky, ref_leaky), (snn.RLeaky, ref_rleaky)):
        _, _, sp, st = _input_net(model(beta, thr, reset="zero"), in_spk, W)
        assert _compare(_core_result(sp, st, T, n), ref, False) == (0, 0.0)


@pytest.mark.parametrize("cls_name", ["Leaky", "Synaptic", "RLeaky"])
def test_float32_agreement_with_snntorch(rng: np.random.Generator, cls_name: str) -> None:
    """Network(precision="single") against snnTorch in float32 (measured, see the README)."""
    T, n_in, n = 300, 20, 50
    in_spk, W = _random_problem(rng, T, n_in, n)
    beta, thr = rng.uniform(0.6, 1.0, n), rng.uniform(0.5, 1.5, n)
    alpha = rng.uniform(0.3, 0.9, n) if cls_name == "Synaptic" else None
    V = rng.normal(0.0, 0.3, (n, n)).astype(np.float32) if cls_name == "RLeaky" else None
    cls = {"Leaky": snn.Leaky, "RLeaky": snn.RLeaky}.get(cls_name)
    model = snn.CubaLIF(alpha, beta, thr) if cls is None else cls(beta, thr)
    _, _, sp, st = _input_net(model, in_spk, W, "single", recurrent=V)
    core = _core_result(sp, st, T, n)
    ref = _torch_forward(cls_name, in_spk @ W.T, beta, thr, "subtract", True, alpha, V, "float32")
    n_diff, err = _compare(core, ref, alpha is not None)
    print(f"float32 {cls_name}: {n_diff} differing spikes of {T * n}, max |diff| {err:.3g}")
    if V is None:  # the same float32 operations in the same order
        assert (n_diff, err) == (0, 0.0)
    else:
        # the recurrent sums (50 terms) are added in another order: ~1e-5 measured
        assert n_diff <= 0.001 * T * n and (n_diff > 0 or err <= 1e-4)


def test_set_after_run_switches_to_per_neuron_kernels() -> None:
    """pop.set(beta=array) between runs: the population continues with per-neuron values."""
    net = snn.Network(dt=1.0, seed=2)
    pop = net.add_population(3, snn.CubaLIF(0.5, 0.9, threshold=100.0), label="p")
    net.add_input(pop, snn.StepCurrent(times=[0.0], amplitudes=[1.0]))
    st = net.record_state(pop, ["mem", "syn"])
    net.run(2.0)
    pop.set(beta=[0.0, 0.5, 1.0])
    net.run(1.0)
    mem = np.asarray(st.data)[:, :3]
    # syn: 1, 1.5, 1.75; mem: 1, 0.9 + 1.5 = 2.4, then beta * 2.4 + 1.75
    np.testing.assert_allclose(mem[:2], [[1.0] * 3, [2.4] * 3])
    np.testing.assert_allclose(mem[2], [1.75, 2.95, 4.15])
