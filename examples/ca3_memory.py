r"""CA3 content-addressable memory: STDP on recurrent synapses stores patterns, a fragment recalls.

In the spirit of the hippocampal CA3 memory that Casanueva-Morato et al. ran on SpiNNaker
("Bio-inspired spiking neural network for a hippocampal CA3 content-addressable memory",
2023/2024): a recurrently connected excitatory population learns binary patterns with
spike-timing-dependent plasticity and completes a pattern from a fragment of it. This is
not their circuit (no separate cue/content populations); it is the classic auto-associative
form, built only from what a SpiNNaker board runs, so ``--export-pynn`` writes it as a PyNN
script (``IF_curr_exp``, ``SpikeSourceArray``, static and STDP projections).

Network (``dt = 1 ms``)
-----------------------
- ``dg``: ``N`` spike sources (the dentate-gyrus / mossy-fibre drive), one-to-one onto
  ``ca3`` with a weight (4 nA) that makes one input spike fire its neuron.
- ``ca3``: ``N`` ``snn.LIF`` neurons (``tau_m`` 10 ms, ``cm`` 0.25 nF, 10 mV from rest to
  threshold, ``tau_syn_exc`` 2 ms). One synchronous spike of ``w`` nA raises ``v`` by about
  :math:`5.35\,w` mV, so about two coincident inputs at ``w_max`` fire a neuron.
- ``ca3 -> ca3``: all-to-all without autapses, delay 1 ms, plastic:
  ``snn.STDP(tau_plus=20, tau_minus=20, a_plus=0.2, a_minus=0.3, w_min=0, w_max=1.0 nA,
  additive, pairing="all")`` (PyNN ``SpikePairRule`` + ``AdditiveWeightDependence``),
  initial weight 0 (a small initial weight let background pairings grow spurious links).
- ``inh``: ``N/10`` fast ``snn.LIF`` neurons (``tau_m`` 5 ms, ``tau_syn_exc`` 1.5 ms),
  ``ca3 -> inh`` (3 nA / k: about k coincident spikes fire them) and ``inh -> ca3``
  (-0.5 nA) static all-to-all: global feedback inhibition that ends a volley or recall wave.

Protocol
--------
*Learning*: each pattern (``k = N/10`` active neurons) is presented as 8 synchronous input
volleys 40 ms apart (pattern neurons fire together: every pair gets a pre-before-post pairing
of 1 ms, the dendritic delay, so their mutual weights grow to ``w_max``); between patterns,
and throughout, every ``dg`` source also fires Poisson background spikes at 0.5 Hz, whose random
pairings with ``a_minus > a_plus`` make unused weights drift down (the palimpsest that can
forget old patterns). *Recall*: a static copy of the network with the learned weights; one
volley of a random fraction (the cue) of a stored pattern's neurons; the recalled set is the
neurons that fire within 40 ms. Scores per trial, against the pattern's neurons not in the cue:
``recall`` = retrieved fraction of them, ``precision`` = fraction of the retrieved non-cue
neurons that are in the pattern (1 if nothing fired), ``jaccard`` = |(cue + retrieved) ∩
pattern| / |(cue + retrieved) ∪ pattern|.

Pattern sets: ``orthogonal`` (disjoint) and ``overlapping`` (each pattern shares a quarter of
its neurons with the previous one). Reported: scores against cue size (10 % ... 90 %, 8 stored
patterns) and against the number of stored patterns (cue 50 %: all stored patterns, and the
first one, which shows forgetting); a plot ``ca3_memory.png``.

Measured (full size, ``python examples/ca3_memory.py --out-dir /tmp/ca3``, N = 200, k = 20,
seed 1; P precision, R recall):

================  ======================================  ======================================
8 patterns        orthogonal                              overlapping (1/4 shared with the next)
================  ======================================  ======================================
learned weights   0.992 nA within, 0.018 nA elsewhere     0.734 nA within, 0.201 nA elsewhere
cue 10 %          P 0.70, R 1.00, Jaccard 0.72        P 0.19, R 0.69, Jaccard 0.17
cue 50 %          P 0.61, R 1.00, Jaccard 0.74        P 0.05, R 0.50, Jaccard 0.15
cue 90 %          P 0.26, R 1.00, Jaccard 0.68        P 0.02, R 1.00, Jaccard 0.17
================  ======================================  ======================================

Jaccard at cue 50 % against the number stored (all stored / first pattern): orthogonal
1: 0.71/0.71, 2: 0.87/0.87, 4: 0.71/0.80, 8: 0.74/0.83 (at most 10 disjoint patterns fit);
overlapping 1: 0.65/0.65, 2: 0.44/0.51, 4: 0.25/0.28, 8: 0.17/0.22, 12: 0.16/0.18,
16: 0.12/0.12. Honest reading: orthogonal patterns are completed from any cue, even 2
neurons, but the recall wave also recruits extra neurons (precision 0.26 to 0.70); with
overlapping patterns the wave spreads through the shared neurons into the chained patterns
and recall is poor (Jaccard <= 0.21 at 8 stored). The first pattern's recall falls as more
overlapping patterns are stored: that is interference, not the clean "overwrite" of the
paper; with orthogonal patterns nothing is forgotten within 8 patterns (the 0.5 Hz
background with ``a_minus > a_plus`` is too weak a palimpsest to show). Not tuned further.

Run: ``python examples/ca3_memory.py [--quick] [--seed N] [--out-dir DIR]
[--export-pynn PATH] [--check-pynn-nest DIR]``. ``--check-pynn-nest`` (PyNN and NEST
installed) learns and recalls 8 orthogonal patterns from exported PyNN scripts on
``pyNN.nest`` and compares spikes, learned weights and recall with snnsim
(:func:`check_on_pynn_nest`).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

import snnsim as snn

#: sizes: (N neurons, patterns stored at most, recall trials per point)
SIZES = {"quick": (60, 8, 2), "full": (200, 16, 4)}
CUES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
LIF = {
    "tau_m": 10.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -70.0, "v_thresh": -55.0,
    "tau_syn_exc": 2.0, "tau_syn_inh": 5.0, "tau_refrac": 5.0,
}  # fmt: skip
#: fast interneurons: they must fire before recurrent excitation recruits other neurons
LIF_INH = {**LIF, "tau_m": 5.0, "tau_syn_exc": 1.5}
W_IN = 4.0  # nA: one dg spike fires its ca3 neuron
W_IE = -0.5  # nA: inh -> ca3 (ca3 -> inh: 3 nA / k: about k coincident spikes fire inh)
RULE = snn.STDP(
    tau_plus=20.0, tau_minus=20.0, a_plus=0.2, a_minus=0.3, w_min=0.0, w_max=1.0,
    weight_dependence="additive", pairing="all",
)  # fmt: skip
W0 = 0.0
VOLLEYS, VOLLEY_MS, PATTERN_MS = 8, 40.0, 350.0  # learning: 8 volleys, 350 ms per pattern
BACKGROUND_HZ = 0.5
TRIAL_MS, WINDOW_MS = 100.0, 40.0  # recall: one cue volley per trial, spikes within 40 ms


def make_patterns(n: int, count: int, kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` patterns of ``n // 10`` neurons: disjoint, or chained with 1/4 overlap."""
    k = n // 10
    if kind == "orthogonal":
        if count * k > n:
            raise ValueError(f"{count} disjoint patterns of {k} need {count * k} > {n} neurons")
        perm = rng.permutation(n)
        return [np.sort(perm[i * k : (i + 1) * k]) for i in range(count)]
    shared = k // 4
    out = [np.sort(rng.choice(n, k, replace=False))]
    for _ in range(count - 1):
        keep = rng.choice(out[-1], shared, replace=False)
        rest = rng.choice(np.setdiff1d(np.arange(n), out[-1]), k - shared, replace=False)
        out.append(np.sort(np.concatenate((keep, rest))))
    return out


