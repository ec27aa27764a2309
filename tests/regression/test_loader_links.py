"""Issue 8 section 7: every HDF5 link in a checkpoint or SONATA file is refused, unfollowed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import pytest

import snnsim as snn
from snnsim.errors import FileFormatError


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = snn.Network(dt=0.1, seed=3, threads=1)
    a = net.add_population(30, snn.LIF(i_offset=0.5), label="a")
    net.connect(a, a, snn.FixedProbability(0.2), weight=0.2, delay=1.0)
    net.record_spikes(a)
    net.run(5.0)
    path = tmp_path_factory.mktemp("links") / "net.h5"
    snn.save(net, path)
    return path


def _soft_cycle(f: h5py.File) -> None:
    f["loop"] = h5py.SoftLink("/loop")


def _soft_cycle_pair(f: h5py.File) -> None:
    f["description/a"] = h5py.SoftLink("/description/b")
    f["description/b"] = h5py.SoftLink("/description/a")


def _soft_to_existing(f: h5py.File) -> None:
    f["engine/alias"] = h5py.SoftLink("/engine/fstate")


def _soft_replacing_dataset(f: h5py.File) -> None:
    f["engine/fstate_data"] = f["engine/fstate"]
    del f["engine/fstate"]
    f["engine/fstate"] = h5py.SoftLink("/engine/fstate_data")


def _external(f: h5py.File) -> None:
    f["recorders/extra"] = h5py.ExternalLink("/etc/passwd", "/x")


def _hard_alias(f: h5py.File) -> None:
    f["engine/alias"] = f["engine/fstate"]


def _hard_cycle(f: h5py.File) -> None:
    f["description/up"] = f["/"]


LINKS: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "soft link cycle /loop -> /loop": (_soft_cycle, "soft link"),
    "soft link cycle of two": (_soft_cycle_pair, "soft link"),
    "soft link to an existing dataset": (_soft_to_existing, "soft link"),
    "soft link standing in for a dataset": (_soft_replacing_dataset, "soft link"),
    "external link": (_external, "external link"),
    "hard link to a visited dataset": (_hard_alias, "hard link"),
    "hard link cycle to the root": (_hard_cycle, "hard link"),
}


@pytest.mark.parametrize("case", list(LINKS))
def test_links_are_refused(checkpoint: Path, tmp_path: Path, case: str) -> None:
    """A link of any kind is a FileFormatError (never SystemError or a followed link)."""
    bad = tmp_path / "bad.h5"
    shutil.copy(checkpoint, bad)
    edit, expected = LINKS[case]
    with h5py.File(bad, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=expected):
        snn.load(bad)


@pytest.mark.parametrize("case", ["soft link cycle /loop -> /loop", "hard link cycle to the root"])
def test_sonata_links_are_refused(tmp_path: Path, case: str) -> None:
    """SONATA spike reports get the same link checks."""
    path = tmp_path / "s.h5"
    snn.write_sonata_spikes(path, {"a": ([1.0], [0])})
    edit, expected = LINKS[case]
    with h5py.File(path, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=expected):
        snn.read_sonata_spikes(path)
