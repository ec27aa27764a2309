"""Discrete-time snnTorch neurons: ``Leaky``, ``RLeaky`` and ``CubaLIF``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError
from snnsim.kernels import discrete as _dk
from snnsim.kernels import neurons as _k
from snnsim.models.base import NeuronModel

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
