"""What a run needs around the compiled loop: machine limits, run counters, Ctrl-C, progress.

Kept apart from :mod:`snnsim.engine` (which owns the arrays and drives the run loop) so that
the engine module holds only the engine.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numba

__all__ = ["HeldInterrupt", "Progress", "RunStats", "available_memory", "max_threads"]


def available_memory() -> int:
    """Bytes of memory available to this process (``MemAvailable``; 16 GiB if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 16 << 30


def max_threads() -> int:
    """Return the number of threads Numba can use (``NUMBA_NUM_THREADS``; all cores by default)."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


@dataclass
class RunStats:
    """Counters of the last ``run`` call (wall time excludes build and compilation)."""

    sim_ms: float = 0.0
    wall_s: float = 0.0
    spikes: int = 0
    synaptic_events: int = 0
    neuron_updates: int = 0

    @property
    def real_time_factor(self) -> float:
        """Wall time divided by simulated time (lower is faster)."""
        return self.wall_s / (self.sim_ms * 1e-3) if self.sim_ms > 0 else float("nan")

    @property
    def events_per_s(self) -> float:
        """Synaptic events delivered per second of wall time."""
        return self.synaptic_events / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def updates_per_s(self) -> float:
        """Neuron updates per second of wall time."""
        return self.neuron_updates / self.wall_s if self.wall_s > 0 else float("nan")


class HeldInterrupt:
    """Hold SIGINT (Ctrl-C) inside a ``with`` block and deliver it where the code says.

    While the block runs, SIGINT only sets :attr:`pending`; :meth:`deliver` (called at
    consistent points) and the end of the block then call the handler that was installed
    before (Python's default raises :class:`KeyboardInterrupt`). Nothing is changed outside
    the main thread (signals are handled there only) or when SIGINT is ignored or left to
    the operating system (``SIG_IGN``, ``SIG_DFL``).
    """

    def __init__(self) -> None:
        self.pending = False
        self._frame: Any = None
        self._previous: Any = None

    def __enter__(self) -> HeldInterrupt:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                try:
                    signal.signal(signal.SIGINT, self._hold)
                except ValueError:  # pragma: no cover - not the main interpreter
                    return self
                self._previous = previous
        return self

    def _hold(self, signum: int, frame: Any) -> None:
        self.pending = True
        self._frame = frame

    def deliver(self) -> None:
        """Call the previous SIGINT handler if a SIGINT arrived (may raise KeyboardInterrupt)."""
        if self.pending and self._previous is not None:
            self.pending = False
            self._previous(signal.SIGINT, self._frame)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._previous is None:
            return
        signal.signal(signal.SIGINT, self._previous)
        if exc_type is None:
            self.deliver()
        self._previous = None


class Progress:
    """One-line progress report on stderr: percent, simulated time, real-time factor."""

    def __init__(self, total_ms: float, dt: float) -> None:
        self.total_ms = total_ms
        self.last = 0.0

    def update(self, sim_ms: float, wall_s: float, spikes: int) -> None:
        """Rewrite the line, at most five times a second."""
        now = time.perf_counter()
        if now - self.last < 0.2 or sim_ms >= self.total_ms:
            return
        self.last = now
        pct = 100.0 * sim_ms / self.total_ms if self.total_ms > 0 else 100.0
        rtf = wall_s / (sim_ms * 1e-3) if sim_ms > 0 else float("nan")
        sys.stderr.write(
            f"\r[snnsim] {pct:5.1f}% | {sim_ms:.1f}/{self.total_ms:.1f} ms | "
            f"RTF {rtf:.3g} | {spikes} spikes   "
        )
        sys.stderr.flush()

    def finish(self, stats: RunStats, stopped: bool = False) -> None:
        """End the line with the run's totals (``stopped``: the run ended early)."""
        if stopped:
            pct = 100.0 * stats.sim_ms / self.total_ms if self.total_ms > 0 else 100.0
            head = f"stopped at {pct:.1f}% | {stats.sim_ms:.1f}/{self.total_ms:.1f} ms"
        else:
            head = f"100.0% | {stats.sim_ms:.1f} ms"
        sys.stderr.write(
            f"\r[snnsim] {head} in {stats.wall_s:.3g} s | "
            f"RTF {stats.real_time_factor:.3g} | {stats.spikes} spikes\n"
        )
        sys.stderr.flush()
