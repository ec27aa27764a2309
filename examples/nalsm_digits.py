r"""NALSM on scikit-learn digits: LSM, LSM+STDP and astrocyte-gated STDP (NALSM) compared.

Reproduction attempt of Ivanov & Michmizos, "Increasing liquid state machine performance
with edge-of-chaos dynamics organized by astrocyte-modulated plasticity" (NeurIPS 2021,
code github.com/combra-lab/NALSM), at the size of its NALSM1000, on the offline 8x8 digits
of :func:`sklearn.datasets.load_digits` instead of MNIST. Facts used: the reference notes
``models-and-training.md`` section 2.

Liquid (NALSM ``generate_spatial_network.py``)
----------------------------------------------
1000 LIF neurons on a 10x10x10 grid (unit spacing), a random 80 % excitatory, 20 %
inhibitory. A synapse ``j -> i`` exists with probability

.. math:: P(i \leftarrow j) = C_{XY}\, e^{-(D_{ij}/\lambda)^2},\qquad \lambda = 3,

:math:`C_{EE}=0.2, C_{EI}=0.1, C_{IE}=0.3, C_{II}=0.05` (first letter: presynaptic type), no
self-connections. Every liquid synapse starts with the same magnitude ``w_liq`` (NALSM: 1.0;
the LSM condition sweeps it), positive from E, negative from I, delay 1 ms. NALSM's neuron
(:math:`v \leftarrow v + \sum_j w_{ij} e^{-s_{ij}/\tau_u}/\tau_u + I - v/\tau_v`,
:math:`\tau_v = 64` ms, threshold 20, reset 0, refractory 2 ms, :math:`\tau_u\in\{1,2\}` ms)
is mapped onto ``snn.LIF`` with ``tau_m=64, cm=1, v_rest=v_reset=0, v_thresh=20,
tau_refrac=2`` and one synaptic time constant ``TAU_SYN = 1.5`` ms (snnsim's time constant is
per population, not per synapse). A NALSM weight ``w`` becomes ``w * KERNEL_AREA / TAU_SYN``
nA, so that the charge per spike equals the NALSM kernel's discrete sum averaged over
:math:`\tau_u \in \{1, 2\}` (``KERNEL_AREA`` = 1.43). ``dt = 1`` ms, as in NALSM.

Inputs (adapted to 8x8 digits)
------------------------------
NALSM drives each pixel's input neuron with Bernoulli current pulses of probability equal to
the pixel intensity, far above threshold, so an input neuron fires a Bernoulli(p) train with a
2 ms refractory period. Here each of the 64 pixels (intensity ``/16``) drives ``REPLICAS = 5``
independent input neurons (320 in all) whose spike trains are drawn the same way (Bernoulli
per 1 ms step, no spike in the 2 steps after one) and given to ``snn.SpikeSource``. Five
replicas make the expected number of input spikes per ms (~96) match MNIST's 784 pixels
(mean intensity 0.13), which matters because the astrocyte integrates liquid minus input
spikes. Input -> liquid: density 0.15, weight +-1 (random sign, NALSM units), delay 1 ms.

Conditions and protocol
-----------------------
* ``lsm``: fixed weights; ``w_liq`` swept, the best (by mean CV accuracy) is reported.
* ``lsm_stdp``: ``snn.STDP`` on the liquid's excitatory projections (E->E, E->I).
  NALSM's trace rule (trace ``x <- lambda (0.1 S + x)``, :math:`\tau = 10` ms,
  :math:`\Delta w = \eta_+ S_i x_j - \eta_- S_j x_i`, :math:`\eta_+ = \eta_- = 0.15`,
  weights clipped to ``[0, 3]``) is the additive all-pairs rule with ``tau_plus = tau_minus
  = 10`` ms, ``w_max = 3`` (NALSM units), ``a_plus = 0.1 eta_+ e^{0.1} / 3`` and
  ``a_minus = 0.1 eta_- e^{-0.1} / 3``; the factors ``e^{+-0.1}`` undo the 1 ms dendritic
  delay in snnsim's pairing times. Inhibitory synapses stay fixed (NALSM also trains them
  and the input synapses).
* ``nalsm``: as ``lsm_stdp``, but the depression rate is the state ``A`` of one
  ``snn.Astrocyte(tau=100)`` driven by ``+w_astro`` from every liquid spike and ``-w_astro``
  from every input spike, applied with ``net.modulate(astro, proj, effect="stdp_depression")``
  on both plastic projections, ``weight = 0.1 e^{-0.1} / 3`` (the conversion of NALSM's
  depression rate into ``a_minus`` above), so the astrocyte itself has NALSM's units and
  values (``bias = a_init = 0.15``, delay 1 ms). A negative ``A`` potentiates, as in NALSM.
  ``w_astro`` is swept (NALSM: 0.015 for 1000 neurons).

Protocol (NALSM's two phases, simplified): (1) self-organisation, plastic conditions only:
``n_init`` training digits, 20 ms each, back to back, STDP (and astrocyte) on, no learning-
rate annealing. (2) Evaluation: the liquid is rebuilt with the weights reached in (1),
*frozen* (NALSM instead resets to them per sample and keeps astro-STDP on with a x0.99/ms
decaying rate), and every digit is shown for 250 ms, the membrane reset to 0 before each.
Readout: the 1000 spike counts per digit, standardised, multinomial
``LogisticRegression``, stratified 5-fold cross-validation.

Branching factor (NALSM ``compute_branching_factor.py``): for each liquid neuron ``n`` and
each spike of ``n`` at ``t`` in ``[25, 225)`` ms of a 250 ms window, ``post(t)`` spikes of
``n``'s liquid targets in ``[t+1, t+1+4)`` over ``max(pre(t), 1)`` spikes of its liquid
sources in ``[t-4, t)``; averaged over the spikes, then over the neurons that spiked, then
over 20 digits. Plotted over time: the same measure on successive 250 ms windows of the
self-organisation phase.

Results
-------
Measured (1000-neuron liquid, 300 digits, 5-fold CV, n_init 500 digits x 20 ms; commit after
merging h-mod; ``--samples 300 --n-init 500 --sweep-seeds 1 --w-liq 0.2 0.6 1.0 1.4 2.0``):

* LSM sweep, seed 1 (w_liq: acc / BF): 0.2: 92.0 % / 1.23; 0.6: 93.0 % / 1.28; 1.0: 92.3 % / 1.33;
  1.4: 92.3 % / 1.38; 2.0: 93.0 % / 1.37. BF > 1.2 even at w_liq 0.2: here the liquid is driven
  mostly by its inputs, and the BF's ``max(pre, 1)`` floor biases it upwards at these rates.
* LSM (w_liq 0.6), 5 seeds: 94.33 +- 1.18 %, BF 1.268 +- 0.021 (29 Hz).
* LSM+STDP (w_init 1.0), 5 seeds: 94.20 +- 1.07 %, BF 1.374 +- 0.014; STDP drives E weights to
  ~2.6 of 3 and the liquid to ~180 Hz.
* NALSM w_astro sweep, seed 1 only: 0.005: 92.0 % / BF 1.413; 0.015: 92.7 % / 1.405;
  0.03: 92.7 % / 1.408 (A settles near 0.18, mean E weight ~1.2, ~46 Hz).
* NALSM (w_astro 0.015), 5 seeds: 94.60 +- 1.19 %, BF 1.411 +- 0.009.

So at this size the claim does NOT appear: NALSM's BF is not closer to 1 than LSM+STDP's (1.41 vs
1.37) and no condition differs in accuracy beyond the seed-to-seed sd.

Full size (defaults: 1797 digits, n_init 1000, sweeps over 2 seeds, 5 seeds per condition,
``--w-astro 0.005 0.01 0.015 0.02 0.05 0.1 0.2``): LSM (w_liq 1.2) 97.95 +- 0.14 %, BF
1.354 +- 0.014; LSM+STDP 96.68 +- 0.24 %, BF 1.370 +- 0.014; NALSM (w_astro 0.01) 97.92 +-
0.25 %, BF 1.421 +- 0.012; the w_astro sweep keeps BF at 1.416-1.431. NALSM beats LSM+STDP
in accuracy and matches the best LSM, as claimed; its BF is not closer to 1 (claim not
reproduced).
The numbers of a run are printed and written to ``nalsm_results.txt``.

Run: ``python examples/nalsm_digits.py [--quick] [--seeds 5] [--samples 1797]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import snnsim as snn

CONDITIONS = ("lsm", "lsm_stdp", "nalsm")
TAU_SYN = 1.5  # ms, one time constant for NALSM's tau_u in {1, 2} ms
#: Discrete area of NALSM's kernel exp(-s/tau)/tau summed over s = 0, 1, ..., mean over tau 1, 2.
KERNEL_AREA = 0.5 * sum(1.0 / (tau * (1.0 - math.exp(-1.0 / tau))) for tau in (1.0, 2.0))
LAMBDA = 3.0
C_CONN = {("E", "E"): 0.2, ("E", "I"): 0.1, ("I", "E"): 0.3, ("I", "I"): 0.05}
W_CLIP = 3.0  # NALSM units
ETA = 0.15  # potentiation rate, initial depression rate and astrocyte bias
TRACE_A, TRACE_TAU = 0.1, 10.0
REPLICAS = 5
INPUT_DENSITY = 0.15
PRESENT_MS, INIT_MS, BUFFER_MS, DELTA_MS = 250, 20, 25, 4
BF_SAMPLES = 20
#: NALSM's depression rate (-A x_i) -> snn.STDP's a_minus (fraction of w_max, 1 ms shift).
DEP_SCALE = TRACE_A * math.exp(-1.0 / TRACE_TAU) / W_CLIP
POT_SCALE = TRACE_A * math.exp(1.0 / TRACE_TAU) / W_CLIP

Liquid = dict[str, Any]


def to_na(w_nalsm: float) -> float:
    """NALSM weight (mV of charge per spike) -> snnsim nA onto TAU_SYN synapses, cm = 1 nF."""
    return w_nalsm * KERNEL_AREA / TAU_SYN


def load_data(n_samples: int, seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """First ``n_samples`` of a seeded permutation of ``load_digits``: pixels in [0, 1], labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))[:n_samples]
    return digits.data[order] / 16.0, digits.target[order].astype(np.int64)


