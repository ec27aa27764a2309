r"""Astrocyte effects on neurons and synapses: ``net.modulate`` (description and build).

``net.modulate(source, target, connector=None, effect=..., weight=1.0, delay=dt)`` makes
the output :math:`y_j` of each astrocyte :math:`j` of ``source`` act on the neurons, or
on the synapses of a projection, that ``connector`` maps it to (its *domain*; ``None``:
every astrocyte acts on every target). The output is ``A`` for
:class:`~snnsim.models.Astrocyte` (NALSM) and ``SIC`` for
:class:`~snnsim.models.AstrocyteLR` (NEST ``astrocyte_lr_1994``).

Timing (NEST ``sic_connection``): the output after the astrocyte's update of stamp
:math:`s` acts at stamp :math:`s + d`, :math:`d` = ``delay`` in steps (``>= 1``). Before
the first recorded output (:math:`s` at or before the stamp the engine was built at) the
output the astrocyte had when the network was built is used. Modulation delays count
toward the run loop's chunk length like synaptic delays, so every value is read in a
later chunk than the one that wrote it: results are bit-identical for any number of
threads, for split runs and after resuming a checkpoint (the output history is saved).

Effects, with :math:`M(i)` the modulations acting on target :math:`i` (several
``modulate`` calls and several astrocytes compose: their terms add, in creation order,
then by astrocyte):

``"current"`` (neurons; :class:`~snnsim.models.LIF`, :class:`~snnsim.models.LIFDelta`)
    A DC current added to the neuron's ``i_offset`` in its update of stamp :math:`t`:

    .. math:: I_{offset,i}(t) = I_{offset,i} + \sum_{m \in M(i)} w_m\, y_{j_m}(t - d_m)
              \quad (\mathrm{nA})

    For ``AstrocyteLR`` this is NEST's ``sic_connection``: ``SIC`` is in NEST's units (pA
    for a ``SIC_scale`` in pA), so ``weight=1e-3`` adds it as NEST does to a neuron in nA.
``"threshold"`` (neurons; LIF, LIFDelta)
    :math:`V_{th,i}(t) = V_{th,i} + \sum_m w_m\, y_{j_m}(t - d_m)` (mV) in the threshold
    test of the update of stamp :math:`t`.
``"gain"`` (synapses of a projection)
    A spike of stamp :math:`t` through a synapse of weight :math:`w` onto neuron :math:`i`
    transmits :math:`w\,(1 + \sum_m w_m\, y_{j_m}(t - d_m))`, read at the spike's
    emission stamp :math:`t` (so it is known when the spike is delivered), whatever the
    synaptic delay. The stored weights do not change.
``"stdp_depression"`` (synapses of a projection with :class:`~snnsim.plasticity.STDP`)
    The depression amplitude :math:`a_-` of the rule (a fraction of ``w_max``) is replaced
    by :math:`a_-(t) = \sum_m w_m\, y_{j_m}(t - d_m)`, read at the stamp :math:`t` of the
    presynaptic spike whose arrival depresses the synapse (snnsim's STDP depresses when a
    presynaptic spike is delivered). With ``delay = dt`` the spike of step :math:`t` is
    depressed with the output after step :math:`t-1`: NALSM's order (STDP, then trace,
    then astrocyte, within one step). NALSM's :math:`\Delta w = -A\,x_{post}` in weight
    units is ``weight = 1 / w_max``. A negative amplitude potentiates; the weight stays
    within :math:`[w_{min}, w_{max}]`.

The neuron effects act through per-neuron coefficients: a modulated population runs the
clock-driven kernel with per-neuron coefficients and is never skipped by event-driven
updates (its input changes every step); the other populations are not affected.
A projection with a ``"gain"`` effect is stored as a mutable block (float64 weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.connectors import AllToAll, Connector
from snnsim.errors import ConnectivityError, ParameterError, SnnsimError
from snnsim.kernels.random_streams import stream_key
from snnsim.models import LIF, Astrocyte, AstrocyteLR, LIFDelta
from snnsim.streams import STREAM_MODULATION, stream_id

if TYPE_CHECKING:
    from snnsim.engine import Engine
    from snnsim.network import Network

__all__ = ["EFFECTS", "Modulation", "build_modulation", "make_modulation"]

#: Effect names and their code in the engine (``md_ent_coef`` holds coefficient indices
#: for the neuron effects; ``md_rec_effect`` the codes of the synapse effects).
EFFECTS: tuple[str, ...] = ("current", "threshold", "gain", "stdp_depression")
NEURON_EFFECTS = {"current": "i_offset", "threshold": "v_thresh"}
SYNAPSE_EFFECTS = {"stdp_depression": 0, "gain": 1}
#: The output variable of each astrocyte model.
OUTPUTS = {"Astrocyte": "A", "AstrocyteLR": "SIC"}

_I64 = npt.NDArray[np.int64]


@dataclass
class Modulation:
    """One ``net.modulate`` call, resolved to (astrocyte, target) pairs at the call.

    ``pairs_src`` are global ids of astrocytes; ``pairs_tgt`` global ids of the target
    neurons (for a projection: of its postsynaptic neurons, whose incoming synapses of
    the projection the astrocyte acts on). Pairs are sorted by source, then target.
    """

    index: int
    source: Any
    target: Any
    connector: Connector | None
    effect: str
    weight: float
    delay: float
    delay_steps: int
    pairs_src: _I64
    pairs_tgt: _I64
    #: index of the target projection, -1 for neuron effects
    projection: int

    def describe(self) -> dict[str, Any]:
        """Plain description (for files and messages)."""
        return {
            "effect": self.effect,
            "weight": self.weight,
            "delay": self.delay,
            "connector": "None" if self.connector is None else str(self.connector.describe()),
        }


def _what(effect: object, source: Any, target: Any) -> str:
    src = getattr(getattr(source, "population", None), "label", source)
    tgt = getattr(target, "label", None) or getattr(
        getattr(target, "population", None), "label", target
    )
    return f"modulate({src} -> {tgt}, effect={effect!r})"


def make_modulation(
    net: Network,
    index: int,
    source: Any,
    target: Any,
    is_projection: bool,
    connector: Connector | None,
    effect: str,
    weight: float,
    delay: float | None,
) -> Modulation:
    """Validate one ``net.modulate`` call and resolve its pairs (see the module docstring).

    ``source``: a population or view (checked by the caller); ``target``: a population or
    view, or a projection when ``is_projection``.
    """
    what = _what(effect, source, target)
    model = source.model
    if not isinstance(model, (Astrocyte, AstrocyteLR)):
        raise ParameterError(
            f"{what}: the source is {model.name} neurons; modulate needs an astrocyte "
            "population (snn.Astrocyte or snn.AstrocyteLR)"
        )
    if not isinstance(effect, str) or effect not in EFFECTS:
        raise ParameterError(f"{what}: unknown effect; use one of {', '.join(map(repr, EFFECTS))}")
    if isinstance(model, AstrocyteLR) and effect != "current":
        raise ParameterError(
            f"{what}: an AstrocyteLR acts through its slow inward current only; use "
            "effect='current' (or an snn.Astrocyte source)"
        )
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)):
        raise ParameterError(f"{what}: weight={weight!r} must be a number")
    if not math.isfinite(float(weight)):
        raise ParameterError(f"{what}: weight={weight!r} must be finite")
    dt = net.dt
    d = dt if delay is None else delay
    if isinstance(d, bool) or not isinstance(d, (int, float, np.floating, np.integer)):
        raise ParameterError(f"{what}: delay={d!r} must be a number of ms")
    steps = round(float(d) / dt) if math.isfinite(float(d)) else 0
    if not math.isfinite(float(d)) or float(d) < dt * (1 - 1e-9) or steps < 1:
        raise ParameterError(
            f"{what}: delay={d!r} ms is shorter than dt={dt} ms; a modulation acts at least "
            "one step later (delay >= dt)"
        )
    if abs(steps * dt - float(d)) > 1e-9 * max(1.0, float(d)):
        raise ParameterError(
            f"{what}: delay={d!r} ms is not a multiple of dt={dt} ms; use e.g. delay={steps * dt!r}"
        )
    if steps >= 1 << 15:
        raise ParameterError(f"{what}: delay={d!r} ms is longer than {(1 << 15) - 1} steps")
    if effect in NEURON_EFFECTS:
        if is_projection:
            raise ParameterError(
                f"{what}: effect {effect!r} acts on neurons; pass a population or a view as "
                "the target (a projection takes 'gain' or 'stdp_depression')"
            )
        tmodel = target.model
        if not isinstance(tmodel, (LIF, LIFDelta)):
            raise ParameterError(
                f"{what}: effect {effect!r} is not supported for {tmodel.name} neurons; "
                "supported targets: LIF, LIFDelta"
            )
        tgt_gids = target.global_ids
        proj_index = -1
    else:
        if not is_projection:
            raise ParameterError(
                f"{what}: effect {effect!r} acts on the synapses of a projection; pass the "
                "projection (net.connect(...)'s result) as the target"
            )
        if effect == "stdp_depression" and target.plasticity is None:
            raise ParameterError(
                f"{what}: projection {target.label!r} is not plastic; 'stdp_depression' "
                "needs connect(..., plasticity=snn.STDP(...))"
            )
        tgt_gids = target.post.global_ids
        proj_index = int(target.index)
    if connector is not None and not isinstance(connector, Connector):
        raise ConnectivityError(
            f"{what}: connector={connector!r} must be a connector instance such as "
            "snn.AllToAll() or snn.OneToOne(), or None (every astrocyte to every target)"
        )
    src_gids = source.global_ids
    key = np.uint64(stream_key(np.uint64(net.seed), np.uint64(stream_id(STREAM_MODULATION, index))))
    try:
        indptr, post = (connector or AllToAll()).generate(key, src_gids, tgt_gids)
    except SnnsimError as err:
        raise ConnectivityError(f"{what}: {err}") from None
    counts = np.diff(np.asarray(indptr, dtype=np.int64))
    pairs_src = np.repeat(src_gids.astype(np.int64), counts)
    pairs_tgt = tgt_gids.astype(np.int64)[np.asarray(post, dtype=np.int64)]
    order = np.lexsort((pairs_tgt, pairs_src))
    return Modulation(
        index, source, target, connector, effect, float(weight), float(d), int(steps),
        pairs_src[order], pairs_tgt[order], proj_index,
    )  # fmt: skip


def _history_depth(t_d: _I64) -> int:
    """Rows of the output history: longest delay + two chunks (see kernels.modulation)."""
    need = int(t_d.max()) + 2 * int(t_d.min()) + 1
    return 1 << (need - 1).bit_length()


def build_modulation(net: Network, eng: Engine) -> None:
    """Give ``eng`` the arrays of every modulation of ``net`` (the ``md_*`` fields).

    Called by :func:`snnsim.build.build_engine` after the plastic blocks exist; a
    projection with a ``"gain"`` effect and no plasticity is moved to a mutable block here.
    """
    mods: list[Modulation] = list(getattr(net, "modulations", []))
    if not mods:
        return
    from snnsim.synapses import resolve_projection

    moved: set[int] = set()
    for m in mods:
        proj = m.target
        if m.effect == "gain" and proj.plasticity is None and m.projection not in moved:
            table = resolve_projection(net, proj)
            eng.set_projection(
                proj.index, proj.pre.global_ids, proj.post.global_ids, table.receptor,
                table.pre, table.post, table.weight.astype(np.float64), table.delay,
            )  # fmt: skip
            moved.add(m.projection)
    src_gid = np.unique(np.concatenate([m.pairs_src for m in mods]))
    pop_of = np.searchsorted(eng.pop_start, src_gid, side="right") - 1
    var = np.zeros(src_gid.size, dtype=np.int64)
    for j, p in enumerate(pop_of):
        model = net.populations[int(p)].model
        var[j] = model.float_vars.index(OUTPUTS[type(model).__name__])
    # every term: (target gid, slot key, modulation index, astrocyte column, weight, delay)
    t_gid, t_key, t_mod, t_src, t_w, t_d, t_rec = [], [], [], [], [], [], []
    rec_keys: list[tuple[int, int]] = []
    for m in mods:
        if m.effect in NEURON_EFFECTS:
            key = m.target.model.coefficient_names.index(NEURON_EFFECTS[m.effect])
            rec = -1
        else:
            rk = (m.projection, SYNAPSE_EFFECTS[m.effect])
            if rk not in rec_keys:
                rec_keys.append(rk)
            key = 0
            rec = rec_keys.index(rk)
        n = m.pairs_src.size
        t_gid.append(m.pairs_tgt)
        t_key.append(np.full(n, key, dtype=np.int64))
        t_rec.append(np.full(n, rec, dtype=np.int64))
        t_mod.append(np.full(n, m.index, dtype=np.int64))
        t_src.append(np.searchsorted(src_gid, m.pairs_src).astype(np.int64))
        t_w.append(np.full(n, m.weight))
        t_d.append(np.full(n, m.delay_steps, dtype=np.int64))
    gid, key_, rec_, mod_ = (np.concatenate(x) for x in (t_gid, t_key, t_rec, t_mod))
    src, w, d = np.concatenate(t_src), np.concatenate(t_w), np.concatenate(t_d)
    # neuron terms first (rec -1), grouped by (gid, coefficient); then each record's terms
    # by target; within a group: creation order, then astrocyte
    order = np.lexsort((src, mod_, key_, gid, rec_))
    gid, key_, rec_, src, w, d = (x[order] for x in (gid, key_, rec_, src, w, d))
    neu = rec_ < 0
    n_neu = int(neu.sum())
    if n_neu:
        first = np.ones(n_neu, dtype=bool)
        first[1:] = (gid[1:n_neu] != gid[: n_neu - 1]) | (key_[1:n_neu] != key_[: n_neu - 1])
        starts = np.flatnonzero(first)
        ent_gid, ent_coef = gid[starts], key_[starts]
        ent_ptr = np.append(starts, n_neu).astype(np.int64)
    else:
        ent_gid = ent_coef = np.zeros(0, dtype=np.int64)
        ent_ptr = np.zeros(1, dtype=np.int64)
    rec_proj = np.array([k[0] for k in rec_keys], dtype=np.int64)
    rec_eff = np.array([k[1] for k in rec_keys], dtype=np.int64)
    rec_tlo = np.zeros(len(rec_keys), dtype=np.int64)
    rec_off = np.zeros(len(rec_keys), dtype=np.int64)
    ptr_parts = []
    off = 0
    for r, (pi, _) in enumerate(rec_keys):
        post = net.projections[pi].post.global_ids
        lo, hi = int(post.min()), int(post.max()) + 1
        sel = np.flatnonzero(rec_ == r)
        counts = np.bincount(gid[sel] - lo, minlength=hi - lo)
        base = int(sel[0]) if sel.size else n_neu
        rows = base + np.concatenate(([0], np.cumsum(counts)))
        rec_tlo[r], rec_off[r] = lo, off
        ptr_parts.append(rows.astype(np.int64))
        off += rows.size
    eng.md_src_gid, eng.md_src_var = src_gid.astype(np.int64), var
    eng.md_ent_gid, eng.md_ent_coef, eng.md_ent_ptr = ent_gid, ent_coef, ent_ptr
    eng.md_t_src, eng.md_t_w, eng.md_t_d = src, w.astype(np.float64), d
    eng.md_rec_proj, eng.md_rec_effect, eng.md_rec_tlo, eng.md_rec_off = (
        rec_proj, rec_eff, rec_tlo, rec_off,
    )  # fmt: skip
    eng.md_rec_ptr = np.concatenate(ptr_parts) if ptr_parts else np.zeros(0, dtype=np.int64)
    # before the first step every row holds the outputs the astrocytes have now
    addr = eng.pop_foff[pop_of] + var * eng.pop_size[pop_of] + (src_gid - eng.pop_start[pop_of])
    now = eng.fstate[addr].astype(np.float64)
    eng.md_hist = np.tile(now, (_history_depth(d), 1))
