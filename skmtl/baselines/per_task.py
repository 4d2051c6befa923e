"""Single-task baselines: one clone of a scikit-learn estimator per task."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from skmtl.base import MultiTaskEstimator
from skmtl.tasks import _describe, _label, as_tasks, column_or_1d_labels

__all__ = ["PerTaskClassifier", "PerTaskRegressor"]


def _fit_one(estimator, X, y, where):
    """Fit one task's clone; errors name the task (runs in a joblib worker)."""
    try:
        return estimator.fit(X, y)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _predict_one(estimator, method, X):
    """One task's predictions; an empty matrix gives an empty result of the right width."""
    if X.shape[0] == 0:
        width = len(estimator.classes_) if method == "predict_proba" else None
        return np.zeros((0, width)) if width else np.zeros(0)
    return getattr(estimator, method)(X)


class _PerTaskMixin:
    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "n_jobs": [Integral, None],
    }

    def fit(self, X, y=None, metadata=None):
        """Fit one clone of ``estimator`` on every task.

        Parameters
        ----------
        X, y, metadata
            Anything the multi-task estimators accept (metadata is ignored).

        Returns
        -------
        self
        """
        tasks, _ = as_tasks(X, y, metadata)
        base = self._default() if self.estimator is None else self.estimator
        if not hasattr(base, "fit"):
            raise TypeError(f"estimator must be a scikit-learn estimator, got {base!r}.")
        self._validate_params()
        jobs = []
        for i, (Xt, yt) in enumerate(zip(tasks.Xs, tasks.ys)):
            where = _describe(i, tasks.names[i])
            if Xt.shape[0] == 0:
                raise ValueError(f"{where} has no rows (Found array with 0 sample(s)).")
            if self._is_clf:
                yt = column_or_1d_labels(yt, where)
            if self._is_clf and len(np.unique(yt)) < 2:
                raise ValueError(
                    f"{where} has only one class ({_label(yt[0])}); a classifier needs at least 2 "
                    "classes in every task (1 class found)."
                )
            jobs.append(delayed(_fit_one)(clone(base), Xt, yt, where))
        estimators = Parallel(n_jobs=self.n_jobs)(jobs)
        self.estimators_ = estimators
        self._set_task_attributes(tasks)
        if self._is_clf:
            self.task_classes_ = [e.classes_ for e in estimators]
            self.classes_ = self.task_classes_[0] if len(estimators) == 1 else self.task_classes_
        return self

    def _per_task(self, method, X):
        check_is_fitted(self)
        Xs, single = self._validate_predict_input(X)
        out = Parallel(n_jobs=self.n_jobs)(
            delayed(_predict_one)(est, method, Xt) for est, Xt in zip(self.estimators_, Xs)
        )
        return self._format(list(out), single)

    def predict(self, X):
        """Predictions of every task's own estimator.

        Parameters
        ----------
        X : list of array-like (one per fitted task), Tasks, or one array for one task

        Returns
        -------
        list of ndarray, or one ndarray
        """
        return self._per_task("predict", X)


class PerTaskClassifier(_PerTaskMixin, ClassifierMixin, MultiTaskEstimator):
    """Fit a clone of any scikit-learn classifier on each task separately.

    The single-task baseline of every skmtl benchmark, in the multi-task API.

    Parameters
    ----------
    estimator : scikit-learn classifier, default=None
        Cloned for every task; ``LogisticRegression(max_iter=1000)`` when None.
    n_jobs : int or None, default=None
        Tasks fitted (and predicted) in parallel through joblib: ``None`` means 1
        unless inside a ``joblib.parallel_backend`` context (e.g. ``"dask"``, to fit
        the tasks on a Dask cluster), ``-1`` all cores. Results do not depend on it.

    Attributes
    ----------
    estimators_ : list of fitted estimators, one per task
    task_classes_ : list of ndarray
    n_tasks_, task_names_ : int, list of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X1, X2 = rng.normal(size=(30, 2)), rng.normal(size=(20, 4))
    >>> tasks = [(X1, X1[:, 0] > 0), (X2, np.where(X2[:, 1] > 0, "yes", "no"))]
    >>> clf = PerTaskClassifier(DecisionTreeClassifier(random_state=0)).fit(tasks)
    >>> clf.score(tasks)
    1.0
    """

    _is_clf = True
    score = MultiTaskEstimator.score

    def __init__(self, estimator=None, *, n_jobs=None):
        self.estimator = estimator
        self.n_jobs = n_jobs

    @staticmethod
    def _default():
        return LogisticRegression(max_iter=1000)

    def predict_proba(self, X):
        """Class probabilities of every task's own estimator (columns: ``task_classes_[t]``).

        Parameters
        ----------
        X : list of array-like, Tasks, or one array for one task

        Returns
        -------
        list of ndarray, or one ndarray
        """
        return self._per_task("predict_proba", X)


class PerTaskRegressor(_PerTaskMixin, RegressorMixin, MultiTaskEstimator):
    """Fit a clone of any scikit-learn regressor on each task separately.

    Parameters
    ----------
    estimator : scikit-learn regressor, default=None
        Cloned for every task; ``Ridge()`` when None.
    n_jobs : int or None, default=None
        Tasks fitted (and predicted) in parallel through joblib: ``None`` means 1
        unless inside a ``joblib.parallel_backend`` context (e.g. ``"dask"``, to fit
        the tasks on a Dask cluster), ``-1`` all cores. Results do not depend on it.

    Attributes
    ----------
    estimators_ : list of fitted estimators, one per task

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> reg = PerTaskRegressor(LinearRegression()).fit([(X, 2 * X[:, 0]), (X, -X[:, 0])])
    >>> [round(float(p[0]), 3) for p in reg.predict([X[:1] + 1, X[:1] + 1])]
    [2.0, -1.0]
    """

    _is_clf = False
    score = MultiTaskEstimator.score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def __init__(self, estimator=None, *, n_jobs=None):
        self.estimator = estimator
        self.n_jobs = n_jobs

    @staticmethod
    def _default():
        return Ridge()
