"""One LIF neuron driven by a step current and by input spikes.

A current step of ``I = 1 nA`` from 10 ms drives a ``snn.LIF`` neuron (PyNN ``IF_curr_exp``,
NEST ``iaf_psc_exp``) from rest to threshold. Starting at ``v_rest``, the membrane follows
``v(t) = v_rest + R I (1 - exp(-t / tau_m))`` with ``R = tau_m / cm``, so the first spike
comes after

    t* = -tau_m * ln(1 - (v_thresh - v_rest) / (R I))

(here 20 ms * ln 4 = 27.73 ms), reported at the end of the step in which ``v`` crosses
the threshold: at most one step ``dt`` after ``10 ms + t*``. After the current is switched
off, two input spikes from a ``snn.SpikeSource`` show the exponential synaptic current
``i_exc`` and the postsynaptic potential it causes.
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

import snnsim as snn

DT = 0.1  # ms
T_ON, T_OFF = 10.0, 150.0  # ms, current step
I_STEP = 1.0  # nA
PARAMS = {
    "tau_m": 20.0,
    "cm": 1.0,
    "v_rest": -65.0,
    "v_reset": -70.0,
    "v_thresh": -50.0,
    "tau_syn_exc": 5.0,
    "tau_syn_inh": 5.0,
    "tau_refrac": 2.0,
}


def first_spike_time() -> float:
    """Closed-form time of the first spike, ms (current onset + t*)."""
    r_in = PARAMS["tau_m"] / PARAMS["cm"]  # MOhm
    rel = (PARAMS["v_thresh"] - PARAMS["v_rest"]) / (r_in * I_STEP)
    return T_ON - PARAMS["tau_m"] * math.log(1.0 - rel)


def main(duration: float = 250.0, out_dir: str = ".") -> dict[str, Any]:
    """Run the neuron, print its spike times against the closed form, plot ``v`` and ``i_exc``."""
    net = snn.Network(dt=DT, seed=1)
    neuron = net.add_population(1, snn.LIF(**PARAMS), label="neuron")
    net.add_input(neuron, snn.StepCurrent(times=[T_ON, T_OFF], amplitudes=[I_STEP, 0.0]))
    source = net.add_population(1, snn.SpikeSource(times=[[180.0, 200.0]]), label="input")
    net.connect(source, neuron, snn.AllToAll(), weight=0.5, delay=1.0, receptor="exc")
    spikes = net.record_spikes(neuron)
    trace = net.record_state(neuron, ["v", "i_exc"])
    net.build(progress=True)  # says so if kernels must be compiled first (a cold cache)
    net.run(duration)

    times = spikes.times
    print(f"spike times (ms): {', '.join(f'{t:.1f}' for t in times) or 'none'}")
    expected = first_spike_time()
    result: dict[str, Any] = {"spike_times": times, "expected_first": expected}
    if expected <= duration:
        if not times.size:
            raise RuntimeError("no spike although the closed form predicts one")
        err = times[0] - expected
        print(
            f"first spike: simulated {times[0]:.1f} ms, closed form {expected:.3f} ms "
            f"(10 ms + t*), difference {err:+.3f} ms (grid: 0 <= difference < dt = {DT} ms)"
        )
        if not -1e-9 <= err < DT + 1e-9:
            raise RuntimeError(f"first spike {times[0]} ms is not within one step of {expected} ms")
        result["first_spike_error"] = err

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_v, ax_i) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, layout="constrained")
    snn.plot.traces(trace, "v", ax=ax_v, color="k", lw=0.8)
    ax_v.axhline(PARAMS["v_thresh"], color="C3", ls="--", lw=0.8, label="threshold")
    ax_v.axvline(expected, color="C2", ls=":", lw=1.0, label="closed-form first spike")
    ax_v.legend(loc="lower right", fontsize="small")
    ax_v.set_title("LIF neuron: step current 10-150 ms, input spikes at 180 and 200 ms")
    snn.plot.traces(trace, "i_exc", ax=ax_i, color="C0", lw=0.8)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "single_neuron.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
    result["plot"] = path
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=250.0, help="ms (default 250)")
    parser.add_argument("--out", default=".", help="output folder (default .)")
    args = parser.parse_args()
    main(duration=args.duration, out_dir=args.out)
