"""HDF5 checkpoints of whole networks and SONATA spike reports.

Checkpoint schema (``format="snnsim"``, ``schema_version=1``)
-------------------------------------------------------------
Root attributes: ``format``, ``schema_version``, ``snnsim_version``, ``seed``, ``dt`` (ms,
``dt_units="ms"``), ``threads``, ``step`` (time steps simulated), ``created`` (ISO 8601, UTC).

``/description`` (what the network is; informational except where ``load`` uses it to
rebuild the Python objects):

- ``populations/<p>``: attrs ``label``, ``size``, ``start``, ``model``; sub-groups ``params``
  (one attribute per model parameter) and ``param_units`` (its unit); ``SpikeSource``
  populations also hold ``times_indptr`` (CSR rows, one per neuron) and ``times`` (ms) and the
  attr ``round_times``;
- ``projections/<j>``: attrs ``label``, ``pre``, ``post`` (population labels), ``receptor``,
  ``round_delays``, ``weight``, ``delay`` (text descriptions), datasets ``pre_indices``,
  ``post_indices`` and a ``connector`` group whose attributes are the connector description.
  The synapses themselves live in ``/engine`` (they are never regenerated);
- ``inputs/<k>``: attrs ``input`` (``PoissonInput`` or ``StepCurrent``), ``target`` (label),
  ``whole`` (whether the target was the whole population), dataset ``indices``; Poisson inputs
  add attrs ``n_inputs``, ``rate`` (Hz), ``weight``, ``receptor``; step currents add datasets
  ``times`` (ms) and ``amplitudes`` (nA).

``/engine``: every array of :class:`snnsim.engine.Engine` (see :data:`ENGINE_ARRAYS`) with a
``units`` attribute, and attrs ``step``, ``min_delay``, ``total_spikes``, ``total_events``,
``w_mode`` and ``delay_const``. The ring buffer ``ring`` holds the spikes in flight, so a
loaded network resumes bit-exactly. The synapses keep their compact layout
(:mod:`snnsim.synapses`), selected by ``w_mode``: 0, ``syn_weight`` float32 with an empty
``w_table``; 1, ``syn_weight`` uint8/uint16 indices into ``w_table`` (float32, distinct,
ascending); 2, weight by receptor: ``w_table`` float32[2] and ``syn_weight`` empty.
``syn_delay`` is uint8 or uint16 (see :data:`SYNAPSE_DTYPES`), or empty when
``delay_const`` > 0 is the delay of every synapse (steps). Files without ``w_mode`` and
``delay_const`` (written before they existed) mean ``w_mode`` 0 or 1 (by ``w_table``) and
``delay_const`` 0.

``/recorders/<i>`` (creation order): attrs ``kind`` (``spikes``, ``state`` or ``rates``),
``population``, dataset ``indices``; spikes: ``steps``, ``ids`` (and ``times`` in ms);
state: ``steps``, ``data`` (and ``times``), attrs ``variables``, ``every``; rates: ``counts``
(and ``rates`` in Hz, ``times`` in ms), attr ``bin_steps``.

Every group of numbered children (``populations``, ``projections``, ``inputs``, ``recorders``)
carries a ``count`` attribute. Every dataset carries a ``units`` attribute. No pickle is used
anywhere. Writes are atomic (temporary file in the same folder, flush, fsync,
``os.replace``); reads validate every dataset (presence, dtype, shape, index ranges, links and
storage) before anything is built, and raise :class:`~snnsim.errors.FileFormatError` on any
problem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.build import model_arrays
from snnsim.connectors import Connector
from snnsim.engine import Engine, available_memory, compile_kernels
from snnsim.errors import FileFormatError, ParameterError, SimulationError, SnnsimError
from snnsim.inputs import Input, PoissonInput, StepCurrent
from snnsim.kernels.random_streams import stream_key
from snnsim.models import MODELS, NeuronModel, SpikeSource
from snnsim.monitors import RateRecorder, Recorder, SpikeRecorder, StateRecorder
from snnsim.network import Network, Projection
from snnsim.paths import check_output_file
from snnsim.populations import Population, Target
from snnsim.streams import STREAM_INPUT, STREAM_SOURCE, stream_id
from snnsim.synapses import (
    MAX_DELAY_STEPS,
    W_BY_RECEPTOR,
    W_INDEXED,
    W_VALUES,
    float32_keys,
)

__all__ = [
    "ENGINE_ARRAYS",
    "FORMAT",
    "SCHEMA_VERSION",
    "LoadedConnector",
    "load",
    "read_sonata_spikes",
    "save",
    "write_sonata_spikes",
]

#: Value of the root ``format`` attribute of snnsim checkpoints.
FORMAT = "snnsim"
#: Schema version written by :func:`save`; :func:`load` reads the versions in
#: :data:`SUPPORTED_SCHEMA_VERSIONS`.
SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = (1,)

#: SONATA spike report magic number and version.
SONATA_MAGIC = 0x0A7A
SONATA_VERSION = (0, 1)
_SORTINGS = ("none", "by_id", "by_time")

_FLOAT_UNITS = "mV/nA (per variable, see description)"
_INPUT_UNITS = "nA (mV for LIFDelta targets)"

#: Every ndarray field of :class:`~snnsim.engine.Engine`: dtype and ``units`` attribute.
ENGINE_ARRAYS: dict[str, tuple[type[np.generic], str]] = {
    "pop_kind": (np.int64, "1 (kernel kind)"),
    "pop_start": (np.int64, "1 (global id of first neuron)"),
    "pop_size": (np.int64, "neurons"),
    "pop_foff": (np.int64, "1 (offset into fstate)"),
    "pop_ioff": (np.int64, "1 (offset into istate)"),
    "pop_doff": (np.int64, "1 (offset into idata)"),
    "pop_key": (np.uint64, "1 (random stream key)"),
    "fstate": (np.float64, _FLOAT_UNITS),
    "istate": (np.int64, "steps or index (per variable, see description)"),
    "idata": (np.int64, "steps (SpikeSource schedules as CSR)"),
    "i_ext": (np.float64, "nA"),
    "indptr": (np.int64, "1 (synapse index)"),
    "syn_code": (np.int32, "1 (2 * target global id + receptor)"),
    "syn_weight": (np.float32, _INPUT_UNITS),
    "syn_delay": (np.uint16, "steps"),
    "ring": (np.float64, _INPUT_UNITS),
    "ev_step": (np.int64, "steps"),
    "ev_gid": (np.int64, "1 (global neuron id)"),
    "ev_value": (np.float64, "nA"),
    "pin_indptr": (np.int64, "1 (index into pin_targets)"),
    "pin_targets": (np.int64, "1 (global neuron id)"),
    "pin_n": (np.int64, "inputs"),
    "pin_p": (np.float64, "1 (probability per step)"),
    "pin_w": (np.float64, _INPUT_UNITS),
    "pin_rec": (np.int64, "1 (receptor index)"),
    "pin_key": (np.uint64, "1 (random stream key)"),
    "spike_count": (np.int64, "spikes"),
    "w_table": (np.float32, _INPUT_UNITS),
    "ev_last": (np.int64, "steps (stamp of each neuron's last single update)"),
    "ev_blk": (np.int64, "steps (stamp of each 64-neuron word's last vectorised update)"),
    "ev_busy": (np.uint64, "1 (bit per neuron: updated every step)"),
    "syn_tag": (np.uint8, "1 (projection index of each static synapse, when ambiguous)"),
    "mb_proj": (np.int64, "1 (projection index of each mutable block)"),
    "mb_lo": (np.int64, "1 (first global source id of each mutable block)"),
    "mb_hi": (np.int64, "1 (end of the global source range of each mutable block)"),
    "mb_row": (np.int64, "1 (first row of each mutable block in mb_indptr)"),
    "mb_indptr": (np.int64, "1 (synapse index)"),
    "mb_code": (np.int32, "1 (2 * target global id + receptor)"),
    "mb_weight": (np.float64, _INPUT_UNITS),
    "mb_delay": (np.uint16, "steps"),
}
#: Engine arrays rebuilt from the model parameters on load, never written.
DERIVED_ENGINE_ARRAYS = ("coeffs", "ncoeffs", "pop_noff", "gap", "pop_event")
#: Engine arrays stored as float32 when the network's precision is "single".
PRECISION_ARRAYS = ("fstate", "i_ext", "ring")


def _engine_dtype(name: str, precision: str) -> type[np.generic]:
    if precision == "single" and name in PRECISION_ARRAYS:
        return np.float32
    return ENGINE_ARRAYS[name][0]


#: Synapse arrays whose dtype is chosen per network (see :mod:`snnsim.synapses`): weights as
#: float32 values or as uint8/uint16 indices into ``w_table``; delays as uint8 or uint16.
SYNAPSE_DTYPES: dict[str, tuple[type[np.generic], ...]] = {
    "syn_weight": (np.float32, np.uint8, np.uint16),
    "syn_delay": (np.uint8, np.uint16),
    "syn_tag": (np.uint8, np.uint16),
}


def _stored_dtype(name: str, arr: Any, precision: str) -> Any:
    """Dtype an engine array is written with (synapse arrays keep their compact dtype)."""
    allowed = SYNAPSE_DTYPES.get(name, ())
    dtype = np.asarray(arr).dtype
    if any(dtype == np.dtype(t) for t in allowed):
        return dtype
    return _engine_dtype(name, precision)


def _file_dtype(g: Any, name: str, precision: str) -> Any:
    """Dtype to require of a dataset: for synapse arrays, the file's own if it is allowed."""
    import h5py

    obj = g.get(name)
    allowed = SYNAPSE_DTYPES.get(name, ())
    if isinstance(obj, h5py.Dataset) and any(obj.dtype == np.dtype(t) for t in allowed):
        return obj.dtype.type
    return _engine_dtype(name, precision)


