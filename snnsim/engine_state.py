"""The engine state registry: every array and scalar of :class:`~snnsim.engine.Engine`, once.

Each :class:`StateArray` declares an engine array's name (the Engine field), the dtypes it
may have (some depend on the network's precision, the synapse arrays on the network), its
units, the shape the network description implies, whether checkpoints save it or it is
derived from the description on load, and a validator that re-checks on load every
invariant the API enforces when it builds the array. :class:`StateScalar` does the same for
the integer counters and layout flags. The checkpoint writer and reader
(:mod:`snnsim.checkpoint`) are driven by these two tables; :func:`check_registry` fails
loudly when an Engine field is declared nowhere.

Adding an engine array means adding one :class:`StateArray` entry to :data:`ENGINE_ARRAYS`
(and, if it is not a plain function of the description, a validator).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.engine import Engine, gap_tables
from snnsim.errors import FileFormatError
from snnsim.h5safe import AtMost
from snnsim.inputs import PoissonInput
from snnsim.kernels import neurons as kernel_neurons
from snnsim.kernels.random_streams import stream_key
from snnsim.models import NeuronModel, SpikeSource, steps_on_grid
from snnsim.synapses import (
    MAX_DELAY_STEPS,
    MAX_TABLE_WEIGHTS,
    STREAM_INPUT,
    STREAM_SOURCE,
    W_BY_RECEPTOR,
    W_INDEXED,
    W_VALUES,
    float32_keys,
    stream_id,
)

__all__ = [
    "CONFIG_FIELDS",
    "ENGINE_ARRAYS",
    "ENGINE_SCALARS",
    "UNSAVED_FIELDS",
    "DType",
    "Layout",
    "PoissonLayout",
    "PopulationLayout",
    "StateArray",
    "StateCheck",
    "StateScalar",
    "check_registry",
    "saved_arrays",
]

Array = npt.NDArray[Any]
ShapeRule = Callable[["Layout"], tuple[int | AtMost | None, ...]]
Validator = Callable[[Array, "StateCheck"], None]

_FLOAT_UNITS = "mV/nA (per variable, see description)"
_INPUT_UNITS = "nA (mV for LIFDelta targets)"
#: Largest ring: D = max_delay_steps + 1 slots rounded up to a power of two.
_MAX_RING_SLOTS = 1 << (MAX_DELAY_STEPS + 1 - 1).bit_length()
#: Synapses checked per pass (bounds the temporaries of the validators).
_CHUNK = 1 << 20
#: Receptor sign codes, per (neuron, receptor): receptor absent, any sign, >= 0, <= 0.
_ABSENT, _ANY, _NONNEG, _NONPOS = 0, 1, 2, 3
#: In the weight-by-receptor fast path: a code whose receptor weight has the wrong sign.
_WRONG = -1


# ====================================================================== what the file must match
@dataclass(frozen=True)
class PopulationLayout:
    """One population as the description gives it."""

    label: str
    size: int
    start: int
    model: NeuronModel


@dataclass(frozen=True)
class PoissonLayout:
    """One Poisson input as the description gives it."""

    index: int  # position among all inputs (its random stream)
    targets: npt.NDArray[np.int64]  # sorted global ids
    inp: PoissonInput
    model: NeuronModel


@dataclass
class Layout:
    """What the network description implies for the engine arrays."""

    pops: Sequence[PopulationLayout]
    poisson: Sequence[PoissonLayout]
    dt: float
    seed: int
    step: int
    precision: str

    @property
    def n(self) -> int:
        """Number of neurons."""
        return sum(p.size for p in self.pops)

    @property
    def n_pops(self) -> int:
        """Number of populations."""
        return len(self.pops)

    @property
    def words(self) -> int:
        """Number of 64-neuron words."""
        return (self.n + 63) // 64

    @cached_property
    def statics(self) -> list[npt.NDArray[np.int64]]:
        """Per population, its static integer data (SpikeSource schedules)."""
        return [p.model.static_data(self.dt, self.step) for p in self.pops]

    def per_pop(self, sizes: Sequence[int]) -> npt.NDArray[np.int64]:
        """Offsets of consecutive blocks of the given sizes."""
        o = np.zeros(len(sizes), dtype=np.int64)
        o[1:] = np.cumsum(sizes)[:-1]
        return o

    @cached_property
    def receptor_signs(self) -> npt.NDArray[np.int8]:
        """Per code ``2 * gid + receptor``: absent, any sign, must be >= 0 or <= 0."""
        signs = np.full(2 * self.n, _ABSENT, dtype=np.int8)
        for p in self.pops:
            for r, name in enumerate(p.model.receptors[:2]):
                rule = _ANY
                if p.model.signed_receptors:
                    rule = _NONNEG if name == "exc" else _NONPOS if name == "inh" else _ANY
                signs[2 * p.start + r : 2 * (p.start + p.size) : 2] = rule
        return signs

    def expected(self, name: str) -> Array:
        """Exact value of an array fully determined by the description."""
        pops = self.pops
        if name == "pop_kind":
            return np.array([p.model.kind for p in pops], dtype=np.int64)
        if name == "pop_start":
            return np.array([p.start for p in pops], dtype=np.int64)
        if name == "pop_size":
            return np.array([p.size for p in pops], dtype=np.int64)
        if name == "pop_foff":
            return self.per_pop([len(p.model.float_vars) * p.size for p in pops])
        if name == "pop_ioff":
            return self.per_pop([len(p.model.int_vars) * p.size for p in pops])
        if name == "pop_doff":
            return self.per_pop([s.size for s in self.statics])
        if name == "pop_key":
            keys = [
                stream_key(np.uint64(self.seed), np.uint64(stream_id(STREAM_SOURCE, i)))
                for i in range(len(pops))
            ]
            return np.array(keys, dtype=np.uint64)
        if name == "idata":
            return (
                np.concatenate(self.statics).astype(np.int64)
                if self.statics
                else np.zeros(0, np.int64)
            )
        if name == "pin_indptr":
            return self.per_pop([*(t.targets.size for t in self.poisson), 0])
        if name == "pin_targets":
            rows = [t.targets for t in self.poisson]
            return np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
        if name == "pin_n":
            return np.array([t.inp.n_inputs for t in self.poisson], dtype=np.int64)
        if name == "pin_p":
            return np.array([t.inp.rate * self.dt * 1e-3 for t in self.poisson], dtype=np.float64)
        if name == "pin_w":
            return np.array([t.inp.weight for t in self.poisson], dtype=np.float64)
        if name == "pin_rec":
            recs = [
                t.model.receptors.index(t.inp.receptor or "exc") if t.model.signed_receptors else 0
                for t in self.poisson
            ]
            return np.array(recs, dtype=np.int64)
        if name == "pin_key":
            keys = [
                stream_key(np.uint64(self.seed), np.uint64(stream_id(STREAM_INPUT, t.index)))
                for t in self.poisson
            ]
            return np.array(keys, dtype=np.uint64)
        raise KeyError(name)


@dataclass
class StateCheck:
    """What a validator sees: the layout, every array and scalar read, and the error maker."""

    layout: Layout
    arrays: dict[str, Array]
    scalars: dict[str, int]
    fail: Callable[[str, str], FileFormatError]

    def bad(self, name: str, problem: str) -> FileFormatError:
        """Error about dataset ``/engine/<name>``."""
        return self.fail(f"/engine/{name}", problem)

    def bad_attr(self, name: str, problem: str) -> FileFormatError:
        """Error about attribute ``name`` of ``/engine``."""
        return self.fail(f"/engine attribute {name!r}", problem)

    @property
    def n_syn(self) -> int:
        """Number of synapses (length of ``syn_code``)."""
        return int(self.arrays["syn_code"].size)

    def weights(self, lo: int, hi: int) -> Array:
        """Weights (nA or mV) of synapses ``lo:hi`` whatever their storage."""
        a, mode = self.arrays, self.scalars["w_mode"]
        if mode == W_BY_RECEPTOR:
            by_receptor: Array = a["w_table"][a["syn_code"][lo:hi] & 1]
            return by_receptor
        if mode == W_VALUES:
            values: Array = a["syn_weight"][lo:hi]
            return values
        indexed: Array = a["w_table"][a["syn_weight"][lo:hi]]
        return indexed


# ====================================================================== registry entries
@dataclass(frozen=True)
class DType:
    """Dtype rule: the allowed dtypes (the first is written unless the array has another)."""

    allowed: tuple[type[np.generic], ...]
    #: the one dtype allowed instead when the network's precision is "single"
    single: type[np.generic] | None = None

    def for_precision(self, precision: str) -> tuple[type[np.generic], ...]:
        """Return the allowed dtypes for a network of this precision."""
        if self.single is not None and precision == "single":
            return (self.single,)
        return self.allowed


@dataclass(frozen=True)
class StateArray:
    """Declaration of one engine array (see the module docstring)."""

    name: str
    dtype: DType
    units: str
    shape: ShapeRule
    validate: Validator | None = None
    saved: bool = True
    #: for arrays that are not saved: how to rebuild them from the layout
    derive: Callable[[Layout], Array] | None = None

    def stored_dtype(self, arr: Array, precision: str) -> type[np.generic]:
        """Dtype the array is written with: its own if allowed, else the rule's first."""
        allowed = self.dtype.for_precision(precision)
        for t in allowed:
            if arr.dtype == np.dtype(t):
                return t
        return allowed[0]


