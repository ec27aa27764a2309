"""The ``/recorders`` group of a checkpoint: every recorder and what it has recorded.

Declared shapes are checked against what the description and the current step imply
before a recorder's arrays are read: a spike recorder holds at most one spike per recorded
neuron and step, a state recorder exactly one row per sample, a rate recorder one count
per bin, a weight recorder one row per sample stamp (the sample at the current step may be
missing: it is taken when the next run starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim import h5safe
from snnsim.description_io import PopulationDesc, pop_index, read_indices
from snnsim.errors import SimulationError
from snnsim.h5safe import AtMost, Reader
from snnsim.monitors import (
    RateRecorder,
    Recorder,
    SpikeRecorder,
    StateRecorder,
    WeightRecorder,
)
from snnsim.network import Network
from snnsim.populations import Population

__all__ = ["RecorderDesc", "read_recorders", "restore_recorders", "write_recorders"]

Array = npt.NDArray[Any]


@dataclass
class RecorderDesc:
    """One recorder as the file gives it, validated."""

    kind: str
    pop: int
    indices: Array
    arrays: dict[str, Array]
    variables: list[str]
    every: int
    bin_steps: int
    #: step at which the recorder started (recorders can be added between runs)
    start_step: int = 0
    #: weight recorders: index of the projection (``pop`` and ``indices`` are unused)
    projection: int = -1


# ====================================================================== write
def write_recorders(f: Any, net: Network) -> None:
    """Write ``/recorders``: every recorder of ``net`` with what it holds."""
    import h5py

    g_all = f.create_group("recorders")
    recs = net.recorders
    g_all.attrs["count"] = np.int64(len(recs))
    for i, rec in enumerate(recs):
        g = g_all.create_group(str(i))
        g.attrs["kind"] = rec.kind
        if isinstance(rec, WeightRecorder):
            _write_weights(g, rec, net.dt)
            continue
        g.attrs["population"] = rec.label
        g.attrs["start_step"] = np.int64(rec.start_step)
        g.attrs["start_step_units"] = "steps"
        h5safe.write_dataset(g, "indices", rec.indices.astype(np.int64), "1 (index in population)")
        state = rec.recorded()
        if isinstance(rec, SpikeRecorder):
            h5safe.write_dataset(g, "steps", state["steps"].astype(np.int64), "steps")
            h5safe.write_dataset(g, "ids", state["ids"].astype(np.int64), "1 (index in population)")
            h5safe.write_dataset(g, "times", state["steps"] * net.dt, "ms")
        elif isinstance(rec, StateRecorder):
            g.attrs["variables"] = np.array(rec.variables, dtype=h5py.string_dtype())
            g.attrs["every"] = np.int64(rec.every)
            g.attrs["every_units"] = "steps"
            pop_units = rec.population.model.units
            g.attrs["variable_units"] = np.array(
                [pop_units.get(v, "") for v in rec.variables], dtype=h5py.string_dtype()
            )
            h5safe.write_dataset(g, "steps", state["steps"].astype(np.int64), "steps")
            h5safe.write_dataset(
                g,
                "data",
                np.asarray(state["data"], dtype=np.float64),
                "per variable (see variable_units); columns variable-major",
            )
            h5safe.write_dataset(g, "times", state["steps"] * net.dt, "ms")
        elif isinstance(rec, RateRecorder):
            g.attrs["bin_steps"] = np.int64(rec.bin_steps)
            g.attrs["bin_steps_units"] = "steps"
            h5safe.write_dataset(g, "counts", state["counts"].astype(np.int64), "spikes per bin")
            h5safe.write_dataset(g, "rates", rec.rates, "Hz")
            h5safe.write_dataset(g, "times", rec.times, "ms")
        else:  # pragma: no cover - the three recorder kinds are the only ones
            raise SimulationError(f"save: cannot store recorder {rec!r}")


def _write_weights(g: Any, rec: WeightRecorder, dt: float) -> None:
    g.attrs["projection"] = np.int64(rec.projection_index)
    g.attrs["projection_label"] = rec.label
    g.attrs["start_step"] = np.int64(rec.start_step)
    g.attrs["start_step_units"] = "steps"
    g.attrs["every"] = np.int64(rec.every_steps)
    g.attrs["every_units"] = "steps"
    state = rec.recorded()
    h5safe.write_dataset(g, "synapses", rec.synapses, "1 (index in Projection.get order)")
    h5safe.write_dataset(g, "steps", state["steps"].astype(np.int64), "steps")
    h5safe.write_dataset(g, "values", np.asarray(state["values"], np.float64), "as get()")
    h5safe.write_dataset(g, "times", state["steps"] * dt, "ms")


def _read_weights(r: Reader, g: Any, n_proj: int, step: int) -> RecorderDesc:
    proj = r.attr_int(g, "projection", 0, n_proj - 1)
    start = r.attr_int(g, "start_step", 0, step)
    every = r.attr_int(g, "every", 1, 1 << 62)
    syn = r.read(r.dataset(g, "synapses", np.int64, (AtMost(1 << 40),)))
    if syn.size and syn.min() < 0:
        raise r.fail(f"{g.name}/synapses", "indices must be >= 0")
    first, last = -(-start // every), step // every
    n_full = max(0, last - first + 1)
    s_ds = r.dataset(g, "steps", np.int64, (AtMost(n_full),))
    steps = r.read(s_ds)
    # the sample at the current step is taken when the next run starts: it may be missing
    n = steps.size
    if n not in (n_full, n_full - (step % every == 0)) or not np.array_equal(
        steps, every * np.arange(first, first + n, dtype=np.int64)
    ):
        raise r.fail(f"{g.name}/steps", f"must be every*({first}..{last}) with every={every}")
    values = r.read(r.dataset(g, "values", np.float64, (n, syn.size)))
    if not np.all(np.isfinite(values)):
        raise r.fail(f"{g.name}/values", "contains NaN or Inf; weights are finite")
    arrays = {"steps": steps, "values": values}
    return RecorderDesc("weights", -1, syn, arrays, [], every, 1, start, proj)


# ====================================================================== read
def read_recorders(
    r: Reader, pops: list[PopulationDesc], step: int, n_proj: int = 0
) -> list[RecorderDesc]:
    """Read and validate ``/recorders`` for a network at time step ``step``.

    ``n_proj`` is the number of projections (weight recorders name one).
    """
    out = []
    for g in r.numbered(r.group("/recorders")):
        kind = r.attr_str(g, "kind")
        if kind == "weights":
            out.append(_read_weights(r, g, n_proj, step))
            continue
        p = pop_index(r, pops, r.attr_str(g, "population"), f"{g.name} attribute 'population'")
        pop = pops[p]
        indices = read_indices(r, g, "indices", pop.size)
        arrays: dict[str, Array] = {}
        variables: list[str] = []
        every = bin_steps = 1
        start = r.attr_int(g, "start_step", 0, step)
        if kind == "spikes":
            s_ds = r.dataset(g, "steps", np.int64, (AtMost((step - start) * indices.size),))
            i_ds = r.dataset(g, "ids", np.int64, (s_ds.shape[0],))
            steps, ids = r.read(s_ds), r.read(i_ds)
            if steps.size and (
                steps.min() < start + 1 or steps.max() > step or np.any(np.diff(steps) < 0)
            ):
                raise r.fail(
                    f"{g.name}/steps", f"must be non-decreasing and in [{start + 1}, {step}]"
                )
            if ids.size and not np.all(np.isin(ids, indices)):
                raise r.fail(f"{g.name}/ids", "holds ids of neurons that are not recorded")
            arrays = {"steps": steps, "ids": ids}
        elif kind == "state":
            variables = r.attr_str_list(g, "variables")
            if not variables or len(set(variables)) != len(variables):
                raise r.fail(f"{g.name} attribute 'variables'", "must be unique and non-empty")
            for v in variables:
                if v not in pop.model.float_vars + pop.model.int_vars:
                    raise r.fail(
                        f"{g.name} attribute 'variables'", f"{pop.model.name} has no {v!r}"
                    )
            every = r.attr_int(g, "every", 1, 1 << 62)
            first, last = start // every + 1, step // every
            n_samples = max(0, last - first + 1)
            width = len(variables) * indices.size
            s_ds = r.dataset(g, "steps", np.int64, (n_samples,))
            d_ds = r.dataset(g, "data", np.float64, (n_samples, width))
            steps = r.read(s_ds)
            want = every * np.arange(first, last + 1, dtype=np.int64)
            if not np.array_equal(steps, want):
                raise r.fail(
                    f"{g.name}/steps", f"must be every*({first}..{last}) with every={every}"
                )
            data = r.read(d_ds)
            if not np.all(np.isfinite(data)):
                raise r.fail(f"{g.name}/data", "contains NaN or Inf; recorded state is finite")
            arrays = {"steps": steps, "data": data}
        elif kind == "rates":
            if pop.size != indices.size:
                raise r.fail(f"{g.name}/indices", "rate recorders record whole populations")
            bin_steps = r.attr_int(g, "bin_steps", 1, 1 << 62)
            n_bins = -(-step // bin_steps)
            counts = r.read(r.dataset(g, "counts", np.int64, (n_bins,)))
            if counts.size and (counts.min() < 0 or counts.max() > pop.size * bin_steps):
                raise r.fail(f"{g.name}/counts", f"counts must be in [0, {pop.size * bin_steps}]")
            arrays = {"counts": counts}
        else:
            raise r.fail(f"{g.name} attribute 'kind'", f"unknown recorder kind {kind!r}")
        out.append(RecorderDesc(kind, p, indices, arrays, variables, every, bin_steps, start))
    return out


def restore_recorders(
    r: Reader, net: Network, pops: list[Population], recs: list[RecorderDesc], dt: float
) -> None:
    """Add the recorders of ``recs`` to ``net`` (in order), holding what they recorded."""
    for rd in recs:
        if rd.kind == "weights":
            # the network's engine is attached: the synapse indices are checked against it
            wr = net.record_weights(net.projections[rd.projection], rd.every * dt, rd.indices)
            wr.restore(**rd.arrays)
            wr.start_step = rd.start_step
            continue
        pop = pops[rd.pop]
        whole = rd.indices.size == pop.size and np.array_equal(rd.indices, np.arange(pop.size))
        view = pop if whole else pop[rd.indices]
        rec: Recorder
        if rd.kind == "spikes":
            rec = net.record_spikes(view)
        elif rd.kind == "state":
            rec = net.record_state(view, rd.variables, rd.every)
        else:
            rec = net.record_rates(pop, rd.bin_steps * dt)
            if rec.bin_steps != rd.bin_steps:
                raise r.fail("/recorders", f"bin of {rd.bin_steps} steps cannot be rebuilt")
        rec.restore(**rd.arrays)
        rec.start_step = rd.start_step
        if not np.array_equal(rec.indices, rd.indices):
            raise r.fail("/recorders", "recorder indices could not be restored")
