"""Issue 8, section 6: truncated normals are exact, also with bounds far in the tails.

Before the fix, out-of-bound draws were redrawn 100 times and then clipped:
``Normal(0, 1, low=3, high=4)`` put 87.7 % of its values exactly at 3.0. Now a tail
interval is sampled by inversion of the truncated CDF (log space, no cancellation), and an
interval holding at least 10 % of the mass keeps the old redraws (so those values did not
change), falling back to inversion after 100 misses.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from snnsim.kernels import assembly as ka
from snnsim.kernels import connectivity as kc
from snnsim.kernels import random_streams as rs

import snnsim as snn
from snnsim.errors import ParameterError

sys.path.insert(0, str(Path(__file__).parents[1]))
import naive

N = 100_000
#: KS critical value at level 1e-3: sqrt(-log(1e-3 / 2) / 2) / sqrt(n)
KS_CRIT = math.sqrt(-math.log(0.0005) / 2.0) / math.sqrt(N)
MU, SD = 2.0, 0.5

#: Standardised bounds: both in one tail, far tail, the other tail, around the mean.
BOUNDS = [
    (3.0, 4.0),
    (8.0, math.inf),
    (-math.inf, -5.0),
    (-0.5, 0.5),
    (-1.0, 2.5),
    (0.0, 0.1),  # 4 % of the mass: inversion
    (0.9, 1.4),  # 10.3 %: redraws, ~10 per value
]
IDS = ["3..4", "8..inf", "-inf..-5", "-0.5..0.5", "-1..2.5", "0..0.1", "0.9..1.4"]


def _key(seed: int, stream: int = 7) -> np.uint64:
    return np.uint64(rs.stream_key(np.uint64(seed), np.uint64(stream)))


def _check(values: np.ndarray, a: float, b: float, mu: float = MU, sd: float = SD) -> float:
    """Bounds, mean, variance and KS of ``values`` against Normal(mu, sd) on [a, b] (std.)."""
    z = (np.asarray(values, dtype=np.float64) - mu) / sd
    assert np.all(np.isfinite(z))
    assert z.min() >= a - 1e-6 and z.max() <= b + 1e-6
    mean, var = naive.truncated_normal_moments_ref(a, b)
    n = z.size
    assert abs(z.mean() - mean) < 5.0 * math.sqrt(var / n), (z.mean(), mean)
    assert abs(z.var() / var - 1.0) < 6.0 * math.sqrt(2.0 / n) + 1e-3, (z.var(), var)
    d = naive.ks_statistic_ref(z, lambda x: naive.truncated_normal_cdf_ref(x, a, b))
    assert d < KS_CRIT, (d, KS_CRIT)
    return d


@pytest.mark.parametrize(("a", "b"), BOUNDS, ids=IDS)
def test_distribution_sample_is_truncated_normal(a: float, b: float, seed: int) -> None:
    """Normal(...).sample: in bounds, closed-form mean and variance, KS below the 0.1 % level."""
    dist = snn.Normal(MU, SD, low=MU + SD * a, high=MU + SD * b)
    values = dist.sample(_key(seed), N)
    _check(values, a, b)
    # the case: no pile-up at the bound
    assert np.mean(values == dist.low) < 1e-3


def _synapse_values(wpar: np.ndarray, dpar: np.ndarray, n: int, key: np.uint64, chunks: int):
    """Run the compiled value pass on one row of ``n`` synapses (weights kept as float32)."""
    lptr = np.array([0, n], dtype=np.int64)
    dest = np.zeros(1, dtype=np.int64)
    code = np.zeros(n, dtype=np.int32)
    empty_f, empty_i = np.zeros(0), np.zeros(0, dtype=np.int64)
    no_mat = np.zeros((0, 0))
    weight = np.empty(n, dtype=np.float32)
    delay = np.empty(n, dtype=np.uint16)
    dt = 1e-3
    bad_q = np.empty((chunks, ka.N_BAD), dtype=np.int64)
    ka.synapse_values(
        lptr, dest, code,
        2, wpar, key, empty_f, empty_i, no_mat,
        2, dpar, key ^ np.uint64(1), empty_f, empty_i, no_mat,
        dt, True, 65535, np.zeros(0, dtype=np.uint32), True, weight, True, delay, 65535,
        np.empty((chunks, 2)), np.empty((chunks, 2), dtype=np.int64), bad_q,
        np.empty((chunks, ka.N_BAD)),
    )  # fmt: skip
    assert np.all(bad_q < 0)
    return weight, delay * dt


@pytest.mark.parametrize(("a", "b"), BOUNDS, ids=IDS)
def test_kernel_value_pass_is_truncated_normal(a: float, b: float, seed: int) -> None:
    """synapse_values (weights and delays of a projection): exact truncated normal draws."""
    wpar = np.array([MU, SD, MU + SD * a, MU + SD * b])
    dmu, dsd = 20.0, 1.0  # delays in ms, on a 1 us grid
    dpar = np.array([dmu, dsd, dmu + dsd * a, dmu + dsd * b])
    w, d = _synapse_values(wpar, dpar, N, _key(seed), 1)
    _check(w, a, b)
    # delays are rounded to the grid (1e-3 sd): moments only
    z = (d - dmu) / dsd
    mean, var = naive.truncated_normal_moments_ref(a, b)
    assert abs(z.mean() - mean) < 5.0 * math.sqrt(var / N) + 5e-4
    assert abs(z.var() / var - 1.0) < 6.0 * math.sqrt(2.0 / N) + 0.02
    # the same draws as the Python-side sampler, whatever the number of chunks
    w7, d7 = _synapse_values(wpar, dpar, N, _key(seed), 7)
    np.testing.assert_array_equal(w, w7)
    np.testing.assert_array_equal(d, d7)
    ref = snn.Normal(*wpar).sample(_key(seed), N).astype(np.float32)
    np.testing.assert_array_equal(w, ref)


def test_fallback_after_missed_redraws_is_exact(seed: int) -> None:
    """The inversion that follows 100 missed redraws gives the truncated normal too."""
    key = _key(seed)
    a, b = 3.0, 4.0  # 0.13 % of the mass: told 0.5, the redraws nearly always all miss
    n = 20_000
    x = np.array([kc.normal_value(key, 0.0, 1.0, a, b, 0.5, i) for i in range(n)])
    mean, var = naive.truncated_normal_moments_ref(a, b)
    assert abs(x.mean() - mean) < 5.0 * math.sqrt(var / n)
    d = naive.ks_statistic_ref(x, lambda v: naive.truncated_normal_cdf_ref(v, a, b))
    assert d < math.sqrt(-math.log(0.0005) / 2.0) / math.sqrt(n)


def test_same_key_same_draws_other_key_other_draws(seed: int) -> None:
    """Draws are a deterministic function of (key, index), in the tail and around the mean."""
    for a, b in [(3.0, 4.0), (-0.5, 0.5)]:
        dist = snn.Normal(0.0, 1.0, low=a, high=b)
        x1 = dist.sample(_key(seed), 1000)
        np.testing.assert_array_equal(x1, dist.sample(_key(seed), 1000))
        np.testing.assert_array_equal(x1[:10], dist.sample(_key(seed), 10))
        assert not np.array_equal(x1, dist.sample(_key(seed, 8), 1000))


def test_untruncated_and_wide_intervals_keep_their_values(seed: int) -> None:
    """No bounds: Box-Muller draw 0; >= 10 % mass: the first in-bound Box-Muller redraw."""
    key = _key(seed)
    x = snn.Normal(MU, SD).sample(key, 300)
    want = [MU + SD * naive.standard_normal_ref(int(key), i, 0, 0) for i in range(300)]
    np.testing.assert_allclose(x, want, rtol=1e-13)
    lo, hi = MU - 0.3 * SD, MU + 0.3 * SD  # 23.6 % of the mass
    x = snn.Normal(MU, SD, low=lo, high=hi).sample(key, 300)
    for i in range(300):
        draw = 0
        while True:
            v = MU + SD * naive.standard_normal_ref(int(key), i, 0, draw)
            if lo <= v <= hi:
                break
            draw += 1
        assert x[i] == pytest.approx(v, rel=1e-13)


@pytest.mark.parametrize(("a", "b"), [*BOUNDS, (-3.0, -2.9), (2.0, 2.0 + 1e-6), (15.0, 16.0)])
def test_inversion_matches_slow_quantile(a: float, b: float, rng: np.random.Generator) -> None:
    """truncated_standard_normal(u) equals the bisection quantile of the closed-form CDF."""
    us = np.concatenate([rng.uniform(0.0, 1.0, 40), [2.0**-53, 1e-9, 0.5, 1.0 - 2.0**-53]])
    for u in us:
        got = rs.truncated_standard_normal(float(u), a, b)
        assert a <= got <= b
        # the lower tail is reflected: its values decrease with u
        want_u = 1.0 - u if b <= 0.0 else u
        want = naive.truncated_normal_quantile_ref(float(want_u), a, b)
        assert got == pytest.approx(want, abs=1e-9 * max(1.0, abs(want), (b - a) * 1e3)), u


@pytest.mark.parametrize("a", [40.0, 1e3, 1e6])
def test_far_tail_is_shifted_exponential(a: float, seed: int) -> None:
    """Far out (a >> 1), a (X - a) -> Exp(1): finite values, KS against 1 - exp(-t)."""
    n = 20_000
    x = snn.Normal(0.0, 1.0, low=a).sample(_key(seed), n)
    assert np.all(np.isfinite(x)) and x.min() >= a
    t = a * (x - a)
    d = naive.ks_statistic_ref(t, lambda v: -math.expm1(-v))
    assert d < math.sqrt(-math.log(0.0005) / 2.0) / math.sqrt(n) + 2.0 / (a * a)


def test_log_sf_and_its_inverse_agree_with_erfc() -> None:
    """normal_log_sf matches log(erfc/2) where that is finite; normal_isf_log inverts it."""
    for x in [-30.0, -5.0, -1.0, 0.0, 0.5, 3.0, 8.0, 19.9, 20.0, 25.0, 37.0]:
        want = math.log(naive.normal_sf_ref(x))
        assert rs.normal_log_sf(x) == pytest.approx(want, rel=1e-13, abs=1e-15)
    for lp in [-1e-12, -0.1, math.log(0.5), -1.0, -50.0, -1e3, -1e6]:
        x = rs.normal_isf_log(lp)
        assert rs.normal_log_sf(x) == pytest.approx(lp, rel=1e-13, abs=1e-15)


def test_zero_std_outside_bounds_is_refused() -> None:
    """Normal(std=0) with the mean outside [low, high] cannot be sampled: ParameterError."""
    with pytest.raises(ParameterError, match=r"mean=5\.0.*outside \[0\.0, 1\.0\]"):
        snn.Normal(5.0, 0.0, low=0.0, high=1.0)
    assert snn.Normal(0.5, 0.0, low=0.0, high=1.0).sample(_key(1), 3).tolist() == [0.5] * 3
