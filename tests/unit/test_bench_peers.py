"""Smoke tests of the benchmark harness: network builders, peer runners, machine microbench."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# benchmarks/ is not installed; make it importable as a top-level package from the repo root.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import networks  # noqa: E402
from benchmarks.networks import NetworkArrays, network_from_spec  # noqa: E402

SMALL = {
    "cuba": {"n": 400, "seed": 3, "duration": 50.0},
    "cuba_scaled": {"n": 1000, "seed": 3, "duration": 50.0},
    "event_dominated": {"n": 500, "in_degree": 100, "seed": 3, "duration": 50.0},
    "sparse_activity": {"n": 2000, "seed": 3, "duration": 50.0},
}


def _build(name: str) -> NetworkArrays:
    return networks.BUILDERS[name](**SMALL[name])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_builder_shapes_dtypes_and_invariants(name: str) -> None:
    net = _build(name)
    m = net.n_synapses
    assert m > 0
    for field in ("sources", "targets"):
        arr = getattr(net, field)
        assert arr.dtype == np.int64 and arr.shape == (m,)
        assert arr.min() >= 0 and arr.max() < net.n
    for field in ("weights", "delays"):
        arr = getattr(net, field)
        assert arr.dtype == np.float64 and arr.shape == (m,)
    assert net.v0.dtype == np.float64 and net.v0.shape == (net.n,)
    key = net.sources * net.n + net.targets
    assert np.all(np.diff(key) > 0), "sorted by (source, target), no duplicate pairs"
    exc = net.sources < net.n_exc
    assert np.all(net.weights[exc] >= 0) and np.all(net.weights[~exc] <= 0)
    steps = net.delays / net.dt
    np.testing.assert_allclose(steps, np.rint(steps), atol=1e-9)
    assert steps.min() >= 1 - 1e-9
    assert np.all(net.v0 >= net.params["v_reset"]) and np.all(net.v0 < net.params["v_thresh"])
    assert net.i_offset_array().shape == (net.n,)
    assert net.bytes() >= net.sources.nbytes * 2 + net.weights.nbytes * 2
    assert not net.sources.flags.writeable
    net.check()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_builder_is_deterministic_in_seed(name: str) -> None:
    a, b = _build(name), _build(name)
    assert a.spec is not None
    c = network_from_spec(a.spec)
    for other in (b, c):
        for field in ("sources", "targets", "weights", "delays", "v0"):
            np.testing.assert_array_equal(getattr(a, field), getattr(other, field))
        np.testing.assert_array_equal(a.i_offset_array(), other.i_offset_array())
    d = networks.BUILDERS[name](**{**SMALL[name], "seed": 4})
    assert d.n_synapses != a.n_synapses or not np.array_equal(d.targets, a.targets)


def test_cuba_parameters_and_degree() -> None:
    net = networks.cuba(n=4000, seed=0, duration=10.0)
    assert net.n_exc == 3200
    assert abs(net.n_synapses / (4000 * 4000) - 0.02) < 0.001
    np.testing.assert_allclose(np.unique(net.weights), [-0.45, 0.081])
    np.testing.assert_array_equal(net.delays, 0.1)
    scaled = networks.cuba_scaled(16000, seed=0, duration=10.0)
    assert abs(scaled.n_synapses / scaled.n - 80) < 1


def test_sparse_activity_delays_cover_the_grid() -> None:
    net = networks.sparse_activity(n=2000, seed=1, duration=10.0)
    steps = net.delay_steps()
    assert steps.min() == 1 and steps.max() == 200
    i_off = net.i_offset_array()
    rheobase = (
        (net.params["v_thresh"] - net.params["v_rest"]) * net.params["cm"] / net.params["tau_m"]
    )
    assert 0 < np.mean(i_off > rheobase) < 0.05


def test_bernoulli_pairs_edge_cases() -> None:
    rng = np.random.default_rng(0)
    pre, post = networks.bernoulli_pairs(5, 7, 0.0, rng)
    assert pre.size == 0 and post.size == 0
    pre, post = networks.bernoulli_pairs(5, 7, 1.0, rng)
    assert pre.size == 35 and post[-1] == 6 and pre[-1] == 4
    with pytest.raises(ValueError, match="p must be in"):
        networks.bernoulli_pairs(5, 7, 1.5, rng)
    with pytest.raises(ValueError, match="builder"):
        network_from_spec({"builder": "nope"})


def test_nest_and_brian2_agree_on_tiny_cuba() -> None:
    pytest.importorskip("brian2")
    pytest.importorskip("nest")
    from benchmarks import peers

    net = networks.cuba(n=400, seed=1, duration=50.0)
    nest_res = peers.run_nest(net, threads=1, return_spikes=True)
    b2_res = peers.run_brian2_runtime(net, target="numpy", return_spikes=True)
    for res in (nest_res, b2_res):
        assert res["spikes"] > 50
        assert res["run_s"] > 0 and res["build_s"] >= 0 and res["peak_rss_mb"] > 0
        assert res["spike_times"].shape == res["spike_ids"].shape == (res["spikes"],)
    assert nest_res["simulator"] == "nest" and b2_res["simulator"] == "brian2-numpy"
    assert abs(nest_res["spikes"] - b2_res["spikes"]) <= 0.03 * b2_res["spikes"]
    # NEST stamps a spike at the end of its step, Brian2 at the start: first spikes line up.
    first_nest = np.sort(nest_res["spike_times"])[:5] - net.dt
    first_b2 = np.sort(b2_res["spike_times"])[:5]
    np.testing.assert_allclose(first_nest, first_b2, atol=1e-6)


def test_run_in_subprocess_returns_json_result() -> None:
    pytest.importorskip("nest")
    from benchmarks import peers

    net = networks.cuba(n=200, seed=2, duration=20.0)
    res = peers.run_in_subprocess("nest", net, threads=1, return_spikes=True, timeout=120)
    direct = peers.run_nest(net, threads=1)
    assert res["spikes"] == direct["spikes"] == res["spike_ids"].shape[0]
    assert res["peak_rss_mb"] > 0 and res["net_build_s"] >= 0
    with pytest.raises(ValueError, match="expected one of"):
        peers.run_in_subprocess("no-such-runner", net)


def test_machine_microbench_tiny() -> None:
    pytest.importorskip("numba")
    from benchmarks import machine

    bw = machine.stream_bandwidth(size_mib=4, threads=1, repeats=1)
    for key in ("copy", "triad", "read"):
        assert bw[f"{key}_gbs_1t"] > 0 and bw[f"{key}_gbs_mt"] > 0
    sc = machine.scatter_add(1000, 4, n_events=20000, repeats=1)
    for key in ("uniform", "csr"):
        assert sc[f"{key}_events_per_s_1t"] > 0 and sc[f"{key}_events_per_s_mt"] > 0
    assert sc["buffer_mib"] == pytest.approx(1000 * 4 * 8 / 2**20)


def test_scatter_kernels_match_numpy_reference() -> None:
    pytest.importorskip("numba")
    from benchmarks import machine

    rng = np.random.default_rng(0)
    n_targets, n_slots = 50, 3
    indptr = np.arange(0, 6 * 8 + 1, 8, dtype=np.int64)
    targets = np.sort(rng.integers(0, n_targets, size=(6, 8)), axis=1).astype(np.int32).ravel()
    weights = rng.random(targets.shape[0])
    spikes = rng.integers(0, 6, size=40, dtype=np.int64)
    expected = np.zeros(n_slots * n_targets)
    for k, row in enumerate(spikes):
        sl = slice(indptr[row], indptr[row + 1])
        np.add.at(expected, (k % n_slots) * n_targets + targets[sl], weights[sl])
    args = (indptr, targets, weights, spikes, n_targets, n_slots)
    one = np.zeros_like(expected)
    machine._scatter_csr_1t(one, *args)
    many = np.zeros_like(expected)
    machine._scatter_csr_mt(many, *args, np.array([0, 17, 33, 50], dtype=np.int64))
    np.testing.assert_allclose(one, expected)
    np.testing.assert_allclose(many, expected)
