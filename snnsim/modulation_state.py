"""The engine's astrocyte-modulation state and the run loop's :class:`Modulation` structure.

:func:`snnsim.modulation.build_modulation` fills the ``md_*`` fields of the engine (all
saved in checkpoints; semantics in :mod:`snnsim.modulation`, kernels in
:mod:`snnsim.kernels.modulation`):

- ``md_src_gid``, ``md_src_var``: the modulating astrocytes (ascending global ids) and the
  index of their output among their model's float variables;
- ``md_hist`` ``[H, M]``: the output history, row ``stamp & (H - 1)`` (state in flight: an
  output acts ``delay`` steps after it was written);
- ``md_ent_gid``, ``md_ent_coef``, ``md_ent_ptr``: the modulated neuron coefficients
  (neuron, index in the model's coefficients) and their term ranges;
- ``md_t_src``, ``md_t_w``, ``md_t_d``: the terms (history column, weight, delay in steps);
- ``md_rec_proj``, ``md_rec_effect``, ``md_rec_tlo``, ``md_rec_off``, ``md_rec_ptr``: the
  modulated projections (effect 0 ``stdp_depression``, 1 ``gain``), their first target
  and the term ranges of each target.

A population with a modulated coefficient runs with per-neuron coefficients and
clock-driven (:func:`modulated_coefficients`); the run loop gets a copy of the per-neuron
coefficients, rewritten in every step, so the engine's own stay the model's values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from snnsim.kernels.layout import RECEPTOR_SHIFT, Modulation, Populations

if TYPE_CHECKING:
    from snnsim.engine import Engine

__all__ = ["modulated_coefficients", "modulation_arrays", "modulation_min_delay"]

#: Chunk length bound of a network without modulation.
_NO_BOUND = 1 << 20


def modulation_min_delay(eng: Engine) -> int:
    """Return the shortest modulation delay in steps (a large number without modulation)."""
    return int(eng.md_t_d.min()) if eng.md_t_d.size else _NO_BOUND


def _modulated_pops(eng: Engine) -> npt.NDArray[np.int64]:
    """Return the populations with a modulated neuron coefficient (ascending indices)."""
    if not eng.md_ent_gid.size:
        return np.zeros(0, dtype=np.int64)
    p = np.searchsorted(eng.pop_start, eng.md_ent_gid, side="right") - 1
    return np.unique(p).astype(np.int64)


def modulated_coefficients(
    eng: Engine,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return ``(pop_event, pop_noff, ncoeffs)`` for the run loop.

    Modulated populations get event mode 0 and per-neuron coefficients (a homogeneous one
    its coefficients repeated per neuron); ``ncoeffs`` is a copy either way.
    """
    event = eng.pop_event.copy()
    noff = eng.pop_noff.copy()
    parts = [eng.ncoeffs]
    size = eng.ncoeffs.size
    for p in _modulated_pops(eng):
        event[p] = 0
        if noff[p] < 0:
            n = int(eng.pop_size[p])
            block = np.repeat(eng.coeffs[p][:, None], n, axis=1).reshape(-1)
            noff[p] = size
            parts.append(block)
            size += block.size
    return event, noff, np.concatenate(parts).astype(np.float64)


def modulation_arrays(eng: Engine, pops: Populations) -> Modulation | None:
    """Return the run loop's :class:`Modulation` (``None`` without modulation).

    ``pops`` are the run's populations (:meth:`Engine.kernel_arrays`): the modulated
    coefficients' addresses point into its ``ncoeffs``, whose current values (the model's)
    become the entries' base values.
    """
    if not eng.md_src_gid.size:
        return None
    n_c = pops.coeffs.shape[1]
    p_ent = np.searchsorted(pops.start, eng.md_ent_gid, side="right") - 1
    ent_addr = (
        pops.noff[p_ent] + eng.md_ent_coef * pops.size[p_ent] + (eng.md_ent_gid - pops.start[p_ent])
    ).astype(np.int64)
    if ent_addr.size and (np.any(pops.noff[p_ent] < 0) or np.any(eng.md_ent_coef >= n_c)):
        raise RuntimeError("modulation_arrays: modulated population without coefficients")
    p_src = np.searchsorted(pops.start, eng.md_src_gid, side="right") - 1
    src_addr = (
        pops.foff[p_src] + eng.md_src_var * pops.size[p_src] + (eng.md_src_gid - pops.start[p_src])
    ).astype(np.int64)
    n_blk = eng.mb_proj.size
    blk_dep = np.full(n_blk, -1, dtype=np.int64)
    blk_gain = np.full(n_blk, -1, dtype=np.int64)
    ends = np.append(eng.md_rec_off[1:], eng.md_rec_ptr.size)
    for r, (proj, effect) in enumerate(zip(eng.md_rec_proj, eng.md_rec_effect, strict=True)):
        hit = np.flatnonzero(eng.mb_proj == proj)
        if not hit.size:
            raise RuntimeError(f"modulation_arrays: projection {proj} has no mutable block")
        (blk_dep if effect == 0 else blk_gain)[hit] = r
        # every synapse target of the block must have a row (term_sum indexes by target)
        b = int(hit[0])
        r0 = int(eng.mb_row[b])
        s0 = int(eng.mb_indptr[r0])
        s1 = int(eng.mb_indptr[r0 + eng.mb_hi[b] - eng.mb_lo[b]])
        tgt = eng.mb_code[s0:s1].astype(np.int64) >> RECEPTOR_SHIFT
        lo, n_rows = int(eng.md_rec_tlo[r]), int(ends[r] - eng.md_rec_off[r]) - 1
        if tgt.size and (tgt.min() < lo or tgt.max() >= lo + n_rows):
            raise RuntimeError(f"modulation_arrays: record {r} does not cover its targets")
    return Modulation(
        hist=eng.md_hist, mask=int(eng.md_hist.shape[0] - 1), src_gid=eng.md_src_gid,
        src_addr=src_addr, ent_gid=eng.md_ent_gid, ent_addr=ent_addr,
        ent_base=pops.ncoeffs[ent_addr].astype(np.float64), ent_ptr=eng.md_ent_ptr,
        t_src=eng.md_t_src, t_w=eng.md_t_w, t_d=eng.md_t_d, blk_dep=blk_dep, blk_gain=blk_gain,
        rec_tlo=eng.md_rec_tlo, rec_off=eng.md_rec_off, rec_ptr=eng.md_rec_ptr,
    )  # fmt: skip
