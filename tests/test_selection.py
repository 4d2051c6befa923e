"""Per-task selection (skmtl._selection): checkpoints that continue an earlier stage."""

import numpy as np
import pytest
import torch
from skorch.history import History

from skmtl._selection import PerTaskCheckpoint, TaskSnapshots


class _Net:
    """The two things a checkpoint reads of a net: its history length and its module."""

    def __init__(self, n_epochs):
        self.history = History()
        for _ in range(n_epochs):
            self.history.new_epoch()
        self.module_ = torch.nn.Linear(1, 1)


def _stage_one():
    first = PerTaskCheckpoint(patience=3).initialize()
    first.best_loss_ = np.array([0.5, 0.2, np.inf])
    first.best_epoch_ = np.array([1, 2, 0])
    first.snapshots_ = {1: {"w": torch.zeros(1)}, 2: {"w": torch.ones(1)}}
    return first


def test_a_continued_checkpoint_starts_from_the_earlier_stage():
    second = PerTaskCheckpoint(patience=3, initial=_stage_one()).initialize()
    second.on_train_begin(_Net(2), X=None, y=None)
    assert second.best_epoch_.tolist() == [1, 2, 0]
    assert second.best_loss_.tolist()[:2] == [0.5, 0.2]
    # epoch 3: task 0 improves, task 1 does not (0.3 > its 0.2), task 2 gets its first loss
    improved = second._keep_improved(_Net(3), np.array([0.4, 0.3, 0.9]))
    assert improved.tolist() == [True, False, True]
    assert second.best_epoch_.tolist() == [3, 2, 3]
    assert sorted(second.snapshots_) == [2, 3]  # epoch 1's snapshot is no longer used
    assert torch.equal(second.snapshots_[2]["w"], torch.ones(1))  # task 1's own weights


def test_a_fresh_checkpoint_forgets_earlier_stages():
    cb = PerTaskCheckpoint(patience=3).initialize()
    cb.on_train_begin(_Net(2), X=None, y=None)
    assert cb.best_epoch_ is None and cb.snapshots_ == {}


@pytest.mark.parametrize(
    ("weights", "expected"), [(None, (0.4 + 0.2) / 2), ([1, 3, 5], (0.4 + 3 * 0.2) / 4)]
)
def test_stopping_watches_the_weighted_mean_of_finite_best_losses(weights, expected):
    cb = PerTaskCheckpoint(weights=weights).initialize()
    cb.best_loss_ = np.array([0.4, 0.2, np.inf])
    assert cb._mean_best() == pytest.approx(expected)


def test_task_snapshots_serve_each_task_its_epoch():
    snaps = TaskSnapshots(np.array([3, 2, 3]), {2: {}, 3: {}})
    assert snaps.default_epoch == 3
    assert snaps.groups([1, 0, 2]) == [(2, [0]), (3, [1, 2])]
