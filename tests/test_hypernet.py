"""Tests of MultiTaskHypernetRegressor (skmtl.hypernet)."""

import numpy as np
import pytest
from sklearn.base import clone

from skmtl.datasets.synthetic import make_cubic_tasks, make_robot_arm_tasks
from skmtl.hypernet import MultiTaskHypernetRegressor
from skmtl.nn.hypernet import hypernet_parameter_count

FAST = dict(lr=1e-2, max_epochs=150, batch_size=64, n_iter_no_change=30, random_state=0)


def _rmse(pred, tasks):
    return float(np.mean([np.sqrt(np.mean((p - y) ** 2)) for p, (_, y) in zip(pred, tasks)]))


@pytest.fixture(scope="module")
def cubic():
    tasks, meta = make_cubic_tasks(n_tasks=8, n_samples=50, noise=0, random_state=0)
    train = [(X[:40], y[:40]) for X, y in tasks]
    test = [(X[40:], y[40:]) for X, y in tasks]
    return train, test, meta


@pytest.fixture(scope="module")
def fitted(cubic):
    train, _, meta = cubic
    return MultiTaskHypernetRegressor(**FAST).fit(train, metadata=meta)


def test_fits_cubic_family_to_low_rmse(cubic, fitted):
    train, test, meta = cubic
    rmse = _rmse(fitted.predict([X for X, _ in test]), test)
    spread = float(np.mean([np.std(y) for _, y in test]))
    assert rmse < 0.1 < spread  # well below the targets' own spread (~0.5)
    assert fitted.score(test) > 0.95


def test_fitted_attributes(cubic, fitted):
    train, _, meta = cubic
    assert fitted.n_tasks_ == 8
    assert fitted.task_embeddings_.shape == (8, 10)
    # embeddings start identical; training moved them apart
    assert np.ptp(fitted.task_embeddings_, axis=0).max() > 1e-3
    np.testing.assert_allclose(fitted.metadata_scaler_.mean_, meta.to_numpy().mean(0), rtol=1e-5)
    np.testing.assert_allclose(
        fitted.metadata_scaler_.transform(meta.to_numpy()),
        fitted.module_.metadata.numpy(),
        atol=1e-5,
    )
    assert fitted.metadata_names_ == ["a", "b", "c", "d"]
    dims = fitted.module_.layer_dims
    assert fitted.n_parameters_ == hypernet_parameter_count(10, 4, 32, 1, dims, 8)
    # pooled scaling: one input/target standardisation for every task
    assert len({float(m[0]) for m in fitted.input_mean_}) == 1


def test_metadata_changes_predictions_and_zero_shot(cubic, fitted):
    train, test, meta = cubic
    X = np.linspace(-1, 1, 25)[:, None]
    a = fitted.predict_new_task(X, meta.iloc[0])
    b = fitted.predict_new_task(X, meta.iloc[1])
    assert a.shape == (25,) and np.abs(a - b).mean() > 0.05
    # an unseen cubic: zero-shot beats predicting the training tasks' mean function
    new_tasks, new_meta = make_cubic_tasks(n_tasks=1, n_samples=30, noise=0, random_state=99)
    Xn, yn = new_tasks[0]
    pred = fitted.predict_new_task(Xn, new_meta.iloc[0])
    mean_fn = np.mean(fitted.predict([Xn] * 8), axis=0)
    assert np.sqrt(np.mean((pred - yn) ** 2)) < np.sqrt(np.mean((mean_fn - yn) ** 2))
    with pytest.raises(ValueError, match="4 metadata columns"):
        fitted.predict_new_task(X, [1.0, 2.0])
    with pytest.raises(ValueError, match="features"):
        fitted.predict_new_task(np.ones((3, 2)), meta.iloc[0])


