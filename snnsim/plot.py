"""Quick-look plots of recordings: spike rasters, state traces, population rates and weights.

Matplotlib is imported inside the functions (it is slow to import), with the
non-interactive ``Agg`` backend when no display is available. Every function draws into
``ax`` (a new figure when omitted) and returns the matplotlib ``Axes``.

>>> import snnsim as snn
>>> net = snn.Network(dt=0.1, seed=1)
>>> pop = net.add_population(10, snn.LIF(i_offset=2.0), label="pop")
>>> spikes = net.record_spikes(pop)
>>> net.run(100.0)
>>> ax = snn.plot.raster(spikes, color="k")
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from snnsim.errors import ParameterError
from snnsim.monitors import RateRecorder, SpikeRecorder, StateRecorder, WeightRecorder
from snnsim.projections import Projection

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "pyplot",
    "raster",
    "rates",
    "spinnaker_mapping",
    "traces",
    "weight_histogram",
    "weights_over_time",
]


def pyplot() -> Any:
    """Import ``matplotlib.pyplot``, selecting ``Agg`` when there is no display."""
    import matplotlib

    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if "matplotlib.pyplot" not in sys.modules and not (
        has_display or sys.platform in ("darwin", "win32")
    ):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    plt = pyplot()
    _, new_ax = plt.subplots(figsize=(8, 4), layout="constrained")
    return new_ax  # type: ignore[no-any-return]


def raster(spikes: SpikeRecorder | tuple[Any, Any], ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Raster plot: one dot per spike, time on x, neuron index on y.

    Parameters
    ----------
    spikes : SpikeRecorder or tuple of (times, ids)
        A spike recorder, or spike times (ms) and neuron indices of equal length.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    **kwargs
        Passed to ``ax.scatter`` (defaults: ``s=1``, ``marker="."``, ``linewidths=0``), e.g.
        ``color="k"``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Raises
    ------
    ParameterError
        If ``spikes`` is neither a recorder nor a pair of equally long arrays.
    """
    if isinstance(spikes, SpikeRecorder):
        times, ids = spikes.times, spikes.ids
        label = spikes.label
    elif isinstance(spikes, tuple) and len(spikes) == 2:
        times = np.asarray(spikes[0], dtype=np.float64).reshape(-1)
        ids = np.asarray(spikes[1]).reshape(-1)
        label = None
        if times.shape != ids.shape:
            raise ParameterError(
                f"raster((times, ids)): times has {times.size} entries and ids {ids.size}; "
                "they must match"
            )
    else:
        raise ParameterError(
            f"raster(spikes={spikes!r}): expected a SpikeRecorder or a (times, ids) tuple"
        )
    ax = _axes(ax)
    opts: dict[str, Any] = {"s": 1.0, "marker": ".", "linewidths": 0}
    opts.update(kwargs)
    if label is not None and "label" not in opts:
        opts["label"] = label
    ax.scatter(times, ids, **opts)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    return ax


