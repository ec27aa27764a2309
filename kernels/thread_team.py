"""A team of threads that stays together for a whole segment: atomics and a spin barrier.

With the shortest delay one step, the run loop's threads meet once per step (0.1 ms of
model time). A ``prange`` region per chunk (``run_segment_parallel``) costs more than the
work of a chunk of a few thousand neurons: CUBA-4000 ran in 0.063 s at two threads against
0.042 s at one (1 s of model time; an empty two-thread region alone takes about 1.1 us on
this 2-core VM). :func:`run_segment_team` opens one region per segment instead; its
workers meet at :func:`barrier_wait`, a centralised sense-reversing barrier on an
``int64`` array (``sync``, :data:`SYNC_WORDS` words, zeroed before every segment) that
costs about 0.08 us per crossing on two cores.

A spin barrier needs its workers to run at the same time. Numba's ``omp`` and
``workqueue`` layers give each of ``prange(n)`` iterations its own thread when ``n`` is at
most ``numba.get_num_threads()`` (the caller checks both). Should they ever not (an OpenMP
runtime told to shrink its teams), :func:`rendezvous` notices before any state changes:
a worker that waits too long declares the segment abandoned and every worker returns
``-1``, so the caller can run the segment serially instead. A waiting worker spins briefly,
then yields its core, so a team that shares cores with other threads still advances.

The atomics are Numba intrinsics (LLVM ``atomicrmw``, ``cmpxchg``, atomic ``load`` and
``store``, all sequentially consistent): plain stores made before a barrier are visible
to every worker after it.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE, JIT_PARALLEL
from snnsim.kernels.simulation import deliver_spikes, record_chunk, update_partition

#: Words of the ``sync`` array; the counters sit 8 words (one cache line) apart so that
#: the barrier's arrival counter and the word the waiters poll do not share a line.
SYNC_WORDS = 40
_ARRIVED = 0  # workers arrived at the current barrier
_GENERATION = 8  # barriers completed; waiters poll it
_READY = 16  # workers that reached the rendezvous
_VERDICT = 24  # rendezvous outcome: 0 undecided, 1 go, 2 abandoned
_RECORDED = 32  # spikes recorded before a chunk's barrier, by chunk parity (words 32, 33)
_FAILED = 34  # a kernel raised on some worker: all stop after the barrier

#: Spins before a waiting worker starts yielding its core.
_SPINS = 2000
#: Yields after which the rendezvous is abandoned (a few seconds at about 1 us a yield).
_PATIENCE = 4_000_000

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


def team_layer() -> bool:
    """Whether Numba's threading layer gives each ``prange`` iteration its own thread.

    True for ``omp`` and ``workqueue``; ``tbb`` may run two iterations one after the other
    on one thread, which would leave a spin barrier waiting forever. False on Windows too,
    which has no ``sched_yield`` (untested there: the run loop keeps a region per chunk).
    """
    if sys.platform == "win32":
        return False
    try:
        return numba.threading_layer() in ("omp", "workqueue")  # type: ignore[attr-defined]
    except ValueError:  # no parallel region has run yet: the layer is not chosen
        return False


def _element_pointer(context: Any, builder: Any, aryty: Any, ary_val: Any, idx: Any) -> Any:
    ary = context.make_array(aryty)(context, builder, ary_val)
    return cgutils.get_item_pointer(context, builder, aryty, ary, [idx])


def _atomic_add(typingctx, arr, idx, val):
    """``old = arr[idx]; arr[idx] += val`` as one atomic operation; returns ``old``."""
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")

    return sig, codegen


atomic_add: Any = intrinsic(_atomic_add)


def _atomic_load(typingctx, arr, idx):
    """Read ``arr[idx]`` atomically."""
    sig = types.int64(arr, types.intp)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "seq_cst", 8)

    return sig, codegen


atomic_load: Any = intrinsic(_atomic_load)


def _atomic_store(typingctx, arr, idx, val):
    """Write ``arr[idx] = val`` atomically."""
    sig = types.void(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        builder.store_atomic(args[2], ptr, "seq_cst", 8)
        return context.get_dummy_value()

    return sig, codegen


atomic_store: Any = intrinsic(_atomic_store)


def _atomic_claim(typingctx, arr, idx, expected, val):
    """Set ``arr[idx] = val`` if it equals ``expected`` (compare-and-swap); whether it did."""
    sig = types.boolean(arr, types.intp, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        pair = builder.cmpxchg(ptr, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 1)

    return sig, codegen


atomic_claim: Any = intrinsic(_atomic_claim)


def _relax(typingctx):
    """Tell the core that this thread spins (x86 ``pause``; nothing elsewhere)."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause"
            )
            builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen


