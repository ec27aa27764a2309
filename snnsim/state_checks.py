"""What a checkpoint's engine arrays must match, and the checks that enforce it.

:class:`Layout` is what the network description implies (sizes, exact arrays, the sign
each receptor's weights must have); :class:`StateCheck` is what a validator sees. The
validators re-check on load every invariant the API enforces when it builds the engine:
values that follow from the description, finite state, index ranges, and weight signs
per receptor of Poisson inputs and spikes in flight; the synapse blocks' validators are in
:mod:`snnsim.synapse_checks`. :mod:`snnsim.engine_state` attaches them to its registry
entries.
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
from snnsim.synapse_values import W_BY_RECEPTOR, W_VALUES

__all__ = [
    "CHUNK",
    "SIGN_ABSENT",
    "SIGN_ANY",
    "SIGN_NONNEG",
    "SIGN_NONPOS",
    "Layout",
    "PoissonLayout",
    "PopulationLayout",
    "StateCheck",
    "check_ev_step",
    "check_ev_words",
    "check_istate",
    "check_modulation",
    "check_pin_w",
    "check_ring",
    "exact",
    "finite",
    "non_negative",
]

Array = npt.NDArray[Any]
Validator = Callable[[Array, "StateCheck"], None]

#: Synapses checked per pass (bounds the temporaries of the validators).
CHUNK = 1 << 20
#: Receptor sign codes, per (neuron, receptor): receptor absent, any sign, >= 0, <= 0.
SIGN_ABSENT, SIGN_ANY, SIGN_NONNEG, SIGN_NONPOS = 0, 1, 2, 3


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
        signs = np.full(2 * self.n, SIGN_ABSENT, dtype=np.int8)
        for p in self.pops:
            for r, name in enumerate(p.model.receptors[:2]):
                rule = SIGN_ANY
                if p.model.signed_receptors:
                    rule = (
                        SIGN_NONNEG if name == "exc" else SIGN_NONPOS if name == "inh" else SIGN_ANY
                    )
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


def check_ring(a: Array, c: StateCheck) -> None:
    """Power-of-two slot count; finite; spikes in flight respect the receptor signs."""
    slots = a.shape[0]
    if slots < 2 or slots & (slots - 1):
        raise c.bad("ring", f"{slots} slots; the slot count must be a power of two >= 2")
    finite("ring")(a, c)
    # columns are receptor planes: receptor * n + target (syn_code is 2 * target + receptor)
    signs = c.layout.receptor_signs.reshape(-1, 2).T.ravel()
    for rule, test, name in ((SIGN_NONNEG, a < 0, "exc"), (SIGN_NONPOS, a > 0, "inh")):
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
        rule = c.layout.receptor_signs[2 * int(t.targets[0]) + rec] if t.targets.size else SIGN_ANY
        if (rule == SIGN_NONNEG and a[k] < 0) or (rule == SIGN_NONPOS and a[k] > 0):
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
