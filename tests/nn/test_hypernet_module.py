"""Tests of the Multi-Task Hypernetwork torch module (skmtl.nn.hypernet)."""

import numpy as np
import pytest
import torch

from skmtl.nn.hypernet import (
    CompressedWeightGenerator,
    FullWeightGenerator,
    MultiTaskHypernetwork,
    TaskConditionedMLP,
    hypernet_parameter_count,
    paper_parameter_count,
)


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_compressed_generator_matches_expanded_tensor():
    torch.manual_seed(0)
    gen = CompressedWeightGenerator(d_h=6, d_in=3, d_out=4)
    h = torch.randn(5, 6)
    W = gen.full_weight()
    assert W.shape == (6, 4, 4)
    # W_ijk = W^A_ij W^B_ik W^C_jk
    i, j, k = 2, 1, 3
    expected = gen.weight_a[i, j] * gen.weight_b[i, k] * gen.weight_c[j, k]
    torch.testing.assert_close(W[i, j, k], expected)
    torch.testing.assert_close(gen(h), torch.einsum("ni,ijk->njk", h, W) + gen.bias)
    assert _n_params(gen) == 6 * 4 + 6 * 4 + 2 * 4 * 4
    full = FullWeightGenerator(d_h=6, d_in=3, d_out=4)
    assert full(h).shape == (5, 4, 4) and _n_params(full) == 6 * 4 * 4 + 4 * 4


@pytest.mark.parametrize("hyper_layers", [0, 1, 2])
@pytest.mark.parametrize("n_meta", [0, 4])
def test_generated_shapes_and_parameter_count(hyper_layers, n_meta):
    torch.manual_seed(0)
    meta = np.random.default_rng(0).normal(size=(7, n_meta)) if n_meta else None
    net = MultiTaskHypernetwork(7, 2, 3, (32, 16), hyper_layers=hyper_layers, metadata=meta)
    weights = net.task_weights()
    assert [tuple(w.shape) for w in weights] == [(7, 3, 32), (7, 33, 16), (7, 17, 3)]
    dims = [(2, 32), (32, 16), (16, 3)]
    d_h = 32 if hyper_layers else 10 + n_meta
    count = hypernet_parameter_count(10, n_meta, d_h, hyper_layers, dims, 7)
    assert _n_params(net) == count
    # the paper's formula differs only in the first extractor layer's bias term
    paper = paper_parameter_count(10, n_meta, 32, hyper_layers, dims, 7)
    if hyper_layers:
        assert count - paper == 32 - (10 + n_meta)
    else:
        assert count == paper


def test_paper_formula_exact_when_input_width_equals_hidden_width():
    # d_e + d_m = d_h: the paper's printed formula is the exact count
    net = MultiTaskHypernetwork(
        20, 1, 1, (32, 32, 32), embedding_dim=28, hyper_layers=2, metadata=np.eye(20)[:, :4]
    )
    assert _n_params(net) == paper_parameter_count(28, 4, 32, 2, net.layer_dims, 20) == 13426


def test_uncompressed_has_many_more_parameters():
    a = MultiTaskHypernetwork(5, 1, 1, compress=True)
    b = MultiTaskHypernetwork(5, 1, 1, compress=False)
    assert _n_params(b) > 6 * _n_params(a)


def test_embeddings_identical_at_init_with_unit_variance():
    torch.manual_seed(0)
    net = MultiTaskHypernetwork(6, 1, 1, embedding_dim=2000)
    e = net.task_embeddings.detach()
    assert torch.all(e == e[0])
    assert abs(float(e[0].var()) - 1.0) < 0.1
    assert float(e.abs().max()) <= 3**0.5


