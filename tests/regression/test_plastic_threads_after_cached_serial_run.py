"""A plastic network compiled at one thread, then run at two threads in a new process.

Since the run loop's per-step kernels were compiled without reference counting
(``JIT_BORROW``), the plastic delivery flattened the spike histories with ``ravel``, whose
implementation is a compiled helper that returns an array. Such a kernel compiles only if
that helper was compiled earlier in the process by a kernel that counts references (the
end-of-run flush did so in a fresh process). With the on-disk cache filled by a one-thread
run, the second process loaded the flush from the cache, compiled the delivery for the
thread index type of the parallel loop, and failed in Numba's lowering ("Only accept
returning of array passed into the function as argument").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_RUN = """
import sys
import numpy as np
import snnsim as snn
net = snn.Network(dt=0.1, seed=3, threads=int(sys.argv[1]))
exc = net.add_population(160, snn.LIF(tau_refrac=2.0), label="exc")
net.add_input(exc, snn.PoissonInput(n_inputs=100, rate=25.0, weight=0.12))
ee = net.connect(exc, exc, snn.FixedProbability(0.1), weight=snn.Uniform(0.05, 0.3),
                 delay=snn.Uniform(0.5, 3.0), round_delays=True,
                 plasticity=snn.STDP(a_plus=0.02, a_minus=0.021, w_max=0.5))
net.run(50.0)
w = np.array([x[2] for x in ee.get(["weight"], format="list")])
print(w.tobytes().hex())
"""


def _run(threads: int, cache: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "SNNSIM_NO_CACHE")}
    env["SNNSIM_CACHE_DIR"] = str(cache)
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(threads)], env=env, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_two_threads_after_a_cached_one_thread_run(tmp_path: Path) -> None:
    one = _run(1, tmp_path)
    two = _run(2, tmp_path)
    assert one == two
