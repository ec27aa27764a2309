"""LIF neurons with delta synapses (NEST ``iaf_psc_delta``, PyNN ``IF_curr_delta``): kernels.

Model class: :class:`snnsim.models.LIFDelta`. Coefficients (``LIFDelta.coefficient_names``):
``P33, P30, v_rest, v_thresh, v_reset, i_offset, refractory_steps``. Float state ``v``,
integer state ``refrac``; input on receptor plane 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE


@njit(**JIT_BORROW)
def lif_delta_step(v, refrac, i_ext, ring_row, lo, hi, gid0, coeffs, spikes, n_out):
    r"""Advance LIF neurons with delta synapses (NEST ``iaf_psc_delta``, PyNN ``IF_curr_delta``).

    .. math::
        V_{t+1} = E_L + (V_t - E_L) P_{33} + (I_{offset} + I_{ext}) P_{30} + \sum w

    Input arriving while refractory is discarded (NEST default). ``coeffs`` holds
    ``P33, P30, v_rest, v_thresh, v_reset, i_offset, refractory_steps``; the other
    arguments are as in :func:`snnsim.kernels.lif.lif_dense` (input on receptor 0 only).
    """
    p33 = coeffs[0]
    p30 = coeffs[1]
    v_rest = coeffs[2]
    v_thresh = coeffs[3]
    v_reset = coeffs[4]
    i_offset = coeffs[5]
    n_ref = np.int64(coeffs[6])
    for i in range(lo, hi):
        g = gid0 + i
        x = ring_row[g]
        ring_row[g] = 0.0
        vi = v[i]
        r = refrac[i]
        if r == 0:
            vi = v_rest + (vi - v_rest) * p33 + (i_offset + i_ext[g]) * p30 + x
        else:
            r -= 1
        if vi >= v_thresh:
            vi = v_reset
            r = n_ref
            spikes[n_out] = g
            n_out += 1
        v[i] = vi
        refrac[i] = r
    return n_out


@njit(**JIT_INLINE)
def lif_delta_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of a LIFDelta population."""
    v = state.fstate[foff : foff + n]
    refrac = state.istate[ioff : ioff + n]
    return lif_delta_step(v, refrac, state.i_ext, ring_row, lo, hi, gid0, coeffs, spikes, n_out)


@njit(**JIT_INLINE)
def lif_delta_update_het(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """:func:`lif_delta_update` where ``het`` may hold per-neuron coefficients ``[7 * n]``."""
    if het.shape[0] == 0:
        return lif_delta_update(
            lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes,
            n_out,
        )  # fmt: skip
    v = state.fstate[foff : foff + n]
    refrac = state.istate[ioff : ioff + n]
    for i in range(lo, hi):  # one neuron at a time, each with its own coefficients
        # neuron i's coefficients, a strided view (the run loop allocates nothing)
        row = het[i : 7 * n : n]
        n_out = lif_delta_step(v, refrac, state.i_ext, ring_row, i, i + 1, gid0, row, spikes, n_out)
    return n_out
