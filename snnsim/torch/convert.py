"""Conversions between snnsim networks and PyTorch / snnTorch models, and batched simulation.

* :func:`to_torch`: an snnsim network -> :class:`~snnsim.torch.model.SpikingNetwork` (core
  time: torch step ``t`` is core step ``t + 1``).
* :func:`update_network`: trained weights, delays and per-neuron parameters written back.
* :func:`from_torch`: a ``SpikingNetwork`` or an snnTorch ``nn.Sequential`` -> a new network.
* :func:`simulate`: run a network in the event core on a ``(T, batch, n_in)`` spike tensor.

**Time mapping of snnTorch models** (fixed so that anyone can compare). snnTorch layers act
within the step, the core's connections take at least one step. Torch step ``t`` (from 0)
is the input spike stamped ``(t + 1) dt``; the neuron module at depth ``l`` (1 for the first)
emits the spike of torch step ``t`` at core step ``t + 1 + l``. Every feed-forward
connection therefore has core delay 1 step, a recurrent one keeps its one step, and a bias
acts from the layer's first step ``1 + l`` (a ``StepCurrent`` switched on at ``l dt``).
:func:`simulate` undoes the shift (its ``latency``), so its output is in torch layout.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

import snnsim as snn
from snnsim.errors import ParameterError
from snnsim.torch.delayed import DelayedLinear
from snnsim.torch.model import PopulationSpec, ProjectionSpec, SpikingNetwork, dense_from_table

__all__ = ["from_torch", "simulate", "to_torch", "update_network"]

#: core-step latency of each population of networks made by :func:`from_torch`
_LATENCY: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()

_NEURON_KINDS = {"Leaky": "leaky", "RLeaky": "leaky", "CubaLIF": "cubalif"}


def _torch_reset(model: Any) -> str:
    """Return the torch reset mode of a core model ("zero_all": zero the whole new membrane)."""
    reset = str(model.reset)
    if reset == "zero" and type(model).__name__ != "Leaky":
        return "zero_all"  # RLeaky and CubaLIF zero the new membrane, as snnTorch's classes
    return reset


def _kind(model: Any) -> str:
    name = type(model).__name__
    if name == "SpikeSource":
        return "input"
    if name in _NEURON_KINDS:
        return _NEURON_KINDS[name]
    raise ParameterError(
        f"to_torch: population model {name} is not supported; the bridge takes Leaky, "
        "RLeaky and CubaLIF populations driven by SpikeSource populations"
    )


def _pop_local(side: Any, positions: np.ndarray) -> np.ndarray:
    """Population-local indices of ``positions`` in a population or view."""
    out: np.ndarray = np.asarray(side.indices, dtype=np.int64)[positions]
    return out


def _bias(net: snn.Network, pop: snn.Population) -> tuple[np.ndarray, int]:
    """Per-neuron constant current from the step currents on ``pop`` and the stamp it starts."""
    bias = np.zeros(pop.size)
    start = 0
    for target, inp in net.inputs:
        owner = getattr(target, "population", target)
        if owner is not pop:
            continue
        if not isinstance(inp, snn.StepCurrent) or inp.times.size != 1:
            raise ParameterError(
                f"to_torch: {type(inp).__name__} on {pop.label!r} has no torch equivalent; "
                "only StepCurrent(times=[t0], amplitudes=[b]) (a bias from t0 on) is supported"
            )
        stamp = round(float(inp.times[0]) / net.dt) + 1
        if start and stamp != start:
            raise ParameterError(
                f"to_torch: the step currents on {pop.label!r} start at different times; "
                "a population's bias must switch on at one time"
            )
        start = stamp
        bias[_pop_local(target, np.arange(len(target)))] += float(inp.amplitudes[0])
    return bias, start


def to_torch(
    net: snn.Network,
    outputs: Sequence[str] | None = None,
    dtype: torch.dtype | None = None,
    learn_delays: bool = False,
    max_delay: int | None = None,
    learn: Sequence[str] = (),
) -> SpikingNetwork:
    """Return ``net`` as a :class:`SpikingNetwork` (core time; see :mod:`snnsim.torch.model`).

    Parameters
    ----------
    net : Network
        Leaky / CubaLIF populations driven by SpikeSource populations, any projections
        (one synapse per neuron pair and projection), per-synapse delays.
    outputs : list of str, optional
        Labels of the populations :meth:`~SpikingNetwork.forward` returns (default: the last
        neuron population created).
    dtype : torch.dtype, optional
        Parameter type (default ``torch.get_default_dtype()``); float64 reproduces the
        core's spikes exactly.
    learn_delays : bool
        Make every connection's delays learnable (DCLS-style, see :class:`DelayedLinear`).
    max_delay : int, optional
        Largest core delay in steps that learned delays may reach (default: the largest
        present).
    learn : sequence of str
        Per-neuron parameters to train: any of "beta", "alpha", "threshold", "bias".
    """
    dtype = dtype or torch.get_default_dtype()
    index = {id(pop): p for p, pop in enumerate(net.populations)}
    specs: list[PopulationSpec] = []
    params: dict[int, dict[str, torch.Tensor]] = {}
    for p, pop in enumerate(net.populations):
        kind = _kind(pop.model)
        spec = PopulationSpec(label=pop.label, kind=kind, size=pop.size)
        if kind != "input":
            spec.reset = _torch_reset(pop.model)
            spec.reset_delay = bool(pop.model.reset_delay)
            bias, spec.bias_start = _bias(net, pop)
            values = {
                "beta": pop.get("beta"),
                "threshold": pop.get("threshold"),
                "bias": bias,
            }
            if kind == "cubalif":
                values["alpha"] = pop.get("alpha")
            params[p] = {k: torch.as_tensor(v, dtype=dtype) for k, v in values.items()}
        specs.append(spec)
    layers: list[tuple[ProjectionSpec, DelayedLinear]] = []
    for proj in net.projections:
        pre_pop = getattr(proj.pre, "population", proj.pre)
        post_pop = getattr(proj.post, "population", proj.post)
        table = proj.table()
        pre = _pop_local(proj.pre, table.pre)
        post = _pop_local(proj.post, table.post)
        pairs = pre * post_pop.size + post
        if np.unique(pairs).size != pairs.size:
            raise ParameterError(
                f"to_torch: projection {proj.label!r} has several synapses between one pair "
                "of neurons; split it into projections with one synapse per pair"
            )
        top = int(table.delay.max()) if len(table) else 1
        reach = max(top, int(max_delay) if max_delay else top)
        layer = DelayedLinear(
            pre_pop.size, post_pop.size, reach - 1, learn_delay=learn_delays, dtype=dtype,
            mask=torch.as_tensor(dense_from_table(pre_pop.size, post_pop.size, pre, post,
                                                  np.ones(len(table))) > 0),
        )  # fmt: skip
        with torch.no_grad():
            w = dense_from_table(pre_pop.size, post_pop.size, pre, post, table.weight)
            d = dense_from_table(pre_pop.size, post_pop.size, pre, post, table.delay - 1.0)
            layer.weight.copy_(torch.as_tensor(w, dtype=dtype))
            layer.delay.copy_(torch.as_tensor(d, dtype=dtype))
        if not learn_delays:
            layer.round()
        layers.append((ProjectionSpec(index[id(pre_pop)], index[id(post_pop)]), layer))
    neuron_pops = [p for p, s in enumerate(specs) if s.kind != "input"]
    if not neuron_pops:
        raise ParameterError("to_torch: the network has no Leaky or CubaLIF population")
    if outputs is None:
        out_idx = [neuron_pops[-1]]
    else:
        labels = {s.label: p for p, s in enumerate(specs)}
        missing = [o for o in outputs if o not in labels]
        if missing:
            raise ParameterError(f"to_torch: no population labelled {missing}; have {list(labels)}")
        out_idx = [labels[o] for o in outputs]
    return SpikingNetwork(specs, layers, params, out_idx, net.dt, tuple(learn))


def update_network(net: snn.Network, model: SpikingNetwork) -> None:
    """Write ``model``'s weights, rounded delays and per-neuron parameters into ``net``.

    ``net`` must be the network ``model`` was made from (same populations and projections);
    built networks are updated in place (``Projection.set`` writes through to the engine).
    The projections get ``exact_weights`` (float64 storage), so the core runs the trained
    float64 weights, not their float32 roundings. Biases (trained, or set on the model)
    are written as ``to_torch`` reads them: the population's step currents are replaced by
    one ``StepCurrent`` per distinct value, switched on where the model's bias starts (stamp
    ``bias_start``, or from step 1). A changed bias needs an unbuilt network (inputs are
    fixed at build).
    """
    if len(net.projections) != len(model.layers) or len(net.populations) != len(model.pops):
        raise ParameterError(
            "update_network: the model was not made from this network "
            f"({len(model.pops)} populations / {len(model.layers)} projections vs "
            f"{len(net.populations)} / {len(net.projections)})"
        )
    for p, pop in enumerate(net.populations):
        spec = model.pops[p]
        if spec.kind == "input":
            continue
        names = ["beta", "threshold"] + (["alpha"] if spec.kind == "cubalif" else [])
        pop.set(**{n: model.param(p, n).detach().cpu().double().numpy() for n in names})
        _write_bias(net, pop, model.param(p, "bias").detach().cpu().double().numpy(),
                    spec.bias_start)  # fmt: skip
    for proj, layer in zip(net.projections, model.delay_layers(), strict=True):
        table = proj.table()
        pre = _pop_local(proj.pre, table.pre)
        post = _pop_local(proj.post, table.post)
        w = layer.weight.detach().cpu().double().numpy()[post, pre]
        d = layer.integer_delays().cpu().numpy()[post, pre] + 1
        proj.exact_weights = True  # float64 training: the static block's float32 would round
        proj.set(weight=w, delay=d * net.dt)


def _write_bias(net: snn.Network, pop: Any, bias: np.ndarray, bias_start: int) -> None:
    """Make ``pop``'s step currents the constant ``bias`` from stamp ``bias_start`` (0: 1)."""
    current, _ = _bias(net, pop)
    if np.array_equal(current, bias):
        return
    net.require_unbuilt(f"update_network (the bias of {pop.label!r} changed)")
    net.inputs[:] = [(t, i) for t, i in net.inputs if getattr(t, "population", t) is not pop]
    _add_bias(net, pop, bias, max(bias_start - 1, 0))


