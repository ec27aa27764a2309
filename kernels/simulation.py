"""The compiled run loop: chunks of ``min_delay`` steps, target-partitioned threads.

Neurons are split into ``T`` contiguous partitions ``[part_lo[k], part_hi[k])``, one per
thread, with boundaries on multiples of 64 neurons. Thread ``k`` owns the neuron state AND
the ring-buffer entries of its partition, so threads never write the same memory. Time
advances in chunks of at most ``min_delay`` steps: no spike sent in a chunk can arrive
within it, so inside one parallel region each thread (1) delivers the spikes of the previous
chunk to its own targets and (2) updates its neurons for the chunk. Spikes are delivered in
the canonical order (time stamp, global id), whatever the number of threads, so every target
sums its inputs in the same order and results are bit-identical for any thread count. The
serial part between chunks records spikes and counts events. With several threads the
engine runs this loop on a team of threads that stays together for a whole segment
(:func:`snnsim.kernels.thread_team.run_segment_team`: one parallel region per segment, one
spin barrier per chunk); ``run_segment_parallel`` below, one ``prange`` region per chunk,
serves threading layers that cannot host a team (``tbb``). At the end of a segment all
pending spikes are delivered, so the ring buffers hold exactly the spikes in flight
(checkpoints save them). Neurons skipped by event-driven updates keep the state of their
last update (``last``/``blk_stamp`` say which stamp that is); readers catch them up on copies.

Time stamps: the update that advances time from ``(s-1) dt`` to ``s dt`` has stamp ``s``;
a spike emitted in it is reported at ``s dt`` and, through a synapse of delay ``d`` steps,
is added to the target's input in the update with stamp ``s + d``.

Arrays travel in the named structures of :mod:`snnsim.kernels.layout`, all built by
``snnsim.engine.Engine``: ``Populations``, ``NeuronState``, ``StaticSynapses`` (the compacted
CSR by source), ``MutableSynapses`` (per-projection blocks with float64 weights and uint16
delays), ``Ring`` (``buffer[D, 2N]``: slot ``s`` holds the input arriving at stamps
``s (mod D)``, exc plane ``[0, N)`` then inh plane ``[N, 2N)``), ``EventState``, ``Inputs``,
``Probes``, ``Recording`` and ``Buffers``.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np
from numba import njit, prange
from snnsim.kernels.jit_options import JIT, JIT_BORROW, JIT_INLINE, JIT_PARALLEL
from snnsim.kernels.layout import N_RECEPTOR_PLANES, RECEPTOR_MASK, RECEPTOR_SHIFT
from snnsim.kernels.modulation import (
    depression_amplitude,
    modulate_neurons,
    record_outputs,
    term_sum,
)
from snnsim.kernels.neurons import (
    catch_up_population,
    event_update_population,
    update_population,
)
from snnsim.kernels.plasticity import (
    advance_pre,
    append_spike,
    delay_pre,
    delay_rule_params,
    depress,
    facilitate,
    flush_rows,
    resort_post,
    rule_params,
)
from snnsim.kernels.random_streams import binomial_count, binomial_from_zero, uniform
from snnsim.kernels.search import search_sorted


@njit(**JIT_BORROW)
def deliver_spikes(k, k_lo, k_hi, whole_rows, t0, n_steps, spk, cnt, cursor, syn, mut, ring, evd,
                   plast, mod):  # fmt: skip
    """Add the weights of the pending spikes' synapses to the ring buffer of one partition.

    Parameters
    ----------
    k : int
        Thread index (its replica of the presynaptic plasticity state).
    k_lo, k_hi : int
        Target partition: only synapses with ``2*k_lo <= code < 2*k_hi`` are delivered.
    whole_rows : bool
        True when the partition is the whole network (no row search needed).
    t0 : int
        Stamp of the step before the pending chunk; spikes of chunk step ``s`` carry
        stamp ``t0 + s + 1``.
    n_steps : int
        Length of the pending chunk.
    spk : int64[T, cap]
        Spikes (global ids) of each thread's partition, grouped by step.
    cnt : int64[T, m]
        Number of spikes of thread ``j`` in chunk step ``s``.
    cursor : int64[T]
        Scratch, overwritten.
    syn : StaticSynapses
        The compacted static block.
    mut : MutableSynapses or None
        The per-projection mutable blocks; a spike's static synapses are delivered first,
        then its synapses in each mutable block, in block order. ``None`` when there are
        none: Numba then prunes the mutable-block code at compile time.
    ring : Ring
        A synapse with ``code = 2*target + receptor`` adds its weight to
        ``ring.buffer[(stamp + delay) & mask, receptor * N + target]`` (receptor planes).
    evd : EventState
        In event-driven mode the target's bit is also set in ``inbits`` of that slot.
    plast : Plasticity or None
        STDP state (``None`` without plastic projections: its code is pruned). A plastic
        synapse is updated before it transmits (:func:`deliver_plastic_chunk`).
    mod : Modulation or None
        Astrocyte effects on mutable blocks ("gain", "stdp_depression"); ``None`` without
        modulation (its code is pruned).
    """
    if plast is not None:
        return deliver_plastic_chunk(k, k_lo, k_hi, whole_rows, t0, n_steps, spk, cnt, cursor,
                                     syn, mut, ring, evd, plast, mod)  # fmt: skip
    # the structures' fields are read into locals once: the loops below are the hottest
    # code of a run, and a helper call per synapse (struct arguments) halved its speed
    indptr, syn_code, syn_weight, w_table, syn_delay = (
        syn.indptr, syn.code, syn.weight, syn.w_table, syn.delay,
    )  # fmt: skip
    w_mode, delay_const = syn.w_mode, syn.delay_const
    buf, mask = ring.buffer, ring.mask
    ev_on, inbits = evd.on, evd.inbits
    n_all = buf.shape[1] // N_RECEPTOR_PLANES
    n_thr = cnt.shape[0]
    for j in range(n_thr):
        cursor[j] = 0
    c_lo = N_RECEPTOR_PLANES * k_lo
    c_hi = N_RECEPTOR_PLANES * k_hi
    for s in range(n_steps):
        stamp = t0 + s + 1
        for j in range(n_thr):
            c = cnt[j, s]
            q0 = cursor[j]
            for q in range(q0, q0 + c):
                g = spk[j, q]
                deliver_static_row(g, stamp, whole_rows, c_lo, c_hi, indptr, syn_code, syn_weight,
                                   w_table, syn_delay, w_mode, delay_const, buf, mask, n_all,
                                   ev_on, inbits)  # fmt: skip
                if mut is not None:
                    deliver_mutable(g, stamp, whole_rows, c_lo, c_hi, mut, buf, mask, n_all,
                                    ev_on, inbits, mod)  # fmt: skip
            cursor[j] = q0 + c
    return 0


@njit(**JIT_INLINE)
def deliver_static_row(g, stamp, whole_rows, c_lo, c_hi, indptr, syn_code, syn_weight,
                       w_table, syn_delay, w_mode, delay_const, buf, mask, n_all, ev_on,
                       inbits):  # fmt: skip
    """Deliver spike source ``g``'s synapses in the static block (see :func:`deliver_spikes`)."""
    a = indptr[g]
    e = indptr[g + 1]
    if not whole_rows:
        a = search_sorted(syn_code, c_lo, a, e)
        e = search_sorted(syn_code, c_hi, a, e)
    for sy in range(a, e):
        d = delay_const if delay_const > 0 else np.int64(syn_delay[sy])
        slot = (stamp + d) & mask
        code = np.int64(syn_code[sy])
        t = code >> RECEPTOR_SHIFT
        rec = code & RECEPTOR_MASK
        if w_mode == 0:
            w = np.float32(syn_weight[sy])
        elif w_mode == 1:
            w = w_table[np.int64(syn_weight[sy])]
        else:
            w = w_table[rec]
        buf[slot, rec * n_all + t] += w
        if ev_on and w != 0:
            inbits[slot, t >> 6] |= np.uint64(1) << np.uint64(t & 63)


