import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skmtl import PerTaskClassifier, Tasks, TaskStandardScaler, TaskStratifiedKFold


def test_scaler_standardises_every_task(rng):
    X1, X2 = rng.normal(10, 5, size=(50, 2)), rng.normal(-3, 0.1, size=(30, 3))
    T = TaskStandardScaler().fit_transform([(X1, X1[:, 0] > 10), (X2, X2[:, 0] > -3)])
    assert isinstance(T, Tasks) and T.has_targets
    for X in T.Xs:
        np.testing.assert_allclose(X.mean(0), 0, atol=1e-10)
        np.testing.assert_allclose(X.std(0), 1, atol=1e-10)
    single = TaskStandardScaler().fit(X1).transform(X1)
    assert isinstance(single, np.ndarray) and single.shape == X1.shape


def test_in_pipeline_with_cross_validation(rng):
    X1, X2 = rng.normal(10, 5, size=(60, 2)), rng.normal(size=(45, 3))
    T = Tasks([X1, X2], [X1[:, 0] > 10, X2[:, 1] > 0])
    pipe = make_pipeline(TaskStandardScaler(), PerTaskClassifier(LogisticRegression()))
    scores = cross_val_score(pipe, T, T.y, cv=TaskStratifiedKFold(3, random_state=0))
    assert scores.shape == (3,) and scores.mean() > 0.85
    pipe.fit(T)
    assert [p.shape for p in pipe.predict([X1, X2])] == [(60,), (45,)]


def test_unseen_levels_map_as_documented_without_warning():
    import warnings

    import pandas as pd

    from skmtl.preprocessing import TaskInputEncoder

    train = pd.DataFrame(
        {"color": ["red", "green", "red", "blue"], "grade": list("abcdefghijkl")[:4]}
    )
    enc = TaskInputEncoder(max_onehot=3).fit([(train, [0, 1, 0, 1])])
    enc_ordinal = TaskInputEncoder(max_onehot=2).fit([(train, [0, 1, 0, 1])])
    test = pd.DataFrame({"color": ["green", "purple"], "grade": ["b", "z"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the Pandas4Warning of unseen levels included
        onehot = enc.transform([test]).Xs[0]
        ordinal = enc_ordinal.transform([test]).Xs[0]
    assert enc.feature_names_out_[0] == ["color=blue", "color=green", "color=red", "grade"]
    # one-hot: an unseen level is all zeros; ordinal: code -1, below every seen level
    assert onehot.tolist() == [[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, -1.0]]
    assert ordinal.tolist() == [[1.0, 1.0], [-1.0, -1.0]]
