"""``net.modulate(AstrocyteLR, pop, effect="current")`` against NEST 3.10 ``sic_connection``.

NEST: an ``astrocyte_lr_1994`` driven by a ``spike_generator`` sends its slow inward current
through ``sic_connection`` (weight ``W``, delay ``D``) to an ``aeif_cond_alpha_astro``
neuron, whose ``I_SIC`` (pA) the multimeter records: the current the neuron integrates over
each step. snnsim: the same astrocyte modulates a resting ``LIF`` neuron with
``effect="current"``, ``weight=W * 1e-3`` (pA -> nA) and ``delay=D``. NEST has no LIF
target for SICs, so the LIF side is checked through its membrane: with no synaptic input
its exact update is

.. math:: V_k = E_L + (V_{k-1} - E_L)\\,P_{22} + P_{20}\\,(I_{offset} + 10^{-3} I_{SIC}(k))

(:math:`P_{22} = e^{-h/\\tau_m}`, :math:`P_{20} = \\tau_m/c_m (1 - P_{22})`), fed here with
NEST's recorded :math:`I_{SIC}`: snnsim's ``v`` must follow it to 1e-9 of its largest
excursion, which pins the weight, the units and the delay convention (NEST's ``I_SIC`` at
step :math:`k` is :math:`W\\,SIC(k - D/h)`: the output after the astrocyte's update of step
:math:`s` acts in the update of step :math:`s + D/h`, as :mod:`snnsim.modulation` says).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import snnsim as snn
from tests.validation.helpers_nest import import_nest

DT = 0.1
T_MS = 2000.0
PARAMS = {"delta_IP3": 0.2}  # NEST's example value: calcium crosses SIC_th
J = 2.0  # weight of the drive into the astrocyte (dimensionless, NEST's J)


def _times(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    steps = np.unique(rng.integers(10, int((T_MS - 200) / DT), size=300))
    return [round(float(s) * DT, 10) for s in steps]


def _nest(times: list[float], w: float, d: float) -> np.ndarray:
    """NEST's ``I_SIC`` (pA) of the target neuron per stamp 1..T/dt (NaN where not recorded)."""
    nest = import_nest()
    nest.resolution = DT
    astro = nest.Create("astrocyte_lr_1994", params=PARAMS)
    neuron = nest.Create("aeif_cond_alpha_astro")
    gen = nest.Create("spike_generator", params={"spike_times": times})
    nest.Connect(gen, astro, syn_spec={"weight": J, "delay": DT})
    nest.Connect(astro, neuron, syn_spec={"synapse_model": "sic_connection", "weight": w,
                                          "delay": d})  # fmt: skip
    mm = nest.Create("multimeter", params={"record_from": ["I_SIC"], "interval": DT})
    nest.Connect(mm, neuron)
    nest.Simulate(T_MS)
    ev = mm.get("events")
    stamps = np.rint(np.asarray(ev["times"]) / DT).astype(np.int64)
    out = np.full(round(T_MS / DT) + 1, np.nan)
    out[stamps] = np.asarray(ev["I_SIC"])
    return out[1:]


def _snnsim(times: list[float], w: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    """snnsim's ``v`` of the modulated LIF neuron and the astrocyte's ``SIC``, stamps 1..T/dt."""
    net = snn.Network(dt=DT, seed=1)
    src = net.add_population(1, snn.SpikeSource(times=[times]), label="src")
    astro = net.add_population(1, snn.AstrocyteLR(**PARAMS), label="astro")
    net.connect(src, astro, snn.OneToOne(), weight=J, delay=DT)
    lif = net.add_population(1, snn.LIF(), label="lif")
    net.modulate(astro, lif, effect="current", weight=w * 1e-3, delay=d)
    rec_v = net.record_state(lif, ["v"])
    rec_sic = net.record_state(astro, ["SIC"])
    net.run(T_MS)
    return rec_v["v"][:, 0], rec_sic["SIC"][:, 0]


@pytest.mark.parametrize(("w", "d"), [(50.0, 1.5), (80.0, 0.1), (-80.0, 3.0)])
def test_sic_current_matches_nest_sic_connection(seed: int, w: float, d: float) -> None:
    times = _times(seed)
    i_sic = _nest(times, w, d)
    v, sic = _snnsim(times, w, d)
    lif = snn.LIF()
    tau_m, cm = float(lif.values("tau_m")[0]), float(lif.values("cm")[0])
    e_l, i_off = float(lif.values("v_rest")[0]), float(lif.values("i_offset")[0])
    p22 = math.exp(-DT / tau_m)
    p20 = tau_m / cm * (1.0 - p22)
    # NEST's multimeter stops one step short of T; its first sample is stamp 1
    n = int(np.flatnonzero(~np.isnan(i_sic))[-1]) + 1
    assert n >= round(T_MS / DT) - 1 and not np.isnan(i_sic[:n]).any()
    assert np.abs(i_sic[:n]).max() > 0  # the protocol drives calcium above SIC_th
    expected = np.empty(n)
    prev = e_l
    for k in range(n):
        prev = e_l + (prev - e_l) * p22 + p20 * (i_off + 1e-3 * i_sic[k])
        expected[k] = prev
    assert expected.max() < float(lif.values("v_thresh")[0])  # no spike, no reset
    scale = np.abs(expected - e_l).max()
    err = np.abs(v[:n] - expected).max() / scale
    assert err <= 1e-9, err
    # the same statement on the currents: NEST's I_SIC at stamp k is W * SIC(k - D/h)
    lag = round(d / DT)
    shifted = np.zeros(n)
    shifted[lag:] = w * sic[: n - lag]
    assert np.abs(i_sic[:n] - shifted).max() <= 1e-9 * np.abs(i_sic[:n]).max()
    print(f"w={w} d={d}: max |dv| / max |v - E_L| = {err:.2e} ({scale:.3f} mV)")
