"""Synapse assembly in compiled code: values, codes, row order and the weight table.

A projection's synapses are written in place into the network's CSR by source: a
connector fill pass (:mod:`snnsim.kernels.connectivity`) leaves each row's postsynaptic
*local* indices in the ``code`` array; :func:`synapse_values` then computes every synapse's
weight and delay from the projection's value specifications, and
:func:`positions_to_codes` turns the local indices into ``2 * target + receptor``. When
several projections feed one source row, :func:`sort_rows` merges the row's runs by code
(stably, moving weights and delays along). Nothing here allocates per-synapse arrays.

Weights and delays need not be stored per synapse: when a network's weight depends on the
receptor alone, or every delay is the same, the caller passes ``store_weight`` /
``store_delay`` False and the values are only checked; :func:`sort_rows` moves a payload
array along only when it has one entry per synapse (an empty array is left alone).

Value specifications (``kind``, ``par`` float64[4], ``key``, ``arr``, ``perm``, ``mat``)::

    kind 0  constant           par[0]
    kind 1  Uniform            par[0] + (par[1] - par[0]) * U_q
    kind 2  Normal (truncated) mean par[0], std par[1], bounds [par[2], par[3]]
                               (exactly: :func:`~snnsim.kernels.connectivity.normal_value`)
    kind 3  array              arr[q] (or arr[perm[q]] when perm is not empty)
    kind 4  matrix             mat[pre_position, post_position]

where ``q`` is the synapse's index within its projection (rows in order, each row sorted
by postsynaptic local index): the same index the per-projection draws always used.

Weights are stored either as float32 values or as indices into a sorted table of distinct
float32 values, identified by their order-preserving 32-bit keys (:func:`float32_key`),
so ``-0.0`` and ``0.0`` stay distinct and the table is sorted by value.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from snnsim.kernels.connectivity import normal_mass_of, normal_value, uniform_value
from snnsim.kernels.jit_options import JIT, JIT_INLINE, JIT_PARALLEL

#: Columns of ``bad_q`` / ``bad_v`` in :func:`synapse_values`: the first offending synapse
#: (projection index ``q``, -1 if none) and its value, per kind of problem.
BAD_WEIGHT_NONFINITE = 0
BAD_DELAY_NONFINITE = 1
BAD_DELAY_OFF_GRID = 2
BAD_DELAY_BELOW_ONE = 3
BAD_DELAY_ABOVE_MAX = 4
BAD_DELAY_STORAGE = 5
BAD_WEIGHT_NOT_IN_TABLE = 6
N_BAD = 7

_SIGN32 = np.uint32(0x80000000)
_ONES32 = np.uint32(0xFFFFFFFF)
_EMPTY_SLOT = np.uint64(0)
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


# ---------------------------------------------------------------------- float keys
@njit(**JIT)
def float32_key(x):
    """Order-preserving uint32 key of a float32 (``-0.0`` sorts just below ``0.0``)."""
    bits = np.float32(x).view(np.uint32)
    if bits & _SIGN32:
        return bits ^ _ONES32
    return bits | _SIGN32


@njit(**JIT)
def distinct_keys(values, cap):
    """Distinct :func:`float32_key` keys of ``values`` (cast to float32), unsorted.

    Stops as soon as more than ``cap`` distinct keys are seen and then returns ``cap + 1``
    keys, so the memory used is O(cap) whatever the size of ``values``.
    """
    size = 1
    while size < 2 * (cap + 1):
        size *= 2
    mask = np.uint64(size - 1)
    slots = np.zeros(size, dtype=np.uint64)  # key + 1; 0 = empty
    found = np.empty(cap + 1, dtype=np.uint32)
    n = 0
    for t in range(values.shape[0]):
        k = float32_key(np.float32(values[t]))
        tag = np.uint64(k) + np.uint64(1)
        h = (tag * _HASH_MUL) >> np.uint64(40)
        h &= mask
        while True:
            s = slots[h]
            if s == _EMPTY_SLOT:
                slots[h] = tag
                found[n] = k
                n += 1
                break
            if s == tag:
                break
            h = (h + np.uint64(1)) & mask
        if n > cap:
            break
    return found[:n].copy()


@njit(**JIT)
def _lookup(table_keys, k):
    """Index of key ``k`` in the sorted ``table_keys``, or -1."""
    lo = 0
    hi = table_keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if table_keys[mid] < k:
            lo = mid + 1
        else:
            hi = mid
    if lo < table_keys.shape[0] and table_keys[lo] == k:
        return lo
    return -1


@njit(**JIT_PARALLEL)
def weight_indices(weight, table_keys, out):
    """``out[s]`` = index of float32 ``weight[s]`` in ``table_keys``; returns misses (0)."""
    n = weight.shape[0]
    n_chunks = 64
    miss = np.zeros(n_chunks, dtype=np.int64)
    for c in prange(n_chunks):
        for s in range((n * c) // n_chunks, (n * (c + 1)) // n_chunks):
            idx = _lookup(table_keys, float32_key(weight[s]))
            if idx < 0:
                miss[c] += 1
                idx = 0
            out[s] = idx
    return miss.sum()


# ------------------------------------------------------------------------- values
@njit(**JIT)
def _value(kind, par, key, arr, perm, mat, mass, q, i, j):
    if kind == 0:
        return par[0]
    if kind == 1:
        return uniform_value(key, par[0], par[1], q)
    if kind == 2:
        return normal_value(key, par[0], par[1], par[2], par[3], mass, q)
    if kind == 3:
        if perm.shape[0] > 0:
            return arr[perm[q]]
        return arr[q]
    return mat[i, j]


# inlined: called with a constant ``what`` from several places, which as a separate function
# Numba compiles once per constant and index type (14 compilations, 1.2 s of a cold build)
@njit(**JIT_INLINE)
def _flag(bad_q, bad_v, i, what, q, value):
    if bad_q[i, what] < 0:
        bad_q[i, what] = q
        bad_v[i, what] = value


@njit(**JIT_PARALLEL)
def synapse_values(
    lptr,
    dest,
    code,
    wkind,
    wpar,
    wkey,
    warr,
    wperm,
    wmat,
    dkind,
    dpar,
    dkey,
    darr,
    dperm,
    dmat,
    dt,
    round_delays,
    max_steps,
    table_keys,
    store_weight,
    weight_out,
    store_delay,
    delay_out,
    delay_cap,
    wstats,
    dstats,
    bad_q,
    bad_v,
):
    """Compute and store the weight and delay of every synapse of one projection.

    Parameters
    ----------
    lptr : int64[n_pre + 1]
        Projection CSR pointers: row ``i`` holds projection indices ``lptr[i]:lptr[i+1]``.
    dest : int64[n_pre]
        Where row ``i`` starts in ``code``, ``weight_out`` and ``delay_out``.
    code : int32[S]
        Holds the postsynaptic local indices of the projection's rows (read only here).
    wkind, wpar, wkey, warr, wperm, wmat, dkind, dpar, dkey, darr, dperm, dmat
        Weight and delay (ms) specifications (see the module docstring).
    dt : float
        Time step (ms); delays are stored as ``rint(delay / dt)`` steps.
    round_delays : bool
        If False, a delay more than ``1e-9`` (relative) off the grid is flagged.
    max_steps : int
        Largest allowed delay in steps.
    table_keys : uint32[K]
        Sorted keys of the weight table; empty: store float32 weights.
    store_weight, store_delay : bool
        Whether to write ``weight_out`` / ``delay_out``; False: only check the values (the
        array may then be empty).
    weight_out, delay_out : arrays[S]
        Weights (float32 or float64 values, or table indices) and delays (steps).
    delay_cap : int
        Largest value ``delay_out`` can hold; larger delays are flagged ``BAD_DELAY_STORAGE``
        (pass ``max_steps`` when delays are not stored).
    wstats : float64[C, 2]
        Per chunk of rows (``C`` contiguous chunks, ``C >= 1``): smallest and largest weight
        (float64, before rounding to float32).
    dstats : int64[C, 2]
        Per chunk: smallest and largest valid delay in steps.
    bad_q, bad_v : int64[C, N_BAD], float64[C, N_BAD]
        Per chunk and problem: first offending projection index (or -1) and its value. The
        first offender overall is the smallest index, whatever ``C``.
    """
    n_pre = dest.shape[0]
    n_chunks = wstats.shape[0]
    compressed = table_keys.shape[0] > 0
    # probability of a truncated Normal's interval, once per projection (kind 2 only)
    wmass = normal_mass_of(wpar[0], wpar[1], wpar[2], wpar[3]) if wkind == 2 else 1.0
    dmass = normal_mass_of(dpar[0], dpar[1], dpar[2], dpar[3]) if dkind == 2 else 1.0
    for c in prange(n_chunks):
        wmin = math.inf
        wmax = -math.inf
        dmin = np.int64(1) << 62
        dmax = np.int64(0)
        for t in range(N_BAD):
            bad_q[c, t] = -1
            bad_v[c, t] = 0.0
        for i in range((n_pre * c) // n_chunks, (n_pre * (c + 1)) // n_chunks):
            base = dest[i] - lptr[i]
            for q in range(lptr[i], lptr[i + 1]):
                s = base + q
                j = code[s]
                w = _value(wkind, wpar, wkey, warr, wperm, wmat, wmass, q, i, j)
                if not math.isfinite(w):
                    _flag(bad_q, bad_v, c, BAD_WEIGHT_NONFINITE, q, w)
                    w = 0.0
                wmin = min(wmin, w)
                wmax = max(wmax, w)
                if store_weight:
                    if compressed:
                        idx = _lookup(table_keys, float32_key(np.float32(w)))
                        if idx < 0:
                            _flag(bad_q, bad_v, c, BAD_WEIGHT_NOT_IN_TABLE, q, w)
                            idx = 0
                        weight_out[s] = idx
                    else:
                        # float32 in the static block; float64 in resolved tables
                        weight_out[s] = weight_out.dtype.type(w)
                d = _value(dkind, dpar, dkey, darr, dperm, dmat, dmass, q, i, j)
                st = np.int64(1)
                if not math.isfinite(d):
                    _flag(bad_q, bad_v, c, BAD_DELAY_NONFINITE, q, d)
                else:
                    steps_f = d / dt
                    steps = np.rint(steps_f)
                    if not round_delays and abs(steps_f - steps) > 1e-9 * max(1.0, abs(steps_f)):
                        _flag(bad_q, bad_v, c, BAD_DELAY_OFF_GRID, q, d)
                    if steps < 1:
                        _flag(bad_q, bad_v, c, BAD_DELAY_BELOW_ONE, q, d)
                    elif steps > max_steps:
                        _flag(bad_q, bad_v, c, BAD_DELAY_ABOVE_MAX, q, d)
                    else:
                        st = np.int64(steps)
                        if st > delay_cap:
                            _flag(bad_q, bad_v, c, BAD_DELAY_STORAGE, q, d)
                            st = delay_cap
                        dmin = min(dmin, st)
                        dmax = max(dmax, st)
                if store_delay:
                    delay_out[s] = st
        wstats[c, 0] = wmin
        wstats[c, 1] = wmax
        dstats[c, 0] = dmin
        dstats[c, 1] = dmax


@njit(**JIT_PARALLEL)
def fill_constant(lptr, dest, weight_out, weight, store_weight, delay_out, delay, store_delay):
    """Store one weight (value or table index) and one delay for every synapse of a projection.

    The values pass of projections whose weight and delay are both constants (checked by
    the caller): a small kernel, quick to compile. ``store_weight`` / ``store_delay`` False
    leaves ``weight_out`` / ``delay_out`` alone (they may then be empty).
    """
    for i in prange(dest.shape[0]):
        a = dest[i]
        for s in range(a, a + lptr[i + 1] - lptr[i]):
            if store_weight:
                weight_out[s] = weight
            if store_delay:
                delay_out[s] = delay


@njit(**JIT_PARALLEL)
def positions_to_codes(post_gid, receptor, lptr, dest, code):
    """Replace the local indices of one projection's rows by ``2 * post_gid + receptor``."""
    for i in prange(dest.shape[0]):
        a = dest[i]
        for s in range(a, a + lptr[i + 1] - lptr[i]):
            code[s] = 2 * post_gid[code[s]] + receptor


