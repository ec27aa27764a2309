"""``Network.reset`` (back to time 0 on the built engine) and ``Population.set_times``."""

from __future__ import annotations

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ParameterError, SimulationError


def _network(rng: np.random.Generator, event_driven: bool | None) -> snn.Network:
    """LIF neurons (some resting below threshold) with Poisson input, step currents,
    per-neuron initial values, a spike source, delays up to 3 ms."""
    net = snn.Network(dt=0.1, seed=int(rng.integers(1, 1000)), event_driven=event_driven)
    times = [sorted(set(np.round(rng.uniform(0.1, 30.0, 5), 1).tolist())) for _ in range(8)]
    src = net.add_population(8, snn.SpikeSource(times), label="src")
    exc = net.add_population(40, snn.LIF(i_offset=snn.Uniform(0.0, 0.5)), label="exc")
    exc.initialize(v=snn.Uniform(-70.0, -52.0))
    net.connect(src, exc, snn.FixedProbability(0.5), weight=1.5, delay=snn.Uniform(0.1, 3.0),
                round_delays=True)  # fmt: skip
    net.connect(exc, exc, snn.FixedProbability(0.2), weight=snn.Uniform(0.0, 0.6), delay=1.0)
    net.add_input(exc[:10], snn.PoissonInput(n_inputs=5, rate=800.0, weight=0.4))
    net.add_input(exc[5:20], snn.StepCurrent(times=[5.0, 20.0], amplitudes=[0.4, 0.0]))
    return net


def _record(net: snn.Network) -> tuple[snn.SpikeRecorder, snn.StateRecorder]:
    exc = net.population("exc")
    return net.record_spikes(exc), net.record_state(exc[:5], ["v", "i_exc"], every=7)


@pytest.mark.parametrize("event_driven", [None, True, False])
def test_reset_replays_a_fresh_network(rng: np.random.Generator, event_driven: bool | None) -> None:
    state = rng.bit_generator.state
    fresh = _network(rng, event_driven)
    spikes, trace = _record(fresh)
    fresh.run(40.0)
    assert spikes.count > 0

    rng.bit_generator.state = state
    net = _network(rng, event_driven)
    again, again_trace = _record(net)
    net.run(25.0)
    net.run(15.0)
    net.reset()
    assert net.step == 0 and again.count == 0 and again_trace["v"].shape[0] == 0
    net.run(40.0)
    np.testing.assert_array_equal(again.steps, spikes.steps)
    np.testing.assert_array_equal(again.ids, spikes.ids)
    np.testing.assert_array_equal(again_trace["v"], trace["v"])
    np.testing.assert_array_equal(again_trace["i_exc"], trace["i_exc"])
    assert net.engine.total_spikes == fresh.engine.total_spikes


def test_reset_keeps_parameters_and_weights_changed_after_the_build(
    rng: np.random.Generator,
) -> None:
    state = rng.bit_generator.state
    net = _network(rng, None)
    rec, _ = _record(net)
    net.run(10.0)
    net.population("exc").set(tau_m=15.0)
    net.projections[1].set(weight=0.5)
    net.reset()
    net.run(30.0)

    rng.bit_generator.state = state
    fresh = _network(rng, None)
    fresh.population("exc").set(tau_m=15.0)
    fresh.projections[1].set(weight=0.5)
    ref, _ = _record(fresh)
    fresh.run(30.0)
    np.testing.assert_array_equal(rec.steps, ref.steps)
    np.testing.assert_array_equal(rec.ids, ref.ids)


def test_reset_before_the_build_does_nothing() -> None:
    net = snn.Network(dt=0.1)
    net.add_population(3, snn.LIF())
    net.reset()
    assert net.built_engine() is None and net.step == 0


def test_reset_refuses_plastic_networks() -> None:
    net = snn.Network(dt=0.1)
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]))
    post = net.add_population(2, snn.LIF())
    net.connect(src, post, snn.AllToAll(), weight=0.2, plasticity=snn.STDP(w_max=1.0))
    net.run(5.0)
    with pytest.raises(SimulationError, match="plastic"):
        net.reset()


def test_set_times_after_reset_equals_a_network_built_with_those_times() -> None:
    def network(times: list[list[float]]) -> tuple[snn.Network, snn.SpikeRecorder]:
        net = snn.Network(dt=1.0, seed=3)
        src = net.add_population(3, snn.SpikeSource(times), label="in")
        out = net.add_population(2, snn.Leaky(beta=0.7), label="out")
        net.connect(src, out, snn.AllToAll(), weight=[[0.6, 0.2], [0.5, 0.9], [0.3, 0.4]])
        return net, net.record_spikes(out)

    first = [[1.0, 2.0, 3.0], [], [4.0]]
    second = [[2.0], [3.0, 5.0, 6.0, 9.0], [1.0, 2.0, 7.0]]
    net, rec = network(first)
    net.run(12.0)
    net.reset()
    net.population("in").set_times(second)
    net.run(12.0)
    ref_net, ref = network(second)
    ref_net.run(12.0)
    assert ref.count > 0
    np.testing.assert_array_equal(rec.steps, ref.steps)
    np.testing.assert_array_equal(rec.ids, ref.ids)


