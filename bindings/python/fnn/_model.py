"""Models: creation, training, inference, evaluation, files, forgetting
state, deletion history and unlearning."""
from __future__ import annotations

import ctypes
import math
import os
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from ._core import Handle, Progress, check_err, lookup, name_of, names, run
from ._dataset import Dataset, as_features, dtype_code
from ._forget import ForgetRequest, Report
from ._lib import FORGET_PROGRESS_FN, PROGRESS_FN, err_buffer, lib, ptr, text
from ._options import ForgetOptions, TrainOptions

__all__ = ["Model"]

Data = Union[Dataset, np.ndarray]


def _options(cls, options, values: dict):
    """(options object, whether it is ours to free) from an object, a dict or
    keyword values."""
    if options is None or isinstance(options, dict):
        merged = dict(options or {})
        merged.update(values)
        return cls(**merged), True
    if not isinstance(options, cls):
        raise TypeError(f"options must be {cls.__name__}, a dict or None")
    if values:
        options.set(**values)
    return options, False


class Model(Handle):
    """A sequential network with a softmax cross-entropy head.

    ``Model("mlp", seed=1)`` or ``Model("input:28x28x1,dense:128,relu,dense:10")``;
    presets are ``fnn.names("preset")``. Read-only calls (prediction,
    evaluation, losses) may run from several threads at once on one model;
    calls that change it may not. Models pickle through the library's buffer
    format.
    """

    _free = lib.fnn_model_free
    _errmsg = lib.fnn_model_errmsg
    _what = "model"

    def __init__(self, spec: str = "mlp", seed: int = 0, *, _handle: Optional[int] = None):
        if _handle is None:
            out = ctypes.c_void_p()
            err = err_buffer()
            check_err(lib.fnn_model_create(ctypes.byref(out), spec.encode(), seed, err,
                                           len(err)), err, "fnn_model_create")
            _handle = out.value
        super().__init__(_handle)

    def clone(self) -> "Model":
        """A deep copy (parameters, forgetting state, recipe, history)."""
        out = ctypes.c_void_p()
        self._fail(lib.fnn_model_clone(self._handle, ctypes.byref(out)), "fnn_model_clone")
        return Model(_handle=out.value)

    __copy__ = clone

    def __deepcopy__(self, memo) -> "Model":
        return self.clone()

    # ---- files ----------------------------------------------------------------------

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Saves atomically in the format of docs/FORMAT.md."""
        self._fail(lib.fnn_model_save(self._handle, os.fsencode(path)), "fnn_model_save")

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Model":
        out = ctypes.c_void_p()
        err = err_buffer()
        check_err(lib.fnn_model_load(ctypes.byref(out), os.fsencode(path), err, len(err)),
                  err, "fnn_model_load")
        return cls(_handle=out.value)

    def to_bytes(self) -> bytes:
        """The model file's bytes."""
        need = ctypes.c_size_t()
        self._fail(lib.fnn_model_save_buffer(self._handle, None, 0, ctypes.byref(need)),
                   "fnn_model_save_buffer")
        buf = ctypes.create_string_buffer(need.value)
        self._fail(lib.fnn_model_save_buffer(self._handle, buf, need.value,
                                             ctypes.byref(need)), "fnn_model_save_buffer")
        return buf.raw[:need.value]

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        out = ctypes.c_void_p()
        err = err_buffer()
        data = bytes(data)
        check_err(lib.fnn_model_load_buffer(ctypes.byref(out), data, len(data), err,
                                            len(err)), err, "fnn_model_load_buffer")
        return cls(_handle=out.value)

    def __reduce__(self):
        return (Model.from_bytes, (self.to_bytes(),))

    # ---- structure -------------------------------------------------------------------

    @property
    def spec(self) -> str:
        """The canonical specification (presets expanded)."""
        size = lib.fnn_model_spec(self._handle, None, 0) + 1
        buf = ctypes.create_string_buffer(size)
        lib.fnn_model_spec(self._handle, buf, size)
        return text(buf.value)

    @property
    def num_params(self) -> int:
        return int(lib.fnn_model_num_params(self._handle))

    @property
    def num_classes(self) -> int:
        return int(lib.fnn_model_num_classes(self._handle))

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        r, c, ch = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
        lib.fnn_model_input_shape(self._handle, ctypes.byref(r), ctypes.byref(c),
                                  ctypes.byref(ch))
        return r.value, c.value, ch.value

    def get_params(self) -> np.ndarray:
        """All parameters, layer by layer (weights then bias), float32."""
        out = np.empty(self.num_params, dtype=np.float32)
        self._fail(lib.fnn_model_get_params(self._handle, ptr(out, ctypes.c_float),
                                            out.size), "fnn_model_get_params")
        return out

    def set_params(self, params) -> None:
        p = np.ascontiguousarray(params, dtype=np.float32).reshape(-1)
        self._fail(lib.fnn_model_set_params(self._handle, ptr(p, ctypes.c_float), p.size),
                   "fnn_model_set_params")

    def fold_input_normalization(self, mean, std) -> None:
        m = np.ascontiguousarray(mean, dtype=np.float32).reshape(-1)
        s = np.ascontiguousarray(std, dtype=np.float32).reshape(-1)
        if m.size != s.size:
            raise ValueError(f"{m.size} means and {s.size} standard deviations")
        self._fail(lib.fnn_model_fold_input_normalization(
            self._handle, ptr(m, ctypes.c_float), ptr(s, ctypes.c_float), m.size),
            "fnn_model_fold_input_normalization")

    def flops_per_sample(self, training: bool = False) -> float:
        return float(lib.fnn_model_flops_per_sample(self._handle, int(bool(training))))

    # ---- training -----------------------------------------------------------------------

    def _train_call(self, fn, data: Dataset, options, progress, values) -> None:
        opts, ours = _options(TrainOptions, options, values)
        state = Progress(progress)
        cb = PROGRESS_FN(lambda user, epoch, epochs, batch, batches, loss:
                         state.call(epoch, epochs, batch, batches, loss))
        try:
            lib.fnn_train_options_set_progress(opts._handle, cb, None)
            status = run(lambda: fn(self._handle, data._handle, opts._handle), state)
            self._fail(status, fn.__name__)
        finally:
            lib.fnn_train_options_set_progress(opts._handle, PROGRESS_FN(), None)
            if ours:
                opts.close()

    def train(self, data: Dataset, options: Union[TrainOptions, dict, None] = None, *,
              progress: Optional[Callable] = None, **values) -> None:
        """Trains on ``data``. ``options``: TrainOptions, a dict of option names,
        or keyword values (``epochs=5, lr=0.05``). ``progress(epoch, epochs,
        batch, batches, loss)`` is called after every step; a true return
        stops training (CancelledError). An exception raised by it, or Ctrl-C,
        stops the C call and is re-raised here."""
        self._train_call(lib.fnn_model_train, data, options, progress, values)

    def retrain(self, data: Dataset, options: Union[TrainOptions, dict, None] = None, *,
                progress: Optional[Callable] = None, **values) -> None:
        """Trains again from scratch with the recorded recipe (options that are
        set override it)."""
        self._train_call(lib.fnn_model_retrain, data, options, progress, values)

    @property
    def recipe_calls(self) -> int:
        return int(lib.fnn_model_recipe_calls(self._handle))

    def recipe(self) -> Optional[Tuple[TrainOptions, int, int]]:
        """(options, init_seed, samples) of the recorded training, or None."""
        if self.recipe_calls == 0:
            return None
        out = ctypes.c_void_p()
        seed, samples = ctypes.c_uint64(), ctypes.c_uint64()
        self._fail(lib.fnn_model_recipe(self._handle, ctypes.byref(out), ctypes.byref(seed),
                                        ctypes.byref(samples)), "fnn_model_recipe")
        return TrainOptions(_handle=out.value), seed.value, samples.value

    # ---- inference --------------------------------------------------------------------

    def _array(self, x) -> Tuple[np.ndarray, int]:
        """x as an array of samples of the model's input shape, read in place."""
        x = as_features(x)
        dim = int(np.prod(self.input_shape))
        if x.ndim == 0 or x.size % dim or (x.shape[0] * dim != x.size):
            raise ValueError(f"features of shape {x.shape} are not samples of "
                             f"{'x'.join(map(str, self.input_shape))}")
        return x, x.shape[0]

    def _per_sample(self, data: Data, per: int, dtype, ds_fn, array_fn, ctype,
                    labels=None) -> np.ndarray:
        if isinstance(data, Dataset):
            n = len(data)
            out = np.empty((n, per) if per > 1 else n, dtype=dtype)
            self._fail(ds_fn(self._handle, data._handle, ptr(out, ctype), out.size),
                       ds_fn.__name__)
            return out
        x, n = self._array(data)
        out = np.empty((n, per) if per > 1 else n, dtype=dtype)
        if labels is None:
            status = array_fn(self._handle, x.ctypes.data, dtype_code(x.dtype), n,
                              ptr(out, ctype), out.size)
        else:
            y = np.ascontiguousarray(labels, dtype=np.int32)
            if y.shape != (n,):
                raise ValueError(f"{y.size} labels for {n} samples")
            status = array_fn(self._handle, x.ctypes.data, dtype_code(x.dtype),
                              ptr(y, ctypes.c_int32), n, ptr(out, ctype), out.size)
        self._fail(status, array_fn.__name__)
        return out

    def predict(self, data: Data) -> np.ndarray:
        """Most probable class of every sample (int32). ``data``: a Dataset or
        an array of samples (uint8 or float32 read in place)."""
        return self._per_sample(data, 1, np.int32, lib.fnn_model_predict,
                                lib.fnn_model_predict_array, ctypes.c_int32)

    def predict_proba(self, data: Data) -> np.ndarray:
        """Class probabilities, (n, classes) float32."""
        return self._per_sample(data, self.num_classes, np.float32,
                                lib.fnn_model_predict_proba,
                                lib.fnn_model_predict_proba_array, ctypes.c_float)

    def logits(self, data: Data) -> np.ndarray:
        """The last layer's outputs before the softmax, (n, classes) float32."""
        return self._per_sample(data, self.num_classes, np.float32, lib.fnn_model_logits,
                                lib.fnn_model_logits_array, ctypes.c_float)

    def sample_losses(self, data: Data, labels=None) -> np.ndarray:
        """Cross-entropy loss of every sample, float32. With an array, give its
        labels."""
        if not isinstance(data, Dataset) and labels is None:
            raise ValueError("sample_losses on an array needs its labels")
        return self._per_sample(data, 1, np.float32, lib.fnn_model_sample_losses,
                                lib.fnn_model_sample_losses_array, ctypes.c_float, labels)

    def evaluate(self, data: Dataset) -> Tuple[float, float]:
        """(accuracy, mean loss) on a labelled data set."""
        acc, loss = ctypes.c_double(), ctypes.c_double()
        self._fail(lib.fnn_model_evaluate(self._handle, data._handle, ctypes.byref(acc),
                                          ctypes.byref(loss)), "fnn_model_evaluate")
        return acc.value, loss.value

    def class_accuracies(self, data: Dataset) -> Tuple[np.ndarray, np.ndarray]:
        """(accuracy of every class, NaN where absent; samples of each class)."""
        c = self.num_classes
        acc = np.empty(c, dtype=np.float64)
        counts = (ctypes.c_size_t * c)()
        self._fail(lib.fnn_model_class_accuracies(self._handle, data._handle,
                                                  ptr(acc, ctypes.c_double), counts, c),
                   "fnn_model_class_accuracies")
        return acc, np.array(counts[:], dtype=np.int64)

    def membership(self, members: Dataset, nonmembers: Dataset, seed: int = 0) -> Dict[str, float]:
        """Loss-based membership figures, by the library's names
        (``fnn.names("membership-key")``)."""
        keys_ = names("membership-key")
        out = np.empty(len(keys_), dtype=np.float64)
        self._fail(lib.fnn_model_membership(self._handle, members._handle, nonmembers._handle,
                                            seed, ptr(out, ctypes.c_double), out.size),
                   "fnn_model_membership")
        return dict(zip(keys_, out.tolist()))

    # ---- forgetting state ------------------------------------------------------------------

    @property
    def num_forgetting_layers(self) -> int:
        return int(lib.fnn_model_num_forgetting_layers(self._handle))

    def forgetting_layer_units(self, layer: int) -> int:
        u = ctypes.c_uint32()
        self._fail(lib.fnn_model_forgetting_layer_units(self._handle, layer, ctypes.byref(u)),
                   "fnn_model_forgetting_layer_units")
        return u.value

    def _layer_floats(self, fn, layer: int) -> np.ndarray:
        out = np.empty(self.forgetting_layer_units(layer), dtype=np.float32)
        self._fail(fn(self._handle, layer, ptr(out, ctypes.c_float), out.size), fn.__name__)
        return out

    def get_tau(self, layer: int) -> np.ndarray:
        return self._layer_floats(lib.fnn_model_get_tau, layer)

    def decay_factors(self, layer: int) -> np.ndarray:
        return self._layer_floats(lib.fnn_model_decay_factors, layer)

    def set_tau(self, layer: int, tau) -> None:
        t = np.ascontiguousarray(tau, dtype=np.float32).reshape(-1)
        self._fail(lib.fnn_model_set_tau(self._handle, layer, ptr(t, ctypes.c_float), t.size),
                   "fnn_model_set_tau")

    def set_decay(self, layer: int, on: bool) -> None:
        self._fail(lib.fnn_model_set_decay(self._handle, layer, int(bool(on))),
                   "fnn_model_set_decay")

    def decay_enabled(self, layer: int) -> bool:
        r = lib.fnn_model_decay_enabled(self._handle, layer)
        if r < 0:
            self._fail(r, "fnn_model_decay_enabled")
        return r == 1

    @property
    def clock(self) -> int:
        return int(lib.fnn_model_clock(self._handle))

    @clock.setter
    def clock(self, t: int) -> None:
        self._fail(lib.fnn_model_set_clock(self._handle, t), "fnn_model_set_clock")

    def fold_decay(self) -> None:
        self._fail(lib.fnn_model_fold_decay(self._handle), "fnn_model_fold_decay")

    def rank_neurons(self, data: Dataset, layer: int) -> np.ndarray:
        out = np.empty(self.forgetting_layer_units(layer), dtype=np.uint32)
        self._fail(lib.fnn_model_rank_neurons(self._handle, data._handle, layer,
                                              ptr(out, ctypes.c_uint32), out.size),
                   "fnn_model_rank_neurons")
        return out

    def apply_policy(self, policy: str, forget: Optional[Dataset] = None, param: float = 0,
                     seed: int = 0) -> None:
        """Sets tau on every forgetting layer by a policy (``fnn.names("policy")``)
        and turns their decay on."""
        f = forget._handle if forget is not None else None
        self._fail(lib.fnn_model_apply_policy(self._handle, f, lookup("policy", policy), param,
                                              seed), "fnn_model_apply_policy")

    # ---- unlearning --------------------------------------------------------------------

    def forget(self, request: ForgetRequest, holdout: Optional[Dataset] = None,
               options: Union[ForgetOptions, dict, None] = None, *,
               progress: Optional[Callable] = None, **values) -> Report:
        """Makes the model forget the request's samples with the method of the
        ``method`` option (``fnn.methods()``), e.g. ``model.forget(req, holdout,
        method="neggrad", epochs=2)``. Returns the run's Report.
        ``progress(phase, step, done, total, report)`` is called after every
        step and phase (``report``: the phases so far, valid during the call);
        a true return, an exception or Ctrl-C stops the run and leaves the
        model as it was."""
        opts, ours = _options(ForgetOptions, options, values)
        report = Report()
        state = Progress(progress)

        def on_progress(user, phase, step, done, total, so_far):
            if state.user is None:
                return state.call()
            view = Report(_handle=so_far, _owned=False)
            try:
                return state.call(name_of("phase-kind", phase) or phase, step, done, total,
                                  view)
            finally:
                view._h = None  # valid during the call only

        cb = FORGET_PROGRESS_FN(on_progress)
        try:
            lib.fnn_forget_options_set_progress(opts._handle, cb, None)
            h = holdout._handle if holdout is not None else None
            status = run(lambda: lib.fnn_model_forget(self._handle, request._handle, h,
                                                      opts._handle, report._handle), state)
            self._fail(status, "fnn_model_forget")
        except BaseException:
            report.close()
            raise
        finally:
            lib.fnn_forget_options_set_progress(opts._handle, FORGET_PROGRESS_FN(), None)
            if ours:
                opts.close()
        return report

    # ---- deletion history ------------------------------------------------------------------

    def history(self) -> List[Dict[str, object]]:
        """The deletion history, oldest first: one dict per fnn_model_forget()
        with the library's figures (``fnn.names("history-key")``; "method" and
        "request-kind" as names), "digest" (32 bytes, see
        ForgetRequest.digest()) and "version"."""
        records = []
        hkeys = names("history-key")
        for i in range(lib.fnn_model_history_count(self._handle)):
            rec: Dict[str, object] = {}
            for k, name in enumerate(hkeys):
                v = ctypes.c_double()
                self._fail(lib.fnn_model_history_get(self._handle, i, k, ctypes.byref(v)),
                           "fnn_model_history_get")
                rec[name] = v.value
            for name, kind in (("method", "method"), ("request-kind", "request-kind")):
                if name in rec and not math.isnan(rec[name]):
                    rec[name] = name_of(kind, int(rec[name])) or rec[name]
            digest = (ctypes.c_uint8 * 32)()
            self._fail(lib.fnn_model_history_digest(self._handle, i, digest),
                       "fnn_model_history_digest")
            rec["digest"] = bytes(digest)
            v = lib.fnn_model_history_version(self._handle, i)
            rec["version"] = text(v) if v is not None else None
            records.append(rec)
        return records

    def __repr__(self) -> str:
        return f"<fnn.Model {self.spec!r}>" if self._h else "<fnn.Model closed>"
