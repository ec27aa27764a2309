"""Loihi fixed-point LIF neurons and the check of their weight mantissas."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ConnectivityError, ParameterError
from snnsim.kernels import neurons as _k
from snnsim.models.base import NeuronModel


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