def _neuron_from_module(module: Any, label: str) -> tuple[snn.NeuronModel, str]:
    """Return the core model of an snnTorch neuron module and the module's class name."""
    import snntorch

    name = type(module).__name__
    supported = (snntorch.Leaky, snntorch.Synaptic, snntorch.RLeaky, snntorch.RSynaptic)
    if not isinstance(module, supported):
        raise ParameterError(
            f"from_torch: module {label!r} ({name}) is not supported; use nn.Linear, "
            "snnsim.torch.DelayedLinear and snnTorch Leaky, Synaptic, RLeaky, RSynaptic"
        )
    if not module.init_hidden:
        raise ParameterError(f"from_torch: {label!r} ({name}) needs init_hidden=True")
    if getattr(module, "inhibition", False) or getattr(module, "state_quant", False):
        raise ParameterError(f"from_torch: {label!r} uses inhibition or state_quant (no core form)")
    if float(getattr(module, "graded_spikes_factor", 1.0)) != 1.0:
        raise ParameterError(f"from_torch: {label!r} has graded spikes (no core form)")
    threshold = module.threshold.detach().double().cpu().numpy()
    if np.any(threshold <= 0):
        raise ParameterError(
            f"from_torch: {label!r} has a threshold <= 0; a resting neuron would fire before "
            "its layer's first step in the core (latency mapping)"
        )
    kwargs: dict[str, Any] = {
        "beta": module.beta.detach().double().clamp(0, 1).cpu().numpy(),
        "threshold": threshold,
        "reset": module.reset_mechanism,
        "reset_delay": bool(module.reset_delay),
    }
    if isinstance(module, (snntorch.Synaptic, snntorch.RSynaptic)):
        kwargs["alpha"] = module.alpha.detach().double().clamp(0, 1).cpu().numpy()
        return snn.CubaLIF(**_scalars(kwargs)), name
    if isinstance(module, snntorch.RLeaky):
        # RLeaky's zero reset zeroes the new membrane, Leaky's the previous one
        return snn.RLeaky(**_scalars(kwargs)), name
    return snn.Leaky(**_scalars(kwargs)), name


