"""The engine's synapse blocks: reading one projection's synapses back, and writing them.

Engine storage is a list of blocks (design.md section 5):

- the **static block**, one compacted CSR by global source id (:mod:`snnsim.synapses`):
  int32 codes ``2 * target + receptor``, float32 weights, a weight table or weights by
  receptor, uint8/uint16 delays or one constant delay. It keeps no projection id per
  synapse unless two projections could put a synapse on the same (source, target,
  receptor): then ``syn_tag`` holds one. A projection's synapses are therefore the synapses
  of its presynaptic rows whose target is in its postsynaptic side, on its receptor (and
  with its tag);
- **mutable blocks**, one per projection (``mb_proj``), each a CSR over its range of
  global source ids with float64 weights and uint16 delays (see
  :class:`snnsim.kernels.layout.MutableSynapses`).

``Projection.set`` on a built network moves the projection's synapses out of the static
block (or replaces its mutable block) into a new mutable block holding exactly the values
given. Delays longer than the ring buffer grow it, keeping the spikes in flight.
A plastic projection keeps its rules and its sources' presynaptic traces
(:mod:`snnsim.plastic_blocks`); the per-synapse arrays its rules declare (``mb_sa_*``
columns) follow their synapses when blocks move, and carry over through ``Projection.set``
when the set keeps the same synapses (same pre/post pairs in ``get`` order), else restart
at their initial values. Blocks with delay plasticity count their delay bounds, not their
current delays, for ``min_delay`` and the ring depth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from snnsim.kernels.layout import N_RECEPTOR_PLANES, RECEPTOR_MASK, RECEPTOR_SHIFT
from snnsim.plastic_blocks import block_rows, declare_synapse_arrays, sync_plasticity

if TYPE_CHECKING:
    from snnsim.engine import Engine

__all__ = [
    "projection_synapses",
    "projection_weight_slots",
    "rebuild_post_index",
    "replace_projection",
    "set_delay_rule",
]

_I64 = npt.NDArray[np.int64]
_F64 = npt.NDArray[np.float64]


def _positions(gids: _I64, n: int) -> _I64:
    """``pos[g]`` = position of global id ``g`` in ``gids``, -1 for other neurons."""
    pos = np.full(n, -1, dtype=np.int64)
    pos[gids] = np.arange(gids.size, dtype=np.int64)
    return pos


def _row_ranges(indptr: _I64, rows: _I64) -> tuple[_I64, _I64]:
    """Return the indices of every entry of the CSR ``rows`` (in row order) and the row of each."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    row_of = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    first = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return first + np.arange(total, dtype=np.int64), row_of


def _static_members(
    eng: Engine, index: int, pre_gids: _I64, post_gids: _I64, receptor: int
) -> tuple[_I64, _I64, _I64]:
    """Static-block synapses of projection ``index``: (indices, pre positions, post positions)."""
    idx, pre_pos = _row_ranges(eng.indptr, pre_gids)
    code = eng.syn_code[idx].astype(np.int64)
    post_pos = _positions(post_gids, eng.n)[code >> RECEPTOR_SHIFT]
    keep = (post_pos >= 0) & ((code & RECEPTOR_MASK) == receptor)
    if eng.syn_tag.size:
        keep &= eng.syn_tag[idx] == index
    return idx[keep], pre_pos[keep], post_pos[keep]


def _block_of(eng: Engine, index: int) -> int:
    hits = np.flatnonzero(eng.mb_proj == index)
    return int(hits[0]) if hits.size else -1


def _block_span(eng: Engine, b: int) -> tuple[int, int, int, int]:
    """Rows ``[r0, r1]`` (pointer entries) and synapses ``[s0, s1)`` of mutable block ``b``."""
    r0 = int(eng.mb_row[b])
    r1 = r0 + int(eng.mb_hi[b] - eng.mb_lo[b])
    return r0, r1, int(eng.mb_indptr[r0]), int(eng.mb_indptr[r1])


def projection_weight_slots(
    eng: Engine, index: int, pre_gids: _I64, post_gids: _I64
) -> _I64 | None:
    """Positions in ``mb_weight`` of projection ``index``'s synapses, in table order.

    The order of :func:`projection_synapses` (by pre, then post position, stable), so
    ``eng.mb_weight[slots]`` are its weights; None when the projection has no mutable
    block (its weights then only change by a rebuild of the blocks, never during a run).
    """
    b = _block_of(eng, index)
    if b < 0:
        return None
    r0, r1, s0, s1 = _block_span(eng, b)
    counts = np.diff(eng.mb_indptr[r0 : r1 + 1])
    src = np.repeat(np.arange(int(eng.mb_lo[b]), int(eng.mb_hi[b]), dtype=np.int64), counts)
    pre = _positions(pre_gids, eng.n)[src]
    post = _positions(post_gids, eng.n)[eng.mb_code[s0:s1].astype(np.int64) >> RECEPTOR_SHIFT]
    return np.asarray(s0 + np.lexsort((post, pre)), dtype=np.int64)


