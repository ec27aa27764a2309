"""Design-rule checks: what a target cannot run, where, by how much, and how to fix it.

>>> from snnsim import hardware as hw
>>> report = hw.check(net, "spinnaker1")         # doctest: +SKIP
>>> print(report)                                # doctest: +SKIP
>>> report.ok                                    # doctest: +SKIP

Every rule is a small named function ``rule(ctx) -> list[Violation]`` in :data:`RULES`
(as Rockpool's ``check_drc``); a :class:`~snnsim.hardware.targets.Target` lists the rules
that apply to it. A rule reads the network only through public objects: populations and
their model class names, ``proj.table()`` (:class:`~snnsim.synapses.ProjectionTable`),
and attributes it asks for with ``getattr`` (``proj.plasticity``, ``proj.weight_exp``,
``net.astrocytes``), so models and features added later are checked without editing the
rule, as long as they expose those names.

Severities: ``"error"`` (the target cannot run it: ``export`` refuses, unless the rule is
named in ``drop=[...]``, which leaves the feature out and records that in the file) and
``"warning"`` (it runs, but something is approximated or only kept in metadata; exporters
record warnings in the file too, so nothing is lost silently).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from snnsim.hardware.nir_discrete import nir_reset
from snnsim.hardware.spinnaker import spinnaker_row_length
from snnsim.hardware.spinnaker_rules import spinnaker_stdp
from snnsim.hardware.targets import Target, get_target

from snnsim.errors import HardwareConstraintError, ParameterError

if TYPE_CHECKING:
    from snnsim.network import Network, Projection
    from snnsim.populations import Population
    from snnsim.synapses import ProjectionTable

__all__ = ["RULES", "Context", "Report", "Violation", "check"]


@dataclass(frozen=True)
class Violation:
    """One thing a target cannot run (or runs only approximately).

    Attributes
    ----------
    rule : str
        Name of the rule (a key of :data:`RULES`); ``drop=[rule]`` opts out of it.
    severity : {"error", "warning"}
    where : str
        The population or projection it concerns, e.g. ``"population 'exc'"``.
    message : str
        What is wrong, with the numbers.
    fix : str
        How to make the network runnable.
    values : dict
        The numbers (for programs): e.g. ``{"delay_ticks": 300, "max": 288}``.
    """

    rule: str
    severity: str
    where: str
    message: str
    fix: str
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.severity.upper():7s} [{self.rule}] {self.where}: {self.message}\n" + (
            f"        fix: {self.fix}"
        )


@dataclass
class Report:
    """Result of :func:`check`: every violation of a network against one target."""

    target: Target
    violations: list[Violation]

    @property
    def errors(self) -> list[Violation]:
        """Violations the target cannot run."""
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        """Violations that run approximately (recorded in exported files)."""
        return [v for v in self.violations if v.severity == "warning"]

    @property
    def ok(self) -> bool:
        """Whether the target can run the network (no errors; warnings allowed)."""
        return not self.errors

    def rules(self, severity: str | None = None) -> list[str]:
        """Names of the rules with violations (of ``severity``, if given), in order."""
        out: list[str] = []
        for v in self.violations:
            if (severity is None or v.severity == severity) and v.rule not in out:
                out.append(v.rule)
        return out

    def __str__(self) -> str:
        t = self.target
        head = (
            f"Design-rule check against {t.name!r} ({t.description}): "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )
        if not self.violations:
            return head + "\n  the target can run this network"
        return "\n".join([head, *(str(v) for v in self.violations)])

    def require(self, drop: Iterable[str] = ()) -> None:
        """Raise unless every error belongs to a rule named in ``drop``.

        Raises
        ------
        HardwareConstraintError
            Naming each failing rule, where, the numbers and the fix.
        ParameterError
            If ``drop`` names a rule that does not exist.
        """
        dropped = set(drop)
        unknown = sorted(dropped - set(RULES))
        if unknown:
            raise ParameterError(
                f"drop={sorted(dropped)!r}: unknown rule(s) {', '.join(unknown)}; rules are "
                f"{', '.join(RULES)}"
            )
        left = [v for v in self.errors if v.rule not in dropped]
        if left:
            lines = "\n".join(str(v) for v in left)
            raise HardwareConstraintError(
                f"target {self.target.name!r} cannot run this network "
                f"(rule(s) {', '.join(dict.fromkeys(v.rule for v in left))}):\n{lines}\n"
                "Fix the network, or pass drop=[rule, ...] to leave those features out "
                "(recorded in the exported file)"
            )


class Context:
    """What the rules read: the network, the target and projection tables (read once)."""

    def __init__(self, net: Network, target: Target) -> None:
        self.net = net
        self.target = target
        self._tables: dict[int, ProjectionTable] = {}

    def table(self, proj: Projection) -> ProjectionTable:
        """``proj.table()``, resolved once per check."""
        if proj.index not in self._tables:
            self._tables[proj.index] = proj.table()
        return self._tables[proj.index]

    def populations(self) -> list[Population]:
        """Return the network's populations."""
        return list(self.net.populations)

    def projections(self) -> list[Projection]:
        """Return the network's projections."""
        return list(self.net.projections)