@dataclass(frozen=True)
class StateScalar:
    """Declaration of one integer engine field saved as an attribute of ``/engine``."""

    name: str
    units: str
    lo: int = 0
    hi: int | None = None


# ---------------------------------------------------------------------- validators
def _matches_description(a: Array, c: StateCheck, name: str) -> None:
    if not np.array_equal(a, c.layout.expected(name)):
        raise c.bad(name, "does not match the network description")


def _exact(name: str) -> Validator:
    return lambda a, c: _matches_description(a, c, name)


def _finite(name: str) -> Validator:
    def check(a: Array, c: StateCheck) -> None:
        if not np.all(np.isfinite(a)):
            raise c.bad(name, "contains NaN or Inf; state must be finite")

    return check


def _non_negative(name: str) -> Validator:
    def check(a: Array, c: StateCheck) -> None:
        if a.size and a.min() < 0:
            raise c.bad(name, f"holds {a.min()}; values must be >= 0")

    return check


def _coeffs(a: Array, c: StateCheck) -> None:
    _finite("coeffs")(a, c)
    for p, pop in enumerate(c.layout.pops):
        if not np.allclose(a[p], pop.model.coefficients(c.layout.dt), rtol=1e-9, atol=1e-12):
            raise c.bad("coeffs", f"row {p} does not match the parameters of {pop.label!r}")


