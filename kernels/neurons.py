"""Neuron models in the run loop: the one dispatch from model kind to kernel module.

Every population has a model ``kind`` (declared by its model class in
:mod:`snnsim.models`); the run loop calls the three functions below and nothing else that
knows about models. Each model's kernels live in their own module (:mod:`.lif`,
:mod:`.lif_delta`, :mod:`.sources`). Every kernel advances neurons of one population by one
time step of length ``dt`` in the order fixed by the design (NEST order):

1. membrane update from the state at the start of the step (skipped while refractory);
2. synaptic currents decay, then the input arriving in this step is added;
3. threshold test on the new membrane; on a spike: reset, start the refractory period,
   append the global neuron id to ``spikes``.

Input arrives in ``ring_row``, the ring-buffer slot of this step, laid out in receptor
planes: ``ring_row[receptor * N + g]`` for global neuron id ``g`` of ``N``, so each plane is
read with unit stride (SIMD-friendly). Kernels read and clear their neurons' entries.
Float variable ``k`` of a population is ``fstate[foff + k*n : foff + (k+1)*n]``, integer
variable ``k`` is ``istate[ioff + k*n : ...]``; ``idata[doff:]`` holds static integer data.

Adding a model: a kernel module with an ``<model>_update`` entry point (and, for
event-driven updates, an event step and a catch-up), a ``KIND_`` constant and one line in
each dispatch function here, and the model class in :mod:`snnsim.models`.
"""

from __future__ import annotations

from numba import njit
from snnsim.kernels.jit_options import JIT_INLINE
from snnsim.kernels.lif import (
    DENSE_MIN,
    LIF_PIECE,
    SPIKE_GROUP,
    WORD,
    lif_catch_up,
    lif_catch_up_population,
    lif_dense,
    lif_dense_het,
    lif_event_population,
    lif_event_update,
    lif_gap_advance,
    lif_is_busy,
    lif_step_one,
    lif_update,
    lowest_bit,
    popcount,
)
from snnsim.kernels.lif_delta import lif_delta_step, lif_delta_update
from snnsim.kernels.sources import (
    poisson_source_step,
    poisson_source_update,
    spike_source_step,
    spike_source_update,
)

__all__ = [
    "DENSE_MIN",
    "KIND_LIF",
    "KIND_LIF_DELTA",
    "KIND_POISSON_SOURCE",
    "KIND_SPIKE_SOURCE",
    "LIF_PIECE",
    "SPIKE_GROUP",
    "WORD",
    "catch_up_population",
    "event_update_population",
    "lif_catch_up",
    "lif_delta_step",
    "lif_dense",
    "lif_dense_het",
    "lif_event_update",
    "lif_gap_advance",
    "lif_is_busy",
    "lif_step_one",
    "lowest_bit",
    "poisson_source_step",
    "popcount",
    "spike_source_step",
    "update_population",
]

#: Model kinds the engine dispatches on (stored per population in ``pop_kind``).
KIND_LIF = 1
KIND_LIF_DELTA = 2
KIND_POISSON_SOURCE = 3
KIND_SPIKE_SOURCE = 4


@njit(**JIT_INLINE)
def update_population(
    kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes,
    n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of one population (``n`` neurons).

    ``state`` is a :class:`~snnsim.kernels.layout.NeuronState`; ``coeffs`` the population's
    coefficients (layout per model); ``het`` its per-neuron coefficients (coefficient ``k``
    of neuron ``i`` at ``k * n + i``) when its parameters differ between neurons, else
    empty; ``key`` its random stream. Returns the new ``n_out``.
    """
    if kind == KIND_LIF:
        return lif_update(lo, hi, n, gid0, foff, ioff, coeffs, het, state, ring_row, spikes, n_out)
    if kind == KIND_LIF_DELTA:
        return lif_delta_update(
            lo, hi, n, gid0, foff, ioff, coeffs, het, state, ring_row, spikes, n_out
        )
    if kind == KIND_POISSON_SOURCE:
        return poisson_source_update(lo, hi, n, gid0, coeffs, het, key, step, spikes, n_out)
    if kind == KIND_SPIKE_SOURCE:
        return spike_source_update(lo, hi, n, gid0, ioff, doff, state, step, spikes, n_out)
    return n_out


@njit(**JIT_INLINE)
def event_update_population(
    kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp, inbits_row,
    evd, spikes, n_out,
):  # fmt: skip
    """Event-driven step of the neurons with global ids ``[g_lo, g_hi)`` of one population."""
    if kind == KIND_LIF:
        return lif_event_population(
            g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp,
            inbits_row, evd, spikes, n_out,
        )  # fmt: skip
    return n_out


@njit(**JIT_INLINE)
def catch_up_population(kind, g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd):
    """Advance the skipped neurons ``[g_lo, g_hi)`` of an event-driven population to ``stamp``."""
    if kind == KIND_LIF:
        lif_catch_up_population(g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd)
