"""Delay plasticity in the event core and the rules' per-synapse arrays.

The rule (``snnsim.delay_plasticity``) against a slow NumPy reference on a random protocol,
the demonstration (arrivals of a repeated pattern with planted offsets align), determinism
(threads, split runs, resume in a fresh process, with STDP on the same projection), the
per-synapse array ``dp_arrival`` through checkpoints and ``Projection.set``, and errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim import hardware as hw
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.plastic_blocks import declare_synapse_arrays
from snnsim.synapse_blocks import projection_weight_slots

pytestmark = pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")


def _delays(proj: snn.Projection) -> np.ndarray:
    return np.array([d for _, _, d in proj.get(["delay"], format="list")])


def _weights(proj: snn.Projection) -> np.ndarray:
    return np.array([w for _, _, w in proj.get(["weight"], format="list")])


def _arrivals(net: snn.Network, proj: snn.Projection) -> np.ndarray:
    """The ``dp_arrival`` array of ``proj`` in ``get`` order (row 0 of ``mb_sa_i64``)."""
    eng = net.built_engine()
    slots = projection_weight_slots(eng, proj.index, proj.pre.global_ids, proj.post.global_ids)
    assert slots is not None
    return eng.mb_sa_i64[0, slots].copy()


# ---------------------------------------------------------------- the rule vs a reference
def _reference(pre_steps, post_steps, d0, rule, bounds, dt):
    """Slow reference of the rule (module docstring of snnsim.delay_plasticity), one synapse.

    Returns the final delay and arrival (steps).
    """
    win, lead = round(rule.window / dt), round(rule.lead / dt)
    d_lo, d_hi = bounds
    look = d_hi + win + 3
    d, a = int(d0), -1
    for t in pre_steps:
        if a >= 0:
            seen = [n for n in post_steps if n <= t][-look:]
            cand = [n for n in seen if abs(n - a) <= win]
            if cand:
                errs = [n - lead - a for n in cand]
                best = min(abs(e) for e in errs)
                e = [x for x in errs if abs(x) == best][-1]  # ties: the later spike
                if e != 0:
                    step = min(abs(e), rule.max_step)
                    d = min(d_hi, max(d_lo, d + (step if e > 0 else -step)))
        a = t + d
    return d, a


@pytest.mark.parametrize(("window", "lead", "max_step"), [(6.0, 0.0, 1), (3.0, 1.0, 3)])
def test_rule_matches_numpy_reference(
    rng: np.random.Generator, window: float, lead: float, max_step: int
) -> None:
    dt, n_in, n_post, t_end = 0.5, 12, 3, 400.0
    rule = snn.DelayPlasticity(window=window, lead=lead, max_step=max_step)
    bounds_ms = (1.0, 9.0)
    pre_times = [np.unique(np.round(rng.uniform(1, t_end, 25) / dt)) * dt for _ in range(n_in)]
    drive_times = [np.unique(np.round(rng.uniform(1, t_end, 30) / dt)) * dt for _ in range(n_post)]
    net = snn.Network(dt=dt, seed=1, threads=1)
    src = net.add_population(n_in, snn.SpikeSource([list(t) for t in pre_times]))
    drv = net.add_population(n_post, snn.SpikeSource([list(t) for t in drive_times]))
    post = net.add_population(n_post, snn.LIF(tau_refrac=0.5))
    net.connect(drv, post, snn.OneToOne(), weight=50.0, delay=dt)
    d0 = rng.integers(2, 19, (n_in, n_post)) * dt  # 1..9 ms, on the grid
    proj = net.connect(
        src, post, snn.AllToAll(), weight=0.0, delay=d0, plasticity=rule, delay_bounds=bounds_ms
    )
    sp = net.record_spikes(post)
    for ms in (97.5, 0.5, 150.0, t_end + 10.0 - 248.0):  # split runs change nothing
        net.run(ms)
    assert sp.count > 30
    post_steps = [list(np.round(sp.times[sp.ids == j] / dt).astype(int)) for j in range(n_post)]
    got_d = np.round(_delays(proj) / dt).astype(int)
    got_a = _arrivals(net, proj)
    want_d, want_a = [], []
    for i in range(n_in):
        pre_steps = list(np.round(pre_times[i] / dt).astype(int))
        for j in range(n_post):
            d, a = _reference(pre_steps, post_steps[j], round(d0[i, j] / dt), rule, (2, 18), dt)
            want_d.append(d)
            want_a.append(a)
    np.testing.assert_array_equal(got_d, want_d)
    np.testing.assert_array_equal(got_a, want_a)
    assert np.any(got_d != np.round(d0.reshape(-1) / dt))  # the delays did move


# ---------------------------------------------------------------- demonstration
@pytest.mark.parametrize("trial", [0, 1, 2])
def test_repeated_pattern_aligns_arrivals(rng: np.random.Generator, trial: int) -> None:
    """30 inputs fire a pattern with planted offsets (0..10 ms) every 80 ms onto one LIF
    neuron; random initial delays (8..24 ms). The learned delays bring >= 90 % of the
    arrivals (offset + delay) within one step of their common value."""
    n_in, period, reps = 30, 80.0, 60
    offsets = rng.integers(0, 11, n_in).astype(float)
    d0 = rng.integers(8, 25, n_in).astype(float)
    net = snn.Network(dt=1.0, seed=1, threads=1)
    times = [[k * period + 5.0 + o for k in range(reps)] for o in offsets]
    src = net.add_population(n_in, snn.SpikeSource(times))
    post = net.add_population(1, snn.LIF(tau_m=10.0, tau_syn_exc=2.0, tau_refrac=30.0))
    proj = net.connect(
        src, post, snn.AllToAll(), weight=2.5, delay=d0,
        plasticity=snn.DelayPlasticity(window=30.0, lead=1.0), delay_bounds=(1.0, 40.0),
    )  # fmt: skip
    sp = net.record_spikes(post)
    before = offsets + d0
    net.run(reps * period)
    after = offsets + _delays(proj)
    aligned = np.mean(np.abs(after - np.median(after)) <= 1.0)
    assert np.mean(np.abs(before - np.median(before)) <= 1.0) < 0.5  # not aligned at first
    assert aligned >= 0.9, (aligned, after)
    assert sp.count >= reps // 2


# ---------------------------------------------------------------- determinism
def _net(seed: int, threads: int, stdp: bool = True) -> tuple:
    """200 LIF neurons (three thread partitions), plastic delays (and weights) exc->exc."""
    net = snn.Network(dt=0.1, seed=seed, threads=threads)
    exc = net.add_population(160, snn.LIF(tau_refrac=2.0), label="exc")
    inh = net.add_population(40, snn.LIF(tau_refrac=2.0), label="inh")
    net.add_input(exc, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
    net.add_input(inh, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
    rules: list = [snn.DelayPlasticity(window=3.0, lead=0.2, max_step=2)]
    if stdp:
        rules.insert(0, snn.STDP(a_plus=0.02, a_minus=0.021, w_max=0.5))
    ee = net.connect(
        exc, exc, snn.FixedProbability(0.1), weight=snn.Uniform(0.05, 0.3),
        delay=snn.Uniform(0.5, 3.0), round_delays=True, plasticity=rules,
        delay_bounds=(0.5, 4.0),
    )  # fmt: skip
    net.connect(inh, exc, snn.FixedProbability(0.2), weight=-0.3, delay=1.0, receptor="inh")
    net.connect(exc, inh, snn.FixedProbability(0.2), weight=0.2, delay=1.5)
    sp = net.record_spikes(exc)
    return net, ee, sp


@pytest.fixture(scope="module")
def reference() -> tuple:
    net, ee, sp = _net(5, 1)
    d0 = _delays(ee)
    net.run(150.0)
    return _delays(ee), _weights(ee), sp.times.copy(), sp.ids.copy(), d0


def test_delays_learn_within_bounds(reference: tuple) -> None:
    delays, _, times, _, d0 = reference
    assert times.size > 100
    assert np.all((delays >= 0.5 - 1e-12) & (delays <= 4.0 + 1e-12))
    assert np.mean(delays != d0) > 0.1  # learned, not the initial values


@pytest.mark.parametrize("threads", [2, 3])
def test_thread_invariance(reference: tuple, threads: int) -> None:
    net, ee, sp = _net(5, threads)
    net.run(150.0)
    np.testing.assert_array_equal(_delays(ee), reference[0])
    np.testing.assert_array_equal(_weights(ee), reference[1])
    np.testing.assert_array_equal(sp.times, reference[2])
    np.testing.assert_array_equal(sp.ids, reference[3])


def test_split_runs(reference: tuple) -> None:
    net, ee, sp = _net(5, 2)
    for ms in (0.1, 37.3, 0.4, 62.2, 50.0):
        net.run(ms)
    np.testing.assert_array_equal(_delays(ee), reference[0])
    np.testing.assert_array_equal(_weights(ee), reference[1])
    np.testing.assert_array_equal(sp.times, reference[2])


def test_resume_in_fresh_process(tmp_path: Path, reference: tuple) -> None:
    net, ee, _ = _net(5, 2)
    net.run(70.0)
    arrivals = _arrivals(net, ee)
    path = tmp_path / "dplast.h5"
    snn.save(net, path)
    loaded = snn.load(path)  # the rule-declared array round-trips through the checkpoint
    np.testing.assert_array_equal(_arrivals(loaded, loaded.projections[0]), arrivals)
    assert np.any(arrivals >= 0)
    out = tmp_path / "out.npz"
    script = textwrap.dedent(
        f"""
        import numpy as np, snnsim as snn
        net = snn.load({str(path)!r})
        net.run(80.0)
        p = net.projections[0]
        d = np.array([x[2] for x in p.get(["delay"], format="list")])
        w = np.array([x[2] for x in p.get(["weight"], format="list")])
        rec = [r for r in net.recorders if r.kind == "spikes"][0]
        np.savez({str(out)!r}, d=d, w=w, t=rec.times, i=rec.ids,
                 rule=str(p.delay_plasticity), bounds=np.array(p.delay_bounds))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ}, timeout=900)
    got = np.load(out)
    np.testing.assert_array_equal(got["d"], reference[0])
    np.testing.assert_array_equal(got["w"], reference[1])
    np.testing.assert_array_equal(got["t"], reference[2])
    np.testing.assert_array_equal(got["i"], reference[3])
    assert "DelayPlasticity(" in str(got["rule"])
    np.testing.assert_allclose(got["bounds"], [0.5, 4.0])


