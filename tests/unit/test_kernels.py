"""Every compiled kernel against the slow references in tests/naive.py, on random inputs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snnsim.kernels import connectivity as kc
from snnsim.kernels import neurons as kn
from snnsim.kernels import random_streams as rs
from snnsim.kernels import simulation as ks
from snnsim.kernels.layout import EventState, MutableSynapses, Ring, StaticSynapses

import snnsim as snn

sys.path.insert(0, str(Path(__file__).parents[1]))
import naive

SETTINGS = settings(max_examples=40, deadline=None, database=None)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
u64 = st.integers(min_value=0, max_value=2**64 - 1)


def _chi2_critical(df: int, z: float = 3.719) -> float:
    """Wilson-Hilferty upper quantile of chi-square(df); z=3.719 is alpha=1e-4."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


def _chi2(observed: np.ndarray, expected: np.ndarray) -> tuple[float, int]:
    """Chi-square statistic with bins pooled until each expects >= 5; returns (stat, df)."""
    obs_b, exp_b = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(observed, expected, strict=True):
        o_acc += o
        e_acc += e
        if e_acc >= 5.0:
            obs_b.append(o_acc)
            exp_b.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc > 0 and exp_b:
        obs_b[-1] += o_acc
        exp_b[-1] += e_acc
    o_arr, e_arr = np.array(obs_b), np.array(exp_b)
    return float(((o_arr - e_arr) ** 2 / e_arr).sum()), max(1, len(e_arr) - 1)


# ---------------------------------------------------------------------------- neuron kernels
def _random_lif_inputs(rng: np.random.Generator, n_coeff_delta: bool = False):
    n = int(rng.integers(1, 60))
    gid0 = int(rng.integers(0, 20))
    n_total = gid0 + n + int(rng.integers(0, 10))
    lo = int(rng.integers(0, n))
    hi = int(rng.integers(lo, n + 1))
    v = rng.uniform(-80.0, -40.0, n)
    i_exc = rng.uniform(0.0, 2.0, n)
    i_inh = rng.uniform(-2.0, 0.0, n)
    refrac = rng.integers(0, 4, n).astype(np.int64)
    i_ext = rng.normal(0.0, 0.5, n_total)
    ring_row = rng.normal(0.0, 1.0, 2 * n_total)
    n_out = int(rng.integers(0, 5))
    spikes = np.full(n_out + n, -1, dtype=np.int64)
    coeffs = np.zeros(16)
    if n_coeff_delta:
        coeffs[:7] = [
            rng.uniform(0.5, 1.0),
            rng.uniform(0.0, 5.0),
            -65.0,
            -52.0,
            rng.uniform(-75.0, -60.0),
            rng.normal(0.0, 1.0),
            rng.integers(0, 5),
        ]
    else:
        coeffs[:11] = [
            rng.uniform(0.5, 1.0),
            rng.uniform(0.5, 1.0),
            rng.uniform(0.5, 1.0),
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, 5.0),
            -65.0,
            -52.0,
            rng.uniform(-75.0, -60.0),
            rng.normal(0.0, 1.0),
            rng.integers(0, 5),
        ]
    return {
        "v": v,
        "i_exc": i_exc,
        "i_inh": i_inh,
        "refrac": refrac,
        "i_ext": i_ext,
        "ring_row": ring_row,
        "lo": lo,
        "hi": hi,
        "gid0": gid0,
        "coeffs": coeffs,
        "spikes": spikes,
        "n_out": n_out,
    }