def _scalars(kwargs: dict[str, Any]) -> dict[str, Any]:
    """One-element parameter arrays as numbers (snnTorch keeps scalars as 0-d tensors)."""
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray) and v.size == 1:
            v = float(v.reshape(-1)[0])
        out[k] = v
    return out


def from_torch(model: nn.Module, dt: float = 1.0, seed: int = 1) -> snn.Network:
    """Build a new network from ``model`` (see the module docstring for the time mapping).

    Parameters
    ----------
    model : SpikingNetwork or nn.Sequential
        A model made by :func:`to_torch`, or an ``nn.Sequential`` of ``nn.Linear`` (with
        or without bias) / :class:`DelayedLinear` and snnTorch ``Leaky``, ``Synaptic``,
        ``RLeaky``, ``RSynaptic`` modules with ``init_hidden=True``.
    dt : float
        Time step of the new network, ms.
    seed : int
        Its seed.

    Returns
    -------
    Network
        One ``SpikeSource`` population labelled ``"input"`` (set its trains with
        ``pop.set(times=...)`` or use :func:`simulate`) and one population per neuron
        module, labelled by its ``Sequential`` child name.
    """
    if isinstance(model, SpikingNetwork):
        return _from_spiking_network(model, dt, seed)
    if not isinstance(model, nn.Sequential):
        raise ParameterError(
            f"from_torch: got {type(model).__name__}; give a SpikingNetwork (to_torch) or an "
            "nn.Sequential of nn.Linear / DelayedLinear and snnTorch neuron modules"
        )
    children = list(model.named_children())
    if not children or not isinstance(children[0][1], (nn.Linear, DelayedLinear)):
        raise ParameterError(
            "from_torch: the Sequential must start with nn.Linear or DelayedLinear"
        )
    net = snn.Network(dt=dt, seed=seed)
    n_in = children[0][1].in_features
    prev = net.add_population(n_in, snn.SpikeSource(times=[[] for _ in range(n_in)]),
                              label="input")  # fmt: skip
    latency = {"input": 0}
    pending: Any = None
    depth = 0
    for label, module in children:
        if isinstance(module, (nn.Linear, DelayedLinear)):
            if pending is not None:
                raise ParameterError(
                    f"from_torch: two connection layers in a row before {label!r}; put a "
                    "neuron module between them"
                )
            if module.in_features != prev.size:
                raise ParameterError(
                    f"from_torch: {label!r} takes {module.in_features} inputs but the layer "
                    f"before has {prev.size} neurons"
                )
            pending = module
            continue
        if pending is None:
            raise ParameterError(f"from_torch: neuron module {label!r} has no connection before it")
        neuron, _ = _neuron_from_module(module, label)
        depth += 1
        pop = net.add_population(pending.out_features, neuron, label=label)
        _connect_layer(net, prev, pop, pending, dt)
        bias = np.zeros(pop.size)
        if pending.bias is not None:
            bias += pending.bias.detach().double().cpu().numpy()
        recurrent = getattr(module, "recurrent", None)
        if recurrent is not None:
            bias += _connect_recurrent(net, pop, recurrent, label)
        _add_bias(net, pop, bias, depth)
        latency[label] = depth
        prev = pop
        pending = None
    if pending is not None:
        raise ParameterError("from_torch: the Sequential ends with a connection layer, not neurons")
    _LATENCY[net] = latency
    return net


