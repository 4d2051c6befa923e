"""Per-task preprocessing steps that fit in a scikit-learn ``Pipeline``."""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from skmtl.tasks import Tasks, as_task_inputs, as_tasks

__all__ = ["PerTaskTransformer", "TaskStandardScaler"]


class PerTaskTransformer(TransformerMixin, BaseEstimator):
    """Apply a clone of any scikit-learn transformer to every task separately.

    In a ``Pipeline`` before a multi-task estimator, ``fit`` takes the tasks (with
    targets, which pass through untouched) and ``transform`` returns a
    :class:`~skmtl.tasks.Tasks` (or one array when given one array).

    Parameters
    ----------
    transformer : scikit-learn transformer
        Cloned and fitted on every task's features.

    Attributes
    ----------
    transformers_ : list of fitted transformers, one per task

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> tasks = [(np.array([[0.0], [10.0]]), [0, 1]), (np.array([[5.0, 1.0], [7.0, 3.0]]), [1, 0])]
    >>> T = PerTaskTransformer(MinMaxScaler()).fit_transform(tasks)
    >>> [float(x.max()) for x in T.Xs]
    [1.0, 1.0]
    """

    def __init__(self, transformer):
        self.transformer = transformer

    def fit(self, X, y=None, metadata=None):
        """Fit one transformer per task.

        Parameters
        ----------
        X : Tasks, list of (X, y), list of X, or one array
        y : targets when ``X`` holds features only (ignored otherwise)
        metadata : ignored here, passed through by ``fit_transform``

        Returns
        -------
        self
        """
        tasks, _ = as_tasks(X, y, metadata, require_y=False)
        self.transformers_ = [self._make_transformer().fit(x) for x in tasks.Xs]
        self.n_tasks_ = tasks.n_tasks
        self.n_features_per_task_ = tasks.n_features
        return self

    def _make_transformer(self):
        return clone(self.transformer)

    def transform(self, X):
        """Transform every task's features with its own fitted transformer.

        Parameters
        ----------
        X : Tasks, list of X (one per fitted task), list of (X, y), or one array

        Returns
        -------
        Tasks (targets kept when present), or one array for one array
        """
        check_is_fitted(self)
        if isinstance(X, Tasks):
            tasks = X
        else:
            try:
                tasks, single = as_tasks(X, require_y=False)
            except ValueError:
                tasks, single = None, False
            if tasks is None or single:
                Xs, single = as_task_inputs(X, self.n_tasks_, self.n_features_per_task_)
                out = [t.transform(x) for t, x in zip(self.transformers_, Xs)]
                return out[0] if single else Tasks(out)
        if tasks.n_tasks != self.n_tasks_:
            raise ValueError(
                f"{tasks.n_tasks} tasks were given but the transformer was fitted on "
                f"{self.n_tasks_}."
            )
        Xs, _ = as_task_inputs(tasks, self.n_tasks_, self.n_features_per_task_)
        return tasks.with_features([t.transform(x) for t, x in zip(self.transformers_, Xs)])

    def fit_transform(self, X, y=None, metadata=None, **fit_params):
        """Fit, then transform the same tasks (targets and metadata pass through)."""
        tasks, single = as_tasks(X, y, metadata, require_y=False)
        self.fit(tasks)
        out = self.transform(tasks)
        return out.Xs[0] if single and y is None and not tasks.has_targets else out


class TaskStandardScaler(PerTaskTransformer):
    """Standardise every task's features with its own mean and standard deviation.

    Parameters
    ----------
    with_mean : bool, default=True
    with_std : bool, default=True

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmtl.baselines import PerTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X1, X2 = rng.normal(5, 3, size=(40, 2)), rng.normal(size=(30, 3))
    >>> tasks = [(X1, X1[:, 0] > 5), (X2, X2[:, 2] > 0)]
    >>> pipe = make_pipeline(TaskStandardScaler(), PerTaskClassifier()).fit(tasks)
    >>> pipe.score(tasks) > 0.9
    True
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def _make_transformer(self):
        return StandardScaler(with_mean=self.with_mean, with_std=self.with_std)
