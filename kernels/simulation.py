"""The compiled run loop: chunks of ``min_delay`` steps, target-partitioned threads.

Neurons are split into ``T`` contiguous partitions ``[part_lo[k], part_hi[k])``, one per
thread. Thread ``k`` owns the neuron state AND the ring-buffer entries of its partition, so
threads never write the same memory. Time advances in chunks of at most ``min_delay``
steps: no spike sent in a chunk can arrive within it, so inside one parallel region each
thread (1) delivers the spikes of the previous chunk to its own targets and (2) updates its
neurons for the chunk. Spikes are delivered in the canonical order (time stamp, global id),
whatever the number of threads, so every target sums its inputs in the same order and
results are bit-identical for any thread count. The serial part between chunks records
spikes and counts events. At the end of a segment all pending spikes are delivered, so the
ring buffers hold exactly the spikes in flight (checkpoints save them).

Time stamps: the update that advances time from ``(s-1) dt`` to ``s dt`` has stamp ``s``;
a spike emitted in it is reported at ``s dt`` and, through a synapse of delay ``d`` steps,
is added to the target's input in the update with stamp ``s + d``.
"""

from __future__ import annotations

from numba import njit, prange
from snnsim.kernels.jit_options import JIT, JIT_PARALLEL
from snnsim.kernels.neurons import update_population
from snnsim.kernels.random_streams import binomial_count, uniform


