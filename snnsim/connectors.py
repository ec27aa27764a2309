"""Connectors: rules that turn two populations (or views) into a list of synapses.

Every connector returns CSR by presynaptic position (``indptr``, ``post``): ``post`` holds
positions in the postsynaptic view, ascending within each row. Random connectors draw
from the projection's own counter-based stream (compiled, parallel), so the synapses
depend on the network seed only.

Network building does not call :meth:`Connector.generate` but :meth:`Connector.row_plan`:
the row counts first, then (once the network's CSR is laid out) a fill pass that writes
each row straight to its final place. The built-in connectors regenerate their draws in
the fill pass instead of keeping per-synapse arrays; a connector that only implements
``generate`` works too (its result is kept until it is copied).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from snnsim.errors import ConnectivityError
from snnsim.kernels import connectivity as _kc
from snnsim.kernels.jit_options import start_threads

__all__ = [
    "AllToAll",
    "Connector",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedProbability",
    "FixedTotalNumber",
    "FromList",
    "OneToOne",
    "RowPlan",
]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]

#: Upper bound on the column chunks of connectors drawn by column (results do not depend
#: on it; it bounds the (chunks x rows) count tables).
_MAX_CHUNKS = 8


def _n_chunks() -> int:
    start_threads()  # choose the threading layer before numba starts its pool
    return max(1, min(_MAX_CHUNKS, int(numba.get_num_threads())))


class RowPlan:
    """One projection's synapses, counted but not yet written.

    Parameters
    ----------
    counts : int64[n_pre]
        Synapses of each presynaptic position (row).
    fill : callable
        ``fill(dest, out)`` writes row ``i``'s postsynaptic positions (ascending; equal
        positions, i.e. multapses, in the connector's order) to
        ``out[dest[i]:dest[i] + counts[i]]`` (``out`` is int32).
    """

    def __init__(self, counts: IntArray, fill: Callable[[IntArray, Int32Array], None]) -> None:
        self.counts = counts
        self._fill = fill

    def fill(self, dest: IntArray, out: Int32Array) -> None:
        """Write every row to ``out[dest[i]:dest[i] + counts[i]]``."""
        self._fill(dest, out)

    def take_counts(self) -> IntArray:
        """Return ``counts`` and drop the plan's reference to them (to save memory)."""
        counts, self.counts = self.counts, np.zeros(0, dtype=np.int64)
        return counts

    def to_csr(self) -> tuple[IntArray, IntArray]:
        """Stand-alone CSR ``(indptr, post)`` (int64), as :meth:`Connector.generate`."""
        indptr = np.zeros(self.counts.size + 1, dtype=np.int64)
        np.cumsum(self.counts, out=indptr[1:])
        out = np.empty(int(indptr[-1]), dtype=np.int32)
        self.fill(indptr[:-1], out)
        return indptr, out.astype(np.int64)


def _plan_from_csr(
    name: str, indptr: npt.ArrayLike, post: npt.ArrayLike, n_pre: int, n_post: int
) -> RowPlan:
    """Check a CSR returned by ``generate`` and wrap it in a plan that copies its rows."""
    ptr = np.ascontiguousarray(indptr, dtype=np.int64)
    arr = np.asarray(post)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ConnectivityError(f"{name}.generate: post must hold integer positions")
    pos = np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)
    if ptr.shape != (n_pre + 1,) or ptr[0] != 0 or np.any(ptr[1:] < ptr[:-1]):
        raise ConnectivityError(
            f"{name}.generate: indptr must have {n_pre + 1} non-decreasing entries from 0"
        )
    if ptr[-1] != pos.size:
        raise ConnectivityError(
            f"{name}.generate: indptr ends at {ptr[-1]} but post has {pos.size} entries"
        )
    if pos.size and (pos.min() < 0 or pos.max() >= n_post):
        raise ConnectivityError(f"{name}.generate: postsynaptic positions must be in [0, {n_post})")
    return RowPlan(np.diff(ptr), lambda dest, out: _kc.copy_rows(ptr, pos, dest, out))


