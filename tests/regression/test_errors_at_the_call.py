"""Issue 8, section 3: mistakes raise a typed error at the call that made them, not at run.

Each test makes the mistake and checks that the call itself raises (nothing was built yet),
with a message that names the value, what is allowed and the fix.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ConnectivityError, ParameterError, SnnsimError

DT = 0.1


def _raises(exc: type[Exception], *fragments: str):
    """pytest.raises for ``exc`` whose message contains every fragment."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


def _net(n: int = 4, dt: float = DT) -> tuple[snn.Network, snn.Population, snn.Population]:
    net = snn.Network(dt=dt, seed=1, threads=1)
    return net, net.add_population(n, snn.LIF(), label="a"), net.add_population(n, snn.LIF())


# --------------------------------------------------------------------- connect: weights
@pytest.mark.parametrize(
    ("kw", "exc", "fragments"),
    [
        ({"weight": -0.5}, ConnectivityError, ("-0.5", "receptor 'exc'", "receptor='inh'")),
        ({"weight": 0.5, "receptor": "inh"}, ConnectivityError, ("0.5", "'inh'", "<= 0")),
        ({"weight": float("nan")}, ConnectivityError, ("weight nan", "finite")),
        ({"weight": float("inf")}, ConnectivityError, ("weight inf", "finite")),
        ({"weight": np.array([0.1, -0.2, 0.3, 0.1])}, ConnectivityError, ("-0.2", "'exc'")),
        (
            {"weight": np.array([0.1, np.nan, 0.3, 0.1])},
            ConnectivityError,
            ("nan at synapse index 1", ""),
        ),
        ({"weight": np.ones(3)}, ConnectivityError, ("3 values for 4 synapses",)),
        ({"weight": np.ones((4, 3))}, ConnectivityError, ("shape (4, 3)", "(4, 4)")),
    ],
)
def test_bad_weights_fail_at_connect(kw, exc, fragments) -> None:
    """Sign per receptor, NaN/Inf and array lengths of given weights are checked by connect."""
    net, a, b = _net()
    with _raises(exc, "connect(a -> pop1)", *fragments):
        net.connect(a, b, snn.OneToOne(), **kw)
    assert net.projections == [] and net.built_engine() is None


def test_weight_length_checked_when_the_count_is_known() -> None:
    """AllToAll, FromList and fixed-degree counts are known without drawing: length at connect."""
    net, a, b = _net()
    with _raises(ConnectivityError, "5 values for 16 synapses"):
        net.connect(a, b, snn.AllToAll(), weight=np.full(5, 0.1))
    with _raises(ConnectivityError, "5 values for 12 synapses"):  # no self-connections
        net.connect(a, a, snn.AllToAll(allow_self=False), weight=np.full(5, 0.1))
    with _raises(ConnectivityError, "5 values for 8 synapses"):
        net.connect(a, b, snn.FixedInDegree(2), weight=np.full(5, 0.1))
    with _raises(ConnectivityError, "1 values for 2 synapses"):
        net.connect(a, b, snn.FromList([0, 1], [1, 2]), weight=np.array([0.1]))
    # FixedProbability draws its count: a wrong length is found when the network is built
    net.connect(a, b, snn.FixedProbability(0.5), weight=np.full(5, 0.1))
    with pytest.raises(ConnectivityError, match="synapses"):
        net.build()


def test_from_list_own_values_checked_at_connect() -> None:
    """Weights and delays carried by FromList are checked against the receptor and grid."""
    net, a, b = _net()
    with _raises(ConnectivityError, "-0.1", "receptor 'exc'"):
        net.connect(a, b, snn.FromList([0], [1], weight=[-0.1]))
    with _raises(ConnectivityError, "0.25", "multiple of dt=0.1"):
        net.connect(a, b, snn.FromList([0], [1], weight=[0.1], delay=[0.25]))


@pytest.mark.parametrize(
    ("pre", "post", "fragments"),
    [([0, 4], [0, 1], ("pre index 4", "4 neurons", "0..3")), ([0], [-1], ("post index -1",))],
)
def test_from_list_ranges_at_connect(pre, post, fragments) -> None:
    """FromList indices are checked against the pre/post sizes by connect."""
    net, a, b = _net()
    with _raises(ConnectivityError, *fragments):
        net.connect(a, b, snn.FromList(pre, post), weight=0.1)