def test_without_metadata_and_ablations(cubic):
    train, test, meta = cubic
    kw = dict(FAST, max_epochs=3)
    plain = MultiTaskHypernetRegressor(**kw).fit(train)
    assert plain.metadata_scaler_ is None and plain.task_embeddings_.shape == (8, 10)
    with pytest.raises(ValueError, match="fitted with task metadata"):
        plain.predict_new_task(test[0][0], meta.iloc[0])
    only_meta = MultiTaskHypernetRegressor(use_embeddings=False, **kw).fit(train, metadata=meta)
    assert only_meta.task_embeddings_.shape == (8, 0)
    with pytest.raises(ValueError, match="metadata"):
        MultiTaskHypernetRegressor(use_embeddings=False, **kw).fit(train)
    full = MultiTaskHypernetRegressor(compress=False, hyper_layers=0, **kw).fit(
        train, metadata=meta
    )
    assert full.n_parameters_ > plain.n_parameters_
    for est in (plain, only_meta, full):
        assert [p.shape for p in est.predict([X for X, _ in test])] == [(10,)] * 8
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MultiTaskHypernetRegressor(hidden_layer_sizes=(0,), **kw).fit(train)


def test_multi_output_robot_arm_and_task_scaling():
    tasks, meta = make_robot_arm_tasks(n_tasks=4, n_samples=20, random_state=0)
    est = MultiTaskHypernetRegressor(
        scaling="task", hidden_layer_sizes=(16,), **dict(FAST, max_epochs=3)
    )
    est.fit(tasks, metadata=meta)
    preds = est.predict([X for X, _ in tasks])
    assert [p.shape for p in preds] == [(20, 3)] * 4
    assert est.predict_new_task(tasks[0][0], meta.iloc[0]).shape == (20, 3)
    assert clone(est).get_params()["scaling"] == "task"


def test_reproducible_with_random_state(cubic):
    train, test, meta = cubic
    kw = dict(FAST, max_epochs=3)
    p1 = MultiTaskHypernetRegressor(**kw).fit(train, metadata=meta).predict([test[0][0]] * 8)
    p2 = MultiTaskHypernetRegressor(**kw).fit(train, metadata=meta).predict([test[0][0]] * 8)
    np.testing.assert_allclose(p1, p2)


