"""Tests of the pooled single-network baselines (skmtl.baselines.pooled)."""

import numpy as np
import pytest

from skmtl.baselines.pooled import SingleNetworkRegressor
from skmtl.datasets.synthetic import make_cubic_tasks

FAST = dict(lr=1e-2, max_epochs=60, n_iter_no_change=20, random_state=0)


@pytest.fixture(scope="module")
def shifted():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 1))
    tasks = [(X, np.sin(2 * X[:, 0]) + off) for off in (-1.0, 0.0, 1.0)]
    meta = np.array([[-1.0], [0.0], [1.0]])
    return X, tasks, meta


def test_naive_ignores_the_task(shifted):
    X, tasks, meta = shifted
    est = SingleNetworkRegressor(max_epochs=5, random_state=0).fit(tasks)
    preds = est.predict([X, X, X])
    np.testing.assert_allclose(preds[0], preds[1])
    np.testing.assert_allclose(preds[0], est.predict_new_task(X), rtol=1e-6)
    # pooled scaling: one mean for every task's targets
    assert np.allclose(est.target_mean_[0], est.target_mean_[2])


def test_onehot_and_metadata_tell_tasks_apart(shifted):
    X, tasks, meta = shifted
    naive = SingleNetworkRegressor(**FAST).fit(tasks)
    onehot = SingleNetworkRegressor(task_encoding="onehot", **FAST).fit(tasks)
    with_meta = SingleNetworkRegressor(task_encoding="metadata", **FAST).fit(tasks, metadata=meta)
    assert naive.score(tasks) < 0.3
    assert onehot.score(tasks) > 0.9 and with_meta.score(tasks) > 0.9
    # zero-shot from metadata between two seen tasks
    mid = with_meta.predict_new_task(X, [0.5])
    assert np.all(mid > with_meta.predict([X, X, X])[1] - 0.2)
    with pytest.raises(ValueError, match="one-hot"):
        onehot.predict_new_task(X)


def test_metadata_encoding_needs_metadata_and_warns_when_unused(shifted):
    X, tasks, meta = shifted
    with pytest.raises(ValueError, match="metadata"):
        SingleNetworkRegressor(task_encoding="metadata", max_epochs=2).fit(tasks)
    with pytest.warns(UserWarning, match="does not use task metadata"):
        SingleNetworkRegressor(task_encoding="onehot", max_epochs=2).fit(tasks, metadata=meta)
    with pytest.raises(ValueError, match="task_encoding"):
        SingleNetworkRegressor(task_encoding="bad").fit(tasks)


def test_same_api_as_the_hypernetwork_baselines():
    tasks, meta = make_cubic_tasks(n_tasks=4, n_samples=12, random_state=0)
    from skmtl.hard_sharing import HardSharingRegressor

    for est in (
        SingleNetworkRegressor(task_encoding="metadata", max_epochs=3, random_state=0),
        HardSharingRegressor(
            hidden_layer_sizes=(32, 32),
            latent_dim=32,
            head_hidden_sizes=(),
            max_epochs=3,
            random_state=0,
        ),
    ):
        est.fit(tasks, metadata=meta if est.__class__ is SingleNetworkRegressor else None)
        preds = est.predict([X for X, _ in tasks])
        assert [p.shape for p in preds] == [(12,)] * 4
        assert np.isfinite(est.score(tasks))


def test_pooled_scaling_needs_one_feature_space():
    tasks = [
        (np.ones((5, 1)) * np.arange(5)[:, None], np.arange(5.0)),
        (np.ones((5, 2)) * np.arange(5)[:, None], np.arange(5.0)),
    ]
    with pytest.raises(ValueError, match="scaling='task'"):
        SingleNetworkRegressor(max_epochs=2).fit(tasks)
    SingleNetworkRegressor(scaling="task", max_epochs=2).fit(tasks)
