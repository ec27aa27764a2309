"""Build: turn a network description into an :class:`~snnsim.engine.Engine`.

``build_engine`` is the one place where the description becomes arrays (design.md section
3): it checks the memory the network will need before allocating, lays out neuron state
from the models (coefficients, initial values, derived tables), resolves the projections
into synapse storage (:mod:`snnsim.synapses`) and the inputs into change events and
Poisson drives, then compiles (or loads from the cache) the run loop.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.delay_plasticity import DelayPlasticity, check_delays_within
from snnsim.distributions import Distribution
from snnsim.engine import GAP_STEPS, Engine, available_memory, compile_kernels
from snnsim.errors import ParameterError, ResourceError
from snnsim.inputs import PoissonInput, StepCurrent
from snnsim.kernels.jit_options import start_threads
from snnsim.kernels.random_streams import stream_key
from snnsim.modulation import build_modulation, restart_history
from snnsim.plastic_blocks import set_block_rule
from snnsim.plasticity import STDP, synapse_array_rows
from snnsim.streams import STREAM_INIT, STREAM_INPUT, STREAM_SOURCE, stream_id
from snnsim.synapse_blocks import set_delay_rule
from snnsim.synapses import MAX_DELAY_STEPS, build_synapses, bytes_per_synapse, resolve_projection
from snnsim.timegrid import steps_on_grid

if TYPE_CHECKING:
    from snnsim.models import NeuronModel
    from snnsim.network import Network

__all__ = ["MAX_NEURONS", "build_engine", "check_memory", "initial_state", "model_arrays",
           "reset_engine"]  # fmt: skip


def _next_pow2(x: int) -> int:
    p = 1
    while p < x:
        p <<= 1
    return p


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


# ---------------------------------------------------------------------------------- build
def _estimate_bytes(net: Network) -> tuple[float, float, int]:
    n = sum(p.size for p in net.populations)
    syn = 0.0
    for proj in net.projections:
        syn += proj.connector.expected_synapses(proj.pre.size, proj.post.size)
    max_d = 1
    for proj in net.projections:
        d = proj.delay
        try:
            if isinstance(d, Distribution):
                hi = d.bounds()[1]
                max_d = max(max_d, int(min(hi / net.dt, MAX_DELAY_STEPS)) + 1)
            elif d is not None:
                arr = np.asarray(d, dtype=np.float64)
                finite = arr[np.isfinite(arr)]
                if finite.size:
                    max_d = max(max_d, int(min(finite.max() / net.dt, MAX_DELAY_STEPS)) + 1)
        except (TypeError, ValueError):
            pass
    ring = _next_pow2(max_d + 1) * 2 * n * (4 if net.precision == "single" else 8)
    # synapses: 4-10 B stored, written in place (snnsim.synapses.bytes_per_synapse: an upper
    # estimate of the peak, transients included); while building, per projection: ids, row
    # pointers and per-chunk row counts (<= 8 chunks)
    building = sum(88 * proj.pre.size + 8 * proj.post.size for proj in net.projections)
    return syn, syn * bytes_per_synapse(net) + ring + n * 80 + building, ring


#: Most neurons one network supports (spike codes are int32: two per neuron).
MAX_NEURONS = 2**30 - 1


def check_memory(net: Network, what: str) -> None:
    """Refuse a description whose sizes alone need more memory than is available.

    Called by ``add_population`` and ``connect`` (so the call that makes the network too
    large fails, before anything is allocated) and again by the build. The estimate is
    the build's: neuron state, ring buffers and the expected number of synapses.

    Raises
    ------
    ResourceError
        With the estimate, what is available and how to shrink the network.
    """
    n = sum(p.size for p in net.populations)
    if n > MAX_NEURONS:
        raise ResourceError(
            f"{what}: the network would have {n} neurons; at most {MAX_NEURONS} neurons per "
            "network are supported: use fewer or smaller populations"
        )
    n_syn_est, need, ring_bytes = _estimate_bytes(net)
    avail = available_memory()
    if need > avail:
        raise ResourceError(
            f"{what}: this network needs about {_gib(need)} ({n} neurons, about "
            f"{n_syn_est:.3g} synapses, ring buffers {_gib(ring_bytes)}) but only "
            f"{_gib(avail)} is available; reduce the network size, the connection "
            "probability or the largest delay"
        )


def model_arrays(
    models: Sequence[NeuronModel], sizes: Sequence[int], dt: float
) -> dict[str, npt.NDArray[Any]]:
    """Engine arrays derived from the (resolved) models of the populations.

    Never saved: a loader rebuilds them from the description.

    - ``coeffs``: one row per population of its kernel coefficients (layout per model), as
      wide as the widest layout; zeros for a heterogeneous population;
    - ``ncoeffs``, ``pop_noff``: per-neuron coefficients of heterogeneous populations
      (coefficient ``k`` of neuron ``i`` at ``pop_noff[p] + k * size + i``; -1: homogeneous);
    - ``gap``: input-free propagators of event-driven populations,
      ``float64[n_pop, GAP_STEPS + 1, m]`` (zeros for the others);
    - ``pop_event``: 0 (clock-driven only: no event-driven kernels, or heterogeneous), 1
      (event-driven kernels) or 2 (and its neurons can rest, so skipping them pays).
    """
    width = max([len(m.coefficient_names) for m in models], default=0) or 1
    coeffs = np.zeros((len(models), width))
    noff = np.full(len(models), -1, dtype=np.int64)
    blocks: list[npt.NDArray[np.float64]] = []
    at = 0
    tables: list[npt.NDArray[np.float64] | None] = []
    for p, (m, size) in enumerate(zip(models, sizes, strict=True)):
        n_c = len(m.coefficient_names)
        if m.homogeneous:
            row = np.asarray(m.coefficients(dt), dtype=np.float64)
            if row.shape != (n_c,):
                raise ParameterError(  # a model class that does not follow its own layout
                    f"{m.name}.coefficients returned {row.size} values for {n_c} coefficient_names"
                )
            coeffs[p, :n_c] = row
            tables.append(m.gap_propagators(dt, GAP_STEPS) if m.event_driven else None)
        else:
            block = np.zeros((width, size))
            block[:n_c] = m.coefficient_matrix(dt, size)
            blocks.append(block.reshape(-1))
            noff[p] = at
            at += block.size
            tables.append(None)
    m_gap = max([t.shape[1] for t in tables if t is not None], default=1)
    gap = np.zeros((len(models), GAP_STEPS + 1, m_gap))
    for p, t in enumerate(tables):
        if t is not None:
            gap[p, :, : t.shape[1]] = t
    pop_event = np.array(
        [
            (2 if m.can_idle() else 1) if t is not None else 0
            for m, t in zip(models, tables, strict=True)
        ],
        dtype=np.int8,
    )
    ncoeffs = np.concatenate(blocks) if blocks else np.zeros(0)
    return {"coeffs": coeffs, "ncoeffs": ncoeffs, "pop_noff": noff, "gap": gap,
            "pop_event": pop_event}  # fmt: skip


def initial_state(
    model: NeuronModel,
    size: int,
    index: int,
    calls: Sequence[tuple[str, npt.NDArray[np.int64], Any]],
    seed: int,
    dt: float,
    step: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return the initial state of population ``index``, as the build writes it.

    The model's defaults (:meth:`~snnsim.models.NeuronModel.initial_state`,
    :meth:`~snnsim.models.NeuronModel.initial_int_state`), then ``calls`` in order:
    ``(variable, local indices, value)`` from ``initialize`` or ``set_state`` before the
    build. A distribution is sampled for the whole population from the stream
    ``(seed, STREAM_INIT, 64 * index + k)`` of variable ``k`` (float variables first, then
    integer ones) and the selected neurons take their values.

    Returns
    -------
    floats : float64[n_float_vars, size]
    ints : int64[n_int_vars, size]
    """
    defaults = model.initial_state()
    floats = np.empty((len(model.float_vars), size))
    for k, var in enumerate(model.float_vars):
        floats[k] = defaults[var]
    int_defaults = model.initial_int_state(size, dt, step)
    ints = np.zeros((len(model.int_vars), size), dtype=np.int64)
    for k, var in enumerate(model.int_vars):
        ints[k] = int_defaults[var]
    names = model.float_vars + model.int_vars
    for var, idx, value in calls:
        k = names.index(var)
        if isinstance(value, Distribution):
            skey = stream_key(np.uint64(seed), np.uint64(stream_id(STREAM_INIT, index * 64 + k)))
            value = value.sample(skey, size)[idx]
        if k < floats.shape[0]:
            floats[k, idx] = value
        else:
            ints[k - floats.shape[0], idx] = np.rint(value).astype(np.int64)
    return floats, ints


