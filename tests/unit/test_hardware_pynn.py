"""PyNN script export: refusals, script contents, same spikes on pyNN.nest, maps on sPyNNaker.

The generated scripts run in subprocesses, unchanged, as a user would run them (PyNN and
sPyNNaker emit warnings the suite would turn into errors in-process).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from snnsim.hardware.pynn_export import export_pynn, pynn_script

import snnsim as snn
from snnsim import hardware as hw
from snnsim.errors import HardwareConstraintError


def _network(rng: np.random.Generator, dt: float = 0.1) -> tuple[snn.Network, list[object]]:
    """SpikeSourceArray input, exc + inh projections with per-synapse weights and delays."""
    net = snn.Network(dt=dt, seed=3)
    times = [sorted({round(float(t), 1) for t in rng.integers(10, 800, 8) * dt}) for _ in range(20)]
    src = net.add_population(20, snn.SpikeSource(times=times), label="src")
    exc = net.add_population(30, snn.LIF(tau_refrac=2.0, v_thresh=-55.0), label="exc")
    inh = net.add_population(10, snn.LIF(tau_m=10.0, tau_syn_inh=3.0, cm=0.5), label="inh")
    pre, post = np.divmod(np.arange(600), 30)
    keep = rng.random(600) < 0.4
    k = int(keep.sum())
    net.connect(
        src, exc, snn.FromList(pre[keep], post[keep], rng.uniform(0.5, 2.5, k),
                               rng.integers(1, 31, k) * dt),
        round_delays=True,
    )  # fmt: skip
    net.connect(exc, inh, snn.FixedProbability(0.5), weight=snn.Uniform(1.0, 3.0), delay=dt)
    net.connect(
        inh, exc, snn.FixedProbability(0.5), weight=snn.Uniform(-3.0, -1.0),
        delay=snn.Uniform(dt, 2.0), receptor="inh", round_delays=True,
    )  # fmt: skip
    recs: list[object] = [net.record_spikes(exc), net.record_spikes(inh)]
    recs.append(net.record_state(exc[:5], ["v"]))
    return net, recs


def _run_script(script: Path, *args: str, env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=script.parent, capture_output=True,
        text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return time.perf_counter() - t0


def test_script_is_valid_python_with_sorted_signed_lists(rng: np.random.Generator) -> None:
    net, _ = _network(rng)
    text = pynn_script(net, duration=50.0)
    tree = ast.parse(text)
    assert {f.name for f in tree.body if isinstance(f, ast.FunctionDef)} >= {
        "setup", "build", "collect", "main",
    }  # fmt: skip
    assert "sim.IF_curr_exp(" in text and "sim.SpikeSourceArray(" in text
    assert text.count("sim.FromListConnector(") == 3
    assert "receptor_type='inhibitory'" in text
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "conns":
            conns = ast.literal_eval(node.value)
            keys = [(c[0], c[1]) for c in conns]
            assert keys == sorted(keys)  # sPyNNaker drops synapses of unsorted lists
            signs = {np.sign(c[2]) for c in conns}
            assert len(signs) == 1


def test_refuses_what_pynn_cannot_express(rng: np.random.Generator) -> None:
    net, _ = _network(rng)
    net.add_input(net.populations[1], snn.StepCurrent(times=[1.0], amplitudes=[0.5]))
    with pytest.raises(HardwareConstraintError, match="StepCurrent"):
        pynn_script(net)
    net2, _ = _network(rng)
    net2.record_state(net2.populations[1], ["i_exc"])
    with pytest.raises(HardwareConstraintError, match=r"recording \['i_exc'\]"):
        pynn_script(net2)
    net3, _ = _network(rng)
    net3.populations[1].initialize(i_exc=0.5)
    with pytest.raises(HardwareConstraintError, match="initial synaptic currents"):
        pynn_script(net3)
    net4, _ = _network(rng)
    net4.run(1.0)
    with pytest.raises(HardwareConstraintError, match="has run 10 steps"):
        pynn_script(net4)
    with pytest.raises(HardwareConstraintError, match="backend"):
        pynn_script(_network(rng)[0], backend="brian2")


def test_spikes_equal_snnsim_on_pynn_nest(rng: np.random.Generator, tmp_path: Path) -> None:
    pytest.importorskip("pyNN")
    pytest.importorskip("nest")
    net, (r_exc, r_inh, _) = _network(rng)
    script = export_pynn(net, tmp_path / "net.py", duration=100.0)
    net.run(100.0)
    assert len(r_exc.times) > 20 and len(r_inh.times) > 20  # type: ignore[attr-defined]
    elapsed = _run_script(script, "--backend", "nest", "--out", str(tmp_path / "res.npz"))
    print(f"pyNN.nest run of the exported script: {elapsed:.1f} s")
    res = np.load(tmp_path / "res.npz")
    for label, rec in (("exc", r_exc), ("inh", r_inh)):
        np.testing.assert_allclose(res[f"{label}/spike_times"], rec.times, atol=1e-6)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(res[f"{label}/spike_ids"], rec.ids)  # type: ignore[attr-defined]
    assert res["exc/v"].shape[1] == 5


def test_delta_network_on_pynn_nest(rng: np.random.Generator, tmp_path: Path) -> None:
    pytest.importorskip("pyNN")
    pytest.importorskip("nest")
    net = snn.Network(dt=0.1, seed=4)
    times = [
        sorted({round(float(t), 1) for t in rng.integers(10, 500, 10) * 0.1}) for _ in range(8)
    ]
    src = net.add_population(8, snn.SpikeSource(times=times), label="src")
    post = net.add_population(6, snn.LIFDelta(v_rest=-60.0, v_thresh=-55.0), label="post")
    w = rng.uniform(-2.0, 4.0, (8, 6))
    net.connect(src, post, snn.AllToAll(), weight=w, delay=0.5)
    rec = net.record_spikes(post)
    script = export_pynn(net, tmp_path / "delta.py", duration=60.0)
    assert "sim.IF_curr_delta(" in script.read_text()
    net.run(60.0)
    assert rec.count > 3
    _run_script(script, "--out", str(tmp_path / "d.npz"))
    res = np.load(tmp_path / "d.npz")
    np.testing.assert_allclose(res["post/spike_times"], rec.times, atol=1e-6)
    np.testing.assert_array_equal(res["post/spike_ids"], rec.ids)


def test_script_maps_on_spynnaker_virtual_board(rng: np.random.Generator, tmp_path: Path) -> None:
    pytest.importorskip("spynnaker")
    net, _ = _network(rng, dt=1.0)
    net.add_population(5, snn.PoissonSource(rate=20.0), label="noise")
    net.connect(net.populations[3], net.populations[1], snn.AllToAll(), weight=0.2, delay=1.0)
    net.connect(net.populations[0], net.populations[2], snn.FixedProbability(0.5), weight=0.2,
                delay=2.0, plasticity=snn.STDP(w_max=0.5))  # fmt: skip
    script = export_pynn(net, tmp_path / "net.py", duration=20.0, backend="spinnaker")
    assert "synapse_type=stdp(sim, backend, 1, " in script.read_text()
    home = tmp_path / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    env = {**os.environ, "HOME": str(home)}
    elapsed = _run_script(script, "--out", str(tmp_path / "s.npz"), env=env)
    print(f"sPyNNaker virtual-board run of the exported script: {elapsed:.1f} s")
    assert (tmp_path / "reports").is_dir()
    assert "proj4_exc/weights" in np.load(tmp_path / "s.npz")  # the plastic projection


def test_rounded_source_times_are_written_on_the_grid() -> None:
    net = snn.Network(dt=0.1, seed=1)
    net.add_population(1, snn.SpikeSource(times=[[1.04, 2.26]], round_times=True), label="s")
    text = pynn_script(net)
    assert "times = [[1.0, 2.3000000000000003]]" in text or "times = [[1.0, 2.3]]" in text


# ------------------------------------------------------------------------------- STDP
STDP_DT, STDP_T = 0.1, 300.0  # ms; every source spikes once more at STDP_T (see below)


def _stdp_network(rng: np.random.Generator) -> tuple[snn.Network, list[object]]:
    """Random pre/post protocol: an excitatory additive and an inhibitory multiplicative rule.

    Sources spike at random times, drivers make the post neurons fire at random times too;
    heterogeneous delays. Every source spikes at ``STDP_T``: NEST applies a facilitation only
    at the next presynaptic spike, so that spike makes NEST's weights hold every pairing up
    to it, which are snnsim's weights after ``run(STDP_T)`` (:mod:`snnsim.plasticity`).
    """
    net = snn.Network(dt=STDP_DT, seed=2)
    n_pre, n_post = 8, 3
    pre_times = [
        sorted({0.5, STDP_T, *np.round(rng.uniform(1.0, STDP_T - 5.0, 10), 1).tolist()})
        for _ in range(2 * n_pre)
    ]
    drive = [sorted(set(np.round(rng.uniform(5.0, STDP_T - 5.0, 8), 1).tolist())) for _ in range(6)]
    src = net.add_population(2 * n_pre, snn.SpikeSource(times=pre_times), label="src")
    drv = net.add_population(6, snn.SpikeSource(times=drive), label="drv")
    lif = snn.LIF(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, tau_syn_exc=0.5,
                  tau_syn_inh=0.5, tau_refrac=2.0)  # fmt: skip
    post_e = net.add_population(n_post, lif, label="post_e")
    post_i = net.add_population(n_post, lif, label="post_i")
    net.connect(drv[:3], post_e, snn.OneToOne(), weight=20.0, delay=STDP_DT)
    net.connect(drv[3:], post_i, snn.OneToOne(), weight=20.0, delay=STDP_DT)
    pre, post = (a.ravel() for a in np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij"))
    projs = []
    for view, target, rule in (
        (src[:n_pre], post_e, snn.STDP(17.0, 27.0, 0.05, 0.06, w_max=0.5)),
        (src[n_pre:], post_i, snn.STDP(23.0, 31.0, 0.3, 0.36, w_max=-0.5,
                                       weight_dependence="multiplicative")),
    ):  # fmt: skip
        w0 = rng.uniform(0.1, 0.9, pre.size) * rule.w_max
        d = rng.integers(1, 31, pre.size) * STDP_DT
        projs.append(
            net.connect(view, target, snn.FromList(pre, post, w0, d), plasticity=rule,
                        receptor="exc" if rule.w_max > 0 else "inh")
        )  # fmt: skip
    recs: list[object] = [net.record_spikes(post_e), net.record_spikes(post_i), *projs]
    return net, recs


def test_stdp_script_writes_spike_pair_mechanisms(rng: np.random.Generator) -> None:
    net, _ = _stdp_network(rng)
    assert hw.check(net, "spinnaker1").ok
    text = pynn_script(net)
    ast.parse(text)
    assert text.count("synapse_type=stdp(sim, backend, ") == 2
    assert text.count("sim.StaticSynapse()") == 2  # the drivers
    assert "sim.SpikePairRule(" in text and "sim.STDPMechanism(" in text
    assert (
        "tau_plus=17.0, tau_minus=27.0, A_plus=0.05, A_minus=0.06, w_min=0.0, w_max=0.5, "
        "dependence='additive'" in text
    )
    # the inhibitory rule as magnitudes on the inhibitory receptor (sign -1 for pyNN.nest)
    assert (
        "stdp(sim, backend, -1, tau_plus=23.0, tau_minus=31.0, A_plus=0.3, A_minus=0.36, "
        "w_min=0.0, w_max=0.5, dependence='multiplicative'), receptor_type='inhibitory'" in text
    )
    signs = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "conns":
            signs.append({float(np.sign(c[2])) for c in ast.literal_eval(node.value)})
    # plastic lists hold magnitudes (sPyNNaker); signed() negates them on pyNN.nest
    assert signs == [{1.0}] * 4
    assert "signed(conns, -1, backend)" in text


def test_stdp_refusals_name_the_rule(rng: np.random.Generator, tmp_path: Path) -> None:
    net = snn.Network(dt=1.0, seed=1)
    a = net.add_population(4, snn.SpikeSource(times=[[1.0]] * 4), label="a")
    b = net.add_population(4, snn.LIF(), label="b")
    net.connect(a, b, snn.AllToAll(), weight=0.1, plasticity=snn.STDP(pairing="nearest"))
    report = hw.check(net, "spinnaker1")
    assert [v.rule for v in report.errors] == ["spinnaker_stdp"]
    assert "SpikeNearestPairRule is presynaptic-centred" in report.errors[0].message
    with pytest.raises(HardwareConstraintError, match="spinnaker_stdp"):
        hw.export(net, "pynn", tmp_path / "x.py")
    with pytest.raises(HardwareConstraintError, match="SpikeNearestPairRule"):
        pynn_script(net)  # the exporter itself refuses too
    text = pynn_script(net, drop=["spinnaker_stdp"])
    assert "written as static synapses" in text and "stdp(sim, backend, 1" not in text
    assert "synapse_type=sim.StaticSynapse()" in text
    # two different rules onto one population: sPyNNaker keeps one synapse dynamics
    net2 = snn.Network(dt=1.0, seed=1)
    a2 = net2.add_population(4, snn.SpikeSource(times=[[1.0]] * 4), label="a")
    b2 = net2.add_population(4, snn.LIF(), label="b")
    net2.connect(a2, b2, snn.AllToAll(), weight=0.1, plasticity=snn.STDP(w_max=0.5))
    net2.connect(a2, b2, snn.AllToAll(), weight=-0.1, receptor="inh",
                 plasticity=snn.STDP(w_max=-1.0))  # fmt: skip
    errors = hw.check(net2, "spinnaker1").errors
    assert [v.rule for v in errors] == ["spinnaker_stdp"]
    assert "one synapse dynamics per post population" in errors[0].message
    # the same magnitudes are one rule (exc and inh parts share sPyNNaker's dynamics)
    net3 = snn.Network(dt=1.0, seed=1)
    a3 = net3.add_population(4, snn.SpikeSource(times=[[1.0]] * 4), label="a")
    b3 = net3.add_population(4, snn.LIF(), label="b")
    net3.connect(a3, b3, snn.AllToAll(), weight=0.1, plasticity=snn.STDP(w_min=0.05, w_max=0.5))
    net3.connect(a3, b3, snn.AllToAll(), weight=-0.1, receptor="inh",
                 plasticity=snn.STDP(w_min=-0.05, w_max=-0.5))  # fmt: skip
    report3 = hw.check(net3, "spinnaker1")
    assert report3.ok and {v.rule for v in report3.warnings} == {"spinnaker_stdp"}
    assert "pyNN.nest refuses a nonzero minimum weight" in pynn_script(net3)


def test_stdp_weights_and_spikes_equal_snnsim_on_pynn_nest(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    """Learned weights of the exported script on pyNN.nest (NEST stdp_synapse) = snnsim's.

    Tolerance 1e-6 relative: the weights pass through PyNN (nA <-> pA), which loses about
    float32 precision (measured: 1.4e-8 nA on weights of ~0.3 nA); every pairing is the same.
    """
    pytest.importorskip("pyNN")
    pytest.importorskip("nest")
    net, (r_e, r_i, p_e, p_i) = _stdp_network(rng)
    script = hw.export(net, "pynn", tmp_path / "stdp.py", duration=STDP_T + 10.0)
    initial = [np.array(p.get(["weight"], format="list")) for p in (p_e, p_i)]  # type: ignore[attr-defined]
    net.run(STDP_T)
    _run_script(script, "--out", str(tmp_path / "w.npz"))
    res = np.load(tmp_path / "w.npz")
    for label, rec in (("post_e", r_e), ("post_i", r_i)):
        keep = res[f"{label}/spike_times"] < STDP_T  # the script runs 10 ms longer
        np.testing.assert_allclose(res[f"{label}/spike_times"][keep], rec.times, atol=1e-6)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(res[f"{label}/spike_ids"][keep], rec.ids)  # type: ignore[attr-defined]
        assert rec.count > 10  # type: ignore[attr-defined]
    for proj, name, w0 in zip((p_e, p_i), ("proj2_exc", "proj3_inh"), initial, strict=True):
        ours = np.array(proj.get(["weight"], format="list"))  # type: ignore[attr-defined]
        # the script's (pre, post) are indices in the whole source population
        offset = 0 if name == "proj2_exc" else 8
        theirs = res[f"{name}/weights"] - [offset, 0, 0]
        ours, theirs, w0 = (x[np.lexsort((x[:, 1], x[:, 0]))] for x in (ours, theirs, w0))
        np.testing.assert_array_equal(theirs[:, :2], ours[:, :2])
        np.testing.assert_array_equal(w0[:, :2], ours[:, :2])
        assert np.max(np.abs(ours[:, 2] - w0[:, 2])) > 0.05 * abs(proj.plasticity.w_max)  # type: ignore[attr-defined]
        np.testing.assert_allclose(theirs[:, 2], ours[:, 2], rtol=1e-6, atol=1e-9)
