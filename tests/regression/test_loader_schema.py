"""Issue 7 item 6: one state registry, schema version 2, and load's narrowed error handling."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import snnsim as snn
from snnsim import engine_state, h5safe
from snnsim import io as snnio
from snnsim.engine import Engine
from snnsim.errors import FileFormatError


def _net(precision: str = "double") -> snn.Network:
    net = snn.Network(dt=0.1, seed=13, threads=1, precision=precision)
    a = net.add_population(50, snn.LIF(i_offset=2.0), label="a")
    s = net.add_population(3, snn.SpikeSource([[1.0, 2.0], [], [0.5]]), label="s")
    net.connect(a, a, snn.FixedProbability(0.2), weight=snn.Uniform(0.0, 0.3), delay=1.0)
    net.connect(a[:5], a, snn.FixedProbability(0.2), weight=-0.3, delay=0.5, receptor="inh")
    net.connect(s, a, snn.AllToAll(), weight=0.5, delay=2.0)
    net.add_input(a, snn.PoissonInput(5, 100.0, 0.3))
    net.add_input(a[:7], snn.StepCurrent([1.0, 8.0], [0.5, 0.0]))
    net.record_spikes(a)
    return net


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = _net()
    net.run(6.0)
    path = tmp_path_factory.mktemp("schema") / "net.h5"
    snn.save(net, path)
    return path


def test_registry_declares_every_engine_field() -> None:
    """Each Engine field is declared once: array, scalar, run configuration or unsaved."""
    engine_state.check_registry()
    fields = {f.name for f in dataclasses.fields(Engine)}
    arrays = {a.name for a in engine_state.ENGINE_ARRAYS}
    scalars = {s.name for s in engine_state.ENGINE_SCALARS}
    assert (
        arrays | scalars | set(engine_state.CONFIG_FIELDS) | set(engine_state.UNSAVED_FIELDS)
        == fields
    )
    assert set(snnio.ENGINE_ARRAYS) | set(snnio.DERIVED_ENGINE_ARRAYS) == arrays


def test_undeclared_engine_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Removing a registry entry (as if a new Engine array had none) fails save loudly."""
    entries = tuple(a for a in engine_state.ENGINE_ARRAYS if a.name != "spike_count")
    monkeypatch.setattr(engine_state, "ENGINE_ARRAYS", entries)
    with pytest.raises(RuntimeError, match=r"undeclared \['spike_count'\]"):
        engine_state.check_registry()


@pytest.mark.parametrize("precision", ["double", "single"])
def test_every_declared_array_round_trips(tmp_path: Path, precision: str) -> None:
    """Every registry array (saved or derived) comes back equal, with its dtype."""
    net = _net(precision)
    net.run(6.0)
    snn.save(net, tmp_path / "n.h5")
    net2 = snn.load(tmp_path / "n.h5")
    for entry in engine_state.ENGINE_ARRAYS:
        a, b = getattr(net.engine, entry.name), getattr(net2.engine, entry.name)
        assert a.dtype == b.dtype and np.array_equal(a, b), entry.name
        allowed = entry.dtype.for_precision(precision)
        assert any(b.dtype == np.dtype(t) for t in allowed), entry.name
    for scalar in engine_state.ENGINE_SCALARS:
        assert getattr(net.engine, scalar.name) == getattr(net2.engine, scalar.name)
    with h5py.File(tmp_path / "n.h5", "r") as f:
        for entry in engine_state.saved_arrays():
            assert f["engine"][entry.name].attrs["units"] == entry.units
        for scalar in engine_state.ENGINE_SCALARS:
            assert f["engine"].attrs[f"{scalar.name}_units"] == scalar.units


def test_version_1_file_is_refused_with_supported_versions(saved: Path, tmp_path: Path) -> None:
    """A version-1 file gets a FileFormatError that names the versions this snnsim reads."""
    old = tmp_path / "v1.h5"
    shutil.copy(saved, old)
    with h5py.File(old, "r+") as f:
        f.attrs["schema_version"] = np.int64(1)
    with pytest.raises(
        FileFormatError, match=r"version 1 is not supported.*reads schema version\(s\) 2"
    ):
        snn.load(old)
    assert snnio.SCHEMA_VERSION == 2 and snnio.SUPPORTED_SCHEMA_VERSIONS == (2,)


def _raise(exc: Exception) -> Any:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return boom


@pytest.mark.parametrize(
    ("where", "name", "exc"),
    [
        (h5safe.Reader, "attr_float", TypeError("bug in a reader helper")),
        (engine_state.Layout, "expected", KeyError("bug in the layout")),
        (snnio, "read_description", AttributeError("bug in the description reader")),
        (snnio, "read_engine", ValueError("bug in the engine reader")),
    ],
)
def test_programming_errors_are_not_reported_as_bad_files(
    saved: Path, monkeypatch: pytest.MonkeyPatch, where: Any, name: str, exc: Exception
) -> None:
    """An exception raised by snnsim's own code propagates as itself, not FileFormatError."""
    monkeypatch.setattr(where, name, _raise(exc))
    with pytest.raises(type(exc)) as info:
        snn.load(saved)
    assert not isinstance(info.value, FileFormatError)
    assert info.value is exc


def test_h5py_errors_inside_reader_calls_are_file_errors(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What h5py raises on a damaged object (KeyError, OSError...) is a FileFormatError."""
    real_get = h5py.Group.get

    def damaged(self: h5py.Group, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "syn_code":
            raise KeyError("Unable to synchronously open object (bad object header)")
        return real_get(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "get", damaged)
    with pytest.raises(FileFormatError, match=r"syn_code.*bad object header"):
        snn.load(saved)
