"""Neuron and source models: parameters, units, validation and kernel coefficients.

A model class describes one population's dynamics and owns everything the rest of snnsim
needs to know about it: its parameters (units, validation), its float and integer state
variables (units, initial values, how a loaded state is checked), its receptors, the
layout of the coefficients its kernel reads (:attr:`NeuronModel.coefficient_names`,
computed for a given ``dt`` by :meth:`~NeuronModel.coefficients`), and whether it has
event-driven kernels (:attr:`~NeuronModel.event_driven`, :meth:`~NeuronModel.can_idle`,
:meth:`~NeuronModel.gap_propagators`). Engine, files and the run loop ask the model; they
hold no model-specific branches. Units are PyNN's: ms, mV, nA, nF, Hz.

Adding a model touches three places:

1. a kernel module in ``kernels/`` with its update entry point, of the dispatch signature
   (``kernels/lif_delta.py`` is the smallest example);
2. a ``KIND_`` constant and one line in ``MODEL_KERNELS`` (update, and optionally the
   per-neuron-coefficient, event-driven and catch-up kernels) in ``kernels/neurons.py``;
3. a :class:`NeuronModel` subclass here, added to :data:`MODELS`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.kernels import astrocytes as _ak
from snnsim.kernels import discrete as _dk
from snnsim.kernels import neurons as _k
from snnsim.parameters import ParamValue, coerce_parameter, unique_combinations
from snnsim.timegrid import ON_GRID_TOL, steps_on_grid

__all__ = [
    "LIF",
    "MODELS",
    "RESET_MODES",
    "Astrocyte",
    "AstrocyteLR",
    "CubaLIF",
    "LIFDelta",
    "Leaky",
    "LoihiLIF",
    "NeuronModel",
    "PoissonSource",
    "RLeaky",
    "SpikeSource",
    "check_mantissas",
    "steps_on_grid",
]


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
    #: Names of the kernel coefficients, in the order :meth:`coefficients` returns them.
    coefficient_names: ClassVar[tuple[str, ...]] = ()
    #: Whether the model has event-driven kernels (idle neurons are skipped).
    event_driven: ClassVar[bool] = False
    #: Parameters (ms) that must be multiples of ``dt``. Defaults the user did not give are
    #: rounded to the grid by :meth:`on_grid`; values the user gave must be on it.
    grid_params: ClassVar[tuple[str, ...]] = ()
    #: Whether the neurons take step currents (``StepCurrent``, ``i_offset``-like input).
    current_input: ClassVar[bool] = True
    #: ``(lo, hi)`` range of ``connect(weight_exp=...)`` for models whose weights are
    #: fixed-point mantissas; None: the model takes real weights and no exponent.
    weight_exp_range: ClassVar[tuple[int, int] | None] = None
    #: Longest synaptic delay onto the model, steps (None: snnsim's own maximum).
    max_delay_steps: ClassVar[int | None] = None

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ParameterError(
                f"{type(self).__name__}: unknown parameter(s) {', '.join(unknown)}; "
                f"valid parameters are {', '.join(self.defaults)}"
            )
        owner = type(self).__name__
        self._params: dict[str, ParamValue] = {
            key: coerce_parameter(owner, key, params.get(key, default), self.units.get(key, ""))
            for key, default in self.defaults.items()
        }
        #: parameters the user gave (the others hold their defaults)
        self._given: frozenset[str] = frozenset(params)
        self._validate()

    def __getattr__(self, key: str) -> Any:
        params = self.__dict__.get("_params")
        if params is not None and key in params:
            value = params[key]
            return float(value) if isinstance(value, float) else value
        raise AttributeError(key)

    def __repr__(self) -> str:
        def show(v: ParamValue) -> str:
            return f"<{v.size} values>" if isinstance(v, np.ndarray) else repr(v)

        args = ", ".join(f"{k}={show(v)}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        assert isinstance(other, NeuronModel)
        mine, theirs = self._params, other._params

        def same(a: ParamValue, b: ParamValue) -> bool:
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                return (
                    isinstance(a, np.ndarray)
                    and isinstance(b, np.ndarray)
                    and (np.array_equal(a, b))
                )
            return a == b

        return mine.keys() == theirs.keys() and all(same(mine[k], theirs[k]) for k in mine)

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(k for k in self._params)))

    @property
    def params(self) -> dict[str, ParamValue]:
        """Parameter values (a copy): numbers, per-neuron arrays or distributions."""
        return dict(self._params)

    @property
    def homogeneous(self) -> bool:
        """Whether every parameter is one number for the whole population."""
        return all(isinstance(v, float) for v in self._params.values())

    def with_values(self, **values: ParamValue) -> NeuronModel:
        """Return a model of the same class with some parameters replaced (validated)."""
        new = copy.copy(self)
        new._params = dict(self._params)
        owner = type(self).__name__
        given = set(self._given)
        for key, value in values.items():
            if key not in self.defaults:
                raise ParameterError(
                    f"{owner}: unknown parameter {key}; valid parameters are "
                    f"{', '.join(self.defaults)}"
                )
            old = self._params[key]
            checked = coerce_parameter(owner, key, value, self.units.get(key, ""))
            new._params[key] = checked
            # a number equal to the current one (e.g. when a model is resolved) does not
            # turn a default into a value the user gave
            if not (isinstance(old, float) and isinstance(checked, float) and checked == old):
                given.add(key)
        new._given = frozenset(given)
        new._validate()
        return new

    @property
    def given(self) -> frozenset[str]:
        """Names of the parameters the user gave (the others hold their defaults)."""
        return self._given

    def on_grid(self, dt: float) -> NeuronModel:
        """Return the model with the defaults of :attr:`grid_params` rounded to the ``dt`` grid.

        A default the user never set must not break a coarser ``dt`` (LIF's
        ``tau_refrac=0.1`` ms at ``dt=0.3`` ms becomes 0.0 ms, the nearest multiple, as NEST
        rounds refractory periods to steps). Values the user gave are left as they are, and
        :meth:`check_dt` refuses them when they are off the grid. Returns ``self`` when
        nothing changes.
        """
        changes: dict[str, ParamValue] = {}
        for key in self.grid_params:
            value = self._params[key]
            if key in self._given or not isinstance(value, float):
                continue
            steps = round(value / dt)
            if abs(value / dt - steps) > ON_GRID_TOL * max(1.0, abs(value / dt)):
                changes[key] = steps * dt
        if not changes:
            return self
        new = self.with_values(**changes)
        new._given = self._given
        return new

    def scalars(self) -> dict[str, float]:
        """Every parameter as a number (homogeneous models; the scalar formulas use it)."""
        out = {}
        for key, value in self._params.items():
            if not isinstance(value, float):
                raise ParameterError(
                    f"{type(self).__name__}: {key} differs between neurons here; per-neuron "
                    "values are handled by coefficient_matrix"
                )
            out[key] = value
        return out

    def resolved(self, key: str) -> float | npt.NDArray[np.float64]:
        """Return a parameter's number or per-neuron values (distributions refused)."""
        value = self._params[key]
        if isinstance(value, Distribution):
            raise ParameterError(
                f"{type(self).__name__}: {key} is a distribution; it is sampled per neuron "
                "when the population is resolved (Population.resolved_model)"
            )
        return value

    def values(self, key: str) -> npt.NDArray[np.float64] | None:
        """Values of a parameter as an array (one or per neuron); None for a distribution."""
        value = self._params[key]
        if isinstance(value, Distribution):
            return None
        return np.atleast_1d(np.asarray(value, dtype=np.float64))

    def coefficient_matrix(self, dt: float, size: int) -> npt.NDArray[np.float64]:
        """Per-neuron coefficients ``[len(coefficient_names), size]`` of a resolved model.

        Every parameter must be a number or an array of ``size`` values (see
        :func:`snnsim.parameters.resolve_values`); each distinct combination is computed
        once with the scalar :meth:`coefficients`, so neurons get exactly the coefficients
        of a homogeneous population with their values.
        """
        values = {k: v for k, v in self._params.items() if not isinstance(v, Distribution)}
        combos, inverse = unique_combinations(values, size)
        rows = np.stack([self.with_values(**c).coefficients(dt) for c in combos], axis=1)
        out: npt.NDArray[np.float64] = np.ascontiguousarray(rows[:, inverse])
        return out

    def receptor_index(self, receptor: str | None, what: str) -> int:
        """Index of ``receptor`` among :attr:`receptors` (``None``: the first one).

        The one receptor check of snnsim (``connect``, inputs, ``Projection.set``).

        Raises
        ------
        ConnectivityError
            If the model takes no input, if a receptor is named for a single-receptor
            model, or if the name is not one of :attr:`receptors`.
        """
        if not self.receptors:
            raise ConnectivityError(f"{what}: {self.name} neurons cannot receive input")
        if not self.signed_receptors:
            if receptor is not None:
                raise ConnectivityError(
                    f"{what}: receptor={receptor!r}, but {self.name} has a single receptor; "
                    "omit receptor (weights of either sign are allowed)"
                )
            return 0
        rec = self.receptors[0] if receptor is None else receptor
        if not isinstance(rec, str) or rec not in self.receptors:
            raise ConnectivityError(
                f"{what}: receptor={rec!r}; {self.name} receptors are "
                f"{', '.join(map(repr, self.receptors))}"
            )
        return self.receptors.index(rec)

    def check_weight_range(self, w_min: float, w_max: float, receptor: int, what: str) -> None:
        """Check the sign of weights in ``[w_min, w_max]`` onto receptor index ``receptor``.

        Models with :attr:`signed_receptors` take ``w >= 0`` on ``"exc"`` and ``w <= 0`` on
        ``"inh"`` (NEST's convention); other models take either sign.

        Raises
        ------
        ConnectivityError
            Naming the offending value and the receptor to use instead.
        """
        if not self.signed_receptors:
            return
        if receptor == 0 and w_min < 0:
            raise ConnectivityError(
                f"{what}: weight {w_min:g} nA < 0 on receptor 'exc'; excitatory weights must "
                "be >= 0: use receptor='inh' for inhibitory (negative) weights"
            )
        if receptor == 1 and w_max > 0:
            raise ConnectivityError(
                f"{what}: weight {w_max:g} nA > 0 on receptor 'inh'; inhibitory weights must "
                "be <= 0 (NEST convention): use a negative weight or receptor='exc'"
            )

    def check_weight_values(
        self, values: npt.NDArray[np.float64], weight_exp: int | None, what: str
    ) -> None:
        """Check every weight of a projection onto this model as given to ``connect``.

        Only models with :attr:`weight_exp_range` check anything (their weights are
        fixed-point mantissas); ``values`` are all the values given (any order).
        """

    def check_precision(self, precision: str) -> None:
        """Check that the model can run in a network of this precision ("double"/"single")."""

    def _error(self, key: str, rule: str, bad: Any = None) -> ParameterError:
        value = self._params[key] if bad is None else bad
        where = (
            "" if bad is None or isinstance(self._params[key], float) else " (a per-neuron value)"
        )
        return ParameterError(
            f"{type(self).__name__}({key}={value!r}{where}): {key} must be {rule}"
        )

    def _require(self, key: str, ok: Any, rule: str) -> None:
        """Raise ``_error(key, rule)`` unless ``ok(values)`` holds for every value of ``key``."""
        vals = self.values(key)
        if vals is None:  # a distribution: checked once sampled
            return
        good = np.asarray(ok(vals), dtype=bool)
        if not np.all(good):
            raise self._error(key, rule, float(vals[np.flatnonzero(~good)[0]]))

    def _validate(self) -> None:
        """Check parameter ranges; raise :class:`ParameterError` naming the parameter."""

    def check_dt(self, dt: float) -> None:
        """Check that the model can run with time step ``dt`` (ms)."""

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:
        """Kernel coefficients for time step ``dt`` (ms), in :attr:`coefficient_names` order."""
        return np.zeros(len(self.coefficient_names))

    def can_idle(self) -> bool:
        """Whether a neuron can rest without spiking (event-driven updates can skip it).

        Only asked of models with :attr:`event_driven` kernels.
        """
        return False

    def check_state(
        self,
        floats: dict[str, npt.NDArray[np.floating[Any]]],
        ints: dict[str, npt.NDArray[np.integer[Any]]],
        dt: float,
        step: int,
    ) -> str:
        """Check a population's state read from a file; return the problem, or ``""``.

        ``floats`` and ``ints`` map each state variable to its values (one per neuron).
        Finite float values are checked by the loader for every model.
        """
        return ""

    def gap_propagators(self, dt: float, k_max: int) -> npt.NDArray[np.float64]:
        """Propagators over ``k = 0 .. k_max`` input-free steps, float64[k_max + 1, 6].

        Only models that support event-driven updates (skipping idle neurons) define them;
        the default is an empty table.
        """
        return np.zeros((0, 6))

    def initial_state(self) -> dict[str, float | npt.NDArray[np.float64]]:
        """Default initial value of every state variable (one, or one per neuron)."""
        return {}

    def check_size(self, size: int) -> None:
        """Check that a population of ``size`` neurons can use this model instance.

        Every per-neuron parameter array must have ``size`` values.
        """
        for key, value in self._params.items():
            if isinstance(value, np.ndarray) and value.size != size:
                raise ParameterError(
                    f"{type(self).__name__}: {key} has {value.size} values for a population of "
                    f"{size} neurons; give one value per neuron, a number or a distribution"
                )

    def static_data(self, dt: float, t_now_steps: int) -> npt.NDArray[np.int64]:
        """Return static integer data for the kernel (e.g. spike schedules)."""
        return np.zeros(0, dtype=np.int64)

    def initial_int_state(self, size: int, dt: float, t_now_steps: int) -> dict[str, Any]:
        """Return the initial integer state (e.g. schedule pointers)."""
        return {name: np.zeros(size, dtype=np.int64) for name in self.int_vars}

    def describe(self) -> dict[str, Any]:
        """Plain description: name and parameters (for files)."""
        return {"model": self.name, "params": self.params}

    def file_data(self) -> tuple[dict[str, tuple[npt.NDArray[Any], str]], dict[str, Any]]:
        """Return what a file needs beyond the parameters: arrays (with units) and attributes.

        Files store the parameters themselves; a model with more description (the spike
        times of a :class:`SpikeSource`) returns it here and rebuilds itself in
        :meth:`from_file`.
        """
        return {}, {}

    @classmethod
    def from_file(
        cls, size: int, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]],
        attrs: dict[str, Any],
    ) -> NeuronModel:  # fmt: skip
        """Rebuild a model written with :meth:`file_data` (arrays already read and typed).

        ``arrays`` and ``attrs`` hold the names :meth:`file_data` gave; the reader checks
        their presence and dtypes, the model checks their contents (raising
        :class:`ParameterError`).
        """
        return cls(**params)

    #: Names and dtypes of the arrays :meth:`file_data` writes (for the reader).
    file_arrays: ClassVar[dict[str, type[np.generic]]] = {}
    #: Names of the attributes :meth:`file_data` writes (for the reader).
    file_attrs: ClassVar[tuple[str, ...]] = ()