def _istate(a: Array, c: StateCheck) -> None:
    """Refractory counters in [0, tau_refrac steps]; SpikeSource pointers at the step."""
    lay = c.layout
    offset = 0
    for pop in lay.pops:
        model = pop.model
        for k, var in enumerate(model.int_vars):
            block = a[offset + k * pop.size : offset + (k + 1) * pop.size]
            if isinstance(model, SpikeSource) and var == "pointer":
                want = model.initial_int_state(pop.size, lay.dt, lay.step)["pointer"]
                if not np.array_equal(block, want):
                    raise c.bad(
                        "istate", f"spike pointers of {pop.label!r} do not match step {lay.step}"
                    )
            elif var == "refrac" and "tau_refrac" in model.params:
                n_ref = steps_on_grid(model.params["tau_refrac"], lay.dt, "tau_refrac")
                if block.size and (block.min() < 0 or block.max() > n_ref):
                    raise c.bad(
                        "istate", f"refractory counters of {pop.label!r} outside [0, {n_ref}] steps"
                    )
        offset += len(model.int_vars) * pop.size


def _indptr(a: Array, c: StateCheck) -> None:
    if a[0] != 0 or np.any(np.diff(a) < 0) or a[-1] != c.n_syn:
        raise c.bad("indptr", f"must start at 0, not decrease and end at n_syn={c.n_syn}")


def _syn_code(a: Array, c: StateCheck) -> None:
    """Targets in range and ascending within rows (receptors: see :func:`_weight_signs`)."""
    n, n_syn = c.layout.n, c.n_syn
    if not n_syn:
        return
    if a.min() < 0 or a.max() >= 2 * n:
        raise c.bad("syn_code", f"values must be in [0, {2 * n}) (2 * target + receptor)")
    indptr = c.arrays["indptr"]
    for lo in range(0, n_syn - 1, _CHUNK):
        # a code may only decrease where a new row starts
        hi = min(lo + _CHUNK, n_syn - 1)
        down = np.flatnonzero(a[lo + 1 : hi + 1] < a[lo:hi]) + lo + 1
        starts = np.searchsorted(indptr, down, side="left")
        if np.any(indptr[np.minimum(starts, indptr.size - 1)] != down):
            raise c.bad("syn_code", "codes must be ascending within each row")


