"""The multi-task data model: a validated container of heterogeneous tasks.

Every public entry point of skmtl turns what the user passed into a :class:`Tasks`
through :func:`as_tasks` (for ``fit``/``score``) or :func:`as_task_inputs` (for
``predict``). Validation happens here, once; everything behind it works on plain
float arrays and tensors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils import check_array
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

__all__ = [
    "Tasks",
    "TaskSpec",
    "as_tasks",
    "as_task_inputs",
    "as_input_tasks",
    "check_feature_names",
    "set_task_attributes",
    "validate_task_inputs",
]


@dataclass(frozen=True)
class TaskSpec:
    """Shapes and names of a set of tasks, as an estimator's module needs them.

    Parameters
    ----------
    n_tasks : int
        Number of tasks.
    task_names : list of str
        One name per task.
    n_features : list of int
        Number of input columns of every task.
    feature_names : list of list of str
        Column names of every task.
    n_outputs : list of int
        Classes per task (classifiers) or target columns per task (regressors).
    metadata : ndarray of shape (n_tasks, n_metadata) or None
        Raw task metadata (float64), one row per task.
    metadata_names : list of str
        Names of the metadata columns (empty without metadata).

    Examples
    --------
    >>> spec = TaskSpec(2, ["a", "b"], [3, 4], [["x0", "x1", "x2"], ["x0", "x1", "x2", "x3"]],
    ...                 [2, 3], None, [])
    >>> max(spec.n_outputs)
    3
    """

    n_tasks: int
    task_names: list
    n_features: list
    feature_names: list
    n_outputs: list
    metadata: np.ndarray | None
    metadata_names: list


def _label(value):
    """A label as users wrote it (``3``, ``'a'``), without numpy's repr."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _describe(i, name):
    return f"task {i} ({name!r})" if name is not None and name != f"task_{i}" else f"task {i}"


def _is_2d_like(obj):
    """True for objects that look like one 2-D feature matrix (not a list of them)."""
    if isinstance(obj, pd.DataFrame):
        return True
    if hasattr(obj, "shape") and hasattr(obj, "ndim"):
        return obj.ndim == 2
    if isinstance(obj, (list, tuple)) and len(obj) > 0:
        first = obj[0]
        if isinstance(first, (list, tuple, np.ndarray)) and not isinstance(first, str):
            inner = np.asarray(first, dtype=object)
            return inner.ndim == 1
    return False


def _is_arraylike(obj):
    """True for a non-scalar (an array, a frame, a nested sequence)."""
    return not isinstance(obj, str) and (
        hasattr(obj, "shape") or hasattr(obj, "__len__") and not np.isscalar(obj)
    )


def _is_pair(obj):
    """True for a single ``(X, y)`` task given as a tuple."""
    return isinstance(obj, tuple) and len(obj) == 2 and _is_arraylike(obj[0])


def _is_task_list(obj):
    """True for a list of ``(X, y)`` pairs (a matrix row starts with a scalar instead)."""
    return (
        isinstance(obj, (list, tuple))
        and len(obj) > 0
        and not hasattr(obj, "shape")
        and all(
            isinstance(p, (tuple, list))
            and len(p) == 2
            and _is_arraylike(p[0])
            and _is_arraylike(p[1])
            for p in obj
        )
    )


def _is_list_of_matrices(obj):
    return (
        isinstance(obj, (list, tuple))
        and len(obj) > 0
        and not _is_2d_like(obj)
        and all(_is_2d_like(x) or _looks_like_matrix_attempt(x) for x in obj)
    )


def _looks_like_matrix_attempt(x):
    # arrays of any dimension passed inside a task list are validated (and rejected) later
    return hasattr(x, "shape") or isinstance(x, pd.Series)


def _is_categorical(column):
    """True for a DataFrame column skmtl treats as categorical (category, object, string)."""
    dtype = column.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def _numeric_values(column, where):
    """A numeric or bool DataFrame column as float64 (missing -> NaN)."""
    try:
        if not pd.api.types.is_numeric_dtype(column.dtype):
            raise TypeError
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: column {column.name!r} ({column.dtype}) is neither numeric, bool nor "
            "categorical; convert it first."
        ) from None


