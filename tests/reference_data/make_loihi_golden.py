"""Make ``loihi_golden.npz``: Lava ``fixed_pt`` LIF + Dense/DelayDense traces in plain Python.

Written from the documented equations (hardware-formats.md sections 2.1 and 2.2, Lava
``PyLifModelBitAcc`` / ``PyDenseModelBitAcc`` / ``PyDelayDenseModelBitAcc``), with Python
integers only; it shares no code with snnsim. Run from the repository root:

    python tests/reference_data/make_loihi_golden.py

Network (Lava terms; time steps 1..T):

    src (3 spike generators) --P0: DelayDense, mixed, odd weights, exp 0--> A (3 LIF)
    src                      --P1: Dense, excitatory 255s, exp 7      --> A (u wraps)
    A                        --P2: Dense, mixed, odd weight, exp -1   --> B (2 LIF, bias)

Rules:
* Dense weights: sign mode of the matrix; clip (exc 0..255, inh -255..0, mixed -256..255);
  mixed drops the LSB: w = (w >> 1) << 1 (floor: -1 -> -2, 3 -> 2).
* A spike of a presynaptic neuron at step t through delay d (DelayDense; Dense: d = 0)
  reaches the postsynaptic LIF at step t + 1 + d. Each projection's per-step, per-delay
  sum S is shifted: S << e (e > 0) or S >> -e (floor).
* LIF: u <- wrap24(tr(u * (4096 - (du + 1))) + (a_in << 6)); v <- clip(tr(v * (4096 -
  dv)) + u + (bias_mant << bias_exp), +-(2^23 - 1)); spike if v > vth << 6, then v = 0.
  tr(x) = sign(x) * (|x| >> 12); wrap24: x > 2^23 -> x - 2^24; x <= -2^23 -> x + 2^24.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

T = 40
HALF = 1 << 23

SRC_SPIKES = [[2, 3, 4, 9, 20], [3, 4, 12], [4, 9, 14, 30]]  # steps of the 3 sources

LAYERS = {
    "A": {"n": 3, "du": 1000, "dv": 300, "vth": 600, "bias_mant": 0, "bias_exp": 0},
    "B": {"n": 2, "du": 2047, "dv": 100, "vth": 300, "bias_mant": 37, "bias_exp": 3},
}

PROJECTIONS = [
    {  # P0: mixed sign with odd weights (-1 -> -2, 121 -> 120, -77 -> -78), per-synapse delays
        "pre": "src",
        "post": "A",
        "w": [[121, -1, 40], [-77, 90, 0], [0, -120, 35]],  # [out, in]
        "exp": 0,
        "delay": [[0, 2, 1], [5, 0, 0], [0, 3, 7]],  # Lava DelayDense delays
    },
    {  # P1: drives A[2] hard enough for u to wrap at 24 bits
        "pre": "src",
        "post": "A",
        "w": [[0, 0, 0], [0, 0, 0], [255, 255, 255]],
        "exp": 7,
        "delay": [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
    },
    {  # P2: mixed, one odd weight (33 -> 32), negative exponent (floor of each step's sum)
        "pre": "A",
        "post": "B",
        "w": [[-6, 33, 120], [90, -30, -250]],
        "exp": -1,
        "delay": [[0, 0, 0], [0, 0, 0]],
    },
]


def effective(w: list[list[int]]) -> list[list[int]]:
    flat = [x for row in w for x in row]
    if min(flat) >= 0:
        return [[max(0, min(255, x)) for x in row] for row in w]
    if max(flat) <= 0:
        return [[-max(0, min(255, -x)) for x in row] for row in w]
    return [[(max(-256, min(255, x)) >> 1) << 1 for x in row] for row in w]


def tr(x: int) -> int:
    return (abs(x) >> 12) * (1 if x >= 0 else -1)


def shift(s: int, e: int) -> int:
    return s << e if e > 0 else s >> -e


def simulate() -> dict[str, np.ndarray]:
    state = {k: {"u": [0] * p["n"], "v": [0] * p["n"]} for k, p in LAYERS.items()}
    spikes: dict[str, list[set[int]]] = {"src": [set() for _ in range(T + 2)]}
    for i, steps in enumerate(SRC_SPIKES):
        for t in steps:
            spikes["src"][t].add(i)
    for k in LAYERS:
        spikes[k] = [set() for _ in range(T + 2)]
    eff = [effective(p["w"]) for p in PROJECTIONS]
    # pending[post][t][i]: a_in arriving at step t
    pending = {k: [[0] * p["n"] for _ in range(T + 70)] for k, p in LAYERS.items()}
    trace = {f"{k}_{v}": np.zeros((T, p["n"]), dtype=np.int64) for k, p in LAYERS.items()
             for v in ("u", "v", "s")}  # fmt: skip
    for t in range(1, T + 1):
        # presynaptic spikes of step t - 1 are sent now (src spikes at t0 sent at step t0)
        for j, proj in enumerate(PROJECTIONS):
            fired = spikes[proj["pre"]][t - 1] if proj["pre"] != "src" else spikes["src"][t - 1]
            if not fired:
                continue
            w, dl = eff[j], proj["delay"]
            for i in range(len(w)):
                per_delay: dict[int, int] = {}
                for src in fired:
                    if w[i][src]:
                        per_delay[dl[i][src]] = per_delay.get(dl[i][src], 0) + w[i][src]
                for d, total in per_delay.items():
                    pending[proj["post"]][t + d][i] += shift(total, proj["exp"])
        for k, p in LAYERS.items():
            u, v = state[k]["u"], state[k]["v"]
            bias = shift(p["bias_mant"], p["bias_exp"])
            for i in range(p["n"]):
                x = tr(u[i] * (4096 - (p["du"] + 1))) + (pending[k][t][i] << 6)
                if x > HALF:
                    x -= 2 * HALF
                elif x <= -HALF:
                    x += 2 * HALF
                u[i] = x
                y = max(-(HALF - 1), min(HALF - 1, tr(v[i] * (4096 - p["dv"])) + x + bias))
                if y > p["vth"] << 6:
                    y = 0
                    spikes[k][t].add(i)
                v[i] = y
                trace[f"{k}_u"][t - 1, i] = u[i]
                trace[f"{k}_v"][t - 1, i] = v[i]
                trace[f"{k}_s"][t - 1, i] = int(i in spikes[k][t])
    return trace


def main() -> None:
    trace = simulate()
    out: dict[str, np.ndarray] = {"T": np.int64(T)}
    out.update(trace)
    for i, steps in enumerate(SRC_SPIKES):
        out[f"src_{i}"] = np.array(steps, dtype=np.int64)
    for k, p in LAYERS.items():
        out[f"{k}_params"] = np.array(
            [p["n"], p["du"], p["dv"], p["vth"], p["bias_mant"], p["bias_exp"]], dtype=np.int64
        )
    for j, proj in enumerate(PROJECTIONS):
        out[f"P{j}_w"] = np.array(proj["w"], dtype=np.int64)
        out[f"P{j}_exp"] = np.int64(proj["exp"])
        out[f"P{j}_delay"] = np.array(proj["delay"], dtype=np.int64)
        out[f"P{j}_ends"] = np.array([proj["pre"], proj["post"]])
    path = Path(__file__).with_name("loihi_golden.npz")
    np.savez_compressed(path, **out)
    a_u = trace["A_u"]
    print(f"wrote {path}: A spikes {int(trace['A_s'].sum())}, B spikes {int(trace['B_s'].sum())}")
    print(f"u min {int(a_u.min())} max {int(a_u.max())}; B u min {int(trace['B_u'].min())}")


if __name__ == "__main__":
    main()
