"""Random stream ids: every random draw of a network comes from one of these streams.

A stream id is ``(family << 40) | index``; its key is
``snnsim.kernels.random_streams.stream_key(seed, stream id)`` and a draw is a function of
(key, element index, counter), so results do not depend on threads, chunking or resumes.
The families are part of the file format's promise of reproducibility: never renumber them.
"""

from __future__ import annotations

import numpy as np

from snnsim.kernels.random_streams import stream_key

__all__ = [
    "STREAM_CONNECT",
    "STREAM_DELAY",
    "STREAM_INIT",
    "STREAM_INPUT",
    "STREAM_MODULATION",
    "STREAM_PARAM",
    "STREAM_SET",
    "STREAM_SOURCE",
    "STREAM_WEIGHT",
    "key_of",
    "stream_id",
]

#: Connectivity of projection ``index``.
STREAM_CONNECT = 1
#: Weights of projection ``index``.
STREAM_WEIGHT = 2
#: Delays of projection ``index``.
STREAM_DELAY = 3
#: Spikes of source population ``index``.
STREAM_SOURCE = 4
#: Aggregated Poisson input ``index``.
STREAM_INPUT = 5
#: Initial value of state variable ``k`` of population ``p`` (index ``64 p + k``).
STREAM_INIT = 6
#: Values given to ``Projection.set`` as a distribution (index ``(projection << 20) | call``).
STREAM_SET = 7
#: Model parameter ``k`` of population ``p`` given as a distribution (index ``64 p + k``).
STREAM_PARAM = 8
#: Astrocyte -> target pairs of modulation ``index`` (``net.modulate``).
STREAM_MODULATION = 16


def stream_id(family: int, index: int) -> int:
    """Id of the random stream ``index`` of a stream family."""
    return (family << 40) | index


def key_of(seed: int | np.uint64, family: int, index: int) -> np.uint64:
    """Key of stream ``index`` of ``family`` for a network seed."""
    return np.uint64(stream_key(np.uint64(seed), np.uint64(stream_id(family, index))))