def test_one_to_one_sizes_at_connect() -> None:
    """OneToOne between targets of different sizes fails at connect, naming both sizes."""
    net, a, b = _net()
    with _raises(ConnectivityError, "OneToOne", "3", "4", "views"):
        net.connect(a[:3], b, snn.OneToOne(), weight=0.1)


# ---------------------------------------------------------------------- connect: delays
@pytest.mark.parametrize(
    ("delay", "fragments"),
    [
        (0.05, ("0.05", "multiple of dt=0.1", "round_delays=True")),
        (0.0, ("0.0", "below dt=0.1")),
        (0.25, ("0.25", "multiple of dt")),
        (1e5, ("100000.0", "65535 steps")),
        (float("nan"), ("delay nan", "finite")),
        (np.array([0.1, 0.2, 0.35, 0.1]), ("0.35", "multiple of dt")),
    ],
)
def test_bad_delays_fail_at_connect(delay, fragments) -> None:
    """Delays below dt, off the grid, beyond the maximum or NaN fail at connect."""
    net, a, b = _net()
    with _raises(ConnectivityError, *fragments):
        net.connect(a, b, snn.OneToOne(), weight=0.1, delay=delay)


def test_round_delays_still_accepts_off_grid() -> None:
    """With round_delays=True an off-grid delay is accepted at connect (and rounded at build)."""
    net, a, b = _net()
    proj = net.connect(a, b, snn.OneToOne(), weight=0.1, delay=0.26, round_delays=True)
    assert proj.get("delay", format="list")[0][2] == pytest.approx(0.3)


def test_projection_set_before_build_checks_at_the_call() -> None:
    """Projection.set on an unbuilt network refuses bad values and keeps the old ones."""
    net, a, b = _net()
    proj = net.connect(a, b, snn.OneToOne(), weight=0.1)
    with _raises(ConnectivityError, "-1", "'exc'"):
        proj.set(weight=-1.0)
    with _raises(ConnectivityError, "0.15", "multiple of dt"):
        proj.set(delay=0.15)
    assert proj.weight == 0.1 and proj.delay is None


# ------------------------------------------------------------------------- type policy
@pytest.mark.parametrize("value", ["0.5", b"1", 1j, np.complex128(1), True, [0.1, "x"]])
@pytest.mark.parametrize("name", ["weight", "delay"])
def test_weight_and_delay_must_be_real_numbers(name, value) -> None:
    """Strings, bytes, booleans and complex numbers are refused where a number is expected."""
    net, a, b = _net()
    kw = {"weight": 0.1, name: value}
    with pytest.raises(SnnsimError, match=f"{name}=.*(not a number|not numbers)"):
        net.connect(a, b, snn.AllToAll(), **kw)
    assert net.projections == []


@pytest.mark.parametrize("p", ["0.1", 0.1j, None, True])
def test_fixed_probability_refuses_non_numbers(p) -> None:
    """FixedProbability('0.1') and friends raise ConnectivityError with an example."""
    with _raises(ConnectivityError, f"p={p!r}", "real number in [0, 1]", "FixedProbability(0.1)"):
        snn.FixedProbability(p)


@pytest.mark.parametrize(
    ("times", "fragment"),
    [
        (None, "times=None"),
        ("1.0", "times='1.0'"),
        (5.0, "times=5.0"),
        ([["a"]], "times[0]"),
        ([[1.0], None], "times[1]=None"),
        ([[1.0j]], "complex"),
    ],
)
def test_spike_source_times_typed_errors(times, fragment) -> None:
    """SpikeSource(times=None) or times=[['a']] raise ParameterError, not numpy's errors."""
    with _raises(ParameterError, fragment, "times=[[10.0, 20.0], [15.0]]"):
        snn.SpikeSource(times)


def test_spike_source_times_checked_at_add_population() -> None:
    """Off-grid or too early spike times fail at add_population, where dt is known."""
    net = snn.Network(dt=DT)
    with _raises(ParameterError, "times[0]", "1.05", "round_times=True"):
        net.add_population(1, snn.SpikeSource([[1.05]]))
    with _raises(ParameterError, "times[0]", "0.0", ">= dt=0.1"):
        net.add_population(1, snn.SpikeSource([[0.0]]))
    assert net.populations == []


