"""PMLB loader: real datasets through the ``pmlb`` client and its local cache."""

from __future__ import annotations

import difflib
import warnings

import numpy as np

from skmtl.datasets._home import get_data_home
from skmtl.tasks import Tasks

__all__ = ["load_pmlb_tasks", "pmlb_summary"]

_KINDS = ("classification", "regression")


def pmlb_summary():
    """PMLB's own table of datasets (rows, features, classes, task kind).

    Returns
    -------
    pandas.DataFrame
        One row per PMLB dataset, as shipped with the ``pmlb`` package.

    Examples
    --------
    >>> s = pmlb_summary()
    >>> {"dataset", "n_instances", "n_features", "task"} <= set(s.columns)
    True
    """
    from pmlb.dataset_lists import df_summary

    return df_summary.copy()


def _cached_names(cache_dir):
    if not cache_dir.is_dir():
        return set()
    return {p.name for p in cache_dir.iterdir() if (p / f"{p.name}.tsv.gz").is_file()}


def _size_filter(summary, candidates, max_features, max_rows):
    """The candidates under the size limits, and why the others were dropped."""
    selected, dropped = [], {}
    for n in candidates:
        row = summary.loc[n]
        if row["n_features"] >= max_features:
            dropped[n] = f"{int(row['n_features'])} features >= {max_features}"
        elif row["n_instances"] >= max_rows:
            dropped[n] = f"{int(row['n_instances'])} rows >= {max_rows}"
        else:
            selected.append(n)
    return selected, dropped


def _check_names(selected, summary, cached, kind, cache_dir):
    """Refuse unknown names (with close matches) and datasets of the other kind."""
    known = set(summary.index) | cached
    unknown = [n for n in selected if n not in known]
    if unknown:
        hints = {n: difflib.get_close_matches(n, sorted(known), n=3, cutoff=0.6) for n in unknown}
        hint = "; ".join(f"{n!r}: did you mean {m}?" for n, m in hints.items() if m)
        local = sorted(n for n in cached if n in summary.index and summary.loc[n, "task"] == kind)
        raise ValueError(
            f"unknown PMLB dataset(s) {unknown}. {hint + ' ' if hint else ''}Available locally "
            f"in {cache_dir} ({len(local)} {kind} datasets): "
            f"{local[:30]}{' ...' if len(local) > 30 else ''}"
        )
    other = {n: summary.loc[n, "task"] for n in selected if n in summary.index}
    other = {n: k for n, k in other.items() if k != kind}
    if other:
        kinds = sorted(set(other.values()))
        raise ValueError(
            f"PMLB dataset(s) {sorted(other)} are {'/'.join(kinds)} datasets, not {kind}; "
            f"load them with kind={kinds[0]!r}."
        )


def _select(names, kind, summary, cached, cache_dir, max_features, max_rows):
    """The datasets to load and those the size filter dropped (``names`` as the loader's)."""
    if names is None or (isinstance(names, str) and names == "all"):
        candidates = summary.index[summary["task"] == kind]
        if names is None:
            candidates = [n for n in candidates if n in cached]
        return _size_filter(summary, sorted(candidates), max_features, max_rows)
    selected = [names] if isinstance(names, str) else list(names)
    _check_names(selected, summary, cached, kind, cache_dir)
    return selected, {}


def _fetch(name, cache_dir, cached):
    """One dataset's features (DataFrame) and target through ``pmlb.fetch_data``."""
    import pmlb

    try:
        with warnings.catch_warnings():  # pmlb calls pandas APIs that pandas deprecates
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*inplace keyword.*")
            frame = pmlb.fetch_data(name, local_cache_dir=str(cache_dir))
    except Exception as exc:  # network errors on an offline machine
        local = sorted(cached)
        raise ValueError(
            f"PMLB dataset {name!r} is not in the local cache {cache_dir} and could not be "
            f"downloaded ({type(exc).__name__}: {exc}). Available locally: "
            f"{local[:30]}{' ...' if len(local) > 30 else ''}"
        ) from None
    return frame.drop(columns="target"), frame["target"].to_numpy()


def load_pmlb_tasks(
    names=None,
    kind="classification",
    max_features=1000,
    max_rows=500_000,
    data_home=None,
    min_class_count=1,
):
    """Load PMLB datasets as tasks, through ``pmlb.fetch_data`` and its local cache.

    On a connected machine datasets missing from the cache are downloaded into it; on
    an offline one they are read from ``<data_home>/pmlb/<name>/<name>.tsv.gz``.

    Parameters
    ----------
    names : list of str, "all" or None, default=None
        Datasets to load. ``None``: every dataset of ``kind`` already in the local
        cache; ``"all"``: every dataset of ``kind`` that PMLB lists (downloads what is
        missing). Explicit names are loaded even if the size filter would drop them.
    kind : {"classification", "regression"}, default="classification"
    max_features : int, default=1000
        Keep datasets with fewer than this many features (when ``names`` is None/"all").
    max_rows : int, default=500_000
        Keep datasets with fewer than this many rows (when ``names`` is None/"all").
    data_home : str or path-like, default=None
        See :func:`~skmtl.datasets.get_data_home`.
    min_class_count : int, default=1
        Classification: drop rows of classes with fewer rows than this (the benchmark
        protocol uses 2).

    Returns
    -------
    tasks : Tasks
        One task per dataset, named after it, with PMLB's column names as variable
        names; targets as PMLB stores them.
    info : dict
        ``filter`` (the filter applied), ``dropped`` (datasets filtered out and why),
        ``cache_dir``.

    Raises
    ------
    ValueError
        For an unknown dataset name (with the closest known names and the datasets
        available locally), or a dataset of the other ``kind`` (PMLB's own table says
        which; a regression target would otherwise be read as hundreds of classes).

    Examples
    --------
    >>> tasks, info = load_pmlb_tasks(["analcatdata_aids"])
    >>> tasks.names
    ['analcatdata_aids']
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    cache_dir = get_data_home(data_home) / "pmlb"
    summary = pmlb_summary().set_index("dataset")
    cached = _cached_names(cache_dir)
    selected, dropped = _select(names, kind, summary, cached, cache_dir, max_features, max_rows)
    Xs, ys, feature_names, task_names = [], [], [], []
    for n in selected:
        X, y = _fetch(n, cache_dir, cached)
        if kind == "classification" and min_class_count > 1:
            labels, counts = np.unique(y, return_counts=True)
            keep = np.isin(y, labels[counts >= min_class_count])
            X, y = X[keep], y[keep]
        Xs.append(X.astype(np.float64))
        ys.append(y)
        feature_names.append([str(c) for c in X.columns])
        task_names.append(n)
    if not task_names:
        raise ValueError(
            f"no PMLB {kind} datasets matched (cache {cache_dir}); pass names=... or "
            "names='all' on a connected machine."
        )
    tasks = Tasks(Xs, ys, names=task_names, feature_names=feature_names)
    info = {
        "filter": {
            "kind": kind,
            "max_features": max_features,
            "max_rows": max_rows,
            "min_class_count": min_class_count,
        },
        "dropped": dropped,
        "cache_dir": str(cache_dir),
    }
    return tasks, info
