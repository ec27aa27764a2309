"""Spike-for-spike agreement of an exported NetX file run in Lava with snnsim's LoihiLIF.

Optional: needs a Lava environment (lava-nc 0.10 + lava-dl 0.6, see
``/work/shared/reference/hardware-formats.md`` section 4 and the README, "Hardware").
Point ``SNNSIM_LAVA_PYTHON`` at that environment's Python; the test is skipped when the
variable is unset or that Python cannot ``import lava``. snnsim is not imported there:
``lava_netx_run.py`` (next to this file) loads the ``.net`` file with
``lava.lib.dl.netx.hdf5.Network``, feeds it the input raster and runs it in ``fixed_pt``.

Network: 10 input spike sources -> 12 LoihiLIF (hidden) -> 6 LoihiLIF (output), all-to-all,
mixed-sign even mantissas, per-synapse delays of 1..8 steps onto the hidden layer
(DelayDense), one-step synapses onto the output layer with ``weight_exp=1`` and a per-neuron
bias in the hidden layer. ``hw.export(net, "netx", path)`` writes the file.

Time mapping (dt = 1 ms): Lava time step ``k`` (1, 2, ...) is snnsim's stamp ``t = k * dt``;
both rasters hold it in row ``k - 1``. Input row ``r`` is snnsim's source spike at
``(r + 1) * dt`` and Lava's source ``RingBuffer`` sends it at step ``r + 1``.
From the semantics: snnsim delivers a spike stamped ``t`` through a delay of ``d`` steps into
the ``a_in`` of step ``t + d``; Lava's ``DelayDense`` receives a spike sent at step ``k`` and
puts it in the ``a_out`` of step ``k + 1 + d_L`` (``Dense``: ``d_L = 0``), which the LIF
integrates in that same step and whose ``s_out`` the sink records in that step; the exporter
writes ``d_L = d - 1``, so both deliver at ``k + d``. Measured: the rasters are identical
with this mapping, and differ when Lava's are shifted by one step either way; the LIF states
``u`` and ``v`` at the end of each step (snnsim ``record_state``, Lava ``Monitor``) are
identical too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snnsim as snn
from snnsim import hardware as hw

pytestmark = pytest.mark.validation

RUNNER = Path(__file__).resolve().parent / "lava_netx_run.py"
T = 200
N_IN, N_HID, N_OUT = 10, 12, 6
MIN_SPIKES = 40  # per LoihiLIF layer: the comparison must see real activity


def _lava_python() -> str:
    """The Lava environment's Python from ``SNNSIM_LAVA_PYTHON``; skip when unusable."""
    python = os.environ.get("SNNSIM_LAVA_PYTHON", "")
    if not python:
        pytest.skip("SNNSIM_LAVA_PYTHON is not set (path of a Python that can import lava)")
    try:
        probe = subprocess.run(
            [python, "-c", "import lava.magma.core, lava.proc.lif.process"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"SNNSIM_LAVA_PYTHON={python!r} cannot be run: {exc}")
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"SNNSIM_LAVA_PYTHON={python!r} cannot import lava: {last}")
    return python


def _network(seed: int) -> tuple[snn.Network, np.ndarray, list[snn.Population]]:
    """The layered LoihiLIF network and its input raster (``T x N_IN`` of 0/1)."""
    rng = np.random.default_rng(seed)
    raster = (rng.random((T, N_IN)) < 0.2).astype(np.int8)
    net = snn.Network(dt=1.0, seed=seed, threads=1)
    times = [((np.flatnonzero(raster[:, i]) + 1) * net.dt).tolist() for i in range(N_IN)]
    src = net.add_population(N_IN, snn.SpikeSource(times=times), label="input")
    bias = rng.integers(-4, 5, N_HID)  # bias_mant << 6: NetX's bias_exp
    hid = net.add_population(
        N_HID, snn.LoihiLIF(du=2000, dv=400, vth=150, bias_mant=bias, bias_exp=6), label="hidden"
    )
    out = net.add_population(N_OUT, snn.LoihiLIF(du=2500, dv=150, vth=300), label="output")
    w1 = 2 * rng.integers(-110, 110, (N_IN, N_HID))  # even mantissas in [-220, 218]
    d1 = rng.integers(1, 9, (N_IN, N_HID))  # steps; Lava DelayDense 0..7
    w2 = 2 * rng.integers(-56, 64, (N_HID, N_OUT))  # << weight_exp 1: inputs in [-224, 252]
    net.connect(src, hid, snn.AllToAll(), weight=w1.astype(float), delay=d1 * net.dt)
    net.connect(hid, out, snn.AllToAll(), weight=w2.astype(float), weight_exp=1)
    return net, raster, [hid, out]


def _raster(spikes: snn.SpikeRecorder, n: int, dt: float) -> np.ndarray:
    """``T x n`` 0/1 array; row ``k - 1`` holds the spikes stamped ``k * dt``."""
    raster = np.zeros((T, n), dtype=np.int8)
    steps = np.rint(np.asarray(spikes.times) / dt).astype(np.int64)
    raster[steps - 1, np.asarray(spikes.ids)] = 1
    return raster


def test_netx_file_runs_in_lava_with_snnsim_spikes(seed: int, tmp_path: Path) -> None:
    """Lava ``fixed_pt`` running the exported file spikes exactly as snnsim, every step."""
    python = _lava_python()
    net, raster, layers = _network(seed)
    recs = [net.record_spikes(pop) for pop in layers]
    states = [net.record_state(pop, ["u", "v"]) for pop in layers]
    net.run(T * net.dt)
    ours = [_raster(rec, pop.size, net.dt) for rec, pop in zip(recs, layers, strict=True)]
    for pop, r in zip(layers, ours, strict=True):
        assert int(r.sum()) >= MIN_SPIKES, f"{pop.label}: only {int(r.sum())} spikes"
        assert int(r.sum()) < r.size // 2, f"{pop.label}: saturated"

    path = hw.export(net, "netx", tmp_path / "net.net")
    np.savez(tmp_path / "input.npz", raster=raster)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [python, str(RUNNER), str(path), str(tmp_path / "input.npz"), str(tmp_path / "lava.npz")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, f"Lava run failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    with np.load(tmp_path / "lava.npz") as f:
        lava = [f[f"layer_{i}"] for i in range(len(layers))]
        lava_uv = [{k: f[f"{k}_{i}"] for k in ("u", "v")} for i in range(len(layers))]

    for pop, a, b in zip(layers, ours, lava, strict=True):
        assert b.shape == a.shape, pop.label
        diff = np.argwhere(a != b)
        assert diff.size == 0, (
            f"{pop.label}: {len(diff)} (step, neuron) entries differ, first "
            f"{[(int(k) + 1, int(i)) for k, i in diff[:5]]} (Lava step, neuron); snnsim "
            f"{int(a.sum())} spikes, Lava {int(b.sum())}"
        )
        # the mapping is pinned: one step earlier or later does not match
        assert not np.array_equal(a[1:], b[:-1]) and not np.array_equal(a[:-1], b[1:])
    # the integer state too (spikes alone can hide e.g. an off-by-one current decay)
    for pop, rec, uv in zip(layers, states, lava_uv, strict=True):
        for k in ("u", "v"):
            np.testing.assert_array_equal(
                np.asarray(rec[k]).astype(np.int64), uv[k], err_msg=f"{pop.label} {k}"
            )
    sys.stdout.write(
        "snnsim == Lava fixed_pt spikes: "
        + ", ".join(f"{p.label} {int(r.sum())}" for p, r in zip(layers, ours, strict=True))
        + "\n"
    )
