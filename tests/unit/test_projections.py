"""Projection.get / set / len: before and after build, write-through, after load, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.synapse_blocks import replace_projection


def make_net(seed: int, threads: int = 1) -> tuple[snn.Network, list, snn.SpikeRecorder]:
    """Two populations, a view, distributions, and two projections that overlap (a -> b)."""
    net = snn.Network(dt=0.1, seed=seed, threads=threads)
    a = net.add_population(40, snn.LIF(i_offset=1.0), label="a")
    b = net.add_population(30, snn.LIF(i_offset=0.5), label="b")
    p1 = net.connect(
        a, b, snn.FixedProbability(0.2), weight=snn.Uniform(0.1, 0.3),
        delay=snn.Uniform(0.5, 2.0), round_delays=True,
    )  # fmt: skip
    p2 = net.connect(b, a[5:20], snn.FixedProbability(0.3), weight=-0.2, delay=1.0, receptor="inh")
    p3 = net.connect(a, b, snn.FixedProbability(0.1), weight=0.05, delay=0.3)
    spikes = net.record_spikes(a)
    return net, [p1, p2, p3], spikes


def columns(proj):
    rows = proj.get(["weight", "delay"], format="list")
    return [np.array([r[k] for r in rows]) for k in range(4)]


def test_get_is_the_same_before_and_after_build(seed: int) -> None:
    net, projs, _ = make_net(seed)
    before = [p.get(["weight", "delay"]) for p in projs]
    lengths = [len(p) for p in projs]
    net.run(2.0)
    assert [p.get(["weight", "delay"]) for p in projs] == before
    assert sum(lengths) == net.engine.n_synapses
    assert net.projections == projs
    for p, rows in zip(projs, before, strict=True):
        pre, post, w, _ = (np.array([r[k] for r in rows]) for k in range(4))
        assert np.all((np.diff(pre) > 0) | ((np.diff(pre) == 0) & (np.diff(post) >= 0)))
        assert pre.max() < p.pre.size and post.max() < p.post.size
        assert np.all(w.astype(np.float32) == w)  # the static block's float32 values
    _, _, w1, d1 = columns(projs[0])
    assert np.all((w1 >= 0.1) & (w1 <= 0.3)) and np.all((d1 >= 0.5 - 1e-9) & (d1 <= 2.0 + 1e-9))


def test_get_array_is_dense_with_nan(seed: int) -> None:
    _, (p1, _, _), _ = make_net(seed)
    pre, post, w, d = columns(p1)
    wa, da = p1.get(["weight", "delay"], format="array")
    assert wa.shape == (40, 30) and da.shape == (40, 30)
    assert np.isnan(wa).sum() == 40 * 30 - len(p1)  # FixedProbability: no multapses
    np.testing.assert_array_equal(wa[pre, post], w)
    np.testing.assert_array_equal(p1.get("delay", format="array")[pre, post], d)


def test_one_to_one_get_list() -> None:
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(3, snn.LIF())
    proj = net.connect(a, a, snn.OneToOne(), weight=0.5, delay=1.0)
    assert proj.get(["weight", "delay"]) == [(i, i, 0.5, 1.0) for i in range(3)]
    assert proj.get("weight") == [(i, i, 0.5) for i in range(3)]


@pytest.mark.parametrize("kind", ["scalar", "array", "matrix", "distribution"])
def test_set_before_build_changes_the_description(seed: int, kind: str) -> None:
    net, (p1, p2, _), _ = make_net(seed)
    pre, post, _, _ = columns(p1)
    n = pre.size
    value = {
        "scalar": 0.25,
        "array": np.linspace(0.0, 1.0, n),
        "matrix": np.arange(40 * 30, dtype=float).reshape(40, 30) * 1e-3,
        "distribution": snn.Uniform(0.0, 0.1),
    }[kind]
    p1.set(weight=value, delay=1.5)
    others = p2.get(["weight", "delay"])
    net.run(1.0)
    _, _, w, d = columns(p1)
    if kind == "scalar":
        want = np.full(n, np.float32(0.25))
    elif kind == "array":
        want = value.astype(np.float32)
    elif kind == "matrix":
        want = value[pre, post].astype(np.float32)
    else:
        assert np.all((w >= 0.0) & (w <= 0.1)) and np.unique(w).size > n // 2
        want = w
    np.testing.assert_array_equal(w, want)
    np.testing.assert_allclose(d, 1.5, rtol=0, atol=1e-12)
    assert p2.get(["weight", "delay"]) == others
    assert net.engine.mb_proj.size == 0  # still the static block


def test_set_overrides_fromlist_values() -> None:
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(4, snn.LIF())
    conn = snn.FromList([2, 0, 1], [1, 3, 0], weight=[0.1, 0.2, 0.3], delay=[0.2, 0.3, 0.4])
    proj = net.connect(a, a, conn)
    got = [(i, j, w, round(d, 9)) for i, j, w, d in proj.get(["weight", "delay"])]
    assert got == [
        (0, 3, np.float32(0.2).item(), 0.3),
        (1, 0, np.float32(0.3).item(), 0.4),
        (2, 1, np.float32(0.1).item(), 0.2),
    ]
    proj.set(weight=[1.0, 2.0, 3.0])
    assert [r[2] for r in proj.get(["weight"])] == [1.0, 2.0, 3.0]
    assert [round(r[2], 9) for r in proj.get(["delay"])] == [0.3, 0.4, 0.2]
    assert conn.weight is not None  # the user's connector is not changed


def test_set_after_build_writes_through(seed: int) -> None:
    net, (p1, p2, p3), _ = make_net(seed)
    net.run(3.0)
    others = [p2.get(["weight", "delay"]), p3.get(["weight", "delay"])]
    pre, post, w, _ = columns(p1)
    new_w = w * 1.5 + 1e-9  # float64 values that float32 could not hold
    p1.set(weight=new_w, delay=1.2)
    pre2, post2, w2, d2 = columns(p1)
    np.testing.assert_array_equal(pre2, pre)
    np.testing.assert_array_equal(post2, post)
    np.testing.assert_array_equal(w2, new_w)
    np.testing.assert_allclose(d2, 1.2, rtol=0, atol=1e-12)
    assert [p2.get(["weight", "delay"]), p3.get(["weight", "delay"])] == others
    assert list(net.engine.mb_proj) == [0]
    assert net.engine.n_synapses == len(p1) + len(p2) + len(p3)
    p1.set(weight=0.2)  # replaces its mutable block
    assert list(net.engine.mb_proj) == [0] and set(columns(p1)[2]) == {0.2}
    p2.set(delay=2.5, weight=-0.05)
    assert sorted(net.engine.mb_proj) == [0, 1]
    assert [p2.get(["weight"])[k][:2] for k in range(3)] == [r[:2] for r in others[0][:3]]
    net.run(3.0)


def test_write_through_gives_the_spikes_of_a_fresh_build(seed: int) -> None:
    """Moving a projection into a mutable block with the same values changes no spike.

    The only projection onto each population, so the summation order per target is kept.
    """

    def build(seed: int) -> tuple[snn.Network, snn.Projection, snn.SpikeRecorder]:
        net = snn.Network(dt=0.1, seed=seed)
        src = net.add_population(50, snn.PoissonSource(rate=80.0))
        b = net.add_population(40, snn.LIF(v_rest=-60.0, v_thresh=-55.0))
        proj = net.connect(src, b, snn.FixedProbability(0.3), weight=snn.Uniform(0.0, 0.6),
                           delay=snn.Uniform(0.1, 3.0), round_delays=True)  # fmt: skip
        return net, proj, net.record_spikes(b)

    ref, _, ref_spikes = build(seed)
    ref.run(100.0)
    net, proj, spikes = build(seed)
    net.build()
    _, _, w, d = columns(proj)
    proj.set(weight=w, delay=d)  # same values, now float64 in a mutable block
    assert list(net.engine.mb_proj) == [0] and net.engine.syn_code.size == 0
    net.run(100.0)
    assert spikes.count > 50
    np.testing.assert_array_equal(spikes.times, ref_spikes.times)
    np.testing.assert_array_equal(spikes.ids, ref_spikes.ids)


@pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")  # 3 threads on 2 cores
@pytest.mark.parametrize("threads", [2, 3])
def test_mutable_blocks_are_thread_invariant(seed: int, threads: int) -> None:
    results = []
    for t in (1, threads):
        net, (p1, p2, _), spikes = make_net(seed, threads=t)
        net.build()
        p1.set(weight=snn.Uniform(0.2, 0.9), delay=snn.Uniform(0.1, 4.0))
        p2.set(weight=-0.5)
        net.run(60.0)
        results.append((spikes.times.copy(), spikes.ids.copy(), net.engine.fstate.copy()))
    assert results[0][0].size > 0
    for x, y in zip(*results, strict=True):
        np.testing.assert_array_equal(x, y)


def test_get_set_after_load_and_resume(seed: int, tmp_path: Path) -> None:
    net, (p1, _, _), spikes = make_net(seed)
    net.run(5.0)
    p1.set(weight=snn.Uniform(0.0, 0.5), delay=snn.Uniform(0.2, 2.0))
    net.run(5.0)
    snn.save(net, tmp_path / "net.h5")
    net2 = snn.load(tmp_path / "net.h5")
    assert len(net2.projections) == 3
    for p, q in zip(net.projections, net2.projections, strict=True):
        assert p.get(["weight", "delay"]) == q.get(["weight", "delay"])
        assert len(p) == len(q)
    # the same change on both, including a delay beyond the ring buffer
    for n in (net, net2):
        n.projections[2].set(weight=0.1, delay=40.0)
        n.projections[1].set(weight=snn.Uniform(-0.4, 0.0))
    assert net.engine.ring.shape == net2.engine.ring.shape
    assert net.engine.ring.shape[0] >= 512
    net.run(60.0)
    net2.run(60.0)
    s2 = net2.recorders[0]
    np.testing.assert_array_equal(spikes.times, s2.times)
    np.testing.assert_array_equal(spikes.ids, s2.ids)


def test_ring_growth_keeps_spikes_in_flight(seed: int) -> None:
    net, (p1, _, _), _ = make_net(seed)
    net.run(3.3)
    eng = net.engine
    old = eng.ring.copy()
    slots = old.shape[0]
    pre, post, w, _ = columns(p1)
    rec = p1.post.model.receptor_index(p1.receptor, "test")
    steps = np.full(pre.size, 3 * slots, dtype=np.int64)
    replace_projection(
        eng, p1.index, p1.pre.global_ids, p1.post.global_ids, rec, pre, post, w, steps
    )
    new = eng.ring
    assert new.shape[0] > 3 * slots
    for stamp in range(eng.step + 1, eng.step + slots):
        np.testing.assert_array_equal(new[stamp % new.shape[0]], old[stamp % slots])
    assert np.count_nonzero(new) == np.count_nonzero(old)


def test_static_tags_only_when_projections_overlap() -> None:
    net, _, _ = make_net(1)
    assert net.build().syn_tag.size == net.engine.syn_code.size  # p1 and p3 overlap
    cuba = snn.Network(dt=0.1, seed=1)
    e = cuba.add_population(80, snn.LIF())
    i = cuba.add_population(20, snn.LIF())
    for pre, w, r in ((e, 0.1, "exc"), (i, -0.4, "inh")):
        for post in (e, i):
            cuba.connect(pre, post, snn.FixedProbability(0.1), weight=w, receptor=r)
    assert cuba.build().syn_tag.size == 0
    # views of one population that do not meet need no tag either
    v = snn.Network(dt=0.1, seed=1)
    a = v.add_population(20, snn.LIF())
    v.connect(a[:10], a, snn.AllToAll(), weight=0.1)
    v.connect(a[10:], a, snn.AllToAll(), weight=0.2)
    assert v.build().syn_tag.size == 0


def test_errors_at_the_call(seed: int) -> None:
    net, (p1, p2, _), _ = make_net(seed)
    n = len(p1)
    with pytest.raises(ParameterError, match="unknown attribute"):
        p1.get("tau")
    with pytest.raises(ParameterError, match="'list' or 'array'"):
        p1.get("weight", format="csv")
    with pytest.raises(ParameterError, match="not a number"):
        p1.set(weight="0.5")
    with pytest.raises(ParameterError, match="complex"):
        p1.set(weight=1j)
    with pytest.raises(ParameterError, match="give weight"):
        p1.set()
    net.build()
    with pytest.raises(ConnectivityError, match=f"values for {n} synapses"):
        p1.set(weight=np.ones(n + 1))
    with pytest.raises(ConnectivityError, match="receptor='inh'"):
        p1.set(weight=-0.1)
    with pytest.raises(ConnectivityError, match="receptor='exc'"):
        p2.set(weight=0.1)
    bad = np.full(n, 0.1)
    bad[7] = np.nan
    with pytest.raises(ConnectivityError, match="synapse 7"):
        p1.set(weight=bad)
    with pytest.raises(ConnectivityError, match="not a multiple of dt"):
        p2.set(delay=0.15)
    with pytest.raises(ConnectivityError, match="below dt"):
        p2.set(delay=0.0)
    assert net.engine.mb_proj.size == 0  # nothing was written by the refused calls


def test_mutable_blocks_have_a_post_to_synapse_index(seed: int, tmp_path: Path) -> None:
    """Per block, the synapses onto each target, as a plasticity rule will visit them."""
    net, (p1, p2, p3), _ = make_net(seed)
    net.build()
    p1.set(weight=0.3)
    p2.set(weight=-0.1)
    p3.set(weight=0.2)
    p1.set(weight=0.25)  # drop and re-add a block: the index follows
    snn.save(net, tmp_path / "n.h5")
    for eng in (net.engine, snn.load(tmp_path / "n.h5").engine):
        assert sorted(eng.mb_proj) == [0, 1, 2]
        seen = np.zeros(eng.mb_code.size, dtype=int)
        for b in range(eng.mb_proj.size):
            r0 = int(eng.mb_row[b])
            s0 = int(eng.mb_indptr[r0])
            s1 = int(eng.mb_indptr[r0 + int(eng.mb_hi[b] - eng.mb_lo[b])])
            for t in range(int(eng.mb_tlo[b]), int(eng.mb_thi[b])):
                at = int(eng.mb_prow[b]) + t - int(eng.mb_tlo[b])
                syn = eng.mb_post_syn[eng.mb_post_ptr[at] : eng.mb_post_ptr[at + 1]]
                assert np.all((syn >= s0) & (syn < s1))
                assert np.all(eng.mb_code[syn] >> 1 == t)
                assert np.all(np.diff(syn) > 0)
                seen[syn] += 1
        assert np.all(seen == 1)


def test_exact_weights_keep_float64_through_build_and_checkpoint(tmp_path: Path) -> None:
    net = snn.Network(dt=0.1, seed=3)
    a = net.add_population(5, snn.SpikeSource(times=[[1.0]] * 5), label="a")
    b = net.add_population(4, snn.LIF(), label="b")
    w = np.full((5, 4), 0.1)  # 0.1 is not a float32 value
    plain = net.connect(a, b, snn.AllToAll(), weight=w)
    exact = net.connect(a, b, snn.AllToAll(), weight=w, exact_weights=True)
    assert np.all(plain.get("weight", format="array") == np.float64(np.float32(0.1)))
    assert np.all(exact.get("weight", format="array") == 0.1)
    net.run(2.0)
    assert np.all(exact.get("weight", format="array") == 0.1)  # a float64 mutable block
    path = tmp_path / "net.h5"
    snn.save(net, str(path))
    back = snn.load(str(path))
    assert back.projections[1].exact_weights and not back.projections[0].exact_weights
    assert np.all(back.projections[1].get("weight", format="array") == 0.1)
    with pytest.raises(ConnectivityError, match="exact_weights must be True or False"):
        net2 = snn.Network(dt=0.1)
        p = net2.add_population(2, snn.LIF(), label="p")
        net2.connect(p, p, snn.AllToAll(), weight=0.1, exact_weights="yes")  # type: ignore[arg-type]


def test_one_shape_check_for_connect_set_and_the_values_pass(seed: int) -> None:
    """connect (before and at build) and set (after build) refuse the same layouts alike."""
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    a = net.add_population(4, snn.LIF(), label="a")
    b = net.add_population(3, snn.LIF(), label="b")
    with pytest.raises(ConnectivityError, match=r"matrix of shape \(3, 4\); expected \(4, 3\)"):
        net.connect(a, b, snn.AllToAll(), weight=np.full((3, 4), 0.1))
    with pytest.raises(ConnectivityError, match="got a 3-D array"):
        net.connect(a, b, snn.AllToAll(), weight=0.1, delay=np.ones((4, 3, 1)))
    # a distribution's synapse count is known only when drawn: checked by the values pass
    p = net.connect(a, b, snn.FixedProbability(0.5), weight=0.1)
    n = len(p)
    net.build()
    with pytest.raises(ConnectivityError, match=r"one value per synapse \(in get\(\) order\)"):
        p.set(weight=np.full(n + 2, 0.1))
    with pytest.raises(ConnectivityError, match=r"matrix of shape \(3, 4\); expected \(4, 3\)"):
        p.set(weight=np.full((3, 4), 0.1))
    with pytest.raises(ConnectivityError, match="got a 3-D array"):
        p.set(delay=np.ones((4, 3, 1)))
    p.set(weight=np.full((4, 3), 0.25))  # the (pre, post) matrix is read at the synapses
    assert all(r[2] == 0.25 for r in p.get("weight", format="list"))