def _connect_layer(
    net: snn.Network, pre: Any, post: Any, layer: nn.Linear | DelayedLinear, dt: float
) -> None:
    """Feed-forward connection: torch delay ``k`` is core delay ``k + 1`` steps."""
    w = layer.weight.detach().double().cpu().numpy()  # (post, pre)
    if isinstance(layer, DelayedLinear):
        mask = layer.mask.cpu().numpy()
        post_i, pre_i = np.nonzero(mask)
        delays = (layer.integer_delays().cpu().numpy()[post_i, pre_i] + 1) * dt
        net.connect(pre, post, snn.FromList(pre_i, post_i, w[post_i, pre_i], delays),
                    exact_weights=True)  # fmt: skip
    else:
        net.connect(pre, post, snn.AllToAll(), weight=w.T.copy(), delay=dt, exact_weights=True)


def _connect_recurrent(net: snn.Network, pop: Any, recurrent: Any, label: str) -> np.ndarray:
    """Recurrent weights of RLeaky / RSynaptic (one step); returns their bias."""
    if isinstance(recurrent, nn.Linear):
        w = recurrent.weight.detach().double().cpu().numpy()
        net.connect(pop, pop, snn.AllToAll(), weight=w.T.copy(), delay=net.dt,
                    exact_weights=True)  # fmt: skip
        b = recurrent.bias
        return np.zeros(pop.size) if b is None else b.detach().double().cpu().numpy()
    v = getattr(recurrent, "V", None)
    if v is None:
        raise ParameterError(f"from_torch: the recurrent part of {label!r} is not supported")
    v = np.broadcast_to(torch.as_tensor(v).detach().double().cpu().numpy(), (pop.size,))
    net.connect(pop, pop, snn.OneToOne(), weight=v.copy(), delay=net.dt, exact_weights=True)
    return np.zeros(pop.size)


