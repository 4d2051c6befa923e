"""Data with known generative factors, and random-network tasks over those factors.

Implements the dataset construction of "On the relationship between disentanglement and
multi-task learning" (Section 3.1): observations ``X`` generated from ground-truth factors ``Z``
and ``n_tasks`` regression targets ``h(Z, theta_i)`` given by randomly initialised tanh MLPs.

- :func:`make_factor_tasks` -- the random-network targets for any factors;
- :func:`make_sprites` -- dSprites-like binary images of a square, an ellipse or a heart with
  discrete shape, scale, orientation and x/y position factors, rendered locally (no download);
- :func:`load_dsprites` -- the official ``dsprites_ndarray_*.npz`` if you have it;
- :func:`make_mixed_factors` -- a tabular counterpart: discrete factors pushed through a fixed
  random nonlinear mixing into more observed features (fast to train on).
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from skmtl._random import as_generator as _rng

__all__ = [
    "SPRITE_FACTOR_NAMES",
    "make_factor_tasks",
    "make_sprites",
    "load_dsprites",
    "make_mixed_factors",
]

SPRITE_FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
_SHAPES = ("square", "ellipse", "heart")


def _check_int(value, name, minimum=1):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- random tasks
def _check_factor_subsets(subsets, n_tasks, n_factors):
    """Validated list of index arrays (one per task), or None."""
    if subsets is None:
        return None
    subsets = [np.asarray(s) for s in subsets]
    if len(subsets) != n_tasks:
        raise ValueError(f"factor_subsets has {len(subsets)} entries for {n_tasks} tasks")
    for t, s in enumerate(subsets):
        if s.ndim != 1 or s.size == 0 or s.dtype.kind not in "iu":
            raise ValueError(f"factor_subsets[{t}] must be a non-empty list of factor indices")
        if s.min() < 0 or s.max() >= n_factors or len(set(s.tolist())) != s.size:
            raise ValueError(
                f"factor_subsets[{t}] = {s.tolist()} must hold distinct indices in [0, {n_factors})"
            )
    return subsets


def make_factor_tasks(
    factors,
    n_tasks=10,
    *,
    hidden_layer_sizes=(300, 300, 300, 300),
    weight_std=1.0,
    standardize_factors=True,
    factor_subsets=None,
    random_state=None,
):
    """Regression targets from randomly initialised tanh MLPs of the factors (Section 3.1).

    Each task ``i`` is a network ``h(z, theta_i)`` with ``len(hidden_layer_sizes)`` tanh hidden
    layers and one linear output; every weight and bias is drawn from ``N(0, weight_std^2)``
    (the study: four hidden layers of 300, ``N(0, 1)``). The networks are drawn once from
    ``random_state``, so the same seed gives the same tasks for any rows.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
        Ground-truth factor values.
    n_tasks : int, default=10
    hidden_layer_sizes : tuple of int, default=(300, 300, 300, 300)
    weight_std : float, default=1.0
        Standard deviation of the weights. With ``N(0, 1)`` weights the hidden units are mostly
        saturated and target standard deviations are of the order of ``sqrt(300)``, as in the
        study's loss tables; pass ``weight_std=None`` for ``N(0, 1 / fan_in)`` (smoother tasks).
    standardize_factors : bool, default=True
        Standardise each factor column to zero mean and unit variance (over the given rows)
        before applying the networks, so every factor has comparable influence. Pass False and
        standardise yourself to get identical targets for different row subsets.
    factor_subsets : sequence of sequences of int or None, default=None
        The factor columns each task depends on (the study's Appendix H: a random subset
        per task, or disjoint halves); task ``i``'s network reads only
        ``factors[:, factor_subsets[i]]``. None: every task depends on all factors (the
        networks then are the same as without this option).
    random_state : int, Generator or None, default=None

    Returns
    -------
    Y : ndarray of shape (n_samples, n_tasks), float64
        Column ``i`` is the target of task ``i``.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).uniform(size=(100, 5))
    >>> Y = make_factor_tasks(Z, n_tasks=3, random_state=0)
    >>> Y.shape
    (100, 3)
    >>> bool(np.allclose(Y, make_factor_tasks(Z, n_tasks=3, random_state=0)))
    True
    >>> make_factor_tasks(Z, n_tasks=2, factor_subsets=[[0, 1], [2, 3, 4]]).shape
    (100, 2)
    """
    Z = np.asarray(factors, dtype=np.float64)
    if Z.ndim == 1:
        Z = Z[:, None]
    if Z.ndim != 2 or Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"factors must be a non-empty 2-D array, got shape {Z.shape}")
    if not np.all(np.isfinite(Z)):
        raise ValueError("factors contain NaN or infinite values")
    n_tasks = _check_int(n_tasks, "n_tasks")
    sizes = tuple(int(h) for h in hidden_layer_sizes)
    if any(h < 1 for h in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive, got {hidden_layer_sizes!r}")
    if weight_std is not None and not weight_std > 0:
        raise ValueError(f"weight_std must be positive or None, got {weight_std!r}")
    if standardize_factors:
        sd = Z.std(axis=0)
        Z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    subsets = _check_factor_subsets(factor_subsets, n_tasks, Z.shape[1])
    rng = _rng(random_state)
    Y = np.empty((Z.shape[0], n_tasks))
    for t in range(n_tasks):
        h = Z if subsets is None else Z[:, subsets[t]]
        dims = (h.shape[1],) + sizes + (1,)
        for layer, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
            std = weight_std if weight_std is not None else 1.0 / np.sqrt(fan_in)
            W = rng.normal(0.0, std, size=(fan_in, fan_out))
            b = rng.normal(0.0, std if weight_std is not None else 1.0, size=fan_out)
            h = h @ W + b
            if layer < len(dims) - 2:
                h = np.tanh(h)
        Y[:, t] = h[:, 0]
    return Y


# --------------------------------------------------------------------------- sprites
def _shape_mask(shape, u, v):
    """Inside-test for a unit-size shape in its own (rotated, scaled) coordinates."""
    if shape == 0:  # square
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if shape == 1:  # ellipse, aspect 2:1 as in dSprites
        return (u / 1.0) ** 2 + (v / 0.5) ** 2 <= 1.0
    # heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, scaled to fit in [-1, 1]
    x, y = u * 1.25, -v * 1.25 + 0.15
    return (x**2 + y**2 - 1.0) ** 3 - x**2 * y**3 <= 0.0


def _render(classes, image_size, scales, orientations, positions, supersample=2):
    n = len(classes)
    s = image_size * supersample
    grid = (np.arange(s) + 0.5) / s  # pixel centres in [0, 1]
    gy, gx = np.meshgrid(grid, grid, indexing="ij")
    images = np.zeros((n, image_size, image_size), dtype=np.float32)
    chunk = 512
    for start in range(0, n, chunk):
        c = classes[start : start + chunk]
        m = len(c)
        radius = scales[c[:, 1]][:, None, None]
        theta = orientations[c[:, 2]][:, None, None]
        cx = positions[c[:, 3]][:, None, None]
        cy = positions[c[:, 4]][:, None, None]
        dx = (gx[None] - cx) / radius
        dy = (gy[None] - cy) / radius
        cos, sin = np.cos(theta), np.sin(theta)
        u = cos * dx + sin * dy
        v = -sin * dx + cos * dy
        inside = np.zeros((m, s, s), dtype=bool)
        for shape in range(3):
            rows = c[:, 0] == shape
            if rows.any():
                inside[rows] = _shape_mask(shape, u[rows], v[rows])
        img = inside.reshape(m, image_size, supersample, image_size, supersample).mean((2, 4))
        images[start : start + m] = img
    return images


def make_sprites(
    n_samples=None,
    *,
    image_size=32,
    n_scales=4,
    n_orientations=8,
    n_positions=8,
    max_orientation=np.pi / 2,
    binary=False,
    random_state=None,
):
    """dSprites-like images of simple shapes with known discrete factors (no download).

    Each image shows one white shape on a black ``image_size x image_size`` background. The
    five factors are those of dSprites: shape (square, ellipse, heart), scale
    (``n_scales`` values, radius 10%-20% of the image), orientation (``n_orientations`` values
    in ``[0, max_orientation)``), and x and y position (``n_positions`` values each, keeping the
    shape inside the image). Pixels are anti-aliased by 2x2 supersampling unless ``binary``.

    ``max_orientation`` defaults to ``pi/2`` (dSprites uses ``2 pi``): a square is invariant to a
    quarter turn, so orientations past ``pi/2`` cannot be identified from its image.

    Parameters
    ----------
    n_samples : int or None, default=None
        Number of images with factor classes drawn uniformly at random (with replacement).
        None renders the full grid of all factor combinations once, in lexicographic order
        (``3 * n_scales * n_orientations * n_positions**2`` images, 6,144 by default).
    image_size : int, default=32
    n_scales, n_orientations, n_positions : int, default=4, 8, 8
    max_orientation : float, default=pi/2
    binary : bool, default=False
        Threshold pixels at 0.5 (binary images like dSprites).
    random_state : int, Generator or None, default=None

    Returns
    -------
    images : ndarray of shape (n, image_size, image_size), float32 in [0, 1]
        Flatten with ``images.reshape(len(images), -1)`` for skmtl estimators.
    factor_values : ndarray of shape (n, 5), float64
        shape (1, 2, 3 as in dSprites), scale (relative size in (0, 1]), orientation
        (radians), x and y (centre, fraction of the image width).
    factor_classes : ndarray of shape (n, 5), int64
        Index of each factor's value (columns in :data:`SPRITE_FACTOR_NAMES` order).

    Examples
    --------
    >>> images, values, classes = make_sprites(100, image_size=16, random_state=0)
    >>> images.shape, values.shape, classes.shape
    ((100, 16, 16), (100, 5), (100, 5))
    >>> bool(images.max() == 1.0 and images.min() == 0.0)
    True
    """
    image_size = _check_int(image_size, "image_size", 8)
    n_scales = _check_int(n_scales, "n_scales")
    n_orientations = _check_int(n_orientations, "n_orientations")
    n_positions = _check_int(n_positions, "n_positions")
    sizes = (3, n_scales, n_orientations, n_positions, n_positions)
    if n_samples is None:
        grids = np.meshgrid(*[np.arange(k) for k in sizes], indexing="ij")
        classes = np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)
    else:
        n_samples = _check_int(n_samples, "n_samples")
        rng = _rng(random_state)
        classes = np.stack([rng.integers(0, k, size=n_samples) for k in sizes], axis=1)
        classes = classes.astype(np.int64)
    rel_scales = np.linspace(0.5, 1.0, n_scales) if n_scales > 1 else np.ones(1)
    radius = 0.2 * rel_scales
    orientations = np.arange(n_orientations) * (max_orientation / n_orientations)
    margin = 0.2 * 1.05
    positions = np.linspace(margin, 1 - margin, n_positions) if n_positions > 1 else [0.5]
    positions = np.asarray(positions, dtype=np.float64)
    images = _render(classes, image_size, radius, orientations, positions)
    if binary:
        images = (images >= 0.5).astype(np.float32)
    values = np.column_stack(
        [
            classes[:, 0] + 1.0,
            rel_scales[classes[:, 1]],
            orientations[classes[:, 2]],
            positions[classes[:, 3]],
            positions[classes[:, 4]],
        ]
    )
    return images, values, classes


def load_dsprites(path, *, n_samples=None, drop_color=True, random_state=None):
    """Load the official dSprites archive (``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``).

    The file is not shipped with skmtl (download it yourself from the dSprites repository).

    Parameters
    ----------
    path : str or path-like
        Path to the ``.npz`` with arrays ``imgs`` (n, 64, 64), ``latents_values`` and
        ``latents_classes`` (n, 6).
    n_samples : int or None, default=None
        Return a random subset of this many images (without replacement); None returns all
        737,280.
    drop_color : bool, default=True
        Drop the constant colour factor (column 0), leaving shape, scale, orientation, x, y
        (the metrics reject constant factors).
    random_state : int, Generator or None, default=None

    Returns
    -------
    images : ndarray of shape (n, 64, 64), float32 in {0, 1}
    factor_values : ndarray of shape (n, 5) (or 6 with the colour), float64
    factor_classes : ndarray of shape (n, 5) (or 6), int64

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(f, imgs=np.zeros((4, 64, 64), np.uint8),
    ...          latents_values=np.ones((4, 6)), latents_classes=np.zeros((4, 6), int))
    >>> images, values, classes = load_dsprites(f)
    >>> images.shape, values.shape
    ((4, 64, 64), (4, 5))
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"dSprites archive not found at {path!r}; download "
            "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz from the dSprites repository, or "
            "use skmtl.datasets.factors.make_sprites to render a similar dataset locally"
        )
    with np.load(path, allow_pickle=False, encoding="latin1") as data:
        missing = {"imgs", "latents_values", "latents_classes"} - set(data.files)
        if missing:
            raise ValueError(f"{path!r} is not a dSprites archive: missing {sorted(missing)}")
        n = data["latents_classes"].shape[0]
        if n_samples is not None:
            n_samples = _check_int(n_samples, "n_samples")
            if n_samples > n:
                raise ValueError(f"n_samples={n_samples} exceeds the {n} images in {path!r}")
            idx = np.sort(_rng(random_state).choice(n, size=n_samples, replace=False))
        else:
            idx = slice(None)
        images = np.asarray(data["imgs"][idx], dtype=np.float32)
        values = np.asarray(data["latents_values"][idx], dtype=np.float64)
        classes = np.asarray(data["latents_classes"][idx], dtype=np.int64)
    if drop_color:
        values, classes = values[:, 1:], classes[:, 1:]
    return images, values, classes


