"""Synapse values: weight and delay specifications, their storage, and the checked values pass.

:mod:`snnsim.synapses` assembles the CSR; this module supplies, per projection, what goes
into it:

- :class:`ValueSpec`: a weight or delay specification (scalar, distribution, per-synapse
  array, pre x post matrix) in the form the compiled values pass
  (:func:`snnsim.kernels.assembly.synapse_values`) reads;
- :func:`prepare_projection`: a projection validated and counted per row, with its value
  specifications resolved (a :class:`ProjectionJob`);
- :class:`ValueStorage`: how a network's weights and delays are stored (per synapse, as
  table indices, by receptor; one delay or per synapse), decided from the specifications
  before any value is computed (:func:`weight_storage`, :func:`constant_delay`);
- :func:`fill_values`: a projection's values computed, checked (finite, on the time grid,
  in range, allowed by the target model) and written where the storage keeps them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution, Normal, Uniform
from snnsim.errors import ConnectivityError
from snnsim.kernels import assembly as _ka
from snnsim.kernels.random_streams import stream_key
from snnsim.streams import STREAM_CONNECT, STREAM_DELAY, STREAM_WEIGHT, stream_id

if TYPE_CHECKING:
    from snnsim.connectors import RowPlan
    from snnsim.models import NeuronModel
    from snnsim.network import Network
    from snnsim.projections import Projection

__all__ = [
    "KIND_ARRAY",
    "KIND_CONST",
    "KIND_MATRIX",
    "KIND_NORMAL",
    "KIND_UNIFORM",
    "MAX_DELAY_STEPS",
    "MAX_TABLE_WEIGHTS",
    "W_BY_RECEPTOR",
    "W_INDEXED",
    "W_VALUES",
    "ProjectionJob",
    "ValueSpec",
    "ValueStorage",
    "check_model_delays",
    "constant_delay",
    "distinct_keys",
    "fill_values",
    "float32_keys",
    "index_dtype",
    "keys_float32",
    "prepare_projection",
    "scaled_spec",
    "value_spec",
    "weight_storage",
]

#: Largest delay in steps (delays are stored as uint16 at most).
MAX_DELAY_STEPS = 65535
#: Largest number of distinct weights stored as a table (uint16 indices).
MAX_TABLE_WEIGHTS = 65536
#: ``Synapses.w_mode`` values (see :mod:`snnsim.synapses`): float32 per synapse, indices
#: into a table of distinct weights, one weight per receptor.
W_VALUES, W_INDEXED, W_BY_RECEPTOR = 0, 1, 2

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


def _empty_table() -> npt.NDArray[np.float32]:
    return np.zeros(0, dtype=np.float32)


@dataclass
class ValueSpec:
    """A weight or delay specification in the form the compiled values pass reads."""

    kind: int
    par: _F64 = field(default_factory=lambda: np.zeros(4))
    key: np.uint64 = field(default_factory=lambda: np.uint64(0))
    #: float64, or float32 as a FromList connector may keep its values
    arr: npt.NDArray[np.floating[Any]] = field(default_factory=lambda: np.zeros(0))
    perm: _I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    mat: _F64 = field(default_factory=lambda: np.zeros((0, 0)))


KIND_CONST, KIND_UNIFORM, KIND_NORMAL, KIND_ARRAY, KIND_MATRIX = 0, 1, 2, 3, 4


def check_value_shape(
    arr: npt.NDArray[Any], what: str, n_syn: int | None, n_pre: int, n_post: int,
    order: str = "sorted by pre, then post",
) -> None:  # fmt: skip
    """Refuse an array of weights or delays that fits no synapse layout.

    Allowed: a scalar, one value per synapse (``n_syn``, unchecked when ``None``; ``order``
    says which order, for the message) or an ``(n_pre, n_post)`` matrix. ``what`` names the
    call and the parameter in the message.
    """
    if arr.ndim == 0:
        return
    if arr.ndim == 1:
        if n_syn is not None and arr.size != n_syn:
            raise ConnectivityError(
                f"{what}: array of {arr.size} values for {n_syn} synapses; give a scalar, a "
                f"distribution, one value per synapse ({order}) or a ({n_pre}, {n_post}) "
                "matrix"
            )
        return
    if arr.ndim == 2:
        if arr.shape != (n_pre, n_post):
            raise ConnectivityError(
                f"{what}: matrix of shape {arr.shape}; expected ({n_pre}, {n_post}) (pre x "
                f"post) or ({n_syn if n_syn is not None else 'n_synapses'},)"
            )
        return
    raise ConnectivityError(
        f"{what}: must be a scalar, a 1-D or 2-D array or a distribution, got a {arr.ndim}-D array"
    )


def value_spec(
    spec: Any, what: str, n_syn: int, key: np.uint64, n_pre: int, n_post: int
) -> ValueSpec:
    """Resolve a weight or delay specification for the values pass.

    ``key`` seeds the projection's stream for distributions; ``what`` names the projection
    in errors. Arrays are one value per synapse (by pre, then post), matrices pre x post.
    """
    key = np.uint64(key)
    if type(spec) is Uniform:
        return ValueSpec(KIND_UNIFORM, np.array([spec.low, spec.high, 0.0, 0.0]), key)
    if type(spec) is Normal:
        return ValueSpec(KIND_NORMAL, np.array([spec.mean, spec.std, spec.low, spec.high]), key)
    if isinstance(spec, Distribution):  # a user distribution: its own sampler
        values = np.ascontiguousarray(spec.sample(key, n_syn), dtype=np.float64).reshape(-1)
        if values.size != n_syn:
            raise ConnectivityError(
                f"{what}: {type(spec).__name__}.sample returned {values.size} values for "
                f"{n_syn} synapses"
            )
        return ValueSpec(KIND_ARRAY, arr=values)
    arr = np.asarray(spec, dtype=np.float64)
    check_value_shape(arr, what, n_syn, n_pre, n_post)
    if arr.ndim == 0:
        return ValueSpec(KIND_CONST, np.array([float(arr), 0.0, 0.0, 0.0]))
    if arr.ndim == 1:
        return ValueSpec(KIND_ARRAY, arr=np.ascontiguousarray(arr))
    return ValueSpec(KIND_MATRIX, mat=np.ascontiguousarray(arr))


def check_model_delays(model: NeuronModel, steps: npt.NDArray[Any], dt: float, what: str) -> None:
    """Refuse delays (steps) above the target model's ``max_delay_steps``."""
    limit = model.max_delay_steps
    if limit is None or not steps.size or int(steps.max()) <= limit:
        return
    raise ConnectivityError(
        f"{what}: delay of {int(steps.max())} steps ({int(steps.max()) * dt:g} ms) onto "
        f"{model.name} neurons; they take at most {limit} steps ({limit * dt:g} ms at "
        f"dt={dt} ms)"
    )


