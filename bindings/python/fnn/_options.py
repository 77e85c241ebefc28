"""Training and unlearning options, keyed by the library's own names."""
from __future__ import annotations

import ctypes
from typing import Dict, Iterator, Optional

from ._core import Handle, Key, find_key, from_number, keys, lookup, raise_for, to_number
from ._lib import lib

__all__ = ["TrainOptions", "ForgetOptions"]


class _Options(Handle):
    """An options handle: ``opts["lr"] = 0.05``, ``opts.set(batch=128)``,
    ``opts["optimizer"]`` -> "sgd". Names and domains are the library's
    (``fnn.train_keys()``, ``fnn.forget_keys()``); '_' may stand for '-'."""

    _kind = ""
    _prefix = ""  # the C functions' prefix: fnn_train_options, fnn_forget_options

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        for suffix in ("set", "get", "set_u64", "get_u64", "parse", "errmsg", "free"):
            setattr(cls, "_" + suffix, getattr(lib, f"{cls._prefix}_{suffix}"))
        cls._what = cls._kind + " options"

    def _call(self, suffix: str, *args) -> int:
        return getattr(type(self), "_" + suffix)(self._handle, *args)

    # ---- keys -----------------------------------------------------------------

    def _key(self, name: str) -> Key:
        return find_key(self._kind, name)

    def __setitem__(self, name: str, value) -> None:
        key = self._key(name)
        how, v = to_number(key, value)
        if how == "text":
            status = self._call("parse", key.name.encode(), v.encode())
        elif how == "u64":
            status = self._call("set_u64", key.id, v)
        else:
            status = self._call("set", key.id, v)
        self._fail(status, f"{self._kind} option {key.name}")

    def __getitem__(self, name: str):
        key = self._key(name)
        if key.integer and key.hi > 2.0 ** 53:
            u = ctypes.c_uint64()
            self._fail(self._call("get_u64", key.id, ctypes.byref(u)),
                       f"{self._kind} option {key.name}")
            return u.value
        d = ctypes.c_double()
        self._fail(self._call("get", key.id, ctypes.byref(d)),
                   f"{self._kind} option {key.name}")
        return from_number(key, d.value)

    def set(self, **values) -> "_Options":
        """Sets several options; returns self."""
        for name, value in values.items():
            self[name] = value
        return self

    def keys(self) -> Iterator[str]:
        return iter(keys(self._kind))

    def as_dict(self) -> Dict[str, object]:
        """Every option's current value, by name."""
        return {name: self[name] for name in keys(self._kind)}

    def __repr__(self) -> str:
        return f"<fnn.{type(self).__name__} {self.as_dict() if self._h else 'closed'}>"


class TrainOptions(_Options):
    """Training options (``enum fnn_train_key``), defaults from the library.

    ``TrainOptions(preset="mlp", epochs=5)`` starts from a preset's recipe.
    """

    _kind = "train"
    _prefix = "fnn_train_options"

    def __init__(self, preset: Optional[str] = None, _handle: Optional[int] = None,
                 _owner=None, **values):
        if _handle is None:
            out = ctypes.c_void_p()
            status = lib.fnn_train_options_create(ctypes.byref(out))
            raise_for(status, "", "fnn_train_options_create")
            _handle = out.value
        super().__init__(_handle, owned=_owner is None, keep=_owner)
        if preset is not None:
            lookup("preset", preset)  # a clear error listing the presets
            self._fail(lib.fnn_train_options_preset(self._handle, preset.encode()),
                       "fnn_train_options_preset")
        self.set(**values)


class ForgetOptions(_Options):
    """Unlearning options (``enum fnn_forget_key``): ``ForgetOptions(method=
    "neggrad", neggrad_alpha=0.99)``. A name that is not a forget key but a
    training key goes to the inner training options (``.train``), as
    ``fnn_forget_options_parse()`` does."""

    _kind = "forget"
    _prefix = "fnn_forget_options"

    def __init__(self, **values):
        out = ctypes.c_void_p()
        raise_for(lib.fnn_forget_options_create(ctypes.byref(out)), "",
                  "fnn_forget_options_create")
        super().__init__(out.value)
        self.set(**values)

    @property
    def train(self) -> TrainOptions:
        """The inner training options, owned by these options."""
        return TrainOptions(_handle=lib.fnn_forget_options_train(self._handle), _owner=self)

    def _route(self, name: str):
        try:
            return self, find_key("forget", name)
        except KeyError:
            try:
                find_key("train", name)
            except KeyError:
                raise KeyError(f"unknown forget or train option {name!r}; forget "
                               f"options: {', '.join(keys('forget'))}; train options: "
                               f"{', '.join(keys('train'))}") from None
            return self.train, None

    def __setitem__(self, name: str, value) -> None:
        target, _ = self._route(name)
        if target is self:
            super().__setitem__(name, value)
        else:
            target[name] = value

    def __getitem__(self, name: str):
        target, _ = self._route(name)
        return super().__getitem__(name) if target is self else target[name]

    @property
    def method(self) -> str:
        return self["method"]