def build_engine(net: Network, progress: bool = False) -> Engine:
    """Turn a network description into an :class:`Engine` (validates everything first).

    Parameters
    ----------
    net : Network
        The description.
    progress : bool
        Print a notice on stderr before kernels are compiled (a cold cache), and how long
        compiling took.

    Returns
    -------
    Engine
        With ``build_s`` (making the arrays) and ``compile_s`` (compiling kernels or loading
        them from the disk cache: the connectivity kernels used while building and the run
        loop) measured apart.
    """
    from snnsim.compilation import watch_compilation

    with watch_compilation(progress) as (watch, lock):
        t0 = time.perf_counter()
        eng = _build_arrays(net)
        jit_s = lock.duration if lock.done else 0.0  # compiling/loading kernels while building
        eng.build_s = time.perf_counter() - t0 - jit_s
        eng.compile_s = jit_s + compile_kernels(eng, net.recorders)
    watch.report()
    return eng


def _build_arrays(net: Network) -> Engine:
    start_threads()  # before any parallel kernel (connectivity, run loop)
    if not net.populations:
        raise ParameterError("Network has no population; add one with net.add_population(...)")
    dt = net.dt
    check_memory(net, "build")
    seed = np.uint64(net.seed)

    pops = net.populations
    n = sum(p.size for p in pops)
    kinds, starts, sizes, foffs, ioffs, doffs, keys = [], [], [], [], [], [], []
    models = [p.resolved_model() for p in pops]
    f_parts: list[npt.NDArray[np.float64]] = []
    i_parts: list[npt.NDArray[np.int64]] = []
    d_parts: list[npt.NDArray[np.int64]] = []
    fo = io_ = do = 0
    for p, model in zip(pops, models, strict=True):
        model.check_dt(dt)
        model.check_size(p.size)
        kinds.append(model.kind)
        starts.append(p.start)
        sizes.append(p.size)
        foffs.append(fo)
        ioffs.append(io_)
        doffs.append(do)
        keys.append(stream_key(seed, np.uint64(stream_id(STREAM_SOURCE, p.index))))
        block, iblock = initial_state(
            model, p.size, p.index, p.initial_values, net.seed, dt, net.step
        )
        f_parts.append(block.reshape(-1))
        i_parts.append(iblock.reshape(-1))
        sdata = model.static_data(dt, net.step)
        d_parts.append(sdata)
        fo += block.size
        io_ += iblock.size
        do += sdata.size

    fdtype = np.float32 if net.precision == "single" else np.float64

    def cat_f(parts: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.floating[Any]]:
        return np.concatenate(parts).astype(fdtype) if parts else np.zeros(0, dtype=fdtype)

    def cat_i(parts: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    syn = build_synapses(net, seed, n)
    indptr, code, weight, delay = syn.indptr, syn.code, syn.weight, syn.delay
    max_delay, min_delay = syn.max_delay, syn.min_delay
    slots = _next_pow2(max_delay + 1)
    ring = np.zeros((slots, 2 * n), dtype=fdtype)

    ev_step, ev_gid, ev_value, i_ext = _build_step_currents(net, n)
    pin = _build_poisson_inputs(net, seed)

    eng = Engine(
        dt=dt,
        seed=net.seed,
        n=n,
        threads=net.threads,
        threads_auto=net.threads_auto,
        pop_kind=np.array(kinds, dtype=np.int64),
        pop_start=np.array(starts, dtype=np.int64),
        pop_size=np.array(sizes, dtype=np.int64),
        pop_foff=np.array(foffs, dtype=np.int64),
        pop_ioff=np.array(ioffs, dtype=np.int64),
        pop_doff=np.array(doffs, dtype=np.int64),
        pop_key=np.array(keys, dtype=np.uint64),
        fstate=cat_f(f_parts),
        istate=cat_i(i_parts).astype(np.int32 if net.precision == "single" else np.int64),
        idata=cat_i(d_parts),
        i_ext=i_ext.astype(fdtype),
        indptr=indptr,
        syn_code=code,
        syn_weight=weight,
        syn_delay=delay,
        ring=ring,
        min_delay=min_delay,
        ev_step=ev_step,
        ev_gid=ev_gid,
        ev_value=ev_value,
        **pin,
        precision=net.precision,
        event_driven=net.event_driven,
        w_table=syn.w_table,
        w_mode=syn.w_mode,
        delay_const=syn.delay_const,
        syn_tag=syn.tag,
        **model_arrays(models, [p.size for p in pops], dt),  # type: ignore[arg-type]
        step=net.step,
        spike_count=np.zeros(n, dtype=np.int64),
    )
    _build_plastic(net, eng)
    build_modulation(net, eng)
    return eng


def reset_engine(net: Network, eng: Engine) -> None:
    """Return ``eng`` to step 0 with the neuron state the build writes (``Network.reset``).

    Neuron state: the models' initial values, then the ``initialize`` / ``set_state`` calls
    made before the build (:func:`initial_state`; a ``SpikeSource`` points at its first
    spike). The ring buffer (spikes in flight), spike counters and event-driven bookkeeping
    are cleared; step currents are scheduled again from step 0. Parameters, weights,
    delays and source schedules keep their current values.
    """
    eng.step = 0
    f_parts, i_parts = [], []
    for p in net.populations:
        floats, ints = initial_state(
            p.resolved_model(), p.size, p.index, p.initial_values, net.seed, net.dt, 0
        )
        f_parts.append(floats.reshape(-1))
        i_parts.append(ints.reshape(-1))
    if f_parts:
        eng.fstate[:] = np.concatenate(f_parts)
    if i_parts:
        eng.istate[:] = np.concatenate(i_parts)
    eng.ev_step, eng.ev_gid, eng.ev_value, i_ext = _build_step_currents(net, eng.n)
    eng.i_ext[:] = i_ext
    eng.ring[:] = 0.0
    restart_history(eng)
    eng.spike_count[:] = 0
    eng.total_spikes = eng.total_events = 0
    # empty: the next run starts the event-driven bookkeeping afresh at step 0
    eng.ev_last = np.zeros(0, dtype=np.int64)
    eng.ev_blk = np.zeros(0, dtype=np.int64)
    eng.ev_busy = np.zeros(0, dtype=np.uint64)


def _build_plastic(net: Network, eng: Engine) -> None:
    """Move plastic and ``exact_weights`` projections into mutable blocks.

    A plastic projection's block carries its rule; an ``exact_weights`` one has none. The
    weights are resolved again in float64 (the same streams as the static block, which
    stores float32: STDP needs the exact values) and checked against the rule's bounds.
    """
    # the rules' per-synapse arrays: rows fixed by the rule kinds the network uses
    kinds = [k for k in (STDP, DelayPlasticity) if any(_uses(p, k) for p in net.projections)]
    rows = synapse_array_rows(kinds)
    decls = {d.name: d for k in kinds for d in k.synapse_arrays}
    init = {"int64": [], "float64": []}  # type: dict[str, list[float]]
    for name in rows:  # rows are numbered per dtype in this order
        init[decls[name].dtype].append(decls[name].initial)
    init_i64 = np.array(init["int64"], dtype=np.int64)
    init_f64 = np.array(init["float64"], dtype=np.float64)
    for proj in net.projections:
        rule, d_rule = proj.plasticity, proj.delay_plasticity
        if rule is None and d_rule is None and not proj.exact_weights:
            continue
        table = resolve_projection(net, proj)
        if rule is not None and len(table):
            rule.check_weights(
                float(table.weight.min()), float(table.weight.max()), f"{proj!r} (plasticity)"
            )
        if d_rule is not None and proj.delay_bounds is not None and len(table):
            check_delays_within(
                proj.delay_bounds, float(table.delay.min()) * net.dt,
                float(table.delay.max()) * net.dt, f"{proj!r} (delay plasticity)",
            )  # fmt: skip
        eng.set_projection(
            proj.index, proj.pre.global_ids, proj.post.global_ids, table.receptor, table.pre,
            table.post, table.weight.astype(np.float64), table.delay,
        )  # fmt: skip
        if rule is not None:
            set_block_rule(eng, proj.index, rule.as_row())
        if d_rule is not None and proj.delay_bounds is not None:
            bounds = (round(proj.delay_bounds[0] / net.dt), round(proj.delay_bounds[1] / net.dt))
            row = d_rule.as_row(net.dt, bounds, rows["dp_arrival"])
            set_delay_rule(eng, proj.index, row, init_i64, init_f64)


def _uses(proj: Any, kind: type) -> bool:
    """Whether projection ``proj`` has a rule of class ``kind``."""
    return isinstance(proj.plasticity, kind) or isinstance(proj.delay_plasticity, kind)


def _build_step_currents(
    net: Network, n: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """Merge step currents into per-neuron change events ``(stamp, gid, total current)``."""
    i_ext = np.zeros(n)
    sources: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]] = []
    for target, inp in net.inputs:
        if not isinstance(inp, StepCurrent):
            continue
        if not target.model.receptors:
            raise ParameterError(f"add_input: {target.model.name} neurons take no current input")
        stamps = np.array(
            [steps_on_grid(t, net.dt, "StepCurrent: time") + 1 for t in inp.times], dtype=np.int64
        )
        sources.append((stamps, inp.amplitudes, target.global_ids))
    if not sources:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0), i_ext
    # group neurons by the set of sources that drive them
    members: dict[int, list[int]] = {}
    groups: dict[tuple[int, ...], list[int]] = {}
    for si, (_, _, gids) in enumerate(sources):
        for g in gids.tolist():
            members.setdefault(g, []).append(si)
    for g, sl_list in members.items():
        groups.setdefault(tuple(sl_list), []).append(g)
    ev_s, ev_g, ev_v = [], [], []
    for sl, gids_list in groups.items():
        stamps_all = np.unique(np.concatenate([sources[s][0] for s in sl]))
        totals = np.zeros(stamps_all.size)
        for s in sl:
            st, amp, _ = sources[s]
            idx = np.searchsorted(st, stamps_all, side="right") - 1
            totals += np.where(idx >= 0, amp[np.maximum(idx, 0)], 0.0)
        g_arr = np.array(sorted(gids_list), dtype=np.int64)
        past = stamps_all <= net.step
        if past.any():
            i_ext[g_arr] = totals[past][-1]
        for st, val in zip(stamps_all[~past], totals[~past], strict=True):
            ev_s.append(np.full(g_arr.size, st))
            ev_g.append(g_arr)
            ev_v.append(np.full(g_arr.size, val))
    if not ev_s:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0), i_ext
    s_all = np.concatenate(ev_s).astype(np.int64)
    g_all = np.concatenate(ev_g).astype(np.int64)
    v_all = np.concatenate(ev_v)
    order = np.lexsort((g_all, s_all))
    return s_all[order], g_all[order], v_all[order], i_ext


