"""Plot of a SpiNNaker mapping: populations -> cores -> chips, row sizes, delay slots.

>>> from snnsim.hardware.spinnaker import map_network
>>> from snnsim.hardware.spinnaker_plot import plot_mapping
>>> fig = plot_mapping(map_network(net), path="mapping.png")  # doctest: +SKIP

Three panels drawn with matplotlib (``Agg`` when there is no display, as ``snn.plot``):

1. **Cores**: one bar per core (population cores, then delay-extension cores) of height
   ``n_atoms``, coloured by population, grouped by chip (dashed lines between chips; the
   chips of a sequential placement with 17 application cores per chip, an estimate of
   sPyNNaker's placer), annotated with the core's routing key.
2. **Synaptic rows**: the distribution of row lengths (synapses per presynaptic neuron and
   post core), undelayed and delayed, against the 256-synapse row limit.
3. **Delay slots**: ring-buffer delay slots per core, and the delay reach
   ``(1 + n_stages) * slots`` given by each population's delay extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from snnsim.hardware.spinnaker import SpinnakerMapping
from snnsim.hardware.spinnaker_rules import CORES_PER_CHIP, MAX_ROW_LENGTH

from snnsim.plot import pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_mapping"]


def plot_mapping(mapping: SpinnakerMapping, path: str | Path | None = None) -> Figure:
    """Draw ``mapping`` (see the module docstring); save it to ``path`` when given.

    Parameters
    ----------
    mapping : SpinnakerMapping
        Result of :func:`snnsim.hardware.spinnaker.map_network`.
    path : str or Path, optional
        Image file to write (format from the suffix, e.g. ``.png``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    fig: Figure
    fig, (ax_cores, ax_rows, ax_delay) = plt.subplots(
        3, 1, figsize=(10, 9), gridspec_kw={"height_ratios": [2, 1, 1]}
    )
    labels = list(dict.fromkeys(c.population for c in mapping.cores))
    colours = plt.get_cmap("tab10")
    colour_of = {lab: colours(i % 10) for i, lab in enumerate(labels)}

    bars: list[tuple[str, int, str, Any]] = []  # (label, n_atoms, key text, colour)
    for c in mapping.cores:
        key = "-" if c.key is None else f"{c.key:#x}"
        bars.append((c.population, c.n_atoms, key, colour_of[c.population]))
    for ext in mapping.delay_extensions:
        for dc in ext.cores:
            bars.append(
                (f"{ext.population} delay", dc.hi_atom - dc.lo_atom + 1, f"{dc.key:#x}", "0.6")
            )
    x = np.arange(len(bars))
    ax_cores.bar(x, [b[1] for b in bars], color=[b[3] for b in bars], edgecolor="k")
    for i, (_, n, key, _) in enumerate(bars):
        ax_cores.text(i, n, key, ha="center", va="bottom", fontsize=7, rotation=90)
    for chip_edge in range(CORES_PER_CHIP, len(bars), CORES_PER_CHIP):
        ax_cores.axvline(chip_edge - 0.5, color="k", linestyle="--", linewidth=0.8)
    ax_cores.set_xticks(x)
    ax_cores.set_xticklabels([b[0] for b in bars], rotation=90, fontsize=7)
    ax_cores.set_ylabel("neurons on core")
    n_chips = max(1, -(-len(bars) // CORES_PER_CHIP))
    ax_cores.set_title(
        f"{len(mapping.cores)} population cores + "
        f"{sum(len(e.cores) for e in mapping.delay_extensions)} delay-extension cores on "
        f"~{n_chips} chip(s) (dt={mapping.dt} ms)"
    )

    lengths = [r.size for rows in mapping.rows.values() for r in rows if r.size]
    delayed = [r.size for rows in mapping.delayed_rows.values() for r in rows if r.size]
    top = max([1, *lengths, *delayed])
    bins = np.arange(0, top + 2) - 0.5 if top < 60 else 30
    if lengths:
        ax_rows.hist(lengths, bins=bins, alpha=0.7, label="undelayed rows")
    if delayed:
        ax_rows.hist(delayed, bins=bins, alpha=0.7, label="delay-extension rows")
    if top > MAX_ROW_LENGTH / 2:
        ax_rows.axvline(MAX_ROW_LENGTH, color="r", label="row limit")
    ax_rows.set_xlabel("synapses per row (one presynaptic neuron -> one core)")
    ax_rows.set_ylabel("rows")
    if lengths or delayed:
        ax_rows.legend(fontsize=8)

    post = [c for c in mapping.cores if c.delay_slots]
    ax_delay.bar(
        np.arange(len(post)), [c.delay_slots for c in post],
        color=[colour_of[c.population] for c in post], edgecolor="k", label="delay slots",
    )  # fmt: skip
    reach = {
        e.population: (1 + e.n_delay_stages) * e.delay_per_stage for e in mapping.delay_extensions
    }
    for lab, ticks in reach.items():
        ax_delay.axhline(ticks, linestyle=":", color=colour_of.get(lab, "k"),
                         label=f"{lab} + delay extension: {ticks} ticks")  # fmt: skip
    ax_delay.set_xticks(np.arange(len(post)))
    ax_delay.set_xticklabels(
        [f"{c.population}[{c.lo_atom}]" for c in post], rotation=90, fontsize=7
    )
    ax_delay.set_ylabel("delay (ticks)")
    if post:
        ax_delay.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
