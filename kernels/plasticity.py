r"""STDP in the run loop: event-driven, race-free with target-partitioned threads.

The rule and its NEST equivalence are documented in :mod:`snnsim.plasticity`; the state is
the :class:`~snnsim.kernels.layout.Plasticity` structure. Nothing here runs per synapse per
step, and nothing runs per chunk: facilitations are applied lazily, as NEST applies them.

- :func:`append_spike` (neuron update, per postsynaptic spike of a neuron with plastic
  inputs): put ``(stamp, K-)`` in front of the neuron's spike history (``Plasticity.hist``,
  newest first), with :math:`K_- \leftarrow K_- e^{-(t - t_{prev})/\tau_-} + 1` per rule
  (NEST's archiving node). Entries are read from the front, so the common look-ups (the
  latest spike or two) read the first cache line of the row.
- the presynaptic step (delivery of a presynaptic spike of stamp ``t`` through a synapse of
  delay ``d`` onto a neuron whose facilitations are applied through stamp :math:`F`):
  facilitation by the postsynaptic spikes with :math:`\max(t_{last}, F) < t_{post} + d \le
  t` (oldest first), then depression with the latest postsynaptic spike strictly before
  :math:`t - d` (:func:`depress`); the new weight is what the spike transmits (NEST's
  order). It is written out in the plastic delivery's loop over synapses
  (``snnsim.kernels.simulation.deliver_plastic_chunk``), not called: a function taking the
  history arrays, even inlined, kept an atomic reference-count update per array and
  synapse (8 % of the STDP run's instructions) before the run loop's functions were
  compiled without reference counting (``JIT_BORROW``).
- :func:`flush_rows`: the facilitations by spikes with :math:`F < t_{post} + d \le T`
  that reached a synapse after its last presynaptic spike (:math:`t_{last} < t_{post} +
  d`), then :math:`F \leftarrow T`. It runs at the end of every run segment (so weights
  read between segments include every facilitation that reached its synapse, see
  ``Projection.get``) and, during the neuron update, for a neuron whose oldest history
  entry may still be pending when a spike would push it out. Together with the
  presynaptic step every (postsynaptic spike, synapse) pair is applied exactly once, in
  time order relative to the synapse's presynaptic spikes, with the same trace value: the
  weights do not depend on when flushes happen, where chunks or runs end, nor on the
  number of threads.

The history holds ``C >= max plastic delay + min_delay + 2`` entries (one spike per step at
most): after a flush through the chunk's start, an entry pushed out can reach no synapse
any more, and the latest spike before any stamp still to be delivered is kept. A few
entries more make the forced flushes rare (``snnsim.plastic_blocks``).

The presynaptic state (trace :math:`K_+` as of the last spike and its stamp) is kept per
block row, i.e. per source neuron, with one replica per thread: every thread advances its
own replica at every presynaptic spike of a plastic block (also when none of the row's
targets is its own), so the replicas stay equal and no thread writes another's memory.
All of the above runs in the thread that owns the postsynaptic neuron.

Delay plasticity (:mod:`snnsim.delay_plasticity`): :func:`delay_pre` at the delivery of a
presynaptic spike (after the STDP step), by the thread that owns the target, and
:func:`resort_post` to keep the post index sorted by delay when a delay changed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT, JIT_BORROW, JIT_INLINE

__all__ = [
    "DelayRule",
    "StdpRule",
    "advance_pre",
    "append_spike",
    "decay",
    "decay_table",
    "delay_pre",
    "delay_rule_params",
    "depress",
    "facilitate",
    "flush_all",
    "flush_rows",
    "resort_post",
    "rule_params",
]


class StdpRule(NamedTuple):
    """One STDP rule's parameters (a row of ``Plasticity.param``) as scalars.

    The per-synapse functions take this and the arrays they read, never the
    :class:`~snnsim.kernels.layout.Plasticity` structure: Numba updates the reference count
    of every array of a structure passed to a function (two atomic operations each), which
    made a plastic event cost 189 ns instead of 34 ns (``benchmarks/stdp_profile.py``).
    Those that take arrays are inlined (``JIT_INLINE``): a called function still counts
    references to its array arguments, four atomic operations per call. The run loop's
    per-step and per-chunk functions, and what they inline, are now compiled without
    reference counting (``JIT_BORROW``), so none of this costs anything there.
    """

    inv_tau_plus: float  # dt / tau_plus
    inv_tau_minus: float  # dt / tau_minus
    a_plus: float
    a_minus: float
    u_min: float
    w_max: float
    mu: float
    nearest: bool


@njit(**JIT)
def rule_params(param, ri):
    """Return rule ``ri``'s row of ``param`` as a :class:`StdpRule`."""
    return StdpRule(
        param[ri, 0], param[ri, 1], param[ri, 2], param[ri, 3], param[ri, 4], param[ri, 5],
        param[ri, 6], param[ri, 7] != 0.0,
    )  # fmt: skip


