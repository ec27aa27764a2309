"""State and recorders between runs (issue 8, section 8).

``get_state``/``set_state`` on populations and views at any time (reading before the first
run does not build the network; setting before it is ``initialize``), event-driven
populations updated correctly after a change, validated values, and recorders added
between runs recording from then on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ParameterError

DT = 0.1


def _resting_net(event_driven: bool | None, seed: int = 3) -> snn.Network:
    """Neurons that rest below threshold (event-driven skips them) plus sparse input."""
    net = snn.Network(dt=DT, seed=seed, event_driven=event_driven)
    src = net.add_population(20, snn.PoissonSource(rate=30.0), label="src")
    pop = net.add_population(130, snn.LIF(v_rest=-65.0, v_thresh=-50.0, tau_refrac=2.0), label="p")
    net.connect(src, pop, snn.FixedProbability(0.2), weight=3.0, delay=1.0)
    net.record_spikes(pop)
    return net


def test_get_state_before_the_first_run_does_not_build():
    """Reading state before a run returns the initial values and leaves the description open."""
    net = snn.Network(dt=DT, seed=2)
    a = net.add_population(20, snn.LIF(v_rest=-61.0), label="a")
    a[5:10].initialize(v=snn.Uniform(-60.0, -55.0))
    v0 = a.get_state("v")
    sub = a[5:10].get_state("v")
    refrac = a[2:4].get_state("refrac")
    assert net.built_engine() is None
    b = net.add_population(5, snn.LIF(), label="b")  # still open: no "already built"
    net.connect(a, b, snn.AllToAll(), weight=0.1)
    np.testing.assert_array_equal(sub, v0[5:10])
    np.testing.assert_array_equal(v0[:5], -61.0)
    np.testing.assert_array_equal(refrac, [0, 0])
    assert v0.dtype == np.float64 and refrac.dtype == np.int64
    net.build()
    np.testing.assert_array_equal(a.get_state("v"), v0)  # what the build used


def test_set_state_before_build_is_initialize(seed: int):
    """set_state before the first run gives the same run as initialize (also distributions)."""

    def run(use_set_state: bool) -> np.ndarray:
        net = _resting_net(None, seed)
        pop = net.population("p")
        if use_set_state:
            pop.set_state("v", snn.Uniform(-60.0, -50.5))
            pop[0:10].set_state("i_exc", np.linspace(0.0, 2.0, 10))
        else:
            pop.initialize(v=snn.Uniform(-60.0, -50.5))
            pop[0:10].initialize(i_exc=np.linspace(0.0, 2.0, 10))
        net.run(30.0)
        sp = net.recorders[0]
        return np.stack([sp.steps, sp.ids])

    a, b = run(True), run(False)
    assert a.shape[1] > 10
    np.testing.assert_array_equal(a, b)


def test_integer_state_before_build():
    """An integer variable set before the build is the initial value (refractory at start)."""
    net = snn.Network(dt=DT, seed=1)
    pop = net.add_population(4, snn.LIF(i_offset=2.0, tau_refrac=2.0))
    pop[1].set_state("refrac", 15)
    np.testing.assert_array_equal(pop.get_state("refrac"), [0, 15, 0, 0])
    sp = net.record_spikes(pop)
    net.run(30.0)
    first = {i: sp.steps[sp.ids == i][0] for i in range(4)}
    assert first[1] == first[0] + 15  # held 15 steps, then the same trajectory


@pytest.mark.parametrize("precision", ["double", "single"])
def test_set_state_after_a_run_event_driven_equals_clock_driven(precision: str):
    """After set_state, skipped neurons are caught up and updated: same spikes as clock-driven."""

    def run(event_driven: bool) -> tuple[np.ndarray, np.ndarray]:
        net = snn.Network(dt=DT, seed=4, event_driven=event_driven, precision=precision)
        src = net.add_population(10, snn.PoissonSource(rate=20.0), label="src")
        pop = net.add_population(130, snn.LIF(v_rest=-65.0, v_thresh=-50.0), label="p")
        net.connect(src, pop, snn.FixedProbability(0.2), weight=0.8, delay=1.0)
        sp = net.record_spikes(pop)
        net.run(40.0)
        # near threshold without input: only a correct update lets these fire
        pop[[3, 70, 129]].set_state("v", -50.2)
        pop[[3, 70, 129]].set_state("i_exc", 5.0)
        pop[100:110].set_state("v", np.linspace(-70.0, -51.0, 10))
        pop[120].set_state("refrac", 1)
        got = pop[[3, 70, 129]].get_state("v")
        net.run(40.0)
        return np.stack([sp.steps, sp.ids]), got

    (ev, got_ev), (clock, got_clock) = run(True), run(False)
    np.testing.assert_array_equal(got_ev, np.float32(-50.2) if precision == "single" else -50.2)
    np.testing.assert_array_equal(got_clock, got_ev)
    late = ev[:, ev[0] > 400]
    for i in (3, 70, 129):
        assert np.any(late[1] == i), f"neuron {i} set near threshold never fired"
    np.testing.assert_array_equal(ev, clock)


def test_set_state_on_a_loaded_network_equals_the_original(tmp_path: Path):
    """The same set_state on a loaded copy gives the same continuation (event-driven)."""

    def run(reload: bool) -> np.ndarray:
        net = _resting_net(None)
        net.run(25.0)
        if reload:
            snn.save(net, tmp_path / "mid.h5")
            net = snn.load(tmp_path / "mid.h5")
        pop = net.population("p")
        pop[0:40].set_state("v", np.linspace(-64.0, -50.5, 40))
        pop[50:60].set_state("i_inh", -0.3)
        net.run(30.0)
        sp = net.recorders[0]
        return np.stack([sp.steps, sp.ids])

    a = run(False)
    assert a.shape[1] > 20
    np.testing.assert_array_equal(a, run(True))


def test_set_state_values_views_and_distributions(seed: int):
    """Scalars, per-neuron arrays and distributions, on views; reproducible per seed."""

    def make() -> snn.Population:
        net = snn.Network(dt=DT, seed=seed)
        pop = net.add_population(50, snn.LIF(), label="p")
        net.run(1.0)
        return pop

    pop = make()
    view = pop[10:20]
    view.set_state("v", snn.Uniform(-60.0, -55.0))
    vals = view.get_state("v")
    assert np.all((vals >= -60.0) & (vals <= -55.0)) and np.unique(vals).size == 10
    np.testing.assert_array_equal(pop.get_state("v")[10:20], vals)
    np.testing.assert_array_equal(pop.get_state("v")[:10], -65.0)
    other = make()
    other[10:20].set_state("v", snn.Uniform(-60.0, -55.0))
    np.testing.assert_array_equal(other[10:20].get_state("v"), vals)  # same seed, same draw
    view.set_state("v", snn.Uniform(-60.0, -55.0))  # a second call draws new values
    assert not np.array_equal(view.get_state("v"), vals)
    pop[[4, 2]].set_state("i_exc", [1.0, 2.0])
    np.testing.assert_array_equal(pop.get_state("i_exc")[[2, 4]], [2.0, 1.0])


def test_set_state_errors_give_value_rule_and_fix():
    """Refused values raise ParameterError naming the value, and change nothing."""
    net = snn.Network(dt=DT, seed=1)
    pop = net.add_population(5, snn.LIF(tau_refrac=2.0), label="p")
    src = net.add_population(1, snn.SpikeSource(times=[[1.0, 2.0]]), label="s")
    for built in (False, True):
        assert (net.built_engine() is not None) == built
        with pytest.raises(ParameterError, match=r"no state variable 'w'.*v, i_exc, i_inh"):
            pop.set_state("w", 1.0)
        with pytest.raises(ParameterError, match=r"no state variable 'w'"):
            pop[0:2].get_state("w")
        with pytest.raises(ParameterError, match=r"value 1 is nan; state must be finite"):
            pop[0:3].set_state("v", [-60.0, np.nan, -60.0])
        with pytest.raises(ParameterError, match=r"shape \(3,\).*shape \(2,\)"):
            pop[0:2].set_state("v", [1.0, 2.0, 3.0])
        with pytest.raises(ParameterError, match=r"'low'.*give a number in mV"):
            pop.set_state("v", "low")
        with pytest.raises(ParameterError, match=r"complex.*not numbers"):
            pop.set_state("v", 1j)
        with pytest.raises(ParameterError, match=r"value 0 is 1.5.*whole numbers"):
            pop[0].set_state("refrac", 1.5)
        with pytest.raises(ParameterError, match=r"refractory counters outside \[0, 20\]"):
            pop[0].set_state("refrac", 21)
        with pytest.raises(ParameterError, match=r"outside \[0, 20\].*-1.0"):
            pop[0].set_state("refrac", -1)
        with pytest.raises(ParameterError, match=r"spike pointers"):
            src.set_state("pointer", 2)
        np.testing.assert_array_equal(pop.get_state("v"), -65.0)
        np.testing.assert_array_equal(pop.get_state("refrac"), 0)
        net.run(0.5)


def test_recorders_added_between_runs_record_from_then_on():
    """record_spikes/state/rates on a built network record from the current step on."""
    net = snn.Network(dt=DT, seed=5)
    pop = net.add_population(20, snn.LIF(i_offset=np.linspace(1.0, 3.0, 20)), label="p")
    early = net.record_spikes(pop)
    early_v = net.record_state(pop[0:4], "v", every=3)
    net.run(20.0)
    assert net.step == 200
    late = net.record_spikes(pop[5:15])
    late_v = net.record_state(pop[0:4], ["v", "refrac"], every=3)
    late_r = net.record_rates(pop, 1.0)
    assert late.start_step == late_v.start_step == late_r.start_step == 200
    net.run(30.0)
    sel = (early.steps > 200) & (early.ids >= 5) & (early.ids < 15)
    np.testing.assert_array_equal(late.steps, early.steps[sel])
    np.testing.assert_array_equal(late.ids, early.ids[sel])
    assert late.duration == pytest.approx(30.0)
    assert late.count > 0
    np.testing.assert_array_equal(late_v.recorded()["steps"], np.arange(201, 501, 3))
    np.testing.assert_array_equal(late_v["v"], early_v["v"][early_v.times > 20.0 + 1e-9])
    widths = late_r.bin_widths
    np.testing.assert_array_equal(widths[:20], 0)
    np.testing.assert_array_equal(widths[20:], 10)
    in_window = np.bincount((early.steps[early.steps > 200] - 1) // 10, minlength=50)[20:]
    np.testing.assert_array_equal(late_r.recorded()["counts"][20:], in_window)


def test_checkpoint_keeps_the_start_step_of_a_recorder_added_between_runs(tmp_path: Path):
    """A recorder added between runs keeps its start_step and its samples through save/load."""
    net = snn.Network(dt=DT, seed=5)
    pop = net.add_population(20, snn.LIF(i_offset=np.linspace(1.0, 3.0, 20)), label="p")
    net.run(20.0)
    sp = net.record_spikes(pop)
    st = net.record_state(pop[0:2], "v", every=3)
    net.run(10.0)
    snn.save(net, tmp_path / "late.h5")
    net2 = snn.load(tmp_path / "late.h5")
    sp2, st2 = net2.recorders
    assert sp2.start_step == st2.start_step == 200
    assert sp2.mean_rate() == sp.mean_rate()
    net.run(10.0)
    net2.run(10.0)
    np.testing.assert_array_equal(st2.data, st.data)
    np.testing.assert_array_equal(sp2.steps, sp.steps)
