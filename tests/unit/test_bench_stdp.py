"""The ``stdp`` case of the side-by-side harness (benchmarks/stdp.py): structure, not timing.

Tiny networks only: the case runs end to end, the plastic network is CUBA with plastic exc ->
exc synapses, snnsim and NEST agree on spikes and on the plastic weights' statistics, the
static run and the weight check are in the report. Nothing is asserted about run times.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import compare, stdp  # noqa: E402
from benchmarks.networks import NetworkArrays, cuba_scaled, cuba_stdp  # noqa: E402

_TINY = ["--duration", "60", "--repeats", "1", "--threads", "1", "--no-cold"]


def _rows(out: Path) -> list[dict[str, Any]]:
    report = json.loads((out / "results.json").read_text())
    return [row for case in report["cases"] for net in case["networks"] for row in net["rows"]]


def test_stdp_network_is_cuba_with_a_plastic_exc_exc_rule(tmp_path: Path) -> None:
    plastic, static = cuba_stdp(600, seed=4, duration=10.0), cuba_scaled(600, seed=4, duration=10.0)
    for field in ("sources", "targets", "weights", "delay_steps", "v0"):
        assert np.array_equal(getattr(plastic, field), getattr(static, field)), field
    rule = plastic.plasticity
    assert rule is not None and static.plasticity is None
    mask = stdp.plastic_mask(plastic.sources, plastic.targets, plastic.n_exc)
    w0 = plastic.weights[mask]
    assert mask.sum() > 0 and np.all(w0 == w0[0]) and rule["w_max"] == pytest.approx(2 * w0[0])
    assert (rule["a_plus"], rule["a_minus"], rule["tau_plus"]) == (0.01, 0.0105, 20.0)
    loaded = NetworkArrays.load(plastic.save(tmp_path / "net"))
    assert loaded.plasticity == rule and loaded.fingerprint() == plastic.fingerprint()
    assert plastic.fingerprint() != static.fingerprint()
    assert compare.network_spec("stdp", 4000, 1000.0, None)["builder"] == "cuba_stdp"
    assert compare.CASES["stdp"].sizes == (4000, 64000)


def test_peer_mappings_of_the_rule() -> None:
    rule = stdp.rule_for(0.081)
    spec = stdp.nest_plastic_spec(rule)
    assert spec["synapse_model"] == "stdp_synapse" and spec["mu_plus"] == spec["mu_minus"] == 0
    assert spec["lambda"] * spec["alpha"] == pytest.approx(rule["a_minus"])
    assert spec["Wmax"] == pytest.approx(162.0)
    with pytest.raises(ValueError, match="w_min = 0"):
        stdp.nest_plastic_spec({**rule, "w_min": 0.01})
    stats = stdp.weight_stats([0.0, 0.081, 0.162, 0.162], rule)
    assert stats["n"] == 4 and stats["at_w_min"] == 0.25 and stats["at_w_max"] == 0.5


def test_weight_check_refuses_ratios_where_the_distribution_differs() -> None:
    def row(sim: str, mean: float, sd: float) -> dict[str, Any]:
        weights = {"n": 10, "mean": mean, "sd": sd, "min": 0.0, "max": 0.1, "at_w_min": 0.0,
                   "at_w_max": 0.0}  # fmt: skip
        return {"simulator": sim, "threads": 1, "precision": "double" if sim == "snnsim" else None,
                "weights": weights, "ratio_vs_nest": 0.5, "ratio_vs_snnsim": 2.0}  # fmt: skip

    rows = [row("snnsim", 0.08, 0.001), row("nest", 0.0805, 0.0011), row("brian2", 0.09, 0.001)]
    stdp.check_weights(rows)
    assert [r["weights_agree"] for r in rows] == [True, True, False]
    assert rows[1]["ratio_vs_snnsim"] == 2.0 and rows[2]["ratio_vs_snnsim"] is None
    assert rows[2]["ratio_vs_snnsim_note"] == "weights disagree"
    assert "disagree" in stdp.weights_table([{**r, "label": r["simulator"]} for r in rows])


def test_stdp_case_end_to_end_with_nest_and_the_static_run(tmp_path: Path) -> None:
    pytest.importorskip("nest")
    out = tmp_path / "stdp"
    argv = ["stdp", "--sizes", "500", "--with", "nest", "--precision", "double", *_TINY]
    assert compare.main([*argv, "--out", str(out)]) == 0
    rows = {r["simulator"]: r for r in _rows(out)}
    assert set(rows) == {"snnsim", "snnsim-static", "nest"}
    snn, nest, static = rows["snnsim"], rows["nest"], rows["snnsim-static"]
    assert snn["spikes"] > 0 and static["spikes"] > 0
    assert abs(nest["spikes"] - snn["spikes"]) <= stdp.COUNT_TOLERANCE * snn["spikes"]
    assert snn["weights"]["n"] == nest["weights"]["n"] > 0 and "weights" not in static
    assert snn["weights_agree"] and nest["weights_agree"]
    assert snn["cost_vs_static"] is not None and snn["cost_vs_static"] > 0
    assert static["ratio_vs_snnsim_note"] == "static network" and "counts_agree" not in static
    md = (out / "results.md").read_text()
    assert "Plastic weights (exc -> exc)" in md and "snnsim-static 1T" in md
    report = json.loads((out / "results.json").read_text())
    lines = [t for t in report["targets"] if t["target"].startswith("STDP")]
    assert {t["network"] for t in lines} == {"cuba_stdp 500"} and len(lines) == 2
