"""Issue 8, section 2: the first run says that it compiles, and build and compile are apart.

Before the fix the first ``snnsim demo`` was silent for about 22 s and reported "build 5.1 s"
that was mostly compiling the connectivity kernels. Now a notice is printed before Numba
starts compiling (Numba's ``"numba:compile"`` event, which fires only for a real compilation,
not for a load from the disk cache), and ``build_s`` excludes the time spent compiling or
loading kernels, which ``compile_s`` holds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import snnsim as snn
from snnsim.compilation import COLD_COMPILE_S, watch_compilation


def _tiny(seed: int = 1) -> snn.Network:
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    a = net.add_population(20, snn.LIF(v_rest=-49.0), label="a")
    net.connect(a, a, snn.FixedProbability(0.2), weight=0.05, receptor="exc")
    a.initialize(v=snn.Uniform(-60.0, -50.0))
    return net


def test_notice_is_printed_before_compiling_and_only_then(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The notice comes before the compiler runs, once; a compiled function prints nothing."""
    kernel = numba.njit(cache=False)(lambda x: x * 2.0 + 1.0)
    with watch_compilation(progress=True) as (watch, lock):
        assert kernel(1.5) == 4.0
        first = capsys.readouterr().err
        assert kernel(2.5) == 6.0  # already compiled for float64
    watch.report()
    after = capsys.readouterr().err
    assert first.count("compiling kernels") == 1
    assert f"about {COLD_COMPILE_S} s" in first
    assert watch.compiled and watch.compile_s > 0
    assert lock.done and lock.duration >= watch.compile_s * 0.5
    assert re.fullmatch(r"\[snnsim\] kernels compiled in \d+\.\d s\n", after)

    with watch_compilation(progress=True) as (watch2, _):
        assert kernel(3.5) == 8.0
    watch2.report()
    assert capsys.readouterr().err == "" and not watch2.compiled


def test_warm_build_prints_nothing_and_splits_times(capsys: pytest.CaptureFixture[str]) -> None:
    """With kernels compiled, build(progress=True) is silent; build_s and compile_s are apart."""
    _tiny().build()  # compiles (cold cache) or loads every kernel this network type needs
    capsys.readouterr()
    net = _tiny(seed=2)
    engine = net.build(progress=True)
    assert "compiling" not in capsys.readouterr().err
    assert engine.build_s >= 0.0 and engine.compile_s >= 0.0
    stats = net.run(5.0, progress=True)
    assert "compiling" not in capsys.readouterr().err
    assert stats.sim_ms == pytest.approx(5.0)


def test_run_progress_reaches_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """``net.run(progress=True)`` builds with the notice on; ``run()`` without it, silently."""
    import snnsim.network as network_mod

    seen: list[bool] = []
    real = network_mod.build_engine

    def spy(net: snn.Network, progress: bool = False) -> object:
        seen.append(progress)
        return real(net, progress=progress)

    monkeypatch.setattr(network_mod, "build_engine", spy)
    _tiny(seed=4).run(1.0, progress=True)
    _tiny(seed=5).run(1.0)
    assert seen == [True, False]


def test_build_time_excludes_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Time spent holding Numba's compiler lock during build is counted as compile, not build."""
    import snnsim.build as build_mod
    import snnsim.engine as engine_mod

    real = build_mod._build_arrays

    @numba.njit(cache=False)
    def slow_kernel(x: float) -> float:  # a fresh kernel: compiled inside build
        return np.sin(x) + np.cos(x) * np.exp(-x)

    def build_with_compile(net: snn.Network) -> engine_mod.Engine:
        slow_kernel(0.5)
        return real(net)

    monkeypatch.setattr(build_mod, "_build_arrays", build_with_compile)
    eng = build_mod.build_engine(_tiny(seed=3))
    compiled = slow_kernel.get_metadata(slow_kernel.signatures[0])["timers"]["compiler_lock"]
    assert compiled > 0
    assert eng.compile_s >= compiled * 0.9
    # the build of 20 neurons takes milliseconds; the compile of slow_kernel is not in it
    assert eng.build_s < compiled


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_cold_cli_demo_says_it_compiles_first(tmp_path: Path) -> None:
    """``snnsim demo`` with an empty cache prints the notice before anything else; then not."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "SNNSIM_NO_CACHE")}
    env["SNNSIM_CACHE_DIR"] = str(tmp_path / "cache")
    cmd = [sys.executable, "-m", "snnsim.cli", "demo", "--duration", "10", "--out", str(tmp_path)]
    cold = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=800)
    assert cold.returncode == 0, cold.stderr
    lines = cold.stderr.splitlines()
    assert lines[0].startswith("[snnsim] compiling kernels (once per installation")
    assert str(tmp_path / "cache") in lines[0]
    assert re.fullmatch(r"\[snnsim\] kernels compiled in \d+\.\d s", lines[1])
    build = float(re.search(r"build\s+([\d.]+) s", cold.stdout).group(1))  # type: ignore[union-attr]
    comp = float(re.search(r"compile\s+([\d.]+) s", cold.stdout).group(1))  # type: ignore[union-attr]
    assert comp > 1.0 and build < comp / 3, cold.stdout

    warm = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=800)
    assert warm.returncode == 0, warm.stderr
    assert "compiling" not in warm.stderr


def test_build_compiles_the_probe_variant_its_recorders_need(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The run loop is compiled without probe code unless a recorder samples state.

    ``probes`` is ``None`` in runs without state recorders (otherwise every per-chunk
    call counts references to the ten probe arrays, which slowed 2-thread runs). A network that
    records state at build gets the variant with probes compiled by ``build``, so its first
    run does not compile.
    """
    from numba.core import types
    from snnsim.kernels.simulation import run_segment_serial

    def probes_types() -> set[bool]:
        # argument 12 of the run loop is the probes structure (None without state recorders)
        return {isinstance(sig[12], types.NoneType) for sig in run_segment_serial.signatures}

    _tiny(seed=6).build()
    assert True in probes_types()  # without state recorders: compiled with probes = None

    def recording(seed: int) -> snn.Network:
        net = _tiny(seed)
        net.record_state(net.population("a"), ["v"])
        return net

    recording(7).build()
    assert False in probes_types()  # a state recorder at build: the probe variant as well
    capsys.readouterr()
    net = _tiny(seed=8)
    rec = net.record_state(net.population("a"), ["v"])
    net.build(progress=True)
    net.run(5.0, progress=True)
    assert "compiling" not in capsys.readouterr().err
    assert rec["v"].shape == (50, 20) and np.isfinite(rec["v"]).all()
