"""Populations of neurons of one model, and views onto subsets of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.build import model_arrays
from snnsim.distributions import Distribution
from snnsim.errors import ParameterError
from snnsim.models import NeuronModel
from snnsim.parameters import ParamValue, coerce_array, coerce_parameter, resolve_values
from snnsim.streams import STREAM_PARAM, key_of

if TYPE_CHECKING:
    from snnsim.network import Network

__all__ = ["Population", "PopulationView", "Target"]

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
        self.network.require_unbuilt(f"{pop.label}.initialize")
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

    def get_state(self, name: str) -> npt.NDArray[Any]:
        """Return the current value of a state variable, one entry per neuron (a copy)."""
        return self.network.build().get_state(self, name)


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
