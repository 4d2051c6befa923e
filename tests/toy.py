"""A tiny neural estimator on the skmtl base, for testing the shared machinery."""

import torch
from torch import nn

from skmtl.base import MultiTaskClassifier, MultiTaskRegressor, training_parameters


class ToyModule(nn.Module):
    """Per-task input layer (so task widths may differ), shared hidden and output layer."""

    def __init__(self, spec, hidden=16):
        super().__init__()
        self.max_features = max(spec.n_features)
        self.inp = nn.Parameter(torch.randn(spec.n_tasks, self.max_features, hidden) * 0.3)
        self.out = nn.Linear(hidden, max(spec.n_outputs))
        self.drop = nn.Dropout(0.1)

    def forward(self, X, task, mask):
        W = self.inp[task][:, : X.shape[1]]  # (B, F, H)
        h = torch.relu(torch.einsum("bf,bfh->bh", X * mask, W))
        return self.out(self.drop(h)), (self.inp**2).mean() * 1e-3

    def encode(self, X, task, mask):
        W = self.inp[task][:, : X.shape[1]]
        return torch.relu(torch.einsum("bf,bfh->bh", X * mask, W))


@training_parameters(lr=1e-2, max_epochs=30, batch_size=32)
class _Toy:
    """The toy's parameters and module, shared by the classifier and the regressor."""

    def __init__(
        self,
        hidden=16,
    ):
        self.hidden = hidden

    def _build_module(self, spec):
        return ToyModule(spec, self.hidden)


class ToyClassifier(_Toy, MultiTaskClassifier):
    pass


class ToyRegressor(_Toy, MultiTaskRegressor):
    pass
