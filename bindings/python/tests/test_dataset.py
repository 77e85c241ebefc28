"""Data sets from NumPy arrays (borrowed or copied), IDX files, views."""
import gc
import os
import struct

import numpy as np
import pytest

import fnn
from conftest import blobs, data_dir


def test_uint8_is_borrowed_and_scaled_as_idx(tmp_path):
    x = np.arange(256, dtype=np.uint8).reshape(16, 4, 4)
    y = (np.arange(16) % 3).astype(np.int32)
    ds = fnn.Dataset.from_arrays(x, y, 3)
    assert ds.borrowed and len(ds) == 16 and ds.shape == (4, 4, 1)
    want = x.astype(np.float32) * np.float32(1 / 255)
    got = ds.features()
    assert got.dtype == np.float32 and got.shape == (16, 4, 4, 1)
    assert np.array_equal(got.reshape(16, 4, 4).view(np.uint32), want.view(np.uint32))
    # x / 255 is not the same: for 126 of the 256 bytes it differs in the last bit.
    assert np.count_nonzero(want != (x / 255).astype(np.float32)) == 126
    # The IDX loader presents the same floats.
    img, lbl = tmp_path / "img", tmp_path / "lbl"
    img.write_bytes(struct.pack(">IIII", 0x803, 16, 4, 4) + x.tobytes())
    lbl.write_bytes(struct.pack(">II", 0x801, 16) + y.astype(np.uint8).tobytes())
    idx = fnn.Dataset.load_idx(img, lbl, 3)
    assert np.array_equal(idx.features().view(np.uint32), got.view(np.uint32))
    assert np.array_equal(idx.labels(), y)


def test_borrowed_memory_is_read_in_place_and_kept_alive():
    x = np.zeros((8, 3), dtype=np.float32)
    ds = fnn.Dataset.from_arrays(x, np.zeros(8, np.int32), 2)
    x[2, 1] = 7.5  # not copied: the data set sees the change
    assert ds.features()[2, 1, 0, 0] == 7.5
    view = ds.subset([2, 0])
    del x, ds
    gc.collect()  # the view keeps the array alive
    assert view.features()[0, 1, 0, 0] == 7.5
    assert view.borrowed


def test_copies_when_asked_or_needed():
    x = np.ones((6, 2, 2), dtype=np.uint8)
    ds = fnn.Dataset.from_arrays(x, copy=True)
    x[:] = 0
    assert not ds.borrowed and ds.features().max() == np.float32(1 / 255)
    # float64 and non-contiguous arrays are converted once.
    assert not fnn.Dataset.from_arrays(np.ones((4, 3))).borrowed
    strided = np.ones((4, 6), dtype=np.float32)[:, ::2]
    assert not fnn.Dataset.from_arrays(strided).borrowed
    with pytest.raises(TypeError, match="dtype int64 are not supported"):
        fnn.Dataset.from_arrays(np.ones((4, 3), dtype=np.int64))


def test_without_labels():
    x, y = blobs(40)
    bare = fnn.Dataset.from_arrays(x)
    assert not bare.has_labels and bare.num_classes == 0
    with pytest.raises(fnn.FnnError) as e:
        bare.labels()
    assert e.value.status == -14
    assert e.value.message == "labels: the data set was made without labels"
    m = fnn.Model("input:4x4x1,dense:4", seed=1)
    assert m.predict(bare).shape == (40,)
    with pytest.raises(fnn.FnnError) as e:
        m.evaluate(bare)
    assert e.value.status == -14 and "no labels" in e.value.message
    with pytest.raises(fnn.FnnError) as e:
        fnn.ForgetRequest.from_class(bare, 1)
    assert e.value.status == -14


def test_bad_input_codes():
    x, y = blobs(10)
    bad = y.copy()
    bad[4] = 4
    with pytest.raises(fnn.FnnError) as e:
        fnn.Dataset.from_arrays(x, bad, 4)
    assert e.value.status == -10
    assert e.value.message == "borrow_arrays: label 4 at sample 4 is outside [0, 4)"
    f = x.astype(np.float32)
    f[3, 1, 2] = np.nan
    with pytest.raises(fnn.FnnError) as e:
        fnn.Dataset.from_arrays(f, y, 4)
    assert e.value.status == -12
    assert e.value.message == "borrow_arrays: feature 6 of sample 3 is NaN"
    with pytest.raises(fnn.FnnError) as e:
        fnn.Dataset.from_arrays(f, y, 4, copy=True)
    assert e.value.message == "from_arrays: feature 6 of sample 3 is NaN"
    with pytest.raises(fnn.FnnError) as e:
        fnn.Dataset.from_arrays(np.zeros((0, 3), np.uint8))
    assert e.value.status == -16
    with pytest.raises(ValueError, match="3 labels for 10 samples"):
        fnn.Dataset.from_arrays(x, y[:3], 4)


def test_views_and_normalisation():
    x, y = blobs(100)
    ds = fnn.Dataset.from_arrays(x, y, 4)
    sub = ds.subset([5, 0, 99])
    assert np.array_equal(sub.labels(), y[[5, 0, 99]])
    a, b = ds.split(0.7, seed=4)
    assert (len(a), len(b)) == (70, 30)
    assert sorted(np.concatenate([a.labels(), b.labels()])) == sorted(y)
    mean, std = ds.channel_stats()
    scaled = x.astype(np.float32) * np.float32(1 / 255)
    assert mean[0] == pytest.approx(scaled.mean(), rel=1e-5)
    assert std[0] == pytest.approx(scaled.std(), rel=1e-5)
    ds.set_normalization(mean, std)
    z = ds.features()
    assert float(z.mean()) == pytest.approx(0, abs=1e-5)
    with pytest.raises(fnn.FnnError) as e:
        ds.subset([100])
    assert e.value.status == -10
    with ds.subset([1]) as v:
        assert len(v) == 1
    with pytest.raises(ValueError, match="closed"):
        len(v)


@pytest.mark.skipif(data_dir("mnist") is None, reason="MNIST not in data/")
def test_load_dir_mnist():
    test = fnn.Dataset.load_dir(data_dir("mnist"), "test")
    assert (len(test), test.shape, test.num_classes) == (10000, (28, 28, 1), 10)
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        fnn.Dataset.load_dir(data_dir("mnist"), "dev")
    with pytest.raises(fnn.FnnError) as e:
        fnn.Dataset.load_dir(os.path.join(data_dir("mnist"), "nowhere"))
    assert e.value.status == -4
