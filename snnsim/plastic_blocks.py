"""The engine's plasticity state: rules of the mutable blocks, traces and spike histories.

A plastic projection is a mutable block (:mod:`snnsim.synapse_blocks`) whose
``pl_rule[b]`` names a row of ``pl_param`` (the rule's parameters, see
:meth:`snnsim.plasticity.STDP.as_row`). The state the run loop updates
(:class:`~snnsim.kernels.layout.Plasticity`, rules in :mod:`snnsim.kernels.plasticity`):

- per pointer entry of ``mb_indptr`` (i.e. per block row = source neuron): ``pl_kplus``,
  the presynaptic trace as of the source's last spike, and ``pl_tlast``, that spike's stamp
  (-1 before the first). Entries of static blocks and entry 0 are unused;
- per neuron with plastic inputs (``pl_hist_gid``, ascending): a ring of its last ``C``
  spike stamps (``pl_hist_t``), the postsynaptic trace of each rule just after each spike
  (``pl_hist_k``) and the number of spikes appended (``pl_hist_n``).

Delay plasticity (:mod:`snnsim.delay_plasticity`) adds ``dp_rule[b]`` (a row of
``dp_param``, -1: none). Rules may declare extra per-synapse arrays
(:class:`snnsim.plasticity.SynapseArray`): rows of ``mb_sa_i64`` / ``mb_sa_f64`` (one
column per mutable synapse, initial values in ``mb_sa_*_init``), allocated by
:func:`declare_synapse_arrays` and kept in synapse order by :mod:`snnsim.synapse_blocks`.

All of them are saved in checkpoints; the history rows of the neurons (``pl_hrow``), the
delay-sorted post index (``pl_post_syn``), each synapse's row (``pl_syn_row``) and each
block's longest delay (``pl_dmax``) are derived by :func:`sync_plasticity`, which also
resizes the histories when the blocks change (keeping their newest entries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from snnsim.kernels.layout import RECEPTOR_SHIFT, Plasticity
from snnsim.kernels.plasticity import decay_table, flush_all

if TYPE_CHECKING:
    from snnsim.engine import Engine

__all__ = [
    "block_rows",
    "declare_synapse_arrays",
    "flush_histories",
    "plasticity_arrays",
    "set_block_rule",
    "store_histories",
    "sync_plasticity",
]

_I64 = npt.NDArray[np.int64]

#: steps of the traces' decay tabulated per rule (``Plasticity.decay``): 2 x 64 KiB per
#: rule; longer differences (rarer) call ``exp``
DECAY_STEPS = 8192


def block_rows(eng: Engine, b: int) -> tuple[_I64, _I64]:
    """Pointer entries (rows) of block ``b`` and their source ids (the last entry excluded)."""
    r0 = int(eng.mb_row[b])
    n = int(eng.mb_hi[b] - eng.mb_lo[b])
    return r0 + np.arange(n, dtype=np.int64), int(eng.mb_lo[b]) + np.arange(n, dtype=np.int64)


def set_block_rule(eng: Engine, index: int, row: list[float]) -> None:
    """Make projection ``index``'s mutable block plastic with the rule ``row``."""
    hits = np.flatnonzero(eng.mb_proj == index)
    if not hits.size:
        raise RuntimeError(f"projection {index} has no mutable block")
    new = np.asarray(row, dtype=np.float64)
    same: _I64 = np.zeros(0, dtype=np.int64)
    if eng.pl_param.size:
        same = np.flatnonzero(np.all(eng.pl_param == new, axis=1))
    if same.size:
        ri = int(same[0])
    else:
        ri = eng.pl_param.shape[0]
        eng.pl_param = np.vstack((eng.pl_param.reshape(-1, new.size), new[None, :]))
    eng.pl_rule[int(hits[0])] = ri
    sync_plasticity(eng)