def _validate_frame(X, where):
    """Validate a DataFrame task: float64 array (object when categorical) and its frame.

    Returns ``(values, names, frame)``; ``frame`` is None for an all-numeric table, else
    a copy with string column names, a fresh row index, numeric columns as float64 and
    categorical (category / object / string) columns as given.
    """
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"{where}: duplicated column names {dup}.")
    if X.shape[1] == 0:
        raise ValueError(f"{where}: X has 0 feature(s) (shape={X.shape}); a task needs one.")
    categorical = [_is_categorical(X[c]) for c in X.columns]
    numeric = {
        n: _numeric_values(X[c], where)
        for n, c, cat in zip(names, X.columns, categorical)
        if not cat
    }
    for n, v in numeric.items():
        if np.isinf(v).any():
            raise ValueError(f"{where}: Input X contains infinity (column {n!r}).")
    if not any(categorical):
        values = np.column_stack(list(numeric.values())) if numeric else np.zeros((len(X), 0))
        return values.reshape(len(X), len(names)), names, None
    frame = pd.DataFrame(
        {
            n: numeric[n] if not cat else X[c].to_numpy()
            for n, c, cat in zip(names, X.columns, categorical)
        }
    )
    for n, c, cat in zip(names, X.columns, categorical):
        if cat and isinstance(X[c].dtype, pd.CategoricalDtype):
            frame[n] = pd.Categorical(X[c].to_numpy(), dtype=X[c].dtype)
    return frame.to_numpy(dtype=object), names, frame


def _validate_X(X, i, name, allow_nan=False):
    """One numeric task's features as float64 (no categorical columns), and its names.

    For callers that need plain numbers (e.g. a new task of a pooled model); NaN is
    refused unless ``allow_nan``.
    """
    values, names, frame = _validate_table(X, i, name, allow_nan=allow_nan)
    if frame is not None:
        cats = [c for c in frame.columns if _is_categorical(frame[c])]
        raise ValueError(f"{_describe(i, name)}: column(s) {cats} are categorical; encode them.")
    return values, names or [f"x{j}" for j in range(values.shape[1])]


def _validate_table(X, i, name, allow_nan=True):
    """Validate one task's features: 2-D, numeric (or categorical DataFrame columns), no inf.

    Returns ``(values, names, frame)``: float64 values (object for a table with
    categorical columns, whose validated DataFrame is ``frame``; None otherwise), and the
    column names of a DataFrame (None for arrays). NaN marks a missing value; it is
    refused here unless ``allow_nan`` (the estimators decide what a missing value means).
    """
    where = _describe(i, name)
    if isinstance(X, pd.DataFrame):
        values, names, frame = _validate_frame(X, where)
        if frame is not None:
            if not allow_nan and frame.isna().to_numpy().any():
                raise ValueError(f"{where}: Input X contains NaN.")
            return values, names, frame
        X, feature_names = values, names
    elif isinstance(X, pd.Series):
        raise ValueError(
            f"{where}: X is a pandas Series (1-D); pass a DataFrame or a 2-D array, "
            "e.g. X.to_frame() for a single feature."
        )
    else:
        feature_names = None
    if isinstance(X, np.ndarray) and X.dtype.kind in "OSU":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"{where}: X contains non-numeric values (dtype {X.dtype}); pass categorical "
                f"columns in a DataFrame (category, object or string dtype). ({exc})"
            ) from None
    try:
        X = check_array(
            X,
            dtype=np.float64,
            ensure_all_finite="allow-nan" if allow_nan else True,
            ensure_2d=True,
            ensure_min_samples=0,
            ensure_min_features=1,
            input_name="X",
        )
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}: {exc}") from None
    return X, feature_names, None


def _validate_y(y, i, name, n_rows):
    where = _describe(i, name)
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError(f"{where}: y must be 1-D (one label per row), got a scalar.")
    if y.ndim > 2:
        raise ValueError(f"{where}: y must be 1-D or 2-D, got shape {y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(f"{where}: X has {n_rows} rows but y has {y.shape[0]}.")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError(f"{where}: y contains NaN or infinity.")
    if y.dtype.kind == "O":
        flat = y.ravel()
        if any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in flat):
            raise ValueError(f"{where}: y contains missing values (None or NaN).")
    return y


