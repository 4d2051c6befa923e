"""Concept tables and plots for shared variable embeddings (numpy / pandas; matplotlib optional).

* :func:`concept_table` — for each shared embedding ``s_p``, the ``k`` input variables whose
  processed embeddings ``f_i`` are most cosine-similar to it (paper eq. 16, Section 4.2 and
  Appendix B).
* :func:`commonly_shared` — the "commonly shared" analysis of Appendix G: how many tasks
  give at least one variable an attention weight above a threshold on each shared
  embedding, the most shared ones, and the tasks closest to each.
* :func:`task_attention` / :func:`plot_task_attention` — the attention of every task over
  the shared base as a (tasks x shared embeddings) matrix, and its heat map.

The functions take plain arrays so that they work for any fitted model;
:class:`skmtl.sve.SharedVariableEmbeddingClassifier` calls them for ``concepts_``,
``commonly_shared`` and ``plot_attention``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "cosine_similarity_matrix",
    "concept_table",
    "commonly_shared",
    "task_attention",
    "plot_task_attention",
]


def cosine_similarity_matrix(A, B, eps=1e-12):
    """Cosine similarity (eq. 16) between the rows of ``A`` (n, C) and of ``B`` (m, C).

    Examples
    --------
    >>> import numpy as np
    >>> cosine_similarity_matrix(np.eye(2), np.array([[1.0, 1.0], [0.0, -2.0]])).round(3)
    array([[ 0.707,  0.   ],
           [ 0.707, -1.   ]])
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    An = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), eps)
    Bn = B / np.maximum(np.linalg.norm(B, axis=1, keepdims=True), eps)
    return An @ Bn.T


def _flatten(per_task, task_names, feature_names):
    rows = np.concatenate([np.asarray(p, dtype=np.float64) for p in per_task])
    task = np.concatenate([[name] * len(p) for name, p in zip(task_names, per_task)])
    var = np.concatenate([list(f) for f in feature_names]) if len(rows) else np.array([])
    return rows, np.asarray(task, dtype=object), np.asarray(var, dtype=object)


def concept_table(
    shared_embeddings, processed_embeddings, task_names, feature_names, k=5, attention=None
):
    """Most similar input variables of every shared embedding (paper eq. 16).

    Parameters
    ----------
    shared_embeddings : array of shape (D, C)
        The shared base ``S``.
    processed_embeddings : list of arrays of shape (n_features_t, C)
        Processed embeddings ``f_i`` of every task's input variables.
    task_names : list of str
    feature_names : list of list of str
        Variable names of every task (same order as ``processed_embeddings``).
    k : int, default=5
        Variables listed per shared embedding (``K`` in the paper).
    attention : list of arrays of shape (n_features_t, D), optional
        When given, the attention weight of each listed variable on the shared embedding
        is added as a column.

    Returns
    -------
    pandas.DataFrame
        One row per (shared embedding, rank) with columns ``shared_embedding``, ``rank``
        (1 = most similar), ``task``, ``variable``, ``similarity`` (cosine, eq. 16) and,
        with ``attention``, ``attention``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.eye(2)
    >>> F = [np.array([[1.0, 0.1], [0.0, 1.0]]), np.array([[0.9, 0.5]])]
    >>> t = concept_table(S, F, ["a", "b"], [["x", "y"], ["z"]], k=2)
    >>> t[t.shared_embedding == 0][["task", "variable"]].values.tolist()
    [['a', 'x'], ['b', 'z']]
    """
    S = np.asarray(shared_embeddings, dtype=np.float64)
    F, task, var = _flatten(processed_embeddings, task_names, feature_names)
    k = int(min(k, len(F)))
    sim = cosine_similarity_matrix(S, F)  # (D, N)
    att = None
    if attention is not None:
        att = np.concatenate([np.asarray(a, dtype=np.float64) for a in attention])  # (N, D)
    records = []
    for p in range(S.shape[0]):
        top = np.argsort(-sim[p], kind="stable")[:k]
        for rank, i in enumerate(top, start=1):
            rec = {
                "shared_embedding": p,
                "rank": rank,
                "task": task[i],
                "variable": var[i],
                "similarity": float(sim[p, i]),
            }
            if att is not None:
                rec["attention"] = float(att[i, p])
            records.append(rec)
    columns = ["shared_embedding", "rank", "task", "variable", "similarity"]
    if att is not None:
        columns.append("attention")
    return pd.DataFrame.from_records(records, columns=columns)


