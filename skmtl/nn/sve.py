"""Shared variable embedding (SVE) network and its vanilla Traveling Observer Model form.

Paper: Żelaszczyk and Mańdziuk (2024), *Interpretable Multi-task Learning with Shared
Variable Embeddings*; baseline: Meyerson and Miikkulainen (2021), the Traveling Observer
Model (TOM).

Every input variable ``i`` of every task is a pair (value ``x_i``, embedding ``z_i``), every
output variable ``j`` (one per class per task) has an embedding ``z_j``; all live in one
table per kind, indexed by (task, column) and (task, class). The prediction is (eq. 6)::

    y_j = g2( g1( sum_i f(x_i, f_i) ), z_j )

* ``f`` (encoder): ``Linear(1 -> H)`` on the value, FiLM-modulated by the variable's
  embedding, dropout, then pre-activation FiLM residual blocks
  (:class:`~skmtl.nn.film.FiLMStack`) whose branches start at zero.
* the sum over the variables of a row is order-free and ignores padded columns (``mask``).
* ``g1`` (core): pre-activation residual blocks (:class:`~skmtl.nn.film.ResidualStack`), eq. 3.
* ``g2`` (final decoder): FiLM residual blocks conditioned on the target embedding,
  dropout, then the target-conditioned output layer ``Linear(FiLM(h, z_j))``
  (:class:`~skmtl.nn.film.FiLMOutput`).

This is the layout of TOM's reference model; ``docs/sve.md`` lists where it departs.
* ``f_i`` is the processed embedding ``F = A(Z, S, S)`` of eq. 5 when ``n_shared`` is set
  (attention over the shared base ``S``, D x C), or the raw ``z_i`` when ``n_shared=None``
  (vanilla TOM, eq. 2-3). Target embeddings are always raw (Figure 1).

Torch only; no scikit-learn imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from skmtl.nn._gather import take_rows
from skmtl.nn.attention import SharedEmbeddingAttention
from skmtl.nn.film import FiLM, FiLMOutput, FiLMStack, ResidualStack
from skmtl.nn.regularizers import REGULARIZERS, stable_rank

__all__ = ["SharedVariableEmbeddingNet", "SharedVariableEmbeddingEnsemble", "EnsembleCriterion"]


def _check_task_sizes(n_features, n_outputs):
    if len(n_features) != len(n_outputs) or not n_features:
        raise ValueError("n_features and n_outputs must be non-empty and of equal length.")
    if min(n_features) < 1 or min(n_outputs) < 1:
        raise ValueError("every task needs at least one input and one output variable.")


def _check_arguments(
    n_features, n_outputs, n_encoder_layers, n_decoder_layers, aggregation, regularizers, n_shared
):
    """Raise ValueError naming the first bad argument of :class:`SharedVariableEmbeddingNet`."""
    _check_task_sizes(n_features, n_outputs)
    for name, n in [("n_encoder_layers", n_encoder_layers), ("n_decoder_layers", n_decoder_layers)]:
        if n < 1:
            raise ValueError(f"{name} must be >= 1, got {n}.")
    if aggregation not in ("sum", "mean"):
        raise ValueError(f"aggregation must be 'sum' or 'mean', got {aggregation!r}.")
    unknown = set(regularizers) - set(REGULARIZERS)
    if unknown:
        raise ValueError(
            f"unknown regularizer(s) {sorted(unknown)}; choose from {sorted(REGULARIZERS)}."
        )
    if regularizers and any(w for w in regularizers.values()) and n_shared is None:
        raise ValueError("regularizers act on the shared embeddings; they need n_shared.")


class SharedVariableEmbeddingNet(nn.Module):
    """Variable-embedding predictor with optional shared embeddings (TOM / SVE).

    Parameters
    ----------
    n_features : sequence of int
        Number of input variables of each task.
    n_outputs : sequence of int
        Number of output variables of each task (classes for a classifier).
    embedding_dim : int, default=128
        Dimension ``C`` of every variable embedding and of the shared embeddings.
    n_shared : int or None, default=128
        Number ``D`` of shared embeddings. ``None`` gives the vanilla variable-embedding
        model (TOM): the raw embeddings condition the encoder directly.
    hidden_dim : int, default=128
        Latent width ``H`` of encoder, core and decoder.
    n_encoder_layers, n_core_layers, n_decoder_layers : int, default=10
        Number of layers of ``f``, ``g1`` and ``g2``, counted as in TOM: ``f`` counts its
        FiLM input layer and ``g2`` its output layer (``n - 1`` residual blocks each).
    dropout : float, default=0.0
        Dropout rate of every residual branch, after the encoder's input layer and before
        the output layer (TOM's placements).
    attention : {"softmax", "entmax"}, default="softmax"
        Normaliser of the shared-embedding attention (ignored when ``n_shared=None``).
    alpha : float, default=1.05
        (Initial) alpha of alpha-entmax.
    learn_alpha : bool, default=False
        Learn alpha by gradient descent.
    embedding_std : float, default=1.0
        Standard deviation of the normal initialisation of all embeddings (raw input,
        output and shared). The paper uses 1.0 with attention and 1e-3 for vanilla TOM.
    regularizers : mapping of str to float, optional
        Weights of penalties on ``S`` among ``"orthogonal"`` (eq. 8), ``"stable_rank"``
        (eq. 10) and ``"von_neumann"`` (eq. 12); their weighted sum is the ``penalty``
        returned by :meth:`forward`.
    aggregation : {"sum", "mean"}, default="sum"
        How encoded variables are pooled: the paper's sum (eq. 2), or their mean over the
        real variables of the row.
    entmax_n_iter : int, default=30
        Bisection iterations of entmax.

    Examples
    --------
    >>> import torch
    >>> net = SharedVariableEmbeddingNet([3, 5], [2, 4], embedding_dim=8, n_shared=4,
    ...                                  hidden_dim=16, n_encoder_layers=2,
    ...                                  n_core_layers=1, n_decoder_layers=1)
    >>> X = torch.randn(6, 5)
    >>> task = torch.tensor([0, 0, 0, 1, 1, 1])
    >>> mask = torch.arange(5) < torch.tensor([3, 5])[task, None]
    >>> out, penalty = net(X * mask, task, mask)
    >>> out.shape, float(penalty)
    (torch.Size([6, 4]), 0.0)
    """

    def __init__(
        self,
        n_features: Sequence[int],
        n_outputs: Sequence[int],
        *,
        embedding_dim: int = 128,
        n_shared: int | None = 128,
        hidden_dim: int = 128,
        n_encoder_layers: int = 10,
        n_core_layers: int = 10,
        n_decoder_layers: int = 10,
        dropout: float = 0.0,
        attention: str = "softmax",
        alpha: float = 1.05,
        learn_alpha: bool = False,
        embedding_std: float = 1.0,
        regularizers: Mapping[str, float] | None = None,
        aggregation: str = "sum",
        entmax_n_iter: int = 30,
    ):
        super().__init__()
        n_features = [int(n) for n in n_features]
        n_outputs = [int(n) for n in n_outputs]
        regularizers = dict(regularizers or {})
        _check_arguments(
            n_features, n_outputs, n_encoder_layers, n_decoder_layers, aggregation,
            regularizers, n_shared,
        )  # fmt: skip

        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.n_shared = None if n_shared is None else int(n_shared)
        self.aggregation = aggregation
        self.regularizers = {k: float(v) for k, v in regularizers.items() if v}
        self._set_task_sizes(n_features, n_outputs)
        self._build_embeddings(float(embedding_std), attention, alpha, learn_alpha, entmax_n_iter)
        self._build_layers(n_encoder_layers, n_core_layers, n_decoder_layers, dropout)

    def _set_task_sizes(self, n_features, n_outputs):
        """Task counts and the row offsets of every task in the embedding tables."""
        self.n_tasks = len(n_features)
        self.n_features = list(n_features)
        self.n_outputs = list(n_outputs)
        self.max_outputs = max(n_outputs)

        def offsets(sizes):
            return torch.tensor([0, *torch.tensor(sizes).cumsum(0).tolist()[:-1]])

        device = self.in_offset.device if hasattr(self, "in_offset") else None
        for name, value in [
            ("in_offset", offsets(self.n_features)),
            ("out_offset", offsets(self.n_outputs)),
            ("n_features_t", torch.tensor(self.n_features)),
            ("n_outputs_t", torch.tensor(self.n_outputs)),
        ]:
            value = value if device is None else value.to(device)
            self.register_buffer(name, value, persistent=False)

    def _build_embeddings(self, std, attention, alpha, learn_alpha, entmax_n_iter):
        """Input, output and shared embedding tables (drawn in this order) and the attention."""
        C = self.embedding_dim
        self.input_embeddings = nn.Parameter(torch.randn(sum(self.n_features), C) * std)
        self.output_embeddings = nn.Parameter(torch.randn(sum(self.n_outputs), C) * std)
        if self.n_shared is not None:
            self.shared_embeddings = nn.Parameter(torch.randn(self.n_shared, C) * std)
            self.attention = SharedEmbeddingAttention(
                C, attention=attention, alpha=alpha, learn_alpha=learn_alpha, n_iter=entmax_n_iter
            )
        else:
            self.shared_embeddings = None
            self.attention = None
        # tasks appended after construction (add_tasks): one parameter per block of tasks
        self.added_input_embeddings = nn.ParameterList()
        self.added_output_embeddings = nn.ParameterList()
        self.added_blocks = []  # first task of every added block

    def _build_layers(self, n_encoder_layers, n_core_layers, n_decoder_layers, dropout):
        """Encoder ``f``, core ``g1`` and decoder ``g2`` (created in this order)."""
        H, C = self.hidden_dim, self.embedding_dim
        # f: value -> H, FiLM on the (processed) variable embedding, dropout, FiLM res-blocks
        self.value_in = nn.Linear(1, H)
        # zero bias: at initialisation every variable encodes to w * x_i, so the pooled
        # code of standardised inputs is of order 1 (a bias would add n_features * b)
        nn.init.zeros_(self.value_in.bias)
        self.film_in = FiLM(H, C)
        self.input_dropout = nn.Dropout(dropout)
        self.encoder = FiLMStack(H, C, n_encoder_layers - 1, dropout)
        # g1: target-independent core; g2: target-conditioned decoder and output layer
        self.core = ResidualStack(H, n_core_layers, dropout)
        self.decoder = FiLMStack(H, C, n_decoder_layers - 1, dropout)
        self.output_dropout = nn.Dropout(dropout)
        self.output_layer = FiLMOutput(H, C)

    # ------------------------------------------------------------------ new tasks
    def _added(self):
        """``(input blocks, output blocks, first task of every block)`` of added tasks."""
        blocks = getattr(self, "added_blocks", [])  # absent in models pickled before add_tasks
        if not blocks:
            return [], [], []
        return list(self.added_input_embeddings), list(self.added_output_embeddings), blocks

    def input_table(self) -> torch.Tensor:
        """Every task's input-variable embeddings, one row per (task, variable), (N, C)."""
        added = self._added()[0]
        return torch.cat([self.input_embeddings, *added]) if added else self.input_embeddings

    def output_table(self) -> torch.Tensor:
        """Every task's target (class) embeddings, one row per (task, class), (K, C)."""
        added = self._added()[1]
        return torch.cat([self.output_embeddings, *added]) if added else self.output_embeddings

    def add_tasks(self, n_features, n_outputs, embedding_std=1.0):
        """Append tasks: their variable and class embeddings, as one new parameter each.

        The new embeddings are drawn from ``N(0, embedding_std^2)`` (input table first,
        then output table, as at construction) and held by new parameters, so every
        existing parameter keeps its tensor and can be frozen while they train.

        Parameters
        ----------
        n_features, n_outputs : sequence of int
            Input variables and output variables (classes) of every new task.
        embedding_std : float, default=1.0

        Returns
        -------
        list of nn.Parameter
            The new input and output embedding blocks.

        Examples
        --------
        >>> net = SharedVariableEmbeddingNet([3], [2], embedding_dim=4, n_shared=2,
        ...                                  hidden_dim=8, n_encoder_layers=1,
        ...                                  n_core_layers=1, n_decoder_layers=1)
        >>> [tuple(p.shape) for p in net.add_tasks([2, 4], [3, 2])]
        [(6, 4), (5, 4)]
        >>> net.n_tasks, tuple(net.input_table().shape), tuple(net.output_table().shape)
        (3, (9, 4), (7, 4))
        """
        n_features = [int(n) for n in n_features]
        n_outputs = [int(n) for n in n_outputs]
        _check_task_sizes(n_features, n_outputs)
        if not hasattr(self, "added_blocks"):  # a model pickled before add_tasks existed
            self.added_input_embeddings = nn.ParameterList()
            self.added_output_embeddings = nn.ParameterList()
            self.added_blocks = []
        ref = self.input_embeddings
        new = [
            nn.Parameter(torch.randn(sum(n), self.embedding_dim, device=ref.device) * embedding_std)
            for n in (n_features, n_outputs)
        ]
        self.added_input_embeddings.append(new[0])
        self.added_output_embeddings.append(new[1])
        self.added_blocks.append(self.n_tasks)
        self._set_task_sizes(self.n_features + n_features, self.n_outputs + n_outputs)
        return new

    def embedding_rows(self, task: int) -> dict:
        """Where task ``task``'s own embeddings live: ``{state_dict key: row slice}``.

        Its input-variable rows and its class rows; every other parameter is shared by
        all tasks.
        """
        ins, outs, blocks = self._added()
        names = ["input_embeddings", "output_embeddings"]
        in_start, out_start = 0, 0
        block = next((k for k in range(len(blocks) - 1, -1, -1) if task >= blocks[k]), None)
        if block is not None:
            names = [f"added_input_embeddings.{block}", f"added_output_embeddings.{block}"]
            in_start = int(self.in_offset[blocks[block]])
            out_start = int(self.out_offset[blocks[block]])
        i0 = int(self.in_offset[task]) - in_start
        o0 = int(self.out_offset[task]) - out_start
        return {
            names[0]: slice(i0, i0 + self.n_features[task]),
            names[1]: slice(o0, o0 + self.n_outputs[task]),
        }

    # ------------------------------------------------------------------ embeddings
    def processed_embeddings(self, index: torch.Tensor | None = None):
        """Processed input embeddings ``F`` and attention weights for input variables.

        Parameters
        ----------
        index : LongTensor, optional
            Rows of the input-embedding table; all when omitted.

        Returns
        -------
        F : Tensor (N, C)
            ``A(Z, S, S)`` (eq. 5), or the raw ``Z`` when ``n_shared`` is None.
        weights : Tensor (N, D) or None
            Attention of each variable over the shared base.
        """
        Z = self.input_table() if index is None else self.input_table()[index]
        if self.attention is None:
            return Z, None
        return self.attention(Z, self.shared_embeddings)

    def variable_index(self, task: int) -> torch.Tensor:
        """Rows of the input-embedding table holding task ``task``'s variables, in order."""
        start = int(self.in_offset[task])
        return torch.arange(start, start + self.n_features[task], device=self.in_offset.device)

    def output_index(self, task: int) -> torch.Tensor:
        """Rows of the output-embedding table holding task ``task``'s classes, in order."""
        start = int(self.out_offset[task])
        return torch.arange(start, start + self.n_outputs[task], device=self.out_offset.device)

    def alpha_value(self) -> float | None:
        """Effective entmax alpha (None for softmax or vanilla)."""
        if self.attention is None or self.attention.attention != "entmax":
            return None
        return float(self.attention.effective_alpha().detach())

    def stable_rank(self) -> float | None:
        """Stable rank (eq. 9) of the shared embedding matrix (None for vanilla)."""
        if self.shared_embeddings is None:
            return None
        return float(stable_rank(self.shared_embeddings.detach()))

    def penalty(self) -> torch.Tensor:
        """Weighted sum of the regularisers on ``S`` (Appendix A)."""
        total = torch.zeros((), device=self.input_embeddings.device)
        for name, weight in self.regularizers.items():
            total = total + weight * REGULARIZERS[name](self.shared_embeddings)
        return total

    # ------------------------------------------------------------------ forward
    def encode(self, X: torch.Tensor, task: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Latent code ``g1(pool_i f(x_i, f_i))`` of every row, shape (B, H).

        A batch without padding (one task per step) runs on the dense (B, F, H) grid; a
        padded batch (mixed tasks) runs only on its real (row, variable) pairs, packed into
        (P, H), and pools them back per row with ``index_add`` -- padding costs nothing.
        """
        B, F = X.shape
        if bool(mask.all()):
            cols = torch.arange(F, device=X.device)
            idx = self.in_offset[task][:, None] + cols[None, :]
            rows = None
            values = X.unsqueeze(-1)  # (B, F, 1)
        else:
            rows, cols = mask.nonzero(as_tuple=True)  # the P real pairs
            idx = self.in_offset[task[rows]] + cols
            values = X[rows, cols].unsqueeze(-1)  # (P, 1)
        uniq, inv = torch.unique(idx, return_inverse=True)
        emb, _ = self.processed_embeddings(uniq)  # (U, C)

        gamma, beta = self.film_in.params(emb)
        h = self.value_in(values)
        h = self.film_in.modulate(h, take_rows(gamma, inv), take_rows(beta, inv))
        h = self.encoder(self.input_dropout(h), self.encoder.film_params(emb), inv)
        if rows is None:
            pooled = h.sum(1)
            if self.aggregation == "mean":
                pooled = pooled / F
        else:
            pooled = h.new_zeros(B, h.shape[-1]).index_add_(0, rows, h)
            if self.aggregation == "mean":
                pooled = pooled / mask.sum(1, keepdim=True).clamp_min(1).to(h.dtype)
        return self.core(pooled)

    def decode(self, code: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        """Scores ``g2(code, z_j)`` for the output variables of each row's task, (B, K).

        As in :meth:`encode`, rows of tasks with fewer classes than the widest task of the
        batch are packed, so padded classes are never computed.
        """
        B = code.shape[0]
        n_out = self.n_outputs_t[task]
        kb = int(n_out.max())
        ks = torch.arange(kb, device=code.device)
        omask = ks[None, :] < n_out[:, None]
        oidx = self.out_offset[task][:, None] + ks[None, :]
        if bool(omask.all()):
            uniq, inv = torch.unique(oidx, return_inverse=True)
            out = self._target_scores(code.unsqueeze(1).expand(B, kb, self.hidden_dim), uniq, inv)
        else:
            rows, ks_p = omask.nonzero(as_tuple=True)
            uniq, inv = torch.unique(oidx[rows, ks_p], return_inverse=True)
            out = code.new_zeros(B, kb)
            out[rows, ks_p] = self._target_scores(code[rows], uniq, inv)
        if kb < self.max_outputs:
            out = torch.nn.functional.pad(out, (0, self.max_outputs - kb))
        return out

    def _target_scores(self, h, uniq, inv):
        """``g2`` on codes ``h`` (..., H) for the target variables ``uniq[inv]`` (...)."""
        emb = self.output_table()[uniq]
        h = self.output_dropout(self.decoder(h, self.decoder.film_params(emb), inv))
        gamma, beta = self.output_layer.film.params(emb)
        gamma, beta = take_rows(gamma, inv), take_rows(beta, inv)
        return self.output_layer.forward_params(h, gamma, beta).squeeze(-1)

    def forward(self, X, task, mask):
        """Scores for every row and the training penalty.

        Parameters
        ----------
        X : FloatTensor (B, F)
            Standardised values, zero beyond each row's task width.
        task : LongTensor (B,)
            Task index of each row.
        mask : BoolTensor (B, F)
            True where the column is a real variable of the row's task.

        Returns
        -------
        output : FloatTensor (B, max(n_outputs))
            Score of each output variable; columns beyond the task's outputs are 0.
        penalty : scalar Tensor
            Weighted regularisers on ``S`` (zero when none).
        """
        mask = mask.bool()
        task = task.long()
        return self.decode(self.encode(X, task, mask), task), self.penalty()


class SharedVariableEmbeddingEnsemble(nn.Module):
    """``n`` independently initialised :class:`SharedVariableEmbeddingNet` members.

    In evaluation mode the output is the mean of the members' class scores; in training mode
    it is the stack of the members' scores, shape (n, B, K), so that the criterion
    (:class:`EnsembleCriterion`) sums the members' own losses. Members share no parameter,
    so with an element-wise optimizer (Adam) each member trains exactly as it would alone on
    the same batches; the ensemble costs ``n`` forward passes per step.

    Parameters
    ----------
    n_members : int
        Number of members (>= 2 to be an ensemble).
    *args, **kwargs
        Passed to every member's :class:`SharedVariableEmbeddingNet`.

    Examples
    --------
    >>> import torch
    >>> net = SharedVariableEmbeddingEnsemble(2, [3], [2], embedding_dim=4, n_shared=4,
    ...                                       hidden_dim=8, n_encoder_layers=1,
    ...                                       n_core_layers=1, n_decoder_layers=1)
    >>> X, task, mask = torch.randn(5, 3), torch.zeros(5, dtype=torch.long), torch.ones(5, 3)
    >>> net.train()(X, task, mask)[0].shape, net.eval()(X, task, mask)[0].shape
    (torch.Size([2, 5, 2]), torch.Size([5, 2]))
    """

    def __init__(self, n_members, *args, **kwargs):
        super().__init__()
        if int(n_members) < 1:
            raise ValueError(f"n_members must be >= 1, got {n_members}.")
        self.members = nn.ModuleList(
            SharedVariableEmbeddingNet(*args, **kwargs) for _ in range(int(n_members))
        )

    def add_tasks(self, n_features, n_outputs, embedding_std=1.0):
        """Append tasks to every member (see :meth:`SharedVariableEmbeddingNet.add_tasks`).

        Examples
        --------
        >>> net = SharedVariableEmbeddingEnsemble(2, [3], [2], embedding_dim=4, n_shared=2,
        ...                                       hidden_dim=8, n_encoder_layers=1,
        ...                                       n_core_layers=1, n_decoder_layers=1)
        >>> len(net.add_tasks([2], [2])), net.members[1].n_tasks
        (4, 2)
        """
        return [p for m in self.members for p in m.add_tasks(n_features, n_outputs, embedding_std)]

    def embedding_rows(self, task):
        """Every member's rows of task ``task`` (keys prefixed ``members.<i>.``)."""
        return {
            f"members.{i}.{key}": rows
            for i, m in enumerate(self.members)
            for key, rows in m.embedding_rows(task).items()
        }

    def forward(self, X, task, mask):
        outs, penalties = zip(*(member(X, task, mask) for member in self.members))
        scores = torch.stack(outs)
        return (scores if self.training else scores.mean(0)), sum(penalties)


class EnsembleCriterion(nn.Module):
    """Sum over members of ``criterion`` for stacked (n, B, K) outputs; plain otherwise.

    Parameters
    ----------
    criterion : nn.Module
        Called as ``criterion(output, target, task)``.

    Examples
    --------
    >>> import torch
    >>> from skmtl.nn.losses import MaskedSquaredHinge
    >>> crit = EnsembleCriterion(MaskedSquaredHinge([2]))
    >>> out = torch.tensor([[[1.0, -1.0]], [[0.0, 0.0]]])  # two members, one row
    >>> float(crit(out, torch.tensor([0]), torch.tensor([0])))  # 0 + 1
    1.0
    """

    def __init__(self, criterion):
        super().__init__()
        self.criterion = criterion

    def forward(self, output, target, task):
        if output.dim() == 3:
            return sum(self.criterion(out, target, task) for out in output)
        return self.criterion(output, target, task)
