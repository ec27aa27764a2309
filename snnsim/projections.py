"""Projections: the synapses from one population (or view) to another, and access to them.

A :class:`Projection` is created by :meth:`Network.connect`. Its synapses can be read and
changed PyNN-style at any time, before or after a run and on a loaded network:

- ``proj.get(["weight", "delay"], format="list")``: tuples ``(pre, post, weight, delay)``,
  ``pre``/``post`` the positions in the presynaptic / postsynaptic population or view,
  weight in nA (mV onto delta synapses), delay in ms;
- ``proj.get("weight", format="array")``: a dense ``(len(pre), len(post))`` array, NaN where
  there is no synapse (as PyNN; with multapses the last one wins);
- ``proj.set(weight=..., delay=...)``: a scalar, one value per synapse in ``get`` order, a
  ``(len(pre), len(post))`` matrix or a distribution.

The order of ``get`` is the order of the projection's table: by presynaptic position, then
postsynaptic position (synapses between the same pair keep the connector's order). It is
also the order in which ``connect(weight=array)`` reads its values.

Before the network is built, ``set`` changes the description. After it is built (it has
run, or was loaded) ``set`` writes through to the engine: the projection's synapses move
from the compacted static block into a mutable block of their own (float64 weights, uint16
delays), with exactly the values given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.connectors import Connector
from snnsim.delay_plasticity import DelayPlasticity, check_delay_bounds, check_delays_within
from snnsim.distributions import Distribution, Normal, Uniform
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.plasticity import STDP
from snnsim.streams import STREAM_SET, key_of
from snnsim.synapse_values import MAX_DELAY_STEPS, check_model_delays, check_value_shape
from snnsim.synapses import ProjectionTable, resolve_projection

if TYPE_CHECKING:
    from snnsim.populations import Target

__all__ = ["Projection", "ProjectionTable"]

_ATTRIBUTES = ("weight", "delay")


@dataclass
class Projection:
    """Synapses from one population (or view) to another, created by :meth:`Network.connect`.

    ``len(proj)`` is its number of synapses; see the module docstring for :meth:`get` and
    :meth:`set`.
    """

    index: int
    pre: Target
    post: Target
    connector: Connector
    weight: Any
    delay: Any
    receptor: str | None
    round_delays: bool
    label: str
    #: weight exponent onto fixed-point models (weights are mantissas), else None
    weight_exp: int | None = None
    #: the plasticity rule (:class:`snnsim.plasticity.STDP`), or None for static synapses
    plasticity: STDP | None = None
    #: the delay rule (:class:`snnsim.delay_plasticity.DelayPlasticity`) and its
    #: ``delay_bounds`` (ms), or None
    delay_plasticity: DelayPlasticity | None = None
    delay_bounds: tuple[float, float] | None = None
    #: store the weights exactly (float64, in a mutable block) instead of in the float32
    #: static block (``connect(exact_weights=True)``; the torch bridge sets it)
    exact_weights: bool = False
    #: calls of :meth:`set` with a distribution so far (each draws from its own stream)
    set_calls: int = field(default=0, repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        """Plain description (for files and messages)."""
        return {
            "label": self.label,
            "pre": self.pre.population.label,
            "post": self.post.population.label,
            "receptor": self.receptor or "",
            **self.connector.describe(),
            **({"plasticity": self.plasticity.describe()} if self.plasticity else {}),
            **({"exact_weights": True} if self.exact_weights else {}),
            **(
                {
                    "delay_plasticity": self.delay_plasticity.describe(),
                    "delay_bounds": list(self.delay_bounds or ()),
                }
                if self.delay_plasticity
                else {}
            ),
        }

    def __repr__(self) -> str:
        return (
            f"Projection({self.label!r}, {self.pre.population.label} -> "
            f"{self.post.population.label}, {type(self.connector).__name__})"
        )

    # ------------------------------------------------------------------ checks
    def known_synapse_count(self) -> int | None:
        """Return the synapse count when the connector fixes it without drawing, else None.

        Known for ``FromList``, ``OneToOne``, ``AllToAll`` and the fixed-degree and
        fixed-total connectors; ``FixedProbability`` draws it.
        """
        from snnsim.connectors import (
            AllToAll,
            FixedInDegree,
            FixedOutDegree,
            FixedTotalNumber,
            FromList,
            OneToOne,
        )

        conn, n_pre, n_post = self.connector, self.pre.size, self.post.size
        if isinstance(conn, FromList):
            return int(conn.pre.size)
        if isinstance(conn, OneToOne):
            return n_pre
        if isinstance(conn, AllToAll):
            if conn.allow_self or self.pre.population is not self.post.population:
                return n_pre * n_post
            if self.pre is self.post.population or self.post is self.pre.population:
                overlap = min(n_pre, n_post)  # one side is the whole population
            else:
                overlap = np.intersect1d(self.pre.indices, self.post.indices).size
            return n_pre * n_post - int(overlap)
        if isinstance(conn, FixedInDegree):
            return conn.k * n_post
        if isinstance(conn, FixedOutDegree):
            return conn.k * n_pre
        if isinstance(conn, FixedTotalNumber):
            return conn.n
        return None

    def check_description(self, what: str) -> None:
        """Check everything that does not need the drawn connectivity (at ``connect``).

        Value types (real numbers or distributions), ``FromList`` index ranges against the
        pre/post sizes, ``OneToOne`` sizes, array lengths when the synapse count is known
        without drawing, finite weights with the receptor's sign, and delays (finite, on
        the grid unless rounded, at least one step, at most ``MAX_DELAY_STEPS``). Values of
        distributions, and of matrices whose unused entries the connector decides, are
        checked when the network is built.

        Raises
        ------
        ParameterError
            For values that are not real numbers (strings, complex numbers, None...).
        ConnectivityError
            For everything else, naming the value and the fix.
        """
        from snnsim.connectors import AllToAll, FixedInDegree, FixedOutDegree, FromList, OneToOne

        conn, n_pre, n_post = self.connector, self.pre.size, self.post.size
        if isinstance(conn, (FixedInDegree, FixedOutDegree)):
            side, n_avail = ("pre", n_pre) if isinstance(conn, FixedInDegree) else ("post", n_post)
            if conn.k > n_avail:
                raise ConnectivityError(
                    f"{what}: {type(conn).__name__}(k={conn.k}) needs {conn.k} distinct "
                    f"{side}synaptic neurons but the {side} side has {n_avail}; use k <= {n_avail}"
                )
        if isinstance(conn, OneToOne) and n_pre != n_post:
            raise ConnectivityError(
                f"{what}: OneToOne needs equal sizes, but pre has {n_pre} neurons and post "
                f"{n_post}; use views (pop[a:b]) to select matching subsets"
            )
        if isinstance(conn, FromList):
            for side, idx, n in (("pre", conn.pre, n_pre), ("post", conn.post, n_post)):
                if idx.size and (idx.min() < 0 or idx.max() >= n):
                    bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
                    raise ConnectivityError(
                        f"{what}: FromList {side} index {bad} is out of range for a "
                        f"{side}synaptic side of {n} neurons (valid: 0..{n - 1})"
                    )
        n_syn = self.known_synapse_count()
        every_entry = isinstance(conn, AllToAll) and n_syn == n_pre * n_post
        net = self.pre.network
        rec = self.post.model.receptor_index(self.receptor, what)
        listed = conn if isinstance(conn, FromList) else None
        weights = listed.weight if listed is not None and listed.weight is not None else self.weight
        delays = listed.delay if listed is not None and listed.delay is not None else self.delay
        w = _given_values(weights, "weight", what, n_syn, n_pre, n_post, every_entry)
        if w is not None and w.size:
            w_min, w_max = np.inf, -np.inf
            # in chunks: a list of 10^7 synapses must not cost full-length temporaries
            for at, part in _float_chunks(w):
                if not np.all(np.isfinite(part)):
                    bad = at + int(np.flatnonzero(~np.isfinite(part))[0])
                    where = ""
                    if w.size > 1:  # 1-D: in table order; a full matrix: row-major, the same
                        where = f" at synapse index {bad} of the projection"
                        if np.ndim(weights) == 2:
                            where += f" (pre {bad // n_post}, post {bad % n_post})"
                    raise ConnectivityError(
                        f"{what}: weight {float(w[bad])!r}{where}; weights must be finite (NaN "
                        "or Inf found): give finite numbers"
                    )
                w_min, w_max = min(w_min, float(part.min())), max(w_max, float(part.max()))
            if self.weight_exp is None:
                self.post.model.check_weight_range(w_min, w_max, rec, what)
        if self.weight_exp is not None:
            self._check_mantissas(weights, w, what)
        if isinstance(weights, Distribution):
            lo, hi = weights.bounds()
            if math.isfinite(lo) and math.isfinite(hi):  # the declared range, all drawable
                self.post.model.check_weight_range(
                    lo, hi, rec, f"{what}: weight={weights!r} can draw [{lo:g}, {hi:g}], so"
                )
        if delays is not None:
            d = _given_values(delays, "delay", what, n_syn, n_pre, n_post, every_entry)
            if d is not None and d.size:
                for at, part in _float_chunks(d):
                    steps = _delay_steps(part, net.dt, self.round_delays, what, offset=at,
                                         many=d.size > 1)  # fmt: skip
                    check_model_delays(self.post.model, steps, net.dt, what)
            if isinstance(delays, (Uniform, Normal)):
                lo, hi = delays.bounds()
                if not self.round_delays and lo != hi:
                    raise ConnectivityError(
                        f"{what}: delay={delays!r} draws continuous values, which are not "
                        f"multiples of dt={net.dt} ms; pass round_delays=True to round them "
                        "to the nearest step"
                    )
                finite = [x for x in (lo, hi) if math.isfinite(x)]
                if finite:
                    _delay_steps(
                        np.array(finite), net.dt, True, f"{what}: delay={delays!r} can draw"
                    )

    @property
    def weight_scale(self) -> float:
        """Factor from a given weight to the stored one: ``2**weight_exp`` (1 without one)."""
        return 1.0 if self.weight_exp is None else math.ldexp(1.0, self.weight_exp)

    def _check_mantissas(self, weights: Any, w: npt.NDArray[Any] | None, what: str) -> None:
        """Check fixed-point mantissas (all values given, also a matrix's unused entries)."""
        if isinstance(weights, Distribution):
            raise ConnectivityError(
                f"{what}: weight={weights!r}; weights onto {self.post.model.name} neurons are "
                "integer mantissas: give numbers, one per synapse or a (pre, post) matrix"
            )
        values = np.asarray(weights, dtype=np.float64) if w is None else w
        values = values[np.isfinite(values)] if w is None else values
        self.post.model.check_weight_values(values, self.weight_exp, what)

    # ------------------------------------------------------------------ access
    def table(self) -> ProjectionTable:
        """Return the projection's synapses as they are now (the weights the simulation uses).

        For a plastic projection these are the weights with every pairing applied whose
        pre- and postsynaptic spikes have reached the synapse by the current time (NEST's
        ``GetConnections`` returns the weight as of each synapse's last presynaptic spike:
        the two agree at every presynaptic spike, see :mod:`snnsim.plasticity`).

        Before the network is built the table is resolved from the description (the same
        random streams as ``build``, so the same synapses); afterwards it is read from the
        engine. Weights of synapses in the static block are the float32 values the engine
        stores; those of a mutable block (plastic, ``exact_weights``, or after :meth:`set` on
        a built network) are float64, before and after the build.
        Onto fixed-point models the weights are the mantissas (the engine stores
        ``mantissa * 2**weight_exp``).
        """
        net = self.pre.network
        engine = net.built_engine()
        if engine is None:
            table = resolve_projection(net, self)
            weight = table.weight.astype(np.float64)
            if self.plasticity is None and not self.exact_weights:
                # what the static block will store (mutable blocks keep float64)
                weight = weight.astype(np.float32).astype(np.float64)
            weight = weight / self.weight_scale
            return ProjectionTable(
                self.index, table.pre, table.post, weight, table.delay, table.receptor, net.dt
            )
        rec = self.post.model.receptor_index(self.receptor, repr(self))
        pre, post, weight, delay = engine.projection_synapses(
            self.index, self.pre.global_ids, self.post.global_ids, rec
        )
        weight = weight / self.weight_scale
        return ProjectionTable(self.index, pre, post, weight, delay, rec, net.dt)

    def __len__(self) -> int:
        return len(self.table())

    def get(
        self, attributes: str | Sequence[str] = ("weight", "delay"), format: str = "list"
    ) -> Any:
        """Return synapse attributes, PyNN style.

        Parameters
        ----------
        attributes : str or sequence of str
            ``"weight"`` (nA, or mV onto delta synapses) and/or ``"delay"`` (ms).
        format : {"list", "array"}
            ``"list"``: a list of tuples ``(pre, post, *values)`` in table order (positions
            in the pre/post population or view). ``"array"``: one dense ``(len(pre),
            len(post))`` float64 array per attribute, NaN where there is no synapse (for a
            single attribute name given as a string, that array alone).

        Examples
        --------
        >>> import snnsim as snn
        >>> net = snn.Network(dt=0.1, seed=1)
        >>> a = net.add_population(3, snn.LIF())
        >>> proj = net.connect(a, a, snn.OneToOne(), weight=0.5, delay=1.0)
        >>> proj.get(["weight", "delay"], format="list")[0]
        (0, 0, 0.5, 1.0)
        """
        single = isinstance(attributes, str)
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        for name in names:
            if name not in _ATTRIBUTES:
                raise ParameterError(
                    f"{self!r}.get({name!r}): unknown attribute; valid: {', '.join(_ATTRIBUTES)}"
                )
        if format not in ("list", "array"):
            raise ParameterError(f"{self!r}.get(format={format!r}): use 'list' or 'array'")
        table = self.table()
        values = {"weight": table.weight, "delay": table.delay_ms}
        if format == "list":
            cols = [table.pre.tolist(), table.post.tolist()] + [values[n].tolist() for n in names]
            return list(zip(*cols, strict=True))
        arrays = []
        for name in names:
            dense = np.full((self.pre.size, self.post.size), np.nan)
            dense[table.pre, table.post] = values[name]
            arrays.append(dense)
        return arrays[0] if single else arrays

    def set(self, weight: Any = None, delay: Any = None) -> None:
        """Change the weights and/or delays of every synapse of the projection.

        Parameters
        ----------
        weight : float, array or Distribution, optional
            nA (mV onto delta synapses), with the receptor's sign. An array has one value per
            synapse in :meth:`get` order, or shape ``(len(pre), len(post))``.
        delay : float, array or Distribution, optional
            ms, ``>= dt`` and on the grid (unless the projection rounds its delays).

        Before the network is built this changes the description; afterwards it writes
        through to the engine (the synapses move into a mutable block; values are float64).
        A distribution draws from its own stream (seed, projection, call number).
        """
        if weight is None and delay is None:
            raise ParameterError(f"{self!r}.set(): give weight=... and/or delay=...")
        for name, value in (("weight", weight), ("delay", delay)):
            if value is not None:
                _check_value_type(value, f"{self!r}.set({name}=...)")
        net = self.pre.network
        engine = net.built_engine()
        if engine is None:
            from snnsim.connectors import FromList

            before = (self.connector, self.weight, self.delay)
            if isinstance(self.connector, FromList):
                # values given here replace the list's own (the table order is the same)
                self.connector = self.connector.without_values(
                    weight=weight is not None, delay=delay is not None
                )
            if weight is not None:
                self.weight = weight
            if delay is not None:
                self.delay = delay
            try:
                self.check_description(f"{self!r}.set")
                if self.delay_bounds is not None and delay is not None:
                    check_delay_bounds(
                        self.delay_plasticity, self.delay_bounds, delay, net.dt, f"{self!r}.set"
                    )
            except Exception:
                self.connector, self.weight, self.delay = before
                raise
            return
        table = self.table()
        n = len(table)
        self.set_calls += 1
        w = table.weight
        d_steps = table.delay
        if weight is not None:
            w = self._values(weight, table, "weight", 2 * self.set_calls)
            if not np.all(np.isfinite(w)):
                bad = int(np.flatnonzero(~np.isfinite(w))[0])
                raise ConnectivityError(
                    f"{self!r}.set(weight=...): synapse {bad} (pre {table.pre[bad]}, post "
                    f"{table.post[bad]}) has weight {float(w[bad])!r}; weights must be finite"
                )
            if n and self.weight_exp is not None:
                self._check_mantissas(weight, w, f"{self!r}.set")
            elif n:
                self.post.model.check_weight_range(
                    float(w.min()), float(w.max()), table.receptor, f"{self!r}.set"
                )
        if delay is not None:
            d_ms = self._values(delay, table, "delay", 2 * self.set_calls + 1)
            d_steps = _delay_steps(d_ms, net.dt, self.round_delays, f"{self!r}.set(delay=...)")
            check_model_delays(self.post.model, d_steps, net.dt, f"{self!r}.set(delay=...)")
            if self.delay_bounds is not None and d_steps.size:
                check_delays_within(
                    self.delay_bounds, float(d_steps.min()) * net.dt,
                    float(d_steps.max()) * net.dt, f"{self!r}.set(delay=...)",
                )  # fmt: skip
        engine.set_projection(
            self.index, self.pre.global_ids, self.post.global_ids, table.receptor, table.pre,
            table.post, w * self.weight_scale, d_steps,
        )  # fmt: skip

    def _values(
        self, value: Any, table: ProjectionTable, name: str, call: int
    ) -> npt.NDArray[np.float64]:
        """One float64 value per synapse of ``table`` from a scalar, array or distribution."""
        n = len(table)
        what = f"{self!r}.set({name}=...)"
        if isinstance(value, Distribution):
            net = self.pre.network
            key = key_of(net.seed, STREAM_SET, (self.index << 20) | (call & 0xFFFFF))
            out = np.ascontiguousarray(value.sample(key, n), dtype=np.float64).reshape(-1)
            if out.size != n:
                raise ConnectivityError(f"{what}: the distribution returned {out.size} values")
            return out
        arr = np.asarray(value, dtype=np.float64)
        check_value_shape(arr, what, n, self.pre.size, self.post.size, "in get() order")
        if arr.ndim == 0:
            return np.full(n, float(arr))
        if arr.ndim == 1:
            return np.ascontiguousarray(arr)
        out2: npt.NDArray[np.float64] = arr[table.pre, table.post]
        return out2


def _given_values(
    value: Any, name: str, what: str, n_syn: int | None, n_pre: int, n_post: int, every: bool
) -> npt.NDArray[np.float64] | None:
    """Return the values of ``value`` every synapse will use, checked for type and length.

    Returns the values as a flat float64 array, or None when they are only known once the
    connectivity is drawn (a distribution, or a matrix whose entries the connector picks).
    """
    _check_value_type(value, f"{what}: {name}={_short(value)}")
    if isinstance(value, Distribution):
        return None
    arr = np.asarray(value)
    check_value_shape(arr, f"{what}: {name}", n_syn, n_pre, n_post)
    if arr.ndim == 0:
        return np.asarray(arr, dtype=np.float64).reshape(1)
    if arr.ndim == 1:
        return arr  # its own dtype: checked in chunks (no full-length float64 copy)
    return arr.reshape(-1) if every else None


#: Values checked per pass by the connect-time checks (bounds their temporaries).
_CHECK_CHUNK = 1 << 20


def _float_chunks(values: npt.NDArray[Any]) -> Any:
    """Yield ``(offset, float64 chunk)`` over a 1-D array of any real dtype."""
    for at in range(0, values.size, _CHECK_CHUNK):
        yield at, np.asarray(values[at : at + _CHECK_CHUNK], dtype=np.float64)


def _short(value: Any) -> str:
    """``repr`` of a value for a message, shortened for arrays."""
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"<array of shape {value.shape}>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_value_type(value: Any, what: str) -> None:
    """Refuse strings, complex numbers and other non-numbers where a number is expected."""
    if isinstance(value, Distribution):
        return
    fix = "give a real number, an array of real numbers or a distribution such as snn.Uniform"
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise ParameterError(f"{what}: {type(value).__name__} is not a number; {fix}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what}: cannot read the value as numbers ({exc}); {fix}") from None
    if arr.dtype.kind not in "iuf":
        raise ParameterError(f"{what}: values of type {arr.dtype} are not numbers; {fix}")


def _delay_steps(
    d_ms: npt.NDArray[np.float64],
    dt: float,
    round_delays: bool,
    what: str,
    offset: int = 0,
    many: bool | None = None,
) -> npt.NDArray[np.int64]:
    """Delays in ms to steps: finite, on the grid (unless rounded), >= 1 step, <= the maximum.

    ``d_ms`` may be a chunk of a longer array starting at synapse ``offset`` (messages name
    the synapse in the whole array); ``many`` says whether to name it at all (default: when
    ``d_ms`` holds more than one value).
    """
    many = d_ms.size > 1 if many is None else many
    if not np.all(np.isfinite(d_ms)):
        bad = int(np.flatnonzero(~np.isfinite(d_ms))[0])
        raise ConnectivityError(
            f"{what}: synapse {offset + bad} has delay {float(d_ms[bad])!r}; delays must be "
            "finite (NaN or Inf found)"
        )
    x = d_ms / dt
    steps = np.rint(x)
    if not round_delays:
        off = np.abs(x - steps) > 1e-9 * np.maximum(1.0, np.abs(x))
        if off.any():
            bad = int(np.flatnonzero(off)[0])
            where = f" (synapse {offset + bad})" if many else ""
            raise ConnectivityError(
                f"{what}: delay {float(d_ms[bad])!r} ms{where} is not a multiple of "
                f"dt={dt} ms; use multiples of dt or connect with round_delays=True"
            )
    if steps.size and steps.min() < 1:
        raise ConnectivityError(
            f"{what}: delay {float(d_ms[np.argmin(steps)])!r} ms is below dt={dt} ms; delays "
            "must be >= one time step"
        )
    if steps.size and steps.max() > MAX_DELAY_STEPS:
        raise ConnectivityError(
            f"{what}: delay {float(d_ms[np.argmax(steps)])!r} ms exceeds the maximum of "
            f"{MAX_DELAY_STEPS} steps ({MAX_DELAY_STEPS * dt:g} ms at dt={dt} ms)"
        )
    out: npt.NDArray[np.int64] = steps.astype(np.int64)
    return out
