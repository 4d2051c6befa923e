"""The torch side of the representation learners: shapes and the math of every term."""

import math

import pytest
import torch

from skmtl.nn.autoencoders import (
    Autoencoder,
    ConvDecoder,
    FactorDiscriminator,
    discriminator_loss,
    gaussian_kl,
    permute_dims,
    reconstruction_loss,
    total_correlation,
)

# tiny networks: one torch thread (two only contend on a shared machine)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("variational", [False, True])
def test_shapes_mlp_and_conv(variational):
    ae = Autoencoder(7, 3, hidden_layer_sizes=(16, 8), variational=variational)
    out, mean, log_var, z = ae(torch.randn(5, 7))
    assert out.shape == (5, 7) and mean.shape == z.shape == (5, 3)
    assert (log_var is None) == (not variational)
    conv = Autoencoder(256, 4, image_shape=(16, 16), conv_channels=(8, 8), variational=variational)
    out, mean, _, _ = conv(torch.rand(2, 256))
    assert out.shape == (2, 256) and mean.shape == (2, 4)
    # the study's channels truncated to the image: 4 halvings of 16 x 16
    assert len(Autoencoder(256, 4, image_shape=(16, 16)).decoder.deconv) == 8


def test_conv_decoder_rejects_indivisible_image():
    with pytest.raises(ValueError, match="not divisible"):
        ConvDecoder((10, 10), latent_dim=2, conv_channels=(4, 4))


def test_gaussian_kl_by_hand_and_against_torch():
    mean = torch.tensor([[1.0, -2.0], [0.0, 0.0]])
    log_var = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
    # row 0: 0.5 * [(1 + 1 - 0 - 1) + (4 + 4 - log 4 - 1)]; row 1: the prior itself, 0
    expected = torch.tensor([0.5 * (1.0 + 7.0 - math.log(4.0)), 0.0])
    torch.testing.assert_close(gaussian_kl(mean, log_var), expected)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros(2, 2), torch.ones(2, 2))
    torch.testing.assert_close(
        gaussian_kl(mean, log_var), torch.distributions.kl_divergence(q, p).sum(1)
    )


def test_reconstruction_losses_by_hand():
    out = torch.tensor([[0.0, 2.0]])
    x = torch.tensor([[1.0, 0.0]])
    assert float(reconstruction_loss(out, x)[0]) == pytest.approx(5.0)
    # Bernoulli: -log sigmoid(0) for the pixel 1, -log(1 - sigmoid(2)) for the pixel 0
    expected = math.log(2.0) + math.log(1.0 + math.exp(2.0))
    assert float(reconstruction_loss(out, x, "bernoulli")[0]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="distribution"):
        reconstruction_loss(out, x, "poisson")


def test_reparameterised_sample_has_the_posterior_std():
    torch.manual_seed(0)
    vae = Autoencoder(3, 2, hidden_layer_sizes=(), variational=True)
    with torch.no_grad():  # a constant posterior: mean (1, -1), log_var (log 4, log 0.25)
        vae.encoder[0].weight.zero_()
        vae.encoder[0].bias.copy_(torch.tensor([1.0, -1.0, math.log(4.0), math.log(0.25)]))
    vae.train()
    _, mean, _, z = vae(torch.zeros(20000, 3))
    torch.testing.assert_close(z.mean(0), torch.tensor([1.0, -1.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([2.0, 0.5]), atol=0.03, rtol=0)
    vae.eval()  # evaluation: the mean, no noise
    assert torch.equal(vae(torch.zeros(4, 3))[3], mean[:4])


def test_objective_is_reconstruction_plus_beta_kl():
    torch.manual_seed(0)
    vae = Autoencoder(4, 2, hidden_layer_sizes=(8,), variational=True).eval()
    x = torch.randn(6, 4)
    terms = vae.objective(x, beta=3.0)
    out, mean, log_var, _ = vae(x)
    rec = ((out - x) ** 2).sum(1).mean()
    kl = gaussian_kl(mean, log_var).mean()
    torch.testing.assert_close(terms["reconstruction"], rec)
    torch.testing.assert_close(terms["kl"], kl)
    torch.testing.assert_close(terms["loss"], rec + 3.0 * kl)
    assert float(Autoencoder(4, 2, hidden_layer_sizes=(8,)).objective(x)["kl"]) == 0.0


def test_permute_dims_permutes_each_column_independently():
    n, d = 200, 4
    z = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, d)  # equal columns
    p = permute_dims(z, torch.Generator().manual_seed(0))
    assert p.shape == z.shape
    for j in range(d):  # every column keeps its values (its marginal)
        assert torch.equal(p[:, j].sort().values, z[:, j])
    # ... but the columns got different permutations: the joint pairing is broken
    assert not torch.equal(p[:, 0], z[:, 0])
    for j in range(1, d):
        assert (p[:, j] != p[:, 0]).float().mean() > 0.9


def test_total_correlation_and_discriminator_loss_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
    assert float(total_correlation(logits)) == pytest.approx((2.0 - 1.0 + 0.0) / 3)
    lq = torch.tensor([[1.0, 0.0]])
    lp = torch.tensor([[0.0, 2.0]])
    # 0.5 * (-log softmax(lq)[0] - log softmax(lp)[1])
    expected = 0.5 * (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(-2.0)))
    assert float(discriminator_loss(lq, lp)) == pytest.approx(expected)


def test_discriminator_estimates_more_tc_for_dependent_codes():
    # trained on "dependent codes (z2 = z1) vs their column permutation", the density-ratio
    # estimate is large on dependent codes and near or below 0 on independent ones
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    disc = FactorDiscriminator(2, hidden=16, n_layers=2)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-2)
    for _ in range(150):
        a = torch.randn(64, 1)
        z = torch.cat([a, a], 1)
        loss = discriminator_loss(disc(z), disc(permute_dims(z, g)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    a = torch.randn(2000, 1)
    with torch.no_grad():
        dependent = float(total_correlation(disc(torch.cat([a, a], 1))))
        independent = float(total_correlation(disc(torch.randn(2000, 2))))
    assert dependent > 1.0 and independent < 0.0