def make_liquid(side: int, n_inputs: int, rng: np.random.Generator) -> Liquid:
    """Grid, E/I types, distance-dependent liquid synapses and input synapses (local indices)."""
    n = side**3
    pos = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(n, 3)
    is_exc = np.zeros(n, dtype=bool)
    is_exc[rng.permutation(n)[: round(0.8 * n)]] = True
    local = np.empty(n, dtype=np.int64)  # index within its own (E or I) population
    local[is_exc] = np.arange(is_exc.sum())
    local[~is_exc] = np.arange((~is_exc).sum())
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    kind = np.where(is_exc, "E", "I")
    prob = np.exp(-d2 / LAMBDA**2) * np.vectorize(lambda a, b: C_CONN[(a, b)])(
        kind[:, None], kind[None, :]
    )
    np.fill_diagonal(prob, 0.0)
    adj = rng.random((n, n)) < prob  # adj[j, i]: j -> i
    pairs = {}
    for a, ma in (("E", is_exc), ("I", ~is_exc)):
        for b, mb in (("E", is_exc), ("I", ~is_exc)):
            j, i = np.nonzero(adj & ma[:, None] & mb[None, :])
            pairs[a + b] = (local[j], local[i])
    inp = rng.random((n_inputs, n)) < INPUT_DENSITY
    sign = np.where(rng.random((n_inputs, n)) < 0.5, 1.0, -1.0)
    inputs = {}
    for b, mb in (("E", is_exc), ("I", ~is_exc)):
        for s in (1.0, -1.0):
            k, i = np.nonzero(inp & (sign == s) & mb[None, :])
            inputs[(b, s)] = (k, local[i])
    from scipy.sparse import csr_matrix

    return {"n": n, "is_exc": is_exc, "local": local, "adj": csr_matrix(adj.astype(np.float64)),
            "pairs": pairs, "inputs": inputs}  # fmt: skip