@njit(**JIT_BORROW)
def deliver_mutable(g, stamp, whole_rows, c_lo, c_hi, mut, buf, mask, n_all, ev_on, inbits,
                    mod):  # fmt: skip
    """:func:`deliver_spikes` for the synapses of spike source ``g`` in the mutable blocks.

    A function of its own, called only when there are mutable blocks: the static-only
    delivery loop then reads none of their arrays. A block with a "gain" modulation
    transmits ``w * (1 + G)`` (:func:`~snnsim.kernels.modulation.term_sum` at the spike's
    stamp); its stored weights do not change.
    """
    m_lo, m_hi, m_row, m_indptr = mut.lo, mut.hi, mut.row, mut.indptr
    m_code, m_weight, m_delay = mut.code, mut.weight, mut.delay
    for b in range(m_lo.shape[0]):
        if m_lo[b] <= g < m_hi[b]:
            r = m_row[b] + g - m_lo[b]
            a = m_indptr[r]
            e = m_indptr[r + 1]
            if not whole_rows:
                a = search_sorted(m_code, c_lo, a, e)
                e = search_sorted(m_code, c_hi, a, e)
            gained = False
            # `is not None` alone in its test: Numba prunes the branch when mod is None
            if mod is not None:  # noqa: SIM102
                if mod.blk_gain[b] >= 0:
                    gained = True
                    deliver_gain(stamp, a, e, mut, buf, mask, n_all, ev_on, inbits, mod,
                                 mod.blk_gain[b])  # fmt: skip
            if not gained:
                for sy in range(a, e):
                    slot = (stamp + np.int64(m_delay[sy])) & mask
                    code = np.int64(m_code[sy])
                    t = code >> RECEPTOR_SHIFT
                    w = m_weight[sy]
                    buf[slot, (code & RECEPTOR_MASK) * n_all + t] += w
                    if ev_on and w != 0:
                        inbits[slot, t >> 6] |= np.uint64(1) << np.uint64(t & 63)


