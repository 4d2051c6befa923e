"""Per-task model selection: every task keeps the weights of its own best epoch.

:class:`PerTaskCheckpoint` (a skorch callback) snapshots the module's weights at the
epoch where a task's validation loss was lowest; :class:`TaskSnapshots` is what the
fitted estimator keeps of it, and hands each task's weights to
:meth:`skmtl._skorch.TaskNet.task_outputs`, which runs the module with them through
``torch.func.functional_call`` (the module's own weights are never swapped).
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import EpochScoring
from skorch.utils import to_tensor

from skmtl._skorch import cached_validation, split_output

__all__ = ["PerTaskCheckpoint", "TaskSnapshots", "task_losses"]


def task_losses(criterion, output, target, task, n_tasks, device):
    """Mean validation loss of every task (``inf`` for a task without rows).

    Examples
    --------
    >>> from skmtl.nn.losses import TaskMSE
    >>> out = torch.tensor([[1.0], [3.0], [0.0]])
    >>> task_losses(TaskMSE([1, 1]), out, torch.zeros(3, 1), torch.tensor([0, 0, 1]), 3, "cpu")
    array([ 5.,  0., inf])
    """
    losses = np.full(n_tasks, np.inf)
    output, task = output.to(device), task.to(device)
    target = to_tensor(target, device=device)
    was_training = criterion.training
    criterion.eval()
    try:
        with torch.no_grad():
            for t in torch.unique(task).tolist():
                sel = task == t
                losses[t] = float(criterion(output[sel], target[sel], task[sel]))
    finally:
        criterion.train(was_training)
    return losses


class PerTaskCheckpoint(EpochScoring):
    """Per-task model selection: keep, for every task, the weights of its best epoch.

    After every epoch the validation loss of each task is computed on its own held-out
    rows (from the cached outputs of skorch's ``valid_loss`` pass); a task whose loss
    fell below its best so far points at a snapshot of the module's weights taken at
    that epoch (snapshots are shared between tasks and freed once no task points at
    them). Training stops when the mean over tasks of their best validation losses has
    not fallen by a relative ``tol`` within ``patience`` epochs.

    Parameters
    ----------
    patience : int, default=10
    tol : float, default=1e-3
    sink : callable or None, default=None
        Where the stopping message goes (``print`` when verbose).
    initial : PerTaskCheckpoint or None, default=None
        A checkpoint of an earlier stage of the same fit to continue from: every task
        starts with its best loss, epoch and snapshot, so a task moves to this stage's
        weights only if its validation loss falls below what it already had (a
        refinement stage never makes a task's selection worse on validation).
    weights : array-like of shape (n_tasks,) or None, default=None
        Weights of the tasks in the mean the stopping rule watches (e.g. training rows,
        for a stage that samples tasks in proportion to their rows); None: plain mean.

    Attributes
    ----------
    best_loss_ : ndarray (n_tasks,)
    best_epoch_ : ndarray of int (n_tasks,)
        1-based epoch of every task's snapshot (0: none yet).
    snapshots_ : dict
        epoch -> state dict (CPU tensors).

    Examples
    --------
    >>> PerTaskCheckpoint(patience=3).initialize().snapshots_
    {}
    """

    def __init__(self, patience=10, tol=1e-3, sink=None, initial=None, weights=None):
        super().__init__(scoring=None, name="valid_loss_per_task_best", use_caching=True)
        self.patience = patience
        self.tol = tol
        self.sink = sink
        self.initial = initial
        self.weights = weights

    def initialize(self):
        super().initialize()
        self.best_loss_ = None
        self.best_epoch_ = None
        self.snapshots_ = {}
        self.mean_best_ = []
        return self

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_loss_ = None
        self.best_epoch_ = None
        self.snapshots_ = {}
        self.mean_best_ = []
        first = self.initial
        if first is not None and first.best_epoch_ is not None:
            self.best_loss_ = first.best_loss_.copy()
            self.best_epoch_ = first.best_epoch_.copy()
            self.snapshots_ = dict(first.snapshots_)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if dataset_valid is None or len(dataset_valid) == 0:
            return
        X, y, preds = self.get_test_data(dataset_train, dataset_valid, use_caching=True)
        if preds:
            output = torch.cat([split_output(p)[0] for p in preds]).detach()
            target, task = torch.as_tensor(y), torch.as_tensor(dataset_valid.row_task_np)
        else:
            output, target, task = cached_validation(net, dataset_valid, None)
        n_tasks = len(dataset_valid.sizes)
        losses = task_losses(net.criterion_, output, target, task, n_tasks, net.device)
        improved = self._keep_improved(net, losses)
        mean_best = self._mean_best()
        self.mean_best_.append(mean_best)
        net.history.record("valid_tasks_improved", int(improved.sum()))
        net.history.record("valid_loss_per_task_best", mean_best)
        if self._stalled(mean_best):
            if self.sink is not None:
                self.sink(
                    f"Stopping: the mean per-task best validation loss has not improved "
                    f"by {self.tol:g} (relative) in {self.patience} epochs."
                )
            raise KeyboardInterrupt

    def _mean_best(self):
        """(Weighted) mean of the finite per-task best losses: what stopping watches."""
        finite = np.isfinite(self.best_loss_)
        if not finite.any():
            return np.inf
        w = np.ones(len(finite)) if self.weights is None else np.asarray(self.weights, float)
        w = w[finite]
        if not w.sum() > 0:
            return float(self.best_loss_[finite].mean())
        return float(np.average(self.best_loss_[finite], weights=w))

    def _keep_improved(self, net, losses):
        """Point every improved task at a snapshot of this epoch; free unused snapshots."""
        if self.best_loss_ is None:
            self.best_loss_ = np.full(len(losses), np.inf)
            self.best_epoch_ = np.zeros(len(losses), dtype=int)
        epoch = len(net.history)
        improved = losses < self.best_loss_
        if improved.any():
            self.best_loss_[improved] = losses[improved]
            self.best_epoch_[improved] = epoch
            state = net.module_.state_dict()
            self.snapshots_[epoch] = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
            alive = set(self.best_epoch_.tolist())
            for e in [e for e in self.snapshots_ if e not in alive]:
                del self.snapshots_[e]
        return improved

    def _stalled(self, mean_best):
        k = self.patience
        if len(self.mean_best_) <= k:
            return False
        old = self.mean_best_[-k - 1]
        return bool(np.isfinite(old) and mean_best > old - self.tol * abs(old))


class TaskSnapshots:
    """The weights every task predicts with after per-task selection.

    Parameters
    ----------
    best_epoch : ndarray of int (n_tasks,)
        Every task's selected epoch.
    snapshots : dict
        epoch -> state dict (CPU tensors), one per selected epoch.

    Examples
    --------
    >>> snaps = TaskSnapshots(np.array([2, 5, 5]), {2: {}, 5: {}})
    >>> snaps.default_epoch, snaps.groups([0, 1, 2])
    (5, [(2, [0]), (5, [1, 2])])
    """

    def __init__(self, best_epoch, snapshots):
        self.best_epoch = np.asarray(best_epoch, dtype=int)
        self.snapshots = dict(snapshots)

    @classmethod
    def from_net(cls, net):
        """The selection kept by the net's ``per_task_checkpoint`` callback, or None."""
        cb = dict(net.callbacks_).get("per_task_checkpoint")
        if cb is None or cb.best_epoch_ is None or not cb.snapshots_:
            return None
        return cls(cb.best_epoch_, cb.snapshots_)

    @property
    def default_epoch(self):
        """The epoch chosen by the most tasks (the later one on a tie): ``module_``'s."""
        epochs, counts = np.unique(self.best_epoch, return_counts=True)
        return int(epochs[np.lexsort((epochs, counts))[-1]])

    def groups(self, positions):
        """``[(epoch, [k, ...]), ...]``: which epoch's weights serve each requested task."""
        groups = {}
        for k, t in enumerate(positions):
            groups.setdefault(int(self.best_epoch[t]), []).append(k)
        return sorted(groups.items())

    def weights(self, epoch, device):
        """The state dict of ``epoch`` on ``device`` (None: the module's own weights)."""
        if epoch == self.default_epoch:
            return None
        return {k: v.to(device) for k, v in self.snapshots[epoch].items()}