# ---------------------------------------------------------------- per-synapse arrays
def test_declared_array_survives_set_and_block_changes() -> None:
    net, ee, _ = _net(3, 1, stdp=False)
    other = net.connect(  # a mutable block before ee's once ee is rewritten
        net.population("inh"), net.population("inh"), snn.OneToOne(), weight=0.1, delay=0.5
    )
    net.run(40.0)
    eng = net.built_engine()
    assert eng.mb_sa_i64.shape == (1, eng.mb_code.size)
    arrivals = _arrivals(net, ee)
    delays = _delays(ee)
    assert np.any(arrivals >= 0)
    ee.set(weight=0.1)  # write-through: the synapses stay, so does their rule state
    np.testing.assert_array_equal(_arrivals(net, ee), arrivals)
    np.testing.assert_array_equal(_delays(ee), delays)
    other.set(weight=0.2)  # another block moves: ee's columns move with its synapses
    np.testing.assert_array_equal(_arrivals(net, ee), arrivals)
    ee.set(delay=2.0)
    np.testing.assert_array_equal(_arrivals(net, ee), arrivals)
    assert np.all(_delays(ee) == 2.0)
    assert eng.dp_rule[eng.mb_proj == ee.index][0] >= 0  # still plastic
    net.run(20.0)
    assert np.any(_delays(ee) != 2.0)


