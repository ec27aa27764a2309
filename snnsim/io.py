"""HDF5 checkpoints of whole networks and SONATA spike reports: the public entry points.

This module is a thin facade; the work is done by focused modules:

- :mod:`snnsim.h5safe`: atomic writes, checksummed datasets, structure checks (links,
  storage, sizes) and the validating :class:`~snnsim.h5safe.Reader`;
- :mod:`snnsim.description_io`: ``/description`` (populations, projections, inputs);
- :mod:`snnsim.engine_state`, :mod:`snnsim.state_checks` and :mod:`snnsim.checkpoint`:
  ``/engine``, the simulation state, declared once per array in a registry (with its
  validator) that drives writer and reader;
- :mod:`snnsim.recordings_io`: ``/recorders``;
- :mod:`snnsim.sonata`: SONATA spike reports.

Checkpoint schema (``format="snnsim"``, ``schema_version=2``)
-------------------------------------------------------------
Root attributes: ``format``, ``schema_version``, ``snnsim_version``, ``seed``, ``dt`` (ms,
``dt_units="ms"``), ``threads``, ``threads_auto``, ``precision``, ``event_driven``, ``step``
(time steps simulated), ``t`` (ms), ``created`` (ISO 8601, UTC).

``/description`` (what the network is):

- ``populations/<p>``: attrs ``label``, ``size``, ``start``, ``model``; sub-groups ``params``
  (one attribute per model parameter) and ``param_units`` (its unit); ``SpikeSource``
  populations also hold ``times_indptr`` (CSR rows, one per neuron) and ``times`` (ms) and the
  attr ``round_times``;
- ``projections/<j>``: attrs ``label``, ``pre``, ``post`` (population labels), ``receptor``,
  ``round_delays``, ``weight``, ``delay`` (text descriptions), datasets ``pre_indices``,
  ``post_indices`` and a ``connector`` group whose attributes are the connector description.
  The synapses themselves live in ``/engine`` (they are never regenerated);
- ``inputs/<k>``: attrs ``input`` (``PoissonInput`` or ``StepCurrent``), ``target`` (label),
  ``whole`` (whether the target was the whole population), dataset ``indices``; Poisson inputs
  add attrs ``n_inputs``, ``rate`` (Hz), ``weight``, ``receptor``; step currents add datasets
  ``times`` (ms) and ``amplitudes`` (nA).

``/engine``: every saved array of :data:`snnsim.engine_state.ENGINE_ARRAYS` with its
``units``, and one attribute per :data:`snnsim.engine_state.ENGINE_SCALARS` entry (``step``,
``min_delay``, ``w_mode``, ``delay_const``, ``total_spikes``, ``total_events``, each with a
``<name>_units`` attribute) plus ``n``. The ring buffer ``ring`` holds the spikes in flight,
so a loaded network resumes bit-exactly. The synapses keep their compact layout
(:mod:`snnsim.synapses`), selected by ``w_mode``: 0, ``syn_weight`` float32 with an empty
``w_table``; 1, ``syn_weight`` uint8/uint16 indices into ``w_table`` (float32, distinct,
ascending); 2, weight by receptor: ``w_table`` float32[2] and ``syn_weight`` empty.
``syn_delay`` is uint8 or uint16, or empty when ``delay_const`` > 0 is the delay of every
synapse (steps).

``/recorders/<i>`` (creation order): attrs ``kind`` (``spikes``, ``state`` or ``rates``),
``population``, dataset ``indices``; spikes: ``steps``, ``ids`` (and ``times`` in ms);
state: ``steps``, ``data`` (and ``times``), attrs ``variables``, ``every``; rates: ``counts``
(and ``rates`` in Hz, ``times`` in ms), attr ``bin_steps``; weights (``kind="weights"``):
no population, attrs ``projection`` (index), ``projection_label``, ``start_step`` and
``every`` (steps), datasets ``synapses`` (indices in ``Projection.get`` order), ``steps``,
``values`` (n_samples x n_synapses) and ``times`` (ms).

Every group of numbered children (``populations``, ``projections``, ``inputs``, ``recorders``)
carries a ``count`` attribute. Every dataset carries a ``units`` attribute; every non-scalar
dataset is stored with Fletcher-32 checksums (measured on a 64k-neuron CUBA network, 82M
synapses, 320 MiB file: save 0.27 -> 0.49 s, load 0.35 -> 0.56 s, best of 7; about 0.2 s
per 300 MiB each way). No pickle is used anywhere. Version 2 differs
from version 1 by the checksums, the ``*_units`` and ``n`` attributes of ``/engine`` and the
required ``w_mode``/``delay_const``; version-1 files are refused with a message naming the
versions this snnsim reads.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from snnsim import h5safe
from snnsim.checkpoint import read_engine, write_engine
from snnsim.delay_plasticity import DelayPlasticity
from snnsim.description_io import (
    LoadedConnector,
    read_description,
    target_of,
    write_description,
)
from snnsim.engine import compile_kernels
from snnsim.engine_state import ENGINE_ARRAYS as _REGISTRY
from snnsim.engine_state import (
    Layout,
    PoissonLayout,
    PopulationLayout,
    check_registry,
    saved_arrays,
)
from snnsim.errors import FileFormatError, ParameterError, SimulationError, SnnsimError
from snnsim.h5safe import PathLike, Reader
from snnsim.inputs import PoissonInput
from snnsim.modulation import Modulation
from snnsim.network import Network, Projection
from snnsim.paths import check_output_file
from snnsim.plasticity import STDP
from snnsim.recordings_io import read_recorders, restore_recorders, write_recorders
from snnsim.sonata import read_sonata_spikes, write_sonata_spikes

__all__ = [
    "DERIVED_ENGINE_ARRAYS",
    "ENGINE_ARRAYS",
    "FORMAT",
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "LoadedConnector",
    "load",
    "read_sonata_spikes",
    "save",
    "write_sonata_spikes",
]

#: Value of the root ``format`` attribute of snnsim checkpoints.
FORMAT = "snnsim"
#: Schema version written by :func:`save`.
SCHEMA_VERSION = 2
#: Schema versions :func:`load` reads.
SUPPORTED_SCHEMA_VERSIONS = (2,)

#: Saved engine arrays: name -> (dtype, ``units``) (from :mod:`snnsim.engine_state`).
ENGINE_ARRAYS: dict[str, tuple[type[np.generic], str]] = {
    e.name: (e.dtype.allowed[0], e.units) for e in saved_arrays()
}
#: Engine arrays rebuilt from the description on load, never written.
DERIVED_ENGINE_ARRAYS = tuple(e.name for e in _REGISTRY if not e.saved)


def _write_root(f: Any, net: Network) -> None:
    eng = net.engine
    f.attrs["format"] = FORMAT
    f.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
    f.attrs["snnsim_version"] = h5safe.snnsim_version()
    f.attrs["seed"] = np.uint64(net.seed)
    f.attrs["dt"] = np.float64(net.dt)
    f.attrs["dt_units"] = "ms"
    f.attrs["threads"] = np.int64(net.threads)
    f.attrs["threads_auto"] = np.int64(net.threads_auto)
    f.attrs["precision"] = net.precision
    f.attrs["event_driven"] = np.int64(-1 if net.event_driven is None else net.event_driven)
    f.attrs["step"] = np.int64(eng.step)
    f.attrs["t"] = np.float64(eng.step * net.dt)
    f.attrs["t_units"] = "ms"
    f.attrs["created"] = h5safe.wall_clock()


def save(net: Network, path: PathLike) -> None:
    """Save a network, its full simulation state and its recordings to an HDF5 file.

    The file holds everything needed to continue the simulation bit-exactly with
    :func:`load`: neuron state, synapses, ring buffers (spikes in flight), input schedules,
    random-stream keys, the current step and every recorder's data. A network that was
    never built is built first.

    Parameters
    ----------
    net : Network
        The network to save.
    path : str or os.PathLike
        Destination file (conventionally ``*.h5``). It is written atomically: a temporary
        file in the same folder is written, flushed, fsynced and renamed over ``path``; if
        anything fails the temporary file is removed and a previous file is left intact.

    Raises
    ------
    ParameterError
        If ``net`` is not a :class:`~snnsim.network.Network`.
    OSError
        If the folder is not writable or the disk is full (nothing is left behind).
    """
    if not isinstance(net, Network):
        raise ParameterError(f"save(net={net!r}): expected a snnsim.Network")
    check_output_file(path, "save")  # name the user's path, not the temporary file
    eng = net.build()
    try:
        check_registry()
    except RuntimeError as err:
        raise SimulationError(f"save: {err}") from None

    def writer(f: Any) -> None:
        _write_root(f, net)
        write_description(f, net)
        write_engine(f, eng)
        write_recorders(f, net)

    h5safe.atomic_h5_write(path, writer)


def _read_root(r: Reader) -> dict[str, Any]:
    """Check format and schema version; return the run configuration."""
    f = r.f
    fmt = r.attr_str(f, "format", "")
    if fmt != FORMAT:
        raise r.fail(
            "root attribute 'format'", f"{fmt!r} (expected {FORMAT!r}): not an snnsim file"
        )
    sv = r.attr_int(f, "schema_version")
    if sv not in SUPPORTED_SCHEMA_VERSIONS:
        wrote = r.attr_str(f, "snnsim_version", "unknown")
        raise r.fail(
            "root attribute 'schema_version'",
            f"version {sv} is not supported: this snnsim ({h5safe.snnsim_version()}) reads "
            f"schema version(s) {', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}; load the "
            f"file with the snnsim that wrote it ({wrote}), or rebuild the network and save "
            "it with this version",
        )
    dt = r.attr_float(f, "dt")
    if dt <= 0:
        raise r.fail("root attribute 'dt'", f"{dt} ms must be > 0")
    precision = r.attr_str(f, "precision", "double")
    if precision not in ("double", "single"):
        raise r.fail("root attribute 'precision'", f"{precision!r} (expected 'double' or 'single')")
    ev_flag = r.attr_int(f, "event_driven", -1, 1)
    return {
        "dt": dt,
        "seed": r.attr_int(f, "seed", 0, 2**64 - 1),
        "threads": r.attr_int(f, "threads", 1, 1 << 20),
        "threads_auto": bool(r.attr_int(f, "threads_auto", 0, 1)),
        "precision": precision,
        "event_driven": None if ev_flag < 0 else bool(ev_flag),
    }


def _load_open(r: Reader) -> Network:
    h5safe.check_structure(r)
    config = _read_root(r)
    dt = config["dt"]
    step = r.attr_int(r.f, "step", 0, 1 << 62)
    desc = read_description(r, dt)
    pops = desc.populations
    recs = read_recorders(r, pops, step, len(desc.projections))
    layout = Layout(
        [PopulationLayout(p.label, p.size, p.start, p.model) for p in pops],
        [
            PoissonLayout(k, np.sort(pops[t.pop].start + t.indices), inp, pops[t.pop].model)
            for k, (t, inp) in enumerate(desc.inputs)
            if isinstance(inp, PoissonInput)
        ],
        dt,
        config["seed"],
        step,
        config["precision"],
        len(desc.projections),
    )
    eng = read_engine(r, layout, config)

    # ---- everything validated: build the Python objects
    try:
        net = Network(
            dt=dt,
            seed=config["seed"],
            threads=None if config["threads_auto"] else config["threads"],
            precision=config["precision"],
            event_driven=config["event_driven"],
        )
        objs = [net.add_population(p.size, p.model, p.label) for p in pops]
        for obj, pop_desc in zip(objs, pops, strict=True):
            obj.set_calls_before = pop_desc.set_calls
        for j, pd in enumerate(desc.projections):
            net.projections.append(
                Projection(
                    j,
                    target_of(objs[pd.pre.pop], pd.pre),
                    target_of(objs[pd.post.pop], pd.post),
                    LoadedConnector(pd.connector),
                    None,
                    None,
                    pd.receptor,
                    pd.round_delays,
                    pd.label,
                    weight_exp=pd.weight_exp,
                    exact_weights=pd.exact_weights,
                )
            )
        for b, rule in zip(eng.mb_proj, eng.pl_rule, strict=True):
            if rule >= 0:  # the rule lives in the engine (pl_param)
                net.projections[int(b)].plasticity = STDP.from_row(eng.pl_param[rule])
        for b, d_rule in zip(eng.mb_proj, eng.dp_rule, strict=True):
            if d_rule >= 0:  # the delay rule and its bounds live in the engine (dp_param)
                proj = net.projections[int(b)]
                proj.delay_plasticity = DelayPlasticity.from_row(eng.dp_param[d_rule])
                proj.delay_bounds = DelayPlasticity.bounds_of_row(eng.dp_param[d_rule], dt)
        for t, inp in desc.inputs:
            net.add_input(target_of(objs[t.pop], t), inp)
        for k, md in enumerate(desc.modulations):  # their arrays live in the engine (md_*)
            net.modulations.append(
                Modulation(
                    k,
                    target_of(objs[md.source.pop], md.source),
                    net.projections[md.projection]
                    if md.target is None
                    else target_of(objs[md.target.pop], md.target),
                    None
                    if md.connector == "None"
                    else LoadedConnector({"connector": md.connector}),
                    md.effect,
                    md.weight,
                    md.delay,
                    round(md.delay / dt),
                    md.pairs_src,
                    md.pairs_tgt,
                    md.projection,
                )
            )
        net.attach_engine(eng)  # a loaded network counts as built
        # after attaching: weight recorders check their synapses against the engine
        restore_recorders(r, net, objs, recs, dt)
    except SnnsimError as err:
        if isinstance(err, FileFormatError):
            raise
        raise r.fail("/description", f"cannot rebuild the network: {err}") from None
    eng.compile_s = compile_kernels(eng, net.recorders)
    return net


def load(path: PathLike) -> Network:
    """Load a network saved by :func:`save`, ready to continue running.

    The returned network has the same ``dt``, ``seed`` and ``threads``, the same populations
    (models, parameters, labels, order), inputs, projections (as descriptions: the synapses
    are restored in the engine and never regenerated) and recorders (creation order, holding
    everything recorded before the save; further runs append to them). Its engine is rebuilt
    from the saved arrays, so ``run(T)`` gives bit-identical spikes and traces to the
    original network continuing for ``T`` ms. The network counts as built: adding
    populations, projections, inputs or recorders raises
    :class:`~snnsim.errors.SimulationError`.

    Parameters
    ----------
    path : str or os.PathLike
        File written by :func:`save`.

    Returns
    -------
    Network

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FileFormatError
        If the file is not HDF5, is truncated or corrupt, is not an snnsim checkpoint, has an
        unsupported schema version, or any dataset is missing, has the wrong dtype or shape,
        holds out-of-range values, or uses external links, external storage or virtual
        datasets, soft or hard links, declares more data than the description implies or
        than the available memory holds, fails a checksum, or breaks an invariant the API
        enforces (weight signs per receptor, finite state, indices in range). Nothing is
        built before the whole file has been validated. Errors that are not caused by the
        file (bugs) propagate unchanged.
    """
    import h5py

    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(f"load: no such file: {p!r}")
    if os.path.isdir(p):
        raise FileFormatError(f"{p}: is a directory, not an snnsim HDF5 file")
    try:
        if not h5py.is_hdf5(p):
            raise FileFormatError(f"{p}: not an HDF5 file (an snnsim checkpoint is HDF5)")
        f = h5py.File(p, "r")
    except OSError as err:
        raise FileFormatError(f"{p}: cannot open as HDF5 ({err}); the file is damaged") from err
    with f:
        return _load_open(Reader(f, p))
