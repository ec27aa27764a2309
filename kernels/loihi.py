"""Loihi fixed-point LIF neurons (Lava ``LIF`` process, ``fixed_pt`` model): kernels.

Model class: :class:`snnsim.models.LoihiLIF`. Coefficients (``LoihiLIF.coefficient_names``):
``du, dv, vth, bias_mant, bias_exp`` (integers held in float64). No float state; integer
state ``u`` then ``v`` (24-bit values in int64); input on receptor plane 0.

The ring buffer of a LoihiLIF neuron holds its synaptic input ``a_in`` of the step in
Lava's units: the sum over arriving synapses of ``mantissa * 2**weight_exp``. Every such
term is an integer (``Network.connect`` refuses mantissas that a negative exponent would
round), so the float64 ring holds ``a_in`` exactly (integers below 2**53); the network
precision ``"single"`` (float32 ring) is refused for these neurons.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE

#: Half range of the 24-bit state variables: u wraps above it, v is clipped below it.
UV_HALF = 1 << 23
#: Decay constants are 12-bit fractions of this unity.
DECAY_UNITY = 1 << 12
#: Synaptic input and threshold are shifted left by this many bits (MSB alignment).
ACT_SHIFT = 6


@njit(**JIT_INLINE)
def wrap_int32(x):
    """Two's-complement wrap of an integer to int32 (Lava computes in int32 arrays)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@njit(**JIT_INLINE)
def decay_truncate(x, keep):
    r"""Decay with sign-magnitude truncation: :math:`\mathrm{sign}(x)(|x|\,k \gg 12)`."""
    p = x * keep
    if p >= 0:
        return p >> 12
    return -((-p) >> 12)


@njit(**JIT_BORROW)
def loihi_lif_step(u, v, ring_row, lo, hi, gid0, coeffs, spikes, n_out):
    r"""Advance Loihi fixed-point LIF neurons ``lo <= i < hi`` by one step.

    Lava ``PyLifModelBitAcc`` (``fixed_pt``), with :math:`tr(x) = \mathrm{sign}(x)
    \lfloor |x| / 2^{12} \rfloor`:

    .. math::
        u &\leftarrow \mathrm{wrap}_{24}\big(tr(u\,(4096 - d_u - 1)) + (a_{in} \ll 6)\big) \\
        v &\leftarrow \mathrm{clip}\big(tr(v\,(4096 - d_v)) + u + b,\ -(2^{23} - 1),
             2^{23} - 1\big), \quad b = m_b \ll e_b \\
        s &= v > (v_{th} \ll 6), \qquad v \leftarrow 0 \text{ where } s

    ``wrap_24`` is Lava's single wrap: :math:`u > 2^{23}` becomes :math:`u - 2^{24}`,
    :math:`u \le -2^{23}` becomes :math:`u + 2^{24}`. Lava keeps ``a_in``, ``a_in << 6``
    and the sum in int32; those wraps are reproduced (they only matter for inputs far
    beyond Loihi's 16-bit ``a_in``). ``ring_row[gid0 + i]`` holds ``a_in`` (an integer as
    float64) and is cleared; ``coeffs`` holds ``du, dv, vth, bias_mant, bias_exp``.
    """
    keep_u = np.int64(DECAY_UNITY) - (np.int64(coeffs[0]) + 1)
    keep_v = np.int64(DECAY_UNITY) - np.int64(coeffs[1])
    thresh = np.int64(coeffs[2]) << ACT_SHIFT
    mant = np.int64(coeffs[3])
    bexp = np.int64(coeffs[4])
    bias = mant << bexp if bexp >= 0 else mant >> -bexp
    v_max = np.int64(UV_HALF - 1)
    for i in range(lo, hi):
        g = gid0 + i
        a = wrap_int32(np.int64(ring_row[g]))
        ring_row[g] = 0.0
        x = wrap_int32(decay_truncate(u[i], keep_u) + wrap_int32(a << ACT_SHIFT))
        if x > UV_HALF:
            x -= 2 * UV_HALF
        elif x <= -UV_HALF:
            x += 2 * UV_HALF
        u[i] = x
        y = decay_truncate(v[i], keep_v) + x + bias
        if y > v_max:
            y = v_max
        elif y < -v_max:
            y = -v_max
        if y > thresh:
            y = 0
            spikes[n_out] = g
            n_out += 1
        v[i] = y
    return n_out


@njit(**JIT_INLINE)
def loihi_lif_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of a LoihiLIF population."""
    u = state.istate[ioff : ioff + n]
    v = state.istate[ioff + n : ioff + 2 * n]
    return loihi_lif_step(u, v, ring_row, lo, hi, gid0, coeffs, spikes, n_out)


@njit(**JIT_INLINE)
def loihi_lif_update_het(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """:func:`loihi_lif_update` where ``het`` may hold per-neuron coefficients ``[5 * n]``."""
    if het.shape[0] == 0:
        return loihi_lif_update(
            lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes,
            n_out,
        )  # fmt: skip
    u = state.istate[ioff : ioff + n]
    v = state.istate[ioff + n : ioff + 2 * n]
    for i in range(lo, hi):  # one neuron at a time, each with its own coefficients
        # neuron i's coefficients, a strided view (the run loop allocates nothing)
        row = het[i : 5 * n : n]
        n_out = loihi_lif_step(u, v, ring_row, i, i + 1, gid0, row, spikes, n_out)
    return n_out
