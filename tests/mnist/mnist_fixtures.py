"""Tiny synthetic MNIST files in the IDX format, for the tests (the real data is never needed)."""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np

from labml_nn.optimizers import mnist_data

FILES = ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
         't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: magic (0x08 = unsigned byte, number of dims), sizes, data."""
    header = struct.pack('>I', 0x00000800 | array.ndim) + struct.pack(f'>{array.ndim}I', *array.shape)
    return header + array.astype(np.uint8).tobytes()


def synthetic_split(n: int, rng: np.random.Generator):
    """Images whose class is easy to learn: a bright square whose position depends on the label."""
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    for i, y in enumerate(labels):
        r, c = 2 + 5 * (y // 5), 2 + 5 * (y % 5)
        images[i, r:r + 6, c:c + 6] = 255
    return images, labels


def write_mnist(data_dir: Path, n_train: int = 240, n_test: int = 60, seed: int = 0) -> dict:
    """Write the four `.gz` files under `data_dir/MNIST/raw/`; return their MD5s by file name."""
    rng = np.random.default_rng(seed)
    folder = mnist_data.raw_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    train_x, train_y = synthetic_split(n_train, rng)
    test_x, test_y = synthetic_split(n_test, rng)
    md5s = {}
    for name, array in zip(FILES, (train_x, train_y, test_x, test_y)):
        path = folder / name
        # mtime=0 so the bytes (and the MD5) do not depend on the clock
        path.write_bytes(gzip.compress(idx_bytes(array), mtime=0))
        md5s[name] = hashlib.md5(path.read_bytes()).hexdigest()
    return md5s


def use_synthetic_md5s(monkeypatch, md5s: dict):
    """Make the data module expect the synthetic files' MD5s instead of the published ones."""
    for name, md5 in md5s.items():
        monkeypatch.setitem(mnist_data.PUBLISHED_MD5, name, md5)
