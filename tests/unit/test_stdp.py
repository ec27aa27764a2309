"""STDP in the event core: API checks, determinism (threads, split runs, resume), bookkeeping.

Agreement with NEST is in ``tests/validation/test_stdp_nest.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.plastic_blocks import plasticity_arrays

# 3 threads on a machine with fewer cores: a warning, the same results
pytestmark = pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")


def _net(seed: int, threads: int, pairing: str = "all", dep: str = "additive") -> tuple:
    """A recurrent LIF network (200 neurons: three thread partitions) with plastic exc->exc,
    heterogeneous delays, a plastic inhibitory projection and Poisson drive."""
    net = snn.Network(dt=0.1, seed=seed, threads=threads)
    exc = net.add_population(160, snn.LIF(tau_refrac=2.0), label="exc")
    inh = net.add_population(40, snn.LIF(tau_refrac=2.0), label="inh")
    net.add_input(exc, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
    net.add_input(inh, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
    rule = snn.STDP(a_plus=0.02, a_minus=0.021, w_max=0.5, pairing=pairing, weight_dependence=dep)
    ee = net.connect(
        exc, exc, snn.FixedProbability(0.1), weight=snn.Uniform(0.05, 0.3),
        delay=snn.Uniform(0.5, 3.0), round_delays=True, plasticity=rule,
    )  # fmt: skip
    irule = snn.STDP(a_plus=0.01, a_minus=0.01, w_max=-1.0)
    ie = net.connect(
        inh, exc, snn.FixedProbability(0.2), weight=-0.3, delay=1.0, receptor="inh",
        plasticity=irule,
    )  # fmt: skip
    net.connect(exc, inh, snn.FixedProbability(0.2), weight=0.2, delay=1.5)
    sp = net.record_spikes(exc)
    return net, ee, ie, sp


def _weights(proj: snn.Projection) -> np.ndarray:
    return np.array([w for _, _, w in proj.get(["weight"], format="list")])


@pytest.fixture(scope="module")
def reference() -> tuple:
    net, ee, ie, sp = _net(5, 1)
    net.run(150.0)
    return _weights(ee), _weights(ie), sp.times.copy(), sp.ids.copy()


def test_rule_validation() -> None:
    with pytest.raises(ParameterError, match="tau_plus must be > 0"):
        snn.STDP(tau_plus=0.0)
    with pytest.raises(ParameterError, match="a_minus must be >= 0"):
        snn.STDP(a_minus=-0.1)
    with pytest.raises(ParameterError, match="w_min must lie between 0 and w_max"):
        snn.STDP(w_min=1.0, w_max=0.5)
    with pytest.raises(ParameterError, match="'additive' or 'multiplicative'"):
        snn.STDP(weight_dependence="gutig")
    with pytest.raises(ParameterError, match="'all' or 'nearest'"):
        snn.STDP(pairing="triplet")
    with pytest.raises(ParameterError, match="w_max must be > 0"):
        snn.STDP(w_max=0.0)
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(2, snn.LIF())
    with pytest.raises(ConnectivityError, match="w_max must be < 0"):
        net.connect(a, a, snn.AllToAll(), weight=-0.1, receptor="inh", plasticity=snn.STDP())
    with pytest.raises(ConnectivityError, match="expected a rule"):
        net.connect(a, a, snn.AllToAll(), weight=0.1, plasticity="stdp")
    with pytest.raises(ParameterError, match="do not lie within the STDP bounds"):
        net.connect(a, a, snn.AllToAll(), weight=0.9, plasticity=snn.STDP(w_max=0.5))
    net.connect(a, a, snn.AllToAll(), weight=snn.Uniform(0.1, 0.9), plasticity=snn.STDP())
    with pytest.raises(ParameterError, match="do not lie within the STDP bounds"):
        net.run(1.0)


def test_weights_learn_and_stay_in_bounds(reference: tuple) -> None:
    w_ee, w_ie, times, _ = reference
    assert times.size > 100
    assert np.all((w_ee >= 0) & (w_ee <= 0.5)) and np.all((w_ie <= 0) & (w_ie >= -1.0))
    assert np.ptp(w_ee) > 0.1 and np.ptp(w_ie) > 0.0  # learned, not the initial values


@pytest.mark.parametrize("threads", [2, 3])
def test_thread_invariance(reference: tuple, threads: int) -> None:
    net, ee, ie, sp = _net(5, threads)
    net.run(150.0)
    assert net.built_engine().last_run is not None
    np.testing.assert_array_equal(_weights(ee), reference[0])
    np.testing.assert_array_equal(_weights(ie), reference[1])
    np.testing.assert_array_equal(sp.times, reference[2])
    np.testing.assert_array_equal(sp.ids, reference[3])


def test_split_runs(reference: tuple) -> None:
    net, ee, ie, sp = _net(5, 2)
    for ms in (0.1, 37.3, 0.4, 62.2, 50.0):  # 150 ms, chunks cut anywhere
        net.run(ms)
    np.testing.assert_array_equal(_weights(ee), reference[0])
    np.testing.assert_array_equal(_weights(ie), reference[1])
    np.testing.assert_array_equal(sp.times, reference[2])


@pytest.mark.parametrize(("pairing", "dep"), [("nearest", "multiplicative")])
def test_nearest_split_and_threads(pairing: str, dep: str) -> None:
    runs = []
    for threads, cuts in ((1, (120.0,)), (3, (33.3, 86.7))):
        net, ee, _, sp = _net(2, threads, pairing, dep)
        for ms in cuts:
            net.run(ms)
        runs.append((_weights(ee), sp.times.copy()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_resume_in_fresh_process(tmp_path: Path, reference: tuple) -> None:
    net, _, _, _ = _net(5, 2)
    net.run(70.0)
    path = tmp_path / "stdp.h5"
    snn.save(net, path)
    out = tmp_path / "out.npz"
    script = textwrap.dedent(
        f"""
        import numpy as np, snnsim as snn
        net = snn.load({str(path)!r})
        net.run(80.0)
        w = [np.array([x[2] for x in p.get(["weight"], format="list")]) for p in net.projections]
        rec = [r for r in net.recorders if r.kind == "spikes"][0]
        np.savez({str(out)!r}, ee=w[0], ie=w[1], t=rec.times, i=rec.ids,
                 rule=str(net.projections[0].plasticity))
        """
    )
    env = {**os.environ}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=600)
    got = np.load(out)
    np.testing.assert_array_equal(got["ee"], reference[0])
    np.testing.assert_array_equal(got["ie"], reference[1])
    np.testing.assert_array_equal(got["t"], reference[2])
    np.testing.assert_array_equal(got["i"], reference[3])
    assert "STDP(" in str(got["rule"])


def _one_partition(eng: snn.Engine) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(1, dtype=np.int64), np.full(1, eng.n, dtype=np.int64)


def test_static_networks_get_no_plasticity_code() -> None:
    net = snn.Network(dt=0.1, seed=1)
    a = net.add_population(3, snn.LIF())
    proj = net.connect(a, a, snn.AllToAll(), weight=0.1)
    net.run(1.0)
    eng = net.built_engine()
    assert plasticity_arrays(eng, *_one_partition(eng)) is None
    proj.set(weight=0.2)  # a mutable, non-plastic block
    assert plasticity_arrays(eng, *_one_partition(eng)) is None
    assert proj.plasticity is None


def test_set_keeps_the_rule() -> None:
    net, ee, _, _ = _net(5, 1)
    net.run(20.0)
    eng = net.built_engine()
    before = eng.pl_param.copy()
    ee.set(weight=0.2)
    assert plasticity_arrays(eng, *_one_partition(eng)) is not None
    np.testing.assert_array_equal(eng.pl_param, before)
    net.run(20.0)
    w = _weights(ee)
    assert np.ptp(w) > 0  # still learning
