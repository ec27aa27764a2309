"""``net.modulate``: astrocyte effects against slow NumPy references, composition, thread,
split-run and resume invariance, event-driven networks and errors at the call."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ConnectivityError, ParameterError

pytestmark = pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")

T_MS = 120.0
A_INIT = 0.15


def _trains(rng: np.random.Generator, n: int, rate: float) -> list[np.ndarray]:
    """Spike trains on the 1 ms grid, ``rate`` spikes per ms and source."""
    return [np.flatnonzero(rng.random(int(T_MS)) < rate).astype(float) + 1.0 for _ in range(n)]


def _astro_ref(x: np.ndarray, tau: float, bias: float, a0: float) -> np.ndarray:
    """A after each step (rows: stamps 1..T), NALSM's Euler step at h = 1 ms."""
    a = np.full(x.shape[1], a0)
    out = np.zeros(x.shape)
    for t in range(x.shape[0]):
        a = a + ((x[t] + bias * 1.0) - a * 1.0) / tau
        out[t] = a
    return out


def _arrivals(stamps: np.ndarray, ids: np.ndarray, n: int, delay: int, steps: int) -> np.ndarray:
    """``counts[t - 1, i]``: spikes of source ``i`` arriving at stamp ``t``."""
    counts = np.zeros((steps, n))
    for s, i in zip(stamps, ids, strict=True):
        if s + delay <= steps:
            counts[s + delay - 1, i] += 1
    return counts


def _lif_ref(model: snn.LIF, x_exc: np.ndarray, i_add: np.ndarray, th_add: np.ndarray):
    """iaf_psc_exp with per-step extra i_offset and threshold (rows: stamps 1..T)."""
    c = model.coefficients(1.0)
    p22, p11e, _, p21e, _, p20, v_rest, v_th, v_reset, i_off, n_ref = c[:11]
    steps, n = x_exc.shape
    v = np.full(n, v_rest)
    ie = np.zeros(n)
    ii = np.zeros(n)
    ref = np.zeros(n, dtype=np.int64)
    vs = np.zeros((steps, n))
    spikes = []
    for t in range(steps):
        for i in range(n):
            cur = i_off + i_add[t, i]
            vn = v_rest + (v[i] - v_rest) * p22 + ie[i] * p21e + ii[i] * c[4] + cur * p20
            vi = vn if ref[i] == 0 else v[i]
            ref[i] = ref[i] - 1 if ref[i] > 0 else ref[i]
            ie[i] = ie[i] * p11e + x_exc[t, i]
            ii[i] = ii[i] * c[2]
            if vi >= v_th + th_add[t, i]:
                vi = v_reset
                ref[i] = int(n_ref)
                spikes.append((t + 1, i))
            v[i] = vi
        vs[t] = v
    return vs, spikes


def _delayed(a: np.ndarray, d: int) -> np.ndarray:
    """Rows ``t``: A at stamp ``t - d`` (the value at build before the first stamp)."""
    out = np.full_like(a, A_INIT)
    out[d:] = a[: a.shape[0] - d]
    return out


def _base_net(seed: int, rng: np.random.Generator, threads: int = 1, event: bool | None = None):
    net = snn.Network(dt=1.0, seed=seed, threads=threads, event_driven=event)
    src = net.add_population(12, snn.SpikeSource(_trains(rng, 12, 0.15)), label="src")
    astro = net.add_population(2, snn.Astrocyte(tau=8.0, bias=0.1, a_init=A_INIT), label="astro")
    pop = net.add_population(4, snn.LIF(tau_refrac=2.0, v_thresh=-52.0), label="pop")
    net.connect(src[0:6], astro[0:1], snn.AllToAll(), weight=0.4)
    net.connect(src[6:12], astro[1:2], snn.AllToAll(), weight=0.7)
    drive = net.connect(src, pop, snn.AllToAll(), weight=0.35, delay=2.0)
    return net, src, astro, pop, drive


