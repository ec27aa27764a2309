"""Shared fixtures: reproducible randomness per test (no conftest.py at the repo root)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

#: Base seed of every test's random inputs; each test derives its own from its node id.
BASE_SEED = 20240611


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """A seed that is fixed for this test (base seed mixed with the test's node id)."""
    return (BASE_SEED * 1_000_003 + zlib.crc32(request.node.nodeid.encode())) % 2**32


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    """A NumPy generator seeded per test from :data:`BASE_SEED`."""
    return np.random.default_rng(seed)