def task_attention(attention, how="max"):
    """Attention of every task over the shared base, (n_tasks, D).

    Parameters
    ----------
    attention : list of arrays of shape (n_features_t, D)
        Attention of each task's variables over the shared embeddings.
    how : {"max", "mean"}, default="max"
        Aggregate over a task's variables: the largest weight (Appendix G's criterion) or
        the mean weight.

    Examples
    --------
    >>> import numpy as np
    >>> task_attention([np.array([[0.9, 0.1], [0.2, 0.8]])], how="mean").tolist()
    [[0.55, 0.45]]
    """
    if how not in ("max", "mean"):
        raise ValueError(f"how must be 'max' or 'mean', got {how!r}.")
    agg = np.max if how == "max" else np.mean
    return np.stack([agg(np.asarray(a, dtype=np.float64), axis=0) for a in attention])


def commonly_shared(
    attention,
    shared_embeddings,
    processed_embeddings,
    task_names,
    threshold=0.1,
    n_embeddings=5,
    n_tasks=5,
):
    """Shared embeddings used by the most tasks (paper Appendix G).

    A shared embedding is *shared* by a task when at least one of the task's variables
    gives it an attention weight above ``threshold``. The ``n_embeddings`` embeddings
    shared by the most tasks are kept, and for each the ``n_tasks`` tasks with the highest
    maximum cosine similarity (eq. 16) between the shared embedding and their variables'
    processed embeddings are listed.

    Parameters
    ----------
    attention : list of arrays of shape (n_features_t, D)
    shared_embeddings : array of shape (D, C)
    processed_embeddings : list of arrays of shape (n_features_t, C)
    task_names : list of str
    threshold : float, default=0.1
        Attention weight a variable must exceed.
    n_embeddings : int, default=5
        Number of most shared embeddings reported.
    n_tasks : int, default=5
        Tasks listed per embedding.

    Returns
    -------
    pandas.DataFrame
        Columns ``shared_embedding``, ``n_sharing_tasks`` (tasks above the threshold),
        ``rank``, ``task``, ``max_similarity``, ``max_attention``, ``shares`` (whether that
        task is above the threshold).

    Examples
    --------
    >>> import numpy as np
    >>> S = np.eye(3)
    >>> att = [np.array([[0.8, 0.2, 0.0]]), np.array([[0.5, 0.0, 0.5]])]
    >>> F = [a @ S for a in att]
    >>> t = commonly_shared(att, S, F, ["a", "b"], n_embeddings=1)
    >>> int(t.shared_embedding.iloc[0]), int(t.n_sharing_tasks.iloc[0]), t.task.tolist()
    (0, 2, ['a', 'b'])
    """
    S = np.asarray(shared_embeddings, dtype=np.float64)
    max_att = task_attention(attention, how="max")  # (T, D)
    counts = (max_att > threshold).sum(0)
    order = np.argsort(-counts, kind="stable")[: int(n_embeddings)]
    max_sim = np.stack(
        [cosine_similarity_matrix(S, f).max(1) for f in processed_embeddings], axis=1
    )  # (D, T)
    records = []
    for p in order:
        tops = np.argsort(-max_sim[p], kind="stable")[: int(n_tasks)]
        for rank, t in enumerate(tops, start=1):
            records.append(
                {
                    "shared_embedding": int(p),
                    "n_sharing_tasks": int(counts[p]),
                    "rank": rank,
                    "task": task_names[t],
                    "max_similarity": float(max_sim[p, t]),
                    "max_attention": float(max_att[t, p]),
                    "shares": bool(max_att[t, p] > threshold),
                }
            )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "shared_embedding",
            "n_sharing_tasks",
            "rank",
            "task",
            "max_similarity",
            "max_attention",
            "shares",
        ],
    )


def plot_task_attention(attention, task_names, how="max", ax=None, cmap="viridis", max_tasks=60):
    """Heat map of every task's attention over the shared base (matplotlib needed).

    Parameters
    ----------
    attention : list of arrays of shape (n_features_t, D)
    task_names : list of str
    how : {"max", "mean"}, default="max"
        Aggregate over a task's variables (see :func:`task_attention`).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    cmap : str, default="viridis"
    max_tasks : int, default=60
        Draw at most this many tasks (the first ones), to keep labels legible.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_task_attention([np.full((2, 4), 0.25)], ["a"])  # doctest: +SKIP
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError(
            "plot_task_attention needs matplotlib: pip install 'skmtl[plot]'"
        ) from exc
    M = task_attention(attention, how=how)[: int(max_tasks)]
    names = list(task_names)[: int(max_tasks)]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.08 * M.shape[1] + 3), max(3, 0.22 * len(names) + 1)))
    im = ax.imshow(M, aspect="auto", cmap=cmap, interpolation="nearest", vmin=0.0)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel("shared embedding")
    ax.set_ylabel("task")
    ax.set_title(f"attention over the shared base ({how} over each task's variables)")
    ax.figure.colorbar(im, ax=ax, fraction=0.03)
    return ax