@njit(**JIT)
def facilitate(w, k, rule):
    r"""One facilitation: :math:`u + a_+ (1-u)^\mu k`, at most 1 (:math:`u = w/w_{max}`)."""
    w_max = rule.w_max
    u = w / w_max
    if rule.mu == 0.0:
        n = u + rule.a_plus * k
    else:
        n = u + rule.a_plus * (1.0 - u) * k
    return n * w_max if n < 1.0 else w_max


@njit(**JIT)
def depress(w, k, rule, a_minus):
    r"""One depression: :math:`u - a_- (u - u_{min})^\mu k`, within :math:`[u_{min}, 1]`.

    ``a_minus`` is the rule's :math:`a_-` or, for a block whose depression an astrocyte
    modulates, the modulated amplitude; a negative one (an astrocyte output below zero)
    potentiates, hence the upper bound, which the rule's own :math:`a_- \ge 0` never
    reaches.
    """
    w_max = rule.w_max
    u_min = rule.u_min
    u = w / w_max
    if rule.mu == 0.0:
        n = u - a_minus * k
    else:
        n = u - a_minus * (u - u_min) * k
    if n > 1.0:
        return w_max
    return n * w_max if n > u_min else u_min * w_max


@njit(**JIT)
def decay_table(param, n_steps):
    r"""Return the traces' decay over ``0 .. n_steps - 1`` whole steps for every rule.

    ``table[ri, 0, n]`` is :math:`e^{-n\,dt/\tau_+}` and ``table[ri, 1, n]``
    :math:`e^{-n\,dt/\tau_-}` (``param`` as in ``Plasticity.param``), computed by the
    expression :func:`decay` evaluates beyond the table, so a look-up gives the same float
    as the ``exp`` it replaces, bit for bit.
    """
    table = np.empty((param.shape[0], 2, n_steps))
    for ri in range(param.shape[0]):
        for which in range(2):
            for n in range(n_steps):
                table[ri, which, n] = math.exp(-n * param[ri, which])
    return table


@njit(**JIT_INLINE)
def decay(n, inv_tau, table, ri, which):
    r"""Return :math:`e^{-n\,\mathrm{inv\_tau}}` for ``n >= 0`` whole steps.

    From ``table[ri, which]`` (:func:`decay_table`; ``which`` 0: :math:`\tau_+`, 1:
    :math:`\tau_-`) when it reaches ``n``: time differences are whole steps, and a table
    load costs a fraction of an ``exp`` (one or two per plastic synapse per spike).
    """
    if n < table.shape[2]:
        return table[ri, which, n]
    return math.exp(-n * inv_tau)


@njit(**JIT_INLINE)
def append_spike(h, stamp, hist, hist_n, param, cap):
    """Put a postsynaptic spike at ``stamp`` in front of history row ``h``.

    The entries move back by one (the oldest is dropped: the caller has flushed it if it
    could still be pending). ``hist``, ``cap``: ``Plasticity.hist`` and ``.cap``.
    """
    wd = param.shape[0] + 1  # columns per entry: the stamp, then K- of each rule
    prev = hist[h, 1]  # the latest spike so far, -inf if none
    for c in range(cap * wd, wd, -1):
        hist[h, c] = hist[h, c - wd]
    hist[h, 1] = stamp
    if prev >= 0.0:
        gap = prev - stamp
        for ri in range(param.shape[0]):
            hist[h, 2 + ri] = hist[h, 2 + wd + ri] * math.exp(gap * param[ri, 1]) + 1.0
    else:
        for ri in range(param.shape[0]):
            hist[h, 2 + ri] = 1.0
    hist_n[h] += 1


@njit(**JIT_INLINE)
def advance_pre(k, r, t, inv_tau_plus, kplus, tlast):
    """Advance thread ``k``'s replica of row ``r``'s presynaptic state over a spike at ``t``."""
    tl = tlast[k, r]
    if tl >= 0:
        kplus[k, r] = kplus[k, r] * math.exp((tl - t) * inv_tau_plus) + 1.0
    else:
        kplus[k, r] = 1.0
    tlast[k, r] = t