def _wrong_signs(c: StateCheck, rule: Array, lo: int, hi: int) -> Array:
    """Mask of synapses ``lo:hi`` whose weight has the wrong sign for their receptor."""
    mode = c.scalars["w_mode"]
    if mode == W_INDEXED:
        # the table is ascending: compare indices with the first >= 0 and first > 0 entry
        table, idx = c.arrays["w_table"], c.arrays["syn_weight"][lo:hi]
        first_nonneg, first_pos = (
            np.searchsorted(table, 0.0, "left"),
            np.searchsorted(table, 0.0, "right"),
        )
        wrong: Array = ((rule == _NONNEG) & (idx < first_nonneg)) | (
            (rule == _NONPOS) & (idx >= first_pos)
        )
        return wrong
    w = c.weights(lo, hi)
    wrong = ((rule == _NONNEG) & (w < 0)) | ((rule == _NONPOS) & (w > 0))
    return wrong


def _weight_signs(c: StateCheck) -> None:
    """Every synapse onto a receptor its target has, with the sign ``connect`` enforces."""
    code, signs, n_syn = c.arrays["syn_code"], c.layout.receptor_signs, c.n_syn
    if c.scalars["w_mode"] == W_BY_RECEPTOR:
        # the weight depends on the code only: fold the sign test into the code table
        w_code = c.arrays["w_table"][np.arange(signs.size) & 1]
        bad = ((signs == _NONNEG) & (w_code < 0)) | ((signs == _NONPOS) & (w_code > 0))
        signs = np.where(bad, _WRONG, signs).astype(np.int8)
    for lo in range(0, n_syn, _CHUNK):
        hi = min(lo + _CHUNK, n_syn)
        rule = signs[code[lo:hi]]
        if rule.min() > _ABSENT and c.scalars["w_mode"] == W_BY_RECEPTOR:
            continue
        if np.any(rule == _ABSENT):
            raise c.bad("syn_code", "synapse onto a receptor its target neuron does not have")
        by_receptor = c.scalars["w_mode"] == W_BY_RECEPTOR
        wrong = rule == _WRONG if by_receptor else _wrong_signs(c, rule, lo, hi)
        if np.any(wrong):
            k = int(np.flatnonzero(wrong)[0])
            s = lo + k
            w = float(c.weights(s, s + 1)[0])
            rec = "exc" if c.layout.receptor_signs[code[s]] == _NONNEG else "inh"
            raise c.bad(
                "syn_weight" if c.scalars["w_mode"] == W_VALUES else "w_table",
                f"synapse {s} has weight {w:g} on receptor {rec!r}; excitatory "
                "weights must be >= 0 and inhibitory weights <= 0 (as connect() enforces)",
            )


def _syn_weight(a: Array, c: StateCheck) -> None:
    """Storage agrees with ``w_mode``; values finite; indices in range; signs by receptor."""
    _weight_storage(a, c)
    _weight_signs(c)


