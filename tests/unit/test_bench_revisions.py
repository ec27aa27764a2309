"""Smoke tests of benchmarks/revisions.py (two revisions side by side); no timing asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks import revisions  # noqa: E402


def test_child_runs_the_tree_it_is_given_and_prints_runs() -> None:
    """The child imports snnsim and its kernels from the tree (it asserts so) and times runs."""
    out = subprocess.run(
        [sys.executable, str(_ROOT / "benchmarks" / "revisions.py"), "--child", str(_ROOT),
         "--case", "cuba4k", "--threads", "1", "--runs", "2"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["run"] for r in rows] == [0, 1]
    assert all(r["wall_s"] > 0 and r["spikes"] > 0 for r in rows)


def test_summary_and_arguments() -> None:
    s = revisions.summary([0.3, 0.1, 0.2, 0.4])
    assert s["n"] == 4 and s["min"] == 0.1 and s["median"] == pytest.approx(0.25)
    with pytest.raises(SystemExit):
        revisions.main(["HEAD"])  # one revision
    with pytest.raises(SystemExit):
        revisions.main(["HEAD", "HEAD", "--runs", "1"])  # the only run would be dropped
