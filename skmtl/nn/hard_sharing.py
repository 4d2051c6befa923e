"""Hard parameter sharing: a shared encoder into a latent space, then task heads.

The architecture of "On the relationship between disentanglement and multi-task learning"
(Section 3.2.1 and Appendix A): a shared encoder ``E(x)`` -- an MLP for tabular inputs or the
convolutional encoder of Locatello et al. (4x4 convolutions with stride 2, ReLU) for images --
maps the input to a ``latent_dim``-dimensional code; per-task fully connected heads (three
hidden ReLU layers of 300 and a linear output, Table 3) map the code to the task's outputs.

Torch only (no scikit-learn). Modules follow the skmtl module contract::

    forward(X, task, mask) -> (output (B, K), penalty scalar)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from skmtl.nn._gather import take_rows
from skmtl.nn.mlp import MLP, make_activation, per_task_outputs

__all__ = [
    "PAPER_CONV_CHANNELS",
    "make_activation",
    "MLP",
    "MLPEncoder",
    "ConvEncoder",
    "HardSharingModule",
]

#: Output channels of the convolutional encoder in the study's Table 2 (for 64 x 64 images).
PAPER_CONV_CHANNELS = (32, 32, 64, 128, 256, 256)


def _fit_width(X, width):
    """Cut padding columns beyond ``width``, or zero-pad a narrower batch up to ``width``.

    In "task" batching a batch is only as wide as its task; narrower tasks read as zeros in
    the missing columns (their standardised mean).
    """
    if X.shape[1] >= width:
        return X[:, :width]
    return nn.functional.pad(X, (0, width - X.shape[1]))


class MLPEncoder(nn.Module):
    """Shared MLP encoder for tabular inputs: ``(B, n_features) -> (B, latent_dim)``.

    Parameters
    ----------
    n_features : int
    hidden_layer_sizes : sequence of int, default=(256, 256)
    latent_dim : int, default=10
    activation : str, default="relu"
    dropout : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> MLPEncoder(5, (16,), latent_dim=3)(torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes=(256, 256),
        latent_dim=10,
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        self.n_features = int(n_features)
        self.latent_dim = int(latent_dim)
        self.net = MLP(n_features, hidden_layer_sizes, latent_dim, activation, dropout)

    def forward(self, X):
        return self.net(_fit_width(X, self.n_features))


class ConvEncoder(nn.Module):
    """Convolutional encoder of the study's Table 2 for flattened images.

    ``Conv2d(kernel 4, stride 2, padding 1) -> ReLU`` for each entry of ``conv_channels``, then
    a linear layer to ``latent_dim``. Inputs are flattened images ``(B, n_channels * h * w)``
    in channel-first order (``images.reshape(n, -1)``); extra (padding) columns are ignored.

    Parameters
    ----------
    image_shape : (int, int)
        Height and width.
    n_channels : int, default=1
    latent_dim : int, default=10
    conv_channels : sequence of int or None, default=None
        None uses the study's ``(32, 32, 64, 128, 256, 256)`` truncated to
        ``floor(log2(min(h, w)))`` layers (6 layers for 64 x 64 images, down to 1 x 1; 5 for
        32 x 32).
    activation : str, default="relu"

    Examples
    --------
    >>> import torch
    >>> enc = ConvEncoder((16, 16), latent_dim=4, conv_channels=(8, 8))
    >>> enc(torch.zeros(2, 256)).shape
    torch.Size([2, 4])
    """

    def __init__(
        self, image_shape, n_channels=1, latent_dim=10, conv_channels=None, activation="relu"
    ):
        super().__init__()
        h, w = (int(s) for s in image_shape)
        self.image_shape = (h, w)
        self.n_channels = int(n_channels)
        self.latent_dim = int(latent_dim)
        if conv_channels is None:
            depth = max(1, int(math.floor(math.log2(min(h, w)))))
            conv_channels = PAPER_CONV_CHANNELS[:depth]
        layers = []
        c_in, oh, ow = self.n_channels, h, w
        for c_out in conv_channels:
            if min(oh, ow) < 2:
                raise ValueError(
                    f"conv_channels has too many layers ({len(conv_channels)}) for images of "
                    f"shape {image_shape}: each layer halves the height and width"
                )
            layers += [
                nn.Conv2d(c_in, int(c_out), 4, stride=2, padding=1),
                make_activation(activation),
            ]
            c_in, oh, ow = int(c_out), oh // 2, ow // 2
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in * oh * ow, self.latent_dim)
        self.n_features = self.n_channels * h * w

    def forward(self, X):
        x = _fit_width(X, self.n_features).reshape(-1, self.n_channels, *self.image_shape)
        return self.fc(self.conv(x).flatten(1))


