"""Heterogeneous parameters: scalars, per-neuron arrays and distributions; pop.get / pop.set."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ParameterError


def _params(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "tau_m": rng.uniform(10.0, 30.0, n),
        "v_thresh": rng.uniform(-55.0, -50.0, n),
        "i_offset": rng.uniform(0.5, 1.5, n),
        "tau_refrac": rng.choice([0.1, 1.0, 2.0], n),
        "tau_syn_exc": rng.uniform(2.0, 8.0, n),
    }


@pytest.mark.parametrize("precision", ["double", "single"])
def test_heterogeneous_population_equals_one_population_per_neuron(
    rng: np.random.Generator, precision: str
) -> None:
    """Per-neuron coefficients are those of a homogeneous population with the same values."""
    n = 12
    params = _params(rng, n)
    times = [sorted({round(float(t), 1) for t in rng.uniform(0.1, 50.0, 40)})]
    net = snn.Network(dt=0.1, seed=3, precision=precision)
    src = net.add_population(1, snn.SpikeSource(times=times))
    het = net.add_population(n, snn.LIF(**params))
    net.connect(src, het, snn.AllToAll(), weight=0.5, delay=1.0)
    singles = []
    for i in range(n):
        one = net.add_population(1, snn.LIF(**{k: float(v[i]) for k, v in params.items()}))
        net.connect(src, one, snn.AllToAll(), weight=0.5, delay=1.0)
        singles.append((net.record_spikes(one), net.record_state(one, "v")))
    spikes, trace = net.record_spikes(het), net.record_state(het, "v")
    net.run(60.0)
    assert spikes.count > n
    assert net.engine.pop_noff[het.index] >= 0 and net.engine.pop_noff[2] == -1
    for i, (s, v) in enumerate(singles):
        np.testing.assert_array_equal(spikes.times[spikes.ids == i], s.times)
        np.testing.assert_array_equal(trace["v"][:, i], v["v"][:, 0])


@pytest.mark.parametrize("model", ["LIFDelta", "LoihiLIF"])
def test_heterogeneous_step_kernels_equal_one_population_per_neuron(
    rng: np.random.Generator, model: str
) -> None:
    """The per-neuron step of LIFDelta and LoihiLIF (one neuron at a time, its coefficients
    read in place) gives each neuron the trajectory of a population of its own."""
    n = 6
    if model == "LIFDelta":
        params = {"i_offset": rng.uniform(0.8, 1.5, n), "v_thresh": rng.uniform(-55.0, -50.0, n)}
        make, var = snn.LIFDelta, "v"
    else:
        params = {"bias_mant": rng.integers(200, 900, n), "bias_exp": rng.integers(2, 5, n)}
        make, var = (lambda **kw: snn.LoihiLIF(du=1023, dv=128, vth=80, **kw)), "v"
    net = snn.Network(dt=1.0 if model == "LoihiLIF" else 0.1, seed=3)
    het = net.add_population(n, make(**params))
    singles = []
    for i in range(n):
        one = net.add_population(1, make(**{k: v[i].item() for k, v in params.items()}))
        singles.append((net.record_spikes(one), net.record_state(one, var)))
    spikes, trace = net.record_spikes(het), net.record_state(het, var)
    net.run(200.0)
    assert spikes.count > n
    assert net.engine.pop_noff[het.index] >= 0
    for i, (s, v) in enumerate(singles):
        np.testing.assert_array_equal(spikes.times[spikes.ids == i], s.times)
        np.testing.assert_array_equal(trace[var][:, i], v[var][:, 0])


def test_distribution_parameters_are_per_neuron_and_reproducible() -> None:
    def make(seed: int) -> snn.Population:
        net = snn.Network(dt=0.1, seed=seed)
        model = snn.LIF(v_thresh=snn.Normal(-50.0, 1.0), tau_m=snn.Uniform(10.0, 20.0))
        net.add_population(50, model, label="a")
        return net.add_population(50, model, label="b")

    b1, b1_again, b2 = make(1), make(1), make(2)
    v = b1.get("v_thresh")
    assert v.shape == (50,) and np.unique(v).size == 50
    np.testing.assert_array_equal(v, b1_again.get("v_thresh"))
    assert not np.array_equal(v, b2.get("v_thresh"))
    a1 = b1.network.population("a")
    assert not np.array_equal(a1.get("v_thresh"), v)  # each population has its own stream
    t = b1.get("tau_m")
    assert np.all((t >= 10.0) & (t <= 20.0))
    np.testing.assert_array_equal(b1[5:8].get("tau_m"), t[5:8])
    np.testing.assert_array_equal(b1.get("cm"), np.ones(50))


def test_set_before_and_after_build(seed: int) -> None:
    net = snn.Network(dt=0.1, seed=seed)
    pop = net.add_population(20, snn.LIF(i_offset=0.5), label="p")
    pop[0:5].set(i_offset=2.0)
    pop[5:10].set(i_offset=np.linspace(1.0, 2.0, 5))
    pop.set(tau_refrac=2.0)
    i_off = pop.get("i_offset")
    np.testing.assert_array_equal(i_off[:5], 2.0)
    np.testing.assert_array_equal(i_off[5:10], np.linspace(1.0, 2.0, 5))
    np.testing.assert_array_equal(i_off[10:], 0.5)
    spikes = net.record_spikes(pop)
    net.run(100.0)
    fired = np.unique(spikes.ids)
    assert set(fired) == set(range(10))  # 0.5 nA alone stays below threshold
    n_before = spikes.count
    pop[10:].set(i_offset=snn.Uniform(1.5, 2.5))  # after build: from the next step
    assert np.all(pop.get("i_offset")[10:] >= 1.5)
    net.run(100.0)
    late = spikes.ids[spikes.times > 100.0]
    assert set(np.unique(late)) == set(range(20)) and spikes.count > n_before
    pop.set(i_offset=0.0)
    count = spikes.count
    net.run(50.0)
    assert spikes.count - count <= 20  # at most the spikes already under way


def test_set_on_event_driven_population_catches_up_first(seed: int) -> None:
    """Skipped neurons are brought to the current step with the old values, then changed."""

    def run(split: bool) -> np.ndarray:
        net = snn.Network(dt=0.1, seed=seed, event_driven=True)
        src = net.add_population(20, snn.PoissonSource(rate=30.0))
        pop = net.add_population(40, snn.LIF(v_rest=-65.0, v_thresh=-50.0), label="p")
        net.connect(src, pop, snn.FixedProbability(0.3), weight=1.0, delay=1.0)
        sp = net.record_spikes(pop)
        net.run(50.0)
        if split:  # the same change, made on a loaded copy
            path = Path(net_dir) / "mid.h5"
            snn.save(net, path)
            net = snn.load(path)
            pop = net.population("p")
            sp = net.recorders[0]
        pop.set(tau_m=snn.Uniform(5.0, 15.0), i_offset=0.8)
        net.run(100.0)
        return np.stack([sp.steps, sp.ids])

    import tempfile

    with tempfile.TemporaryDirectory() as net_dir:
        a = run(False)
        b = run(True)
    assert a.shape[1] > 20
    np.testing.assert_array_equal(a, b)


def test_parameter_errors_at_the_call() -> None:
    with pytest.raises(ParameterError, match="must be a number"):
        snn.LIF(tau_m="20")
    with pytest.raises(ParameterError, match="complex"):
        snn.LIF(tau_m=1j)
    with pytest.raises(
        ParameterError, match=re.escape("tau_m=-1.0 (a per-neuron value)): tau_m must be > 0")
    ):
        snn.LIF(tau_m=[10.0, -1.0])
    with pytest.raises(ParameterError, match="v_thresh must be > v_reset"):
        snn.LIF(v_thresh=[-50.0, -70.0], v_reset=-65.0)
    with pytest.raises(ParameterError, match="finite"):
        snn.LIF(i_offset=[0.0, np.nan])
    net = snn.Network(dt=0.1, seed=1)
    with pytest.raises(ParameterError, match="3 values for a population of 4"):
        net.add_population(4, snn.LIF(i_offset=[0.0, 1.0, 2.0]))
    pop = net.add_population(4, snn.LIF())
    with pytest.raises(ParameterError, match="no parameter 'tau'"):
        pop.set(tau=1.0)
    with pytest.raises(ParameterError, match="no parameter 'x'"):
        pop.get("x")
    with pytest.raises(ParameterError, match="3 values for a population of 2"):
        pop[0:2].set(i_offset=[1.0, 2.0, 3.0])
    with pytest.raises(ParameterError, match="not a multiple of dt"):
        pop.set(tau_refrac=0.15)
    with pytest.raises(ParameterError, match="v_thresh must be > v_reset"):
        pop[1].set(v_thresh=-80.0)
    np.testing.assert_array_equal(pop.get("v_thresh"), -50.0)  # refused calls change nothing


def test_heterogeneous_parameters_round_trip_through_a_file(seed: int, tmp_path: Path) -> None:
    net = snn.Network(dt=0.1, seed=seed)
    pop = net.add_population(30, snn.LIF(v_thresh=snn.Normal(-50.0, 1.0), i_offset=1.0), "a")
    pop[0:10].set(i_offset=snn.Uniform(0.0, 2.0))
    sp = net.record_spikes(pop)
    net.run(20.0)
    snn.save(net, tmp_path / "het.h5")
    net2 = snn.load(tmp_path / "het.h5")
    pop2 = net2.population("a")
    for name in ("v_thresh", "i_offset", "tau_m"):
        np.testing.assert_array_equal(pop2.get(name), pop.get(name))
    # a later set with a distribution draws the same values on both (call numbers are kept)
    pop.set(tau_m=snn.Uniform(10.0, 30.0))
    pop2.set(tau_m=snn.Uniform(10.0, 30.0))
    np.testing.assert_array_equal(pop2.get("tau_m"), pop.get("tau_m"))
    net.run(30.0)
    net2.run(30.0)
    np.testing.assert_array_equal(net2.recorders[0].steps, sp.steps)
    np.testing.assert_array_equal(net2.recorders[0].ids, sp.ids)


def test_integer_state_can_be_recorded() -> None:
    net = snn.Network(dt=0.1, seed=1)
    pop = net.add_population(2, snn.LIF(i_offset=2.0, tau_refrac=2.0))
    rec = net.record_state(pop, ["v", "refrac"])
    sp = net.record_spikes(pop)
    net.run(30.0)
    row = int(sp.steps[0]) - 1  # the sample taken after the spike's step
    refrac = rec["refrac"][:, 0]
    assert refrac[row] == 20 and refrac[row + 1] == 19 and refrac[row - 1] == 0
    assert rec["v"][row, 0] == -65.0


def test_integer_state_recordings_round_trip(tmp_path: Path) -> None:
    net = snn.Network(dt=0.1, seed=1)
    pop = net.add_population(2, snn.LIF(i_offset=2.0, tau_refrac=2.0))
    rec = net.record_state(pop, ["refrac", "v"])
    net.run(20.0)
    snn.save(net, tmp_path / "int.h5")
    net2 = snn.load(tmp_path / "int.h5")
    (rec2,) = net2.recorders
    np.testing.assert_array_equal(rec2.data, rec.data)
    net.run(10.0)
    net2.run(10.0)
    np.testing.assert_array_equal(rec2.data, rec.data)
    assert rec.data[:, 0].max() == 20  # refrac samples are there
