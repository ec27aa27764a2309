"""The CUBA benchmark network (Brette et al. 2007), used by ``snnsim demo``.

Brette R. et al. (2007), "Simulation of networks of spiking neurons: a review of tools and
strategies", J. Comput. Neurosci. 23:349-398, benchmark 2 (CUBA), as in Brian2's
``examples/CUBA.py``: 4000 LIF neurons (80 % excitatory), 2 % random connectivity, current
synapses with exponential decay, resting potential above threshold so the network fires
without external input.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from snnsim.connectors import FixedProbability
from snnsim.distributions import Uniform
from snnsim.errors import ParameterError
from snnsim.models import LIF
from snnsim.monitors import RateRecorder, SpikeRecorder
from snnsim.network import Network

__all__ = ["CUBA_PARAMS", "W_EXC", "W_INH", "build_cuba", "demo_figure", "run_demo"]

#: Neuron parameters of the CUBA benchmark (Brian2 example ``CUBA.py``).
CUBA_PARAMS: dict[str, float] = {
    "tau_m": 20.0,
    "cm": 1.0,
    "v_rest": -49.0,
    "v_reset": -60.0,
    "v_thresh": -50.0,
    "tau_syn_exc": 5.0,
    "tau_syn_inh": 10.0,
    "tau_refrac": 5.0,
}
#: Excitatory weight, nA: Brian2's jump ``we = 60*0.27/10 mV`` times ``cm / tau_m``.
W_EXC = (60.0 * 0.27 / 10.0) * CUBA_PARAMS["cm"] / CUBA_PARAMS["tau_m"]
#: Inhibitory weight, nA: Brian2's jump ``wi = -20*4.5/10 mV`` times ``cm / tau_m``.
W_INH = (-20.0 * 4.5 / 10.0) * CUBA_PARAMS["cm"] / CUBA_PARAMS["tau_m"]
#: Synaptic delay, ms.
DELAY = 0.1


def build_cuba(
    n: int = 4000, seed: int = 1, dt: float = 0.1
) -> tuple[Network, dict[str, SpikeRecorder]]:
    """Describe the CUBA network (not yet built).

    Parameters
    ----------
    n : int
        Number of neurons (>= 5), 80 % excitatory. The connection probability is 0.02 for
        ``n = 4000`` and ``80 / n`` otherwise (80 inputs per neuron on average, as in the
        benchmark), capped at 1.
    seed : int
        Network seed (connectivity and initial membrane potentials).
    dt : float
        Time step, ms.

    Returns
    -------
    net : Network
        The network: populations ``"exc"`` and ``"inh"`` with the four projections.
    recorders : dict of str to SpikeRecorder
        Spike recorders of both populations, keyed ``"exc"`` and ``"inh"``.

    Raises
    ------
    ParameterError
        If ``n < 5``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 5:
        raise ParameterError(f"build_cuba(n={n!r}): n must be an integer >= 5")
    n = int(n)
    n_exc = (4 * n) // 5
    n_inh = n - n_exc
    p = 0.02 if n == 4000 else min(1.0, 80.0 / n)
    net = Network(dt=dt, seed=seed)
    model = LIF(**CUBA_PARAMS)
    exc = net.add_population(n_exc, model, label="exc")
    inh = net.add_population(n_inh, model, label="inh")
    for pop in (exc, inh):
        pop.initialize(v=Uniform(CUBA_PARAMS["v_reset"], CUBA_PARAMS["v_thresh"]))
    for post in (exc, inh):
        net.connect(
            exc,
            post,
            FixedProbability(p, allow_self=True),
            weight=W_EXC,
            delay=DELAY,
            receptor="exc",
        )
        net.connect(
            inh,
            post,
            FixedProbability(p, allow_self=True),
            weight=W_INH,
            delay=DELAY,
            receptor="inh",
        )
    recorders = {"exc": net.record_spikes(exc), "inh": net.record_spikes(inh)}
    return net, recorders