def column_or_1d_labels(y):
    """Flatten a column-vector y with scikit-learn's ``column_or_1d`` (and its warning).

    Other shapes are returned as given (a multi-output ``y`` is left to the estimator).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     column_or_1d_labels([[1], [2]]).shape
    (2,)
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return column_or_1d(y, warn=True)
    return y


def _validate_metadata(metadata, n_tasks):
    if metadata is None:
        return None, []
    if isinstance(metadata, pd.Series):
        metadata = metadata.to_frame()
    if isinstance(metadata, pd.DataFrame):
        names = [str(c) for c in metadata.columns]
        bad = [c for c in metadata.columns if not pd.api.types.is_numeric_dtype(metadata[c])]
        if bad:
            raise ValueError(f"metadata column(s) {bad} are not numeric; encode them first.")
        values = metadata.to_numpy(dtype=np.float64)
    else:
        try:
            values = np.asarray(metadata, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"metadata must be numeric: {exc}") from None
        if values.ndim == 1:
            values = values.reshape(-1, 1)
        names = [f"m{j}" for j in range(values.shape[1] if values.ndim == 2 else 0)]
    if values.ndim != 2:
        raise ValueError(f"metadata must be 2-D (one row per task), got shape {values.shape}.")
    if values.shape[0] != n_tasks:
        raise ValueError(
            f"metadata has {values.shape[0]} rows but there are {n_tasks} tasks; "
            "give exactly one metadata row per task, in task order."
        )
    if not np.all(np.isfinite(values)):
        rows = sorted(set(np.where(~np.isfinite(values))[0].tolist()))
        raise ValueError(f"metadata contains NaN or infinity in the rows of tasks {rows}.")
    return values, names


def _check_task_names(names, n_tasks):
    if names is None:
        return [f"task_{i}" for i in range(n_tasks)]
    names = [str(n) for n in names]
    if len(names) != n_tasks:
        raise ValueError(f"{len(names)} task names were given for {n_tasks} tasks.")
    if len(set(names)) != n_tasks:
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"task names must be unique; duplicated: {dup}.")
    return names


def _check_feature_names_arg(feature_names, Xs, names):
    if len(feature_names) != len(Xs):
        raise ValueError(f"feature_names has {len(feature_names)} entries for {len(Xs)} tasks.")
    for i, fn in enumerate(feature_names):
        if len(fn) != Xs[i].shape[1]:
            raise ValueError(
                f"{_describe(i, names[i])}: {len(fn)} feature names for {Xs[i].shape[1]} columns."
            )
    return [[str(f) for f in fn] for fn in feature_names]


class Tasks:
    """A validated set of heterogeneous tasks, indexable by row like an array.

    Tasks may differ in rows, features and classes. Indexing a ``Tasks`` with global
    row indices (what scikit-learn splitters produce) returns a ``Tasks`` with the same
    tasks holding only those rows, so ``cross_val_score`` splits rows *within* every task.

    Parameters
    ----------
    X : list of array-like of shape (n_rows_t, n_features_t)
        One feature matrix per task: numpy arrays, pandas DataFrames (their column
        names become variable names) or nested lists.
    y : list of array-like of shape (n_rows_t,) or (n_rows_t, n_outputs), default=None
        One target per task; ``None`` for unlabelled tasks (prediction input).
    names : list of str, default=None
        Task names; ``"task_0"``, ``"task_1"``, ... by default. Must be unique.
    metadata : array-like or DataFrame of shape (n_tasks, n_metadata), default=None
        One row of numeric task descriptors per task.
    feature_names : list of list of str, default=None
        Variable names per task, overriding DataFrame columns.

    Attributes
    ----------
    Xs : list of ndarray
        Float64 feature matrices, one per task.
    ys : list of ndarray or None
        Targets as given, one per task.
    names : list of str
    feature_names : list of list of str
    metadata : ndarray of shape (n_tasks, n_metadata) or None
    metadata_names : list of str

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import Tasks
    >>> rng = np.random.default_rng(0)
    >>> T = Tasks([rng.normal(size=(6, 2)), rng.normal(size=(4, 3))],
    ...           [np.array([0, 1] * 3), np.array(["a", "b"] * 2)], names=["first", "second"])
    >>> T.n_tasks, len(T), T.sizes.tolist()
    (2, 10, [6, 4])
    >>> T[[0, 1, 6]].sizes.tolist()
    [2, 1]
    """

    def __init__(self, X, y=None, *, names=None, metadata=None, feature_names=None):
        if isinstance(X, np.ndarray) or not isinstance(X, (list, tuple)):
            raise TypeError(
                "Tasks expects a list of per-task feature matrices; "
                f"got {type(X).__name__}. Wrap a single task as Tasks([X], [y])."
            )
        n_tasks = len(X)
        if n_tasks == 0:
            raise ValueError("no tasks were given: pass at least one (X, y) task.")
        names = _check_task_names(names, n_tasks)
        if y is not None:
            if not isinstance(y, (list, tuple)):
                raise TypeError("y must be a list with one target array per task.")
            if len(y) != n_tasks:
                raise ValueError(f"{n_tasks} feature matrices were given but {len(y)} targets.")
        Xs, columns, frames, ys = [], [], [], [] if y is not None else None
        for i, Xi in enumerate(X):
            Xa, cols, frame = _validate_table(Xi, i, names[i])
            Xs.append(Xa)
            columns.append(cols)
            frames.append(frame)
            if y is not None:
                ys.append(_validate_y(y[i], i, names[i], Xa.shape[0]))
        if feature_names is not None:
            columns = _check_feature_names_arg(feature_names, Xs, names)
            frames = [f if f is None else f.set_axis(c, axis=1) for f, c in zip(frames, columns)]
        fnames = [
            c if c is not None else [f"x{j}" for j in range(x.shape[1])]
            for c, x in zip(columns, Xs)
        ]
        self._set(Xs, ys, names, fnames, *_validate_metadata(metadata, n_tasks))
        self.frames = frames
        self.input_columns = columns
        self.input_widths = [x.shape[1] for x in Xs]

    def _set(self, Xs, ys, names, feature_names, metadata, metadata_names):
        self.Xs, self.ys, self.names = Xs, ys, names
        self.feature_names, self.metadata, self.metadata_names = (
            feature_names,
            metadata,
            metadata_names,
        )

    @classmethod
    def _from_validated(
        cls, Xs, ys, names, feature_names, metadata, metadata_names, *, like=None, frames=None
    ):
        """A ``Tasks`` of already validated parts; input columns as ``like``'s (or none)."""
        obj = cls.__new__(cls)
        obj._set(Xs, ys, names, feature_names, metadata, metadata_names)
        obj.frames = [None] * len(Xs) if frames is None else frames
        obj.input_columns = [None] * len(Xs) if like is None else like.input_columns
        obj.input_widths = [x.shape[1] for x in Xs] if like is None else like.input_widths
        return obj

    # ----------------------------------------------------------------- sizes
    @property
    def n_tasks(self):
        """Number of tasks."""
        return len(self.Xs)

    @property
    def sizes(self):
        """Rows per task, as an int array."""
        return np.array([x.shape[0] for x in self.Xs], dtype=np.int64)

    @property
    def n_features(self):
        """Columns per task, as a list of int."""
        return [x.shape[1] for x in self.Xs]

    @property
    def offsets(self):
        """Global row index at which every task starts (length ``n_tasks + 1``)."""
        return np.concatenate([[0], np.cumsum(self.sizes)])

    def __len__(self):
        return int(self.sizes.sum())

    @property
    def shape(self):
        """``(n_rows,)``: lets scikit-learn's splitters index a ``Tasks`` like an array."""
        return (len(self),)

    @property
    def has_targets(self):
        """Whether every task carries targets."""
        return self.ys is not None

    # -------------------------------------------------------- row-aligned views
    @property
    def task_index(self):
        """Task index of every global row."""
        return np.repeat(np.arange(self.n_tasks), self.sizes)

    @property
    def y(self):
        """Targets of all rows in global row order (object dtype when tasks' dtypes differ).

        This is the vector to pass as ``y`` to scikit-learn's model-selection tools.
        """
        if self.ys is None:
            return None
        if not self.ys:
            return np.array([])
        ys = self.ys
        if len({(y.dtype.kind, y.ndim, y.shape[1:]) for y in ys}) == 1:
            return np.concatenate(ys)
        out = np.empty(len(self), dtype=object)
        pos = 0
        for y in ys:
            for v in y:
                out[pos] = v
                pos += 1
        return out

    @property
    def strata(self):
        """Integer code of (task, label) for every row, for stratified splitting.

        Tasks with continuous targets (or without targets) are stratified by task only.
        """
        codes = np.empty(len(self), dtype=np.int64)
        offsets = self.offsets
        next_code = 0
        for t in range(self.n_tasks):
            sl = slice(offsets[t], offsets[t + 1])
            y = None if self.ys is None else self.ys[t]
            if y is not None and y.ndim == 1 and len(y) and _is_discrete(y):
                _, inv = np.unique(y.astype(str) if y.dtype.kind == "O" else y, return_inverse=True)
                codes[sl] = next_code + inv
                next_code += int(inv.max()) + 1
            else:
                codes[sl] = next_code
                next_code += 1
        return codes

    # --------------------------------------------------------------- indexing
    def __getitem__(self, key):
        if isinstance(key, tuple):  # scikit-learn indexes arrays as array[key, ...]
            key = key[0]
        n = len(self)
        if isinstance(key, slice):
            rows = np.arange(n)[key]
        else:
            rows = np.asarray(key)
            if rows.dtype == bool:
                if rows.shape != (n,):
                    raise IndexError(f"boolean mask of length {rows.shape} for {n} rows.")
                rows = np.flatnonzero(rows)
            elif rows.ndim == 0:
                rows = rows.reshape(1)
            if rows.size and not np.issubdtype(rows.dtype, np.integer):
                raise IndexError("Tasks are indexed by global row numbers (integers).")
            rows = rows.astype(np.int64)
            rows = np.where(rows < 0, rows + n, rows)
            if rows.size and (rows.min() < 0 or rows.max() >= n):
                raise IndexError(f"row index out of range for Tasks with {n} rows.")
        return self.take_rows(rows)

    def take_rows(self, rows):
        """Return a ``Tasks`` holding the given global rows (every task is kept).

        Parameters
        ----------
        rows : array-like of int
            Global row indices, in any order.

        Returns
        -------
        Tasks

        Examples
        --------
        >>> import numpy as np
        >>> T = Tasks([np.zeros((3, 1)), np.ones((2, 1))], [[0, 1, 0], [1, 0]])
        >>> T.take_rows([4]).sizes.tolist()
        [0, 1]
        """
        rows = np.asarray(rows, dtype=np.int64)
        task = self.task_index[rows]
        local = rows - self.offsets[task]
        Xs, frames, ys = [], [], [] if self.ys is not None else None
        for t in range(self.n_tasks):
            sel = local[task == t]
            Xs.append(self.Xs[t][sel])
            frame = self.frames[t]
            frames.append(None if frame is None else frame.iloc[sel].reset_index(drop=True))
            if ys is not None:
                ys.append(self.ys[t][sel])
        return Tasks._from_validated(
            Xs,
            ys,
            list(self.names),
            self.feature_names,
            self.metadata,
            self.metadata_names,
            like=self,
            frames=frames,
        )

    def task(self, t):
        """Return ``(X, y)`` of task ``t`` (``y`` is None for unlabelled tasks).

        ``X`` is the validated DataFrame for a table with categorical columns, else the
        float64 array.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = Tasks([np.zeros((2, 1))], [[0, 1]]).task(0)
        >>> X.shape
        (2, 1)
        """
        X = self.Xs[t] if self.frames[t] is None else self.frames[t]
        return X, None if self.ys is None else self.ys[t]

    def items(self):
        """Iterate over the tasks as ``(X, y)`` pairs, in task order.

        A ``Tasks`` is indexed and sized by *rows* (``len(T)``, ``T[rows]``), as
        scikit-learn's splitters need, so iterating over it directly is refused; this
        method is the iteration over tasks. ``X`` is as :meth:`task` returns it.

        Examples
        --------
        >>> import numpy as np
        >>> T = Tasks([np.zeros((2, 1)), np.ones((3, 2))], [[0, 1], [1, 0, 1]])
        >>> [(X.shape, len(y)) for X, y in T.items()]
        [((2, 1), 2), ((3, 2), 3)]
        """
        return (self.task(t) for t in range(self.n_tasks))

    def __iter__(self):
        raise TypeError(
            "a Tasks is indexed by rows (len(T) is the number of rows), so it is not "
            "iterated directly; iterate over its tasks with `for X, y in T.items()`."
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a Tasks holds one table per task and is not one array: a plain scikit-learn "
            "transformer cannot take it. Wrap the transformer so that it is fitted per task, "
            "e.g. make_pipeline(PerTaskTransformer(StandardScaler()), estimator) "
            "(skmtl.preprocessing.PerTaskTransformer)."
        )

    def with_features(self, Xs):
        """Return a copy whose feature matrices are ``Xs`` (same rows per task).

        Names come from ``Xs`` where they are DataFrames, else are kept when a task's
        width is unchanged (``x0``, ``x1``, ... otherwise). Targets and metadata are kept.

        Examples
        --------
        >>> import numpy as np
        >>> T = Tasks([np.zeros((2, 1))], [[0, 1]], feature_names=[["a"]])
        >>> T.with_features([np.ones((2, 1))]).feature_names
        [['a']]
        """
        fnames, columns, frames, Xv = [], [], [], []
        for i, x in enumerate(Xs):
            values, cols, frame = _validate_table(x, i, self.names[i])
            if values.shape[0] != self.Xs[i].shape[0]:
                raise ValueError(f"{_describe(i, self.names[i])}: row count changed.")
            if cols is None and values.shape[1] == self.Xs[i].shape[1]:
                cols = self.input_columns[i]
                fnames.append(self.feature_names[i])
            else:
                fnames.append(cols or [f"x{j}" for j in range(values.shape[1])])
            Xv.append(values)
            columns.append(cols)
            frames.append(frame)
        out = Tasks._from_validated(
            Xv, self.ys, list(self.names), fnames, self.metadata, self.metadata_names
        )
        out.frames, out.input_columns = frames, columns
        return out

    def spec(self, n_outputs):
        """The :class:`TaskSpec` of these tasks with ``n_outputs`` per task."""
        return TaskSpec(
            n_tasks=self.n_tasks,
            task_names=list(self.names),
            n_features=self.n_features,
            feature_names=[list(f) for f in self.feature_names],
            n_outputs=[int(k) for k in n_outputs],
            metadata=None if self.metadata is None else self.metadata.copy(),
            metadata_names=list(self.metadata_names),
        )

    def __repr__(self):
        return (
            f"Tasks(n_tasks={self.n_tasks}, rows={self.sizes.tolist()[:8]}"
            f"{'...' if self.n_tasks > 8 else ''}, features={self.n_features[:8]}"
            f"{'...' if self.n_tasks > 8 else ''}, metadata="
            f"{None if self.metadata is None else self.metadata.shape})"
        )


