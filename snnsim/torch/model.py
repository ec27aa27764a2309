"""``SpikingNetwork``: an snnsim network as a PyTorch module that runs in core time.

:func:`to_torch` turns a network of ``Leaky`` / ``CubaLIF`` populations driven by
``SpikeSource`` populations (feed-forward, recurrent, skip connections, per-synapse delays)
into a module whose forward pass computes, step by step, exactly what the event core
computes, with surrogate gradients for training.

**Time mapping.** The module's step ``t`` (from 0) is the core's step ``t + 1``: input spike
``x[t]`` is the source spike stamped ``(t + 1) dt``, and the output at ``t`` is the spike of
the core's update with stamp ``t + 1``. A synapse of core delay ``d >= 1`` steps is a
:class:`~snnsim.torch.delayed.DelayedLinear` tap ``d - 1`` applied to the presynaptic spikes
of the previous step, so within a step all populations are independent (as in the core).
A constant current switched on at a stamp (a ``StepCurrent`` with one change) is a bias from
that step on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from snnsim.errors import ParameterError
from snnsim.torch.delayed import DelayedLinear
from snnsim.torch.neurons import neuron_step

__all__ = ["PopulationSpec", "SpikingNetwork"]


@dataclass
class PopulationSpec:
    """One population of a :class:`SpikingNetwork` (no tensors: those are module parameters)."""

    label: str
    #: "input", "leaky" or "cubalif"
    kind: str
    size: int
    reset: str = "subtract"
    reset_delay: bool = True
    #: core stamp from which the bias acts (0: always)
    bias_start: int = 0


@dataclass
class ProjectionSpec:
    """Presynaptic and postsynaptic population of one projection (indices into ``pops``)."""

    pre: int
    post: int


class SpikingNetwork(nn.Module):
    """A network of discrete-time neurons in core time (see the module docstring).

    Parameters
    ----------
    pops : list of PopulationSpec
    projections : list of (ProjectionSpec, DelayedLinear)
        Each connection's torch delay ``k`` is core delay ``k + 1``.
    params : dict
        Per neuron population index: ``{"beta": ..., "alpha": ..., "threshold": ...,
        "bias": ...}`` tensors of the population's size (``alpha`` for CubaLIF only).
    outputs : list of int
        Populations returned by :meth:`forward` (the first one as ``(spikes, mem)``).
    dt : float
        The network's time step, ms (kept for :func:`~snnsim.torch.from_torch`).
    learn : sequence of str
        Per-neuron parameters that receive gradients (of "beta", "alpha", "threshold",
        "bias"); weights always do, delays when their layer learns them.

    Attributes
    ----------
    recorded : dict of str -> Tensor
        After a forward pass: the spikes ``(T, batch, n)`` of every population, by label.
    """

    def __init__(
        self,
        pops: list[PopulationSpec],
        projections: list[tuple[ProjectionSpec, DelayedLinear]],
        params: dict[int, dict[str, torch.Tensor]],
        outputs: list[int],
        dt: float,
        learn: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.pops = list(pops)
        self.links = [spec for spec, _ in projections]
        self.layers = nn.ModuleList([layer for _, layer in projections])
        self.params = nn.ParameterDict()
        for p, values in params.items():
            for name, value in values.items():
                self.params[f"p{p}_{name}"] = nn.Parameter(value, requires_grad=name in learn)
        self.outputs = list(outputs)
        self.dt = float(dt)
        self.recorded: dict[str, torch.Tensor] = {}

    def param(self, p: int, name: str) -> torch.Tensor:
        """Per-neuron parameter ``name`` of population ``p``."""
        return cast(torch.Tensor, self.params[f"p{p}_{name}"])

    def delay_layers(self) -> list[DelayedLinear]:
        """Return the connection layers, one per projection (in projection order)."""
        return [cast(DelayedLinear, layer) for layer in self.layers]

    @property
    def input_populations(self) -> list[int]:
        """Indices of the input (spike source) populations, in creation order."""
        return [p for p, spec in enumerate(self.pops) if spec.kind == "input"]

    def _inputs(self, x: torch.Tensor | dict[str, torch.Tensor]) -> dict[int, torch.Tensor]:
        ins = self.input_populations
        if isinstance(x, torch.Tensor):
            if len(ins) != 1:
                labels = [self.pops[p].label for p in ins]
                raise ParameterError(
                    f"SpikingNetwork: {len(ins)} input populations ({labels}); give x as a "
                    "dict {label: tensor (T, batch, n)}"
                )
            x = {self.pops[ins[0]].label: x}
        out = {}
        for p in ins:
            spec = self.pops[p]
            if spec.label not in x:
                raise ParameterError(f"SpikingNetwork: no input for population {spec.label!r}")
            xp = x[spec.label]
            if xp.dim() != 3 or xp.shape[2] != spec.size:
                raise ParameterError(
                    f"SpikingNetwork: input {spec.label!r} has shape {tuple(xp.shape)}; "
                    f"expected (T, batch, {spec.size}) (time first, as snnTorch)"
                )
            out[p] = xp
        return out

    def forward(
        self, x: torch.Tensor | dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run ``x`` (``(T, batch, n_in)``, or a dict by input label) through the network.

        Returns the spikes and membrane ``(T, batch, n)`` of the first output population;
        every population's spikes are in :attr:`recorded`.
        """
        inputs = self._inputs(x)
        first = next(iter(inputs.values()))
        steps, batch = first.shape[0], first.shape[1]
        dtype = self.param_dtype()
        layers = self.delay_layers()
        taps = [layer.taps() for layer in layers]
        spikes: dict[int, list[torch.Tensor]] = {p: [] for p in range(len(self.pops))}
        mem_out: list[torch.Tensor] = []
        state: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
        for p, spec in enumerate(self.pops):
            if spec.kind != "input":
                zeros = torch.zeros(batch, spec.size, dtype=dtype, device=first.device)
                state[p] = (zeros, zeros.clone() if spec.kind == "cubalif" else None)
        # Links from input populations: their presynaptic spikes are known for every step,
        # so the delayed sum over taps runs once over the whole sequence (T times fewer,
        # larger matrix products than inside the step loop; same values).
        ext = {
            i: _delayed_input(inputs[link.pre].to(dtype), tap)
            for i, (link, tap) in enumerate(zip(self.links, taps, strict=True))
            if link.pre in inputs
        }
        for t in range(steps):
            current: dict[int, torch.Tensor] = {}
            for i, ((link, layer), tap) in enumerate(
                zip(zip(self.links, layers, strict=True), taps, strict=True)
            ):
                acc = current.get(link.post)
                if i in ext:
                    if t > 0:  # core delay k + 1: input of torch step t - 1 - k
                        current[link.post] = ext[i][t - 1] if acc is None else acc + ext[i][t - 1]
                    continue
                # core delay k + 1: the presynaptic spikes of torch step t - 1 - k
                for k in range(min(layer.max_delay + 1, t)):
                    pre = spikes[link.pre][t - 1 - k]
                    term = pre @ tap[k].T
                    acc = term if acc is None else acc + term
                if acc is not None:
                    current[link.post] = acc
            for p, spec in enumerate(self.pops):
                if spec.kind == "input":
                    spikes[p].append(inputs[p][t].to(dtype))
                    continue
                mem, syn = state[p]
                xin = current.get(p)
                if xin is None:
                    xin = torch.zeros(batch, spec.size, dtype=dtype, device=first.device)
                if t + 1 >= spec.bias_start:
                    xin = xin + self.param(p, "bias")
                s, mem, syn = neuron_step(
                    xin, mem, syn, self.param(p, "beta"),
                    self.param(p, "alpha") if spec.kind == "cubalif" else None,
                    self.param(p, "threshold"), spec.reset, spec.reset_delay,
                )  # fmt: skip
                state[p] = (mem, syn)
                spikes[p].append(s)
                if p == self.outputs[0]:
                    mem_out.append(mem)
        self.recorded = {self.pops[p].label: torch.stack(spikes[p]) for p in range(len(self.pops))}
        return self.recorded[self.pops[self.outputs[0]].label], torch.stack(mem_out)

    def param_dtype(self) -> torch.dtype:
        """Return the floating-point type of the network's parameters."""
        for value in self.parameters():
            return value.dtype
        return torch.get_default_dtype()

    def describe(self) -> dict[str, Any]:
        """Plain description: populations, connections (sizes and delays), outputs."""
        return {
            "populations": [vars(spec) for spec in self.pops],
            "projections": [
                {"pre": link.pre, "post": link.post, "max_delay": layer.max_delay}
                for link, layer in zip(self.links, self.delay_layers(), strict=True)
            ],
            "outputs": self.outputs,
            "dt": self.dt,
        }


def _delayed_input(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    r"""Delayed weighted sum :math:`y[t] = \sum_k x[t - k]\, W_k^T` over a whole sequence.

    ``x`` is ``(T, batch, n_pre)``, ``taps`` ``(K, n_post, n_pre)``; zeros before the start.
    """
    steps = x.shape[0]
    y = x.new_zeros(steps, x.shape[1], taps.shape[1])
    for k in range(min(taps.shape[0], steps)):
        y = y + nn.functional.pad(x[: steps - k] @ taps[k].T, (0, 0, 0, 0, k, 0))
    return y


def dense_from_table(
    n_pre: int, n_post: int, pre: np.ndarray, post: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """Dense ``(n_post, n_pre)`` matrix of per-synapse ``values`` (0 where no synapse)."""
    out = np.zeros((n_post, n_pre))
    out[post, pre] = values
    return out
