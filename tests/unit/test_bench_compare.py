"""Smoke tests of the side-by-side harness (benchmarks/compare.py) and ``snnsim bench``.

Tiny networks only: these check that every case runs end to end through the harness and
writes its files, and that snnsim and NEST agree on spike counts; they never assert anything
about timings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# benchmarks/ is not installed; make it importable as a top-level package from the repo root.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import snnsim  # noqa: E402
from benchmarks import compare  # noqa: E402
from benchmarks.networks import cuba  # noqa: E402
from snnsim import bench  # noqa: E402

_TINY = ["--duration", "50", "--repeats", "1", "--threads", "1", "--no-cold"]
_ALONE = [*_TINY, "--with", "none", "--precision", "double"]


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "results.json").read_text())
    return report


def _rows(out: Path) -> list[dict[str, Any]]:
    report = _report(out)
    return [row for case in report["cases"] for net in case["networks"] for row in net["rows"]]


def test_snnsim_vs_nest_end_to_end_and_spike_counts_agree(tmp_path: Path) -> None:
    pytest.importorskip("nest")
    out = tmp_path / "cuba"
    argv = ["--case", "cuba", "--sizes", "400", "--with", "nest", "--out", str(out), *_TINY]
    assert compare.main([*argv, "--precision", "double"]) == 0
    md = (out / "results.md").read_text()
    assert "snnsim 1T" in md and "nest 1T" in md and "cores" in md and "Targets" in md
    rows = {r["simulator"]: r for r in _rows(out)}
    assert set(rows) == {"snnsim", "nest"}
    s, n = int(rows["snnsim"]["spikes"]), int(rows["nest"]["spikes"])
    assert s > 0
    assert abs(n - s) <= 0.02 * s, (s, n)
    for key in ("run_s_median", "build_s", "compile_s", "peak_rss_mb", "bytes_per_synapse"):
        assert key in rows["nest"] and key in rows["snnsim"]
    assert rows["snnsim"]["ratio_vs_nest"] is not None or not rows["nest"]["counts_agree"]


def test_snnsim_alone_scaled_writes_json_md_plots_and_readme(tmp_path: Path) -> None:
    out = tmp_path / "scaled"
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- bench:start -->\nOLD TABLE\n<!-- bench:end -->\n\nrest\n")
    argv = ["scaled", "--sizes", "500", "1000", "--out", str(out), "--readme", str(readme)]
    assert compare.main([*argv, *_ALONE]) == 0
    for name in ("results.json", "results.md", "throughput_vs_n.png", "rss_vs_n.png"):
        assert (out / name).stat().st_size > 0, name
    rows = _rows(out)
    assert [r["n"] for r in rows] == [500, 1000]
    assert all(r["simulator"] == "snnsim" and r["status"] == "ok" for r in rows)
    text = readme.read_text()
    assert "OLD TABLE" not in text and text.endswith("rest\n") and text.startswith("# x")
    assert "cuba_scaled_1000" in text and "numba" in text and "cores" in text


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("event", ["--sizes", "400", "--event-in-degree", "50"]),
        ("sparse", ["--sizes", "2000"]),
        ("microcircuit", ["--scales", "0.02"]),
    ],
)
def test_every_case_runs_at_a_tiny_size(tmp_path: Path, case: str, extra: list[str]) -> None:
    out = tmp_path / case
    assert compare.main([case, "--out", str(out), *extra, *_ALONE]) == 0
    (row,) = _rows(out)
    assert row["status"] == "ok" and int(row["n_synapses"]) > 0
    report = _report(out)
    (net,) = report["cases"][0]["networks"]
    if case == "event":
        assert net["ceiling"]["by_threads"]["1"] > 0 and row["ceiling_fraction"] > 0
    if case == "microcircuit":
        assert net["statistical"] and len(row["pop_rates_hz"]) == 8
        assert "statistically" in (out / "results.md").read_text()


def test_machine_case_in_the_same_run(tmp_path: Path) -> None:
    out = tmp_path / "machine"
    assert compare.main(["machine", "--quick", "--out", str(out), "--with", "none"]) == 0
    ml = _report(out)["machine_limits"]
    assert ml["stream"]["copy_gbs_1t"] > 0 and len(ml["scatter"]) == 2


def test_microcircuit_with_nest(tmp_path: Path) -> None:
    pytest.importorskip("nest")
    out = tmp_path / "mc"
    argv = ["microcircuit", "--scales", "0.02", "--with", "nest", "--out", str(out), *_TINY]
    assert compare.main([*argv, "--precision", "double"]) == 0
    rows = {r["simulator"]: r for r in _rows(out)}
    assert rows["nest"]["spikes"] > 0 and len(rows["nest"]["pop_rates_hz"]) == 8


@pytest.mark.slow
def test_brian2_peers_end_to_end_cold_and_warm(tmp_path: Path) -> None:
    pytest.importorskip("brian2")
    out = tmp_path / "b2"
    argv = ["cuba", "--sizes", "400", "--with", "brian2", "--out", str(out), "--duration", "50"]
    assert compare.main([*argv, "--repeats", "2", "--threads", "1", "2"]) == 0
    rows = {r["label"]: r for r in _rows(out)}
    sa = rows["brian2-standalone 1T"]
    assert sa["compile_s_cold"] > 0 and sa["compile_s_warm"] is not None
    assert rows["snnsim 1T"]["first_result_s_cold"] > 0
    assert rows["snnsim 1T"]["spike_hash"] == rows["snnsim 2T"]["spike_hash"]
    assert rows["brian2-cython 1T"]["status"] == "ok"
    assert any(t["status"] in ("met", "not met") for t in _report(out)["targets"])


def test_run_in_subprocess_snnsim_has_the_peer_keys() -> None:
    net = cuba(200, seed=2, duration=20.0)
    res = compare.run_in_subprocess("snnsim", net, threads=1, return_spikes=True)
    for key in ("simulator", "threads", "spikes", "run_s", "build_s", "compile_s", "peak_rss_mb"):
        assert key in res
    assert res["simulator"] == "snnsim"
    assert res["spike_ids"].shape == (res["spikes"],)
    assert "synaptic_events" in res and "loadavg_1m" in res and "spike_hash" in res


def test_skip_and_repeat_rules_for_slow_peers() -> None:
    nest1, nest2 = compare.Variant("nest", 1), compare.Variant("nest", 2)
    assert compare.repeats_for(nest1, 256000, 3, 1, allow_slow=False) == 1
    assert compare.repeats_for(nest1, 256000, 3, 1, allow_slow=True) == 3
    snn = compare.Variant("snnsim", 1)
    assert compare.repeats_for(snn, 256000, 3, 1, False, 20_000_000) == 3
    assert compare.repeats_for(snn, 77169, 3, 1, False, 298_880_970) == 1  # full-scale PD
    assert compare.skip_reason(nest2, 77169, False, 298_880_970) is not None  # 134M per VP
    assert compare.skip_reason(nest2, 7717, False, 2_988_807) is None
    assert compare.skip_reason(nest1, 10**6, False, 8 * 10**7, memory_limit=20 * 2**30)
    assert compare.skip_reason(compare.Variant("brian2-cython", 1), 10**6, True) is not None
    assert compare.skip_reason(compare.Variant("snnsim", 2), 10**6, False, 10**9) is None


def _cell(v: compare.Variant, spikes: list[int], walls: list[float]) -> compare.Cell:
    base = {"n": 10, "n_synapses": 20, "duration_ms": 100.0, "dt_ms": 0.1, "build_s": 0.1}
    base |= {"compile_s": 0.0, "peak_rss_mb": 1.0, "busy_cores_before": 0.0}
    runs = [
        {**base, "spikes": s, "run_s": w, "round": r, "cold": r == 0, "process_wall_s": 1 + w}
        for r, (s, w) in enumerate(zip(spikes, walls, strict=True))
    ]
    return compare.Cell(v, runs=runs)


def test_ratios_refused_when_counts_disagree_and_targets() -> None:
    spec = {"builder": "cuba", "kwargs": {"n": 4000}}
    cells = [
        _cell(compare.Variant("snnsim", 1), [1000, 1000], [1.0, 1.0]),
        _cell(compare.Variant("brian2-standalone", 1), [1005, 1005], [4.0, 2.0]),
        _cell(compare.Variant("nest", 1), [1100, 1100], [3.0, 3.0]),
    ]
    rows = {r["simulator"]: r for r in compare.summarize(spec, cells)}
    assert rows["snnsim"]["ratio_vs_brian2_standalone"] == pytest.approx(0.375)
    assert rows["snnsim"]["ratio_vs_nest"] is None
    assert rows["snnsim"]["ratio_vs_nest_note"] == "counts disagree"
    assert rows["brian2-standalone"]["ratio_vs_snnsim"] == pytest.approx(3.0)
    assert "counts disagree" in compare.markdown_table(list(rows.values()))
    report = {"cases": [{"case": "cuba", "networks": [{"rows": list(rows.values())}]}]}
    targets = compare.evaluate_targets(report)
    vs_b2 = [t for t in targets if t["target"].startswith("run time <= 0.5x")]
    assert vs_b2[0]["status"] == "met" and vs_b2[0]["value"] == pytest.approx(0.375)
    first = next(t for t in targets if t["target"].startswith("time to first result"))
    assert first["status"] in ("met", "not met")
    assert all(t["status"].startswith("not measured") for t in targets if t["network"] == "-")


def test_bench_main_finds_the_suite_and_explains_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert bench.find_benchmarks() == Path(_ROOT) / "benchmarks"  # via the snnsim source tree
    fake = tmp_path / "site" / "snnsim" / "__init__.py"
    monkeypatch.setattr(snnsim, "__file__", str(fake))
    assert bench.find_benchmarks() is None
    assert bench.main(["cuba"]) == 2
    assert "source checkout" in capsys.readouterr().err


def test_no_peers_installed_says_which_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(compare, "available_peers", list)
    assert compare.main(["cuba", "--sizes", "200", *_TINY, "--precision", "double"]) == 0
    assert "pip install snnsim[bench]" in capsys.readouterr().out
