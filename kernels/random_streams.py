r"""Counter-based random streams.

Every random number in snnsim is a pure function of ``(seed, stream, index, counter)``:

.. math:: u = \mathrm{mix}(\mathrm{mix}(k_{seed,stream} \oplus index) \oplus counter)
          \cdot 2^{-53}

with ``mix`` the splitmix64 finaliser (Steele, Lea & Flood 2014). ``key`` is
``stream_key(seed, stream)``, computed once per stream outside the hot loop; ``index`` is a
neuron or synapse index and ``counter`` a time step (shifted left by 8 bits so up to 256
draws per (index, step) are independent). Because nothing is carried from draw to draw,
results do not depend on thread count, chunking, or whether a run was split or resumed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_TWO_M53 = 1.0 / 9007199254740992.0
_BELOW_ONE = 1.0 - _TWO_M53  # largest float64 below 1


@njit(**JIT)
def mix64(x: np.uint64) -> np.uint64:
    """Splitmix64 finaliser: a bijective avalanche mix of one 64-bit word."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**JIT)
def stream_key(seed: np.uint64, stream: np.uint64) -> np.uint64:
    """Key of one random stream, from the network seed and a stream id."""
    return mix64(mix64(np.uint64(seed)) ^ np.uint64(stream))


@njit(**JIT)
def random_bits(key: np.uint64, index: np.int64, counter: np.int64) -> np.uint64:
    """64 random bits for ``(key, index, counter)``."""
    return mix64(mix64(key ^ np.uint64(index)) ^ np.uint64(counter))


@njit(**JIT)
def uniform(key: np.uint64, index: np.int64, step: np.int64, draw: np.int64) -> float:
    """Uniform float64 in the open interval (0, 1).

    Parameters
    ----------
    key : uint64
        Stream key from :func:`stream_key`.
    index : int64
        Neuron or synapse index.
    step : int64
        Time step (or any per-index counter).
    draw : int64
        Draw number within ``(index, step)``, ``0 <= draw < 256``.
    """
    bits = random_bits(key, index, (step << 8) | draw)
    # (2**53 - 1) + 0.5 rounds to 2**53 in float64, so the top value needs the clamp.
    return min(((bits >> _S11) + 0.5) * _TWO_M53, _BELOW_ONE)


@njit(**JIT)
def standard_normal(key: np.uint64, index: np.int64, step: np.int64, draw: np.int64) -> float:
    """Draw a standard normal variate by Box-Muller from draws ``2*draw`` and ``2*draw+1``."""
    u1 = uniform(key, index, step, 2 * draw)
    u2 = uniform(key, index, step, 2 * draw + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(**JIT)
def binomial_from_zero(u: float, n: np.int64, p0: float, ratio: float) -> int:
    """Invert the Binomial(n, p) CDF from 0, given ``p0 = (1-p)^n`` and ``ratio = p/(1-p)``.

    The branch of :func:`binomial_count` for ``n p < 20``; callers that draw many variates
    with the same ``n, p`` compute ``p0`` and ``ratio`` once.
    """
    pk = p0
    c = pk
    k = 0
    while u > c and k < n:
        pk = pk * (n - k) / (k + 1.0) * ratio
        k += 1
        c += pk
    return k


@njit(**JIT)
def binomial_count(u: float, n: np.int64, p: float) -> int:
    """Exact Binomial(n, p) variate from one uniform ``u`` by inversion of the CDF.

    For ``n p < 20`` the search starts at 0 with ``P(0) = (1-p)^n`` (expected
    ``n p + 1`` iterations). Otherwise it starts at the mode, whose probability is
    computed in log space (no underflow for large n), and walks outward: the cost is
    O(sqrt(n p (1 - p))). Terms below ``1e-17`` of the mode probability are neglected.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return int(n)
    q = 1.0 - p
    ratio = p / q
    if n * p < 20.0:
        return binomial_from_zero(u, n, math.exp(n * math.log1p(-p)), ratio)
    mode = math.floor((n + 1) * p)
    if mode > n:
        mode = int(n)
    pm = math.exp(
        math.lgamma(n + 1.0)
        - math.lgamma(mode + 1.0)
        - math.lgamma(n - mode + 1.0)
        + mode * math.log(p)
        + (n - mode) * math.log(q)
    )
    tiny = pm * 1e-17
    # P(X < mode), summed from the mode downward until the terms are negligible.
    below = 0.0
    pk = pm
    k = mode
    while k > 0:
        pk = pk * k / (n - k + 1.0) / ratio
        k -= 1
        below += pk
        if pk < tiny:
            break
    if u <= below:
        c = below
        pk = pm
        k = mode
        while k > 0:
            pk = pk * k / (n - k + 1.0) / ratio
            k -= 1
            c -= pk
            if u > c:
                return k
        return 0
    c = below + pm
    pk = pm
    k = mode
    while u > c and k < n:
        pk = pk * (n - k) / (k + 1.0) * ratio
        k += 1
        c += pk
        if pk < tiny:
            break
    return k
