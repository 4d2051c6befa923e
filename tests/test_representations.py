"""AutoencoderTransformer: fit/transform contract, learning, the FactorVAE objective, bad input."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.representations import AutoencoderTransformer

# tiny networks: one torch thread (two only contend on a shared machine)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=2, batch_size=16, random_state=0)


def _linear_problem(n=256, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 2))
    A = rng.normal(size=(2, 6))
    return Z @ A  # rank 2 in 6 columns


@parametrize_with_checks(
    [
        AutoencoderTransformer(**TINY),
        AutoencoderTransformer("factor_vae", **TINY, discriminator_size=(8, 2)),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_linear_autoencoder_reconstructs_a_rank_two_problem():
    X = _linear_problem(128)
    params = dict(hidden_layer_sizes=(), lr=3e-2, max_epochs=150, batch_size=128, random_state=0)
    ae = AutoencoderTransformer(latent_dim=2, **params).fit(X)
    codes = ae.transform(X)
    rel = ((ae.inverse_transform(codes) - X) ** 2).sum() / ((X - X.mean(0)) ** 2).sum()
    assert rel < 1e-3
    # one latent dimension cannot hold a rank-2 signal: at least the smaller PCA share is lost
    s = np.linalg.svd(X - X.mean(0), compute_uv=False) ** 2
    one = AutoencoderTransformer(latent_dim=1, **params).fit(X)
    rel1 = ((one.inverse_transform(one.transform(X)) - X) ** 2).sum() / s.sum()
    assert rel1 > 0.9 * s[1] / s.sum()
    # the loss history went down
    assert ae.history_[-1]["loss"] < 0.1 * ae.history_[0]["loss"]


@pytest.mark.parametrize("kind", ["vae", "factor_vae"])
def test_history_terms_add_up_to_the_objective(kind):
    X = _linear_problem(64)
    est = AutoencoderTransformer(
        kind, beta=4.0, gamma=7.0, **{**TINY, "max_epochs": 3}, discriminator_size=(8, 2)
    ).fit(X)
    for h in est.history_:
        beta, gamma = (4.0, 0.0) if kind == "vae" else (1.0, 7.0)
        assert h["kl"] > 0
        assert h["loss"] == pytest.approx(h["reconstruction"] + beta * h["kl"] + gamma * h["tc"])
    assert (est.discriminator_ is None) == (kind == "vae")


def test_seeded_fit_is_reproducible_and_codes_are_posterior_means():
    X = _linear_problem(64)
    a = AutoencoderTransformer("vae", **TINY).fit(X)
    b = AutoencoderTransformer("vae", **TINY).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.transform(X), a.transform(X))  # no sampling
    assert a.get_feature_names_out().tolist() == [
        "autoencodertransformer0",
        "autoencodertransformer1",
    ]


def test_images_with_bernoulli_reconstruction():
    X = (np.random.default_rng(0).uniform(size=(32, 64)) > 0.5).astype(float)
    est = AutoencoderTransformer(
        "vae", image_shape=(8, 8), conv_channels=(4, 4), reconstruction="bernoulli", **TINY
    ).fit(X)
    rec = est.inverse_transform(est.transform(X))
    assert rec.shape == (32, 64) and rec.min() >= 0 and rec.max() <= 1


@pytest.mark.parametrize(
    "params, X, match",
    [
        (dict(kind="pca"), None, "kind must be one of"),
        (dict(latent_dim=0), None, "latent_dim must be a positive integer"),
        (dict(beta=-1.0), None, "beta must be a non-negative number"),
        (dict(reconstruction="l1"), None, "reconstruction must be one of"),
        (dict(reconstruction="bernoulli"), None, r"needs X in \[0, 1\]"),
        (dict(image_shape=(4, 4)), None, r"needs 16 columns, X has 6"),
        (dict(), np.full((8, 6), np.nan), "NaN"),
    ],
)
def test_bad_input_is_named(params, X, match):
    X = _linear_problem(8) if X is None else X
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**{**TINY, **params}).fit(X)


def test_transform_checks_width_and_codes():
    X = _linear_problem(32)
    est = AutoencoderTransformer(**TINY).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:, :4])
    with pytest.raises(ValueError, match="latent_dim is 2"):
        est.inverse_transform(np.zeros((3, 5)))
