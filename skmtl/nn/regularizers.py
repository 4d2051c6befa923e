"""Regularisers of the shared embedding matrix ``S`` (D x C), paper Appendix A.

* :func:`orthogonality_penalty` — eq. 8: ``sum_i (1 - D_ii)^2 + sum_{i != j} D_ij^2`` with
  ``D = S^T S``, i.e. ``||S^T S - I||_F^2``.
* :func:`stable_rank` (eq. 9) and :func:`stable_rank_penalty` — eq. 10: ``C - sr(S)`` where
  ``sr(S) = ||S||_F^2 / ||S||_2^2`` and ``C`` is the largest possible rank (``min(D, C)``).
* :func:`von_neumann_entropy` (eq. 11) and :func:`von_neumann_penalty` — eq. 12:
  ``-V(R)``; see the function for how ``R`` is normalised.

All are differentiable scalars; the model adds ``weight * penalty`` to the training loss.
Torch only; no scikit-learn imports.
"""

from __future__ import annotations

import torch

__all__ = [
    "orthogonality_penalty",
    "stable_rank",
    "stable_rank_penalty",
    "von_neumann_entropy",
    "von_neumann_penalty",
    "REGULARIZERS",
]


def orthogonality_penalty(S: torch.Tensor) -> torch.Tensor:
    """Orthogonality penalty of eq. 8, ``||S^T S - I||_F^2``.

    Parameters
    ----------
    S : torch.Tensor of shape (D, C)
        Shared embedding matrix.

    Returns
    -------
    torch.Tensor
        Scalar; zero iff the columns of ``S`` are orthonormal.

    Examples
    --------
    >>> import torch
    >>> float(orthogonality_penalty(torch.eye(3)))
    0.0
    >>> float(orthogonality_penalty(2 * torch.eye(3)))  # 3 * (1 - 4)^2
    27.0
    """
    G = S.t() @ S
    eye = torch.eye(G.shape[0], dtype=S.dtype, device=S.device)
    return ((G - eye) ** 2).sum()


def stable_rank(S: torch.Tensor) -> torch.Tensor:
    """Stable rank of eq. 9, ``||S||_F^2 / ||S||_2^2`` (differentiable).

    Parameters
    ----------
    S : torch.Tensor of shape (D, C)

    Returns
    -------
    torch.Tensor
        Scalar between 1 and ``rank(S)``.

    Examples
    --------
    >>> import torch
    >>> float(stable_rank(torch.eye(4)))
    4.0
    >>> float(stable_rank(torch.ones(4, 4)))
    1.0
    """
    sv = torch.linalg.svdvals(S)
    return (sv**2).sum() / (sv.max() ** 2).clamp_min(1e-12)


def stable_rank_penalty(S: torch.Tensor) -> torch.Tensor:
    """Stable-rank penalty of eq. 10, ``min(D, C) - sr(S)`` (``C`` in the paper, where D = C).

    Examples
    --------
    >>> import torch
    >>> float(stable_rank_penalty(torch.eye(4)))
    0.0
    """
    return min(S.shape) - stable_rank(S)


def von_neumann_entropy(S: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Von Neumann entropy of eq. 11 of the row-normalised shared matrix ``R``.

    The paper normalises the rows of ``S`` to obtain ``R`` and takes
    ``V(R) = -sum_i sigma_i^2 ln sigma_i^2`` over the singular values of ``R``. For the
    ``sigma_i^2`` to be the eigenvalues of a density matrix (non-negative, summing to one)
    we normalise each row to unit Euclidean norm and divide by ``sqrt(D)``, so that
    ``rho = R R^T`` has unit trace (a literal "rows sum to one" is undefined for rows of
    mixed sign). The entropy lies in ``[0, ln min(D, C)]`` and is maximal when the rows are
    orthogonal.

    Parameters
    ----------
    S : torch.Tensor of shape (D, C)
    eps : float, default=1e-12
        Guard for ``0 * ln 0``.

    Examples
    --------
    >>> import math, torch
    >>> round(float(von_neumann_entropy(torch.eye(4))), 4) == round(math.log(4), 4)
    True
    >>> round(float(von_neumann_entropy(torch.ones(4, 4))), 4)
    0.0
    """
    R = S / S.norm(dim=1, keepdim=True).clamp_min(eps)
    R = R / (S.shape[0] ** 0.5)
    p = torch.linalg.svdvals(R) ** 2
    return -(p * torch.log(p.clamp_min(eps))).sum()


def von_neumann_penalty(S: torch.Tensor) -> torch.Tensor:
    """Von Neumann penalty of eq. 12, ``-V(R)`` (lower when the rows are more independent).

    Examples
    --------
    >>> import torch
    >>> float(von_neumann_penalty(torch.ones(3, 3))) <= 0.0 + 1e-6
    True
    """
    return -von_neumann_entropy(S)


#: name -> penalty function, as accepted by the model's ``regularizers`` mapping.
REGULARIZERS = {
    "orthogonal": orthogonality_penalty,
    "stable_rank": stable_rank_penalty,
    "von_neumann": von_neumann_penalty,
}
