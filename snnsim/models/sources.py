"""Spike sources: Poisson and given spike times (they receive no input)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError
from snnsim.kernels import neurons as _k
from snnsim.models.base import NeuronModel
from snnsim.timegrid import ON_GRID_TOL


class PoissonSource(NeuronModel):
    r"""Poisson spike source (PyNN ``SpikeSourcePoisson``, NEST ``poisson_generator`` + parrot).

    Each neuron spikes independently in each step with probability
    :math:`1 - e^{-\nu\, dt}` (at most one spike per step), drawn from the counter-based
    stream of its population, so the spike trains do not depend on threads or chunking.

    Parameters
    ----------
    rate : float, array or Distribution, Hz
        Mean firing rate, ``>= 0`` and at most one spike per step (``rate * dt <= 1``,
        checked by ``add_population``, where ``dt`` is known).
    """

    name = "PoissonSource"
    kind = _k.KIND_POISSON_SOURCE
    defaults = {"rate": 1.0}
    units = {"rate": "Hz"}
    coefficient_names = ("p_spike",)

    def _validate(self) -> None:
        self._require("rate", lambda x: x >= 0, ">= 0 Hz")

    def check_dt(self, dt: float) -> None:
        """Refuse rates with ``rate * dt > 1``: a source spikes at most once per step."""
        rates = self.values("rate")
        if rates is None or not rates.size:  # a distribution: checked once sampled
            return
        i = int(np.argmax(rates))
        p = float(rates[i]) * dt * 1e-3
        if p > 1.0:
            where = "" if rates.size == 1 else f" (neuron {i})"
            raise ParameterError(
                f"PoissonSource(rate={float(rates[i])!r}{where}): rate * dt = {p:g} > 1 at "
                f"dt={dt} ms, but a source spikes at most once per step; use rate <= "
                f"{1e3 / dt:g} Hz, a smaller dt, or several sources at a lower rate"
            )

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        c = np.zeros(len(self.coefficient_names))
        c[0] = -math.expm1(-self.scalars()["rate"] * dt * 1e-3)
        return c


class SpikeSource(NeuronModel):
    """Spike source emitting given times (PyNN ``SpikeSourceArray``, NEST ``spike_generator``).

    Parameters
    ----------
    times : sequence of sequences of float, ms
        ``times[i]`` are the spike times of neuron ``i``, strictly increasing, each
        ``>= dt`` and a multiple of ``dt`` (a spike at time ``t`` is reported at ``t``
        and reaches its targets at ``t + delay``, as in NEST on-grid mode).
    round_times : bool
        Round off-grid times to the nearest step instead of refusing them.
    """

    name = "SpikeSource"
    kind = _k.KIND_SPIKE_SOURCE
    defaults: ClassVar[dict[str, float]] = {}
    units = {"times": "ms"}
    int_vars = ("pointer",)

    def __init__(
        self, times: Sequence[Sequence[float]] | Sequence[float], round_times: bool = False
    ) -> None:
        rows: list[npt.NDArray[np.float64]] = []
        example = "e.g. times=[[10.0, 20.0], [15.0]] (ms); for one neuron use times=[[...]]"
        if times is None or isinstance(times, (str, bytes, int, float, complex, np.number)):
            raise ParameterError(
                f"SpikeSource(times={times!r}): give one list of spike times per neuron, " + example
            )
        try:
            seq = list(times)
        except TypeError:
            raise ParameterError(
                f"SpikeSource(times={times!r}): times must be a list of lists of times, " + example
            ) from None
        if seq and all(isinstance(x, (int, float, np.integer, np.floating)) for x in seq):
            raise ParameterError(
                "SpikeSource(times=[...]): give one list of times per neuron, " + example
            )
        for i, row in enumerate(seq):
            if row is None or isinstance(row, (str, bytes, bool, np.bool_)):
                raise ParameterError(
                    f"SpikeSource: times[{i}]={row!r} is not a list of spike times (ms); " + example
                )
            try:
                raw = np.asarray(row)
            except (TypeError, ValueError):
                raw = np.asarray([object()])
            if raw.size and raw.dtype.kind not in "iuf":
                raise ParameterError(
                    f"SpikeSource: times[{i}] holds values of type {raw.dtype}, not numbers; "
                    "give real spike times in ms, " + example
                )
            rows.append(np.asarray(raw, dtype=np.float64).reshape(-1))
        # finite and strictly increasing: all rows at once, then the first faulty one alone
        sizes = np.array([arr.size for arr in rows], dtype=np.int64)
        flat = np.concatenate(rows) if rows else np.zeros(0)
        owner = np.repeat(np.arange(sizes.size), sizes)
        bad = np.zeros(sizes.size, dtype=bool)
        bad[owner[~np.isfinite(flat)]] = True
        later = np.ones(flat.size, dtype=bool)
        later[(np.cumsum(sizes) - sizes)[sizes > 0]] = False  # not the first time of its row
        bad[owner[1:][(np.diff(flat) <= 0) & later[1:]]] = True
        if bad.any():
            i = int(np.argmax(bad))
            arr = rows[i]
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"SpikeSource: times[{i}] contains NaN or Inf")
            raise ParameterError(
                f"SpikeSource: times[{i}] must be strictly increasing; got {arr.tolist()[:10]}"
            )
        if not isinstance(round_times, (bool, np.bool_)):
            raise ParameterError(
                f"SpikeSource(round_times={round_times!r}): round_times must be True or False"
            )
        self.times = rows
        self.round_times = bool(round_times)
        self._params = {}
        self._given = frozenset()

    def __repr__(self) -> str:
        return f"SpikeSource(times=<{len(self.times)} neurons>)"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SpikeSource)
            and len(other.times) == len(self.times)
            and all(np.array_equal(a, b) for a, b in zip(other.times, self.times, strict=True))
        )

    def __hash__(self) -> int:
        return hash(("SpikeSource", len(self.times)))

    def check_size(self, size: int) -> None:  # noqa: D102
        if len(self.times) != size:
            raise ParameterError(
                f"SpikeSource: times has {len(self.times)} rows but the population has "
                f"{size} neurons; give one list of times per neuron"
            )

    def schedule(self, dt: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Spike stamps (steps) per neuron as CSR ``(indptr, steps)``."""
        sizes = np.array([row.size for row in self.times], dtype=np.int64)
        indptr = np.zeros(sizes.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        times = np.concatenate(self.times) if self.times else np.zeros(0)
        x = times / dt
        n = np.rint(x)
        steps = n.astype(np.int64)
        # all neurons at once; the first neuron with a fault is then checked alone, for
        # its message
        owner = np.repeat(np.arange(sizes.size), sizes)
        bad = np.zeros(sizes.size, dtype=bool)
        if not self.round_times:
            bad[owner[np.abs(x - n) > ON_GRID_TOL * np.maximum(1.0, np.abs(x))]] = True
        bad[owner[steps < 1]] = True
        later = np.ones(steps.size, dtype=bool)
        later[indptr[:-1][sizes > 0]] = False  # not the first spike of its neuron
        bad[owner[1:][(np.diff(steps) <= 0) & later[1:]]] = True
        if bad.any():
            self._check_row(int(np.argmax(bad)), dt)
        return indptr, steps

    def _check_row(self, i: int, dt: float) -> None:
        """Raise the error of neuron ``i``'s times on the ``dt`` grid."""
        row = self.times[i]
        x = row / dt
        n = np.rint(x)
        off = np.abs(x - n) > ON_GRID_TOL * np.maximum(1.0, np.abs(x))
        if not self.round_times and np.any(off):
            raise ParameterError(
                f"SpikeSource: times[{i}] contains {float(row[off][0])!r} ms, not a multiple of "
                f"dt={dt} ms; use multiples of dt or round_times=True"
            )
        steps = n.astype(np.int64)
        if steps.size and steps[0] < 1:
            raise ParameterError(
                f"SpikeSource: times[{i}] contains {float(row[0])!r} ms; spike times must be "
                f">= dt={dt} ms (a spike is stamped at the end of its step)"
            )
        raise ParameterError(
            f"SpikeSource: times[{i}] has two spikes in one step after rounding to "
            f"dt={dt} ms; a source emits at most one spike per step"
        )

    def check_dt(self, dt: float) -> None:
        """Check that every time is on the ``dt`` grid (unless rounded) and ``>= dt``."""
        self.schedule(dt)

    def static_data(self, dt: float, t_now_steps: int) -> npt.NDArray[np.int64]:  # noqa: D102
        indptr, steps = self.schedule(dt)
        return np.concatenate([indptr, steps]).astype(np.int64)

    def initial_int_state(self, size: int, dt: float, t_now_steps: int) -> dict[str, Any]:  # noqa: D102
        indptr, steps = self.schedule(dt)
        # each row increases: the spikes already emitted are those at or before now
        owner = np.repeat(np.arange(size), np.diff(indptr))
        done = np.bincount(owner[steps <= t_now_steps], minlength=size)
        return {"pointer": indptr[:-1] + done}

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"model": self.name, "params": {}, "round_times": self.round_times}

    file_arrays: ClassVar[dict[str, type[np.generic]]] = {
        "times_indptr": np.int64, "times": np.float64,
    }  # fmt: skip
    file_attrs: ClassVar[tuple[str, ...]] = ("round_times",)

    def file_data(  # noqa: D102
        self,
    ) -> tuple[dict[str, tuple[npt.NDArray[Any], str]], dict[str, Any]]:
        indptr = np.zeros(len(self.times) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([r.size for r in self.times])
        times = np.concatenate(self.times) if self.times else np.zeros(0)
        arrays = {
            "times_indptr": (indptr, "1 (index into times)"),
            "times": (times.astype(np.float64), "ms"),
        }
        return arrays, {"round_times": bool(self.round_times)}

    @classmethod
    def from_file(  # noqa: D102
        cls, size: int, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]],
        attrs: dict[str, Any],
    ) -> NeuronModel:  # fmt: skip
        indptr, times = arrays["times_indptr"], arrays["times"]
        if indptr.shape != (size + 1,) or indptr[0] != 0 or np.any(np.diff(indptr) < 0) or (
            indptr[-1] != times.size
        ):  # fmt: skip
            raise ParameterError(
                f"SpikeSource: times_indptr must have {size + 1} entries from 0, not decrease "
                "and end at len(times)"
            )
        rows = [times[indptr[i] : indptr[i + 1]].tolist() for i in range(size)]
        return cls(rows, round_times=bool(attrs.get("round_times", False)))

    def check_state(  # noqa: D102
        self,
        floats: dict[str, npt.NDArray[np.floating[Any]]],
        ints: dict[str, npt.NDArray[np.integer[Any]]],
        dt: float,
        step: int,
    ) -> str:
        want = self.initial_int_state(len(self.times), dt, step)["pointer"]
        if not np.array_equal(ints["pointer"], want):
            return f"spike pointers do not match step {step}"
        return ""
