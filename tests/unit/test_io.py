"""Checkpoints (save/load, resume exactness, atomic writes, validation) and SONATA spike files."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import snnsim as snn
from snnsim import h5safe
from snnsim import io as snnio
from snnsim.engine import Engine
from snnsim.errors import FileFormatError, ParameterError, SimulationError

T_MS = 60.0


def make_net(seed: int, n: int = 200) -> snn.Network:
    """200-neuron LIF network with every kind of source, input and recorder."""
    net = snn.Network(dt=0.1, seed=seed, threads=2)
    exc = net.add_population(n, snn.LIF(tau_refrac=2.0, i_offset=0.2), label="exc")
    src = net.add_population(20, snn.PoissonSource(rate=50.0), label="poisson")
    ss = net.add_population(3, snn.SpikeSource([[1.0, 5.0, 30.0, 41.0], [2.5], []]), label="ss")
    net.connect(
        exc, exc, snn.FixedProbability(0.1), weight=snn.Uniform(0.0, 0.3),
        delay=snn.Uniform(0.1, 5.0), round_delays=True,
    )  # fmt: skip
    net.connect(exc[:50], exc, snn.FixedProbability(0.1), weight=-0.5, delay=1.5, receptor="inh")
    net.connect(src, exc, snn.FixedProbability(0.2), weight=0.4, delay=2.0)
    net.connect(ss, exc[10:20], snn.AllToAll(), weight=2.0, delay=0.5)
    net.add_input(exc, snn.PoissonInput(10, 100.0, 0.3))
    net.add_input(exc[:30], snn.StepCurrent([5.0, 20.0, 45.0], [0.5, 1.0, 0.0]))
    net.record_spikes(exc)
    net.record_spikes(src)
    net.record_state(exc[[3, 1, 7]], ["v", "i_exc"], every=3)
    net.record_rates(exc, 1.0)
    net.record_spikes(ss)
    exc.initialize(v=snn.Uniform(-65.0, -50.0))
    return net


def recorder_arrays(net: snn.Network) -> list[dict[str, np.ndarray]]:
    return [{k: np.asarray(v).copy() for k, v in r.recorded().items()} for r in net.recorders]


def assert_recorders_equal(a: list[dict[str, np.ndarray]], b: list[dict[str, np.ndarray]]) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert ra.keys() == rb.keys()
        for k in ra:
            assert ra[k].dtype == rb[k].dtype, k
            assert np.array_equal(ra[k], rb[k]), k


def engine_arrays(eng: Engine) -> dict[str, Any]:
    return {f.name: getattr(eng, f.name) for f in dataclasses.fields(Engine)}


@pytest.fixture
def saved(tmp_path: Path, seed: int) -> tuple[snn.Network, Path]:
    net = make_net(seed)
    net.run(T_MS / 2)
    path = tmp_path / "net.h5"
    snn.save(net, path)
    return net, path


def tmp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------------------ round trip
def test_engine_arrays_cover_engine_fields(saved: tuple[snn.Network, Path]) -> None:
    net, _ = saved
    arrays = {k for k, v in engine_arrays(net.engine).items() if isinstance(v, np.ndarray)}
    assert arrays - set(snnio.DERIVED_ENGINE_ARRAYS) == set(snnio.ENGINE_ARRAYS)


def test_round_trip(saved: tuple[snn.Network, Path]) -> None:
    net, path = saved
    net2 = snn.load(path)
    assert (net2.dt, net2.seed, net2.threads, net2.step) == (
        net.dt, net.seed, net.threads, net.step,
    )  # fmt: skip
    assert net2.t == pytest.approx(T_MS / 2)
    assert [(p.label, p.size, p.start, p.model) for p in net2.populations] == [
        (p.label, p.size, p.start, p.model) for p in net.populations
    ]
    assert net2.populations[0].model.params == net.populations[0].model.params
    assert [p.describe() for p in net2.projections] == [p.describe() for p in net.projections]
    for p1, p2 in zip(net.projections, net2.projections, strict=True):
        assert np.array_equal(p1.pre.indices, p2.pre.indices)
        assert np.array_equal(p1.post.indices, p2.post.indices)
    assert len(net2.inputs) == len(net.inputs)
    for (t1, i1), (t2, i2) in zip(net.inputs, net2.inputs, strict=True):
        assert type(i1) is type(i2)
        assert i1.describe() == i2.describe()
        assert np.array_equal(t1.indices, t2.indices)
        if isinstance(i1, snn.StepCurrent):
            assert np.array_equal(i1.times, i2.times)  # type: ignore[attr-defined]
            assert np.array_equal(i1.amplitudes, i2.amplitudes)  # type: ignore[attr-defined]
    e1, e2 = engine_arrays(net.engine), engine_arrays(net2.engine)
    for name in (*snnio.ENGINE_ARRAYS, "dt", "seed", "n", "threads", "step", "min_delay"):
        v1, v2 = e1[name], e2[name]
        if isinstance(v1, np.ndarray):
            assert v1.dtype == v2.dtype and np.array_equal(v1, v2), name
            assert v2.flags.writeable and v2.flags.c_contiguous, name
        else:
            assert v1 == v2, name
    assert (e1["total_spikes"], e1["total_events"]) == (e2["total_spikes"], e2["total_events"])
    assert [type(r) for r in net2.recorders] == [type(r) for r in net.recorders]
    assert [r.label for r in net2.recorders] == [r.label for r in net.recorders]
    for r1, r2 in zip(net.recorders, net2.recorders, strict=True):
        assert np.array_equal(r1.indices, r2.indices)
    assert_recorders_equal(recorder_arrays(net), recorder_arrays(net2))
    assert np.array_equal(net.populations[0].get_state("v"), net2.populations[0].get_state("v"))
    # loaded networks count as built
    with pytest.raises(SimulationError):
        net2.add_population(3, snn.LIF())
    with pytest.raises(SimulationError):
        net2.connect(net2.populations[0], net2.populations[0], snn.OneToOne(), weight=0.1)
    with pytest.raises(SimulationError):
        net2.projections[0].connector.generate(np.uint64(0), np.arange(2), np.arange(2))


def test_file_metadata_and_units(saved: tuple[snn.Network, Path]) -> None:
    net, path = saved
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "snnsim"
        assert f.attrs["schema_version"] == 2
        assert f.attrs["seed"] == net.seed
        assert f.attrs["dt"] == net.dt and f.attrs["dt_units"] == "ms"
        assert f.attrs["step"] == net.step
        assert f.attrs["snnsim_version"] == snn.__version__
        assert "created" in f.attrs and "threads" in f.attrs
        datasets: list[str] = []
        f.visititems(lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None)
        assert datasets
        for name in datasets:
            assert "units" in f[name].attrs, name
        assert f["recorders/0/times"].attrs["units"] == "ms"
        assert f["recorders/3/rates"].attrs["units"] == "Hz"
        assert f["engine/syn_delay"].attrs["units"] == "steps"
        assert f["description/populations/0/params"].attrs["tau_refrac"] == 2.0
        assert f["description/populations/0/param_units"].attrs["tau_refrac"] == "ms"
        assert f["description/projections/0/connector"].attrs["connector"] == "FixedProbability"


def test_save_unbuilt_network_builds_it(tmp_path: Path, seed: int) -> None:
    ref = make_net(seed)
    ref.run(10.0)
    net = make_net(seed)
    snn.save(net, tmp_path / "fresh.h5")
    net2 = snn.load(str(tmp_path / "fresh.h5"))
    assert net2.step == 0
    net2.run(10.0)
    assert_recorders_equal(recorder_arrays(ref), recorder_arrays(net2))


# ------------------------------------------------------------------------------ resume
def test_resume_in_process_is_bit_exact(tmp_path: Path, seed: int) -> None:
    full = make_net(seed)
    full.run(T_MS)
    assert full.recorders[0].count > 50  # the network is active
    half = make_net(seed)
    half.run(T_MS / 2)
    before = recorder_arrays(half)
    snn.save(half, tmp_path / "half.h5")
    net2 = snn.load(tmp_path / "half.h5")
    net2.run(T_MS / 2)
    assert_recorders_equal(recorder_arrays(full), recorder_arrays(net2))
    e1, e2 = full.engine, net2.engine
    for name in ("fstate", "istate", "ring", "spike_count", "i_ext"):
        assert np.array_equal(getattr(e1, name), getattr(e2, name)), name
    assert (e1.total_spikes, e1.total_events) == (e2.total_spikes, e2.total_events)
    # the recorders hold the pre-save data followed by the new data
    spikes2 = net2.recorders[0]
    assert isinstance(spikes2, snn.SpikeRecorder)
    n0 = before[0]["steps"].size
    assert spikes2.count > n0 > 0
    assert np.array_equal(spikes2.steps[:n0], before[0]["steps"])
    assert spikes2.steps[n0:].min() > half.step
    state2 = net2.recorders[2]
    assert isinstance(state2, snn.StateRecorder)
    assert state2.data.shape[0] == int(T_MS / 0.1) // 3
    assert np.array_equal(state2.data[: before[2]["data"].shape[0]], before[2]["data"])


_SECOND_HALF = textwrap.dedent(
    """
    import sys
    import numpy as np
    import snnsim as snn

    net = snn.load(sys.argv[1])
    net.run(float(sys.argv[3]))
    out = {}
    for i, r in enumerate(net.recorders):
        for k, v in r.recorded().items():
            out[f"{i}_{k}"] = v
    out["fstate"] = net.engine.fstate
    out["ring"] = net.engine.ring
    np.savez(sys.argv[2], **out)
    """
)


def test_resume_in_fresh_process_is_bit_exact(tmp_path: Path, seed: int) -> None:
    full = make_net(seed)
    full.run(T_MS)
    half = make_net(seed)
    half.run(T_MS / 2)
    ckpt = tmp_path / "half.h5"
    snn.save(half, ckpt)
    script = tmp_path / "second_half.py"
    script.write_text(_SECOND_HALF)
    out = tmp_path / "second_half.npz"
    proc = subprocess.run(
        [sys.executable, str(script), str(ckpt), str(out), str(T_MS / 2)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = np.load(out)
    for i, arrays in enumerate(recorder_arrays(full)):
        for k, v in arrays.items():
            assert got[f"{i}_{k}"].dtype == v.dtype
            assert np.array_equal(got[f"{i}_{k}"], v), (i, k)
    assert np.array_equal(got["fstate"], full.engine.fstate)
    assert np.array_equal(got["ring"], full.engine.ring)


def test_save_load_save_is_stable(saved: tuple[snn.Network, Path], tmp_path: Path) -> None:
    _, path = saved
    net2 = snn.load(path)
    snn.save(net2, tmp_path / "again.h5")
    net3 = snn.load(tmp_path / "again.h5")
    assert_recorders_equal(recorder_arrays(net2), recorder_arrays(net3))
    for name in snnio.ENGINE_ARRAYS:
        assert np.array_equal(getattr(net2.engine, name), getattr(net3.engine, name)), name


# ------------------------------------------------------------------------------ atomic writes
def test_failed_save_leaves_previous_file(
    saved: tuple[snn.Network, Path], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    net, path = saved
    before = path.read_bytes()
    other = make_net(seed + 1)
    calls = {"n": 0}
    real = h5safe.write_dataset

    def failing(group: Any, name: str, data: Any, units: str) -> Any:
        calls["n"] += 1
        if calls["n"] == 25:  # in the middle of /engine
            raise OSError("disk full (simulated)")
        return real(group, name, data, units)

    monkeypatch.setattr(h5safe, "write_dataset", failing)
    with pytest.raises(OSError, match="simulated"):
        snn.save(other, path)
    assert calls["n"] == 25
    assert path.read_bytes() == before
    assert tmp_files(path.parent) == []
    monkeypatch.undo()
    net2 = snn.load(path)
    assert net2.seed == net.seed
    assert_recorders_equal(recorder_arrays(net), recorder_arrays(net2))


def test_failed_first_save_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    def failing(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(h5safe, "write_dataset", failing)
    with pytest.raises(KeyboardInterrupt):
        snn.save(make_net(seed), tmp_path / "new.h5")
    assert list(tmp_path.iterdir()) == []


_BIG_SAVE = textwrap.dedent(
    """
    import sys
    import snnsim as snn

    net = snn.Network(dt=0.1, seed=1, threads=2)
    pop = net.add_population(50_000, snn.LIF(), label="big")
    net.connect(pop, pop, snn.FixedProbability(0.004), weight=0.1, delay=1.0)
    net.build()
    snn.save(net, sys.argv[1])
    """
)


def test_killed_save_leaves_previous_file(saved: tuple[snn.Network, Path]) -> None:
    net, path = saved
    before = path.read_bytes()
    script = path.parent / "big_save.py"
    script.write_text(_BIG_SAVE)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        seen: list[str] = []
        while not seen and proc.poll() is None and time.monotonic() < deadline:
            seen = tmp_files(path.parent)
            time.sleep(0.001)
        assert seen, "the temporary file never appeared"
        assert proc.poll() is None, "the save finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    net2 = snn.load(path)
    assert net2.size == net.size
    assert_recorders_equal(recorder_arrays(net), recorder_arrays(net2))


# ------------------------------------------------------------------------------ malformed files
def _set_attr(name: str, value: Any) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f.attrs[name] = value

    return edit


def _replace(name: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        data = f[name][()]
        units = f[name].attrs.get("units", "1")
        del f[name]
        f.create_dataset(name, data=make(data))
        f[name].attrs["units"] = units

    return edit


def _poke(name: str, index: int, value: Any) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f[name][index] = value

    return edit


def _delete(name: str) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f[name]

    return edit


def _external_link(f: h5py.File) -> None:
    del f["engine/i_ext"]
    f["engine/i_ext"] = h5py.ExternalLink("elsewhere.h5", "/data")


def _external_link_extra(f: h5py.File) -> None:
    f["description/extra"] = h5py.ExternalLink("/etc/passwd", "/x")


def _dangling_soft_link(f: h5py.File) -> None:
    f["engine/alias"] = h5py.SoftLink("/nowhere/at/all")


def _external_storage(f: h5py.File) -> None:
    data = f["engine/i_ext"][()]
    del f["engine/i_ext"]
    raw = Path(f.filename).with_suffix(".raw")
    raw.write_bytes(data.tobytes())
    f.create_dataset(
        "engine/i_ext", shape=data.shape, dtype=data.dtype, external=[(str(raw), 0, data.nbytes)]
    )
    f["engine/i_ext"].attrs["units"] = "nA"


def _virtual_dataset(f: h5py.File) -> None:
    data = f["engine/i_ext"][()]
    f.create_dataset("engine/i_ext_src", data=data)
    del f["engine/i_ext"]
    layout = h5py.VirtualLayout(shape=data.shape, dtype=data.dtype)
    layout[:] = h5py.VirtualSource(f["engine/i_ext_src"])
    f.create_virtual_dataset("engine/i_ext", layout)


def _indptr_decreasing(f: h5py.File) -> None:
    ip = f["engine/indptr"][()]
    ip[5], ip[6] = ip[6] + 1, ip[5]
    f["engine/indptr"][...] = ip


MALFORMED: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "wrong format": (_set_attr("format", "nest"), "format"),
    "schema version": (_set_attr("schema_version", 1), "schema_version"),
    "fstate dtype": (_replace("engine/fstate", lambda a: a.astype(np.float32)), "fstate"),
    "syn_code dtype": (_replace("engine/syn_code", lambda a: a.astype(np.int64)), "syn_code"),
    "big-endian": (_replace("engine/ring", lambda a: a.astype(">f8")), "ring"),
    "i_ext shape": (_replace("engine/i_ext", lambda a: a[:-1]), "i_ext"),
    "ring 2-D shape": (_replace("engine/ring", lambda a: a[:-1]), "ring"),
    "weight length": (_replace("engine/syn_weight", lambda a: a[:-2]), "syn_weight"),
    "fstate scalar": (_replace("engine/fstate", lambda a: np.float64(1.0)), "fstate"),
    "syn_code range": (_poke("engine/syn_code", 3, 2 * 223), "syn_code"),
    "syn_code negative": (_poke("engine/syn_code", 0, -1), "syn_code"),
    "syn_code receptor": (_poke("engine/syn_code", 0, 2 * 210 + 1), "syn_code"),
    "syn_delay zero": (_poke("engine/syn_delay", 7, 0), "syn_delay"),
    "syn_delay beyond ring": (_poke("engine/syn_delay", 7, 200), "syn_delay"),
    "indptr": (_indptr_decreasing, "indptr"),
    "ev_gid": (_poke("engine/ev_gid", 0, 10**6), "ev_gid"),
    "pin_targets": (_poke("engine/pin_targets", 0, 10**6), "pin_targets"),
    "pin_indptr": (_poke("engine/pin_indptr", 1, 10**6), "pin_indptr"),
    "spike pointer": (_poke("engine/istate", 200, 10**6), "istate"),
    "refractory": (_poke("engine/istate", 0, -5), "istate"),
    "pop_key": (_poke("engine/pop_key", 1, 12345), "pop_key"),
    "NaN state": (_poke("engine/fstate", 0, np.nan), "fstate"),
    "min_delay": (lambda f: f["engine"].attrs.__setitem__("min_delay", 99), "min_delay"),
    "step mismatch": (lambda f: f["engine"].attrs.__setitem__("step", 3), "step"),
    "missing dataset": (_delete("engine/syn_delay"), "syn_delay"),
    "missing group": (_delete("recorders"), "recorders"),
    "missing recorder": (_delete("recorders/2"), "recorders/2"),
    "recorder index": (_poke("recorders/2/indices", 0, 10**6), "indices"),
    "recorder ids": (_poke("recorders/0/ids", 0, 10**6), "ids"),
    "state rows": (_replace("recorders/2/data", lambda a: a[:-1]), "data"),
    "unknown model": (
        lambda f: f["description/populations/0"].attrs.__setitem__("model", "Izhikevich"),
        "model",
    ),
    "bad parameter": (
        lambda f: f["description/populations/0/params"].attrs.__setitem__("tau_m", -1.0),
        "tau_m",
    ),
    "external link": (_external_link, "external link"),
    "external link elsewhere": (_external_link_extra, "external link"),
    "dangling soft link": (_dangling_soft_link, "soft link"),
    "external storage": (_external_storage, "external storage"),
    "virtual dataset": (_virtual_dataset, "virtual"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file_raises(saved: tuple[snn.Network, Path], tmp_path: Path, case: str) -> None:
    _, path = saved
    bad = tmp_path / f"bad_{case.replace(' ', '_')}.h5"
    shutil.copy(path, bad)
    edit, expected = MALFORMED[case]
    with h5py.File(bad, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=expected):
        snn.load(bad)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_raises(
    saved: tuple[snn.Network, Path], tmp_path: Path, fraction: float
) -> None:
    _, path = saved
    data = path.read_bytes()
    bad = tmp_path / "truncated.h5"
    bad.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(FileFormatError):
        snn.load(bad)


def test_not_hdf5_and_missing(tmp_path: Path) -> None:
    text = tmp_path / "notes.h5"
    text.write_text("this is not HDF5\n" * 100)
    with pytest.raises(FileFormatError, match="not an HDF5 file"):
        snn.load(text)
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError):
        snn.load(empty)
    with pytest.raises(FileFormatError):
        snn.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        snn.load(tmp_path / "missing.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(FileFormatError, match="format"):
        snn.load(tmp_path / "other.h5")


def test_errors_are_value_errors(saved: tuple[snn.Network, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(saved[1].read_bytes()[:1000])
    with pytest.raises(ValueError):
        snn.load(bad)


# ------------------------------------------------------------------------------ SONATA
def test_sonata_round_trip(saved: tuple[snn.Network, Path], tmp_path: Path) -> None:
    net, _ = saved
    rec = net.recorders[0]
    assert isinstance(rec, snn.SpikeRecorder)
    out = tmp_path / "spikes.h5"
    rec.to_sonata(str(out))
    with h5py.File(out, "r") as f:
        assert f.attrs["magic"] == 0x0A7A and f.attrs["magic"].dtype == np.uint32
        assert list(f.attrs["version"]) == [0, 1] and f.attrs["version"].dtype == np.uint32
        g = f["spikes/exc"]
        assert g.attrs["sorting"] == "by_time"
        assert g["timestamps"].dtype == np.float64 and g["timestamps"].attrs["units"] == "ms"
        assert g["node_ids"].dtype == np.uint64
    got = snn.read_sonata_spikes(out)
    assert list(got) == ["exc"]
    times, ids = got["exc"]
    assert np.array_equal(times, rec.times) and np.array_equal(ids, rec.ids)
    assert ids.dtype == np.int64 and times.dtype == np.float64


def test_sonata_sorting_and_populations(tmp_path: Path) -> None:
    times = np.array([3.0, 1.0, 2.0, 1.0])
    ids = np.array([0, 5, 2, 1])
    path = tmp_path / "s.h5"
    snn.write_sonata_spikes(path, {"a": (times, ids), "b": ([], [])}, sorting="by_id")
    got = snn.read_sonata_spikes(path)
    assert np.array_equal(got["a"][1], [0, 1, 2, 5])
    assert np.array_equal(got["a"][0], [3.0, 1.0, 2.0, 1.0])
    assert got["b"][0].size == 0
    snn.write_sonata_spikes(path, {"a": (times, ids)}, sorting="none")
    assert np.array_equal(snn.read_sonata_spikes(path)["a"][1], ids)
    snn.write_sonata_spikes(path, {"a": (times, ids)})
    assert np.array_equal(snn.read_sonata_spikes(path)["a"][0], [1.0, 1.0, 2.0, 3.0])
    assert np.array_equal(snn.read_sonata_spikes(path)["a"][1], [1, 5, 2, 0])
    assert tmp_files(tmp_path) == []


@pytest.mark.parametrize(
    "args",
    [
        ({"a": ([1.0, 2.0], [1])}, "by_time"),
        ({"a": ([1.0], [-1])}, "by_time"),
        ({"a": ([np.nan], [1])}, "by_time"),
        ({"a": ([1.0], [1.5])}, "by_time"),
        ({"a/b": ([1.0], [1])}, "by_time"),
        ({"": ([1.0], [1])}, "by_time"),
        ({"a": ([1.0], [1])}, "random"),
    ],
)
def test_sonata_write_validation(tmp_path: Path, args: tuple[Any, str]) -> None:
    with pytest.raises(ParameterError):
        snn.write_sonata_spikes(tmp_path / "s.h5", args[0], sorting=args[1])
    assert list(tmp_path.iterdir()) == []


def _sonata_file(path: Path, edit: Callable[[h5py.File], None]) -> None:
    snn.write_sonata_spikes(path, {"a": ([1.0, 2.0], [3, 4])})
    with h5py.File(path, "r+") as f:
        edit(f)


SONATA_BAD: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "magic": (_set_attr("magic", np.uint32(7)), "magic"),
    "no spikes": (_delete("spikes"), "spikes"),
    "no node_ids": (_delete("spikes/a/node_ids"), "node_ids"),
    "float ids": (_replace("spikes/a/node_ids", lambda a: a.astype(np.float64)), "node_ids"),
    "int times": (_replace("spikes/a/timestamps", lambda a: a.astype(np.int64)), "timestamps"),
    "length": (_replace("spikes/a/timestamps", lambda a: a[:1]), "differ"),
    "2-D": (_replace("spikes/a/timestamps", lambda a: a.reshape(1, 2)), "timestamps"),
    "units": (lambda f: f["spikes/a/timestamps"].attrs.__setitem__("units", "s"), "units"),
    "sorting": (lambda f: f["spikes/a"].attrs.__setitem__("sorting", "by_colour"), "sorting"),
    "external link": (
        lambda f: f["spikes"].__setitem__("b", h5py.ExternalLink("x.h5", "/")),
        "external link",
    ),
}


@pytest.mark.parametrize("case", list(SONATA_BAD))
def test_sonata_read_validation(tmp_path: Path, case: str) -> None:
    path = tmp_path / "s.h5"
    edit, expected = SONATA_BAD[case]
    _sonata_file(path, edit)
    with pytest.raises(FileFormatError, match=expected):
        snn.read_sonata_spikes(path)


def test_sonata_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "s.h5"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(FileFormatError):
        snn.read_sonata_spikes(path)
    snn.write_sonata_spikes(path, {"a": ([1.0, 2.0], [3, 4])})
    path.write_bytes(path.read_bytes()[:600])
    with pytest.raises(FileFormatError):
        snn.read_sonata_spikes(path)


# ------------------------------------------------------------ compact synapse layout (issue 3)
def _swap_table(f: h5py.File) -> None:
    t = f["engine/w_table"][()]
    t[0], t[1] = t[1], t[0]
    f["engine/w_table"][...] = t


def _unsorted_row(f: h5py.File) -> None:
    ip, code = f["engine/indptr"][()], f["engine/syn_code"][()]
    r = int(np.flatnonzero(np.diff(ip) >= 2)[0])
    code[ip[r]], code[ip[r] + 1] = code[ip[r] + 1], code[ip[r]] - 2
    f["engine/syn_code"][...] = code


def _float_weights_with_table(f: h5py.File) -> None:
    w = f["engine/w_table"][()][f["engine/syn_weight"][()]]
    _replace("engine/syn_weight", lambda a: w)(f)


SYNAPSE_BAD: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "table unsorted": (_swap_table, "w_table.*ascending"),
    "table duplicate": (
        lambda f: f["engine/w_table"].__setitem__(1, f["engine/w_table"][0]),
        "w_table.*distinct",
    ),
    "table NaN": (_poke("engine/w_table", 0, np.nan), "w_table.*NaN"),
    "index beyond table": (_poke("engine/syn_weight", 0, 65535), "syn_weight.*len\\(w_table\\)"),
    "indices without table": (_replace("engine/w_table", lambda a: a[:0]), "needs a weight table"),
    "float weights with table": (_float_weights_with_table, "w_table.*must be empty"),
    "table too big for uint8": (
        _replace("engine/syn_weight", lambda a: a.astype(np.uint8)),
        "cannot be indexed by uint8",
    ),
    "weight int32": (_replace("engine/syn_weight", lambda a: a.astype(np.int32)), "syn_weight"),
    "delay int16": (_replace("engine/syn_delay", lambda a: a.astype(np.int16)), "syn_delay"),
    "unsorted row": (_unsorted_row, "ascending within each row"),
}


@pytest.mark.parametrize("case", list(SYNAPSE_BAD))
def test_malformed_synapses_raise(
    saved: tuple[snn.Network, Path], tmp_path: Path, case: str
) -> None:
    net, path = saved
    assert net.engine.syn_weight.dtype == np.uint16 and 256 < net.engine.w_table.size < 65535
    bad = tmp_path / "bad.h5"
    shutil.copy(path, bad)
    edit, expected = SYNAPSE_BAD[case]
    with h5py.File(bad, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=expected):
        snn.load(bad)


def _layout_net(
    seed: int, weight: Any, delay: float, n: int = 60, inh_delay: float | None = None
) -> snn.Network:
    net = snn.Network(dt=0.1, seed=seed, threads=1)
    a = net.add_population(n, snn.LIF(i_offset=0.5), label="a")
    net.connect(a, a, snn.FixedProbability(0.2), weight=weight, delay=delay)
    net.connect(a[:10], a, snn.FixedProbability(0.2), weight=-0.2, delay=inh_delay, receptor="inh")
    net.record_spikes(a)
    return net


#: (weight, delay, n, inh_delay) -> (w_mode, syn_weight dtype, delay_const, syn_delay dtype)
LAYOUTS: dict[str, tuple[tuple[Any, float, int, float | None], tuple[int, Any, int, Any]]] = {
    "receptor-const": ((0.3, 0.5, 60, 0.5), (2, np.uint8, 5, np.uint8)),
    "receptor-u8": ((0.3, 0.5, 60, None), (2, np.uint8, 0, np.uint8)),
    "table-u16-const": ((snn.Uniform(0.0, 0.5), 0.1, 60, None), (1, np.uint16, 1, np.uint8)),
    "table-u16": ((snn.Uniform(0.0, 0.5), 0.5, 60, None), (1, np.uint16, 0, np.uint8)),
    "float-const": ((snn.Uniform(0.0, 0.5), 30.0, 700, 30.0), (0, np.float32, 300, np.uint8)),
    "float-u16": ((snn.Uniform(0.0, 0.5), 30.0, 700, None), (0, np.float32, 0, np.uint16)),
}


@pytest.mark.parametrize("case", list(LAYOUTS))
def test_compact_layouts_round_trip(tmp_path: Path, seed: int, case: str) -> None:
    """Each synapse layout is saved and loaded as it is, and the loaded network runs the same."""
    (weight, delay, n, inh_delay), (w_mode, w_dtype, delay_const, d_dtype) = LAYOUTS[case]
    full = _layout_net(seed, weight, delay, n, inh_delay)
    full.run(40.0)
    half = _layout_net(seed, weight, delay, n, inh_delay)
    half.run(20.0)
    e = half.engine
    assert (e.w_mode, e.delay_const) == (w_mode, delay_const)
    assert e.syn_weight.dtype == w_dtype and e.syn_delay.dtype == d_dtype
    assert e.syn_weight.size == (0 if w_mode == 2 else e.n_synapses)
    assert e.syn_delay.size == (0 if delay_const else e.n_synapses)
    snn.save(half, tmp_path / "l.h5")
    with h5py.File(tmp_path / "l.h5", "r") as f:
        assert f["engine"].attrs["w_mode"] == w_mode
        assert f["engine"].attrs["delay_const"] == delay_const
    net2 = snn.load(tmp_path / "l.h5")
    e2 = net2.engine
    assert (e2.w_mode, e2.delay_const) == (w_mode, delay_const)
    for name in ("syn_code", "syn_weight", "syn_delay", "w_table", "indptr"):
        assert getattr(e2, name).dtype == getattr(e, name).dtype, name
        np.testing.assert_array_equal(getattr(e2, name), getattr(e, name))
    net2.run(20.0)
    assert_recorders_equal(recorder_arrays(full), recorder_arrays(net2))


@pytest.fixture
def saved_receptor(tmp_path: Path, seed: int) -> Path:
    """A checkpoint with weights by receptor and one delay of 5 steps (ring of 8 slots)."""
    net = _layout_net(seed, 0.3, 0.5, 60, 0.5)
    net.run(5.0)
    assert (net.engine.w_mode, net.engine.delay_const, net.engine.ring.shape[0]) == (2, 5, 8)
    path = tmp_path / "receptor.h5"
    snn.save(net, path)
    return path


def _engine_attr(name: str, value: Any) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f["engine"].attrs[name] = value

    return edit


def _engine_attr_delete(name: str) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f["engine"].attrs[name]

    return edit


def _legacy(f: h5py.File) -> None:
    del f["engine"].attrs["w_mode"]
    del f["engine"].attrs["delay_const"]


RECEPTOR_BAD: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "w_mode 3": (_engine_attr("w_mode", 3), "w_mode.*outside the valid range"),
    "w_mode -1": (_engine_attr("w_mode", -1), "w_mode.*outside the valid range"),
    "w_mode float": (_engine_attr("w_mode", 2.0), "w_mode.*expected an integer"),
    "w_mode string": (_engine_attr("w_mode", "2"), "w_mode.*expected an integer"),
    "w_mode 1 without indices": (_engine_attr("w_mode", 1), "syn_weight.*length 0"),
    "w_mode 0 without values": (_engine_attr("w_mode", 0), "syn_weight.*length 0"),
    "w_mode missing": (_engine_attr_delete("w_mode"), "w_mode.*missing"),
    "delay_const missing": (_engine_attr_delete("delay_const"), "delay_const.*missing"),
    "legacy file without attributes": (_legacy, "w_mode.*missing"),
    "delay_const negative": (_engine_attr("delay_const", -1), "delay_const.*outside"),
    "delay_const too big": (_engine_attr("delay_const", 70000), "delay_const.*outside"),
    "delay_const beyond ring": (_engine_attr("delay_const", 8), "does not fit a ring of 8"),
    "delay_const not min_delay": (_engine_attr("delay_const", 3), "min_delay.*smallest delay 3"),
    "delay_const 0 without delays": (_engine_attr("delay_const", 0), "syn_delay.*length 0"),
    "delays and delay_const": (
        _replace("engine/syn_delay", lambda a: np.full(5, 5, np.uint8)),
        "syn_delay.*must be empty when delay_const=5",
    ),
    "weights in w_mode 2": (
        _replace("engine/syn_weight", lambda a: np.zeros(5, np.uint8)),
        "syn_weight.*must be empty when w_mode is 2",
    ),
    "table of 3": (
        _replace("engine/w_table", lambda a: np.float32([0.3, -0.2, 0.0])),
        "w_table.*w_mode 2 needs one weight per receptor",
    ),
    "table of 0": (_replace("engine/w_table", lambda a: a[:0]), "w_table.*0 entries"),
    "table NaN": (_poke("engine/w_table", 1, np.nan), "w_table.*NaN"),
    "table Inf": (_poke("engine/w_table", 0, np.inf), "w_table.*NaN or Inf"),
}


@pytest.mark.parametrize("case", list(RECEPTOR_BAD))
def test_malformed_layout_attributes_raise(saved_receptor: Path, tmp_path: Path, case: str) -> None:
    """w_mode / delay_const are validated against the arrays they describe."""
    bad = tmp_path / "bad.h5"
    shutil.copy(saved_receptor, bad)
    edit, expected = RECEPTOR_BAD[case]
    with h5py.File(bad, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=expected):
        snn.load(bad)


def test_files_without_layout_attributes_are_refused(
    saved: tuple[snn.Network, Path], tmp_path: Path
) -> None:
    """Schema 2 requires w_mode / delay_const (files without them predate it)."""
    _, path = saved
    old = tmp_path / "old.h5"
    shutil.copy(path, old)
    with h5py.File(old, "r+") as f:
        assert f["engine"].attrs["w_mode"] == 1
        _legacy(f)
    with pytest.raises(FileFormatError, match=r"w_mode.*missing"):
        snn.load(old)