def model_name(pop: Population) -> str:
    """Model class name of a population (what targets list)."""
    return type(pop.model).__name__


def pop_where(pop: Population) -> str:
    """Return ``"population 'label'"``."""
    return f"population {pop.label!r}"


def proj_where(proj: Projection) -> str:
    """Return ``"projection 'label' (pre -> post)"``."""
    return (
        f"projection {proj.label!r} ({proj.pre.population.label} -> {proj.post.population.label})"
    )


def global_pre(proj: Projection, table: ProjectionTable) -> npt.NDArray[np.int64]:
    """Return population indices of the presynaptic neurons of ``table`` (views resolved)."""
    out: npt.NDArray[np.int64] = np.asarray(proj.pre.indices, dtype=np.int64)[table.pre]
    return out


def global_post(proj: Projection, table: ProjectionTable) -> npt.NDArray[np.int64]:
    """Return population indices of the postsynaptic neurons of ``table`` (views resolved)."""
    out: npt.NDArray[np.int64] = np.asarray(proj.post.indices, dtype=np.int64)[table.post]
    return out


# ----------------------------------------------------------------------------- board rules
def neuron_models(ctx: Context) -> list[Violation]:
    """Every population's model class must be one the target runs."""
    t, out = ctx.target, []
    for pop in ctx.populations():
        name = model_name(pop)
        if name in t.models or getattr(pop.model, "is_astrocyte", False):
            continue  # astrocytes are the rule "astrocytes"'s
        fix = t.model_fixes.get(
            name,
            f"use one of {', '.join(sorted(t.models))}, or drop=['neuron_models'] to leave the "
            "population and its projections out",
        )
        out.append(
            Violation(
                "neuron_models", "error", pop_where(pop),
                f"model {name} ({pop.size} neurons) is not supported by {t.name}; supported: "
                f"{', '.join(sorted(t.models))}",
                fix, {"model": name},
            )
        )  # fmt: skip
    return out


def neurons_per_core(ctx: Context) -> list[Violation]:
    """Check that populations split into cores of ``neurons_per_core`` fit the board."""
    t = ctx.target
    if t.neurons_per_core is None or t.cores is None:
        return []
    per_pop = {p.label: math.ceil(p.size / t.neurons_per_core) for p in ctx.populations()}
    total = sum(per_pop.values())
    if total <= t.cores:
        return []
    biggest = sorted(per_pop.items(), key=lambda kv: -kv[1])[:3]
    return [
        Violation(
            "neurons_per_core", "error", "network",
            f"{total} cores needed at {t.neurons_per_core} neurons per core (largest: "
            f"{', '.join(f'{k!r} {v}' for k, v in biggest)}), the board has {t.cores}",
            f"use fewer or smaller populations (at most {t.cores * t.neurons_per_core} "
            "neurons in all), or several boards",
            {"cores_needed": total, "cores": t.cores, "neurons_per_core": t.neurons_per_core},
        )
    ]  # fmt: skip


