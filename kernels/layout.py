"""Named structures that carry the engine's arrays into the compiled run loop.

Every kernel argument that bundles several arrays is one of these ``NamedTuple`` classes,
read by field name in the kernels (``syn.indptr``, ``evd.last``), never by position. The
engine builds them with the same constructors for a run and for the compile-time dummy
call, so adding an array means adding one field here, one value where the engine builds
the structure and the kernel code that reads it. Numba types a ``NamedTuple`` by its class
and field types, and caches kernels that take one (``cache=True``) like any other.

Neuron ids are global (``0 .. N-1``, populations in creation order). A synapse code is
``N_RECEPTOR_PLANES * target + receptor``: receptor planes of the ring buffer are
``buffer[slot, receptor * N + target]``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

#: Receptor planes of the ring buffer (and the factor of the synapse code).
N_RECEPTOR_PLANES = 2
#: ``code >> RECEPTOR_SHIFT`` is the target, ``code & RECEPTOR_MASK`` the receptor.
RECEPTOR_SHIFT = 1
RECEPTOR_MASK = 1


class Populations(NamedTuple):
    """Per population ``p`` (arrays of length ``n_pop``)."""

    #: model kind the dispatch switches on (``snnsim.kernels.neurons.KIND_*``)
    kind: Any
    #: first global id and number of neurons
    start: Any
    size: Any
    #: offsets of the population's float / integer state and static integer data
    foff: Any
    ioff: Any
    doff: Any
    #: counter-based random stream key (sources)
    key: Any
    #: float64[n_pop, n_coeffs]: kernel coefficients (layout per model kernel)
    coeffs: Any
    #: float64[n_pop, GAP_STEPS + 1, m]: input-free propagators (event-driven models)
    gap: Any
    #: int8: 0 clock-driven only, 1 event-driven kernels, 2 and its neurons can idle
    event: Any
    #: offset of the population's per-neuron coefficients in ``ncoeffs`` (-1: homogeneous)
    noff: Any
    #: float64: per-neuron coefficients of heterogeneous populations, coefficient ``k`` of
    #: neuron ``i`` of population ``p`` at ``noff[p] + k * size[p] + i``
    ncoeffs: Any
    #: the model set (``snnsim.kernels.neurons.model_set``): which kinds, and which of their
    #: variants, the dispatch compiles; an empty array whose *dtype* Numba specialises on
    models: Any


class NeuronState(NamedTuple):
    """Neuron state of the whole network (see ``snnsim.engine``)."""

    #: float state, population blocks of ``n_float_vars * size`` values
    fstate: Any
    #: integer state (refractory counters, schedule pointers)
    istate: Any
    #: static integer data (spike schedules)
    idata: Any
    #: external step current per neuron (nA)
    i_ext: Any
    #: False when no neuron has an external current
    use_iext: bool


class StaticSynapses(NamedTuple):
    """The compacted static block: one CSR by global source id (``snnsim.synapses``)."""

    indptr: Any
    #: int32 ``2 * target + receptor``, ascending within each row
    code: Any
    #: float32 values (``w_mode`` 0), uint8/uint16 indices into ``w_table`` (1), empty (2)
    weight: Any
    w_table: Any
    #: uint8/uint16 steps, empty when ``delay_const`` > 0
    delay: Any
    w_mode: int
    delay_const: int


class MutableSynapses(NamedTuple):
    """Per-projection mutable blocks, concatenated (``B`` blocks, ``S`` synapses).

    The run loop gets ``None`` instead when there are no blocks, so a static network
    compiles none of their code.

    Block ``b`` is a CSR over the global source ids ``[lo[b], hi[b])``: row ``g`` is
    ``indptr[row[b] + g - lo[b]] : indptr[row[b] + g - lo[b] + 1]`` (absolute positions in
    the synapse arrays; a block's synapses are contiguous), rows ascending by code.
    """

    lo: Any
    hi: Any
    row: Any
    #: int64 row pointers of all blocks
    indptr: Any
    #: int32 ``2 * target + receptor``
    code: Any
    #: float64 weights (nA, or mV for delta synapses)
    weight: Any
    #: uint16 delays in steps
    delay: Any


class Ring(NamedTuple):
    """Ring buffer of the spikes in flight: ``buffer[D, 2N]``, slot ``stamp & mask``."""

    buffer: Any
    mask: int


class EventState(NamedTuple):
    """Event-driven bookkeeping, one bit per neuron (see ``lif_event_update``)."""

    on: bool
    #: uint64[D, W]: neurons with input in each ring slot
    inbits: Any
    #: uint64[W]: neurons that must be updated every step
    busy: Any
    #: uint64[W]: recorded neurons (always updated)
    pinned: Any
    #: int64[N]: stamp of each neuron's last single update
    last: Any
    #: int64[W]: stamp of each word's last vectorised update
    blk_stamp: Any


class Inputs(NamedTuple):
    """Step-current change events and aggregated Poisson inputs."""

    ev_step: Any
    ev_gid: Any
    ev_value: Any
    pin_indptr: Any
    pin_targets: Any
    pin_n: Any
    pin_p: Any
    pin_w: Any
    pin_rec: Any
    pin_key: Any


class Probes(NamedTuple):
    """State recorders: one probe per (variable, neuron), outputs per recorder ``r``."""

    #: index of the probed value in ``fstate`` (or ``istate`` where ``is_int``)
    addr: Any
    gid: Any
    rec: Any
    col: Any
    every: Any
    width: Any
    off: Any
    base: Any
    #: float64 samples of every recorder, ``off[r] + row * width[r] + col``
    out: Any
    #: bool per probe: an integer state variable (read from ``istate``)
    is_int: Any


class Recording(NamedTuple):
    """Spike counting and recording of one segment."""

    rate_col: Any
    rate_counts: Any
    rec_mask: Any
    rec_steps: Any
    rec_ids: Any
    spike_count: Any
    #: int64[3]: spikes, synaptic events, recorded spikes
    counters: Any


class Buffers(NamedTuple):
    """Thread partitions and per-chunk spike buffers (double-buffered)."""

    part_lo: Any
    part_hi: Any
    #: int64[2, T, cap]: spikes of each partition, grouped by step
    spk: Any
    #: int64[2, T, m]: spikes of partition ``j`` in chunk step ``s``
    cnt: Any
    cursors: Any


class Plasticity(NamedTuple):
    """STDP state of the plastic mutable blocks (``snnsim.kernels.plasticity``).

    The run loop gets ``None`` instead when no projection is plastic, so a network without
    plasticity compiles none of this code. ``R`` rules, ``P`` pointer entries of the
    mutable blocks (``len(mut.indptr)``), ``H`` neurons with plastic inputs, ``C`` entries
    of each one's spike history, ``T`` threads.
    """

    #: int64[B]: rule of each mutable block, -1 for a static (non-plastic) one
    rule: Any
    #: float64[R, 8]: dt/tau_plus, dt/tau_minus, a_plus, a_minus, u_min, w_max, mu, nearest
    param: Any
    #: float64[T, P]: presynaptic trace of each block row (source) as of its last spike,
    #: one replica per thread (all equal: every thread sees every presynaptic spike)
    kplus: Any
    #: int64[T, P]: stamp of the row's last presynaptic spike, -1 before the first
    tlast: Any
    #: int64[N]: history row of each neuron, -1 for neurons without plastic inputs
    hrow: Any
    #: int32[S]: history row of each mutable synapse's target (-1: none), so that the
    #: presynaptic step reads it in synapse order instead of through ``hrow``
    syn_h: Any
    #: float64[H, W]: the spike history of each neuron with plastic inputs, newest first
    #: (run-local, built from and written back to ``Engine.pl_hist_*`` by
    #: ``snnsim.plastic_blocks``). Column 0: the stamp through which every facilitation
    #: has been applied (:func:`snnsim.kernels.plasticity.flush_row`); entry ``e`` (0: the
    #: latest spike) at columns ``1 + e * (1 + R)``: its stamp (``-inf`` when empty), then
    #: the postsynaptic trace K- of each rule just after it. ``W`` is padded to whole cache
    #: lines and rows start on one, so that the column 0 and the latest entries share a line
    hist: Any
    #: int: entries per history (``C``)
    cap: int
    #: int64[H]: spikes appended to each history so far
    hist_n: Any
    #: int64[H]: neuron of each history row (``hrow``'s inverse)
    hgid: Any
    #: int: the longest delay of a block with an STDP rule (steps): a spike stays pending
    #: (some facilitation by it not yet applied) until this long after its stamp
    reach: int
    #: float64[S]: the mutable weights (``MutableSynapses.weight``, the same array), for the
    #: facilitations applied when a history is flushed during the neuron update
    weight: Any
    #: int64: the mutable blocks' post index (``Engine.mb_tlo`` ... ``mb_post_ptr``) with
    #: the synapses of each target sorted by delay (``post_syn``)
    tlo: Any
    thi: Any
    prow: Any
    post_ptr: Any
    post_syn: Any
    #: run-local copies along ``post_syn`` (kept in step with it when delays move): the
    #: row (source) and the delay of each entry, so that a facilitation reads them in
    #: order instead of through ``post_syn`` (int64[S], delay dtype[S])
    post_row: Any
    post_delay: Any
    #: int64[B]: longest delay of each block (steps; the upper bound for plastic delays)
    dmax: Any
    #: int64[B]: delay rule of each block (row of ``dparam``), -1 for none
    drule: Any
    #: float64[R2, 7]: window, lead (steps), max_step, d_min, d_max (steps), row of the
    #: arrival array in ``sa_i64``, postsynaptic spikes looked back
    #: (``snnsim.kernels.plasticity.delay_pre``)
    dparam: Any
    #: the per-synapse arrays declared by rules (``snnsim.plasticity.SynapseArray``): one
    #: row per array, one column per mutable synapse; a rule's parameter row holds the row
    #: index of each array it declared (flat fields: Numba's parallel wrapper refuses a
    #: structure nested in a structure)
    sa_i64: Any
    sa_f64: Any
    #: float64[R, 2, L]: the traces' decay over 0 .. L - 1 steps, by tau_plus (0) and
    #: tau_minus (1) (``snnsim.kernels.plasticity.decay_table``), read instead of ``exp``
    decay: Any


class Modulation(NamedTuple):
    """Astrocyte -> neuron / synapse effects (``snnsim.kernels.modulation``).

    The run loop gets ``None`` instead when the network has no modulation, so a network
    without astrocyte effects compiles none of this code. ``M`` modulating astrocytes,
    ``E`` modulated neuron coefficients, ``R`` modulated (projection, effect) records.
    A *term* is one (astrocyte, weight, delay) contribution; every entry and every record
    target owns a contiguous range of terms.
    """

    #: float64[H, M]: output of astrocyte ``j`` after its update of stamp ``s`` at
    #: ``hist[s & mask, j]`` (``H`` a power of two >= longest delay + 2 chunks)
    hist: Any
    mask: int
    #: int64[M]: global id of each modulating astrocyte (ascending) and the index in
    #: ``fstate`` of its output variable (``A`` or ``SIC``)
    src_gid: Any
    src_addr: Any
    #: int64[E]: neuron of each modulated coefficient (ascending) and the coefficient's
    #: index in the run's per-neuron coefficients (``Populations.ncoeffs``)
    ent_gid: Any
    ent_addr: Any
    #: float64[E]: the coefficient's own value (``i_offset``, ``v_thresh``)
    ent_base: Any
    #: int64[E + 1]: terms of entry ``e`` are ``ent_ptr[e] : ent_ptr[e + 1]``
    ent_ptr: Any
    #: terms: column of the astrocyte in ``hist``, weight, delay (steps)
    t_src: Any
    t_w: Any
    t_d: Any
    #: int64[B]: per mutable block, the record of its "stdp_depression" / "gain" effect, -1
    blk_dep: Any
    blk_gain: Any
    #: int64[R]: first target (global id) of each record and the offset of its rows in
    #: ``rec_ptr``: the terms onto target ``t`` are
    #: ``rec_ptr[rec_off[r] + t - rec_tlo[r]] : rec_ptr[rec_off[r] + t - rec_tlo[r] + 1]``
    rec_tlo: Any
    rec_off: Any
    rec_ptr: Any
