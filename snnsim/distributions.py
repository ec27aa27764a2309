"""Seeded random distributions for weights, delays and initial values.

A distribution is a description; values are drawn at build time from the network's
counter-based streams (one stream per projection or state variable), so the same seed
gives the same values whatever the thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError
from snnsim.kernels.connectivity import fill_normal, fill_uniform

__all__ = ["Distribution", "Normal", "Uniform"]


class Distribution:
    """Base class of the distributions accepted wherever a value or array is."""

    def sample(self, key: np.uint64, n: int) -> npt.NDArray[np.float64]:
        """Draw ``n`` values from the stream ``key`` (value ``i`` uses index ``i``)."""
        raise NotImplementedError

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can produce."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, float | str]:
        """Plain description (for files and messages)."""
        raise NotImplementedError


def _finite(name: str, owner: str, value: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{owner}: {name}={value!r} is not a number") from None
    if not math.isfinite(x):
        raise ParameterError(f"{owner}: {name}={value!r} must be finite")
    return x


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform distribution on ``[low, high)``.

    Parameters
    ----------
    low, high : float
        Bounds, in the unit of the quantity it stands for (mV, nA, ms).
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low = _finite("low", "Uniform", self.low)
        high = _finite("high", "Uniform", self.high)
        if high < low:
            raise ParameterError(
                f"Uniform(low={low}, high={high}): high must be >= low; swap the bounds"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, key: np.uint64, n: int) -> npt.NDArray[np.float64]:  # noqa: D102
        out = np.empty(n, dtype=np.float64)
        fill_uniform(np.uint64(key), self.low, self.high, out)
        return out

    def bounds(self) -> tuple[float, float]:  # noqa: D102
        return self.low, self.high

    def to_dict(self) -> dict[str, float | str]:  # noqa: D102
        return {"distribution": "uniform", "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Normal(Distribution):
    r"""Normal distribution, optionally truncated to ``[low, high]``, sampled exactly.

    The truncated density is

    .. math:: f(x) = \frac{\varphi((x - \mu)/\sigma)}{\sigma\,(\Phi(\beta) - \Phi(\alpha))},
              \quad \alpha = \frac{low - \mu}{\sigma},\ \beta = \frac{high - \mu}{\sigma},
              \ low \le x \le high

    (as NEST's ``normal`` with redraw and PyNN's ``normal_clipped``). An interval that holds
    at least 10 % of the mass is sampled by redrawing (up to 100 Box-Muller draws); any
    other one, and the rare value that misses 100 times, by inversion of the truncated CDF
    in log space, so bounds far in a tail (``low = mean + 8 * std`` or beyond) are exact
    too. See :func:`snnsim.kernels.connectivity.normal_value`.

    Parameters
    ----------
    mean, std : float
        Mean and standard deviation (``std >= 0``).
    low, high : float, optional
        Truncation bounds (default: none, the plain normal). With ``std == 0`` the mean
        must lie in ``[low, high]``.
    """

    mean: float
    std: float
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        mean = _finite("mean", "Normal", self.mean)
        std = _finite("std", "Normal", self.std)
        if std < 0:
            raise ParameterError(f"Normal(std={std}): std must be >= 0")
        low, high = float(self.low), float(self.high)
        if math.isnan(low) or math.isnan(high) or not low < high:
            raise ParameterError(f"Normal(low={low}, high={high}): need low < high")
        if std == 0 and not low <= mean <= high:
            raise ParameterError(
                f"Normal(mean={mean}, std=0, low={low}, high={high}): with std=0 every value "
                f"is the mean, which lies outside [{low}, {high}]; give std > 0 or a mean "
                "inside the bounds"
            )
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, key: np.uint64, n: int) -> npt.NDArray[np.float64]:  # noqa: D102
        out = np.empty(n, dtype=np.float64)
        fill_normal(np.uint64(key), self.mean, self.std, self.low, self.high, out)
        return out

    def bounds(self) -> tuple[float, float]:  # noqa: D102
        return self.low, self.high

    def to_dict(self) -> dict[str, float | str]:  # noqa: D102
        return {
            "distribution": "normal",
            "mean": self.mean,
            "std": self.std,
            "low": self.low,
            "high": self.high,
        }
