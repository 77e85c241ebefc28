"""Shared fixtures: small synthetic problems that train in milliseconds."""
import os

import numpy as np
import pytest

import fnn

SPEC = "input:4x4x1,dense:16,relu,dense:4"


def blobs(n=400, seed=0, dtype=np.uint8):
    """n images of 4 x 4 bytes in 4 classes: class c lights quadrant c."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 4).astype(np.int32)
    x = rng.integers(0, 60, size=(n, 4, 4)).astype(np.int64)
    for c in range(4):
        r, q = divmod(c, 2)
        x[y == c, 2 * r:2 * r + 2, 2 * q:2 * q + 2] += 180
    x = np.clip(x, 0, 255).astype(np.uint8)
    if dtype == np.float32:
        x = x.astype(np.float32) * np.float32(1 / 255)
    return x, y


@pytest.fixture
def data():
    x, y = blobs()
    return x, y


@pytest.fixture
def dataset(data):
    x, y = data
    return fnn.Dataset.from_arrays(x, y, 4)


@pytest.fixture
def trained(dataset):
    m = fnn.Model(SPEC, seed=3)
    m.train(dataset, epochs=5, lr=0.01, batch=32)
    return m


def data_dir(name):
    """A real data set's directory, or None (tests using it are skipped)."""
    base = os.environ.get("FNN_DATA_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "data")
    path = os.path.join(base, name)
    return path if os.path.isdir(path) else None