def _add_bias(net: snn.Network, pop: Any, bias: np.ndarray, depth: int) -> None:
    """Add a bias from the layer's first step (stamp ``1 + depth``): one StepCurrent per value."""
    for value in np.unique(bias):
        if value == 0:
            continue
        idx = np.flatnonzero(bias == value)
        net.add_input(pop[idx], snn.StepCurrent(times=[depth * net.dt], amplitudes=[value]))


def _from_spiking_network(model: SpikingNetwork, dt: float, seed: int) -> snn.Network:
    net = snn.Network(dt=dt, seed=seed)
    pops = []
    for p, spec in enumerate(model.pops):
        if spec.kind == "input":
            pops.append(
                net.add_population(spec.size, snn.SpikeSource(times=[[]] * spec.size), spec.label)
            )
            continue
        kwargs: dict[str, Any] = {
            "beta": model.param(p, "beta").detach().double().cpu().numpy(),
            "threshold": model.param(p, "threshold").detach().double().cpu().numpy(),
            "reset": "zero" if spec.reset == "zero_all" else spec.reset,
            "reset_delay": spec.reset_delay,
        }
        if spec.kind == "cubalif":
            kwargs["alpha"] = model.param(p, "alpha").detach().double().cpu().numpy()
            neuron: snn.NeuronModel = snn.CubaLIF(**_scalars(kwargs))
        elif spec.reset == "zero_all":
            neuron = snn.RLeaky(**_scalars(kwargs))
        else:
            neuron = snn.Leaky(**_scalars(kwargs))
        pop = net.add_population(spec.size, neuron, spec.label)
        bias = model.param(p, "bias").detach().double().cpu().numpy()
        _add_bias(net, pop, bias, max(spec.bias_start - 1, 0))
        pops.append(pop)
    for link, layer in zip(model.links, model.delay_layers(), strict=True):
        mask = layer.mask.cpu().numpy()
        post_i, pre_i = np.nonzero(mask)
        w = layer.weight.detach().double().cpu().numpy()[post_i, pre_i]
        delays = (layer.integer_delays().cpu().numpy()[post_i, pre_i] + 1) * dt
        net.connect(pops[link.pre], pops[link.post], snn.FromList(pre_i, post_i, w, delays),
                    exact_weights=True)  # fmt: skip
    _LATENCY[net] = {spec.label: 0 for spec in model.pops}
    return net


