"""Synthetic multi-task regression families with task metadata.

Both generators follow Appendix E of "Multi-Task Learning with Hypernetworks and Task
Metadata": each task comes with a metadata row that fully determines its function.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["make_cubic_tasks", "make_robot_arm_tasks", "robot_arm_forward_kinematics"]


def _sample_sizes(n_samples, n_tasks: int) -> list[int]:
    if isinstance(n_samples, numbers.Integral):
        sizes = [int(n_samples)] * n_tasks
    else:
        sizes = [int(s) for s in n_samples]
        if len(sizes) != n_tasks:
            raise ValueError(
                f"n_samples has {len(sizes)} entries but n_tasks={n_tasks}; give one "
                "size per task or a single int"
            )
    if any(s < 1 for s in sizes):
        raise ValueError(f"n_samples must be >= 1 for every task, got {sizes}")
    return sizes


def _check_n_tasks(n_tasks) -> int:
    if not isinstance(n_tasks, numbers.Integral) or n_tasks < 1:
        raise ValueError(f"n_tasks must be a positive int, got {n_tasks!r}")
    return int(n_tasks)


def make_cubic_tasks(n_tasks=20, n_samples=17, *, noise=0.1, random_state=None):
    """Cubic polynomial tasks ``y = a x^3 + b x^2 + c x + d`` (+ noise; paper Appendix E).

    Coefficients ``a, b, c, d ~ U[-1, 1]`` per task are the task metadata; the single
    feature ``x ~ U[-1, 1]``. The paper's experiments use 20 tasks with 10
    train+validation rows per task (8 + 2); its authors' published file has 500 rows per
    task (see :func:`skmtl.datasets.load_hypernet_tasks`).

    The paper's text (Appendix E) defines ``y = a x^3 + b x^2 + c x + d`` without noise,
    but its authors' generator (``generate_synthetic_datasets.ipynb``) and their published
    ``cubic_data.csv`` add Gaussian label noise of standard deviation 0.1, so the paper's
    Cubic test MSE cannot go below 0.01. The default follows the code; ``noise=0`` gives
    the noiseless functions of the text.

    Parameters
    ----------
    n_tasks : int, default=20
        Number of tasks.
    n_samples : int or sequence of int, default=17
        Rows per task (one int for all tasks, or one per task).
    noise : float, default=0.1
        Standard deviation of Gaussian noise added to ``y`` (the authors' code: 0.1;
        the paper's text: none). The inputs and metadata do not depend on it.
    random_state : int, RandomState or None
        Seed.

    Returns
    -------
    tasks : list of (X, y)
        ``X`` float64 of shape ``(n_t, 1)``, ``y`` of shape ``(n_t,)``.
    metadata : pandas.DataFrame of shape (n_tasks, 4)
        Columns ``a, b, c, d``, index ``cubic_0, cubic_1, ...``.

    Examples
    --------
    >>> tasks, meta = make_cubic_tasks(n_tasks=3, n_samples=5, noise=0, random_state=0)
    >>> len(tasks), tasks[0][0].shape, list(meta.columns)
    (3, (5, 1), ['a', 'b', 'c', 'd'])
    >>> import numpy as np
    >>> (X, y), (a, b, c, d) = tasks[1], meta.iloc[1]
    >>> bool(np.allclose(y, a * X[:, 0] ** 3 + b * X[:, 0] ** 2 + c * X[:, 0] + d))
    True
    """
    n_tasks = _check_n_tasks(n_tasks)
    sizes = _sample_sizes(n_samples, n_tasks)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = check_random_state(random_state)
    coefs = rng.uniform(-1.0, 1.0, size=(n_tasks, 4))
    xs = [rng.uniform(-1.0, 1.0, size=n) for n in sizes]
    tasks = []
    for (a, b, c, d), x in zip(coefs, xs, strict=True):
        y = a * x**3 + b * x**2 + c * x + d
        if noise:  # drawn after every x, so the inputs are the same for any noise
            y = y + rng.normal(0.0, noise, size=len(x))
        tasks.append((x[:, None], y))
    metadata = pd.DataFrame(
        coefs, columns=["a", "b", "c", "d"], index=[f"cubic_{t}" for t in range(n_tasks)]
    )
    return tasks, metadata


def robot_arm_forward_kinematics(angles, lengths):
    """End position of a planar 3-joint arm (Duka, 2014).

    ``x = sum_k l_k cos(theta_1 + ... + theta_k)``, ``y = sum_k l_k sin(...)``.

    Parameters
    ----------
    angles : array-like of shape (n, 3)
        Joint angles ``theta_1, theta_2, theta_3`` (radians, each relative to the
        previous link).
    lengths : array-like of shape (3,)
        Link lengths.

    Returns
    -------
    ndarray of shape (n, 2)

    Examples
    --------
    >>> robot_arm_forward_kinematics([[0.0, 0.0, 0.0]], [1.0, 2.0, 3.0])
    array([[6., 0.]])
    """
    angles = np.asarray(angles, dtype=float)
    lengths = np.asarray(lengths, dtype=float)
    cum = np.cumsum(angles, axis=1)
    return np.stack([np.cos(cum) @ lengths, np.sin(cum) @ lengths], axis=1)


def make_robot_arm_tasks(n_tasks=20, n_samples=34, *, random_state=None):
    """Planar 3-joint robot arm inverse-kinematics tasks (paper Appendix E).

    Each task is an arm with link lengths ``length_1, length_2, length_3 ~ U(0, 1]``
    (the task metadata). Joint angles ``theta_1, theta_2 ~ U[-pi, 0]`` and
    ``theta_3 ~ U[-pi/2, pi/2]`` are drawn per row; the input is the end position
    ``(x, y)`` from the forward kinematics and the targets are the three angles (an
    ill-posed, highly nonlinear inverse problem). The paper's Table 1 uses 20 tasks and
    20 training rows per task after a 60/20/20 split (about 34 rows per task in all).

    Parameters
    ----------
    n_tasks : int, default=20
        Number of arms.
    n_samples : int or sequence of int, default=34
        Rows per task.
    random_state : int, RandomState or None
        Seed.

    Returns
    -------
    tasks : list of (X, y)
        ``X`` of shape ``(n_t, 2)`` (end position), ``y`` of shape ``(n_t, 3)`` (angles).
    metadata : pandas.DataFrame of shape (n_tasks, 3)
        Columns ``length_1, length_2, length_3``, index ``arm_0, arm_1, ...``.

    Examples
    --------
    >>> tasks, meta = make_robot_arm_tasks(n_tasks=2, n_samples=4, random_state=0)
    >>> tasks[0][0].shape, tasks[0][1].shape, list(meta.columns)
    ((4, 2), (4, 3), ['length_1', 'length_2', 'length_3'])
    """
    n_tasks = _check_n_tasks(n_tasks)
    sizes = _sample_sizes(n_samples, n_tasks)
    rng = check_random_state(random_state)
    lengths = 1.0 - rng.uniform(0.0, 1.0, size=(n_tasks, 3))  # U(0, 1]
    tasks = []
    for lens, n in zip(lengths, sizes, strict=True):
        theta = np.column_stack(
            [
                rng.uniform(-np.pi, 0.0, size=n),
                rng.uniform(-np.pi, 0.0, size=n),
                rng.uniform(-np.pi / 2, np.pi / 2, size=n),
            ]
        )
        tasks.append((robot_arm_forward_kinematics(theta, lens), theta))
    metadata = pd.DataFrame(
        lengths,
        columns=["length_1", "length_2", "length_3"],
        index=[f"arm_{t}" for t in range(n_tasks)],
    )
    return tasks, metadata
