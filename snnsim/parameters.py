"""Model parameter values: a scalar, one value per neuron, or a distribution.

Every model parameter accepts, as in PyNN, NEST and Brian2, a number (the same for every
neuron), an array with one value per neuron of the population, or a
:class:`~snnsim.distributions.Distribution` sampled once per neuron when the population is
resolved (from the counter-based stream ``(seed, STREAM_PARAM, 64 * population + k)`` of
parameter ``k``, so the values do not depend on threads or on when they are drawn).

Heterogeneous populations compute their kernel coefficients once per distinct combination
of parameter values with the model's own scalar formulas, so each neuron gets exactly the
coefficients a homogeneous population with its values would get.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ParameterError
from snnsim.streams import STREAM_PARAM, key_of

__all__ = [
    "ParamValue",
    "coerce_parameter",
    "numeric_array",
    "resolve_values",
    "unique_combinations",
]

#: A parameter as given: a number, one value per neuron, or a distribution.
ParamValue = float | npt.NDArray[np.float64] | Distribution


def numeric_array(raw: Any, call: str, need: str, unit: str) -> npt.NDArray[Any]:
    """Return ``raw`` as an array of real numbers (any shape), or raise a ``ParameterError``.

    ``call`` is the call that gave the value, with ``{}`` where the value goes (filled in
    only for an error: the repr of a large array is slow); ``need`` opens the message for
    strings, booleans and ``None``.
    """
    if isinstance(raw, (str, bytes, bool, np.bool_)) or raw is None:
        what = call.replace("{}", repr(raw))
        raise ParameterError(
            f"{what}: {need} in {unit or 'its unit'}, one value per neuron, "
            "or a distribution such as snn.Normal(...)"
        )
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError):
        arr = np.asarray([object()])
    if arr.dtype.kind not in "iuf":
        what = call.replace("{}", "...")
        raise ParameterError(
            f"{what}: values of type {arr.dtype} are not numbers; give a number in "
            f"{unit or 'its unit'}, one value per neuron, or a distribution"
        )
    return arr


def coerce_parameter(owner: str, key: str, raw: Any, unit: str) -> ParamValue:
    """Check one parameter value and return it as a float, a float64 array or a distribution.

    Raises
    ------
    ParameterError
        For strings, booleans, complex numbers, non-finite values, or arrays that are not
        one-dimensional and non-empty.
    """
    if isinstance(raw, Distribution):
        return raw
    if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(raw, bool):
        x = float(raw)
        if not math.isfinite(x):
            raise ParameterError(f"{owner}({key}={raw!r}): {key} must be finite")
        return x
    arr = numeric_array(raw, f"{owner}({key}={{}})", f"{key} must be a number", unit)
    if arr.ndim == 0:
        return coerce_parameter(owner, key, arr.item(), unit)
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError(
            f"{owner}({key}=array of shape {arr.shape}): give one value per neuron (1-D)"
        )
    values = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ParameterError(f"{owner}({key}=...): value {bad} is {values[bad]!r}; must be finite")
    return values


def resolve_values(
    params: dict[str, ParamValue], size: int, seed: int, population: int, owner: str
) -> dict[str, float | npt.NDArray[np.float64]]:
    """Values of every parameter for a population of ``size`` neurons.

    Scalars stay scalars; arrays must have ``size`` values; distributions are sampled.
    """
    out: dict[str, float | npt.NDArray[np.float64]] = {}
    for k, (key, value) in enumerate(params.items()):
        if isinstance(value, Distribution):
            sample = value.sample(key_of(seed, STREAM_PARAM, 64 * population + k), size)
            out[key] = coerce_array(owner, key, sample, size)
        elif isinstance(value, np.ndarray):
            out[key] = coerce_array(owner, key, value, size)
        else:
            out[key] = float(value)
    return out


def coerce_array(owner: str, key: str, value: Any, size: int) -> npt.NDArray[np.float64]:
    """Check that ``value`` holds one finite value per neuron of a population of ``size``."""
    arr = np.ascontiguousarray(value, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ParameterError(
            f"{owner}: {key} has {arr.size} values for a population of {size} neurons; give "
            "one value per neuron, a number or a distribution"
        )
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{owner}: {key} contains NaN or Inf")
    return arr


def unique_combinations(
    values: dict[str, float | npt.NDArray[np.float64]], size: int
) -> tuple[list[dict[str, float]], npt.NDArray[np.int64]]:
    """Distinct combinations of per-neuron values and, per neuron, its combination's index."""
    varying = [k for k, v in values.items() if isinstance(v, np.ndarray)]
    if not varying:
        scalars = {k: float(v) for k, v in values.items() if not isinstance(v, np.ndarray)}
        return [scalars], np.zeros(size, dtype=np.int64)
    table = np.stack([np.asarray(values[k], dtype=np.float64) for k in varying], axis=1)
    rows, inverse = np.unique(table, axis=0, return_inverse=True)
    combos = []
    for row in rows:
        combo = {k: float(v) for k, v in values.items() if not isinstance(v, np.ndarray)}
        combo.update({k: float(x) for k, x in zip(varying, row, strict=True)})
        combos.append(combo)
    return combos, np.asarray(inverse, dtype=np.int64).reshape(-1)
