r"""NIR mappings of the discrete-time (snnTorch) neurons ``Leaky``, ``RLeaky`` and ``CubaLIF``.

Used by :mod:`snnsim.hardware.nir` through its tables ``EXPORTERS`` and ``IMPORTERS``.

snnTorch convention
-------------------
snnTorch's ``export_to_nir`` / ``import_from_nir`` (1.0) read a NIR node as the forward-Euler
step of its ODE with the step ``dt`` (hard-coded ``1e-4`` s), a spike being the value 1 for
one step. NIR's ``LIF`` :math:`\tau \dot v = (v_{leak} - v) + R I` then steps as
:math:`v \leftarrow (1 - dt/\tau) v + (R\,dt/\tau) I`, and ``CubaLIF``
(:math:`\tau_{syn} \dot I = -I + w_{in} S`) as :math:`I \leftarrow (1 - dt/\tau_{syn}) I +
(w_{in} dt/\tau_{syn}) S`, :math:`v \leftarrow (1 - dt/\tau_{mem}) v + (R\,dt/\tau_{mem}) I`
(the new ``I``). So the exporter writes, per neuron and in seconds,

* ``Leaky`` / ``RLeaky`` -> ``LIF``: ``tau = dt/(1 - beta)``, ``r = tau/dt``, ``v_leak = 0``,
  ``v_reset = 0``, ``v_threshold = threshold``;
* ``CubaLIF`` -> ``CubaLIF``: ``tau_mem = dt/(1 - beta)``, ``tau_syn = dt/(1 - alpha)``,
  ``r = tau_mem/dt``, ``w_in = tau_syn/dt``, ``v_leak = v_reset = 0``,

which step as :math:`U \leftarrow \beta U + x` and :math:`I \leftarrow \alpha I + x`,
:math:`U \leftarrow \beta U + I`: snnTorch's ``Leaky`` and ``Synaptic``. ``beta = 1`` gives
``tau = inf`` (no leak). The exact ``beta``/``alpha`` and the reset mode go to the node
metadata (``snnsim_model``, ``beta``, ``alpha``, ``reset``, ``reset_delay``) so that snnsim's
import gives back the same numbers (``1 - dt/tau`` is exact only for values like
``1 - 2**-k``).

Reset (what NIR cannot express)
-------------------------------
NIR's ``LIF``/``CubaLIF`` spike when ``v > v_threshold`` and set ``v`` to ``v_reset`` in the
same step; snnTorch's importer builds ``reset_mechanism="zero", reset_delay=False``. That is
exactly snnsim's ``reset="zero", reset_delay=False`` (for a positive threshold the stored
membrane after a spike is 0, so the next step's reset signal is 0 and all three classes
agree). ``reset="subtract"`` / ``"none"`` or ``reset_delay=True`` have no NIR equivalent:
the design rule ``nir_reset`` (an error) refuses them unless ``drop=["nir_reset"]``, in which
case the node is written with NIR's reset to 0, the true mode goes to the node metadata (only
snnsim reads it back) and the violation to the graph's ``"dropped"`` entry.
snnTorch 1.0's ``import_from_nir`` also refuses per-neuron thresholds that differ, and reads
every file with ``dt = 1e-4`` s: export with ``dt=1e-4`` (or a network with ``dt=0.1`` ms).

Import
------
A ``LIF``/``CubaLIF`` node becomes a ``Leaky``/``RLeaky``/``CubaLIF`` population when its
metadata says snnsim wrote it from one, or with ``import_nir(..., convention="snntorch")``
(files of snnTorch's ``export_to_nir``; ``dt`` defaults to ``1e-4`` s there):
``beta = 1 - dt/tau``, ``alpha = 1 - dt/tau_syn``, ``reset="zero", reset_delay=False``
(what snnTorch's ``import_from_nir`` builds), and weights scaled by ``r dt/tau`` (times
``w_in dt/tau_syn``), which is 1 in this convention. ``v_leak != 0`` or ``v_reset != 0`` is
refused (these neurons have neither). Each NIR edge is one step of snnsim (the time mapping
of :mod:`snnsim.torch`): a ``Linear -> Leaky -> Linear -> Leaky`` stack answers torch step
``t`` at core step ``t + 1 + depth``; run it with ``snnsim.torch.simulate(net, x,
latency=depth)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.errors import FileFormatError

if TYPE_CHECKING:
    from snnsim.hardware.nir import ExportContext, ImportContext
    from snnsim.hardware.rules import Context, Violation

    from snnsim.models import NeuronModel
    from snnsim.populations import Population

__all__ = [
    "DISCRETE_MODELS", "choose", "cubalif_to_node", "file_order", "leaky_to_node", "nir_reset",
]  # fmt: skip

_F64 = npt.NDArray[np.float64]
_Importer = Callable[[Any, "ImportContext"], "tuple[NeuronModel, _F64]"]

#: snnsim model names exported in the snnTorch convention.
DISCRETE_MODELS: tuple[str, ...] = ("Leaky", "RLeaky", "CubaLIF")


def _arr(x: Any, n: int) -> _F64:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)))


def _param(x: _F64) -> float | _F64:
    """Return a number when every neuron has the same value, else the per-neuron array."""
    return float(x[0]) if x.size and np.all(x == x[0]) else x


def _meta(node: Any, key: str) -> Any:
    value = node.metadata.get(key) if isinstance(node.metadata, dict) else None
    return value.decode() if isinstance(value, bytes) else value


def _tau(decay: _F64, dt: float) -> _F64:
    """``dt / (1 - decay)`` in seconds (``inf`` for ``decay = 1``)."""
    with np.errstate(divide="ignore"):
        return np.where(decay < 1.0, dt / (1.0 - decay), np.inf)


def _meta_common(pop: Population, **decays: _F64) -> dict[str, Any]:
    model = pop.model
    return {
        "snnsim_model": type(model).__name__,
        "reset": str(getattr(model, "reset", "zero")),
        "reset_delay": int(bool(getattr(model, "reset_delay", False))),
        "convention": "snntorch (forward Euler with dt; r = tau/dt, w_in = tau_syn/dt)",
        **decays,
    }


def leaky_to_node(pop: Population, ctx: ExportContext) -> Any:
    """``Leaky`` / ``RLeaky`` -> NIR ``LIF`` in the snnTorch convention (module docstring)."""
    from snnsim.hardware.nir import require_nir

    nir = require_nir()
    n = pop.size
    beta = _arr(pop.get("beta"), n)
    tau = _tau(beta, ctx.dt)
    return nir.LIF(
        tau=tau, r=tau / ctx.dt, v_leak=np.zeros(n), v_threshold=_arr(pop.get("threshold"), n),
        v_reset=np.zeros(n), metadata=_meta_common(pop, beta=beta),
    )  # fmt: skip


def cubalif_to_node(pop: Population, ctx: ExportContext) -> Any:
    """``CubaLIF`` -> NIR ``CubaLIF`` in the snnTorch convention (module docstring)."""
    from snnsim.hardware.nir import require_nir

    nir = require_nir()
    n = pop.size
    beta, alpha = _arr(pop.get("beta"), n), _arr(pop.get("alpha"), n)
    tau_mem, tau_syn = _tau(beta, ctx.dt), _tau(alpha, ctx.dt)
    return nir.CubaLIF(
        tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / ctx.dt, v_leak=np.zeros(n),
        v_threshold=_arr(pop.get("threshold"), n), v_reset=np.zeros(n), w_in=tau_syn / ctx.dt,
        metadata=_meta_common(pop, beta=beta, alpha=alpha),
    )  # fmt: skip


# ----------------------------------------------------------------------------- import
def _decay(node: Any, field: str, key: str, ictx: ImportContext, n: int) -> tuple[_F64, _F64]:
    """``(1 - dt/tau, tau)``; the exact value from snnsim's metadata when it agrees."""
    raw = np.asarray(getattr(node, field))
    tau = _arr(raw, n)
    with np.errstate(divide="ignore"):
        decay = 1.0 - ictx.dt / tau
    if raw.dtype == np.float32:
        # snnTorch writes float32 (from its float32 beta): the nearest float32 is its beta
        decay = decay.astype(np.float32).astype(np.float64)
    stored = _meta(node, key)
    if stored is not None:
        exact = _arr(stored, n)
        if np.allclose(exact, decay, rtol=0.0, atol=1e-9):
            decay = exact
    if np.any((decay < 0) | (decay > 1)):
        i = int(np.flatnonzero((decay < 0) | (decay > 1))[0])
        raise FileFormatError(
            f"import_nir: {field}={tau[i]:g} s (neuron {i}) gives a decay of {decay[i]:g} per "
            f"step of dt={ictx.dt:g} s; the snnTorch convention needs {field} >= dt (pass the "
            "file's dt=, or convention='exact')"
        )
    return decay, tau