@njit(**JIT)
def search_sorted(a, value, lo, hi):
    """First index ``i`` in ``[lo, hi)`` with ``a[i] >= value`` (``a`` sorted ascending)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**JIT)
def deliver_spikes(
    k_lo,
    k_hi,
    whole_rows,
    t0,
    n_steps,
    spk,
    cnt,
    cursor,
    indptr,
    syn_code,
    syn_weight,
    syn_delay,
    ring,
    mask,
):
    """Add the weights of the pending spikes' synapses to the ring buffer of one partition.

    Parameters
    ----------
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
    indptr, syn_code, syn_weight, syn_delay :
        Global CSR by source: ``syn_code = 2*target + receptor`` (rows sorted), weight
        float32 (nA or mV), delay uint16 (steps >= 1).
    ring : float64[D, 2*N]
        Ring buffer; ``ring[(stamp + delay) & mask, code] += weight``.
    """
    n_thr = cnt.shape[0]
    for j in range(n_thr):
        cursor[j] = 0
    c_lo = 2 * k_lo
    c_hi = 2 * k_hi
    for s in range(n_steps):
        stamp = t0 + s + 1
        for j in range(n_thr):
            c = cnt[j, s]
            q0 = cursor[j]
            for q in range(q0, q0 + c):
                g = spk[j, q]
                a = indptr[g]
                e = indptr[g + 1]
                if not whole_rows:
                    a = search_sorted(syn_code, c_lo, a, e)
                    e = search_sorted(syn_code, c_hi, a, e)
                for syn in range(a, e):
                    ring[(stamp + syn_delay[syn]) & mask, syn_code[syn]] += syn_weight[syn]
            cursor[j] = q0 + c
    return 0


@njit(**JIT)
def update_partition(
    k,
    k_lo,
    k_hi,
    t0,
    n_steps,
    spk,
    cnt,
    pop_kind,
    pop_start,
    pop_size,
    pop_foff,
    pop_ioff,
    pop_doff,
    pop_key,
    coeffs,
    fstate,
    istate,
    idata,
    i_ext,
    ring,
    mask,
    ev_step,
    ev_gid,
    ev_value,
    pin_indptr,
    pin_targets,
    pin_n,
    pin_p,
    pin_w,
    pin_rec,
    pin_key,
    probe_addr,
    probe_gid,
    probe_rec,
    probe_col,
    rec_every,
    rec_width,
    rec_off,
    rec_base,
    rec_out,
):
    """Update the neurons of partition ``k`` for ``n_steps`` steps after stamp ``t0``.

    Per step: apply step-current changes (``i_ext``), add aggregated Poisson input to the
    ring slot, update every population intersecting the partition, then write state
    probes. Spikes go to ``spk[k]`` and their per-step counts to ``cnt[k]``.
    """
    n_pop = pop_kind.shape[0]
    n_pin = pin_n.shape[0]
    n_probe = probe_addr.shape[0]
    n_ev = ev_step.shape[0]
    ev = search_sorted(ev_step, t0 + 1, 0, n_ev)
    n_out = 0
    spikes = spk[k]
    for s in range(n_steps):
        stamp = t0 + s + 1
        ring_row = ring[stamp & mask]
        while ev < n_ev and ev_step[ev] == stamp:
            g = ev_gid[ev]
            if k_lo <= g < k_hi:
                i_ext[g] = ev_value[ev]
            ev += 1
        for inp in range(n_pin):
            a = search_sorted(pin_targets, k_lo, pin_indptr[inp], pin_indptr[inp + 1])
            e = search_sorted(pin_targets, k_hi, a, pin_indptr[inp + 1])
            for q in range(a, e):
                g = pin_targets[q]
                count = binomial_count(uniform(pin_key[inp], g, stamp, 0), pin_n[inp], pin_p[inp])
                if count > 0:
                    ring_row[2 * g + pin_rec[inp]] += count * pin_w[inp]
        before = n_out
        for p in range(n_pop):
            start = pop_start[p]
            size = pop_size[p]
            lo = max(k_lo, start) - start
            hi = min(k_hi, start + size) - start
            if lo < hi:
                n_out = update_population(
                    pop_kind[p],
                    lo,
                    hi,
                    size,
                    start,
                    fstate,
                    pop_foff[p],
                    istate,
                    pop_ioff[p],
                    idata,
                    pop_doff[p],
                    coeffs[p],
                    pop_key[p],
                    i_ext,
                    ring_row,
                    stamp,
                    spikes,
                    n_out,
                )
        cnt[k, s] = n_out - before
        for q in range(n_probe):
            g = probe_gid[q]
            if k_lo <= g < k_hi:
                r = probe_rec[q]
                every = rec_every[r]
                if stamp % every == 0:
                    row = stamp // every - rec_base[r]
                    rec_out[rec_off[r] + row * rec_width[r] + probe_col[q]] = fstate[probe_addr[q]]
    return n_out


@njit(**JIT)
def record_chunk(
    t0,
    n_steps,
    seg_t0,
    spk,
    cnt,
    cursor,
    indptr,
    pop_start,
    rate_col,
    rate_counts,
    rec_mask,
    rec_steps,
    rec_ids,
    spike_count,
    counters,
):
    """Count and record the spikes of one chunk, in canonical (stamp, id) order.

    ``counters[0]`` += spikes, ``counters[1]`` += synaptic events (sum of out-degrees),
    ``counters[2]`` = number of recorded spikes in ``rec_steps``/``rec_ids``.
    ``rate_counts[stamp - seg_t0 - 1, rate_col[pop]]`` counts spikes per population and step.
    """
    n_thr = cnt.shape[0]
    n_pop = pop_start.shape[0]
    for j in range(n_thr):
        cursor[j] = 0
    n_rec = counters[2]
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


@njit(**JIT_PARALLEL)
def run_segment(
    t_start,
    n_steps,
    min_delay,
    rec_capacity_per_chunk,
    part_lo,
    part_hi,
    spk,
    cnt,
    cursors,
    pop_kind,
    pop_start,
    pop_size,
    pop_foff,
    pop_ioff,
    pop_doff,
    pop_key,
    coeffs,
    fstate,
    istate,
    idata,
    i_ext,
    ring,
    mask,
    indptr,
    syn_code,
    syn_weight,
    syn_delay,
    ev_step,
    ev_gid,
    ev_value,
    pin_indptr,
    pin_targets,
    pin_n,
    pin_p,
    pin_w,
    pin_rec,
    pin_key,
    probe_addr,
    probe_gid,
    probe_rec,
    probe_col,
    rec_every,
    rec_width,
    rec_off,
    rec_base,
    rec_out,
    rate_col,
    rate_counts,
    rec_mask,
    rec_steps,
    rec_ids,
    spike_count,
    counters,
):
    """Advance the network from stamp ``t_start`` by up to ``n_steps`` steps.

    Stops early when the spike recording buffer could overflow in the next chunk
    (``counters[2] + rec_capacity_per_chunk > rec_steps.size``). Returns the number of
    steps done. On return every emitted spike has been delivered to the ring buffer.

    ``spk``, ``cnt`` are double buffers of shape ``(2, T, ...)``; ``cursors`` is
    ``int64[T + 1, T]`` scratch. See :func:`update_partition`, :func:`deliver_spikes` and
    :func:`record_chunk` for the other arrays.
    """
    n_thr = part_lo.shape[0]
    whole = n_thr == 1
    t = t_start
    end = t_start + n_steps
    pend_t0 = t_start
    pend_len = 0
    b = 0
    while t < end:
        if counters[2] + rec_capacity_per_chunk > rec_steps.shape[0]:
            break
        length = min(min_delay, end - t)
        pb = 1 - b
        for k in prange(n_thr):
            if pend_len > 0:
                deliver_spikes(
                    part_lo[k],
                    part_hi[k],
                    whole,
                    pend_t0,
                    pend_len,
                    spk[pb],
                    cnt[pb],
                    cursors[k],
                    indptr,
                    syn_code,
                    syn_weight,
                    syn_delay,
                    ring,
                    mask,
                )
            update_partition(
                k,
                part_lo[k],
                part_hi[k],
                t,
                length,
                spk[b],
                cnt[b],
                pop_kind,
                pop_start,
                pop_size,
                pop_foff,
                pop_ioff,
                pop_doff,
                pop_key,
                coeffs,
                fstate,
                istate,
                idata,
                i_ext,
                ring,
                mask,
                ev_step,
                ev_gid,
                ev_value,
                pin_indptr,
                pin_targets,
                pin_n,
                pin_p,
                pin_w,
                pin_rec,
                pin_key,
                probe_addr,
                probe_gid,
                probe_rec,
                probe_col,
                rec_every,
                rec_width,
                rec_off,
                rec_base,
                rec_out,
            )
        record_chunk(
            t,
            length,
            t_start,
            spk[b],
            cnt[b],
            cursors[n_thr],
            indptr,
            pop_start,
            rate_col,
            rate_counts,
            rec_mask,
            rec_steps,
            rec_ids,
            spike_count,
            counters,
        )
        pend_t0 = t
        pend_len = length
        t += length
        b = pb
    if pend_len > 0:
        pb = 1 - b
        for k in prange(n_thr):
            deliver_spikes(
                part_lo[k],
                part_hi[k],
                whole,
                pend_t0,
                pend_len,
                spk[pb],
                cnt[pb],
                cursors[k],
                indptr,
                syn_code,
                syn_weight,
                syn_delay,
                ring,
                mask,
            )
    return t - t_start
