import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skmtl import PerTaskClassifier, PerTaskRegressor


def test_classifier_fits_each_task_separately(rng):
    X1, X2 = rng.normal(size=(60, 2)), rng.normal(size=(40, 4))
    tasks = [(X1, X1[:, 0] > 0), (X2, np.where(X2[:, 3] > 0, "yes", "no"))]
    clf = PerTaskClassifier(LogisticRegression()).fit(tasks)
    assert len(clf.estimators_) == 2 and clf.estimators_[0] is not clf.estimators_[1]
    assert clf.score(tasks) > 0.9
    proba = clf.predict_proba([X1, X2])
    assert proba[0].shape == (60, 2) and list(clf.task_classes_[1]) == ["no", "yes"]
    assert set(clf.predict([X1, X2])[1]) <= {"yes", "no"}


def test_regressor_multi_output_and_scores(rng):
    X = rng.normal(size=(80, 3))
    Y = np.c_[X[:, 0], -X[:, 1]]
    reg = PerTaskRegressor(RandomForestRegressor(n_estimators=20, random_state=0))
    reg.fit([(X, Y), (X, X[:, 2])])
    preds = reg.predict([X, X])
    assert preds[0].shape == (80, 2) and preds[1].shape == (80,)
    assert np.all(reg.score_tasks([(X, Y), (X, X[:, 2])]) > 0.7)


def test_errors_name_the_task(rng):
    X = rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="task 1 has only one class"):
        PerTaskClassifier(DecisionTreeClassifier()).fit([(X, [0, 1] * 5), (X, [1] * 10)])
    clf = PerTaskClassifier().fit([(X, [0, 1] * 5)])
    with pytest.raises(ValueError, match="X has 3 features, but PerTaskClassifier is expecting 2"):
        clf.predict(rng.normal(size=(4, 3)))


class _ColumnLabels(LogisticRegression):
    """A classifier that predicts labels as an (n, 1) column, as CatBoost does."""

    def predict(self, X):
        return super().predict(X).reshape(-1, 1)


def test_column_predictions_are_flattened_and_scored_per_row(rng):
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 0, 2, 0)
    tasks = [(X, y), (X[:40], np.where(X[:40, 1] > 0, "b", "a"))]
    clf = PerTaskClassifier(_ColumnLabels()).fit(tasks)
    preds = clf.predict([X, X[:40]])
    assert [p.shape for p in preds] == [(60,), (40,)]
    plain = PerTaskClassifier(LogisticRegression()).fit(tasks)
    expected = [np.mean(p == t[1]) for p, t in zip(plain.predict([X, X[:40]]), tasks)]
    assert np.allclose(clf.score_tasks(tasks), expected)
    assert clf.score_tasks(tasks)[0] > 0.9  # broadcast (60, 1) == (60,) would give ~0.5