def fan_in(ctx: Context) -> list[Violation]:
    """Check that no core receives from more than ``fan_in`` presynaptic neurons (axons)."""
    t, out = ctx.target, []
    if t.fan_in is None or t.neurons_per_core is None:
        return []
    for pop in ctx.populations():
        sources: list[npt.NDArray[np.int64]] = []
        posts: list[npt.NDArray[np.int64]] = []
        for proj in ctx.projections():
            if proj.post.population is not pop:
                continue
            table = ctx.table(proj)
            # a neuron id unique across populations: (population index, position)
            sources.append(proj.pre.population.index * (1 << 40) + global_pre(proj, table))
            posts.append(global_post(proj, table))
        if not sources:
            continue
        src, core = np.concatenate(sources), np.concatenate(posts) // t.neurons_per_core
        pairs = np.unique(np.stack([core, src]), axis=1)
        cores, counts = np.unique(pairs[0], return_counts=True)
        if counts.max(initial=0) > t.fan_in:
            worst = int(np.argmax(counts))
            out.append(
                Violation(
                    "fan_in", "error", pop_where(pop),
                    f"core {int(cores[worst])} of the population (neurons "
                    f"{int(cores[worst]) * t.neurons_per_core}..) receives from "
                    f"{int(counts[worst])} distinct presynaptic neurons > {t.fan_in} input axons "
                    f"({int(np.sum(counts > t.fan_in))} core(s) over the limit)",
                    "connect more sparsely (FixedInDegree), or use smaller cores so each "
                    "receives from fewer neurons",
                    {"fan_in": int(counts[worst]), "max": t.fan_in},
                )
            )  # fmt: skip
    return out


def delay_range(ctx: Context) -> list[Violation]:
    """Delays (ticks) must be in the target's range; SpiNNaker beyond its slots warns."""
    t, out = ctx.target, []
    lo, hi = t.delay_ticks
    top = t.max_delay_ticks if t.max_delay_ticks is not None else hi
    for proj in ctx.projections():
        d = ctx.table(proj).delay
        if not d.size:
            continue
        dmin, dmax = int(d.min()), int(d.max())
        where = proj_where(proj)
        if dmin < lo:
            out.append(
                Violation(
                    "delay_range", "error", where,
                    f"{int(np.sum(d < lo))} synapse(s) have a delay of {dmin} ticks < {lo}",
                    f"use delays >= {lo * ctx.net.dt:g} ms", {"delay_ticks": dmin, "min": lo},
                )
            )  # fmt: skip
        if top is not None and dmax > top:
            out.append(
                Violation(
                    "delay_range", "error", where,
                    f"{int(np.sum(d > top))} synapse(s) have delays up to {dmax} ticks "
                    f"({dmax * ctx.net.dt:g} ms) > {top} ticks, the most {t.name} supports",
                    f"keep delays <= {top * ctx.net.dt:g} ms at dt={ctx.net.dt:g} ms (or chain "
                    "relay neurons for longer delays)",
                    {"delay_ticks": dmax, "max": top},
                )
            )  # fmt: skip
        elif hi is not None and dmax > hi:
            out.append(
                Violation(
                    "delay_range", "warning", where,
                    f"{int(np.sum(d > hi))} synapse(s) have delays up to {dmax} ticks > the "
                    f"{hi} delay slots of a core: delay-extension cores are added",
                    f"keep delays <= {hi * ctx.net.dt:g} ms to avoid extra cores",
                    {"delay_ticks": dmax, "slots": hi},
                )
            )  # fmt: skip
    return out


def spinnaker_delay_extension_sizes(ctx: Context) -> list[Violation]:
    """Refuse delays sPyNNaker drops silently (2+ delay stages, source size not 256k).

    Reference notes section 7.4: with two or more delay-extension stages, synapses are
    dropped unless the source population's size is a multiple of 256.
    """
    t, out = ctx.target, []
    if t.delay_slots is None or t.neurons_per_core is None:
        return []
    for proj in ctx.projections():
        d = ctx.table(proj).delay
        if not d.size:
            continue
        stages = math.ceil(int(d.max()) / t.delay_slots) - 1
        n_pre = proj.pre.population.size
        if stages >= 2 and n_pre % t.neurons_per_core:
            out.append(
                Violation(
                    "spinnaker_delay_extension_sizes", "error", proj_where(proj),
                    f"delays up to {int(d.max())} ticks need {stages} delay-extension stages, "
                    f"and the source population has {n_pre} neurons (not a multiple of "
                    f"{t.neurons_per_core}): sPyNNaker 1!7.4.1 drops such synapses silently",
                    f"keep delays <= {2 * t.delay_slots} ticks, or pad "
                    f"{proj.pre.population.label!r} to a multiple of {t.neurons_per_core} neurons",
                    {"stages": stages, "pre_size": n_pre},
                )
            )  # fmt: skip
    return out


