r"""
---
title: MNIST data without torchvision
summary: Reads the four MNIST IDX files in torchvision's cache layout, checks their published MD5s, downloads missing files and returns normalised tensors.
---

# MNIST data without torchvision

The [MNIST experiment](mnist_experiment.html) needs the
[MNIST database](http://yann.lecun.com/exdb/mnist/) as four gzipped IDX files.
This module reads them from `DATA_DIR/MNIST/raw/`, the layout torchvision uses for its cache,
so a folder torchvision has already filled is reused as is.

* Each file is checked against its published MD5 before it is read.
  A corrupt or truncated file stops the run with its name, the expected and the actual MD5, and the fix.
* Missing files are downloaded from the standard mirrors.
  When none can be reached, one message names all four files and the folder to put them in.
* Images are scaled to $[0, 1]$ and normalised with the usual MNIST mean $0.1307$ and
  standard deviation $0.3081$: $x \leftarrow (x / 255 - 0.1307) / 0.3081$.

The whole data set is loaded into tensors once; the experiment then forms batches by indexing
these tensors, with no per-sample Python.

The IDX format is described on the MNIST page: a big-endian header with a magic number
(`0x00000801` for a vector of labels, `0x00000803` for a stack of images) and the size of each
dimension, followed by the unsigned bytes.
"""

import gzip
import hashlib
import os
import struct
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

# Mean and standard deviation of the MNIST training pixels (after scaling to $[0, 1]$).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# The four files and their published MD5 checksums (the values torchvision checks too).
PUBLISHED_MD5: Dict[str, str] = {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}

# The standard mirrors, tried in order.
MIRRORS: Tuple[str, ...] = (
    'https://ossci-datasets.s3.amazonaws.com/mnist/',
    'http://yann.lecun.com/exdb/mnist/',
)

# IDX magic numbers: data type `0x08` (unsigned byte) and the number of dimensions.
_IDX_LABELS_MAGIC = 0x00000801
_IDX_IMAGES_MAGIC = 0x00000803


class MNISTDataError(RuntimeError):
    """A data file is missing, corrupt or not in IDX format. The message says which file and how to fix it."""


def raw_folder(data_dir) -> Path:
    """Where the `.gz` files live: torchvision's `DATA_DIR/MNIST/raw/`."""
    return Path(data_dir) / 'MNIST' / 'raw'


def file_md5(path: Path) -> str:
    """MD5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: Path, expected: str):
    """Stop with the file's name, both checksums and the fix when the file is not the published one."""
    actual = file_md5(path)
    if actual != expected:
        raise MNISTDataError(
            f'{path}: MD5 mismatch (expected {expected}, actual {actual}); '
            f'the file is corrupt or truncated. Delete it and run again to download it, '
            f'or replace it with a good copy.')


