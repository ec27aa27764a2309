r"""STDP in the run loop: event-driven, race-free with target-partitioned threads.

The rule and its NEST equivalence are documented in :mod:`snnsim.plasticity`; the state is
the :class:`~snnsim.kernels.layout.Plasticity` structure. Nothing here runs per synapse per
step. Three entry points, all called by the thread that owns the postsynaptic neuron:

- :func:`history_append` (neuron update, per postsynaptic spike of a neuron with plastic
  inputs): append ``(stamp, K-)`` to the neuron's spike history, with
  :math:`K_- \leftarrow K_- e^{-(t - t_{prev})/\tau_-} + 1` per rule (NEST's archiving node).
  The history is a ring of ``C >= max plastic delay + min_delay + 2`` entries: at most one
  spike per step, and no entry older than the longest delay plus one chunk (and the one
  before it, for K-) is ever read again, because facilitations are never left pending
  beyond the chunk in which their postsynaptic spike reaches the synapse. ``C`` is a power
  of two, so that entry ``e`` is at ``e & (C - 1)``: a ``%`` is an integer division, and
  the plastic delivery took several per synapse.
- the presynaptic step (delivery of a presynaptic spike of stamp ``t`` through a synapse of
  delay ``d``, chunk ``(c0, c1]``): facilitation by the postsynaptic spikes with
  :math:`\max(t_{last}, c_0) < t_{post} + d \le t` (oldest first, :func:`facilitate`), then
  depression with the latest postsynaptic spike strictly before :math:`t - d`
  (:func:`depress`); the new weight is what the spike transmits (NEST's order). It is
  written out in the plastic delivery's loop over synapses
  (``snnsim.kernels.simulation.deliver_plastic_chunk``), not called: a function taking the
  history arrays, even inlined, kept an atomic reference-count update per array and
  synapse (8 % of the STDP run's instructions).
- :func:`flush_facilitation` (after the chunk's deliveries): facilitation by the
  postsynaptic spikes that reached a synapse in the chunk, :math:`c_0 < t_{post} + d \le
  c_1`, after its last presynaptic spike (:math:`t_{last} < t_{post} + d`). Together with
  the presynaptic step every (postsynaptic spike, synapse) pair is applied exactly once, in
  time order relative to the synapse's presynaptic spikes, with the same trace value: the
  result does not depend on where chunks or runs end, nor on the number of threads.

The presynaptic state (trace :math:`K_+` as of the last spike and its stamp) is kept per
block row, i.e. per source neuron, with one replica per thread: every thread advances its
own replica at every presynaptic spike of a plastic block (also when none of the row's
targets is its own), so the replicas stay equal and no thread writes another's memory.

Delay plasticity (:mod:`snnsim.delay_plasticity`): :func:`delay_pre` at the delivery of a
presynaptic spike (after the STDP step), by the thread that owns the target, and
:func:`resort_post` to keep the post index sorted by delay when a delay changed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT, JIT_INLINE

__all__ = [
    "DelayRule",
    "StdpRule",
    "advance_pre",
    "decay",
    "decay_table",
    "delay_pre",
    "delay_rule_params",
    "depress",
    "facilitate",
    "flush_facilitation",
    "history_append",
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
    references to its array arguments, four atomic operations per call.
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
def history_append(k, g, stamp, hrow, hist_t, hist_k, hist_n, param, act, act_lo, act_n, act_on):
    """Append a postsynaptic spike of neuron ``g`` at ``stamp`` to its history (if it has one).

    The neuron joins thread ``k``'s active list (``act[act_lo[k]:][:act_n[k]]``), which
    :func:`flush_facilitation` visits instead of every plastic target.
    """
    h = hrow[g]
    if h < 0:
        return
    hm = hist_t.shape[1] - 1  # the ring's length is a power of two
    n_h = hist_n[h]
    cur = n_h & hm
    if n_h > 0:
        prev = (n_h - 1) & hm
        gap = hist_t[h, prev] - stamp
        for ri in range(param.shape[0]):
            hist_k[ri, h, cur] = hist_k[ri, h, prev] * math.exp(gap * param[ri, 1]) + 1.0
    else:
        for ri in range(param.shape[0]):
            hist_k[ri, h, cur] = 1.0
    hist_t[h, cur] = stamp
    hist_n[h] = n_h + 1
    if not act_on[h]:
        act[act_lo[k] + act_n[k]] = h
        act_n[k] += 1
        act_on[h] = True


@njit(**JIT_INLINE)
def advance_pre(k, r, t, inv_tau_plus, kplus, tlast):
    """Advance thread ``k``'s replica of row ``r``'s presynaptic state over a spike at ``t``."""
    tl = tlast[k, r]
    if tl >= 0:
        kplus[k, r] = kplus[k, r] * math.exp((tl - t) * inv_tau_plus) + 1.0
    else:
        kplus[k, r] = 1.0
    tlast[k, r] = t


@njit(**JIT_INLINE)
def _first_delay(post_delay, a, z, value):
    """First index ``q`` in ``[a, z)`` with ``post_delay[q] >= value`` (sorted)."""
    while a < z:
        mid = (a + z) >> 1
        if post_delay[mid] < value:
            a = mid + 1
        else:
            z = mid
    return a


@njit(**JIT)
def flush_facilitation(k, c0, c1, mut, pl):
    """Apply the facilitations that reached their synapses in ``(c0, c1]``, not yet applied.

    Those whose postsynaptic spike reached the synapse after its last presynaptic spike,
    onto the neurons of thread ``k``'s active list (``pl.act[pl.act_lo[k]:][:pl.act_n[k]]``,
    see :func:`history_append`), with thread ``k``'s presynaptic replica. A neuron leaves
    the list once its latest spike can reach no synapse after ``c1``; the list's order
    does not matter, as each target's synapses are updated by its own history only.
    """
    hist_t, hist_n, hgid = pl.hist_t, pl.hist_n, pl.hgid
    act, act_on = pl.act, pl.act_on
    hm = hist_t.shape[1] - 1  # the ring's length is a power of two
    weight = mut.weight
    post_ptr, post_syn, post_row, post_delay = pl.post_ptr, pl.post_syn, pl.post_row, pl.post_delay
    kplus, tlast, dtab = pl.kplus, pl.tlast, pl.decay
    rules, dmax, tlo, thi, prow = pl.rule, pl.dmax, pl.tlo, pl.thi, pl.prow
    reach = 0  # the longest plastic delay: a spike stays active this long
    for b in range(rules.shape[0]):
        if rules[b] >= 0:
            reach = max(reach, dmax[b])
    base = pl.act_lo[k]
    n_act = pl.act_n[k]
    j = 0
    while j < n_act:
        h = act[base + j]
        i = hgid[h]
        n_h = hist_n[h]
        lo_e = max(0, n_h - hm - 1)
        for b in range(rules.shape[0]):
            ri = rules[b]
            if ri < 0 or not tlo[b] <= i < thi[b]:
                continue
            oldest = c0 - dmax[b]  # entries at or before it reach no synapse after c0
            if hist_t[h, (n_h - 1) & hm] <= oldest:
                continue
            pr = prow[b] + i - tlo[b]
            a = post_ptr[pr]
            z = post_ptr[pr + 1]
            if a == z:
                continue
            rule = rule_params(pl.param, ri)
            f = n_h - 1
            while f >= lo_e and hist_t[h, f & hm] > oldest:
                f -= 1
            for q in range(f + 1, n_h):
                p = hist_t[h, q & hm]
                if p >= c1:
                    break
                s0 = _first_delay(post_delay, a, z, c0 + 1 - p)
                s1 = _first_delay(post_delay, s0, z, c1 - p + 1)
                for s in range(s0, s1):
                    x = p + np.int64(post_delay[s])
                    r = post_row[s]
                    tl = tlast[k, r]
                    if tl < 0 or tl >= x:
                        continue  # no presynaptic spike yet, or applied at that spike
                    kk = decay(x - tl, rule.inv_tau_plus, dtab, ri, 0)
                    if not rule.nearest:
                        kk *= kplus[k, r]
                    sy = post_syn[s]
                    weight[sy] = facilitate(weight[sy], kk, rule)
        if hist_t[h, (n_h - 1) & hm] + reach <= c1:
            n_act -= 1
            act[base + j] = act[base + n_act]
            act_on[h] = False
        else:
            j += 1
    pl.act_n[k] = n_act
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
def delay_pre(d, h, sy, t, rule, sa_i64, hist_t, hist_n):
    """Return the new delay of synapse ``sy`` (delay ``d``) onto history row ``h`` at spike ``t``.

    The rule of :mod:`snnsim.delay_plasticity`: the arrival of the synapse's previous spike
    (``sa_i64[rule.arrival_row, sy]``, -1: none) pairs with the target's postsynaptic spike
    nearest to ``arrival + lead`` within the window, among its last ``look_back`` spikes at
    or before ``t`` (entries the history ring still holds whatever the chunking, as at most
    ``min_delay - 1`` later spikes can have been appended); the delay moves towards
    alignment by at most ``max_step`` steps, within ``[d_min, d_max]``. The arrival becomes
    ``t + new``.
    """
    a = sa_i64[rule.arrival_row, sy]
    new = d
    if a >= 0:
        hm = hist_t.shape[1] - 1  # the ring's length is a power of two
        n_h = hist_n[h]
        e = n_h - 1
        while e >= 0 and hist_t[h, e & hm] > t:  # appended after t: not seen
            e -= 1
        lo_e = max(0, n_h - hm - 1, e + 1 - rule.look_back)
        oldest = a - rule.window
        newest = a + rule.window
        found = False
        best = np.int64(0)
        while e >= lo_e:
            n = hist_t[h, e & hm]
            if n < oldest:
                break
            if n <= newest:
                err = n - rule.lead - a
                if not found or abs(err) < abs(best):  # ties: the later spike (seen first)
                    best = err
                    found = True
            e -= 1
        if found and best != 0:
            mv = min(abs(best), rule.max_step)
            new = d + mv if best > 0 else d - mv
            new = min(rule.d_max, max(rule.d_min, new))
    sa_i64[rule.arrival_row, sy] = t + new
    return new


@njit(**JIT)
def resort_post(post_syn, post_row, post_delay, a, z, sy, delay):
    """Move ``sy`` within its target's post index ``post_syn[a:z]`` after its delay changed.

    Keeps each target's synapses sorted by (delay, synapse), the order
    :func:`flush_facilitation` searches and ``sync_plasticity`` derives; ``post_row`` and
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