class HardSharingModule(nn.Module):
    """Shared encoder plus task heads, following the skmtl module contract.

    Parameters
    ----------
    n_features : int
        Input width (the widest task).
    n_outputs : sequence of int
        Outputs per task (regression target columns or number of classes).
    latent_dim : int, default=10
    hidden_layer_sizes : sequence of int, default=(256, 256)
        Hidden layers of the MLP encoder (ignored when ``image_shape`` is given).
    head_hidden_sizes : sequence of int, default=(300, 300, 300)
        Hidden layers of every head (the study's 4-layer heads); ``()`` for linear heads.
    heads : {"multi", "one", "per_output"}, default="multi"
        ``"multi"``: one head per task. ``"one"``: a single head with ``sum(n_outputs)``
        outputs shared by all tasks (multivariate regression, the study's Figure 4 baseline);
        task ``t`` reads its own block of columns. ``"per_output"``: one single-output head
        per output column of every task (for regression: a task whose ``y`` has 10 columns
        gets 10 heads on one shared encoding, exactly the study's multi-head network).
    image_shape : (int, int) or None, default=None
        Use the :class:`ConvEncoder` on inputs reshaped to ``(n_channels, h, w)``.
    n_channels : int, default=1
    conv_channels : sequence of int or None, default=None
    activation : str, default="relu"
    dropout : float, default=0.0
        Dropout after the encoder's hidden layers (MLP encoder only) and the heads'.

    Examples
    --------
    >>> import torch
    >>> m = HardSharingModule(6, [1, 1, 2], latent_dim=4, hidden_layer_sizes=(8,),
    ...                       head_hidden_sizes=(8,))
    >>> X = torch.randn(5, 6); task = torch.tensor([0, 1, 2, 2, 0])
    >>> out, penalty = m(X, task, torch.ones(5, 6, dtype=torch.bool))
    >>> out.shape, float(penalty)
    (torch.Size([5, 2]), 0.0)
    >>> m.encode(X, task, None).shape
    torch.Size([5, 4])
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        latent_dim=10,
        hidden_layer_sizes=(256, 256),
        head_hidden_sizes=(300, 300, 300),
        heads="multi",
        image_shape=None,
        n_channels=1,
        conv_channels=None,
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        if heads not in ("multi", "one", "per_output"):
            raise ValueError(f"heads must be 'multi', 'one' or 'per_output', got {heads!r}")
        self.n_outputs = [int(k) for k in n_outputs]
        if not self.n_outputs or min(self.n_outputs) < 1:
            raise ValueError(f"n_outputs must be a list of positive ints, got {n_outputs}")
        self.n_tasks = len(self.n_outputs)
        self.heads_mode = heads
        self.latent_dim = int(latent_dim)
        if image_shape is not None:
            self.encoder = ConvEncoder(
                image_shape, n_channels, latent_dim, conv_channels, activation
            )
        else:
            self.encoder = MLPEncoder(
                n_features, hidden_layer_sizes, latent_dim, activation, dropout
            )
        self.max_outputs = max(self.n_outputs)
        if heads == "multi":
            self.heads = nn.ModuleList(
                MLP(latent_dim, head_hidden_sizes, k, activation, dropout) for k in self.n_outputs
            )
        elif heads == "per_output":
            self.heads = nn.ModuleList(
                MLP(latent_dim, head_hidden_sizes, 1, activation, dropout)
                for _ in range(sum(self.n_outputs))
            )
            self._first_head = [0] + list(torch.tensor(self.n_outputs).cumsum(0).tolist())
        else:
            total = sum(self.n_outputs)
            self.heads = nn.ModuleList(
                [MLP(latent_dim, head_hidden_sizes, total, activation, dropout)]
            )
            offsets = torch.tensor([0] + self.n_outputs[:-1]).cumsum(0)
            cols = torch.arange(self.max_outputs)
            n_out = torch.tensor(self.n_outputs)
            valid = cols[None, :] < n_out[:, None]
            index = torch.where(valid, offsets[:, None] + cols[None, :], torch.zeros(()).long())
            self.register_buffer("_index", index, persistent=False)
            self.register_buffer("_valid", valid, persistent=False)

    def encode(self, X, task=None, mask=None):
        """Latent code of each row, ``(B, latent_dim)`` (the shared representation)."""
        return self.encoder(X)

    def forward(self, X, task, mask=None):
        z = self.encoder(X)
        return self.heads_forward(z, task), z.new_zeros(())

    def heads_forward(self, z, task):
        """Apply each row's head to latent codes ``z`` -> ``(B, max n_outputs)``."""
        if self.heads_mode == "one":
            full = self.heads[0](z)
            out = full.gather(1, self._index[task])
            return out * self._valid[task].to(out.dtype)
        if self.heads_mode == "multi" and torch.unique(task).numel() > 1:
            return self._stacked_heads(z, task)
        return per_task_outputs(self._task_head, z, task, self.n_outputs)

    def _stacked_heads(self, z, task):
        """Every row through its own task's head in one batched pass (no loop over tasks).

        The heads' weights are stacked layer by layer (the last layer zero-padded to the
        most outputs) and each row multiplies its own task's slice, so a mixed batch costs
        one matrix product per layer whatever the number of tasks.
        """
        h = z
        layers = list(zip(*self.heads))
        for position, modules in enumerate(layers):
            first = modules[0]
            if not isinstance(first, nn.Linear):
                h = first(h)  # activation or dropout: the same in every head
                continue
            weight = [m.weight for m in modules]
            bias = [m.bias for m in modules]
            if position == len(layers) - 1:
                pad = [self.max_outputs - w.shape[0] for w in weight]
                weight = [nn.functional.pad(w, (0, 0, 0, p)) for w, p in zip(weight, pad)]
                bias = [nn.functional.pad(b, (0, p)) for b, p in zip(bias, pad)]
            W = take_rows(torch.stack(weight), task)  # (B, out, in)
            b = take_rows(torch.stack(bias), task)  # (B, out)
            h = torch.baddbmm(b.unsqueeze(2), W, h.unsqueeze(2)).squeeze(2)
        return h

    def _task_head(self, t, z):
        if self.heads_mode == "per_output":
            first, last = self._first_head[t], self._first_head[t + 1]
            return torch.cat([self.heads[j](z) for j in range(first, last)], dim=1)
        return self.heads[t](z)

    def all_task_outputs(self, X):
        """Outputs of every task for every row: list of ``(B, n_outputs[t])`` tensors."""
        z = self.encoder(X)
        if self.heads_mode == "one":
            full = self.heads[0](z)
            return list(torch.split(full, self.n_outputs, dim=1))
        return [self._task_head(t, z) for t in range(self.n_tasks)]
