"""LIF neurons with exponential current synapses (NEST ``iaf_psc_exp``): the kernels.

Model class: :class:`snnsim.models.LIF`. Coefficients (``LIF.coefficient_names``):
``P22, P11e, P11i, P21e, P21i, P20, v_rest, v_thresh, v_reset, i_offset,
refractory_steps, tau_m/cm, P*_e, P*_i``. Float state ``v, i_exc, i_inh``, integer state
``refrac``; input on receptor planes 0 (exc) and 1 (inh). Clock-driven entry point
:func:`lif_update`; event-driven entry points :func:`lif_event_population` and
:func:`lif_catch_up_population` (dispatched from :mod:`snnsim.kernels.neurons`).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT, JIT_BORROW, JIT_INLINE

#: Neurons per bit word of the event-driven bookkeeping (one uint64 per 64 neurons).
WORD = 64
#: Piece length of the clock-driven LIF update: short enough that the threshold pass
#: re-reads ``v`` from L1, long enough to amortise the per-call overhead.
LIF_PIECE = 2048
#: Neurons per group of the threshold pass: a vectorised count per group, and a scalar scan
#: of the groups that have a crossing.
SPIKE_GROUP = 32
#: In event-driven mode a fully-populated word with at least this many neurons to update
#: is updated with the vectorised kernel instead of neuron by neuron.
DENSE_MIN = 8


@njit(**JIT_INLINE)
def lif_point(v, ie, ii, r, xe, xi, cur, p22, p11e, p11i, p21e, p21i, p20, v_rest, one, zero):
    r"""One neuron's clock-driven LIF step (the arithmetic of :func:`lif_dense`, in its order).

    .. math::
        V' = E_L + (V - E_L) P_{22} + I^{e} P_{21}^{e} + I^{i} P_{21}^{i} + I P_{20}

    with ``cur`` :math:`= I` the DC current (nA), ``xe``, ``xi`` the input of this step;
    the membrane keeps ``v`` while refractory (``r > 0``). Returns
    ``(V', refractory steps left, I^e', I^i')``. Inlined into the vectorised loops, so it
    costs nothing and both the homogeneous and the per-neuron kernels share one formula.
    """
    vn = v_rest + (v - v_rest) * p22 + ie * p21e + ii * p21i + cur * p20
    return (vn if r == zero else v), (r - one if r > zero else r), ie * p11e + xe, ii * p11i + xi


@njit(**JIT_BORROW)
def lif_dense(
    v_, ie_, ii_, refrac_, i_ext_, ring_row, lo, hi, gid0, coeffs, use_iext, spikes, n_out
):
    r"""Advance LIF neurons ``lo <= i < hi`` (NEST ``iaf_psc_exp``) by one step, vectorised.

    .. math::
        V_{t+1} = E_L + (V_t - E_L) P_{22} + I^{e}_t P_{21}^{e} + I^{i}_t P_{21}^{i}
                  + (I_{offset} + I_{ext}) P_{20},\qquad
        I^{x}_{t+1} = I^{x}_t P_{11}^{x} + \sum w

    The membrane update is skipped while refractory. Three passes over the piece: a
    branch-free update that LLVM turns into SIMD code (loops run from 0 over sliced views,
    so no negative-index wraparound blocks vectorisation), a vectorised count of threshold
    crossings and, only if there is one, a pass that resets the neurons and appends their
    ids to ``spikes`` in ascending order. The arithmetic is done in the state's precision
    (float64 or float32) in exactly the order written above.

    Parameters
    ----------
    v_, ie_, ii_ : float[n]
        Membrane (mV) and synaptic currents (nA) of the population; updated in place.
    refrac_ : int64[n]
        Refractory steps left; updated in place.
    i_ext_ : float[N_total]
        External (step) current per global neuron id (nA); read only if ``use_iext``.
    ring_row : float[2 * N_total]
        Input arriving in this step at ``receptor * N_total + g``; read and cleared.
    lo, hi : int
        Local index range to update.
    gid0 : int
        Global id of the population's first neuron.
    coeffs : float64[:]
        ``P22, P11e, P11i, P21e, P21i, P20, v_rest, v_thresh, v_reset, i_offset,
        refractory_steps, tau_m/cm`` and the peak PSPs per nA ``P*_e, P*_i`` (mV/nA, see
        ``snnsim.models.psp_peak``).
    use_iext : bool
        False when no neuron has an external current (saves one stream).
    spikes : int64[:]
        Output: global ids of neurons that spiked are written from ``n_out`` on.
    n_out : int
        Number of entries of ``spikes`` already used.

    Returns
    -------
    int
        The new ``n_out``.
    """
    f = v_.dtype.type
    p22 = f(coeffs[0])
    p11e = f(coeffs[1])
    p11i = f(coeffs[2])
    p21e = f(coeffs[3])
    p21i = f(coeffs[4])
    p20 = f(coeffs[5])
    v_rest = f(coeffs[6])
    v_thresh = f(coeffs[7])
    v_reset = f(coeffs[8])
    i_off = f(coeffs[9])
    n_ref = refrac_.dtype.type(coeffs[10])
    one = refrac_.dtype.type(1)
    zero = refrac_.dtype.type(0)
    n = hi - lo
    v = v_[lo:hi]
    ie = ie_[lo:hi]
    ii = ii_[lo:hi]
    refrac = refrac_[lo:hi]
    g0 = gid0 + lo
    n_all = ring_row.shape[0] // 2
    xe_ = ring_row[g0 : g0 + n]
    xi_ = ring_row[n_all + g0 : n_all + g0 + n]
    iext = i_ext_[g0 : g0 + n]
    # 1. membrane, current decay and this step's input, branch-free (SIMD); two loops so
    #    that a network without external currents does not read their stream
    if use_iext:
        for i in range(n):
            v[i], refrac[i], ie[i], ii[i] = lif_point(
                v[i], ie[i], ii[i], refrac[i], xe_[i], xi_[i], i_off + iext[i],
                p22, p11e, p11i, p21e, p21i, p20, v_rest, one, zero,
            )  # fmt: skip
            xe_[i] = 0
            xi_[i] = 0
    else:
        for i in range(n):
            v[i], refrac[i], ie[i], ii[i] = lif_point(
                v[i], ie[i], ii[i], refrac[i], xe_[i], xi_[i], i_off,
                p22, p11e, p11i, p21e, p21i, p20, v_rest, one, zero,
            )  # fmt: skip
            xe_[i] = 0
            xi_[i] = 0
    # 3. threshold: a vectorised count per 32 neurons; only groups with a crossing are
    #    scanned, resetting and reporting in ascending order
    for b0 in range(0, n, SPIKE_GROUP):
        vb = v[b0 : min(b0 + SPIKE_GROUP, n)]
        n_sp = 0
        for i in range(vb.shape[0]):
            n_sp += vb[i] >= v_thresh
        if n_sp > 0:
            for i in range(vb.shape[0]):
                if vb[i] >= v_thresh:
                    vb[i] = v_reset
                    refrac[b0 + i] = n_ref
                    spikes[n_out] = g0 + b0 + i
                    n_out += 1
    return n_out


@njit(**JIT_BORROW)
def lif_gap_advance(v, ie, ii, i, cur, k, gap, coeffs):
    r"""Advance neuron ``i`` exactly over ``k`` input-free, non-refractory steps.

    Uses row ``m`` of the propagator table ``gap`` (float64[K + 1, 6], see
    ``LIF.gap_propagators``) for strides of ``m <= K`` steps: the same update as one step of
    length ``m h``. For ``k = 1`` this is bit for bit the clock-driven step without input.
    """
    f = v.dtype.type
    v_rest = f(coeffs[6])
    k_max = gap.shape[0] - 1
    while k > 0:
        m = min(k, k_max)
        a = ie[i]
        b = ii[i]
        vi = v[i]
        v[i] = (
            v_rest
            + (vi - v_rest) * f(gap[m, 0])
            + a * f(gap[m, 3])
            + b * f(gap[m, 4])
            + cur * f(gap[m, 5])
        )
        ie[i] = a * f(gap[m, 1])
        ii[i] = b * f(gap[m, 2])
        k -= m


@njit(**JIT_BORROW)
def lif_step_one(v, ie, ii, refrac, i, g, cur, ring_row, coeffs):
    """One clock step of neuron ``i`` (global id ``g``): :func:`lif_dense` for a single neuron.

    Returns True when the neuron spiked.
    """
    f = v.dtype.type
    n_all = ring_row.shape[0] // 2
    xe = ring_row[g]
    xi = ring_row[n_all + g]
    ring_row[g] = 0
    ring_row[n_all + g] = 0
    a = ie[i]
    b = ii[i]
    vi = v[i]
    r = refrac[i]
    v_rest = f(coeffs[6])
    vn = (
        v_rest
        + (vi - v_rest) * f(coeffs[0])
        + a * f(coeffs[3])
        + b * f(coeffs[4])
        + cur * f(coeffs[5])
    )
    if r == 0:
        vi = vn
    else:
        r -= 1
    ie[i] = a * f(coeffs[1]) + xe
    ii[i] = b * f(coeffs[2]) + xi
    if vi >= f(coeffs[7]):
        v[i] = f(coeffs[8])
        refrac[i] = np.int64(coeffs[10])
        return True
    v[i] = vi
    refrac[i] = r
    return False


@njit(**JIT_BORROW)
def lif_is_busy(v, ie, ii, refrac, i, cur, coeffs):
    r"""Tell whether neuron ``i`` must be updated every step (cannot be proven idle).

    Without input, :math:`V(t) \le \max(V, V_\infty) + \max(I_e, 0)\,P^*_e +
    \max(I_i, 0)\,P^*_i` with :math:`V_\infty = E_L + (I_{offset} + I_{ext})\tau_m/c_m` and
    :math:`P^*` the peak of the PSP kernel per nA (``snnsim.models.psp_peak``; the sum of the
    parts' maxima bounds the maximum of the sum). A neuron whose bound is below threshold
    and that is not refractory can be left alone until its next input arrives.
    """
    f = v.dtype.type
    if refrac[i] > 0:
        return True
    v_inf = f(coeffs[6]) + cur * f(coeffs[11])
    bound = max(v[i], v_inf) + max(ie[i], f(0)) * f(coeffs[12]) + max(ii[i], f(0)) * f(coeffs[13])
    return bound >= f(coeffs[7])


@njit(**JIT_BORROW)
def lif_event_update(
    v, ie, ii, refrac, i_ext, ring_row, g_lo, g_hi, start, size, coeffs, gap, use_iext,
    stamp, inbits_row, busy, pinned, last, blk_stamp, spikes, n_out,
):  # fmt: skip
    r"""Event-driven step of the LIF neurons with global ids ``g_lo <= g < g_hi``.

    A neuron is updated only if input arrives for it in this step (bit set in
    ``inbits_row``), if it may reach threshold on its own or is refractory (``busy``), or
    if it is ``pinned`` (recorded, or driven by a step current). Any other neuron is left
    alone and later advanced exactly over the gap (:func:`lif_gap_advance`) just before its
    next update; its state is therefore current as of ``max(last[g], blk_stamp[w])``.
    Words of 64 neurons inside the population with at least ``DENSE_MIN`` neurons to update
    use the vectorised kernel; otherwise neurons are updated one by one. The decisions
    depend only on global ids, never on the thread partition, so results are identical for
    any number of threads.
    """
    f = v.dtype.type
    i_off = f(coeffs[9])
    pop_hi = start + size
    w_lo = g_lo >> 6
    w_hi = (g_hi + 63) >> 6
    for w in range(w_lo, w_hi):
        bits = inbits_row[w] | busy[w] | pinned[w]
        base = w << 6
        if base < g_lo:
            bits &= ~((np.uint64(1) << np.uint64(g_lo - base)) - np.uint64(1))
        if base + 64 > g_hi:
            bits &= (np.uint64(1) << np.uint64(g_hi - base)) - np.uint64(1)
        if bits == 0:
            continue
        full = base >= start and base + 64 <= pop_hi
        lag_from = blk_stamp[w]
        if full and popcount(bits) >= DENSE_MIN:
            lo = base - start
            if lag_from < stamp - 1:
                for i in range(lo, lo + 64):
                    k = stamp - 1 - max(last[start + i], lag_from)
                    if k > 0:
                        cur = i_off + i_ext[start + i] if use_iext else i_off
                        lif_gap_advance(v, ie, ii, i, cur, k, gap, coeffs)
            n_out = lif_dense(
                v,
                ie,
                ii,
                refrac,
                i_ext,
                ring_row,
                lo,
                lo + 64,
                start,
                coeffs,
                use_iext,
                spikes,
                n_out,
            )
            blk_stamp[w] = stamp
            mask = np.uint64(0)
            for j in range(64):
                i = lo + j
                cur = i_off + i_ext[start + i] if use_iext else i_off
                if lif_is_busy(v, ie, ii, refrac, i, cur, coeffs):
                    mask |= np.uint64(1) << np.uint64(j)
            busy[w] = mask
            continue
        while bits != 0:
            j = lowest_bit(bits)
            bits &= bits - np.uint64(1)
            g = base + j
            i = g - start
            cur = i_off + i_ext[g] if use_iext else i_off
            k = stamp - 1 - max(last[g], lag_from)
            if k > 0:
                lif_gap_advance(v, ie, ii, i, cur, k, gap, coeffs)
            if lif_step_one(v, ie, ii, refrac, i, g, cur, ring_row, coeffs):
                spikes[n_out] = g
                n_out += 1
            last[g] = stamp
            bit = np.uint64(1) << np.uint64(j)
            if lif_is_busy(v, ie, ii, refrac, i, cur, coeffs):
                busy[w] |= bit
            else:
                busy[w] &= ~bit
    return n_out


@njit(**JIT_BORROW)
def lif_catch_up(
    v, ie, ii, i_ext, g_lo, g_hi, start, coeffs, gap, use_iext, stamp, last, blk_stamp
):
    """Advance every lagging neuron in ``[g_lo, g_hi)`` to ``stamp`` (end of a segment)."""
    f = v.dtype.type
    i_off = f(coeffs[9])
    for g in range(g_lo, g_hi):
        k = stamp - max(last[g], blk_stamp[g >> 6])
        if k > 0:
            cur = i_off + i_ext[g] if use_iext else i_off
            lif_gap_advance(v, ie, ii, g - start, cur, k, gap, coeffs)
        last[g] = stamp


@njit(**JIT)
def popcount(x):
    """Count the set bits of a uint64."""
    n = 0
    while x != 0:
        x &= x - np.uint64(1)
        n += 1
    return n


@njit(**JIT)
def lowest_bit(x):
    """Index of the lowest set bit of a nonzero uint64."""
    j = 0
    if (x & np.uint64(0xFFFFFFFF)) == 0:
        x >>= np.uint64(32)
        j += 32
    if (x & np.uint64(0xFFFF)) == 0:
        x >>= np.uint64(16)
        j += 16
    if (x & np.uint64(0xFF)) == 0:
        x >>= np.uint64(8)
        j += 8
    if (x & np.uint64(0xF)) == 0:
        x >>= np.uint64(4)
        j += 4
    if (x & np.uint64(0x3)) == 0:
        x >>= np.uint64(2)
        j += 2
    if (x & np.uint64(0x1)) == 0:
        j += 1
    return j


@njit(**JIT_BORROW)
def lif_dense_het(v_, ie_, ii_, refrac_, i_ext_, ring_row, lo, hi, gid0, C, n, use_iext, spikes,
                  n_out):  # fmt: skip
    """:func:`lif_dense` with per-neuron coefficients, vectorised the same way.

    Coefficient ``k`` of neuron ``i`` is ``C[k * n + i]``: each coefficient is a contiguous
    plane, sliced to the piece like the state, so the update pass is branch-free over unit
    strides (SIMD) and the threshold pass counts crossings per group. The arithmetic is
    :func:`lif_dense`'s, in the same order, with each neuron's own coefficients.
    """
    f = v_.dtype.type
    one = refrac_.dtype.type(1)
    zero = refrac_.dtype.type(0)
    m = hi - lo
    v = v_[lo:hi]
    ie = ie_[lo:hi]
    ii = ii_[lo:hi]
    refrac = refrac_[lo:hi]
    g0 = gid0 + lo
    n_all = ring_row.shape[0] // 2
    xe_ = ring_row[g0 : g0 + m]
    xi_ = ring_row[n_all + g0 : n_all + g0 + m]
    iext = i_ext_[g0 : g0 + m]
    p22 = C[lo : lo + m]
    p11e = C[n + lo : n + lo + m]
    p11i = C[2 * n + lo : 2 * n + lo + m]
    p21e = C[3 * n + lo : 3 * n + lo + m]
    p21i = C[4 * n + lo : 4 * n + lo + m]
    p20 = C[5 * n + lo : 5 * n + lo + m]
    v_rest = C[6 * n + lo : 6 * n + lo + m]
    v_thresh = C[7 * n + lo : 7 * n + lo + m]
    v_reset = C[8 * n + lo : 8 * n + lo + m]
    i_off = C[9 * n + lo : 9 * n + lo + m]
    n_ref = C[10 * n + lo : 10 * n + lo + m]
    # 1. membrane, current decay and this step's input, branch-free (SIMD)
    if use_iext:
        for i in range(m):
            v[i], refrac[i], ie[i], ii[i] = lif_point(
                v[i], ie[i], ii[i], refrac[i], xe_[i], xi_[i], f(i_off[i]) + iext[i],
                f(p22[i]), f(p11e[i]), f(p11i[i]), f(p21e[i]), f(p21i[i]), f(p20[i]),
                f(v_rest[i]), one, zero,
            )  # fmt: skip
            xe_[i] = 0
            xi_[i] = 0
    else:
        for i in range(m):
            v[i], refrac[i], ie[i], ii[i] = lif_point(
                v[i], ie[i], ii[i], refrac[i], xe_[i], xi_[i], f(i_off[i]),
                f(p22[i]), f(p11e[i]), f(p11i[i]), f(p21e[i]), f(p21i[i]), f(p20[i]),
                f(v_rest[i]), one, zero,
            )  # fmt: skip
            xe_[i] = 0
            xi_[i] = 0
    # 2. threshold: a vectorised count per group; only groups with a crossing are scanned,
    #    resetting and reporting in ascending order
    for b0 in range(0, m, SPIKE_GROUP):
        b1 = min(b0 + SPIKE_GROUP, m)
        vb = v[b0:b1]
        tb = v_thresh[b0:b1]
        n_sp = 0
        for i in range(vb.shape[0]):
            n_sp += vb[i] >= f(tb[i])
        if n_sp > 0:
            for i in range(vb.shape[0]):
                if vb[i] >= f(tb[i]):
                    vb[i] = f(v_reset[b0 + i])
                    refrac[b0 + i] = refrac_.dtype.type(n_ref[b0 + i])
                    spikes[n_out] = g0 + b0 + i
                    n_out += 1
    return n_out


@njit(**JIT_INLINE)
def lif_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of a LIF population (pieces of LIF_PIECE).

    Every neuron uses ``coeffs``; the arguments are the dispatch's (``het``, ``key``,
    ``doff`` and ``step`` are not used).
    """
    fstate = state.fstate
    v = fstate[foff : foff + n]
    ie = fstate[foff + n : foff + 2 * n]
    ii = fstate[foff + 2 * n : foff + 3 * n]
    refrac = state.istate[ioff : ioff + n]
    p = lo
    while p < hi:
        q = min(p + LIF_PIECE, hi)
        n_out = lif_dense(
            v, ie, ii, refrac, state.i_ext, ring_row, p, q, gid0, coeffs, state.use_iext,
            spikes, n_out,
        )  # fmt: skip
        p = q
    return n_out


@njit(**JIT_INLINE)
def lif_update_het(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """:func:`lif_update` where ``het`` may hold per-neuron coefficients (``[n_coeffs * n]``).

    Compiled only for networks with a heterogeneous LIF population; an empty ``het`` (a
    homogeneous population of such a network) takes the vectorised path.
    """
    if het.shape[0] == 0:
        return lif_update(
            lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes,
            n_out,
        )  # fmt: skip
    fstate = state.fstate
    v = fstate[foff : foff + n]
    ie = fstate[foff + n : foff + 2 * n]
    ii = fstate[foff + 2 * n : foff + 3 * n]
    refrac = state.istate[ioff : ioff + n]
    i_ext = state.i_ext
    use_iext = state.use_iext
    p = lo
    while p < hi:
        q = min(p + LIF_PIECE, hi)
        n_out = lif_dense_het(
            v, ie, ii, refrac, i_ext, ring_row, p, q, gid0, het, n, use_iext, spikes, n_out
        )
        p = q
    return n_out


@njit(**JIT_INLINE)
def lif_event_population(
    g_lo, g_hi, start, size, foff, ioff, coeffs, gap, state, ring_row, stamp, inbits_row, evd,
    spikes, n_out,
):  # fmt: skip
    """Event-driven step of the population's neurons with global ids in ``[g_lo, g_hi)``."""
    fstate = state.fstate
    return lif_event_update(
        fstate[foff : foff + size], fstate[foff + size : foff + 2 * size],
        fstate[foff + 2 * size : foff + 3 * size], state.istate[ioff : ioff + size],
        state.i_ext, ring_row, g_lo, g_hi, start, size, coeffs, gap, state.use_iext, stamp,
        inbits_row, evd.busy, evd.pinned, evd.last, evd.blk_stamp, spikes, n_out,
    )  # fmt: skip


@njit(**JIT_INLINE)
def lif_catch_up_population(g_lo, g_hi, start, size, foff, coeffs, gap, state, stamp, evd):
    """Advance the skipped neurons with global ids in ``[g_lo, g_hi)`` to ``stamp``."""
    fstate = state.fstate
    lif_catch_up(
        fstate[foff : foff + size], fstate[foff + size : foff + 2 * size],
        fstate[foff + 2 * size : foff + 3 * size], state.i_ext, g_lo, g_hi, start, coeffs, gap,
        state.use_iext, stamp, evd.last, evd.blk_stamp,
    )  # fmt: skip
