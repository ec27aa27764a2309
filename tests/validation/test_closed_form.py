"""Closed-form validation of the LIF kernels and of snnsim's time semantics.

Conventions checked here (design.md section 4): the update advancing time from
``(s-1) dt`` to ``s dt`` has stamp ``s``; a spike emitted in it is reported at ``s dt``; through
a delay ``d`` it is added to the target's synaptic current in the update ending at
``s dt + d``; the membrane is integrated exactly on the grid, so recorded samples equal the
continuous-time solution at the grid points (to rounding).

Weights are chosen exactly representable in float32 (synaptic weights are stored as float32).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import snnsim as snn

pytestmark = pytest.mark.validation

V_REST = -65.0


def _psp_closed_form(t, ta, w, tau_m, tau_s, cm):
    """Membrane deviation from rest after a current jump ``w`` (nA) at ``ta``."""
    x = np.maximum(t - ta, 0.0)
    if tau_s == tau_m:
        out = w / cm * x * np.exp(-x / tau_m)
    else:
        out = w * tau_s * tau_m / (cm * (tau_m - tau_s)) * (np.exp(-x / tau_m) - np.exp(-x / tau_s))
    return np.where(t >= ta, out, 0.0)


def _psp_net(dt, w, receptor, tau_m, tau_s, cm, t0, delay, t_end):
    net = snn.Network(dt=dt, seed=1, threads=1)
    src = net.add_population(1, snn.SpikeSource(times=[[t0]]))
    lif = snn.LIF(
        tau_m=tau_m, cm=cm, v_rest=V_REST, v_reset=-70.0, v_thresh=-40.0,
        tau_syn_exc=tau_s, tau_syn_inh=tau_s, tau_refrac=1.0, i_offset=0.0,
    )  # fmt: skip
    pop = net.add_population(1, lif)
    net.connect(src, pop, snn.OneToOne(), weight=w, delay=delay, receptor=receptor)
    tr = net.record_state(pop, ["v", "i_exc", "i_inh"])
    sp = net.record_spikes(pop)
    net.run(t_end)
    return tr, sp


@pytest.mark.parametrize(
    ("w", "receptor", "tau_m", "tau_s", "cm", "dt"),
    [
        (0.5, "exc", 20.0, 5.0, 1.0, 0.1),
        (-0.75, "inh", 20.0, 5.0, 1.0, 0.1),
        (0.5, "exc", 10.0, 2.0, 0.25, 0.25),
        (-0.75, "inh", 15.0, 8.0, 0.5, 0.125),
        (0.5, "exc", 20.0, 20.0, 1.0, 0.1),  # tau_s == tau_m: the alpha-like limit
        (-0.75, "inh", 10.0, 10.0, 0.5, 0.25),
    ],
)
def test_subthreshold_psp_matches_closed_form(w, receptor, tau_m, tau_s, cm, dt):
    t0, delay, t_end = 1.0, 1.5, 100.0
    tr, sp = _psp_net(dt, w, receptor, tau_m, tau_s, cm, t0, delay, t_end)
    assert sp.count == 0
    t = tr.times
    np.testing.assert_allclose(t, dt * np.arange(1, round(t_end / dt) + 1), rtol=0, atol=1e-12)
    ta = t0 + delay
    v = tr["v"][:, 0]
    cur = tr["i_exc" if receptor == "exc" else "i_inh"][:, 0]
    other = tr["i_inh" if receptor == "exc" else "i_exc"][:, 0]
    expected = _psp_closed_form(t, ta, w, tau_m, tau_s, cm)
    peak = float(np.max(np.abs(expected)))
    assert peak > 0.1
    # exactly at rest before (and at) the arrival step, as the current jumps after the V update
    before = t <= ta + 1e-9
    assert np.all(v[before] == V_REST)
    np.testing.assert_allclose(v - V_REST, expected, rtol=1e-9, atol=1e-9 * peak)
    # the current jumps by exactly w at ta and decays exponentially
    assert np.all(cur[t < ta - 1e-9] == 0.0)
    i_expected = np.where(t >= ta - 1e-9, w * np.exp(-np.maximum(t - ta, 0) / tau_s), 0.0)
    np.testing.assert_allclose(cur, i_expected, rtol=1e-9, atol=1e-12 * abs(w))
    assert cur[np.argmin(np.abs(t - ta))] == w
    assert np.all(other == 0.0)
    # the PSP peaks where the closed form does (on the grid)
    assert np.argmax(np.abs(v - V_REST)) == np.argmax(np.abs(expected))


@pytest.mark.parametrize("w", [2.5, -3.0])
def test_lif_delta_jump_is_exactly_w(w):
    dt, t0, delay, tau_m = 0.1, 2.0, 3.0, 20.0
    net = snn.Network(dt=dt, seed=1, threads=1)
    src = net.add_population(1, snn.SpikeSource(times=[[t0]]))
    pop = net.add_population(
        1, snn.LIFDelta(tau_m=tau_m, cm=1.0, v_rest=V_REST, v_thresh=-50.0, v_reset=-70.0)
    )
    net.connect(src, pop, snn.OneToOne(), weight=w, delay=delay)
    tr = net.record_state(pop, "v")
    net.run(50.0)
    t, v = tr.times, tr["v"][:, 0]
    ka = round((t0 + delay) / dt) - 1  # index of the sample at ta
    assert t[ka] == pytest.approx(t0 + delay, abs=1e-12)
    assert np.all(v[:ka] == V_REST)
    assert v[ka] - V_REST == w
    after = t >= t0 + delay - 1e-9
    np.testing.assert_allclose(
        v[after] - V_REST, w * np.exp(-(t[after] - (t0 + delay)) / tau_m), rtol=1e-9
    )


def _t_cross(v_from, v_rest, v_thresh, tau_m, cm, current):
    """Time for V to go from ``v_from`` to ``v_thresh`` under a constant current (ms)."""
    v_inf = v_rest + current * tau_m / cm
    return -tau_m * math.log((v_inf - v_thresh) / (v_inf - v_from))


@pytest.mark.parametrize("dt", [0.1, 0.25, 0.125])
@pytest.mark.parametrize("current", [0.8, 1.0, 1.7, 3.3])
def test_time_to_first_spike_and_period(dt, current):
    tau_m, cm, v_rest, v_thresh, v_reset, tau_refrac = 20.0, 1.0, -65.0, -50.0, -70.0, 2.0
    lif = snn.LIF(
        tau_m=tau_m, cm=cm, v_rest=v_rest, v_reset=v_reset, v_thresh=v_thresh,
        tau_refrac=tau_refrac, i_offset=current,
    )  # fmt: skip
    net = snn.Network(dt=dt, seed=1, threads=1)
    pop = net.add_population(1, lif)
    sp = net.record_spikes(pop)
    net.run(300.0)
    # closed form: t* = -tau_m ln(1 - (v_thresh - v_rest) cm / (tau_m I))
    t_star = -tau_m * math.log(1.0 - (v_thresh - v_rest) * cm / (tau_m * current))
    assert t_star == pytest.approx(_t_cross(v_rest, v_rest, v_thresh, tau_m, cm, current))
    n_star = t_star / dt
    assert abs(n_star - round(n_star)) > 1e-6, "threshold crossing too close to a grid point"
    # the crossing happens inside a step; the spike is stamped at the end of that step
    first = math.ceil(n_star) * dt
    assert sp.count >= 2
    assert sp.times[0] == pytest.approx(first, abs=1e-9)
    # from v_reset after the refractory period: ISI = tau_refrac + ceil(t*'/dt) dt
    t_star2 = _t_cross(v_reset, v_rest, v_thresh, tau_m, cm, current)
    n2 = t_star2 / dt
    assert abs(n2 - round(n2)) > 1e-6
    isi = tau_refrac + math.ceil(n2) * dt
    expected = first + isi * np.arange(sp.count)
    np.testing.assert_allclose(sp.times, expected, rtol=0, atol=1e-9)
    assert sp.count == int((300.0 - first + 1e-9) // isi) + 1


DELAYS = [0.1, 0.2, 1.0, 2.5, 10.0, 20.0, 50.0]


@pytest.mark.parametrize("delay", DELAYS)
def test_spike_arrival_exactly_after_delay(delay):
    dt = 0.1
    times = [[1.0, 7.3, 60.0]]
    net = snn.Network(dt=dt, seed=1, threads=1)
    src = net.add_population(1, snn.SpikeSource(times=times))
    # LIFDelta target with a supra-threshold weight: it spikes in the arrival step
    delta = net.add_population(
        1,
        snn.LIFDelta(tau_m=20.0, cm=1.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
                     tau_refrac=0.1),
    )  # fmt: skip
    lif = net.add_population(1, snn.LIF(tau_m=20.0, tau_syn_exc=5.0, v_thresh=-40.0))
    net.connect(src, delta, snn.OneToOne(), weight=20.0, delay=delay)
    net.connect(src, lif, snn.OneToOne(), weight=0.25, delay=delay, receptor="exc")
    sp_src = net.record_spikes(src)
    sp = net.record_spikes(delta)
    tr = net.record_state(lif, "i_exc")
    net.run(120.0)
    np.testing.assert_allclose(sp_src.times, times[0], atol=1e-9)
    np.testing.assert_allclose(sp.times, np.array(times[0]) + delay, atol=1e-9)
    t, cur = tr.times, tr["i_exc"][:, 0]
    for ts in times[0]:
        k = round((ts + delay) / dt) - 1  # sample at t + delay
        assert t[k] == pytest.approx(ts + delay, abs=1e-9)
        jump = cur[k] - (cur[k - 1] * math.exp(-dt / 5.0) if k > 0 else 0.0)
        assert jump == pytest.approx(0.25, abs=1e-12)
    first = round((times[0][0] + delay) / dt) - 1
    assert np.all(cur[:first] == 0.0)
    assert cur[first] == 0.25


@pytest.mark.parametrize("dt", [0.1, 0.25])
def test_step_current_onset_and_offset(dt):
    tau_m, cm, current, t_on, t_off = 20.0, 0.5, 0.3, 5.0, 40.0
    net = snn.Network(dt=dt, seed=1, threads=1)
    pop = net.add_population(
        1, snn.LIF(tau_m=tau_m, cm=cm, v_rest=V_REST, v_thresh=-40.0, tau_refrac=1.0)
    )
    net.add_input(pop, snn.StepCurrent([t_on, t_off], [current, 0.0]))
    tr = net.record_state(pop, "v")
    net.run(100.0)
    t, v = tr.times, tr["v"][:, 0]
    # the change at t_on is seen by the update over (t_on, t_on + dt]
    assert np.all(v[t <= t_on + 1e-9] == V_REST)
    assert v[np.argmin(np.abs(t - (t_on + dt)))] > V_REST
    amp = current * tau_m / cm
    on = (t >= t_on - 1e-9) & (t <= t_off + 1e-9)
    rise = amp * (1.0 - np.exp(-(t[on] - t_on) / tau_m))
    np.testing.assert_allclose(v[on] - V_REST, rise, rtol=1e-9, atol=1e-12 * amp)
    v_off = amp * (1.0 - math.exp(-(t_off - t_on) / tau_m))
    off = t >= t_off - 1e-9
    np.testing.assert_allclose(
        v[off] - V_REST, v_off * np.exp(-(t[off] - t_off) / tau_m), rtol=1e-9, atol=1e-12
    )
