"""Lava-DL NetX HDF5 export of layered :class:`snnsim.LoihiLIF` networks (h5py only).

File layout (what ``lava.lib.dl.netx.hdf5.Network`` reads; hardware-formats.md 2.4)::

    /layer/0/type   b'input' (S10, shape (1,)); shape [n_in]
    /layer/i/type   b'dense'; shape [n_out]; inFeatures, outFeatures
    /layer/i/weight float32 [n_out, n_in], integer a_in per synapse (mantissa << weight_exp)
    /layer/i/delay  int64 [n_out, n_in], Lava DelayDense delays = snnsim delay - 1
    /layer/i/bias   float32 [n_out], only with a bias (netx uses it with bias_exp 6)
    /layer/i/neuron type 'CUBA', iDecay = du + 1, vDecay = dv, vThMant = vth, refDelay 1,
                    gradedSpike False

NetX has no weight-exponent field: it finds its own exponent and sums the file's integer
weights exactly, so each synapse is written as the input it brings, ``mantissa <<
weight_exp``, which must fit NetX's 8-bit range (0..255, -255..0, or -256..254 for a mixed
matrix); otherwise the export is refused (section 7.5 of the notes). Likewise the bias
``bias_mant << bias_exp`` must be a multiple of 64 (NetX applies ``bias_exp = 6``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt
from snnsim.hardware.lava import lava_delay

from snnsim.errors import ParameterError
from snnsim.models import LoihiLIF, PoissonSource, SpikeSource

__all__ = ["export_netx", "netx_layers"]


class NetxExportError(ParameterError):
    """A network that a NetX file cannot describe."""


def netx_layers(net: Any) -> list[Any]:
    """Return the populations of a layered network in order: the input, then LoihiLIF layers.

    Layered: one source population (``SpikeSource``/``PoissonSource``) and a chain of
    LoihiLIF populations, each receiving exactly one whole-population projection from the
    one before; nothing else in the network.

    Raises
    ------
    NetxExportError
        Naming the population or projection that breaks the structure.
    """
    pops, projs = list(net.populations), list(net.projections)
    fix = "NetX describes a feed-forward chain input -> dense -> dense ...; build that shape"
    for pop in pops:
        if not isinstance(pop.model, (LoihiLIF, SpikeSource, PoissonSource)):
            raise NetxExportError(
                f"export_netx: population {pop.label!r} is {pop.model.name}; NetX layers are "
                "LoihiLIF neurons (convert LIF networks with snnsim.hardware.quantize first)"
            )
    for proj in projs:
        if proj.pre is not proj.pre.population or proj.post is not proj.post.population:
            raise NetxExportError(f"export_netx: projection {proj.label!r} connects views; {fix}")
    sources = [p for p in pops if not isinstance(p.model, LoihiLIF)]
    if len(sources) != 1:
        raise NetxExportError(
            f"export_netx: {len(sources)} source populations; NetX takes exactly one input "
            f"layer; {fix}"
        )
    chain = [sources[0]]
    used = 0
    while True:
        out = [p for p in projs if p.pre.population is chain[-1]]
        if not out:
            break
        if len(out) > 1 or out[0].post.population in chain:
            raise NetxExportError(
                f"export_netx: population {chain[-1].label!r} has "
                f"{len(out)} outgoing projections or a recurrent one; {fix}"
            )
        nxt = out[0].post.population
        into = [p for p in projs if p.post.population is nxt]
        if len(into) != 1:
            raise NetxExportError(
                f"export_netx: population {nxt.label!r} receives {len(into)} projections; {fix}"
            )
        chain.append(nxt)
        used += 1
    if used != len(projs) or len(chain) != len(pops):
        left = [p.label for p in pops if p not in chain]
        raise NetxExportError(f"export_netx: populations {left} are not in the chain; {fix}")
    if len(chain) < 2:
        raise NetxExportError(f"export_netx: no LoihiLIF layer; {fix}")
    return chain


def _layer_arrays(proj: Any) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Dense ``[n_out, n_in]`` weights (a_in per synapse) and Lava delays of one projection."""
    table = proj.table()
    n_in, n_out = proj.pre.size, proj.post.size
    pairs = table.pre * n_out + table.post
    if np.unique(pairs).size != pairs.size:
        raise NetxExportError(
            f"export_netx: projection {proj.label!r} has several synapses between one pair of "
            "neurons; NetX holds one weight per pair"
        )
    a_in = table.weight * proj.weight_scale
    w = np.zeros((n_out, n_in))
    d = np.zeros((n_out, n_in), dtype=np.int64)
    w[table.post, table.pre] = a_in
    d[table.post, table.pre] = lava_delay(table.delay)
    if a_in.size:
        lo, hi = float(a_in.min()), float(a_in.max())
        ok_lo, ok_hi = (-256.0, 254.0) if lo < 0 < hi else ((-255.0, 0.0) if hi <= 0 else (0, 255))
        if lo < ok_lo or hi > ok_hi or np.any(a_in != np.round(a_in)):
            raise NetxExportError(
                f"export_netx: projection {proj.label!r} brings inputs in [{lo:g}, {hi:g}] "
                f"(mantissa << weight_exp={proj.weight_exp}); NetX stores no exponent and "
                f"takes integer weights in [{ok_lo:g}, {ok_hi:g}] for this sign mode: use "
                "smaller mantissas or weight_exp, or scale the thresholds down instead"
            )
    return w.astype(np.float32), d


