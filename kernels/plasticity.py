r"""STDP in the run loop: event-driven, race-free with target-partitioned threads.

The rule and its NEST equivalence are documented in :mod:`snnsim.plasticity`; the state is
the :class:`~snnsim.kernels.layout.Plasticity` structure. Nothing here runs per synapse per
step. Three entry points, all called by the thread that owns the postsynaptic neuron:

- :func:`history_append` (neuron update, per postsynaptic spike of a neuron with plastic
  inputs): append ``(stamp, K-)`` to the neuron's spike history, with
  :math:`K_- \leftarrow K_- e^{-(t - t_{prev})/\tau_-} + 1` per rule (NEST's archiving node).
  The history is a ring of ``C = max plastic delay + min_delay + 2`` entries: at most one
  spike per step, and no entry older than the longest delay plus one chunk (and the one
  before it, for K-) is ever read again, because facilitations are never left pending
  beyond the chunk in which their postsynaptic spike reaches the synapse.
- :func:`stdp_pre` (delivery of a presynaptic spike of stamp ``t`` through a synapse of
  delay ``d``, chunk ``(c0, c1]``): facilitation by the postsynaptic spikes with
  :math:`\max(t_{last}, c_0) < t_{post} + d \le t` (oldest first), then depression with the
  latest postsynaptic spike strictly before :math:`t - d`; returns the new weight, which the
  spike transmits (NEST's order).
- :func:`flush_facilitation` (after the chunk's deliveries): facilitation by the
  postsynaptic spikes that reached a synapse in the chunk, :math:`c_0 < t_{post} + d \le
  c_1`, after its last presynaptic spike (:math:`t_{last} < t_{post} + d`). Together with
  :func:`stdp_pre` every (postsynaptic spike, synapse) pair is applied exactly once, in
  time order relative to the synapse's presynaptic spikes, with the same trace value: the
  result does not depend on where chunks or runs end, nor on the number of threads.

The presynaptic state (trace :math:`K_+` as of the last spike and its stamp) is kept per
block row, i.e. per source neuron, with one replica per thread: every thread advances its
own replica at every presynaptic spike of a plastic block (also when none of the row's
targets is its own), so the replicas stay equal and no thread writes another's memory.
"""

from __future__ import annotations

import math

from numba import njit
from snnsim.kernels.jit_options import JIT

__all__ = [
    "advance_pre",
    "depress",
    "facilitate",
    "flush_facilitation",
    "history_append",
    "stdp_pre",
]


@njit(**JIT)
def facilitate(w, k, prm):
    r"""One facilitation: :math:`u + a_+ (1-u)^\mu k`, at most 1 (:math:`u = w/w_{max}`)."""
    w_max = prm[5]
    u = w / w_max
    if prm[6] == 0.0:
        n = u + prm[2] * k
    else:
        n = u + prm[2] * (1.0 - u) * k
    return n * w_max if n < 1.0 else w_max


@njit(**JIT)
def depress(w, k, prm, a_minus):
    r"""One depression: :math:`u - a_- (u - u_{min})^\mu k`, within :math:`[u_{min}, 1]`.

    ``a_minus`` is the rule's :math:`a_-` (``prm[3]``) or, for a block whose depression an
    astrocyte modulates, the modulated amplitude; a negative one (an astrocyte output
    below zero) potentiates, hence the upper bound, which the rule's own
    :math:`a_- \ge 0` never reaches.
    """
    w_max = prm[5]
    u_min = prm[4]
    u = w / w_max
    if prm[6] == 0.0:
        n = u - a_minus * k
    else:
        n = u - a_minus * (u - u_min) * k
    if n > 1.0:
        return w_max
    return n * w_max if n > u_min else u_min * w_max


@njit(**JIT)
def history_append(g, stamp, pl):
    """Append a postsynaptic spike of neuron ``g`` at ``stamp`` to its history (if it has one)."""
    h = pl.hrow[g]
    if h < 0:
        return
    hist_t, hist_k, param = pl.hist_t, pl.hist_k, pl.param
    cap = hist_t.shape[1]
    n_h = pl.hist_n[h]
    cur = n_h % cap
    if n_h > 0:
        prev = (n_h - 1) % cap
        gap = hist_t[h, prev] - stamp
        for ri in range(param.shape[0]):
            hist_k[ri, h, cur] = hist_k[ri, h, prev] * math.exp(gap * param[ri, 1]) + 1.0
    else:
        for ri in range(param.shape[0]):
            hist_k[ri, h, cur] = 1.0
    hist_t[h, cur] = stamp
    pl.hist_n[h] = n_h + 1


