"""Spike-for-spike agreement with NEST ``iaf_psc_exp`` / ``iaf_psc_delta`` on small networks.

The same explicit network (drawn once from a seeded numpy Generator) is given to snnsim
(``FromList``, ``initialize(v=...)``) and to NEST (``Connect`` one_to_one with per-synapse
weights and delays, ``spike_generator`` for the inputs). Units: NEST uses pA and pF, so
weights, ``I_e`` and ``C_m`` are 1000 times snnsim's nA and nF; potentials (mV) and times (ms)
are the same. Weights are multiples of 1/256 so that snnsim's float32 weights are exact.

Both simulators integrate the same propagators in the same order, so the full spike list must
be identical and membrane traces agree to rounding (1e-9 mV).
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

T_SIM = 500.0


@dataclass
class SmallNet:
    dt: float
    n: int
    n_exc: int
    n_src: int
    params: dict[str, float | np.ndarray]
    i_extra: np.ndarray  # nA per neuron, on top of params["i_offset"]
    v0: np.ndarray  # mV
    src_times: list[np.ndarray]  # ms per source
    # source -> neuron synapses
    s_pre: np.ndarray
    s_post: np.ndarray
    s_w: np.ndarray
    s_d: np.ndarray
    # recurrent synapses
    r_pre: np.ndarray
    r_post: np.ndarray
    r_w: np.ndarray
    r_d: np.ndarray


def _make_net(seed: int, dt: float, delta: bool = False, hetero: bool = False) -> SmallNet:
    """Draw a small recurrent network with inputs; all times on the ``dt`` grid.

    ``hetero``: tau_m, v_thresh, tau_refrac, tau_syn_exc and i_offset differ per neuron
    (snnsim: per-neuron parameter arrays; NEST: per-neuron SetStatus).
    """
    rng = np.random.default_rng(seed)
    n, n_exc, n_src = 40, 32, 20
    params = {
        "tau_m": 20.0, "cm": 1.0, "v_rest": -65.0, "v_reset": -70.0, "v_thresh": -50.0,
        "tau_refrac": 2.0, "i_offset": 0.375,
    }  # fmt: skip
    if not delta:
        params.update(tau_syn_exc=5.0, tau_syn_inh=10.0)
    # constant extra drive for a third of the neurons, some of them then supra-threshold
    # (total > 0.75 nA)
    i_extra = np.where(rng.random(n) < 0.35, rng.integers(32, 160, n) / 256.0, 0.0)
    v0 = rng.uniform(-70.0, -51.0, n)
    if hetero:
        params.update(
            tau_m=rng.uniform(10.0, 30.0, n),
            v_thresh=rng.uniform(-54.0, -48.0, n),
            tau_refrac=rng.integers(1, 5, n) * 0.5,
            i_offset=0.375 + i_extra,
        )
        if not delta:
            params["tau_syn_exc"] = rng.uniform(2.0, 8.0, n)
        i_extra = np.zeros(n)
    steps = round(T_SIM / dt)
    src_times = []
    for _ in range(n_src):
        k = rng.binomial(steps, 40.0 * dt * 1e-3)  # ~40 Hz trains
        st = np.sort(rng.choice(np.arange(1, steps), size=k, replace=False))
        src_times.append(st * dt)
    max_d = round(5.0 / dt)

    def delays(m: int) -> np.ndarray:
        return rng.integers(1, max_d + 1, m) * dt

    # inputs: each neuron gets 6 source synapses
    s_post = np.repeat(np.arange(n), 6)
    s_pre = rng.integers(0, n_src, s_post.size)
    if delta:
        s_w = rng.integers(128, 768, s_post.size) / 256.0  # 0.5 .. 3 mV
    else:
        s_w = rng.integers(64, 200, s_post.size) / 256.0  # 0.25 .. 0.78 nA
    s_d = delays(s_post.size)
    # recurrent: p = 0.2, no autapses; exc positive, inh negative (4x stronger)
    mask = (rng.random((n, n)) < 0.2) & ~np.eye(n, dtype=bool)
    r_pre, r_post = np.nonzero(mask)
    if delta:
        mag = rng.integers(64, 512, r_pre.size) / 256.0  # 0.25 .. 2 mV
    else:
        mag = rng.integers(32, 160, r_pre.size) / 256.0  # 0.125 .. 0.62 nA
    r_w = np.where(r_pre < n_exc, mag, -4.0 * mag)
    r_d = delays(r_pre.size)
    return SmallNet(
        dt, n, n_exc, n_src, params, i_extra, v0, src_times,
        s_pre, s_post, s_w, s_d, r_pre, r_post, r_w, r_d,
    )  # fmt: skip


def _run_snnsim(net_: SmallNet, delta: bool, record: list[int]):
    net = snn.Network(dt=net_.dt, seed=1, threads=1)
    src = net.add_population(
        net_.n_src, snn.SpikeSource(times=[t.tolist() for t in net_.src_times])
    )
    model_cls = snn.LIFDelta if delta else snn.LIF
    pop = net.add_population(net_.n, model_cls(**net_.params))
    # i_offset is one value per population (in params); per-neuron extra constant drive is a
    # StepCurrent switched on at t = 0, seen from the first update on (NEST: added to I_e)
    for val in np.unique(net_.i_extra[net_.i_extra != 0]):
        idx = np.nonzero(net_.i_extra == val)[0]
        net.add_input(pop[idx], snn.StepCurrent([0.0], [float(val)]))
    pop.initialize(v=net_.v0)
    if delta:
        net.connect(src, pop, snn.FromList(net_.s_pre, net_.s_post, net_.s_w, net_.s_d))
        net.connect(pop, pop, snn.FromList(net_.r_pre, net_.r_post, net_.r_w, net_.r_d))
    else:
        for rec, sel_s, sel_r in (
            ("exc", net_.s_w > 0, net_.r_w > 0),
            ("inh", net_.s_w < 0, net_.r_w < 0),
        ):
            if sel_s.any():
                net.connect(
                    src, pop,
                    snn.FromList(net_.s_pre[sel_s], net_.s_post[sel_s], net_.s_w[sel_s],
                                 net_.s_d[sel_s]),
                    receptor=rec,
                )  # fmt: skip
            net.connect(
                pop, pop,
                snn.FromList(net_.r_pre[sel_r], net_.r_post[sel_r], net_.r_w[sel_r],
                             net_.r_d[sel_r]),
                receptor=rec,
            )  # fmt: skip
    sp = net.record_spikes(pop)
    tr = net.record_state(pop[record[0] : record[-1] + 1], "v")
    net.run(T_SIM)
    v = tr["v"][:, np.asarray(record) - record[0]]
    return sp.times.copy(), sp.ids.copy(), tr.times.copy(), v


def _run_nest(net_: SmallNet, delta: bool, record: list[int]):
    nest = import_nest()
    nest.SetKernelStatus({"resolution": net_.dt, "local_num_threads": 1, "print_time": False})
    p = net_.params
    params = {
        "C_m": 1000.0 * p["cm"], "tau_m": p["tau_m"], "E_L": p["v_rest"],
        "V_reset": p["v_reset"], "V_th": p["v_thresh"], "t_ref": p["tau_refrac"],
    }  # fmt: skip
    if not delta:
        params.update(tau_syn_ex=p["tau_syn_exc"], tau_syn_in=p["tau_syn_inh"])
    scalars = {k: v for k, v in params.items() if np.ndim(v) == 0}
    per_neuron = {k: np.asarray(v).tolist() for k, v in params.items() if np.ndim(v) == 1}
    neurons = nest.Create("iaf_psc_delta" if delta else "iaf_psc_exp", net_.n, params=scalars)
    neurons.set(
        {"V_m": net_.v0.tolist(), "I_e": (1000.0 * (p["i_offset"] + net_.i_extra)).tolist()}
    )
    if per_neuron:
        neurons.set(per_neuron)
    gens = nest.Create(
        "spike_generator", net_.n_src, params=[{"spike_times": t.tolist()} for t in net_.src_times]
    )
    # weights: pA for current synapses, mV for delta synapses
    scale = 1.0 if delta else 1000.0
    first_g = gens[0].global_id
    first_n = neurons[0].global_id
    nest.Connect(
        (net_.s_pre + first_g).tolist(), (net_.s_post + first_n).tolist(), "one_to_one",
        {"synapse_model": "static_synapse", "weight": scale * net_.s_w, "delay": net_.s_d},
    )  # fmt: skip
    nest.Connect(
        (net_.r_pre + first_n).tolist(), (net_.r_post + first_n).tolist(), "one_to_one",
        {"synapse_model": "static_synapse", "weight": scale * net_.r_w, "delay": net_.r_d},
    )  # fmt: skip
    sr = nest.Create("spike_recorder")
    nest.Connect(neurons, sr)
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": net_.dt})
    nest.Connect(mm, neurons[record])
    nest.Simulate(T_SIM)
    ev = sr.get("events")
    times = np.asarray(ev["times"], dtype=float)
    ids = np.asarray(ev["senders"], dtype=np.int64) - first_n
    mev = mm.get("events")
    mt = np.asarray(mev["times"], dtype=float)
    ms = np.asarray(mev["senders"], dtype=np.int64) - first_n
    mv = np.asarray(mev["V_m"], dtype=float)
    tt = np.unique(mt)
    v = np.empty((tt.size, len(record)))
    for j, g in enumerate(record):
        sel = ms == g
        assert np.array_equal(mt[sel], tt)
        v[:, j] = mv[sel]
    return times, ids, tt, v


def _sorted_pairs(times: np.ndarray, ids: np.ndarray, dt: float) -> np.ndarray:
    steps = np.rint(times / dt).astype(np.int64)
    np.testing.assert_allclose(steps * dt, times, atol=1e-9)
    order = np.lexsort((ids, steps))
    return np.stack([steps[order], ids[order]], axis=1)


def _compare(seed: int, dt: float, delta: bool, hetero: bool = False) -> None:
    import_nest()
    net_ = _make_net(seed, dt, delta, hetero)
    record = [0, 1, 2, 3, 4, 5]
    s_t, s_i, s_tt, s_v = _run_snnsim(net_, delta, record)
    n_t, n_i, n_tt, n_v = _run_nest(net_, delta, record)
    a = _sorted_pairs(s_t, s_i, dt)
    b = _sorted_pairs(n_t, n_i, dt)
    # a meaningful network: recurrent activity, several neurons spiking, refractoriness hit
    assert a.shape[0] > 200, a.shape
    assert np.unique(a[:, 1]).size > 10
    assert np.isin(record, a[:, 1]).sum() >= 3, "traces should include resets and refractoriness"
    if a.shape != b.shape or not np.array_equal(a, b):
        k = next(
            (i for i in range(min(len(a), len(b))) if not np.array_equal(a[i], b[i])),
            min(len(a), len(b)),
        )
        pytest.fail(
            f"spike lists differ: snnsim {len(a)} spikes, NEST {len(b)}; first difference at "
            f"#{k}: snnsim {a[k : k + 3].tolist()} vs NEST {b[k : k + 3].tolist()} (step, id)"
        )
    # NEST's multimeter samples dt, 2 dt, ..., T - dt (not the state at the final time T)
    m = n_tt.size
    assert m >= s_tt.size - 1
    np.testing.assert_allclose(s_tt[:m], n_tt, rtol=0, atol=1e-9)
    np.testing.assert_allclose(s_v[:m], n_v, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("dt", "seed"), [(0.1, 11), (0.1, 12), (0.25, 13)])
def test_iaf_psc_exp_spike_for_spike(dt, seed):
    _compare(seed, dt, delta=False)


@pytest.mark.parametrize(("dt", "seed"), [(0.1, 21), (0.125, 22)])
def test_iaf_psc_delta_spike_for_spike(dt, seed):
    _compare(seed, dt, delta=True)


@pytest.mark.parametrize(("dt", "seed", "delta"), [(0.1, 31, False), (0.25, 32, False),
                                                   (0.1, 33, True)])  # fmt: skip
def test_heterogeneous_population_spike_for_spike(dt, seed, delta):
    """Per-neuron tau_m, v_thresh, tau_refrac, tau_syn_exc, i_offset: NEST's spikes exactly."""
    _compare(seed, dt, delta=delta, hetero=True)
