"""Issue 8, section 3: saving or plotting to a bad destination names the user's path.

``snn.save`` to a missing folder, to a directory or with a non-path argument fails before
anything is built or written, naming the path given (not a temporary file);
``snnsim plot -o`` with an unknown extension or a missing folder exits non-zero with one
clear line and creates nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.cli import main
from snnsim.errors import ParameterError


def _net() -> snn.Network:
    net = snn.Network(dt=0.1)
    net.add_population(2, snn.LIF())
    return net


def test_save_to_missing_folder_names_the_path(tmp_path: Path) -> None:
    """A missing folder: FileNotFoundError naming the folder and the user's file."""
    target = tmp_path / "missing" / "net.h5"
    net = _net()
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        snn.save(net, target)
    assert info.value.filename == str(target)
    assert ".tmp" not in str(info.value)
    assert net.built_engine() is None  # refused before building
    assert not (tmp_path / "missing").exists()


def test_save_to_a_directory_names_the_path(tmp_path: Path) -> None:
    """A directory: IsADirectoryError naming it, no temporary file left behind."""
    with pytest.raises(IsADirectoryError, match="is a directory") as info:
        snn.save(_net(), tmp_path)
    assert info.value.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [5, None, b"net.h5", ["net.h5"], ""])
def test_save_with_a_non_path(path: object) -> None:
    """A non-path argument: ParameterError naming the value and what is allowed."""
    with pytest.raises(ParameterError, match=r"save\(path="):
        snn.save(_net(), path)  # type: ignore[arg-type]


def _spikes(tmp_path: Path) -> Path:
    path = tmp_path / "spikes.h5"
    snn.write_sonata_spikes(str(path), {"a": (np.array([1.0, 2.0]), np.array([0, 1]))})
    return path


@pytest.mark.parametrize("name", ["raster.xyz", "raster"])
def test_plot_unknown_extension(tmp_path: Path, name: str, capsys) -> None:
    """plot -o with an unknown or no extension: exit 2, one line listing the allowed ones."""
    out = tmp_path / name
    assert main(["plot", str(_spikes(tmp_path)), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("snnsim plot: error:") and len(err.strip().splitlines()) == 1
    assert ".png" in err and ".pdf" in err
    assert not out.exists()


def test_plot_missing_folder(tmp_path: Path, capsys) -> None:
    """plot -o into a missing folder: exit 2 naming the folder; the folder is not created."""
    out = tmp_path / "nope" / "raster.png"
    assert main(["plot", str(_spikes(tmp_path)), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and str(tmp_path / "nope") in err
    assert len(err.strip().splitlines()) == 1
    assert not out.parent.exists()


def test_run_out_checked_before_running(tmp_path: Path, capsys) -> None:
    """snnsim run --out into a missing folder fails before loading and running."""
    src = tmp_path / "net.h5"
    snn.save(_net(), src)
    code = main(["run", str(src), "--duration", "1", "--out", str(tmp_path / "no" / "x.h5")])
    assert code == 2
    err = capsys.readouterr().err
    assert "snnsim run --out" in err and "does not exist" in err
