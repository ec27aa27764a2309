"""The engine: ``build()`` turns a network description into flat arrays and runs them.

Layout (see design.md sections 4-6):

- neuron state: flat ``fstate`` (float64, or float32 with ``precision="single"``) and
  ``istate`` (int64, or int32 in single precision); float variable ``k`` of population
  ``p`` is ``fstate[foff[p] + k*n_p : foff[p] + (k+1)*n_p]``;
- synapses: one CSR by global source id, ``syn_code = 2*target + receptor`` (int32, rows
  sorted); weights and delays only where they vary (see :mod:`snnsim.synapses`): 4 to 10
  bytes per synapse plus 8 bytes per neuron;
- ring buffer: ``[D, 2*N]`` in the state's precision, ``D`` the next power of two above
  the largest delay in steps, one plane per receptor: the spikes in flight;
- event-driven bookkeeping (``ev_last``, ``ev_blk``, ``ev_busy``) when LIF neurons can
  rest below threshold (see ``kernels/neurons.lif_event_update``);
- all randomness: counter-based streams keyed by (seed, stream, index, step).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ParameterError, ResourceError
from snnsim.inputs import PoissonInput, StepCurrent
from snnsim.kernels import neurons as _kn
from snnsim.kernels.jit_options import start_threads
from snnsim.kernels.random_streams import stream_key
from snnsim.kernels.simulation import (
    catch_up_partition,
    run_segment_parallel,
    run_segment_serial,
)
from snnsim.models import steps_on_grid
from snnsim.monitors import RateRecorder, SpikeRecorder, StateRecorder
from snnsim.synapses import (
    MAX_DELAY_STEPS,
    STREAM_INIT,
    STREAM_INPUT,
    STREAM_SOURCE,
    _check_sign,
    build_synapses,
    stream_id,
)

if TYPE_CHECKING:
    from snnsim.models import NeuronModel
    from snnsim.network import Network
    from snnsim.populations import Population

__all__ = ["Engine", "available_memory", "max_threads", "stream_id"]

#: With ``Network(threads=None)``, at least this many neurons per thread (measured on CUBA
#: at 2 threads: below ~64k neurons the per-chunk barrier costs more than it saves).
NEURONS_PER_THREAD = 32768
#: Input-free steps covered by one row of the event-driven propagator tables; longer gaps
#: are crossed in strides of this length.
GAP_STEPS = 1024
#: Upper bound on (neurons x chunk steps) for the per-chunk spike buffers.
_CHUNK_BUFFER = 1 << 22


def available_memory() -> int:
    """Bytes of memory available to this process (``MemAvailable``; 16 GiB if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 16 << 30


def max_threads() -> int:
    """Return the number of threads Numba can use (``NUMBA_NUM_THREADS``; all cores by default)."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def _next_pow2(x: int) -> int:
    p = 1
    while p < x:
        p <<= 1
    return p


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


@dataclass
class RunStats:
    """Counters of the last ``run`` call (wall time excludes build and compilation)."""

    sim_ms: float = 0.0
    wall_s: float = 0.0
    spikes: int = 0
    synaptic_events: int = 0
    neuron_updates: int = 0

    @property
    def real_time_factor(self) -> float:
        """Wall time divided by simulated time (lower is faster)."""
        return self.wall_s / (self.sim_ms * 1e-3) if self.sim_ms > 0 else float("nan")

    @property
    def events_per_s(self) -> float:
        """Synaptic events delivered per second of wall time."""
        return self.synaptic_events / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def updates_per_s(self) -> float:
        """Neuron updates per second of wall time."""
        return self.neuron_updates / self.wall_s if self.wall_s > 0 else float("nan")


@dataclass
class Engine:
    """Compiled state of a network. Created by :meth:`Network.build`; not user-facing."""

    dt: float
    seed: int
    n: int
    threads: int
    # populations
    pop_kind: npt.NDArray[np.int64]
    pop_start: npt.NDArray[np.int64]
    pop_size: npt.NDArray[np.int64]
    pop_foff: npt.NDArray[np.int64]
    pop_ioff: npt.NDArray[np.int64]
    pop_doff: npt.NDArray[np.int64]
    pop_key: npt.NDArray[np.uint64]
    coeffs: npt.NDArray[np.float64]
    fstate: npt.NDArray[np.floating[Any]]
    istate: npt.NDArray[np.int64]
    idata: npt.NDArray[np.int64]
    i_ext: npt.NDArray[np.floating[Any]]
    # synapses and ring
    indptr: npt.NDArray[np.int64]
    syn_code: npt.NDArray[np.int32]
    syn_weight: npt.NDArray[Any]
    syn_delay: npt.NDArray[Any]
    ring: npt.NDArray[np.floating[Any]]
    min_delay: int
    # inputs
    ev_step: npt.NDArray[np.int64]
    ev_gid: npt.NDArray[np.int64]
    ev_value: npt.NDArray[np.float64]
    pin_indptr: npt.NDArray[np.int64]
    pin_targets: npt.NDArray[np.int64]
    pin_n: npt.NDArray[np.int64]
    pin_p: npt.NDArray[np.float64]
    pin_w: npt.NDArray[np.float64]
    pin_rec: npt.NDArray[np.int64]
    pin_key: npt.NDArray[np.uint64]
    threads_auto: bool = False
    #: "double" (float64 state and ring) or "single" (float32)
    precision: str = "double"
    #: None: decide per run (:meth:`uses_event_driven`); True/False: force
    event_driven: bool | None = None
    #: weight table: ``syn_weight`` holds indices into it (``w_mode`` 1) or it holds one
    #: weight per receptor (``w_mode`` 2, ``syn_weight`` empty); unused in ``w_mode`` 0
    w_table: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    #: 0: per-synapse float32 weights; 1: table indices; 2: weight by receptor
    w_mode: int = 0
    #: the delay of every synapse in steps when ``syn_delay`` is empty, else 0
    delay_const: int = 0
    #: per population, propagators over 0..GAP_STEPS input-free steps (event-driven LIF)
    gap: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 1, 6)))
    #: event-driven bookkeeping that is part of the state (saved in checkpoints): per
    #: neuron, the stamp of its last single update; per word of 64 neurons, the stamp of
    #: its last vectorised update and the bits of neurons that must be updated every step
    ev_last: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    ev_blk: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    ev_busy: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    # dynamic counters
    step: int = 0
    spike_count: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total_spikes: int = 0
    total_events: int = 0
    compile_s: float = 0.0
    build_s: float = 0.0
    last_run: RunStats = field(default_factory=RunStats)

    @property
    def mask(self) -> int:
        """Ring-buffer slot mask (``D - 1``)."""
        return int(self.ring.shape[0] - 1)

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return int(self.syn_code.size)

    def nbytes(self) -> int:
        """Bytes held by the engine's arrays."""
        return int(sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray)))

    # ------------------------------------------------------------------ state access
    def state_view(self, pop: Population, name: str) -> npt.NDArray[Any]:
        """Writable view of one state variable of a population."""
        p = pop.index
        n = int(self.pop_size[p])
        model = pop.model
        if name in model.float_vars:
            k = model.float_vars.index(name)
            o = int(self.pop_foff[p]) + k * n
            return self.fstate[o : o + n]
        if name in model.int_vars:
            k = model.int_vars.index(name)
            o = int(self.pop_ioff[p]) + k * n
            return self.istate[o : o + n]
        valid = model.float_vars + model.int_vars
        raise ParameterError(
            f"{pop.label}: {model.name} has no state variable {name!r}; valid: {', '.join(valid)}"
        )

    def get_state(self, pop: Population, name: str) -> npt.NDArray[Any]:
        """Copy of one state variable of a population, as of the current step."""
        view = self.state_view(pop, name)
        if name in pop.model.float_vars and self.uses_event_driven():
            n = int(self.pop_size[pop.index])
            k = pop.model.float_vars.index(name)
            return self._current_block(pop)[k * n : (k + 1) * n]
        return view.copy()

    # ------------------------------------------------------------------ running
    def _partitions(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        t = max(1, min(self.threads, self.n))
        if self.threads_auto:
            t = max(1, min(t, self.n // NEURONS_PER_THREAD))
        # boundaries on multiples of 64 neurons: the event-driven bookkeeping works on words
        # of 64 neurons, and a word must belong to one thread
        words = (self.n + 63) // 64
        t = max(1, min(t, words))
        bounds = np.minimum((np.arange(t + 1, dtype=np.int64) * words) // t * 64, self.n)
        return bounds[:-1].copy(), bounds[1:].copy()

    def uses_event_driven(self) -> bool:
        r"""Whether LIF neurons are updated event-driven (idle neurons skipped).

        Unless forced with ``Network(event_driven=...)``, on when some LIF population can
        rest below threshold (:math:`E_L + i_{offset}\tau_m/c_m < V_{th}`), i.e. when its
        neurons can be idle; CUBA-like networks whose neurons are all driven above threshold
        use the clock-driven vectorised update only.
        """
        if self.event_driven is not None:
            return bool(self.event_driven) and bool(np.any(self.pop_kind == _kn.KIND_LIF))
        for p in range(self.pop_kind.size):
            if self.pop_kind[p] == _kn.KIND_LIF:
                c = self.coeffs[p]
                if c[6] + c[9] * c[11] < c[7]:
                    return True
        return False

    def _static_args(self) -> tuple[Any, Any, Any, Any, Any]:
        """Return the tuples ``pops, state, syn, ring, inputs`` of the run loop."""
        use_iext = bool(self.ev_step.size) or bool(np.any(self.i_ext != 0))
        pops = (
            self.pop_kind, self.pop_start, self.pop_size, self.pop_foff, self.pop_ioff,
            self.pop_doff, self.pop_key, self.coeffs, self.gap,
        )  # fmt: skip
        state = (self.fstate, self.istate, self.idata, self.i_ext, use_iext)
        syn = (
            self.indptr, self.syn_code, self.syn_weight, self.w_table, self.syn_delay,
            self.w_mode, self.delay_const,
        )  # fmt: skip
        ring = (self.ring, self.mask)
        inputs = (
            self.ev_step, self.ev_gid, self.ev_value, self.pin_indptr, self.pin_targets,
            self.pin_n, self.pin_p, self.pin_w, self.pin_rec, self.pin_key,
        )  # fmt: skip
        return pops, state, syn, ring, inputs

    def _event_args(self, probe_gids: npt.NDArray[np.int64]) -> tuple[Any, ...]:
        """Event-driven bookkeeping for the run loop.

        ``ev_last``, ``ev_blk`` and ``ev_busy`` are state (they persist across runs and in
        checkpoints, so split runs are bit-identical to one run). The input bits are derived
        from the ring buffer (a slot that holds input for a neuron sets its bit), and the
        pinned bits from the recorders: recorded neurons are updated every step. A neuron
        whose step current changes is caught up just before the change (in the run loop).
        """
        if not self.uses_event_driven():
            z1 = np.zeros(1, dtype=np.uint64)
            return (
                False, np.zeros((1, 1), dtype=np.uint64), z1, z1.copy(),
                np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
            )  # fmt: skip
        self._init_event_state()
        words = (self.n + 63) // 64
        planes = self.ring.reshape(self.ring.shape[0], 2, self.n) != 0
        has = np.zeros((self.ring.shape[0], words * 64), dtype=bool)
        has[:, : self.n] = planes.any(axis=1)
        inbits = np.packbits(has, axis=1, bitorder="little").view(np.uint64).copy()
        pin = np.zeros(words * 64, dtype=bool)
        pin[probe_gids] = True
        pinned = np.packbits(pin, bitorder="little").view(np.uint64).copy()
        return (True, inbits, self.ev_busy, pinned, self.ev_last, self.ev_blk)

    def _init_event_state(self) -> None:
        words = (self.n + 63) // 64
        if self.ev_last.size != self.n or self.ev_blk.size != words:
            self.ev_last = np.full(self.n, self.step, dtype=np.int64)
            self.ev_blk = np.full(words, self.step, dtype=np.int64)
            self.ev_busy = np.full(words, np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)

    def _current_block(self, pop: Population) -> npt.NDArray[np.floating[Any]]:
        """Copy of a population's float state with skipped neurons advanced to now.

        In event-driven mode a skipped neuron's stored state refers to the stamp of its last
        update; this advances it exactly over the gap, on a copy (the running state is never
        changed by reading it).
        """
        n = int(self.pop_size[pop.index])
        foff = int(self.pop_foff[pop.index])
        block = self.fstate[foff : foff + len(pop.model.float_vars) * n].copy()
        if pop.model.kind != _kn.KIND_LIF or self.ev_last.size != self.n:
            return block
        pops, state, _, _, _ = self._static_args()
        pops = (
            pops[0][pop.index : pop.index + 1],
            pops[1][pop.index : pop.index + 1],
            pops[2][pop.index : pop.index + 1],
            np.zeros(1, dtype=np.int64),
            *pops[4:7],
            pops[7][pop.index : pop.index + 1],
            pops[8][pop.index : pop.index + 1],
        )  # fmt: skip  (this population alone; its float block starts at offset 0)
        state = (block, *state[1:])
        z = np.zeros(1, dtype=np.uint64)
        evd = (True, z.reshape(1, 1), z, z, self.ev_last.copy(), self.ev_blk)
        start = int(self.pop_start[pop.index])
        catch_up_partition(start, start + n, self.step, pops, state, evd)
        return block

    def run(self, n_steps: int, net: Network, progress: bool = False) -> RunStats:
        """Advance ``n_steps`` steps, filling the network's recorders."""
        part_lo, part_hi = self._partitions()
        n_thr = part_lo.size
        chunk = max(1, min(self.min_delay, _CHUNK_BUFFER // max(self.n, 1)))
        cap = int((part_hi - part_lo).max()) * chunk
        spk = np.zeros((2, n_thr, max(cap, 1)), dtype=np.int64)
        cnt = np.zeros((2, n_thr, chunk), dtype=np.int64)
        cursors = np.zeros((n_thr + 1, n_thr), dtype=np.int64)

        spike_recs = [r for r in net.recorders if isinstance(r, SpikeRecorder)]
        state_recs = [r for r in net.recorders if isinstance(r, StateRecorder)]
        rate_recs = [r for r in net.recorders if isinstance(r, RateRecorder)]

        rec_mask = np.zeros(self.n, dtype=np.uint8)
        rec_masks = []
        for r in spike_recs:
            gids = r.population.start + r.indices
            rec_mask[gids] = 1
            m = np.zeros(self.n, dtype=bool)
            m[gids] = True
            rec_masks.append(m)
        n_recorded = int(rec_mask.sum())
        per_chunk = n_recorded * chunk
        # room for two chunks of every recorded neuron spiking (a segment ends before it
        # could overflow), at least 64k spikes: at 256k recorded neurons this is 8 MB, not 16
        rec_cap = max(1 << 16, 2 * per_chunk)
        rec_steps = np.zeros(rec_cap if n_recorded else 1, dtype=np.int64)
        rec_ids = np.zeros_like(rec_steps)
        counters = np.zeros(3, dtype=np.int64)

        # state probes: one column per (variable, neuron)
        probe_addr, probe_gid, probe_rec, probe_col = [], [], [], []
        for ri, sr in enumerate(state_recs):
            pop = sr.population
            n_p = pop.size
            for vi, var in enumerate(sr.variables):
                k = pop.model.float_vars.index(var)
                base = int(self.pop_foff[pop.index]) + k * n_p
                probe_addr.append(base + sr.indices)
                probe_gid.append(pop.start + sr.indices)
                probe_rec.append(np.full(sr.indices.size, ri))
                probe_col.append(vi * sr.indices.size + np.arange(sr.indices.size))
        i64 = np.int64

        def cat(parts: list[Any]) -> npt.NDArray[np.int64]:
            return np.concatenate(parts).astype(i64) if parts else np.zeros(0, dtype=i64)

        p_addr, p_gid, p_rec, p_col = (
            cat(probe_addr),
            cat(probe_gid),
            cat(probe_rec),
            cat(probe_col),
        )
        rec_every = np.array([sr.every for sr in state_recs], dtype=i64)
        rec_width = np.array([sr.width for sr in state_recs], dtype=i64)

        rate_col = np.full(self.pop_kind.size, -1, dtype=i64)
        rate_pops: list[int] = []
        for rr in rate_recs:
            if rate_col[rr.population.index] < 0:
                rate_col[rr.population.index] = len(rate_pops)
                rate_pops.append(rr.population.index)

        bytes_per_step = 8 * len(rate_pops) + sum(8 * sr.width / sr.every for sr in state_recs)
        max_seg = int(min(1 << 20, max(1, (64 << 20) / max(bytes_per_step, 1e-9))))
        seg_len = max(1, min(max_seg, 1000))
        if self.threads > 0:
            numba.set_num_threads(max(1, min(n_thr, max_threads())))

        pops, state, syn, ring, inputs = self._static_args()
        evd = self._event_args(p_gid)
        bufs = (part_lo, part_hi, spk, cnt, cursors)
        segment = run_segment_parallel if n_thr > 1 else run_segment_serial

        stats = RunStats()
        reporter = _Progress(n_steps * self.dt, self.dt) if progress else None
        wall0 = time.perf_counter()
        done = 0
        while done < n_steps:
            seg = min(n_steps - done, seg_len)
            t0 = self.step
            rec_base = np.array([t0 // sr.every + 1 for sr in state_recs], dtype=i64)
            rows = np.array(
                [(t0 + seg) // sr.every - t0 // sr.every for sr in state_recs], dtype=i64
            )
            rec_off = np.zeros(len(state_recs), dtype=i64)
            if len(state_recs) > 1:
                rec_off[1:] = np.cumsum(rows * rec_width)[:-1]
            rec_out = np.zeros(int((rows * rec_width).sum()), dtype=np.float64)
            rate_counts = np.zeros((seg if rate_pops else 0, len(rate_pops)), dtype=i64)
            counters[:] = 0
            t_seg = time.perf_counter()
            probes = (p_addr, p_gid, p_rec, p_col, rec_every, rec_width, rec_off, rec_base, rec_out)
            rec = (rate_col, rate_counts, rec_mask, rec_steps, rec_ids, self.spike_count, counters)
            steps = int(
                segment(
                    t0,
                    seg,
                    chunk,
                    per_chunk,
                    bufs,
                    pops,
                    state,
                    syn,
                    ring,
                    evd,
                    inputs,
                    probes,
                    rec,
                )
            )
            seg_wall = time.perf_counter() - t_seg
            self.step = t0 + steps
            self.total_spikes += int(counters[0])
            self.total_events += int(counters[1])
            stats.spikes += int(counters[0])
            stats.synaptic_events += int(counters[1])
            n_rec = int(counters[2])
            if n_rec:
                st, ids = rec_steps[:n_rec], rec_ids[:n_rec]
                for r, m in zip(spike_recs, rec_masks, strict=True):
                    sel = m[ids]
                    r._append(st[sel].copy(), ids[sel] - r.population.start)
            for ri, sr in enumerate(state_recs):
                got = (t0 + steps) // sr.every - t0 // sr.every
                if got:
                    block = rec_out[rec_off[ri] : rec_off[ri] + rows[ri] * rec_width[ri]]
                    block = block.reshape(int(rows[ri]), int(rec_width[ri]))[:got].copy()
                    first = (t0 // sr.every + 1) * sr.every
                    sr._append(first + sr.every * np.arange(got, dtype=i64), block)
            for rr in rate_recs:
                col = rate_col[rr.population.index]
                rr._append_steps(t0 + 1, rate_counts[:steps, col].copy())
            done += steps
            if reporter is not None:
                reporter.update(done * self.dt, time.perf_counter() - wall0, stats.spikes)
            # aim for ~0.5 s of wall time per segment (progress) within the memory cap
            if steps == seg and seg_wall > 0:
                seg_len = int(min(max_seg, max(1, seg * min(4.0, 0.5 / seg_wall))))
        stats.wall_s = time.perf_counter() - wall0
        stats.sim_ms = n_steps * self.dt
        stats.neuron_updates = n_steps * self.n
        if reporter is not None:
            reporter.finish(stats)
        self.last_run = stats
        return stats


class _Progress:
    """One-line progress report on stderr: percent, simulated time, real-time factor."""

    def __init__(self, total_ms: float, dt: float) -> None:
        self.total_ms = total_ms
        self.last = 0.0

    def update(self, sim_ms: float, wall_s: float, spikes: int) -> None:
        now = time.perf_counter()
        if now - self.last < 0.2 or sim_ms >= self.total_ms:
            return
        self.last = now
        pct = 100.0 * sim_ms / self.total_ms if self.total_ms > 0 else 100.0
        rtf = wall_s / (sim_ms * 1e-3) if sim_ms > 0 else float("nan")
        sys.stderr.write(
            f"\r[snnsim] {pct:5.1f}% | {sim_ms:.1f}/{self.total_ms:.1f} ms | "
            f"RTF {rtf:.3g} | {spikes} spikes   "
        )
        sys.stderr.flush()

    def finish(self, stats: RunStats) -> None:
        sys.stderr.write(
            f"\r[snnsim] 100.0% | {stats.sim_ms:.1f} ms in {stats.wall_s:.3g} s | "
            f"RTF {stats.real_time_factor:.3g} | {stats.spikes} spikes\n"
        )
        sys.stderr.flush()


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
    from snnsim.synapses import bytes_per_synapse

    building = sum(88 * proj.pre.size + 8 * proj.post.size for proj in net.projections)
    return syn, syn * bytes_per_synapse(net) + ring + n * 80 + building, ring


def gap_tables(models: Sequence[NeuronModel], dt: float) -> npt.NDArray[np.float64]:
    """Per population, the input-free propagators of event-driven LIF populations.

    Derived from the model parameters (never saved): ``float64[n_pop, GAP_STEPS + 1, 6]``,
    zeros for the other models.
    """
    gap = np.zeros((len(models), GAP_STEPS + 1, 6))
    for p, model in enumerate(models):
        if model.kind == _kn.KIND_LIF:
            gap[p] = model.gap_propagators(dt, GAP_STEPS)
    return gap


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
        eng.compile_s = jit_s + compile_kernels(eng)
    watch.report()
    return eng


def _build_arrays(net: Network) -> Engine:
    start_threads()  # before any parallel kernel (connectivity, run loop)
    if not net.populations:
        raise ParameterError("Network has no population; add one with net.add_population(...)")
    dt = net.dt
    n_syn_est, need, ring_bytes = _estimate_bytes(net)
    avail = available_memory()
    if need > avail:
        raise ResourceError(
            f"building this network needs about {_gib(need)} (about {n_syn_est:.3g} synapses, "
            f"ring buffers {_gib(ring_bytes)}) but only {_gib(avail)} is available; reduce the "
            "network size, the connection probability or the largest delay"
        )
    seed = np.uint64(net.seed)

    pops = net.populations
    n = sum(p.size for p in pops)
    if 2 * n >= 2**31:
        raise ResourceError(f"{n} neurons: at most {2**30 - 1} neurons per network are supported")
    kinds, starts, sizes, foffs, ioffs, doffs, keys = [], [], [], [], [], [], []
    coeffs = np.zeros((len(pops), _kn.N_COEFFS))
    f_parts: list[npt.NDArray[np.float64]] = []
    i_parts: list[npt.NDArray[np.int64]] = []
    d_parts: list[npt.NDArray[np.int64]] = []
    fo = io_ = do = 0
    for p in pops:
        model = p.model
        model.check_dt(dt)
        model.check_size(p.size)
        kinds.append(model.kind)
        starts.append(p.start)
        sizes.append(p.size)
        foffs.append(fo)
        ioffs.append(io_)
        doffs.append(do)
        keys.append(stream_key(seed, np.uint64(stream_id(STREAM_SOURCE, p.index))))
        coeffs[p.index] = model.coefficients(dt)
        init = model.initial_state()
        block = np.empty((len(model.float_vars), p.size))
        for k, var in enumerate(model.float_vars):
            block[k] = init[var]
        for var, idx, value in p._init:
            k = model.float_vars.index(var)
            if isinstance(value, Distribution):
                skey = stream_key(seed, np.uint64(stream_id(STREAM_INIT, p.index * 64 + k)))
                block[k, idx] = value.sample(skey, p.size)[idx]
            else:
                block[k, idx] = value
        f_parts.append(block.reshape(-1))
        ints = model.initial_int_state(p.size, dt, net._step)
        iblock = np.zeros((len(model.int_vars), p.size), dtype=np.int64)
        for k, var in enumerate(model.int_vars):
            iblock[k] = ints[var]
        i_parts.append(iblock.reshape(-1))
        sdata = model.static_data(dt, net._step)
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
    gap = gap_tables([p.model for p in pops], dt)

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
        coeffs=coeffs,
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
        gap=gap,
        step=net._step,
        spike_count=np.zeros(n, dtype=np.int64),
    )
    return eng


def compile_kernels(eng: Engine) -> float:
    """Compile (or load from cache) the run loop for this engine's types; returns seconds.

    Only the variant the engine will use is compiled: the serial loop for one partition,
    the parallel one otherwise.
    """
    t0 = time.perf_counter()
    part_lo, part_hi = eng._partitions()
    n_thr = part_lo.size
    pops, state, syn, ring, inputs = eng._static_args()
    e64 = np.zeros(0, dtype=np.int64)
    z = np.zeros(1, dtype=np.uint64)
    # same types as the run's tuple; zero steps touch none of it (no ring scan here)
    evd = (eng.uses_event_driven(), z.reshape(1, 1), z, z, np.zeros(1, np.int64), e64)
    bufs = (
        part_lo,
        part_hi,
        np.zeros((2, n_thr, 1), dtype=np.int64),
        np.zeros((2, n_thr, 1), dtype=np.int64),
        np.zeros((n_thr + 1, n_thr), dtype=np.int64),
    )
    probes = (e64, e64, e64, e64, e64, e64, e64, e64, np.zeros(0))
    rec = (
        e64,
        np.zeros((0, 0), dtype=np.int64),
        np.zeros(1, dtype=np.uint8),
        e64,
        e64,
        eng.spike_count,
        np.zeros(3, dtype=np.int64),
    )
    segment = run_segment_parallel if n_thr > 1 else run_segment_serial
    segment(eng.step, 0, 1, 0, bufs, pops, state, syn, ring, evd, inputs, probes, rec)
    return time.perf_counter() - t0


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
        past = stamps_all <= net._step
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
        if not model.receptors:
            raise ParameterError(f"{what}: {model.name} neurons cannot receive input")
        if model.signed_receptors:
            rec_name = inp.receptor or "exc"
            if rec_name not in model.receptors:
                raise ParameterError(f"{what}: receptor {rec_name!r} not in {model.receptors}")
            rec = model.receptors.index(rec_name)
            _check_sign(np.array([inp.weight]), rec, model.name, what)
        else:
            if inp.receptor is not None:
                raise ParameterError(f"{what}: {model.name} has a single receptor; omit receptor")
            rec = 0
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
