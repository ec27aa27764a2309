"""Astrocyte models: NALSM's leaky integrator and NEST's ``astrocyte_lr_1994``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.errors import ConnectivityError
from snnsim.kernels import astrocytes as _ak
from snnsim.kernels import neurons as _k
from snnsim.models.base import NeuronModel


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
    is_astrocyte: ClassVar[bool] = True
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
    is_astrocyte: ClassVar[bool] = True
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
