import pickle

import pytest
import torch

from skmtl.nn.sve import SharedVariableEmbeddingNet

SMALL = dict(
    embedding_dim=8, hidden_dim=16, n_encoder_layers=2, n_core_layers=1, n_decoder_layers=2
)


def _batch(widths, rows_per_task=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    F = max(widths)
    task = torch.arange(len(widths)).repeat_interleave(rows_per_task)
    mask = torch.arange(F)[None, :] < torch.tensor(widths)[task][:, None]
    X = torch.randn(len(task), F, generator=g) * mask
    return X, task, mask


@pytest.mark.parametrize("n_shared", [None, 4])
def test_shapes_for_tasks_of_different_widths_and_classes(n_shared):
    torch.manual_seed(0)
    net = SharedVariableEmbeddingNet([2, 7, 4], [2, 5, 3], n_shared=n_shared, **SMALL)
    X, task, mask = _batch([2, 7, 4])
    out, pen = net(X, task, mask)
    assert out.shape == (12, 5)
    assert pen.shape == ()
    # columns beyond a task's classes are zero
    assert (out[task == 0, 2:] == 0).all() and (out[task == 2, 3:] == 0).all()
    # one-task batch of narrow task: output still padded to the widest task
    X0, t0, m0 = _batch([2])
    assert net(X0, t0, m0)[0].shape == (4, 5)
    assert net.input_embeddings.shape == (13, 8)
    assert net.output_embeddings.shape == (10, 8)


def _randomise(net):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)


def test_padded_columns_do_not_matter_and_mixed_equals_per_task():
    net = SharedVariableEmbeddingNet([2, 7], [2, 3], n_shared=4, **SMALL)
    _randomise(net)
    net.eval()
    X, task, mask = _batch([2, 7])
    out, _ = net(X, task, mask)
    X_noise = X + (~mask) * 100.0
    assert torch.allclose(net(X_noise, task, mask)[0], out, atol=1e-5)
    # the same rows of task 0 alone, at width 2 (no padding)
    out0, _ = net(X[task == 0, :2], task[task == 0], mask[task == 0, :2])
    assert torch.allclose(out0[:, :2], out[task == 0, :2], atol=1e-5)


def test_order_free_sum_over_variables():
    net = SharedVariableEmbeddingNet([4], [3], n_shared=None, **SMALL)
    _randomise(net)
    net.eval()
    X, task, mask = _batch([4])
    perm = torch.tensor([2, 0, 3, 1])
    a = net.encode(X, task, mask)
    # permuting values together with the embeddings of their variables changes nothing
    with torch.no_grad():
        net.input_embeddings.copy_(net.input_embeddings[perm])
    b = net.encode(X[:, perm], task, mask)
    assert torch.allclose(a, b, atol=1e-5)


def test_variable_embeddings_identify_tasks():
    net = SharedVariableEmbeddingNet([3, 3], [2, 2], n_shared=None, **SMALL)
    _randomise(net)
    net.eval()
    X = torch.randn(5, 3)
    mask = torch.ones(5, 3, dtype=torch.bool)
    o0, _ = net(X, torch.zeros(5, dtype=torch.long), mask)
    o1, _ = net(X, torch.ones(5, dtype=torch.long), mask)
    assert not torch.allclose(o0, o1)
    assert net.variable_index(1).tolist() == [3, 4, 5]
    assert net.output_index(1).tolist() == [2, 3]


def test_processed_embeddings_and_entmax_zeros():
    torch.manual_seed(0)
    net = SharedVariableEmbeddingNet(
        [20, 30], [2, 2], n_shared=16, attention="entmax", alpha=1.5, **SMALL
    )
    F, w = net.processed_embeddings()
    assert F.shape == (50, 8) and w.shape == (50, 16)
    assert (w == 0).any()
    vanilla = SharedVariableEmbeddingNet([20, 30], [2, 2], n_shared=None, **SMALL)
    F, w = vanilla.processed_embeddings()
    assert w is None and torch.equal(F, vanilla.input_embeddings)
    assert vanilla.alpha_value() is None and vanilla.stable_rank() is None


def test_penalty_is_weighted_sum_and_trains_alpha():
    torch.manual_seed(0)
    net = SharedVariableEmbeddingNet(
        [3, 5],
        [2, 3],
        n_shared=6,
        attention="entmax",
        learn_alpha=True,
        alpha=1.3,
        regularizers={"stable_rank": 0.5, "orthogonal": 0.1},
        **SMALL,
    )
    from skmtl.nn.regularizers import orthogonality_penalty, stable_rank_penalty

    S = net.shared_embeddings
    expected = 0.5 * stable_rank_penalty(S) + 0.1 * orthogonality_penalty(S)
    assert torch.allclose(net.penalty(), expected)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    X, task, mask = _batch([3, 5], rows_per_task=16)
    y = torch.randn(32, 3)
    for _ in range(5):
        opt.zero_grad()
        out, pen = net(X, task, mask)
        (((out - y) ** 2).mean() + pen).backward()
        opt.step()
    assert net.alpha_value() != pytest.approx(1.3, abs=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="regularizer"):
        SharedVariableEmbeddingNet([3], [2], regularizers={"nuclear": 1.0}, **SMALL)
    with pytest.raises(ValueError, match="n_shared"):
        SharedVariableEmbeddingNet([3], [2], n_shared=None, regularizers={"orthogonal": 1.0})
    with pytest.raises(ValueError, match="aggregation"):
        SharedVariableEmbeddingNet([3], [2], aggregation="max", **SMALL)


def test_pickle_roundtrip_keeps_outputs():
    net = SharedVariableEmbeddingNet([3, 4], [2, 2], n_shared=4, attention="entmax", **SMALL)
    _randomise(net)
    net.eval()
    X, task, mask = _batch([3, 4])
    clone = pickle.loads(pickle.dumps(net))
    assert torch.allclose(clone(X, task, mask)[0], net(X, task, mask)[0])
