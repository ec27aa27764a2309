"""Smoke test of the snnsim-only CUBA benchmark script (not a timing test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cuba_benchmark_runs(tmp_path: Path, capsys) -> None:
    """benchmarks/cuba.py runs at a tiny size and writes its JSON report."""
    spec = importlib.util.spec_from_file_location("bench_cuba", ROOT / "benchmarks" / "cuba.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "r.json"
    assert (
        mod.main(["--sizes", "400", "--duration", "20", "--repeats", "1", "--json", str(out)]) == 0
    )
    import json

    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["n"] == 400 and rows[0]["synapses"] > 0
    assert "RTF" in capsys.readouterr().out
