"""Smoke tests of the side-by-side harness (benchmarks/compare.py) and ``snnsim bench``.

Tiny networks only: these check that every case runs end to end and writes its files, and
that snnsim and NEST agree on spike counts; they never assert anything about timings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# benchmarks/ is not installed; make it importable as a top-level package from the repo root.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import snnsim  # noqa: E402
from benchmarks import compare  # noqa: E402
from benchmarks.networks import cuba  # noqa: E402
from snnsim import bench  # noqa: E402

_TINY = ["--duration", "50", "--repeats", "1", "--threads", "1"]


def _rows(out: Path) -> list[dict[str, object]]:
    report = json.loads((out / "results.json").read_text())
    return [row for case in report["cases"] for net in case["networks"] for row in net["rows"]]


def test_snnsim_vs_nest_end_to_end_and_spike_counts_agree(tmp_path: Path) -> None:
    pytest.importorskip("nest")
    out = tmp_path / "cuba"
    argv = ["--case", "cuba", "--sizes", "400", "--with", "nest", "--out", str(out), *_TINY]
    assert compare.main(argv) == 0
    md = (out / "results.md").read_text()
    assert "snnsim 1T" in md and "nest 1T" in md and "cores" in md
    rows = {r["simulator"]: r for r in _rows(out)}
    assert set(rows) == {"snnsim", "nest"}
    s, n = int(rows["snnsim"]["spikes"]), int(rows["nest"]["spikes"])  # type: ignore[call-overload]
    assert s > 0
    assert abs(n - s) <= 0.02 * s, (s, n)
    for key in ("run_s_median", "build_s", "compile_s", "peak_rss_mb", "bytes_per_synapse"):
        assert key in rows["nest"] and key in rows["snnsim"]


def test_snnsim_alone_scaled_writes_json_md_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "scaled"
    argv = ["scaled", "--sizes", "500", "1000", "--with", "none", "--out", str(out), *_TINY]
    assert compare.main(argv) == 0
    for name in ("results.json", "results.md", "throughput_vs_n.png", "rss_vs_n.png"):
        assert (out / name).stat().st_size > 0, name
    rows = _rows(out)
    assert [r["n"] for r in rows] == [500, 1000]
    assert all(r["simulator"] == "snnsim" and r["status"] == "ok" for r in rows)


@pytest.mark.parametrize(
    ("case", "extra"),
    [("event", ["--sizes", "400", "--event-in-degree", "50"]), ("sparse", ["--sizes", "2000"])],
)
def test_every_case_runs_at_a_tiny_size(tmp_path: Path, case: str, extra: list[str]) -> None:
    out = tmp_path / case
    assert compare.main(["--case", case, "--with", "none", "--out", str(out), *extra, *_TINY]) == 0
    (row,) = _rows(out)
    assert row["status"] == "ok" and int(row["n_synapses"]) > 0  # type: ignore[call-overload]


def test_run_in_subprocess_snnsim_has_the_peer_keys() -> None:
    net = cuba(200, seed=2, duration=20.0)
    res = compare.run_in_subprocess("snnsim", net, threads=1, return_spikes=True)
    for key in ("simulator", "threads", "spikes", "run_s", "build_s", "compile_s", "peak_rss_mb"):
        assert key in res
    assert res["simulator"] == "snnsim"
    assert res["spike_ids"].shape == (res["spikes"],)
    assert "synaptic_events" in res and "loadavg_1m" in res


def test_skip_rules_for_slow_peers() -> None:
    nest = compare.Variant("nest", 1)
    assert compare.skip_reason(nest, 256000, allow_slow=False) is not None
    assert compare.skip_reason(nest, 256000, allow_slow=True) is None
    assert compare.skip_reason(compare.Variant("brian2-cython", 1), 256000, True) is not None
    assert compare.skip_reason(compare.Variant("snnsim", 2), 256000, False) is None


def test_ratio_refused_when_counts_disagree() -> None:
    spec = {"builder": "cuba", "kwargs": {"n": 10}}
    base = {"n": 10, "n_synapses": 20, "duration_ms": 100.0, "dt_ms": 0.1, "build_s": 0.0}
    base |= {"compile_s": 0.0, "peak_rss_mb": 1.0, "busy_cores_before": 0.0, "round": 0}
    ref = compare.Cell(compare.Variant("snnsim", 1), runs=[{**base, "spikes": 1000, "run_s": 1}])
    ok = compare.Cell(compare.Variant("nest", 1), runs=[{**base, "spikes": 1005, "run_s": 2}])
    cython = compare.Variant("brian2-cython", 1)
    bad = compare.Cell(cython, runs=[{**base, "spikes": 1100, "run_s": 3}])
    rows = {r["simulator"]: r for r in compare.summarize(spec, [ref, ok, bad])}
    assert rows["nest"]["ratio_vs_snnsim"] == pytest.approx(2.0)
    assert rows["brian2-cython"]["ratio_vs_snnsim"] is None
    assert rows["brian2-cython"]["ratio_vs_snnsim_note"] == "counts disagree"
    assert "counts disagree" in compare.markdown_table(list(rows.values()))


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
