"""Board descriptions: the limits of each target that :func:`snnsim.hardware.check` tests.

One :class:`Target` per board. A target is data only: its limits (``None`` = no such
limit, or unknown and so not checked) and the names of the rules that apply to it; the rules
themselves are the functions of :mod:`snnsim.hardware.rules` (Rockpool's design-rule
checks are the model: one small named function per limit).

Units: delays are counted in *ticks* of the board, which are snnsim steps of ``dt`` (the
``time_step`` rule checks that ``dt`` is a tick the board can run). An snnsim delay of ``d``
steps is ``d`` ticks on SpiNNaker (``MIN_SUPPORTED_DELAY = 1``) and Lava's ``DelayDense``
delay ``d - 1`` on Loihi (a plain ``Dense`` is already one step late).

Sources (``shared/reference/hardware-formats.md``): SpiNNaker sections 1.2, 1.3, 1.6 and 7.4
(sPyNNaker 1!7.4.1); Loihi section 2.3 (nengo-loihi ``validate.py`` / ``discretize.py``,
Lava 0.10 ``Dense``/``DelayDense``); NIR section 3 (nir 1.0.8).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from snnsim.errors import ParameterError

__all__ = ["TARGETS", "Target", "get_target"]


@dataclass(frozen=True)
class Target:
    """Limits of one neuromorphic target.

    Attributes
    ----------
    name : str
        Name used by :func:`~snnsim.hardware.check` (``"spinnaker1"``, ``"loihi1"``...).
    description : str
        One line naming the board and the toolchain the limits were read from.
    neurons_per_core : int or None
        Neurons (compartments) one core holds; a population is split over
        ``ceil(n / neurons_per_core)`` cores.
    cores : int or None
        Cores available for neurons on the board (checked against the split above).
    fan_in : int or None
        Distinct presynaptic neurons (input axons) one core can receive from.
    delay_ticks : tuple of int
        ``(min, max)`` delay in ticks a synapse can have without extra hardware.
    max_delay_ticks : int or None
        Largest delay the board supports at all (SpiNNaker: with delay-extension cores);
        ``None``: the same as ``delay_ticks[1]``, or no limit when that is ``None`` too.
    delay_slots : int or None
        SpiNNaker: delay ticks a post core holds (beyond, delay-extension stages are used).
    weight_bits : int or None
        Bits of a stored weight (magnitude, or mantissa on Loihi).
    weight_exp : tuple of int or None
        Loihi: range of the per-projection weight exponent.
    dt_ms : tuple of float or None
        ``(min, max)`` time step in ms the board runs (``None``: any ``dt``; the board's
        time is counted in ticks).
    dt_resolution_ms : float or None
        The time step must be a multiple of this (sPyNNaker takes whole microseconds).
    models : frozenset of str
        Neuron model class names the target runs (asked of ``type(pop.model).__name__``).
    model_fixes : dict
        For an unsupported model class name, how to make the network runnable.
    plasticity : frozenset of str
        Plasticity rule class names the target runs (empty: none).
    astrocytes : bool
        Whether the target runs astrocyte-modulated neurons.
    inputs : bool
        Whether ``Network.add_input`` inputs (Poisson trains, step currents) can be exported.
    rules : tuple of str
        Names of the rules of :data:`snnsim.hardware.rules.RULES` checked for this target.
    """

    name: str
    description: str
    neurons_per_core: int | None = None
    cores: int | None = None
    fan_in: int | None = None
    delay_ticks: tuple[int, int | None] = (1, None)
    max_delay_ticks: int | None = None
    delay_slots: int | None = None
    weight_bits: int | None = None
    weight_exp: tuple[int, int] | None = None
    dt_ms: tuple[float, float] | None = None
    dt_resolution_ms: float | None = None
    models: frozenset[str] = frozenset()
    model_fixes: dict[str, str] = field(default_factory=dict)
    plasticity: frozenset[str] = frozenset()
    astrocytes: bool = False
    inputs: bool = False
    rules: tuple[str, ...] = ()


#: Rules every board target checks.
_BOARD_RULES = (
    "neuron_models",
    "neurons_per_core",
    "fan_in",
    "delay_range",
    "weight_range",
    "time_step",
    "plasticity",
    "astrocytes",
    "inputs",
)

_TO_LOIHI = (
    "turn the network into LoihiLIF populations with hw.quantize(net, 'loihi2') (fixed-point "
    "decays, threshold and weight mantissas), then check again"
)

SPINNAKER1 = Target(
    name="spinnaker1",
    description="SpiNNaker1, 48-chip SpiNN-5 board, sPyNNaker 1!7.4.1 (PyNN scripts)",
    # DEFAULT_MAX_ATOMS_PER_CORE = 256 (spynnaker constants)
    neurons_per_core=256,
    # 48 chips x 18 cores minus monitors: 856 usable cores on the virtual SpiNN-5 board
    cores=856,
    # 256 neurons/core and 2 synapse types: 2**(14 - 8 - 1) = 32 delay slots per post core;
    # delay extensions add up to 8 stages of 32: (1 + 8) * 32 = 288 ticks in all
    delay_ticks=(1, 32),
    delay_slots=32,
    max_delay_ticks=288,
    # fixed synapse word: 16-bit unsigned weight magnitude, sign in the synapse type
    weight_bits=16,
    # default timestep 1 ms; setup(timestep=...) takes whole microseconds; below 0.1 ms the
    # cores cannot keep real time (time_scale_factor needed), so that is where we stop
    dt_ms=(0.1, 1000.0),
    dt_resolution_ms=0.001,
    models=frozenset({"LIF", "LIFDelta", "SpikeSource", "PoissonSource"}),
    model_fixes={
        "LoihiLIF": "SpiNNaker runs float LIF models; export the float network instead",
    },
    plasticity=frozenset({"STDP", "SpikePairSTDP", "SpikePair"}),
    astrocytes=False,
    inputs=False,
    rules=(
        *_BOARD_RULES,
        "spinnaker_delay_extension_sizes",
        "spinnaker_stdp",
        "spinnaker_row_length",
    ),
)

LOIHI1 = Target(
    name="loihi1",
    description="Intel Loihi 1 (128 neurocores per chip), Lava fixed_pt semantics",
    neurons_per_core=1024,
    cores=128,
    fan_in=4096,
    # DelayDense delay d - 1 in 0..62 -> snnsim delays of 1..63 steps
    delay_ticks=(1, 63),
    weight_bits=8,
    weight_exp=(-7, 7),
    models=frozenset({"LoihiLIF", "SpikeSource"}),
    model_fixes=dict.fromkeys(("LIF", "LIFDelta", "Leaky", "CubaLIF"), _TO_LOIHI),
    plasticity=frozenset(),
    astrocytes=False,
    inputs=False,
    rules=_BOARD_RULES,
)

# Loihi 2 has Loihi 1's delay, weight and model rules (Lava-DL NetX clips delays > 62 too)
LOIHI2 = replace(
    LOIHI1,
    name="loihi2",
    description="Intel Loihi 2 (128 neurocores per chip, up to 8192 neurons per core), Lava",
    neurons_per_core=8192,
    # not published for Loihi 2: not checked
    fan_in=None,
)


def _nir_target() -> Target:
    # the models NIR takes are those the exporter has a mapping for (one table)
    from snnsim.hardware.nir import EXPORTERS

    return Target(
        name="nir",
        description="NIR 1.0 graph (continuous-time nodes; read by snnTorch, Norse, Lava-DL...)",
        delay_ticks=(1, 1),
        max_delay_ticks=None,
        models=frozenset(EXPORTERS),
        model_fixes={
            "PoissonSource": "NIR has no random source: replace it by a SpikeSource with "
            "drawn times, or drop=['neuron_models'] to leave it out (with its projections)",
        },
        plasticity=frozenset(),
        astrocytes=False,
        inputs=False,
        rules=(
            "neuron_models",
            "plasticity",
            "astrocytes",
            "inputs",
            "nir_synapse_time_constants",
            "nir_refractory",
            "nir_delays",
            "nir_initial_state",
            "nir_reset",
        ),
    )


#: Target name -> factory (the NIR target reads the exporter's mapping table when asked).
TARGETS: dict[str, Target | None] = {
    "spinnaker1": SPINNAKER1,
    "loihi1": LOIHI1,
    "loihi2": LOIHI2,
    "nir": None,
}


def get_target(target: str | Target) -> Target:
    """Return the :class:`Target` named ``target`` (a Target is returned as it is).

    Raises
    ------
    ParameterError
        For an unknown name, listing the known ones.
    """
    if isinstance(target, Target):
        return target
    if not isinstance(target, str) or target not in TARGETS:
        raise ParameterError(
            f"hardware target {target!r} is unknown; known targets are "
            f"{', '.join(map(repr, TARGETS))}"
        )
    found = TARGETS[target]
    return _nir_target() if found is None else found
