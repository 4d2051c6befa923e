"""Multi-Task Hypernetwork torch module.

A shared hypernetwork maps a learned task embedding ``e_t`` (optionally concatenated
with the task's frozen, standardised metadata ``m_t``) to the weights of a task's
fully connected target network. The weight generator uses the compressed linear
layers of the paper (Section 2.1): for a target layer with ``d_in* = d_in + 1``
inputs (the extra row is the bias) and ``d_out`` outputs, three matrices
``W^A (d_h x d_in*)``, ``W^B (d_h x d_out)`` and ``W^C (d_in* x d_out)`` stand for
the full generator tensor ``W_ijk = W^A_ij W^B_ik W^C_jk``, plus a generator bias
``b (d_in* x d_out)``.

All tasks' weights are generated in one batched pass and the rows of a batch are
sent through their own task's network with ``torch.bmm`` (no loop over tasks).

This module imports torch (and numpy for input conversion) only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from skmtl.nn._gather import take_rows

__all__ = [
    "TaskConditionedMLP",
    "CompressedWeightGenerator",
    "FullWeightGenerator",
    "MultiTaskHypernetwork",
    "hypernet_parameter_count",
    "paper_parameter_count",
]


def _kaiming_linear_(weight: torch.Tensor, fan_in: int) -> torch.Tensor:
    """Kaiming-uniform initialisation as used by ``torch.nn.Linear`` (Appendix C).

    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, i.e. ``kaiming_uniform_(a=sqrt(5))``.
    """
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    with torch.no_grad():
        return weight.uniform_(-bound, bound)


_GENERATOR_PARAMETERS = """
    Parameters
    ----------
    d_h : int
        Size of the latent task vector.
    d_in : int
        Number of inputs of the generated target layer (without the bias).
    d_out : int
        Number of outputs of the generated target layer.
"""


class _WeightGenerator(nn.Module):
    """A hypernetwork layer: latent task vectors ``(n, d_h)`` -> ``(n, d_in + 1, d_out)``
    target-layer parameters (last row: the bias), with a generator bias ``b``. Subclasses
    create their weights in :meth:`_init_weights` (called before ``b`` is created)."""

    def __init__(self, d_h: int, d_in: int, d_out: int):
        super().__init__()
        self.d_h, self.d_in, self.d_out = d_h, d_in, d_out
        self._init_weights(d_h, d_in + 1, d_out)
        self.bias = nn.Parameter(_kaiming_linear_(torch.empty(d_in + 1, d_out), d_in + 1))

    def _init_weights(self, d_h: int, d_in_star: int, d_out: int) -> None:
        raise NotImplementedError


class CompressedWeightGenerator(_WeightGenerator):
    __doc__ = (
        """Compressed hypernetwork layer generating one target layer (paper Section 2.1).

    Maps a latent task vector ``h`` (``d_h``) to a ``(d_in + 1, d_out)`` matrix whose
    first ``d_in`` rows are the target layer's weight and whose last row is its bias:
    ``theta_jk = sum_i h_i W^A_ij W^B_ik W^C_jk + b_jk``.
"""
        + _GENERATOR_PARAMETERS
        + """
    Examples
    --------
    >>> import torch
    >>> gen = CompressedWeightGenerator(d_h=8, d_in=3, d_out=5)
    >>> gen(torch.randn(4, 8)).shape
    torch.Size([4, 4, 5])
    >>> sum(p.numel() for p in gen.parameters()) == 8 * 4 + 8 * 5 + 2 * 4 * 5
    True
    """
    )

    def _init_weights(self, d_h, d_in_star, d_out):
        # Kaiming (torch Linear default) with the fan-in of the linear map each factor
        # stands for, as in the authors' implementation.
        self.weight_a = nn.Parameter(_kaiming_linear_(torch.empty(d_h, d_in_star), d_h))
        self.weight_b = nn.Parameter(_kaiming_linear_(torch.empty(d_h, d_out), d_h))
        self.weight_c = nn.Parameter(_kaiming_linear_(torch.empty(d_in_star, d_out), d_in_star))

    def full_weight(self) -> torch.Tensor:
        """The expanded generator tensor ``W`` of shape ``(d_h, d_in + 1, d_out)``."""
        return self.weight_a[:, :, None] * self.weight_b[:, None, :] * self.weight_c[None, :, :]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Generate ``(n, d_in + 1, d_out)`` layer parameters from ``h`` ``(n, d_h)``."""
        # core_njk = sum_i h_ni A_ij B_ik as one batched matmul, then the elementwise
        # W^C factor: the full d_h x d_in* x d_out tensor W is never built.
        core = torch.matmul((h.unsqueeze(2) * self.weight_a).transpose(1, 2), self.weight_b)
        return core * self.weight_c + self.bias