def _gain(x: _F64, tau: _F64, dt: float) -> _F64:
    """Euler input gain ``x dt / tau`` (1 in the snnTorch convention, also for tau = inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(np.isinf(tau) & np.isinf(x), 1.0, x * dt / tau)
    return np.where(np.abs(g - 1.0) < 1e-12, 1.0, g)


def _discrete(node: Any, ictx: ImportContext) -> tuple[NeuronModel, _F64]:

    from snnsim.models import MODELS, CubaLIF

    kind = type(node).__name__
    n = int(np.asarray(node.v_threshold).size)
    for field in ("v_leak", "v_reset"):
        value = _arr(getattr(node, field), n)
        if np.any(value != 0):
            raise FileFormatError(
                f"import_nir: {kind} node has {field}={float(value[value != 0][0]):g}; in the "
                "snnTorch convention it is 0 (snnsim's Leaky/CubaLIF have neither); import "
                "with convention='exact'"
            )
    written = _meta(node, "snnsim_model")
    reset = _meta(node, "reset") or "zero"
    delay = _meta(node, "reset_delay")
    opts: dict[str, Any] = {
        "reset": str(reset), "reset_delay": bool(int(delay)) if delay is not None else False
    }  # fmt: skip
    thr = _param(_arr(node.v_threshold, n))
    if kind == "CubaLIF":
        beta, tau_mem = _decay(node, "tau_mem", "beta", ictx, n)
        alpha, tau_syn = _decay(node, "tau_syn", "alpha", ictx, n)
        model: NeuronModel = CubaLIF(alpha=_param(alpha), beta=_param(beta), threshold=thr, **opts)
        factor = _gain(_arr(node.w_in, n), tau_syn, ictx.dt) * _gain(
            _arr(node.r, n), tau_mem, ictx.dt
        )
        return model, factor
    beta, tau = _decay(node, "tau", "beta", ictx, n)
    cls = MODELS["RLeaky" if written == "RLeaky" else "Leaky"]
    return cls(beta=_param(beta), threshold=thr, **opts), _gain(_arr(node.r, n), tau, ictx.dt)


def choose(exact: _Importer) -> _Importer:
    """Return the importer of a node type: discrete models, else ``exact``.

    The discrete importer is used when snnsim wrote the node from ``Leaky``/``RLeaky``/
    ``CubaLIF`` (its metadata) or with ``convention="snntorch"``.
    """

    def importer(node: Any, ictx: ImportContext) -> tuple[NeuronModel, _F64]:

        written = _meta(node, "snnsim_model")
        if written in DISCRETE_MODELS or (written is None and ictx.convention == "snntorch"):
            return _discrete(node, ictx)
        return exact(node, ictx)

    return importer


def file_order(nodes: dict[str, Any], edges: list[tuple[str, str]]) -> list[str]:
    """Node names from the ``Input`` nodes along the edges (breadth first), then the rest.

    ``nir.read`` returns nodes in HDF5's alphabetical order; populations are created in
    this order instead, so the input comes first and the output layer last.
    """
    succ: dict[str, list[str]] = {name: [] for name in nodes}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    order = [name for name, node in nodes.items() if type(node).__name__ == "Input"]
    seen = set(order)
    for name in order:  # grows while iterating: breadth first
        for nxt in succ.get(name, []):
            if nxt in nodes and nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
    return order + [name for name in nodes if name not in seen]


# ----------------------------------------------------------------------------- design rule
def nir_reset(ctx: Context) -> list[Violation]:
    """NIR resets to ``v_reset`` in the spike's step: only ``reset="zero", reset_delay=False``."""
    from snnsim.hardware.rules import Violation, pop_where

    out = []
    for pop in ctx.populations():
        model = pop.model
        if type(model).__name__ not in DISCRETE_MODELS:
            continue
        reset, delay = str(getattr(model, "reset", "")), bool(getattr(model, "reset_delay", 0))
        if reset == "zero" and not delay:
            continue
        out.append(
            Violation(
                "nir_reset", "error", pop_where(pop),
                f"reset={reset!r}, reset_delay={delay}: NIR's LIF/CubaLIF (and snnTorch's "
                "import_from_nir) reset v to 0 in the step of the spike, i.e. reset='zero', "
                "reset_delay=False; other readers would run different dynamics",
                "build the population with reset='zero', reset_delay=False, or "
                "drop=['nir_reset'] to write it anyway (the true mode goes to the node "
                "metadata, which only snnsim's import_nir reads)",
                {"reset": reset, "reset_delay": delay},
            )
        )  # fmt: skip
    return out
