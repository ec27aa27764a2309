"""The one exception hierarchy of snnsim.

Every error raised on bad user input derives from :class:`SnnsimError` and from the
matching builtin (``ValueError``, ``TypeError``, ``MemoryError``), so ``except ValueError``
keeps working for callers who do not know snnsim. Messages say what was passed, what is
allowed and how to fix it, e.g. ``LIF(tau_m=-5.0): tau_m must be > 0 ms``.
"""

from __future__ import annotations

__all__ = [
    "ConnectivityError",
    "FileFormatError",
    "HardwareConstraintError",
    "MissingDependencyError",
    "ParameterError",
    "ResourceError",
    "SimulationError",
    "SnnsimError",
]


class SnnsimError(Exception):
    """Base class of every error snnsim raises on purpose."""


class ParameterError(SnnsimError, ValueError):
    """A model, input or network parameter is out of range, of the wrong shape or unknown."""


class ConnectivityError(SnnsimError, ValueError):
    """A connector, weight, delay or receptor specification cannot be realised."""


class FileFormatError(SnnsimError, ValueError):
    """A file is not a valid snnsim or SONATA file (truncated, wrong dtype, bad indices...)."""


class HardwareConstraintError(SnnsimError, ValueError):
    """A network violates the limits of a neuromorphic target."""


class SimulationError(SnnsimError, RuntimeError):
    """The network cannot be run in its current state (e.g. edited after it was built)."""


class ResourceError(SnnsimError, MemoryError):
    """A request would need more memory than this machine has; raised before allocating."""


class MissingDependencyError(SnnsimError, ModuleNotFoundError):
    """An optional dependency is not installed; the message names the pip extra."""
