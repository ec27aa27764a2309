r"""SpiNNaker (sPyNNaker 7) rules that :mod:`snnsim.hardware.spinnaker` applies.

Constants of the board and of sPyNNaker's configuration, the PyNN view of a network (one
``FromListConnector`` projection per snnsim projection and synapse sign), the fixed-synapse
word layout, delay slots, and the ring-buffer left shift with its connection statistics;
the equations are in the module docstring of :mod:`snnsim.hardware.spinnaker`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from snnsim.errors import HardwareConstraintError

if TYPE_CHECKING:
    from snnsim.hardware.rules import Context, Violation

    from snnsim.network import Network
    from snnsim.plasticity import STDP
    from snnsim.projections import Projection

__all__ = [
    "CELL_TYPES",
    "COLOUR_BITS",
    "CORES_PER_CHIP",
    "MAX_DELAY_STAGES",
    "MAX_RING_BUFFER_BITS",
    "MAX_ROW_LENGTH",
    "NEURONS_PER_CORE",
    "N_SYNAPSE_TYPES",
    "POISSON_PER_CORE",
    "PynnProjection",
    "bits_needed",
    "check_exportable",
    "decode_rows",
    "delay_slots",
    "delay_ticks",
    "encode_rows",
    "get_n_bits",
    "list_delay_ms",
    "pynn_projections",
    "pynn_stdp",
    "ring_buffer_shifts",
    "spinnaker_stdp",
    "timestep_ms",
    "weight_scale",
]

#: neurons per core of neuron models (``DEFAULT_MAX_ATOMS_PER_CORE``)
NEURONS_PER_CORE = 256
#: neurons per core of ``SpikeSourcePoisson``
POISSON_PER_CORE = 500
#: colour bits of every spike key (``n_colour_bits`` in ``spynnaker.cfg``)
COLOUR_BITS = 4
#: ring-buffer index bits: delay + synapse type + neuron (``MAX_RING_BUFFER_BITS``)
MAX_RING_BUFFER_BITS = 14
#: delay extension stages at most (``DelayExtensionVertex.MAX_SLOTS``)
MAX_DELAY_STAGES = 8
#: synapse types of ``IF_curr_exp`` / ``IF_curr_delta``
N_SYNAPSE_TYPES = 2
#: synapses per row at most (``POP_TABLE_MAX_ROW_LENGTH``)
MAX_ROW_LENGTH = 256
#: application cores per SpiNNaker1 chip (18 cores, one monitor)
CORES_PER_CHIP = 17
#: statistics of the ring-buffer shift (``[Simulation]`` of ``spynnaker.cfg``)
SPIKES_PER_SECOND = 30.0
RING_BUFFER_SIGMA = 5.0
_POISSON_SIGMA_SUMMATION_LIMIT = 3.0

_U32 = npt.NDArray[np.uint32]


def get_n_bits(n: int) -> int:
    """Bits sPyNNaker gives ``n`` values: 0 for 0, 1 for 1, else ``ceil(log2 n)``."""
    if n == 0:
        return 0
    if n == 1:
        return 1
    return math.ceil(math.log2(n))


def bits_needed(size: int) -> int:
    """PACMAN ``allocator_bits_needed``: 0 for 0, else ``ceil(log2 size)``."""
    return 0 if size == 0 else math.ceil(math.log2(size))


# ------------------------------------------------------------------------ the PyNN view
@dataclass(frozen=True)
class PynnProjection:
    """One PyNN ``FromListConnector`` projection as the exporter writes it.

    ``pre``/``post`` are indices in the whole pre/post population, ``weight`` the
    magnitudes (nA or mV, >= 0), ``delay`` in ticks of ``dt``; sorted by (pre, post).
    """

    source: int  # snnsim projection index
    pre_pop: int
    post_pop: int
    synapse_type: int  # 0 excitatory, 1 inhibitory
    pre: npt.NDArray[np.int64]
    post: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    delay: npt.NDArray[np.int64]
    #: ``|w_max|`` of the projection's STDP rule (None: static): sPyNNaker sizes the ring
    #: buffer for weights that may all grow to it
    plastic_w_max: float | None = None


#: snnsim model name -> PyNN cell type
CELL_TYPES = {
    "LIF": "IF_curr_exp",
    "LIFDelta": "IF_curr_delta",
    "SpikeSource": "SpikeSourceArray",
    "PoissonSource": "SpikeSourcePoisson",
}


def check_exportable(net: Network) -> None:
    """Refuse what PyNN/sPyNNaker cannot express, naming what and why."""
    for pop in net.populations:
        if pop.model.name not in CELL_TYPES:
            raise HardwareConstraintError(
                f"population {pop.label!r}: model {pop.model.name} has no PyNN/SpiNNaker "
                f"counterpart; supported: {', '.join(CELL_TYPES)}"
            )
    inputs = getattr(net, "inputs", [])
    if inputs:
        raise HardwareConstraintError(
            f"network has {len(inputs)} current input(s) ({type(inputs[0][1]).__name__}); "
            "the SpiNNaker/PyNN export does not express injected currents: use a "
            "population's i_offset or a spike source instead"
        )


def pynn_projections(net: Network) -> list[PynnProjection]:
    """Split every projection by synapse sign, as the PyNN exporter does.

    Onto ``LIF`` (``IF_curr_exp``) the receptor is the synapse type ("exc" 0, "inh" 1,
    magnitude of the weight); onto ``LIFDelta`` (``IF_curr_delta``, one signed receptor in
    snnsim) weights ``>= 0`` become excitatory and negative ones inhibitory. Projections
    without synapses are left out (PyNN has nothing to create).
    """
    check_exportable(net)
    out: list[PynnProjection] = []
    for proj in net.projections:
        table = proj.table()
        pre = proj.pre.indices[table.pre] if len(table) else table.pre
        post = proj.post.indices[table.post] if len(table) else table.post
        w = np.asarray(table.weight, dtype=np.float64)
        pre_pop, post_pop = proj.pre.population.index, proj.post.population.index
        if proj.post.model.name == "LIFDelta":
            parts = [(0, w >= 0), (1, w < 0)]
        else:
            parts = [(int(table.receptor), np.ones(w.size, dtype=bool))]
        rule = proj.plasticity
        w_max = abs(float(rule.w_max)) if rule is not None else None
        for s_type, sel in parts:
            if not np.any(sel):
                continue
            p, q, ww, d = pre[sel], post[sel], np.abs(w[sel]), table.delay[sel]
            order = np.lexsort((q, p))  # sPyNNaker drops synapses of unsorted lists
            out.append(
                PynnProjection(
                    proj.index, pre_pop, post_pop, s_type, p[order].astype(np.int64),
                    q[order].astype(np.int64), ww[order], d[order].astype(np.int64), w_max,
                )
            )  # fmt: skip
    return out


# ------------------------------------------------------------------------ plasticity
def pynn_stdp(rule: STDP) -> dict[str, float | str]:
    """PyNN ``STDPMechanism`` parameters of an snnsim :class:`~snnsim.plasticity.STDP`.

    ``SpikePairRule(tau_plus, tau_minus, A_plus=a_plus, A_minus=a_minus)`` and
    ``Additive/MultiplicativeWeightDependence(w_min, w_max)`` with the bounds as magnitudes
    (an inhibitory rule, ``w_max < 0``, acts on ``u = w/w_max >= 0``: the same rule on
    the magnitudes ``|w|`` of an ``"inhibitory"`` projection, which is how sPyNNaker holds
    them; the script gives the bounds the weights' sign on ``pyNN.nest``, where NEST wants
    ``Wmax`` with the sign of the weights).
    """
    return {
        "tau_plus": float(rule.tau_plus), "tau_minus": float(rule.tau_minus),
        "A_plus": float(rule.a_plus), "A_minus": float(rule.a_minus),
        "w_min": abs(float(rule.w_min)), "w_max": abs(float(rule.w_max)),
        "dependence": str(rule.weight_dependence),
    }  # fmt: skip


def spinnaker_stdp(ctx: Context) -> list[Violation]:
    """STDP that PyNN / sPyNNaker 7 cannot run as snnsim does.

    - ``pairing="nearest"`` (NEST ``stdp_nn_symm_synapse``, symmetric): PyNN has no
      standard nearest-pair rule, and sPyNNaker's ``SpikeNearestPairRule`` is
      presynaptic-centred (a postsynaptic spike facilitates only if it is the first after
      the presynaptic one; NEST ``stdp_nn_pre_centered_synapse``): other weights (error).
    - Plastic projections onto one population with different rules: sPyNNaker keeps one
      synapse dynamics per post population ("Synapse dynamics must match exactly") and NEST
      one ``tau_minus`` per neuron (error).
    - ``w_min != 0``: ``pyNN.nest`` refuses it ("Non-zero minimum weight is not supported
      by NEST"); sPyNNaker runs it (warning: the script runs on sPyNNaker only).
    """
    from snnsim.hardware.rules import Violation, pop_where, proj_where

    from snnsim.plasticity import STDP

    out: list[Violation] = []
    per_post: dict[int, list[tuple[Projection, dict[str, float | str]]]] = {}
    drop = "drop=['spinnaker_stdp'] exports the current weights as static synapses"
    for proj in ctx.projections():
        rule = getattr(proj, "plasticity", None)
        if not isinstance(rule, STDP):  # other rules: the target's "plasticity" rule
            continue
        params = pynn_stdp(rule)
        per_post.setdefault(proj.post.population.index, []).append((proj, params))
        if getattr(rule, "pairing", "all") != "all":
            out.append(
                Violation(
                    "spinnaker_stdp", "error", proj_where(proj),
                    f"STDP(pairing={rule.pairing!r}) is NEST's symmetric nearest-neighbour rule "
                    "(stdp_nn_symm_synapse); PyNN has no standard nearest-pair rule and "
                    "sPyNNaker's SpikeNearestPairRule is presynaptic-centred (only the first "
                    "postsynaptic spike after a presynaptic one facilitates; NEST "
                    "stdp_nn_pre_centered_synapse), so the board would learn other weights",
                    f"use pairing='all' (PyNN SpikePairRule), or {drop}",
                    {"pairing": rule.pairing},
                )
            )  # fmt: skip
        if params["w_min"] != 0.0:
            out.append(
                Violation(
                    "spinnaker_stdp", "warning", proj_where(proj),
                    f"STDP(w_min={rule.w_min!r}): pyNN.nest refuses a nonzero minimum weight "
                    "(NEST's stdp_synapse clips at 0); the exported script runs on sPyNNaker "
                    "only",
                    "use w_min=0 to run the script on pyNN.nest too",
                    {"w_min": params["w_min"]},
                )
            )  # fmt: skip
    for entries in per_post.values():
        first = entries[0][1]
        for proj, params in entries[1:]:
            if params != first:
                out.append(
                    Violation(
                        "spinnaker_stdp", "error", pop_where(proj.post.population),
                        f"plastic projections onto it have different STDP parameters "
                        f"({first} and {params}, bounds as magnitudes): sPyNNaker keeps one "
                        "synapse dynamics per post population and NEST one tau_minus per neuron",
                        f"give every plastic projection onto it the same rule, or {drop}",
                        {"rules": [first, params]},
                    )
                )  # fmt: skip
                break
    return out


# ------------------------------------------------------------------------ words
def encode_rows(
    target: npt.ArrayLike,
    synapse_type: npt.ArrayLike,
    delay: npt.ArrayLike,
    weight: npt.ArrayLike,
    n_neuron_bits: int = 8,
    n_type_bits: int = 1,
) -> _U32:
    """Fixed-synapse words: ``(W << 16) | (d << (n_idx + n_type)) | (type << n_idx) | target``.

    Parameters
    ----------
    target : int array
        Neuron index within the postsynaptic core, ``< 2**n_neuron_bits``.
    synapse_type : int array
        0 excitatory, 1 inhibitory, ``< 2**n_type_bits``.
    delay : int array
        Ticks, ``1 <= d < 2**(16 - n_neuron_bits - n_type_bits)``.
    weight : int array
        Stored weight ``W`` in ``[0, 65535]`` (already scaled).

    Raises
    ------
    HardwareConstraintError
        A field does not fit its bits (the board would corrupt the neighbouring field).
    """
    t = np.asarray(target, dtype=np.int64)
    s = np.asarray(synapse_type, dtype=np.int64)
    d = np.asarray(delay, dtype=np.int64)
    w = np.asarray(weight, dtype=np.int64)
    n_delay_bits = 16 - n_neuron_bits - n_type_bits
    for name, arr, bits in (
        ("target", t, n_neuron_bits), ("synapse_type", s, n_type_bits),
        ("delay", d, n_delay_bits), ("weight", w, 16),
    ):  # fmt: skip
        if arr.size and (arr.min() < 0 or arr.max() >= 1 << bits):
            bad = int(arr[(arr < 0) | (arr >= 1 << bits)][0])
            raise HardwareConstraintError(
                f"encode_rows: {name}={bad} does not fit {bits} bits (0..{(1 << bits) - 1})"
            )
    word = (w << 16) | (d << (n_neuron_bits + n_type_bits)) | (s << n_neuron_bits) | t
    return word.astype(np.uint32)


def decode_rows(
    words: npt.ArrayLike, n_neuron_bits: int = 8, n_type_bits: int = 1
) -> dict[str, npt.NDArray[np.int64]]:
    """Inverse of :func:`encode_rows`: ``target``, ``synapse_type``, ``delay``, ``weight``."""
    x = np.asarray(words, dtype=np.uint32).astype(np.int64)
    n_delay_bits = 16 - n_neuron_bits - n_type_bits
    return {
        "target": x & ((1 << n_neuron_bits) - 1),
        "synapse_type": (x >> n_neuron_bits) & ((1 << n_type_bits) - 1),
        "delay": (x >> (n_neuron_bits + n_type_bits)) & ((1 << n_delay_bits) - 1),
        "weight": x >> 16,
    }


# ------------------------------------------------------------------------ rules
def delay_slots(n_atoms_max_core: int, max_delay_ticks: int) -> int:
    """Delay slots of a post population's cores (``max_delay_steps_incoming``)."""
    available = 2 ** (MAX_RING_BUFFER_BITS - get_n_bits(n_atoms_max_core) - 1)
    return int(min(2 ** get_n_bits(max_delay_ticks), available))


def weight_scale(shift: int) -> float:
    """``2**(16 - (shift + 1))``: stored weight per nA (current) or mV (delta)."""
    return float(math.pow(2, 16 - (shift + 1)))


class _RunningStats:
    """Mean/variance of items added in groups (sPyNNaker ``RunningStats``)."""

    def __init__(self) -> None:
        self.mean = 0.0
        self.mean_2 = 0.0
        self.n_items = 0

    def add_items(self, mean: float, variance: float, n_items: int) -> None:
        if n_items > 0:
            new_n = self.n_items + n_items
            delta = mean - self.mean
            new_mean = (self.n_items * self.mean + n_items * mean) / new_n
            self.mean_2 = (
                self.mean_2 + variance * (n_items - 1.0) + delta * delta * self.n_items * n_items
                / new_n
            )  # fmt: skip
            self.n_items, self.mean = new_n, new_mean

    @property
    def variance(self) -> float:
        return 0.0 if self.n_items <= 1 else self.mean_2 / (self.n_items - 1.0)


def _upper_bound(w_mean: float, w_std: float, rate: float, n_in: int, steps_per_s: float) -> float:
    r"""Return the expected maximal ring-buffer sum (``_ring_buffer_expected_upper_bound``).

    With :math:`\lambda = n\,\nu / f` spikes per tick and :math:`u = \mathrm{round}(\lambda
    + 3\sqrt\lambda)`: :math:`\lambda \bar w + \sigma\sqrt{\lambda \bar w^2 + V_w}`, where
    :math:`V_w = e^{-\lambda} \lambda \sigma_w^2 (e^\lambda Q(u + 1, \lambda) -
    \lambda^u / u!)` and :math:`e^\lambda Q(u+1, \lambda) = \sum_{k \le u} \lambda^k / k!`
    (integer order, so no incomplete gamma function is needed).
    """
    lam = float(n_in * rate) / steps_per_s
    poisson_var = lam * w_mean**2
    u = round(lam + _POISSON_SIGMA_SUMMATION_LIMIT * math.sqrt(lam))
    w_var = 0.0
    if w_std > 0:
        big_ratio = math.log(lam) * u - math.lgamma(1 + u)
        if -701.0 < big_ratio < 701.0 and big_ratio != 0.0:
            partial = sum(math.exp(k * math.log(lam) - math.lgamma(k + 1)) for k in range(u + 1))
            log_var = -lam + math.log(lam) + 2.0 * math.log(w_std)
            log_var += math.log(partial - math.exp(big_ratio))
            w_var = math.exp(log_var)
    return lam * w_mean + RING_BUFFER_SIGMA * math.sqrt(poisson_var + w_var)


def ring_buffer_shifts(projs: list[PynnProjection], dt: float) -> tuple[int, ...]:
    """Left shift per synapse type of one post population (``get_ring_buffer_shifts``).

    ``projs`` are the projections onto it, in creation order. Every presynaptic population
    counts as firing at 30 Hz (sPyNNaker asks no source for its rate at this point). A
    plastic projection counts with every weight at ``max(weights, |w_max|)`` and no
    variance (``SynapseDynamicsSTDP.get_weight_mean/variance/maximum``).
    """
    steps_per_s = 1e6 / round(dt * 1000)
    totals = [_RunningStats() for _ in range(N_SYNAPSE_TYPES)]
    d_totals = [_RunningStats() for _ in range(N_SYNAPSE_TYPES)]
    rates = [_RunningStats() for _ in range(N_SYNAPSE_TYPES)]
    total_w = np.zeros(N_SYNAPSE_TYPES)
    biggest = np.zeros(N_SYNAPSE_TYPES)
    spikes_per_tick = max(1.0, SPIKES_PER_SECOND / steps_per_s)
    for p in projs:
        t = p.synapse_type
        n_conns = int(np.bincount(p.post).max())
        delays_ms = list_delay_ms(p.delay, dt)
        w_max = float(np.max(p.weight))
        if p.plastic_w_max is None:
            totals[t].add_items(float(np.mean(p.weight)), float(np.var(p.weight)), n_conns)
        else:  # SynapseDynamicsSTDP: every weight may reach w_max (mean w_max, variance 0)
            w_max = max(w_max, p.plastic_w_max)
            totals[t].add_items(w_max, 0.0, n_conns)
        biggest[t] = max(biggest[t], w_max)
        d_totals[t].add_items(0.0, float(np.var(delays_ms)), n_conns)
        rates[t].add_items(SPIKES_PER_SECOND, 0, n_conns)
        total_w[t] += spikes_per_tick * (w_max * n_conns)
    shifts = []
    for t in range(N_SYNAPSE_TYPES):
        if d_totals[t].variance == 0.0:
            max_w = max(total_w[t], biggest[t])
        else:
            w = _upper_bound(
                totals[t].mean, math.sqrt(totals[t].variance), rates[t].mean,
                totals[t].n_items, steps_per_s,
            )  # fmt: skip
            max_w = max(min(w, total_w[t]), biggest[t])
        s = 0 if max_w <= 0 else math.ceil(max(0.0, math.log2(max_w)))
        shifts.append(s + 1 if 2**s <= max_w else s)
    return tuple(shifts)


def timestep_ms(dt: float) -> float:
    """Return the time step as sPyNNaker holds it: whole microseconds, in ms."""
    return round(dt * 1000) / 1000.0


def list_delay_ms(delay: npt.NDArray[np.int64], dt: float) -> npt.NDArray[np.float64]:
    """Delays (ms) as a ``FromListConnector`` holds them, from the script's ``d * dt`` ms."""
    us = round(dt * 1000)
    out: npt.NDArray[np.float64] = np.rint((delay * dt) * (1000.0 / us)) * (us / 1000.0)
    return out


def delay_ticks(delay: npt.NDArray[np.int64], dt: float) -> npt.NDArray[np.int64]:
    """Delays in ticks as ``synapse_io.get_synapses`` computes them."""
    return np.rint(list_delay_ms(delay, dt) * (1000.0 / round(dt * 1000))).astype(np.int64)
