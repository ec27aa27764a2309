"""Lava conventions for :class:`snnsim.LoihiLIF` networks: weights and delays.

Lava's ``fixed_pt`` ``Dense`` / ``DelayDense`` processes (``lava/proc/dense/models.py``,
``lava/utils/weightutils.py``) take a weight matrix of 8-bit mantissas and change it before
use: the sign mode comes from the matrix (excitatory when no weight is negative,
inhibitory when none is positive, else mixed), weights are clipped to the mode's 8-bit
range, and the lowest ``8 - num_weight_bits + mixed`` bits are dropped
(``(w >> k) << k``, a floor). snnsim's ``connect`` takes the mantissas Lava actually uses;
:func:`dense_mantissas` computes them from a Lava weight matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.errors import ConnectivityError

__all__ = ["dense_mantissas", "lava_delay", "snnsim_delay_steps"]


def dense_mantissas(weights: Any, num_weight_bits: int = 8) -> npt.NDArray[np.int64]:
    """Return the mantissas a Lava ``fixed_pt`` ``Dense`` uses for ``weights``.

    Parameters
    ----------
    weights : array of int
        Lava weight matrix (any shape; Lava's is ``[n_out, n_in]``), integers.
    num_weight_bits : int
        Lava's ``num_weight_bits`` (1..8).

    Returns
    -------
    int64 array of the same shape
        Clipped to ``0..255`` (excitatory), ``-255..0`` (inhibitory) or ``-256..255``
        (mixed), then ``(w >> k) << k`` with ``k = 8 - num_weight_bits + mixed`` (inhibitory
        matrices are truncated on their magnitude, as Lava does).
    """
    w = np.asarray(weights)
    if w.size and (w.dtype.kind not in "iuf" or np.any(w != np.round(w))):
        raise ConnectivityError("dense_mantissas: Lava weights must be integers")
    if not 1 <= int(num_weight_bits) <= 8:
        raise ConnectivityError(
            f"dense_mantissas(num_weight_bits={num_weight_bits!r}): must be in 1..8"
        )
    w = w.astype(np.int64)
    if not w.size or w.min() >= 0:
        mode = "exc"
    elif w.max() <= 0:
        mode = "inh"
    else:
        mode = "mixed"
    mixed = int(mode == "mixed")
    x = -w if mode == "inh" else w
    x = np.clip(x, -256 * mixed, 255)
    k = 8 - int(num_weight_bits) + mixed
    x = (x >> k) << k
    out: npt.NDArray[np.int64] = -x if mode == "inh" else x
    return out


def snnsim_delay_steps(lava_delay: Any) -> npt.NDArray[np.int64]:
    """Delays in snnsim steps of Lava ``DelayDense`` delays: ``d + 1`` (``Dense``: 1 step)."""
    d = np.asarray(lava_delay, dtype=np.int64)
    if d.size and (d.min() < 0 or d.max() > 62):
        raise ConnectivityError("Lava DelayDense delays must be in 0..62")
    out: npt.NDArray[np.int64] = d + 1
    return out


def lava_delay(steps: Any) -> npt.NDArray[np.int64]:
    """Lava ``DelayDense`` delays of snnsim delays in steps: ``d - 1`` (refuses 0 or > 63)."""
    d = np.asarray(steps, dtype=np.int64)
    if d.size and (d.min() < 1 or d.max() > 63):
        raise ConnectivityError(
            "delays onto LoihiLIF neurons must be 1..63 steps (Lava DelayDense 0..62)"
        )
    out: npt.NDArray[np.int64] = d - 1
    return out
