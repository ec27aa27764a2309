r"""SpiNNaker (SpiNNaker1, sPyNNaker 7) machine-level mapping computed by snnsim itself.

:func:`map_network` does, without sPyNNaker, what sPyNNaker's mapping does with the PyNN
network that :func:`snnsim.hardware.pynn_export.export_pynn` writes for ``net`` (one PyNN
``FromListConnector`` projection per snnsim projection and synapse sign, in projection
order), with the time step ``net.dt``:

1. **Cores.** Every population is cut into contiguous slices (machine vertices) of at most
   ``max_neurons_per_core`` neurons (256 for neuron models, 500 for Poisson sources, one core
   for spike arrays; ``neurons_per_core`` overrides per population label).
2. **Delays.** Per postsynaptic population with ``n`` neurons on cores of ``m`` neurons
   (``PopulationVertex.max_delay_steps_incoming``):

   .. math:: n_{idx} = \mathrm{bits}(\min(n, m)),\quad n_{type} = \mathrm{bits}(2) = 1,\quad
             S = \min\left(2^{\mathrm{bits}(\lceil d_{max}/dt \rceil)},\;
             2^{14 - n_{idx} - n_{type}}\right)

   delay slots per core, with ``bits(0)=0, bits(1)=1, bits(x)=ceil(log2 x)``. A projection
   whose largest delay exceeds ``S`` ticks needs a delay extension on its presynaptic
   population with ``n_stages = ceil(d_max / S) - 1`` stages of ``S`` ticks
   (``delay_support_adder``); more than ``8 S + S`` ticks is an error
   (:class:`~snnsim.errors.HardwareConstraintError`), as on the board.
3. **Routing keys** (PACMAN ``ZonedRoutingInfoAllocator`` in its default flexible mode):
   every (source vertex, partition) with outgoing projections gets an index ``AP`` in graph
   order (populations in order of their first outgoing projection, then delay extensions);
   a core needs ``n_atoms * 2**4`` keys (4 colour bits; ``* n_stages`` for a delay
   extension core); with ``a`` = bits for the largest core of the vertex and
   ``B = max(bits(n_cores) + a)`` over all vertices, the key of core ``c`` is
   ``((AP << (B - a)) | c) << a`` and the mask ``0xFFFFFFFF - (2**a - 1)``. The spike key
   of neuron ``i`` at tick ``t`` is ``key + (i << 4) + (t & 0xF)``. Only populations with
   outgoing projections get keys (``key``/``mask`` are ``None`` otherwise).
4. **Weights** (``PopulationVertex.get_ring_buffer_shifts``): per post-population and
   synapse type (0 excitatory, 1 inhibitory) a left shift ``s`` is chosen from connection
   statistics (30 Hz presynaptic rate, 5 sigma) so the expected maximal summed input of a
   tick fits; weights are stored as ``W = rint(|w| 2^{15 - s})`` (16 bits, nA for
   ``IF_curr_exp``, mV for ``IF_curr_delta``), the input on chip is ``W << s`` read as
   s16.15.
5. **Synaptic rows** (``SynapseDynamicsStatic.get_static_synaptic_data``), one 32-bit
   word per synapse::

       word = (W << 16) | (delay << (n_idx + n_type)) | (type << n_idx) | target_in_core

   Synapses with a delay ``<= S`` sit in the rows of the presynaptic core; longer ones in
   the rows of the delay extension core: stage ``k = floor((d - 1) / S)``, stored delay
   ``d - k S``, row ``(k - 1) * n_core_atoms + i`` (stage-major).

The result is exact for networks the exporter writes; what differs from a real board run
(placement on chips, which is sPyNNaker's placer, is estimated sequentially) is said where
it is computed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from snnsim.hardware.spinnaker_rules import (
    CELL_TYPES,
    COLOUR_BITS,
    CORES_PER_CHIP,
    MAX_DELAY_STAGES,
    MAX_RING_BUFFER_BITS,
    MAX_ROW_LENGTH,
    N_SYNAPSE_TYPES,
    NEURONS_PER_CORE,
    POISSON_PER_CORE,
    PynnProjection,
    bits_needed,
    check_exportable,
    decode_rows,
    delay_slots,
    delay_ticks,
    encode_rows,
    get_n_bits,
    list_delay_ms,
    pynn_projections,
    ring_buffer_shifts,
    timestep_ms,
    weight_scale,
)

from snnsim.errors import HardwareConstraintError, ParameterError

if TYPE_CHECKING:
    from snnsim.network import Network

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
    "CoreMapping",
    "DelayCore",
    "DelayExtension",
    "PynnProjection",
    "SpinnakerMapping",
    "check_exportable",
    "decode_rows",
    "delay_slots",
    "encode_rows",
    "get_n_bits",
    "map_network",
    "pynn_projections",
    "ring_buffer_shifts",
    "spinnaker_row_length",
    "weight_scale",
]

_U32 = npt.NDArray[np.uint32]


# ------------------------------------------------------------------------ result objects
@dataclass(frozen=True)
class CoreMapping:
    """One population core (machine vertex): neurons ``lo_atom..hi_atom`` (inclusive)."""

    index: int
    population: str
    lo_atom: int
    hi_atom: int
    #: routing key and mask, None when the population sends nothing
    key: int | None
    mask: int | None
    #: ring-buffer delay slots (ticks) of the core; 0 for a source
    delay_slots: int
    #: chip of a sequential placement, 17 application cores per chip (an estimate: the
    #: sPyNNaker placer decides the real one)
    chip: int

    @property
    def n_atoms(self) -> int:
        """Neurons on the core."""
        return self.hi_atom - self.lo_atom + 1

    def spike_key(self, neuron: int, tick: int) -> int:
        """Multicast key of neuron ``neuron`` (index in the population) at tick ``tick``."""
        if self.key is None:
            raise ParameterError(f"core {self.index} ({self.population}) sends no spikes")
        return self.key + ((neuron - self.lo_atom) << COLOUR_BITS) + (tick & 0xF)


@dataclass(frozen=True)
class DelayCore:
    """One core of a delay extension (the same slice as the presynaptic core)."""

    index: int
    lo_atom: int
    hi_atom: int
    key: int
    mask: int


@dataclass(frozen=True)
class DelayExtension:
    """Delay extension of one presynaptic population (``DelayExtensionVertex``)."""

    population: str
    n_delay_stages: int
    delay_per_stage: int
    cores: list[DelayCore]


@dataclass
class SpinnakerMapping:
    """Result of :func:`map_network` (see the module docstring for every field's rule).

    ``rows[(pre_core, post_core)]`` lists one uint32 array per presynaptic neuron of the
    pre core (headers stripped); ``delayed_rows[(delay_core, post_core)]`` one per
    (stage, neuron), stage-major. ``ring_buffer_shifts[label]`` and ``weight_scales[label]``
    are per synapse type (exc, inh).
    """

    dt: float
    cores: list[CoreMapping]
    delay_extensions: list[DelayExtension]
    rows: dict[tuple[int, int], list[_U32]]
    delayed_rows: dict[tuple[int, int], list[_U32]]
    ring_buffer_shifts: dict[str, tuple[int, ...]]
    weight_scales: dict[str, tuple[float, ...]]
    #: neuron-index bits of the words onto each post population
    neuron_bits: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    def cores_of(self, label: str) -> list[CoreMapping]:
        """Cores of one population."""
        return [c for c in self.cores if c.population == label]

    def summary(self) -> str:
        """Human-readable table of cores, keys, delays and synapse counts."""
        lines = [f"SpiNNaker mapping at dt={self.dt} ms: {len(self.cores)} cores"]
        for c in self.cores:
            key = "-" if c.key is None else f"{c.key:#010x}/{c.mask:#010x}"
            n_syn = sum(
                sum(r.size for r in rows) for (a, _), rows in self.rows.items() if a == c.index
            )  # synapses that leave through a delay extension are counted with it
            lines.append(
                f"  core {c.index:3d} {c.population}[{c.lo_atom}:{c.hi_atom + 1}] key {key} "
                f"slots {c.delay_slots} chip {c.chip} out-synapses {n_syn}"
            )
        for ext in self.delay_extensions:
            idx = {dc.index for dc in ext.cores}
            n_del = sum(
                sum(r.size for r in rows) for (a, _), rows in self.delayed_rows.items() if a in idx
            )
            lines.append(
                f"  delay extension of {ext.population}: {ext.n_delay_stages} stage(s) of "
                f"{ext.delay_per_stage} ticks on {len(ext.cores)} core(s), {n_del} synapses"
            )
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# ------------------------------------------------------------------------ the mapping
def _slices(n: int, per_core: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + per_core, n) - 1) for lo in range(0, n, per_core)]


def _per_core(pop: Any, max_neurons_per_core: int, overrides: Mapping[str, int]) -> int:
    if pop.label in overrides:
        n = int(overrides[pop.label])
    elif pop.model.name == "SpikeSource":
        n = max(pop.size, 1)
    elif pop.model.name == "PoissonSource":
        n = POISSON_PER_CORE
    else:
        n = max_neurons_per_core
        if n > NEURONS_PER_CORE:
            raise HardwareConstraintError(
                f"map_network(max_neurons_per_core={n}): a SpiNNaker core runs at most "
                f"{NEURONS_PER_CORE} neurons of {pop.model.name}; use a value <= "
                f"{NEURONS_PER_CORE}"
            )
    if n < 1:
        raise ParameterError(f"neurons per core of {pop.label!r} is {n}; use >= 1")
    return n


def map_network(
    net: Network,
    max_neurons_per_core: int = NEURONS_PER_CORE,
    neurons_per_core: Mapping[str, int] | None = None,
    check_rows: bool = True,
) -> SpinnakerMapping:
    """Map ``net`` onto SpiNNaker1 cores as sPyNNaker would (see the module docstring).

    Parameters
    ----------
    net : Network
        LIF / LIFDelta populations, SpikeSource / PoissonSource inputs, projections
        (plastic ones are mapped with fixed-synapse rows and named in ``warnings``).
    max_neurons_per_core : int
        Neurons per core of neuron populations, ``<= 256``
        (``sim.set_number_of_neurons_per_core``).
    neurons_per_core : mapping of label -> int, optional
        Per-population override (also for sources).
    check_rows : bool
        Refuse rows longer than :data:`MAX_ROW_LENGTH` (False: return them, for the
        design rule :func:`spinnaker_row_length`).

    Raises
    ------
    HardwareConstraintError
        A model PyNN/SpiNNaker lacks, current inputs, a delay longer than
        ``9 * delay_slots`` ticks, or a row longer than 256 synapses.
    """
    overrides = dict(neurons_per_core or {})
    dt_ms = timestep_ms(net.dt)
    projs = pynn_projections(net)
    pops = net.populations
    per_core = [_per_core(p, max_neurons_per_core, overrides) for p in pops]
    slices = [_slices(p.size, k) for p, k in zip(pops, per_core, strict=True)]
    first_core = np.concatenate([[0], np.cumsum([len(s) for s in slices])]).astype(int)

    # ---- delays per post population (ms as sPyNNaker computes them from the script)
    n_idx = [get_n_bits(min(p.size, k)) for p, k in zip(pops, per_core, strict=True)]
    max_delay_ms = [0.0] * len(pops)
    for pp in projs:
        d_ms = float(np.max(list_delay_ms(pp.delay, net.dt)))
        max_delay_ms[pp.post_pop] = max(max_delay_ms[pp.post_pop], d_ms)
    slots = []
    for i, pop in enumerate(pops):
        available = 2 ** (MAX_RING_BUFFER_BITS - n_idx[i] - get_n_bits(N_SYNAPSE_TYPES))
        incoming = 2 ** get_n_bits(math.ceil(max_delay_ms[i] / dt_ms))
        slots.append(min(incoming, available) if pop.model.name in ("LIF", "LIFDelta") else 0)

    # ---- delay extensions (one per presynaptic population)
    stages: dict[int, tuple[int, int]] = {}
    for pp in projs:
        s = slots[pp.post_pop]
        need_ms = float(np.max(list_delay_ms(pp.delay, net.dt)))
        have_ms = s * dt_ms
        if have_ms >= need_ms:
            continue
        total_ms = MAX_DELAY_STAGES * s * dt_ms + have_ms
        if total_ms < need_ms:
            raise HardwareConstraintError(
                f"projection {pp.source} ({pops[pp.pre_pop].label} -> "
                f"{pops[pp.post_pop].label}) has a max delay of {need_ms} ms but at dt="
                f"{dt_ms} ms the board supports at most {total_ms} ms ({s} slots per core "
                f"plus {MAX_DELAY_STAGES} delay-extension stages of {s}); shorten the delays "
                f"or put fewer neurons per core on {pops[pp.post_pop].label!r}"
            )
        n_st = math.ceil(need_ms / have_ms) - 1
        old = stages.get(pp.pre_pop)
        if old is not None and old[1] != s:
            raise HardwareConstraintError(
                f"the delay extension of {pops[pp.pre_pop].label!r} would need stages of "
                f"{old[1]} and {s} ticks (post populations with different delay slots); "
                "sPyNNaker supports one stage length per source population"
            )
        stages[pp.pre_pop] = (max(n_st, old[0] if old else 0), s)

    # ---- routing keys: (vertex, partition) in graph order
    order: list[int] = []
    for pp in projs:
        if pp.pre_pop not in order:
            order.append(pp.pre_pop)
    vertices: list[tuple[str, int, list[int]]] = []  # (kind, pop, keys per core)
    for p in order:
        vertices.append(("pop", p, [(hi - lo + 1) << COLOUR_BITS for lo, hi in slices[p]]))
    for p in sorted(stages, key=lambda q: order.index(q)):
        n_st = stages[p][0]
        vertices.append(
            ("delay", p, [((hi - lo + 1) << COLOUR_BITS) * n_st for lo, hi in slices[p]])
        )
    atom_bits = [bits_needed(max(keys)) for _, _, keys in vertices]
    total_bits = max(
        (bits_needed(len(keys)) + a for (_, _, keys), a in zip(vertices, atom_bits, strict=True)),
        default=0,
    )
    ap_bits = bits_needed(len(vertices))
    if ap_bits + total_bits > 32:
        raise HardwareConstraintError(
            f"routing keys need {ap_bits} + {total_bits} bits > 32; use fewer populations"
        )
    keys: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for ap, ((kind, p, n_keys), a) in enumerate(zip(vertices, atom_bits, strict=True)):
        v_mask = 0xFFFFFFFF - ((1 << a) - 1)
        shift_m = total_bits - a
        keys[kind, p] = [(((ap << shift_m) | m) << a, v_mask) for m in range(len(n_keys))]

    cores = []
    for i, pop in enumerate(pops):
        for m, (lo, hi) in enumerate(slices[i]):
            index = int(first_core[i] + m)
            key: int | None = None
            mask: int | None = None
            if ("pop", i) in keys:
                key, mask = keys["pop", i][m]
            cores.append(
                CoreMapping(index, pop.label, lo, hi, key, mask, slots[i], index // CORES_PER_CHIP)
            )
    extensions = []
    next_core = len(cores)
    warnings = []
    if dt_ms < 1.0:
        warnings.append(
            f"at dt={dt_ms} ms (< 1 ms) sPyNNaker may run a population core as a neuron core "
            "plus synapse core(s) (SplitterPopulationVertexNeuronsSynapses); `cores` lists "
            "the neuron cores, which hold the routing keys"
        )
    for p, (n_st, per_stage) in stages.items():
        dcores = []
        for m, (lo, hi) in enumerate(slices[p]):
            d_key, d_mask = keys["delay", p][m]
            dcores.append(DelayCore(next_core, lo, hi, d_key, d_mask))
            next_core += 1
        extensions.append(DelayExtension(pops[p].label, n_st, per_stage, dcores))
        if n_st >= 2 and pops[p].size % NEURONS_PER_CORE:
            warnings.append(
                f"{pops[p].label!r} has {pops[p].size} neurons (not a multiple of 256) and "
                f"a delay extension of {n_st} stages: sPyNNaker 7.4 silently drops some of "
                "these delayed synapses (reference notes section 7.4)"
            )

    for pp in projs:
        if pp.plastic_w_max is not None:
            warnings.append(
                f"projection {net.projections[pp.source].label!r} is plastic (STDP): its rows "
                "here are fixed-synapse words of its current weights; sPyNNaker writes plastic "
                "rows (header and presynaptic trace per row), which are not modelled. Its "
                f"ring-buffer shift allows every weight to reach |w_max| = {pp.plastic_w_max:g}"
                " as sPyNNaker's does"
            )
    # ---- weights and rows
    shifts: dict[str, tuple[int, ...]] = {}
    scales: dict[str, tuple[float, ...]] = {}
    for i, pop in enumerate(pops):
        if pop.model.name in ("LIF", "LIFDelta"):
            sh = ring_buffer_shifts([pp for pp in projs if pp.post_pop == i], net.dt)
            shifts[pop.label] = sh
            scales[pop.label] = tuple(weight_scale(s) for s in sh)
    rows: dict[tuple[int, int], list[_U32]] = {}
    delayed: dict[tuple[int, int], list[_U32]] = {}
    ext_of = {pops.index(pops[p]): e for p, e in zip(stages, extensions, strict=True)}
    for pp in projs:
        post = pops[pp.post_pop]
        scale = scales[post.label][pp.synapse_type]
        w_stored = np.rint(np.abs(pp.weight * scale)).astype(np.int64)
        if w_stored.size and w_stored.max() > 0xFFFF:
            raise HardwareConstraintError(
                f"projection {pp.source}: weight {pp.weight.max()} scales to "
                f"{w_stored.max()} > 65535"
            )
        s = slots[pp.post_pop]
        ticks = delay_ticks(pp.delay, net.dt)
        # synapses in the order sPyNNaker's FromListConnector gives them to each post
        # core (its unstable argsort by core; the order within a row changes nothing on
        # the board, it is kept so the words equal sPyNNaker's one for one)
        post_core_of = np.zeros(pops[pp.post_pop].size, dtype=np.uint32)
        for post_m, (qlo, qhi) in enumerate(slices[pp.post_pop]):
            post_core_of[qlo : qhi + 1] = post_m
        tv = post_core_of[pp.post]
        by_core = np.argsort(tv)
        for post_m, (qlo, _qhi) in enumerate(slices[pp.post_pop]):
            on_core = by_core[tv[by_core] == post_m]
            for pre_m, (plo, phi) in enumerate(slices[pp.pre_pop]):
                sel = on_core[(pp.pre[on_core] >= plo) & (pp.pre[on_core] <= phi)]
                if not sel.size:
                    continue
                src = pp.pre[sel] - plo
                d = ticks[sel]
                stage = np.floor(np.round(d - 1.0) / s).astype(np.int64)
                words = encode_rows(
                    pp.post[sel] - qlo, np.full(src.size, pp.synapse_type),
                    d - s * stage, w_stored[sel], n_idx[pp.post_pop], 1,
                )  # fmt: skip
                post_core = int(first_core[pp.post_pop] + post_m)
                undelayed = stage == 0
                if np.any(undelayed):
                    _add_rows(
                        rows, (int(first_core[pp.pre_pop] + pre_m), post_core),
                        phi - plo + 1, src[undelayed], words[undelayed],
                    )  # fmt: skip
                if np.any(~undelayed):
                    ext = ext_of[pp.pre_pop]
                    n_core = phi - plo + 1
                    _add_rows(
                        delayed, (ext.cores[pre_m].index, post_core), n_core * ext.n_delay_stages,
                        (stage[~undelayed] - 1) * n_core + src[~undelayed], words[~undelayed],
                    )  # fmt: skip
    for k, longest in _overlong_rows(rows, delayed) if check_rows else ():
        raise HardwareConstraintError(
            f"synaptic row of {longest} synapses from core {k[0]} to core {k[1]}; "
            f"SpiNNaker rows hold at most {MAX_ROW_LENGTH}"
        )
    return SpinnakerMapping(
        net.dt, cores, extensions, rows, delayed, shifts, scales,
        {p.label: n_idx[i] for i, p in enumerate(pops)}, warnings,
    )  # fmt: skip


def spinnaker_row_length(ctx: Any) -> list[Any]:
    """Design rule: no synaptic row longer than :data:`MAX_ROW_LENGTH` synapses.

    A row holds the synapses of one presynaptic neuron onto one post core (both synapse
    types, every projection between the two populations; per delay stage), as
    :func:`map_network` lays them out; it is mapped here to count them. Networks the
    mapping refuses for other reasons are left to the other rules.
    """
    from snnsim.hardware.rules import Violation

    try:
        m = map_network(ctx.net, check_rows=False)
    except HardwareConstraintError:
        return []
    label = {c.index: f"{c.population}[{c.lo_atom}:{c.hi_atom + 1}]" for c in m.cores}
    for e in m.delay_extensions:
        label.update({c.index: f"{e.population} delay extension" for c in e.cores})
    return [
        Violation(
            "spinnaker_row_length", "error", f"{label[pre]} -> {label[post]}",
            f"a presynaptic neuron has {longest} synapses onto one core (both receptors, every "
            f"projection); SpiNNaker rows hold at most {MAX_ROW_LENGTH}",
            "put fewer neurons on each post core (hw.spinnaker.map(net, "
            "neurons_per_core={label: n})), or remove multapses / merge the projections' "
            "synapses",
            {"row_length": longest, "max": MAX_ROW_LENGTH},
        )
        for (pre, post), longest in _overlong_rows(m.rows, m.delayed_rows)
    ]  # fmt: skip


def _overlong_rows(
    *tables: dict[tuple[int, int], list[_U32]],
) -> list[tuple[tuple[int, int], int]]:
    """Return ``((pre core, post core), longest row)`` where a row exceeds ``MAX_ROW_LENGTH``."""
    out = []
    for table in tables:
        for key, rr in table.items():
            longest = max(r.size for r in rr)
            if longest > MAX_ROW_LENGTH:
                out.append((key, longest))
    return out


def _add_rows(
    table: dict[tuple[int, int], list[_U32]],
    key: tuple[int, int],
    n_rows: int,
    row: npt.NDArray[np.int64],
    words: _U32,
) -> None:
    """Append ``words`` to rows ``row`` of ``table[key]`` keeping their order per row."""
    rows = table.setdefault(key, [np.zeros(0, dtype=np.uint32) for _ in range(n_rows)])
    order = np.argsort(row, kind="stable")
    bounds = np.searchsorted(row[order], np.arange(n_rows + 1))
    for i in range(n_rows):
        if bounds[i + 1] > bounds[i]:
            rows[i] = np.concatenate([rows[i], words[order[bounds[i] : bounds[i + 1]]]])


#: ``hw.spinnaker.map(net)``: the name the issue and the README use for :func:`map_network`.
map = map_network