def _check_thresh_above_reset(model: NeuronModel) -> None:
    thresh, reset = model.values("v_thresh"), model.values("v_reset")
    if thresh is None or reset is None:  # a distribution: checked once sampled
        return
    bad = np.flatnonzero(np.broadcast_to(thresh <= reset, np.broadcast(thresh, reset).shape))
    if bad.size:
        i = int(bad[0])
        t = float(thresh[i if thresh.size > 1 else 0])
        r = float(reset[i if reset.size > 1 else 0])
        raise ParameterError(
            f"{type(model).__name__}(v_thresh={t!r}, v_reset={r!r}): v_thresh must be > v_reset"
        )


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
    tau_refrac : float, ms (0.1); must be a multiple of dt. The default, when not given, is
        rounded to the nearest multiple of dt by ``add_population`` (0.0 ms at dt=0.3 ms).
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
    grid_params: ClassVar[tuple[str, ...]] = ("tau_refrac",)
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
    coefficient_names: ClassVar[tuple[str, ...]] = (
        "p22", "p11_exc", "p11_inh", "p21_exc", "p21_inh", "p20", "v_rest", "v_thresh",
        "v_reset", "i_offset", "refractory_steps", "tau_m_over_cm", "psp_peak_exc",
        "psp_peak_inh",
    )  # fmt: skip
    event_driven = True

    def can_idle(self) -> bool:
        r"""Whether the neuron rests below threshold (homogeneous populations).

        That is when :math:`E_L + i_{offset}\tau_m/c_m < V_{th}`. Heterogeneous
        populations are updated clock-driven (False).
        """
        if not self.homogeneous:
            return False
        p = self.scalars()
        return p["v_rest"] + p["i_offset"] * p["tau_m"] / p["cm"] < p["v_thresh"]

    def check_state(  # noqa: D102
        self,
        floats: dict[str, npt.NDArray[np.floating[Any]]],
        ints: dict[str, npt.NDArray[np.integer[Any]]],
        dt: float,
        step: int,
    ) -> str:
        refrac_ms = self.values("tau_refrac")
        n_ref = int(np.rint(np.max(refrac_ms) / dt)) if refrac_ms is not None else 1 << 62
        refrac = ints["refrac"]
        if refrac.size and (refrac.min() < 0 or refrac.max() > n_ref):
            return f"refractory counters outside [0, {n_ref}] steps"
        return ""

    def _validate(self) -> None:
        for key in ("tau_m", "cm", "tau_syn_exc", "tau_syn_inh"):
            self._require(key, lambda x: x > 0, "> 0 " + self.units[key])
        self._require("tau_refrac", lambda x: x >= 0, ">= 0 ms")
        _check_thresh_above_reset(self)

    def check_dt(self, dt: float) -> None:  # noqa: D102
        refrac = self.values("tau_refrac")
        for value in np.unique(refrac) if refrac is not None else ():
            steps_on_grid(float(value), dt, f"{type(self).__name__}: tau_refrac")

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        tau_m, cm = p["tau_m"], p["cm"]
        c = np.zeros(len(self.coefficient_names))
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
        p = self.scalars()
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

    def initial_state(self) -> dict[str, float | npt.NDArray[np.float64]]:  # noqa: D102
        return {"v": self.resolved("v_rest"), "i_exc": 0.0, "i_inh": 0.0}


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
    coefficient_names: ClassVar[tuple[str, ...]] = (
        "p33", "p30", "v_rest", "v_thresh", "v_reset", "i_offset", "refractory_steps"
    )  # fmt: skip
    event_driven = False

    def _validate(self) -> None:
        for key in ("tau_m", "cm"):
            self._require(key, lambda x: x > 0, "> 0 " + self.units[key])
        self._require("tau_refrac", lambda x: x >= 0, ">= 0 ms")
        _check_thresh_above_reset(self)

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        c = np.zeros(len(self.coefficient_names))
        c[0] = math.exp(-dt / p["tau_m"])
        c[1] = -p["tau_m"] / p["cm"] * math.expm1(-dt / p["tau_m"])
        c[2] = p["v_rest"]
        c[3] = p["v_thresh"]
        c[4] = p["v_reset"]
        c[5] = p["i_offset"]
        c[6] = steps_on_grid(p["tau_refrac"], dt, "tau_refrac")
        return c

    def initial_state(self) -> dict[str, float | npt.NDArray[np.float64]]:  # noqa: D102
        return {"v": self.resolved("v_rest")}


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
            arr = np.asarray(raw, dtype=np.float64).reshape(-1)
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"SpikeSource: times[{i}] contains NaN or Inf")
            if arr.size > 1 and np.any(np.diff(arr) <= 0):
                raise ParameterError(
                    f"SpikeSource: times[{i}] must be strictly increasing; got {arr.tolist()[:10]}"
                )
            rows.append(arr)
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
        indptr = np.zeros(len(self.times) + 1, dtype=np.int64)
        parts = []
        for i, row in enumerate(self.times):
            x = row / dt
            n = np.rint(x)
            if not self.round_times and np.any(
                np.abs(x - n) > ON_GRID_TOL * np.maximum(1.0, np.abs(x))
            ):
                bad = row[np.abs(x - n) > ON_GRID_TOL * np.maximum(1.0, np.abs(x))][0]
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

    def check_dt(self, dt: float) -> None:
        """Check that every time is on the ``dt`` grid (unless rounded) and ``>= dt``."""
        self.schedule(dt)

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


