"""The public API contract: exactly these names, all importable, and a silent import."""

from __future__ import annotations

import subprocess
import sys

import snnsim

#: The public names of snnsim (the contract; change deliberately, with a changelog entry).
EXPECTED_ALL = [
    "LIF",
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
    "LoihiLIF",
    "Leaky",
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
    "STDP",
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


def test_all_matches_the_contract():
    """snnsim.__all__ lists exactly the expected public names, without duplicates."""
    assert sorted(snnsim.__all__) == sorted(EXPECTED_ALL)
    assert len(set(snnsim.__all__)) == len(snnsim.__all__)


def test_every_public_name_resolves():
    """Every name in __all__ is an attribute of snnsim, and star-import provides them all."""
    for name in EXPECTED_ALL:
        assert getattr(snnsim, name) is not None, name
    ns: dict = {}
    exec("from snnsim import *", ns)
    assert set(EXPECTED_ALL) <= set(ns)
    assert isinstance(snnsim.__version__, str) and snnsim.__version__


def test_error_module_exports():
    """snnsim.errors exports the typed errors used throughout the API."""
    for name in (
        "SnnsimError",
        "ParameterError",
        "ConnectivityError",
        "ResourceError",
        "SimulationError",
        "FileFormatError",
    ):
        assert issubclass(getattr(snnsim.errors, name), Exception)


def test_import_prints_nothing():
    """`import snnsim` in a fresh interpreter writes nothing to stdout or stderr."""
    proc = subprocess.run(
        [sys.executable, "-c", "import snnsim"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == ""