@njit(**JIT_BORROW)
def flush_rows(k, stamp, lo, hi, pl):
    r"""Apply the pending facilitations of history rows ``lo .. hi - 1`` through ``stamp``.

    Those by postsynaptic spikes with :math:`F < t_{post} + d \le` ``stamp`` that reached
    the synapse after its last presynaptic spike (:math:`t_{last} < t_{post} + d`), with
    thread ``k``'s presynaptic replica, oldest first; then :math:`F \leftarrow` ``stamp``
    (``Plasticity.hist[h, 0]``). Every presynaptic spike up to ``stamp`` must have been
    delivered to the rows' neurons. Raises if the oldest entry is still pending after it
    (a history shorter than the bound of the module docstring).
    """
    hist, hgid, cap, reach = pl.hist, pl.hgid, pl.cap, pl.reach
    wd = pl.param.shape[0] + 1
    weight = pl.weight
    post_ptr, post_row, post_delay, post_syn = pl.post_ptr, pl.post_row, pl.post_delay, pl.post_syn
    kplus, tlast, dtab = pl.kplus, pl.tlast, pl.decay
    rules, dmax, tlo, thi, prow = pl.rule, pl.dmax, pl.tlo, pl.thi, pl.prow
    for h in range(lo, hi):
        done = hist[h, 0]  # facilitations applied through this stamp
        if hist[h, 1] <= done - reach:  # the latest spike reaches no synapse after it
            hist[h, 0] = stamp
            continue
        i = hgid[h]
        for b in range(rules.shape[0]):
            ri = rules[b]
            if ri < 0 or not tlo[b] <= i < thi[b]:
                continue
            oldest = done - dmax[b]  # entries at or before it reach no synapse after done
            n_e = 0
            while n_e < cap and hist[h, 1 + n_e * wd] > oldest:
                n_e += 1
            if n_e == 0:
                continue
            pr = prow[b] + i - tlo[b]
            rule = rule_params(pl.param, ri)
            # synapse by synapse, each visited once: most pairs were applied at a
            # presynaptic spike, and the scan of the (cached) entries skips them, so a
            # weight is read only where a facilitation is pending
            for s in range(post_ptr[pr], post_ptr[pr + 1]):
                r = post_row[s]
                tl = tlast[k, r]
                if tl < 0:
                    continue  # no presynaptic spike yet
                d = np.int64(post_delay[s])
                x_lo = max(np.float64(tl), done)
                e0 = 0
                while e0 < n_e and hist[h, 1 + e0 * wd] + d > stamp:
                    e0 += 1  # reaches the synapse after stamp
                e1 = e0
                while e1 < n_e and hist[h, 1 + e1 * wd] + d > x_lo:
                    e1 += 1
                if e1 == e0:
                    continue
                kp = kplus[k, r]
                sy = post_syn[s]
                w = weight[sy]
                for e in range(e1 - 1, e0 - 1, -1):
                    kk = decay(np.int64(hist[h, 1 + e * wd]) + d - tl, rule.inv_tau_plus, dtab,
                               ri, 0)  # fmt: skip
                    if not rule.nearest:
                        kk *= kp
                    w = facilitate(w, kk, rule)
                weight[sy] = w
        hist[h, 0] = stamp
        if hist[h, 1 + (cap - 1) * wd] > stamp - reach:
            raise RuntimeError("spike history too short for the plastic delays")
    return 0


@njit(**JIT)
def flush_all(stamp, pl, indptr, block_row, block_lo, block_hi, delay):
    r"""Apply every pending facilitation through ``stamp``, source by source.

    What :func:`flush_rows` does for every row, in the mutable blocks' own synapse order
    (``indptr``, ``block_row``, ``block_lo``, ``block_hi``, ``delay``: the
    ``MutableSynapses`` arrays), so that weights are read and written in order and only the
    history rows are looked up at random; then :math:`F \leftarrow` ``stamp`` for every
    row. Between segments only (every spike up to ``stamp`` delivered); the presynaptic
    replicas are equal then, replica 0 serves.
    """
    hf = pl.hist.ravel()
    n_col = np.int64(pl.hist.shape[1])
    wd = pl.param.shape[0] + 1
    stop_col = 1 + pl.cap * wd
    syn_h, weight, kplus, tlast, dtab = pl.syn_h, pl.weight, pl.kplus, pl.tlast, pl.decay
    for b in range(pl.rule.shape[0]):
        ri = pl.rule[b]
        if ri < 0:
            continue
        rule = rule_params(pl.param, ri)
        for r in range(block_row[b], block_row[b] + block_hi[b] - block_lo[b]):
            tl = tlast[0, r]
            if tl < 0:
                continue  # no presynaptic spike yet: nothing to pair with
            kp = kplus[0, r]
            # the rows' first lines, loaded in a pass of independent loads first (their
            # cache misses overlap; see simulation.touch_histories)
            acc = 0.0
            for sy in range(indptr[r], indptr[r + 1]):
                acc += hf[np.int64(syn_h[sy]) * n_col]
            if acc < 0.0:
                raise RuntimeError("negative stamp in a spike history")
            for sy in range(indptr[r], indptr[r + 1]):
                row = np.int64(syn_h[sy]) * n_col
                d = np.int64(delay[sy])
                x_lo = max(np.float64(tl), hf[row])
                e0 = row + 1
                stop = row + stop_col
                while e0 < stop and hf[e0] + d > stamp:
                    e0 += wd  # reaches the synapse after stamp
                e1 = e0
                while e1 < stop and hf[e1] + d > x_lo:
                    e1 += wd
                if e1 == e0:
                    continue
                w = weight[sy]
                q = e1 - wd
                while q >= e0:
                    kk = decay(np.int64(hf[q]) + d - tl, rule.inv_tau_plus, dtab, ri, 0)
                    if not rule.nearest:
                        kk *= kp
                    w = facilitate(w, kk, rule)
                    q -= wd
                weight[sy] = w
    for h in range(pl.hist.shape[0]):
        pl.hist[h, 0] = stamp
    return 0