def run_demo(
    duration: float = 1000.0,
    out_dir: str | os.PathLike[str] = ".",
    seed: int = 1,
    threads: int | None = None,
    progress: bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    """Build and run the CUBA network, print a summary, write a raster PNG and SONATA spikes.

    Parameters
    ----------
    duration : float
        Simulated time, ms.
    out_dir : path-like
        Folder for ``cuba_raster.png`` and ``cuba_spikes.h5`` (created if missing).
    seed : int
        Network seed.
    threads : int, optional
        Worker threads (default: all cores); results do not depend on it.
    progress : bool
        Show run progress on stderr (ignored when ``quiet``).
    quiet : bool
        Print nothing.

    Returns
    -------
    dict
        ``neurons, synapses, build_s, compile_s, run_s, spikes, mean_rate_hz,
        events_per_s, updates_per_s, real_time_factor, raster, spikes_file``.
    """
    from snnsim.io import write_sonata_spikes

    os.makedirs(out_dir, exist_ok=True)
    t0 = time.perf_counter()
    net, recs = build_cuba(seed=seed)
    rate_recs = {label: net.record_rates(r.population, bin_size=1.0) for label, r in recs.items()}
    if threads is not None:
        net.threads = _check_threads(threads)
    describe_s = time.perf_counter() - t0
    engine = net.build(progress=progress and not quiet)
    stats = net.run(duration, progress=progress and not quiet)
    n = net.size
    result: dict[str, Any] = {
        "neurons": n,
        "synapses": engine.n_synapses,
        "build_s": describe_s + engine.build_s,
        "compile_s": engine.compile_s,
        "run_s": stats.wall_s,
        "sim_ms": stats.sim_ms,
        "spikes": stats.spikes,
        "mean_rate_hz": stats.spikes / (n * duration * 1e-3) if duration > 0 else 0.0,
        "synaptic_events": stats.synaptic_events,
        "events_per_s": stats.events_per_s,
        "updates_per_s": stats.updates_per_s,
        "real_time_factor": stats.real_time_factor,
    }
    if not quiet:
        print(format_summary(result, title=f"CUBA benchmark (Brette et al. 2007), seed {seed}"))
    raster_path = os.path.join(os.fspath(out_dir), "cuba_raster.png")
    spikes_path = os.path.join(os.fspath(out_dir), "cuba_spikes.h5")
    _raster_png(recs, rate_recs, raster_path, min(duration, 1000.0), seed, result["mean_rate_hz"])
    write_sonata_spikes(spikes_path, {label: (r.times, r.ids) for label, r in recs.items()})
    result["raster"] = raster_path
    result["spikes_file"] = spikes_path
    if not quiet:
        print(f"wrote {raster_path}\nwrote {spikes_path}")
    return result


def _check_threads(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ParameterError(f"threads={threads!r}: threads must be an integer >= 1")
    return int(threads)


def format_summary(result: dict[str, Any], title: str = "") -> str:
    """Format run numbers (as returned by :func:`run_demo`) as an aligned text block.

    Parameters
    ----------
    result : dict
        Any of the keys of :func:`run_demo`'s result, and ``load_s`` (``snnsim run``);
        missing keys are skipped.
    title : str
        First line.

    Returns
    -------
    str
        One line per number.
    """
    rows = [
        ("neurons", "neurons", "{:d}"),
        ("synapses", "synapses", "{:d}"),
        ("load_s", "load", "{:.3f} s"),
        ("build_s", "build", "{:.3f} s"),
        ("compile_s", "compile", "{:.3f} s"),
        ("sim_ms", "simulated", "{:.1f} ms"),
        ("run_s", "run", "{:.3f} s"),
        ("spikes", "spikes", "{:d}"),
        ("mean_rate_hz", "mean rate", "{:.2f} Hz"),
        ("events_per_s", "synaptic events/s", "{:.3e}"),
        ("updates_per_s", "neuron updates/s", "{:.3e}"),
        ("real_time_factor", "real-time factor", "{:.3f} (wall / simulated)"),
    ]
    lines = [title] if title else []
    for key, name, fmt in rows:
        if key in result:
            lines.append(f"  {name:<18} {fmt.format(result[key])}")
    return "\n".join(lines)


def _raster_png(
    recs: dict[str, SpikeRecorder],
    rate_recs: dict[str, RateRecorder],
    path: str,
    t_max: float,
    seed: int,
    mean_rate_hz: float,
) -> None:
    from snnsim.plot import pyplot

    fig = demo_figure(recs, rate_recs, t_max, seed, mean_rate_hz)
    fig.savefig(path, dpi=120)
    pyplot().close(fig)


def demo_figure(
    recs: dict[str, SpikeRecorder],
    rate_recs: dict[str, RateRecorder],
    t_max: float,
    seed: int,
    mean_rate_hz: float,
) -> Any:
    """Draw the demo's figure: a raster of every neuron above the population rates.

    The title states N, the seed and the mean rate; the legend sits above the raster,
    outside it, so that it hides no spike.

    Parameters
    ----------
    recs : dict of str to SpikeRecorder
        Spike recorders of whole populations, drawn from the bottom up.
    rate_recs : dict of str to RateRecorder
        Rate recorders, drawn in the lower panel.
    t_max : float
        End of the time axis, ms.
    seed : int
        Network seed (for the title).
    mean_rate_hz : float
        Mean rate over all neurons (for the title).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not saved, not closed).
    """
    from snnsim.plot import pyplot, raster, rates

    plt = pyplot()
    fig, (ax, ax_rate) = plt.subplots(
        2, 1, figsize=(9, 6), sharex=True, height_ratios=(3, 1), layout="constrained"
    )
    offset = 0
    sizes = []
    for k, (label, rec) in enumerate(recs.items()):
        sel = rec.times <= t_max
        raster((rec.times[sel], rec.ids[sel] + offset), ax=ax, color=f"C{k}", s=2.0, label=label)
        offset += rec.population.size
        sizes.append(f"{rec.population.size} {label}")
    for k, (label, rr) in enumerate(rate_recs.items()):
        rates(rr, ax=ax_rate, color=f"C{k}", lw=0.7, alpha=0.85, label=label)
    ax.set_xlabel("")
    ax.set_xlim(0.0, max(t_max, 1e-9))
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_title(
        f"CUBA network (Brette et al. 2007)\nN = {offset} neurons ({', '.join(sizes)}), "
        f"seed {seed}, mean rate {mean_rate_hz:.2f} Hz",
        loc="left",
        fontsize="medium",
    )
    # above the axes, right of the title: the legend covers no spike
    ax.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(recs), markerscale=6,
        frameon=False, borderaxespad=0.2,
    )  # fmt: skip
    if rate_recs:
        rr = next(iter(rate_recs.values()))
        ax_rate.set_ylabel(f"rate (Hz)\n{rr.bin_steps * rr.dt:g} ms bins")
    return fig
