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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ConnectivityError
from snnsim.kernels import assembly as _ka
from snnsim.synapse_values import (
    MAX_DELAY_STEPS,
    MAX_TABLE_WEIGHTS,
    W_BY_RECEPTOR,
    W_INDEXED,
    W_VALUES,
    ProjectionJob,
    ValueStorage,
    constant_delay,
    distinct_keys,
    fill_values,
    float32_keys,
    index_dtype,
    keys_float32,
    prepare_projection,
    weight_storage,
)

if TYPE_CHECKING:
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
    "projections_overlap",
    "resolve_projection",
]

_I64 = npt.NDArray[np.int64]


def _empty_table() -> npt.NDArray[np.float32]:
    return np.zeros(0, dtype=np.float32)


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


def resolve_projection(net: Network, proj: Projection) -> ProjectionTable:
    """Resolve one projection of an unbuilt network to its :class:`ProjectionTable`.

    Same streams, checks and order as :func:`build_synapses` (synapse ``q`` of the table is
    value ``q`` of the projection's weight and delay specifications), but on private arrays
    and with float64 weights (the static block stores them as float32).
    """
    job = prepare_projection(net, proj, np.uint64(net.seed), {})
    n_syn = job.n_syn
    dest = np.ascontiguousarray(job.lptr[:-1])
    pos = np.empty(n_syn, dtype=np.int32)
    assert job.plan is not None
    job.plan.fill(dest, pos)
    job.plan = None
    weight = np.empty(n_syn, dtype=np.float64)
    delay: npt.NDArray[Any] = np.empty(n_syn, dtype=np.uint16)
    delay, _, _ = fill_values(net, job, dest, pos, ValueStorage(), weight, delay)
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
    jobs: list[ProjectionJob] = []
    ids: dict[int, tuple[Any, _I64]] = {}
    row_counts = np.zeros(n, dtype=np.int64)
    for proj in net.projections:
        job = prepare_projection(net, proj, seed, ids)
        row_counts[job.pre_gid] += np.diff(job.lptr)
        jobs.append(job)
    del ids
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    del row_counts
    n_syn = int(indptr[-1])

    store = weight_storage(jobs) if compress else ValueStorage()
    if compress:
        store.delay_const = constant_delay(net.dt, jobs)
    if store.w_mode == W_BY_RECEPTOR:
        weight: npt.NDArray[Any] = np.zeros(0, dtype=np.uint8)
    elif store.table_keys.size:
        weight = np.empty(n_syn, dtype=index_dtype(store.table_keys.size))
    else:
        weight = np.empty(n_syn, dtype=np.float32)
    if store.delay_const:
        delay: npt.NDArray[Any] = np.zeros(0, dtype=np.uint8)
    else:
        delay = np.empty(n_syn, dtype=np.uint8 if compress else np.uint16)
    code = np.empty(n_syn, dtype=np.int32)
    tagged = projections_overlap(net.projections, [job.rec for job in jobs])
    tag = np.empty(n_syn if tagged else 0, dtype=index_dtype(len(jobs)))

    cursor = indptr[:-1].copy()
    min_delay, max_delay = 1 << 62, 0
    for job in jobs:
        dest = cursor[job.pre_gid]
        cursor[job.pre_gid] += np.diff(job.lptr)
        assert job.plan is not None
        job.plan.fill(dest, code)
        job.plan = None  # frees what a generate()-based plan holds
        delay, lo, hi = fill_values(net, job, dest, code, store, weight, delay)
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
        keys = distinct_keys(weight)
        if keys.size <= MAX_TABLE_WEIGHTS:
            keys.sort()
            idx = np.empty(n_syn, dtype=index_dtype(keys.size))
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
