"""The CA3 memory example exported to PyNN: same learning and recall on ``pyNN.nest``, and
its learning script maps onto sPyNNaker's virtual board.

``check_on_pynn_nest`` (``examples/ca3_memory.py``) exports the learning network (STDP on
the recurrent synapses) and the recall network with ``hw.export(net, "pynn")``, runs both
scripts on ``pyNN.nest`` in subprocesses and compares them with snnsim at quick size.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ca3_memory.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ca3_memory", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ca3_learns_and_recalls_the_same_on_pynn_nest(tmp_path: Path) -> None:
    pytest.importorskip("pyNN")
    pytest.importorskip("nest")
    c = _example().check_on_pynn_nest(quick=True, seed=1, work_dir=str(tmp_path))
    assert c["learn_spikes"] > 300 and c["learn_spikes_equal"]
    assert c["weight_max_diff"] <= 1e-9
    assert c["weights_in"] > 0.9  # the patterns were stored
    assert c["recall_spikes"] > 0 and c["recall_spikes_equal"]
    assert c["recall_nest"] == c["recall_snnsim"]
    assert c["recall_nest"]["recall"] > 0.8


def test_ca3_learning_script_maps_on_spynnaker_virtual_board(tmp_path: Path) -> None:
    pytest.importorskip("spynnaker")
    from snnsim import hardware as hw

    ex = _example()
    n = ex.SIZES["quick"][0]
    rng = np.random.default_rng(1)
    net, proj, duration = ex.learning_network(n, ex.make_patterns(n, 8, "orthogonal", rng), rng)
    net.record_spikes(net.populations[1])
    assert hw.check(net, "spinnaker1").ok
    script = hw.export(net, "pynn", tmp_path / "ca3.py", duration=duration, backend="spinnaker")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path / "s.npz")], cwd=tmp_path,
        capture_output=True, text=True, timeout=900, env={**os.environ, "HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "reports").is_dir()  # sPyNNaker mapped it onto the virtual machine
    assert f"proj{proj.index}_exc/weights" in np.load(tmp_path / "s.npz")
