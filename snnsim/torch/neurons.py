r"""Discrete-time neuron steps in PyTorch: snnTorch's ``Leaky`` and ``Synaptic`` equations.

One step of a population, with ``x`` the input current of the step (dimensionless), ``R``
the reset signal computed from the membrane at the start of the step and detached from the
graph, ``S`` the spike (snnTorch 1.0, ``snntorch/_neurons/{leaky,synaptic,rleaky}.py``):

.. math::

    R = \Theta(U - \vartheta), \qquad I \leftarrow \alpha I + x \ \text{(CubaLIF only;
    Leaky: } I = x)

    U \leftarrow \begin{cases}
        \beta U + I - R\,\vartheta & \text{subtract} \\
        \beta (1 - R) U + I & \text{zero (Leaky)} \\
        (1 - R)(\beta U + I) & \text{zero, whole membrane (Synaptic, RLeaky, RSynaptic)} \\
        \beta U + I & \text{none}
    \end{cases}

    S = \Theta(U - \vartheta)

with :math:`\Theta(u) = 1` for :math:`u > 0`. Without ``reset_delay`` the reset of this
step's spike is applied at once: :math:`U \leftarrow U - (S - R)\vartheta` (subtract) or
:math:`U \leftarrow U - (S - R) U` (zero). These are the same equations as the event core's
``snn.Leaky`` / ``snn.CubaLIF`` kernels, evaluated in the same order, so in float64 both give
the same spikes.

The spike function is Heaviside in the forward pass and a surrogate in the backward pass
(``atan`` by default, as snnTorch), and it keeps the membrane's dtype (snnTorch's surrogates
return float32, which breaks float64 models).
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["RESET_MODES", "SpikeFunction", "neuron_step", "spike"]

#: Reset modes: "zero" is snnTorch Leaky's, "zero_all" that of its other classes.
RESET_MODES = ("subtract", "zero", "zero_all", "none")


class SpikeFunction(torch.autograd.Function):
    r"""Heaviside forward, arctangent surrogate backward (snnTorch ``surrogate.atan``).

    Backward: :math:`\partial S / \partial u = (\alpha / 2) / (1 + (\pi \alpha u / 2)^2)`.
    """

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, slope: float) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(u)
        ctx.slope = slope
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: D102
        (u,) = ctx.saved_tensors
        a = ctx.slope
        return grad * (a / 2) / (1 + (math.pi / 2 * a * u) ** 2), None


def spike(u: torch.Tensor, slope: float = 2.0) -> torch.Tensor:
    """Spikes of membrane ``u`` above zero, with the atan surrogate of ``slope``."""
    out: torch.Tensor = SpikeFunction.apply(u, slope)
    return out


def neuron_step(
    x: torch.Tensor,
    mem: torch.Tensor,
    syn: torch.Tensor | None,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    reset: str,
    reset_delay: bool,
    slope: float = 2.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Advance one step; returns ``(spikes, mem, syn)`` (``syn`` None for Leaky neurons).

    Parameters
    ----------
    x : Tensor (batch, n)
        Input current of this step.
    mem, syn : Tensor (batch, n)
        Membrane and synaptic current at the start of the step.
    beta, alpha, threshold : Tensor (n,) or scalar tensors
        Decays (clamped to [0, 1] as snnTorch does) and thresholds.
    reset : {"subtract", "zero", "zero_all", "none"}
        See the module docstring.
    reset_delay : bool
        snnTorch's ``reset_delay``.
    """
    r = (mem - threshold > 0).to(mem.dtype).detach()
    b = beta.clamp(0, 1)
    if syn is not None and alpha is not None:
        syn = alpha.clamp(0, 1) * syn + x
        cur = syn
    else:
        cur = x
    if reset == "subtract":
        mem = b * mem + cur - r * threshold
    elif reset == "zero":
        mem = b * (1 - r) * mem + cur
    elif reset == "zero_all":
        mem = (1 - r) * (b * mem + cur)
    else:
        mem = b * mem + cur
    s = spike(mem - threshold, slope)
    if not reset_delay and reset != "none":
        do_reset = s - r
        if reset == "subtract":
            mem = mem - do_reset * threshold
        else:
            mem = mem - do_reset * mem
    return s, mem, syn