def _is_discrete(y):
    if y.dtype.kind in "OUSb":
        return True
    if y.dtype.kind in "iu":
        return True
    try:
        return type_of_target(y) in ("binary", "multiclass")
    except ValueError:
        return False


def _with_row_targets(tasks, y):
    """``tasks`` with targets taken from ``y``, one entry per row in global row order."""
    y = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    off = tasks.offsets
    ys = [
        _validate_y(y[off[t] : off[t + 1]], t, tasks.names[t], tasks.sizes[t])
        for t in range(tasks.n_tasks)
    ]
    out = Tasks._from_validated(
        tasks.Xs,
        ys,
        tasks.names,
        tasks.feature_names,
        tasks.metadata,
        tasks.metadata_names,
        like=tasks,
        frames=tasks.frames,
    )
    return out


def as_tasks(X, y=None, metadata=None, *, require_y=True):
    """Coerce the accepted input forms of ``fit``/``score`` into a :class:`Tasks`.

    Accepted forms: a :class:`Tasks`; a list of ``(X, y)`` pairs; a single ``(X, y)``
    tuple; ``X, y`` given separately either as two lists (one entry per task) or as one
    feature matrix and one target (a single task).

    Parameters
    ----------
    X : Tasks, list of (X, y), tuple (X, y), list of array-like, or array-like
    y : list of array-like or array-like, default=None
    metadata : array-like or DataFrame of shape (n_tasks, n_metadata), default=None
    require_y : bool, default=True
        Raise when targets are missing.

    Returns
    -------
    tasks : Tasks
    single : bool
        True when the input was one plain ``(X, y)`` task (results are then returned
        as arrays rather than lists).

    Examples
    --------
    >>> import numpy as np
    >>> T, single = as_tasks(np.zeros((4, 2)), [0, 1, 0, 1])
    >>> T.n_tasks, single
    (1, True)
    """
    single = False
    if isinstance(X, Tasks):
        tasks = X
        if y is not None and len(y) != len(tasks):
            raise ValueError(f"y has {len(y)} entries but the Tasks hold {len(tasks)} rows.")
        if y is not None and not tasks.has_targets:  # e.g. from a Pipeline's transform step
            tasks = _with_row_targets(tasks, y)
        if metadata is not None:
            tasks = Tasks._from_validated(
                tasks.Xs,
                tasks.ys,
                tasks.names,
                tasks.feature_names,
                *_validate_metadata(metadata, tasks.n_tasks),
                like=tasks,
                frames=tasks.frames,
            )
    elif y is None and _is_pair(X):
        tasks, single = Tasks([X[0]], [X[1]], metadata=metadata), True
    elif y is None and _is_task_list(X):
        tasks = Tasks([p[0] for p in X], [p[1] for p in X], metadata=metadata)
    elif y is not None and _is_list_of_matrices(X):
        if not isinstance(y, (list, tuple)) or len(y) != len(X):
            raise ValueError(
                f"{len(X)} feature matrices were given; y must be a list of {len(X)} targets."
            )
        tasks = Tasks(list(X), list(y), metadata=metadata)
    elif isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError("no tasks were given: pass at least one (X, y) task.")
    elif y is None and _is_list_of_matrices(X):
        tasks = Tasks(list(X), None, metadata=metadata)
    elif y is None:
        if require_y:
            raise ValueError(
                "this estimator requires y to be passed, but the target y is None: pass a "
                "list of (X, y) tasks, a Tasks with targets, or X and y."
            )
        tasks, single = Tasks([X], None, metadata=metadata), True
    else:
        tasks, single = Tasks([X], [y], metadata=metadata), True
    if require_y and not tasks.has_targets:
        raise ValueError("these tasks carry no targets (y); fit and score need them.")
    return tasks, single


