"""Per-task preprocessing steps that fit in a scikit-learn ``Pipeline``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from skmtl.tasks import (
    Tasks,
    _describe,
    _is_categorical,
    as_input_tasks,
    as_tasks,
    set_task_attributes,
)

__all__ = [
    "PerTaskTransformer",
    "TaskStandardScaler",
    "TaskInputEncoder",
    "fit_input_encoder",
    "MISSING_POLICIES",
]


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
        self.transformers_ = [
            self._make_transformer().fit(tasks.task(t)[0]) for t in range(tasks.n_tasks)
        ]
        set_task_attributes(self, tasks)
        return self

    def _make_transformer(self):
        return clone(self.transformer)

    def transform(self, X):
        """Transform every task's features with its own fitted transformer.

        Column counts and names are checked against those seen at fit, as the
        estimators do (:func:`~skmtl.tasks.check_feature_names`).

        Parameters
        ----------
        X : Tasks, list of X (one per fitted task), list of (X, y), or one array

        Returns
        -------
        Tasks (targets kept when present), or one array for one array
        """
        check_is_fitted(self)
        tasks, single = (X, False) if isinstance(X, Tasks) else as_tasks(X, require_y=False)
        as_input_tasks(
            tasks,
            self.n_tasks_,
            self.task_n_features_in_,
            self.task_names_,
            owner=type(self).__name__,
            feature_names=self.task_feature_names_in_,
        )
        out = [tr.transform(tasks.task(t)[0]) for t, tr in enumerate(self.transformers_)]
        if single and not tasks.has_targets:
            return out[0]
        return tasks.with_features(out)

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


MISSING_POLICIES = ("error", "keep", "mask", "impute")


def _levels(column):
    """Sorted distinct observed values of a categorical column (category order if any)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    values = pd.unique(column.dropna())
    try:
        return sorted(values)
    except TypeError:  # mixed types: order by their text
        return sorted(values, key=str)


class _TaskPlan:
    """How one task's columns become model variables (fitted by ``TaskInputEncoder``)."""

    def __init__(self, columns, categorical, fill, indicate, onehot):
        self.columns = columns  # raw column names
        self.categorical = categorical  # {position: levels} of categorical columns
        self.fill = fill  # per output column: value for a missing entry (impute) or None
        self.indicate = indicate  # raw positions that get a missing-indicator column
        self.onehot = onehot  # {position: bool}
        self.keep = None  # encoded columns kept (None: all); never-observed columns drop

    def _widths(self):
        return [
            len(self.categorical[j]) if j in self.categorical and self.onehot[j] else 1
            for j in range(len(self.columns))
        ]

    def origin(self):
        """Raw column position of every encoded column (before indicators)."""
        return np.repeat(np.arange(len(self.columns)), self._widths())

    def output_names(self):
        names = []
        for j, c in enumerate(self.columns):
            if j in self.categorical and self.onehot[j]:
                names.extend(f"{c}={level}" for level in self.categorical[j])
            else:
                names.append(c)
        if self.keep is not None:
            names = [n for n, k in zip(names, self.keep) if k]
        return names + [f"{self.columns[j]} is missing" for j in self.indicate]


def _column_values(X, frame, j, name):
    return frame[name] if frame is not None else pd.Series(X[:, j])


def _encode_columns(plan, X, frame):
    """Encoded values (NaN where missing) and the raw missing mask, before any imputation."""
    n = X.shape[0]
    if not plan.categorical:
        values = np.asarray(X, dtype=np.float64)
        return values, np.isnan(values)
    blocks, missing = [], np.zeros((n, len(plan.columns)), dtype=bool)
    for j, name in enumerate(plan.columns):
        col = _column_values(X, frame, j, name)
        missing[:, j] = col.isna().to_numpy()
        if j not in plan.categorical:
            blocks.append(col.to_numpy(dtype=np.float64, na_value=np.nan).reshape(n, 1))
            continue
        levels = plan.categorical[j]
        # position of every value among the fitted levels; -1 for a missing or unseen one
        codes = pd.Index(levels, dtype=object).get_indexer(col.to_numpy(dtype=object))
        if plan.onehot[j]:
            block = (codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64)
        else:  # ordinal code; an unseen level is -1, below every seen one
            block = codes.astype(np.float64).reshape(n, 1)
        block[missing[:, j]] = np.nan
        blocks.append(block)
    return np.hstack(blocks), missing


