r"""Benchmark networks built once as compact NumPy arrays, so every simulator runs the same network.

Every builder is deterministic in its ``seed``: it draws connectivity, initial membrane
potentials, delays and drive from independent child streams of
``numpy.random.SeedSequence(seed)``. The result is a :class:`NetworkArrays`. The harness
(:mod:`benchmarks.compare`) builds each network once, writes it to a folder with
:meth:`NetworkArrays.save`, and every simulator's child process memory-maps the same files
(:meth:`NetworkArrays.load`) and translates them into its own objects.

Units are PyNN's throughout: ms, mV, nA, nF, MOhm, Hz.

The neuron model for all networks is the current-based LIF with exponential synaptic currents
(NEST ``iaf_psc_exp``, PyNN ``IF_curr_exp``):

.. math::

    \tau_m \frac{dV}{dt} = (V_{rest} - V) + \frac{\tau_m}{C_m}(I_e + I_i + I_{offset}), \quad
    \frac{dI_e}{dt} = -\frac{I_e}{\tau_{syn,e}}, \quad
    \frac{dI_i}{dt} = -\frac{I_i}{\tau_{syn,i}}

with a spike when :math:`V \ge V_{thresh}`, after which :math:`V = V_{reset}` is clamped for
``tau_refrac`` ms. A spike of neuron ``i`` adds ``w`` (nA) to :math:`I_e` (``w >= 0``) or
:math:`I_i` (``w < 0``) of neuron ``j`` after ``delay`` ms.

Storage is compact (the full-scale microcircuit has 0.3 G synapses): int32 neuron indices
(int64 only beyond 2^31 neurons), float32 weights (every simulator gets these float32 values),
delays as uint8 or uint16 numbers of steps: 13 bytes per synapse with uint8 delays.

Connectivity of the CUBA-like networks is Bernoulli: every ordered pair ``(i, j)``
(self-connections included, as in Brian2's ``connect(p=...)``) exists independently with
probability ``p``, drawn in O(n_synapses) time and memory by geometric skipping over the
flattened ``n x n`` pair index. The microcircuit uses NEST's ``fixed_total_number`` rule
(multapses and autapses allowed). Synapses are sorted by source, then target.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.stdp import rule_for

__all__ = [
    "BUILDERS",
    "PD_POPULATIONS",
    "PD_REFERENCE_RATES_HZ",
    "NetworkArrays",
    "PoissonDrive",
    "PopulationBlock",
    "bernoulli_pairs",
    "cuba",
    "cuba_scaled",
    "cuba_stdp",
    "event_dominated",
    "microcircuit",
    "microcircuit_counts",
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
#: Bytes per synapse of the stored arrays (int32 source and target, float32 weight, uint8 delay).
BYTES_PER_SYNAPSE: int = 13


def index_dtype(n: int) -> type[np.signedinteger[Any]]:
    """Smallest signed integer type holding neuron indices ``0 .. n-1`` (int32 or int64)."""
    return np.int32 if n <= 2**31 - 1 else np.int64


def delay_dtype(max_steps: int) -> type[np.unsignedinteger[Any]]:
    """uint8 for delays up to 255 steps, uint16 up to 65535."""
    if max_steps <= 255:
        return np.uint8
    if max_steps <= 65535:
        return np.uint16
    raise ValueError(f"delay of {max_steps} steps: at most 65535 steps are supported")


@dataclasses.dataclass(frozen=True)
class PopulationBlock:
    """A contiguous block of neurons ``start .. stop-1`` with one label and one sign.

    ``excitatory``: all outgoing weights of the block are ``>= 0`` (otherwise ``<= 0``).
    """

    label: str
    start: int
    stop: int
    excitatory: bool

    @property
    def size(self) -> int:
        """Number of neurons."""
        return self.stop - self.start


@dataclasses.dataclass(frozen=True)
class PoissonDrive:
    """Independent Poisson input to every neuron ``start .. stop-1`` (no source neurons).

    Each target gets ``n_inputs`` independent Poisson trains of ``rate_hz``, each spike adding
    ``weight`` (nA, ``>= 0``) to its excitatory current: Brian2 ``PoissonInput``, snnsim
    ``PoissonInput``, NEST one ``poisson_generator`` of rate ``n_inputs * rate_hz`` per block
    (it sends an independent train to each target). Being stochastic, the drive differs between
    simulators: spike counts then agree statistically, not exactly.
    """

    start: int
    stop: int
    n_inputs: int
    rate_hz: float
    weight: float


@dataclasses.dataclass(frozen=True, eq=False)
class NetworkArrays:
    """A network as flat arrays, shared by every simulator of a benchmark.

    Parameters
    ----------
    name : str
        Short label, e.g. ``"cuba_4000"``.
    n : int
        Number of neurons.
    sources, targets : numpy.ndarray of int32 (int64 beyond 2^31 neurons), shape (n_synapses,)
        Presynaptic and postsynaptic neuron indices, sorted by source, then target
        (repeated pairs, i.e. multapses, are allowed).
    weights : numpy.ndarray of float32, shape (n_synapses,)
        Current jumps (nA); ``>= 0`` from excitatory and ``<= 0`` from inhibitory populations.
    delay_steps : numpy.ndarray of uint8 or uint16, shape (n_synapses,)
        Transmission delays in time steps, ``>= 1`` (``delays_ms()`` gives ms).
    v0 : numpy.ndarray of float64, shape (n,)
        Initial membrane potentials (mV).
    dt : float
        Integration time step (ms).
    duration : float
        Biological time to simulate (ms).
    params : dict
        LIF parameters in PyNN units (see :data:`PARAM_UNITS`), the same for every neuron,
        except ``i_offset`` (nA), which is a float or a float64 array of shape ``(n,)``; use
        :meth:`i_offset_array` to always get an array.
    populations : tuple of PopulationBlock
        Contiguous blocks covering ``0 .. n-1`` in order (per-population rates are reported).
    poisson : tuple of PoissonDrive
        External Poisson drive (empty: the network is deterministic).
    transient_ms : float
        Spikes before this time are left out of the per-population rates.
    reference_rates_hz : tuple of float or None
        Published rate of each population, to compare with.
    spec : dict or None
        ``{"builder": name, "kwargs": {...}}`` that rebuilds this network with
        :func:`network_from_spec` (set by the builders).
    plasticity : dict or None
        STDP on the excitatory -> excitatory synapses (``snn.STDP`` keywords, ``w_max`` in
        nA; :mod:`benchmarks.stdp`), or None: every synapse is static.

    Notes
    -----
    The arrays are made read-only on construction.
    """

    name: str
    n: int
    sources: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    delay_steps: np.ndarray
    v0: np.ndarray
    dt: float
    duration: float
    params: dict[str, Any]
    populations: tuple[PopulationBlock, ...]
    poisson: tuple[PoissonDrive, ...] = ()
    transient_ms: float = 0.0
    reference_rates_hz: tuple[float, ...] | None = None
    spec: dict[str, Any] | None = None
    plasticity: dict[str, Any] | None = None
    _n_synapses: int = dataclasses.field(default=0, init=False, repr=False)
    _fingerprint: str | None = dataclasses.field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        m = self.sources.shape[0]
        for field in ("sources", "targets", "weights", "delay_steps"):
            arr = getattr(self, field)
            if arr.ndim != 1 or arr.shape[0] != m:
                raise ValueError(
                    f"NetworkArrays({self.name!r}): {field} has shape {arr.shape}, "
                    f"expected ({m},) like sources"
                )
        for field in ("sources", "targets"):
            if getattr(self, field).dtype not in (np.int32, np.int64):
                raise ValueError(f"NetworkArrays({self.name!r}): {field} must be int32 or int64")
        if self.weights.dtype != np.float32:
            raise ValueError(f"NetworkArrays({self.name!r}): weights must be float32 (nA)")
        if self.delay_steps.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"NetworkArrays({self.name!r}): delay_steps must be uint8 or uint16")
        if self.v0.shape != (self.n,):
            raise ValueError(
                f"NetworkArrays({self.name!r}): v0 has shape {self.v0.shape}, expected ({self.n},)"
            )
        missing = set(PARAM_UNITS) - set(self.params)
        if missing:
            raise ValueError(f"NetworkArrays({self.name!r}): params lacks {sorted(missing)}")
        pos = 0
        for p in self.populations:
            if p.start != pos or p.stop < p.start:
                raise ValueError(
                    f"NetworkArrays({self.name!r}): populations must be contiguous blocks "
                    f"covering 0..{self.n - 1} in order; {p} does not start at {pos}"
                )
            pos = p.stop
        if pos != self.n:
            raise ValueError(f"NetworkArrays({self.name!r}): populations cover {pos} of {self.n}")
        for d in self.poisson:
            if not 0 <= d.start <= d.stop <= self.n or d.n_inputs < 0 or d.rate_hz < 0:
                raise ValueError(f"NetworkArrays({self.name!r}): invalid {d}")
        refs = self.reference_rates_hz
        if refs is not None and len(refs) != len(self.populations):
            raise ValueError(f"NetworkArrays({self.name!r}): one reference rate per population")
        object.__setattr__(self, "_n_synapses", int(m))
        for field in ("sources", "targets", "weights", "delay_steps", "v0"):
            arr = getattr(self, field)
            if arr.flags.writeable:
                arr.setflags(write=False)

    # ------------------------------------------------------------------ derived quantities
    @property
    def n_synapses(self) -> int:
        """Number of synapses (still known after :meth:`release_synapses`)."""
        return self._n_synapses

    @property
    def n_steps(self) -> int:
        """Number of time steps in ``duration``."""
        return round(self.duration / self.dt)

    @property
    def n_exc(self) -> int:
        """Number of neurons in excitatory populations."""
        return sum(p.size for p in self.populations if p.excitatory)

    @property
    def max_delay_steps(self) -> int:
        """Longest delay (steps); 1 for a network without synapses."""
        return int(self.delay_steps.max()) if self.delay_steps.size else 1

    def bytes(self) -> int:
        """Total size of the arrays (bytes)."""
        arrays = (self.sources, self.targets, self.weights, self.delay_steps, self.v0)
        extra = self.params["i_offset"]
        return int(sum(a.nbytes for a in arrays) + getattr(extra, "nbytes", 0))

    def delays_ms(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Delays (ms, float64) of synapses ``start .. stop-1``: ``delay_steps * dt``."""
        return self.delay_steps[start:stop].astype(np.float64) * self.dt

    def i_offset_array(self) -> np.ndarray:
        """Constant input current per neuron (nA, float64, shape (n,))."""
        return np.broadcast_to(np.asarray(self.params["i_offset"], dtype=np.float64), (self.n,))

    def scalar_params(self) -> dict[str, float]:
        """LIF parameters other than ``i_offset`` as floats (PyNN units)."""
        return {k: float(v) for k, v in self.params.items() if k != "i_offset"}

    def excitatory_neurons(self) -> np.ndarray:
        """Boolean mask (n,): neuron belongs to an excitatory population."""
        mask = np.zeros(self.n, dtype=bool)
        for p in self.populations:
            mask[p.start : p.stop] = p.excitatory
        return mask

    def check(self) -> None:
        """Validate sortedness, index ranges, signs and delays.

        Raises
        ------
        ValueError
            If any invariant documented on the class is violated.
        """
        src, tgt = self.sources, self.targets
        if self.n_synapses != src.shape[0]:
            raise ValueError("synapses were released")
        if self.n_synapses:
            if src.min() < 0 or src.max() >= self.n or tgt.min() < 0 or tgt.max() >= self.n:
                raise ValueError(f"indices outside [0, {self.n})")
            key = src.astype(np.int64) * self.n + tgt
            if np.any(np.diff(key) < 0):
                raise ValueError("synapses are not sorted by (source, target)")
            if self.delay_steps.min() < 1:
                raise ValueError("delays must be >= 1 step")
        exc = self.excitatory_neurons()[src]
        if np.any(self.weights[exc] < 0) or np.any(self.weights[~exc] > 0):
            raise ValueError("excitatory weights must be >= 0 and inhibitory <= 0")
        if not np.all(np.isfinite(self.weights)):
            raise ValueError("weights must be finite")

    def release_synapses(self) -> None:
        """Drop the synapse arrays (unmapping saved files) once a simulator has copied them.

        ``n_synapses`` stays valid; everything that reads the arrays does not.
        """
        empty = np.zeros(0, dtype=np.int32)
        for field, dtype in (
            ("sources", self.sources.dtype),
            ("targets", self.targets.dtype),
            ("weights", np.float32),
            ("delay_steps", self.delay_steps.dtype),
        ):
            object.__setattr__(self, field, empty.astype(dtype))

    # ------------------------------------------------------------------ files
    def fingerprint(self) -> str:
        """Hex digest of every array and the parameters (the same network, the same digest)."""
        if self._fingerprint is not None:
            return self._fingerprint
        h = hashlib.blake2b(digest_size=16)
        h.update(json.dumps(self._meta(with_fingerprint=False), sort_keys=True).encode())
        chunk = 1 << 24
        for arr in (self.sources, self.targets, self.weights, self.delay_steps, self.v0):
            for a in range(0, arr.shape[0], chunk):
                h.update(np.ascontiguousarray(arr[a : a + chunk]).tobytes())
        h.update(np.ascontiguousarray(self.i_offset_array()).tobytes())
        digest = h.hexdigest()
        object.__setattr__(self, "_fingerprint", digest)
        return digest

    def _meta(self, with_fingerprint: bool = True) -> dict[str, Any]:
        params = {k: v for k, v in self.params.items() if k != "i_offset"}
        i_offset = self.params["i_offset"]
        meta: dict[str, Any] = {
            "name": self.name,
            "n": self.n,
            "n_synapses": self.n_synapses,
            "dt": self.dt,
            "duration": self.duration,
            "params": params,
            "i_offset": None if np.ndim(i_offset) else float(i_offset),
            "populations": [dataclasses.asdict(p) for p in self.populations],
            "poisson": [dataclasses.asdict(d) for d in self.poisson],
            "transient_ms": self.transient_ms,
            "reference_rates_hz": None
            if self.reference_rates_hz is None
            else list(self.reference_rates_hz),
            "spec": self.spec,
            "plasticity": self.plasticity,
        }
        if with_fingerprint:
            meta["fingerprint"] = self.fingerprint()
        return meta

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to folder ``path`` (``.npy`` arrays plus ``meta.json``).

        Returns
        -------
        pathlib.Path
            The folder.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        for field in ("sources", "targets", "weights", "delay_steps", "v0"):
            np.save(folder / f"{field}.npy", getattr(self, field))
        if np.ndim(self.params["i_offset"]):
            np.save(folder / "i_offset.npy", np.asarray(self.params["i_offset"]))
        tmp = folder / "meta.json.tmp"
        tmp.write_text(json.dumps(self._meta(), indent=1))
        os.replace(tmp, folder / "meta.json")
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = True) -> NetworkArrays:
        """Read a network written by :meth:`save` (memory-mapped, read-only, by default)."""
        folder = Path(path)
        meta = json.loads((folder / "meta.json").read_text())

        def arr(name: str) -> np.ndarray:
            out: np.ndarray = np.load(folder / f"{name}.npy", mmap_mode="r" if mmap else None)
            return out

        params = dict(meta["params"])
        params["i_offset"] = (
            np.asarray(arr("i_offset")) if meta["i_offset"] is None else meta["i_offset"]
        )
        net = cls(
            name=meta["name"],
            n=int(meta["n"]),
            sources=arr("sources"),
            targets=arr("targets"),
            weights=arr("weights"),
            delay_steps=arr("delay_steps"),
            v0=np.asarray(arr("v0")),
            dt=float(meta["dt"]),
            duration=float(meta["duration"]),
            params=params,
            populations=tuple(PopulationBlock(**p) for p in meta["populations"]),
            poisson=tuple(PoissonDrive(**d) for d in meta["poisson"]),
            transient_ms=float(meta["transient_ms"]),
            reference_rates_hz=None
            if meta["reference_rates_hz"] is None
            else tuple(meta["reference_rates_hz"]),
            spec=meta["spec"],
            plasticity=meta.get("plasticity"),
        )
        object.__setattr__(net, "_fingerprint", meta.get("fingerprint"))
        return net


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