def scaled_spec(spec: ValueSpec, factor: float) -> ValueSpec:
    """Return ``spec`` with its values multiplied by ``factor`` (a power of two: exact)."""
    if spec.kind == KIND_CONST:
        return ValueSpec(KIND_CONST, spec.par * np.array([factor, 1.0, 1.0, 1.0]))
    if spec.kind == KIND_ARRAY:
        return ValueSpec(KIND_ARRAY, arr=spec.arr * factor, perm=spec.perm)
    if spec.kind == KIND_MATRIX:
        return ValueSpec(KIND_MATRIX, mat=spec.mat * factor)
    raise ConnectivityError("weights onto fixed-point neurons cannot be drawn from a distribution")


# -------------------------------------------------------------------------- assembly
@dataclass
class ProjectionJob:
    """One projection between its count pass and its fill pass."""

    proj: Projection
    what: str
    rec: int
    pre_gid: _I64
    post_gid: _I64
    plan: RowPlan | None
    lptr: _I64
    wspec: ValueSpec
    dspec: ValueSpec

    @property
    def n_syn(self) -> int:
        """Number of synapses of the projection."""
        return int(self.lptr[-1])


def prepare_projection(
    net: Network, proj: Projection, seed: np.uint64, ids: dict[int, tuple[Any, _I64]]
) -> ProjectionJob:
    """Validate a projection, count its synapses per row and resolve its value specs.

    ``ids`` caches the global ids of each population or view (one array per target).
    """
    from snnsim.connectors import FromList

    what = f"connect({proj.pre.population.label} -> {proj.post.population.label})"
    rec = proj.post.model.receptor_index(proj.receptor, what)
    for target in (proj.pre, proj.post):
        if id(target) not in ids:  # the target is kept in the value: its id stays unique
            ids[id(target)] = (target, np.ascontiguousarray(target.global_ids, dtype=np.int64))
    pre_gid = ids[id(proj.pre)][1]
    post_gid = ids[id(proj.post)][1]
    key = np.uint64(stream_key(seed, np.uint64(stream_id(STREAM_CONNECT, proj.index))))
    conn = proj.connector
    plan = conn.row_plan(key, pre_gid, post_gid)
    lptr = np.zeros(pre_gid.size + 1, dtype=np.int64)
    np.cumsum(plan.take_counts(), out=lptr[1:])
    n_syn = int(lptr[-1])
    n_pre, n_post = pre_gid.size, post_gid.size
    listed = conn if isinstance(conn, FromList) else None
    order = np.zeros(0, dtype=np.int64)
    if listed is not None and listed.order is not None:
        order = listed.order
    if listed is not None and listed.weight is not None:
        wspec = ValueSpec(KIND_ARRAY, arr=listed.weight, perm=order)
    else:
        wkey = np.uint64(stream_key(seed, np.uint64(stream_id(STREAM_WEIGHT, proj.index))))
        wspec = value_spec(proj.weight, what + " weight", n_syn, wkey, n_pre, n_post)
    if proj.weight_exp:  # fixed-point mantissas: the engine stores mantissa * 2**weight_exp
        wspec = scaled_spec(wspec, proj.weight_scale)
    if listed is not None and listed.delay is not None:
        dspec = ValueSpec(KIND_ARRAY, arr=listed.delay, perm=order)
    elif proj.delay is None:
        dspec = ValueSpec(KIND_CONST, np.array([net.dt, 0.0, 0.0, 0.0]))
    else:
        dkey = np.uint64(stream_key(seed, np.uint64(stream_id(STREAM_DELAY, proj.index))))
        dspec = value_spec(proj.delay, what + " delay", n_syn, dkey, n_pre, n_post)
    return ProjectionJob(proj, what, rec, pre_gid, post_gid, plan, lptr, wspec, dspec)


