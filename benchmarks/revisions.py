r"""Two revisions of snnsim side by side: wall time of ``net.run`` at any thread count.

For "before and after" on a machine whose speed drifts (a shared VM): each revision is
checked out in a worktree of its own, and every round starts one process per revision, one
after the other, the order alternating between rounds, so both see the same drift. A process
builds the network once, runs 1 ms (loading or compiling every kernel), then runs it
``--runs`` times; the first timed run of each process is dropped. It prints per revision
the number of runs, the minimum, the 10th percentile, the quartile and the median, the
per-round ratio of the minima, and checks that both computed the same spikes::

    python benchmarks/revisions.py f6b446e HEAD --case cuba4k --threads 2 --rounds 12 --runs 20

Cases are those of :mod:`benchmarks.run_instructions` (networks of
:mod:`benchmarks.networks`, built by :mod:`benchmarks.snnsim_runner`, both taken from this
checkout, so the same network is built with each revision's API). Each revision gets its own
kernel cache (``--cache DIR`` keeps them between calls; a process per revision is run first
to compile or load its kernels, and not counted). Name revisions by commit hashes when
caches are kept: a cache is found by the name given.

Why a worktree per revision and an import shim: with an editable install, ``import snnsim``
from another folder on ``sys.path`` still takes ``snnsim.kernels`` and ``snnsim.hardware``
from the installed checkout (the editable finder maps those two packages to its top-level
folders), so a comparison would run one revision's kernels twice. The child process binds
both packages to the worktree's folders before importing snnsim and asserts where every
module came from.

Wall-clock only; for one thread prefer instruction counts
(:mod:`benchmarks.run_instructions` under callgrind), which do not drift.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _bind_tree(tree: Path) -> None:
    """Import ``snnsim`` (with its kernels and hardware packages) from ``tree``."""
    sys.path.insert(0, str(tree))
    for name, folder in (("snnsim.kernels", "kernels"), ("snnsim.hardware", "hardware")):
        if not (tree / folder / "__init__.py").exists():
            continue
        spec = importlib.util.spec_from_file_location(
            name, tree / folder / "__init__.py", submodule_search_locations=[str(tree / folder)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    import snnsim.kernels.simulation as sim

    import snnsim

    for mod in (snnsim, sim):
        assert str(mod.__file__).startswith(str(tree)), f"{mod.__name__} from {mod.__file__}"


def _load(name: str) -> Any:
    """Import a module of this checkout's ``benchmarks`` package (by file, not from a tree)."""
    if "benchmarks" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "benchmarks", HERE / "__init__.py", submodule_search_locations=[str(HERE)]
        )
        assert spec is not None and spec.loader is not None
        pkg = importlib.util.module_from_spec(spec)
        sys.modules["benchmarks"] = pkg
        spec.loader.exec_module(pkg)
    return importlib.import_module(f"benchmarks.{name}")


def child(tree: Path, case: str, threads: int, runs: int, precision: str) -> None:
    """Build ``case`` with the snnsim of ``tree``; print one JSON line per timed run."""
    _bind_tree(tree)
    cases = _load("run_instructions").CASES
    build = _load("snnsim_runner").build_snnsim_network
    arrays = cases[case]()
    net, _ = build(arrays, threads=threads, precision=precision)
    net.build()
    net.run(1.0)
    for r in range(runs):
        stats = net.run(arrays.duration - 1.0)
        print(json.dumps({"run": r, "wall_s": stats.wall_s, "spikes": stats.spikes}), flush=True)


def _worktree(rev: str, where: Path) -> Path:
    """Check ``rev`` out (detached) in a new worktree under ``where``."""
    path = where / rev.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(path), rev],
        check=True,
    )
    return path


def _run_child(
    tree: Path, cache: Path, args: argparse.Namespace, runs: int
) -> list[dict[str, Any]]:
    """Run one child process on ``tree``; return its timed runs."""
    env = dict(os.environ, SNNSIM_CACHE_DIR=str(cache))
    cmd = [sys.executable, __file__, "--child", str(tree), "--case", args.case, "--threads",
           str(args.threads), "--runs", str(runs), "--precision", args.precision]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{tree}: the run failed\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def summary(walls: list[float]) -> dict[str, float]:
    """Minimum, 10th percentile, quartile and median of wall times (s)."""
    a = np.sort(np.asarray(walls))
    return {
        "n": float(a.size),
        "min": float(a[0]),
        "p10": float(np.quantile(a, 0.1)),
        "q25": float(np.quantile(a, 0.25)),
        "median": float(np.median(a)),
    }


def compare(args: argparse.Namespace) -> int:
    """Run the rounds and print the comparison."""
    revs = [args.before, args.after]
    with tempfile.TemporaryDirectory(prefix="snnsim-revisions-") as tmp:
        where = Path(tmp)
        trees = [_worktree(rev, where) for rev in revs]
        base = Path(args.cache) if args.cache else where
        caches = [base / f"cache-{rev}" for rev in revs]
        try:
            for tree, cache in zip(trees, caches, strict=True):  # compile: not counted
                _run_child(tree, cache, args, 1)
            walls: list[list[float]] = [[], []]
            spikes: list[list[int]] = [[], []]
            ratios = []
            for r in range(args.rounds):
                order = (0, 1) if r % 2 == 0 else (1, 0)
                mins = [0.0, 0.0]
                for i in order:
                    rows = _run_child(trees[i], caches[i], args, args.runs)[1:]
                    walls[i] += [row["wall_s"] for row in rows]
                    spikes[i] += [row["spikes"] for row in rows]
                    mins[i] = min(row["wall_s"] for row in rows)
                ratios.append(mins[1] / mins[0])
                print(f"round {r + 1}: minimum {mins[0]:.4f} -> {mins[1]:.4f} s "
                      f"(after / before {ratios[-1]:.3f})", flush=True)  # fmt: skip
        finally:
            for tree in trees:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                    check=False,
                )
    same = spikes[0] == spikes[1]
    print(f"\n{args.case}, {args.threads} thread(s), {args.precision}, {args.rounds} rounds of "
          f"{args.runs - 1} runs; spikes {'identical' if same else 'DIFFER'}")  # fmt: skip
    s = [summary(w) for w in walls]
    for key in ("min", "p10", "q25", "median"):
        print(f"  {key:>6}: {revs[0]} {s[0][key]:.4f} s, {revs[1]} {s[1][key]:.4f} s "
              f"({100 * (s[1][key] / s[0][key] - 1):+.1f} %)")  # fmt: skip
    print(f"  per-round ratio of minima: median {float(np.median(ratios)):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f})")  # fmt: skip
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", nargs="?", help="git revision measured first")
    parser.add_argument("after", nargs="?", help="git revision compared with it")
    parser.add_argument("--case", default="cuba4k", help="a case of run_instructions.CASES")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="double", choices=("double", "single"))
    parser.add_argument("--rounds", type=int, default=10, help="processes per revision")
    parser.add_argument("--runs", type=int, default=15, help="runs per process (first dropped)")
    parser.add_argument(
        "--cache", help="folder for the revisions' kernel caches, kept between calls (default: a "
        "temporary one, so every call compiles both revisions once)",
    )  # fmt: skip
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.case, args.threads, args.runs, args.precision)
        return 0
    if not args.before or not args.after:
        parser.error("give two revisions: BEFORE AFTER")
    if args.runs < 2 or args.rounds < 1:
        parser.error("--runs must be >= 2 (the first is dropped) and --rounds >= 1")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