def projection_synapses(
    eng: Engine, index: int, pre_gids: _I64, post_gids: _I64, receptor: int
) -> tuple[_I64, _I64, _F64, _I64]:
    """Synapses of projection ``index`` as ``(pre, post, weight, delay)``, in table order.

    ``pre``/``post`` are positions in ``pre_gids``/``post_gids`` (the projection's sides),
    weights float64 (the static block's float32 values widened), delays in steps. Ordered by
    pre, then post position; synapses between the same pair keep their stored order.
    """
    b = _block_of(eng, index)
    if b >= 0:
        r0, r1, s0, s1 = _block_span(eng, b)
        counts = np.diff(eng.mb_indptr[r0 : r1 + 1])
        src = np.repeat(np.arange(int(eng.mb_lo[b]), int(eng.mb_hi[b]), dtype=np.int64), counts)
        pre = _positions(pre_gids, eng.n)[src]
        code = eng.mb_code[s0:s1].astype(np.int64)
        post = _positions(post_gids, eng.n)[code >> RECEPTOR_SHIFT]
        weight = eng.mb_weight[s0:s1].astype(np.float64)
        delay = eng.mb_delay[s0:s1].astype(np.int64)
    else:
        idx, pre, post = _static_members(eng, index, pre_gids, post_gids, receptor)
        code = eng.syn_code[idx].astype(np.int64)
        if eng.w_mode == 2:
            weight = eng.w_table[code & RECEPTOR_MASK].astype(np.float64)
        elif eng.w_mode == 1:
            weight = eng.w_table[eng.syn_weight[idx]].astype(np.float64)
        else:
            weight = eng.syn_weight[idx].astype(np.float64)
        if eng.delay_const:
            delay = np.full(idx.size, eng.delay_const, dtype=np.int64)
        else:
            delay = eng.syn_delay[idx].astype(np.int64)
    order = np.lexsort((post, pre))
    return pre[order], post[order], weight[order], delay[order]


