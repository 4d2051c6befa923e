import math

import pytest
import torch

from skmtl.nn.attention import ALPHA_MIN, SharedEmbeddingAttention


def test_softmax_attention_matches_eq5_and_has_no_zeros():
    torch.manual_seed(0)
    att = SharedEmbeddingAttention(16, attention="softmax")
    Z, S = torch.randn(50, 16), torch.randn(8, 16)
    F, w = att(Z, S)
    ref = torch.softmax(Z @ S.T / math.sqrt(16), dim=-1)
    assert torch.allclose(w, ref)
    assert torch.allclose(F, ref @ S)
    assert (w > 0).all()


@pytest.mark.parametrize("alpha", [1.05, 1.5, 2.0])
def test_entmax_attention_gives_exact_zeros_and_sums_to_one(alpha):
    torch.manual_seed(0)
    att = SharedEmbeddingAttention(32, attention="entmax", alpha=alpha)
    # scores of std 8 (trained embeddings are far from the N(0, 1) initial scores)
    Z, S = 8 * torch.randn(200, 32), torch.randn(32, 32)
    F, w = att(Z, S)
    assert torch.allclose(w.sum(1), torch.ones(200), atol=1e-5)
    assert (w >= 0).all()
    assert (w == 0).float().mean() > 0.05  # exact zeros
    assert F.shape == (200, 32)


def test_entmax_sparsity_grows_with_alpha():
    torch.manual_seed(0)
    Z, S = torch.randn(200, 32), torch.randn(32, 32)
    zeros = [
        (SharedEmbeddingAttention(32, attention="entmax", alpha=a).weights(Z, S) == 0)
        .float()
        .mean()
        for a in (1.05, 1.5, 2.0)
    ]
    assert zeros[0] < zeros[1] < zeros[2]


def test_learned_alpha_is_a_parameter_with_gradient_fixed_alpha_is_not():
    torch.manual_seed(0)
    Z = torch.randn(30, 8)
    S = torch.randn(6, 8)
    att = SharedEmbeddingAttention(8, attention="entmax", alpha=1.5, learn_alpha=True)
    assert any(p is att.alpha for p in att.parameters())
    F, _ = att(Z, S)
    (F * torch.randn_like(F)).sum().backward()
    assert att.alpha.grad is not None and att.alpha.grad.abs() > 0
    fixed = SharedEmbeddingAttention(8, attention="entmax", alpha=1.5)
    assert list(fixed.parameters()) == []
    assert float(fixed.alpha) == 1.5


def test_alpha_clamp_is_straight_through():
    att = SharedEmbeddingAttention(4, attention="entmax", alpha=1.5, learn_alpha=True)
    with torch.no_grad():
        att.alpha.fill_(0.5)
    eff = att.effective_alpha()
    assert float(eff.detach()) == pytest.approx(ALPHA_MIN)
    eff.backward()
    assert float(att.alpha.grad) == 1.0


def test_bad_parameters_raise_value_error():
    with pytest.raises(ValueError, match="attention"):
        SharedEmbeddingAttention(4, attention="sparse")
    with pytest.raises(ValueError, match="alpha"):
        SharedEmbeddingAttention(4, attention="entmax", alpha=1.0)