def _build_poisson_inputs(net: Network, seed: np.uint64) -> dict[str, Any]:
    indptr = [0]
    targets, ns, ps, ws, recs, keys = [], [], [], [], [], []
    for idx, (target, inp) in enumerate(net.inputs):
        if not isinstance(inp, PoissonInput):
            continue
        model = target.model
        what = f"add_input({target.population.label}, PoissonInput)"
        rec = model.receptor_index(inp.receptor, what)
        model.check_weight_range(inp.weight, inp.weight, rec, what)
        p = inp.rate * net.dt * 1e-3
        if p > 1.0:
            raise ParameterError(
                f"{what}: rate {inp.rate} Hz gives rate*dt = {p:g} > 1; use more inputs at a "
                "lower rate or a smaller dt"
            )
        gids = np.sort(target.global_ids)
        targets.append(gids)
        indptr.append(indptr[-1] + gids.size)
        ns.append(inp.n_inputs)
        ps.append(p)
        ws.append(inp.weight)
        recs.append(rec)
        keys.append(stream_key(seed, np.uint64(stream_id(STREAM_INPUT, idx))))
    return {
        "pin_indptr": np.array(indptr, dtype=np.int64),
        "pin_targets": np.concatenate(targets).astype(np.int64)
        if targets
        else np.zeros(0, dtype=np.int64),
        "pin_n": np.array(ns, dtype=np.int64),
        "pin_p": np.array(ps, dtype=np.float64),
        "pin_w": np.array(ws, dtype=np.float64),
        "pin_rec": np.array(recs, dtype=np.int64),
        "pin_key": np.array(keys, dtype=np.uint64),
    }
