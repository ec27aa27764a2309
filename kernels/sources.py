"""Spike sources: Poisson sources and given spike times (kernels).

Model classes: :class:`snnsim.models.PoissonSource` (coefficient ``p_spike``) and
:class:`snnsim.models.SpikeSource` (no coefficient; integer state ``pointer`` and a spike
schedule in the static integer data ``idata``).
"""

from __future__ import annotations

from numba import njit
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE
from snnsim.kernels.random_streams import uniform


@njit(**JIT_BORROW)
def poisson_source_step(lo, hi, gid0, p_spike, key, step, spikes, n_out):
    """Emit a spike with probability ``p_spike = 1 - exp(-rate dt)`` per neuron and step.

    The draw for neuron ``g`` in step ``step`` is ``uniform(key, g, step, 0)``, so it does not
    depend on threads or chunking.
    """
    for i in range(lo, hi):
        g = gid0 + i
        if uniform(key, g, step, 0) < p_spike:
            spikes[n_out] = g
            n_out += 1
    return n_out


@njit(**JIT_BORROW)
def spike_source_step(pointer, indptr, steps, lo, hi, gid0, step, spikes, n_out):
    """Emit the spikes a :class:`SpikeSource` has scheduled for this step.

    Parameters
    ----------
    pointer : int64[n]
        Per neuron, index of its next scheduled spike in ``steps``; advanced in place.
    indptr : int64[n + 1]
        CSR row pointers of each neuron's spike steps.
    steps : int64[:]
        Spike time stamps in steps, strictly increasing within each row.
    """
    for i in range(lo, hi):
        p = pointer[i]
        if p < indptr[i + 1] and steps[p] == step:
            spikes[n_out] = gid0 + i
            n_out += 1
            pointer[i] = p + 1
    return n_out


@njit(**JIT_INLINE)
def poisson_source_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Poisson sources ``lo <= i < hi`` with one ``p_spike = coeffs[0]`` (dispatch arguments)."""
    return poisson_source_step(lo, hi, gid0, coeffs[0], key, step, spikes, n_out)


@njit(**JIT_INLINE)
def poisson_source_update_het(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """:func:`poisson_source_update` where ``het`` may hold ``p_spike`` per neuron."""
    if het.shape[0] == 0:
        return poisson_source_step(lo, hi, gid0, coeffs[0], key, step, spikes, n_out)
    for i in range(lo, hi):
        g = gid0 + i
        if uniform(key, g, step, 0) < het[i]:
            spikes[n_out] = g
            n_out += 1
    return n_out


@njit(**JIT_INLINE)
def spike_source_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Emit this step's scheduled spikes of neurons ``lo <= i < hi`` of a SpikeSource."""
    idata = state.idata
    n_steps = idata[doff + n]
    return spike_source_step(
        state.istate[ioff : ioff + n], idata[doff : doff + n + 1],
        idata[doff + n + 1 : doff + n + 1 + n_steps], lo, hi, gid0, step, spikes, n_out,
    )  # fmt: skip
