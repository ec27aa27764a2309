"""Ctrl-C leaves the network consistent (issue 8, section 5).

A KeyboardInterrupt during ``net.run`` stops at the end of the segment under way: the step
(``net.t``), the neuron state, the spikes in flight and every recorder then agree, so a
later ``run`` continues exactly and ``snn.save`` writes a consistent checkpoint. The first
test sends real SIGINTs to a subprocess in the middle of long runs; the second sends one
while the engine books a segment's results (Python code between compiled segments).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import snnsim as snn

NETWORK = textwrap.dedent(
    """
    import numpy as np
    import snnsim as snn

    def make(seed):
        net = snn.Network(dt=0.1, seed=seed, threads=1)
        lif = snn.LIF(v_rest=-65.0, v_thresh=-50.0, tau_refrac=2.0)
        exc = net.add_population(160, lif, label="exc")
        inh = net.add_population(40, lif, label="inh")
        exc.initialize(v=snn.Uniform(-65.0, -50.0))
        net.connect(exc, exc, snn.FixedProbability(0.1), weight=0.5, delay=1.5)
        net.connect(exc, inh, snn.FixedProbability(0.1), weight=0.5, delay=0.8)
        net.connect(
            inh, exc, snn.FixedProbability(0.1), weight=-2.0, delay=0.5, receptor="inh"
        )
        net.add_input(exc, snn.PoissonInput(100, 20.0, 0.5))
        net.add_input(inh, snn.PoissonInput(100, 20.0, 0.5))
        net.record_spikes(exc)
        net.record_spikes(inh[5:20])
        net.record_state(exc[0:3], ["v", "i_exc"], every=7)
        net.record_rates(inh, 1.0)
        return net

    def recorded(net):
        out = {}
        for i, r in enumerate(net.recorders):
            for name, arr in r.recorded().items():
                out[f"{i}.{name}"] = np.asarray(arr)
        return out

    def check_consistent(net):
        # every recorder covers exactly the steps run so far, nothing beyond
        step = net.step
        assert net.engine.step == step and net.t == step * net.dt
        sp_exc, sp_inh, st, rt = net.recorders
        assert sp_exc.steps.size == 0 or sp_exc.steps.max() <= step
        assert sp_inh.steps.size == 0 or sp_inh.steps.max() <= step
        np.testing.assert_array_equal(st.recorded()["steps"], 7 * np.arange(1, step // 7 + 1))
        assert rt.recorded()["counts"].size == -(-step // 10)
        assert int(net.engine.spike_count[:160].sum()) == sp_exc.count
        assert net.engine.total_spikes == int(net.engine.spike_count.sum())
    """
)

CHILD = NETWORK + textwrap.dedent(
    """
    import sys
    net = make(5)
    net.run(1.0)  # compile or load the kernels before the parent starts interrupting
    print("ready", flush=True)
    for _ in range(int(sys.argv[2])):
        try:
            net.run(200000.0)
        except KeyboardInterrupt:
            check_consistent(net)
            print("stopped", net.step, flush=True)
        else:
            print("finished", flush=True)
            sys.exit(3)
    stopped = net.step
    snn.save(net, sys.argv[1])
    net.run(20.0)
    check_consistent(net)

    ref = make(5)
    ref.run(stopped * ref.dt)
    ref.run(20.0)
    a, b = recorded(net), recorded(ref)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

    loaded = snn.load(sys.argv[1])
    assert loaded.step == stopped
    check_consistent(loaded)
    loaded.run(20.0)
    c = recorded(loaded)
    for k in a:
        np.testing.assert_array_equal(c[k], b[k], err_msg="loaded " + k)
    print("ok", stopped, a["0.steps"].size, flush=True)
    """
)


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """Next line of the child's stdout (fails after ``timeout`` s)."""
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"no output from the child in {timeout} s; stderr:\n{err}")
    return proc.stdout.readline().strip()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess is POSIX only")
def test_real_sigint_during_long_runs_leaves_a_resumable_network(tmp_path: Path, seed: int):
    """After real SIGINTs mid-run, run continues spike-exactly and save/load agrees."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    n_interrupts = 3
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "stopped.h5"), str(n_interrupts)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _read_line(proc, 600) == "ready"
        rng = np.random.default_rng(seed)
        steps = []
        for _ in range(n_interrupts):
            time.sleep(float(rng.uniform(0.3, 0.8)))
            proc.send_signal(signal.SIGINT)
            line = _read_line(proc, 60)
            assert line.startswith("stopped"), line
            steps.append(int(line.split()[1]))
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.startswith("ok"), out + err
    assert steps == sorted(steps) and steps[0] > 10 and len(set(steps)) == n_interrupts
    assert int(out.split()[2]) > 100  # the comparison saw spikes


def test_sigint_while_booking_a_segment_stops_at_its_end() -> None:
    """A SIGINT while recorders consume a segment stops after the bookkeeping, consistently."""
    if os.name != "posix":
        pytest.skip("os.kill(SIGINT) on this process is POSIX only")
    ns: dict[str, Any] = {}
    exec(NETWORK, ns)  # the same network code as the subprocess
    make, recorded, check = ns["make"], ns["recorded"], ns["check_consistent"]
    net = make(7)
    net.run(1.0)
    rec = net.recorders[0]
    calls = 0
    original = rec.consume

    def consume(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # mid-bookkeeping: the other recorders are not fed yet
            os.kill(os.getpid(), signal.SIGINT)
        original(*args)

    rec.consume = consume
    with pytest.raises(KeyboardInterrupt):
        net.run(100000.0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    check(net)
    stopped = net.step
    assert 10 < stopped < 1_000_000
    assert net.engine.last_run.sim_ms == pytest.approx((stopped - 10) * net.dt)
    rec.consume = original
    net.run(5.0)
    ref = make(7)
    ref.run(stopped * ref.dt)
    ref.run(5.0)
    a, b = recorded(net), recorded(ref)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_run_without_interrupt_restores_the_handler() -> None:
    """A finished run leaves the SIGINT handler as it found it."""
    net = snn.Network(dt=0.1, seed=1)
    net.add_population(2, snn.LIF(i_offset=2.0))
    before = signal.getsignal(signal.SIGINT)
    net.run(5.0)
    assert signal.getsignal(signal.SIGINT) is before