@pytest.mark.parametrize("value", ["low", 1j, None, [[1.0, 2.0]], [-65.0, "x"]])
def test_initialize_typed_errors(value) -> None:
    """initialize(v='low') and similar raise ParameterError naming the variable."""
    _, a, _ = _net()
    with pytest.raises(ParameterError, match=r"a\.initialize"):
        a.initialize(v=value)


# ---------------------------------------------------------------- sources, labels, threads
def test_poisson_source_rate_times_dt_above_one() -> None:
    """PoissonSource with rate * dt > 1 is refused by add_population (scalar or per neuron)."""
    net = snn.Network(dt=DT)
    with _raises(ParameterError, "rate=20000.0", "rate * dt = 2", "10000 Hz"):
        net.add_population(3, snn.PoissonSource(rate=20000.0))
    with _raises(ParameterError, "rate=15000.0", "neuron 2"):
        net.add_population(3, snn.PoissonSource(rate=np.array([10.0, 20.0, 15000.0])))
    net.add_population(3, snn.PoissonSource(rate=10000.0))  # exactly one spike per step: ok
    fine = snn.Network(dt=0.01)
    fine.add_population(3, snn.PoissonSource(rate=20000.0))  # a smaller dt fits


def test_poisson_source_distribution_checked_at_build() -> None:
    """A rate distribution is sampled at build, and checked there."""
    net = snn.Network(dt=DT)
    net.add_population(3, snn.PoissonSource(rate=snn.Uniform(20000.0, 30000.0)))
    with _raises(ParameterError, "rate * dt"):
        net.build()


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        ("", "empty"),
        ("a b", "' '"),
        ("x/y", "'/'"),
        ("é", "'é'"),
        (3, "must be a string"),
    ],
)
def test_labels_validated_at_add_population(label, fragment) -> None:
    """Labels must be non-empty strings of letters, digits, '_', '-' and '.'."""
    net = snn.Network(dt=DT)
    with _raises(ParameterError, f"add_population(label={label!r})", fragment):
        net.add_population(2, snn.LIF(), label=label)
    assert net.populations == []


def test_good_labels_and_duplicates() -> None:
    """Safe labels are accepted; a duplicate names the population that has it already."""
    net = snn.Network(dt=DT)
    for label in ("exc", "L2_3-e.v1", "A9"):
        net.add_population(2, snn.LIF(), label=label)
    with _raises(ParameterError, "add_population(label='exc')", "population 0", "unique label"):
        net.add_population(2, snn.LIF(), label="exc")


def test_automatic_label_skips_a_taken_one() -> None:
    """An automatic label never collides with a label the user gave."""
    net = snn.Network(dt=DT)
    net.add_population(2, snn.LIF(), label="pop1")
    second = net.add_population(2, snn.LIF())
    assert second.label == "pop2"
    assert [p.label for p in net.populations] == ["pop1", "pop2"]