def as_input_tasks(
    X, n_tasks, feature_counts=None, task_names=None, owner="the model", feature_names=None
):
    """Validate the features given to ``predict``-like methods into an unlabelled ``Tasks``.

    Parameters
    ----------
    X : Tasks, list of array-like, list of (X, y), or array-like
        One feature matrix per fitted task, in fit order; a single matrix when the
        model was fitted on one task.
    n_tasks : int
        Number of tasks the model was fitted on.
    feature_counts : list of int, default=None
        Column count of every fitted task, checked when given.
    task_names : list of str, default=None
        Names used in error messages.
    owner : str, default="the model"
        Name of the estimator, used in error messages.
    feature_names : list of (list of str or None), default=None
        Column names seen at fit per task (None for a task fitted on an array); checked
        by :func:`check_feature_names` when given.

    Returns
    -------
    tasks : Tasks
    single : bool
        True when one plain matrix was given.

    Examples
    --------
    >>> import numpy as np
    >>> T, single = as_input_tasks([np.zeros((2, 3))], n_tasks=1, feature_counts=[3])
    >>> T.n_features, single
    ([3], False)
    """
    single = False
    if isinstance(X, Tasks):
        tasks = X
    elif _is_list_of_matrices(X):
        tasks = Tasks(list(X), names=_names_for(task_names, len(X)))
    elif _is_task_list(X):
        tasks = Tasks([p[0] for p in X], names=_names_for(task_names, len(X)))
    elif isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(f"no tasks were given; the model was fitted on {n_tasks} task(s).")
    else:
        if n_tasks != 1:
            raise ValueError(
                f"a single feature matrix was given but the model was fitted on {n_tasks} "
                f"tasks; pass a list of {n_tasks} matrices (one per task, in fit order)."
            )
        tasks, single = Tasks([X], names=_names_for(task_names, 1)), True
    if tasks.n_tasks != n_tasks:
        raise ValueError(
            f"{tasks.n_tasks} tasks were given but the model was fitted on {n_tasks}; "
            "pass one feature matrix per fitted task, in fit order."
        )
    if feature_counts is not None:
        for i, width in enumerate(tasks.n_features):
            if width != feature_counts[i]:
                nm = None if task_names is None else task_names[i]
                raise ValueError(
                    f"{_describe(i, nm)}: X has {width} features, but {owner} is "
                    f"expecting {feature_counts[i]} features as input for this task."
                )
    if feature_names is not None:
        check_feature_names(tasks, feature_names, task_names, owner)
    return tasks, single


