"""snnsim: an event-driven spiking neural network simulator with Numba kernels.

>>> import snnsim as snn
>>> net = snn.Network(dt=0.1, seed=1)

See the README for the quickstart, the model equations, units and time conventions.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from snnsim import errors, plot
from snnsim.connectors import (
    AllToAll,
    Connector,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    FixedTotalNumber,
    FromList,
    OneToOne,
)
from snnsim.distributions import Distribution, Normal, Uniform
from snnsim.engine import RunStats
from snnsim.inputs import PoissonInput, StepCurrent
from snnsim.io import load, read_sonata_spikes, save, write_sonata_spikes
from snnsim.models import LIF, LIFDelta, NeuronModel, PoissonSource, SpikeSource
from snnsim.monitors import RateRecorder, SpikeRecorder, StateRecorder
from snnsim.network import Network, Projection
from snnsim.populations import Population, PopulationView

try:
    __version__ = version("snnsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "LIF",
    "AllToAll",
    "Connector",
    "Distribution",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedProbability",
    "FixedTotalNumber",
    "FromList",
    "LIFDelta",
    "Network",
    "NeuronModel",
    "Normal",
    "OneToOne",
    "PoissonInput",
    "PoissonSource",
    "Population",
    "PopulationView",
    "Projection",
    "RateRecorder",
    "RunStats",
    "SpikeRecorder",
    "SpikeSource",
    "StateRecorder",
    "StepCurrent",
    "Uniform",
    "__version__",
    "errors",
    "load",
    "plot",
    "read_sonata_spikes",
    "save",
    "write_sonata_spikes",
]
