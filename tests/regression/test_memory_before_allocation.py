"""Issue 8, section 4: memory is checked before it is allocated.

``add_population`` allocates nothing per neuron and refuses sizes that cannot fit;
``run`` refuses recordings that would outgrow the memory over the requested duration.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

import snnsim as snn
from snnsim.build import MAX_NEURONS
from snnsim.errors import ResourceError


def test_add_population_allocates_nothing_per_neuron() -> None:
    """A large population costs no per-neuron memory until it is built (indices on demand)."""
    net = snn.Network(dt=0.1)
    tracemalloc.start()
    try:
        pop = net.add_population(50_000_000, snn.LIF())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # the index array alone would be 400 MB
    assert pop.size == len(pop) == 50_000_000
    view = pop[10:20]  # views still work; the indices are made on first use
    assert view.indices.tolist() == list(range(10, 20))


def test_impossible_population_size_raises_resource_error() -> None:
    """add_population(10**12) raises ResourceError (a MemoryError) naming the limit, fast."""
    net = snn.Network(dt=0.1)
    t0 = time.perf_counter()
    with pytest.raises(ResourceError, match=f"{10**12} neurons.*{MAX_NEURONS}"):
        net.add_population(10**12, snn.LIF())
    assert time.perf_counter() - t0 < 1.0
    assert net.populations == [] and net.size == 0
    net.add_population(10, snn.LIF())  # the network is still usable


def test_population_beyond_memory_raises_with_the_estimate(monkeypatch) -> None:
    """A size that fits the neuron limit but not the memory is refused with the estimate."""
    monkeypatch.setattr("snnsim.build.available_memory", lambda: 1 << 30)
    net = snn.Network(dt=0.1)
    with pytest.raises(ResourceError, match=r"add_population\(600000000.*GiB.*1\.00 GiB"):
        net.add_population(6 * 10**8, snn.LIF())
    assert net.populations == []


def test_connect_beyond_memory_is_refused_and_not_kept(monkeypatch) -> None:
    """connect refuses a projection whose expected synapses cannot fit, and does not keep it."""
    net = snn.Network(dt=0.1)
    a = net.add_population(100_000, snn.LIF())
    monkeypatch.setattr("snnsim.build.available_memory", lambda: 1 << 30)
    with pytest.raises(ResourceError, match=r"connect\(pop0 -> pop0\).*1e\+10 synapses"):
        net.connect(a, a, snn.AllToAll(), weight=0.1)
    assert net.projections == []


def test_state_recording_beyond_memory_refused_before_running() -> None:
    """record_state on 1e6 neurons x 3 variables every step for 1e5 ms is refused at run."""
    net = snn.Network(dt=0.1)
    pop = net.add_population(10**6, snn.LIF())
    net.record_state(pop, ["v", "i_exc", "i_inh"])
    t0 = time.perf_counter()
    with pytest.raises(ResourceError, match=r"run\(100000.0\).*GiB.*every=") as info:
        net.run(1e5)
    assert time.perf_counter() - t0 < 1.0
    message = str(info.value)
    assert "3000000 values x 1000000 samples" in message
    assert "fewer neurons" in message and "shorter" in message
    assert net.built_engine() is None  # refused before building or allocating


def test_recording_estimate_counts_every_and_the_current_step(monkeypatch) -> None:
    """The estimate is 8 bytes per value and sample, one sample per `every` steps."""
    from snnsim.monitors import recording_bytes

    net = snn.Network(dt=0.1)
    pop = net.add_population(10, snn.LIF())
    rec = net.record_state(pop, ["v", "i_exc"], every=4)
    # steps 3..12: samples at stamps 4, 8 and 12
    assert recording_bytes([rec], 2, 10)[0] == 8.0 * 20 * 3
    monkeypatch.setattr("snnsim.network.available_memory", lambda: 1000)
    with pytest.raises(ResourceError, match="every=4"):
        net.run(10.0)  # 25 samples x 20 values x 8 bytes = 4000 bytes > 1000
    net.run(0.4)  # one sample: 160 bytes
