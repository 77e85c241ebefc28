"""Forget requests and unlearning reports."""
from __future__ import annotations

import ctypes
import math
from typing import Dict, List, Optional

import numpy as np

from ._core import Handle, check_err, name_of, names, raise_for
from ._dataset import Dataset
from ._lib import err_buffer, lib, ptr

__all__ = ["ForgetRequest", "Report"]


class ForgetRequest(Handle):
    """A request to forget part of a training set. It keeps the training set's
    storage (and a borrowed array) alive."""

    _free = lib.fnn_forget_request_free
    _what = "request"

    def __init__(self, handle: int, train: Dataset):
        super().__init__(handle, keep=train)  # borrowed memory stays alive

    @classmethod
    def _make(cls, train: Dataset, fn, *args) -> "ForgetRequest":
        out = ctypes.c_void_p()
        err = err_buffer()
        check_err(fn(ctypes.byref(out), train._handle, *args, err, len(err)), err,
                  fn.__name__)
        return cls(out.value, train)

    @classmethod
    def from_indices(cls, train: Dataset, indices) -> "ForgetRequest":
        """Forget the samples at ``indices`` of ``train``."""
        idx = np.ascontiguousarray(indices, dtype=np.uint32)
        return cls._make(train, lib.fnn_forget_request_from_indices,
                         ptr(idx, ctypes.c_uint32), idx.size)

    @classmethod
    def from_index_text(cls, train: Dataset, text: str) -> "ForgetRequest":
        """Forget the indices listed in ``text`` (white space separated, '#'
        comments), the format of ``fnn forget --forget-indices``."""
        data = text.encode()
        return cls._make(train, lib.fnn_forget_request_from_index_text, data, len(data))

    @classmethod
    def from_class(cls, train: Dataset, label: int) -> "ForgetRequest":
        """Forget every sample of class ``label``."""
        return cls._make(train, lib.fnn_forget_request_from_class, label)

    @classmethod
    def random(cls, train: Dataset, count: int, seed: int = 0) -> "ForgetRequest":
        """Forget ``count`` samples drawn without replacement by ``seed``."""
        return cls._make(train, lib.fnn_forget_request_random, count, seed)

    def __len__(self) -> int:
        return int(lib.fnn_forget_request_size(self._handle))

    @property
    def kind(self) -> str:
        """"indices", "class" or "random" (``fnn.names("request-kind")``)."""
        k = lib.fnn_forget_request_kind(self._handle)
        return name_of("request-kind", k) or str(k)

    @property
    def label(self) -> Optional[int]:
        """The class of a class request, else None."""
        y = ctypes.c_int32()
        if lib.fnn_forget_request_class(self._handle, ctypes.byref(y)) != 0:
            return None
        return y.value

    def indices(self) -> np.ndarray:
        """The forget indices, ascending (uint32)."""
        out = np.empty(len(self), dtype=np.uint32)
        raise_for(lib.fnn_forget_request_indices(self._handle, ptr(out, ctypes.c_uint32),
                                                 out.size), "", "fnn_forget_request_indices")
        return out

    def digest(self) -> bytes:
        """SHA-256 of the indices, as the model's deletion history records it."""
        d = (ctypes.c_uint8 * 32)()
        raise_for(lib.fnn_forget_request_digest(self._handle, d), "",
                  "fnn_forget_request_digest")
        return bytes(d)

    def _view(self, fn) -> Dataset:
        out = ctypes.c_void_p()
        raise_for(fn(self._handle, ctypes.byref(out)), "", fn.__name__)
        return Dataset(out.value, keep=self._keep._keep, borrowed=self._keep.borrowed)

    def forget_set(self) -> Dataset:
        return self._view(lib.fnn_forget_request_forget_set)

    def retain_set(self) -> Dataset:
        return self._view(lib.fnn_forget_request_retain_set)

    def __repr__(self) -> str:
        return (f"<fnn.ForgetRequest {self.kind}, {len(self)} samples>" if self._h
                else "<fnn.ForgetRequest closed>")


class Report(Handle):
    """What an unlearning run did and measured: ``report["forget-acc-after"]``,
    ``report.as_dict()``, ``report.phases()``; names from the library
    (``fnn.names("report-key")``, ``fnn.names("phase-key")``)."""

    _free = lib.fnn_forget_report_free
    _what = "report (a progress report is valid only during its callback)"

    def __init__(self, _handle: Optional[int] = None, _owned: bool = True):
        if _handle is None:
            out = ctypes.c_void_p()
            raise_for(lib.fnn_forget_report_create(ctypes.byref(out)), "",
                      "fnn_forget_report_create")
            _handle = out.value
        super().__init__(_handle, owned=_owned)

    def __getitem__(self, name: str):
        keys = names("report-key")
        try:
            k = keys.index(name.replace("_", "-"))
        except ValueError:
            raise KeyError(f"unknown report figure {name!r}; figures: "
                           f"{', '.join(keys)}") from None
        v = ctypes.c_double()
        raise_for(lib.fnn_forget_report_get(self._handle, k, ctypes.byref(v)), "",
                  "fnn_forget_report_get")
        if name == "method" and not math.isnan(v.value):
            return name_of("method", int(v.value)) or v.value
        return v.value

    def as_dict(self) -> Dict[str, object]:
        return {name: self[name] for name in names("report-key")}

    def phases(self) -> List[Dict[str, object]]:
        """One dict per recorded phase; "kind" as a name."""
        out = []
        pkeys = names("phase-key")
        for i in range(lib.fnn_forget_report_num_phases(self._handle)):
            ph: Dict[str, object] = {}
            for k, name in enumerate(pkeys):
                v = ctypes.c_double()
                raise_for(lib.fnn_forget_report_phase(self._handle, i, k, ctypes.byref(v)),
                          "", "fnn_forget_report_phase")
                ph[name] = v.value
            kind = ph.get("kind")
            if isinstance(kind, float) and not math.isnan(kind):
                ph["kind"] = name_of("phase-kind", int(kind)) or kind
            out.append(ph)
        return out

    def __repr__(self) -> str:
        if not self._h:
            return "<fnn.Report closed>"
        d = self.as_dict()
        return (f"<fnn.Report {d.get('method')}: forget {d.get('forget-acc-before'):.4f} -> "
                f"{d.get('forget-acc-after'):.4f}>")
