"""Unsupervised representation learners of the disentanglement study (its Section 4.3).

The study trains three auto-encoders on the observations alone, freezes them and feeds their
codes to multi-task heads: a plain auto-encoder (AE), a variational auto-encoder (VAE,
Kingma & Welling 2013; beta-VAE, Higgins et al. 2017) and FactorVAE (Kim & Mnih 2018). This
module holds the torch side; :class:`skmtl.representations.AutoencoderTransformer` trains
them as a scikit-learn transformer.

* :class:`Autoencoder` -- an MLP (tabular) or convolutional (images, the study's Table 2
  encoder :class:`~skmtl.nn.hard_sharing.ConvEncoder` and a mirrored transposed-convolution
  :class:`ConvDecoder`) encoder/decoder pair; ``variational=True`` makes the encoder output a
  diagonal Gaussian ``q(z | x) = N(mean, exp(log_var))`` sampled with the
  reparameterisation trick in training mode.
* :func:`gaussian_kl` -- ``KL(N(mean, diag(exp(log_var))) || N(0, I))`` per row, in closed
  form.
* :func:`permute_dims` and :class:`FactorDiscriminator` -- FactorVAE's total-correlation
  estimate: a discriminator tells codes ``z ~ q(z)`` from codes whose columns were permuted
  independently across the batch (samples of ``prod_j q(z_j)``); its logit difference
  ``log D(z) - log(1 - D(z))`` estimates ``log q(z) / prod_j q(z_j)``, whose batch mean is
  the TC term (:func:`total_correlation`), as in disentanglement_lib's ``FactorVAE``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from skmtl.nn.hard_sharing import PAPER_CONV_CHANNELS, ConvEncoder
from skmtl.nn.mlp import MLP

__all__ = [
    "Autoencoder",
    "ConvDecoder",
    "FactorDiscriminator",
    "discriminator_loss",
    "gaussian_kl",
    "permute_dims",
    "reconstruction_loss",
    "total_correlation",
]

RECONSTRUCTIONS = ("gaussian", "bernoulli")


def gaussian_kl(mean, log_var):
    """``KL(N(mean, diag(exp(log_var))) || N(0, I))`` of every row, shape (B,).

    ``0.5 * sum_j (mean_j^2 + exp(log_var_j) - log_var_j - 1)``.

    Examples
    --------
    >>> import torch
    >>> float(gaussian_kl(torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2))[0])
    0.5
    """
    return 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1.0).sum(1)


def reconstruction_loss(output, x, distribution="gaussian"):
    """Negative log-likelihood of ``x`` under the decoder ``output``, per row, shape (B,).

    ``"gaussian"``: the sum of squared errors over the columns (disentanglement_lib's
    ``l2`` loss: the negative log-likelihood of a Gaussian of variance 1/2, up to a
    constant);
    ``"bernoulli"``: binary cross-entropy of ``x`` in [0, 1] with the logits ``output``,
    summed over the columns (pixels), as disentanglement_lib's ``bernoulli`` loss.

    Examples
    --------
    >>> import torch
    >>> float(reconstruction_loss(torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2))[0])
    5.0
    """
    if distribution == "gaussian":
        return (output - x).pow(2).sum(1)
    if distribution == "bernoulli":
        return F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(1)
    raise ValueError(f"distribution must be one of {RECONSTRUCTIONS}, got {distribution!r}")


def permute_dims(z, generator=None):
    """Permute every column of ``z`` independently across the rows (FactorVAE's Algorithm 2).

    Each column keeps its values (so its marginal distribution), but the joint pairing
    of the columns is broken: the rows become samples of the product of the marginals.

    Examples
    --------
    >>> import torch
    >>> z = torch.arange(6.0).reshape(3, 2)
    >>> p = permute_dims(z, torch.Generator().manual_seed(0))
    >>> [sorted(p[:, j].tolist()) == z[:, j].tolist() for j in range(2)]
    [True, True]
    """
    n = z.shape[0]
    perms = [torch.randperm(n, generator=generator).to(z.device) for _ in range(z.shape[1])]
    return torch.stack([z[perm, j] for j, perm in enumerate(perms)], dim=1)


def total_correlation(logits):
    """Density-ratio estimate of the total correlation from discriminator ``logits`` (B, 2).

    Column 0 is the logit of "a sample of q(z)", column 1 of "a permuted sample", so
    ``logits[:, 0] - logits[:, 1] = log D(z) / (1 - D(z))``; the mean over the batch.

    Examples
    --------
    >>> import torch
    >>> float(total_correlation(torch.tensor([[2.0, 0.0], [0.0, 1.0]])))
    0.5
    """
    return (logits[:, 0] - logits[:, 1]).mean()


def discriminator_loss(logits_q, logits_permuted):
    """Cross-entropy of the discriminator: class 0 for ``q(z)``, class 1 for permuted codes.

    ``0.5 * (CE(logits_q, 0) + CE(logits_permuted, 1))``, as disentanglement_lib.

    Examples
    --------
    >>> import torch
    >>> big = torch.tensor([[20.0, -20.0]])
    >>> float(discriminator_loss(big, big.flip(1))) < 1e-6
    True
    """
    zeros = torch.zeros(len(logits_q), dtype=torch.long, device=logits_q.device)
    ones = torch.ones(len(logits_permuted), dtype=torch.long, device=logits_q.device)
    return 0.5 * (F.cross_entropy(logits_q, zeros) + F.cross_entropy(logits_permuted, ones))


class FactorDiscriminator(nn.Sequential):
    """FactorVAE's discriminator: ``n_layers`` of ``hidden`` LeakyReLU(0.2) units, 2 logits.

    Kim & Mnih (2018, Appendix) and disentanglement_lib: 6 layers of 1000 units.

    Examples
    --------
    >>> import torch
    >>> FactorDiscriminator(4, hidden=8, n_layers=2)(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(self, latent_dim, hidden=1000, n_layers=6):
        layers, width = [], int(latent_dim)
        for _ in range(int(n_layers)):
            layers += [nn.Linear(width, int(hidden)), nn.LeakyReLU(0.2)]
            width = int(hidden)
        super().__init__(*layers, nn.Linear(width, 2))


class ConvDecoder(nn.Module):
    """Transposed-convolution mirror of :class:`~skmtl.nn.hard_sharing.ConvEncoder`.

    ``Linear(latent_dim -> c_last * h' * w')`` then, for the channels in reverse order,
    ``act -> ConvTranspose2d(kernel 4, stride 2, padding 1)`` doubling height and width, the
    last one to ``n_channels``; returns flattened (B, n_channels * h * w) outputs (logits
    for a Bernoulli reconstruction). ``h`` and ``w`` must be divisible by
    ``2 ** len(conv_channels)``.

    Examples
    --------
    >>> import torch
    >>> ConvDecoder((16, 16), latent_dim=4, conv_channels=(8, 8))(torch.zeros(2, 4)).shape
    torch.Size([2, 256])
    """

    def __init__(self, image_shape, n_channels=1, latent_dim=10, conv_channels=(32, 32)):
        super().__init__()
        h, w = (int(s) for s in image_shape)
        chans = [int(c) for c in conv_channels][::-1]
        scale = 2 ** len(chans)
        if h % scale or w % scale:
            raise ValueError(
                f"image_shape {image_shape} is not divisible by 2 ** {len(chans)} (one "
                "halving per entry of conv_channels)"
            )
        self.start = (chans[0], h // scale, w // scale)
        self.fc = nn.Linear(int(latent_dim), chans[0] * (h // scale) * (w // scale))
        layers = []
        for c_in, c_out in zip(chans, chans[1:] + [int(n_channels)]):
            layers += [nn.ReLU(), nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)]
        self.deconv = nn.Sequential(*layers)

    def forward(self, z):
        return self.deconv(self.fc(z).reshape(-1, *self.start)).flatten(1)


def _conv_channels(image_shape, conv_channels):
    if conv_channels is not None:
        return tuple(int(c) for c in conv_channels)
    depth = max(1, min(int(s) for s in image_shape).bit_length() - 1)
    return PAPER_CONV_CHANNELS[:depth]


class Autoencoder(nn.Module):
    """Deterministic or variational auto-encoder on flat rows (tabular or flattened images).

    Parameters
    ----------
    n_features : int
        Columns of the input (``n_channels * h * w`` for images).
    latent_dim : int, default=8
        Code size (the study's Section 4.3: 8).
    hidden_layer_sizes : sequence of int, default=(256, 256)
        MLP encoder layers (tabular); the decoder mirrors them.
    image_shape : (int, int) or None, default=None
        Use the convolutional encoder / transposed-convolution decoder on images.
    n_channels : int, default=1
    conv_channels : sequence of int or None, default=None
        As :class:`~skmtl.nn.hard_sharing.ConvEncoder` (None: the study's channels).
    variational : bool, default=False
        Encode to a diagonal Gaussian (VAE / FactorVAE) instead of a point (AE).
    activation : str, default="relu"
        Of the MLP and the convolutional encoder.

    Examples
    --------
    >>> import torch
    >>> ae = Autoencoder(6, latent_dim=2, hidden_layer_sizes=(8,), variational=True)
    >>> out, mean, log_var, z = ae(torch.zeros(3, 6))
    >>> out.shape, mean.shape, log_var.shape
    (torch.Size([3, 6]), torch.Size([3, 2]), torch.Size([3, 2]))
    """

    def __init__(
        self,
        n_features,
        latent_dim=8,
        *,
        hidden_layer_sizes=(256, 256),
        image_shape=None,
        n_channels=1,
        conv_channels=None,
        variational=False,
        activation="relu",
    ):
        super().__init__()
        self.latent_dim = d = int(latent_dim)
        self.variational = bool(variational)
        width = 2 * d if self.variational else d
        if image_shape is None:
            hidden = tuple(int(h) for h in hidden_layer_sizes)
            self.encoder = MLP(int(n_features), hidden, width, activation)
            self.decoder = MLP(d, hidden[::-1], int(n_features), activation)
        else:
            chans = _conv_channels(image_shape, conv_channels)
            self.encoder = ConvEncoder(image_shape, n_channels, width, chans, activation)
            self.decoder = ConvDecoder(image_shape, n_channels, d, chans)

    def encode(self, x):
        """``(mean, log_var)`` of the code; ``log_var`` is None for a plain auto-encoder."""
        h = self.encoder(x)
        if not self.variational:
            return h, None
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def forward(self, x):
        """``(decoder output, mean, log_var, z)``; ``z`` is sampled in training mode only."""
        mean, log_var = self.encode(x)
        z = mean
        if self.variational and self.training:
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        return self.decoder(z), mean, log_var, z

    def objective(self, x, beta=1.0, reconstruction="gaussian"):
        """Batch means of the terms: ``{"reconstruction", "kl", "loss", "z"}``.

        ``loss = reconstruction + beta * kl`` (the negative ELBO for ``beta=1``; the AE has
        ``kl = 0``). ``z`` is the code the decoder saw (for FactorVAE's TC term).
        """
        out, mean, log_var, z = self(x)
        rec = reconstruction_loss(out, x, reconstruction).mean()
        kl = gaussian_kl(mean, log_var).mean() if self.variational else rec.new_zeros(())
        return {"reconstruction": rec, "kl": kl, "loss": rec + beta * kl, "z": z}
