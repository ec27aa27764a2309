"""Bad input raises the typed snnsim error, and the message names the parameter and the value."""

from __future__ import annotations

import time

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import (
    ConnectivityError,
    ParameterError,
    ResourceError,
    SimulationError,
    SnnsimError,
)

DT = 0.1
NAN, INF = float("nan"), float("inf")


def _raises(exc: type[Exception], *fragments: str):
    """pytest.raises for ``exc`` whose message contains every fragment."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{_esc(f)})" for f in fragments))


def _esc(s: str) -> str:
    import re

    return re.escape(s)


def _lif_net(n: int = 3, model=None):
    net = snn.Network(dt=DT, seed=1, threads=1)
    return net, net.add_population(n, model or snn.LIF(), label="p")


def _connect_and_build(conn=None, n: int = 3, model=None, **kw):
    net, a = _lif_net(n, model)
    net.connect(a, a, conn or snn.AllToAll(), **kw)
    net.build()


def test_error_hierarchy():
    """Each typed error derives from SnnsimError and the matching builtin exception."""
    assert issubclass(ParameterError, SnnsimError) and issubclass(ParameterError, ValueError)
    assert issubclass(ConnectivityError, SnnsimError) and issubclass(ConnectivityError, ValueError)
    assert issubclass(ResourceError, SnnsimError) and issubclass(ResourceError, MemoryError)
    assert issubclass(SimulationError, SnnsimError) and issubclass(SimulationError, RuntimeError)


# ------------------------------------------------------------------------ model parameters
@pytest.mark.parametrize(
    ("model", "key", "value", "rule"),
    [
        (snn.LIF, "tau_m", -5.0, "> 0"),
        (snn.LIF, "tau_m", 0.0, "> 0"),
        (snn.LIF, "cm", 0.0, "> 0"),
        (snn.LIF, "cm", -1.0, "> 0"),
        (snn.LIF, "tau_syn_exc", 0.0, "> 0"),
        (snn.LIF, "tau_syn_inh", -2.0, "> 0"),
        (snn.LIF, "tau_refrac", -0.1, ">= 0"),
        (snn.LIFDelta, "tau_m", -1.0, "> 0"),
        (snn.LIFDelta, "cm", 0.0, "> 0"),
        (snn.LIFDelta, "tau_refrac", -1.0, ">= 0"),
        (snn.PoissonSource, "rate", -1.0, ">= 0"),
    ],
)
def test_out_of_range_model_parameter(model, key, value, rule):
    """An out-of-range model parameter raises ParameterError naming it, its value and the rule."""
    with _raises(ParameterError, f"{key}={value!r}", rule):
        model(**{key: value})


@pytest.mark.parametrize("model", [snn.LIF, snn.LIFDelta])
def test_threshold_not_above_reset(model):
    """v_thresh <= v_reset raises ParameterError naming both values."""
    for thresh in (-65.0, -70.0):
        with _raises(
            ParameterError, f"v_thresh={thresh!r}", "v_reset=-65.0", "v_thresh must be > v_reset"
        ):
            model(v_thresh=thresh, v_reset=-65.0)


@pytest.mark.parametrize("value", [NAN, INF, -INF])
@pytest.mark.parametrize("key", ["tau_m", "v_rest", "i_offset", "tau_syn_exc"])
def test_non_finite_model_parameter(key, value):
    """NaN or Inf in a model parameter raises ParameterError naming the parameter and the value."""
    with _raises(ParameterError, f"{key}={value!r}", "finite"):
        snn.LIF(**{key: value})


def test_non_numeric_model_parameter():
    """A non-number parameter raises ParameterError naming parameter and value."""
    with _raises(ParameterError, "tau_m='5'", "number"):
        snn.LIF(tau_m="5")


@pytest.mark.parametrize(
    ("model", "bad", "valid"),
    [
        (snn.LIF, "tau", "tau_syn_exc"),
        (snn.LIFDelta, "tau_syn_exc", "tau_refrac"),
        (snn.PoissonSource, "freq", "rate"),
    ],
)
def test_unknown_parameter_lists_valid_ones(model, bad, valid):
    """An unknown parameter name raises ParameterError naming it and listing the valid ones."""
    with _raises(ParameterError, bad, "valid parameters are", valid):
        model(**{bad: 1.0})


def test_tau_refrac_off_grid():
    """tau_refrac off the dt grid raises ParameterError at add_population, naming value and dt."""
    with _raises(ParameterError, "tau_refrac", "0.15", "dt=0.1"):
        _lif_net(model=snn.LIF(tau_refrac=0.15))


# ------------------------------------------------------------------------ network, populations
@pytest.mark.parametrize("dt", [0.0, -0.1, NAN, INF])
def test_bad_dt(dt):
    """Network(dt) with dt <= 0 or non-finite raises ParameterError naming dt and its value."""
    with _raises(ParameterError, f"dt={dt!r}", "> 0"):
        snn.Network(dt=dt)


@pytest.mark.parametrize(("kw", "frag"), [({"seed": -1}, "seed=-1"), ({"threads": 0}, "threads=0")])
def test_bad_seed_or_threads(kw, frag):
    """A negative seed or zero threads raises ParameterError naming the value."""
    with _raises(ParameterError, frag):
        snn.Network(**kw)


def test_empty_population():
    """add_population(0, ...) raises ParameterError naming size=0."""
    net = snn.Network(dt=DT)
    with _raises(ParameterError, "size=0", "empty"):
        net.add_population(0, snn.LIF())


def test_empty_network_cannot_run():
    """Running a network without populations raises ParameterError."""
    with _raises(ParameterError, "no population"):
        snn.Network(dt=DT).run(1.0)


def test_empty_or_out_of_range_views():
    """Empty views and out-of-range view indices raise ParameterError naming the index."""
    _, a = _lif_net()
    with _raises(ParameterError, "[5]", "out of range"):
        a[5]
    with _raises(ParameterError, "no neuron"):
        a[3:3]
    with _raises(ParameterError, "index 7", "out of range"):
        a[[0, 7]]


def test_initialize_errors():
    """initialize with a wrong-size array, NaN/Inf or an unknown variable: ParameterError."""
    _, a = _lif_net()
    with _raises(ParameterError, "initialize(v=", "(2,)", "(3,)"):
        a.initialize(v=[-60.0, -61.0])
    for bad in (NAN, INF):
        with _raises(ParameterError, "initialize(v=", "finite"):
            a.initialize(v=[-60.0, bad, -61.0])
        with _raises(ParameterError, "initialize(i_exc=", "finite"):
            a.initialize(i_exc=bad)
    with _raises(ParameterError, "initialize(w=", "unknown state variable", "v, i_exc, i_inh"):
        a.initialize(w=1.0)


def test_state_access_errors():
    """get_state/record_state of an unknown variable or every < 1: ParameterError with the value."""
    net, a = _lif_net()
    with _raises(ParameterError, "'w'", "v, i_exc, i_inh"):
        net.record_state(a, "w")
    with _raises(ParameterError, "every=0"):
        net.record_state(a, "v", every=0)
    with _raises(ParameterError, "'w'", "refrac"):
        a.get_state("w")


# ------------------------------------------------------------------------ connectors
@pytest.mark.parametrize("p", [-0.1, 1.5, NAN, INF])
def test_probability_outside_unit_interval(p):
    """FixedProbability(p) outside [0, 1] raises ConnectivityError naming p and its value."""
    with _raises(ConnectivityError, f"p={p!r}", "[0, 1]"):
        snn.FixedProbability(p)


@pytest.mark.parametrize("cls", [snn.FixedInDegree, snn.FixedOutDegree, snn.FixedTotalNumber])
def test_negative_or_fractional_counts(cls):
    """Fixed-degree/total-number connectors refuse negative or fractional counts, naming them."""
    name = "n" if cls is snn.FixedTotalNumber else "k"
    for bad in (-1, 2.5):
        with _raises(ConnectivityError, f"{name}={bad!r}", "integer >= 0"):
            cls(bad)


def test_one_to_one_size_mismatch():
    """OneToOne between populations of different sizes: ConnectivityError at connect."""
    net, a = _lif_net(3)
    b = net.add_population(4, snn.LIF())
    with _raises(ConnectivityError, "OneToOne", "3", "4"):
        net.connect(a, b, snn.OneToOne(), weight=0.1)


def test_from_list_size_mismatches():
    """FromList arrays of mismatched lengths raise ConnectivityError stating the sizes."""
    with _raises(ConnectivityError, "pre has 2", "post has 3"):
        snn.FromList([0, 1], [0, 1, 2])
    with _raises(ConnectivityError, "weight has 1 entries for 2 synapses"):
        snn.FromList([0, 1], [0, 1], weight=[0.1])
    with _raises(ConnectivityError, "delay has 3 entries for 2 synapses"):
        snn.FromList([0, 1], [0, 1], delay=[0.1, 0.2, 0.3])
    with _raises(ConnectivityError, "pre", "integer"):
        snn.FromList([0.5], [0])


@pytest.mark.parametrize(
    ("pre", "post", "frag"), [([0, 5], [0, 1], "pre index 5"), ([0], [-1], "post index -1")]
)
def test_from_list_index_out_of_range(pre, post, frag):
    """Out-of-range FromList indices raise ConnectivityError naming index and valid range."""
    with _raises(ConnectivityError, frag, "out of range", "0..2"):
        _connect_and_build(snn.FromList(pre, post), weight=0.1)


@pytest.mark.parametrize("name", ["weight", "delay"])
@pytest.mark.parametrize("bad", [NAN, INF])
def test_from_list_non_finite_values(name, bad):
    """NaN/Inf in FromList weights or delays raises ConnectivityError naming the array."""
    with _raises(ConnectivityError, name, "NaN or Inf"):
        snn.FromList([0, 1], [0, 1], **{name: [0.1, bad]})


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_non_finite_weight(bad):
    """NaN/Inf weights (scalar or array) raise ConnectivityError naming weight and NaN/Inf."""
    with _raises(ConnectivityError, "weight", "NaN or Inf"):
        _connect_and_build(weight=bad)
    with _raises(ConnectivityError, "weight", "NaN or Inf"):
        _connect_and_build(weight=[0.1] * 8 + [bad])


def test_non_finite_delay_in_array():
    """A NaN/Inf delay among finite ones raises ConnectivityError naming delay and NaN/Inf."""
    for bad in (NAN, INF):
        with _raises(ConnectivityError, "delay", "NaN or Inf"):
            _connect_and_build(weight=0.1, delay=[0.1] * 8 + [bad])


def test_scalar_nan_delay():
    """delay=NaN raises ConnectivityError naming delay (and no warning escapes first)."""
    with _raises(ConnectivityError, "delay", "NaN or Inf"):
        _connect_and_build(weight=0.1, delay=NAN)


def test_weight_array_shape_mismatch():
    """Value arrays of the wrong length or matrix shape raise ConnectivityError with sizes."""
    with _raises(ConnectivityError, "weight", "array of 2 values for 9 synapses", "(3, 3)"):
        _connect_and_build(weight=[0.1, 0.2])
    with _raises(ConnectivityError, "weight", "(2, 3)", "(3, 3)"):
        _connect_and_build(weight=np.ones((2, 3)))
    with _raises(ConnectivityError, "delay", "array of 4 values for 9 synapses"):
        _connect_and_build(weight=0.1, delay=[0.1] * 4)


@pytest.mark.parametrize("delay", [0.0, -0.2])
def test_delay_below_dt(delay):
    """Delays below one step raise ConnectivityError naming the delay and dt."""
    with _raises(ConnectivityError, f"delay {delay!r} ms", "below dt=0.1"):
        _connect_and_build(weight=0.1, delay=delay)
    with _raises(ConnectivityError, f"delay {delay!r} ms", "below dt=0.1"):
        _connect_and_build(snn.FromList([0], [1], delay=[delay]), weight=0.1)


def test_off_grid_delay_refused_unless_rounding():
    """Off-grid delays raise ConnectivityError suggesting round_delays=True, which rounds them."""
    with _raises(ConnectivityError, "delay 0.27 ms", "dt=0.1", "round_delays=True"):
        _connect_and_build(weight=0.1, delay=0.27)
    net, a = _lif_net()
    net.connect(a, a, snn.AllToAll(), weight=0.1, delay=0.27, round_delays=True)
    net.connect(a, a, snn.OneToOne(), weight=0.1, delay=[0.14, 0.16, 0.44], round_delays=True)
    e = net.build()
    assert sorted(np.unique(e.syn_delay).tolist()) == [1, 2, 3, 4]
    assert np.sum(e.syn_delay == 3) == 9


def test_delay_beyond_maximum():
    """A delay above 65535 steps raises ConnectivityError naming it; 65535 steps is fine."""
    with _raises(ConnectivityError, "delay 6553.6 ms", "65535 steps"):
        _connect_and_build(n=2, weight=0.1, delay=6553.6)
    net, a = _lif_net(2)
    net.connect(a, a, snn.AllToAll(), weight=0.1, delay=6553.5)
    e = net.build()
    assert e.delay_const == 65535 and e.syn_delay.size == 0  # one delay: stored once


def test_wrong_weight_sign_names_receptor():
    """A weight of the wrong sign for its receptor raises ConnectivityError naming the fix."""
    with _raises(ConnectivityError, "weight -0.1", "'exc'", "receptor='inh'"):
        _connect_and_build(weight=-0.1)
    with _raises(ConnectivityError, "weight 0.1", "'inh'", "receptor='exc'"):
        _connect_and_build(weight=0.1, receptor="inh")
    with _raises(ConnectivityError, "weight -1", "receptor='inh'"):
        _connect_and_build(snn.FromList([0], [1], weight=[-1.0]))
    net, a = _lif_net()
    with _raises(ConnectivityError, "weight -0.1", "receptor='inh'"):  # at the call
        net.add_input(a, snn.PoissonInput(10, 5.0, -0.1))


def test_delta_neurons_take_either_sign_and_no_receptor():
    """LIFDelta takes weights of both signs; a receptor raises an error saying to omit it."""
    _connect_and_build(model=snn.LIFDelta(), weight=[-1.0, 2.0, 0.5] * 3)
    net, a = _lif_net(model=snn.LIFDelta())
    with _raises(ConnectivityError, "receptor='exc'", "single receptor", "omit"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, receptor="exc")
    with _raises(ConnectivityError, "receptor='inh'", "omit"):
        net.add_input(a, snn.PoissonInput(5, 10.0, 0.1, receptor="inh"))


def test_unknown_receptor_lists_valid_ones():
    """An unknown receptor raises ConnectivityError listing 'exc' and 'inh'."""
    net, a = _lif_net()
    with _raises(ConnectivityError, "receptor='gaba'", "'exc'", "'inh'"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, receptor="gaba")


def test_sources_cannot_receive_synapses():
    """Connecting onto a PoissonSource raises ConnectivityError naming the model."""
    net, a = _lif_net()
    b = net.add_population(3, snn.PoissonSource(rate=5.0))
    with _raises(ConnectivityError, "PoissonSource", "cannot receive"):
        net.connect(a, b, snn.AllToAll(), weight=0.1)


def test_missing_weight():
    """connect without a weight raises ConnectivityError."""
    net, a = _lif_net()
    with _raises(ConnectivityError, "weight is required"):
        net.connect(a, a, snn.AllToAll())


# ------------------------------------------------------------------------ resources
def test_memory_estimate_too_large_fails_fast():
    """AllToAll on 2e6 x 2e6 raises ResourceError at connect with an estimate, fast."""
    net = snn.Network(dt=DT)
    a = net.add_population(2_000_000, snn.LIF())
    b = net.add_population(2_000_000, snn.LIF())
    t0 = time.perf_counter()
    with _raises(ResourceError, "GiB", "4e+12 synapses"):
        net.connect(a, b, snn.AllToAll(), weight=0.1)
    assert time.perf_counter() - t0 < 2.0
    with pytest.raises(MemoryError):
        net.connect(a, b, snn.AllToAll(), weight=0.1)
    assert net.projections == []  # the refused projection was not kept


# ------------------------------------------------------------------------ inputs and sources
def test_poisson_input_errors():
    """PoissonInput refuses negative counts/rates, NaN weights and rate*dt > 1, naming the value."""
    with _raises(ParameterError, "n_inputs=-1"):
        snn.PoissonInput(-1, 10.0, 0.1)
    with _raises(ParameterError, "rate=-20.0"):
        snn.PoissonInput(1, -20.0, 0.1)
    with _raises(ParameterError, "weight=nan", "finite"):
        snn.PoissonInput(1, 20.0, NAN)
    net, a = _lif_net()
    with _raises(ParameterError, "20000.0 Hz", "> 1"):
        net.add_input(a, snn.PoissonInput(10, 20000.0, 0.1))


def test_step_current_errors():
    """StepCurrent refuses mismatched lengths, NaN values and off-grid times (at add_input)."""
    with _raises(ParameterError, "times has 2 entries", "amplitudes 1"):
        snn.StepCurrent([1.0, 2.0], [0.1])
    with _raises(ParameterError, "finite"):
        snn.StepCurrent([1.0], [NAN])
    net, a = _lif_net()
    with _raises(ParameterError, "0.15", "dt=0.1"):
        net.add_input(a, snn.StepCurrent([0.15], [1.0]))


def test_spike_source_errors():
    """Bad SpikeSource rows or times (count, NaN, order, < dt, off-grid): ParameterError."""
    net = snn.Network(dt=DT)
    with _raises(ParameterError, "times has 1 rows", "3 neurons"):
        net.add_population(3, snn.SpikeSource([[1.0]]))
    with _raises(ParameterError, "times[0]", "NaN or Inf"):
        snn.SpikeSource([[NAN]])
    with _raises(ParameterError, "times[0]", "strictly increasing"):
        snn.SpikeSource([[2.0, 1.0]])
    with _raises(ParameterError, "one list of times per neuron"):
        snn.SpikeSource([1.0, 2.0])
    for t in (0.0, -1.0):
        net = snn.Network(dt=DT)
        with _raises(ParameterError, "times[1]", f"{t}", ">= dt=0.1"):
            net.add_population(2, snn.SpikeSource([[0.5], [t, 1.0]]))
    net = snn.Network(dt=DT)
    with _raises(ParameterError, "times[0]", "1.05", "dt=0.1", "round_times=True"):
        net.add_population(1, snn.SpikeSource([[1.05]]))


def test_spike_source_round_times():
    """round_times=True moves off-grid spike times to the nearest step instead of refusing them."""
    net = snn.Network(dt=DT)
    src = net.add_population(1, snn.SpikeSource([[1.04, 2.26]], round_times=True))
    rec = net.record_spikes(src)
    net.run(3.0)
    np.testing.assert_array_equal(rec.steps, [10, 23])


# ------------------------------------------------------------------------ running
@pytest.mark.parametrize("duration", [0.05, 1.234])
def test_run_duration_off_grid(duration):
    """run(duration) off the dt grid raises ParameterError naming duration, its value and dt."""
    net, _ = _lif_net()
    with _raises(ParameterError, f"duration={duration!r}", "dt=0.1"):
        net.run(duration)
    assert net.t == 0.0


@pytest.mark.parametrize("duration", [-1.0, NAN, INF])
def test_run_duration_negative_or_non_finite(duration):
    """run with a negative or non-finite duration raises ParameterError naming the value."""
    net, _ = _lif_net()
    with _raises(ParameterError, f"duration={duration!r}"):
        net.run(duration)


def test_modifying_after_run():
    """Every description change after run raises SimulationError (also a RuntimeError)."""
    net, a = _lif_net()
    net.run(1.0)
    edits = [
        lambda: net.add_population(2, snn.LIF()),
        lambda: net.connect(a, a, snn.AllToAll(), weight=0.1),
        lambda: net.add_input(a, snn.PoissonInput(1, 1.0, 0.1)),
        lambda: a.initialize(v=-60.0),
    ]  # recorders may be added between runs (tests/regression/test_state_between_runs.py)
    for edit in edits:
        with _raises(SimulationError, "already built"):
            edit()
        with pytest.raises(RuntimeError):
            edit()
    net.run(1.0)  # running on is still fine
    assert net.step == 20