def test_more_threads_than_cores_warns() -> None:
    """Network(threads=64) on a smaller machine warns and says how many cores there are."""
    from snnsim.network import available_cores

    cores = available_cores()
    if cores >= 64:
        pytest.skip("this machine has 64 cores or more")
    with pytest.warns(UserWarning, match=f"threads=64.*{cores} cores"):
        snn.Network(threads=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snn.Network(threads=1)
        snn.Network(threads=None)


# ----------------------------------------------------------------- defaults and dt grid
def test_default_tau_refrac_rounded_to_a_coarser_grid() -> None:
    """LIF() at dt=0.3: the default tau_refrac=0.1 is rounded to the grid (0.0), and runs."""
    net = snn.Network(dt=0.3, seed=1)
    pop = net.add_population(3, snn.LIF(i_offset=2.0))
    assert pop.model.tau_refrac == 0.0
    assert "tau_refrac" not in pop.model.given
    rec = net.record_spikes(pop)
    net.run(30.0)
    assert rec.count > 0
    delta = snn.Network(dt=0.25).add_population(2, snn.LIFDelta())
    assert delta.model.tau_refrac == 0.0


def test_default_on_the_grid_is_kept() -> None:
    """At a grid that holds the default, the model is used as given."""
    model = snn.LIF()
    net = snn.Network(dt=0.05)
    assert net.add_population(2, model).model is model


def test_given_tau_refrac_off_grid_still_refused() -> None:
    """A tau_refrac the user gave off the grid is refused at add_population."""
    net = snn.Network(dt=0.3)
    with _raises(ParameterError, "tau_refrac=0.1", "dt=0.3", "0 or 0.3"):
        net.add_population(3, snn.LIF(tau_refrac=0.1))
    net.add_population(3, snn.LIF(tau_refrac=0.6))


# ------------------------------------------------------------------------ distributions
def test_weight_distribution_range_checked_at_connect() -> None:
    """A weight distribution whose declared range crosses the receptor's sign is refused."""
    net, a, b = _net()
    with _raises(ConnectivityError, "Uniform(low=-0.1, high=1.0)", "can draw", "receptor 'exc'"):
        net.connect(a, b, snn.AllToAll(), weight=snn.Uniform(-0.1, 1.0))
    net.connect(a, b, snn.AllToAll(), weight=snn.Uniform(0.0, 1.0))
    net.connect(a, b, snn.AllToAll(), weight=snn.Normal(0.5, 0.1))  # unbounded: drawn at build


def test_continuous_delay_distribution_needs_round_delays() -> None:
    """Uniform/Normal delays are continuous: refused at connect unless round_delays=True."""
    net, a, b = _net()
    with _raises(ConnectivityError, "Uniform(low=1.0, high=2.0)", "round_delays=True"):
        net.connect(a, b, snn.AllToAll(), weight=0.1, delay=snn.Uniform(1.0, 2.0))
    with _raises(ConnectivityError, "can draw", "65535 steps"):
        net.connect(
            a, b, snn.AllToAll(), weight=0.1, delay=snn.Uniform(1.0, 1e4), round_delays=True
        )
    net.connect(a, b, snn.AllToAll(), weight=0.1, delay=snn.Uniform(1.0, 2.0), round_delays=True)


# ------------------------------------------------------------------------------- inputs
def test_inputs_checked_at_add_input() -> None:
    """PoissonInput rate*dt > 1 and off-grid StepCurrent times fail at add_input."""
    net, a, _ = _net()
    with _raises(ParameterError, "add_input(a, PoissonInput)", "rate*dt = 2 > 1"):
        net.add_input(a, snn.PoissonInput(10, 20000.0, 0.1))
    with _raises(ParameterError, "add_input(a, StepCurrent)", "1.05", "multiple of dt=0.1"):
        net.add_input(a, snn.StepCurrent([1.05], [0.5]))
    assert net.inputs == []


@pytest.mark.parametrize(
    ("times", "amplitudes", "fragment"),
    [("1.0", [0.5], "times='1.0'"), ([1j], [0.5], "complex"), ([1.0], ["x"], "amplitudes")],
)
def test_step_current_type_policy(times, amplitudes, fragment) -> None:
    """StepCurrent refuses strings and complex numbers with ParameterError, not numpy errors."""
    with _raises(ParameterError, "StepCurrent", fragment, "real numbers"):
        snn.StepCurrent(times, amplitudes)


def test_fixed_degree_and_connect_arguments_at_connect() -> None:
    """k beyond the available neurons, a non-bool round_delays or a bad label fail at connect."""
    net, a, b = _net()
    with _raises(ConnectivityError, "FixedInDegree(k=5)", "pre side has 4", "k <= 4"):
        net.connect(a, b, snn.FixedInDegree(5), weight=0.1)
    with _raises(ConnectivityError, "FixedOutDegree(k=9)", "post side has 2", "k <= 2"):
        net.connect(a, b[:2], snn.FixedOutDegree(9), weight=0.1)
    with _raises(ConnectivityError, "round_delays='yes'", "True or False"):
        net.connect(a, b, snn.AllToAll(), weight=0.1, round_delays="yes")
    with _raises(ConnectivityError, "label=7", "non-empty string"):
        net.connect(a, b, snn.AllToAll(), weight=0.1, label=7)
    assert net.projections == []