@njit(**JIT)
def _merge(src_c, src_p, dst_c, dst_p, a, m, b):
    """Stable merge of the sorted runs ``[a, m)`` and ``[m, b)`` of ``src`` into ``dst``.

    ``src_p`` (the permutation so far) moves along with the codes.
    """
    x = a
    y = m
    for o in range(a, b):
        if x < m and (y >= b or src_c[y] >= src_c[x]):
            t = x
            x += 1
        else:
            t = y
            y += 1
        dst_c[o] = src_c[t]
        dst_p[o] = src_p[t]


@njit(**JIT)
def _sort_row(code, perm, a, b):
    """Stable sort of ``code[a:b]`` by merging its runs; ``perm[a:b]`` gets the row order.

    On return ``perm[a + i]`` is the position (relative to ``a``) that sorted entry ``i``
    came from; an already sorted row is only read (its ``perm`` is the identity).
    """
    n_runs = 1
    for s in range(a + 1, b):
        if code[s] < code[s - 1]:
            n_runs += 1
    for s in range(a, b):
        perm[s] = s - a
    if n_runs == 1:
        return
    m = b - a
    starts = np.empty(n_runs + 1, dtype=np.int64)
    r = 0
    starts[0] = 0
    for s in range(a + 1, b):
        if code[s] < code[s - 1]:
            r += 1
            starts[r] = s - a
    starts[n_runs] = m
    c0 = code[a:b].copy()
    p0 = perm[a:b].copy()
    c1 = np.empty_like(c0)
    p1 = np.empty_like(p0)
    flip = False
    while n_runs > 1:
        k = 0
        r = 0
        while r < n_runs:
            lo = starts[r]
            if r + 1 < n_runs:
                mid = starts[r + 1]
                hi = starts[r + 2]
            else:
                mid = starts[r + 1]
                hi = mid
            if flip:
                _merge(c1, p1, c0, p0, lo, mid, hi)
            else:
                _merge(c0, p0, c1, p1, lo, mid, hi)
            starts[k] = lo
            k += 1
            r += 2
        starts[k] = m
        n_runs = k
        flip = not flip
    if flip:
        code[a:b] = c1
        perm[a:b] = p1
    else:
        code[a:b] = c0
        perm[a:b] = p0