# --------------------------------------------------------------------------- tabular
def make_mixed_factors(
    n_samples=5000,
    *,
    n_factors=5,
    n_features=20,
    n_levels=10,
    n_hidden=64,
    noise=0.01,
    random_state=None,
):
    """Tabular data from discrete factors through a fixed random nonlinear mixing.

    Factors ``z`` take ``n_levels`` equally spaced values in ``[-1, 1]`` independently and
    uniformly. Observations are ``x = tanh(z A + a) B + z C + noise``, with Gaussian
    ``A (n_factors, n_hidden)``, ``B (n_hidden, n_features)``, ``C (n_factors, n_features)``
    drawn once from ``random_state`` (so the mixing is fixed by the seed; the rows are drawn
    from the same generator afterwards). The linear part keeps the map injective, so every
    factor can be recovered from ``x``, but no single feature isolates a factor.

    Parameters
    ----------
    n_samples : int, default=5000
    n_factors : int, default=5
    n_features : int, default=20
    n_levels : int, default=10
        Number of discrete values per factor (discrete factors make MIG and the FactorVAE
        score well defined).
    n_hidden : int, default=64
    noise : float, default=0.01
        Standard deviation of the Gaussian observation noise.
    random_state : int, Generator or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    factor_values : ndarray of shape (n_samples, n_factors), float64
    factor_classes : ndarray of shape (n_samples, n_factors), int64

    Examples
    --------
    >>> X, values, classes = make_mixed_factors(200, n_factors=3, n_features=8, random_state=0)
    >>> X.shape, values.shape, int(classes.max())
    ((200, 8), (200, 3), 9)
    """
    n_samples = _check_int(n_samples, "n_samples")
    n_factors = _check_int(n_factors, "n_factors")
    n_features = _check_int(n_features, "n_features")
    n_levels = _check_int(n_levels, "n_levels", 2)
    n_hidden = _check_int(n_hidden, "n_hidden")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = _rng(random_state)
    A = rng.normal(0.0, 1.5, size=(n_factors, n_hidden))
    a = rng.normal(0.0, 0.5, size=n_hidden)
    B = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), size=(n_hidden, n_features))
    C = rng.normal(0.0, 0.5 / np.sqrt(n_factors), size=(n_factors, n_features))
    classes = rng.integers(0, n_levels, size=(n_samples, n_factors)).astype(np.int64)
    values = np.linspace(-1.0, 1.0, n_levels)[classes]
    X = np.tanh(values @ A + a) @ B + values @ C
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X, values, classes
