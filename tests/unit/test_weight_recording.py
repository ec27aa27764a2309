"""Weight recording (``Network.record_weights``): sample stamps, agreement with
``Projection.get``, independence of threads and run splits, checkpoints and plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim.errors import ParameterError

# 3 threads on a machine with fewer cores: a warning, the same results
pytestmark = pytest.mark.filterwarnings("ignore:Network\\(threads=:UserWarning")


def _net(seed: int, threads: int = 1) -> tuple:
    """Recurrent LIF network with plastic exc->exc (heterogeneous delays) and Poisson drive."""
    net = snn.Network(dt=0.1, seed=seed, threads=threads)
    exc = net.add_population(160, snn.LIF(tau_refrac=2.0), label="exc")
    inh = net.add_population(40, snn.LIF(tau_refrac=2.0), label="inh")
    net.add_input(exc, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
    net.add_input(inh, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
    rule = snn.STDP(a_plus=0.02, a_minus=0.021, w_max=0.5)
    ee = net.connect(
        exc, exc, snn.FixedProbability(0.1), weight=snn.Uniform(0.05, 0.3),
        delay=snn.Uniform(0.5, 3.0), round_delays=True, plasticity=rule,
    )  # fmt: skip
    net.connect(inh, exc, snn.FixedProbability(0.2), weight=-0.3, delay=1.0, receptor="inh")
    ei = net.connect(exc, inh, snn.FixedProbability(0.2), weight=0.2, delay=1.5)
    return net, ee, ei


def _weights(proj: snn.Projection) -> np.ndarray:
    return np.array([w for _, _, w in proj.get(["weight"], format="list")])


def test_samples_at_stamps_and_equal_get(seed: int) -> None:
    net, ee, _ = _net(seed)
    net.build()  # before a build, get() gives the description's float32-rounded weights
    w0 = _weights(ee)
    rec = net.record_weights(ee, every=10.0)
    seen = []
    for _ in range(4):
        net.run(10.0)
        seen.append(_weights(ee))
    np.testing.assert_allclose(rec.times, [0.0, 10.0, 20.0, 30.0, 40.0], rtol=0, atol=1e-12)
    assert rec.values.shape == (5, len(ee))
    np.testing.assert_array_equal(rec.synapses, np.arange(len(ee)))
    np.testing.assert_array_equal(rec.values[0], w0)
    for k, w in enumerate(seen):
        np.testing.assert_array_equal(rec.values[k + 1], w)  # bit-identical to get()
    assert not np.array_equal(rec.values[0], rec.values[-1])  # the weights did learn


def test_threads_and_splits_give_identical_samples(seed: int) -> None:
    pick = np.array([5, 0, 17, 3, 100])
    ref_net, ref_ee, _ = _net(seed, threads=1)
    ref = ref_net.record_weights(ref_ee, every=2.5, synapses=pick)
    ref_sp = ref_net.record_spikes(ref_net.population("exc"))
    ref_net.run(60.0)
    assert ref.values.shape == (25, 5)
    for threads, pieces in ((3, (60.0,)), (1, (0.7, 13.3, 0.1, 45.9)), (2, (31.2, 28.8))):
        net, ee, _ = _net(seed, threads=threads)
        rec = net.record_weights(ee, every=2.5, synapses=pick)
        sp = net.record_spikes(net.population("exc"))
        for t in pieces:
            net.run(t)
        np.testing.assert_array_equal(rec.steps, ref.steps)
        np.testing.assert_array_equal(rec.values, ref.values)
        np.testing.assert_array_equal(sp.steps, ref_sp.steps)  # sampling changes nothing


def test_sampling_does_not_change_the_simulation(seed: int) -> None:
    a, ee_a, _ = _net(seed)
    sa = a.record_spikes(a.population("exc"))
    a.run(40.0)
    b, ee_b, _ = _net(seed)
    sb = b.record_spikes(b.population("exc"))
    b.record_weights(ee_b, every=0.1)  # a segment per step
    b.run(40.0)
    np.testing.assert_array_equal(sa.steps, sb.steps)
    np.testing.assert_array_equal(sa.ids, sb.ids)
    np.testing.assert_array_equal(_weights(ee_a), _weights(ee_b))


def test_added_between_runs_and_static_projection(seed: int) -> None:
    net, ee, ei = _net(seed)
    net.run(5.0)
    rec = net.record_weights(ee, every=2.0, synapses=[1, 2])
    static = net.record_weights(ei, every=5.0)
    net.run(7.0)
    np.testing.assert_allclose(rec.times, [6.0, 8.0, 10.0, 12.0], atol=1e-12)
    np.testing.assert_allclose(static.times, [5.0, 10.0], atol=1e-12)
    np.testing.assert_array_equal(static.values[1], _weights(ei))
    np.testing.assert_array_equal(rec.values[-1], _weights(ee)[[1, 2]])


def test_validation(seed: int) -> None:
    net, ee, _ = _net(seed)
    _, other_ee, _ = _net(seed)
    with pytest.raises(ParameterError, match="multiple of dt"):
        net.record_weights(ee, every=0.25)
    with pytest.raises(ParameterError, match="every must be > 0"):
        net.record_weights(ee, every=0.0)
    with pytest.raises(ParameterError, match="synapses must lie in"):
        net.record_weights(ee, synapses=[len(ee)])
    with pytest.raises(ParameterError, match="1-D array of integer"):
        net.record_weights(ee, synapses=[0.5])
    with pytest.raises(ParameterError, match="Projection of this network"):
        net.record_weights(other_ee)
    big = snn.Network(dt=0.1, seed=seed)
    a = big.add_population(400, snn.LIF())
    proj = big.connect(a, a, snn.AllToAll(), weight=0.1)
    with pytest.raises(ParameterError, match="synapses="):
        big.record_weights(proj)
    assert big.record_weights(proj, synapses=np.arange(10)).synapses.size == 10


def test_checkpoint_round_trip(seed: int, tmp_path: Path) -> None:
    ref_net, ref_ee, _ = _net(seed)
    ref = ref_net.record_weights(ref_ee, every=5.0, synapses=np.arange(0, 40, 3))
    ref_net.run(50.0)

    net, ee, _ = _net(seed)
    net.record_weights(ee, every=5.0, synapses=np.arange(0, 40, 3))
    path = tmp_path / "w.h5"
    snn.save(net, path)  # before any run: the sample at 0 is not taken yet
    net = snn.load(path)
    net.run(20.0)
    snn.save(net, path)
    loaded = snn.load(path)
    rec = loaded.recorders[0]
    assert isinstance(rec, snn.WeightRecorder)
    assert rec.times.size == 5
    loaded.run(30.0)
    np.testing.assert_array_equal(rec.synapses, ref.synapses)
    np.testing.assert_array_equal(rec.steps, ref.steps)
    np.testing.assert_array_equal(rec.values, ref.values)


def test_plots_write_pngs(seed: int, tmp_path: Path) -> None:
    net, ee, _ = _net(seed)
    rec = net.record_weights(ee, every=5.0, synapses=np.arange(20))
    net.run(30.0)
    ax = snn.plot.weight_histogram(ee, bins=20)
    ax.figure.savefig(tmp_path / "hist.png")
    ax = snn.plot.weight_histogram(rec.values[-1])
    ax.figure.savefig(tmp_path / "hist2.png")
    ax = snn.plot.weights_over_time(rec, max_lines=5)
    ax.figure.savefig(tmp_path / "time.png")
    for name in ("hist.png", "hist2.png", "time.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ParameterError, match="weight_histogram"):
        snn.plot.weight_histogram(np.zeros((2, 2)))
