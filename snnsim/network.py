"""The network description and its ``run`` loop entry point."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from snnsim.build import build_engine, check_memory, reset_engine
from snnsim.connectors import Connector
from snnsim.delay_plasticity import DelayPlasticity, check_delay_bounds, split_rules
from snnsim.engine import Engine, RunStats, available_memory, max_threads
from snnsim.errors import ConnectivityError, ParameterError, ResourceError, SimulationError
from snnsim.inputs import Input, PoissonInput, StepCurrent
from snnsim.models import NeuronModel
from snnsim.modulation import Modulation, make_modulation
from snnsim.monitors import (
    RateRecorder,
    Recorder,
    SpikeRecorder,
    StateRecorder,
    WeightRecorder,
    recording_bytes,
)
from snnsim.plasticity import STDP
from snnsim.populations import LABEL_PATTERN, Population, PopulationView, Target, check_label
from snnsim.projections import Projection
from snnsim.timegrid import steps_on_grid

__all__ = ["LABEL_PATTERN", "Network", "Projection", "available_cores", "recording_bytes"]


def available_cores() -> int:
    """Return the number of CPU cores this process may run on (its affinity mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Network:
    """A spiking network: populations, projections, inputs and recorders.

    Parameters
    ----------
    dt : float
        Time step, ms (> 0). Every time in the network lives on this grid.
    seed : int
        Seed of every random draw (connectivity, distributions, Poisson sources and
        inputs). Same seed and version: bit-identical results, whatever ``threads``.
    threads : int or None
        Worker threads for ``run``. ``None``: all cores, but never more than one thread
        per :data:`~snnsim.engine.NEURONS_PER_THREAD` (8192) neurons, because on small
        networks the threads' meeting after every chunk costs more than the second core
        saves. Results do not
        depend on it. More threads than cores gives a ``UserWarning`` naming the number of
        cores (runs use at most as many threads as Numba has).
    precision : {"double", "single"}
        Floating-point type of neuron state and ring buffers. ``"double"`` (float64) gives
        the same spikes and traces as NEST ``iaf_psc_exp``/``iaf_psc_delta``. ``"single"``
        (float32) halves the memory traffic and lets the LIF update run 8 neurons per SIMD
        instruction (1.5-2x faster on CUBA with 4k-256k neurons in the benchmark suite). Its
        membrane traces stay within 1e-4 mV of float64 over 20 ms of CUBA
        (``tests/validation/test_cuba_statistics.py``), so single-precision spikes can move
        by a step where a neuron grazes threshold. Synaptic weights are
        float32 in both modes.
    event_driven : bool or None
        Event-driven LIF updates: a neuron that receives no input and provably cannot reach
        threshold on its own is not touched; when input arrives it is first advanced exactly
        over the gap (closed-form propagators over ``k`` steps). ``None`` (default) turns it
        on when some LIF population rests below threshold. Results agree with clock-driven
        updates to rounding (the gap propagator ``P(k h)`` replaces ``k`` products ``P(h)``),
        and are identical for any number of threads.

    Examples
    --------
    >>> import snnsim as snn
    >>> net = snn.Network(dt=0.1, seed=1)
    >>> pop = net.add_population(10, snn.LIF(i_offset=2.0), label="pop")
    >>> spikes = net.record_spikes(pop)
    >>> net.run(100.0)
    >>> spikes.count > 0
    True
    """

    def __init__(
        self,
        dt: float = 0.1,
        seed: int = 1,
        threads: int | None = None,
        precision: str = "double",
        event_driven: bool | None = None,
    ) -> None:
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)):
            raise ParameterError(f"Network(dt={dt!r}): dt must be a number of ms > 0")
        if not math.isfinite(float(dt)) or float(dt) <= 0:
            raise ParameterError(f"Network(dt={dt!r}): dt must be > 0 ms and finite")
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or not 0 <= int(seed) < 2**64
        ):
            raise ParameterError(f"Network(seed={seed!r}): seed must be an integer in [0, 2**64)")
        self.threads_auto = threads is None
        if threads is None:
            threads = max_threads()
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ParameterError(
                f"Network(threads={threads!r}): threads must be an integer >= 1 or None"
            )
        if precision not in ("double", "single"):
            raise ParameterError(
                f"Network(precision={precision!r}): precision must be 'double' (float64 "
                "state, NEST-identical) or 'single' (float32 state, 1.5-2x faster on CUBA)"
            )
        if event_driven is not None and not isinstance(event_driven, (bool, np.bool_)):
            raise ParameterError(
                f"Network(event_driven={event_driven!r}): use None (automatic), True or False"
            )
        cores = available_cores()
        if not self.threads_auto and int(threads) > cores:
            warnings.warn(
                f"Network(threads={int(threads)}): this machine has {cores} cores available "
                f"(Numba can run {max_threads()} threads); more threads than cores only adds "
                f"overhead. Use threads<={cores} or threads=None (all cores); results do not "
                "depend on threads",
                UserWarning,
                stacklevel=2,
            )
        self.dt = float(dt)
        self.seed = int(seed)
        self.threads = int(threads)
        self.precision = precision
        self.event_driven = None if event_driven is None else bool(event_driven)
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        self.inputs: list[tuple[Target, Input]] = []
        self.modulations: list[Modulation] = []
        self._recorders: list[Recorder] = []
        self._engine: Engine | None = None
        self._size = 0

    # ----------------------------------------------------------------- description
    def __repr__(self) -> str:
        return (
            f"Network(dt={self.dt}, seed={self.seed}, {self._size} neurons in "
            f"{len(self.populations)} populations, {len(self.projections)} projections, "
            f"t={self.t} ms)"
        )

    def require_unbuilt(self, what: str) -> None:
        """Raise :class:`SimulationError` naming ``what`` if the network was already built."""
        if self._engine is not None:
            raise SimulationError(
                f"{what}: the network was already built (it has run or been loaded); "
                "describe the whole network before the first run, or start a new Network"
            )

    @property
    def t(self) -> float:
        """Current simulation time, ms."""
        return self.step * self.dt

    @property
    def step(self) -> int:
        """Number of steps simulated so far."""
        return self._engine.step if self._engine is not None else 0

    @property
    def size(self) -> int:
        """Total number of neurons."""
        return self._size

    @property
    def recorders(self) -> list[Recorder]:
        """Recorders in creation order."""
        return list(self._recorders)

    def population(self, label: str) -> Population:
        """Return the population with this label."""
        for p in self.populations:
            if p.label == label:
                return p
        raise ParameterError(
            f"no population labelled {label!r}; labels: "
            f"{', '.join(p.label for p in self.populations)}"
        )

    def add_population(self, size: int, model: NeuronModel, label: str | None = None) -> Population:
        """Add ``size`` neurons of ``model`` and return the :class:`Population`.

        Parameters
        ----------
        size : int
            Number of neurons (>= 1).
        model : NeuronModel
            ``LIF(...)``, ``LIFDelta(...)``, ``PoissonSource(...)``, ``SpikeSource(...)``.
        label : str, optional
            Unique name (default ``"pop<index>"``); used in files and plots, so it must be
            non-empty and use only letters, digits, ``_``, ``-`` and ``.`` (SONATA-safe).

        Parameters of ``model`` that must lie on the time grid (LIF ``tau_refrac``) and
        that were not given keep their defaults rounded to the nearest multiple of ``dt``
        (see :meth:`NeuronModel.on_grid`); values given off the grid are refused here, as
        are ``PoissonSource`` rates above one spike per step and ``SpikeSource`` times off
        the grid.

        Raises
        ------
        ParameterError
            For a bad size, model or label, or model parameters that do not fit ``dt``.
        ResourceError
            When the network would need more memory than is available (estimated from the
            sizes; nothing is allocated per neuron before the build).
        """
        self.require_unbuilt("add_population")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise ParameterError(f"add_population(size={size!r}): size must be an integer >= 1")
        if size < 1:
            raise ParameterError(
                f"add_population(size={size}): populations must not be empty (size >= 1)"
            )
        if not isinstance(model, NeuronModel):
            raise ParameterError(
                f"add_population(model={model!r}): expected a model such as snn.LIF(); "
                "pass an instance, not the class"
            )
        model.check_size(int(size))
        index = len(self.populations)
        used = {p.label: p for p in self.populations}
        if label is None:
            label = f"pop{index}"
            k = index
            while label in used:  # a user label took the automatic one: take the next free
                k += 1
                label = f"pop{k}"
        else:
            label = check_label(label, used)
        model = model.on_grid(self.dt)
        model.check_dt(self.dt)
        model.check_precision(self.precision)
        pop = Population(self, index, int(size), model, label, self._size)
        self.populations.append(pop)
        self._size += int(size)
        try:
            check_memory(self, f"add_population({int(size)}, {model.name}, label={label!r})")
        except ResourceError:
            self.populations.pop()
            self._size -= int(size)
            raise
        return pop

    def _check_target(self, target: object, what: str) -> Target:
        if not isinstance(target, (Population, PopulationView)):
            raise ParameterError(
                f"{what}: expected a Population or a view (pop[a:b]), got {target!r}"
            )
        if target.network is not self:
            raise ParameterError(f"{what}: {target!r} belongs to another Network")
        return target

    def connect(
        self,
        pre: Target,
        post: Target,
        connector: Connector,
        weight: Any = None,
        delay: Any = None,
        receptor: str | None = None,
        round_delays: bool = False,
        label: str | None = None,
        weight_exp: int | None = None,
        plasticity: STDP | DelayPlasticity | Sequence[STDP | DelayPlasticity] | None = None,
        delay_bounds: tuple[float, float] | None = None,
        exact_weights: bool = False,
    ) -> Projection:
        """Connect ``pre`` to ``post`` with ``connector``.

        Parameters
        ----------
        pre, post : Population or PopulationView
        connector : Connector
            ``AllToAll``, ``OneToOne``, ``FixedProbability``, ``FixedInDegree``,
            ``FixedOutDegree``, ``FixedTotalNumber`` or ``FromList``.
        weight : float, array or Distribution
            nA for current synapses (``exc >= 0``, ``inh <= 0``), mV for ``LIFDelta``
            (either sign). An array has one value per synapse (sorted by pre, then post)
            or shape ``(len(pre), len(post))``.
        delay : float, array or Distribution, optional
            ms, ``>= dt`` and a multiple of ``dt`` (default: one step).
        receptor : {"exc", "inh"}, optional
            For two-receptor models (default ``"exc"``); omit for single-receptor models.
        round_delays : bool
            Round off-grid delays to the nearest step instead of refusing them.
        label : str, optional
        weight_exp : int, optional
            Only onto fixed-point models (:class:`~snnsim.models.LoihiLIF`): the weights are
            integer mantissas and each synapse brings ``weight * 2**weight_exp`` (Lava's
            ``Dense`` weight exponent; default 0, range ``-7..7``).
        plasticity : STDP, optional
            Make the synapses plastic (:class:`snnsim.plasticity.STDP`, NEST
            ``stdp_synapse`` / ``stdp_nn_symm_synapse`` semantics); their weights are then
            float64 and must lie within the rule's bounds, whose sign is the receptor's
            (``w_max > 0`` onto ``exc``, ``w_max < 0`` onto ``inh``). A
            :class:`snnsim.delay_plasticity.DelayPlasticity` makes the delays plastic; pass
            both in a list for plastic weights and delays.
        delay_bounds : (float, float), optional
            ``(d_min, d_max)`` in ms, required with ``DelayPlasticity`` (and only then):
            plastic delays stay within them, and the initial delays must too.
        exact_weights : bool
            Store the weights as given (float64, a mutable block of 14+ bytes per synapse)
            instead of as float32 in the compact static block (4-10 bytes). For weights that
            must equal another simulator's float64 values bit for bit (the torch bridge sets
            it); plastic projections are always float64.
        """
        self.require_unbuilt("connect")
        pre = self._check_target(pre, "connect(pre=...)")
        post = self._check_target(post, "connect(post=...)")
        if not isinstance(connector, Connector):
            raise ConnectivityError(
                f"connect(connector={connector!r}): expected a connector such as "
                "snn.FixedProbability(0.1); pass an instance, not the class"
            )
        from snnsim.connectors import FromList

        has_list_w = isinstance(connector, FromList) and connector.weight is not None
        has_list_d = isinstance(connector, FromList) and connector.delay is not None
        if has_list_w and weight is not None:
            raise ConnectivityError(
                "connect: FromList already gives weights; do not pass weight too"
            )
        if has_list_d and delay is not None:
            raise ConnectivityError("connect: FromList already gives delays; do not pass delay too")
        if weight is None and not has_list_w:
            raise ConnectivityError(
                "connect: weight is required (nA for current synapses, mV for LIFDelta)"
            )
        if receptor is not None and not isinstance(receptor, str):
            raise ConnectivityError(f"connect(receptor={receptor!r}): receptor must be a string")
        if not isinstance(round_delays, (bool, np.bool_)):
            raise ConnectivityError(
                f"connect(round_delays={round_delays!r}): round_delays must be True or False"
            )
        if not isinstance(exact_weights, (bool, np.bool_)):
            raise ConnectivityError(
                f"connect(exact_weights={exact_weights!r}): exact_weights must be True or False"
            )
        if label is not None and (not isinstance(label, str) or not label):
            raise ConnectivityError(
                f"connect(label={label!r}): a projection label must be a non-empty string, "
                "or omit it for an automatic one"
            )
        post.model.receptor_index(receptor, "connect")
        weight_exp = post.model.weight_exponent(weight_exp)
        stdp, delay_rule = split_rules(plasticity)
        if stdp is not None:
            stdp.check_connect(post.model, receptor, weight)
        bounds = check_delay_bounds(delay_rule, delay_bounds, delay, self.dt, "connect")
        if has_list_d and bounds is not None:
            list_delays = getattr(connector, "delay", None)
            check_delay_bounds(delay_rule, delay_bounds, list_delays, self.dt, "connect")
        index = len(self.projections)
        proj = Projection(
            index,
            pre,
            post,
            connector,
            weight,
            delay,
            receptor,
            bool(round_delays),
            label or f"{pre.population.label}->{post.population.label}#{index}",
            weight_exp=weight_exp,
            plasticity=stdp,
            delay_plasticity=delay_rule,
            delay_bounds=bounds,
            exact_weights=bool(exact_weights),
        )
        what = f"connect({pre.population.label} -> {post.population.label})"
        proj.check_description(what)
        self.projections.append(proj)
        try:
            check_memory(self, what)
        except ResourceError:
            self.projections.pop()
            raise
        return proj

    def modulate(
        self,
        source: Target,
        target: Target | Projection,
        connector: Connector | None = None,
        effect: str = "current",
        weight: float = 1.0,
        delay: float | None = None,
    ) -> Modulation:
        r"""Make astrocytes act on neurons or on the synapses of a projection.

        The output :math:`y` of each astrocyte (``A`` of :class:`~snnsim.models.Astrocyte`,
        ``SIC`` of :class:`~snnsim.models.AstrocyteLR`) after its update of stamp :math:`s`
        acts on its targets at stamp :math:`s + d`; effects compose by adding their terms
        :math:`w\,y(t - d)`. Equations and details: :mod:`snnsim.modulation`.

        Parameters
        ----------
        source : Population or PopulationView
            Astrocytes (``Astrocyte``, or ``AstrocyteLR`` for ``effect="current"``).
        target : Population, PopulationView or Projection
            Neurons (``"current"``, ``"threshold"``: LIF or LIFDelta) or a projection
            (``"gain"``; ``"stdp_depression"``: a projection with STDP).
        connector : Connector, optional
            Maps astrocytes to the target neurons (for a projection: to its postsynaptic
            neurons, whose incoming synapses of the projection they act on); ``None``: every
            astrocyte acts on every target.
        effect : {"current", "threshold", "gain", "stdp_depression"}
            ``i_offset + w y`` (nA); ``v_thresh + w y`` (mV); transmitted weight
            ``x (1 + w y)``; STDP depression amplitude ``a_minus = w y`` (fraction of
            ``w_max``).
        weight : float
            :math:`w` (units of the effect per unit of output).
        delay : float, optional
            ms, ``>= dt`` and a multiple of ``dt`` (default: one step).
        """
        self.require_unbuilt("modulate")
        source = self._check_target(source, "modulate(source=...)")
        is_proj = isinstance(target, Projection)
        if is_proj:
            if target not in self.projections:
                raise ParameterError(f"modulate: {target!r} belongs to another Network")
        else:
            target = self._check_target(target, "modulate(target=...)")
        mod = make_modulation(
            self, len(self.modulations), source, target, is_proj, connector, effect, weight, delay
        )
        self.modulations.append(mod)
        return mod

    def add_input(self, target: Target, inp: Input) -> Input:
        """Drive ``target`` with a :class:`PoissonInput` or a :class:`StepCurrent`."""
        self.require_unbuilt("add_input")
        target = self._check_target(target, "add_input(target=...)")
        if not isinstance(inp, (PoissonInput, StepCurrent)):
            raise ParameterError(f"add_input: expected PoissonInput or StepCurrent, got {inp!r}")
        if isinstance(inp, StepCurrent) and not target.model.current_input:
            raise ParameterError(
                f"add_input({target.population.label}, StepCurrent): {target.model.name} "
                "neurons take no current input; drive them with spikes (a SpikeSource or "
                "PoissonSource population) or a PoissonInput"
            )
        receptor = inp.receptor if isinstance(inp, PoissonInput) else None
        rec = target.model.receptor_index(receptor, f"add_input({type(inp).__name__})")
        what = f"add_input({target.population.label}, {type(inp).__name__})"
        if isinstance(inp, PoissonInput):
            target.model.check_weight_range(inp.weight, inp.weight, rec, what)
            p = inp.rate * self.dt * 1e-3
            if p > 1.0:
                raise ParameterError(
                    f"{what}: rate {inp.rate} Hz gives rate*dt = {p:g} > 1 at dt={self.dt} ms; "
                    "use more inputs at a lower rate or a smaller dt"
                )
        else:
            for t in inp.times:
                steps_on_grid(float(t), self.dt, f"{what}: time")
        self.inputs.append((target, inp))
        return inp

    # ----------------------------------------------------------------- recording
    def record_spikes(self, target: Target) -> SpikeRecorder:
        """Record every spike of ``target``; returns a :class:`SpikeRecorder`.

        Recorders can be added at any time; one added after a run records from the current
        step on (its ``start_step``), as a NEST recorder created between ``Simulate`` calls.
        """
        rec = SpikeRecorder(self._check_target(target, "record_spikes"), self.dt)
        self._recorders.append(rec)
        return rec

    def record_state(
        self, target: Target, variables: list[str] | str, every: int = 1
    ) -> StateRecorder:
        """Record state variables of ``target`` every ``every`` steps (see StateRecorder).

        Also between runs: the first sample is then the first multiple of ``every`` after
        the current step.
        """
        rec = StateRecorder(self._check_target(target, "record_state"), variables, every, self.dt)
        self._recorders.append(rec)
        return rec

    def record_rates(self, target: Population, bin_size: float = 1.0) -> RateRecorder:
        """Record the population rate in bins of ``bin_size`` ms (see :class:`RateRecorder`).

        Also between runs: bins before the current step hold no recorded steps.
        """
        rec = RateRecorder(self._check_target(target, "record_rates"), bin_size, self.dt)
        self._recorders.append(rec)
        return rec

    def record_weights(
        self, proj: Projection, every: float = 10.0, synapses: Any = None
    ) -> WeightRecorder:
        """Record the weights of synapses of ``proj`` every ``every`` ms (see WeightRecorder).

        Parameters
        ----------
        proj : Projection
            A projection of this network (plastic or not).
        every : float
            Sampling period, ms: a positive multiple of ``dt``. Samples are taken at the
            multiples of ``every`` from the current time on (also the current time when it
            is one; that sample is taken when the next run starts).
        synapses : array of int, optional
            Indices of the synapses to record, in :meth:`Projection.get` order (``0 ..
            len(proj) - 1``). Default: all of them, refused above
            :data:`~snnsim.monitors.MAX_DEFAULT_SYNAPSES` synapses.

        Raises
        ------
        ParameterError
            For a projection of another network, an ``every`` off the grid or below ``dt``,
            indices out of range, or too many synapses by default.
        """
        if not isinstance(proj, Projection) or not any(p is proj for p in self.projections):
            raise ParameterError(
                f"record_weights: expected a Projection of this network, got {proj!r}"
            )
        rec = WeightRecorder(proj, every, synapses, self.dt)
        self._recorders.append(rec)
        return rec

    # ----------------------------------------------------------------- running
    def build(self, progress: bool = False) -> Engine:
        """Validate the description and turn it into arrays (done by the first ``run``).

        With ``progress``, say on stderr when kernels are compiled (a cold cache).
        """
        if self._engine is None:
            self._engine = build_engine(self, progress=progress)
        return self._engine

    def attach_engine(self, engine: Engine) -> None:
        """Use ``engine`` as this network's compiled state (a loader restoring a checkpoint).

        The engine must have been built for this description (same neurons); the network
        is built from then on.
        """
        self.require_unbuilt("attach_engine")
        if engine.n != self._size:
            raise SimulationError(
                f"attach_engine: the engine has {engine.n} neurons, the network {self._size}"
            )
        self._engine = engine

    def built_engine(self) -> Engine | None:
        """Return the engine if the network was built (it has run or was loaded), else None."""
        return self._engine

    @property
    def engine(self) -> Engine:
        """The compiled state (built on first access)."""
        return self.build()

    def run(self, duration: float, progress: bool = False) -> RunStats:
        """Simulate ``duration`` ms; repeated calls continue where the last one stopped.

        Parameters
        ----------
        duration : float
            ms, ``>= 0`` and a multiple of ``dt``.
        progress : bool
            Print progress and the real-time factor to stderr.

        Returns
        -------
        RunStats
            Wall time, spikes, synaptic events and real-time factor of this call.

        Raises
        ------
        ResourceError
            Before anything runs, when the state and rate recorders would accumulate more
            data over ``duration`` than the memory available (8 bytes per recorded value
            and sample; see :func:`recording_bytes`).
        """
        if isinstance(duration, bool) or not isinstance(
            duration, (int, float, np.integer, np.floating)
        ):
            raise ParameterError(f"run(duration={duration!r}): duration must be a number of ms")
        if not math.isfinite(float(duration)) or duration < 0:
            raise ParameterError(f"run(duration={duration!r}): duration must be >= 0 ms and finite")

        n_steps = steps_on_grid(float(duration), self.dt, "run: duration")
        need, biggest = recording_bytes(self._recorders, self.step, n_steps)
        avail = available_memory()
        if need > avail:
            raise ResourceError(
                f"run({duration!r}): the recorders would accumulate about {need / 2**30:.3g} "
                f"GiB over {n_steps} steps (largest: {biggest}) but only "
                f"{avail / 2**30:.3g} GiB is available; record every k-th step "
                "(record_state(..., every=k)), fewer neurons (a view such as pop[:100]) or "
                "fewer variables, or run a shorter duration"
            )
        engine = self.build(progress=progress)
        stats = engine.run(n_steps, self._recorders, progress=progress)
        return stats

    def reset(self) -> None:
        """Go back to time 0 on the built network, without building it again.

        The neurons take the state the build gave them (model defaults, then the
        ``initialize`` / ``set_state`` calls made before the build), no spike is in flight,
        step currents start over, and every recorder is emptied. What was changed since
        the build stays: parameters (``set``), weights and delays (``Projection.set``),
        spike-source times (``set_times``). A run after ``reset`` gives the spikes of a
        freshly built network with those values. Nothing happens on an unbuilt network.

        Raises
        ------
        SimulationError
            When a projection is plastic (STDP or delay plasticity): its weights or delays
            have moved and its traces belong to them; build a new network instead.
        """
        engine = self._engine
        if engine is None:
            return
        plastic = [
            p.label
            for p in self.projections
            if p.plasticity is not None or p.delay_plasticity is not None
        ]
        if plastic:
            raise SimulationError(
                f"reset: projections {plastic} are plastic and their weights or delays have "
                "changed; "
                "build a new network (or load a checkpoint) to start over"
            )
        reset_engine(self, engine)
        for rec in self._recorders:
            rec.restore(**{name: value[:0] for name, value in rec.recorded().items()})
            rec.start_step = 0