def replace_projection(
    eng: Engine,
    index: int,
    pre_gids: _I64,
    post_gids: _I64,
    receptor: int,
    pre: _I64,
    post: _I64,
    weight: _F64,
    delay: _I64,
) -> None:
    """Give projection ``index`` the synapses ``(pre, post, weight, delay)`` in a mutable block.

    Its synapses leave the static block (or its old mutable block is dropped) and a new
    mutable block holds exactly these values (float64 weights, delays in steps). The ring
    buffer grows when a delay does not fit, keeping every spike in flight. A plastic block's
    rule and presynaptic state (per source) carry over to the new block.
    """
    b = _block_of(eng, index)
    rule = d_rule = -1
    old_src = np.zeros(0, dtype=np.int64)
    old_kplus, old_tlast = np.zeros(0), np.zeros(0, dtype=np.int64)
    # the rules' per-synapse arrays, in table order when the synapses stay the same
    carried: list[npt.NDArray[np.generic] | None] = [None, None]
    if b >= 0:
        rule, d_rule = int(eng.pl_rule[b]), int(eng.dp_rule[b])
        rows, old_src = block_rows(eng, b)
        old_kplus, old_tlast = eng.pl_kplus[rows].copy(), eng.pl_tlast[rows].copy()
        slots = projection_weight_slots(eng, index, pre_gids, post_gids)
        old_pre, old_post, _, _ = projection_synapses(eng, index, pre_gids, post_gids, receptor)
        if slots is not None and np.array_equal(old_pre, pre) and np.array_equal(old_post, post):
            carried = [eng.mb_sa_i64[:, slots], eng.mb_sa_f64[:, slots]]
        _drop_block(eng, b)
    else:
        idx, _, _ = _static_members(eng, index, pre_gids, post_gids, receptor)
        _drop_static(eng, idx)
    src = pre_gids[pre]
    code = N_RECEPTOR_PLANES * post_gids[post] + receptor
    order = np.lexsort((code, src))  # rows ascending by code (partition search), stable
    src, code = src[order], code[order]
    if src.size:
        lo, hi = int(src.min()), int(src.max()) + 1
    else:
        lo = hi = 0
    counts = np.bincount(src - lo, minlength=hi - lo).astype(np.int64)
    base = int(eng.mb_indptr[-1])
    ptr = base + np.concatenate(([0], np.cumsum(counts)))
    eng.mb_proj = np.append(eng.mb_proj, np.int64(index))
    eng.mb_lo = np.append(eng.mb_lo, np.int64(lo))
    eng.mb_hi = np.append(eng.mb_hi, np.int64(hi))
    eng.mb_row = np.append(eng.mb_row, np.int64(eng.mb_indptr.size))
    eng.mb_indptr = np.concatenate((eng.mb_indptr, ptr)).astype(np.int64)
    eng.mb_code = np.concatenate((eng.mb_code, code.astype(np.int32)))
    eng.mb_weight = np.concatenate((eng.mb_weight, weight[order].astype(np.float64)))
    eng.mb_delay = np.concatenate((eng.mb_delay, delay[order].astype(np.uint16)))
    for kind, values in zip(("i64", "f64"), carried, strict=True):
        init = getattr(eng, f"mb_sa_{kind}_init")
        if values is None:
            values = np.repeat(init[:, None], src.size, axis=1)
        else:
            values = values[:, order]
        setattr(eng, f"mb_sa_{kind}", np.concatenate((getattr(eng, f"mb_sa_{kind}"), values), 1))
    kplus = np.zeros(hi - lo + 1, dtype=np.float64)
    tlast = np.full(hi - lo + 1, -1, dtype=np.int64)
    keep = (old_src >= lo) & (old_src < hi)
    kplus[old_src[keep] - lo] = old_kplus[keep]
    tlast[old_src[keep] - lo] = old_tlast[keep]
    eng.pl_rule = np.append(eng.pl_rule, np.int64(rule))
    eng.dp_rule = np.append(eng.dp_rule, np.int64(d_rule))
    eng.pl_kplus = np.concatenate((eng.pl_kplus, kplus))
    eng.pl_tlast = np.concatenate((eng.pl_tlast, tlast))
    _fit_delays(eng)
    rebuild_post_index(eng)


def set_delay_rule(
    eng: Engine,
    index: int,
    row: list[float],
    init_i64: npt.NDArray[np.int64],
    init_f64: npt.NDArray[np.float64],
) -> None:
    """Make projection ``index``'s mutable block's delays plastic with the rule ``row``.

    ``row`` is a ``DelayPlasticity.as_row`` (bounds in steps); ``init_*`` are the initial
    values of every per-synapse array the network's rules declare
    (:func:`~snnsim.plastic_blocks.declare_synapse_arrays`). The chunk length and the ring
    then follow the bounds.
    """
    b = _block_of(eng, index)
    if b < 0:
        raise RuntimeError(f"projection {index} has no mutable block")
    new = np.asarray(row, dtype=np.float64)
    param = eng.dp_param.reshape(-1, new.size)
    same = np.flatnonzero(np.all(param == new, axis=1)) if param.size else np.zeros(0, np.int64)
    if same.size:
        ri = int(same[0])
    else:
        ri = param.shape[0]
        eng.dp_param = np.vstack((param, new[None, :]))
    eng.dp_rule[b] = ri
    declare_synapse_arrays(eng, init_i64, init_f64)
    _fit_delays(eng)
    sync_plasticity(eng)


def rebuild_post_index(eng: Engine) -> None:
    """Derive the post -> synapse index of every mutable block (``mb_tlo`` ... ``mb_post_syn``).

    The index of block ``b`` is a CSR over its targets ``[mb_tlo[b], mb_thi[b])`` whose
    entries, ``mb_post_syn[s0:s1]``, are the block's synapse positions ``s0 .. s1 - 1``
    grouped by target (in block order within a target): what a plasticity rule needs to
    visit the synapses of a neuron that spiked.
    """
    n_blk = eng.mb_proj.size
    tlo = np.zeros(n_blk, dtype=np.int64)
    thi = np.zeros(n_blk, dtype=np.int64)
    prow = np.zeros(n_blk, dtype=np.int64)
    ptrs = [np.zeros(1, dtype=np.int64)]
    syn = np.zeros(eng.mb_code.size, dtype=np.int64)
    rows = 1
    for b in range(n_blk):
        _, _, s0, s1 = _block_span(eng, b)
        tgt = eng.mb_code[s0:s1].astype(np.int64) >> RECEPTOR_SHIFT
        lo, hi = (int(tgt.min()), int(tgt.max()) + 1) if tgt.size else (0, 0)
        order = np.argsort(tgt, kind="stable")
        syn[s0:s1] = s0 + order
        counts = np.bincount(tgt - lo, minlength=hi - lo)
        ptrs.append(s0 + np.concatenate(([0], np.cumsum(counts))))
        tlo[b], thi[b], prow[b] = lo, hi, rows
        rows += hi - lo + 1
    eng.mb_tlo, eng.mb_thi, eng.mb_prow = tlo, thi, prow
    eng.mb_post_ptr = np.concatenate(ptrs).astype(np.int64)
    eng.mb_post_syn = syn
    sync_plasticity(eng)


