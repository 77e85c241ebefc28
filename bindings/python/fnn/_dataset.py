"""Data sets: IDX files, NumPy arrays (borrowed without a copy where the C
API allows), views, normalisation."""
from __future__ import annotations

import ctypes
import os
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ._core import Handle, check_err, lookup
from ._lib import err_buffer, lib, ptr

__all__ = ["Dataset", "dtype_code", "as_features"]


def dtype_code(dtype) -> int:
    """The library's enum fnn_dtype value of a NumPy dtype (by NumPy's name)."""
    return lookup("dtype", np.dtype(dtype).name)


def _library_dtype(x: np.ndarray) -> np.ndarray:
    """x itself when the library reads its type, else x as float32 (a copy).
    Integer types other than uint8 are refused: pixels stored as int64 would
    not be scaled, which is almost certainly not what the caller meant."""
    try:
        dtype_code(x.dtype)
        return x
    except ValueError:
        pass
    if np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float32)
    raise TypeError(f"features of dtype {x.dtype} are not supported: use uint8 (scaled "
                    "as the IDX loader scales bytes) or a floating type (float32 is "
                    "read in place)")


def as_features(x, copy_ok: bool = True) -> np.ndarray:
    """x as an array the library can read in place: C-contiguous, aligned,
    uint8 or float32 (converted once, with a copy, when it is not)."""
    x = _library_dtype(np.asarray(x))
    if not (x.flags.c_contiguous and x.flags.aligned):
        x = np.ascontiguousarray(x)
    return x


def _shape_of(x: np.ndarray, shape: Optional[Sequence[int]]) -> Tuple[int, int, int, int]:
    """(n, rows, cols, channels) of a sample-major array."""
    if x.ndim == 0:
        raise ValueError("features must have a sample axis")
    n = x.shape[0]
    if shape is not None:
        rows, cols, channels = (list(shape) + [1, 1])[:3]
    elif x.ndim == 1:
        rows, cols, channels = 1, 1, 1
    elif x.ndim == 2:
        rows, cols, channels = x.shape[1], 1, 1
    elif x.ndim == 3:
        rows, cols, channels = x.shape[1], x.shape[2], 1
    elif x.ndim == 4:
        rows, cols, channels = x.shape[1:]
    else:
        raise ValueError(f"features of {x.ndim} dimensions: give (n, rows, cols, "
                         "channels) or shape=")
    if n * rows * cols * channels != x.size:
        raise ValueError(f"shape {rows}x{cols}x{channels} does not divide the "
                         f"{x.size} features of {n} samples")
    return n, int(rows), int(cols), int(channels)


