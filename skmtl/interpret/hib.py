"""Task similarity from the noise variances of a hierarchical information bottleneck model.

* :func:`noise_dissimilarity` - eq. (11) of de Freitas et al. (2022): L1 distance between the
  noise log-variance vectors of two tasks.
* :func:`cluster_tasks` - agglomerative clustering (scikit-learn) on that precomputed distance.
* :func:`groups_recovered` - the paper's success criterion for planted task groups.
* :func:`plot_task_dissimilarity` - heatmap of the distances and of the per-task log-variances
  (the paper's Figure 2). Needs matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.cluster import AgglomerativeClustering

__all__ = [
    "cluster_tasks",
    "groups_recovered",
    "noise_dissimilarity",
    "plot_task_dissimilarity",
]


def noise_dissimilarity(noise_log_var) -> np.ndarray:
    """Pairwise task dissimilarity ``sum_i |log s2_{a,i} - log s2_{b,i}|`` (eq. 11).

    Parameters
    ----------
    noise_log_var : array-like of shape (n_tasks, latent_dim)
        Noise log-variances, e.g. ``HierarchicalIBClassifier.noise_log_var_``.

    Returns
    -------
    ndarray of shape (n_tasks, n_tasks)
        Symmetric, zero diagonal.

    Examples
    --------
    >>> noise_dissimilarity([[0.0, 1.0], [2.0, 1.0], [0.0, -1.0]])
    array([[0., 2., 2.],
           [2., 0., 4.],
           [2., 4., 0.]])
    """
    lv = np.asarray(noise_log_var, dtype=np.float64)
    if lv.ndim != 2:
        raise ValueError(f"noise_log_var must be 2-D (n_tasks, latent_dim), got shape {lv.shape}")
    return np.abs(lv[:, None, :] - lv[None, :, :]).sum(-1)


def _check_square(d) -> np.ndarray:
    d = np.asarray(d, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"dissimilarity must be a square matrix, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("dissimilarity contains NaN or infinite values")
    return d


def cluster_tasks(
    dissimilarity, n_clusters: int | None = 2, *, distance_threshold=None, linkage="average"
) -> np.ndarray:
    """Cluster tasks from a precomputed dissimilarity with agglomerative clustering.

    Parameters
    ----------
    dissimilarity : array-like of shape (n_tasks, n_tasks)
        E.g. ``task_dissimilarity_`` of a fitted ``HierarchicalIBClassifier``.
    n_clusters : int or None, default=2
        Number of clusters; set to None and give ``distance_threshold`` instead to cut the
        dendrogram at a distance.
    distance_threshold : float, optional
        Linkage distance above which clusters are not merged.
    linkage : {"average", "complete", "single"}, default="average"
        Linkage criterion (``"ward"`` needs Euclidean features and is not allowed).

    Returns
    -------
    ndarray of int, shape (n_tasks,)
        Cluster label of each task.

    Examples
    --------
    >>> d = noise_dissimilarity([[0, 0, 5, 5], [0, 1, 5, 5], [5, 5, 0, 0], [5, 4, 0, 0]])
    >>> labels = cluster_tasks(d, n_clusters=2)
    >>> bool(labels[0] == labels[1] != labels[2] == labels[3])
    True
    """
    d = _check_square(dissimilarity)
    if linkage == "ward":
        raise ValueError("linkage='ward' needs Euclidean features; use average/complete/single")
    n = d.shape[0]
    if n_clusters is not None and not 1 <= int(n_clusters) <= n:
        raise ValueError(f"n_clusters must be between 1 and n_tasks={n}, got {n_clusters}")
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    model = AgglomerativeClustering(
        n_clusters=n_clusters,
        distance_threshold=distance_threshold,
        metric="precomputed",
        linkage=linkage,
    )
    return model.fit_predict((d + d.T) / 2).astype(np.int64)


def groups_recovered(dissimilarity, groups: Sequence[Sequence[int]]) -> bool:
    """Paper's success criterion: every within-group distance < every between-group distance.

    Section V-B (Table V) calls the disentanglement successful "if the shortest distance (11)
    between tasks from different pairs is larger than the largest distance between tasks from
    the same pair".

    Parameters
    ----------
    dissimilarity : array-like of shape (n_tasks, n_tasks)
    groups : sequence of sequence of int
        Planted task groups (task indices), e.g. ``[[0, 1], [2, 3]]``.

    Returns
    -------
    bool

    Examples
    --------
    >>> d = noise_dissimilarity([[0, 0], [0, 1], [5, 5], [5, 4]])
    >>> groups_recovered(d, [[0, 1], [2, 3]]), groups_recovered(d, [[0, 2], [1, 3]])
    (True, False)
    """
    d = _check_square(dissimilarity)
    label = np.full(d.shape[0], -1)
    for g, members in enumerate(groups):
        label[list(members)] = g
    if (label < 0).any():
        raise ValueError("groups must cover every task")
    iu = np.triu_indices(d.shape[0], k=1)
    same = label[iu[0]] == label[iu[1]]
    if not same.any() or same.all():
        raise ValueError("groups must contain at least one within- and one between-group pair")
    return bool(d[iu][same].max() < d[iu][~same].min())


def plot_task_dissimilarity(
    dissimilarity, noise_log_var, task_names=None, *, axes=None, cmap="viridis"
):
    """Draw the task dissimilarity heatmap and the per-task noise log-variances (Figure 2).

    Parameters
    ----------
    dissimilarity : array-like of shape (n_tasks, n_tasks)
    noise_log_var : array-like of shape (n_tasks, latent_dim)
    task_names : sequence of str, optional
        Tick labels (default ``task 0``, ``task 1``, ...).
    axes : pair of matplotlib Axes, optional
        Where to draw; default a new figure with two panels side by side.
    cmap : str, default="viridis"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> lv = np.array([[-3.0, 3.0], [-2.5, 3.2], [3.0, -3.0]])
    >>> fig = plot_task_dissimilarity(noise_dissimilarity(lv), lv)  # doctest: +SKIP
    >>> fig.savefig("hib_heatmap.png")  # doctest: +SKIP
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError(
            "plot_task_dissimilarity needs matplotlib (pip install matplotlib)"
        ) from exc
    d = _check_square(dissimilarity)
    lv = np.asarray(noise_log_var, dtype=np.float64)
    if lv.ndim != 2 or lv.shape[0] != d.shape[0]:
        raise ValueError(
            f"noise_log_var must have shape (n_tasks={d.shape[0]}, latent_dim), got {lv.shape}"
        )
    n, D = lv.shape
    names = [f"task {i}" for i in range(n)] if task_names is None else [str(t) for t in task_names]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(4.0 + 0.45 * n + 0.35 * D, 0.6 + 0.45 * n))
    ax_d, ax_v = axes
    fig = ax_d.figure
    im = ax_d.imshow(d, cmap=cmap)
    ax_d.set_xticks(range(n), names, rotation=60, ha="right", fontsize=7)
    ax_d.set_yticks(range(n), names, fontsize=7)
    ax_d.set_title("L1 distance of noise log-variances", fontsize=8)
    mid = 0.5 * (d.min() + d.max())
    for i in range(n):
        for j in range(n):
            color = "k" if d[i, j] > mid else "w"  # readable on viridis' light and dark ends
            ax_d.text(j, i, f"{d[i, j]:.1f}", ha="center", va="center", fontsize=6, color=color)
    fig.colorbar(im, ax=ax_d, fraction=0.046, pad=0.04)
    im2 = ax_v.imshow(lv, cmap=cmap, aspect="auto")
    ax_v.set_xticks(range(D), [str(i) for i in range(D)], fontsize=7)
    ax_v.set_yticks(range(n), names, fontsize=7)
    ax_v.set_xlabel("latent dimension", fontsize=8)
    ax_v.set_title("noise log-variance", fontsize=8)
    fig.colorbar(im2, ax=ax_v, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig
