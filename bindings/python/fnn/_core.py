"""Errors, names, option keys and cancellable calls, shared by the modules."""
from __future__ import annotations

import ctypes
import math
import signal
import threading
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ._lib import lib, text

# Pinned status codes (docs/ABI.md) the binding itself acts on.
OK = 0
E_CANCELLED = -13

# enum fnn_names: the kinds of fnn_name(). Pinned; the values of each kind
# come from the library.
NAMES_KINDS = {
    "optimizer": 0, "lr-schedule": 1, "policy": 2, "method": 3, "request-kind": 4,
    "phase-kind": 5, "preset": 6, "split": 7, "train-key": 8, "forget-key": 9,
    "report-key": 10, "phase-key": 11, "history-key": 12, "membership-key": 13,
    "dtype": 14, "attack-key": 15,
}

# enum fnn_bound_flag (pinned).
BOUND_INTEGER = 1
BOUND_LO_OPEN = 2
BOUND_HI_OPEN = 4
BOUND_AUTO = 8
BOUND_NAMED = 16
BOUND_DEPRECATED = 32


class FnnError(Exception):
    """A libfnn call failed.

    ``status`` is the negative ``FNN_E_*`` code, ``message`` the handle's
    message saying exactly what was wrong, ``strerror`` the code's description.
    """

    def __init__(self, status: int, message: str, call: str = ""):
        self.status = status
        self.message = message
        self.strerror = text(lib.fnn_strerror(status))
        self.call = call
        where = f"{call}: " if call else ""
        super().__init__(f"{where}{message or self.strerror} (status {status}: "
                         f"{self.strerror})")


class CancelledError(FnnError):
    """A progress callback returned a true value: the call stopped
    (``FNN_E_CANCELLED``)."""


def raise_for(status: int, message, call: str = "") -> None:
    """Raises FnnError for a failed status; message may be bytes, a ctypes
    buffer or a callable returning either."""
    if status == OK:
        return
    if callable(message):
        message = message()
    if isinstance(message, ctypes.Array):
        message = message.value
    if isinstance(message, bytes):
        message = text(message)
    cls = CancelledError if status == E_CANCELLED else FnnError
    raise cls(status, message or "", call)


def check_err(status: int, err, call: str) -> None:
    raise_for(status, err, call)


# ---- handles -------------------------------------------------------------------

class Handle:
    """An owned library handle, freed by close(), at the end of a with block
    or by the garbage collector. Subclasses name the library's destructor
    (``_free``), the handle's message (``_errmsg``, or None) and what they
    are (``_what``)."""

    _free: Optional[Callable] = None
    _errmsg: Optional[Callable] = None
    _what = "handle"

    def __init__(self, handle: int, owned: bool = True, keep=None):
        self._h = handle
        self._owned = owned  # False: another object owns the handle
        self._keep = keep    # what must outlive the handle (borrowed memory, an owner)

    @property
    def _handle(self) -> int:
        if not self._h:
            raise ValueError(f"the {self._what} is closed")
        return self._h

    def close(self) -> None:
        """Frees the handle (harmless when already closed)."""
        if getattr(self, "_h", None) and self._owned:
            type(self)._free(self._h)
        self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _fail(self, status: int, call: str) -> None:
        """Raises FnnError with the handle's message for a failed status."""
        errmsg = type(self)._errmsg
        raise_for(status, (lambda: errmsg(self._h)) if errmsg else "", call)


# ---- names -------------------------------------------------------------------

def _kind(kind) -> int:
    if isinstance(kind, int):
        return kind
    try:
        return NAMES_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind of names {kind!r}; kinds: "
                         f"{', '.join(NAMES_KINDS)}") from None


def names(kind) -> List[str]:
    """The names of an enum of the API, in value order (value = position).

    ``kind`` is a name of ``NAMES_KINDS`` ("method", "policy", ...) or its number.
    """
    k = _kind(kind)
    return [text(lib.fnn_name(k, v)) for v in range(lib.fnn_names_count(k))]


def describe(kind) -> Dict[str, str]:
    """Name -> one-line description of every value of an enum of the API."""
    k = _kind(kind)
    return {text(lib.fnn_name(k, v)): text(lib.fnn_name_help(k, v))
            for v in range(lib.fnn_names_count(k))}


def name_of(kind, value: int) -> Optional[str]:
    """The name of ``value`` in ``kind``, or None when the library has none."""
    p = lib.fnn_name(_kind(kind), int(value))
    return text(p) if p is not None else None


def lookup(kind, name: str) -> int:
    """The value of ``name`` in ``kind``; ValueError with the valid names otherwise."""
    k = _kind(kind)
    v = ctypes.c_int()
    if lib.fnn_name_lookup(k, str(name).encode(), ctypes.byref(v)) != OK:
        raise ValueError(f"unknown {kind} {name!r}; valid: {', '.join(names(k))}")
    return v.value


# ---- option keys ---------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One option key and its domain, as the library states it."""

    name: str
    id: int
    lo: float
    hi: float
    flags: int
    names_kind: int       # enum fnn_names of the values, or -1
    help: str
    domain: str           # in words: "an integer in 1..65536", "sgd or adam"

    @property
    def integer(self) -> bool:
        return bool(self.flags & BOUND_INTEGER)

    @property
    def named(self) -> bool:
        return bool(self.flags & BOUND_NAMED)

    @property
    def deprecated(self) -> bool:
        return bool(self.flags & BOUND_DEPRECATED)

    @property
    def values(self) -> Optional[List[str]]:
        """The names a named key takes, else None."""
        if not self.named:
            return None
        return [n for v, n in enumerate(names(self.names_kind))
                if self.lo <= v <= self.hi]


