"""Recorders: spikes, state variables, population rates and synaptic weights.

Recorders are created by :meth:`Network.record_spikes`, :meth:`Network.record_state`,
:meth:`Network.record_rates` and :meth:`Network.record_weights`. Their interface to the
engine and to files is public and small: the engine hands each segment's results to
:meth:`consume`; a checkpoint writes :meth:`recorded` and a loader gives it back with
:meth:`restore`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError

if TYPE_CHECKING:
    from snnsim.populations import Population, Target
    from snnsim.projections import Projection

__all__ = ["MAX_DEFAULT_SYNAPSES", "RateRecorder", "Recorder", "SpikeRecorder", "StampedChunks",
           "StateRecorder", "WeightRecorder", "recording_bytes"]  # fmt: skip

#: ``record_weights(proj)`` without ``synapses=`` refuses projections with more synapses
#: (8 bytes per synapse and sample: 100k synapses every 10 ms for 100 s are 8 GB).
MAX_DEFAULT_SYNAPSES = 100_000


class Recorder:
    """Base class of recorders.

    Attributes
    ----------
    start_step : int
        Network step at which recording began (the network's ``step`` when the recorder
        was created: 0 before the first run, the current step for a recorder added between
        runs). The recorded time span is ``[start_step * dt, network.t]``; whoever feeds a
        recorder from a later step (e.g. a recorder restored from a file) sets it.
    """

    kind = ""

    def __init__(self, target: Target) -> None:
        self.population: Population = target.population
        #: Local indices (in the population) of the recorded neurons.
        self.indices: npt.NDArray[np.int64] = np.asarray(target.indices, dtype=np.int64).copy()
        self.start_step: int = int(target.population.network.step)

    @property
    def label(self) -> str:
        """Label of the recorded population."""
        return self.population.label

    def recorded(self) -> dict[str, npt.NDArray[Any]]:
        """Everything recorded so far, as named arrays (what a checkpoint stores)."""
        raise NotImplementedError

    def restore(self, **arrays: npt.NDArray[Any]) -> None:
        """Replace the recordings by ``arrays`` (the names of :meth:`recorded`)."""
        raise NotImplementedError

    @property
    def recorded_steps(self) -> int:
        """Number of steps recorded so far: ``network.step - start_step`` (>= 0)."""
        return max(0, int(self.population.network.step) - self.start_step)


class StampedChunks:
    """Samples stamped in steps, appended chunk by chunk and concatenated when read.

    A run hands recorders one chunk per segment; keeping the chunks in lists and joining
    them lazily (and whenever more than 64 pile up) keeps appends O(chunk).
    """

    def __init__(self, empty: npt.NDArray[Any]) -> None:
        self._empty = empty
        self._steps: list[npt.NDArray[np.int64]] = []
        self._data: list[npt.NDArray[Any]] = []

    def append(self, steps: npt.NDArray[np.int64], data: npt.NDArray[Any]) -> None:
        """Append the rows ``data`` (one per stamp in ``steps``); empty chunks are ignored."""
        if steps.size:
            self._steps.append(steps)
            self._data.append(data)
        if len(self._steps) > 64:
            self._join()

    def _join(self) -> None:
        if len(self._steps) > 1:
            self._steps = [np.concatenate(self._steps)]
            self._data = [np.concatenate(self._data)]

    @property
    def steps(self) -> npt.NDArray[np.int64]:
        """All stamps, steps (int64)."""
        self._join()
        return self._steps[0] if self._steps else np.zeros(0, dtype=np.int64)

    @property
    def data(self) -> npt.NDArray[Any]:
        """All rows, in stamp order (``empty`` when nothing was appended)."""
        self._join()
        return self._data[0] if self._data else self._empty

    @property
    def count(self) -> int:
        """Number of stamps."""
        return int(sum(a.size for a in self._steps))

    def replace(self, steps: npt.NDArray[np.int64], data: npt.NDArray[Any]) -> None:
        """Replace everything by ``steps`` and ``data`` (restoring a checkpoint)."""
        self._steps = [steps] if steps.size else []
        self._data = [data] if steps.size else []


class SpikeRecorder(Recorder):
    """All spikes of the recorded neurons, exactly as the engine emitted them.

    Attributes
    ----------
    times : float64[n]
        Spike times, ms (``step * dt``; a spike is stamped at the end of its step).
    ids : int64[n]
        Index of the neuron within its population.
    count : int
        Number of spikes recorded.

    Spikes are in time order, ties by id. Memory: 16 bytes per recorded spike.
    """

    kind = "spikes"

    def __init__(self, target: Target, dt: float) -> None:
        super().__init__(target)
        self.dt = dt
        self._chunks = StampedChunks(np.zeros(0, dtype=np.int64))

    def consume(self, steps: npt.NDArray[np.int64], local_ids: npt.NDArray[np.int64]) -> None:
        """Append spikes (stamps in steps, indices in the population), in time order."""
        self._chunks.append(steps, local_ids)

    @property
    def steps(self) -> npt.NDArray[np.int64]:
        """Spike time stamps in steps (int64)."""
        return self._chunks.steps

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Spike times in ms (float64)."""
        return np.asarray(self.steps * self.dt, dtype=np.float64)

    @property
    def ids(self) -> npt.NDArray[np.int64]:
        """Neuron indices within the population (int64)."""
        return self._chunks.data

    @property
    def count(self) -> int:
        """Number of spikes recorded."""
        return self._chunks.count

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"SpikeRecorder({self.label!r}, {self.indices.size} neurons, {self.count} spikes)"

    @property
    def duration(self) -> float:
        """Recorded duration, ms: ``(network.step - start_step) * dt``."""
        return self.recorded_steps * self.dt

    def rates(self, duration: float | None = None) -> npt.NDArray[np.float64]:
        r"""Mean rate per recorded neuron, Hz, in the order of ``sorted(indices)``.

        .. math:: r_i = \frac{n_i}{T \cdot 10^{-3}}

        with :math:`n_i` the spikes of neuron :math:`i` and :math:`T` the duration in ms.

        Parameters
        ----------
        duration : float, optional
            :math:`T`, ms. Default: the recorded duration (:attr:`duration`, from the step
            the recorder started at to the network's current time), as NEST and Brian2 do.
            Zeros when it is 0 (nothing run yet).
        """
        if duration is None:
            duration = self.duration
        if duration <= 0:
            return np.zeros(self.indices.size)
        pos = np.searchsorted(np.sort(self.indices), self.ids)
        counts = np.bincount(pos, minlength=self.indices.size)
        return np.asarray(counts / (duration * 1e-3), dtype=np.float64)

    def mean_rate(self, duration: float | None = None) -> float:
        r"""Return the population mean rate, Hz: :math:`n / (N \, T \cdot 10^{-3})`.

        ``n`` spikes of ``N`` recorded neurons over ``T`` ms (default: the recorded
        duration, see :meth:`rates`); 0.0 when ``T`` or ``N`` is 0.
        """
        if duration is None:
            duration = self.duration
        if duration <= 0 or self.indices.size == 0:
            return 0.0
        return float(self.count / (self.indices.size * duration * 1e-3))

    def to_sonata(self, path: str, population: str | None = None) -> None:
        """Write the spikes as a SONATA spike report (``/spikes/<population>/...``)."""
        from snnsim.sonata import write_sonata_spikes

        write_sonata_spikes(path, {population or self.label: (self.times, self.ids)})

    def recorded(self) -> dict[str, npt.NDArray[Any]]:  # noqa: D102
        return {"steps": self.steps, "ids": self.ids}

    def restore(self, **arrays: npt.NDArray[Any]) -> None:  # noqa: D102
        self._chunks.replace(arrays["steps"], arrays["ids"])


