"""Slow, obviously correct references for the kernels and the engine.

Everything here is plain Python / NumPy with explicit loops: no Numba, no ring buffers, no
chunking, no threads. The tests compare the compiled kernels and the whole engine against
these functions on random inputs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------- splitmix64
MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
TWO_M53 = 2.0**-53


def mix64_ref(x: int) -> int:
    """Splitmix64 finaliser on Python ints (Steele, Lea & Flood 2014), mod 2**64."""
    z = (x + GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * M1) & MASK64
    z = ((z ^ (z >> 27)) * M2) & MASK64
    return z ^ (z >> 31)


def _unxorshift(y: int, s: int) -> int:
    """Inverse of ``x -> x ^ (x >> s)`` on 64-bit words."""
    x = y
    for _ in range(64 // s + 1):
        x = y ^ (x >> s)
    return x


def unmix64_ref(z: int) -> int:
    """Inverse of :func:`mix64_ref` (splitmix64 is a bijection)."""
    z = _unxorshift(z, 31)
    z = (z * pow(M2, -1, 1 << 64)) & MASK64
    z = _unxorshift(z, 27)
    z = (z * pow(M1, -1, 1 << 64)) & MASK64
    z = _unxorshift(z, 30)
    return (z - GOLDEN) & MASK64


def stream_key_ref(seed: int, stream: int) -> int:
    """Key of a random stream: ``mix(mix(seed) ^ stream)``."""
    return mix64_ref(mix64_ref(seed & MASK64) ^ (stream & MASK64))


def random_bits_ref(key: int, index: int, counter: int) -> int:
    """64 random bits: ``mix(mix(key ^ index) ^ counter)``."""
    return mix64_ref(mix64_ref(key ^ (index & MASK64)) ^ (counter & MASK64))


def uniform_from_bits_ref(bits: int) -> float:
    """Map 64 random bits to the open interval (0, 1): top 53 bits + 1/2, times 2**-53."""
    u = ((bits >> 11) + 0.5) * TWO_M53
    return min(u, 1.0 - TWO_M53)


def uniform_ref(key: int, index: int, step: int, draw: int) -> float:
    """Uniform draw number ``draw`` of ``(index, step)`` from stream ``key``."""
    return uniform_from_bits_ref(random_bits_ref(key, index, (step << 8) | draw))


def standard_normal_ref(key: int, index: int, step: int, draw: int) -> float:
    """Box-Muller from uniform draws ``2*draw`` and ``2*draw + 1``."""
    u1 = uniform_ref(key, index, step, 2 * draw)
    u2 = uniform_ref(key, index, step, 2 * draw + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


# ------------------------------------------------------------------------ truncated normal
def normal_sf_ref(x: float) -> float:
    """Standard normal survival function ``Q(x) = erfc(x / sqrt 2) / 2`` (relative-accurate)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def truncated_normal_cdf_ref(x: float, a: float, b: float) -> float:
    """Closed-form CDF of the standard normal truncated to ``[a, b]``.

    ``(Phi(x) - Phi(a)) / (Phi(b) - Phi(a))``, written with the tail on the far side of 0
    (``Q`` for ``a >= 0``, ``Phi`` for ``b <= 0``) so tails like ``a = 8`` do not cancel.
    """
    x = min(max(x, a), b)
    if a >= 0.0:
        return (normal_sf_ref(a) - normal_sf_ref(x)) / (normal_sf_ref(a) - normal_sf_ref(b))
    if b <= 0.0:
        return (normal_sf_ref(-x) - normal_sf_ref(-a)) / (normal_sf_ref(-b) - normal_sf_ref(-a))
    mass = 1.0 - normal_sf_ref(-a) - normal_sf_ref(b)
    return (
        (normal_sf_ref(-x) - normal_sf_ref(-a)) / mass
        if x <= 0
        else (1.0 - (normal_sf_ref(x) - normal_sf_ref(b)) / mass)
    )


