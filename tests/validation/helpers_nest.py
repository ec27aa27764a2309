"""Import NEST safely next to snnsim in one process (shared by the validation tests).

PyNEST imports with ``RTLD_GLOBAL`` and ships its own libgomp; if NEST is imported before
Numba's OpenMP thread pool is started, NEST segfaults in its next ``ResetKernel``. snnsim
starts the pool safely when it builds a network (``snnsim.kernels.jit_options.start_threads``);
this helper does it before importing NEST too, for tests that use NEST before snnsim.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from snnsim.kernels.jit_options import start_threads


def import_nest() -> Any:
    """Import NEST (skip the test if it is missing), quiet, with a fresh kernel."""
    start_threads()
    os.environ.setdefault("PYNEST_QUIET", "1")
    nest = pytest.importorskip("nest")
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    return nest
