"""Models: training, inference on data sets and arrays, files, pickling,
recipes, forgetting state."""
import copy
import pickle

import numpy as np
import pytest

import fnn
from conftest import SPEC, blobs


def test_trains_and_predicts(dataset, trained, data):
    x, y = data
    acc, loss = trained.evaluate(dataset)
    assert acc > 0.9 and loss < 1.0
    # Arrays give exactly what data sets give, for bytes and floats.
    for arr in (x, x.astype(np.float32) * np.float32(1 / 255)):
        ds = fnn.Dataset.from_arrays(arr, y, 4)
        assert np.array_equal(trained.predict(arr), trained.predict(ds))
        assert np.array_equal(trained.predict_proba(arr), trained.predict_proba(ds))
        assert np.array_equal(trained.logits(arr), trained.logits(ds))
        assert np.array_equal(trained.sample_losses(arr, y), trained.sample_losses(ds))
    p = trained.predict_proba(dataset)
    assert p.shape == (400, 4) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert np.mean(trained.predict(x) == y) == pytest.approx(acc)
    acc_c, counts = trained.class_accuracies(dataset)
    assert counts.tolist() == [100] * 4
    assert np.dot(acc_c, counts) / 400 == pytest.approx(acc)


def test_array_errors(trained, data):
    x, y = data
    with pytest.raises(ValueError, match="not samples of 4x4x1"):
        trained.predict(np.zeros((3, 5), np.uint8))
    with pytest.raises(ValueError, match="needs its labels"):
        trained.sample_losses(x)
    bad = y.copy()
    bad[0] = 9
    with pytest.raises(fnn.FnnError) as e:
        trained.sample_losses(x, bad)
    assert e.value.status == -10
    assert e.value.message == "sample_losses_array: label 9 at sample 0 is outside [0, 4)"
    f = x.astype(np.float32)
    f[1, 0, 0] = np.inf
    with pytest.raises(fnn.FnnError) as e:
        trained.predict(f)
    assert e.value.status == -12
    assert e.value.message == "predict_array: feature 0 of sample 1 is infinite"


def test_files_buffers_pickle(trained, dataset, tmp_path):
    path = tmp_path / "m.fnn"
    trained.save(path)
    loaded = fnn.Model.load(path)
    assert loaded.to_bytes() == trained.to_bytes() == path.read_bytes()
    for other in (fnn.Model.from_bytes(trained.to_bytes()), pickle.loads(pickle.dumps(trained)),
                  copy.deepcopy(trained), trained.clone()):
        assert np.array_equal(other.get_params(), trained.get_params())
        assert np.array_equal(other.predict(dataset), trained.predict(dataset))
        assert other.spec == trained.spec
    with pytest.raises(fnn.FnnError) as e:
        fnn.Model.from_bytes(b"FNN!" + bytes(60))
    assert e.value.status in (-5, -6)
    with pytest.raises(fnn.FnnError) as e:
        fnn.Model.load(tmp_path / "missing.fnn")
    assert e.value.status == -4


def test_structure_and_recipe(trained, dataset):
    m = trained
    assert m.spec == "input:4x4x1,dense:16,relu,dense:4"
    assert (m.num_classes, m.input_shape) == (4, (4, 4, 1))
    assert m.num_params == (16 * 16 + 16) + (16 * 4 + 4) == m.get_params().size
    assert m.flops_per_sample(True) > m.flops_per_sample() > 0
    assert m.recipe_calls == 1
    opts, seed, samples = m.recipe()
    assert (seed, samples, opts["epochs"], opts["batch"]) == (3, 400, 5, 32)
    before = m.get_params()
    m.retrain(dataset)  # the recorded recipe reproduces the training
    assert np.array_equal(m.get_params(), before)
    p = before.copy()
    p[0] = 0.5
    m.set_params(p)
    assert m.get_params()[0] == 0.5
    with pytest.raises(fnn.FnnError) as e:
        m.set_params(p[:-1])
    assert e.value.status == -9
    fresh = fnn.Model("mlp", seed=1)
    assert fresh.recipe() is None and fresh.input_shape == (28, 28, 1)


def test_preset_training_matches_options(dataset):
    a = fnn.Model(SPEC, seed=5)
    b = fnn.Model(SPEC, seed=5)
    a.train(dataset, fnn.TrainOptions(epochs=2, lr=0.02, optimizer="sgd", seed=9))
    b.train(dataset, {"epochs": 2, "lr": 0.02, "optimizer": "sgd"}, seed=9)
    assert np.array_equal(a.get_params(), b.get_params())


def test_forgetting_state(trained, dataset):
    m = trained.clone()
    assert m.num_forgetting_layers == 2
    assert [m.forgetting_layer_units(i) for i in range(2)] == [16, 4]
    assert np.all(np.isinf(m.get_tau(0))) and not m.decay_enabled(0)
    m.set_tau(0, np.full(16, 2.0))
    m.set_decay(0, True)
    m.clock = 2
    assert m.clock == 2 and m.decay_enabled(0)
    assert np.allclose(m.decay_factors(0), np.exp(-1.0))
    before = m.predict_proba(dataset)
    m.fold_decay()
    assert m.clock == 0 and not m.decay_enabled(0)
    assert np.allclose(m.predict_proba(dataset), before, atol=1e-5)
    ranks = m.rank_neurons(dataset, 0)
    assert sorted(ranks.tolist()) == list(range(1, 17))
    m.apply_policy("ordered")
    assert m.get_tau(0).tolist() == list(range(1, 17))
    with pytest.raises(ValueError, match="unknown policy"):
        m.apply_policy("sometimes")
    with pytest.raises(fnn.FnnError) as e:
        m.get_tau(5)
    assert e.value.status == -10


def test_membership(trained, data):
    x, y = data
    members = fnn.Dataset.from_arrays(x[:200], y[:200], 4)
    held = fnn.Dataset.from_arrays(*blobs(200, seed=8), 4)
    figures = trained.membership(members, held, seed=1)
    assert list(figures) == fnn.names("membership-key")
    assert 0 <= figures["auc"] <= 1 and 0 <= figures["loss-mia"] <= 1


def test_close_and_context_managers(dataset):
    with fnn.Model(SPEC, seed=1) as m:
        m.train(dataset)
    with pytest.raises(ValueError, match="closed"):
        m.predict(dataset)
    m.close()  # closing twice is harmless