def input_trains(
    x: npt.NDArray[np.float64], steps: int, rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """NALSM input coding: Bernoulli(pixel) per 1 ms step, 2 steps refractory, REPLICAS per pixel.

    Returns a boolean array ``(len(x) * steps, 64 * REPLICAS)``: the samples back to back.
    """
    xr = np.repeat(x, REPLICAS, axis=1)
    out = np.zeros((len(x), steps, xr.shape[1]), dtype=bool)
    block = np.zeros(xr.shape, dtype=np.int64)
    for t in range(steps):
        fire = (rng.random(xr.shape) < xr) & (block == 0)
        out[:, t] = fire
        block = np.where(fire, 2, np.maximum(block - 1, 0))
    return out.reshape(len(x) * steps, xr.shape[1])


def build(
    liq: Liquid,
    trains: npt.NDArray[np.bool_],
    weights: dict[str, npt.NDArray[np.float64]],
    seed: int,
    plastic: str | None = None,
    w_astro: float = 0.0,
) -> dict[str, Any]:
    """Build the liquid, its inputs (spike times from ``trains``) and, for NALSM, the astrocyte.

    ``weights`` maps ``"EE", "EI", "IE", "II"`` to NALSM-unit weights, one per pair in
    ``liq["pairs"]``; ``plastic`` is None, ``"stdp"`` or ``"nalsm"``.
    """
    net = snn.Network(dt=1.0, seed=seed)
    lif = snn.LIF(tau_m=64.0, cm=1.0, v_rest=0.0, v_reset=0.0, v_thresh=20.0,
                  tau_syn_exc=TAU_SYN, tau_syn_inh=TAU_SYN, tau_refrac=2.0)  # fmt: skip
    liquid = net.add_population(liq["n"], lif, label="liquid")  # in grid order
    pops = {"E": liquid[np.nonzero(liq["is_exc"])[0]], "I": liquid[np.nonzero(~liq["is_exc"])[0]]}
    k_idx, t_idx = np.nonzero(trains.T)  # sorted by neuron, then time
    # A spike in step t of the coding is emitted at (t + 1) ms (times must be >= dt).
    times = np.split((t_idx + 1).astype(np.float64), np.cumsum(np.bincount(k_idx,
                     minlength=trains.shape[1]))[:-1])  # fmt: skip
    src = net.add_population(trains.shape[1], snn.SpikeSource(times=times), label="input")
    for (b, s), (k, i) in liq["inputs"].items():
        w = np.full(k.size, s * to_na(1.0))
        net.connect(src, pops[b], snn.FromList(k, i, weight=w, delay=np.ones(k.size)),
                    receptor="exc" if s > 0 else "inh")  # fmt: skip
    astro = None
    if plastic == "nalsm":
        # The astrocyte runs in NALSM's units; modulate's weight turns A into a_minus.
        astro = net.add_population(
            1, snn.Astrocyte(tau=100.0, bias=ETA, a_init=ETA),
            label="astro")  # fmt: skip
        net.connect(liquid, astro, snn.AllToAll(), weight=w_astro, delay=1.0)
        net.connect(src, astro, snn.AllToAll(), weight=-w_astro, delay=1.0)
    projs = {}
    for key, (j, i) in liq["pairs"].items():
        w = to_na(1.0) * weights[key]
        rule = None
        if plastic is not None and key[0] == "E":
            rule = snn.STDP(tau_plus=TRACE_TAU, tau_minus=TRACE_TAU, a_plus=POT_SCALE * ETA,
                            a_minus=DEP_SCALE * ETA, w_min=0.0, w_max=to_na(W_CLIP))  # fmt: skip
        projs[key] = net.connect(
            pops[key[0]], pops[key[1]], snn.FromList(j, i, weight=w, delay=np.ones(j.size)),
            receptor="exc" if key[0] == "E" else "inh", plasticity=rule)  # fmt: skip
        if astro is not None and rule is not None:
            net.modulate(astro, projs[key], effect="stdp_depression", weight=DEP_SCALE)
    rec = net.record_spikes(liquid)
    out = {"net": net, "liquid": liquid, "projs": projs, "rec": rec, "astro": astro}
    if astro is not None:
        out["astro_rec"] = net.record_state(astro, ["A"])
    return out


def liquid_raster(liq: Liquid, rec: Any, steps: int) -> npt.NDArray[np.bool_]:
    """Spikes of the liquid as a boolean ``(steps, n)`` array (row ``t``: stamp ``t + 1``)."""
    raster = np.zeros((steps, liq["n"]), dtype=bool)
    ok = (rec.steps >= 1) & (rec.steps <= steps)
    raster[rec.steps[ok] - 1, rec.ids[ok]] = True
    return raster


def branching_factor(raster: npt.NDArray[np.bool_], adj: Any) -> float:
    """NALSM's branching factor of one 250 ms window (``raster`` ``(250, n)``, ``adj[j, i]``)."""
    s = raster.astype(np.float64)
    steps = s.shape[0]
    cs = np.vstack([np.zeros((1, s.shape[1])), np.cumsum(s, axis=0)])
    t = np.arange(steps)
    back = cs[t] - cs[np.maximum(t - DELTA_MS, 0)]  # spikes in [t - 4, t)
    fwd = cs[np.minimum(t + 1 + DELTA_MS, steps)] - cs[np.minimum(t + 1, steps)]  # [t+1, t+5)
    pre = np.asarray((adj.T @ back.T).T)  # pre[t, n]: spikes of n's sources (adj[j, n])
    post = np.asarray((adj @ fwd.T).T)  # post[t, n]: spikes of n's targets (adj[n, i])
    win = np.zeros(steps, dtype=bool)
    win[BUFFER_MS : steps - BUFFER_MS] = True
    spk = raster & win[:, None]
    ratio = np.where(spk, post / np.maximum(pre, 1.0), 0.0).sum(0)
    count = spk.sum(0)
    active = count > 0
    return float(np.mean(ratio[active] / count[active])) if active.any() else float("nan")


def self_organise(
    liq: Liquid,
    x_init: npt.NDArray[np.float64],
    w_liq: float,
    plastic: str,
    w_astro: float,
    seed: int,
) -> tuple[dict[str, npt.NDArray[np.float64]], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Phase 1: digits 20 ms each with plasticity on. Returns weights, BF over time, A(t)."""
    rng = np.random.default_rng(seed + 1000)
    trains = input_trains(x_init, INIT_MS, rng)
    steps = trains.shape[0]
    weights = {k: np.full(j.size, w_liq if k[0] == "E" else -w_liq)
               for k, (j, _) in liq["pairs"].items()}  # fmt: skip
    m = build(liq, trains, weights, seed, plastic=plastic, w_astro=w_astro)
    m["net"].run(float(steps))
    raster = liquid_raster(liq, m["rec"], steps)
    bf_t = np.array([branching_factor(raster[a : a + PRESENT_MS], liq["adj"])
                     for a in range(0, steps - PRESENT_MS + 1, PRESENT_MS)])  # fmt: skip
    learned = dict(weights)
    for key, proj in m["projs"].items():
        if key[0] == "E":
            w = np.array([row[2] for row in proj.get("weight", format="list")])
            learned[key] = w / to_na(1.0)
    a_t = np.asarray(m["astro_rec"]["A"]).ravel() if m["astro"] is not None else np.zeros(0)
    return learned, bf_t, a_t


def evaluate_liquid(
    liq: Liquid,
    x: npt.NDArray[np.float64],
    weights: dict[str, npt.NDArray[np.float64]],
    seed: int,
) -> tuple[npt.NDArray[np.float64], float, float]:
    """Phase 2: frozen weights, 250 ms per digit, membrane reset to 0 before each.

    Returns the spike counts ``(len(x), n)``, the branching factor (mean over the first 20
    digits) and the mean liquid rate (Hz).
    """
    rng = np.random.default_rng(seed + 2000)
    trains = input_trains(x, PRESENT_MS, rng)
    m = build(liq, trains, weights, seed)
    net = m["net"]
    for _ in range(len(x)):
        # NALSM starts every sample from rest; the synaptic currents (1.5 ms) and the
        # refractory period (2 ms) are long over by the end of a digit, the membrane is not.
        m["liquid"].set_state("v", 0.0)
        net.run(float(PRESENT_MS))
    steps = len(x) * PRESENT_MS
    raster = liquid_raster(liq, m["rec"], steps)
    counts = raster.reshape(len(x), PRESENT_MS, -1).sum(1).astype(np.float64)
    bfs = [branching_factor(raster[k * PRESENT_MS : (k + 1) * PRESENT_MS], liq["adj"])
           for k in range(min(BF_SAMPLES, len(x)))]  # fmt: skip
    rate = counts.mean() / (PRESENT_MS * 1e-3)
    return counts, float(np.nanmean(bfs)), float(rate)


def cv_accuracy(counts: npt.NDArray[np.float64], y: npt.NDArray[np.int64], seed: int) -> float:
    """Mean stratified 5-fold accuracy of a standardised multinomial logistic readout."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = min(5, int(np.bincount(y).min()))
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, counts, y, cv=cv).mean())


