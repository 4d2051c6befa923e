"""The bad-input matrix: every estimator x every method x every kind of bad input.

Each case must raise ValueError or TypeError whose message names the task and the
problem — never a torch traceback, never a silent wrong answer. Documented handling
(rather than an error) is tested explicitly at the bottom.
"""

import numpy as np
import pandas as pd
import pytest
from estimators import multitask_data, tiny_estimators
from sklearn.base import clone, is_classifier

from skmtl import Tasks

ESTIMATORS = tiny_estimators()
NAMES = list(ESTIMATORS)


@pytest.fixture(scope="module")
def fitted():
    """Every estimator fitted once on good multi-task data (with the data)."""
    out = {}
    rng = np.random.default_rng(0)
    for name, est in ESTIMATORS.items():
        tasks, meta = multitask_data(est, rng)
        est = clone(est).set_params(**({"max_epochs": 2} if hasattr(est, "max_epochs") else {}))
        out[name] = (est.fit(tasks, metadata=meta), tasks, meta)
    return out


def _corrupt(tasks, task, fn):
    tasks = [(X.copy(), y.copy()) for X, y in tasks]
    X, y = tasks[task]
    tasks[task] = fn(X, y)
    return tasks


# (case id, how to break the fit data, expected message regex)
FIT_CASES = [
    ("nan", lambda X, y: (np.where(X > 1.5, np.nan, X), y), r"task 1.*NaN"),
    ("inf", lambda X, y: (np.where(X > 1.5, np.inf, X), y), r"task 1.*infinity"),
    ("empty", lambda X, y: (X[:0], y[:0]), r"task 1.*(no rows|0 sample)"),
    ("X 1-D", lambda X, y: (X[:, 0], y), r"task 1.*Expected 2D array"),
    ("X 3-D", lambda X, y: (X[:, :, None], y), r"task 1.*dim 3"),
    ("y length", lambda X, y: (X, y[:-2]), r"task 1.*rows but y has"),
    (
        "object str column",
        lambda X, y: (X.astype(object).__setitem__((0, 0), "a") or X, y),
        r"task 1",
    ),
]


def _masks_missing(est):
    return getattr(est, "_missing_values", None) == "mask"


@pytest.mark.parametrize("case, breaker, match", FIT_CASES, ids=[c[0] for c in FIT_CASES])
@pytest.mark.parametrize("name", NAMES)
def test_fit_rejects(name, case, breaker, match, rng):
    est = clone(ESTIMATORS[name])
    tasks, meta = multitask_data(est, rng)
    if case == "nan" and _masks_missing(est):
        pytest.skip("documented: a missing value is an absent variable (tests/test_missing.py)")
    if case == "object str column":

        def breaker(X, y):
            Xo = X.astype(object)
            Xo[0, 0] = "a"
            return Xo, y

    bad = _corrupt(tasks, 1, breaker)
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(bad, metadata=meta)


