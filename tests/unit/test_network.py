"""Public API behaviour: views, initial values, state, recorders, inputs, reprs, time."""

from __future__ import annotations

import math

import numpy as np
import pytest

import snnsim as snn

DT = 0.1


# ------------------------------------------------------------------------------ views
def test_population_views_select_the_right_neurons():
    """Slices, index arrays, masks and views of views map to parent indices and global ids."""
    net = snn.Network(dt=DT)
    net.add_population(5, snn.LIF(), label="first")
    pop = net.add_population(10, snn.LIF(), label="p")
    assert pop.start == 5 and pop.size == len(pop) == 10
    np.testing.assert_array_equal(pop.indices, np.arange(10))
    np.testing.assert_array_equal(pop.global_ids, np.arange(5, 15))
    v = pop[2:8:2]
    np.testing.assert_array_equal(v.indices, [2, 4, 6])
    np.testing.assert_array_equal(v.global_ids, [7, 9, 11])
    assert v.population is pop and v.model is pop.model and v.network is net
    np.testing.assert_array_equal(pop[[9, 0, 3]].indices, [9, 0, 3])
    np.testing.assert_array_equal(pop[-1].indices, [9])
    mask = np.zeros(10, dtype=bool)
    mask[[1, 5]] = True
    np.testing.assert_array_equal(pop[mask].indices, [1, 5])
    np.testing.assert_array_equal(pop[1:9][::3][1:].indices, [4, 7])
    np.testing.assert_array_equal(pop[[9, 0, 3]][[2, 0]].indices, [3, 9])
    assert net.population("p") is pop
    with pytest.raises(snn.errors.ParameterError, match="indices must be unique"):
        pop[[1, 1]]


# ------------------------------------------------------------------------------ initial values
def test_initialize_scalar_array_distribution_and_views():
    """initialize takes scalar, array or distribution on populations and views; last call wins."""
    net = snn.Network(dt=DT, seed=4)
    pop = net.add_population(100, snn.LIF(), label="p")
    pop.initialize(v=-60.0, i_exc=np.linspace(0.0, 1.0, 100))
    pop[10:20].initialize(v=snn.Uniform(-55.0, -52.0))
    pop[[0, 1]].initialize(v=[-70.0, -71.0], i_inh=-0.5)
    v = pop.get_state("v")
    assert v.shape == (100,) and v.dtype == np.float64
    np.testing.assert_array_equal(v[[0, 1]], [-70.0, -71.0])
    np.testing.assert_array_equal(v[20:], -60.0)
    assert np.all((v[10:20] >= -55.0) & (v[10:20] <= -52.0))
    assert np.unique(v[10:20]).size == 10
    np.testing.assert_array_equal(pop.get_state("i_exc"), np.linspace(0.0, 1.0, 100))
    i_inh = pop.get_state("i_inh")
    np.testing.assert_array_equal(i_inh[:2], -0.5)
    np.testing.assert_array_equal(i_inh[2:], 0.0)
    np.testing.assert_array_equal(pop.get_state("refrac"), 0)


def test_default_initial_state_is_rest():
    """Without initialize, v starts at v_rest and the currents at 0."""
    net = snn.Network(dt=DT)
    pop = net.add_population(3, snn.LIF(v_rest=-61.5))
    dl = net.add_population(2, snn.LIFDelta(v_rest=-70.0))
    np.testing.assert_array_equal(pop.get_state("v"), -61.5)
    np.testing.assert_array_equal(pop.get_state("i_exc"), 0.0)
    np.testing.assert_array_equal(dl.get_state("v"), -70.0)


def _init_values(seed: int) -> np.ndarray:
    net = snn.Network(dt=DT, seed=seed)
    pop = net.add_population(500, snn.LIF())
    pop.initialize(v=snn.Normal(-60.0, 3.0, low=-70.0, high=-51.0))
    return pop.get_state("v")


