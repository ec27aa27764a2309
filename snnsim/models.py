"""Neuron and source models: parameters, units, validation and kernel coefficients.

A model class describes one population's dynamics. It validates its parameters, names its
state variables and computes, for a given ``dt``, the coefficients its kernel in
:mod:`snnsim.kernels.neurons` needs. The engine dispatches on ``kind``. Units are PyNN's:
ms, mV, nA, nF, Hz.

Adding a model: write its kernel and a branch in ``update_population``, subclass
:class:`NeuronModel` here and add it to :data:`MODELS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError
from snnsim.kernels import neurons as _k

__all__ = ["LIF", "MODELS", "LIFDelta", "NeuronModel", "PoissonSource", "SpikeSource"]

_ON_GRID_TOL = 1e-9


def steps_on_grid(value_ms: float, dt: float, what: str, round_values: bool = False) -> int:
    """Convert a time in ms to an integer number of steps, refusing off-grid values.

    Raises
    ------
    ParameterError
        If ``value_ms / dt`` is not an integer (within 1e-9 relative) and
        ``round_values`` is False.
    """
    x = value_ms / dt
    n = round(x)
    if not round_values and abs(x - n) > _ON_GRID_TOL * max(1.0, abs(x)):
        lower, upper = math.floor(x) * dt, math.ceil(x) * dt
        raise ParameterError(
            f"{what}={float(value_ms)!r} ms is not a multiple of dt={dt} ms; use a multiple "
            f"of dt (e.g. {lower:g} or {upper:g} ms)"
        )
    return int(n)


class NeuronModel:
    """Base class of neuron and source models.

    Subclasses set the class attributes below and implement :meth:`coefficients`.
    Parameters are given as keyword arguments; unknown names raise
    :class:`~snnsim.errors.ParameterError` listing the valid ones.
    """

    #: Registry name, also written to files.
    name: ClassVar[str] = ""
    #: Kernel kind the engine dispatches on.
    kind: ClassVar[int] = 0
    #: Parameter names with their PyNN default values.
    defaults: ClassVar[dict[str, float]] = {}
    #: Unit of every parameter and state variable.
    units: ClassVar[dict[str, str]] = {}
    #: Float state variables (in kernel order), integer state variables.
    float_vars: ClassVar[tuple[str, ...]] = ()
    int_vars: ClassVar[tuple[str, ...]] = ()
    #: Receptor names accepted by ``Network.connect`` (empty: cannot receive input).
    receptors: ClassVar[tuple[str, ...]] = ()
    #: Whether the weight sign is fixed by the receptor (exc >= 0, inh <= 0).
    signed_receptors: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ParameterError(
                f"{type(self).__name__}: unknown parameter(s) {', '.join(unknown)}; "
                f"valid parameters are {', '.join(self.defaults)}"
            )
        values: dict[str, float] = {}
        for key, default in self.defaults.items():
            raw = params.get(key, default)
            if isinstance(raw, bool) or not isinstance(raw, (int, float, np.integer, np.floating)):
                raise ParameterError(
                    f"{type(self).__name__}({key}={raw!r}): {key} must be a number "
                    f"in {self.units.get(key, '')}; one population has one parameter set"
                )
            x = float(raw)
            if not math.isfinite(x):
                raise ParameterError(f"{type(self).__name__}({key}={raw!r}): {key} must be finite")
            values[key] = x
        self._params = values
        self._validate()

    def __getattr__(self, key: str) -> float:
        params = self.__dict__.get("_params")
        if params is not None and key in params:
            return float(params[key])
        raise AttributeError(key)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._params == self._params

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self._params.items())))

    @property
    def params(self) -> dict[str, float]:
        """Parameter values (a copy)."""
        return dict(self._params)

    def _error(self, key: str, rule: str) -> ParameterError:
        return ParameterError(
            f"{type(self).__name__}({key}={self._params[key]!r}): {key} must be {rule}"
        )

    def _validate(self) -> None:
        """Check parameter ranges; raise :class:`ParameterError` naming the parameter."""

    def check_dt(self, dt: float) -> None:
        """Check that the model can run with time step ``dt`` (ms)."""

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:
        """Kernel coefficients for time step ``dt`` (ms), float64[N_COEFFS]."""
        return np.zeros(_k.N_COEFFS)

    def gap_propagators(self, dt: float, k_max: int) -> npt.NDArray[np.float64]:
        """Propagators over ``k = 0 .. k_max`` input-free steps, float64[k_max + 1, 6].

        Only models that support event-driven updates (skipping idle neurons) define them;
        the default is an empty table.
        """
        return np.zeros((0, 6))

    def initial_state(self) -> dict[str, float]:
        """Default initial value of every state variable."""
        return {}

    def check_size(self, size: int) -> None:
        """Check that a population of ``size`` neurons can use this model instance."""

    def static_data(self, dt: float, t_now_steps: int) -> npt.NDArray[np.int64]:
        """Return static integer data for the kernel (e.g. spike schedules)."""
        return np.zeros(0, dtype=np.int64)

    def initial_int_state(self, size: int, dt: float, t_now_steps: int) -> dict[str, Any]:
        """Return the initial integer state (e.g. schedule pointers)."""
        return {name: np.zeros(size, dtype=np.int64) for name in self.int_vars}

    def describe(self) -> dict[str, Any]:
        """Plain description: name and parameters (for files)."""
        return {"model": self.name, "params": self.params}


class LIF(NeuronModel):
    r"""Leaky integrate-and-fire neuron with exponential current synapses.

    Same model as PyNN ``IF_curr_exp``, NEST ``iaf_psc_exp`` and SpiNNaker ``IF_curr_exp``:

    .. math::
        \tau_m \frac{dV}{dt} = (v_{rest} - V) + \frac{\tau_m}{c_m}(I_{exc} + I_{inh}
            + i_{offset} + I_{ext}), \qquad
        \tau_{syn,x} \frac{dI_x}{dt} = -I_x

    A spike arriving on receptor ``x`` with weight ``w`` (nA) makes ``I_x`` jump by ``w``.
    When ``V >= v_thresh`` the neuron spikes, ``V`` is reset to ``v_reset`` and held there
    for ``tau_refrac`` ms (the synaptic currents keep evolving).

    Integration is exact on the grid (NEST propagators): with :math:`h = dt`,
    :math:`P_{22} = e^{-h/\tau_m}`, :math:`P_{11} = e^{-h/\tau_s}`,
    :math:`P_{20} = \tau_m/c_m (1 - P_{22})` and
    :math:`P_{21} = \frac{\tau_s \tau_m}{c_m(\tau_m - \tau_s)}(e^{-h/\tau_m} - e^{-h/\tau_s})`
    (limit :math:`h/c_m\, e^{-h/\tau_m}` when :math:`\tau_s = \tau_m`). Per step, the
    membrane is updated from the state at the start of the step, then the currents decay
    and take the input of this step, then the threshold is tested.

    Parameters (PyNN names, units and defaults)
    -------------------------------------------
    tau_m : float, ms (20.0)
    cm : float, nF (1.0)
    v_rest, v_reset, v_thresh : float, mV (-65.0, -65.0, -50.0)
    tau_syn_exc, tau_syn_inh : float, ms (5.0, 5.0)
    tau_refrac : float, ms (0.1); must be a multiple of dt
    i_offset : float, nA (0.0)

    State variables: ``v`` (mV), ``i_exc``, ``i_inh`` (nA), ``refrac`` (steps left).
    Receptors: ``"exc"`` (weights >= 0) and ``"inh"`` (weights <= 0).
    """

    name = "LIF"
    kind = _k.KIND_LIF
    defaults = {
        "tau_m": 20.0,
        "cm": 1.0,
        "v_rest": -65.0,
        "v_reset": -65.0,
        "v_thresh": -50.0,
        "tau_syn_exc": 5.0,
        "tau_syn_inh": 5.0,
        "tau_refrac": 0.1,
        "i_offset": 0.0,
    }
    units = {
        "tau_m": "ms",
        "cm": "nF",
        "v_rest": "mV",
        "v_reset": "mV",
        "v_thresh": "mV",
        "tau_syn_exc": "ms",
        "tau_syn_inh": "ms",
        "tau_refrac": "ms",
        "i_offset": "nA",
        "v": "mV",
        "i_exc": "nA",
        "i_inh": "nA",
        "refrac": "steps",
    }
    float_vars: ClassVar[tuple[str, ...]] = ("v", "i_exc", "i_inh")
    int_vars: ClassVar[tuple[str, ...]] = ("refrac",)
    receptors: ClassVar[tuple[str, ...]] = ("exc", "inh")
    signed_receptors = True

    def _validate(self) -> None:
        for key in ("tau_m", "cm", "tau_syn_exc", "tau_syn_inh"):
            if self._params[key] <= 0:
                raise self._error(key, "> 0 " + self.units[key])
        if self._params["tau_refrac"] < 0:
            raise self._error("tau_refrac", ">= 0 ms")
        if self._params["v_thresh"] <= self._params["v_reset"]:
            raise ParameterError(
                f"{type(self).__name__}(v_thresh={self._params['v_thresh']!r}, "
                f"v_reset={self._params['v_reset']!r}): v_thresh must be > v_reset"
            )

    def check_dt(self, dt: float) -> None:  # noqa: D102
        steps_on_grid(self._params["tau_refrac"], dt, f"{type(self).__name__}: tau_refrac")

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self._params
        tau_m, cm = p["tau_m"], p["cm"]
        c = np.zeros(_k.N_COEFFS)
        c[0] = math.exp(-dt / tau_m)
        c[1] = math.exp(-dt / p["tau_syn_exc"])
        c[2] = math.exp(-dt / p["tau_syn_inh"])
        c[3] = psc_exp_propagator(p["tau_syn_exc"], tau_m, cm, dt)
        c[4] = psc_exp_propagator(p["tau_syn_inh"], tau_m, cm, dt)
        c[5] = -tau_m / cm * math.expm1(-dt / tau_m)
        c[6] = p["v_rest"]
        c[7] = p["v_thresh"]
        c[8] = p["v_reset"]
        c[9] = p["i_offset"]
        c[10] = steps_on_grid(p["tau_refrac"], dt, "tau_refrac")
        c[11] = tau_m / cm
        c[12] = psp_peak(p["tau_syn_exc"], tau_m, cm)
        c[13] = psp_peak(p["tau_syn_inh"], tau_m, cm)
        return c

    def gap_propagators(self, dt: float, k_max: int) -> npt.NDArray[np.float64]:
        r"""Exact propagators over ``k`` input-free steps (event-driven updates).

        Row ``k`` holds :math:`P_{22}(kh), P_{11}^e(kh), P_{11}^i(kh), P_{21}^e(kh),
        P_{21}^i(kh), P_{20}(kh)`, the coefficients of one step of length :math:`kh`; row 1
        equals :meth:`coefficients` ``[0:6]`` bit for bit, so advancing a neuron by one
        input-free step is the same arithmetic whether it is skipped or not.
        """
        p = self._params
        tau_m, cm = p["tau_m"], p["cm"]
        out = np.zeros((k_max + 1, 6))
        for k in range(1, k_max + 1):
            h = k * dt
            out[k] = (
                math.exp(-h / tau_m),
                math.exp(-h / p["tau_syn_exc"]),
                math.exp(-h / p["tau_syn_inh"]),
                psc_exp_propagator(p["tau_syn_exc"], tau_m, cm, h),
                psc_exp_propagator(p["tau_syn_inh"], tau_m, cm, h),
                -tau_m / cm * math.expm1(-h / tau_m),
            )
        return out

    def initial_state(self) -> dict[str, float]:  # noqa: D102
        return {"v": self._params["v_rest"], "i_exc": 0.0, "i_inh": 0.0}


def psp_peak(tau_syn: float, tau_m: float, cm: float) -> float:
    r"""Largest membrane deflection (mV) a unit exponential current (1 nA) can cause.

    The response to :math:`I(t) = e^{-t/\tau_s}` is :math:`P_{21}(t)`
    (:func:`psc_exp_propagator`), which peaks at
    :math:`t^* = \ln(\tau_m/\tau_s)\,\tau_m\tau_s/(\tau_m - \tau_s)` (:math:`t^* = \tau_m`
    when they are equal). Event-driven updates use it to prove a neuron idle: with currents
    :math:`I_e, I_i` and no further input, :math:`V(t) \le \max(V, V_\infty) +
    \max(I_e, 0) P^*_e + \max(I_i, 0) P^*_i`.
    """
    if tau_syn == tau_m:
        t_peak = tau_m
    else:
        t_peak = math.log(tau_m / tau_syn) * tau_m * tau_syn / (tau_m - tau_syn)
    # a hair above the exact peak, so rounding can never make the bound too small
    return psc_exp_propagator(tau_syn, tau_m, cm, t_peak) * (1.0 + 1e-9)


def psc_exp_propagator(tau_syn: float, tau_m: float, cm: float, h: float) -> float:
    r"""Exact propagator from an exponential synaptic current to the membrane (mV per nA).

    .. math:: P_{21} = \frac{\beta}{c_m} e^{-h/\tau_s} \left(e^{h/\beta} - 1\right),
              \quad \beta = \frac{\tau_s \tau_m}{\tau_m - \tau_s}

    written with ``expm1`` so it stays accurate as :math:`\tau_s \to \tau_m`, with the
    exact limit :math:`h/c_m\, e^{-h/\tau_m}` when they are equal.
    """
    if tau_syn == tau_m:
        return h / cm * math.exp(-h / tau_m)
    inv_beta = (tau_m - tau_syn) / (tau_syn * tau_m)
    return math.exp(-h / tau_syn) * math.expm1(h * inv_beta) / (inv_beta * cm)


class LIFDelta(LIF):
    r"""Leaky integrate-and-fire neuron with delta synapses (PyNN ``IF_curr_delta``).

    Same as NEST ``iaf_psc_delta``:

    .. math:: \tau_m \frac{dV}{dt} = (v_{rest} - V) + \frac{\tau_m}{c_m}(i_{offset} + I_{ext})
              + \tau_m \sum_k w_k \delta(t - t_k)

    A spike with weight ``w`` (mV, either sign) makes ``V`` jump by ``w`` in its arrival step.
    Input arriving during the refractory period is discarded. Parameters as :class:`LIF`
    without the synaptic time constants. Single receptor: ``connect`` takes no receptor.
    """

    name = "LIFDelta"
    kind = _k.KIND_LIF_DELTA
    defaults = {k: v for k, v in LIF.defaults.items() if not k.startswith("tau_syn")}
    units = {k: v for k, v in LIF.units.items() if not k.startswith(("tau_syn", "i_exc", "i_inh"))}
    float_vars = ("v",)
    receptors = ("syn",)
    signed_receptors = False

    def _validate(self) -> None:
        for key in ("tau_m", "cm"):
            if self._params[key] <= 0:
                raise self._error(key, "> 0 " + self.units[key])
        if self._params["tau_refrac"] < 0:
            raise self._error("tau_refrac", ">= 0 ms")
        if self._params["v_thresh"] <= self._params["v_reset"]:
            raise ParameterError(
                f"LIFDelta(v_thresh={self._params['v_thresh']!r}, "
                f"v_reset={self._params['v_reset']!r}): v_thresh must be > v_reset"
            )

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self._params
        c = np.zeros(_k.N_COEFFS)
        c[0] = math.exp(-dt / p["tau_m"])
        c[1] = -p["tau_m"] / p["cm"] * math.expm1(-dt / p["tau_m"])
        c[2] = p["v_rest"]
        c[3] = p["v_thresh"]
        c[4] = p["v_reset"]
        c[5] = p["i_offset"]
        c[6] = steps_on_grid(p["tau_refrac"], dt, "tau_refrac")
        return c

    def initial_state(self) -> dict[str, float]:  # noqa: D102
        return {"v": self._params["v_rest"]}


class PoissonSource(NeuronModel):
    r"""Poisson spike source (PyNN ``SpikeSourcePoisson``, NEST ``poisson_generator`` + parrot).

    Each neuron spikes independently in each step with probability
    :math:`1 - e^{-\nu\, dt}` (at most one spike per step), drawn from the counter-based
    stream of its population, so the spike trains do not depend on threads or chunking.

    Parameters
    ----------
    rate : float, Hz
        Mean firing rate, ``>= 0``.
    """

    name = "PoissonSource"
    kind = _k.KIND_POISSON_SOURCE
    defaults = {"rate": 1.0}
    units = {"rate": "Hz"}

    def _validate(self) -> None:
        if self._params["rate"] < 0:
            raise self._error("rate", ">= 0 Hz")

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        c = np.zeros(_k.N_COEFFS)
        c[0] = -math.expm1(-self._params["rate"] * dt * 1e-3)
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
        seq = list(times)
        if seq and all(isinstance(x, (int, float, np.integer, np.floating)) for x in seq):
            raise ParameterError(
                "SpikeSource(times=[...]): give one list of times per neuron, e.g. "
                "times=[[10.0, 20.0], [15.0]]; for one neuron use times=[[...]]"
            )
        for i, row in enumerate(seq):
            arr = np.asarray(row, dtype=np.float64).reshape(-1)
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"SpikeSource: times[{i}] contains NaN or Inf")
            if arr.size > 1 and np.any(np.diff(arr) <= 0):
                raise ParameterError(
                    f"SpikeSource: times[{i}] must be strictly increasing; got {arr.tolist()[:10]}"
                )
            rows.append(arr)
        self.times = rows
        self.round_times = bool(round_times)
        self._params = {}

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
        indptr = np.zeros(len(self.times) + 1, dtype=np.int64)
        parts = []
        for i, row in enumerate(self.times):
            x = row / dt
            n = np.rint(x)
            if not self.round_times and np.any(
                np.abs(x - n) > _ON_GRID_TOL * np.maximum(1.0, np.abs(x))
            ):
                bad = row[np.abs(x - n) > _ON_GRID_TOL * np.maximum(1.0, np.abs(x))][0]
                raise ParameterError(
                    f"SpikeSource: times[{i}] contains {float(bad)!r} ms, not a multiple of "
                    f"dt={dt} ms; use multiples of dt or round_times=True"
                )
            steps = n.astype(np.int64)
            if steps.size and steps[0] < 1:
                raise ParameterError(
                    f"SpikeSource: times[{i}] contains {float(row[0])!r} ms; spike times must be "
                    f">= dt={dt} ms (a spike is stamped at the end of its step)"
                )
            if steps.size > 1 and np.any(np.diff(steps) <= 0):
                raise ParameterError(
                    f"SpikeSource: times[{i}] has two spikes in one step after rounding to "
                    f"dt={dt} ms; a source emits at most one spike per step"
                )
            parts.append(steps)
            indptr[i + 1] = indptr[i] + steps.size
        steps_all = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return indptr, steps_all.astype(np.int64)

    def static_data(self, dt: float, t_now_steps: int) -> npt.NDArray[np.int64]:  # noqa: D102
        indptr, steps = self.schedule(dt)
        return np.concatenate([indptr, steps]).astype(np.int64)

    def initial_int_state(self, size: int, dt: float, t_now_steps: int) -> dict[str, Any]:  # noqa: D102
        indptr, steps = self.schedule(dt)
        pointer = np.empty(size, dtype=np.int64)
        for i in range(size):
            row = steps[indptr[i] : indptr[i + 1]]
            pointer[i] = indptr[i] + np.searchsorted(row, t_now_steps, side="right")
        return {"pointer": pointer}

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {"model": self.name, "params": {}, "round_times": self.round_times}


#: Registry of model classes by name (used by files and the CLI).
MODELS: dict[str, type[NeuronModel]] = {
    cls.name: cls for cls in (LIF, LIFDelta, PoissonSource, SpikeSource)
}
