"""Issue 8, section 9: ``snnsim bench --help`` outside a source checkout shows the help.

Before the fix it exited with status 2 and only said that a checkout was needed. Asking for
help is not an error: the help is shown (exit 0), followed by what running the suite needs.
Without ``--help`` the missing suite is still an error (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import snnsim
from snnsim import bench
from snnsim.cli import main


@pytest.fixture
def outside_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder with snnsim apparently installed in site-packages."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(snnsim, "__file__", str(tmp_path / "site" / "snnsim" / "__init__.py"))
    assert bench.find_benchmarks() is None


@pytest.mark.usefixtures("outside_checkout")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_bench_help_without_suite(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``snnsim bench --help``: exit 0, usage, the cases, then what is needed to run it."""
    assert main(["bench", flag]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: snnsim bench")
    for case in ("cuba", "scaled", "event", "sparse", "microcircuit", "machine", "all"):
        assert f"\n  {case} " in out
    assert out.index("--quick") < out.index("needs a source checkout")
    assert "Clone the repository" in out and ".[bench]" in out


@pytest.mark.usefixtures("outside_checkout")
def test_bench_run_without_suite_is_still_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``snnsim bench cuba`` outside a checkout: exit 2 and the same explanation on stderr."""
    assert main(["bench", "cuba"]) == 2
    captured = capsys.readouterr()
    assert "needs a source checkout" in captured.err and captured.out == ""


def test_bench_help_in_checkout_is_the_suites_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a checkout ``--help`` is the suite's own full help (argparse, exit 0)."""
    if bench.find_benchmarks() is None:
        pytest.skip("not run from a source checkout")
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--help"])
    assert exc.value.code == 0
    assert "--statistical-tolerance" in capsys.readouterr().out