class TaskInputEncoder(TransformerMixin, BaseEstimator):
    """Turn every task's table into the numeric variables a neural model reads.

    Fitted per task. Categorical columns (``category``, ``object`` or string dtype in a
    DataFrame) become one-hot variables named ``column=level`` when they have at most
    ``max_onehot`` levels, else one ordinal variable (the level's code in sorted order).
    Bool columns are 0/1 numbers. A level unseen at fit is all zeros in one-hot form
    and code -1 in ordinal form. A missing value (NaN / None / ``pd.NA``) is handled by
    ``missing``. The neural estimators fit one internally (``input_encoder_``); put one
    in a ``Pipeline`` for per-task imputation in front of any estimator.

    Parameters
    ----------
    missing : {"error", "keep", "mask", "impute"}, default="error"
        ``"error"``: refuse missing values, naming the task and the columns.
        ``"keep"``: leave them as NaN (for a model that handles them itself).
        ``"mask"``: as ``"keep"`` (the variable-embedding models then treat a NaN as an
        absent variable), but a column with no observed value at fit is dropped.
        ``"impute"``: fill with the task's training median of the (encoded) column and
        add an indicator variable ``"<column> is missing"`` for every column that had
        missing values at fit; a column with no observed value at fit is dropped.
    max_onehot : int, default=10
        Most levels a categorical column may have to be one-hot encoded.

    Attributes
    ----------
    plans_ : list
        Per task, the fitted column plan.
    feature_names_out_ : list of list of str
        Names of the encoded variables of every task.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"color": ["red", "green", "red"], "size": [1.0, np.nan, 3.0]})
    >>> T = TaskInputEncoder(missing="impute").fit_transform([(X, [0, 1, 0])])
    >>> T.feature_names[0]
    ['color=green', 'color=red', 'size', 'size is missing']
    >>> T.Xs[0][1].tolist()
    [1.0, 0.0, 2.0, 1.0]
    """

    def __init__(self, missing="error", *, max_onehot=10):
        self.missing = missing
        self.max_onehot = max_onehot

    def fit(self, X, y=None, *, owner=None):
        """Learn every task's levels and fill values.

        Parameters
        ----------
        X : Tasks, list of (X, y), list of X, or one table
        y : ignored unless ``X`` holds features only
        owner : str, default=None
            Estimator named in error messages.

        Returns
        -------
        self
        """
        if self.missing not in MISSING_POLICIES:
            raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {self.missing!r}.")
        tasks, _ = as_tasks(X, y, require_y=False)
        self.plans_ = [self._fit_task(tasks, t, owner) for t in range(tasks.n_tasks)]
        self.feature_names_out_ = [p.output_names() for p in self.plans_]
        self.n_tasks_ = tasks.n_tasks
        return self

    def _fit_task(self, tasks, t, owner):
        X, frame = tasks.Xs[t], tasks.frames[t]
        columns = tasks.feature_names[t] if frame is None else list(frame.columns)
        categorical, onehot = {}, {}
        if frame is not None:
            for j, c in enumerate(columns):
                if _is_categorical(frame[c]):
                    categorical[j] = _levels(frame[c])
                    onehot[j] = len(categorical[j]) <= self.max_onehot
        plan = _TaskPlan(columns, categorical, None, [], onehot)
        values, missing = _encode_columns(plan, X, frame)
        where = _describe(t, tasks.names[t])
        if missing.any():
            self._check_missing(missing, columns, where, owner)
        never = missing.all(0) if len(missing) else np.zeros(len(columns), dtype=bool)
        if self.missing in ("mask", "impute") and never.any():  # no variable to learn
            plan.keep = ~np.isin(plan.origin(), np.flatnonzero(never))
            values = values[:, plan.keep]
        if self.missing == "impute":
            plan.indicate = [j for j in range(len(columns)) if missing[:, j].any() and not never[j]]
            with np.errstate(all="ignore"):
                plan.fill = np.nan_to_num(np.nanmedian(values, axis=0)) if len(values) else None
        return plan

    def _check_missing(self, missing, columns, where, owner):
        counts = missing.sum(0)
        cols = [f"{columns[j]!r} ({int(counts[j])})" for j in np.flatnonzero(counts)]
        if self.missing == "error":
            owner = owner or "this estimator"
            raise ValueError(
                f"{where}: X contains NaN (missing values) in column(s) {', '.join(cols)}; "
                f"{owner} does not handle missing values. Impute them per task, e.g. "
                f"make_pipeline(TaskInputEncoder(missing='impute'), {owner}(...)), or use "
                "SharedVariableEmbeddingClassifier, which treats a missing value as an "
                "absent variable."
            )

    def transform(self, X, *, positions=None, owner=None):
        """Encode every task's table with its fitted plan.

        Parameters
        ----------
        X : Tasks, list of (X, y), list of X, or one table
            One table per fitted task (or per entry of ``positions``).
        positions : list of int, default=None
            Fitted task of every given task (all, in order, when None).
        owner : str, default=None

        Returns
        -------
        Tasks
            Float64 features named as ``feature_names_out_``; targets and metadata kept.
        """
        check_is_fitted(self)
        tasks = X if isinstance(X, Tasks) else as_tasks(X, require_y=False)[0]
        positions = list(range(tasks.n_tasks)) if positions is None else list(positions)
        if len(positions) != tasks.n_tasks:
            raise ValueError(f"{tasks.n_tasks} tasks were given for {len(positions)} positions.")
        Xs, names = [], []
        for i, t in enumerate(positions):
            plan = self.plans_[t]
            if tasks.n_features[i] != len(plan.columns):
                raise ValueError(
                    f"{_describe(i, tasks.names[i])}: X has {tasks.n_features[i]} features, but "
                    f"the encoder is expecting {len(plan.columns)} features as input."
                )
            values, missing = _encode_columns(plan, tasks.Xs[i], tasks.frames[i])
            if missing.any():
                self._check_missing(missing, plan.columns, _describe(i, tasks.names[i]), owner)
            if plan.keep is not None:
                values = values[:, plan.keep]
            if plan.fill is not None:
                values = np.where(np.isnan(values), plan.fill, values)
                values = np.hstack([values, missing[:, plan.indicate].astype(np.float64)])
            Xs.append(values)
            names.append(self.feature_names_out_[t])
        out = Tasks._from_validated(
            Xs, tasks.ys, list(tasks.names), names, tasks.metadata, tasks.metadata_names
        )
        out.input_columns = [list(n) for n in names]  # the next step's input: these columns
        return out


def fit_input_encoder(estimator, tasks, refit=True):
    """Fit (when ``refit``) and apply a neural estimator's per-task input encoder.

    The estimator's class attribute ``_missing_values`` chooses the missing-value policy
    (``"mask"`` for the variable-embedding models, ``"error"`` otherwise); the fitted
    encoder is stored as ``input_encoder_``.

    Parameters
    ----------
    estimator : skmtl estimator
    tasks : Tasks
    refit : bool, default=True

    Returns
    -------
    Tasks
        The encoded training tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> est = BaseEstimator()
    >>> T = fit_input_encoder(est, Tasks([np.zeros((2, 1))], [[0, 1]]))
    >>> type(est.input_encoder_).__name__, T.n_features
    ('TaskInputEncoder', [1])
    """
    owner = type(estimator).__name__
    if refit or getattr(estimator, "input_encoder_", None) is None:
        policy = getattr(estimator, "_missing_values", "error")
        estimator.input_encoder_ = TaskInputEncoder(missing=policy).fit(tasks, owner=owner)
    encoded = estimator.input_encoder_.transform(tasks, owner=owner)
    encoded.input_columns, encoded.input_widths = tasks.input_columns, tasks.input_widths
    return encoded  # the model's variables, with the columns the user gave