def weight_range(ctx: Context) -> list[Violation]:
    """Weights must be representable with the target's weight bits.

    SpiNNaker: 16-bit magnitudes scaled per post-population and receptor by a ring-buffer
    shift ``s`` at least ``ceil(log2(max|w|))``; the resolution is then ``2**(s - 15)``, so
    weights below half of it become 0 (warning), and ``s <= 14`` bounds ``max|w|`` by
    ``2**15`` (error). Loihi: projections onto integer models (class name ``LoihiLIF``)
    carry 8-bit mantissas (``[0, 255]``, ``[-255, 0]``, or even values in ``[-256, 254]`` when
    the signs are mixed) and ``proj.weight_exp`` in the target's exponent range.
    """
    t = ctx.target
    if t.weight_bits is None:
        return []
    if t.weight_exp is not None:
        return _loihi_weights(ctx)
    out = []
    groups: dict[tuple[int, int], list[Projection]] = {}
    for proj in ctx.projections():
        key = (proj.post.population.index, ctx.table(proj).receptor)
        groups.setdefault(key, []).append(proj)
    for projs in groups.values():
        w = [np.abs(ctx.table(p).weight) for p in projs]
        w_max = max((float(x.max()) for x in w if x.size), default=0.0)
        if w_max == 0.0:
            continue
        shift = max(0, math.ceil(math.log2(w_max)))
        if 2.0**shift <= w_max:
            shift += 1
        where = f"population {projs[0].post.population.label!r}"
        if shift > 14:
            out.append(
                Violation(
                    "weight_range", "error", where,
                    f"largest weight {w_max:g} needs a ring-buffer shift of {shift} > 14",
                    f"scale weights below {2.0**15:g} (and thresholds alike)",
                    {"max_weight": w_max, "shift": shift},
                )
            )  # fmt: skip
            continue
        resolution = 2.0 ** (shift - 15)
        for proj, x in zip(projs, w, strict=True):
            lost = int(np.sum((x > 0) & (x < resolution / 2)))
            if lost:
                out.append(
                    Violation(
                        "weight_range", "warning", proj_where(proj),
                        f"{lost} nonzero weight(s) below {resolution / 2:g} round to 0 (16-bit "
                        f"weights with resolution {resolution:g} set by the largest weight "
                        f"{w_max:g} onto this population)",
                        "split strong and weak inputs into different post populations, or "
                        "remove the negligible synapses",
                        {"zeroed": lost, "resolution": resolution},
                    )
                )  # fmt: skip
    return out


def _loihi_weights(ctx: Context) -> list[Violation]:
    t, out = ctx.target, []
    assert t.weight_exp is not None
    for proj in ctx.projections():
        if model_name(proj.post.population) != "LoihiLIF":
            continue  # float models are refused by neuron_models (fix: hw.quantize)
        w = ctx.table(proj).weight
        where = proj_where(proj)
        exp = int(getattr(proj, "weight_exp", 0) or 0)
        if not t.weight_exp[0] <= exp <= t.weight_exp[1]:
            out.append(
                Violation(
                    "weight_range", "error", where,
                    f"weight_exp={exp} outside [{t.weight_exp[0]}, {t.weight_exp[1]}]",
                    "rescale the mantissas so the exponent fits", {"weight_exp": exp},
                )
            )  # fmt: skip
        if not w.size:
            continue
        mixed = bool(w.min() < 0 < w.max())
        lo, hi = (-256, 254) if mixed else ((0, 255) if w.min() >= 0 else (-255, 0))
        bad = (w != np.rint(w)) | (w < lo) | (w > hi) | (mixed & (np.rint(w) % 2 != 0))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            out.append(
                Violation(
                    "weight_range", "error", where,
                    f"{int(bad.sum())} weight(s) are not 8-bit mantissas (e.g. {w[i]:g}; "
                    f"allowed: integers in [{lo}, {hi}]" + (", even (mixed signs)" if mixed else "")
                    + ")",
                    "use hw.quantize(net, target) to compute mantissas and exponents",
                    {"weight": float(w[i]), "min": lo, "max": hi},
                )
            )  # fmt: skip
    return out


