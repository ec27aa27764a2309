"""Compiled kernels of snnsim: pure ``@njit`` functions on arrays (``snnsim.kernels``).

Nothing in this package imports :mod:`snnsim`; every function takes arrays and scalars,
mutates only the outputs its docstring names, and allocates nothing per time step.
JIT flags live in :mod:`snnsim.kernels.jit_options` only.
"""
