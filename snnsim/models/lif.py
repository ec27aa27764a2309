"""Continuous-time LIF neurons (NEST ``iaf_psc_exp`` / ``iaf_psc_delta``) and their propagators."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError
from snnsim.kernels import neurons as _k
from snnsim.models.base import NeuronModel
from snnsim.timegrid import steps_on_grid


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
    exact limit :math:`h/c_m\, e^{-h/\tau_m}` when they are equal; for
    :math:`h/\beta > 700` or :math:`h/\tau_s > 700` (where ``expm1`` overflows or the
    first factor underflows) as
    :math:`\beta/c_m\,(e^{-h/\tau_m} - e^{-h/\tau_s})`, the same value.
    """
    if tau_syn == tau_m:
        return h / cm * math.exp(-h / tau_m)
    inv_beta = (tau_m - tau_syn) / (tau_syn * tau_m)
    if h * inv_beta > 700.0 or h > 700.0 * tau_syn:
        # expm1 would overflow, or exp(-h/tau_s) underflow (long event-driven gaps with
        # tau_s << tau_m); here the two exponentials are far apart, so the difference
        # form loses nothing
        return (math.exp(-h / tau_m) - math.exp(-h / tau_syn)) / (inv_beta * cm)
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
