"""A tiny neural estimator on the skmtl base, for testing the shared machinery."""

import torch
from torch import nn

from skmtl.base import MultiTaskClassifier, MultiTaskRegressor


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


class _Toy:
    """The toy's parameters and module, shared by the classifier and the regressor."""

    def __init__(
        self,
        hidden=16,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=32,
        batching="task",
        task_sampling="proportional",
        tasks_per_step=None,
        steps_per_epoch=None,
        optimizer="adam",
        weight_decay=0.0,
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=10,
        tol=None,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        random_state=None,
    ):
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            batching=batching,
            task_sampling=task_sampling,
            tasks_per_step=tasks_per_step,
            steps_per_epoch=steps_per_epoch,
            optimizer=optimizer,
            weight_decay=weight_decay,
            validation_fraction=validation_fraction,
            early_stopping=early_stopping,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            callbacks=callbacks,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            random_state=random_state,
        )
        self.hidden = hidden

    def _build_module(self, spec):
        return ToyModule(spec, self.hidden)


class ToyClassifier(_Toy, MultiTaskClassifier):
    pass


class ToyRegressor(_Toy, MultiTaskRegressor):
    pass
