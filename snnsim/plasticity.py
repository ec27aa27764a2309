r"""Synaptic plasticity rules: :class:`STDP` (pair-based spike-timing-dependent plasticity).

``net.connect(pre, post, connector, weight=..., delay=..., plasticity=snn.STDP(...))`` makes
the projection plastic: at build its synapses go into a mutable block of their own (float64
weights) and the run loop updates them event-driven, as NEST does.

The rule (PyNN ``STDPMechanism(SpikePairRule, AdditiveWeightDependence |
MultiplicativeWeightDependence)``, NEST ``stdp_synapse`` / ``stdp_nn_symm_synapse``)
-------------------------------------------------------------------------------------
The whole delay :math:`d` is dendritic: the rule sees a presynaptic spike at its time stamp
:math:`t` and a postsynaptic spike at :math:`t_{post} + d`. With :math:`u = w / w_{max}`
(so :math:`u \ge 0` for inhibitory rules too, see below) and :math:`u_{min} = w_{min}/w_{max}`,
every single pairing updates the weight and clips it:

.. math::

    \text{facilitation:}\quad u \leftarrow \min\bigl(1,\; u + a_+ (1-u)^{\mu} K_+\bigr),
    \qquad
    \text{depression:}\quad u \leftarrow \max\bigl(u_{min},\;
        u - a_- (u - u_{min})^{\mu} K_-\bigr)

with :math:`\mu = 0` (``"additive"``) or :math:`1` (``"multiplicative"``). For
``pairing="all"`` (NEST ``stdp_synapse``):

.. math::

    K_+ = K_{pre}(t_{last})\, e^{-(t_{post} + d - t_{last})/\tau_+},\qquad
    K_- = K_{post}(t_{post})\, e^{-(t - d - t_{post})/\tau_-},

where :math:`K_{pre}` jumps by 1 at each presynaptic spike and :math:`K_{post}` by 1 at each
postsynaptic spike (both decaying with :math:`\tau_+`, :math:`\tau_-`), :math:`t_{last}` is
the latest presynaptic spike before :math:`t_{post} + d` and :math:`t_{post}` in
:math:`K_-` the latest postsynaptic spike strictly before :math:`t - d`. For
``pairing="nearest"`` (NEST ``stdp_nn_symm_synapse``, symmetric nearest-neighbour) the
traces are reset instead of summed: :math:`K_{pre} = K_{post} = 1`. Postsynaptic spikes
before a source's first spike facilitate nothing (NEST's ``stdp_nn_symm_synapse`` pairs them
with a phantom presynaptic spike at t = 0, its ``t_lastspike`` initial value).

Order (NEST's): when a presynaptic spike is delivered, the postsynaptic spikes with
:math:`t_{last} < t_{post} + d \le t` facilitate first (oldest first), then the spike
depresses, and it is transmitted with the new weight. A postsynaptic spike with
:math:`t_{post} + d = t` pairs with the earlier presynaptic spikes only, never with the
coinciding one. snnsim applies a facilitation at the latest when its postsynaptic spike has
reached the synapse (time :math:`t_{post} + d`), which gives NEST's weight at every
presynaptic spike; ``proj.get("weight")`` after ``net.run(T)`` therefore returns the
weights with every pairing whose two spikes reached the synapse by :math:`T` applied (NEST's
``GetConnections`` leaves facilitations pending until the next presynaptic spike, and does not
deliver spikes of the last ``min_delay`` of ``Simulate``).

Parameters and NEST / PyNN mapping: ``a_plus``, ``a_minus`` are fractions of ``w_max``
(PyNN's ``A_plus``, ``A_minus``); NEST ``lambda = a_plus``, ``alpha = a_minus / a_plus``,
``Wmax = w_max`` (x1000: nA -> pA), ``mu_plus = mu_minus = mu``, ``tau_minus`` of the
postsynaptic neuron (snnsim keeps it per rule: a neuron with plastic inputs of rules with
different ``tau_minus`` keeps one postsynaptic trace per rule). NEST requires ``w_min = 0``.

Inhibitory plastic projections (``receptor="inh"``, weights <= 0) take ``w_max < 0`` and
``w_min <= 0`` (NEST's convention: ``Wmax`` has the weights' sign); the rule then acts on
:math:`u = w/w_{max} \ge 0`: facilitation makes the weight more negative (stronger
inhibition), up to ``w_max``, depression moves it towards ``w_min``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from snnsim.errors import ConnectivityError, ParameterError

if TYPE_CHECKING:
    from snnsim.models import NeuronModel

__all__ = ["N_RULE_PARAMS", "STDP", "SynapseArray", "synapse_array_rows"]

#: Values per rule in the engine's ``pl_param`` rows (see :meth:`STDP.as_row`).
N_RULE_PARAMS = 8
_DEPENDENCES = {"additive": 0, "multiplicative": 1}
_PAIRINGS = {"all": 0, "nearest": 1}


@dataclass(frozen=True)
class SynapseArray:
    """One extra per-synapse array a plasticity rule declares (``Rule.synapse_arrays``).

    The engine gives every declared array one row of ``mb_sa_i64`` (``dtype="int64"``) or
    ``mb_sa_f64`` (``"float64"``), one entry per mutable synapse, set to ``initial`` for new
    synapses, kept in synapse order through ``Projection.set`` and block changes, and saved
    in checkpoints. The rule's engine row carries the row index (see
    :func:`synapse_array_rows`); its kernel reads ``pl.sa_i64[row, synapse]``.
    """

    name: str
    dtype: str
    units: str
    initial: float


def synapse_array_rows(kinds: Any) -> dict[str, int]:
    """Row of every array declared by the rule classes ``kinds`` (in the given order).

    Rows are numbered per dtype, in declaration order; the same classes always give the
    same rows, so a rule's row indices are a function of which rule kinds a network uses.
    """
    rows: dict[str, int] = {}
    count = {"int64": 0, "float64": 0}
    for kind in kinds:
        for decl in kind.synapse_arrays:
            if decl.name not in rows:
                rows[decl.name] = count[decl.dtype]
                count[decl.dtype] += 1
    return rows


@dataclass(frozen=True)
class STDP:
    """Pair-based STDP (see the module docstring for the equations and the NEST mapping).

    Parameters
    ----------
    tau_plus, tau_minus : float
        Time constants of the pre- and postsynaptic traces (ms, > 0).
    a_plus, a_minus : float
        Facilitation and depression amplitudes, fractions of ``w_max`` (>= 0).
    w_min, w_max : float
        Weight bounds (nA; mV onto delta synapses). ``w_max > 0`` and ``0 <= w_min < w_max``
        for excitatory projections; ``w_max < 0`` and ``w_max < w_min <= 0`` for inhibitory
        ones. The initial weights must lie between them.
    weight_dependence : {"additive", "multiplicative"}
    pairing : {"all", "nearest"}
        All-to-all pairs (NEST ``stdp_synapse``) or symmetric nearest neighbours (NEST
        ``stdp_nn_symm_synapse``).
    """

    tau_plus: float = 20.0
    tau_minus: float = 20.0
    a_plus: float = 0.01
    a_minus: float = 0.0105
    w_min: float = 0.0
    w_max: float = 0.5
    weight_dependence: str = "additive"
    pairing: str = "all"
    #: extra per-synapse arrays (none: STDP keeps its state per source and per target)
    synapse_arrays: ClassVar[tuple[SynapseArray, ...]] = ()

    def __post_init__(self) -> None:
        for name in ("tau_plus", "tau_minus", "a_plus", "a_minus", "w_min", "w_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"STDP({name}={value!r}): {name} must be a number")
            if not math.isfinite(value):
                raise ParameterError(f"STDP({name}={value!r}): {name} must be finite")
        for name in ("tau_plus", "tau_minus"):
            if getattr(self, name) <= 0:
                raise ParameterError(f"STDP({name}={getattr(self, name)!r}): {name} must be > 0 ms")
        for name in ("a_plus", "a_minus"):
            if getattr(self, name) < 0:
                raise ParameterError(
                    f"STDP({name}={getattr(self, name)!r}): {name} must be >= 0 (a fraction "
                    "of w_max; the sign of the change comes from the rule)"
                )
        if self.w_max == 0:
            raise ParameterError(
                "STDP(w_max=0): w_max must be > 0 (excitatory) or < 0 (inhibitory projections)"
            )
        u_min = self.w_min / self.w_max
        if not 0.0 <= u_min < 1.0:
            raise ParameterError(
                f"STDP(w_min={self.w_min!r}, w_max={self.w_max!r}): w_min must lie between 0 "
                "and w_max (0 <= w_min < w_max, or w_max < w_min <= 0 for inhibitory rules)"
            )
        if self.weight_dependence not in _DEPENDENCES:
            raise ParameterError(
                f"STDP(weight_dependence={self.weight_dependence!r}): use 'additive' or "
                "'multiplicative'"
            )
        if self.pairing not in _PAIRINGS:
            raise ParameterError(f"STDP(pairing={self.pairing!r}): use 'all' or 'nearest'")

    @property
    def sign(self) -> int:
        """+1 for an excitatory rule (``w_max > 0``), -1 for an inhibitory one."""
        return 1 if self.w_max > 0 else -1

    def check_weights(self, w_lo: float, w_hi: float, what: str) -> None:
        """Raise ``ParameterError`` unless weights in ``[w_lo, w_hi]`` lie within the bounds."""
        lo, hi = sorted((self.w_min, self.w_max))
        if w_lo < lo or w_hi > hi:
            raise ParameterError(
                f"{what}: initial weights in [{w_lo:g}, {w_hi:g}] nA do not lie within the "
                f"STDP bounds [{lo:g}, {hi:g}]; change the weights or w_min/w_max"
            )

    def check_connect(self, model: NeuronModel, receptor: str | None, weight: Any) -> None:
        """Check ``connect(plasticity=self)`` onto ``model``: the sign suits the receptor.

        Scalar weights are checked against the rule's bounds here; others when the network
        is built (``snnsim.build``).
        """
        rec = model.receptor_index(receptor, "connect")
        if model.signed_receptors:
            want = 1 if model.receptors[rec] == "exc" else -1
            if self.sign != want:
                raise ConnectivityError(
                    f"connect(receptor={model.receptors[rec]!r}, plasticity=STDP(w_max="
                    f"{self.w_max!r})): w_max must be {'> 0' if want > 0 else '< 0'} onto this "
                    "receptor (the weights' sign; inhibitory rules use w_max < 0 as NEST)"
                )
        if isinstance(weight, (int, float, np.number)) and not isinstance(weight, bool):
            self.check_weights(float(weight), float(weight), "connect(plasticity=...)")

    def as_row(self) -> list[float]:
        """Return the rule as the engine stores it (a ``pl_param`` row)."""
        return [
            float(self.tau_plus), float(self.tau_minus), float(self.a_plus),
            float(self.a_minus), float(self.w_min), float(self.w_max),
            float(_DEPENDENCES[self.weight_dependence]), float(_PAIRINGS[self.pairing]),
        ]  # fmt: skip

    @classmethod
    def from_row(cls, row: Any) -> STDP:
        """Inverse of :meth:`as_row`."""
        dep = {v: k for k, v in _DEPENDENCES.items()}[int(row[6])]
        pair = {v: k for k, v in _PAIRINGS.items()}[int(row[7])]
        tp, tm, ap, am, w_lo, w_hi = (float(x) for x in row[:6])
        return cls(tp, tm, ap, am, w_lo, w_hi, weight_dependence=dep, pairing=pair)

    def describe(self) -> dict[str, Any]:
        """Plain description (for files and messages)."""
        return {
            "rule": "STDP", "tau_plus": self.tau_plus, "tau_minus": self.tau_minus,
            "a_plus": self.a_plus, "a_minus": self.a_minus, "w_min": self.w_min,
            "w_max": self.w_max, "weight_dependence": self.weight_dependence,
            "pairing": self.pairing,
        }  # fmt: skip