def traces(
    trace: StateRecorder, variable: str | None = None, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot one recorded state variable over time, one line per recorded neuron.

    Parameters
    ----------
    trace : StateRecorder
        The recorder returned by :meth:`Network.record_state`.
    variable : str, optional
        Variable to plot (default: the first one recorded).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    **kwargs
        Passed to ``ax.plot`` (e.g. ``color="C1"``, ``lw=0.8``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into; the y label carries the variable's unit (e.g. ``v (mV)``).

    Raises
    ------
    ParameterError
        If ``trace`` is not a state recorder or ``variable`` was not recorded.
    """
    if not isinstance(trace, StateRecorder):
        raise ParameterError(f"traces(trace={trace!r}): expected a StateRecorder")
    if variable is None:
        variable = trace.variables[0]
    if variable not in trace.variables:
        raise ParameterError(
            f"traces(variable={variable!r}): not recorded; recorded: {', '.join(trace.variables)}"
        )
    ax = _axes(ax)
    data = trace[variable]
    times = trace.times
    for col, neuron in enumerate(trace.indices):
        opts: dict[str, Any] = {"label": f"{trace.label}[{int(neuron)}]"}
        opts.update(kwargs)
        ax.plot(times, data[:, col], **opts)
    unit = trace.population.model.units.get(variable, "")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{variable} ({unit})" if unit else variable)
    return ax


def rates(rate_recorder: RateRecorder, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot the population rate (Hz) of a :class:`RateRecorder` as a step line.

    Parameters
    ----------
    rate_recorder : RateRecorder
        The recorder returned by :meth:`Network.record_rates`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    **kwargs
        Passed to ``ax.plot`` (default ``drawstyle="steps-post"``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Raises
    ------
    ParameterError
        If ``rate_recorder`` is not a rate recorder.
    """
    if not isinstance(rate_recorder, RateRecorder):
        raise ParameterError(f"rates(rate_recorder={rate_recorder!r}): expected a RateRecorder")
    ax = _axes(ax)
    opts: dict[str, Any] = {"drawstyle": "steps-post", "label": rate_recorder.label}
    opts.update(kwargs)
    ax.plot(rate_recorder.times, rate_recorder.rates, **opts)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    return ax


def weight_histogram(
    weights: Projection | Any, ax: Axes | None = None, bins: int | Any = 50, **kwargs: Any
) -> Axes:
    """Histogram of synaptic weights: of a projection now, or of given values.

    Parameters
    ----------
    weights : Projection or array of float
        A projection (its weights as :meth:`Projection.get` returns them now) or weights,
        e.g. a row of :attr:`WeightRecorder.values` (``rec.values[-1]``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    bins : int or array
        Number of bins or bin edges (passed to ``ax.hist``).
    **kwargs
        Passed to ``ax.hist`` (e.g. ``color="C2"``, ``log=True``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Raises
    ------
    ParameterError
        If ``weights`` is neither a projection nor a 1-D array of finite numbers.
    """
    label = None
    if isinstance(weights, Projection):
        values = weights.table().weight
        label = weights.label
    else:
        values = np.asarray(weights)
        if values.ndim != 1 or values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
            raise ParameterError(
                f"weight_histogram(weights=...): expected a Projection or a 1-D array of finite "
                f"weights, got shape {values.shape} dtype {values.dtype} (use rec.values[k] "
                "for the k-th sample of a WeightRecorder)"
            )
    ax = _axes(ax)
    opts: dict[str, Any] = {"bins": bins}
    if label is not None:
        opts["label"] = label
    opts.update(kwargs)
    ax.hist(values.astype(np.float64), **opts)
    ax.set_xlabel("weight (nA)")
    ax.set_ylabel("synapses")
    return ax


def weights_over_time(
    recorder: WeightRecorder, ax: Axes | None = None, max_lines: int = 50, **kwargs: Any
) -> Axes:
    """Plot recorded weights over time: one line per synapse (at most ``max_lines``).

    Parameters
    ----------
    recorder : WeightRecorder
        The recorder returned by :meth:`Network.record_weights`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    max_lines : int
        Draw at most this many synapses (the first ones recorded); the mean over all
        recorded synapses is drawn as a thick black line.
    **kwargs
        Passed to ``ax.plot`` for the per-synapse lines (default ``lw=0.8``, ``alpha=0.6``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Raises
    ------
    ParameterError
        If ``recorder`` is not a weight recorder or ``max_lines < 0``.
    """
    if not isinstance(recorder, WeightRecorder):
        raise ParameterError(
            f"weights_over_time(recorder={recorder!r}): expected a WeightRecorder "
            "(net.record_weights(proj, every=...))"
        )
    if max_lines < 0:
        raise ParameterError(f"weights_over_time(max_lines={max_lines!r}): must be >= 0")
    ax = _axes(ax)
    times, values = recorder.times, recorder.values
    opts: dict[str, Any] = {"lw": 0.8, "alpha": 0.6}
    opts.update(kwargs)
    if max_lines and values.shape[1]:
        ax.plot(times, values[:, :max_lines], **opts)
    if values.shape[1]:
        ax.plot(times, values.mean(axis=1), color="k", lw=2.0, label=f"{recorder.label} mean")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("weight (nA)")
    return ax


def spinnaker_mapping(net_or_mapping: Any, path: Any = None, **options: Any) -> Any:
    """Plot how a network maps onto SpiNNaker: populations -> cores -> chips, rows, delays.

    Parameters
    ----------
    net_or_mapping : Network or SpinnakerMapping
        A network (mapped with :func:`snnsim.hardware.spinnaker.map_network` and
        ``options``) or a mapping already computed.
    path : str or Path, optional
        Also save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
        Cores grouped by chip with their routing keys, synaptic-row lengths, and the delay
        slots of each core with the reach of its delay extensions.
    """
    from snnsim.hardware.spinnaker import SpinnakerMapping, map_network
    from snnsim.hardware.spinnaker_plot import plot_mapping

    mapping = net_or_mapping
    if not isinstance(mapping, SpinnakerMapping):
        mapping = map_network(net_or_mapping, **options)
    return plot_mapping(mapping, path)