@njit(**JIT)
def stdp_pre(w, i, d, t, c0, kp, tl, ri, pl, a_minus):
    """Weight of a synapse onto ``i`` (delay ``d``) after its presynaptic spike at ``t``.

    ``kp``, ``tl``: the source's trace and stamp as of its previous spike (``tl`` -1: none);
    ``c0``: stamp before the chunk being delivered (facilitations by postsynaptic spikes
    that reached the synapse at or before it were applied already); ``a_minus``: the
    depression amplitude (the rule's, or an astrocyte's, see :func:`depress`).
    """
    prm = pl.param[ri]
    nearest = prm[7] != 0.0
    h = pl.hrow[i]
    hist_t = pl.hist_t
    cap = hist_t.shape[1]
    n_h = pl.hist_n[h]
    lo_e = max(0, n_h - cap)
    lim = t - d
    e = n_h - 1
    while e >= lo_e and hist_t[h, e % cap] > lim:
        e -= 1
    if tl >= 0:
        x_lo = max(tl, c0)
        f = e
        while f >= lo_e and hist_t[h, f % cap] + d > x_lo:
            f -= 1
        for q in range(f + 1, e + 1):
            kk = math.exp((tl - (hist_t[h, q % cap] + d)) * prm[0])
            if not nearest:
                kk *= kp
            w = facilitate(w, kk, prm)
    # depression: the latest postsynaptic spike strictly before t - d
    if e >= lo_e and hist_t[h, e % cap] == lim:
        e -= 1
    if e >= lo_e:
        kk = math.exp((hist_t[h, e % cap] - lim) * prm[1])
        if not nearest:
            kk *= pl.hist_k[ri, h, e % cap]
        w = depress(w, kk, prm, a_minus)
    return w


@njit(**JIT)
def advance_pre(k, r, t, ri, pl):
    """Advance thread ``k``'s replica of row ``r``'s presynaptic state over a spike at ``t``."""
    tl = pl.tlast[k, r]
    if tl >= 0:
        pl.kplus[k, r] = pl.kplus[k, r] * math.exp((tl - t) * pl.param[ri, 0]) + 1.0
    else:
        pl.kplus[k, r] = 1.0
    pl.tlast[k, r] = t


@njit(**JIT)
def _first_delay(post_syn, delay, a, z, value):
    """First index ``q`` in ``[a, z)`` with ``delay[post_syn[q]] >= value`` (sorted)."""
    while a < z:
        mid = (a + z) >> 1
        if delay[post_syn[mid]] < value:
            a = mid + 1
        else:
            z = mid
    return a


@njit(**JIT)
def flush_facilitation(k, k_lo, k_hi, c0, c1, mut, pl):
    """Apply the facilitations that reached their synapses in ``(c0, c1]``, not yet applied.

    Those whose postsynaptic spike reached the synapse after its last presynaptic spike
    (targets ``[k_lo, k_hi)``, thread ``k``'s presynaptic replica).
    """
    hist_t, hist_n, hrow = pl.hist_t, pl.hist_n, pl.hrow
    cap = hist_t.shape[1]
    weight, delay = mut.weight, mut.delay
    post_ptr, post_syn, syn_row = pl.post_ptr, pl.post_syn, pl.syn_row
    kplus, tlast = pl.kplus, pl.tlast
    for b in range(pl.rule.shape[0]):
        ri = pl.rule[b]
        if ri < 0:
            continue
        prm = pl.param[ri]
        nearest = prm[7] != 0.0
        oldest = c0 - pl.dmax[b]  # entries at or before it reach no synapse after c0
        tlo = pl.tlo[b]
        for i in range(max(tlo, k_lo), min(pl.thi[b], k_hi)):
            h = hrow[i]
            n_h = hist_n[h]
            if n_h == 0 or hist_t[h, (n_h - 1) % cap] <= oldest:
                continue
            pr = pl.prow[b] + i - tlo
            a = post_ptr[pr]
            z = post_ptr[pr + 1]
            if a == z:
                continue
            lo_e = max(0, n_h - cap)
            f = n_h - 1
            while f >= lo_e and hist_t[h, f % cap] > oldest:
                f -= 1
            for q in range(f + 1, n_h):
                p = hist_t[h, q % cap]
                if p >= c1:
                    break
                s0 = _first_delay(post_syn, delay, a, z, c0 + 1 - p)
                s1 = _first_delay(post_syn, delay, s0, z, c1 - p + 1)
                for s in range(s0, s1):
                    sy = post_syn[s]
                    x = p + delay[sy]
                    r = syn_row[sy]
                    tl = tlast[k, r]
                    if tl < 0 or tl >= x:
                        continue  # no presynaptic spike yet, or applied at that spike
                    kk = math.exp((tl - x) * prm[0])
                    if not nearest:
                        kk *= kplus[k, r]
                    weight[sy] = facilitate(weight[sy], kk, prm)
    return 0
