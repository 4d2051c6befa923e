import os
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmtl.hib import HierarchicalIBClassifier, HierarchicalIBRegressor
from skmtl.interpret.hib import (
    cluster_tasks,
    groups_recovered,
    noise_dissimilarity,
    plot_task_dissimilarity,
)
from skmtl.nn.hib import HierarchicalIBModule

FAST = dict(lr=1e-2, early_stopping=False, validation_fraction=0.0)


def _pair_tasks(seed=0, n=400):
    """Four tasks in two planted pairs: tasks 0, 1 read x0; tasks 2, 3 read x1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return [(X, X[:, 0] > 0), (X, X[:, 0] > 0.3), (X, X[:, 1] > 0), (X, X[:, 1] > -0.3)]


@pytest.fixture(scope="module")
def fitted_pairs():
    tasks = _pair_tasks()
    clf = HierarchicalIBClassifier(latent_dim=4, beta=0.1, max_epochs=25, random_state=0, **FAST)
    return clf.fit(tasks), tasks


def test_clustering_recovers_planted_pairs(fitted_pairs):
    clf, tasks = fitted_pairs
    assert clf.score(tasks) > 0.9
    labels = clf.cluster_tasks(n_clusters=2)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert groups_recovered(clf.task_dissimilarity_, [[0, 1], [2, 3]])
    # eq. (11) is the L1 distance of the fitted log-variances
    lv = clf.noise_log_var_
    assert clf.task_dissimilarity_[0, 2] == pytest.approx(np.abs(lv[0] - lv[2]).sum())
    # every task shuts at least one latent dimension with much more noise than it reads through
    assert np.all(lv.max(1) - lv.min(1) > 2.0)


def test_fitted_attributes_transform_and_determinism(fitted_pairs):
    clf, tasks = fitted_pairs
    X = tasks[0][0]
    assert clf.noise_log_var_.shape == (4, 4) and clf.prior_log_var_.shape == (4, 4)
    Z = clf.transform([X] * 4)
    assert len(Z) == 4 and Z[0].shape == (len(X), 4)
    np.testing.assert_allclose(clf.transform(X, task=2), Z[2])
    # predict uses W = Z (noise mean) by default: identical on repeated calls ...
    p1, p2 = clf.predict_proba([X] * 4), clf.predict_proba([X] * 4)
    np.testing.assert_array_equal(p1[0], p2[0])
    # ... and equal to the head applied to Z
    with torch.no_grad():
        logits = clf.module_.heads[1](torch.as_tensor(Z[1], dtype=torch.float32))
    np.testing.assert_allclose(p1[1], torch.softmax(logits, 1).numpy(), atol=1e-5)
    # a refit with the same random_state gives the same model
    again = clone(clf).fit(tasks)
    np.testing.assert_allclose(again.predict_proba([X] * 4)[3], p1[3], atol=1e-6)
    np.testing.assert_allclose(again.noise_log_var_, clf.noise_log_var_, atol=1e-6)


def test_no_noise_ablation():
    tasks = _pair_tasks(n=200)
    clf = HierarchicalIBClassifier(noise=False, beta=1.0, max_epochs=5, random_state=0, **FAST)
    clf.fit(tasks)
    assert np.all(np.isneginf(clf.noise_log_var_))
    np.testing.assert_array_equal(clf.task_dissimilarity_, np.zeros((4, 4)))
    m = clf.module_.train()
    x = torch.randn(5, 6)
    z = m.encode(x)
    assert torch.equal(m.sample_w(z, torch.zeros(5, dtype=torch.long)), z)
    assert m(x, torch.zeros(5, dtype=torch.long), None)[1].item() == 0.0
    with pytest.raises(ValueError, match="noise=False"):
        clf.plot_task_similarity()


def test_fixed_noise_two_stage_protocol():
    tasks = _pair_tasks(n=200)
    common = dict(learn_noise=False, beta=0.1, max_epochs=4, random_state=0, **FAST)
    stage1 = HierarchicalIBClassifier(noise_refit_epochs=0, **common).fit(tasks)
    both = HierarchicalIBClassifier(noise_refit_epochs=3, **common).fit(tasks)
    # stage 1 keeps the fixed variances sigma^2 = e
    np.testing.assert_array_equal(stage1.noise_log_var_, np.ones((4, 4)))
    assert stage1.stage_epochs_ == (4, 0) and both.stage_epochs_ == (4, 3)
    assert both.n_iter_ == 7
    # stage 2 learns the variances but leaves the encoder as stage 1 trained it
    assert np.abs(both.noise_log_var_ - 1.0).max() > 0.1
    for a, b in zip(stage1.module_.encoder.parameters(), both.module_.encoder.parameters()):
        torch.testing.assert_close(a, b)
    heads_a = torch.cat([p.flatten() for p in stage1.module_.heads.parameters()])
    heads_b = torch.cat([p.flatten() for p in both.module_.heads.parameters()])
    assert not torch.allclose(heads_a, heads_b)
    # after fit the encoder is trainable again and the noise fixed (for warm starts)
    assert all(p.requires_grad for p in both.module_.encoder.parameters())
    assert not both.module_.noise_log_var.requires_grad


def test_input_errors():
    rng = np.random.default_rng(0)
    X1, X2 = rng.normal(size=(30, 4)), rng.normal(size=(30, 5))
    y = rng.integers(0, 2, 30)
    clf = HierarchicalIBClassifier(max_epochs=1, **FAST)
    with pytest.raises(ValueError, match="input_layer='shared' needs every task to share"):
        clone(clf).set_params(input_layer="shared").fit([(X1, y), (X2, y)])
    with pytest.raises(ValueError, match="hidden_layer_sizes is empty"):
        clone(clf).set_params(hidden_layer_sizes=()).fit([(X1, y), (X2, y)])
    with pytest.raises(ValueError, match="input_layer"):
        clone(clf).set_params(input_layer="per-task").fit([(X1, y), (X1, y)])
    with pytest.raises(ValueError, match="beta has 3 values but there are 2 tasks"):
        clone(clf).set_params(beta=[0.1, 0.2, 0.3]).fit([(X1, y), (X1, y)])
    with pytest.raises(ValueError, match="beta"):
        clone(clf).set_params(beta=-0.1).fit([(X1, y), (X1, y)])
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        clone(clf).set_params(hidden_layer_sizes=(0,)).fit([(X1, y), (X1, y)])
    fitted = clone(clf).set_params(beta=[0.0, 0.5]).fit([(X1, y), (X1, y)])
    assert fitted.module_.beta.tolist() == [0.0, 0.5]
    with pytest.raises(ValueError):
        fitted.predict([X1, X2])
    with pytest.raises(ValueError, match="out of range"):
        fitted.transform(X1, task=5)


def test_regressor():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    tasks = [(X, 3 * X[:, 0] + 5), (X, X[:, 0] + 0.1 * X[:, 2]), (X, X[:, 1])]
    reg = HierarchicalIBRegressor(latent_dim=3, beta=0.01, max_epochs=30, random_state=0, **FAST)
    reg.fit(tasks)
    assert reg.score(tasks) > 0.8
    assert reg.predict([X] * 3)[0].shape == (300,)
    assert reg.likelihood_log_var_.shape == (3, 1)
    assert np.all(reg.likelihood_log_var_ < -0.5)  # learned: well below the initial 0
    assert reg.noise_log_var_.shape == (3, 3)


@pytest.mark.slow  # real data: run in CI's slow step
def test_accuracy_above_chance_on_real_mnist_subset():
    home = os.environ.get("SKMTL_DATA_HOME")
    if not home or not (Path(home) / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("shared MNIST cache not available")
    from skmtl.datasets.mnist import load_mnist, make_grouped_mnist_tasks

    X, y = load_mnist(home)
    tr, te = slice(0, 1500), slice(1500, 2100)
    groups = [[0, 1, 2], [0, 1, 3]]
    train = make_grouped_mnist_tasks(groups, X[tr], y[tr], as_tasks=True)
    test = make_grouped_mnist_tasks(groups, X[te], y[te], as_tasks=True)
    clf = HierarchicalIBClassifier(
        beta=1e-3,
        scale_inputs=False,
        max_epochs=8,
        lr=3e-3,
        random_state=0,
        early_stopping=False,
        validation_fraction=0.0,
    ).fit(train)
    acc = clf.score_tasks(test)
    majority = [np.mean(t[1] == -1) for t in test]  # "none" is the majority class (~70%)
    assert np.all(acc > np.array(majority) + 0.1), (acc, majority)


def test_interpret_helpers():
    lv = np.array([[0.0, 5.0, 0.0], [0.5, 5.0, 0.0], [5.0, 0.0, 0.0], [5.0, 0.5, 0.5]])
    d = noise_dissimilarity(lv)
    np.testing.assert_allclose(d, d.T)
    assert d[0, 1] == 0.5 and d[0, 2] == 10.0
    labels = cluster_tasks(d, 2)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert len(set(cluster_tasks(d, None, distance_threshold=100.0))) == 1
    assert groups_recovered(d, [[0, 1], [2, 3]]) and not groups_recovered(d, [[0, 2], [1, 3]])
    with pytest.raises(ValueError, match="square"):
        cluster_tasks(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cover every task"):
        groups_recovered(d, [[0, 1], [2]])
    with pytest.raises(ValueError, match="ward"):
        cluster_tasks(d, linkage="ward")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    fig = plot_task_dissimilarity(d, lv, ["a", "b", "c", "d"])
    assert len(fig.axes) == 4  # two panels and their colour bars
    matplotlib.pyplot.close(fig)


def test_predict_with_one_posterior_sample(fitted_pairs):
    clf, tasks = fitted_pairs
    X = tasks[0][0]
    mean = clf.predict_proba([X] * 4)
    np.testing.assert_array_equal(clf.predict_proba([X] * 4, noise="mean")[2], mean[2])
    a = clf.predict_proba([X] * 4, noise="sample", random_state=0)
    b = clf.predict_proba([X] * 4, noise="sample", random_state=0)
    c = clf.predict_proba([X] * 4, noise="sample", random_state=1)
    np.testing.assert_array_equal(a[0], b[0])  # seeded: reproducible
    assert not np.allclose(a[0], c[0])  # another seed, another draw
    assert not np.allclose(a[0], mean[0])  # the noise is used ...
    labels = clf.predict([X] * 4, noise="sample", random_state=0)
    np.testing.assert_array_equal(labels[1], clf.task_classes_[1][a[1].argmax(1)])
    # ... and is the task's own: W_j = Z + sigma_j eps, eps ~ N(0, 1), row by row
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    Z = torch.as_tensor(clf.transform(X, task=3), dtype=torch.float32)
    # one generator for the call, tasks drawn in fit order: skip tasks 0-2's draws
    gen = torch.Generator().manual_seed(seed)
    for _ in range(3):
        torch.randn(Z.shape, generator=gen)
    eps = torch.randn(Z.shape, generator=gen)
    sigma = torch.exp(0.5 * clf.module_.noise_log_var[3]).detach()
    with torch.no_grad():
        logits = clf.module_.heads[3](Z + sigma * eps)
    np.testing.assert_allclose(a[3], torch.softmax(logits, 1).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="noise must be one of"):
        clf.predict([X] * 4, noise="posterior")


def test_posterior_sample_has_the_learned_spread():
    torch.manual_seed(0)
    m = HierarchicalIBModule(3, [2, 2], latent_dim=2)
    with torch.no_grad():  # task 0: std 2 and 0.5; task 1: std 1 and 3
        m.noise_log_var.copy_(torch.log(torch.tensor([[4.0, 0.25], [1.0, 9.0]])))
    z = torch.ones(20000, 2)
    task = torch.tensor([0, 1]).repeat(10000)
    expected = torch.tensor([[2.0, 0.5], [1.0, 3.0]])
    m.eval()
    with m.posterior_sampling(seed=0):
        w_eval = m.sample_w(z, task)
    m.train()
    w_train = m.sample_w(z, task)
    for w in (w_eval, w_train):
        for t in (0, 1):
            torch.testing.assert_close(w[task == t].mean(0), torch.ones(2), atol=0.1, rtol=0)
            torch.testing.assert_close(w[task == t].std(0), expected[t], rtol=0.05, atol=0)
    m.eval()
    assert torch.equal(m.sample_w(z, task), z)  # outside the block: the mean again


def test_regressor_and_no_noise_model_predict_with_sample():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    tasks = [(X, X[:, 0]), (X, X[:, 1])]
    reg = HierarchicalIBRegressor(latent_dim=2, beta=0.1, max_epochs=3, random_state=0, **FAST)
    reg.fit(tasks)
    a = reg.predict([X] * 2, noise="sample", random_state=3)
    np.testing.assert_array_equal(a[1], reg.predict([X] * 2, noise="sample", random_state=3)[1])
    assert not np.allclose(a[1], reg.predict([X] * 2)[1])
    plain = HierarchicalIBClassifier(noise=False, max_epochs=2, random_state=0, **FAST)
    plain.fit(_pair_tasks(n=100))
    Xp = _pair_tasks(n=100)[0][0]
    np.testing.assert_array_equal(  # W = Z: no noise to sample
        plain.predict_proba([Xp] * 4, noise="sample")[0], plain.predict_proba([Xp] * 4)[0]
    )


def test_tasks_of_different_widths_on_real_pmlb(data_home):
    """A per-task input layer fits PMLB tasks of 4, 13 and 2 columns together."""
    from skmtl.datasets import load_pmlb_tasks
    from skmtl.model_selection import task_train_test_split

    tasks, _ = load_pmlb_tasks(["iris", "wine_recognition", "prnn_synth"], data_home=data_home)
    train, test = task_train_test_split(tasks, test_size=0.3, random_state=0)
    common = dict(latent_dim=4, hidden_layer_sizes=(16,), max_epochs=40, random_state=0, **FAST)
    for batching in ("mixed", "task"):
        clf = HierarchicalIBClassifier(batching=batching, **common).fit(train)
        assert clf.input_layer_ == "per_task"
        assert [m.in_features for m in clf.module_.encoder.inputs] == [4, 13, 2]
        preds = clf.predict(test)
        assert [len(p) for p in preds] == [len(y) for y in test.ys]
        scores = clf.score_tasks(test)
        majority = [np.unique(y, return_counts=True)[1].max() / len(y) for y in test.ys]
        assert np.all(scores > np.asarray(majority) + 0.1), (batching, scores, majority)
        Z = clf.transform(test)
        assert [z.shape for z in Z] == [(len(y), 4) for y in test.ys]
        assert clf.noise_log_var_.shape == (3, 4)
    with pytest.raises(ValueError, match=r"task 1 \('wine_recognition'\): X has 4 features"):
        clf.predict([test.Xs[0], test.Xs[0], test.Xs[2]])


def test_regressor_tasks_of_different_widths_on_real_pmlb(data_home):
    from skmtl.datasets import load_pmlb_tasks
    from skmtl.model_selection import task_train_test_split

    tasks, _ = load_pmlb_tasks(
        ["229_pwLinear", "579_fri_c0_250_5"], kind="regression", data_home=data_home
    )
    train, test = task_train_test_split(tasks, test_size=0.3, random_state=0)
    reg = HierarchicalIBRegressor(
        latent_dim=3, hidden_layer_sizes=(16,), beta=0.01, max_epochs=60, random_state=0, **FAST
    ).fit(train)
    assert reg.input_layer_ == "per_task" and len(set(tasks.n_features)) == 2
    assert np.all(reg.score_tasks(test) > 0.3), reg.score_tasks(test)


def test_equal_widths_keep_the_papers_shared_encoder():
    """``input_layer="auto"`` on tasks of one width is the shared encoder, unchanged."""
    from skmtl.nn.mlp import MLP

    tasks = _pair_tasks(n=120)
    common = dict(latent_dim=3, hidden_layer_sizes=(8,), max_epochs=3, random_state=0, **FAST)
    auto = HierarchicalIBClassifier(**common).fit(tasks)
    shared = HierarchicalIBClassifier(input_layer="shared", **common).fit(tasks)
    assert auto.input_layer_ == "shared" and isinstance(auto.module_.encoder, MLP)
    X = tasks[0][0]
    for a, b in zip(auto.predict_proba([X] * 4), shared.predict_proba([X] * 4)):
        np.testing.assert_array_equal(a, b)
    # forcing per-task input maps on one width is a different (larger) model
    per_task = HierarchicalIBClassifier(input_layer="per_task", **common).fit(tasks)
    assert per_task.input_layer_ == "per_task" and len(per_task.module_.encoder.inputs) == 4
    n_auto = sum(p.numel() for p in auto.module_.parameters())
    n_per = sum(p.numel() for p in per_task.module_.parameters())
    assert n_per == n_auto + 3 * (6 * 8 + 8)
