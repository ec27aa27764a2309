"""The only place where JIT flags are set.

``fastmath`` stays off so results are reproducible and NaN behaves; ``cache=True`` makes
a warm start fast; ``nogil=True`` lets other Python threads run while a kernel runs.
Set ``SNNSIM_NO_CACHE=1`` to switch the on-disk cache off (e.g. on a read-only install).
"""

from __future__ import annotations

import os
from typing import Any

CACHE: bool = os.environ.get("SNNSIM_NO_CACHE", "") not in ("1", "true", "yes")

#: Options for serial kernels.
JIT: dict[str, Any] = {"cache": CACHE, "nogil": True, "fastmath": False, "error_model": "numpy"}

#: Options for kernels with a ``prange`` loop over thread partitions.
JIT_PARALLEL: dict[str, Any] = {**JIT, "parallel": True}


def start_threads() -> None:
    """Start Numba's thread pool, choosing a layer that cannot clash with NEST's OpenMP.

    Call before the first parallel kernel runs. PyNEST imports with ``RTLD_GLOBAL`` and ships
    its own libgomp: if NEST was imported before Numba's ``omp`` layer is loaded, that layer
    binds to NEST's libgomp and NEST segfaults in its next ``ResetKernel``. In that case (and
    unless ``NUMBA_THREADING_LAYER`` was set) the ``workqueue`` layer is used instead; results
    do not depend on the layer.
    """
    import sys

    import numba
    from numba.np.ufunc import parallel

    if parallel._is_initialized:
        return
    if "nest" in sys.modules and numba.config.THREADING_LAYER == "default":  # type: ignore[attr-defined]
        numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
    parallel._launch_threads()