@dataclass
class ValueStorage:
    """How a network's weights and delays are stored, decided before any value is computed.

    ``w_mode`` 1 with empty ``table_keys`` means: float32 first, indexed afterwards if the
    values allow it (``index_later``).
    """

    w_mode: int = W_VALUES
    #: sorted keys of the weight table (``w_mode`` 1, known in advance)
    table_keys: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))
    #: weight per receptor (``w_mode`` 2)
    by_receptor: npt.NDArray[np.float32] = field(default_factory=_empty_table)
    index_later: bool = False
    delay_const: int = 0


def weight_storage(jobs: list[ProjectionJob]) -> ValueStorage:
    """Weight storage of a network from its projections' specifications.

    By receptor when every projection has a single float32 weight (a constant, a matrix of
    one value, or an array with one distinct float32 value) and all projections onto a
    receptor share it; else a table of sorted keys when the network's weights (constants,
    arrays) have at most :data:`MAX_TABLE_WEIGHTS` distinct float32 values; else float32,
    to be indexed later (``index_later``) when the count must wait for the values
    (distributions, matrices).
    """
    parts: list[npt.NDArray[np.uint32]] = []
    receptor_key: dict[int, int] = {}
    by_receptor = True
    later = too_many = False
    for job in jobs:
        if job.n_syn == 0:
            continue
        ws = job.wspec
        if ws.kind == KIND_CONST:
            keys = float32_keys(ws.par[:1])
        elif ws.kind == KIND_MATRIX and _single_value(ws.mat) and ws.mat.flat[0] != 0:
            # (a zero matrix is left to the values: -0.0 == 0.0, yet they are distinct)
            keys = float32_keys(ws.mat.reshape(-1)[:1])
        elif ws.kind == KIND_ARRAY:
            keys = distinct_keys(ws.arr)
            too_many = too_many or keys.size > MAX_TABLE_WEIGHTS
        else:
            later = True
            by_receptor = False
            continue
        parts.append(keys)
        if keys.size != 1 or receptor_key.setdefault(job.rec, int(keys[0])) != int(keys[0]):
            by_receptor = False
    if by_receptor and receptor_key:
        table = np.zeros(2, dtype=np.float32)
        for rec, key in receptor_key.items():
            table[rec] = keys_float32(np.array([key], dtype=np.uint32))[0]
        return ValueStorage(W_BY_RECEPTOR, by_receptor=table)
    if too_many:
        return ValueStorage()
    keys = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint32)
    if keys.size > MAX_TABLE_WEIGHTS:
        return ValueStorage()
    if later:
        return ValueStorage(W_INDEXED, index_later=True)
    if keys.size == 0:
        return ValueStorage()
    return ValueStorage(W_INDEXED, table_keys=keys.astype(np.uint32))


