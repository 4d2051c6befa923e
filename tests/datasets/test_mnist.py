import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from skmtl.datasets.mnist import (
    load_mnist,
    make_grouped_mnist_tasks,
    make_multimnist,
    read_idx,
)


def _write_idx(path, arr, compress=True):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + arr.tobytes())


def _fake_mnist(root, parts=("t10k",), n=6, compress=True):
    folder = Path(root) / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if compress else ""
    out = {}
    for k, part in enumerate(parts):
        imgs = np.full((n, 28, 28), 10 * (k + 1), dtype=np.uint8)
        labels = (np.arange(n) + k) % 10
        _write_idx(folder / f"{part}-images-idx3-ubyte{ext}", imgs, compress)
        _write_idx(folder / f"{part}-labels-idx1-ubyte{ext}", labels, compress)
        out[part] = labels
    return out


def test_read_idx_roundtrip(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", arr)
    _write_idx(tmp_path / "a", arr, compress=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), arr)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="IDX"):
        read_idx(tmp_path / "bad")


def test_load_mnist_test_only_and_full(tmp_path):
    labels = _fake_mnist(tmp_path / "a", parts=("t10k",))
    X, y = load_mnist(tmp_path / "a")
    assert X.shape == (6, 784) and X.dtype == np.float32
    np.testing.assert_allclose(X.max(), 10 / 255)
    np.testing.assert_array_equal(y, labels["t10k"])
    # a user with the full set gets train then test
    labels = _fake_mnist(tmp_path / "b", parts=("train", "t10k"), compress=False)
    X, y = load_mnist(tmp_path / "b", return_images=True)
    assert X.shape == (12, 28, 28)
    np.testing.assert_array_equal(y, np.concatenate([labels["train"], labels["t10k"]]))
    assert load_mnist(tmp_path / "b", subset="train")[0].shape == (6, 784)


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="SKMTL_DATA_HOME"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="subset"):
        load_mnist(tmp_path, subset="val")


def test_load_mnist_shared_cache():
    home = os.environ.get("SKMTL_DATA_HOME")
    if not home or not (Path(home) / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("shared MNIST cache not available")
    X, y = load_mnist(home)
    assert X.shape == (10000, 784)
    np.testing.assert_array_equal(y[:5], [7, 2, 1, 0, 4])  # the published first test labels
    assert np.bincount(y).min() > 800
    assert 0.0 <= X.min() and X.max() == 1.0


def test_grouped_mnist_labels():
    y = np.arange(10)
    X = np.zeros((10, 784), dtype=np.float32)
    groups = [[2, 9, 4], [2, 9, 0]]
    Xo, Y = make_grouped_mnist_tasks(groups, X, y)
    assert Y.shape == (10, 2)
    np.testing.assert_array_equal(Y[:, 0], [-1, -1, 2, -1, 4, -1, -1, -1, -1, 9])
    np.testing.assert_array_equal(Y[:, 1], [0, -1, 2, -1, -1, -1, -1, -1, -1, 9])
    tasks = make_grouped_mnist_tasks(groups, X, y, as_tasks=True, none_label=10)
    assert len(tasks) == 2 and tasks[0][0] is tasks[1][0]
    assert set(tasks[0][1]) == {2, 4, 9, 10}
    with pytest.raises(ValueError, match="group 1"):
        make_grouped_mnist_tasks([[1, 2], [3, 3]], X, y)
    with pytest.raises(ValueError, match="784"):
        make_grouped_mnist_tasks(groups, np.zeros((10, 5)), y)


def test_multimnist_shifts_and_labels():
    # each source image is a single bright pixel at (14, 14); its position after the shift
    # tells where each digit went
    n = 20
    X = np.zeros((n, 28, 28), dtype=np.float32)
    X[:, 14, 14] = 1.0
    y = np.arange(n) % 10
    Xo, Y = make_multimnist(50, X, y, shift=(1, 4), random_state=0)
    assert Xo.shape == (50, 784)
    assert np.all(Y[:, 0] != Y[:, 1])
    for img in Xo.reshape(-1, 28, 28):
        rows, cols = np.nonzero(img)
        assert len(rows) == 2
        # first digit moved up-left by 1..4, second down-right by 1..4
        assert set(rows) <= set(range(10, 14)) | set(range(15, 19))
        assert rows.min() < 14 < rows.max() and cols.min() < 14 < cols.max()
    Xb, Yb = make_multimnist(50, X, y, shift=(1, 4), random_state=0)
    np.testing.assert_array_equal(Xo, Xb)
    np.testing.assert_array_equal(Y, Yb)
    tasks = make_multimnist(5, X, y, random_state=1, as_tasks=True)
    assert len(tasks) == 2 and tasks[0][0].shape == (5, 784)
    with pytest.raises(ValueError, match="two classes"):
        make_multimnist(5, X[:1], y[:1])