def test_forward_batched_rows_use_their_task_network():
    torch.manual_seed(0)
    net = MultiTaskHypernetwork(3, 2, 2, (8,), metadata=np.arange(6.0).reshape(3, 2) ** 2)
    with torch.no_grad():
        net.task_embeddings.normal_()
    X = torch.randn(6, 2)
    task = torch.tensor([0, 1, 2, 2, 1, 0])
    out, pen = net(X, task, torch.ones(6, 2, dtype=torch.bool))
    assert out.shape == (6, 2) and float(pen) == 0.0
    W = net.task_weights()
    for r in range(6):
        t = int(task[r])
        h = torch.relu(X[r] @ W[0][t, :-1] + W[0][t, -1])
        torch.testing.assert_close(out[r], h @ W[1][t, :-1] + W[1][t, -1])


def test_gradients_reach_embeddings_not_metadata():
    torch.manual_seed(0)
    net = MultiTaskHypernetwork(4, 1, 1, metadata=np.random.default_rng(0).normal(size=(4, 3)))
    X = torch.randn(10, 1)
    task = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    out, _ = net(X, task)
    out.pow(2).sum().backward()
    assert net.task_embeddings.grad is not None
    assert torch.all(net.task_embeddings.grad.abs().sum(1) > 0)
    assert not net.metadata.requires_grad
    assert "metadata" not in dict(net.named_parameters())
    assert "metadata" in dict(net.named_buffers())


def test_metadata_is_standardised_and_changes_predictions():
    torch.manual_seed(0)
    meta = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0]])
    net = MultiTaskHypernetwork(3, 1, 1, metadata=meta)
    torch.testing.assert_close(
        net.metadata[:, 0], torch.tensor([-1.2247, 0.0, 1.2247]), atol=1e-4, rtol=0
    )
    assert torch.all(net.metadata[:, 1] == 0)  # constant column only centred
    X = torch.randn(5, 1)
    zeros = torch.zeros(5, dtype=torch.long)
    with torch.no_grad():
        a = net(X, zeros)[0]
        b = net(X, zeros + 2)[0]  # same embedding at init, different metadata
        c = net.forward_new(X, meta[0])
    assert not torch.allclose(a, b)
    torch.testing.assert_close(a, c)  # zero-shot with task 0's metadata = task 0


def test_metadata_only_and_errors():
    net = MultiTaskHypernetwork(3, 1, 1, metadata=np.eye(3), use_embeddings=False)
    assert net.task_embeddings is None and net.hyper_input().shape == (3, 3)
    with pytest.raises(ValueError, match="requires task metadata"):
        MultiTaskHypernetwork(3, 1, 1, use_embeddings=False)
    with pytest.raises(ValueError, match="n_tasks=3"):
        MultiTaskHypernetwork(3, 1, 1, metadata=np.eye(4))


def test_weight_cache_tracks_parameter_updates():
    torch.manual_seed(0)
    net = MultiTaskHypernetwork(3, 1, 1)
    with torch.no_grad():
        w1 = net.task_weights()[0]
        assert net.task_weights()[0] is w1  # cached
        net.task_embeddings.add_(1.0)  # in-place update bumps the version
        w2 = net.task_weights()[0]
    assert w2 is not w1 and not torch.allclose(w1, w2)


def test_task_conditioned_mlp_encodings():
    torch.manual_seed(0)
    X = torch.randn(4, 2)
    task = torch.tensor([0, 1, 2, 1])
    naive = TaskConditionedMLP(2, 1, (8,))
    onehot = TaskConditionedMLP(2, 1, (8,), task_encoding="onehot", n_tasks=3)
    meta = TaskConditionedMLP(2, 1, (8,), task_encoding="metadata", metadata=np.eye(3) * 5)
    assert naive.mlp[0].in_features == 2 and onehot.mlp[0].in_features == 5
    out, _ = meta(X, task)
    torch.testing.assert_close(out[1:2], meta.forward_new(X[1:2], [0.0, 5.0, 0.0]))
    with pytest.raises(ValueError, match="task_encoding"):
        TaskConditionedMLP(2, 1, task_encoding="bad")
