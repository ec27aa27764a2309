"""What a run records: the recorders' requests as run-loop arrays, and the results handed back.

:meth:`snnsim.engine.Engine.run` builds one :class:`RecordingPlan` per run from the
recorders it is given. The plan turns them into the arrays the compiled run loop fills
(:class:`~snnsim.kernels.layout.Probes` for state variables,
:class:`~snnsim.kernels.layout.Recording` for spikes and population rates), bounds the
length of a segment (memory of the state samples; a weight sample ends a segment), and
after each segment hands every recorder its part through the recorder's public
``consume``. Recorders are told apart by their ``kind`` ("spikes", "state", "rates",
"weights"): this module reads their public fields only and does not import their classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError
from snnsim.kernels.layout import Probes, Recording
from snnsim.synapse_blocks import projection_synapses, projection_weight_slots

if TYPE_CHECKING:
    from snnsim.engine import Engine
    from snnsim.monitors import Recorder

__all__ = ["RecordingPlan", "weight_sampler"]

_I64 = npt.NDArray[np.int64]
#: Upper bound on the bytes of state and rate samples held for one segment.
_SEGMENT_SAMPLE_BYTES = 64 << 20
#: Upper bound on the steps of one segment.
_MAX_SEGMENT = 1 << 20


def weight_sampler(eng: Engine, rec: Any) -> Callable[[], npt.NDArray[np.float64]]:
    """Return a function giving ``rec``'s weights now (``rec.synapses`` of its projection).

    Weights of a mutable block are read from ``mb_weight`` (which plasticity updates in
    place); a static projection's weights cannot change during a run and are read once.
    Values are those of :meth:`Projection.get` (divided by the weight scale).
    """
    idx = int(rec.projection_index)
    pre, post = rec.pre_gids, rec.post_gids
    slots = projection_weight_slots(eng, idx, pre, post)
    n_syn = int(slots.size) if slots is not None else -1
    if slots is None:
        weight = projection_synapses(eng, idx, pre, post, rec.receptor_index)[2]
        n_syn = int(weight.size)
    if rec.synapses.size and int(rec.synapses.max()) >= n_syn:
        raise ParameterError(
            f"{rec!r}: synapse index {int(rec.synapses.max())} but the projection has "
            f"{n_syn} synapses; record_weights(..., synapses=...) with indices < {n_syn}"
        )
    scale = float(rec.weight_scale)
    if slots is None:
        fixed = weight[rec.synapses] / scale
        return lambda: fixed.copy()
    picked = slots[rec.synapses]
    return lambda: eng.mb_weight[picked] / scale


def _concat(parts: list[Any]) -> _I64:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


class RecordingPlan:
    """The recorders of one run, as the run loop's arrays.

    Parameters
    ----------
    eng : Engine
        The engine that runs (its population offsets and sizes place the probes).
    recorders : sequence of Recorder
        Spike, state, rate and weight recorders, told apart by ``kind``.
    chunk : int
        Steps per chunk of the run loop (the spike buffer holds two chunks of every
        recorded neuron spiking).
    """

    def __init__(self, eng: Engine, recorders: Sequence[Recorder], chunk: int) -> None:
        self.eng = eng
        self.spike_recs: list[Any] = [r for r in recorders if r.kind == "spikes"]
        self.state_recs: list[Any] = [r for r in recorders if r.kind == "state"]
        self.rate_recs: list[Any] = [r for r in recorders if r.kind == "rates"]
        self.weight_recs: list[Any] = [r for r in recorders if r.kind == "weights"]
        self._take_weights = [weight_sampler(eng, r) for r in self.weight_recs]
        self._spikes(eng.n, chunk)
        self._probes()
        self.rate_col = np.full(eng.pop_kind.size, -1, dtype=np.int64)
        self.rate_pops: list[int] = []
        for rr in self.rate_recs:
            if self.rate_col[rr.population.index] < 0:
                self.rate_col[rr.population.index] = len(self.rate_pops)
                self.rate_pops.append(rr.population.index)
        bytes_per_step = 8 * len(self.rate_pops) + sum(
            8 * sr.width / sr.every for sr in self.state_recs
        )
        #: longest segment whose state and rate samples fit the memory bound
        self.max_segment = int(
            min(_MAX_SEGMENT, max(1, _SEGMENT_SAMPLE_BYTES / max(bytes_per_step, 1e-9)))
        )
        self.counters = np.zeros(3, dtype=np.int64)

    def _spikes(self, n: int, chunk: int) -> None:
        """Mask of the recorded neurons and the spike buffer of one segment."""
        self.rec_mask = np.zeros(n, dtype=np.uint8)
        self._rec_masks = []
        for r in self.spike_recs:
            gids = r.population.start + r.indices
            self.rec_mask[gids] = 1
            m = np.zeros(n, dtype=bool)
            m[gids] = True
            self._rec_masks.append(m)
        n_recorded = int(self.rec_mask.sum())
        #: most recorded spikes one chunk can produce
        self.per_chunk = n_recorded * chunk
        # room for two chunks of every recorded neuron spiking (a segment ends before it
        # could overflow), at least 64k spikes: at 256k recorded neurons this is 8 MB, not 16
        rec_cap = max(1 << 16, 2 * self.per_chunk)
        self.rec_steps = np.zeros(rec_cap if n_recorded else 1, dtype=np.int64)
        self.rec_ids = np.zeros_like(self.rec_steps)

    def _probes(self) -> None:
        """State probes: one column per (variable, neuron) of each state recorder."""
        eng = self.eng
        addr, gid, rec, col, is_int = [], [], [], [], []
        for ri, sr in enumerate(self.state_recs):
            pop = sr.population
            n_p = pop.size
            for vi, var in enumerate(sr.variables):
                integer = var in pop.model.int_vars
                if integer:
                    k = pop.model.int_vars.index(var)
                    base = int(eng.pop_ioff[pop.index]) + k * n_p
                else:
                    k = pop.model.float_vars.index(var)
                    base = int(eng.pop_foff[pop.index]) + k * n_p
                is_int.append(np.full(sr.indices.size, integer))
                addr.append(base + sr.indices)
                gid.append(pop.start + sr.indices)
                rec.append(np.full(sr.indices.size, ri))
                col.append(vi * sr.indices.size + np.arange(sr.indices.size))
        self.p_addr, self.p_gid, self.p_rec, self.p_col = (
            _concat(addr), _concat(gid), _concat(rec), _concat(col)
        )  # fmt: skip
        self.p_int = np.concatenate(is_int) if is_int else np.zeros(0, dtype=np.bool_)
        self.rec_every = np.array([sr.every for sr in self.state_recs], dtype=np.int64)
        self.rec_width = np.array([sr.width for sr in self.state_recs], dtype=np.int64)

    @property
    def probe_gids(self) -> _I64:
        """Global ids of the neurons whose state is sampled (updated every step)."""
        return self.p_gid

    def sample_weights(self, step: int) -> None:
        """Hand the weight recorders due at ``step`` their sample.

        Called between segments: every spike of the steps up to ``step`` is booked.
        """
        for wr, take in zip(self.weight_recs, self._take_weights, strict=True):
            if wr.next_stamp == step:
                wr.consume(np.array([step], dtype=np.int64), take()[None, :])

    def weights_due(self, step: int) -> bool:
        """Whether a weight recorder takes a sample at ``step``."""
        return any(wr.next_stamp == step for wr in self.weight_recs)

    def segment_length(self, t0: int, seg: int) -> int:
        """``seg`` shortened so that the segment from ``t0`` ends at the next weight sample."""
        for wr in self.weight_recs:
            seg = min(seg, max(1, wr.next_stamp - t0))
        return seg

    def segment_arrays(self, t0: int, seg: int) -> tuple[Probes | None, Recording]:
        """Return the run loop's recording arrays for the ``seg`` steps after ``t0``.

        The probes are ``None`` when no recorder samples state: the run loop is then
        compiled without the probe code (Numba prunes ``probes is not None``) and its per-chunk
        calls do not count references to ten arrays nothing reads (2-thread CUBA-4000: minimum
        0.0560 -> 0.0526 s, README, "The foundation refactor, before and after").
        """
        state_recs = self.state_recs
        self._t0 = t0
        self._base = np.array([t0 // sr.every + 1 for sr in state_recs], dtype=np.int64)
        self._rows = np.array(
            [(t0 + seg) // sr.every - t0 // sr.every for sr in state_recs], dtype=np.int64
        )
        self._off = np.zeros(len(state_recs), dtype=np.int64)
        if len(state_recs) > 1:
            self._off[1:] = np.cumsum(self._rows * self.rec_width)[:-1]
        self._out = np.zeros(int((self._rows * self.rec_width).sum()), dtype=np.float64)
        self._rate_counts = np.zeros(
            (seg if self.rate_pops else 0, len(self.rate_pops)), dtype=np.int64
        )
        self.counters[:] = 0
        probes = None if not state_recs else Probes(
            addr=self.p_addr, gid=self.p_gid, rec=self.p_rec, col=self.p_col,
            every=self.rec_every, width=self.rec_width, off=self._off, base=self._base,
            out=self._out, is_int=self.p_int,
        )  # fmt: skip
        rec = Recording(
            rate_col=self.rate_col, rate_counts=self._rate_counts, rec_mask=self.rec_mask,
            rec_steps=self.rec_steps, rec_ids=self.rec_ids, spike_count=self.eng.spike_count,
            counters=self.counters,
        )  # fmt: skip
        return probes, rec

    def book(self, steps: int) -> None:
        """Hand every recorder its part of the segment that ran ``steps`` steps."""
        t0 = self._t0
        n_rec = int(self.counters[2])
        if n_rec:
            st, ids = self.rec_steps[:n_rec], self.rec_ids[:n_rec]
            for r, m in zip(self.spike_recs, self._rec_masks, strict=True):
                sel = m[ids]
                r.consume(st[sel].copy(), ids[sel] - r.population.start)
        for ri, sr in enumerate(self.state_recs):
            got = (t0 + steps) // sr.every - t0 // sr.every
            if got:
                width = int(self.rec_width[ri])
                block = self._out[self._off[ri] : self._off[ri] + self._rows[ri] * width]
                block = block.reshape(int(self._rows[ri]), width)[:got].copy()
                first = (t0 // sr.every + 1) * sr.every
                sr.consume(first + sr.every * np.arange(got, dtype=np.int64), block)
        for rr in self.rate_recs:
            col = self.rate_col[rr.population.index]
            rr.consume(t0 + 1, self._rate_counts[:steps, col].copy())
