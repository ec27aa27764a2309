r"""NIR export and import (Neuromorphic Intermediate Representation, ``nir==1.0.*``).

>>> from snnsim import hardware as hw
>>> path = hw.export(net, "nir", "net.nir")          # doctest: +SKIP
>>> net2 = hw.import_nir(path)                      # doctest: +SKIP

Graph layout
------------
* a :class:`~snnsim.models.SpikeSource` population -> ``Input`` node (named by its label;
  its spike times, in the file's seconds, go to the node's metadata ``spike_times`` /
  ``spike_times_indptr``, since a NIR graph carries no data);
* a neuron population -> one neuron node (named by its label), and an ``Output`` node
  ``<label>.out`` if it feeds no other population (the last population if every one does);
  the node type comes from :data:`EXPORTERS` (model class name -> mapper);
* a projection -> one ``Linear`` node per distinct delay, weights ``[post, pre]`` summed over
  repeated pairs (named ``<label>`` or ``<label>.d<steps>``), with edges
  ``pre -> Linear -> post``. The NIR edge itself is the one-step delay every snnsim
  connection has; a delay of ``d > 1`` steps adds a ``Delay`` node of ``(d - 1) dt`` between
  ``Linear`` and ``post`` (``delays="error"`` refuses such delays instead);
* a population with one-step projections onto itself (``RLeaky``, ``RSynaptic``) -> a
  sub-graph node named by its label, holding the neuron node and one ``Linear`` of the summed
  self weights, the layout of snnTorch's ``export_to_nir``: snnTorch's ``import_from_nir``
  misreads the flat cycle (see :mod:`snnsim.hardware.nir_recurrent`). Import flattens
  sub-graphs.

Time and units
--------------
Times are written in seconds on the file's time axis: ``t_file = steps * dt`` with ``dt``
the export option (seconds; default the network's ``dt``). Giving ``dt=1e-4`` writes a
network simulated at any ``dt`` on snnTorch's hard-coded 0.1 ms grid (every time constant,
delay and refractory period keeps its number of steps). ``dt`` is written to the graph
metadata (``"dt"``, seconds) with the units: voltages mV, currents nA, ``r`` MΩ (mV/nA).

A spike is taken to be the value 1 held for one step (area ``dt``), the convention of
snnTorch and of the NIR reference steppers: so ``w_in = tau_syn / dt`` makes a spike of
weight ``w`` raise ``I`` by ``w``, and ``r = tau / dt`` makes it raise ``v`` by ``w``.

Model mapping (what is exact, what is lost)
-------------------------------------------
``LIF`` (NEST ``iaf_psc_exp``) -> ``CubaLIF``. snnsim's equations
:math:`\tau_m \dot V = (v_{rest} - V) + \frac{\tau_m}{c_m}(I + i_{offset})`,
:math:`\tau_s \dot I = -I`, ``I += w`` per spike, are NIR's
:math:`\tau_{mem} \dot v = (v_{leak} - v) + R I`, :math:`\tau_{syn} \dot I = -I + w_{in} S`
with ``tau_mem = tau_m``, ``tau_syn = tau_syn_exc`` (``tau_syn_inh`` if only the inhibitory
receptor is used; the rule ``nir_synapse_time_constants`` refuses two different constants
when both receptors receive input), ``r = tau_m / cm`` (MΩ), ``v_leak = v_rest + r i_offset``
(NIR has no bias current; the ODE is the same), ``v_threshold = v_thresh``, ``v_reset``,
``w_in = tau_syn / dt``; exc and inh weights are the signed entries of one ``Linear``.
Lost for other readers: the refractory period (NIR has none; ``tau_refrac`` is kept in the
node metadata, which snnsim reads back: rule ``nir_refractory`` warns), the split of
``v_leak`` into ``v_rest`` and ``i_offset`` (metadata), snnsim's exact integration (readers
usually step forward Euler) and the threshold test: snnsim and NEST spike at
``V >= v_thresh``, NIR at ``v > v_threshold`` (different only at exact equality).

``LIFDelta`` (NEST ``iaf_psc_delta``) -> ``LIF`` with ``tau = tau_m``, ``r = tau / dt``,
``v_leak = v_rest + tau_m i_offset / cm``; weights in mV. Also lost: snnsim discards input
arriving during the refractory period.

Import reverses the tables above (:data:`IMPORTERS`): ``CubaLIF`` -> ``LIF`` with both
receptors' ``tau_syn`` equal and weights split by sign into ``exc``/``inh`` projections,
``LIF`` -> ``LIFDelta``; any ``w_in``/``r`` is honoured by scaling the weights (``w * w_in dt /
tau_syn``, ``w * r dt / tau``), NIR's continuous ODE is integrated exactly, ``Input`` ->
``SpikeSource`` labelled ``"input"`` (or by node name when there are several). Times are
rounded to 15 significant digits after the unit change, so a round trip gives back the
numbers written (``20.0`` ms, not ``20.000000000000004``).

``Leaky`` / ``RLeaky`` / ``CubaLIF`` -> ``LIF`` / ``CubaLIF`` in snnTorch's convention, and
``import_nir(..., convention="snntorch")``: see :mod:`snnsim.hardware.nir_discrete`.
A new model needs a mapper ``(pop, ctx) -> nir node`` in :data:`EXPORTERS` (the ``"nir"``
target takes its model list from it) and, to come back, an entry in :data:`IMPORTERS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from snnsim.hardware import nir_discrete as _discrete
from snnsim.hardware.nir_recurrent import flatten, wrap_recurrent

from snnsim.errors import FileFormatError, HardwareConstraintError, MissingDependencyError
from snnsim.errors import ParameterError as _ParameterError

if TYPE_CHECKING:
    from snnsim.hardware.rules import Report

    from snnsim.models import NeuronModel
    from snnsim.network import Network
    from snnsim.populations import Population

__all__ = ["EXPORTERS", "IMPORTERS", "ExportContext", "export_nir", "import_nir"]

_F64 = npt.NDArray[np.float64]


def require_nir() -> Any:
    """Import the optional ``nir`` package, or say which extra installs it."""
    try:
        import nir
    except ImportError:
        raise MissingDependencyError(
            "NIR export/import needs the 'nir' package: pip install 'snnsim[nir]'"
        ) from None
    return nir


@dataclass
class ExportContext:
    """What a model mapper needs besides the population."""

    #: the file's step (s) and the factor from ms of the network to the file's seconds
    dt: float
    ms_to_s: float
    #: receptor indices that receive input, per population label
    receptors: dict[str, set[int]]


def _arr(x: Any, n: int) -> _F64:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)))


def _lif_to_cubalif(pop: Population, ctx: ExportContext) -> Any:
    nir = require_nir()
    n = pop.size
    g = {k: pop.get(k) for k in pop.model.defaults}
    used = ctx.receptors.get(pop.label, set())
    tau_syn = g["tau_syn_inh"] if used == {1} else g["tau_syn_exc"]
    r = g["tau_m"] / g["cm"]
    tau_syn_s = tau_syn * ctx.ms_to_s
    return nir.CubaLIF(
        tau_syn=tau_syn_s,
        tau_mem=g["tau_m"] * ctx.ms_to_s,
        r=r,
        v_leak=g["v_rest"] + r * g["i_offset"],
        v_threshold=_arr(g["v_thresh"], n),
        v_reset=_arr(g["v_reset"], n),
        w_in=tau_syn_s / ctx.dt,
        metadata={
            "snnsim_model": "LIF",
            "tau_refrac": g["tau_refrac"] * ctx.ms_to_s,
            "tau_syn_exc": g["tau_syn_exc"] * ctx.ms_to_s,
            "tau_syn_inh": g["tau_syn_inh"] * ctx.ms_to_s,
            "v_rest": g["v_rest"],
            "i_offset": g["i_offset"],
        },
    )


def _lifdelta_to_lif(pop: Population, ctx: ExportContext) -> Any:
    nir = require_nir()
    n = pop.size
    g = {k: pop.get(k) for k in pop.model.defaults}
    tau_s = g["tau_m"] * ctx.ms_to_s
    return nir.LIF(
        tau=tau_s,
        r=tau_s / ctx.dt,
        v_leak=g["v_rest"] + g["tau_m"] / g["cm"] * g["i_offset"],
        v_threshold=_arr(g["v_thresh"], n),
        v_reset=_arr(g["v_reset"], n),
        metadata={
            "snnsim_model": "LIFDelta",
            "tau_refrac": g["tau_refrac"] * ctx.ms_to_s,
            "cm": g["cm"],
            "v_rest": g["v_rest"],
            "i_offset": g["i_offset"],
        },
    )


#: Model class name -> mapper ``(population, ExportContext) -> NIR neuron node``.
EXPORTERS: dict[str, Callable[[Population, ExportContext], Any] | None] = {
    "LIF": _lif_to_cubalif,
    "LIFDelta": _lifdelta_to_lif,
    # snnTorch convention, see snnsim.hardware.nir_discrete
    "Leaky": _discrete.leaky_to_node,
    "RLeaky": _discrete.leaky_to_node,
    "CubaLIF": _discrete.cubalif_to_node,
    # sources become Input nodes (handled by export_nir itself)
    "SpikeSource": None,
}


# ----------------------------------------------------------------------------- import
def _clean(x: Any) -> _F64:
    """Round to 15 significant digits (undo the last-bit error of a unit change)."""
    a = np.asarray(x, dtype=np.float64)
    flat = [float(f"{v:.15g}") for v in a.reshape(-1)]
    return np.asarray(flat, dtype=np.float64).reshape(a.shape)


def _param(x: _F64) -> float | _F64:
    """Return a number when every neuron has the same value, else the per-neuron array."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(x[0]) if x.size and np.all(x == x[0]) else x