def _check_synapse_values(
    r: _Reader, a: dict[str, Array], indptr: Array, n_syn: int, w_mode: int
) -> None:
    """Weights (values, table indices or by receptor), the weight table and the row order."""

    def bad(name: str, problem: str) -> FileFormatError:
        return r.fail(f"/engine/{name}", problem)

    table = a["w_table"]
    weight = a["syn_weight"]
    if w_mode == W_BY_RECEPTOR:
        if table.size != 2:
            raise bad("w_table", f"{table.size} entries; w_mode 2 needs one weight per receptor")
        if not np.all(np.isfinite(table)):
            raise bad("w_table", "contains NaN or Inf")
    elif w_mode == W_VALUES:
        if table.size:
            raise bad("w_table", "must be empty when syn_weight holds float32 values (w_mode 0)")
        if weight.dtype != np.float32:
            raise bad("syn_weight", f"dtype {weight.dtype} needs a weight table (w_table is empty)")
        if not np.all(np.isfinite(weight)):
            raise bad("syn_weight", "contains NaN or Inf")
    else:
        if weight.dtype == np.float32:
            raise bad(
                "syn_weight",
                "float32 values in w_mode 1: either w_table must be empty and w_mode 0, or "
                "syn_weight must hold uint8/uint16 indices",
            )
        if table.size == 0:
            raise bad("syn_weight", f"dtype {weight.dtype} needs a weight table (w_table is empty)")
        if table.size > np.iinfo(weight.dtype).max + 1:
            raise bad("w_table", f"{table.size} entries cannot be indexed by {weight.dtype}")
        if not np.all(np.isfinite(table)):
            raise bad("w_table", "contains NaN or Inf")
        # sorted and distinct in float32 order, -0.0 before 0.0
        keys = float32_keys(table)
        if np.any(keys[1:] <= keys[:-1]):
            raise bad("w_table", "values must be distinct and ascending")
        if n_syn and int(weight.max()) >= table.size:
            raise bad("syn_weight", f"indices must be < len(w_table)={table.size}")
    code = a["syn_code"]
    if n_syn > 1:
        down = np.flatnonzero(np.diff(code) < 0) + 1
        starts = np.searchsorted(indptr, down, side="left")
        if np.any(indptr[np.minimum(starts, indptr.size - 1)] != down):
            raise bad("syn_code", "codes must be ascending within each row")


_ENGINE_SCALARS = ("step", "min_delay", "total_spikes", "total_events")

PathLike = str | os.PathLike[str]
Array = npt.NDArray[Any]


def _snnsim_version() -> str:
    try:
        return version("snnsim")
    except PackageNotFoundError:  # source tree without installation
        return "0.0.0+unknown"


# ====================================================================== atomic writes
def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_h5_write(path: PathLike, writer: Callable[[Any], None]) -> None:
    """Write an HDF5 file atomically: temporary file, flush, fsync, ``os.replace``.

    On any exception (including ``KeyboardInterrupt``) the temporary file is removed and a
    previous file at ``path`` is left untouched.
    """
    import h5py

    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            writer(f)
            f.flush()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def _write_dataset(group: Any, name: str, data: npt.ArrayLike, units: str) -> Any:
    """Create dataset ``name`` in ``group`` with a ``units`` attribute."""
    ds = group.create_dataset(name, data=np.ascontiguousarray(data))
    ds.attrs["units"] = units
    return ds


# ====================================================================== save
def _describe_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return repr(to_dict())
    arr = np.asarray(value)
    return f"array(shape={arr.shape}, dtype={arr.dtype})"


def _is_whole(target: Target) -> bool:
    return isinstance(target, Population)


def _write_description(f: Any, net: Network) -> None:
    desc = f.create_group("description")
    desc.attrs["n_neurons"] = np.int64(net.size)
    g_pops = desc.create_group("populations")
    g_pops.attrs["count"] = np.int64(len(net.populations))
    for p in net.populations:
        g = g_pops.create_group(str(p.index))
        g.attrs["label"] = p.label
        g.attrs["size"] = np.int64(p.size)
        g.attrs["start"] = np.int64(p.start)
        g.attrs["model"] = p.model.name
        params = g.create_group("params")
        units = g.create_group("param_units")
        # the values the neurons use: distributions sampled and set() calls applied; a
        # parameter that differs between neurons is a dataset of one value per neuron
        model = p.resolved_model()
        g.attrs["set_calls"] = np.int64(p.set_calls)
        for key, value in model.params.items():
            unit = model.units.get(key, "")
            if isinstance(value, np.ndarray):
                _write_dataset(params, key, value.astype(np.float64), unit)
            else:
                params.attrs[key] = np.float64(value)  # type: ignore[arg-type]
            units.attrs[key] = unit
        if isinstance(p.model, SpikeSource):
            rows = p.model.times
            indptr = np.zeros(len(rows) + 1, dtype=np.int64)
            indptr[1:] = np.cumsum([r.size for r in rows])
            times = np.concatenate(rows) if rows else np.zeros(0)
            _write_dataset(g, "times_indptr", indptr, "1 (index into times)")
            _write_dataset(g, "times", times.astype(np.float64), "ms")
            g.attrs["round_times"] = bool(p.model.round_times)
    g_proj = desc.create_group("projections")
    g_proj.attrs["count"] = np.int64(len(net.projections))
    for proj in net.projections:
        g = g_proj.create_group(str(proj.index))
        g.attrs["label"] = proj.label
        g.attrs["pre"] = proj.pre.population.label
        g.attrs["post"] = proj.post.population.label
        g.attrs["receptor"] = proj.receptor or ""
        g.attrs["round_delays"] = bool(proj.round_delays)
        g.attrs["weight"] = _describe_value(proj.weight)
        g.attrs["delay"] = _describe_value(proj.delay)
        g.attrs["pre_whole"] = _is_whole(proj.pre)
        g.attrs["post_whole"] = _is_whole(proj.post)
        _write_dataset(g, "pre_indices", proj.pre.indices.astype(np.int64), "1")
        _write_dataset(g, "post_indices", proj.post.indices.astype(np.int64), "1")
        conn = g.create_group("connector")
        for key, value in proj.connector.describe().items():
            if isinstance(value, (bool, np.bool_)):
                conn.attrs[key] = bool(value)
            elif isinstance(value, (int, np.integer)):
                conn.attrs[key] = np.int64(value)
            elif isinstance(value, (float, np.floating)):
                conn.attrs[key] = np.float64(value)
            else:
                conn.attrs[key] = str(value)
    g_in = desc.create_group("inputs")
    g_in.attrs["count"] = np.int64(len(net.inputs))
    for k, (target, inp) in enumerate(net.inputs):
        g = g_in.create_group(str(k))
        g.attrs["target"] = target.population.label
        g.attrs["whole"] = _is_whole(target)
        _write_dataset(g, "indices", target.indices.astype(np.int64), "1")
        if isinstance(inp, PoissonInput):
            g.attrs["input"] = "PoissonInput"
            g.attrs["n_inputs"] = np.int64(inp.n_inputs)
            g.attrs["rate"] = np.float64(inp.rate)
            g.attrs["rate_units"] = "Hz"
            g.attrs["weight"] = np.float64(inp.weight)
            g.attrs["weight_units"] = _INPUT_UNITS
            g.attrs["receptor"] = inp.receptor or ""
        elif isinstance(inp, StepCurrent):
            g.attrs["input"] = "StepCurrent"
            _write_dataset(g, "times", inp.times.astype(np.float64), "ms")
            _write_dataset(g, "amplitudes", inp.amplitudes.astype(np.float64), "nA")
        else:  # pragma: no cover - Network.add_input only accepts the two kinds
            raise SimulationError(f"save: cannot store input {inp!r}")


