"""Issue 8, section 1: the README's two commands, one after the other, in one fresh clone.

``pip install . && snnsim demo``, then ``pip install -q torch==2.13.0 && pip install -q -e
".[test,torch]"`` and test collection in
the same virtual environment. Before the fix, the demo left Numba cache files in
``site-packages/snnsim/kernels/__pycache__``; the uninstall before the editable install kept
``site-packages/snnsim/`` as a folder without ``__init__.py``, and collection failed with
``module 'snnsim' has no attribute 'Uniform'``.

The clone is of the committed ``HEAD``. The scratch environment reaches the dependencies
already installed here through a ``.pth`` file (a folder of links that leaves snnsim out),
so that nothing is downloaded but snnsim's own build requirements (from pip's index, as the
README's command does). Kernels are cached in a scratch ``XDG_CACHE_HOME``.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _sh(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _link_dependencies(target: Path) -> None:
    """Link every entry of this environment's site-packages into ``target``, except snnsim."""
    target.mkdir()
    for sp in site.getsitepackages():
        for entry in Path(sp).iterdir():
            name = entry.name.lower()
            if "snnsim" in name or name.startswith(("pip", "__pycache__")) or name.endswith(".pth"):
                continue
            link = target / entry.name
            if not link.exists():
                link.symlink_to(entry)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_install_demo_then_editable_install_and_collect(tmp_path: Path) -> None:
    """``pip install . && snnsim demo`` then the test extras and pytest collection."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of snnsim")
    head = _sh([git, "rev-parse", "HEAD"], ROOT, dict(os.environ)).stdout.strip()
    clone = tmp_path / "clone"
    res = _sh([git, "clone", "--quiet", str(ROOT), str(clone)], tmp_path, dict(os.environ))
    assert res.returncode == 0, res.stderr
    assert _sh([git, "checkout", "--quiet", head], clone, dict(os.environ)).returncode == 0

    venv = tmp_path / "venv"
    res = _sh([sys.executable, "-m", "venv", str(venv)], tmp_path, dict(os.environ))
    assert res.returncode == 0, res.stderr
    py = venv / "bin" / "python"
    new_site = _sh(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        tmp_path,
        dict(os.environ),
    ).stdout.strip()
    _link_dependencies(tmp_path / "deps")
    (Path(new_site) / "zz_snnsim_test_deps.pth").write_text(f"{tmp_path / 'deps'}\n")

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NUMBA_", "SNNSIM_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }

    # --- first README command: install and run the demo (shortened) ---------------------
    res = _sh([str(py), "-m", "pip", "install", "-q", "."], clone, env)
    assert res.returncode == 0, res.stdout + res.stderr
    demo_out = tmp_path / "demo"
    res = _sh(
        [str(venv / "bin" / "snnsim"), "demo", "--duration", "20", "--out", str(demo_out)],
        tmp_path,
        env,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (demo_out / "cuba_raster.png").exists()
    installed = Path(new_site) / "snnsim"
    in_package = [*installed.rglob("*.nbi"), *installed.rglob("*.nbc")]
    in_user_cache = list((tmp_path / "xdg" / "snnsim" / "numba").rglob("*.nbi"))

    # --- second README command in the same environment: editable install, collection -----
    res = _sh([str(py), "-m", "pip", "install", "-q", "torch==2.13.0"], clone, env)
    assert res.returncode == 0, res.stdout + res.stderr
    res = _sh([str(py), "-m", "pip", "install", "-q", "-e", ".[test,torch]"], clone, env)
    assert res.returncode == 0, res.stdout + res.stderr
    leftover = sorted(str(p.relative_to(installed)) for p in installed.rglob("*"))
    # what the tests see (importlib mode, the clone not on sys.path)
    probe = "import snnsim; print(snnsim.__file__, snnsim.Uniform.__name__)"
    imported = _sh([str(py), "-P", "-c", probe], clone / "tests", env)
    res = _sh(
        # -P: like the ``pytest`` script, do not put the clone itself on sys.path
        [str(py), "-P", "-m", "pytest", "--collect-only", "-q", "tests/unit"],
        clone,
        env,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == [str(clone / "snnsim" / "__init__.py"), "Uniform"]
    assert res.returncode == 0, res.stdout + res.stderr
    assert "has no attribute" not in res.stdout + res.stderr
    assert not leftover, f"{installed} survived the uninstall with {leftover[:5]}"
    assert not in_package, f"kernel cache files inside the installed package: {in_package[:3]}"
    assert in_user_cache, "no kernel cache files in the per-user cache folder"
