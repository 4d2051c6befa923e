"""Single-task baselines: one clone of a scikit-learn estimator per task."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, column_or_1d

from skmtl.base import MultiTaskEstimator
from skmtl.preprocessing import TaskInputEncoder
from skmtl.tasks import _describe, _label, as_tasks, column_or_1d_labels, validate_task_inputs

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


def _handles_categories(estimator):
    """Whether ``estimator`` takes pandas ``category`` columns itself (its tags or params)."""
    if get_tags(estimator).input_tags.categorical:
        return True
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    return params.get("categorical_features") == "from_dtype"


def _as_category_frame(frame):
    """Object / string columns as pandas ``category`` (what estimators read as categorical)."""
    cols = {
        c: "category"
        for c in frame.columns
        if frame[c].dtype.kind in "OUT" or str(frame[c].dtype) in ("str", "string")
    }
    return frame.astype(cols) if cols else frame


class _PerTaskMixin:
    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator=None, *, n_jobs=None):
        self.estimator = estimator
        self.n_jobs = n_jobs

    def _task_inputs(self, tasks, encode=True):
        """Every task's input for its estimator: encoded, or the raw categorical frame.

        A table with categorical columns goes to the wrapped estimator as a DataFrame
        (object / string columns as ``category``) when it handles categories itself
        (``categorical_features="from_dtype"`` or the ``categorical`` input tag), else
        through the fitted ``input_encoder_`` (one-hot / ordinal per task). Missing
        values pass through only when the estimator's ``allow_nan`` tag says it takes
        them.
        """
        if encode and self.input_encoder_ is not None:
            tasks = self.input_encoder_.transform(tasks, owner=type(self).__name__)
        inputs = []
        for t in range(tasks.n_tasks):
            X = tasks.task(t)[0]
            missing = X.isna().to_numpy() if hasattr(X, "isna") else np.isnan(X)
            if not self._allow_nan and missing.any():
                cols = np.flatnonzero(missing.any(0))
                names = [tasks.feature_names[t][j] for j in cols]
                raise ValueError(
                    f"{_describe(t, tasks.names[t])}: X contains NaN (missing values) in "
                    f"column(s) {names}, and {type(self._base).__name__} does not accept "
                    "missing values (its allow_nan tag is False). Wrap an estimator that "
                    "does (e.g. HistGradientBoostingClassifier) or impute per task first: "
                    "make_pipeline(TaskInputEncoder(missing='impute'), "
                    f"{type(self).__name__}(...))."
                )
            inputs.append(_as_category_frame(X) if hasattr(X, "columns") else X)
        return inputs

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
        self._base = base
        self._allow_nan = get_tags(base).input_tags.allow_nan
        encode = any(f is not None for f in tasks.frames) and not _handles_categories(base)
        self.input_encoder_ = TaskInputEncoder(missing="keep").fit(tasks) if encode else None
        self._set_task_attributes(tasks)
        jobs = []
        for i, (Xt, yt) in enumerate(zip(self._task_inputs(tasks), tasks.ys)):
            where = _describe(i, tasks.names[i])
            if Xt.shape[0] == 0:
                raise ValueError(f"{where} has no rows (Found array with 0 sample(s)).")
            if self._is_clf:
                yt = column_or_1d_labels(yt)
            if self._is_clf and len(np.unique(yt)) < 2:
                raise ValueError(
                    f"{where} has only one class ({_label(yt[0])}); a classifier needs at least 2 "
                    "classes in every task (1 class found)."
                )
            jobs.append(delayed(_fit_one)(clone(base), Xt, yt, where))
        estimators = Parallel(n_jobs=self.n_jobs)(jobs)
        self.estimators_ = estimators
        if self._is_clf:
            self.task_classes_ = [e.classes_ for e in estimators]
            self.classes_ = self.task_classes_[0] if len(estimators) == 1 else self.task_classes_
        return self

    def _per_task(self, method, X):
        check_is_fitted(self)
        try:  # widths and names as at fit
            tasks, single = validate_task_inputs(self, X)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        Xs = self._task_inputs(tasks, encode=False)  # validate_task_inputs encoded them
        out = Parallel(n_jobs=self.n_jobs)(
            delayed(_predict_one)(est, method, Xt) for est, Xt in zip(self.estimators_, Xs)
        )
        if method == "predict" and self._is_clf:  # labels as (n,), also from (n, 1) (CatBoost)
            out = [column_or_1d(p, warn=False) for p in out]
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

    @staticmethod
    def _default():
        return Ridge()
