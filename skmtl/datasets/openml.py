"""OpenML loader: real datasets through ``openml-python`` and its local cache."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from skmtl.datasets._home import get_data_home
from skmtl.tasks import Tasks

__all__ = ["load_openml_tasks", "TEST_SERVER"]

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
    found = set()
    for d in cache_dir.glob("**/datasets/*"):
        if d.is_dir() and d.name.lstrip("-").isdigit() and int(d.name) > 0:
            found.add(int(d.name))
    return sorted(found)


def _encode(X, categorical, where):
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
    categorical : {"onehot", "ordinal", "raise"}, default="onehot"
        How categorical features are made numeric. Missing numeric values are filled
        with the column median; a missing category is an all-zero one-hot row (or -1).

    Returns
    -------
    tasks : Tasks
        One task per dataset, named after it, with the (encoded) column names.
    info : dict
        ``ids``, ``targets``, ``categorical``, ``cache_dir``, ``server``.

    Raises
    ------
    ValueError
        For an id neither in the cache nor downloadable, listing the local ids.

    Examples
    --------
    >>> tasks, info = load_openml_tasks([2], server=TEST_SERVER)  # doctest: +SKIP
    >>> tasks.names  # doctest: +SKIP
    ['anneal']
    """
    if categorical not in ("onehot", "ordinal", "raise"):
        raise ValueError(
            f"categorical must be 'onehot', 'ordinal' or 'raise', got {categorical!r}."
        )
    ids = [dataset_ids] if np.isscalar(dataset_ids) else list(dataset_ids)
    targets = target if isinstance(target, (list, tuple)) else [target] * len(ids)
    if len(targets) != len(ids):
        raise ValueError(f"{len(targets)} targets given for {len(ids)} datasets.")
    cache_dir = get_data_home(data_home) / "openml"
    Xs, ys, names, fnames, used_targets = [], [], [], [], []
    with _openml_config(cache_dir, server) as openml:
        for i, (did, tgt) in enumerate(zip(ids, targets)):
            try:
                ds = openml.datasets.get_dataset(int(did), download_data=True)
                tgt = tgt or ds.default_target_attribute
                X, y, _, _ = ds.get_data(target=tgt)
            except Exception as exc:
                raise ValueError(
                    f"OpenML dataset {did} could not be loaded from the cache {cache_dir} or "
                    f"downloaded ({type(exc).__name__}: {str(exc)[:200]}). Datasets available "
                    f"locally: {_local_ids(cache_dir)}"
                ) from None
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
