import torch

from skmtl.nn.film import (
    FiLM,
    FiLMOutput,
    FiLMResidualBlock,
    FiLMStack,
    ResidualBlock,
    ResidualStack,
)


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
    with torch.no_grad():
        block.residual_scale.fill_(1.0)
    h, z = torch.randn(16, 8), torch.randn(16, 2)
    block.eval()
    assert torch.equal(block(h, z), block(h, z))
    block.train()
    assert not torch.equal(block(h, z), block(h, z))
    assert ResidualBlock(8)(h).shape == (16, 8)
    assert ResidualStack(8, 4)(h).shape == (16, 8)
    assert len(ResidualStack(8, 4)) == 4


def test_blocks_are_pre_activation_with_a_learned_residual_scale():
    torch.manual_seed(0)
    h, z = torch.randn(6, 8), torch.randn(6, 3)
    block, core = FiLMResidualBlock(8, 3), ResidualBlock(8)
    # at initialisation the branch is scaled by zero: the identity
    assert torch.equal(block(h, z), h) and torch.equal(core(h), h)
    with torch.no_grad():
        for p in [*block.parameters(), *core.parameters()]:
            p.normal_(std=0.5)
    a = block.residual_scale
    gamma, beta = block.film.params(z)
    branch = (block.linear(torch.relu(h))) * (1 + gamma) + beta
    assert torch.allclose(block(h, z), h + a * branch, atol=1e-6)
    assert torch.allclose(core(h), h + core.residual_scale * core.linear(torch.relu(h)), atol=1e-6)
    # pre-activation: a negative residual stream passes through the skip unchanged in sign
    neg = -torch.ones(2, 8)
    assert torch.allclose(core(neg), neg + core.residual_scale * core.linear.bias, atol=1e-6)


def test_output_layer_is_conditioned_on_the_target_embedding():
    torch.manual_seed(0)
    layer = FiLMOutput(8, 3)
    with torch.no_grad():
        layer.film.proj.weight.normal_()
    h = torch.randn(4, 8)
    z1, z2 = torch.randn(4, 3), torch.randn(4, 3)
    gamma, beta = layer.film.params(z1)
    assert torch.allclose(layer(h, z1), layer.linear(h * (1 + gamma) + beta), atol=1e-6)
    assert not torch.allclose(layer(h, z1), layer(h, z2))
