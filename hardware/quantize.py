r"""Quantize float LIF, Leaky and CubaLIF networks into Loihi fixed-point ``LoihiLIF`` networks.

>>> from snnsim import hardware as hw
>>> qnet, report = hw.quantize(net, "loihi2", duration=200.0)   # doctest: +SKIP
>>> print(report)                                              # doctest: +SKIP
>>> hw.export(qnet, "netx", "net.net")                         # doctest: +SKIP

:func:`quantize` returns a :class:`QuantizedNetwork` ``(network, report)``: a new, unbuilt
network with the same populations (labels, order, sizes), spike sources and synapses, in
which every float neuron population became a LoihiLIF population, and a
:class:`QuantizationReport` with every number chosen, every approximation made and, when
``duration`` is given, the spike agreement measured by running a fresh copy of the float
network and of the quantized one on the same input. The given network is not changed.

Mapping of one population (the common discrete-time form, :class:`FloatNeuron`). A float
neuron is described per step by

.. math::
    I_k = \alpha_u I_{k-1} + \sum w\,x, \qquad
    V_{k+1} - V_{rest} = \alpha_v (V_k - V_{rest}) + g\,I_k + b

(NEST ``iaf_psc_exp`` exact integration: :math:`\alpha_u = P_{11} = e^{-h/\tau_s}`,
:math:`\alpha_v = P_{22} = e^{-h/\tau_m}`, :math:`g = P_{21}` mV/nA, :math:`b = P_{20}
i_{offset}`), while Lava's fixed-point LIF adds the current of the *same* step to ``v``
(:func:`snnsim.kernels.loihi.loihi_lif_step`). With ``s`` integer ``v`` units per mV (one
scale per population):

- decays: ``du = round(4096 (1 - alpha_u)) - 1`` (NetX ``iDecay = du + 1``), ``dv =
  round(4096 (1 - alpha_v))``;
- threshold mantissa: ``vth = round(s (v_thresh - v_rest) / 64)``; ``v`` counts from
  ``v_rest`` (Loihi resets ``v`` to 0, i.e. to ``v_rest``);
- weights: the input of a synapse is ``a_in = s g w / 64`` (so that ``a_in << 6`` adds
  ``s g w`` to ``v``); per projection the weight exponent and 8-bit mantissas follow
  Lava's ``optimize_weight_bits`` rule (:func:`weight_mantissas`), exponents clipped to
  ``0..max_weight_exp``;
- bias: ``bias_mant << bias_exp = round(s b)`` per neuron;
- delays: ``d`` steps become ``d + delay_offset`` steps (1 for the LIF: its current acts
  on ``V`` one step after it jumps, Loihi's ``u`` acts on ``v`` at once), so spikes fall on
  the same steps; ``d + 1 <= 63`` (Lava ``DelayDense`` delay <= 62).

The scale ``s`` is the largest that (1) maps the population's largest synaptic input to
the mantissa 255 at exponent ``max_weight_exp`` (default 0, so NetX can store the weights:
it has no exponent field), (2) keeps the threshold at most ``vth_max`` (default ``2**16``:
the threshold sits at half of the 24-bit ``v`` range, leaving one bit of headroom for
inhibition and ``u``) and (3) keeps the bias within ``4095 << 7``.

Not representable on Loihi's LIF, refused with
:class:`~snnsim.errors.HardwareConstraintError` unless named in ``approximate=[...]``
(then approximated and listed in the report):

- ``"refractory"``: ``tau_refrac > 0`` (Lava's LIF has no refractory period; the neuron
  integrates again in the step after its spike, like ``tau_refrac = 0``);
- ``"reset"``: ``v_reset != v_rest`` (Loihi resets to 0 = ``v_rest``);
- ``"tau_syn"``: a population receiving input on both receptors with ``tau_syn_exc !=
  tau_syn_inh`` (one current ``u`` per neuron): the time constant of the receptor with the
  larger total input is used and the other receptor's weights are scaled to keep each
  synapse's charge.

Always refused: parameters that Lava shares per population differing between neurons
(``tau_m``, ``tau_syn_*``, ``v_thresh - v_rest``, ``v_reset - v_rest``, ``tau_refrac``),
``initialize()`` values, ``add_input`` inputs, plasticity, neuron models without a mapping
(:data:`NEURON_MAPS`). Spike sources and LoihiLIF populations are copied unchanged.
Lava's threshold test is ``v > vth << 6`` where NEST's is ``V >= v_thresh``: a difference
below the quantization step.

snnTorch-style ``Leaky``, ``RLeaky`` and ``CubaLIF`` populations map with
:func:`map_discrete` (``alpha_u = alpha`` or 0, ``alpha_v = beta``, ``g = 1``, threshold
``threshold``, ``delay_offset`` 0). Adding a model is one function returning a
:class:`FloatNeuron`, added to :data:`NEURON_MAPS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from snnsim.hardware.quantize_report import (
    Agreement,
    PopulationQuantization,
    ProjectionQuantization,
    QuantizationReport,
    QuantizedNetwork,
    spike_agreement,
)
from snnsim.hardware.rules import check

from snnsim.errors import HardwareConstraintError, ParameterError
from snnsim.models import LoihiLIF, NeuronModel, psc_exp_propagator
from snnsim.network import Network

if TYPE_CHECKING:
    from snnsim.populations import Population

__all__ = [
    "APPROXIMATIONS",
    "NEURON_MAPS",
    "FloatNeuron",
    "PopulationQuantization",
    "ProjectionQuantization",
    "QuantizationReport",
    "QuantizedNetwork",
    "quantize",
    "weight_mantissas",
]

#: Features ``quantize(approximate=[...])`` may approximate instead of refusing.
APPROXIMATIONS = ("refractory", "reset", "tau_syn")
#: Models copied unchanged (sources, and populations already in Loihi's arithmetic).
PASS_THROUGH = ("SpikeSource", "PoissonSource", "LoihiLIF")
F64 = npt.NDArray[np.float64]


@dataclass
class FloatNeuron:
    r"""A float neuron population in the discrete-time form the quantizer maps.

    Attributes
    ----------
    keep_u, keep_v : float
        Fractions of the current and of the voltage kept per step (:math:`\alpha_u,
        \alpha_v`).
    gain : dict of int to array
        Per receptor index, per neuron: mV added to ``V`` per unit weight in the first step
        the synapse acts on ``V``.
    threshold : float
        ``V`` above rest at which the neuron spikes, mV (> 0).
    bias : array
        Per neuron, mV added to ``V`` every step.
    delay_offset : int
        Steps added to every incoming delay (LIF: 1).
    notes : list of str
        Approximations made (written to the report).
    """

    keep_u: float
    keep_v: float
    gain: dict[int, F64]
    threshold: float
    bias: F64
    delay_offset: int
    notes: list[str] = field(default_factory=list)


def _shared(pop: Population, name: str, values: F64) -> float:
    """One value for the whole population, or a refusal naming the spread."""
    if values.size and np.ptp(values) > 1e-12 * max(1.0, float(np.abs(values).max())):
        raise HardwareConstraintError(
            f"quantize: population {pop.label!r} has {name} from {values.min():g} to "
            f"{values.max():g}; Lava's LIF shares it per population (one du, dv, vth): "
            "split the population by value or give it one value"
        )
    return float(values[0]) if values.size else 0.0


def map_lif(
    pop: Population, used: dict[int, float], approximate: frozenset[str], dt: float
) -> FloatNeuron:
    """Map an ``snn.LIF`` (NEST ``iaf_psc_exp``) population, see the module docstring.

    ``used`` maps each receptor index with incoming synapses to the total ``|weight|`` it
    receives (chooses the time constant when ``tau_syn`` is approximated).
    """
    p = {k: pop.get(k) for k in ("tau_m", "tau_syn_exc", "tau_syn_inh", "cm", "i_offset")}
    rest = pop.get("v_rest")
    notes: list[str] = []
    where = f"quantize: population {pop.label!r}"
    tau_m = _shared(pop, "tau_m", p["tau_m"])
    taus = {0: _shared(pop, "tau_syn_exc", p["tau_syn_exc"])}
    taus[1] = _shared(pop, "tau_syn_inh", p["tau_syn_inh"])
    theta = _shared(pop, "v_thresh - v_rest", pop.get("v_thresh") - rest)
    reset = _shared(pop, "v_reset - v_rest", pop.get("v_reset") - rest)
    refrac = _shared(pop, "tau_refrac", pop.get("tau_refrac"))
    if theta <= 0:
        raise HardwareConstraintError(
            f"{where}: v_thresh - v_rest = {theta:g} mV; it must be > 0 (Loihi's threshold "
            "mantissa is unsigned)"
        )
    steps = round(refrac / dt)
    if steps > 0:
        if "refractory" not in approximate:
            raise HardwareConstraintError(
                f"{where}: tau_refrac = {refrac:g} ms ({steps} step(s)); Lava's LIF has no "
                "refractory period: set tau_refrac=0.0, or pass approximate=['refractory'] "
                "to drop it (reported)"
            )
        notes.append(f"refractory period of {steps} step(s) dropped")
    if abs(reset) > 1e-12:
        if "reset" not in approximate:
            raise HardwareConstraintError(
                f"{where}: v_reset - v_rest = {reset:g} mV; Loihi resets v to 0 (= v_rest): "
                "set v_reset = v_rest, or pass approximate=['reset'] to reset to v_rest "
                "(reported)"
            )
        notes.append(f"reset to v_rest instead of {reset:+g} mV from it")
    rec = 0 if not used else max(used, key=lambda r: used[r])
    if len(used) == 2 and taus[0] != taus[1]:
        if "tau_syn" not in approximate:
            raise HardwareConstraintError(
                f"{where}: receives excitatory (tau_syn_exc = {taus[0]:g} ms) and inhibitory "
                f"(tau_syn_inh = {taus[1]:g} ms) input; a Loihi neuron has one current: give "
                "both the same value, or pass approximate=['tau_syn'] to use the time "
                "constant of the larger input (reported)"
            )
        other = "exc" if rec == 1 else "inh"
        notes.append(
            f"tau_syn = {taus[rec]:g} ms for both receptors ({other}: {taus[1 - rec]:g} ms, "
            "weights scaled to keep each synapse's charge)"
        )
    cm = p["cm"]
    keep_u = math.exp(-dt / taus[rec])
    keep_v = math.exp(-dt / tau_m)
    gain: dict[int, F64] = {}
    for r in (0, 1):
        g = np.array([psc_exp_propagator(taus[rec], tau_m, c, dt) for c in cm])
        # charge of one synapse, sum of the current over steps: w / (1 - alpha)
        gain[r] = g * (1.0 - keep_u) / (1.0 - math.exp(-dt / taus[r])) if r != rec else g
    bias = tau_m / cm * (1.0 - keep_v) * p["i_offset"]
    return FloatNeuron(keep_u, keep_v, gain, theta, bias, 1, notes)


def map_discrete(
    pop: Population, used: dict[int, float], approximate: frozenset[str], dt: float
) -> FloatNeuron:
    r"""Map an snnTorch-style ``Leaky``, ``RLeaky`` or ``CubaLIF`` population.

    Their update is already Loihi's form with :math:`g = 1`: ``Leaky`` / ``RLeaky``
    :math:`U_t = \beta U_{t-1} + x_t` (no current: :math:`\alpha_u = 0`, so ``du = 4095``
    and ``u`` is this step's input), ``CubaLIF`` :math:`I_t = \alpha I_{t-1} + x_t`,
    :math:`U_t = \beta U_{t-1} + I_t`; the input of a step acts on ``U`` in that step, as
    Loihi's ``u`` acts on ``v`` (``delay_offset`` 0); threshold ``U > threshold`` is Lava's
    strict ``v > vth << 6``. Loihi resets ``v`` to 0 in the step of the spike and ``v``
    then integrates the next step's input: exactly ``Leaky(reset="zero")`` (either
    ``reset_delay``) and ``RLeaky`` / ``CubaLIF(reset="zero", reset_delay=False)``. Every
    other reset (subtract, none, or a zero reset that also discards the next step's input)
    is refused unless ``approximate=["reset"]`` (then Loihi's reset is used, reported).
    """
    model = pop.model
    where = f"quantize: population {pop.label!r} ({model.name})"
    beta = _shared(pop, "beta", pop.get("beta"))
    theta = _shared(pop, "threshold", pop.get("threshold"))
    keep_u = _shared(pop, "alpha", pop.get("alpha")) if model.name == "CubaLIF" else 0.0
    if theta <= 0:
        raise HardwareConstraintError(
            f"{where}: threshold = {theta:g}; it must be > 0 (Loihi's threshold mantissa is "
            "unsigned)"
        )
    reset, delayed = model.reset, model.reset_delay
    exact = reset == "zero" and (model.name == "Leaky" or not delayed)
    notes: list[str] = []
    if not exact:
        what = f"reset={reset!r}, reset_delay={delayed}"
        if "reset" not in approximate:
            raise HardwareConstraintError(
                f"{where}: {what}; Loihi resets v to 0 in the spike's step and integrates the "
                "next step's input: use reset='zero' (with reset_delay=False for RLeaky and "
                "CubaLIF), or pass approximate=['reset'] to use Loihi's reset (reported)"
            )
        notes.append(f"{what} replaced by Loihi's zero reset")
    gain = {r: np.ones(pop.size) for r in (used or {0: 0.0})}
    return FloatNeuron(keep_u, beta, gain, theta, np.zeros(pop.size), 0, notes)


#: Model name -> mapping onto the discrete-time form (``pop, used receptors, approximate,
#: dt``). Models not listed (and not in :data:`PASS_THROUGH`) are refused.
NeuronMap = Callable[[Any, dict[int, float], frozenset[str], float], FloatNeuron]
NEURON_MAPS: dict[str, NeuronMap] = {
    "LIF": map_lif,
    "Leaky": map_discrete,
    "RLeaky": map_discrete,
    "CubaLIF": map_discrete,
}


def weight_mantissas(values: F64, max_exp: int = 7) -> tuple[npt.NDArray[np.int64], int, int]:
    """Mantissas and exponent of real ``a_in`` values, by Lava's ``optimize_weight_bits`` rule.

    Lava (``lava/utils/weightutils.py``) scales a matrix so its largest magnitude fills the
    sign mode's range: ``scale = 255/max`` (excitatory), ``255/|min|`` (inhibitory),
    ``min(127/max, 128/|min|)`` (mixed, plus one bit); ``weight_exp = -floor(log2(scale))``.
    Here the values are real, so the mantissas are ``round(values / 2**weight_exp)``, even
    in mixed sign mode (Lava's ``Dense`` drops their lowest bit), and the exponent is clipped
    to ``0..max_exp`` (a negative exponent gains nothing: ``a_in`` is an integer).

    Returns
    -------
    mantissas : int64 array
    weight_exp : int
    num_weight_bits : int
        Lava's ``num_weight_bits`` that keeps these mantissas unchanged in ``Dense``.
    """
    v = np.asarray(values, dtype=np.float64)
    lo = float(v.min()) if v.size else 0.0
    hi = float(v.max()) if v.size else 0.0
    mixed = lo < 0 < hi
    if hi == lo == 0.0:
        return np.zeros(v.shape, dtype=np.int64), 0, 1
    if mixed:
        scale = min(127.0 / hi, 128.0 / -lo)
    else:
        scale = 255.0 / max(hi, -lo)
    exp = -(math.floor(math.log2(scale)) + int(mixed))
    exp = min(max(exp, 0), max_exp)
    x = v / 2.0**exp
    m = (2 * np.round(x / 2) if mixed else np.round(x)).astype(np.int64)
    m = np.clip(m, -256 if mixed else -255, 254 if mixed else 255)
    nz = np.abs(m[m != 0])
    tz = 8 if not nz.size else int(np.bitwise_and(nz, -nz).min()).bit_length() - 1
    bits = max(1, 8 - min(tz, 8) + int(mixed))
    return m, int(exp), min(bits, 8)


# --------------------------------------------------------------------------- planning
@dataclass
class _Proj:
    """One projection of the plan: whole-population positions and the values to connect."""

    label: str
    pre: int
    post: int
    pre_pos: npt.NDArray[np.int64]
    post_pos: npt.NDArray[np.int64]
    weight: F64
    delay: npt.NDArray[np.int64]
    receptor: str | None
    weight_exp: int | None


def _refuse_features(net: Network) -> None:
    if net.inputs:
        names = sorted({type(inp).__name__ for _, inp in net.inputs})
        raise HardwareConstraintError(
            f"quantize: the network has add_input inputs ({', '.join(names)}); they are not "
            "mapped onto Loihi: drive the network with SpikeSource or PoissonSource "
            "populations instead"
        )
    for proj in net.projections:
        rules = [r for r in (proj.plasticity, proj.delay_plasticity) if r is not None]
        if rules:
            raise HardwareConstraintError(
                f"quantize: projection {proj.label!r} is plastic "
                f"({', '.join(type(r).__name__ for r in rules)}); only static synapses are "
                "quantized (Lava's Dense and DelayDense are static)"
            )
    for pop in net.populations:
        name = pop.model.name
        if name not in PASS_THROUGH and name not in NEURON_MAPS:
            raise HardwareConstraintError(
                f"quantize: population {pop.label!r} is {name}; models that quantize are "
                f"{', '.join(NEURON_MAPS)} (sources and LoihiLIF are copied)"
            )
        if name in NEURON_MAPS and pop.initial_values:
            raise HardwareConstraintError(
                f"quantize: population {pop.label!r} has initialize() values; Loihi's u and v "
                "start at 0 (rest): remove them"
            )


def _tables(net: Network) -> list[_Proj]:
    out = []
    for proj in net.projections:
        t = proj.table()
        model = proj.post.population.model
        out.append(
            _Proj(
                proj.label, proj.pre.population.index, proj.post.population.index,
                np.asarray(proj.pre.indices)[t.pre], np.asarray(proj.post.indices)[t.post],
                t.weight, t.delay, model.receptors[t.receptor] if len(model.receptors) > 1
                else None, proj.weight_exp,
            )
        )  # fmt: skip
    return out


def _pick_scale(
    fn: FloatNeuron, into: list[_Proj], recs: list[int], max_exp: int, vth_max: int
) -> float:
    """Return the largest scale the weights, threshold and bias allow (module docstring)."""
    peak = 0.0
    for p, r in zip(into, recs, strict=True):
        if p.weight.size:
            peak = max(peak, float(np.max(np.abs(p.weight) * fn.gain[r][p.post_pos])) / 64.0)
    limits = [vth_max * 64.0 / fn.threshold]
    if peak > 0:
        limits.append(255.0 * 2.0**max_exp / peak)
    b = float(np.abs(fn.bias).max()) if fn.bias.size else 0.0
    if b > 0:
        limits.append(4095.0 * 2.0**7 / b)
    return min(limits)


def _bias(values: F64, min_exp: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per neuron ``(mant, exp)`` with ``mant << exp`` nearest ``values``, ``exp >= min_exp``."""
    mags = np.abs(values)
    exps = np.full(values.shape, min_exp, dtype=np.int64)
    for e in range(min_exp, 8):
        exps = np.where(np.round(mags / 2.0**exps) > 4095, e + 1, exps)
    exps = np.minimum(exps, 7)
    mant = np.clip(np.round(values / 2.0**exps), -4096, 4095).astype(np.int64)
    return mant, exps


def _plan(
    net: Network, approximate: frozenset[str], max_exp: int, vth_max: int, min_bias_exp: int
) -> tuple[list[NeuronModel], list[_Proj], list[PopulationQuantization],
           list[ProjectionQuantization], list[str]]:  # fmt: skip
    _refuse_features(net)
    projs = _tables(net)
    models: list[NeuronModel] = []
    pq: list[PopulationQuantization] = []
    qq: dict[int, ProjectionQuantization] = {}
    notes: list[str] = []
    out = list(projs)
    for pop in net.populations:
        if pop.model.name not in NEURON_MAPS:
            models.append(pop.resolved_model())
            continue
        into = [i for i, p in enumerate(projs) if p.post == pop.index]
        recs = [0 if projs[i].receptor in (None, "exc") else 1 for i in into]
        used: dict[int, float] = {}
        for i, r in zip(into, recs, strict=True):
            if np.any(projs[i].weight != 0):
                used[r] = used.get(r, 0.0) + float(np.abs(projs[i].weight).sum())
        fn = NEURON_MAPS[pop.model.name](pop, used, approximate, net.dt)
        notes += [f"population {pop.label!r}: {n}" for n in fn.notes]
        scale = _pick_scale(fn, [projs[i] for i in into], recs, max_exp, vth_max)
        du = min(max(round(4096 * (1 - fn.keep_u)) - 1, 0), 4095)
        dv = min(max(round(4096 * (1 - fn.keep_v)), 0), 4095)
        vth = min(max(round(scale * fn.threshold / 64), 1), (1 << 17) - 1)
        mant, bexp = _bias(scale * fn.bias, min_bias_exp)
        b_err = np.abs(np.ldexp(mant.astype(np.float64), bexp) - scale * fn.bias)
        ku, kv = (4095 - du) / 4096, (4096 - dv) / 4096
        tau_err = tuple(
            (math.log(k) / math.log(k_eff) - 1.0) if 0 < k_eff < 1 and 0 < k < 1 else 0.0
            for k, k_eff in ((fn.keep_u, ku), (fn.keep_v, kv))
        )
        pq.append(
            PopulationQuantization(
                pop.label, scale, du, dv, vth, mant, bexp, (tau_err[0], tau_err[1]),
                vth * 64 / scale / fn.threshold - 1.0,
                float(b_err.max() / (scale * fn.threshold)) if b_err.size else 0.0,
                tuple(fn.notes),
            )
        )  # fmt: skip
        one = mant.size and np.all(mant == mant[0]) and np.all(bexp == bexp[0])
        models.append(
            LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=int(mant[0]) if one else mant,
                     bias_exp=int(bexp[0]) if one else bexp)
        )  # fmt: skip
        for i, r in zip(into, recs, strict=True):
            p = projs[i]
            ideal = scale * fn.gain[r][p.post_pos] * p.weight / 64.0
            m, e, bits = weight_mantissas(ideal, max_exp)
            got = np.ldexp(m.astype(np.float64), e)
            rms = float(np.sqrt(np.mean(ideal**2))) if ideal.size else 0.0
            err = float(np.sqrt(np.mean((got - ideal) ** 2))) / rms if rms > 0 else 0.0
            delay = p.delay + fn.delay_offset
            if delay.size and delay.max() > LoihiLIF.max_delay_steps:
                raise HardwareConstraintError(
                    f"quantize: projection {p.label!r} has a delay of {int(p.delay.max())} "
                    f"steps; onto Loihi it becomes {int(delay.max())} steps (+"
                    f"{fn.delay_offset} for the synaptic current's latency), above Lava "
                    f"DelayDense's {LoihiLIF.max_delay_steps} (delay 62): use delays <= "
                    f"{LoihiLIF.max_delay_steps - fn.delay_offset} steps"
                )
            out[i] = _Proj(p.label, p.pre, p.post, p.pre_pos, p.post_pos, m.astype(np.float64),
                           delay, None, e)  # fmt: skip
            qq[i] = ProjectionQuantization(
                p.label, e, bits,
                (int(m.min()), int(m.max())) if m.size else (0, 0),
                err, int(np.sum((m == 0) & (p.weight != 0))), fn.delay_offset,
            )  # fmt: skip
    return models, out, pq, [qq[i] for i in sorted(qq)], notes


def _build(net: Network, models: Sequence[NeuronModel], projs: Iterable[_Proj]) -> Network:
    """Build a new unbuilt network: same dt, seed and labels, ``models`` and ``projs``."""
    from snnsim.connectors import FromList

    new = Network(dt=net.dt, seed=net.seed, threads=1, precision=net.precision)
    pops = [
        new.add_population(pop.size, model, label=pop.label)
        for pop, model in zip(net.populations, models, strict=True)
    ]
    for p in projs:
        conn = FromList(p.pre_pos, p.post_pos, weight=p.weight, delay=p.delay * net.dt)
        new.connect(pops[p.pre], pops[p.post], conn, receptor=p.receptor, round_delays=True,
                    label=p.label, weight_exp=p.weight_exp)  # fmt: skip
    return new


def quantize(
    net: Network,
    target: str = "loihi2",
    *,
    duration: float | None = None,
    approximate: Iterable[str] = (),
    max_weight_exp: int = 0,
    vth_max: int = 1 << 16,
    min_bias_exp: int = 0,
    tolerance: int = 1,
) -> QuantizedNetwork:
    """Turn a float LIF network into an equivalent LoihiLIF network (see the module doc).

    Parameters
    ----------
    net : Network
        LIF populations driven by SpikeSource/PoissonSource populations through static
        projections (LoihiLIF populations are copied); not changed.
    target : {"loihi2", "loihi1"}
        Board whose design rules are checked on the result (``report.rules``; not raised:
        ``hw.export`` refuses what breaks them).
    duration : float, optional
        ms to run a fresh copy of the float network and of the quantized one to measure the
        spike agreement (``report.agreement``); ``None`` skips it.
    approximate : iterable of {"refractory", "reset", "tau_syn"}
        Features to approximate (and report) instead of refusing.
    max_weight_exp : int (0..7)
        Largest weight exponent. 0 (default) keeps every ``a_in`` within 8 bits, as NetX
        files store it; larger values allow a finer fixed-point scale.
    vth_max : int
        Largest threshold mantissa (at most ``2**17 - 1``).
    min_bias_exp : int (0..7)
        Smallest bias exponent; 6 makes biases NetX can store (multiples of 64).
    tolerance : int
        Steps within which two spikes count as matched.

    Returns
    -------
    QuantizedNetwork
        ``(network, report)``: an unbuilt LoihiLIF network (same labels and order; add
        recorders and run it, or export it) and the :class:`QuantizationReport`.

    Raises
    ------
    HardwareConstraintError
        For what Loihi cannot represent (and is not named in ``approximate``), naming it
        with its value and the fix.
    ParameterError
        For invalid options.
    """
    if not isinstance(net, Network):
        raise ParameterError(f"quantize(net={net!r}): expected a snnsim.Network")
    if target not in ("loihi1", "loihi2"):
        raise ParameterError(f"quantize(target={target!r}): targets are 'loihi1', 'loihi2'")
    approx = frozenset([approximate] if isinstance(approximate, str) else approximate)
    unknown = sorted(approx - set(APPROXIMATIONS))
    if unknown:
        raise ParameterError(
            f"quantize(approximate={sorted(approx)!r}): unknown {unknown}; choose from "
            f"{list(APPROXIMATIONS)}"
        )
    for name, value, lo, hi in (
        ("max_weight_exp", max_weight_exp, 0, 7),
        ("vth_max", vth_max, 1, (1 << 17) - 1),
        ("min_bias_exp", min_bias_exp, 0, 7),
        ("tolerance", tolerance, 0, 1 << 30),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ParameterError(f"quantize({name}={value!r}): must be an integer in {lo}..{hi}")
        if not lo <= int(value) <= hi:
            raise ParameterError(f"quantize({name}={value!r}): must be in {lo}..{hi}")
    if duration is not None and not (isinstance(duration, (int, float)) and duration > 0):
        raise ParameterError(f"quantize(duration={duration!r}): give ms > 0, or None")
    if net.precision != "double":
        raise ParameterError(
            "quantize: LoihiLIF networks run in double precision only; build the float "
            "network with Network(precision='double')"
        )
    models, projs, pq, qq, notes = _plan(
        net, approx, int(max_weight_exp), int(vth_max), int(min_bias_exp)
    )
    qnet = _build(net, models, projs)
    agreement: dict[str, Agreement] = {}
    if duration is not None:
        agreement = _measure(net, models, projs, float(duration), int(tolerance))
    report = QuantizationReport(target, pq, qq, notes, agreement, duration, check(qnet, target))
    return QuantizedNetwork(qnet, report)


def _measure(
    net: Network, models: Sequence[NeuronModel], projs: Sequence[_Proj], duration: float,
    tolerance: int,
) -> dict[str, Agreement]:  # fmt: skip
    """Run fresh copies of the float and the quantized network; compare their spikes."""
    float_models = [pop.resolved_model() for pop in net.populations]
    float_projs = _tables(net)
    fnet = _build(net, float_models, float_projs)
    qnet = _build(net, models, projs)
    rf = [fnet.record_spikes(p) for p in fnet.populations]
    rq = [qnet.record_spikes(p) for p in qnet.populations]
    fnet.run(duration)
    qnet.run(duration)
    out: dict[str, Agreement] = {}
    for pop, a, b in zip(net.populations, rf, rq, strict=True):
        if pop.model.name in NEURON_MAPS:
            out[pop.label] = spike_agreement(pop.label, a, b, pop.size, net.dt, tolerance)
        elif not (np.array_equal(a.ids, b.ids) and np.array_equal(a.times, b.times)):
            raise HardwareConstraintError(  # a stream keyed differently would void the test
                f"quantize: source {pop.label!r} spiked differently in the two copies"
            )
    return out
