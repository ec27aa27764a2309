"""Event-driven LIF updates (issue 3): same results as clock-driven updates, deterministic.

A neuron that receives no input and provably stays below threshold is not touched; when
input arrives it is advanced exactly over the gap. These tests check that this changes
nothing a user can observe beyond rounding, and nothing at all across thread counts, split
runs and checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ParameterError

DT = 0.1


def _sparse_net(seed: int, threads: int = 1, event_driven: bool | None = None, **kw) -> tuple:
    """600 resting neurons driven by 12 pacemakers through sparse, delayed synapses."""
    net = snn.Network(dt=DT, seed=seed, threads=threads, event_driven=event_driven, **kw)
    base = {"tau_m": 20.0, "cm": 1.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0}
    pace = net.add_population(12, snn.LIF(**base, i_offset=0.9, tau_refrac=2.0), label="pace")
    rest = net.add_population(
        600, snn.LIF(**base, i_offset=0.5, tau_syn_exc=3.0, tau_syn_inh=8.0), label="rest"
    )
    pace.initialize(v=snn.Uniform(-65.0, -50.0))
    rest.initialize(v=snn.Uniform(-70.0, -55.0))
    delay = snn.Uniform(0.1, 12.0)
    net.connect(pace, rest, snn.FixedProbability(0.3), weight=0.6, delay=delay, round_delays=True)
    net.connect(rest[:500], rest, snn.FixedInDegree(8), weight=0.4, delay=delay, round_delays=True)
    net.connect(rest[500:], rest, snn.FixedInDegree(4), receptor="inh", weight=-0.8, delay=2.0)
    recs = {
        "spikes": net.record_spikes(rest),
        "pace": net.record_spikes(pace),
        "trace": net.record_state(rest[::50], ["v", "i_exc"]),
    }
    return net, recs


def _observe(net: snn.Network, recs: dict) -> dict[str, np.ndarray]:
    rest = net.populations[1]
    return {
        "steps": recs["spikes"].steps.copy(),
        "ids": recs["spikes"].ids.copy(),
        "pace": recs["pace"].steps.copy(),
        "trace": recs["trace"].data.copy(),
        **{var: rest.get_state(var) for var in ("v", "i_exc", "i_inh", "refrac")},
    }


def test_event_driven_is_chosen_automatically_and_skips_idle_neurons(seed: int) -> None:
    net, _ = _sparse_net(seed)
    net.run(100.0)
    eng = net.engine
    assert eng.uses_event_driven()
    # most resting neurons were last touched well before the end of the run
    rest = net.populations[1]
    last = np.maximum(eng.ev_last, np.repeat(eng.ev_blk, 64)[: eng.n])
    idle = last[rest.start : rest.start + rest.size] < eng.step - 10
    assert idle.mean() > 0.3
    # a CUBA-like population driven above threshold uses the clock-driven update only
    cuba = snn.Network(dt=DT, seed=seed)
    cuba.add_population(10, snn.LIF(v_rest=-49.0, v_thresh=-50.0, v_reset=-60.0))
    cuba.run(1.0)
    assert not cuba.engine.uses_event_driven()


def test_event_driven_matches_clock_driven(seed: int) -> None:
    """Same spikes; state equal to rounding (gap propagators replace repeated steps)."""
    a_net, a_recs = _sparse_net(seed, event_driven=True)
    b_net, b_recs = _sparse_net(seed, event_driven=False)
    a_net.run(200.0)
    b_net.run(200.0)
    a, b = _observe(a_net, a_recs), _observe(b_net, b_recs)
    assert a["ids"].size > 50  # the network is not silent
    for key in ("steps", "ids", "pace", "refrac"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    for key in ("trace", "v", "i_exc", "i_inh"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-11, atol=1e-11, err_msg=key)


@pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")  # 3 threads on 2 cores
@pytest.mark.parametrize("precision", ["double", "single"])
def test_event_driven_is_identical_across_threads_and_split_runs(seed: int, precision: str) -> None:
    ref_net, ref_recs = _sparse_net(seed, threads=1, event_driven=True, precision=precision)
    ref_net.run(150.0)
    ref = _observe(ref_net, ref_recs)
    for threads, splits in (
        (2, (150.0,)),
        (3, (150.0,)),
        (1, (33.3, 0.1, 116.6)),
        (2, (70.0, 80.0)),
    ):
        net, recs = _sparse_net(seed, threads=threads, event_driven=True, precision=precision)
        for part in splits:
            net.run(part)
        got = _observe(net, recs)
        for key in ref:
            np.testing.assert_array_equal(got[key], ref[key], err_msg=f"{threads}T {splits} {key}")


def test_event_driven_checkpoint_resumes_bit_identically(seed: int, tmp_path: Path) -> None:
    ref_net, ref_recs = _sparse_net(seed, event_driven=True)
    ref_net.run(120.0)
    ref = _observe(ref_net, ref_recs)
    net, _ = _sparse_net(seed, event_driven=True)
    net.run(47.3)
    snn.save(net, tmp_path / "ckpt.h5")
    loaded = snn.load(tmp_path / "ckpt.h5")
    assert loaded.engine.uses_event_driven()
    loaded.run(120.0 - 47.3)
    spikes = [r for r in loaded.recorders if isinstance(r, snn.SpikeRecorder)]
    rest = loaded.populations[1]
    np.testing.assert_array_equal(spikes[0].steps, ref["steps"])
    np.testing.assert_array_equal(spikes[0].ids, ref["ids"])
    for var in ("v", "i_exc", "i_inh", "refrac"):
        np.testing.assert_array_equal(rest.get_state(var), ref[var], err_msg=var)


def test_get_state_does_not_change_the_trajectory(seed: int) -> None:
    """Reading the state catches skipped neurons up on a copy, never in place."""
    a_net, a_recs = _sparse_net(seed, event_driven=True)
    b_net, b_recs = _sparse_net(seed, event_driven=True)
    for _ in range(4):
        a_net.run(25.0)
        a_net.populations[1].get_state("v")
    b_net.run(100.0)
    a, b = _observe(a_net, a_recs), _observe(b_net, b_recs)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_network_rejects_bad_precision_and_event_driven() -> None:
    with pytest.raises(ParameterError, match="precision must be 'double'"):
        snn.Network(precision="half")
    with pytest.raises(ParameterError, match="event_driven"):
        snn.Network(event_driven="yes")  # type: ignore[arg-type]


def test_step_currents_in_event_driven_mode_match_clock_driven(seed: int) -> None:
    """A skipped neuron whose step current changes is caught up first (no pinning needed)."""
    out = {}
    for ev in (True, False):
        net, recs = _sparse_net(seed, event_driven=ev)
        rest = net.populations[1]
        net.add_input(
            rest[::3], snn.StepCurrent(times=[0.0, 30.0, 60.0], amplitudes=[0.1, 0.4, -0.2])
        )
        net.add_input(rest[1::7], snn.StepCurrent(times=[45.5], amplitudes=[0.3]))
        net.run(100.0)
        out[ev] = _observe(net, recs)
    assert out[True]["ids"].size > 50
    for key in ("steps", "ids", "pace", "refrac"):
        np.testing.assert_array_equal(out[True][key], out[False][key], err_msg=key)
    for key in ("trace", "v", "i_exc", "i_inh"):
        np.testing.assert_allclose(out[True][key], out[False][key], rtol=1e-11, atol=1e-11)
