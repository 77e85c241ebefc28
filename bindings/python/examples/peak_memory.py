"""Peak memory of training on 60,000 uint8 images of 28 x 28 from NumPy.

Usage: python3 peak_memory.py [borrow|copy|float32] [MNIST_DIR]

Prints the process's peak resident set size (ru_maxrss) before the data set
is made and after one epoch of the "mlp" preset, and the growth against the
size of the uint8 array (one copy's worth, 47,040,000 bytes):
- borrow:  Dataset.from_arrays(x, y): the library reads x in place;
- copy:    Dataset.from_arrays(x, y, copy=True): one copy, kept as bytes;
- float32: x.astype(np.float32) * (1/255) first, as without uint8 support.
The images are MNIST's when MNIST_DIR holds train-images-idx3-ubyte, else
random bytes. OpenBLAS and the binding are warmed up before the baseline.
"""
import os
import resource
import sys

import numpy as np

import fnn


def peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def images(mnist_dir):
    path = os.path.join(mnist_dir or "", "train-images-idx3-ubyte")
    if mnist_dir and os.path.exists(path):
        x = np.fromfile(path, dtype=np.uint8, offset=16).reshape(60000, 28, 28)
        y = np.fromfile(os.path.join(mnist_dir, "train-labels-idx1-ubyte"), dtype=np.uint8,
                        offset=8).astype(np.int32)
        return x, y, "mnist"
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, size=(60000, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, size=60000).astype(np.int32), "random")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "borrow"
    x, y, source = images(sys.argv[2] if len(sys.argv) > 2 else None)
    warm = fnn.Dataset.from_arrays(x[:512].copy(), y[:512].copy(), 10)
    fnn.Model("mlp", seed=1).train(warm, fnn.TrainOptions(preset="mlp", epochs=1))
    del warm
    base = peak()
    if mode == "float32":
        ds = fnn.Dataset.from_arrays(x.astype(np.float32) * np.float32(1 / 255), y, 10)
    else:
        ds = fnn.Dataset.from_arrays(x, y, 10, copy=(mode == "copy"))
    model = fnn.Model("mlp", seed=1)
    model.train(ds, fnn.TrainOptions(preset="mlp", epochs=1))
    after = peak()
    acc, _ = model.evaluate(ds)
    print(f"mode {mode} images {source} array_bytes {x.nbytes} peak_before {base} "
          f"peak_after {after} growth {after - base} train_acc {acc:.4f}")


if __name__ == "__main__":
    main()