class LoihiLIF(NeuronModel):
    r"""Loihi fixed-point LIF neuron: Lava's ``LIF`` process with its ``fixed_pt`` model.

    Bit-exact integer dynamics of Lava ``PyLifModelBitAcc`` (Loihi 1 bit-accurate, also
    Lava's Loihi 2 ``fixed_pt`` CPU model), see :func:`snnsim.kernels.loihi.loihi_lif_step`:

    .. math::
        u &\leftarrow \mathrm{wrap}_{24}\big(tr(u\,(4096 - d_u - 1)) + (a_{in} \ll 6)\big)\\
        v &\leftarrow \mathrm{clip}_{\pm(2^{23}-1)}\big(tr(v\,(4096 - d_v)) + u
             + (m_b \ll e_b)\big) \\
        s &= v > (v_{th} \ll 6), \qquad v \leftarrow 0 \text{ on a spike (u is not reset)}

    with :math:`tr(x) = \mathrm{sign}(x)\lfloor |x|/4096 \rfloor` (truncation toward
    zero). No refractory period. ``a_in`` is the sum of the arriving synapses'
    ``mantissa << weight_exp`` (Lava ``Dense``/``DelayDense``).

    Synapses onto LoihiLIF neurons are Lava ``Dense`` / ``DelayDense`` connections:

    - weights are the integer 8-bit mantissas with one exponent per projection,
      ``net.connect(pre, post, conn, weight=mantissas, weight_exp=e)``, ``-7 <= e <= 7``
      (default 0). A projection of one sign takes ``0..255`` (or ``-255..0``); a
      mixed-sign one takes even values in ``-256..254`` (Lava drops the lowest bit of
      mixed-sign mantissas: convert Lava weight matrices with
      :func:`snnsim.hardware.lava.dense_mantissas`). With ``e < 0`` every mantissa must be
      a multiple of ``2**-e`` (Lava floors each projection's per-step sum; snnsim sums all
      projections in one buffer, so it stays exact only when nothing is rounded);
    - time: an snnsim delay of ``d`` steps is Lava's ``DelayDense`` delay ``d - 1`` (a plain
      ``Dense`` is one step), so delays are 1..63 steps.

    Parameters (Lava names; integers)
    ---------------------------------
    du : int (0..4095)
        Current decay; the current keeps ``(4096 - du - 1)/4096`` per step.
    dv : int (0..4095)
        Voltage decay; the voltage keeps ``(4096 - dv)/4096`` per step.
    vth : int (0..131071)
        Threshold mantissa (the threshold is ``vth << 6``).
    bias_mant : int (-4096..4095), per neuron allowed
    bias_exp : int (0..7), per neuron allowed
        Bias ``bias_mant << bias_exp`` added to ``v`` every step.

    State variables: ``u``, ``v`` (integers, recorded and saved as int64). Single receptor
    (weights of either sign). Runs only in double-precision networks (the float64 ring
    buffer holds the integer input exactly), and takes no step currents.
    """

    name = "LoihiLIF"
    kind = _k.KIND_LOIHI_LIF
    defaults = {"du": 0.0, "dv": 0.0, "vth": 10.0, "bias_mant": 0.0, "bias_exp": 0.0}
    units = {
        "du": "1/4096",
        "dv": "1/4096",
        "vth": "2^6 (threshold mantissa)",
        "bias_mant": "1",
        "bias_exp": "1 (left shift)",
        "u": "1 (24-bit integer)",
        "v": "1 (24-bit integer)",
    }
    int_vars: ClassVar[tuple[str, ...]] = ("u", "v")
    receptors: ClassVar[tuple[str, ...]] = ("syn",)
    signed_receptors = False
    coefficient_names: ClassVar[tuple[str, ...]] = ("du", "dv", "vth", "bias_mant", "bias_exp")
    current_input = False
    weight_exp_range = (-7, 7)
    max_delay_steps = 63  # Lava DelayDense delay 62 (netx clips above it)
    #: Largest ``a_in`` one synapse can bring (``256 << 7``).
    max_input = float(256 << 7)
    #: Integer ranges of the parameters (inclusive).
    ranges: ClassVar[dict[str, tuple[int, int]]] = {
        "du": (0, 4095),
        "dv": (0, 4095),
        "vth": (0, (1 << 17) - 1),
        "bias_mant": (-(1 << 12), (1 << 12) - 1),
        "bias_exp": (0, 7),
    }

    def __init__(
        self,
        du: Any = 0,
        dv: Any = 0,
        vth: Any = 10,
        bias_mant: Any = 0,
        bias_exp: Any = 0,
    ) -> None:
        super().__init__(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp)

    def _validate(self) -> None:
        for key, (lo, hi) in self.ranges.items():
            value = self._params[key]
            if isinstance(value, Distribution) or (
                key in ("du", "dv", "vth") and not isinstance(value, float)
            ):
                if key in ("du", "dv", "vth"):
                    raise self._error(key, "one integer for the whole population (Lava shares it)")
                raise self._error(key, "an integer or one integer per neuron, not a distribution")
            self._require(
                key,
                lambda x, lo=lo, hi=hi: (x == np.round(x)) & (x >= lo) & (x <= hi),
                f"an integer in [{lo}, {hi}]",
            )

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        return np.array([p[k] for k in self.coefficient_names], dtype=np.float64)

    def check_precision(self, precision: str) -> None:
        """Refuse ``"single"``: its float32 ring cannot hold every integer input exactly."""
        if precision != "double":
            raise ParameterError(
                f"LoihiLIF in a Network(precision={precision!r}): Loihi fixed-point neurons "
                "sum their integer input in the ring buffer, which is exact in float64 only; "
                "use Network(precision='double')"
            )

    def check_weight_range(self, w_min: float, w_max: float, receptor: int, what: str) -> None:
        """Check ring-buffer inputs (``mantissa * 2**weight_exp``, or a PoissonInput weight).

        They must be integers of at most ``256 << 7`` in magnitude (``a_in`` units).
        """
        for w in (w_min, w_max):
            if w != round(w) or abs(w) > self.max_input:
                raise ConnectivityError(
                    f"{what}: input weight {w:g} onto LoihiLIF neurons; it must be an integer "
                    f"(a_in units, mantissa << weight_exp) of magnitude <= {self.max_input:g}"
                )

    def check_weight_values(  # noqa: D102
        self, values: npt.NDArray[np.float64], weight_exp: int | None, what: str
    ) -> None:
        check_mantissas(values, 0 if weight_exp is None else weight_exp, what)

    def check_state(  # noqa: D102
        self,
        floats: dict[str, npt.NDArray[np.floating[Any]]],
        ints: dict[str, npt.NDArray[np.integer[Any]]],
        dt: float,
        step: int,
    ) -> str:
        half = 1 << 23
        u, v = ints["u"], ints["v"]
        if u.size and (u.min() <= -half or u.max() > half):
            return f"u outside the 24-bit range ({-half}, {half}]"
        if v.size and (v.min() < -(half - 1) or v.max() > half - 1):
            return f"v outside the 24-bit range [{-(half - 1)}, {half - 1}]"
        return ""