def _meta(node: Any, key: str) -> Any:
    value = node.metadata.get(key) if isinstance(node.metadata, dict) else None
    return value.decode() if isinstance(value, bytes) else value


def _split_leak(node: Any, v_leak: _F64, r_phys: _F64, n: int) -> tuple[float | _F64, float | _F64]:
    """``(v_rest, i_offset)`` from metadata when it agrees with ``v_leak``, else (v_leak, 0)."""
    v_rest, i_off = _meta(node, "v_rest"), _meta(node, "i_offset")
    if v_rest is not None and i_off is not None:
        v_rest, i_off = _arr(v_rest, n), _arr(i_off, n)
        if np.allclose(v_rest + r_phys * i_off, v_leak, rtol=1e-12, atol=1e-9):
            return _param(v_rest), _param(i_off)
    return _param(v_leak), 0.0


@dataclass
class ImportContext:
    """What a node importer needs: file ``dt`` (s), network ``dt`` (ms), ``convention``."""

    dt: float
    dt_ms: float
    convention: str = "exact"

    def ms(self, t_file: Any) -> _F64:
        """File seconds -> ms of the network (rounded, see :func:`_clean`)."""
        return _clean(np.asarray(t_file, dtype=np.float64) * (self.dt_ms / self.dt))


def _weight_factor(x: _F64) -> _F64:
    return np.where(np.abs(x - 1.0) < 1e-12, 1.0, x)


