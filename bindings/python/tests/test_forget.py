"""Forget requests, every unlearning method, reports and deletion history."""
import hashlib
import struct

import numpy as np
import pytest

import fnn
from conftest import blobs


@pytest.fixture
def split():
    x, y = blobs(600, seed=1)
    pool = fnn.Dataset.from_arrays(x[:480], y[:480], 4)
    holdout = fnn.Dataset.from_arrays(x[480:], y[480:], 4)
    return pool, holdout


def test_requests(split):
    pool, _ = split
    labels = pool.labels()
    r = fnn.ForgetRequest.from_class(pool, 2)
    assert (r.kind, r.label, len(r)) == ("class", 2, int(np.sum(labels == 2)))
    assert np.array_equal(r.indices(), np.flatnonzero(labels == 2))
    assert len(r.forget_set()) == len(r) and len(r.retain_set()) == 480 - len(r)
    i = fnn.ForgetRequest.from_indices(pool, [9, 3, 200])
    assert (i.kind, i.label) == ("indices", None)
    assert i.indices().tolist() == [3, 9, 200]
    # The digest is SHA-256 of the ascending indices as 4-byte little-endian.
    assert i.digest() == hashlib.sha256(struct.pack("<3I", 3, 9, 200)).digest()
    t = fnn.ForgetRequest.from_index_text(pool, "200 # comment\n3\n9\n")
    assert t.digest() == i.digest()
    rnd = fnn.ForgetRequest.random(pool, 25, seed=3)
    assert rnd.kind == "random" and len(rnd) == 25
    assert np.array_equal(rnd.indices(), fnn.ForgetRequest.random(pool, 25, seed=3).indices())
    with pytest.raises(fnn.FnnError) as e:
        fnn.ForgetRequest.from_indices(pool, [1, 1])
    assert e.value.status == -15
    with pytest.raises(fnn.FnnError) as e:
        fnn.ForgetRequest.from_index_text(pool, "1 x")
    assert e.value.status == -5
    with pytest.raises(fnn.FnnError) as e:
        fnn.ForgetRequest.from_class(pool, 7)
    assert e.value.status == -10


@pytest.mark.parametrize("method", fnn.names("method"))
def test_every_method(split, method):
    pool, holdout = split
    m = fnn.Model("input:4x4x1,dense:16,relu,dense:4", seed=2)
    m.train(pool, epochs=4, lr=0.01, batch=32)
    req = fnn.ForgetRequest.from_class(pool, 1)
    before = m.get_params()
    phases = []
    rep = m.forget(req, holdout, method=method, epochs=1, seed=5,
                   progress=lambda phase, step, done, total, so_far: phases.append(phase))
    d = rep.as_dict()
    assert list(d) == fnn.names("report-key")
    assert d["method"] == method == rep["method"]
    assert d["forget-size"] == len(req)
    assert phases and set(phases) <= set(fnn.names("phase-kind"))
    assert all(p["kind"] in fnn.names("phase-kind") for p in rep.phases())
    hist = m.history()
    assert len(hist) == 1
    assert hist[0]["method"] == method and hist[0]["request-kind"] == "class"
    assert hist[0]["digest"] == req.digest() and hist[0]["version"] == fnn.library_version()
    # Every method but "none" changes the model; retraining without the class
    # cannot predict it.
    assert np.array_equal(m.get_params(), before) == (method == "none")
    if method == "retrain":
        assert d["forget-acc-after"] == 0.0 < d["forget-acc-before"]


def test_forget_options_object(split):
    pool, holdout = split
    m = fnn.Model("input:4x4x1,dense:16,relu,dense:4", seed=2)
    m.train(pool, epochs=4, lr=0.01, batch=32)
    opts = fnn.ForgetOptions(method="fnn", policy="rank", max_t=3)
    rep = m.forget(fnn.ForgetRequest.random(pool, 30, seed=1), holdout, opts)
    assert rep["method"] == "fnn" and rep["final-t"] <= 3
    with pytest.raises(fnn.FnnError) as e:
        fnn.ForgetOptions(policy="sometimes")
    assert e.value.status == -2 and "fixed, ordered, rank, topk, random or contrast" in e.value.message
