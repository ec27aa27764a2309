"""snnsim: an event-driven spiking neural network simulator with Numba kernels.

>>> import snnsim as snn
>>> net = snn.Network(dt=0.1, seed=1)

See the README for the quickstart, the model equations, units and time conventions.

Checkpoints and SONATA files (:mod:`snnsim.io`, which needs h5py) and plotting
(:mod:`snnsim.plot`, matplotlib) are imported on first use: building and running a
network loads neither.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from snnsim import errors
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
from snnsim.delay_plasticity import DelayPlasticity
from snnsim.distributions import Distribution, Normal, Uniform
from snnsim.engine import RunStats
from snnsim.inputs import PoissonInput, StepCurrent
from snnsim.models import (
    LIF,
    Astrocyte,
    AstrocyteLR,
    CubaLIF,
    Leaky,
    LIFDelta,
    LoihiLIF,
    NeuronModel,
    PoissonSource,
    RLeaky,
    SpikeSource,
)
from snnsim.monitors import RateRecorder, SpikeRecorder, StateRecorder, WeightRecorder
from snnsim.network import Network, Projection
from snnsim.plasticity import STDP
from snnsim.populations import Population, PopulationView

if TYPE_CHECKING:
    from snnsim import plot
    from snnsim.io import load, read_sonata_spikes, save, write_sonata_spikes

#: Public names resolved on first access: name -> (module, attribute or "" for the module).
_LAZY: dict[str, tuple[str, str]] = {
    "load": ("snnsim.io", "load"),
    "save": ("snnsim.io", "save"),
    "read_sonata_spikes": ("snnsim.io", "read_sonata_spikes"),
    "write_sonata_spikes": ("snnsim.io", "write_sonata_spikes"),
    "plot": ("snnsim.plot", ""),
}


def __getattr__(name: str) -> Any:
    """Import the lazily exported names (:data:`_LAZY`) on first access."""
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'snnsim' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


try:
    __version__ = version("snnsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "LIF",
    "STDP",
    "AllToAll",
    "Astrocyte",
    "AstrocyteLR",
    "Connector",
    "CubaLIF",
    "DelayPlasticity",
    "Distribution",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedProbability",
    "FixedTotalNumber",
    "FromList",
    "LIFDelta",
    "Leaky",
    "LoihiLIF",
    "Network",
    "NeuronModel",
    "Normal",
    "OneToOne",
    "PoissonInput",
    "PoissonSource",
    "Population",
    "PopulationView",
    "Projection",
    "RLeaky",
    "RateRecorder",
    "RunStats",
    "SpikeRecorder",
    "SpikeSource",
    "StateRecorder",
    "StepCurrent",
    "Uniform",
    "WeightRecorder",
    "__version__",
    "errors",
    "load",
    "plot",
    "read_sonata_spikes",
    "save",
    "write_sonata_spikes",
]
