r"""Benchmark networks built once as NumPy arrays, so every simulator runs the identical network.

Every builder is deterministic in its ``seed``: it draws connectivity, initial membrane
potentials, delays and drive from independent child streams of
``numpy.random.SeedSequence(seed)``. The result is a :class:`NetworkArrays` that each runner
(snnsim, Brian2, NEST) translates into its own objects.

Units are PyNN's throughout: ms, mV, nA, nF, MOhm.

The neuron model for all networks is the current-based LIF with exponential synaptic currents
(NEST ``iaf_psc_exp``, PyNN ``IF_curr_exp``):

.. math::

    \tau_m \frac{dV}{dt} = (V_{rest} - V) + \frac{\tau_m}{C_m}(I_e + I_i + I_{offset}), \quad
    \frac{dI_e}{dt} = -\frac{I_e}{\tau_{syn,e}}, \quad
    \frac{dI_i}{dt} = -\frac{I_i}{\tau_{syn,i}}

with a spike when :math:`V \ge V_{thresh}`, after which :math:`V = V_{reset}` is clamped for
``tau_refrac`` ms. A spike of neuron ``i`` adds ``w`` (nA) to :math:`I_e` (``w >= 0``) or
:math:`I_i` (``w <= 0``) of neuron ``j`` after ``delay`` ms.

Connectivity is Bernoulli: every ordered pair ``(i, j)`` (self-connections included, as in
Brian2's ``connect(p=...)``) exists independently with probability ``p``. It is drawn in
O(n_synapses) time and memory by geometric skipping over the flattened ``n x n`` pair index,
which yields synapses already sorted by source, then target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "BUILDERS",
    "NetworkArrays",
    "bernoulli_pairs",
    "cuba",
    "cuba_scaled",
    "event_dominated",
    "network_from_spec",
    "sparse_activity",
]

#: Names of the LIF parameters every network carries, with their PyNN units.
PARAM_UNITS: dict[str, str] = {
    "tau_m": "ms",
    "cm": "nF",
    "v_rest": "mV",
    "v_reset": "mV",
    "v_thresh": "mV",
    "tau_syn_exc": "ms",
    "tau_syn_inh": "ms",
    "tau_refrac": "ms",
    "i_offset": "nA",
}

# Brette et al. 2007 CUBA, as in Brian2's example ``examples/CUBA.py``.
_CUBA_PARAMS: dict[str, float] = {
    "tau_m": 20.0,
    "cm": 1.0,
    "v_rest": -49.0,
    "v_reset": -60.0,
    "v_thresh": -50.0,
    "tau_syn_exc": 5.0,
    "tau_syn_inh": 10.0,
    "tau_refrac": 5.0,
    "i_offset": 0.0,
}
#: Brian2's CUBA jumps of the conductance-like ``ge``/``gi`` (mV): we = 60*0.27/10, wi = -20*4.5/10.
CUBA_WE_MV: float = 60 * 0.27 / 10
CUBA_WI_MV: float = -20 * 4.5 / 10


@dataclasses.dataclass(frozen=True, eq=False)
class NetworkArrays:
    """A network as flat arrays, shared by every simulator of a benchmark.

    Parameters
    ----------
    name : str
        Short label, e.g. ``"cuba_4000"``.
    n : int
        Number of neurons. Neurons ``0 .. n_exc-1`` are excitatory, the rest inhibitory.
    n_exc : int
        Number of excitatory neurons.
    sources, targets : numpy.ndarray of int64, shape (n_synapses,)
        Presynaptic and postsynaptic neuron indices, sorted by source, then target.
    weights : numpy.ndarray of float64, shape (n_synapses,)
        Current jumps (nA); ``>= 0`` for excitatory and ``<= 0`` for inhibitory sources.
    delays : numpy.ndarray of float64, shape (n_synapses,)
        Transmission delays (ms), integer multiples of ``dt`` and ``>= dt``.
    v0 : numpy.ndarray of float64, shape (n,)
        Initial membrane potentials (mV).
    dt : float
        Integration time step (ms).
    duration : float
        Biological time to simulate (ms).
    params : dict
        LIF parameters in PyNN units (see :data:`PARAM_UNITS`). ``i_offset`` (nA) is a float, or
        a float64 array of shape ``(n,)`` when the drive differs per neuron; use
        :meth:`i_offset_array` to always get an array.
    spec : dict or None
        ``{"builder": name, "kwargs": {...}}`` that rebuilds this network with
        :func:`network_from_spec` (set by the builders), used to rebuild it in a subprocess.

    Notes
    -----
    The arrays are made read-only on construction.
    """

    name: str
    n: int
    n_exc: int
    sources: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    delays: np.ndarray
    v0: np.ndarray
    dt: float
    duration: float
    params: dict[str, Any]
    spec: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        m = self.sources.shape[0]
        for field in ("sources", "targets", "weights", "delays"):
            arr = getattr(self, field)
            if arr.ndim != 1 or arr.shape[0] != m:
                raise ValueError(
                    f"NetworkArrays({self.name!r}): {field} has shape {arr.shape}, "
                    f"expected ({m},) like sources"
                )
        if self.v0.shape != (self.n,):
            raise ValueError(
                f"NetworkArrays({self.name!r}): v0 has shape {self.v0.shape}, expected ({self.n},)"
            )
        if not 0 <= self.n_exc <= self.n:
            raise ValueError(
                f"NetworkArrays({self.name!r}): n_exc={self.n_exc} not in [0, {self.n}]"
            )
        missing = set(PARAM_UNITS) - set(self.params)
        if missing:
            raise ValueError(f"NetworkArrays({self.name!r}): params lacks {sorted(missing)}")
        for field in ("sources", "targets", "weights", "delays", "v0"):
            getattr(self, field).setflags(write=False)

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return int(self.sources.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of time steps in ``duration``."""
        return round(self.duration / self.dt)

    def bytes(self) -> int:
        """Total size of the arrays (bytes)."""
        arrays = (self.sources, self.targets, self.weights, self.delays, self.v0)
        extra = self.params["i_offset"]
        return int(sum(a.nbytes for a in arrays) + getattr(extra, "nbytes", 0))

    def delay_steps(self) -> np.ndarray:
        """Delays as integer numbers of time steps (int64, shape (n_synapses,))."""
        return np.rint(self.delays / self.dt).astype(np.int64)

    def i_offset_array(self) -> np.ndarray:
        """Constant input current per neuron (nA, float64, shape (n,))."""
        return np.broadcast_to(np.asarray(self.params["i_offset"], dtype=np.float64), (self.n,))

    def scalar_params(self) -> dict[str, float]:
        """LIF parameters other than ``i_offset`` as floats (PyNN units)."""
        return {k: float(v) for k, v in self.params.items() if k != "i_offset"}

    def check(self) -> None:
        """Validate sortedness, index ranges, signs and the delay grid.

        Raises
        ------
        ValueError
            If any invariant documented on the class is violated.
        """
        src, tgt = self.sources, self.targets
        if src.dtype != np.int64 or tgt.dtype != np.int64:
            raise ValueError("sources and targets must be int64")
        if self.n_synapses:
            if src.min() < 0 or src.max() >= self.n or tgt.min() < 0 or tgt.max() >= self.n:
                raise ValueError(f"indices outside [0, {self.n})")
            key = src * self.n + tgt
            if np.any(np.diff(key) < 0):
                raise ValueError("synapses are not sorted by (source, target)")
        exc = src < self.n_exc
        if np.any(self.weights[exc] < 0) or np.any(self.weights[~exc] > 0):
            raise ValueError("excitatory weights must be >= 0 and inhibitory <= 0")
        steps = self.delays / self.dt
        if np.any(np.abs(steps - np.rint(steps)) > 1e-9) or np.any(np.rint(steps) < 1):
            raise ValueError(f"delays must be integer multiples of dt={self.dt} ms, >= dt")


