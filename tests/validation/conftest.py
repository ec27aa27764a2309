"""Start Numba's thread pool at collection time, before any test can import NEST.

PyNEST imports with ``RTLD_GLOBAL`` and ships its own libgomp. Once NEST is imported, any
Numba parallel kernel that starts Numba's OpenMP pool (snnsim's build does this safely via
``start_threads``, but e.g. the benchmark micro-kernels do not) binds it to NEST's libgomp,
and the next ``nest.ResetKernel()`` segfaults. Starting the pool here, during collection,
keeps the whole session safe whatever the test order.
"""

from __future__ import annotations

from snnsim.kernels.jit_options import start_threads

start_threads()
