"""Issue 8 section 7: load re-checks the invariants the API enforces (signs, finiteness, ranges)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import FileFormatError


def _net(weight: Any, delay: float, n: int) -> snn.Network:
    net = snn.Network(dt=0.1, seed=11, threads=1)
    a = net.add_population(n, snn.LIF(i_offset=2.0), label="a")
    net.connect(a, a, snn.FixedProbability(0.1), weight=weight, delay=delay)
    net.connect(a[:10], a, snn.FixedProbability(0.2), weight=-0.2, delay=delay, receptor="inh")
    net.add_input(a, snn.PoissonInput(5, 100.0, 0.3))
    net.record_spikes(a)
    net.record_state(a[:3], "v", every=2)
    return net


#: storage of the weights -> (weight, delay, n, expected w_mode)
STORAGE: dict[str, tuple[Any, float, int, int]] = {
    "by receptor": (0.3, 0.5, 60, 2),
    "indexed table": (snn.Uniform(0.0, 0.5), 0.5, 60, 1),
    "per-synapse values": (snn.Uniform(0.0, 0.5), 30.0, 1000, 0),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    folder = tmp_path_factory.mktemp("invariants")
    for case, (weight, delay, n, w_mode) in STORAGE.items():
        net = _net(weight, delay, n)
        net.run(12.0)
        assert net.engine.w_mode == w_mode
        out[case] = folder / f"{w_mode}.h5"
        snn.save(net, out[case])
    return out


def _first_synapse(f: h5py.File, receptor: int) -> int:
    code = f["engine/syn_code"][()]
    return int(np.flatnonzero((code & 1) == receptor)[0])


def _exc_weight(value: float) -> Callable[[h5py.File], None]:
    """Set the weight of one excitatory synapse to ``value``, whatever the storage."""

    def edit(f: h5py.File) -> None:
        mode = int(f["engine"].attrs["w_mode"])
        table = f["engine/w_table"]
        if mode == 2:
            table[0] = value
        elif mode == 1:
            # the smallest excitatory entry becomes ``value``; the table stays ascending
            t = table[()]
            k = int(np.flatnonzero(t >= 0)[0])
            assert t[k - 1] < value < t[k + 1]
            table[k] = value
        else:
            f["engine/syn_weight"][_first_synapse(f, 0)] = value

    return edit


def _inh_weight(value: float) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        mode = int(f["engine"].attrs["w_mode"])
        if mode == 2:
            f["engine/w_table"][1] = value
        elif mode == 0:
            f["engine/syn_weight"][_first_synapse(f, 1)] = value
        else:
            pytest.skip("an indexed table has no free slot between the inhibitory values")

    return edit


@pytest.mark.parametrize("storage", list(STORAGE))
def test_negative_excitatory_weight_is_refused(
    saved: dict[str, Path], tmp_path: Path, storage: str
) -> None:
    """An excitatory weight of -0.1 nA is refused in every weight storage (it loaded before)."""
    bad = tmp_path / "bad.h5"
    shutil.copy(saved[storage], bad)
    with h5py.File(bad, "r+") as f:
        _exc_weight(-0.1)(f)
    with pytest.raises(FileFormatError, match=r"-0\.1 on receptor 'exc'.*must be >= 0"):
        snn.load(bad)


@pytest.mark.parametrize("storage", list(STORAGE))
def test_positive_inhibitory_weight_is_refused(
    saved: dict[str, Path], tmp_path: Path, storage: str
) -> None:
    """An inhibitory weight of +0.1 nA is refused."""
    bad = tmp_path / "bad.h5"
    shutil.copy(saved[storage], bad)
    with h5py.File(bad, "r+") as f:
        _inh_weight(0.1)(f)
    with pytest.raises(FileFormatError, match=r"0\.1 on receptor 'inh'"):
        snn.load(bad)


def _poisson_weight(f: h5py.File) -> None:
    f["engine/pin_w"][0] = -0.1
    f["description/inputs/0"].attrs["weight"] = -0.1


def _set(name: str, index: Any, value: Any) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f[name][index] = value

    return edit


def _ring_sign(f: h5py.File) -> None:
    ring = f["engine/ring"][()]
    ring[0, 0] = -1.0  # receptor plane 0 (exc) of neuron 0
    f["engine/ring"][...] = ring


INVARIANTS: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "Poisson weight sign": (_poisson_weight, "pin_w.*wrong-sign receptor"),
    "Poisson weight differs from the description": (_set("engine/pin_w", 0, 0.25), "pin_w"),
    "Poisson probability": (_set("engine/pin_p", 0, 0.5), "pin_p"),
    "Poisson receptor": (_set("engine/pin_rec", 0, 1), "pin_rec"),
    "Poisson count": (_set("engine/pin_n", 0, 10**9), "pin_n"),
    "spike in flight of the wrong sign": (_ring_sign, "ring.*wrong sign"),
    "Inf in flight": (_set("engine/ring", (0, 1), np.inf), "ring.*NaN or Inf"),
    "NaN current": (_set("engine/i_ext", 0, np.nan), "i_ext.*NaN"),
    "Inf membrane": (_set("engine/fstate", 0, -np.inf), "fstate.*NaN or Inf"),
    "negative spike count": (_set("engine/spike_count", 0, -1), "spike_count.*>= 0"),
    "refractory beyond tau_refrac": (_set("engine/istate", 0, 10**6), "refractory"),
    "NaN recorded membrane": (_set("recorders/1/data", (0, 0), np.nan), "data.*NaN"),
    "recorded spike of an unrecorded neuron": (_set("recorders/0/ids", 0, 10**5), "ids"),
}


@pytest.mark.parametrize("case", list(INVARIANTS))
def test_invariants_are_rechecked(saved: dict[str, Path], tmp_path: Path, case: str) -> None:
    """Each invariant the API enforces is checked again on load."""
    bad = tmp_path / "bad.h5"
    shutil.copy(saved["by receptor"], bad)
    edit, expected = INVARIANTS[case]
    with h5py.File(bad, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=expected):
        snn.load(bad)


@pytest.mark.parametrize("storage", list(STORAGE))
def test_valid_files_still_load_and_run(saved: dict[str, Path], storage: str) -> None:
    """The checks accept what save writes, and the loaded network runs."""
    net = snn.load(saved[storage])
    assert net.step == 120 and net.recorders[0].count > 0
    net.run(1.0)
    assert net.step == 130


@pytest.mark.parametrize(
    ("group", "receptor", "expected"),
    [
        ("inputs/0", "foo", "receptor.*'foo' not in LIF's receptors"),
        ("inputs/1", "syn", "receptor.*LIFDelta has a single receptor"),
        ("projections/0", "foo", "receptor.*'foo' not in LIF's receptors"),
        ("projections/1", "syn", "receptor.*LIFDelta has a single receptor"),
    ],
)
def test_receptor_names_are_rechecked(
    tmp_path: Path, group: str, receptor: str, expected: str
) -> None:
    """A receptor the target model lacks is a FileFormatError (it was a bare ValueError)."""
    net = snn.Network(dt=0.1, seed=1, threads=1)
    a = net.add_population(10, snn.LIF(), label="a")
    d = net.add_population(10, snn.LIFDelta(), label="d")
    net.connect(a, a, snn.AllToAll(), weight=0.1, delay=1.0)
    net.connect(a, d, snn.AllToAll(), weight=-0.1, delay=1.0)
    net.add_input(a, snn.PoissonInput(5, 100.0, 0.3))
    net.add_input(d, snn.PoissonInput(5, 100.0, -0.3))
    path = tmp_path / "r.h5"
    snn.save(net, path)
    with h5py.File(path, "r+") as f:
        f[f"description/{group}"].attrs["receptor"] = receptor
    with pytest.raises(FileFormatError, match=expected):
        snn.load(path)


@pytest.mark.parametrize(
    ("name", "value"), [("ev_last", -(10**15)), ("ev_last", 10**9), ("ev_blk", -1)]
)
def test_event_driven_stamps_are_rechecked(tmp_path: Path, name: str, value: int) -> None:
    """Stamps outside [0, step] are refused: the engine stamps only steps it has reached."""
    net = snn.Network(dt=0.1, seed=1, threads=1, event_driven=True)
    a = net.add_population(100, snn.LIF(), label="a")
    net.connect(a, a, snn.FixedProbability(0.1), weight=0.1, delay=1.0)
    net.add_input(a, snn.PoissonInput(5, 50.0, 0.5))
    net.run(2.0)
    assert net.engine.ev_last.size == 100
    path = tmp_path / "e.h5"
    snn.save(net, path)
    with h5py.File(path, "r+") as f:
        f[f"engine/{name}"][0] = value
    with pytest.raises(FileFormatError, match=rf"{name}.*stamps must be in \[0, 20\]"):
        snn.load(path)
