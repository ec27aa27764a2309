"""Connectors through the public API: the synapses the engine ends up with (CSR by source)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import snnsim as snn

DT = 0.1


def _net(n_pre: int = 20, n_post: int = 15, seed: int = 1, model=None):
    net = snn.Network(dt=DT, seed=seed, threads=1)
    a = net.add_population(n_pre, snn.LIF(), label="a")
    b = net.add_population(n_post, model or snn.LIF(), label="b")
    return net, a, b


def _weights(e):
    """Effective float32 weight of every synapse, whatever the storage (``w_mode``)."""
    if e.w_mode == 2:  # by receptor
        return e.w_table[e.syn_code & 1]
    return e.w_table[e.syn_weight] if e.w_mode == 1 else e.syn_weight


def _delays(e):
    """Delay of every synapse in steps (resolves ``delay_const``)."""
    return np.full(e.syn_code.size, e.delay_const) if e.delay_const else e.syn_delay


def _synapses(net):
    """Per synapse: global source, global target, receptor, weight, delay (steps)."""
    e = net.engine
    src = np.repeat(np.arange(e.n), np.diff(e.indptr))
    code = e.syn_code.astype(np.int64)
    return src, code // 2, code % 2, _weights(e), _delays(e)


def _pairs(net, a, b):
    src, tgt, _, _, _ = _synapses(net)
    return [(int(s) - a.start, int(t) - b.start) for s, t in zip(src, tgt, strict=True)]


def test_engine_layout_dtypes_and_sorted_rows():
    """CSR by source: int32 code = 2*target + receptor, weight by receptor, u8 delay, sorted."""
    net, a, b = _net()
    net.connect(a, b, snn.FixedProbability(0.5), weight=0.5, delay=0.3)
    net.connect(a, b, snn.FixedProbability(0.5), weight=-0.5, receptor="inh", delay=0.2)
    e = net.build()
    assert e.indptr.dtype == np.int64 and e.indptr.size == 36
    assert e.syn_code.dtype == np.int32
    assert e.w_mode == 2 and e.syn_weight.size == 0  # one weight per receptor
    np.testing.assert_array_equal(e.w_table, np.float32([0.5, -0.5]))
    assert e.delay_const == 0 and e.syn_delay.dtype == np.uint8
    for g in range(e.n):
        row = e.syn_code[e.indptr[g] : e.indptr[g + 1]]
        assert np.all(np.diff(row) >= 0)
    src, tgt, rec, w, d = _synapses(net)
    assert np.all((rec == 0) == (w > 0))
    assert np.all(d[rec == 0] == 3) and np.all(d[rec == 1] == 2)
    assert e.min_delay == 2
    assert np.all(src < 20) and np.all(tgt >= 20)


@pytest.mark.parametrize("allow_self", [True, False])
def test_all_to_all(allow_self):
    """AllToAll connects every pair once; allow_self=False drops exactly the diagonal."""
    net, a, b = _net()
    net.connect(a, b, snn.AllToAll(), weight=0.1)
    net.connect(a, a, snn.AllToAll(allow_self=allow_self), weight=0.2)
    net.build()
    src, tgt, _, w, _ = _synapses(net)
    ab = {(int(s), int(t)) for s, t, x in zip(src, tgt, w, strict=True) if x == np.float32(0.1)}
    aa = [(int(s), int(t)) for s, t, x in zip(src, tgt, w, strict=True) if x == np.float32(0.2)]
    assert ab == {(i, 20 + j) for i in range(20) for j in range(15)}
    want = {(i, j) for i in range(20) for j in range(20) if allow_self or i != j}
    assert len(aa) == len(want)
    assert set(aa) == want


def test_one_to_one_with_views_and_receptor():
    """OneToOne pairs position i of pre with position i of post (views), on the chosen receptor."""
    net, a, b = _net()
    net.connect(a[2:5], b[[7, 1, 4]], snn.OneToOne(), weight=-0.3, receptor="inh")
    net.build()
    _src, _tgt, rec, w, _ = _synapses(net)
    assert sorted(_pairs(net, a, b)) == [(2, 7), (3, 1), (4, 4)]
    assert np.all(rec == 1)
    np.testing.assert_array_equal(w, np.float32(-0.3))


def test_one_to_one_size_mismatch():
    """OneToOne between views of different sizes: ConnectivityError at connect, both sizes."""
    net, a, b = _net()
    with pytest.raises(snn.errors.ConnectivityError, match=r"3.*4"):
        net.connect(a[:3], b[:4], snn.OneToOne(), weight=0.1)


def test_fixed_probability_extremes():
    """FixedProbability(0) makes no synapse and FixedProbability(1) makes every pair."""
    net, a, b = _net()
    net.connect(a, b, snn.FixedProbability(0.0), weight=0.1)
    net.connect(b, a, snn.FixedProbability(1.0), weight=0.2)
    net.build()
    src, tgt, *_ = _synapses(net)
    assert sorted(zip(src.tolist(), tgt.tolist(), strict=True)) == [
        (20 + j, i) for j in range(15) for i in range(20)
    ]


def test_fixed_probability_statistics():
    """FixedProbability(p): total ~ Binomial(n_pre*n_post, p); no self when allow_self=False."""
    net, a, b = _net(300, 200)
    p = 0.1
    net.connect(a, b, snn.FixedProbability(p), weight=0.1)
    net.connect(a, a, snn.FixedProbability(p, allow_self=False), weight=0.2)
    net.build()
    src, tgt, _, w, _ = _synapses(net)
    n_ab = int((w == np.float32(0.1)).sum())
    mean, sd = 300 * 200 * p, math.sqrt(300 * 200 * p * (1 - p))
    assert abs(n_ab - mean) < 5 * sd
    aa = w == np.float32(0.2)
    assert not np.any(src[aa] == tgt[aa])
    mean, sd = 300 * 299 * p, math.sqrt(300 * 299 * p * (1 - p))
    assert abs(aa.sum() - mean) < 5 * sd
    # out-degrees are Binomial(n_post, p)
    out_deg = np.bincount(src[~aa], minlength=300)
    assert abs(out_deg.var() / (200 * p * (1 - p)) - 1.0) < 0.3
    assert len(set(zip(src.tolist(), tgt.tolist(), strict=True))) == src.size  # no multapses


def test_fixed_in_degree():
    """FixedInDegree(k): every postsynaptic neuron gets exactly k synapses from distinct sources."""
    net, a, b = _net(30, 25)
    net.connect(a, b, snn.FixedInDegree(7), weight=0.1)
    net.connect(a, a, snn.FixedInDegree(29, allow_self=False), weight=0.2)
    net.build()
    src, tgt, _, w, _ = _synapses(net)
    ab = w == np.float32(0.1)
    np.testing.assert_array_equal(np.bincount(tgt[ab] - 30, minlength=25), 7)
    assert len(set(zip(src[ab].tolist(), tgt[ab].tolist(), strict=True))) == 25 * 7
    aa = ~ab
    np.testing.assert_array_equal(np.bincount(tgt[aa], minlength=30), 29)
    assert not np.any(src[aa] == tgt[aa])


def test_fixed_in_degree_too_large():
    """FixedInDegree(k) with k above the number of available sources raises ConnectivityError."""
    net, a, _b = _net(5, 5)
    net.connect(a, a, snn.FixedInDegree(5, allow_self=False), weight=0.1)
    with pytest.raises(snn.errors.ConnectivityError, match="k <= 4"):
        net.build()


def test_fixed_out_degree():
    """FixedOutDegree(k): every presynaptic neuron makes k synapses onto distinct targets."""
    net, a, b = _net(30, 25)
    net.connect(a, b, snn.FixedOutDegree(9), weight=0.1)
    net.connect(a[5:], a, snn.FixedOutDegree(29, allow_self=False), weight=0.2)
    net.build()
    src, tgt, _, w, _ = _synapses(net)
    ab = w == np.float32(0.1)
    np.testing.assert_array_equal(np.bincount(src[ab], minlength=30), 9)
    assert len(set(zip(src[ab].tolist(), tgt[ab].tolist(), strict=True))) == 30 * 9
    aa = ~ab
    np.testing.assert_array_equal(np.bincount(src[aa], minlength=30), [0] * 5 + [29] * 25)
    assert not np.any(src[aa] == tgt[aa])


def test_fixed_total_number():
    """FixedTotalNumber(n) makes exactly n synapses in range, no self pair when excluded."""
    net, a, b = _net(30, 25)
    net.connect(a, b, snn.FixedTotalNumber(1000), weight=0.1)
    net.connect(a, a, snn.FixedTotalNumber(500, allow_self=False), weight=0.2)
    net.build()
    src, tgt, _, w, _ = _synapses(net)
    ab = w == np.float32(0.1)
    assert ab.sum() == 1000 and (~ab).sum() == 500
    assert src[ab].max() < 30 and tgt[ab].min() >= 30 and tgt[ab].max() < 55
    assert tgt[~ab].max() < 30
    assert not np.any(src[~ab] == tgt[~ab])


def test_from_list_weights_and_delays_follow_their_synapse():
    """FromList keeps (pre, post, weight, delay) together after sorting, multapses included."""
    net, a, b = _net()
    pre = np.array([4, 0, 4, 19, 4, 0])
    post = np.array([3, 14, 0, 2, 3, 1])
    w = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    d = np.array([0.1, 0.5, 1.0, 2.0, 0.3, 0.7])
    net.connect(a, b, snn.FromList(pre, post, weight=w, delay=d))
    net.build()
    src, tgt, _, ws, ds = _synapses(net)
    got = sorted(
        (int(s), int(t) - 20, round(float(x), 6), int(y))
        for s, t, x, y in zip(src, tgt, ws, ds, strict=True)
    )
    want = sorted(
        (int(i), int(j), round(float(x), 6), round(y / DT))
        for i, j, x, y in zip(pre, post, w, d, strict=True)
    )
    assert got == want
    # multapses (4 -> 3) keep their list order
    sel = (src == 4) & (tgt == 23)
    np.testing.assert_array_equal(ws[sel], np.float32([0.1, 0.5]))


def test_from_list_with_views():
    """FromList indices are positions in the views (pre=a[[5, 1, 3]], post=b[10:])."""
    net, a, b = _net()
    net.connect(a[[5, 1, 3]], b[10:], snn.FromList([0, 1, 2, 2], [0, 4, 1, 1]), weight=0.5)
    net.build()
    assert sorted(_pairs(net, a, b)) == [(1, 14), (3, 11), (3, 11), (5, 10)]


def test_weight_per_synapse_array_and_matrix():
    """Per-synapse (pre, then post order) and (n_pre, n_post) matrix values land on their pair."""
    net, a, b = _net(6, 4)
    n_syn = 6 * 4
    net.connect(a, b, snn.AllToAll(), weight=np.arange(1, n_syn + 1) * 0.01)
    mat = np.arange(24, dtype=float).reshape(6, 4) * 0.5 + 0.25
    net.connect(a[::-1], b, snn.FixedProbability(0.5), weight=mat, delay=0.2, receptor="exc")
    dmat = np.arange(1, 25, dtype=float).reshape(6, 4) * DT
    net.connect(a, b, snn.FixedProbability(0.7), weight=0.001, delay=dmat)
    net.build()
    src, tgt, _, w, d = _synapses(net)
    third = w == np.float32(0.001)
    first = (w > 0.005) & (w < 0.245)
    second = w >= 0.25
    assert first.sum() == n_syn
    assert second.sum() > 0 and third.sum() > 0
    for s, t, x in zip(src[first], tgt[first], w[first], strict=True):
        assert x == np.float32(((s * 4) + (t - 6) + 1) * 0.01)
    for s, t, x in zip(src[second], tgt[second], w[second], strict=True):
        assert x == np.float32(mat[5 - s, t - 6])  # pre positions are reversed by the view
    np.testing.assert_array_equal(d[second], 2)
    for s, t, y in zip(src[third], tgt[third], d[third], strict=True):
        assert y == s * 4 + (t - 6) + 1


def test_default_delay_is_one_step():
    """Without a delay, synapses get one time step."""
    net, a, b = _net()
    net.connect(a, b, snn.AllToAll(), weight=0.1)
    e = net.build()
    assert e.delay_const == 1 and e.syn_delay.size == 0  # one delay for all: not stored
    assert np.all(_delays(e) == 1) and e.n_synapses == 300
    assert e.min_delay == 1


def _dist_weights(seed: int, dist) -> np.ndarray:
    net, a, b = _net(40, 30, seed=seed)
    net.connect(a, b, snn.AllToAll(), weight=dist, delay=snn.Uniform(0.1, 2.0), round_delays=True)
    net.build()
    return _weights(net.engine).copy(), _delays(net.engine).copy()


@pytest.mark.parametrize(
    "dist",
    [snn.Uniform(0.1, 0.5), snn.Normal(0.3, 0.2, low=0.0, high=0.6)],
    ids=["uniform", "normal"],
)
def test_distributions_are_seeded(dist):
    """Distributed weights/delays: in bounds; same seed same values, other seed different."""
    w1, d1 = _dist_weights(5, dist)
    w2, d2 = _dist_weights(5, dist)
    w3, d3 = _dist_weights(6, dist)
    lo, hi = dist.bounds()
    assert w1.min() >= np.float32(lo) and w1.max() <= np.float32(hi)
    assert d1.min() >= 1 and d1.max() <= 20
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(d1, d2)
    assert not np.array_equal(w1, w3)
    assert not np.array_equal(d1, d3)
    assert np.unique(w1).size > 1000  # really random, not one value
    if isinstance(dist, snn.Uniform):
        assert abs(w1.mean() - 0.3) < 0.01


def test_from_list_keeps_compact_dtypes_without_copies(rng: np.random.Generator) -> None:
    """Issue 3: int32 indices and float32 values are used as given (no 8-byte copies)."""
    pre = np.sort(rng.integers(0, 50, 400)).astype(np.int32)
    post = rng.integers(0, 60, 400).astype(np.int32)
    post = post[np.lexsort((post, pre))]
    w = rng.uniform(0.1, 1.0, 400).astype(np.float32)
    d = (rng.integers(1, 20, 400) * 0.1).astype(np.float32)
    conn = snn.FromList(pre, post, w, d)
    assert conn.pre is pre or np.shares_memory(conn.pre, pre)
    assert conn.weight is not None and conn.weight.dtype == np.float32
    assert conn.order is None
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(50, snn.LIF())
    b = net.add_population(60, snn.LIF())
    net.connect(a, b, conn, round_delays=True)
    net.build()
    ref = snn.Network(dt=0.1, seed=1)
    a2 = ref.add_population(50, snn.LIF())
    b2 = ref.add_population(60, snn.LIF())
    ref.connect(
        a2, b2, snn.FromList(pre.astype(np.int64), post, w.astype(np.float64), d), round_delays=True
    )
    ref.build()
    np.testing.assert_array_equal(net.engine.syn_code, ref.engine.syn_code)
    with pytest.raises(snn.errors.ConnectivityError, match="round_delays=True"):
        bad = snn.Network(dt=0.1, seed=1)
        a3 = bad.add_population(50, snn.LIF())
        b3 = bad.add_population(60, snn.LIF())
        bad.connect(a3, b3, snn.FromList(pre, post, w, np.full(400, 0.3, np.float32)))
        bad.build()
