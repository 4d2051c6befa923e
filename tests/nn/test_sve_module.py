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


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
@pytest.mark.parametrize("n_layers", [2, 10])
def test_class_scores_at_initialisation_are_of_order_one(n_layers, aggregation):
    # the paper's widths (C = D = H = 128) on tasks of 4 to 30 standardised variables: the
    # residual branches start at zero, so depth does not blow the scores up (the old
    # post-activation blocks, h + ReLU(FiLM(Linear(h))), gave RMS in the hundreds)
    torch.manual_seed(0)
    widths = [4, 12, 30]
    net = SharedVariableEmbeddingNet(
        widths,
        [2, 3, 10],
        embedding_dim=128,
        n_shared=128,
        hidden_dim=128,
        n_encoder_layers=n_layers,
        n_core_layers=n_layers,
        n_decoder_layers=n_layers,
        aggregation=aggregation,
    )
    X, task, mask = _batch(widths, rows_per_task=64)
    with torch.no_grad():
        out, _ = net(X, task, mask)
    real = torch.arange(10)[None, :] < torch.tensor([2, 3, 10])[task][:, None]
    rms = out[real].pow(2).mean().sqrt().item()
    assert 0.01 < rms < 3.0, rms


def test_residual_scales_start_at_zero_and_receive_gradient():
    torch.manual_seed(0)
    net = SharedVariableEmbeddingNet([3, 5], [2, 4], n_shared=4, **SMALL)
    scales = [p for n, p in net.named_parameters() if n.endswith("residual_scale")]
    # encoder 1 block, core 1 block, decoder 1 block
    assert len(scales) == 3 and all(float(p.detach()) == 0.0 for p in scales)
    X, task, mask = _batch([3, 5])
    out, _ = net(X, task, mask)
    out.pow(2).sum().backward()
    assert all(p.grad is not None and float(p.grad.abs()) > 0 for p in scales)


def test_ensemble_averages_members_and_each_member_trains_as_alone():
    import copy

    from skmtl.nn.losses import MaskedSquaredHinge
    from skmtl.nn.sve import EnsembleCriterion, SharedVariableEmbeddingEnsemble

    torch.manual_seed(0)
    ens = SharedVariableEmbeddingEnsemble(2, [3, 5], [2, 4], n_shared=4, **SMALL)
    _randomise(ens)
    X, task, mask = _batch([3, 5])
    a, b = ens.members
    ens.eval()
    mean, _ = ens(X, task, mask)
    assert torch.allclose(mean, (a(X, task, mask)[0] + b(X, task, mask)[0]) / 2, atol=1e-6)
    assert not torch.allclose(a(X, task, mask)[0], b(X, task, mask)[0])  # independent inits
    # training: stacked scores, summed losses; with Adam each member moves as it would alone
    ens.train()
    alone = copy.deepcopy(a)
    y = torch.tensor([0, 1, 0, 1, 2, 3, 0, 1])
    hinge = MaskedSquaredHinge([2, 4])
    out, pen = ens(X, task, mask)
    assert out.shape == (2, 8, 4)
    loss = EnsembleCriterion(hinge)(out, y, task)
    assert torch.allclose(loss, hinge(out[0], y, task) + hinge(out[1], y, task))
    opt = torch.optim.Adam(ens.parameters(), lr=1e-2)
    (loss + pen).backward()
    opt.step()
    opt_alone = torch.optim.Adam(alone.parameters(), lr=1e-2)
    out_a, pen_a = alone(X, task, mask)
    (hinge(out_a, y, task) + pen_a).backward()
    opt_alone.step()
    for p, q in zip(a.parameters(), alone.parameters()):
        assert torch.allclose(p, q, atol=1e-6)