class StateRecorder(Recorder):
    """State variables of chosen neurons, sampled every ``every`` steps.

    Samples are taken after the updates with stamps ``s`` where ``s % every == 0``, i.e. at
    times ``every*dt, 2*every*dt, ...`` (as a NEST multimeter with ``interval=every*dt``).
    ``trace["v"]`` is a float64 array of shape ``(n_samples, n_neurons)``.
    Memory: ``8 * n_neurons * n_variables`` bytes per sample.
    """

    kind = "state"

    def __init__(self, target: Target, variables: list[str] | str, every: int, dt: float) -> None:
        super().__init__(target)
        model = target.population.model
        if isinstance(variables, str):
            variables = [variables]
        variables = list(variables)
        if not variables:
            raise ParameterError("record_state: give at least one variable name")
        recordable = model.float_vars + model.int_vars
        for name in variables:
            if name not in recordable:
                raise ParameterError(
                    f"record_state({name!r}): {model.name} has no state variable {name!r}; "
                    f"recordable: {', '.join(recordable) or 'none'}"
                )
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ParameterError(
                f"record_state(every={every!r}): every must be an integer >= 1 (steps)"
            )
        self.variables = variables
        self.every = int(every)
        self.dt = dt
        self._chunks = StampedChunks(np.zeros((0, self.width)))

    @property
    def width(self) -> int:
        """Number of recorded values per sample."""
        return len(self.variables) * int(self.indices.size)

    def consume(self, steps: npt.NDArray[np.int64], block: npt.NDArray[np.float64]) -> None:
        """Append samples taken at stamps ``steps`` (rows of ``block``, variable-major)."""
        self._chunks.append(steps, block)

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Sample times, ms."""
        return np.asarray(self._chunks.steps * self.dt, dtype=np.float64)

    @property
    def data(self) -> npt.NDArray[np.float64]:
        """All samples, shape ``(n_samples, n_variables * n_neurons)`` (variable-major)."""
        return self._chunks.data

    def __getitem__(self, name: str) -> npt.NDArray[np.float64]:
        if name not in self.variables:
            raise KeyError(f"{name!r} was not recorded; recorded: {', '.join(self.variables)}")
        k = self.variables.index(name)
        n = self.indices.size
        return self.data[:, k * n : (k + 1) * n]

    def __repr__(self) -> str:
        return f"StateRecorder({self.label!r}, {self.variables}, {self.times.size} samples)"

    def recorded(self) -> dict[str, npt.NDArray[Any]]:  # noqa: D102
        return {"steps": self._chunks.steps, "data": self.data}

    def restore(self, **arrays: npt.NDArray[Any]) -> None:  # noqa: D102
        self._chunks.replace(arrays["steps"], arrays["data"])


class RateRecorder(Recorder):
    r"""Population rate: spikes per bin of ``bin_size`` ms divided by neurons and bin width.

    ``rates`` (Hz) and ``times`` (ms, bin starts). Bin :math:`k` holds the stamps
    :math:`kB+1 \ldots (k+1)B` (:math:`B` = ``bin_steps``) and its rate is

    .. math:: r_k = \frac{c_k}{N \, w_k \, dt \cdot 10^{-3}}

    with :math:`w_k` the number of its steps actually recorded (between ``start_step`` and
    the network's current step): :math:`B` except in a partial first or last bin. Bins are
    numbered from step 0 also for a recorder added between runs: its bins before
    ``start_step`` have width 0 and rate 0.
    Records the whole population. Memory: 8 bytes per step during a run segment, 8 bytes
    per bin afterwards.
    """

    kind = "rates"

    def __init__(self, target: Target, bin_size: float, dt: float) -> None:
        super().__init__(target)
        if target.size != target.population.size:
            raise ParameterError(
                "record_rates records whole populations; pass the population, not a view"
            )
        from snnsim.timegrid import steps_on_grid

        self.bin_steps = steps_on_grid(bin_size, dt, "record_rates: bin_size")
        if self.bin_steps < 1:
            raise ParameterError(
                f"record_rates(bin_size={bin_size!r}): bin_size must be >= dt={dt} ms"
            )
        self.dt = dt
        self._counts = np.zeros(0, dtype=np.int64)
        self._first_step = 0

    def consume(self, first_stamp: int, counts: npt.NDArray[np.int64]) -> None:
        """Add per-step spike counts for stamps ``first_stamp, first_stamp + 1, ...``."""
        start = first_stamp - 1
        end = start + counts.size
        if self._counts.size < (end + self.bin_steps - 1) // self.bin_steps:
            grown = np.zeros((end + self.bin_steps - 1) // self.bin_steps, dtype=np.int64)
            grown[: self._counts.size] = self._counts
            self._counts = grown
        bins = np.arange(start, end) // self.bin_steps
        np.add.at(self._counts, bins, counts)

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Bin start times, ms."""
        return np.asarray(np.arange(self._counts.size) * self.bin_steps * self.dt, dtype=np.float64)

    @property
    def bin_widths(self) -> npt.NDArray[np.int64]:
        """Recorded steps per bin: ``bin_steps``, less in a partial first or last bin."""
        edges = np.arange(self._counts.size + 1, dtype=np.int64) * self.bin_steps
        now = self.start_step + self.recorded_steps
        lo = np.maximum(edges[:-1], self.start_step)
        hi = np.minimum(edges[1:], now)
        return np.asarray(np.maximum(hi - lo, 0), dtype=np.int64)

    @property
    def rates(self) -> npt.NDArray[np.float64]:
        """Population rate per bin, Hz (a partial bin is divided by its recorded width)."""
        width = self.bin_widths
        rate = np.zeros(self._counts.size, dtype=np.float64)
        ok = width > 0
        rate[ok] = self._counts[ok] / (self.population.size * width[ok] * self.dt * 1e-3)
        return rate

    def __repr__(self) -> str:
        width = self.bin_steps * self.dt
        return f"RateRecorder({self.label!r}, {self._counts.size} bins of {width} ms)"

    def recorded(self) -> dict[str, npt.NDArray[Any]]:  # noqa: D102
        return {"counts": self._counts}

    def restore(self, **arrays: npt.NDArray[Any]) -> None:  # noqa: D102
        self._counts = np.asarray(arrays["counts"], dtype=np.int64)


class WeightRecorder(Recorder):
    """Weights of chosen synapses of one projection, sampled every ``every`` ms.

    A sample is taken at every stamp ``s`` (steps) with ``s % every_steps == 0`` from the
    recorder's ``start_step`` on, after that step's updates: the weights :meth:`Projection.get`
    returns at time ``s * dt`` (for a plastic projection every pairing whose spikes have
    reached the synapse by then is applied). The sample at the step a run starts from is
    taken when that run starts, so it holds weights set with :meth:`Projection.set` before
    the run. Stamps do not depend on how runs are split or on threads: the engine ends its
    segments at sample stamps and reads the weights between segments, which changes no
    result of the simulation.

    Attributes
    ----------
    projection : Projection
    synapses : int64[n_synapses]
        Indices of the recorded synapses in :meth:`Projection.get` order.
    every_steps : int
        Sampling period in steps.
    times : float64[n_samples]
        Sample times, ms.
    values : float64[n_samples, n_synapses]
        Weights, nA (mV onto delta synapses; the mantissas onto fixed-point models, as
        :meth:`Projection.get`).

    Memory: ``8 * n_synapses`` bytes per sample.
    """

    kind = "weights"

    def __init__(self, projection: Projection, every: float, synapses: Any, dt: float) -> None:
        # no population: a weight recorder belongs to a projection
        from snnsim.timegrid import steps_on_grid

        what = "record_weights"
        if isinstance(every, bool) or not isinstance(every, (int, float, np.integer, np.floating)):
            raise ParameterError(f"{what}(every={every!r}): every must be a number of ms")
        if not np.isfinite(float(every)) or every <= 0:
            raise ParameterError(f"{what}(every={every!r}): every must be > 0 ms, e.g. 10.0")
        self.every_steps = steps_on_grid(float(every), dt, f"{what}: every")
        self.projection = projection
        self.synapses = _synapse_selection(len(projection), synapses, f"{what}({projection!r})")
        self.dt = dt
        self.start_step = int(projection.pre.population.network.step)
        self._chunks = StampedChunks(np.zeros((0, self.synapses.size)))

    # the engine's view of the projection (it does not import the description classes)
    @property
    def projection_index(self) -> int:
        """Index of the recorded projection in ``network.projections``."""
        return self.projection.index

    @property
    def pre_gids(self) -> npt.NDArray[np.int64]:
        """Global ids of the projection's presynaptic neurons."""
        return self.projection.pre.global_ids

    @property
    def post_gids(self) -> npt.NDArray[np.int64]:
        """Global ids of the projection's postsynaptic neurons."""
        return self.projection.post.global_ids

    @property
    def receptor_index(self) -> int:
        """Receptor index of the projection in its postsynaptic model."""
        return self.projection.post.model.receptor_index(
            self.projection.receptor, repr(self.projection)
        )

    @property
    def weight_scale(self) -> float:
        """Stored weight per unit of :meth:`Projection.get` (1 except for mantissas)."""
        return self.projection.weight_scale

    @property
    def label(self) -> str:
        """Label of the recorded projection."""
        return self.projection.label

    @property
    def recorded_steps(self) -> int:
        """Number of steps recorded so far: ``network.step - start_step`` (>= 0)."""
        return max(0, int(self.projection.pre.population.network.step) - self.start_step)

    @property
    def every(self) -> float:
        """Sampling period, ms."""
        return self.every_steps * self.dt

    @property
    def next_stamp(self) -> int:
        """Stamp (steps) of the next sample to take."""
        steps = self._chunks.steps
        if steps.size:
            return int(steps[-1]) + self.every_steps
        return -(-self.start_step // self.every_steps) * self.every_steps

    def consume(self, steps: npt.NDArray[np.int64], block: npt.NDArray[np.float64]) -> None:
        """Append samples taken at stamps ``steps`` (rows of ``block``, one per synapse)."""
        self._chunks.append(steps, block)

    @property
    def steps(self) -> npt.NDArray[np.int64]:
        """Sample stamps, steps."""
        return self._chunks.steps

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Sample times, ms."""
        return np.asarray(self.steps * self.dt, dtype=np.float64)

    @property
    def values(self) -> npt.NDArray[np.float64]:
        """Weights, shape ``(n_samples, n_synapses)``."""
        return self._chunks.data

    def __repr__(self) -> str:
        return (
            f"WeightRecorder({self.label!r}, {self.synapses.size} synapses, "
            f"{self.steps.size} samples every {self.every:g} ms)"
        )

    def recorded(self) -> dict[str, npt.NDArray[Any]]:  # noqa: D102
        return {"steps": self.steps, "values": self.values}

    def restore(self, **arrays: npt.NDArray[Any]) -> None:  # noqa: D102
        self._chunks.replace(arrays["steps"], arrays["values"])


def _synapse_selection(n_syn: int, synapses: Any, what: str) -> npt.NDArray[np.int64]:
    """Validate ``synapses`` (indices in ``get`` order; None: all, up to a limit)."""
    if synapses is None:
        if n_syn > MAX_DEFAULT_SYNAPSES:
            raise ParameterError(
                f"{what}: the projection has {n_syn} synapses, more than the "
                f"{MAX_DEFAULT_SYNAPSES} recorded by default (8 bytes per synapse and sample); "
                "choose some with synapses=..., e.g. synapses=np.arange(1000)"
            )
        return np.arange(n_syn, dtype=np.int64)
    arr = np.asarray(synapses)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ParameterError(
            f"{what}: synapses must be a 1-D array of integer indices, got shape "
            f"{arr.shape} dtype {arr.dtype}"
        )
    chosen = arr.astype(np.int64)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= n_syn):
        raise ParameterError(
            f"{what}: synapses must lie in [0, {n_syn - 1}] (the projection's synapses in "
            f"get() order), got [{chosen.min()}, {chosen.max()}]"
        )
    return chosen


def recording_bytes(recorders: list[Recorder], step: int, n_steps: int) -> tuple[float, str]:
    """Bytes that state, rate and weight recorders will add over the next ``n_steps`` steps.

    A state recorder keeps 8 bytes per recorded value (variable x neuron) and sample, one
    sample per ``every`` steps; a rate recorder 8 bytes per bin; a weight recorder 8 bytes
    per synapse and sample. Spike recorders are not
    counted (their size depends on the activity).

    Returns
    -------
    tuple of (float, str)
        The total in bytes and a description of the largest recorder.
    """
    total, biggest, name = 0.0, 0.0, ""
    for rec in recorders:
        if isinstance(rec, StateRecorder):
            samples = (step + n_steps) // rec.every - step // rec.every
            size = 8.0 * rec.width * samples
            what = (
                f"record_state({rec.label!r}, {rec.variables}, every={rec.every}): "
                f"{rec.width} values x {samples} samples"
            )
        elif isinstance(rec, RateRecorder):
            size = 8.0 * (n_steps // rec.bin_steps + 2)
            what = f"record_rates({rec.label!r})"
        elif isinstance(rec, WeightRecorder):
            samples = (step + n_steps) // rec.every_steps - step // rec.every_steps + 1
            size = 8.0 * rec.synapses.size * samples
            what = (
                f"record_weights({rec.label!r}, every={rec.every:g}): "
                f"{rec.synapses.size} synapses x {samples} samples"
            )
        else:
            continue
        total += size
        if size > biggest:
            biggest, name = size, what
    return total, name