def _populations(net: snn.Network, n: int, times: list[list[float]]) -> tuple[Any, Any, Any]:
    dg = net.add_population(n, snn.SpikeSource(times=times), label="dg")
    ca3 = net.add_population(n, snn.LIF(**LIF), label="ca3")
    inh = net.add_population(max(1, n // 10), snn.LIF(**LIF_INH), label="inh")
    net.connect(dg, ca3, snn.OneToOne(), weight=W_IN, delay=1.0)
    net.connect(ca3, inh, snn.AllToAll(), weight=3.0 / max(1, n // 10), delay=1.0)
    net.connect(inh, ca3, snn.AllToAll(), weight=W_IE, delay=1.0, receptor="inh")
    return dg, ca3, inh


def learning_network(
    n: int, patterns: list[np.ndarray], rng: np.random.Generator, final_volley: bool = False
) -> tuple[snn.Network, snn.Projection, float]:
    """Build the plastic network with its input schedule; return it, the STDP projection, T.

    ``final_volley``: every ``dg`` source also fires at ``T - 5`` ms (no background spike
    after ``T - 30``), so every ``ca3`` neuron's last spike is at ``T - 3``. NEST applies a
    synapse's facilitations only at its next presynaptic spike, so at the end every
    recurrent synapse has exactly one facilitation pending in NEST, the same for all: its
    presynaptic spike of ``T - 3`` paired with the postsynaptic one reaching the synapse a
    dendritic delay later, :math:`a_+ w_{max} K_+` (clipped at ``w_max``; :math:`K_+`
    the presynaptic trace there).
    ``proj.get`` includes it (:mod:`snnsim.plasticity`); :func:`check_on_pynn_nest` adds
    it to NEST's weights before comparing.
    """
    duration = PATTERN_MS * len(patterns) + 50.0
    last = duration - 30.0 if final_volley else duration
    times: list[set[float]] = [set() for _ in range(n)]
    for p, pat in enumerate(patterns):
        for v in range(VOLLEYS):
            for i in pat:
                times[i].add(10.0 + p * PATTERN_MS + v * VOLLEY_MS)
    for i in range(n):  # Poisson background, on the 1 ms grid
        k = rng.poisson(BACKGROUND_HZ * duration * 1e-3)
        times[i] |= {float(t) for t in rng.integers(1, int(duration), k) if t < last}
        if final_volley:
            times[i].add(duration - 5.0)
    net = snn.Network(dt=1.0, seed=int(rng.integers(1 << 31)))
    _, ca3, _ = _populations(net, n, [sorted(t) for t in times])
    rec = net.connect(
        ca3, ca3, snn.AllToAll(allow_self=False), weight=W0, delay=1.0, plasticity=RULE
    )
    return net, rec, duration


def learn(n: int, patterns: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Run the learning network; return the learned ``(n, n)`` weights (pre, post), nA."""
    net, rec, duration = learning_network(n, patterns, rng)
    net.run(duration)
    w = np.zeros((n, n))
    for i, j, x in rec.get(["weight"], format="list"):
        w[i, j] = x
    return w


def recall(
    w: np.ndarray, patterns: list[np.ndarray], cue_fraction: float, trials: int,
    rng: np.random.Generator,
) -> dict[str, float]:  # fmt: skip
    """Cue every pattern ``trials`` times in a static copy; mean precision/recall/jaccard."""
    net, sp, cues, duration = recall_network(w, patterns, cue_fraction, trials, rng)
    net.run(duration)
    return score(sp.times, sp.ids, cues)


def recall_network(
    w: np.ndarray, patterns: list[np.ndarray], cue_fraction: float, trials: int,
    rng: np.random.Generator,
) -> tuple[snn.Network, Any, list[tuple[float, np.ndarray, np.ndarray]], float]:  # fmt: skip
    """Build the static recall network; return it, its ``ca3`` spike recorder, the cues, T.

    The cues are ``(t, pattern, cue neurons)``, one volley each at ``t``.
    """
    n = w.shape[0]
    cues, times = [], [[] for _ in range(n)]
    t = 10.0
    for pat in patterns:
        for _ in range(trials):
            m = max(1, round(cue_fraction * pat.size))
            cue = rng.choice(pat, m, replace=False)
            for i in cue:
                times[i].append(t)
            cues.append((t, pat, cue))
            t += TRIAL_MS
    net = snn.Network(dt=1.0, seed=int(rng.integers(1 << 31)))
    _, ca3, _ = _populations(net, n, times)
    pre, post = np.nonzero(w > 0)
    net.connect(ca3, ca3, snn.FromList(pre, post, w[pre, post], np.ones(pre.size)))
    sp = net.record_spikes(ca3)
    return net, sp, cues, t


def score(
    times: np.ndarray, ids: np.ndarray, cues: list[tuple[float, np.ndarray, np.ndarray]]
) -> dict[str, float]:
    """Mean precision, recall and Jaccard of the ``ca3`` spikes ``(times, ids)`` per cue."""
    scores = []
    for t0, pat, cue in cues:
        sel = (times > t0) & (times <= t0 + WINDOW_MS)
        fired = set(ids[sel].tolist())
        target = set(pat.tolist()) - set(cue.tolist())
        got = fired - set(cue.tolist())
        hit = len(got & target)
        everything = got | set(cue.tolist())
        scores.append(
            (
                hit / len(got) if got else 1.0,
                hit / len(target) if target else 1.0,
                len(everything & set(pat.tolist())) / len(everything | set(pat.tolist())),
            )
        )
    s = np.asarray(scores)
    return {"precision": float(s[:, 0].mean()), "recall": float(s[:, 1].mean()),
            "jaccard": float(s[:, 2].mean())}  # fmt: skip


def run(quick: bool = False, seed: int = 1, out_dir: str = ".") -> dict[str, Any]:
    """Learn both pattern sets, measure recall; returns the numbers and writes the plot."""
    n, p_max, trials = SIZES["quick" if quick else "full"]
    rng = np.random.default_rng(seed)
    counts = [c for c in (1, 2, 4, 8, 12, 16) if c <= p_max]
    result: dict[str, Any] = {"n": n, "k": n // 10, "cues": list(CUES), "counts": counts}
    for kind in ("orthogonal", "overlapping"):
        n_pat = min(p_max, n // (n // 10)) if kind == "orthogonal" else p_max
        pats = make_patterns(n, n_pat, kind, rng)
        w8 = learn(n, pats[:8], rng)
        result[kind] = {"cue": [recall(w8, pats[:8], c, trials, rng) for c in CUES]}
        result[kind]["weights_in"] = float(np.mean([w8[np.ix_(p, p)].sum() / (p.size * (p.size - 1))
                                                    for p in pats[:8]]))  # fmt: skip
        mask = np.ones_like(w8, dtype=bool)
        for p in pats[:8]:
            mask[np.ix_(p, p)] = False
        np.fill_diagonal(mask, False)
        result[kind]["weights_out"] = float(w8[mask].mean())
        load, first = [], []
        for c in counts:
            if c > len(pats):
                continue
            w = w8 if c == 8 else learn(n, pats[:c], rng)
            load.append(recall(w, pats[:c], 0.5, trials, rng))
            first.append(recall(w, pats[:1], 0.5, trials, rng))
        result[kind]["load"] = load
        result[kind]["first"] = first
    _plot(result, os.path.join(out_dir, "ca3_memory.png"))
    return result


def _plot(r: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_c, ax_n) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for kind, color in (("orthogonal", "C0"), ("overlapping", "C3")):
        cue = r[kind]["cue"]
        ax_c.plot(r["cues"], [s["recall"] for s in cue], "-o", c=color, label=f"{kind}: recall")
        ax_c.plot(r["cues"], [s["precision"] for s in cue], "--s", c=color,
                  label=f"{kind}: precision")  # fmt: skip
        n_load = len(r[kind]["load"])
        counts = r["counts"][:n_load]
        ax_n.plot(counts, [s["jaccard"] for s in r[kind]["load"]], "-o", c=color,
                  label=f"{kind}: all stored")  # fmt: skip
        ax_n.plot(counts, [s["jaccard"] for s in r[kind]["first"]], ":^", c=color,
                  label=f"{kind}: first pattern")  # fmt: skip
    ax_c.set_xlabel("cue size (fraction of the pattern)")
    ax_c.set_ylabel("score (8 patterns stored)")
    ax_c.set_ylim(-0.05, 1.05)
    ax_c.legend(fontsize=7)
    ax_n.set_xlabel("patterns stored")
    ax_n.set_ylabel("Jaccard overlap with the pattern (cue 50 %)")
    ax_n.set_ylim(-0.05, 1.05)
    ax_n.legend(fontsize=7)
    fig.suptitle(f"CA3 memory: N = {r['n']}, patterns of {r['k']} neurons, STDP recurrent")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def export(path: str, quick: bool = False, seed: int = 1) -> Any:
    """Export the learning network (8 overlapping patterns) with ``hw.export(net, "pynn")``.

    Returns the ``hw.check(net, "spinnaker1")`` report.
    """
    from snnsim import hardware as hw

    n, _, _ = SIZES["quick" if quick else "full"]
    rng = np.random.default_rng(seed)
    net, _, duration = learning_network(n, make_patterns(n, 8, "overlapping", rng), rng)
    net.record_spikes(net.populations[1])
    report = hw.check(net, "spinnaker1")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    hw.export(net, "pynn", path, duration=duration)
    return report


def _run_on_pynn_nest(net: snn.Network, duration: float, path: str) -> dict[str, np.ndarray]:
    """Export ``net`` with ``hw.export(net, "pynn")``, run it on ``pyNN.nest``, load its results."""
    import subprocess
    import sys

    from snnsim import hardware as hw

    hw.export(net, "pynn", path, duration=duration)
    out = os.path.splitext(path)[0] + "_results.npz"
    done = subprocess.run(
        [sys.executable, path, "--backend", "nest", "--out", out], capture_output=True,
        text=True, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{path} on pyNN.nest failed:\n{done.stderr[-3000:]}")
    with np.load(out) as res:
        return {k: res[k] for k in res.files}


def check_on_pynn_nest(quick: bool = False, seed: int = 1, work_dir: str = ".") -> dict[str, Any]:
    """Learn and recall 8 orthogonal patterns in snnsim and on ``pyNN.nest`` from exported scripts.

    1. The learning network (with a final volley, see :func:`learning_network`) runs in
       snnsim and, exported with ``hw.export(net, "pynn")``, on ``pyNN.nest`` (NEST
       ``stdp_synapse`` through PyNN's ``STDPMechanism``): ``ca3`` spikes and the learned
       weights are compared.
    2. The recall network built with NEST's learned weights (cue 50 %) runs in both:
       ``ca3`` spikes and the recall scores are compared.

    Needs PyNN and NEST (``pip install "snnsim[pynn]"``). Returns the numbers.
    """
    n, _, trials = SIZES["quick" if quick else "full"]
    rng = np.random.default_rng(seed)
    pats = make_patterns(n, 8, "orthogonal", rng)
    net, proj, duration = learning_network(n, pats, rng, final_volley=True)
    ca3 = net.populations[1]
    sp = net.record_spikes(ca3)
    os.makedirs(work_dir, exist_ok=True)
    res = _run_on_pynn_nest(net, duration, os.path.join(work_dir, "ca3_learning.py"))
    net.run(duration)
    w_snn = np.zeros((n, n))
    for i, j, x in proj.get(["weight"], format="list"):
        w_snn[i, j] = x
    w_nest = np.zeros((n, n))
    for i, j, x in res[f"proj{proj.index}_exc/weights"]:
        w_nest[int(i), int(j)] = x
    # every neuron's last spike is the final volley: one facilitation pending in NEST, with
    # the presynaptic trace (all of the neuron's spikes) where the postsynaptic spike of
    # T - 3 reaches the synapse, T - 2 (NEST's Kplus_ * exp(minus_dt / tau_plus))
    t_end = duration - 3.0
    last = np.array([sp.times[sp.ids == i].max() for i in range(n)])
    assert np.all(last == t_end), "a ca3 neuron spiked after the final volley"
    k_plus = np.array([np.exp(-(t_end + 1.0 - sp.times[sp.ids == i]) / RULE.tau_plus).sum()
                       for i in range(n)])  # fmt: skip
    pending = RULE.a_plus * RULE.w_max * k_plus[:, None]
    w_nest_now = np.minimum(w_nest + pending, RULE.w_max)
    np.fill_diagonal(w_nest_now, 0.0)
    out: dict[str, Any] = {
        "n": n,
        "learn_spikes": int(sp.times.size),
        "learn_spikes_equal": bool(
            np.array_equal(np.rint(res["ca3/spike_times"]), sp.times)
            and np.array_equal(res["ca3/spike_ids"], sp.ids)
        ),
        "weight_max_diff": float(np.abs(w_snn - w_nest_now).max()),
    }
    out["weights_in"] = float(
        np.mean([w_nest[np.ix_(p, p)].sum() / (p.size * (p.size - 1)) for p in pats])
    )
    rnet, rsp, cues, rdur = recall_network(w_nest, pats, 0.5, trials, rng)
    rres = _run_on_pynn_nest(rnet, rdur, os.path.join(work_dir, "ca3_recall.py"))
    rnet.run(rdur)
    out["recall_spikes"] = int(rsp.times.size)
    out["recall_spikes_equal"] = bool(
        np.array_equal(np.rint(rres["ca3/spike_times"]), rsp.times)
        and np.array_equal(rres["ca3/spike_ids"], rsp.ids)
    )
    out["recall_snnsim"] = score(rsp.times, rsp.ids, cues)
    out["recall_nest"] = score(np.rint(rres["ca3/spike_times"]), rres["ca3/spike_ids"], cues)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the command line (options: see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small size (seconds)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", default=".", help="where the PNG goes")
    parser.add_argument("--export-pynn", default=None, help="also write the PyNN script here")
    parser.add_argument(
        "--check-pynn-nest", default=None, metavar="DIR",
        help="also learn and recall on pyNN.nest from exported scripts written to DIR",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.check_pynn_nest:
        c = check_on_pynn_nest(args.quick, args.seed, args.check_pynn_nest)
        print(f"pyNN.nest (exported scripts in {args.check_pynn_nest}), N = {c['n']}, "
              "8 orthogonal patterns:")  # fmt: skip
        print(
            f"  learning: {c['learn_spikes']} ca3 spikes, identical to snnsim: "
            f"{c['learn_spikes_equal']}; learned weights max |diff| "
            f"{c['weight_max_diff']:.2e} nA (mean within patterns {c['weights_in']:.3f})"
        )
        print(
            f"  recall (cue 50 %, NEST's weights): {c['recall_spikes']} ca3 spikes, identical: "
            f"{c['recall_spikes_equal']}; snnsim {c['recall_snnsim']}, NEST {c['recall_nest']}"
        )
    if args.export_pynn:
        report = export(args.export_pynn, args.quick, args.seed)
        print(report)
        print(f"wrote {args.export_pynn}")
    r = run(quick=args.quick, seed=args.seed, out_dir=args.out_dir)
    print(f"N = {r['n']} ca3 neurons, patterns of {r['k']}")
    for kind in ("orthogonal", "overlapping"):
        print(f"{kind}: mean learned weight within patterns {r[kind]['weights_in']:.3f} nA, "
              f"elsewhere {r[kind]['weights_out']:.4f} nA (w_max {RULE.w_max})")  # fmt: skip
        print("  cue  precision  recall  jaccard   (8 patterns stored)")
        for c, s in zip(r["cues"], r[kind]["cue"], strict=True):
            print(f"  {c:.1f}  {s['precision']:9.3f}  {s['recall']:6.3f}  {s['jaccard']:7.3f}")
        print("  stored  jaccard(all)  jaccard(first)   (cue 50 %)")
        for c, a, f in zip(r["counts"], r[kind]["load"], r[kind]["first"], strict=False):
            print(f"  {c:6d}  {a['jaccard']:12.3f}  {f['jaccard']:14.3f}")
    print(f"wrote {os.path.join(args.out_dir, 'ca3_memory.png')}")
    return r


if __name__ == "__main__":
    main()
