"""The model base class :class:`NeuronModel`: parameters, validation, state, file data.

Every model of :mod:`snnsim.models` subclasses it and sets its class tables (see the
package docstring for how a model is added).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.parameters import ParamValue, coerce_parameter, unique_combinations
from snnsim.timegrid import ON_GRID_TOL


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
    #: An astrocyte (it integrates spikes and acts through ``net.modulate``; never spikes):
    #: boards without astrocytes refuse it (``snnsim.hardware`` rule ``astrocytes``).
    is_astrocyte: ClassVar[bool] = False

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

    def weight_exponent(self, weight_exp: object) -> int | None:
        """Return ``connect(weight_exp=...)`` checked: None for real-valued weights, else an int.

        Only models with :attr:`weight_exp_range` (fixed-point weights) take an exponent
        (default 0); others refuse one.
        """
        allowed = self.weight_exp_range
        if allowed is None:
            if weight_exp is not None:
                raise ConnectivityError(
                    f"connect(weight_exp={weight_exp!r}): {self.name} weights are real numbers "
                    "without an exponent; weight_exp is only for fixed-point models such as "
                    "LoihiLIF: omit it"
                )
            return None
        if weight_exp is None:
            return 0
        lo, hi = allowed
        if (
            isinstance(weight_exp, bool)
            or not isinstance(weight_exp, (int, np.integer))
            or not lo <= int(weight_exp) <= hi
        ):
            raise ConnectivityError(
                f"connect(weight_exp={weight_exp!r}): the weight exponent onto {self.name} "
                f"neurons must be an integer in [{lo}, {hi}]"
            )
        return int(weight_exp)

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
