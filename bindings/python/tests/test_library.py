"""The binding against the library: loading, versions, coverage of the
header, and names discovered at run time."""
import os
import re

import pytest

import fnn
from fnn import _core, _lib

HEADER = os.environ.get("FNN_HEADER") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "include", "fnn", "fnn.h")


def test_loads_the_library_under_test():
    want = os.environ.get("FNN_LIBRARY")
    if want:
        assert os.path.realpath(fnn.library_path) == os.path.realpath(want)


def test_versions():
    expected = os.environ.get("FNN_EXPECTED_VERSION")
    if expected:
        assert fnn.__version__ == expected
        assert fnn.library_version() == expected
    major, minor, patch = map(int, fnn.library_version().split("."))
    assert (major, minor, patch) >= _lib.REQUIRED_VERSION
    assert major == _lib.REQUIRED_VERSION[0]


def header_functions():
    with open(HEADER) as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"^\s*#.*$", "", src, flags=re.M)
    return set(re.findall(r"\bFNN_API\b[^;{}()]*?\b([A-Za-z_]\w*)\s*\(", src))


def test_every_public_function_is_declared():
    declared = header_functions()
    assert len(declared) > 100
    missing = declared - set(_lib._PROTOTYPES) - _lib.UNWRAPPED
    assert not missing, f"fnn.h functions without a binding: {sorted(missing)}"
    extra = set(_lib._PROTOTYPES) - declared
    assert not extra, f"bound functions not in fnn.h: {sorted(extra)}"


def test_names_come_from_the_library():
    lib = _lib.lib
    for kind, k in _core.NAMES_KINDS.items():
        got = fnn.names(kind)
        assert len(got) == lib.fnn_names_count(k) > 0, kind
        for v, name in enumerate(got):
            assert fnn.lookup(kind, name) == v
    assert list(fnn.methods()) == fnn.names("method")
    assert "neggrad" in fnn.methods() and "retrain" in fnn.methods()
    assert list(fnn.presets()) == fnn.names("preset")
    with pytest.raises(ValueError, match="unknown method 'nope'; valid: fnn, fnn-paper"):
        fnn.lookup("method", "nope")


def test_keys_and_domains_come_from_the_library():
    train = fnn.train_keys()
    assert list(train) == fnn.names("train-key")
    epochs = train["epochs"]
    assert (epochs.lo, epochs.hi, epochs.integer) == (1, 1e6, True)
    assert epochs.domain == "an integer in 1..1000000"
    assert train["optimizer"].values == fnn.names("optimizer")
    forget = fnn.forget_keys()
    assert list(forget) == fnn.names("forget-key")
    assert forget["method"].values == fnn.names("method")
    assert forget["procedure"].deprecated
    attack = fnn.attack_keys()
    assert attack["shadows"].domain == "an integer in 1..4096"
    assert list(attack) == fnn.names("attack-key")


def test_every_option_key_round_trips_its_default():
    # Whatever keys the library has, the binding sets and reads them by name.
    t, f = fnn.TrainOptions(), fnn.ForgetOptions()
    for name in fnn.train_keys():
        t[name] = t[name]
    for name in fnn.forget_keys():
        f[name] = f[name]
    assert t.as_dict() == fnn.TrainOptions().as_dict()
    assert f.as_dict() == fnn.ForgetOptions().as_dict()


def test_errors_carry_status_and_message():
    with pytest.raises(fnn.FnnError) as e:
        fnn.Model("input:4,dense:0", seed=1)
    assert e.value.status == -11
    assert e.value.strerror == fnn.strerror(-11) == "invalid model specification"
    assert e.value.message and e.value.message in str(e.value)
    t = fnn.TrainOptions()
    with pytest.raises(fnn.FnnError) as e:
        t["epochs"] = 0
    assert e.value.status == -2
    assert "an integer in 1..1000000" in e.value.message
    with pytest.raises(KeyError, match="unknown train option 'epoch'"):
        t["epoch"] = 3
    with pytest.raises(fnn.FnnError) as e:
        t["optimizer"] = "lbfgs"
    assert e.value.status == -2 and "sgd or adam" in e.value.message


def test_options_by_name():
    t = fnn.TrainOptions(preset="mlp", epochs=3, lr_step=2)
    assert t["optimizer"] == "sgd"
    assert t["lr"] == pytest.approx(0.05)
    assert (t["batch"], t["epochs"], t["lr-step"]) == (128, 3, 2)
    t["seed"] = 2 ** 64 - 1
    assert t["seed"] == 2 ** 64 - 1
    f = fnn.ForgetOptions(method="neggrad", neggrad_alpha=0.9, lr=0.002)
    assert f["method"] == "neggrad" and f.method == "neggrad"
    assert f["neggrad-alpha"] == pytest.approx(0.9)
    assert f.train["lr"] == pytest.approx(0.002)  # a training key goes inside
    assert f["lr"] == pytest.approx(0.002)
    with pytest.raises(ValueError, match="unknown preset 'big'"):
        fnn.TrainOptions(preset="big")
