r"""Astrocyte effects in the run loop: the output history and the modulated quantities.

The description and the semantics are in :mod:`snnsim.modulation`; the arrays are the
:class:`~snnsim.kernels.layout.Modulation` structure. A modulation of delay :math:`d`
steps makes the output :math:`y_j(s)` of astrocyte :math:`j` after its update of stamp
:math:`s` act at stamp :math:`s + d`. Every term reads the history at ``stamp - d``;
because the run loop's chunks are never longer than the shortest modulation delay, that
value was written in an earlier chunk (or before the run), never concurrently.

Entry points, each called by the thread that owns the neurons concerned:

- :func:`modulate_neurons` (before the neuron updates of a stamp): every modulated
  coefficient of the partition gets :math:`c = c_0 + \sum_m w_m\, y_{j_m}(t - d_m)`
  (terms summed in creation order);
- :func:`record_outputs` (after the updates of a stamp): the partition's modulating
  astrocytes write their output into the history;
- :func:`term_sum` (delivery of a spike through a modulated block): the sum of the terms
  onto the target, read at the spike's stamp; :func:`depression_amplitude` the same for
  STDP depression, where a target outside every astrocyte's domain keeps the rule's own.
"""

from __future__ import annotations

from numba import njit
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE
from snnsim.kernels.search import search_sorted

__all__ = ["depression_amplitude", "modulate_neurons", "record_outputs", "term_sum"]


@njit(**JIT_BORROW)
def modulate_neurons(k_lo, k_hi, stamp, mod, ncoeffs):
    r"""Set the modulated coefficients of neurons ``[k_lo, k_hi)`` for the update ``stamp``.

    .. math::
        c_e(t) = c_{e,0} + \sum_{m \in e} w_m\, y_{j_m}(t - d_m)

    evaluated left to right from :math:`c_{e,0}` (``ent_base``), the sum in term order.
    When every entry of the range has one term and the entries' coefficients are
    consecutive (one astrocyte set modulating one coefficient of a population), the
    common case, :func:`modulate_simple` does the same arithmetic without the per-entry
    inner loop and scattered store.
    """
    ent_gid, ent_addr, ent_base, ent_ptr = mod.ent_gid, mod.ent_addr, mod.ent_base, mod.ent_ptr
    t_src, t_w, t_d, hist, hmask = mod.t_src, mod.t_w, mod.t_d, mod.hist, mod.mask
    n_e = ent_gid.shape[0]
    a = search_sorted(ent_gid, k_lo, 0, n_e)
    e = search_sorted(ent_gid, k_hi, a, n_e)
    if e <= a:
        return 0
    if is_simple(ent_ptr[a : e + 1], ent_addr[a:e]):
        m = ent_ptr[a]
        addr = ent_addr[a]
        modulate_simple(
            stamp, ncoeffs[addr : addr + e - a], ent_base[a:e], t_src[m : m + e - a],
            t_w[m : m + e - a], t_d[m : m + e - a], hist, hmask,
        )  # fmt: skip
        return 0
    for q in range(a, e):
        c = ent_base[q]
        for m in range(ent_ptr[q], ent_ptr[q + 1]):
            c += t_w[m] * hist[(stamp - t_d[m]) & hmask, t_src[m]]
        ncoeffs[ent_addr[q]] = c
    return 0


@njit(**JIT_INLINE)
def is_simple(ptr, addr):
    """Tell whether every entry has one term and the coefficients are consecutive.

    ``ptr`` is the entries' ``ent_ptr`` range (one longer than ``addr``). One branch-free
    pass: it runs every step, so it must cost little next to the update it enables.
    """
    n = addr.shape[0]
    a0 = addr[0]
    bad = 0
    for i in range(n):
        bad += (ptr[i + 1] - ptr[i] != 1) | (addr[i] != a0 + i)
    return bad == 0


@njit(**JIT_INLINE)
def modulate_simple(stamp, out, base, t_src, t_w, t_d, hist, hmask):
    """:func:`modulate_neurons` for entries with one term each and consecutive coefficients.

    ``out[i] = base[i] + w_i y(t - d_i)``: the general loop's ``c = base; c += term``, so
    the same value; contiguous slices and a flat index into ``hist`` instead of the nested
    loop and scattered store, which cost several times the arithmetic.
    """
    n_src = hist.shape[1]
    flat = hist.reshape(-1)
    for i in range(out.shape[0]):
        out[i] = base[i] + t_w[i] * flat[((stamp - t_d[i]) & hmask) * n_src + t_src[i]]


@njit(**JIT_BORROW)
def record_outputs(k_lo, k_hi, stamp, mod, fstate):
    """Write the output of the partition's modulating astrocytes after the update ``stamp``."""
    src_gid, src_addr, hist = mod.src_gid, mod.src_addr, mod.hist
    n_s = src_gid.shape[0]
    a = search_sorted(src_gid, k_lo, 0, n_s)
    e = search_sorted(src_gid, k_hi, a, n_s)
    row = stamp & mod.mask
    for j in range(a, e):
        hist[row, j] = float(fstate[src_addr[j]])
    return 0


@njit(**JIT_INLINE)
def term_sum(row, stamp, rec_ptr, t_src, t_w, t_d, hist, hmask):
    r"""Return :math:`\sum_m w_m\, y_{j_m}(t - d_m)` over the terms of record row ``row``.

    ``row`` is ``rec_off[r] + target - rec_tlo[r]`` for record ``r``; ``stamp`` is the
    spike's stamp :math:`t` (not its arrival): the value is known when the spike is
    delivered, one chunk after it was emitted. Called per synapse, so it takes the arrays
    and not the :class:`~snnsim.kernels.layout.Modulation` structure (whose every array
    Numba would reference-count at each call, see ``snnsim.kernels.plasticity.StdpRule``).
    """
    s = 0.0
    for m in range(rec_ptr[row], rec_ptr[row + 1]):
        s += t_w[m] * hist[(stamp - t_d[m]) & hmask, t_src[m]]
    return s


@njit(**JIT_INLINE)
def depression_amplitude(row, stamp, a_rule, rec_ptr, t_src, t_w, t_d, hist, hmask):
    """STDP depression amplitude onto a target: :func:`term_sum`, or ``a_rule`` without terms."""
    if rec_ptr[row] == rec_ptr[row + 1]:
        return a_rule
    return term_sum(row, stamp, rec_ptr, t_src, t_w, t_d, hist, hmask)
