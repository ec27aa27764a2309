"""The ``/engine`` group of a checkpoint: the simulation state, driven by the registry.

:func:`write_engine` stores every saved entry of
:data:`snnsim.engine_state.ENGINE_ARRAYS` (with its ``units``) and every
:data:`~snnsim.engine_state.ENGINE_SCALARS` attribute. :func:`read_engine` checks every
declared dataset (presence, dtype, shape implied by the description) before reading any,
reads them, runs each entry's validator, rebuilds the derived arrays and constructs the
:class:`~snnsim.engine.Engine` from the resulting fields. Neither function names an
individual array: adding an engine array is one registry entry.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from snnsim import h5safe
from snnsim.engine import Engine
from snnsim.engine_state import (
    ENGINE_ARRAYS,
    ENGINE_SCALARS,
    Layout,
    StateCheck,
    check_registry,
    saved_arrays,
)
from snnsim.h5safe import Reader

__all__ = ["read_engine", "write_engine"]


def write_engine(f: Any, eng: Engine) -> None:
    """Write ``/engine``: every saved registry array and scalar of ``eng``.

    Parameters
    ----------
    f : h5py.File
        File open for writing.
    eng : Engine
        The engine to store.
    """
    check_registry()
    g = f.create_group("engine")
    for entry in saved_arrays():
        arr = np.asarray(getattr(eng, entry.name))
        h5safe.write_dataset(
            g,
            entry.name,
            arr.astype(entry.stored_dtype(arr, eng.precision), copy=False),
            entry.units,
        )
    for scalar in ENGINE_SCALARS:
        g.attrs[scalar.name] = np.int64(getattr(eng, scalar.name))
        g.attrs[f"{scalar.name}_units"] = scalar.units
    g.attrs["n"] = np.int64(eng.n)


def read_engine(r: Reader, layout: Layout, config: dict[str, Any]) -> Engine:
    """Validate and read ``/engine`` against ``layout``; return the Engine.

    Parameters
    ----------
    r : Reader
        Reader on the open file (whose structure :func:`snnsim.h5safe.check_structure` has
        already checked).
    layout : Layout
        What the network description implies.
    config : dict
        The Engine fields that come from the root attributes (``dt``, ``seed``,
        ``threads``, ``threads_auto``, ``precision``, ``event_driven``).

    Returns
    -------
    Engine

    Raises
    ------
    FileFormatError
        On any missing, malformed or inconsistent array or attribute.
    """
    g = r.group("/engine")
    scalars = {s.name: r.attr_int(g, s.name, s.lo, s.hi) for s in ENGINE_SCALARS}
    if scalars["step"] != layout.step:
        raise r.fail("/engine attribute 'step'", "does not match the root attribute 'step'")
    if r.attr_int(g, "n") != layout.n:
        raise r.fail("/engine attribute 'n'", f"does not match the {layout.n} neurons described")
    # declared dtypes and shapes of every array first, then the values
    declared = {
        e.name: r.dataset(g, e.name, e.dtype.for_precision(layout.precision), e.shape(layout))
        for e in saved_arrays()
    }
    arrays = {name: r.read(ds) for name, ds in declared.items()}
    check = StateCheck(layout, arrays, scalars, r.fail)
    for entry in saved_arrays():
        if entry.validate is not None:
            entry.validate(arrays[entry.name], check)
    for entry in ENGINE_ARRAYS:
        if entry.derive is not None:
            arrays[entry.name] = entry.derive(layout)
    fields: dict[str, Any] = {**config, "n": layout.n, **arrays, **scalars}
    return Engine(**fields)