def _names_for(task_names, n):
    return list(task_names) if task_names is not None and len(task_names) == n else None


def as_task_inputs(
    X, n_tasks, feature_counts=None, task_names=None, owner="the model", feature_names=None
):
    """Validate the features given to ``predict``-like methods into arrays.

    As :func:`as_input_tasks`, returning the validated matrices instead of a ``Tasks``.

    Returns
    -------
    Xs : list of ndarray
    single : bool
        True when one plain matrix was given.

    Examples
    --------
    >>> import numpy as np
    >>> Xs, single = as_task_inputs([np.zeros((2, 3))], n_tasks=1, feature_counts=[3])
    >>> single
    False
    """
    tasks, single = as_input_tasks(X, n_tasks, feature_counts, task_names, owner, feature_names)
    return tasks.Xs, single


def check_feature_names(tasks, fitted, task_names=None, owner="the model"):
    """Check every task's column names against those seen at fit (as scikit-learn does).

    Columns that are renamed, missing, added or in another order are refused with a
    ``ValueError`` naming the task and the columns (reordering is not repaired: a silent
    repair would hide a wrong column mapping upstream). A task given as an array to a
    model fitted with names, or the reverse, only warns (``UserWarning``), like
    scikit-learn.

    Parameters
    ----------
    tasks : Tasks
        The inputs (``tasks.input_columns`` holds their names, None for arrays).
    fitted : list of (list of str or None)
        Names seen at fit per task.
    task_names : list of str, default=None
    owner : str, default="the model"

    Examples
    --------
    >>> import pandas as pd
    >>> T = Tasks([pd.DataFrame({"b": [1.0], "a": [2.0]})])
    >>> check_feature_names(T, [["a", "b"]])
    Traceback (most recent call last):
    ...
    ValueError: task 0: the feature names should match those that were passed during fit; ...
    """
    for i, (given, seen) in enumerate(zip(tasks.input_columns, fitted)):
        where = _describe(i, None if task_names is None else task_names[i])
        if given is None and seen is None:
            continue
        if given is None or seen is None:
            warnings.warn(
                f"{where}: X does not have valid feature names, but {owner} was fitted with "
                "feature names"
                if given is None
                else f"{where}: X has feature names, but {owner} was fitted without feature names",
                UserWarning,
                stacklevel=4,
            )
            continue
        if list(given) != list(seen):
            raise ValueError(f"{where}: {_name_mismatch(list(given), list(seen))}")


