"""Report of :func:`snnsim.hardware.quantize`, and spike agreement between two runs.

The values chosen per population and projection (:class:`QuantizationReport`), and the
measure of the quantization error:

:func:`spike_agreement` compares the spike trains of two recorders of populations of equal
size, neuron by neuron, on the time grid: a spike of one train is *matched* when the other
train has an unmatched spike of the same neuron at most ``tolerance`` steps away (greedy in
time order, each spike matched at most once). The numbers are

- ``match_fraction`` :math:`= 2 M / (N_a + N_b)` (1 when neither train has a spike), with
  :math:`M` matched pairs and :math:`N_a, N_b` the spike counts (the symmetric F1 score of
  the matching: a dropped spike and an extra spike both lower it);
- ``exact_fraction``: the same with ``tolerance = 0`` (identical steps);
- ``count_correlation``: Pearson correlation of the per-neuron spike counts (``nan`` when
  the counts of one run are all equal, as correlation is undefined then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from snnsim.hardware.rules import Report

    from snnsim.network import Network

__all__ = [
    "Agreement",
    "PopulationQuantization",
    "ProjectionQuantization",
    "QuantizationReport",
    "QuantizedNetwork",
    "matched_pairs",
    "spike_agreement",
]


@dataclass(frozen=True)
class Agreement:
    """Spike agreement of one population between a reference run ``a`` and a run ``b``.

    Attributes
    ----------
    label : str
    n_a, n_b : int
        Spike counts of the reference (float) and compared (quantized) run.
    matched : int
        Pairs of spikes of the same neuron at most ``tolerance`` steps apart.
    exact : int
        Pairs in the same step.
    tolerance : int
        Steps.
    count_correlation : float
        Pearson correlation of the per-neuron spike counts (``nan``: undefined).
    """

    label: str
    n_a: int
    n_b: int
    matched: int
    exact: int
    tolerance: int
    count_correlation: float

    @property
    def match_fraction(self) -> float:
        """:math:`2M/(N_a+N_b)`: spikes matched within ``tolerance`` steps (1 with none)."""
        total = self.n_a + self.n_b
        return 1.0 if total == 0 else 2.0 * self.matched / total

    @property
    def exact_fraction(self) -> float:
        """:math:`2M_0/(N_a+N_b)` with pairs in the same step only."""
        total = self.n_a + self.n_b
        return 1.0 if total == 0 else 2.0 * self.exact / total

    def __str__(self) -> str:
        return (
            f"{self.label}: {self.n_a} float / {self.n_b} quantized spikes, "
            f"{100 * self.match_fraction:.1f} % matched within {self.tolerance} step(s), "
            f"{100 * self.exact_fraction:.1f} % in the same step, count correlation "
            f"{self.count_correlation:.3f}"
        )


def matched_pairs(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], tolerance: int) -> int:
    """Count greedy pairs between two sorted step arrays at most ``tolerance`` apart.

    Both trains are walked in time order; the earlier of the two current spikes is paired
    with the other when they are close enough, else it is left unmatched. For
    ``tolerance < `` half the smallest inter-spike interval this is the largest matching.
    """
    i = j = pairs = 0
    while i < a.size and j < b.size:
        if abs(int(a[i]) - int(b[j])) <= tolerance:
            pairs += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return pairs


def _steps_by_neuron(
    ids: npt.NDArray[Any], times: npt.NDArray[Any], dt: float, size: int
) -> list[npt.NDArray[np.int64]]:
    steps = np.rint(np.asarray(times, dtype=np.float64) / dt).astype(np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.lexsort((steps, ids))
    ids, steps = ids[order], steps[order]
    bounds = np.searchsorted(ids, np.arange(size + 1))
    return [steps[bounds[k] : bounds[k + 1]] for k in range(size)]


def spike_agreement(
    label: str,
    rec_a: Any,
    rec_b: Any,
    size: int,
    dt: float,
    tolerance: int = 1,
) -> Agreement:
    """Compare two spike recorders (``.ids`` local neuron positions, ``.times`` ms).

    Parameters
    ----------
    label : str
        Name for the report.
    rec_a, rec_b : SpikeRecorder
        Reference (float) and compared (quantized) recordings of populations of ``size``.
    size : int
    dt : float
        Time step, ms (times are compared in steps).
    tolerance : int
        Largest distance in steps of a matched pair.
    """
    a = _steps_by_neuron(rec_a.ids, rec_a.times, dt, size)
    b = _steps_by_neuron(rec_b.ids, rec_b.times, dt, size)
    matched = sum(matched_pairs(x, y, tolerance) for x, y in zip(a, b, strict=True))
    exact = sum(int(np.intersect1d(x, y).size) for x, y in zip(a, b, strict=True))
    ca = np.array([x.size for x in a], dtype=np.float64)
    cb = np.array([y.size for y in b], dtype=np.float64)
    if size > 1 and ca.std() > 0 and cb.std() > 0:
        corr = float(np.corrcoef(ca, cb)[0, 1])
    else:
        corr = float("nan")
    return Agreement(label, int(ca.sum()), int(cb.sum()), int(matched), exact, int(tolerance), corr)


@dataclass(frozen=True)
class PopulationQuantization:
    """Fixed-point values chosen for one population.

    Attributes
    ----------
    label : str
    scale : float
        ``v`` units per mV (``v = scale (V - v_rest)``).
    du, dv, vth : int
    bias_mant, bias_exp : arrays of int (per neuron)
    tau_errors : tuple of float
        Relative error of the effective current and voltage time constants.
    threshold_error : float
        Relative error of the threshold ``vth * 64 / scale`` vs ``v_thresh - v_rest``.
    bias_error : float
        Largest error of the bias, in threshold units.
    notes : list of str
        Approximations made.
    """

    label: str
    scale: float
    du: int
    dv: int
    vth: int
    bias_mant: npt.NDArray[np.int64]
    bias_exp: npt.NDArray[np.int64]
    tau_errors: tuple[float, float]
    threshold_error: float
    bias_error: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ProjectionQuantization:
    """Weights chosen for one projection onto a quantized population.

    Attributes
    ----------
    label : str
    weight_exp, num_weight_bits : int
        Lava ``Dense`` parameters.
    mantissa_range : (int, int)
    weight_error : float
        RMS of (``mantissa << weight_exp`` - ideal ``a_in``) over RMS of the ideal ``a_in``.
    zeroed : int
        Nonzero float synapses whose mantissa rounded to 0.
    delay_offset : int
        Steps added to each delay.
    """

    label: str
    weight_exp: int
    num_weight_bits: int
    mantissa_range: tuple[int, int]
    weight_error: float
    zeroed: int
    delay_offset: int


@dataclass
class QuantizationReport:
    """What :func:`quantize` chose and measured (``str(report)`` prints it all).

    Attributes
    ----------
    target : str
    populations, projections : lists of the per-population/projection values
    approximations : list of str
        Every approximation made, ``"population 'x': ..."`` (empty: exact mapping up to
        rounding).
    agreement : dict of str to Agreement
        Per quantized population, spikes of the float vs the quantized run (empty when
        ``quantize`` was given no ``duration``).
    duration : float or None
        Simulated ms of the comparison.
    rules : Report
        The target's design-rule check of the quantized network.
    """

    target: str
    populations: list[PopulationQuantization]
    projections: list[ProjectionQuantization]
    approximations: list[str]
    agreement: dict[str, Agreement]
    duration: float | None
    rules: Report

    @property
    def match_fraction(self) -> float:
        """Spikes matched within one step, over all quantized populations (1 with none)."""
        total = sum(a.n_a + a.n_b for a in self.agreement.values())
        pairs = sum(a.matched for a in self.agreement.values())
        return 1.0 if total == 0 else 2.0 * pairs / total

    def __str__(self) -> str:
        lines = [f"Quantization for {self.target}"]
        for p in self.populations:
            lines.append(
                f"  population {p.label!r}: scale {p.scale:.6g} /mV, du={p.du} dv={p.dv} "
                f"vth={p.vth}, tau errors {p.tau_errors[0]:+.2e}/{p.tau_errors[1]:+.2e}, "
                f"threshold error {p.threshold_error:+.2e}, bias error {p.bias_error:.2e}"
            )
        for q in self.projections:
            lines.append(
                f"  projection {q.label!r}: weight_exp={q.weight_exp} num_weight_bits="
                f"{q.num_weight_bits} mantissas {q.mantissa_range}, rms weight error "
                f"{q.weight_error:.2e}, {q.zeroed} synapse(s) rounded to 0, delays +"
                f"{q.delay_offset} step(s)"
            )
        lines += [f"  approximation: {a}" for a in self.approximations] or [
            "  no approximation beyond rounding"
        ]
        if self.agreement:
            lines.append(f"  spike agreement over {self.duration:g} ms:")
            lines += [f"    {a}" for a in self.agreement.values()]
        lines.append("  " + str(self.rules).replace("\n", "\n  "))
        return "\n".join(lines)


class QuantizedNetwork(NamedTuple):
    """Result of :func:`quantize`: ``qnet, report = hw.quantize(net)``."""

    network: Network
    report: QuantizationReport