def _neuron_params(pop: Any) -> dict[str, Any]:
    """NetX neuron values of one LoihiLIF population, checked (bias: None when zero)."""
    model = pop.resolved_model()
    p = {k: model.values(k) for k in model.coefficient_names}
    mant = np.broadcast_to(p["bias_mant"], (pop.size,)).astype(np.int64)
    bexp = np.broadcast_to(p["bias_exp"], (pop.size,)).astype(np.int64)
    bias = mant << bexp
    if np.any(bias % 64):
        raise NetxExportError(
            f"export_netx: population {pop.label!r} has a bias bias_mant << bias_exp that is "
            "not a multiple of 64; NetX applies its bias with bias_exp = 6: use bias_exp >= "
            "6 or a bias_mant divisible by 2**(6 - bias_exp)"
        )
    return {
        "iDecay": np.int64(p["du"][0]) + 1,
        "vDecay": np.int64(p["dv"][0]),
        "vThMant": np.int64(p["vth"][0]),
        "bias": (bias >> 6).astype(np.float32) if np.any(bias) else None,
    }


def _write_neuron(layer: Any, params: dict[str, Any]) -> None:
    g = layer.create_group("neuron")
    g.create_dataset("type", data="CUBA")
    for key in ("iDecay", "vDecay", "vThMant"):
        g.create_dataset(key, data=params[key])
    g.create_dataset("refDelay", data=np.int64(1))
    g.create_dataset("gradedSpike", data=False)
    if params["bias"] is not None:
        layer.create_dataset("bias", data=params["bias"])


def export_netx(net: Any, path: str | os.PathLike[str]) -> str:
    """Write a layered LoihiLIF network as a Lava-DL NetX HDF5 file; return the path.

    Parameters
    ----------
    net : snnsim.Network
        One source population feeding a chain of LoihiLIF populations (see
        :func:`netx_layers`); weights must fit NetX without an exponent.
    path : str or os.PathLike
        Output file (conventionally ``*.net``), overwritten.

    Raises
    ------
    NetxExportError
        (a :class:`~snnsim.errors.ParameterError`) for anything NetX cannot describe
        exactly; nothing is written then.
    """
    import h5py

    chain = netx_layers(net)
    by_post = {p.post.population.index: p for p in net.projections}
    # every check runs before the file is opened: a refused network writes nothing
    layers = [(pop, *_layer_arrays(by_post[pop.index]), _neuron_params(pop)) for pop in chain[1:]]
    out = os.fspath(path)
    with h5py.File(out, "w") as f:
        f.attrs["generator"] = "snnsim export_netx"
        f.attrs["dt_ms"] = float(net.dt)
        root = f.create_group("layer")
        g0 = root.create_group("0")
        g0.create_dataset("type", data=np.array([b"input"], dtype="S10"))
        g0.create_dataset("shape", data=np.array([chain[0].size], dtype=np.int64))
        for i, (pop, w, d, params) in enumerate(layers, start=1):
            g = root.create_group(str(i))
            g.create_dataset("type", data=np.array([b"dense"], dtype="S10"))
            g.create_dataset("shape", data=np.array([pop.size], dtype=np.int64))
            g.create_dataset("inFeatures", data=np.int64(w.shape[1]))
            g.create_dataset("outFeatures", data=np.int64(w.shape[0]))
            g.create_dataset("weight", data=w)
            g.create_dataset("delay", data=d)
            _write_neuron(g, params)
    return out
