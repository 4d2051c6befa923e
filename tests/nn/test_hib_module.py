import math

import pytest
import torch

from skmtl.nn.hib import HierarchicalIBModule, gaussian_kl_to_centered_prior


def test_kl_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 4, generator=g, dtype=torch.float64) * 1.5
    noise_lv = torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
    prior_lv = torch.tensor([0.3, -0.2, 1.0, 0.0], dtype=torch.float64)
    closed = gaussian_kl_to_centered_prior(z, noise_lv, prior_lv)

    n = 400_000
    eps = torch.randn(n, 3, 4, generator=g, dtype=torch.float64)
    w = z + torch.exp(0.5 * noise_lv) * eps

    def log_normal(x, mean, log_var):
        return -0.5 * (math.log(2 * math.pi) + log_var + (x - mean) ** 2 / torch.exp(log_var))

    log_ratio = log_normal(w, z, noise_lv) - log_normal(w, 0.0, prior_lv)
    mc = log_ratio.sum(-1).mean(0)
    se = log_ratio.sum(-1).std(0) / math.sqrt(n)
    assert torch.all((closed - mc).abs() < 4 * se + 1e-6), (closed, mc, se)
    # KL of identical distributions is 0, and it is never negative
    assert gaussian_kl_to_centered_prior(
        torch.zeros(1, 4), prior_lv.float(), prior_lv.float()
    ).item() == pytest.approx(0.0, abs=1e-6)
    assert bool((closed > 0).all())


def test_penalty_is_beta_weighted_mean_kl():
    torch.manual_seed(0)
    m = HierarchicalIBModule(6, [3, 2], latent_dim=3, beta=[0.5, 2.0])
    X = torch.randn(5, 6)
    task = torch.tensor([0, 1, 1, 0, 1])
    out, pen = m(X, task, torch.ones(5, 6, dtype=torch.bool))
    z = m.encode(X)
    expected = (torch.tensor([0.5, 2.0])[task] * m.kl(z, task)).mean()
    assert pen.item() == pytest.approx(expected.item(), rel=1e-6)
    assert out.shape == (5, 3)
    # padded column of the 2-class task is zero
    assert torch.all(out[task == 1, 2] == 0)


def test_no_noise_gives_w_equal_z_and_zero_penalty():
    torch.manual_seed(0)
    m = HierarchicalIBModule(4, [2, 2], latent_dim=3, noise=False, beta=1.0).train()
    X = torch.randn(6, 4)
    task = torch.tensor([0, 0, 0, 1, 1, 1])
    z = m.encode(X)
    assert torch.equal(m.sample_w(z, task), z)
    out, pen = m(X, task, None)
    assert pen.item() == 0.0
    expected = torch.cat([m.heads[0](z[:3]), m.heads[1](z[3:])])
    assert torch.allclose(out, expected)


def test_noise_in_training_and_mean_at_eval():
    torch.manual_seed(0)
    m = HierarchicalIBModule(4, [2], latent_dim=3, beta=0.0)
    X = torch.randn(8, 4)
    task = torch.zeros(8, dtype=torch.long)
    m.train()
    z = m.encode(X)
    assert not torch.equal(m.sample_w(z, task), z)
    m.eval()
    a, _ = m(X, task, None)
    b, _ = m(X, task, None)
    assert torch.equal(a, b)
    assert torch.allclose(a, m.heads[0](z))


def test_init_and_validation():
    torch.manual_seed(0)
    m = HierarchicalIBModule(4, [2, 2, 2], latent_dim=50)
    assert m.noise_log_var.shape == (3, 50)
    assert abs(m.noise_log_var.std().item() - 0.01) < 0.003
    fixed = HierarchicalIBModule(4, [2], learn_noise=False)
    assert torch.all(fixed.noise_log_var == 1.0) and not fixed.noise_log_var.requires_grad
    fixed.set_trainable(encoder=False, noise=True)
    assert fixed.noise_log_var.requires_grad
    assert not any(p.requires_grad for p in fixed.encoder.parameters())
    with pytest.raises(ValueError, match="beta"):
        HierarchicalIBModule(4, [2, 2], beta=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="beta"):
        HierarchicalIBModule(4, [2], beta=-1.0)


def _train_identity_encoder(beta, steps=600):
    """Two tasks on Z = X (encoder frozen to the identity): task 0 reads only dimension 0,
    task 1 reads only dimension 1. Returns the learned noise log-variances (2, 2)."""
    torch.manual_seed(0)
    m = HierarchicalIBModule(2, [2, 2], hidden_layer_sizes=(), latent_dim=2, beta=beta)
    with torch.no_grad():
        m.encoder[0].weight.copy_(torch.eye(2))
        m.encoder[0].bias.zero_()
    m.set_trainable(encoder=False)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=0.05)
    X = torch.randn(512, 2)
    ys = [(X[:, 0] > 0).long(), (X[:, 1] > 0).long()]
    for step in range(steps):
        t = step % 2
        out, pen = m(X, torch.full((512,), t), None)
        loss = torch.nn.functional.cross_entropy(out, ys[t]) + pen
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m.noise_log_var.detach()


def test_variance_of_ignored_dimension_grows():
    lv = _train_identity_encoder(beta=0.1)
    # the dimension a task ignores gets much more noise than the one it reads ...
    assert lv[0, 1] > lv[0, 0] + 1.0
    assert lv[1, 0] > lv[1, 1] + 1.0
    # ... and grows from its initial value (about 0)
    assert lv[0, 1] > 1.0 and lv[1, 0] > 1.0
    # without the information penalty nothing pushes the ignored variance up
    lv0 = _train_identity_encoder(beta=0.0)
    assert lv0[0, 1] < lv[0, 1] - 1.0


def test_per_task_input_layer_routes_every_task_through_its_own_map():
    torch.manual_seed(0)
    m = HierarchicalIBModule([3, 5, 2], [2, 3, 2], hidden_layer_sizes=(4, 6), latent_dim=2)
    enc = m.encoder
    assert [lin.in_features for lin in enc.inputs] == [3, 5, 2]
    # a mixed batch, padded to the widest task (5 columns), in any task order
    X = torch.randn(7, 5)
    task = torch.tensor([1, 0, 2, 1, 0, 2, 1])
    z = m.encode(X, task)
    for i, t in enumerate(task.tolist()):
        width = [3, 5, 2][t]
        h = torch.relu(enc.inputs[t](X[i : i + 1, :width]))
        torch.testing.assert_close(z[i : i + 1], enc.shared(h))
    # padding columns beyond a task's width are never read
    X2 = X.clone()
    X2[task == 0, 3:] = 100.0
    torch.testing.assert_close(m.encode(X2, task)[task == 0], z[task == 0])
    # a one-task batch (task batching) gives the same codes as the mixed one
    rows = task == 1
    torch.testing.assert_close(m.encode(X[rows], task[rows]), z[rows])
    # the fixed-noise protocol freezes the task input maps with the rest of the encoder
    m.set_trainable(encoder=False)
    assert not any(p.requires_grad for p in enc.inputs.parameters())
    with pytest.raises(ValueError, match="task of every row"):
        m.encode(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes must not be empty"):
        HierarchicalIBModule([3, 5], [2, 2], hidden_layer_sizes=())
    with pytest.raises(ValueError, match="lists 2 widths but n_outputs 3 tasks"):
        HierarchicalIBModule([3, 5], [2, 2, 2])
