"""Tests of the factor-data generators (skmtl.datasets.factors)."""

import numpy as np
import pytest

from skmtl.datasets.factors import (
    SPRITE_FACTOR_NAMES,
    load_dsprites,
    make_factor_tasks,
    make_mixed_factors,
    make_sprites,
)


def test_factor_tasks_seeded_nonlinear():
    rng = np.random.default_rng(0)
    Z = rng.uniform(size=(500, 4))
    Y = make_factor_tasks(Z, n_tasks=5, random_state=1)
    assert Y.shape == (500, 5)
    np.testing.assert_allclose(Y, make_factor_tasks(Z, n_tasks=5, random_state=1))
    assert not np.allclose(Y, make_factor_tasks(Z, n_tasks=5, random_state=2))
    # N(0, 1) weights on 300-unit layers: targets of order sqrt(300), as in the study
    assert 5 < Y.std(axis=0).mean() < 40
    # tasks are different functions and not linear in the factors
    assert np.abs(np.corrcoef(Y.T)[np.triu_indices(5, 1)]).max() < 0.95
    Zc = np.column_stack([Z, np.ones(len(Z))])
    resid = Y - Zc @ np.linalg.lstsq(Zc, Y, rcond=None)[0]
    assert (resid.var(axis=0) / Y.var(axis=0)).min() > 0.1


def test_factor_tasks_options_and_errors():
    Z = np.random.default_rng(0).normal(size=(50, 3))
    Y = make_factor_tasks(Z, n_tasks=2, hidden_layer_sizes=(8,), weight_std=None, random_state=0)
    assert Y.shape == (50, 2) and Y.std() < 5
    assert make_factor_tasks(Z[:, 0], n_tasks=1, random_state=0).shape == (50, 1)
    with pytest.raises(ValueError, match="n_tasks"):
        make_factor_tasks(Z, n_tasks=0)
    with pytest.raises(ValueError, match="NaN"):
        make_factor_tasks(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="weight_std"):
        make_factor_tasks(Z, weight_std=-1.0)


def test_sprites_grid_and_factors():
    images, values, classes = make_sprites(
        image_size=16, n_scales=2, n_orientations=2, n_positions=3
    )
    assert images.shape == (3 * 2 * 2 * 3 * 3, 16, 16)
    assert values.shape == classes.shape == (len(images), len(SPRITE_FACTOR_NAMES))
    assert images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    # every combination exactly once
    assert len({tuple(c) for c in classes}) == len(images)
    assert set(values[:, 0]) == {1.0, 2.0, 3.0}
    # bigger scale -> more ink; x position moves the centre of mass along the columns
    ink = images.sum(axis=(1, 2))
    assert ink[classes[:, 1] == 1].mean() > 1.5 * ink[classes[:, 1] == 0].mean()
    cols = (images.sum(axis=1) * np.arange(16)).sum(1) / ink
    assert cols[classes[:, 3] == 2].mean() > cols[classes[:, 3] == 0].mean() + 3
    # shapes differ at the same other factors
    a = images[(classes == [0, 1, 0, 1, 1]).all(1)][0]
    b = images[(classes == [2, 1, 0, 1, 1]).all(1)][0]
    assert np.abs(a - b).sum() > 5


def test_sprites_random_seeded_binary():
    a = make_sprites(50, image_size=16, binary=True, random_state=0)
    b = make_sprites(50, image_size=16, binary=True, random_state=0)
    np.testing.assert_array_equal(a[0], b[0])
    assert set(np.unique(a[0])) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="image_size"):
        make_sprites(5, image_size=4)


def test_load_dsprites(tmp_path):
    n = 10
    classes = np.tile(np.arange(n)[:, None], (1, 6))
    classes[:, 0] = 0
    f = tmp_path / "dsprites.npz"
    np.savez(
        f,
        imgs=(np.arange(n)[:, None, None] * np.ones((1, 64, 64))).astype(np.uint8) % 2,
        latents_values=classes * 0.5,
        latents_classes=classes,
    )
    images, values, cls = load_dsprites(f)
    assert images.shape == (n, 64, 64) and images.dtype == np.float32
    assert values.shape == cls.shape == (n, 5)
    images, values, cls = load_dsprites(f, n_samples=4, drop_color=False, random_state=0)
    assert images.shape == (4, 64, 64) and cls.shape == (4, 6)
    assert np.all(images[:, 0, 0] == cls[:, 1] % 2)  # rows stay aligned
    with pytest.raises(FileNotFoundError, match="make_sprites"):
        load_dsprites(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a dSprites archive"):
        load_dsprites(tmp_path / "other.npz")


def test_mixed_factors_recoverable_but_mixed():
    X, values, classes = make_mixed_factors(2000, n_factors=3, n_features=12, random_state=0)
    assert X.shape == (2000, 12) and values.shape == classes.shape == (2000, 3)
    np.testing.assert_allclose(values, np.linspace(-1, 1, 10)[classes])
    X2, _, _ = make_mixed_factors(2000, n_factors=3, n_features=12, random_state=0)
    np.testing.assert_array_equal(X, X2)
    # no single feature isolates a factor ...
    corr = np.abs(np.corrcoef(np.column_stack([values, X]).T)[:3, 3:])
    assert corr.max() < 0.95
    # ... but the factors are recoverable from all features (nonlinear regression)
    from sklearn.neighbors import KNeighborsRegressor

    knn = KNeighborsRegressor(5).fit(X[:1500], values[:1500])
    assert knn.score(X[1500:], values[1500:]) > 0.8
    with pytest.raises(ValueError, match="n_levels"):
        make_mixed_factors(10, n_levels=1)


def test_factor_tasks_on_factor_subsets():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 4))
    kw = dict(n_tasks=2, hidden_layer_sizes=(8,), standardize_factors=False, random_state=0)
    subsets = [[0, 1], [3]]
    Y = make_factor_tasks(Z, factor_subsets=subsets, **kw)
    Z2 = Z.copy()
    Z2[:, 2:] = rng.normal(size=(40, 2))  # task 0 does not read factors 2 and 3
    Y2 = make_factor_tasks(Z2, factor_subsets=subsets, **kw)
    np.testing.assert_array_equal(Y[:, 0], Y2[:, 0])
    assert not np.allclose(Y[:, 1], Y2[:, 1])  # task 1 reads factor 3
    Z3 = Z.copy()
    Z3[:, 0] += 1.0
    assert not np.allclose(make_factor_tasks(Z3, factor_subsets=subsets, **kw)[:, 0], Y[:, 0])
    # None and "every task on all factors" are the same tasks
    np.testing.assert_array_equal(
        make_factor_tasks(Z, **kw), make_factor_tasks(Z, factor_subsets=[range(4)] * 2, **kw)
    )
    for bad, match in (
        ([[0]], "1 entries for 2 tasks"),
        ([[0], []], r"factor_subsets\[1\] must be a non-empty"),
        ([[0], [4]], r"factor_subsets\[1\] = \[4\] must hold distinct indices in \[0, 4\)"),
        ([[0, 0], [1]], r"factor_subsets\[0\]"),
    ):
        with pytest.raises(ValueError, match=match):
            make_factor_tasks(Z, factor_subsets=bad, **kw)