def _name_mismatch(given, seen):
    msg = "the feature names should match those that were passed during fit; "
    unseen = [c for c in given if c not in seen]
    missing = [c for c in seen if c not in given]
    parts = []
    if unseen:
        parts.append(f"feature names unseen at fit time: {unseen}")
    if missing:
        parts.append(f"feature names seen at fit time, yet now missing: {missing}")
    if not parts:
        parts.append(
            f"the same columns in another order: got {given}, expected {seen}; "
            "select them in fit order, e.g. X[fitted.task_feature_names_in_[t]]"
        )
    return msg + "; ".join(parts) + "."


def set_task_attributes(estimator, tasks):
    """Set the fitted task attributes every estimator exposes, from its training tasks.

    ``n_tasks_``, ``task_names_``; ``n_features_per_task_`` and ``feature_names_per_task_``
    (the variables the model sees, after any per-task encoding such as ``color=green``);
    ``task_feature_names_in_`` (per task, the column names seen at fit as an object array,
    or None for a task given as an array) and ``task_n_features_in_`` (columns given per
    task); ``n_features_in_`` when every task was given the same number of columns and
    ``feature_names_in_`` when every task was given the same column names (one feature
    space), as in scikit-learn.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.base import BaseEstimator
    >>> est = BaseEstimator()
    >>> frame = pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 2.0]})
    >>> set_task_attributes(est, Tasks([frame, frame], names=["p", "q"]))
    >>> est.n_features_in_, est.feature_names_in_.tolist()
    (2, ['a', 'b'])
    """
    estimator.n_tasks_ = tasks.n_tasks
    estimator.task_names_ = list(tasks.names)
    estimator.n_features_per_task_ = list(tasks.n_features)
    estimator.feature_names_per_task_ = [list(f) for f in tasks.feature_names]
    estimator.task_feature_names_in_ = [
        None if c is None else np.asarray(c, dtype=object) for c in tasks.input_columns
    ]
    estimator.task_n_features_in_ = list(tasks.input_widths)
    for attr in ("n_features_in_", "feature_names_in_"):
        if hasattr(estimator, attr):
            delattr(estimator, attr)
    if len(set(tasks.input_widths)) == 1:
        estimator.n_features_in_ = tasks.input_widths[0]
    columns = tasks.input_columns
    if all(c is not None for c in columns) and all(list(c) == list(columns[0]) for c in columns):
        estimator.feature_names_in_ = np.asarray(columns[0], dtype=object)