def _check_engine_fields(eng: Engine) -> None:
    arrays = {
        f.name for f in dataclasses.fields(Engine) if isinstance(getattr(eng, f.name), np.ndarray)
    }
    arrays -= set(DERIVED_ENGINE_ARRAYS)
    if arrays != set(ENGINE_ARRAYS):
        raise SimulationError(
            "save: snnsim.io.ENGINE_ARRAYS does not match the Engine arrays "
            f"(missing {sorted(arrays - set(ENGINE_ARRAYS))}, extra "
            f"{sorted(set(ENGINE_ARRAYS) - arrays)}); the checkpoint schema must be updated"
        )


def _write_engine(f: Any, eng: Engine) -> None:
    g = f.create_group("engine")
    for name, (_, units) in ENGINE_ARRAYS.items():
        arr = getattr(eng, name)
        _write_dataset(
            g, name, np.asarray(arr, dtype=_stored_dtype(name, arr, eng.precision)), units
        )
    g.attrs["step"] = np.int64(eng.step)
    g.attrs["step_units"] = "steps"
    g.attrs["min_delay"] = np.int64(eng.min_delay)
    g.attrs["min_delay_units"] = "steps"
    g.attrs["w_mode"] = np.int64(eng.w_mode)
    g.attrs["delay_const"] = np.int64(eng.delay_const)
    g.attrs["delay_const_units"] = "steps (0: per-synapse syn_delay)"
    g.attrs["total_spikes"] = np.int64(eng.total_spikes)
    g.attrs["total_events"] = np.int64(eng.total_events)
    g.attrs["n"] = np.int64(eng.n)


def _write_recorders(f: Any, net: Network) -> None:
    import h5py

    g_all = f.create_group("recorders")
    recs = net.recorders
    g_all.attrs["count"] = np.int64(len(recs))
    for i, rec in enumerate(recs):
        g = g_all.create_group(str(i))
        g.attrs["kind"] = rec.kind
        g.attrs["population"] = rec.label
        _write_dataset(g, "indices", rec.indices.astype(np.int64), "1 (index in population)")
        state = rec.recorded()
        if isinstance(rec, SpikeRecorder):
            _write_dataset(g, "steps", state["steps"].astype(np.int64), "steps")
            _write_dataset(g, "ids", state["ids"].astype(np.int64), "1 (index in population)")
            _write_dataset(g, "times", state["steps"] * net.dt, "ms")
        elif isinstance(rec, StateRecorder):
            g.attrs["variables"] = np.array(rec.variables, dtype=h5py.string_dtype())
            g.attrs["every"] = np.int64(rec.every)
            g.attrs["every_units"] = "steps"
            pop_units = rec.population.model.units
            g.attrs["variable_units"] = np.array(
                [pop_units.get(v, "") for v in rec.variables], dtype=h5py.string_dtype()
            )
            _write_dataset(g, "steps", state["steps"].astype(np.int64), "steps")
            _write_dataset(
                g,
                "data",
                np.asarray(state["data"], dtype=np.float64),
                "per variable (see variable_units); columns variable-major",
            )
            _write_dataset(g, "times", state["steps"] * net.dt, "ms")
        elif isinstance(rec, RateRecorder):
            g.attrs["bin_steps"] = np.int64(rec.bin_steps)
            g.attrs["bin_steps_units"] = "steps"
            _write_dataset(g, "counts", state["counts"].astype(np.int64), "spikes per bin")
            _write_dataset(g, "rates", rec.rates, "Hz")
            _write_dataset(g, "times", rec.times, "ms")
        else:  # pragma: no cover - the three recorder kinds are the only ones
            raise SimulationError(f"save: cannot store recorder {rec!r}")