def time_step(ctx: Context) -> list[Violation]:
    """``dt`` must be a time step the target runs."""
    t, dt = ctx.target, ctx.net.dt
    out = []
    if t.dt_ms is not None and not t.dt_ms[0] <= dt <= t.dt_ms[1]:
        out.append(
            Violation(
                "time_step", "error", "network",
                f"dt={dt:g} ms outside [{t.dt_ms[0]:g}, {t.dt_ms[1]:g}] ms",
                f"use a dt in that range (the default of {t.name} is 1 ms)",
                {"dt": dt, "min": t.dt_ms[0], "max": t.dt_ms[1]},
            )
        )  # fmt: skip
    if t.dt_resolution_ms is not None:
        n = dt / t.dt_resolution_ms
        if abs(n - round(n)) > 1e-9 * max(1.0, n):
            out.append(
                Violation(
                    "time_step", "error", "network",
                    f"dt={dt:g} ms is not a multiple of {t.dt_resolution_ms:g} ms",
                    f"use a dt that is a whole number of {t.dt_resolution_ms * 1000:g} µs",
                    {"dt": dt, "resolution": t.dt_resolution_ms},
                )
            )  # fmt: skip
    return out


def plasticity(ctx: Context) -> list[Violation]:
    """Plastic projections (``proj.plasticity``) need a rule the target runs."""
    t, out = ctx.target, []
    for proj in ctx.projections():
        # weight rules (proj.plasticity) and delay rules (proj.delay_plasticity) alike
        for rule in (getattr(proj, "plasticity", None), getattr(proj, "delay_plasticity", None)):
            if rule is not None:
                out += _unsupported_rule(t, proj, rule)
    return out


def _unsupported_rule(t: Any, proj: Any, rule: Any) -> list[Violation]:
    """Return a violation unless target ``t`` runs plasticity rule ``rule`` (class name or str)."""
    out: list[Violation] = []
    name = rule if isinstance(rule, str) else type(rule).__name__
    if name not in t.plasticity:
        out.append(
            Violation(
                "plasticity", "error", proj_where(proj),
                f"plasticity rule {name} is not supported by {t.name}"
                + (f" (supported: {', '.join(sorted(t.plasticity))})" if t.plasticity else ""),
                "drop=['plasticity'] exports the current weights and delays as static "
                "synapses",
                {"rule": name},
            )
        )  # fmt: skip
    return out


def astrocytes(ctx: Context) -> list[Violation]:
    """Astrocyte populations (``model.is_astrocyte``) and their effects (``net.modulate``)."""
    t, out = ctx.target, []
    if t.astrocytes:
        return []
    fix = (
        "drop=['astrocytes'] leaves the astrocyte populations, the projections onto them and "
        "their effects out (where the exporter can), or remove them from the network"
    )
    for pop in ctx.populations():
        if getattr(pop.model, "is_astrocyte", False):
            name = model_name(pop)
            out.append(
                Violation(
                    "astrocytes", "error", pop_where(pop),
                    f"{pop.size} {name} astrocytes; {t.name} has no astrocytes",
                    fix, {"model": name},
                )
            )  # fmt: skip
    for mod in getattr(ctx.net, "modulations", []):
        src = mod.source.population.label
        tgt = getattr(mod.target, "label", None) or mod.target.population.label
        out.append(
            Violation(
                "astrocytes", "error", f"modulation {src!r} -> {tgt!r}",
                f"effect {mod.effect!r} of {mod.pairs_src.size} astrocyte-target pairs; "
                f"{t.name} has no astrocytic modulation", fix,
                {"effect": mod.effect, "pairs": int(mod.pairs_src.size)},
            )
        )  # fmt: skip
    return out


def inputs(ctx: Context) -> list[Violation]:
    """Refuse inputs added with ``Network.add_input`` (Poisson trains, step currents)."""
    t = ctx.target
    if t.inputs or not ctx.net.inputs:
        return []
    out = []
    for target, inp in ctx.net.inputs:
        out.append(
            Violation(
                "inputs", "error", pop_where(target.population),
                f"{type(inp).__name__} input cannot be exported to {t.name}",
                "use a SpikeSource population (given times) instead, or drop=['inputs']",
                {"input": type(inp).__name__},
            )
        )  # fmt: skip
    return out