def test_set_times_on_a_running_network_skips_the_past() -> None:
    net = snn.Network(dt=1.0)
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]), label="in")
    rec = net.record_spikes(src)
    net.run(5.0)
    src.set_times([[3.0, 6.0, 8.0], [5.0, 7.0]])
    net.run(5.0)
    np.testing.assert_array_equal(rec.steps, [1, 2, 6, 7, 8])
    np.testing.assert_array_equal(rec.ids, [0, 1, 0, 1, 0])


def test_set_times_errors() -> None:
    net = snn.Network(dt=1.0)
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]), label="in")
    lif = net.add_population(2, snn.LIF(), label="lif")
    with pytest.raises(ParameterError, match="set_times is for SpikeSource"):
        lif.set_times([[1.0], [2.0]])
    with pytest.raises(ParameterError, match="3 rows but the population has 2"):
        src.set_times([[1.0], [2.0], [3.0]])
    with pytest.raises(ParameterError, match=r"times\[1\] contains 0.5 ms, not a multiple"):
        src.set_times([[1.0], [0.5]])


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([[1.0, 2.0], [3.0, 3.0], [float("nan")]], r"times\[1\] must be strictly increasing"),
        ([[1.0], [np.inf], [2.0, 1.0]], r"times\[1\] contains NaN or Inf"),
    ],
)
def test_spike_source_reports_the_first_faulty_row(times: list[list[float]], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        snn.SpikeSource(times)


@pytest.mark.parametrize(
    ("times", "round_times", "message"),
    [
        ([[1.0], [2.0, 2.5], [0.0]], False, r"times\[1\] contains 2.5 ms, not a multiple of dt"),
        ([[1.0], [0.0, 3.0], [2.5]], False, r"times\[1\] contains 0.0 ms; spike times must be >="),
        # rounding (half to even) puts 2.0 and 2.5 into one step; row 3 would fail too
        ([[1.0], [], [2.0, 2.5], [0.0]], True, r"times\[2\] has two spikes in one step"),
        ([[1.0], [], [2.0, 2.6], [0.0]], True, r"times\[3\] contains 0.0 ms"),
    ],
)
def test_spike_source_schedule_reports_the_first_faulty_row(
    times: list[list[float]], round_times: bool, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        snn.SpikeSource(times, round_times=round_times).schedule(1.0)


def test_spike_source_schedule_and_pointer() -> None:
    src = snn.SpikeSource([[0.2, 0.5], [], [0.1, 0.3, 0.9]])
    indptr, steps = src.schedule(0.1)
    np.testing.assert_array_equal(indptr, [0, 2, 2, 5])
    np.testing.assert_array_equal(steps, [2, 5, 1, 3, 9])
    np.testing.assert_array_equal(src.initial_int_state(3, 0.1, 3)["pointer"], [1, 2, 4])


def _modulated(seed: int) -> tuple[snn.Network, snn.SpikeRecorder, snn.StateRecorder]:
    """LIF neurons whose current and threshold an astrocyte modulates with a 2 ms delay."""
    net = snn.Network(dt=0.1, seed=seed)
    pop = net.add_population(30, snn.LIF(i_offset=0.3), label="exc")
    astro = net.add_population(1, snn.Astrocyte(tau=20.0, bias=0.0, a_init=0.5), label="astro")
    net.connect(pop, pop, snn.FixedProbability(0.2), weight=0.8, delay=1.0)
    net.connect(pop, astro, snn.AllToAll(), weight=0.2)
    net.add_input(pop, snn.PoissonInput(n_inputs=10, rate=900.0, weight=0.5))
    net.modulate(astro, pop, snn.AllToAll(), effect="current", weight=0.4, delay=2.0)
    net.modulate(astro, pop, effect="threshold", weight=3.0, delay=2.0)
    return net, net.record_spikes(pop), net.record_state(astro, ["A"], every=5)


def test_reset_restarts_the_astrocyte_output_history(seed: int) -> None:
    # the effects read the astrocyte's output of 2 ms ago: after a reset that must be the
    # initial output again, not the output at the end of the earlier run
    fresh, spikes, trace = _modulated(seed)
    fresh.run(30.0)
    assert spikes.count > 0
    net, again, again_trace = _modulated(seed)
    net.run(30.0)
    net.reset()
    net.run(30.0)
    np.testing.assert_array_equal(again.steps, spikes.steps)
    np.testing.assert_array_equal(again.ids, spikes.ids)
    np.testing.assert_array_equal(again_trace["A"], trace["A"])


def test_reset_refuses_delay_plastic_networks() -> None:
    net = snn.Network(dt=1.0)
    a = net.add_population(2, snn.LIF(), label="a")
    b = net.add_population(2, snn.LIF(), label="b")
    net.connect(a, b, snn.AllToAll(), weight=0.5, delay=3.0, delay_bounds=(1.0, 8.0),
                plasticity=snn.DelayPlasticity())  # fmt: skip
    net.build()
    with pytest.raises(SimulationError, match="plastic"):
        net.reset()