def save(net: Network, path: PathLike) -> None:
    """Save a network, its full simulation state and its recordings to an HDF5 file.

    The file holds everything needed to continue the simulation bit-exactly with
    :func:`load`: neuron state, synapses, ring buffers (spikes in flight), input schedules,
    random-stream keys, the current step and every recorder's data. A network that was
    never built is built first.

    Parameters
    ----------
    net : Network
        The network to save.
    path : str or os.PathLike
        Destination file (conventionally ``*.h5``). It is written atomically: a temporary
        file in the same folder is written, flushed, fsynced and renamed over ``path``; if
        anything fails the temporary file is removed and a previous file is left intact.

    Raises
    ------
    ParameterError
        If ``net`` is not a :class:`~snnsim.network.Network`.
    OSError
        If the folder is not writable or the disk is full (nothing is left behind).
    """
    if not isinstance(net, Network):
        raise ParameterError(f"save(net={net!r}): expected a snnsim.Network")
    check_output_file(path, "save")  # name the user's path, not the temporary file
    eng = net.build()
    _check_engine_fields(eng)

    def writer(f: Any) -> None:
        f.attrs["format"] = FORMAT
        f.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
        f.attrs["snnsim_version"] = _snnsim_version()
        f.attrs["seed"] = np.uint64(net.seed)
        f.attrs["dt"] = np.float64(net.dt)
        f.attrs["dt_units"] = "ms"
        f.attrs["threads"] = np.int64(net.threads)
        f.attrs["threads_auto"] = np.int64(net.threads_auto)
        f.attrs["precision"] = net.precision
        f.attrs["event_driven"] = np.int64(-1 if net.event_driven is None else net.event_driven)
        f.attrs["step"] = np.int64(eng.step)
        f.attrs["t"] = np.float64(eng.step * net.dt)
        f.attrs["t_units"] = "ms"
        f.attrs["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _write_description(f, net)
        _write_engine(f, eng)
        _write_recorders(f, net)

    _atomic_h5_write(path, writer)


# ====================================================================== load: helpers
class LoadedConnector(Connector):
    """Placeholder connector of a projection restored by :func:`load`.

    The synapses of a loaded network live in its engine; they are never regenerated.
    ``describe()`` returns the description stored in the file.
    """

    def __init__(self, description: Mapping[str, Any]) -> None:
        self.description = dict(description)

    def generate(
        self, key: np.uint64, pre_gid: npt.NDArray[np.int64], post_gid: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Refuse: the synapses of a loaded projection cannot be regenerated."""
        raise SimulationError(
            "a projection restored from a file cannot regenerate its synapses; they are stored "
            "in the loaded network's engine"
        )

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        """Not known per projection (the synapses are merged in the engine): 0."""
        return 0.0

    def describe(self) -> dict[str, Any]:
        """Return the connector description stored in the file."""
        return dict(self.description)


class _Reader:
    """Validating accessors on an open HDF5 file; every failure is a FileFormatError."""

    def __init__(self, f: Any, path: str) -> None:
        self.f = f
        self.path = path
        self.declared_bytes = 0

    def fail(self, where: str, problem: str) -> FileFormatError:
        return FileFormatError(f"{self.path}: {where}: {problem}")

    def group(self, name: str) -> Any:
        import h5py

        obj = self.f.get(name)
        if obj is None:
            raise self.fail(name, "missing group")
        if not isinstance(obj, h5py.Group):
            raise self.fail(name, f"expected a group, found {type(obj).__name__}")
        return obj

    def attr(self, obj: Any, name: str) -> Any:
        if name not in obj.attrs:
            raise self.fail(f"{obj.name} attribute {name!r}", "missing")
        return obj.attrs[name]

    def attr_str(self, obj: Any, name: str) -> str:
        value = self.attr(obj, name)
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise self.fail(f"{obj.name} attribute {name!r}", "not valid UTF-8") from None
        if not isinstance(value, str):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected a string, got {value!r}")
        return value

    def attr_int(self, obj: Any, name: str, lo: int | None = None, hi: int | None = None) -> int:
        value = self.attr(obj, name)
        if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
            value = value.reshape(-1)[0]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected an integer, got {value!r}")
        x = int(value)
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise self.fail(
                f"{obj.name} attribute {name!r}", f"{x} is outside the valid range [{lo}, {hi}]"
            )
        return x

    def attr_float(self, obj: Any, name: str) -> float:
        value = self.attr(obj, name)
        if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
            value = value.reshape(-1)[0]
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected a number, got {value!r}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(f"{obj.name} attribute {name!r}", f"{x} is not finite")
        return x

    def attr_bool(self, obj: Any, name: str) -> bool:
        value = self.attr(obj, name)
        if not isinstance(value, (bool, np.bool_)):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected a boolean, got {value!r}")
        return bool(value)

    def attr_str_list(self, obj: Any, name: str) -> list[str]:
        value = self.attr(obj, name)
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise self.fail(f"{obj.name} attribute {name!r}", "expected a list of strings")
        out = []
        for item in arr.tolist():
            if isinstance(item, bytes):
                item = item.decode("utf-8", errors="replace")
            if not isinstance(item, str):
                raise self.fail(f"{obj.name} attribute {name!r}", "expected a list of strings")
            out.append(item)
        return out

    def dataset(
        self, group: Any, name: str, dtype: type[np.generic], shape: tuple[int | None, ...]
    ) -> Any:
        """Check a dataset's presence, storage, dtype and shape (``None``: any length)."""
        import h5py

        where = f"{group.name.rstrip('/')}/{name}"
        obj = group.get(name)
        if obj is None:
            raise self.fail(where, "missing dataset")
        if not isinstance(obj, h5py.Dataset):
            raise self.fail(where, f"expected a dataset, found {type(obj).__name__}")
        if obj.is_virtual:
            raise self.fail(where, "virtual datasets are refused")
        if obj.external:
            raise self.fail(where, "datasets with external storage are refused")
        if obj.dtype != np.dtype(dtype):
            raise self.fail(
                where, f"dtype {obj.dtype} (expected {np.dtype(dtype)}, native byte order)"
            )
        if len(obj.shape) != len(shape) or any(
            s is not None and s != got for s, got in zip(shape, obj.shape, strict=True)
        ):
            parts = ["any" if s is None else str(s) for s in shape]
            want = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
            raise self.fail(where, f"shape {obj.shape} (expected {want})")
        self.declared_bytes += int(obj.size) * obj.dtype.itemsize
        return obj

    def read(self, ds: Any) -> Array:
        arr = np.asarray(ds[()])
        return np.ascontiguousarray(arr)


def _check_links(r: _Reader) -> None:
    """Refuse external links, user-defined links and dangling soft links anywhere."""
    import h5py

    problems: list[str] = []

    def visit(name: str, link: Any) -> None:
        if problems:
            return
        if isinstance(link, h5py.ExternalLink):
            problems.append(f"/{name}: external link to {link.filename}:{link.path} is refused")
        elif isinstance(link, h5py.SoftLink):
            target = link.path
            if not target.startswith("/"):
                parent = "/" + name.rsplit("/", 1)[0] if "/" in name else "/"
                target = parent.rstrip("/") + "/" + target
            if r.f.get(target) is None:
                problems.append(f"/{name}: soft link to {link.path!r} points outside the file")
        elif not isinstance(link, h5py.HardLink):
            problems.append(f"/{name}: link of type {type(link).__name__} is refused")

    r.f.visititems_links(visit)
    if problems:
        raise FileFormatError(f"{r.path}: {problems[0]}")


def _numbered(r: _Reader, group: Any) -> list[Any]:
    count = r.attr_int(group, "count", 0, 1 << 30)
    out = []
    for i in range(count):
        out.append(r.group(f"{group.name}/{i}"))
    return out


def _check_indices(r: _Reader, where: str, idx: Array, size: int) -> None:
    if idx.size == 0:
        raise r.fail(where, "selects no neuron")
    if idx.min() < 0 or idx.max() >= size:
        raise r.fail(where, f"index out of range for a population of {size} neurons")
    if np.unique(idx).size != idx.size:
        raise r.fail(where, "indices must be unique")


def _read_indices(r: _Reader, g: Any, name: str, size: int) -> Array:
    idx = r.read(r.dataset(g, name, np.int64, (None,)))
    _check_indices(r, f"{g.name}/{name}", idx, size)
    return idx


# ====================================================================== load: description
@dataclasses.dataclass
class _PopDesc:
    label: str
    size: int
    start: int
    model: NeuronModel
    set_calls: int = 0


@dataclasses.dataclass
class _TargetDesc:
    pop: int
    indices: Array
    whole: bool


@dataclasses.dataclass
class _ProjDesc:
    label: str
    pre: _TargetDesc
    post: _TargetDesc
    receptor: str | None
    round_delays: bool
    connector: dict[str, Any]


@dataclasses.dataclass
class _RecDesc:
    kind: str
    pop: int
    indices: Array
    arrays: dict[str, Array]
    variables: list[str]
    every: int
    bin_steps: int


def _pop_index(r: _Reader, pops: list[_PopDesc], label: str, where: str) -> int:
    for i, p in enumerate(pops):
        if p.label == label:
            return i
    raise r.fail(where, f"no population labelled {label!r}")


def _read_target(
    r: _Reader, g: Any, label_attr: str, idx_name: str, whole_attr: str, pops: list[_PopDesc]
) -> _TargetDesc:
    p = _pop_index(r, pops, r.attr_str(g, label_attr), f"{g.name} attribute {label_attr!r}")
    idx = _read_indices(r, g, idx_name, pops[p].size)
    whole = r.attr_bool(g, whole_attr)
    if whole and not np.array_equal(idx, np.arange(pops[p].size)):
        raise r.fail(f"{g.name}/{idx_name}", "whole-population target with partial indices")
    return _TargetDesc(p, idx, whole)


def _read_populations(r: _Reader, dt: float) -> list[_PopDesc]:
    pops: list[_PopDesc] = []
    start = 0
    labels: set[str] = set()
    for g in _numbered(r, r.group("/description/populations")):
        label = r.attr_str(g, "label")
        if label in labels:
            raise r.fail(f"{g.name} attribute 'label'", f"label {label!r} used twice")
        labels.add(label)
        size = r.attr_int(g, "size", 1, 1 << 30)
        if r.attr_int(g, "start") != start:
            raise r.fail(f"{g.name} attribute 'start'", f"expected {start} (sum of earlier sizes)")
        name = r.attr_str(g, "model")
        cls = MODELS.get(name)
        if cls is None:
            raise r.fail(f"{g.name} attribute 'model'", f"unknown model {name!r}")
        pg = r.group(f"{g.name}/params")
        per_neuron = set(pg.keys())
        keys = set(pg.attrs.keys())
        if keys & per_neuron or keys | per_neuron != set(cls.defaults):
            raise r.fail(
                f"{pg.name}",
                f"parameters {sorted(keys | per_neuron)} do not match {name}'s "
                f"{sorted(cls.defaults)} (each once, as an attribute or a per-neuron dataset)",
            )
        params: dict[str, Any] = {
            k: r.read(r.dataset(pg, k, np.float64, (size,)))
            if k in per_neuron
            else r.attr_float(pg, k)
            for k in cls.defaults
        }
        try:
            if cls is SpikeSource:
                indptr = r.read(r.dataset(g, "times_indptr", np.int64, (size + 1,)))
                times_ds = r.dataset(g, "times", np.float64, (None,))
                if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != times_ds.shape[0]:
                    raise r.fail(
                        f"{g.name}/times_indptr",
                        "must start at 0, not decrease and end at len(times)",
                    )
                times = r.read(times_ds)
                rows = [times[indptr[i] : indptr[i + 1]] for i in range(size)]
                model: NeuronModel = SpikeSource(
                    [row.tolist() for row in rows], round_times=r.attr_bool(g, "round_times")
                )
            else:
                model = cls(**params)
            model.check_size(size)
            model.check_dt(dt)
            if isinstance(model, SpikeSource):
                model.schedule(dt)
        except SnnsimError as err:
            if isinstance(err, FileFormatError):
                raise
            raise r.fail(f"{g.name}", f"invalid model: {err}") from None
        set_calls = r.attr_int(g, "set_calls", 0, 1 << 30) if "set_calls" in g.attrs else 0
        pops.append(_PopDesc(label, size, start, model, set_calls))
        start += size
    if not pops:
        raise r.fail("/description/populations", "no population")
    if start >= 1 << 30:
        raise r.fail("/description/populations", f"{start} neurons exceed the supported maximum")
    return pops


def _read_projections(r: _Reader, pops: list[_PopDesc]) -> list[_ProjDesc]:
    out = []
    for g in _numbered(r, r.group("/description/projections")):
        pre = _read_target(r, g, "pre", "pre_indices", "pre_whole", pops)
        post = _read_target(r, g, "post", "post_indices", "post_whole", pops)
        model = pops[post.pop].model
        receptor = r.attr_str(g, "receptor") or None
        if receptor is not None and receptor not in model.receptors:
            raise r.fail(f"{g.name} attribute 'receptor'", f"{receptor!r} not in {model.receptors}")
        conn_g = r.group(f"{g.name}/connector")
        conn: dict[str, Any] = {}
        for key, value in conn_g.attrs.items():
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            if isinstance(value, np.generic):
                value = value.item()
            if not isinstance(value, (bool, int, float, str)):
                raise r.fail(f"{conn_g.name} attribute {key!r}", "expected a scalar")
            conn[key] = value
        out.append(
            _ProjDesc(
                r.attr_str(g, "label"), pre, post, receptor, r.attr_bool(g, "round_delays"), conn
            )
        )
    return out


def _read_inputs(r: _Reader, pops: list[_PopDesc]) -> list[tuple[_TargetDesc, Input]]:
    out: list[tuple[_TargetDesc, Input]] = []
    for g in _numbered(r, r.group("/description/inputs")):
        target = _read_target(r, g, "target", "indices", "whole", pops)
        kind = r.attr_str(g, "input")
        model = pops[target.pop].model
        if not model.receptors:
            raise r.fail(g.name, f"{model.name} neurons take no input")
        try:
            inp: Input
            if kind == "PoissonInput":
                receptor = r.attr_str(g, "receptor") or None
                inp = PoissonInput(
                    r.attr_int(g, "n_inputs", 0, (1 << 62)),
                    r.attr_float(g, "rate"),
                    r.attr_float(g, "weight"),
                    receptor,
                )
            elif kind == "StepCurrent":
                t_ds = r.dataset(g, "times", np.float64, (None,))
                a_ds = r.dataset(g, "amplitudes", np.float64, (t_ds.shape[0],))
                inp = StepCurrent(r.read(t_ds), r.read(a_ds))
            else:
                raise r.fail(f"{g.name} attribute 'input'", f"unknown input {kind!r}")
        except SnnsimError as err:
            if isinstance(err, FileFormatError):
                raise
            raise r.fail(g.name, f"invalid input: {err}") from None
        out.append((target, inp))
    return out


def _read_recorders(r: _Reader, pops: list[_PopDesc], step: int) -> list[_RecDesc]:
    out = []
    for g in _numbered(r, r.group("/recorders")):
        kind = r.attr_str(g, "kind")
        p = _pop_index(r, pops, r.attr_str(g, "population"), f"{g.name} attribute 'population'")
        pop = pops[p]
        indices = _read_indices(r, g, "indices", pop.size)
        arrays: dict[str, Array] = {}
        variables: list[str] = []
        every = bin_steps = 1
        if kind == "spikes":
            s_ds = r.dataset(g, "steps", np.int64, (None,))
            i_ds = r.dataset(g, "ids", np.int64, (s_ds.shape[0],))
            steps, ids = r.read(s_ds), r.read(i_ds)
            if steps.size and (steps.min() < 1 or steps.max() > step or np.any(np.diff(steps) < 0)):
                raise r.fail(f"{g.name}/steps", f"must be non-decreasing and in [1, {step}]")
            if ids.size and not np.all(np.isin(ids, indices)):
                raise r.fail(f"{g.name}/ids", "holds ids of neurons that are not recorded")
            arrays = {"steps": steps, "ids": ids}
        elif kind == "state":
            variables = r.attr_str_list(g, "variables")
            if not variables or len(set(variables)) != len(variables):
                raise r.fail(f"{g.name} attribute 'variables'", "must be unique and non-empty")
            for v in variables:
                if v not in pop.model.float_vars:
                    raise r.fail(
                        f"{g.name} attribute 'variables'", f"{pop.model.name} has no {v!r}"
                    )
            every = r.attr_int(g, "every", 1, 1 << 62)
            n_samples = step // every
            width = len(variables) * indices.size
            s_ds = r.dataset(g, "steps", np.int64, (n_samples,))
            d_ds = r.dataset(g, "data", np.float64, (n_samples, width))
            steps = r.read(s_ds)
            if not np.array_equal(steps, every * np.arange(1, n_samples + 1, dtype=np.int64)):
                raise r.fail(
                    f"{g.name}/steps", f"must be every*(1..{n_samples}) with every={every}"
                )
            arrays = {"steps": steps, "data": r.read(d_ds)}
        elif kind == "rates":
            if pop.size != indices.size:
                raise r.fail(f"{g.name}/indices", "rate recorders record whole populations")
            bin_steps = r.attr_int(g, "bin_steps", 1, 1 << 62)
            n_bins = -(-step // bin_steps)
            counts = r.read(r.dataset(g, "counts", np.int64, (n_bins,)))
            if counts.size and (counts.min() < 0 or counts.max() > pop.size * bin_steps):
                raise r.fail(f"{g.name}/counts", f"counts must be in [0, {pop.size * bin_steps}]")
            arrays = {"counts": counts}
        else:
            raise r.fail(f"{g.name} attribute 'kind'", f"unknown recorder kind {kind!r}")
        out.append(_RecDesc(kind, p, indices, arrays, variables, every, bin_steps))
    return out


# ====================================================================== load: engine
def _check_mutable_blocks(
    r: _Reader, a: dict[str, Array], pops: list[_PopDesc], n: int, slots: int, n_proj: int
) -> None:
    """Per-projection mutable blocks: block ranges, row pointers, codes, weights, delays."""

    def bad(name: str, problem: str) -> FileFormatError:
        return r.fail(f"/engine/{name}", problem)

    n_blk = a["mb_proj"].size
    for name in ("mb_lo", "mb_hi", "mb_row"):
        if a[name].size != n_blk:
            raise bad(name, f"{a[name].size} entries for {n_blk} mutable blocks")
    lo, hi, row, ptr = a["mb_lo"], a["mb_hi"], a["mb_row"], a["mb_indptr"]
    n_mut = a["mb_code"].size
    for name in ("mb_weight", "mb_delay"):
        if a[name].size != n_mut:
            raise bad(name, f"{a[name].size} entries for {n_mut} mutable synapses")
    if n_blk and (
        np.any(lo < 0) or np.any(hi > n) or np.any(hi < lo) or np.any(a["mb_proj"] < 0)
        or np.any(a["mb_proj"] >= n_proj) or np.unique(a["mb_proj"]).size != n_blk
    ):  # fmt: skip
        raise bad("mb_lo", "block source ranges or projection indices out of range")
    # a leading 0, then hi - lo + 1 pointers per block
    want_rows = int((hi - lo + 1).sum()) + 1
    if ptr.size != want_rows or np.any(row != 1 + np.cumsum(hi - lo + 1) - (hi - lo + 1)):
        raise bad("mb_indptr", f"{ptr.size} row pointers; the blocks need {want_rows}")
    if ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] != n_mut:
        raise bad("mb_indptr", f"must start at 0, not decrease and end at {n_mut}")
    if n_mut:
        code = a["mb_code"]
        if code.min() < 0 or code.max() >= 2 * n:
            raise bad("mb_code", f"values must be in [0, {2 * n})")
        if not np.all(np.isfinite(a["mb_weight"])):
            raise bad("mb_weight", "contains NaN or Inf")
        delay = a["mb_delay"]
        if delay.min() < 1 or int(delay.max()) >= slots:
            raise bad("mb_delay", f"delays must be in [1, {slots - 1}] steps")
        sizes = np.array([p.size for p in pops], dtype=np.int64)
        n_rec = np.repeat(np.array([len(p.model.receptors) for p in pops], dtype=np.int64), sizes)
        signed = np.repeat(np.array([p.model.signed_receptors for p in pops]), sizes)
        rec = code & 1
        tgt = code >> 1
        if np.any(rec >= n_rec[tgt]):
            raise bad("mb_code", "synapse onto a receptor its target neuron does not have")
        w = a["mb_weight"]
        if np.any(signed[tgt] & (((rec == 0) & (w < 0)) | ((rec == 1) & (w > 0)))):
            raise bad("mb_weight", "weight sign does not match its receptor (exc >= 0, inh <= 0)")


def _read_engine(
    r: _Reader,
    pops: list[_PopDesc],
    inputs: list[tuple[_TargetDesc, Input]],
    dt: float,
    seed: int,
    step: int,
    threads: int,
    threads_auto: bool,
    precision: str = "double",
    event_driven: bool | None = None,
    n_projections: int = 0,
) -> Engine:
    g = r.group("/engine")
    n = sum(p.size for p in pops)
    n_pops = len(pops)
    n_f = sum(len(p.model.float_vars) * p.size for p in pops)
    n_i = sum(len(p.model.int_vars) * p.size for p in pops)
    statics = [p.model.static_data(dt, step) for p in pops]
    n_d = sum(s.size for s in statics)
    pin_targets = [
        np.sort(pops[t.pop].start + t.indices) for t, inp in inputs if isinstance(inp, PoissonInput)
    ]
    n_pin = len(pin_targets)
    n_pin_t = sum(t.size for t in pin_targets)

    if r.attr_int(g, "step", 0) != step:
        raise r.fail("/engine attribute 'step'", "does not match the root attribute 'step'")
    min_delay = r.attr_int(g, "min_delay", 1)
    if "w_mode" in g.attrs or "delay_const" in g.attrs:
        w_mode = r.attr_int(g, "w_mode", W_VALUES, W_BY_RECEPTOR)
        delay_const = r.attr_int(g, "delay_const", 0, MAX_DELAY_STEPS)
    else:  # written before the two layouts without per-synapse arrays existed
        shape = getattr(g.get("w_table"), "shape", None)
        w_mode = W_INDEXED if isinstance(shape, tuple) and math.prod(shape) else W_VALUES
        delay_const = 0
    total_spikes = r.attr_int(g, "total_spikes", 0)
    total_events = r.attr_int(g, "total_events", 0)

    # ---- metadata: presence, dtype, shapes consistent with the description
    shapes: dict[str, tuple[int | None, ...]] = {
        "pop_kind": (n_pops,),
        "pop_start": (n_pops,),
        "pop_size": (n_pops,),
        "pop_foff": (n_pops,),
        "pop_ioff": (n_pops,),
        "pop_doff": (n_pops,),
        "pop_key": (n_pops,),
        "fstate": (n_f,),
        "istate": (n_i,),
        "idata": (n_d,),
        "i_ext": (n,),
        "indptr": (n + 1,),
        "syn_code": (None,),
        "syn_weight": (None,),
        "syn_delay": (None,),
        "ring": (None, 2 * n),
        "ev_step": (None,),
        "ev_gid": (None,),
        "ev_value": (None,),
        "pin_indptr": (n_pin + 1,),
        "pin_targets": (n_pin_t,),
        "pin_n": (n_pin,),
        "pin_p": (n_pin,),
        "pin_w": (n_pin,),
        "pin_rec": (n_pin,),
        "pin_key": (n_pin,),
        "spike_count": (n,),
        "w_table": (None,),
        "ev_last": (None,),
        "ev_blk": (None,),
        "ev_busy": (None,),
        "syn_tag": (None,),
        "mb_proj": (None,),
        "mb_lo": (None,),
        "mb_hi": (None,),
        "mb_row": (None,),
        "mb_indptr": (None,),
        "mb_code": (None,),
        "mb_weight": (None,),
        "mb_delay": (None,),
    }
    ds: dict[str, Any] = {}
    for name in ENGINE_ARRAYS:
        ds[name] = r.dataset(g, name, _file_dtype(g, name, precision), shapes[name])
    n_syn = ds["syn_code"].shape[0]
    if w_mode == W_BY_RECEPTOR and ds["syn_weight"].shape[0]:
        raise r.fail("/engine/syn_weight", "must be empty when w_mode is 2 (weight by receptor)")
    if delay_const and ds["syn_delay"].shape[0]:
        raise r.fail("/engine/syn_delay", f"must be empty when delay_const={delay_const} > 0")
    for name, stored in (("syn_weight", w_mode != W_BY_RECEPTOR), ("syn_delay", not delay_const)):
        if stored and ds[name].shape[0] != n_syn:
            raise r.fail(f"/engine/{name}", f"length {ds[name].shape[0]} != len(syn_code)={n_syn}")
    n_ev = ds["ev_step"].shape[0]
    for name in ("ev_gid", "ev_value"):
        if ds[name].shape[0] != n_ev:
            raise r.fail(f"/engine/{name}", f"length {ds[name].shape[0]} != len(ev_step)={n_ev}")
    slots = ds["ring"].shape[0]
    if slots < 2 or slots & (slots - 1):
        raise r.fail("/engine/ring", f"{slots} slots; the slot count must be a power of two >= 2")
    need = r.declared_bytes
    avail = available_memory()
    if need > avail:
        raise r.fail(
            "/engine",
            f"the file declares {need / 2**30:.2f} GiB of arrays but only "
            f"{avail / 2**30:.2f} GiB of memory is available",
        )

    # ---- values
    a = {name: r.read(d) for name, d in ds.items()}

    def bad(name: str, problem: str) -> FileFormatError:
        return r.fail(f"/engine/{name}", problem)

    kinds = np.array([p.model.kind for p in pops], dtype=np.int64)
    starts = np.array([p.start for p in pops], dtype=np.int64)
    sizes = np.array([p.size for p in pops], dtype=np.int64)

    def offsets(per: list[int]) -> Array:
        o = np.zeros(len(per), dtype=np.int64)
        o[1:] = np.cumsum(per)[:-1]
        return o

    expected = {
        "pop_kind": kinds,
        "pop_start": starts,
        "pop_size": sizes,
        "pop_foff": offsets([len(p.model.float_vars) * p.size for p in pops]),
        "pop_ioff": offsets([len(p.model.int_vars) * p.size for p in pops]),
        "pop_doff": offsets([s.size for s in statics]),
        "pop_key": np.array(
            [
                stream_key(np.uint64(seed), np.uint64(stream_id(STREAM_SOURCE, i)))
                for i in range(n_pops)
            ],
            dtype=np.uint64,
        ),
        "idata": np.concatenate(statics).astype(np.int64) if statics else np.zeros(0, np.int64),
    }
    for name, want in expected.items():
        if not np.array_equal(a[name], want):
            raise bad(name, "does not match the population description")
    for name in ("fstate", "i_ext", "ring", "ev_value", "pin_w"):
        if not np.all(np.isfinite(a[name])):
            raise bad(name, "contains NaN or Inf")
    # every model checks its own state (refractory counters, schedule pointers, ...)
    foff = ioff = 0
    for pop in pops:
        m = pop.model
        fblock = a["fstate"][foff : foff + len(m.float_vars) * pop.size].reshape(-1, pop.size)
        iblock = a["istate"][ioff : ioff + len(m.int_vars) * pop.size].reshape(-1, pop.size)
        problem = m.check_state(
            dict(zip(m.float_vars, fblock, strict=True)),
            dict(zip(m.int_vars, iblock, strict=True)),
            dt,
            step,
        )
        if problem:
            raise bad("fstate" if not m.int_vars else "istate", f"{pop.label!r}: {problem}")
        foff += fblock.size
        ioff += iblock.size
    # synapses
    indptr = a["indptr"]
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != n_syn:
        raise bad("indptr", f"must start at 0, not decrease and end at n_syn={n_syn}")
    code = a["syn_code"]
    if n_syn:
        if code.min() < 0 or code.max() >= 2 * n:
            raise bad("syn_code", f"values must be in [0, {2 * n})")
        n_rec = np.repeat(np.array([len(p.model.receptors) for p in pops], dtype=np.int64), sizes)
        if np.any((code & 1) >= n_rec[code >> 1]):
            raise bad("syn_code", "synapse onto a receptor its target neuron does not have")
        delay = a["syn_delay"]
        if delay_const:
            if delay_const >= slots:
                raise r.fail(
                    "/engine attribute 'delay_const'",
                    f"{delay_const} steps does not fit a ring of {slots} slots",
                )
        else:
            if delay.min() < 1 or int(delay.max()) >= slots:
                raise bad(
                    "syn_delay",
                    f"delays must be in [1, {slots - 1}] steps (ring has {slots} slots)",
                )
    elif delay_const:
        raise r.fail("/engine attribute 'delay_const'", "must be 0 when there is no synapse")
    _check_synapse_values(r, a, indptr, n_syn, w_mode)
    if a["syn_tag"].size not in (0, n_syn):
        raise bad("syn_tag", f"must be empty or have one entry per static synapse ({n_syn})")
    if a["syn_tag"].size and int(a["syn_tag"].max()) >= n_projections:
        raise bad("syn_tag", f"projection indices must be < {n_projections}")
    _check_mutable_blocks(r, a, pops, n, slots, n_projections)
    lows = [int(a["mb_delay"].min())] if a["mb_delay"].size else []
    if n_syn:
        lows.append(delay_const or int(a["syn_delay"].min()))
    if lows and min_delay != min(lows):
        raise r.fail("/engine attribute 'min_delay'", f"must equal the smallest delay {min(lows)}")
    # step currents
    ev_step, ev_gid = a["ev_step"], a["ev_gid"]
    if n_ev:
        if ev_step.min() < 1 or np.any(np.diff(ev_step) < 0):
            raise bad("ev_step", "must be >= 1 and non-decreasing")
        if ev_gid.min() < 0 or ev_gid.max() >= n:
            raise bad("ev_gid", f"values must be in [0, {n})")
    # Poisson inputs
    pin_indptr = a["pin_indptr"]
    if pin_indptr[0] != 0 or np.any(np.diff(pin_indptr) < 0) or pin_indptr[-1] != n_pin_t:
        raise bad("pin_indptr", f"must start at 0, not decrease and end at {n_pin_t}")
    k = 0
    for idx, (t, inp) in enumerate(inputs):
        if not isinstance(inp, PoissonInput):
            continue
        seg = a["pin_targets"][pin_indptr[k] : pin_indptr[k + 1]]
        if not np.array_equal(seg, pin_targets[k]):
            raise bad("pin_targets", f"targets of input {idx} do not match the description")
        key = stream_key(np.uint64(seed), np.uint64(stream_id(STREAM_INPUT, idx)))
        if a["pin_key"][k] != key:
            raise bad("pin_key", f"key of input {idx} does not match the seed")
        if a["pin_n"][k] != inp.n_inputs:
            raise bad("pin_n", f"entry {k} does not match input {idx}")
        n_rec_t = len(pops[t.pop].model.receptors)
        if not 0 <= a["pin_rec"][k] < max(n_rec_t, 1):
            raise bad("pin_rec", f"entry {k} is not a receptor of the target")
        if not 0.0 <= a["pin_p"][k] <= 1.0:
            raise bad("pin_p", f"entry {k} is not a probability")
        k += 1
    if a["spike_count"].size and a["spike_count"].min() < 0:
        raise bad("spike_count", "negative counts")

    words = (n + 63) // 64
    ev_sizes = {"ev_last": n, "ev_blk": words, "ev_busy": words}
    if len({a[k].size == 0 for k in ev_sizes}) > 1 or (
        a["ev_last"].size and any(a[k].size != v for k, v in ev_sizes.items())
    ):
        raise bad(
            "ev_last", f"ev_last/ev_blk/ev_busy must be empty or have {n}/{words}/{words} entries"
        )
    if a["ev_last"].size and (a["ev_last"].max() > step or a["ev_blk"].max() > step):
        raise bad("ev_last", f"stamps after the current step {step}")
    eng = Engine(
        dt=dt,
        seed=seed,
        n=n,
        threads=threads,
        threads_auto=threads_auto,
        pop_kind=a["pop_kind"],
        pop_start=a["pop_start"],
        pop_size=a["pop_size"],
        pop_foff=a["pop_foff"],
        pop_ioff=a["pop_ioff"],
        pop_doff=a["pop_doff"],
        pop_key=a["pop_key"],
        fstate=a["fstate"],
        istate=a["istate"],
        idata=a["idata"],
        i_ext=a["i_ext"],
        indptr=indptr,
        syn_code=code,
        syn_weight=a["syn_weight"],
        syn_delay=a["syn_delay"],
        ring=a["ring"],
        min_delay=min_delay,
        ev_step=ev_step,
        ev_gid=ev_gid,
        ev_value=a["ev_value"],
        pin_indptr=pin_indptr,
        pin_targets=a["pin_targets"],
        pin_n=a["pin_n"],
        pin_p=a["pin_p"],
        pin_w=a["pin_w"],
        pin_rec=a["pin_rec"],
        pin_key=a["pin_key"],
        step=step,
        spike_count=a["spike_count"],
        total_spikes=total_spikes,
        total_events=total_events,
        precision=precision,
        event_driven=event_driven,
        w_table=a["w_table"],
        w_mode=w_mode,
        delay_const=delay_const,
        **model_arrays([pop.model for pop in pops], [pop.size for pop in pops], dt),  # type: ignore[arg-type]
        ev_last=a["ev_last"],
        ev_blk=a["ev_blk"],
        syn_tag=a["syn_tag"],
        mb_proj=a["mb_proj"],
        mb_lo=a["mb_lo"],
        mb_hi=a["mb_hi"],
        mb_row=a["mb_row"],
        mb_indptr=a["mb_indptr"],
        mb_code=a["mb_code"],
        mb_weight=a["mb_weight"],
        mb_delay=a["mb_delay"],
        ev_busy=a["ev_busy"],
    )
    return eng


# ====================================================================== load
def _target(pop: Population, t: _TargetDesc) -> Target:
    return pop if t.whole else pop[t.indices]


def _attr_str(obj: Any, name: str, default: str) -> str:
    value = obj.attrs.get(name, default)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value)


def _load_open(r: _Reader) -> Network:
    f = r.f
    _check_links(r)
    fmt = f.attrs.get("format")
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8", errors="replace")
    if fmt != FORMAT:
        raise r.fail(
            "root attribute 'format'", f"{fmt!r} (expected {FORMAT!r}): not an snnsim file"
        )
    sv = r.attr_int(f, "schema_version")
    if sv not in SUPPORTED_SCHEMA_VERSIONS:
        raise r.fail(
            "root attribute 'schema_version'",
            f"version {sv} is not supported (supported: {SUPPORTED_SCHEMA_VERSIONS}); "
            "use the snnsim version that wrote it",
        )
    dt = r.attr_float(f, "dt")
    if dt <= 0:
        raise r.fail("root attribute 'dt'", f"{dt} ms must be > 0")
    seed = r.attr_int(f, "seed", 0, 2**64 - 1)
    threads = r.attr_int(f, "threads", 1, 1 << 20)
    threads_auto = bool(r.attr_int(f, "threads_auto", 0, 1)) if "threads_auto" in f.attrs else False
    step = r.attr_int(f, "step", 0, 1 << 62)
    precision = _attr_str(f, "precision", "double")
    if precision not in ("double", "single"):
        raise r.fail("root attribute 'precision'", f"{precision!r} (expected 'double' or 'single')")
    ev_flag = r.attr_int(f, "event_driven", -1, 1) if "event_driven" in f.attrs else -1
    event_driven = None if ev_flag < 0 else bool(ev_flag)

    pops = _read_populations(r, dt)
    projs = _read_projections(r, pops)
    inputs = _read_inputs(r, pops)
    recs = _read_recorders(r, pops, step)
    eng = _read_engine(
        r, pops, inputs, dt, seed, step, threads, threads_auto, precision, event_driven,
        len(projs),
    )  # fmt: skip

    # ---- everything validated: build the Python objects
    try:
        net = Network(
            dt=dt,
            seed=seed,
            threads=None if threads_auto else threads,
            precision=precision,
            event_driven=event_driven,
        )
        objs = [net.add_population(p.size, p.model, p.label) for p in pops]
        for obj, pop_desc in zip(objs, pops, strict=True):
            obj.set_calls_before = pop_desc.set_calls
        for j, pd in enumerate(projs):
            net.projections.append(
                Projection(
                    j,
                    _target(objs[pd.pre.pop], pd.pre),
                    _target(objs[pd.post.pop], pd.post),
                    LoadedConnector(pd.connector),
                    None,
                    None,
                    pd.receptor,
                    pd.round_delays,
                    pd.label,
                )
            )
        for t, inp in inputs:
            net.add_input(_target(objs[t.pop], t), inp)
        for rd in recs:
            pop = objs[rd.pop]
            view = (
                pop
                if rd.indices.size == pop.size and np.array_equal(rd.indices, np.arange(pop.size))
                else pop[rd.indices]
            )
            rec: Recorder
            if rd.kind == "spikes":
                rec = net.record_spikes(view)
                rec.restore(steps=rd.arrays["steps"], ids=rd.arrays["ids"])
            elif rd.kind == "state":
                rec = net.record_state(view, rd.variables, rd.every)
                rec.restore(steps=rd.arrays["steps"], data=rd.arrays["data"])
            else:
                rrec = net.record_rates(pop, rd.bin_steps * dt)
                if rrec.bin_steps != rd.bin_steps:
                    raise r.fail("/recorders", f"bin of {rd.bin_steps} steps cannot be rebuilt")
                rrec.restore(counts=rd.arrays["counts"])
                rec = rrec
            if not np.array_equal(rec.indices, rd.indices):
                raise r.fail("/recorders", "recorder indices could not be restored")
    except SnnsimError as err:
        if isinstance(err, FileFormatError):
            raise
        raise r.fail("/description", f"cannot rebuild the network: {err}") from None
    eng.compile_s = compile_kernels(eng)
    net.attach_engine(eng)
    return net


_H5_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError)


