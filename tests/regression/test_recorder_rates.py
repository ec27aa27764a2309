"""Issue 8, section 9: recorder rates use the recorded duration, partial bins their width,
and a non-finite weight names the synapse that holds it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ConnectivityError

DT = 0.1


def _sources(times: list[list[float]]) -> tuple[snn.Network, snn.Population]:
    net = snn.Network(dt=DT)
    return net, net.add_population(len(times), snn.SpikeSource(times))


def test_spike_rates_default_to_recorded_duration() -> None:
    """rates() divides by the recorded time (network time), not by the last spike time."""
    net, src = _sources([[0.5, 1.0], [2.5], [], [3.0, 3.5, 4.0]])
    rec = net.record_spikes(src)
    net.run(6.0)
    net.run(4.0)
    assert rec.start_step == 0 and rec.recorded_steps == 100
    assert rec.duration == pytest.approx(10.0)
    np.testing.assert_allclose(rec.rates(), np.array([2, 1, 0, 3]) / 0.010, rtol=1e-12)
    # the last spike is at 4 ms: the old default divided by 4 ms, 2.5 times too high
    assert rec.mean_rate() == pytest.approx(6 / (4 * 0.010), rel=1e-12)
    assert rec.mean_rate(20.0) == pytest.approx(6 / (4 * 0.020), rel=1e-12)


def test_spike_rates_before_any_run_are_zero() -> None:
    """Nothing recorded yet: rates are zeros and the mean rate 0 Hz (no division by zero)."""
    net, src = _sources([[1.0]])
    rec = net.record_spikes(src)
    assert rec.duration == 0.0
    np.testing.assert_array_equal(rec.rates(), [0.0])
    assert rec.mean_rate() == 0.0


def test_spike_rates_start_at_start_step() -> None:
    """A recorder that starts at a later step divides by the time since then."""
    net, src = _sources([[1.0, 7.0]])
    rec = net.record_spikes(src)
    net.run(5.0)
    rec.start_step = 20  # what the engine sets for a recorder that starts at t = 2 ms
    assert rec.duration == pytest.approx(3.0)
    assert rec.mean_rate() == pytest.approx(1 / 0.003, rel=1e-12)


def test_rate_recorder_partial_last_bin() -> None:
    """The last, partial bin is divided by the steps it covers, not by the full bin width."""
    net, src = _sources([[0.5, 1.0, 2.5], [0.2], [1.1], [3.7, 4.2]])
    rec = net.record_rates(src, bin_size=2.0)
    net.run(4.5)  # bins [0, 2), [2, 4), [4, 4.5): the last covers 0.5 ms
    np.testing.assert_array_equal(rec.bin_widths, [20, 20, 5])
    counts = np.array([4, 2, 1])
    width_ms = np.array([2.0, 2.0, 0.5])
    np.testing.assert_allclose(rec.rates, counts / (4 * width_ms * 1e-3), rtol=1e-12)
    net.run(1.5)  # the bin fills up: full width again
    np.testing.assert_array_equal(rec.bin_widths, [20, 20, 20])
    np.testing.assert_allclose(rec.rates[2], 1 / (4 * 2.0e-3), rtol=1e-12)


def test_rate_recorder_mean_equals_spike_mean_rate() -> None:
    """Averaged over bins weighted by width, RateRecorder gives SpikeRecorder.mean_rate()."""
    net, src = _sources([[0.5, 1.0, 2.5], [0.2], [1.1, 2.9], [0.3]])
    spikes = net.record_spikes(src)
    rates = net.record_rates(src, bin_size=1.0)
    net.run(2.7)
    w = rates.bin_widths * DT
    assert float(np.sum(rates.rates * w) / w.sum()) == pytest.approx(spikes.mean_rate(), rel=1e-12)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_weight_names_the_synapse(bad: float) -> None:
    """The NaN/Inf weight error gives the value and its synapse index in the projection."""
    net = snn.Network(dt=DT)
    a = net.add_population(3, snn.LIF())
    w = np.full(9, 0.1)
    w[5] = bad
    with pytest.raises(ConnectivityError, match=rf"{bad!r} at synapse index 5 of the projection"):
        net.connect(a, a, snn.AllToAll(), weight=w)  # found at the call (issue 8, section 3)


def test_non_finite_weight_matrix_names_the_synapse() -> None:
    """A NaN in a (pre, post) weight matrix is reported at its synapse index (row-major)."""
    net = snn.Network(dt=DT)
    a = net.add_population(4, snn.LIF())
    w = np.full((4, 4), 0.1)
    w[2, 3] = math.nan
    with pytest.raises(ConnectivityError, match="nan at synapse index 11 of the projection"):
        net.connect(a, a, snn.AllToAll(), weight=w)  # found at the call (issue 8, section 3)