@njit(**JIT_BORROW)
def deliver_gain(stamp, a, e, mut, buf, mask, n_all, ev_on, inbits, mod, rg):
    """Deliver synapses ``[a, e)`` of a block with a "gain" modulation (record ``rg``)."""
    m_code, m_weight, m_delay = mut.code, mut.weight, mut.delay
    rec_ptr, t_src, t_w, t_d, hist = mod.rec_ptr, mod.t_src, mod.t_w, mod.t_d, mod.hist
    hmask = mod.mask
    off = mod.rec_off[rg] - mod.rec_tlo[rg]
    for sy in range(a, e):
        slot = (stamp + np.int64(m_delay[sy])) & mask
        code = np.int64(m_code[sy])
        t = code >> RECEPTOR_SHIFT
        w = m_weight[sy] * (1.0 + term_sum(off + t, stamp, rec_ptr, t_src, t_w, t_d, hist, hmask))
        buf[slot, (code & RECEPTOR_MASK) * n_all + t] += w
        if ev_on and w != 0:
            inbits[slot, t >> 6] |= np.uint64(1) << np.uint64(t & 63)


@njit(**JIT_BORROW)
def deliver_plastic_chunk(k, k_lo, k_hi, whole_rows, t0, n_steps, spk, cnt, cursor, syn, mut, ring,
                          evd, pl, mod):  # fmt: skip
    r""":func:`deliver_spikes` when some blocks are plastic (same arguments, same order).

    Each plastic synapse's weight is updated before the spike transmits it (the presynaptic
    STDP step of :mod:`snnsim.kernels.plasticity`: facilitation by the postsynaptic spikes
    with :math:`\max(t_{last}, t_0) < t_{post} + d \le t`, oldest first, then depression
    by the latest one strictly before :math:`t - d`, NEST's order), and a plastic delay
    (:func:`~snnsim.kernels.plasticity.delay_pre`) after that; then thread ``k``'s replica of
    the source's presynaptic state advances. On a block an astrocyte modulates, the
    depression amplitude is the astrocyte's and the transmitted weight is scaled by its
    gain (``mod``; pruned without astrocyte effects). One call per chunk, the structures'
    arrays read into locals once, compiled without reference counting (``JIT_BORROW``;
    with it, two atomic updates per array and call cost 10 % of an STDP run, see
    :class:`~snnsim.kernels.plasticity.StdpRule`).
    """
    indptr, syn_code, syn_weight, w_table, syn_delay = (
        syn.indptr, syn.code, syn.weight, syn.w_table, syn.delay,
    )  # fmt: skip
    w_mode, delay_const = syn.w_mode, syn.delay_const
    buf, mask = ring.buffer, ring.mask
    ev_on, inbits = evd.on, evd.inbits
    m_lo, m_hi, m_row, m_indptr = mut.lo, mut.hi, mut.row, mut.indptr
    m_code, m_weight, m_delay = mut.code, mut.weight, mut.delay
    rules, drules, param, dparam = pl.rule, pl.drule, pl.param, pl.dparam
    syn_h, hist, cap = pl.syn_h, pl.hist, pl.cap
    kplus, tlast, sa_i64, dtab = pl.kplus, pl.tlast, pl.sa_i64, pl.decay
    post_ptr, post_syn, post_row, post_delay = pl.post_ptr, pl.post_syn, pl.post_row, pl.post_delay
    b_prow, b_tlo = pl.prow, pl.tlo
    wd = param.shape[0] + 1  # history columns per entry (see Plasticity.hist)
    # a flat view (C-contiguous): flat indices, see the STDP step below. Not `ravel`: its
    # implementation is a compiled helper that returns an array, which a function compiled
    # without reference counting can only call if an earlier compile in the process made it
    hf = hist.reshape(hist.size)
    n_col = np.int64(hist.shape[1])
    if mod is not None:  # astrocyte effects on plastic blocks (pruned without them)
        blk_dep, blk_gain, rec_off, rec_tlo = mod.blk_dep, mod.blk_gain, mod.rec_off, mod.rec_tlo
        rec_ptr, t_src, t_w, t_d, m_hist = mod.rec_ptr, mod.t_src, mod.t_w, mod.t_d, mod.hist
        hmask = mod.mask
    n_all = buf.shape[1] // N_RECEPTOR_PLANES
    n_thr = cnt.shape[0]
    for j in range(n_thr):
        cursor[j] = 0
    c_lo = N_RECEPTOR_PLANES * k_lo
    c_hi = N_RECEPTOR_PLANES * k_hi
    for s in range(n_steps):
        stamp = t0 + s + 1
        for j in range(n_thr):
            c = cnt[j, s]
            q0 = cursor[j]
            for q in range(q0, q0 + c):
                g = spk[j, q]
                deliver_static_row(g, stamp, whole_rows, c_lo, c_hi, indptr, syn_code, syn_weight,
                                   w_table, syn_delay, w_mode, delay_const, buf, mask, n_all,
                                   ev_on, inbits)  # fmt: skip
                for b in range(m_lo.shape[0]):
                    if not m_lo[b] <= g < m_hi[b]:
                        continue
                    r = m_row[b] + g - m_lo[b]
                    a = m_indptr[r]
                    e = m_indptr[r + 1]
                    if not whole_rows:
                        a = search_sorted(m_code, c_lo, a, e)
                        e = search_sorted(m_code, c_hi, a, e)
                    ri = rules[b]
                    dri = drules[b]
                    rule = rule_params(param, max(ri, 0))
                    drule = delay_rule_params(dparam, max(dri, 0))
                    kp = kplus[k, r]
                    tl = tlast[k, r]
                    prow = b_prow[b] - b_tlo[b]
                    # an astrocyte's depression amplitude (rd) or gain (rg) on this block
                    rd = -1
                    rg = -1
                    dep_off = 0
                    gain_off = 0
                    if mod is not None:
                        rd = blk_dep[b]
                        rg = blk_gain[b]
                        if rd >= 0:
                            dep_off = rec_off[rd] - rec_tlo[rd]
                        if rg >= 0:
                            gain_off = rec_off[rg] - rec_tlo[rg]
                    if ri >= 0 and touch_histories(a, e, syn_h, hf, n_col) < 0:
                        raise RuntimeError("negative stamp in a spike history")
                    # the rule's decay tables (1-D views: one index per look-up)
                    tab_p = dtab[max(ri, 0), 0]
                    tab_m = dtab[max(ri, 0), 1]
                    n_tab = tab_p.shape[0]
                    for sy in range(a, e):
                        # unsigned indices: Numba then emits no negative-index wraparound,
                        # a third of this loop's instructions (all indices here are >= 0)
                        us = np.uint64(sy)
                        d = np.int64(m_delay[us])
                        slot = (stamp + d) & mask
                        code = np.int64(m_code[us])
                        t = code >> RECEPTOR_SHIFT
                        w = m_weight[us]
                        h = np.int64(syn_h[us])
                        if ri >= 0:
                            # the STDP update of a presynaptic spike, written out here (it
                            # predates JIT_BORROW, when an inlined function taking the
                            # history arrays kept their reference counts live)
                            am = rule.a_minus
                            if mod is not None:  # noqa: SIM102 (see deliver_mutable)
                                if rd >= 0:
                                    am = depression_amplitude(
                                        dep_off + t, stamp, am, rec_ptr, t_src, t_w, t_d, m_hist,
                                        hmask,
                                    )  # fmt: skip
                            lim = stamp - d
                            # the row in the flat history: column 0 at `row`, entry e's
                            # stamp at `first + e * wd` (newest first), up to `stop`
                            row = h * n_col
                            first = row + 1
                            stop = first + cap * wd
                            # ee: the latest postsynaptic spike that reached the synapse
                            # by now (t_post + d <= stamp)
                            ee = first
                            while ee < stop and hf[np.uint64(ee)] > lim:
                                ee += wd
                            if tl >= 0:
                                # facilitation by those after max(t_last, F) not applied
                                # yet (F: the row's flushes), oldest first
                                x_lo = max(np.float64(tl), hf[np.uint64(row)])
                                f = ee
                                while f < stop and hf[np.uint64(f)] + d > x_lo:
                                    f += wd
                                q = f - wd
                                while q >= ee:
                                    n = np.int64(hf[np.uint64(q)]) + d - tl
                                    if n < n_tab:
                                        kk = tab_p[np.uint64(n)]
                                    else:
                                        kk = math.exp(-n * rule.inv_tau_plus)
                                    if not rule.nearest:
                                        kk *= kp
                                    w = facilitate(w, kk, rule)
                                    q -= wd
                            # depression: the latest postsynaptic spike strictly before
                            # stamp - d (an empty entry is -inf)
                            if ee < stop and hf[np.uint64(ee)] == lim:
                                ee += wd
                            if ee < stop and hf[np.uint64(ee)] >= 0.0:
                                n = lim - np.int64(hf[np.uint64(ee)])
                                if n < n_tab:
                                    kk = tab_m[np.uint64(n)]
                                else:
                                    kk = math.exp(-n * rule.inv_tau_minus)
                                if not rule.nearest:
                                    kk *= hf[np.uint64(ee + 1 + ri)]
                                w = depress(w, kk, rule, am)
                            m_weight[us] = w
                        if dri >= 0:  # delay plasticity: after STDP, before transmitting
                            d_new = delay_pre(d, h, sy, stamp, drule, sa_i64, hist, cap, wd)
                            if d_new != d:
                                m_delay[sy] = d_new
                                resort_post(post_syn, post_row, post_delay, post_ptr[prow + t],
                                            post_ptr[prow + t + 1], sy, m_delay)  # fmt: skip
                                slot = (stamp + d_new) & mask
                        if mod is not None:  # noqa: SIM102 (see deliver_mutable)
                            if rg >= 0:  # the gain scales what is transmitted, not the weight
                                w = w * (1.0 + term_sum(gain_off + t, stamp, rec_ptr, t_src,
                                                        t_w, t_d, m_hist, hmask))  # fmt: skip
                        buf[np.uint64(slot), np.uint64((code & RECEPTOR_MASK) * n_all + t)] += w
                        if ev_on and w != 0:
                            inbits[slot, t >> 6] |= np.uint64(1) << np.uint64(t & 63)
                    if ri >= 0:
                        advance_pre(k, r, stamp, rule.inv_tau_plus, kplus, tlast)
            cursor[j] = q0 + c
    return 0


