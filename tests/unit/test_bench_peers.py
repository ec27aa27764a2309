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

from benchmarks import common, networks  # noqa: E402
from benchmarks.networks import NetworkArrays, network_from_spec  # noqa: E402

SMALL = {
    "cuba": {"n": 400, "seed": 3, "duration": 50.0},
    "cuba_scaled": {"n": 1000, "seed": 3, "duration": 50.0},
    "event_dominated": {"n": 500, "in_degree": 100, "seed": 3, "duration": 50.0},
    "sparse_activity": {"n": 2000, "seed": 3, "duration": 50.0},
    "microcircuit": {"scale": 0.02, "seed": 3, "duration": 50.0},
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
        assert arr.dtype == np.int32 and arr.shape == (m,)
        assert arr.min() >= 0 and arr.max() < net.n
    assert net.weights.dtype == np.float32 and net.weights.shape == (m,)
    assert net.delay_steps.dtype == np.uint8 and net.delay_steps.min() >= 1
    assert net.v0.dtype == np.float64 and net.v0.shape == (net.n,)
    key = net.sources.astype(np.int64) * net.n + net.targets
    assert np.all(np.diff(key) >= 0), "sorted by (source, target)"
    exc = net.excitatory_neurons()[net.sources]
    assert np.all(net.weights[exc] >= 0) and np.all(net.weights[~exc] <= 0)
    np.testing.assert_allclose(net.delays_ms(), net.delay_steps * net.dt)
    assert net.i_offset_array().shape == (net.n,)
    assert net.bytes() == m * 13 + net.n * 8 + getattr(net.params["i_offset"], "nbytes", 0)
    assert not net.sources.flags.writeable
    assert sum(p.size for p in net.populations) == net.n
    net.check()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_builder_is_deterministic_and_saves_identically(name: str, tmp_path: Path) -> None:
    a, b = _build(name), _build(name)
    assert a.spec is not None
    c = network_from_spec(a.spec)
    loaded = NetworkArrays.load(a.save(tmp_path / "net"))
    for other in (b, c, loaded):
        for field in ("sources", "targets", "weights", "delay_steps", "v0"):
            np.testing.assert_array_equal(getattr(a, field), getattr(other, field))
        np.testing.assert_array_equal(a.i_offset_array(), other.i_offset_array())
        assert other.populations == a.populations and other.poisson == a.poisson
    assert loaded.fingerprint() == a.fingerprint() == c.fingerprint()
    assert isinstance(loaded.sources, np.memmap)
    d = networks.BUILDERS[name](**{**SMALL[name], "seed": 4})
    assert d.fingerprint() != a.fingerprint()


def test_release_synapses_keeps_the_count() -> None:
    net = _build("cuba")
    m = net.n_synapses
    net.release_synapses()
    assert net.n_synapses == m and net.sources.size == 0 and net.weights.dtype == np.float32


def test_cuba_parameters_and_degree() -> None:
    net = networks.cuba(n=4000, seed=0, duration=10.0)
    assert net.n_exc == 3200
    assert abs(net.n_synapses / (4000 * 4000) - 0.02) < 0.001
    np.testing.assert_allclose(np.unique(net.weights), [-0.45, 0.081], rtol=1e-7)
    np.testing.assert_array_equal(net.delay_steps, 1)
    scaled = networks.cuba_scaled(16000, seed=0, duration=10.0)
    assert abs(scaled.n_synapses / scaled.n - 80) < 1


def test_sparse_activity_delays_cover_the_grid() -> None:
    net = networks.sparse_activity(n=2000, seed=1, duration=10.0)
    assert net.delay_steps.min() == 1 and net.delay_steps.max() == 200
    i_off = net.i_offset_array()
    rheobase = (
        (net.params["v_thresh"] - net.params["v_rest"]) * net.params["cm"] / net.params["tau_m"]
    )
    assert 0 < np.mean(i_off > rheobase) < 0.05
    np.testing.assert_allclose(i_off, np.round(i_off, 3))  # 1 pA grid


def test_microcircuit_matches_the_published_model() -> None:
    sizes, counts = networks.microcircuit_counts(1.0)
    assert sizes.sum() == 77169
    assert abs(counts.sum() / 1e6 - 298.88) < 0.01  # K = log(1-p)/log(1-1/(Npre Npost))
    assert networks.psc_over_psp(0.25, 10.0, 0.5) * 0.15 == pytest.approx(0.08781, abs=1e-5)
    net = networks.microcircuit(0.1, seed=0, duration=10.0)
    assert net.n == 7717 and abs(net.n_synapses - 2988807) < 100
    assert [p.label for p in net.populations] == list(networks.PD_POPULATIONS)
    assert [d.n_inputs for d in net.poisson] == [160, 150, 210, 190, 200, 190, 290, 210]
    w_ext = 0.08781 / np.sqrt(0.1)
    assert all(d.weight == pytest.approx(w_ext, rel=1e-3) for d in net.poisson)
    # weights: normal around the scaled means; L4e -> L2/3e doubled; inhibitory g = -4
    l23e, l4e, l23i = net.populations[0], net.populations[2], net.populations[1]
    src, tgt, w = net.sources, net.targets, net.weights
    e_to_e = (src >= l4e.start) & (src < l4e.stop) & (tgt < l23e.stop)
    assert np.mean(w[e_to_e]) == pytest.approx(2 * w_ext, rel=0.01)
    from_i = (src >= l23i.start) & (src < l23i.stop)
    assert np.mean(w[from_i]) == pytest.approx(-4 * w_ext, rel=0.01)
    assert np.std(w[from_i]) / -np.mean(w[from_i]) == pytest.approx(0.1, rel=0.05)
    # delays: exc mean ~1.5 ms, inh ~0.75 ms (redrawn below dt/2, so slightly above), >= dt
    exc = net.excitatory_neurons()[src]
    assert 1.5 < np.mean(net.delays_ms()[exc]) < 1.65
    assert 0.75 < np.mean(net.delays_ms()[~exc]) < 0.85
    assert net.delay_steps.min() == 1
    np.testing.assert_allclose(np.mean(net.v0), -58.0, atol=0.5)
    dc = net.i_offset_array()
    assert np.all(dc > 0) and len(np.unique(dc)) == 8
    full = networks.microcircuit(0.02, seed=0, duration=10.0)
    assert full.reference_rates_hz == networks.PD_REFERENCE_RATES_HZ


def test_spike_summary_counts_populations_and_fingerprints() -> None:
    net = networks.microcircuit(0.02, seed=0, duration=200.0, transient=100.0)
    starts = [p.start for p in net.populations]
    times = np.array([10.0, 150.0, 150.0, 199.9])
    ids = np.array([starts[0], starts[0], starts[3], starts[7]])
    s = common.spike_summary(net, times, ids)
    assert s["pop_spikes"] == [2, 0, 0, 1, 0, 0, 0, 1]
    assert s["pop_spikes_window"] == [1, 0, 0, 1, 0, 0, 0, 1]
    assert s["rate_window_ms"] == [100.0, 200.0]
    order = [3, 1, 0, 2]
    assert common.spike_summary(net, times[order], ids[order])["spike_hash"] == s["spike_hash"]
    assert common.spike_summary(net, times + 0.1, ids)["spike_hash"] != s["spike_hash"]


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
    with pytest.raises(ValueError, match="scale"):
        networks.microcircuit(1.5)


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
        assert sum(res["pop_spikes"]) == res["spikes"]
    assert nest_res["simulator"] == "nest" and b2_res["simulator"] == "brian2-numpy"
    # Same semantics (Brian2 refractory = t_ref + dt): the same spikes. NEST stamps a spike at
    # the end of its step, Brian2 at the start.
    assert nest_res["spikes"] == b2_res["spikes"]
    a = np.lexsort((nest_res["spike_ids"], nest_res["spike_times"]))
    b = np.lexsort((b2_res["spike_ids"], b2_res["spike_times"]))
    np.testing.assert_array_equal(nest_res["spike_ids"][a], b2_res["spike_ids"][b])
    np.testing.assert_allclose(nest_res["spike_times"][a] - net.dt, b2_res["spike_times"][b])


def test_poisson_drive_runs_in_nest_and_brian2() -> None:
    pytest.importorskip("brian2")
    pytest.importorskip("nest")
    from benchmarks import peers

    net = networks.microcircuit(0.02, seed=1, duration=100.0, transient=20.0)
    for res in (peers.run_nest(net), peers.run_brian2_runtime(net, target="numpy")):
        assert res["spikes"] > 0 and len(res["pop_spikes_window"]) == 8
        assert res["rate_window_ms"] == [20.0, 100.0]


def test_run_in_subprocess_returns_json_result() -> None:
    pytest.importorskip("nest")
    from benchmarks import peers

    net = networks.cuba(n=200, seed=2, duration=20.0)
    res = peers.run_in_subprocess("nest", net, threads=1, return_spikes=True, timeout=120)
    direct = peers.run_nest(net, threads=1)
    assert res["spikes"] == direct["spikes"] == res["spike_ids"].shape[0]
    assert res["peak_rss_mb"] > 0 and res["net_load_s"] >= 0
    assert res["spike_hash"] == direct["spike_hash"]
    with pytest.raises(ValueError, match="expected one of"):
        peers.run_in_subprocess("no-such-runner", net)


def test_child_failure_is_reported_with_a_reason(tmp_path: Path) -> None:
    net = networks.cuba(n=100, seed=2, duration=10.0)
    path = net.save(tmp_path / "net")
    with pytest.raises(common.ChildError) as info:
        common.run_child("benchmarks.snnsim_runner", "snnsim", path, {"threads": 0})
    assert "threads must be >= 1" in info.value.reason
    with pytest.raises(common.ChildError, match="unknown runner"):
        common.run_child("benchmarks.snnsim_runner", "nope", path, {})


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