def bernoulli_pairs(
    n_pre: int, n_post: int, p: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw every ``(pre, post)`` pair independently with probability ``p``.

    Uses geometric skipping over the flattened pair index, so time and memory are
    O(number of pairs drawn), never O(n_pre * n_post).

    Parameters
    ----------
    n_pre, n_post : int
        Number of presynaptic and postsynaptic neurons.
    p : float
        Connection probability, in [0, 1].
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pre, post : numpy.ndarray of int64
        Indices sorted by ``pre``, then ``post``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"bernoulli_pairs(p={p}): p must be in [0, 1]")
    total = int(n_pre) * int(n_post)
    if p == 0.0 or total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy()
    if p == 1.0:
        flat = np.arange(total, dtype=np.int64)
    else:
        expected = total * p
        chunk = int(min(max(expected + 6.0 * np.sqrt(expected) + 64, 1024), 1 << 23))
        pieces = []
        last = -1
        while True:
            pos = np.cumsum(rng.geometric(p, size=chunk), dtype=np.int64)
            pos += last
            if pos[-1] >= total:
                pieces.append(pos[: np.searchsorted(pos, total)])
                break
            pieces.append(pos)
            last = int(pos[-1])
        flat = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    pre = flat // n_post
    post = flat - pre * n_post
    return pre, post