def _check_memory(fn: str, n_synapses: float, need: float) -> None:
    """Refuse a build that would need more than the available memory (``need`` bytes)."""
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return
    if need > avail:
        raise MemoryError(
            f"{fn}: about {n_synapses:.3g} synapses need about {need / 2**30:.1f} GiB to build "
            f"but only {avail / 2**30:.1f} GiB is available; use a smaller size or scale"
        )


def _two_populations(n: int, n_exc: int) -> tuple[PopulationBlock, ...]:
    return (PopulationBlock("exc", 0, n_exc, True), PopulationBlock("inh", n_exc, n, False))


def _make(
    name: str,
    n: int,
    n_exc: int,
    pre: np.ndarray,
    post: np.ndarray,
    w_exc: float,
    w_inh: float,
    delay_steps: np.ndarray,
    v0: np.ndarray,
    dt: float,
    duration: float,
    params: dict[str, Any],
    spec: dict[str, Any],
) -> NetworkArrays:
    idx = index_dtype(n)
    weights = np.where(pre < n_exc, np.float32(w_exc), np.float32(w_inh)).astype(np.float32)
    return NetworkArrays(
        name=name,
        n=int(n),
        sources=pre.astype(idx),
        targets=post.astype(idx),
        weights=weights,
        delay_steps=delay_steps,
        v0=v0,
        dt=float(dt),
        duration=float(duration),
        params=params,
        populations=_two_populations(int(n), int(n_exc)),
        spec=spec,
    )


