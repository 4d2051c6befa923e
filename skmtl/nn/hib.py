"""Hierarchical information bottleneck module (torch only).

Implements the model of de Freitas, Berg, Geiger and Mücke, "Compressed Hierarchical
Representations for Multi-Task Learning and Task Clustering" (IJCNN 2022):

* a deterministic encoder ``Z = f_theta(X)`` shared by all tasks (task-agnostic representation);
  for tasks of different widths its first linear layer is task-specific (``n_features`` a
  list: a departure from the paper, whose ``X`` is one input space),
* one learned diagonal Gaussian "information filter" per task,
  ``W_j = Z + N_j`` with ``N_j ~ N(0, diag(exp(noise_log_var[j])))`` (eq. 1), sampled with the
  reparameterisation trick during training,
* one head ``c_psi,j`` per task reading ``W_j`` (eq. 3),
* the variational bound on ``I(X; W_j)`` (eqs. 4-8): ``E_X KL(N(Z, Sigma_j) || q_j)`` with
  ``q_j = N(0, diag(exp(prior_log_var[j])))`` (mean frozen at 0, learned variances).

The module follows the skmtl contract ``forward(X, task, mask) -> (output, penalty)`` where
``penalty`` is the mean over the rows of the batch of ``beta[task] * KL``. Summed with the per-row
mean of the task losses this is the Lagrangian of eq. (2), averaged over rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral

import torch
from torch import nn

from skmtl.nn._gather import take_rows
from skmtl.nn.mlp import MLP, PerTaskInputMLP, per_task_outputs

__all__ = [
    "GaussianNLL",
    "HierarchicalIBModule",
    "gaussian_kl_to_centered_prior",
]


def gaussian_kl_to_centered_prior(
    z: torch.Tensor, noise_log_var: torch.Tensor, prior_log_var: torch.Tensor
) -> torch.Tensor:
    """Closed-form ``KL(N(z, diag(s2)) || N(0, diag(x2)))`` per row (eq. 8).

    With ``s2 = exp(noise_log_var)`` and ``x2 = exp(prior_log_var)``::

        KL = sum_i 0.5 * (log x2_i - log s2_i) + (s2_i + z_i**2) / (2 x2_i) - 0.5

    This is the exact Gaussian KL. Eq. (8) of the paper prints the log term without the factor
    0.5; that is a typo (the factor is needed for the bound to equal the KL divergence of eq. 7,
    and for its minimum over ``x2`` to be 0 when ``z = 0``).

    Parameters
    ----------
    z : Tensor (B, D)
        Encoder output, the mean of ``W_j`` given ``X``.
    noise_log_var : Tensor (B, D) or (D,)
        Log-variance of the task's noise ``N_j``.
    prior_log_var : Tensor (B, D) or (D,)
        Log-variance of the variational marginal ``q_j`` (mean fixed at 0).

    Returns
    -------
    Tensor (B,)
        The KL divergence of each row, in nats.

    Examples
    --------
    >>> import torch
    >>> z = torch.zeros(2, 3)
    >>> gaussian_kl_to_centered_prior(z, torch.zeros(3), torch.zeros(3))
    tensor([0., 0.])
    """
    ratio = torch.exp(noise_log_var - prior_log_var)
    mean_term = z.pow(2) * torch.exp(-prior_log_var)
    kl = 0.5 * (ratio + mean_term - 1.0 - (noise_log_var - prior_log_var))
    return kl.sum(dim=-1)


class HierarchicalIBModule(nn.Module):
    """Encoder, per-task Gaussian information filters and per-task heads.

    Parameters
    ----------
    n_features : int or sequence of int
        An int: the input width every task shares (the paper's homogeneous-feature MTL;
        one encoder ``f_theta``). A sequence: every task's own width; the encoder's first
        linear layer is then one ``Linear(n_features[t], hidden_layer_sizes[0])`` per task
        and the rest of it is shared (:class:`~skmtl.nn.mlp.PerTaskInputMLP`), so ``Z`` is
        shared from the first hidden layer on.
    n_outputs : sequence of int
        Output width of each task's head (number of classes, or target columns).
    hidden_layer_sizes : sequence of int, default=(32, 32)
        Hidden widths of the encoder ``f_theta`` (Table II of the paper).
    latent_dim : int, default=4
        Dimension ``D`` of ``Z`` and of every ``W_j``.
    head_hidden_layer_sizes : sequence of int, default=()
        Hidden widths of each task head; empty = linear head (Table II).
    beta : float or sequence of float, default=0.1
        Weight of ``I(X; W_j)`` in eq. (2), one value for all tasks or one per task.
    noise : bool, default=True
        If False, ``W_j = Z`` (the "No Noise" ablation) and the penalty is 0.
    learn_noise : bool, default=True
        If False, the noise log-variances are fixed at ``fixed_noise_log_var`` (not trained)
        until :meth:`set_trainable` changes it (second stage of the fixed-noise protocol).
    noise_init_std : float, default=0.01
        Std of the normal initialisation (mean 0) of the learned noise log-variances.
    fixed_noise_log_var : float, default=1.0
        Value of every noise log-variance when ``learn_noise=False`` (the paper uses
        ``sigma^2 = e``, i.e. log-variance 1).
    activation : str, default="relu"
        Activation of the encoder's and heads' hidden layers.
    A learning-rate multiplier for the log-variances (``log_var_lr_scale`` of the
    estimators) is an optimizer parameter group on ``noise_log_var`` and
    ``prior_log_var`` (skorch's ``optimizer__param_groups``), not part of the module.

    Notes
    -----
    In training mode ``W_j = Z + exp(noise_log_var / 2) * eps`` with one sample per row. In eval
    mode (prediction) the noise is replaced by its mean, ``W_j = Z`` (deterministic), except
    inside :meth:`posterior_sampling`, where ``eps`` is drawn from the given generator (one
    posterior sample per row, the paper's evaluation).

    Examples
    --------
    >>> import torch
    >>> m = HierarchicalIBModule(5, [3, 2], latent_dim=2, beta=0.1)
    >>> X = torch.randn(4, 5)
    >>> task = torch.tensor([0, 0, 1, 1])
    >>> out, pen = m(X, task, torch.ones(4, 5, dtype=torch.bool))
    >>> out.shape, pen.shape
    (torch.Size([4, 3]), torch.Size([]))
    >>> m = HierarchicalIBModule([5, 3], [3, 2], latent_dim=2)  # tasks of different widths
    >>> m.encode(X, task).shape
    torch.Size([4, 2])
    """

    def __init__(
        self,
        n_features: int | Sequence[int],
        n_outputs: Sequence[int],
        *,
        hidden_layer_sizes: Sequence[int] = (32, 32),
        latent_dim: int = 4,
        head_hidden_layer_sizes: Sequence[int] = (),
        beta: float | Sequence[float] = 0.1,
        noise: bool = True,
        learn_noise: bool = True,
        noise_init_std: float = 0.01,
        fixed_noise_log_var: float = 1.0,
        activation: str = "relu",
    ):
        super().__init__()
        n_outputs = [int(k) for k in n_outputs]
        n_tasks = len(n_outputs)
        if n_tasks < 1:
            raise ValueError("n_outputs must list at least one task")
        self.per_task_input = not isinstance(n_features, Integral)
        if self.per_task_input and len(n_features) != n_tasks:
            raise ValueError(
                f"n_features lists {len(n_features)} widths but n_outputs {n_tasks} tasks"
            )
        self.n_features = list(map(int, n_features)) if self.per_task_input else int(n_features)
        self.n_outputs = n_outputs
        self.n_tasks = n_tasks
        self.latent_dim = int(latent_dim)
        self.noise = bool(noise)
        self.learn_noise = bool(learn_noise)
        self.max_outputs = max(n_outputs)

        beta_t = torch.as_tensor(beta, dtype=torch.float32).flatten()
        if beta_t.numel() == 1:
            beta_t = beta_t.expand(n_tasks).clone()
        if beta_t.numel() != n_tasks:
            raise ValueError(
                f"beta must be a scalar or have one value per task ({n_tasks}), "
                f"got {beta_t.numel()} values"
            )
        if bool((beta_t < 0).any()):
            raise ValueError("beta must be >= 0")
        self.register_buffer("beta", beta_t)

        encoder = PerTaskInputMLP if self.per_task_input else MLP
        self.encoder = encoder(n_features, hidden_layer_sizes, latent_dim, activation)
        if learn_noise:
            init = torch.randn(n_tasks, latent_dim) * float(noise_init_std)
        else:
            init = torch.full((n_tasks, latent_dim), float(fixed_noise_log_var))
        #: noise log-variances ``log sigma^2_{j,i}`` (n_tasks, D)
        self.noise_log_var = nn.Parameter(init, requires_grad=self.learn_noise and self.noise)
        #: log-variances ``log xi^2_{j,i}`` of the variational marginals
        #: q_j = N(0, diag(exp(prior_log_var[j]))), mean frozen at 0 (n_tasks, D)
        self.prior_log_var = nn.Parameter(torch.zeros(n_tasks, latent_dim))
        self.heads = nn.ModuleList(
            MLP(latent_dim, head_hidden_layer_sizes, k, activation) for k in n_outputs
        )

    # ------------------------------------------------------------------ helpers
    def set_trainable(self, *, encoder: bool | None = None, noise: bool | None = None) -> None:
        """Freeze or unfreeze the encoder and the noise log-variances.

        Used by the two-stage fixed-noise protocol: stage 1 trains encoder and heads with fixed
        variances; stage 2 freezes the encoder and learns variances with the heads.

        Examples
        --------
        >>> m = HierarchicalIBModule(3, [2], learn_noise=False)
        >>> m.set_trainable(encoder=False, noise=True)
        >>> m.noise_log_var.requires_grad, next(m.encoder.parameters()).requires_grad
        (True, False)
        """
        if encoder is not None:
            for p in self.encoder.parameters():
                p.requires_grad_(bool(encoder))
        if noise is not None:
            self.noise_log_var.requires_grad_(bool(noise) and self.noise)

    def encode(self, X: torch.Tensor, task=None, mask=None) -> torch.Tensor:
        """Task-agnostic representation ``Z = f_theta(X)`` of shape (B, D).

        Examples
        --------
        >>> import torch
        >>> m = HierarchicalIBModule(5, [2], latent_dim=3)
        >>> m.encode(torch.zeros(2, 5)).shape
        torch.Size([2, 3])
        """
        if self.per_task_input:
            if task is None:
                raise ValueError("per-task input layers need the task of every row (task=...)")
            return self.encoder(X, task)
        return self.encoder(X)

    def kl(self, z: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        """Per-row bound on ``I(X; W_task)``: ``KL(N(z, Sigma_task) || q_task)`` (B,).

        Examples
        --------
        >>> import torch
        >>> m = HierarchicalIBModule(5, [2, 2], latent_dim=3)
        >>> m.kl(torch.zeros(4, 3), torch.tensor([0, 1, 0, 1])).shape
        torch.Size([4])
        """
        return gaussian_kl_to_centered_prior(
            z, take_rows(self.noise_log_var, task), take_rows(self.prior_log_var, task)
        )

    def sample_w(self, z: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        """Task-specific representation ``W_j``: a noisy sample in training, ``Z`` in eval.

        In eval mode inside :meth:`posterior_sampling` it is a sample too, drawn from that
        block's generator.

        Examples
        --------
        >>> import torch
        >>> m = HierarchicalIBModule(5, [2], latent_dim=3).eval()
        >>> z = torch.ones(2, 3)
        >>> bool((m.sample_w(z, torch.zeros(2, dtype=torch.long)) == z).all())
        True
        """
        sampling = getattr(self, "_eval_sampling", None)
        if not self.noise or (not self.training and sampling is None):
            return z
        std = torch.exp(0.5 * take_rows(self.noise_log_var, task))
        if self.training:
            return z + std * torch.randn_like(z)
        generator = sampling.get(z.device)
        if generator is None:  # one generator per device, seeded on first use
            generator = sampling[z.device] = torch.Generator(device=z.device)
            generator.manual_seed(sampling["seed"])
        eps = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
        return z + std * eps

    @contextmanager
    def posterior_sampling(self, seed: int) -> Iterator[HierarchicalIBModule]:
        """Within the block, eval-mode ``W_j`` is one sample ``Z + sigma_j * eps`` per row.

        ``eps`` comes from a ``torch.Generator`` seeded with ``seed`` when the block first
        samples (on the device of the codes), so the same seed and the same rows in the same
        order give the same predictions. Training mode is unaffected.

        Examples
        --------
        >>> import torch
        >>> m = HierarchicalIBModule(5, [2], latent_dim=3).eval()
        >>> z, task = torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)
        >>> with m.posterior_sampling(seed=0):
        ...     w = m.sample_w(z, task)
        >>> bool((w != z).all()), bool((m.sample_w(z, task) == z).all())
        (True, True)
        """
        previous = getattr(self, "_eval_sampling", None)
        self._eval_sampling = {"seed": int(seed)}
        try:
            yield self
        finally:
            self._eval_sampling = previous

    def heads_forward(self, w: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
        """Apply each row's task head; output padded with 0 to the widest task (B, K).

        Examples
        --------
        >>> import torch
        >>> m = HierarchicalIBModule(5, [3, 2], latent_dim=2)
        >>> m.heads_forward(torch.zeros(2, 2), torch.tensor([0, 1])).shape
        torch.Size([2, 3])
        """
        return per_task_outputs(lambda t, rows: self.heads[t](rows), w, task, self.n_outputs)

    # ------------------------------------------------------------------ forward
    def forward(self, X: torch.Tensor, task: torch.Tensor, mask: torch.Tensor | None = None):
        """Return ``(output, penalty)`` following the skmtl module contract.

        ``penalty`` is ``mean_rows(beta[task] * KL(N(Z, Sigma_task) || q_task))``; it is exactly
        zero with ``noise=False`` or ``beta=0``.
        """
        task = task.long()
        z = self.encode(X, task)
        w = self.sample_w(z, task)
        out = self.heads_forward(w, task)
        if self.noise and bool((self.beta > 0).any()):
            penalty = (take_rows(self.beta, task) * self.kl(z, task)).mean()
        else:
            penalty = z.new_zeros(())
        return out, penalty


class GaussianNLL(nn.Module):
    """Gaussian negative log-likelihood with a learned variance per task and target column.

    ``mean_rows( sum_cols 0.5 * (log s2 + (y - mu)^2 / s2) )`` over each row's own task columns
    (the constant ``0.5 log 2 pi`` is left out). This is the regression counterpart of the
    cross-entropy in eq. (3): the head predicts the mean ``mu`` of ``p(y | W_j)`` and the
    homoscedastic variance ``s2 = exp(log_var[task, col])`` is learned, so the likelihood and the
    information penalty are both in nats and ``beta`` means the same as for classifiers.

    Called as ``criterion(output, target, task)`` like the other skmtl criteria.

    Parameters
    ----------
    n_outputs : sequence of int
        Target columns of every task.

    Examples
    --------
    >>> import torch
    >>> crit = GaussianNLL([1, 1])
    >>> out, y = torch.tensor([[1.0], [0.0]]), torch.tensor([[1.0], [2.0]])
    >>> float(crit(out, y, torch.tensor([0, 1])).detach())
    1.0
    """

    def __init__(self, n_outputs: Sequence[int]):
        super().__init__()
        n_outputs = [int(k) for k in n_outputs]
        self.register_buffer("n_outputs", torch.as_tensor(n_outputs, dtype=torch.long))
        self.log_var = nn.Parameter(torch.zeros(len(n_outputs), max(n_outputs)))

    def forward(self, output, target, task):
        if target.dim() == 1:
            target = target.unsqueeze(1)
        k = target.shape[1]
        mu = output[:, :k]
        log_var = self.log_var[task, :k]
        cols = torch.arange(k, device=task.device)
        valid = cols.unsqueeze(0) < self.n_outputs[task].unsqueeze(1)
        nll = 0.5 * (log_var + (target - mu).pow(2) * torch.exp(-log_var))
        return (nll * valid).sum(1).mean()
