"""Fully connected building blocks shared by the torch modules: activations, MLP, heads."""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "PerTaskInputMLP",
    "make_activation",
    "pad_columns",
    "per_task_outputs",
]

#: activation name -> torch module class
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "elu": nn.ELU}


def make_activation(name):
    """Return a fresh activation module from its name (``relu``, ``tanh``, ``elu``, ``gelu``).

    Examples
    --------
    >>> make_activation("tanh")
    Tanh()
    """
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}") from None


class MLP(nn.Sequential):
    """Fully connected network: ``Linear -> act (-> dropout)`` per hidden layer, linear output.

    Parameters
    ----------
    in_features : int
    hidden_layer_sizes : sequence of int
        May be empty (a single linear layer).
    out_features : int
    activation : {"relu", "tanh", "gelu", "elu"}, default="relu"
    dropout : float, default=0.0
        Dropout after every hidden activation (none when 0).

    Examples
    --------
    >>> MLP(784, (32,), 4)
    MLP(
      (0): Linear(in_features=784, out_features=32, bias=True)
      (1): ReLU()
      (2): Linear(in_features=32, out_features=4, bias=True)
    )
    """

    def __init__(
        self, in_features, hidden_layer_sizes, out_features, activation="relu", dropout=0.0
    ):
        layers = []
        width = int(in_features)
        for h in hidden_layer_sizes:
            layers += [nn.Linear(width, int(h)), make_activation(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = int(h)
        layers.append(nn.Linear(width, int(out_features)))
        super().__init__(*layers)


class PerTaskInputMLP(nn.Module):
    """An MLP whose first linear layer is task-specific, for tasks of different widths.

    Task ``t``'s rows go through their own ``Linear(n_features[t], hidden_layer_sizes[0])``
    (reading only the task's first ``n_features[t]`` columns, so padding columns are
    ignored), then the activation and the shared rest of the network
    (:class:`MLP` from ``hidden_layer_sizes[0]`` through ``hidden_layer_sizes[1:]`` to
    ``out_features``). The first hidden layer is the shared width every task maps into.

    Parameters
    ----------
    n_features : sequence of int
        Input width of every task.
    hidden_layer_sizes : sequence of int
        At least one hidden layer (its width is the shared width).
    out_features, activation, dropout
        As :class:`MLP`.

    Examples
    --------
    >>> m = PerTaskInputMLP([3, 5], (4,), 2)
    >>> X, task = torch.zeros(3, 5), torch.tensor([0, 1, 1])
    >>> m(X, task).shape, m.inputs[0].in_features, m.inputs[1].in_features
    (torch.Size([3, 2]), 3, 5)
    """

    def __init__(
        self, n_features, hidden_layer_sizes, out_features, activation="relu", dropout=0.0
    ):
        super().__init__()
        hidden = [int(h) for h in hidden_layer_sizes]
        if not hidden:
            raise ValueError(
                "a per-task input layer maps every task into the width of the first hidden "
                "layer: hidden_layer_sizes must not be empty"
            )
        self.n_features = [int(f) for f in n_features]
        self.shared_width = hidden[0]
        self.inputs = nn.ModuleList(nn.Linear(f, hidden[0]) for f in self.n_features)
        after = [make_activation(activation)] + ([nn.Dropout(dropout)] if dropout else [])
        self.activation = nn.Sequential(*after)
        self.shared = MLP(hidden[0], hidden[1:], out_features, activation, dropout)

    def input_layer(self, X, task):
        """Every row through its own task's input map: ``(B, hidden_layer_sizes[0])``."""

        def first(t, rows):
            return self.inputs[t](rows[:, : self.n_features[t]])

        widths = [self.shared_width] * len(self.n_features)
        return per_task_outputs(first, X, task, widths)

    def forward(self, X, task):
        return self.shared(self.activation(self.input_layer(X, task.long())))


def pad_columns(out, width):
    """Zero-pad ``out`` (B, k) on the right to ``width`` columns.

    Examples
    --------
    >>> pad_columns(torch.ones(2, 1), 3).tolist()
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    if out.shape[1] < width:
        out = nn.functional.pad(out, (0, width - out.shape[1]))
    return out


def per_task_outputs(head, w, task, n_outputs):
    """Every row through its own task's head, zero-padded to the widest task (B, K).

    Parameters
    ----------
    head : callable
        ``head(t, rows) -> (n_rows, n_outputs[t])``.
    w : tensor of shape (B, D)
    task : tensor of int of shape (B,)
    n_outputs : list of int

    Examples
    --------
    >>> heads = [lambda x: x[:, :1], lambda x: x]
    >>> per_task_outputs(lambda t, x: heads[t](x), torch.ones(2, 2), torch.tensor([0, 1]),
    ...                  [1, 2]).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    width = max(n_outputs)
    tasks = torch.unique(task)
    if tasks.numel() == 1:
        return pad_columns(head(int(tasks.item()), w), width)
    out = w.new_zeros(w.shape[0], width)
    for t in tasks.tolist():
        rows = task == t
        out[rows, : n_outputs[t]] = head(t, w[rows])
    return out
