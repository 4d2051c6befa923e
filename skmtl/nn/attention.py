"""Cross-attention of raw variable embeddings over a shared embedding base (paper eq. 5).

``A(Z, S, S) = normalise(Z S^T / sqrt(C)) S`` where the normaliser is softmax (eq. 4/5) or
alpha-entmax (Appendix A.4, Peters et al. 2019), whose ``alpha`` can be fixed or learned by
gradient descent (Table 3). Queries are the raw variable embeddings ``Z`` (N x C), keys and
values are the shared embeddings ``S`` (D x C); the output is the processed embedding
matrix ``F`` (N x C).

Torch only; no scikit-learn imports.
"""

from __future__ import annotations

import math

import torch
from entmax import entmax_bisect
from torch import nn

__all__ = ["SharedEmbeddingAttention", "ALPHA_MIN", "ALPHA_MAX"]

#: Smallest effective entmax ``alpha``. ``alpha = 1`` is softmax, where the bisection
#: algorithm and its ``alpha`` gradient are numerically undefined (1 / (alpha - 1)).
ALPHA_MIN = 1.01
#: Largest effective entmax ``alpha`` (2 is sparsemax).
ALPHA_MAX = 4.0


class SharedEmbeddingAttention(nn.Module):
    """Attention of variable embeddings (queries) over shared embeddings (keys = values).

    Parameters
    ----------
    embedding_dim : int
        Dimension ``C`` of raw and shared embeddings.
    attention : {"softmax", "entmax"}, default="softmax"
        Normaliser of the scores ``Z S^T / sqrt(C)``. ``"entmax"`` is alpha-entmax computed
        by bisection (``entmax.entmax_bisect``); it gives exact zeros.
    alpha : float, default=1.05
        (Initial) entmax ``alpha``; must lie in ``[1.01, 4]``. Ignored for softmax.
    learn_alpha : bool, default=False
        Make ``alpha`` a parameter optimised by gradient descent (Table 3). The effective
        value is clamped to ``[ALPHA_MIN, ALPHA_MAX]`` with a straight-through gradient, so
        the parameter can return from outside the interval.
    n_iter : int, default=30
        Bisection iterations of entmax (24 reach float32 precision).

    Examples
    --------
    >>> import torch
    >>> att = SharedEmbeddingAttention(16, attention="entmax", alpha=1.5)
    >>> Z, S = torch.randn(10, 16), torch.randn(4, 16)
    >>> F, weights = att(Z, S)
    >>> F.shape, weights.shape
    (torch.Size([10, 16]), torch.Size([10, 4]))
    >>> bool(torch.allclose(weights.sum(1), torch.ones(10)))
    True
    """

    def __init__(
        self,
        embedding_dim: int,
        attention: str = "softmax",
        alpha: float = 1.05,
        learn_alpha: bool = False,
        n_iter: int = 30,
    ):
        super().__init__()
        if attention not in ("softmax", "entmax"):
            raise ValueError(f"attention must be 'softmax' or 'entmax', got {attention!r}.")
        if attention == "entmax" and not (ALPHA_MIN <= float(alpha) <= ALPHA_MAX):
            raise ValueError(
                f"alpha must lie in [{ALPHA_MIN}, {ALPHA_MAX}] for entmax attention, got {alpha!r};"
                " use attention='softmax' for alpha=1."
            )
        self.embedding_dim = int(embedding_dim)
        self.attention = attention
        self.learn_alpha = bool(learn_alpha)
        self.n_iter = int(n_iter)
        alpha_t = torch.tensor(float(alpha), dtype=torch.float32)
        if self.learn_alpha and attention == "entmax":
            self.alpha = nn.Parameter(alpha_t)
        else:
            self.register_buffer("alpha", alpha_t)

    def effective_alpha(self) -> torch.Tensor:
        """The ``alpha`` used in the forward pass (clamped, straight-through gradient)."""
        a = self.alpha
        return a + (a.clamp(ALPHA_MIN, ALPHA_MAX) - a).detach()

    def weights(self, Z: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """Attention weights (N, D) of each query row of ``Z`` over the rows of ``S``."""
        scores = Z @ S.t() / math.sqrt(self.embedding_dim)
        if self.attention == "softmax":
            return torch.softmax(scores, dim=-1)
        alpha = self.effective_alpha().to(scores.dtype).expand(scores.shape[0], 1)
        return entmax_bisect(scores, alpha, dim=-1, n_iter=self.n_iter)

    def forward(self, Z: torch.Tensor, S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the processed embeddings ``F = weights @ S`` (N, C) and the weights (N, D)."""
        w = self.weights(Z, S)
        return w @ S, w

    def extra_repr(self) -> str:
        return (
            f"embedding_dim={self.embedding_dim}, attention={self.attention!r}, "
            f"alpha={float(self.alpha):.3g}, learn_alpha={self.learn_alpha}"
        )
