"""Baselines in the multi-task API.

* :class:`PerTaskClassifier` / :class:`PerTaskRegressor`: any scikit-learn estimator per task.
* :class:`SingleNetworkRegressor`: one network on pooled data (STL-naive, or STL with the
  task as one-hot / metadata inputs).
* :class:`CrossStitchRegressor` / :class:`SluiceRegressor`: one network per task, mixed
  across tasks between layers (soft sharing).
* :class:`HardSharingRegressor` / :class:`HardSharingClassifier`: shared trunk, one head per
  task (defined in :mod:`skmtl.hard_sharing`).
"""

from skmtl.baselines.cross_stitch import CrossStitchRegressor, SluiceRegressor
from skmtl.baselines.per_task import PerTaskClassifier, PerTaskRegressor
from skmtl.baselines.pooled import SingleNetworkRegressor
from skmtl.hard_sharing import HardSharingClassifier, HardSharingRegressor

__all__ = [
    "PerTaskClassifier",
    "PerTaskRegressor",
    "SingleNetworkRegressor",
    "HardSharingClassifier",
    "CrossStitchRegressor",
    "SluiceRegressor",
    "HardSharingRegressor",
]
