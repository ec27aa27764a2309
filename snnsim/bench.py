"""``snnsim bench``: run the side-by-side benchmark suite of a source checkout.

The suite lives in the repository's ``benchmarks/`` package, which is not installed with
snnsim. This module finds it (in the current working directory or next to the snnsim source
tree) and calls ``benchmarks.compare.main``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["find_benchmarks", "main"]

_USAGE_NOTE = (
    "usage: snnsim bench [cuba|scaled|event|sparse|microcircuit|machine|all] [--sizes N ...] "
    "[--scales S ...] [--with brian2,nest] [--repeats N] [--threads T ...] [--duration MS] "
    "[--quick] [--out DIR] [--readme README.md]"
)

#: ``snnsim bench --help`` when the suite is not there (its own ``--help`` lists everything).
_HELP = f"""{_USAGE_NOTE}

Side-by-side benchmark of snnsim against Brian2 and NEST on identical networks: run time,
build and compile time, synaptic events/s, real-time factor, peak memory and bytes per
synapse, with ratios to the peers measured in the same run.

cases:
  cuba          Brette et al. (2007) CUBA, the network of `snnsim demo`: N = 4000, 1 s
  scaled        CUBA with in-degree 80 at N = 4000 to 256000 (1000000 selectable)
  event         N = 8000, in-degree 1000: synaptic events outnumber neuron updates
  sparse        N = 256000 below 1 Hz, delays up to 20 ms: event-driven updates
  microcircuit  Potjans & Diesmann (2014) at scales 0.1 and 1.0
  machine       streaming bandwidth and scatter-add throughput of this machine
  all           every case

main options:
  --with brian2,nest   peers to run (default: those installed; `none` for snnsim alone)
  --quick              a few minutes: small sizes, 100 ms, one repeat
  --out DIR            folder for the JSON results and the plots
  --readme README.md   update the benchmark table of a README
"""

_NEEDS = (
    "snnsim bench: the benchmark suite needs a source checkout of snnsim (a folder "
    "with benchmarks/compare.py); it is not installed with the package. Clone the "
    "repository and run `snnsim bench` from inside it (or `python benchmarks/compare.py`); "
    "Brian2 and NEST come with `pip install -e '.[bench]'` there."
)


def _is_suite(path: Path) -> bool:
    return (path / "compare.py").is_file() and (path / "networks.py").is_file()


def find_benchmarks(cwd: Path | None = None) -> Path | None:
    """Locate the repository's ``benchmarks/`` folder.

    Parameters
    ----------
    cwd : pathlib.Path, optional
        Folder to search first, with its parents (default: the current working directory).

    Returns
    -------
    pathlib.Path or None
        The ``benchmarks`` folder, or None when neither ``cwd`` (nor a parent) nor the snnsim
        source tree (``Path(snnsim.__file__).parents[1]``) holds one.
    """
    import snnsim

    start = (cwd or Path.cwd()).resolve()
    candidates = [d / "benchmarks" for d in (start, *start.parents)]
    candidates.append(Path(snnsim.__file__).resolve().parents[1] / "benchmarks")
    for cand in candidates:
        if _is_suite(cand):
            return cand
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``snnsim bench [case] [options]``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after ``bench`` (default: ``sys.argv[1:]``), passed on to
        ``benchmarks.compare.main``; ``-h`` lists them all.

    Returns
    -------
    int
        Exit status: 0 on success (and for ``--help``, also without the suite), 1 if a
        simulator failed, 2 if the suite was not found.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    suite = find_benchmarks()
    if suite is None:
        if {"-h", "--help"} & set(args):
            # asking for help is not an error: show it, then what running it needs
            sys.stdout.write(f"{_HELP}\n{_NEEDS}\n")
            return 0
        sys.stderr.write(f"{_NEEDS}\n{_USAGE_NOTE}\n")
        return 2
    root = str(suite.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    loaded = sys.modules.get("benchmarks")
    loaded_file = getattr(loaded, "__file__", None) if loaded is not None else None
    if loaded_file is not None and Path(loaded_file).resolve().parent != suite.resolve():
        for name in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
            del sys.modules[name]
    compare = importlib.import_module("benchmarks.compare")
    status = compare.main(args)
    return int(status)
