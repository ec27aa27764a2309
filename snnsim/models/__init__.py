"""Neuron and source models: parameters, units, validation and kernel coefficients.

A model class describes one population's dynamics and owns everything the rest of snnsim
needs to know about it: its parameters (units, validation), its float and integer state
variables (units, initial values, how a loaded state is checked), its receptors, the
layout of the coefficients its kernel reads (:attr:`NeuronModel.coefficient_names`,
computed for a given ``dt`` by :meth:`~NeuronModel.coefficients`), and whether it has
event-driven kernels (:attr:`~NeuronModel.event_driven`, :meth:`~NeuronModel.can_idle`,
:meth:`~NeuronModel.gap_propagators`). Engine, files and the run loop ask the model; they
hold no model-specific branches. Units are PyNN's: ms, mV, nA, nF, Hz.

Adding a model touches three places:

1. a kernel module in ``kernels/`` with its update entry point, of the dispatch signature
   (``kernels/lif_delta.py`` is the smallest example);
2. a ``KIND_`` constant and one line in ``MODEL_KERNELS`` (update, and optionally the
   per-neuron-coefficient, event-driven and catch-up kernels) in ``kernels/neurons.py``;
3. a :class:`NeuronModel` subclass in a module of this package, added to :data:`MODELS`
   (below).

Modules: :mod:`~snnsim.models.base` (:class:`NeuronModel`), :mod:`~snnsim.models.lif`
(``LIF``, ``LIFDelta``), :mod:`~snnsim.models.sources` (``PoissonSource``, ``SpikeSource``),
:mod:`~snnsim.models.loihi` (``LoihiLIF``, ``check_mantissas``),
:mod:`~snnsim.models.discrete` (``Leaky``, ``RLeaky``, ``CubaLIF``) and
:mod:`~snnsim.models.astrocytes` (``Astrocyte``, ``AstrocyteLR``). Every public name is
importable from :mod:`snnsim.models` itself.
"""

from __future__ import annotations

from snnsim.models.astrocytes import Astrocyte, AstrocyteLR
from snnsim.models.base import NeuronModel
from snnsim.models.discrete import RESET_MODES, CubaLIF, Leaky, RLeaky
from snnsim.models.lif import LIF, LIFDelta
from snnsim.models.lif import psc_exp_propagator as psc_exp_propagator
from snnsim.models.lif import psp_peak as psp_peak
from snnsim.models.loihi import LoihiLIF, check_mantissas
from snnsim.models.sources import PoissonSource, SpikeSource
from snnsim.timegrid import steps_on_grid

__all__ = [
    "LIF",
    "MODELS",
    "RESET_MODES",
    "Astrocyte",
    "AstrocyteLR",
    "CubaLIF",
    "LIFDelta",
    "Leaky",
    "LoihiLIF",
    "NeuronModel",
    "PoissonSource",
    "RLeaky",
    "SpikeSource",
    "check_mantissas",
    "steps_on_grid",
]

#: Registry of model classes by name (used by files and the CLI).
MODELS: dict[str, type[NeuronModel]] = {
    cls.name: cls
    for cls in (
        LIF,
        LIFDelta,
        LoihiLIF,
        PoissonSource,
        SpikeSource,
        Leaky,
        RLeaky,
        CubaLIF,
        Astrocyte,
        AstrocyteLR,
    )
}
