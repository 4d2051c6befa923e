"""Tests of CrossStitchRegressor and SluiceRegressor (skmtl.baselines.cross_stitch)."""

import numpy as np
import pytest
from sklearn.base import clone

from skmtl.baselines import CrossStitchRegressor, SluiceRegressor
from skmtl.datasets.synthetic import make_cubic_tasks, make_robot_arm_tasks

FAST = dict(lr=1e-2, max_epochs=60, n_iter_no_change=30, random_state=0)


def _rmse(pred, tasks):
    return float(np.mean([np.sqrt(np.mean((p - y) ** 2)) for p, (_, y) in zip(pred, tasks)]))


@pytest.fixture(scope="module")
def cubic():
    tasks, meta = make_cubic_tasks(n_tasks=6, n_samples=60, noise=0, random_state=0)
    return [(X[:45], y[:45]) for X, y in tasks], [(X[45:], y[45:]) for X, y in tasks], meta


@pytest.mark.parametrize("cls", [CrossStitchRegressor, SluiceRegressor])
def test_learns_a_cubic_family(cls, cubic):
    train, test, meta = cubic
    est = cls(**FAST).fit(train)
    rmse = _rmse(est.predict([X for X, _ in test]), test)
    spread = float(np.mean([np.std(y) for _, y in test]))
    # 60 epochs: RMSE 0.021 (cross-stitch) and 0.030 (sluice), against a spread of 0.5
    assert rmse < 0.06 and spread > 0.3  # the tasks' functions, not their mean
    assert est.score(test) > 0.95
    for m in est.stitch_matrices_:
        np.testing.assert_allclose(m.sum(1), 1.0, rtol=1e-5)


def test_metadata_is_appended_to_the_inputs(cubic):
    train, test, meta = cubic
    est = CrossStitchRegressor(hidden_layer_sizes=(8,), **dict(FAST, max_epochs=2))
    est.fit(train, metadata=meta)
    assert est.module_.metadata.shape == (6, 4)
    assert est.module_.weights[0].shape == (6, 1 + 4, 8)
    assert [p.shape for p in est.predict([X for X, _ in test])] == [(15,)] * 6
    plain = clone(est).fit(train)
    assert plain.module_.metadata is None and plain.module_.weights[0].shape == (6, 1, 8)


def test_sluice_structure_and_multi_output():
    tasks, meta = make_robot_arm_tasks(n_tasks=3, n_samples=20, random_state=0)
    est = SluiceRegressor(hidden_layer_sizes=(8, 8), **dict(FAST, max_epochs=2))
    est.fit(tasks, metadata=meta)
    assert [m.shape for m in est.stitch_matrices_] == [(6, 6), (6, 6)]
    assert est.module_.beta_logits is not None and est.module_.orthogonal_penalty == 0.01
    assert [p.shape for p in est.predict([X for X, _ in tasks])] == [(20, 3)] * 3


def test_bad_parameters_raise(cubic):
    train, _, _ = cubic
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        CrossStitchRegressor(hidden_layer_sizes=(), max_epochs=1).fit(train)
    with pytest.raises(ValueError, match="one even width"):
        SluiceRegressor(hidden_layer_sizes=(8, 6), max_epochs=1).fit(train)
    with pytest.raises(ValueError, match="alpha_init"):
        CrossStitchRegressor(alpha_init="random", max_epochs=1).fit(train)