relax: Any = intrinsic(_relax)


def _yield_core(typingctx):
    """Give the core to another runnable thread (POSIX ``sched_yield``)."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield"
        )
        builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen


yield_core: Any = intrinsic(_yield_core)


@njit(**JIT_INLINE)
def barrier_wait(sync, n_workers):
    """Wait until all ``n_workers`` workers have called this (a centralised barrier).

    The generation is read before arriving, so it cannot change before this worker
    arrives; the last to arrive resets the count and then advances the generation, which
    releases the others.
    """
    gen = atomic_load(sync, _GENERATION)
    if atomic_add(sync, _ARRIVED, 1) == n_workers - 1:
        atomic_store(sync, _ARRIVED, 0)
        atomic_add(sync, _GENERATION, 1)
        return
    spins = 0
    while atomic_load(sync, _GENERATION) == gen:
        if spins < _SPINS:
            spins += 1
            relax()
        else:
            yield_core()


@njit(**JIT_INLINE)
def rendezvous(sync, n_workers):
    """Wait until all workers run at the same time; False if they do not (abandoned).

    The verdict is one compare-and-swap: the last worker to arrive claims "go", a worker
    that waited ``_PATIENCE`` yields claims "abandoned"; whichever claim lands first holds
    for every worker, including one that arrives after an abandonment.
    """
    if atomic_add(sync, _READY, 1) == n_workers - 1:
        atomic_claim(sync, _VERDICT, 0, 1)
    spins = 0
    waited = 0
    while atomic_load(sync, _VERDICT) == 0:
        if spins < _SPINS:
            spins += 1
            relax()
        else:
            yield_core()
            waited += 1
            if waited > _PATIENCE:
                atomic_claim(sync, _VERDICT, 0, 2)
    return atomic_load(sync, _VERDICT) == 1


@njit(**JIT_BORROW)
def team_worker(w, t_start, n_steps, min_delay, rec_per_chunk, n_workers, sync, bufs, pops,
                state, syn, mut, ring, evd, inputs, probes, rec, plast, mod):  # fmt: skip
    """Worker ``w`` of :func:`run_segment_team`; returns the steps done, ``-1`` or ``-2``."""
    if not rendezvous(sync, n_workers):
        return -1
    part_lo, part_hi, spk, cnt, cursors = (
        bufs.part_lo, bufs.part_hi, bufs.spk, bufs.cnt, bufs.cursors,
    )  # fmt: skip
    counters, cap = rec.counters, rec.rec_steps.shape[0]
    pop_start = pops.start
    n_thr = part_lo.shape[0]
    end = t_start + n_steps
    t = t_start
    b = 0
    i = 0
    pend_t0 = t_start
    pend_len = np.int64(0)
    # read before the first barrier, so before worker 0 records anything: the same for all
    go = t < end and counters[2] + rec_per_chunk <= cap
    while go:
        length = min(min_delay, end - t)
        pb = 1 - b
        # a check that fails in a kernel raises; the others would wait at the barrier for
        # ever, so the worker says so and still arrives, and all stop after the barrier
        try:
            for k in range(w, n_thr, n_workers):
                if pend_len > 0:
                    deliver_spikes(
                        k, part_lo[k], part_hi[k], False, pend_t0, pend_len, spk[pb], cnt[pb],
                        cursors[k], syn, mut, ring, evd, plast, mod,
                    )  # fmt: skip
                update_partition(
                    k, part_lo[k], part_hi[k], t, length, spk[b], cnt[b], pops, state, ring,
                    evd, inputs, probes, plast, mod,
                )  # fmt: skip
            if w == 0:
                if pend_len > 0:
                    record_chunk(pend_t0, pend_len, t_start, spk[pb], cnt[pb], cursors[n_thr],
                                 syn, mut, pop_start, rec)  # fmt: skip
                sync[_RECORDED + (i & 1)] = counters[2]
        except Exception:  # Numba can neither name nor keep the exception
            atomic_store(sync, _FAILED, 1)
        barrier_wait(sync, n_workers)
        if atomic_load(sync, _FAILED) != 0:
            return -2
        # room for this chunk's spikes (recorded during the next one) and the next chunk's
        emitted = 0
        for j in range(n_thr):
            for s in range(length):
                emitted += cnt[b, j, s]
        go = t + length < end and sync[_RECORDED + (i & 1)] + emitted + rec_per_chunk <= cap
        pend_t0 = t
        pend_len = length
        t += length
        b = pb
        i += 1
    if pend_len > 0:
        pb = 1 - b
        try:
            for k in range(w, n_thr, n_workers):
                deliver_spikes(
                    k, part_lo[k], part_hi[k], False, pend_t0, pend_len, spk[pb], cnt[pb],
                    cursors[k], syn, mut, ring, evd, plast, mod,
                )  # fmt: skip
            if w == 0:
                record_chunk(pend_t0, pend_len, t_start, spk[pb], cnt[pb], cursors[n_thr], syn,
                             mut, pop_start, rec)  # fmt: skip
        except Exception:  # no barrier follows: this worker alone stops
            return -2
    return t - t_start


@njit(**JIT_PARALLEL)
def run_segment_team(t_start, n_steps, min_delay, rec_per_chunk, n_workers, sync, bufs, pops,
                     state, syn, mut, ring, evd, inputs, probes, rec, plast, mod):  # fmt: skip
    """:func:`~snnsim.kernels.simulation.run_segment_serial` on a team of ``n_workers`` threads.

    Same arguments and result (plus ``n_workers`` and a zeroed ``sync``), the same
    trajectory bit for bit, one parallel region for the whole segment: worker ``w`` owns
    the partitions ``w, w + n_workers, ...`` of ``bufs``. Per chunk each worker delivers the
    previous chunk's spikes to its partitions and updates them; worker 0 also records the
    previous chunk (:func:`~snnsim.kernels.simulation.record_chunk` reads the spike buffer
    that the current chunk does not write); then all meet at one barrier. Whether the next
    chunk runs must be the same decision for every worker (the recording buffer must have
    room for the chunk still to record and the next one), so every worker makes it after
    the barrier from data no worker writes until the next barrier: the count of recorded
    spikes that worker 0 left in a word of the chunk's parity, and the chunk's spike
    counts. Returns ``-1``, with nothing changed, when the workers do not run at the same
    time (:func:`rendezvous`), and ``-2`` when a kernel raised on a worker (a failed
    internal check: the state is then partly advanced).
    """
    done = np.zeros(n_workers, dtype=np.int64)
    for w in prange(n_workers):
        # the index as int64: Numba types it unsigned in the parallel body and signed when
        # it types the loop first, and would compile the worker for both
        done[w] = team_worker(np.int64(w), t_start, n_steps, min_delay, rec_per_chunk,
                              n_workers, sync, bufs, pops, state, syn, mut, ring, evd, inputs,
                              probes, rec, plast, mod)  # fmt: skip
    return done.min() if done.min() < 0 else done[0]
