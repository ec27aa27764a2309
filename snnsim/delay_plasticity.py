r"""Delay plasticity: :class:`DelayPlasticity`, arrivals drawn towards postsynaptic spikes.

``net.connect(..., plasticity=snn.DelayPlasticity(...), delay_bounds=(d_min, d_max))``
(alone or in a list with :class:`~snnsim.plasticity.STDP`) makes the projection's delays
plastic: they live in its mutable block (uint16 steps), ``proj.get("delay")`` returns them,
and checkpoints save them.

Source and what is kept
-----------------------
Matsubara (2017, "Conduction delay learning model for unsupervised and supervised
classification of spatio-temporal spike patterns", Front. Comput. Neurosci. 11:104) moves
each conduction delay :math:`\tau_i` along the gradient of a likelihood in which an input
spike at :math:`s` arriving at :math:`s + \tau_i` predicts a postsynaptic spike at
:math:`t` through a temporal relation function :math:`g(t - s - \tau_i)`, a Gaussian of
mean :math:`\mu` and width :math:`\sigma`. For one pair the delay gradient of
:math:`\log g` is

.. math::

    \frac{\partial \log g}{\partial \tau_i} = \frac{t - \mu - (s + \tau_i)}{\sigma^2},

so each delay moves its arrival towards :math:`t - \mu` (the "delay shift" family of
Eurich et al., Phys. Rev. Lett. 82:1594, 1999). snnsim keeps this direction and makes it
integer, local and event-driven.

The rule (integer steps, deterministic)
---------------------------------------
With the delay :math:`d` of a synapse in steps, :math:`a` the arrival stamp of its
previous presynaptic spike (:math:`a = t_{prev} + d_{prev}`, a per-synapse array the rule
declares, ``dp_arrival``), :math:`W` the window, :math:`\lambda` the lead (both in steps)
and :math:`m` the largest step: when the synapse's next presynaptic spike, stamped
:math:`t`, is delivered, take the postsynaptic spike :math:`n^*` of the target closest
to :math:`a + \lambda` among those with

.. math::

    |n - a| \le W,\qquad n \le t

and among its last :math:`d_{max} + W + 3` spikes at or before :math:`t` (the spike
history every neuron with plastic inputs keeps; ties: the later spike), and with
:math:`e = n^* - \lambda - a`

.. math::

    d \leftarrow \min\bigl(d_{max}, \max\bigl(d_{min},\;
        d + \operatorname{sgn}(e) \min(|e|, m)\bigr)\bigr),

then transmit the spike with the new delay and set :math:`a \leftarrow t + d`. No
postsynaptic spike in the window: nothing changes. An arrival before :math:`n^* -
\lambda` lengthens the delay, a later one (also one after the postsynaptic spike)
shortens it, by at most ``max_step`` steps and never past the alignment.

Where it differs from Matsubara's rule: one pairing per arrival (the nearest
postsynaptic spike, not a sum weighted by responsibilities), a step of the error's sign
(at most ``max_step``, not :math:`\eta e/\sigma^2`), a hard window instead of a Gaussian
tail, no weight update (combine with STDP for that), and the change is applied at the
next presynaptic spike of the synapse, when every postsynaptic spike up to it is known:
this makes the result independent of threads, chunking and split runs (all postsynaptic
spikes at or before the presynaptic stamp :math:`t` are in the history when the spike is
delivered). ``proj.get("delay")`` therefore returns the delays as of each synapse's last
presynaptic spike; pairs whose postsynaptic spike came after it are pending (as NEST's
pending STDP facilitation).

Bounds and chunking: ``delay_bounds=(d_min, d_max)`` (ms, on the grid) are declared on
``connect``; the run loop's chunk length (the minimum delay) is at most ``d_min`` and the
ring buffer holds ``d_max``, so a changed delay never lets a spike arrive inside the chunk
it was sent in. Threads: a synapse's delay, arrival and the target's spike history are
written only by the thread that owns the target (target-partitioned delivery).

With STDP on the same projection, the weight update of a presynaptic spike (STDP) uses the
delay before that spike's delay update; when a delay changes by :math:`\Delta` steps, the
facilitation of a postsynaptic spike that reached the synapse within those
:math:`|\Delta|` steps before the spike is applied twice (delay grew) or not at all
(shrank). This is deterministic (threads, chunks, split runs, resume) and affects at most
``max_step`` postsynaptic spikes per change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from snnsim.distributions import Distribution
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.plasticity import STDP, SynapseArray

__all__ = ["MAX_PLASTIC_DELAY_STEPS", "N_DELAY_PARAMS", "DelayPlasticity", "split_rules"]

#: Largest delay bound (steps): uint16 delays.
MAX_PLASTIC_DELAY_STEPS = 65535

#: Values per rule in the engine's ``dp_param`` rows (see :meth:`DelayPlasticity.as_row`).
N_DELAY_PARAMS = 6


@dataclass(frozen=True)
class DelayPlasticity:
    r"""Delay learning that moves arrivals towards postsynaptic spikes (module docstring).

    Parameters
    ----------
    window : float
        Largest distance (ms, > 0, on the grid) between an input's arrival and the
        postsynaptic spike it pairs with.
    lead : float
        Arrivals are drawn to ``lead`` ms before the postsynaptic spike (>= 0, on the grid;
        Matsubara's :math:`\mu`).
    max_step : int
        Largest change of a delay per pairing (steps, >= 1).
    """

    window: float = 10.0
    lead: float = 0.0
    max_step: int = 1
    #: the arrival stamp of each synapse's previous spike (steps, -1: none yet)
    synapse_arrays: ClassVar[tuple[SynapseArray, ...]] = (
        SynapseArray("dp_arrival", "int64", "steps (arrival of the previous spike, -1: none)", -1),
    )

    def __post_init__(self) -> None:
        for name in ("window", "lead"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"DelayPlasticity({name}={value!r}): must be a number (ms)")
            if not math.isfinite(value):
                raise ParameterError(f"DelayPlasticity({name}={value!r}): must be finite")
        if self.window <= 0:
            raise ParameterError(f"DelayPlasticity(window={self.window!r}): must be > 0 ms")
        if self.lead < 0:
            raise ParameterError(f"DelayPlasticity(lead={self.lead!r}): must be >= 0 ms")
        step = self.max_step
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ParameterError(
                f"DelayPlasticity(max_step={step!r}): must be an integer >= 1 (steps)"
            )

    def steps(self, dt: float, what: str) -> tuple[int, int]:
        """Return ``(window, lead)`` in steps; raise unless both are multiples of ``dt``."""
        out = []
        for name in ("window", "lead"):
            value = float(getattr(self, name))
            k = round(value / dt)
            if abs(k * dt - value) > 1e-9 * max(1.0, abs(value)):
                raise ParameterError(
                    f"{what}: DelayPlasticity({name}={value!r}) is not a multiple of "
                    f"dt={dt!r} ms; use {k * dt:g}"
                )
            out.append(k)
        return out[0], out[1]

    def as_row(self, dt: float, bounds: tuple[int, int], arrival_row: int) -> list[float]:
        """Return the rule as the engine stores it (a ``dp_param`` row).

        ``window``, ``lead`` (ms), ``max_step``, the bounds (steps) and the row of the
        ``dp_arrival`` array in ``mb_sa_i64`` (see :func:`~snnsim.plasticity.synapse_array_rows`).
        """
        return [
            float(self.window), float(self.lead), float(self.max_step), float(bounds[0]),
            float(bounds[1]), float(arrival_row),
        ]  # fmt: skip

    @classmethod
    def from_row(cls, row: Any) -> DelayPlasticity:
        """Inverse of :meth:`as_row` (the rule; the bounds are :func:`bounds_of_row`)."""
        return cls(window=float(row[0]), lead=float(row[1]), max_step=int(row[2]))

    @staticmethod
    def bounds_of_row(row: Any, dt: float) -> tuple[float, float]:
        """``delay_bounds`` (ms) of a ``dp_param`` row."""
        return float(row[3]) * dt, float(row[4]) * dt

    def describe(self) -> dict[str, Any]:
        """Plain description (for files and messages)."""
        return {
            "rule": "DelayPlasticity", "window": self.window, "lead": self.lead,
            "max_step": self.max_step,
        }  # fmt: skip


def split_rules(plasticity: Any) -> tuple[STDP | None, DelayPlasticity | None]:
    """Split ``connect(plasticity=...)`` (a rule, a list of rules or None) by kind."""
    if plasticity is None:
        return None, None
    rules = list(plasticity) if isinstance(plasticity, (list, tuple)) else [plasticity]
    stdp = [r for r in rules if isinstance(r, STDP)]
    delay = [r for r in rules if isinstance(r, DelayPlasticity)]
    other = [r for r in rules if not isinstance(r, (STDP, DelayPlasticity))]
    if other or not rules:
        raise ConnectivityError(
            f"connect(plasticity={plasticity!r}): expected a rule such as snn.STDP(...), "
            "snn.DelayPlasticity(...), a list of them, or None"
        )
    if len(stdp) > 1 or len(delay) > 1:
        raise ConnectivityError(
            f"connect(plasticity={plasticity!r}): at most one STDP and one DelayPlasticity "
            "rule per projection"
        )
    return (stdp[0] if stdp else None), (delay[0] if delay else None)


def check_delay_bounds(
    rule: DelayPlasticity | None, bounds: Any, delay: Any, dt: float, what: str
) -> tuple[float, float] | None:
    """Check ``connect(delay_bounds=...)`` against the rule and the delays; return the bounds.

    The bounds (ms) are required with a :class:`DelayPlasticity` rule and refused without
    one; they must be on the grid with ``dt <= d_min <= d_max <= 65535 dt``, and scalar or
    array delays (the default is one step) must lie within them (values drawn from a
    distribution are checked when the network is built).
    """
    if rule is None:
        if bounds is not None:
            raise ConnectivityError(
                f"{what}: delay_bounds={bounds!r} without a DelayPlasticity rule; pass "
                "plasticity=snn.DelayPlasticity(...) or omit delay_bounds"
            )
        return None
    rule.steps(dt, what)
    if bounds is None:
        raise ConnectivityError(
            f"{what}: plasticity=DelayPlasticity(...) needs delay_bounds=(d_min, d_max) in ms "
            "(the ring depth and the chunk length are fixed when the network is built)"
        )
    try:
        d_min, d_max = (float(x) for x in bounds)
    except (TypeError, ValueError):
        raise ConnectivityError(
            f"{what}: delay_bounds={bounds!r}; give two numbers (d_min, d_max) in ms"
        ) from None
    steps = []
    for value in (d_min, d_max):
        k = round(value / dt) if math.isfinite(value) else 0
        if not math.isfinite(value) or abs(k * dt - value) > 1e-9 * max(1.0, abs(value)):
            raise ConnectivityError(
                f"{what}: delay_bounds={bounds!r}: {value!r} ms is not a multiple of dt={dt!r}"
            )
        steps.append(k)
    if not 1 <= steps[0] <= steps[1] <= MAX_PLASTIC_DELAY_STEPS:
        raise ConnectivityError(
            f"{what}: delay_bounds={bounds!r}: need dt <= d_min <= d_max <= "
            f"{MAX_PLASTIC_DELAY_STEPS * dt:g} ms"
        )
    if not isinstance(delay, Distribution):
        values = np.asarray(dt if delay is None else delay, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size:
            check_delays_within((d_min, d_max), float(values.min()), float(values.max()), what)
    return d_min, d_max


def check_delays_within(bounds: tuple[float, float], lo: float, hi: float, what: str) -> None:
    """Raise ``ConnectivityError`` unless delays in ``[lo, hi]`` ms lie within ``bounds``."""
    eps = 1e-9 * max(1.0, abs(bounds[1]))
    if lo < bounds[0] - eps or hi > bounds[1] + eps:
        raise ConnectivityError(
            f"{what}: delays in [{lo:g}, {hi:g}] ms do not lie within delay_bounds="
            f"({bounds[0]:g}, {bounds[1]:g}); change the delays or the bounds"
        )