def _weight_storage(a: Array, c: StateCheck) -> None:
    table, mode, n_syn = c.arrays["w_table"], c.scalars["w_mode"], c.n_syn
    if mode == W_BY_RECEPTOR:
        if a.size:
            raise c.bad("syn_weight", "must be empty when w_mode is 2 (weight by receptor)")
        if table.size != 2:
            raise c.bad("w_table", f"{table.size} entries; w_mode 2 needs one weight per receptor")
        if not np.all(np.isfinite(table)):
            raise c.bad("w_table", "contains NaN or Inf")
        return
    if a.size != n_syn:
        raise c.bad("syn_weight", f"length {a.size} != len(syn_code)={n_syn}")
    if mode == W_VALUES:
        if table.size:
            raise c.bad("w_table", "must be empty when syn_weight holds float32 values (w_mode 0)")
        if a.dtype != np.float32:
            raise c.bad("syn_weight", f"dtype {a.dtype} needs a weight table (w_table is empty)")
        if not np.all(np.isfinite(a)):
            raise c.bad("syn_weight", "contains NaN or Inf")
        return
    if a.dtype == np.float32:
        raise c.bad(
            "syn_weight",
            "float32 values in w_mode 1: either w_table must be empty and w_mode 0, or "
            "syn_weight must hold uint8/uint16 indices",
        )
    if table.size == 0:
        raise c.bad("syn_weight", f"dtype {a.dtype} needs a weight table (w_table is empty)")
    if table.size > np.iinfo(a.dtype).max + 1:
        raise c.bad("w_table", f"{table.size} entries cannot be indexed by {a.dtype}")
    if not np.all(np.isfinite(table)):
        raise c.bad("w_table", "contains NaN or Inf")
    keys = float32_keys(table)  # sorted and distinct in float32 order, -0.0 before 0.0
    if np.any(keys[1:] <= keys[:-1]):
        raise c.bad("w_table", "values must be distinct and ascending")
    if n_syn and int(a.max()) >= table.size:
        raise c.bad("syn_weight", f"indices must be < len(w_table)={table.size}")


def _syn_delay(a: Array, c: StateCheck) -> None:
    """Delays fit the ring and agree with ``delay_const`` and ``min_delay``."""
    const, min_delay, n_syn = c.scalars["delay_const"], c.scalars["min_delay"], c.n_syn
    slots = c.arrays["ring"].shape[0]
    if const and a.size:
        raise c.bad("syn_delay", f"must be empty when delay_const={const} > 0")
    if not const and a.size != n_syn:
        raise c.bad("syn_delay", f"length {a.size} != len(syn_code)={n_syn}")
    if not n_syn:
        if const:
            raise c.bad_attr("delay_const", "must be 0 when there is no synapse")
        return
    if const:
        if const >= slots:
            raise c.bad_attr("delay_const", f"{const} steps does not fit a ring of {slots} slots")
        if min_delay != const:
            raise c.bad_attr("min_delay", f"must equal delay_const={const}")
        return
    if a.min() < 1 or int(a.max()) >= slots:
        raise c.bad(
            "syn_delay", f"delays must be in [1, {slots - 1}] steps (ring has {slots} slots)"
        )
    if min_delay != int(a.min()):
        raise c.bad_attr("min_delay", f"must equal min(syn_delay)={a.min()}")


def _ring(a: Array, c: StateCheck) -> None:
    """Power-of-two slot count; finite; spikes in flight respect the receptor signs."""
    slots = a.shape[0]
    if slots < 2 or slots & (slots - 1):
        raise c.bad("ring", f"{slots} slots; the slot count must be a power of two >= 2")
    _finite("ring")(a, c)
    # columns are receptor planes: receptor * n + target (syn_code is 2 * target + receptor)
    signs = c.layout.receptor_signs.reshape(-1, 2).T.ravel()
    for rule, test, name in ((_NONNEG, a < 0, "exc"), (_NONPOS, a > 0, "inh")):
        if np.any(test[:, signs == rule]):
            raise c.bad("ring", f"input in flight of the wrong sign on {name!r} receptors")


def _ev_step(a: Array, c: StateCheck) -> None:
    gid, value = c.arrays["ev_gid"], c.arrays["ev_value"]
    if gid.size != a.size or value.size != a.size:
        raise c.bad(
            "ev_gid",
            f"ev_gid ({gid.size}) and ev_value ({value.size}) must have "
            f"len(ev_step)={a.size} entries",
        )
    if a.size and (a.min() < 1 or np.any(np.diff(a) < 0)):
        raise c.bad("ev_step", "must be >= 1 and non-decreasing")
    if gid.size and (gid.min() < 0 or gid.max() >= c.layout.n):
        raise c.bad("ev_gid", f"values must be in [0, {c.layout.n})")
    _finite("ev_value")(value, c)


def _pin_w(a: Array, c: StateCheck) -> None:
    _matches_description(a, c, "pin_w")
    for k, t in enumerate(c.layout.poisson):
        rec = int(c.arrays["pin_rec"][k])
        rule = c.layout.receptor_signs[2 * int(t.targets[0]) + rec] if t.targets.size else _ANY
        if (rule == _NONNEG and a[k] < 0) or (rule == _NONPOS and a[k] > 0):
            raise c.bad(
                "pin_w",
                f"Poisson input {t.index} has weight {a[k]:g} on the wrong-sign receptor {rec}",
            )


