"""Searches, cross-validation and per-task fits on a Dask cluster (joblib's dask backend).

The cluster's two workers are separate processes, so every estimator and result
travels through pickle, as on a real cluster.
"""

import numpy as np
import pytest
from estimators import multitask_data, tiny_estimators
from joblib import parallel_config
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skmtl import PerTaskClassifier, Tasks, TaskStratifiedKFold

distributed = pytest.importorskip("distributed", reason="needs the 'distributed' extra")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _tasks(name):
    est = tiny_estimators()[name]
    tasks, meta = multitask_data(est, np.random.default_rng(0), rows=45)
    return est, Tasks([X for X, _ in tasks], [y for _, y in tasks], metadata=meta)


def _fit(est, tasks):
    return est.fit(tasks)


def _predict(est, Xs):
    return est.predict(Xs)


def test_workers_import_this_checkout(client):
    import skmtl

    assert set(client.run(lambda: __import__("skmtl").__file__).values()) == {skmtl.__file__}


def test_grid_search_on_dask_matches_local(client):
    est, T = _tasks("SharedVariableEmbeddingClassifier")
    cv = TaskStratifiedKFold(2, random_state=0)
    grid = {"lr": [3e-3, 3e-2], "max_epochs": [2, 10]}
    local = GridSearchCV(est, grid, cv=cv, n_jobs=1).fit(T)
    with parallel_config(backend="dask"):
        remote = GridSearchCV(est, grid, cv=cv, n_jobs=-1).fit(T)
    workers = {w for w in client.run(lambda dask_worker: dask_worker.address)}
    assert len(workers) == 2
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=1e-12
    )
    # the grid's points differ in score, so a shuffled result would show
    assert np.ptp(local.cv_results_["mean_test_score"]) > 0.05
    assert remote.best_params_ == local.best_params_
    for a, b in zip(remote.predict(T), local.predict(T)):
        np.testing.assert_array_equal(a, b)


def test_cross_val_score_on_dask_matches_local(client):
    est, T = _tasks("HardSharingRegressor")
    cv = KFold(3, shuffle=True, random_state=0)
    local = cross_val_score(est, T, T.y, cv=cv)
    with parallel_config(backend="dask"):
        remote = cross_val_score(est, T, T.y, cv=cv, n_jobs=-1)
    np.testing.assert_allclose(remote, local, rtol=0, atol=1e-9)
    assert len(set(np.round(local, 6))) == 3  # folds differ: an order mix-up would show


def test_per_task_fits_on_dask(client):
    rng = np.random.default_rng(1)
    tasks = []
    for t in range(6):
        X = rng.normal(size=(50, 3))
        tasks.append((X, (X[:, t % 3] > 0).astype(int)))
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    serial = PerTaskClassifier(forest, n_jobs=1).fit(tasks)
    with parallel_config(backend="dask"):
        remote = PerTaskClassifier(forest, n_jobs=-1).fit(tasks)
        remote_proba = remote.predict_proba([X for X, _ in tasks])
    for a, b in zip(serial.predict_proba([X for X, _ in tasks]), remote_proba):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["SharedVariableEmbeddingClassifier", "PerTaskRegressor"])
def test_fitted_estimators_round_trip_through_workers(client, name):
    est, T = _tasks(name)
    local = est.fit(T)
    fitted_remotely = client.submit(_fit, est, T, pure=False).result()
    predicted_remotely = client.submit(_predict, local, T.Xs, pure=False).result()
    for a, b, c in zip(local.predict(T.Xs), fitted_remotely.predict(T.Xs), predicted_remotely):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