def test_a_float_array_round_trips_through_set_and_a_checkpoint(tmp_path: Path) -> None:
    """The engine side is generic: a float64 row added next to ``dp_arrival``."""
    net, ee, _ = _net(4, 1, stdp=False)
    net.run(10.0)
    eng = net.built_engine()
    declare_synapse_arrays(eng, eng.mb_sa_i64_init, np.array([0.5]))
    slots = projection_weight_slots(eng, ee.index, ee.pre.global_ids, ee.post.global_ids)
    assert slots is not None and np.all(eng.mb_sa_f64[0] == 0.5)
    values = np.arange(slots.size, dtype=np.float64) / 7.0
    eng.mb_sa_f64[0, slots] = values
    ee.set(weight=0.2)
    slots = projection_weight_slots(eng, ee.index, ee.pre.global_ids, ee.post.global_ids)
    assert slots is not None
    np.testing.assert_array_equal(eng.mb_sa_f64[0, slots], values)
    snn.save(net, tmp_path / "f64.h5")
    loaded = snn.load(tmp_path / "f64.h5")
    le = loaded.built_engine()
    lp = loaded.projections[ee.index]
    slots = projection_weight_slots(le, lp.index, lp.pre.global_ids, lp.post.global_ids)
    assert slots is not None
    np.testing.assert_array_equal(le.mb_sa_f64[0, slots], values)
    np.testing.assert_array_equal(le.mb_sa_f64_init, [0.5])


