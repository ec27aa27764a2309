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
(and, if it is not a plain function of the description, a validator in
:mod:`snnsim.state_checks`, where the layout the description implies is computed, or in
:mod:`snnsim.synapse_checks` for synapse arrays).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.engine import Engine
from snnsim.h5safe import AtMost
from snnsim.plasticity import N_RULE_PARAMS
from snnsim.state_checks import (
    Layout,
    PoissonLayout,
    PopulationLayout,
    StateCheck,
    check_ev_step,
    check_ev_words,
    check_istate,
    check_modulation,
    check_pin_w,
    check_ring,
    exact,
    finite,
    non_negative,
)
from snnsim.synapse_checks import (
    check_delay_plasticity,
    check_indptr,
    check_min_delay,
    check_mutable_blocks,
    check_plasticity,
    check_syn_code,
    check_syn_delay,
    check_syn_tag,
    check_syn_weight,
)
from snnsim.synapse_values import MAX_DELAY_STEPS, MAX_TABLE_WEIGHTS

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
ShapeRule = Callable[[Layout], tuple[int | AtMost | None, ...]]
Validator = Callable[[Array, StateCheck], None]

_FLOAT_UNITS = "mV/nA (per variable, see description)"
_INPUT_UNITS = "nA (mV for LIFDelta, 1 for Leaky, RLeaky and CubaLIF targets)"
#: Largest ring: D = max_delay_steps + 1 slots rounded up to a power of two.
_MAX_RING_SLOTS = 1 << (MAX_DELAY_STEPS + 1 - 1).bit_length()


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


def _rules(lay: Layout) -> tuple[None, int]:
    return (None, N_RULE_PARAMS)


def _any2(lay: Layout) -> tuple[None, None]:
    return (None, None)


def _any3(lay: Layout) -> tuple[None, None, None]:
    return (None, None, None)


def _upto_neurons(lay: Layout) -> tuple[AtMost]:
    return (AtMost(lay.n),)


def _upto_words(lay: Layout) -> tuple[AtMost]:
    return (AtMost(lay.words),)


def _from_models(name: str) -> Callable[[Layout], Array]:
    """Derive an engine array from the models (``snnsim.build.model_arrays``)."""

    def derive(lay: Layout) -> Array:
        return lay.model_arrays[name]

    return derive


def _empty(dtype: type[np.generic], size: int = 0) -> Callable[[Layout], Array]:
    """Return an empty array: the Engine derives it from other arrays when constructed."""

    def derive(lay: Layout) -> Array:
        return np.zeros(size, dtype=dtype)

    return derive


_A = StateArray
_I32, _F32 = DType((np.int32,)), DType((np.float32,))
#: weights as float32 values or uint8/uint16 table indices; delays as uint16 or uint8
_WEIGHTS, _DELAYS = DType((np.float32, np.uint8, np.uint16)), DType((np.uint16, np.uint8))
_TAGS = DType((np.uint8, np.uint16))
_I_UNITS = "steps or index (per variable, see description)"
_W_UNITS = "steps (stamp of each 64-neuron word's last vectorised update)"

