"""Synapse tables: every projection's connectivity, weights and delays in one CSR.

Layout (design.md section 5): one CSR by global source id,

- ``indptr`` int64[N + 1]: row pointers;
- ``code`` int32[S]: ``2*target + receptor``, ascending within each row (the run loop
  finds a thread partition's synapses by binary search). Equal codes (multapses, or
  several projections onto the same target and receptor) keep the order of their
  projections, then each projection's own order;
- ``weight``: nA (current synapses) or mV (delta synapses), stored in one of three ways
  (``w_mode``), chosen per network at build time:

  * ``w_mode`` 0: ``weight`` is float32[S], one value per synapse; ``w_table`` is empty;
  * ``w_mode`` 1: ``w_table`` float32[K] holds the network's K <= 65536 distinct float32
    weights in ascending order (``-0.0`` before ``0.0``), and ``weight`` is an index into
    it: uint8[S] when K <= 256, uint16[S] otherwise. The weight of synapse ``s`` is
    ``w_table[weight[s]]``;
  * ``w_mode`` 2 (weight by receptor): every synapse onto receptor ``r`` has the weight
    ``w_table[r]`` (``w_table`` float32[2]; 0.0 for a receptor without synapses), and
    ``weight`` is empty (uint8[0]). The weight of synapse ``s`` is ``w_table[code[s] & 1]``;

- ``delay``: steps (>= 1), uint8[S] when every delay is <= 255 steps, else uint16[S];
  when every synapse of the network has the same delay, ``delay`` is empty (uint8[0]) and
  ``delay_const`` holds it (otherwise ``delay_const`` is 0);
- ``min_delay``, ``max_delay``: smallest and largest delay in steps.

A static synapse thus costs 4 bytes (weight by receptor, one delay: CUBA, Brunel) to 10
bytes (4 code + 4 weight + 2 delay). ``build_synapses(compress=False)`` gives the
uncompressed layout (``w_mode`` 0 with float32 weights, uint16 delays per synapse).

Assembly, without per-synapse temporaries: every projection's connector counts its
synapses per source (:meth:`~snnsim.connectors.Connector.row_plan`), which lays out the
CSR; then each projection writes its rows straight into their place (postsynaptic
positions in ``code``), a compiled pass computes weights and delays from the projection's
streams (value ``q`` of a projection is the ``q``-th synapse of its own CSR, as it always
was), checks them, stores those that are kept per synapse and turns positions into codes;
finally the rows that several projections share are merged by code. The storage is
decided before any value is computed, from the projections' specifications: weight by
receptor when every projection has one weight (a scalar, or an array of one distinct
float32 value) and projections onto the same receptor agree; a constant delay when every
projection has one delay and they agree in steps. Weights that cannot be listed in
advance (distributions, matrices) are written as float32 and indexed afterwards if they
turn out to have <= 65536 distinct values.
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
    "MAX_DELAY_STEPS",
    "MAX_TABLE_WEIGHTS",
    "W_BY_RECEPTOR",
    "W_INDEXED",
    "W_VALUES",
    "ProjectionTable",
    "Synapses",
    "build_synapses",
    "bytes_per_synapse",
    "float32_keys",
    "keys_float32",
]

#: Largest delay in steps (delays are stored as uint16 at most).
MAX_DELAY_STEPS = 65535
#: Largest number of distinct weights stored as a table (uint16 indices).
MAX_TABLE_WEIGHTS = 65536

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


def _empty_table() -> npt.NDArray[np.float32]:
    return np.zeros(0, dtype=np.float32)


#: ``Synapses.w_mode`` values (see the module docstring).
W_VALUES, W_INDEXED, W_BY_RECEPTOR = 0, 1, 2


@dataclass
class Synapses:
    """One CSR by global source id holding every synapse of a network (see module docs)."""

    indptr: npt.NDArray[np.int64]
    code: npt.NDArray[np.int32]
    #: float32 weights (``w_mode`` 0), uint8/uint16 indices into ``w_table`` (1) or empty (2)
    weight: npt.NDArray[Any]
    #: delays in steps, uint8 or uint16; empty when ``delay_const`` > 0
    delay: npt.NDArray[Any]
    min_delay: int
    max_delay: int
    #: sorted distinct weights (``w_mode`` 1), weight per receptor (2), or empty (0)
    w_table: npt.NDArray[np.float32] = field(default_factory=_empty_table)
    #: how weights are stored: 0 values, 1 table indices, 2 by receptor
    w_mode: int = W_VALUES
    #: the delay of every synapse in steps when ``delay`` is empty, else 0
    delay_const: int = 0
    #: projection index of each synapse (uint8/uint16) when projections overlap (see
    #: :func:`projections_overlap`), else empty
    tag: npt.NDArray[Any] = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))

    def __post_init__(self) -> None:
        n_syn = self.code.size
        mode = self.w_mode
        w_size = 0 if mode == W_BY_RECEPTOR else n_syn
        problem = ""
        if mode not in (W_VALUES, W_INDEXED, W_BY_RECEPTOR):
            problem = f"w_mode={mode!r} (expected 0, 1 or 2)"
        elif self.weight.size != w_size:
            problem = f"{self.weight.size} weights for {n_syn} synapses in w_mode {mode}"
        elif (mode == W_VALUES) != (self.w_table.size == 0) or (
            mode == W_BY_RECEPTOR and self.w_table.size != 2
        ):
            problem = f"w_table of {self.w_table.size} entries in w_mode {mode}"
        elif not 0 <= self.delay_const <= MAX_DELAY_STEPS:
            problem = f"delay_const={self.delay_const} outside [0, {MAX_DELAY_STEPS}]"
        elif self.delay.size != (0 if self.delay_const else n_syn):
            problem = (
                f"{self.delay.size} delays for {n_syn} synapses (delay_const={self.delay_const})"
            )
        if problem:
            raise ValueError(f"Synapses: inconsistent layout: {problem}")

    def weight_values(self) -> npt.NDArray[np.float32]:
        """Weight of every synapse as float32 (a new array unless ``w_mode`` is 0)."""
        if self.w_mode == W_BY_RECEPTOR:
            by_receptor: npt.NDArray[np.float32] = self.w_table[self.code & 1]
            return by_receptor
        if self.w_mode == W_INDEXED:
            indexed: npt.NDArray[np.float32] = self.w_table[self.weight]
            return indexed
        values: npt.NDArray[np.float32] = self.weight.astype(np.float32, copy=False)
        return values

    def delay_values(self) -> npt.NDArray[Any]:
        """Delay of every synapse in steps (a new array when ``delay_const`` is set)."""
        if self.delay_const:
            return np.full(self.code.size, self.delay_const, dtype=_delay_dtype(self.delay_const))
        return self.delay

    def nbytes(self) -> int:
        """Bytes held by the arrays (arrays that are not stored are empty and count 0)."""
        arrays = (self.indptr, self.code, self.weight, self.delay, self.w_table)
        return int(sum(a.nbytes for a in arrays))


@dataclass(frozen=True)
class ProjectionTable:
    """Every synapse of one projection, resolved: the form exporters and bridges read.

    Synapse ``s`` goes from position ``pre[s]`` of the presynaptic population (or view) to
    position ``post[s]`` of the postsynaptic one, onto receptor ``receptor``, with
    ``weight[s]`` (nA, or mV onto delta synapses) and a delay of ``delay[s]`` steps of
    ``dt`` ms. Rows are ordered by ``pre``, then ``post``.
    """

    #: index of the projection in ``Network.projections``
    projection: int
    pre: npt.NDArray[np.int64]
    post: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    delay: npt.NDArray[np.int64]
    receptor: int
    dt: float

    def __len__(self) -> int:
        return int(self.pre.size)

    @property
    def delay_ms(self) -> npt.NDArray[np.float64]:
        """Delays in ms."""
        out: npt.NDArray[np.float64] = self.delay.astype(np.float64) * self.dt
        return out


def _delay_dtype(max_steps: int) -> type[np.unsignedinteger[Any]]:
    return np.uint8 if max_steps <= 255 else np.uint16


# ------------------------------------------------------------------ value specifications
@dataclass
class _Spec:
    """A weight or delay specification in the form the compiled values pass reads."""

    kind: int
    par: _F64 = field(default_factory=lambda: np.zeros(4))
    key: np.uint64 = field(default_factory=lambda: np.uint64(0))
    #: float64, or float32 as a FromList connector may keep its values
    arr: npt.NDArray[np.floating[Any]] = field(default_factory=lambda: np.zeros(0))
    perm: _I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    mat: _F64 = field(default_factory=lambda: np.zeros((0, 0)))


KIND_CONST, KIND_UNIFORM, KIND_NORMAL, KIND_ARRAY, KIND_MATRIX = 0, 1, 2, 3, 4


def _spec(spec: Any, what: str, n_syn: int, key: np.uint64, n_pre: int, n_post: int) -> _Spec:
    key = np.uint64(key)
    if type(spec) is Uniform:
        return _Spec(KIND_UNIFORM, np.array([spec.low, spec.high, 0.0, 0.0]), key)
    if type(spec) is Normal:
        return _Spec(KIND_NORMAL, np.array([spec.mean, spec.std, spec.low, spec.high]), key)
    if isinstance(spec, Distribution):  # a user distribution: its own sampler
        values = np.ascontiguousarray(spec.sample(key, n_syn), dtype=np.float64).reshape(-1)
        if values.size != n_syn:
            raise ConnectivityError(
                f"{what}: {type(spec).__name__}.sample returned {values.size} values for "
                f"{n_syn} synapses"
            )
        return _Spec(KIND_ARRAY, arr=values)
    arr = np.asarray(spec, dtype=np.float64)
    if arr.ndim == 0:
        return _Spec(KIND_CONST, np.array([float(arr), 0.0, 0.0, 0.0]))
    if arr.ndim == 1:
        if arr.size != n_syn:
            raise ConnectivityError(
                f"{what}: array of {arr.size} values for {n_syn} synapses; give a scalar, a "
                f"distribution, one value per synapse (sorted by pre, then post) or a "
                f"({n_pre}, {n_post}) matrix"
            )
        return _Spec(KIND_ARRAY, arr=np.ascontiguousarray(arr))
    if arr.ndim == 2:
        if arr.shape != (n_pre, n_post):
            raise ConnectivityError(
                f"{what}: matrix of shape {arr.shape}; expected ({n_pre}, {n_post}) (pre x post)"
            )
        return _Spec(KIND_MATRIX, mat=np.ascontiguousarray(arr))
    raise ConnectivityError(f"{what}: expected a scalar, 1-D or 2-D array, got {arr.ndim}-D")


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


def _scaled(spec: _Spec, factor: float) -> _Spec:
    """Return ``spec`` with its values multiplied by ``factor`` (a power of two: exact)."""
    if spec.kind == KIND_CONST:
        return _Spec(KIND_CONST, spec.par * np.array([factor, 1.0, 1.0, 1.0]))
    if spec.kind == KIND_ARRAY:
        return _Spec(KIND_ARRAY, arr=spec.arr * factor, perm=spec.perm)
    if spec.kind == KIND_MATRIX:
        return _Spec(KIND_MATRIX, mat=spec.mat * factor)
    raise ConnectivityError("weights onto fixed-point neurons cannot be drawn from a distribution")


# -------------------------------------------------------------------------- assembly
@dataclass
class _Job:
    """One projection between its count pass and its fill pass."""

    proj: Projection
    what: str
    rec: int
    pre_gid: _I64
    post_gid: _I64
    plan: RowPlan | None
    lptr: _I64
    wspec: _Spec
    dspec: _Spec

    @property
    def n_syn(self) -> int:
        return int(self.lptr[-1])


def _prepare(
    net: Network, proj: Projection, seed: np.uint64, ids: dict[int, tuple[Any, _I64]]
) -> _Job:
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
        wspec = _Spec(KIND_ARRAY, arr=listed.weight, perm=order)
    else:
        wkey = np.uint64(stream_key(seed, np.uint64(stream_id(STREAM_WEIGHT, proj.index))))
        wspec = _spec(proj.weight, what + " weight", n_syn, wkey, n_pre, n_post)
    if proj.weight_exp:  # fixed-point mantissas: the engine stores mantissa * 2**weight_exp
        wspec = _scaled(wspec, proj.weight_scale)
    if listed is not None and listed.delay is not None:
        dspec = _Spec(KIND_ARRAY, arr=listed.delay, perm=order)
    elif proj.delay is None:
        dspec = _Spec(KIND_CONST, np.array([net.dt, 0.0, 0.0, 0.0]))
    else:
        dkey = np.uint64(stream_key(seed, np.uint64(stream_id(STREAM_DELAY, proj.index))))
        dspec = _spec(proj.delay, what + " delay", n_syn, dkey, n_pre, n_post)
    return _Job(proj, what, rec, pre_gid, post_gid, plan, lptr, wspec, dspec)


@dataclass
class _Storage:
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


def _weight_storage(jobs: list[_Job]) -> _Storage:
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
            keys = _distinct_keys(ws.arr)
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
        return _Storage(W_BY_RECEPTOR, by_receptor=table)
    if too_many:
        return _Storage()
    keys = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint32)
    if keys.size > MAX_TABLE_WEIGHTS:
        return _Storage()
    if later:
        return _Storage(W_INDEXED, index_later=True)
    if keys.size == 0:
        return _Storage()
    return _Storage(W_INDEXED, table_keys=keys.astype(np.uint32))


def _single_value(values: npt.NDArray[np.floating[Any]]) -> bool:
    """Whether ``values`` holds one value only (read twice, nothing allocated; NaN: False)."""
    return bool(values.size) and bool(values.min() == values.max())


def _constant_delay(dt: float, jobs: list[_Job]) -> int:
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


def _distinct_keys(values: npt.NDArray[Any]) -> npt.NDArray[np.uint32]:
    """Distinct keys of ``values``; at most ``MAX_TABLE_WEIGHTS + 1`` of them, unsorted."""
    if values.size <= 1 << 20:  # small: NumPy (no kernel to compile)
        keys: npt.NDArray[np.uint32] = np.unique(float32_keys(values))
        return keys[: MAX_TABLE_WEIGHTS + 1]
    return _ka.distinct_keys(values, MAX_TABLE_WEIGHTS)  # type: ignore[no-any-return]


def _index_dtype(k: int) -> type[np.unsignedinteger[Any]]:
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
    job: _Job,
    dest: _I64,
    store: _Storage,
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


def _fill_values(
    net: Network,
    job: _Job,
    dest: _I64,
    code: npt.NDArray[np.int32],
    store: _Storage,
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


def resolve_projection(net: Network, proj: Projection) -> ProjectionTable:
    """Resolve one projection of an unbuilt network to its :class:`ProjectionTable`.

    Same streams, checks and order as :func:`build_synapses` (synapse ``q`` of the table is
    value ``q`` of the projection's weight and delay specifications), but on private arrays
    and with float64 weights (the static block stores them as float32).
    """
    job = _prepare(net, proj, np.uint64(net.seed), {})
    n_syn = job.n_syn
    dest = np.ascontiguousarray(job.lptr[:-1])
    pos = np.empty(n_syn, dtype=np.int32)
    assert job.plan is not None
    job.plan.fill(dest, pos)
    job.plan = None
    weight = np.empty(n_syn, dtype=np.float64)
    delay: npt.NDArray[Any] = np.empty(n_syn, dtype=np.uint16)
    delay, _, _ = _fill_values(net, job, dest, pos, _Storage(), weight, delay)
    pre = np.repeat(np.arange(job.pre_gid.size, dtype=np.int64), np.diff(job.lptr))
    return ProjectionTable(
        proj.index, pre, pos.astype(np.int64), weight, delay.astype(np.int64), job.rec, net.dt
    )


def build_synapses(net: Network, seed: np.uint64, n: int, compress: bool = True) -> Synapses:
    """Generate every projection of ``net`` and merge them into one CSR by source.

    Parameters
    ----------
    net : Network
        The network description (validated here: receptors, weight signs, delays).
    seed : numpy.uint64
        Network seed; each projection draws from its own counter-based streams.
    n : int
        Total number of neurons.
    compress : bool
        Store weights by receptor when they depend on the receptor alone, else as indices
        into ``w_table`` when the network has at most :data:`MAX_TABLE_WEIGHTS` distinct
        float32 weights; store one delay when all are equal, else uint8 delays when they fit
        (see the module docstring). False: float32 weights and uint16 delays per synapse
        (``w_mode`` 0, ``delay_const`` 0).

    Notes
    -----
    The synapses, their order within rows, their weights and delays depend only on the
    seed (not on threads or on ``compress``). Apart from the result, memory use is
    O(neurons x projections), except for connectors that only implement ``generate``
    (their CSR is kept until copied) and user distributions (sampled per projection).
    """
    jobs: list[_Job] = []
    ids: dict[int, tuple[Any, _I64]] = {}
    row_counts = np.zeros(n, dtype=np.int64)
    for proj in net.projections:
        job = _prepare(net, proj, seed, ids)
        row_counts[job.pre_gid] += np.diff(job.lptr)
        jobs.append(job)
    del ids
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    del row_counts
    n_syn = int(indptr[-1])

    store = _weight_storage(jobs) if compress else _Storage()
    if compress:
        store.delay_const = _constant_delay(net.dt, jobs)
    if store.w_mode == W_BY_RECEPTOR:
        weight: npt.NDArray[Any] = np.zeros(0, dtype=np.uint8)
    elif store.table_keys.size:
        weight = np.empty(n_syn, dtype=_index_dtype(store.table_keys.size))
    else:
        weight = np.empty(n_syn, dtype=np.float32)
    if store.delay_const:
        delay: npt.NDArray[Any] = np.zeros(0, dtype=np.uint8)
    else:
        delay = np.empty(n_syn, dtype=np.uint8 if compress else np.uint16)
    code = np.empty(n_syn, dtype=np.int32)
    tagged = projections_overlap(net.projections, [job.rec for job in jobs])
    tag = np.empty(n_syn if tagged else 0, dtype=_index_dtype(len(jobs)))

    cursor = indptr[:-1].copy()
    min_delay, max_delay = 1 << 62, 0
    for job in jobs:
        dest = cursor[job.pre_gid]
        cursor[job.pre_gid] += np.diff(job.lptr)
        assert job.plan is not None
        job.plan.fill(dest, code)
        job.plan = None  # frees what a generate()-based plan holds
        delay, lo, hi = _fill_values(net, job, dest, code, store, weight, delay)
        min_delay, max_delay = min(min_delay, lo), max(max_delay, hi)
        _ka.positions_to_codes(job.post_gid, job.rec, job.lptr, dest, code)
        if tagged:
            proj_tag = tag.dtype.type(job.proj.index)
            _ka.fill_constant(job.lptr, dest, tag, proj_tag, True, tag[:0], 0, False)
    del cursor, jobs
    if not _ka.rows_sorted(indptr, code):
        perm = np.empty(n_syn, dtype=np.int32)
        _ka.sort_rows(indptr, code, perm)
        for payload in (weight, delay, tag):
            _ka.permute_rows(indptr, perm, payload)
        del perm

    w_mode, w_table = store.w_mode, _empty_table()
    if w_mode == W_BY_RECEPTOR:
        w_table = store.by_receptor
    elif store.table_keys.size:
        w_table = keys_float32(store.table_keys)
    elif store.index_later:
        keys = _distinct_keys(weight)
        if keys.size <= MAX_TABLE_WEIGHTS:
            keys.sort()
            idx = np.empty(n_syn, dtype=_index_dtype(keys.size))
            _ka.weight_indices(weight, keys, idx)
            weight = idx
            w_table = keys_float32(keys)
        else:
            w_mode = W_VALUES
    if n_syn == 0:
        min_delay, max_delay = 1 << 20, 1
    return Synapses(
        indptr=indptr,
        code=code,
        weight=weight,
        delay=delay,
        min_delay=int(min_delay),
        max_delay=int(max_delay),
        w_table=w_table,
        w_mode=w_mode,
        delay_const=store.delay_const,
        tag=tag,
    )


def projections_overlap(projections: list[Projection], receptors: list[int]) -> bool:
    """Whether two projections could put a synapse on the same (source, target, receptor).

    Then the synapses of the merged CSR cannot be told apart by source, target and receptor
    alone, and each needs a projection tag (``Synapses.tag``) for ``Projection.get``.
    """
    seen: list[tuple[Projection, int]] = []
    for proj, rec in zip(projections, receptors, strict=True):
        for other, other_rec in seen:
            if rec != other_rec:
                continue
            if _targets_meet(proj.pre, other.pre) and _targets_meet(proj.post, other.post):
                return True
        seen.append((proj, rec))
    return False


def _targets_meet(a: Any, b: Any) -> bool:
    """Whether two populations or views share a neuron."""
    if a.population is not b.population:
        return False
    return bool(np.intersect1d(a.indices, b.indices, assume_unique=True).size)


def bytes_per_synapse(net: Network) -> float:
    """Upper estimate of the bytes per synapse :func:`build_synapses` needs at its peak.

    Stored: 4 (code) + weight (0 when every weight is a scalar and projections onto the
    same receptor share it, 1 when every weight is a scalar, else 4, plus 2 while float32
    weights are turned into table indices) + delay (0 when every projection has the same
    scalar delay, 1, or 2 when delays may exceed 255 steps). Connectors that only
    implement ``generate`` keep their int64 CSR (8 more) until it is copied.
    """
    from snnsim.connectors import (
        AllToAll,
        FixedInDegree,
        FixedOutDegree,
        FixedProbability,
        FixedTotalNumber,
        FromList,
        OneToOne,
    )

    lean = (
        AllToAll,
        FixedInDegree,
        FixedOutDegree,
        FixedProbability,
        FixedTotalNumber,
        FromList,
        OneToOne,
    )
    scalar_w = True
    receptor_w: dict[int, int] = {}
    by_receptor = True
    short_d = True
    one_delay = True
    steps: set[float] = set()
    extra = 0.0
    for proj in net.projections:
        conn = proj.connector
        if type(conn) not in lean:
            extra = 8.0
        w = proj.weight
        listed = isinstance(conn, FromList) and conn.weight is not None
        if listed or isinstance(w, Distribution) or np.ndim(w) != 0:
            scalar_w = by_receptor = False
        elif by_receptor:
            try:
                rec = proj.post.model.receptor_index(proj.receptor, "connect")
                key = int(float32_keys([float(w)])[0])
            except (ConnectivityError, TypeError, ValueError):
                rec, key = -1, -1
            if rec < 0 or receptor_w.setdefault(rec, key) != key:
                by_receptor = False
        d = proj.delay
        if isinstance(conn, FromList) and conn.delay is not None:
            d = conn.delay
        if d is None:
            steps.add(1.0)
            continue
        if isinstance(d, Distribution):
            hi = d.bounds()[1]
            one_delay = False
        else:
            try:
                arr = np.asarray(d, dtype=np.float64)
                hi = float(arr.max()) if arr.size else 0.0
                if arr.ndim == 0:
                    steps.add(float(np.rint(hi / net.dt)))
                else:
                    one_delay = False
            except (TypeError, ValueError):
                hi = np.inf
                one_delay = False
        if not hi / net.dt < 255.5:
            short_d = False
    w_bytes = 0.0 if by_receptor else 1.0 if scalar_w else 6.0
    d_bytes = 0.0 if one_delay and len(steps) <= 1 else 1.0 if short_d else 2.0
    return 4.0 + w_bytes + d_bytes + extra
