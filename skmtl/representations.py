"""Unsupervised representations as scikit-learn transformers: AE, beta-VAE and FactorVAE.

:class:`AutoencoderTransformer` fits one of the auto-encoders of
:mod:`skmtl.nn.autoencoders` on the observations alone (no targets) and ``transform``
returns the code: the encoder output of the AE, the posterior mean of the VAE and FactorVAE
(as disentanglement_lib's ``mean`` representation). The disentanglement study's Section 4.3
freezes such codes and trains multi-task heads on them (``benchmarks/disentangle.py
--experiment representations``).

Training is a plain Adam loop rather than the project's skorch wiring: FactorVAE alternates
two optimisers (the VAE and its discriminator) on every batch, which a skorch ``NeuralNet``
with one module, one criterion and one optimiser does not express.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skmtl._training import check_device
from skmtl.nn.autoencoders import (
    RECONSTRUCTIONS,
    Autoencoder,
    FactorDiscriminator,
    discriminator_loss,
    permute_dims,
    total_correlation,
)

__all__ = ["AutoencoderTransformer"]

KINDS = ("ae", "vae", "factor_vae")


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Learn a code of ``X`` without targets with an AE, a beta-VAE or FactorVAE.

    Parameters
    ----------
    kind : {"ae", "vae", "factor_vae"}, default="ae"
        Plain auto-encoder (reconstruction only); VAE (reconstruction ``+ beta * KL`` to
        ``N(0, I)``); FactorVAE (the VAE objective with ``beta=1`` ``+ gamma * TC``, TC
        estimated by a discriminator between codes and column-permuted codes).
    latent_dim : int, default=8
        Code size (the study: 8).
    hidden_layer_sizes : tuple of int, default=(256, 256)
        MLP encoder (tabular); the decoder mirrors it. Ignored with ``image_shape``.
    image_shape : (int, int) or None, default=None
        Rows are flattened ``n_channels x h x w`` images: use the convolutional encoder
        (the study's Table 2) and a transposed-convolution decoder.
    n_channels : int, default=1
    conv_channels : tuple of int or None, default=None
        Convolution channels (None: the study's, truncated to the image size).
    reconstruction : {"gaussian", "bernoulli"}, default="gaussian"
        Sum of squared errors, or Bernoulli cross-entropy (needs ``X`` in [0, 1]; images).
    beta : float, default=1.0
        Weight of the KL term (``kind="vae"``; 1 is the plain VAE).
    gamma : float, default=35.0
        Weight of the TC term (``kind="factor_vae"``; Kim & Mnih's dSprites value).
    lr : float, default=1e-4
        Adam learning rate of the auto-encoder (the study's Section C.3).
    discriminator_lr : float, default=1e-4
        Adam learning rate of FactorVAE's discriminator (betas 0.5, 0.9, as Kim & Mnih).
    max_epochs : int, default=100
        Passes over the rows (the study: 100).
    batch_size : int, default=64
    discriminator_size : (int, int), default=(1000, 6)
        Units per layer and layers of the discriminator.
    random_state : int, RandomState or None, default=None
        Seeds the initialisation, the batch order and the sampling.
    device : str, default="cpu"

    Attributes
    ----------
    module_ : Autoencoder
    discriminator_ : FactorDiscriminator or None
    history_ : list of dict
        Per epoch: the mean ``reconstruction``, ``kl``, ``tc`` and ``loss`` over batches.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(64, 5))
    >>> ae = AutoencoderTransformer(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=2,
    ...                             random_state=0).fit(X)
    >>> ae.transform(X).shape
    (64, 2)
    """

    def __init__(
        self,
        kind="ae",
        *,
        latent_dim=8,
        hidden_layer_sizes=(256, 256),
        image_shape=None,
        n_channels=1,
        conv_channels=None,
        reconstruction="gaussian",
        beta=1.0,
        gamma=35.0,
        lr=1e-4,
        discriminator_lr=1e-4,
        max_epochs=100,
        batch_size=64,
        discriminator_size=(1000, 6),
        random_state=None,
        device="cpu",
    ):
        self.kind = kind
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.n_channels = n_channels
        self.conv_channels = conv_channels
        self.reconstruction = reconstruction
        self.beta = beta
        self.gamma = gamma
        self.lr = lr
        self.discriminator_lr = discriminator_lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.discriminator_size = discriminator_size
        self.random_state = random_state
        self.device = device

    def _check_params(self, X):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.reconstruction not in RECONSTRUCTIONS:
            raise ValueError(
                f"reconstruction must be one of {RECONSTRUCTIONS}, got {self.reconstruction!r}"
            )
        for name in ("latent_dim", "max_epochs", "batch_size", "n_channels"):
            _check_positive_int(getattr(self, name), name)
        for name in ("beta", "gamma", "lr", "discriminator_lr"):
            value = getattr(self, name)
            if not (np.isscalar(value) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if self.image_shape is not None:
            expected = self.n_channels * int(np.prod(self.image_shape))
            if expected != X.shape[1]:
                raise ValueError(
                    f"image_shape {tuple(self.image_shape)} x n_channels {self.n_channels} "
                    f"needs {expected} columns, X has {X.shape[1]}"
                )
        if self.reconstruction == "bernoulli" and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                'reconstruction="bernoulli" needs X in [0, 1], got values in '
                f"[{X.min():.3g}, {X.max():.3g}]"
            )

    def _build(self, n_features):
        module = Autoencoder(
            n_features,
            self.latent_dim,
            hidden_layer_sizes=self.hidden_layer_sizes,
            image_shape=self.image_shape,
            n_channels=self.n_channels,
            conv_channels=self.conv_channels,
            variational=self.kind != "ae",
        ).to(self.device)
        disc = None
        if self.kind == "factor_vae":
            hidden, n_layers = self.discriminator_size
            disc = FactorDiscriminator(self.latent_dim, hidden, n_layers).to(self.device)
        return module, disc

    def fit(self, X, y=None):
        """Train the auto-encoder on ``X`` (``y`` is ignored: the learning is unsupervised).

        Returns
        -------
        self
        """
        X = validate_data(self, X, dtype=np.float32, ensure_min_samples=2)
        self._check_params(X)
        device = check_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.module_, self.discriminator_ = self._build(X.shape[1])
            Xt = torch.as_tensor(X, device=device)
            self.history_ = self._train(Xt, torch.Generator().manual_seed(seed))
        self.module_.eval()
        return self

    def _train(self, X, generator):
        ae, disc = self.module_, self.discriminator_
        opt = torch.optim.Adam(ae.parameters(), lr=self.lr, betas=(0.9, 0.999))
        opt_d = None
        if disc is not None:
            opt_d = torch.optim.Adam(disc.parameters(), lr=self.discriminator_lr, betas=(0.5, 0.9))
        beta = self.beta if self.kind == "vae" else 1.0
        history = []
        ae.train()
        for _ in range(self.max_epochs):
            order = torch.randperm(len(X), generator=generator).to(X.device)
            sums = dict.fromkeys(("reconstruction", "kl", "tc", "loss"), 0.0)
            batches = [order[i : i + self.batch_size] for i in range(0, len(X), self.batch_size)]
            for idx in batches:
                terms = self._step(X[idx], ae, disc, opt, opt_d, beta, generator)
                for key in sums:
                    sums[key] += terms[key] / len(batches)
            history.append(sums)
        return history

    def _step(self, x, ae, disc, opt, opt_d, beta, generator):
        """One update of the auto-encoder (and of the discriminator for FactorVAE)."""
        terms = ae.objective(x, beta, self.reconstruction)
        loss, tc = terms["loss"], torch.zeros(())
        if disc is not None:
            tc = total_correlation(disc(terms["z"]))
            loss = loss + self.gamma * tc
        opt.zero_grad()
        loss.backward()
        opt.step()
        if disc is not None and len(x) > 1:
            z = terms["z"].detach()
            d_loss = discriminator_loss(disc(z), disc(permute_dims(z, generator)))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        return {
            "reconstruction": float(terms["reconstruction"].detach()),
            "kl": float(terms["kl"].detach()),
            "tc": float(tc.detach()),
            "loss": float(loss.detach()),
        }

    @property
    def _n_features_out(self):
        return self.latent_dim

    def transform(self, X):
        """The code of every row: the AE's encoder output, the VAE's posterior mean.

        Returns
        -------
        codes : ndarray of shape (n_samples, latent_dim), float64
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        out, device = [], next(self.module_.parameters()).device
        with torch.no_grad():
            for start in range(0, len(X), 1024):
                xb = torch.as_tensor(X[start : start + 1024], device=device)
                out.append(self.module_.encode(xb)[0].cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def inverse_transform(self, X):
        """Decode codes back to the input space (Bernoulli: the pixel probabilities).

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features_in_), float64
        """
        check_is_fitted(self, "module_")
        codes = check_array(X, dtype=np.float32)
        if codes.shape[1] != self.latent_dim:
            raise ValueError(
                f"codes have {codes.shape[1]} columns, the model's latent_dim is {self.latent_dim}"
            )
        device = next(self.module_.parameters()).device
        with torch.no_grad():
            out = self.module_.decoder(torch.as_tensor(codes, device=device))
            if self.reconstruction == "bernoulli":
                out = torch.sigmoid(out)
        return out.cpu().numpy().astype(np.float64)