def truncated_normal_moments_ref(a: float, b: float) -> tuple[float, float]:
    """Mean and variance of the standard normal truncated to ``[a, b]`` (closed form)."""
    if b <= 0.0:
        m, v = truncated_normal_moments_ref(-b, -a)
        return -m, v
    phi = lambda x: 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
    xphi = lambda x: 0.0 if math.isinf(x) else x * phi(x)  # noqa: E731
    if a >= 0.0:
        z = normal_sf_ref(a) - normal_sf_ref(b)
    else:
        z = 1.0 - normal_sf_ref(-a) - normal_sf_ref(b)
    mean = (phi(a) - phi(b)) / z
    return mean, 1.0 + (xphi(a) - xphi(b)) / z - mean * mean


def truncated_normal_quantile_ref(u: float, a: float, b: float) -> float:
    """Inverse of :func:`truncated_normal_cdf_ref` by bisection (200 halvings)."""
    lo = a if math.isfinite(a) else -40.0
    hi = b if math.isfinite(b) else (max(lo, 0.0) + 40.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if truncated_normal_cdf_ref(mid, a, b) < u:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def ks_statistic_ref(sample: np.ndarray, cdf: Any) -> float:
    """Kolmogorov-Smirnov statistic of ``sample`` against the CDF function ``cdf``."""
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = x.size
    f = np.array([cdf(float(v)) for v in x])
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


# ------------------------------------------------------------------------------- binomial
def binomial_pmf_ref(n: int, p: float) -> np.ndarray:
    """Exact Binomial(n, p) pmf over ``k = 0..n`` (log of the exact integer binomial)."""
    if p <= 0.0:
        out = np.zeros(n + 1)
        out[0] = 1.0
        return out
    if p >= 1.0:
        out = np.zeros(n + 1)
        out[n] = 1.0
        return out
    lp, lq = math.log(p), math.log1p(-p)
    return np.array(
        [math.exp(math.log(math.comb(n, k)) + k * lp + (n - k) * lq) for k in range(n + 1)]
    )


def binomial_quantile_ref(u: float, cdf: np.ndarray) -> int:
    """Smallest ``k`` with ``cdf[k] >= u`` (inversion of the CDF)."""
    for k, c in enumerate(cdf):
        if c >= u:
            return k
    return len(cdf) - 1


# ------------------------------------------------------------------------- LIF propagators
def lif_coefficients_ref(params: dict[str, float], dt: float) -> np.ndarray:
    """``iaf_psc_exp`` propagators by the textbook formulas (kernel coefficient layout)."""
    tau_m, cm = params["tau_m"], params["cm"]
    c = np.zeros(16)
    c[0] = math.exp(-dt / tau_m)
    c[1] = math.exp(-dt / params["tau_syn_exc"])
    c[2] = math.exp(-dt / params["tau_syn_inh"])
    for slot, tau_s in ((3, params["tau_syn_exc"]), (4, params["tau_syn_inh"])):
        if tau_s == tau_m:
            c[slot] = dt / cm * math.exp(-dt / tau_m)
        else:
            c[slot] = (
                tau_s
                * tau_m
                / (cm * (tau_m - tau_s))
                * (math.exp(-dt / tau_m) - math.exp(-dt / tau_s))
            )
    c[5] = tau_m / cm * (1.0 - math.exp(-dt / tau_m))
    c[6] = params["v_rest"]
    c[7] = params["v_thresh"]
    c[8] = params["v_reset"]
    c[9] = params["i_offset"]
    c[10] = round(params["tau_refrac"] / dt)
    c[11] = tau_m / cm
    for slot, tau_s in ((12, params["tau_syn_exc"]), (13, params["tau_syn_inh"])):
        # peak of the PSP kernel, found on a fine grid (the model uses the closed form)
        t = np.linspace(1e-6, 20 * max(tau_s, tau_m), 400001)
        if tau_s == tau_m:
            k = t / cm * np.exp(-t / tau_m)
        else:
            k = tau_s * tau_m / (cm * (tau_m - tau_s)) * (np.exp(-t / tau_m) - np.exp(-t / tau_s))
        c[slot] = k.max()
    return c


def lif_delta_coefficients_ref(params: dict[str, float], dt: float) -> np.ndarray:
    """``iaf_psc_delta`` propagators (kernel coefficient layout)."""
    tau_m, cm = params["tau_m"], params["cm"]
    c = np.zeros(16)
    c[0] = math.exp(-dt / tau_m)
    c[1] = tau_m / cm * (1.0 - math.exp(-dt / tau_m))
    c[2] = params["v_rest"]
    c[3] = params["v_thresh"]
    c[4] = params["v_reset"]
    c[5] = params["i_offset"]
    c[6] = round(params["tau_refrac"] / dt)
    return c


# --------------------------------------------------------------------- one-step references
def lif_psc_exp_step_ref(
    v, i_exc, i_inh, refrac, i_ext, ring_row, lo, hi, gid0, coeffs, spikes, n_out
):
    """Reference of the LIF step (``lif_dense``): same arguments, same in-place updates.

    Arithmetic is done in the dtype of ``v`` (numpy scalars), in the documented order.
    """
    f = v.dtype.type
    p22, p11e, p11i, p21e, p21i, p20 = (f(c) for c in coeffs[:6])
    v_rest, v_thresh, v_reset, i_offset = (f(c) for c in coeffs[6:10])
    n_ref = int(coeffs[10])
    for i in range(lo, hi):
        g = gid0 + i
        n_all = ring_row.size // 2  # receptor planes: exc [0, N), inh [N, 2N)
        x_e, x_i = ring_row[g], ring_row[n_all + g]
        ring_row[g] = 0.0
        ring_row[n_all + g] = 0.0
        # 1. membrane from the state at the start of the step (held while refractory)
        vi = v[i]
        if refrac[i] == 0:
            vi = (
                v_rest
                + (vi - v_rest) * p22
                + i_exc[i] * p21e
                + i_inh[i] * p21i
                + (i_offset + i_ext[g]) * p20
            )
        else:
            refrac[i] -= 1
        # 2. currents decay, then this step's input is added
        i_exc[i] = i_exc[i] * p11e + x_e
        i_inh[i] = i_inh[i] * p11i + x_i
        # 3. threshold
        if vi >= v_thresh:
            vi = v_reset
            refrac[i] = n_ref
            spikes[n_out] = g
            n_out += 1
        v[i] = vi
    return n_out


def lif_delta_step_ref(v, refrac, i_ext, ring_row, lo, hi, gid0, coeffs, spikes, n_out):
    """Reference of ``lif_delta_step`` (input arriving while refractory is discarded)."""
    p33, p30, v_rest, v_thresh, v_reset, i_offset = (float(c) for c in coeffs[:6])
    n_ref = int(coeffs[6])
    for i in range(lo, hi):
        g = gid0 + i
        x = float(ring_row[g])
        ring_row[g] = 0.0
        vi = float(v[i])
        if refrac[i] == 0:
            vi = v_rest + (vi - v_rest) * p33 + (i_offset + float(i_ext[g])) * p30 + x
        else:
            refrac[i] -= 1
        if vi >= v_thresh:
            vi = v_reset
            refrac[i] = n_ref
            spikes[n_out] = g
            n_out += 1
        v[i] = vi
    return n_out


def poisson_source_step_ref(lo, hi, gid0, p_spike, key, step, spikes, n_out):
    """Reference of ``poisson_source_step``: spike iff ``uniform(key, g, step, 0) < p``."""
    for i in range(lo, hi):
        g = gid0 + i
        if uniform_ref(int(key), g, int(step), 0) < p_spike:
            spikes[n_out] = g
            n_out += 1
    return n_out


def spike_source_step_ref(pointer, indptr, steps, lo, hi, gid0, step, spikes, n_out):
    """Reference of ``spike_source_step``: emit when the next scheduled stamp is ``step``."""
    for i in range(lo, hi):
        sched = list(steps[indptr[i] : indptr[i + 1]])
        k = int(pointer[i]) - int(indptr[i])
        if k < len(sched) and sched[k] == step:
            spikes[n_out] = gid0 + i
            n_out += 1
            pointer[i] += 1
    return n_out


def deliver_spikes_ref(
    spikes: Sequence[tuple[int, int]],
    synapses: Sequence[tuple[int, int, float, int]],
    k_lo: int,
    k_hi: int,
    ring: np.ndarray,
    mask: int,
) -> np.ndarray:
    """Deliver ``(stamp, gid)`` spikes through explicit ``(src, code, weight, delay)`` synapses.

    Uses a dict keyed by (slot, code) and adds the weights in canonical order (stamp, gid,
    synapse order) to a copy of ``ring``; only targets in ``[k_lo, k_hi)`` receive input.
    """
    pending: dict[tuple[int, int], list[float]] = defaultdict(list)
    for stamp, g in sorted(spikes):
        for src, code, w, d in synapses:
            if src == g and 2 * k_lo <= code < 2 * k_hi:
                pending[((stamp + d) & mask, code)].append(float(np.float32(w)))
    out = ring.copy()
    for (slot, code), ws in pending.items():
        col = (code & 1) * (out.shape[1] // 2) + (code >> 1)  # receptor planes
        acc = float(out[slot, col])
        for w in ws:
            acc += w
        out[slot, col] = acc
    return out


# ------------------------------------------------------------------- whole-network reference
def simulate_ref(
    dt: float,
    n_steps: int,
    populations: Sequence[dict[str, Any]],
    src: np.ndarray,
    target: np.ndarray,
    receptor: np.ndarray,
    weight: np.ndarray,
    delay_steps: np.ndarray,
) -> tuple[list[tuple[int, int]], dict[str, np.ndarray]]:
    """Simulate a network of LIF / LIFDelta / SpikeSource populations step by step.

    Parameters
    ----------
    dt : float
        Time step, ms.
    n_steps : int
        Number of steps; update ``s = 1..n_steps`` advances time to ``s * dt``.
    populations : list of dict
        In global-id order. Keys: ``kind`` ("LIF", "LIFDelta" or "SpikeSource"), ``size``;
        for neurons ``params`` (all parameters, including ``i_offset``) and optional initial
        arrays ``v``, ``i_exc``, ``i_inh``; for sources ``stamps`` (one list of integer
        spike stamps per neuron).
    src, target, receptor, weight, delay_steps : arrays, one entry per synapse
        Global source and target ids, receptor (0 exc / 1 inh), weight (float32), delay
        in steps (>= 1). The order of the list is the summation order of simultaneous
        inputs from one source to one target.

    Returns
    -------
    spikes : list of (stamp, gid)
        In (stamp, gid) order.
    traces : dict of float64[n_steps, N]
        ``v``, ``i_exc``, ``i_inh`` after each update (NaN where a neuron has no such
        variable).

    Per step, in this order (design.md section 4, NEST order): inputs whose arrival step
    is this one are summed per (target, receptor); every neuron updates its membrane from
    the start-of-step state (unless refractory), decays its currents and adds the input,
    tests the threshold; sources emit; every spike of this step is scheduled into a plain
    dict keyed by arrival step ``stamp + delay``.
    """
    kinds: list[str] = []
    pops: list[dict[str, Any]] = []
    n_total = 0
    for p in populations:
        pops.append({**p, "start": n_total})
        kinds.extend([p["kind"]] * p["size"])
        n_total += p["size"]
    v = np.full(n_total, np.nan)
    i_exc = np.full(n_total, np.nan)
    i_inh = np.full(n_total, np.nan)
    refrac = [0] * n_total
    coef: list[Any] = [None] * n_total
    schedule: list[set[int]] = [set() for _ in range(n_total)]
    for p in pops:
        a, b = p["start"], p["start"] + p["size"]
        if p["kind"] == "LIF":
            c = lif_coefficients_ref(p["params"], dt)
        elif p["kind"] == "LIFDelta":
            c = lif_delta_coefficients_ref(p["params"], dt)
        else:
            for i, row in enumerate(p["stamps"]):
                schedule[a + i] = {int(s) for s in row}
            continue
        for g in range(a, b):
            coef[g] = c
        v[a:b] = p.get("v", np.full(p["size"], p["params"]["v_rest"]))
        if p["kind"] == "LIF":
            i_exc[a:b] = p.get("i_exc", np.zeros(p["size"]))
            i_inh[a:b] = p.get("i_inh", np.zeros(p["size"]))

    out_syn: list[list[int]] = [[] for _ in range(n_total)]
    for s in range(len(src)):
        out_syn[int(src[s])].append(s)

    queue: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    spikes: list[tuple[int, int]] = []
    traces = {name: np.full((n_steps, n_total), np.nan) for name in ("v", "i_exc", "i_inh")}
    for stamp in range(1, n_steps + 1):
        x = [[0.0, 0.0] for _ in range(n_total)]
        for tgt, rec, w in queue.pop(stamp, []):
            x[tgt][rec] += w
        fired: list[int] = []
        for g in range(n_total):
            kind = kinds[g]
            if kind == "SpikeSource":
                if stamp in schedule[g]:
                    fired.append(g)
                continue
            c = coef[g]
            vg = float(v[g])
            if kind == "LIF":
                p22, p11e, p11i, p21e, p21i, p20, v_rest, v_thresh, v_reset, i_off = c[:10]
                if refrac[g] == 0:
                    vg = (
                        v_rest
                        + (vg - v_rest) * p22
                        + i_exc[g] * p21e
                        + i_inh[g] * p21i
                        + (i_off + 0.0) * p20
                    )
                else:
                    refrac[g] -= 1
                i_exc[g] = i_exc[g] * p11e + x[g][0]
                i_inh[g] = i_inh[g] * p11i + x[g][1]
                n_ref = int(c[10])
            else:  # LIFDelta
                p33, p30, v_rest, v_thresh, v_reset, i_off = c[:6]
                if refrac[g] == 0:
                    vg = v_rest + (vg - v_rest) * p33 + (i_off + 0.0) * p30 + x[g][0]
                else:
                    refrac[g] -= 1
                n_ref = int(c[6])
            if vg >= v_thresh:
                vg = v_reset
                refrac[g] = n_ref
                fired.append(g)
            v[g] = vg
        for g in fired:
            spikes.append((stamp, g))
            for s in out_syn[g]:
                arrival = stamp + int(delay_steps[s])
                queue[arrival].append((int(target[s]), int(receptor[s]), float(weight[s])))
        traces["v"][stamp - 1] = v
        traces["i_exc"][stamp - 1] = i_exc
        traces["i_inh"][stamp - 1] = i_inh
    return spikes, traces


def discrete_lif_ref(
    x: np.ndarray,
    beta: Any,
    threshold: Any,
    reset: str,
    reset_delay: bool,
    alpha: Any = None,
    zero_new: bool = False,
    mem0: Any = 0.0,
    syn0: Any = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """snnTorch 1.0 ``Leaky`` (``alpha=None``) / ``Synaptic`` forward over ``x[T, n]``.

    Transcribed from snnTorch's ``forward``, step by step, in the dtype of ``x`` (NumPy
    elementwise arithmetic, which is IEEE like torch's). ``zero_new``: the zero reset of
    ``RLeaky`` (the whole new membrane) instead of ``Leaky``'s (the previous membrane);
    ``Synaptic`` always zeroes the new membrane. Returns ``(spk, mem, syn)``, each ``[T, n]``.
    """
    f = x.dtype.type
    n = x.shape[1]
    beta = np.broadcast_to(np.asarray(beta, dtype=x.dtype), (n,))
    thr = np.broadcast_to(np.asarray(threshold, dtype=x.dtype), (n,))
    mem = np.broadcast_to(np.asarray(mem0, dtype=x.dtype), (n,)).copy()
    syn = np.broadcast_to(np.asarray(syn0, dtype=x.dtype), (n,)).copy()
    spk_out, mem_out, syn_out = (np.zeros_like(x) for _ in range(3))
    for t in range(x.shape[0]):
        reset_sig = (mem - thr > 0).astype(x.dtype)  # from the previous membrane
        if alpha is not None:
            a = np.broadcast_to(np.asarray(alpha, dtype=x.dtype), (n,))
            syn = a * syn + x[t]
            drive = syn
        else:
            drive = x[t]
        if reset == "zero" and alpha is None and not zero_new:  # Leaky._base_zero
            mem = (f(1) - reset_sig) * mem
            new = beta * mem + drive
        else:
            new = beta * mem + drive
            if reset == "subtract":
                new = new - reset_sig * thr
            elif reset == "zero":  # RLeaky / Synaptic: base - R * base
                new = new - new * reset_sig
        spk = (new - thr > 0).astype(x.dtype)
        if not reset_delay:
            do_reset = spk - reset_sig
            if reset == "subtract":
                new = new - do_reset * thr
            elif reset == "zero":
                new = new - do_reset * new
        mem = new
        spk_out[t], mem_out[t], syn_out[t] = spk, mem, syn
    return spk_out, mem_out, syn_out
