r"""``DelayedLinear``: a linear layer with a learnable delay per synapse (DCLS-style).

Following DCLS-Delays (Hammouamri, Khalfaoui-Hassani & Masquelier, ICLR 2024, arXiv
2306.17670): every synapse ``(i, j)`` has a weight :math:`w_{ij}` and a real-valued delay
position :math:`p_{ij} \in [0, D]` (steps). During training the delay is spread over the
integer taps :math:`k = 0 \dots D` by a Gaussian of width :math:`\sigma`, annealed towards
zero so that the spread collapses onto one tap:

.. math::

    y_i[t] = \sum_{k=0}^{D} \sum_j w_{ij}\, g_k(p_{ij}) \, x_j[t - k],

    g_k(p) = \frac{\exp(-(k - p)^2 / 2\sigma^2)}{\sum_{k'} \exp(-(k' - p)^2 / 2\sigma^2)}

(``normalize="peak"`` divides by the largest tap instead of the sum). After :meth:`round`
(the fine-tuning phase of DCLS) the layer uses the hard-rounded delays
:math:`g_k = [k = \mathrm{round}(p_{ij})]` and only the weights learn; this is what the
event core runs. Delays here are in *torch* steps: 0 is a plain ``nn.Linear``. In the event
core every connection takes at least one step, so torch delay ``k`` becomes core delay
``k + 1`` (the bridge's time mapping, see :mod:`snnsim.torch`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["DelayedLinear"]


class DelayedLinear(nn.Module):
    """Linear map with a weight and a (learnable) delay per synapse.

    Parameters
    ----------
    in_features, out_features : int
        Sizes, as ``nn.Linear``.
    max_delay : int
        Largest delay ``D`` in steps (taps ``0 .. D``).
    bias : bool
        Add a learnable bias per output (as ``nn.Linear``; off by default).
    sigma : float
        Initial Gaussian width in taps (annealed with :meth:`set_sigma`).
    normalize : {"sum", "peak"}
        Normalisation of the Gaussian taps (DCLS uses the sum).
    learn_delay : bool
        Whether the delay positions receive gradients.
    mask : Tensor (out_features, in_features) of bool, optional
        Synapses that exist (``None``: all). Weights of absent synapses stay 0.
    dtype : torch.dtype, optional

    Attributes
    ----------
    weight : Parameter (out_features, in_features)
    delay : Parameter (out_features, in_features)
        Delay positions in steps, kept in ``[0, max_delay]``.
    """

    mask: torch.Tensor

    def __init__(
        self,
        in_features: int,
        out_features: int,
        max_delay: int,
        bias: bool = False,
        sigma: float | None = None,
        normalize: str = "sum",
        learn_delay: bool = True,
        mask: torch.Tensor | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if int(max_delay) < 0:
            raise ValueError(f"DelayedLinear(max_delay={max_delay}): must be >= 0 steps")
        if normalize not in ("sum", "peak"):
            raise ValueError(f"DelayedLinear(normalize={normalize!r}): use 'sum' or 'peak'")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.max_delay = int(max_delay)
        self.normalize = normalize
        bound = 1.0 / math.sqrt(max(self.in_features, 1))
        w = torch.empty(self.out_features, self.in_features, dtype=dtype).uniform_(-bound, bound)
        self.weight = nn.Parameter(w)
        d = torch.rand(self.out_features, self.in_features, dtype=dtype) * self.max_delay
        self.delay = nn.Parameter(d, requires_grad=learn_delay)
        self.bias = nn.Parameter(torch.zeros(self.out_features, dtype=dtype)) if bias else None
        if mask is None:
            mask = torch.ones(self.out_features, self.in_features, dtype=torch.bool)
        self.register_buffer("mask", mask.to(torch.bool))
        self.sigma = float(sigma) if sigma is not None else max(self.max_delay / 2.0, 0.5)
        #: after :meth:`round`, the hard-rounded delays are used
        self.rounded = False

    def set_sigma(self, sigma: float) -> None:
        """Set the Gaussian width (taps); anneal it towards 0 during training."""
        self.sigma = float(sigma)

    def round(self) -> None:
        """Switch to hard-rounded integer delays (the fine-tuning and export phase)."""
        with torch.no_grad():
            self.delay.copy_(self.integer_delays().to(self.delay.dtype))
        self.delay.requires_grad_(False)
        self.rounded = True

    def integer_delays(self) -> torch.Tensor:
        """Delays rounded to the nearest tap, int64 ``(out_features, in_features)``."""
        return self.delay.detach().clamp(0, self.max_delay).round().to(torch.int64)

    def taps(self) -> torch.Tensor:
        """Return the weight of every tap, ``(max_delay + 1, out_features, in_features)``."""
        w = self.weight * self.mask.to(self.weight.dtype)
        k = torch.arange(self.max_delay + 1, dtype=w.dtype, device=w.device)[:, None, None]
        if self.rounded or self.sigma <= 0:
            g = (k == self.integer_delays().to(w.dtype)[None]).to(w.dtype)
        else:
            p = self.delay.clamp(0, self.max_delay)[None]
            g = torch.exp(-0.5 * ((k - p) / self.sigma) ** 2)
            if self.normalize == "sum":
                g = g / (g.sum(dim=0, keepdim=True) + 1e-12)
            else:
                g = g / (g.amax(dim=0, keepdim=True) + 1e-12)
        return g * w[None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply to a whole sequence ``x`` of shape ``(T, batch, in_features)``."""
        taps = self.taps()
        steps = x.shape[0]
        y = x.new_zeros(steps, x.shape[1], self.out_features)
        for k in range(min(self.max_delay + 1, steps)):
            # tap k: the input of k steps ago (zeros before the start)
            y = y + nn.functional.pad(x[: steps - k] @ taps[k].T, (0, 0, 0, 0, k, 0))
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self) -> str:  # noqa: D102
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"max_delay={self.max_delay}, sigma={self.sigma:g}, rounded={self.rounded}"
        )
