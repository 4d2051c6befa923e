"""Tests of the cross-stitch / sluice torch module (skmtl.nn.cross_stitch)."""

import numpy as np
import pytest
import torch

from skmtl.nn.cross_stitch import CrossStitchNetwork, stitch_init


def _mlp(X, ws, bs):
    h = X
    for n, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w + b
        if n < len(ws) - 1:
            h = torch.relu(h)
    return h


def _set_alpha(net, matrix):
    with torch.no_grad():
        for a in net.alpha_logits:
            a.copy_(torch.log(matrix.clamp_min(1e-30)))


def test_identity_stitch_is_one_independent_mlp_per_task():
    torch.manual_seed(0)
    net = CrossStitchNetwork(3, 2, 1, hidden_layer_sizes=(5, 5))
    with torch.no_grad():  # give every task its own weights
        for w in net.weights:
            w.normal_()
    _set_alpha(net, torch.eye(3))
    X = torch.randn(6, 2)
    task = torch.tensor([0, 1, 2, 2, 1, 0])
    out, penalty = net(X, task)
    expect = torch.cat(
        [
            _mlp(X[i : i + 1], [w[t] for w in net.weights], [b[t] for b in net.biases])
            for i, t in enumerate(task.tolist())
        ]
    )
    torch.testing.assert_close(out, expect)
    assert float(penalty) == 0.0


def test_stitch_mixes_the_tasks_activations():
    torch.manual_seed(0)
    net = CrossStitchNetwork(3, 1, 1, hidden_layer_sizes=(4,))
    with torch.no_grad():
        for w in net.weights:
            w.normal_()
    # task t reads task (t + 1) % 3's hidden layer (asymmetric: a transpose would show)
    mix = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    _set_alpha(net, mix)
    X = torch.randn(3, 1)
    w0, w1 = net.weights[0], net.weights[1]
    b0, b1 = net.biases[0], net.biases[1]
    for t in range(3):
        h_other = torch.relu(X @ w0[(t + 1) % 3] + b0[(t + 1) % 3])
        out, _ = net(X, torch.full((3,), t, dtype=torch.long))
        torch.testing.assert_close(out, h_other @ w1[t] + b1[t])


def test_stitch_init_rows_sum_to_one():
    for units, groups in ((4, 1), (6, 2)):
        for scheme in ("balanced", "imbalanced"):
            m = stitch_init(units, groups, scheme)
            torch.testing.assert_close(m.sum(1), torch.ones(units))
    m = stitch_init(6, 2, "imbalanced")  # 3 tasks x 2 subspaces: 0.95 to the own subspace
    assert float(m[0, [0, 2, 4]].sum()) == pytest.approx(0.95)
    net = CrossStitchNetwork(3, 1, 1, (4, 4), n_subspaces=2, alpha_init="imbalanced")
    torch.testing.assert_close(net.stitch_matrices()[1], m)
    with pytest.raises(ValueError, match="alpha_init"):
        stitch_init(4, 1, "random")


def test_sluice_penalty_and_layer_stitch():
    torch.manual_seed(0)
    net = CrossStitchNetwork(
        2, 3, 1, (4, 4), n_subspaces=2, layer_stitch=True, orthogonal_penalty=0.5
    )
    expect = 0.0
    for w in list(net.weights)[:-1]:
        w1, w2 = w[:, :, :2], w[:, :, 2:]
        expect += np.mean([float(((w1[t].T @ w2[t]) ** 2).sum().detach()) for t in range(2)])
    assert float(net.penalty()) == pytest.approx(0.5 * expect, rel=1e-5)
    with torch.no_grad():  # orthogonal subspaces: no penalty
        for w in list(net.weights)[:-1]:
            w.zero_()
            w[:, 0, 0] = 1.0
            w[:, 1, 3] = 1.0
    assert float(net.penalty()) == 0.0
    beta = torch.softmax(net.beta_logits, 0)
    torch.testing.assert_close(beta, torch.tensor([0.1, 0.9]))


def test_metadata_is_appended_and_bad_shapes_raise():
    meta = np.array([[1.0, 10.0], [3.0, 10.0]])
    net = CrossStitchNetwork(2, 1, 1, (4,), metadata=meta)
    torch.testing.assert_close(net.metadata, torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
    assert net.weights[0].shape == (2, 3, 4)
    with pytest.raises(ValueError, match="metadata must have shape"):
        CrossStitchNetwork(3, 1, 1, (4,), metadata=meta)
    with pytest.raises(ValueError, match="n_subspaces=2"):
        CrossStitchNetwork(2, 1, 1, (5,), n_subspaces=2)
    with pytest.raises(ValueError, match="orthogonal_penalty"):
        CrossStitchNetwork(2, 1, 1, (4,), orthogonal_penalty=1.0)
    with pytest.raises(ValueError, match="one width"):
        CrossStitchNetwork(2, 1, 1, (4, 6), layer_stitch=True)
