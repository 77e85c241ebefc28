"""libfnn for Python: make a trained neural network forget chosen training data.

A thin ctypes layer over the C library (``include/fnn/fnn.h`` is the
specification). Methods, presets, option keys, their domains and every other
name come from the library at run time, so what a newer library adds appears
here without a new binding. NumPy arrays go in without copies where the C
API allows (``Dataset.from_arrays``, ``Model.predict`` on arrays), results come
back as NumPy arrays, failures raise ``FnnError`` with the status code and the
library's message, and Ctrl-C or an exception in a progress callback stops
the running call and is re-raised. See docs/BINDINGS.md.
"""
from __future__ import annotations

from typing import Dict

from ._core import (CancelledError, FnnError, Key, NAMES_KINDS, describe, keys, lookup,
                    names)
from ._lib import lib as _clib, library_path, text as _text
from ._dataset import Dataset
from ._options import ForgetOptions, TrainOptions
from ._forget import ForgetRequest, Report
from ._model import Model
from ._attack import Attack, avg_gap, mia_auc, mia_loss_attack, mia_tpr_at_fpr

__version__ = "0.2.0"

__all__ = [
    "Attack", "CancelledError", "Dataset", "FnnError", "ForgetOptions", "ForgetRequest",
    "Key", "Model", "NAMES_KINDS", "Report", "TrainOptions", "attack_keys", "avg_gap",
    "describe", "forget_keys", "library_path", "library_version", "lookup", "methods",
    "mia_auc", "mia_loss_attack", "mia_tpr_at_fpr", "names", "presets", "strerror",
    "train_keys",
]


def library_version() -> str:
    """The version of the libfnn actually loaded."""
    return _text(_clib.fnn_version_string())


def strerror(status: int) -> str:
    """The library's description of a status code."""
    return _text(_clib.fnn_strerror(status))


def methods() -> Dict[str, str]:
    """Unlearning methods (the library's method table): name -> description."""
    return describe("method")


def presets() -> Dict[str, str]:
    """Preset architectures: name -> description."""
    return describe("preset")


def train_keys() -> Dict[str, Key]:
    """Training option keys and their domains."""
    return dict(keys("train"))


def forget_keys() -> Dict[str, Key]:
    """Unlearning option keys and their domains."""
    return dict(keys("forget"))


def attack_keys() -> Dict[str, Key]:
    """Attack option keys and their domains."""
    return dict(keys("attack"))
