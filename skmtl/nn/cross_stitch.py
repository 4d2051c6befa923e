"""Cross-stitch and sluice networks: one MLP column per task, mixed between layers.

Cross-stitch networks (Misra et al., 2016) give every task its own fully connected
network and, after every hidden layer, replace each task's activations by a learned
linear combination of all tasks' activations at the same layer. Sluice networks (Ruder
et al., 2019) split every layer into subspaces that are mixed separately, feed the output
layer a learned combination of all hidden layers (layer-stitch ``beta``) and penalise
the overlap of the subspaces (an orthogonality penalty). Both are baselines of the
hypernetwork paper (its Table 2), which uses its authors' MLP variants of them.

Every row is sent through all tasks' columns (the mixing needs them at the same input);
the output of the row's own task's column is returned.

This module imports torch (and numpy for input conversion) only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["CrossStitchNetwork", "stitch_init"]


def stitch_init(n_units: int, n_groups: int, scheme: str) -> torch.Tensor:
    """Initial ``(n_units, n_units)`` stitch matrix (rows sum to one).

    ``n_units = n_tasks * n_subspaces`` with unit ``k`` = (task ``k // n_groups``,
    subspace ``k % n_groups``). ``"balanced"``: every entry ``1 / n_units``.
    ``"imbalanced"``: with one subspace, 0.9 on the diagonal and ``0.1 / (T - 1)``
    elsewhere (Misra et al.); with subspaces, 0.95 to the same subspace and 0.05 to the
    other ones, spread evenly over the tasks (the authors' scheme).

    Parameters
    ----------
    n_units : int
    n_groups : int
        Subspaces per task.
    scheme : {"balanced", "imbalanced"}

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> stitch_init(3, 1, "imbalanced")
    tensor([[0.9000, 0.0500, 0.0500],
            [0.0500, 0.9000, 0.0500],
            [0.0500, 0.0500, 0.9000]])
    """
    if scheme == "balanced" or n_units == 1:
        return torch.full((n_units, n_units), 1.0 / n_units)
    if scheme != "imbalanced":
        raise ValueError(f"alpha_init must be 'balanced' or 'imbalanced', got {scheme!r}")
    if n_groups == 1:
        m = torch.full((n_units, n_units), 0.1 / (n_units - 1))
        m.fill_diagonal_(0.9)
        return m
    sub = torch.arange(n_units) % n_groups
    same = sub[:, None] == sub[None, :]
    n_tasks = n_units // n_groups
    share = torch.where(same, 0.95 / n_tasks, 0.05 / (n_units - n_tasks))
    return share.float()


class CrossStitchNetwork(nn.Module):
    """Cross-stitch (``n_subspaces=1``) or sluice network for tabular regression.

    Parameters
    ----------
    n_tasks : int
        Number of tasks (one network column each).
    n_features : int
        Input width (the widest task; narrower tasks arrive zero-padded).
    n_outputs : int
        Number of outputs.
    hidden_layer_sizes : sequence of int, default=(32, 32, 32)
        Hidden ReLU layers of every column; each must divide by ``n_subspaces``.
    n_subspaces : int, default=1
        Subspaces per layer mixed separately (sluice: 2).
    alpha_init : {"balanced", "imbalanced"}, default="balanced"
        Initial stitch matrices (see :func:`stitch_init`).
    layer_stitch : bool, default=False
        Feed the output layer a learned convex combination (``beta``) of every hidden
        layer's activations instead of the last one only (sluice).
    beta_init : {"balanced", "imbalanced"}, default="imbalanced"
        Initial ``beta``: equal weights, or 0.9 on the last hidden layer and the rest
        shared evenly.
    orthogonal_penalty : float, default=0.0
        Weight ``lambda`` of the subspace orthogonality penalty
        ``sum_layers mean_tasks ||W_1^T W_2||_F^2`` between the weights of the first two
        subspaces of every hidden layer (Ruder et al.); needs ``n_subspaces >= 2``.
    metadata : array-like of shape (n_tasks, d_m), optional
        Raw task metadata, standardised here (frozen buffer) and appended to every row's
        inputs (how the hypernetwork paper gives metadata to its baselines).

    Examples
    --------
    >>> import torch
    >>> net = CrossStitchNetwork(n_tasks=3, n_features=2, n_outputs=1,
    ...                          hidden_layer_sizes=(4, 4), n_subspaces=2,
    ...                          layer_stitch=True, orthogonal_penalty=0.1)
    >>> out, penalty = net(torch.randn(5, 2), torch.tensor([0, 1, 2, 2, 0]))
    >>> out.shape, bool(penalty >= 0)
    (torch.Size([5, 1]), True)
    """

    def __init__(
        self,
        n_tasks: int,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (32, 32, 32),
        n_subspaces: int = 1,
        alpha_init: str = "balanced",
        layer_stitch: bool = False,
        beta_init: str = "imbalanced",
        orthogonal_penalty: float = 0.0,
        metadata=None,
    ):
        super().__init__()
        self.n_tasks, self.n_features = int(n_tasks), int(n_features)
        self.n_subspaces = int(n_subspaces)
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        if not self.hidden_layer_sizes:
            raise ValueError("a cross-stitch network needs at least one hidden layer")
        bad = [h for h in self.hidden_layer_sizes if h % self.n_subspaces]
        if bad:
            raise ValueError(
                f"hidden layer sizes {bad} do not divide into n_subspaces={self.n_subspaces}"
            )
        if orthogonal_penalty and self.n_subspaces < 2:
            raise ValueError("orthogonal_penalty needs n_subspaces >= 2")
        self.orthogonal_penalty = float(orthogonal_penalty)
        self._init_metadata(metadata)
        d_in = self.n_features + self.metadata_dim
        dims = (d_in, *self.hidden_layer_sizes, int(n_outputs))
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            lin = nn.Linear(a, b)  # one torch initialisation copied to every task
            self.weights.append(nn.Parameter(lin.weight.detach().T.repeat(self.n_tasks, 1, 1)))
            self.biases.append(nn.Parameter(lin.bias.detach().repeat(self.n_tasks, 1)))
        units = self.n_tasks * self.n_subspaces
        init = stitch_init(units, self.n_subspaces, alpha_init)
        # stitch weights as row-softmax logits: the mixing stays convex, starts at init
        self.alpha_logits = nn.ParameterList(
            nn.Parameter(init.log().clone()) for _ in self.hidden_layer_sizes
        )
        self.layer_stitch = bool(layer_stitch)
        if self.layer_stitch:
            if len(set(self.hidden_layer_sizes)) > 1:
                raise ValueError("layer_stitch needs hidden layers of one width")
            n_hidden = len(self.hidden_layer_sizes)
            beta = torch.full((n_hidden,), 1.0 / n_hidden)
            if beta_init == "imbalanced" and n_hidden > 1:
                beta = torch.full((n_hidden,), 0.1 / (n_hidden - 1))
                beta[-1] = 0.9
            elif beta_init not in ("balanced", "imbalanced"):
                raise ValueError(f"beta_init must be 'balanced' or 'imbalanced', got {beta_init!r}")
            self.beta_logits = nn.Parameter(beta.log())
        else:
            self.beta_logits = None

    def _init_metadata(self, metadata):
        self.register_buffer("metadata_mean", None)
        self.register_buffer("metadata_scale", None)
        self.register_buffer("metadata", None)
        self.metadata_dim = 0
        if metadata is None:
            return
        meta = torch.tensor(np.asarray(metadata, dtype=np.float64))
        if meta.ndim != 2 or meta.shape[0] != self.n_tasks:
            raise ValueError(
                f"metadata must have shape (n_tasks={self.n_tasks}, d_m), got {tuple(meta.shape)}"
            )
        mean, scale = meta.mean(0), meta.std(0, unbiased=False)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.metadata_mean, self.metadata_scale = mean.float(), scale.float()
        self.metadata = ((meta - mean) / scale).float()
        self.metadata_dim = meta.shape[1]

    def stitch_matrices(self) -> list[torch.Tensor]:
        """The current ``(T * n_subspaces, T * n_subspaces)`` mixing matrices (rows sum to 1)."""
        return [torch.softmax(a, dim=1) for a in self.alpha_logits]

    def _stitch(self, h: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        # (B, T, d) -> (B, T * S, d / S): unit (task, subspace); mix the units; back
        B, T, d = h.shape
        units = h.reshape(B, T * self.n_subspaces, d // self.n_subspaces)
        return torch.matmul(alpha, units).reshape(B, T, d)

    def penalty(self) -> torch.Tensor:
        """The orthogonality penalty of the hidden layers' first two subspaces."""
        total = self.weights[0].new_zeros(())
        if not self.orthogonal_penalty:
            return total
        for w in list(self.weights)[:-1]:
            size = w.shape[2] // self.n_subspaces
            w1, w2 = w[:, :, :size], w[:, :, size : 2 * size]
            total = total + (w1.transpose(1, 2) @ w2).pow(2).sum((1, 2)).mean()
        return self.orthogonal_penalty * total

    def forward(self, X: torch.Tensor, task: torch.Tensor, mask=None):
        """``(output (B, n_outputs), penalty)`` for rows ``X`` of tasks ``task``."""
        if mask is not None:
            X = X * mask.to(X.dtype)
        if X.shape[1] < self.n_features:  # a batch of narrower tasks only
            X = nn.functional.pad(X, (0, self.n_features - X.shape[1]))
        task = task.long()
        if self.metadata is not None:
            X = torch.cat([X, self.metadata[task]], dim=1)
        h = X.unsqueeze(1).expand(-1, self.n_tasks, -1)  # every task's column sees the row
        hidden = []
        for w, b, alpha in zip(self.weights[:-1], self.biases[:-1], self.stitch_matrices()):
            h = torch.relu(self._stitch(torch.einsum("btd,tde->bte", h, w) + b, alpha))
            hidden.append(h)
        if self.beta_logits is not None:
            beta = torch.softmax(self.beta_logits, dim=0)
            h = torch.einsum("lbtd,l->btd", torch.stack(hidden), beta)
        rows = torch.arange(X.shape[0], device=X.device)
        # only the row's own task's output layer is needed
        out = torch.einsum("bd,bde->be", h[rows, task], self.weights[-1][task])
        out = out + self.biases[-1][task]
        return out, self.penalty()