def _download(name: str, folder: Path, mirrors: Sequence[str], timeout: float) -> Optional[str]:
    """
    Try each mirror in turn. The file is written to a temporary name and only renamed into place
    once complete, so an interrupted download never leaves a truncated file behind.
    Returns `None` on success, or the last error.
    """
    error = None
    for mirror in mirrors:
        url = mirror + name
        fd, tmp = tempfile.mkstemp(prefix=name + '.', suffix='.part', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as out, urllib.request.urlopen(url, timeout=timeout) as response:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
            os.replace(tmp, folder / name)
            return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            error = f'{url}: {e}'
            if os.path.exists(tmp):
                os.remove(tmp)
    return error


def ensure_files(data_dir, *, download: bool = True, mirrors: Sequence[str] = MIRRORS,
                 timeout: float = 30.0, verify: bool = True) -> Path:
    """
    Make sure the four files are present and match their published MD5s,
    downloading missing ones. Returns the folder that holds them.
    """
    folder = raw_folder(data_dir)
    missing = [name for name in PUBLISHED_MD5 if not (folder / name).is_file()]

    # Download what is missing; remember why a download failed, for the message below.
    errors = []
    if missing and download:
        # The folders this call creates, so that a lookup that finds nothing leaves nothing behind
        created = [d for d in (folder, *folder.parents) if not d.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        for name in missing:
            error = _download(name, folder, mirrors, timeout)
            if error is not None:
                errors.append(error)
            else:
                # A downloaded file must be the published one too.
                verify_md5(folder / name, PUBLISHED_MD5[name])
        missing = [name for name in PUBLISHED_MD5 if not (folder / name).is_file()]
        for d in created:  # deepest first
            if missing and d.is_dir() and not any(d.iterdir()):
                d.rmdir()

    # One message for everything that is still missing.
    if missing:
        listing = '\n'.join(f'  {name}{"  (missing)" if name in missing else ""}' for name in PUBLISHED_MD5)
        reason = ('Downloading failed:\n' + '\n'.join(f'  {e}' for e in errors) + '\n') if errors else ''
        raise MNISTDataError(
            f'MNIST files not found in {folder}.\n{reason}'
            f'Put these four files (from {" or ".join(mirrors)}) in {folder}/:\n{listing}')

    # `verify=False`: a caller that has just verified the same files (the experiment's workers)
    for name, md5 in PUBLISHED_MD5.items() if verify else ():
        verify_md5(folder / name, md5)

    return folder


def read_idx(path: Path) -> np.ndarray:
    """Read one gzipped IDX file into a `uint8` array, checking its header against its size."""
    try:
        with gzip.open(path, 'rb') as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise MNISTDataError(f'{path}: not a readable gzip file ({e}). '
                             f'Delete it and run again to download it.') from e
    if len(data) < 4:
        raise MNISTDataError(f'{path}: too short for an IDX header')
    magic = struct.unpack('>I', data[:4])[0]
    if magic not in (_IDX_LABELS_MAGIC, _IDX_IMAGES_MAGIC):
        raise MNISTDataError(f'{path}: not an IDX file of unsigned bytes (magic {magic:#010x})')
    # The low byte of the magic number is the number of dimensions.
    n_dims = magic & 0xFF
    header = 4 + 4 * n_dims
    shape = struct.unpack(f'>{n_dims}I', data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise MNISTDataError(f'{path}: IDX header promises {expected} bytes, the file has {len(data)}')
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


@dataclass
class MNISTTensors:
    """
    The data set as tensors: images of shape `[N, 1, 28, 28]` (normalised `float32`) and
    `int64` labels. `train` holds the training images that remain after the validation split.
    """
    train_images: torch.Tensor
    train_labels: torch.Tensor
    valid_images: torch.Tensor
    valid_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    def to(self, device) -> 'MNISTTensors':
        return MNISTTensors(**{k: v.to(device) for k, v in self.__dict__.items()})


def _images(array: np.ndarray) -> torch.Tensor:
    # $x \leftarrow (x / 255 - \mu) / \sigma$
    x = torch.from_numpy(array.astype(np.float32) / 255.0)
    return ((x - MNIST_MEAN) / MNIST_STD).unsqueeze(1).contiguous()


def _labels(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.astype(np.int64))


def load_mnist(data_dir, *, valid_size: int = 5000, download: bool = True,
               mirrors: Sequence[str] = MIRRORS, verify: bool = True) -> MNISTTensors:
    """
    Load MNIST as tensors. The last `valid_size` training images are held out for validation;
    the split is fixed (it does not depend on the seed), so every run validates on the same images.
    """
    folder = ensure_files(data_dir, download=download, mirrors=mirrors, verify=verify)
    train_x = read_idx(folder / 'train-images-idx3-ubyte.gz')
    train_y = read_idx(folder / 'train-labels-idx1-ubyte.gz')
    test_x = read_idx(folder / 't10k-images-idx3-ubyte.gz')
    test_y = read_idx(folder / 't10k-labels-idx1-ubyte.gz')
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise MNISTDataError(f'{folder}: image and label files have different lengths')
    if not 0 <= valid_size < len(train_x):
        raise ValueError(f'valid_size must be in [0, {len(train_x)}), got {valid_size}')

    n_train = len(train_x) - valid_size
    images, labels = _images(train_x), _labels(train_y)
    return MNISTTensors(train_images=images[:n_train], train_labels=labels[:n_train],
                        valid_images=images[n_train:], valid_labels=labels[n_train:],
                        test_images=_images(test_x), test_labels=_labels(test_y))