def _streams(seed: int, k: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(k)]


def _make(
    name: str,
    n: int,
    n_exc: int,
    pre: np.ndarray,
    post: np.ndarray,
    w_exc: float,
    w_inh: float,
    delays: np.ndarray,
    v0: np.ndarray,
    dt: float,
    duration: float,
    params: dict[str, Any],
    spec: dict[str, Any],
) -> NetworkArrays:
    weights = np.where(pre < n_exc, w_exc, w_inh).astype(np.float64)
    return NetworkArrays(
        name=name,
        n=int(n),
        n_exc=int(n_exc),
        sources=pre,
        targets=post,
        weights=weights,
        delays=delays,
        v0=v0,
        dt=float(dt),
        duration=float(duration),
        params=params,
        spec=spec,
    )


def _check_common(fn: str, n: int, dt: float, duration: float) -> None:
    if n < 1:
        raise ValueError(f"{fn}(n={n}): n must be >= 1")
    if dt <= 0 or duration < 0:
        raise ValueError(f"{fn}(dt={dt}, duration={duration}): need dt > 0 ms, duration >= 0 ms")


def cuba(
    n: int = 4000,
    seed: int = 0,
    *,
    p: float = 0.02,
    duration: float = 1000.0,
    dt: float = 0.1,
) -> NetworkArrays:
    """Brette et al. (2007) CUBA benchmark as in Brian2's ``CUBA.py`` example, in current form.

    80 % excitatory neurons, Bernoulli connectivity with probability ``p`` over all ordered pairs
    (self-connections allowed, as Brian2's ``connect(p=0.02)``), a delay of one step (``dt``) on
    every synapse, ``v0`` uniform in [v_reset, v_thresh) = [-60, -50) mV.

    Brian2's example adds ``we = 60*0.27/10`` mV (``wi = -20*4.5/10`` mV) to a conductance-like
    ``ge`` with ``dv/dt = (ge + gi - (v - El))/taum``. The same dynamics in current form add
    ``w_nA = w_mV * cm / tau_m``: 0.081 nA (exc) and -0.45 nA (inh).

    Parameters
    ----------
    n : int
        Number of neurons.
    seed : int
        Seed of the network (connectivity and ``v0``).
    p : float
        Connection probability.
    duration : float
        Biological time to simulate (ms).
    dt : float
        Time step (ms); also the synaptic delay.

    Returns
    -------
    NetworkArrays
    """
    _check_common("cuba", n, dt, duration)
    kwargs = {"n": n, "seed": seed, "p": p, "duration": duration, "dt": dt}
    spec = {"builder": "cuba", "kwargs": kwargs}
    return _cuba(f"cuba_{n}", n, seed, p, duration, dt, spec)