def _cubalif_to_lif(node: Any, ictx: ImportContext) -> tuple[NeuronModel, _F64]:
    from snnsim.models import LIF

    n = int(np.asarray(node.v_threshold).size)
    tau_m, tau_syn = ictx.ms(_arr(node.tau_mem, n)), ictx.ms(_arr(node.tau_syn, n))
    r = _arr(node.r, n)
    v_rest, i_off = _split_leak(node, _arr(node.v_leak, n), r, n)
    refrac = _meta(node, "tau_refrac")
    exc, inh = _meta(node, "tau_syn_exc"), _meta(node, "tau_syn_inh")
    # both receptors share the node's tau_syn unless the metadata (snnsim's own file)
    # says the unused one differed
    te = ictx.ms(_arr(exc, n)) if exc is not None else tau_syn
    ti = ictx.ms(_arr(inh, n)) if inh is not None else tau_syn
    if not (np.array_equal(te, tau_syn) or np.array_equal(ti, tau_syn)):
        te = ti = tau_syn
    model = LIF(
        tau_m=_param(tau_m), cm=_param(_clean(tau_m / r)), v_rest=v_rest,
        v_reset=_param(_arr(node.v_reset, n)), v_thresh=_param(_arr(node.v_threshold, n)),
        tau_syn_exc=_param(te), tau_syn_inh=_param(ti),
        tau_refrac=_param(ictx.ms(_arr(refrac, n))) if refrac is not None else 0.0,
        i_offset=i_off,
    )  # fmt: skip
    factor = _arr(node.w_in, n) * ictx.dt / (tau_syn * (ictx.dt / ictx.dt_ms))
    return model, _weight_factor(factor)


