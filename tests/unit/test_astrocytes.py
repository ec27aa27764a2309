"""Astrocyte models: NALSM's integrator against its published discrete update, AstrocyteLR.

The NALSM update (``NALSM_ASTRO.update_astro_state``, models-and-training.md 2.3) is
transcribed in NumPy below and compared number for number; AstrocyteLR is compared with a
NumPy RK4 transcription of NEST's equations here (the NEST comparison itself is in
``tests/validation/test_astrocyte_nest.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ConnectivityError, ParameterError

T_MS = 60


def _trains(rng: np.random.Generator, n: int, p: float) -> list[list[float]]:
    """Bernoulli spike trains on the 1 ms grid, times 1 .. T_MS - 2 ms."""
    return [[float(t) for t in range(1, T_MS - 1) if rng.random() < p] for _ in range(n)]


def _nalsm_net(
    rng: np.random.Generator, w: float, precision: str = "double", dt: float = 1.0
) -> tuple[snn.Network, list[list[float]], list[list[float]], snn.Population]:
    net = snn.Network(dt=dt, seed=1, precision=precision)
    liq_t, inp_t = _trains(rng, 12, 0.3), _trains(rng, 6, 0.2)
    liquid = net.add_population(12, snn.SpikeSource(times=liq_t), label="liquid")
    inputs = net.add_population(6, snn.SpikeSource(times=inp_t), label="inputs")
    astro = net.add_population(1, snn.Astrocyte(tau=100.0, bias=0.15, a_init=0.15), label="a")
    net.connect(liquid, astro, snn.AllToAll(), weight=+w, delay=1.0)
    net.connect(inputs, astro, snn.AllToAll(), weight=-w, delay=1.0)
    return net, liq_t, inp_t, astro


def _nalsm_reference(
    liq_t: list[list[float]], inp_t: list[list[float]], w: float, dtype: type
) -> np.ndarray:
    """NALSM's update, once per 1 ms step, in ``dtype``.

    ``A <- A + ((sum(w * mask * S) + bias) - A) / tau`` with ``mask`` +1 on liquid and -1 on
    input neurons and ``S`` the spikes of the previous step (one-step connection delay).
    """
    f = dtype
    n_liq, n_in = len(liq_t), len(inp_t)
    s = np.zeros((T_MS + 1, n_liq + n_in), dtype=f)
    for i, ts in enumerate(liq_t + inp_t):
        for t in ts:
            s[int(t), i] = 1
    mask = np.concatenate([np.ones(n_liq), -np.ones(n_in)]).astype(f)
    a, bias, tau = f(0.15), f(0.15), f(100.0)
    out = []
    for k in range(1, T_MS + 1):
        drive = np.sum(f(w) * mask * s[k - 1], dtype=f)
        a = a + ((drive + bias) - a) / tau
        out.append(a)
    return np.array(out, dtype=f)


@pytest.mark.parametrize(("precision", "dtype"), [("double", np.float64), ("single", np.float32)])
def test_nalsm_update_exact(seed: int, precision: str, dtype: type) -> None:
    # w = 2**-6: every partial sum of the drive is exact, so the summation order (ring
    # buffer vs NumPy vs TensorFlow) cannot matter and the update must agree bit for bit
    w = 2.0**-6
    net, liq_t, inp_t, astro = _nalsm_net(np.random.default_rng(seed), w, precision)
    rec = net.record_state(astro, ["A"])
    net.run(float(T_MS))
    assert np.allclose(rec.times, np.arange(1, T_MS + 1))
    want = _nalsm_reference(liq_t, inp_t, w, dtype)
    np.testing.assert_array_equal(rec["A"][:, 0].astype(dtype), want)


def test_nalsm_update_paper_weight(seed: int) -> None:
    # w_astro = 0.015 (NALSM1000): equal up to the order of summing the drive. Static
    # weights are stored as float32, so the reference uses the stored weight.
    w = 0.015
    net, liq_t, inp_t, astro = _nalsm_net(np.random.default_rng(seed), w)
    stored = float(net.projections[0].table().weight[0])
    assert stored == float(np.float32(w))
    rec = net.record_state(astro, ["A"])
    net.run(float(T_MS))
    want = _nalsm_reference(liq_t, inp_t, stored, np.float64)
    np.testing.assert_allclose(rec["A"][:, 0], want, rtol=1e-14, atol=0)
    assert not np.allclose(want, 0.15)  # the input did move A


def test_astrocyte_other_dt_per_spike_effect() -> None:
    # at dt = 0.5 ms, one spike of weight w still raises A by w / tau; leak acts for dt
    net = snn.Network(dt=0.5, seed=1)
    src = net.add_population(1, snn.SpikeSource(times=[[2.0]]), label="s")
    astro = net.add_population(1, snn.Astrocyte(tau=50.0, bias=0.0, a_init=0.0), label="a")
    net.connect(src, astro, snn.OneToOne(), weight=0.5, delay=1.0)
    rec = net.record_state(astro, ["A"])
    net.run(10.0)
    a = rec["A"][:, 0]
    k = int(np.flatnonzero(rec.times == 3.0)[0])
    assert a[k - 1] == 0.0
    assert a[k] == pytest.approx(0.5 / 50.0, rel=1e-15)
    assert a[k + 1] == pytest.approx(a[k] * (1 - 0.5 / 50.0), rel=1e-15)


def _lr_reference(times: list[float], w: float, dt: float, t_ms: float, p: dict) -> np.ndarray:
    """RK4 transcription of NEST astrocyte_lr_1994 (plasticity.md section 6)."""

    def rhs(y: np.ndarray) -> np.ndarray:
        ip3, ca, h = y
        c = min(max(ca, 0.0), p["Ca_tot"])
        r = p["ratio_ER_cyt"]
        ca_er = (p["Ca_tot"] - c) / r
        m = ip3 / (ip3 + p["Kd_IP3_1"])
        n = c / (c + p["Kd_act"])
        j_chan = r * p["rate_IP3R"] * m**3 * n**3 * h**3 * (ca_er - c)
        j_pump = p["rate_SERCA"] * c**2 / (p["Km_SERCA"] ** 2 + c**2)
        j_leak = r * p["rate_L"] * (ca_er - c)
        alpha = p["k_IP3R"] * p["Kd_inh"] * (ip3 + p["Kd_IP3_1"]) / (ip3 + p["Kd_IP3_2"])
        return np.array(
            [(p["IP3_0"] - ip3) / p["tau_IP3"], j_chan - j_pump + j_leak,
             alpha * (1 - h) - p["k_IP3R"] * c * h]
        )  # fmt: skip

    n_steps = round(t_ms / dt)
    drive = np.zeros(n_steps + 2)
    for t in times:
        drive[round((t + 1.0) / dt)] += w  # delay 1 ms
    y = np.array([0.16, 0.073, 0.793])
    out = []
    for s in range(1, n_steps + 1):
        k1 = rhs(y)
        k2 = rhs(y + dt / 2 * k1)
        k3 = rhs(y + dt / 2 * k2)
        k4 = rhs(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        y[1] = min(max(y[1], 0.0), p["Ca_tot"])
        y[0] += p["delta_IP3"] * drive[s]
        x = (y[1] - p["SIC_th"]) * 1000.0
        out.append([*y, p["SIC_scale"] * np.log(x) if x > 1.0 else 0.0])
    return np.array(out)


def test_astrocyte_lr_matches_transcription(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dt, t_ms = 0.1, 300.0
    times = sorted({round(float(t), 1) for t in rng.uniform(1.0, 250.0, 40)})
    net = snn.Network(dt=dt, seed=1)
    src = net.add_population(1, snn.SpikeSource(times=[times]), label="s")
    model = snn.AstrocyteLR(delta_IP3=0.2)
    lr = net.add_population(1, model, label="lr")
    net.connect(src, lr, snn.OneToOne(), weight=3.0, delay=1.0)
    names = ["IP3", "Ca_astro", "h_IP3R", "SIC"]
    rec = net.record_state(lr, names)
    net.run(t_ms)
    want = _lr_reference(times, 3.0, dt, t_ms, {k: float(v) for k, v in model.params.items()})
    for j, name in enumerate(names):
        got = rec[name][:, 0]
        scale = np.max(np.abs(want[:, j]))
        assert np.max(np.abs(got - want[:, j])) <= 1e-12 * scale, name
    assert np.max(rec["SIC"]) > 0  # calcium crossed SIC_th


def test_astrocyte_lr_refuses_negative_weights() -> None:
    net = snn.Network(dt=0.1, seed=1)
    src = net.add_population(1, snn.SpikeSource(times=[[1.0]]), label="s")
    lr = net.add_population(1, snn.AstrocyteLR(), label="lr")
    with pytest.raises(ConnectivityError, match="AstrocyteLR"):
        net.connect(src, lr, snn.OneToOne(), weight=-1.0)
    with pytest.raises(ParameterError, match="tau_IP3"):
        snn.AstrocyteLR(tau_IP3=0.0)
    with pytest.raises(ParameterError, match="tau"):
        snn.Astrocyte(tau=-1.0)


def _mixed_net(seed: int) -> snn.Network:
    rng = np.random.default_rng(seed)
    net, _, _, _ = _nalsm_net(rng, 0.015, dt=1.0)
    src = net.populations[0]
    lr = net.add_population(2, snn.AstrocyteLR(delta_IP3=0.3), label="lr")
    net.connect(src, lr, snn.AllToAll(), weight=1.0, delay=1.0)
    return net


def test_checkpoint_round_trip(tmp_path: Path, seed: int) -> None:
    full = _mixed_net(seed)
    full.run(float(T_MS))
    half = _mixed_net(seed)
    half.run(T_MS / 2)
    snn.save(half, tmp_path / "half.h5")
    net2 = snn.load(tmp_path / "half.h5")
    assert isinstance(net2.populations[2].model, snn.Astrocyte)
    assert net2.populations[3].model == half.populations[3].model
    net2.run(T_MS / 2)
    for p, var in ((2, "A"), (3, "IP3"), (3, "Ca_astro"), (3, "h_IP3R"), (3, "SIC")):
        np.testing.assert_array_equal(
            net2.populations[p].get_state(var), full.populations[p].get_state(var)
        )
