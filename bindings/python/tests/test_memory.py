"""Peak memory: a uint8 NumPy array of 60,000 images of 28 x 28 trains
without the process's peak growing by a copy's worth (examples/peak_memory.py
measures; docs/BINDINGS.md gives the figures)."""
import os
import subprocess
import sys

from conftest import data_dir

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "examples", "peak_memory.py")


def measure(mode):
    args = [sys.executable, SCRIPT, mode] + ([data_dir("mnist")] if data_dir("mnist") else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
    words = out.stdout.split()
    return dict(zip(words[::2], words[1::2]))


def test_uint8_trains_without_a_copy():
    borrowed = measure("borrow")
    copied = measure("copy")
    one_copy = int(borrowed["array_bytes"])
    assert one_copy == 60000 * 28 * 28
    # Borrowed: the peak grows by less than a quarter of one copy (measured: 0.1 MB).
    assert int(borrowed["growth"]) < one_copy // 4, borrowed
    # The measurement sees a copy: copy=True grows by about one copy.
    assert 0.9 * one_copy < int(copied["growth"]) < 1.5 * one_copy, copied
    assert borrowed["train_acc"] == copied["train_acc"]
