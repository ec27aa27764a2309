"""STDP against NEST 3.10 ``stdp_synapse`` / ``stdp_nn_symm_synapse`` (weights and spikes).

Random protocols: presynaptic spike trains (snnsim ``SpikeSource``; NEST ``spike_generator``
-> ``parrot_neuron``, since NEST plastic synapses cannot start at a device), postsynaptic
``iaf_psc_exp`` neurons (snnsim ``LIF``) driven to spike at random times by strong static
inputs and also by the plastic synapses themselves, heterogeneous delays (all dendritic, as
in NEST), random initial weights. Every presynaptic neuron spikes once more at the end so
that NEST applies every pending facilitation; snnsim runs exactly to that spike (its weights
then hold every pairing up to it, NEST's after delivering it). Learned weights must agree to
1e-9 relative (NEST in pA, snnsim in nA) and the postsynaptic spikes exactly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers_nest import import_nest

pytestmark = pytest.mark.validation

DT = 0.1
T_END = 400.0  # ms: the final presynaptic spike of every source
N_PRE, N_POST = 8, 3
LIF_PARAMS = {
    "tau_m": 10.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0,
    "tau_refrac": 2.0, "tau_syn_exc": 0.5, "tau_syn_inh": 0.5, "i_offset": 0.0,
}  # fmt: skip
DRIVE = 20.0  # nA: one driver spike makes the postsynaptic neuron fire


@dataclass
class Protocol:
    pre_times: list[np.ndarray]
    drive_times: list[np.ndarray]
    pre: np.ndarray
    post: np.ndarray
    w0: np.ndarray
    delay: np.ndarray
    rule: snn.STDP


def _train(rng: np.random.Generator, rate: float, start: float, min_isi: float) -> np.ndarray:
    steps = np.arange(round(start / DT), round((T_END - 5.0) / DT))
    k = rng.binomial(steps.size, rate * DT * 1e-3)
    st = np.sort(rng.choice(steps, size=k, replace=False))
    keep = [st[0]] if st.size else []
    for s in st[1:]:
        if (s - keep[-1]) * DT >= min_isi:
            keep.append(s)
    return np.asarray(keep, dtype=np.int64) * DT


def make_protocol(seed: int, dependence: str, pairing: str, sign: int) -> Protocol:
    rng = np.random.default_rng(seed)
    # the first presynaptic spike precedes every postsynaptic one (NEST's nearest-neighbour
    # rule pairs earlier postsynaptic spikes with a phantom presynaptic spike at t = 0)
    pre_times = [
        np.concatenate(([0.5], _train(rng, 40.0, 1.0, 0.1), [T_END])) for _ in range(N_PRE)
    ]
    drive_times = [_train(rng, 25.0, 5.0, 4.0) for _ in range(N_POST)]
    pre, post = (a.ravel() for a in np.meshgrid(np.arange(N_PRE), np.arange(N_POST), indexing="ij"))
    w_max = 0.5 * sign
    a_plus = 0.05 if seed % 2 else 0.3  # even seeds: large steps, weights hit the bounds
    rule = snn.STDP(
        tau_plus=15.0 + 10 * rng.random(), tau_minus=25.0 + 10 * rng.random(), a_plus=a_plus,
        a_minus=1.2 * a_plus, w_min=0.0, w_max=w_max, weight_dependence=dependence, pairing=pairing,
    )  # fmt: skip
    w0 = rng.uniform(0.1, 0.9, pre.size) * w_max
    delay = rng.integers(1, 31, pre.size) * DT  # 0.1 .. 3.0 ms
    return Protocol(pre_times, drive_times, pre, post, w0, delay, rule)


def run_snnsim(p: Protocol, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    net = snn.Network(dt=DT, seed=1, threads=threads)
    src = net.add_population(N_PRE, snn.SpikeSource(times=[t.tolist() for t in p.pre_times]))
    drv = net.add_population(N_POST, snn.SpikeSource(times=[t.tolist() for t in p.drive_times]))
    post = net.add_population(N_POST, snn.LIF(**LIF_PARAMS))
    net.connect(drv, post, snn.OneToOne(), weight=DRIVE, delay=DT)
    receptor = "exc" if p.rule.w_max > 0 else "inh"
    proj = net.connect(
        src, post, snn.FromList(p.pre, p.post, p.w0, p.delay), receptor=receptor,
        plasticity=p.rule,
    )  # fmt: skip
    sp = net.record_spikes(post)
    net.run(T_END)
    table = proj.table()
    order = np.lexsort((table.post, table.pre))
    return table.weight[order], sp.times.copy(), sp.ids.copy()


def run_nest(p: Protocol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nest = import_nest()
    nest.SetKernelStatus({"resolution": DT, "local_num_threads": 1, "print_time": False})
    lp = LIF_PARAMS
    post = nest.Create(
        "iaf_psc_exp", N_POST,
        params={
            "C_m": 1000.0 * lp["cm"], "tau_m": lp["tau_m"], "E_L": lp["v_rest"],
            "V_reset": lp["v_reset"], "V_th": lp["v_thresh"], "t_ref": lp["tau_refrac"],
            "tau_syn_ex": lp["tau_syn_exc"], "tau_syn_in": lp["tau_syn_inh"], "V_m": lp["v_rest"],
            "tau_minus": p.rule.tau_minus,
        },
    )  # fmt: skip
    # generator -> parrot adds one step: the parrots spike at the snnsim source times
    gens = nest.Create(
        "spike_generator", N_PRE, params=[{"spike_times": (t - DT).tolist()} for t in p.pre_times]
    )
    parrots = nest.Create("parrot_neuron", N_PRE)
    nest.Connect(gens, parrots, "one_to_one", {"delay": DT})
    drv = nest.Create(
        "spike_generator", N_POST, params=[{"spike_times": t.tolist()} for t in p.drive_times]
    )
    nest.Connect(drv, post, "one_to_one", {"weight": 1000.0 * DRIVE, "delay": DT})
    r = p.rule
    model = "stdp_synapse" if r.pairing == "all" else "stdp_nn_symm_synapse"
    mu = 0.0 if r.weight_dependence == "additive" else 1.0
    nest.CopyModel(
        model, "plastic",
        {"tau_plus": r.tau_plus, "lambda": r.a_plus, "alpha": r.a_minus / r.a_plus,
         "mu_plus": mu, "mu_minus": mu, "Wmax": 1000.0 * r.w_max, "weight": 1000.0 * r.w_max},
    )  # fmt: skip
    nest.Connect(
        (p.pre + parrots[0].global_id).tolist(), (p.post + post[0].global_id).tolist(),
        "one_to_one",
        {"synapse_model": "plastic", "weight": 1000.0 * p.w0, "delay": p.delay},
    )  # fmt: skip
    sr = nest.Create("spike_recorder")
    nest.Connect(post, sr)
    nest.Simulate(T_END + 10.0)  # the final presynaptic spikes are delivered
    conns = nest.GetConnections(parrots, post)
    src = np.asarray(conns.get("source")) - parrots[0].global_id
    tgt = np.asarray(conns.get("target")) - post[0].global_id
    w = np.asarray(conns.get("weight"), dtype=float) / 1000.0
    order = np.lexsort((tgt, src))
    ev = sr.get("events")
    times = np.asarray(ev["times"], dtype=float)
    ids = np.asarray(ev["senders"], dtype=np.int64) - post[0].global_id
    keep = times <= T_END + 1e-9
    o = np.lexsort((ids[keep], times[keep]))
    return w[order], times[keep][o], ids[keep][o]


CASES = [
    ("additive", "all", 1),
    ("multiplicative", "all", 1),
    ("additive", "nearest", 1),
    ("multiplicative", "nearest", 1),
    ("additive", "all", -1),
    ("multiplicative", "nearest", -1),
]


@pytest.mark.parametrize("seed", [3, 8])
@pytest.mark.parametrize(("dependence", "pairing", "sign"), CASES)
def test_stdp_matches_nest(seed: int, dependence: str, pairing: str, sign: int) -> None:
    p = make_protocol(seed, dependence, pairing, sign)
    w_nest, t_nest, i_nest = run_nest(p)
    w_ours, t_ours, i_ours = run_snnsim(p)
    o = np.lexsort((i_ours, t_ours))
    np.testing.assert_array_equal(i_ours[o], i_nest)
    np.testing.assert_allclose(t_ours[o], t_nest, rtol=0, atol=1e-9)
    assert t_nest.size > 20  # the protocol has postsynaptic spikes to pair with
    assert np.max(np.abs(w_nest - p.w0)) > 0.01 * abs(p.rule.w_max)  # learning happened
    np.testing.assert_allclose(w_ours, w_nest, rtol=1e-9, atol=1e-12 * abs(p.rule.w_max))


if __name__ == "__main__":  # a quick look: python tests/validation/test_stdp_nest.py
    for case in CASES:
        prot = make_protocol(8, *case)
        wn, tn, _ = run_nest(prot)
        wo, to, _ = run_snnsim(prot)
        err = np.max(np.abs(wo - wn) / np.maximum(np.abs(wn), 1e-12))
        print(
            case,
            "spikes",
            to.size,
            tn.size,
            "max rel err",
            err,
            "max |dw|",
            np.max(np.abs(wn - prot.w0)),
            "at bounds",
            np.sum((wn == 0) | (wn == prot.rule.w_max)),
        )