@SETTINGS
@given(seeds, st.sampled_from([np.float64, np.float32]))
def test_lif_dense_matches_reference(s, dtype):
    """lif_dense updates state, ring and spikes exactly as the reference, in both precisions."""
    a = _random_lif_inputs(np.random.default_rng(s))
    for k in ("v", "i_exc", "i_inh", "i_ext", "ring_row"):
        a[k] = a[k].astype(dtype)
    b = {k: (x.copy() if isinstance(x, np.ndarray) else x) for k, x in a.items()}
    args = ("v", "i_exc", "i_inh", "refrac", "i_ext", "ring_row", "lo", "hi", "gid0", "coeffs")
    n1 = kn.lif_dense(*(a[k] for k in args), True, a["spikes"], a["n_out"])
    n2 = naive.lif_psc_exp_step_ref(*(b[k] for k in args), b["spikes"], b["n_out"])
    assert n1 == n2
    for k in ("v", "i_exc", "i_inh", "refrac", "ring_row", "spikes"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@SETTINGS
@given(seeds)
def test_lif_step_one_equals_lif_dense(s):
    """The single-neuron step of event-driven mode is the vectorised step, bit for bit."""
    a = _random_lif_inputs(np.random.default_rng(s))
    b = {k: (x.copy() if isinstance(x, np.ndarray) else x) for k, x in a.items()}
    args = ("v", "i_exc", "i_inh", "refrac", "i_ext", "ring_row", "lo", "hi", "gid0", "coeffs")
    n_out = kn.lif_dense(*(a[k] for k in args), True, a["spikes"], a["n_out"])
    got = []
    cur0 = b["coeffs"][9]
    for i in range(b["lo"], b["hi"]):
        g = b["gid0"] + i
        if kn.lif_step_one(
            b["v"], b["i_exc"], b["i_inh"], b["refrac"], i, g, cur0 + b["i_ext"][g],
            b["ring_row"], b["coeffs"],
        ):  # fmt: skip
            got.append(g)
    assert got == a["spikes"][a["n_out"] : n_out].tolist()
    for k in ("v", "i_exc", "i_inh", "refrac", "ring_row"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("k", [1, 2, 7, 100, 1024, 2500])
def test_lif_gap_advance_equals_repeated_steps(k):
    """Advancing over k input-free steps at once equals k single steps (to rounding)."""
    model = snn.LIF(tau_m=20.0, cm=0.25, tau_syn_exc=5.0, tau_syn_inh=10.0, i_offset=0.1)
    coeffs = model.coefficients(0.1)
    gap = model.gap_propagators(0.1, 1024)
    np.testing.assert_array_equal(gap[1], coeffs[:6])
    v = np.array([-60.0])
    ie = np.array([0.7])
    ii = np.array([-0.4])
    cur = coeffs[9]
    kn.lif_gap_advance(v, ie, ii, 0, cur, k, gap, coeffs)
    v2, ie2, ii2 = -60.0, 0.7, -0.4
    for _ in range(k):
        v2 = coeffs[6] + (v2 - coeffs[6]) * coeffs[0] + ie2 * coeffs[3] + ii2 * coeffs[4]
        v2 += cur * coeffs[5]
        ie2 *= coeffs[1]
        ii2 *= coeffs[2]
    np.testing.assert_allclose([v[0], ie[0], ii[0]], [v2, ie2, ii2], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(seeds)
def test_lif_is_busy_bound_is_safe(s):
    """A neuron declared idle never crosses threshold without input (closed-form check)."""
    rng = np.random.default_rng(s)
    model = snn.LIF(
        tau_m=float(rng.uniform(5, 30)), cm=float(rng.uniform(0.1, 1.0)),
        tau_syn_exc=float(rng.uniform(0.5, 10)), tau_syn_inh=float(rng.uniform(0.5, 10)),
        i_offset=float(rng.uniform(-0.2, 0.4)),
    )  # fmt: skip
    coeffs = model.coefficients(0.1)
    gap = model.gap_propagators(0.1, 1)
    v = np.array([rng.uniform(-70, -50)])
    ie = np.array([rng.uniform(0, 3)])
    ii = np.array([rng.uniform(-3, 0)])
    refrac = np.zeros(1, dtype=np.int64)
    if kn.lif_is_busy(v, ie, ii, refrac, 0, coeffs[9], coeffs):
        return
    for _ in range(3000):
        kn.lif_gap_advance(v, ie, ii, 0, coeffs[9], 1, gap, coeffs)
        assert v[0] < coeffs[7]


@pytest.mark.parametrize("x", [1, 2, 3, 1 << 17, (1 << 63) | (1 << 40), 0xFFFFFFFFFFFFFFFF])
def test_bit_helpers(x):
    """_lowest_bit and _popcount agree with Python's integer operations."""
    u = np.uint64(x)
    assert kn.lowest_bit(u) == (x & -x).bit_length() - 1
    assert kn.popcount(u) == bin(x).count("1")


@SETTINGS
@given(seeds)
def test_lif_delta_step_matches_reference(s):
    """lif_delta_step updates v, refractory counters, ring and spikes exactly as the reference."""
    a = _random_lif_inputs(np.random.default_rng(s), n_coeff_delta=True)
    b = {k: (x.copy() if isinstance(x, np.ndarray) else x) for k, x in a.items()}
    args = ("v", "refrac", "i_ext", "ring_row", "lo", "hi", "gid0", "coeffs", "spikes", "n_out")
    n1 = kn.lif_delta_step(*(a[k] for k in args))
    n2 = naive.lif_delta_step_ref(*(b[k] for k in args))
    assert n1 == n2
    for k in ("v", "refrac", "ring_row", "spikes"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_lif_refractory_neuron_is_held_and_discards_delta_input():
    """A refractory LIFDelta neuron keeps v and drops input; a free one integrates it."""
    v = np.array([-70.0, -70.0])
    refrac = np.array([2, 0], dtype=np.int64)
    ring = np.array([5.0, 5.0, 0.0, 0.0])  # exc plane, then inh plane
    coeffs = np.zeros(16)
    coeffs[:7] = [1.0, 0.0, -70.0, -50.0, -70.0, 0.0, 3]
    spikes = np.zeros(2, dtype=np.int64)
    n = kn.lif_delta_step(v, refrac, np.zeros(2), ring, 0, 2, 0, coeffs, spikes, 0)
    assert n == 0
    np.testing.assert_array_equal(v, [-70.0, -65.0])
    np.testing.assert_array_equal(refrac, [1, 0])
    np.testing.assert_array_equal(ring, 0.0)


@SETTINGS
@given(seeds)
def test_poisson_source_step_matches_reference(s):
    """poisson_source_step spikes exactly where the pure-Python uniform draw is < p."""
    rng = np.random.default_rng(s)
    n = int(rng.integers(1, 40))
    gid0 = int(rng.integers(0, 1000))
    lo = int(rng.integers(0, n))
    hi = int(rng.integers(lo, n + 1))
    key = int(rng.integers(0, 2**63)) * 2 + 1
    step = int(rng.integers(0, 10**6))
    p = float(rng.uniform(0.0, 1.0))
    sp1 = np.zeros(n, dtype=np.int64)
    sp2 = np.zeros(n, dtype=np.int64)
    n1 = kn.poisson_source_step(lo, hi, gid0, p, np.uint64(key), step, sp1, 0)
    n2 = naive.poisson_source_step_ref(lo, hi, gid0, p, key, step, sp2, 0)
    assert n1 == n2
    np.testing.assert_array_equal(sp1[:n1], sp2[:n2])


def test_poisson_source_empirical_rate(rng):
    """Poisson sources fire with probability 1 - exp(-nu dt) per step (count and variance)."""
    n, n_steps, rate, dt = 2000, 200, 40.0, 0.1
    p = -math.expm1(-rate * dt * 1e-3)
    key = np.uint64(int(rng.integers(0, 2**63)))
    spikes = np.zeros(n, dtype=np.int64)
    per_neuron = np.zeros(n, dtype=np.int64)
    total = 0
    for step in range(1, n_steps + 1):
        k = kn.poisson_source_step(0, n, 0, p, key, step, spikes, 0)
        per_neuron[spikes[:k]] += 1
        total += k
    expected = n * n_steps * p
    assert abs(total - expected) < 5 * math.sqrt(expected * (1 - p))
    # spike counts per neuron are Binomial(n_steps, p): check the variance too
    assert abs(per_neuron.var() / (n_steps * p * (1 - p)) - 1.0) < 0.2


@SETTINGS
@given(seeds)
def test_spike_source_step_matches_reference(s):
    """spike_source_step emits each scheduled stamp exactly once, in order, like the reference."""
    rng = np.random.default_rng(s)
    n = int(rng.integers(1, 15))
    rows = [
        np.sort(rng.choice(np.arange(1, 40), size=int(rng.integers(0, 8)), replace=False))
        for _ in range(n)
    ]
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([r.size for r in rows])
    steps = np.concatenate(rows).astype(np.int64) if indptr[-1] else np.zeros(0, dtype=np.int64)
    start = int(rng.integers(0, 20))
    pointer = np.array(
        [indptr[i] + np.searchsorted(rows[i], start, side="right") for i in range(n)],
        dtype=np.int64,
    )
    p2 = pointer.copy()
    gid0 = int(rng.integers(0, 50))
    lo = int(rng.integers(0, n))
    hi = int(rng.integers(lo, n + 1))
    for step in range(start + 1, 41):
        sp1 = np.zeros(n, dtype=np.int64)
        sp2 = np.zeros(n, dtype=np.int64)
        n1 = kn.spike_source_step(pointer, indptr, steps, lo, hi, gid0, step, sp1, 0)
        n2 = naive.spike_source_step_ref(p2, indptr, steps, lo, hi, gid0, step, sp2, 0)
        assert n1 == n2
        np.testing.assert_array_equal(sp1[:n1], sp2[:n2])
        np.testing.assert_array_equal(pointer, p2)
    # every neuron in [lo, hi) has emitted all spikes after `start`
    np.testing.assert_array_equal(pointer[lo:hi], indptr[lo + 1 : hi + 1])


# ---------------------------------------------------------------------------- random streams
@SETTINGS
@given(u64, u64, u64, st.integers(0, 2**40), st.integers(0, 255))
def test_random_streams_match_pure_python_splitmix64(x, seed, index, step, draw):
    """mix64, stream_key, random_bits, uniform equal pure-Python splitmix64 bit for bit."""
    assert int(rs.mix64(np.uint64(x))) == naive.mix64_ref(x)
    key = int(rs.stream_key(np.uint64(seed), np.uint64(index)))
    assert key == naive.stream_key_ref(seed, index)
    idx = index >> 1  # non-negative int64
    counter = (step << 8) | draw
    assert int(rs.random_bits(np.uint64(key), idx, counter)) == naive.random_bits_ref(
        key, idx, counter
    )
    assert rs.uniform(np.uint64(key), idx, step, draw) == naive.uniform_ref(key, idx, step, draw)


def test_mix64_known_values_and_inverse():
    """mix64 matches published splitmix64 outputs and the reference inverse undoes it."""
    # splitmix64 with state 0: the state advances by GOLDEN before mixing, exactly mix64(0)
    assert naive.mix64_ref(0) == 0xE220A8397B1DCDAF
    assert int(rs.mix64(np.uint64(0))) == 0xE220A8397B1DCDAF
    for x in (0, 1, 2**63, 2**64 - 1, 0x123456789ABCDEF):
        assert naive.unmix64_ref(naive.mix64_ref(x)) == x


@pytest.mark.parametrize("top", [True, False])
def test_uniform_stays_in_open_interval_at_extreme_bits(top):
    """uniform() is strictly inside (0, 1) even when the 53 used bits are all ones or all zeros."""
    key, index = 0x5EED, 3
    a = naive.mix64_ref(key ^ index)
    for low in range(4096):
        target = ((2**53 - 1) << 11 | (low & 2047)) if top else low & 2047
        counter = naive.unmix64_ref(target) ^ a
        if counter < 2**63:
            break
    assert naive.random_bits_ref(key, index, counter) == target
    u = rs.uniform(np.uint64(key), index, counter >> 8, counter & 255)
    assert 0.0 < u < 1.0
    assert u == naive.uniform_ref(key, index, counter >> 8, counter & 255)


def test_uniform_distribution(rng):
    """fill_uniform(0, 1) draws are in (0, 1), with mean 1/2, variance 1/12 and a flat histogram."""
    out = np.empty(200_000)
    kc.fill_uniform(np.uint64(int(rng.integers(0, 2**63))), 0.0, 1.0, out)
    assert out.min() > 0.0
    assert out.max() < 1.0
    se = math.sqrt(1 / 12 / out.size)
    assert abs(out.mean() - 0.5) < 5 * se
    assert abs(out.var() - 1 / 12) < 0.01 / 12 * 5
    hist = np.bincount((out * 100).astype(np.int64), minlength=100)
    stat, df = _chi2(hist, np.full(100, out.size / 100))
    assert stat < _chi2_critical(df)


BINOMIAL_CASES = [
    (10, 0.3),
    (1000, 0.001),
    (100, 0.19),  # n p = 19: search from 0
    (100, 0.21),  # n p = 21: search from the mode
    (1000, 0.3),
    (200, 0.5),
    (50, 0.95),
    (2000, 0.02),
]


@pytest.mark.parametrize(("n", "p"), BINOMIAL_CASES)
def test_binomial_count_is_exact_cdf_inversion(n, p, rng):
    """binomial_count(u) is the smallest k with CDF(k) >= u (up to 1e-9 at CDF steps)."""
    cdf = np.cumsum(naive.binomial_pmf_ref(n, p))
    for u in rng.uniform(0.0, 1.0, 500):
        got = rs.binomial_count(float(u), n, p)
        want = naive.binomial_quantile_ref(float(u), cdf)
        if got != want:
            near = np.min(np.abs(cdf - u))
            assert near < 1e-9, (u, got, want)


@pytest.mark.parametrize(("n", "p"), BINOMIAL_CASES)
def test_binomial_count_distribution(n, p, rng):
    """binomial_count follows Binomial(n, p): chi-square vs exact pmf, mean and variance."""
    m = 20_000
    pmf = naive.binomial_pmf_ref(n, p)
    ks_ = np.array([rs.binomial_count(float(u), n, p) for u in rng.uniform(0.0, 1.0, m)])
    assert ks_.min() >= 0
    assert ks_.max() <= n
    stat, df = _chi2(np.bincount(ks_, minlength=n + 1).astype(float), m * pmf)
    assert stat < _chi2_critical(df)
    mean, var = n * p, n * p * (1 - p)
    assert abs(ks_.mean() - mean) < 5 * math.sqrt(var / m)
    assert abs(ks_.var() / var - 1.0) < 5 * math.sqrt(2.0 / m) + 0.01


def test_binomial_count_edge_cases():
    """binomial_count: n=0 or p=0 gives 0, p=1 gives n, and u close to 0 or 1 stays in [0, n]."""
    assert rs.binomial_count(0.5, 0, 0.5) == 0
    assert rs.binomial_count(0.5, 10, 0.0) == 0
    assert rs.binomial_count(0.5, 10, 1.0) == 10
    for n, p in BINOMIAL_CASES:
        for u in (2.0**-54, 1.0 - 2.0**-53):
            assert 0 <= rs.binomial_count(u, n, p) <= n


# ---------------------------------------------------------------------------- spike delivery
def _random_csr(rng: np.random.Generator, n: int):
    src = rng.integers(0, n, 400)
    code = 2 * rng.integers(0, n, 400) + rng.integers(0, 2, 400)
    order = np.lexsort((code, src))  # stable: multapses keep their order
    src, code = src[order], code[order]
    weight = rng.normal(0.0, 1.0, src.size).astype(np.float32)
    delay = rng.integers(1, 12, src.size).astype(np.uint16)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return src, code.astype(np.int32), weight, delay, indptr


@pytest.mark.parametrize("table", [False, True])
@pytest.mark.parametrize("n_thr", [1, 3])
def test_deliver_spikes_matches_dict_reference(n_thr, table, rng):
    """deliver_spikes adds weights at (stamp + delay) & mask for its partition, in order."""
    _check_delivery(n_thr, table, rng, by_receptor=False)


@pytest.mark.parametrize("n_thr", [1, 3])
def test_deliver_spikes_by_receptor_and_constant_delay(n_thr, rng):
    """Weights by receptor (w_mode 2) and one constant delay give the per-synapse result."""
    _check_delivery(n_thr, False, rng, by_receptor=True)


def _no_mutable():
    e = np.zeros(0, dtype=np.int64)
    return MutableSynapses(
        e, e, e, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.uint16)
    )


def _check_delivery(n_thr, table, rng, by_receptor):
    n, m, t0, slots = 30, 4, 37, 16
    src, code, weight, delay, indptr = _random_csr(rng, n)
    if by_receptor:
        w_rec = np.array([0.75, -1.25], dtype=np.float32)
        weight = w_rec[code & 1]
        delay[:] = 5
    bounds = (np.arange(n_thr + 1) * n) // n_thr
    spk = np.full((n_thr, n * m), -1, dtype=np.int64)
    cnt = np.zeros((n_thr, m), dtype=np.int64)
    spikes = []
    for j in range(n_thr):
        q = 0
        for s in range(m):
            ids = np.flatnonzero(rng.random(bounds[j + 1] - bounds[j]) < 0.3) + bounds[j]
            spk[j, q : q + ids.size] = ids
            cnt[j, s] = ids.size
            q += ids.size
            spikes += [(t0 + s + 1, int(g)) for g in ids]
    synapses = list(zip(src.tolist(), code.tolist(), weight.tolist(), delay.tolist(), strict=True))
    ring0 = rng.normal(0.0, 1.0, (slots, 2 * n))
    for whole in [True, False] if n_thr == 1 else [False]:
        for k in range(n_thr):
            ring = ring0.copy()
            cursor = np.zeros(n_thr, dtype=np.int64)
            words = (n + 63) // 64
            inbits = np.zeros((slots, words), dtype=np.uint64)
            z = np.zeros(1, dtype=np.int64)
            evd = EventState(True, inbits, inbits[0], inbits[0], z, z)
            empty = np.zeros(0, dtype=np.uint8)
            if by_receptor:
                syn = StaticSynapses(indptr, code, empty, w_rec, empty, 2, 5)
            elif table:
                w_table, w_idx = np.unique(weight, return_inverse=True)
                syn = StaticSynapses(indptr, code, w_idx.astype(np.uint16), w_table, delay, 1, 0)
            else:
                syn = StaticSynapses(indptr, code, weight, np.zeros(0, np.float32), delay, 0, 0)
            ks.deliver_spikes(
                k, int(bounds[k]), int(bounds[k + 1]), whole, t0, m, spk, cnt, cursor, syn,
                _no_mutable(), Ring(ring, slots - 1), evd, None, None,
            )  # fmt: skip
            want = naive.deliver_spikes_ref(
                spikes, synapses, int(bounds[k]), int(bounds[k + 1]), ring0, slots - 1
            )
            np.testing.assert_array_equal(ring, want)
            # input bits: set exactly where input arrived
            touched = (ring != ring0).reshape(slots, 2, n).any(axis=1)
            bits = np.unpackbits(inbits.view(np.uint8), axis=1, bitorder="little")[:, :n]
            np.testing.assert_array_equal(bits.astype(bool), touched)


# ---------------------------------------------------------------------------- connectivity
def _key(rng: np.random.Generator) -> np.uint64:
    return np.uint64(int(rng.integers(0, 2**63)))


def _rows(indptr, post):
    return [post[indptr[i] : indptr[i + 1]] for i in range(indptr.size - 1)]


def test_fixed_probability_statistics(rng):
    """fixed_probability: row counts ~ Binomial(n_post, p), uniform targets, ascending rows."""
    n_pre, n_post, p = 400, 300, 0.05
    indptr, post = kc.fixed_probability(
        _key(rng), p, np.arange(n_pre), np.arange(n_post) + n_pre, True
    )
    counts = np.diff(indptr)
    assert indptr[-1] == post.size
    mean, var = n_post * p, n_post * p * (1 - p)
    assert abs(counts.mean() - mean) < 5 * math.sqrt(var / n_pre)
    assert abs(counts.var() / var - 1.0) < 0.3
    for row in _rows(indptr, post):
        assert np.all(np.diff(row) > 0)
        assert row.size == 0 or (row[0] >= 0 and row[-1] < n_post)
    col = np.bincount(post, minlength=n_post)
    stat, df = _chi2(col.astype(float), np.full(n_post, post.size / n_post))
    assert stat < _chi2_critical(df)


def test_fixed_probability_no_self_and_extremes(rng):
    """fixed_probability: no self when excluded; p=0 or tiny p gives none, p=1 all pairs."""
    gids = rng.permutation(60)
    key = _key(rng)
    for p in (0.3, 1.0):
        indptr, post = kc.fixed_probability(key, p, gids, gids, False)
        for i, row in enumerate(_rows(indptr, post)):
            assert gids[i] not in gids[row]
    indptr, post = kc.fixed_probability(key, 1.0, gids, gids, False)
    assert post.size == 60 * 59
    indptr, post = kc.fixed_probability(key, 1.0, gids[:7], gids, True)
    assert post.size == 7 * 60
    for row in _rows(indptr, post):
        np.testing.assert_array_equal(row, np.arange(60))
    for p in (0.0, 1e-20, 1e-300):
        indptr, post = kc.fixed_probability(key, p, gids, gids, True)
        assert post.size == 0
        assert np.all(indptr == 0)


@pytest.mark.parametrize("allow_self", [True, False])
def test_fixed_out_degree(allow_self, rng):
    """fixed_out_degree: each row has k distinct sorted targets in range, no self if excluded."""
    gids = rng.permutation(50)
    k = 49 if not allow_self else 17
    indptr, post = kc.fixed_out_degree(_key(rng), k, gids, gids, allow_self)
    np.testing.assert_array_equal(np.diff(indptr), k)
    for i, row in enumerate(_rows(indptr, post)):
        assert np.all(np.diff(row) > 0)
        assert row[0] >= 0 and row[-1] < 50
        if not allow_self:
            assert gids[i] not in gids[row]


@pytest.mark.parametrize("allow_self", [True, False])
def test_fixed_in_degree(allow_self, rng):
    """fixed_in_degree: each target has k distinct sources, rows sorted, no self if excluded."""
    pre = rng.permutation(80)
    post_g = pre[:40]
    k = 12
    indptr, post = kc.fixed_in_degree(_key(rng), k, pre, post_g, allow_self)
    np.testing.assert_array_equal(np.bincount(post, minlength=40), k)
    pairs = set()
    for i, row in enumerate(_rows(indptr, post)):
        assert np.all(np.diff(row) > 0)  # sorted and distinct sources per target
        for j in row:
            pairs.add((i, int(j)))
            if not allow_self:
                assert pre[i] != post_g[j]
    assert len(pairs) == 40 * k
    # sources are spread uniformly over the presynaptic side
    src_counts = np.diff(indptr)
    stat, df = _chi2(src_counts.astype(float), np.full(80, 40 * k / 80))
    assert stat < _chi2_critical(df)


def test_fixed_total_number(rng):
    """fixed_total_number: n pairs in range, no self pair when excluded, uniform marginals."""
    pre_g = np.arange(30)
    post_g = np.arange(10, 60)
    n = 20_000
    pre = np.empty(n, dtype=np.int64)
    post = np.empty(n, dtype=np.int64)
    kc.fixed_total_number(_key(rng), 30, 50, pre_g, post_g, False, pre, post)
    assert pre.min() >= 0 and pre.max() < 30
    assert post.min() >= 0 and post.max() < 50
    assert not np.any(pre_g[pre] == post_g[post])
    stat, df = _chi2(np.bincount(pre, minlength=30).astype(float), np.full(30, n / 30))
    assert stat < _chi2_critical(df)


def test_fill_uniform_bounds_and_mean(rng):
    """fill_uniform stays in [low, high], has mean (low + high) / 2, equals reference draws."""
    key = _key(rng)
    out = np.empty(50_000)
    kc.fill_uniform(key, -3.0, 5.0, out)
    assert out.min() >= -3.0 and out.max() <= 5.0
    assert abs(out.mean() - 1.0) < 5 * 8 / math.sqrt(12 * out.size)
    for i in (0, 1, 4999):
        assert out[i] == -3.0 + 8.0 * naive.uniform_ref(int(key), i, 0, 0)


def _truncnorm_mean(mu: float, sd: float, lo: float, hi: float) -> float:
    a, b = (lo - mu) / sd, (hi - mu) / sd
    phi = lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return mu + sd * (phi(a) - phi(b)) / (cdf(b) - cdf(a))


def test_fill_normal_truncation(rng):
    """fill_normal redraws out-of-range values: all in bounds, truncated-normal mean."""
    key = _key(rng)
    out = np.empty(50_000)
    kc.fill_normal(key, 1.0, 2.0, 0.0, 2.5, out)
    assert out.min() >= 0.0 and out.max() <= 2.5
    assert abs(out.mean() - _truncnorm_mean(1.0, 2.0, 0.0, 2.5)) < 0.02
    # an untruncated normal: mean and sd, and the first value is the Box-Muller reference draw
    kc.fill_normal(key, -1.0, 0.5, -math.inf, math.inf, out)
    assert abs(out.mean() + 1.0) < 5 * 0.5 / math.sqrt(out.size)
    assert abs(out.std() / 0.5 - 1.0) < 0.02
    assert out[3] == pytest.approx(
        -1.0 + 0.5 * naive.standard_normal_ref(int(key), 3, 0, 0), rel=1e-12
    )


# ------------------------------------------------------------------------- LIF coefficients
@pytest.mark.parametrize("tau_syn", [0.5, 5.0, 19.0, 20.0, 35.0])
def test_lif_coefficients_match_textbook_propagators(tau_syn):
    """LIF.coefficients equals the iaf_psc_exp propagators, including the tau_syn == tau_m limit."""
    params = dict(snn.LIF.defaults, tau_syn_exc=tau_syn, tau_syn_inh=2.0, cm=0.25, tau_refrac=2.0)
    got = snn.LIF(**params).coefficients(0.1)
    want = naive.lif_coefficients_ref(params, 0.1)
    np.testing.assert_allclose(got[:12], want[:12], rtol=1e-10, atol=0)
    # peak PSP per nA (event-driven idle bound): closed form against a fine grid search
    np.testing.assert_allclose(got[12:14], want[12:14], rtol=1e-6)
    assert np.all(got[12:14] >= want[12:14] * (1 - 1e-9))
    d_params = {k: v for k, v in params.items() if not k.startswith("tau_syn")}
    got = snn.LIFDelta(**d_params).coefficients(0.1)
    np.testing.assert_allclose(got, naive.lif_delta_coefficients_ref(d_params, 0.1)[:7], rtol=1e-12)


# ---------------------------------------------------------------------------- whole network
DT = 0.1
EXC = {
    "tau_m": 20.0,
    "cm": 0.5,
    "v_rest": -65.0,
    "v_reset": -68.0,
    "v_thresh": -52.0,
    "tau_syn_exc": 3.0,
    "tau_syn_inh": 6.0,
    "tau_refrac": 1.0,
    "i_offset": 0.5,
}
INH = {
    "tau_m": 10.0,
    "cm": 0.2,
    "v_rest": -60.0,
    "v_reset": -60.0,
    "v_thresh": -50.0,
    "tau_syn_exc": 10.0,
    "tau_syn_inh": 2.0,
    "tau_refrac": 0.0,
    "i_offset": 0.15,
}
DELTA = {
    "tau_m": 15.0,
    "cm": 1.0,
    "v_rest": -65.0,
    "v_reset": -65.0,
    "v_thresh": -55.0,
    "tau_refrac": 2.0,
    "i_offset": 0.6,
}


def test_network_matches_reference_simulator(rng):
    """A 50-neuron network with random delays equals simulate_ref: same spikes, traces to 1e-12."""
    n_steps = 2000
    sizes = {"exc": 30, "inh": 12, "delta": 8, "src": 10}
    stamps = [
        sorted(rng.choice(np.arange(1, n_steps), 25, replace=False).tolist()) for _ in range(10)
    ]
    net = snn.Network(dt=DT, seed=3, threads=2)
    exc = net.add_population(sizes["exc"], snn.LIF(**EXC), label="exc")
    inh = net.add_population(sizes["inh"], snn.LIF(**INH), label="inh")
    dl = net.add_population(sizes["delta"], snn.LIFDelta(**DELTA), label="delta")
    src = net.add_population(sizes["src"], snn.SpikeSource([[s * DT for s in r] for r in stamps]))
    pops = {"exc": exc, "inh": inh, "delta": dl, "src": src}
    v0 = {k: rng.uniform(-66.0, -53.0, sizes[k]) for k in ("exc", "inh", "delta")}
    ie0 = rng.uniform(0.0, 0.5, sizes["exc"])
    exc.initialize(v=v0["exc"], i_exc=ie0)
    inh.initialize(v=v0["inh"])
    dl.initialize(v=v0["delta"])
    # (pre, post, n_syn, receptor, weight range)
    plan = [
        ("src", "exc", 80, "exc", (0.2, 1.0)),
        ("src", "inh", 30, "exc", (0.1, 0.5)),
        ("exc", "exc", 150, "exc", (0.05, 0.5)),
        ("exc", "inh", 60, "exc", (0.05, 0.4)),
        ("inh", "exc", 60, "inh", (-1.0, -0.1)),
        ("inh", "inh", 20, "inh", (-0.5, -0.05)),
        ("exc", "delta", 40, None, (-2.0, 4.0)),
        ("src", "delta", 20, None, (1.0, 4.0)),
        ("delta", "exc", 20, "exc", (0.1, 0.6)),
        ("delta", "delta", 10, None, (-1.0, 1.0)),
        ("src", "exc", 10, "inh", (-0.4, -0.1)),
    ]
    s_all, t_all, r_all, w_all, d_all = [], [], [], [], []
    for pre, post, m, rec, (wlo, whi) in plan:
        i = rng.integers(0, sizes[pre], m)
        j = rng.integers(0, sizes[post], m)
        i[: m // 10] = i[0]  # a few multapses with distinct weights and delays
        j[: m // 10] = j[0]
        w = rng.uniform(wlo, whi, m).astype(np.float32)
        d = rng.integers(1, 40, m)
        net.connect(pops[pre], pops[post], snn.FromList(i, j, weight=w, delay=d * DT), receptor=rec)
        order = np.lexsort((j, i))  # the engine keeps multapses in list order
        s_all.append(pops[pre].start + i[order])
        t_all.append(pops[post].start + j[order])
        r_all.append(np.full(m, 1 if rec == "inh" else 0))
        w_all.append(w[order])
        d_all.append(d[order])
    spk_rec = {k: net.record_spikes(p) for k, p in pops.items()}
    st_rec = {
        "exc": net.record_state(exc, ["v", "i_exc", "i_inh"]),
        "inh": net.record_state(inh, ["v", "i_exc", "i_inh"]),
        "delta": net.record_state(dl, "v"),
    }
    net.run(n_steps / 2 * DT)
    net.run(n_steps / 2 * DT)

    src_c, tgt_c = np.concatenate(s_all), np.concatenate(t_all)
    rec_c, w_c, d_c = np.concatenate(r_all), np.concatenate(w_all), np.concatenate(d_all)
    order = np.argsort(src_c, kind="stable")  # per source, synapses in projection order
    populations = [
        {"kind": "LIF", "size": sizes["exc"], "params": EXC, "v": v0["exc"], "i_exc": ie0},
        {"kind": "LIF", "size": sizes["inh"], "params": INH, "v": v0["inh"]},
        {"kind": "LIFDelta", "size": sizes["delta"], "params": DELTA, "v": v0["delta"]},
        {"kind": "SpikeSource", "size": sizes["src"], "stamps": stamps},
    ]
    ref_spikes, traces = naive.simulate_ref(
        DT, n_steps, populations, src_c[order], tgt_c[order], rec_c[order], w_c[order], d_c[order]
    )
    got = sorted(
        (int(s), int(pops[k].start + i))
        for k in pops
        for s, i in zip(spk_rec[k].steps, spk_rec[k].ids, strict=True)
    )
    assert len(ref_spikes) > 300  # the network is active, every population spikes
    assert {g for _, g in ref_spikes} & set(range(30)) and {g for _, g in ref_spikes} & set(
        range(42, 50)
    )
    assert got == ref_spikes
    assert net.engine.total_spikes == len(ref_spikes)
    for k, rec in st_rec.items():
        a, b = pops[k].start, pops[k].start + sizes[k]
        np.testing.assert_allclose(rec.times, np.arange(1, n_steps + 1) * DT, rtol=1e-12)
        for var in rec.variables:
            np.testing.assert_allclose(
                rec[var], traces[var][:, a:b], rtol=0, atol=1e-12, err_msg=f"{k}.{var}"
            )
