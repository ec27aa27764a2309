"""Checkpoint validators of the synapse blocks: the static CSR, mutable blocks, plasticity.

On load, every invariant the build enforces on synapses is checked again: row pointers and
codes (targets in range, ascending within rows), weight storage and the sign each
receptor's weights must have, delays within their storage and above the minimum, projection
tags, the mutable blocks' layout, and the STDP and delay-plasticity rules and state. The
checks run in chunks of :data:`~snnsim.state_checks.CHUNK` synapses so that validating a
large network allocates no full-length temporaries. :mod:`snnsim.engine_state` attaches
them to its registry entries; :class:`~snnsim.state_checks.StateCheck` is what they see.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.state_checks import (
    CHUNK,
    SIGN_ABSENT,
    SIGN_NONNEG,
    SIGN_NONPOS,
    StateCheck,
)
from snnsim.synapse_values import W_BY_RECEPTOR, W_INDEXED, W_VALUES, float32_keys

__all__ = [
    "check_delay_plasticity",
    "check_indptr",
    "check_min_delay",
    "check_mutable_blocks",
    "check_plasticity",
    "check_syn_code",
    "check_syn_delay",
    "check_syn_tag",
    "check_syn_weight",
]

Array = npt.NDArray[Any]
#: In the weight-by-receptor fast path: a code whose receptor weight has the wrong sign.
_WRONG = -1


def check_indptr(a: Array, c: StateCheck) -> None:
    """CSR rows start at 0, do not decrease and end at the synapse count."""
    if a[0] != 0 or np.any(np.diff(a) < 0) or a[-1] != c.n_syn:
        raise c.bad("indptr", f"must start at 0, not decrease and end at n_syn={c.n_syn}")


def check_syn_code(a: Array, c: StateCheck) -> None:
    """Targets in range and ascending within rows (receptors: see :func:`_weight_signs`)."""
    n, n_syn = c.layout.n, c.n_syn
    if not n_syn:
        return
    if a.min() < 0 or a.max() >= 2 * n:
        raise c.bad("syn_code", f"values must be in [0, {2 * n}) (2 * target + receptor)")
    indptr = c.arrays["indptr"]
    for lo in range(0, n_syn - 1, CHUNK):
        # a code may only decrease where a new row starts
        hi = min(lo + CHUNK, n_syn - 1)
        down = np.flatnonzero(a[lo + 1 : hi + 1] < a[lo:hi]) + lo + 1
        starts = np.searchsorted(indptr, down, side="left")
        if np.any(indptr[np.minimum(starts, indptr.size - 1)] != down):
            raise c.bad("syn_code", "codes must be ascending within each row")


def _wrong_signs(c: StateCheck, rule: Array, lo: int, hi: int) -> Array:
    """Mask of synapses ``lo:hi`` whose weight has the wrong sign for their receptor."""
    mode = c.scalars["w_mode"]
    if mode == W_INDEXED:
        # the table is ascending: compare indices with the first >= 0 and first > 0 entry
        table, idx = c.arrays["w_table"], c.arrays["syn_weight"][lo:hi]
        first_nonneg, first_pos = (
            np.searchsorted(table, 0.0, "left"),
            np.searchsorted(table, 0.0, "right"),
        )
        wrong: Array = ((rule == SIGN_NONNEG) & (idx < first_nonneg)) | (
            (rule == SIGN_NONPOS) & (idx >= first_pos)
        )
        return wrong
    w = c.weights(lo, hi)
    wrong = ((rule == SIGN_NONNEG) & (w < 0)) | ((rule == SIGN_NONPOS) & (w > 0))
    return wrong


def _weight_signs(c: StateCheck) -> None:
    """Every synapse onto a receptor its target has, with the sign ``connect`` enforces."""
    code, signs, n_syn = c.arrays["syn_code"], c.layout.receptor_signs, c.n_syn
    if c.scalars["w_mode"] == W_BY_RECEPTOR:
        # the weight depends on the code only: fold the sign test into the code table
        w_code = c.arrays["w_table"][np.arange(signs.size) & 1]
        bad = ((signs == SIGN_NONNEG) & (w_code < 0)) | ((signs == SIGN_NONPOS) & (w_code > 0))
        signs = np.where(bad, _WRONG, signs).astype(np.int8)
    for lo in range(0, n_syn, CHUNK):
        hi = min(lo + CHUNK, n_syn)
        rule = signs[code[lo:hi]]
        if rule.min() > SIGN_ABSENT and c.scalars["w_mode"] == W_BY_RECEPTOR:
            continue
        if np.any(rule == SIGN_ABSENT):
            raise c.bad("syn_code", "synapse onto a receptor its target neuron does not have")
        by_receptor = c.scalars["w_mode"] == W_BY_RECEPTOR
        wrong = rule == _WRONG if by_receptor else _wrong_signs(c, rule, lo, hi)
        if np.any(wrong):
            k = int(np.flatnonzero(wrong)[0])
            s = lo + k
            w = float(c.weights(s, s + 1)[0])
            rec = "exc" if c.layout.receptor_signs[code[s]] == SIGN_NONNEG else "inh"
            raise c.bad(
                "syn_weight" if c.scalars["w_mode"] == W_VALUES else "w_table",
                f"synapse {s} has weight {w:g} on receptor {rec!r}; excitatory "
                "weights must be >= 0 and inhibitory weights <= 0 (as connect() enforces)",
            )


def check_syn_weight(a: Array, c: StateCheck) -> None:
    """Storage agrees with ``w_mode``; values finite; indices in range; signs by receptor."""
    _weight_storage(a, c)
    _weight_signs(c)


def _weight_storage(a: Array, c: StateCheck) -> None:
    table, mode, n_syn = c.arrays["w_table"], c.scalars["w_mode"], c.n_syn
    if mode == W_BY_RECEPTOR:
        if a.size:
            raise c.bad("syn_weight", "must be empty when w_mode is 2 (weight by receptor)")
        if table.size != 2:
            raise c.bad("w_table", f"{table.size} entries; w_mode 2 needs one weight per receptor")
        if not np.all(np.isfinite(table)):
            raise c.bad("w_table", "contains NaN or Inf")
        return
    if a.size != n_syn:
        raise c.bad("syn_weight", f"length {a.size} != len(syn_code)={n_syn}")
    if mode == W_VALUES:
        if table.size:
            raise c.bad("w_table", "must be empty when syn_weight holds float32 values (w_mode 0)")
        if a.dtype != np.float32:
            raise c.bad("syn_weight", f"dtype {a.dtype} needs a weight table (w_table is empty)")
        if not np.all(np.isfinite(a)):
            raise c.bad("syn_weight", "contains NaN or Inf")
        return
    if a.dtype == np.float32:
        raise c.bad(
            "syn_weight",
            "float32 values in w_mode 1: either w_table must be empty and w_mode 0, or "
            "syn_weight must hold uint8/uint16 indices",
        )
    if table.size == 0:
        raise c.bad("syn_weight", f"dtype {a.dtype} needs a weight table (w_table is empty)")
    if table.size > np.iinfo(a.dtype).max + 1:
        raise c.bad("w_table", f"{table.size} entries cannot be indexed by {a.dtype}")
    if not np.all(np.isfinite(table)):
        raise c.bad("w_table", "contains NaN or Inf")
    keys = float32_keys(table)  # sorted and distinct in float32 order, -0.0 before 0.0
    if np.any(keys[1:] <= keys[:-1]):
        raise c.bad("w_table", "values must be distinct and ascending")
    if n_syn and int(a.max()) >= table.size:
        raise c.bad("syn_weight", f"indices must be < len(w_table)={table.size}")


def check_syn_delay(a: Array, c: StateCheck) -> None:
    """Delays fit the ring and agree with ``delay_const`` and ``min_delay``."""
    const, min_delay, n_syn = c.scalars["delay_const"], c.scalars["min_delay"], c.n_syn
    slots = c.arrays["ring"].shape[0]
    if const and a.size:
        raise c.bad("syn_delay", f"must be empty when delay_const={const} > 0")
    if not const and a.size != n_syn:
        raise c.bad("syn_delay", f"length {a.size} != len(syn_code)={n_syn}")
    if not n_syn:
        if const:
            raise c.bad_attr("delay_const", "must be 0 when there is no synapse")
        return
    if const:
        if const >= slots:
            raise c.bad_attr("delay_const", f"{const} steps does not fit a ring of {slots} slots")
        return
    if a.min() < 1 or int(a.max()) >= slots:
        raise c.bad(
            "syn_delay", f"delays must be in [1, {slots - 1}] steps (ring has {slots} slots)"
        )
    del min_delay  # checked against every block in check_min_delay


def check_min_delay(a: Array, c: StateCheck) -> None:
    """``min_delay`` is the smallest delay of the static and the mutable blocks."""
    lows = [int(a.min())] if a.size else []
    if c.n_syn:
        lows.append(c.scalars["delay_const"] or int(c.arrays["syn_delay"].min()))
    d_rule, d_param = c.arrays["dp_rule"], c.arrays["dp_param"]
    if d_rule.size == c.arrays["mb_proj"].size and d_param.ndim == 2 and d_param.shape[1] > 4:
        # plastic delays may reach their lower bound: the chunk is at most that long
        used = d_rule[(d_rule >= 0) & (d_rule < d_param.shape[0])]
        lows += [int(d_param[r, 3]) for r in used]
    if lows and c.scalars["min_delay"] != min(lows):
        raise c.bad_attr("min_delay", f"must equal the smallest delay {min(lows)}")


def check_syn_tag(a: Array, c: StateCheck) -> None:
    """Projection tags: none, or one per static synapse naming a projection."""
    if a.size not in (0, c.n_syn):
        raise c.bad("syn_tag", f"must be empty or have one entry per static synapse ({c.n_syn})")
    if a.size and int(a.max()) >= c.layout.n_projections:
        raise c.bad("syn_tag", f"projection indices must be < {c.layout.n_projections}")


def check_mutable_blocks(a: Array, c: StateCheck) -> None:
    """Per-projection mutable blocks: ranges, row pointers, codes, weights, delays, signs."""
    arr, n = c.arrays, c.layout.n
    n_blk = a.size
    for name in ("mb_lo", "mb_hi", "mb_row"):
        if arr[name].size != n_blk:
            raise c.bad(name, f"{arr[name].size} entries for {n_blk} mutable blocks")
    lo, hi, row, ptr = arr["mb_lo"], arr["mb_hi"], arr["mb_row"], arr["mb_indptr"]
    n_mut = arr["mb_code"].size
    for name in ("mb_weight", "mb_delay"):
        if arr[name].size != n_mut:
            raise c.bad(name, f"{arr[name].size} entries for {n_mut} mutable synapses")
    if n_blk and (
        np.any(lo < 0) or np.any(hi > n) or np.any(hi < lo) or np.any(a < 0)
        or np.any(a >= c.layout.n_projections) or np.unique(a).size != n_blk
    ):  # fmt: skip
        raise c.bad("mb_proj", "block source ranges or projection indices out of range")
    # a leading 0, then hi - lo + 1 pointers per block
    want_rows = int((hi - lo + 1).sum()) + 1
    if ptr.size != want_rows or np.any(row != 1 + np.cumsum(hi - lo + 1) - (hi - lo + 1)):
        raise c.bad("mb_indptr", f"{ptr.size} row pointers; the blocks need {want_rows}")
    if ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] != n_mut:
        raise c.bad("mb_indptr", f"must start at 0, not decrease and end at {n_mut}")
    if not n_mut:
        return
    code = arr["mb_code"]
    if code.min() < 0 or code.max() >= 2 * n:
        raise c.bad("mb_code", f"values must be in [0, {2 * n})")
    if not np.all(np.isfinite(arr["mb_weight"])):
        raise c.bad("mb_weight", "contains NaN or Inf")
    slots = arr["ring"].shape[0]
    delay = arr["mb_delay"]
    if delay.min() < 1 or int(delay.max()) >= slots:
        raise c.bad("mb_delay", f"delays must be in [1, {slots - 1}] steps")
    rule = c.layout.receptor_signs[code]
    if np.any(rule == SIGN_ABSENT):
        raise c.bad("mb_code", "synapse onto a receptor its target neuron does not have")
    w = arr["mb_weight"]
    if np.any(((rule == SIGN_NONNEG) & (w < 0)) | ((rule == SIGN_NONPOS) & (w > 0))):
        raise c.bad("mb_weight", "weight sign does not match its receptor (exc >= 0, inh <= 0)")


def check_plasticity(a: Array, c: StateCheck) -> None:
    """Plasticity state: one rule index per mutable block, rules, traces and histories."""
    arr, n = c.arrays, c.layout.n
    n_blk = arr["mb_proj"].size
    param = arr["pl_param"]
    if a.size != n_blk or np.any(a < -1) or np.any(a >= param.shape[0]):
        raise c.bad("pl_rule", f"needs one rule index in [-1, {param.shape[0]}) per block")
    if param.size and (
        not np.all(np.isfinite(param)) or np.any(param[:, :2] <= 0) or np.any(param[:, 5] == 0)
    ):
        raise c.bad("pl_param", "time constants must be > 0, w_max != 0, all finite")
    n_ptr = arr["mb_indptr"].size
    for name in ("pl_kplus", "pl_tlast"):
        if arr[name].size != n_ptr:
            raise c.bad(name, f"needs one entry per row pointer ({n_ptr})")
    if not np.all(np.isfinite(arr["pl_kplus"])) or np.any(arr["pl_tlast"] > c.scalars["step"]):
        raise c.bad("pl_kplus", "traces must be finite and spike stamps not in the future")
    gid, hist_t, hist_k, hist_n = (
        arr["pl_hist_gid"], arr["pl_hist_t"], arr["pl_hist_k"], arr["pl_hist_n"],
    )  # fmt: skip
    rows = gid.size
    if np.any(gid < 0) or np.any(gid >= n) or np.any(np.diff(gid) <= 0):
        raise c.bad("pl_hist_gid", f"must be ascending neuron ids in [0, {n})")
    if hist_t.shape[0] != rows or hist_k.shape[1:] != hist_t.shape or hist_n.size != rows:
        raise c.bad("pl_hist_t", "history arrays do not match pl_hist_gid")
    if np.any(hist_n < 0) or not np.all(np.isfinite(hist_k)):
        raise c.bad("pl_hist_n", "counts must be >= 0 and traces finite")


def check_delay_plasticity(a: Array, c: StateCheck) -> None:
    """Delay plasticity: one rule index per block, bounds, delays within them, the arrays."""
    arr = c.arrays
    n_blk, n_mut = arr["mb_proj"].size, arr["mb_code"].size
    param = arr["dp_param"]
    if param.ndim != 2 or param.shape[1] != 6:
        raise c.bad("dp_param", f"shape {param.shape}; needs 6 values per delay rule")
    if a.size != n_blk or np.any(a < -1) or np.any(a >= param.shape[0]):
        raise c.bad("dp_rule", f"needs one rule index in [-1, {param.shape[0]}) per block")
    for kind in ("i64", "f64"):
        rows, init = arr[f"mb_sa_{kind}"], arr[f"mb_sa_{kind}_init"]
        if rows.ndim != 2 or rows.shape != (init.size, n_mut):
            raise c.bad(
                f"mb_sa_{kind}", f"needs shape ({init.size}, {n_mut}): one row per declared "
                "array, one column per mutable synapse"
            )  # fmt: skip
    if not np.all(np.isfinite(arr["mb_sa_f64"])):
        raise c.bad("mb_sa_f64", "contains NaN or Inf")
    if not param.size:
        return
    slots = arr["ring"].shape[0]
    n_i64 = arr["mb_sa_i64"].shape[0]
    if (
        not np.all(np.isfinite(param)) or np.any(param[:, 0] <= 0) or np.any(param[:, 1] < 0)
        or np.any(param[:, 2] < 1) or np.any(param[:, 3] < 1) or np.any(param[:, 4] < param[:, 3])
        or np.any(param[:, 4] >= slots) or np.any(param[:, 5] < 0) or np.any(param[:, 5] >= n_i64)
    ):  # fmt: skip
        raise c.bad("dp_param", "window > 0, lead >= 0, max_step >= 1, 1 <= d_min <= d_max < "
                    "ring slots, arrival row in range")  # fmt: skip
    ptr, row, lo, hi = arr["mb_indptr"], arr["mb_row"], arr["mb_lo"], arr["mb_hi"]
    delay = arr["mb_delay"]
    for b in np.flatnonzero(a >= 0):
        s0, s1 = int(ptr[row[b]]), int(ptr[row[b] + hi[b] - lo[b]])
        d_lo, d_hi = param[a[b], 3], param[a[b], 4]
        if s1 > s0 and (delay[s0:s1].min() < d_lo or delay[s0:s1].max() > d_hi):
            raise c.bad("mb_delay", f"plastic delays of block {b} outside [{d_lo:g}, {d_hi:g}]")
