"""External inputs that drive neurons without explicit source neurons."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError

__all__ = ["Input", "PoissonInput", "StepCurrent"]


class Input:
    """Base class of inputs added with :meth:`Network.add_input`."""

    def describe(self) -> dict[str, Any]:
        """Plain description (for files)."""
        raise NotImplementedError


def _number(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{owner}({name}={value!r}): {name} must be a number")
    x = float(value)
    if not math.isfinite(x):
        raise ParameterError(f"{owner}({name}={value!r}): {name} must be finite")
    return x


def _numbers(owner: str, name: str, value: object, unit: str) -> npt.NDArray[np.float64]:
    """``value`` as a flat float64 array; strings, complex numbers and None are refused."""
    fix = f"give real numbers in {unit}, e.g. {name}=[0.0, 50.0]"
    if value is None or isinstance(value, (str, bytes)):
        raise ParameterError(f"{owner}({name}={value!r}): {name} must be numbers; {fix}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray([object()])
    if arr.size and arr.dtype.kind not in "iuf":
        raise ParameterError(
            f"{owner}({name}=...): values of type {arr.dtype} are not real numbers; {fix}"
        )
    return np.asarray(arr, dtype=np.float64).reshape(-1)


class PoissonInput(Input):
    r"""Aggregated Poisson drive (Brian2 ``PoissonInput``): no explicit source neurons.

    In every step each target receives ``k * weight`` on ``receptor``, with
    :math:`k \sim \mathrm{Binomial}(n_{inputs}, \nu\, dt)` drawn independently per target and
    step from a counter-based stream (exact inversion sampling). The input counts as
    arriving in that step, like a spike with that arrival step.

    Parameters
    ----------
    n_inputs : int
        Number of independent Poisson inputs per target (>= 0).
    rate : float
        Rate of each input, Hz (>= 0, with ``rate * dt <= 1``).
    weight : float
        Weight of one input spike (nA for current synapses, mV for delta synapses).
    receptor : str, optional
        ``"exc"`` or ``"inh"`` for two-receptor models (default ``"exc"``).
    """

    def __init__(
        self, n_inputs: int, rate: float, weight: float, receptor: str | None = None
    ) -> None:
        if (
            isinstance(n_inputs, bool)
            or not isinstance(n_inputs, (int, np.integer))
            or n_inputs < 0
        ):
            raise ParameterError(
                f"PoissonInput(n_inputs={n_inputs!r}): n_inputs must be an integer >= 0"
            )
        self.n_inputs = int(n_inputs)
        self.rate = _number("PoissonInput", "rate", rate)
        if self.rate < 0:
            raise ParameterError(f"PoissonInput(rate={rate!r}): rate must be >= 0 Hz")
        self.weight = _number("PoissonInput", "weight", weight)
        self.receptor = receptor

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {
            "input": "PoissonInput",
            "n_inputs": self.n_inputs,
            "rate": self.rate,
            "weight": self.weight,
            "receptor": self.receptor or "",
        }


class StepCurrent(Input):
    """Piecewise-constant current injected into each target (PyNN ``StepCurrentSource``).

    The current is ``amplitudes[k]`` from ``times[k]`` until the next time; it is 0 before
    ``times[0]``. A change at time ``t`` is seen by the membrane update over
    ``(t, t + dt]``. Several step currents on one neuron add up.

    Parameters
    ----------
    times : array_like of float
        Change times, ms, strictly increasing, ``>= 0`` and multiples of ``dt``.
    amplitudes : array_like of float
        Current after each change, nA (same length as ``times``).
    """

    def __init__(self, times: npt.ArrayLike, amplitudes: npt.ArrayLike) -> None:
        t = _numbers("StepCurrent", "times", times, "ms")
        a = _numbers("StepCurrent", "amplitudes", amplitudes, "nA")
        if t.size != a.size:
            raise ParameterError(
                f"StepCurrent: times has {t.size} entries and amplitudes {a.size}; they must match"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
            raise ParameterError("StepCurrent: times and amplitudes must be finite")
        if t.size and (t[0] < 0 or np.any(np.diff(t) <= 0)):
            raise ParameterError(
                f"StepCurrent: times must be >= 0 ms and strictly increasing, got {t.tolist()[:10]}"
            )
        self.times = t
        self.amplitudes = a

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"input": "StepCurrent"}
