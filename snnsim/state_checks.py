"""What a checkpoint's engine arrays must match, and the checks that enforce it.

:class:`Layout` is what the network description implies (sizes, exact arrays, the sign
each receptor's weights must have); :class:`StateCheck` is what a validator sees. The
validators re-check on load every invariant the API enforces when it builds the engine:
values that follow from the description, finite state, index ranges, row order, weight
storage and weight signs per receptor (synapses, Poisson inputs, spikes in flight).
:mod:`snnsim.engine_state` attaches them to its registry entries. Synapse checks run in
chunks so that validating a large network allocates no full-length temporaries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.build import model_arrays
from snnsim.errors import FileFormatError
from snnsim.inputs import PoissonInput
from snnsim.kernels.random_streams import stream_key
from snnsim.models import NeuronModel
from snnsim.streams import STREAM_INPUT, STREAM_SOURCE, stream_id
from snnsim.synapses import W_BY_RECEPTOR, W_INDEXED, W_VALUES, float32_keys

__all__ = [
    "Layout",
    "PoissonLayout",
    "PopulationLayout",
    "StateCheck",
    "check_ev_step",
    "check_ev_words",
    "check_indptr",
    "check_istate",
    "check_min_delay",
    "check_modulation",
    "check_mutable_blocks",
    "check_pin_w",
    "check_ring",
    "check_syn_code",
    "check_syn_delay",
    "check_syn_tag",
    "check_syn_weight",
    "exact",
    "finite",
    "non_negative",
]

Array = npt.NDArray[Any]
Validator = Callable[[Array, "StateCheck"], None]

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
    n_projections: int = 0

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
    def model_arrays(self) -> dict[str, Array]:
        """The engine arrays the models imply (coefficients, propagators...), derived."""
        return model_arrays([p.model for p in self.pops], [p.size for p in self.pops], self.dt)

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


# ====================================================================== validators
def _matches_description(a: Array, c: StateCheck, name: str) -> None:
    if not np.array_equal(a, c.layout.expected(name)):
        raise c.bad(name, "does not match the network description")


def exact(name: str) -> Validator:
    """Return a validator: the array equals what the description implies."""
    return lambda a, c: _matches_description(a, c, name)


def finite(name: str) -> Validator:
    """Return a validator: no NaN or Inf."""

    def check(a: Array, c: StateCheck) -> None:
        if not np.all(np.isfinite(a)):
            raise c.bad(name, "contains NaN or Inf; state must be finite")

    return check


def non_negative(name: str) -> Validator:
    """Return a validator: no negative value."""

    def check(a: Array, c: StateCheck) -> None:
        if a.size and a.min() < 0:
            raise c.bad(name, f"holds {a.min()}; values must be >= 0")

    return check


def check_istate(a: Array, c: StateCheck) -> None:
    """Every model checks its own state (refractory counters, schedule pointers, ...)."""
    lay = c.layout
    fstate = c.arrays["fstate"]
    foff = ioff = 0
    for pop in lay.pops:
        m = pop.model
        fblock = fstate[foff : foff + len(m.float_vars) * pop.size].reshape(-1, pop.size)
        iblock = a[ioff : ioff + len(m.int_vars) * pop.size].reshape(-1, pop.size)
        problem = m.check_state(
            dict(zip(m.float_vars, fblock, strict=True)),
            dict(zip(m.int_vars, iblock, strict=True)),
            lay.dt,
            lay.step,
        )
        if problem:
            raise c.bad("istate", f"{pop.label!r}: {problem}")
        foff += fblock.size
        ioff += iblock.size


def check_indptr(a: Array, c: StateCheck) -> None:
    """CSR rows start at 0, do not decrease and end at the synapse count."""
    if a[0] != 0 or np.any(np.diff(a) < 0) or a[-1] != c.n_syn:
        raise c.bad("indptr", f"must start at 0, not decrease and end at n_syn={c.n_syn}")


def check_syn_code(a: Array, c: StateCheck) -> None:
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


def check_syn_weight(a: Array, c: StateCheck) -> None:
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


def check_syn_delay(a: Array, c: StateCheck) -> None:
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
        return
    if a.min() < 1 or int(a.max()) >= slots:
        raise c.bad(
            "syn_delay", f"delays must be in [1, {slots - 1}] steps (ring has {slots} slots)"
        )
    del min_delay  # checked against every block in check_min_delay


def check_min_delay(a: Array, c: StateCheck) -> None:
    """``min_delay`` is the smallest delay of the static and the mutable blocks."""
    lows = [int(a.min())] if a.size else []
    if c.n_syn:
        lows.append(c.scalars["delay_const"] or int(c.arrays["syn_delay"].min()))
    if lows and c.scalars["min_delay"] != min(lows):
        raise c.bad_attr("min_delay", f"must equal the smallest delay {min(lows)}")


def check_syn_tag(a: Array, c: StateCheck) -> None:
    """Projection tags: none, or one per static synapse naming a projection."""
    if a.size not in (0, c.n_syn):
        raise c.bad("syn_tag", f"must be empty or have one entry per static synapse ({c.n_syn})")
    if a.size and int(a.max()) >= c.layout.n_projections:
        raise c.bad("syn_tag", f"projection indices must be < {c.layout.n_projections}")


def check_mutable_blocks(a: Array, c: StateCheck) -> None:
    """Per-projection mutable blocks: ranges, row pointers, codes, weights, delays, signs."""
    arr, n = c.arrays, c.layout.n
    n_blk = a.size
    for name in ("mb_lo", "mb_hi", "mb_row"):
        if arr[name].size != n_blk:
            raise c.bad(name, f"{arr[name].size} entries for {n_blk} mutable blocks")
    lo, hi, row, ptr = arr["mb_lo"], arr["mb_hi"], arr["mb_row"], arr["mb_indptr"]
    n_mut = arr["mb_code"].size
    for name in ("mb_weight", "mb_delay"):
        if arr[name].size != n_mut:
            raise c.bad(name, f"{arr[name].size} entries for {n_mut} mutable synapses")
    if n_blk and (
        np.any(lo < 0) or np.any(hi > n) or np.any(hi < lo) or np.any(a < 0)
        or np.any(a >= c.layout.n_projections) or np.unique(a).size != n_blk
    ):  # fmt: skip
        raise c.bad("mb_proj", "block source ranges or projection indices out of range")
    # a leading 0, then hi - lo + 1 pointers per block
    want_rows = int((hi - lo + 1).sum()) + 1
    if ptr.size != want_rows or np.any(row != 1 + np.cumsum(hi - lo + 1) - (hi - lo + 1)):
        raise c.bad("mb_indptr", f"{ptr.size} row pointers; the blocks need {want_rows}")
    if ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] != n_mut:
        raise c.bad("mb_indptr", f"must start at 0, not decrease and end at {n_mut}")
    if not n_mut:
        return
    code = arr["mb_code"]
    if code.min() < 0 or code.max() >= 2 * n:
        raise c.bad("mb_code", f"values must be in [0, {2 * n})")
    if not np.all(np.isfinite(arr["mb_weight"])):
        raise c.bad("mb_weight", "contains NaN or Inf")
    slots = arr["ring"].shape[0]
    delay = arr["mb_delay"]
    if delay.min() < 1 or int(delay.max()) >= slots:
        raise c.bad("mb_delay", f"delays must be in [1, {slots - 1}] steps")
    rule = c.layout.receptor_signs[code]
    if np.any(rule == _ABSENT):
        raise c.bad("mb_code", "synapse onto a receptor its target neuron does not have")
    w = arr["mb_weight"]
    if np.any(((rule == _NONNEG) & (w < 0)) | ((rule == _NONPOS) & (w > 0))):
        raise c.bad("mb_weight", "weight sign does not match its receptor (exc >= 0, inh <= 0)")


def check_ring(a: Array, c: StateCheck) -> None:
    """Power-of-two slot count; finite; spikes in flight respect the receptor signs."""
    slots = a.shape[0]
    if slots < 2 or slots & (slots - 1):
        raise c.bad("ring", f"{slots} slots; the slot count must be a power of two >= 2")
    finite("ring")(a, c)
    # columns are receptor planes: receptor * n + target (syn_code is 2 * target + receptor)
    signs = c.layout.receptor_signs.reshape(-1, 2).T.ravel()
    for rule, test, name in ((_NONNEG, a < 0, "exc"), (_NONPOS, a > 0, "inh")):
        if np.any(test[:, signs == rule]):
            raise c.bad("ring", f"input in flight of the wrong sign on {name!r} receptors")


def check_ev_step(a: Array, c: StateCheck) -> None:
    """Step-current events: equal lengths, ordered stamps, neurons in range, finite."""
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
    finite("ev_value")(value, c)


def check_pin_w(a: Array, c: StateCheck) -> None:
    """Poisson weights as described, with the sign their receptor requires."""
    _matches_description(a, c, "pin_w")
    for k, t in enumerate(c.layout.poisson):
        rec = int(c.arrays["pin_rec"][k])
        rule = c.layout.receptor_signs[2 * int(t.targets[0]) + rec] if t.targets.size else _ANY
        if (rule == _NONNEG and a[k] < 0) or (rule == _NONPOS and a[k] > 0):
            raise c.bad(
                "pin_w",
                f"Poisson input {t.index} has weight {a[k]:g} on the wrong-sign receptor {rec}",
            )


def check_ev_words(a: Array, c: StateCheck) -> None:
    """Event-driven bookkeeping: all empty or sized per neuron / word; stamps in [0, step]."""
    n, words, step = c.layout.n, c.layout.words, c.layout.step
    last, blk, busy = c.arrays["ev_last"], c.arrays["ev_blk"], c.arrays["ev_busy"]
    empty = last.size == 0 and blk.size == 0 and busy.size == 0
    if not empty and (last.size, blk.size, busy.size) != (n, words, words):
        raise c.bad(
            "ev_last", f"ev_last/ev_blk/ev_busy must be empty or have {n}/{words}/{words} entries"
        )
    for name, stamps in (("ev_last", last), ("ev_blk", blk)):
        if stamps.size and (stamps.min() < 0 or stamps.max() > step):
            raise c.bad(name, f"stamps must be in [0, {step}] (the current step)")


def check_plasticity(a: Array, c: StateCheck) -> None:
    """Plasticity state: one rule index per mutable block, rules, traces and histories."""
    arr, n = c.arrays, c.layout.n
    n_blk = arr["mb_proj"].size
    param = arr["pl_param"]
    if a.size != n_blk or np.any(a < -1) or np.any(a >= param.shape[0]):
        raise c.bad("pl_rule", f"needs one rule index in [-1, {param.shape[0]}) per block")
    if param.size and (
        not np.all(np.isfinite(param)) or np.any(param[:, :2] <= 0) or np.any(param[:, 5] == 0)
    ):
        raise c.bad("pl_param", "time constants must be > 0, w_max != 0, all finite")
    n_ptr = arr["mb_indptr"].size
    for name in ("pl_kplus", "pl_tlast"):
        if arr[name].size != n_ptr:
            raise c.bad(name, f"needs one entry per row pointer ({n_ptr})")
    if not np.all(np.isfinite(arr["pl_kplus"])) or np.any(arr["pl_tlast"] > c.scalars["step"]):
        raise c.bad("pl_kplus", "traces must be finite and spike stamps not in the future")
    gid, hist_t, hist_k, hist_n = (
        arr["pl_hist_gid"], arr["pl_hist_t"], arr["pl_hist_k"], arr["pl_hist_n"],
    )  # fmt: skip
    rows = gid.size
    if np.any(gid < 0) or np.any(gid >= n) or np.any(np.diff(gid) <= 0):
        raise c.bad("pl_hist_gid", f"must be ascending neuron ids in [0, {n})")
    if hist_t.shape[0] != rows or hist_k.shape[1:] != hist_t.shape or hist_n.size != rows:
        raise c.bad("pl_hist_t", "history arrays do not match pl_hist_gid")
    if np.any(hist_n < 0) or not np.all(np.isfinite(hist_k)):
        raise c.bad("pl_hist_n", "counts must be >= 0 and traces finite")


def check_modulation(a: Array, c: StateCheck) -> None:
    """Astrocyte modulation (``md_*``): every index the run loop follows is in range."""
    arr, n = c.arrays, c.layout.n
    src, var, hist = arr["md_src_gid"], arr["md_src_var"], arr["md_hist"]
    m = src.size
    if np.any(src < 0) or np.any(src >= n) or np.any(np.diff(src) <= 0) or var.size != m:
        raise c.bad("md_src_gid", f"must be ascending neuron ids in [0, {n}), one md_src_var each")
    starts = np.array([p.start for p in c.layout.pops], dtype=np.int64)
    for g, v in zip(src, var, strict=True):
        model = c.layout.pops[int(np.searchsorted(starts, g, side="right") - 1)].model
        if not 0 <= v < len(model.float_vars):
            raise c.bad("md_src_var", f"{v} is not a float variable of {model.name}")
    t_src, t_w, t_d = arr["md_t_src"], arr["md_t_w"], arr["md_t_d"]
    n_t = t_src.size
    if t_w.size != n_t or t_d.size != n_t or np.any(t_src < 0) or np.any(t_src >= m):
        raise c.bad("md_t_src", f"terms need a history column in [0, {m}), a weight and a delay")
    if np.any(t_d < 1) or np.any(t_d >= 1 << 15) or not np.all(np.isfinite(t_w)):
        raise c.bad("md_t_d", "delays must be 1 .. 32767 steps and weights finite")
    rows = hist.shape[0]
    need = int(t_d.max()) + 2 * int(t_d.min()) + 1 if n_t else 1
    if hist.shape[1] != m or rows < need or rows & (rows - 1) or not np.all(np.isfinite(hist)):
        raise c.bad("md_hist", f"needs shape (2**k >= {need}, {m}) and finite values")
    gid, coef, ptr = arr["md_ent_gid"], arr["md_ent_coef"], arr["md_ent_ptr"]
    if np.any(gid < 0) or np.any(gid >= n) or np.any(np.diff(gid) < 0) or coef.size != gid.size:
        raise c.bad("md_ent_gid", f"must be ascending neuron ids in [0, {n})")
    if np.any(coef < 0) or ptr.size != gid.size + 1:
        raise c.bad("md_ent_coef", "needs coefficient indices >= 0 and md_ent_ptr of size E + 1")
    r_ptr, r_off = arr["md_rec_ptr"], arr["md_rec_off"]
    for name, p_ in (("md_ent_ptr", ptr), ("md_rec_ptr", r_ptr)):
        if np.any(p_ < 0) or np.any(p_ > n_t) or np.any(np.diff(p_) < 0):
            raise c.bad(name, f"term pointers must be ascending within [0, {n_t}]")
    n_r = arr["md_rec_proj"].size
    for name in ("md_rec_effect", "md_rec_tlo", "md_rec_off"):
        if arr[name].size != n_r:
            raise c.bad(name, f"needs one entry per modulated projection ({n_r})")
    if np.any(arr["md_rec_proj"] < 0) or np.any(arr["md_rec_proj"] >= c.layout.n_projections):
        raise c.bad("md_rec_proj", f"projection indices must be in [0, {c.layout.n_projections})")
    if np.any((arr["md_rec_effect"] != 0) & (arr["md_rec_effect"] != 1)):
        raise c.bad("md_rec_effect", "effects are 0 (stdp_depression) or 1 (gain)")
    if np.any(arr["md_rec_tlo"] < 0) or np.any(arr["md_rec_tlo"] >= max(n, 1)):
        raise c.bad("md_rec_tlo", f"first targets must be neuron ids in [0, {n})")
    if np.any(r_off < 0) or np.any(np.diff(r_off) <= 0) or np.any(r_off >= max(r_ptr.size, 1)):
        raise c.bad("md_rec_off", "record offsets must be ascending within md_rec_ptr")
