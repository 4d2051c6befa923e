"""The four datasets of "Multi-Task Learning with Hypernetworks and Task Metadata".

Cubic, Robot Arm, Algorithms and Chlorophyll exactly as the paper's authors published
them (repository OGraffeuille/Multi-Task-Hypernetworks, licence CC BY 4.0), read from
``<data_home>/hypernet/<folder>/<folder>_data.csv`` and ``..._metadata.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skmtl.datasets._home import get_data_home
from skmtl.tasks import Tasks

__all__ = ["load_hypernet_tasks", "HYPERNET_DATASETS"]

#: dataset name -> folder (and file prefix) under ``<data_home>/hypernet``
HYPERNET_DATASETS = {
    "cubic": "cubic",
    "robot_arm": "robot_arm",
    "algorithms": "algorithms",
    "chlorophyll": "water_quality",
}


def _read(path, what):
    if not path.is_file():
        raise FileNotFoundError(
            f"hypernet {what} file not found: looked for {path} (set data_home or "
            "SKMTL_DATA_HOME to the folder holding hypernet/<dataset>/)"
        )
    return pd.read_csv(path)


def _task_names(meta):
    """``_task_name`` when it names every task uniquely, else ``"task_<id>"``."""
    if "_task_name" in meta:
        names = meta["_task_name"].astype(str).tolist()
        if len(set(names)) == len(names):
            return names
    return [f"task_{int(t)}" for t in meta["_task"]]


def load_hypernet_tasks(name, n_tasks=None, data_home=None):
    """Load one of the hypernetwork paper's four multi-task regression datasets.

    Rows without a task (Robot Arm's file ends with blank rows) are dropped, tasks are
    ordered by their ``task`` id and matched to their metadata row by ``_task``; the
    identifier columns of the metadata file (those starting with ``_``: task id, name,
    row count, country) are dropped, leaving the metadata features.

    Parameters
    ----------
    name : {"cubic", "robot_arm", "algorithms", "chlorophyll"}
        Dataset (Chlorophyll is stored as ``water_quality``).
    n_tasks : int, default=None
        Keep only the first ``n_tasks`` tasks (by task id); the paper uses the first 20
        of Cubic and Robot Arm. ``None``: every task with data.
    data_home : str or path-like, default=None
        See :func:`skmtl.datasets.get_data_home`.

    Returns
    -------
    tasks : Tasks
        One task per task id, rows in file order; features are the data columns other
        than ``label*`` and ``task``; targets ``label`` (1-D) or ``label1..label3``
        (Robot Arm, 2-D). Carries the metadata and the task names.
    metadata : pandas.DataFrame of shape (n_tasks, n_metadata)
        The metadata features, indexed by task name.

    Examples
    --------
    >>> tasks, meta = load_hypernet_tasks("cubic", n_tasks=3)
    >>> tasks.sizes.tolist(), list(meta.columns)
    ([500, 500, 500], ['a', 'b', 'c', 'd'])
    """
    if name not in HYPERNET_DATASETS:
        raise ValueError(
            f"unknown hypernet dataset {name!r}; choose one of {sorted(HYPERNET_DATASETS)}"
        )
    if n_tasks is not None and (int(n_tasks) != n_tasks or n_tasks < 1):
        raise ValueError(f"n_tasks must be a positive int or None, got {n_tasks!r}")
    folder = get_data_home(data_home) / "hypernet" / HYPERNET_DATASETS[name]
    data = _read(folder / f"{folder.name}_data.csv", "data")
    meta = _read(folder / f"{folder.name}_metadata.csv", "metadata")
    data = data[data["task"].notna()]
    labels = [c for c in data.columns if str(c).startswith("label")]
    features = [c for c in data.columns if c not in labels and c != "task"]
    task_ids = np.sort(data["task"].astype(int).unique())
    if n_tasks is not None:
        if n_tasks > len(task_ids):
            raise ValueError(f"{name} has {len(task_ids)} tasks with data, asked for {n_tasks}")
        task_ids = task_ids[: int(n_tasks)]
    meta = meta.set_index(meta["_task"].astype(int), drop=False)
    missing = sorted(set(task_ids.tolist()) - set(meta.index.tolist()))
    if missing:
        raise ValueError(f"{name}: tasks {missing} have data but no metadata row")
    meta = meta.loc[task_ids]
    names = _task_names(meta)
    metadata = meta[[c for c in meta.columns if not str(c).startswith("_")]].astype(float)
    metadata.index = pd.Index(names, name="task")
    groups = dict(list(data.groupby(data["task"].astype(int), sort=True)))
    Xs = [groups[t][features].to_numpy(dtype=np.float64) for t in task_ids]
    ys = [groups[t][labels].to_numpy(dtype=np.float64) for t in task_ids]
    if len(labels) == 1:
        ys = [y[:, 0] for y in ys]
    tasks = Tasks(
        Xs,
        ys,
        names=names,
        metadata=metadata,
        feature_names=[[str(c) for c in features]] * len(Xs),
    )
    return tasks, metadata