def run_one(
    condition: str, seed: int, opts: argparse.Namespace, w_liq: float, w_astro: float = 0.0
) -> dict[str, Any]:
    """One liquid (seeded), one condition: returns accuracy, branching factor, rate, BF(t).

    With ``opts.cache`` (a JSON-lines file) a run already in the file with the same settings
    is read back instead of simulated, and every new run is appended: long sweeps resume.
    """
    key = [condition, seed, w_liq, w_astro, opts.samples, opts.n_init, opts.side]
    cache = Path(opts.cache) if opts.cache else None
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            row = json.loads(line)
            if row["key"] == key:
                row["bf_t"], row["a_t"] = np.array(row["bf_t"]), np.array(row["a_t"])
                print(f"  {condition:8s} seed {seed} w_liq {w_liq:.2f} w_astro {w_astro:.4f}: "
                      f"acc {row['acc']:.3f} BF {row['bf']:.3f} (cached)", flush=True)  # fmt: skip
                return dict(row)
    t0 = time.perf_counter()
    x, y = load_data(opts.samples, seed)
    rng = np.random.default_rng(seed)
    liq = make_liquid(opts.side, 64 * REPLICAS, rng)
    weights = {k: np.full(j.size, w_liq if k[0] == "E" else -w_liq)
               for k, (j, _) in liq["pairs"].items()}  # fmt: skip
    bf_t = a_t = np.zeros(0)
    if condition != "lsm":
        x_init, _ = load_data(opts.n_init, seed + 7)
        plastic = "nalsm" if condition == "nalsm" else "stdp"
        weights, bf_t, a_t = self_organise(liq, x_init, w_liq, plastic, w_astro, seed)
    counts, bf, rate = evaluate_liquid(liq, x, weights, seed)
    acc = cv_accuracy(counts, y, seed)
    mean_ee = float(np.mean(weights["EE"]))
    res = {"condition": condition, "seed": seed, "w_liq": w_liq, "w_astro": w_astro, "acc": acc,
           "bf": bf, "rate": rate, "bf_t": bf_t, "a_t": a_t, "mean_w_ee": mean_ee,
           "wall_s": time.perf_counter() - t0}  # fmt: skip
    print(f"  {condition:8s} seed {seed} w_liq {w_liq:.2f} w_astro {w_astro:.4f}: "
          f"acc {acc:.3f} BF {bf:.3f} rate {rate:.1f} Hz mean w_EE {mean_ee:.2f} "
          f"({res['wall_s']:.0f} s)", flush=True)  # fmt: skip
    if cache is not None:
        row = dict(res, key=key, bf_t=bf_t.tolist(), a_t=a_t.tolist())
        with cache.open("a") as f:
            f.write(json.dumps(row) + "\n")
    return res


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Mean and sd (ddof=1 when > 1 seed) of accuracy and branching factor."""
    acc = np.array([r["acc"] for r in rows])
    bf = np.array([r["bf"] for r in rows])
    dd = 1 if len(rows) > 1 else 0
    return {"acc": float(acc.mean()), "acc_sd": float(acc.std(ddof=dd)),
            "bf": float(np.nanmean(bf)), "bf_sd": float(np.nanstd(bf, ddof=dd)),
            "n": len(rows)}  # fmt: skip


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """Sweeps, then the comparison at the best settings over ``opts.seeds`` seeds."""
    seeds = list(range(opts.seed0, opts.seed0 + opts.seeds))
    sweep_seeds = seeds[: opts.sweep_seeds]
    print(f"liquid {opts.side}^3, {opts.samples} digits, {len(seeds)} seeds, "
          f"n_init {opts.n_init}", flush=True)  # fmt: skip
    sweeps: dict[str, dict[float, dict[str, float]]] = {"lsm": {}, "nalsm": {}}
    done: dict[tuple[str, int, float], dict[str, Any]] = {}  # sweep runs reused below
    print("LSM liquid-weight sweep", flush=True)
    for w in opts.w_liq:
        rows = [run_one("lsm", s, opts, w) for s in sweep_seeds]
        done.update({("lsm", r["seed"], w): r for r in rows})
        sweeps["lsm"][w] = summarise(rows)
    best_w = max(sweeps["lsm"], key=lambda w: sweeps["lsm"][w]["acc"])
    print("NALSM w_astro sweep", flush=True)
    for wa in opts.w_astro if "nalsm" in opts.conditions else []:
        rows = [run_one("nalsm", s, opts, opts.w_init, wa) for s in sweep_seeds]
        done.update({("nalsm", r["seed"], wa): r for r in rows})
        sweeps["nalsm"][wa] = summarise(rows)
    best_wa = max(sweeps["nalsm"], key=lambda w: sweeps["nalsm"][w]["acc"], default=0.0)
    print(f"comparison over {len(seeds)} seeds: best w_liq {best_w}, best w_astro {best_wa}")
    final: dict[str, list[dict[str, Any]]] = {c: [] for c in CONDITIONS if c in opts.conditions}
    for s in seeds:
        final["lsm"].append(done.get(("lsm", s, best_w)) or run_one("lsm", s, opts, best_w))
        if "lsm_stdp" in final:
            final["lsm_stdp"].append(run_one("lsm_stdp", s, opts, opts.w_init))
        if "nalsm" in final:
            row = done.get(("nalsm", s, best_wa))
            final["nalsm"].append(row or run_one("nalsm", s, opts, opts.w_init, best_wa))
    table = {c: summarise(rows) for c, rows in final.items()}
    return {"sweeps": sweeps, "best_w_liq": best_w, "best_w_astro": best_wa, "final": final,
            "table": table, "opts": vars(opts)}  # fmt: skip


def report(res: dict[str, Any]) -> str:
    """Format the sweeps and the results table as text."""
    lines = ["LSM sweep (liquid weight, NALSM units): acc / BF"]
    for w, s in res["sweeps"]["lsm"].items():
        lines.append(f"  w_liq {w:5.2f}: {s['acc']:.3f} +- {s['acc_sd']:.3f} / "
                     f"{s['bf']:.3f} +- {s['bf_sd']:.3f}  (n={s['n']})")  # fmt: skip
    lines.append("NALSM sweep (w_astro): acc / BF")
    for w, s in res["sweeps"]["nalsm"].items():
        lines.append(f"  w_astro {w:7.4f}: {s['acc']:.3f} +- {s['acc_sd']:.3f} / "
                     f"{s['bf']:.3f} +- {s['bf_sd']:.3f}  (n={s['n']})")  # fmt: skip
    lines.append(f"Results ({res['table']['lsm']['n']} seeds, mean +- sd)")
    lines.append(f"  {'condition':26s} {'accuracy':>16s} {'branching factor':>18s}")
    names = {"lsm": f"LSM (w_liq={res['best_w_liq']})", "lsm_stdp": "LSM+STDP",
             "nalsm": f"NALSM (w_astro={res['best_w_astro']})"}  # fmt: skip
    for c, s in res["table"].items():
        lines.append(f"  {names[c]:26s} {100 * s['acc']:7.2f} +- {100 * s['acc_sd']:4.2f} %"
                     f"   {s['bf']:7.3f} +- {s['bf_sd']:.3f}")  # fmt: skip
    return "\n".join(lines)


def plot(res: dict[str, Any], out_dir: Path) -> Path:
    """Branching factor over the self-organisation phase, A(t) and the sweeps."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for c, color in (("lsm_stdp", "tab:red"), ("nalsm", "tab:green")):
        for k, r in enumerate(res["final"].get(c, [])):
            t = (np.arange(r["bf_t"].size) + 0.5) * PRESENT_MS / 1000.0
            ax[0].plot(t, r["bf_t"], color=color, alpha=0.6, label=c if k == 0 else None)
            if c == "nalsm" and r["a_t"].size:
                ax[1].plot(np.arange(r["a_t"].size) / 1000.0, r["a_t"], color=color, alpha=0.6)
    for r in res["final"]["lsm"]:
        ax[0].axhline(r["bf"], color="tab:blue", ls=":", alpha=0.6)
    ax[0].axhline(1.0, color="k", lw=0.8)
    ax[0].set(xlabel="self-organisation time (s)", ylabel="branching factor",
              title="BF per 250 ms window (dotted: best LSM)")  # fmt: skip
    ax[0].legend()
    ax[1].set(xlabel="self-organisation time (s)", ylabel="A (NALSM units)",
              title="astrocyte = depression rate")  # fmt: skip
    lsm = res["sweeps"]["lsm"]
    ax[2].errorbar(
        [lsm[w]["bf"] for w in lsm],
        [lsm[w]["acc"] for w in lsm],
        yerr=[lsm[w]["acc_sd"] for w in lsm],
        fmt="o-",
        label="LSM (w_liq sweep)",
    )
    na = res["sweeps"]["nalsm"]
    ax[2].errorbar(
        [na[w]["bf"] for w in na],
        [na[w]["acc"] for w in na],
        yerr=[na[w]["acc_sd"] for w in na],
        fmt="s-",
        label="NALSM (w_astro sweep)",
    )
    if "lsm_stdp" in res["table"]:
        st = res["table"]["lsm_stdp"]
        ax[2].errorbar([st["bf"]], [st["acc"]], yerr=[st["acc_sd"]], fmt="^", label="LSM+STDP")
    ax[2].set(xlabel="branching factor", ylabel="CV accuracy", title="accuracy vs BF")
    ax[2].legend()
    fig.tight_layout()
    path = out_dir / "nalsm_digits.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--quick``: a 5^3 liquid, 60 digits, one seed, seconds)."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny size for the tests")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--seed0", type=int, default=1)
    p.add_argument("--sweep-seeds", type=int, default=2, help="seeds per sweep point")
    p.add_argument("--samples", type=int, default=1797, help="digits evaluated (<= 1797)")
    p.add_argument("--n-init", type=int, default=1000, help="digits in self-organisation")
    p.add_argument("--side", type=int, default=10, help="liquid grid side (10: 1000 neurons)")
    p.add_argument("--w-init", type=float, default=1.0, help="initial liquid weight (STDP)")
    p.add_argument("--w-liq", type=float, nargs="+", default=[0.4, 0.6, 0.8, 1.0, 1.2, 1.4])
    p.add_argument("--w-astro", type=float, nargs="+", default=[0.005, 0.01, 0.015, 0.02])
    p.add_argument(
        "--conditions",
        nargs="+",
        default=list(CONDITIONS),
        choices=CONDITIONS,
        help="lsm always runs (its sweep picks the liquid weight)",
    )
    p.add_argument("--cache", default=None, help="JSON-lines file of finished runs (resume)")
    p.add_argument("--out-dir", default=".")
    opts = p.parse_args(argv)
    if opts.quick:
        opts.side, opts.samples, opts.n_init, opts.seeds, opts.sweep_seeds = 5, 60, 30, 1, 1
        opts.w_liq, opts.w_astro = [0.8, 1.2], [0.015]
    return opts


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison, print the table and write ``nalsm_digits.png``."""
    opts = parse(argv)
    out_dir = Path(opts.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    res = run(opts)
    text = report(res)
    print(text)
    (out_dir / "nalsm_results.txt").write_text(text + "\n")
    res["plot"] = plot(res, out_dir)
    return res


if __name__ == "__main__":
    main()
