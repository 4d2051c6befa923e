"""Categorical columns: encoded per task for the neural models, raw for capable PerTask models.

Real data: OpenML anneal (test-server cache) loaded raw, with categorical columns and
missing values.
"""

import numpy as np
import pandas as pd
import pytest
from estimators import tiny_estimators
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmtl import PerTaskClassifier
from skmtl.datasets import load_openml_tasks
from skmtl.datasets.openml import TEST_SERVER
from skmtl.preprocessing import TaskInputEncoder

TINY = tiny_estimators()
CITIES = [f"city{k:02d}" for k in range(12)]


def _table(rng, n=60):
    color = rng.choice(["red", "green", "blue"], size=n)
    frame = pd.DataFrame(
        {
            "color": pd.Categorical(color),
            "city": rng.choice(CITIES, size=n).astype(object),
            "flag": rng.random(n) > 0.5,
            "size": rng.normal(size=n),
        }
    )
    y = np.where((color == "green") ^ (frame["size"] > 0), "yes", "no")
    return frame, y


def test_encoder_names_levels_and_handles_unseen(rng):
    frame, y = _table(rng)
    enc = TaskInputEncoder(missing="mask").fit([(frame, y)])
    names = ["color=blue", "color=green", "color=red", "city", "flag", "size"]
    assert enc.feature_names_out_ == [names]
    new = pd.DataFrame(
        {
            "color": ["green", "purple", None],
            "city": ["city03", "atlantis", "city00"],
            "flag": [True, False, True],
            "size": [0.5, 1.0, np.nan],
        }
    )
    Z = enc.transform([new]).Xs[0]
    np.testing.assert_array_equal(Z[0], [0, 1, 0, 3, 1, 0.5])  # city03 is code 3 of 12
    np.testing.assert_array_equal(Z[1, :4], [0, 0, 0, -1])  # unseen: no level / code -1
    assert np.isnan(Z[2, :3]).all() and np.isnan(Z[2, 5])  # missing: NaN (masked)


def test_sve_encodes_categories_with_readable_variable_names(rng):
    frame, y = _table(rng)
    clf = clone(TINY["SharedVariableEmbeddingClassifier"]).set_params(
        max_epochs=3, n_concept_variables=6
    )
    clf.fit([(frame, y), (frame.iloc[:40], y[:40])])
    assert clf.feature_names_per_task_[0][:3] == ["color=blue", "color=green", "color=red"]
    assert clf.n_features_per_task_ == [6, 6] and clf.task_n_features_in_ == [4, 4]
    assert {"color=green", "city"} <= set(clf.concepts_["variable"])
    assert [p.shape for p in clf.predict_proba([frame, frame])] == [(60, 2), (60, 2)]
    with pytest.raises(ValueError, match="task 1: the feature names should match"):
        clf.predict([frame, frame[["city", "color", "flag", "size"]]])


def test_per_task_passes_raw_frames_to_category_aware_estimators(rng):
    frame, y = _table(rng)
    hgb = PerTaskClassifier(HistGradientBoostingClassifier(min_samples_leaf=2)).fit([(frame, y)])
    inner = hgb.estimators_[0]
    assert list(inner.feature_names_in_) == ["color", "city", "flag", "size"]
    assert inner.is_categorical_.tolist() == [True, True, False, False]
    assert hgb.input_encoder_ is None and hgb.score([(frame, y)]) > 0.9
    logit = PerTaskClassifier(LogisticRegression(max_iter=500)).fit([(frame, y)])
    assert logit.estimators_[0].n_features_in_ == 6  # one-hot colour, city code, flag, size
    assert logit.input_encoder_.feature_names_out_[0][1] == "color=green"


@pytest.fixture(scope="module")
def anneal(data_home):
    tasks, _ = load_openml_tasks([2], data_home=data_home, server=TEST_SERVER, categorical="raw")
    X, y = tasks.task(0)
    rows = np.random.default_rng(0).permutation(len(y))
    train, test = rows[:600], rows[600:]
    return X.iloc[train], y[train], X.iloc[test], y[test]


def test_anneal_raw_fits_end_to_end(anneal):
    Xtr, ytr, Xte, yte = anneal
    hgb = PerTaskClassifier(HistGradientBoostingClassifier(max_iter=50, random_state=0))
    assert hgb.fit(Xtr, ytr).score(Xte, yte) > 0.95
    sve = clone(TINY["SharedVariableEmbeddingClassifier"]).set_params(max_epochs=5)
    sve.fit(Xtr, ytr)  # categoricals one-hot per task, missing entries masked out
    assert "bc" not in sve.feature_names_per_task_[0]  # never observed: dropped
    proba = sve.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert sve.score(Xte, yte) > 0.5
    hard = clone(TINY["HardSharingClassifier"])
    with pytest.raises(ValueError, match=r"task 0: X contains NaN .*'family'"):
        hard.fit(Xtr, ytr)
    pipe = make_pipeline(TaskInputEncoder(missing="impute"), hard).fit(Xtr, ytr)
    assert pipe.score(Xte, yte) > 0.5