def _ev_words(a: Array, c: StateCheck) -> None:
    """Event-driven bookkeeping: all empty or sized per neuron / word; stamps not ahead."""
    n, words, step = c.layout.n, c.layout.words, c.layout.step
    last, blk, busy = c.arrays["ev_last"], c.arrays["ev_blk"], c.arrays["ev_busy"]
    empty = last.size == 0 and blk.size == 0 and busy.size == 0
    if not empty and (last.size, blk.size, busy.size) != (n, words, words):
        raise c.bad(
            "ev_last", f"ev_last/ev_blk/ev_busy must be empty or have {n}/{words}/{words} entries"
        )
    if last.size and (last.max() > step or blk.max() > step):
        raise c.bad("ev_last", f"stamps after the current step {step}")


def _int(*types: type[np.generic]) -> DType:
    return DType(types)


_I64, _U64, _F64 = _int(np.int64), _int(np.uint64), _int(np.float64)
_PRECISION = DType((np.float64,), single=np.float32)
_I_PRECISION = DType((np.int64,), single=np.int32)


# shape rules
def _per_pop(lay: Layout) -> tuple[int]:
    return (lay.n_pops,)


def _per_poisson(lay: Layout) -> tuple[int]:
    return (len(lay.poisson),)


def _per_neuron(lay: Layout) -> tuple[int]:
    return (lay.n,)


def _any(lay: Layout) -> tuple[None]:
    return (None,)


def _coeff_rows(lay: Layout) -> tuple[int, int]:
    return (lay.n_pops, kernel_neurons.N_COEFFS)


def _float_vars(lay: Layout) -> tuple[int]:
    return (sum(len(p.model.float_vars) * p.size for p in lay.pops),)


def _int_vars(lay: Layout) -> tuple[int]:
    return (sum(len(p.model.int_vars) * p.size for p in lay.pops),)


def _static_data(lay: Layout) -> tuple[int]:
    return (sum(s.size for s in lay.statics),)


def _rows(lay: Layout) -> tuple[int]:
    return (lay.n + 1,)


def _table(lay: Layout) -> tuple[AtMost]:
    return (AtMost(MAX_TABLE_WEIGHTS),)


def _ring_shape(lay: Layout) -> tuple[AtMost, int]:
    return (AtMost(_MAX_RING_SLOTS), 2 * lay.n)


def _pin_rows(lay: Layout) -> tuple[int]:
    return (len(lay.poisson) + 1,)


def _pin_targets(lay: Layout) -> tuple[int]:
    return (sum(t.targets.size for t in lay.poisson),)


def _upto_neurons(lay: Layout) -> tuple[AtMost]:
    return (AtMost(lay.n),)


def _upto_words(lay: Layout) -> tuple[AtMost]:
    return (AtMost(lay.words),)


def _gap(lay: Layout) -> Array:
    return gap_tables([p.model for p in lay.pops], lay.dt)


_A = StateArray
_W_UNITS = "steps (stamp of each 64-neuron word's last vectorised update)"

