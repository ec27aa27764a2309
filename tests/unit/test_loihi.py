"""LoihiLIF: Lava fixed_pt LIF with Dense/DelayDense semantics, bit for bit.

The golden traces come from ``tests/reference_data/make_loihi_golden.py`` (plain Python
integers from the documented equations, no snnsim code).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from snnsim.hardware.lava import dense_mantissas, lava_delay, snnsim_delay_steps

import snnsim as snn
from snnsim.errors import ConnectivityError, FileFormatError, ParameterError

GOLDEN = Path(__file__).parents[1] / "reference_data" / "loihi_golden.npz"


def golden_network(
    g: dict[str, np.ndarray],
) -> tuple[snn.Network, dict[str, snn.Population], list[snn.Projection]]:
    """The golden network in snnsim terms (dt = 1 ms: one step per Lava time step)."""
    net = snn.Network(dt=1.0, seed=1, threads=1)
    times = [g[f"src_{i}"].astype(float).tolist() for i in range(3)]
    pops = {"src": net.add_population(3, snn.SpikeSource(times=times), label="src")}
    for name in ("A", "B"):
        n, du, dv, vth, bm, be = (int(x) for x in g[f"{name}_params"])
        model = snn.LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=bm, bias_exp=be)
        pops[name] = net.add_population(n, model, label=name)
    projs = []
    for j in range(3):
        pre, post = (str(x) for x in g[f"P{j}_ends"])
        w = dense_mantissas(g[f"P{j}_w"]).T  # Lava [out, in] -> snnsim (pre, post)
        d = snnsim_delay_steps(g[f"P{j}_delay"]).T
        pairs = np.argwhere(w != 0)
        conn = snn.FromList(pairs[:, 0], pairs[:, 1])
        projs.append(
            net.connect(
                pops[pre],
                pops[post],
                conn,
                weight=w[w != 0].astype(float),
                delay=d[w != 0] * net.dt,
                weight_exp=int(g[f"P{j}_exp"]),
            )
        )
    return net, pops, projs


def _load() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as f:
        return {k: f[k] for k in f.files}


def test_dense_mantissas_follow_lava() -> None:
    assert dense_mantissas([[-1, 3, 255, 300, -300]]).tolist() == [[-2, 2, 254, 254, -256]]
    assert dense_mantissas([[1, 255, 300, 0]]).tolist() == [[1, 255, 255, 0]]
    assert dense_mantissas([[-1, -255, -300]]).tolist() == [[-1, -255, -255]]
    assert dense_mantissas([[5, 6, 7]], num_weight_bits=6).tolist() == [[4, 4, 4]]
    assert snnsim_delay_steps([0, 62]).tolist() == [1, 63]
    assert lava_delay([1, 63]).tolist() == [0, 62]
    with pytest.raises(ConnectivityError):
        lava_delay([64])


def test_golden_traces_bit_for_bit() -> None:
    g = _load()
    # the golden run covers the cases the issue asks for
    assert int(g["P0_w"].min()) < 0 < int(g["P0_w"].max()) and np.any(g["P0_w"] % 2)
    assert g["A_u"].min() < -(1 << 22)  # u wrapped from above 2**23 to negative
    assert np.any(g["P0_delay"] > 0)
    net, pops, _ = golden_network(g)
    T = int(g["T"])
    recs = {k: net.record_state(pops[k], ["u", "v"]) for k in ("A", "B")}
    spikes = {k: net.record_spikes(pops[k]) for k in ("A", "B")}
    net.run(T * net.dt)
    for k in ("A", "B"):
        assert np.array_equal(recs[k]["u"].astype(np.int64), g[f"{k}_u"]), k
        assert np.array_equal(recs[k]["v"].astype(np.int64), g[f"{k}_v"]), k
        raster = np.zeros_like(g[f"{k}_s"])
        steps = np.rint(spikes[k].times / net.dt).astype(int)
        raster[steps - 1, spikes[k].ids] = 1
        assert np.array_equal(raster, g[f"{k}_s"]), k
    assert int(g["A_s"].sum()) > 0 and int(g["B_s"].sum()) > 0


def test_weights_read_back_as_mantissas_and_checkpoint(tmp_path: Path) -> None:
    g = _load()
    net, pops, projs = golden_network(g)
    w_given = [p.get("weight", format="list") for p in projs]
    rec = net.record_state(pops["A"], ["u", "v"])
    net.run(10.0)
    assert [p.get("weight", format="list") for p in projs] == w_given
    snn.save(net, tmp_path / "loihi.h5")
    back = snn.load(tmp_path / "loihi.h5")
    assert [p.weight_exp for p in back.projections] == [0, 7, -1]
    assert [p.get("weight", format="list") for p in back.projections] == w_given
    net.run(30.0)
    back.run(30.0)
    rec2 = back.recorders[0]
    assert np.array_equal(rec["u"], rec2["u"]) and np.array_equal(rec["v"], rec2["v"])
    assert np.array_equal(rec["u"].astype(np.int64), g["A_u"])


def test_set_after_build_uses_mantissas() -> None:
    net = snn.Network(dt=1.0, seed=1, threads=1)
    src = net.add_population(1, snn.SpikeSource(times=[[1.0, 4.0]]))
    pop = net.add_population(1, snn.LoihiLIF(du=4095, dv=4095, vth=131071))
    proj = net.connect(src, pop, snn.OneToOne(), weight=3.0, weight_exp=2)
    rec = net.record_state(pop, ["u"])
    net.run(2.0)
    proj.set(weight=5.0)
    assert proj.get("weight", format="list") == [(0, 0, 5.0)]
    net.run(3.0)
    # du = 4095: u holds only this step's input, (w << e) << 6
    assert rec["u"][:, 0].tolist() == [0.0, 3 * 4 * 64, 0.0, 0.0, 5 * 4 * 64]
    with pytest.raises(ConnectivityError, match="not an integer"):
        proj.set(weight=2.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weight": 2.5}, "not an integer"),
        ({"weight": np.array([3.0, -4.0])}, "odd weight 3"),
        ({"weight": np.array([254.0, -258.0])}, "mixed-sign"),
        ({"weight": 256.0}, "one-sign"),
        ({"weight": 6.0, "weight_exp": -2}, "multiple of 4"),
        ({"weight": 4.0, "weight_exp": 8}, r"\[-7, 7\]"),
        ({"weight": 4.0, "weight_exp": 1.0}, r"\[-7, 7\]"),
        ({"weight": snn.Uniform(0.0, 3.0)}, "integer mantissas"),
    ],
)
def test_connect_refuses_what_lava_cannot_run(kwargs: dict, match: str) -> None:
    net = snn.Network(dt=1.0, seed=1)
    src = net.add_population(2, snn.SpikeSource(times=[[1.0], [2.0]]))
    pop = net.add_population(2, snn.LoihiLIF(du=10, dv=10, vth=10))
    with pytest.raises(ConnectivityError, match=match):
        net.connect(src, pop, snn.OneToOne(), **kwargs)


def test_other_refusals() -> None:
    net = snn.Network(dt=1.0, seed=1)
    lif = net.add_population(2, snn.LIF())
    pop = net.add_population(2, snn.LoihiLIF(du=10, dv=10, vth=10))
    with pytest.raises(ConnectivityError, match="weight_exp"):
        net.connect(pop, lif, snn.OneToOne(), weight=1.0, weight_exp=0)
    with pytest.raises(ConnectivityError, match="delay"):
        net.connect(lif, pop, snn.OneToOne(), weight=2.0, delay=65.0)
    with pytest.raises(ParameterError, match="current input"):
        net.add_input(pop, snn.StepCurrent([1.0], [1.0]))
    with pytest.raises(ParameterError, match="precision='double'"):
        snn.Network(dt=1.0, precision="single").add_population(1, snn.LoihiLIF())
    for bad in ({"du": 4096}, {"dv": -1}, {"vth": 1 << 17}, {"bias_mant": 0.5},
                {"bias_exp": 8}, {"du": np.array([1.0, 2.0])}):  # fmt: skip
        with pytest.raises(ParameterError):
            snn.LoihiLIF(**bad)


def test_corrupt_state_is_refused(tmp_path: Path) -> None:
    import h5py

    net = snn.Network(dt=1.0, seed=1, threads=1)
    net.add_population(2, snn.LoihiLIF(du=10, dv=10, vth=10, bias_mant=100, bias_exp=3))
    net.run(3.0)
    snn.save(net, tmp_path / "c.h5")
    with h5py.File(tmp_path / "c.h5", "r+") as f:
        ist = f["/engine/istate"]
        data = ist[()]
        data[0] = 1 << 24
        ist[...] = data
    with pytest.raises(FileFormatError):
        snn.load(tmp_path / "c.h5")


def test_golden_file_is_what_its_script_makes() -> None:
    """The committed npz equals a fresh run of make_loihi_golden.py's simulation."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_loihi_golden", GOLDEN.with_name("make_loihi_golden.py")
    )
    assert spec is not None and spec.loader is not None
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    fresh = maker.simulate()
    with np.load(GOLDEN) as ref:
        for name, trace in fresh.items():
            np.testing.assert_array_equal(ref[name], trace, err_msg=name)
