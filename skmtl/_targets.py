"""Target encoding: every task's labels as class codes, or its targets standardised.

Plain functions of the tasks' ``ys``; the estimators in :mod:`skmtl.base` keep the
returned statistics as fitted attributes.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from skmtl.tasks import _describe, _label

__all__ = ["encode_labels", "standardise", "target_matrices"]


def _labels_1d(y, where):
    """One label per row (a column vector is flattened with sklearn's warning)."""
    y = np.asarray(y)
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise ValueError(
            f"{where}: y has shape {y.shape}; multi-output classification is not "
            "supported (give one label per row)."
        )
    return column_or_1d(y, warn=True)


def encode_labels(ys, names, previous=None):
    """Classes and int64 class codes of every task's labels.

    Parameters
    ----------
    ys : list of array-like
        Labels per task (any hashable labels).
    names : list of str
        Task names (for error messages).
    previous : list of ndarray or None
        The classes of an earlier fit (warm start): the labels must have the same.

    Returns
    -------
    classes : list of ndarray
    codes : list of ndarray of int64

    Examples
    --------
    >>> classes, codes = encode_labels([["b", "a", "b"]], ["t0"])
    >>> classes[0].tolist(), codes[0].tolist()
    (['a', 'b'], [1, 0, 1])
    """
    classes, codes = [], []
    for i, y in enumerate(ys):
        where = _describe(i, names[i])
        y = _labels_1d(y, where)
        try:
            check_classification_targets(y)
            cls, enc = np.unique(y, return_inverse=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if len(cls) < 2:
            raise ValueError(
                f"{where} has only one class ({_label(cls[0])}); a classifier needs at least "
                "2 classes in every task (1 class found)."
            )
        if previous is not None:
            old = previous[i]
            if len(old) != len(cls) or not np.all(old == cls):
                raise ValueError(
                    f"{where}: warm_start=True needs the same classes as before "
                    f"({list(old)}), got {list(cls)}."
                )
        classes.append(cls)
        codes.append(enc.astype(np.int64))
    return classes, codes


def target_matrices(ys, names):
    """Every task's numeric targets as a float64 (n_rows, n_targets) matrix.

    Examples
    --------
    >>> [m.shape for m in target_matrices([[1, 2], [[1, 2], [3, 4], [5, 6]]], ["a", "b"])]
    Traceback (most recent call last):
    ...
    ValueError: every task needs the same number of target columns; got [1, 2].
    >>> [m.shape for m in target_matrices([[1, 2], [3, 4, 5]], ["a", "b"])]
    [(2, 1), (3, 1)]
    """
    out = []
    for i, y in enumerate(ys):
        where = _describe(i, names[i])
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: regression targets must be numeric.") from None
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{where}: y contains NaN or infinity.")
        out.append(y.reshape(len(y), -1))
    widths = [m.shape[1] for m in out]
    if len(set(widths)) > 1:
        raise ValueError(f"every task needs the same number of target columns; got {widths}.")
    return out


def standardise(matrices, pooled=False):
    """Mean and scale (std, 1 where constant) of every matrix's columns, ignoring NaN.

    Parameters
    ----------
    matrices : list of ndarray of shape (n_rows_t, n_columns)
    pooled : bool, default=False
        One mean and scale over all matrices' rows, repeated for every matrix.

    Returns
    -------
    means, scales : list of ndarray

    Examples
    --------
    >>> means, scales = standardise([np.array([[0.0], [2.0]]), np.array([[5.0], [5.0]])])
    >>> [m.tolist() for m in means], [s.tolist() for s in scales]
    ([[1.0], [5.0]], [[1.0], [1.0]])
    """
    if pooled:
        mean, scale = standardise([np.concatenate(matrices)])
        return [mean[0].copy() for _ in matrices], [scale[0].copy() for _ in matrices]
    means = [np.nanmean(m, 0) for m in matrices]  # NaN: a missing (masked) value
    scales = []
    for m in matrices:
        s = np.nanstd(m, 0)
        scales.append(np.where(s > 1e-12, s, 1.0))
    return means, scales
