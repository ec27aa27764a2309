"""Connectivity generation in compiled code.

Every connector draws from its own counter-based stream (``key``), indexed by the row
(presynaptic neuron for row-wise connectors, postsynaptic for in-degree ones) or by the
pair number (``fixed_total_number``), so the result depends on the seed only, not on
threads. Connectors work in two passes: a count pass (``*_counts``: synapses per
presynaptic local index) and a fill pass (``*_fill``) that regenerates the same draws and
writes each row's postsynaptic local indices straight to ``out[dest[i]:dest[i] + n_i]``,
where ``dest`` holds the row starts chosen by the caller (e.g. in a global CSR). Rows come
out sorted by postsynaptic local index (ties, from multapses, in draw order).

Connectors drawn column-wise (``fixed_in_degree``, ``fixed_total_number``) split the
columns into ``n_chunks`` contiguous chunks and count per (chunk, row), so the fill pass can
run the chunks in parallel and still write every row in draw order: the result does not
depend on ``n_chunks``.

Self-connections are identified by global ids: ``pre_gid[i] == post_gid[j]``.

The functions without a suffix (``fixed_probability``, ``fixed_out_degree``,
``fixed_in_degree``) return a stand-alone CSR (``indptr`` int64, ``post`` int64) built on
the same two passes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from snnsim.kernels.jit_options import JIT, JIT_PARALLEL
from snnsim.kernels.random_streams import (
    normal_mass,
    random_bits,
    standard_normal,
    truncated_standard_normal,
    uniform,
)


# ------------------------------------------------------------------------------ helpers
@njit(**JIT)
def _position_map(gids, size):
    """``m[g] = i`` for ``g = gids[i]``, ``-1`` elsewhere (``size`` > every id)."""
    m = np.full(size, -1, dtype=np.int64)
    for i in range(gids.shape[0]):
        m[gids[i]] = i
    return m


@njit(**JIT)
def _max_id(a, b):
    m = -1
    for i in range(a.shape[0]):
        m = max(m, a[i])
    for i in range(b.shape[0]):
        m = max(m, b[i])
    return m + 1


@njit(**JIT)
def _chunk(c, n_chunks, n):
    """Bounds of chunk ``c`` of ``n_chunks`` contiguous chunks of ``range(n)``."""
    return (n * c) // n_chunks, (n * (c + 1)) // n_chunks


@njit(**JIT_PARALLEL)
def _chunk_cursors(chunk_counts, dest):
    """Write cursor of every (chunk, row): ``dest[i]`` plus the counts of earlier chunks."""
    n_chunks, n_rows = chunk_counts.shape
    cur = np.empty((n_chunks, n_rows), dtype=np.int64)
    for i in prange(n_rows):
        s = dest[i]
        for c in range(n_chunks):
            cur[c, i] = s
            s += chunk_counts[c, i]
    return cur


@njit(**JIT_PARALLEL)
def sort_rows_int32(dest, counts, out):
    """Sort ``out[dest[i]:dest[i] + counts[i]]`` in place for every row ``i``."""
    for i in prange(dest.shape[0]):
        out[dest[i] : dest[i] + counts[i]].sort()


@njit(**JIT)
def _csr_from_counts(counts):
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    for i in range(counts.shape[0]):
        indptr[i + 1] = indptr[i] + counts[i]
    return indptr


# ----------------------------------------------------------------- fixed probability
@njit(**JIT)
def _geometric_row(key, row, n_post, log_q, pre_g, post_gid, allow_self, out, start, write):
    """Walk one row of a Bernoulli(p) matrix by geometric skips; count or write targets."""
    j = -1
    draw = 0
    n = 0
    while True:
        u = uniform(key, row, draw, 0)
        draw += 1
        skip = math.log(u) / log_q
        if skip >= n_post:  # before floor: floor(skip) overflows int64 when p is tiny
            break
        j += 1 + math.floor(skip)
        if j >= n_post:
            break
        if not allow_self and post_gid[j] == pre_g:
            continue
        if write:
            out[start + n] = j
        n += 1
    return n


@njit(**JIT_PARALLEL)
def fixed_probability_counts(key, p, pre_gid, post_gid, allow_self):
    """Synapses per presynaptic local index of Bernoulli(p) connectivity (int64[n_pre])."""
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    counts = np.zeros(n_pre, dtype=np.int64)
    if p <= 0.0:
        return counts
    if p >= 1.0:
        for i in prange(n_pre):
            c = n_post
            if not allow_self:
                for j in range(n_post):
                    if post_gid[j] == pre_gid[i]:
                        c -= 1
            counts[i] = c
        return counts
    log_q = math.log1p(-p)
    empty = np.empty(0, dtype=np.int32)
    for i in prange(n_pre):
        counts[i] = _geometric_row(
            key, i, n_post, log_q, pre_gid[i], post_gid, allow_self, empty, 0, False
        )
    return counts


@njit(**JIT_PARALLEL)
def fixed_probability_fill(key, p, pre_gid, post_gid, allow_self, dest, out):
    """Write the targets of :func:`fixed_probability_counts` rows to ``out[dest[i]:]``."""
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    if p <= 0.0:
        return
    if p >= 1.0:
        for i in prange(n_pre):
            n = dest[i]
            for j in range(n_post):
                if allow_self or post_gid[j] != pre_gid[i]:
                    out[n] = j
                    n += 1
        return
    log_q = math.log1p(-p)
    for i in prange(n_pre):
        _geometric_row(key, i, n_post, log_q, pre_gid[i], post_gid, allow_self, out, dest[i], True)


@njit(**JIT)
def fixed_probability(key, p, pre_gid, post_gid, allow_self):
    """Bernoulli(p) connectivity, CSR by presynaptic local index.

    Returns
    -------
    indptr : int64[n_pre + 1]
    post : int64[n_syn]
        Postsynaptic local indices, ascending within each row.
    """
    counts = fixed_probability_counts(key, p, pre_gid, post_gid, allow_self)
    indptr = _csr_from_counts(counts)
    out = np.empty(indptr[-1], dtype=np.int32)
    fixed_probability_fill(key, p, pre_gid, post_gid, allow_self, indptr[:-1], out)
    return indptr, out.astype(np.int64)


# ------------------------------------------------------------------- fixed degrees
@njit(**JIT)
def _sample_distinct(key, row, n, k, exclude, out, scratch):
    """Draw ``k`` distinct integers from ``[0, n)`` minus ``exclude`` (-1: none), sorted.

    Draws with replacement, sorts, removes duplicates and tops up until ``k`` are
    distinct: expected O(k log k) when ``k`` is well below ``n``. ``out`` receives the
    result; ``scratch`` needs ``2 k`` entries.
    """
    m = n if exclude < 0 else n - 1
    have = 0
    draw = 0
    while have < k:
        need = k - have
        for q in range(need):
            x = np.int64(random_bits(key, row, draw) % np.uint64(m))
            draw += 1
            if exclude >= 0 and x >= exclude:
                x += 1
            scratch[have + q] = x
        total = have + need
        scratch[:total].sort()
        have = 0
        for q in range(total):
            if q == 0 or scratch[q] != scratch[q - 1]:
                scratch[have] = scratch[q]
                have += 1
    out[:k] = scratch[:k]


@njit(**JIT_PARALLEL)
def fixed_out_degree_fill(key, k, pre_gid, post_gid, allow_self, dest, out):
    """Each presynaptic neuron connects to ``k`` distinct postsynaptic neurons.

    Writes row ``i`` (sorted) to ``out[dest[i]:dest[i] + k]``.
    """
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    pos = _position_map(post_gid, _max_id(pre_gid, post_gid))
    for i in prange(n_pre):
        exclude = -1 if allow_self else pos[pre_gid[i]]
        scratch = np.empty(2 * k, dtype=np.int64)
        row = np.empty(k, dtype=np.int64)
        _sample_distinct(key, i, n_post, k, exclude, row, scratch)
        for q in range(k):
            out[dest[i] + q] = row[q]


@njit(**JIT)
def fixed_out_degree(key, k, pre_gid, post_gid, allow_self):
    """Each presynaptic neuron connects to ``k`` distinct postsynaptic neurons.

    Returns ``indptr`` (int64[n_pre + 1]) and ``post`` (int64[n_pre * k]), rows sorted.
    """
    n_pre = pre_gid.shape[0]
    indptr = np.arange(n_pre + 1).astype(np.int64) * k
    out = np.empty(n_pre * k, dtype=np.int32)
    fixed_out_degree_fill(key, k, pre_gid, post_gid, allow_self, indptr[:-1], out)
    return indptr, out.astype(np.int64)


@njit(**JIT_PARALLEL)
def _in_degree_pass(key, k, pre_gid, post_gid, allow_self, n_chunks, cur, out, write):
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    pos = _position_map(pre_gid, _max_id(pre_gid, post_gid))
    counts = np.zeros((n_chunks, n_pre), dtype=np.int64)
    for c in prange(n_chunks):
        j0, j1 = _chunk(c, n_chunks, n_post)
        scratch = np.empty(2 * k, dtype=np.int64)
        col = np.empty(k, dtype=np.int64)
        for j in range(j0, j1):
            exclude = -1 if allow_self else pos[post_gid[j]]
            _sample_distinct(key, j, n_pre, k, exclude, col, scratch)
            for q in range(k):
                i = col[q]
                if write:
                    out[cur[c, i]] = j
                    cur[c, i] += 1
                else:
                    counts[c, i] += 1
    return counts


@njit(**JIT)
def fixed_in_degree_counts(key, k, pre_gid, post_gid, allow_self, n_chunks):
    """Each postsynaptic neuron receives from ``k`` distinct presynaptic neurons.

    Drawn per postsynaptic neuron (column). Returns the synapses per (chunk of columns,
    presynaptic local index): int64[n_chunks, n_pre].
    """
    dummy = np.empty((0, 0), dtype=np.int64)
    empty = np.empty(0, dtype=np.int32)
    return _in_degree_pass(key, k, pre_gid, post_gid, allow_self, n_chunks, dummy, empty, False)


@njit(**JIT)
def fixed_in_degree_fill(key, k, pre_gid, post_gid, allow_self, chunk_counts, dest, out):
    """Write the rows counted by :func:`fixed_in_degree_counts` (targets ascending)."""
    n_chunks = chunk_counts.shape[0]
    cur = _chunk_cursors(chunk_counts, dest)
    _in_degree_pass(key, k, pre_gid, post_gid, allow_self, n_chunks, cur, out, True)


@njit(**JIT)
def fixed_in_degree(key, k, pre_gid, post_gid, allow_self):
    """Each postsynaptic neuron receives from ``k`` distinct presynaptic neurons.

    Returns ``indptr`` and ``post`` (int64): CSR by presynaptic local index, rows sorted
    by postsynaptic local index.
    """
    cc = fixed_in_degree_counts(key, k, pre_gid, post_gid, allow_self, 1)
    indptr = _csr_from_counts(cc[0])
    out = np.empty(indptr[-1], dtype=np.int32)
    fixed_in_degree_fill(key, k, pre_gid, post_gid, allow_self, cc, indptr[:-1], out)
    return indptr, out.astype(np.int64)


# ------------------------------------------------------------------- total number
@njit(**JIT)
def _pair(key, i, n_pre, n_post, pre_gid, post_gid, allow_self):
    """Pair number ``i``: (pre, post) local indices, redrawn while it is an excluded self pair."""
    draw = 0
    while True:
        a = np.int64(random_bits(key, i, 2 * draw) % np.uint64(n_pre))
        b = np.int64(random_bits(key, i, 2 * draw + 1) % np.uint64(n_post))
        draw += 1
        if allow_self or pre_gid[a] != post_gid[b]:
            return a, b


@njit(**JIT_PARALLEL)
def fixed_total_number(key, n_pre, n_post, pre_gid, post_gid, allow_self, pre_out, post_out):
    """Draw ``pre_out.size`` (pre, post) pairs uniformly with replacement.

    Pair ``i`` uses index ``i`` of stream ``key``; a self pair is redrawn when
    ``allow_self`` is False. Fills ``pre_out`` and ``post_out`` (int64) in place.
    """
    for i in prange(pre_out.shape[0]):
        a, b = _pair(key, i, n_pre, n_post, pre_gid, post_gid, allow_self)
        pre_out[i] = a
        post_out[i] = b


@njit(**JIT_PARALLEL)
def _total_number_pass(key, n, pre_gid, post_gid, allow_self, n_chunks, cur, out, write):
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    counts = np.zeros((n_chunks, n_pre), dtype=np.int64)
    for c in prange(n_chunks):
        i0, i1 = _chunk(c, n_chunks, n)
        for i in range(i0, i1):
            a, b = _pair(key, i, n_pre, n_post, pre_gid, post_gid, allow_self)
            if write:
                out[cur[c, a]] = b
                cur[c, a] += 1
            else:
                counts[c, a] += 1
    return counts


@njit(**JIT)
def fixed_total_number_counts(key, n, pre_gid, post_gid, allow_self, n_chunks):
    """Synapses per (chunk of pair numbers, presynaptic local index) of ``n`` random pairs."""
    dummy = np.empty((0, 0), dtype=np.int64)
    empty = np.empty(0, dtype=np.int32)
    return _total_number_pass(key, n, pre_gid, post_gid, allow_self, n_chunks, dummy, empty, False)


@njit(**JIT)
def fixed_total_number_fill(key, n, pre_gid, post_gid, allow_self, chunk_counts, dest, out):
    """Write the rows counted by :func:`fixed_total_number_counts`, each sorted by target.

    Equal targets (multapses) keep the order of their pair numbers, so the rows equal a
    stable sort of the pairs by (pre, post).
    """
    n_chunks = chunk_counts.shape[0]
    cur = _chunk_cursors(chunk_counts, dest)
    _total_number_pass(key, n, pre_gid, post_gid, allow_self, n_chunks, cur, out, True)
    sort_rows_int32(dest, chunk_counts.sum(axis=0), out)


# ------------------------------------------------------------------ explicit lists
@njit(**JIT_PARALLEL)
def one_to_one_fill(dest, out):
    """Row ``i`` holds the single target ``i``."""
    for i in prange(dest.shape[0]):
        out[dest[i]] = i


@njit(**JIT)
def pairs_sorted(pre, post):
    """Whether the pairs ``(pre[t], post[t])`` are sorted by pre, then post (O(n), no copies)."""
    for t in range(1, pre.shape[0]):
        if pre[t] < pre[t - 1] or (pre[t] == pre[t - 1] and post[t] < post[t - 1]):
            return False
    return True


@njit(**JIT_PARALLEL)
def from_list_fill(indptr, post, order, dest, out):
    """Row ``i`` holds ``post[order[t]]`` for ``t`` in ``indptr[i]:indptr[i + 1]``.

    ``order`` sorts the list by (pre, post); an empty ``order`` means already sorted.
    """
    for i in prange(dest.shape[0]):
        d = dest[i] - indptr[i]
        if order.shape[0] == 0:
            for t in range(indptr[i], indptr[i + 1]):
                out[d + t] = post[t]
        else:
            for t in range(indptr[i], indptr[i + 1]):
                out[d + t] = post[order[t]]


@njit(**JIT_PARALLEL)
def copy_rows(indptr, post, dest, out):
    """Copy row ``i`` of the CSR ``(indptr, post)`` to ``out[dest[i]:]``."""
    for i in prange(dest.shape[0]):
        d = dest[i] - indptr[i]
        for t in range(indptr[i], indptr[i + 1]):
            out[d + t] = post[t]


# ------------------------------------------------------------------- distributions
@njit(**JIT)
def uniform_value(key, low, high, i):
    """Value ``i`` of a Uniform(low, high) stream: ``low + (high - low) * U_i``."""
    return low + (high - low) * uniform(key, i, 0, 0)


#: Truncated normals whose interval holds at least this probability are drawn by
#: rejection (as before the exact sampler existed, so their values did not change).
NORMAL_REJECTION_MASS = 0.1
#: Redraws tried by the rejection branch before it falls back to inversion.
NORMAL_REJECTION_TRIES = 100
#: Uniform draw (of ``(i, 0)``) that the inversion uses; Box-Muller redraw ``k`` uses
#: draws ``2k`` and ``2k + 1``, so 200 is free.
NORMAL_INVERSION_DRAW = 200


@njit(**JIT)
def normal_mass_of(mean, std, low, high):
    """Probability of ``[low, high]`` under Normal(mean, std): the ``mass`` of :func:`normal_value`.

    1.0 when untruncated; for ``std == 0``, 1.0 if ``low <= mean <= high`` else 0.0.
    """
    if low == -math.inf and high == math.inf:
        return 1.0
    if std == 0.0:
        return 1.0 if low <= mean <= high else 0.0
    return normal_mass((low - mean) / std, (high - mean) / std)


@njit(**JIT)
def normal_value(key, mean, std, low, high, mass, i):
    r"""Value ``i`` of a Normal(mean, std) stream truncated to ``[low, high]``, exactly.

    ``mass`` is :func:`normal_mass_of` of the same parameters (computed once per stream).

    - untruncated: ``mean + std * Z`` with ``Z`` the Box-Muller draw 0 of ``(i, 0)``;
    - ``mass >= NORMAL_REJECTION_MASS``: Box-Muller draws 0, 1, ... until one falls in
      ``[low, high]``; after ``NORMAL_REJECTION_TRIES`` misses (probability
      :math:`\le 0.9^{100} \approx 3 \cdot 10^{-5}`) the value is drawn by inversion;
    - smaller ``mass`` (bounds in a tail): inversion only,
      ``mean + std * truncated_standard_normal(U, a, b)``, :math:`a, b` the standardised
      bounds and ``U`` uniform draw ``NORMAL_INVERSION_DRAW`` of ``(i, 0)``.

    A value accepted by rejection follows the truncated normal, and so does the inverted
    one, whatever happened before: the mixture is exactly the truncated normal. The
    branch depends on the parameters only, so draws stay deterministic per ``(key, i)``.
    """
    if std == 0.0:
        return min(max(mean, low), high)
    if low == -math.inf and high == math.inf:
        return mean + std * standard_normal(key, i, 0, 0)
    if mass >= NORMAL_REJECTION_MASS:
        for draw in range(NORMAL_REJECTION_TRIES):
            x = mean + std * standard_normal(key, i, 0, draw)
            if low <= x <= high:
                return x
    u = uniform(key, i, 0, NORMAL_INVERSION_DRAW)
    x = mean + std * truncated_standard_normal(u, (low - mean) / std, (high - mean) / std)
    return min(max(x, low), high)  # rounding of mean + std * z only


@njit(**JIT_PARALLEL)
def fill_uniform(key, low, high, out):
    """``out[i] = low + (high - low) * U_i`` with ``U_i`` from stream ``key`` at index ``i``."""
    for i in prange(out.shape[0]):
        out[i] = uniform_value(key, low, high, i)


@njit(**JIT_PARALLEL)
def fill_normal(key, mean, std, low, high, out):
    """``out[i]`` = :func:`normal_value` ``i``: Normal(mean, std) truncated to ``[low, high]``.

    Parameters
    ----------
    key : uint64
        Stream key.
    mean, std, low, high : float
        Distribution parameters (``std >= 0``, ``low < high``, bounds may be infinite).
    out : float64[n]
        Filled in place.
    """
    mass = normal_mass_of(mean, std, low, high)
    for i in prange(out.shape[0]):
        out[i] = normal_value(key, mean, std, low, high, mass, i)