#: Every array field of the Engine. Validators run after every array has been read, so
#: each may use any other array.
ENGINE_ARRAYS: tuple[StateArray, ...] = (
    _A("pop_kind", _I64, "1 (kernel kind)", _per_pop, exact("pop_kind")),
    _A("pop_start", _I64, "1 (global id of first neuron)", _per_pop, exact("pop_start")),
    _A("pop_size", _I64, "neurons", _per_pop, exact("pop_size")),
    _A("pop_foff", _I64, "1 (offset into fstate)", _per_pop, exact("pop_foff")),
    _A("pop_ioff", _I64, "1 (offset into istate)", _per_pop, exact("pop_ioff")),
    _A("pop_doff", _I64, "1 (offset into idata)", _per_pop, exact("pop_doff")),
    _A("pop_key", _U64, "1 (random stream key)", _per_pop, exact("pop_key")),
    _A("fstate", _PRECISION, _FLOAT_UNITS, _float_vars, finite("fstate")),
    _A("istate", _I_PRECISION, _I_UNITS, _int_vars, check_istate),
    _A("idata", _I64, "steps (SpikeSource schedules as CSR)", _static_data, exact("idata")),
    _A("i_ext", _PRECISION, "nA", _per_neuron, finite("i_ext")),
    _A("indptr", _I64, "1 (synapse index)", _rows, check_indptr),
    _A("syn_code", _I32, "1 (2 * target global id + receptor)", _any, check_syn_code),
    _A("syn_weight", _WEIGHTS, _INPUT_UNITS, _any, check_syn_weight),
    _A("syn_delay", _DELAYS, "steps", _any, check_syn_delay),
    _A("w_table", _F32, _INPUT_UNITS, _table),
    _A("ring", _PRECISION, _INPUT_UNITS, _ring_shape, check_ring),
    _A("ev_step", _I64, "steps", _any, check_ev_step),
    _A("ev_gid", _I64, "1 (global neuron id)", _any),
    _A("ev_value", _F64, "nA", _any),
    _A("pin_indptr", _I64, "1 (index into pin_targets)", _pin_rows, exact("pin_indptr")),
    _A("pin_targets", _I64, "1 (global neuron id)", _pin_targets, exact("pin_targets")),
    _A("pin_n", _I64, "inputs", _per_poisson, exact("pin_n")),
    _A("pin_p", _F64, "1 (probability per step)", _per_poisson, exact("pin_p")),
    _A("pin_rec", _I64, "1 (receptor index)", _per_poisson, exact("pin_rec")),
    _A("pin_w", _F64, _INPUT_UNITS, _per_poisson, check_pin_w),
    _A("pin_key", _U64, "1 (random stream key)", _per_poisson, exact("pin_key")),
    _A("spike_count", _I64, "spikes", _per_neuron, non_negative("spike_count")),
    _A("ev_last", _I64, "steps (each neuron's last update)", _upto_neurons, check_ev_words),
    _A("ev_blk", _I64, _W_UNITS, _upto_words),
    _A("ev_busy", _U64, "1 (bit per neuron: updated every step)", _upto_words),
    _A(
        "syn_tag",
        _TAGS,
        "1 (projection of each static synapse, when ambiguous)",
        _any,
        check_syn_tag,
    ),
    # mutable blocks (snnsim.synapse_blocks); one validator checks them together
    _A("mb_proj", _I64, "1 (projection of each mutable block)", _any, check_mutable_blocks),
    _A("mb_lo", _I64, "1 (first global source id of each block)", _any),
    _A("mb_hi", _I64, "1 (end of each block's source range)", _any),
    _A("mb_row", _I64, "1 (first row of each block in mb_indptr)", _any),
    _A("mb_indptr", _I64, "1 (synapse index)", _any),
    _A("mb_code", _I32, "1 (2 * target global id + receptor)", _any),
    _A("mb_weight", _F64, _INPUT_UNITS, _any),
    _A("mb_delay", DType((np.uint16,)), "steps", _any, check_min_delay),
    # plasticity (snnsim.plastic_blocks); one validator checks them together
    _A("pl_rule", _I64, "1 (rule of each mutable block, -1: none)", _any, check_plasticity),
    _A("pl_param", _F64, "ms, ms, 1, 1, nA, nA, 1, 1 (STDP.as_row)", _rules),
    _A("pl_kplus", _F64, "1 (presynaptic trace per block row)", _any),
    _A("pl_tlast", _I64, "steps (last presynaptic spike per block row, -1: none)", _any),
    _A("pl_hist_gid", _I64, "1 (neurons with plastic inputs)", _any),
    _A("pl_hist_t", _I64, "steps (ring of postsynaptic spike stamps)", _any2),
    _A("pl_hist_k", _F64, "1 (postsynaptic trace per rule after each spike)", _any3),
    _A("pl_hist_n", _I64, "spikes (appended to each history)", _any),
    # delay plasticity (snnsim.delay_plasticity) and the rules' per-synapse arrays
    _A("dp_rule", _I64, "1 (delay rule of each block, -1: none)", _any, check_delay_plasticity),
    _A("dp_param", _F64, "ms, ms, steps, steps, steps, 1 (DelayPlasticity.as_row)", _any2),
    _A("mb_sa_i64", _I64, "per array (see the rule's SynapseArray)", _any2),
    _A("mb_sa_f64", _F64, "per array (see the rule's SynapseArray)", _any2),
    _A("mb_sa_i64_init", _I64, "per array (initial value of each row)", _any),
    _A("mb_sa_f64_init", _F64, "per array (initial value of each row)", _any),
    # astrocyte modulation (snnsim.modulation_state); one validator checks them together
    _A("md_src_gid", _I64, "1 (modulating astrocytes, global ids)", _any, check_modulation),
    _A("md_src_var", _I64, "1 (output variable of each astrocyte)", _any),
    _A("md_hist", _F64, "output (1 for A, SIC units for SIC)", _any2),
    _A("md_ent_gid", _I64, "1 (neuron of each modulated coefficient)", _any),
    _A("md_ent_coef", _I64, "1 (index of the modulated coefficient)", _any),
    _A("md_ent_ptr", _I64, "1 (term index)", _any),
    _A("md_t_src", _I64, "1 (history column of each term)", _any),
    _A("md_t_w", _F64, "per effect (nA, mV or 1 per unit of output)", _any),
    _A("md_t_d", _I64, "steps", _any),
    _A("md_rec_proj", _I64, "1 (modulated projection)", _any),
    _A("md_rec_effect", _I64, "1 (0: stdp_depression, 1: gain)", _any),
    _A("md_rec_tlo", _I64, "1 (first target global id)", _any),
    _A("md_rec_off", _I64, "1 (offset into md_rec_ptr)", _any),
    _A("md_rec_ptr", _I64, "1 (term index)", _any),
    # derived from the models on load
    _A(
        "coeffs",
        _F64,
        "per coefficient (see snnsim.models)",
        _any,
        saved=False,
        derive=_from_models("coeffs"),
    ),
    _A(
        "ncoeffs",
        _F64,
        "per coefficient and neuron",
        _any,
        saved=False,
        derive=_from_models("ncoeffs"),
    ),
    _A(
        "pop_noff",
        _I64,
        "1 (offset into ncoeffs, -1: homogeneous)",
        _per_pop,
        saved=False,
        derive=_from_models("pop_noff"),
    ),
    _A("gap", _F64, "1 (input-free propagators)", _any, saved=False, derive=_from_models("gap")),
    _A(
        "pop_event",
        DType((np.int8,)),
        "1 (event-driven mode)",
        _per_pop,
        saved=False,
        derive=_from_models("pop_event"),
    ),
    # derived from the mutable blocks when the Engine is constructed
    _A("mb_tlo", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("mb_thi", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("mb_prow", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("mb_post_ptr", _I64, "1", _any, saved=False, derive=_empty(np.int64, 1)),
    _A("mb_post_syn", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("pl_hrow", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("pl_post_syn", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("pl_syn_row", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
    _A("pl_dmax", _I64, "1", _any, saved=False, derive=_empty(np.int64)),
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