@njit(**JIT)
def rows_sorted(indptr, code):
    """Whether every CSR row of ``code`` is ascending (a cheap check before :func:`sort_rows`)."""
    for r in range(indptr.shape[0] - 1):
        for s in range(indptr[r] + 1, indptr[r + 1]):
            if code[s] < code[s - 1]:
                return False
    return True


@njit(**JIT_PARALLEL)
def sort_rows(indptr, code, perm):
    """Sort every CSR row of ``code`` by value, stably; ``perm`` receives the row permutation.

    ``perm`` (int32[S]) is written for every row: sorted entry ``s`` of row ``r`` came from
    ``indptr[r] + perm[s]``. Apply it to any per-synapse payload with
    :func:`permute_rows`. Rows that are already sorted keep their order (identity).
    Unsorted rows are merged run by run (O(n log runs)) in a per-row scratch buffer.
    """
    for r in prange(indptr.shape[0] - 1):
        _sort_row(code, perm, indptr[r], indptr[r + 1])


@njit(**JIT_PARALLEL)
def permute_rows(indptr, perm, payload):
    """Reorder ``payload`` (one entry per synapse) row by row by the ``perm`` of :func:`sort_rows`.

    An empty ``payload`` (a value that is not stored per synapse) is left alone.
    """
    if payload.shape[0] != perm.shape[0]:
        return
    for r in prange(indptr.shape[0] - 1):
        a = indptr[r]
        b = indptr[r + 1]
        identity = True
        for s in range(a, b):
            if perm[s] != s - a:
                identity = False
                break
        if identity:
            continue
        row = payload[a:b].copy()
        for s in range(a, b):
            payload[s] = row[perm[s]]