def _keys(kind: str, bounds, describe_fn) -> Dict[str, Key]:
    k = NAMES_KINDS[kind]
    out = {}
    for v in range(lib.fnn_names_count(k)):
        lo, hi = ctypes.c_double(), ctypes.c_double()
        flags, nk = ctypes.c_uint32(), ctypes.c_int()
        if bounds(v, ctypes.byref(lo), ctypes.byref(hi), ctypes.byref(flags),
                  ctypes.byref(nk)) != OK:
            continue
        size = describe_fn(v, None, 0) + 1
        buf = ctypes.create_string_buffer(size)
        describe_fn(v, buf, size)
        name = text(lib.fnn_name(k, v))
        out[name] = Key(name, v, lo.value, hi.value, flags.value, nk.value,
                        text(lib.fnn_name_help(k, v)), text(buf.value))
    return out


_key_cache: Dict[str, Dict[str, Key]] = {}


def keys(kind: str) -> Dict[str, Key]:
    """Name -> Key of "train", "forget" or "attack" options, from the library."""
    if kind not in _key_cache:
        fns = {"train": (lib.fnn_train_key_bounds, lib.fnn_train_key_describe),
               "forget": (lib.fnn_forget_key_bounds, lib.fnn_forget_key_describe),
               "attack": (lib.fnn_attack_key_bounds, lib.fnn_attack_key_describe)}
        if kind not in fns:
            raise ValueError(f"no options of kind {kind!r}")
        _key_cache[kind] = _keys(kind + "-key", *fns[kind])
    return _key_cache[kind]


def find_key(kind: str, name: str) -> Key:
    """The key called ``name`` (Python spelling with '_' accepted for '-')."""
    table = keys(kind)
    key = table.get(name) or table.get(name.replace("_", "-"))
    if key is None:
        raise KeyError(f"unknown {kind} option {name!r}; options: {', '.join(table)}")
    return key


def to_number(key: Key, value) -> Tuple[str, object]:
    """How to pass ``value`` to a setter: ("text", str), ("u64", int) or
    ("double", float)."""
    if isinstance(value, str):
        return "text", value
    if isinstance(value, bool):
        return "double", float(value)
    if isinstance(value, int) and key.integer and value >= 0 and value >= 2 ** 53:
        return "u64", value
    return "double", float(value)


def from_number(key: Key, value: float):
    """A number read from the library in Python terms: a name, int or float."""
    if key.named and not math.isnan(value) and value == int(value):
        name = name_of(key.names_kind, int(value))
        if name is not None:
            return name
    if key.integer and math.isfinite(value) and value == int(value):
        return int(value)
    return value


# ---- cancellable calls --------------------------------------------------------

class Progress:
    """State shared by a long call and its progress callbacks: the user's
    callback, the first exception it raised, and a stop request (Ctrl-C)."""

    def __init__(self, user: Optional[Callable]):
        self.user = user
        self.error: Optional[BaseException] = None
        self.stop = False
        self.lock = threading.Lock()

    def call(self, *args) -> int:
        """Runs the user's callback; returns the C callback's answer (non-zero
        stops the call). An exception is kept and stops the call."""
        if self.stop or self.error is not None:
            return 1
        if self.user is None:
            return 0
        try:
            with self.lock:  # library threads call one at a time; keep it so
                answer = self.user(*args)
        except BaseException as e:  # noqa: B902 - re-raised by run()
            self.error = e
            return 1
        # Ctrl-C may have come while the callback ran.
        return 1 if answer or self.stop else 0


def run(call: Callable[[], int], progress: Progress) -> int:
    """Runs a long C call on a worker thread while this thread waits, so that
    Ctrl-C is seen at once, whichever thread the library calls back from; the
    callbacks then stop the call (FNN_E_CANCELLED) and KeyboardInterrupt is
    raised here once the call has returned. An exception raised in a callback
    is re-raised here, chained to the CancelledError of the call. Returns the
    call's status otherwise."""
    result: List[int] = []
    failure: List[BaseException] = []
    done = threading.Event()
    interrupted: List[BaseException] = []

    def work():
        try:
            result.append(call())
        except BaseException as e:  # ctypes argument errors
            failure.append(e)
        finally:
            done.set()

    def on_sigint(signum, frame):
        # Never raises: the call must have returned before its handles may be
        # touched again, so KeyboardInterrupt waits until it has.
        progress.stop = True
        interrupted.append(KeyboardInterrupt())

    # In the main thread, SIGINT is taken over while the call runs (unless the
    # program installed a handler of its own); other threads never receive
    # KeyboardInterrupt.
    previous = None
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        worker = threading.Thread(target=work, name="fnn-call", daemon=True)
        worker.start()
        pending: Optional[BaseException] = None
        while not done.is_set():
            try:
                done.wait(0.05)  # wakes up to run signal handlers
            except BaseException as e:  # a handler of the program's own raised
                progress.stop = True
                pending = pending or e
        if pending is not None:
            interrupted.append(pending)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if failure:
        raise failure[0]
    status = result[0]
    error = interrupted[0] if interrupted else progress.error
    if error is not None:
        if status == E_CANCELLED:
            raise error from CancelledError(status, "cancelled by the binding: "
                                            f"{type(error).__name__} in progress")
        raise error
    return status
