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
    script = export_pynn(net, tmp_path / "net.py", duration=20.0, backend="spinnaker")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    env = {**os.environ, "HOME": str(home)}
    elapsed = _run_script(script, "--out", str(tmp_path / "s.npz"), env=env)
    print(f"sPyNNaker virtual-board run of the exported script: {elapsed:.1f} s")
    assert (tmp_path / "reports").is_dir()


def test_rounded_source_times_are_written_on_the_grid() -> None:
    net = snn.Network(dt=0.1, seed=1)
    net.add_population(1, snn.SpikeSource(times=[[1.04, 2.26]], round_times=True), label="s")
    text = pynn_script(net)
    assert "times = [[1.0, 2.3000000000000003]]" in text or "times = [[1.0, 2.3]]" in text
