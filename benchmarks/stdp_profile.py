r"""Where the time of an STDP run goes: plastic delivery against the per-chunk flush.

Runs the ``stdp`` case's network (:func:`benchmarks.networks.cuba_stdp`) for 200 ms in
snnsim (float64, 1 thread), then times the two STDP kernels on the engine's own state, each
in a compiled loop (no Python per call):

* :func:`snnsim.kernels.plasticity.stdp_pre` once per plastic event of that run (presynaptic
  spikes of excitatory neurons times their mean plastic out-degree), onto random excitatory
  targets, which is how a source's sorted targets spread over the history arrays;
* :func:`snnsim.kernels.plasticity.flush_facilitation` once per chunk (one step here: the
  delay is one step) over all plastic targets, as the run loop calls it.

Compare their sum with the run time of the plastic run minus the static one (``snnsim bench
stdp`` reports both)::

    python benchmarks/stdp_profile.py 4000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from numba import njit
from snnsim.kernels.plasticity import flush_facilitation, rule_params, stdp_pre

from benchmarks import networks
from benchmarks.snnsim_runner import build_snnsim_network
from snnsim.plastic_blocks import plasticity_arrays


@njit
def _flush_loop(n_chunks, c_start, n, mut, pl):  # type: ignore[no-untyped-def]
    for c in range(c_start, c_start + n_chunks):
        flush_facilitation(0, c, c + 1, mut, pl)
    return 0


@njit
def _pre_loop(targets, stamp, t0, pl):  # type: ignore[no-untyped-def]
    # as the run loop's delivery does: arrays into locals once, then per event
    hrow, hist_t, hist_k, hist_n = pl.hrow, pl.hist_t, pl.hist_k, pl.hist_n
    rule = rule_params(pl.param, 0)
    acc = 0.0
    for q in range(targets.shape[0]):
        h = hrow[targets[q]]
        acc += stdp_pre(
            0.081, h, 1, stamp, t0, 1.3, stamp - 37, rule, rule.a_minus, 0, hist_t, hist_k, hist_n
        )
    return acc


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 4000
    arrays = networks.cuba_stdp(n, duration=1000.0)
    net, rec = build_snnsim_network(arrays, 1, "double")
    eng = net.build()
    stats = net.run(200.0)
    steps = round(200.0 / arrays.dt)
    _, _, _, mut, _, _ = eng.kernel_arrays()
    pl = plasticity_arrays(eng, np.zeros(1, dtype=np.int64), np.full(1, eng.n, dtype=np.int64))
    stamp = eng.step
    n_exc = arrays.n_exc
    mask = (arrays.sources < n_exc) & (arrays.targets < n_exc)
    exc_spikes = int(np.count_nonzero(rec.ids < n_exc))
    events = int(exc_spikes * np.count_nonzero(mask) / n_exc)
    targets = np.random.default_rng(0).integers(0, n_exc, events).astype(np.int64)
    _flush_loop(2, stamp, n, mut, pl)
    _pre_loop(targets[:2], stamp, stamp - 1, pl)
    t0 = time.perf_counter()
    _flush_loop(steps, stamp, n, mut, pl)
    t_flush = time.perf_counter() - t0
    t0 = time.perf_counter()
    _pre_loop(targets, stamp, stamp - 1, pl)
    t_pre = time.perf_counter() - t0
    print(f"N={n}: plastic run, 200 ms: {stats.wall_s:.3f} s, {rec.count} spikes")
    print(
        f"  stdp_pre x {events} plastic events: {t_pre:.3f} s ({t_pre / events * 1e9:.0f} ns each)"
    )
    print(
        f"  flush_facilitation x {steps} chunks over {n_exc} targets: {t_flush:.3f} s "
        f"({t_flush / steps / n_exc * 1e9:.1f} ns per target and chunk)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
