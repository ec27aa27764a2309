"""Issue 8, section 1: compiled kernels are cached in a per-user folder, never in the package.

Before the fix Numba wrote its cache files into ``site-packages/snnsim/kernels/__pycache__``;
``pip uninstall`` removes only the files it installed, so ``site-packages/snnsim/`` survived
without ``__init__.py`` and shadowed a later editable install (``snnsim has no attribute
'Uniform'``). The README's two commands run one after the other are in
``test_readme_commands_in_sequence.py`` (slow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import snnsim.kernels
from snnsim.kernels.jit_options import kernels_fingerprint

PACKAGE_DIRS = [
    Path(snnsim.__file__).resolve().parent,
    Path(snnsim.kernels.__file__).resolve().parent,
]

# compiles one small kernel (a few seconds), then reports where its cache lives
_COMPILE_ONE = """
import json
import numpy as np
from snnsim.kernels import jit_options, random_streams
random_streams.stream_key(np.uint64(7), np.uint64(3))
print(json.dumps([jit_options.CACHE, jit_options.CACHE_DIR, jit_options.CACHE_SOURCE]))
"""


def _cache_files(folders: list[Path]) -> dict[Path, int]:
    """Numba cache files (index and data) under ``folders`` with their mtimes (ns)."""
    found = {}
    for folder in folders:
        for pattern in ("*.nbi", "*.nbc"):
            for path in folder.rglob(pattern):
                found[path] = path.stat().st_mtime_ns
    return found


def _env(**extra: str) -> dict[str, str]:
    dropped = ("NUMBA_CACHE_DIR", "SNNSIM_NO_CACHE", "SNNSIM_CACHE_DIR")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env


def _run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_kernel_cache_is_not_written_into_the_package(tmp_path: Path) -> None:
    """A compiled kernel is cached under SNNSIM_CACHE_DIR and nothing is written in the package."""
    before = _cache_files(PACKAGE_DIRS)
    cache = tmp_path / "cache"
    res = _run(_COMPILE_ONE, _env(SNNSIM_CACHE_DIR=str(cache)))
    assert res.returncode == 0, res.stderr
    enabled, folder, source = json.loads(res.stdout.splitlines()[-1])
    assert enabled and Path(folder).parent == cache and source == "SNNSIM_CACHE_DIR"
    assert Path(folder).name == f"kernels-{kernels_fingerprint()}"
    assert list(cache.rglob("random_streams.stream_key-*.nbi")), "no index in the cache folder"
    assert _cache_files(PACKAGE_DIRS) == before, "cache files were written into the package"


def test_default_cache_folder_is_per_user(tmp_path: Path) -> None:
    """Without variables the cache is $XDG_CACHE_HOME/snnsim/numba; NUMBA_CACHE_DIR wins."""
    xdg = tmp_path / "xdg"
    res = _run(_COMPILE_ONE, _env(XDG_CACHE_HOME=str(xdg)))
    assert res.returncode == 0, res.stderr
    enabled, folder, source = json.loads(res.stdout.splitlines()[-1])
    assert enabled and Path(folder).parent == xdg / "snnsim" / "numba" and source == "default"
    assert list((xdg / "snnsim" / "numba").rglob("*.nbi"))

    numba_dir = tmp_path / "numba_dir"
    code = "from snnsim.kernels import jit_options as j; print(j.CACHE_DIR, j.CACHE_SOURCE)"
    res = _run(code, _env(NUMBA_CACHE_DIR=str(numba_dir), SNNSIM_CACHE_DIR=str(tmp_path / "x")))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [
        str(numba_dir / f"kernels-{kernels_fingerprint()}"),
        "NUMBA_CACHE_DIR",
    ]


def test_cache_folder_follows_the_kernel_sources(tmp_path: Path) -> None:
    """Numba checks a cached kernel against its own file only: a changed callee in another
    kernel module would load stale code. Any change to kernels/ gives a new folder."""
    import shutil

    from snnsim.kernels import jit_options

    copy = tmp_path / "kernels"
    shutil.copytree(Path(jit_options.__file__).parent, copy)
    code = "import importlib.util, sys\n" + (
        "spec = importlib.util.spec_from_file_location('jo', sys.argv[1])\n"
        "jo = importlib.util.module_from_spec(spec); spec.loader.exec_module(jo)\n"
        "print(jo.kernels_fingerprint())"
    )
    first = _run(code, {**os.environ}, str(copy / "jit_options.py"))
    (copy / "neurons.py").write_text((copy / "neurons.py").read_text() + "\n# changed\n")
    second = _run(code, {**os.environ}, str(copy / "jit_options.py"))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.strip() == kernels_fingerprint()
    assert second.stdout.strip() != first.stdout.strip()


@pytest.mark.parametrize("variable", ["SNNSIM_CACHE_DIR", "NUMBA_CACHE_DIR"])
def test_unwritable_cache_folder_switches_the_cache_off(tmp_path: Path, variable: str) -> None:
    """An unwritable cache folder (read-only home) turns the disk cache off; kernels still run.

    A folder below a regular file cannot be created, even by root (a read-only bind mount
    would need privileges). Numba must neither crash ("no locator available") nor fall back
    to the package's ``__pycache__``.
    """
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    before = _cache_files(PACKAGE_DIRS)
    res = _run(_COMPILE_ONE + "\nimport snnsim.cli\nsnnsim.cli.main(['info'])", _env(**{
        variable: str(blocker / "cache")
    }))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert f"numba cache dir: off: {variable} folder" in res.stdout
    assert "not writable" in res.stdout and "to a writable folder" in res.stdout
    assert _cache_files(PACKAGE_DIRS) == before
