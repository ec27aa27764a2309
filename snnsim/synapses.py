"""Synapse tables: every projection's connectivity, weights and delays in one CSR.

The engine stores one CSR by global source id (design.md section 5):

- ``indptr`` int64[N + 1]: row pointers;
- ``code`` int32[S]: ``2*target + receptor``, ascending within each row (the run loop
  finds a thread partition's synapses by binary search);
- ``weight`` float32[S]: nA (current synapses) or mV (delta synapses);
- ``delay`` uint16[S]: steps, >= 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from snnsim.distributions import Distribution
from snnsim.errors import ConnectivityError
from snnsim.kernels.random_streams import stream_key

if TYPE_CHECKING:
    from snnsim.network import Network, Projection

__all__ = ["MAX_DELAY_STEPS", "Synapses", "build_synapses", "stream_id"]

# Stream families; the stream id is (family << 40) | object index.
STREAM_CONNECT = 1
STREAM_WEIGHT = 2
STREAM_DELAY = 3
STREAM_SOURCE = 4
STREAM_INPUT = 5
STREAM_INIT = 6


def stream_id(family: int, index: int) -> int:
    """Id of the random stream ``index`` of a stream family."""
    return (family << 40) | index


#: Largest delay in steps (delays are stored as uint16).
MAX_DELAY_STEPS = 65535


@dataclass
class Synapses:
    """One CSR by global source id holding every synapse of a network."""

    indptr: npt.NDArray[np.int64]
    code: npt.NDArray[np.int32]
    weight: npt.NDArray[np.float32]
    delay: npt.NDArray[np.uint16]
    min_delay: int
    max_delay: int


def build_synapses(net: Network, seed: np.uint64, n: int) -> Synapses:
    """Generate every projection of ``net`` and merge them into one CSR by source.

    Parameters
    ----------
    net : Network
        The network description (validated here: receptors, weight signs, delays).
    seed : numpy.uint64
        Network seed; each projection draws from its own counter-based streams.
    n : int
        Total number of neurons.
    """
    src_parts, code_parts, w_parts, d_parts = [], [], [], []
    for proj in net.projections:
        s, c, w, d = _build_projection(net, proj, seed)
        src_parts.append(s)
        code_parts.append(c)
        w_parts.append(w)
        d_parts.append(d)
    i64 = np.int64
    src = np.concatenate(src_parts).astype(i64) if src_parts else np.zeros(0, dtype=i64)
    code = np.concatenate(code_parts).astype(i64) if code_parts else np.zeros(0, dtype=i64)
    weight = np.concatenate(w_parts) if w_parts else np.zeros(0)
    delay = np.concatenate(d_parts).astype(i64) if d_parts else np.zeros(0, dtype=i64)
    if src.size:
        keyv = src * (2 * n) + code
        if np.any(keyv[1:] < keyv[:-1]):
            order = np.argsort(keyv, kind="stable")
            src, code, weight, delay = src[order], code[order], weight[order], delay[order]
        del keyv
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    del src
    return Synapses(
        indptr=indptr,
        code=code.astype(np.int32),
        weight=weight.astype(np.float32),
        delay=delay.astype(np.uint16),
        min_delay=int(delay.min()) if delay.size else 1 << 20,
        max_delay=int(delay.max()) if delay.size else 1,
    )


def _resolve_values(
    spec: Any,
    what: str,
    n_syn: int,
    key: np.uint64,
    pre_pos: npt.NDArray[np.int64],
    post_pos: npt.NDArray[np.int64],
    n_pre: int,
    n_post: int,
) -> npt.NDArray[np.float64]:
    if isinstance(spec, Distribution):
        return spec.sample(key, n_syn)
    arr = np.asarray(spec, dtype=np.float64)
    if arr.ndim == 0:
        out = np.full(n_syn, float(arr))
    elif arr.ndim == 1:
        if arr.size != n_syn:
            raise ConnectivityError(
                f"{what}: array of {arr.size} values for {n_syn} synapses; give a scalar, a "
                f"distribution, one value per synapse (sorted by pre, then post) or a "
                f"({n_pre}, {n_post}) matrix"
            )
        out = arr.copy()
    elif arr.ndim == 2:
        if arr.shape != (n_pre, n_post):
            raise ConnectivityError(
                f"{what}: matrix of shape {arr.shape}; expected ({n_pre}, {n_post}) (pre x post)"
            )
        out = arr[pre_pos, post_pos]
    else:
        raise ConnectivityError(f"{what}: expected a scalar, 1-D or 2-D array, got {arr.ndim}-D")
    if not np.all(np.isfinite(out)):
        raise ConnectivityError(f"{what}: values must be finite (NaN or Inf found)")
    return out


def _receptor_index(proj: Projection) -> int:
    model = proj.post.model
    if not model.receptors:
        raise ConnectivityError(
            f"connect(..., post={proj.post!r}): {model.name} neurons cannot receive synapses"
        )
    if not model.signed_receptors:
        if proj.receptor is not None:
            raise ConnectivityError(
                f"connect(receptor={proj.receptor!r}): {model.name} has a single receptor; "
                "omit receptor (weights of either sign are allowed)"
            )
        return 0
    rec = proj.receptor or model.receptors[0]
    if rec not in model.receptors:
        raise ConnectivityError(
            f"connect(receptor={rec!r}): {model.name} receptors are "
            f"{', '.join(map(repr, model.receptors))}"
        )
    return model.receptors.index(rec)


def _check_sign(values: npt.NDArray[np.float64], rec: int, model_name: str, what: str) -> None:
    if rec == 0 and values.size and values.min() < 0:
        raise ConnectivityError(
            f"{what}: weight {values.min():g} nA < 0 on receptor 'exc'; excitatory weights must "
            "be >= 0: use receptor='inh' for inhibitory (negative) weights"
        )
    if rec == 1 and values.size and values.max() > 0:
        raise ConnectivityError(
            f"{what}: weight {values.max():g} nA > 0 on receptor 'inh'; inhibitory weights must "
            "be <= 0 (NEST convention): use a negative weight or receptor='exc'"
        )


def _build_projection(
    net: Network, proj: Projection, seed: np.uint64
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    from snnsim.connectors import FromList

    what = f"connect({proj.pre.population.label} -> {proj.post.population.label})"
    rec = _receptor_index(proj)
    pre_gid = proj.pre.global_ids
    post_gid = proj.post.global_ids
    key = stream_key(seed, np.uint64(stream_id(STREAM_CONNECT, proj.index)))
    indptr, post_pos = proj.connector.generate(key, pre_gid, post_gid)
    n_syn = int(post_pos.size)
    pre_pos = np.repeat(np.arange(pre_gid.size, dtype=np.int64), np.diff(indptr))
    conn = proj.connector
    if isinstance(conn, FromList) and conn.weight is not None:
        weights = conn.weight[conn.order]
    else:
        wkey = stream_key(seed, np.uint64(stream_id(STREAM_WEIGHT, proj.index)))
        weights = _resolve_values(
            proj.weight,
            what + " weight",
            n_syn,
            wkey,
            pre_pos,
            post_pos,
            pre_gid.size,
            post_gid.size,
        )
    if proj.post.model.signed_receptors:
        _check_sign(weights, rec, proj.post.model.name, what)
    if np.any(np.abs(weights) > 3e38):
        raise ConnectivityError(f"{what}: weights beyond float32 range")
    if isinstance(conn, FromList) and conn.delay is not None:
        delays_ms = conn.delay[conn.order]
    elif proj.delay is None:
        delays_ms = np.full(n_syn, net.dt)
    else:
        dkey = stream_key(seed, np.uint64(stream_id(STREAM_DELAY, proj.index)))
        delays_ms = _resolve_values(
            proj.delay, what + " delay", n_syn, dkey, pre_pos, post_pos, pre_gid.size, post_gid.size
        )
    steps_f = delays_ms / net.dt
    steps = np.rint(steps_f)
    if not proj.round_delays:
        off = np.abs(steps_f - steps) > 1e-9 * np.maximum(1.0, np.abs(steps_f))
        if np.any(off):
            bad = float(delays_ms[off][0])
            raise ConnectivityError(
                f"{what}: delay {bad!r} ms is not a multiple of dt={net.dt} ms; use multiples of "
                "dt or pass round_delays=True to round to the nearest step"
            )
    if steps.size and steps.min() < 1:
        bad = float(delays_ms[steps < 1][0])
        raise ConnectivityError(
            f"{what}: delay {bad!r} ms is below dt={net.dt} ms; delays must be >= one time step"
        )
    if steps.size and steps.max() > MAX_DELAY_STEPS:
        bad = float(delays_ms[steps > MAX_DELAY_STEPS][0])
        raise ConnectivityError(
            f"{what}: delay {bad!r} ms exceeds the supported maximum of {MAX_DELAY_STEPS} steps "
            f"({MAX_DELAY_STEPS * net.dt:g} ms at dt={net.dt} ms)"
        )
    src = pre_gid[pre_pos]
    code = 2 * post_gid[post_pos] + rec
    return src, code, weights, steps.astype(np.int64)
