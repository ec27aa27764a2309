"""``examples/l2mu_digits.py`` at ``--quick`` size: the trained L2MU network runs in the
event core with exactly the torch model's spikes in every population."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("snntorch")
pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "l2mu_digits.py"


def test_l2mu_digits_quick(seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("snnsim_example_l2mu", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__doc__
    r = module.main(["--quick", "--seed", str(seed % 1000), "--epochs", "1", "--timed", "3",
                     "--no-progress"])  # fmt: skip
    assert all(v == 0 for v in r["mismatches"].values()), r["mismatches"]
    assert r["spikes"]["h"] > 0 and r["spikes"]["out"] > 0
    assert r["same_predictions"] and r["torch_accuracy"] == r["core_accuracy"]
    assert "identical predictions: True" in capsys.readouterr().out