def declare_synapse_arrays(
    eng: Engine, init_i64: npt.NDArray[np.int64], init_f64: npt.NDArray[np.float64]
) -> None:
    """Give the engine the rules' per-synapse arrays: rows with these initial values.

    Existing rows keep their values (rows are only ever added: the rows of a rule kind are
    fixed by :func:`snnsim.plasticity.synapse_array_rows`); new rows start at their
    initial value for every mutable synapse.
    """
    n_syn = eng.mb_code.size
    for kind, init in (("i64", init_i64), ("f64", init_f64)):
        old = getattr(eng, f"mb_sa_{kind}")
        init = np.asarray(init, dtype=old.dtype)
        if init.size < old.shape[0]:
            raise RuntimeError(f"mb_sa_{kind}: {init.size} rows declared, {old.shape[0]} exist")
        rows = np.repeat(init[:, None], n_syn, axis=1)
        rows[: old.shape[0]] = old
        setattr(eng, f"mb_sa_{kind}", rows)
        setattr(eng, f"mb_sa_{kind}_init", init)


def _block_span(eng: Engine, b: int) -> tuple[int, int]:
    s0 = int(eng.mb_indptr[eng.mb_row[b]])
    return s0, int(eng.mb_indptr[eng.mb_row[b] + eng.mb_hi[b] - eng.mb_lo[b]])


def _history_capacity(eng: Engine, rounded: bool = True) -> int:
    """Return the ring entries per neuron: the longest plastic delay + ``min_delay`` + 2.

    One spike per step at most; see :mod:`snnsim.kernels.plasticity`. A block with delay
    plasticity counts its upper bound plus its window (the rule looks back that far). The
    count is rounded up to a power of two unless ``rounded`` is False (more entries than
    needed change no result, as every look-up stops at a stamp).
    """
    dmax = 1
    for b in np.flatnonzero(eng.pl_rule >= 0):
        s0, s1 = _block_span(eng, b)
        if s1 > s0:
            dmax = max(dmax, int(eng.mb_delay[s0:s1].max()))
    for b in np.flatnonzero(eng.dp_rule >= 0):
        prm = eng.dp_param[eng.dp_rule[b]]
        dmax = max(dmax, int(prm[4]) + round(prm[0] / eng.dt))
    need = dmax + int(min(eng.min_delay, 1 << 16)) + 2
    return 1 << (need - 1).bit_length() if rounded else need


def sync_plasticity(eng: Engine) -> None:
    """Derive the plasticity index arrays and fit the histories to the current blocks."""
    n_blk = eng.mb_proj.size
    if eng.pl_rule.size != n_blk:  # blocks made by an engine without plasticity state
        eng.pl_rule = np.full(n_blk, -1, dtype=np.int64)
    if eng.dp_rule.size != n_blk:
        eng.dp_rule = np.full(n_blk, -1, dtype=np.int64)
    n_ptr = eng.mb_indptr.size
    if eng.pl_kplus.size != n_ptr:
        eng.pl_kplus = np.zeros(n_ptr, dtype=np.float64)
        eng.pl_tlast = np.full(n_ptr, -1, dtype=np.int64)
    n_syn = eng.mb_code.size
    syn_row = np.zeros(n_syn, dtype=np.int64)
    post_syn = eng.mb_post_syn.copy()
    dmax = np.zeros(n_blk, dtype=np.int64)
    targets = []
    for b in range(n_blk):
        rows, _ = block_rows(eng, b)
        r0 = int(eng.mb_row[b])
        counts = np.diff(eng.mb_indptr[r0 : r0 + rows.size + 1])
        s0 = int(eng.mb_indptr[r0])
        s1 = s0 + int(counts.sum())
        syn_row[s0:s1] = np.repeat(rows, counts)
        if eng.pl_rule[b] < 0 and eng.dp_rule[b] < 0:
            continue
        if eng.dp_rule[b] >= 0:  # plastic delays: their upper bound
            dmax[b] = int(eng.dp_param[eng.dp_rule[b], 4])
        elif s1 > s0:
            dmax[b] = int(eng.mb_delay[s0:s1].max())
        targets.append(eng.mb_code[s0:s1].astype(np.int64) >> RECEPTOR_SHIFT)
        # the synapses of each target sorted by delay (stable: block order within a delay)
        p0 = int(eng.mb_prow[b])
        p1 = p0 + int(eng.mb_thi[b] - eng.mb_tlo[b])
        ptr = eng.mb_post_ptr[p0 : p1 + 1]
        seg = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
        part = eng.mb_post_syn[ptr[0] : ptr[-1]]
        order = np.lexsort((eng.mb_delay[part], seg))
        post_syn[ptr[0] : ptr[-1]] = part[order]
    gids = np.unique(np.concatenate(targets)) if targets else np.zeros(0, dtype=np.int64)
    hrow = np.full(eng.n, -1, dtype=np.int64)
    hrow[gids] = np.arange(gids.size, dtype=np.int64)
    eng.pl_hrow, eng.pl_post_syn, eng.pl_syn_row, eng.pl_dmax = hrow, post_syn, syn_row, dmax
    _fit_histories(eng, gids, _history_capacity(eng) if gids.size else 1)


