"""The ``snnsim`` command line: ``demo``, ``run``, ``info``, ``plot``, ``check`` and ``export``.

Errors raised by snnsim on purpose (:class:`~snnsim.errors.SnnsimError`) print one line to
stderr and exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from snnsim.errors import ParameterError, SnnsimError
from snnsim.paths import check_output_file

__all__ = ["build_parser", "main"]

#: Exit status for errors reported by snnsim (bad input, bad file).
EXIT_ERROR = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"{text!r} must be in [0, 2**64)")
    return value


# ------------------------------------------------------------------------------ commands
def _cmd_demo(args: argparse.Namespace) -> int:
    from snnsim.demo import run_demo

    run_demo(
        duration=args.duration,
        out_dir=args.out,
        seed=args.seed,
        threads=args.threads,
        progress=not args.quiet,
        quiet=args.quiet,
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import snnsim
    from snnsim.demo import format_summary

    if not os.path.isfile(args.file):
        raise ParameterError(f"snnsim run {args.file}: no such file")
    check_output_file(args.out, "snnsim run --out")  # before loading and running
    from snnsim.compilation import watch_compilation

    t_load = time.perf_counter()
    with watch_compilation(not args.quiet) as (watch, _):  # load compiles the run loop
        net = snnsim.load(args.file)
    load_s = time.perf_counter() - t_load
    watch.report()
    t_start = net.t
    engine = net.build(progress=not args.quiet)
    stats = net.run(args.duration, progress=not args.quiet)
    snnsim.save(net, args.out)
    result = {
        "neurons": net.size,
        "synapses": engine.n_synapses,
        "load_s": load_s - engine.compile_s,  # reading and checking the file, building
        "compile_s": engine.compile_s,
        "sim_ms": stats.sim_ms,
        "run_s": stats.wall_s,
        "spikes": stats.spikes,
        "mean_rate_hz": (
            stats.spikes / (net.size * stats.sim_ms * 1e-3) if stats.sim_ms > 0 else 0.0
        ),
        "events_per_s": stats.events_per_s,
        "updates_per_s": stats.updates_per_s,
        "real_time_factor": stats.real_time_factor,
    }
    if not args.quiet:
        title = f"{args.file}: {t_start:g} -> {net.t:g} ms"
        print(format_summary(result, title=title))
        print(f"wrote {args.out}")
    return 0


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def info() -> dict[str, Any]:
    """Versions, threading and cache settings of this installation.

    Returns
    -------
    dict
        Name -> value, in display order. Optional simulators (Brian2, NEST) are looked up
        from the package metadata without importing them.
    """
    import h5py
    import matplotlib
    import numba
    import numpy

    import snnsim

    out: dict[str, Any] = {
        "snnsim": snnsim.__version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "h5py": h5py.__version__,
        "HDF5": h5py.version.hdf5_version,
        "matplotlib": matplotlib.__version__,
    }
    for label, dists in (("brian2", ("brian2",)), ("nest", ("nest-simulator", "nest"))):
        found = next((v for v in map(_version, dists) if v is not None), None)
        out[label] = found if found is not None else "not installed"
    nb: Any = numba  # numba's configuration attributes are not typed
    try:
        layer = str(nb.threading_layer())
    except ValueError:  # no parallel kernel has run yet in this process
        layer = f"not yet chosen (NUMBA_THREADING_LAYER={nb.config.THREADING_LAYER})"
    threads = nb.get_num_threads()
    out["numba threads"] = f"{threads} (NUMBA_NUM_THREADS={nb.config.NUMBA_NUM_THREADS})"
    out["threading layer"] = layer
    out["numba cache dir"] = _cache_dir()
    out["CPU count"] = os.cpu_count()
    out["platform"] = platform.platform()
    return out


def _cache_dir() -> str:
    """Where compiled kernels are cached, and why there (see :mod:`snnsim.kernels.jit_options`)."""
    from snnsim.kernels import jit_options

    if not jit_options.CACHE:
        return jit_options.CACHE_SOURCE
    return f"{jit_options.CACHE_DIR} ({jit_options.CACHE_SOURCE})"


def _load_checkpoint(path: str, command: str, quiet: bool) -> Any:
    import snnsim
    from snnsim.compilation import watch_compilation

    if not os.path.isfile(path):
        raise ParameterError(f"snnsim {command} {path}: no such file")
    with watch_compilation(not quiet) as (watch, _):
        net = snnsim.load(path)
    watch.report()
    return net


def _cmd_check(args: argparse.Namespace) -> int:
    from snnsim import hardware

    net = _load_checkpoint(args.file, "check", quiet=True)
    report = hardware.check(net, args.target)
    print(report)
    return 0 if report.ok else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from snnsim import hardware

    check_output_file(args.out, "snnsim export --out")
    net = _load_checkpoint(args.file, "export", quiet=args.quiet)
    written = hardware.export(net, args.to, args.out, drop=tuple(args.drop))
    if not args.quiet:
        print(f"wrote {written}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    data = info()
    width = max(map(len, data))
    for key, value in data.items():
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    import numpy as np

    from snnsim.io import read_sonata_spikes
    from snnsim.plot import pyplot, raster

    if not os.path.isfile(args.file):
        raise ParameterError(f"snnsim plot {args.file}: no such file")
    plt = pyplot()
    # before reading anything: an image type matplotlib writes, in an existing folder
    formats = plt.gcf().canvas.get_supported_filetypes()
    plt.close("all")
    check_output_file(args.output, "snnsim plot -o", suffixes=formats)
    data = read_sonata_spikes(args.file)
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    offset = 0
    n_spikes = 0
    for k, (label, entry) in enumerate(data.items()):
        times, ids = _times_ids(entry)
        raster((np.asarray(times), ids + offset), ax=ax, color=f"C{k % 10}", s=2.0, label=label)
        n_spikes += int(ids.size)
        offset += int(ids.max()) + 1 if ids.size else 0
    if data:
        ax.legend(loc="upper right", markerscale=6)
    ax.set_title(os.path.basename(args.file))
    fig.savefig(args.output, dpi=120)
    plt.close(fig)
    print(f"{n_spikes} spikes in {len(data)} population(s) -> {args.output}")
    return 0


def _times_ids(entry: Any) -> tuple[Any, Any]:
    """Spike times and node ids of one population as returned by ``read_sonata_spikes``."""
    import numpy as np

    if isinstance(entry, dict):
        times, ids = entry["timestamps"], entry["node_ids"]
    else:
        times, ids = entry
    return np.asarray(times, dtype=np.float64), np.asarray(ids, dtype=np.int64)


# ------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``snnsim`` (one subparser per command)."""
    parser = argparse.ArgumentParser(
        prog="snnsim", description="Event-driven spiking neural network simulator."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_own_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser("demo", help="run the CUBA benchmark network and write a raster plot")
    demo.add_argument(
        "--duration",
        type=_positive_float,
        default=1000.0,
        metavar="MS",
        help="simulated time in ms (default 1000)",
    )
    demo.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="folder for cuba_raster.png and cuba_spikes.h5 (default .)",
    )
    demo.add_argument("--seed", type=_seed, default=1, metavar="N", help="network seed (default 1)")
    demo.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker threads (default: all cores)",
    )
    demo.add_argument("--quiet", action="store_true", help="print nothing")
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser("run", help="continue a saved network (snnsim HDF5) and save it")
    run.add_argument("file", metavar="FILE", help="snnsim HDF5 checkpoint")
    run.add_argument(
        "--duration", type=_positive_float, required=True, metavar="MS", help="simulated time in ms"
    )
    run.add_argument("--out", required=True, metavar="OUTFILE", help="checkpoint to write")
    run.add_argument("--quiet", action="store_true", help="no progress and no summary")
    run.set_defaults(func=_cmd_run)

    inf = sub.add_parser("info", help="versions, threads and cache of this installation")
    inf.set_defaults(func=_cmd_info)

    plot = sub.add_parser("plot", help="raster plot of a SONATA spike file")
    plot.add_argument("file", metavar="SPIKEFILE", help="SONATA spike report (HDF5)")
    plot.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PNG",
        help="image to write (.png, .pdf, .svg...; the folder must exist)",
    )
    plot.set_defaults(func=_cmd_plot)

    chk = sub.add_parser(
        "check", help="check a saved network against a board's design rules (exit 1: violations)"
    )
    chk.add_argument("file", metavar="FILE", help="snnsim HDF5 checkpoint")
    chk.add_argument(
        "--target",
        required=True,
        choices=["spinnaker1", "loihi1", "loihi2", "nir"],
        help="board or format whose limits to check",
    )
    chk.set_defaults(func=_cmd_check)

    exp = sub.add_parser("export", help="export a saved network to NIR, Lava-DL NetX or PyNN")
    exp.add_argument("file", metavar="FILE", help="snnsim HDF5 checkpoint")
    exp.add_argument("--to", required=True, choices=["nir", "netx", "pynn"], help="file format")
    exp.add_argument("--out", required=True, metavar="PATH", help="file to write")
    exp.add_argument(
        "--drop",
        nargs="*",
        default=[],
        metavar="RULE",
        help="design rules whose violations to leave out (recorded in the file)",
    )
    exp.add_argument("--quiet", action="store_true", help="print nothing")
    exp.set_defaults(func=_cmd_export)

    bench = sub.add_parser(
        "bench",
        help="side-by-side throughput benchmark vs Brian2 and NEST (needs a source checkout)",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments of the suite")
    return parser


def _own_version() -> str:
    return _version("snnsim") or "0.0.0+unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``snnsim`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a usage error or an error reported by snnsim.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # the suite parses its own options (argparse REMAINDER drops leading options)
        from snnsim.bench import main as bench_main

        return bench_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SnnsimError as err:
        print(f"snnsim {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as err:  # missing folder, permission denied, disk full
        print(f"snnsim {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"snnsim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
