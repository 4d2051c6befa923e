import torch

from skmtl.nn.film import FiLM, FiLMResidualBlock, FiLMStack, ResidualBlock, ResidualStack


def test_film_identity_at_init_and_conditioning_after_update():
    torch.manual_seed(0)
    film = FiLM(6, 3)
    h, z = torch.randn(4, 6), torch.randn(4, 3)
    assert torch.allclose(film(h, z), h)
    with torch.no_grad():
        film.proj.weight.normal_()
    out = film(h, z)
    gamma, beta = film.params(z)
    assert torch.allclose(out, h * (1 + gamma) + beta)
    # different embeddings -> different modulation of the same features
    out2 = film(h, torch.randn(4, 3))
    assert not torch.allclose(out, out2)


def test_film_stack_gathered_params_match_direct_blocks():
    torch.manual_seed(0)
    stack = FiLMStack(8, 4, n_layers=3)
    for p in stack.parameters():
        torch.nn.init.normal_(p, std=0.3)
    z = torch.randn(5, 4)
    index = torch.tensor([[0, 4, 2], [1, 1, 3]])
    h = torch.randn(2, 3, 8)
    out = stack(h, stack.film_params(z), index)
    ref = h
    for block in stack.blocks:
        ref = block(ref, z[index])
    assert out.shape == (2, 3, 8)
    assert torch.allclose(out, ref, atol=1e-6)


def test_residual_blocks_shapes_and_dropout_only_in_train():
    torch.manual_seed(0)
    block = FiLMResidualBlock(8, 2, dropout=0.5)
    h, z = torch.randn(16, 8), torch.randn(16, 2)
    block.eval()
    assert torch.equal(block(h, z), block(h, z))
    block.train()
    assert not torch.equal(block(h, z), block(h, z))
    assert ResidualBlock(8)(h).shape == (16, 8)
    assert ResidualStack(8, 4)(h).shape == (16, 8)
    assert len(ResidualStack(8, 4)) == 4
