"""Packaging guards for the kernels/ and hardware/ folders (design.md section 2)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _listed_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def _package_dirs() -> dict[str, Path]:
    """Every folder with an __init__.py under the mapped roots, by dotted package name."""
    found = {}
    for root, name in (
        ("snnsim", "snnsim"),
        ("kernels", "snnsim.kernels"),
        ("hardware", "snnsim.hardware"),
    ):
        for init in (ROOT / root).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / root)
            dotted = ".".join([name, *rel.parts]) if rel.parts else name
            found[dotted] = init.parent
    return found


def test_every_package_folder_is_listed() -> None:
    """Every folder with an __init__.py is in the explicit pyproject package list."""
    assert set(_package_dirs()) == _listed_packages()


def test_every_mapped_folder_has_init() -> None:
    """Every folder under kernels/ and hardware/ holding Python files has an __init__.py."""
    for root in ("kernels", "hardware"):
        for py in (ROOT / root).rglob("*.py"):
            if "__pycache__" in py.parts:
                continue
            assert (py.parent / "__init__.py").exists(), py.parent


def test_mapped_packages_are_not_top_level() -> None:
    """``kernels`` and ``hardware`` are reached as snnsim.kernels / snnsim.hardware."""
    import snnsim.hardware
    import snnsim.kernels

    assert Path(snnsim.kernels.__file__).parent == ROOT / "kernels"
    assert Path(snnsim.hardware.__file__).parent == ROOT / "hardware"


@pytest.mark.timeout(600)
def test_wheel_contains_every_package(tmp_path: Path) -> None:
    """A built wheel holds every package under snnsim/ and no top-level kernels/hardware."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("snnsim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for dotted, folder in _package_dirs().items():
        prefix = dotted.replace(".", "/") + "/"
        for py in folder.glob("*.py"):
            assert prefix + py.name in names, (prefix + py.name, "missing from wheel")
    tops = {n.split("/")[0] for n in names}
    assert "kernels" not in tops and "hardware" not in tops
    assert "snnsim/py.typed" in names