def simulate(
    net: snn.Network,
    x: torch.Tensor | np.ndarray,
    output: str | None = None,
    latency: int | None = None,
) -> torch.Tensor:
    """Run ``net`` in the event core on input spikes ``x`` and return the output spikes.

    The first call for a network and batch size builds ``batch`` copies of the network side
    by side and keeps them (one per network and batch size, dropped with the network); a
    later call resets that copy to time 0 (:meth:`Network.reset`), gives its source the new
    trains (:meth:`Population.set_times`) and runs it. Changes made to ``net`` since
    (``set``, ``Projection.set``, :func:`update_network`, new populations, projections or
    inputs) are seen and make a new copy.

    Parameters
    ----------
    net : Network
        Its first ``SpikeSource`` population (``"input"`` for :func:`from_torch` networks)
        receives ``x``; the network itself is not changed (the batched copy runs).
    x : Tensor or array (T, batch, n_in)
        Spikes (non-zero = spike) of torch steps ``0 .. T-1``, stamped ``(t + 1) dt``.
    output : str, optional
        Label of the population to return (default: the last created).
    latency : int, optional
        Core steps between torch step ``t + 1`` and the output's core step (default: the
        depth of the output layer for :func:`from_torch` networks, else 0).

    Returns
    -------
    Tensor (T, batch, n_out)
        Output spikes in torch layout (float, 1 = spike).
    """
    spikes_in = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if spikes_in.ndim != 3:
        raise ParameterError(f"simulate: x has shape {spikes_in.shape}; expected (T, batch, n_in)")
    steps, batch, _ = spikes_in.shape
    sources = [p for p in net.populations if type(p.model).__name__ == "SpikeSource"]
    if not sources:
        raise ParameterError("simulate: the network has no SpikeSource population for the input")
    source = sources[0]
    if spikes_in.shape[2] != source.size:
        raise ParameterError(
            f"simulate: x has {spikes_in.shape[2]} inputs but {source.label!r} has {source.size}"
        )
    out_pop = net.populations[-1] if output is None else net.population(output)
    if latency is None:
        latency = _LATENCY.get(net, {}).get(out_pop.label, 0)
    copy = _batched(net, batch, source)
    copy.net.reset()
    # neuron b * n_in + i of the copy's source is input i of sample b
    flat = (spikes_in != 0).transpose(1, 2, 0).reshape(batch * source.size, steps)
    row, step = np.nonzero(flat)
    cuts = np.cumsum(np.bincount(row, minlength=flat.shape[0]))[:-1]
    copy.pops[id(source)].set_times(np.split((step + 1) * net.dt, cuts))
    rec = copy.recorder(out_pop)
    copy.net.run((steps + latency) * net.dt)
    result = np.zeros((steps, batch, out_pop.size))
    t = np.asarray(rec.steps, dtype=np.int64) - 1 - latency
    ids = np.asarray(rec.ids, dtype=np.int64)
    keep = (t >= 0) & (t < steps)
    result[t[keep], ids[keep] // out_pop.size, ids[keep] % out_pop.size] = 1.0
    dtype = x.dtype if isinstance(x, torch.Tensor) and x.is_floating_point() else None
    return torch.as_tensor(result, dtype=dtype or torch.get_default_dtype())


class _Batched:
    """``batch`` copies of a network side by side, built once and reset for every call."""

    def __init__(self, net: snn.Network, batch: int, source: Any) -> None:
        self.signature = _signature(net)
        self.net, self.pops = _batched_copy(net, batch, source)
        self.recorders: dict[int, Any] = {}

    def recorder(self, pop: Any) -> Any:
        """Return the copy's spike recorder of ``pop`` (made on first use)."""
        if id(pop) not in self.recorders:
            self.recorders[id(pop)] = self.net.record_spikes(self.pops[id(pop)])
        return self.recorders[id(pop)]


#: batched copies made by :func:`simulate`, per network and batch size
_BATCHES: weakref.WeakKeyDictionary[Any, dict[int, _Batched]] = weakref.WeakKeyDictionary()


def _signature(net: snn.Network) -> tuple[Any, ...]:
    """Return what a batched copy depends on: the description's objects, ``set`` counts.

    Objects are held (compared by identity, so none is freed and its id reused); every
    change the public API makes replaces one of them or counts a ``set`` call.
    """
    parts: list[Any] = [net.dt, net.precision, len(net.populations)]
    for pop in net.populations:
        parts += [pop.model, pop.set_calls, len(pop.initial_values)]
    for proj in net.projections:
        parts += [proj.connector, proj.weight, proj.delay, proj.set_calls]
    for target, inp in net.inputs:
        parts += [target, inp]
    return tuple(parts)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(
        u is v or (isinstance(u, (int, float, str)) and u == v) for u, v in zip(a, b, strict=True)
    )


def _batched(net: snn.Network, batch: int, source: Any) -> _Batched:
    """Return the cached batched copy of ``net``, made again when ``net`` changed since."""
    copies = _BATCHES.setdefault(net, {})
    copy = copies.get(batch)
    if copy is None or not _same(copy.signature, _signature(net)):
        copy = copies[batch] = _Batched(net, batch, source)
    return copy


def _batched_copy(net: snn.Network, batch: int, source: Any) -> tuple[snn.Network, dict[int, Any]]:
    """``batch`` independent copies of ``net`` side by side (each population ``batch`` times).

    The source's copy starts without spikes (:func:`simulate` sets them for every call).
    """
    # the copy chooses its threads as the original does (automatic: one thread below
    # NEURONS_PER_THREAD neurons per thread; a fixed count stays fixed)
    threads = None if net.threads_auto else net.threads
    copy = snn.Network(dt=net.dt, seed=net.seed, threads=threads, precision=net.precision)
    pops: dict[int, Any] = {}
    for pop in net.populations:
        if pop is source:
            model: Any = snn.SpikeSource(times=[[]] * (pop.size * batch))
        elif type(pop.model).__name__ == "SpikeSource":
            raise ParameterError(
                f"simulate: {pop.label!r} is a second SpikeSource; give the network one input"
            )
        else:
            values = {name: np.tile(pop.get(name), batch) for name in pop.model.defaults}
            model = pop.model.with_values(**values)
        pops[id(pop)] = copy.add_population(pop.size * batch, model, label=pop.label)
    for proj in net.projections:
        pre_pop = getattr(proj.pre, "population", proj.pre)
        post_pop = getattr(proj.post, "population", proj.post)
        table = proj.table()
        pre = _pop_local(proj.pre, table.pre)
        post = _pop_local(proj.post, table.post)
        off_pre = (np.arange(batch)[:, None] * pre_pop.size + pre[None]).ravel()
        off_post = (np.arange(batch)[:, None] * post_pop.size + post[None]).ravel()
        receptors = post_pop.model.receptors
        kwargs: dict[str, Any] = {}
        if len(receptors) > 1:
            kwargs["receptor"] = receptors[table.receptor]
        copy.connect(
            pops[id(pre_pop)], pops[id(post_pop)],
            snn.FromList(off_pre, off_post, np.tile(table.weight, batch),
                         np.tile(table.delay_ms, batch)),
            exact_weights=proj.exact_weights, **kwargs,
        )  # fmt: skip
    for target, inp in net.inputs:
        owner = getattr(target, "population", target)
        local = _pop_local(target, np.arange(len(target)))
        idx = (np.arange(batch)[:, None] * owner.size + local[None]).ravel()
        copy.add_input(pops[id(owner)][idx], inp)
    return copy, pops
