r"""Where the time of an STDP run goes, by compiled function, with ``perf``.

Numba's compiled code has no symbols that ``perf`` can read, so its samples land on bare
addresses. This script compiles the run loop in memory (the on-disk cache off, so that the
machine code of every function linked into the run loop is at hand; the first compile
takes a minute or two), writes the ``/tmp/perf-<pid>.map`` file through which ``perf``
names JIT code, then runs the ``stdp`` case's network
(:func:`benchmarks.networks.cuba_stdp`, float64, 1 thread) under ``perf record`` attached
to itself, and prints the share of each function::

    python benchmarks/stdp_profile.py 4000 [--duration 3000] [--static]

``--static`` profiles the same network without plasticity. Functions that Numba inlines
(``history_append``, ``touch_histories``, ...) count toward their callers
(``deliver_plastic_chunk``, ``append_histories``). Needs ``perf`` (Linux) with
permission to attach to one's own processes (``kernel.perf_event_paranoid`` <= 2). Without
``perf`` it only prints the run time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SNNSIM_NO_CACHE", "1")  # before snnsim decorates its kernels
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import networks
from benchmarks.snnsim_runner import build_snnsim_network


def write_perf_map(dispatchers: list[object]) -> int:
    """Write ``/tmp/perf-<pid>.map`` for the functions linked into ``dispatchers``' code.

    Returns the number of functions named. Sizes run to the next function's address (the
    map format needs one; Numba gives none).
    """
    syms: list[tuple[int, str]] = []
    for disp in dispatchers:
        for cres in disp.overloads.values():  # type: ignore[attr-defined]
            lib = cres.library
            for fn in lib._final_module.functions:  # Numba keeps no public list of them
                if fn.is_declaration:
                    continue
                addr = lib.get_pointer_to_function(fn.name)
                if addr:
                    syms.append((addr, re.sub(r"B\d+v\d+B.*", "", fn.name)))
    syms.sort()
    with open(f"/tmp/perf-{os.getpid()}.map", "w", encoding="ascii") as fh:
        for k, (addr, name) in enumerate(syms):
            size = syms[k + 1][0] - addr if k + 1 < len(syms) else 1 << 16
            fh.write(f"{addr:x} {size:x} {name}\n")
    return len(syms)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=4000)
    parser.add_argument("--duration", type=float, default=3000.0, help="ms profiled")
    parser.add_argument("--static", action="store_true", help="without plasticity")
    args = parser.parse_args(argv)
    from snnsim.kernels import simulation

    arrays = networks.cuba_stdp(args.n, duration=args.duration)
    net, rec = build_snnsim_network(arrays, 1, "double", plastic=not args.static)
    net.build()
    net.run(10.0)  # compiles the run loop
    named = write_perf_map([simulation.run_segment_serial])
    perf = shutil.which("perf")
    out = Path(tempfile.mkdtemp(prefix="snnsim-perf-")) / "perf.data"
    proc = None
    if perf is not None:
        cmd = [perf, "record", "-F", "2000", "-p", str(os.getpid()), "-o", str(out)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # perf attaches
    t0 = time.perf_counter()
    net.run(args.duration)
    wall = time.perf_counter() - t0
    kind = "static" if args.static else "plastic"
    print(f"N={args.n} ({kind}): {args.duration:g} ms in {wall:.3f} s, {rec.count} spikes")
    if proc is None:
        print("perf not found: no profile")
        return 0
    proc.send_signal(2)  # SIGINT: perf writes its file and exits
    proc.wait(timeout=60)
    report = subprocess.run(
        [perf, "report", "-i", str(out), "--no-children", "--sort", "symbol", "--stdio"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    print(f"share of samples by function ({named} compiled functions named):")
    shown = 0
    for line in report.stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        print("  " + " ".join(line.split()[:1] + line.split()[2:3]))
        shown += 1
        if shown == 12:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