def _fit_histories(eng: Engine, gids: _I64, cap: int) -> None:
    """Give the histories rows ``gids`` and ``cap`` entries, keeping the newest entries."""
    n_rules = max(eng.pl_param.shape[0], 1)
    old_gid, old_t, old_k, old_n = eng.pl_hist_gid, eng.pl_hist_t, eng.pl_hist_k, eng.pl_hist_n
    if (
        np.array_equal(old_gid, gids)
        and old_t.shape == (gids.size, cap)
        and old_k.shape == (n_rules, gids.size, cap)
    ):
        return
    hist_t = np.zeros((gids.size, cap), dtype=np.int64)
    hist_k = np.zeros((n_rules, gids.size, cap), dtype=np.float64)
    hist_n = np.zeros(gids.size, dtype=np.int64)
    old_cap = old_t.shape[1] if old_t.ndim == 2 else 0
    where = {int(g): h for h, g in enumerate(old_gid)}
    for h, g in enumerate(gids):
        o = where.get(int(g))
        if o is None or old_cap == 0:
            continue
        n = int(old_n[o])
        keep = np.arange(max(0, n - min(cap, old_cap)), n)
        hist_t[h, keep % cap] = old_t[o, keep % old_cap]
        r = min(n_rules, old_k.shape[0])
        hist_k[:r, h, keep % cap] = old_k[:r, o][:, keep % old_cap]
        hist_n[h] = n
    eng.pl_hist_gid, eng.pl_hist_t, eng.pl_hist_k, eng.pl_hist_n = gids, hist_t, hist_k, hist_n


#: entries a run's history holds beyond what correctness needs (``_history_capacity``): a
#: neuron's history is flushed (its pending facilitations applied) when a spike would push
#: out an entry that may still be pending, so about once per this many spikes
HISTORY_SLACK = 12


def _aligned_rows(rows: int, width: int) -> npt.NDArray[np.float64]:
    """Return a float64 ``[rows, width]`` array whose rows start on 64-byte boundaries."""
    width = -(-width // 8) * 8
    raw = np.empty(rows * width + 8, dtype=np.float64)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip : skip + rows * width].reshape(rows, width)