class FullWeightGenerator(_WeightGenerator):
    __doc__ = (
        """Uncompressed hypernetwork layer (the "without compression" ablation).

    Learns the full tensor ``W (d_h, d_in + 1, d_out)`` and bias ``b (d_in + 1, d_out)``.
"""
        + _GENERATOR_PARAMETERS
        + """
    Examples
    --------
    >>> import torch
    >>> gen = FullWeightGenerator(d_h=8, d_in=3, d_out=5)
    >>> gen(torch.randn(4, 8)).shape
    torch.Size([4, 4, 5])
    """
    )

    def _init_weights(self, d_h, d_in_star, d_out):
        self.weight = nn.Parameter(_kaiming_linear_(torch.empty(d_h, d_in_star, d_out), d_h))

    def full_weight(self) -> torch.Tensor:
        """The generator tensor ``W`` of shape ``(d_h, d_in + 1, d_out)``."""
        return self.weight

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Generate ``(n, d_in + 1, d_out)`` layer parameters from ``h`` ``(n, d_h)``."""
        return torch.einsum("ni,ijk->njk", h, self.weight) + self.bias


_COUNT_PARAMETERS = """
    Parameters
    ----------
    d_e, d_m, d_h, l_h : int
        Embedding size (0 without embeddings), metadata size, feature-extractor width
        and depth.
    layer_dims : sequence of (d_in, d_out)
        Target layers, without the bias input.
    n_tasks : int
        Number of tasks ``T``.

    Returns
    -------
    int
"""


def _generator_count(d_h, layer_dims):
    """Compressed generators: ``sum_i (2 d_in*_i d_out_i + d_h d_in*_i + d_h d_out_i)``."""
    return sum(2 * (i + 1) * o + d_h * (i + 1) + d_h * o for i, o in layer_dims)


def paper_parameter_count(
    d_e: int, d_m: int, d_h: int, l_h: int, layer_dims: Sequence[tuple[int, int]], n_tasks: int
) -> int:
    if l_h == 0:
        d_h = d_e + d_m
    extractor = (d_e + d_m + d_h * (l_h - 1)) * (d_h + 1)
    return extractor + _generator_count(d_h, layer_dims) + n_tasks * d_e


paper_parameter_count.__doc__ = (
    """Parameter count ``P`` exactly as printed in the paper (Section 2.1, "Complexity").

    ``P = (d_e + d_m + d_h (l_h - 1)) (d_h + 1)
    + sum_i (2 d_in*_i d_out_i + d_h d_in*_i + d_h d_out_i) + T d_e``
    with ``d_in* = d_in + 1``. With ``l_h = 0`` the latent size is ``d_h = d_e + d_m``
    and the first term vanishes.
"""
    + _COUNT_PARAMETERS
    + """
    Examples
    --------
    >>> paper_parameter_count(10, 0, 32, 0, [(1, 32), (32, 1)], n_tasks=20)
    1074
    """
)


def hypernet_parameter_count(
    d_e: int, d_m: int, d_h: int, l_h: int, layer_dims: Sequence[tuple[int, int]], n_tasks: int
) -> int:
    if l_h == 0:
        extractor, d_h = 0, d_e + d_m
    else:
        extractor = (d_e + d_m + 1) * d_h + (l_h - 1) * (d_h + 1) * d_h
    return extractor + _generator_count(d_h, layer_dims) + n_tasks * d_e


hypernet_parameter_count.__doc__ = (
    """Exact trainable parameter count of :class:`MultiTaskHypernetwork`.

    Identical to :func:`paper_parameter_count` except for the first feature-extractor
    layer, whose bias has ``d_h`` entries (``(d_e + d_m + 1) d_h`` parameters) where the
    paper's formula writes ``(d_e + d_m)(d_h + 1)``; both agree when ``d_e + d_m = d_h``
    or ``l_h = 0``. Per-task input layers (tasks of different widths) are not counted.
