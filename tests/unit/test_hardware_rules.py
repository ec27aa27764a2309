"""Design rules of snnsim.hardware: each rule fires with its numbers, where and a fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim import hardware as hw
from snnsim.errors import HardwareConstraintError, MissingDependencyError, ParameterError


class LoihiLIF(snn.LIFDelta):
    """A stand-in for the integer Loihi model (class name and single receptor)."""


class SpikePairSTDP:
    """A stand-in for a plasticity rule object on ``proj.plasticity``."""


def small_net(dt: float = 0.1, delay: float | None = None) -> tuple[snn.Network, snn.Projection]:
    net = snn.Network(dt=dt, seed=1)
    src = net.add_population(10, snn.SpikeSource([[1.0]] * 10), label="src")
    pop = net.add_population(20, snn.LIF(), label="exc")
    proj = net.connect(src, pop, snn.AllToAll(), weight=0.5, delay=delay, label="in")
    return net, proj


def rules_of(report: hw.Report, severity: str = "error") -> list[str]:
    return report.rules(severity)


def test_clean_network_runs_on_spinnaker_and_nir() -> None:
    net, _ = small_net()
    for target in ("spinnaker1", "nir"):
        report = hw.check(net, target)
        assert report.ok, str(report)
    assert "can run this network" in str(hw.check(net, "spinnaker1"))


def test_unknown_target_lists_the_known_ones() -> None:
    net, _ = small_net()
    with pytest.raises(ParameterError, match="'spinnaker1', 'loihi1', 'loihi2', 'nir'"):
        hw.check(net, "truenorth")


def test_float_models_on_loihi_name_the_quantize_fix() -> None:
    net, _ = small_net()
    report = hw.check(net, "loihi2")
    assert not report.ok
    (v,) = [v for v in report.errors if v.rule == "neuron_models"]
    assert v.where == "population 'exc'" and v.values == {"model": "LIF"}
    assert "hw.quantize" in v.fix
    text = str(report)
    assert "ERROR   [neuron_models] population 'exc'" in text and "fix:" in text


def test_delays_on_spinnaker_warn_beyond_slots_and_fail_beyond_extensions() -> None:
    net, _ = small_net(dt=1.0, delay=40.0)
    report = hw.check(net, "spinnaker1")
    assert report.ok
    assert [v.values for v in report.warnings if v.rule == "delay_range"] == [
        {"delay_ticks": 40, "slots": 32}
    ]
    net, _ = small_net(dt=1.0, delay=289.0)
    report = hw.check(net, "spinnaker1")
    (v,) = [v for v in report.errors if v.rule == "delay_range"]
    assert v.values == {"delay_ticks": 289, "max": 288}
    assert "projection 'in' (src -> exc)" in v.where and "288" in v.message


def test_spinnaker_delay_stages_need_a_source_of_256k_neurons() -> None:
    net, _ = small_net(dt=1.0, delay=70.0)  # 70 ticks: 2 stages of 32; source of 10
    report = hw.check(net, "spinnaker1")
    assert "spinnaker_delay_extension_sizes" in rules_of(report)
    net, _ = small_net(dt=1.0, delay=60.0)  # one stage: fine
    assert "spinnaker_delay_extension_sizes" not in rules_of(hw.check(net, "spinnaker1"))


def test_loihi_delays_above_63_steps_fail() -> None:
    net, _ = small_net(dt=1.0, delay=64.0)
    report = hw.check(net, "loihi1")
    (v,) = [v for v in report.errors if v.rule == "delay_range"]
    assert v.values == {"delay_ticks": 64, "max": 63}


def test_time_step_range_and_resolution_on_spinnaker() -> None:
    net, _ = small_net(dt=0.05)
    assert "time_step" in rules_of(hw.check(net, "spinnaker1"))
    net = snn.Network(dt=0.1005, seed=1)
    net.add_population(3, snn.LIF(tau_refrac=0.0), label="p")
    (v,) = [v for v in hw.check(net, "spinnaker1").errors if v.rule == "time_step"]
    assert "not a multiple of 0.001 ms" in v.message


def test_cores_and_fan_in_on_loihi1() -> None:
    net = snn.Network(dt=1.0, seed=1)
    net.add_population(140_000, snn.LIF(), label="big")
    (v,) = [v for v in hw.check(net, "loihi1").errors if v.rule == "neurons_per_core"]
    assert v.values == {"cores_needed": 137, "cores": 128, "neurons_per_core": 1024}
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(5000, snn.SpikeSource([[]] * 5000), label="src")
    pop = net.add_population(2, LoihiLIF(), label="out")
    net.connect(src, pop, snn.AllToAll(), weight=2.0)
    (v,) = [v for v in hw.check(net, "loihi1").errors if v.rule == "fan_in"]
    assert v.values == {"fan_in": 5000, "max": 4096} and v.where == "population 'out'"
    assert hw.check(net, "loihi2").ok  # no published fan-in limit: not checked


def test_loihi_weights_must_be_8_bit_mantissas() -> None:
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]), label="src")
    pop = net.add_population(1, LoihiLIF(), label="out")
    net.connect(src, pop, snn.FromList([0, 1], [0, 0], [4.0, -3.0]))  # mixed sign, odd
    (v,) = [v for v in hw.check(net, "loihi2").errors if v.rule == "weight_range"]
    assert v.values == {"weight": -3.0, "min": -256, "max": 254} and "even" in v.message
    net.projections[0].weight_exp = 9  # type: ignore[attr-defined]
    assert len([v for v in hw.check(net, "loihi2").errors if v.rule == "weight_range"]) == 2


def test_spinnaker_weights_too_small_for_16_bits_warn() -> None:
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]), label="src")
    pop = net.add_population(1, snn.LIF(), label="out")
    net.connect(src, pop, snn.FromList([0], [0], [20.0]), label="strong")
    net.connect(src, pop, snn.FromList([1], [0], [1e-5]), label="weak")
    report = hw.check(net, "spinnaker1")
    assert report.ok
    (v,) = [v for v in report.warnings if v.rule == "weight_range"]
    assert "'weak'" in v.where and v.values["zeroed"] == 1
    assert v.values["resolution"] == 2.0**-10  # shift 5 for a largest weight of 20


def test_plasticity_and_inputs_are_asked_of_the_objects() -> None:
    net, proj = small_net()
    proj.plasticity = SpikePairSTDP()  # type: ignore[attr-defined]
    net.add_input(net.population("exc"), snn.PoissonInput(10, 5.0, 0.1))
    report = hw.check(net, "nir")
    assert {"plasticity", "inputs"} <= set(rules_of(report))
    spinn = hw.check(net, "spinnaker1")
    assert "plasticity" not in rules_of(spinn)  # SpiNNaker runs spike-pair STDP


def astro_net() -> snn.Network:
    """A LIF population with one NALSM astrocyte that drives its i_offset."""
    net, _ = small_net(dt=1.0)
    exc = net.population("exc")
    astro = net.add_population(1, snn.Astrocyte(tau=100.0, bias=0.15), label="astro")
    net.connect(exc, astro, snn.AllToAll(), weight=0.015, label="to_astro")
    net.modulate(astro, exc, effect="current", weight=0.1)
    return net


@pytest.mark.parametrize("target", ["nir", "spinnaker1", "loihi1", "loihi2"])
def test_astrocytes_and_their_effects_are_refused(target: str) -> None:
    report = hw.check(astro_net(), target)
    found = [v for v in report.errors if v.rule == "astrocytes"]
    assert len(found) == 2, found  # the astrocyte population and the modulation
    assert "'astro'" in found[0].where and found[0].values["model"] == "Astrocyte"
    assert "modulation 'astro' -> 'exc'" in found[1].where
    assert found[1].values == {"effect": "current", "pairs": 20}
    assert "drop=['astrocytes']" in found[0].fix
    # an astrocyte is not reported as an unsupported neuron model as well
    assert not [v for v in report.errors if v.rule == "neuron_models" and "astro" in v.where]


def test_nir_export_drops_astrocytes_on_request(tmp_path: Path) -> None:
    pytest.importorskip("nir")
    net = astro_net()
    with pytest.raises(HardwareConstraintError, match="astrocytes"):
        hw.export(net, "nir", tmp_path / "a.nir")
    path = hw.export(net, "nir", tmp_path / "a.nir", drop=["astrocytes"])
    back = hw.import_nir(path)
    assert [p.label for p in back.populations] == ["input", "exc"]  # no astrocyte, no effect
    assert len(back.projections) == 1 and not back.modulations
    import json

    import nir

    dropped = json.loads(nir.read(path).metadata["dropped"])
    assert {d["rule"] for d in dropped} == {"astrocytes"} and len(dropped) == 2


def test_require_names_the_rules_and_drop_opts_out() -> None:
    net, proj = small_net()
    proj.plasticity = "Vogels2011"  # type: ignore[attr-defined]
    report = hw.check(net, "nir")
    with pytest.raises(HardwareConstraintError, match=r"rule\(s\) plasticity"):
        report.require()
    report.require(drop=["plasticity"])
    with pytest.raises(ParameterError, match="unknown rule"):
        report.require(drop=["plastic"])


def test_export_refuses_first_and_reports_a_missing_exporter(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, proj = small_net()
    proj.plasticity = "Vogels2011"  # type: ignore[attr-defined]
    with pytest.raises(HardwareConstraintError, match="plasticity"):
        hw.export(net, "nir", "unused.nir")
    with pytest.raises(ParameterError, match="formats are"):
        hw.export(net, "brainscales", "x")
    monkeypatch.setitem(
        hw.EXPORT_FORMATS, "fake", ("snnsim.hardware.not_written_yet", "export_fake", "nir")
    )
    with pytest.raises(MissingDependencyError, match=r"not_written_yet\.export_fake"):
        hw.export(net, "fake", "x", drop=["plasticity"])


def test_nir_rules_for_synapse_constants_refractory_and_initial_state() -> None:
    net = snn.Network(dt=0.1, seed=1)
    src = net.add_population(2, snn.SpikeSource([[1.0], [2.0]]), label="src")
    pop = net.add_population(4, snn.LIF(tau_syn_exc=5.0, tau_syn_inh=10.0), label="p")
    net.connect(src, pop, snn.AllToAll(), weight=1.0)
    report = hw.check(net, "nir")
    assert report.ok  # only 'exc' is used: its tau_syn is the node's
    net.connect(src, pop, snn.AllToAll(), weight=-1.0, receptor="inh")
    pop.initialize(v=np.full(4, -60.0))
    report = hw.check(net, "nir")
    (v,) = report.errors
    assert v.rule == "nir_synapse_time_constants"
    assert v.values == {"tau_syn_exc": 5.0, "tau_syn_inh": 10.0}
    assert {"nir_refractory", "nir_initial_state"} <= set(report.rules("warning"))


def test_spinnaker_rows_longer_than_256_synapses_are_refused() -> None:
    """One source onto 256 neurons through both receptors: 512 words in one row."""
    from snnsim.hardware import spinnaker as sp

    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(1, snn.SpikeSource([[1.0]]), label="src")
    post = net.add_population(256, snn.LIF(), label="post")
    net.connect(src, post, snn.AllToAll(), weight=0.5, delay=1.0)
    report = hw.check(net, "spinnaker1")
    assert report.ok and "spinnaker_row_length" not in rules_of(report)
    net.connect(src, post, snn.AllToAll(), weight=-0.5, delay=1.0, receptor="inh")
    report = hw.check(net, "spinnaker1")
    (v,) = [v for v in report.errors if v.rule == "spinnaker_row_length"]
    assert v.values == {"row_length": 512, "max": 256}
    assert v.where == "src[0:1] -> post[0:256]" and "neurons_per_core" in v.fix
    with pytest.raises(HardwareConstraintError, match="row of 512 synapses"):
        sp.map_network(net)
    assert sp.map_network(net, neurons_per_core={"post": 128}).rows  # two cores: rows of 256


def test_cores_and_weight_shift_on_spinnaker1() -> None:
    net = snn.Network(dt=1.0, seed=1)
    net.add_population(856 * 256 + 1, snn.LIF(), label="big")  # one core too many
    (v,) = [v for v in hw.check(net, "spinnaker1").errors if v.rule == "neurons_per_core"]
    assert v.values == {"cores_needed": 857, "cores": 856, "neurons_per_core": 256}
    net2, _ = small_net(dt=1.0)
    src, exc = net2.population("src"), net2.population("exc")
    net2.connect(src, exc[:10], snn.OneToOne(), weight=40000.0, delay=1.0, label="huge")
    (w,) = [v for v in hw.check(net2, "spinnaker1").errors if v.rule == "weight_range"]
    assert w.values == {"max_weight": 40000.0, "shift": 16}