def _single_value(values: npt.NDArray[np.floating[Any]]) -> bool:
    """Whether ``values`` holds one value only (read twice, nothing allocated; NaN: False)."""
    return bool(values.size) and bool(values.min() == values.max())


def constant_delay(dt: float, jobs: list[ProjectionJob]) -> int:
    """Return the delay in steps shared by every synapse, when known in advance; else 0.

    Constant when every projection with synapses has one delay (a scalar, or an array or
    matrix whose values are all equal) and they round to the same valid number of steps.
    Invalid delays give 0 here and are reported by the values pass.
    """
    common = 0
    for job in jobs:
        if job.n_syn == 0:
            continue
        ds = job.dspec
        if ds.kind == KIND_CONST:
            d = float(ds.par[0])
        elif ds.kind == KIND_ARRAY and _single_value(ds.arr):
            d = float(ds.arr[0])
        elif ds.kind == KIND_MATRIX and _single_value(ds.mat):
            d = float(ds.mat.reshape(-1)[0])
        else:
            return 0
        steps = np.rint(d / dt) if math.isfinite(d) else -1.0
        if not 1 <= steps <= MAX_DELAY_STEPS or common not in (0, int(steps)):
            return 0
        common = int(steps)
    return common


_SIGN = np.uint32(0x80000000)