def _lif_to_lifdelta(node: Any, ictx: ImportContext) -> tuple[NeuronModel, _F64]:
    from snnsim.models import LIFDelta

    n = int(np.asarray(node.v_threshold).size)
    tau_m = ictx.ms(_arr(node.tau, n))
    cm_meta = _meta(node, "cm")
    cm = _arr(cm_meta, n) if cm_meta is not None else np.ones(n)
    v_rest, i_off = _split_leak(node, _arr(node.v_leak, n), tau_m / cm, n)
    refrac = _meta(node, "tau_refrac")
    model = LIFDelta(
        tau_m=_param(tau_m), cm=_param(cm), v_rest=v_rest,
        v_reset=_param(_arr(node.v_reset, n)), v_thresh=_param(_arr(node.v_threshold, n)),
        tau_refrac=_param(ictx.ms(_arr(refrac, n))) if refrac is not None else 0.0,
        i_offset=i_off,
    )  # fmt: skip
    factor = _arr(node.r, n) * ictx.dt / (tau_m * (ictx.dt / ictx.dt_ms))
    return model, _weight_factor(factor)


#: NIR node type name -> importer ``(node, ImportContext) -> (model, weight factor per
#: post neuron)``; the factor turns the file's weights into snnsim's (nA or mV jumps).
#: Nodes snnsim wrote from Leaky/RLeaky/CubaLIF, or any with ``convention="snntorch"``,
#: come back as those discrete models (:func:`~snnsim.hardware.nir_discrete.choose`).
IMPORTERS: dict[str, Callable[[Any, ImportContext], tuple[NeuronModel, _F64]]] = {
    "CubaLIF": _discrete.choose(_cubalif_to_lif),
    "LIF": _discrete.choose(_lif_to_lifdelta),
}


# ----------------------------------------------------------------------------- export
def _node_name(label: str, used: set[str]) -> str:
    base = label.replace("/", "_") or "node"
    name, k = base, 1
    while name in used:
        k += 1
        name = f"{base}_{k}"
    used.add(name)
    return name


