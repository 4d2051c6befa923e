"""Missing values: an absent variable in SVE / TOM, imputation or a clear error elsewhere.

Real data: PMLB iris and wine_recognition with values removed at random.
"""

import numpy as np
import pytest
from estimators import tiny_estimators
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmtl import PerTaskClassifier
from skmtl.datasets import load_pmlb_tasks
from skmtl.hard_sharing import HardSharingClassifier
from skmtl.preprocessing import TaskInputEncoder

TINY = tiny_estimators()


def _remove(X, fraction, seed):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < fraction] = np.nan
    return X


@pytest.fixture(scope="module")
def iris(data_home):
    tasks, _ = load_pmlb_tasks(["iris"], data_home=data_home)
    return tasks.Xs[0], tasks.ys[0]


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
@pytest.mark.parametrize(
    "name", ["SharedVariableEmbeddingClassifier", "SharedVariableEmbeddingClassifier-vanilla"]
)
def test_masking_a_missing_value_equals_removing_the_variable(iris, name, aggregation):
    X, y = iris
    est = clone(TINY[name]).set_params(max_epochs=3, aggregation=aggregation)
    est.fit(_remove(X, 0.2, 0), y)  # trained with missing values too
    j, keep = 2, [0, 1, 3]
    rows = X[:10].copy()
    rows[:, j] = np.nan
    # the same network with variable j taken out of the task's set of variables
    removed = clone(est).initialize(X[:, keep], y)
    removed.input_mean_ = [m[keep] for m in est.input_mean_]
    removed.input_scale_ = [s[keep] for s in est.input_scale_]
    state = {k: v.clone() for k, v in est.module_.state_dict().items()}
    state["input_embeddings"] = state["input_embeddings"][keep]
    removed.module_.load_state_dict(state)
    np.testing.assert_allclose(
        est.predict_proba(rows), removed.predict_proba(rows[:, keep]), rtol=1e-5, atol=1e-6
    )
    # and a missing value is not a zero (the standardised mean) nor any other value
    filled = rows.copy()
    filled[:, j] = est.input_mean_[0][j]
    assert not np.allclose(est.predict_proba(rows), est.predict_proba(filled), atol=1e-4)


def test_sve_learns_with_thirty_percent_missing(iris):
    X, y = iris
    est = clone(TINY["SharedVariableEmbeddingClassifier"]).set_params(max_epochs=30)
    Xm = _remove(X, 0.3, 1)
    est.fit(Xm[::2], y[::2])
    assert est.score(Xm[1::2], y[1::2]) > 0.6  # chance is 1/3


def test_other_neural_estimators_refuse_with_the_remedy(iris):
    X, y = iris
    Xm = _remove(X, 0.3, 2)
    est = clone(TINY["HardSharingClassifier"])
    msg = r"task 0: X contains NaN .*'x0' \(\d+\).*TaskInputEncoder\(missing='impute'\)"
    with pytest.raises(ValueError, match=msg):
        est.fit([(Xm, y), (X, y)])
    pipe = make_pipeline(TaskInputEncoder(missing="impute"), est).fit([(Xm, y), (X, y)])
    enc = pipe[0]
    assert enc.feature_names_out_[0][-4:] == [f"{c} is missing" for c in ["x0", "x1", "x2", "x3"]]
    assert enc.feature_names_out_[1] == [
        "x0",
        "x1",
        "x2",
        "x3",
    ]
    Z = enc.transform([Xm, X]).Xs[0]
    miss = np.isnan(Xm)
    np.testing.assert_array_equal(Z[:, 4:], miss.astype(float))
    np.testing.assert_allclose(Z[miss[:, 0], 0], np.nanmedian(Xm[:, 0]))
    assert pipe.score([(Xm, y), (X, y)]) > 0.5
    with pytest.raises(ValueError, match=r"task 1: X contains NaN"):
        est.fit([(X, y), (X, y)]).predict([X, Xm])
    assert isinstance(est, HardSharingClassifier)


def test_per_task_lets_nan_through_when_the_estimator_accepts_it(data_home):
    tasks, _ = load_pmlb_tasks(["iris", "wine_recognition"], data_home=data_home)
    pairs = [(_remove(X, 0.3, t), y) for t, (X, y) in enumerate(tasks.items())]
    hgb = PerTaskClassifier(HistGradientBoostingClassifier(max_iter=20, random_state=0))
    assert hgb.fit(pairs).score(pairs) > 0.8
    with pytest.raises(ValueError, match=r"task 0: X contains NaN.*allow_nan tag"):
        PerTaskClassifier(LogisticRegression()).fit(pairs)
    with pytest.raises(ValueError, match=r"task 1: X contains NaN"):
        PerTaskClassifier(LogisticRegression(max_iter=2000)).fit(
            [(tasks.Xs[0], tasks.ys[0]), (tasks.Xs[1], tasks.ys[1])]
        ).predict([pairs[0][0][:0], pairs[1][0]])
