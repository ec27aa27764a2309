"""SpiNNaker machine mapping: synapse words, limits, keys, and equality with sPyNNaker.

The sPyNNaker comparison (skipped without ``spynnaker``) runs the exported PyNN script on
sPyNNaker's virtual 48-chip board in a subprocess (its own ``HOME`` with the
``.spynnaker.cfg`` and its own working directory for ``reports/``), reads cores, keys,
masks, delay extensions and ring-buffer shifts from ``SpynnakerDataView`` and the rows
from ``synapse_io.get_synapses``, sPyNNaker's own encoder, with sPyNNaker's weight scales.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snnsim.hardware import spinnaker as sp
from snnsim.hardware.pynn_export import export_pynn

import snnsim as snn
from snnsim.errors import HardwareConstraintError


# ------------------------------------------------------------------ words
def test_golden_words_from_the_reference_notes() -> None:
    assert int(sp.encode_rows(3, 0, 1, 1000)[()]) == 0x03E80203
    assert int(sp.encode_rows(200, 1, 31, 65535)[()]) == 0xFFFF3FC8
    fields = sp.decode_rows([0x03E80203, 0xFFFF3FC8])
    assert fields["target"].tolist() == [3, 200]
    assert fields["synapse_type"].tolist() == [0, 1]
    assert fields["delay"].tolist() == [1, 31]
    assert fields["weight"].tolist() == [1000, 65535]


@settings(max_examples=60, deadline=None)
@given(
    n_idx=st.integers(1, 10),
    data=st.data(),
)
def test_encode_decode_round_trip(n_idx: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 40))
    n_delay = 16 - n_idx - 1
    t = data.draw(st.lists(st.integers(0, 2**n_idx - 1), min_size=n, max_size=n))
    s = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    d = data.draw(st.lists(st.integers(1, 2**n_delay - 1), min_size=n, max_size=n))
    w = data.draw(st.lists(st.integers(0, 65535), min_size=n, max_size=n))
    words = sp.encode_rows(t, s, d, w, n_idx, 1)
    assert words.dtype == np.uint32
    back = sp.decode_rows(words, n_idx, 1)
    assert back["target"].tolist() == t and back["synapse_type"].tolist() == s
    assert back["delay"].tolist() == d and back["weight"].tolist() == w


def test_encode_refuses_fields_that_do_not_fit() -> None:
    with pytest.raises(HardwareConstraintError, match="target=256"):
        sp.encode_rows([256], [0], [1], [1])
    with pytest.raises(HardwareConstraintError, match="weight=65536"):
        sp.encode_rows([0], [0], [1], [65536])
    with pytest.raises(HardwareConstraintError, match="delay=128"):
        sp.encode_rows([0], [0], [128], [1])


# ------------------------------------------------------------------ mapping rules
def _chain(n_src: int, n_post: int, delay_steps: int, dt: float = 1.0) -> snn.Network:
    net = snn.Network(dt=dt, seed=1)
    src = net.add_population(n_src, snn.SpikeSource(times=[[5.0]] * n_src), label="src")
    post = net.add_population(n_post, snn.LIF(), label="post")
    net.connect(src, post, snn.AllToAll(), weight=0.5, delay=delay_steps * dt)
    return net


def test_cores_keys_and_masks_of_the_reference_example() -> None:
    net = _chain(10, 300, 2)
    post_pop = net.populations[1]
    net.connect(post_pop, post_pop, snn.OneToOne(), weight=0.1, delay=1.0)
    m = sp.map_network(net, max_neurons_per_core=100)
    post = m.cores_of("post")
    assert [(c.lo_atom, c.hi_atom) for c in post] == [(0, 99), (100, 199), (200, 299)]
    assert [c.key for c in post] == [0x2000, 0x2800, 0x3000]
    assert {c.mask for c in post} == {0xFFFFF800}
    (src,) = m.cores_of("src")
    assert (src.key, src.mask) == (0x0, 0xFFFFFF00)
    assert post[1].spike_key(105, 17) == 0x2800 + (5 << 4) + 1


def test_populations_without_outgoing_projections_get_no_key() -> None:
    m = sp.map_network(_chain(4, 10, 1))
    assert m.cores_of("post")[0].key is None and m.cores_of("post")[0].mask is None
    with pytest.raises(Exception, match="sends no spikes"):
        m.cores_of("post")[0].spike_key(0, 0)


@pytest.mark.parametrize(
    ("delay", "slots", "stages"), [(2, 2, None), (32, 32, None), (33, 32, 1), (64, 32, 1),
                                   (65, 32, 2), (288, 32, 8)],
)  # fmt: skip
def test_delay_slots_and_extensions_at_256_per_core(delay: int, slots: int, stages: Any) -> None:
    m = sp.map_network(_chain(256, 256, delay))
    assert m.cores_of("post")[0].delay_slots == slots
    if stages is None:
        assert m.delay_extensions == []
        assert sum(len(v) for v in m.delayed_rows.values()) == 0
    else:
        (ext,) = m.delay_extensions
        assert (ext.population, ext.n_delay_stages, ext.delay_per_stage) == ("src", stages, 32)
        ((key, rows),) = m.delayed_rows.items()
        assert key == (ext.cores[0].index, m.cores_of("post")[0].index)
        stage = (delay - 1) // 32
        fields = sp.decode_rows(rows[(stage - 1) * 256])
        assert set(fields["delay"].tolist()) == {delay - 32 * stage}


def test_delay_above_the_board_limit_is_an_error() -> None:
    with pytest.raises(HardwareConstraintError, match=r"supports at most 288\.0 ms"):
        sp.map_network(_chain(4, 256, 289))


def test_fewer_neurons_per_core_give_more_delay_slots() -> None:
    m = sp.map_network(_chain(4, 300, 60), max_neurons_per_core=100)
    assert {c.delay_slots for c in m.cores_of("post")} == {64}
    assert m.delay_extensions == []
    with pytest.raises(HardwareConstraintError, match="at most 256"):
        sp.map_network(_chain(4, 300, 1), max_neurons_per_core=300)


def test_rows_hold_every_synapse_with_scaled_weights(rng: np.random.Generator) -> None:
    net = snn.Network(dt=0.1, seed=2)
    a = net.add_population(40, snn.LIF(), label="a")
    b = net.add_population(70, snn.LIF(), label="b")
    w = rng.uniform(-2.0, -0.1, (40, 70))
    proj = net.connect(a, b, snn.AllToAll(), weight=w, delay=0.3, receptor="inh")
    m = sp.map_network(net, max_neurons_per_core=32)
    shift = m.ring_buffer_shifts["b"][1]
    assert m.weight_scales["b"][1] == 2.0 ** (15 - shift)
    table = proj.table()
    got = np.full((40, 70), np.nan)
    for (pre_c, post_c), rows in m.rows.items():
        pre_core, post_core = m.cores[pre_c], m.cores[post_c]
        for i, row in enumerate(rows):
            f = sp.decode_rows(row, m.neuron_bits["b"])
            assert set(f["synapse_type"].tolist()) <= {1} and set(f["delay"].tolist()) <= {3}
            got[pre_core.lo_atom + i, post_core.lo_atom + f["target"]] = f["weight"]
    expected = np.zeros((40, 70))
    expected[table.pre, table.post] = np.rint(-table.weight * m.weight_scales["b"][1])
    np.testing.assert_array_equal(got, expected)


def test_ring_buffer_shift_from_connection_statistics() -> None:
    # one spike source, 100 synapses of 0.5 nA onto each neuron, one delay: the bound is
    # the sum 100 * 0.5 = 50 -> 2**6 > 50 -> shift 6
    m = sp.map_network(_chain(100, 10, 1))
    assert m.ring_buffer_shifts["post"] == (6, 0)
    assert m.weight_scales["post"] == (2.0**9, 2.0**15)


def test_refuses_what_the_board_cannot_run() -> None:
    net = snn.Network(dt=1.0, seed=1)
    pop = net.add_population(3, snn.LIF(), label="p")
    net.add_input(pop, snn.StepCurrent(times=[1.0], amplitudes=[1.0]))
    with pytest.raises(HardwareConstraintError, match="StepCurrent"):
        sp.map_network(net)

    class Other(snn.LIF):
        name = "Other"

    net2 = snn.Network(dt=1.0, seed=1)
    net2.add_population(3, Other(), label="odd")
    with pytest.raises(HardwareConstraintError, match="'odd': model Other has no PyNN"):
        sp.map_network(net2)


def test_summary_names_cores_and_extensions() -> None:
    text = sp.map_network(_chain(256, 256, 40)).summary()
    assert "post[0:256]" in text and "delay extension of src: 1 stage(s) of 32 ticks" in text


# ------------------------------------------------------------------ equality with sPyNNaker
#: loads the exported script (argv[1]), builds and maps it on the virtual board
_PROBE_HEAD = r"""
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("netscript", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
sim, shift = mod.setup("spinnaker")
pops, projs = mod.build(sim, "spinnaker", shift)
sim.run(5 * mod.DT)
from spynnaker.pyNN.data import SpynnakerDataView
"""
_PROBE = (
    _PROBE_HEAD
    + r"""
from spynnaker.pyNN.models.neuron import synapse_io
out = {"cores": [], "delays": [], "shifts": {}, "rows": [], "delayed": []}
ri = SpynnakerDataView.get_routing_infos()
for pl in SpynnakerDataView.iterate_placemements():
    v = pl.vertex
    if v.app_vertex is None:
        continue
    try:
        info = ri.get_info_from(v, "SPIKE")
    except KeyError:  # a vertex without outgoing projections
        info = None
    out["cores"].append([type(v.app_vertex).__name__, v.app_vertex.label, v.vertex_slice.lo_atom,
                         v.vertex_slice.hi_atom, None if info is None else info.key,
                         None if info is None else info.mask])
for app in SpynnakerDataView.iterate_vertices():
    if hasattr(app, "n_delay_stages"):
        out["delays"].append([app.label, app.n_delay_stages, app.delay_per_stage])
    if hasattr(app, "get_ring_buffer_shifts"):
        out["shifts"][app.label] = [list(app.get_ring_buffer_shifts()),
                                    app.max_delay_steps_incoming]

class MaxRowInfo:
    undelayed_max_n_synapses = undelayed_max_words = 256
    delayed_max_n_synapses = delayed_max_words = 256

for proj in projs:
    s_info, edge = proj._synapse_information, proj._projection_edge
    post = edge.post_vertex
    m = min(post.get_max_atoms_per_core(), post.n_atoms)
    scales = post.get_weight_scales(post.get_ring_buffer_shifts())
    # at dt < 1 ms a slice may have a neuron core and synapse cores: one slice each
    slices = sorted({mv.vertex_slice.lo_atom: mv.vertex_slice
                     for mv in post.machine_vertices}.values(), key=lambda s: s.lo_atom)
    for sl in slices:
        conns = s_info.connector.create_synaptic_block(slices, sl, s_info.synapse_type, s_info)
        rows, delayed = synapse_io.get_synapses(
            conns, s_info, edge.n_delay_stages, 2, scales, edge, MaxRowInfo(), True,
            edge.n_delay_stages > 0, m)
        for name, data in (("rows", rows), ("delayed", delayed)):
            data = np.asarray(data, dtype=np.uint32).reshape(-1, 3 + 256)
            words = [r[3:3 + int(r[1])].tolist() for r in data]
            out[name].append([edge.pre_vertex.label, post.label, sl.lo_atom, words])
sim.end()
json.dump(out, open(sys.argv[2], "w"))
"""
)


def _mixed_network(dt: float = 1.0) -> snn.Network:
    """Sources, two LIF populations over several cores, exc + inh, delays up to 45 ticks."""
    rng = np.random.default_rng(7)
    net = snn.Network(dt=dt, seed=5)
    times = [[float(5 + i)] for i in range(20)]
    src = net.add_population(20, snn.SpikeSource(times=times), label="src")
    exc = net.add_population(300, snn.LIF(), label="exc")
    inh = net.add_population(60, snn.LIF(tau_syn_inh=3.0), label="inh")
    n = 20 * 300
    keep = rng.random(n) < 0.3
    pre, post = np.divmod(np.arange(n), 300)
    k = int(keep.sum())
    net.connect(
        src, exc,
        snn.FromList(pre[keep], post[keep], rng.uniform(0.1, 3.0, k), rng.integers(1, 46, k) * dt),
    )  # fmt: skip
    net.connect(exc, inh, snn.FixedProbability(0.2), weight=snn.Uniform(0.05, 0.4), delay=2 * dt)
    net.connect(
        inh, exc, snn.FixedProbability(0.3), weight=snn.Uniform(-1.0, -0.2),
        delay=snn.Uniform(dt, 9 * dt), receptor="inh", round_delays=True,
    )  # fmt: skip
    # a second source of 256 neurons with delays of 33..80 ticks: two extension stages
    far = net.add_population(256, snn.SpikeSource(times=[[3.0]] * 256), label="far")
    net.connect(
        far, exc, snn.FixedProbability(0.05), weight=0.3,
        delay=snn.Uniform(33 * dt, 80 * dt), round_delays=True,
    )  # fmt: skip
    noise = net.add_population(5, snn.PoissonSource(rate=10.0), label="noise")
    net.connect(noise, inh, snn.AllToAll(), weight=0.1, delay=dt)
    net.record_spikes(exc)
    return net


@pytest.fixture(scope="module", params=[1.0, 0.1], ids=["dt1", "dt0.1"])
def spynnaker_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], float, float]:
    pytest.importorskip("spynnaker")
    import time

    tmp = tmp_path_factory.mktemp("spynnaker")
    home = tmp / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    dt = float(request.param)
    script = export_pynn(_mixed_network(dt), tmp / "net.py", duration=10.0)
    probe = tmp / "probe.py"
    probe.write_text(_PROBE)
    env = {**os.environ, "HOME": str(home)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(probe), str(script), str(tmp / "out.json")],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((tmp / "out.json").read_text()), elapsed, dt


def test_mapping_equals_spynnaker_virtual_board(
    spynnaker_run: tuple[dict[str, Any], float, float],
) -> None:
    out, _, dt = spynnaker_run
    m = sp.map_network(_mixed_network(dt))
    theirs: dict[tuple[str, int], tuple[int, Any, Any]] = {}
    for kind, label, lo, hi, key, mask in out["cores"]:
        # at dt < 1 ms sPyNNaker adds key-less synapse cores next to the neuron core
        if kind != "DelayExtensionVertex" and theirs.get((label, lo), (0, None))[1] is None:
            theirs[label, lo] = (hi, key, mask)
    ours = {(c.population, c.lo_atom): (c.hi_atom, c.key, c.mask) for c in m.cores}
    assert ours == theirs
    their_delay = {
        (label, lo): (hi, key, mask)
        for kind, label, lo, hi, key, mask in out["cores"]
        if kind == "DelayExtensionVertex"
    }
    our_delay = {
        (f"{e.population}_delayed", c.lo_atom): (c.hi_atom, c.key, c.mask)
        for e in m.delay_extensions
        for c in e.cores
    }
    assert our_delay == their_delay and our_delay
    assert {e.population: e.n_delay_stages for e in m.delay_extensions} == {"src": 1, "far": 2}
    assert sorted(out["delays"]) == sorted(
        [f"{e.population}_delayed", e.n_delay_stages, e.delay_per_stage] for e in m.delay_extensions
    )
    for label, (shifts, slots) in out["shifts"].items():
        assert list(m.ring_buffer_shifts[label]) == shifts, label
        assert {c.delay_slots for c in m.cores_of(label)} == {slots}


def test_rows_equal_spynnaker_encoder(
    spynnaker_run: tuple[dict[str, Any], float, float],
) -> None:
    out, _, dt = spynnaker_run
    m = sp.map_network(_mixed_network(dt))
    by_label = {c.population: [] for c in m.cores}  # type: dict[str, list[sp.CoreMapping]]
    for c in m.cores:
        by_label[c.population].append(c)
    ext = {e.population: e for e in m.delay_extensions}
    n_compared = 0
    for name, table in (("rows", m.rows), ("delayed", m.delayed_rows)):
        expected: dict[tuple[int, int], list[list[int]]] = {}
        for pre_label, post_label, post_lo, words in out[name]:
            (post_core,) = [c for c in by_label[post_label] if c.lo_atom == post_lo]
            pre_cores = by_label[pre_label]
            for r, row in enumerate(words):
                if not row:
                    continue
                if name == "rows":
                    (pc,) = [c for c in pre_cores if c.lo_atom <= r <= c.hi_atom]
                    key, local = (pc.index, post_core.index), r - pc.lo_atom
                    n_rows = pc.n_atoms
                else:  # one stage here; row = source index in the (single) pre core
                    e = ext[pre_label]
                    assert len(e.cores) == 1
                    key, local, n_rows = (e.cores[0].index, post_core.index), r, len(words)
                rows = expected.setdefault(key, [[] for _ in range(n_rows)])
                rows[local] = rows[local] + row
        for key, rows in expected.items():
            ours = table[key]
            for i, row in enumerate(rows):
                assert ours[i].tolist() == row, (name, key, i)
                n_compared += len(row)
        for key, rows in table.items():
            assert sum(r.size for r in rows) == sum(len(r) for r in expected.get(key, []))
    assert n_compared == sum(len(p.table()) for p in _mixed_network(dt).projections)


def test_spynnaker_run_time(spynnaker_run: tuple[dict[str, Any], float, float]) -> None:
    _, elapsed, _ = spynnaker_run
    print(f"sPyNNaker virtual-board mapping of the test network: {elapsed:.1f} s")
    assert elapsed < 300


def test_mapping_plot_writes_a_png(tmp_path: Path) -> None:
    from snnsim.hardware.spinnaker_plot import plot_mapping

    net = _chain(300, 300, 40)
    post = net.populations[1]
    net.connect(post, post, snn.FixedProbability(0.1), weight=0.1, delay=3.0)
    fig = plot_mapping(sp.map_network(net, max_neurons_per_core=64), tmp_path / "map.png")
    data = (tmp_path / "map.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert len(fig.axes) == 3
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_snn_plot_draws_the_mapping_of_a_network(tmp_path: Path) -> None:
    net = _chain(300, 300, 40)
    fig = snn.plot.spinnaker_mapping(net, tmp_path / "map.png", max_neurons_per_core=64)
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.pyplot as plt

    plt.close(fig)


# ---------------------------------------------------------------- plastic projections
_SHIFT_PROBE = (
    _PROBE_HEAD
    + r"""
out = {}
for app in SpynnakerDataView.iterate_vertices():
    if hasattr(app, "get_ring_buffer_shifts"):
        out[app.label] = list(app.get_ring_buffer_shifts())
sim.end()
json.dump(out, open(sys.argv[2], "w"))
"""
)


def _plastic_network() -> snn.Network:
    """STDP onto both receptors (one rule per post population, as sPyNNaker wants) whose
    w_max exceeds the initial weights, so the shifts grow."""
    net = snn.Network(dt=1.0, seed=3)
    src = net.add_population(40, snn.SpikeSource(times=[[float(2 + i)] for i in range(40)]),
                             label="src")  # fmt: skip
    post = net.add_population(30, snn.LIF(), label="post")
    net.connect(src[:20], post, snn.FixedProbability(0.5), weight=0.2, delay=1.0,
                plasticity=snn.STDP(w_max=6.0))  # fmt: skip
    net.connect(src[20:], post, snn.FixedProbability(0.5), weight=-0.1, delay=2.0,
                receptor="inh", plasticity=snn.STDP(w_max=-6.0))  # fmt: skip
    net.connect(src, post, snn.FixedProbability(0.2), weight=0.3, delay=1.0)  # static
    return net


def test_plastic_projections_are_named_and_sized_as_spynnaker(tmp_path: Path) -> None:
    """Shifts as sPyNNaker's SynapseDynamicsSTDP (weights may all reach w_max); a warning."""
    net = _plastic_network()
    m = sp.map_network(net)
    plastic = [w for w in m.warnings if "is plastic (STDP)" in w]
    assert len(plastic) == 2 and "not modelled" in plastic[0]
    static_only = _plastic_network()
    for p in static_only.projections:
        p.plasticity = None  # the same synapses without the rules
    assert sp.map_network(static_only).ring_buffer_shifts["post"] < m.ring_buffer_shifts["post"]
    pytest.importorskip("spynnaker")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    script = export_pynn(net, tmp_path / "net.py", duration=10.0)
    probe = tmp_path / "probe.py"
    probe.write_text(_SHIFT_PROBE)
    done = subprocess.run(
        [sys.executable, str(probe), str(script), str(tmp_path / "out.json")], cwd=tmp_path,
        env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    theirs = json.loads((tmp_path / "out.json").read_text())
    assert list(m.ring_buffer_shifts["post"]) == theirs["post"]
