"""``n_jobs`` on the per-task baselines: the same fitted models whatever the parallelism."""

import pickle

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Ridge

from skmtl import PerTaskClassifier, PerTaskRegressor


def _classification_tasks(rng, n_tasks=5):
    tasks = []
    for t in range(n_tasks):
        X = rng.normal(size=(40 + 7 * t, 2 + t % 3))
        y = np.where(X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0, f"a{t}", f"b{t}")
        tasks.append((X, y))
    return tasks


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_classifier_n_jobs_gives_identical_predictions(rng, n_jobs):
    tasks = _classification_tasks(rng)
    forest = RandomForestClassifier(n_estimators=8, random_state=0)
    serial = PerTaskClassifier(forest, n_jobs=1).fit(tasks)
    parallel = PerTaskClassifier(forest, n_jobs=n_jobs).fit(tasks)
    Xs = [X for X, _ in tasks]
    for a, b in zip(serial.predict_proba(Xs), parallel.predict_proba(Xs)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(serial.predict(Xs), parallel.predict(Xs)):
        np.testing.assert_array_equal(a, b)
    assert [list(c) for c in parallel.task_classes_] == [[f"a{t}", f"b{t}"] for t in range(5)]
    # the forests really differ per task: a mix-up of estimators would show here
    assert serial.score(tasks) == parallel.score(tasks) > 0.9


def test_regressor_n_jobs_and_pickle_round_trip(rng):
    X = rng.normal(size=(60, 3))
    tasks = [(X, X @ [1.0, -2.0, 0.5]), (X[:30], -X[:30, 0])]
    serial = PerTaskRegressor(Ridge(alpha=0.1)).fit(tasks)
    parallel = PerTaskRegressor(Ridge(alpha=0.1), n_jobs=2).fit(tasks)
    twin = pickle.loads(pickle.dumps(parallel))
    for a, b, c in zip(serial.predict([X, X]), parallel.predict([X, X]), twin.predict([X, X])):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    np.testing.assert_allclose(parallel.estimators_[0].coef_, [1.0, -2.0, 0.5], atol=0.01)
    np.testing.assert_allclose(parallel.estimators_[1].coef_, [-1.0, 0, 0], atol=0.01)


def test_errors_name_the_task_in_a_worker(rng):
    X = rng.normal(size=(30, 3))
    lda = LinearDiscriminantAnalysis(n_components=2)  # task 1 has 2 classes: 1 component at most
    tasks = [(X, np.arange(30) % 3), (X, np.arange(30) % 2)]
    with pytest.raises(ValueError, match="^task 1: n_components"):
        PerTaskClassifier(lda, n_jobs=2).fit(tasks)
    with pytest.raises(Exception, match="n_jobs"):
        PerTaskRegressor(n_jobs="two").fit([(X, X[:, 0])])