def load(path: PathLike) -> Network:
    """Load a network saved by :func:`save`, ready to continue running.

    The returned network has the same ``dt``, ``seed`` and ``threads``, the same populations
    (models, parameters, labels, order), inputs, projections (as descriptions: the synapses
    are restored in the engine and never regenerated) and recorders (creation order, holding
    everything recorded before the save; further runs append to them). Its engine is rebuilt
    from the saved arrays, so ``run(T)`` gives bit-identical spikes and traces to the
    original network continuing for ``T`` ms. The network counts as built: adding
    populations, projections, inputs or recorders raises
    :class:`~snnsim.errors.SimulationError`.

    Parameters
    ----------
    path : str or os.PathLike
        File written by :func:`save`.

    Returns
    -------
    Network

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FileFormatError
        If the file is not HDF5, is truncated or corrupt, is not an snnsim checkpoint, has an
        unsupported schema version, or any dataset is missing, has the wrong dtype or shape,
        holds out-of-range values, or uses external links, external storage or virtual
        datasets. Nothing is built before the whole file has been validated.
    """
    import h5py

    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(f"load: no such file: {p!r}")
    if os.path.isdir(p):
        raise FileFormatError(f"{p}: is a directory, not an snnsim HDF5 file")
    try:
        if not h5py.is_hdf5(p):
            raise FileFormatError(f"{p}: not an HDF5 file (an snnsim checkpoint is HDF5)")
        with h5py.File(p, "r") as f:
            return _load_open(_Reader(f, p))
    except SnnsimError:
        raise
    except _H5_ERRORS as err:
        raise FileFormatError(
            f"{p}: corrupt or truncated HDF5 file ({type(err).__name__}: {err})"
        ) from err


