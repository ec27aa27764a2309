"""Plots (snnsim.plot) and the command line (snnsim.cli)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba

import snnsim as snn
from snnsim.cli import main
from snnsim.errors import ParameterError


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    plt.close("all")


def _small_net() -> tuple[snn.Network, snn.SpikeRecorder, snn.StateRecorder, snn.RateRecorder]:
    net = snn.Network(dt=0.1, seed=3)
    pop = net.add_population(5, snn.LIF(i_offset=2.0, tau_refrac=2.0), label="pop")
    spikes = net.record_spikes(pop)
    trace = net.record_state(pop[0:3], ["v", "i_exc"])
    rates = net.record_rates(pop, bin_size=1.0)
    net.run(50.0)
    return net, spikes, trace, rates


# ----------------------------------------------------------------------------- plots
def test_raster_recorder_returns_axes_and_passes_kwargs() -> None:
    _, spikes, _, _ = _small_net()
    assert spikes.count > 0
    ax = snn.plot.raster(spikes, color="red")
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "time (ms)"
    assert ax.get_ylabel() == "neuron"
    coll = ax.collections[0]
    np.testing.assert_allclose(coll.get_offsets()[:, 0], spikes.times)
    np.testing.assert_allclose(coll.get_facecolors()[0], to_rgba("red"))


def test_raster_tuple_into_given_axes() -> None:
    _, ax0 = plt.subplots()
    ax = snn.plot.raster((np.array([1.0, 2.0, 3.0]), np.array([0, 2, 1])), ax=ax0, s=5)
    assert ax is ax0
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], [0, 2, 1])


def test_raster_rejects_bad_input() -> None:
    with pytest.raises(ParameterError, match="must match"):
        snn.plot.raster((np.zeros(3), np.zeros(2)))
    with pytest.raises(ParameterError, match="SpikeRecorder"):
        snn.plot.raster("spikes")  # type: ignore[arg-type]


def test_traces_one_line_per_neuron_with_unit() -> None:
    _, _, trace, _ = _small_net()
    ax = snn.plot.traces(trace, color="C2")
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 3
    assert ax.get_ylabel() == "v (mV)"
    assert ax.get_xlabel() == "time (ms)"
    assert all(to_rgba(line.get_color()) == to_rgba("C2") for line in ax.lines)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), trace["v"][:, 1])
    ax2 = snn.plot.traces(trace, "i_exc")
    assert ax2.get_ylabel() == "i_exc (nA)"
    with pytest.raises(ParameterError, match="not recorded"):
        snn.plot.traces(trace, "i_inh")


def test_rates_plot() -> None:
    _, _, _, rates = _small_net()
    ax = snn.plot.rates(rates, color="k", lw=2)
    assert isinstance(ax, Axes)
    assert ax.get_ylabel() == "rate (Hz)"
    assert ax.lines[0].get_linewidth() == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), rates.rates)


# ----------------------------------------------------------------------------- CLI
def test_info(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in (
        "snnsim",
        "numpy",
        "numba",
        "h5py",
        "matplotlib",
        "python",
        "threading layer",
        "numba cache dir",
        "CPU count",
    ):
        assert key in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_console_script_info() -> None:
    exe = shutil.which("snnsim") or str(Path(sys.executable).with_name("snnsim"))
    if not os.path.exists(exe):
        pytest.skip("the snnsim console script is not installed")
    res = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert "numba" in res.stdout
    assert snn.__version__ in res.stdout


def test_missing_file_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.h5")
    assert main(["run", missing, "--duration", "1", "--out", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err
    assert "nope.h5" in err and "Traceback" not in err
    assert main(["plot", missing, "-o", str(tmp_path / "x.png")]) == 2


def test_bad_file_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"this is not an HDF5 file")
    assert main(["run", str(bad), "--duration", "1", "--out", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("snnsim run: error:") and len(err.strip().splitlines()) == 1
    assert main(["plot", str(bad), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("snnsim plot: error:") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.h5").exists()


def test_demo_writes_png_and_sonata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--duration", "50", "--out", str(tmp_path), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    png = tmp_path / "cuba_raster.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = snn.read_sonata_spikes(str(tmp_path / "cuba_spikes.h5"))
    assert set(data) == {"exc", "inh"}
    n_spikes = 0
    for label, (times, ids) in data.items():
        assert np.all((np.asarray(times) > 0) & (np.asarray(times) <= 50.0))
        assert np.asarray(ids).max() < (3200 if label == "exc" else 800)
        n_spikes += len(times)
    assert n_spikes > 0


def test_demo_summary_numbers(tmp_path: Path) -> None:
    from snnsim.demo import build_cuba, run_demo

    res = run_demo(duration=20.0, out_dir=tmp_path, quiet=True, threads=1)
    assert res["neurons"] == 4000
    # 4 projections with p = 0.02 over 4000 x 4000 pairs: 320000 +- a few sd
    assert abs(res["synapses"] - 320_000) < 5 * np.sqrt(320_000)
    for key in (
        "build_s",
        "compile_s",
        "run_s",
        "events_per_s",
        "updates_per_s",
        "real_time_factor",
        "mean_rate_hz",
    ):
        assert res[key] >= 0
    net, recs = build_cuba(n=500, seed=2)
    assert [p.size for p in net.populations] == [400, 100]
    assert set(recs) == {"exc", "inh"}


def test_demo_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--duration", "10", "--out", str(tmp_path), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    for key in (
        "neurons",
        "synapses",
        "compile",
        "spikes",
        "mean rate",
        "synaptic events/s",
        "neuron updates/s",
        "real-time factor",
    ):
        assert key in out


def test_run_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = snn.Network(dt=0.1, seed=5)
    src = net.add_population(20, snn.PoissonSource(rate=50.0), label="src")
    pop = net.add_population(10, snn.LIF(), label="pop")
    net.connect(src, pop, snn.FixedProbability(0.5), weight=0.5, delay=1.0)
    net.record_spikes(pop)
    net.run(10.0)
    ckpt = tmp_path / "net.h5"
    snn.save(net, str(ckpt))
    out = tmp_path / "out.h5"
    assert main(["run", str(ckpt), "--duration", "20", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    again = snn.load(str(out))
    assert again.t == pytest.approx(30.0)
    assert main(["run", str(ckpt), "--duration", "5", "--out", str(out)]) == 0
    assert "spikes" in capsys.readouterr().out
    assert snn.load(str(out)).t == pytest.approx(15.0)


def test_plot_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spikes.h5"
    snn.write_sonata_spikes(
        str(path),
        {
            "a": (np.array([1.0, 2.0, 3.0]), np.array([0, 1, 2])),
            "b": (np.array([1.5]), np.array([0])),
        },
    )
    png = tmp_path / "sub" / "raster.png"
    png.parent.mkdir()  # plot -o does not create folders
    assert main(["plot", str(path), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4 spikes in 2 population(s)" in capsys.readouterr().out