# ---------------------------------------------------------------- errors
def test_errors_at_the_call() -> None:
    with pytest.raises(ParameterError, match="window"):
        snn.DelayPlasticity(window=0.0)
    with pytest.raises(ParameterError, match="lead"):
        snn.DelayPlasticity(lead=-1.0)
    with pytest.raises(ParameterError, match="max_step"):
        snn.DelayPlasticity(max_step=0)
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(3, snn.LIF())
    rule = snn.DelayPlasticity()
    with pytest.raises(ConnectivityError, match="needs delay_bounds"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, delay=1.0, plasticity=rule)
    with pytest.raises(ConnectivityError, match="without a DelayPlasticity"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, delay=1.0, delay_bounds=(0.5, 2.0))
    with pytest.raises(ConnectivityError, match="not a multiple of dt"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, plasticity=rule, delay_bounds=(0.55, 2.0))
    with pytest.raises(ConnectivityError, match="d_min <= d_max"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, plasticity=rule, delay_bounds=(3.0, 2.0))
    with pytest.raises(ConnectivityError, match=r"delays in \[3, 3\] ms do not lie within"):
        net.connect(
            a, a, snn.AllToAll(), weight=0.1, delay=3.0, plasticity=rule, delay_bounds=(0.5, 2.0)
        )
    with pytest.raises(ConnectivityError, match="do not lie within"):  # default: one step
        net.connect(a, a, snn.AllToAll(), weight=0.1, plasticity=rule, delay_bounds=(0.5, 2.0))
    with pytest.raises(ParameterError, match=r"window=0\.25.*not a multiple"):
        net.connect(
            a, a, snn.AllToAll(), weight=0.1, delay=1.0, delay_bounds=(0.5, 2.0),
            plasticity=snn.DelayPlasticity(window=0.25),
        )  # fmt: skip
    with pytest.raises(ConnectivityError, match="at most one STDP"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, plasticity=[snn.STDP(), snn.STDP()])
    with pytest.raises(ConnectivityError, match="expected a rule"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, plasticity=[rule, "delays"])
    # drawn delays are checked when the network is built
    net.connect(
        a, a, snn.AllToAll(), weight=0.1, delay=snn.Uniform(0.5, 5.0), round_delays=True,
        plasticity=rule, delay_bounds=(0.5, 2.0),
    )  # fmt: skip
    with pytest.raises(ConnectivityError, match="do not lie within"):
        net.run(1.0)


def test_set_outside_bounds_and_hardware_refuse() -> None:
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(3, snn.LIF())
    proj = net.connect(
        a, a, snn.AllToAll(), weight=0.1, delay=1.0,
        plasticity=snn.DelayPlasticity(), delay_bounds=(0.5, 2.0),
    )  # fmt: skip
    with pytest.raises(ConnectivityError, match="do not lie within delay_bounds"):
        proj.set(delay=2.5)  # before the build: the description
    net.run(1.0)
    with pytest.raises(ConnectivityError, match="do not lie within delay_bounds"):
        proj.set(delay=2.5)  # after: the engine
    assert np.all(_delays(proj) == 1.0)
    report = hw.check(net, "spinnaker1")  # SpiNNaker runs STDP, not delay plasticity
    assert any(v.rule == "plasticity" and "DelayPlasticity" in v.message for v in report.errors)
