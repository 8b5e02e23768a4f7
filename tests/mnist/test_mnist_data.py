"""The MNIST reader: IDX parsing, normalisation, MD5 checks, downloads and the error messages."""

import gzip
import http.server
import threading
from functools import partial

import numpy as np
import pytest
import torch

from labml_nn.optimizers import mnist_data
from labml_nn.optimizers.mnist_data import MNISTDataError, load_mnist
from mnist_fixtures import FILES, idx_bytes, use_synthetic_md5s, write_mnist

# A port nothing listens on: connections are refused at once, as when offline.
OFFLINE = ('http://127.0.0.1:9/',)


def test_reads_idx_files_into_normalised_tensors_with_a_fixed_validation_split(tmp_path, monkeypatch):
    use_synthetic_md5s(monkeypatch, write_mnist(tmp_path, n_train=50, n_test=20))
    data = load_mnist(tmp_path, valid_size=10, download=False)

    assert data.train_images.shape == (40, 1, 28, 28) and data.train_images.dtype == torch.float32
    assert data.valid_images.shape == (10, 1, 28, 28)
    assert data.test_images.shape == (20, 1, 28, 28)
    assert data.train_labels.dtype == torch.int64 and len(data.test_labels) == 20

    # Pixel 255 (the square) and the values around it map to (x / 255 - 0.1307) / 0.3081.
    raw = mnist_data.read_idx(mnist_data.raw_folder(tmp_path) / FILES[0])
    expected = (raw[:40].astype(np.float32) / 255 - 0.1307) / 0.3081
    assert np.allclose(data.train_images[:, 0].numpy(), expected, atol=1e-6)
    labels = mnist_data.read_idx(mnist_data.raw_folder(tmp_path) / FILES[1])
    assert data.valid_labels.tolist() == labels[40:].tolist()


def test_md5_mismatch_names_the_file_and_both_checksums(tmp_path, monkeypatch):
    md5s = write_mnist(tmp_path)
    use_synthetic_md5s(monkeypatch, md5s)
    # A valid gzip file with different content: only the checksum can tell.
    path = mnist_data.raw_folder(tmp_path) / 't10k-labels-idx1-ubyte.gz'
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(60, dtype=np.uint8)), mtime=0))
    actual = mnist_data.file_md5(path)

    with pytest.raises(MNISTDataError) as e:
        load_mnist(tmp_path, valid_size=10, mirrors=OFFLINE)
    message = str(e.value)
    assert str(path) in message
    assert md5s['t10k-labels-idx1-ubyte.gz'] in message and actual in message
    assert 'Delete it' in message


def test_truncated_file_names_the_file_and_both_checksums(tmp_path, monkeypatch):
    md5s = write_mnist(tmp_path)
    use_synthetic_md5s(monkeypatch, md5s)
    path = mnist_data.raw_folder(tmp_path) / 'train-images-idx3-ubyte.gz'
    path.write_bytes(path.read_bytes()[:1000])

    with pytest.raises(MNISTDataError) as e:
        load_mnist(tmp_path, valid_size=10, mirrors=OFFLINE)
    message = str(e.value)
    assert str(path) in message and 'truncated' in message
    assert md5s['train-images-idx3-ubyte.gz'] in message and mnist_data.file_md5(path) in message


def test_missing_files_offline_give_one_message_naming_all_four_and_the_folder(tmp_path):
    with pytest.raises(MNISTDataError) as e:
        load_mnist(tmp_path, mirrors=OFFLINE)
    message = str(e.value)
    for name in FILES:
        assert name in message
    assert str(mnist_data.raw_folder(tmp_path)) in message
    # Nothing half-downloaded is left behind.
    # A lookup that finds nothing leaves no empty folder behind (nor a partial download)
    assert not mnist_data.raw_folder(tmp_path).exists()


def test_only_the_missing_file_is_marked_missing(tmp_path, monkeypatch):
    use_synthetic_md5s(monkeypatch, write_mnist(tmp_path))
    (mnist_data.raw_folder(tmp_path) / 't10k-images-idx3-ubyte.gz').unlink()
    with pytest.raises(MNISTDataError) as e:
        load_mnist(tmp_path, mirrors=OFFLINE)
    lines = [line for line in str(e.value).splitlines() if '(missing)' in line]
    assert len(lines) == 1 and 't10k-images-idx3-ubyte.gz' in lines[0]


def test_missing_files_are_downloaded_from_a_mirror_and_checked(tmp_path, monkeypatch):
    # A local "mirror" serving the synthetic files over HTTP
    mirror_dir = tmp_path / 'mirror'
    use_synthetic_md5s(monkeypatch, write_mnist(mirror_dir))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(mnist_data.raw_folder(mirror_dir)))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mirror = f'http://127.0.0.1:{server.server_address[1]}/'
        # The first mirror is unreachable; the second one works.
        data = load_mnist(tmp_path / 'data', valid_size=10, mirrors=OFFLINE + (mirror,))
    finally:
        server.shutdown()
        server.server_close()
    assert len(data.train_images) == 230
    for name in FILES:
        assert (mnist_data.raw_folder(tmp_path / 'data') / name).read_bytes() == \
               (mnist_data.raw_folder(mirror_dir) / name).read_bytes()


def test_idx_header_that_disagrees_with_the_data_is_rejected(tmp_path):
    path = tmp_path / 'bad.gz'
    data = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))
    path.write_bytes(gzip.compress(data[:-5], mtime=0))
    with pytest.raises(MNISTDataError, match='bad.gz'):
        mnist_data.read_idx(path)


def test_the_published_checksums_are_the_ones_torchvision_uses():
    assert mnist_data.PUBLISHED_MD5 == {
        'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
        'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
        't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
        't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
    }
