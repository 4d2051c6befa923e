"""Splitting multi-task data: rows are split within every task."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection._split import _BaseKFold
from sklearn.utils import check_random_state

from skmtl.tasks import Tasks, _is_discrete, as_tasks

__all__ = ["TaskStratifiedKFold", "hypernet_paper_split", "task_train_test_split"]


def _strata(X, y=None, groups=None):
    if isinstance(X, Tasks):
        return X.strata
    if groups is not None and y is not None:
        _, codes = np.unique(
            np.char.add(
                np.asarray(groups).astype(str), np.char.add("\x00", np.asarray(y).astype(str))
            ),
            return_inverse=True,
        )
        return codes
    if groups is not None:
        return np.unique(np.asarray(groups).astype(str), return_inverse=True)[1]
    raise ValueError("TaskStratifiedKFold needs a Tasks as X, or groups (task ids) and y.")


class TaskStratifiedKFold(_BaseKFold):
    """K-fold that stratifies by task and label together.

    Every fold holds rows of every task and, where a task has enough rows of a class,
    of every class; regression tasks are stratified by task only. Use it with a
    :class:`~skmtl.tasks.Tasks` as ``X`` (or with ``groups`` = task index per row and
    ``y``) in any scikit-learn model-selection tool.

    Parameters
    ----------
    n_splits : int, default=5
    shuffle : bool, default=True
    random_state : int, RandomState or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import Tasks
    >>> T = Tasks([np.zeros((10, 1)), np.zeros((6, 2))], [[0, 1] * 5, ["a", "b"] * 3])
    >>> cv = TaskStratifiedKFold(n_splits=3, random_state=0)
    >>> [T[test].sizes.tolist() for _, test in cv.split(T)]
    [[4, 2], [3, 2], [3, 2]]
    """

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - unused
        raise NotImplementedError

    def split(self, X, y=None, groups=None):
        """Generate train/test row indices, stratified by (task, label)."""
        strata = _strata(X, y, groups)
        skf = StratifiedKFold(self.n_splits, shuffle=self.shuffle, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class")
            yield from skf.split(np.zeros(len(strata)), strata)


def split_within_tasks(ys, fraction, *, stratify, rng):
    """Split every task's rows into a kept and a held-out part (the one splitter).

    Within every task (and, where ``stratify``, within every class of it) ``floor(fraction
    * n)`` rows are held out, at most ``n - 1``: every class keeps at least one row, a
    class with too few rows gives none, and a task of one row keeps it. Used for the
    estimators' validation split and by :func:`task_train_test_split`.

    Parameters
    ----------
    ys : list of ndarray
        Targets per task.
    fraction : float
        Share of every task's rows held out, in [0, 1).
    stratify : bool or list of bool
        Stratify by label within every task (or per task).
    rng : numpy.random.Generator

    Returns
    -------
    kept, held_out : list of ndarray
        Sorted local row indices per task.

    Examples
    --------
    >>> kept, out = split_within_tasks([np.array([0, 1] * 10)], 0.2, stratify=True,
    ...                                rng=np.random.default_rng(0))
    >>> len(kept[0]), len(out[0])
    (16, 4)
    """
    if isinstance(stratify, bool):
        stratify = [stratify] * len(ys)
    kept, held = [], []
    for y, strat in zip(ys, stratify):
        n = len(y)
        if fraction <= 0 or n < 2:
            kept.append(np.arange(n))
            held.append(np.arange(0))
            continue
        groups = [np.flatnonzero(y == c) for c in np.unique(y)] if strat else [np.arange(n)]
        out = []
        for g in groups:
            k = min(int(np.floor(fraction * len(g))), len(g) - 1)
            if k > 0:
                out.append(rng.choice(g, size=k, replace=False))
        out = np.sort(np.concatenate(out)) if out else np.arange(0)
        kept.append(np.setdiff1d(np.arange(n), out))
        held.append(out)
    return kept, held


def task_train_test_split(X, y=None, *, test_size=0.2, stratify=True, random_state=None):
    """Split every task's rows into train and test parts.

    Classification tasks are stratified by label when ``stratify``; ``floor(test_size *
    n)`` rows of every task (or class) go to the test part, and every task and class
    keeps at least one training row (see :func:`split_within_tasks`).

    Parameters
    ----------
    X : Tasks, list of (X, y), ...
        Anything ``fit`` accepts.
    y : targets when ``X`` holds features only
    test_size : float in (0, 1), default=0.2
    stratify : bool, default=True
    random_state : int, RandomState or None, default=None

    Returns
    -------
    train, test : Tasks

    Examples
    --------
    >>> import numpy as np
    >>> tr, te = task_train_test_split([(np.zeros((10, 2)), [0, 1] * 5)], random_state=0)
    >>> tr.sizes.tolist(), te.sizes.tolist()
    ([8], [2])
    """
    tasks, _ = as_tasks(X, y)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}.")
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    stratify = [stratify and y.ndim == 1 and _is_discrete(y) for y in tasks.ys]
    train, test = split_within_tasks(
        tasks.ys, test_size, stratify=stratify, rng=np.random.default_rng(seed)
    )
    train_rows = np.concatenate([tasks.offsets[t] + r for t, r in enumerate(train)])
    test_rows = np.concatenate([tasks.offsets[t] + r for t, r in enumerate(test)])
    return tasks.take_rows(train_rows), tasks.take_rows(test_rows)


def _paper_split_counts(n_rows, n_per_task):
    """``(n_train, n_validation, n_test)`` of one task under the authors' rule."""
    if n_per_task is None:
        n_test = int(0.2 * n_rows)
    else:
        n_test = max(0, n_rows - int(n_per_task))
    n_fit = n_rows - n_test
    n_valid = int(n_fit * 0.2 / 0.8)
    return n_fit - n_valid, n_valid, n_test