def _drop_static(eng: Engine, idx: _I64) -> None:
    """Remove the static synapses ``idx`` (their rows shrink; the layout stays)."""
    if idx.size == 0:
        return
    keep = np.ones(eng.syn_code.size, dtype=bool)
    keep[idx] = False
    rows = np.repeat(np.arange(eng.n, dtype=np.int64), np.diff(eng.indptr))
    removed = np.bincount(rows[idx], minlength=eng.n)
    eng.indptr = eng.indptr - np.concatenate(([0], np.cumsum(removed)))
    eng.syn_code = eng.syn_code[keep]
    if eng.syn_weight.size:
        eng.syn_weight = eng.syn_weight[keep]
    if eng.syn_delay.size:
        eng.syn_delay = eng.syn_delay[keep]
    if eng.syn_tag.size:
        eng.syn_tag = eng.syn_tag[keep]


def _drop_block(eng: Engine, b: int) -> None:
    """Remove mutable block ``b``; later blocks move down."""
    r0, r1, s0, s1 = _block_span(eng, b)
    n_rows, n_syn = r1 - r0 + 1, s1 - s0
    # entry 0 of mb_indptr is a leading 0 that belongs to no block (row[b] >= 1)
    ptr = np.delete(eng.mb_indptr, np.arange(r0, r1 + 1))
    ptr[r0:] -= n_syn
    eng.mb_indptr = ptr
    eng.pl_kplus = np.delete(eng.pl_kplus, np.arange(r0, r1 + 1))
    eng.pl_tlast = np.delete(eng.pl_tlast, np.arange(r0, r1 + 1))
    eng.pl_rule = np.delete(eng.pl_rule, b)
    eng.dp_rule = np.delete(eng.dp_rule, b)
    eng.mb_sa_i64 = np.delete(eng.mb_sa_i64, np.arange(s0, s1), axis=1)
    eng.mb_sa_f64 = np.delete(eng.mb_sa_f64, np.arange(s0, s1), axis=1)
    later = np.arange(eng.mb_proj.size) > b
    eng.mb_row = np.where(later, eng.mb_row - n_rows, eng.mb_row)
    for name in ("mb_proj", "mb_lo", "mb_hi", "mb_row"):
        setattr(eng, name, np.delete(getattr(eng, name), b))
    for name in ("mb_code", "mb_weight", "mb_delay"):
        setattr(eng, name, np.delete(getattr(eng, name), np.arange(s0, s1)))
    rebuild_post_index(eng)


def _fit_delays(eng: Engine) -> None:
    """Update ``min_delay`` and grow the ring buffer when the longest delay does not fit."""
    lo, hi = [], []
    if eng.syn_code.size:
        if eng.delay_const:
            lo.append(eng.delay_const)
            hi.append(eng.delay_const)
        else:
            lo.append(int(eng.syn_delay.min()))
            hi.append(int(eng.syn_delay.max()))
    if eng.mb_delay.size:
        lo.append(int(eng.mb_delay.min()))
        hi.append(int(eng.mb_delay.max()))
    for r in eng.dp_rule[eng.dp_rule >= 0]:  # plastic delays: anywhere within their bounds
        lo.append(int(eng.dp_param[r, 3]))
        hi.append(int(eng.dp_param[r, 4]))
    eng.min_delay = min(lo) if lo else 1 << 20
    longest = max(hi) if hi else 1
    slots = eng.ring.shape[0]
    if longest < slots:
        return
    new_slots = slots
    while new_slots <= longest:
        new_slots <<= 1
    ring = np.zeros((new_slots, eng.ring.shape[1]), dtype=eng.ring.dtype)
    # the ring holds the input of stamps step+1 .. step+slots-1 (slot = stamp & mask)
    for stamp in range(eng.step + 1, eng.step + slots):
        ring[stamp & (new_slots - 1)] = eng.ring[stamp & (slots - 1)]
    eng.ring = ring
