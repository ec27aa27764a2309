"""Populations of neurons of one model, and views onto subsets of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.build import initial_state, model_arrays
from snnsim.distributions import Distribution
from snnsim.errors import ParameterError, SimulationError
from snnsim.kernels.random_streams import stream_key
from snnsim.models import NeuronModel, SpikeSource
from snnsim.parameters import (
    ParamValue,
    coerce_array,
    coerce_parameter,
    numeric_array,
    resolve_values,
)
from snnsim.streams import STREAM_INIT, STREAM_PARAM, key_of

if TYPE_CHECKING:
    from snnsim.network import Network

__all__ = ["LABEL_PATTERN", "Population", "PopulationView", "Target", "check_label"]

#: Population labels: non-empty, letters, digits, ``_``, ``-`` and ``.`` (safe as SONATA
#: population names, HDF5 group names and file names).
LABEL_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")

InitValue = float | npt.ArrayLike | Distribution


class _Neurons:
    """What populations and views share: a parent population and local indices."""

    population: Population

    @property
    def indices(self) -> npt.NDArray[np.int64]:
        """Local indices (within the parent population) of the neurons selected."""
        raise NotImplementedError

    @property
    def global_ids(self) -> npt.NDArray[np.int64]:
        """Global neuron ids (engine numbering) of the neurons selected."""
        return self.population.start + self.indices

    @property
    def size(self) -> int:
        """Number of neurons selected."""
        return int(self.indices.size)

    def __len__(self) -> int:
        return self.size

    @property
    def model(self) -> NeuronModel:
        """Model of the parent population."""
        return self.population.model

    @property
    def network(self) -> Network:
        """Network the population belongs to."""
        return self.population._network

    def __getitem__(self, item: int | slice | npt.ArrayLike) -> PopulationView:
        local = self.indices
        if isinstance(item, (int, np.integer)):
            n = local.size
            if not -n <= int(item) < n:
                raise ParameterError(
                    f"{self!r}[{item}]: index out of range for {n} neurons (0..{n - 1})"
                )
            sel = local[[int(item)]]
        elif isinstance(item, slice):
            sel = local[item]
        else:
            idx = np.asarray(item)
            if idx.dtype == bool:
                if idx.shape != local.shape:
                    raise ParameterError(
                        f"{self!r}[mask]: boolean mask of shape {idx.shape} does not match "
                        f"{local.size} neurons"
                    )
                sel = local[idx]
            else:
                if idx.size and not np.issubdtype(idx.dtype, np.integer):
                    raise ParameterError(
                        f"{self!r}[...]: indices must be integers, got {idx.dtype}"
                    )
                idx = idx.astype(np.int64).reshape(-1)
                if idx.size and (idx.min() < -local.size or idx.max() >= local.size):
                    raise ParameterError(
                        f"{self!r}[...]: index "
                        f"{int(idx.max()) if idx.max() >= local.size else int(idx.min())} "
                        f"out of range for {local.size} neurons"
                    )
                sel = local[idx]
        if sel.size == 0:
            raise ParameterError(f"{self!r}[{item!r}] selects no neuron; views must not be empty")
        if np.unique(sel).size != sel.size:
            raise ParameterError(f"{self!r}[...]: indices must be unique")
        return PopulationView(self.population, sel)

    def get(self, name: str) -> npt.NDArray[np.float64]:
        """Per-neuron values of the model parameter ``name`` (a copy, in its unit).

        Distributions are sampled as the simulation samples them, so the values are the
        ones the neurons use (before or after a run, with :meth:`set` applied).
        """
        pop = self.population
        if name not in pop.model.defaults:
            raise ParameterError(
                f"{pop.label}.get({name!r}): {pop.model.name} has no parameter {name!r}; "
                f"parameters: {', '.join(pop.model.defaults) or 'none'}"
            )
        values = pop.resolved_model().values(name)
        assert values is not None  # resolved: numbers only
        full = np.broadcast_to(values, (pop.size,))
        out: npt.NDArray[np.float64] = full[self.indices].copy()
        return out

    def set(self, **params: ParamValue) -> None:
        """Change model parameters of the selected neurons (PyNN ``set``, NEST ``SetStatus``).

        Parameters
        ----------
        **params
            ``name=value`` with a number, one value per selected neuron, or a distribution
            (sampled once per neuron from its own stream). Allowed before and after a run:
            on a built network the new values apply from the next step. Neurons that
            event-driven updates skipped are first brought up to date with the old values.
        """
        pop = self.population
        owner = f"{pop.label}.set"
        staged = list(pop._param_sets)
        for name, value in params.items():
            if name not in pop.model.defaults:
                raise ParameterError(
                    f"{owner}({name}=...): {pop.model.name} has no parameter {name!r}; "
                    f"parameters: {', '.join(pop.model.defaults) or 'none'}"
                )
            v = coerce_parameter(owner, name, value, pop.model.units.get(name, ""))
            if isinstance(v, np.ndarray):
                v = coerce_array(owner, name, v, self.size)
            staged.append((name, self.indices.copy(), v))
        model = pop.resolve_with(staged)  # validates the result (e.g. v_thresh > v_reset)
        model.check_dt(self.network.dt)
        engine = self.network.built_engine()
        if engine is not None:
            engine.set_population_arrays(pop.index, model_arrays([model], [pop.size], engine.dt))
        pop._param_sets = staged

    def _state_name(self, name: object, what: str) -> str:
        model = self.population.model
        names = model.float_vars + model.int_vars
        if not isinstance(name, str) or name not in names:
            raise ParameterError(
                f"{self.population.label}.{what}({name!r}): {model.name} has no state variable "
                f"{name!r}; state variables: {', '.join(names) or 'none'}"
            )
        return name

    def get_state(self, name: str) -> npt.NDArray[Any]:
        """Return the values of state variable ``name``, one per selected neuron (a copy).

        Parameters
        ----------
        name : str
            A float variable of the model (``v`` in mV, ``i_exc``/``i_inh`` in nA for
            ``LIF``) or an integer one (``refrac``: refractory steps left).

        Returns
        -------
        ndarray
            The network's state dtype (float64, float32 with ``precision="single"``; int64 or
            int32 for integer variables). Before the first run: the initial values the build
            will use (model defaults, then ``initialize``/``set_state`` calls); reading them
            does not build the network, so the description stays open. After a run: the
            values as of the current step (neurons skipped by event-driven updates are
            advanced on a copy; reading never changes the simulation).
        """
        name = self._state_name(name, "get_state")
        pop = self.population
        engine = self.network.built_engine()
        if engine is None:
            full = pop._initial_state(name)
        else:
            full = engine.get_state(pop, name)
        out: npt.NDArray[Any] = full[self.indices].copy()
        return out

    def set_state(self, name: str, values: InitValue) -> None:
        """Set state variable ``name`` of the selected neurons (NEST ``SetStatus``), at any time.

        Parameters
        ----------
        name : str
            A float variable of the model (``v`` in mV, currents in nA) or an integer one
            (``refrac``, in steps).
        values : float, array or Distribution
            A number, one value per selected neuron, or a distribution (sampled once per
            neuron). Floats must be finite; integer variables take integral values in the
            range the model allows (``refrac`` in ``[0, tau_refrac / dt]``).

        Notes
        -----
        Before the first run this is :meth:`initialize` (it also takes integer variables):
        the value becomes the initial state and the description stays open. On a built
        network (after a run or a load) the new values hold from the current step on: the
        next step starts from them. In event-driven mode the selected neurons are first
        brought up to the current step (the variables not set advance exactly over the steps
        they skipped) and are then updated in the next step whatever their input, so a
        neuron set near threshold is not left resting. A distribution given after the build
        draws from a stream keyed by the population, the variable, the step and the number
        of earlier ``set_state`` calls on the population in this session.
        A refused call changes nothing.
        """
        name = self._state_name(name, "set_state")
        pop = self.population
        model = pop.model
        owner = f"{pop.label}.set_state"
        is_int = name in model.int_vars
        unit = model.units.get(name, "")
        engine = self.network.built_engine()
        if isinstance(values, Distribution):
            if engine is None:
                stored: Any = values
                k = (model.float_vars + model.int_vars).index(name)
                key = key_of(self.network.seed, STREAM_INIT, 64 * pop.index + k)  # as build
                arr = values.sample(key, pop.size)[self.indices]
            else:
                arr = values.sample(pop._set_state_key(name, self.network.step), self.size)
            arr = np.asarray(arr, dtype=np.float64)
        else:
            arr = _state_values(owner, name, values, unit, self.size)
            stored = arr
        if not np.all(np.isfinite(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise ParameterError(
                f"{owner}({name!r}): value {bad} is {float(arr[bad])!r}; state must be finite"
            )
        if is_int:
            if np.any(arr != np.rint(arr)):
                bad = int(np.flatnonzero(arr != np.rint(arr))[0])
                raise ParameterError(
                    f"{owner}({name!r}): value {bad} is {float(arr[bad])!r}; {name} is an integer "
                    f"variable ({unit or 'count'}): give whole numbers"
                )
            if np.any(np.abs(arr) > 2**31 - 1):
                raise ParameterError(
                    f"{owner}({name!r}): values must be within +-(2**31 - 1), got "
                    f"{float(np.max(np.abs(arr)))!r}"
                )
        # check the state the population would have (the model's own rules, e.g. refractory
        # counters within the refractory period)
        floats: dict[str, npt.NDArray[Any]] = {}
        ints: dict[str, npt.NDArray[Any]] = {}
        for var in model.float_vars + model.int_vars:
            current = self.population.get_state(var)
            if var == name:
                current = current.astype(np.int64 if is_int else np.float64)
                current[self.indices] = arr
            (ints if var in model.int_vars else floats)[var] = current
        problem = pop.resolved_model().check_state(floats, ints, self.network.dt, self.network.step)
        if problem:
            raise ParameterError(
                f"{owner}({name!r}, ...): {problem} (values from {float(arr.min())!r} to "
                f"{float(arr.max())!r}); give values the model allows"
            )
        if engine is None:
            pop._init.append((name, self.indices.copy(), stored))
        else:
            engine.set_state(pop, name, self.indices, np.rint(arr) if is_int else arr)

    def initialize(self, **values: InitValue) -> None:
        """Set initial values of state variables (before the first run).

        Parameters
        ----------
        **values
            ``variable=value`` where value is a scalar, an array with one value per
            selected neuron, or a distribution (e.g. ``v=snn.Uniform(-60.0, -50.0)``),
            in the variable's unit (``v`` in mV, currents in nA).
        """
        pop = self.population
        if self.network.built_engine() is not None:
            raise SimulationError(
                f"{pop.label}.initialize: the network was already built (it has run or been "
                "loaded) and initial values apply before the first run; to change the state "
                f"now use {pop.label}.set_state(name, values)"
            )
        valid = pop.model.float_vars
        for name, value in values.items():
            if name not in valid:
                raise ParameterError(
                    f"{pop.label}.initialize({name}=...): unknown state variable; "
                    f"{pop.model.name} has {', '.join(valid) or 'no settable state'}"
                )
            if isinstance(value, Distribution):
                pop._init.append((name, self.indices.copy(), value))
                continue
            # the type policy of model parameters: numbers only, finite, 1-D
            checked = coerce_parameter(
                f"{pop.label}.initialize", name, value, pop.model.units.get(name, "")
            )
            if isinstance(checked, float):
                arr = np.full(self.size, checked)
            else:
                arr = np.asarray(checked, dtype=np.float64)
            if arr.shape != (self.size,):
                raise ParameterError(
                    f"{pop.label}.initialize({name}=array of shape {arr.shape}): need a scalar, "
                    f"a distribution or shape ({self.size},)"
                )
            pop._init.append((name, self.indices.copy(), arr))


def _state_values(owner: str, name: str, raw: Any, unit: str, size: int) -> npt.NDArray[np.float64]:
    """Check a ``set_state`` value (number or one per neuron) and return ``size`` floats."""
    arr = numeric_array(raw, f"{owner}({name!r}, {{}})", "give a number", unit)
    if arr.ndim == 0:
        return np.full(size, float(arr))
    if arr.shape != (size,):
        raise ParameterError(
            f"{owner}({name!r}, array of shape {arr.shape}): need a number, a distribution or "
            f"one value per selected neuron, shape ({size},)"
        )
    return np.asarray(arr, dtype=np.float64)


class Population(_Neurons):
    """A group of neurons sharing one model; created by :meth:`Network.add_population`.

    Indexing (``pop[0:10]``, ``pop[[1, 5]]``) gives a :class:`PopulationView`, usable
    wherever a population is.
    """

    def __init__(
        self, network: Network, index: int, size: int, model: NeuronModel, label: str, start: int
    ) -> None:
        self._network = network
        self.index = index
        self._size = size
        self.model_ = model
        self.label = label
        self.start = start
        self.population = self
        # made on first use (views, build): add_population allocates nothing per neuron
        self._indices: npt.NDArray[np.int64] | None = None
        self._init: list[tuple[str, npt.NDArray[np.int64], Any]] = []
        #: ``set`` calls so far: (parameter, local indices, value)
        self._param_sets: list[tuple[str, npt.NDArray[np.int64], ParamValue]] = []
        #: ``set`` calls already folded into the model (a loaded network's model holds the
        #: values its calls gave); distributions of later calls draw from streams after them
        self.set_calls_before = 0
        #: ``set_state`` calls with a distribution on the built network (their streams)
        self._state_calls = 0

    @property
    def indices(self) -> npt.NDArray[np.int64]:  # noqa: D102
        if self._indices is None:
            self._indices = np.arange(self._size, dtype=np.int64)
        return self._indices

    @property
    def size(self) -> int:  # noqa: D102
        return self._size

    @property
    def model(self) -> NeuronModel:  # noqa: D102
        return self.model_

    def resolved_model(self) -> NeuronModel:
        """Return the model with every parameter a number or ``size`` per-neuron values.

        Distributions are sampled from the network's streams, and the values given to
        :meth:`set` are applied in order.
        """
        return self.resolve_with(self._param_sets)

    def resolve_with(
        self, sets: list[tuple[str, npt.NDArray[np.int64], ParamValue]]
    ) -> NeuronModel:
        """:meth:`resolved_model` with the ``set`` calls ``sets`` instead of those made."""
        net = self.network
        values = resolve_values(self.model_.params, self._size, net.seed, self.index, self.label)
        for call, (name, idx, value) in enumerate(sets, start=self.set_calls_before + 1):
            k = list(self.model_.defaults).index(name)
            new: float | npt.NDArray[np.float64]
            if isinstance(value, Distribution):
                key = key_of(net.seed, STREAM_PARAM, (call << 24) | (64 * self.index + k))
                new = coerce_array(self.label, name, value.sample(key, idx.size), idx.size)
            else:
                new = value
            full = np.array(np.broadcast_to(values[name], (self._size,)), dtype=np.float64)
            full[idx] = new
            values[name] = float(full[0]) if np.all(full == full[0]) else full
        return self.model_.with_values(**values)

    @property
    def set_calls(self) -> int:
        """Number of :meth:`set` calls on the population and its views (files keep it)."""
        return self.set_calls_before + len(self._param_sets)

    @property
    def initial_values(self) -> list[tuple[str, npt.NDArray[np.int64], Any]]:
        """The ``initialize`` calls so far: (variable, local indices, value or distribution)."""
        return list(self._init)

    def __repr__(self) -> str:
        return f"Population({self._size}, {self.model_.name}, label={self.label!r})"

    def set_times(self, times: Sequence[Sequence[float]]) -> None:
        """Give a ``SpikeSource`` population new spike times (``times[i]``: neuron ``i``, ms).

        Before the build this replaces the model's times. On a built network the new
        schedule applies from the next step: times at or before the current time are never
        emitted (call :meth:`Network.reset` first to replay from time 0).
        """
        old = self.model_
        if not isinstance(old, SpikeSource):
            raise ParameterError(
                f"{self.label}.set_times: {old.name} neurons have no spike times; set_times "
                "is for SpikeSource populations"
            )
        model = SpikeSource(times, round_times=old.round_times)
        model.check_size(self._size)
        net = self.network
        engine = net.built_engine()
        step = engine.step if engine is not None else 0
        data = model.static_data(net.dt, step)  # validates the times on the dt grid
        if engine is not None:
            engine.set_static_data(self.index, data)
            pointer = model.initial_int_state(self._size, net.dt, step)["pointer"]
            engine.state_view(self, "pointer")[:] = pointer
        self.model_ = model

    def _initial_state(self, name: str) -> npt.NDArray[Any]:
        """Return the initial values of ``name`` for every neuron, as the build will write them."""
        net = self.network
        model = self.resolved_model()  # distributions sampled, set() calls applied
        floats, ints = initial_state(model, self._size, self.index, self._init, net.seed, net.dt, 0)
        single = net.precision == "single"
        out: npt.NDArray[Any]
        if name in model.int_vars:
            out = ints[model.int_vars.index(name)].astype(np.int32 if single else np.int64)
        else:
            out = floats[model.float_vars.index(name)].astype(np.float32 if single else np.float64)
        return out

    def _set_state_key(self, name: str, step: int) -> np.uint64:
        """Random key of a ``set_state`` call with a distribution on a built network."""
        self._state_calls += 1
        k = (self.model_.float_vars + self.model_.int_vars).index(name)
        index = (self._state_calls << 24) | (64 * self.index + k)
        base = key_of(self.network.seed, STREAM_INIT, index)
        return np.uint64(stream_key(base, np.uint64(step)))


class PopulationView(_Neurons):
    """A subset of a population's neurons (``pop[a:b]`` or ``pop[index_array]``)."""

    def __init__(self, population: Population, indices: npt.NDArray[np.int64]) -> None:
        self.population = population
        self._indices = indices

    @property
    def indices(self) -> npt.NDArray[np.int64]:  # noqa: D102
        return self._indices

    def __repr__(self) -> str:
        return f"PopulationView({self.population.label!r}, {self.size} neurons)"


Target = Population | PopulationView


def check_label(label: object, used: dict[str, Population]) -> str:
    """Return ``label`` if it is a valid, unused population label; else raise ParameterError."""
    what = f"add_population(label={label!r})"
    if not isinstance(label, str):
        raise ParameterError(
            f"{what}: a label must be a string, got {type(label).__name__}; e.g. label='exc'"
        )
    if not LABEL_PATTERN.fullmatch(label):
        bad = sorted({c for c in label if not LABEL_PATTERN.fullmatch(c)})
        problem = "is empty" if not label else f"contains {''.join(bad)!r}"
        raise ParameterError(
            f"{what}: the label {problem}; labels are used in files (SONATA population "
            "names) and must be non-empty and use only letters, digits, '_', '-' and '.', "
            f"e.g. label={re.sub(r'[^A-Za-z0-9_.-]+', '_', label) or 'exc'!r}"
        )
    if label in used:
        first = used[label]
        raise ParameterError(
            f"{what}: label {label!r} is already used by population {first.index} "
            f"({first!r}); every add_population call needs a unique label: choose another "
            "one or omit label for an automatic one"
        )
    return label