def check_mantissas(values: npt.NDArray[np.float64], weight_exp: int, what: str) -> None:
    """Check Loihi weight mantissas of one projection (see :class:`LoihiLIF`).

    Integers; ``0..255`` or ``-255..0`` when all have one sign; even values in ``-256..254``
    when both signs occur (mixed sign mode: Lava drops the lowest bit); multiples of
    ``2**-weight_exp`` when ``weight_exp < 0``.

    Raises
    ------
    ConnectivityError
        Naming the first offending value and the fix.
    """
    w = np.asarray(values, dtype=np.float64).reshape(-1)
    if not w.size:
        return
    fix = (
        "; Lava weight matrices convert with snnsim.hardware.lava.dense_mantissas(w), "
        "float weights with snnsim.hardware.quantize"
    )
    frac = w != np.round(w)
    if frac.any():
        raise ConnectivityError(
            f"{what}: weight {float(w[np.argmax(frac)])!r} onto LoihiLIF neurons is not an "
            "integer; weights are 8-bit integer mantissas (the exponent goes in "
            "weight_exp=...)" + fix
        )
    lo, hi = float(w.min()), float(w.max())
    if lo < 0 < hi:
        if lo < -256 or hi > 254:
            bad = lo if lo < -256 else hi
            raise ConnectivityError(
                f"{what}: weight {bad:g} out of range for a mixed-sign LoihiLIF projection "
                "(8 bits with sign: even mantissas in [-256, 254]); scale the weights down and "
                "raise weight_exp" + fix
            )
        odd = np.mod(w, 2) != 0
        if odd.any():
            bad = float(w[np.argmax(odd)])
            raise ConnectivityError(
                f"{what}: odd weight {bad:g} in a mixed-sign LoihiLIF projection; Lava's Dense "
                "drops the lowest bit of mixed-sign mantissas (it would use "
                f"{2 * math.floor(bad / 2):g}), so give even mantissas" + fix
            )
    elif lo < -255 or hi > 255:
        bad = lo if lo < -255 else hi
        raise ConnectivityError(
            f"{what}: weight {bad:g} out of range for a one-sign LoihiLIF projection (8-bit "
            "mantissas: 0..255, or -255..0); scale the weights down and raise weight_exp" + fix
        )
    if weight_exp < 0:
        step = float(1 << -weight_exp)
        off = np.mod(w, step) != 0
        if off.any():
            bad = float(w[np.argmax(off)])
            raise ConnectivityError(
                f"{what}: weight {bad:g} with weight_exp={weight_exp} is not a multiple of "
                f"{step:g}; Lava floors each projection's summed input after the right shift, "
                "which snnsim reproduces exactly only when no mantissa is rounded: give "
                f"mantissas that are multiples of {step:g}, or weight_exp=0 with the mantissas "
                f"divided by {step:g}"
            )