def test_distribution_initial_values_are_seeded():
    """Distributed initial values: in bounds; same seed same values, other seed different."""
    a, b, c = _init_values(1), _init_values(1), _init_values(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= -70.0 and a.max() <= -51.0
    assert abs(a.mean() + 60.0) < 0.5


def test_get_state_returns_a_copy():
    """Changing the array get_state returned does not change the network."""
    net = snn.Network(dt=DT)
    pop = net.add_population(3, snn.LIF())
    v = pop.get_state("v")
    v[:] = 0.0
    np.testing.assert_array_equal(pop.get_state("v"), -65.0)


# ------------------------------------------------------------------------------ recorders
def test_spike_recorder_reports_source_spikes_exactly():
    """SpikeRecorder times/ids/count equal the SpikeSource schedule, ordered by time then id."""
    times = [[0.5, 2.0], [0.5], [], [1.3, 1.4, 9.9]]
    net = snn.Network(dt=DT)
    src = net.add_population(4, snn.SpikeSource(times), label="src")
    rec = net.record_spikes(src)
    part = net.record_spikes(src[[3, 0]])
    net.run(5.0)
    net.run(5.0)
    want = sorted((t, i) for i, row in enumerate(times) for t in row)
    assert rec.count == len(rec) == len(want)
    np.testing.assert_allclose(rec.times, [t for t, _ in want], rtol=1e-12)
    np.testing.assert_array_equal(rec.ids, [i for _, i in want])
    np.testing.assert_array_equal(rec.steps, [round(t / DT) for t, _ in want])
    assert rec.times.dtype == np.float64 and rec.ids.dtype == np.int64
    assert sorted(part.ids.tolist()) == [0, 0, 3, 3, 3]
    np.testing.assert_allclose(rec.rates(10.0), np.array([2, 1, 0, 3]) / 0.01)


def test_state_recorder_shapes_and_sample_times():
    """StateRecorder samples at multiples of every*dt across runs; (n_samples, n) per variable."""
    net = snn.Network(dt=DT)
    pop = net.add_population(6, snn.LIF())
    rec = net.record_state(pop[1:4], ["v", "i_exc"], every=3)
    net.run(5.0)
    net.run(5.0)
    n = 100 // 3
    np.testing.assert_allclose(rec.times, np.arange(1, n + 1) * 3 * DT, rtol=1e-12)
    assert rec["v"].shape == (n, 3) and rec["i_exc"].shape == (n, 3)
    assert rec.data.shape == (n, 6)
    with pytest.raises(KeyError):
        rec["i_inh"]


def test_state_trace_matches_closed_form_membrane():
    """Under constant i_offset, v = v_rest + R*I*(1 - exp(-t/tau_m)) at every sample."""
    net = snn.Network(dt=DT)
    pop = net.add_population(2, snn.LIF(tau_m=10.0, cm=0.5, i_offset=0.3, v_thresh=0.0))
    rec = net.record_state(pop, "v", every=2)
    net.run(30.0)
    t = rec.times
    want = -65.0 + 0.3 * 20.0 * (1.0 - np.exp(-t / 10.0))
    np.testing.assert_allclose(rec["v"], np.column_stack([want, want]), rtol=0, atol=1e-10)


def test_spike_arrives_after_its_delay():
    """A source spike at t through a delay d changes a LIFDelta membrane exactly at t + d."""
    net = snn.Network(dt=DT)
    src = net.add_population(1, snn.SpikeSource([[1.0]]))
    tgt = net.add_population(1, snn.LIFDelta(tau_m=10.0))
    net.connect(src, tgt, snn.OneToOne(), weight=2.0, delay=1.5)
    rec = net.record_state(tgt, "v")
    net.run(5.0)
    v = rec["v"][:, 0]
    k = round(2.5 / DT) - 1  # sample index of t = 2.5 ms
    np.testing.assert_array_equal(v[:k], -65.0)
    assert v[k] == pytest.approx(-63.0, abs=1e-12)
    assert v[k + 1] == pytest.approx(-65.0 + 2.0 * math.exp(-DT / 10.0), abs=1e-12)


def test_rate_recorder_values():
    """RateRecorder bins spike counts per (bin_size) ms and divides by neurons and bin width."""
    net = snn.Network(dt=DT)
    src = net.add_population(4, snn.SpikeSource([[0.5, 1.0, 2.5], [0.2], [1.1], [3.7]]))
    rec = net.record_rates(src, bin_size=1.0)
    net.run(2.0)
    net.run(2.0)
    # bin k holds stamps k*10+1 .. (k+1)*10, i.e. spike times in (k, k+1] ms
    counts = np.array([3, 1, 1, 1])
    np.testing.assert_allclose(rec.times, [0.0, 1.0, 2.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(rec.rates, counts / (4 * 1e-3), rtol=1e-12)


# ------------------------------------------------------------------------------ inputs
def test_poisson_input_mean_drive():
    """PoissonInput adds n*rate*dt*w per step on average, with Binomial variance per neuron."""
    n_in, rate, w, n_steps, n_neurons = 50, 100.0, 0.5, 1000, 400
    net = snn.Network(dt=DT, seed=11)
    pop = net.add_population(n_neurons, snn.LIFDelta(tau_m=1e9, v_thresh=1e6))
    net.add_input(pop, snn.PoissonInput(n_in, rate, w))
    net.run(n_steps * DT)
    drive = pop.get_state("v") + 65.0
    p = rate * DT * 1e-3
    mean = n_in * p * w * n_steps
    var = n_steps * n_in * p * (1 - p) * w * w
    assert abs(drive.mean() - mean) < 5 * math.sqrt(var / n_neurons) + 0.01
    assert abs(drive.var() / var - 1.0) < 0.3
    # drive arrives in quanta of w
    np.testing.assert_allclose(drive / w, np.round(drive / w), atol=1e-3)


def test_poisson_input_current_synapse_steady_state():
    """PoissonInput into LIF exc/inh currents settles at mean n*p*w / (1 - exp(-dt/tau_syn))."""
    n_in, rate, w = 100, 20.0, 0.05
    net = snn.Network(dt=DT, seed=5)
    pop = net.add_population(200, snn.LIF(v_thresh=1e6, tau_syn_exc=2.0))
    net.add_input(pop[::2], snn.PoissonInput(n_in, rate, w))
    net.add_input(pop[1::2], snn.PoissonInput(n_in, rate, -w, receptor="inh"))
    rec = net.record_state(pop, ["i_exc", "i_inh"], every=5)
    net.run(200.0)
    p = rate * DT * 1e-3
    late = rec.times > 30.0
    for var, sign, tau in (("i_exc", 1.0, 2.0), ("i_inh", -1.0, 5.0)):
        want = sign * n_in * p * w / (1.0 - math.exp(-DT / tau))
        got = rec[var][late][:, ::2] if var == "i_exc" else rec[var][late][:, 1::2]
        assert got.mean() == pytest.approx(want, rel=0.05)
    np.testing.assert_array_equal(rec["i_exc"][:, 1::2], 0.0)
    np.testing.assert_array_equal(rec["i_inh"][:, ::2], 0.0)


def test_step_current_closed_form():
    """StepCurrent on a view: a change at t acts over (t, t+dt]; v follows the RC solution."""
    net = snn.Network(dt=DT)
    pop = net.add_population(3, snn.LIF(tau_m=10.0, cm=0.5, v_thresh=0.0))
    net.add_input(pop[1:], snn.StepCurrent([1.0, 3.0], [0.4, 0.0]))
    net.add_input(pop[2:], snn.StepCurrent([2.0], [0.1]))  # adds up with the first one
    rec = net.record_state(pop, "v")
    net.run(6.0)
    t = rec.times
    r = 10.0 / 0.5

    def rc(t, segments):
        v = np.zeros_like(t)
        for t_on, amp in segments:  # superposition of switched-on constant currents
            on = t > t_on
            v[on] += amp * r * (1.0 - np.exp(-(t[on] - t_on) / 10.0))
        return -65.0 + v

    v1 = rc(t, [(1.0, 0.4), (3.0, -0.4)])
    v2 = rc(t, [(1.0, 0.4), (2.0, 0.1), (3.0, -0.4)])
    np.testing.assert_array_equal(rec["v"][:, 0], -65.0)
    np.testing.assert_allclose(rec["v"][:, 1], v1, atol=1e-9)
    np.testing.assert_allclose(rec["v"][:, 2], v2, atol=1e-9)
    assert rec["v"][9, 1] == -65.0  # t = 1.0: not yet
    assert rec["v"][10, 1] > -65.0  # t = 1.1: first step with the current


# ------------------------------------------------------------------------------ reprs, time
def test_repr_strings():
    """Networks, models, populations, views and recorders have informative reprs."""
    net = snn.Network(dt=DT, seed=3)
    pop = net.add_population(10, snn.LIF(tau_m=12.0), label="exc")
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]), label="src")
    net.connect(src, pop, snn.AllToAll(), weight=0.1)
    sr = net.record_spikes(pop)
    st = net.record_state(pop[:3], "v")
    rr = net.record_rates(pop, bin_size=2.0)
    assert (
        repr(net) == "Network(dt=0.1, seed=3, 12 neurons in 2 populations, 1 projections, t=0.0 ms)"
    )
    assert repr(pop) == "Population(10, LIF, label='exc')"
    assert repr(pop[2:5]) == "PopulationView('exc', 3 neurons)"
    assert repr(snn.LIF(tau_m=12.0)).startswith("LIF(tau_m=12.0, cm=1.0,")
    assert repr(src.model) == "SpikeSource(times=<2 neurons>)"
    assert repr(snn.PoissonSource(rate=5.0)) == "PoissonSource(rate=5.0)"
    net.run(3.0)
    assert repr(sr) == "SpikeRecorder('exc', 10 neurons, 0 spikes)"
    assert repr(st) == "StateRecorder('exc', ['v'], 30 samples)"
    assert repr(rr) == "RateRecorder('exc', 2 bins of 2.0 ms)"
    assert "t=3.0" in repr(net) or "t=3.000" in repr(net)


def test_time_advances_with_runs():
    """net.t and net.step advance by each run's duration; RunStats counts the run."""
    net = snn.Network(dt=DT)
    pop = net.add_population(5, snn.LIF(i_offset=2.0))
    assert net.t == 0.0 and net.step == 0
    stats = net.run(1.0)
    assert net.step == 10 and net.t == pytest.approx(1.0)
    assert stats.sim_ms == pytest.approx(1.0) and stats.neuron_updates == 50
    net.run(0.0)
    assert net.step == 10
    stats = net.run(20.5)
    assert net.step == 215 and net.t == pytest.approx(21.5)
    assert stats.spikes > 0 and stats.spikes == net.engine.total_spikes
    assert net.size == 5 and pop.size == 5
