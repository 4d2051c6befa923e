"""The skorch net every neural estimator trains, and its validation score.

:class:`TaskNet` is skorch's ``NeuralNet`` with task-aware batches; inference goes
through skorch's own ``forward_iter`` (:meth:`TaskNet.task_outputs`), and the
per-task validation score is a skorch ``EpochScoring`` on the cached outputs of the
epoch's ``valid_loss`` pass (:func:`task_scoring`).
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EpochScoring
from skorch.utils import to_tensor

__all__ = ["TaskNet", "split_output", "task_mean_score", "task_scoring"]


def split_output(y_pred):
    """Split a module's return value into ``(output, penalty)``.

    Examples
    --------
    >>> split_output((1, 2)), split_output(3)
    ((1, 2), (3, None))
    """
    if isinstance(y_pred, tuple):
        return y_pred[0], (y_pred[1] if len(y_pred) > 1 else None)
    return y_pred, None


class _MethodCall(torch.nn.Module):
    """``module.<method>(**batch)`` as a module, so ``functional_call`` can run it."""

    def __init__(self, module, method):
        super().__init__()
        self.module = module
        self.method = method

    def forward(self, **batch):
        return getattr(self.module, self.method)(**batch)


class TaskNet(NeuralNet):
    """A skorch ``NeuralNet`` whose batches are task-aware dictionaries.

    The module receives ``X``, ``task`` and ``mask`` (see :mod:`skmtl._batching`) and
    returns ``(output, penalty)``; the criterion is called as
    ``criterion(output, y, task)`` and the penalty is added to the training loss only.
    Everything else (callbacks, history, early stopping, device, ``save_params``,
    ``forward_iter``) is skorch's.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._batching import TaskBatchLoader, TaskDataset
    >>> from skmtl.nn.losses import TaskMSE
    >>> class Lin(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__(); self.lin = torch.nn.Linear(2, 1)
    ...     def forward(self, X, task, mask):
    ...         return self.lin(X), X.new_zeros(())
    >>> net = TaskNet(Lin(), TaskMSE([1]), iterator_valid=TaskBatchLoader).initialize()
    >>> ds = TaskDataset([np.ones((3, 2))], None)
    >>> tuple(net.task_outputs(ds).shape)
    (3, 1)
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, penalty = split_output(y_pred)
        y_true = to_tensor(y_true, device=self.device)
        loss = self.criterion_(output, y_true, X["task"])
        if training and penalty is not None:
            loss = loss + penalty
        return loss

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        batch_size = getattr(self, "inference_call", (None, None, None))[2]
        if not training and batch_size is not None:
            iterator.batch_size = int(batch_size)  # prediction batches (task_outputs)
        return iterator

    def infer(self, x, **fit_params):
        method, weights, _ = getattr(self, "inference_call", (None, None, None))
        if method is None and weights is None:
            return super().infer(x, **fit_params)
        call = _MethodCall(self.module_, method or "forward")
        x = to_tensor(x, device=self.device)
        if weights is None:
            return call(**x)
        weights = {"module." + k: v for k, v in weights.items()}
        return torch.func.functional_call(call, weights, args=(), kwargs=x)

    @contextlib.contextmanager
    def _calling(self, method, weights, batch_size):
        self.inference_call = (method, weights, batch_size)
        try:
            yield
        finally:
            del self.inference_call

    def task_outputs(self, dataset, method=None, weights=None, batch_size=None):
        """The module's (first) output for every row of ``dataset``, through ``forward_iter``.

        Parameters
        ----------
        dataset : TaskDataset
        method : str, default=None
            A module method to call instead of ``forward`` (e.g. ``"encode"``).
        weights : dict of tensors, default=None
            A state dict to run the module with (``torch.func.functional_call``) instead
            of its own weights, e.g. a task's selected snapshot.
        batch_size : int, default=None
            Rows per forward pass (default: the validation iterator's).

        Returns
        -------
        tensor of shape (len(dataset), n_outputs) on the CPU, float32; None when empty.
        """
        with self._calling(method, weights, batch_size):
            outs = [split_output(y)[0].float() for y in self.forward_iter(dataset)]
        return torch.cat(outs) if outs else None


def _task_score(kind, n_outputs, output, y, task):
    """Accuracy over the task's own classes, or R^2 averaged over target columns."""
    if kind == "classification":
        return float((output[:, :n_outputs].argmax(1) == y).float().mean())
    y = y.reshape(len(y), -1)
    pred = output[:, : y.shape[1]]
    ss_res = ((y - pred) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    r2 = torch.where(ss_tot > 0, 1 - ss_res / ss_tot.clamp(min=1e-12), torch.zeros_like(ss_res))
    return float(r2.mean())


def task_mean_score(kind, n_outputs, output, y, task):
    """Mean over tasks of accuracy (``kind="classification"``) or R^2 on encoded targets.

    Parameters
    ----------
    kind : {"classification", "regression"}
    n_outputs : list of int
        Outputs of every task.
    output, y, task : tensor
        Every row's output, encoded target and task index.

    Examples
    --------
    >>> out = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> task_mean_score("classification", [2, 2], out, torch.tensor([0, 0, 0]),
    ...                 torch.tensor([0, 0, 1]))
    0.75
    """
    scores = [
        _task_score(kind, n_outputs[t], output[task == t], y[task == t], t)
        for t in torch.unique(task).tolist()
    ]
    return float(np.mean(scores)) if scores else float("nan")


def cached_validation(net, dataset, y):
    """``(output, target, task)`` of every validation row from a (cached) ``forward_iter``.

    Inside an ``EpochScoring``, ``net.forward_iter`` returns the outputs of the epoch's
    ``valid_loss`` pass, so the module is not run again.
    """
    output = torch.cat([split_output(p)[0].float().cpu() for p in net.forward_iter(dataset)])
    target = torch.as_tensor(np.asarray(y) if y is not None else dataset.y.cpu().numpy())
    return output, target, torch.as_tensor(dataset.row_task_np)


def task_scoring(kind, n_outputs, name="valid_score"):
    """skorch ``EpochScoring`` of the mean per-task validation score (``valid_score``).

    Accuracy for classifiers (over each task's own classes), R^2 for regressors,
    averaged over tasks; computed from the cached outputs of the epoch's validation
    pass.

    Examples
    --------
    >>> task_scoring("classification", [2]).name
    'valid_score'
    """

    scoring = functools.partial(_validation_score, kind, list(n_outputs))
    return EpochScoring(scoring, lower_is_better=False, name=name, use_caching=True)


def _validation_score(kind, n_outputs, net, X, y=None):
    output, target, task = cached_validation(net, X, y)
    return task_mean_score(kind, n_outputs, output, target, task)
