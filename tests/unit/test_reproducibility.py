"""Reproducibility promises (design.md section 6): seeds, thread counts and split runs."""

from __future__ import annotations

import numpy as np
import pytest

import snnsim as snn

DT = 0.1
T = 100.0


def _build(seed: int = 7, threads: int = 1, d_min: float = 0.1) -> tuple[snn.Network, dict]:
    """~2000-neuron recurrent E/I network with PoissonSource, PoissonInput and random delays."""
    net = snn.Network(dt=DT, seed=seed, threads=threads)
    lif = {
        "tau_m": 20.0,
        "cm": 1.0,
        "v_rest": -65.0,
        "v_reset": -65.0,
        "v_thresh": -50.0,
        "tau_refrac": 2.0,
    }
    exc = net.add_population(1600, snn.LIF(**lif, tau_syn_exc=5.0, tau_syn_inh=10.0), label="exc")
    inh = net.add_population(400, snn.LIF(**lif, tau_syn_exc=3.0, tau_syn_inh=6.0), label="inh")
    ext = net.add_population(100, snn.PoissonSource(rate=20.0), label="ext")
    exc.initialize(v=snn.Uniform(-65.0, -50.0), i_exc=snn.Normal(0.2, 0.1, low=0.0))
    inh.initialize(v=snn.Uniform(-65.0, -50.0))
    delay = snn.Uniform(d_min, 3.0)
    for post in (exc, inh):
        net.connect(
            exc,
            post,
            snn.FixedProbability(0.04),
            weight=snn.Uniform(0.05, 0.2),
            delay=delay,
            round_delays=True,
        )
        net.connect(
            inh,
            post,
            snn.FixedInDegree(20),
            receptor="inh",
            weight=snn.Normal(-0.6, 0.2, high=0.0),
            delay=delay,
            round_delays=True,
        )
        net.connect(ext, post, snn.FixedOutDegree(40), weight=0.2, delay=2.0)
    net.add_input(exc, snn.PoissonInput(100, 10.0, 0.13))
    net.add_input(inh[::2], snn.PoissonInput(80, 10.0, 0.15))
    net.add_input(exc[:200], snn.PoissonInput(20, 5.0, -0.2, receptor="inh"))
    recs = {
        "spikes": [net.record_spikes(p) for p in (exc, inh, ext)],
        "state": [
            net.record_state(exc[::40], ["v", "i_exc", "i_inh"]),
            net.record_state(inh, "v", every=7),
        ],
        "rates": net.record_rates(exc, bin_size=5.0),
    }
    return net, recs


def _outputs(net: snn.Network, recs: dict) -> dict:
    out: dict = {}
    for k, r in enumerate(recs["spikes"]):
        out[f"steps{k}"] = r.steps.copy()
        out[f"ids{k}"] = r.ids.copy()
    for k, r in enumerate(recs["state"]):
        out[f"times{k}"] = r.times.copy()
        out[f"data{k}"] = r.data.copy()
    out["rates"] = recs["rates"].rates.copy()
    for p in net.populations[:2]:
        for var in ("v", "i_exc", "i_inh", "refrac"):
            out[f"{p.label}.{var}"] = p.get_state(var)
    return out


def _run(seed=7, threads=1, d_min=0.1, splits=(T,)):
    net, recs = _build(seed, threads, d_min)
    for part in splits:
        net.run(part)
    return net, _outputs(net, recs)


def _assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.fixture(scope="module")
def reference() -> tuple[snn.Network, dict]:
    """The network run once with seed 7, one thread, in one call."""
    return _run()


def test_network_is_active(reference):
    """The reference network fires at a moderate rate (so the other comparisons mean something)."""
    net, out = reference
    n_exc = out["steps0"].size
    rate = n_exc / 1600 / (T * 1e-3)
    assert 1.0 < rate < 100.0
    assert out["steps1"].size > 0 and out["steps2"].size > 0
    assert net.engine.min_delay == 1


def test_same_seed_is_bit_identical(reference):
    """Two builds with the same seed give identical spikes, traces, rates and final state."""
    _assert_identical(reference[1], _run()[1])


def test_different_seed_differs(reference):
    """Another seed gives different connectivity and different spikes."""
    net, out = _run(seed=8)
    assert not np.array_equal(net.engine.syn_code, reference[0].engine.syn_code)
    assert out["steps0"].size != reference[1]["steps0"].size or not np.array_equal(
        out["ids0"], reference[1]["ids0"]
    )


def test_thread_count_does_not_change_results(reference):
    """threads=1 and threads=2 give bit-identical spikes, state traces, rates and final state."""
    _assert_identical(reference[1], _run(threads=2)[1])


@pytest.fixture(scope="module")
def chunked() -> tuple[snn.Network, dict]:
    """The network with delays >= 1 ms (min_delay = 10 steps), one thread, one call."""
    return _run(d_min=1.0)


@pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")  # 3 threads on 2 cores
@pytest.mark.parametrize("threads", [2, 3])
def test_thread_count_with_longer_chunks(threads, chunked):
    """With min_delay = 10 steps (chunked delivery) 1, 2 and 3 threads agree bit for bit."""
    assert chunked[0].engine.min_delay == 10
    _assert_identical(chunked[1], _run(threads=threads, d_min=1.0)[1])


@pytest.mark.parametrize(
    "splits", [(T / 2, T / 2), (73.3, 0.0, T - 73.3)], ids=["halves", "uneven"]
)
def test_split_run_equals_one_run(splits, reference):
    """run(T) equals run(T/2); run(T/2) and uneven splits: spikes, traces, rates, state."""
    net, out = _run(splits=splits)
    assert net.step == round(T / DT)
    _assert_identical(reference[1], out)


def test_split_run_with_threads_and_chunks(chunked):
    """A split run (inside a chunk) with 2 threads and 10-step chunks equals one 1-thread run."""
    _assert_identical(chunked[1], _run(threads=2, d_min=1.0, splits=(50.3, T - 50.3))[1])


def test_recorded_spikes_match_engine_counter(reference):
    """With every neuron recorded, the recorders hold exactly net.engine.total_spikes spikes."""
    net, out = reference
    n_rec = sum(out[f"steps{k}"].size for k in range(3))
    assert n_rec == net.engine.total_spikes
    assert n_rec == int(net.engine.spike_count.sum())
    assert net.engine.last_run.spikes == n_rec