def plasticity_arrays(
    eng: Engine, part_lo: npt.NDArray[np.int64], part_hi: npt.NDArray[np.int64]
) -> Plasticity | None:
    """Return the run loop's :class:`Plasticity` (``None`` when no block is plastic).

    ``part_lo``, ``part_hi``: the threads' target partitions. The presynaptic state gets
    one replica per thread (copies of ``pl_kplus``/``pl_tlast``); :meth:`Engine.run` copies
    replica 0 back after every segment. The histories are laid out newest first
    (``Plasticity.hist``, from the rings ``pl_hist_t``/``pl_hist_k``; written back by
    :func:`store_histories`), with every facilitation applied through the current step:
    every run ends with a flush (:func:`flush_histories`).
    """
    if not np.any(eng.pl_rule >= 0) and not np.any(eng.dp_rule >= 0):
        return None
    hgid = eng.pl_hist_gid
    n_rules = eng.pl_param.shape[0]
    wd = n_rules + 1
    ring_cap = eng.pl_hist_t.shape[1]
    cap = max(ring_cap, _history_capacity(eng, rounded=False) + HISTORY_SLACK)
    hist = _aligned_rows(hgid.size, 1 + cap * wd)
    cap = (hist.shape[1] - 1) // wd  # the padding to whole cache lines holds entries too
    hist[:] = 0.0
    hist[:, 0] = eng.step
    n = eng.pl_hist_n
    rows = np.arange(hgid.size)
    for e in range(cap):
        if e >= ring_cap:
            hist[:, 1 + e * wd] = -np.inf
            continue
        at = (n - 1 - e) % ring_cap
        have = e < n
        hist[:, 1 + e * wd] = np.where(have, eng.pl_hist_t[rows, at], -np.inf)
        for ri in range(n_rules):
            hist[:, 2 + e * wd + ri] = np.where(have, eng.pl_hist_k[ri, rows, at], 0.0)
    stdp = eng.pl_rule >= 0
    raw = eng.pl_param
    param = np.zeros_like(raw)
    param[:, 0] = eng.dt / raw[:, 0]
    param[:, 1] = eng.dt / raw[:, 1]
    param[:, 2:4] = raw[:, 2:4]
    param[:, 4] = raw[:, 4] / raw[:, 5]
    param[:, 5:] = raw[:, 5:]
    targets = eng.mb_code.astype(np.int64) >> RECEPTOR_SHIFT
    return Plasticity(
        rule=eng.pl_rule, param=param, kplus=np.tile(eng.pl_kplus, (part_lo.size, 1)),
        tlast=np.tile(eng.pl_tlast, (part_lo.size, 1)), hrow=eng.pl_hrow,
        syn_h=eng.pl_hrow[targets].astype(np.int32), hist=hist, cap=cap,
        hist_n=eng.pl_hist_n, hgid=hgid,
        reach=int(eng.pl_dmax[stdp].max()) if stdp.any() else 0, weight=eng.mb_weight,
        tlo=eng.mb_tlo, thi=eng.mb_thi, prow=eng.mb_prow, post_ptr=eng.mb_post_ptr,
        post_syn=eng.pl_post_syn, post_row=eng.pl_syn_row[eng.pl_post_syn],
        post_delay=eng.mb_delay[eng.pl_post_syn], dmax=eng.pl_dmax, drule=eng.dp_rule,
        dparam=_delay_params(eng), sa_i64=eng.mb_sa_i64, sa_f64=eng.mb_sa_f64,
        decay=decay_table(param, DECAY_STEPS),
    )  # fmt: skip


def flush_histories(eng: Engine, pl: Plasticity) -> None:
    """Apply every facilitation that has reached its synapse by ``eng.step``.

    Within a run a facilitation waits for the synapse's next presynaptic spike (as in
    NEST): weights read between runs (:meth:`Projection.get`, checkpoints) and weight
    samples include them, so :meth:`Engine.run` calls this at its end and before a sample.
    Thread 0's presynaptic replica serves every row (the replicas are equal).
    """
    flush_all(eng.step, pl, eng.mb_indptr, eng.mb_row, eng.mb_lo, eng.mb_hi, eng.mb_delay)


def store_histories(eng: Engine, pl: Plasticity) -> None:
    """Write a run's histories (``pl.hist``, newest first) back into the engine's rings.

    The rings keep the latest ``pl_hist_t.shape[1]`` entries, as many as correctness needs
    (:func:`_history_capacity`); ``pl_hist_n`` is the run's own array, already current.
    """
    ring_cap = eng.pl_hist_t.shape[1]
    wd = eng.pl_param.shape[0] + 1
    n = eng.pl_hist_n
    for e in range(min(ring_cap, pl.cap)):
        rows = np.flatnonzero(e < n)
        at = (n[rows] - 1 - e) % ring_cap
        eng.pl_hist_t[rows, at] = pl.hist[rows, 1 + e * wd].astype(np.int64)
        for ri in range(eng.pl_param.shape[0]):
            eng.pl_hist_k[ri, rows, at] = pl.hist[rows, 2 + e * wd + ri]


def _delay_params(eng: Engine) -> npt.NDArray[np.float64]:
    """``dp_param`` with the window and lead in steps and the lookback ``K`` (``dparam``)."""
    param = np.zeros((eng.dp_param.shape[0], 7))
    param[:, :6] = eng.dp_param
    param[:, 0:2] = np.round(param[:, 0:2] / eng.dt)
    # the postsynaptic spikes the rule may read: the history holds this many at or before
    # a delivered spike's stamp whatever the chunking (see _history_capacity)
    param[:, 6] = param[:, 4] + param[:, 0] + 3
    return param