def validate_task_inputs(estimator, X, task=None):
    """Validate a fitted estimator's ``predict``-time features, encoded as at fit.

    Widths and column names are checked against those seen at fit
    (``task_n_features_in_``, ``task_feature_names_in_``); then the estimator's fitted
    per-task input encoder (``input_encoder_``, when it has one) is applied.

    Parameters
    ----------
    estimator : fitted skmtl estimator
    X : Tasks, list of array-like, or array-like
    task : int or None, default=None
        Position of the fitted task whose rows ``X`` (one matrix) holds.

    Returns
    -------
    tasks : Tasks
        Unlabelled, one task per requested task.
    single : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.baselines import PerTaskClassifier
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> clf = PerTaskClassifier().fit(X, [0, 1, 0, 1])
    >>> validate_task_inputs(clf, X)[0].n_features
    [2]
    """
    positions = range(estimator.n_tasks_) if task is None else [task]
    seen = getattr(estimator, "task_feature_names_in_", None)
    tasks, single = as_input_tasks(
        X,
        len(positions),
        [estimator.task_n_features_in_[t] for t in positions],
        [estimator.task_names_[t] for t in positions],
        owner=type(estimator).__name__,
        feature_names=None if seen is None else [seen[t] for t in positions],
    )
    encoder = getattr(estimator, "input_encoder_", None)
    if encoder is not None:
        tasks = encoder.transform(tasks, positions=list(positions), owner=type(estimator).__name__)
    return tasks, single or task is not None
