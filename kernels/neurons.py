"""Neuron models in the run loop: the one dispatch from model kind to kernel module.

Every population has a model ``kind`` (declared by its model class in
:mod:`snnsim.models`); the run loop calls the three functions below and nothing else that
knows about models. Each model's kernels live in their own module (:mod:`.lif`,
:mod:`.lif_delta`, :mod:`.loihi`, :mod:`.sources`, :mod:`.discrete`,
:mod:`.astrocytes`) and are listed once,
in :data:`MODEL_KERNELS`. Every kernel advances neurons of one population by one time step
of length ``dt`` in the order fixed by the design (NEST order):

1. membrane update from the state at the start of the step (skipped while refractory);
2. synaptic currents decay, then the input arriving in this step is added;
3. threshold test on the new membrane; on a spike: reset, start the refractory period,
   append the global neuron id to ``spikes``.

Input arrives in ``ring_row``, the ring-buffer slot of this step, laid out in receptor
planes: ``ring_row[receptor * N + g]`` for global neuron id ``g`` of ``N``, so each plane is
read with unit stride (SIMD-friendly). Kernels read and clear their neurons' entries.
Float variable ``k`` of a population is ``fstate[foff + k*n : foff + (k+1)*n]``, integer
variable ``k`` is ``istate[ioff + k*n : ...]``; ``idata[doff:]`` holds static integer data.

**Only the models a network uses are compiled.** The dispatch functions take the network's
*model set* ``models`` (``Populations.models``, made by :func:`model_set`): an empty array
whose record fields name the kinds in use and whether their heterogeneous or event-driven
kernels are needed. Numba sees the set as a type,
so each dispatch is generated (at compile time) with a branch for the used kinds only: a
network of LIF neurons does not compile the Poisson, delta or event-driven kernels, and
adding models does not make every network's compile longer. Each model set is compiled
once and cached on disk like any kernel.

Adding a model: a kernel module with an ``update`` entry point of the dispatch signature
(and optionally an ``update_het`` for per-neuron coefficients, an event step and a
catch-up), a ``KIND_`` constant and one :data:`MODEL_KERNELS` line here, and the model
class in :mod:`snnsim.models`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numba.extending import overload
from snnsim.kernels.astrocytes import astrocyte_lr_update, astrocyte_update
from snnsim.kernels.discrete import (
    cuba_lif_update,
    cuba_lif_update_het,
    leaky_update,
    leaky_update_het,
)
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
    lif_update_het,
    lowest_bit,
    popcount,
)
from snnsim.kernels.lif_delta import lif_delta_step, lif_delta_update, lif_delta_update_het
from snnsim.kernels.loihi import loihi_lif_step, loihi_lif_update, loihi_lif_update_het
from snnsim.kernels.sources import (
    poisson_source_step,
    poisson_source_update,
    poisson_source_update_het,
    spike_source_step,
    spike_source_update,
)

__all__ = [
    "DENSE_MIN",
    "KINDS",
    "KIND_ASTROCYTE",
    "KIND_ASTROCYTE_LR",
    "KIND_CUBA_LIF",
    "KIND_LEAKY",
    "KIND_LIF",
    "KIND_LIF_DELTA",
    "KIND_LOIHI_LIF",
    "KIND_POISSON_SOURCE",
    "KIND_SPIKE_SOURCE",
    "LIF_PIECE",
    "MODEL_KERNELS",
    "SPIKE_GROUP",
    "WORD",
    "ModelKernels",
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
    "loihi_lif_step",
    "lowest_bit",
    "model_set",
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
KIND_LOIHI_LIF = 5
KIND_LEAKY = 6
KIND_CUBA_LIF = 7
KIND_ASTROCYTE = 8
KIND_ASTROCYTE_LR = 9


class ModelKernels(NamedTuple):
    """The kernels of one model kind (``@njit(inline="always")`` functions).

    ``update`` and ``update_het`` take the dispatch arguments of :func:`update_population`
    (without ``models`` and ``kind``); ``update_het`` also handles per-neuron coefficients
    (``None``: the model has none). ``event`` and ``catch_up`` take those of
    :func:`event_update_population` and :func:`catch_up_population` (``None``: the model
    is clock-driven only).
    """

    update: Any
    update_het: Any = None
    event: Any = None
    catch_up: Any = None


#: The one dispatch table: model kind -> kernels.
MODEL_KERNELS: dict[int, ModelKernels] = {
    KIND_LIF: ModelKernels(
        lif_update, lif_update_het, lif_event_population, lif_catch_up_population
    ),
    KIND_LIF_DELTA: ModelKernels(lif_delta_update, lif_delta_update_het),
    KIND_POISSON_SOURCE: ModelKernels(poisson_source_update, poisson_source_update_het),
    KIND_SPIKE_SOURCE: ModelKernels(spike_source_update),
    KIND_LOIHI_LIF: ModelKernels(loihi_lif_update, loihi_lif_update_het),
    KIND_LEAKY: ModelKernels(leaky_update, leaky_update_het),
    KIND_CUBA_LIF: ModelKernels(cuba_lif_update, cuba_lif_update_het),
    KIND_ASTROCYTE: ModelKernels(astrocyte_update, astrocyte_update),
    KIND_ASTROCYTE_LR: ModelKernels(astrocyte_lr_update, astrocyte_lr_update),
}

#: Kinds in the order of a model set's entries.
KINDS: tuple[int, ...] = tuple(sorted(MODEL_KERNELS))


def model_set(kinds: Any, het: Any, event: Any) -> np.ndarray:
    """Return the model set of a network, an empty array whose record fields name its kernels.

    Field ``kind<k>`` means some population has kind ``k``; ``kind<k>.het`` that one of them
    has per-neuron coefficients; ``kind<k>.event`` that one of them runs event-driven. Only
    the dtype matters (it is part of the kernels' type); Numba's parallel loops carry an
    array but not a tuple nested in a structure, hence an array rather than a tuple.

    Parameters
    ----------
    kinds : array of int
        Model kind of each population.
    het : array of bool
        Per population: it has per-neuron coefficients.
    event : array of bool
        Per population: it runs event-driven.
    """
    names: list[str] = []
    for k in KINDS:
        mine = [p for p in range(len(kinds)) if int(kinds[p]) == k]
        if not mine:
            continue
        names.append(f"kind{k}")
        kern = MODEL_KERNELS[k]
        if any(bool(het[p]) for p in mine):
            if kern.update_het is None:
                raise ValueError(f"model kind {k} has no kernel for per-neuron coefficients")
            names.append(f"kind{k}.het")
        if any(bool(event[p]) for p in mine):
            if kern.event is None:
                raise ValueError(f"model kind {k} has no event-driven kernel")
            names.append(f"kind{k}.event")
    if not names:
        names.append("none")
    return np.zeros(0, dtype=np.dtype([(name, np.uint8) for name in names], align=True))


def _used(models: Any, variant: str = "") -> list[int]:
    """Kinds named in the model-set type ``models`` (with ``variant``: "het", "event")."""
    fields = models.dtype.fields
    suffix = f".{variant}" if variant else ""
    return [k for k in KINDS if f"kind{k}{suffix}" in fields]


# Dispatch chains are generated per model set: ``if kind == k: return kernel(...)`` for the
# used kinds only. Each link is a small inlined function; chains are cached per entries.
_CHAINS: dict[tuple[Any, ...], Any] = {}


def _update_chain(entries: tuple[tuple[int, Any], ...]) -> Any:
    key = ("update", *entries)
    if key in _CHAINS:
        return _CHAINS[key]
    if not entries:

        def link(kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row,
                 step, spikes, n_out):  # fmt: skip
            return n_out

    else:
        k, fn = entries[0]
        rest = _update_chain(entries[1:])

        def link(kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row,
                 step, spikes, n_out):  # fmt: skip
            if kind == k:
                return fn(lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state,
                          ring_row, step, spikes, n_out)  # fmt: skip
            return rest(kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state,
                        ring_row, step, spikes, n_out)  # fmt: skip

    _CHAINS[key] = njit(inline="always")(link)
    return _CHAINS[key]


def _event_chain(entries: tuple[tuple[int, Any], ...]) -> Any:
    key = ("event", *entries)
    if key in _CHAINS:
        return _CHAINS[key]
    if not entries:

        def link(kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp,
                 inbits_row, evd, spikes, n_out):  # fmt: skip
            return n_out

    else:
        k, fn = entries[0]
        rest = _event_chain(entries[1:])

        def link(kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp,
                 inbits_row, evd, spikes, n_out):  # fmt: skip
            if kind == k:
                return fn(g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row,
                          stamp, inbits_row, evd, spikes, n_out)  # fmt: skip
            return rest(kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row,
                        stamp, inbits_row, evd, spikes, n_out)  # fmt: skip

    _CHAINS[key] = njit(inline="always")(link)
    return _CHAINS[key]


def _catch_up_chain(entries: tuple[tuple[int, Any], ...]) -> Any:
    key = ("catch_up", *entries)
    if key in _CHAINS:
        return _CHAINS[key]
    if not entries:

        def link(kind, g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd):
            return 0

    else:
        k, fn = entries[0]
        rest = _catch_up_chain(entries[1:])

        def link(kind, g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd):
            if kind == k:
                fn(g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd)
                return 0
            return rest(kind, g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd)

    _CHAINS[key] = njit(inline="always")(link)
    return _CHAINS[key]


def update_population(
    models, kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step,
    spikes, n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of one population (``n`` neurons).

    Compiled code only (generated per model set ``models``, see the module docstring).
    ``state`` is a :class:`~snnsim.kernels.layout.NeuronState`; ``coeffs`` the population's
    coefficients (layout per model); ``het`` its per-neuron coefficients (coefficient ``k``
    of neuron ``i`` at ``k * n + i``) when its parameters differ between neurons, else
    empty; ``key`` its random stream. Returns the new ``n_out``.
    """
    raise NotImplementedError("update_population runs in compiled code only")


@overload(update_population, inline="always")
def _update_population_typed(
    models, kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step,
    spikes, n_out,
):  # fmt: skip
    het = _used(models, "het")
    entries = tuple(
        (k, MODEL_KERNELS[k].update_het if k in het else MODEL_KERNELS[k].update)
        for k in _used(models)
    )
    chain = _update_chain(entries)

    def impl(models, kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state,
             ring_row, step, spikes, n_out):  # fmt: skip
        return chain(kind, lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state,
                     ring_row, step, spikes, n_out)  # fmt: skip

    return impl


def event_update_population(
    models, kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp,
    inbits_row, evd, spikes, n_out,
):  # fmt: skip
    """Event-driven step of the neurons with global ids ``[g_lo, g_hi)`` of one population.

    Compiled code only (generated per model set ``models``).
    """
    raise NotImplementedError("event_update_population runs in compiled code only")


@overload(event_update_population, inline="always")
def _event_update_population_typed(
    models, kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp,
    inbits_row, evd, spikes, n_out,
):  # fmt: skip
    chain = _event_chain(tuple((k, MODEL_KERNELS[k].event) for k in _used(models, "event")))

    def impl(models, kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row,
             stamp, inbits_row, evd, spikes, n_out):  # fmt: skip
        return chain(kind, g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row,
                     stamp, inbits_row, evd, spikes, n_out)  # fmt: skip

    return impl


def catch_up_population(models, kind, g_lo, g_hi, start, size, foff, coeffs, gap, state,
                        stamp, evd):  # fmt: skip
    """Advance the skipped neurons ``[g_lo, g_hi)`` of an event-driven population to ``stamp``.

    Compiled code only (generated per model set ``models``).
    """
    raise NotImplementedError("catch_up_population runs in compiled code only")


@overload(catch_up_population, inline="always")
def _catch_up_population_typed(models, kind, g_lo, g_hi, start, size, foff, coeffs, gap, state,
                               stamp, evd):  # fmt: skip
    chain = _catch_up_chain(tuple((k, MODEL_KERNELS[k].catch_up) for k in _used(models, "event")))

    def impl(models, kind, g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd):
        return chain(kind, g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd)

    return impl