@pytest.mark.parametrize("effects", [("current",), ("threshold",), ("current", "threshold")])
def test_neuron_effects_match_numpy(seed: int, rng: np.random.Generator, effects: tuple) -> None:
    net, src, astro, pop, _ = _base_net(seed, rng)
    dm = 3
    w_cur, w_th = 2.5, 4.0
    if "current" in effects:
        net.modulate(astro, pop, snn.AllToAll(), effect="current", weight=w_cur, delay=float(dm))
        # a second current modulation of two neurons composes with the first
        net.modulate(astro[1:2], pop[0:2], effect="current", weight=-1.0, delay=1.0)
    if "threshold" in effects:
        net.modulate(astro, pop, None, effect="threshold", weight=w_th, delay=2.0)
    src_sp = net.record_spikes(src)
    a_rec = net.record_state(astro, ["A"])
    v_rec = net.record_state(pop, ["v"])
    sp = net.record_spikes(pop)
    net.run(T_MS)
    steps = int(T_MS)
    x_astro = _arrivals(src_sp.steps, src_sp.ids, 12, 1, steps)
    f32 = np.float32  # static weights are stored as float32
    x_a = np.stack([f32(0.4) * x_astro[:, :6].sum(1), f32(0.7) * x_astro[:, 6:].sum(1)], 1)
    a_ref = _astro_ref(x_a, 8.0, 0.1, A_INIT)
    np.testing.assert_allclose(a_rec.data, a_ref, rtol=1e-13)
    a = a_rec.data
    arrive = _arrivals(src_sp.steps, src_sp.ids, 12, 2, steps).sum(1)
    x_pop = np.repeat(f32(0.35) * arrive[:, None], 4, 1)
    i_add = np.zeros((steps, 4))
    th_add = np.zeros((steps, 4))
    if "current" in effects:
        ad = _delayed(a, dm)
        i_add += w_cur * ad[:, 0:1] + w_cur * ad[:, 1:2]
        i_add[:, 0:2] += -1.0 * _delayed(a, 1)[:, 1:2]
    if "threshold" in effects:
        ad = _delayed(a, 2)
        th_add += w_th * ad[:, 0:1] + w_th * ad[:, 1:2]
    v_ref, sp_ref = _lif_ref(pop.model, x_pop, i_add, th_add)
    np.testing.assert_allclose(v_rec.data, v_ref, rtol=1e-12, atol=1e-12)
    assert sorted(zip(sp.steps.tolist(), sp.ids.tolist(), strict=True)) == sp_ref
    assert len(sp_ref) > 3  # the protocol makes the neurons spike


def test_gain_matches_numpy(seed: int, rng: np.random.Generator) -> None:
    net, src, astro, pop, drive = _base_net(seed, rng)
    net.modulate(astro[0:1], drive, effect="gain", weight=0.8, delay=2.0)
    src_sp = net.record_spikes(src)
    a_rec = net.record_state(astro, ["A"])
    v_rec = net.record_state(pop, ["v"])
    net.run(T_MS)
    steps = int(T_MS)
    gain = 1.0 + 0.8 * _delayed(a_rec.data, 2)[:, 0]  # at the spike's stamp
    x = np.zeros(steps)
    for s in src_sp.steps:
        if s + 2 <= steps:
            x[s + 1] += 0.35 * gain[s - 1]
    v_ref, _ = _lif_ref(pop.model, np.repeat(x[:, None], 4, 1), np.zeros((steps, 4)),
                        np.zeros((steps, 4)))  # fmt: skip
    np.testing.assert_allclose(v_rec.data, v_ref, rtol=1e-12, atol=1e-12)
    # the stored weights are not changed by the gain
    assert {w for _, _, w in drive.get(["weight"], format="list")} == {0.35}


def _stdp_ref(pre, post, d, steps, rule, w0, am):
    """One synapse, pairing="all", additive: NEST's order (snnsim.plasticity docstring)."""
    tp, tm = rule.tau_plus, rule.tau_minus  # dt = 1 ms
    u = w0 / rule.w_max
    kpost, prev = [], None
    for p in post:
        kpost.append(1.0 if prev is None else kpost[-1] * math.exp((prev - p) / tm) + 1.0)
        prev = p
    kpre, tl = 0.0, None

    def facilitate(u, lo, hi):
        for p in post:
            if lo < p + d <= hi:
                u = min(1.0, u + rule.a_plus * kpre * math.exp((tl - (p + d)) / tp))
        return u

    for t in pre:
        if tl is not None:
            u = facilitate(u, tl, t)
        before = [i for i, p in enumerate(post) if p < t - d]
        if before:
            i = before[-1]
            k = kpost[i] * math.exp((post[i] - (t - d)) / tm)
            u = max(rule.w_min / rule.w_max, min(1.0, u - am(t) * k))
        kpre = 1.0 if tl is None else kpre * math.exp((tl - t) / tp) + 1.0
        tl = t
    if tl is not None:
        u = facilitate(u, tl, steps)
    return u * rule.w_max


