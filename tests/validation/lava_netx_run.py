"""Run a Lava-DL NetX ``.net`` file in Lava's ``fixed_pt`` simulation; save each layer's spikes.

Run by the Lava virtualenv's Python (it does not import snnsim)::

    python lava_netx_run.py NET_FILE INPUT_NPZ OUTPUT_NPZ

``INPUT_NPZ`` holds ``raster``, a ``T x n_in`` array of 0/1: row ``r`` is sent into the
network's input port at Lava time step ``r + 1`` (a ``lava.proc.io.source.RingBuffer``).
The network, ``lava.lib.dl.netx.hdf5.Network(net_config=NET_FILE)``, runs ``T`` steps with
``Loihi2SimCfg(select_tag="fixed_pt")`` (Lava's bit-accurate ``PyLifModelBitAcc`` /
``Dense`` / ``DelayDense`` models). Each layer block's output port feeds a
``lava.proc.io.sink.RingBuffer``; ``OUTPUT_NPZ`` gets ``layer_<i>`` (``i = 0, 1, ...`` the
network's neuron layers in order; the file's ``input`` layer without a neuron group is not
one), each a ``T x n`` int8 array whose row ``r`` holds the spikes of Lava step ``r + 1``;
``u_<i>`` / ``v_<i>``, the LIF states at the end of each step (``T x n`` int64, read by
``lava.proc.monitor.process.Monitor`` probes); and the ``weight_exp`` / ``num_weight_bits``
NetX chose per layer (diagnostics).

Shims (the environment of ``hardware-formats.md`` section 4: lava-nc 0.10.0 and lava-dl
0.6.0 installed with ``--ignore-requires-python`` on Python 3.11):

* ``lava/magma/compiler/var_model.py``: the ``ByteEncoder`` dataclass must be
  ``@dataclass(unsafe_hash=True)`` in the virtualenv, or Python 3.11 refuses it as a mutable
  default (the import fails; this script cannot patch it).
* ``lava.lib.dl.slayer`` imports ``torchvision``, whose PyPI wheels do not load with the CPU
  torch; empty stub modules ``torchvision``, ``torchvision.ops``, ``torchvision.transforms``
  are put in ``sys.modules`` below, before ``netx`` is imported (netx does not use them).
"""

from __future__ import annotations

import sys
import types

import numpy as np


def _stub_torchvision() -> None:
    for name in ("torchvision", "torchvision.ops", "torchvision.transforms"):
        sys.modules.setdefault(name, types.ModuleType(name))


def run(net_path: str, raster: np.ndarray) -> dict[str, np.ndarray]:
    """Run the NetX network on ``raster`` (``T x n_in``); return each layer's ``T x n`` spikes."""
    _stub_torchvision()
    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.monitor.process import Monitor

    steps = raster.shape[0]
    net = netx.hdf5.Network(net_config=net_path)
    source = Source(data=np.ascontiguousarray(raster.T.astype(np.int32)))
    source.s_out.connect(net.inp)
    sinks, monitors = [], []
    for layer in net.layers:
        sink = Sink(shape=layer.out.shape, buffer=steps)
        layer.out.connect(sink.a_in)
        sinks.append(sink)
        probes = {}
        for name in ("u", "v"):
            probes[name] = Monitor()
            probes[name].probe(target=getattr(layer.neuron, name), num_steps=steps)
        monitors.append(probes)
    out: dict[str, np.ndarray] = {}
    try:
        net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        for i, (layer, sink, probes) in enumerate(zip(net.layers, sinks, monitors, strict=True)):
            out[f"layer_{i}"] = sink.data.get().T.astype(np.int8)
            for name, mon in probes.items():
                data = mon.get_data()[layer.neuron.name][name]
                out[f"{name}_{i}"] = np.asarray(data).reshape(steps, -1).astype(np.int64)
            params = layer.synapse.proc_params
            out[f"weight_exp_{i}"] = np.int64(params.get("weight_exp", 0))
            out[f"num_weight_bits_{i}"] = np.int64(params.get("num_weight_bits", 8))
    finally:
        net.stop()
    return out


def main(argv: list[str]) -> int:
    """Command line: ``NET_FILE INPUT_NPZ OUTPUT_NPZ``."""
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    net_path, in_path, out_path = argv
    with np.load(in_path) as f:
        raster = np.asarray(f["raster"])
    if raster.ndim != 2 or not np.isin(raster, (0, 1)).all():
        print("lava_netx_run: raster must be a T x n_in array of 0/1", file=sys.stderr)
        return 2
    np.savez(out_path, **run(net_path, raster))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