#: Every array field of the Engine. Validators run after every array has been read, so
#: each may use any other array.
ENGINE_ARRAYS: tuple[StateArray, ...] = (
    _A("pop_kind", _I64, "1 (kernel kind)", _per_pop, _exact("pop_kind")),
    _A("pop_start", _I64, "1 (global id of first neuron)", _per_pop, _exact("pop_start")),
    _A("pop_size", _I64, "neurons", _per_pop, _exact("pop_size")),
    _A("pop_foff", _I64, "1 (offset into fstate)", _per_pop, _exact("pop_foff")),
    _A("pop_ioff", _I64, "1 (offset into istate)", _per_pop, _exact("pop_ioff")),
    _A("pop_doff", _I64, "1 (offset into idata)", _per_pop, _exact("pop_doff")),
    _A("pop_key", _U64, "1 (random stream key)", _per_pop, _exact("pop_key")),
    _A("coeffs", _F64, "per coefficient (see snnsim.models)", _coeff_rows, _coeffs),
    _A("fstate", _PRECISION, _FLOAT_UNITS, _float_vars, _finite("fstate")),
    _A(
        "istate", _I_PRECISION, "steps or index (per variable, see description)", _int_vars, _istate
    ),
    _A("idata", _I64, "steps (SpikeSource schedules as CSR)", _static_data, _exact("idata")),
    _A("i_ext", _PRECISION, "nA", _per_neuron, _finite("i_ext")),
    _A("indptr", _I64, "1 (synapse index)", _rows, _indptr),
    _A("syn_code", DType((np.int32,)), "1 (2 * target global id + receptor)", _any, _syn_code),
    _A("syn_weight", DType((np.float32, np.uint8, np.uint16)), _INPUT_UNITS, _any, _syn_weight),
    _A("syn_delay", DType((np.uint16, np.uint8)), "steps", _any, _syn_delay),
    _A("w_table", DType((np.float32,)), _INPUT_UNITS, _table),
    _A("ring", _PRECISION, _INPUT_UNITS, _ring_shape, _ring),
    _A("ev_step", _I64, "steps", _any, _ev_step),
    _A("ev_gid", _I64, "1 (global neuron id)", _any),
    _A("ev_value", _F64, "nA", _any),
    _A("pin_indptr", _I64, "1 (index into pin_targets)", _pin_rows, _exact("pin_indptr")),
    _A("pin_targets", _I64, "1 (global neuron id)", _pin_targets, _exact("pin_targets")),
    _A("pin_n", _I64, "inputs", _per_poisson, _exact("pin_n")),
    _A("pin_p", _F64, "1 (probability per step)", _per_poisson, _exact("pin_p")),
    _A("pin_rec", _I64, "1 (receptor index)", _per_poisson, _exact("pin_rec")),
    _A("pin_w", _F64, _INPUT_UNITS, _per_poisson, _pin_w),
    _A("pin_key", _U64, "1 (random stream key)", _per_poisson, _exact("pin_key")),
    _A("spike_count", _I64, "spikes", _per_neuron, _non_negative("spike_count")),
    _A("ev_last", _I64, "steps (stamp of each neuron's last update)", _upto_neurons, _ev_words),
    _A("ev_blk", _I64, _W_UNITS, _upto_words),
    _A("ev_busy", _U64, "1 (bit per neuron: updated every step)", _upto_words),
    _A("gap", _F64, "1 (input-free propagators)", _any, saved=False, derive=_gap),
)

#: Integer Engine fields saved as attributes of ``/engine``.
ENGINE_SCALARS: tuple[StateScalar, ...] = (
    StateScalar("step", "steps"),
    StateScalar("min_delay", "steps", 1),
    StateScalar("w_mode", "1 (0: float32 per synapse, 1: table indices, 2: by receptor)", 0, 2),
    StateScalar("delay_const", "steps (0: per-synapse syn_delay)", 0, MAX_DELAY_STEPS),
    StateScalar("total_spikes", "spikes"),
    StateScalar("total_events", "synaptic events"),
)

#: Engine fields given by the root attributes of the file and the description.
CONFIG_FIELDS = ("dt", "seed", "n", "threads", "threads_auto", "precision", "event_driven")
#: Engine fields that describe a process, not the simulation: never saved.
UNSAVED_FIELDS = ("compile_s", "build_s", "last_run")


def saved_arrays() -> tuple[StateArray, ...]:
    """Return the registry entries that checkpoints store."""
    return tuple(a for a in ENGINE_ARRAYS if a.saved)


def check_registry() -> None:
    """Raise ``RuntimeError`` unless every Engine field is declared exactly once here."""
    fields = {f.name for f in dataclasses.fields(Engine) if f.init}
    declared = [a.name for a in ENGINE_ARRAYS] + [s.name for s in ENGINE_SCALARS]
    declared += [*CONFIG_FIELDS, *UNSAVED_FIELDS]
    dupes = sorted({d for d in declared if declared.count(d) > 1})
    missing, extra = sorted(fields - set(declared)), sorted(set(declared) - fields)
    if missing or extra or dupes:
        raise RuntimeError(
            "snnsim.engine_state does not match the Engine fields: undeclared "
            f"{missing}, unknown {extra}, declared twice {dupes}; add one StateArray or "
            "StateScalar entry per Engine field"
        )