@njit(**JIT_INLINE)
def touch_histories(a, e, syn_h, hf, n_col):
    """Read column 0 of the history rows of synapses ``[a, e)``' targets; return their sum.

    ``hf``: ``Plasticity.hist`` flattened, ``n_col`` columns per row. A first pass over a
    source's synapses before the updates: its loads do not depend on each other, so the
    processor overlaps their cache misses, and the updates then find the rows' first cache
    line (the flush stamp and the latest entries) in cache. The caller checks the result
    (stamps are never negative), so that the compiler keeps the loads.
    """
    acc = 0.0
    for sy in range(a, e):
        acc += hf[np.uint64(np.int64(syn_h[np.uint64(sy)]) * n_col)]
    return acc


@njit(**JIT)
def mutable_out_degree(g, mut):
    """Return the number of synapses of source ``g`` in the mutable blocks."""
    n = 0
    for b in range(mut.lo.shape[0]):
        if mut.lo[b] <= g < mut.hi[b]:
            r = mut.row[b] + g - mut.lo[b]
            n += mut.indptr[r + 1] - mut.indptr[r]
    return n


@njit(**JIT_BORROW)
def update_partition(k, k_lo, k_hi, t0, n_steps, spk, cnt, pops, state, ring, evd, inputs, probes,
                     plast, mod):  # fmt: skip
    """Update the neurons of partition ``k`` for ``n_steps`` steps after stamp ``t0``.

    Per step: apply step-current changes (``i_ext``), add aggregated Poisson input to the
    ring slot, update every population intersecting the partition (event-driven for LIF
    populations when ``evd.on``), then write state probes (``probes`` is ``None`` when no
    recorder samples state: the loop is then compiled without them; with them, their arrays
    are read into locals once per chunk, not passed to a function at every step). Spikes go
    to ``spk[k]`` and their per-step counts to ``cnt[k]``; with plasticity (``plast`` not
    ``None``) the spikes of neurons with plastic inputs are appended to their spike
    histories. With astrocyte effects (``mod`` not ``None``) the modulated coefficients are
    set before the updates and the modulating astrocytes' outputs recorded after them.
    """
    # fields are read into locals once, outside the per-step loop
    pop_kind, pop_start, pop_size, pop_foff = pops.kind, pops.start, pops.size, pops.foff
    pop_ioff, pop_doff, pop_key, coeffs, gap = pops.ioff, pops.doff, pops.key, pops.coeffs, pops.gap
    pop_event, pop_noff, ncoeffs, models = pops.event, pops.noff, pops.ncoeffs, pops.models
    n_coeffs = coeffs.shape[1]
    fstate, istate, i_ext = state.fstate, state.istate, state.i_ext
    if probes is not None:  # state recorders (pruned without them)
        p_every, p_base, p_off, p_width, p_out, p_int = (
            probes.every, probes.base, probes.off, probes.width, probes.out, probes.is_int,
        )  # fmt: skip
        p_addr, p_gid, p_rec, p_col = probes.addr, probes.gid, probes.rec, probes.col
    if plast is not None:  # spike histories (pruned without plasticity)
        h_row, h_hist, h_n, h_param = plast.hrow, plast.hist, plast.hist_n, plast.param
        h_cap, h_reach = plast.cap, plast.reach
        h_last = 1 + (h_cap - 1) * (h_param.shape[0] + 1)  # column of the oldest entry
    buf, mask = ring.buffer, ring.mask
    ev_on, inbits = evd.on, evd.inbits
    ev_step, ev_gid, ev_value = inputs.ev_step, inputs.ev_gid, inputs.ev_value
    pin_indptr, pin_targets, pin_n, pin_p = (
        inputs.pin_indptr, inputs.pin_targets, inputs.pin_n, inputs.pin_p,
    )  # fmt: skip
    pin_w, pin_rec, pin_key = inputs.pin_w, inputs.pin_rec, inputs.pin_key
    n_pop = pop_kind.shape[0]
    n_pin = pin_n.shape[0]
    n_ev = ev_step.shape[0]
    ev = search_sorted(ev_step, t0 + 1, 0, n_ev)
    n_out = 0
    spikes = spk[k]
    w_lo = k_lo >> 6
    w_hi = (k_hi + 63) >> 6
    n_all = buf.shape[1] // N_RECEPTOR_PLANES
    for s in range(n_steps):
        stamp = t0 + s + 1
        slot = stamp & mask
        ring_row = buf[slot]
        while ev < n_ev and ev_step[ev] == stamp:
            g = ev_gid[ev]
            if k_lo <= g < k_hi:
                if ev_on:
                    # a skipped neuron is first advanced to the previous step with the old
                    # current, then updated in this step with the new one
                    catch_up_neuron(g, stamp - 1, pops, state, evd)
                    inbits[slot, g >> 6] |= np.uint64(1) << np.uint64(g & 63)
                i_ext[g] = ev_value[ev]
            ev += 1
        for inp in range(n_pin):
            a = search_sorted(pin_targets, k_lo, pin_indptr[inp], pin_indptr[inp + 1])
            e = search_sorted(pin_targets, k_hi, a, pin_indptr[inp + 1])
            n_in = pin_n[inp]
            p_in = pin_p[inp]
            # small n*p: P(0) = (1-p)^n once per input and step, not per target (the same
            # branch binomial_count takes, so the same counts)
            small = n_in > 0 and 0.0 < p_in < 1.0 and n_in * p_in < 20.0
            p0 = math.exp(n_in * math.log1p(-p_in)) if small else 0.0
            ratio = p_in / (1.0 - p_in) if small else 0.0
            for q in range(a, e):
                g = pin_targets[q]
                u = uniform(pin_key[inp], g, stamp, 0)
                if small:
                    count = binomial_from_zero(u, n_in, p0, ratio)
                else:
                    count = binomial_count(u, n_in, p_in)
                if count > 0 and pin_w[inp] != 0:
                    ring_row[pin_rec[inp] * n_all + g] += count * pin_w[inp]
                    if ev_on:
                        inbits[slot, g >> 6] |= np.uint64(1) << np.uint64(g & 63)
        if mod is not None:
            modulate_neurons(k_lo, k_hi, stamp, mod, pops.ncoeffs)
        before = n_out
        for p in range(n_pop):
            start = pop_start[p]
            size = pop_size[p]
            lo = max(k_lo, start) - start
            hi = min(k_hi, start + size) - start
            if lo >= hi:
                continue
            kind = pop_kind[p]
            if ev_on and pop_event[p] > 0:
                n_out = event_update_population(
                    models, kind, start + lo, start + hi, start, size, pop_foff[p], pop_ioff[p],
                    coeffs[p], gap[p], state, ring_row, stamp, inbits[slot], evd, spikes, n_out,
                )  # fmt: skip
            else:
                o = pop_noff[p]
                # per-neuron coefficients of a heterogeneous population, else nothing
                het = ncoeffs[o : o + n_coeffs * size] if o >= 0 else ncoeffs[0:0]
                n_out = update_population(
                    models, kind, lo, hi, size, start, pop_foff[p], pop_ioff[p], pop_doff[p],
                    coeffs[p], het, pop_key[p], state, ring_row, stamp, spikes, n_out,
                )  # fmt: skip
        if plast is not None:
            for q in range(before, n_out):
                h = h_row[spikes[q]]
                if h < 0:
                    continue
                if h_hist[h, h_last] > h_hist[h, 0] - h_reach:
                    # the oldest entry may still be pending: apply what reached its
                    # synapses (everything up to t0 is delivered) before it is dropped
                    flush_rows(k, t0, h, h + 1, plast)
                append_spike(h, stamp, h_hist, h_n, h_param, h_cap)
        if mod is not None:
            record_outputs(k_lo, k_hi, stamp, mod, fstate)
        if ev_on:
            inbits[slot, w_lo:w_hi] = 0
        cnt[k, s] = n_out - before
        if probes is not None:
            # probe q of recorder r samples every every[r] steps, into row
            # stamp // every[r] - base[r] of that recorder's block of out
            for q in range(p_addr.shape[0]):
                g = p_gid[q]
                if k_lo <= g < k_hi:
                    r = p_rec[q]
                    every = p_every[r]
                    if stamp % every == 0:
                        at = p_off[r] + (stamp // every - p_base[r]) * p_width[r] + p_col[q]
                        if p_int[q]:
                            p_out[at] = istate[p_addr[q]]
                        else:
                            p_out[at] = fstate[p_addr[q]]
    return n_out


@njit(**JIT)
def catch_up_neuron(g, stamp, pops, state, evd):
    """Advance neuron ``g`` (if it belongs to an event-driven population) to ``stamp``."""
    p = search_sorted(pops.start, g + 1, 0, pops.start.shape[0]) - 1
    if pops.event[p] == 0:
        return
    catch_up_population(
        pops.models, pops.kind[p], g, g + 1, pops.start[p], pops.size[p], pops.foff[p],
        pops.coeffs[p], pops.gap[p], state, stamp, evd,
    )  # fmt: skip


@njit(**JIT)
def catch_up_partition(k_lo, k_hi, stamp, pops, state, evd):
    """Bring the skipped neurons in ``[k_lo, k_hi)`` up to ``stamp`` (event-driven mode).

    Called on copies of the state (and of ``last``) when the state is read, never on the
    running state, so reading does not change the trajectory.
    """
    for p in range(pops.kind.shape[0]):
        start = pops.start[p]
        size = pops.size[p]
        lo = max(k_lo, start)
        hi = min(k_hi, start + size)
        if lo < hi and pops.event[p] > 0:
            catch_up_population(
                pops.models, pops.kind[p], lo, hi, start, size, pops.foff[p], pops.coeffs[p],
                pops.gap[p], state, stamp, evd,
            )  # fmt: skip
    return 0


@njit(**JIT_BORROW)
def record_chunk(t0, n_steps, seg_t0, spk, cnt, cursor, syn, mut, pop_start, rec):
    """Count and record the spikes of one chunk, in canonical (stamp, id) order.

    ``counters[0]`` += spikes, ``counters[1]`` += synaptic events (sum of out-degrees),
    ``counters[2]`` = number of recorded spikes in ``rec_steps``/``rec_ids``.
    ``rate_counts[stamp - seg_t0 - 1, rate_col[pop]]`` counts spikes per population and step.
    """
    rate_col, rate_counts, rec_mask = rec.rate_col, rec.rate_counts, rec.rec_mask
    rec_steps, rec_ids, spike_count, counters = (
        rec.rec_steps, rec.rec_ids, rec.spike_count, rec.counters,
    )  # fmt: skip
    n_thr = cnt.shape[0]
    n_pop = pop_start.shape[0]
    for j in range(n_thr):
        cursor[j] = 0
    n_rec = counters[2]
    indptr = syn.indptr
    for s in range(n_steps):
        stamp = t0 + s + 1
        for j in range(n_thr):
            c = cnt[j, s]
            q0 = cursor[j]
            for q in range(q0, q0 + c):
                g = spk[j, q]
                spike_count[g] += 1
                counters[0] += 1
                counters[1] += indptr[g + 1] - indptr[g]
                if mut is not None:
                    counters[1] += mutable_out_degree(g, mut)
                if rate_counts.shape[1] > 0:
                    p = search_sorted(pop_start, g + 1, 0, n_pop) - 1
                    col = rate_col[p]
                    if col >= 0:
                        rate_counts[stamp - seg_t0 - 1, col] += 1
                if rec_mask[g]:
                    rec_steps[n_rec] = stamp
                    rec_ids[n_rec] = g
                    n_rec += 1
            cursor[j] = q0 + c
    counters[2] = n_rec
    return 0


def _run_segment(t_start, n_steps, min_delay, rec_per_chunk, bufs, pops, state, syn, mut, ring,
                 evd, inputs, probes, rec, plast, mod):  # fmt: skip
    """Advance the network from stamp ``t_start`` by up to ``n_steps`` steps.

    Stops early when the spike recording buffer could overflow in the next chunk
    (``counters[2] + rec_per_chunk > rec_steps.size``). Returns the number of steps done.
    On return every emitted spike has been delivered to the ring buffer. In
    event-driven mode skipped neurons are NOT brought up to date (that would make the
    trajectory depend on where segments end): readers use ``catch_up_partition`` on copies.
    Compiled twice: ``run_segment_serial``
    (one partition, no thread pool, cheaper to compile) and ``run_segment_parallel`` (one
    ``prange`` region per chunk; the engine prefers the thread team of
    :mod:`snnsim.kernels.thread_team`, which follows the same steps).
    The structures are those of :mod:`snnsim.kernels.layout`. With plasticity, facilitations
    wait for the synapse's next presynaptic spike, as in NEST, or for a flush
    (:func:`~snnsim.kernels.plasticity.flush_rows`): of a neuron whose history would drop an
    entry that may still be pending (in the neuron update), and of every neuron at the end
    of ``Engine.run`` and before a weight sample (``snnsim.plastic_blocks.flush_histories``).
    Astrocyte effects (``mod``, :mod:`snnsim.kernels.modulation`) need chunks no longer
    than the shortest modulation delay (``min_delay`` is the caller's chunk length).
    """
    part_lo, part_hi, spk, cnt, cursors = (
        bufs.part_lo, bufs.part_hi, bufs.spk, bufs.cnt, bufs.cursors,
    )  # fmt: skip
    rec_steps, counters = rec.rec_steps, rec.counters
    pop_start = pops.start
    n_thr = part_lo.shape[0]
    whole = n_thr == 1
    t = t_start
    end = t_start + n_steps
    pend_t0 = t_start
    # typed int64 from the start: a literal 0 would first compile deliver_spikes for it
    pend_len = np.int64(0)
    b = 0
    while t < end:
        if counters[2] + rec_per_chunk > rec_steps.shape[0]:
            break
        length = min(min_delay, end - t)
        pb = 1 - b
        for k in prange(n_thr):
            if pend_len > 0:
                deliver_spikes(
                    k, part_lo[k], part_hi[k], whole, pend_t0, pend_len, spk[pb], cnt[pb],
                    cursors[k], syn, mut, ring, evd, plast, mod,
                )  # fmt: skip
            update_partition(
                k, part_lo[k], part_hi[k], t, length, spk[b], cnt[b], pops, state, ring, evd,
                inputs, probes, plast, mod,
            )  # fmt: skip
        record_chunk(t, length, t_start, spk[b], cnt[b], cursors[n_thr], syn, mut, pop_start, rec)
        pend_t0 = t
        pend_len = length
        t += length
        b = pb
    if pend_len > 0:
        pb = 1 - b
        for k in prange(n_thr):
            deliver_spikes(
                k, part_lo[k], part_hi[k], whole, pend_t0, pend_len, spk[pb], cnt[pb], cursors[k],
                syn, mut, ring, evd, plast, mod,
            )  # fmt: skip
    return t - t_start


def _compiled(name: str, options: dict[str, Any]) -> Any:
    # One Python body, two cache entries: the qualified name keys Numba's on-disk cache.
    fn: Any = _run_segment
    clone = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = name
    clone.__doc__ = fn.__doc__
    return njit(**options)(clone)


run_segment_serial = _compiled("run_segment_serial", JIT)
run_segment_parallel = _compiled("run_segment_parallel", JIT_PARALLEL)