#: Reset modes of the discrete-time neurons (snnTorch's ``reset_mechanism``).
RESET_MODES: tuple[str, ...] = ("subtract", "zero", "none")


class Leaky(NeuronModel):
    r"""Discrete-time leaky integrate-and-fire neuron: snnTorch 1.0 ``snn.Leaky``, exactly.

    Dimensionless; one step is one ``dt`` of the network. With :math:`x_t` the input that
    arrives in step ``t`` (the sum of the weights of the spikes arriving in that step, plus a
    :class:`~snnsim.inputs.StepCurrent` amplitude if the neuron has one, which then acts as
    a bias) and the reset signal :math:`R_t = \Theta(U_{t-1} - \vartheta)` of the membrane
    stored at the end of the previous step (:math:`\Theta(z) = 1` for :math:`z > 0`):

    .. math::
        U_t = \begin{cases}
            \beta U_{t-1} + x_t - R_t \vartheta & \text{reset="subtract"} \\
            \beta (1 - R_t) U_{t-1} + x_t & \text{reset="zero"} \\
            \beta U_{t-1} + x_t & \text{reset="none"}
        \end{cases}, \qquad S_t = \Theta(U_t - \vartheta)

    so with ``reset_delay=True`` (snnTorch's default) the spike is emitted in the step where
    :math:`U_t > \vartheta`, the stored :math:`U_t` is still above threshold, and the reset
    acts in the next step. With ``reset_delay=False`` the same step also applies snnTorch's
    guarded reset :math:`U_t \leftarrow U_t - (S_t - R_t)\vartheta` (subtract) or
    :math:`U_t \leftarrow U_t - (S_t - R_t) U_t` (zero). Each expression is evaluated as
    snnTorch's ``forward`` evaluates it, so in float64 (and in float32, with
    ``Network(precision="single")``) the results are torch's.

    Time mapping: the input arriving in the ring slot of step ``t`` is snnTorch's
    ``input_[t]``, and the spike and membrane of that step are its outputs ``spk[t]``,
    ``mem[t]`` (a spike emitted in step ``s`` reaches a target through a ``d``-step synapse in
    step ``s + d``). A recurrent connection of snnTorch is a projection from the population
    to itself with a delay of one step; note that snnTorch's ``RLeaky`` zero reset differs
    from this class's, see :class:`RLeaky`.

    Parameters
    ----------
    beta : float, array or Distribution, 1
        Membrane decay per step, in ``[0, 1]`` (snnTorch clamps to that range; here values
        outside it are refused). Note that snnTorch stores a Python float as a float32
        tensor: ``snn.Leaky(beta=0.9)`` decays by ``float32(0.9)``.
    threshold : float, array or Distribution, 1 (1.0)
        Firing threshold :math:`\vartheta`.
    reset : {"subtract", "zero", "none"}
        snnTorch's ``reset_mechanism`` (default "subtract").
    reset_delay : bool
        snnTorch's ``reset_delay`` (default True).

    State variable ``mem`` (:math:`U`, unit "1", initially 0), recordable with
    ``net.record_state(pop, ["mem"])``. One receptor: ``connect`` takes no ``receptor`` and
    weights (unit "1") of either sign. Clock-driven only.
    """

    name = "Leaky"
    kind = _k.KIND_LEAKY
    defaults = {"beta": 0.9, "threshold": 1.0}
    units = {"beta": "1", "threshold": "1", "mem": "1"}
    float_vars: ClassVar[tuple[str, ...]] = ("mem",)
    receptors: ClassVar[tuple[str, ...]] = ("in",)
    signed_receptors = False
    coefficient_names: ClassVar[tuple[str, ...]] = (
        "beta", "threshold", "reset_code", "reset_delay"
    )  # fmt: skip
    #: Kernel reset code of ``reset="zero"`` (Leaky zeroes the previous membrane).
    _zero_code: ClassVar[int] = _dk.RESET_ZERO
    file_attrs: ClassVar[tuple[str, ...]] = ("reset", "reset_delay")

    def __init__(
        self, beta: Any = 0.9, threshold: Any = 1.0, reset: str = "subtract",
        reset_delay: bool = True, **params: Any,
    ) -> None:  # fmt: skip
        owner = type(self).__name__
        if not isinstance(reset, str) or reset not in RESET_MODES:
            raise ParameterError(
                f"{owner}(reset={reset!r}): reset must be one of "
                f"{', '.join(map(repr, RESET_MODES))} (snnTorch's reset_mechanism)"
            )
        if not isinstance(reset_delay, (bool, np.bool_)):
            raise ParameterError(
                f"{owner}(reset_delay={reset_delay!r}): reset_delay must be True or False"
            )
        self.reset = reset
        self.reset_delay = bool(reset_delay)
        super().__init__(beta=beta, threshold=threshold, **params)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, reset={self.reset!r}, reset_delay={self.reset_delay})"

    def __eq__(self, other: object) -> bool:
        return (
            super().__eq__(other)
            and isinstance(other, Leaky)
            and (other.reset, other.reset_delay) == (self.reset, self.reset_delay)
        )

    def __hash__(self) -> int:
        return hash((super().__hash__(), self.reset, self.reset_delay))

    def _validate(self) -> None:
        self._require("beta", lambda x: (x >= 0) & (x <= 1), "in [0, 1] (decay per step)")

    def reset_code(self) -> int:
        """Return the kernel's ``RESET_*`` code for this model's ``reset``."""
        return {"subtract": _dk.RESET_SUBTRACT, "zero": self._zero_code, "none": _dk.RESET_NONE}[
            self.reset
        ]

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        return np.array([p["beta"], p["threshold"], self.reset_code(), float(self.reset_delay)])

    def initial_state(self) -> dict[str, float | npt.NDArray[np.float64]]:  # noqa: D102
        return dict.fromkeys(self.float_vars, 0.0)

    def describe(self) -> dict[str, Any]:  # noqa: D102
        return {**super().describe(), "reset": self.reset, "reset_delay": self.reset_delay}

    def file_data(  # noqa: D102
        self,
    ) -> tuple[dict[str, tuple[npt.NDArray[Any], str]], dict[str, Any]]:
        return {}, {"reset": self.reset, "reset_delay": np.int64(self.reset_delay)}

    @classmethod
    def from_file(  # noqa: D102
        cls, size: int, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]],
        attrs: dict[str, Any],
    ) -> NeuronModel:  # fmt: skip
        reset = attrs["reset"]
        reset = reset.decode("utf-8", "replace") if isinstance(reset, bytes) else reset
        delay = attrs["reset_delay"]
        if isinstance(delay, np.ndarray) and delay.shape in ((), (1,)):
            delay = delay.reshape(-1)[0]
        if isinstance(delay, (bool, np.bool_)) or not isinstance(delay, (int, np.integer)) or (
            int(delay) not in (0, 1)
        ):  # fmt: skip
            raise ParameterError(f"{cls.name}: reset_delay={delay!r} must be 0 or 1")
        return cls(**params, reset=str(reset), reset_delay=bool(int(delay)))