def cuba_scaled(
    n: int,
    seed: int = 0,
    *,
    in_degree: float = 80.0,
    duration: float = 1000.0,
    dt: float = 0.1,
) -> NetworkArrays:
    """CUBA (see :func:`cuba`) with ``p = in_degree / n``: fixed expected in-degree 80.

    Parameters
    ----------
    n : int
        Number of neurons.
    seed : int
        Seed of the network.
    in_degree : float
        Expected number of inputs per neuron.
    duration : float
        Biological time to simulate (ms).
    dt : float
        Time step (ms); also the synaptic delay.

    Returns
    -------
    NetworkArrays
    """
    _check_common("cuba_scaled", n, dt, duration)
    if not 0 < in_degree <= n:
        raise ValueError(f"cuba_scaled(in_degree={in_degree}): need 0 < in_degree <= n={n}")
    spec = {
        "builder": "cuba_scaled",
        "kwargs": {"n": n, "seed": seed, "in_degree": in_degree, "duration": duration, "dt": dt},
    }
    return _cuba(f"cuba_scaled_{n}", n, seed, in_degree / n, duration, dt, spec)


def _cuba(
    name: str, n: int, seed: int, p: float, duration: float, dt: float, spec: dict[str, Any]
) -> NetworkArrays:
    params: dict[str, Any] = dict(_CUBA_PARAMS)
    scale = params["cm"] / params["tau_m"]
    n_exc = round(0.8 * n)
    rng_conn, rng_v0 = _streams(seed, 2)
    pre, post = bernoulli_pairs(n, n, p, rng_conn)
    v0 = rng_v0.uniform(params["v_reset"], params["v_thresh"], size=n)
    delays = np.full(pre.shape[0], dt, dtype=np.float64)
    return _make(
        name, n, n_exc, pre, post, CUBA_WE_MV * scale, CUBA_WI_MV * scale,
        delays, v0, dt, duration, params, spec,
    )  # fmt: skip


#: Excitatory / inhibitory current jumps (nA) at in-degree 1000 for :func:`event_dominated`.
EVENT_W_EXC: float = 0.02
EVENT_W_INH: float = -0.12
#: Constant drive (nA) of every neuron in :func:`event_dominated`.
EVENT_I_OFFSET: float = 3.0