def _check_bool(name: str, owner: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConnectivityError(f"{owner}({name}={value!r}): {name} must be True or False")
    return bool(value)


def _check_count(name: str, owner: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise ConnectivityError(f"{owner}({name}={value!r}): {name} must be an integer >= 0")
    return int(value)


class Connector:
    """Base class of connection rules."""

    def generate(
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Return ``(indptr, post)``: CSR by presynaptic position, rows ascending."""
        raise NotImplementedError

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:
        """Count the synapses per presynaptic position; write them later (:class:`RowPlan`).

        The default runs :meth:`generate` and keeps its result until the plan is filled;
        the built-in connectors count now and regenerate the same draws when filling.
        """
        indptr, post = self.generate(key, pre_gid, post_gid)
        return _plan_from_csr(type(self).__name__, indptr, post, pre_gid.size, post_gid.size)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        """Return the expected number of synapses (for memory estimates before generating)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Plain description (for files and messages)."""
        return {"connector": type(self).__name__}


class AllToAll(Connector):
    """Connect every presynaptic neuron to every postsynaptic neuron.

    Parameters
    ----------
    allow_self : bool
        Keep connections from a neuron to itself (when pre and post overlap).
    """

    def __init__(self, allow_self: bool = True) -> None:
        self.allow_self = _check_bool("allow_self", "AllToAll", allow_self)

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:  # noqa: D102
        return _probability_plan(key, 1.0, pre_gid, post_gid, self.allow_self)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return float(n_pre) * n_post

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"connector": "AllToAll", "allow_self": self.allow_self}


class OneToOne(Connector):
    """Connect neuron ``i`` of the presynaptic side to neuron ``i`` of the postsynaptic side."""

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:  # noqa: D102
        if pre_gid.size != post_gid.size:
            raise ConnectivityError(
                f"OneToOne: pre has {pre_gid.size} neurons and post has {post_gid.size}; "
                "OneToOne needs equal sizes (use views to select matching subsets)"
            )
        return RowPlan(np.ones(pre_gid.size, dtype=np.int64), _kc.one_to_one_fill)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return float(min(n_pre, n_post))


class FixedProbability(Connector):
    """Connect each pair independently with probability ``p`` (PyNN ``FixedProbabilityConnector``).

    Parameters
    ----------
    p : float
        Connection probability in [0, 1]; ``p=0`` gives no synapse and ``p=1`` all pairs.
    allow_self : bool
        Keep self-connections.
    """

    def __init__(self, p: float, allow_self: bool = True) -> None:
        # the one type policy: real numbers only (not '0.1', not 0.1j, not True)
        if isinstance(p, (bool, np.bool_)) or not isinstance(
            p, (int, float, np.integer, np.floating)
        ):
            raise ConnectivityError(
                f"FixedProbability(p={p!r}): p must be a real number in [0, 1], got "
                f"{type(p).__name__}; e.g. FixedProbability(0.1)"
            )
        x = float(p)
        if not 0.0 <= x <= 1.0:
            raise ConnectivityError(f"FixedProbability(p={p!r}): p must be in [0, 1]")
        self.p = x
        self.allow_self = _check_bool("allow_self", "FixedProbability", allow_self)

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:  # noqa: D102
        return _probability_plan(key, self.p, pre_gid, post_gid, self.allow_self)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return self.p * n_pre * n_post

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"connector": "FixedProbability", "p": self.p, "allow_self": self.allow_self}


class _FixedDegree(Connector):
    side = ""

    def __init__(self, k: int, allow_self: bool = True) -> None:
        name = type(self).__name__
        self.k = _check_count("k", name, k)
        self.allow_self = _check_bool("allow_self", name, allow_self)

    def _check(self, n_avail: int, pre_gid: IntArray, post_gid: IntArray) -> None:
        overlap = not self.allow_self and np.intersect1d(pre_gid, post_gid).size > 0
        limit = n_avail - (1 if overlap else 0)
        if self.k > limit:
            raise ConnectivityError(
                f"{type(self).__name__}(k={self.k}): only {limit} distinct {self.side} neurons "
                f"are available{' (self-connections excluded)' if overlap else ''}; "
                f"use k <= {limit}"
            )

    def describe(self) -> dict[str, Any]:
        return {"connector": type(self).__name__, "k": self.k, "allow_self": self.allow_self}


class FixedInDegree(_FixedDegree):
    """Each postsynaptic neuron receives ``k`` synapses from distinct presynaptic neurons.

    PyNN ``FixedNumberPreConnector`` (without replacement), NEST ``fixed_indegree`` with
    ``allow_multapses=False``.
    """

    side = "presynaptic"

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:  # noqa: D102
        self._check(pre_gid.size, pre_gid, post_gid)
        k, allow_self, key = self.k, self.allow_self, np.uint64(key)
        cc = _kc.fixed_in_degree_counts(key, k, pre_gid, post_gid, allow_self, _n_chunks())

        def fill(dest: IntArray, out: Int32Array) -> None:
            _kc.fixed_in_degree_fill(key, k, pre_gid, post_gid, allow_self, cc, dest, out)

        return RowPlan(cc.sum(axis=0), fill)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return float(self.k) * n_post


class FixedOutDegree(_FixedDegree):
    """Each presynaptic neuron makes ``k`` synapses onto distinct postsynaptic neurons.

    PyNN ``FixedNumberPostConnector`` (without replacement), NEST ``fixed_outdegree`` with
    ``allow_multapses=False``.
    """

    side = "postsynaptic"

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:  # noqa: D102
        self._check(post_gid.size, pre_gid, post_gid)
        k, allow_self, key = self.k, self.allow_self, np.uint64(key)

        def fill(dest: IntArray, out: Int32Array) -> None:
            _kc.fixed_out_degree_fill(key, k, pre_gid, post_gid, allow_self, dest, out)

        return RowPlan(np.full(pre_gid.size, k, dtype=np.int64), fill)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return float(self.k) * n_pre


class FixedTotalNumber(Connector):
    """Draw ``n`` synapses with pre and post chosen uniformly and independently.

    As NEST ``fixed_total_number`` (multapses allowed) and PyNN ``FixedTotalNumberConnector``
    with ``with_replacement=True``; used by the Potjans-Diesmann microcircuit.

    Parameters
    ----------
    n : int
        Total number of synapses.
    allow_self : bool
        Keep self-connections (a drawn self pair is redrawn when False).
    """

    def __init__(self, n: int, allow_self: bool = True) -> None:
        self.n = _check_count("n", "FixedTotalNumber", n)
        self.allow_self = _check_bool("allow_self", "FixedTotalNumber", allow_self)

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:
        """Count pair ``i``'s row for every ``i``; the fill pass redraws and sorts each row.

        Rows come out as a stable sort of the pairs by (pre, post), without sorting the
        whole list.
        """
        if not self.allow_self and pre_gid.size == 1 and np.array_equal(pre_gid, post_gid):
            raise ConnectivityError(
                "FixedTotalNumber: only a self pair exists and allow_self=False"
            )
        if self.n and (pre_gid.size == 0 or post_gid.size == 0):
            raise ConnectivityError(f"FixedTotalNumber(n={self.n}): pre or post side is empty")
        n, allow_self, key = self.n, self.allow_self, np.uint64(key)
        cc = _kc.fixed_total_number_counts(key, n, pre_gid, post_gid, allow_self, _n_chunks())

        def fill(dest: IntArray, out: Int32Array) -> None:
            _kc.fixed_total_number_fill(key, n, pre_gid, post_gid, allow_self, cc, dest, out)

        return RowPlan(cc.sum(axis=0), fill)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return float(self.n)

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"connector": "FixedTotalNumber", "n": self.n, "allow_self": self.allow_self}


class FromList(Connector):
    """Explicit list of synapses (PyNN ``FromListConnector``).

    Parameters
    ----------
    pre, post : array_like of int
        Positions in the presynaptic and postsynaptic population or view, one per synapse.
    weight : array_like of float, optional
        One weight per synapse (nA for current synapses, mV for delta synapses). When
        given, ``connect`` must not also get a ``weight``.
    delay : array_like of float, optional
        One delay per synapse (ms). When given, ``connect`` must not also get a ``delay``.
        float32 delays are rarely exact multiples of ``dt`` (0.3 is 0.30000001 in float32):
        pass them with ``connect(..., round_delays=True)``.

    int32/int64 indices and float32 values are kept without a copy (other dtypes are
    converted to int64/float64), so large lists can be given compactly.

    Synapses are stored sorted by (pre, post) (stably: repeated pairs keep their order);
    per-synapse weights and delays follow their synapse. Input that is already sorted is
    used as it is (``order`` is then None); otherwise ``order`` holds the sorting
    permutation.
    """

    def __init__(
        self,
        pre: npt.ArrayLike,
        post: npt.ArrayLike,
        weight: npt.ArrayLike | None = None,
        delay: npt.ArrayLike | None = None,
    ) -> None:
        self.pre = self._indices("pre", pre)
        self.post = self._indices("post", post)
        if self.pre.size != self.post.size:
            raise ConnectivityError(
                f"FromList: pre has {self.pre.size} entries and post has {self.post.size}; "
                "give one pre and one post index per synapse"
            )
        self.weight = self._values("weight", weight)
        self.delay = self._values("delay", delay)
        self.order: IntArray | None = None
        if not _kc.pairs_sorted(self.pre, self.post):
            self.order = np.lexsort((self.post, self.pre))

    def _indices(self, name: str, value: npt.ArrayLike) -> IntArray:
        arr = np.asarray(value)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ConnectivityError(
                f"FromList: {name} must hold integer indices, got dtype {arr.dtype}"
            )
        # int32 and int64 input is kept as it is (no copy): a list of 20 M synapses given
        # as int32 costs 4 bytes per index, not 8
        keep = arr.dtype in (np.dtype(np.int32), np.dtype(np.int64))
        return (arr if keep else arr.astype(np.int64)).reshape(-1)

    def _values(
        self, name: str, value: npt.ArrayLike | None
    ) -> npt.NDArray[np.floating[Any]] | None:
        if value is None:
            return None
        # float32 input stays float32 (weights are stored as float32 anyway); anything else
        # becomes float64
        arr = np.asarray(value)
        if arr.dtype != np.float32:
            arr = arr.astype(np.float64)
        arr = arr.reshape(-1)
        if arr.size != self.pre.size:
            raise ConnectivityError(
                f"FromList: {name} has {arr.size} entries for {self.pre.size} synapses"
            )
        if not np.all(np.isfinite(arr)):
            raise ConnectivityError(f"FromList: {name} contains NaN or Inf")
        return arr

    def generate(  # noqa: D102
        self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray
    ) -> tuple[IntArray, IntArray]:
        return self.row_plan(key, pre_gid, post_gid).to_csr()

    def row_plan(self, key: np.uint64, pre_gid: IntArray, post_gid: IntArray) -> RowPlan:  # noqa: D102
        for name, idx, n in (("pre", self.pre, pre_gid.size), ("post", self.post, post_gid.size)):
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
                raise ConnectivityError(
                    f"FromList: {name} index {bad} is out of range for a {name}synaptic side of "
                    f"{n} neurons (valid: 0..{n - 1})"
                )
        counts = np.bincount(self.pre, minlength=pre_gid.size).astype(np.int64)
        indptr = np.zeros(pre_gid.size + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        order = np.zeros(0, dtype=np.int64) if self.order is None else self.order
        post = self.post

        def fill(dest: IntArray, out: Int32Array) -> None:
            _kc.from_list_fill(indptr, post, order, dest, out)

        return RowPlan(counts, fill)

    def expected_synapses(self, n_pre: int, n_post: int) -> float:  # noqa: D102
        return float(self.pre.size)

    def without_values(self, weight: bool, delay: bool) -> FromList:
        """Return the same list without its own weights (``weight``) and/or delays (``delay``).

        Used when :meth:`Projection.set` gives them instead; the pairs (and their order)
        are shared, not copied.
        """
        out = copy.copy(self)
        if weight:
            out.weight = None
        if delay:
            out.delay = None
        return out

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"connector": "FromList", "n": int(self.pre.size)}


def _probability_plan(
    key: np.uint64, p: float, pre_gid: IntArray, post_gid: IntArray, allow_self: bool
) -> RowPlan:
    key = np.uint64(key)
    counts = _kc.fixed_probability_counts(key, p, pre_gid, post_gid, allow_self)

    def fill(dest: IntArray, out: Int32Array) -> None:
        _kc.fixed_probability_fill(key, p, pre_gid, post_gid, allow_self, dest, out)

    return RowPlan(counts, fill)
