"""HDF5 checkpoints and SONATA spike files (placeholder during bring-up)."""
from __future__ import annotations
from typing import Any
def save(net: Any, path: str) -> None:  # noqa: D103
    raise NotImplementedError
def load(path: str) -> Any:  # noqa: D103
    raise NotImplementedError
def write_sonata_spikes(path: str, data: Any) -> None:  # noqa: D103
    raise NotImplementedError
def read_sonata_spikes(path: str) -> Any:  # noqa: D103
    raise NotImplementedError
