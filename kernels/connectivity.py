"""Connectivity generation in compiled code.

Every connector draws from its own counter-based stream (``key``), indexed by the row
(presynaptic neuron for row-wise connectors, postsynaptic for in-degree ones), so the
result depends on the seed only, not on threads. Rows are generated in parallel in two
passes (count, then fill) and come out sorted by postsynaptic local index.

Self-connections are identified by global ids: ``pre_gid[i] == post_gid[j]``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from snnsim.kernels.jit_options import JIT, JIT_PARALLEL
from snnsim.kernels.random_streams import random_bits, standard_normal, uniform


@njit(**JIT)
def _geometric_row(key, row, n_post, log_q, pre_g, post_gid, allow_self, out, write):
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
            out[n] = j
        n += 1
    return n


@njit(**JIT_PARALLEL)
def fixed_probability(key, p, pre_gid, post_gid, allow_self):
    """Bernoulli(p) connectivity, CSR by presynaptic local index.

    Returns
    -------
    indptr : int64[n_pre + 1]
    post : int64[n_syn]
        Postsynaptic local indices, ascending within each row.
    """
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    if p <= 0.0:
        return indptr, empty
    if p >= 1.0:
        for i in prange(n_pre):
            c = n_post
            if not allow_self:
                for j in range(n_post):
                    if post_gid[j] == pre_gid[i]:
                        c -= 1
            indptr[i + 1] = c
        indptr[1:] = np.cumsum(indptr[1:])
        post = np.empty(indptr[-1], dtype=np.int64)
        for i in prange(n_pre):
            n = indptr[i]
            for j in range(n_post):
                if allow_self or post_gid[j] != pre_gid[i]:
                    post[n] = j
                    n += 1
        return indptr, post
    log_q = math.log1p(-p)
    for i in prange(n_pre):
        indptr[i + 1] = _geometric_row(
            key, i, n_post, log_q, pre_gid[i], post_gid, allow_self, empty, False
        )
    indptr[1:] = np.cumsum(indptr[1:])
    post = np.empty(indptr[-1], dtype=np.int64)
    for i in prange(n_pre):
        _geometric_row(
            key,
            i,
            n_post,
            log_q,
            pre_gid[i],
            post_gid,
            allow_self,
            post[indptr[i] : indptr[i + 1]],
            True,
        )
    return indptr, post


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
def fixed_out_degree(key, k, pre_gid, post_gid, allow_self):
    """Each presynaptic neuron connects to ``k`` distinct postsynaptic neurons.

    Returns ``indptr`` (int64[n_pre + 1]) and ``post`` (int64[n_pre * k]), rows sorted.
    """
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    indptr = np.arange(n_pre + 1).astype(np.int64) * k
    post = np.empty(n_pre * k, dtype=np.int64)
    for i in prange(n_pre):
        exclude = -1
        if not allow_self:
            for j in range(n_post):
                if post_gid[j] == pre_gid[i]:
                    exclude = j
                    break
        scratch = np.empty(2 * k, dtype=np.int64)
        _sample_distinct(key, i, n_post, k, exclude, post[i * k : (i + 1) * k], scratch)
    return indptr, post


@njit(**JIT_PARALLEL)
def fixed_in_degree(key, k, pre_gid, post_gid, allow_self):
    """Each postsynaptic neuron receives from ``k`` distinct presynaptic neurons.

    Drawn per postsynaptic neuron, then transposed into CSR by presynaptic local index
    (rows sorted by postsynaptic local index). Returns ``indptr`` and ``post``.
    """
    n_pre = pre_gid.shape[0]
    n_post = post_gid.shape[0]
    pre_of = np.empty(n_post * k, dtype=np.int64)
    for j in prange(n_post):
        exclude = -1
        if not allow_self:
            for i in range(n_pre):
                if pre_gid[i] == post_gid[j]:
                    exclude = i
                    break
        scratch = np.empty(2 * k, dtype=np.int64)
        _sample_distinct(key, j, n_pre, k, exclude, pre_of[j * k : (j + 1) * k], scratch)
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    for q in range(n_post * k):
        indptr[pre_of[q] + 1] += 1
    indptr[1:] = np.cumsum(indptr[1:])
    fill = indptr[:-1].copy()
    post = np.empty(n_post * k, dtype=np.int64)
    for j in range(n_post):
        for q in range(j * k, (j + 1) * k):
            i = pre_of[q]
            post[fill[i]] = j
            fill[i] += 1
    return indptr, post


@njit(**JIT_PARALLEL)
def fill_uniform(key, low, high, out):
    """``out[i] = low + (high - low) * U_i`` with ``U_i`` from stream ``key`` at index ``i``."""
    for i in prange(out.shape[0]):
        out[i] = low + (high - low) * uniform(key, i, 0, 0)


@njit(**JIT_PARALLEL)
def fill_normal(key, mean, std, low, high, out):
    """``out[i] ~ Normal(mean, std)`` restricted to ``[low, high]`` by redrawing (clipping).

    Values outside ``[low, high]`` are redrawn (up to 100 times, then clipped), so the
    result follows the truncated normal distribution.
    """
    for i in prange(out.shape[0]):
        x = mean + std * standard_normal(key, i, 0, 0)
        draw = 1
        while (x < low or x > high) and draw < 100:
            x = mean + std * standard_normal(key, i, 0, draw)
            draw += 1
        out[i] = min(max(x, low), high)


@njit(**JIT_PARALLEL)
def fixed_total_number(key, n_pre, n_post, pre_gid, post_gid, allow_self, pre_out, post_out):
    """Draw ``pre_out.size`` (pre, post) pairs uniformly with replacement.

    Pair ``i`` uses index ``i`` of stream ``key``; a self pair is redrawn when
    ``allow_self`` is False. Fills ``pre_out`` and ``post_out`` (int64) in place.
    """
    for i in prange(pre_out.shape[0]):
        draw = 0
        while True:
            a = np.int64(random_bits(key, i, 2 * draw) % np.uint64(n_pre))
            b = np.int64(random_bits(key, i, 2 * draw + 1) % np.uint64(n_post))
            draw += 1
            if allow_self or pre_gid[a] != post_gid[b]:
                break
        pre_out[i] = a
        post_out[i] = b
