"""The thread team of the run loop: its barrier, its rendezvous, and the serial fallback."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit, prange
from snnsim.kernels.jit_options import start_threads
from snnsim.kernels.thread_team import SYNC_WORDS, barrier_wait, rendezvous, team_layer

import snnsim as snn
from snnsim.errors import SimulationError

start_threads()
TWO_CORES = numba.config.NUMBA_NUM_THREADS >= 2  # type: ignore[attr-defined]


@njit(parallel=True)
def _phases(n_workers, n_phases, sync, seen, went):
    """Worker ``w`` writes its phase, meets the others, then reads every worker's phase."""
    for w in prange(n_workers):
        went[w] = rendezvous(sync, n_workers)
        if went[w]:
            for p in range(n_phases):
                seen[w, w] = p
                barrier_wait(sync, n_workers)
                for v in range(n_workers):
                    if seen[v, v] != p:
                        seen[w, n_workers] += 1  # a worker ran ahead of the barrier
                barrier_wait(sync, n_workers)


@pytest.mark.skipif(not TWO_CORES, reason="needs two threads")
def test_barrier_keeps_workers_in_step() -> None:
    numba.set_num_threads(2)
    sync = np.zeros(SYNC_WORDS, dtype=np.int64)
    seen = np.zeros((2, 3), dtype=np.int64)
    went = np.zeros(2, dtype=np.bool_)
    _phases(2, 20000, sync, seen, went)
    assert went.all()
    assert seen[:, 2].sum() == 0
    assert sync[8] == 2 * 20000  # barriers completed


def test_rendezvous_is_abandoned_when_workers_run_one_after_the_other() -> None:
    numba.set_num_threads(1)  # both iterations on one thread: a barrier would never open
    try:
        sync = np.zeros(SYNC_WORDS, dtype=np.int64)
        seen = np.zeros((2, 3), dtype=np.int64)
        went = np.ones(2, dtype=np.bool_)
        _phases(2, 5, sync, seen, went)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    assert not went.any()
    assert sync[24] == 2  # the verdict: abandoned


def _spiking(threads: int) -> tuple[snn.Network, snn.SpikeRecorder]:
    net = snn.Network(dt=0.1, seed=4, threads=threads)
    pop = net.add_population(300, snn.LIF(tau_refrac=2.0))
    net.add_input(pop, snn.PoissonInput(n_inputs=100, rate=30.0, weight=0.12))
    net.connect(pop, pop, snn.FixedProbability(0.1), weight=0.1, delay=0.1)
    return net, net.record_spikes(pop)


@pytest.mark.skipif(not team_layer(), reason="threading layer without a thread team")
def test_serialised_team_falls_back_to_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    ref, ref_sp = _spiking(1)
    ref.run(30.0)
    net, sp = _spiking(2)
    real_set = numba.set_num_threads
    # the threading layer hands the team one thread while the engine counts two workers
    monkeypatch.setattr(numba, "set_num_threads", lambda n: real_set(1))
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    try:
        with pytest.warns(RuntimeWarning, match="did not run at the same time"):
            net.run(30.0)
    finally:
        real_set(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    assert sp.count == ref_sp.count > 0
    np.testing.assert_array_equal(sp.times, ref_sp.times)
    np.testing.assert_array_equal(sp.ids, ref_sp.ids)


def test_team_stops_segments_where_the_spike_buffer_fills() -> None:
    """More recorded spikes than the recording buffer holds (65536): segments end early at
    different chunks on a team than on one thread, the spikes are the same."""
    out = []
    for threads in (1, 2):
        net = snn.Network(dt=0.1, seed=9, threads=threads)
        pop = net.add_population(2000, snn.LIF(tau_refrac=2.0))
        net.add_input(pop, snn.PoissonInput(n_inputs=200, rate=40.0, weight=0.15))
        net.connect(pop, pop, snn.FixedProbability(0.02), weight=0.05, delay=0.1)
        sp = net.record_spikes(pop)
        net.run(500.0)
        out.append(sp)
    assert out[0].count > 2 * 65536
    np.testing.assert_array_equal(out[0].times, out[1].times)
    np.testing.assert_array_equal(out[0].ids, out[1].ids)


@pytest.mark.skipif(not TWO_CORES or not team_layer(), reason="needs a two-thread team")
@pytest.mark.parametrize("second_only", [False, True])
def test_failed_check_on_one_worker_stops_the_team(
    monkeypatch: pytest.MonkeyPatch, second_only: bool
) -> None:
    """A kernel that raises on a worker must not leave the others waiting at the barrier."""
    import snnsim.engine as engine_module

    real = engine_module.plasticity_arrays

    def corrupted(eng, part_lo, part_hi):  # type: ignore[no-untyped-def]
        plast = real(eng, part_lo, part_hi)
        rows = plast.hrow[int(part_lo[-1]) :] if second_only else plast.hrow
        plast.hist[rows[rows >= 0], 0] = -1e9  # a negative stamp: the delivery's check fails
        return plast

    net = snn.Network(dt=0.1, seed=2, threads=2)
    pop = net.add_population(256, snn.LIF(tau_refrac=2.0))
    net.add_input(pop, snn.PoissonInput(n_inputs=100, rate=30.0, weight=0.12))
    net.connect(pop, pop, snn.FixedProbability(0.1), weight=0.1, delay=0.1,
                plasticity=snn.STDP(w_max=0.5))  # fmt: skip
    net.run(1.0)
    monkeypatch.setattr(engine_module, "plasticity_arrays", corrupted)
    with pytest.raises(SimulationError, match="threads=1"):
        net.run(50.0)
