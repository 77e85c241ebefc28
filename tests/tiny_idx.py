"""Writes a tiny MNIST-style data set into the directory given: 200 train and
100 test 4x4 images of three classes that a small network tells apart
exactly. Class c lights one region of the image (c 0: top left, 1: top right,
2: bottom half); the rest is dark noise. Labels cycle 0, 1, 2."""
import os
import random
import struct
import sys

rng = random.Random(1)
regions = [lambda r, c: r < 2 and c < 2,
           lambda r, c: r < 2 and c >= 2,
           lambda r, c: r >= 2]
for prefix, n in (("train", 200), ("t10k", 100)):
    labels = [i % 3 for i in range(n)]
    pixels = bytearray()
    for y in labels:
        for r in range(4):
            for c in range(4):
                lit = regions[y](r, c)
                pixels.append(rng.randint(180, 255) if lit else rng.randint(0, 60))
    with open(os.path.join(sys.argv[1], prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, n, 4, 4) + pixels)
    with open(os.path.join(sys.argv[1], prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x00000801, n) + bytes(labels))
