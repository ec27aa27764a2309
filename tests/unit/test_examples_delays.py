"""The learned-delay examples run at ``--quick`` size and keep their promises.

* ``examples/delay_recovery.py``: a student recovers a teacher's planted per-synapse delays
  (>= 90 % within one step), and the rounded student runs in the event core with exactly
  the spikes of the rounded torch model.
* ``examples/delay_timing_task.py``: the permuted-template timing task runs every condition;
  without delays the memoryless network is silent (chance), fixed random delays do better,
  and the learned, rounded network gives identical predictions in the event core.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("torch")
pytest.importorskip("snntorch")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"snnsim_example_{name}", EXAMPLES / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png(path: Path) -> bool:
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_delay_recovery_quick(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = _load("delay_recovery.py")
    assert module.__doc__
    r = module.main(["--quick", "--seed", str(seed % 10_000), "--out-dir", str(tmp_path)])
    assert r["within_one"] >= 0.9, r["within_one"]
    assert r["within_one"] > r["initial_within_one"] + 0.3  # not the random start
    assert r["core_spikes"] > 0 and r["core_mismatches"] == 0
    assert r["spike_match"] >= 0.9
    assert _png(tmp_path / "delay_recovery.png")
    assert "within one step" in capsys.readouterr().out


def test_delay_timing_task_quick(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = _load("delay_timing_task.py")
    assert module.__doc__
    results = module.main(
        ["--quick", "--seeds", "1", "--seed0", str(seed % 10_000), "--out-dir", str(tmp_path)]
    )
    assert set(results) == {"none", "fixed", "learned", "memory"}
    none, fixed, learned = (results[c][0] for c in ("none", "fixed", "learned"))
    # channels never coincide: memoryless neurons without delays stay silent (chance)
    assert none["rate"] == 0.0 and none["accuracy"] < 0.4
    assert fixed["accuracy"] > none["accuracy"] + 0.1
    assert learned["core_spike_mismatches"] == 0 and learned["core_same_predictions"]
    assert _png(tmp_path / "delay_timing_task.png")
    assert "condition" in capsys.readouterr().out
