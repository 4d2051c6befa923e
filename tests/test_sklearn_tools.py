"""Multi-task forms in scikit-learn's tools: clone, Pipeline, CV and searches (n_jobs=2)."""

import numpy as np
import pytest
from estimators import multitask_data, tiny_estimators
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from skmtl import Tasks, TaskStandardScaler, TaskStratifiedKFold

NAMES = list(tiny_estimators())


def _tasks(name, rng):
    est = tiny_estimators()[name]
    tasks, meta = multitask_data(est, rng, rows=45)
    return est, Tasks([X for X, _ in tasks], [y for _, y in tasks], metadata=meta)


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_params(name):
    est = tiny_estimators()[name]
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_cross_validate(name, rng):
    est, T = _tasks(name, rng)
    pipe = Pipeline([("scale", TaskStandardScaler()), ("model", est)])
    res = cross_validate(pipe, T, T.y, cv=TaskStratifiedKFold(3, random_state=0))
    assert res["test_score"].shape == (3,) and np.all(np.isfinite(res["test_score"]))
    scores = cross_val_score(pipe, T, T.y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,)
    pipe.fit(T)
    preds = pipe.predict(T)
    assert [len(p) for p in preds] == T.sizes.tolist()


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("PerTask")])
def test_searches_in_parallel(name, rng):
    est, T = _tasks(name, rng)
    cv = TaskStratifiedKFold(2, random_state=0)
    grid = GridSearchCV(est, {"lr": [3e-3, 1e-2]}, cv=cv, n_jobs=2).fit(T)
    assert grid.best_params_["lr"] in (3e-3, 1e-2) and np.isfinite(grid.best_score_)
    rand = RandomizedSearchCV(
        est, {"lr": loguniform(1e-3, 3e-2)}, n_iter=2, cv=cv, n_jobs=2, random_state=0
    ).fit(T)
    assert np.isfinite(rand.best_score_)
    assert len(rand.best_estimator_.predict(T)) == T.n_tasks
