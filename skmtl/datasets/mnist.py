"""MNIST reader (IDX files) and the MNIST multi-task generators of the hierarchical IB paper.

* :func:`load_mnist` reads the original IDX files from ``<data_home>/mnist/``.
* :func:`make_grouped_mnist_tasks` builds Grouped-MNIST (paper Section V-B): one task per digit
  group, the label is the digit when it belongs to the group and ``none_label`` otherwise.
* :func:`make_multimnist` builds MultiMNIST: two digits of different classes overlaid with
  random shifts, one task per digit position.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from skmtl.datasets._home import get_data_home

__all__ = ["load_mnist", "make_grouped_mnist_tasks", "make_multimnist", "read_idx"]

_PARTS = {"train": "train", "test": "t10k"}


def read_idx(path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a numpy array.

    Parameters
    ----------
    path : str or Path
        File in IDX format: two zero bytes, a type code, the number of dimensions, the
        big-endian int32 sizes, then the data.

    Returns
    -------
    ndarray
        Array of the stored dtype and shape (e.g. uint8 of shape (n, 28, 28) for images).

    Examples
    --------
    >>> import gzip, tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte.gz")
    >>> with gzip.open(p, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {8: ">u1", 9: ">i1", 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}
    code, ndim = data[2], data[3]
    if code not in dtypes:
        raise ValueError(f"{path}: unknown IDX type code {code:#x}")
    shape = tuple(int(s) for s in np.frombuffer(data, ">i4", count=ndim, offset=4))
    arr = np.frombuffer(data, dtypes[code], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {int(np.prod(shape))} values, found {arr.size}")
    return arr.reshape(shape).astype(np.dtype(dtypes[code]).newbyteorder("="))


def _find(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem, stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    return None


def load_mnist(data_home=None, *, subset="all", return_images=False):
    """Load MNIST from the IDX files in ``<data_home>/mnist/``.

    Reads ``train-images-idx3-ubyte[.gz]`` / ``train-labels-idx1-ubyte[.gz]`` (60,000 images) and
    ``t10k-images-idx3-ubyte[.gz]`` / ``t10k-labels-idx1-ubyte[.gz]`` (10,000 images), whichever
    are present. The project's shared cache holds only the 10,000 test images; a user with the
    full set gets all 70,000 (training images first).

    Parameters
    ----------
    data_home : str or Path, optional
        Data folder; default :func:`skmtl.datasets.get_data_home` (``SKMTL_DATA_HOME``).
    subset : {"all", "train", "test"}, default="all"
        Which files to read; "all" concatenates those that exist.
    return_images : bool, default=False
        If True, X has shape (n, 28, 28); otherwise (n, 784).

    Returns
    -------
    X : ndarray of float32, shape (n, 784) or (n, 28, 28)
        Pixel intensities scaled to [0, 1].
    y : ndarray of int64, shape (n,)
        Digit labels 0-9.

    Raises
    ------
    FileNotFoundError
        If none of the requested files exists.

    Examples
    --------
    >>> X, y = load_mnist()  # doctest: +SKIP
    >>> X.shape, y[:5]  # doctest: +SKIP
    ((10000, 784), array([7, 2, 1, 0, 4]))
    """
    if subset not in ("all", "train", "test"):
        raise ValueError(f"subset must be 'all', 'train' or 'test', got {subset!r}")
    folder = get_data_home(data_home) / "mnist"
    parts = ["train", "test"] if subset == "all" else [subset]
    Xs, ys = [], []
    for part in parts:
        img = _find(folder, f"{_PARTS[part]}-images-idx3-ubyte")
        lab = _find(folder, f"{_PARTS[part]}-labels-idx1-ubyte")
        if img is None or lab is None:
            continue
        X, y = read_idx(img), read_idx(lab)
        if X.ndim != 3 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise ValueError(f"{folder}: {part} images {X.shape} and labels {y.shape} mismatch")
        Xs.append(X)
        ys.append(y)
    if not Xs:
        wanted = ", ".join(f"{_PARTS[p]}-images-idx3-ubyte.gz" for p in parts)
        raise FileNotFoundError(
            f"no MNIST IDX files ({wanted} and the matching labels) found in {folder}; "
            "set data_home= or the SKMTL_DATA_HOME environment variable"
        )
    X = np.concatenate(Xs).astype(np.float32) / 255.0
    y = np.concatenate(ys).astype(np.int64)
    if not return_images:
        X = X.reshape(len(X), -1)
    return X, y


def _as_mnist(X, y, data_home):
    if X is None and y is None:
        X, y = load_mnist(data_home)
    elif X is None or y is None:
        raise ValueError("pass both X and y, or neither to load MNIST")
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim == 3:
        X = X.reshape(len(X), -1)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"X must have 784 columns (28x28 images), got shape {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},), got {y.shape}")
    return X, y.astype(np.int64)


def make_grouped_mnist_tasks(
    groups: Sequence[Sequence[int]],
    X=None,
    y=None,
    *,
    data_home=None,
    none_label: int = -1,
    as_tasks: bool = False,
):
    """Grouped-MNIST: one classification task per digit group (paper Section V-B).

    Task ``j`` asks "which digit of ``groups[j]`` is this image, or none of them?". Every task
    uses every image (the tasks share their rows); the label is the digit itself when it belongs
    to the group and ``none_label`` otherwise, so task ``j`` has ``len(groups[j]) + 1`` classes.

    Parameters
    ----------
    groups : sequence of sequence of int
        Digit groups, e.g. ``[[2, 9, 4], [2, 9, 0], [8, 7, 3], [8, 7, 5]]``.
    X, y : array-like, optional
        Images (n, 784) or (n, 28, 28) and digit labels; default :func:`load_mnist`.
    data_home : str or Path, optional
        Passed to :func:`load_mnist` when X and y are not given.
    none_label : int, default=-1
        Label of images whose digit is not in the group.
    as_tasks : bool, default=False
        If True return a list ``[(X, y_0), (X, y_1), ...]`` ready for ``fit``.

    Returns
    -------
    X : ndarray of float32, shape (n, 784)
    Y : ndarray of int64, shape (n, n_groups)
        Column ``j`` is the label of task ``j``. (Or the list of pairs if ``as_tasks``.)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((4, 784), dtype=np.float32)
    >>> y = np.array([1, 2, 3, 4])
    >>> _, Y = make_grouped_mnist_tasks([[1, 2], [2, 3]], X, y)
    >>> Y.T
    array([[ 1,  2, -1, -1],
           [-1,  2,  3, -1]])
    """
    X, y = _as_mnist(X, y, data_home)
    groups = [list(map(int, g)) for g in groups]
    if not groups:
        raise ValueError("groups must contain at least one digit group")
    for j, g in enumerate(groups):
        if not g or len(set(g)) != len(g) or any(d < 0 or d > 9 for d in g):
            raise ValueError(f"group {j} must list distinct digits 0-9, got {g}")
        if none_label in g:
            raise ValueError(f"none_label={none_label} collides with a digit of group {j}")
    Y = np.stack([np.where(np.isin(y, g), y, none_label) for g in groups], axis=1)
    Y = Y.astype(np.int64)
    if as_tasks:
        return [(X, Y[:, j]) for j in range(len(groups))]
    return X, Y


def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(img)
    h, w = img.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = img[ys, xs]
    return out


def make_multimnist(
    n_samples: int | None = None,
    X=None,
    y=None,
    *,
    data_home=None,
    shift: tuple[int, int] = (2, 4),
    random_state=None,
    as_tasks: bool = False,
):
    """MultiMNIST: two overlaid digits of different classes, randomly shifted; two tasks.

    Each sample overlays (pixel-wise maximum) two MNIST images with different labels on a 28x28
    canvas. The first digit is shifted up and left, the second down and right, each by a random
    number of pixels in ``[shift[0], shift[1]]`` per axis, so "first" and "second" digit are
    identifiable from the image (MNIST digits sit in a 20x20 box with a 4-pixel margin, so
    shifts up to 4 lose nothing). Task 0 is the first digit, task 1 the second.

    Parameters
    ----------
    n_samples : int, optional
        Number of composite images; default ``len(X)``. Every image is used as the first digit
        once per pass (cycled), the second digit is drawn at random among the other classes.
    X, y : array-like, optional
        Source images (n, 784) or (n, 28, 28) and labels; default :func:`load_mnist`. Build the
        train and test sets from disjoint source images to avoid leakage.
    data_home : str or Path, optional
        Passed to :func:`load_mnist` when X and y are not given.
    shift : (int, int), default=(2, 4)
        Inclusive range of the per-axis shift magnitude.
    random_state : int, RandomState or None
        Seed of the pairing and shifts.
    as_tasks : bool, default=False
        If True return ``[(X, Y[:, 0]), (X, Y[:, 1])]``.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, 784)
    Y : ndarray of int64, shape (n_samples, 2)
        Labels of the first and second digit (always different).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X0 = rng.random((20, 784)).astype(np.float32)
    >>> y0 = np.arange(20) % 10
    >>> X, Y = make_multimnist(8, X0, y0, random_state=0)
    >>> X.shape, Y.shape, bool((Y[:, 0] != Y[:, 1]).all())
    ((8, 784), (8, 2), True)
    """
    X, y = _as_mnist(X, y, data_home)
    rng = check_random_state(random_state)
    n = len(X) if n_samples is None else int(n_samples)
    if n < 1:
        raise ValueError(f"n_samples must be >= 1, got {n}")
    lo, hi = int(shift[0]), int(shift[1])
    if not 0 <= lo <= hi <= 14:
        raise ValueError(f"shift must satisfy 0 <= shift[0] <= shift[1] <= 14, got {shift}")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError("MultiMNIST needs images of at least two classes")
    by_class = {c: np.flatnonzero(y != c) for c in classes}
    first = np.concatenate([rng.permutation(len(X)) for _ in range(-(-n // len(X)))])[:n]
    second = np.empty(n, dtype=np.int64)
    for c in classes:
        rows = np.flatnonzero(y[first] == c)
        second[rows] = rng.choice(by_class[c], size=len(rows))
    s1 = rng.randint(lo, hi + 1, size=(n, 2))
    s2 = rng.randint(lo, hi + 1, size=(n, 2))
    imgs = X.reshape(-1, 28, 28)
    out = np.empty((n, 28, 28), dtype=np.float32)
    for i in range(n):
        a = _shift(imgs[first[i]], -s1[i, 0], -s1[i, 1])
        b = _shift(imgs[second[i]], s2[i, 0], s2[i, 1])
        np.maximum(a, b, out=out[i])
    Xo = out.reshape(n, 784)
    Y = np.stack([y[first], y[second]], axis=1).astype(np.int64)
    if as_tasks:
        return [(Xo, Y[:, 0]), (Xo, Y[:, 1])]
    return Xo, Y
