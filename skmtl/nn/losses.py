"""Task-aware training criteria.

Every criterion is called as ``criterion(output, target, task)``: ``output`` is the
module's (B, K) output padded to the largest task, ``target`` the batch targets and
``task`` the (B,) task index of every row. Columns beyond a task's own outputs are
ignored.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["MaskedCrossEntropy", "MaskedSquaredHinge", "TaskMSE", "valid_output_mask"]


def valid_output_mask(n_outputs, task, n_columns):
    """Bool (B, K) mask of the output columns that belong to each row's task.

    Examples
    --------
    >>> import torch
    >>> valid_output_mask(torch.tensor([2, 3]), torch.tensor([0, 1]), 3).tolist()
    [[True, True, False], [True, True, True]]
    """
    cols = torch.arange(n_columns, device=task.device)
    return cols.unsqueeze(0) < n_outputs[task].unsqueeze(1)


class _TaskCriterion(nn.Module):
    def __init__(self, n_outputs):
        super().__init__()
        self.register_buffer("n_outputs", torch.as_tensor(list(n_outputs), dtype=torch.long))


class MaskedCrossEntropy(_TaskCriterion):
    """Cross-entropy over each task's own classes.

    Parameters
    ----------
    n_outputs : sequence of int
        Number of classes of every task.

    Examples
    --------
    >>> import torch
    >>> crit = MaskedCrossEntropy([2, 3])
    >>> out = torch.tensor([[5.0, 0.0, 99.0], [0.0, 0.0, 5.0]])
    >>> float(crit(out, torch.tensor([0, 2]), torch.tensor([0, 1]))) < 0.02
    True
    """

    def forward(self, output, target, task):
        valid = valid_output_mask(self.n_outputs, task, output.shape[1])
        logits = output.masked_fill(~valid, float("-inf"))
        return F.cross_entropy(logits, target)


class MaskedSquaredHinge(_TaskCriterion):
    """Squared hinge loss on a +1/-1 one-vs-rest encoding of each task's classes.

    ``mean over rows of mean over the task's classes of max(0, 1 - t * output)^2`` with
    ``t = +1`` for the true class and ``-1`` otherwise (the loss of the shared variable
    embeddings paper, eq. 7).

    Examples
    --------
    >>> import torch
    >>> crit = MaskedSquaredHinge([2])
    >>> float(crit(torch.tensor([[1.0, -1.0]]), torch.tensor([0]), torch.tensor([0])))
    0.0
    """

    def forward(self, output, target, task):
        valid = valid_output_mask(self.n_outputs, task, output.shape[1])
        signs = -torch.ones_like(output)
        signs.scatter_(1, target.unsqueeze(1), 1.0)
        per_entry = torch.relu(1.0 - signs * output).pow(2) * valid
        return (per_entry.sum(1) / valid.sum(1)).mean()


class TaskMSE(_TaskCriterion):
    """Mean squared error over each task's own target columns.

    Examples
    --------
    >>> import torch
    >>> crit = TaskMSE([1])
    >>> float(crit(torch.tensor([[2.0]]), torch.tensor([[0.0]]), torch.tensor([0])))
    4.0
    """

    def forward(self, output, target, task):
        if target.dim() == 1:
            target = target.unsqueeze(1)
        output = output[:, : target.shape[1]]
        valid = valid_output_mask(self.n_outputs, task, target.shape[1])
        sq = (output - target).pow(2) * valid
        return sq.sum() / valid.sum().clamp(min=1)
