"""FiLM layers and residual blocks for variable-embedding networks.

These are the building blocks of the Traveling Observer Model (TOM, Meyerson and
Miikkulainen, 2021) and of the shared variable embedding model (Żelaszczyk and Mańdziuk,
2024, Appendix C): an encoder ``f`` and a final decoder ``g2`` whose layers are modulated
by the embedding of a variable through feature-wise linear modulation (FiLM, Perez et al.,
2018), and a core ``g1`` of plain residual blocks.

The residual blocks are the reference model's *pre-activation, zero-initialised* ("SkipInit")
blocks: ``h + a * Dropout(FiLM(Linear(ReLU(h)), z))`` with a learned residual scale ``a``
that starts at 0, so a freshly built stack of any depth is the identity and the scale of
the signal does not grow with the number of layers. The output layer of the decoder is
conditioned on the target embedding (:class:`FiLMOutput`).

Torch only; no scikit-learn imports.
"""

from __future__ import annotations

import torch
from torch import nn

from skmtl.nn._gather import take_rows

__all__ = [
    "FiLM",
    "FiLMResidualBlock",
    "ResidualBlock",
    "FiLMStack",
    "ResidualStack",
    "FiLMOutput",
]


class FiLM(nn.Module):
    """Feature-wise linear modulation conditioned on an embedding.

    ``FiLM(h, z) = (1 + gamma(z)) * h + beta(z)`` where ``gamma`` and ``beta`` are affine
    maps of the conditioning embedding ``z``. The ``1 +`` makes a freshly initialised
    layer the identity (``gamma`` and ``beta`` start at zero).

    Parameters
    ----------
    hidden_dim : int
        Size of the modulated features ``h``.
    cond_dim : int
        Size of the conditioning embedding ``z``.

    Examples
    --------
    >>> import torch
    >>> film = FiLM(hidden_dim=8, cond_dim=4)
    >>> h, z = torch.randn(5, 8), torch.randn(5, 4)
    >>> film(h, z).shape
    torch.Size([5, 8])
    >>> torch.allclose(film(h, z), h)  # identity at initialisation
    True
    """

    def __init__(self, hidden_dim: int, cond_dim: int):
        super().__init__()
        self.hidden_dim = int(hidden_dim)
        self.proj = nn.Linear(cond_dim, 2 * hidden_dim)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def params(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(gamma, beta)`` for conditioning embeddings ``z`` (..., cond_dim)."""
        gamma, beta = self.proj(z).chunk(2, dim=-1)
        return gamma, beta

    def modulate(self, h: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """Apply precomputed ``(gamma, beta)`` to ``h`` (shapes broadcast)."""
        return h * (1.0 + gamma) + beta

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.params(z)
        return self.modulate(h, gamma, beta)


class FiLMResidualBlock(nn.Module):
    """Pre-activation residual block ``h + a * Dropout(FiLM(Linear(ReLU(h)), z))``.

    The residual scale ``a`` (``residual_scale``) is learned and starts at 0, so the block
    is the identity at initialisation (TOM's ``FilmResBlock``).

    Parameters
    ----------
    hidden_dim : int
        Width of the block.
    cond_dim : int
        Size of the conditioning embedding.
    dropout : float, default=0.0
        Dropout rate on the residual branch.

    Examples
    --------
    >>> import torch
    >>> block = FiLMResidualBlock(hidden_dim=8, cond_dim=4)
    >>> h = torch.randn(3, 7, 8)
    >>> block(h, torch.randn(3, 7, 4)).shape
    torch.Size([3, 7, 8])
    >>> torch.equal(block(h, torch.randn(3, 7, 4)), h)  # the branch starts at zero
    True
    """

    def __init__(self, hidden_dim: int, cond_dim: int, dropout: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(hidden_dim, hidden_dim)
        self.film = FiLM(hidden_dim, cond_dim)
        self.dropout = nn.Dropout(dropout)
        self.residual_scale = nn.Parameter(torch.zeros(()))

    def forward_params(self, h, gamma, beta):
        """Apply the block with FiLM parameters computed beforehand (see :class:`FiLMStack`)."""
        branch = self.film.modulate(self.linear(torch.relu(h)), gamma, beta)
        return h + self.residual_scale * self.dropout(branch)

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.film.params(z)
        return self.forward_params(h, gamma, beta)


class ResidualBlock(nn.Module):
    """Unconditioned pre-activation residual block ``h + a * Dropout(Linear(ReLU(h)))``.

    ``a`` (``residual_scale``) is learned and starts at 0 (TOM's ``CoreResBlock``).

    Parameters
    ----------
    hidden_dim : int
        Width of the block.
    dropout : float, default=0.0
        Dropout rate on the residual branch.

    Examples
    --------
    >>> import torch
    >>> h = torch.randn(2, 8)
    >>> torch.equal(ResidualBlock(8)(h), h)  # identity at initialisation
    True
    """

    def __init__(self, hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(hidden_dim, hidden_dim)
        self.dropout = nn.Dropout(dropout)
        self.residual_scale = nn.Parameter(torch.zeros(()))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.residual_scale * self.dropout(self.linear(torch.relu(h)))


class FiLMStack(nn.Module):
    """A stack of :class:`FiLMResidualBlock` sharing one conditioning embedding.

    The FiLM parameters of every layer depend only on the conditioning embedding, so they
    can be computed once per *distinct* variable (``film_params``) and gathered to the
    (row, variable) grid with an index (``forward(h, params, index)``); this is what makes
    the encoder cheap when many rows share the same variables.

    Parameters
    ----------
    hidden_dim : int
        Width of every block.
    cond_dim : int
        Size of the conditioning embedding.
    n_layers : int
        Number of residual blocks (0 gives the identity).
    dropout : float, default=0.0
        Dropout rate on each residual branch.

    Examples
    --------
    >>> import torch
    >>> stack = FiLMStack(hidden_dim=8, cond_dim=4, n_layers=2)
    >>> z = torch.randn(3, 4)                      # 3 distinct variables
    >>> params = stack.film_params(z)              # computed once
    >>> index = torch.tensor([[0, 1], [2, 0]])     # (rows, slots) -> variable
    >>> stack(torch.randn(2, 2, 8), params, index).shape
    torch.Size([2, 2, 8])
    """

    def __init__(self, hidden_dim: int, cond_dim: int, n_layers: int, dropout: float = 0.0):
        super().__init__()
        self.blocks = nn.ModuleList(
            FiLMResidualBlock(hidden_dim, cond_dim, dropout) for _ in range(int(n_layers))
        )

    def film_params(self, z: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """FiLM ``(gamma, beta)`` of every block for embeddings ``z`` (U, cond_dim)."""
        return [block.film.params(z) for block in self.blocks]

    def forward(self, h, params, index=None):
        for block, (gamma, beta) in zip(self.blocks, params):
            if index is not None:
                gamma, beta = take_rows(gamma, index), take_rows(beta, index)
            h = block.forward_params(h, gamma, beta)
        return h


class ResidualStack(nn.Sequential):
    """A stack of :class:`ResidualBlock` (the core ``g1`` of eq. 3).

    Parameters
    ----------
    hidden_dim : int
        Width of every block.
    n_layers : int
        Number of blocks.
    dropout : float, default=0.0
        Dropout rate on each residual branch.

    Examples
    --------
    >>> import torch
    >>> ResidualStack(8, n_layers=3)(torch.randn(4, 8)).shape
    torch.Size([4, 8])
    """

    def __init__(self, hidden_dim: int, n_layers: int, dropout: float = 0.0):
        super().__init__(*(ResidualBlock(hidden_dim, dropout) for _ in range(int(n_layers))))


class FiLMOutput(nn.Module):
    """Target-conditioned output layer ``Linear(FiLM(h, z))`` (TOM's ``InvVEFilmLayer``).

    The features are modulated by the target variable's embedding, then projected to
    ``out_dim`` scores.

    Parameters
    ----------
    hidden_dim : int
        Size of the features ``h``.
    cond_dim : int
        Size of the target embedding ``z``.
    out_dim : int, default=1
        Outputs per (row, target variable).

    Examples
    --------
    >>> import torch
    >>> layer = FiLMOutput(hidden_dim=8, cond_dim=4)
    >>> layer(torch.randn(5, 3, 8), torch.randn(5, 3, 4)).shape
    torch.Size([5, 3, 1])
    """

    def __init__(self, hidden_dim: int, cond_dim: int, out_dim: int = 1):
        super().__init__()
        self.film = FiLM(hidden_dim, cond_dim)
        self.linear = nn.Linear(hidden_dim, out_dim)

    def forward_params(self, h, gamma, beta):
        """Apply the layer with FiLM parameters computed beforehand."""
        return self.linear(self.film.modulate(h, gamma, beta))

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.film.params(z)
        return self.forward_params(h, gamma, beta)
