"""The run loop is compiled per model set: only the kernels a network uses."""

from __future__ import annotations

import numpy as np
import pytest
from snnsim.kernels import neurons

import snnsim as snn


def test_model_set_names_the_kinds_and_variants_in_use() -> None:
    kinds = np.array([neurons.KIND_LIF, neurons.KIND_POISSON_SOURCE, neurons.KIND_LIF])
    het = np.array([False, True, True])
    event = np.array([True, False, False])
    fields = neurons.model_set(kinds, het, event).dtype.names
    lif, poisson = neurons.KIND_LIF, neurons.KIND_POISSON_SOURCE
    assert fields == (f"kind{lif}", f"kind{lif}.het", f"kind{lif}.event", f"kind{poisson}",
                      f"kind{poisson}.het")  # fmt: skip


def test_a_variant_a_model_lacks_is_refused() -> None:
    kinds = np.array([neurons.KIND_SPIKE_SOURCE])
    with pytest.raises(ValueError, match="per-neuron"):
        neurons.model_set(kinds, np.array([True]), np.array([False]))
    with pytest.raises(ValueError, match="event-driven"):
        neurons.model_set(kinds, np.array([False]), np.array([True]))


def test_every_model_kind_has_a_class_and_kernels() -> None:
    from snnsim.models import MODELS

    declared = {m.kind for m in MODELS.values()}
    assert declared == set(neurons.KINDS)


def test_model_set_changes_between_runs_without_changing_results() -> None:
    """A population made heterogeneous after a run gets the heterogeneous kernels."""

    def build() -> tuple[snn.Network, snn.SpikeRecorder, snn.Population]:
        net = snn.Network(dt=0.1, seed=3)
        pop = net.add_population(20, snn.LIF(i_offset=1.0), label="p")
        return net, net.record_spikes(pop), pop

    offsets = np.linspace(0.8, 1.4, 20)
    net_a, rec_a, pop_a = build()
    net_a.run(20.0)
    pop_a.set(i_offset=offsets)
    net_a.run(30.0)

    net_b, rec_b, pop_b = build()
    net_b.run(20.0)
    pop_b.set(i_offset=float(offsets[0]))  # homogeneous: the same first neuron
    net_b.run(30.0)
    t_a = rec_a.times[rec_a.ids == 0]
    t_b = rec_b.times[rec_b.ids == 0]
    assert t_a.size > 0
    np.testing.assert_array_equal(t_a, t_b)
    # the other neurons fire at their own rates now
    assert len({int((rec_a.ids == i).sum()) for i in range(20)}) > 1
