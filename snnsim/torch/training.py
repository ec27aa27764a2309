"""Training loop for bridge models: surrogate gradients, DCLS delay annealing, checkpoints.

:func:`fit` trains a :class:`~snnsim.torch.model.SpikingNetwork` (or any module whose
forward maps ``(T, batch, n_in)`` spikes to ``(spikes, mem)``) with snnTorch's own losses
(``snntorch.functional``, rate-coded cross entropy by default) and reports validation
accuracy (``snntorch.functional.accuracy_rate``). Layers with learnable delays
(:class:`~snnsim.torch.delayed.DelayedLinear`) follow the DCLS schedule: the Gaussian width
shrinks linearly from its initial value to ``sigma_end`` over the first ``round_at`` of
the epochs, then delays are rounded and only weights are fine-tuned (the rounded model is
what the event core runs). Checkpoints are ``state_dict`` files, loadable with
``torch.load(path, weights_only=True)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from snnsim.errors import ParameterError
from snnsim.torch.delayed import DelayedLinear

__all__ = ["History", "batches", "evaluate", "fit"]


@dataclass
class History:
    """Per-epoch loss and accuracies of :func:`fit`."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, generator: Any = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Split time-first data ``x (T, N, n_in)`` and labels ``y (N,)`` into batches."""
    n = x.shape[1]
    if y.shape[0] != n:
        raise ParameterError(f"batches: x has {n} samples (axis 1) but y has {y.shape[0]}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return [
        (x[:, order[i : i + batch_size]], y[order[i : i + batch_size]])
        for i in range(0, n, batch_size)
    ]


def _delay_layers(model: nn.Module) -> list[DelayedLinear]:
    return [m for m in model.modules() if isinstance(m, DelayedLinear) and not m.rounded]


def fit(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    delay_lr: float | None = None,
    loss: Callable[..., torch.Tensor] | None = None,
    sigma_end: float = 0.1,
    round_at: float = 0.8,
    checkpoint: str | Path | None = None,
    device: str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train = (x, y)``; returns the :class:`History`.

    Parameters
    ----------
    model : nn.Module
        ``forward(x) -> (spikes, mem)`` with time-first tensors.
    train, val : (Tensor (T, N, n_in), Tensor (N,))
        Spike inputs and integer class labels (one output neuron per class).
    epochs, batch_size, lr : int, int, float
        Adam on every parameter that requires a gradient.
    delay_lr : float, optional
        Learning rate of delay positions (default ``lr``; DCLS uses a larger one).
    loss : callable, optional
        ``loss(spikes, targets)``, default ``snntorch.functional.ce_rate_loss()``.
    sigma_end, round_at : float, float
        DCLS schedule of learnable delays (see the module docstring).
    checkpoint : path, optional
        Where to save ``model.state_dict()`` after every epoch.
    device : str, optional
        Default: ``"cuda"`` when available, else ``"cpu"``.
    seed : int
        Seed of the batch order.
    progress : bool
        A progress line per batch on stderr.
    """
    import snntorch.functional as sf

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    loss_fn = loss or sf.ce_rate_loss()
    delays = [layer.delay for layer in _delay_layers(model) if layer.delay.requires_grad]
    delay_ids = {id(p) for p in delays}
    others = [p for p in model.parameters() if p.requires_grad and id(p) not in delay_ids]
    groups: list[dict[str, Any]] = [{"params": others, "lr": lr}]
    if delays:
        groups.append({"params": delays, "lr": delay_lr or lr})
    opt = torch.optim.Adam(groups)
    sigma0 = {id(layer): layer.sigma for layer in _delay_layers(model)}
    gen = torch.Generator().manual_seed(seed)
    history = History()
    x_train, y_train = train
    for epoch in range(epochs):
        t0 = time.perf_counter()
        frac = epoch / max(epochs - 1, 1)
        for layer in _delay_layers(model):
            if frac >= round_at:
                layer.round()
            else:
                s0 = sigma0.get(id(layer), layer.sigma)
                layer.set_sigma(s0 + (sigma_end - s0) * frac / max(round_at, 1e-9))
        model.train()
        correct, seen, loss_sum = 0.0, 0, 0.0
        parts = batches(x_train, y_train, batch_size, shuffle=True, generator=gen)
        for b, (xb, yb) in enumerate(parts):
            xb, yb = xb.to(device), yb.to(device)
            spikes, _ = model(xb)
            value = loss_fn(spikes, yb)
            opt.zero_grad()
            value.backward()
            opt.step()
            with torch.no_grad():
                for layer in _delay_layers(model):
                    layer.delay.clamp_(0, layer.max_delay)
            loss_sum += float(value.detach()) * yb.shape[0]
            correct += float(sf.accuracy_rate(spikes, yb)) * yb.shape[0]
            seen += yb.shape[0]
            if progress:
                sys.stderr.write(
                    f"\r[snnsim.torch] epoch {epoch + 1}/{epochs} batch {b + 1}/{len(parts)} "
                    f"loss {loss_sum / seen:.4f} acc {correct / seen:.3f}   "
                )
                sys.stderr.flush()
        history.loss.append(loss_sum / max(seen, 1))
        history.train_accuracy.append(correct / max(seen, 1))
        if val is not None:
            history.val_accuracy.append(evaluate(model, val, batch_size, device))
        history.seconds.append(time.perf_counter() - t0)
        if progress:
            extra = f" val {history.val_accuracy[-1]:.3f}" if val is not None else ""
            sys.stderr.write(
                f"\r[snnsim.torch] epoch {epoch + 1}/{epochs} loss {history.loss[-1]:.4f} "
                f"acc {history.train_accuracy[-1]:.3f}{extra} ({history.seconds[-1]:.1f} s)\n"
            )
        if checkpoint is not None:
            torch.save(model.state_dict(), str(checkpoint))
    return history


def evaluate(
    model: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    batch_size: int = 256,
    device: str | None = None,
) -> float:
    """Rate-coded accuracy of ``model`` on ``data = (x, y)`` (snnTorch ``accuracy_rate``)."""
    import snntorch.functional as sf

    device = device or next(model.parameters()).device.type
    model.eval()
    correct = 0.0
    with torch.no_grad():
        for xb, yb in batches(data[0], data[1], batch_size, shuffle=False):
            spikes, _ = model(xb.to(device))
            correct += float(sf.accuracy_rate(spikes, yb.to(device))) * yb.shape[0]
    return correct / max(int(data[1].shape[0]), 1)
