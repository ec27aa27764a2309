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

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import numpy.typing as npt

from snnsim.errors import ParameterError, SimulationError
from snnsim.kernels.layout import (
    Buffers,
    EventState,
    Inputs,
    MutableSynapses,
    NeuronState,
    Populations,
    Ring,
    StaticSynapses,
)
from snnsim.kernels.neurons import model_set
from snnsim.kernels.simulation import (
    catch_up_partition,
    run_segment_parallel,
    run_segment_serial,
)
from snnsim.kernels.thread_team import SYNC_WORDS, run_segment_team, team_layer
from snnsim.modulation_state import (
    modulated_coefficients,
    modulation_arrays,
    modulation_min_delay,
)
from snnsim.plastic_blocks import flush_histories, plasticity_arrays, store_histories
from snnsim.recording_plan import RecordingPlan
from snnsim.run_control import HeldInterrupt, Progress, RunStats, available_memory, max_threads
from snnsim.synapse_blocks import (
    projection_synapses,
    rebuild_post_index,
    replace_projection,
)

if TYPE_CHECKING:
    from snnsim.monitors import Recorder
    from snnsim.populations import Population

__all__ = ["Engine", "RunStats", "available_memory", "max_threads"]

#: With ``Network(threads=None)``, at least this many neurons per thread. Measured on CUBA
#: (one-step delays, 1 s, 2-core VM) with the thread team, 2 threads against 1: 1.7x the
#: time at 1000 neurons, 1.1x at 4000, 0.74-0.85x at 8000, 0.55-0.59x at 16000, 0.50x at
#: 32000 (with a ``prange`` region per chunk, before the team, the break-even was ~64k).
NEURONS_PER_THREAD = 8192
#: Input-free steps covered by one row of the event-driven propagator tables; longer gaps
#: are crossed in strides of this length.
GAP_STEPS = 1024
#: Upper bound on (neurons x chunk steps) for the per-chunk spike buffers.
_CHUNK_BUFFER = 1 << 22


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
    #: per population (derived from the models, never saved): 0 clock-driven only (no
    #: event-driven kernels, or heterogeneous), 1 event-driven kernels, 2 event-driven
    #: kernels and the neurons can rest (idle)
    pop_event: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    #: per-neuron coefficients of heterogeneous populations (derived, never saved): of
    #: population ``p`` at ``pop_noff[p] + k * size + i``; ``pop_noff[p]`` -1: homogeneous
    ncoeffs: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    pop_noff: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: event-driven bookkeeping that is part of the state (saved in checkpoints): per
    #: neuron, the stamp of its last single update; per word of 64 neurons, the stamp of
    #: its last vectorised update and the bits of neurons that must be updated every step
    ev_last: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    ev_blk: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    ev_busy: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    #: static block: projection index of each synapse (uint8/uint16), only when two
    #: projections could place a synapse on the same (source, target, receptor); else empty
    syn_tag: npt.NDArray[Any] = field(default_factory=lambda: np.zeros(0, np.uint8))
    #: mutable blocks (see :class:`~snnsim.kernels.layout.MutableSynapses`); ``mb_proj[b]``
    #: is the projection index of block ``b``
    mb_proj: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_lo: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_hi: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_row: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_indptr: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    mb_code: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    mb_weight: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0, np.float64))
    mb_delay: npt.NDArray[np.uint16] = field(default_factory=lambda: np.zeros(0, np.uint16))
    #: post -> synapse index of the mutable blocks (derived from them, never saved): block
    #: ``b`` covers targets ``[mb_tlo[b], mb_thi[b])``; the synapses onto target ``t`` are
    #: ``mb_post_syn[mb_post_ptr[mb_prow[b] + t - mb_tlo[b]] : ... + 1]``, in block order
    mb_tlo: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_thi: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_prow: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_post_ptr: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    mb_post_syn: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: plasticity (:mod:`snnsim.plastic_blocks`): rule of each mutable block (-1: none),
    #: the rules' parameters (``STDP.as_row``), the presynaptic trace and last spike stamp
    #: per pointer entry of ``mb_indptr``, and the spike histories of the neurons with
    #: plastic inputs (their ids, stamps, K- per rule, spikes appended): all saved
    pl_rule: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    pl_param: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 8)))
    pl_kplus: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(1))
    pl_tlast: npt.NDArray[np.int64] = field(default_factory=lambda: np.full(1, -1, np.int64))
    pl_hist_gid: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    pl_hist_t: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 1), np.int64))
    pl_hist_k: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((1, 0, 1)))
    pl_hist_n: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: derived by ``sync_plasticity`` (never saved): history row of each neuron (-1: none),
    #: the post index sorted by delay within a target, each synapse's row, each block's
    #: longest delay
    pl_hrow: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    pl_post_syn: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    pl_syn_row: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    pl_dmax: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: delay plasticity (:mod:`snnsim.delay_plasticity`): rule of each mutable block (-1:
    #: none), the rules (``DelayPlasticity.as_row``); saved
    dp_rule: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dp_param: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 6)))
    #: per-synapse arrays declared by rules (``snnsim.plasticity.SynapseArray``): one row
    #: per array, one column per mutable synapse, and each row's initial value; saved
    mb_sa_i64: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    mb_sa_f64: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    mb_sa_i64_init: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    mb_sa_f64_init: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    #: astrocyte modulation (:mod:`snnsim.modulation_state`): modulating astrocytes, their
    #: output history, modulated neuron coefficients and projections, and the terms
    md_src_gid: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_src_var: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_hist: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((1, 0)))
    md_ent_gid: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_ent_coef: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_ent_ptr: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    md_t_src: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_t_w: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    md_t_d: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_rec_proj: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_rec_effect: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_rec_tlo: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_rec_off: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    md_rec_ptr: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    # dynamic counters
    step: int = 0
    spike_count: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total_spikes: int = 0
    total_events: int = 0
    compile_s: float = 0.0
    build_s: float = 0.0
    last_run: RunStats = field(default_factory=RunStats)

    def __post_init__(self) -> None:
        if self.mb_proj.size and self.mb_tlo.size != self.mb_proj.size:
            rebuild_post_index(self)  # a loaded engine: derive the index from the blocks

    @property
    def mask(self) -> int:
        """Ring-buffer slot mask (``D - 1``)."""
        return int(self.ring.shape[0] - 1)

    @property
    def n_synapses(self) -> int:
        """Number of synapses (static and mutable blocks)."""
        return int(self.syn_code.size + self.mb_code.size)

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

    def set_state(
        self, pop: Population, name: str, local: npt.NDArray[np.int64], values: npt.NDArray[Any]
    ) -> None:
        """Write ``values`` into state variable ``name`` of neurons ``local`` of ``pop``.

        The values apply from the next step, as if the neurons had reached them at the
        current step. In event-driven mode the selected neurons are first brought up to the
        current step in place (their other variables advance over the gap they skipped, so
        the whole state of each neuron refers to now), and they are marked busy, so the next
        step updates them and decides again whether they may rest: a neuron put close to
        threshold is never left skipped. The other neurons are not touched.

        Parameters
        ----------
        pop : Population
        name : str
            A float or integer state variable of the population's model.
        local : int64[k]
            Local indices (within the population), unique.
        values : array[k]
            New values, already validated (finite; integral and in range for integer state).
        """
        view = self.state_view(pop, name)
        p = pop.index
        start = int(self.pop_start[p])
        if (
            self.uses_event_driven()
            and self.pop_event[p] > 0
            and self.ev_last.size == self.n
            and local.size
        ):
            pops, state, _, _, _, _ = self.kernel_arrays(catch_up=True)
            evd = _event_off()._replace(on=True, last=self.ev_last, blk_stamp=self.ev_blk)
            gids = np.sort(local) + start
            # runs of consecutive neurons: one in-place catch-up call per run
            cuts = np.flatnonzero(np.diff(gids) != 1) + 1
            for run in np.split(gids, cuts):
                catch_up_partition(int(run[0]), int(run[-1]) + 1, self.step, pops, state, evd)
            bits = np.zeros(self.ev_busy.size * 64, dtype=bool)
            bits[gids] = True
            self.ev_busy |= np.packbits(bits, bitorder="little").view(np.uint64)
        view[local] = values.astype(view.dtype)

    def set_population_arrays(self, p: int, arrays: dict[str, npt.NDArray[Any]]) -> None:
        """Give population ``p`` new model arrays (one population's :func:`model_arrays`).

        Skipped neurons of an event-driven population are first caught up, in place, with
        the old coefficients, so the new ones apply from the next step for every neuron.
        """
        if self.uses_event_driven() and self.ev_last.size == self.n and self.pop_event[p] > 0:
            pops, state, _, _, _, _ = self.kernel_arrays(catch_up=True)
            evd = _event_off()._replace(on=True, last=self.ev_last, blk_stamp=self.ev_blk)
            start = int(self.pop_start[p])
            catch_up_partition(start, start + int(self.pop_size[p]), self.step, pops, state, evd)
        width = arrays["coeffs"].shape[1]
        if width > self.coeffs.shape[1]:  # pragma: no cover - one model class per population
            raise ValueError("set_population_arrays: coefficient layout grew")
        self.coeffs[p] = 0.0
        self.coeffs[p, :width] = arrays["coeffs"][0]
        self.pop_event[p] = arrays["pop_event"][0]
        gap = arrays["gap"][0]
        if gap.shape[1] > self.gap.shape[2]:
            grown = np.zeros((*self.gap.shape[:2], gap.shape[1]))
            grown[:, :, : self.gap.shape[2]] = self.gap
            self.gap = grown
        self.gap[p] = 0.0
        self.gap[p, :, : gap.shape[1]] = gap
        if arrays["pop_noff"][0] < 0:
            self.pop_noff[p] = -1
            return
        block = np.zeros((self.coeffs.shape[1], int(self.pop_size[p])))
        n_c = width
        block[:n_c] = arrays["ncoeffs"].reshape(width, -1)
        if self.pop_noff[p] >= 0:  # same size as before: in place
            o = int(self.pop_noff[p])
            self.ncoeffs[o : o + block.size] = block.reshape(-1)
        else:
            self.pop_noff[p] = self.ncoeffs.size
            self.ncoeffs = np.concatenate((self.ncoeffs, block.reshape(-1)))

    def set_static_data(self, p: int, data: npt.NDArray[np.int64]) -> None:
        """Replace population ``p``'s static integer data (a ``SpikeSource`` schedule).

        The blocks of the populations after ``p`` move; their offsets follow.
        """
        lo = int(self.pop_doff[p])
        hi = int(self.pop_doff[p + 1]) if p + 1 < self.pop_doff.size else self.idata.size
        self.idata = np.concatenate((self.idata[:lo], data.astype(np.int64), self.idata[hi:]))
        self.pop_doff[p + 1 :] += data.size - (hi - lo)

    # ------------------------------------------------------------------ synapse blocks
    def projection_synapses(
        self, index: int, pre_gids: npt.NDArray[np.int64], post_gids: npt.NDArray[np.int64],
        receptor: int,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64],
               npt.NDArray[np.int64]]:  # fmt: skip
        """Return one projection's synapses (:func:`snnsim.synapse_blocks.projection_synapses`)."""
        return projection_synapses(self, index, pre_gids, post_gids, receptor)

    def set_projection(
        self, index: int, pre_gids: npt.NDArray[np.int64], post_gids: npt.NDArray[np.int64],
        receptor: int, pre: npt.NDArray[np.int64], post: npt.NDArray[np.int64],
        weight: npt.NDArray[np.float64], delay: npt.NDArray[np.int64],
    ) -> None:  # fmt: skip
        """Write one projection's synapses (:func:`snnsim.synapse_blocks.replace_projection`)."""
        replace_projection(self, index, pre_gids, post_gids, receptor, pre, post, weight, delay)

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
            return bool(self.event_driven) and bool(np.any(self.pop_event > 0))
        return bool(np.any(self.pop_event == 2))

    def kernel_arrays(
        self, catch_up: bool = False
    ) -> tuple[Populations, NeuronState, StaticSynapses, MutableSynapses | None, Ring, Inputs]:
        """Return the run-loop structures made of the engine's own arrays.

        The model set (``pops.models``) names the kernels the run loop compiles: the kinds
        of the populations, their per-neuron-coefficient variants, and the event-driven
        kernels of the populations that run event-driven (with ``catch_up``: of every
        population that has event-driven state, for catching skipped neurons up). The
        mutable blocks are ``None`` when there are none.
        """
        use_iext = bool(self.ev_step.size) or bool(np.any(self.i_ext != 0))
        pop_event, noff, ncoeffs = self.pop_event, self.pop_noff, self.ncoeffs
        if self.md_ent_gid.size:  # modulated populations: clock-driven, per-neuron coefficients
            pop_event, noff, ncoeffs = modulated_coefficients(self)
        if catch_up:
            event = pop_event > 0
        else:
            event = (pop_event > 0) & self.uses_event_driven()
        pops = Populations(
            kind=self.pop_kind, start=self.pop_start, size=self.pop_size, foff=self.pop_foff,
            ioff=self.pop_ioff, doff=self.pop_doff, key=self.pop_key, coeffs=self.coeffs,
            gap=self.gap, event=pop_event, noff=noff, ncoeffs=ncoeffs,
            models=model_set(self.pop_kind, noff >= 0, event),
        )  # fmt: skip
        state = NeuronState(
            fstate=self.fstate, istate=self.istate, idata=self.idata, i_ext=self.i_ext,
            use_iext=use_iext,
        )  # fmt: skip
        syn = StaticSynapses(
            indptr=self.indptr, code=self.syn_code, weight=self.syn_weight, w_table=self.w_table,
            delay=self.syn_delay, w_mode=self.w_mode, delay_const=self.delay_const,
        )  # fmt: skip
        mut = None
        if self.mb_lo.size:
            mut = MutableSynapses(
                lo=self.mb_lo, hi=self.mb_hi, row=self.mb_row, indptr=self.mb_indptr,
                code=self.mb_code, weight=self.mb_weight, delay=self.mb_delay,
            )  # fmt: skip
        ring = Ring(buffer=self.ring, mask=self.mask)
        inputs = Inputs(
            ev_step=self.ev_step, ev_gid=self.ev_gid, ev_value=self.ev_value,
            pin_indptr=self.pin_indptr, pin_targets=self.pin_targets, pin_n=self.pin_n,
            pin_p=self.pin_p, pin_w=self.pin_w, pin_rec=self.pin_rec, pin_key=self.pin_key,
        )  # fmt: skip
        return pops, state, syn, mut, ring, inputs

    def _event_args(self, probe_gids: npt.NDArray[np.int64]) -> EventState:
        """Event-driven bookkeeping for the run loop.

        ``ev_last``, ``ev_blk`` and ``ev_busy`` are state (they persist across runs and in
        checkpoints, so split runs are bit-identical to one run). The input bits are derived
        from the ring buffer (a slot that holds input for a neuron sets its bit), and the
        pinned bits from the recorders: recorded neurons are updated every step. A neuron
        whose step current changes is caught up just before the change (in the run loop).
        """
        if not self.uses_event_driven():
            return _event_off()
        self._init_event_state()
        words = (self.n + 63) // 64
        planes = self.ring.reshape(self.ring.shape[0], 2, self.n) != 0
        has = np.zeros((self.ring.shape[0], words * 64), dtype=bool)
        has[:, : self.n] = planes.any(axis=1)
        inbits = np.packbits(has, axis=1, bitorder="little").view(np.uint64).copy()
        pin = np.zeros(words * 64, dtype=bool)
        pin[probe_gids] = True
        pinned = np.packbits(pin, bitorder="little").view(np.uint64).copy()
        return EventState(
            on=True, inbits=inbits, busy=self.ev_busy, pinned=pinned, last=self.ev_last,
            blk_stamp=self.ev_blk,
        )  # fmt: skip

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
        if self.pop_event[pop.index] == 0 or self.ev_last.size != self.n:
            return block
        pops, state, _, _, _, _ = self.kernel_arrays(catch_up=True)
        one = slice(pop.index, pop.index + 1)
        # this population alone; its float block starts at offset 0
        pops = pops._replace(
            kind=pops.kind[one], start=pops.start[one], size=pops.size[one],
            foff=np.zeros(1, dtype=np.int64), coeffs=pops.coeffs[one], gap=pops.gap[one],
            event=pops.event[one], noff=pops.noff[one],
        )  # fmt: skip
        state = state._replace(fstate=block)
        evd = _event_off()._replace(on=True, last=self.ev_last.copy(), blk_stamp=self.ev_blk)
        start = int(self.pop_start[pop.index])
        catch_up_partition(start, start + n, self.step, pops, state, evd)
        return block

    def run(
        self, n_steps: int, recorders: Sequence[Recorder] = (), progress: bool = False
    ) -> RunStats:
        """Advance ``n_steps`` steps, handing the results to ``recorders`` (their ``consume``)."""
        part_lo, part_hi = self._partitions()
        n_thr = part_lo.size
        # modulation delays bound the chunk like synaptic delays (kernels.modulation)
        bound = min(self.min_delay, modulation_min_delay(self))
        chunk = max(1, min(bound, _CHUNK_BUFFER // max(self.n, 1)))
        cap = int((part_hi - part_lo).max()) * chunk
        # rows padded to whole cache lines: each thread writes its own counts and cursors
        # every step, and rows sharing a line would bounce it between cores
        spk = np.zeros((2, n_thr, max(cap, 1)), dtype=np.int64)
        cnt = np.zeros((2, n_thr, _padded(chunk)), dtype=np.int64)
        cursors = np.zeros((n_thr + 1, _padded(n_thr)), dtype=np.int64)
        plan = RecordingPlan(self, recorders, chunk)
        plan.sample_weights(self.step)  # the sample at the step this run starts from
        seg_len = max(1, min(plan.max_segment, 1000))
        if self.threads > 0:
            numba.set_num_threads(max(1, min(n_thr, max_threads())))

        pops, state, syn, mut, ring, inputs = self.kernel_arrays()
        evd = self._event_args(plan.probe_gids)
        # STDP state (None without plastic projections: the run loop then compiles none of
        # it); the presynaptic state has one replica per thread, copied back after segments
        plast = plasticity_arrays(self, part_lo, part_hi)
        mod = modulation_arrays(self, pops)  # None without astrocyte effects (pruned)
        bufs = Buffers(part_lo=part_lo, part_hi=part_hi, spk=spk, cnt=cnt, cursors=cursors)
        segment = segment_function(n_thr)

        stats = RunStats()
        reporter = Progress(n_steps * self.dt, self.dt) if progress else None
        wall0 = time.perf_counter()
        done = 0
        # Ctrl-C: compiled code does not see signals, and the Python bookkeeping after a
        # segment must not be cut in half (state advanced but not the step, or the step but
        # not the recorders). SIGINT is held while a segment runs and while its results are
        # booked, and delivered at the end of that, a consistent point: the state, the step,
        # the recorders and the spikes in flight then agree, so `run` continues exactly and
        # a checkpoint is consistent.
        with HeldInterrupt() as sigint:
            try:
                while done < n_steps:
                    seg = min(n_steps - done, seg_len)
                    t0 = self.step
                    # a segment ends at the next weight sample (splitting changes nothing)
                    full = seg == seg_len
                    seg = plan.segment_length(t0, seg)
                    full = full and seg == seg_len
                    probes, rec = plan.segment_arrays(t0, seg)
                    t_seg = time.perf_counter()
                    steps = int(
                        segment(t0, seg, chunk, plan.per_chunk, bufs, pops, state, syn, mut,
                                ring, evd, inputs, probes, rec, plast, mod)
                    )  # fmt: skip
                    if plast is not None:
                        self.pl_kplus[:] = plast.kplus[0]
                        self.pl_tlast[:] = plast.tlast[0]
                    seg_wall = time.perf_counter() - t_seg
                    self.step = t0 + steps
                    self.total_spikes += int(plan.counters[0])
                    self.total_events += int(plan.counters[1])
                    stats.spikes += int(plan.counters[0])
                    stats.synaptic_events += int(plan.counters[1])
                    plan.book(steps)
                    if plast is not None and plan.weights_due(self.step):
                        flush_histories(self, plast)
                    plan.sample_weights(self.step)
                    done += steps
                    if reporter is not None:
                        reporter.update(done * self.dt, time.perf_counter() - wall0, stats.spikes)
                    # aim for ~0.5 s of wall time per segment (progress) within the memory cap
                    if steps == seg and full and seg_wall > 0:
                        seg_len = int(min(plan.max_segment, max(1, seg * min(4.0, 0.5 / seg_wall))))
                    # a consistent point: a Ctrl-C held since the segment began stops here
                    sigint.deliver()
            except SimulationError:
                # a run-loop check failed mid-segment: the histories are not consistent,
                # and flushing them could raise too and hide this error
                plast = None
                raise
            finally:
                if plast is not None:
                    # facilitations still pending (they wait for a presynaptic spike within
                    # a run), then the histories into the engine's rings
                    flush_histories(self, plast)
                    store_histories(self, plast)
                stats.wall_s = time.perf_counter() - wall0
                stats.sim_ms = done * self.dt
                stats.neuron_updates = done * self.n
                self.last_run = stats
                if reporter is not None:
                    reporter.finish(stats, done < n_steps)
        return stats


def _padded(n: int) -> int:
    """``n`` int64 words rounded up to whole 64-byte lines, plus one line (any alignment)."""
    return (n + 7) // 8 * 8 + 8


def segment_function(n_thr: int) -> Callable[..., int]:
    """Return the compiled segment loop for ``n_thr`` partitions, called as the serial one.

    One partition: ``run_segment_serial``. Several: a team of ``numba.get_num_threads()``
    threads for the whole segment (``run_segment_team``) where the threading layer gives
    each worker its own thread (``omp``, ``workqueue``), else one ``prange`` region per
    chunk (``run_segment_parallel``). Should a team's workers not run at the same time, the
    run goes on serially instead (the same result) and a warning says so.
    """
    if n_thr == 1:
        return run_segment_serial  # type: ignore[no-any-return]
    if not team_layer():
        return run_segment_parallel  # type: ignore[no-any-return]
    workers = max(1, min(n_thr, numba.get_num_threads()))
    sync = np.zeros(SYNC_WORDS, dtype=np.int64)
    serialised = False

    def team(t0: int, n_steps: int, chunk: int, per_chunk: int, *arrays: Any) -> int:
        nonlocal serialised
        if not serialised:
            sync[:] = 0
            steps = int(run_segment_team(t0, n_steps, chunk, per_chunk, workers, sync, *arrays))
            if steps >= 0:
                return steps
            if steps == -2:
                raise SimulationError(
                    "an internal check of the compiled run loop failed on one of its "
                    f"{workers} threads (the run stopped in the middle of a segment, so the "
                    "network's state is not consistent); the threads cannot pass on the "
                    "check's message: build the network again and run it with threads=1 to "
                    "see it, and please report it"
                )
            serialised = True  # every later segment of this run goes straight to one thread
            warnings.warn(
                f"the {workers} threads of the run loop did not run at the same time (Numba's "
                "threading layer ran them one after the other); the run goes on in one thread, "
                "with the same results. Use Network(threads=1) to skip the wait, or check "
                "OMP_DYNAMIC / NUMBA_THREADING_LAYER.",
                RuntimeWarning,
                stacklevel=3,
            )
        return int(run_segment_serial(t0, n_steps, chunk, per_chunk, *arrays))

    return team


def _event_off() -> EventState:
    """Event-driven bookkeeping of a clock-driven run (nothing is read)."""
    z = np.zeros(1, dtype=np.uint64)
    e = np.zeros(1, dtype=np.int64)
    return EventState(
        on=False, inbits=z.reshape(1, 1), busy=z, pinned=z.copy(), last=e, blk_stamp=e.copy()
    )


def compile_kernels(eng: Engine, recorders: Sequence[Recorder] = ()) -> float:
    """Compile (or load from cache) the run loop for this engine's types; returns seconds.

    Only the variant the engine will use is compiled: the serial loop for one partition,
    the parallel one otherwise, with the state-probe code only if one of ``recorders``
    samples state (a state recorder added later compiles that variant at its first run).
    """
    t0 = time.perf_counter()
    part_lo, part_hi = eng._partitions()
    n_thr = part_lo.size
    pops, state, syn, mut, ring, inputs = eng.kernel_arrays()
    # same types as a run's structures; zero steps touch none of it (no ring scan here)
    evd = _event_off()._replace(on=eng.uses_event_driven(), last=np.zeros(1, np.int64))
    bufs = Buffers(
        part_lo=part_lo, part_hi=part_hi, spk=np.zeros((2, n_thr, 1), dtype=np.int64),
        cnt=np.zeros((2, n_thr, 1), dtype=np.int64),
        cursors=np.zeros((n_thr + 1, n_thr), dtype=np.int64),
    )  # fmt: skip
    # the recording arrays of a run with these state recorders: same constructors, same types
    states = [r for r in recorders if r.kind == "state"]
    probes, rec = RecordingPlan(eng, states, 1).segment_arrays(eng.step, 0)
    segment = segment_function(n_thr)
    plast = plasticity_arrays(eng, part_lo, part_hi)
    mod = modulation_arrays(eng, pops)
    if plast is not None:
        flush_histories(eng, plast)  # compiled for the end of a run (no row is pending)
    segment(
        eng.step, 0, 1, 0, bufs, pops, state, syn, mut, ring, evd, inputs, probes, rec, plast, mod
    )
    return time.perf_counter() - t0