def float32_keys(values: npt.ArrayLike) -> npt.NDArray[np.uint32]:
    """Order-preserving uint32 keys of float32 values (``-0.0`` sorts just below ``0.0``).

    The NumPy twin of :func:`snnsim.kernels.assembly.float32_key`.
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    keys: npt.NDArray[np.uint32] = np.where(bits & _SIGN, ~bits, bits | _SIGN).astype(np.uint32)
    return keys


def keys_float32(keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.float32]:
    """Inverse of :func:`float32_keys`."""
    bits = np.where(keys & _SIGN, keys ^ _SIGN, ~keys).astype(np.uint32)
    return bits.view(np.float32)


def distinct_keys(values: npt.NDArray[Any]) -> npt.NDArray[np.uint32]:
    """Distinct keys of ``values``; at most ``MAX_TABLE_WEIGHTS + 1`` of them, unsorted."""
    if values.size <= 1 << 20:  # small: NumPy (no kernel to compile)
        keys: npt.NDArray[np.uint32] = np.unique(float32_keys(values))
        return keys[: MAX_TABLE_WEIGHTS + 1]
    return _ka.distinct_keys(values, MAX_TABLE_WEIGHTS)  # type: ignore[no-any-return]


def index_dtype(k: int) -> type[np.unsignedinteger[Any]]:
    """Smallest unsigned dtype that indexes ``k`` entries (uint8 or uint16)."""
    return np.uint8 if k <= 256 else np.uint16


_BAD = "\x00bad\x00"
#: Row chunks of the values pass (per-chunk statistics; results do not depend on it).
_VALUE_CHUNKS = 256


def _raise_bad(bad_q: _I64, bad_v: _F64, which: int, message: str) -> None:
    """Raise ``message`` (``_BAD`` replaced by the value) for the first flagged synapse."""
    col = bad_q[:, which]
    rows = np.flatnonzero(col >= 0)
    if rows.size == 0:
        return
    first = rows[np.argmin(col[rows])]
    value = repr(float(bad_v[first, which]))
    at = f"synapse index {int(col[first])} of the projection (by presynaptic neuron, then target)"
    if _BAD not in message:
        raise ConnectivityError(f"{message}; first: {value} at {at}")
    raise ConnectivityError(f"{message.replace(_BAD, value)}; first at {at}")


def _constant_values(
    net: Network,
    job: ProjectionJob,
    dest: _I64,
    store: ValueStorage,
    weight: npt.NDArray[Any],
    delay: npt.NDArray[Any],
    cap: int,
    wstats: _F64,
    dstats: _I64,
    bad_q: _I64,
    bad_v: _F64,
) -> None:
    """:func:`~snnsim.kernels.assembly.synapse_values` for a constant weight and delay.

    The checks run once in Python (same arithmetic, same statistics and flags as the kernel)
    and a small kernel stores the values that are kept per synapse (none when the weight
    goes by receptor and the delay is constant).
    """
    bad_q[:] = -1
    bad_v[:] = 0.0
    wstats[:] = (math.inf, -math.inf)
    dstats[:] = (1 << 62, 0)
    if job.n_syn == 0:
        return

    def flag(which: int, value: float) -> None:
        bad_q[0, which] = 0
        bad_v[0, which] = value

    w = float(job.wspec.par[0])
    if not math.isfinite(w):
        flag(_ka.BAD_WEIGHT_NONFINITE, w)
        w = 0.0
    wstats[0] = (w, w)
    stored: Any = weight.dtype.type(w) if weight.dtype.kind == "f" else np.float32(w)
    table_keys = store.table_keys
    if table_keys.size:
        key = float32_keys([w])[0]
        stored = int(np.searchsorted(table_keys, key))
        if stored >= table_keys.size or table_keys[stored] != key:
            flag(_ka.BAD_WEIGHT_NOT_IN_TABLE, w)
            stored = 0
    elif store.w_mode == W_BY_RECEPTOR:
        stored = np.uint8(0)
    d = float(job.dspec.par[0])
    steps_stored = 1
    if not math.isfinite(d):
        flag(_ka.BAD_DELAY_NONFINITE, d)
    else:
        steps_f = d / net.dt
        steps = float(np.rint(steps_f))
        if not job.proj.round_delays and abs(steps_f - steps) > 1e-9 * max(1.0, abs(steps_f)):
            flag(_ka.BAD_DELAY_OFF_GRID, d)
        if steps < 1:
            flag(_ka.BAD_DELAY_BELOW_ONE, d)
        elif steps > MAX_DELAY_STEPS:
            flag(_ka.BAD_DELAY_ABOVE_MAX, d)
        else:
            steps_stored = int(steps)
            if steps_stored > cap:
                flag(_ka.BAD_DELAY_STORAGE, d)
                steps_stored = cap
            dstats[0] = (steps_stored, steps_stored)
    store_w = store.w_mode != W_BY_RECEPTOR
    store_d = store.delay_const == 0
    if store_w or store_d:
        _ka.fill_constant(job.lptr, dest, weight, stored, store_w, delay, steps_stored, store_d)


def fill_values(
    net: Network,
    job: ProjectionJob,
    dest: _I64,
    code: npt.NDArray[np.int32],
    store: ValueStorage,
    weight: npt.NDArray[Any],
    delay: npt.NDArray[Any],
) -> tuple[npt.NDArray[Any], int, int]:
    """Weights and delays of one projection, checked; returns (delay array, min, max).

    Only the values that ``store`` keeps per synapse are written; all are checked.
    """
    n_chunks = max(1, min(dest.size, _VALUE_CHUNKS))
    wstats = np.empty((n_chunks, 2))
    dstats = np.empty((n_chunks, 2), dtype=np.int64)
    bad_q = np.empty((n_chunks, _ka.N_BAD), dtype=np.int64)
    bad_v = np.empty((n_chunks, _ka.N_BAD))
    w, d = job.wspec, job.dspec
    store_w = store.w_mode != W_BY_RECEPTOR
    store_d = store.delay_const == 0
    while True:
        cap = int(np.iinfo(delay.dtype).max) if store_d else MAX_DELAY_STEPS
        if w.kind == KIND_CONST and d.kind == KIND_CONST:
            _constant_values(net, job, dest, store, weight, delay, cap, wstats, dstats,
                             bad_q, bad_v)  # fmt: skip
        else:
            _ka.synapse_values(
                job.lptr, dest, code,
                w.kind, w.par, w.key, w.arr, w.perm, w.mat,
                d.kind, d.par, d.key, d.arr, d.perm, d.mat,
                net.dt, bool(job.proj.round_delays), MAX_DELAY_STEPS,
                store.table_keys, store_w, weight, store_d, delay, cap,
                wstats, dstats, bad_q, bad_v,
            )  # fmt: skip
        if np.any(bad_q[:, _ka.BAD_DELAY_STORAGE] >= 0) and not np.any(
            bad_q[:, _ka.BAD_DELAY_ABOVE_MAX : _ka.BAD_DELAY_STORAGE] >= 0
        ):
            delay = delay.astype(np.uint16)  # a delay above 255 steps: widen, redo
            continue
        break
    what = job.what
    _raise_bad(
        bad_q, bad_v, _ka.BAD_WEIGHT_NONFINITE,
        what + " weight: values must be finite (NaN or Inf found)",
    )  # fmt: skip
    if job.n_syn:
        wmin, wmax = float(wstats[:, 0].min()), float(wstats[:, 1].max())
        job.proj.post.model.check_weight_range(wmin, wmax, job.rec, what)
        if max(abs(wmin), abs(wmax)) > 3e38:
            raise ConnectivityError(f"{what}: weights beyond float32 range")
    dt = net.dt
    _raise_bad(
        bad_q, bad_v, _ka.BAD_DELAY_NONFINITE,
        what + " delay: values must be finite (NaN or Inf found)",
    )  # fmt: skip
    if not job.proj.round_delays:
        _raise_bad(
            bad_q, bad_v, _ka.BAD_DELAY_OFF_GRID,
            what + ": delay " + _BAD + " ms is not a multiple of dt=" + f"{dt} ms; use multiples "
            "of dt or pass round_delays=True to round to the nearest step",
        )  # fmt: skip
    _raise_bad(
        bad_q, bad_v, _ka.BAD_DELAY_BELOW_ONE,
        what + ": delay " + _BAD + " ms is below dt=" + f"{dt} ms; delays must be >= one time step",
    )  # fmt: skip
    _raise_bad(
        bad_q, bad_v, _ka.BAD_DELAY_ABOVE_MAX,
        what + ": delay " + _BAD + " ms exceeds the supported maximum of "
        + f"{MAX_DELAY_STEPS} steps ({MAX_DELAY_STEPS * dt:g} ms at dt={dt} ms)",
    )  # fmt: skip
    if job.n_syn:
        check_model_delays(job.proj.post.model, np.array([int(dstats[:, 1].max())]), dt, what)
    if np.any(bad_q[:, _ka.BAD_WEIGHT_NOT_IN_TABLE] >= 0):  # pragma: no cover - invariant
        raise RuntimeError(f"{what}: a weight is missing from the weight table (internal error)")
    return delay, int(dstats[:, 0].min()), int(dstats[:, 1].max())
