r"""Recurrent populations as NIR sub-graphs, in the layout of snnTorch's ``export_to_nir``.

Used by :mod:`snnsim.hardware.nir`: :func:`wrap_recurrent` on export, :func:`flatten` on import.

Why a sub-graph
---------------
A population with one-step projections onto itself (snnTorch's ``RLeaky`` / ``RSynaptic``:
:math:`U_t = \beta U_{t-1} + x_t + W S_{t-1}`) could be written flat, as the cycle
``pop -> Linear -> pop`` next to its feed-forward input ``Linear -> pop``. NIR allows that, but
snnTorch 1.0's ``import_from_nir`` misreads it: it finds the two-node cycle, moves it into a
sub-graph whose edges are ``input -> Linear -> LIF -> Linear`` (so the feed-forward input is
multiplied by the *recurrent* weights), and nirtorch 2.6 then runs that sub-graph as it stands
(snnTorch's own ``RLeaky`` branch is never reached). A flat export of an ``RLeaky`` network
gave snnTorch 230 spikes where snnsim and snnTorch's own ``RLeaky`` give 378 (0 against 93 in
the case that found it; ``tests/regression/test_nir_recurrent_snntorch_misread.py``).

snnTorch writes its recurrent layers as a sub-graph node instead, and that form is read
correctly: nodes ``input`` (``Input``), ``lif`` (the neuron node), ``w_rec`` (``Linear``,
``[post, pre]``) and ``output`` (``Output``) with edges ``input -> lif``, ``lif -> w_rec``,
``w_rec -> lif``, ``lif -> output``; the top-level edges name the sub-graph node. nirtorch
resolves the inner cycle with the previous step's output of ``w_rec``, which is the one-step
delay of the recurrent term. The exporter writes every neuron population with one-step
projections onto itself this way: the sub-graph is named by the population's label,
``w_rec`` is the sum of those projections' weights (repeated pairs summed, as every NIR weight
node), and self-projections with longer delays stay at the top level (``sub-graph -> Linear ->
Delay -> sub-graph``; snnTorch's importer cannot run a ``Delay`` node at all).

:func:`flatten` undoes any sub-graph (also those written by other tools): inner nodes become
``<sub-graph>.<node>``, except a sub-graph's only neuron node, which takes the sub-graph's name
(so snnsim's population keeps its label), and edges into / out of the sub-graph are rewired to
the nodes its ``Input`` feeds / its ``Output`` reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["WEIGHT_KINDS", "flatten", "wrap_recurrent"]

#: Node types that are not neurons (everything else in a sub-graph is a neuron node).
WEIGHT_KINDS: tuple[str, ...] = ("Input", "Output", "Linear", "Affine", "Delay", "Scale")


def wrap_recurrent(
    nir: Any, nodes: dict[str, Any], edges: list[tuple[str, str]], pop: str, self_linears: list[str]
) -> None:
    """Replace neuron node ``pop`` and its one-step self ``Linear`` nodes by a sub-graph, in place.

    Parameters
    ----------
    nir : module
        The ``nir`` package.
    nodes, edges : dict, list
        The top-level graph being built; ``nodes[pop]`` becomes a ``nir.NIRGraph`` and the
        edges ``pop -> lin -> pop`` of every ``lin`` in ``self_linears`` disappear.
    pop : str
        Node name of the population.
    self_linears : list of str
        ``Linear`` nodes with edges ``pop -> lin`` and ``lin -> pop`` (one-step delay).
    """
    neuron = nodes[pop]
    weight = sum(np.asarray(nodes[lin].weight, dtype=np.float64) for lin in self_linears)
    n = int(np.asarray(neuron.v_threshold).size)
    drop = {(pop, lin) for lin in self_linears} | {(lin, pop) for lin in self_linears}
    edges[:] = [e for e in edges if e not in drop]
    for lin in self_linears:
        del nodes[lin]
    nodes[pop] = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([n])}),
            "lif": neuron,
            "w_rec": nir.Linear(weight=weight),
            "output": nir.Output(output_type={"output": np.array([n])}),
        },
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        metadata={"snnsim_recurrent": pop},
        type_check=True,
    )


def flatten(nir: Any, graph: Any) -> Any:
    """Return ``graph`` without sub-graph nodes (module docstring); ``graph`` if it has none."""
    if not any(isinstance(node, nir.NIRGraph) for node in graph.nodes.values()):
        return graph
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    entries: dict[str, list[str]] = {}
    exits: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        if not isinstance(node, nir.NIRGraph):
            nodes[name] = node
            continue
        inner = flatten(nir, node)
        kinds = {k: type(v).__name__ for k, v in inner.nodes.items()}
        neurons = [k for k, kind in kinds.items() if kind not in WEIGHT_KINDS]
        rename = {k: f"{name}.{k}" for k in inner.nodes}
        if len(neurons) == 1:
            rename[neurons[0]] = name
        ins = {k for k, kind in kinds.items() if kind == "Input"}
        outs = {k for k, kind in kinds.items() if kind == "Output"}
        for k, v in inner.nodes.items():
            if k not in ins and k not in outs:
                nodes[rename[k]] = v
        entries[name] = [rename[b] for a, b in inner.edges if a in ins and b not in outs]
        exits[name] = [rename[a] for a, b in inner.edges if b in outs and a not in ins]
        edges += [(rename[a], rename[b]) for a, b in inner.edges if a not in ins and b not in outs]
    for a, b in graph.edges:
        for src in exits.get(a, [a]):
            edges += [(src, dst) for dst in entries.get(b, [b])]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=graph.metadata, type_check=False)