def event_dominated(
    n: int = 8000,
    in_degree: float = 1000.0,
    seed: int = 0,
    *,
    delay: float = 1.0,
    duration: float = 1000.0,
    dt: float = 0.1,
) -> NetworkArrays:
    """High fan-out network in which synaptic events outnumber neuron updates.

    CUBA time constants (tau_m 20 ms, cm 1 nF, tau_syn 5/10 ms, tau_refrac 5 ms) with
    ``v_rest = v_reset = -65`` mV, ``v_thresh = -50`` mV and a constant ``i_offset`` of 3 nA on
    every neuron (steady state 60 mV above rest, i.e. strongly suprathreshold). 80 % excitatory
    neurons; Bernoulli connectivity with ``p = in_degree / n`` (self-connections allowed); one
    fixed ``delay`` on all synapses. Inhibition-dominated weights, at in-degree 1000:
    ``EVENT_W_EXC`` = 0.02 nA (PSP peak about 0.06 mV) and ``EVENT_W_INH`` = -0.12 nA (g = 6),
    scaled by ``1000 / in_degree``.

    The recurrent inhibition holds the network in an asynchronous state at about 15 Hz, so each
    neuron receives ``rate * in_degree`` (about 1.5 x 10^4) events per second, more than its
    10^4 updates per second at dt = 0.1 ms. Measured for 1 s, seed 0, n = 8000 (8.0 M
    synapses): Brian2 cpp_standalone 120 168 spikes (15.0 Hz), NEST 3.10 119 200 (14.9 Hz); the
    coefficient of variation of the population spike count in 1 ms bins is about 0.3, as in
    CUBA. CUBA's own recipe (its weights scaled to in-degree 1000, ``v_rest`` above threshold)
    was rejected: at any weight giving 10-20 Hz it fires in synchronous volleys (that CV is 3-5).

    Parameters
    ----------
    n : int
        Number of neurons.
    in_degree : float
        Expected number of inputs per neuron. Weights are scaled by ``1000 / in_degree``.
    seed : int
        Seed of the network.
    delay : float
        Synaptic delay of every synapse (ms), rounded to the ``dt`` grid (at least ``dt``).
    duration : float
        Biological time to simulate (ms).
    dt : float
        Time step (ms).

    Returns
    -------
    NetworkArrays
    """
    _check_common("event_dominated", n, dt, duration)
    if not 0 < in_degree <= n:
        raise ValueError(f"event_dominated(in_degree={in_degree}): need 0 < in_degree <= n={n}")
    steps = max(1, round(delay / dt))
    spec = {
        "builder": "event_dominated",
        "kwargs": {
            "n": n, "in_degree": in_degree, "seed": seed, "delay": delay,
            "duration": duration, "dt": dt,
        },
    }  # fmt: skip
    params: dict[str, Any] = dict(_CUBA_PARAMS)
    params.update(v_rest=-65.0, v_reset=-65.0, i_offset=EVENT_I_OFFSET)
    n_exc = round(0.8 * n)
    rng_conn, rng_v0 = _streams(seed, 2)
    pre, post = bernoulli_pairs(n, n, in_degree / n, rng_conn)
    v0 = rng_v0.uniform(params["v_reset"], params["v_thresh"], size=n)
    delays = np.full(pre.shape[0], steps * dt, dtype=np.float64)
    scale = 1000.0 / in_degree
    return _make(
        f"event_dominated_{n}", n, n_exc, pre, post, EVENT_W_EXC * scale, EVENT_W_INH * scale,
        delays, v0, dt, duration, params, spec,
    )  # fmt: skip


#: Parameters of :func:`sparse_activity` (PyNN units).
_SPARSE_PARAMS: dict[str, float] = {
    "tau_m": 20.0,
    "cm": 1.0,
    "v_rest": -65.0,
    "v_reset": -65.0,
    "v_thresh": -50.0,
    "tau_syn_exc": 5.0,
    "tau_syn_inh": 10.0,
    "tau_refrac": 5.0,
}
SPARSE_DRIVEN_FRACTION: float = 0.01
SPARSE_DRIVE_NA: tuple[float, float] = (0.8, 1.0)
SPARSE_BACKGROUND_NA: tuple[float, float] = (0.0, 0.7)
SPARSE_W_EXC: float = 0.25
SPARSE_W_INH: float = -1.0


