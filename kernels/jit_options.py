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