def _check_common(fn: str, n: int, dt: float, duration: float) -> None:
    if n < 1:
        raise ValueError(f"{fn}(n={n}): n must be >= 1")
    if dt <= 0 or duration < 0:
        raise ValueError(f"{fn}(dt={dt}, duration={duration}): need dt > 0 ms, duration >= 0 ms")


def _full_delay(m: int, steps: int) -> np.ndarray:
    return np.full(m, steps, dtype=delay_dtype(steps))


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
    ``w_nA = w_mV * cm / tau_m``: 0.081 nA (exc) and -0.45 nA (inh), stored as float32.

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


def cuba_stdp(
    n: int = 4000,
    seed: int = 0,
    *,
    in_degree: float = 80.0,
    duration: float = 1000.0,
    dt: float = 0.1,
    w_max_factor: float = 2.0,
) -> NetworkArrays:
    """:func:`cuba_scaled` with STDP on the excitatory -> excitatory synapses.

    The synapses, weights, delays and ``v0`` are those of ``cuba_scaled(n, seed, ...)`` (at
    N = 4000, in-degree 80 is CUBA's p = 0.02); the exc -> exc synapses are plastic with
    :func:`benchmarks.stdp.rule_for` (additive STDP of Brian2's example, ``w_max =
    w_max_factor * 0.081`` nA, every plastic synapse starting at 0.081 nA).

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
    w_max_factor : float
        ``w_max`` in units of the initial excitatory weight (> 1).

    Returns
    -------
    NetworkArrays
    """
    base = cuba_scaled(n, seed, in_degree=in_degree, duration=duration, dt=dt)
    w0 = float(np.float32(CUBA_WE_MV * _CUBA_PARAMS["cm"] / _CUBA_PARAMS["tau_m"]))
    kwargs = {
        "n": n, "seed": seed, "in_degree": in_degree, "duration": duration, "dt": dt,
        "w_max_factor": w_max_factor,
    }  # fmt: skip
    return dataclasses.replace(
        base,
        name=f"cuba_stdp_{n}",
        spec={"builder": "cuba_stdp", "kwargs": kwargs},
        plasticity=rule_for(w0, w_max_factor),
    )