def sparse_activity(
    n: int = 256000,
    seed: int = 0,
    *,
    in_degree: float = 80.0,
    max_delay: float = 20.0,
    duration: float = 1000.0,
    dt: float = 0.1,
) -> NetworkArrays:
    """Large network with sparse activity (mean rate below 1 Hz) and heterogeneous delays.

    Resting potential -65 mV, threshold -50 mV. A fraction ``SPARSE_DRIVEN_FRACTION`` of the
    neurons (chosen at random) gets a suprathreshold ``i_offset`` uniform in
    ``SPARSE_DRIVE_NA`` (nA; 15-20 mV above rest, i.e. tonic at 17-30 Hz); every other neuron gets
    a subthreshold ``i_offset`` uniform in ``SPARSE_BACKGROUND_NA`` (steady state 0-14 mV above
    rest) and fires only when enough coincident input arrives. Connectivity is Bernoulli with
    ``p = in_degree / n`` (80 % excitatory, self-connections allowed), weights are fixed per
    population (``SPARSE_W_EXC`` = 0.25 nA, PSP peak about 0.8 mV; ``SPARSE_W_INH`` = -1.0 nA),
    and every delay is drawn uniformly from the grid ``{dt, 2 dt, ..., max_delay}``.

    Measured for 1 s, seed 0: n = 256 000 (20.5 M synapses), Brian2 cpp_standalone 140 604
    spikes, i.e. 0.55 Hz: the driven 1 % fire at about 22 Hz and about 7 % of the others are
    recruited (0.33 Hz mean over the background). At n = 32 000: Brian2 19 349 spikes
    (0.60 Hz), NEST 3.10 18 871 (2.5 % fewer: the recruited neurons sit close to threshold and
    amplify the simulators' tiny numerical differences).

    Parameters
    ----------
    n : int
        Number of neurons.
    seed : int
        Seed of the network.
    in_degree : float
        Expected number of inputs per neuron.
    max_delay : float
        Largest delay (ms); delays are uniform on the ``dt`` grid in ``[dt, max_delay]``.
    duration : float
        Biological time to simulate (ms).
    dt : float
        Time step (ms).

    Returns
    -------
    NetworkArrays
        ``params["i_offset"]`` is a float64 array of shape ``(n,)``.
    """
    _check_common("sparse_activity", n, dt, duration)
    if not 0 < in_degree <= n:
        raise ValueError(f"sparse_activity(in_degree={in_degree}): need 0 < in_degree <= n={n}")
    max_steps = max(1, round(max_delay / dt))
    spec = {
        "builder": "sparse_activity",
        "kwargs": {
            "n": n, "seed": seed, "in_degree": in_degree, "max_delay": max_delay,
            "duration": duration, "dt": dt,
        },
    }  # fmt: skip
    n_exc = round(0.8 * n)
    rng_conn, rng_v0, rng_delay, rng_drive = _streams(seed, 4)
    pre, post = bernoulli_pairs(n, n, in_degree / n, rng_conn)
    params: dict[str, Any] = dict(_SPARSE_PARAMS)
    i_offset = rng_drive.uniform(*SPARSE_BACKGROUND_NA, size=n)
    n_driven = round(SPARSE_DRIVEN_FRACTION * n)
    driven = rng_drive.choice(n, size=n_driven, replace=False)
    i_offset[driven] = rng_drive.uniform(*SPARSE_DRIVE_NA, size=n_driven)
    i_offset.setflags(write=False)
    params["i_offset"] = i_offset
    v0 = rng_v0.uniform(params["v_reset"], params["v_thresh"], size=n)
    delays = rng_delay.integers(1, max_steps + 1, size=pre.shape[0]).astype(np.float64) * dt
    return _make(
        f"sparse_activity_{n}", n, n_exc, pre, post, SPARSE_W_EXC, SPARSE_W_INH,
        delays, v0, dt, duration, params, spec,
    )  # fmt: skip


#: Builders by name, as used in network specs.
BUILDERS: dict[str, Callable[..., NetworkArrays]] = {
    "cuba": cuba,
    "cuba_scaled": cuba_scaled,
    "event_dominated": event_dominated,
    "sparse_activity": sparse_activity,
}


def network_from_spec(spec: dict[str, Any]) -> NetworkArrays:
    """Rebuild a network from ``{"builder": name, "kwargs": {...}, "seed": int (optional)}``.

    Parameters
    ----------
    spec : dict
        ``builder`` is a key of :data:`BUILDERS`; ``kwargs`` are passed to it; a top-level
        ``seed`` overrides ``kwargs["seed"]``.

    Returns
    -------
    NetworkArrays
    """
    name = spec.get("builder")
    if name not in BUILDERS:
        raise ValueError(f"network spec builder={name!r}: expected one of {sorted(BUILDERS)}")
    kwargs = dict(spec.get("kwargs", {}))
    if "seed" in spec:
        kwargs["seed"] = int(spec["seed"])
    return BUILDERS[name](**kwargs)
