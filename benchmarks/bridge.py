"""snnTorch bridge benchmark: training-step overhead and inference throughput.

Two measurements, each a ratio taken in one process with interleaved repeats:

1. **Training step** of a bridge model (``snt.to_torch`` of an snnsim network) against the
   same model written directly in snnTorch (``nn.Sequential`` of ``nn.Linear`` and
   ``snntorch.Leaky``): forward over ``T`` steps, ``ce_rate_loss``, backward, Adam step.
   Goal of issue 10: overhead <= 10 %.
2. **Inference throughput** (samples/s) of the event core (``snt.simulate`` on the network
   that ``snt.from_torch`` builds from the snnTorch model) against the snnTorch forward pass,
   at batch 1 and batch 64, for a feed-forward model, a sparse recurrent one (RLeaky with
   10 % of the recurrent weights kept) and the L2MU network of ``examples/l2mu_digits.py``.
   Goal: the event core faster at batch 1.

Run ``python benchmarks/bridge.py [--quick] [--out results.json]``; it needs the ``torch``
extra. Results go to stdout as a table (and JSON with ``--out``); nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np


def _models(n_in: int, n_hid: int, n_out: int, recurrent: bool, seed: int) -> tuple[Any, Any]:
    import snntorch
    import torch

    import snnsim as snn
    from snnsim import torch as snt

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    hid: Any
    if recurrent:
        hid = snntorch.RLeaky(beta=0.9, linear_features=n_hid, init_hidden=True,
                              spike_grad=snt.spike)  # fmt: skip
        with torch.no_grad():
            mask = torch.as_tensor(rng.random((n_hid, n_hid)) < 0.1)
            hid.recurrent.weight.mul_(mask)
            hid.recurrent.bias.zero_()
    else:
        hid = snntorch.Leaky(beta=0.9, init_hidden=True, spike_grad=snt.spike)
    seq = torch.nn.Sequential(
        torch.nn.Linear(n_in, n_hid, bias=False),
        hid,
        torch.nn.Linear(n_hid, n_out, bias=False),
        snntorch.Leaky(beta=0.9, init_hidden=True, spike_grad=snt.spike),
    )
    with torch.no_grad():
        seq[0].weight.mul_(3.0)
    # the same network described in snnsim, as the bridge sees it
    net = snn.Network(dt=1.0, seed=seed)
    inp = net.add_population(n_in, snn.SpikeSource(times=[[] for _ in range(n_in)]), "input")
    h = net.add_population(n_hid, (snn.RLeaky if recurrent else snn.Leaky)(beta=0.9), "hid")
    o = net.add_population(n_out, snn.Leaky(beta=0.9), "out")
    w1 = seq[0].weight.detach().double().numpy()
    w2 = seq[2].weight.detach().double().numpy()
    net.connect(inp, h, snn.AllToAll(), weight=w1.T.copy(), delay=1.0)
    if recurrent:
        wr = hid.recurrent.weight.detach().double().numpy()
        pre, post = np.nonzero(wr.T != 0)
        net.connect(h, h, snn.FromList(pre, post, wr.T[pre, post], np.ones(pre.size)))
    net.connect(h, o, snn.AllToAll(), weight=w2.T.copy(), delay=1.0)
    return seq, net


def _time(fn: Any, repeats: int) -> float:
    fn()  # warm-up (compiles, allocates)
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def _throughput(torch_forward: Any, core: Any, batch: int, repeats: int) -> dict[str, Any]:
    """Samples/s of a torch forward pass and of the event core, and their ratio."""
    t_torch = _time(torch_forward, repeats)
    t_core = _time(core, repeats)
    return {
        "torch_samples_per_s": batch / t_torch,
        "core_samples_per_s": batch / t_core,
        "core_over_torch": t_torch / t_core,
    }


def training_overhead(
    steps: int, batch: int, sizes: tuple[int, int, int], repeats: int
) -> dict[str, Any]:
    """Median time of one training step: bridge model vs the snnTorch model."""
    import snntorch.functional as sf
    import snntorch.utils
    import torch

    from snnsim import torch as snt

    seq, net = _models(*sizes, recurrent=False, seed=1)
    seq = seq.float()
    bridge = snt.to_torch(net, dtype=torch.float32)
    x = (torch.rand(steps, batch, sizes[0]) < 0.1).float()
    y = torch.randint(0, sizes[2], (batch,))
    loss_fn = sf.ce_rate_loss()
    opt_a = torch.optim.Adam(seq.parameters(), lr=1e-3)
    opt_b = torch.optim.Adam(bridge.parameters(), lr=1e-3)

    def step_snntorch() -> None:
        snntorch.utils.reset(seq)
        out = torch.stack([seq(x[t]) for t in range(steps)])
        loss = loss_fn(out, y)
        opt_a.zero_grad()
        loss.backward()
        opt_a.step()

    def step_bridge() -> None:
        out, _ = bridge(x)
        loss = loss_fn(out, y)
        opt_b.zero_grad()
        loss.backward()
        opt_b.step()

    a = b = 0.0
    for _ in range(3):  # interleaved rounds
        a += _time(step_snntorch, repeats)
        b += _time(step_bridge, repeats)
    return {"snntorch_s": a / 3, "bridge_s": b / 3, "overhead": b / a - 1.0}


def inference(
    steps: int, batch: int, sizes: tuple[int, int, int], recurrent: bool, repeats: int
) -> dict[str, Any]:
    """Samples/s of the snnTorch forward pass and of the event core on the same model."""
    import snntorch.utils
    import torch

    from snnsim import torch as snt

    seq, _ = _models(*sizes, recurrent=recurrent, seed=2)
    seq = seq.float()
    net = snt.from_torch(seq.double(), dt=1.0)
    seq = seq.float()
    x = (torch.rand(steps, batch, sizes[0]) < 0.1).float()

    def torch_forward() -> None:
        with torch.no_grad():
            snntorch.utils.reset(seq)
            for t in range(steps):
                seq(x[t])

    return _throughput(torch_forward, lambda: snt.simulate(net, x), batch, repeats)


def inference_l2mu(batch: int, repeats: int) -> dict[str, Any]:
    """Samples/s of the L2MU example's network: its torch model against the event core.

    The network of ``examples/l2mu_digits.py`` at full size (n_u 4, order 8, h 64; 68 steps,
    4 input channels), untrained (speed does not depend on training much: the event core's
    cost grows with the spike count, which is reported), on digits read pixel by pixel.
    """
    import importlib.util
    from pathlib import Path

    import torch

    from snnsim import torch as snt

    path = Path(__file__).resolve().parents[1] / "examples" / "l2mu_digits.py"
    spec = importlib.util.spec_from_file_location("snnsim_example_l2mu", path)
    assert spec is not None and spec.loader is not None
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    net = ex.build(4, 8, 64, 1)
    model = snt.to_torch(net, dtype=torch.float64)
    (x, _), _ = ex.load_data(1, batch, None)
    x = x[:, :batch]
    with torch.no_grad():
        model.param([p.label for p in model.pops].index("u"), "bias").fill_(ex.U_BIAS)
    snt.update_network(net, model)

    def torch_forward() -> None:
        with torch.no_grad():
            model(x)

    return _throughput(torch_forward, lambda: snt.simulate(net, x), batch, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repeats")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args(argv)
    try:
        import snntorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        print("needs the torch extra: pip install torch==2.13.0 && pip install 'snnsim[torch]'")
        return 2
    sizes = (64, 128, 10) if args.quick else (100, 256, 10)
    steps = 30 if args.quick else 100
    repeats = 2 if args.quick else 5
    results: dict[str, Any] = {
        "training": training_overhead(steps, 32, sizes, repeats),
        "inference": {},
    }
    for recurrent in (False, True):
        for batch in (1, 64):
            key = f"{'recurrent' if recurrent else 'feedforward'}_batch{batch}"
            results["inference"][key] = inference(steps, batch, sizes, recurrent, repeats)
    for batch in (1, 64):
        results["inference"][f"l2mu_batch{batch}"] = inference_l2mu(batch, repeats)
    tr = results["training"]
    print(f"training step: snnTorch {tr['snntorch_s'] * 1e3:.1f} ms, bridge "
          f"{tr['bridge_s'] * 1e3:.1f} ms, overhead {tr['overhead'] * 100:+.1f} %")  # fmt: skip
    print("inference (samples/s)       torch      event core   core/torch")
    for key, r in results["inference"].items():
        print(f"  {key:24s} {r['torch_samples_per_s']:9.1f} {r['core_samples_per_s']:12.1f}"
              f" {r['core_over_torch']:10.2f}x")  # fmt: skip
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