class Dataset(Handle):
    """An immutable collection of samples, with or without labels.

    A data set made from a NumPy array reads the array in place when it is
    C-contiguous, aligned and uint8 or float32 (``borrowed`` is then True;
    other arrays are converted once and the data set reads the conversion).
    The data set keeps a reference to the array it reads, so the array lives
    as long as the data set, its views and the requests and attacks made over
    them. Do not change the array meanwhile. Labels are always copied.

    Free a data set with ``close()`` or a ``with`` block, or leave it to the
    garbage collector.
    """

    _free = lib.fnn_dataset_free
    _errmsg = lib.fnn_dataset_errmsg
    _what = "data set"

    def __init__(self, handle: int, keep=None, borrowed: bool = False):
        # Not for users: see the class methods. keep: the array read in place.
        super().__init__(handle, keep=keep)
        self.borrowed = borrowed

    # ---- constructors ------------------------------------------------------

    @classmethod
    def _make(cls, fn, *args) -> int:
        out = ctypes.c_void_p()
        err = err_buffer()
        status = fn(ctypes.byref(out), *args, err, len(err))
        check_err(status, err, fn.__name__)
        return out.value

    @classmethod
    def load_idx(cls, images: Union[str, os.PathLike], labels: Union[str, os.PathLike],
                 num_classes: int = 10) -> "Dataset":
        """Loads an IDX image file and an IDX label file (raw or gzip). Pixels
        are presented as ``(float)byte * (1.0f / 255.0f)``."""
        return cls(cls._make(lib.fnn_dataset_load_idx, os.fsencode(images),
                             os.fsencode(labels), num_classes))

    @classmethod
    def load_dir(cls, directory: Union[str, os.PathLike], split: str = "train") -> "Dataset":
        """Loads the train or test split (names: ``fnn.names("split")``) of a
        directory laid out like MNIST and Fashion-MNIST."""
        return cls(cls._make(lib.fnn_dataset_load_dir, os.fsencode(directory),
                             lookup("split", split)))

    @classmethod
    def from_arrays(cls, features, labels=None, num_classes: Optional[int] = None, *,
                    shape: Optional[Sequence[int]] = None, copy: bool = False) -> "Dataset":
        """A data set from a NumPy array of samples.

        ``features``: (n, rows, cols, channels), (n, rows, cols) or (n, dim),
        uint8 (scaled as IDX pixels: ``x.astype(np.float32) * np.float32(1/255)``)
        or float (float32 is read as is; other float types are converted).
        ``labels``: n integers in [0, num_classes), or None for a data set that
        can only be predicted on. ``num_classes`` defaults to max(labels) + 1.
        ``copy``: copy the features into the data set instead of borrowing.
        """
        given = np.asarray(features)
        x = as_features(given)
        n, rows, cols, channels = _shape_of(x, shape)
        y = None
        if labels is not None:
            y = np.ascontiguousarray(labels, dtype=np.int32)
            if y.shape != (n,):
                raise ValueError(f"{y.size} labels for {n} samples")
            if num_classes is None:
                num_classes = int(y.max()) + 1 if n else 1
        fn = lib.fnn_dataset_from_arrays_v2 if copy else lib.fnn_dataset_borrow_arrays
        h = cls._make(fn, x.ctypes.data, dtype_code(x.dtype),
                      ptr(y, ctypes.c_int32) if y is not None else None, n, rows, cols,
                      channels, num_classes or 0)
        # The data set reads x in place unless copy; it is the caller's own
        # array unless it had to be converted.
        return cls(h, keep=None if copy else x, borrowed=not copy and x is given)

    # ---- queries ------------------------------------------------------------------

    def __len__(self) -> int:
        return int(lib.fnn_dataset_size(self._handle))

    @property
    def size(self) -> int:
        return len(self)

    @property
    def num_classes(self) -> int:
        """Number of classes (0 without labels)."""
        return int(lib.fnn_dataset_num_classes(self._handle))

    @property
    def has_labels(self) -> bool:
        return lib.fnn_dataset_has_labels(self._handle) == 1

    @property
    def shape(self) -> Tuple[int, int, int]:
        """(rows, cols, channels) of one sample."""
        r, c, ch = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
        lib.fnn_dataset_shape(self._handle, ctypes.byref(r), ctypes.byref(c),
                              ctypes.byref(ch))
        return r.value, c.value, ch.value

    def labels(self) -> np.ndarray:
        """The labels, int32 (FnnError FNN_E_STATE without labels)."""
        out = np.empty(len(self), dtype=np.int32)
        self._fail(lib.fnn_dataset_labels(self._handle, ptr(out, ctypes.c_int32), out.size),
                   "fnn_dataset_labels")
        return out

    def features(self) -> np.ndarray:
        """The features as a model sees them (scaled and normalised), float32,
        (n, rows, cols, channels)."""
        out = np.empty((len(self),) + self.shape, dtype=np.float32)
        self._fail(lib.fnn_dataset_features(self._handle, ptr(out, ctypes.c_float),
                                            out.size), "fnn_dataset_features")
        return out

    # ---- views ------------------------------------------------------------------------

    def subset(self, indices) -> "Dataset":
        """A view of the samples at ``indices``, in that order."""
        idx = np.ascontiguousarray(indices, dtype=np.uint32)
        out = ctypes.c_void_p()
        self._fail(lib.fnn_dataset_subset(self._handle, ptr(idx, ctypes.c_uint32), idx.size,
                                          ctypes.byref(out)), "fnn_dataset_subset")
        return Dataset(out.value, keep=self._keep, borrowed=self.borrowed)

    def split(self, fraction: float, seed: int = 0) -> Tuple["Dataset", "Dataset"]:
        """Two views after a seeded shuffle: round(fraction * size) samples, then
        the rest."""
        a, b = ctypes.c_void_p(), ctypes.c_void_p()
        self._fail(lib.fnn_dataset_split(self._handle, fraction, seed, ctypes.byref(a),
                                         ctypes.byref(b)), "fnn_dataset_split")
        return (Dataset(a.value, keep=self._keep, borrowed=self.borrowed),
                Dataset(b.value, keep=self._keep, borrowed=self.borrowed))

    # ---- normalisation ---------------------------------------------------------------------

    def set_normalization(self, mean, std) -> None:
        """Presents x' = (x - mean[c]) / std[c] per channel, after the scaling
        of bytes. Replaces an earlier normalisation; later views inherit it."""
        m = np.ascontiguousarray(mean, dtype=np.float32).reshape(-1)
        s = np.ascontiguousarray(std, dtype=np.float32).reshape(-1)
        if m.size != s.size:
            raise ValueError(f"{m.size} means and {s.size} standard deviations")
        self._fail(lib.fnn_dataset_set_normalization(self._handle, ptr(m, ctypes.c_float),
                                                     ptr(s, ctypes.c_float), m.size),
                   "fnn_dataset_set_normalization")

    def channel_stats(self) -> Tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and standard deviation of the scaled features."""
        channels = self.shape[2]
        m = np.empty(channels, dtype=np.float32)
        s = np.empty(channels, dtype=np.float32)
        self._fail(lib.fnn_dataset_channel_stats(self._handle, ptr(m, ctypes.c_float),
                                                 ptr(s, ctypes.c_float), channels),
                   "fnn_dataset_channel_stats")
        return m, s

    def __repr__(self) -> str:
        if not self._h:
            return "<fnn.Dataset closed>"
        r, c, ch = self.shape
        what = f"{self.num_classes} classes" if self.has_labels else "no labels"
        how = ", borrowed" if self.borrowed else ""
        return f"<fnn.Dataset {len(self)} x {r}x{c}x{ch}, {what}{how}>"