def _cuba(
    name: str, n: int, seed: int, p: float, duration: float, dt: float, spec: dict[str, Any]
) -> NetworkArrays:
    _check_memory(name, p * n * n, p * n * n * (BYTES_PER_SYNAPSE + 32))
    params: dict[str, Any] = dict(_CUBA_PARAMS)
    scale = params["cm"] / params["tau_m"]
    n_exc = round(0.8 * n)
    rng_conn, rng_v0 = _streams(seed, 2)
    pre, post = bernoulli_pairs(n, n, p, rng_conn)
    v0 = rng_v0.uniform(params["v_reset"], params["v_thresh"], size=n)
    return _make(
        name, n, n_exc, pre, post, CUBA_WE_MV * scale, CUBA_WI_MV * scale,
        _full_delay(pre.shape[0], 1), v0, dt, duration, params, spec,
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
    _check_memory("event_dominated", in_degree * n, in_degree * n * (BYTES_PER_SYNAPSE + 32))
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
    scale = 1000.0 / in_degree
    return _make(
        f"event_dominated_{n}", n, n_exc, pre, post, EVENT_W_EXC * scale, EVENT_W_INH * scale,
        _full_delay(pre.shape[0], steps), v0, dt, duration, params, spec,
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
    and every delay is drawn uniformly from the grid ``{dt, 2 dt, ..., max_delay}``. The drive
    is rounded to 1 pA, so it takes at most about 1000 distinct values (simulators without
    per-neuron parameters, such as snnsim's ``LIF``, get one step current per value).

    Measured for 1 s, seed 0, before the drive was rounded to 1 pA: n = 256 000 (20.5 M
    synapses), Brian2 cpp_standalone 140 604 spikes, i.e. 0.55 Hz: the driven 1 % fire at
    about 22 Hz and about 7 % of the others are recruited (0.33 Hz mean over the
    background). At n = 32 000: Brian2 19 349 spikes (0.60 Hz), NEST 3.10 18 871 (2.5 %
    fewer: the recruited neurons sit close to threshold and amplify the simulators' tiny
    numerical differences).

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
    _check_memory("sparse_activity", in_degree * n, in_degree * n * (BYTES_PER_SYNAPSE + 40))
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
    np.round(i_offset, 3, out=i_offset)  # 1 pA grid: at most ~1000 distinct values
    i_offset.setflags(write=False)
    params["i_offset"] = i_offset
    v0 = rng_v0.uniform(params["v_reset"], params["v_thresh"], size=n)
    delay_steps = rng_delay.integers(1, max_steps + 1, size=pre.shape[0]).astype(
        delay_dtype(max_steps)
    )
    return _make(
        f"sparse_activity_{n}", n, n_exc, pre, post, SPARSE_W_EXC, SPARSE_W_INH,
        delay_steps, v0, dt, duration, params, spec,
    )  # fmt: skip


# --------------------------------------------------------------------------- microcircuit
#: Populations of the Potjans & Diesmann (2014) microcircuit, in NEST's example order.
PD_POPULATIONS: tuple[str, ...] = ("L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i")
#: Full-scale population sizes (Potjans & Diesmann 2014, Table 5).
PD_SIZES: tuple[int, ...] = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
#: Connection probabilities [target, source] (Potjans & Diesmann 2014, Table 5; as in NEST's
#: ``pynest/examples/Potjans_2014/network_params.py``).
PD_CONN_PROBS = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
    ]
)
PD_CONN_PROBS.setflags(write=False)
#: External (Poisson background) in-degrees per population.
PD_K_EXT: tuple[int, ...] = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
#: Full-scale population rates (Hz) of NEST's PyNEST microcircuit example (``full_mean_rates``
#: in its ``network_params.py``, NEST 3.x; obtained there by running the model at full scale),
#: used to compensate scaled in-degrees (as the example does) and as the reference the measured
#: rates are compared with. Potjans & Diesmann (2014, Fig. 6) report the same ordering: L2/3e
#: lowest (below 1 Hz), L5e highest among excitatory populations (7-8 Hz).
PD_REFERENCE_RATES_HZ: tuple[float, ...] = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)
#: iaf_psc_exp parameters of the microcircuit (PyNN units: C_m 250 pF = 0.25 nF).
PD_PARAMS: dict[str, float] = {
    "tau_m": 10.0,
    "cm": 0.25,
    "v_rest": -65.0,
    "v_reset": -65.0,
    "v_thresh": -50.0,
    "tau_syn_exc": 0.5,
    "tau_syn_inh": 0.5,
    "tau_refrac": 2.0,
}
PD_PSP_EXC_MV: float = 0.15
PD_G: float = -4.0
PD_WEIGHT_REL_SD: float = 0.1
PD_BG_RATE_HZ: float = 8.0
PD_DELAY_EXC_MS: float = 1.5
PD_DELAY_INH_MS: float = 0.75
PD_DELAY_REL_SD: float = 0.5
PD_V0: tuple[float, float] = (-58.0, 10.0)