def test_stdp_depression_matches_numpy(seed: int, rng: np.random.Generator) -> None:
    net = snn.Network(dt=1.0, seed=seed, threads=1)
    pre = net.add_population(3, snn.SpikeSource(_trains(rng, 3, 0.08)), label="pre")
    kick = net.add_population(1, snn.SpikeSource(_trains(rng, 1, 0.1)), label="kick")
    post = net.add_population(2, snn.LIF(tau_refrac=1.0), label="post")
    astro = net.add_population(2, snn.Astrocyte(tau=10.0, bias=0.2, a_init=A_INIT), label="astro")
    net.connect(kick, post, snn.AllToAll(), weight=20.0)  # post spikes at known times
    rule = snn.STDP(tau_plus=15.0, tau_minus=25.0, a_plus=0.05, a_minus=0.5, w_max=1.0)
    proj = net.connect(pre, post, snn.AllToAll(), weight=0.3, delay=3.0, plasticity=rule)
    net.connect(post, astro, snn.OneToOne(), weight=1.5)
    net.modulate(astro, proj, snn.OneToOne(), effect="stdp_depression", weight=0.2, delay=2.0)
    sp_pre, sp_post = net.record_spikes(pre), net.record_spikes(post)
    a_rec = net.record_state(astro, ["A"])
    net.run(T_MS)
    a = _delayed(a_rec.data, 2)
    got = {(i, j): w for i, j, w in proj.get(["weight"], format="list")}
    n_dep = 0
    for i in range(3):
        for j in range(2):
            pre_t = sp_pre.steps[sp_pre.ids == i].tolist()
            post_t = sp_post.steps[sp_post.ids == j].tolist()
            n_dep += sum(any(p < t - 3 for p in post_t) for t in pre_t)
            ref = _stdp_ref(pre_t, post_t, 3, int(T_MS), rule, 0.3,
                            lambda t, j=j: 0.2 * a[t - 1, j])  # fmt: skip
            assert got[(i, j)] == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert n_dep > 5


