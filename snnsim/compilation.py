"""Watching Numba compile snnsim's kernels: a notice before it starts, and its duration.

The first ``build`` in a new installation (or for a network with new array types, e.g.
per-synapse delays or single precision) compiles kernels for tens of seconds before anything
else happens. :func:`watch_compilation` listens to Numba's event API: ``"numba:compile"``
starts only when a kernel is really compiled (not when it is loaded from the disk cache), so
the notice is printed before compilation begins and never for a warm cache; the time spent
holding Numba's compiler lock (compiling, or loading compiled code from the cache) is the
compile time, which :func:`snnsim.engine.build_engine` reports apart from the build time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TextIO

from numba.core import event

from snnsim.kernels import jit_options

__all__ = ["COLD_COMPILE_S", "CompileWatch", "watch_compilation"]

#: Seconds a cold compile of the kernels of one network type takes, roughly: measured 16 to
#: 36 s wall (12 to 21 s of CPU) for ``snnsim demo``, ``snnsim run`` and ``examples/delays.py``
#: with an empty cache on 2 shared Xeon cores, numba 0.68.
COLD_COMPILE_S = 25


def compile_notice() -> str:
    """Return the line printed before kernels are compiled (says why it takes a while)."""
    if jit_options.CACHE:
        return (
            f"[snnsim] compiling kernels (once per installation and network type, about "
            f"{COLD_COMPILE_S} s; cached in {jit_options.CACHE_DIR})..."
        )
    return (
        f"[snnsim] compiling kernels (about {COLD_COMPILE_S} s in every new process; the disk "
        f"cache is {jit_options.CACHE_SOURCE})..."
    )


class CompileWatch(event.Listener):
    """Numba event listener: prints the notice at the first compilation, times compiling.

    Parameters
    ----------
    stream : text stream or None
        Where the notice goes (``None``: print nothing, only measure).
    """

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        #: whether some kernel was compiled (not just loaded from the cache)
        self.compiled = False
        #: seconds spent compiling, outermost compilations only
        self.compile_s = 0.0
        self._depth = 0
        self._t0 = 0.0

    def on_start(self, ev: Any) -> None:
        """Start of a compilation: print the notice the first time."""
        if self._depth == 0:
            if not self.compiled and self.stream is not None:
                self.stream.write(compile_notice() + "\n")
                self.stream.flush()
            self.compiled = True
            self._t0 = time.perf_counter()
        self._depth += 1

    def on_end(self, ev: Any) -> None:
        """End of a compilation."""
        self._depth -= 1
        if self._depth == 0:
            self.compile_s += time.perf_counter() - self._t0

    def report(self) -> None:
        """After compiling: print how long it took (nothing if nothing was compiled)."""
        if self.compiled and self.stream is not None:
            self.stream.write(f"[snnsim] kernels compiled in {self.compile_s:.1f} s\n")
            self.stream.flush()


@contextmanager
def watch_compilation(progress: bool) -> Iterator[tuple[CompileWatch, Any]]:
    """Watch Numba while the body runs.

    Parameters
    ----------
    progress : bool
        Print the compile notice (on stderr) before the first kernel is compiled.

    Yields
    ------
    watch : CompileWatch
        Whether anything was compiled, and for how long.
    lock : numba.core.event.TimingListener
        ``lock.duration`` (when ``lock.done``): seconds spent holding Numba's compiler lock,
        i.e. compiling or loading compiled kernels from the disk cache.
    """
    watch = CompileWatch(sys.stderr if progress else None)
    lock = event.TimingListener()
    with ExitStack() as stack:
        stack.enter_context(event.install_listener("numba:compile", watch))
        stack.enter_context(event.install_listener("numba:compiler_lock", lock))
        yield watch, lock
