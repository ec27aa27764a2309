"""Issue 8 section 7: declared shapes and sizes are checked before anything is read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import snnsim as snn
from snnsim import h5safe
from snnsim.errors import FileFormatError


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = snn.Network(dt=0.1, seed=5, threads=1)
    a = net.add_population(40, snn.LIF(i_offset=0.5), label="a")
    net.connect(a, a, snn.FixedProbability(0.2), weight=0.2, delay=1.0)
    net.record_spikes(a)
    net.record_state(a[:4], "v", every=2)
    net.record_rates(a, 1.0)
    net.run(4.0)
    path = tmp_path_factory.mktemp("sizes") / "net.h5"
    snn.save(net, path)
    return path


def _huge(name: str, n: int, dtype: type[np.generic] = np.int64) -> Callable[[h5py.File], None]:
    """Replace dataset ``name`` by an unwritten chunked dataset that declares ``n`` elements."""

    def edit(f: h5py.File) -> None:
        units = f[name].attrs["units"]
        del f[name]
        ds = f.create_dataset(name, shape=(n,), dtype=dtype, chunks=(1 << 16,))
        ds.attrs["units"] = units

    return edit


def _huge_state(f: h5py.File) -> None:
    del f["recorders/1/data"]
    f.create_dataset("recorders/1/data", shape=(20, 10**9), dtype=np.float64, chunks=(1, 1 << 16))


HUGE: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "spike steps 1e11": (_huge("recorders/0/steps", 10**11), "GiB"),
    "spike steps 3e8": (_huge("recorders/0/steps", 3 * 10**8), "recorders/0/steps.*shape"),
    "spike ids 3e8": (_huge("recorders/0/ids", 3 * 10**8), "recorders/0/ids.*shape"),
    "state data 2e10": (_huge_state, "GiB"),
    "rate counts 3e8": (_huge("recorders/2/counts", 3 * 10**8), "counts.*shape"),
    "syn_code 1e11": (_huge("engine/syn_code", 10**11, np.int32), "GiB"),
    "syn_code 3e8": (_huge("engine/syn_code", 3 * 10**8, np.int32), "indptr|syn_code"),
    "event stamps 3e8": (_huge("engine/ev_last", 3 * 10**8), "ev_last.*shape"),
    "pre_indices 3e8": (
        _huge("description/projections/0/pre_indices", 3 * 10**8),
        "pre_indices.*shape",
    ),
}


@pytest.mark.parametrize("case", list(HUGE))
def test_declared_sizes_are_checked_before_reading(
    checkpoint: Path, tmp_path: Path, case: str
) -> None:
    """A small file declaring huge datasets is refused with FileFormatError, not MemoryError."""
    bad = tmp_path / "bad.h5"
    shutil.copy(checkpoint, bad)
    edit, expected = HUGE[case]
    with h5py.File(bad, "r+") as f:
        edit(f)
    assert bad.stat().st_size < 2_000_000
    with pytest.raises(FileFormatError, match=expected):
        snn.load(bad)


def test_total_declared_size_against_memory(checkpoint: Path) -> None:
    """The whole-file check compares the declared bytes with the memory given."""
    with h5py.File(checkpoint, "r") as f:
        r = h5safe.Reader(f, str(checkpoint))
        declared = h5safe.check_structure(r)
        assert 0 < declared < checkpoint.stat().st_size * 4
        with pytest.raises(FileFormatError, match="memory is available"):
            h5safe.check_structure(r, memory=declared - 1)


# VmHWM, not ru_maxrss: Linux keeps the parent's ru_maxrss across fork + exec
_PEAK = """
import sys
import snnsim as snn
from snnsim.errors import FileFormatError
try:
    snn.load(sys.argv[1])
except FileFormatError as err:
    print("refused:", str(err)[:200])
with open("/proc/self/status") as f:
    print(next(line.split()[1] for line in f if line.startswith("VmHWM:")))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_refusal_allocates_nothing_big(checkpoint: Path, tmp_path: Path) -> None:
    """Refusing a file that declares 3e8 recorded spikes costs no more than importing."""
    bad = tmp_path / "bad.h5"
    shutil.copy(checkpoint, bad)
    with h5py.File(bad, "r+") as f:
        _huge("recorders/0/steps", 3 * 10**8)(f)
        _huge("recorders/0/ids", 3 * 10**8)(f)
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(bad)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("refused:"), out.stdout
    peak_mib = int(lines[-1]) / 1024  # VmHWM is in KiB
    assert peak_mib < 600, f"peak RSS {peak_mib:.0f} MiB"
