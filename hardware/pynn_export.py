r"""Export a network as a runnable PyNN script for ``pyNN.nest`` and sPyNNaker.

:func:`export_pynn` writes one Python file that builds the network with the PyNN API and
runs it; ``python net.py --backend nest`` uses ``pyNN.nest`` (with
``spike_precision="on_grid"``, NEST ``iaf_psc_exp``: the model snnsim's ``LIF`` is),
``--backend spinnaker`` uses ``spynnaker.pyNN``. Recordings are saved with
``numpy.savez`` to ``--out`` (default ``<script>_results.npz``): ``<label>/spike_times``,
``<label>/spike_ids`` (indices in the population), ``<label>/v`` (``[time, neuron]``, mV)
and ``<label>/v_ids``.

Mapping
-------
============================  =====================================================
snnsim                        PyNN
============================  =====================================================
``LIF``                       ``IF_curr_exp`` (same names and units: ms, nF, mV, nA)
``LIFDelta``                  ``IF_curr_delta`` (weights in mV)
``SpikeSource(times)``        ``SpikeSourceArray(spike_times)``
``PoissonSource(rate)``       ``SpikeSourcePoisson(rate)`` (other random numbers)
projection                    one ``FromListConnector`` projection per synapse sign:
                              ``(pre, post, w, delay_ms)`` sorted by (pre, post);
                              negative weights on ``receptor_type="inhibitory"``
plastic projection            ``synapse_type=STDPMechanism(SpikePairRule(tau_plus,
(``snn.STDP``, pairing        tau_minus, A_plus=a_plus, A_minus=a_minus),
``"all"``)                    Additive|MultiplicativeWeightDependence(w_min, w_max))``;
                              learned weights saved as ``proj<i>_<exc|inh>/weights``
``record_spikes``             ``pop[ids].record("spikes")``
``record_state(["v"])``       ``pop[ids].record("v", sampling_interval=every*dt)``
============================  =====================================================

Upstream behaviour the script works around (reference notes, section 7):

- pyNN.nest shifts every ``SpikeSourceArray`` time by ``-min_delay`` in floating point, so
  about 2 % of spikes would arrive a step late; on NEST the script writes ``t - 1e-9``.
- pyNN.nest ``IF_curr_delta`` ignores ``initialize(v=...)``; on NEST the script sets
  ``V_m`` on the NEST nodes.
- sPyNNaker's ``FromListConnector`` drops synapses of a list not sorted by (pre, post).
- Inhibitory current weights: ``pyNN.nest`` passes the sign to NEST (a positive weight on
  the ``"inhibitory"`` receptor of ``IF_curr_exp`` depolarises, checked with PyNN 0.13),
  sPyNNaker takes the magnitude; so inhibitory weights are written negative.

STDP: snnsim's ``snn.STDP`` has PyNN's semantics (``a_plus``, ``a_minus`` are fractions of
``w_max``; all of the delay dendritic, as in NEST and sPyNNaker). Inhibitory rules
(``w_max < 0``) act on ``u = w/w_max >= 0``, so facilitation strengthens inhibition: the
script writes them on the ``"inhibitory"`` receptor as the same rule on magnitudes
(``|w|``, ``w_min = |w_min|``, ``w_max = |w_max|``, what sPyNNaker holds), and on
``pyNN.nest`` gives weights and bounds the negative sign (NEST requires ``Wmax`` with the
weights' sign). ``pairing="nearest"`` is refused (rule ``spinnaker_stdp``: PyNN has no
standard nearest-pair rule, sPyNNaker's ``SpikeNearestPairRule`` is presynaptic-centred),
as are different rules onto one population; ``drop=["spinnaker_stdp"]`` (or
``["plasticity"]``) writes plastic projections as static synapses with their current
weights, noted in the script's docstring. On ``pyNN.nest`` the learned weights equal
snnsim's (NEST ``stdp_synapse``) except for pairings NEST leaves pending until the next
presynaptic spike (:mod:`snnsim.plasticity`); sPyNNaker learns in fixed point (16-bit
weights, lookup-table exponentials), so expect agreement only to its precision.

Refused (:class:`~snnsim.errors.HardwareConstraintError`, naming what and why): other
models, current inputs, recorded variables other than ``v``, initial synaptic currents or
refractory counters other than zero, a network that has already run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from snnsim.hardware.rules import Context
from snnsim.hardware.spinnaker_rules import (
    CELL_TYPES,
    check_exportable,
    pynn_projections,
    pynn_stdp,
    spinnaker_stdp,
)
from snnsim.hardware.targets import get_target

from snnsim.errors import HardwareConstraintError
from snnsim.models import SpikeSource
from snnsim.monitors import RateRecorder, SpikeRecorder, StateRecorder

if TYPE_CHECKING:
    from snnsim.network import Network

__all__ = ["export_pynn", "pynn_script"]

_PARAMS = {
    "LIF": (
        "tau_m", "cm", "v_rest", "v_reset", "v_thresh", "tau_syn_E", "tau_syn_I",
        "tau_refrac", "i_offset",
    ),
    "LIFDelta": ("tau_m", "cm", "v_rest", "v_reset", "v_thresh", "tau_refrac", "i_offset"),
}  # fmt: skip
#: PyNN parameter -> snnsim parameter where the names differ
_SNN_NAME = {"tau_syn_E": "tau_syn_exc", "tau_syn_I": "tau_syn_inh"}


def _literal(values: npt.NDArray[Any]) -> str:
    """Write ``values`` as a Python literal: one value when they are all equal, else a list."""
    flat = np.asarray(values).reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return repr(flat[0].item())
    return repr(flat.tolist())


def _check_state(net: Network) -> None:
    if net.step:
        raise HardwareConstraintError(
            f"export_pynn: the network has run {net.step} steps; a PyNN script starts at "
            "t=0, so export the network before running it (or rebuild it from its description)"
        )
    for pop in net.populations:
        if pop.model.name != "LIF":
            continue
        for var in ("i_exc", "i_inh"):
            cur = np.asarray(pop.get_state(var))
            if np.any(cur != 0):
                raise HardwareConstraintError(
                    f"export_pynn: {pop.label}.{var} starts at {float(cur[cur != 0][0])!r} nA; "
                    "NEST (pyNN.nest) cannot set initial synaptic currents: start them at 0"
                )
    for rec in net.recorders:
        if isinstance(rec, StateRecorder):
            bad = [v for v in rec.variables if v != "v"]
            if bad:
                raise HardwareConstraintError(
                    f"export_pynn: recording {bad} of {rec.label!r}; the PyNN export records "
                    "spikes and v only"
                )
        elif not isinstance(rec, (SpikeRecorder, RateRecorder)):
            raise HardwareConstraintError(
                f"export_pynn: recorder {type(rec).__name__} has no PyNN counterpart"
            )


def _plasticity_notes(net: Network, drop: tuple[str, ...]) -> tuple[bool, list[str]]:
    """Apply rule ``spinnaker_stdp``: raise on errors unless dropped; return notes for the file.

    Returns whether plastic projections are written as STDP (False when dropped).
    """
    found = spinnaker_stdp(Context(net, get_target("spinnaker1")))
    dropped = bool({"spinnaker_stdp", "plasticity"} & set(drop))
    errors = [v for v in found if v.severity == "error"]
    if errors and not dropped:
        raise HardwareConstraintError(
            "export_pynn: " + "; ".join(f"{v.where}: {v.message} (fix: {v.fix})" for v in errors)
        )
    notes = [f"warning ({v.rule}) {v.where}: {v.message}" for v in found if v not in errors]
    if dropped and any(p.plasticity is not None for p in net.projections):
        notes.append("dropped (plasticity): plastic projections written as static synapses")
    return not dropped, notes


def pynn_script(
    net: Network,
    duration: float = 1000.0,
    backend: str = "nest",
    max_neurons_per_core: int | None = None,
    drop: list[str] | tuple[str, ...] = (),
) -> str:
    """Return the text of the PyNN script for ``net`` (see :func:`export_pynn`)."""
    check_exportable(net)
    _check_state(net)
    if backend not in ("nest", "spinnaker"):
        raise HardwareConstraintError(
            f"pynn_script(backend={backend!r}): use 'nest' or 'spinnaker'"
        )
    plastic, notes = _plasticity_notes(net, tuple(drop))
    dt = float(net.dt)
    lines = [
        '"""PyNN script written by snnsim.hardware.pynn_export (do not edit by hand).',
        "",
        *notes,
        *([""] if notes else []),
        "python this.py [--backend nest|spinnaker] [--duration MS] [--out FILE.npz]",
        '"""',
        "import argparse",
        "import os",
        "import sys",
        "",
        "import numpy as np",
        "",
        f"BACKEND = {backend!r}  # or 'spinnaker'; --backend overrides",
        f"DT = {dt!r}  # ms",
        f"DURATION = {float(duration)!r}  # ms",
        f"MAX_NEURONS_PER_CORE = {max_neurons_per_core!r}  # sPyNNaker only",
        "",
        "",
        "def setup(backend):",
        '    """Set the simulator up; return it and the shift applied to source times."""',
        "    if backend == 'nest':",
        "        import pyNN.nest as sim",
        "",
        "        sim.setup(timestep=DT, min_delay=DT, spike_precision='on_grid')",
        "        # pyNN.nest shifts source times by -min_delay in floating point: keep them",
        "        # inside their step (reference notes 7.1)",
        "        return sim, 1e-9",
        "    import spynnaker.pyNN as sim",
        "",
        "    sim.setup(timestep=DT)",
        "    if MAX_NEURONS_PER_CORE:",
        "        for cell in (sim.IF_curr_exp, sim.IF_curr_delta):",
        "            sim.set_number_of_neurons_per_core(cell, MAX_NEURONS_PER_CORE)",
        "    return sim, 0.0",
        "",
        "",
        "def signed(conns, sign, backend):",
        '    """Plastic weights: magnitudes on sPyNNaker, with their sign on pyNN.nest."""',
        "    if backend == 'nest' and sign < 0:",
        "        return [(a, b, -w, d) for a, b, w, d in conns]",
        "    return conns",
        "",
        "",
        "def stdp(sim, backend, sign, tau_plus, tau_minus, A_plus, A_minus, w_min, w_max,",
        "         dependence):",
        '    """PyNN STDPMechanism of snnsim\'s snn.STDP (pairing "all"), bounds as magnitudes."""',
        "    if backend == 'nest' and sign < 0:",
        "        # NEST wants Wmax with the weights' sign; the rule then acts on w/Wmax >= 0",
        "        w_min, w_max = -w_min, -w_max",
        "    weights = (sim.AdditiveWeightDependence if dependence == 'additive'",
        "               else sim.MultiplicativeWeightDependence)",
        "    return sim.STDPMechanism(",
        "        timing_dependence=sim.SpikePairRule(",
        "            tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus),",
        "        weight_dependence=weights(w_min=w_min, w_max=w_max),",
        "        dendritic_delay_fraction=1.0, weight=w_max)  # the list sets the weights",
        "",
        "",
        "def build(sim, backend, shift=0.0):",
        '    """Create populations, projections and recordings; return (pops, projections)."""',
        "    pops = {}",
    ]
    for pop in net.populations:
        name = pop.model.name
        cell = CELL_TYPES[name]
        lab = pop.label
        if isinstance(pop.model, SpikeSource):
            # the on-grid times snnsim uses (round_times=True sources round them)
            indptr, steps = pop.model.schedule(dt)
            times = [
                [float(k * dt) for k in steps[indptr[i] : indptr[i + 1]]] for i in range(pop.size)
            ]
            lines.append(f"    times = {times!r}")
            lines.append(
                f"    pops[{lab!r}] = sim.Population({pop.size}, sim.{cell}(spike_times="
                "[[t - shift for t in row] for row in times]), label=" + repr(lab) + ")"
            )
        elif name == "PoissonSource":
            rate = _literal(pop.get("rate"))
            lines.append(
                f"    pops[{lab!r}] = sim.Population({pop.size}, sim.{cell}(rate={rate}), "
                f"label={lab!r})"
            )
        else:
            args = ", ".join(f"{k}={_literal(pop.get(_SNN_NAME.get(k, k)))}" for k in _PARAMS[name])
            lines.append(
                f"    pops[{lab!r}] = sim.Population({pop.size}, sim.{cell}({args}), label={lab!r})"
            )
            v0 = _literal(np.asarray(pop.get_state("v"), dtype=np.float64))
            lines.append(f"    pops[{lab!r}].initialize(v={v0})")
            if name == "LIFDelta":
                lines += [
                    "    if backend == 'nest':  # pyNN.nest ignores initialize(v=...)",
                    "        import nest",
                    "",
                    f"        pops[{lab!r}].node_collection.set(V_m={v0})",
                ]
    lines.append("    projections = []")
    pops = net.populations
    plastic_names: list[tuple[str, int, int]] = []  # (name, index in projections, sign)
    written: list[str] = []
    for pp in pynn_projections(net):
        sign = -1.0 if pp.synapse_type == 1 else 1.0
        rule = net.projections[pp.source].plasticity if plastic else None
        # plastic weights are magnitudes here; signed() gives them their sign on NEST
        w_sign = 1.0 if rule is not None else sign
        conns = [
            (int(a), int(b), float(w_sign * w) + 0.0, float(d * dt))
            for a, b, w, d in zip(pp.pre, pp.post, pp.weight, pp.delay, strict=True)
        ]
        receptor = "inhibitory" if pp.synapse_type == 1 else "excitatory"
        name = f"proj{pp.source}_{receptor[:3]}"
        kind = "static" if rule is None else repr(rule)
        lines.append(f"    # snnsim projection {pp.source}, {receptor} part, {kind}")
        lines.append(f"    conns = {conns!r}")
        if rule is None:
            connector, synapse = "conns", "sim.StaticSynapse()"
        else:
            plastic_names.append((name, len(written), int(sign)))
            args = ", ".join(f"{k}={v!r}" for k, v in pynn_stdp(rule).items())
            connector = f"signed(conns, {int(sign)}, backend)"
            synapse = f"stdp(sim, backend, {int(sign)}, {args})"
        written.append(name)
        lines.append(
            f"    projections.append(sim.Projection(pops[{pops[pp.pre_pop].label!r}], "
            f"pops[{pops[pp.post_pop].label!r}], sim.FromListConnector({connector}, "
            f"column_names=['weight', 'delay']), synapse_type={synapse}, "
            f"receptor_type={receptor!r}))"
        )
    recorded: dict[str, dict[str, Any]] = {}
    for rec in net.recorders:
        entry = recorded.setdefault(rec.label, {"spikes": set(), "v": set(), "every": 1})
        ids = {int(i) for i in rec.indices}
        if isinstance(rec, StateRecorder):
            entry["v"] |= ids
            entry["every"] = rec.every
        else:
            entry["spikes"] |= ids
    v_ids = {lab: sorted(e["v"]) for lab, e in recorded.items() if e["v"]}
    for lab, entry in recorded.items():
        for var in ("spikes", "v"):
            if not entry[var]:
                continue
            id_list = sorted(entry[var])
            extra = f", sampling_interval={entry['every'] * dt!r}" if var == "v" else ""
            lines.append(f"    pops[{lab!r}][{id_list!r}].record({var!r}{extra})")
    lines += [
        "    return pops, projections",
        "",
        "",
        "def collect(pops, projections):",
        '    """Recorded spikes and v, and learned weights (pre, post, nA signed), as arrays."""',
        "    results = {}",
        f"    for name, index, sign in {plastic_names!r}:",
        "        rows = projections[index].get(['weight'], format='list', with_address=True)",
        "        w = np.array([(i, j, sign * abs(x)) for i, j, x in rows], dtype=float)",
        "        results[name + '/weights'] = w.reshape(-1, 3)",
        f"    v_ids = {v_ids!r}",
        f"    for label in {sorted(recorded)!r}:",
        "        block = pops[label].get_data().segments[0]",
        "        times, ids = [], []",
        "        for train in block.spiketrains:",
        "            index = int(train.annotations['source_index'])",
        "            times.append(np.asarray(train.magnitude, dtype=float))",
        "            ids.append(np.full(len(train), index, dtype=np.int64))",
        "        if times:",
        "            t, i = np.concatenate(times), np.concatenate(ids)",
        "            order = np.lexsort((i, t))",
        "            results[label + '/spike_times'] = t[order]",
        "            results[label + '/spike_ids'] = i[order]",
        "        for signal in block.analogsignals:",
        "            if signal.name == 'v':",
        "                results[label + '/v'] = np.asarray(signal.magnitude, dtype=float)",
        "                results[label + '/v_ids'] = np.asarray(v_ids[label], dtype=np.int64)",
        "    return results",
        "",
        "",
        "def main(argv=None):",
        "    parser = argparse.ArgumentParser()",
        "    parser.add_argument('--backend', default=BACKEND, choices=['nest', 'spinnaker'])",
        "    parser.add_argument('--duration', type=float, default=DURATION)",
        "    parser.add_argument('--out', default=None)",
        "    args = parser.parse_args(argv)",
        "    out = args.out or os.path.splitext(os.path.abspath(__file__))[0] + '_results.npz'",
        "    sim, shift = setup(args.backend)",
        "    pops, projections = build(sim, args.backend, shift)",
        "    sim.run(args.duration)",
        "    results = collect(pops, projections)",
        "    sim.end()",
        "    np.savez(out, **results)",
        "    return results",
        "",
        "",
        "if __name__ == '__main__':",
        "    main(sys.argv[1:])",
        "",
    ]
    return "\n".join(lines)


def export_pynn(
    net: Network,
    path: str | Path,
    duration: float = 1000.0,
    backend: str = "nest",
    max_neurons_per_core: int | None = None,
    drop: list[str] | tuple[str, ...] = (),
) -> Path:
    """Write ``net`` as a runnable PyNN script (module docstring: mapping and refusals).

    Parameters
    ----------
    net : Network
        LIF / LIFDelta populations, SpikeSource / PoissonSource inputs, static and STDP
        projections, spike and ``v`` recorders; not yet run.
    path : str or Path
        Script file to write.
    duration : float, ms
        Default run time of the script (``--duration`` overrides).
    backend : {"nest", "spinnaker"}
        Default backend (``--backend`` overrides).
    max_neurons_per_core : int, optional
        ``sim.set_number_of_neurons_per_core`` for the neuron models on sPyNNaker.
    drop : list of str
        ``"spinnaker_stdp"`` or ``"plasticity"``: write plastic projections as static
        synapses with their current weights (noted in the script) instead of refusing
        rules PyNN/sPyNNaker cannot run.

    Returns
    -------
    Path
        The script written.
    """
    path = Path(path)
    path.write_text(pynn_script(net, duration, backend, max_neurons_per_core, drop))
    return path