"""
    + _COUNT_PARAMETERS
    + """
    Examples
    --------
    >>> hypernet_parameter_count(10, 4, 32, 1, [(1, 32), (32, 1)], n_tasks=20)
    3050
    """
)


class MultiTaskHypernetwork(nn.Module):
    """Multi-Task Hypernetwork (hypernetwork + generated target networks).

    Parameters
    ----------
    n_tasks : int
        Number of tasks ``T``.
    n_features : int
        Input width of the target networks (the widest task; narrower tasks arrive
        zero-padded, see the module contract).
    n_outputs : int
        Number of outputs of the target networks.
    hidden_layer_sizes : sequence of int, default=(32, 32, 32)
        Hidden layers of each target network (ReLU between layers).
    embedding_dim : int, default=10
        Size ``d_e`` of the learned task embeddings.
    hyper_layers : int, default=1
        Number ``l_h`` of linear + ReLU layers of the feature extractor (0 allowed:
        the weight generator then reads the embedding/metadata directly).
    hyper_width : int, default=32
        Width ``d_h`` of the feature extractor layers.
    compress : bool, default=True
        Use the compressed weight generator (Section 2.1); ``False`` learns full
        generator tensors (ablation).
    metadata : array-like of shape (n_tasks, d_m), optional
        Raw task metadata. Standardised here (column mean 0, unit variance; constant
        columns are only centred) and kept as a frozen buffer.
    use_embeddings : bool, default=True
        ``False`` drops the task embeddings (metadata-only ablation; needs metadata).
    embedding_init_var : float, default=1.0
        Variance of the uniform initialisation of the embeddings.
    embedding_init_same : bool, default=True
        Initialise every task's embedding with the same draw (as in the paper).
    task_input_widths : sequence of int, optional
        Tasks of different widths: task ``t``'s rows (its first ``task_input_widths[t]``
        columns; the rest is zero padding) first go through the task's own linear layer
        into ``input_layer_dim`` values, then through the generated target network (whose
        input width is then ``input_layer_dim``). Not part of the paper.
    input_layer_dim : int, optional
        Width of the per-task input layers' output (default: ``n_features``).

    Examples
    --------
    >>> import torch
    >>> net = MultiTaskHypernetwork(n_tasks=3, n_features=2, n_outputs=1,
    ...                             metadata=torch.randn(3, 4))
    >>> X = torch.randn(5, 2)
    >>> task = torch.tensor([0, 1, 2, 2, 0])
    >>> out, penalty = net(X, task, torch.ones(5, 2, dtype=torch.bool))
    >>> out.shape, float(penalty)
    (torch.Size([5, 1]), 0.0)
    """

    def __init__(
        self,
        n_tasks: int,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (32, 32, 32),
        embedding_dim: int = 10,
        hyper_layers: int = 1,
        hyper_width: int = 32,
        compress: bool = True,
        metadata=None,
        use_embeddings: bool = True,
        embedding_init_var: float = 1.0,
        embedding_init_same: bool = True,
        task_input_widths: Sequence[int] | None = None,
        input_layer_dim: int | None = None,
    ):
        super().__init__()
        self.n_tasks = int(n_tasks)
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        self.hyper_layers = int(hyper_layers)
        self.compress = bool(compress)
        self.use_embeddings = bool(use_embeddings) and embedding_dim > 0
        self.embedding_dim = int(embedding_dim) if self.use_embeddings else 0
        # creation order (metadata, embeddings, extractor, generators, task inputs) fixes
        # the random draws: keep it so that seeded fits stay bit-identical
        self._register_metadata(metadata)
        if not self.use_embeddings and self.metadata_dim == 0:
            raise ValueError("use_embeddings=False requires task metadata")
        self._init_embeddings(embedding_init_var, embedding_init_same)
        self._build_feature_extractor(hyper_width)
        widths = None if task_input_widths is None else [int(w) for w in task_input_widths]
        d_target = self.n_features if widths is None else int(input_layer_dim or max(widths))
        self._build_generators(d_target)
        self._build_task_inputs(widths, d_target)

    def _register_metadata(self, metadata):
        """Frozen, standardised metadata buffers (``None`` without metadata)."""
        if metadata is None:
            for name in ("metadata_mean", "metadata_scale", "metadata"):
                self.register_buffer(name, None)
            self.metadata_dim = 0
            return
        meta = torch.tensor(np.asarray(metadata, dtype=np.float64))
        if meta.ndim != 2 or meta.shape[0] != self.n_tasks:
            raise ValueError(
                f"metadata must have shape (n_tasks={self.n_tasks}, d_m), got {tuple(meta.shape)}"
            )
        mean = meta.mean(0)
        scale = meta.std(0, unbiased=False)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.register_buffer("metadata_mean", mean.float())
        self.register_buffer("metadata_scale", scale.float())
        self.register_buffer("metadata", ((meta - mean) / scale).float())
        self.metadata_dim = meta.shape[1]

    def _init_embeddings(self, init_var, init_same):
        """Task embeddings ``U(-a, a)``, ``a = sqrt(3 var)``, by default one draw for all."""
        if not self.use_embeddings:
            self.task_embeddings = None
            return
        a = math.sqrt(3.0 * init_var)
        rows = 1 if init_same else self.n_tasks
        emb = torch.empty(rows, self.embedding_dim).uniform_(-a, a)
        self.task_embeddings = nn.Parameter(emb.expand(self.n_tasks, -1).clone())

    def _build_feature_extractor(self, hyper_width):
        d_in_hyper = self.embedding_dim + self.metadata_dim
        layers: list[nn.Module] = []
        for i in range(self.hyper_layers):
            lin = nn.Linear(d_in_hyper if i == 0 else hyper_width, hyper_width)
            layers += [lin, nn.ReLU()]
        self.feature_extractor = nn.Sequential(*layers)
        self.latent_dim = hyper_width if self.hyper_layers > 0 else d_in_hyper

    def _build_generators(self, d_target):
        dims = (d_target, *self.hidden_layer_sizes, self.n_outputs)
        self.layer_dims = list(zip(dims[:-1], dims[1:], strict=True))
        gen_cls = CompressedWeightGenerator if self.compress else FullWeightGenerator
        self.generators = nn.ModuleList(gen_cls(self.latent_dim, i, o) for i, o in self.layer_dims)

    def _build_task_inputs(self, widths, d_target):
        """Per-task input layers ``x_t W_t + b_t`` into ``d_target`` (tasks of different
        widths); ``W_t`` is ``(widths[t], d_target)``, stored zero-padded to the widest task
        (the padded rows meet only padded, zero inputs). Kaiming init per task."""
        self.task_input_widths = widths
        if widths is None:
            self.input_weight = self.input_bias = None
            return
        if len(widths) != self.n_tasks or max(widths) > self.n_features:
            raise ValueError(
                f"task_input_widths must give {self.n_tasks} widths of at most "
                f"n_features={self.n_features}, got {widths}"
            )
        weight = torch.zeros(self.n_tasks, self.n_features, d_target)
        bias = torch.empty(self.n_tasks, d_target)
        for t, w in enumerate(widths):
            _kaiming_linear_(weight[t, :w], w)
            _kaiming_linear_(bias[t], w)
        self.input_weight = nn.Parameter(weight)
        self.input_bias = nn.Parameter(bias)

    def n_trainable(self) -> int:
        """Trainable parameters, without the zero padding of the per-task input layers.

        Examples
        --------
        >>> net = MultiTaskHypernetwork(n_tasks=2, n_features=3, n_outputs=1,
        ...                             hidden_layer_sizes=(4,), task_input_widths=[1, 3])
        >>> padded = sum(p.numel() for p in net.parameters())
        >>> padded - net.n_trainable()  # task 0's two padded input rows of width 3
        6
        """
        n = sum(p.numel() for p in self.parameters() if p.requires_grad)
        if self.task_input_widths is not None:
            n -= sum(self.n_features - w for w in self.task_input_widths) * self.input_bias.shape[1]
        return n

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__
        state = dict(state)
        state.pop("_weight_cache", None)  # derived, rebuilt on demand
        return state

    # ------------------------------------------------------------------ helpers
    def standardize_metadata(self, metadata) -> torch.Tensor:
        """Standardise raw metadata rows with the training tasks' mean and scale."""
        if self.metadata is None:
            raise ValueError("this model was built without metadata")
        meta = torch.tensor(np.asarray(metadata, dtype=np.float32), device=self.metadata.device)
        meta = meta.reshape(-1, self.metadata_dim)
        return (meta - self.metadata_mean) / self.metadata_scale

    def hyper_input(self, embeddings=None, metadata=None) -> torch.Tensor:
        """Input of the hypernetwork, ``[e_t, m_t]`` per task (``(n, d_e + d_m)``).

        ``embeddings`` / ``metadata`` default to the training tasks' ones; ``metadata``
        given here must already be standardised.
        """
        parts = []
        if self.use_embeddings:
            parts.append(self.task_embeddings if embeddings is None else embeddings)
        if self.metadata is not None:
            parts.append(self.metadata if metadata is None else metadata)
        return torch.cat(parts, dim=1)

    def generate(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Target-network parameters for hypernetwork inputs ``z`` ``(n, d_e + d_m)``.

        Returns one ``(n, d_in + 1, d_out)`` tensor per target layer (last row: bias).
        """
        h = self.feature_extractor(z)
        return [gen(h) for gen in self.generators]

    def task_weights(self) -> list[torch.Tensor]:
        """Parameters of every training task's target network, in one batched pass.

        Without gradients (prediction, validation) the result is cached until a
        parameter changes (tracked by the tensors' version counters), so evaluating a
        dataset task by task generates the weights once.
        """
        if torch.is_grad_enabled():
            self._weight_cache = None
            return self.generate(self.hyper_input())
        # the data pointer changes when the module moves device (``.to`` keeps versions)
        key = tuple((id(p), p._version, p.data_ptr()) for p in self.parameters())
        cache = getattr(self, "_weight_cache", None)
        if cache is None or cache[0] != key:
            cache = (key, self.generate(self.hyper_input()))
            self._weight_cache = cache
        return cache[1]

    def target_forward(self, X: torch.Tensor, weights, index: torch.Tensor) -> torch.Tensor:
        """Run each row of ``X`` through network ``index[row]`` of ``weights``."""
        h = X
        last = len(weights) - 1
        for n, theta in enumerate(weights):
            w = take_rows(theta, index)  # (B, d_in + 1, d_out)
            h = torch.bmm(h.unsqueeze(1), w[:, :-1]).squeeze(1) + w[:, -1]
            if n < last:
                h = torch.relu(h)
        return h

    # ------------------------------------------------------------------ forward
    def forward(self, X: torch.Tensor, task: torch.Tensor, mask=None):
        """Predict ``(B, n_outputs)`` for rows ``X`` of tasks ``task``.

        Returns ``(output, penalty)`` with a zero penalty.
        """
        if mask is not None:
            X = X * mask.to(X.dtype)
        task = task.long()
        if self.input_weight is not None:  # per-task input layer (padded inputs are 0)
            w = take_rows(self.input_weight[:, : X.shape[1]], task)
            X = torch.bmm(X.unsqueeze(1), w).squeeze(1) + take_rows(self.input_bias, task)
        weights = self.task_weights()
        out = self.target_forward(X, weights, task)
        return out, out.new_zeros(())

    def forward_new(self, X: torch.Tensor, metadata, embedding=None) -> torch.Tensor:
        """Zero-shot prediction for a task unseen in training.

        Parameters
        ----------
        X : tensor (B, n_features)
            Inputs, scaled like the training tasks' inputs.
        metadata : array-like (d_m,)
            Raw (unstandardised) metadata of the new task.
        embedding : tensor (d_e,), optional
            Embedding to use; defaults to the mean of the learned task embeddings.
        """
        if self.input_weight is not None:
            raise ValueError(
                "this model has per-task input layers (tasks of different widths): a new "
                "task has no input layer to generate a network for"
            )
        m = self.standardize_metadata(metadata)[:1]
        emb = None
        if self.use_embeddings:
            if embedding is None:
                emb = self.task_embeddings.mean(0, keepdim=True)
            else:
                emb = torch.as_tensor(embedding, dtype=X.dtype).reshape(1, -1)
        weights = self.generate(self.hyper_input(emb, m))
        index = torch.zeros(X.shape[0], dtype=torch.long, device=X.device)
        return self.target_forward(X, weights, index)


class TaskConditionedMLP(nn.Module):
    """One MLP for all tasks, optionally fed a per-task code next to the inputs.

    The STL-naive (no code) and STL (one-hot task code, or the task's standardised
    metadata) baselines of the hypernetwork paper (Section 3): the task code is a frozen
    buffer gathered by task index and appended to every row's features.

    Parameters
    ----------
    n_features : int
        Input width (the widest task).
    n_outputs : int
        Number of outputs.
    hidden_layer_sizes : sequence of int, default=(32, 32, 32)
        Hidden ReLU layers.
    task_encoding : {"none", "onehot", "metadata"}, default="none"
        Task information appended to the inputs.
    n_tasks : int, optional
        Number of tasks (needed for ``"onehot"``).
    metadata : array-like of shape (n_tasks, d_m), optional
        Raw metadata (needed for ``"metadata"``); standardised here with the tasks'
        mean and standard deviation and kept as a frozen buffer.

    Examples
    --------
    >>> import torch
    >>> mlp = TaskConditionedMLP(2, 1, (8,), task_encoding="onehot", n_tasks=3)
    >>> out, _ = mlp(torch.randn(4, 2), torch.tensor([0, 1, 2, 0]))
    >>> out.shape
    torch.Size([4, 1])
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(32, 32, 32),
        task_encoding="none",
        n_tasks=None,
        metadata=None,
    ):
        super().__init__()
        self.task_encoding = task_encoding
        self.register_buffer("metadata_mean", None)
        self.register_buffer("metadata_scale", None)
        if task_encoding == "none":
            codes = None
        elif task_encoding == "onehot":
            if n_tasks is None:
                raise ValueError("task_encoding='onehot' needs n_tasks")
            codes = torch.eye(int(n_tasks))
        elif task_encoding == "metadata":
            if metadata is None:
                raise ValueError("task_encoding='metadata' needs task metadata")
            meta = torch.tensor(np.asarray(metadata, dtype=np.float64))
            mean, scale = meta.mean(0), meta.std(0, unbiased=False)
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            self.metadata_mean, self.metadata_scale = mean.float(), scale.float()
            codes = ((meta - mean) / scale).float()
        else:
            raise ValueError(
                f"task_encoding must be 'none', 'onehot' or 'metadata', got {task_encoding!r}"
            )
        self.register_buffer("task_codes", codes)
        self.n_features = int(n_features)
        code_dim = 0 if codes is None else codes.shape[1]
        dims = (int(n_features) + code_dim, *[int(h) for h in hidden_layer_sizes], int(n_outputs))
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.mlp = nn.Sequential(*layers)

    def forward(self, X, task, mask=None):
        """``(output (B, n_outputs), zero penalty)``."""
        if mask is not None:
            X = X * mask.to(X.dtype)
        if X.shape[1] < self.n_features:  # a batch of narrower tasks only
            X = nn.functional.pad(X, (0, self.n_features - X.shape[1]))
        if self.task_codes is not None:
            X = torch.cat([X, self.task_codes[task.long()]], dim=1)
        out = self.mlp(X)
        return out, out.new_zeros(())

    def forward_new(self, X, metadata=None):
        """Predict rows ``X`` of a task unseen in training from its raw metadata.

        Only for ``task_encoding`` ``"none"`` (metadata ignored) or ``"metadata"``.
        """
        if self.task_encoding == "none":
            return self.mlp(X)
        if self.task_encoding != "metadata":
            raise ValueError("a one-hot encoded model cannot describe a task it never saw")
        meta = torch.as_tensor(np.asarray(metadata, dtype=np.float32), device=X.device)
        code = ((meta.reshape(1, -1) - self.metadata_mean) / self.metadata_scale).to(X.dtype)
        return self.mlp(torch.cat([X, code.expand(X.shape[0], -1)], dim=1))