class RLeaky(Leaky):
    r"""The neuron of snnTorch 1.0 ``snn.RLeaky``: :class:`Leaky` with RLeaky's zero reset.

    snnTorch's ``RLeaky`` is :math:`U_t = \beta U_{t-1} + x_t + V(S_{t-1}) - R_t\vartheta`:
    a ``Leaky`` neuron plus a recurrent term of the previous step's spikes, which here is an
    ordinary projection from the population to itself with a delay of one step (``dt``) and
    weights ``V`` (``V.weight[j, i]`` is the weight from neuron ``i`` to neuron ``j``; an
    elementwise ``V``, ``all_to_all=False``, is a ``OneToOne`` projection). For
    ``reset="subtract"`` and ``"none"`` this class equals :class:`Leaky`. The difference is
    the zero reset: ``Leaky`` zeroes the previous membrane before the decay and the input,
    :math:`U_t = \beta(1 - R_t)U_{t-1} + x_t`, while ``RLeaky`` zeroes the whole new
    membrane, :math:`U_t = (1 - R_t)(\beta U_{t-1} + x_t + V S_{t-1})`, which is what this
    class does. ``reset_delay=False`` acts as in :class:`Leaky` (and as in snnTorch's RLeaky).

    The recurrent ``nn.Linear`` of snnTorch has a bias by default, added in every step: give
    it as a :class:`~snnsim.inputs.StepCurrent` of that amplitude from the first step (or
    build the torch model with ``bias=False``). Parameters and state as :class:`Leaky`.

    snnTorch's ``RSynaptic`` needs no class of its own: its zero reset is the one of
    :class:`CubaLIF`, so ``CubaLIF`` plus a one-step recurrent projection is ``RSynaptic``.
    (In snnTorch 1.0 ``RSynaptic(reset_delay=False)`` raises a TypeError with
    ``init_hidden=True`` and otherwise behaves as ``reset_delay=True``; use
    ``CubaLIF(reset_delay=True)`` for it.)
    """

    name = "RLeaky"
    _zero_code: ClassVar[int] = _dk.RESET_ZERO_NEW


