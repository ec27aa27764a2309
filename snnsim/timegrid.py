"""The time grid: every time in a network is an integer number of steps of ``dt`` ms."""

from __future__ import annotations

import math

from snnsim.errors import ParameterError

__all__ = ["ON_GRID_TOL", "steps_on_grid"]

#: Relative tolerance within which ``value / dt`` counts as an integer.
ON_GRID_TOL = 1e-9


def steps_on_grid(value_ms: float, dt: float, what: str, round_values: bool = False) -> int:
    """Convert a time in ms to an integer number of steps, refusing off-grid values.

    Parameters
    ----------
    value_ms : float
        Time, ms.
    dt : float
        Time step, ms.
    what : str
        What the value is, for the error message (e.g. ``"LIF: tau_refrac"``).
    round_values : bool
        Round to the nearest step instead of refusing off-grid values.

    Raises
    ------
    ParameterError
        If ``value_ms / dt`` is not an integer (within 1e-9 relative) and
        ``round_values`` is False.
    """
    x = value_ms / dt
    n = round(x)
    if not round_values and abs(x - n) > ON_GRID_TOL * max(1.0, abs(x)):
        lower, upper = math.floor(x) * dt, math.ceil(x) * dt
        raise ParameterError(
            f"{what}={float(value_ms)!r} ms is not a multiple of dt={dt} ms; use a multiple "
            f"of dt (e.g. {lower:g} or {upper:g} ms)"
        )
    return int(n)
