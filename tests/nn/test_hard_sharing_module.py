"""Tests of the hard-sharing torch modules (skmtl.nn.hard_sharing)."""

import pytest
import torch

from skmtl.nn.hard_sharing import (
    ConvEncoder,
    HardSharingModule,
    MLPEncoder,
    make_activation,
)


def _mask(X):
    return torch.ones_like(X, dtype=torch.bool)


def test_multi_head_rows_use_their_own_head():
    torch.manual_seed(0)
    m = HardSharingModule(
        5, [1, 2, 3], latent_dim=4, hidden_layer_sizes=(8,), head_hidden_sizes=(6,)
    )
    X = torch.randn(7, 5)
    task = torch.tensor([0, 1, 2, 2, 1, 0, 2])
    out, pen = m(X, task, _mask(X))
    assert out.shape == (7, 3) and pen.shape == () and float(pen) == 0.0
    z = m.encode(X, task, _mask(X))
    assert z.shape == (7, 4)
    for i, t in enumerate(task.tolist()):
        expected = m.heads[t](z[i : i + 1])[0]
        torch.testing.assert_close(out[i, : m.n_outputs[t]], expected)
        assert torch.all(out[i, m.n_outputs[t] :] == 0)
    # single-task batch (the "task" batching) gives the same numbers
    rows = task == 2
    out2, _ = m(X[rows], task[rows], _mask(X[rows]))
    torch.testing.assert_close(out2, out[rows])


def test_one_head_columns_per_task():
    torch.manual_seed(0)
    m = HardSharingModule(4, [1, 2, 1], latent_dim=3, heads="one", hidden_layer_sizes=(8,))
    assert len(m.heads) == 1 and m.heads[0][-1].out_features == 4
    X = torch.randn(6, 4)
    task = torch.tensor([0, 1, 2, 0, 1, 2])
    out, _ = m(X, task, _mask(X))
    full = m.heads[0](m.encode(X))
    torch.testing.assert_close(out[task == 0, 0], full[task == 0, 0])
    torch.testing.assert_close(out[task == 1, :2], full[task == 1, 1:3])
    torch.testing.assert_close(out[task == 2, 0], full[task == 2, 3])
    assert torch.all(out[task != 1, 1] == 0)
    parts = m.all_task_outputs(X)
    assert [p.shape[1] for p in parts] == [1, 2, 1]


def test_per_output_heads():
    torch.manual_seed(0)
    m = HardSharingModule(
        4, [3, 1], latent_dim=3, heads="per_output", hidden_layer_sizes=(8,), head_hidden_sizes=(5,)
    )
    assert len(m.heads) == 4 and all(h[-1].out_features == 1 for h in m.heads)
    X = torch.randn(6, 4)
    task = torch.tensor([0, 0, 1, 0, 1, 1])
    out, _ = m(X, task, _mask(X))
    z = m.encode(X)
    rows = task == 0
    expected = torch.cat([m.heads[j](z[rows]) for j in range(3)], dim=1)
    torch.testing.assert_close(out[rows], expected)
    torch.testing.assert_close(out[~rows, 0], m.heads[3](z[~rows])[:, 0])
    assert torch.all(out[~rows, 1:] == 0)
    assert [p.shape[1] for p in m.all_task_outputs(X)] == [3, 1]


def test_gradients_reach_only_the_used_head_and_the_encoder():
    torch.manual_seed(0)
    m = HardSharingModule(4, [1, 1], latent_dim=3, hidden_layer_sizes=(8,), head_hidden_sizes=(5,))
    X = torch.randn(8, 4)
    out, _ = m(X, torch.zeros(8, dtype=torch.long), _mask(X))
    out[:, 0].sum().backward()
    assert m.encoder.net[0].weight.grad.abs().sum() > 0
    assert m.heads[0][0].weight.grad.abs().sum() > 0
    assert m.heads[1][0].weight.grad is None


def test_mixed_batch_gradients_reach_only_the_heads_of_its_tasks():
    torch.manual_seed(0)
    m = HardSharingModule(
        4, [1, 2, 1], latent_dim=3, hidden_layer_sizes=(8,), head_hidden_sizes=(5,)
    )
    X = torch.randn(6, 4)
    out, _ = m(X, torch.tensor([0, 1, 0, 1, 1, 0]), _mask(X))
    out.sum().backward()
    assert m.heads[0][0].weight.grad.abs().sum() > 0
    assert m.heads[1][2].weight.grad.abs().sum() > 0
    assert m.heads[2][0].weight.grad is None or m.heads[2][0].weight.grad.abs().sum() == 0
    # padded output columns of the one-output task carry no gradient into its head
    assert m.heads[0][2].weight.grad.shape == (1, 5)


def test_conv_encoder_paper_architecture():
    enc = ConvEncoder((64, 64), latent_dim=10)
    convs = [layer for layer in enc.conv if isinstance(layer, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 128, 256, 256]
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    assert enc.fc.in_features == 256  # 64 -> 1 x 1 after six stride-2 layers
    assert enc(torch.zeros(2, 64 * 64)).shape == (2, 10)
    small = ConvEncoder((32, 32), latent_dim=5)
    assert len([c for c in small.conv if isinstance(c, torch.nn.Conv2d)]) == 5
    with pytest.raises(ValueError, match="too many layers"):
        ConvEncoder((8, 8), conv_channels=(4, 4, 4, 4))


def test_conv_module_ignores_padding_columns_and_learns():
    torch.manual_seed(0)
    m = HardSharingModule(
        16 * 16 + 3,
        [1],
        latent_dim=4,
        image_shape=(16, 16),
        conv_channels=(8, 8),
        head_hidden_sizes=(16,),
    )
    X = torch.rand(64, 16 * 16 + 3)
    task = torch.zeros(64, dtype=torch.long)
    out, _ = m(X, task, _mask(X))
    X2 = X.clone()
    X2[:, -3:] = 100.0
    torch.testing.assert_close(m(X2, task, _mask(X2))[0], out)
    # a few Adam steps fit a simple image statistic
    y = X[:, : 16 * 16].mean(1, keepdim=True) * 10
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = ((m(X, task, None)[0] - y) ** 2).mean()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.1 * first


def test_mlp_encoder_and_errors():
    enc = MLPEncoder(3, (), latent_dim=2)
    assert enc(torch.zeros(4, 5)).shape == (4, 2)  # extra columns ignored
    x = torch.randn(4, 2)  # a narrower task's batch is zero-padded
    torch.testing.assert_close(enc(x), enc(torch.cat([x, torch.zeros(4, 1)], dim=1)))
    with pytest.raises(ValueError, match="heads"):
        HardSharingModule(3, [1], heads="two")
    with pytest.raises(ValueError, match="activation"):
        make_activation("swish")
    with pytest.raises(ValueError, match="n_outputs"):
        HardSharingModule(3, [])
