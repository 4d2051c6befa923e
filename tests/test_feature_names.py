"""Column names seen at fit are checked at predict / score / transform, for every estimator.

Real data: PMLB iris (classifiers) and 560_bodyfat (regressors), each split into two
tasks by row parity so that every estimator (also those needing one feature space) fits.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from estimators import tiny_estimators
from sklearn.base import clone, is_classifier

from skmtl.datasets import load_pmlb_tasks

ESTIMATORS = tiny_estimators()
METHODS = ["predict", "predict_proba", "transform", "score"]


def _frames(name, kind, data_home):
    tasks, _ = load_pmlb_tasks([name], kind=kind, data_home=data_home)
    frame = pd.DataFrame(tasks.Xs[0], columns=tasks.feature_names[0])
    y = tasks.ys[0]
    return [(frame.iloc[p::2].reset_index(drop=True), y[p::2]) for p in (0, 1)]


@pytest.fixture(scope="module")
def fitted(data_home):
    data = {
        True: _frames("iris", "classification", data_home),
        False: _frames("560_bodyfat", "regression", data_home),
    }
    out = {}
    for name, est in ESTIMATORS.items():
        tasks = data[is_classifier(est)]
        est = clone(est).set_params(**({"max_epochs": 2} if hasattr(est, "max_epochs") else {}))
        meta = np.array([[0.0], [1.0]]) if getattr(est, "_uses_metadata", False) else None
        out[name] = (est.fit(tasks, metadata=meta), tasks)
    return out


def _call(est, method, Xs, tasks):
    if method == "score":
        return est.score([(X, y) for X, (_, y) in zip(Xs, tasks)])
    return getattr(est, method)(Xs)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_reordered_or_renamed_columns_are_refused(fitted, name, method):
    est, tasks = fitted[name]
    if not hasattr(est, method):
        pytest.skip(f"{name} has no {method}")
    Xs = [X for X, _ in tasks]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right columns: no warning at all
        good = _call(est, method, Xs, tasks)
    cols = list(Xs[1].columns)
    reordered = [Xs[0], Xs[1][cols[::-1]]]
    with pytest.raises(ValueError, match=r"task 1: the feature names should match .*another order"):
        _call(est, method, reordered, tasks)
    renamed = [Xs[0], Xs[1].rename(columns={cols[0]: "nonsense"})]
    with pytest.raises(ValueError, match=r"task 1: .*unseen at fit time: \['nonsense'\]"):
        _call(est, method, renamed, tasks)
    with pytest.warns(UserWarning, match="task 0: X does not have valid feature names"):
        arrays = _call(est, method, [X.to_numpy() for X in Xs], tasks)
    if method != "score":  # same numbers from arrays in the fit order
        np.testing.assert_allclose(np.asarray(arrays[1], float), np.asarray(good[1], float))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_feature_names_in_where_tasks_share_columns(fitted, name):
    est, tasks = fitted[name]
    cols = list(tasks[0][0].columns)
    assert est.feature_names_in_.tolist() == cols and est.n_features_in_ == len(cols)
    assert [list(c) for c in est.task_feature_names_in_] == [cols, cols]


def test_no_feature_names_in_for_different_columns(data_home):
    a = _frames("iris", "classification", data_home)[0]
    b = _frames("wine_recognition", "classification", data_home)[0]
    est = clone(ESTIMATORS["PerTaskClassifier"]).fit([a, b])
    assert not hasattr(est, "feature_names_in_") and not hasattr(est, "n_features_in_")
    assert [len(c) for c in est.task_feature_names_in_] == [4, 13]
    with pytest.raises(ValueError, match=r"task 0: X has 13 features, but PerTaskClassifier"):
        est.predict([b[0], b[0]])


def test_pipeline_per_task_transformer_checks_names(data_home):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmtl import PerTaskClassifier, Tasks
    from skmtl.preprocessing import PerTaskTransformer

    tasks = _frames("iris", "classification", data_home)
    pipe = make_pipeline(PerTaskTransformer(StandardScaler()), PerTaskClassifier()).fit(tasks)
    assert pipe.score(tasks) > 0.9
    Xs = [X for X, _ in tasks]
    with pytest.raises(ValueError, match="task 1: the feature names should match"):
        pipe.predict([Xs[0], Xs[1][Xs[1].columns[::-1]]])
    T = Tasks([X for X, _ in tasks], [y for _, y in tasks])
    plain = make_pipeline(StandardScaler(), PerTaskClassifier())
    with pytest.raises(TypeError, match=r"PerTaskTransformer\(StandardScaler\(\)\)"):
        plain.fit(T)