class DelayRule(NamedTuple):
    """One delay rule's parameters (a row of ``Plasticity.dparam``) as integers (steps)."""

    window: np.int64
    lead: np.int64
    max_step: np.int64
    d_min: np.int64
    d_max: np.int64
    #: row of the rule's arrival array in ``Plasticity.sa_i64``
    arrival_row: np.int64
    #: postsynaptic spikes looked back
    look_back: np.int64


@njit(**JIT)
def delay_rule_params(dparam, dri):
    """Return delay rule ``dri``'s row of ``dparam`` as a :class:`DelayRule`."""
    p = dparam
    return DelayRule(
        np.int64(p[dri, 0]), np.int64(p[dri, 1]), np.int64(p[dri, 2]), np.int64(p[dri, 3]),
        np.int64(p[dri, 4]), np.int64(p[dri, 5]), np.int64(p[dri, 6]),
    )  # fmt: skip


@njit(**JIT_INLINE)
def delay_pre(d, h, sy, t, rule, sa_i64, hist, cap, wd):
    """Return the new delay of synapse ``sy`` (delay ``d``) onto history row ``h`` at spike ``t``.

    The rule of :mod:`snnsim.delay_plasticity`: the arrival of the synapse's previous spike
    (``sa_i64[rule.arrival_row, sy]``, -1: none) pairs with the target's postsynaptic spike
    nearest to ``arrival + lead`` within the window, among its last ``look_back`` spikes at
    or before ``t`` (entries the history still holds whatever the chunking, as at most
    ``min_delay - 1`` later spikes can have been appended); the delay moves towards
    alignment by at most ``max_step`` steps, within ``[d_min, d_max]``. The arrival becomes
    ``t + new``. ``hist``, ``cap``: ``Plasticity.hist`` and ``.cap``; ``wd``: columns per
    entry.
    """
    a = sa_i64[rule.arrival_row, sy]
    new = d
    if a >= 0:
        e = 0
        while e < cap and hist[h, 1 + e * wd] > t:  # appended after t: not seen
            e += 1
        e_end = min(cap, e + rule.look_back)
        oldest = a - rule.window
        newest = a + rule.window
        found = False
        best = np.int64(0)
        while e < e_end:
            n = hist[h, 1 + e * wd]
            if n < oldest:  # also an empty entry (-inf)
                break
            if n <= newest:
                err = np.int64(n) - rule.lead - a
                if not found or abs(err) < abs(best):  # ties: the later spike (seen first)
                    best = err
                    found = True
            e += 1
        if found and best != 0:
            mv = min(abs(best), rule.max_step)
            new = d + mv if best > 0 else d - mv
            new = min(rule.d_max, max(rule.d_min, new))
    sa_i64[rule.arrival_row, sy] = t + new
    return new


@njit(**JIT_BORROW)
def resort_post(post_syn, post_row, post_delay, a, z, sy, delay):
    """Move ``sy`` within its target's post index ``post_syn[a:z]`` after its delay changed.

    Keeps each target's synapses sorted by (delay, synapse), the order
    :func:`flush_rows` searches and ``sync_plasticity`` derives; ``post_row`` and
    ``post_delay`` move with ``post_syn``.
    """
    p = a
    while post_syn[p] != sy:
        p += 1
    row = post_row[p]
    key = np.int64(delay[sy])
    while p > a:
        o = post_syn[p - 1]
        do = np.int64(post_delay[p - 1])
        if do < key or (do == key and o < sy):
            break
        post_syn[p] = o
        post_row[p] = post_row[p - 1]
        post_delay[p] = post_delay[p - 1]
        p -= 1
    while p + 1 < z:
        o = post_syn[p + 1]
        do = np.int64(post_delay[p + 1])
        if do > key or (do == key and o > sy):
            break
        post_syn[p] = o
        post_row[p] = post_row[p + 1]
        post_delay[p] = post_delay[p + 1]
        p += 1
    post_syn[p] = sy
    post_row[p] = row
    post_delay[p] = key
