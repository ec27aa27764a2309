"""SONATA spike reports (HDF5): ``/spikes/<population>/timestamps`` and ``node_ids``.

Written atomically with checksums (:mod:`snnsim.h5safe`); read with the same structural
checks as checkpoints (no links, no external or virtual storage, sizes within the
available memory).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim import h5safe
from snnsim.errors import FileFormatError, ParameterError
from snnsim.h5safe import PathLike, Reader

__all__ = [
    "SONATA_MAGIC",
    "SONATA_VERSION",
    "SORTINGS",
    "read_sonata_spikes",
    "write_sonata_spikes",
]

#: SONATA spike report magic number and version.
SONATA_MAGIC = 0x0A7A
SONATA_VERSION = (0, 1)
#: Orders a spike report may declare.
SORTINGS = ("none", "by_id", "by_time")

Spikes = dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]]


def write_sonata_spikes(
    path: PathLike,
    data: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]],
    sorting: str = "by_time",
) -> None:
    """Write spikes as a SONATA spike report (HDF5), atomically.

    Layout: root attrs ``magic`` (uint32 ``0x0A7A``) and ``version`` (uint32 ``[0, 1]``);
    per population ``/spikes/<population>/timestamps`` (float64, attr ``units="ms"``) and
    ``/spikes/<population>/node_ids`` (uint64), group attr ``sorting``.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    data : mapping of str to (times, node_ids)
        Per population: spike times (ms, finite, >= 0) and node ids (integers >= 0, the
        index of the neuron within its population), of equal length.
    sorting : {"by_time", "by_id", "none"}
        Order of the spikes in the file: by time (ties by id), by id (ties by time) or as
        given.

    Raises
    ------
    ParameterError
        On an invalid population name, sorting, or arrays of the wrong shape or range.
    """
    if sorting not in SORTINGS:
        raise ParameterError(f"write_sonata_spikes(sorting={sorting!r}): use one of {SORTINGS}")
    if not isinstance(data, Mapping):
        raise ParameterError("write_sonata_spikes: data must map population -> (times, node_ids)")
    prepared: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64]]] = {}
    for pop, pair in data.items():
        if not isinstance(pop, str) or not pop or "/" in pop or pop in (".", ".."):
            raise ParameterError(
                f"write_sonata_spikes: population name {pop!r} must be a non-empty string "
                "without '/'"
            )
        try:
            times_in, ids_in = pair
        except (TypeError, ValueError):
            raise ParameterError(
                f"write_sonata_spikes: data[{pop!r}] must be a (times, node_ids) pair"
            ) from None
        times = np.asarray(times_in, dtype=np.float64).reshape(-1)
        ids_arr = np.asarray(ids_in).reshape(-1)
        if ids_arr.size and not np.issubdtype(ids_arr.dtype, np.integer):
            raise ParameterError(
                f"write_sonata_spikes: node_ids of {pop!r} must be integers, got {ids_arr.dtype}"
            )
        if times.size != ids_arr.size:
            raise ParameterError(
                f"write_sonata_spikes: {pop!r} has {times.size} times and {ids_arr.size} node ids"
            )
        if not np.all(np.isfinite(times)) or (times.size and times.min() < 0):
            raise ParameterError(
                f"write_sonata_spikes: times of {pop!r} must be finite and >= 0 ms"
            )
        if ids_arr.size and int(ids_arr.min()) < 0:
            raise ParameterError(f"write_sonata_spikes: node_ids of {pop!r} must be >= 0")
        ids = ids_arr.astype(np.uint64)
        if sorting == "by_time":
            order = np.lexsort((ids, times))
        elif sorting == "by_id":
            order = np.lexsort((times, ids))
        else:
            order = np.arange(times.size)
        prepared[pop] = (times[order], ids[order])

    def writer(f: Any) -> None:
        f.attrs["magic"] = np.uint32(SONATA_MAGIC)
        f.attrs["version"] = np.array(SONATA_VERSION, dtype=np.uint32)
        spikes = f.create_group("spikes")
        for pop, (times, ids) in prepared.items():
            g = spikes.create_group(pop)
            g.attrs["sorting"] = sorting
            h5safe.write_dataset(g, "timestamps", times, "ms")
            h5safe.write_dataset(g, "node_ids", ids, "1 (node id within the population)")

    h5safe.atomic_h5_write(path, writer)


def _read_open(r: Reader) -> Spikes:
    f = r.f
    h5safe.check_structure(r)
    if r.has_attr(f, "magic"):
        magic = r.attr(f, "magic")
        if isinstance(magic, np.ndarray):
            magic = magic.reshape(-1)[0] if magic.size == 1 else None
        if not isinstance(magic, (int, np.integer)) or int(magic) != SONATA_MAGIC:
            raise r.fail("root attribute 'magic'", f"{magic!r} (expected 0x0A7A)")
    spikes = r.group("/spikes")
    out: Spikes = {}
    for pop in r.children(spikes):
        g = r.group(f"/spikes/{pop}")
        if r.has_attr(g, "sorting"):
            s = r.attr(g, "sorting")
            if isinstance(s, bytes):
                s = s.decode("utf-8", errors="replace")
            if isinstance(s, (int, np.integer)) and 0 <= int(s) < len(SORTINGS):
                s = SORTINGS[int(s)]  # HDF5 enum as written by libsonata
            if s not in SORTINGS:
                raise r.fail(f"{g.name} attribute 'sorting'", f"{s!r} not in {SORTINGS}")
        floats = (np.float64, np.float32, np.float16)
        ints = (np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8)
        ts_obj = _spike_dataset(r, g, "timestamps", floats, "float")
        id_obj = _spike_dataset(r, g, "node_ids", ints, "integer")
        if ts_obj.shape != id_obj.shape:
            raise r.fail(g.name, f"timestamps {ts_obj.shape} and node_ids {id_obj.shape} differ")
        units = r.attr_str(ts_obj, "units", "ms")
        if units != "ms":
            raise r.fail(f"{g.name}/timestamps", f"units {units!r} (expected 'ms')")
        times = r.read(ts_obj).astype(np.float64)
        raw_ids = r.read(id_obj)
        if raw_ids.size and (
            (raw_ids.dtype.kind == "i" and raw_ids.min() < 0)
            or (raw_ids.dtype.kind == "u" and int(raw_ids.max()) >= 2**63)
        ):
            raise r.fail(f"{g.name}/node_ids", "node ids must be in [0, 2**63)")
        if not np.all(np.isfinite(times)):
            raise r.fail(f"{g.name}/timestamps", "contains NaN or Inf")
        out[pop] = (times, raw_ids.astype(np.int64))
    return out


def _spike_dataset(
    r: Reader, g: Any, name: str, dtypes: tuple[type[np.generic], ...], kind: str
) -> Any:
    where = f"{g.name}/{name}"
    obj = r.get(where)
    if obj is None:
        raise r.fail(where, "missing dataset")
    with r.guard(where):
        shape, dtype = getattr(obj, "shape", None), getattr(obj, "dtype", None)
    if shape is None or len(shape) != 1:
        raise r.fail(where, f"shape {shape} (expected 1-D)")
    if dtype is None or not any(dtype == np.dtype(t) for t in dtypes):
        raise r.fail(where, f"dtype {dtype} (expected {kind}, native byte order)")
    return r.dataset(g, name, dtypes, (None,))


def read_sonata_spikes(path: PathLike) -> Spikes:
    """Read a SONATA spike report.

    Parameters
    ----------
    path : str or os.PathLike
        SONATA spike file (``/spikes/<population>/timestamps`` and ``node_ids``).

    Returns
    -------
    dict of str to (times, node_ids)
        Per population: spike times (float64, ms) and node ids (int64), in file order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FileFormatError
        If the file is not HDF5 or is corrupt, ``magic`` is wrong, a population lacks
        ``timestamps`` or ``node_ids``, dtypes or shapes are wrong, timestamps are not in ms,
        or the file uses external links or storage.
    """
    import h5py

    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(f"read_sonata_spikes: no such file: {p!r}")
    if os.path.isdir(p):
        raise FileFormatError(f"{p}: is a directory, not a SONATA spike report (HDF5)")
    try:
        if not h5py.is_hdf5(p):
            raise FileFormatError(f"{p}: not an HDF5 file (a SONATA spike report is HDF5)")
        f = h5py.File(p, "r")
    except OSError as err:
        raise FileFormatError(f"{p}: cannot open as HDF5 ({err}); the file is damaged") from err
    with f:
        return _read_open(Reader(f, p))
