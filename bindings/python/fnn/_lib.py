"""Loading libfnn and declaring its functions for ctypes.

The library is looked for, in order:

1. ``FNN_LIBRARY``: the path of ``libfnn.so.0`` (or of a directory holding it);
2. next to the package: the installed package records where the library was
   installed relative to itself (``_install.py``, written by meson), so an
   installed tree works from any prefix;
3. ``pkg-config --variable=libdir fnn`` (``PKG_CONFIG_PATH`` is honoured);
4. the system's loader (``ctypes.CDLL("libfnn.so.0")``: ``LD_LIBRARY_PATH``,
   ``ld.so.cache``).

Only the function signatures of ``include/fnn/fnn.h`` are written here; names,
methods, option keys and their domains come from the library at run time.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from ctypes import (CFUNCTYPE, POINTER, c_char, c_char_p, c_double, c_float, c_int,
                    c_size_t, c_uint, c_uint8, c_uint32, c_uint64, c_void_p)
from typing import List, Optional

# The SONAME (docs/ABI.md); it changes only with an incompatible library, which
# needs a new binding anyway.
SONAME = "libfnn.so.0"
# The binding uses functions of the FNN_0.2 symbol version: the library must be
# 0.2.0 or later, with the same major version.
REQUIRED_VERSION = (0, 2, 0)

__all__ = ["lib", "library_path"]


class LibraryNotFound(ImportError):
    """libfnn could not be found or loaded."""


def _candidates() -> List[str]:
    found = []
    env = os.environ.get("FNN_LIBRARY")
    if env:
        found.append(os.path.join(env, SONAME) if os.path.isdir(env) else env)
        return found  # an explicit choice is not second-guessed
    try:
        from . import _install  # type: ignore[attr-defined]
    except ImportError:
        _install = None
    if _install is not None:
        libdir = _install.LIBDIR
        if _install.RELATIVE:
            libdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), libdir)
        found.append(os.path.normpath(os.path.join(libdir, SONAME)))
    pkg_config = shutil.which("pkg-config")
    if pkg_config:
        try:
            out = subprocess.run([pkg_config, "--variable=libdir", "fnn"],
                                 capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and out.stdout.strip():
                found.append(os.path.join(out.stdout.strip(), SONAME))
        except (OSError, subprocess.SubprocessError):
            pass
    found.append(SONAME)
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise LibraryNotFound("cannot load libfnn (set FNN_LIBRARY to the path of "
                          f"{SONAME}); tried: " + "; ".join(errors))


lib = _load()
library_path: Optional[str] = getattr(lib, "_name", None)

# ---- types -------------------------------------------------------------------

i32p = POINTER(ctypes.c_int32)
u32p = POINTER(c_uint32)
u64p = POINTER(c_uint64)
f32p = POINTER(c_float)
f64p = POINTER(c_double)
u8p = POINTER(c_uint8)
szp = POINTER(c_size_t)
handle = c_void_p
handlep = POINTER(c_void_p)
err_t = POINTER(c_char)

PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_uint32, c_uint32, c_size_t, c_size_t, c_float)
FORGET_PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_int, c_uint64, c_double, c_double,
                               c_void_p)
ATTACK_PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_uint32, c_uint32)

# name: (restype, argtypes)
_PROTOTYPES = {
    "fnn_version_number": (c_uint, []),
    "fnn_version_string": (c_char_p, []),
    "fnn_strerror": (c_char_p, [c_int]),
    "fnn_names_count": (c_size_t, [c_int]),
    "fnn_name": (c_char_p, [c_int, c_int]),
    "fnn_name_help": (c_char_p, [c_int, c_int]),
    "fnn_name_lookup": (c_int, [c_int, c_char_p, POINTER(c_int)]),
    # data sets
    "fnn_dataset_load_idx": (c_int, [handlep, c_char_p, c_char_p, c_uint32, err_t, c_size_t]),
    "fnn_dataset_load_dir": (c_int, [handlep, c_char_p, c_int, err_t, c_size_t]),
    "fnn_dataset_from_arrays": (c_int, [handlep, f32p, i32p, c_size_t, c_uint32, c_uint32,
                                        c_uint32, c_uint32, err_t, c_size_t]),
    "fnn_dataset_from_arrays_v2": (c_int, [handlep, c_void_p, c_int, i32p, c_size_t, c_uint32,
                                           c_uint32, c_uint32, c_uint32, err_t, c_size_t]),
    "fnn_dataset_borrow_arrays": (c_int, [handlep, c_void_p, c_int, i32p, c_size_t, c_uint32,
                                          c_uint32, c_uint32, c_uint32, err_t, c_size_t]),
    "fnn_dataset_has_labels": (c_int, [handle]),
    "fnn_dataset_free": (None, [handle]),
    "fnn_dataset_errmsg": (c_char_p, [handle]),
    "fnn_dataset_size": (c_size_t, [handle]),
    "fnn_dataset_num_classes": (c_uint32, [handle]),
    "fnn_dataset_shape": (c_int, [handle, u32p, u32p, u32p]),
    "fnn_dataset_labels": (c_int, [handle, i32p, c_size_t]),
    "fnn_dataset_features": (c_int, [handle, f32p, c_size_t]),
    "fnn_dataset_subset": (c_int, [handle, u32p, c_size_t, handlep]),
    "fnn_dataset_split": (c_int, [handle, c_double, c_uint64, handlep, handlep]),
    "fnn_dataset_set_normalization": (c_int, [handle, f32p, f32p, c_size_t]),
    "fnn_dataset_channel_stats": (c_int, [handle, f32p, f32p, c_size_t]),
    # models
    "fnn_model_create": (c_int, [handlep, c_char_p, c_uint64, err_t, c_size_t]),
    "fnn_model_free": (None, [handle]),
    "fnn_model_clone": (c_int, [handle, handlep]),
    "fnn_model_errmsg": (c_char_p, [handle]),
    "fnn_model_spec": (c_size_t, [handle, err_t, c_size_t]),
    "fnn_model_num_params": (c_size_t, [handle]),
    "fnn_model_num_classes": (c_uint32, [handle]),
    "fnn_model_input_shape": (c_int, [handle, u32p, u32p, u32p]),
    "fnn_model_get_params": (c_int, [handle, f32p, c_size_t]),
    "fnn_model_set_params": (c_int, [handle, f32p, c_size_t]),
    "fnn_model_fold_input_normalization": (c_int, [handle, f32p, f32p, c_size_t]),
    "fnn_model_flops_per_sample": (c_double, [handle, c_int]),
    # training
    "fnn_train_options_create": (c_int, [handlep]),
    "fnn_train_options_free": (None, [handle]),
    "fnn_train_options_preset": (c_int, [handle, c_char_p]),
    "fnn_train_options_set": (c_int, [handle, c_int, c_double]),
    "fnn_train_options_get": (c_int, [handle, c_int, f64p]),
    "fnn_train_options_set_u64": (c_int, [handle, c_int, c_uint64]),
    "fnn_train_options_get_u64": (c_int, [handle, c_int, u64p]),
    "fnn_train_options_parse": (c_int, [handle, c_char_p, c_char_p]),
    "fnn_train_key_describe": (c_size_t, [c_int, err_t, c_size_t]),
    "fnn_train_key_bounds": (c_int, [c_int, f64p, f64p, u32p, POINTER(c_int)]),
    "fnn_train_options_set_progress": (c_int, [handle, PROGRESS_FN, c_void_p]),
    "fnn_train_options_errmsg": (c_char_p, [handle]),
    "fnn_model_train": (c_int, [handle, handle, handle]),
    "fnn_model_retrain": (c_int, [handle, handle, handle]),
    "fnn_model_recipe_calls": (c_uint32, [handle]),
    "fnn_model_recipe": (c_int, [handle, handlep, u64p, u64p]),
    # inference and evaluation
    "fnn_model_predict_proba": (c_int, [handle, handle, f32p, c_size_t]),
    "fnn_model_predict": (c_int, [handle, handle, i32p, c_size_t]),
    "fnn_model_evaluate": (c_int, [handle, handle, f64p, f64p]),
    "fnn_model_sample_losses": (c_int, [handle, handle, f32p, c_size_t]),
    "fnn_model_predict_array": (c_int, [handle, c_void_p, c_int, c_size_t, i32p, c_size_t]),
    "fnn_model_predict_proba_array": (c_int, [handle, c_void_p, c_int, c_size_t, f32p,
                                              c_size_t]),
    "fnn_model_logits_array": (c_int, [handle, c_void_p, c_int, c_size_t, f32p, c_size_t]),
    "fnn_model_sample_losses_array": (c_int, [handle, c_void_p, c_int, i32p, c_size_t, f32p,
                                              c_size_t]),
    "fnn_model_class_accuracies": (c_int, [handle, handle, f64p, szp, c_size_t]),
    "fnn_model_logits": (c_int, [handle, handle, f32p, c_size_t]),
    "fnn_mia_auc": (c_int, [f64p, c_size_t, f64p, c_size_t, f64p, err_t, c_size_t]),
    "fnn_mia_tpr_at_fpr": (c_int, [f64p, c_size_t, f64p, c_size_t, c_double, f64p, err_t,
                                   c_size_t]),
    "fnn_mia_loss_attack": (c_int, [f32p, c_size_t, f32p, c_size_t, c_uint64, f64p, f64p,
                                    err_t, c_size_t]),
    "fnn_avg_gap": (c_int, [f64p, f64p, c_size_t, f64p, err_t, c_size_t]),
    "fnn_model_membership": (c_int, [handle, handle, handle, c_uint64, f64p, c_size_t]),
    # files
    "fnn_model_save": (c_int, [handle, c_char_p]),
    "fnn_model_load": (c_int, [handlep, c_char_p, err_t, c_size_t]),
    "fnn_model_save_buffer": (c_int, [handle, c_void_p, c_size_t, szp]),
    "fnn_model_load_buffer": (c_int, [handlep, c_void_p, c_size_t, err_t, c_size_t]),
    # forgetting state
    "fnn_model_num_forgetting_layers": (c_size_t, [handle]),
    "fnn_model_forgetting_layer_units": (c_int, [handle, c_size_t, u32p]),
    "fnn_model_get_tau": (c_int, [handle, c_size_t, f32p, c_size_t]),
    "fnn_model_set_tau": (c_int, [handle, c_size_t, f32p, c_size_t]),
    "fnn_model_set_decay": (c_int, [handle, c_size_t, c_int]),
    "fnn_model_decay_enabled": (c_int, [handle, c_size_t]),
    "fnn_model_set_clock": (c_int, [handle, c_uint32]),
    "fnn_model_clock": (c_uint32, [handle]),
    "fnn_model_decay_factors": (c_int, [handle, c_size_t, f32p, c_size_t]),
    "fnn_model_fold_decay": (c_int, [handle]),
    "fnn_model_rank_neurons": (c_int, [handle, handle, c_size_t, u32p, c_size_t]),
    "fnn_model_apply_policy": (c_int, [handle, handle, c_int, c_double, c_uint64]),
    # forget requests
    "fnn_forget_request_from_indices": (c_int, [handlep, handle, u32p, c_size_t, err_t,
                                                c_size_t]),
    "fnn_forget_request_from_index_text": (c_int, [handlep, handle, c_char_p, c_size_t, err_t,
                                                   c_size_t]),
    "fnn_forget_request_from_class": (c_int, [handlep, handle, ctypes.c_int32, err_t,
                                              c_size_t]),
    "fnn_forget_request_random": (c_int, [handlep, handle, c_size_t, c_uint64, err_t,
                                          c_size_t]),
    "fnn_forget_request_free": (None, [handle]),
    "fnn_forget_request_size": (c_size_t, [handle]),
    "fnn_forget_request_kind": (c_int, [handle]),
    "fnn_forget_request_class": (c_int, [handle, i32p]),
    "fnn_forget_request_indices": (c_int, [handle, u32p, c_size_t]),
    "fnn_forget_request_forget_set": (c_int, [handle, handlep]),
    "fnn_forget_request_retain_set": (c_int, [handle, handlep]),
    "fnn_forget_request_digest": (c_int, [handle, u8p]),
    # unlearning options and reports
    "fnn_forget_options_create": (c_int, [handlep]),
    "fnn_forget_options_free": (None, [handle]),
    "fnn_forget_options_set": (c_int, [handle, c_int, c_double]),
    "fnn_forget_options_get": (c_int, [handle, c_int, f64p]),
    "fnn_forget_options_set_u64": (c_int, [handle, c_int, c_uint64]),
    "fnn_forget_options_get_u64": (c_int, [handle, c_int, u64p]),
    "fnn_forget_options_parse": (c_int, [handle, c_char_p, c_char_p]),
    "fnn_forget_options_train": (handle, [handle]),
    "fnn_forget_options_set_progress": (c_int, [handle, FORGET_PROGRESS_FN, c_void_p]),
    "fnn_forget_options_errmsg": (c_char_p, [handle]),
    "fnn_forget_key_bounds": (c_int, [c_int, f64p, f64p, u32p, POINTER(c_int)]),
    "fnn_forget_key_describe": (c_size_t, [c_int, err_t, c_size_t]),
    "fnn_forget_key_methods": (c_uint32, [c_int]),
    "fnn_forget_report_create": (c_int, [handlep]),
    "fnn_forget_report_free": (None, [handle]),
    "fnn_forget_report_get": (c_int, [handle, c_int, f64p]),
    "fnn_forget_report_num_phases": (c_size_t, [handle]),
    "fnn_forget_report_phase": (c_int, [handle, c_size_t, c_int, f64p]),
    "fnn_model_history_count": (c_size_t, [handle]),
    "fnn_model_history_get": (c_int, [handle, c_size_t, c_int, f64p]),
    "fnn_model_history_digest": (c_int, [handle, c_size_t, u8p]),
    "fnn_model_history_version": (c_char_p, [handle, c_size_t]),
    "fnn_model_forget": (c_int, [handle, handle, handle, handle, handle]),
    # attacks
    "fnn_attack_create": (c_int, [handlep, handle, handle, u32p, c_size_t, err_t, c_size_t]),
    "fnn_attack_free": (None, [handle]),
    "fnn_attack_errmsg": (c_char_p, [handle]),
    "fnn_attack_set": (c_int, [handle, c_int, c_double]),
    "fnn_attack_set_u64": (c_int, [handle, c_int, c_uint64]),
    "fnn_attack_get": (c_int, [handle, c_int, f64p]),
    "fnn_attack_set_progress": (c_int, [handle, ATTACK_PROGRESS_FN, c_void_p]),
    "fnn_attack_key_bounds": (c_int, [c_int, f64p, f64p, u32p, POINTER(c_int)]),
    "fnn_attack_key_describe": (c_size_t, [c_int, err_t, c_size_t]),
    "fnn_attack_train": (c_int, [handle]),
    "fnn_attack_unlearn": (c_int, [handle, u8p, c_size_t, handle, handlep, err_t, c_size_t]),
    "fnn_attack_shadows_trained": (c_uint32, [handle]),
    "fnn_attack_scores": (c_int, [handle, handle, f64p, c_size_t]),
    "fnn_attack_evaluate": (c_int, [handle, handle, u8p, c_size_t, f64p, f64p, f64p]),
}

# Functions of the header the binding deliberately leaves out (superseded).
UNWRAPPED = frozenset()


def _declare() -> None:
    missing = []
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise LibraryNotFound(f"{library_path} lacks {', '.join(missing)}: it is older "
                              "than this binding")


def _check_version() -> None:
    number = int(lib.fnn_version_number())
    have = (number // 10000, number // 100 % 100, number % 100)
    if have[0] != REQUIRED_VERSION[0] or have < REQUIRED_VERSION:
        raise LibraryNotFound(
            f"{library_path} is libfnn {'.'.join(map(str, have))}; this binding needs "
            f"{'.'.join(map(str, REQUIRED_VERSION))} or a later "
            f"{REQUIRED_VERSION[0]}.x")


lib.fnn_version_number.restype = c_uint
lib.fnn_version_number.argtypes = []
_check_version()
_declare()

# ---- strings and buffers -----------------------------------------------------

ERR_SIZE = 512


def err_buffer():
    return ctypes.create_string_buffer(ERR_SIZE)


def text(p: Optional[bytes]) -> str:
    return p.decode("utf-8", "replace") if p is not None else ""


def ptr(array, ctype):
    """A ctypes pointer to a NumPy array's data (the array must stay alive)."""
    return array.ctypes.data_as(POINTER(ctype))
