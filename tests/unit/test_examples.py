"""Every script in examples/ runs with a short duration (discovered by glob)."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

#: Examples that train through the snnTorch bridge take ``main(argv)`` and have their own
#: tests (``test_examples_delays.py``, skipped without torch).
TORCH_EXAMPLES = {"delay_recovery.py", "delay_timing_task.py", "l2mu_digits.py"}
#: Examples with a ``--quick`` size (``main(argv)``) and their own test below.
OWN_TESTS = {"ca3_memory.py", "nalsm_digits.py"}
EXAMPLES = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.py")
    if p.name not in TORCH_EXAMPLES | OWN_TESTS
)
#: Short enough to be fast, long enough for every example's checks (delays up to 50 ms).
DURATION = 100.0


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"snnsim_example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_found() -> None:
    assert {p.name for p in EXAMPLES} >= {"cuba.py", "single_neuron.py", "delays.py"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = _load(path)
    assert module.__doc__, f"{path.name} needs a module docstring"
    main = getattr(module, "main", None)
    assert callable(main), f"{path.name} must define main(duration=..., out_dir=...)"
    params = inspect.signature(main).parameters
    assert "duration" in params and "out_dir" in params
    main(duration=DURATION, out_dir=str(tmp_path))
    pngs = list(tmp_path.glob("*.png"))
    assert pngs, f"{path.name} wrote no plot"
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert capsys.readouterr().out
    plt.close("all")


def test_ca3_memory_quick_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CA3 memory at quick size: orthogonal patterns complete from half cues; PyNN export."""
    module = _load(Path(__file__).resolve().parents[2] / "examples" / "ca3_memory.py")
    script = tmp_path / "ca3.py"
    r = module.main(["--quick", "--out-dir", str(tmp_path), "--export-pynn", str(script)])
    assert (tmp_path / "ca3_memory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = script.read_text()
    assert "synapse_type=stdp(sim, backend, 1, " in text and "sim.SpikeSourceArray(" in text
    out = capsys.readouterr().out
    assert "the target can run this network" in out  # hw.check(net, "spinnaker1") is ok
    ortho = r["orthogonal"]
    assert ortho["weights_in"] > 5 * ortho["weights_out"]  # STDP stored the patterns
    half = ortho["cue"][r["cues"].index(0.5)]
    assert half["recall"] > 0.8 and half["precision"] > 0.6
    assert ortho["cue"][0]["recall"] < half["recall"]  # a one-neuron cue recalls less


def test_nalsm_digits_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NALSM example at ``--quick`` size: every condition runs and reports sane numbers."""
    module = _load(Path(__file__).resolve().parents[2] / "examples" / "nalsm_digits.py")
    assert module.__doc__
    res = module.main(["--quick", "--out-dir", str(tmp_path)])
    table = res["table"]
    assert set(table) == {"lsm", "lsm_stdp", "nalsm"}
    for cond, row in table.items():
        # 10 classes: anything above 20 % is a liquid that carries digit information
        assert 0.2 < row["acc"] <= 1.0, (cond, row)
        assert row["bf"] > 0.0, (cond, row)
    # the astrocyte was recorded and its output (the depression rate) moved from a_init
    a_t = res["final"]["nalsm"][0]["a_t"]
    assert a_t.size > 0 and not np.allclose(a_t, a_t[0])
    # plastic conditions changed their excitatory weights; the fixed LSM did not
    assert res["final"]["lsm_stdp"][0]["mean_w_ee"] != res["opts"]["w_init"]
    assert (tmp_path / "nalsm_results.txt").read_text().startswith("LSM sweep")
    png = tmp_path / "nalsm_digits.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Results" in capsys.readouterr().out
    plt.close("all")