def export_nir(
    net: Network,
    path: str | Path,
    *,
    dt: float | None = None,
    delays: str = "nodes",
    drop: Iterable[str] = (),
    report: Report | None = None,
) -> Path:
    """Write ``net`` as a NIR graph (HDF5, ``nir.write``); see the module docstring.

    Parameters
    ----------
    net : Network
    path : str or Path
    dt : float, optional
        Step of the file's time axis in **seconds** (default: the network's ``dt``);
        every time is written as steps times this ``dt``.
    delays : {"nodes", "error"}
        Delays above one step become ``Delay`` nodes, or raise.
    drop : list of str
        Rules whose violations to leave out (see :func:`snnsim.hardware.check`); what is
        dropped is recorded in the graph metadata (``"dropped"``, JSON).
    report : Report, optional
        A check of ``net`` against ``"nir"`` already made (``hardware.export`` passes it).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    HardwareConstraintError
        If the network breaks a NIR rule not in ``drop``, or has delays above one step
        with ``delays="error"``.
    """
    from snnsim.hardware.rules import check, global_post, global_pre, model_name

    nir = require_nir()
    if delays not in ("nodes", "error"):
        raise _ParameterError(f"export_nir(delays={delays!r}): use 'nodes' or 'error'")
    dropped = sorted(set(drop))
    if report is None:
        report = check(net, "nir")
    report.require(dropped)
    if dt is None:
        dt = net.dt * 1e-3
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not (0 < dt < math.inf):
        raise _ParameterError(f"export_nir(dt={dt!r}): dt must be > 0 seconds")
    dt = float(dt)
    ms_to_s = dt / net.dt
    tables = {p.index: p.table() for p in net.projections}
    if delays == "error":
        for proj in net.projections:
            d = tables[proj.index].delay
            if d.size and int(d.max()) > 1:
                raise HardwareConstraintError(
                    f"[nir_delays] projection {proj.label!r}: delays up to {int(d.max())} steps "
                    "and export(..., delays='error'); use one-step delays or delays='nodes' "
                    "(Delay nodes, read by few NIR tools)"
                )
    ctx = ExportContext(dt, ms_to_s, {})
    for proj in net.projections:
        ctx.receptors.setdefault(proj.post.population.label, set()).add(tables[proj.index].receptor)
    # Output nodes for the populations that feed no other (the last one if all do): readers
    # such as nirtorch 2.6 (snnTorch's import_from_nir) hang on graphs with several outputs
    sources = {p.pre.population.index for p in net.projections if p.post.population is not
               p.pre.population}  # fmt: skip
    neuron_pops = [p for p in net.populations if EXPORTERS.get(model_name(p)) is not None]
    leaves = {p.index for p in neuron_pops if p.index not in sources}
    if neuron_pops and not leaves:
        leaves = {neuron_pops[-1].index}
    used: set[str] = set()
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    pop_node: dict[int, str] = {}
    self_linears: dict[str, list[str]] = {}  # one-step self-projections: sub-graphs
    for pop in net.populations:
        name = model_name(pop)
        if name not in EXPORTERS:  # refused by the rules unless dropped
            continue
        node_name = _node_name(pop.label, used)
        pop_node[pop.index] = node_name
        mapper = EXPORTERS[name]
        if mapper is None:  # a SpikeSource
            times = pop.model.times
            indptr = np.zeros(len(times) + 1, dtype=np.int64)
            indptr[1:] = np.cumsum([len(t) for t in times])
            flat = np.concatenate(times) if times else np.zeros(0)
            nodes[node_name] = nir.Input(
                input_type={"input": np.array([pop.size])},
                metadata={
                    "snnsim_model": "SpikeSource",
                    "spike_times": np.asarray(flat, dtype=np.float64) * ms_to_s,
                    "spike_times_indptr": indptr,
                },
            )
            continue
        nodes[node_name] = mapper(pop, ctx)
        if pop.index in leaves:
            out_name = _node_name(f"{pop.label}.out", used)
            nodes[out_name] = nir.Output(output_type={"output": np.array([pop.size])})
            edges.append((node_name, out_name))
    for proj in net.projections:
        pre, post = proj.pre.population, proj.post.population
        if pre.index not in pop_node or post.index not in pop_node:
            continue
        table = tables[proj.index]
        gpre, gpost = global_pre(proj, table), global_post(proj, table)
        steps = np.unique(table.delay)
        for d in steps.tolist():
            sel = table.delay == d
            weight = np.zeros((post.size, pre.size))
            np.add.at(weight, (gpost[sel], gpre[sel]), table.weight[sel])
            lin = _node_name(proj.label if steps.size == 1 else f"{proj.label}.d{d}", used)
            nodes[lin] = nir.Linear(weight=weight)
            edges.append((pop_node[pre.index], lin))
            if d == 1:
                edges.append((lin, pop_node[post.index]))
                if pre is post:
                    self_linears.setdefault(pop_node[pre.index], []).append(lin)
                continue
            delay = _node_name(f"{lin}.delay", used)
            nodes[delay] = nir.Delay(delay=np.full(post.size, (d - 1) * net.dt * ms_to_s))
            edges += [(lin, delay), (delay, pop_node[post.index])]
    neurons = [pop_node[p.index] for p in net.populations if p.index in pop_node]
    if neurons and not any(type(x).__name__ == "Input" for x in nodes.values()):
        # nir's type inference starts at an Input node: a network driven only by its own
        # currents gets a one-channel placeholder input with zero weights (skipped by
        # import_nir)
        first = nodes[neurons[0]]
        size = int(np.asarray(first.v_threshold).size)
        src, lin = _node_name("snnsim_no_input", used), _node_name("snnsim_no_input.w", used)
        nodes[src] = nir.Input(
            input_type={"input": np.array([1])}, metadata={"snnsim_placeholder": 1}
        )
        nodes[lin] = nir.Linear(weight=np.zeros((size, 1)))
        edges += [(src, lin), (lin, neurons[0])]
    for name, lins in self_linears.items():
        wrap_recurrent(nir, nodes, edges, name, lins)
    from snnsim import __version__

    metadata = {
        "dt": dt,
        "time_unit": "s",
        "voltage_unit": "mV",
        "current_unit": "nA",
        "r_unit": "MOhm (mV/nA)",
        "spike_convention": "a spike is 1 for one step of dt (w_in = tau_syn/dt: I += w)",
        "generator": f"snnsim {__version__}",
        "snnsim_dt_ms": net.dt,
        "snnsim_order": json.dumps([pop_node[p.index] for p in net.populations if p.index in
                                    pop_node]),
        "dropped": json.dumps(
            [{"rule": v.rule, "where": v.where, "message": v.message}
             for v in report.errors if v.rule in dropped]
        ),
        "lossy": json.dumps(
            [{"rule": v.rule, "where": v.where, "message": v.message} for v in report.warnings]
        ),
    }  # fmt: skip
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=True)
    out = Path(path)
    nir.write(out, graph)
    return out