def psc_over_psp(cm_nf: float, tau_m: float, tau_syn: float) -> float:
    """Peak PSP (mV) to PSC amplitude (nA) factor of ``iaf_psc_exp`` (NEST example helper).

    The PSP of an exponential current ``J exp(-t / tau_syn)`` peaks at
    ``J tau_m tau_syn / (C (tau_syn - tau_m)) (f^tau_m - f^tau_syn)`` with
    ``f = (tau_m / tau_syn)^(1 / (tau_syn - tau_m))``; 0.15 mV gives 87.81 pA at the
    microcircuit's parameters.
    """
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / cm_nf * sub
    frac = (tau_m / tau_syn) ** sub
    return float(1.0 / (pre * (frac**tau_m - frac**tau_syn)))


def _full_synapse_numbers() -> np.ndarray:
    sizes = np.asarray(PD_SIZES, dtype=np.float64)
    prod = np.outer(sizes, sizes)
    out: np.ndarray = np.log1p(-PD_CONN_PROBS) / np.log1p(-1.0 / prod)
    return out


def microcircuit_counts(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Return population sizes and synapse numbers [target, source] at ``scale``.

    ``K = log(1 - p) / log(1 - 1 / (N_pre N_post))`` at full scale (the expected number of
    distinct pairs is then ``p N_pre N_post``), times ``scale**2`` (N and in-degree both
    scaled), rounded, as NEST's example does.
    """
    sizes = np.round(np.asarray(PD_SIZES, dtype=np.float64) * scale).astype(np.int64)
    return sizes, np.round(_full_synapse_numbers() * scale * scale).astype(np.int64)


def _redraw_normal(
    rng: np.random.Generator, mean: np.ndarray, rel_sd: float, bad: Callable[[np.ndarray], Any]
) -> np.ndarray:
    """float32 draws ``mean * (1 + rel_sd z)``, redrawing where ``bad(values)`` is True."""
    out = mean * (1.0 + np.float32(rel_sd) * rng.standard_normal(mean.shape[0], dtype=np.float32))
    idx = np.flatnonzero(bad(out))
    while idx.size:
        z = rng.standard_normal(idx.size, dtype=np.float32)
        out[idx] = mean[idx] * (1.0 + np.float32(rel_sd) * z)
        idx = idx[bad(out[idx])]
    return out


def microcircuit(
    scale: float = 0.1,
    seed: int = 0,
    *,
    duration: float = 1000.0,
    dt: float = 0.1,
    transient: float = 100.0,
) -> NetworkArrays:
    """Build the Potjans & Diesmann (2014) cortical microcircuit as NEST's PyNEST example does.

    Eight populations (L2/3e 20683, L2/3i 5834, L4e 21915, L4i 5479, L5e 4850, L5i 1065,
    L6e 14395, L6i 2948 neurons at full scale, 77 169 in all) of ``iaf_psc_exp`` neurons
    (:data:`PD_PARAMS`: C_m 250 pF, tau_m 10 ms, tau_syn 0.5 ms, t_ref 2 ms, E_L = V_reset =
    -65 mV, V_th -50 mV). Connectivity ``fixed_total_number`` per pair of populations
    (multapses and autapses allowed) with the synapse numbers of :func:`microcircuit_counts`
    (about 0.3 G synapses at full scale) from the connection probabilities of Table 5.

    Weights: the PSC giving a 0.15 mV PSP (87.81 pA, :func:`psc_over_psp`), doubled for
    L4e -> L2/3e, times ``g = -4`` from inhibitory populations; normal with 10 % relative SD,
    redrawn when the sign flips. Delays: normal, mean 1.5 ms (exc) or 0.75 ms (inh), SD half
    the mean, redrawn below ``dt / 2`` and rounded to the grid (so every delay is at least
    ``dt``), as in the NEST 3 example (``nest.math.redraw(..., min=0.5 * resolution)``).
    Initial membrane potentials normal (-58, 10) mV (the example's ``"original"`` V0). Background:
    ``K_ext`` (:data:`PD_K_EXT`) independent 8 Hz Poisson inputs per neuron, weight 87.81 pA.

    ``scale`` multiplies both N and the in-degrees (NEST's ``N_scaling = K_scaling``), with
    the example's compensation for scaled in-degrees: recurrent and external weights divided by
    ``sqrt(scale)`` and a DC current (``i_offset``) that restores the mean input at the
    full-scale rates :data:`PD_REFERENCE_RATES_HZ`. ``scale=1`` is the full model (no DC).

    The arrays are generated one presynaptic population at a time (int64 sort keys of that
    population only), so the peak memory of a full-scale build is the stored arrays
    (13 bytes per synapse, 3.6 GiB for 298 880 970 synapses) plus less than 1 GiB: measured
    4.45 GiB peak RSS of the whole process and 39 s on the 2-core project machine.

    Parameters
    ----------
    scale : float
        Scaling of N and K, in (0, 1].
    seed : int
        Seed of the network.
    duration : float
        Biological time to simulate (ms).
    dt : float
        Time step (ms).
    transient : float
        Start (ms) of the window over which per-population rates are reported (the
        initial potentials make most neurons fire in the first milliseconds).

    Returns
    -------
    NetworkArrays
        Populations labelled as :data:`PD_POPULATIONS`, ``poisson`` set, ``reference_rates_hz``
        = :data:`PD_REFERENCE_RATES_HZ`.
    """
    if not 0 < scale <= 1:
        raise ValueError(f"microcircuit(scale={scale}): scale must be in (0, 1]")
    sizes, counts = microcircuit_counts(scale)
    n = int(sizes.sum())
    _check_common("microcircuit", n, dt, duration)
    total = int(counts.sum())
    _check_memory(
        "microcircuit", total, BYTES_PER_SYNAPSE * total + 24.0 * float(counts.sum(axis=0).max())
    )
    spec = {
        "builder": "microcircuit",
        "kwargs": {
            "scale": scale, "seed": seed, "duration": duration, "dt": dt, "transient": transient,
        },
    }  # fmt: skip
    k = len(PD_SIZES)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    exc = np.array([label.endswith("e") for label in PD_POPULATIONS])

    params: dict[str, Any] = dict(PD_PARAMS)
    psc = psc_over_psp(params["cm"], params["tau_m"], params["tau_syn_exc"]) * PD_PSP_EXC_MV
    w_mean = np.where(exc[None, :], psc, PD_G * psc) * np.ones((k, k))  # [target, source], nA
    w_mean[0, 2] *= 2.0  # L4e -> L2/3e
    w_ext = psc
    dc = np.zeros(k)
    if scale != 1.0:
        # NEST example: adjust_weights_and_input_to_synapse_scaling (units: nA, Hz, ms).
        full_indegree = _full_synapse_numbers() / np.asarray(PD_SIZES, dtype=np.float64)[:, None]
        rates = np.asarray(PD_REFERENCE_RATES_HZ)
        input_rec = np.sum(w_mean * full_indegree * rates[None, :], axis=1)
        input_ext = w_ext * np.asarray(PD_K_EXT) * PD_BG_RATE_HZ
        dc = 1e-3 * params["tau_syn_exc"] * (1.0 - math.sqrt(scale)) * (input_rec + input_ext)
        w_mean = w_mean / math.sqrt(scale)
        w_ext = w_ext / math.sqrt(scale)
    params["i_offset"] = 0.0 if scale == 1.0 else np.repeat(dc, sizes).astype(np.float64)
    if scale != 1.0:
        params["i_offset"].setflags(write=False)

    rngs = _streams(seed, k + 1)
    v0 = rngs[k].normal(PD_V0[0], PD_V0[1], size=n)
    idx = index_dtype(n)
    sources = np.empty(total, dtype=idx)
    targets = np.empty(total, dtype=idx)
    weights = np.empty(total, dtype=np.float32)
    delay_steps = np.empty(total, dtype=np.uint16)
    pos = 0
    for j in range(k):  # presynaptic population: sort keys of its synapses only
        rng = rngs[j]
        m = int(counts[:, j].sum())
        keys = np.empty(m, dtype=np.int64)
        o = 0
        for i in range(k):  # postsynaptic population
            c = int(counts[i, j])
            if c == 0:
                continue
            block = keys[o : o + c]
            block[:] = rng.integers(0, sizes[j], size=c, dtype=np.int64)
            block *= n
            block += rng.integers(starts[i], starts[i + 1], size=c, dtype=np.int64)
            o += c
        keys.sort()
        src_local = keys // n
        sources[pos : pos + m] = src_local
        sources[pos : pos + m] += idx(starts[j])
        del src_local
        np.remainder(keys, n, out=keys)  # keys now hold the targets
        targets[pos : pos + m] = keys
        tgt_pop = np.searchsorted(starts, keys, side="right") - 1
        del keys
        mean = w_mean[:, j].astype(np.float32)[tgt_pop]
        del tgt_pop
        if exc[j]:
            weights[pos : pos + m] = _redraw_normal(rng, mean, PD_WEIGHT_REL_SD, lambda w: w < 0)
        else:
            weights[pos : pos + m] = _redraw_normal(rng, mean, PD_WEIGHT_REL_SD, lambda w: w > 0)
        mean.fill(PD_DELAY_EXC_MS if exc[j] else PD_DELAY_INH_MS)
        d = _redraw_normal(rng, mean, PD_DELAY_REL_SD, lambda x: x < 0.5 * dt)
        del mean
        np.floor(d / np.float32(dt) + np.float32(0.5), out=d)
        delay_steps[pos : pos + m] = np.maximum(d, 1)
        del d
        pos += m
    if total and int(delay_steps.max()) <= 255:
        delay_steps = delay_steps.astype(np.uint8)
    populations = tuple(
        PopulationBlock(PD_POPULATIONS[i], int(starts[i]), int(starts[i + 1]), bool(exc[i]))
        for i in range(k)
    )
    poisson = tuple(
        PoissonDrive(
            int(starts[i]), int(starts[i + 1]), round(PD_K_EXT[i] * scale), PD_BG_RATE_HZ, w_ext
        )
        for i in range(k)
    )
    return NetworkArrays(
        name=f"microcircuit_{scale:g}",
        n=n,
        sources=sources,
        targets=targets,
        weights=weights,
        delay_steps=delay_steps,
        v0=v0,
        dt=float(dt),
        duration=float(duration),
        params=params,
        populations=populations,
        poisson=poisson,
        transient_ms=float(transient),
        reference_rates_hz=PD_REFERENCE_RATES_HZ,
        spec=spec,
    )


#: Builders by name, as used in network specs.
BUILDERS: dict[str, Callable[..., NetworkArrays]] = {
    "cuba": cuba,
    "cuba_scaled": cuba_scaled,
    "cuba_stdp": cuba_stdp,
    "event_dominated": event_dominated,
    "sparse_activity": sparse_activity,
    "microcircuit": microcircuit,
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


def describe_sizes(nets: Sequence[NetworkArrays]) -> str:
    """One line per network: neurons, synapses, bytes held (for logs)."""
    return "\n".join(
        f"{net.name}: {net.n} neurons, {net.n_synapses} synapses, {net.bytes() / 2**20:.1f} MiB"
        for net in nets
    )
