"""The snnTorch bridge: train snnsim networks with surrogate gradients, bring them back.

Install with ``pip install torch==2.13.0`` first (a CPU build; an unpinned ``torch`` pulls
several GB of CUDA packages), then ``pip install "snnsim[torch]"``.

.. code-block:: python

    from snnsim import torch as snt
    model = snt.to_torch(net)            # nn.Module; forward(x: (T, B, n_in)) -> (spikes, mem)
    ...                                   # train with any torch optimizer and snnTorch losses
    snt.update_network(net, model)        # trained weights, delays, per-neuron params back
    net2 = snt.from_torch(model, dt=1.0)  # or a new Network from a model
    out = snt.simulate(net2, x)           # the event core on a (T, B, n_in) spike tensor

Time mapping: see :mod:`snnsim.torch.model` (networks made here run in core time: torch
step ``t`` is core step ``t + 1``) and :mod:`snnsim.torch.convert` (snnTorch ``Sequential``
models: the layer at depth ``l`` emits torch step ``t`` at core step ``t + 1 + l``).
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "snnsim.torch needs PyTorch and snnTorch: pip install torch==2.13.0 (first: the CPU "
        "build), then pip install 'snnsim[torch]'"
    ) from err

from snnsim.torch.convert import from_torch, simulate, to_torch, update_network
from snnsim.torch.delayed import DelayedLinear
from snnsim.torch.model import SpikingNetwork
from snnsim.torch.neurons import neuron_step, spike
from snnsim.torch.training import History, evaluate, fit

__all__ = [
    "DelayedLinear",
    "History",
    "SpikingNetwork",
    "evaluate",
    "fit",
    "from_torch",
    "neuron_step",
    "simulate",
    "spike",
    "to_torch",
    "update_network",
]