def hypernet_paper_split(X, y=None, *, n_per_task=None, return_validation=False, random_state=None):
    """Split every task's rows as the hypernetwork paper's authors did.

    Per task, a seeded shuffle puts ``n_per_task`` rows in the fitting part and all the
    remaining rows in the test part (Cubic: ``n_per_task=10``, Robot Arm: 20); with
    ``n_per_task=None``, ``int(0.2 n)`` rows are test (60/20/20 overall, Algorithms and
    Chlorophyll). ``int(n_fit * 0.2 / 0.8)`` (about a quarter) of the fitting rows are
    validation: returned as their own part with ``return_validation=True``, or carved by
    the estimator's ``validation_fraction=0.25`` during ``fit`` (``floor(0.25 n_fit)``, the
    same count). A task with fewer than ``n_per_task`` rows keeps them all for fitting.

    Parameters
    ----------
    X : Tasks, list of (X, y), ...
        Anything ``fit`` accepts (task metadata is kept in every part).
    y : targets when ``X`` holds features only
    n_per_task : int or None, default=None
        Train + validation rows per task; ``None``: 80 % of each task's rows.
    return_validation : bool, default=False
        Return ``(train, validation, test)`` instead of ``(fit, test)``.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    fit, test : Tasks
        Or ``train, validation, test`` with ``return_validation=True``.

    Examples
    --------
    >>> import numpy as np
    >>> tasks = [(np.zeros((500, 1)), np.zeros(500))] * 2
    >>> parts = hypernet_paper_split(tasks, n_per_task=10, return_validation=True,
    ...                              random_state=0)
    >>> [p.sizes.tolist() for p in parts]
    [[8, 8], [2, 2], [490, 490]]
    """
    tasks, _ = as_tasks(X, y)
    if n_per_task is not None and (int(n_per_task) != n_per_task or n_per_task < 1):
        raise ValueError(f"n_per_task must be a positive int or None, got {n_per_task!r}")
    rs = check_random_state(random_state)
    parts = ([], [], [])
    for t in range(tasks.n_tasks):
        n = int(tasks.sizes[t])
        n_train, n_valid, _ = _paper_split_counts(n, n_per_task)
        order = tasks.offsets[t] + rs.permutation(n)
        bounds = (0, n_train, n_train + n_valid, n)
        for part, lo, hi in zip(parts, bounds[:-1], bounds[1:]):
            part.append(np.sort(order[lo:hi]))
    train, valid, test = (tasks.take_rows(np.concatenate(p)) for p in parts)
    if return_validation:
        return train, valid, test
    fit_rows = np.sort(np.concatenate(parts[0] + parts[1]))
    return tasks.take_rows(fit_rows), test
