"""Membership inference: the loss attack, AUC, TPR at low FPR, Avg. Gap, and
LiRA / U-LiRA with shadow models."""
from __future__ import annotations

import ctypes
from typing import Callable, Optional, Tuple

import numpy as np

from ._core import Handle, Progress, check_err, find_key, from_number, run, to_number
from ._dataset import Dataset
from ._lib import ATTACK_PROGRESS_FN, FORGET_PROGRESS_FN, err_buffer, lib, ptr
from ._model import Model
from ._options import ForgetOptions

__all__ = ["Attack", "mia_auc", "mia_tpr_at_fpr", "mia_loss_attack", "avg_gap"]


def _f64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).reshape(-1)


def _call(fn, *args):
    err = err_buffer()
    check_err(fn(*args, err, len(err)), err, fn.__name__)


def mia_auc(member_score, nonmember_score) -> float:
    """P(member score > non-member score) + P(equal) / 2."""
    m, n = _f64(member_score), _f64(nonmember_score)
    auc = ctypes.c_double()
    _call(lib.fnn_mia_auc, ptr(m, ctypes.c_double), m.size, ptr(n, ctypes.c_double), n.size,
          ctypes.byref(auc))
    return auc.value


def mia_tpr_at_fpr(member_score, nonmember_score, fpr: float) -> float:
    """The largest TPR of a threshold rule whose FPR is at most ``fpr``."""
    m, n = _f64(member_score), _f64(nonmember_score)
    tpr = ctypes.c_double()
    _call(lib.fnn_mia_tpr_at_fpr, ptr(m, ctypes.c_double), m.size, ptr(n, ctypes.c_double),
          n.size, fpr, ctypes.byref(tpr))
    return tpr.value


def mia_loss_attack(member_loss, nonmember_loss, seed: int = 0) -> Tuple[float, float]:
    """The loss attack of the NeurIPS 2023 unlearning challenge: (mean
    accuracy, standard deviation over the splits)."""
    m = np.ascontiguousarray(member_loss, dtype=np.float32).reshape(-1)
    n = np.ascontiguousarray(nonmember_loss, dtype=np.float32).reshape(-1)
    acc, spread = ctypes.c_double(), ctypes.c_double()
    _call(lib.fnn_mia_loss_attack, ptr(m, ctypes.c_float), m.size, ptr(n, ctypes.c_float),
          n.size, seed, ctypes.byref(acc), ctypes.byref(spread))
    return acc.value, spread.value


def avg_gap(method, reference) -> float:
    """Mean |method_i - reference_i| of paired fractions, in percentage points."""
    a, b = _f64(method), _f64(reference)
    if a.size != b.size:
        raise ValueError(f"{a.size} figures against {b.size}")
    gap = ctypes.c_double()
    _call(lib.fnn_avg_gap, ptr(a, ctypes.c_double), ptr(b, ctypes.c_double), a.size,
          ctypes.byref(gap))
    return gap.value


