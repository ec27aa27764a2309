"""Issue 8, section 4: the Binomial count of a PoissonInput never loops over ``n_inputs``.

``PoissonInput(10**15, 10, 0.001)`` took 12.5 s for 10 neurons x 10 steps: the count draw
walked about ``9 sqrt(n p q)`` terms from the mode, with the mode probability from a
difference of ``lgamma`` values that loses all precision at ``n = 10**15``. Now counts with
``n p q > 1000`` come from a loop-free Cornish-Fisher quantile, the exact walk below that
uses a cancellation-free pmf, and ``n p < 20`` keeps the exact search from 0 (same values).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from snnsim.kernels import random_streams as rs

import snnsim as snn
from snnsim.streams import STREAM_INPUT, stream_id

sys.path.insert(0, str(Path(__file__).parents[1]))
import naive

LARGE = [
    (10**15, 1e-3),  # the case: n p = 1e12
    (10**15, 1e-11),  # n p q = 1e4
    (10**12, 0.5),
    (10**9, 0.9),
    (10**6, 0.002),  # n p q just above the walk's limit
    (3000, 0.5),  # n p q = 750: the exact walk
]


def _two_sample_ks(x: np.ndarray, y: np.ndarray) -> float:
    grid = np.union1d(x, y)
    fx = np.searchsorted(np.sort(x), grid, side="right") / x.size
    fy = np.searchsorted(np.sort(y), grid, side="right") / y.size
    return float(np.max(np.abs(fx - fy)))


@pytest.mark.parametrize(("n", "p"), LARGE)
def test_counts_follow_numpy_binomial(n: int, p: float, rng: np.random.Generator) -> None:
    """binomial_count(U) vs numpy's binomial: two-sample KS at 0.1 %, mean and variance."""
    m = 20_000
    got = np.array([rs.binomial_count(float(u), n, p) for u in rng.uniform(0.0, 1.0, m)])
    ref = rng.binomial(n, p, m)
    assert got.min() >= 0 and got.max() <= n
    crit = math.sqrt(-math.log(0.0005) / 2.0) * math.sqrt(2.0 / m)
    assert _two_sample_ks(got, ref) < crit
    mean, var = n * p, n * p * (1.0 - p)
    assert abs(got.mean() - mean) < 5.0 * math.sqrt(var / m)
    assert abs(got.var() / var - 1.0) < 6.0 * math.sqrt(2.0 / m)


@pytest.mark.parametrize(("n", "p"), [(4100, 0.5), (6000, 0.3), (12000, 0.1), (1100, 0.5)])
def test_counts_are_cdf_inversions(n: int, p: float, rng: np.random.Generator) -> None:
    """Above and below the walk's limit the count is the exact quantile (up to 1e-9 in u)."""
    cdf = np.cumsum(naive.binomial_pmf_ref(n, p))
    for u in rng.uniform(0.0, 1.0, 2000):
        got = rs.binomial_count(float(u), n, p)
        want = naive.binomial_quantile_ref(float(u), cdf)
        if got != want:
            assert np.min(np.abs(cdf - u)) < 1e-9, (u, got, want)


def _exact_pmf(n: int, p: float, k: int) -> float:
    """P(k) from the exact integer binomial coefficient (feasible for small k)."""
    return math.exp(math.log(math.comb(n, k)) + k * math.log(p) + (n - k) * math.log1p(-p))


def test_pmf_is_accurate_for_huge_n() -> None:
    """binomial_pmf keeps ~1e-10 relative precision at n = 10**15, where lgamma differences fail."""
    for n, p, k in [(10**15, 1e-11, 10**4), (10**15, 1e-11, 9_700), (10**15, 2e-12, 2_100)]:
        assert rs.binomial_pmf(k, n, p) == pytest.approx(_exact_pmf(n, p, k), rel=1e-9)
    for n, p, k in [(2000, 0.3, 600), (2000, 0.3, 530), (300, 0.5, 150), (10**5, 0.01, 1000)]:
        assert rs.binomial_pmf(k, n, p) == pytest.approx(_exact_pmf(n, p, k), rel=1e-11)
    for n, p in [(10**15, 1e-3), (10**18, 0.5)]:  # local limit theorem, to O(1 / npq)
        mode = math.floor((n + 1) * p)
        want = 1.0 / math.sqrt(2.0 * math.pi * n * p * (1.0 - p))
        assert rs.binomial_pmf(mode, n, p) == pytest.approx(want, rel=1e-9)


def test_work_is_bounded_whatever_n() -> None:
    """Above the limit the loop-free branch is taken; below it the walk is O(sqrt(n p q))."""
    us = [2.0**-54, 1e-12, 0.01, 0.5, 0.99, 1.0 - 1e-12, 1.0 - 2.0**-53]
    for n, p in [(10**15, 1e-3), (10**15, 1e-11), (10**18, 0.5), (2 * 10**6, 0.0006)]:
        assert n * p * (1 - p) > rs.BINOMIAL_WALK_MAX_VARIANCE
        for u in us:
            assert rs.binomial_count(u, n, p) == rs.binomial_cornish_fisher(u, n, p)
    for n, p in [(4000, 0.5), (10**15, 1e-12), (10**6, 0.001), (40, 0.5)]:
        var = n * p * (1 - p)
        assert var <= rs.BINOMIAL_WALK_MAX_VARIANCE
        for u in us:
            k, iterations = rs.binomial_mode_walk(u, n, p)
            assert 0 <= k <= n
            assert iterations <= 20.0 * math.sqrt(var) + 50, (n, p, u, iterations)


def test_small_n_p_keeps_the_search_from_zero(rng: np.random.Generator) -> None:
    """n p < 20: the same counts as binomial_from_zero (what the engine uses per input)."""
    for n, p in [(1800, 8e-4), (10**15, 1e-14), (100, 0.19)]:
        p0, ratio = math.exp(n * math.log1p(-p)), p / (1.0 - p)
        for u in rng.uniform(0.0, 1.0, 200):
            assert rs.binomial_count(float(u), n, p) == rs.binomial_from_zero(u, n, p0, ratio)


def test_poisson_input_with_1e15_sources_is_fast(seed: int) -> None:
    """PoissonInput(10**15, 10, 0.001), 10 neurons x 10 steps: quick, counts as drawn."""
    n, steps, w = 10, 10, 0.001
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    pop = net.add_population(n, snn.LIF(v_thresh=1e300, tau_syn_exc=5.0))
    net.add_input(pop, snn.PoissonInput(10**15, 10.0, w))
    rec = net.record_state(pop, "i_exc")
    net.run(0.1)  # compiles
    start = time.perf_counter()
    net.run((steps - 1) * 0.1)
    assert time.perf_counter() - start < 2.0  # was 12.5 s; now microseconds of kernel time
    i_exc = rec.data.reshape(steps, n)
    decay = np.exp(-0.1 / 5.0)
    prev = np.vstack([np.zeros((1, n)), i_exc[:-1]])
    counts = (i_exc - prev * decay) / w
    key = np.uint64(rs.stream_key(np.uint64(net.seed), np.uint64(stream_id(STREAM_INPUT, 0))))
    p = 10.0 * 0.1 * 1e-3
    want = np.array(
        [
            [rs.binomial_count(rs.uniform(key, g, s, 0), 10**15, p) for g in range(n)]
            for s in range(1, steps + 1)
        ],
        dtype=np.float64,
    )
    np.testing.assert_allclose(counts, want, rtol=1e-9)
    assert abs(want.mean() / 1e12 - 1.0) < 1e-4