def test_validation_is_one_forward_pass_per_epoch(cubic):
    from skorch.callbacks import Callback

    train, _, meta = cubic
    calls = []

    class CountForwards(Callback):
        def on_train_begin(self, net, **kwargs):
            net.module_.register_forward_hook(lambda m, inp, out: calls.append(m.training))

    params = {**FAST, "max_epochs": 3, "batch_size": 16, "validation_fraction": 0.5}
    MultiTaskHypernetRegressor(**params, callbacks=[CountForwards()]).fit(train, metadata=meta)
    # 8 tasks x 20 validation rows > batch_size, still one batch: rows are cheap here
    assert calls.count(False) == 3
    assert calls.count(True) == 3 * (8 * 20 // 16)


def test_predict_new_task_uses_the_mean_task_embedding(cubic, fitted):
    _, test, meta = cubic
    X, row = test[0][0], meta.iloc[3]
    E = fitted.task_embeddings_
    default = fitted.predict_new_task(X, row)
    np.testing.assert_allclose(default, fitted.predict_new_task(X, row, embedding=E.mean(0)))
    # a single task's embedding gives another network: the test can tell them apart
    for t in (0, 3):
        other = fitted.predict_new_task(X, row, embedding=E[t])
        assert np.abs(other - default).max() > 1e-3
    with pytest.raises(ValueError, match="embedding has 2 values"):
        fitted.predict_new_task(X, row, embedding=[0.0, 1.0])


def test_metadata_beats_shuffled_metadata_on_cubic(data_home):
    # the paper's Cubic file and split (8 + 2 rows per task, label noise 0.1) and the
    # benchmark's training (lr 1e-3, epochs of 5 passes, at most 150 passes); four more
    # tasks are held out for zero-shot prediction from their metadata
    from skmtl.datasets import load_hypernet_tasks
    from skmtl.model_selection import hypernet_paper_split

    if not (data_home / "hypernet" / "cubic").is_dir():
        pytest.skip("hypernet data not in the data home")
    tasks, meta = load_hypernet_tasks("cubic", n_tasks=24)
    pairs = [tasks.task(t) for t in range(24)]
    fit, test = hypernet_paper_split(pairs[:20], n_per_task=10, random_state=0)
    test = [(X[:100], y[:100]) for X, y in (test.task(t) for t in range(20))]
    rng = np.random.default_rng(0)
    shuffled = meta.iloc[:20].apply(lambda c: rng.permutation(c.to_numpy()))
    train = dict(lr=1e-3, hyper_layers=0, steps_per_epoch=15, max_epochs=30)
    errors, zero_shot = {}, {}
    for name, m in (("metadata", meta.iloc[:20]), ("shuffled", shuffled)):
        est = MultiTaskHypernetRegressor(**train, n_iter_no_change=10, random_state=0)
        pred = est.fit(fit, metadata=m).predict([X for X, _ in test])
        errors[name] = np.mean([np.mean((p - y) ** 2) for p, (_, y) in zip(pred, test)])
        new = [est.predict_new_task(X, r) for (X, _), r in zip(pairs[20:], meta.iloc[20:].values)]
        zero_shot[name] = np.mean([np.mean((p - y) ** 2) for p, (_, y) in zip(new, pairs[20:])])
    assert errors["metadata"] < 0.6 * errors["shuffled"], errors
    assert zero_shot["metadata"] < 0.5 * zero_shot["shuffled"], zero_shot


def _mixed_width_tasks():
    rng = np.random.default_rng(0)
    tasks = []
    for t, width in enumerate([1, 3, 2]):
        X = rng.uniform(-1, 1, (60, width))
        tasks.append((X, X.sum(1) * (t + 1) + 0.5 * t))
    return [(X[:45], y[:45]) for X, y in tasks], [(X[45:], y[45:]) for X, y in tasks]


def test_tasks_of_different_widths_get_per_task_input_layers():
    import torch

    train, test = _mixed_width_tasks()
    est = MultiTaskHypernetRegressor(lr=1e-2, max_epochs=100, random_state=0).fit(train)
    module = est.module_
    assert module.task_input_widths == [1, 3, 2]
    assert module.layer_dims[0][0] == 3  # the shared width: the widest task's
    Xs = [X for X, _ in test]
    pred = est.predict(Xs)
    assert [p.shape for p in pred] == [(15,)] * 3
    for p, (_, y) in zip(pred, test):  # each task learned from its own columns
        assert np.mean((p - y) ** 2) < 0.05 * np.var(y)
    # a task's padded input-layer rows meet only zeros: changing them changes nothing
    with torch.no_grad():
        module.input_weight[0, 1:] += 5.0
        module.input_weight[2, 2:] -= 5.0
    for a, b in zip(pred, est.predict(Xs)):
        np.testing.assert_array_equal(a, b)
    # inputs standardised per task (no common columns to pool), targets still pooled
    assert [m.shape for m in est.input_mean_] == [(1,), (3,), (2,)]
    assert len({float(m[0]) for m in est.target_mean_}) == 1
    per_task = sum((w + 1) * 3 for w in (1, 3, 2))
    assert est.n_parameters_ == hypernet_parameter_count(10, 0, 32, 1, module.layer_dims, 3) + (
        per_task
    )
    with pytest.raises(ValueError, match="per-task input layers"):
        est.predict_new_task(Xs[0], [0.0])
    with pytest.raises(ValueError, match="share one feature space"):
        MultiTaskHypernetRegressor(input_layer="shared", max_epochs=1).fit(train)


def test_equal_widths_keep_the_shared_model(cubic):
    train, test, meta = cubic
    kw = dict(FAST, max_epochs=5)
    Xs = [X for X, _ in test]
    auto = MultiTaskHypernetRegressor(**kw).fit(train, metadata=meta)
    shared = MultiTaskHypernetRegressor(input_layer="shared", **kw).fit(train, metadata=meta)
    assert auto.module_.input_weight is None
    assert auto.input_layer_ == shared.input_layer_ == "shared"
    np.testing.assert_array_equal(
        np.concatenate(auto.predict(Xs)), np.concatenate(shared.predict(Xs))
    )
    per_task = MultiTaskHypernetRegressor(input_layer="per_task", input_layer_dim=4, **kw)
    per_task.fit(train, metadata=meta)
    assert tuple(per_task.module_.input_weight.shape) == (8, 1, 4)
    assert per_task.input_layer_ == "per_task"
    assert per_task.module_.layer_dims[0] == (4, 32)
    assert not np.allclose(np.concatenate(per_task.predict(Xs)), np.concatenate(auto.predict(Xs)))