@pytest.mark.parametrize("name", NAMES)
def test_fit_rejects_structural_problems(name, rng):
    est = clone(ESTIMATORS[name])
    tasks, meta = multitask_data(est, rng)
    with pytest.raises(ValueError, match="no tasks were given"):
        est.fit([])
    dates = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=40)})
    with pytest.raises(ValueError, match=r"task 0: column 'd' \(datetime64.*\) is neither numeric"):
        est.fit([(dates, tasks[0][1][:40])])
    with pytest.raises(ValueError, match="metadata has 2 rows but there are 3 tasks"):
        est.fit(tasks, metadata=np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"metadata contains NaN .*tasks \[2\]"):
        est.fit(tasks, metadata=np.array([[0.0], [1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"unique; duplicated"):
        est.fit(Tasks([X for X, _ in tasks], [y for _, y in tasks], names=["a", "a", "b"]))


@pytest.mark.parametrize("name", NAMES)
def test_classification_specific(name, rng):
    est = clone(ESTIMATORS[name])
    if not is_classifier(est):
        pytest.skip("classifier cases")
    tasks, meta = multitask_data(est, rng)
    one_class = _corrupt(tasks, 2, lambda X, y: (X, np.full(len(y), y[0])))
    with pytest.raises(ValueError, match=r"task 2 has only one class"):
        est.fit(one_class, metadata=meta)
    one_row = _corrupt(tasks, 1, lambda X, y: (X[:1], y[:1]))
    with pytest.raises(ValueError, match=r"task 1 has only one class"):
        est.fit(one_row, metadata=meta)
    continuous = _corrupt(tasks, 0, lambda X, y: (X, X[:, 0]))
    with pytest.raises(ValueError, match=r"task 0.*Unknown label type"):
        est.fit(continuous, metadata=meta)


@pytest.mark.parametrize("name", NAMES)
def test_regression_one_row_task_fits(name, rng):
    """Documented handling: a one-row regression task trains (scale 1) and predicts."""
    est = clone(ESTIMATORS[name])
    if is_classifier(est):
        pytest.skip("regressor case")
    tasks, meta = multitask_data(est, rng)
    tasks = _corrupt(tasks, 1, lambda X, y: (X[:1], y[:1]))
    est.fit(tasks, metadata=meta)
    assert np.all(np.isfinite(est.predict([X for X, _ in tasks])[1]))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "transform"])
@pytest.mark.parametrize("name", NAMES)
def test_predict_side_errors(fitted, name, method):
    est, tasks, _ = fitted[name]
    if not hasattr(est, method):
        pytest.skip(f"{name} has no {method}")
    Xs = [X for X, _ in tasks]

    def call(X, y=None):
        if method == "score":
            return est.score(X, y if y is not None else [t[1][: len(x)] for t, x in zip(tasks, X)])
        return getattr(est, method)(X)

    with pytest.raises(ValueError, match="2 tasks were given but the model was fitted on 3"):
        call(Xs[:2])
    with pytest.raises(ValueError, match="no tasks were given"):
        call([])
    wrong = [Xs[0], Xs[1][:, :-1], Xs[2]]
    with pytest.raises(ValueError, match=r"task 1: X has \d+ features, but \w+ is expecting"):
        call(wrong)
    nan = [Xs[0], Xs[1], np.where(Xs[2] > 1.5, np.nan, Xs[2])]
    if not _masks_missing(est):  # SVE / TOM: an absent variable (tests/test_missing.py)
        with pytest.raises(ValueError, match="task 2.*NaN"):
            call(nan)
    with pytest.raises(ValueError, match="task 1.*Expected 2D array"):
        call([Xs[0], Xs[1][:, 0], Xs[2]])
    if method == "score":  # one (X, y) pair is one task
        with pytest.raises(ValueError, match="1 tasks were given but the model was fitted on 3"):
            est.score(Xs[0], tasks[0][1])
    else:
        with pytest.raises(ValueError, match="single feature matrix was given but the model"):
            call(Xs[0])


@pytest.mark.parametrize("name", NAMES)
def test_empty_task_at_predict_gives_empty_output(fitted, name):
    """Documented handling: a task with no rows at predict returns an empty array."""
    est, tasks, _ = fitted[name]
    Xs = [X for X, _ in tasks]
    preds = est.predict([Xs[0], Xs[1][:0], Xs[2]])
    assert len(preds[1]) == 0 and len(preds[0]) == len(Xs[0])


@pytest.mark.parametrize("name", NAMES)
def test_unseen_labels_at_score_count_as_errors(fitted, name):
    """Documented handling: labels never seen in training are scored as misclassified."""
    est, tasks, _ = fitted[name]
    if not is_classifier(est):
        pytest.skip("classifier case")
    X, y = tasks[0]
    scores = est.score_tasks([(X, np.full(len(y), "never-seen")), tasks[1], tasks[2]])
    assert scores[0] == 0.0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"device": "tpu"}, "device"),
        ({"device": "cuda:banana"}, "device"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -1e-3}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_epochs": -1}, "max_epochs"),
    ],
)
@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("PerTask")])
def test_bad_parameters(name, params, match, rng):
    est = clone(ESTIMATORS[name]).set_params(**params)
    tasks, meta = multitask_data(est, rng)
    with pytest.raises(ValueError, match=match):
        est.fit(tasks, metadata=meta)


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("PerTask")])
def test_non_positive_model_sizes(name, rng):
    est = clone(ESTIMATORS[name])
    size_params = [
        p
        for p in ("latent_dim", "embedding_dim", "hidden_dim", "n_shared", "hyper_width")
        if p in est.get_params()
    ]
    assert size_params or "hidden_layer_sizes" in est.get_params()
    tasks, meta = multitask_data(est, rng)
    for p in size_params:
        with pytest.raises(ValueError, match=p):
            clone(est).set_params(**{p: 0}).fit(tasks, metadata=meta)
    if "hidden_layer_sizes" in est.get_params():
        with pytest.raises(ValueError, match="hidden_layer_sizes"):
            clone(est).set_params(hidden_layer_sizes=(0,)).fit(tasks, metadata=meta)
