"""Populations of neurons of one model, and views onto subsets of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ParameterError
from snnsim.models import NeuronModel

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
        self.network._invalidate(f"{pop.label}.initialize")
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
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim == 0:
                arr = np.full(self.size, float(arr))
            if arr.shape != (self.size,):
                raise ParameterError(
                    f"{pop.label}.initialize({name}=array of shape {arr.shape}): need a scalar, "
                    f"a distribution or shape ({self.size},)"
                )
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"{pop.label}.initialize({name}=...): values must be finite")
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
        self._indices = np.arange(size, dtype=np.int64)
        self._init: list[tuple[str, npt.NDArray[np.int64], Any]] = []

    @property
    def indices(self) -> npt.NDArray[np.int64]:  # noqa: D102
        return self._indices

    @property
    def model(self) -> NeuronModel:  # noqa: D102
        return self.model_

    def __repr__(self) -> str:
        return f"Population({self._size}, {self.model_.name}, label={self.label!r})"

    def get_state(self, name: str) -> npt.NDArray[Any]:
        """Return the current value of a state variable, one entry per neuron (a copy)."""
        return self.network._engine_or_build().get_state(self, name)


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