# ------------------------------------------------------------------------------- NIR rules
def nir_synapse_time_constants(ctx: Context) -> list[Violation]:
    """NIR ``CubaLIF`` has one synaptic current: exc and inh inputs need one ``tau_syn``."""
    out = []
    for pop in ctx.populations():
        if not {"tau_syn_exc", "tau_syn_inh"} <= set(pop.model.defaults):
            continue
        used = {ctx.table(p).receptor for p in ctx.projections() if p.post.population is pop}
        if len(used) < 2:
            continue  # only one receptor is used: its time constant is the node's
        te, ti = pop.get("tau_syn_exc"), pop.get("tau_syn_inh")
        if np.array_equal(te, ti):
            continue
        i = int(np.flatnonzero(te != ti)[0])
        out.append(
            Violation(
                "nir_synapse_time_constants", "error", pop_where(pop),
                f"tau_syn_exc={te[i]:g} ms != tau_syn_inh={ti[i]:g} ms (neuron {i}) and both "
                "receptors receive input; a NIR CubaLIF has a single synaptic current",
                "set tau_syn_inh equal to tau_syn_exc",
                {"tau_syn_exc": float(te[i]), "tau_syn_inh": float(ti[i])},
            )
        )  # fmt: skip
    return out


def nir_refractory(ctx: Context) -> list[Violation]:
    """NIR neurons have no refractory period: it is kept only in snnsim's node metadata."""
    out = []
    for pop in ctx.populations():
        if "tau_refrac" not in pop.model.defaults:
            continue
        ref = pop.get("tau_refrac")
        if np.any(ref > 0):
            out.append(
                Violation(
                    "nir_refractory", "warning", pop_where(pop),
                    f"tau_refrac up to {float(ref.max()):g} ms: NIR has no refractory period; "
                    "it is written to the node's metadata, which snnsim's import_nir reads "
                    "back but other NIR readers ignore (their neurons can spike again at once)",
                    "set tau_refrac=0 for the same dynamics in every NIR reader",
                    {"tau_refrac": float(ref.max())},
                )
            )  # fmt: skip
    return out


def nir_delays(ctx: Context) -> list[Violation]:
    """Delays above one step become NIR ``Delay`` nodes (few readers take them)."""
    out = []
    for proj in ctx.projections():
        d = ctx.table(proj).delay
        if d.size and int(d.max()) > 1:
            out.append(
                Violation(
                    "nir_delays", "warning", proj_where(proj),
                    f"{int(np.sum(d > 1))} synapse(s) with delays of 2..{int(d.max())} steps "
                    "become Linear -> Delay branches (the NIR edge is the first step); of the "
                    "NIR readers only Spyx reads Delay nodes",
                    "use one-step delays for portable files; export(..., delays='error') "
                    "refuses longer ones",
                    {"max_delay_steps": int(d.max())},
                )
            )  # fmt: skip
    return out


def nir_initial_state(ctx: Context) -> list[Violation]:
    """NIR has no initial state: ``initialize``/``set_state`` values are not exported."""
    out = []
    for pop in ctx.populations():
        if pop.initial_values:
            names = sorted({name for name, _, _ in pop.initial_values})
            out.append(
                Violation(
                    "nir_initial_state", "warning", pop_where(pop),
                    f"initial values of {', '.join(names)} are not part of a NIR graph; "
                    "snnsim's import starts at v = v_rest, other readers usually at v = 0",
                    "set the initial state again after importing",
                    {"variables": names},
                )
            )  # fmt: skip
    return out


#: Every rule by name (the names ``drop=[...]`` and the report use).
RULES: dict[str, Callable[[Context], list[Violation]]] = {
    f.__name__: f
    for f in (
        neuron_models, neurons_per_core, fan_in, delay_range, spinnaker_delay_extension_sizes,
        weight_range, time_step, plasticity, astrocytes, inputs, nir_synapse_time_constants,
        nir_refractory, nir_delays, nir_initial_state, nir_reset, spinnaker_stdp,
        spinnaker_row_length,
    )
}  # fmt: skip


def check(net: Network, target: str | Target) -> Report:
    """Check ``net`` against a target's design rules.

    Parameters
    ----------
    net : Network
    target : str or Target
        ``"spinnaker1"``, ``"loihi1"``, ``"loihi2"``, ``"nir"`` (see
        :data:`snnsim.hardware.targets.TARGETS`) or a :class:`Target` of your own.

    Returns
    -------
    Report
        ``report.ok`` is False when the target cannot run the network; ``print(report)``
        lists every violation with its rule, the numbers, where, and the fix.
    """
    t = get_target(target)
    ctx = Context(net, t)
    violations: list[Violation] = []
    for name in t.rules:
        violations += RULES[name](ctx)
    return Report(t, violations)
