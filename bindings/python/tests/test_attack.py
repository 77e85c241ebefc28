"""Membership-inference figures, Avg. Gap, LiRA and U-LiRA."""
import numpy as np
import pytest

import fnn
from conftest import blobs


def test_auc_and_tpr():
    assert fnn.mia_auc([3, 4], [1, 2]) == 1.0
    assert fnn.mia_auc([1, 2], [1, 2]) == 0.5
    assert fnn.mia_auc([2.0], [1.0, 2.0, 3.0]) == 0.5
    assert fnn.mia_tpr_at_fpr([5, 6, 1], [0, 2, 3, 4], 0.3) == pytest.approx(2 / 3)
    with pytest.raises(fnn.FnnError) as e:
        fnn.mia_auc([], [1.0])
    assert e.value.status == -16
    with pytest.raises(fnn.FnnError) as e:
        fnn.mia_tpr_at_fpr([1.0], [1.0], 1.5)
    assert e.value.status == -2


def test_loss_attack_and_avg_gap():
    rng = np.random.default_rng(0)
    members = rng.exponential(0.05, 300)
    nonmembers = rng.exponential(1.0, 300)
    acc, spread = fnn.mia_loss_attack(members, nonmembers, seed=1)
    assert acc > 0.8 and spread >= 0
    same, _ = fnn.mia_loss_attack(members, members.copy(), seed=1)
    assert same < 0.65
    assert fnn.avg_gap([0.5, 1.0], [0.4, 0.9]) == pytest.approx(10.0)
    with pytest.raises(fnn.FnnError) as e:
        fnn.avg_gap([1.5], [0.5])
    assert e.value.status == -10
    with pytest.raises(fnn.FnnError) as e:
        fnn.mia_loss_attack([0.1] * 3, [0.2] * 3)
    assert e.value.status == -2


def test_lira_and_ulira():
    x, y = blobs(160, seed=6)
    y = y.copy()
    y[::3] = (y[::3] + 1) % 4  # noisy labels: members are memorised
    universe = fnn.Dataset.from_arrays(x, y, 4)
    target = fnn.Model("input:4x4x1,dense:32,relu,dense:4", seed=1)
    target.train(universe.subset(range(80)), epochs=60, lr=0.01, batch=16)
    cand = np.arange(0, 160, 2)
    a = fnn.Attack(target, universe, cand, shadows=8, seed=3)
    assert a["shadows"] == 8 and a["threads"] == 1
    with pytest.raises(fnn.FnnError) as e:
        a["shadows"] = 0
    assert e.value.status == -2 and "an integer in 1..4096" in e.value.message
    done = []
    a.train(progress=lambda d, total: done.append((d, total)))
    assert done[-1] == (8, 8) and a.shadows_trained == 8
    member = (cand < 80).astype(np.uint8)
    scores = a.scores(target)
    assert scores.shape == (80,)
    auc, tpr1, tpr01 = a.evaluate(target, member)
    assert auc > 0.6 and 0 <= tpr01 <= tpr1 <= 1
    u = a.unlearn(member, method="finetune", epochs=1)
    assert u.shadows_trained == 8
    assert u.scores(target).shape == (80,)
