"""The skorch wiring shared by every neural estimator: the net and its callbacks."""

from __future__ import annotations

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import to_tensor

from skmtl._batching import TaskBatchLoader

__all__ = [
    "PerTaskCheckpoint",
    "TaskNet",
    "TaskScoring",
    "ValidOutputs",
    "iter_task_outputs",
    "split_output",
    "valid_chunks",
]


def split_output(y_pred):
    """Split a module's return value into ``(output, penalty)``."""
    if isinstance(y_pred, tuple):
        return y_pred[0], (y_pred[1] if len(y_pred) > 1 else None)
    return y_pred, None


class TaskNet(NeuralNet):
    """A skorch ``NeuralNet`` whose batches are task-aware dictionaries.

    The module receives ``X``, ``task`` and ``mask`` (see :mod:`skmtl._batching`) and
    returns ``(output, penalty)``; the criterion is called as
    ``criterion(output, y, task)`` and the penalty is added to the training loss only.
    Everything else (callbacks, history, early stopping, device, ``save_params``)
    is skorch's.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, penalty = split_output(y_pred)
        y_true = to_tensor(y_true, device=self.device)
        loss = self.criterion_(output, y_true, X["task"])
        if training and penalty is not None:
            loss = loss + penalty
        return loss

    def _set_training(self, training=True):
        # skorch sets the mode before every step; ``Module.train`` walks and re-assigns
        # every submodule, which costs more than a small model's whole step. Only
        # switch when some module is in the other mode.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and any(
                m.training != training for m in module.modules()
            ):
                module.train(training)


def iter_task_outputs(net, dataset, batch_size, method=None, task_ids=None):
    """Run the module over a dataset task by task, without gradients.

    Parameters
    ----------
    net : TaskNet
    dataset : TaskDataset
    batch_size : int
    method : str, default=None
        Name of a module method to call instead of ``forward`` (e.g. ``"encode"``).
    task_ids : sequence of int, default=None
        The model's task index of each of the dataset's tasks (default: the same).

    Yields
    ------
    task : int
        Position of the task in ``dataset``.
    output : tensor
        The method's (first) output for a chunk of that task's rows, on the CPU.
    target : tensor or None
    """
    loader = TaskBatchLoader(dataset, batch_size=batch_size, shuffle=False)
    module = net.module_
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for Xi, yi in loader:
                k = int(Xi["task"][0])
                if task_ids is not None:
                    Xi["task"] = torch.full_like(Xi["task"], int(task_ids[k]))
                Xi = to_tensor(Xi, device=net.device)
                if method is None:
                    out = module(**Xi)
                else:
                    out = getattr(module, method)(**Xi)
                out, _ = split_output(out)
                yield k, out.detach().float().cpu(), yi
    finally:
        module.train(was_training)


class ValidOutputs(Callback):
    """Keep the module's outputs of the epoch's validation pass for the other callbacks.

    skorch computes ``valid_loss`` in one pass over the validation rows; this callback
    stores that pass's outputs (``on_batch_end`` with ``training=False``), so the
    per-task score (:class:`TaskScoring`) and per-task losses
    (:class:`PerTaskCheckpoint`) are computed from them instead of running the module
    over the validation rows again.

    Attributes
    ----------
    chunks_ : list of (task, output, target) tensors
        One entry per validation batch of the current epoch (a batch may hold rows of
        several tasks under mixed batching).
    """

    def initialize(self):
        self.chunks_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.chunks_ = []

    def on_train_end(self, net, **kwargs):
        self.chunks_ = []  # a fitted model does not carry its last validation outputs

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        Xi, yi = batch
        output, _ = split_output(y_pred)
        task = to_tensor(Xi["task"], device=output.device)
        target = None if yi is None else to_tensor(yi, device=output.device)
        self.chunks_.append((task, output.detach(), target))


def valid_chunks(net, dataset, batch_size):
    """The validation pass's ``(task, output, target)`` chunks of this epoch.

    Taken from the net's :class:`ValidOutputs` callback when it holds the pass over
    ``dataset``; otherwise the module is run over ``dataset`` (one task per batch).
    """
    cb = dict(getattr(net, "callbacks_", [])).get("valid_outputs")
    if cb is not None and cb.chunks_:
        if sum(len(t) for t, _, _ in cb.chunks_) == len(dataset):
            return cb.chunks_
    chunks = []
    for t, out, y in iter_task_outputs(net, dataset, batch_size):
        task = torch.full((len(out),), t, dtype=torch.long)
        chunks.append((task, out, y))
    return chunks


def _per_task(chunks):
    """Yield ``(task, output, target)`` of every task present in every chunk."""
    for task, out, y in chunks:
        task = task.cpu()
        first, last = int(task[0]), int(task[-1])
        if first == last and bool((task == first).all()):
            yield first, out, y
            continue
        for t in torch.unique(task).tolist():
            sel = (task == t).nonzero().squeeze(1)
            yield t, out[sel.to(out.device)], None if y is None else y[sel.to(y.device)]


class TaskScoring(Callback):
    """Record the mean per-task validation score after every epoch.

    Accuracy for classifiers (over each task's own classes), R^2 for regressors,
    averaged over tasks; recorded as ``valid_score`` (and ``valid_score_best``) in the
    net's history. Computed from the epoch's validation pass (:class:`ValidOutputs`).
    """

    def __init__(self, kind, n_outputs, batch_size=512, name="valid_score"):
        self.kind = kind
        self.n_outputs = n_outputs
        self.batch_size = batch_size
        self.name = name

    def initialize(self):
        self.best_ = -np.inf
        return self

    def on_train_begin(self, net, **kwargs):
        self.best_ = -np.inf

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None or len(dataset_valid) == 0:
            return
        chunks = valid_chunks(net, dataset_valid, self.batch_size)
        score = task_mean_score(self.kind, self.n_outputs, chunks, dataset_valid.sizes)
        net.history.record(self.name, score)
        is_best = score > self.best_
        if is_best:
            self.best_ = score
        net.history.record(self.name + "_best", bool(is_best))


def task_mean_score(kind, n_outputs, chunks, sizes):
    """Mean over tasks of accuracy (``kind="classification"``) or R^2 on encoded targets.

    ``chunks`` are ``(task, output, target)`` tensors (see :func:`valid_chunks`);
    ``sizes`` the number of rows of every task.
    """
    per_task = {}
    for t, out, y in _per_task(chunks):
        out, y = out.float().cpu(), y.cpu()
        acc = per_task.setdefault(t, [])
        if kind == "classification":
            pred = out[:, : n_outputs[t]].argmax(1)
            acc.append((pred == y).float().sum().item())
        else:
            y = y.reshape(len(y), -1)
            acc.append((out[:, : y.shape[1]], y))
    scores = []
    for t, parts in per_task.items():
        n = int(sizes[t])
        if kind == "classification":
            scores.append(sum(parts) / n)
        else:
            pred = torch.cat([p for p, _ in parts])
            y = torch.cat([q for _, q in parts])
            ss_res = ((y - pred) ** 2).sum(0)
            ss_tot = ((y - y.mean(0)) ** 2).sum(0)
            r2 = torch.where(
                ss_tot > 0, 1 - ss_res / ss_tot.clamp(min=1e-12), torch.zeros_like(ss_res)
            )
            scores.append(float(r2.mean()))
    return float(np.mean(scores)) if scores else float("nan")


def task_losses(net, chunks, n_tasks):
    """Mean loss of every task over ``chunks`` (``inf`` for a task without rows)."""
    total = np.zeros(n_tasks)
    count = np.zeros(n_tasks)
    crit = net.criterion_
    was_training = crit.training
    crit.eval()
    try:
        with torch.no_grad():
            for t, out, y in _per_task(chunks):
                out = out.to(net.device)
                task = torch.full((len(out),), t, dtype=torch.long, device=net.device)
                loss = crit(out, to_tensor(y, device=net.device), task)
                total[t] += float(loss) * len(out)
                count[t] += len(out)
    finally:
        crit.train(was_training)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.inf)


class PerTaskCheckpoint(Callback):
    """Per-task model selection: keep, for every task, the weights of its best epoch.

    After every epoch the validation loss of each task is computed on its own held-out
    rows; a task whose loss fell below its best so far points at a snapshot of the
    module's weights taken at that epoch (snapshots are shared between tasks and freed
    once no task points at them). Training stops when the mean over tasks of their best
    validation losses has not fallen by a relative ``tol`` within ``patience`` epochs.

    Attributes
    ----------
    best_loss_ : ndarray (n_tasks,)
    best_epoch_ : ndarray of int (n_tasks,)
        1-based epoch of every task's snapshot (0: none yet).
    snapshots_ : dict
        epoch -> state dict (CPU tensors).
    """

    def __init__(self, patience=10, tol=1e-3, batch_size=512, sink=None):
        self.patience = patience
        self.tol = tol
        self.batch_size = batch_size
        self.sink = sink

    def initialize(self):
        self.best_loss_ = None
        self.best_epoch_ = None
        self.snapshots_ = {}
        self.mean_best_ = []
        return self

    def on_train_begin(self, net, **kwargs):
        self.initialize()

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None or len(dataset_valid) == 0:
            return
        chunks = valid_chunks(net, dataset_valid, self.batch_size)
        losses = task_losses(net, chunks, len(dataset_valid.sizes))
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
        finite = np.isfinite(self.best_loss_)
        mean_best = float(self.best_loss_[finite].mean()) if finite.any() else np.inf
        self.mean_best_.append(mean_best)
        net.history.record("valid_tasks_improved", int(improved.sum()))
        net.history.record("valid_loss_per_task_best", mean_best)
        k = self.patience
        if len(self.mean_best_) > k:
            old = self.mean_best_[-k - 1]
            if np.isfinite(old) and mean_best > old - self.tol * abs(old):
                if self.sink is not None:
                    self.sink(
                        f"Stopping: the mean per-task best validation loss has not improved "
                        f"by {self.tol:g} (relative) in {k} epochs."
                    )
                raise KeyboardInterrupt