# ----------------------------------------------------------------------------- import
def import_nir(
    source: str | Path | Any,
    *,
    dt: float | None = None,
    inputs: dict[str, Any] | None = None,
    seed: int = 1,
    convention: str = "exact",
) -> Network:
    """Build a :class:`~snnsim.network.Network` from a NIR file (or ``nir.NIRGraph``).

    Parameters
    ----------
    source : str, Path or nir.NIRGraph
        Read with ``nir.read(path)`` (type checking on).
    dt : float, optional
        The file's step in seconds; default the graph metadata ``"dt"`` (required if the
        file has none). The network's ``dt`` in ms is ``snnsim_dt_ms`` from the metadata
        when it matches, else ``dt * 1000``.
    inputs : dict, optional
        Spike times (ms, one list per neuron) per input population label (``"input"``, or
        the node names when there are several ``Input`` nodes); default the times stored in
        the node metadata by snnsim's exporter, else no spikes.
    seed : int
        Seed of the new network.
    convention : {"exact", "snntorch"}
        How to read ``LIF``/``CubaLIF`` nodes not written by snnsim: NIR's ODE integrated
        exactly (``LIFDelta``/``LIF``), or as snnTorch's ``import_from_nir`` does (forward
        Euler with ``dt``, default ``1e-4`` s: ``Leaky``/``CubaLIF`` with
        ``reset="zero", reset_delay=False``; see :mod:`snnsim.hardware.nir_discrete`).

    Raises
    ------
    FileFormatError
        For graphs outside the supported subset (node types, bias, chains of weight nodes),
        naming the node and what is supported.
    """
    from snnsim.connectors import FromList
    from snnsim.models import SpikeSource
    from snnsim.network import Network

    nir = require_nir()
    graph = source if isinstance(source, nir.NIRGraph) else nir.read(Path(source))
    graph = flatten(nir, graph)  # recurrent populations are written as sub-graphs
    meta = dict(graph.metadata or {})
    if convention not in ("exact", "snntorch"):
        raise _ParameterError(f"import_nir(convention={convention!r}): use 'exact' or 'snntorch'")
    if dt is None and convention == "snntorch" and "dt" not in meta:
        dt = 1e-4  # snnTorch's export_to_nir/import_from_nir hard-code it
    if dt is None:
        if "dt" not in meta:
            raise FileFormatError(
                "import_nir: the graph has no 'dt' in its metadata; pass dt= (seconds), e.g. "
                "dt=1e-4 for files written by snnTorch"
            )
        dt = float(meta["dt"])
    dt_ms = dt * 1e3
    if "snnsim_dt_ms" in meta and math.isclose(float(meta["snnsim_dt_ms"]), dt_ms, rel_tol=1e-9):
        dt_ms = float(meta["snnsim_dt_ms"])
    ictx = ImportContext(float(dt), dt_ms, convention)
    net = Network(dt=dt_ms, seed=seed)
    order = json.loads(meta["snnsim_order"]) if "snnsim_order" in meta else []
    rest = _discrete.file_order(graph.nodes, graph.edges)
    names = [n for n in order if n in graph.nodes] + [n for n in rest if n not in order]
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    placeholders = {
        n for n in names if kinds[n] == "Input" and _meta(graph.nodes[n], "snnsim_placeholder")
    }
    placeholders |= {b for a, b in graph.edges if a in placeholders}
    names = [n for n in names if n not in placeholders]
    input_names = [n for n in names if kinds[n] == "Input"]
    pops: dict[str, Population] = {}
    factors: dict[str, _F64] = {}
    given = inputs or {}
    for name in names:
        node, kind = graph.nodes[name], kinds[name]
        if kind == "Input":
            label = "input" if len(input_names) == 1 else name
            size = int(np.prod(node.input_type["input"]))
            times = given.get(label)
            if times is None:
                t, ptr = _meta(node, "spike_times"), _meta(node, "spike_times_indptr")
                if t is not None and ptr is not None:
                    ms = ictx.ms(t)
                    times = [ms[ptr[i] : ptr[i + 1]].tolist() for i in range(size)]
                else:
                    times = [[] for _ in range(size)]
            pops[name] = net.add_population(size, SpikeSource(times, round_times=True), label)
        elif kind in IMPORTERS:
            model, factor = IMPORTERS[kind](node, ictx)
            pops[name] = net.add_population(factor.size, model, label=name)
            factors[name] = factor
        elif kind not in ("Linear", "Affine", "Delay", "Output"):
            raise FileFormatError(
                f"import_nir: node {name!r} is a {kind}; snnsim imports Input, Output, Linear, "
                f"Affine (zero bias), Delay and the neuron nodes {', '.join(IMPORTERS)}"
            )
    succ: dict[str, list[str]] = {n: [] for n in graph.nodes}
    pred: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        if a in placeholders:
            continue
        succ[a].append(b)
        pred[b].append(a)
    for name in names:
        kind = kinds[name]
        if kind in IMPORTERS or kind == "Input":
            bad = [b for b in succ[name] if kinds[b] not in ("Linear", "Affine", "Output")]
            if bad:
                raise FileFormatError(
                    f"import_nir: edge {name!r} -> {bad[0]!r} ({kinds[bad[0]]}); snnsim needs a "
                    "Linear/Affine node between populations"
                )
        if kind not in ("Linear", "Affine"):
            continue
        node = graph.nodes[name]
        if kind == "Affine" and np.any(np.asarray(node.bias) != 0):
            raise FileFormatError(
                f"import_nir: Affine node {name!r} has a nonzero bias; snnsim has no constant "
                "input through synapses (fold it into the neurons' i_offset/v_leak)"
            )
        if len(pred[name]) != 1 or pred[name][0] not in pops:
            raise FileFormatError(
                f"import_nir: weight node {name!r} must have exactly one Input or neuron node "
                f"before it; it has {pred[name]}"
            )
        pre = pops[pred[name][0]]
        weight = np.asarray(node.weight, dtype=np.float64)
        for nxt in succ[name]:
            steps = np.ones(weight.shape[0], dtype=np.int64)
            target = nxt
            if kinds[nxt] == "Delay":
                extra = np.asarray(graph.nodes[nxt].delay, dtype=np.float64) / dt
                steps = steps + np.rint(np.broadcast_to(extra, steps.shape)).astype(np.int64)
                if len(succ[nxt]) != 1:
                    raise FileFormatError(f"import_nir: Delay node {nxt!r} must feed one node")
                target = succ[nxt][0]
            if target not in factors:
                raise FileFormatError(
                    f"import_nir: {name!r} feeds {target!r} ({kinds[target]}); weights must "
                    f"reach a neuron node ({', '.join(IMPORTERS)}), optionally through a Delay"
                )
            post_pop = pops[target]
            w = weight * factors[target][:, None]
            post_i, pre_i = np.nonzero(w)
            vals, dl = w[post_i, pre_i], steps[post_i] * dt_ms
            signed = post_pop.model.signed_receptors
            parts = [(vals > 0, "exc"), (vals < 0, "inh")] if signed else [(vals != 0, None)]
            for sel, rec in parts:
                if not np.any(sel):
                    continue
                label = name if not signed or np.all(sel) else f"{name}:{rec}"
                net.connect(
                    pre, post_pop, FromList(pre_i[sel], post_i[sel], vals[sel], dl[sel]),
                    receptor=rec, round_delays=True, label=label,
                )  # fmt: skip
    return net
