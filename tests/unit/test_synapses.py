"""build_synapses against a slow NumPy reference of the assembly, and the compact layout.

The reference is the straightforward algorithm: each projection's CSR from its connector,
its values from ``Distribution.sample`` / arrays / matrices, then concatenation and a global
stable sort by (source, code). ``build_synapses`` must give the same synapses, in the same
order, with the same float32 weights and the same delays, whether compressed or not.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest
from snnsim.kernels import connectivity as kc
from snnsim.kernels.random_streams import stream_key

import snnsim as snn
from snnsim.connectors import Connector
from snnsim.errors import ConnectivityError
from snnsim.streams import STREAM_CONNECT, STREAM_DELAY, STREAM_WEIGHT, stream_id
from snnsim.synapses import (
    W_BY_RECEPTOR,
    W_INDEXED,
    W_VALUES,
    Synapses,
    build_synapses,
    bytes_per_synapse,
)

sys.path.insert(0, str(Path(__file__).parents[1]))
import naive

DT = 0.1


# ------------------------------------------------------------------------ reference
def _key(seed: int, family: int, index: int) -> np.uint64:
    return np.uint64(stream_key(np.uint64(seed), np.uint64(stream_id(family, index))))


def _values(spec: Any, n_syn: int, key: np.uint64, pre_pos, post_pos) -> np.ndarray:
    if isinstance(spec, snn.Distribution):
        return spec.sample(key, n_syn)
    arr = np.asarray(spec, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n_syn, float(arr))
    if arr.ndim == 1:
        return arr.copy()
    return arr[pre_pos, post_pos]


def _receptor(proj) -> int:
    model = proj.post.model
    if not model.signed_receptors:
        return 0
    return model.receptors.index(proj.receptor or model.receptors[0])


def reference(net: snn.Network) -> dict[str, Any]:
    """Naive assembly: per-projection arrays, concatenated, stably sorted by (source, code)."""
    n = sum(p.size for p in net.populations)
    src_p, code_p, w_p, d_p = [], [], [], []
    for proj in net.projections:
        conn = proj.connector
        pre_gid, post_gid = proj.pre.global_ids, proj.post.global_ids
        key = _key(net.seed, STREAM_CONNECT, proj.index)
        if isinstance(conn, snn.FixedTotalNumber):  # the historical path: draw, then lexsort
            pre = np.empty(conn.n, dtype=np.int64)
            post = np.empty(conn.n, dtype=np.int64)
            kc.fixed_total_number(
                key, pre_gid.size, post_gid.size, pre_gid, post_gid, conn.allow_self, pre, post
            )
            order = np.lexsort((post, pre))
            pre_pos, post_pos = pre[order], post[order]
        elif isinstance(conn, snn.FromList):
            order = np.lexsort((conn.post, conn.pre))
            pre_pos, post_pos = conn.pre[order], conn.post[order]
        else:
            indptr, post_pos = conn.generate(key, pre_gid, post_gid)
            pre_pos = np.repeat(np.arange(pre_gid.size), np.diff(indptr))
        n_syn = post_pos.size
        if isinstance(conn, snn.FromList) and conn.weight is not None:
            w = conn.weight[order]
        else:
            wkey = _key(net.seed, STREAM_WEIGHT, proj.index)
            w = _values(proj.weight, n_syn, wkey, pre_pos, post_pos)
        if isinstance(conn, snn.FromList) and conn.delay is not None:
            d = conn.delay[order]
        elif proj.delay is None:
            d = np.full(n_syn, net.dt)
        else:
            dkey = _key(net.seed, STREAM_DELAY, proj.index)
            d = _values(proj.delay, n_syn, dkey, pre_pos, post_pos)
        src_p.append(pre_gid[pre_pos])
        code_p.append(2 * post_gid[post_pos] + _receptor(proj))
        w_p.append(w)
        d_p.append(np.rint(d / net.dt).astype(np.int64))
    src = np.concatenate(src_p)
    code = np.concatenate(code_p)
    order = np.argsort(src * (2 * n) + code, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    delay = np.concatenate(d_p)[order]
    return {
        "indptr": indptr,
        "code": code[order].astype(np.int32),
        "weight": np.concatenate(w_p)[order].astype(np.float32),
        "delay": delay,
        "min_delay": int(delay.min()),
        "max_delay": int(delay.max()),
    }


def build(net: snn.Network, compress: bool = True) -> Synapses:
    n = sum(p.size for p in net.populations)
    return build_synapses(net, np.uint64(net.seed), n, compress=compress)


def assert_matches(syn: Synapses, ref: dict[str, Any]) -> None:
    np.testing.assert_array_equal(syn.indptr, ref["indptr"])
    np.testing.assert_array_equal(syn.code, ref["code"])
    # bit-identical float32 weights (-0.0 and 0.0 distinguished)
    np.testing.assert_array_equal(
        syn.weight_values().view(np.uint32), ref["weight"].view(np.uint32)
    )
    np.testing.assert_array_equal(syn.delay_values().astype(np.int64), ref["delay"])
    assert (syn.min_delay, syn.max_delay) == (ref["min_delay"], ref["max_delay"])


# ------------------------------------------------------------------------- networks
def net_mixed(seed: int) -> snn.Network:
    """Every connector, views in scrambled order, several projections per source row."""
    rng = np.random.default_rng(seed)
    net = snn.Network(dt=DT, seed=seed, threads=1)
    a = net.add_population(40, snn.LIF(), label="a")
    b = net.add_population(30, snn.LIF(), label="b")
    c = net.add_population(25, snn.LIFDelta(), label="c")
    net.connect(a, b, snn.FixedProbability(0.3), weight=0.5, delay=0.2)
    net.connect(
        a, b, snn.FixedProbability(0.2), weight=snn.Normal(-0.3, 0.1, high=0.0),
        receptor="inh", delay=snn.Uniform(0.1, 2.0), round_delays=True,
    )  # fmt: skip
    net.connect(
        a, a, snn.AllToAll(allow_self=False), weight=snn.Uniform(0.0, 1.0),
        delay=snn.Normal(1.0, 0.5, low=0.1), round_delays=True,
    )  # fmt: skip
    net.connect(a[[5, 2, 9, 30]], b[[7, 1, 4, 20]], snn.OneToOne(), weight=-0.3, receptor="inh")
    net.connect(
        b[::-1], a[rng.permutation(40)[:20]], snn.FixedInDegree(5, allow_self=False),
        weight=rng.uniform(0, 1, size=(30, 20)), delay=rng.integers(1, 9, size=(30, 20)) * DT,
    )  # fmt: skip
    net.connect(b, b, snn.FixedOutDegree(7, allow_self=False), weight=0.25)
    net.connect(
        a, b, snn.FixedTotalNumber(300), weight=snn.Normal(0.2, 0.05, low=0.0),
        delay=snn.Normal(0.5, 0.3, low=0.1), round_delays=True,
    )  # fmt: skip
    net.connect(b, b, snn.FixedTotalNumber(200, allow_self=False), weight=-0.1, receptor="inh")
    pre, post = rng.integers(0, 40, 150), rng.integers(0, 30, 150)
    net.connect(
        a, b, snn.FromList(pre, post, weight=rng.uniform(0, 1, 150),
                           delay=rng.integers(1, 20, 150) * DT),
    )  # fmt: skip
    o = np.lexsort((post, pre))
    net.connect(a, b, snn.FromList(pre[o], post[o]), weight=np.linspace(0.0, 1.0, 150), delay=0.3)
    net.connect(a, c, snn.FixedProbability(0.2), weight=snn.Normal(0.0, 1.0))
    net.connect(b[rng.permutation(30)], c, snn.FixedOutDegree(3), weight=-0.2)
    return net


def net_constant(seed: int) -> snn.Network:
    """CUBA-like: constant weights per receptor, one delay: the 4-bytes-per-synapse layout."""
    net = snn.Network(dt=DT, seed=seed, threads=1)
    e = net.add_population(160, snn.LIF(), label="e")
    i = net.add_population(40, snn.LIF(), label="i")
    for pre, w, rec in ((e, 0.08, "exc"), (i, -0.45, "inh")):
        for post in (e, i):
            net.connect(pre, post, snn.FixedProbability(0.1), weight=w, delay=DT, receptor=rec)
    return net


def net_many_weights(seed: int) -> snn.Network:
    """More than 65536 distinct weights (float32 storage) and delays above 255 steps."""
    net = snn.Network(dt=DT, seed=seed, threads=1)
    a = net.add_population(300, snn.LIF(), label="a")
    net.connect(
        a, a, snn.AllToAll(), weight=snn.Uniform(0.0, 1.0),
        delay=snn.Normal(20.0, 10.0, low=0.1), round_delays=True,
    )  # fmt: skip
    return net


def net_long_delays(seed: int) -> snn.Network:
    """A few distinct array weights (table of 300 -> uint16 indices), fixed long delays."""
    rng = np.random.default_rng(seed)
    net = snn.Network(dt=DT, seed=seed, threads=1)
    a = net.add_population(50, snn.LIF(), label="a")
    levels = np.round(rng.uniform(0.0, 3.0, 300), 3)
    conn = snn.FixedOutDegree(20)
    net.connect(a, a, conn, weight=rng.choice(levels, 50 * 20), delay=40.0)
    net.connect(a, a, snn.OneToOne(), weight=levels[0], delay=1.0)
    return net


def net_two_exc_weights(seed: int) -> snn.Network:
    """CUBA-like, but the excitatory projections differ: a table of 3 weights, one delay."""
    net = net_constant(seed)
    e, i = net.populations
    net.projections.clear()
    for pre, post, w, rec in ((e, e, 0.08, "exc"), (e, i, 0.1, "exc"), (i, e, -0.45, "inh")):
        net.connect(pre, post, snn.FixedProbability(0.1), weight=w, delay=DT, receptor=rec)
    return net


def net_receptor_unsorted(seed: int) -> snn.Network:
    """Weight by receptor, two delays, rows fed by several projections out of code order."""
    net = snn.Network(dt=DT, seed=seed, threads=1)
    e = net.add_population(50, snn.LIF(), label="e")
    i = net.add_population(20, snn.LIF(), label="i")
    net.connect(e, i, snn.FixedProbability(0.3), weight=0.1, delay=0.5)
    net.connect(e, e, snn.FixedProbability(0.2), weight=0.1, delay=0.2)
    net.connect(e, e, snn.FixedProbability(0.2), weight=0.1, delay=0.7)  # multapses
    net.connect(i, e, snn.FixedProbability(0.3), weight=-0.4, delay=0.2, receptor="inh")
    net.connect(e[::-1], e, snn.OneToOne(), weight=-0.4, delay=0.5, receptor="inh")
    return net


def net_receptor_one_delay_unsorted(seed: int) -> snn.Network:
    """Weight by receptor, one delay, given as matrices and arrays; unsorted rows."""
    net = snn.Network(dt=DT, seed=seed, threads=1)
    e = net.add_population(50, snn.LIF(), label="e")
    net.connect(e[25:], e[:25], snn.FixedProbability(0.3), weight=0.1, delay=0.3)
    w, d = np.full((50, 50), 0.1), np.full((50, 50), 0.3)
    net.connect(e, e, snn.FixedProbability(0.2), weight=w, delay=d)
    pre = np.arange(50).repeat(3)
    post = (pre * 7 + np.tile([1, 2, 3], 50)) % 50
    net.connect(
        e, e, snn.FromList(pre, post, weight=np.full(150, -0.2), delay=np.full(150, 0.3)),
        receptor="inh",
    )  # fmt: skip
    return net


NETS = {
    "mixed": net_mixed,
    "constant": net_constant,
    "many_weights": net_many_weights,
    "long_delays": net_long_delays,
    "two_exc_weights": net_two_exc_weights,
    "receptor_unsorted": net_receptor_unsorted,
    "receptor_one_delay_unsorted": net_receptor_one_delay_unsorted,
}
#: Storage each network gets when compressed: (w_mode, delay_const).
LAYOUTS = {
    "mixed": (W_INDEXED, 0),
    "constant": (W_BY_RECEPTOR, 1),
    "many_weights": (W_VALUES, 0),
    "long_delays": (W_INDEXED, 0),
    "two_exc_weights": (W_INDEXED, 1),
    "receptor_unsorted": (W_BY_RECEPTOR, 0),
    "receptor_one_delay_unsorted": (W_BY_RECEPTOR, 3),
}


@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "plain"])
@pytest.mark.parametrize("name", list(NETS))
def test_matches_reference(name: str, compress: bool, seed: int) -> None:
    """Same synapses, order within rows, float32 weights and delays as the naive assembly."""
    net = NETS[name](seed % 1000)
    syn = build(net, compress)
    assert_matches(syn, reference(net))
    rows = np.repeat(np.arange(syn.indptr.size - 1), np.diff(syn.indptr))
    assert np.all((np.diff(syn.code) >= 0) | (np.diff(rows) > 0))  # ascending within rows
    assert (syn.w_mode, syn.delay_const) == (LAYOUTS[name] if compress else (W_VALUES, 0))


@pytest.mark.parametrize("name", ["receptor_unsorted", "receptor_one_delay_unsorted"])
def test_receptor_networks_need_row_merges(name: str, seed: int) -> None:
    """The by-receptor test networks do exercise sort_rows (payload-less merges)."""
    from snnsim.kernels import assembly as ka

    net = NETS[name](seed % 1000)
    plain = build(net, compress=False)
    assert plain.code.size > 0
    # the same projections written in order, without the merge, leave unsorted rows
    rows = np.repeat(np.arange(plain.indptr.size - 1), np.diff(plain.indptr))
    assert np.all((np.diff(plain.code) >= 0) | (np.diff(rows) > 0))
    shuffled = plain.code.copy()
    for r in range(plain.indptr.size - 1):
        a, b = plain.indptr[r], plain.indptr[r + 1]
        shuffled[a:b] = shuffled[a:b][::-1]
    assert not ka.rows_sorted(plain.indptr, shuffled)
    before = shuffled.copy()
    perm = np.empty(shuffled.size, dtype=np.int32)
    ka.sort_rows(plain.indptr, shuffled, perm)
    np.testing.assert_array_equal(shuffled, plain.code)
    # the permutation carries any payload along: applied to the old codes it gives the new
    payload = before.astype(np.int64)
    ka.permute_rows(plain.indptr, perm, payload)
    np.testing.assert_array_equal(payload, shuffled)


def test_compression_layouts(seed: int) -> None:
    """Weight by receptor / table + uint8/uint16 indices; constant or uint8/uint16 delays."""
    syn = build(net_constant(seed % 1000))
    assert syn.w_mode == W_BY_RECEPTOR and syn.delay_const == 1
    assert syn.weight.dtype == np.uint8 and syn.weight.size == 0
    assert syn.delay.dtype == np.uint8 and syn.delay.size == 0
    assert syn.w_table.dtype == np.float32
    np.testing.assert_array_equal(syn.w_table, np.float32([0.08, -0.45]))  # exc, inh
    assert (syn.min_delay, syn.max_delay) == (1, 1)
    assert syn.code.dtype == np.int32 and syn.indptr.dtype == np.int64
    assert syn.nbytes() == syn.indptr.nbytes + 4 * syn.code.size + syn.w_table.nbytes

    syn = build(net_two_exc_weights(seed % 1000))
    assert syn.w_mode == W_INDEXED and syn.weight.dtype == np.uint8
    np.testing.assert_array_equal(syn.w_table, np.float32([-0.45, 0.08, 0.1]))
    assert syn.delay_const == 1 and syn.delay.size == 0
    assert syn.nbytes() == syn.indptr.nbytes + 5 * syn.code.size + syn.w_table.nbytes

    syn = build(net_receptor_unsorted(seed % 1000))
    assert syn.w_mode == W_BY_RECEPTOR and syn.delay_const == 0
    assert syn.delay.dtype == np.uint8 and (syn.min_delay, syn.max_delay) == (2, 7)

    syn = build(net_long_delays(seed % 1000))
    assert syn.w_mode == W_INDEXED
    assert syn.weight.dtype == np.uint16 and 256 < syn.w_table.size <= 300
    assert syn.delay.dtype == np.uint16 and syn.max_delay == 400
    assert np.all(np.diff(syn.w_table) > 0)

    syn = build(net_many_weights(seed % 1000))
    assert syn.w_mode == W_VALUES
    assert syn.weight.dtype == np.float32 and syn.w_table.size == 0
    assert syn.delay.dtype == np.uint16 and syn.max_delay > 255  # widened after the fact

    plain = build(net_constant(seed % 1000), compress=False)
    assert (plain.w_mode, plain.delay_const) == (W_VALUES, 0)
    assert plain.weight.dtype == np.float32 and plain.w_table.size == 0
    assert plain.weight.size == plain.code.size
    assert plain.delay.dtype == np.uint16 and plain.delay.size == plain.code.size


def test_weight_by_receptor_edge_cases() -> None:
    """A receptor without synapses gets 0.0; one receptor, long constant delays; signed zeros."""
    net = snn.Network(dt=DT, seed=4, threads=1)
    a = net.add_population(30, snn.LIF(), label="a")
    net.connect(a, a, snn.FixedProbability(0.3), weight=0.2, delay=40.0)
    net.connect(a[:10], a, snn.AllToAll(), weight=np.full(300, 0.2), delay=np.full(300, 40.0))
    syn = build(net)
    assert (syn.w_mode, syn.delay_const) == (W_BY_RECEPTOR, 400)
    np.testing.assert_array_equal(syn.w_table, np.float32([0.2, 0.0]))
    np.testing.assert_array_equal(syn.delay_values(), np.full(syn.code.size, 400, np.uint16))
    assert (syn.min_delay, syn.max_delay) == (400, 400)
    assert_matches(syn, reference(net))

    net = snn.Network(dt=DT, seed=5, threads=1)
    d = net.add_population(20, snn.LIFDelta(), label="d")
    net.connect(d, d, snn.FixedProbability(0.5), weight=-0.0, delay=0.1)
    syn = build(net)
    assert syn.w_mode == W_BY_RECEPTOR
    assert syn.w_table.view(np.uint32).tolist() == [0x80000000, 0]
    assert_matches(syn, reference(net))
    net.connect(d, d, snn.FixedProbability(0.5), weight=0.0, delay=0.2)
    syn = build(net)  # -0.0 and 0.0 on one receptor: a table, per-synapse delays
    assert (syn.w_mode, syn.delay_const) == (W_INDEXED, 0)
    assert_matches(syn, reference(net))


def test_invalid_values_still_checked_when_not_stored() -> None:
    """Weights and delays that are not stored per synapse are validated all the same.

    connect refuses these values already; the build checks them again for descriptions
    that did not come through connect (the values are put on the projection directly).
    """
    for kwargs, match in (
        ({"weight": -0.1, "delay": 0.1}, "excitatory weights must be >= 0"),
        ({"weight": 0.1, "delay": 0.15}, "not a multiple of dt"),
        ({"weight": np.full((10, 10), np.nan), "delay": 0.1}, "finite"),
        ({"weight": snn.Uniform(0.0, 0.1), "delay": 0.15}, "not a multiple of dt"),
        ({"weight": np.full((10, 10), -0.1), "delay": 0.1}, "excitatory weights must be >= 0"),
        ({"weight": 0.1, "delay": np.full((10, 10), 0.0)}, "below dt"),
    ):
        net = snn.Network(dt=DT, seed=1, threads=1)
        a = net.add_population(10, snn.LIF(), label="a")
        proj = net.connect(a, a, snn.AllToAll(), weight=0.1)
        proj.weight, proj.delay = kwargs["weight"], kwargs["delay"]
        with pytest.raises(ConnectivityError, match=match):
            build(net)


def test_synapses_layout_is_checked() -> None:
    """An inconsistent Synapses (sizes against w_mode / delay_const) is refused."""
    ip = np.array([0, 2], dtype=np.int64)
    code = np.array([0, 2], dtype=np.int32)
    u8 = np.zeros(2, dtype=np.uint8)
    none = np.zeros(0, dtype=np.uint8)
    table = np.float32([0.5, -0.5])
    ok = Synapses(ip, code, none, none, 3, 3, table, W_BY_RECEPTOR, 3)
    np.testing.assert_array_equal(ok.weight_values(), np.float32([0.5, 0.5]))
    np.testing.assert_array_equal(ok.delay_values(), [3, 3])
    for args in (
        (u8, none, table, W_BY_RECEPTOR, 3),  # weights stored in mode 2
        (none, none, table[:1], W_BY_RECEPTOR, 3),  # table of 1
        (none, u8, table, W_BY_RECEPTOR, 3),  # delays stored with delay_const
        (none, none, table, W_BY_RECEPTOR, 0),  # no delays at all
        (none, none, table, 3, 3),  # unknown mode
        (u8, u8, np.zeros(0, np.float32), W_INDEXED, 0),  # indices without a table
        (u8.astype(np.float32), u8, table, W_VALUES, 0),  # values with a table
        (none, none, table, W_BY_RECEPTOR, 70000),
    ):
        with pytest.raises(ValueError, match="inconsistent layout"):
            Synapses(ip, code, args[0], args[1], 1, 1, args[2], args[3], args[4])


def test_bytes_per_synapse_estimate(seed: int) -> None:
    """The memory estimate follows the storage: 4 B for CUBA, more otherwise, never less."""
    assert bytes_per_synapse(net_constant(seed % 1000)) == 4.0
    assert bytes_per_synapse(net_two_exc_weights(seed % 1000)) == 5.0
    assert bytes_per_synapse(net_receptor_unsorted(seed % 1000)) == 5.0
    for name, make in NETS.items():
        net = make(seed % 1000)
        syn = build(net)
        stored = (syn.nbytes() - syn.indptr.nbytes - syn.w_table.nbytes) / syn.code.size
        assert stored <= bytes_per_synapse(net), name


def test_distributions_indexed_after_the_fact(seed: int) -> None:
    """Distributed weights with few distinct float32 values are indexed after drawing."""
    net = snn.Network(dt=DT, seed=seed % 1000, threads=1)
    a = net.add_population(60, snn.LIF(), label="a")
    net.connect(a, a, snn.FixedProbability(0.5), weight=snn.Uniform(0.25, 0.25))
    net.connect(a, a, snn.FixedProbability(0.3), weight=snn.Uniform(1.0, 1.0 + 2e-7))
    syn = build(net)
    assert syn.w_mode == W_INDEXED and syn.delay_const == 1
    assert syn.weight.dtype == np.uint8 and 2 <= syn.w_table.size <= 5
    assert_matches(syn, reference(net))


def test_signed_zero_weights_stay_distinct() -> None:
    """-0.0 and 0.0 are distinct table entries (bit-identical effective weights)."""
    net = snn.Network(dt=DT, seed=3, threads=1)
    a = net.add_population(20, snn.LIFDelta(), label="a")
    net.connect(a, a, snn.FixedProbability(0.5), weight=-0.0)
    net.connect(
        a,
        a,
        snn.FixedProbability(0.5),
        weight=np.where(np.arange(20) % 2, 0.0, -0.0)[np.newaxis].repeat(20, axis=0),
    )
    syn = build(net)
    assert syn.w_table.view(np.uint32).tolist() == [0x80000000, 0]
    assert_matches(syn, reference(net))


def test_from_list_sorted_input_is_not_sorted_again(seed: int) -> None:
    """Already sorted (pre, post) lists keep no permutation; unsorted ones get lexsort order."""
    rng = np.random.default_rng(seed)
    pre, post = rng.integers(0, 30, 400), rng.integers(0, 20, 400)
    o = np.lexsort((post, pre))
    w = rng.uniform(0.0, 1.0, 400)
    unsorted = snn.FromList(pre, post, weight=w, delay=rng.integers(1, 5, 400) * DT)
    ordered = snn.FromList(pre[o], post[o], weight=w[o], delay=unsorted.delay[o])
    assert ordered.order is None
    assert unsorted.order is not None
    np.testing.assert_array_equal(unsorted.order, o)
    syns = []
    for conn in (unsorted, ordered):
        net = snn.Network(dt=DT, seed=1, threads=1)
        a = net.add_population(30, snn.LIF(), label="a")
        b = net.add_population(20, snn.LIF(), label="b")
        net.connect(a, b, conn)
        syn = build(net)
        assert_matches(syn, reference(net))
        syns.append(syn)
    np.testing.assert_array_equal(syns[0].code, syns[1].code)
    np.testing.assert_array_equal(syns[0].weight_values(), syns[1].weight_values())
    # repeated pairs keep their list order (stable)
    assert snn.FromList([0, 0, 1], [2, 1, 0]).order is not None
    assert snn.FromList([0, 0, 0, 1], [1, 1, 2, 0]).order is None


def test_thread_count_does_not_matter(seed: int) -> None:
    """Column-chunked connectors give the same rows with 1 or 2 threads."""
    net = net_mixed(seed % 1000)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = build(net)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        two = build(net)
    finally:
        numba.set_num_threads(before)
    for name in ("indptr", "code", "weight", "delay", "w_table"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


class _ListOnly(Connector):
    """A user connector that only implements generate() (unsorted rows, a multapse)."""

    def __init__(self, bad: bool = False) -> None:
        self.bad = bad

    def generate(self, key, pre_gid, post_gid):
        indptr = np.array([0, 3, 3, 5] + [5] * (pre_gid.size - 3))
        post = np.array([4, 1, 4, 0, 2 if not self.bad else post_gid.size])
        return indptr, post

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        return 5.0


def test_generate_only_connector() -> None:
    """Connectors without a row plan work through generate(); bad output is refused."""
    net = snn.Network(dt=DT, seed=2, threads=1)
    a = net.add_population(6, snn.LIF(), label="a")
    net.connect(a, a, _ListOnly(), weight=snn.Uniform(0.0, 1.0))
    net.connect(a, a, snn.AllToAll(), weight=0.5)
    assert_matches(build(net), reference(net))
    net.connect(a, a, _ListOnly(bad=True), weight=0.1)
    with pytest.raises(ConnectivityError, match="positions must be in"):
        build(net)


def test_fixed_probability_draws_match_python(seed: int) -> None:
    """Rows of FixedProbability equal a pure-Python geometric walk over the same stream."""
    key = int(np.uint64(seed) * np.uint64(2654435761))
    n_pre, n_post, p = 12, 17, 0.3
    gids = np.arange(n_pre + n_post)
    indptr, post = kc.fixed_probability(np.uint64(key), p, gids[:n_pre], gids[n_pre:], True)
    log_q = math.log1p(-p)
    for i in range(n_pre):
        row, j, draw = [], -1, 0
        while True:
            skip = math.log(naive.uniform_ref(key, i, draw, 0)) / log_q
            draw += 1
            if skip >= n_post:
                break
            j += 1 + math.floor(skip)
            if j >= n_post:
                break
            row.append(j)
        assert post[indptr[i] : indptr[i + 1]].tolist() == row


def test_no_synapses() -> None:
    """A network without synapses gets empty arrays and the neutral delay bounds."""
    net = snn.Network(dt=DT, seed=1, threads=1)
    a = net.add_population(5, snn.LIF(), label="a")
    net.connect(a, a, snn.FixedProbability(0.0), weight=0.1)
    syn = build(net)
    assert syn.code.size == 0 and syn.weight.size == 0 and syn.w_table.size == 0
    assert syn.max_delay == 1 and syn.min_delay > 1000
    np.testing.assert_array_equal(syn.indptr, 0)