def test_constant_astrocyte_equals_the_rule(seed: int, rng: np.random.Generator) -> None:
    """An astrocyte at rest (A = bias) gives exactly the rule with a_minus = w * bias."""
    runs = []
    for modulated in (False, True):
        r = np.random.default_rng(seed)
        net = snn.Network(dt=1.0, seed=seed, threads=1)
        pre = net.add_population(20, snn.SpikeSource(_trains(r, 20, 0.1)), label="pre")
        post = net.add_population(5, snn.LIF(), label="post")
        astro = net.add_population(1, snn.Astrocyte(tau=50.0, bias=0.25, a_init=0.25))
        a_minus = 0.3 * 0.25 if not modulated else 0.9
        rule = snn.STDP(a_plus=0.05, a_minus=a_minus, w_max=2.0)
        proj = net.connect(pre, post, snn.AllToAll(), weight=1.0, delay=2.0, plasticity=rule)
        if modulated:
            net.modulate(astro, proj, effect="stdp_depression", weight=0.3)
        net.run(T_MS)
        runs.append(np.array([w for _, _, w in proj.get(["weight"], format="list")]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.any(runs[0] != 1.0)


def _big(seed: int, threads: int, event: bool | None = None):
    """200 LIF neurons (three thread partitions), astrocytes acting on all four effects."""
    rng = np.random.default_rng(seed)
    net = snn.Network(dt=0.5, seed=seed, threads=threads, event_driven=event)
    exc = net.add_population(150, snn.LIF(tau_refrac=2.0, v_thresh=-52.0), label="exc")
    calm = net.add_population(50, snn.LIF(tau_refrac=2.0), label="calm")
    astro = net.add_population(3, snn.Astrocyte(tau=30.0, bias=0.05, a_init=0.1), label="astro")
    lr = net.add_population(1, snn.AstrocyteLR(), label="lr")
    net.add_input(exc, snn.PoissonInput(n_inputs=60, rate=30.0, weight=0.15))
    net.add_input(calm, snn.PoissonInput(n_inputs=20, rate=20.0, weight=0.1))
    rule = snn.STDP(a_plus=0.02, a_minus=0.02, w_max=0.5)
    ee = net.connect(exc, exc, snn.FixedProbability(0.1), weight=0.1, delay=1.5, plasticity=rule)
    ec = net.connect(exc, calm, snn.FixedProbability(0.1), weight=0.1, delay=1.0)
    net.connect(exc, astro, snn.FixedProbability(0.3), weight=0.02)
    net.connect(exc, lr, snn.AllToAll(), weight=5.0)
    net.modulate(astro, ee, snn.FixedProbability(0.5), effect="stdp_depression", weight=0.1,
                 delay=1.0)  # fmt: skip
    net.modulate(astro, exc, snn.FixedProbability(0.2), effect="current", weight=0.5)
    net.modulate(astro[0:1], exc[0:100], effect="threshold", weight=3.0, delay=2.0)
    net.modulate(astro[2:3], ec, effect="gain", weight=2.0, delay=1.5)
    net.modulate(lr, exc[50:150], effect="current", weight=1e-3)
    del rng
    sp = net.record_spikes(net.populations[0])
    spc = net.record_spikes(calm)
    a = net.record_state(astro, ["A"])
    return net, ee, sp, spc, a


def _result(net, ee, sp, spc, a) -> tuple:
    w = np.array([x[2] for x in ee.get(["weight"], format="list")])
    return w, sp.steps.copy(), sp.ids.copy(), spc.steps.copy(), spc.ids.copy(), a.data.copy()


@pytest.fixture(scope="module")
def reference() -> tuple:
    parts = _big(7, 1)
    parts[0].run(60.0)
    return _result(*parts)


def _same(got: tuple, ref: tuple) -> None:
    for x, y in zip(got, ref, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_bit_identical(reference: tuple, threads: int) -> None:
    parts = _big(7, threads)
    parts[0].run(60.0)
    _same(_result(*parts), reference)
    assert reference[1].size > 50 and np.any(reference[0] != 0.1)


def test_split_runs_and_event_driven(reference: tuple) -> None:
    parts = _big(7, 2)
    for ms in (0.5, 17.0, 30.5, 12.0):
        parts[0].run(ms)
    _same(_result(*parts), reference)
    # forced event-driven: "calm" may idle; the modulated "exc" is clock-driven throughout
    parts = _big(7, 1, event=True)
    eng = parts[0].build()
    assert eng.uses_event_driven()
    pops, _, _, _, _, _ = eng.kernel_arrays()
    assert pops.event[0] == 0 and pops.event[1] > 0 and pops.noff[0] >= 0
    parts[0].run(60.0)
    _same(_result(*parts), reference)


def test_resume_in_fresh_process(tmp_path: Path, reference: tuple) -> None:
    parts = _big(7, 2)
    parts[0].run(25.0)
    path = tmp_path / "mod.h5"
    snn.save(parts[0], path)
    out = tmp_path / "out.npz"
    script = textwrap.dedent(
        f"""
        import numpy as np, snnsim as snn
        net = snn.load({str(path)!r})
        net.run(35.0)
        w = np.array([x[2] for x in net.projections[0].get(["weight"], format="list")])
        recs = net.recorders
        np.savez({str(out)!r}, w=w, s=recs[0].steps, i=recs[0].ids, cs=recs[1].steps,
                 ci=recs[1].ids, a=recs[2].data, n=len(net.modulations),
                 e=[m.effect for m in net.modulations])
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ}, timeout=600)
    got = np.load(out)
    _same((got["w"], got["s"], got["i"], got["cs"], got["ci"], got["a"]), reference)
    assert int(got["n"]) == 5
    assert list(got["e"]) == ["stdp_depression", "current", "threshold", "gain", "current"]


def test_no_modulation_no_code() -> None:
    from snnsim.modulation_state import modulation_arrays

    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(3, snn.LIF())
    net.connect(a, a, snn.AllToAll(), weight=0.1)
    net.run(1.0)
    eng = net.built_engine()
    pops, _, _, _, _, _ = eng.kernel_arrays()
    assert modulation_arrays(eng, pops) is None


def test_errors_at_the_call() -> None:
    net = snn.Network(dt=0.5, seed=1)
    astro = net.add_population(2, snn.Astrocyte())
    lr = net.add_population(1, snn.AstrocyteLR())
    pop = net.add_population(3, snn.LIF())
    leaky = net.add_population(3, snn.Leaky())
    static = net.connect(pop, pop, snn.AllToAll(), weight=0.1)
    with pytest.raises(ParameterError, match="LIF neurons; modulate needs an astrocyte"):
        net.modulate(pop, pop, effect="current")
    with pytest.raises(ParameterError, match="unknown effect"):
        net.modulate(astro, pop, effect="voltage")
    with pytest.raises(ConnectivityError, match="OneToOne"):
        net.modulate(astro, pop, snn.OneToOne(), effect="current")
    with pytest.raises(ParameterError, match="shorter than dt"):
        net.modulate(astro, pop, effect="current", delay=0.2)
    with pytest.raises(ParameterError, match="not a multiple of dt"):
        net.modulate(astro, pop, effect="current", delay=1.2)
    with pytest.raises(ParameterError, match="not supported for Leaky neurons"):
        net.modulate(astro, leaky, effect="threshold")
    with pytest.raises(ParameterError, match="slow inward current"):
        net.modulate(lr, pop, effect="threshold")
    with pytest.raises(ParameterError, match="not plastic"):
        net.modulate(astro, static, effect="stdp_depression")
    with pytest.raises(ParameterError, match="acts on neurons"):
        net.modulate(astro, static, effect="current")
    with pytest.raises(ParameterError, match="synapses of a projection"):
        net.modulate(astro, pop, effect="gain")
    with pytest.raises(ParameterError, match="weight"):
        net.modulate(astro, pop, effect="current", weight=float("nan"))
    with pytest.raises(ConnectivityError, match="connector instance"):
        net.modulate(astro, pop, snn.AllToAll, effect="current")  # type: ignore[arg-type]
    net.modulate(astro, pop, effect="current")
    net.run(1.0)
    with pytest.raises(snn.errors.SimulationError, match="already built"):
        net.modulate(astro, pop, effect="current")
