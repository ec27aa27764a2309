"""NetX export: the file's schema (walked with h5py) and refusals."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from snnsim.hardware.netx import export_netx

import snnsim as snn
from snnsim.errors import ParameterError


def layered(weight_exp: int = 0, bias_exp: int = 6) -> snn.Network:
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(4, snn.SpikeSource(times=[[1.0], [2.0], [3.0], [4.0]]), label="in")
    a = net.add_population(
        3, snn.LoihiLIF(du=1023, dv=128, vth=80, bias_mant=np.array([0, 2, -3]), bias_exp=bias_exp)
    )
    b = net.add_population(2, snn.LoihiLIF(du=4095, dv=0, vth=131071))
    w = np.array([[10, -20, 0], [0, 40, 60], [-256, 0, 2], [100, 0, 0]], dtype=float)
    pairs = np.argwhere(w != 0)
    delays = np.arange(1, pairs.shape[0] + 1, dtype=float) * 5.0
    net.connect(src, a, snn.FromList(pairs[:, 0], pairs[:, 1], weight=w[w != 0], delay=delays))
    net.connect(a, b, snn.AllToAll(), weight=np.array([[1, 2], [3, 4], [5, 63]]),
                weight_exp=weight_exp)  # fmt: skip
    return net


def test_schema(tmp_path: Path) -> None:
    path = export_netx(layered(weight_exp=2), tmp_path / "net.net")
    with h5py.File(path, "r") as f:
        layers = f["layer"]
        assert sorted(layers.keys(), key=int) == ["0", "1", "2"]
        g0 = layers["0"]
        assert g0["type"].dtype == np.dtype("S10") and g0["type"].shape == (1,)
        assert g0["type"][0] == b"input" and g0["shape"][()].tolist() == [4]
        for i, (n_out, n_in) in ((1, (3, 4)), (2, (2, 3))):
            g = layers[str(i)]
            assert g["type"][()].tolist() == [b"dense"] and g["type"].dtype == np.dtype("S10")
            assert g["shape"][()].tolist() == [n_out]
            assert int(g["inFeatures"][()]) == n_in and int(g["outFeatures"][()]) == n_out
            w, d = g["weight"][()], g["delay"][()]
            assert w.shape == (n_out, n_in) and d.shape == (n_out, n_in)
            assert w.dtype == np.float32 and np.all(w == np.round(w))
            assert d.dtype.kind == "i" and d.min() >= 0 and d.max() <= 62
            if w.min() < 0 < w.max():
                assert w.min() >= -256 and w.max() <= 254 and np.all(w % 2 == 0)
            else:
                assert w.min() >= -255 and w.max() <= 255
            n = g["neuron"]
            assert n["type"][()] in (b"CUBA", "CUBA")
            for key, hi in (("iDecay", 4096), ("vDecay", 4096), ("vThMant", 2**17 - 1)):
                assert n[key].dtype.kind == "i" and 0 <= int(n[key][()]) <= hi
        g1, g2 = layers["1"], layers["2"]
        assert int(g1["neuron/iDecay"][()]) == 1024 and int(g1["neuron/vDecay"][()]) == 128
        assert int(g1["neuron/vThMant"][()]) == 80
        assert g1["weight"][()][:, 2].tolist() == [-256, 0, 2]  # [out, in]: pre 2's column
        assert g1["delay"][()][1, 1] == 3 * 5 - 1  # pre 1 -> post 1: 3rd synapse, 15 steps
        assert g1["bias"][()].tolist() == [0, 2, -3]  # bias_exp 6: bias_mant as is
        assert "bias" not in g2
        assert g2["weight"][()].tolist() == [[4, 12, 20], [8, 16, 252]]  # mantissa << 2


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="NetX stores no exponent"):
        export_netx(layered(weight_exp=3), tmp_path / "x.net")  # 63 << 3 does not fit
    with pytest.raises(ParameterError, match="multiple of 64"):
        export_netx(layered(bias_exp=2), tmp_path / "x.net")
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(2, snn.SpikeSource(times=[[1.0], [2.0]]))
    lif = net.add_population(2, snn.LIF())
    net.connect(src, lif, snn.OneToOne(), weight=1.0)
    with pytest.raises(ParameterError, match="LoihiLIF"):
        export_netx(net, tmp_path / "x.net")
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(2, snn.SpikeSource(times=[[1.0], [2.0]]))
    a = net.add_population(2, snn.LoihiLIF())
    net.connect(src, a, snn.OneToOne(), weight=2.0)
    net.connect(a, a, snn.OneToOne(), weight=2.0)
    with pytest.raises(ParameterError, match="receives 2 projections"):
        export_netx(net, tmp_path / "x.net")
    assert not (tmp_path / "x.net").exists()