# ====================================================================== SONATA
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
    if sorting not in _SORTINGS:
        raise ParameterError(f"write_sonata_spikes(sorting={sorting!r}): use one of {_SORTINGS}")
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
            _write_dataset(g, "timestamps", times, "ms")
            _write_dataset(g, "node_ids", ids, "1 (node id within the population)")

    _atomic_h5_write(path, writer)


def _read_sonata_open(
    r: _Reader,
) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]]:
    import h5py

    f = r.f
    _check_links(r)
    if "magic" in f.attrs:
        magic = f.attrs["magic"]
        if isinstance(magic, np.ndarray):
            magic = magic.reshape(-1)[0] if magic.size == 1 else None
        if not isinstance(magic, (int, np.integer)) or int(magic) != SONATA_MAGIC:
            raise r.fail("root attribute 'magic'", f"{magic!r} (expected 0x0A7A)")
    spikes = r.group("/spikes")
    out: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]] = {}
    for pop in spikes:
        g = r.group(f"/spikes/{pop}")
        if "sorting" in g.attrs:
            s = g.attrs["sorting"]
            if isinstance(s, bytes):
                s = s.decode("utf-8", errors="replace")
            if isinstance(s, (int, np.integer)) and 0 <= int(s) < len(_SORTINGS):
                s = _SORTINGS[int(s)]  # HDF5 enum as written by libsonata
            if s not in _SORTINGS:
                raise r.fail(f"{g.name} attribute 'sorting'", f"{s!r} not in {_SORTINGS}")
        ts_obj = g.get("timestamps")
        id_obj = g.get("node_ids")
        for name, obj in (("timestamps", ts_obj), ("node_ids", id_obj)):
            if obj is None:
                raise r.fail(f"{g.name}/{name}", "missing dataset")
            if not isinstance(obj, h5py.Dataset):
                raise r.fail(f"{g.name}/{name}", "expected a dataset")
            if obj.is_virtual or obj.external:
                raise r.fail(f"{g.name}/{name}", "external or virtual storage is refused")
            if len(obj.shape) != 1:
                raise r.fail(f"{g.name}/{name}", f"shape {obj.shape} (expected 1-D)")
        if ts_obj.dtype.kind != "f":
            raise r.fail(f"{g.name}/timestamps", f"dtype {ts_obj.dtype} (expected float)")
        if id_obj.dtype.kind not in "ui":
            raise r.fail(f"{g.name}/node_ids", f"dtype {id_obj.dtype} (expected integer)")
        if ts_obj.shape != id_obj.shape:
            raise r.fail(g.name, f"timestamps {ts_obj.shape} and node_ids {id_obj.shape} differ")
        units = ts_obj.attrs.get("units", "ms")
        if isinstance(units, bytes):
            units = units.decode("utf-8", errors="replace")
        if units != "ms":
            raise r.fail(f"{g.name}/timestamps", f"units {units!r} (expected 'ms')")
        r.declared_bytes += 16 * int(ts_obj.shape[0])
        if r.declared_bytes > available_memory():
            raise r.fail(g.name, "the spike arrays do not fit in the available memory")
        times = np.asarray(ts_obj[()], dtype=np.float64)
        raw_ids = np.asarray(id_obj[()])
        if raw_ids.size and (
            (raw_ids.dtype.kind == "i" and raw_ids.min() < 0)
            or (raw_ids.dtype.kind == "u" and int(raw_ids.max()) >= 2**63)
        ):
            raise r.fail(f"{g.name}/node_ids", "node ids must be in [0, 2**63)")
        if not np.all(np.isfinite(times)):
            raise r.fail(f"{g.name}/timestamps", "contains NaN or Inf")
        out[pop] = (times, raw_ids.astype(np.int64))
    return out


def read_sonata_spikes(
    path: PathLike,
) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]]:
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
    try:
        if os.path.isdir(p) or not h5py.is_hdf5(p):
            raise FileFormatError(f"{p}: not an HDF5 file (a SONATA spike report is HDF5)")
        with h5py.File(p, "r") as f:
            return _read_sonata_open(_Reader(f, p))
    except SnnsimError:
        raise
    except _H5_ERRORS as err:
        raise FileFormatError(
            f"{p}: corrupt or truncated HDF5 file ({type(err).__name__}: {err})"
        ) from err
