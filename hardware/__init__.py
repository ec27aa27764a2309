"""Hardware layer of snnsim (``snnsim.hardware``): design rules and exporters.

>>> from snnsim import hardware as hw
>>> report = hw.check(net, "loihi2")               # doctest: +SKIP
>>> hw.export(net, "nir", "net.nir")               # doctest: +SKIP
>>> net2 = hw.import_nir("net.nir")                # doctest: +SKIP
>>> qnet, qreport = hw.quantize(net, "loihi2")     # doctest: +SKIP

:func:`check` tests a network against a board's limits (:mod:`snnsim.hardware.targets`,
:mod:`snnsim.hardware.rules`); :func:`export` runs the check of the format's target first
and refuses what it cannot run, naming the rule, unless the rule is named in
``drop=[...]`` (recorded in the file). Exporters are imported on first use, so the optional
packages they need (``nir``) are only required when they are used. :func:`quantize`
(:mod:`snnsim.hardware.quantize`) turns float LIF networks into LoihiLIF networks.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snnsim.hardware import spinnaker
from snnsim.hardware.quantize import QuantizationReport, QuantizedNetwork, quantize
from snnsim.hardware.rules import Report, Violation, check
from snnsim.hardware.targets import TARGETS, Target, get_target

from snnsim.errors import MissingDependencyError, ParameterError

if TYPE_CHECKING:
    from snnsim.network import Network

__all__ = [
    "EXPORT_FORMATS",
    "TARGETS",
    "QuantizationReport",
    "QuantizedNetwork",
    "Report",
    "Target",
    "Violation",
    "check",
    "export",
    "get_target",
    "import_nir",
    "quantize",
    "spinnaker",
]

#: Export format -> (module, function, design-rule target checked before writing).
EXPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    "nir": ("snnsim.hardware.nir", "export_nir", "nir"),
    "pynn": ("snnsim.hardware.pynn_export", "export_pynn", "spinnaker1"),
    "netx": ("snnsim.hardware.netx", "export_netx", "loihi2"),
}


def export(
    net: Network, target: str, path: str | Path, *, drop: list[str] | tuple[str, ...] = (),
    **options: Any,
) -> Path:  # fmt: skip
    """Check ``net`` against the format's target, then write it with that format's exporter.

    Parameters
    ----------
    net : Network
    target : {"nir", "pynn", "netx"}
        File format: NIR graph (checked against ``"nir"``), PyNN script (``"spinnaker1"``),
        Lava-DL NetX HDF5 (``"loihi2"``).
    path : str or Path
    drop : list of str
        Rule names whose violations to leave out instead of refusing the network (e.g.
        ``["astrocytes"]``, ``["plasticity"]``); recorded in the file's metadata.
    **options
        Passed to the exporter (NIR: ``dt`` in seconds, ``delays="nodes"|"error"``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    HardwareConstraintError
        Naming every rule the network breaks (with numbers, where, and the fix).
    MissingDependencyError
        If the exporter's module (or an optional package it needs) is not installed.
    """
    if target not in EXPORT_FORMATS:
        raise ParameterError(
            f"export(target={target!r}): formats are {', '.join(map(repr, EXPORT_FORMATS))}"
        )
    module_name, func_name, rules_target = EXPORT_FORMATS[target]
    report = check(net, rules_target)
    report.require(drop)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise MissingDependencyError(
            f"export(target={target!r}): the exporter {module_name}.{func_name} is not part of "
            "this snnsim installation yet"
        ) from None
    func = getattr(module, func_name)
    accepted = inspect.signature(func).parameters
    extra: dict[str, Any] = {}
    for key, value in (("drop", list(drop)), ("report", report)):
        if key in accepted:
            extra[key] = value
        elif key == "drop" and drop:
            raise ParameterError(
                f"export(target={target!r}, drop={list(drop)!r}): {func_name} cannot record "
                "dropped features in its file; fix the network instead"
            )
    result = func(net, path, **extra, **options)
    return Path(result) if result is not None else Path(path)


def import_nir(path: str | Path, **options: Any) -> Network:
    """Read a NIR file into a new network (see :func:`snnsim.hardware.nir.import_nir`)."""
    from snnsim.hardware.nir import import_nir as _import

    return _import(path, **options)