class CubaLIF(Leaky):
    r"""Current-based discrete-time LIF neuron: snnTorch 1.0 ``snn.Synaptic``, exactly.

    Dimensionless; one step is one ``dt``. With :math:`x_t`, :math:`R_t` and
    :math:`\Theta` as in :class:`Leaky`:

    .. math::
        I_t = \alpha I_{t-1} + x_t, \qquad
        U_t = \begin{cases}
            \beta U_{t-1} + I_t - R_t \vartheta & \text{reset="subtract"} \\
            (1 - R_t)(\beta U_{t-1} + I_t) & \text{reset="zero"} \\
            \beta U_{t-1} + I_t & \text{reset="none"}
        \end{cases}, \qquad S_t = \Theta(U_t - \vartheta)

    The zero reset acts on the new membrane only; the synaptic current is never reset.
    ``reset_delay=False`` applies the guarded same-step reset of :class:`Leaky` to
    :math:`U_t`. With a recurrent projection of one step this is also snnTorch's
    ``RSynaptic`` (see :class:`RLeaky`).

    Parameters
    ----------
    alpha : float, array or Distribution, 1
        Synaptic current decay per step, in ``[0, 1]``.
    beta : float, array or Distribution, 1
        Membrane decay per step, in ``[0, 1]``.
    threshold, reset, reset_delay :
        As :class:`Leaky`.

    State variables ``mem`` (:math:`U`) and ``syn`` (:math:`I`), unit "1", initially 0.
    """

    name = "CubaLIF"
    kind = _k.KIND_CUBA_LIF
    defaults = {"alpha": 0.8, "beta": 0.9, "threshold": 1.0}
    units = {"alpha": "1", "beta": "1", "threshold": "1", "mem": "1", "syn": "1"}
    float_vars: ClassVar[tuple[str, ...]] = ("mem", "syn")
    coefficient_names: ClassVar[tuple[str, ...]] = (
        "alpha", "beta", "threshold", "reset_code", "reset_delay"
    )  # fmt: skip
    _zero_code: ClassVar[int] = _dk.RESET_ZERO_NEW

    def __init__(
        self, alpha: Any = 0.8, beta: Any = 0.9, threshold: Any = 1.0, reset: str = "subtract",
        reset_delay: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(
            beta=beta, threshold=threshold, reset=reset, reset_delay=reset_delay, alpha=alpha
        )

    def _validate(self) -> None:
        super()._validate()
        self._require("alpha", lambda x: (x >= 0) & (x <= 1), "in [0, 1] (decay per step)")

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        return np.array(
            [p["alpha"], p["beta"], p["threshold"], self.reset_code(), float(self.reset_delay)]
        )


class Astrocyte(NeuronModel):
    r"""NALSM's astrocyte: a leaky integrator of the spikes it receives (it never spikes).

    Ivanov & Michmizos (NeurIPS 2021), code ``NALSM_ASTRO.update_astro_state``:

    .. math::
        \tau \frac{dA}{dt} = -A + \sum_i w_i S_i(t) + b

    driven through ordinary projections (one receptor, weights of either sign: NALSM has
    ``+w_astro`` from liquid neurons and ``-w_astro`` from input neurons). With :math:`x_t`
    the summed weights of the spikes arriving in step ``t`` and ``h = dt`` (ms), one step is

    .. math::
        A_t = A_{t-1} + \frac{(x_t + b h) - A_{t-1} h}{\tau}

    At ``dt = 1`` ms this is NALSM's Euler step ``A + ((sum(w*S) + bias) - A) / tau``
    evaluated in the same order, so the numbers are NALSM's (in float32 with
    ``Network(precision="single")``, NALSM's TensorFlow precision). At other ``dt`` it is the
    forward-Euler step of the ODE with each spike a delta of area 1 ms: a spike of weight
    ``w`` always raises ``A`` by ``w / tau`` (NALSM's per-spike effect), while leak and bias
    act for ``dt`` ms. A spike emitted at ``t`` through a delay ``d`` counts in the update
    that ends at ``t + d`` (NALSM: one 1 ms step). NALSM's within-sample annealing of
    ``w``, ``b`` and ``A`` (x0.99 per ms) is not part of this model.

    Parameters
    ----------
    tau : float, ms (100.0)
        Time constant, > 0 (NALSM ``tau_astro``).
    bias : float, 1 (0.15)
        Bias ``b`` (NALSM ``a_initial * (1 + offset)`` = 0.15).
    a_init : float, 1 (0.15)
        Initial value of ``A`` (NALSM initialises ``A`` to ``eta_plus = 0.15``).

    State variable ``A`` (dimensionless), recordable (``net.record_state(astro, ["A"])``)
    and saved in checkpoints. Receptor ``"in"`` (``connect`` takes no ``receptor``).
    """

    name = "Astrocyte"
    kind = _k.KIND_ASTROCYTE
    defaults = {"tau": 100.0, "bias": 0.15, "a_init": 0.15}
    units = {"tau": "ms", "bias": "1", "a_init": "1", "A": "1"}
    float_vars: ClassVar[tuple[str, ...]] = ("A",)
    receptors: ClassVar[tuple[str, ...]] = ("in",)
    signed_receptors = False
    current_input = False
    coefficient_names: ClassVar[tuple[str, ...]] = ("tau", "bias", "h")

    def __init__(self, tau: Any = 100.0, bias: Any = 0.15, a_init: Any = 0.15) -> None:
        super().__init__(tau=tau, bias=bias, a_init=a_init)

    def _validate(self) -> None:
        self._require("tau", lambda x: x > 0, "> 0 ms")

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        return np.array([p["tau"], p["bias"], dt])

    def initial_state(self) -> dict[str, float | npt.NDArray[np.float64]]:  # noqa: D102
        a0 = self.resolved("a_init")
        return {"A": a0 if isinstance(a0, float) else np.asarray(a0, dtype=np.float64)}


class AstrocyteLR(NeuronModel):
    r"""Li-Rinzel astrocyte of NEST 3.10 ``astrocyte_lr_1994`` (it never spikes).

    Li & Rinzel (1994) calcium dynamics with the input and output of Nadkarni & Jung
    (2003). With :math:`c = \min(\max(Ca, 0), Ca_{tot})`, :math:`r` = ``ratio_ER_cyt``
    (µM, ms):

    .. math::
        \frac{dIP3}{dt} &= \frac{IP3_0 - IP3}{\tau_{IP3}} + \delta_{IP3} \sum_k J_k
            \delta(t - t_k), \qquad
        \frac{dCa}{dt} = J_{chan} - J_{pump} + J_{leak}, \\
        \frac{dh}{dt} &= k_{IP3R} K_{d,inh} \frac{IP3 + K_{d,IP3,1}}{IP3 + K_{d,IP3,2}}(1 - h)
            - k_{IP3R}\, c\, h, \\
        J_{chan} &= r\,\mathrm{rate}_{IP3R}\, m_\infty^3 n_\infty^3 h^3 (Ca_{ER} - c), \quad
        m_\infty = \frac{IP3}{IP3 + K_{d,IP3,1}}, \quad n_\infty = \frac{c}{c + K_{d,act}}, \\
        J_{pump} &= \mathrm{rate}_{SERCA}\frac{c^2}{K_{m,SERCA}^2 + c^2}, \quad
        J_{leak} = r\,\mathrm{rate}_L (Ca_{ER} - c), \quad Ca_{ER} = \frac{Ca_{tot} - c}{r}

    and the slow inward current output (before any connection weight)

    .. math::
        SIC = SIC_{scale} \ln x \text{ if } x = 1000\,(Ca - SIC_{th}) / \mu M > 1,
        \text{ else } 0

    A spike of weight ``J`` (NEST's dimensionless weight; must be >= 0, as in NEST) raises
    ``IP3`` by ``delta_IP3 * J`` in the step it arrives (emission time + delay). Per step:
    one classic RK4 step of length ``dt`` (NEST takes one RKF45 step per ``dt``; RK4 agrees
    with it to ~1e-14 of each trace's maximum at ``dt = 0.1`` ms, validated against NEST in
    ``tests/validation/test_astrocyte_nest.py``; at coarser ``dt`` both schemes drift from
    the exact solution and from each other, so use ``dt <= 0.1`` ms when NEST agreement
    matters), then ``Ca`` clipped to ``[0, Ca_tot]``, then the input, then ``SIC``.

    Parameters (NEST names, units and 3.10 defaults)
    ------------------------------------------------
    Ca_tot : µM (2.0);  IP3_0 : µM (0.16);  Kd_IP3_1 : µM (0.13);  Kd_IP3_2 : µM (0.9434);
    Kd_act : µM (0.08234);  Kd_inh : µM (1.049);  Km_SERCA : µM (0.1);  SIC_scale : 1 (1.0);
    SIC_th : µM (0.19669);  delta_IP3 : µM (0.0002);  k_IP3R : 1/(µM ms) (0.0002);
    rate_IP3R : 1/ms (0.006);  rate_L : 1/ms (0.00011);  rate_SERCA : µM/ms (0.0009);
    ratio_ER_cyt : 1 (0.185);  tau_IP3 : ms (7142.0).

    State variables ``IP3`` (µM, initially 0.16), ``Ca_astro`` (µM, 0.073), ``h_IP3R`` (1,
    0.793) -- NEST's initial values, which NEST does not change with ``IP3_0`` -- and
    ``SIC`` (1, 0.0), all recordable and saved in checkpoints. Receptor ``"in"``.
    """

    name = "AstrocyteLR"
    kind = _k.KIND_ASTROCYTE_LR
    defaults = {
        "Ca_tot": 2.0,
        "IP3_0": 0.16,
        "Kd_IP3_1": 0.13,
        "Kd_IP3_2": 0.9434,
        "Kd_act": 0.08234,
        "Kd_inh": 1.049,
        "Km_SERCA": 0.1,
        "SIC_scale": 1.0,
        "SIC_th": 0.19669,
        "delta_IP3": 0.0002,
        "k_IP3R": 0.0002,
        "rate_IP3R": 0.006,
        "rate_L": 0.00011,
        "rate_SERCA": 0.0009,
        "ratio_ER_cyt": 0.185,
        "tau_IP3": 7142.0,
    }
    units = {
        **dict.fromkeys(("Ca_tot", "IP3_0", "Kd_IP3_1", "Kd_IP3_2", "Kd_act", "Kd_inh"), "uM"),
        "Km_SERCA": "uM",
        "SIC_scale": "1",
        "SIC_th": "uM",
        "delta_IP3": "uM",
        "k_IP3R": "1/(uM ms)",
        "rate_IP3R": "1/ms",
        "rate_L": "1/ms",
        "rate_SERCA": "uM/ms",
        "ratio_ER_cyt": "1",
        "tau_IP3": "ms",
        "IP3": "uM",
        "Ca_astro": "uM",
        "h_IP3R": "1",
        "SIC": "1",
    }
    float_vars: ClassVar[tuple[str, ...]] = ("IP3", "Ca_astro", "h_IP3R", "SIC")
    receptors: ClassVar[tuple[str, ...]] = ("in",)
    signed_receptors = False
    current_input = False
    coefficient_names: ClassVar[tuple[str, ...]] = _ak.LR_COEFFS
    #: NEST's rules: parameters that must be > 0 (the others must be >= 0).
    _positive: ClassVar[tuple[str, ...]] = (
        "Ca_tot", "Kd_act", "Kd_IP3_1", "Kd_IP3_2", "Km_SERCA", "ratio_ER_cyt", "SIC_scale",
        "tau_IP3",
    )  # fmt: skip

    def _validate(self) -> None:
        for key in self.defaults:
            if key in self._positive:
                self._require(key, lambda x: x > 0, "> 0 (NEST astrocyte_lr_1994)")
            else:
                self._require(key, lambda x: x >= 0, ">= 0 (NEST astrocyte_lr_1994)")

    def coefficients(self, dt: float) -> npt.NDArray[np.float64]:  # noqa: D102
        p = self.scalars()
        return np.array([p[k] for k in self.coefficient_names[:-1]] + [dt])

    def check_weight_range(self, w_min: float, w_max: float, receptor: int, what: str) -> None:
        """Refuse negative weights, as NEST does ("cannot handle negative weights")."""
        if w_min < 0:
            raise ConnectivityError(
                f"{what}: weight {w_min:g} < 0 onto AstrocyteLR; its input J is NEST's "
                "dimensionless, non-negative weight (IP3 rises by delta_IP3 * J): use weights "
                ">= 0"
            )

    def initial_state(self) -> dict[str, float | npt.NDArray[np.float64]]:  # noqa: D102
        return {"IP3": 0.16, "Ca_astro": 0.073, "h_IP3R": 0.793, "SIC": 0.0}


#: Registry of model classes by name (used by files and the CLI).
MODELS: dict[str, type[NeuronModel]] = {
    cls.name: cls
    for cls in (
        LIF,
        LIFDelta,
        LoihiLIF,
        PoissonSource,
        SpikeSource,
        Leaky,
        RLeaky,
        CubaLIF,
        Astrocyte,
        AstrocyteLR,
    )
}
