"""OpenML loader: real datasets through ``openml-python`` and its local cache."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from skmtl.datasets._home import get_data_home
from skmtl.tasks import Tasks

__all__ = ["load_openml_tasks", "TEST_SERVER"]

_CATEGORICAL = ("raw", "onehot", "ordinal", "raise")

#: the OpenML test server (the shared offline cache holds its datasets)
TEST_SERVER = "https://test.openml.org/api/v1/xml"


@contextlib.contextmanager
def _openml_config(cache_dir, server):
    import openml

    old_server = openml.config.server
    old_root = getattr(openml.config, "_root_cache_directory", None)
    old_retries = openml.config.connection_n_retries
    try:
        openml.config.set_root_cache_directory(str(cache_dir))
        if server is not None:
            openml.config.server = server
        openml.config.connection_n_retries = 1
        yield openml
    finally:
        openml.config.server = old_server
        openml.config.connection_n_retries = old_retries
        if old_root is not None:
            openml.config.set_root_cache_directory(str(old_root))


def _local_ids(cache_dir):
    """Dataset ids in the cache, per server folder (``test`` for :data:`TEST_SERVER`)."""
    found = {}
    for d in cache_dir.glob("**/datasets/*"):
        if d.is_dir() and d.name.lstrip("-").isdigit() and int(d.name) > 0:
            found.setdefault(d.parent.parent.name, set()).add(int(d.name))
    return {k: sorted(v) for k, v in sorted(found.items())}


def _writable(path):
    """Whether ``path`` may be written: by access rights and by its mode bits.

    The mode bits count too because a superuser may write anywhere; a cache whose
    files are marked read-only is still left untouched.
    """
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & stat.S_IWUSR)


@contextlib.contextmanager
def _readable_cache(cache_dir):
    """The cache to hand the OpenML client: itself, or a mirror of links when read-only.

    The client writes a parsed copy (a pickle) beside every dataset it reads. For a
    read-only cache, it is given a temporary tree of symbolic links to the cached files
    instead (nothing is copied), so the parsed copy goes to the temporary folder.
    """
    if not cache_dir.is_dir() or all(_writable(d) for d in [cache_dir, *_dataset_dirs(cache_dir)]):
        yield cache_dir
        return
    with tempfile.TemporaryDirectory(prefix="skmtl-openml-") as tmp:
        for path in cache_dir.rglob("*"):
            target = Path(tmp) / path.relative_to(cache_dir)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(path)
        yield Path(tmp)


def _dataset_dirs(cache_dir):
    return [d for d in cache_dir.glob("**/datasets/*") if d.is_dir()]


def _load_error(did, cache_dir, server, exc):
    local = _local_ids(cache_dir)
    hint = ""
    on_test = did in local.get("test", [])
    if on_test and server != TEST_SERVER:
        hint = (
            f" Dataset {did} is in the cache of the OpenML TEST server: pass "
            f"server=TEST_SERVER ({TEST_SERVER!r}) to read it."
        )
    where = "the OpenML client's default (production) server" if server is None else server
    return ValueError(
        f"OpenML dataset {did} could not be loaded from the cache {cache_dir} for {where} nor "
        f"downloaded ({type(exc).__name__}: {str(exc)[:200]}).{hint} Datasets available "
        f"locally: {sorted(set().union(*local.values()))} (per server folder: {local})"
    )


def _encode(X, categorical, where):
    if categorical == "raw":  # categorical columns and missing values as they are
        return X.reset_index(drop=True)
    cat_cols = [
        c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype) or X[c].dtype == object
    ]
    num_cols = [c for c in X.columns if c not in cat_cols]
    parts = []
    if num_cols:
        num = X[num_cols].astype(np.float64)
        parts.append(num.fillna(num.median()).fillna(0.0))
    if cat_cols:
        if categorical == "raise":
            raise ValueError(f"{where}: categorical columns {cat_cols}; set categorical='onehot'.")
        if categorical == "onehot":
            parts.append(pd.get_dummies(X[cat_cols], dtype=np.float64, dummy_na=False))
        else:  # ordinal, missing -> -1
            parts.append(
                pd.DataFrame(
                    {c: X[c].astype("category").cat.codes.astype(np.float64) for c in cat_cols},
                    index=X.index,
                )
            )
    return pd.concat(parts, axis=1)


def load_openml_tasks(dataset_ids, data_home=None, server=None, target=None, categorical="onehot"):
    """Load OpenML datasets as tasks, through ``openml.datasets.get_dataset``.

    The OpenML client's cache root is set to ``<data_home>/openml`` for the call (and
    restored afterwards): a connected machine downloads into it, an offline one reads it.

    Parameters
    ----------
    dataset_ids : int or list of int
    data_home : str or path-like, default=None
        See :func:`~skmtl.datasets.get_data_home`.
    server : str, default=None
        OpenML server URL; ``None`` keeps the client's (production). The shared offline
        cache holds test-server datasets: pass :data:`TEST_SERVER`.
    target : str or list of str, default=None
        Target column per dataset; the dataset's default target when None.
    categorical : {"raw", "onehot", "ordinal", "raise"}, default="onehot"
        ``"raw"``: the table as OpenML gives it, categorical columns (pandas
        ``category``) and missing values (NaN) included; every skmtl estimator then
        encodes or masks them per task (see the data model). Otherwise categorical
        features are made numeric here and missing numeric values are filled with the
        column median; a missing category is an all-zero one-hot row (or -1).

    Returns
    -------
    tasks : Tasks
        One task per dataset, named after it, with the (encoded) column names.
    info : dict
        ``ids``, ``targets``, ``categorical``, ``cache_dir``, ``server``.

    Raises
    ------
    ValueError
        For an id neither in the cache nor downloadable, listing the local ids per server
        folder and, for an id cached from the test server, naming ``server=TEST_SERVER``.

    Notes
    -----
    A read-only data home (such as a shared cache) is only read: the client's parsed
    copy of each dataset goes to a temporary folder instead (see ``_readable_cache``).

    Examples
    --------
    >>> tasks, info = load_openml_tasks([2], server=TEST_SERVER)  # doctest: +SKIP
    >>> tasks.names  # doctest: +SKIP
    ['anneal']
    """
    if categorical not in _CATEGORICAL:
        raise ValueError(f"categorical must be one of {_CATEGORICAL}, got {categorical!r}.")
    ids = [dataset_ids] if np.isscalar(dataset_ids) else list(dataset_ids)
    targets = target if isinstance(target, (list, tuple)) else [target] * len(ids)
    if len(targets) != len(ids):
        raise ValueError(f"{len(targets)} targets given for {len(ids)} datasets.")
    cache_dir = get_data_home(data_home) / "openml"
    Xs, ys, names, fnames, used_targets = [], [], [], [], []
    with _readable_cache(cache_dir) as root, _openml_config(root, server) as openml:
        for i, (did, tgt) in enumerate(zip(ids, targets)):
            try:
                ds = openml.datasets.get_dataset(int(did), download_data=True)
                tgt = tgt or ds.default_target_attribute
                X, y, _, _ = ds.get_data(target=tgt)
            except Exception as exc:
                raise _load_error(did, cache_dir, server, exc) from None
            keep = ~pd.isna(y)
            X = _encode(
                X[keep.to_numpy() if hasattr(keep, "to_numpy") else keep],
                categorical,
                f"task {i} ({ds.name})",
            )
            y = np.asarray(y[keep])
            Xs.append(X)
            ys.append(y.astype(str) if y.dtype == object else y)
            names.append(ds.name if ds.name not in names else f"{ds.name}_{did}")
            fnames.append([str(c) for c in X.columns])
            used_targets.append(tgt)
    tasks = Tasks(Xs, ys, names=names, feature_names=fnames)
    info = {
        "ids": ids,
        "targets": used_targets,
        "categorical": categorical,
        "cache_dir": str(cache_dir),
        "server": server,
    }
    return tasks, info