class Attack(Handle):
    """LiRA (or, from ``unlearn()``, U-LiRA) on models like ``model``, with
    shadows trained on halves of ``universe`` and the candidates
    ``universe[candidates]``. Options by name (``fnn.attack_keys()``):
    ``Attack(model, universe, cand, shadows=16, threads=2)``."""

    _free = lib.fnn_attack_free
    _errmsg = lib.fnn_attack_errmsg
    _what = "attack"

    def __init__(self, model: Model, universe: Dataset, candidates, _handle=None, **values):
        if _handle is None:
            cand = np.ascontiguousarray(candidates, dtype=np.uint32)
            out = ctypes.c_void_p()
            err = err_buffer()
            check_err(lib.fnn_attack_create(ctypes.byref(out), model._handle,
                                            universe._handle, ptr(cand, ctypes.c_uint32),
                                            cand.size, err, len(err)), err,
                      "fnn_attack_create")
            _handle = out.value
            self._n = cand.size
        else:
            self._n = int(candidates)
        super().__init__(_handle, keep=universe)  # borrowed memory stays alive
        for name, value in values.items():
            self[name] = value

    def __setitem__(self, name: str, value) -> None:
        key = find_key("attack", name)
        how, v = to_number(key, value)
        if how == "u64":
            status = lib.fnn_attack_set_u64(self._handle, key.id, v)
        elif how == "double":
            status = lib.fnn_attack_set(self._handle, key.id, v)
        else:
            raise TypeError(f"attack option {key.name} takes a number")
        self._fail(status, f"attack option {key.name}")

    def __getitem__(self, name: str):
        key = find_key("attack", name)
        v = ctypes.c_double()
        self._fail(lib.fnn_attack_get(self._handle, key.id, ctypes.byref(v)),
                   f"attack option {key.name}")
        return from_number(key, v.value)

    @property
    def shadows_trained(self) -> int:
        return int(lib.fnn_attack_shadows_trained(self._handle))

    def _with_progress(self, call, progress: Optional[Callable]) -> int:
        state = Progress(progress)
        cb = ATTACK_PROGRESS_FN(lambda user, done, total: state.call(done, total))
        lib.fnn_attack_set_progress(self._handle, cb, None)
        try:
            return run(call, state)
        finally:
            lib.fnn_attack_set_progress(self._handle, ATTACK_PROGRESS_FN(), None)

    def train(self, progress: Optional[Callable] = None) -> None:
        """Trains the shadows. ``progress(done, shadows)`` is called as each
        shadow finishes (from the training threads, one call at a time); a
        true return, an exception or Ctrl-C stops training."""
        status = self._with_progress(lambda: lib.fnn_attack_train(self._handle), progress)
        self._fail(status, "fnn_attack_train")

    def unlearn(self, forget, options: Optional[ForgetOptions] = None,
                progress: Optional[Callable] = None, **values) -> "Attack":
        """U-LiRA: a new attack whose shadows unlearned the candidates flagged
        in ``forget`` with the unlearning ``options`` (or keyword values)."""
        flags = np.ascontiguousarray(forget, dtype=np.uint8).reshape(-1)
        ours = options is None
        opts = ForgetOptions(**values) if ours else options
        if values and not ours:
            opts.set(**values)
        # The shadows unlearn on several threads: no unlearning callback.
        lib.fnn_forget_options_set_progress(opts._handle, FORGET_PROGRESS_FN(), None)
        out = ctypes.c_void_p()
        err = err_buffer()
        try:
            status = self._with_progress(
                lambda: lib.fnn_attack_unlearn(self._handle, ptr(flags, ctypes.c_uint8),
                                               flags.size, opts._handle, ctypes.byref(out),
                                               err, len(err)), progress)
            check_err(status, err, "fnn_attack_unlearn")
        finally:
            if ours:
                opts.close()
        # The new attack inherited the progress callback installed meanwhile.
        lib.fnn_attack_set_progress(out.value, ATTACK_PROGRESS_FN(), None)
        return Attack(None, self._keep, self._n, _handle=out.value)

    def scores(self, target: Model) -> np.ndarray:
        """Per-candidate membership scores of ``target`` (higher: more likely IN)."""
        out = np.empty(self._n, dtype=np.float64)
        self._fail(lib.fnn_attack_scores(self._handle, target._handle,
                                         ptr(out, ctypes.c_double), out.size),
                   "fnn_attack_scores")
        return out

    def evaluate(self, target: Model, member) -> Tuple[float, float, float]:
        """(AUC, TPR at 1% FPR, TPR at 0.1% FPR) of the candidates flagged
        member 1 against those flagged 0."""
        m = np.ascontiguousarray(member, dtype=np.uint8).reshape(-1)
        auc, t1, t01 = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        self._fail(lib.fnn_attack_evaluate(self._handle, target._handle,
                                           ptr(m, ctypes.c_uint8), m.size, ctypes.byref(auc),
                                           ctypes.byref(t1), ctypes.byref(t01)),
                   "fnn_attack_evaluate")
        return auc.value, t1.value, t01.value
