"""``snnsim check`` and ``snnsim export`` on checkpoint files."""

from __future__ import annotations

from pathlib import Path

import pytest

import snnsim as snn
from snnsim.cli import main


def _checkpoint(tmp_path: Path) -> Path:
    net = snn.Network(dt=1.0, seed=4)
    inp = net.add_population(5, snn.SpikeSource(times=[[2.0, 9.0]] * 5), label="input")
    out = net.add_population(3, snn.LIF(tau_refrac=0.0), label="out")
    net.connect(inp, out, snn.AllToAll(), weight=0.5, delay=2.0)
    path = tmp_path / "net.h5"
    snn.save(net, str(path))
    return path


def test_check_prints_the_report_and_exits_by_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _checkpoint(tmp_path)
    assert main(["check", str(path), "--target", "spinnaker1"]) == 0
    assert main(["check", str(path), "--target", "loihi2"]) == 1
    text = capsys.readouterr().out
    assert "neuron_models" in text and "'out'" in text


def test_export_writes_a_nir_file_that_nir_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nir = pytest.importorskip("nir")
    path = _checkpoint(tmp_path)
    target = tmp_path / "net.nir"
    assert main(["export", str(path), "--to", "nir", "--out", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    graph = nir.read(str(target))
    assert "out" in graph.nodes


def test_export_refuses_what_the_target_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _checkpoint(tmp_path)
    assert main(["export", str(path), "--to", "netx", "--out", str(tmp_path / "x.net")]) == 2
    assert "neuron_models" in capsys.readouterr().err
    assert not (tmp_path / "x.net").exists()


def test_export_writes_a_pynn_script_from_a_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import ast

    path = _checkpoint(tmp_path)
    target = tmp_path / "net_pynn.py"
    assert main(["export", str(path), "--to", "pynn", "--out", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    text = target.read_text()
    ast.parse(text)  # a valid Python script
    assert "sim.IF_curr_exp(" in text and "sim.SpikeSourceArray(" in text
    assert "sim.FromListConnector(" in text


def test_export_writes_a_netx_file_from_a_loihi_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import h5py

    net = snn.Network(dt=1.0, seed=4)
    inp = net.add_population(4, snn.SpikeSource(times=[[2.0, 5.0]] * 4), label="input")
    out = net.add_population(3, snn.LoihiLIF(du=4095, dv=400, vth=100), label="out")
    net.connect(inp, out, snn.AllToAll(), weight=[[50, -30, 20]] * 4, delay=1.0)
    path = tmp_path / "loihi.h5"
    snn.save(net, str(path))
    target = tmp_path / "net.net"
    assert main(["export", str(path), "--to", "netx", "--out", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    with h5py.File(target, "r") as f:
        assert "layer" in f
        assert {"iDecay", "vDecay", "vThMant"} <= set(f["layer/1/neuron"])
