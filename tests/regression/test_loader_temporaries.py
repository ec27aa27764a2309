"""Issue 8 section 7: temporaries of a save killed with SIGKILL are removed by the next save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import snnsim as snn
from snnsim import h5safe

_BIG_SAVE = textwrap.dedent(
    """
    import sys
    import snnsim as snn

    net = snn.Network(dt=0.1, seed=1, threads=1)
    pop = net.add_population(50_000, snn.LIF(), label="big")
    net.connect(pop, pop, snn.FixedProbability(0.004), weight=0.1, delay=1.0)
    net.build()
    snn.save(net, sys.argv[1])
    """
)


def _small_net() -> snn.Network:
    net = snn.Network(dt=0.1, seed=2, threads=1)
    a = net.add_population(20, snn.LIF(i_offset=0.5), label="a")
    net.record_spikes(a)
    return net


def _temporaries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(".tmp")}


def _killed_save(path: Path) -> str:
    """Run a save of a 50k-neuron network in a subprocess, SIGKILL it mid-write."""
    script = path.parent / "big_save.py"
    script.write_text(_BIG_SAVE)
    before = _temporaries(path.parent)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        seen: set[str] = set()
        while not seen and proc.poll() is None and time.monotonic() < deadline:
            seen = _temporaries(path.parent) - before
            time.sleep(0.001)
        assert seen, "the temporary file never appeared"
        assert proc.poll() is None, "the save finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    (name,) = seen
    assert name.startswith(f".{path.name}.{proc.pid}."), name
    assert (path.parent / name).exists(), "the killed writer's temporary should remain"
    return name


def test_killed_save_temporary_is_removed_by_next_save(tmp_path: Path) -> None:
    """A real SIGKILL during a large save leaves one temporary; the next save removes it."""
    path = tmp_path / "net.h5"
    snn.save(_small_net(), path)
    stale = _killed_save(path)
    assert h5safe.temp_name_pattern(str(path)).match(stale)
    snn.save(_small_net(), path)
    assert _temporaries(tmp_path) == set()
    assert snn.load(path).size == 20


def test_only_stale_temporaries_of_the_same_target_are_removed(tmp_path: Path) -> None:
    """Live writers, other targets and look-alike names are left alone."""
    path = tmp_path / "net.h5"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        time.sleep(0.2)  # the live process has started before its file is written
        names = {
            "dead writer": f".net.h5.{dead.pid}.abcdefgh.tmp",
            "live writer": f".net.h5.{live.pid}.abcdefgh.tmp",
            "reused pid": f".net.h5.{live.pid}.zzzzzzzz.tmp",
            "other target": f".other.h5.{dead.pid}.abcdefgh.tmp",
            "prefix target": f".net.h5.bak.{dead.pid}.abcdefgh.tmp",
            "short random part": f".net.h5.{dead.pid}.abc.tmp",
            "not hidden": f"net.h5.{dead.pid}.abcdefgh.tmp",
            "legacy name without pid": ".net.h5.abcdefgh.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        # written long before the live process started: its pid was reused since
        os.utime(tmp_path / names["reused pid"], (1_000_000, 1_000_000))
        (tmp_path / f".net.h5.{dead.pid}.linklink.tmp").symlink_to(tmp_path / "elsewhere")
        snn.save(_small_net(), path)
        left = _temporaries(tmp_path)
    finally:
        live.kill()
        live.wait()
    assert names["dead writer"] not in left
    if sys.platform.startswith("linux"):  # process start times come from /proc
        assert names["reused pid"] not in left
    for case in ("live writer", "other target", "prefix target", "short random part"):
        assert names[case] in left, case
    assert names["not hidden"] in left and names["legacy name without pid"] in left
    assert f".net.h5.{dead.pid}.linklink.tmp" in left  # a symlink is never removed


@pytest.mark.parametrize("pid", [0, 9_999_999_999])
def test_impossible_pids_count_as_dead(tmp_path: Path, pid: int) -> None:
    """A temporary whose pid cannot be a process is stale."""
    name = f".net.h5.{pid}.abcdefgh.tmp"
    (tmp_path / name).write_bytes(b"partial")
    removed = h5safe.remove_stale_temporaries(tmp_path / "net.h5")
    assert removed == [str(tmp_path / name)]
