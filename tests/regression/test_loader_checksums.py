"""Issue 8 section 7: datasets carry Fletcher-32 checksums; a flipped bit is a FileFormatError."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import FileFormatError


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    net = snn.Network(dt=0.1, seed=7, threads=1)
    a = net.add_population(400, snn.LIF(i_offset=0.8), label="a")
    net.connect(a, a, snn.FixedProbability(0.05), weight=snn.Uniform(0.0, 0.2), delay=1.0)
    net.record_state(a[:20], "v", every=1)
    a.initialize(v=snn.Uniform(-65.0, -55.0))
    net.run(5.0)
    path = tmp_path / "net.h5"
    snn.save(net, path)
    return path


def _flip_bit(path: Path, dataset: str, byte: int, bit: int = 3) -> float:
    """Flip one bit of ``dataset``'s stored bytes in the raw file; return the changed value."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        assert ds.fletcher32, f"{dataset} is stored without a checksum"
        chunk = ds.id.get_chunk_info(0)
        assert byte < chunk.size - 4  # the last 4 bytes of a chunk are its checksum
        offset = chunk.byte_offset + byte
        before = ds[()].reshape(-1)[byte // ds.dtype.itemsize]
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([b ^ (1 << bit)]))
    return float(before)


def test_every_array_dataset_has_a_checksum(saved: Path) -> None:
    """Every non-scalar dataset save writes is chunked with Fletcher-32."""
    with h5py.File(saved, "r") as f:
        names: list[str] = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for name in names:
            if f[name].ndim:
                assert f[name].fletcher32, name


@pytest.mark.parametrize(
    ("dataset", "byte"),
    [("engine/fstate", 8 * 123 + 6), ("recorders/0/data", 8 * 7 + 5), ("engine/syn_code", 40)],
)
def test_flipped_bit_is_detected(saved: Path, dataset: str, byte: int) -> None:
    """One flipped bit in the membrane state, a membrane recording or the synapses is refused."""
    _flip_bit(saved, dataset, byte)
    with pytest.raises(FileFormatError, match=rf"{dataset}.*checksum"):
        snn.load(saved)


def test_flipped_bit_in_sonata_is_detected(tmp_path: Path) -> None:
    """SONATA spike reports are checksummed too."""
    path = tmp_path / "s.h5"
    snn.write_sonata_spikes(path, {"a": (np.linspace(0.0, 10.0, 400), np.arange(400))})
    _flip_bit(path, "spikes/a/timestamps", 8 * 100 + 2)
    with pytest.raises(FileFormatError, match=r"timestamps.*checksum"):
        snn.read_sonata_spikes(path)
